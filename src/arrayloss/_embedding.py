"""Embedding and ranking losses: margin_ranking_loss, hinge_embedding_loss,
cosine_embedding_loss, triplet_margin_loss and triplet_margin_with_distance_loss.

Each public loss is a short front (namespace, legacy arguments, validation, reduction)
over a private kernel that computes the unreduced loss with ``xp`` only. The formulas
are those of PyTorch 2.13 (``aten/src/ATen/native/Loss.cpp``, ``Distance.cpp`` and
``torch/nn/functional.py``), with PyTorch's gradients at the kinks.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from typing import Any

from ._dispatch import (
    device_of,
    jax_auto_jit,
    magnitude,
    namespace_of,
    native_elementwise,
    plain_namespace,
    plain_torch_embedding_kernel,
    plain_torch_kernel,
)
from ._errors import ArrayLossTypeError, ArrayLossValueError
from ._numerics import compute_dtype
from ._reduction import (
    REDUCTIONS,
    apply_reduction,
    at_defaults,
    legacy_reduction,
    reduce_plain_call,
    sample_weight_kept,
    validate_empty,
    zero_unweighted_samples,
    zero_where_unweighted,
)
from ._validation import (
    broadcast_shape,
    check_array,
    check_floating,
    dtype_name,
    is_python_number,
    promote_integers,
)

__all__ = [
    "cosine_embedding_loss",
    "hinge_embedding_loss",
    "margin_ranking_loss",
    "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
]

#: PyTorch's ``constexpr float EPSILON = 1e-12`` of Loss.cpp: a float32 constant, so
#: 9.999999960041972e-13 in every dtype. The exact value matters for zero vectors,
#: whose gradient is about 1 / sqrt(EPSILON).
_COSINE_EPS: float = struct.unpack("f", struct.pack("f", 1e-12))[0]


# --- shared pieces -----------------------------------------------------------------------


def _clamp_min_zero(xp: Any, z: Any) -> Any:
    """``torch.clamp_min(z, 0)``: NaN stays NaN, and the gradient at z = 0 is 1, as
    PyTorch's (its backward passes the gradient where ``z >= 0``)."""
    native = native_elementwise(xp, z.dtype, "clamp_min_zero")
    if native is not None:
        return native(z)  # torch.clamp_min itself (the fast path's note says why)
    return xp.where(z < 0, 0.0, z)


def _check_number(name: str, value: object) -> float:
    # PyTorch wants a float here; bool is refused as in the other arrayloss losses.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"`{name}` must be a float; got {type(value).__name__}")
    return float(value)


def _check_positive_margin(margin: object) -> float:
    # PyTorch: `if margin <= 0: raise ValueError(...)`, so NaN passes there too.
    value = _check_number("margin", margin)
    if value <= 0:
        raise ValueError(f"`margin` must be greater than 0; got {margin!r}")
    return value


def _check_target_dtype(xp: Any, name: str, target: Any) -> None:
    # Targets are compared with -1 and 1 (PyTorch accepts any real dtype there).
    check_array(name, target)
    if not xp.isdtype(target.dtype, ("real floating", "integral", "bool")):
        raise ArrayLossTypeError(
            f"`{name}` must have a real (floating, integer or bool) dtype; "
            f"got {dtype_name(target.dtype)}"
        )


def _labels(xp: Any, target: Any, work_dtype: Any) -> Any:
    # Booleans count as 0 and 1 (as in PyTorch's comparisons); other dtypes stay as they
    # are, so that ``target == 1`` is decided in the target's own precision.
    return xp.astype(target, work_dtype, copy=False) if xp.isdtype(target.dtype, "bool") else target


def _ndim_mismatch(loss: str, **arrays: Any) -> ArrayLossValueError:
    parts = ", ".join(f"`{k}` {v.ndim}-d {tuple(v.shape)}" for k, v in arrays.items())
    return ArrayLossValueError(
        f"{loss}: {', '.join(f'`{k}`' for k in arrays)} must have the same number of "
        f"dimensions (PyTorch does not broadcast across dimensions here); got {parts}"
    )


def _float_dtype(xp: Any, *arrays: Any) -> Any:
    """PyTorch's result dtype of floating ``arrays`` beside integer ones: the promotion of
    the floating ones (an integer target does not widen a float input)."""
    floating = [a for a in arrays if xp.isdtype(a.dtype, "real floating")]
    return xp.result_type(*floating)


# --- margin_ranking_loss -----------------------------------------------------------------


