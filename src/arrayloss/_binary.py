"""The binary cross-entropy family: on probabilities and on logits.

Each public loss is a short front (namespace, legacy arguments, validation, reduction)
over a private kernel that computes the unreduced loss with ``xp`` only.
"""

from __future__ import annotations

import math
from typing import Any

from ._classification import _check_ignore_index, _check_label_smoothing
from ._dispatch import (
    ArrayContext,
    jax_auto_jit,
    namespace_of,
    native_elementwise,
    native_kernel,
    plain_namespace,
    plain_torch_binary_cross_entropy,
    plain_torch_kernel,
    stop_gradient,
)
from ._errors import ArrayLossValueError
from ._numerics import LOG_CLAMP, clamped_log, compute_dtype, log_sigmoid
from ._reduction import (
    apply_reduction,
    at_defaults,
    legacy_reduction,
    reduce_plain_call,
    sample_weight_kept,
    validate_empty,
)
from ._validation import (
    check_array,
    check_broadcasts_to,
    check_floating,
    check_in_unit_interval,
    check_same_dtype,
    check_same_shape,
)

__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits"]

#: ``inf_logits`` of binary_cross_entropy_with_logits: PyTorch's formula, NaN where it
#: meets ``0 * inf`` or ``inf - inf`` (the default), or the formula's limit.
INF_LOGITS: tuple[str, ...] = ("nan", "limit")


def _check_options(label_smoothing: object, ignore_index: object, empty: object) -> float:
    """Validate the options PyTorch lacks (issue 10); return ``label_smoothing``."""
    eps = _check_label_smoothing(label_smoothing)
    if ignore_index is not None:
        _check_ignore_index(ignore_index)
    validate_empty(empty)
    return eps


def _check_inf_logits(inf_logits: object) -> None:
    if not (isinstance(inf_logits, str) and inf_logits in INF_LOGITS):
        options = ", ".join(repr(o) for o in INF_LOGITS)
        raise ArrayLossValueError(f"`inf_logits` must be one of {options}; got {inf_logits!r}")


def _kept(target: Any, ignore_index: int | None) -> Any:
    """True where ``target`` is not ``ignore_index`` (None: no mask)."""
    return None if ignore_index is None else target != ignore_index


def _masked(xp: Any, x: Any, keep: Any, safe: float) -> Any:
    """``x`` with ``safe`` at the ignored elements, so that whatever they hold (NaN, a
    probability outside [0, 1]) reaches neither the loss nor its gradient."""
    return x if keep is None else xp.where(keep, x, safe)


def _smoothed(t: Any, eps: float) -> Any:
    # Keras's binary convention (keras.losses.binary_crossentropy): t (1 - eps) + eps / 2.
    return t if eps == 0.0 else t * (1.0 - eps) + eps / 2.0


def _reduce(
    ctx: ArrayContext,
    loss: Any,
    keep: Any,
    reduction: str,
    dtype: Any,
    empty: str,
    sample_weight: Any = None,
) -> Any:
    """PyTorch's reduction; with ``keep``, 0 at the ignored elements and 'mean' the sum
    over the kept elements divided by their number (``empty`` when there are none); with
    ``sample_weight``, the weighted sum over the kept elements by the sum of their
    weights."""
    if keep is None:
        return apply_reduction(
            ctx, loss, reduction, dtype=dtype, empty=empty, sample_weight=sample_weight
        )
    xp = ctx.xp
    # where, not keep * loss: +0.0 at an ignored element, whatever its loss was.
    loss = xp.where(keep, loss, xp.zeros_like(loss))
    count = xp.astype(keep, loss.dtype)
    return apply_reduction(ctx, loss, reduction, dtype, empty, sample_weight, count)


def _both(keep: Any, kept: Any) -> Any:
    """The elements both ignore_index's ``keep`` and sample_weight's ``kept`` count."""
    if keep is None:
        return kept
    return keep if kept is None else keep & kept


def _bce_unreduced(xp: Any, p: Any, t: Any, weight: Any) -> Any:
    # aten/src/ATen/native/Loss.cpp, binary_cross_entropy_out_cpu:
    #   (t - 1) * max(log1p(-p), -100) - t * max(log(p), -100)
    native = native_elementwise(xp, p.dtype, "binary_cross_entropy", p, t)
    if native is not None:
        loss = native(p, t, LOG_CLAMP)  # two temporaries, not six (the fast path says why)
    else:
        loss = (t - 1.0) * clamped_log(xp, 1.0 - p) - t * clamped_log(xp, p)
    if weight is not None:
        loss = loss * weight
    return loss


