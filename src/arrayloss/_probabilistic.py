"""Negative log-likelihoods of probability distributions: poisson_nll_loss and
gaussian_nll_loss.

Each public loss is a short front (namespace, legacy arguments, validation, reduction)
over a private kernel that computes the unreduced loss with ``xp`` only.
"""

from __future__ import annotations

import math
from typing import Any

from ._dispatch import (
    ArrayContext,
    array_size,
    defer_value_check,
    jax_auto_jit,
    namespace_of,
    native_elementwise,
    plain_namespace,
    stop_gradient,
)
from ._errors import ArrayLossTypeError
from ._numerics import compute_dtype
from ._reduction import (
    REDUCTIONS,
    apply_reduction,
    at_defaults,
    legacy_reduction,
    reduce_plain_call,
    validate_empty,
    zero_unweighted_samples,
)
from ._validation import (
    broadcast_shape,
    check_array,
    check_floating,
    dtype_name,
    is_python_number,
    promote_integers,
)

__all__ = ["gaussian_nll_loss", "poisson_nll_loss"]

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


# --- options -------------------------------------------------------------------------------


def probabilistic_reduction(
    size_average: bool | None, reduce: bool | None, reduction: object
) -> str:
    """``reduction`` after the legacy arguments, as these two losses accept it.

    Unlike most of PyTorch's losses, poisson_nll_loss and gaussian_nll_loss compare the
    string themselves and reject the old alias 'elementwise_mean' (``ValueError``);
    arrayloss does the same (elsewhere it is accepted with a ``DeprecationWarning``).
    """
    if size_average is None and reduce is None and reduction == "elementwise_mean":
        options = ", ".join(repr(r) for r in REDUCTIONS)
        raise ValueError(f"`reduction` must be one of {options}; got {reduction!r}")
    return legacy_reduction(size_average, reduce, reduction)


def _check_flag(name: str, value: object) -> bool:
    # PyTorch's kernels take these as C++ bools: anything else is a TypeError there.
    if not isinstance(value, bool):
        raise TypeError(f"`{name}` must be a bool; got {type(value).__name__}")
    return value


def _check_eps(eps: object) -> float:
    if isinstance(eps, bool) or not isinstance(eps, (int, float)):
        raise TypeError(f"`eps` must be a float; got {type(eps).__name__}")
    return float(eps)


# --- poisson_nll_loss ----------------------------------------------------------------------


def _stirling(xp: Any, y: Any) -> Any:
    # aten/src/ATen/native/Loss.cpp: (y log y - y + 0.5 log(2 pi y)).masked_fill(y <= 1, 0).
    # The masked branch is computed at y = 1 instead (log 1 = 0): at y = 0 the term is
    # 0 * log 0 = nan, which masked_fill hides in the value but not in the gradient
    # (PyTorch's gradient with respect to such a target is nan; here it is 0). A NaN
    # target is not <= 1, so it gives NaN, as in PyTorch.
    small = y <= 1
    safe = xp.where(small, 1.0, y)
    term = safe * xp.log(safe) - safe + 0.5 * xp.log((2.0 * math.pi) * safe)
    return xp.where(small, 0.0, term)


def _poisson_nll_unreduced(xp: Any, x: Any, y: Any, log_input: bool, full: bool, eps: float) -> Any:
    # aten/src/ATen/native/Loss.cpp, poisson_nll_loss.
    if log_input:
        native = native_elementwise(xp, x.dtype, "poisson_log_terms", x, y)
        # The same terms, one allocation (the fast path says why).
        loss = native(x, y) if native is not None else xp.exp(x) - y * x
    else:
        loss = x - y * xp.log(x + eps)
    if full:
        loss = loss + _stirling(xp, y)
    return loss


