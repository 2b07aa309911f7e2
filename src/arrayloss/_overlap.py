"""Overlap losses, which PyTorch lacks: dice_loss, tversky_loss and multiclass_dice_loss
(MindSpore's DiceLoss and MultiClassDiceLoss, optax's dice_loss, Keras 3's Dice and
Tversky).

The frameworks smooth the ratio in three ways; arrayloss names the two constants, as
MONAI does: ``smooth_nr`` is added to the numerator and ``smooth_dr`` to the
denominator. Keras adds ``1e-7`` to the denominator only (``smooth_nr=0,
smooth_dr=1e-7``, the default here), MindSpore its ``smooth`` to the denominator only,
optax its ``smooth`` to both sides of :math:`(I + s) / (\\ldots + s)`, which for the Dice
ratio :math:`2I / (P + T)` is ``smooth_nr = smooth_dr = 2 * smooth``. The sums are
accumulated in float32 for half-precision inputs.
"""

from __future__ import annotations

from typing import Any

from ._classification import _check_indices_in_range, _check_weight, _hits
from ._dispatch import ArrayContext, jax_auto_jit, namespace_of
from ._errors import ArrayLossTypeError, ArrayLossValueError
from ._numerics import compute_dtype, log_softmax
from ._reduction import apply_reduction, validate_empty, validate_reduction, zero_unweighted_samples
from ._validation import check_array, check_floating, check_same_shape, promote_integers

__all__ = ["dice_loss", "multiclass_dice_loss", "tversky_loss"]


def _check_real(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"`{name}` must be a float; got {type(value).__name__}")
    return float(value)


def _check_flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"`{name}` must be a bool; got {type(value).__name__}")
    return value


def _sums(xp: Any, p: Any, t: Any, axes: tuple[int, ...], squared: bool) -> tuple[Any, Any, Any]:
    """(intersection, sum of p, sum of t) over ``axes``; the sums of squares for
    ``squared`` (MindSpore's and V-Net's denominator)."""
    intersection = xp.sum(p * t, axis=axes)
    if squared:
        return intersection, xp.sum(p * p, axis=axes), xp.sum(t * t, axis=axes)
    return intersection, xp.sum(p, axis=axes), xp.sum(t, axis=axes)


def _dice(xp: Any, p: Any, t: Any, axes: tuple[int, ...], nr: float, dr: float, sq: bool) -> Any:
    intersection, p_sum, t_sum = _sums(xp, p, t, axes, sq)
    return 1.0 - (2.0 * intersection + nr) / (p_sum + t_sum + dr)


def _binary_front(
    name: str, input: Any, target: Any, reduction: str, sample_weight: Any = None
) -> tuple[ArrayContext, Any, Any, Any, str]:
    """Shared checks of dice_loss and tversky_loss: the context, the work arrays, the
    result dtype and the reduction."""
    check_array("input", input)
    check_array("target", target)
    ctx = namespace_of(input=input, target=target, sample_weight=sample_weight)
    xp = ctx.xp
    (target,) = promote_integers(xp, (input,), target=target)
    reduction = validate_reduction(reduction)
    check_floating(xp, "input", input)
    check_floating(xp, "target", target)
    if input.ndim < 1:
        raise ArrayLossValueError(
            f"`input` of {name} must have shape (N, d1, ..., dK): a batch axis; got shape ()"
        )
    check_same_shape("target", target, "input", input)
    result_dtype = xp.result_type(input, target)
    work = compute_dtype(xp, result_dtype)
    p = xp.astype(input, work, copy=False)
    t = xp.astype(target, work, copy=False)
    return ctx, p, t, result_dtype, reduction


def _axes(ndim: int, batch: bool) -> tuple[int, ...]:
    # Per sample: every axis but the batch axis 0; with batch, axis 0 too.
    return tuple(range(0 if batch else 1, ndim))


