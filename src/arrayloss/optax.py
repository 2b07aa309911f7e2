"""``arrayloss.optax``: optax 0.2's ``optax.losses`` functions, on any backend.

Each function has the name, the arguments (names, order, keyword-only markers and
defaults, read with ``inspect.signature`` off optax 0.2.8) and the output of the optax
function: per-example losses, never reduced (optax returns one loss per example; the
caller reduces), with the class axis last (``axis=-1``) or where ``axis`` puts it, and
``where`` masks as optax applies them. Each is a few lines over the shared arrayloss
kernels (called with ``reduction='none'``); the only work done here is moving axes,
broadcasting, masking and casting the inputs, and summing over ``axis`` where optax's
loss is a sum of elementwise terms. No formula is written twice. Where optax's
definition differs from the kernel's in a way no input transformation bridges, the
function's docstring says so, or the option raises ``NotImplementedError``.

Importing this module imports no array library, no JAX and no optax.

>>> import numpy as np
>>> from arrayloss import optax as ol
>>> logits = np.array([[1.2, -0.8, -0.5], [0.9, -1.2, 1.1]], dtype=np.float32)
>>> labels = np.array([0, 1])
>>> ol.softmax_cross_entropy_with_integer_labels(logits, labels).round(4)  # optax's docs
array([0.2761, 2.9518], dtype=float32)

Not provided (``NOT_PROVIDED`` lists them with the reason):

- ``make_fenchel_young_loss``: it takes a JAX ``max_fun`` and differentiates it with
  ``jax.grad``; there is nothing backend-neutral to wrap.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from ._binary import binary_cross_entropy_with_logits
from ._classification import cross_entropy
from ._contrastive import ntxent as _ntxent
from ._ctc import _ctc_forward_variables
from ._dispatch import namespace_of
from ._divergence import kl_div
from ._embedding import triplet_margin_loss as _triplet_margin_loss
from ._focal import poly1_cross_entropy
from ._focal import sigmoid_focal_loss as _sigmoid_focal_loss
from ._generalized_kl import generalized_kl_divergence as _generalized_kl
from ._keras_family import _categorical_hinge, _hinge, cosine_similarity_loss
from ._keras_family import log_cosh as _log_cosh
from ._labels import smooth_labels as _smooth_labels
from ._numerics import log_sigmoid, log_softmax
from ._overlap import multiclass_dice_loss
from ._ranking import mean as _ranking_mean
from ._ranking import safe_reduce
from ._regression import huber_loss as _huber_loss
from ._regression import mse_loss
from ._sparsemax import sparse_plus, sparsemax_fenchel_young
from ._validation import check_floating, check_integer

__all__ = [
    "NOT_PROVIDED",
    "binary_dice_loss",
    "convex_kl_divergence",
    "cosine_distance",
    "cosine_similarity",
    "ctc_loss",
    "ctc_loss_with_forward_probs",
    "dice_loss",
    "generalized_kl_divergence",
    "hinge_loss",
    "huber_loss",
    "kl_divergence",
    "kl_divergence_with_log_targets",
    "l2_loss",
    "log_cosh",
    "multiclass_generalized_dice_loss",
    "multiclass_hinge_loss",
    "multiclass_perceptron_loss",
    "multiclass_sparsemax_loss",
    "ntxent",
    "perceptron_loss",
    "poly_loss_cross_entropy",
    "ranking_softmax_loss",
    "safe_softmax_cross_entropy",
    "sigmoid_binary_cross_entropy",
    "sigmoid_focal_loss",
    "smooth_labels",
    "softmax_cross_entropy",
    "softmax_cross_entropy_with_integer_labels",
    "sparsemax_loss",
    "squared_error",
    "triplet_margin_loss",
]

NOT_PROVIDED = {
    "make_fenchel_young_loss": "takes a JAX max_fun differentiated with jax.grad",
}

Axis = int | tuple[int, ...] | None


# --- input transformations ----------------------------------------------------------------


def _axes(axis: Axis, ndim: int) -> tuple[int, ...]:
    """optax's canonicalize_axes: ``axis`` as a tuple of non-negative axes."""
    raw = tuple(range(ndim)) if axis is None else (axis,) if isinstance(axis, int) else axis
    out = []
    for a in raw:
        if not -ndim <= a < ndim:
            raise ValueError(f"axis {a} is out of bounds for array of dimension {ndim}")
        out.append(a % ndim)
    return tuple(out)


def _classes_last(xp: Any, x: Any, axes: tuple[int, ...]) -> tuple[Any, tuple[int, ...]]:
    """``x`` as a (B, K) array: the batch axes (the others) flattened first, then the
    ``axes`` flattened (row-major, as optax flattens a tuple of class axes); and the
    batch shape."""
    batch = tuple(i for i in range(x.ndim) if i not in axes)
    x = xp.permute_dims(x, batch + axes)
    batch_shape = tuple(x.shape[: len(batch)])
    k = 1
    for s in x.shape[len(batch) :]:
        k *= int(s)
    b = 1
    for s in batch_shape:
        b *= int(s)
    return xp.reshape(x, (b, k)), batch_shape


