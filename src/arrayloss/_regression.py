"""Regression losses: l1_loss, mse_loss, huber_loss and smooth_l1_loss.

Each public loss is a short front (namespace, legacy arguments, validation, reduction)
over a private kernel that computes the unreduced loss with ``xp`` only.

The kernels are written for few full-size temporaries and for PyTorch's gradients at
the kinks under every autodiff library:

- ``|d|`` is ``_dispatch.magnitude``: under ``jax.grad`` the derivative of ``abs`` at 0
  is 1 (PyTorch's is ``sign(0) = 0``); on JAX it is ``maximum(d, -d)``, whose tie at 0
  splits to 0, elsewhere ``abs`` (torch's backward is ``sgn`` already). (The form
  ``where(d == 0, 0, abs(d))`` is right everywhere, but its comparison keeps XLA's CPU
  backend from fusing the loss into its reduction: 5x the time under ``jax.jit`` at
  N = 1e7.)
- Huber is ``q (a - q / 2)`` with ``a = |d|`` and ``q = min(a, delta)`` (a clip with an
  upper bound only): one clip instead of a ``where`` over two computed branches. Its
  derivative is ``q' (a - q) + q a'``: ``a - q = 0`` wherever the clip's derivative
  ``q'`` is ambiguous (``a = delta``, where libraries split ties differently), and at
  d = 0, where ``a'`` is ambiguous, ``q = 0``; so every library gives PyTorch's
  ``clip(d, -delta, delta)``. The values are the signed form's ``m (d - m / 2)`` (``m =
  clip(d, -delta, delta)``) to the bit: both factors change sign together. Not the
  signed form: XLA turns a clip with two bounds into a ``clamp``, which its CPU
  backend does not fuse into the reduction (huber_loss under ``jax.jit`` at N = 1e7:
  29.6 -> 4.3 ms; optax's ``huber_loss``: 4.3 ms).
- Smooth L1 is ``(q / beta) (a - q / 2)`` with ``q = min(|d|, beta)``: ``q / beta`` is
  exactly 1 on the linear branch, which therefore equals PyTorch's ``|d| - beta / 2``
  to the last bit and cannot overflow where PyTorch's result is finite. ``beta = 0`` is
  dispatched to L1 before any division, as PyTorch does.
"""

from __future__ import annotations

import numbers
from typing import Any

from ._dispatch import (
    ArrayContext,
    clip,
    jax_auto_jit,
    magnitude,
    namespace_of,
    native_kernel,
    plain_namespace,
    plain_torch_kernel,
)
from ._errors import ArrayLossValueError
from ._numerics import compute_dtype
from ._reduction import (
    apply_reduction,
    legacy_reduction,
    mean_of,
    reduce_plain_call,
    sample_weight_kept,
    validate_empty,
    validate_reduction,
    zero_where_unweighted,
)
from ._validation import (
    broadcast_shape,
    check_array,
    check_broadcastable,
    check_floating,
    is_python_number,
    promote_integers,
    warn_at_caller,
)

__all__ = ["huber_loss", "l1_loss", "mse_loss", "smooth_l1_loss"]


# --- the kernels (unreduced, xp only) ----------------------------------------------------


def _l1_unreduced(xp: Any, x: Any, y: Any) -> Any:
    # |d|, with the derivative 0 at d = 0 under jax.grad too (see above); NaN stays NaN.
    return magnitude(xp, x - y)


def _mse_unreduced(xp: Any, x: Any, y: Any) -> Any:
    d = x - y
    return d * d


def _huber_unreduced(xp: Any, x: Any, y: Any, delta: float) -> Any:
    # aten/src/ATen/native/cpu/BinaryOpsKernel.cpp, huber_kernel:
    #   |d| < delta ? 0.5 d^2 : delta (|d| - 0.5 delta)
    # equals q (a - 0.5 q) with a = |d|, q = min(a, delta) (see above), also for +-inf
    # and NaN (inf - inf = nan where PyTorch has it: d = +-inf with delta = inf).
    a = xp.abs(x - y)  # (its derivative at 0 is multiplied by q = 0)
    q = clip(xp, a, None, delta)
    return q * (a - 0.5 * q)