def _margin_ranking_unreduced(xp: Any, x1: Any, x2: Any, y: Any, margin: float) -> Any:
    # aten/src/ATen/native/cpu/PointwiseOpsKernel.cpp: max(0, -y (x1 - x2) + margin),
    # written y (x2 - x1): the same bits (negation is exact), one temporary fewer.
    return _clamp_min_zero(xp, y * (x2 - x1) + margin)


@jax_auto_jit
def margin_ranking_loss(
    input1: Any,
    input2: Any,
    target: Any,
    margin: float = 0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    *,
    empty: str = "nan",
    sample_weight: Any | None = None,
) -> Any:
    r"""The ranking hinge between two scores and a label of 1 (``input1`` should rank
    higher) or -1 (``input2`` should).

    Mirrors :func:`torch.nn.functional.margin_ranking_loss` (PyTorch 2.13).

    .. math::

        \ell_n = \max\left(0,\ -y_n \left(x^{(1)}_n - x^{(2)}_n\right) + \mathrm{margin}\right)

    Reduced by ``reduction`` ('none', 'mean' over all elements, 'sum'). The gradient at
    a hinge of exactly 0 passes, as PyTorch's.

    Parameters
    ----------
    input1, input2 : arrays of shape (*), real floating or integer (promoted)
    target : array of the same number of dimensions, real (floating, integer or bool)
        Usually -1 or 1; other values enter the formula as they are.
    margin : float, default 0
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
        Of ``input1``'s library and device, the promoted floating dtype of the three
        arrays: their broadcast shape for 'none', 0-d otherwise.

    Raises
    ------
    ValueError
        The three arrays differ in their number of dimensions, or do not broadcast
        (``ArrayLossValueError``, also a ``RuntimeError`` as in PyTorch).
    TypeError
        An input is not floating.

    Examples
    --------
    Closed form: :math:`\max(0, -(1 - 2) + 0.5) + \max(0, (3 - 1) + 0.5) = 1.5 + 2.5`.

    >>> import numpy as np
    >>> import arrayloss
    >>> x1, x2 = np.array([1.0, 3.0]), np.array([2.0, 1.0])
    >>> loss = arrayloss.margin_ranking_loss(x1, x2, np.array([1.0, -1.0]), margin=0.5)
    >>> float(loss)
    2.0
    """
    if at_defaults(size_average, reduce, empty, sample_weight) and is_python_number(margin):
        plain_xp = plain_namespace(reduction, input1, input2, target)
        if plain_xp is not None:  # plain arrays: the checks below would all pass
            return reduce_plain_call(
                plain_xp,
                reduction,
                _margin_ranking_unreduced,
                input1,
                input2,
                target,
                float(margin),
            )
    empty = validate_empty(empty)
    ctx = namespace_of(input1=input1, input2=input2, target=target, sample_weight=sample_weight)
    # Under torch.autocast: half-precision tensors to float32, as PyTorch.
    input1, input2, target = ctx.autocast("margin_ranking_loss", input1, input2, target)
    xp = ctx.xp
    # An integer input beside a floating one (or a floating target) is promoted, as in
    # PyTorch; the target stays as it is.
    input1, input2 = promote_integers(xp, (target,), input1=input1, input2=input2)
    reduction = legacy_reduction(size_average, reduce, reduction)
    margin = _check_number("margin", margin)
    check_floating(xp, "input1", input1)
    check_floating(xp, "input2", input2)
    _check_target_dtype(xp, "target", target)
    if not input1.ndim == input2.ndim == target.ndim:
        raise _ndim_mismatch("margin_ranking_loss", input1=input1, input2=input2, target=target)
    broadcast_shape(input1=input1, input2=input2, target=target)
    result_dtype = _float_dtype(xp, input1, input2, target)
    work_dtype = compute_dtype(xp, result_dtype)
    with ctx.quiet_floating_point():
        loss = _margin_ranking_unreduced(
            xp,
            xp.astype(input1, work_dtype, copy=False),
            xp.astype(input2, work_dtype, copy=False),
            xp.astype(target, work_dtype, copy=False),
            margin,
        )
        return apply_reduction(
            ctx, loss, reduction, dtype=result_dtype, empty=empty, sample_weight=sample_weight
        )


# --- hinge_embedding_loss ----------------------------------------------------------------


