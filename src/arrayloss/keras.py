"""``arrayloss.keras``: Keras 3's ``keras.losses`` functions and classes, on any backend.

Each function has the name, signature and semantics of the Keras 3 function (read off
Keras 3.15.1 with ``inspect.signature``): arguments ``(y_true, y_pred)``, ``from_logits``,
``label_smoothing``, ``axis``, Keras's clipping of probabilities to
``[1e-7, 1 - 1e-7]`` when they are not logits, and one value per sample (the mean, or
for the divergences and the categorical losses the sum, over ``axis``). Each class has
the Keras constructor (``reduction="sum_over_batch_size"``, ``name``, ``dtype``) and call
(``loss(y_true, y_pred, sample_weight=None)``) with Keras's reduction, written once here
(:func:`reduce_weighted_values`). The arrays may be NumPy, PyTorch, JAX, Dask, CuPy or
any array API library: no formula is written twice, every loss is a shared arrayloss
kernel called with ``reduction="none"`` on inputs transformed as Keras transforms them
(clipped probabilities, smoothed labels, the class axis moved to 1).

Importing this module imports no array library and not Keras.

>>> import numpy as np
>>> from arrayloss import keras as kl
>>> y_true = np.array([[0.0, 1.0], [0.0, 0.0]], dtype=np.float32)
>>> y_pred = np.array([[0.6, 0.4], [0.4, 0.6]], dtype=np.float32)
>>> round(float(kl.BinaryCrossentropy()(y_true, y_pred)), 3)  # Keras's docstring: 0.815
0.815

``Circle``/``circle`` (a pairwise metric-learning loss over a batch of embeddings) and
``CategoricalGeneralizedCrossEntropy``/``categorical_generalized_cross_entropy``
(``(1 - p**q) / q``) have no PyTorch counterpart: their kernels are private
(``arrayloss._circle``, ``arrayloss._generalized_ce``), and the top-level API has no
torch-style function for them. ``Circle`` applies Keras's mask (the rows whose loss is 0
leave the mean) itself.

Not provided (see docs/migration/from-keras.md, "Front-end: arrayloss.keras"): the
``Loss`` base's Keras-only machinery (``keras.losses.get``, ``serialize``,
``deserialize``, Keras masks carried on tensors).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from . import _keras_family as _kf
from ._binary import binary_cross_entropy, binary_cross_entropy_with_logits
from ._circle import circle_loss
from ._classification import cross_entropy
from ._ctc import ctc_loss
from ._dispatch import namespace_of
from ._divergence import kl_div
from ._focal import sigmoid_focal_loss, softmax_focal_loss
from ._generalized_ce import generalized_cross_entropy
from ._keras_family import cosine_similarity_loss
from ._numerics import log_softmax
from ._overlap import dice_loss, tversky_loss
from ._probabilistic import poisson_nll_loss
from ._regression import huber_loss, l1_loss, mse_loss

__all__ = [
    "CTC",
    "BinaryCrossentropy",
    "BinaryFocalCrossentropy",
    "CategoricalCrossentropy",
    "CategoricalFocalCrossentropy",
    "CategoricalGeneralizedCrossEntropy",
    "CategoricalHinge",
    "Circle",
    "CosineSimilarity",
    "Dice",
    "Hinge",
    "Huber",
    "KLDivergence",
    "LogCosh",
    "Loss",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredError",
    "MeanSquaredLogarithmicError",
    "Poisson",
    "SparseCategoricalCrossentropy",
    "SquaredHinge",
    "Tversky",
    "binary_crossentropy",
    "binary_focal_crossentropy",
    "categorical_crossentropy",
    "categorical_focal_crossentropy",
    "categorical_generalized_cross_entropy",
    "categorical_hinge",
    "circle",
    "cosine_similarity",
    "ctc",
    "dice",
    "hinge",
    "huber",
    "kl_divergence",
    "log_cosh",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "mean_squared_logarithmic_error",
    "poisson",
    "reduce_weighted_values",
    "sparse_categorical_crossentropy",
    "squared_hinge",
    "tversky",
]

#: Keras's ``keras.config.epsilon()`` (its default).
EPSILON = 1e-7

#: Keras 3.15's ``standardize_reduction``: the accepted reductions.
REDUCTIONS = ("sum_over_batch_size", "sum", None, "none", "mean", "mean_with_sample_weight")


# --- Keras's input transformations ------------------------------------------------------


def _pair(y_true: Any, y_pred: Any) -> tuple[Any, Any, Any]:
    """The namespace, and ``y_true`` cast to ``y_pred``'s dtype (Keras's ``ops.cast``)."""
    xp = namespace_of(y_true=y_true, y_pred=y_pred).xp
    return xp, xp.astype(y_true, y_pred.dtype), y_pred


def _clip(xp: Any, p: Any) -> Any:
    """Keras's clip of probabilities to ``[epsilon, 1 - epsilon]``."""
    return xp.clip(p, EPSILON, 1.0 - EPSILON)