def _smooth_l1_unreduced(xp: Any, x: Any, y: Any, beta: float) -> Any:
    # aten/src/ATen/native/cpu/BinaryOpsKernel.cpp, smooth_l1_kernel (beta > 0):
    #   |d| < beta ? 0.5 d^2 / beta : |d| - 0.5 beta
    # equals (q / beta) (a - 0.5 q) with a = |d|, q = min(a, beta).
    a = xp.abs(x - y)
    q = clip(xp, a, None, beta)
    return (q / beta) * (a - 0.5 * q)


def _smooth_l1_or_l1_unreduced(xp: Any, x: Any, y: Any, beta: float) -> Any:
    # smooth_l1_loss's kernel for any beta >= 0: l1's at beta = 0, as PyTorch.
    return _smooth_l1_unreduced(xp, x, y, beta) if beta > 0 else _l1_unreduced(xp, x, y)


# --- shared front ------------------------------------------------------------------------

# PyTorch's warning for a target whose shape differs from the input's
# (torch/nn/functional.py), with the shapes written as tuples.
_SIZE_WARNING = (
    "Using a target size {target} that is different to the input size {input}. "
    "This will likely lead to incorrect results due to broadcasting. "
    "Please ensure they have the same size."
)


def _check_pair(ctx: ArrayContext, input: Any, target: Any) -> None:
    """Dtypes, broadcasting, and PyTorch's warning when the shapes differ."""
    xp = ctx.xp
    check_floating(xp, "input", input)
    check_floating(xp, "target", target)
    # ArrayLossValueError: PyTorch raises RuntimeError (from broadcast_tensors).
    check_broadcastable("target", target, "input", input)
    if tuple(target.shape) != tuple(input.shape):
        warn_at_caller(
            _SIZE_WARNING.format(target=tuple(target.shape), input=tuple(input.shape)),
            UserWarning,
        )


def _check_weight(ctx: ArrayContext, weight: Any, input: Any) -> None:
    check_array("weight", weight, optional=True)
    if weight is None:
        return
    check_floating(ctx.xp, "weight", weight)
    if tuple(weight.shape) != tuple(input.shape):
        # PyTorch: ValueError("Weights and input must have the same size.").
        raise ValueError(
            f"`weight` must have the shape of `input` {tuple(input.shape)}; "
            f"got {tuple(weight.shape)}"
        )


def _check_threshold(name: str, value: object, allow_zero: bool) -> float:
    """``delta``/``beta``: a real number, positive (or zero where ``allow_zero``)."""
    # A Python or NumPy number (bool included, as PyTorch); not an array, whose value
    # cannot be read on traced or lazy backends.
    if not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a real number; got {type(value).__name__}")
    threshold = float(value)
    if threshold > 0 or (allow_zero and threshold == 0):
        return threshold
    expected = "non-negative" if allow_zero else "positive"
    # PyTorch raises RuntimeError ("... does not support negative values for beta.").
    raise ArrayLossValueError(f"`{name}` must be {expected}; got {threshold!r}")


