"""Keras 3's pointwise losses that PyTorch lacks: hinge, squared_hinge, categorical_hinge,
log_cosh, mean_absolute_percentage_error, mean_squared_logarithmic_error; and Keras's
cosine_similarity as ``cosine_similarity_loss`` (a loss of vectors along ``dim``).

Keras returns the mean over the last axis of each loss; arrayloss keeps PyTorch's
convention (an elementwise loss, reduced by ``reduction``), so 'mean' is Keras's loss
object's default value (``sum_over_batch_size`` of equal-sized rows) and 'none' is
elementwise (Keras's function is its mean over the last axis). Arguments are in
PyTorch's order, ``(input, target)``: Keras's ``(y_true, y_pred)`` reversed.
"""

from __future__ import annotations

import math
from typing import Any

from ._classification import _check_input_shape, _class_axis
from ._dispatch import ArrayContext, jax_auto_jit, namespace_of
from ._errors import ArrayLossValueError
from ._numerics import compute_dtype, log_sigmoid
from ._reduction import (
    apply_reduction,
    sample_weight_kept,
    validate_empty,
    validate_reduction,
    zero_where_unweighted,
)
from ._validation import (
    check_array,
    check_dims,
    check_floating,
    check_same_shape,
    promote_integers,
)

__all__ = [
    "categorical_hinge",
    "cosine_similarity_loss",
    "hinge",
    "log_cosh",
    "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error",
    "squared_hinge",
]

#: Keras's ``backend.epsilon()``.
KERAS_EPSILON = 1e-7


def _front(
    input: Any, target: Any, reduction: str, sample_weight: Any = None, pointwise: bool = True
) -> tuple[ArrayContext, Any, Any, Any, str]:
    """Checks shared by the pointwise losses: the context, the work arrays (float32 for
    half inputs), the result dtype and the reduction. For a ``pointwise`` loss, the
    elements of ``sample_weight`` 0 are computed at x = t = 0 (a zero gradient there)."""
    check_array("input", input)
    check_array("target", target)
    ctx = namespace_of(input=input, target=target, sample_weight=sample_weight)
    xp = ctx.xp
    (target,) = promote_integers(xp, (input,), target=target)
    reduction = validate_reduction(reduction)
    check_floating(xp, "input", input)
    check_floating(xp, "target", target)
    check_same_shape("target", target, "input", input)
    result_dtype = xp.result_type(input, target)
    work = compute_dtype(xp, result_dtype)
    x = xp.astype(input, work, copy=False)
    t = xp.astype(target, work, copy=False)
    if pointwise and sample_weight is not None:
        kept = sample_weight_kept(ctx, sample_weight, tuple(x.shape))
        x, t = zero_where_unweighted(ctx, x, kept), zero_where_unweighted(ctx, t, kept)
    return ctx, x, t, result_dtype, reduction


def _zero(ctx: ArrayContext, like: Any) -> Any:
    return ctx.xp.zeros((), dtype=like.dtype, device=ctx.device)


def _hinge_labels(xp: Any, t: Any) -> Any:
    """Keras's ``convert_binary_labels_to_hinge``: when *every* label is 0 or 1, the
    labels become -1 and 1 (``2 t - 1``); otherwise they stay. Decided on the whole
    array, with array operations only (no value is read: traced and lazy arrays too)."""
    is_binary = xp.all((t == 0) | (t == 1))
    return xp.where(is_binary, 2.0 * t - 1.0, t)


@jax_auto_jit
def hinge(
    input: Any,
    target: Any,
    reduction: str = "mean",
    *,
    empty: str = "nan",
    sample_weight: Any | None = None,
) -> Any:
    r"""The hinge loss, elementwise.

    .. math::

        \ell = \max(0, 1 - y x)

    Mirrors :func:`keras.losses.hinge` / :class:`keras.losses.Hinge` (Keras 3), labels
    included: when every element of ``target`` is 0 or 1, the labels are taken as
    :math:`y = 2t - 1` (-1 and 1), as Keras does; otherwise as they are (usually -1 or
    1). Keras averages over the last axis; arrayloss reduces by ``reduction``.

    Parameters
    ----------
    input : array of shape (*), real floating
        Scores.
    target : array of ``input``'s shape, real floating or integer (promoted)
        Labels in {-1, 1} or in {0, 1}.
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
        ``input``'s shape for 'none', 0-d otherwise; ``input``'s library, device and
        (promoted) dtype.

    Examples
    --------
    Closed form: with 0/1 labels, :math:`y = (-1, 1)`, so the losses are
    :math:`\max(0, 1 + 0.3) = 1.3` and :math:`\max(0, 1 - 2) = 0`.

    >>> import numpy as np
    >>> import arrayloss
    >>> arrayloss.hinge(np.array([0.3, 2.0]), np.array([0.0, 1.0]), reduction="none")
    array([1.3, 0. ])
    """
    return _hinge(input, target, reduction, empty=empty, sample_weight=sample_weight, margin=1.0)