def _axis_to_1(xp: Any, x: Any, axis: int) -> Any:
    """``x`` with ``axis`` (Keras's class axis) moved to 1 (PyTorch's)."""
    nd = x.ndim
    a = axis % nd if nd else 0
    if nd < 2 or a == 1:
        return x
    order = [i for i in range(nd) if i != a]
    order.insert(1, a)
    return xp.permute_dims(x, tuple(order))


def _log_probabilities(xp: Any, p: Any, axis: int) -> Any:
    """Keras's categorical input transformation of probabilities: normalized over
    ``axis``, clipped, logged. (The kernels take logits: ``log_softmax`` of these logs
    renormalizes the clipped probabilities, a change below ``C * 1e-7``.)"""
    return xp.log(_clip(xp, p / xp.sum(p, axis=axis, keepdims=True)))


def _logit(xp: Any, p: Any) -> Any:
    """The logits of Keras's clipped probabilities: ``sigmoid`` of them gives them back."""
    q = _clip(xp, p)
    return xp.log(q) - xp.log1p(-q)


def _labels(xp: Any, y: Any) -> Any:
    """Class indices: Keras casts them to int32."""
    if xp.isdtype(y.dtype, "integral"):
        return y
    return xp.astype(y, xp.int32)


def _mean(xp: Any, values: Any, axis: int = -1) -> Any:
    return xp.mean(values, axis=axis)


# --- Keras's reduction ------------------------------------------------------------------


def _same_rank(xp: Any, x1: Any, x2: Any, expand_rank_1: bool = True) -> tuple[Any, Any]:
    """Keras's ``squeeze_or_expand_to_same_rank``: squeeze or expand a trailing axis of
    size 1 when the ranks differ by exactly one."""
    r1, r2 = x1.ndim, x2.ndim
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = xp.expand_dims(x2, axis=-1)
        else:
            x1 = xp.squeeze(x1, axis=-1)
    if r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = xp.expand_dims(x1, axis=-1)
        else:
            x2 = xp.squeeze(x2, axis=-1)
    return x1, x2


def _divide_no_nan(xp: Any, a: Any, b: Any) -> Any:
    """Keras's ``ops.divide_no_nan``: 0 where ``b`` is 0 (with finite gradients)."""
    zero = b == 0
    safe = xp.where(zero, xp.ones_like(b), b)
    return xp.where(zero, xp.zeros_like(a), a / safe)


def check_reduction(reduction: object) -> str | None:
    """Keras's ``standardize_reduction``: ``ValueError`` for any other value."""
    if not isinstance(reduction, (str, type(None))) or reduction not in REDUCTIONS:
        allowed = "{" + ", ".join(repr(r) for r in REDUCTIONS) + "}"
        raise ValueError(
            "Invalid value for argument `reduction`. "
            f"Expected one of {allowed}. Received: reduction={reduction}"
        )
    return reduction


def reduce_weighted_values(
    values: Any,
    sample_weight: Any | None = None,
    mask: Any | None = None,
    reduction: str | None = "sum_over_batch_size",
) -> Any:
    """Keras 3's ``reduce_weighted_values`` over the array namespace.

    ``mask`` (Keras's mask on the losses, boolean) becomes weights: with
    'sum_over_batch_size' and 'mean', ``size / count(mask)`` on the kept entries (so the
    mean is over the kept ones), otherwise 1; it multiplies ``sample_weight``. The
    weights, their trailing axis of size 1 squeezed or expanded to ``values``'s rank,
    multiply the losses; then 'none' and ``None`` return them (as do 0-d and empty
    one-dimensional losses), 'sum' sums them, 'sum_over_batch_size' and 'mean' divide
    that sum by the number of losses, 'mean_with_sample_weight' by the sum of the
    weights (by the number of losses without weights); a divisor 0 gives 0.
    """
    reduction = check_reduction(reduction)
    ctx = namespace_of(values=values, sample_weight=sample_weight, mask=mask)
    xp, device = ctx.xp, ctx.device
    dtype = values.dtype
    weight = None
    if sample_weight is not None:
        weight = xp.astype(xp.asarray(sample_weight, device=device), dtype)
    if mask is not None:
        m = xp.astype(mask, dtype)
        if reduction in ("mean", "sum_over_batch_size"):
            total = xp.asarray(float(math.prod(mask.shape)), dtype=dtype, device=device)
            m = m * _divide_no_nan(xp, total, xp.sum(m))
        if weight is None:
            weight = m
        else:
            m, weight = _same_rank(xp, m, weight)
            weight = weight * m
    if weight is not None:
        values, weight = _same_rank(xp, values, weight)
        values = values * weight
    if reduction is None or reduction == "none" or tuple(values.shape) in ((), (0,)):
        return values
    loss = xp.sum(values)
    if reduction == "sum":
        return loss
    if reduction == "mean_with_sample_weight" and weight is not None:
        divisor = xp.sum(weight)
    else:
        divisor = xp.asarray(float(math.prod(values.shape)), dtype=dtype, device=device)
    return _divide_no_nan(xp, loss, divisor)