def _finish(
    ctx: ArrayContext,
    kernel: Any,
    input: Any,
    target: Any,
    weight: Any,
    reduction: str,
    mean_over_weight: bool,
    native: tuple[str, dict[str, float]] | None = None,
    sample_weight: Any = None,
    empty: str = "nan",
) -> Any:
    """Compute ``kernel(xp, x, y)`` in the working dtype, weight it and reduce.

    With a weight, 'mean' is ``sum(w l) / sum(w)`` for l1_loss and mse_loss and
    ``mean(w l)`` for huber_loss (``mean_over_weight``), as in PyTorch 2.13.

    ``native`` names the torch.nn.functional loss and its options, for the fast path of
    the dispatch layer (``native_kernel``): taken without a weight (PyTorch's weighted
    form is a Python composition too), for an input and target of one shape and dtype.

    ``sample_weight`` weighs the 'none' output (:func:`~arrayloss._reduction.apply_reduction`);
    with ``weight`` too and ``mean_over_weight``, 'mean' is ``sum(s w l) / sum(s w)``.
    """
    xp = ctx.xp
    if (
        native is not None
        and weight is None
        and sample_weight is None
        and empty == "nan"
        and input.dtype == target.dtype
        and tuple(input.shape) == tuple(target.shape)
        and (kernel_of := native_kernel(ctx, native[0], input.dtype)) is not None
    ):
        return kernel_of(input, target, reduction=reduction, **native[1])
    arrays = [a for a in (input, target, weight) if a is not None]
    result_dtype = xp.result_type(*arrays)
    work_dtype = compute_dtype(xp, result_dtype)

    def work(a: Any) -> Any:
        return a if a.dtype == work_dtype else xp.astype(a, work_dtype, copy=False)

    x, y = work(input), work(target)
    if sample_weight is not None:
        # Elements of weight 0 computed at x = y = 0: their gradient is 0, not NaN.
        shape = broadcast_shape(input=x, target=y)
        kept = sample_weight_kept(ctx, sample_weight, shape)
        x = zero_where_unweighted(ctx, xp.broadcast_to(x, shape), kept)
        y = zero_where_unweighted(ctx, xp.broadcast_to(y, shape), kept)
    with ctx.quiet_floating_point():
        loss = kernel(xp, x, y)
        if weight is None:
            return apply_reduction(
                ctx, loss, reduction, dtype=result_dtype, empty=empty, sample_weight=sample_weight
            )
        w = work(weight)
        loss = loss * w
        if sample_weight is not None:
            count = xp.broadcast_to(w, tuple(loss.shape)) if mean_over_weight else None
            return apply_reduction(
                ctx,
                loss,
                reduction,
                result_dtype,
                empty=empty,
                sample_weight=sample_weight,
                count=count,
            )
        if reduction == "mean" and mean_over_weight:
            result = mean_of(ctx, xp.sum(loss), xp.sum(w), empty)
            if result.dtype != result_dtype:
                result = xp.astype(result, result_dtype, copy=False)
            return ctx.as_array(result)
        return apply_reduction(ctx, loss, reduction, dtype=result_dtype, empty=empty)


# --- the losses ----------------------------------------------------------------------------


def _plain_call(
    loss: str, kernel: Any, input: Any, target: Any, reduction: str, **option: Any
) -> Any:
    """``loss`` at once for plain arrays whose every check would pass, or None: plain
    tensors by PyTorch's kernel (``_dispatch.plain_torch_kernel``), plain NumPy arrays
    by the composed ``kernel`` (``_dispatch.plain_namespace``). Asked only with the
    other arguments at their defaults, and with ``option`` (delta, beta) already
    valid."""
    native = plain_torch_kernel(loss, reduction, input, target)
    if native is not None:
        return native(input, target, reduction=reduction, **option)
    plain_xp = plain_namespace(reduction, input, target)
    if plain_xp is None:
        return None
    return reduce_plain_call(plain_xp, reduction, kernel, input, target, *option.values())


def _l1_or_mse(
    name: str,
    kernel: Any,
    input: Any,
    target: Any,
    weight: Any,
    size_average: bool | None,
    reduce: bool | None,
    reduction: str,
    sample_weight: Any = None,
    empty: str = "nan",
) -> Any:
    """The front of l1_loss and mse_loss, which differ only in their kernel."""
    # (empty is validated already, by the caller.)
    plain = size_average is None and reduce is None and weight is None and sample_weight is None
    if plain and empty == "nan":
        result = _plain_call(name, kernel, input, target, reduction)
        if result is not None:
            return result
    ctx = namespace_of(input=input, target=target, weight=weight, sample_weight=sample_weight)
    # Under torch.autocast: half-precision tensors to float32, as PyTorch (whose
    # loss with a `weight` is a Python composition that autocast leaves alone).
    if weight is None:
        input, target = ctx.autocast(name, input, target)
    # An integer array beside a floating one is promoted, as in PyTorch.
    input, target, weight = promote_integers(ctx.xp, input=input, target=target, weight=weight)
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_pair(ctx, input, target)
    _check_weight(ctx, weight, input)
    return _finish(
        ctx, kernel, input, target, weight, reduction, True, (name, {}), sample_weight, empty
    )


