"""The multi-class classification family: negative log likelihood, cross entropy and the
multi-class margin loss.

Each public loss is a short front (namespace, legacy arguments, validation, reduction)
over private kernels that compute unreduced terms with ``xp`` only. nll_loss and
cross_entropy gather ``logp[t]`` with ``take_along_axis`` (``ArrayContext``'s, which
covers Dask) at a safe index, 0 where ``t`` is ignored or out of range, then mask those
samples out: PyTorch's and JAX's gathers wrap or give NaN for out-of-range indices
instead of raising. multi_margin_loss compares with ``target == arange(C)`` (a one-hot
mask), as it needs every class anyway.
"""

from __future__ import annotations

import math
from typing import Any

from ._dispatch import (
    ArrayContext,
    array_size,
    defer_value_check,
    jax_auto_jit,
    kernel_checks_class_indices,
    namespace_of,
    native_kernel,
    plain_torch_class_index_kernel,
)
from ._errors import ArrayLossIndexError, ArrayLossTypeError, ArrayLossValueError
from ._numerics import compute_dtype, log_softmax, log_softmax_parts
from ._reduction import (
    apply_reduction,
    at_defaults,
    legacy_reduction,
    sample_weight_kept,
    validate_empty,
    zero_where_unweighted,
)
from ._validation import check_array, check_floating, check_integer, dtype_name, is_python_number

__all__ = ["cross_entropy", "multi_margin_loss", "nll_loss"]


# --- validation ----------------------------------------------------------------------------


def _class_axis(input: Any) -> int:
    # (C,) unbatched: the classes are axis 0; (N, C, d1, ..., dK): axis 1.
    return 0 if input.ndim == 1 else 1


def _check_input_shape(input: Any) -> None:
    if input.ndim < 1:
        raise ArrayLossValueError(
            "`input` must have shape (C,), (N, C) or (N, C, d1, ..., dK); got shape ()"
        )


def _check_index_target(xp: Any, input: Any, target: Any) -> None:
    """``target`` holds class indices: an integer array of ``input``'s shape without
    its class axis."""
    check_integer(xp, "target", target, "of class indices")
    axis = _class_axis(input)
    shape = tuple(input.shape)
    expected = shape[:axis] + shape[axis + 1 :]
    if tuple(target.shape) != expected:
        raise ArrayLossValueError(
            f"`target` of class indices must have shape {expected} (`input`'s shape "
            f"{shape} without its class axis {axis}); got {tuple(target.shape)}"
        )


def _check_weight(xp: Any, weight: Any, n_classes: int) -> None:
    if weight is None:
        return
    check_floating(xp, "weight", weight)
    if tuple(weight.shape) != (n_classes,):
        raise ArrayLossValueError(
            f"`weight` must have shape ({n_classes},), one weight per class; "
            f"got {tuple(weight.shape)}"
        )


def _check_ignore_index(ignore_index: object) -> None:
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, int):
        raise TypeError(f"`ignore_index` must be an int; got {type(ignore_index).__name__}")


def _check_indices_in_range(
    ctx: ArrayContext, target: Any, n_classes: int, ignore_index: int | None
) -> None:
    """On eager arrays, every class index lies in [0, C) or equals ``ignore_index``.

    PyTorch raises ``IndexError`` ("Target 5 is out of bounds.") in nll_loss and
    ``RuntimeError`` in multi_margin_loss; ``ArrayLossIndexError`` is both.
    Skipped on traced and lazy arrays, where an out-of-range index then contributes
    nothing to the loss (it is masked out like an ignored one).
    """
    if array_size(target) == 0:
        return
    xp = ctx.xp

    def out_of_range() -> Any:
        bad = (target < 0) | (target >= n_classes)
        if ignore_index is not None:
            bad = bad & (target != ignore_index)
        return bad

    if not ctx.eager:
        defer_value_check(ctx, out_of_range)
        return
    # The common case first: every index in range, seen from the smallest and largest
    # (two reductions, no full-size temporaries; the elementwise masks below cost about
    # 50 us per call for 4096 indices on torch, which nll_loss's own kernel beats by far).
    if int(xp.min(target)) >= 0 and int(xp.max(target)) < n_classes:
        return
    bad = out_of_range()
    if not bool(xp.any(bad)):
        return
    zero = xp.zeros_like(target)
    high = bad & (target >= n_classes)
    value = int(xp.max(xp.where(high, target, zero))) if bool(xp.any(high)) else None
    if value is None:
        value = int(xp.min(xp.where(bad, target, zero)))
    ignored = "" if ignore_index is None else f" and not ignore_index {ignore_index}"
    raise ArrayLossIndexError(
        f"`target` holds class index {value}, outside [0, {n_classes}) (C = {n_classes}){ignored}"
    )


def _check_ignore_probability_rows(flag: object) -> bool:
    if not isinstance(flag, bool):
        raise TypeError(f"`ignore_probability_rows` must be a bool; got {type(flag).__name__}")
    return flag