# --- the functions ----------------------------------------------------------------------


def mean_squared_error(y_true: Any, y_pred: Any) -> Any:
    """:func:`keras.losses.mean_squared_error`: :func:`arrayloss.mse_loss`, mean over
    the last axis."""
    xp, t, p = _pair(y_true, y_pred)
    return _mean(xp, mse_loss(p, t, reduction="none"))


def mean_absolute_error(y_true: Any, y_pred: Any) -> Any:
    """:func:`keras.losses.mean_absolute_error`: :func:`arrayloss.l1_loss`, mean over
    the last axis. (The gradient at ``y_pred == y_true`` is PyTorch's 0.)"""
    xp, t, p = _pair(y_true, y_pred)
    return _mean(xp, l1_loss(p, t, reduction="none"))


def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> Any:
    """:func:`keras.losses.mean_absolute_percentage_error`:
    :func:`arrayloss.mean_absolute_percentage_error`, mean over the last axis."""
    xp, t, p = _pair(y_true, y_pred)
    return _mean(xp, _kf.mean_absolute_percentage_error(p, t, reduction="none"))


def mean_squared_logarithmic_error(y_true: Any, y_pred: Any) -> Any:
    """:func:`keras.losses.mean_squared_logarithmic_error`:
    :func:`arrayloss.mean_squared_logarithmic_error`, mean over the last axis."""
    xp, t, p = _pair(y_true, y_pred)
    return _mean(xp, _kf.mean_squared_logarithmic_error(p, t, reduction="none"))


def huber(y_true: Any, y_pred: Any, delta: float = 1.0) -> Any:
    """:func:`keras.losses.huber`: :func:`arrayloss.huber_loss`, mean over the last axis."""
    xp, t, p = _pair(y_true, y_pred)
    return _mean(xp, huber_loss(p, t, reduction="none", delta=delta))


def log_cosh(y_true: Any, y_pred: Any) -> Any:
    """:func:`keras.losses.log_cosh`: :func:`arrayloss.log_cosh`, mean over the last axis."""
    xp, t, p = _pair(y_true, y_pred)
    return _mean(xp, _kf.log_cosh(p, t, reduction="none"))


def hinge(y_true: Any, y_pred: Any) -> Any:
    """:func:`keras.losses.hinge`: :func:`arrayloss.hinge` (labels that are all 0 or 1
    become -1 and 1, as in Keras), mean over the last axis."""
    xp, t, p = _pair(y_true, y_pred)
    return _mean(xp, _kf.hinge(p, t, reduction="none"))


def squared_hinge(y_true: Any, y_pred: Any) -> Any:
    """:func:`keras.losses.squared_hinge`: :func:`arrayloss.squared_hinge`, mean over
    the last axis."""
    xp, t, p = _pair(y_true, y_pred)
    return _mean(xp, _kf.squared_hinge(p, t, reduction="none"))


def categorical_hinge(y_true: Any, y_pred: Any) -> Any:
    """:func:`keras.losses.categorical_hinge`: :func:`arrayloss.categorical_hinge` over
    the last axis (moved to 1)."""
    xp, t, p = _pair(y_true, y_pred)
    return _kf.categorical_hinge(_axis_to_1(xp, p, -1), _axis_to_1(xp, t, -1), reduction="none")


def kl_divergence(y_true: Any, y_pred: Any) -> Any:
    """:func:`keras.losses.kl_divergence`: :func:`arrayloss.kl_div` of the logs of
    ``y_pred``, both clipped to ``[1e-7, 1]`` as in Keras, *summed* over the last axis."""
    xp, t, p = _pair(y_true, y_pred)
    t = xp.clip(t, EPSILON, 1.0)
    p = xp.clip(p, EPSILON, 1.0)
    return xp.sum(kl_div(xp.log(p), t, reduction="none"), axis=-1)


def poisson(y_true: Any, y_pred: Any) -> Any:
    """:func:`keras.losses.poisson`: :func:`arrayloss.poisson_nll_loss` of the rate
    (``log_input=False``) with Keras's ``eps=1e-7``, mean over the last axis."""
    xp, t, p = _pair(y_true, y_pred)
    return _mean(xp, poisson_nll_loss(p, t, log_input=False, eps=EPSILON, reduction="none"))


