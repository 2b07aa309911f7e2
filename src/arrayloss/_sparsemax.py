"""Sparsemax and the sparsemax (Fenchel-Young, Gini) losses, which PyTorch lacks: the
kernels of ``arrayloss.optax.sparsemax_loss`` and ``multiclass_sparsemax_loss``.

Sparsemax is the Euclidean projection of a score vector onto the probability simplex
(Martins and Astudillo, 2016). It is computed as optax's ``projection_simplex`` does,
with a sort and a cumulative sum along the last axis (array API 2023.12): with
:math:`u` the scores in decreasing order and :math:`k` the number of :math:`j` with
:math:`1/j + u_j - \\frac{1}{j}\\sum_{i \\le j} u_i > 0`,

.. math::

    p = \\max\\Bigl(0,\\ \\frac{1}{k} + s - \\frac{1}{k} \\sum_{i \\le k} u_i\\Bigr).

Autodiff gives optax's custom JVP: through the sort, the sum of the :math:`k` largest
scores depends on exactly those scores, so the Jacobian is
:math:`\\operatorname{diag}(m) - m m^\\top / k` for the support :math:`m = [p > 0]`. The
maximum with 0 is a ``where`` on :math:`p > 0`, whose derivative at the support's
boundary (:math:`p = 0`) is 0, as optax's support mask; a ``maximum`` would split that
tie. Ties in the sort are harmless: tied scores inside the support get the same
derivative whichever order the sort puts them in.

Half-precision inputs compute in float32. Only ``xp`` (and the dispatch layer's
``sort``, which keeps Dask's chunks) is used.
"""

from __future__ import annotations

from typing import Any

from ._dispatch import ArrayContext
from ._numerics import compute_dtype

__all__ = ["sparse_plus", "sparsemax", "sparsemax_fenchel_young"]


def sparse_plus(xp: Any, x: Any) -> Any:
    r""":func:`jax.nn.sparse_plus`, the sparse twin of the softplus:

    .. math::

        \operatorname{sparse\_plus}(x) = \begin{cases}
            0 & x \le -1 \\ (x + 1)^2 / 4 & -1 < x < 1 \\ x & x \ge 1 \end{cases}

    Continuously differentiable (its derivative is :math:`\operatorname{clip}((x + 1)/2,
    0, 1)`), so its gradient has no ties. Computed in float32 for half inputs.
    """
    work = compute_dtype(xp, x.dtype)
    z = xp.astype(x, work, copy=False)
    middle = (z + 1.0) * (z + 1.0) / 4.0
    out = xp.where(z <= -1.0, xp.zeros_like(z), xp.where(z >= 1.0, z, middle))
    return xp.astype(out, x.dtype, copy=False)


def sparsemax(ctx: ArrayContext, scores: Any) -> Any:
    """The sparsemax of ``scores`` along the last axis (optax's
    ``projections.projection_simplex`` of each row, ``scale=1``): non-negative, each row
    summing to 1. ``scores`` is real floating with at least one element per row; the
    result has its shape and its (upcast for half) compute dtype."""
    xp = ctx.xp
    k_max = scores.shape[-1]
    u = -ctx.sort(-scores, axis=-1)  # decreasing
    cumsum_u = xp.cumulative_sum(u, axis=-1)
    ind = xp.arange(1, k_max + 1, dtype=scores.dtype, device=ctx.device)
    cond = 1.0 / ind + (u - cumsum_u / ind) > 0
    k = xp.sum(xp.astype(cond, scores.dtype), axis=-1, keepdims=True)
    # cumsum_u[k - 1], written as a one-hot sum: no gather (Dask has none).
    top = xp.sum(xp.where(ind == k, cumsum_u, xp.zeros_like(cumsum_u)), axis=-1, keepdims=True)
    z = 1.0 / k + (scores - top / k)
    return xp.where(z > 0, z, xp.zeros_like(z))


def sparsemax_fenchel_young(ctx: ArrayContext, scores: Any, one_hot: Any) -> Any:
    r"""The multiclass sparsemax loss of each row of ``scores`` (classes last) for the
    class marked by ``one_hot`` (a boolean array of ``scores``' shape, one True per
    row): the Fenchel-Young loss of the Gini negentropy, as optax computes it,

    .. math::

        \ell(s, y) = \sum_{c:\, p_c > 0} p_c\, (s_c - s_y) + \tfrac{1}{2}\,
        \bigl(1 - \textstyle\sum_c p_c^2\bigr), \qquad p = \operatorname{sparsemax}(s),

    with the target's own term exactly 0. Its gradient is :math:`p - e_y`. Computed in
    float32 for half inputs; returned in ``scores``' dtype, the class axis removed.
    """
    xp = ctx.xp
    s = xp.astype(scores, compute_dtype(xp, scores.dtype), copy=False)
    p = sparsemax(ctx, s)
    zero = xp.zeros_like(s)
    s_y = xp.sum(xp.where(one_hot, s, zero), axis=-1, keepdims=True)
    relative = xp.where(one_hot, zero, s - s_y)
    relative = xp.where(p > 0, relative, zero)  # optax's jnp.where(proba, scores, 0)
    loss = xp.sum(p * relative, axis=-1) + 0.5 * (1.0 - xp.sum(p * p, axis=-1))
    return xp.astype(loss, scores.dtype, copy=False)