@jax_auto_jit
def _hinge(
    input: Any,
    target: Any,
    reduction: str,
    *,
    empty: str,
    sample_weight: Any | None,
    margin: float,
) -> Any:
    r""":func:`hinge` with its margin as an option, :math:`\max(0, m - y x)` (the public
    loss: m = 1). ``margin=0`` is the perceptron loss
    (:func:`arrayloss.optax.perceptron_loss`)."""
    empty = validate_empty(empty)
    ctx, x, t, result_dtype, reduction = _front(input, target, reduction, sample_weight)
    xp = ctx.xp
    with ctx.quiet_floating_point():
        h = margin - _hinge_labels(xp, t) * x
        loss = xp.maximum(h, _zero(ctx, h))
        return apply_reduction(
            ctx, loss, reduction, dtype=result_dtype, empty=empty, sample_weight=sample_weight
        )


@jax_auto_jit
def squared_hinge(
    input: Any,
    target: Any,
    reduction: str = "mean",
    *,
    empty: str = "nan",
    sample_weight: Any | None = None,
) -> Any:
    r"""The squared hinge loss, elementwise.

    .. math::

        \ell = \max(0, 1 - y x)^2

    Mirrors :func:`keras.losses.squared_hinge` / :class:`keras.losses.SquaredHinge`
    (Keras 3), with its labels: 0/1 labels (every element 0 or 1) become -1/1.

    Parameters
    ----------
    input : array of shape (*), real floating
    target : array of ``input``'s shape, real floating or integer (promoted)
        Labels in {-1, 1} or in {0, 1}.
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
        ``input``'s shape for 'none', 0-d otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> import arrayloss
    >>> arrayloss.squared_hinge(np.array([0.5, -1.0]), np.array([1.0, -1.0]), reduction="sum")
    array(0.25)
    """
    empty = validate_empty(empty)
    ctx, x, t, result_dtype, reduction = _front(input, target, reduction, sample_weight)
    xp = ctx.xp
    with ctx.quiet_floating_point():
        h = 1.0 - _hinge_labels(xp, t) * x
        h = xp.maximum(h, _zero(ctx, h))
        return apply_reduction(
            ctx, h * h, reduction, dtype=result_dtype, empty=empty, sample_weight=sample_weight
        )


@jax_auto_jit
def categorical_hinge(
    input: Any,
    target: Any,
    reduction: str = "mean",
    *,
    empty: str = "nan",
    sample_weight: Any | None = None,
) -> Any:
    r"""The categorical (Crammer-Singer-like) hinge loss of scores over classes.

    Mirrors :func:`keras.losses.categorical_hinge` /
    :class:`keras.losses.CategoricalHinge` (Keras 3), with the classes on axis 1
    (axis 0 unbatched), as PyTorch lays them out (Keras: the last axis):

    .. math::

        \ell_n = \max\Bigl(0,\ \max_c\, (1 - t_{n,c})\, x_{n,c}
                 - \sum_c t_{n,c} x_{n,c} + 1\Bigr)

    for one-hot (or probability) targets :math:`t`. As in Keras, the target class's
    term of the inner maximum is 0 (not excluded), so that maximum is at least 0.

    Parameters
    ----------
    input : array of shape (C,), (N, C) or (N, C, d1, ..., dK), real floating
        Scores.
    target : array of ``input``'s shape, real floating or integer (promoted)
        One-hot targets.
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
        ``input``'s shape without the class axis for 'none', 0-d otherwise.

    Examples
    --------
    Closed form: scores (2, 0.5, -1) with class 1 the target: pos = 0.5, neg = 2,
    so the loss is 2 - 0.5 + 1 = 2.5.

    >>> import numpy as np
    >>> import arrayloss
    >>> float(arrayloss.categorical_hinge(np.array([[2.0, 0.5, -1.0]]), np.array([[0.0, 1.0, 0.0]])))
    2.5
    """
    return _categorical_hinge(
        input, target, reduction, empty=empty, sample_weight=sample_weight, margin=1.0
    )