@jax_auto_jit
def poisson_nll_loss(
    input: Any,
    target: Any,
    log_input: bool = True,
    full: bool = False,
    size_average: bool | None = None,
    eps: float = 1e-8,
    reduce: bool | None = None,
    reduction: str = "mean",
    *,
    empty: str = "nan",
    sample_weight: Any | None = None,
) -> Any:
    r"""The negative log-likelihood of ``target`` under a Poisson distribution.

    Mirrors :func:`torch.nn.functional.poisson_nll_loss` (PyTorch 2.13).

    .. math::

        \ell_n = e^{x_n} - y_n x_n
        \quad\text{or, with } \texttt{log\_input=False},\quad
        \ell_n = x_n - y_n \log(x_n + \varepsilon)

    where :math:`x` is the log of the rate (the rate itself with ``log_input=False``)
    and :math:`y` the observed count. With ``full=True`` the Stirling approximation of
    :math:`\log(y_n!)`,

    .. math::

        y_n \log y_n - y_n + \tfrac{1}{2}\log(2 \pi y_n),

    is added where :math:`y_n > 1` (0 elsewhere, as PyTorch). Reduced by ``reduction``
    ('none', 'mean' over all elements, 'sum').

    Parameters
    ----------
    input : array of shape (*), real floating or integer (promoted)
        The log of the rate (``log_input=True``) or the rate.
    target : array broadcastable with ``input``, real floating or integer
        Counts; an integer ``target`` is converted to ``input``'s dtype (PyTorch's
        promotion).
    log_input : bool, default True
    full : bool, default False
        Add the Stirling term.
    size_average, reduce : bool, optional
        Deprecated (``DeprecationWarning``); override ``reduction`` as in PyTorch.
    eps : float, default 1e-8
        Added to the rate inside the log when ``log_input=False``.
    reduction : {'none', 'mean', 'sum'}, default 'mean'
        ('elementwise_mean' is rejected, as PyTorch rejects it for this loss.)
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
        Of ``input``'s library and device, the promoted dtype of ``input`` and a
        floating ``target`` (``input``'s for an integer ``target``): the broadcast shape
        for 'none', 0-d otherwise.

    Examples
    --------
    Closed form: at log-rate 0 (rate 1) the loss is :math:`1 - 0 \cdot y = 1`.

    >>> import numpy as np
    >>> import arrayloss
    >>> float(arrayloss.poisson_nll_loss(np.zeros(3), np.array([0.0, 1.0, 3.0])))
    1.0
    >>> loss = arrayloss.poisson_nll_loss(np.array([2.0]), np.array([3.0]), log_input=False)
    >>> bool(np.isclose(loss, 2.0 - 3.0 * np.log(2.0 + 1e-8)))
    True
    """
    if (
        at_defaults(size_average, reduce, empty, sample_weight)
        and type(log_input) is bool
        and type(full) is bool
        and is_python_number(eps)
    ):
        plain_xp = plain_namespace(reduction, input, target)
        if plain_xp is not None:  # plain arrays: the checks below would all pass
            return reduce_plain_call(
                plain_xp,
                reduction,
                _poisson_nll_unreduced,
                input,
                target,
                log_input,
                full,
                float(eps),
            )
    empty = validate_empty(empty)
    ctx = namespace_of(input=input, target=target, sample_weight=sample_weight)
    # Under torch.autocast: half-precision tensors to float32, as PyTorch.
    input, target = ctx.autocast("poisson_nll_loss", input, target)
    xp = ctx.xp
    # An integer array beside a floating one is promoted, as in PyTorch.
    input, target = promote_integers(xp, input=input, target=target)
    reduction = probabilistic_reduction(size_average, reduce, reduction)
    log_input = _check_flag("log_input", log_input)
    full = _check_flag("full", full)
    eps = _check_eps(eps)
    check_floating(xp, "input", input)
    check_array("target", target)
    if xp.isdtype(target.dtype, "real floating"):
        result_dtype = xp.result_type(input, target)
    elif xp.isdtype(target.dtype, "integral"):
        result_dtype = input.dtype  # PyTorch: a float tensor wins over an integer one
    else:
        raise ArrayLossTypeError(
            "`target` must have a real floating-point or integer dtype; "
            f"got {dtype_name(target.dtype)}"
        )
    shape = broadcast_shape(input=input, target=target)
    work_dtype = compute_dtype(xp, result_dtype)
    # Elements of weight 0 computed at 0 (those of an array of the loss's shape).
    x, y = zero_unweighted_samples(
        ctx,
        sample_weight,
        shape,
        xp.astype(input, work_dtype, copy=False),
        xp.astype(target, work_dtype, copy=False),
    )
    with ctx.quiet_floating_point():
        loss = _poisson_nll_unreduced(
            xp,
            x,
            y,
            log_input,
            full,
            eps,
        )
        return apply_reduction(
            ctx, loss, reduction, dtype=result_dtype, empty=empty, sample_weight=sample_weight
        )


# --- gaussian_nll_loss ---------------------------------------------------------------------

_NEGATIVE_VAR = "var has negative entry/entries: every element of `var` must be >= 0"


def _check_var_nonnegative(ctx: ArrayContext, var: Any) -> None:
    """On eager arrays, no element of ``var`` is negative (NaN passes, as in PyTorch,
    whose check is ``torch.any(var < 0)``); PyTorch raises ``ValueError``."""
    if array_size(var) == 0:
        return
    if not ctx.eager:
        defer_value_check(ctx, lambda: var < 0)
        return
    _raise_if_negative(ctx.xp, var)


