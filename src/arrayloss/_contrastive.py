"""The NT-Xent contrastive loss of optax, which PyTorch lacks: ntxent."""

from __future__ import annotations

from typing import Any

from ._dispatch import jax_auto_jit, namespace_of, stop_gradient
from ._errors import ArrayLossValueError
from ._numerics import compute_dtype, log_sigmoid
from ._reduction import apply_reduction, validate_empty, validate_reduction
from ._validation import check_array, check_floating, check_integer

__all__ = ["ntxent"]


def _check_temperature(temperature: object) -> float:
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)):
        raise TypeError(f"`temperature` must be a float; got {type(temperature).__name__}")
    if not temperature > 0:
        raise ValueError(f"`temperature` must be > 0; got {temperature!r}")
    return float(temperature)


@jax_auto_jit
def ntxent(
    embeddings: Any,
    labels: Any,
    temperature: float = 0.07,
    reduction: str = "mean",
    *,
    empty: str = "nan",
    sample_weight: Any | None = None,
) -> Any:
    r"""The normalized temperature-scaled cross entropy (NT-Xent) of SimCLR.

    Mirrors :func:`optax.losses.ntxent` (optax 0.2; its names and default
    temperature). With :math:`s_{ij} = \cos(e_i, e_j) / \tau` (the cosine with optax's
    clip of each squared norm at the dtype's eps), for every positive pair
    :math:`i \ne j` with :math:`y_i = y_j`:

    .. math::

        \ell_{ij} = -\log \frac{e^{s_{ij}}}{e^{s_{ij}} + \sum_{k:\, y_k \ne y_i} e^{s_{ik}}}

    computed as :math:`-\log\sigma(s_{ij} - \mathrm{LSE}_i)` with
    :math:`\mathrm{LSE}_i = \log\sum_{k:\, y_k \ne y_i} e^{s_{ik}}` (stable; 0 for an
    anchor without negatives). 'mean' (optax's value) averages over the positive pairs
    (NaN when there are none), 'sum' adds them, 'none' gives the (N, N) matrix of
    :math:`\ell_{ij}`, 0 off the positive pairs.

    Parameters
    ----------
    embeddings : array of shape (N, D), real floating
    labels : array of shape (N,), integer
        Samples with equal labels are positive pairs.
    temperature : float > 0, default 0.07
    reduction : {'none', 'mean', 'sum'}, default 'mean'
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
        (N, N) for 'none', 0-d otherwise; ``embeddings``' library, device and dtype.

    Raises
    ------
    ValueError
        Shapes that do not fit; a temperature that is not positive; an unknown
        ``reduction``.
    TypeError
        ``embeddings`` not floating or ``labels`` not integer.

    Examples
    --------
    Closed form: two positives at cosine 1 and one negative at cosine 0, :math:`\tau = 1`:
    each anchor of the pair scores :math:`-\log(e / (e + 1))`.

    >>> import numpy as np
    >>> import arrayloss
    >>> e = np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0]])
    >>> loss = arrayloss.ntxent(e, np.array([0, 0, 1]), temperature=1.0)
    >>> bool(np.isclose(loss, np.log1p(np.exp(-1.0))))
    True
    """
    empty = validate_empty(empty)
    check_array("embeddings", embeddings)
    check_array("labels", labels)
    reduction = validate_reduction(reduction)
    tau = _check_temperature(temperature)
    ctx = namespace_of(embeddings=embeddings, labels=labels, sample_weight=sample_weight)
    xp = ctx.xp
    check_floating(xp, "embeddings", embeddings)
    check_integer(xp, "labels", labels)
    if embeddings.ndim != 2 or tuple(labels.shape) != (embeddings.shape[0],):
        raise ArrayLossValueError(
            "`embeddings` must have shape (N, D) and `labels` shape (N,); got "
            f"{tuple(embeddings.shape)} and {tuple(labels.shape)}"
        )
    n = int(embeddings.shape[0])
    # optax clips each squared norm at the eps of the embeddings' own dtype.
    eps = float(xp.finfo(embeddings.dtype).eps)
    work = compute_dtype(xp, embeddings.dtype)
    x = xp.astype(embeddings, work, copy=False)
    with ctx.quiet_floating_point():
        norm2 = xp.sum(x * x, axis=-1, keepdims=True)
        unit = x / xp.sqrt(xp.maximum(norm2, xp.asarray(eps, dtype=work, device=ctx.device)))
        s = xp.matmul(unit, xp.matrix_transpose(unit)) / tau
        same = xp.expand_dims(labels, axis=1) == xp.expand_dims(labels, axis=0)
        positive = same & ~xp.eye(n, dtype=xp.bool, device=ctx.device)
        negative = ~same
        # LSE over the negatives of each anchor, shifted by their maximum; an anchor
        # without negatives gets -inf through a where (its gradient stays finite).
        minus_inf = xp.full_like(s, -xp.inf)
        masked = xp.where(negative, s, minus_inf)
        has_negative = xp.any(negative, axis=1, keepdims=True)
        top = xp.max(masked, axis=1, keepdims=True) if n else xp.zeros((0, 1), dtype=work)
        # The shift is a constant for autodiff (its gradient cancels; see log_softmax).
        top = stop_gradient(xp, xp.where(has_negative, top, xp.zeros_like(top)))
        total = xp.sum(xp.where(negative, xp.exp(s - top), xp.zeros_like(s)), axis=1, keepdims=True)
        safe = xp.where(has_negative, total, xp.ones_like(total))
        lse = xp.where(has_negative, xp.log(safe) + top, xp.full_like(total, -xp.inf))
        pair = -log_sigmoid(xp, s - lse)
        loss = xp.where(positive, pair, xp.zeros_like(pair))
        # 'mean' over the positive pairs (weighted: sum(w l) / sum(w [positive])).
        count = xp.astype(positive, work, copy=False)
        return apply_reduction(ctx, loss, reduction, embeddings.dtype, empty, sample_weight, count)