def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> Any:
    """:func:`keras.losses.cosine_similarity`: :func:`arrayloss.cosine_similarity_loss`
    (minus the cosine, Keras's epsilon) along ``axis``."""
    _, t, p = _pair(y_true, y_pred)
    return cosine_similarity_loss(p, t, dim=axis, reduction="none")


def binary_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Any:
    """:func:`keras.losses.binary_crossentropy`, mean over ``axis``.

    Logits: :func:`arrayloss.binary_cross_entropy_with_logits`; probabilities:
    :func:`arrayloss.binary_cross_entropy` of the probabilities clipped to
    ``[1e-7, 1 - 1e-7]`` as Keras clips them. ``label_smoothing`` is the kernels'
    (Keras's binary convention, :math:`y (1 - a) + a / 2`).
    """
    xp, t, p = _pair(y_true, y_pred)
    if from_logits:
        loss = binary_cross_entropy_with_logits(
            p, t, reduction="none", label_smoothing=float(label_smoothing)
        )
    else:
        loss = binary_cross_entropy(
            _clip(xp, p), t, reduction="none", label_smoothing=float(label_smoothing)
        )
    return _mean(xp, loss, axis)


def binary_focal_crossentropy(
    y_true: Any,
    y_pred: Any,
    apply_class_balancing: bool = False,
    alpha: float = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Any:
    """:func:`keras.losses.binary_focal_crossentropy`: :func:`arrayloss.sigmoid_focal_loss`
    (``alpha`` only with ``apply_class_balancing``), mean over ``axis``.

    Probabilities are clipped to ``[1e-7, 1 - 1e-7]`` and passed as their logits;
    labels are smoothed as Keras smooths them (:math:`y (1 - a) + a / 2`). Difference:
    with ``from_logits=True`` Keras takes the sigmoid and clips it, this function uses
    the logits (equal unless ``|y_pred| > 16``, where Keras's loss saturates).
    """
    xp, t, p = _pair(y_true, y_pred)
    if label_smoothing:
        t = t * (1.0 - label_smoothing) + 0.5 * label_smoothing
    x = p if from_logits else _logit(xp, p)
    a = float(alpha) if apply_class_balancing else -1.0
    return _mean(xp, sigmoid_focal_loss(x, t, alpha=a, gamma=gamma, reduction="none"), axis)


def _categorical_logits(xp: Any, y_pred: Any, from_logits: bool, axis: int) -> Any:
    return y_pred if from_logits else _log_probabilities(xp, y_pred, axis)


def categorical_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Any:
    """:func:`keras.losses.categorical_crossentropy`: :func:`arrayloss.cross_entropy`
    with probability targets and its ``label_smoothing`` (Keras's categorical
    convention), classes along ``axis``; probabilities normalized and clipped as in Keras.
    """
    if isinstance(axis, bool):
        raise ValueError(f"`axis` must be of type `int`. Received: axis={axis} of type bool")
    xp, t, p = _pair(y_true, y_pred)
    x = _categorical_logits(xp, p, from_logits, axis)
    return cross_entropy(
        _axis_to_1(xp, x, axis),
        _axis_to_1(xp, t, axis),
        reduction="none",
        label_smoothing=float(label_smoothing),
    )


def categorical_focal_crossentropy(
    y_true: Any,
    y_pred: Any,
    alpha: float = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Any:
    """:func:`keras.losses.categorical_focal_crossentropy`:
    :func:`arrayloss.softmax_focal_loss` with probability targets, classes along ``axis``.

    Probabilities are normalized, clipped and logged as in Keras; labels smoothed as
    Keras smooths them (:func:`arrayloss.smooth_labels` over ``axis``). Difference: with
    ``from_logits=True`` Keras clips the softmax at ``1e-7``, this function does not (equal
    unless a class's probability is below 1e-7).
    """
    if isinstance(axis, bool):
        raise ValueError(f"`axis` must be of type `int`. Received: axis={axis} of type bool")
    from ._labels import smooth_labels

    xp, t, p = _pair(y_true, y_pred)
    if label_smoothing:
        t = smooth_labels(t, float(label_smoothing), dim=axis)
    x = _categorical_logits(xp, p, from_logits, axis)
    return softmax_focal_loss(
        _axis_to_1(xp, x, axis),
        _axis_to_1(xp, t, axis),
        alpha=alpha,
        gamma=gamma,
        reduction="none",
    )


def _sparse(
    y_true: Any, y_pred: Any, from_logits: bool, ignore_class: int | None, axis: int
) -> tuple[Any, Any | None]:
    xp = namespace_of(y_true=y_true, y_pred=y_pred).xp
    if y_true.ndim == y_pred.ndim and y_true.shape[axis] == 1:
        y_true = xp.squeeze(y_true, axis=axis)
    labels = _labels(xp, y_true)
    x = _axis_to_1(xp, _categorical_logits(xp, y_pred, from_logits, axis), axis)
    if ignore_class is None:
        return cross_entropy(x, labels, reduction="none"), None
    loss = cross_entropy(x, labels, reduction="none", ignore_index=int(ignore_class))
    return loss, labels != ignore_class


def sparse_categorical_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    ignore_class: int | None = None,
    axis: int = -1,
) -> Any:
    """:func:`keras.losses.sparse_categorical_crossentropy`: :func:`arrayloss.cross_entropy`
    with class indices (``ignore_class`` as ``ignore_index``: 0 there), classes along
    ``axis``; probabilities normalized and clipped as in Keras. A trailing label axis of
    size 1 is squeezed. (Keras also attaches a mask to the result, which its
    ``SparseCategoricalCrossentropy`` uses; the class here does the same.)
    """
    return _sparse(y_true, y_pred, from_logits, ignore_class, axis)[0]


def ctc(y_true: Any, y_pred: Any) -> Any:
    """:func:`keras.losses.ctc`: :func:`arrayloss.ctc_loss` of ``log_softmax(y_pred)``.

    ``y_true`` ``(N, S)`` labels padded with 0, which is also the blank; ``y_pred``
    ``(N, T, C)`` logits; every input is ``T`` long; one loss per sample.
    """
    ctx = namespace_of(y_true=y_true, y_pred=y_pred)
    xp = ctx.xp
    if y_true.ndim != 2:
        raise ValueError(
            f"Targets `y_true` are expected to be a tensor of shape "
            f"`(batch_size, max_length)` in integer format. Received: "
            f"y_true.shape={tuple(y_true.shape)}"
        )
    if y_pred.ndim != 3:
        raise ValueError(
            f"Logits `y_pred` are expected to be a tensor of shape "
            f"`(batch_size, max_length, num_classes)`. Received: "
            f"y_pred.shape={tuple(y_pred.shape)}"
        )
    labels = _labels(xp, y_true)
    n, t = y_pred.shape[0], y_pred.shape[1]
    log_probs = xp.permute_dims(log_softmax(xp, y_pred, -1), (1, 0, 2))
    lengths = xp.full((n,), t, dtype=labels.dtype, device=ctx.device)
    label_lengths = xp.sum(xp.astype(labels != 0, labels.dtype), axis=-1)
    return ctc_loss(log_probs, labels, lengths, label_lengths, blank=0, reduction="none")


def _flatten_axes(xp: Any, y_true: Any, y_pred: Any, axis: Any) -> tuple[Any, Any, tuple[int, ...]]:
    """``(M, K)`` views: the kept axes flattened into the rows, ``axis`` into the columns;
    and the kept shape (the kernels' sums are over every axis but 0)."""
    nd = y_pred.ndim
    if axis is None:
        axes = tuple(range(nd))
    else:
        axes = tuple(sorted({a % nd for a in ((axis,) if isinstance(axis, int) else axis)}))
    kept = tuple(i for i in range(nd) if i not in axes)
    kept_shape = tuple(y_pred.shape[i] for i in kept)
    rows = math.prod(kept_shape)
    order = kept + axes

    def flat(a: Any) -> Any:
        return xp.reshape(xp.permute_dims(a, order), (rows, -1))

    return flat(y_true), flat(y_pred), kept_shape


def dice(y_true: Any, y_pred: Any, axis: Any = None) -> Any:
    """:func:`keras.losses.dice`: :func:`arrayloss.dice_loss` (``smooth_dr=1e-7``, Keras's
    epsilon), the sums over ``axis`` (all axes for ``None``: one value)."""
    xp, t, p = _pair(y_true, y_pred)
    t2, p2, kept = _flatten_axes(xp, t, p, axis)
    return xp.reshape(dice_loss(p2, t2, smooth_dr=EPSILON, reduction="none"), kept)


def tversky(
    y_true: Any, y_pred: Any, alpha: float = 0.5, beta: float = 0.5, axis: Any = None
) -> Any:
    """:func:`keras.losses.tversky`: :func:`arrayloss.tversky_loss` with ``alpha`` and
    ``beta`` exchanged (Keras weighs the false *negatives*, ``sum((1 - p) y)``, by
    ``alpha``), the sums over ``axis`` (all axes for ``None``)."""
    xp, t, p = _pair(y_true, y_pred)
    t2, p2, kept = _flatten_axes(xp, t, p, axis)
    loss = tversky_loss(p2, t2, alpha=beta, beta=alpha, smooth_dr=EPSILON, reduction="none")
    return xp.reshape(loss, kept)


def _circle(
    y_true: Any,
    y_pred: Any,
    ref_labels: Any | None,
    ref_embeddings: Any | None,
    remove_diagonal: bool,
    gamma: float,
    margin: float,
) -> tuple[Any, Any]:
    xp = namespace_of(y_true=y_true, y_pred=y_pred, ref_labels=ref_labels).xp
    return circle_loss(
        y_pred,
        _labels(xp, y_true),
        ref_embeddings,
        None if ref_labels is None else _labels(xp, ref_labels),
        gamma=gamma,
        margin=margin,
        remove_diagonal=remove_diagonal,
    )


def circle(
    y_true: Any,
    y_pred: Any,
    ref_labels: Any | None = None,
    ref_embeddings: Any | None = None,
    remove_diagonal: bool = True,
    gamma: float = 80,
    margin: float = 0.4,
) -> Any:
    """:func:`keras.losses.circle`: the Circle loss of each embedding of ``y_pred``
    ``(N, D)`` (L2-normalised, as Keras expects; not normalised here) against
    ``ref_embeddings`` (``y_pred`` by default), positives the equal labels (float labels
    cast to int32 as Keras casts them); 0 for a row without a positive or a negative
    pair. (Keras also attaches the mask ``loss > 0`` to the result, which its ``Circle``
    uses; the class here does the same.)"""
    return _circle(y_true, y_pred, ref_labels, ref_embeddings, remove_diagonal, gamma, margin)[0]


def categorical_generalized_cross_entropy(y_true: Any, y_pred: Any, q: float) -> Any:
    """:func:`keras.losses.categorical_generalized_cross_entropy`: ``(1 - p**q) / q`` with
    ``p`` the probability ``y_pred`` gives the class ``y_true`` (classes on the last
    axis; neither normalised nor clipped, as in Keras; float labels cast to int32; a
    label out of range gives ``p = 0``, as Keras's one-hot). A trailing label axis of
    size 1 is squeezed (Keras's docstring allows ``(N, 1)``, but its one-hot broadcasts
    that against ``y_pred`` into an ``(N, N)`` result)."""
    xp = namespace_of(y_true=y_true, y_pred=y_pred).xp
    if y_true.ndim == y_pred.ndim and y_true.ndim and y_true.shape[-1] == 1:
        y_true = xp.squeeze(y_true, axis=-1)
    return generalized_cross_entropy(_axis_to_1(xp, y_pred, -1), _labels(xp, y_true), q)


# --- the classes ------------------------------------------------------------------------


class Loss:
    """:class:`keras.losses.Loss`: ``reduction`` (checked as Keras checks it), ``name`` and
    ``dtype``; ``loss(y_true, y_pred, sample_weight=None)`` computes ``call`` and reduces
    with :func:`reduce_weighted_values`.

    ``dtype``: the floating dtype name both inputs are cast to first (Keras's default
    is ``keras.config.floatx()``, float32); ``None`` here keeps the arrays' own dtype.
    """

    def __init__(
        self,
        name: str | None = None,
        reduction: str | None = "sum_over_batch_size",
        dtype: str | None = None,
    ) -> None:
        self.name = name or _snake(type(self).__name__)
        self.reduction = check_reduction(reduction)
        self.dtype = dtype

    def call(self, y_true: Any, y_pred: Any) -> Any:
        raise NotImplementedError

    def _call_with_mask(self, y_true: Any, y_pred: Any) -> tuple[Any, Any | None]:
        return self.call(y_true, y_pred), None

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any | None = None) -> Any:
        if self.dtype is not None:
            xp = namespace_of(y_true=y_true, y_pred=y_pred).xp
            dt = getattr(xp, self.dtype)
            y_pred = xp.astype(y_pred, dt)
            if not isinstance(self, _LABEL_CLASSES):
                y_true = xp.astype(y_true, dt)
        values, mask = self._call_with_mask(y_true, y_pred)
        return reduce_weighted_values(values, sample_weight, mask, self.reduction)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "reduction": self.reduction}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() and i else c.lower() for i, c in enumerate(name))


