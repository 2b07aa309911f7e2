"""The backends the conformance suite and the unit tests run on, as data.

One record per backend/mode column. Both ``python -m conformance`` and the test
suite's ``xp`` fixture (``tests/conftest.py``) read this registry, so a backend is
defined once: how to tell whether it is installed, how to make its arrays from NumPy
data, how to read results back, and how to call a loss in its mode (JAX under
``jax.jit``; Dask with computing forbidden inside the call).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.util
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["BACKENDS", "DTYPES", "Backend", "available_backends", "backend_by_name"]

# Every dtype the suite knows, widest first.
DTYPES: tuple[str, ...] = ("float64", "float32", "float16", "bfloat16")


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


@functools.cache
def _jax() -> Any:
    import jax

    # float64 cases need 64-bit JAX; without this flag jnp.asarray silently downcasts.
    jax.config.update("jax_enable_x64", True)
    return jax


@functools.cache
def _cuda_reason(module: str) -> str | None:
    """Why a CUDA backend cannot run here, or None when it can."""
    if not _installed(module):
        return f"{module} is not installed"
    try:
        if module == "torch":
            import torch

            return None if torch.cuda.is_available() else "no CUDA GPU visible to torch"
        if module == "cupy":
            import cupy

            return None if cupy.cuda.runtime.getDeviceCount() > 0 else "no CUDA GPU"
    except Exception as exc:  # CuPy raises CUDARuntimeError without a driver
        return f"no CUDA GPU ({type(exc).__name__}: {exc})"
    raise AssertionError(module)


@functools.cache
def _jax_gpu_reason() -> str | None:
    if not _installed("jax"):
        return "jax is not installed"
    jax = _jax()
    try:
        return None if jax.devices("gpu") else "no GPU visible to JAX"
    except RuntimeError:
        return "no GPU visible to JAX"


class DaskComputedError(AssertionError):
    """A loss computed a Dask array instead of returning a lazy result."""


def _forbid_compute(*args: Any, **kwargs: Any) -> Any:
    raise DaskComputedError("a loss computed a Dask array; losses must stay lazy on Dask")


@dataclass(frozen=True)
class Backend:
    """One column of the conformance matrix and one parameter of the ``xp`` fixture."""

    name: str
    module: str
    dtypes: tuple[str, ...]
    description: str
    _asarray: Callable[[np.ndarray, str], Any] = field(repr=False)
    _to_numpy: Callable[[Any], np.ndarray] = field(repr=False)
    _namespace: Callable[[], Any] = field(repr=False)
    _reason: Callable[[], str | None] = field(repr=False, default=lambda: None)
    jit: bool = False
    lazy: bool = False
    gpu: bool = False
    # True where the library records gradients (torch autograd, jax.grad).
    autodiff: bool = False

    def skip_reason(self) -> str | None:
        """None when this backend can run here; otherwise why not."""
        if not _installed(self.module):
            return f"{self.module} is not installed"
        return self._reason()

    @property
    def available(self) -> bool:
        return self.skip_reason() is None

    def namespace(self) -> Any:
        """The library's own module (numpy, torch, jax.numpy, dask.array, ...)."""
        return self._namespace()

    def asarray(self, data: Any, dtype: str | None = None) -> Any:
        """An array of this backend holding ``data`` (NumPy or Python), cast to ``dtype``."""
        array = np.asarray(data)
        if dtype is None:
            dtype = str(array.dtype)
        return self._asarray(array, dtype)

    def to_numpy(self, x: Any) -> np.ndarray:
        """The values of ``x`` as NumPy (float64 for the halves NumPy lacks)."""
        return self._to_numpy(x)

    def dtype_name(self, x: Any) -> str:
        """The dtype of ``x`` as one of DTYPES (or its plain name)."""
        return str(x.dtype).rsplit(".", 1)[-1]

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call ``fn`` in this backend's mode.

        JAX-jit columns trace ``fn`` under ``jax.jit`` (keyword options static, arrays
        traced); Dask columns forbid any compute during the call.
        """
        if self.jit:
            arrays = {k: v for k, v in kwargs.items() if _is_jax_array(v)}
            static = tuple(sorted((k, v) for k, v in kwargs.items() if k not in arrays))
            try:
                jitted = _jitted(fn, static)
            except TypeError:  # an unhashable option: trace afresh, uncached
                jitted = _jitted.__wrapped__(fn, static)
            return jitted(args, arrays)
        if self.lazy:
            with self._no_compute():
                return fn(*args, **kwargs)
        return fn(*args, **kwargs)

    @contextlib.contextmanager
    def _no_compute(self) -> Iterator[None]:
        import dask

        with dask.config.set(scheduler=_forbid_compute):
            yield


@functools.lru_cache(maxsize=1024)
def _jitted(fn: Callable[..., Any], static: tuple[tuple[str, Any], ...]) -> Any:
    """``fn`` under ``jax.jit`` with the options ``static`` bound.

    Cached per (function, options) so that JAX's own cache, keyed on the shapes and
    dtypes of the traced arrays, reuses compilations across calls; a fresh ``jax.jit``
    of a fresh lambda would recompile on every call (~35 ms each on a CPU).
    """
    jax = _jax()
    options = dict(static)
    return jax.jit(lambda a, kw: fn(*a, **kw, **options))


def _is_jax_array(x: Any) -> bool:
    return type(x).__module__.startswith("jax")


# --- per-library conversions -----------------------------------------------------------


def _numpy_asarray(a: np.ndarray, dtype: str) -> Any:
    return np.asarray(a, dtype=dtype)


def _numpy_to_numpy(x: Any) -> np.ndarray:
    return np.asarray(x)


def _strict_asarray(a: np.ndarray, dtype: str) -> Any:
    import array_api_strict as xp

    if a.dtype.kind == "b":
        return xp.asarray(a.tolist() if a.ndim else bool(a), dtype=xp.bool)
    return xp.asarray(np.asarray(a, dtype=dtype), dtype=getattr(xp, dtype))


def _strict_to_numpy(x: Any) -> np.ndarray:
    return np.asarray(x)


def _torch_asarray(device: str) -> Callable[[np.ndarray, str], Any]:
    def asarray(a: np.ndarray, dtype: str) -> Any:
        import torch

        if dtype == "bfloat16":
            return torch.tensor(np.asarray(a, dtype="float32"), device=device).to(torch.bfloat16)
        return torch.tensor(np.asarray(a, dtype=dtype), device=device)

    return asarray


def _torch_to_numpy(x: Any) -> np.ndarray:
    import torch

    x = x.detach()
    if x.dtype == torch.bfloat16:
        x = x.to(torch.float32)
    return x.cpu().numpy()


def _jax_asarray(device_kind: str | None) -> Callable[[np.ndarray, str], Any]:
    def asarray(a: np.ndarray, dtype: str) -> Any:
        jax = _jax()
        jnp = jax.numpy
        device = jax.devices(device_kind)[0] if device_kind else None
        if dtype == "bfloat16":
            out = jnp.asarray(np.asarray(a, dtype="float32")).astype(jnp.bfloat16)
        else:
            out = jnp.asarray(np.asarray(a, dtype=dtype))
        return jax.device_put(out, device) if device is not None else out

    return asarray


def _jax_to_numpy(x: Any) -> np.ndarray:
    jnp = _jax().numpy
    if x.dtype == jnp.bfloat16:
        x = x.astype(jnp.float32)
    return np.asarray(x)


def _dask_asarray(a: np.ndarray, dtype: str) -> Any:
    import dask.array as da

    # Two chunks along every axis of size >= 2 (the batch axis, the class axis, feature
    # axes), so that every reduction, log-sum-exp and gather crosses chunks; odd sizes
    # give uneven chunks (3 -> 2 + 1).
    chunks = tuple(max(1, (n + 1) // 2) for n in a.shape)
    return da.from_array(np.asarray(a, dtype=dtype), chunks=chunks or ())


def _dask_to_numpy(x: Any) -> np.ndarray:
    # Dask runs the graph here, outside the loss, where arrayloss cannot silence NumPy's
    # warnings about inf/NaN arithmetic that is part of the defined result (PyTorch
    # computes it silently); silence them for the comparison, as the loss does eagerly.
    with np.errstate(all="ignore"):
        return np.asarray(x.compute())


def _cupy_asarray(a: np.ndarray, dtype: str) -> Any:
    import cupy

    return cupy.asarray(np.asarray(a, dtype=dtype))


def _cupy_to_numpy(x: Any) -> np.ndarray:
    return x.get()


def _import(name: str) -> Callable[[], Any]:
    return lambda: importlib.import_module(name)


def _jax_numpy() -> Any:
    return _jax().numpy


BACKENDS: tuple[Backend, ...] = (
    Backend(
        "numpy",
        "numpy",
        ("float64", "float32", "float16"),
        "NumPy arrays",
        _numpy_asarray,
        _numpy_to_numpy,
        _import("numpy"),
    ),
    Backend(
        "array-api-strict",
        "array_api_strict",
        ("float64", "float32"),
        "array-api-strict: only what the standard allows",
        _strict_asarray,
        _strict_to_numpy,
        _import("array_api_strict"),
    ),
    Backend(
        "torch",
        "torch",
        DTYPES,
        "PyTorch tensors on the CPU, with autograd",
        _torch_asarray("cpu"),
        _torch_to_numpy,
        _import("torch"),
        autodiff=True,
    ),
    Backend(
        "jax",
        "jax",
        DTYPES,
        "JAX arrays on the CPU, eager",
        _jax_asarray("cpu"),
        _jax_to_numpy,
        _jax_numpy,
        autodiff=True,
    ),
    Backend(
        "jax-jit",
        "jax",
        DTYPES,
        "JAX arrays on the CPU, the loss traced under jax.jit",
        _jax_asarray("cpu"),
        _jax_to_numpy,
        _jax_numpy,
        jit=True,
        autodiff=True,
    ),
    Backend(
        "dask",
        "dask",
        ("float64", "float32", "float16"),
        "Dask arrays (2 chunks along every axis), lazy: computing inside a loss is an error",
        _dask_asarray,
        _dask_to_numpy,
        _import("dask.array"),
        lazy=True,
    ),
    Backend(
        "torch-cuda",
        "torch",
        DTYPES,
        "PyTorch tensors on a CUDA GPU, with autograd",
        _torch_asarray("cuda"),
        _torch_to_numpy,
        _import("torch"),
        functools.partial(_cuda_reason, "torch"),
        gpu=True,
        autodiff=True,
    ),
    Backend(
        "jax-gpu",
        "jax",
        DTYPES,
        "JAX arrays on a GPU, under jax.jit",
        _jax_asarray("gpu"),
        _jax_to_numpy,
        _jax_numpy,
        _jax_gpu_reason,
        jit=True,
        gpu=True,
        autodiff=True,
    ),
    Backend(
        "cupy",
        "cupy",
        ("float64", "float32", "float16"),
        "CuPy arrays on a CUDA GPU",
        _cupy_asarray,
        _cupy_to_numpy,
        _import("cupy"),
        functools.partial(_cuda_reason, "cupy"),
        gpu=True,
    ),
)


def backend_by_name(name: str) -> Backend:
    for backend in BACKENDS:
        if backend.name == name:
            return backend
    known = ", ".join(b.name for b in BACKENDS)
    raise ValueError(f"unknown backend {name!r}; known backends: {known}")


def available_backends() -> tuple[Backend, ...]:
    return tuple(b for b in BACKENDS if b.available)
