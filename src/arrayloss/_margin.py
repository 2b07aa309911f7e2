"""Margin losses: soft_margin_loss, multilabel_soft_margin_loss, multilabel_margin_loss.

Each public loss is a short front (namespace, legacy arguments, validation, reduction)
over a private kernel that computes the unreduced loss with ``xp`` only.
"""

from __future__ import annotations

import math
from typing import Any

from ._classification import _check_indices_in_range
from ._dispatch import (
    ArrayContext,
    concrete_jax_hint,
    jax_auto_jit,
    namespace_of,
    native_elementwise,
    plain_namespace,
    plain_torch_class_index_kernel,
)
from ._errors import ArrayLossValueError
from ._numerics import compute_dtype, log_sigmoid
from ._reduction import (
    apply_reduction,
    at_defaults,
    legacy_reduction,
    reduce_plain_call,
    sample_weight_kept,
    validate_empty,
    zero_where_unweighted,
)
from ._validation import (
    check_array,
    check_broadcastable,
    check_broadcasts_to,
    check_floating,
    check_integer,
    promote_integers,
)

__all__ = ["multilabel_margin_loss", "multilabel_soft_margin_loss", "soft_margin_loss"]


def _soft_margin_unreduced(xp: Any, x: Any, y: Any) -> Any:
    # log(1 + exp(-y x)) = -log_sigmoid(y x), finite for every finite y x. PyTorch's
    # kernel (log1p(exp(-y x))) overflows to inf once -y x passes ~88 in float32.
    native = native_elementwise(xp, x.dtype, "soft_margin", x, y)
    if native is not None:
        return native(x, y)  # the same formula with one temporary (the fast path says why)
    return -log_sigmoid(xp, y * x)


@jax_auto_jit
def soft_margin_loss(
    input: Any,
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    *,
    empty: str = "nan",
    sample_weight: Any | None = None,
) -> Any:
    r"""The two-class logistic loss between ``input`` and targets of -1 or 1.

    Mirrors :func:`torch.nn.functional.soft_margin_loss` (PyTorch 2.13).

    .. math::

        \ell_n = \log\left(1 + e^{-y_n x_n}\right)

    computed as :math:`-\log\sigma(y_n x_n)`, finite for every finite :math:`y_n x_n`
    (PyTorch's kernel gives ``inf`` once :math:`-y_n x_n` exceeds about 88 in float32
    or 709 in float64; arrayloss gives the finite value, :math:`-y_n x_n` itself).
    Reduced by ``reduction`` ('none', 'mean' over all elements, 'sum').

    Parameters
    ----------
    input : array of shape (*), real floating
    target : array broadcastable to ``input``'s shape, real floating or integer (promoted)
        Usually -1 or 1. A ``target`` that would enlarge the result (shape (N, 1)
        against ``input`` (N,)) raises ``ArrayLossValueError``, as PyTorch raises.
    size_average, reduce : bool, optional
        Deprecated (``DeprecationWarning``); override ``reduction`` as in PyTorch.
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
        Of ``input``'s library and device, the promoted dtype of ``input`` and
        ``target``: ``input``'s shape for 'none', 0-d otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> import arrayloss
    >>> x = np.array([0.0, 2.0])
    >>> y = np.array([1.0, -1.0])
    >>> loss = arrayloss.soft_margin_loss(x, y, reduction="sum")
    >>> bool(np.isclose(loss, np.log(2.0) + np.log1p(np.exp(2.0))))
    True
    """
    if at_defaults(size_average, reduce, empty, sample_weight):
        plain_xp = plain_namespace(reduction, input, target)
        if plain_xp is not None:  # plain arrays: the checks below would all pass
            return reduce_plain_call(plain_xp, reduction, _soft_margin_unreduced, input, target)
    empty = validate_empty(empty)
    ctx = namespace_of(input=input, target=target, sample_weight=sample_weight)
    # Under torch.autocast: half-precision tensors to float32, as PyTorch.
    input, target = ctx.autocast("soft_margin_loss", input, target)
    xp = ctx.xp
    # An integer target beside a floating input is promoted, as in PyTorch (which
    # refuses an integer input: "result type Float can't be cast to ... Long").
    (target,) = promote_integers(xp, (input,), target=target)
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_floating(xp, "input", input)
    check_floating(xp, "target", target)
    check_broadcastable("target", target, "input", input)
    # PyTorch computes in place on a copy of input: a target that would enlarge the
    # result raises there ("output with shape [3] doesn't match the broadcast shape").
    check_broadcasts_to("target", target, tuple(input.shape))
    result_dtype = xp.result_type(input, target)
    work_dtype = compute_dtype(xp, result_dtype)
    x = xp.astype(input, work_dtype, copy=False)
    # Elements of weight 0 computed at x = 0: their gradient is 0, not NaN.
    x = zero_where_unweighted(ctx, x, sample_weight_kept(ctx, sample_weight, tuple(x.shape)))
    with ctx.quiet_floating_point():
        loss = _soft_margin_unreduced(xp, x, xp.astype(target, work_dtype, copy=False))
        return apply_reduction(
            ctx, loss, reduction, dtype=result_dtype, empty=empty, sample_weight=sample_weight
        )


