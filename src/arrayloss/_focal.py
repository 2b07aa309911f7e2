"""Focal losses, which PyTorch lacks: sigmoid_focal_loss (torchvision's, optax's) and
softmax_focal_loss (Keras's CategoricalFocalCrossentropy, MindSpore's FocalLoss).

Each public loss is a short front (namespace, validation, reduction) over a private
kernel that computes the unreduced loss with ``xp`` only, reusing the cross-entropy
kernels of ``_binary`` and ``_classification``. The API convention for losses from
other frameworks (docs/losses/beyond-torch.md): the source framework's parameter names
and defaults, PyTorch's ``reduction`` ('none', 'mean', 'sum') with the source's default
reduction, PyTorch's layouts (classes on axis 1).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._binary import _bce_with_logits_unreduced
from ._classification import (
    _check_ignore_index,
    _check_input_shape,
    _check_weight,
    _class_axis,
    _index_front,
    _nll_unreduced,
    _on_class_axis,
)
from ._dispatch import array_size, jax_auto_jit, namespace_of
from ._errors import ArrayLossTypeError
from ._numerics import compute_dtype, log_sigmoid, log_softmax
from ._reduction import (
    apply_reduction,
    sample_weight_kept,
    validate_empty,
    validate_reduction,
    zero_where_unweighted,
)
from ._validation import (
    check_array,
    check_floating,
    check_same_shape,
    dtype_name,
    promote_integers,
)

__all__ = ["poly1_cross_entropy", "sigmoid_focal_loss", "softmax_focal_loss"]


def _check_real(name: str, value: object) -> float:
    """A real option (``alpha``, ``gamma``): a Python int or float, not bool or array."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"`{name}` must be a float; got {type(value).__name__}")
    return float(value)


def _check_gamma(gamma: object) -> float:
    g = _check_real("gamma", gamma)
    if not g >= 0.0:
        raise ValueError(f"`gamma` must be a float >= 0; got {gamma!r}")
    return g


def _modulating(xp: Any, one_minus_p: Any, gamma: float) -> Any:
    """``(1 - p)^gamma``; 1 for ``gamma = 0`` (no power: its gradient at ``1 - p = 0``
    would be ``0 * inf = nan`` under autodiff, PyTorch's ``pow`` gives 0 there)."""
    if gamma == 0.0:
        return xp.ones_like(one_minus_p)
    return one_minus_p**gamma


# --- sigmoid_focal_loss ------------------------------------------------------------------


def _sigmoid_focal_unreduced(xp: Any, x: Any, t: Any, alpha: float, gamma: float) -> Any:
    # torchvision/ops/focal_loss.py: ce = binary_cross_entropy_with_logits(x, t), the
    # same kernel as arrayloss's (PyTorch's operations, so NaN and inf as there).
    ce = _bce_with_logits_unreduced(xp, x, t, None, None)
    # 1 - p_t = 1 - (p t + (1 - p)(1 - t)) = p (1 - t) + (1 - p) t: for t in [0, 1] a sum
    # of non-negative terms, with p = sigmoid(x) and 1 - p = sigmoid(-x) each from a
    # stable log-sigmoid. torchvision's 1 - p_t cancels to 0 where sigmoid rounds to 1
    # (x > 17 in float32); optax computes the same sum in log space.
    p = xp.exp(log_sigmoid(xp, x))
    q = xp.exp(log_sigmoid(xp, -x))
    loss = ce * _modulating(xp, p * (1.0 - t) + q * t, gamma)
    if alpha >= 0.0:
        loss = (alpha * t + (1.0 - alpha) * (1.0 - t)) * loss
    return loss


