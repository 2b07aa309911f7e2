"""Reductions shared by every loss, and PyTorch's legacy ``size_average``/``reduce``."""

from __future__ import annotations

import sys
from typing import Any, Literal

from ._dispatch import ArrayContext, array_size, native_mean
from ._errors import ArrayLossValueError
from ._validation import warn_at_caller

__all__ = [
    "Empty",
    "Reduction",
    "apply_batchmean",
    "apply_reduction",
    "at_defaults",
    "check_sample_weight",
    "legacy_reduction",
    "mean_of",
    "reduce_plain",
    "sample_weight_kept",
    "validate_empty",
    "validate_reduction",
    "zero_unweighted_samples",
    "zero_where_unweighted",
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


def check_sample_weight(ctx: ArrayContext, sample_weight: Any, shape: tuple[int, ...]) -> None:
    """``sample_weight`` must be an array of the loss's library, of a bool, integer or
    real floating dtype, that broadcasts to ``shape`` (the shape of the loss's
    ``reduction='none'`` output) without enlarging it.

    Its values are not checked (no device synchronisation): negative weights are
    accepted, as in Keras and optax, and enter the weighted sum and the normalizer as
    they are.
    """
    xp = ctx.xp
    if not hasattr(sample_weight, "shape") or not hasattr(sample_weight, "dtype"):
        raise TypeError(
            f"`sample_weight` must be an array or None; got {type(sample_weight).__name__}"
        )
    dtype = sample_weight.dtype
    if not (
        dtype == xp.bool or xp.isdtype(dtype, "integral") or xp.isdtype(dtype, "real floating")
    ):
        raise TypeError(
            f"`sample_weight` must have a bool, integer or real floating dtype; got {dtype}"
        )
    got = tuple(sample_weight.shape)
    fits = len(got) <= len(shape) and all(
        n == m or n == 1 for n, m in zip(reversed(got), reversed(shape), strict=False)
    )
    if not fits:
        raise ArrayLossValueError(
            "`sample_weight` must broadcast to the shape of the loss's reduction='none' "
            f"output, {tuple(shape)}; got shape {got}"
        )


def sample_weight_kept(ctx: ArrayContext, sample_weight: Any, shape: tuple[int, ...]) -> Any:
    """None without a ``sample_weight``; else (validated against ``shape``, the 'none'
    output's) the bool mask, of that shape, of the elements whose weight is not 0.

    A loss computes its masked-out elements at a placeholder (:func:`zero_where_unweighted`)
    so that a NaN or inf there reaches neither the loss nor its gradient (the gradient of
    ``where`` is 0 at the unselected branch; ``0 * nan`` would not be).
    """
    if sample_weight is None:
        return None
    xp = ctx.xp
    check_sample_weight(ctx, sample_weight, shape)
    kept = sample_weight if sample_weight.dtype == xp.bool else sample_weight != 0
    if tuple(kept.shape) != tuple(shape):
        kept = xp.broadcast_to(kept, tuple(shape))
    return kept


def zero_where_unweighted(
    ctx: ArrayContext, x: Any, kept: Any, fill: float = 0.0, axis: int | None = None
) -> Any:
    """``x`` with ``fill`` where ``kept`` (:func:`sample_weight_kept`) is False; ``x``
    itself when ``kept`` is None. ``kept`` is the 'none' output's shape, a prefix of
    ``x``'s (a per-sample loss of an (N, C) input); ``axis`` inserts the axis the loss
    reduces over (cross_entropy's class axis 1)."""
    if kept is None or x is None:
        return x
    xp = ctx.xp
    if axis is not None and kept.ndim < x.ndim:
        kept = xp.expand_dims(kept, axis=axis)
    if kept.ndim < x.ndim:
        kept = xp.reshape(kept, tuple(kept.shape) + (1,) * (x.ndim - kept.ndim))
    return xp.where(kept, x, xp.asarray(fill, dtype=x.dtype, device=ctx.device))


def zero_unweighted_samples(
    ctx: ArrayContext, sample_weight: Any, shape: tuple[int, ...], *arrays: Any
) -> tuple[Any, ...]:
    """``arrays`` with 0 at the elements whose ``sample_weight`` is 0, for a loss whose
    'none' output has ``shape``: each array whose leading dimensions are ``shape`` (an
    (N, D) embedding of an (N,) loss) is masked along them; the others (broadcast ones)
    are returned as they are. Without a ``sample_weight``, ``arrays`` unchanged."""
    if sample_weight is None:
        return arrays
    kept = sample_weight_kept(ctx, sample_weight, shape)
    n = len(shape)
    return tuple(
        zero_where_unweighted(ctx, a, kept)
        if a is not None and tuple(a.shape[:n]) == tuple(shape)
        else a
        for a in arrays
    )


def _weigh(ctx: ArrayContext, loss: Any, sample_weight: Any) -> tuple[Any, Any, Any]:
    """``(loss * w, w, kept)`` with ``w`` broadcast to ``loss`` in its dtype and
    ``kept = w != 0``: exactly 0 where the weight is 0, whatever the loss holds there
    (NaN, inf), through a ``where`` (whose gradient there is 0)."""
    xp = ctx.xp
    check_sample_weight(ctx, sample_weight, tuple(loss.shape))
    w = sample_weight
    if tuple(w.shape) != tuple(loss.shape):
        w = xp.broadcast_to(w, tuple(loss.shape))
    kept = w if w.dtype == xp.bool else w != 0
    if w.dtype != loss.dtype:
        w = xp.astype(w, loss.dtype, copy=False)
    zero = xp.zeros_like(loss)
    return xp.where(kept, loss * w, zero), w, kept


def apply_reduction(
    ctx: ArrayContext,
    loss: Any,
    reduction: str,
    dtype: Any = None,
    empty: str = "nan",
    sample_weight: Any = None,
    count: Any = None,
) -> Any:
    """Reduce an elementwise loss: 'none' keeps it, 'sum' and 'mean' give a 0-d array.

    The mean of zero elements is NaN, as in PyTorch (computed as sum / count so that no
    backend warns about an empty mean), or 0 with ``empty='zero'`` (:func:`mean_of`).
    ``dtype``, if given, is the dtype of the result;
    the reduction itself runs in the dtype of ``loss`` (float32 for half-precision inputs,
    which the losses upcast, as PyTorch accumulates them in float32).

    ``count``, if given, is the loss's own normalizer per element (of ``loss``'s shape:
    the class weight of each target, a mask of the counted elements): 'mean' is then
    ``sum(loss) / sum(count)``.

    ``sample_weight`` (the losses' keyword of that name; validated by
    :func:`check_sample_weight` against ``loss``'s shape): 'none' gives ``loss * w``,
    'sum' ``sum(w * loss)`` and 'mean' the weighted mean ``sum(w * loss) / sum(w *
    count)`` (``count`` 1 without one); where ``w`` is 0 the weighted loss is exactly 0,
    also where ``loss`` is NaN or inf, and so is its gradient. A bool mask gives the
    mean over the selected elements (optax's ``where``). This is the one place where
    sample weights are applied.
    """
    xp = ctx.xp
    if sample_weight is not None:
        loss, w, kept = _weigh(ctx, loss, sample_weight)
        count = w if count is None else xp.where(kept, count * w, xp.zeros_like(loss))
    elif count is None and empty == "nan":
        result = reduce_plain(xp, loss, reduction)
        if dtype is not None and result.dtype != dtype:
            result = xp.astype(result, dtype, copy=False)
        return ctx.as_array(result)
    if reduction == "none":
        result = loss
    elif reduction == "sum":
        result = xp.sum(loss)
    elif reduction == "mean":
        total = xp.sum(loss)
        if count is None:
            result = mean_of(ctx, total, array_size(loss), empty)
        else:
            if count.dtype != total.dtype:
                count = xp.astype(count, total.dtype, copy=False)
            result = mean_of(ctx, total, xp.sum(count), empty)
    else:  # pragma: no cover - callers validate first
        raise AssertionError(reduction)
    if dtype is not None and result.dtype != dtype:
        result = xp.astype(result, dtype, copy=False)
    return ctx.as_array(result)


def reduce_plain(xp: Any, loss: Any, reduction: str) -> Any:
    """:func:`apply_reduction` without weights, counts or ``empty='zero'``: 'none'
    keeps ``loss``, 'sum' is ``sum(loss)``, 'mean' ``sum(loss) / loss.size`` (NaN for
    no elements, as PyTorch). What the full path computes in that case, and what the
    plain-call lanes (``_dispatch.plain_namespace``, :func:`reduce_plain_call`) compute."""
    if reduction == "none":
        return loss
    if reduction == "mean":
        mean = native_mean(xp, loss)  # the same bits (the fast path says why)
        if mean is not None:
            return mean
        return xp.sum(loss) / array_size(loss)
    if reduction == "sum":
        return xp.sum(loss)
    raise AssertionError(reduction)  # pragma: no cover - callers validate first


def reduce_plain_call(xp: Any, reduction: str | None, kernel: Any, *args: Any) -> Any:
    """The result of a plain-call lane (``_dispatch.plain_namespace``): the loss
    ``kernel(xp, *args)`` reduced by :func:`reduce_plain` (``reduction`` None: the
    kernel reduces itself). On NumPy, as the full path's context computes it: NumPy's
    floating-point warnings silenced (``ArrayContext.quiet_floating_point``) and a 0-d
    array where NumPy's reduction gives a NumPy scalar (``ArrayContext.as_array``)."""
    if xp.__name__ != "array_api_compat.numpy":
        loss = kernel(xp, *args)
        return loss if reduction is None else reduce_plain(xp, loss, reduction)
    numpy = sys.modules["numpy"]
    with numpy.errstate(all="ignore"):
        loss = kernel(xp, *args)
        if reduction is None or reduction == "none":
            return numpy.asarray(loss)
        # reduce_plain's sum: array-api-compat's NumPy sum is numpy.sum, a Python wrapper
        # around this reduction (the same pairwise sum, the same bits); 1.2 us a call.
        total = numpy.add.reduce(loss, axis=None)
        if reduction == "mean":
            total = total / loss.size
    return numpy.asarray(total)


def at_defaults(size_average: object, reduce: object, empty: object, sample_weight: object) -> bool:
    """Whether PyTorch's legacy arguments and arrayloss's own options of a loss are at
    their defaults (None, None, 'nan', None): a condition of the plain-call lanes."""
    return (
        size_average is None
        and reduce is None
        and sample_weight is None
        and type(empty) is str
        and empty == "nan"
    )


def apply_batchmean(
    ctx: ArrayContext,
    loss: Any,
    batch: int,
    dtype: Any = None,
    sample_weight: Any = None,
    empty: str = "nan",
) -> Any:
    """kl_div's 'batchmean': ``sum(loss) / batch`` (PyTorch's).

    With ``sample_weight``, the weighted mean of :func:`apply_reduction` times the
    number of elements per sample, ``sum(w l) / sum(w) * (loss.size / batch)``: with
    weights of 1 exactly the unweighted 'batchmean', and with a weight per sample
    (shape (N, 1, ..., 1)), or a mask of whole samples, the sum over the selected
    samples divided by their (weighted) number. A batch of 0 (or weights summing to
    0) gives NaN, or 0 with ``empty='zero'`` (:func:`mean_of`).
    """
    xp = ctx.xp
    if sample_weight is None:
        result = mean_of(ctx, xp.sum(loss), batch, empty)
    else:
        mean = apply_reduction(ctx, loss, "mean", empty=empty, sample_weight=sample_weight)
        result = mean * (array_size(loss) / batch) if batch else mean
    if dtype is not None and result.dtype != dtype:
        result = xp.astype(result, dtype, copy=False)
    return ctx.as_array(result)