def _broadcast(xp: Any, *arrays: Any) -> list[Any]:
    shapes = {tuple(a.shape) for a in arrays}
    return list(arrays) if len(shapes) == 1 else list(xp.broadcast_arrays(*arrays))


def _expand_where(xp: Any, where: Any, ndim: int, axes: tuple[int, ...]) -> Any:
    """optax's ``jnp.expand_dims(where, axis)`` when ``where`` lacks the class axes."""
    if where.ndim != ndim:
        for a in sorted(axes):
            where = xp.expand_dims(where, axis=a)
    return where


def _mask_logits(xp: Any, logits: Any, keep: Any) -> Any:
    """Masked-out logits set to the dtype's lowest finite value: their softmax
    probability is exactly 0, so they leave the normalizer, as optax's
    ``log_softmax(..., where=where)`` leaves them out."""
    low = xp.full_like(logits, xp.finfo(logits.dtype).min)
    return xp.where(keep, logits, low)


def _zeros_where(xp: Any, keep: Any, x: Any) -> Any:
    return xp.where(keep, x, xp.zeros_like(x))


def _sum(xp: Any, loss: Any, axis: Axis, where: Any | None) -> Any:
    """optax's ``jnp.sum(loss, axis=axis, where=where)``."""
    if where is not None:
        keep, loss = _broadcast(xp, where, loss)
        loss = _zeros_where(xp, keep, loss)
    return xp.sum(loss, axis=_axes(axis, loss.ndim))


def _float_like(xp: Any, x: Any, like: Any) -> Any:
    return x if x.dtype == like.dtype else xp.astype(x, like.dtype)


# --- classification -----------------------------------------------------------------------


def sigmoid_binary_cross_entropy(logits: Any, labels: Any) -> Any:
    """:func:`optax.losses.sigmoid_binary_cross_entropy`: elementwise, broadcast.

    :func:`arrayloss.binary_cross_entropy_with_logits` with ``reduction='none'`` on the
    broadcast arrays, ``labels`` cast to ``logits``' dtype.
    """
    xp = namespace_of(logits=logits, labels=labels).xp
    logits, labels = _broadcast(xp, logits, _float_like(xp, labels, logits))
    return binary_cross_entropy_with_logits(logits, labels, reduction="none")


def softmax_cross_entropy(logits: Any, labels: Any, axis: Axis = -1, where: Any = None) -> Any:
    """:func:`optax.losses.softmax_cross_entropy`: shape of ``logits`` less ``axis``.

    :func:`arrayloss.cross_entropy` with class-probability targets over the ``axis``
    classes (a tuple of axes is flattened into one class axis). ``where`` (of ``logits``'
    shape, or of the batch shape) removes classes from the softmax's normalizer and
    from the sum, as optax's: those logits are set to the lowest finite value (softmax
    probability 0) and those labels to 0. A row with no class kept is 0.
    """
    xp = namespace_of(logits=logits, labels=labels, where=where).xp
    axes = _axes(axis, logits.ndim)
    logits, labels = _broadcast(xp, logits, _float_like(xp, labels, logits))
    if where is not None:
        keep = _broadcast(xp, _expand_where(xp, where, logits.ndim, axes), logits)[0]
        logits, labels = _mask_logits(xp, logits, keep), _zeros_where(xp, keep, labels)
    x, batch = _classes_last(xp, logits, axes)
    t, _ = _classes_last(xp, labels, axes)
    return xp.reshape(cross_entropy(x, t, reduction="none"), batch)


def safe_softmax_cross_entropy(logits: Any, labels: Any) -> Any:
    """:func:`optax.losses.safe_softmax_cross_entropy`: classes on the last axis.

    :func:`arrayloss.cross_entropy` with probability targets, where a ``-inf`` logit
    with label 0 counts 0 (``0 log 0 = 0``): such logits are set to the lowest finite
    value, whose softmax probability is 0 as well.
    """
    xp = namespace_of(logits=logits, labels=labels).xp
    logits, labels = _broadcast(xp, logits, _float_like(xp, labels, logits))
    keep = (labels != 0) | (logits != -xp.inf)
    return softmax_cross_entropy(_mask_logits(xp, logits, keep), labels)


def softmax_cross_entropy_with_integer_labels(
    logits: Any, labels: Any, axis: int | tuple[int, ...] = -1, where: Any = None
) -> Any:
    """:func:`optax.losses.softmax_cross_entropy_with_integer_labels`.

    :func:`arrayloss.cross_entropy` with class indices; ``labels`` has the batch shape
    (``logits``' shape less ``axis``); with a tuple ``axis`` a label is a flat index
    into the (row-major) slice ``logits[axis]``, as in optax. ``where`` removes classes
    from the normalizer (their logits set to the lowest finite value); a row with no
    class kept is 0, as in optax.

    Differences: a label whose own class is masked out by ``where`` gives a huge loss
    here (its logit is the lowest finite value), optax's ``logsumexp`` of the kept
    classes minus the unmasked logit. Labels out of ``[0, C)`` raise on eager arrays
    (optax reads them silently); ``-100`` is PyTorch's ``ignore_index`` and gives 0.
    """
    xp = namespace_of(logits=logits, labels=labels, where=where).xp
    if not isinstance(axis, int | tuple):
        raise ValueError(
            "Keyword argument 'axis' must be of type 'int' or 'tuple[int, ...]' but "
            f"actual type is {type(axis)}."
        )
    axes = _axes(axis, logits.ndim)
    keep = None
    if where is not None:
        keep = _broadcast(xp, _expand_where(xp, where, logits.ndim, axes), logits)[0]
        logits = _mask_logits(xp, logits, keep)
    x, batch = _classes_last(xp, logits, axes)
    loss = cross_entropy(x, xp.reshape(labels, (x.shape[0],)), reduction="none")
    if keep is not None:
        kept, _ = _classes_last(xp, keep, axes)
        loss = _zeros_where(xp, xp.any(kept, axis=-1), loss)
    return xp.reshape(loss, batch)