class _Wrapper(Loss):
    """Keras's ``LossFunctionWrapper``: ``fn(y_true, y_pred, **options)`` after Keras's
    squeeze or expansion of a trailing axis of size 1."""

    _fn: Callable[..., Any]

    def __init__(
        self,
        reduction: str | None,
        name: str,
        dtype: str | None,
        **options: Any,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self._options = options

    def call(self, y_true: Any, y_pred: Any) -> Any:
        xp = namespace_of(y_true=y_true, y_pred=y_pred).xp
        y_true, y_pred = _same_rank(xp, y_true, y_pred)
        return type(self)._fn(y_true, y_pred, **self._options)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), **self._options}


class MeanSquaredError(_Wrapper):
    """:class:`keras.losses.MeanSquaredError` over :func:`mean_squared_error`."""

    _fn = staticmethod(mean_squared_error)

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "mean_squared_error",
        dtype: str | None = None,
    ) -> None:
        super().__init__(reduction, name, dtype)


class MeanAbsoluteError(_Wrapper):
    """:class:`keras.losses.MeanAbsoluteError` over :func:`mean_absolute_error`."""

    _fn = staticmethod(mean_absolute_error)

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "mean_absolute_error",
        dtype: str | None = None,
    ) -> None:
        super().__init__(reduction, name, dtype)


