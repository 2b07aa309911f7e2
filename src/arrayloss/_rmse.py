"""The root mean squared error: MindSpore's ``nn.RMSELoss`` (Keras 3 has it as a metric,
``keras.metrics.RootMeanSquaredError``; PyTorch, optax and Keras's losses have none).

The root is of the *reduced* squared error, so no elementwise loss reduces to it: rmse
takes ``reduction`` 'mean' (MindSpore's and Keras's value) or 'sum' (the root of the sum
of squares, the Euclidean norm of the error), not 'none'.
"""

from __future__ import annotations

from typing import Any

from ._dispatch import jax_auto_jit, namespace_of
from ._numerics import compute_dtype
from ._reduction import apply_reduction, validate_empty, validate_reduction
from ._regression import _check_pair
from ._validation import check_array, promote_integers

__all__ = ["rmse"]

#: The reductions of rmse: the root of the mean or of the sum of the squared errors.
RMSE_REDUCTIONS = ("mean", "sum")


def validate_rmse_reduction(reduction: object) -> str:
    """'mean' or 'sum'; 'none' is refused with the reason (and what to use instead)."""
    if reduction == "none":
        raise ValueError(
            "`reduction` must be one of 'mean', 'sum'; got 'none': rmse is the root of "
            "the reduced squared error, and no elementwise loss reduces to it (the "
            "elementwise errors: l1_loss(input, target, reduction='none'))"
        )
    return validate_reduction(reduction, RMSE_REDUCTIONS)


@jax_auto_jit
def rmse(
    input: Any,
    target: Any,
    reduction: str = "mean",
    *,
    empty: str = "nan",
    sample_weight: Any | None = None,
) -> Any:
    r"""The root mean squared error.

    Mirrors :class:`mindspore.nn.RMSELoss` and the value of
    :class:`keras.metrics.RootMeanSquaredError` (Keras 3) on one batch, which are
    ``sqrt(mse_loss(input, target))``: with :math:`n` elements,

    .. math::

        \ell = \sqrt{\frac{1}{n} \sum_i (x_i - y_i)^2} \quad \text{('mean')},
        \qquad
        \ell = \sqrt{\sum_i (x_i - y_i)^2} \quad \text{('sum')}.

    ``reduction`` chooses what the root is taken of: 'mean' (the default) is the RMSE
    of MindSpore and Keras; 'sum' is the root of the sum of squares, the Euclidean norm
    :math:`\lVert x - y \rVert_2` of the error. There is no 'none': the root of each
    squared error would be :math:`|x - y|` (:func:`arrayloss.l1_loss`), whose mean is
    not the RMSE, unlike every other loss's 'none' (MindSpore's ``RMSELoss`` has no
    ``reduction`` at all).

    As MindSpore's (and PyTorch's ``mse_loss``), ``target`` broadcasts with ``input``;
    a ``target`` of another shape warns as :func:`arrayloss.mse_loss` does.

    Differences, all intended: where the error is exactly 0 everywhere, the gradient
    is 0 (MindSpore's and Keras's ``sqrt`` of 0 give :math:`0 \cdot \infty`, NaN);
    empty arrays give NaN for 'mean' (the mean of no element, as
    ``torch.sqrt(F.mse_loss(...))`` and MindSpore; Keras's metric gives 0) and 0 for
    'sum'; half-precision inputs are reduced in float32.

    Parameters
    ----------
    input : array of shape (*), real floating
        Predictions (MindSpore's ``logits``, Keras's ``y_pred``).
    target : array broadcastable with ``input``, real floating or integer (promoted)
        Targets (MindSpore's ``labels``, Keras's ``y_true``).
    reduction : {'mean', 'sum'}, default 'mean'
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
        0-d, of ``input``'s library, device and (promoted) dtype.

    Examples
    --------
    MindSpore's documented example (``nn.RMSELoss``, Case 1): errors (0, 0, 1), so
    :math:`\sqrt{1/3}`.

    >>> import numpy as np
    >>> import arrayloss
    >>> float(arrayloss.rmse(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 2.0])))
    0.5773502691896257
    """
    empty = validate_empty(empty)
    check_array("input", input)
    check_array("target", target)
    ctx = namespace_of(input=input, target=target, sample_weight=sample_weight)
    xp = ctx.xp
    (target,) = promote_integers(xp, (input,), target=target)
    reduction = validate_rmse_reduction(reduction)
    _check_pair(ctx, input, target)
    result_dtype = xp.result_type(input, target)
    work = compute_dtype(xp, result_dtype)
    x = xp.astype(input, work, copy=False)
    t = xp.astype(target, work, copy=False)
    with ctx.quiet_floating_point():
        d = x - t
        # With sample_weight: the root of the weighted mean (or sum) of squared errors.
        s = apply_reduction(ctx, d * d, reduction, empty=empty, sample_weight=sample_weight)
        # sqrt(s), with the derivative 0 where s = 0 (not sqrt's infinite one times the
        # 0 of d s / d x): the root of a placeholder 1 there, and s itself (0) taken.
        # NaN (an empty mean) stays NaN; with empty="zero" that mean is 0, and so is its
        # root (and gradient).
        positive = s > 0
        root = xp.where(positive, xp.sqrt(xp.where(positive, s, xp.ones_like(s))), s)
        return ctx.as_array(xp.astype(root, result_dtype, copy=False))