def _multilabel_soft_margin_unreduced(xp: Any, x: Any, y: Any, weight: Any) -> Any:
    # torch/nn/functional.py: -(y log_sigmoid(x) + (1 - y) log_sigmoid(-x)), weighted,
    # then the mean over the class (last) dimension.
    loss = -(y * log_sigmoid(xp, x) + (1.0 - y) * log_sigmoid(xp, -x))
    if weight is not None:
        loss = loss * weight
    return xp.sum(loss, axis=-1) / loss.shape[-1]


@jax_auto_jit
def multilabel_soft_margin_loss(
    input: Any,
    target: Any,
    weight: Any | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    *,
    empty: str = "nan",
    sample_weight: Any | None = None,
) -> Any:
    r"""Multi-label one-versus-all logistic loss.

    Mirrors :func:`torch.nn.functional.multilabel_soft_margin_loss` (PyTorch 2.13).

    .. math::

        \ell_n = -\frac{1}{C} \sum_{c=1}^{C} w_c \left[ y_{n,c} \log\sigma(x_{n,c})
                 + (1 - y_{n,c}) \log\sigma(-x_{n,c}) \right]

    with a stable :math:`\log\sigma`; one value per sample (the mean over the C classes of
    the last dimension), then reduced over the samples by ``reduction``.

    Parameters
    ----------
    input : array of shape (C,), (N, C) or (N, ..., C), real floating
    target : array broadcastable with ``input``, real floating or integer (promoted)
        Usually 0 or 1 per class.
    weight : array broadcastable with the loss, optional
        Usually of shape (C,): a weight per class.
    size_average, reduce : bool, optional
        Deprecated (``DeprecationWarning``); override ``reduction`` as in PyTorch.
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
        'none': the broadcast shape without its last dimension (0-d for (C,) input);
        'mean', 'sum': 0-d. Of ``input``'s library and device, the promoted dtype.

    Examples
    --------
    Closed form: at x = 0 every class contributes log 2, whatever the target.

    >>> import numpy as np
    >>> import arrayloss
    >>> loss = arrayloss.multilabel_soft_margin_loss(np.zeros((2, 3)), np.eye(2, 3))
    >>> bool(np.isclose(loss, np.log(2.0)))
    True
    """
    if weight is None and at_defaults(size_average, reduce, empty, sample_weight):
        plain_xp = plain_namespace(reduction, input, target)
        if plain_xp is not None and input.ndim > 0:  # plain arrays: the checks would pass
            return reduce_plain_call(
                plain_xp, reduction, _multilabel_soft_margin_unreduced, input, target, None
            )
    empty = validate_empty(empty)
    ctx = namespace_of(input=input, target=target, weight=weight, sample_weight=sample_weight)
    xp = ctx.xp
    # An integer target or weight beside a floating input is promoted, as in PyTorch
    # (which refuses an integer input: "log_sigmoid_cpu" not implemented for 'Long').
    target, weight = promote_integers(xp, (input,), target=target, weight=weight)
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_array("weight", weight, optional=True)
    check_floating(xp, "input", input)
    check_floating(xp, "target", target)
    if input.ndim == 0:
        raise ValueError("`input` must have a class (last) dimension; got a 0-d array")
    shape = check_broadcastable("target", target, "input", input)
    if weight is not None:
        check_floating(xp, "weight", weight)
        check_broadcastable("weight", weight, "input", shape)
    # PyTorch's composite promotes input, target and weight together.
    arrays = [a for a in (input, target, weight) if a is not None]
    result_dtype = xp.result_type(*arrays)
    work_dtype = compute_dtype(xp, result_dtype)

    def work(a: Any) -> Any:
        return None if a is None else xp.astype(a, work_dtype, copy=False)

    x = work(input)
    if tuple(x.shape) == tuple(shape):
        # Samples of weight 0 computed at x = 0: their gradient is 0, not NaN.
        kept = sample_weight_kept(ctx, sample_weight, tuple(shape[:-1]))
        x = zero_where_unweighted(ctx, x, kept)
    with ctx.quiet_floating_point():
        loss = _multilabel_soft_margin_unreduced(xp, x, work(target), work(weight))
        return apply_reduction(
            ctx, loss, reduction, dtype=result_dtype, empty=empty, sample_weight=sample_weight
        )