@jax_auto_jit
def sigmoid_focal_loss(
    inputs: Any,
    targets: Any,
    alpha: float = 0.25,
    gamma: float = 2,
    reduction: str = "none",
    *,
    empty: str = "nan",
    sample_weight: Any | None = None,
) -> Any:
    r"""The focal loss of RetinaNet on logits, one binary classifier per element.

    Mirrors :func:`torchvision.ops.sigmoid_focal_loss` (torchvision 0.2x: the same
    signature and defaults) and equals :func:`optax.losses.sigmoid_focal_loss` with
    ``alpha`` given (optax's ``alpha=None`` is ``alpha=-1`` here). With
    :math:`p = \sigma(x)` and targets :math:`t \in [0, 1]`:

    .. math::

        \ell = \alpha_t \, (1 - p_t)^{\gamma} \,
               \bigl(-t \log p - (1 - t) \log(1 - p)\bigr), \qquad
        p_t = p\,t + (1 - p)(1 - t), \qquad
        \alpha_t = \alpha\,t + (1 - \alpha)(1 - t)

    and :math:`\alpha_t = 1` when :math:`\alpha < 0`. The cross-entropy term is
    :func:`arrayloss.binary_cross_entropy_with_logits`'s; :math:`1 - p_t` is computed
    as :math:`\sigma(x)(1 - t) + \sigma(-x)\,t` (no cancellation where
    :math:`\sigma(x)` rounds to 1, unlike torchvision's ``1 - p_t``). Reduced by
    ``reduction``: 'none' (torchvision's default), 'mean' over all elements, 'sum'.

    Parameters
    ----------
    inputs : array of shape (*), real floating
        Logits.
    targets : array of ``inputs``' shape, real floating or integer (promoted)
        Usually 0 or 1 (soft targets in [0, 1] too, as optax).
    alpha : float, default 0.25
        Weight of the positive class, :math:`1 - \alpha` of the negative; a negative
        value (torchvision: -1) weighs neither.
    gamma : float >= 0, default 2
        Exponent of the modulating factor :math:`(1 - p_t)`; 0 gives the (alpha-weighted)
        binary cross entropy.
    reduction : {'none', 'mean', 'sum'}, default 'none'
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
        Of ``inputs``' library and device, the promoted dtype of ``inputs`` and
        ``targets``: ``inputs``' shape for 'none', 0-d otherwise.

    Raises
    ------
    ValueError
        Shapes that differ (torchvision's cross entropy raises too); a negative
        ``gamma``; an unknown ``reduction``.
    TypeError
        ``inputs`` or ``targets`` not real floating (or integer ``targets``); ``alpha``
        or ``gamma`` not a number.

    Notes
    -----
    float16 and bfloat16 inputs are computed in float32 and the result rounded once.

    Examples
    --------
    Closed form: at a logit of 0, :math:`p_t = 1/2`, so the loss is
    :math:`\alpha_t \cdot (1/2)^2 \log 2`.

    >>> import numpy as np
    >>> import arrayloss
    >>> loss = arrayloss.sigmoid_focal_loss(np.zeros(2), np.array([1.0, 0.0]))
    >>> bool(np.allclose(loss, np.array([0.25, 0.75]) * 0.25 * np.log(2.0)))
    True
    """
    empty = validate_empty(empty)
    check_array("inputs", inputs)
    check_array("targets", targets)
    ctx = namespace_of(inputs=inputs, targets=targets, sample_weight=sample_weight)
    xp = ctx.xp
    (targets,) = promote_integers(xp, (inputs,), targets=targets)
    reduction = validate_reduction(reduction)
    a = _check_real("alpha", alpha)
    g = _check_gamma(gamma)
    check_floating(xp, "inputs", inputs)
    check_floating(xp, "targets", targets)
    check_same_shape("targets", targets, "inputs", inputs)
    result_dtype = xp.result_type(inputs, targets)
    work_dtype = compute_dtype(xp, result_dtype)
    x = xp.astype(inputs, work_dtype, copy=False)
    # Elements of weight 0 computed at x = 0: their gradient is 0, not NaN.
    x = zero_where_unweighted(ctx, x, sample_weight_kept(ctx, sample_weight, tuple(x.shape)))
    with ctx.quiet_floating_point():
        loss = _sigmoid_focal_unreduced(
            xp,
            x,
            xp.astype(targets, work_dtype, copy=False),
            a,
            g,
        )
        return apply_reduction(
            ctx, loss, reduction, dtype=result_dtype, empty=empty, sample_weight=sample_weight
        )


# --- softmax_focal_loss ------------------------------------------------------------------


def _focal_log_probabilities(xp: Any, logp: Any, alpha: float, gamma: float) -> Any:
    """``alpha (1 - p)^gamma log p`` per class: gathered at the target class (or summed
    against class probabilities) by the cross-entropy kernels, it gives the focal loss.
    ``1 - p`` is ``-expm1(log p)``: exact near p = 1, where ``1 - exp`` cancels."""
    return alpha * _modulating(xp, -xp.expm1(logp), gamma) * logp