def _bce_log_eps_unreduced(ctx: ArrayContext, p: Any, t: Any, weight: Any, eps: float) -> Any:
    """MindSpore 2.10's BCE (its BinaryCrossEntropy CPU kernel, measured: the values at
    p = 0, 1e-13, 1e-12, 2e-12 and 1 fit only this form):

        -w (t log(p + eps) + (1 - t) log(1 - p + eps))

    a shift of each log's argument, not a clamp: it differs from PyTorch's clamped
    logs by about eps / p for every p (at p = 1e-9, t = 1: 20.72227, not 20.72327), and
    p = 0 costs -log(eps). Its gradient with respect to ``p`` is MindSpore's
    BinaryCrossEntropyGrad, PyTorch's backward formula and not the derivative of the
    value above:

        w (p - t) / max(p (1 - p), eps)

    (at p = 1e-13, t = 0: 0.1, where the derivative is 1; at p = 1e-12, t = 1: -1e12,
    not -5e11). So the derivative of the value is corrected by a term whose value is 0
    and whose derivative is the difference, held constant (as ``_clamp_variance``):
    the gradients with respect to ``t`` and ``weight`` stay those of the value, and the
    second derivative with respect to ``p`` that of the value (MindSpore has none). Both
    finite at p = 0 and 1 for eps > 0.
    """
    xp = ctx.xp
    # Under jax.jit XLA rewrites (1 - p) + eps as (1 + eps) - p, and 1 + 1e-12 is 1 in
    # float32: p = 1 then gives log(0) (likewise p + eps for a caller's p = 1 - s). A
    # select on the operand's NaN-ness is opaque to that rewrite and changes nothing:
    # the values (NaN stays NaN) and the derivative (1) are the operand's.
    p_eps = xp.where(xp.isnan(p), math.nan, p) + eps
    q_eps = xp.where(xp.isnan(p), math.nan, 1.0 - p) + eps
    loss = -(t * xp.log(p_eps) + (1.0 - t) * xp.log(q_eps))
    pq = p * (1.0 - p)
    wanted = (p - t) / xp.where(pq > eps, pq, eps)
    own = (1.0 - t) / q_eps - t / p_eps
    fix = stop_gradient(xp, wanted - own) * p
    # fix - fix is exactly 0 (NaN only where p, and so the loss, is NaN already).
    loss = loss + (fix - stop_gradient(xp, fix))
    if weight is not None:
        loss = loss * weight
    return loss


def _bce_with_logits_unreduced(xp: Any, x: Any, t: Any, weight: Any, pos_weight: Any) -> Any:
    # aten/src/ATen/native/Loss.cpp, binary_cross_entropy_with_logits:
    #   (1 - t) * x - ((pos_weight - 1) * t + 1) * log_sigmoid(x)
    # The same operations in the same order, so that NaN and inf propagate as in PyTorch
    # (e.g. x = +inf with t = 1 gives 0 * inf = nan there too).
    log_sig = log_sigmoid(xp, x)
    if pos_weight is not None:
        log_sig = log_sig * ((pos_weight - 1.0) * t + 1.0)
    loss = (1.0 - t) * x - log_sig
    if weight is not None:
        loss = loss * weight
    return loss


def _softplus(xp: Any, x: Any) -> Any:
    # log(1 + e^x) = -log_sigmoid(-x): finite for finite x, +inf at +inf, 0 at -inf, with
    # the derivative sigmoid(x) finite everywhere (1 at +inf, 0 at -inf).
    return -log_sigmoid(xp, -x)


def _times(xp: Any, c: Any, s: Any) -> Any:
    """``c * s``, with 0 where ``c`` is 0 even if ``s`` is infinite (the limit, not
    ``0 * inf = nan``). ``s`` is replaced before the product, not the product after,
    so that the gradients through the untaken branch are ``0 * finite``, not NaN."""
    return c * xp.where(c == 0, xp.zeros_like(s), s)