def poly_loss_cross_entropy(
    logits: Any, labels: Any, *, epsilon: float = 2.0, axis: Axis = -1, where: Any = None
) -> Any:
    """:func:`optax.losses.poly_loss_cross_entropy`: shape of ``logits`` less ``axis``.

    :func:`arrayloss.poly1_cross_entropy` with probability targets, the classes and
    ``where`` as in :func:`softmax_cross_entropy`. The kernel's polynomial term is
    :math:`\\epsilon (1 - \\sum_c t_c p_c)`, optax's :math:`\\epsilon \\sum_c t_c (1 - p_c)`:
    equal when each row of ``labels`` sums to 1 (optax's documented domain).
    """
    xp = namespace_of(logits=logits, labels=labels, where=where).xp
    axes = _axes(axis, logits.ndim)
    logits, labels = _broadcast(xp, logits, _float_like(xp, labels, logits))
    if where is not None:
        keep = _broadcast(xp, where, logits)[0]
        logits, labels = _mask_logits(xp, logits, keep), _zeros_where(xp, keep, labels)
    x, batch = _classes_last(xp, logits, axes)
    t, _ = _classes_last(xp, labels, axes)
    return xp.reshape(poly1_cross_entropy(x, t, epsilon=epsilon, reduction="none"), batch)


def sigmoid_focal_loss(
    logits: Any, labels: Any, *, alpha: float | None = None, gamma: float = 2.0
) -> Any:
    """:func:`optax.losses.sigmoid_focal_loss`: elementwise, broadcast.

    :func:`arrayloss.sigmoid_focal_loss`; optax's ``alpha=None`` (no weighting) is the
    kernel's (torchvision's) negative ``alpha``. Soft labels in [0, 1] as in optax.
    """
    xp = namespace_of(logits=logits, labels=labels).xp
    logits, labels = _broadcast(xp, logits, _float_like(xp, labels, logits))
    a = -1.0 if alpha is None else alpha
    return _sigmoid_focal_loss(logits, labels, alpha=a, gamma=gamma, reduction="none")


def hinge_loss(predictor_outputs: Any, targets: Any) -> Any:
    """:func:`optax.losses.hinge_loss`: :math:`\\max(0, 1 - x y)`, elementwise.

    :func:`arrayloss.hinge`, ``targets`` in {-1, 1} (optax's domain). Difference:
    the kernel (as Keras) reads ``targets`` made only of 0 and 1 as labels to map to
    -1 and 1; optax multiplies by them as they are (outside its documented domain).
    """
    xp = namespace_of(predictor_outputs=predictor_outputs, targets=targets).xp
    x, t = _broadcast(xp, predictor_outputs, _float_like(xp, targets, predictor_outputs))
    return _hinge(x, t, "none", empty="nan", sample_weight=None, margin=1.0)


def perceptron_loss(predictor_outputs: Any, targets: Any) -> Any:
    """:func:`optax.losses.perceptron_loss`: :math:`\\max(0, -x y)`, elementwise.

    The hinge kernel of :func:`arrayloss.hinge` with a zero margin; ``targets`` in
    {-1, 1} (optax's domain), of ``predictor_outputs``' shape (optax checks it:
    ``ValueError``). Difference: as in :func:`hinge_loss`, ``targets`` made only of 0
    and 1 are read as labels -1 and 1; optax multiplies by them as they are.
    """
    xp = namespace_of(predictor_outputs=predictor_outputs, targets=targets).xp
    if tuple(predictor_outputs.shape) != tuple(targets.shape):
        raise ValueError(
            f"Shape mismatch: `predictor_outputs` and `targets` must have the same shape; "
            f"got {tuple(predictor_outputs.shape)} and {tuple(targets.shape)}."
        )
    t = _float_like(xp, targets, predictor_outputs)
    return _hinge(predictor_outputs, t, "none", empty="nan", sample_weight=None, margin=0.0)