def _hinge_embedding_unreduced(xp: Any, x: Any, y: Any, margin: float) -> Any:
    # aten/src/ATen/native/Loss.cpp, hinge_embedding_loss:
    #   where(y != 1, clamp_min(margin - x, 0), 0) + where(y != -1, x, 0)
    # so a target other than -1 and 1 gets both terms.
    if x.shape == y.shape:
        native = native_elementwise(xp, x.dtype, "hinge_embedding_terms", y)
        if native is not None:
            return native(x, y, margin)  # the same terms, in place (the fast path says why)
    zero = xp.zeros((), dtype=x.dtype, device=device_of(x))  # 0-d: no full-size block
    hinge = xp.where(y != 1, _clamp_min_zero(xp, margin - x), zero)
    return hinge + xp.where(y != -1, x, zero)


@jax_auto_jit
def hinge_embedding_loss(
    input: Any,
    target: Any,
    margin: float = 1.0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    *,
    empty: str = "nan",
    sample_weight: Any | None = None,
) -> Any:
    r"""The hinge embedding loss of distances ``input`` and labels of 1 (similar) or -1
    (dissimilar).

    Mirrors :func:`torch.nn.functional.hinge_embedding_loss` (PyTorch 2.13).

    .. math::

        \ell_n = [y_n \ne 1] \max(0,\ \mathrm{margin} - x_n) + [y_n \ne -1]\, x_n

    that is :math:`x_n` for :math:`y_n = 1` and :math:`\max(0, \mathrm{margin} - x_n)`
    for :math:`y_n = -1`; a target of any other value gets both terms, exactly as
    PyTorch's kernel. Reduced by ``reduction`` ('none', 'mean' over all elements, 'sum').

    Parameters
    ----------
    input : array of shape (*), real floating
    target : array broadcastable with ``input``, real (floating, integer or bool)
        Usually -1 or 1.
    margin : float, default 1.0
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
        Of ``input``'s library, device and dtype (the target's dtype does not promote
        it, as in PyTorch): the broadcast shape for 'none', 0-d otherwise.

    Examples
    --------
    Closed form: :math:`0.3 + \max(0, 1 - 0.4) = 0.9`.

    >>> import numpy as np
    >>> import arrayloss
    >>> x = np.array([0.3, 0.4])
    >>> loss = arrayloss.hinge_embedding_loss(x, np.array([1, -1]), reduction="sum")
    >>> bool(np.isclose(loss, 0.9))
    True
    """
    if at_defaults(size_average, reduce, empty, sample_weight) and is_python_number(margin):
        # Plain arrays: the checks below would all pass. Small plain tensors by ATen's
        # kernel, which is this formula (the fast path says why).
        kernel = plain_torch_kernel("hinge_embedding_loss", reduction, input, target)
        if kernel is not None:
            return kernel(input, target, float(margin), reduction=reduction)
        plain_xp = plain_namespace(reduction, input, target)
        if plain_xp is not None:
            return reduce_plain_call(
                plain_xp, reduction, _hinge_embedding_unreduced, input, target, float(margin)
            )
    empty = validate_empty(empty)
    ctx = namespace_of(input=input, target=target, sample_weight=sample_weight)
    # Under torch.autocast: half-precision tensors to float32, as PyTorch.
    input, target = ctx.autocast("hinge_embedding_loss", input, target)
    xp = ctx.xp
    reduction = legacy_reduction(size_average, reduce, reduction)
    margin = _check_number("margin", margin)
    check_floating(xp, "input", input)
    _check_target_dtype(xp, "target", target)
    shape = broadcast_shape(input=input, target=target)
    work_dtype = compute_dtype(xp, input.dtype)
    x = xp.astype(input, work_dtype, copy=False)
    if tuple(x.shape) == tuple(shape):
        # Elements of weight 0 computed at x = 0: their gradient is 0, not NaN.
        x = zero_where_unweighted(ctx, x, sample_weight_kept(ctx, sample_weight, shape))
    with ctx.quiet_floating_point():
        loss = _hinge_embedding_unreduced(xp, x, _labels(xp, target, work_dtype), margin)
        return apply_reduction(
            ctx, loss, reduction, dtype=input.dtype, empty=empty, sample_weight=sample_weight
        )


# --- cosine_embedding_loss ---------------------------------------------------------------