def _check_label_smoothing(label_smoothing: object) -> float:
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, (int, float)):
        raise TypeError(f"`label_smoothing` must be a float; got {type(label_smoothing).__name__}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ArrayLossValueError(
            f"`label_smoothing` must lie between 0.0 and 1.0; got {label_smoothing!r}"
        )
    return float(label_smoothing)


# --- kernels -------------------------------------------------------------------------------


def _on_class_axis(xp: Any, v: Any, ndim: int, axis: int) -> Any:
    # A (C,) vector shaped to broadcast along the class axis of an ndim-array.
    return xp.reshape(v, (v.shape[0],) + (1,) * (ndim - axis - 1))


def _hits(
    xp: Any,
    target: Any,
    n_classes: int,
    ndim: int,
    axis: int,
    ignore_index: int | None,
    device: Any,
) -> Any:
    """The one-hot mask ``target == c`` with the classes on ``axis`` (booleans).

    An ignored or out-of-range index gives an all-false slice (``ignore_index`` may be
    a class of [0, C) too).
    """
    classes = xp.arange(n_classes, dtype=target.dtype, device=device)
    t = xp.expand_dims(target, axis=axis)
    hits = t == _on_class_axis(xp, classes, ndim, axis)
    return hits if ignore_index is None else hits & (t != ignore_index)


def _nll_unreduced(
    ctx: ArrayContext,
    logp: Any,
    target: Any,
    weight: Any,
    axis: int,
    ignore_index: int,
    normalizer: tuple[Any, Any] | None = None,
) -> tuple[Any, Any]:
    """(``-w[t] logp[t]``, ``w[t]``) per sample, both 0 where ``t`` is ignored (or, on
    traced and lazy arrays, where the unchecked index is out of range).

    ``w[t]`` is 1 for each counted sample without ``weight``: its sum is the 'mean'
    normalizer in both cases (aten/src/ATen/native/LossNLL.cpp, nll_loss_out_frame).
    ``logp[t]`` is gathered (``take_along_axis``): one read per sample, as PyTorch, where
    a one-hot mask would cost passes over all N x C log-probabilities.

    With ``normalizer``, ``(m, log_s)`` of ``_numerics.log_softmax_parts``, ``logp`` is
    the logits, and the log-probabilities are made at the gathered entries only:
    ``(x[t] - m) - log_s``, log_softmax's own operations (the same bits).
    """
    xp = ctx.xp
    n_classes = logp.shape[axis]
    counted = (target >= 0) & (target < n_classes)
    if ignore_index is not None:
        counted = counted & (target != ignore_index)
    # An ignored index gathers class 0 and is masked out below.
    index = xp.expand_dims(xp.where(counted, target, xp.zeros_like(target)), axis=axis)
    picked = ctx.take_along_axis(logp, index, axis=axis)
    if normalizer is not None:
        m, log_s = normalizer
        picked = (picked - m) - log_s
    picked = xp.squeeze(picked, axis=axis)
    zero = xp.zeros_like(picked)
    if weight is None:
        picked_w = xp.astype(counted, logp.dtype, copy=False)
        term = picked
    else:
        w = xp.broadcast_to(_on_class_axis(xp, weight, logp.ndim, axis), logp.shape)
        w = xp.squeeze(ctx.take_along_axis(w, index, axis=axis), axis=axis)
        picked_w = xp.where(counted, w, zero)
        term = picked * w
    # where, not counted * term: an ignored sample's gathered -inf must not become NaN.
    # Negated before the where: an ignored sample is +0.0, as in PyTorch, not -0.0.
    return xp.where(counted, -term, zero), picked_w


def _smooth_unreduced(xp: Any, logp: Any, weight: Any, axis: int) -> Any:
    # -sum_c w_c logp_c: the label-smoothing term of each sample (LossNLL.cpp,
    # cross_entropy_loss_label_smoothing).
    if weight is not None:
        logp = logp * _on_class_axis(xp, weight, logp.ndim, axis)
    return -xp.sum(logp, axis=axis)


def _prob_target_unreduced(
    xp: Any, logp: Any, target: Any, weight: Any, axis: int, label_smoothing: float
) -> Any:
    # LossNLL.cpp, cross_entropy_loss_prob_target: -sum_c w_c t_c logp_c, with
    # t <- t (1 - eps) + eps / C when smoothing.
    if label_smoothing > 0.0:
        # max(C, 1): with C = 0 classes there is nothing to smooth (the sum is empty).
        target = target * (1.0 - label_smoothing) + label_smoothing / max(logp.shape[axis], 1)
    term = logp * target
    if weight is not None:
        term = term * _on_class_axis(xp, weight, logp.ndim, axis)
    return -xp.sum(term, axis=axis)