def _crammer_singer(scores: Any, labels: Any, margin: float) -> Any:
    """optax's :math:`\\max_c(s_c + m - m [c = y]) - s_y` over the last axis, from
    the categorical hinge kernel with margin ``m``: see :func:`multiclass_hinge_loss`."""
    xp = namespace_of(scores=scores, labels=labels).xp
    classes = xp.arange(scores.shape[-1], dtype=labels.dtype)
    one_hot = xp.astype(labels[..., None] == classes, scores.dtype)
    shifted = scores - xp.min(scores, axis=-1, keepdims=True) + 1.0
    last = (scores.ndim - 1,)
    s, batch = _classes_last(xp, shifted, last)  # (B, C): the kernel's classes on axis 1
    t, _ = _classes_last(xp, one_hot, last)
    loss = _categorical_hinge(s, t, "none", empty="nan", sample_weight=None, margin=margin)
    return xp.reshape(loss, batch)


def multiclass_hinge_loss(scores: Any, labels: Any) -> Any:
    """:func:`optax.losses.multiclass_hinge_loss` (Crammer-Singer), classes last.

    :func:`arrayloss.categorical_hinge` on one-hot ``labels``, the scores shifted per
    row so that their minimum is 1: the loss is invariant to the shift, and with every
    score positive Keras's 0 for the target class in the inner maximum never wins nor
    ties, so the kernel's value is optax's :math:`\\max_c(s_c + 1 - [c = y]) - s_y`,
    and its gradient optax's too, ties among the other classes included (each of the
    tied largest gets an equal share, as ``jnp.max``). Differences: labels must be in
    ``[0, C)``; for others optax's zero one-hot row (``jax.nn.one_hot``) gives
    :math:`\\max_c s_c + 1`, this function another value (with no target class the
    shift is no longer neutral). At the kink, where the target's score is exactly 1
    above the largest other score, the gradient is half of each side's, optax's
    splits among the tied entries of its maximum: the same when one other class ties.
    """
    return _crammer_singer(scores, labels, 1.0)


def multiclass_perceptron_loss(scores: Any, labels: Any) -> Any:
    """:func:`optax.losses.multiclass_perceptron_loss`: :math:`\\max_c s_c - s_y`,
    classes last.

    :func:`multiclass_hinge_loss`'s kernel (the categorical hinge of the shifted scores)
    with a zero margin: :math:`\\max(0, \\max_{c \\ne y} s_c - s_y) = \\max_c s_c - s_y`.
    Differences: labels must be in ``[0, C)`` (optax: a label out of range gives
    :math:`\\max_c s_c`). Where the target's score ties with the largest other score
    (the kink: loss 0), the gradient is half of each side's; optax's ``jnp.max`` splits
    it among the tied scores: the same when one other score ties, another subgradient
    when several do (all of :math:`C` scores equal: optax :math:`1/C` for each other
    class, here :math:`1 / (2 (C - 1))`).
    """
    return _crammer_singer(scores, labels, 0.0)


def sparsemax_loss(logits: Any, labels: Any) -> Any:
    """:func:`optax.losses.sparsemax_loss`, the binary sparsemax loss, elementwise:
    :math:`\\operatorname{sparse\\_plus}(-x)` where the label is true (non-zero),
    :math:`\\operatorname{sparse\\_plus}(x)` where it is 0, broadcast.

    ``sparse_plus`` (:func:`jax.nn.sparse_plus`) is the kernel of ``arrayloss``'s
    sparsemax module. ``logits`` must be real floating.
    """
    xp = namespace_of(logits=logits, labels=labels).xp
    check_floating(xp, "logits", logits)
    positive = labels if xp.isdtype(labels.dtype, "bool") else labels != 0
    x, positive = _broadcast(xp, logits, positive)
    return sparse_plus(xp, xp.where(positive, -x, x))


def multiclass_sparsemax_loss(scores: Any, labels: Any) -> Any:
    """:func:`optax.losses.multiclass_sparsemax_loss`: one loss per row of ``scores``
    (classes last), for integer ``labels`` of the batch shape.

    The Fenchel-Young loss of sparsemax (the Euclidean projection of the scores onto the
    simplex), as optax computes it:
    :math:`\\sum_{c:\\,p_c > 0} p_c (s_c - s_y) + \\frac{1}{2}(1 - \\lVert p \\rVert^2)`
    with :math:`p = \\operatorname{sparsemax}(s)`; its gradient is :math:`p - e_y`.
    Differences: any batch shape ``(..., C)`` (optax's ``vmap`` takes ``(N, C)`` only:
    a 1-d ``scores`` fails there, and a 3-d one projects each whole ``(T, C)`` slice);
    labels must be in ``[0, C)`` (optax clamps a label out of range).
    """
    ctx = namespace_of(scores=scores, labels=labels)
    xp = ctx.xp
    check_floating(xp, "scores", scores)
    check_integer(xp, "labels", labels)
    if scores.ndim < 1 or tuple(labels.shape) != tuple(scores.shape[:-1]):
        raise ValueError(
            "`labels` must have the shape of `scores` without its last (class) axis; got "
            f"{tuple(labels.shape)} for `scores` of shape {tuple(scores.shape)}"
        )
    classes = xp.arange(scores.shape[-1], dtype=labels.dtype, device=ctx.device)
    return sparsemax_fenchel_young(ctx, scores, labels[..., None] == classes)


# --- ranking ------------------------------------------------------------------------------