def _bce_with_logits_limit(xp: Any, x: Any, t: Any, weight: Any, pos_weight: Any) -> Any:
    # The same loss written as w (1 - t) softplus(x) + w p t softplus(-x): each softplus
    # is finite or +inf, and a term whose coefficient is 0 is 0. So an infinite logit
    # gives the formula's limit (0 when its sign agrees with the target, +inf otherwise),
    # and the gradient is the limit of the finite one: w (1 - t) at +inf, -w p t at -inf.
    neg = 1.0 - t
    pos = t if pos_weight is None else pos_weight * t
    if weight is not None:
        neg = neg * weight
        pos = pos * weight
    return _times(xp, neg, _softplus(xp, x)) + _times(xp, pos, _softplus(xp, -x))


@jax_auto_jit
def binary_cross_entropy(
    input: Any,
    target: Any,
    weight: Any | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    *,
    label_smoothing: float = 0.0,
    ignore_index: int | None = None,
    empty: str = "nan",
    sample_weight: Any | None = None,
) -> Any:
    r"""Binary cross entropy between probabilities ``input`` and ``target``.

    Mirrors :func:`torch.nn.functional.binary_cross_entropy` (PyTorch 2.13).

    .. math::

        \ell_n = -w_n \left[ y_n \max(\log x_n, -100)
                 + (1 - y_n) \max(\log(1 - x_n), -100) \right]

    then reduced by ``reduction``: 'none' gives :math:`\ell` itself, 'sum' gives
    :math:`\sum_n \ell_n`, 'mean' gives :math:`\frac{1}{N}\sum_n \ell_n` over all
    :math:`N` elements. The logs are clamped at -100 as in PyTorch, so inputs of exactly
    0 or 1 give finite losses.

    Parameters
    ----------
    input : array of shape (*), real floating
        Probabilities in [0, 1].
    target : array of shape (*), the dtype of ``input``
        Targets in [0, 1]; same shape as ``input``.
    weight : array broadcastable to (*), optional
        Rescaling weight per element.
    size_average, reduce : bool, optional
        Deprecated (``DeprecationWarning``); when either is given it overrides
        ``reduction`` exactly as in PyTorch.
    reduction : {'none', 'mean', 'sum'}, default 'mean'
    label_smoothing : float in [0, 1], default 0.0
        Keyword-only; not in PyTorch. Targets become :math:`y (1 - \epsilon) +
        \epsilon / 2` (Keras's binary convention); 0 is PyTorch's loss.
    ignore_index : int, optional
        Keyword-only; not in PyTorch. Elements whose target equals it count for nothing:
        0 in 'none', left out of 'sum' and of 'mean', whose divisor is the number of the
        other elements; their gradient is 0, and their ``input`` and ``target`` are not
        checked (they may hold anything, NaN included).
    empty : {'nan', 'zero'}, default 'nan'
        Keyword-only; not in PyTorch. What 'mean' over no element gives (an empty
        ``input``, or every target ignored): PyTorch's NaN, or 0 with a gradient of 0.
    sample_weight : array, bool, integer or real floating, optional
        Keyword-only, arrayloss's own: a weight per element of the
        ``reduction='none'`` output, to whose shape it must broadcast. 'none' gives
        the weighted loss (exactly 0 where the weight is 0, even where the loss is NaN
        or inf), 'sum' the weighted sum, 'mean' the weighted mean (a bool mask: the
        mean over the selected elements). See docs/sample-weight.md.

    Returns
    -------
    array
        Of ``input``'s library, device and dtype: shape (*) for 'none', 0-d otherwise.

    Raises
    ------
    ValueError
        ``target``'s shape differs from ``input``'s; ``reduction``, ``empty`` or
        ``label_smoothing`` is invalid; on eager backends, an element of ``input`` or
        ``target`` that is not ignored lies outside [0, 1] (NaN included). On traced
        or lazy arrays (JAX under ``jit``/``vmap``/``grad``, Dask, ``torch.compile``)
        the range check is skipped: out-of-range inputs then give the formula's value
        (NaN for the log of a negative number).
    TypeError
        Dtypes of ``input`` and ``target`` differ, or are not floating; arrays of two
        libraries; ``label_smoothing`` is not a number or ``ignore_index`` not an int.

    Notes
    -----
    float16 and bfloat16 inputs are computed in float32 and the result cast back, as
    PyTorch's kernels do. Gradients equal PyTorch's wherever ``0 < input < 1`` is not
    within 1e-12 of 0 or 1; there PyTorch divides by ``max(x (1 - x), 1e-12)`` while
    autodiff gives the exact derivative (finite, also at exactly 0 and 1).

    Under ``torch.autocast`` (CPU) half-precision tensors are cast to float32 first and
    the result is float32, as in PyTorch; under CUDA autocast this loss raises
    ``RuntimeError`` ("unsafe to autocast"), as PyTorch does (see
    docs/mixed-precision.md).

    Examples
    --------
    >>> import numpy as np
    >>> import arrayloss
    >>> p = np.array([0.9, 0.2, 0.6])
    >>> y = np.array([1.0, 0.0, 1.0])
    >>> loss = arrayloss.binary_cross_entropy(p, y)
    >>> bool(np.isclose(loss, -(np.log(0.9) + np.log(0.8) + np.log(0.6)) / 3))
    True
    """
    if (
        weight is None
        and ignore_index is None
        and type(label_smoothing) is float
        and label_smoothing == 0.0
        and at_defaults(size_average, reduce, empty, sample_weight)
    ):
        result = plain_torch_binary_cross_entropy(reduction, input, target)
        if result is not None:  # plain tensors, no gradient: ATen's kernel checked them
            return result
    return _binary_cross_entropy(
        input,
        target,
        weight,
        size_average,
        reduce,
        reduction,
        label_smoothing=label_smoothing,
        ignore_index=ignore_index,
        empty=empty,
        sample_weight=sample_weight,
    )