def _cosine_embedding_unreduced(xp: Any, x1: Any, x2: Any, y: Any, margin: float) -> Any:
    # aten/src/ATen/native/Loss.cpp, cosine_embedding_loss (EPSILON added to each squared
    # magnitude before their product, so that zero vectors give cos = 0, not NaN):
    #   cos = sum(x1 x2) / sqrt((sum(x1^2) + EPS) (sum(x2^2) + EPS))
    #   where(y == 1, 1 - cos, 0) + where(y == -1, clamp_min(cos - margin, 0), 0)
    prod_sum = xp.sum(x1 * x2, axis=-1)
    mag_square1 = xp.sum(x1 * x1, axis=-1) + _COSINE_EPS
    mag_square2 = xp.sum(x2 * x2, axis=-1) + _COSINE_EPS
    cos = prod_sum / xp.sqrt(mag_square1 * mag_square2)
    zero = xp.zeros_like(cos)
    positive = xp.where(y == 1, 1.0 - cos, zero)
    return positive + xp.where(y == -1, _clamp_min_zero(xp, cos - margin), zero)


@jax_auto_jit
def cosine_embedding_loss(
    input1: Any,
    input2: Any,
    target: Any,
    margin: float = 0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    *,
    empty: str = "nan",
    sample_weight: Any | None = None,
) -> Any:
    r"""The cosine embedding loss of two batches of vectors and labels of 1 (similar) or
    -1 (dissimilar).

    Mirrors :func:`torch.nn.functional.cosine_embedding_loss` (PyTorch 2.13).

    .. math::

        \cos_n = \frac{\sum_d x^{(1)}_{n,d} x^{(2)}_{n,d}}
                 {\sqrt{\left(\sum_d (x^{(1)}_{n,d})^2 + \epsilon\right)
                        \left(\sum_d (x^{(2)}_{n,d})^2 + \epsilon\right)}},
        \qquad
        \ell_n = \begin{cases}
            1 - \cos_n & y_n = 1 \\
            \max(0,\ \cos_n - \mathrm{margin}) & y_n = -1 \\
            0 & \text{otherwise}
        \end{cases}

    with PyTorch's :math:`\epsilon` = float32(1e-12) (a zero vector has cosine 0, and the
    gradient PyTorch gives there). Reduced over the samples by ``reduction``.

    Parameters
    ----------
    input1, input2 : arrays of shape (N, D) or (D,), real floating or integer (promoted)
        Broadcastable with each other (same number of dimensions).
    target : array of shape (N,) or (), real (floating, integer or bool)
        (N,) for 2-d inputs, () for 1-d inputs; broadcastable with the N samples.
    margin : float, default 0
        Usually in [-1, 1].
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
        Of ``input1``'s library and device, the promoted dtype of ``input1`` and
        ``input2``: shape (N,) (() for 1-d inputs) for 'none', 0-d otherwise.

    Raises
    ------
    ValueError
        ``target`` is not 0-d or 1-d, the inputs are not 1-d (0-d target) or 2-d (1-d
        target), or the shapes do not broadcast (``ArrayLossValueError``, also a
        ``RuntimeError`` as in PyTorch).

    Examples
    --------
    Closed form: parallel vectors have cosine 1 (less about 1e-12, from
    :math:`\epsilon`), orthogonal ones 0; with margin 0 the losses are
    :math:`1 - 1 = 0` and :math:`\max(0, 0 - 0) = 0` for these labels.

    >>> import numpy as np
    >>> import arrayloss
    >>> x1 = np.array([[1.0, 0.0], [0.0, 2.0]])
    >>> x2 = np.array([[3.0, 0.0], [1.0, 0.0]])
    >>> loss = arrayloss.cosine_embedding_loss(x1, x2, np.array([1, -1]), reduction="none")
    >>> bool(np.allclose(loss, [0.0, 0.0], rtol=0.0, atol=1e-11))
    True
    """
    if at_defaults(size_average, reduce, empty, sample_weight) and is_python_number(margin):
        kernel = plain_torch_embedding_kernel(
            "cosine_embedding_loss", reduction, input1, input2, samples=target
        )
        if kernel is not None:  # plain tensors: the checks below would all pass
            return kernel(input1, input2, target, float(margin), reduction=reduction)
    empty = validate_empty(empty)
    ctx = namespace_of(input1=input1, input2=input2, target=target, sample_weight=sample_weight)
    # Under torch.autocast: half-precision tensors to float32, as PyTorch.
    input1, input2, target = ctx.autocast("cosine_embedding_loss", input1, input2, target)
    xp = ctx.xp
    # An integer input beside a floating one is promoted, as in PyTorch (the target
    # does not take part: PyTorch compares it with 1 and -1).
    input1, input2 = promote_integers(xp, input1=input1, input2=input2)
    reduction = legacy_reduction(size_average, reduce, reduction)
    margin = _check_number("margin", margin)
    check_floating(xp, "input1", input1)
    check_floating(xp, "input2", input2)
    _check_target_dtype(xp, "target", target)
    if target.ndim not in (0, 1):
        raise ArrayLossValueError(
            f"`target` must be 0-d or 1-d (PyTorch: multi-target not supported); "
            f"got shape {tuple(target.shape)}"
        )
    want = target.ndim + 1
    if input1.ndim != want or input2.ndim != want:
        shapes = "(D,)" if want == 1 else "(N, D)"
        raise ArrayLossValueError(
            f"a {target.ndim}-d `target` needs `input1` and `input2` of shape {shapes}; "
            f"got shapes {tuple(input1.shape)} and {tuple(input2.shape)}"
        )
    shape = broadcast_shape(input1=input1, input2=input2)
    broadcast_shape(samples=shape[:-1], target=target)
    result_dtype = xp.result_type(input1, input2)
    work_dtype = compute_dtype(xp, result_dtype)
    # Samples of weight 0 computed at zero vectors: their gradient is 0, not NaN.
    x1, x2 = zero_unweighted_samples(
        ctx,
        sample_weight,
        shape[:-1],
        xp.astype(input1, work_dtype, copy=False),
        xp.astype(input2, work_dtype, copy=False),
    )
    with ctx.quiet_floating_point():
        loss = _cosine_embedding_unreduced(
            xp,
            x1,
            x2,
            _labels(xp, target, work_dtype),
            margin,
        )
        return apply_reduction(
            ctx, loss, reduction, dtype=result_dtype, empty=empty, sample_weight=sample_weight
        )


