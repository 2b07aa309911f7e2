"""Label utilities (not losses): ``smooth_labels``, optax's label smoothing."""

from __future__ import annotations

import math
from typing import Any

from ._dispatch import namespace_of
from ._numerics import compute_dtype
from ._validation import check_array, check_dims, check_floating

__all__ = ["smooth_labels"]


def _check_alpha(alpha: object) -> float:
    """A real number in [0, 1] (Python's or NumPy's; not bool, not an array)."""
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)):
        raise TypeError(f"`alpha` must be a float; got {type(alpha).__name__}")
    a = float(alpha)
    if not 0.0 <= a <= 1.0:
        raise ValueError(f"`alpha` must be between 0 and 1; got {alpha!r}")
    return a


def smooth_labels(labels: Any, alpha: float, *, dim: int | tuple[int, ...] | None = -1) -> Any:
    r"""Label smoothing: the labels mixed with the uniform distribution over the classes.

    Mirrors :func:`optax.smooth_labels` (its ``axis`` as ``dim``): with :math:`K` the
    number of classes (the size of ``dim``; the product of the sizes for several axes),

    .. math::

        \tilde y = (1 - \alpha)\, y + \frac{\alpha}{K}

    which is also Keras 3's ``label_smoothing`` of
    :func:`keras.losses.categorical_crossentropy` (over its ``axis``). Keras's *binary*
    convention (``keras.losses.binary_crossentropy(label_smoothing=...)``),
    :math:`y (1 - \alpha) + \alpha / 2`, is this formula with :math:`K = 2`, the
    smoothing of the two-class one-hot :math:`(1 - y, y)`: labels that hold one
    probability each are not vectors over classes, so smooth them by that formula
    (or as ``smooth_labels(stack([1 - y, y], axis=-1), alpha)[..., 1]``), not by this
    function over their last axis. PyTorch's ``cross_entropy(label_smoothing=alpha)``
    applies the categorical convention to its targets internally.

    A utility, not a loss: it returns an array of ``labels``'s shape, to pass as the
    target of a loss taking probabilities (:func:`arrayloss.cross_entropy`,
    :func:`arrayloss.binary_cross_entropy`, ...).

    Differences from optax, all intended: ``alpha`` is a Python number in [0, 1]
    (optax takes any array and checks nothing); optax's ``where`` (a mask of the
    classes counted in :math:`K`) is not supported; half-precision labels are computed
    in float32 and rounded once.

    Parameters
    ----------
    labels : array of shape (*), real floating
        One-hot labels (or probabilities) along ``dim``.
    alpha : float in [0, 1]
        The smoothing factor: 0 keeps the labels, 1 gives the uniform distribution.
    dim : int, tuple of ints or None, default -1
        The class axis (optax's ``axis``; -1, the last axis, as optax and Keras; 1 for
        PyTorch's (N, C, d1, ..., dK) layout); several axes, or None for every axis,
        count their classes together.

    Returns
    -------
    array
        ``labels``'s shape, library, device and dtype.

    Examples
    --------
    optax's definition, by hand: 3 classes, alpha 0.3, so 0.7 y + 0.1.

    >>> import numpy as np
    >>> import arrayloss
    >>> arrayloss.smooth_labels(np.array([[0.0, 1.0, 0.0]]), 0.3)
    array([[0.1, 0.8, 0.1]])
    """
    check_array("labels", labels)
    ctx = namespace_of(labels=labels)
    xp = ctx.xp
    check_floating(xp, "labels", labels)
    a = _check_alpha(alpha)
    axes = check_dims(dim, labels.ndim, "labels")
    n_classes = math.prod(labels.shape[d] for d in axes)
    y = xp.astype(labels, compute_dtype(xp, labels.dtype), copy=False)
    # No class at all: an empty array, whatever the constant.
    smoothed = (1.0 - a) * y + (a / n_classes if n_classes else 0.0)
    return ctx.as_array(xp.astype(smoothed, labels.dtype, copy=False))
