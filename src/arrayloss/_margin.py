"""Soft-margin losses: soft_margin_loss and multilabel_soft_margin_loss.

Each public loss is a short front (namespace, legacy arguments, validation, reduction)
over a private kernel that computes the unreduced loss with ``xp`` only.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from ._dispatch import namespace_of
from ._numerics import compute_dtype, log_sigmoid
from ._reduction import apply_reduction, legacy_reduction
from ._validation import check_array, check_broadcastable, check_floating

__all__ = ["multilabel_soft_margin_loss", "soft_margin_loss"]


def _soft_margin_unreduced(xp: Any, x: Any, y: Any) -> Any:
    # log(1 + exp(-y x)) = -log_sigmoid(y x), finite for every finite y x. PyTorch's
    # kernel (log1p(exp(-y x))) overflows to inf once -y x passes ~88 in float32.
    return -log_sigmoid(xp, y * x)


def soft_margin_loss(
    input: Any,
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
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
    target : array broadcastable with ``input``, real floating
        Usually -1 or 1.
    size_average, reduce : bool, optional
        Deprecated (``DeprecationWarning``); override ``reduction`` as in PyTorch.
    reduction : {'none', 'mean', 'sum'}, default 'mean'

    Returns
    -------
    array
        Of ``input``'s library and device, the promoted dtype of ``input`` and
        ``target``: the broadcast shape for 'none', 0-d otherwise.

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
    ctx = namespace_of(input=input, target=target)
    xp = ctx.xp
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_floating(xp, "input", input)
    check_floating(xp, "target", target)
    check_broadcastable("target", target, "input", input)
    result_dtype = xp.result_type(input, target)
    work_dtype = compute_dtype(xp, result_dtype)
    with ctx.quiet_floating_point():
        loss = _soft_margin_unreduced(
            xp, xp.astype(input, work_dtype), xp.astype(target, work_dtype)
        )
        return apply_reduction(ctx, loss, reduction, dtype=result_dtype)


def _multilabel_soft_margin_unreduced(xp: Any, x: Any, y: Any, weight: Any) -> Any:
    # torch/nn/functional.py: -(y log_sigmoid(x) + (1 - y) log_sigmoid(-x)), weighted,
    # then the mean over the class (last) dimension.
    loss = -(y * log_sigmoid(xp, x) + (1.0 - y) * log_sigmoid(xp, -x))
    if weight is not None:
        loss = loss * weight
    return xp.sum(loss, axis=-1) / loss.shape[-1]


def multilabel_soft_margin_loss(
    input: Any,
    target: Any,
    weight: Any | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
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
    target : array broadcastable with ``input``, real floating
        Usually 0 or 1 per class.
    weight : array broadcastable with the loss, optional
        Usually of shape (C,): a weight per class.
    size_average, reduce : bool, optional
        Deprecated (``DeprecationWarning``); override ``reduction`` as in PyTorch.
    reduction : {'none', 'mean', 'sum'}, default 'mean'

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
    ctx = namespace_of(input=input, target=target, weight=weight)
    xp = ctx.xp
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_array("weight", weight, optional=True)
    check_floating(xp, "input", input)
    check_floating(xp, "target", target)
    if input.ndim == 0:
        raise ValueError("`input` must have a class (last) dimension; got a 0-d array")
    shape = check_broadcastable("target", target, "input", input)
    if weight is not None:
        check_floating(xp, "weight", weight)
        check_broadcastable("weight", weight, "input", SimpleNamespace(shape=shape))
    # PyTorch's composite promotes input, target and weight together.
    arrays = [a for a in (input, target, weight) if a is not None]
    result_dtype = xp.result_type(*arrays)
    work_dtype = compute_dtype(xp, result_dtype)

    def work(a: Any) -> Any:
        return None if a is None else xp.astype(a, work_dtype)

    with ctx.quiet_floating_point():
        loss = _multilabel_soft_margin_unreduced(xp, work(input), work(target), work(weight))
        return apply_reduction(ctx, loss, reduction, dtype=result_dtype)