def _binary_cross_entropy(
    input: Any,
    target: Any,
    weight: Any | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    *,
    label_smoothing: float = 0.0,
    ignore_index: int | None = None,
    empty: str = "nan",
    sample_weight: Any | None = None,
    log_eps: float | None = None,
) -> Any:
    """:func:`binary_cross_entropy`; with ``log_eps``, MindSpore's form instead of
    PyTorch's clamped logs (``_bce_log_eps_unreduced``). Private: the public function
    mirrors PyTorch and has no such option; ``arrayloss.mindspore.BCELoss`` calls
    :func:`binary_cross_entropy_log_eps`."""
    ctx = namespace_of(input=input, target=target, weight=weight, sample_weight=sample_weight)
    xp = ctx.xp
    check_array("input", input)
    check_array("target", target)
    check_array("weight", weight, optional=True)
    # Under torch.autocast: half-precision tensors to float32, as PyTorch (CUDA: refused).
    input, target, weight = ctx.autocast("binary_cross_entropy", input, target, weight)
    reduction = legacy_reduction(size_average, reduce, reduction)
    eps = _check_options(label_smoothing, ignore_index, empty)
    check_floating(xp, "input", input)
    check_same_dtype("target", target, "input", input)
    check_same_shape("target", target, "input", input)
    if weight is not None:
        check_floating(xp, "weight", weight)
        check_broadcasts_to("weight", weight, tuple(input.shape))
    keep = _kept(target, ignore_index)
    # Elements of weight 0 are computed at the placeholders of ignored ones.
    used = _both(keep, sample_weight_kept(ctx, sample_weight, tuple(input.shape)))
    check_in_unit_interval(ctx, "input", input, where=used)
    check_in_unit_interval(ctx, "target", target, where=used)

    work_dtype = compute_dtype(xp, input.dtype)
    with ctx.quiet_floating_point():
        p = _masked(xp, xp.astype(input, work_dtype, copy=False), used, 0.5)
        t = _masked(xp, xp.astype(target, work_dtype, copy=False), used, 0.0)
        t = _smoothed(t, eps)
        w = None if weight is None else xp.astype(weight, work_dtype, copy=False)
        if log_eps is None:
            loss = _bce_unreduced(xp, p, t, w)
        else:
            loss = _bce_log_eps_unreduced(ctx, p, t, w, log_eps)
        return _reduce(ctx, loss, keep, reduction, input.dtype, empty, sample_weight)


#: ``_binary_cross_entropy`` with the auto-jit fast path of the public losses (its own
#: kernels: ``log_eps`` is one of the options baked into them).
binary_cross_entropy_log_eps = jax_auto_jit(_binary_cross_entropy)