@jax_auto_jit
def l1_loss(
    input: Any,
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Any | None = None,
    *,
    empty: str = "nan",
    sample_weight: Any | None = None,
) -> Any:
    r"""The mean absolute error between ``input`` and ``target``, optionally weighted.

    Mirrors :func:`torch.nn.functional.l1_loss` (PyTorch 2.13).

    .. math::

        \ell_n = w_n \left| x_n - y_n \right|

    reduced by ``reduction``: 'none' gives :math:`\ell`, 'sum' :math:`\sum_n \ell_n`,
    'mean' :math:`\frac{1}{N} \sum_n \ell_n` without a weight and
    :math:`\sum_n \ell_n / \sum_n w_n` with one. The gradient at :math:`x_n = y_n` is 0,
    as PyTorch's, on every autodiff library.

    Parameters
    ----------
    input : array of shape (*), real floating or integer (promoted)
    target : array broadcastable with ``input``, real floating or integer (promoted)
        A shape other than ``input``'s warns (``UserWarning``), as in PyTorch, and the
        loss is computed over the broadcast shape.
    size_average, reduce : bool, optional
        Deprecated (``DeprecationWarning``); override ``reduction`` as in PyTorch.
    reduction : {'none', 'mean', 'sum'}, default 'mean'
    weight : array of the shape of ``input``, real floating or integer (promoted), optional
        A weight per element.
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
        Of ``input``'s library and device, the promoted dtype of the arrays: the
        broadcast shape for 'none', 0-d otherwise.

    Raises
    ------
    ValueError
        ``input`` and ``target`` do not broadcast (``ArrayLossValueError``, also a
        ``RuntimeError`` as in PyTorch); ``weight``'s shape is not ``input``'s;
        ``reduction`` is unknown.
    TypeError
        An argument is not a floating-point array; arrays of two libraries.

    Examples
    --------
    >>> import numpy as np
    >>> import arrayloss
    >>> x = np.array([1.0, -2.0, 0.5])
    >>> y = np.array([0.0, 0.0, 0.5])
    >>> float(arrayloss.l1_loss(x, y))  # (1 + 2 + 0) / 3
    1.0
    >>> float(arrayloss.l1_loss(x, y, weight=np.array([3.0, 1.0, 0.0])))  # (3 + 2) / 4
    1.25
    """
    empty = validate_empty(empty)
    return _l1_or_mse(
        "l1_loss",
        _l1_unreduced,
        input,
        target,
        weight,
        size_average,
        reduce,
        reduction,
        sample_weight,
        empty,
    )


@jax_auto_jit
def mse_loss(
    input: Any,
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Any | None = None,
    *,
    empty: str = "nan",
    sample_weight: Any | None = None,
) -> Any:
    r"""The mean squared error between ``input`` and ``target``, optionally weighted.

    Mirrors :func:`torch.nn.functional.mse_loss` (PyTorch 2.13).

    .. math::

        \ell_n = w_n \left( x_n - y_n \right)^2

    reduced by ``reduction``: 'none' gives :math:`\ell`, 'sum' :math:`\sum_n \ell_n`,
    'mean' :math:`\frac{1}{N} \sum_n \ell_n` without a weight and
    :math:`\sum_n \ell_n / \sum_n w_n` with one.

    Parameters
    ----------
    input : array of shape (*), real floating or integer (promoted)
    target : array broadcastable with ``input``, real floating or integer (promoted)
        A shape other than ``input``'s warns (``UserWarning``), as in PyTorch, and the
        loss is computed over the broadcast shape.
    size_average, reduce : bool, optional
        Deprecated (``DeprecationWarning``); override ``reduction`` as in PyTorch.
    reduction : {'none', 'mean', 'sum'}, default 'mean'
    weight : array of the shape of ``input``, real floating or integer (promoted), optional
        A weight per element.
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
        Of ``input``'s library and device, the promoted dtype of the arrays: the
        broadcast shape for 'none', 0-d otherwise.

    Raises
    ------
    ValueError
        ``input`` and ``target`` do not broadcast (``ArrayLossValueError``, also a
        ``RuntimeError`` as in PyTorch); ``weight``'s shape is not ``input``'s;
        ``reduction`` is unknown.
    TypeError
        An argument is not a floating-point array; arrays of two libraries.

    Examples
    --------
    >>> import numpy as np
    >>> import arrayloss
    >>> x = np.array([1.0, -2.0, 0.5])
    >>> y = np.array([0.0, 0.0, 0.5])
    >>> float(arrayloss.mse_loss(x, y, reduction="sum"))  # 1 + 4 + 0
    5.0
    >>> float(arrayloss.mse_loss(x, y, weight=np.array([3.0, 1.0, 0.0])))  # (3 + 4) / 4
    1.75
    """
    empty = validate_empty(empty)
    return _l1_or_mse(
        "mse_loss",
        _mse_unreduced,
        input,
        target,
        weight,
        size_average,
        reduce,
        reduction,
        sample_weight,
        empty,
    )