@jax_auto_jit
def dice_loss(
    input: Any,
    target: Any,
    smooth_nr: float = 0.0,
    smooth_dr: float = 1e-7,
    squared: bool = False,
    batch: bool = False,
    reduction: str = "mean",
    *,
    empty: str = "nan",
    sample_weight: Any | None = None,
) -> Any:
    r"""The Dice loss between probabilities ``input`` and targets, per sample.

    Mirrors :func:`keras.losses.dice` / :class:`keras.losses.Dice` (the defaults),
    :class:`mindspore.nn.DiceLoss` (``squared=True, batch=True, smooth_nr=0,
    smooth_dr=smooth``) and optax's ``binary_dice_loss`` on probabilities
    (``smooth_nr = smooth_dr = 2 * smooth``). For each sample :math:`n`, with the sums
    over every axis but the batch axis (over every axis with ``batch=True``):

    .. math::

        \ell_n = 1 - \frac{2 \sum_i x_{n,i} t_{n,i} + s_{nr}}
                          {\sum_i x_{n,i}^k + \sum_i t_{n,i}^k + s_{dr}}

    with :math:`k = 2` for ``squared``, else 1. Reduced over the samples by
    ``reduction`` ('none', 'mean', 'sum').

    Parameters
    ----------
    input : array of shape (N, d1, ..., dK), real floating
        Probabilities (apply a sigmoid to logits first).
    target : array of ``input``'s shape, real floating or integer (promoted)
        Usually 0 or 1.
    smooth_nr, smooth_dr : float, default 0.0 and 1e-7
        Added to the numerator and to the denominator (Keras's epsilon is 1e-7).
    squared : bool, default False
        Sums of squares in the denominator (MindSpore's, V-Net's).
    batch : bool, default False
        One ratio over the whole batch (Keras's ``axis=None``, MindSpore) instead of one
        per sample.
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
        Of ``input``'s library, device and (promoted) dtype: shape (N,) for 'none'
        (0-d with ``batch``), 0-d otherwise.

    Raises
    ------
    ValueError
        ``target`` of another shape; a 0-d ``input``; an unknown ``reduction``.
    TypeError
        Arrays that are not real floating (integer ``target`` is promoted); options of
        the wrong type.

    Examples
    --------
    Keras's documented example, ``keras.losses.dice(y_true, y_pred, axis=(1, 2, 3))``:
    ``[0.5, 0.75757575]``.

    >>> import numpy as np
    >>> import arrayloss
    >>> y_true = np.array([[[[1.0], [1.0]], [[0.0], [0.0]]], [[[1.0], [1.0]], [[0.0], [0.0]]]])
    >>> y_pred = np.array([[[[0.0], [1.0]], [[0.0], [1.0]]], [[[0.4], [0.0]], [[0.0], [0.9]]]])
    >>> np.round(arrayloss.dice_loss(y_pred, y_true, reduction="none"), 6)
    array([0.5     , 0.757576])
    """
    empty = validate_empty(empty)
    nr, dr = _check_real("smooth_nr", smooth_nr), _check_real("smooth_dr", smooth_dr)
    sq, whole = _check_flag("squared", squared), _check_flag("batch", batch)
    ctx, p, t, result_dtype, reduction = _binary_front(
        "dice_loss", input, target, reduction, sample_weight
    )
    if not whole:  # one value per sample: samples of weight 0 computed at zeros
        p, t = zero_unweighted_samples(ctx, sample_weight, tuple(p.shape[:1]), p, t)
    with ctx.quiet_floating_point():
        loss = _dice(ctx.xp, p, t, _axes(p.ndim, whole), nr, dr, sq)
        return apply_reduction(
            ctx, loss, reduction, dtype=result_dtype, empty=empty, sample_weight=sample_weight
        )


