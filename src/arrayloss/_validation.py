"""Argument validation shared by every loss.

Static checks (shapes, dtype kinds, option values) always run. Value checks (ranges of
probabilities, class indices) run only on eager arrays: on JAX tracers and Dask arrays
they would force a computation or fail, so they are skipped there and the docstrings
say so.

Where PyTorch raises ``RuntimeError`` the errors here are those of ``_errors``: both the
natural Python type and ``RuntimeError``.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

import array_api_compat

from ._dispatch import (
    ArrayContext,
    array_size,
    defer_value_check,
    record_warning,
    remembered,
    stop_gradient,
    torch_is_compiling,
)
from ._errors import ArrayLossIndexError, ArrayLossTypeError, ArrayLossValueError

__all__ = [
    "ArrayLossTypeError",
    "ArrayLossValueError",
    "check_array",
    "check_broadcastable",
    "check_broadcasts_to",
    "check_dims",
    "check_floating",
    "check_in_unit_interval",
    "check_integer",
    "check_options_not_arrays",
    "check_same_dtype",
    "check_same_shape",
    "dtype_name",
    "promote_integers",
    "warn_at_caller",
]


def _shape(x: Any) -> tuple[int, ...]:
    # An array, or already a shape (a tuple: no stand-in object that torch.compile
    # would have to trace).
    return x if isinstance(x, tuple) else tuple(x.shape)


def dtype_name(dtype: Any) -> str:
    """'float32', not 'torch.float32' or 'array_api_strict.float32': for messages."""
    return str(dtype).rsplit(".", 1)[-1]


def check_array(name: str, x: Any, *, optional: bool = False) -> None:
    """``x`` must be an array (or None, if ``optional``).

    Dispatch ignores Python numbers (options such as ``margin`` may be numbers), so the
    arguments that must be arrays say so here, as PyTorch requires tensors for them.
    """
    if (x is None and optional) or array_api_compat.is_array_api_obj(x):
        return
    expected = "an array or None" if optional else "an array"
    raise TypeError(f"`{name}` must be {expected}; got {type(x).__name__}")


#: ``xp.isdtype(dtype, "real floating")`` for each (namespace, dtype) met. Why: NumPy's
#: ``isdtype`` costs about 0.9 us, asked twice or more per loss call.
_REAL_FLOATING: dict[tuple[Any, Any], bool] = {}


def is_real_floating(xp: Any, dtype: Any) -> bool:
    """``xp.isdtype(dtype, "real floating")``, remembered per namespace and dtype."""
    return remembered(_REAL_FLOATING, (xp, dtype), lambda: bool(xp.isdtype(dtype, "real floating")))


def check_floating(xp: Any, name: str, x: Any) -> None:
    """``x`` must be an array with a real floating-point dtype (PyTorch has no integer
    loss kernels); a Python number is named as such (``check_array``)."""
    check_array(name, x)
    if not is_real_floating(xp, x.dtype):
        raise ArrayLossTypeError(
            f"`{name}` must have a real floating-point dtype; got {dtype_name(x.dtype)}"
        )


def check_integer(xp: Any, name: str, x: Any, what: str = "") -> None:
    """``x`` must have an integer dtype (class indices, labels, lengths); ``what`` says
    what it holds, e.g. "of class indices" in "`target` of class indices must ..."."""
    if not xp.isdtype(x.dtype, "integral"):
        label = f"`{name}` {what}" if what else f"`{name}`"
        raise ArrayLossTypeError(f"{label} must have an integer dtype; got {dtype_name(x.dtype)}")


def promote_integers(xp: Any, beside: tuple[Any, ...] = (), **arrays: Any) -> tuple[Any, ...]:
    """``arrays`` in order, each integer one cast to the floating dtype of the others, as
    PyTorch's type promotion does (``int64`` beside ``float32`` computes in ``float32``).

    The floating dtype is the promotion of the real floating arrays among ``arrays`` and
    ``beside`` (arrays that take part but are never cast: an argument that PyTorch
    refuses as an integer, e.g. ``huber_loss``'s ``input``). Booleans, floating arrays,
    None and non-arrays are returned as they are; with no floating array at all nothing
    is cast, and the loss's own dtype check raises as before. The cast is an explicit
    ``astype`` (the array API standard leaves mixed integer/floating promotion
    undefined), so it works on every library, traced or lazy; gradients still flow to
    the floating arrays, which are untouched.
    """
    values = tuple(arrays.values())
    if _one_dtype(values, beside):
        # The common call (a float32 input and target): nothing to cast, whatever the
        # kind, found without the two passes of dtype-kind queries below (~1.5 us).
        return values
    candidates = [a for a in (*values, *beside) if array_api_compat.is_array_api_obj(a)]
    floating = [a for a in candidates if is_real_floating(xp, a.dtype)]
    if not floating or len(floating) == len(candidates):
        return values
    dtype = xp.result_type(*floating)
    return tuple(
        xp.astype(a, dtype, copy=False)
        if array_api_compat.is_array_api_obj(a) and xp.isdtype(a.dtype, "integral")
        else a
        for a in values
    )


def _one_dtype(values: tuple[Any, ...], beside: tuple[Any, ...]) -> bool:
    """True when every argument that is not None is an array of one and the same dtype."""
    dtype = None
    for value in (*values, *beside):
        if value is None:
            continue
        if not array_api_compat.is_array_api_obj(value):
            return False
        if dtype is None:
            dtype = value.dtype
        elif value.dtype != dtype:
            return False
    return True


def check_same_dtype(name: str, x: Any, reference_name: str, reference: Any) -> None:
    """``x`` must have exactly the dtype of ``reference`` (PyTorch's BCE kernel demands it)."""
    if x.dtype != reference.dtype:
        raise ArrayLossTypeError(
            f"`{name}` must have the dtype of `{reference_name}` "
            f"({dtype_name(reference.dtype)}); got {dtype_name(x.dtype)}"
        )


def check_same_shape(name: str, x: Any, reference_name: str, reference: Any) -> None:
    """``x`` must have exactly the shape of ``reference`` (no broadcasting)."""
    if _shape(x) != _shape(reference):
        # ArrayLossValueError: a ValueError and a RuntimeError, as PyTorch raises either.
        raise ArrayLossValueError(
            f"`{name}` must have the shape of `{reference_name}` {_shape(reference)}; "
            f"got {_shape(x)}"
        )


def check_broadcastable(name: str, x: Any, other_name: str, other: Any) -> tuple[int, ...]:
    """``x`` and ``other`` (arrays or shapes) must broadcast together; return the
    broadcast shape."""
    x_shape, other_shape = _shape(x), _shape(other)
    if x_shape == other_shape:
        return x_shape  # the common case, without the loop (a few microseconds a call)
    shape = []
    for i in range(1, max(len(x_shape), len(other_shape)) + 1):
        n = x_shape[-i] if i <= len(x_shape) else 1
        m = other_shape[-i] if i <= len(other_shape) else 1
        if n != m and 1 not in (n, m):
            # PyTorch: RuntimeError ("The size of tensor a must match ..."); ours is both.
            raise ArrayLossValueError(
                f"`{name}` of shape {x_shape} does not broadcast with `{other_name}` of "
                f"shape {other_shape}"
            )
        shape.append(max(n, m) if 0 not in (n, m) else 0)
    return tuple(reversed(shape))


def broadcast_shape(**arrays: Any) -> tuple[int, ...]:
    """The broadcast shape of the named arrays (or shapes), in order; the first pair that
    does not broadcast raises ``ArrayLossValueError`` naming both sides, e.g.
    "`var` of shape (3,) does not broadcast with `input` and `target` of shape (2, 4)"."""
    names = list(arrays)
    shape = _shape(arrays[names[0]])
    so_far = f"{names[0]}"
    for name in names[1:]:
        shape = check_broadcastable(name, arrays[name], so_far, shape)
        so_far = f"{so_far}` and `{name}"
    return shape


def check_broadcasts_to(name: str, x: Any, shape: tuple[int, ...]) -> None:
    """``x`` must broadcast to ``shape`` without enlarging it.

    PyTorch applies weights in place on the loss, so a weight that would enlarge the
    result is an error there ("output with shape [...] doesn't match the broadcast
    shape [...]"), not a bigger result.
    """
    x_shape = _shape(x)
    fits = len(x_shape) <= len(shape) and all(
        n == m or n == 1 for n, m in zip(reversed(x_shape), reversed(shape), strict=False)
    )
    if not fits:
        raise ArrayLossValueError(
            f"`{name}` of shape {x_shape} must broadcast to the input's shape {shape}"
        )


def check_in_unit_interval(ctx: ArrayContext, name: str, x: Any, where: Any = None) -> None:
    """On eager arrays, every element of ``x`` must lie in [0, 1] (NaN does not).

    ``where``, a boolean array of ``x``'s shape, limits the check to the elements where
    it is true (the others, e.g. those of an ``ignore_index``, may hold anything).
    Skipped on traced and lazy arrays (JAX under ``jit``/``vmap``/``grad``, Dask,
    ``torch.compile``), where reading values is impossible or would force a compute;
    deferred to the end of the call in an auto-jitted JAX call (``defer_value_check``).
    """
    if array_size(x) == 0:
        return
    if not ctx.eager:
        if where is None:
            defer_value_check(ctx, lambda: ~((x >= 0) & (x <= 1)))
        else:
            defer_value_check(ctx, lambda: where & ~((x >= 0) & (x <= 1)))
        return
    xp = ctx.xp
    if where is None:
        # The smallest and largest element, not (x >= 0) & (x <= 1): two reductions
        # instead of three full-size masks and a third reduction (BCE at N = 1 on torch
        # 7 -> 4.5 us a check; at N = 1e7 no 10 MB temporaries). NaN propagates through
        # min and max (the standard says so), and NaN >= 0 is false: it fails too.
        # Detached: torch warns when a tensor that requires grad becomes a float.
        x = stop_gradient(xp, x)
        lowest, highest = float(xp.min(x)), float(xp.max(x))
        if lowest >= 0 and highest <= 1:
            return
    else:
        if bool(xp.all(((x >= 0) & (x <= 1)) | ~where)):
            return
        x = stop_gradient(xp, x)[where]  # eager only: boolean indexing's shape is data's
    if bool(xp.any(xp.isnan(x))):
        got = "got NaN"
    else:
        got = f"got values from {float(xp.min(x))!r} to {float(xp.max(x))!r}"
    raise ArrayLossValueError(f"all elements of `{name}` must lie between 0 and 1; {got}")


def check_options_not_arrays(cls_name: str, **options: object) -> None:
    """Reject arrays passed where a class constructor expects options.

    ``BCEWithLogitsLoss(output, target)`` is a common mistake: PyTorch reads ``target``
    as ``size_average`` and fails with "Boolean value of Tensor ... is ambiguous".
    """
    for name, value in options.items():
        if value is not None and array_api_compat.is_array_api_obj(value):
            raise TypeError(
                f"{cls_name}() got an array for `{name}`: a loss class takes its options "
                f"when constructed and its arrays when called; write "
                f"{cls_name}(...)(input, target), not {cls_name}(input, target)"
            )


def check_arrays_or_none(cls_name: str, **arrays: object) -> None:
    """Reject a non-array where a class constructor expects an array (``weight``,
    ``pos_weight``), when it is constructed rather than on its first call.

    Why: options passed by position in another framework's order
    (MindSpore's ``BCEWithLogitsLoss('mean', None, None)``) land in ``weight``; PyTorch
    keeps the string and fails later, and ``repr`` of such a loss would fail too.
    """
    for name, value in arrays.items():
        if value is not None and not array_api_compat.is_array_api_obj(value):
            raise TypeError(
                f"{cls_name}() expects an array or None for `{name}`; got "
                f"{type(value).__name__} {value!r}. Its arguments follow PyTorch's order: "
                f"pass options by keyword, e.g. {cls_name}(reduction='sum')"
            )


def is_python_number(value: object) -> bool:
    """Whether ``value`` is exactly a Python float or int (not a bool, nor a subclass or
    array that an option's check must look at): a condition of the plain-call lanes."""
    return type(value) is float or type(value) is int


def warn_at_caller(message: str, category: type[Warning]) -> None:
    """Warn with the stack level of the first frame outside arrayloss.

    Why not a fixed ``stacklevel``: the same helper is reached from functions and from
    class constructors at different depths; the warning must name the user's line.

    Not emitted while ``torch.compile`` traces: it cannot trace ``warnings.warn``
    (a graph break, an error with ``fullgraph=True``). The same call made eagerly warns.
    While a JAX kernel is traced for the auto-jit fast path the warning is recorded,
    and the fast path emits it at every call of the kernel.
    """
    if torch_is_compiling() or record_warning(message, category):
        return
    frame = sys._getframe(1)  # the caller of this function: stacklevel 2
    level = 2
    while frame is not None and frame.f_globals.get("__name__", "").startswith("arrayloss."):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    warnings.warn(message, category, stacklevel=level)


def check_dims(dim: object, ndim: int, array_name: str) -> tuple[int, ...]:
    """``dim`` (an int, a tuple of ints, or None for every axis) as non-negative axes of
    an array of ``ndim`` dimensions; each in ``[-ndim, ndim)``, as PyTorch's ``dim``.

    ``ArrayLossIndexError`` for an axis out of range (PyTorch: ``IndexError``
    "Dimension out of range"), ``TypeError`` for anything but ints; repeats are
    ``ValueError``.
    """
    if dim is None:
        return tuple(range(ndim))
    dims = dim if isinstance(dim, tuple) else (dim,)
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, int):
            raise TypeError(
                f"`dim` must be an int, a tuple of ints or None; got {type(d).__name__}"
            )
        if not -ndim <= d < ndim:
            shown = f"[{-ndim}, {ndim - 1}]" if ndim else "no axis at all"
            raise ArrayLossIndexError(
                f"`dim` must be in {shown} for `{array_name}` of {ndim} dimension"
                f"{'' if ndim == 1 else 's'}; got {d}"
            )
    axes = tuple(d % ndim for d in dims)
    if len(set(axes)) != len(axes):
        raise ValueError(f"`dim` must not repeat an axis; got {dim!r}")
    return axes
