"""Reductions shared by every loss, and PyTorch's legacy ``size_average``/``reduce``."""

from __future__ import annotations

from typing import Any, Literal

from ._dispatch import ArrayContext, array_size
from ._validation import warn_at_caller

__all__ = ["Reduction", "apply_reduction", "legacy_reduction", "validate_reduction"]

Reduction = Literal["none", "mean", "sum"]
REDUCTIONS: tuple[str, ...] = ("none", "mean", "sum")


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


def apply_reduction(ctx: ArrayContext, loss: Any, reduction: str, dtype: Any = None) -> Any:
    """Reduce an elementwise loss: 'none' keeps it, 'sum' and 'mean' give a 0-d array.

    The mean of zero elements is NaN, as in PyTorch (computed as sum / count so that no
    backend warns about an empty mean). ``dtype``, if given, is the dtype of the result;
    the reduction itself runs in the dtype of ``loss`` (float32 for half-precision inputs,
    which the losses upcast, as PyTorch accumulates them in float32).
    """
    xp = ctx.xp
    if reduction == "none":
        result = loss
    elif reduction == "sum":
        result = xp.sum(loss)
    elif reduction == "mean":
        result = xp.sum(loss) / array_size(loss)
    else:  # pragma: no cover - callers validate first
        raise AssertionError(reduction)
    if dtype is not None and result.dtype != dtype:
        result = xp.astype(result, dtype, copy=False)
    return ctx.as_array(result)