# --- pairwise distance and the triplet losses --------------------------------------------


def _safe_root(xp: Any, s: Any, root: Callable[[Any], Any]) -> Any:
    # root(s), 0 at s = 0 with gradient 0 there (PyTorch masks its norm gradient where
    # the norm is 0; autodiff of sqrt(0) would give inf * 0 = NaN).
    is_zero = s == 0
    return xp.where(is_zero, 0.0, root(xp.where(is_zero, 1.0, s)))


def _vector_norm(xp: Any, d: Any, p: float) -> Any:
    """The p-norm over the last axis, as ``torch.norm(d, p, -1)``: its values, and the
    gradients of PyTorch's ``norm_backward`` (ties of the inf-norm share the gradient
    evenly; elements and norms of 0 get 0)."""
    if d.shape[-1] == 0:
        if p < 0 or math.isinf(p):
            raise ArrayLossValueError(
                f"the {p!r}-norm of an empty last dimension is undefined (PyTorch: "
                "linalg.vector_norm cannot compute it); got shape "
                f"{tuple(d.shape)}"
            )
        return xp.sum(d, axis=-1)  # 0 (PyTorch's norm of nothing, for p >= 0)
    if 0 in tuple(d.shape):
        # No vectors (an empty batch): an empty result, without reducing. Dask's max and
        # min of an empty array raise even over a non-empty axis (found by the fuzzer).
        return xp.sum(d, axis=-1)
    if p == 0:
        # A count, with gradient 0; `d * 0.0` (0 there) keeps the result on the autograd
        # graph, as PyTorch's, so that `loss.backward()` works (and gives 0).
        return xp.sum(xp.where(d != 0, 1.0, d * 0.0), axis=-1)
    if p == 2:
        return _safe_root(xp, xp.sum(d * d, axis=-1), xp.sqrt)
    a = magnitude(xp, d)  # |d| with PyTorch's norm gradient sign(d), 0 at d = 0
    if p == 1:
        return xp.sum(a, axis=-1)
    if p == math.inf:
        return xp.max(a, axis=-1)
    if p == -math.inf:
        return xp.min(a, axis=-1)
    # sum(|d|^p)^(1/p). An element of 0 contributes 0 (p > 0) or inf (p < 0, where the
    # norm is then 0), with gradient 0, as PyTorch's masked_fill.
    is_zero = a == 0
    powers = xp.where(is_zero, 0.0 if p > 0 else math.inf, xp.where(is_zero, 1.0, a) ** p)
    s = xp.sum(powers, axis=-1)
    if p < 0:
        return s ** (1.0 / p)
    return _safe_root(xp, s, lambda v: v ** (1.0 / p))