@jax_auto_jit
def tversky_loss(
    input: Any,
    target: Any,
    alpha: float = 0.5,
    beta: float = 0.5,
    smooth_nr: float = 0.0,
    smooth_dr: float = 1e-7,
    batch: bool = False,
    reduction: str = "mean",
    *,
    empty: str = "nan",
    sample_weight: Any | None = None,
) -> Any:
    r"""The Tversky loss between probabilities ``input`` and targets, per sample.

    Mirrors :class:`keras.losses.Tversky` with ``alpha`` and ``beta`` exchanged (see
    below) and optax's ``dice_loss(alpha, beta)`` for one class on probabilities
    (``smooth_nr = smooth_dr = smooth``). With the sums over every axis but the batch
    axis (every axis with ``batch=True``), the true positives
    :math:`TP = \sum x t`, false positives :math:`FP = \sum x (1 - t)` and false
    negatives :math:`FN = \sum (1 - x) t`:

    .. math::

        \ell_n = 1 - \frac{TP + s_{nr}}{TP + \alpha\, FP + \beta\, FN + s_{dr}}

    as in Salehi et al. (2017) and optax: ``alpha`` weighs the false positives. Keras's
    ``tversky`` computes :math:`TP / (TP + \alpha FN + \beta FP + 10^{-7})`, its
    ``alpha`` on the false negatives: Keras's ``(alpha=a, beta=b)`` is
    ``(alpha=b, beta=a)`` here. ``alpha = beta = 1/2`` gives :func:`dice_loss`.

    Parameters
    ----------
    input : array of shape (N, d1, ..., dK), real floating
        Probabilities.
    target : array of ``input``'s shape, real floating or integer (promoted)
    alpha, beta : float, default 0.5
        Weights of the false positives and of the false negatives.
    smooth_nr, smooth_dr : float, default 0.0 and 1e-7
        Added to the numerator and to the denominator.
    batch : bool, default False
        One ratio over the whole batch instead of one per sample.
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
        Shape (N,) for 'none' (0-d with ``batch``), 0-d otherwise; ``input``'s library,
        device and (promoted) dtype.

    Raises
    ------
    ValueError
        ``target`` of another shape; a 0-d ``input``; an unknown ``reduction``.
    TypeError
        Arrays that are not real floating; options of the wrong type.

    Examples
    --------
    Closed form: TP = 0.8, FP = 0.2, FN = 0.2 + 1 = 1.2, so with ``alpha = 0.3``,
    ``beta = 0.7`` the loss is :math:`1 - 0.8 / (0.8 + 0.06 + 0.84)`.

    >>> import numpy as np
    >>> import arrayloss
    >>> x = np.array([[0.8, 0.2, 0.0]])
    >>> t = np.array([[1.0, 0.0, 1.0]])
    >>> loss = arrayloss.tversky_loss(x, t, alpha=0.3, beta=0.7, smooth_dr=0.0)
    >>> bool(np.isclose(loss, 1 - 0.8 / 1.7))
    True
    """
    empty = validate_empty(empty)
    a, b = _check_real("alpha", alpha), _check_real("beta", beta)
    nr, dr = _check_real("smooth_nr", smooth_nr), _check_real("smooth_dr", smooth_dr)
    whole = _check_flag("batch", batch)
    ctx, p, t, result_dtype, reduction = _binary_front(
        "tversky_loss", input, target, reduction, sample_weight
    )
    xp = ctx.xp
    if not whole:  # one value per sample: samples of weight 0 computed at zeros
        p, t = zero_unweighted_samples(ctx, sample_weight, tuple(p.shape[:1]), p, t)
    with ctx.quiet_floating_point():
        tp, p_sum, t_sum = _sums(xp, p, t, _axes(p.ndim, whole), False)
        loss = 1.0 - (tp + nr) / (tp + a * (p_sum - tp) + b * (t_sum - tp) + dr)
        return apply_reduction(
            ctx, loss, reduction, dtype=result_dtype, empty=empty, sample_weight=sample_weight
        )