def _raise_if_negative(xp: Any, var: Any) -> None:
    # The check of an eager ``var``: PyTorch's ``torch.any(var < 0)``, read back.
    negative = var < 0
    if bool(xp.any(negative)):
        smallest = float(xp.min(xp.where(negative, var, xp.zeros_like(var))))
        raise ValueError(f"{_NEGATIVE_VAR}; got {smallest!r}")


def _var_for_input(xp: Any, var: Any, input: Any) -> Any:
    """``var`` shaped to broadcast against ``input``, by PyTorch's rules
    (torch/nn/functional.py, gaussian_nll_loss):

    - the shape of ``input``: one variance per element (heteroscedastic);
    - ``input``'s shape without its last dimension: a dimension of 1 is appended;
    - ``input``'s number of dimensions, differing only where ``var`` has 1 in one
      dimension (PyTorch's test: the sizes of ``var`` where the shapes differ sum to 1).

    Anything else is ``ValueError("var is of incorrect size")`` in PyTorch.
    """
    v_shape, x_shape = tuple(var.shape), tuple(input.shape)
    if v_shape == x_shape:
        return var
    if v_shape == x_shape[:-1]:
        return xp.expand_dims(var, axis=-1)
    if (
        len(v_shape) == len(x_shape)
        and sum(v for x, v in zip(x_shape, v_shape, strict=True) if x != v) == 1
    ):
        return var
    raise ValueError(
        f"var is of incorrect size: `var` must have the shape of `input` {x_shape}, "
        f"that shape without its last dimension {x_shape[:-1]}, or that shape with one "
        f"dimension of 1; got {v_shape}"
    )


def _clamp_variance(xp: Any, var: Any, eps: float) -> Any:
    """``max(var, eps)`` whose derivative with respect to ``var`` is 1 everywhere.

    PyTorch clamps a clone of ``var`` in place under ``torch.no_grad()``: autograd sees
    the identity, and the derivatives are those of the formula at the clamped value
    (below eps too). Here: ``eps + (var - stop_gradient(var))`` below eps (value eps
    exactly, derivative 1), ``var`` elsewhere (NaN stays NaN, inf stays inf).
    """
    below = var < eps
    return xp.where(below, eps + (var - stop_gradient(xp, var)), var)


def _gaussian_nll_unreduced(xp: Any, x: Any, y: Any, var: Any, full: bool) -> Any:
    # torch/nn/functional.py: 0.5 * (log(var) + (input - target)**2 / var), var clamped.
    diff = x - y
    loss = 0.5 * (xp.log(var) + diff * diff / var)
    if full:
        loss = loss + _HALF_LOG_2PI
    return loss


def _gaussian_nll_terms(xp: Any, x: Any, y: Any, var: Any, eps: float, full: bool) -> Any:
    # var clamped, then the terms: the full path's kernel and a plain call's
    # (_dispatch.plain_namespace). On torch constants of one shape, from 65,536 elements
    # on, the same steps in place (the fast path says why).
    if x.shape == y.shape == var.shape:
        native = native_elementwise(xp, x.dtype, "gaussian_nll_terms", x, y, var)
        if native is not None:
            return native(x, y, var, eps, _HALF_LOG_2PI if full else None)
    return _gaussian_nll_unreduced(xp, x, y, _clamp_variance(xp, var, eps), full)


def _scalar_var(var: object) -> float | None:
    """A Python number ``var`` as a float (None for an array); rejects bool and
    negative numbers (``ValueError`` as PyTorch, on every backend: no array is read)."""
    if isinstance(var, bool):
        raise TypeError("`var` must be an array or a float; got bool")
    if not isinstance(var, (int, float)):  # np.float64 is a float, as in PyTorch
        return None
    value = float(var)
    if value < 0:
        raise ValueError(f"{_NEGATIVE_VAR}; got {value!r}")
    return value