@jax_auto_jit
def softmax_focal_loss(
    input: Any,
    target: Any,
    weight: Any | None = None,
    alpha: float = 0.25,
    gamma: float = 2.0,
    ignore_index: int = -100,
    reduction: str = "mean",
    *,
    empty: str = "nan",
    sample_weight: Any | None = None,
) -> Any:
    r"""The focal loss over a softmax of logits, with class indices or probabilities.

    Mirrors :class:`keras.losses.CategoricalFocalCrossentropy` (Keras 3,
    ``from_logits=True``; its ``alpha``, ``gamma`` and defaults) and
    :class:`mindspore.nn.FocalLoss` (its per-class ``weight``; MindSpore is
    ``alpha=1.0``), in PyTorch's layout and with :func:`arrayloss.cross_entropy`'s
    targets and ``ignore_index``. With :math:`\log p_{n,c}` the log-softmax of the
    logits over the classes (axis 1) and class indices :math:`y_n`:

    .. math::

        \ell_n = -\alpha \, w_{y_n} \, (1 - p_{n,y_n})^{\gamma} \log p_{n,y_n}

    with :math:`\ell_n = 0` where :math:`y_n` is ``ignore_index``; for class
    probabilities :math:`t_{n,c}` (a floating ``target`` of ``input``'s shape):

    .. math::

        \ell_n = -\alpha \sum_c w_c \, t_{n,c} \, (1 - p_{n,c})^{\gamma} \log p_{n,c}

    'mean' divides :math:`\sum_n \ell_n` by the number of samples not ignored (NaN when
    there are none), as MindSpore and Keras average: unlike
    :func:`arrayloss.cross_entropy`, the class weights do not divide the mean.

    Parameters
    ----------
    input : array of shape (C,), (N, C) or (N, C, d1, ..., dK), real floating
        Logits; the classes are axis 1 (axis 0 unbatched).
    target : array of shape (), (N,) or (N, d1, ..., dK), integer; or of ``input``'s shape, floating
        Class indices in [0, C) (or ``ignore_index``), or class probabilities.
    weight : array of shape (C,), optional
        Weight per class (MindSpore's ``weight``).
    alpha : float, default 0.25
        A constant factor (Keras's ``alpha``).
    gamma : float >= 0, default 2.0
        Exponent of the modulating factor :math:`(1 - p)`; 0 gives
        ``alpha`` times the cross entropy.
    ignore_index : int, default -100
        Class-index targets only: samples with this target are left out of the sum
        and of the mean's count.
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
        Of ``input``'s library and device, ``input``'s dtype (the promoted dtype with
        class probabilities): ``input``'s shape without the class axis for 'none', 0-d
        otherwise.

    Raises
    ------
    IndexError
        On eager backends, a class index outside [0, C) other than ``ignore_index``
        (skipped on traced or lazy arrays, where such a sample counts 0 and is not
        counted in the mean).
    ValueError
        Shapes that do not fit; a negative ``gamma``; an unknown ``reduction``.
    TypeError
        ``input`` not floating; ``target`` neither integer nor floating; ``alpha``,
        ``gamma`` not numbers, ``ignore_index`` not an int.

    Notes
    -----
    Keras clips the probabilities to :math:`[10^{-7}, 1 - 10^{-7}]`; arrayloss
    computes :math:`\log p` from the logits without a clip (the same values wherever
    every probability lies in that range). float16 and bfloat16 inputs are computed in
    float32 and the result rounded once.

    Examples
    --------
    MindSpore's documented example (``nn.FocalLoss(weight=Tensor([1, 2]), gamma=2.0)``
    gives 0.12516622), with ``alpha=1.0``:

    >>> import numpy as np
    >>> import arrayloss
    >>> logits = np.array([[0.8, 1.4], [0.5, 0.9], [1.2, 0.9]])
    >>> labels = np.array([1, 1, 0])
    >>> loss = arrayloss.softmax_focal_loss(
    ...     logits, labels, weight=np.array([1.0, 2.0]), alpha=1.0, gamma=2.0
    ... )
    >>> round(float(loss), 7)
    0.1251662
    """
    empty = validate_empty(empty)
    a = _check_real("alpha", alpha)
    g = _check_gamma(gamma)
    return _softmax_front(
        input,
        target,
        weight,
        ignore_index,
        reduction,
        lambda xp, logp: _focal_log_probabilities(xp, logp, a, g),
        sample_weight,
        empty,
    )