def ranking_softmax_loss(
    logits: Any,
    labels: Any,
    *,
    where: Any = None,
    weights: Any = None,
    reduce_fn: Callable[..., Any] | None = _ranking_mean,
) -> Any:
    """:func:`optax.losses.ranking_softmax_loss`: the listwise softmax loss of lists of
    items (the last axis), reduced by ``reduce_fn``.

    .. math::

        \\ell(s, y) = -\\sum_i w_i y_i \\log \\frac{e^{s_i}}{\\sum_j e^{s_j}}

    per list: :func:`softmax_cross_entropy` over the last axis with the relevance
    ``labels`` (cast to ``logits``' dtype) times ``weights`` as unnormalized targets,
    and ``where`` (all broadcast together) leaving items out of the softmax and the sum;
    a list with no item kept is 0 and, with ``where``, left out of the reduction.
    ``reduce_fn`` is called as optax calls it, ``reduce_fn(loss, where=lists_kept)``,
    except for these, which run with the inputs' own library:

    - the default, a backend-neutral ``jnp.mean`` (``arrayloss._ranking.mean``), and the
      ``mean`` of ``jax.numpy``, NumPy, PyTorch, Dask, CuPy, array-api-strict or an
      array-api-compat namespace: the mean over the lists kept, 0 over none (optax: 0
      for ``jnp.mean``, unless a loss is NaN);
    - their ``sum``: the sum over the lists kept;
    - ``None``: the per-list losses, 0 for a list with no item kept.

    Checked against optax with the default, ``jnp.mean``, ``jnp.sum``, ``None`` and a
    custom callable (conformance/optax_frontend.py), values and gradients, a mean over
    no list included (0, gradient 0, as optax's). Differences: ``np.mean`` and the other
    libraries' means are also 0 over no list (optax makes only ``jnp.mean`` safe);
    ``weights`` of another floating dtype than ``logits`` are cast to it (optax promotes
    the result).
    """
    xp = namespace_of(logits=logits, labels=labels, where=where, weights=weights).xp
    check_floating(xp, "logits", logits)
    arrays = [logits, _float_like(xp, labels, logits)]
    if weights is not None:
        arrays.append(_float_like(xp, weights, logits))
    if where is not None:
        arrays.append(where)
    arrays = _broadcast(xp, *arrays)
    logits, labels = arrays[:2]
    if weights is not None:
        labels = labels * arrays[2]
    keep = arrays[-1] if where is not None else None
    loss = softmax_cross_entropy(logits, labels, axis=-1, where=keep)
    lists = None if keep is None else xp.any(keep, axis=-1)
    return safe_reduce(xp, loss, lists, reduce_fn)


# --- regression ---------------------------------------------------------------------------


def _errors_pair(predictions: Any, targets: Any | None) -> tuple[Any, Any]:
    xp = namespace_of(predictions=predictions, targets=targets).xp
    if targets is None:
        return predictions, xp.zeros_like(predictions)
    p, t = _broadcast(xp, predictions, _float_like(xp, targets, predictions))
    return p, t


def squared_error(predictions: Any, targets: Any = None) -> Any:
    """:func:`optax.losses.squared_error`: :func:`arrayloss.mse_loss`, ``reduction='none'``
    (``targets=None``: zeros)."""
    if targets is not None and tuple(predictions.shape) != tuple(targets.shape):
        raise ValueError(
            f"Arrays must have the same shape; got {tuple(predictions.shape)} and "
            f"{tuple(targets.shape)}"
        )
    return mse_loss(*_errors_pair(predictions, targets), reduction="none")


def l2_loss(predictions: Any, targets: Any = None) -> Any:
    """:func:`optax.losses.l2_loss`: half of :func:`squared_error`, as in optax."""
    return 0.5 * squared_error(predictions, targets)


def huber_loss(predictions: Any, targets: Any = None, *, delta: float = 1.0) -> Any:
    """:func:`optax.losses.huber_loss`: :func:`arrayloss.huber_loss`, ``reduction='none'``."""
    return _huber_loss(*_errors_pair(predictions, targets), reduction="none", delta=delta)


def log_cosh(predictions: Any, targets: Any = None) -> Any:
    """:func:`optax.losses.log_cosh`: :func:`arrayloss.log_cosh`, ``reduction='none'``."""
    return _log_cosh(*_errors_pair(predictions, targets), reduction="none")


def cosine_similarity(
    predictions: Any,
    targets: Any,
    *,
    epsilon: float = 0.0,
    axis: Axis = -1,
    where: Any = None,
) -> Any:
    """:func:`optax.losses.cosine_similarity`: minus :func:`arrayloss.cosine_similarity_loss`.

    The ``axis`` (a tuple flattened into one) is the vector axis; ``where`` zeroes the
    masked elements of both arrays, which removes them from the norms and the dot
    product, as optax's sums with ``where``. Difference: ``epsilon`` is not an option
    of the kernel, which bounds each norm below by 1e-7 (Keras's); optax bounds the
    squared norm by ``epsilon`` (default 0). The values are equal for vectors whose
    norms are above both bounds; for a zero vector optax gives NaN (``epsilon=0``) and
    arrayloss 0.
    """
    del epsilon  # the kernel's bound is fixed: see the docstring
    xp = namespace_of(predictions=predictions, targets=targets, where=where).xp
    p, t = _broadcast(xp, predictions, _float_like(xp, targets, predictions))
    axes = _axes(axis, p.ndim)
    if where is not None:
        keep = _broadcast(xp, where, p)[0]
        p, t = _zeros_where(xp, keep, p), _zeros_where(xp, keep, t)
    p2, batch = _classes_last(xp, p, axes)
    t2, _ = _classes_last(xp, t, axes)
    return -xp.reshape(cosine_similarity_loss(p2, t2, dim=-1, reduction="none"), batch)


