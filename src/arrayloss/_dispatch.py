"""The dispatch layer: from a loss's array arguments to one array namespace and one device.

This is the only module of arrayloss that may know a backend by name. Every
backend-specific fast path or workaround lives here, named, with a comment saying why;
loss definitions see only the standard namespace ``xp`` returned by :func:`namespace_of`.

Nothing here imports an array library at module import time: a backend is looked up in
``sys.modules`` only once an array of it has been passed in, so ``import arrayloss``
stays framework-free.

Thread safety (reviewed for issue 6; tests/test_reliability.py calls every loss from 8
threads at once): the module's mutable state is caches and one switch. ``_scan_body``
(``functools.cache``, like ``_ctc._forward_step``) maps a function to a wrapper, and
the auto-jit fast path keeps its kernels in ``_jit_cache`` (an ordered dict) and its
untraceable keys in ``_not_jittable``; two threads missing a cache at once may each
build an entry, and each is correct (JAX may then trace twice: time, not results).
The recordings of a kernel being traced are per thread (``_recording``). The
``fast_paths`` switch is process-wide, by design (a debugging and conformance switch). ``numpy.errstate`` is per thread
(NumPy 1.26: thread-local; NumPy 2: a context variable), ``torch.autocast``'s state is
per thread, and arrayloss never changes the ``warnings`` filters (process-wide state).
"""

from __future__ import annotations

import collections
import contextlib
import functools
import os
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any, TypeVar

import array_api_compat

from ._errors import ArrayLossTypeError, ArrayLossValueError

__all__ = [
    "ArrayContext",
    "array_size",
    "clip",
    "concrete_jax_hint",
    "defer_value_check",
    "device_of",
    "fast_paths",
    "fast_paths_enabled",
    "jax_auto_jit",
    "magnitude",
    "namespace_of",
    "native_elementwise",
    "native_kernel",
    "native_mean",
    "record_warning",
    "remembered",
    "scan",
    "stop_gradient",
    "torch_is_compiling",
]

_T = TypeVar("_T")

# Python scalars are allowed wherever PyTorch allows a number; they carry no namespace.
_PYTHON_SCALARS = (bool, int, float, complex)


@dataclass(frozen=True)
class ArrayContext:
    """What a loss needs to know about its arguments' backend.

    Attributes
    ----------
    xp
        The array API namespace shared by every array argument.
    device
        The device of the ``input`` argument (``None`` inside a JAX trace, where
        devices are not known, and where a JAX argument is sharded over several
        devices: see :func:`device_of`), where the result lives; with a 0-d CPU torch
        tensor beside tensors of another device, that other device.
    eager
        True when array values may be read from Python (NumPy, PyTorch outside
        ``torch.compile``, CuPy, array-api-strict, concrete JAX arrays). False for Dask
        and for JAX tracers (``jit``, ``vmap``, ``grad``): value checks are skipped there
        because they would force a computation or fail on a traced value.
    """

    xp: ModuleType
    device: Any
    eager: bool

    def as_array(self, x: Any) -> Any:
        """``x`` as an array of this namespace.

        Why: NumPy reductions of arrays return NumPy scalars (``np.float64``), which
        are not ``ndarray``; every loss promises a 0-d array of the input's library.
        """
        numpy = sys.modules.get("numpy")
        if numpy is not None and isinstance(x, numpy.generic):
            return numpy.asarray(x)
        return x

    def quiet_floating_point(self) -> contextlib.AbstractContextManager[Any]:
        """Silence NumPy's floating-point warnings for the computation inside.

        Why: ``log(0) = -inf``, ``inf - inf = nan`` and ``0 / 0`` are part of the
        defined results of several losses (PyTorch computes them silently). NumPy, and
        the libraries computing through it (array-api-strict; Dask's metadata), would
        emit a ``RuntimeWarning`` for each. Dask computes later, outside this context,
        so a Dask computation may still warn when it runs.

        PyTorch and JAX compute without NumPy and never warn this way, so the context
        is not entered for them: ``numpy.errstate`` is also a Python side effect that
        ``torch.compile`` cannot trace (with ``fullgraph=True`` every loss failed with
        "attempted to trace numpy function unsupported by PyTorch"). Under
        ``torch.compile`` that is known before the namespace is looked at (Dynamo also
        warns about tracing array-api-compat's cached ``is_torch_namespace``).

        The context manager is returned, not made by a generator (``contextlib.
        contextmanager``): the generator's machinery and array-api-compat's namespace
        tests cost about 2 us of a NumPy loss's 14 us a call at N = 1.
        """
        numpy = sys.modules.get("numpy")
        if numpy is None or torch_is_compiling():
            return _NO_CONTEXT
        if _is_torch_namespace(self.xp) or self.xp.__name__ in _JAX_NAMESPACE_NAMES:
            return _NO_CONTEXT
        errstate: contextlib.AbstractContextManager[Any] = numpy.errstate(all="ignore")
        return errstate

    @property
    def index_dtype(self) -> Any:
        """The library's default integer dtype, for the indices and counts a loss makes
        itself: int64, but int32 in JAX's default configuration (``jax_enable_x64``
        off).

        Why: there, asking JAX for int64 warns ("Explicitly requested dtype int64 ...
        will be truncated") and gives int32 anyway; ``multilabel_margin_loss`` warned
        so at every call.
        """
        return self.xp.asarray(0).dtype

    def on_device(self, x: Any) -> Any:
        """``x`` (an array of this namespace) on this context's device.

        Why: PyTorch accepts some arguments on the CPU beside inputs on another device
        (ctc_loss's targets and lengths beside CUDA log-probabilities); such an argument
        is moved once, here. Inside a JAX trace the device is unknown and ``x`` stays.
        """
        device = array_api_compat.device(x)
        if self.device is None or device is None or device == self.device:
            return x
        return array_api_compat.to_device(x, self.device)

    def take_along_axis(self, x: Any, indices: Any, axis: int = -1) -> Any:
        """``xp.take_along_axis(x, indices, axis=axis)`` (array API 2024.12).

        Why here: Dask has no ``take_along_axis`` and array-api-compat adds none for
        it; see :func:`_dask_take_along_axis`, which gathers chunk by chunk along
        ``axis`` instead of putting ``axis`` into one chunk (a class axis split in
        chunks stays split: no block holds a whole row of classes).

        PyTorch's ``take_along_dim`` takes int64 indices only ("dtype of indices should
        be Long"): other integer indices (int32 class indices, which arrayloss accepts
        on every backend) are cast to int64 for it.
        """
        xp = self.xp
        if hasattr(xp, "take_along_axis"):
            if _is_torch_namespace(xp) and indices.dtype != xp.int64:
                indices = xp.astype(indices, xp.int64)
            return xp.take_along_axis(x, indices, axis=axis)
        dask_array = sys.modules.get("dask.array")
        if dask_array is None or not isinstance(x, dask_array.Array):
            raise TypeError(f"{xp.__name__} has no take_along_axis")
        return _dask_take_along_axis(dask_array, x, indices, axis)

    def sort(self, x: Any, axis: int = -1) -> Any:
        """``xp.sort(x, axis=axis)`` (ascending, stable).

        Why here: array-api-compat's Dask ``sort`` puts ``axis`` into one chunk and
        rechunks the other axes to Dask's "auto" size (128 MiB blocks: at a test's
        size, the whole array in one block). A sort needs a whole row along ``axis``
        but nothing more: :func:`_dask_sort` keeps the other axes' chunks, so a block
        holds the rows of one chunk of rows.
        """
        if _is_dask_namespace(self.xp):
            return _dask_sort(x, axis, "sort")
        return self.xp.sort(x, axis=axis)

    def argsort(self, x: Any, axis: int = -1) -> Any:
        """``xp.argsort(x, axis=axis, stable=True)``; on Dask as :meth:`sort`."""
        if _is_dask_namespace(self.xp):
            return _dask_sort(x, axis, "argsort")
        return self.xp.argsort(x, axis=axis, stable=True)

    def autocast(self, loss: str, *arrays: Any) -> tuple[Any, ...]:
        """``arrays`` as PyTorch's autocast hands them to ``loss``: under
        ``torch.autocast`` for their device type, float16 and bfloat16 tensors cast to
        float32; otherwise (another library, autocast off, float32, float64, integers,
        None) unchanged.

        Why: PyTorch puts its loss kernels on autocast's float32 list, so under
        ``torch.autocast`` a loss of a bfloat16 model output computes in float32,
        returns float32 and accepts a float32 target beside the bfloat16 input.
        arrayloss's losses are made of operations that autocast leaves alone: without
        this they would compute in float32 (see ``compute_dtype``) but return the
        half dtype, and reject the mixed dtypes. On CUDA PyTorch refuses
        ``binary_cross_entropy`` under autocast (a sigmoid rounded to half precision
        before it loses the small probabilities); arrayloss refuses it there too.
        """
        if not _is_torch_namespace(self.xp):
            return arrays
        torch = sys.modules["torch"]
        half = (torch.float16, torch.bfloat16)
        if loss not in _AUTOCAST_UNSAFE_ANYWHERE and not any(
            isinstance(x, torch.Tensor) and x.dtype in half for x in arrays
        ):
            # Autocast would change nothing (it casts half tensors only, and refuses
            # only the losses of _AUTOCAST_UNSAFE): no need to ask torch, ~1 us a call.
            return arrays
        device_type = getattr(self.device, "type", "cpu")
        # Devices without autocast ("meta"): torch.is_autocast_enabled would raise.
        if not torch.amp.is_autocast_available(device_type):
            return arrays
        if not torch.is_autocast_enabled(device_type):
            return arrays
        if loss in _AUTOCAST_UNSAFE.get(device_type, ()):
            raise ArrayLossTypeError(
                f"{loss} is unsafe to autocast on {device_type}, as in PyTorch (which "
                "raises too): a sigmoid before it, rounded to half precision, loses the "
                "probabilities near 0 and 1. Compute the loss from the logits with "
                "binary_cross_entropy_with_logits, which is safe to autocast, or outside "
                "torch.autocast."
            )
        return tuple(
            x.to(torch.float32)
            if isinstance(x, torch.Tensor) and x.dtype in half and x.device.type == device_type
            else x
            for x in arrays
        )


# What ArrayContext.quiet_floating_point returns where nothing needs silencing (a
# nullcontext holds no state: one serves every call, in every thread).
_NO_CONTEXT = contextlib.nullcontext()
# JAX's namespaces, as array_api_compat.is_jax_namespace names them.
_JAX_NAMESPACE_NAMES = frozenset({"jax.numpy", "jax.experimental.array_api"})

# The losses PyTorch refuses under torch.autocast, per device type (its autocast
# registrations, aten/src/ATen/autocast_mode.cpp: binary_cross_entropy_banned for CUDA;
# CPU autocast runs binary_cross_entropy in float32 like the other losses).
_AUTOCAST_UNSAFE: dict[str, frozenset[str]] = {"cuda": frozenset({"binary_cross_entropy"})}
_AUTOCAST_UNSAFE_ANYWHERE = frozenset().union(*_AUTOCAST_UNSAFE.values())


def _gather_block(x: Any, indices: Any, previous: Any, *, start: int, axis: int) -> Any:
    # One chunk of x along ``axis`` (positions [start, start + n)): the values of the
    # indices that fall in it, ``previous`` (the earlier chunks' values) elsewhere.
    # where, not a sum of masked parts: exact, and an inf or NaN of a chunk that is
    # not selected cannot leak into the result.
    meta_xp = array_api_compat.array_namespace(x)
    n = int(x.shape[axis])
    local = indices - start
    picked = meta_xp.take_along_axis(x, meta_xp.clip(local, 0, n - 1), axis=axis)
    if previous is None:
        return picked
    return meta_xp.where((local >= 0) & (local < n), picked, previous)


def _dask_take_along_axis(dask_array: Any, x: Any, indices: Any, axis: int) -> Any:
    """``take_along_axis`` for Dask arrays, one chunk of ``x`` along ``axis`` at a time.

    Why: gathering along a chunked axis (the class axis of cross_entropy and nll_loss,
    split in chunks when C is large) must not rechunk that axis to one chunk, which
    would hold whole rows of classes in one block (the whole array when the rows are
    not chunked either). Instead ``indices`` (small along ``axis``: one index per row
    for the losses) is chunked like ``x`` on the other axes and read against each chunk
    of ``x`` in turn; each index takes its value from the one chunk that holds it
    (``where``, so the result is exact). Indices outside ``[0, size)`` give some value
    of their row; the losses mask those out (as they must on every backend).
    """
    axis = axis % x.ndim
    shape = tuple(int(indices.shape[i]) if i == axis else int(x.shape[i]) for i in range(x.ndim))
    chunks = tuple((shape[i],) if i == axis else x.chunks[i] for i in range(x.ndim))
    indices = dask_array.broadcast_to(indices, shape).rechunk(chunks)
    result = None
    start = 0
    for j, size in enumerate(x.chunks[axis]):
        block = x.blocks[(slice(None),) * axis + (j,)]
        result = dask_array.map_blocks(
            _gather_block,
            block,
            indices,
            result,
            start=start,
            axis=axis,
            dtype=x.dtype,
            meta=x._meta,
            chunks=indices.chunks,
        )
        start += size
    return result


def _is_torch_namespace(xp: ModuleType) -> bool:
    # torch or array-api-compat's wrapper of it; a name test, as _is_dask_namespace.
    return xp.__name__ == "torch" or xp.__name__.endswith(".torch")