# --- multilabel_margin_loss --------------------------------------------------------------
#
# PyTorch's kernel (ATen LossMultiLabelMargin.cpp) loops, per sample, over every target
# slot j of the valid prefix and every class i outside the target set:
#
#     loss_n = 1/C * sum_j sum_{i not in T} max(0, 1 - x[y_j] + x[i])
#
# which is O(|T| C) per sample. Written with whole arrays the pairwise form needs an
# (N, C, C) temporary: 262 GB at 65,536 x 1,000 in float32. arrayloss uses sorts instead,
# O(C log C) per sample and O(N C) memory:
#
# 1. The target set and multiplicities without a scatter: sort the keys 2*y_j (valid
#    slots) together with 2*i + 1 (one per class). A running count of target keys, read
#    at the class keys (which come out in class order), is #{j : y_j <= i}; its
#    differences are m_i = #{j : y_j = i}, the multiplicity of class i among the targets.
# 2. The hinge sums without pairs: sum_j sum_{i not in T} max(0, x_i - c_j) with
#    c_j = x[y_j] - 1 is, with the thresholds c (weight m) and the non-target scores z
#    (weight 1) sorted together in descending order, the sum over thresholds of
#    (sum of the z above it) - (count of the z above it) * c. A threshold is placed
#    before equal scores, so z = c counts 0, as max(0, 0) in value and (like PyTorch's
#    backward, which tests z > 0) in the gradient.
#
# When every sample names few targets (the usual case) and the values can be read
# (eager arrays), a loop over the target slots is cheaper still; traced and lazy arrays
# always take the sorts, whose shapes do not depend on the values.


def _prefix_length(xp: Any, target: Any) -> Any:
    """Per sample, the number of valid target slots: the index of the first negative
    entry, or C when there is none (shape (N,), argmax's index dtype)."""
    n_classes = target.shape[-1]
    negative = xp.concat(
        [xp.astype(target < 0, xp.int8, copy=False), xp.ones_like(target[..., :1], dtype=xp.int8)],
        axis=-1,
    )
    # argmax finds the first maximum: the first negative, or the appended 1 at C.
    first = xp.argmax(negative, axis=-1)
    return xp.minimum(first, xp.asarray(n_classes, dtype=first.dtype))


def _valid_slots(xp: Any, prefix: Any, n_slots: int, device: Any) -> Any:
    """(N, n_slots) booleans: slot j of sample n lies in its valid prefix."""
    return xp.arange(n_slots, dtype=prefix.dtype, device=device) < xp.expand_dims(prefix, axis=-1)


def _target_multiplicity(ctx: ArrayContext, target: Any, n_classes: int, device: Any) -> Any:
    """m[n, i] = the number of valid target slots of sample n that name class i (the
    valid slots are the prefix before the first negative index), in the library's
    default integer dtype (``ctx.index_dtype``)."""
    xp = ctx.xp
    index = ctx.index_dtype
    target = xp.astype(target, index, copy=False)
    valid = _valid_slots(xp, _prefix_length(xp, target), target.shape[-1], device)
    slot_keys = xp.where(valid, 2 * target, xp.asarray(2 * n_classes, dtype=index))
    class_keys = 2 * xp.arange(n_classes, dtype=index, device=device) + 1
    class_keys = xp.broadcast_to(class_keys, target.shape)
    keys = ctx.sort(xp.concat([slot_keys, class_keys], axis=-1), axis=-1)
    is_slot = (keys % 2 == 0) & (keys < 2 * n_classes)
    slots_up_to = xp.cumulative_sum(xp.astype(is_slot, index, copy=False), axis=-1)
    # At a class key 2i + 1 the running count is #{j : y_j <= i}; these counts rise along
    # the sorted keys, so sorting them (non-class positions pushed past the end) lists
    # them in class order: no gather needed.
    beyond = xp.asarray(target.shape[-1] + 1, dtype=index)
    counts = ctx.sort(xp.where(is_slot | (keys >= 2 * n_classes), beyond, slots_up_to), axis=-1)
    counts = counts[..., :n_classes]
    previous = xp.concat([xp.zeros_like(counts[..., :1]), counts[..., :-1]], axis=-1)
    return counts - previous