@jax_auto_jit
def huber_loss(
    input: Any,
    target: Any,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Any | None = None,
    *,
    empty: str = "nan",
    sample_weight: Any | None = None,
) -> Any:
    r"""The Huber loss: squared below ``delta``, ``delta``-scaled absolute above.

    Mirrors :func:`torch.nn.functional.huber_loss` (PyTorch 2.13).

    .. math::

        \ell_n = w_n \begin{cases}
            \frac{1}{2} (x_n - y_n)^2 & \text{if } |x_n - y_n| < \delta \\
            \delta \left( |x_n - y_n| - \frac{1}{2} \delta \right) & \text{otherwise}
        \end{cases}

    reduced by ``reduction``: 'none' gives :math:`\ell`, 'sum' :math:`\sum_n \ell_n`,
    'mean' :math:`\frac{1}{N} \sum_n \ell_n`, with or without a weight (PyTorch 2.13
    divides by the number of elements here, by the sum of the weights in l1_loss and
    mse_loss). With :math:`\delta = 1` it equals :func:`smooth_l1_loss`. The gradient,
    :math:`\mathrm{clip}(x_n - y_n, -\delta, \delta)`, is PyTorch's at the kinks too.

    Parameters
    ----------
    input : array of shape (*), real floating
    target : array broadcastable with ``input``, real floating or integer (promoted)
        A shape other than ``input``'s warns (``UserWarning``), as in PyTorch, and the
        loss is computed over the broadcast shape.
    reduction : {'none', 'mean', 'sum'}, default 'mean'
    delta : float, default 1.0
        Where the loss turns from squared to linear; must be positive.
    weight : array of the shape of ``input``, real floating or integer (promoted), optional
        A weight per element.
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
        Of ``input``'s library and device, the promoted dtype of the arrays: the
        broadcast shape for 'none', 0-d otherwise.

    Raises
    ------
    ValueError
        ``delta`` is not positive, or ``input`` and ``target`` do not broadcast
        (``ArrayLossValueError``, also a ``RuntimeError`` as in PyTorch); ``weight``'s
        shape is not ``input``'s; ``reduction`` is unknown.
    TypeError
        An argument is not a floating-point array; ``delta`` is not a number.

    Examples
    --------
    >>> import numpy as np
    >>> import arrayloss
    >>> x = np.array([0.5, 3.0, -4.0])
    >>> loss = arrayloss.huber_loss(x, np.zeros(3), delta=2.0, reduction="none")
    >>> loss.tolist()  # 0.5 * 0.5**2, 2 * (3 - 1), 2 * (4 - 1)
    [0.125, 4.0, 6.0]
    """
    empty = validate_empty(empty)
    if (
        weight is None
        and sample_weight is None
        and empty == "nan"
        and is_python_number(delta)
        and delta > 0
    ):
        result = _plain_call(
            "huber_loss", _huber_unreduced, input, target, reduction, delta=float(delta)
        )
        if result is not None:
            return result
    ctx = namespace_of(input=input, target=target, weight=weight, sample_weight=sample_weight)
    # Under torch.autocast: half-precision tensors to float32, as PyTorch.
    input, target, weight = ctx.autocast("huber_loss", input, target, weight)
    # An integer target or weight beside a floating input is promoted, as in PyTorch
    # (which refuses an integer input: "result type Float can't be cast to ... Long").
    target, weight = promote_integers(ctx.xp, (input,), target=target, weight=weight)
    reduction = validate_reduction(reduction)
    threshold = _check_threshold("delta", delta, allow_zero=False)
    _check_pair(ctx, input, target)
    _check_weight(ctx, weight, input)

    def kernel(xp: Any, x: Any, y: Any) -> Any:
        return _huber_unreduced(xp, x, y, threshold)

    native = ("huber_loss", {"delta": threshold})
    return _finish(
        ctx, kernel, input, target, weight, reduction, False, native, sample_weight, empty
    )