@jax_auto_jit
def multiclass_dice_loss(
    input: Any,
    target: Any,
    weight: Any | None = None,
    ignore_index: int | None = None,
    softmax: bool = True,
    smooth_nr: float = 0.0,
    smooth_dr: float = 1e-7,
    squared: bool = False,
    batch: bool = False,
    reduction: str = "mean",
    *,
    empty: str = "nan",
    sample_weight: Any | None = None,
) -> Any:
    r"""The Dice loss of each class (axis 1), averaged over the classes, per sample.

    Mirrors :class:`mindspore.nn.MultiClassDiceLoss` (``squared=True, batch=True,
    smooth_nr=0, smooth_dr=1e-5``; its ``weights``, ``ignore_indiex`` and softmax
    activation) and :func:`optax.losses.dice_loss` (classes last there;
    ``smooth_nr = smooth_dr = 2 * smooth``; ``ignore_background`` is
    ``ignore_index=0``). With :math:`p` the softmax of ``input`` over the classes (or
    ``input`` itself for ``softmax=False``), :math:`t` the one-hot targets, and the sums
    over the spatial axes :math:`d_1 \ldots d_K` (and the batch with ``batch=True``):

    .. math::

        \ell_{n,c} = 1 - \frac{2 \sum_i p_{n,c,i} t_{n,c,i} + s_{nr}}
                                {\sum_i p_{n,c,i}^k + \sum_i t_{n,c,i}^k + s_{dr}},
        \qquad
        \ell_n = \frac{1}{|K|} \sum_{c \in K} w_c \, \ell_{n,c}

    over the classes :math:`K` other than ``ignore_index``, :math:`k = 2` for
    ``squared``. Reduced over the samples by ``reduction``.

    Parameters
    ----------
    input : array of shape (N, C, d1, ..., dK), real floating
        Logits (``softmax=True``) or probabilities.
    target : array of shape (N, d1, ..., dK), integer; or of ``input``'s shape, floating
        Class indices in [0, C), or one-hot / probability targets.
    weight : array of shape (C,), optional
        Weight per class.
    ignore_index : int, optional
        A class left out of the mean (optax's ``ignore_background``: 0).
    softmax : bool, default True
        Apply a softmax over axis 1 first (MindSpore's and optax's default).
    smooth_nr, smooth_dr : float, default 0.0 and 1e-7
    squared : bool, default False
    batch : bool, default False
        Each class's ratio over the whole batch (MindSpore) instead of per sample.
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
        Shape (N,) for 'none' (0-d with ``batch``), 0-d otherwise; ``input``'s library,
        device and dtype.

    Raises
    ------
    IndexError
        On eager backends, a class index outside [0, C).
    ValueError
        Shapes that do not fit; an unknown ``reduction``.
    TypeError
        Arrays of the wrong dtype; options of the wrong type.

    Notes
    -----
    MindSpore divides the weighted sum by C, the ignored class included; arrayloss (as
    optax) by the number of classes counted.

    Examples
    --------
    MindSpore's documented example (``nn.MultiClassDiceLoss(weights=None,
    ignore_indiex=None, activation="softmax")`` gives 0.54958105):

    >>> import numpy as np
    >>> import arrayloss
    >>> logits = np.array([[0.2, 0.5, 0.7], [0.3, 0.1, 0.5], [0.9, 0.6, 0.3]])
    >>> labels = np.array([1, 0, 2])
    >>> loss = arrayloss.multiclass_dice_loss(
    ...     logits, labels, squared=True, batch=True, smooth_dr=1e-5
    ... )
    >>> round(float(loss), 6)
    0.549581
    """
    empty = validate_empty(empty)
    check_array("input", input)
    check_array("target", target)
    check_array("weight", weight, optional=True)
    reduction = validate_reduction(reduction)
    nr, dr = _check_real("smooth_nr", smooth_nr), _check_real("smooth_dr", smooth_dr)
    sq, whole = _check_flag("squared", squared), _check_flag("batch", batch)
    use_softmax = _check_flag("softmax", softmax)
    if ignore_index is not None and (
        isinstance(ignore_index, bool) or not isinstance(ignore_index, int)
    ):
        raise TypeError(f"`ignore_index` must be an int or None; got {type(ignore_index).__name__}")
    ctx = namespace_of(input=input, target=target, weight=weight, sample_weight=sample_weight)
    xp = ctx.xp
    check_floating(xp, "input", input)
    if input.ndim < 2:
        raise ArrayLossValueError(
            "`input` of multiclass_dice_loss must have shape (N, C, d1, ..., dK); "
            f"got shape {tuple(input.shape)}"
        )
    n_classes = int(input.shape[1])
    _check_weight(xp, weight, n_classes)
    work = compute_dtype(xp, input.dtype)
    x = xp.astype(input, work, copy=False)
    if tuple(target.shape) == tuple(input.shape):
        if not xp.isdtype(target.dtype, "real floating"):
            raise ArrayLossTypeError(
                "`target` of one-hot or probability targets (the shape of `input`) must "
                f"have a real floating-point dtype; got {target.dtype}"
            )
        t = xp.astype(target, work, copy=False)
    else:
        expected = (input.shape[0], *input.shape[2:])
        if not xp.isdtype(target.dtype, "integral") or tuple(target.shape) != expected:
            raise ArrayLossValueError(
                f"`target` must hold class indices of shape {expected} (integer) or "
                f"targets of `input`'s shape {tuple(input.shape)} (floating); got "
                f"{target.dtype} of shape {tuple(target.shape)}"
            )
        if xp.isdtype(target.dtype, "unsigned integer"):
            target = xp.astype(target, ctx.index_dtype, copy=False)
        _check_indices_in_range(ctx, target, n_classes, None)
        hits = _hits(xp, target, n_classes, input.ndim, 1, None, ctx.device)
        t = xp.astype(hits, work, copy=False)
    if not whole:  # one value per sample: samples of weight 0 computed at zeros
        x, t = zero_unweighted_samples(ctx, sample_weight, tuple(x.shape[:1]), x, t)
    with ctx.quiet_floating_point():
        p = xp.exp(log_softmax(xp, x, 1)) if use_softmax else x
        spatial = tuple(range(2, x.ndim))
        axes = (0, *spatial) if whole else spatial
        loss = _dice(xp, p, t, axes, nr, dr, sq)  # (N, C), or (C,) with batch
        counted = xp.arange(n_classes, device=ctx.device) != (
            -1 if ignore_index is None else ignore_index
        )
        kept = xp.astype(counted, work, copy=False)
        if weight is not None:
            kept = kept * xp.astype(weight, work, copy=False)
        # The class axis is last here: the (C,) weights broadcast onto it.
        loss = xp.sum(loss * kept, axis=-1) / xp.sum(xp.astype(counted, work, copy=False))
        return apply_reduction(
            ctx, loss, reduction, dtype=input.dtype, empty=empty, sample_weight=sample_weight
        )