def _reduce_weighted(
    ctx: ArrayContext,
    loss: Any,
    norm: Any,
    reduction: str,
    dtype: Any,
    empty: str = "nan",
    sample_weight: Any = None,
) -> Any:
    """'mean' is ``sum(loss) / sum(norm)``: where ``sum(norm)`` is 0 (every sample
    ignored, or their weights summing to 0) NaN, or 0 with ``empty='zero'``
    (:func:`~arrayloss._reduction.mean_of`, whose gradient is then 0 too). With
    ``sample_weight`` ``s``: ``sum(s loss) / sum(s norm)``."""
    return apply_reduction(ctx, loss, reduction, dtype, empty, sample_weight, count=norm)


def _index_front(
    ctx: ArrayContext,
    input: Any,
    target: Any,
    weight: Any,
    ignore_index: object,
    *,
    check_range: bool = True,
) -> tuple[Any, Any, Any, Any]:
    """Checks and casts shared by the losses with class-index targets: the work
    arrays ``(input, target, weight)`` and ``ignore_index`` (None: no index ignored).
    ``check_range=False`` leaves the range check to a native kernel
    (:func:`_native_index_loss`)."""
    xp = ctx.xp
    if ignore_index is not None:
        _check_ignore_index(ignore_index)
    assert ignore_index is None or isinstance(ignore_index, int)  # for the type checker
    n_classes = int(input.shape[_class_axis(input)])
    _check_index_target(xp, input, target)
    _check_weight(xp, weight, n_classes)
    if xp.isdtype(target.dtype, "unsigned integer"):
        # uint8 (which PyTorch accepts) cannot be compared with ignore_index = -100
        # (array-api-strict raises OverflowError), in the range check or the kernel.
        target = xp.astype(target, ctx.index_dtype, copy=False)
    if check_range:
        _check_indices_in_range(ctx, target, n_classes, ignore_index)
    work_dtype = compute_dtype(xp, input.dtype)
    x = xp.astype(input, work_dtype, copy=False)
    w = None if weight is None else xp.astype(weight, work_dtype, copy=False)
    return x, target, w, ignore_index


def _native_index_loss(
    ctx: ArrayContext, native: Any, input: Any, target: Any, weight: Any, *arguments: Any
) -> Any:
    """``native(input, target, weight, *arguments)``, PyTorch's nll_loss or cross_entropy
    kernel on class indices ``target`` (int64), after :func:`_index_front` with
    ``check_range=not kernel_checks_class_indices(ctx)``: where the kernel checked the
    indices itself and raised, arrayloss's check raises its own error."""
    try:
        return native(input, target, weight, *arguments)
    except IndexError:
        if kernel_checks_class_indices(ctx):
            ignore_index = arguments[1]
            _check_indices_in_range(ctx, target, int(input.shape[_class_axis(input)]), ignore_index)
        raise


def _plain_torch_index_call(
    loss: str,
    input: Any,
    target: Any,
    weight: Any,
    size_average: object,
    reduce: object,
    reduction: str,
    ignore_index: object,
    empty: object,
    sample_weight: Any,
    *smoothing: float,
) -> Any:
    """``loss`` by PyTorch's kernel at once for plain tensors of class indices
    (``_dispatch.plain_torch_class_index_kernel``) with the arguments nll_loss and
    cross_entropy share at their defaults, or None: also where the kernel raised
    ``IndexError`` for an index out of range, for the full path to raise arrayloss's
    error."""
    if not (
        weight is None
        and type(ignore_index) is int
        and at_defaults(size_average, reduce, empty, sample_weight)
    ):
        return None
    kernel = plain_torch_class_index_kernel(loss, reduction, input, target)
    if kernel is None:
        return None
    try:
        return kernel(input, target, None, None, ignore_index, None, reduction, *smoothing)
    except IndexError:
        return None


def _int64(xp: Any, target: Any) -> Any:
    # Class indices as a native kernel takes them (PyTorch's nll_loss: int64 only).
    return xp.astype(target, xp.int64, copy=False)


def _like_input(xp: Any, weight: Any, input: Any) -> Any:
    # A class weight in the input's dtype, as a native kernel takes it (the generic path
    # casts it to the working dtype the same way).
    return None if weight is None else xp.astype(weight, input.dtype, copy=False)


# --- public losses -------------------------------------------------------------------------


