"""The generalized cross entropy (Zhang and Sabuncu, 2018) of Keras 3, a noise-robust
loss between cross entropy (q -> 0) and the mean absolute error (q = 1). Private:
``arrayloss.keras.categorical_generalized_cross_entropy`` and
``CategoricalGeneralizedCrossEntropy`` are its fronts."""

from __future__ import annotations

from typing import Any

from ._dispatch import namespace_of
from ._errors import ArrayLossValueError
from ._numerics import compute_dtype
from ._validation import check_array, check_floating, check_integer

__all__ = ["generalized_cross_entropy"]


def generalized_cross_entropy(probs: Any, labels: Any, q: float) -> Any:
    r"""The generalized cross entropy of each sample, unreduced.

    Mirrors :func:`keras.losses.categorical_generalized_cross_entropy` (Keras 3.15).
    With :math:`p_n = x_{n, y_n}` the probability given to the labelled class:

    .. math::

        \ell_n = \frac{1 - p_n^{\,q}}{q}

    The probabilities are taken as they are (neither normalised nor clipped, as in
    Keras), and picked by comparing each label with the class numbers, as Keras's
    one-hot encoding does: a label outside ``[0, C)`` picks nothing, :math:`p_n = 0`
    and :math:`\ell_n = 1 / q`, without an error.

    Parameters
    ----------
    probs : array of shape (N, C) or (N, C, d_1, ..., d_K), real floating
        Probabilities, classes on axis 1 (PyTorch's convention).
    labels : array of shape (N,) or (N, d_1, ..., d_K), integer
        Class indices.
    q : float
        Keras requires it in (0, 1); any nonzero number computes.

    Returns
    -------
    array
        Shape (N,) or (N, d_1, ..., d_K), ``probs``' dtype (float16 and bfloat16
        computed in float32).

    Examples
    --------
    Closed form, :math:`q = 1/2`: :math:`p = 0.25` costs :math:`2 (1 - 0.5) = 1`,
    :math:`p = 1` costs 0, and the label 3 (out of range) :math:`2`.

    >>> import numpy as np
    >>> probs = np.array([[0.75, 0.25], [0.0, 1.0], [0.5, 0.5]])
    >>> generalized_cross_entropy(probs, np.array([1, 1, 3]), 0.5).tolist()
    [1.0, 0.0, 2.0]
    """
    check_array("probs", probs)
    check_array("labels", labels)
    if isinstance(q, bool) or not isinstance(q, (int, float)):
        raise TypeError(f"`q` must be a float; got {type(q).__name__}")
    ctx = namespace_of(probs=probs, labels=labels)
    xp = ctx.xp
    check_floating(xp, "probs", probs)
    check_integer(xp, "labels", labels, "of class indices")
    shape = tuple(probs.shape)
    if probs.ndim < 2 or tuple(labels.shape) != shape[:1] + shape[2:]:
        raise ArrayLossValueError(
            "`probs` must have shape (N, C, ...) and `labels` (N, ...) without the class "
            f"axis; got {shape} and {tuple(labels.shape)}"
        )
    work = compute_dtype(xp, probs.dtype)
    classes = xp.arange(shape[1], dtype=labels.dtype, device=ctx.device)
    classes = xp.reshape(classes, (1, shape[1]) + (1,) * (probs.ndim - 2))
    picked = xp.expand_dims(labels, axis=1) == classes
    with ctx.quiet_floating_point():
        x = xp.astype(probs, work, copy=False)
        p = xp.sum(xp.where(picked, x, xp.zeros_like(x)), axis=1)
        loss = (1.0 - p ** float(q)) / float(q)
        return xp.astype(loss, probs.dtype, copy=False)