def _is_dask_namespace(xp: ModuleType) -> bool:
    # dask.array or array-api-compat's wrapper of it. A name test, not
    # array_api_compat.is_dask_array: that one goes through a cached subclass check,
    # which torch.compile would trace on the PyTorch path.
    return xp.__name__ == "dask.array" or xp.__name__.endswith(".dask.array")


def _dask_sort(x: Any, axis: int, name: str) -> Any:
    # ``name`` ("sort" or "argsort") of each block after ``axis`` is put into one chunk;
    # the other axes keep their chunks (see ArrayContext.sort).
    dask_array = sys.modules["dask.array"]
    axis = axis % x.ndim
    if x.numblocks[axis] > 1:
        x = x.rechunk({axis: -1})
    meta_xp = array_api_compat.array_namespace(x._meta)
    function = getattr(meta_xp, name)
    meta = x._meta if name == "sort" else meta_xp.argsort(x._meta)
    return dask_array.map_blocks(function, x, axis=axis, stable=True, dtype=meta.dtype, meta=meta)


def _type_name(value: object) -> str:
    cls = type(value)
    module = cls.__module__.split(".")[0]
    # Name the public type users know: numpy.ndarray, torch.Tensor, jax.Array.
    if array_api_compat.is_jax_array(value):
        return "jax.Array"
    if array_api_compat.is_dask_array(value):
        return "dask.array.Array"
    return f"{module}.{cls.__qualname__}" if module != "builtins" else cls.__qualname__


def _is_traced_jax_array(value: object) -> bool:
    # JAX tracers (under jit, vmap, grad) hold no concrete values; reading one raises.
    jax = sys.modules.get("jax")
    return jax is not None and isinstance(value, jax.core.Tracer)


def torch_is_compiling() -> bool:
    """True while ``torch.compile`` traces the caller.

    Under ``torch.compile`` a value check would break the graph (or fail with
    ``fullgraph=True``), so torch arrays are not eager there. torch is looked up in
    ``sys.modules``, never imported: if it is not loaded nothing can be compiling.
    """
    torch = sys.modules.get("torch")
    return torch is not None and bool(torch.compiler.is_compiling())


def _is_eager(value: object) -> bool:
    if array_api_compat.is_dask_array(value):
        return False
    if array_api_compat.is_jax_array(value):
        return not _is_traced_jax_array(value)
    if array_api_compat.is_torch_array(value):
        return not torch_is_compiling()
    # NumPy, CuPy, array-api-strict and other eager libraries.
    return not array_api_compat.is_lazy_array(value)


def _is_torch_cpu_scalar(value: object) -> bool:
    # PyTorch lets a 0-d CPU tensor (e.g. pos_weight=torch.tensor(3.0)) combine with
    # tensors on any device; accept what PyTorch accepts.
    return array_api_compat.is_torch_array(value) and value.ndim == 0 and value.device.type == "cpu"


#: array_api_compat's namespace of each exact array type seen by the common-type path.
_NAMESPACE_OF_TYPE: dict[type, ModuleType] = {}


def _common_type_context(arrays: dict[str, object]) -> ArrayContext | None:
    """Fast path of :func:`namespace_of` when every array argument is exactly a
    ``numpy.ndarray``, or exactly a ``torch.Tensor`` on one device outside
    ``torch.compile`` (subclasses, scalars, mixed or other types: None, and the general
    path decides, raising its errors there).

    Why: the general path asks array-api-compat about each argument's library, laziness,
    device and sharding, which cost about 14 us per loss call, half of a small NumPy
    loss; these answers are fixed for these two exact types (NumPy arrays are eager and
    on "cpu"; tensors eager outside ``torch.compile`` and on ``.device``). Measured on
    the 2-core CPU: ``namespace_of`` of two arguments 18.5 -> 2.0 us (NumPy), 21.7 ->
    2.8 us (torch); the per-call rows of the benchmark suite (N = 1) in
    docs/performance.md.
    """
    first: Any = None
    cls: type | None = None
    for value in arrays.values():
        if value is None:
            continue
        if cls is None:
            first, cls = value, type(value)
        elif type(value) is not cls:
            return None
    if cls is None:
        return None
    numpy = sys.modules.get("numpy")
    if numpy is not None and cls is numpy.ndarray:
        return _eager_context(first, "cpu")
    torch = sys.modules.get("torch")
    if torch is None or cls is not torch.Tensor or torch.compiler.is_compiling():
        return None
    device = first.device
    for value in arrays.values():
        if value is not None and value.device != device:  # type: ignore[attr-defined]
            return None  # the general path: 0-d CPU tensors beside others, or the error
    return _eager_context(first, device)


#: The eager contexts of the common-type path, per exact array type and device: they are
#: immutable, and building one costs about 0.6 us a call.
_EAGER_CONTEXTS: dict[tuple[type, Any], ArrayContext] = {}


def _eager_context(first: object, device: Any) -> ArrayContext:
    key = (type(first), device)
    context = _EAGER_CONTEXTS.get(key)
    if context is None:
        context = ArrayContext(xp=_namespace_of_type(first), device=device, eager=True)
        _EAGER_CONTEXTS[key] = context
    return context


def _namespace_of_type(value: object) -> ModuleType:
    cls = type(value)
    namespace = _NAMESPACE_OF_TYPE.get(cls)
    if namespace is None:
        namespace = _NAMESPACE_OF_TYPE[cls] = array_api_compat.array_namespace(value)
    return namespace


def namespace_of(**arrays: object) -> ArrayContext:
    """Return the one namespace and device shared by a loss's array arguments.

    Each keyword names an argument (``input=input, target=target, ...``) so that errors
    can say which argument is at fault. ``None`` and Python scalars are ignored.

    Raises
    ------
    TypeError
        If an argument is neither an array, ``None`` nor a Python number, or if arrays
        of two libraries are mixed (e.g. a NumPy ``input`` with a torch ``target``).
    ValueError
        If the arrays live on two devices (``ArrayLossValueError``, also a
        ``RuntimeError`` as in PyTorch).
    """
    common = _common_type_context(arrays)
    if common is not None:
        return common
    first_name: str | None = None
    first_value: object = None
    xp: ModuleType | None = None
    device: Any = None
    device_name: str | None = None
    eager = True
    spread = False
    for name, value in arrays.items():
        if value is None:
            continue
        # Before the scalar test: np.float64 subclasses float but is a NumPy array.
        is_array = array_api_compat.is_array_api_obj(value)
        if not is_array and isinstance(value, _PYTHON_SCALARS):
            continue
        if not is_array:
            raise TypeError(
                f"`{name}` must be an array (numpy.ndarray, torch.Tensor, jax.Array, "
                f"cupy.ndarray, dask.array.Array, ...); got {_type_name(value)}"
            )
        namespace = array_api_compat.array_namespace(value)
        if xp is None:
            xp, first_name, first_value = namespace, name, value
        elif namespace is not xp:
            raise TypeError(
                f"arrays from two libraries: `{first_name}` is {_type_name(first_value)} "
                f"but `{name}` is {_type_name(value)}; convert them to one library first"
            )
        eager = eager and _is_eager(value)
        spread = spread or _is_spread_jax_array(value)
        value_device = device_of(value)
        if value_device is None or _is_torch_cpu_scalar(value):
            continue
        if device_name is None:
            device, device_name = value_device, name
        elif value_device != device:
            raise ArrayLossValueError(
                f"arrays on two devices: `{device_name}` is on {device} but `{name}` is "
                f"on {value_device}; move them to one device first"
            )
    if xp is None:
        raise TypeError("expected at least one array argument; got only None and Python scalars")
    # The result lives on the input's device (the first array argument), unless that is
    # a 0-d CPU torch tensor beside tensors of another device: the result is there.
    if not _is_torch_cpu_scalar(first_value):
        input_device = device_of(first_value)
        if input_device is not None:
            device = input_device
    if spread:
        # New arrays uncommitted, for JAX to place beside the sharded ones (device_of).
        device = None
    return ArrayContext(xp=xp, device=device, eager=eager)


def _is_spread_jax_array(value: object) -> bool:
    # A concrete JAX array whose sharding spans several devices (NamedSharding over a
    # mesh, or replicated on several devices).
    if not array_api_compat.is_jax_array(value) or _is_traced_jax_array(value):
        return False
    sharding = getattr(value, "sharding", None)
    return sharding is not None and len(sharding.device_set) > 1


def device_of(x: Any) -> Any:
    """The device of the array ``x``, to create arrays beside it on:
    ``array_api_compat.device(x)``, but ``None`` for a JAX array sharded over several
    devices (and, as there, for a traced JAX array).

    Why: the "device" of a JAX array spread over several devices is its
    ``jax.sharding.Sharding``, which holds a partition spec of ``x``'s rank. Two
    arguments sharded alike but of different ranks (``input`` of shape (N, C) as
    ``P('batch', None)``, ``target`` of shape (N,) as ``P('batch')``) then had unequal
    devices and were refused, and an array of another rank created on that "device"
    (a 0-d constant, an ``arange`` of the classes) failed. With ``None``, JAX creates
    such arrays uncommitted and places them beside the sharded operands (under
    ``jax.jit`` nothing changes: a traced array's device is already ``None``); JAX
    itself raises if committed arguments live on incompatible devices.
    """
    if _is_spread_jax_array(x):
        return None
    return array_api_compat.device(x)


def array_size(x: Any) -> int:
    """The number of elements of ``x``.

    Why not ``x.size``: the standard lets it be ``None`` for unknown dimensions and
    PyTorch's ``size`` is a method; the product of a known shape works everywhere.
    """
    size = 1
    for n in x.shape:
        size *= int(n)
    return size


def remembered(cache: dict[Any, _T], key: Any, answer: Callable[[], _T]) -> _T:
    """``answer()``, kept in ``cache`` under ``key`` for the next call.

    Why: questions about a dtype (is it half precision, is it real floating) are asked
    at every loss call, and some cost microseconds (NumPy's ``str`` of a dtype about
    5 us, its ``isdtype`` about 0.9 us). Not under ``torch.compile``, where Dynamo would
    trace and guard a global dict (a module as a key fails ``fullgraph=True``), nor for
    an unhashable key.
    """
    if torch_is_compiling():
        return answer()
    try:
        return cache[key]
    except KeyError:
        value = cache[key] = answer()
        return value
    except TypeError:
        return answer()


def clip(xp: Any, x: Any, lowest: float | None, highest: float | None) -> Any:
    """``xp.clip(x, lowest, highest)`` for Python-number bounds (None: unbounded).

    Fast path (NumPy): array-api-compat's NumPy ``clip`` broadcasts both bounds to
    ``x``'s shape in Python first (9.9 us at N = 1, against 2.2 us for ``numpy.clip``;
    a bound array of ``x``'s size each at large N). NumPy's own ``clip`` gives the same
    values; its result is taken only in ``x``'s dtype (NumPy 1's value-based casting
    would promote float32 for a bound float32 cannot hold). Off with
    :func:`fast_paths` ``(False)``.
    """
    numpy = sys.modules.get("numpy")
    if _fast_paths_enabled and numpy is not None and type(x) is numpy.ndarray:
        clipped = numpy.clip(x, lowest, highest)
        if clipped.dtype == x.dtype:
            return clipped
    return xp.clip(x, lowest, highest)


def stop_gradient(xp: Any, x: Any) -> Any:
    """``x``'s values, seen by autodiff as a constant (derivative 0); ``xp`` is ``x``'s
    namespace.

    Why here: the array API standard has no way to stop a gradient, and
    ``gaussian_nll_loss`` needs one to clamp the variance as PyTorch does (the clamp
    happens under ``torch.no_grad()``, so the gradient passes through it as if it were
    the identity); log-sum-exp needs one for the maximum it subtracts (the gradient
    through it cancels, so differentiating it is wasted work: see ``log_softmax``).
    Standard operations cannot express it: each one differentiates the function it
    computes, and those with derivative 0 (``floor``, ``sign``, comparisons) do not keep
    the values. PyTorch: ``x.detach()``; JAX: ``jax.lax.stop_gradient`` (traced arrays
    included); the other libraries (NumPy, CuPy, Dask, array-api-strict) have no
    autodiff, so ``x`` itself.
    """
    if array_api_compat.is_torch_namespace(xp):
        return x.detach()
    if array_api_compat.is_jax_namespace(xp):
        return sys.modules["jax"].lax.stop_gradient(x)
    return x


def magnitude(xp: Any, d: Any) -> Any:
    """``|d|`` with PyTorch's derivative, ``sgn(d)``: 0 at d = 0 (NaN stays NaN); ``xp``
    is ``d``'s namespace. For l1_loss and the p-norms of the pairwise distances.

    Why here: under ``jax.grad`` the derivative of ``abs`` at 0 is 1, so JAX takes
    ``maximum(d, -d)``, the same values (+0.0 at both zeros, as JAX's ``maximum``
    gives), whose derivative splits the tie at 0 evenly: 0. PyTorch's ``abs`` backward
    is ``sgn`` already; NumPy, CuPy, Dask and array-api-strict have no autodiff: there
    ``abs`` itself (``maximum`` would be no better: torch's splits ties with masks, 9x
    the backward's time, and NumPy's ``maximum(0.0, -0.0)`` is -0.0).

    Not the former ``where(d == 0, 0, abs(d))`` on every library: on XLA's CPU backend
    the comparison keeps the loss out of the fused reduction (its YNNPACK fusion takes
    ``maximum`` and ``abs`` but not comparisons), so each step became a pass over
    memory: ``l1_loss`` under ``jax.jit`` at N = 1e7 took 15.5 ms, 17.6 ms in this
    form alone, against 3.2 ms for ``maximum(d, -d)`` (torch: 25 ms).
    """
    if xp.__name__ in _JAX_NAMESPACE_NAMES:
        return xp.maximum(d, -d)
    return xp.abs(d)