#: On eager arrays whose samples name at most this many target slots, the hinge sums
#: loop over the slots instead of sorting: |J| passes over (N, C) cost less than the
#: sorts (at 65,536 x 1,000 with 5 targets each, about 1 s against 20 s on 2 CPU cores).
_SLOT_LOOP_MAX = 16


def _hinge(ctx: ArrayContext, h: Any) -> Any:
    # max(0, h), with derivative 0 at h = 0 (as PyTorch's backward, which tests h > 0;
    # the gradients of maximum and clip split or pass the tie).
    xp = ctx.xp
    return xp.where(h > 0, h, xp.zeros((), dtype=h.dtype, device=ctx.device))


def _multilabel_margin_by_slots(
    ctx: ArrayContext, x: Any, target: Any, prefix: Any, n_slots: int
) -> Any:
    """The hinge sums as PyTorch loops them, one target slot at a time (``prefix``: the
    number of valid slots per sample, at most ``n_slots``): O(n_slots) passes over
    (N, C), no sort."""
    xp = ctx.xp
    target = xp.astype(target[..., :n_slots], ctx.index_dtype, copy=False)
    classes = xp.arange(x.shape[-1], dtype=ctx.index_dtype, device=ctx.device)
    valid = _valid_slots(xp, prefix, n_slots, ctx.device)
    # Slot j's class, or -1 (no class) where the slot is padding.
    slots = xp.where(valid, target, xp.full_like(target, -1))
    is_target = xp.zeros(x.shape, dtype=xp.bool, device=ctx.device)
    for j in range(n_slots):
        is_target = is_target | (slots[..., j : j + 1] == classes)
    # Target classes take no part as the i of a hinge: at -inf their hinge is 0 (and, by
    # the where in _hinge, so is its gradient, even when -inf - -inf gives NaN).
    scores = xp.where(is_target, xp.full_like(x, -math.inf), x)
    if n_slots == 0:
        # No sample names a target: every loss is 0, still a function of x (autograd
        # then gives the zero gradient, as PyTorch, not "does not require grad").
        return xp.sum(_hinge(ctx, xp.full_like(x, -math.inf) + x), axis=-1)
    total = xp.zeros(x.shape[:-1], dtype=x.dtype, device=ctx.device)
    for j in range(n_slots):
        # A padding slot gathers class 0 and is masked out of the total.
        index = xp.where(valid[..., j : j + 1], slots[..., j : j + 1], xp.zeros_like(classes[:1]))
        threshold = ctx.take_along_axis(x, index, axis=-1) - 1.0
        sums = xp.sum(_hinge(ctx, scores - threshold), axis=-1)
        total = total + xp.where(valid[..., j], sums, xp.zeros_like(sums))
    return total


def _multilabel_margin_by_sorting(ctx: ArrayContext, x: Any, target: Any) -> Any:
    """The hinge sums by the sorts described above: O(C log C) per sample, any |J|."""
    xp = ctx.xp
    multiplicity = _target_multiplicity(ctx, target, x.shape[-1], ctx.device)
    values = xp.concat([x - 1.0, x], axis=-1)
    weights_threshold = xp.concat(
        [xp.astype(multiplicity, x.dtype, copy=False), xp.zeros_like(x)], axis=-1
    )
    weights_score = xp.concat(
        [xp.zeros_like(x), xp.astype(multiplicity == 0, x.dtype, copy=False)], axis=-1
    )
    # Descending by value, thresholds first among equals: a stable ascending sort of the
    # negated values (a descending sort need not keep ties in order on every library).
    order = ctx.argsort(-values, axis=-1)
    values = ctx.take_along_axis(values, order, axis=-1)
    weights_threshold = ctx.take_along_axis(weights_threshold, order, axis=-1)
    weights_score = ctx.take_along_axis(weights_score, order, axis=-1)
    # At a threshold position its own score weight is 0, so the inclusive running sums
    # are the sums over the scores strictly above it.
    count_above = xp.cumulative_sum(weights_score, axis=-1)
    sum_above = xp.cumulative_sum(weights_score * values, axis=-1)
    return xp.sum(weights_threshold * (sum_above - count_above * values), axis=-1)


