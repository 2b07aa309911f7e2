"""Reductions shared by every loss, and PyTorch's legacy ``size_average``/``reduce``."""

from __future__ import annotations

from typing import Any, Literal

from ._dispatch import ArrayContext, array_size
from ._validation import warn_at_caller

__all__ = [
    "Empty",
    "Reduction",
    "apply_reduction",
    "legacy_reduction",
    "mean_of",
    "validate_empty",
    "validate_reduction",
]

Reduction = Literal["none", "mean", "sum"]
REDUCTIONS: tuple[str, ...] = ("none", "mean", "sum")

#: What 'mean' gives when nothing counts (an empty batch, every target ignored, weights
#: summing to 0): PyTorch's NaN (0 / 0, the default), or 0 (Keras's and TensorFlow's
#: ``divide_no_nan``), an opt-in that PyTorch lacks.
Empty = Literal["nan", "zero"]
EMPTY_OPTIONS: tuple[str, ...] = ("nan", "zero")


def validate_reduction(reduction: object, allowed: tuple[str, ...] = REDUCTIONS) -> str:
    """Return ``reduction`` if it is one of ``allowed`` ('none', 'mean', 'sum' unless a
    loss has more, like kl_div's 'batchmean'); raise otherwise.

    PyTorch's deprecated alias ``'elementwise_mean'`` is accepted as ``'mean'`` with a
    ``DeprecationWarning``, as PyTorch accepts it (with a warning).
    """
    if isinstance(reduction, str):
        if reduction in allowed:
            return reduction
        if reduction == "elementwise_mean":
            warn_at_caller(
                "reduction='elementwise_mean' is deprecated; use reduction='mean' instead.",
                DeprecationWarning,
            )
            return "mean"
    options = ", ".join(repr(r) for r in allowed)
    raise ValueError(f"`reduction` must be one of {options}; got {reduction!r}")


def validate_empty(empty: object) -> str:
    """Return ``empty`` if it is 'nan' or 'zero'; raise ``ValueError`` otherwise."""
    if isinstance(empty, str) and empty in EMPTY_OPTIONS:
        return empty
    options = ", ".join(repr(e) for e in EMPTY_OPTIONS)
    raise ValueError(f"`empty` must be one of {options}; got {empty!r}")


def mean_of(ctx: ArrayContext, total: Any, count: Any, empty: str = "nan") -> Any:
    """``total / count``, the 'mean' of every loss; where ``count`` is 0, NaN (PyTorch's
    0 / 0) or, with ``empty='zero'``, 0.

    ``count`` is an array or a Python number (a static element count). With 'zero' the
    division is by ``max(count, 1)`` under a ``where``, so that the gradient of an empty
    mean is 0 as well, not NaN (``where`` alone would pass NaN back through 0 / 0).
    """
    xp = ctx.xp
    if empty == "nan":
        return total / count
    if isinstance(count, (int, float)):
        return total / count if count != 0 else total * 0
    nonzero = count != 0
    safe = xp.where(nonzero, count, xp.ones_like(count))
    return xp.where(nonzero, total / safe, xp.zeros_like(total / safe))


def legacy_reduction(
    size_average: bool | None,
    reduce: bool | None,
    reduction: object,
    allowed: tuple[str, ...] = REDUCTIONS,
) -> str:
    """Map PyTorch's deprecated ``size_average``/``reduce`` onto ``reduction``.

    Exactly as ``torch.nn._reduction.legacy_get_string``: when either is given it
    overrides ``reduction``; a missing one counts as ``True``; ``reduce=False`` gives
    'none', ``size_average=False`` gives 'sum', otherwise 'mean'. A
    ``DeprecationWarning``, pointing at the user's call, names the equivalent
    ``reduction``.
    """
    if size_average is None and reduce is None:
        return validate_reduction(reduction, allowed)
    for name, flag in (("size_average", size_average), ("reduce", reduce)):
        if flag is not None and not isinstance(flag, (bool, int)):
            raise TypeError(f"`{name}` must be a bool or None; got {type(flag).__name__}")
    size_average = True if size_average is None else bool(size_average)
    reduce = True if reduce is None else bool(reduce)
    if not reduce:
        result = "none"
    elif size_average:
        result = "mean"
    else:
        result = "sum"
    warn_at_caller(
        f"size_average and reduce are deprecated, as in PyTorch; use reduction={result!r} instead.",
        DeprecationWarning,
    )
    return result


def apply_reduction(
    ctx: ArrayContext, loss: Any, reduction: str, dtype: Any = None, empty: str = "nan"
) -> Any:
    """Reduce an elementwise loss: 'none' keeps it, 'sum' and 'mean' give a 0-d array.

    The mean of zero elements is NaN, as in PyTorch (computed as sum / count so that no
    backend warns about an empty mean), or 0 with ``empty='zero'`` (:func:`mean_of`).
    ``dtype``, if given, is the dtype of the result;
    the reduction itself runs in the dtype of ``loss`` (float32 for half-precision inputs,
    which the losses upcast, as PyTorch accumulates them in float32).
    """
    xp = ctx.xp
    if reduction == "none":
        result = loss
    elif reduction == "sum":
        result = xp.sum(loss)
    elif reduction == "mean":
        result = mean_of(ctx, xp.sum(loss), array_size(loss), empty)
    else:  # pragma: no cover - callers validate first
        raise AssertionError(reduction)
    if dtype is not None and result.dtype != dtype:
        result = xp.astype(result, dtype, copy=False)
    return ctx.as_array(result)