@jax_auto_jit
def nll_loss(
    input: Any,
    target: Any,
    weight: Any | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    *,
    empty: str = "nan",
    sample_weight: Any | None = None,
) -> Any:
    r"""Negative log likelihood of class indices ``target`` under log-probabilities ``input``.

    Mirrors :func:`torch.nn.functional.nll_loss` (PyTorch 2.13).

    .. math::

        \ell_n = -w_{y_n} x_{n, y_n}, \qquad w_{y_n} = 0 \text{ where } y_n = \text{ignore\_index}

    then 'none' gives :math:`\ell`, 'sum' gives :math:`\sum_n \ell_n` and 'mean' gives
    :math:`\sum_n \ell_n / \sum_n w_{y_n}` (the weighted mean over the samples not
    ignored; NaN when every sample is ignored, as in PyTorch, or 0 with
    ``empty='zero'``).

    Parameters
    ----------
    input : array of shape (C,), (N, C) or (N, C, d1, ..., dK), real floating
        Log-probabilities (e.g. from a log-softmax); the classes are axis 1 (axis 0
        unbatched).
    target : array of shape (), (N,) or (N, d1, ..., dK), integer
        Class indices in [0, C), or ``ignore_index``. PyTorch accepts int64 and uint8;
        arrayloss accepts every integer dtype.
    weight : array of shape (C,), optional
        Rescaling weight per class.
    size_average, reduce : bool, optional
        Deprecated (``DeprecationWarning``); override ``reduction`` as in PyTorch.
    ignore_index : int, default -100
        Samples with this target contribute neither to the loss nor to the 'mean'
        normalizer ('none' gives 0 there).
    reduction : {'none', 'mean', 'sum'}, default 'mean'
    empty : {'nan', 'zero'}, default 'nan'
        Keyword-only; arrayloss only (PyTorch lacks it). What 'mean' gives when nothing
        counts (an empty batch, every target ignored, or the weights of the kept
        targets summing to 0): NaN as PyTorch (0 / 0), or 0 with 'zero', whose gradient
        is 0 as well. 'none' and 'sum' are unaffected.
    sample_weight : array, bool, integer or real floating, optional
        Keyword-only, arrayloss's own: a weight per element of the
        ``reduction='none'`` output, to whose shape it must broadcast. 'none' gives
        the weighted loss (exactly 0 where the weight is 0, even where the loss is NaN
        or inf), 'sum' the weighted sum, 'mean' the weighted mean (a bool mask: the
        mean over the selected elements). See docs/sample-weight.md.

    Returns
    -------
    array
        Of ``input``'s library, device and dtype: ``target``'s shape for 'none', 0-d
        otherwise.

    Raises
    ------
    IndexError
        On eager backends, a target outside [0, C) other than ``ignore_index`` (as
        PyTorch). Traced or lazy arrays (JAX under ``jit``/``vmap``/``grad``, Dask,
        ``torch.compile``) skip the check: such a target then contributes 0.
    ValueError
        Shapes of ``input``, ``target`` or ``weight`` that do not fit; an unknown
        ``reduction`` (``ArrayLossValueError`` where PyTorch raises ``RuntimeError``).
    TypeError
        ``input`` not floating, ``target`` not integer; arrays of two libraries.

    Examples
    --------
    >>> import numpy as np
    >>> import arrayloss
    >>> logp = np.log(np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]]))
    >>> loss = arrayloss.nll_loss(logp, np.array([0, 2]))
    >>> bool(np.isclose(loss, -(np.log(0.7) + np.log(0.8)) / 2))
    True
    """
    # Plain tensors, every option at its default: PyTorch's kernel at once (the dispatch
    # layer's fast path says why). If it raises, the full path below raises arrayloss's
    # error.
    plain = _plain_torch_index_call(
        "nll_loss",
        input,
        target,
        weight,
        size_average,
        reduce,
        reduction,
        ignore_index,
        empty,
        sample_weight,
    )
    if plain is not None:
        return plain
    check_array("input", input)
    check_array("target", target)
    check_array("weight", weight, optional=True)
    reduction = legacy_reduction(size_average, reduce, reduction)
    empty = validate_empty(empty)
    ctx = namespace_of(input=input, target=target, weight=weight, sample_weight=sample_weight)
    # Under torch.autocast: half-precision tensors to float32, as PyTorch.
    input, target, weight = ctx.autocast("nll_loss", input, target, weight)
    xp = ctx.xp
    check_floating(xp, "input", input)
    _check_input_shape(input)
    # ATen's kernel knows none of arrayloss's own options: only with their defaults.
    fits = empty == "nan" and sample_weight is None
    native = native_kernel(ctx, "nll_loss", input.dtype, weight) if fits else None
    check_range = native is None or not kernel_checks_class_indices(ctx)
    x, t, w, ignore = _index_front(
        ctx, input, target, weight, ignore_index, check_range=check_range
    )
    if native is not None:
        return _native_index_loss(
            ctx,
            native,
            input,
            _int64(xp, t),
            _like_input(xp, weight, input),
            None,
            ignore_index,
            None,
            reduction,
        )
    # Samples of weight 0 read log-probabilities of 0: no NaN in their gradient.
    kept = sample_weight_kept(ctx, sample_weight, tuple(target.shape))
    x = zero_where_unweighted(ctx, x, kept, axis=_class_axis(input))
    with ctx.quiet_floating_point():
        loss, norm = _nll_unreduced(ctx, x, t, w, _class_axis(input), ignore)
        return _reduce_weighted(ctx, loss, norm, reduction, input.dtype, empty, sample_weight)