@jax_auto_jit
def _categorical_hinge(
    input: Any,
    target: Any,
    reduction: str,
    *,
    empty: str,
    sample_weight: Any | None,
    margin: float,
) -> Any:
    r""":func:`categorical_hinge` with its margin (the ``+ 1``) as an option,
    :math:`\max(0, \max_c (1 - t_c) x_c - \sum_c t_c x_c + m)` (the public loss:
    m = 1). ``margin=0`` gives :func:`arrayloss.optax.multiclass_perceptron_loss`."""
    empty = validate_empty(empty)
    ctx, x, t, result_dtype, reduction = _front(
        input, target, reduction, sample_weight, pointwise=False
    )
    xp = ctx.xp
    _check_input_shape(x)
    axis = _class_axis(x)
    # Samples of weight 0 computed at zeros: their gradient is 0, not NaN.
    out_shape = tuple(n for i, n in enumerate(x.shape) if i != axis)
    kept = sample_weight_kept(ctx, sample_weight, out_shape)
    x, t = (zero_where_unweighted(ctx, a, kept, axis=axis) for a in (x, t))
    with ctx.quiet_floating_point():
        pos = xp.sum(t * x, axis=axis)
        # No maximum of an empty array (Dask's chunks raise for one, even along the
        # class axis when the batch is empty): nothing to reduce, so zeros.
        no_elements = 0 in tuple(x.shape)
        neg = xp.zeros_like(pos) if no_elements else xp.max((1.0 - t) * x, axis=axis)
        h = neg - pos + margin
        loss = xp.maximum(h, _zero(ctx, h))
        return apply_reduction(
            ctx, loss, reduction, dtype=result_dtype, empty=empty, sample_weight=sample_weight
        )


@jax_auto_jit
def log_cosh(
    input: Any,
    target: Any,
    reduction: str = "mean",
    *,
    empty: str = "nan",
    sample_weight: Any | None = None,
) -> Any:
    r"""The logarithm of the hyperbolic cosine of the error, elementwise.

    Mirrors :func:`keras.losses.log_cosh` / :class:`keras.losses.LogCosh` (Keras 3) and
    :func:`optax.losses.log_cosh` (elementwise, ``predictions - targets``). With
    :math:`e = x - y`:

    .. math::

        \ell = \log\cosh e = e + \operatorname{softplus}(-2e) - \log 2

    computed as :math:`e - \log\sigma(2e) - \log 2` (finite for every finite :math:`e`,
    where ``cosh`` overflows past about 710; its derivative is :math:`\tanh e`).

    Parameters
    ----------
    input : array of shape (*), real floating
        Predictions.
    target : array of ``input``'s shape, real floating or integer (promoted)
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
        ``input``'s shape for 'none', 0-d otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> import arrayloss
    >>> loss = arrayloss.log_cosh(np.array([1.0, -800.0]), np.zeros(2), reduction="none")
    >>> bool(np.allclose(loss, [np.log(np.cosh(1.0)), 800.0 - np.log(2.0)]))
    True
    """
    empty = validate_empty(empty)
    ctx, x, t, result_dtype, reduction = _front(input, target, reduction, sample_weight)
    xp = ctx.xp
    with ctx.quiet_floating_point():
        e = x - t
        loss = e - log_sigmoid(xp, 2.0 * e) - math.log(2.0)
        return apply_reduction(
            ctx, loss, reduction, dtype=result_dtype, empty=empty, sample_weight=sample_weight
        )