def cosine_distance(
    predictions: Any,
    targets: Any,
    *,
    epsilon: float = 0.0,
    axis: Axis = -1,
    where: Any = None,
) -> Any:
    """:func:`optax.losses.cosine_distance`: 1 minus :func:`cosine_similarity`."""
    return 1.0 - cosine_similarity(predictions, targets, epsilon=epsilon, axis=axis, where=where)


# --- divergences --------------------------------------------------------------------------


def kl_divergence(log_predictions: Any, targets: Any, axis: Axis = -1, where: Any = None) -> Any:
    """:func:`optax.losses.kl_divergence`: :func:`arrayloss.kl_div` elementwise
    (``reduction='none'``, :math:`0 \\log 0 = 0`), summed over ``axis`` where ``where``."""
    xp = namespace_of(log_predictions=log_predictions, targets=targets, where=where).xp
    lp, t = _broadcast(xp, log_predictions, targets)
    return _sum(xp, kl_div(lp, t, reduction="none"), axis, where)


def kl_divergence_with_log_targets(
    log_predictions: Any, log_targets: Any, axis: Axis = -1, where: Any = None
) -> Any:
    """:func:`optax.losses.kl_divergence_with_log_targets`: :func:`arrayloss.kl_div` with
    ``log_target=True``, summed over ``axis`` where ``where``."""
    xp = namespace_of(log_predictions=log_predictions, log_targets=log_targets, where=where).xp
    lp, lt = _broadcast(xp, log_predictions, log_targets)
    return _sum(xp, kl_div(lp, lt, reduction="none", log_target=True), axis, where)


def generalized_kl_divergence(
    log_predictions: Any, targets: Any, axis: Axis = -1, where: Any = None
) -> Any:
    """:func:`optax.losses.generalized_kl_divergence`:
    :func:`arrayloss.generalized_kl_divergence` elementwise, summed over ``axis`` where
    ``where``."""
    xp = namespace_of(log_predictions=log_predictions, targets=targets, where=where).xp
    lp, t = _broadcast(xp, log_predictions, targets)
    return _sum(xp, _generalized_kl(lp, t, reduction="none"), axis, where)


def convex_kl_divergence(
    log_predictions: Any, targets: Any, axis: Axis = -1, where: Any = None
) -> Any:
    """:func:`optax.losses.convex_kl_divergence`: optax's deprecated alias of
    :func:`generalized_kl_divergence`; it warns (``DeprecationWarning``) as optax does."""
    warnings.warn(
        "convex_kl_divergence is deprecated; use generalized_kl_divergence.",
        DeprecationWarning,
        stacklevel=2,
    )
    return generalized_kl_divergence(log_predictions, targets, axis=axis, where=where)


# --- sequences ----------------------------------------------------------------------------


def _ctc_inputs(
    xp: Any, logits: Any, logit_paddings: Any, labels: Any, label_paddings: Any
) -> tuple[Any, Any, Any]:
    """optax's CTC inputs as :func:`arrayloss.ctc_loss`'s: the log-softmax of ``logits``
    moved to (T, B, K), and the lengths read off the paddings (``T - sum(logit_paddings)``,
    ``N - sum(label_paddings)``)."""
    if logits.ndim != 3 or labels.ndim != 2:
        raise ValueError(
            f"`logits` must have rank 3 and `labels` rank 2; got shapes "
            f"{tuple(logits.shape)} and {tuple(labels.shape)}"
        )
    log_probs = xp.permute_dims(log_softmax(xp, logits, -1), (1, 0, 2))
    frames = logits.shape[1] - xp.sum(logit_paddings, axis=1)
    lengths = labels.shape[1] - xp.sum(label_paddings, axis=1)
    return log_probs, xp.astype(frames, labels.dtype), xp.astype(lengths, labels.dtype)


def ctc_loss(
    logits: Any,
    logit_paddings: Any,
    labels: Any,
    label_paddings: Any,
    *,
    blank_id: int = 0,
    log_epsilon: float = -1e5,
) -> Any:
    """:func:`optax.losses.ctc_loss`: (B,) losses from (B, T, K) logits.

    As optax: the loss of :func:`ctc_loss_with_forward_probs`, the recursion of
    :func:`arrayloss.ctc_loss` on the log-softmax of ``logits`` moved to (T, B, K), with
    the lengths read off the paddings (``T - sum(logit_paddings)``,
    ``N - sum(label_paddings)``) and ``log_epsilon`` used as optax uses it, so a label
    sequence too long for its frames gets optax's large finite loss (where
    :func:`arrayloss.ctc_loss` gives ``inf``). Differences: the paddings must be
    right-padded (1s after the 0s; optax requires it of ``label_paddings`` only); with
    ``log_epsilon`` above about -37 (float64) or -17 (float32) optax counts a step from a
    label into the next blank ``1 + exp(log_epsilon)`` times, arrayloss once.
    """
    loss, _, _ = ctc_loss_with_forward_probs(
        logits, logit_paddings, labels, label_paddings, blank_id=blank_id, log_epsilon=log_epsilon
    )
    return loss