@jax_auto_jit
def cross_entropy(
    input: Any,
    target: Any,
    weight: Any | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
    *,
    empty: str = "nan",
    ignore_probability_rows: bool = False,
    sample_weight: Any | None = None,
) -> Any:
    r"""Cross entropy between logits ``input`` and class indices or probabilities ``target``.

    Mirrors :func:`torch.nn.functional.cross_entropy` (PyTorch 2.13). With
    :math:`\log p_{n,c} = x_{n,c} - \log\sum_k e^{x_{n,k}}` (computed stably), for class
    indices :math:`y_n` and label smoothing :math:`\varepsilon`:

    .. math::

        \ell_n = (1 - \varepsilon)\,(-w_{y_n} \log p_{n, y_n})
                 + \frac{\varepsilon}{C} \left(-\sum_c w_c \log p_{n,c}\right)

    with :math:`\ell_n = 0` where :math:`y_n` is ``ignore_index``; 'mean' divides
    :math:`\sum_n \ell_n` by :math:`\sum_n w_{y_n}` over the samples not ignored (NaN
    when all are, as PyTorch, or 0 with ``empty='zero'``). For probabilities
    :math:`t_{n,c}` (a floating ``target`` of ``input``'s shape):

    .. math::

        \ell_n = -\sum_c w_c \tilde t_{n,c} \log p_{n,c}, \qquad
        \tilde t = (1 - \varepsilon)\, t + \varepsilon / C

    and 'mean' divides by the number of samples :math:`N \cdot d_1 \cdots d_K`
    (with ``ignore_probability_rows=True``, those whose target is not all
    ``ignore_index``).

    Parameters
    ----------
    input : array of shape (C,), (N, C) or (N, C, d1, ..., dK), real floating
        Logits (unnormalized scores); the classes are axis 1 (axis 0 unbatched).
    target : array of shape (), (N,) or (N, d1, ..., dK), integer; or of ``input``'s shape, floating
        Class indices in [0, C) (or ``ignore_index``), or class probabilities (the
        result then has the promoted dtype of ``input`` and ``target``, as in PyTorch).
    weight : array of shape (C,), optional
        Rescaling weight per class.
    size_average, reduce : bool, optional
        Deprecated (``DeprecationWarning``); override ``reduction`` as in PyTorch.
    ignore_index : int, default -100
        Class-index targets only: samples with this target are left out. With class
        probabilities it must be negative (as in PyTorch, which raises otherwise) and
        is not used, unless ``ignore_probability_rows=True``.
    reduction : {'none', 'mean', 'sum'}, default 'mean'
    label_smoothing : float in [0, 1], default 0.0
    empty : {'nan', 'zero'}, default 'nan'
        Keyword-only; arrayloss only (PyTorch lacks it). What 'mean' gives when nothing
        counts (an empty batch, every target ignored, or the weights of the kept
        class-index targets summing to 0): NaN as PyTorch (0 / 0), or 0 with 'zero',
        whose gradient is 0 as well. 'none' and 'sum' are unaffected.
    ignore_probability_rows : bool, default False
        Keyword-only; arrayloss only (PyTorch ignores ``ignore_index`` for class
        probabilities). With True, a position (a sample, and each spatial position of
        (N, C, d1, ..., dK)) whose probability target equals ``ignore_index`` in every
        class (a padded row filled with -100, say) is left out: 0 for 'none', not in
        'sum', nor in the 'mean' normalizer (the number of positions kept), with a
        gradient of 0. ``ignore_index`` may then be any int (0 ignores all-zero rows).
        No effect on class-index targets, where ``ignore_index`` always applies.
    sample_weight : array, bool, integer or real floating, optional
        Keyword-only, arrayloss's own: a weight per element of the
        ``reduction='none'`` output, to whose shape it must broadcast. 'none' gives
        the weighted loss (exactly 0 where the weight is 0, even where the loss is NaN
        or inf), 'sum' the weighted sum, 'mean' the weighted mean (a bool mask: the
        mean over the selected elements). See docs/sample-weight.md.

    Returns
    -------
    array
        Of ``input``'s library, device and dtype: ``input``'s shape without the class
        axis for 'none', 0-d otherwise.

    Raises
    ------
    IndexError
        On eager backends, a class index outside [0, C) other than ``ignore_index``.
        Skipped on traced or lazy arrays, where such a target contributes only the
        smoothing term.
    ValueError
        Shapes that do not fit; ``label_smoothing`` outside [0, 1]; a non-negative
        ``ignore_index`` with class probabilities (unless
        ``ignore_probability_rows=True``); an unknown ``reduction`` or ``empty``.
    TypeError
        ``input`` not floating; ``target`` neither integer nor floating;
        ``ignore_probability_rows`` not a bool.

    Notes
    -----
    float16 and bfloat16 inputs are computed in float32 and the result rounded once,
    so logits of 1e4 stay finite.

    Examples
    --------
    >>> import numpy as np
    >>> import arrayloss
    >>> logits = np.array([[2.0, 0.5, -1.0]])
    >>> loss = arrayloss.cross_entropy(logits, np.array([0]))
    >>> bool(np.isclose(loss, np.log(np.exp(logits).sum()) - 2.0))
    True
    """
    if (
        type(label_smoothing) is float
        and 0.0 <= label_smoothing <= 1.0
        and ignore_probability_rows is False
    ):
        # As in nll_loss: plain tensors of class indices, PyTorch's kernel at once.
        plain = _plain_torch_index_call(
            "cross_entropy",
            input,
            target,
            weight,
            size_average,
            reduce,
            reduction,
            ignore_index,
            empty,
            sample_weight,
            label_smoothing,
        )
        if plain is not None:
            return plain
    check_array("input", input)
    check_array("target", target)
    check_array("weight", weight, optional=True)
    reduction = legacy_reduction(size_average, reduce, reduction)
    eps = _check_label_smoothing(label_smoothing)
    empty = validate_empty(empty)
    ignore_rows = _check_ignore_probability_rows(ignore_probability_rows)
    # ATen's kernel knows none of arrayloss's own options: only with their defaults.
    native_fits = empty == "nan" and not ignore_rows and sample_weight is None
    ctx = namespace_of(input=input, target=target, weight=weight, sample_weight=sample_weight)
    # Under torch.autocast: half-precision tensors to float32, as PyTorch.
    input, target, weight = ctx.autocast("cross_entropy", input, target, weight)
    xp = ctx.xp
    check_floating(xp, "input", input)
    _check_input_shape(input)
    axis = _class_axis(input)
    n_classes = int(input.shape[axis])

    if tuple(target.shape) == tuple(input.shape):
        # Class probabilities (PyTorch decides by the shape, then demands a floating
        # dtype). As PyTorch: log_softmax in the input's dtype, then the product with
        # the target in the promoted dtype (float32 input with float64 target gives a
        # float64 result).
        if not xp.isdtype(target.dtype, "real floating"):
            raise ArrayLossTypeError(
                "`target` of class probabilities (the shape of `input`) must have a real "
                f"floating-point dtype; got {dtype_name(target.dtype)}"
            )
        _check_ignore_index(ignore_index)
        if ignore_index >= 0 and not ignore_rows:
            # aten/src/ATen/native/LossNLL.cpp: TORCH_CHECK(ignore_index < 0, ...).
            raise ArrayLossValueError(
                "`ignore_index` is not supported with class probabilities (a floating "
                f"`target` of `input`'s shape): expected a negative value; got {ignore_index}"
            )
        _check_weight(xp, weight, n_classes)
        native = native_kernel(ctx, "cross_entropy", input.dtype, weight) if native_fits else None
        if native is not None:
            return native(
                input,
                target,
                _like_input(xp, weight, input),
                None,
                ignore_index,
                None,
                reduction,
                eps,
            )
        result_dtype = xp.result_type(input, target)
        work_dtype = compute_dtype(xp, result_dtype)
        w = None if weight is None else xp.astype(weight, work_dtype, copy=False)
        # Samples of weight 0 computed at logits and probabilities of 0.
        out_shape = tuple(n for i, n in enumerate(input.shape) if i != axis)
        sample_kept = sample_weight_kept(ctx, sample_weight, out_shape)
        with ctx.quiet_floating_point():
            x = xp.astype(input, compute_dtype(xp, input.dtype), copy=False)
            x = zero_where_unweighted(ctx, x, sample_kept, axis=axis)
            logp = xp.astype(log_softmax(xp, x, axis), work_dtype, copy=False)
            t = xp.astype(target, work_dtype, copy=False)
            t = zero_where_unweighted(ctx, t, sample_kept, axis=axis)
            if ignore_rows:
                # A position is ignored where every class of its target is ignore_index
                # (with C = 0 classes, every position). Its target is zeroed first, so
                # that no -100 * -inf reaches the loss or its gradient.
                kept = ~xp.all(target == ignore_index, axis=axis)
                t = xp.where(xp.expand_dims(kept, axis=axis), t, xp.zeros_like(t))
                loss = _prob_target_unreduced(xp, logp, t, w, axis, eps)
                loss = xp.where(kept, loss, xp.zeros_like(loss))
                norm = xp.astype(kept, work_dtype, copy=False)
                return _reduce_weighted(
                    ctx, loss, norm, reduction, result_dtype, empty, sample_weight
                )
            loss = _prob_target_unreduced(xp, logp, t, w, axis, eps)
            if reduction == "mean" and array_size(input) == 0 and empty == "nan":
                # LossNLL.cpp: 'mean' of an empty input is NaN, also where samples
                # remain (C = 0: the sum over no classes), not the mean of their zeros.
                loss = loss * xp.nan
            return apply_reduction(ctx, loss, reduction, result_dtype, empty, sample_weight)

    native = native_kernel(ctx, "cross_entropy", input.dtype, weight) if native_fits else None
    check_range = native is None or not kernel_checks_class_indices(ctx)
    x, t, w, ignore = _index_front(
        ctx, input, target, weight, ignore_index, check_range=check_range
    )
    if native is not None:
        return _native_index_loss(
            ctx,
            native,
            input,
            _int64(xp, t),
            _like_input(xp, weight, input),
            None,
            ignore_index,
            None,
            reduction,
            eps,
        )
    kept = sample_weight_kept(ctx, sample_weight, tuple(target.shape))
    x = zero_where_unweighted(ctx, x, kept, axis=axis)
    with ctx.quiet_floating_point():
        if eps > 0.0 or 0 in tuple(x.shape):
            logp = log_softmax(xp, x, axis)  # the smoothing term needs every class
            loss, norm = _nll_unreduced(ctx, logp, t, w, axis, ignore)
        else:
            # log_softmax at the targets only: the same bits, no N x C array
            # (_numerics.log_softmax_parts says why).
            parts = log_softmax_parts(xp, x, axis)
            loss, norm = _nll_unreduced(ctx, x, t, w, axis, ignore, normalizer=parts)
        if eps > 0.0:
            smooth = _smooth_unreduced(xp, logp, w, axis)
            smooth = xp.where(t != ignore, smooth, xp.zeros_like(smooth))
            loss = (1.0 - eps) * loss + (eps / max(n_classes, 1)) * smooth  # C = 0: empty
            if reduction == "mean" and empty == "nan":
                # PyTorch's 'mean' is NaN where the kept targets' weights sum to 0 (its
                # nll part is 0 / 0), also where the smoothing term's sum is not 0 and
                # the sum / 0 alone would be +-inf. A constant NaN: no gradient path.
                nothing = xp.sum(norm) == 0
                loss = xp.where(nothing, xp.full_like(loss, xp.nan), loss)
        return _reduce_weighted(ctx, loss, norm, reduction, input.dtype, empty, sample_weight)