@jax_auto_jit
def gaussian_nll_loss(
    input: Any,
    target: Any,
    var: Any,
    full: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
    *,
    empty: str = "nan",
    sample_weight: Any | None = None,
) -> Any:
    r"""The negative log-likelihood of ``target`` under Gaussians of mean ``input``
    and variance ``var``.

    Mirrors :func:`torch.nn.functional.gaussian_nll_loss` (PyTorch 2.13).

    .. math::

        \ell_n = \frac{1}{2}\left(\log \max(\sigma^2_n, \varepsilon)
                 + \frac{(x_n - y_n)^2}{\max(\sigma^2_n, \varepsilon)}\right)
                 \; \left[+ \tfrac{1}{2}\log(2\pi) \text{ with } \texttt{full=True}\right]

    The clamp at :math:`\varepsilon` is invisible to autodiff, as in PyTorch: the
    gradient with respect to ``var`` is the formula's derivative at the clamped value,
    also where :math:`\sigma^2_n < \varepsilon`. Reduced by ``reduction`` ('none',
    'mean' over all elements, 'sum').

    Parameters
    ----------
    input : array of shape (*), real floating or integer (promoted)
        The means.
    target : array broadcastable with ``input``, real floating or integer (promoted)
    var : array or float
        The variances, all >= 0: an array of ``input``'s shape (one per element), of
        that shape without its last dimension or with one dimension of 1 (shared), or a
        Python float for all. PyTorch 2.13 raises ``TypeError`` for a Python int;
        arrayloss takes it as the float.
    full : bool, default False
        Add the constant :math:`\tfrac{1}{2}\log(2\pi)`.
    eps : float, default 1e-6
        The smallest variance used.
    reduction : {'none', 'mean', 'sum'}, default 'mean'
        ('elementwise_mean' is rejected, as PyTorch rejects it for this loss.)
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
        broadcast shape of ``input``, ``target`` and ``var`` for 'none', 0-d otherwise.

    Raises
    ------
    ValueError
        ``var`` has a negative element (checked on eager arrays only; a Python float
        always) or a shape other than those above.

    Examples
    --------
    Closed form: with unit variance the loss is half the squared error.

    >>> import numpy as np
    >>> import arrayloss
    >>> x, y = np.array([0.0, 1.0]), np.array([2.0, 1.0])
    >>> float(arrayloss.gaussian_nll_loss(x, y, np.ones(2), reduction="sum"))
    2.0
    >>> loss = arrayloss.gaussian_nll_loss(x, y, 4.0, full=True, reduction="none")
    >>> bool(np.allclose(loss, 0.5 * (np.log(4.0) + (x - y) ** 2 / 4.0 + np.log(2 * np.pi))))
    True
    """
    if (
        at_defaults(None, None, empty, sample_weight)
        and type(full) is bool
        and is_python_number(eps)
    ):
        plain_xp = plain_namespace(reduction, input, target, var)
        if plain_xp is not None:  # plain arrays: the checks below (but var's) would pass
            _raise_if_negative(plain_xp, var)
            return reduce_plain_call(
                plain_xp, reduction, _gaussian_nll_terms, input, target, var, float(eps), full
            )
    empty = validate_empty(empty)
    scalar = _scalar_var(var)
    ctx = namespace_of(
        input=input,
        target=target,
        var=None if scalar is not None else var,
        sample_weight=sample_weight,
    )
    xp = ctx.xp
    # An integer input or target beside a floating one (or a floating `var`) is
    # promoted, as in PyTorch; an integer `var` is refused there and here.
    input, target = promote_integers(
        xp, (var,) if scalar is None else (), input=input, target=target
    )
    full = _check_flag("full", full)
    eps = _check_eps(eps)
    check_floating(xp, "input", input)
    check_floating(xp, "target", target)
    if scalar is None:
        check_floating(xp, "var", var)
        _check_var_nonnegative(ctx, var)
        var = _var_for_input(xp, var, input)
        broadcast_shape(input=input, target=target, var=var)
        result_dtype = xp.result_type(input, target, var)
    else:
        broadcast_shape(input=input, target=target)
        result_dtype = xp.result_type(input, target)
    reduction = probabilistic_reduction(None, None, reduction)
    work_dtype = compute_dtype(xp, result_dtype)
    x, y = xp.astype(input, work_dtype, copy=False), xp.astype(target, work_dtype, copy=False)
    # Elements of weight 0 computed at x = y = 0 (where x and y have the loss's shape).
    shape = tuple(xp.broadcast_arrays(x, y)[0].shape)
    x, y = zero_unweighted_samples(ctx, sample_weight, shape, x, y)
    with ctx.quiet_floating_point():
        if scalar is None:
            v = xp.astype(var, work_dtype, copy=False)
            loss = _gaussian_nll_terms(xp, x, y, v, eps, full)
        else:
            loss = _gaussian_nll_scalar_var(x, y, max(scalar, eps), full)
        return apply_reduction(
            ctx, loss, reduction, dtype=result_dtype, empty=empty, sample_weight=sample_weight
        )


def _gaussian_nll_scalar_var(x: Any, y: Any, var: float, full: bool) -> Any:
    # The same formula with a Python float variance (clamped already; no gradient).
    # PyTorch uses var * ones_like(input): the result has the shape of x - y.
    # log(0) = -inf (var = 0 only with eps <= 0); math.log would raise there.
    log_var = math.log(var) if var != 0 else -math.inf
    diff = x - y
    loss = 0.5 * (log_var + diff * diff / var)
    if full:
        loss = loss + _HALF_LOG_2PI
    return loss
