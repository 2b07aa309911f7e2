"""The dispatch layer: from a loss's array arguments to one array namespace and one device.

This is the only module of arrayloss that may know a backend by name. Every
backend-specific fast path or workaround lives here, named, with a comment saying why;
loss definitions see only the standard namespace ``xp`` returned by :func:`namespace_of`.

Nothing here imports an array library at module import time: a backend is looked up in
``sys.modules`` only once an array of it has been passed in, so ``import arrayloss``
stays framework-free.

Thread safety (reviewed for issue 6; tests/test_reliability.py calls every loss from 8
threads at once): the module holds no mutable state of its own. Its one cache,
``_scan_body`` (``functools.cache``, like ``_ctc._forward_step``), maps a function to a
wrapper; two threads missing it at once may each build one, and each is correct (JAX
may then trace the scan twice: time, not results). ``numpy.errstate`` is per thread
(NumPy 1.26: thread-local; NumPy 2: a context variable), ``torch.autocast``'s state is
per thread, and arrayloss never changes the ``warnings`` filters (process-wide state).
"""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import array_api_compat

from ._errors import ArrayLossTypeError, ArrayLossValueError

__all__ = [
    "ArrayContext",
    "array_size",
    "device_of",
    "namespace_of",
    "scan",
    "stop_gradient",
    "torch_is_compiling",
]

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

    @contextlib.contextmanager
    def quiet_floating_point(self) -> Iterator[None]:
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
        """
        numpy = sys.modules.get("numpy")
        xp = self.xp
        if (
            numpy is None
            or torch_is_compiling()
            or array_api_compat.is_torch_namespace(xp)
            or array_api_compat.is_jax_namespace(xp)
        ):
            yield
        else:
            with numpy.errstate(all="ignore"):
                yield

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
        if not array_api_compat.is_torch_namespace(self.xp):
            return arrays
        torch = sys.modules["torch"]
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
        half = (torch.float16, torch.bfloat16)
        return tuple(
            x.to(torch.float32)
            if isinstance(x, torch.Tensor) and x.dtype in half and x.device.type == device_type
            else x
            for x in arrays
        )


# The losses PyTorch refuses under torch.autocast, per device type (its autocast
# registrations, aten/src/ATen/autocast_mode.cpp: binary_cross_entropy_banned for CUDA;
# CPU autocast runs binary_cross_entropy in float32 like the other losses).
_AUTOCAST_UNSAFE: dict[str, frozenset[str]] = {"cuda": frozenset({"binary_cross_entropy"})}


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


def stop_gradient(ctx: ArrayContext, x: Any) -> Any:
    """``x``'s values, seen by autodiff as a constant (derivative 0).

    Why here: the array API standard has no way to stop a gradient, and
    ``gaussian_nll_loss`` needs one to clamp the variance as PyTorch does (the clamp
    happens under ``torch.no_grad()``, so the gradient passes through it as if it were
    the identity). Standard operations cannot express it: each one differentiates the
    function it computes, and those with derivative 0 (``floor``, ``sign``, comparisons)
    do not keep the values. PyTorch: ``x.detach()``; JAX: ``jax.lax.stop_gradient``
    (traced arrays included); the other libraries (NumPy, CuPy, Dask, array-api-strict)
    have no autodiff, so ``x`` itself.
    """
    if array_api_compat.is_torch_namespace(ctx.xp):
        return x.detach()
    if array_api_compat.is_jax_namespace(ctx.xp):
        return sys.modules["jax"].lax.stop_gradient(x)
    return x


@functools.cache
def _scan_body(step: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    # One wrapper per step function: JAX caches a scan's traced body by function.
    # Thread-safe: a concurrent miss builds an equivalent wrapper (see the module note).
    return lambda carry, x: (step(carry, x), None)


def scan(ctx: ArrayContext, step: Callable[[Any, Any], Any], init: Any, xs: tuple[Any, ...]) -> Any:
    """The final carry of ``carry = step(carry, tuple(x[t] for x in xs))`` for t along
    the first axis of the arrays ``xs`` (a recurrence over time, e.g. CTC's forward
    variables). ``init`` and the carry are an array or a tuple of arrays (a tuple may
    hold loop constants beside the state, so that they are chunked like it on Dask).

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
    for t in range(int(xs[0].shape[0])):
        carry = one_chunk(step(carry, tuple(x[t, ...] for x in xs)))
    return carry