class MeanAbsolutePercentageError(_Wrapper):
    """:class:`keras.losses.MeanAbsolutePercentageError` over :func:`mean_absolute_percentage_error`."""

    _fn = staticmethod(mean_absolute_percentage_error)

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "mean_absolute_percentage_error",
        dtype: str | None = None,
    ) -> None:
        super().__init__(reduction, name, dtype)


class MeanSquaredLogarithmicError(_Wrapper):
    """:class:`keras.losses.MeanSquaredLogarithmicError` over :func:`mean_squared_logarithmic_error`."""

    _fn = staticmethod(mean_squared_logarithmic_error)

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "mean_squared_logarithmic_error",
        dtype: str | None = None,
    ) -> None:
        super().__init__(reduction, name, dtype)


class LogCosh(_Wrapper):
    """:class:`keras.losses.LogCosh` over :func:`log_cosh`."""

    _fn = staticmethod(log_cosh)

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "log_cosh",
        dtype: str | None = None,
    ) -> None:
        super().__init__(reduction, name, dtype)


class Hinge(_Wrapper):
    """:class:`keras.losses.Hinge` over :func:`hinge`."""

    _fn = staticmethod(hinge)

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "hinge",
        dtype: str | None = None,
    ) -> None:
        super().__init__(reduction, name, dtype)