@functools.cache
def _scan_body(step: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    # One wrapper per step function: JAX caches a scan's traced body by function.
    # Thread-safe: a concurrent miss builds an equivalent wrapper (see the module note).
    return lambda carry, x: (step(carry, x), None)


@functools.cache
def _scan_body_collect(step: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    # As _scan_body, also emitting the new state (the carry's first array) each step.
    def body(carry: Any, x: Any) -> tuple[Any, Any]:
        new = step(carry, x)
        return new, new[0] if isinstance(new, tuple) else new

    return body


def scan(
    ctx: ArrayContext,
    step: Callable[[Any, Any], Any],
    init: Any,
    xs: tuple[Any, ...],
    *,
    collect: bool = False,
) -> Any:
    """The final carry of ``carry = step(carry, tuple(x[t] for x in xs))`` for t along
    the first axis of the arrays ``xs`` (a recurrence over time, e.g. CTC's forward
    variables). ``init`` and the carry are an array or a tuple of arrays (a tuple may
    hold loop constants beside the state, so that they are chunked like it on Dask).
    With ``collect=True``, ``(final carry, states)``: ``states`` stacks the state (the
    carry, or its first array) after every step along a new first axis, (T, ...)
    (``ctc_loss_with_forward_probs`` of ``arrayloss.optax`` returns them).

    Why here: on JAX a Python loop over T steps is unrolled into T copies of the step
    under ``jax.jit`` (``jax.grad``, ``jax.vmap``), and XLA's compile time grows with T
    (seconds for T = 16 on a CPU); eagerly it dispatches every operation of every step.
    ``jax.lax.scan`` traces ``step`` once (about 0.3 s to compile on a CPU, whatever T)
    and stays differentiable; JAX caches the traced body by function, so pass the same
    ``step`` object at every call (no fresh closure) and an eager scan compiles once
    per shape. Every other library runs the plain loop: eager libraries (PyTorch's
    autograd included) record each step, and Dask builds a lazy graph without
    computing. On Dask the carry and the slices
    ``x[t]`` are kept in one chunk each (the time axis of ``xs`` stays chunked): a step
    that shifts its carry (a concat then slices) or meets differently chunked arrays
    otherwise splits the chunks further at every step, and the graph grows to
    thousands of tasks for ten steps; one chunk keeps it at a few tasks per step (the
    recurrence is sequential anyway).
    """
    jax = sys.modules.get("jax")
    if jax is not None and array_api_compat.is_jax_namespace(ctx.xp):
        if collect:
            return jax.lax.scan(_scan_body_collect(step), init, xs)
        carry, _ = jax.lax.scan(_scan_body(step), init, xs)
        return carry
    is_tuple = isinstance(init, tuple)
    dask = array_api_compat.is_dask_array(init[0] if is_tuple else init)

    def one_chunk(c: Any) -> Any:
        if not dask:
            return c
        if is_tuple:
            return tuple(a.rechunk(-1) if a.npartitions > 1 else a for a in c)
        return c.rechunk(-1) if c.npartitions > 1 else c

    if dask:
        xs = tuple(x.rechunk(dict.fromkeys(range(1, x.ndim), -1)) for x in xs)
    carry = one_chunk(init)
    states = []
    for t in range(int(xs[0].shape[0])):
        carry = one_chunk(step(carry, tuple(x[t, ...] for x in xs)))
        if collect:
            states.append(carry[0] if is_tuple else carry)
    if collect:
        if not states:  # T = 0: no state, shape (0, ...) of the carry's state
            state = init[0] if is_tuple else init
            return carry, ctx.xp.zeros(
                (0, *state.shape), dtype=state.dtype, device=device_of(state)
            )
        return carry, ctx.xp.stack(states, axis=0)
    return carry


# --- fast paths ---------------------------------------------------------------------------
#
# Each fast path below computes what the generic definition computes, faster on one
# backend. All of them are switched off together by ARRAYLOSS_FAST_PATHS=0 in the
# environment (read at import) or inside ``with arrayloss.fast_paths(False):``, so that
# the conformance suite and the tests can run every loss on both paths
# (``python -m conformance --generic``; tests/test_fast_paths.py). The gains quoted are
# medians measured by benchmarks/ on the 2-core development machine (docs/performance.md).

_fast_paths_enabled = os.environ.get("ARRAYLOSS_FAST_PATHS", "1").strip() not in ("0", "false")


def fast_paths_enabled() -> bool:
    """True unless fast paths are switched off (see :func:`fast_paths`)."""
    return _fast_paths_enabled


@contextlib.contextmanager
def fast_paths(enabled: bool) -> Iterator[None]:
    """Switch arrayloss's backend-specific fast paths on or off inside the block.

    With ``enabled=False`` every loss runs its generic array-API definition on every
    backend: the reference that each fast path is checked against. The switch is
    process-wide (not per thread); set ``ARRAYLOSS_FAST_PATHS=0`` in the environment to
    start with fast paths off.

    >>> import arrayloss
    >>> with arrayloss.fast_paths(False):
    ...     pass  # losses here run the generic definitions
    """
    global _fast_paths_enabled
    if not isinstance(enabled, bool):
        raise TypeError(f"`enabled` must be a bool; got {type(enabled).__name__}")
    previous = _fast_paths_enabled
    _fast_paths_enabled = enabled
    try:
        yield
    finally:
        _fast_paths_enabled = previous


# Value checks and warnings inside an auto-jitted JAX call (see jax_auto_jit): while a
# loss is traced for its cached kernel, its value checks cannot read the values, so each
# records the traced "something is wrong" flag here instead, and each warning records
# its message; the kernel returns the flags' OR beside the loss, and the warnings are
# replayed at every call. Per thread: two threads may trace at once.
class _Recording(threading.local):
    def __init__(self) -> None:
        self.frames: list[_RecordingFrame] = []


@dataclass
class _RecordingFrame:
    flags: list[Any]
    warnings: list[tuple[str, type[Warning]]]


_recording = _Recording()


def defer_value_check(ctx: ArrayContext, bad: Callable[[], Any]) -> None:
    """Record a value check that traced arrays cannot run, when a kernel is being traced
    for :func:`jax_auto_jit`: ``bad()`` builds a boolean array, True where a value is
    invalid. Elsewhere (a user's ``jit``, Dask, ``torch.compile``) checks are skipped,
    as before, and ``bad`` is never called.
    """
    frames = _recording.frames
    if frames:
        frames[-1].flags.append(ctx.xp.any(bad()))


def record_warning(message: str, category: type[Warning]) -> bool:
    """True (and the warning recorded, not emitted) while a kernel is traced for
    :func:`jax_auto_jit`; the wrapper then emits it at every call of the kernel."""
    frames = _recording.frames
    if not frames:
        return False
    frames[-1].warnings.append((message, category))
    return True


@dataclass
class _JitKernel:
    jitted: Any
    # Per shapes and dtypes of the arrays: the warnings the trace recorded (a warning can
    # depend on shapes, e.g. a target of another shape).
    traced: dict[tuple[Any, ...], tuple[tuple[str, type[Warning]], ...]]
    # Whether any trace recorded a warning: if none did, a call need not look its
    # shapes up (a few microseconds of the call's cost at N = 1).
    warns: list[bool]


_JIT_CACHE_SIZE = 512
_jit_cache: collections.OrderedDict[tuple[Any, ...], _JitKernel] = collections.OrderedDict()
_not_jittable: set[tuple[Any, ...]] = set()
_ARRAY = object()  # stands for an array argument in a cache key


def _jit_plan(jax: ModuleType, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The cache key, the array arguments and whether they are all concrete, for a call
    that can run as a cached jitted kernel; or None. Every array argument is a JAX array
    (concrete, or a tracer of a user's ``grad``, ``vmap`` or ``jit``), the concrete ones
    on one set of devices, and every other argument is a hashable option that is not a
    function."""
    arrays: list[Any] = []
    key: list[Any] = []
    devices = None
    concrete = True
    for value in (*args, *kwargs.values()):
        if isinstance(value, jax.Array):
            if isinstance(value, jax.core.Tracer):
                concrete = False
                arrays.append(value)
                key.append(_ARRAY)
                continue
            value_devices = value.sharding.device_set
            if devices is None:
                devices = value_devices
            elif value_devices != devices:
                return None  # the generic path names the two arguments' devices
            arrays.append(value)
            key.append(_ARRAY)
        elif value is None or isinstance(value, (bool, int, float, str)):
            # The type too: 1, 1.0 and True are equal keys but not equal options.
            key.append((type(value), value))
        elif isinstance(value, tuple) and all(isinstance(v, (bool, int, float)) for v in value):
            key.append((tuple, tuple((type(v), v) for v in value)))
        else:
            # Arrays of another library (the generic path raises the mixing error),
            # NumPy scalars, lists, a user's function (it may not be traceable).
            return None
    if not arrays:
        return None
    return (tuple(key), tuple(kwargs)), arrays, concrete


#: Array types of other libraries (torch.Tensor, numpy.ndarray, ...) met as a loss's
#: first argument. Why: with JAX imported, every call of every loss looked for a jit plan,
#: about 1 us per torch or NumPy call (``isinstance`` against ``jax.Array``, an ABC, for
#: each argument); a first argument of one of these types rules a plan out (``_jit_plan``
#: returns None for an array of another library), so the lookup is skipped.
_NON_JAX_ARRAY_TYPES: set[type] = set()


def _is_non_jax_array(jax: ModuleType, value: object) -> bool:
    return array_api_compat.is_array_api_obj(value) and not isinstance(value, jax.Array)


def _inside_a_users_trace(arrays: list[Any]) -> bool:
    """True when an array argument is a tracer that holds no value: the call is inside a
    user's ``jit`` or ``vmap`` (not an eager ``jax.grad``, whose tracers hold values).

    There the loss runs as written, traced into the user's program, and not as a nested
    ``jit`` of the cached kernel. Why: XLA inlines a nested ``jit`` anyway, so nothing
    is lost, and JAX 0.7.1 computed a wrong gradient through the nested form:
    ``jax.jit(jax.grad(...))`` of ``cosine_similarity_loss`` of a transposed input gave
    0.4057 where ``jax.grad`` alone, the inline trace and optax give 0.4955 (JAX 0.10.2:
    right both ways). ``jax._src.core.is_concrete`` is JAX's own test (private: without
    it, the nested form, as before).
    """
    core = sys.modules.get("jax._src.core")
    is_concrete = getattr(core, "is_concrete", None)
    if is_concrete is None:
        return False
    jax = sys.modules["jax"]
    return any(isinstance(a, jax.core.Tracer) and not is_concrete(a) for a in arrays)


def jax_auto_jit(loss: Callable[..., Any]) -> Callable[..., Any]:
    """Fast path: a loss called on concrete JAX arrays runs as a cached ``jax.jit``
    kernel, one per loss and set of options, so that eager JAX callers get XLA's fusion
    and one dispatch instead of one per operation.

    Under a user's eager ``jax.grad`` (tracers holding concrete values) the kernel is
    differentiated as a whole, so the forward and backward are compiled too; under a
    user's ``jit`` or ``vmap`` the kernel is inlined into the user's program, where it
    changes nothing (the cache is consulted once, while the user's function is traced).
    With arrays of another library, or with fast paths off, the loss runs as written.

    Measured gain (docs/performance.md, the benchmark's ``arrayloss-jax-generic``
    contender, 2026-12-04): per call at N = 1, 9x to 59x; forward at N >= 1e5, 1.9x to
    29x; under a user's eager ``jax.grad``, 1.2x to 7x.

    What eager callers rely on stays true: value checks (probabilities in [0, 1], class
    indices in range, a negative variance) are traced as flags that the kernel returns
    beside the loss; if one is set on concrete arrays, the loss runs again eagerly, which
    raises the error it always raised (under a transform the checks are skipped, as
    always). Warnings recorded while tracing are emitted at every call. A trace that
    needs concrete values falls back to the eager loss for that set of options, for
    good. Not wrapped: ``ctc_loss`` (its checks of lengths and labels read many values,
    and its recursion is a ``lax.scan`` compiled once per shape already).
    ``multilabel_margin_loss`` reads the most target slots of a sample first
    (:func:`concrete_jax_hint`) and passes it to its wrapped kernel as an option.

    A call like an earlier one (positional arrays, options that are strings or None)
    goes straight to that call's kernel, without the plan (:func:`_open_jit_lane`).
    """

    @functools.wraps(loss)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if args:
            first = type(args[0])
            if first is _concrete_jax_array_type[0] and _fast_paths_enabled:
                # The lane of an earlier call like this one: its kernel at once, without
                # _jit_plan (_open_jit_lane says why and when). Inline: a function call
                # here costs a tenth of what the lane saves.
                try:
                    lane = (loss, len(args), *kwargs.items())
                    kernel = _jit_cache.get(_jit_lanes[lane])
                except (KeyError, TypeError):  # no lane, or an unhashable option (an array)
                    kernel = None
                if kernel is not None and not _recording.frames:
                    committed = args[0]._committed
                    for value in args:
                        # All uncommitted (on the default device) or all committed (jit
                        # raises for two devices); else the plan compares the devices.
                        if type(value) is not first or value._committed is not committed:
                            break
                    else:
                        try:
                            result, bad = kernel.jitted(*args)
                        except Exception:  # the full wrapper below calls it again
                            pass
                        else:
                            if kernel.warns[0] or bad is not None:
                                return _kernel_result(
                                    loss, kernel, args, result, bad, True, args, kwargs
                                )
                            return result
            elif first in _NON_JAX_ARRAY_TYPES:
                return loss(*args, **kwargs)  # a torch or NumPy call: no plan to look for
        jax = sys.modules.get("jax")
        if jax is None or not _fast_paths_enabled or _recording.frames:
            # Inside another auto-jitted loss's trace (a loss calling a loss), run inline:
            # its value checks and warnings then record in that trace's frame; a nested
            # kernel would keep its flag to itself and the outer call would not raise.
            return loss(*args, **kwargs)
        plan = _jit_plan(jax, args, kwargs)
        if plan is None:
            if args and _is_non_jax_array(jax, args[0]):
                _NON_JAX_ARRAY_TYPES.add(type(args[0]))
            return loss(*args, **kwargs)
        options, arrays, concrete = plan
        if not concrete and _inside_a_users_trace(arrays):
            return loss(*args, **kwargs)
        key = (loss, *options)
        if key in _not_jittable:
            return loss(*args, **kwargs)
        kernel = _jit_cache.get(key)
        if kernel is None:
            kernel = _build_kernel(jax, loss, args, kwargs)
            _jit_cache[key] = kernel
            if len(_jit_cache) > _JIT_CACHE_SIZE:
                _jit_cache.popitem(last=False)
        try:
            result, bad = kernel.jitted(*arrays)
        except (jax.errors.ConcretizationTypeError, jax.errors.TracerArrayConversionError):
            _not_jittable.add(key)
            _jit_cache.pop(key, None)
            return loss(*args, **kwargs)
        if concrete:
            _open_jit_lane(loss, key, args, kwargs, len(arrays))
        return _kernel_result(loss, kernel, arrays, result, bad, concrete, args, kwargs)

    return wrapper


def _kernel_result(
    loss: Callable[..., Any],
    kernel: _JitKernel,
    arrays: Any,
    result: Any,
    bad: Any,
    concrete: bool,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    """What an auto-jitted call returns once its kernel ran: the warnings its trace
    recorded, emitted at the caller; the eager loss's own error where a value check of
    the kernel failed on concrete arrays; else the kernel's result."""
    if kernel.warns[0]:
        shapes = tuple((a.shape, a.dtype) for a in arrays)
        for message, category in kernel.traced.get(shapes, ()):
            _warn_at_caller(message, category)
    # The flag read by numpy.asarray, not bool(): JAX's __bool__ costs about 6 us more
    # on a result just dispatched (cross_entropy's call at N = 1 took 15.4 us, 9.3 with
    # this; mse_loss, which has no flag, 6.0). JAX depends on NumPy: it is imported.
    if concrete and bad is not None and sys.modules["numpy"].asarray(bad):
        return loss(*args, **kwargs)  # eagerly: raises the check's own error
    return result


class _NoJaxArrayYet:
    """Stands for JAX's concrete array type until the first auto-jitted call meets it."""


#: The type of JAX's concrete arrays (``jaxlib``'s ``ArrayImpl``), once met.
_concrete_jax_array_type: list[type] = [_NoJaxArrayYet]
#: The lanes of :func:`_open_jit_lane`: (loss, number of positional arrays, keyword
#: options) -> the key of its kernel in ``_jit_cache``.
_jit_lanes: dict[tuple[Any, ...], tuple[Any, ...]] = {}
_JIT_LANES_SIZE = 1024


def _open_jit_lane(
    loss: Callable[..., Any],
    key: tuple[Any, ...],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    n_arrays: int,
) -> None:
    """Fast path: remembers a lane to the kernel ``key`` for later calls like this one
    (concrete arrays), where its shape allows: every positional argument a concrete JAX
    array of one type, and every keyword option a string or None (equal only to values
    of its own type, so an equal key is an equal set of options). A later call of the
    loss with as many positional arrays (of that type) and equal keyword options runs
    the kernel at once (:func:`jax_auto_jit`'s wrapper), without :func:`_jit_plan`.

    Why: the plan (a key built argument by argument, ``isinstance`` against JAX's array
    ABC, the devices of each array) cost 1.4 us of the wrapper's 2.8 us over a bare
    jitted call at N = 1: ``mse_loss`` took 7.5 us a call, where optax's loss under
    ``jax.jit`` takes 4.7 us; with the lane, 6.0 us.

    What the plan guarded stays guarded: the lane takes arrays that are all uncommitted
    (on the default device) or all committed (placed by ``jax.device_put``: on devices
    that do not match, ``jax.jit`` raises, and the full wrapper then runs, where the
    loss names the two arguments' devices, as before); a mix goes to the plan, as
    ``jax.jit`` would move the uncommitted ones to the committed ones' device. Any error
    of the kernel sends the call to the full wrapper, which raises it or falls back as
    it always did. Tracers (a user's ``jit``, ``vmap`` or ``grad``; a loss calling a
    loss) are not of the concrete type: never a lane. A kernel dropped from
    ``_jit_cache`` closes its lane."""
    if n_arrays != len(args):
        return
    array_type = type(args[0])
    if any(type(a) is not array_type for a in args) or not hasattr(args[0], "_committed"):
        return  # (_committed: whether jax.device_put placed the array; JAX's own field)
    if any(type(v) is not str and v is not None for v in kwargs.values()):
        return
    if len(_jit_lanes) >= _JIT_LANES_SIZE:
        _jit_lanes.clear()
    lane = (loss, len(args), *kwargs.items())
    _jit_lanes[lane] = key
    _concrete_jax_array_type[0] = array_type


def concrete_jax_hint(read: Callable[[Any, Any], Any], array: Any) -> int | None:
    """Fast path: a value of ``array`` that picks a loss's fastest form, read before the
    loss runs as an auto-jitted kernel (:func:`jax_auto_jit`), which a trace cannot read:
    ``int(read(xp, array))`` (``read`` gives a 0-d integer array; it runs as a cached
    ``jax.jit`` kernel). None where ``array`` is not a concrete JAX array (another
    library's, a tracer of a user's ``jit``, ``vmap`` or ``grad``), fast paths are off, or
    ``read`` fails on it (the loss's checks then say why). The loss passes the value to
    its kernel as an option, so each value has its kernel.

    Why: ``multilabel_margin_loss`` loops over the most target slots of a sample when
    it can read that number, and sorts when it cannot (4x to 25x slower at N >= 1e5);
    without the number its eager JAX calls ran op by op: 2.5 ms a call at N = 1, where
    the other losses' auto-jitted calls take 10 to 40 us.
    """
    if not _fast_paths_enabled or type(array) in _NON_JAX_ARRAY_TYPES:
        return None
    jax = sys.modules.get("jax")
    if jax is None or not isinstance(array, jax.Array) or isinstance(array, jax.core.Tracer):
        return None
    kernel = _hint_kernels.get(read)
    if kernel is None:
        xp = array_api_compat.array_namespace(array)
        kernel = _hint_kernels[read] = jax.jit(functools.partial(read, xp))
    try:
        return int(kernel(array))
    except (TypeError, ValueError, IndexError):
        return None


_hint_kernels: dict[Callable[..., Any], Any] = {}


def _build_kernel(
    jax: ModuleType, loss: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> _JitKernel:
    # The options are baked into the kernel; only the arrays are its arguments.
    is_array = [isinstance(v, jax.Array) for v in (*args, *kwargs.values())]
    n_args = len(args)
    names = tuple(kwargs)
    options = (*args, *kwargs.values())
    traced: dict[tuple[Any, ...], tuple[tuple[str, type[Warning]], ...]] = {}
    warns = [False]

    def kernel(*arrays: Any) -> tuple[Any, Any]:
        it = iter(arrays)
        values = [
            next(it) if flag else option for flag, option in zip(is_array, options, strict=True)
        ]
        frame = _RecordingFrame(flags=[], warnings=[])
        _recording.frames.append(frame)
        try:
            result = loss(*values[:n_args], **dict(zip(names, values[n_args:], strict=True)))
        finally:
            _recording.frames.pop()
        shapes = tuple((a.shape, a.dtype) for a in arrays)
        traced[shapes] = tuple(frame.warnings)
        if frame.warnings:
            warns[0] = True
        if not frame.flags:
            return result, None
        jnp = sys.modules["jax.numpy"]
        return result, jnp.any(jnp.stack([jnp.asarray(f) for f in frame.flags]))

    return _JitKernel(jitted=jax.jit(kernel), traced=traced, warns=warns)


def _warn_at_caller(message: str, category: type[Warning]) -> None:
    # _validation.warn_at_caller, which imports this module.
    from ._validation import warn_at_caller

    warn_at_caller(message, category)


def native_ctc_loss(ctx: ArrayContext, log_probs: Any) -> Callable[..., Any] | None:
    """Fast path: ATen's CTC kernels for ``_ctc._ctc_unreduced`` on torch tensors:
    ``kernel(log_probs, labels, input_lengths, target_lengths, blank, floor, composed)`` gives
    the negative log-likelihood per sample (N,), +inf where no alignment exists, as the
    composed recursion does (within rounding: the same log-space recursion, with -inf
    where arrayloss's has a finite floor); or None. ``composed(log_probs)`` is that
    recursion, for a gradient of the gradient.

    - Without a gradient (``log_probs`` not tracked, or ``torch.no_grad``): ATen's
      forward (``torch.ctc_loss``, reduction 'none').
    - With one: :func:`_torch_ctc_function`, ATen's forward and backward with the
      backward mapped onto the exact derivative arrayloss gives. PyTorch's backward
      returns ``g_n (exp(lp) - gamma)`` for the frames t < T_n (docs/losses/ctc.md:
      it assumes normalized log-probabilities), the exact derivative is
      ``-g_n gamma``; an impossible sample's gradient is 0 (PyTorch's is NaN without
      ``zero_infinity``), and so is that of a log-probability at or below arrayloss's
      floor (``floor``, -1e30; -inf included), which the composed recursion clamps. A gradient
      taken with ``create_graph`` differentiates the composed recursion instead, so
      that it is differentiable again (ATen's backward is not).

    float32 and float64 tensors, fast paths on, outside ``torch.compile`` and torch.func
    transforms. arrayloss's checks of the lengths and labels have run already, and the
    labels past each target's length are blanks.

    Why: the composed recursion dispatches a few small operations per frame, and
    autograd records each. The benchmark (T = 50, 20 classes, 10 labels a sample) took
    68x torch's time in the forward at 20 samples and 2.6x at 20,000, 3.98x with the
    backward at 2,000, with 5.3x one input of peak memory in the forward at N = 1e7
    (the benchmark of 2026-12-05, 12:04 UTC).
    """
    if not _fast_paths_enabled or not _is_torch_namespace(ctx.xp) or torch_is_compiling():
        return None
    torch = sys.modules["torch"]
    if log_probs.dtype not in (torch.float32, torch.float64):
        return None
    if torch._C._are_functorch_transforms_active():
        return None
    return _torch_ctc_nll


def _torch_ctc_nll(
    log_probs: Any,
    labels: Any,
    input_lengths: Any,
    target_lengths: Any,
    blank: int,
    floor: float,
    composed: Callable[[Any], Any],
) -> Any:
    torch = sys.modules["torch"]
    if torch.is_grad_enabled() and log_probs.requires_grad:
        nll, _ = _torch_ctc_function().apply(
            log_probs, labels, input_lengths, target_lengths, blank, floor, composed
        )
        return nll
    # reduction 0 ('none'), zero_infinity False: ctc_loss applies its own afterwards.
    return torch.ctc_loss(log_probs, labels, input_lengths, target_lengths, blank, 0, False)


@functools.cache
def _torch_ctc_function() -> Any:
    """The ``torch.autograd.Function`` of :func:`native_ctc_loss`: ATen's ``_ctc_loss``
    forward (the per-sample negative log-likelihood and the forward variables) and its
    ``_ctc_loss_backward`` mapped onto the exact derivative (see there)."""
    torch = sys.modules["torch"]

    class CTCNegativeLogLikelihood(torch.autograd.Function):  # type: ignore[misc,name-defined]
        @staticmethod
        def forward(
            log_probs: Any,
            labels: Any,
            input_lengths: Any,
            target_lengths: Any,
            blank: int,
            floor: float,
            composed: Callable[[Any], Any],
        ) -> Any:
            # zero_infinity=True matters to the backward only: an impossible sample's
            # gradient is 0 (arrayloss's), not NaN. The forward's +inf stays.
            return torch.ops.aten._ctc_loss.Tensor(
                log_probs, labels, input_lengths, target_lengths, blank, True
            )

        @staticmethod
        def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Any) -> None:
            log_probs, labels, input_lengths, target_lengths, blank, floor, composed = inputs
            nll, log_alpha = output
            ctx.save_for_backward(log_probs, labels, input_lengths, target_lengths, nll, log_alpha)
            ctx.blank = blank
            ctx.floor = floor
            ctx.composed = composed
            ctx.mark_non_differentiable(log_alpha)

        @staticmethod
        def backward(ctx: Any, grad_nll: Any, _: Any) -> tuple[Any, ...]:
            log_probs, labels, input_lengths, target_lengths, nll, log_alpha = ctx.saved_tensors
            if torch.is_grad_enabled():
                # create_graph: the composed recursion's gradient, differentiable again.
                with torch.enable_grad():
                    again = ctx.composed(log_probs)
                (grad,) = torch.autograd.grad(again, log_probs, grad_nll, create_graph=True)
                return grad, None, None, None, None, None, None
            grad = torch.ops.aten._ctc_loss_backward.Tensor(
                grad_nll,
                log_probs,
                labels,
                input_lengths,
                target_lengths,
                nll,
                log_alpha,
                ctx.blank,
                True,
            )
            # Minus g_n exp(lp) on the frames t < T_n of the possible samples.
            steps = torch.arange(log_probs.shape[0], device=log_probs.device)
            active = steps[:, None] < input_lengths.to(log_probs.device)[None, :]
            scale = torch.where(torch.isfinite(nll), grad_nll, 0.0)
            term = torch.exp(log_probs).mul_((active * scale)[:, :, None])
            grad.sub_(term).masked_fill_(log_probs <= ctx.floor, 0.0)
            return grad, None, None, None, None, None, None

    return CTCNegativeLogLikelihood


def _torch_clamp_min_zero(z: Any) -> Any:
    return sys.modules["torch"].clamp_min(z, 0.0)


# Elementwise building blocks that PyTorch computes in one fused kernel, by the name of
# the arrayloss function they replace (see native_elementwise): the torch callable.
_TORCH_ELEMENTWISE: dict[str, Callable[[], Callable[..., Any]]] = {
    "log_sigmoid": lambda: sys.modules["torch"].nn.functional.logsigmoid,
    "clamp_min_zero": lambda: _torch_clamp_min_zero,
    "xlogy": lambda: sys.modules["torch"].xlogy,
    "clamped_log": lambda: _torch_clamped_log,
    "soft_margin": lambda: _torch_soft_margin,
    "binary_cross_entropy": lambda: _torch_binary_cross_entropy,
    "kl_div_terms": lambda: _torch_kl_div_terms,
    "poisson_log_terms": lambda: _torch_poisson_log_terms,
    "gaussian_nll_terms": lambda: _torch_gaussian_nll_terms,
    "hinge_embedding_terms": lambda: _torch_hinge_embedding_terms,
}
# Blocks whose native gradient differs from the composed form's somewhere, or that write
# in place over tensors autograd would keep (see native_elementwise): taken only for
# operands that autograd does not track.
_TORCH_ELEMENTWISE_CONSTANTS_ONLY = frozenset(
    {
        "xlogy",
        "clamped_log",
        "soft_margin",
        "kl_div_terms",
        "poisson_log_terms",
        "gaussian_nll_terms",
        "hinge_embedding_terms",  # (its target: the input may need a gradient)
    }
)


# The in-place terms save a full-size block, which matters only where blocks are large
# (glibc maps those above 32 MB afresh at each allocation); below this many elements the
# composed form is taken and the block's checks (about 1 us a call) are skipped.
_TORCH_IN_PLACE_TERMS = frozenset(
    {"kl_div_terms", "poisson_log_terms", "gaussian_nll_terms", "hinge_embedding_terms"}
)
_IN_PLACE_MIN_ELEMENTS = 1 << 16


def _torch_kl_div_terms(x: Any, t: Any) -> Any:
    # xlogy(t, t) - t x, the product subtracted in place from the fresh first term: the
    # composed form's bits, two full-size blocks live at once where it held three. Not
    # addcmul_(t, x, value=-1), which would hold one but rounds once (a fused multiply-
    # add: 27% of random float32 results differ by an ulp). For constants only
    # (native_elementwise).
    torch = sys.modules["torch"]
    terms = torch.xlogy(t, t)
    if x.shape != t.shape:  # broadcast: the result may be larger than either operand
        return terms - t * x
    return terms.sub_(torch.mul(t, x))


def _torch_poisson_log_terms(x: Any, y: Any) -> Any:
    # exp(x) - y x, the product subtracted in place as in _torch_kl_div_terms.
    torch = sys.modules["torch"]
    terms = torch.exp(x)
    if x.shape != y.shape:
        return terms - y * x
    return terms.sub_(torch.mul(y, x))


def _torch_gaussian_nll_terms(x: Any, y: Any, var: Any, eps: float, constant: float | None) -> Any:
    # 0.5 (log(v) + (x - y)^2 / v) with v = max(var, eps), each step in place on one of
    # two fresh blocks: the composed form's operations in its order (the sum and the
    # products commuted: the same bits), two full-size blocks live where it held five.
    # clamp_min is the composed clamp's value for every var that the loss's check lets
    # through (var >= 0 or NaN; -inf, which the two would differ on, is refused). For
    # constants only (native_elementwise), x, y and var of one shape. ``constant``:
    # full=True's 0.5 log(2 pi), added last as there.
    torch = sys.modules["torch"]
    v = torch.clamp_min(var, eps)
    terms = torch.sub(x, y)
    terms.mul_(terms).div_(v)
    terms.add_(v.log_()).mul_(0.5)
    if constant is not None:
        terms.add_(constant)
    return terms


def _torch_hinge_embedding_terms(x: Any, y: Any, margin: float) -> Any:
    # where(y != 1, clamp_min(margin - x, 0), 0) + where(y != -1, x, 0) for a target y
    # that needs no gradient: with a gradient for x, through _torch_hinge_function (its
    # backward is the composed form's gradient); without, the forward alone.
    torch = sys.modules["torch"]
    if torch.is_grad_enabled() and x.requires_grad:
        return _torch_hinge_function().apply(x, y, margin)
    return _torch_hinge_forward(torch, x, y, margin)


def _torch_hinge_forward(torch: Any, x: Any, y: Any, margin: float) -> Any:
    # The first term in place on one fresh block, then the second added to it in place
    # block by block of _TERMS_BLOCK_ELEMENTS (elementwise: the same bits as at once),
    # so that one full-size block and a mask are live where the composed form held four.
    terms = torch.rsub(x, margin).clamp_min_(0.0).masked_fill_(y == 1, 0.0)
    if not terms.is_contiguous():  # x's layout (a transpose, say): no flat view of it
        return terms.add_(torch.where(y != -1, x, 0.0))
    flat_terms, flat_x, flat_y = terms.view(-1), x.reshape(-1), y.reshape(-1)
    for start in range(0, flat_terms.shape[0], _TERMS_BLOCK_ELEMENTS):
        block = slice(start, start + _TERMS_BLOCK_ELEMENTS)
        flat_terms[block].add_(torch.where(flat_y[block] != -1, flat_x[block], 0.0))
    return terms


@functools.cache
def _torch_hinge_function() -> Any:
    """The ``torch.autograd.Function`` of hinge_embedding_loss's terms: the forward of
    :func:`_torch_hinge_forward` (nothing kept but ``x`` and ``y``), and as backward the
    gradient autograd takes through the composed form, operation for operation:
    ``-where(z >= 0 and y != 1, g, 0) + where(y != -1, g, 0)`` with ``z = margin - x``
    (clamp_min's backward passes the gradient where ``z >= 0``; rsub's negates it; the
    two paths' gradients are summed, and addition commutes: the same bits, signs of
    zero included). Written in torch operations, so that it is differentiable again
    (``create_graph``), and with a generated vmap rule for ``torch.func``.

    Why: autograd through the composed form keeps its masks and makes four full-size
    blocks in the forward; with the backward at N = 1e7 the peak was 4.5x one input.
    """
    torch = sys.modules["torch"]

    class HingeEmbeddingTerms(torch.autograd.Function):  # type: ignore[misc,name-defined]
        generate_vmap_rule = True

        @staticmethod
        def forward(x: Any, y: Any, margin: float) -> Any:
            return _torch_hinge_forward(torch, x, y, margin)

        @staticmethod
        def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Any) -> None:
            x, y, margin = inputs
            ctx.save_for_backward(x, y)
            ctx.margin = margin

        @staticmethod
        def backward(ctx: Any, grad: Any) -> tuple[Any, None, None]:
            x, y = ctx.saved_tensors
            through_hinge = (torch.rsub(x, ctx.margin) >= 0) & (y != 1)
            if torch.is_grad_enabled():  # create_graph: autograd must see every step
                grad_x = -torch.where(through_hinge, grad, 0.0) + torch.where(y != -1, grad, 0.0)
                return grad_x, None, None
            grad_x = torch.where(through_hinge, grad, 0.0).neg_()
            del through_hinge
            return grad_x.add_(torch.where(y != -1, grad, 0.0)), None, None

    return HingeEmbeddingTerms


# Elements of a temporary made at once by the blocked in-place terms (4 MiB of float32).
_TERMS_BLOCK_ELEMENTS = 1 << 20


def _torch_soft_margin(x: Any, y: Any) -> Any:
    # log(1 + exp(-y x)) = logaddexp(-y x, 0): ATen's logaddexp kernel computes
    # max(w, 0) + log1p(exp(-|w|)), the composed -log_sigmoid(y x) term for term. For
    # constants only (native_elementwise): each step writes over mul's fresh product, one
    # full-size allocation in all, as ATen's own soft_margin_loss makes.
    torch = sys.modules["torch"]
    w = torch.mul(x, y).neg_()
    zero = remembered(_TORCH_ZEROS, (w.dtype, w.device), lambda: _torch_zero(w))
    return torch.logaddexp(w, zero, out=w)


# 0-d zeros by (dtype, device), for the blocks above: making one costs ~1.7 us a call,
# half the soft_margin block's time at N = 1.
_TORCH_ZEROS: dict[Any, Any] = {}


def _torch_zero(like: Any) -> Any:
    torch = sys.modules["torch"]
    # Outside inference_mode: an inference tensor kept here could not be used later by
    # code outside it.
    with torch.inference_mode(False), torch.no_grad():
        return torch.zeros((), dtype=like.dtype, device=like.device)


def _torch_binary_cross_entropy(p: Any, t: Any, floor: float) -> Any:
    # -(t log p + (1 - t) log(1 - p)), each log clamped at floor, for p and t of one
    # shape. With a gradient wanted, through _torch_bce_function (its backward is the
    # composed form's gradient); without, the forward alone.
    torch = sys.modules["torch"]
    if torch.is_grad_enabled() and (p.requires_grad or t.requires_grad):
        return _torch_bce_function().apply(p, t, floor)
    return _torch_bce_terms(torch, p, t, floor)


def _torch_bce_terms(torch: Any, p: Any, t: Any, floor: float) -> Any:
    # -lerp(log(1 - p), log(p), t): lerp's kernel gives each end exactly at t = 0 and 1
    # (self + w (end - self) below w = 0.5, end - (end - self)(1 - w) above), and NaN
    # where either log is NaN. In place on the two fresh logs: two full-size allocations.
    log_p = torch.log(p).clamp_min_(floor)
    log_q = torch.rsub(p, 1.0).log_().clamp_min_(floor)
    return log_q.lerp_(log_p, t).neg_()


@functools.cache
def _torch_bce_function() -> Any:
    """The ``torch.autograd.Function`` of binary_cross_entropy's terms: the forward of
    :func:`_torch_bce_terms` (two full-size allocations, nothing kept but ``p`` and
    ``t``), and as backward the gradient autograd takes through the composed form
    ``(t - 1) clamped_log(1 - p) - t clamped_log(p)``, operation for operation: 0 where
    a log is clamped (p = 0 or 1, or a log below the floor), ``g (1 - t) / (1 - p) -
    g t / p`` elsewhere (not ATen's backward, which divides by ``max(p (1 - p), 1e-12)``).
    Written in torch operations, so that it is differentiable again (``create_graph``),
    and with a generated vmap rule for ``torch.func``.

    Why: autograd through the composed form keeps five full-size temporaries for the
    backward and runs about a dozen operations there; at N = 1e7 that made
    binary_cross_entropy with the backward 2.86x torch's time, and 7x one input's
    memory.
    """
    torch = sys.modules["torch"]

    class BinaryCrossEntropyTerms(torch.autograd.Function):  # type: ignore[misc,name-defined]
        generate_vmap_rule = True

        @staticmethod
        def forward(p: Any, t: Any, floor: float) -> Any:
            return _torch_bce_terms(torch, p, t, floor)

        @staticmethod
        def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Any) -> None:
            p, t, floor = inputs
            ctx.save_for_backward(p, t)
            ctx.floor = floor

        @staticmethod
        def backward(ctx: Any, grad: Any) -> tuple[Any, Any, None]:
            p, t = ctx.saved_tensors
            floor = ctx.floor
            # The composed clamped_log(x) has gradient 0 where x = 0 or log(x) < floor:
            # exactly where log(x) < floor (log(0) = -inf; NaN compares False either way).
            # In place on fresh temporaries unless this backward is itself differentiated
            # (create_graph), where autograd must see every step.
            in_place = not torch.is_grad_enabled()
            q = torch.rsub(p, 1.0)
            # (Masks only: the logs are not kept, one full-size block each, while the
            # gradient for p is made; a gradient for the target, rare, takes them again.)
            clamped_q = torch.log(q) < floor
            grad_p = grad_t = None
            if ctx.needs_input_grad[0]:
                # As autograd through (t - 1) L1 - t L0: (-g) t / p - g (t - 1) / q.
                if in_place:
                    through_q = torch.sub(t, 1.0).mul_(grad).div_(q).masked_fill_(clamped_q, 0)
                    if not ctx.needs_input_grad[1]:
                        # q's term is made: 1 - p freed before p's (with the backward,
                        # peak memory 3.5x -> 2.24x one input at N = 1e7).
                        del q, clamped_q
                    clamped_p = torch.log(p) < floor
                    # -(g t) is (-g) t to the bit (negation is exact), one allocation.
                    through_p = torch.mul(grad, t).neg_().div_(p).masked_fill_(clamped_p, 0)
                    grad_p = through_p.sub_(through_q)
                else:
                    clamped_p = torch.log(p) < floor
                    through_q = ((t - 1.0) * grad / q).masked_fill(clamped_q, 0)
                    through_p = (-grad * t / p).masked_fill(clamped_p, 0)
                    grad_p = through_p - through_q
            else:
                clamped_p = torch.log(p) < floor
            if ctx.needs_input_grad[1]:
                log_p = torch.log(p).masked_fill(clamped_p, floor)
                log_q = torch.log(q).masked_fill(clamped_q, floor)
                grad_t = grad * log_q + (-grad) * log_p
            return grad_p, grad_t, None

    return BinaryCrossEntropyTerms


def _torch_clamped_log(p: Any, floor: float) -> Any:
    # In place on log's fresh result: nothing tracks it (no gradient wanted), and one
    # full-size temporary and one pass fewer.
    return sys.modules["torch"].log(p).clamp_min_(floor)


def native_elementwise(xp: Any, dtype: Any, name: str, *operands: Any) -> Callable[..., Any] | None:
    """Fast path: PyTorch's fused kernel for the elementwise building block ``name``, for
    arrays of ``xp`` and ``dtype``, or None (compose it from standard operations).

    The blocks, each computing its composed form's formula (within rounding: a fused
    kernel's vectorized ``exp`` or ``log1p`` may differ from the separate operations' by
    an ulp; bit for bit where said):

    - ``"log_sigmoid"`` (:func:`arrayloss._numerics.log_sigmoid`): ATen's
      ``log_sigmoid`` is the same formula (``log_sigmoid_cpu_kernel``:
      ``min(x, 0) - log1p(exp(-|x|))``, keeping ``exp(-|x|)`` for its backward, whose
      value at x = 0 is the exact 0.5) in one pass, where the composed form is five
      operations and four full-size temporaries, each kept by autograd. Used by
      soft_margin_loss, multilabel_soft_margin_loss and BCE with logits with a
      ``pos_weight``. Measured on the 2-core development machine (float32, fast path
      over composed form, other jobs running): soft_margin_loss's forward 1.5x to 5.6x
      faster at N = 1e5 to 1e7, forward+backward 4.6x to 19x.
    - ``"clamp_min_zero"`` (``_embedding._clamp_min_zero``, the hinge of the margin
      and embedding losses): ``torch.clamp_min(z, 0)`` against ``where(z < 0, 0, z)``,
      which builds a mask and goes through array-api-compat's scalar handling; the same
      values, NaN kept, and the same gradient (1 at z = 0, as PyTorch's clamp). 2x to 4x
      faster for the hinge alone at N = 1e5 to 1e6.
    - ``"xlogy"`` (:func:`arrayloss._numerics.xlogy`, kl_div's ``t log t``):
      ``torch.xlogy``, the same values (0 where x is 0 unless y is NaN) in one pass
      instead of two masks, two selects and a log. Its gradient is not the composed
      form's where x = y = 0 (``x / y``: NaN, where the composed form gives 0), so it is
      taken only when no operand (``operands``) requires a gradient: kl_div's target,
      almost always. kl_div's forward: 1.5x-1.8x -> 1.04x-1.2x torch's time at N = 1e5
      to 1e7.
    - ``"clamped_log"`` (:func:`arrayloss._numerics.clamped_log`, the two logs of
      binary_cross_entropy): ``torch.log(p).clamp_min_(floor)``, the same values
      (the floor at p = 0, NaN kept for p < 0 and NaN) in two passes instead of six
      operations with two masks. Its gradient at p = 0 is NaN (0 times log's infinite
      slope), where the composed form's is finite, so it is taken only when no operand
      requires a gradient: binary_cross_entropy evaluated without a backward (under
      ``torch.no_grad`` too). With the leaner [0, 1] check, binary_cross_entropy's
      call on torch at N = 1 went 93 -> 51 us (docs/performance.md for N >= 1e5).
    - ``"soft_margin"`` (``_margin._soft_margin_unreduced``, ``log(1 + exp(-y x))``):
      ``torch.logaddexp(-(x * y), 0)``, whose ATen kernel is the composed form's
      ``max(w, 0) + log1p(exp(-|w|))`` (finite for every finite ``w``; the gradient
      ``sigmoid(w)``, 0.5 at 0), written over the fresh product when no gradient is
      wanted: one full-size allocation where ``log_sigmoid``'s block made three (its
      product, its output and its backward buffer) and the negation a fourth. At
      N = 1e7 each fresh 40 MB block costs about 14 ms of page faults on this machine
      (glibc maps blocks above 32 MB afresh at each allocation), so soft_margin_loss's
      forward went 55.8 -> 23.8 ms (torch: 23.1 ms), and with a gradient 34.8 ms.

    - ``"binary_cross_entropy"`` (``_binary._bce_unreduced``, the unweighted terms
      ``-(t log p + (1 - t) log(1 - p))`` with each log clamped at -100):
      ``-lerp(log(1 - p), log(p), t)`` on the two clamped logs, in place. Exact for
      t = 0 and t = 1 (lerp's kernel returns each end there) and within rounding of
      the composed form for soft targets; NaN where a log is NaN. Two full-size
      allocations where the composed form made six (three live at once).
      binary_cross_entropy's forward at N = 1e7 went 1.2x -> 0.52x torch's time, its
      peak memory 3x -> 2x one input. With a gradient it runs as a
      ``torch.autograd.Function`` (:func:`_torch_bce_function`) whose backward is the
      composed form's gradient to the bit (0 where a log is clamped, finite at p = 0
      and 1); forward+backward at N = 1e7 2.8x -> 1.3x torch's time (ATen's backward
      differs: it divides by ``max(p (1 - p), 1e-12)``).

    - ``"kl_div_terms"`` (``_divergence._kl_div_unreduced``, ``xlogy(t, t) - t x``)
      and ``"poisson_log_terms"`` (``_probabilistic._poisson_nll_unreduced`` with
      ``log_input``, ``exp(x) - y x``): the product subtracted in place from the fresh
      first term, the composed form's bits (tested), two full-size blocks live at once
      where it held three (the forward's peak memory at N = 1e7: 3x -> 2x one input).
      From 65,536 elements of the first operand on (below, the composed form).
    - ``"gaussian_nll_terms"`` (``_probabilistic._gaussian_nll_terms``, the variance
      clamped at eps, then ``0.5 (log(v) + (x - y)^2 / v)``): the same steps in place
      on two fresh blocks, the composed form's bits (tested); the forward's peak memory
      at N = 1e7 5x -> 2x one input (torch's own: 4x). From 65,536 elements on, x, y
      and var of one shape.
    - ``"hinge_embedding_terms"`` (``_embedding._hinge_embedding_unreduced``,
      ``where(y != 1, clamp_min(margin - x, 0), 0) + where(y != -1, x, 0)``): the first
      term in place on a fresh block, the second added to it in place, by blocks of a
      million elements; the composed form's bits (tested). The forward's peak memory at
      N = 1e7 4x -> 1.25x one input (ATen's own: 5x). With a gradient for x, a
      ``torch.autograd.Function`` (:func:`_torch_hinge_function`) whose backward is the
      composed form's gradient to the bit; with the backward 4.5x -> 2.24x (ATen: 6.5x).
      Its one operand is the target, which must need no gradient (the input may). From
      65,536 elements on (below, a plain call takes ATen's kernel), x and y of one
      shape.

    A block "for constants only" is also taken under ``torch.no_grad()`` (or
    ``inference_mode``), where no operand is tracked whatever its ``requires_grad``.

    As :func:`native_kernel`: torch tensors of float32 or float64 only (half precision
    is computed in float32 by the caller already; ``operands``, where given, all of
    ``dtype``: torch's kernels would promote mixed dtypes where the composed form's
    standard operations decide), not under ``torch.compile`` (Inductor fuses the
    composed form), off with :func:`fast_paths` ``(False)``.
    """
    # (Plain loops and identity tests: this runs in every call of the losses built on
    # these blocks, and generator expressions made it 1.7 us of poisson_nll_loss's
    # 14 us at N = 1.)
    if not _fast_paths_enabled or not _is_torch_namespace(xp):
        return None
    if name in _TORCH_IN_PLACE_TERMS and operands[0].numel() < _IN_PLACE_MIN_ELEMENTS:
        return None  # small: the composed terms cost no more, and skip the checks below
    torch = sys.modules["torch"]
    if (dtype is not torch.float32 and dtype is not torch.float64) or (
        torch.compiler.is_compiling()
    ):
        return None
    for operand in operands:
        if operand.dtype is not dtype:
            return None
    if name in _TORCH_ELEMENTWISE_CONSTANTS_ONLY:
        # Under torch.func.vmap: "soft_margin" writes with out=, which has no batching
        # rule ("the fallback path doesn't work on out= or view ops").
        if torch._C._are_functorch_transforms_active():
            return None
        if torch.is_grad_enabled():
            for operand in operands:
                if operand.requires_grad:
                    return None
    return _TORCH_ELEMENTWISE[name]()


def native_mean(xp: Any, loss: Any) -> Any:
    """Fast path: ``torch.mean(loss)`` for a CPU torch tensor of float32 or float64 that
    needs no gradient, or None (the caller then computes ``sum(loss) / size``).

    The same bits: ATen's CPU mean *is* ``at::sum_out(...).div_(numel)``
    (aten/src/ATen/native/ReduceOps.cpp, ``TORCH_IMPL_FUNC(mean_out)``; checked to the
    bit against ``sum / numel`` at 36 sizes from 1 to 10^7, 1-d and 2-d, float32 and
    float64, one and two threads; tests/test_fast_paths.py checks a few). Not on other
    devices, where ``mean_stub`` is a reduction of its own, nor under ``torch.compile``.
    Not with a gradient wanted: mean's backward materializes ``g / numel`` as a
    full-size block, where the division's backward is 0-d and the sum's an expanded
    view; at N = 1e7 that added one input's bytes to the peak memory of
    binary_cross_entropy (3.5x -> 4.5x), poisson_nll_loss (3x -> 4x) and
    margin_ranking_loss (2.24x -> 3.24x) with the backward (the benchmark of
    2026-12-05, 18:16 UTC).

    Why: dividing the 0-d sum by a Python integer wraps the integer into a tensor at
    each call, 2.6 us; ATen's mean does the division in C++. 'mean' at N = 1 went from
    4.1-4.4 us to 3.4 us, a sixth of a plain call of soft_margin_loss (13.5 us, where
    PyTorch's whole loss takes 6.6).
    """
    if not _fast_paths_enabled or not _is_torch_namespace(xp) or not loss.is_cpu:
        return None
    torch = sys.modules["torch"]
    dtype = loss.dtype
    if (
        (dtype is not torch.float32 and dtype is not torch.float64)
        or (loss.requires_grad and torch.is_grad_enabled())
        or torch.compiler.is_compiling()
    ):
        return None
    return torch.mean(loss)


# PyTorch's own kernels that arrayloss may hand a loss to, once arrayloss's checks have
# passed: the name of the torch.nn.functional function, for each loss. A loss asks for
# its kernel with native_kernel(ctx, name); None means "compute it yourself".
#
# Why: on eager torch tensors a composed log-softmax, gather and weighted mean costs
# about 15 to 25 operator dispatches and as many temporaries (plus their autograd
# records), against ATen's single fused kernel. Measured on the 2-core development
# machine: see the docstring of native_kernel. Both paths are conformance-checked against
# PyTorch (the generic one with ``python -m conformance --generic``).
_TORCH_NATIVE = {
    "cross_entropy": "cross_entropy",
    "nll_loss": "nll_loss",
    "binary_cross_entropy_with_logits": "binary_cross_entropy_with_logits",
    "l1_loss": "l1_loss",
    "mse_loss": "mse_loss",
    "huber_loss": "huber_loss",
    "smooth_l1_loss": "smooth_l1_loss",
}


def native_kernel(
    ctx: ArrayContext, loss: str, dtype: Any, *weights: Any
) -> Callable[..., Any] | None:
    """Fast path: the backend's own kernel for ``loss``, to call with PyTorch's
    arguments after arrayloss's validation, or None (compute the generic definition).

    Only PyTorch has them, for the losses of ``_TORCH_NATIVE``: those whose composed
    forms fell furthest behind ATen's fused kernels (cross_entropy and nll_loss 2.2x to
    5.2x PyTorch's time at N x C >= 4M, and 3.6x to 5x with the backward; huber and
    smooth_l1 2.7x to 3.9x; the gains this path measured are in docs/performance.md),
    and whose arrayloss semantics are PyTorch's own. Not soft_margin_loss, whose
    arrayloss form is stable where ATen's overflows, nor the losses where the generic
    form is as fast. The loss decides when its arguments fit the kernel (without a
    per-element ``weight``, say); off with :func:`fast_paths` ``(False)``.

    ``dtype`` is the input's: only float32 and float64 go native. In float16 and
    bfloat16 arrayloss computes in float32 and rounds once; PyTorch's CPU kernels do not
    always (cross_entropy of float16 logits of +-1e4 with class probabilities gives inf
    there, 16160 here, as in float64).

    ``weights`` are the loss's weight arguments (or None): ATen's kernels refuse a
    weight that requires a gradient ("not differentiable with respect to argument
    'weight'"); arrayloss differentiates it, so such a call stays generic.

    Not under ``torch.compile`` either: Inductor fuses the generic definition itself,
    and there arrayloss's value checks are skipped as documented (ATen's kernel would
    raise for an out-of-range class index from inside the compiled graph).
    """
    if not _fast_paths_enabled or not _is_torch_namespace(ctx.xp) or torch_is_compiling():
        return None
    torch = sys.modules["torch"]
    if dtype not in (torch.float32, torch.float64):
        return None
    if any(w is not None and w.requires_grad for w in weights):
        return None
    name = _TORCH_NATIVE.get(loss)
    if name is None:
        return None
    if name in _TORCH_ATEN_BINDING:
        return _aten_binding(name)
    return getattr(sys.modules["torch"].nn.functional, name)  # type: ignore[no-any-return]


def plain_torch_kernel(
    loss: str, reduction: str, input: Any, target: Any
) -> Callable[..., Any] | None:
    """Fast path: :func:`native_kernel`'s kernel for ``loss`` (one of
    ``_PLAIN_TORCH_LOSSES``), at once, for a call every arrayloss check would pass and
    leave unchanged, or None (the loss then runs its checks).

    Such a call: ``input`` and ``target`` both exactly ``torch.Tensor``, of one dtype
    (float32 or float64), one shape and one device; ``reduction`` one of 'none', 'mean',
    'sum'; outside ``torch.compile``; fast paths on. The loss asks only when its other
    arguments are at their defaults (the legacy ``size_average`` and ``reduce``, the
    weights, arrayloss's own options). Then the namespace and device checks pass, the
    dtypes are floating and need no promotion, the shapes need no broadcast (and give no
    size warning), and autocast changes nothing (it casts float16 and bfloat16 only,
    and refuses none of these losses); the kernel is the one the full path would take.

    Why: those checks cost about 7 us of mse_loss's 14 us a call at N = 1, against
    4.4 us for its ATen binding, and at N = 1e5 they were most of what kept the
    regression losses above torch's time (1.21x-1.36x).

    ``hinge_embedding_loss`` (``kernel(input, target, margin, reduction=...)``): ATen's
    is the composed form's formula, operation for operation (Loss.cpp:
    ``where(y != 1, clamp_min(margin - x, 0), 0) + where(y != -1, x, 0)``, built of
    differentiable ATen operations), so the same values and gradients; in C++ the nine
    operations cost 12.7 us a call at N = 1 where the composed form's Python calls
    cost 26.7 us. Only up to ``_PLAIN_TORCH_MAX_ELEMENTS`` elements: from about 10^5
    the two take the same time, and ATen's form holds one more full-size block (peak
    forward memory at N = 1e7: 5x one input against the composed form's 4x).
    """
    if loss not in _PLAIN_TORCH_LOSSES or _plain_torch_arrays(reduction, input, (target,)) is None:
        return None
    most = _PLAIN_TORCH_MAX_ELEMENTS.get(loss)
    if most is not None and input.numel() > most:
        return None
    return _aten_binding(loss)


# The plain-call lanes of plain_torch_kernel that stop at a size (its note says why).
_PLAIN_TORCH_MAX_ELEMENTS = {"hinge_embedding_loss": 1 << 16}


def plain_torch_binary_cross_entropy(reduction: str, input: Any, target: Any) -> Any:
    """Fast path: binary_cross_entropy's value by ATen's kernel at once, or None (the
    loss then runs its full path), for a plain call on the CPU (as
    :func:`plain_torch_kernel`'s, with N > 0) where neither tensor needs a gradient.

    ATen's CPU kernel checks that every probability lies in [0, 1] (NaN fails) and
    raises ``RuntimeError``; PyTorch does not check the target, which arrayloss does:
    here with one ``aminmax``. If either is out of range the full path runs and raises
    arrayloss's error. Not on CUDA, whose kernel asserts on the device (the process's
    CUDA context ends). Not with a gradient: ATen's backward divides by
    ``max(p (1 - p), 1e-12)`` where arrayloss's is the composed form's (finite and exact
    at p = 0 and 1), which the full path keeps. The forward is ATen's: within rounding of
    the composed form for soft targets and for p near 0 or 1 (``log1p(-p)`` against the
    composed ``log(1 - p)``).

    Why: the [0, 1] checks of the full path are four reductions and four reads, most of
    its 47 us a call at N = 1 (torch: 6.2 us). Only up to ``_BCE_LANE_MAX_ELEMENTS``:
    ATen's kernel is about 3x slower per element than the full path's in-place ``lerp``
    form (N = 1e5: 1.45 ms against 0.48 ms; 1e7: 148 against 104 ms); they cross near
    8,000 elements (measured, other jobs running).
    """
    torch = _plain_torch_arrays(reduction, input, (target,))
    if (
        torch is None
        or not input.is_cpu
        or (torch.is_grad_enabled() and (input.requires_grad or target.requires_grad))
        or not 0 < input.numel() <= _BCE_LANE_MAX_ELEMENTS  # (aminmax of nothing raises)
    ):
        return None
    lowest, highest = torch.aminmax(target)
    if not (float(lowest) >= 0 and float(highest) <= 1):  # NaN fails too
        return None
    try:
        return _aten_binding("binary_cross_entropy")(input, target, None, reduction=reduction)
    except RuntimeError:  # "all elements of input should be between 0 and 1"
        return None


_BCE_LANE_MAX_ELEMENTS = 4096


def plain_torch_embedding_kernel(
    loss: str, reduction: str, *inputs: Any, samples: Any = None
) -> Callable[..., Any] | None:
    """As :func:`plain_torch_kernel`, for cosine_embedding_loss and the triplet losses:
    ATen's kernel (``torch.cosine_embedding_loss``, ``torch.triplet_margin_loss``) for
    ``inputs`` of one float32 or float64 dtype, one shape (N, D) with N, D > 0 and one
    device, and ``samples`` (cosine_embedding_loss's target), if given, of that dtype,
    device and shape (N,). The loss asks with its options valid (a positive margin, the
    triplet's p = 2) and the others at their defaults.

    ATen's kernels are the formulas that arrayloss's composed forms follow operation for
    operation (Loss.cpp: the EPSILON of the cosine's magnitudes; ``pairwise_distance``'s
    ``norm(x1 - x2 + eps)``), composed in C++.

    Why: those are 10 to 20 operations, each a Python call on the composed path:
    cosine_embedding_loss took 73 us a call at N = 1 (torch: 27 us), triplet_margin_loss
    77 us (torch: 16 us), of which the composed forms alone were 54 and 55 us.
    """
    if loss not in _PLAIN_EMBEDDING_LOSSES:
        return None
    first, *others = inputs
    torch = _plain_torch_arrays(reduction, first, others)
    if torch is None or first.ndim != 2 or 0 in first.shape:
        return None
    if samples is not None and (
        type(samples) is not torch.Tensor
        or samples.dtype is not first.dtype
        or samples.shape != first.shape[:1]
        or samples.device != first.device
    ):
        return None
    return _aten_binding(loss)


def _plain_torch_arrays(
    reduction: object, input: Any, others: Any, reductions: Any = None
) -> ModuleType | None:
    """The torch module, for the plain-call lanes' shared conditions: fast paths on,
    ``reduction`` one of the three (or of ``reductions``), ``input`` and each of
    ``others`` exactly ``torch.Tensor`` of one float32 or float64 dtype, one shape and
    one device, outside ``torch.compile``; else None."""
    torch = _plain_torch(reduction, input, input, reductions)
    if torch is None:
        return None
    dtype = input.dtype
    if (dtype is not torch.float32 and dtype is not torch.float64) or torch.compiler.is_compiling():
        return None
    tensor = torch.Tensor
    shape = input.shape
    device = input.device
    for other in others:
        if (
            type(other) is not tensor
            or other.dtype is not dtype
            or other.shape != shape
            or other.device != device
        ):
            return None
    return torch  # type: ignore[no-any-return]


def plain_torch_class_index_kernel(
    loss: str, reduction: str, input: Any, target: Any
) -> Callable[..., Any] | None:
    """As :func:`plain_torch_kernel`, for nll_loss, cross_entropy, multi_margin_loss and
    multilabel_margin_loss on class indices: ``input`` exactly a float32 or float64
    ``torch.Tensor`` of shape (N, C, d1, ...) ((N, C) with N, C > 0 for the margin
    losses), ``target`` exactly an int64 ``torch.Tensor`` of shape (N, d1, ...)
    (multilabel_margin_loss: (N, C)), both on the CPU, where ATen's kernel checks every
    index itself (:func:`kernel_checks_class_indices`; the margin losses' kernels raise
    ``RuntimeError``: "target out of range", "argument #2 'target' is out of range",
    the padding after a -1 included); the loss runs its full path, and raises its own
    error, if the kernel raises.

    Why: arrayloss's checks cost about 10 us of nll_loss's 12.6 us a call at N = 1
    (torch: 1.8 us); at 4096 x 1000 they kept nll_loss at 2.1x torch's time.
    multi_margin_loss's call at N = 1 took 118 us (torch: 2.0 us), multilabel_margin_loss's
    193 us (torch: 2.9 us): their checks and the composed forms' 20 to 40 small
    operations. Its kernel sums each sample in double where
    the composed form sums in the input's dtype: the lane gives PyTorch's value to the
    bit, the full path within rounding of it.
    """
    torch = _plain_torch(reduction, input, target)
    if torch is None:
        return None
    dtype = input.dtype
    if (
        (dtype is not torch.float32 and dtype is not torch.float64)
        or target.dtype is not torch.int64
        or not input.is_cpu  # (is_cpu: a tenth of the cost of device.type)
        or not target.is_cpu
        or torch.compiler.is_compiling()
    ):
        return None
    ndim = input.ndim
    if loss == "multilabel_margin_loss":
        # (N, C) and a row of class indices (padded with -1) per sample.
        if ndim != 2 or target.shape != input.shape:
            return None
    elif ndim == 2:  # (N, C) and (N,), the common case, without building a shape
        if target.ndim != 1 or target.shape[0] != input.shape[0]:
            return None
    elif ndim < 2 or target.shape != input.shape[:1] + input.shape[2:]:
        return None
    if loss in _PLAIN_MARGIN_LOSSES:
        # (N, C) only, with samples and classes: ATen's 'mean' over no sample reads
        # uninitialized memory (PyTorch 2.13 gave 3.8e9 and -6.3e-39), and C = 0 is
        # arrayloss's error.
        if ndim != 2 or 0 in input.shape:
            return None
        return _aten_binding(loss)
    # nll_loss and cross_entropy: their lane's binding, built once (beside the full
    # path's, under its own key).
    kernel = _torch_aten_kernels.get((loss, "lane"))
    if kernel is None:
        if loss not in _PLAIN_CLASS_INDEX_LOSSES:
            return None
        kernel = _torch_aten_kernels[loss, "lane"] = _torch_class_index_lane_binding(loss)
    return kernel


def plain_torch_linear_cross_entropy(
    reduction: str,
    input: Any,
    linear_weight: Any,
    target: Any,
    linear_bias: Any,
    max_logits: int,
) -> Callable[..., Any] | None:
    """Fast path: for ``linear_cross_entropy`` of plain tensors whose logits are small,
    PyTorch's own definition at once (``linear``, then ATen's ``cross_entropy``), as
    ``kernel(input, linear_weight, linear_bias, target, reduction, ignore_index,
    label_smoothing)``;
    or None.

    Such a call: ``input`` (N, D) and ``target`` (N,) as :func:`plain_torch_class_index_kernel`
    takes them for cross_entropy (float32 or float64, int64 targets, the CPU, fast paths
    on, outside ``torch.compile`` and torch.func transforms); ``linear_weight`` (C, D) and
    ``linear_bias`` (C,) or None, exactly ``torch.Tensor`` of ``input``'s dtype and
    device; N, C > 0; not under ``torch.autocast``; and at most ``max_logits`` logits
    (N x C), which the full path would compute as one block anyway: the lane holds no
    more memory than it. The loss passes its other arguments at their defaults only.
    ATen's cross_entropy checks every class index (``IndexError``: the full path then
    raises arrayloss's error).

    Why: the fused, chunked form is tens of operations and its checks: 245 us a call at
    N = 1 (1 x 100 features, 1,000 classes), where PyTorch's linear_cross_entropy takes
    10.5 us (the benchmark of 2026-12-05, 12:04 UTC). The lane gives PyTorch's reference
    values and gradients to the bit; the full path's online log-sum-exp agrees with them
    within rounding.
    """
    if plain_torch_class_index_kernel("cross_entropy", reduction, input, target) is None:
        return None
    torch = sys.modules["torch"]
    tensor = torch.Tensor
    dtype = input.dtype
    if (
        input.ndim != 2
        or type(linear_weight) is not tensor
        or linear_weight.ndim != 2
        or linear_weight.dtype is not dtype
        or not linear_weight.is_cpu
        or linear_weight.shape[1] != input.shape[1]
        or not 0 < input.shape[0] * linear_weight.shape[0] <= max_logits
        or torch.is_autocast_enabled("cpu")
    ):
        return None
    if linear_bias is not None and (
        type(linear_bias) is not tensor
        or linear_bias.dtype is not dtype
        or not linear_bias.is_cpu
        or linear_bias.shape != linear_weight.shape[:1]
    ):
        return None
    return _torch_linear_cross_entropy


def _torch_linear_cross_entropy(
    input: Any,
    linear_weight: Any,
    linear_bias: Any,
    target: Any,
    reduction: str,
    ignore_index: int,
    label_smoothing: float,
) -> Any:
    # PyTorch's reference definition of F.linear_cross_entropy (what it computes without
    # chunking options): linear, then cross_entropy, each by its ATen binding.
    torch = sys.modules["torch"]
    logits = torch._C._nn.linear(input, linear_weight, linear_bias)
    return _aten_binding("cross_entropy")(
        logits, target, None, None, ignore_index, None, reduction, label_smoothing
    )


def plain_namespace(
    reduction: str, input: Any, *others: Any, reductions: Any = None
) -> ModuleType | None:
    """Fast path: array_api_compat's torch or NumPy namespace, at once, for a call of a
    composed loss that every arrayloss check would pass and leave unchanged, or None
    (the loss then runs its checks).

    Such a call: ``input`` and each of ``others`` exactly ``torch.Tensor`` (one device;
    outside ``torch.compile`` and torch.func transforms) or exactly ``numpy.ndarray``, of
    one dtype (float32 or float64) and one shape; ``reduction`` one of 'none', 'mean',
    'sum' (or of ``reductions``, a loss's own set); fast paths on. The loss asks only
    when its other arguments are at their defaults or need no array checks. Then the
    namespace and device checks pass, no dtype is promoted or cast (float32 and float64
    are their own compute dtype; autocast casts only float16 and bfloat16), no shape is
    broadcast, and the loss computes the same private kernel and reduction as its full
    path (``_reduction.reduce_plain_call``, which on NumPy also silences NumPy's
    floating-point warnings and returns a 0-d array, as the full path's context does):
    the same values and gradients.

    Why: the checks and the namespace lookup cost 12 to 25 us a call on torch at N = 1,
    where PyTorch's whole loss takes 6 to 14 us: soft_margin_loss 27 us against 7
    (3.9x), kl_div 37 against 10.5, poisson_nll_loss 22.5 against 6.8 (the benchmark of
    2026-12-05, 08:12 UTC). The kernels themselves take 5 to 9 us. On NumPy they were
    most of a call too: mse_loss 11.9 us, where NumPy by hand takes 5.1 us and the
    kernel and reduction about 3 us.
    """
    numpy = sys.modules.get("numpy")
    if numpy is not None and type(input) is numpy.ndarray:
        return _plain_numpy_namespace(reduction, input, others, reductions)
    if _plain_torch_arrays(reduction, input, others, reductions) is None:
        return None
    namespace = _TORCH_NAMESPACE
    if not namespace:
        namespace.append(array_api_compat.array_namespace(input))
    return namespace[0]


def _plain_numpy_namespace(
    reduction: object, input: Any, others: Any, reductions: Any
) -> ModuleType | None:
    """:func:`plain_namespace` for an ``input`` that is exactly ``numpy.ndarray``."""
    if not _fast_paths_enabled or type(reduction) is not str:
        return None
    if reduction not in (_TORCH_REDUCTION_ENUM if reductions is None else reductions):
        return None
    dtype = input.dtype
    # The native-endian float32 and float64 dtypes are singletons.
    floats = _NUMPY_FLOAT_DTYPES
    if not floats:
        numpy = sys.modules["numpy"]
        floats.extend((numpy.dtype("float32"), numpy.dtype("float64")))
    if dtype is not floats[0] and dtype is not floats[1]:
        return None
    ndarray = type(input)
    shape = input.shape
    for other in others:
        if type(other) is not ndarray or other.dtype is not dtype or other.shape != shape:
            return None
    namespace = _NUMPY_NAMESPACE
    if not namespace:
        namespace.append(array_api_compat.array_namespace(input))
    return namespace[0]


# NumPy's float32 and float64 dtypes, once NumPy is imported (arrayloss does not import
# it); array_api_compat's NumPy namespace, once looked up.
_NUMPY_FLOAT_DTYPES: list[Any] = []
_NUMPY_NAMESPACE: list[ModuleType] = []


# array_api_compat's torch namespace, once looked up (a list: no global statement).
_TORCH_NAMESPACE: list[ModuleType] = []


def _plain_torch(reduction: object, input: Any, target: Any, reductions: Any = None) -> Any:
    """The torch module, when fast paths are on, ``reduction`` is one of the three (or
    of ``reductions``) and ``input`` and ``target`` are both exactly ``torch.Tensor``;
    else None; also None under a torch.func transform (vmap, grad, ...). The part of a
    plain call that the plain-call lanes share.

    Why not under a transform: ATen's triplet_margin_loss has no vmap batching rule
    (torch.func.vmap warns of "a performance drop" and loops), where the composed form
    batches; the full path is the tested road there."""
    if not _fast_paths_enabled or type(reduction) is not str:
        return None
    if reduction not in (_TORCH_REDUCTION_ENUM if reductions is None else reductions):
        return None
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    tensor = torch.Tensor
    if type(input) is not tensor or type(target) is not tensor:
        return None
    if torch._C._are_functorch_transforms_active():
        return None
    return torch


def _aten_binding(name: str) -> Callable[..., Any]:
    """The kernel of ``_TORCH_ATEN_BINDING`` for ``name``, built once."""
    kernel = _torch_aten_kernels.get(name)
    if kernel is None:
        kernel = _torch_aten_kernels[name] = _TORCH_ATEN_BINDING[name](name)
    return kernel


def kernel_checks_class_indices(ctx: ArrayContext) -> bool:
    """Fast path: whether a native class-index kernel (:func:`native_kernel` of nll_loss
    or cross_entropy) checks every target itself, so that arrayloss's own range check
    need run only once the kernel has raised, to raise arrayloss's error instead.

    Why: the check is two reductions and two reads back to Python, about 7 us of
    nll_loss's 38 us at 4096 x 1000 on torch (torch: 13 us). ATen's CPU kernels raise
    ``IndexError`` ("Target 5 is out of bounds.") for any target outside [0, C) other
    than ``ignore_index``, before a result exists. Not on CUDA, whose kernels assert on
    the device, which ends the process's CUDA context: there arrayloss checks first.
    """
    return getattr(ctx.device, "type", None) == "cpu"


# The losses whose torch.nn.functional form (without mse's and l1's `weight`) is only a
# Python preamble around one ATen binding, which arrayloss calls directly.
#
# Why: the preamble (a __torch_function__ check, PyTorch's size warning or error, the
# legacy reduction arguments, a broadcast_tensors call) repeats what arrayloss has done
# already: its checks passed, and the fast path is taken only for arguments of one shape.
# Measured on the 2-core CPU at N = 1: F.mse_loss 7.8 us, its binding 4.5 us;
# F.binary_cross_entropy_with_logits 7.5 us, its binding 6.1 us. The binding is the same
# ATen kernel, so the values and gradient are PyTorch's to the bit. Subclasses of
# torch.Tensor still go through F, whose __torch_function__ dispatch names F's function.
_TORCH_REDUCTION_ENUM = {"none": 0, "mean": 1, "sum": 2}  # torch.nn._reduction.get_enum
_torch_aten_kernels: dict[Any, Callable[..., Any]] = {}


def _torch_pointwise_binding(name: str) -> Callable[..., Any]:
    """``F.<name>(input, target, reduction=..., <option>=...)`` (mse, l1, huber,
    smooth_l1) for an input and target of one shape: ``torch._C._nn.<name>`` when both
    are exactly ``torch.Tensor`` (F itself otherwise, or if the binding is not there)."""
    torch = sys.modules["torch"]
    functional: Callable[..., Any] = getattr(torch.nn.functional, name)
    bindings = getattr(torch._C, "_nn", None)
    binding = getattr(bindings, name, None)
    l1_binding = getattr(bindings, "l1_loss", None)
    if binding is None or l1_binding is None:
        return functional
    tensor = torch.Tensor

    def kernel(input: Any, target: Any, reduction: str = "mean", **option: Any) -> Any:
        if type(input) is not tensor or type(target) is not tensor:
            return functional(input, target, reduction=reduction, **option)
        enum = _TORCH_REDUCTION_ENUM[reduction]
        if not option:
            return binding(input, target, enum)
        (value,) = option.values()  # huber's delta, smooth_l1's beta
        if name == "smooth_l1_loss" and value == 0:
            return l1_binding(input, target, enum)  # as F.smooth_l1_loss does for beta 0
        return binding(input, target, enum, value)

    return kernel


def _torch_bce_with_logits_binding(name: str) -> Callable[..., Any]:
    """``F.binary_cross_entropy_with_logits(input, target, weight, reduction=...,
    pos_weight=...)`` for an input and target of one shape: ``torch.<name>`` when every
    array is exactly ``torch.Tensor`` (or None)."""
    torch = sys.modules["torch"]
    functional: Callable[..., Any] = getattr(torch.nn.functional, name)
    binding = getattr(torch, name, None)
    if binding is None:
        return functional
    tensor = torch.Tensor

    def kernel(
        input: Any, target: Any, weight: Any = None, reduction: str = "mean", pos_weight: Any = None
    ) -> Any:
        for array in (input, target, weight, pos_weight):
            if array is not None and type(array) is not tensor:
                return functional(input, target, weight, reduction=reduction, pos_weight=pos_weight)
        return binding(input, target, weight, pos_weight, _TORCH_REDUCTION_ENUM[reduction])

    return kernel


def _torch_class_index_binding(name: str) -> Callable[..., Any]:
    """``F.nll_loss`` and ``F.cross_entropy`` as arrayloss calls them (PyTorch's
    positional arguments, the legacy ``size_average`` and ``reduce`` None):
    ``torch._C._nn.nll_loss_nd`` and ``torch._C._nn.cross_entropy_loss``, F's own last
    step, when every array is exactly ``torch.Tensor`` (or None). Measured at N = 1:
    F.nll_loss's preamble about 2.5 us of its 6 us."""
    torch = sys.modules["torch"]
    functional: Callable[..., Any] = getattr(torch.nn.functional, name)
    binding = _class_index_aten_binding(name)
    if binding is None:
        return functional
    tensor = torch.Tensor

    def kernel(*arguments: Any) -> Any:
        input, target, weight, size_average, ignore_index, reduce, reduction, *smoothing = arguments
        if (
            type(input) is not tensor
            or type(target) is not tensor
            or (weight is not None and type(weight) is not tensor)
            or size_average is not None
            or reduce is not None
        ):
            return functional(*arguments)
        return binding(
            input, target, weight, _TORCH_REDUCTION_ENUM[reduction], ignore_index, *smoothing
        )

    return kernel


def _class_index_aten_binding(name: str) -> Callable[..., Any] | None:
    # F.nll_loss's and F.cross_entropy's last step: torch._C._nn.nll_loss_nd and
    # torch._C._nn.cross_entropy_loss (None if this torch lacks it).
    bindings = getattr(sys.modules["torch"]._C, "_nn", None)
    return getattr(bindings, "nll_loss_nd" if name == "nll_loss" else "cross_entropy_loss", None)


def _torch_class_index_lane_binding(name: str) -> Callable[..., Any]:
    """:func:`_torch_class_index_binding` for the plain-call lane's arguments, which
    :func:`plain_torch_class_index_kernel` and its caller have checked (tensors exactly
    ``torch.Tensor``, no ``weight``, the legacy arguments None): the binding at once,
    without the kernel's own checks of them. They cost 0.3 us of nll_loss's 3.9 us a
    call at N = 1 (torch: 1.8 us)."""
    binding = _class_index_aten_binding(name)
    if binding is None:
        return _torch_class_index_binding(name)  # F itself
    enum = _TORCH_REDUCTION_ENUM

    def kernel(
        input: Any,
        target: Any,
        weight: None,
        size_average: None,
        ignore_index: int,
        reduce: None,
        reduction: str,
        *smoothing: float,
    ) -> Any:
        return binding(input, target, None, enum[reduction], ignore_index, *smoothing)

    return kernel


def _torch_reduction_last_binding(name: str) -> Callable[..., Any]:
    """``F.<name>(*arguments, reduction=...)`` without the legacy arguments, as F's own
    last step: the ATen binding (``torch._C._nn.<name>``, else ``torch.<name>``) with
    PyTorch's reduction enum appended; F itself where there is no binding. For the
    plain-call lanes' tensors only (exactly ``torch.Tensor``): multi_margin_loss,
    multilabel_margin_loss, binary_cross_entropy (its weight passed as None),
    cosine_embedding_loss, triplet_margin_loss, hinge_embedding_loss."""
    torch = sys.modules["torch"]
    functional: Callable[..., Any] = getattr(torch.nn.functional, name)
    binding = getattr(getattr(torch._C, "_nn", None), name, None) or getattr(torch, name, None)

    def kernel(*arguments: Any, reduction: str) -> Any:
        if binding is None:
            return functional(*arguments, reduction=reduction)
        return binding(*arguments, _TORCH_REDUCTION_ENUM[reduction])

    return kernel


# The losses that plain_torch_embedding_kernel serves.
_PLAIN_EMBEDDING_LOSSES = frozenset({"cosine_embedding_loss", "triplet_margin_loss"})


# The losses that plain_torch_class_index_kernel serves.
_PLAIN_MARGIN_LOSSES = frozenset({"multi_margin_loss", "multilabel_margin_loss"})
_PLAIN_CLASS_INDEX_LOSSES = frozenset({"nll_loss", "cross_entropy", *_PLAIN_MARGIN_LOSSES})

# The losses that may take plain_torch_kernel's path (their kernel's arguments are the
# input, the target and the reduction, with a Python number at most).
_PLAIN_TORCH_LOSSES = frozenset(
    {
        "mse_loss",
        "l1_loss",
        "huber_loss",
        "smooth_l1_loss",
        "binary_cross_entropy_with_logits",
        "hinge_embedding_loss",
    }
)

_TORCH_ATEN_BINDING: dict[str, Callable[[str], Callable[..., Any]]] = {
    "nll_loss": _torch_class_index_binding,
    "cross_entropy": _torch_class_index_binding,
    "multi_margin_loss": _torch_reduction_last_binding,
    "multilabel_margin_loss": _torch_reduction_last_binding,
    "binary_cross_entropy": _torch_reduction_last_binding,
    "cosine_embedding_loss": _torch_reduction_last_binding,
    "triplet_margin_loss": _torch_reduction_last_binding,
    "hinge_embedding_loss": _torch_reduction_last_binding,
    "mse_loss": _torch_pointwise_binding,
    "l1_loss": _torch_pointwise_binding,
    "huber_loss": _torch_pointwise_binding,
    "smooth_l1_loss": _torch_pointwise_binding,
    "binary_cross_entropy_with_logits": _torch_bce_with_logits_binding,
}