def _multilabel_margin_unreduced(
    ctx: ArrayContext, x: Any, target: Any, slots: int | None = None
) -> Any:
    """Per sample: x (N, C) floating, target (N, C) integer -> (N,). ``slots``: the most
    valid target slots of any sample when already read (see :func:`_most_target_slots`),
    at most ``_SLOT_LOOP_MAX``; None where it was not."""
    xp = ctx.xp
    n_classes = x.shape[-1]
    if 0 in tuple(x.shape):
        # Nothing to sort (shapes are static, traced or not): the slots path with no
        # slot. Why not the sorts: JAX 0.7's argsort has no gradient over an empty array
        # ("Slice size at index 0 in gather op is out of range"); JAX 0.10's has.
        return (
            _multilabel_margin_by_slots(ctx, x, target, _prefix_length(xp, target), 0) / n_classes
        )
    if slots is not None:
        # Read before the call (an auto-jitted kernel, keyed by it): traced arrays too.
        return _multilabel_margin_by_slots(ctx, x, target, _prefix_length(xp, target), slots) / (
            n_classes
        )
    if ctx.eager:
        # The longest valid prefix, read from the values: eager arrays only.
        prefix = _prefix_length(xp, target)
        n_slots = int(xp.max(prefix)) if x.shape[0] else 0
        if n_slots <= _SLOT_LOOP_MAX:
            return _multilabel_margin_by_slots(ctx, x, target, prefix, n_slots) / n_classes
    return _multilabel_margin_by_sorting(ctx, x, target) / n_classes


def _most_target_slots(xp: Any, target: Any) -> Any:
    """The most valid target slots of any sample of ``target`` ((C,) or (N, C)), 0 with
    no sample: a 0-d integer array (for ``concrete_jax_hint``)."""
    prefix = xp.reshape(_prefix_length(xp, target), (-1,))
    return xp.max(xp.concat([prefix, xp.zeros((1,), dtype=prefix.dtype)]))


def _check_multilabel_target(ctx: ArrayContext, input: Any, target: Any) -> None:
    xp = ctx.xp
    check_integer(xp, "target", target, "of class indices")
    if tuple(target.shape) != tuple(input.shape):
        raise ArrayLossValueError(
            f"`target` must have `input`'s shape {tuple(input.shape)} (class indices "
            f"padded with -1); got {tuple(target.shape)}"
        )
    # PyTorch checks every element, the padding after the first -1 included: the shared
    # range check, with -1 (the end marker) allowed as an ignored index would be.
    _check_indices_in_range(ctx, target, 1 if input.ndim == 0 else int(input.shape[-1]), -1)