def _pairwise_distance(xp: Any, x1: Any, x2: Any, p: float, eps: float) -> Any:
    # aten/src/ATen/native/Distance.cpp: norm(x1 - x2 + eps, p, last dim); eps is added to
    # the difference, not to the norm.
    d = x1 - x2 + eps
    if d.ndim == 0:
        d = xp.reshape(d, (1,))  # PyTorch's norm over dim -1 of a 0-d tensor: |d|
    return _vector_norm(xp, d, p)


def _triplet_unreduced(
    xp: Any, dist_pos: Any, dist_neg: Any, dist_swap: Any | None, margin: float
) -> Any:
    # aten/src/ATen/native/Loss.cpp, triplet_margin_loss (and its Python twin in
    # torch/nn/functional.py): clamp_min(margin + d(a, p) - d(a, n), 0), where swap
    # replaces d(a, n) by min(d(a, n), d(p, n)).
    if dist_swap is not None:
        dist_neg = xp.minimum(dist_neg, dist_swap)
    return _clamp_min_zero(xp, margin + dist_pos - dist_neg)


def _is_plain_triplet(margin: object, swap: object) -> bool:
    # The triplet losses' margin and swap as their checks pass them (a positive number, a
    # bool): a condition of their plain-call lane.
    return is_python_number(margin) and margin > 0 and type(swap) is bool  # type: ignore[operator]


def _check_triplet_ndim(anchor: Any, positive: Any, negative: Any) -> None:
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise ArrayLossValueError(
            "`anchor`, `positive` and `negative` must have the same number of dimensions; "
            f"got {anchor.ndim}-d, {positive.ndim}-d and {negative.ndim}-d arrays"
        )


@jax_auto_jit
def triplet_margin_loss(
    anchor: Any,
    positive: Any,
    negative: Any,
    margin: float = 1.0,
    p: float = 2,
    eps: float = 1e-6,
    swap: bool = False,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    *,
    empty: str = "nan",
    sample_weight: Any | None = None,
) -> Any:
    r"""The triplet margin loss: the anchor should be nearer the positive than the
    negative by ``margin``.

    Mirrors :func:`torch.nn.functional.triplet_margin_loss` (PyTorch 2.13).

    .. math::

        \ell_n = \max\left(0,\ \mathrm{margin} + d(a_n, p_n) - d(a_n, n_n)\right),
        \qquad d(x, y) = \lVert x - y + \epsilon \rVert_p

    with the norm over the last dimension and :math:`\epsilon` added to every element of
    the difference, as PyTorch's ``pairwise_distance``. With ``swap``,
    :math:`d(a_n, n_n)` is replaced by :math:`\min(d(a_n, n_n), d(p_n, n_n))` (Balntas
    et al., 2016). Reduced over the samples by ``reduction``.

    Parameters
    ----------
    anchor, positive, negative : arrays of shape (N, D) or (D,), real floating or integer (promoted)
        Of one number of dimensions, broadcastable (PyTorch accepts any number of
        dimensions and takes the norm over the last one; so does arrayloss).
    margin : float, default 1.0
        Must be greater than 0.
    p : float, default 2
        The order of the norm: any real number, ``math.inf`` and ``-math.inf`` included.
    eps : float, default 1e-6
    swap : bool, default False
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
        Of ``anchor``'s library and device, the promoted dtype of the three: the
        broadcast shape without its last dimension for 'none', 0-d otherwise.

    Raises
    ------
    ValueError
        ``margin <= 0``; the three arrays differ in their number of dimensions or do not
        broadcast (``ArrayLossValueError``, also a ``RuntimeError`` as in PyTorch).
    TypeError
        ``swap`` is not a bool; an array is not floating.

    Examples
    --------
    Closed form: :math:`d(a, p) = 0` and :math:`d(a, n) = 5` with ``eps=0``, so the loss
    is :math:`\max(0, 6 - 5) = 1`.

    >>> import numpy as np
    >>> import arrayloss
    >>> a = np.zeros((1, 2))
    >>> n = np.array([[3.0, 4.0]])
    >>> float(arrayloss.triplet_margin_loss(a, a, n, margin=6.0, eps=0.0))
    1.0
    """
    if (
        at_defaults(size_average, reduce, empty, sample_weight)
        and _is_plain_triplet(margin, swap)
        and is_python_number(p)
        and p == 2
        and is_python_number(eps)
    ):
        kernel = plain_torch_embedding_kernel(
            "triplet_margin_loss", reduction, anchor, positive, negative
        )
        if kernel is not None:  # plain tensors: the checks below would all pass
            return kernel(
                anchor,
                positive,
                negative,
                float(margin),
                2.0,
                float(eps),
                swap,
                reduction=reduction,
            )
    empty = validate_empty(empty)
    ctx = namespace_of(
        anchor=anchor, positive=positive, negative=negative, sample_weight=sample_weight
    )
    # Under torch.autocast: half-precision tensors to float32, as PyTorch.
    anchor, positive, negative = ctx.autocast("triplet_margin_loss", anchor, positive, negative)
    xp = ctx.xp
    # An integer array beside a floating one is promoted, as in PyTorch.
    anchor, positive, negative = promote_integers(
        xp, anchor=anchor, positive=positive, negative=negative
    )
    reduction = legacy_reduction(size_average, reduce, reduction)
    margin = _check_positive_margin(margin)
    p = _check_number("p", p)
    eps = _check_number("eps", eps)
    if not isinstance(swap, bool):
        raise TypeError(f"`swap` must be a bool; got {type(swap).__name__}")
    check_floating(xp, "anchor", anchor)
    check_floating(xp, "positive", positive)
    check_floating(xp, "negative", negative)
    _check_triplet_ndim(anchor, positive, negative)
    shape = broadcast_shape(anchor=anchor, positive=positive, negative=negative)
    result_dtype = xp.result_type(anchor, positive, negative)
    work_dtype = compute_dtype(xp, result_dtype)
    a, pos, neg = (xp.astype(v, work_dtype, copy=False) for v in (anchor, positive, negative))
    # Samples of weight 0 computed at zero vectors: their gradient is 0, not NaN.
    a, pos, neg = zero_unweighted_samples(ctx, sample_weight, shape[:-1], a, pos, neg)
    with ctx.quiet_floating_point():
        dist_pos = _pairwise_distance(xp, a, pos, p, eps)
        dist_neg = _pairwise_distance(xp, a, neg, p, eps)
        dist_swap = _pairwise_distance(xp, pos, neg, p, eps) if swap else None
        loss = _triplet_unreduced(xp, dist_pos, dist_neg, dist_swap, margin)
        return apply_reduction(
            ctx, loss, reduction, dtype=result_dtype, empty=empty, sample_weight=sample_weight
        )