def _softmax_front(
    input: Any,
    target: Any,
    weight: Any,
    ignore_index: int,
    reduction: str,
    term_of: Callable[[Any, Any], Any],
    sample_weight: Any = None,
    empty: str = "nan",
) -> Any:
    """The front and kernel of the softmax losses: ``term_of(xp, log p)`` per class (the
    focal or Poly-1 term, a log-probability for the plain cross entropy), gathered at the
    target class by cross_entropy's kernel (-w[t] term[t], 0 where ignored) or summed
    against class probabilities; 'mean' over the samples not ignored."""
    check_array("input", input)
    check_array("target", target)
    check_array("weight", weight, optional=True)
    reduction = validate_reduction(reduction)
    ctx = namespace_of(input=input, target=target, weight=weight, sample_weight=sample_weight)
    xp = ctx.xp
    check_floating(xp, "input", input)
    _check_input_shape(input)
    axis = _class_axis(input)
    n_classes = int(input.shape[axis])

    if tuple(target.shape) == tuple(input.shape):
        # Class probabilities, decided by the shape as cross_entropy decides.
        if not xp.isdtype(target.dtype, "real floating"):
            raise ArrayLossTypeError(
                "`target` of class probabilities (the shape of `input`) must have a real "
                f"floating-point dtype; got {dtype_name(target.dtype)}"
            )
        if ignore_index is not None:
            _check_ignore_index(ignore_index)
        _check_weight(xp, weight, n_classes)
        result_dtype = xp.result_type(input, target)
        work_dtype = compute_dtype(xp, result_dtype)
        with ctx.quiet_floating_point():
            logp = log_softmax(xp, xp.astype(input, work_dtype, copy=False), axis)
            term = term_of(xp, logp)
            term = term * xp.astype(target, work_dtype, copy=False)
            if weight is not None:
                w = xp.astype(weight, work_dtype, copy=False)
                term = term * _on_class_axis(xp, w, term.ndim, axis)
            loss = -xp.sum(term, axis=axis)
            if reduction == "mean" and array_size(input) == 0 and empty == "nan":
                loss = loss * xp.nan  # as cross_entropy: the mean of an empty input
            return apply_reduction(
                ctx, loss, reduction, dtype=result_dtype, empty=empty, sample_weight=sample_weight
            )

    x, t, w, ignore = _index_front(ctx, input, target, weight, ignore_index)
    # Samples of weight 0 computed at logits 0: their gradient is 0, not NaN.
    kept = sample_weight_kept(ctx, sample_weight, tuple(t.shape))
    x = zero_where_unweighted(ctx, x, kept, axis=axis)
    with ctx.quiet_floating_point():
        term = term_of(xp, log_softmax(xp, x, axis))
        # -w[t] term[t], 0 where ignored (or, traced or lazy, out of range).
        loss, _ = _nll_unreduced(ctx, term, t, w, axis, ignore)
        counted = (t >= 0) & (t < n_classes)
        if ignore is not None:
            counted = counted & (t != ignore)
        count = xp.astype(counted, loss.dtype, copy=False)
        return apply_reduction(ctx, loss, reduction, input.dtype, empty, sample_weight, count)


# --- poly1_cross_entropy -----------------------------------------------------------------


@jax_auto_jit
def poly1_cross_entropy(
    input: Any,
    target: Any,
    epsilon: float = 2.0,
    ignore_index: int = -100,
    reduction: str = "mean",
    *,
    empty: str = "nan",
    sample_weight: Any | None = None,
) -> Any:
    r"""The Poly-1 loss: cross entropy plus :math:`\epsilon (1 - p_t)`.

    Mirrors :func:`optax.losses.poly_loss_cross_entropy` (optax 0.2; its ``epsilon``
    and default 2.0), in PyTorch's layout (classes on axis 1) and with
    :func:`arrayloss.cross_entropy`'s targets. With :math:`\log p` the log-softmax of the
    logits over the classes and class indices :math:`y_n`:

    .. math::

        \ell_n = -\log p_{n,y_n} + \epsilon\,(1 - p_{n,y_n})

    (0 where :math:`y_n` is ``ignore_index``); for class probabilities :math:`t`:

    .. math::

        \ell_n = -\sum_c t_{n,c} \log p_{n,c} + \epsilon \sum_c t_{n,c} (1 - p_{n,c})

    'mean' divides by the number of samples not ignored.

    Parameters
    ----------
    input : array of shape (C,), (N, C) or (N, C, d1, ..., dK), real floating
        Logits.
    target : array of shape (), (N,) or (N, d1, ..., dK), integer; or of ``input``'s shape, floating
        Class indices in [0, C) (or ``ignore_index``), or class probabilities (optax's
        ``labels``).
    epsilon : float, default 2.0
    ignore_index : int, default -100
        Class-index targets only.
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

    Raises
    ------
    IndexError
        On eager backends, a class index outside [0, C) other than ``ignore_index``.
    ValueError, TypeError
        As :func:`arrayloss.cross_entropy`; ``epsilon`` not a number.

    Examples
    --------
    Closed form: equal logits over 4 classes, :math:`p_t = 1/4`:
    :math:`\log 4 + 2 \cdot 3/4`.

    >>> import numpy as np
    >>> import arrayloss
    >>> loss = arrayloss.poly1_cross_entropy(np.zeros((2, 4)), np.array([0, 3]))
    >>> bool(np.isclose(loss, np.log(4.0) + 1.5))
    True
    """
    empty = validate_empty(empty)
    eps = _check_real("epsilon", epsilon)
    # alpha = 1, gamma = 0 would give the cross entropy; the Poly-1 term is added to the
    # per-class log-probabilities as -eps (1 - p) = eps expm1(log p), then gathered (or
    # summed against the probabilities) by the same kernels as softmax_focal_loss.
    return _softmax_front(
        input,
        target,
        None,
        ignore_index,
        reduction,
        lambda xp, logp: logp + eps * xp.expm1(logp),
        sample_weight,
        empty,
    )
