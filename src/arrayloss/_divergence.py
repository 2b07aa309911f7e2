"""Divergences between distributions: the Kullback-Leibler divergence.

Each public loss is a short front (namespace, legacy arguments, validation, reduction)
over a private kernel that computes the unreduced loss with ``xp`` only.
"""

from __future__ import annotations

from typing import Any

from ._dispatch import jax_auto_jit, namespace_of, native_elementwise, plain_namespace
from ._numerics import compute_dtype, xlogy
from ._reduction import (
    REDUCTIONS,
    apply_batchmean,
    apply_reduction,
    at_defaults,
    legacy_reduction,
    mean_of,
    reduce_plain,
    reduce_plain_call,
    sample_weight_kept,
    validate_empty,
    zero_where_unweighted,
)
from ._validation import check_broadcastable, check_floating, warn_at_caller

__all__ = ["kl_div"]

KL_DIV_REDUCTIONS = (*REDUCTIONS, "batchmean")

# PyTorch's warning for reduction='mean', word for word (torch/nn/functional.py).
_MEAN_WARNING = (
    "reduction: 'mean' divides the total loss by both the batch size and the support size."
    "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
    "'mean' will be changed to behave the same as 'batchmean' in the next major release."
)


def _kl_div_unreduced(xp: Any, input: Any, target: Any, log_target: bool) -> Any:
    # aten/src/ATen/native/Loss.cpp, kl_div:
    #   log_target: exp(target) * (target - input)
    #   otherwise:  xlogy(target, target) - target * input  (0 where target is 0)
    if log_target:
        return xp.exp(target) * (target - input)
    native = native_elementwise(xp, input.dtype, "kl_div_terms", input, target)
    if native is not None:
        return native(input, target)  # the same terms, one allocation (the fast path says why)
    return xlogy(xp, target, target) - target * input


def _plain_kl_div(xp: Any, input: Any, target: Any, reduction: str, log_target: bool) -> Any:
    # The full path below for a plain call (_dispatch.plain_namespace): the same
    # warning, kernel and reductions ('batchmean': apply_batchmean's sum / batch).
    if reduction == "mean":
        warn_at_caller(_MEAN_WARNING, UserWarning)
    loss = _kl_div_unreduced(xp, input, target, log_target)
    if reduction == "batchmean":
        return xp.sum(loss) / (input.shape[0] if input.ndim else 1)
    return reduce_plain(xp, loss, reduction)