def ctc_loss_with_forward_probs(
    logits: Any,
    logit_paddings: Any,
    labels: Any,
    label_paddings: Any,
    *,
    blank_id: int = 0,
    log_epsilon: float = -1e5,
) -> tuple[Any, Any, Any]:
    r""":func:`optax.losses.ctc_loss_with_forward_probs`: the (B,) losses and the
    forward variables ``(loss, logalpha_phi, logalpha_emit)``, of shapes (B,),
    (T, B, N+1) and (T, B, N).

    The recursion of :func:`arrayloss.ctc_loss` (inputs as :func:`ctc_loss`'s) over the
    extended labels :math:`l' = (b, l_1, b, \dots, l_N, b)`, keeping
    :math:`lpha_t(s)` after every frame t: ``logalpha_phi[t, :, n]`` is
    :math:`lpha_t(2n)` (the blank after n labels), ``logalpha_emit[t, :, n]`` is
    :math:`lpha_t(2n+1)` (label n+1), frozen on padded frames; in the last row
    (t = T-1), as optax, ``logalpha_phi[T-1, :, n]`` for n >= 1 also counts the paths
    ending on label n: :math:`\log(e^{lpha_{T-1}(2n)} + e^{lpha_{T-1}(2n-1)})`, and
    ``loss[b] = -logalpha_phi[T-1, b, N_b]`` (:math:`N_b` the label length).

    ``log_epsilon`` is used as optax uses it, for the states no path reaches at t = 0
    and as the penalty on a skip onto a repeated label, so the values match optax's
    (within rounding), including the unreachable states (near ``log_epsilon`` and its
    multiples, not -inf) and a sample with no alignment (a large finite loss, where
    :func:`ctc_loss` gives ``inf``). Differences: the paddings must be right-padded, as
    for :func:`ctc_loss`; at the states past a sample's last label, which its loss
    never reads, a padded label outside [0, K) is read as the blank (optax's one-hot
    gives it log-probability 0). The gradient flows through ``loss`` (torch autograd,
    ``jax.grad``) and through the forward variables.
    """
    ctx = namespace_of(
        logits=logits, logit_paddings=logit_paddings, labels=labels, label_paddings=label_paddings
    )
    xp = ctx.xp
    log_probs, input_lengths, target_lengths = _ctc_inputs(
        xp, logits, logit_paddings, labels, label_paddings
    )
    loss, alpha = _ctc_forward_variables(
        log_probs, labels, input_lengths, target_lengths, blank_id, log_epsilon=log_epsilon
    )
    phi = alpha[:, :, 0::2]  # (T, B, N+1): the blanks
    emit = alpha[:, :, 1::2]  # (T, B, N): the labels
    # optax's last row: phi[T-1, :, n] + emit[T-1, :, n-1], the end of the sequence.
    last = xp.concat([phi[-1, :, :1], xp.logaddexp(phi[-1, :, 1:], emit[-1, ...])], axis=1)
    phi = xp.concat([phi[:-1, ...], last[None, ...]], axis=0)
    return loss, phi, emit


# --- segmentation -------------------------------------------------------------------------


def dice_loss(
    predictions: Any,
    targets: Any,
    *,
    class_weights: Any = None,
    smooth: float = 1.0,
    alpha: float = 0.5,
    beta: float = 0.5,
    apply_softmax: bool = True,
    reduction: str = "mean",
    ignore_background: bool = False,
    axis: Any = None,
) -> Any:
    """:func:`optax.losses.dice_loss`: (B,) losses, classes on the last axis.

    :func:`arrayloss.multiclass_dice_loss` (classes moved to axis 1, ``reduction='none'``:
    the per-sample mean over the classes, optax's default ``reduction='mean'``) with
    optax's ``smooth`` s as ``smooth_nr = smooth_dr = 2 s`` (optax smooths
    :math:`(I + s) / ((P + T) / 2 + s)`), ``ignore_background`` as ``ignore_index=0``,
    ``class_weights`` as ``weight``, and, for a single class, a sigmoid instead of the
    softmax (as optax). Not provided (``NotImplementedError``): ``alpha`` or ``beta``
    other than 0.5 (optax's Tversky form: arrayloss's ``tversky_loss`` is binary only),
    ``reduction`` other than ``'mean'`` (the kernel gives no per-class losses), and an
    ``axis`` other than the default (every axis but the first and the last).
    """
    if alpha != 0.5 or beta != 0.5:
        raise NotImplementedError("arrayloss.optax.dice_loss: only alpha = beta = 0.5 (Dice)")
    if reduction != "mean":
        raise NotImplementedError("arrayloss.optax.dice_loss: only reduction='mean'")
    xp = namespace_of(predictions=predictions, targets=targets, class_weights=class_weights).xp
    if predictions.ndim == targets.ndim - 1:
        predictions = predictions[..., None]
    if targets.ndim == predictions.ndim - 1:
        targets = targets[..., None]
    if tuple(predictions.shape) != tuple(targets.shape):
        raise ValueError(
            f"Arrays must have the same shape; got {tuple(predictions.shape)} and "
            f"{tuple(targets.shape)}"
        )
    ndim = predictions.ndim
    if axis is not None and tuple(_axes(axis, ndim)) != tuple(range(1, ndim - 1)):
        raise NotImplementedError(
            "arrayloss.optax.dice_loss: only the default axis (all but the first and last)"
        )
    single = predictions.shape[-1] == 1
    if single and apply_softmax:
        predictions = xp.exp(log_sigmoid(xp, predictions))
    order = (0, ndim - 1, *range(1, ndim - 1))
    p = xp.permute_dims(predictions, order)
    t = xp.permute_dims(_float_like(xp, targets, predictions), order)
    return multiclass_dice_loss(
        p,
        t,
        weight=class_weights,
        ignore_index=0 if ignore_background and not single else None,
        softmax=apply_softmax and not single,
        smooth_nr=2.0 * smooth,
        smooth_dr=2.0 * smooth,
        reduction="none",
    )


