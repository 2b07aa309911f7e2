"""The Circle loss (Sun et al., 2020) of Keras 3: a pairwise metric-learning loss over a
batch of embeddings. Private: ``arrayloss.keras.circle`` and ``Circle`` are its fronts."""

from __future__ import annotations

from typing import Any

from ._dispatch import namespace_of
from ._errors import ArrayLossValueError
from ._numerics import compute_dtype, log_sigmoid, masked_logsumexp
from ._validation import check_array, check_floating, check_integer

__all__ = ["circle_loss"]


def _number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"`{name}` must be a float; got {type(value).__name__}")
    return float(value)


def circle_loss(
    embeddings: Any,
    labels: Any,
    ref_embeddings: Any | None = None,
    ref_labels: Any | None = None,
    *,
    gamma: float = 80.0,
    margin: float = 0.4,
    remove_diagonal: bool = True,
) -> tuple[Any, Any]:
    r"""The Circle loss of each embedding against the reference embeddings, unreduced.

    Mirrors :func:`keras.losses.circle` (Keras 3.15). With the cosine distance
    :math:`d_{ij} = \max(1 - e_i \cdot r_j, 0)` (the embeddings are expected
    L2-normalised; none is normalised here, as in Keras), the positives
    :math:`P_i = \{j : y_i = y^r_j\}` (without :math:`j = i` when ``remove_diagonal``)
    and the negatives :math:`N_i = \{j : y_i \ne y^r_j\}`, margin :math:`m` and scale
    :math:`\gamma`:

    .. math::

        \ell_i = \operatorname{softplus}\Big(
            \log \sum_{j \in P_i} e^{-\gamma\, [d_{ij} + m]_+ (m - d_{ij})}
          + \log \sum_{j \in N_i} e^{\gamma\, [1 + m - d_{ij}]_+ (1 - m - d_{ij})}\Big)

    and :math:`\ell_i = 0` when :math:`P_i` or :math:`N_i` is empty (Keras's
    :math:`\operatorname{softplus}(-\infty)`).

    Parameters
    ----------
    embeddings : array of shape (N, D), real floating
    labels : array of shape (N,) or (N, 1), integer
    ref_embeddings : array of shape (M, D), optional
        ``embeddings`` when None.
    ref_labels : array of shape (M,) or (M, 1), integer, optional
        ``labels`` when None.
    gamma, margin : float
    remove_diagonal : bool
        Leave the pairs :math:`(i, i)` (the diagonal of the (N, M) matrix) out of the
        positives.

    Returns
    -------
    tuple of arrays
        The losses, shape (N,), the embeddings' (promoted) dtype (float16 and bfloat16 computed in
        float32); and Keras's mask, ``loss > 0`` in the computing dtype (bool, (N,)):
        False for the rows without a positive or a negative pair.

    Examples
    --------
    Closed form: two equal unit vectors (label 0) and an orthogonal one (label 1),
    :math:`\gamma = 1, m = 0`: each of the pair has the positive :math:`d = 0` (term
    :math:`e^0`) and the negative :math:`d = 1` (term :math:`e^{0}`), so
    :math:`\operatorname{softplus}(0) = \log 2`; the third has no positive.

    >>> import numpy as np
    >>> e = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    >>> loss, kept = circle_loss(e, np.array([0, 0, 1]), gamma=1.0, margin=0.0)
    >>> bool(np.allclose(loss, [np.log(2), np.log(2), 0.0])), kept.tolist()
    (True, [True, True, False])
    """
    check_array("embeddings", embeddings)
    check_array("labels", labels)
    check_array("ref_embeddings", ref_embeddings, optional=True)
    check_array("ref_labels", ref_labels, optional=True)
    gamma = _number("gamma", gamma)
    margin = _number("margin", margin)
    ctx = namespace_of(
        embeddings=embeddings,
        labels=labels,
        ref_embeddings=ref_embeddings,
        ref_labels=ref_labels,
    )
    xp = ctx.xp
    check_floating(xp, "embeddings", embeddings)
    check_integer(xp, "labels", labels)
    refs = embeddings if ref_embeddings is None else ref_embeddings
    check_floating(xp, "ref_embeddings", refs)
    ref_y = labels if ref_labels is None else ref_labels
    check_integer(xp, "ref_labels", ref_y)
    for name, e, y in (("", embeddings, labels), ("ref_", refs, ref_y)):
        if e.ndim != 2 or y.ndim not in (1, 2) or tuple(y.shape)[1:] not in ((), (1,)):
            raise ArrayLossValueError(
                f"`{name}embeddings` must have shape (N, D) and `{name}labels` (N,) or "
                f"(N, 1); got {tuple(e.shape)} and {tuple(y.shape)}"
            )
        if y.shape[0] != e.shape[0]:
            raise ArrayLossValueError(
                f"`{name}labels` must have one label per row of `{name}embeddings` "
                f"({e.shape[0]}); got shape {tuple(y.shape)}"
            )
    if refs.shape[1] != embeddings.shape[1]:
        raise ArrayLossValueError(
            f"`ref_embeddings` must have the embeddings' size {embeddings.shape[1]}; got "
            f"shape {tuple(refs.shape)}"
        )
    n, m = int(embeddings.shape[0]), int(refs.shape[0])
    out_dtype = xp.result_type(embeddings, refs)
    work = compute_dtype(xp, out_dtype)
    with ctx.quiet_floating_point():
        e = xp.astype(embeddings, work, copy=False)
        r = xp.astype(refs, work, copy=False)
        d = 1.0 - xp.matmul(e, xp.matrix_transpose(r))
        zero = xp.zeros((), dtype=work, device=ctx.device)
        d = xp.maximum(d, zero)
        same = xp.reshape(labels, (n, 1)) == xp.reshape(ref_y, (1, m))
        negative = ~same
        positive = same
        if remove_diagonal:
            # The diagonal of the (N, M) matrix, from two aranges, not ``eye(n, m)``:
            # Dask's rectangular eye loses a chunk when it is computed (Dask 2026.8).
            rows = xp.reshape(xp.arange(n, device=ctx.device), (n, 1))
            cols = xp.reshape(xp.arange(m, device=ctx.device), (1, m))
            positive = same & (rows != cols)
        pos_logits = -gamma * xp.maximum(d + margin, zero) * (margin - d)
        neg_logits = gamma * xp.maximum((1.0 + margin) - d, zero) * ((1.0 - margin) - d)
        lse_pos, has_pos = masked_logsumexp(ctx, pos_logits, positive, 1)
        lse_neg, has_neg = masked_logsumexp(ctx, neg_logits, negative, 1)
        both = (has_pos & has_neg)[:, 0]
        total = (lse_pos + lse_neg)[:, 0]
        # softplus(x) = -log(sigmoid(-x)); 0 for a row without both kinds of pair.
        loss = xp.where(both, -log_sigmoid(xp, -total), xp.zeros_like(total))
        kept = loss > 0
        return xp.astype(loss, out_dtype, copy=False), kept