@jax_auto_jit
def smooth_l1_loss(
    input: Any,
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    beta: float = 1.0,
    *,
    empty: str = "nan",
    sample_weight: Any | None = None,
) -> Any:
    r"""The smooth L1 loss: squared (divided by ``beta``) below ``beta``, absolute above.

    Mirrors :func:`torch.nn.functional.smooth_l1_loss` (PyTorch 2.13).

    .. math::

        \ell_n = \begin{cases}
            \frac{1}{2} (x_n - y_n)^2 / \beta & \text{if } |x_n - y_n| < \beta \\
            |x_n - y_n| - \frac{1}{2} \beta & \text{otherwise}
        \end{cases}

    reduced by ``reduction`` ('none', 'mean' over all elements, 'sum'). With
    :math:`\beta = 0` it is :func:`l1_loss` (computed as such, without dividing by 0),
    as in PyTorch. The gradient, :math:`\mathrm{clip}(x_n - y_n, -\beta, \beta) / \beta`
    (:math:`\mathrm{sign}(x_n - y_n)` for :math:`\beta = 0`), is PyTorch's at the kinks
    too.

    Parameters
    ----------
    input : array of shape (*), real floating or integer (promoted)
    target : array broadcastable with ``input``, real floating or integer (promoted)
        A shape other than ``input``'s warns (``UserWarning``), as in PyTorch, and the
        loss is computed over the broadcast shape.
    size_average, reduce : bool, optional
        Deprecated (``DeprecationWarning``); override ``reduction`` as in PyTorch.
    reduction : {'none', 'mean', 'sum'}, default 'mean'
    beta : float, default 1.0
        Where the loss turns from squared to linear; must be non-negative.
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
        ``target``: the broadcast shape for 'none', 0-d otherwise.

    Raises
    ------
    ValueError
        ``beta`` is negative or NaN, or ``input`` and ``target`` do not broadcast
        (``ArrayLossValueError``, also a ``RuntimeError`` as in PyTorch); ``reduction``
        is unknown.
    TypeError
        An argument is not a floating-point array; ``beta`` is not a number.

    Examples
    --------
    >>> import numpy as np
    >>> import arrayloss
    >>> x = np.array([0.5, 3.0, -4.0])
    >>> loss = arrayloss.smooth_l1_loss(x, np.zeros(3), beta=2.0, reduction="none")
    >>> loss.tolist()  # 0.5 * 0.5**2 / 2, 3 - 1, 4 - 1
    [0.0625, 2.0, 3.0]
    """
    empty = validate_empty(empty)
    if (
        size_average is None
        and reduce is None
        and sample_weight is None
        and empty == "nan"
        and is_python_number(beta)
        and beta >= 0
    ):
        result = _plain_call(
            "smooth_l1_loss", _smooth_l1_or_l1_unreduced, input, target, reduction, beta=float(beta)
        )
        if result is not None:
            return result
    ctx = namespace_of(input=input, target=target, sample_weight=sample_weight)
    # Under torch.autocast: half-precision tensors to float32, as PyTorch.
    input, target = ctx.autocast("smooth_l1_loss", input, target)
    # An integer array beside a floating one is promoted, as in PyTorch.
    input, target = promote_integers(ctx.xp, input=input, target=target)
    reduction = legacy_reduction(size_average, reduce, reduction)
    threshold = _check_threshold("beta", beta, allow_zero=True)
    _check_pair(ctx, input, target)
    if threshold == 0:
        # PyTorch computes l1_loss for beta = 0; so does arrayloss (no division by 0).
        native: tuple[str, dict[str, float]] = ("l1_loss", {})
        return _finish(
            ctx, _l1_unreduced, input, target, None, reduction, True, native, sample_weight, empty
        )

    def kernel(xp: Any, x: Any, y: Any) -> Any:
        return _smooth_l1_unreduced(xp, x, y, threshold)

    native = ("smooth_l1_loss", {"beta": threshold})
    return _finish(ctx, kernel, input, target, None, reduction, True, native, sample_weight, empty)