def multiclass_generalized_dice_loss(
    predictions: Any,
    targets: Any,
    *,
    smooth: float = 1.0,
    apply_softmax: bool = True,
    ignore_background: bool = False,
) -> Any:
    """:func:`optax.losses.multiclass_generalized_dice_loss`: a scalar.

    The mean over the batch of :func:`dice_loss` with optax's class weights, the inverse
    squared class frequencies of ``targets`` normalized to mean 1 (optax's 1e-7 added
    to the squares).
    """
    xp = namespace_of(predictions=predictions, targets=targets).xp
    frequencies = xp.sum(targets, axis=tuple(range(targets.ndim - 1)))
    weights = 1.0 / (frequencies**2 + 1e-7)
    weights = weights / xp.sum(weights) * weights.shape[0]
    loss = dice_loss(
        predictions,
        targets,
        class_weights=_float_like(xp, weights, predictions),
        smooth=smooth,
        apply_softmax=apply_softmax,
        ignore_background=ignore_background,
    )
    return xp.mean(loss)


def binary_dice_loss(
    predictions: Any, targets: Any, *, smooth: float = 1.0, apply_sigmoid: bool = True
) -> Any:
    """:func:`optax.losses.binary_dice_loss`: :func:`dice_loss` on one class (sigmoid)."""
    if predictions.ndim == targets.ndim and predictions.shape[-1] != 1:
        predictions, targets = predictions[..., None], targets[..., None]
    return dice_loss(predictions, targets, smooth=smooth, apply_softmax=apply_sigmoid)


# --- self-supervised, smoothing -----------------------------------------------------------


def ntxent(embeddings: Any, labels: Any, temperature: float = 0.07) -> Any:
    """:func:`optax.losses.ntxent`: a scalar, :func:`arrayloss.ntxent` (its 'mean' is
    optax's mean over the positive pairs)."""
    return _ntxent(embeddings, labels, temperature=temperature, reduction="mean")


def triplet_margin_loss(
    anchors: Any,
    positives: Any,
    negatives: Any,
    axis: int = -1,
    norm_degree: float = 2,
    margin: float = 1.0,
    eps: float = 1e-6,
) -> Any:
    """:func:`optax.losses.triplet_margin_loss`: shape of ``anchors`` less ``axis``.

    :func:`arrayloss.triplet_margin_loss` (``p=norm_degree``), the vectors moved to the
    last axis. Difference: the kernel's distance is PyTorch's
    :math:`\\lVert a - b + \\epsilon \\rVert_p`; optax's is
    :math:`(\\sum (a - b)^p + \\epsilon)^{1/p}` (no absolute value: for odd ``p``
    optax sums signed powers). For even ``p`` the two differ by :math:`O(\\epsilon)`
    (about 1e-6 with the default ``eps``).
    """
    xp = namespace_of(anchors=anchors, positives=positives, negatives=negatives).xp
    last = _axes(axis, anchors.ndim)[0]
    order = (*(i for i in range(anchors.ndim) if i != last), last)
    a, p, n = (xp.permute_dims(v, order) for v in (anchors, positives, negatives))
    return _triplet_margin_loss(a, p, n, margin=margin, p=norm_degree, eps=eps, reduction="none")


def smooth_labels(labels: Any, alpha: float, *, axis: Axis = -1, where: Any = None) -> Any:
    """:func:`optax.losses.smooth_labels`: :func:`arrayloss.smooth_labels` over ``axis``.

    Not provided (``NotImplementedError``): ``where`` (optax counts only the kept
    categories; the kernel counts the whole axis).
    """
    if where is not None:
        raise NotImplementedError("arrayloss.optax.smooth_labels: `where` is not supported")
    return _smooth_labels(labels, alpha, dim=axis)