@jax_auto_jit
def kl_div(
    input: Any,
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    log_target: bool = False,
    *,
    empty: str = "nan",
    sample_weight: Any | None = None,
) -> Any:
    r"""The Kullback-Leibler divergence of ``target`` from the log-probabilities ``input``.

    Mirrors :func:`torch.nn.functional.kl_div` (PyTorch 2.13).

    .. math::

        \ell_n = y_n \left(\log y_n - x_n\right)
        \quad\text{or, with log\_target,}\quad
        \ell_n = e^{y_n} \left(y_n - x_n\right)

    where :math:`x` holds log-probabilities and :math:`y` probabilities (log-probabilities
    with ``log_target=True``); a target of 0 contributes 0 (:math:`0 \log 0 = 0`, xlogy
    semantics), a negative target NaN, as in PyTorch. Reductions: 'none', 'sum',
    'mean' (the sum over all elements divided by their number, with PyTorch's
    ``UserWarning`` that this is not the mathematical KL divergence) and 'batchmean'
    (the sum divided by the batch size ``input.shape[0]``; the sum for 0-d input).

    Parameters
    ----------
    input : array of shape (*), real floating
        Log-probabilities.
    target : array broadcastable with ``input``, real floating
        Probabilities, or log-probabilities if ``log_target``.
    size_average, reduce : bool, optional
        Deprecated (``DeprecationWarning``); override ``reduction`` as in PyTorch,
        which, given ``reduction='batchmean'`` too, still divides their result by the
        batch size: so does arrayloss.
    reduction : {'none', 'mean', 'sum', 'batchmean'}, default 'mean'
    log_target : bool, default False
        Whether ``target`` holds log-probabilities.
    empty : {'nan', 'zero'}, default 'nan'
        Keyword-only, arrayloss's own: what 'mean' over nothing gives (an empty
        batch, or sample weights summing to 0): NaN, as PyTorch, or 0 with 'zero'
        (its gradient 0 as well). See docs/sample-weight.md.
    sample_weight : array, bool, integer or real floating, optional
        Keyword-only, arrayloss's own: a weight per element of the
        ``reduction='none'`` output, to whose shape it must broadcast. 'none' gives
        the weighted loss (exactly 0 where the weight is 0, even where the loss is NaN
        or inf), 'sum' the weighted sum, 'mean' the weighted mean (a bool mask: the
        mean over the selected elements). See docs/sample-weight.md.

    Returns
    -------
    array
        Of ``input``'s library and device, with the promoted dtype of ``input`` and
        ``target``: the broadcast shape for 'none', 0-d otherwise.

    Raises
    ------
    ValueError
        ``input`` and ``target`` do not broadcast; ``reduction`` is unknown.
    TypeError
        ``input`` or ``target`` is not floating; arrays of two libraries.

    Examples
    --------
    Closed form: :math:`\mathrm{KL}(y \,\|\, q) = \sum y \log(y / q)`.

    >>> import numpy as np
    >>> import arrayloss
    >>> q = np.array([[0.5, 0.25, 0.25]])
    >>> y = np.array([[0.25, 0.25, 0.5]])
    >>> kl = arrayloss.kl_div(np.log(q), y, reduction="batchmean")
    >>> bool(np.isclose(kl, np.sum(y * np.log(y / q))))
    True
    """
    if at_defaults(size_average, reduce, empty, sample_weight):
        plain_xp = plain_namespace(reduction, input, target, reductions=KL_DIV_REDUCTIONS)
        if plain_xp is not None:  # plain arrays: the checks below would all pass
            return reduce_plain_call(
                plain_xp, None, _plain_kl_div, input, target, reduction, log_target
            )
    empty = validate_empty(empty)
    ctx = namespace_of(input=input, target=target, sample_weight=sample_weight)
    # Under torch.autocast: half-precision tensors to float32, as PyTorch.
    input, target = ctx.autocast("kl_div", input, target)
    xp = ctx.xp
    legacy_batchmean = reduction == "batchmean" and (size_average, reduce) != (None, None)
    reduction = legacy_reduction(size_average, reduce, reduction, allowed=KL_DIV_REDUCTIONS)
    if reduction == "mean" and size_average is None and reduce is None:
        warn_at_caller(_MEAN_WARNING, UserWarning)
    check_floating(xp, "input", input)
    check_floating(xp, "target", target)
    shape = check_broadcastable("target", target, "input", input)

    result_dtype = xp.result_type(input, target)
    work_dtype = compute_dtype(xp, result_dtype)
    x = xp.astype(input, work_dtype, copy=False)
    if tuple(x.shape) == tuple(shape):
        # Elements of weight 0 computed at x = 0: their gradient is 0, not NaN.
        x = zero_where_unweighted(ctx, x, sample_weight_kept(ctx, sample_weight, shape))
    with ctx.quiet_floating_point():
        loss = _kl_div_unreduced(
            xp,
            x,
            xp.astype(target, work_dtype, copy=False),
            log_target,
        )
        if reduction == "batchmean":
            # PyTorch: the sum divided by the batch size (not divided for 0-d input).
            batch = input.shape[0] if input.ndim else 1
            return apply_batchmean(ctx, loss, batch, result_dtype, sample_weight, empty)
        result = apply_reduction(
            ctx, loss, reduction, dtype=result_dtype, empty=empty, sample_weight=sample_weight
        )
        if legacy_batchmean and input.ndim:
            # PyTorch divides by the batch size whenever reduction='batchmean' is passed,
            # also after size_average/reduce chose another reduction (found by the
            # fuzzer, conformance/fuzz.py).
            result = ctx.as_array(mean_of(ctx, result, input.shape[0], empty))
        return result