@jax_auto_jit
def triplet_margin_with_distance_loss(
    anchor: Any,
    positive: Any,
    negative: Any,
    *,
    distance_function: Callable[[Any, Any], Any] | None = None,
    margin: float = 1.0,
    swap: bool = False,
    reduction: str = "mean",
    empty: str = "nan",
    sample_weight: Any | None = None,
) -> Any:
    r"""The triplet margin loss with a distance of your choice.

    Mirrors :func:`torch.nn.functional.triplet_margin_with_distance_loss` (PyTorch 2.13).

    .. math::

        \ell_n = \max\left(0,\ \mathrm{margin} + d(a_n, p_n) - d(a_n, n_n)\right)

    where :math:`d` is ``distance_function`` (default: PyTorch's ``pairwise_distance``, the
    2-norm of :math:`x - y + 10^{-6}` over the last dimension). With ``swap``,
    :math:`d(a_n, n_n)` is replaced by :math:`\min(d(a_n, n_n), d(p_n, n_n))`.
    Reduced over the samples by ``reduction``.

    Parameters
    ----------
    anchor, positive, negative : arrays of shape (N, D) or (D,)
        Of one library and one number of dimensions. Real floating for the default
        distance; a ``distance_function`` receives them as they are.
    distance_function : callable, optional
        ``distance_function(x, y)`` gets two arrays of the caller's library (torch
        tensors for torch inputs, JAX arrays or tracers for JAX, ...) and returns one
        non-negative distance per sample, an array of that library.
    margin : float, default 1.0
        Must be greater than 0.
    swap : bool, default False
    reduction : {'none', 'mean', 'sum'}, default 'mean'
        No legacy ``size_average``/``reduce`` and no 'elementwise_mean', as in PyTorch.
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
        Of ``anchor``'s library and device; the distances' dtype (the promoted dtype of
        the three arrays for the default distance): the distances' shape for 'none',
        0-d otherwise.

    Raises
    ------
    ValueError
        ``reduction`` is unknown, ``margin <= 0``, or the arrays differ in their number
        of dimensions (``ArrayLossValueError``, also a ``RuntimeError`` as in PyTorch).

    Examples
    --------
    Closed form with the 1-norm: :math:`\max(0, 1 + 1 - 3) = 0` and
    :math:`\max(0, 1 + 2 - 1) = 2`, mean 1.

    >>> import numpy as np
    >>> import arrayloss
    >>> l1 = lambda x, y: np.sum(np.abs(x - y), axis=-1)
    >>> a = np.zeros((2, 2))
    >>> p = np.array([[1.0, 0.0], [1.0, 1.0]])
    >>> n = np.array([[2.0, 1.0], [0.0, 1.0]])
    >>> float(arrayloss.triplet_margin_with_distance_loss(a, p, n, distance_function=l1))
    1.0
    """
    if (
        distance_function is None
        and at_defaults(None, None, empty, sample_weight)  # it has no legacy arguments
        and _is_plain_triplet(margin, swap)
    ):
        kernel = plain_torch_embedding_kernel(
            "triplet_margin_loss", reduction, anchor, positive, negative
        )
        if kernel is not None:  # plain tensors: the checks below would all pass
            # F's pairwise_distance(p=2, eps=1e-6) and clamp_min: triplet_margin_loss's.
            return kernel(
                anchor, positive, negative, float(margin), 2.0, 1e-6, swap, reduction=reduction
            )
    empty = validate_empty(empty)
    ctx = namespace_of(
        anchor=anchor, positive=positive, negative=negative, sample_weight=sample_weight
    )
    xp = ctx.xp
    if not (isinstance(reduction, str) and reduction in REDUCTIONS):
        options = ", ".join(repr(r) for r in REDUCTIONS)
        raise ValueError(f"`reduction` must be one of {options}; got {reduction!r}")
    margin = _check_positive_margin(margin)
    if distance_function is not None and not callable(distance_function):
        raise TypeError(
            f"`distance_function` must be callable or None; got {type(distance_function).__name__}"
        )
    check_array("anchor", anchor)
    check_array("positive", positive)
    check_array("negative", negative)
    _check_triplet_ndim(anchor, positive, negative)
    with ctx.quiet_floating_point():
        if distance_function is None:
            # An integer array beside a floating one is promoted, as in PyTorch (a
            # distance_function gets the arrays as they are, as in PyTorch).
            anchor, positive, negative = promote_integers(
                xp, anchor=anchor, positive=positive, negative=negative
            )
            check_floating(xp, "anchor", anchor)
            check_floating(xp, "positive", positive)
            check_floating(xp, "negative", negative)
            shape = broadcast_shape(anchor=anchor, positive=positive, negative=negative)
            result_dtype = xp.result_type(anchor, positive, negative)
            work_dtype = compute_dtype(xp, result_dtype)
            a, pos, neg = (
                xp.astype(v, work_dtype, copy=False) for v in (anchor, positive, negative)
            )
            # Samples of weight 0 computed at zero vectors (a distance_function gets the
            # arrays as they are).
            a, pos, neg = zero_unweighted_samples(ctx, sample_weight, shape[:-1], a, pos, neg)
            dist_pos = _pairwise_distance(xp, a, pos, 2.0, 1e-6)
            dist_neg = _pairwise_distance(xp, a, neg, 2.0, 1e-6)
            dist_swap = _pairwise_distance(xp, pos, neg, 2.0, 1e-6) if swap else None
        else:
            dist_pos = distance_function(anchor, positive)
            dist_neg = distance_function(anchor, negative)
            dist_swap = distance_function(positive, negative) if swap else None
            # The distances must be floating arrays of the inputs' library.
            namespace_of(anchor=anchor, distance_pos=dist_pos, distance_neg=dist_neg)
            check_floating(xp, "distance_function(anchor, positive)", dist_pos)
            check_floating(xp, "distance_function(anchor, negative)", dist_neg)
            arrays = [d for d in (dist_pos, dist_neg, dist_swap) if d is not None]
            result_dtype = xp.result_type(*arrays)
            work_dtype = compute_dtype(xp, result_dtype)
            dist_pos, dist_neg = (
                xp.astype(dist_pos, work_dtype, copy=False),
                xp.astype(dist_neg, work_dtype, copy=False),
            )
            if dist_swap is not None:
                dist_swap = xp.astype(dist_swap, work_dtype, copy=False)
        loss = _triplet_unreduced(xp, dist_pos, dist_neg, dist_swap, margin)
        return apply_reduction(
            ctx, loss, reduction, dtype=result_dtype, empty=empty, sample_weight=sample_weight
        )