@jax_auto_jit
def binary_cross_entropy_with_logits(
    input: Any,
    target: Any,
    weight: Any | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    pos_weight: Any | None = None,
    *,
    label_smoothing: float = 0.0,
    ignore_index: int | None = None,
    inf_logits: str = "nan",
    empty: str = "nan",
    sample_weight: Any | None = None,
) -> Any:
    r"""Binary cross entropy between logits ``input`` and ``target``, computed stably.

    Mirrors :func:`torch.nn.functional.binary_cross_entropy_with_logits` (PyTorch 2.13).

    .. math::

        \ell_n = -w_n \left[ p_c\, y_n \log \sigma(x_n) + (1 - y_n) \log(1 - \sigma(x_n)) \right]
               = w_n \left[ (1 - y_n)\, x_n - (1 + (p_c - 1)\, y_n) \log \sigma(x_n) \right]

    with :math:`\log\sigma(x) = \min(x, 0) - \log(1 + e^{-|x|})`, finite for logits of
    any magnitude, and :math:`p_c` the ``pos_weight`` of the element's class (last
    dimension). Reduced by ``reduction`` as in :func:`binary_cross_entropy`.

    Parameters
    ----------
    input : array of shape (*), real floating
        Logits (unnormalized scores).
    target : array of shape (*), real floating
        Same shape as ``input``. Usually in [0, 1]; values outside are computed by the
        formula, not clipped, as in PyTorch.
    weight : array broadcastable to (*), optional
        Rescaling weight per element.
    size_average, reduce : bool, optional
        Deprecated (``DeprecationWarning``); override ``reduction`` as in PyTorch.
    reduction : {'none', 'mean', 'sum'}, default 'mean'
    pos_weight : array broadcastable to (*), optional
        Weight of positive examples, typically of shape (C,) for C classes along the last
        dimension; ``pos_weight > 1`` raises recall, ``< 1`` precision.
    label_smoothing : float in [0, 1], default 0.0
        Keyword-only; not in PyTorch. Targets become :math:`y (1 - \epsilon) +
        \epsilon / 2` (Keras's binary convention); 0 is PyTorch's loss.
    ignore_index : int, optional
        Keyword-only; not in PyTorch. Elements whose target equals it count for nothing:
        0 in 'none', left out of 'sum' and of 'mean', whose divisor is the number of the
        other elements; their gradient is 0, whatever their logit (NaN, inf).
    inf_logits : {'nan', 'limit'}, default 'nan'
        Keyword-only; not in PyTorch. 'nan': PyTorch's values at infinite logits (NaN
        where its formula meets ``0 * inf`` or ``inf - inf``). 'limit': the formula's
        limit, 0 when the logit's sign agrees with the target and ``+inf`` otherwise
        (any term whose coefficient is 0 is 0), with finite gradients.
    empty : {'nan', 'zero'}, default 'nan'
        Keyword-only; not in PyTorch. What 'mean' over no element gives (an empty
        ``input``, or every target ignored): PyTorch's NaN, or 0 with a gradient of 0.
    sample_weight : array, bool, integer or real floating, optional
        Keyword-only, arrayloss's own: a weight per element of the
        ``reduction='none'`` output, to whose shape it must broadcast. 'none' gives
        the weighted loss (exactly 0 where the weight is 0, even where the loss is NaN
        or inf), 'sum' the weighted sum, 'mean' the weighted mean (a bool mask: the
        mean over the selected elements). See docs/sample-weight.md.

    Returns
    -------
    array
        Of ``input``'s library and device, with ``target``'s dtype (PyTorch's result
        dtype: its kernel works in place on ``1 - target``): shape (*) for 'none',
        0-d otherwise.

    Raises
    ------
    ValueError
        ``target``'s shape differs from ``input``'s; ``weight`` or ``pos_weight`` does
        not broadcast to it; ``reduction``, ``empty``, ``inf_logits`` or
        ``label_smoothing`` is invalid.
    TypeError
        ``input`` or ``target`` is not floating; arrays of two libraries;
        ``label_smoothing`` is not a number or ``ignore_index`` not an int.

    Notes
    -----
    float16 and bfloat16 inputs are computed in float32 and rounded once, at the end, so
    logits of +-1e4 stay finite. PyTorch's kernel for this loss is a chain of
    half-precision operations that rounds after each, so in half precision the two may
    differ by a few units in the last place (arrayloss's result is the closer one to the
    exact value). Infinite logits give what PyTorch gives: ``+inf`` for
    ``x = +inf, y = 0`` and NaN for ``x = -inf, y = 0`` or ``x = +inf, y = 1``
    (``0 * inf`` in the formula above); ``inf_logits='limit'`` gives 0, +inf and 0.

    Under ``torch.autocast`` half-precision tensors are cast to float32 first and the
    result is float32, as in PyTorch (see docs/mixed-precision.md).

    Examples
    --------
    PyTorch's documented example: 64 classes, every target 1, every logit 1.5 and
    ``pos_weight`` of ones gives :math:`-\log \sigma(1.5)`.

    >>> import numpy as np
    >>> import arrayloss
    >>> target = np.ones((10, 64))
    >>> output = np.full((10, 64), 1.5)
    >>> loss = arrayloss.binary_cross_entropy_with_logits(
    ...     output, target, pos_weight=np.ones(64))
    >>> bool(np.isclose(loss, np.log1p(np.exp(-1.5))))
    True
    """
    if (
        weight is None
        and pos_weight is None
        and size_average is None
        and reduce is None
        and sample_weight is None
        and ignore_index is None
        and type(label_smoothing) is float
        and label_smoothing == 0.0
        and type(inf_logits) is str
        and inf_logits == "nan"
        and type(empty) is str
        and empty == "nan"
    ):
        # Plain tensors, and every option at its default: PyTorch's kernel at once (the
        # dispatch layer's fast path says why).
        kernel = plain_torch_kernel("binary_cross_entropy_with_logits", reduction, input, target)
        if kernel is not None:
            return kernel(input, target, None, reduction=reduction)
        # Plain NumPy arrays: the composed kernel below, without the checks.
        plain_xp = plain_namespace(reduction, input, target)
        if plain_xp is not None:
            return reduce_plain_call(
                plain_xp, reduction, _bce_with_logits_unreduced, input, target, None, None
            )
    ctx = namespace_of(
        input=input,
        target=target,
        weight=weight,
        pos_weight=pos_weight,
        sample_weight=sample_weight,
    )
    xp = ctx.xp
    check_array("input", input)
    check_array("target", target)
    check_array("weight", weight, optional=True)
    check_array("pos_weight", pos_weight, optional=True)
    # Under torch.autocast: half-precision tensors to float32, as PyTorch.
    input, target, weight, pos_weight = ctx.autocast(
        "binary_cross_entropy_with_logits", input, target, weight, pos_weight
    )
    reduction = legacy_reduction(size_average, reduce, reduction)
    eps = _check_options(label_smoothing, ignore_index, empty)
    _check_inf_logits(inf_logits)
    check_floating(xp, "input", input)
    check_floating(xp, "target", target)
    check_same_shape("target", target, "input", input)
    shape = tuple(input.shape)
    for name, extra in (("weight", weight), ("pos_weight", pos_weight)):
        if extra is not None:
            check_floating(xp, name, extra)
            check_broadcasts_to(name, extra, shape)

    # PyTorch's kernel knows none of the options it lacks: with any of them, generic.
    plain = (
        eps == 0.0
        and ignore_index is None
        and inf_logits == "nan"
        and empty == "nan"
        and sample_weight is None
    )
    native = native_kernel(ctx, "binary_cross_entropy_with_logits", input.dtype, weight, pos_weight)
    if (
        plain
        and native is not None
        and all(a is None or a.dtype == input.dtype for a in (target, weight, pos_weight))
    ):
        return native(input, target, weight, reduction=reduction, pos_weight=pos_weight)
    work_dtype = compute_dtype(xp, xp.result_type(input, target))

    def work(x: Any) -> Any:
        return None if x is None else xp.astype(x, work_dtype, copy=False)

    keep = _kept(target, ignore_index)
    used = _both(keep, sample_weight_kept(ctx, sample_weight, tuple(input.shape)))
    kernel = _bce_with_logits_limit if inf_logits == "limit" else _bce_with_logits_unreduced
    with ctx.quiet_floating_point():
        loss = kernel(
            xp,
            _masked(xp, work(input), used, 0.0),
            _smoothed(_masked(xp, work(target), used, 0.0), eps),
            work(weight),
            work(pos_weight),
        )
        return _reduce(ctx, loss, keep, reduction, target.dtype, empty, sample_weight)