def _multi_margin_unreduced(
    ctx: ArrayContext, x: Any, target: Any, p: int, margin: float, weight: Any
) -> Any:
    """The loss of each row of ``x`` (N, C) and its class index in ``target`` (N,).

    aten/src/ATen/native/LossMultiMargin.cpp: for each class i != y,
    ``h_i = max(0, margin - x_y + x_i) ** p``, summed, divided by C, times ``weight[y]``.

    ``x_y`` is gathered (``take_along_axis``), and the two masks (the hinge's ``z > 0``
    and the target's own class) are one ``where``: two full-size floating temporaries
    (``z`` and ``h``; three with p = 2) where the one-hot form built six. An index out of
    range (unchecked only on traced and lazy arrays) selects no class: ``x_y`` counts as
    0, no term is left out, and a ``weight`` gives the row 0.
    """
    xp = ctx.xp
    n_classes = x.shape[1]
    zero = xp.zeros((), dtype=x.dtype, device=ctx.device)
    # On eager arrays every index was checked in range (_index_front): no masking (at
    # N = 1 on torch, 6 operations of about 20).
    counted = None if ctx.eager else (target >= 0) & (target < n_classes)
    index = target if counted is None else xp.where(counted, target, xp.zeros_like(target))
    x_target = ctx.take_along_axis(x, xp.expand_dims(index, axis=1), axis=1)
    if counted is not None:
        x_target = xp.where(xp.expand_dims(counted, axis=1), x_target, zero)
    z = (margin - x_target) + x
    others = ~_hits(xp, target, n_classes, 2, 1, None, ctx.device)
    # where(z > 0, z, 0), not maximum: the gradient at z = 0 is 0, as in PyTorch, and
    # NaN counts 0 (ATen's `if (z > 0)`).
    h = xp.where((z > 0) & others, z, zero)
    if p == 2:
        h = h * h
    loss = xp.sum(h, axis=1) / n_classes
    if weight is not None:
        w = xp.take(weight, index)
        loss = loss * (w if counted is None else xp.where(counted, w, zero))
    return loss