@jax_auto_jit
def mean_absolute_percentage_error(
    input: Any,
    target: Any,
    reduction: str = "mean",
    *,
    empty: str = "nan",
    sample_weight: Any | None = None,
) -> Any:
    r"""The absolute percentage error, elementwise.

    Mirrors :func:`keras.losses.mean_absolute_percentage_error` /
    :class:`keras.losses.MeanAbsolutePercentageError` (Keras 3):

    .. math::

        \ell = 100 \, \frac{|y - x|}{\max(|y|, \epsilon)}, \qquad \epsilon = 10^{-7}

    (Keras's ``backend.epsilon()``), reduced by ``reduction``.

    Parameters
    ----------
    input : array of shape (*), real floating
        Predictions.
    target : array of ``input``'s shape, real floating or integer (promoted)
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
        ``input``'s shape for 'none', 0-d otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> import arrayloss
    >>> arrayloss.mean_absolute_percentage_error(np.array([1.1, 1.5]), np.array([1.0, 2.0]))
    array(17.5)
    """
    empty = validate_empty(empty)
    ctx, x, t, result_dtype, reduction = _front(input, target, reduction, sample_weight)
    xp = ctx.xp
    eps = xp.asarray(KERAS_EPSILON, dtype=x.dtype, device=ctx.device)
    with ctx.quiet_floating_point():
        loss = 100.0 * xp.abs((t - x) / xp.maximum(xp.abs(t), eps))
        return apply_reduction(
            ctx, loss, reduction, dtype=result_dtype, empty=empty, sample_weight=sample_weight
        )


@jax_auto_jit
def mean_squared_logarithmic_error(
    input: Any,
    target: Any,
    reduction: str = "mean",
    *,
    empty: str = "nan",
    sample_weight: Any | None = None,
) -> Any:
    r"""The squared logarithmic error, elementwise.

    Mirrors :func:`keras.losses.mean_squared_logarithmic_error` /
    :class:`keras.losses.MeanSquaredLogarithmicError` (Keras 3):

    .. math::

        \ell = \bigl(\log(1 + \max(x, \epsilon)) - \log(1 + \max(y, \epsilon))\bigr)^2,
        \qquad \epsilon = 10^{-7}

    with ``log1p`` (Keras: ``log(... + 1)``, the same value to rounding).

    Parameters
    ----------
    input : array of shape (*), real floating
        Predictions (negative ones count as :math:`\epsilon`).
    target : array of ``input``'s shape, real floating or integer (promoted)
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
        ``input``'s shape for 'none', 0-d otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> import arrayloss
    >>> loss = arrayloss.mean_squared_logarithmic_error(np.array([np.e - 1]), np.zeros(1))
    >>> bool(np.isclose(loss, 1.0))  # (log e - log 1)^2, up to eps
    True
    """
    empty = validate_empty(empty)
    ctx, x, t, result_dtype, reduction = _front(input, target, reduction, sample_weight)
    xp = ctx.xp
    eps = xp.asarray(KERAS_EPSILON, dtype=x.dtype, device=ctx.device)
    with ctx.quiet_floating_point():
        d = xp.log1p(xp.maximum(x, eps)) - xp.log1p(xp.maximum(t, eps))
        return apply_reduction(
            ctx, d * d, reduction, dtype=result_dtype, empty=empty, sample_weight=sample_weight
        )


def check_int_dim(dim: object) -> int:
    """``dim`` of ``cosine_similarity_loss``: one axis, a Python int (not bool)."""
    if isinstance(dim, bool) or not isinstance(dim, int):
        raise TypeError(f"`dim` must be an int; got {type(dim).__name__}")
    return dim


def _unit(xp: Any, v: Any, axis: int, eps_squared: Any) -> Any:
    """``v / max(|v|, eps)`` along ``axis``, as Keras's ``normalize``:
    ``v * min(rsqrt(|v|^2), 1 / eps)``, written ``v * (1 / sqrt(max(|v|^2, eps^2)))``:
    the same value, and at a zero vector a finite derivative (the maximum's constant
    branch) instead of rsqrt's infinite one. The product (not ``v / |v|``) rounds as
    Keras's does: for vectors of one element, whose derivative is exactly 0, both give
    0 where a quotient leaves a few ulps of 1 / |v|."""
    norm_squared = xp.maximum(xp.sum(v * v, axis=axis, keepdims=True), eps_squared)
    return v * (1.0 / xp.sqrt(norm_squared))