class SquaredHinge(_Wrapper):
    """:class:`keras.losses.SquaredHinge` over :func:`squared_hinge`."""

    _fn = staticmethod(squared_hinge)

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "squared_hinge",
        dtype: str | None = None,
    ) -> None:
        super().__init__(reduction, name, dtype)


class CategoricalHinge(_Wrapper):
    """:class:`keras.losses.CategoricalHinge` over :func:`categorical_hinge`."""

    _fn = staticmethod(categorical_hinge)

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "categorical_hinge",
        dtype: str | None = None,
    ) -> None:
        super().__init__(reduction, name, dtype)


class KLDivergence(_Wrapper):
    """:class:`keras.losses.KLDivergence` over :func:`kl_divergence`."""

    _fn = staticmethod(kl_divergence)

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "kl_divergence",
        dtype: str | None = None,
    ) -> None:
        super().__init__(reduction, name, dtype)


class Poisson(_Wrapper):
    """:class:`keras.losses.Poisson` over :func:`poisson`."""

    _fn = staticmethod(poisson)

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "poisson",
        dtype: str | None = None,
    ) -> None:
        super().__init__(reduction, name, dtype)


class CTC(_Wrapper):
    """:class:`keras.losses.CTC` over :func:`ctc`."""

    _fn = staticmethod(ctc)

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "ctc",
        dtype: str | None = None,
    ) -> None:
        super().__init__(reduction, name, dtype)


class CosineSimilarity(_Wrapper):
    """:class:`keras.losses.CosineSimilarity` over :func:`cosine_similarity`."""

    _fn = staticmethod(cosine_similarity)

    def __init__(
        self,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "cosine_similarity",
        dtype: str | None = None,
    ) -> None:
        super().__init__(reduction, name, dtype, axis=axis)


class Huber(_Wrapper):
    """:class:`keras.losses.Huber` over :func:`huber`."""

    _fn = staticmethod(huber)

    def __init__(
        self,
        delta: float = 1.0,
        reduction: str | None = "sum_over_batch_size",
        name: str = "huber_loss",
        dtype: str | None = None,
    ) -> None:
        super().__init__(reduction, name, dtype, delta=delta)


class BinaryCrossentropy(_Wrapper):
    """:class:`keras.losses.BinaryCrossentropy` over :func:`binary_crossentropy`."""

    _fn = staticmethod(binary_crossentropy)

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "binary_crossentropy",
        dtype: str | None = None,
    ) -> None:
        super().__init__(
            reduction,
            name,
            dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )


class BinaryFocalCrossentropy(_Wrapper):
    """:class:`keras.losses.BinaryFocalCrossentropy` over :func:`binary_focal_crossentropy`."""

    _fn = staticmethod(binary_focal_crossentropy)

    def __init__(
        self,
        apply_class_balancing: bool = False,
        alpha: float = 0.25,
        gamma: float = 2.0,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "binary_focal_crossentropy",
        dtype: str | None = None,
    ) -> None:
        super().__init__(
            reduction,
            name,
            dtype,
            apply_class_balancing=apply_class_balancing,
            alpha=alpha,
            gamma=gamma,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )


class CategoricalCrossentropy(_Wrapper):
    """:class:`keras.losses.CategoricalCrossentropy` over :func:`categorical_crossentropy`."""

    _fn = staticmethod(categorical_crossentropy)

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "categorical_crossentropy",
        dtype: str | None = None,
    ) -> None:
        super().__init__(
            reduction,
            name,
            dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )


class CategoricalFocalCrossentropy(_Wrapper):
    """:class:`keras.losses.CategoricalFocalCrossentropy` over
    :func:`categorical_focal_crossentropy`."""

    _fn = staticmethod(categorical_focal_crossentropy)

    def __init__(
        self,
        alpha: float = 0.25,
        gamma: float = 2.0,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "categorical_focal_crossentropy",
        dtype: str | None = None,
    ) -> None:
        super().__init__(
            reduction,
            name,
            dtype,
            alpha=alpha,
            gamma=gamma,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )


class SparseCategoricalCrossentropy(_Wrapper):
    """:class:`keras.losses.SparseCategoricalCrossentropy` over
    :func:`sparse_categorical_crossentropy`. With ``ignore_class``, the ignored entries
    are masked as in Keras: 'sum_over_batch_size' is the mean over the others."""

    _fn = staticmethod(sparse_categorical_crossentropy)

    def __init__(
        self,
        from_logits: bool = False,
        ignore_class: int | None = None,
        reduction: str | None = "sum_over_batch_size",
        axis: int = -1,
        name: str = "sparse_categorical_crossentropy",
        dtype: str | None = None,
    ) -> None:
        super().__init__(
            reduction, name, dtype, from_logits=from_logits, ignore_class=ignore_class, axis=axis
        )

    def _call_with_mask(self, y_true: Any, y_pred: Any) -> tuple[Any, Any | None]:
        xp = namespace_of(y_true=y_true, y_pred=y_pred).xp
        y_true, y_pred = _same_rank(xp, y_true, y_pred)
        return _sparse(y_true, y_pred, **self._options)


class Dice(_Wrapper):
    """:class:`keras.losses.Dice` over :func:`dice`."""

    _fn = staticmethod(dice)

    def __init__(
        self,
        reduction: str | None = "sum_over_batch_size",
        name: str = "dice",
        axis: Any = None,
        dtype: str | None = None,
    ) -> None:
        super().__init__(reduction, name, dtype, axis=axis)


class Tversky(_Wrapper):
    """:class:`keras.losses.Tversky` over :func:`tversky`."""

    _fn = staticmethod(tversky)

    def __init__(
        self,
        alpha: float = 0.5,
        beta: float = 0.5,
        reduction: str | None = "sum_over_batch_size",
        name: str = "tversky",
        axis: Any = None,
        dtype: str | None = None,
    ) -> None:
        super().__init__(reduction, name, dtype, alpha=alpha, beta=beta, axis=axis)


class CategoricalGeneralizedCrossEntropy(_Wrapper):
    """:class:`keras.losses.CategoricalGeneralizedCrossEntropy` over
    :func:`categorical_generalized_cross_entropy`; ``q`` must be in (0, 1), as in Keras."""

    _fn = staticmethod(categorical_generalized_cross_entropy)

    def __init__(
        self,
        q: float = 0.5,
        reduction: str | None = "sum_over_batch_size",
        name: str = "categorical_generalized_cross_entropy",
        dtype: str | None = None,
    ) -> None:
        if isinstance(q, bool) or not isinstance(q, (int, float)) or not 0 < q < 1:
            raise ValueError(f"q must be in the interval (0, 1); got q={q!r}")
        super().__init__(reduction, name, dtype, q=q)


class Circle(_Wrapper):
    """:class:`keras.losses.Circle` over :func:`circle`: the rows whose loss is 0 (no
    positive or no negative pair) are masked as in Keras, so 'sum_over_batch_size' and
    'mean' are the mean over the others, and 'mean_with_sample_weight' divides by their
    weights only."""

    _fn = staticmethod(circle)

    def __init__(
        self,
        gamma: float = 80.0,
        margin: float = 0.4,
        remove_diagonal: bool = True,
        reduction: str | None = "sum_over_batch_size",
        name: str = "circle",
        dtype: str | None = None,
    ) -> None:
        super().__init__(
            reduction, name, dtype, gamma=gamma, margin=margin, remove_diagonal=remove_diagonal
        )

    def _call_with_mask(self, y_true: Any, y_pred: Any) -> tuple[Any, Any | None]:
        xp = namespace_of(y_true=y_true, y_pred=y_pred).xp
        y_true, y_pred = _same_rank(xp, y_true, y_pred)
        o = self._options
        return _circle(y_true, y_pred, None, None, o["remove_diagonal"], o["gamma"], o["margin"])


#: The classes whose ``y_true`` holds labels: ``Loss(dtype=...)`` casts only ``y_pred``.
_LABEL_CLASSES = (SparseCategoricalCrossentropy, CTC, Circle, CategoricalGeneralizedCrossEntropy)