@jax_auto_jit
def multi_margin_loss(
    input: Any,
    target: Any,
    p: int = 1,
    margin: float = 1.0,
    weight: Any | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    *,
    empty: str = "nan",
    sample_weight: Any | None = None,
) -> Any:
    r"""Multi-class margin (hinge) loss between scores ``input`` and class indices.

    Mirrors :func:`torch.nn.functional.multi_margin_loss` (PyTorch 2.13).

    .. math::

        \ell_n = \frac{1}{C} \sum_{i \ne y_n}
                 w_{y_n} \max\left(0,\ \mathrm{margin} - x_{n, y_n} + x_{n, i}\right)^p

    then reduced over the samples by ``reduction``. For an empty batch PyTorch 2.13
    returns uninitialized memory; arrayloss gives 0 for 'sum' and NaN for 'mean', as
    PyTorch's other losses do.

    Parameters
    ----------
    input : array of shape (C,) or (N, C), real floating
        Scores. As in PyTorch, a 0-d input is one sample of one class (C = 1), and
        C must be positive.
    target : integer array of shape () or (N,)
        Class indices in [0, C), one per sample: for a single sample ((C,), or (1, C))
        shape () or (1,), both accepted as by PyTorch.
    p : {1, 2}, default 1
        The power of the hinge.
    margin : float, default 1.0
    weight : array of shape (C,), optional
        A weight per class, applied as :math:`w_{y_n}` (the target's class).
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
        Of ``input``'s library, device and dtype: for 'none' ``target``'s shape, (N,)
        or (), 0-d otherwise.

    Raises
    ------
    ValueError
        ``p`` is not 1 or 2; shapes do not fit. On eager backends a class index outside
        [0, C) raises ``IndexError``; on traced or lazy arrays that check is skipped and
        an out-of-range index compares against a target score of 0.
    TypeError
        ``input`` is not floating or ``target`` not integer.

    Examples
    --------
    PyTorch's documented example:
    :math:`\frac{1}{4}[(1 - 0.8 + 0.1) + (1 - 0.8 + 0.2) + (1 - 0.8 + 0.4)] = 0.325`.

    >>> import numpy as np
    >>> import arrayloss
    >>> x = np.array([[0.1, 0.2, 0.4, 0.8]])
    >>> bool(np.isclose(arrayloss.multi_margin_loss(x, np.array([3])), 0.325))
    True
    """
    if (
        weight is None
        and at_defaults(size_average, reduce, empty, sample_weight)
        and type(p) is int
        and p in (1, 2)
        and is_python_number(margin)
    ):
        kernel = plain_torch_class_index_kernel("multi_margin_loss", reduction, input, target)
        if kernel is not None:  # plain tensors: the checks below would all pass
            try:
                return kernel(input, target, p, float(margin), None, reduction=reduction)
            except RuntimeError:
                pass  # "target out of range": the full path raises arrayloss's error
    empty = validate_empty(empty)
    ctx = namespace_of(input=input, target=target, weight=weight, sample_weight=sample_weight)
    # Under torch.autocast: half-precision tensors to float32, as PyTorch.
    input, target, weight = ctx.autocast("multi_margin_loss", input, target, weight)
    xp = ctx.xp
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_array("input", input)
    check_array("target", target)
    check_array("weight", weight, optional=True)
    _check_p(p)
    if isinstance(margin, bool) or not isinstance(margin, (int, float)):
        raise TypeError(f"`margin` must be a float; got {type(margin).__name__}")
    if weight is not None and weight.ndim != 1:
        # Before the other checks, as PyTorch's Python wrapper: an input with several
        # faults reports this one first (ValueError "weight must be one-dimensional").
        raise ArrayLossValueError(
            f"`weight` must be one-dimensional, one weight per class; got shape "
            f"{tuple(weight.shape)}"
        )
    check_floating(xp, "input", input)
    matrix = _multi_margin_shapes(xp, input, target)
    x, t, w, _ = _index_front(
        ctx, xp.reshape(input, matrix), xp.reshape(target, matrix[:1]), weight, None
    )
    kept = sample_weight_kept(ctx, sample_weight, tuple(target.shape))
    if kept is not None:
        x = zero_where_unweighted(ctx, x, xp.reshape(kept, matrix[:1]))
    with ctx.quiet_floating_point():
        loss = _multi_margin_unreduced(ctx, x, t, p, float(margin), w)
        # One value per target element: shape (N,), or () for a 0-d target.
        loss = xp.reshape(loss, tuple(target.shape))
        return apply_reduction(
            ctx, loss, reduction, input.dtype, empty=empty, sample_weight=sample_weight
        )


