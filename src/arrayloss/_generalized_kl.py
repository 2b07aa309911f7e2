"""The generalized KL divergence of optax, which PyTorch lacks:
generalized_kl_divergence and its older name convex_kl_divergence.

The elementwise term is :func:`arrayloss.kl_div`'s kernel (``xlogy(t, t) - t x``)
plus ``exp(x) - t``, so that unnormalized measures have a divergence too.
"""

from __future__ import annotations

from typing import Any

from ._dispatch import jax_auto_jit, namespace_of
from ._divergence import KL_DIV_REDUCTIONS, _kl_div_unreduced
from ._numerics import compute_dtype
from ._reduction import (
    apply_batchmean,
    apply_reduction,
    sample_weight_kept,
    validate_empty,
    validate_reduction,
    zero_where_unweighted,
)
from ._validation import check_array, check_broadcastable, check_floating, promote_integers

__all__ = ["convex_kl_divergence", "generalized_kl_divergence"]


@jax_auto_jit
def generalized_kl_divergence(
    input: Any,
    target: Any,
    reduction: str = "batchmean",
    *,
    empty: str = "nan",
    sample_weight: Any | None = None,
) -> Any:
    r"""The generalized (unnormalized) KL divergence from log-predictions to targets.

    Mirrors :func:`optax.losses.generalized_kl_divergence` (optax 0.2), elementwise and
    then reduced as :func:`arrayloss.kl_div`. With :math:`x` the log-predictions
    ``input`` and :math:`t` the ``target`` (non-negative, not necessarily normalized):

    .. math::

        \ell = t \, (\log t - x) + e^{x} - t

    with :math:`0 \log 0 = 0`. For normalized distributions the added terms sum to 0 and
    the result is :func:`arrayloss.kl_div`'s. optax sums over the last axis; arrayloss's
    default ``reduction='batchmean'`` (the sum divided by the batch size, axis 0) is the
    mean over the batch of optax's values for ``(N, C)`` inputs.

    Parameters
    ----------
    input : array of shape (*), real floating
        Log-predictions.
    target : array broadcastable with ``input``, real floating or integer (promoted)
        Non-negative targets.
    reduction : {'none', 'mean', 'sum', 'batchmean'}, default 'batchmean'
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
        The broadcast shape for 'none', 0-d otherwise; ``input``'s library, device and
        (promoted) dtype.

    Raises
    ------
    ValueError
        Shapes that do not broadcast; an unknown ``reduction``.
    TypeError
        ``input`` not real floating.

    Examples
    --------
    Closed form: at :math:`x = \log 2`, :math:`t = 1`: :math:`-\log 2 + 2 - 1`.

    >>> import numpy as np
    >>> import arrayloss
    >>> loss = arrayloss.generalized_kl_divergence(np.log([[2.0]]), np.array([[1.0]]))
    >>> bool(np.isclose(loss, 1.0 - np.log(2.0)))
    True
    """
    empty = validate_empty(empty)
    check_array("input", input)
    check_array("target", target)
    ctx = namespace_of(input=input, target=target, sample_weight=sample_weight)
    xp = ctx.xp
    (target,) = promote_integers(xp, (input,), target=target)
    reduction = validate_reduction(reduction, KL_DIV_REDUCTIONS)
    check_floating(xp, "input", input)
    check_floating(xp, "target", target)
    shape = check_broadcastable("target", target, "input", input)
    result_dtype = xp.result_type(input, target)
    work = compute_dtype(xp, result_dtype)
    x = xp.astype(input, work, copy=False)
    t = xp.astype(target, work, copy=False)
    if tuple(x.shape) == tuple(shape):
        # Elements of weight 0 computed at x = 0: their gradient is 0, not NaN.
        x = zero_where_unweighted(ctx, x, sample_weight_kept(ctx, sample_weight, shape))
    with ctx.quiet_floating_point():
        loss = _kl_div_unreduced(xp, x, t, False) + (xp.exp(x) - t)
        if reduction != "batchmean":
            return apply_reduction(
                ctx, loss, reduction, dtype=result_dtype, empty=empty, sample_weight=sample_weight
            )
        # As kl_div: the sum divided by the batch size (not divided for a 0-d loss).
        batch = loss.shape[0] if loss.ndim else 1
        return apply_batchmean(ctx, loss, batch, result_dtype, sample_weight, empty)


@jax_auto_jit
def convex_kl_divergence(
    input: Any,
    target: Any,
    reduction: str = "batchmean",
    *,
    empty: str = "nan",
    sample_weight: Any | None = None,
) -> Any:
    r"""The generalized KL divergence under optax's older name.

    Mirrors :func:`optax.losses.convex_kl_divergence`, which optax 0.2 keeps as a
    deprecated alias of ``generalized_kl_divergence``: the same value,

    .. math::

        \ell = t \, (\log t - x) + e^{x} - t

    See :func:`arrayloss.generalized_kl_divergence` for the shapes and parameters.

    Parameters
    ----------
    input : array of shape (*), real floating
        Log-predictions.
    target : array broadcastable with ``input``
    reduction : {'none', 'mean', 'sum', 'batchmean'}, default 'batchmean'
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
        As :func:`arrayloss.generalized_kl_divergence`.

    Examples
    --------
    >>> import numpy as np
    >>> import arrayloss
    >>> x, t = np.log([[0.5, 0.5]]), np.array([[0.5, 0.5]])
    >>> float(arrayloss.convex_kl_divergence(x, t))  # equal distributions
    0.0
    """
    empty = validate_empty(empty)
    return generalized_kl_divergence(
        input, target, reduction=reduction, empty=empty, sample_weight=sample_weight
    )