def multilabel_margin_loss(
    input: Any,
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    *,
    empty: str = "nan",
    sample_weight: Any | None = None,
) -> Any:
    r"""Multi-class multi-label hinge loss between scores and padded class indices.

    Mirrors :func:`torch.nn.functional.multilabel_margin_loss` (PyTorch 2.13).

    .. math::

        \ell_n = \frac{1}{C} \sum_{j \in J_n} \sum_{i \notin T_n}
                 \max\left(0,\ 1 - (x_{n, y_{n,j}} - x_{n,i})\right)

    where :math:`J_n` is the contiguous block of non-negative indices at the front of
    ``target[n]`` (it ends at the first -1), :math:`T_n = \{y_{n,j} : j \in J_n\}` the
    target classes, and C the number of classes. A class named twice counts twice, as
    in PyTorch. The sum is computed with sorts in :math:`O(C \log C)` time and
    :math:`O(C)` memory per sample (PyTorch's loop takes :math:`O(|J_n| C)`), so a batch
    of 65,536 x 1,000 needs no (N, C, C) temporary.

    Parameters
    ----------
    input : array of shape (C,) or (N, C), real floating
        Scores (a 0-d array is one class, as in PyTorch).
    target : integer array of ``input``'s shape
        Class indices in [0, C), padded with -1. Any integer dtype (PyTorch asks for
        int64; JAX's default integers are int32).
    size_average, reduce : bool, optional
        Deprecated (``DeprecationWarning``); override ``reduction`` as in PyTorch.
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
        Of ``input``'s library, device and dtype: shape (N,) (0-d for (C,) input) for
        'none', 0-d otherwise. float16 and bfloat16 are computed in float32 (PyTorch's
        CPU kernel has none for them). An empty batch gives 0 for 'sum' and NaN for
        'mean' (PyTorch 2.13 returns uninitialized memory).

    Raises
    ------
    ValueError
        ``input`` has more than 2 dimensions, or no classes; ``target``'s shape is not
        ``input``'s.
    TypeError
        ``input`` is not floating or ``target`` not integer.
    IndexError
        On eager backends, a ``target`` element outside [-1, C) (PyTorch checks the
        padding too). Skipped on traced and lazy arrays.

    Examples
    --------
    PyTorch's documented example: targets {3, 0} of 4 classes,
    :math:`\frac{1}{4}[(1-(0.1-0.2)) + (1-(0.1-0.4)) + (1-(0.8-0.2)) + (1-(0.8-0.4))] = 0.85`.

    >>> import numpy as np
    >>> import arrayloss
    >>> x = np.array([[0.1, 0.2, 0.4, 0.8]])
    >>> y = np.array([[3, 0, -1, 1]])
    >>> bool(np.isclose(arrayloss.multilabel_margin_loss(x, y), 0.85))
    True
    """
    if at_defaults(size_average, reduce, empty, sample_weight):
        kernel = plain_torch_class_index_kernel("multilabel_margin_loss", reduction, input, target)
        if kernel is not None:  # plain tensors: the checks below would all pass
            try:
                return kernel(input, target, reduction=reduction)
            except RuntimeError:
                pass  # "'target' is out of range": the full path raises arrayloss's error
    # On concrete JAX arrays, the most target slots of a sample, read first: the auto-jit
    # kernel is keyed by it and loops over that many slots, as the eager loss does (a
    # kernel traced without it must sort: 4x to 25x slower at N >= 1e5).
    slots = concrete_jax_hint(_most_target_slots, target)
    return _multilabel_margin_loss(
        input,
        target,
        size_average,
        reduce,
        reduction,
        empty,
        sample_weight,
        slots if slots is not None and slots <= _SLOT_LOOP_MAX else None,
    )


@jax_auto_jit
def _multilabel_margin_loss(
    input: Any,
    target: Any,
    size_average: bool | None,
    reduce: bool | None,
    reduction: str,
    empty: str,
    sample_weight: Any | None,
    slots: int | None,
) -> Any:
    empty = validate_empty(empty)
    ctx = namespace_of(input=input, target=target, sample_weight=sample_weight)
    # Under torch.autocast: half-precision tensors to float32, as PyTorch.
    input, target = ctx.autocast("multilabel_margin_loss", input, target)
    xp = ctx.xp
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_floating(xp, "input", input)
    check_array("target", target)
    if input.ndim > 2 or (input.ndim >= 1 and input.shape[-1] == 0):
        raise ArrayLossValueError(
            "`input` must have shape (C,) or (N, C) with C > 0 (or be 0-d); "
            f"got shape {tuple(input.shape)}"
        )
    _check_multilabel_target(ctx, input, target)
    if xp.isdtype(target.dtype, "unsigned integer"):
        target = xp.astype(target, ctx.index_dtype, copy=False)
    work_dtype = compute_dtype(xp, input.dtype)
    x = xp.reshape(
        xp.astype(input, work_dtype, copy=False), (-1, 1 if input.ndim == 0 else input.shape[-1])
    )
    t = xp.reshape(target, x.shape)
    with ctx.quiet_floating_point():
        loss = _multilabel_margin_unreduced(ctx, x, t, slots)
        if input.ndim < 2:
            loss = xp.reshape(loss, ())
        return apply_reduction(
            ctx, loss, reduction, dtype=input.dtype, empty=empty, sample_weight=sample_weight
        )