def _multi_margin_shapes(xp: Any, input: Any, target: Any) -> tuple[int, int]:
    """The (N, C) matrix that ``input`` stands for, once its shape and ``target``'s are
    checked as PyTorch does (LossMultiMargin.cpp, multi_margin_loss_shape_check): a 0-d
    input is one sample of one class, a (C,) input one sample, (N, C) N samples, with
    C > 0; ``target`` holds the N class indices as a 0-d or 1-d array."""
    shape = tuple(input.shape)
    if len(shape) > 2 or (len(shape) > 0 and shape[-1] == 0):
        raise ArrayLossValueError(
            f"`input` must have shape (), (C,) or (N, C) with C > 0 classes; got shape {shape}"
        )
    n = shape[0] if len(shape) == 2 else 1
    c = shape[-1] if len(shape) > 0 else 1
    check_integer(xp, "target", target, "of class indices")
    if target.ndim > 1 or math.prod(target.shape) != n:
        raise ArrayLossValueError(
            f"`target` must hold one class index per sample of `input` (shape {shape}: "
            f"{n} sample{'s' if n != 1 else ''}), as a 0-d or 1-d array; "
            f"got shape {tuple(target.shape)}"
        )
    return n, c


def _check_p(p: object) -> None:
    # PyTorch: ValueError("only p == 1 and p == 2 supported").
    if isinstance(p, bool) or p not in (1, 2):
        raise ValueError(f"`p` must be 1 or 2 (PyTorch supports only these); got {p!r}")