@jax_auto_jit
def cosine_similarity_loss(
    input: Any,
    target: Any,
    dim: int = -1,
    reduction: str = "mean",
    *,
    empty: str = "nan",
    sample_weight: Any | None = None,
) -> Any:
    r"""The negative cosine similarity of ``input`` and ``target`` along ``dim``.

    Mirrors :func:`keras.losses.cosine_similarity` /
    :class:`keras.losses.CosineSimilarity` (Keras 3), its ``axis`` as ``dim``. Each
    vector is L2-normalized as Keras normalizes it, its norm bounded below by
    :math:`\epsilon = 10^{-7}` (Keras's ``backend.epsilon()``):

    .. math::

        \ell = -\sum_d \frac{x_d}{\max(\lVert x \rVert_2, \epsilon)}\,
                \frac{y_d}{\max(\lVert y \rVert_2, \epsilon)}

    between -1 (the same direction: the minimum) and 1; 0 where either vector is zero,
    as in Keras. Reduced over the other axes by ``reduction`` ('mean' is Keras's
    default, ``sum_over_batch_size``).

    Why not ``cosine_similarity``: :func:`torch.nn.functional.cosine_similarity`
    (and ``torch.nn.CosineSimilarity``) is PyTorch's *similarity*, :math:`+\cos`,
    with an ``eps`` on the product of the norms and no reduction; arrayloss keeps
    PyTorch's names meaning what they mean in PyTorch, so Keras's negative loss is
    ``cosine_similarity_loss``. ``cosine_similarity_loss(x, y, dim)`` equals
    ``-torch.nn.functional.cosine_similarity(x, y, dim)`` wherever no norm is below
    its epsilon.

    Differences from Keras, all intended: ``target`` must have ``input``'s shape
    (Keras squeezes or expands a trailing axis of 1 and broadcasts); at a zero
    ``input`` vector the gradient is finite, :math:`-\hat y / \epsilon` (Keras's ``jax.grad`` is NaN
    there: the derivative of ``rsqrt`` at 0 times 0); half-precision inputs are
    computed in float32 (Keras's ``1 / epsilon`` overflows float16, so its zero
    vectors give NaN there).

    Parameters
    ----------
    input : array of shape (*) with at least one dimension, real floating
        Predictions: vectors along ``dim``.
    target : array of ``input``'s shape, real floating or integer (promoted)
    dim : int, default -1
        The axis of the vectors (Keras's ``axis``), in ``[-input.ndim, input.ndim)``.
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
        ``input``'s shape without ``dim`` for 'none', 0-d otherwise; ``input``'s
        library, device and (promoted) dtype.

    Examples
    --------
    Keras's documented example (keras.losses.cosine_similarity): -0 (orthogonal), -1
    (the same direction), 1 (opposite).

    >>> import numpy as np
    >>> import arrayloss
    >>> y_true = np.array([[0.0, 1.0], [1.0, 1.0], [1.0, 1.0]])
    >>> y_pred = np.array([[1.0, 0.0], [1.0, 1.0], [-1.0, -1.0]])
    >>> arrayloss.cosine_similarity_loss(y_pred, y_true, reduction="none").round(6)
    array([-0., -1.,  1.])
    """
    empty = validate_empty(empty)
    ctx, x, t, result_dtype, reduction = _front(
        input, target, reduction, sample_weight, pointwise=False
    )
    xp = ctx.xp
    check_int_dim(dim)
    if x.ndim < 1:
        raise ArrayLossValueError(
            "`input` must have at least 1 dimension (vectors along `dim`); got shape ()"
        )
    (axis,) = check_dims(dim, x.ndim, "input")
    # Vectors of weight 0 computed at zeros: their gradient is 0, not NaN.
    out_shape = tuple(n for i, n in enumerate(x.shape) if i != axis)
    kept = sample_weight_kept(ctx, sample_weight, out_shape)
    x, t = (zero_where_unweighted(ctx, a, kept, axis=axis) for a in (x, t))
    eps_squared = xp.asarray(KERAS_EPSILON**2, dtype=x.dtype, device=ctx.device)
    with ctx.quiet_floating_point():
        loss = -xp.sum(_unit(xp, x, axis, eps_squared) * _unit(xp, t, axis, eps_squared), axis=axis)
        return apply_reduction(
            ctx, loss, reduction, dtype=result_dtype, empty=empty, sample_weight=sample_weight
        )
