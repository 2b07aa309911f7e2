"""The classes of the losses PyTorch lacks: thin, explicit wrappers over the functions,
named after the source framework's class (``SigmoidFocalLoss`` for torchvision's
function, ...), built as the torch.nn-named classes of ``_modules``: options when
constructed (validated then), arrays when called."""

from __future__ import annotations

from typing import Any

from ._focal import _check_gamma, _check_real, sigmoid_focal_loss, softmax_focal_loss
from ._modules import _describe, _Loss
from ._reduction import validate_reduction
from ._validation import check_arrays_or_none, check_options_not_arrays

__all__ = ["SigmoidFocalLoss", "SoftmaxFocalLoss"]


class _BeyondLoss(_Loss):
    """A loss without PyTorch's legacy ``size_average``/``reduce``: ``reduction`` only,
    with the source framework's default."""

    def __init__(self, reduction: str = "mean") -> None:
        check_options_not_arrays(type(self).__name__, reduction=reduction)
        self.reduction = validate_reduction(reduction)


class SigmoidFocalLoss(_BeyondLoss):
    """The sigmoid focal loss; see :func:`arrayloss.sigmoid_focal_loss`.

    torchvision has only the function (:func:`torchvision.ops.sigmoid_focal_loss`);
    this class takes its options, with its default ``reduction='none'``.

    Examples
    --------
    >>> import numpy as np
    >>> import arrayloss
    >>> loss_fn = arrayloss.SigmoidFocalLoss(alpha=-1, gamma=0, reduction="sum")
    >>> float(loss_fn(np.zeros(2), np.array([1.0, 0.0])))  # 2 log 2: plain BCE
    1.3862943611198906
    """

    def __init__(self, alpha: float = 0.25, gamma: float = 2, reduction: str = "none") -> None:
        check_options_not_arrays(type(self).__name__, alpha=alpha, gamma=gamma)
        super().__init__(reduction)
        self.alpha = _check_real("alpha", alpha)
        _check_gamma(gamma)
        self.gamma = gamma

    def forward(self, inputs: Any, targets: Any) -> Any:
        return sigmoid_focal_loss(
            inputs, targets, alpha=self.alpha, gamma=self.gamma, reduction=self.reduction
        )

    def _options(self) -> dict[str, Any]:
        return {"alpha": repr(self.alpha), "gamma": repr(self.gamma), **super()._options()}


class SoftmaxFocalLoss(_BeyondLoss):
    """The softmax focal loss; see :func:`arrayloss.softmax_focal_loss`.

    Mirrors :class:`keras.losses.CategoricalFocalCrossentropy` (``from_logits=True``)
    and :class:`mindspore.nn.FocalLoss` (``alpha=1.0``).

    Examples
    --------
    >>> import numpy as np
    >>> import arrayloss
    >>> loss_fn = arrayloss.SoftmaxFocalLoss(alpha=1.0, gamma=0.0)
    >>> float(loss_fn(np.zeros((3, 4)), np.array([0, 1, 3])))  # log 4: cross entropy
    1.3862943611198906
    """

    def __init__(
        self,
        weight: Any | None = None,
        alpha: float = 0.25,
        gamma: float = 2.0,
        ignore_index: int = -100,
        reduction: str = "mean",
    ) -> None:
        check_options_not_arrays(
            type(self).__name__, alpha=alpha, gamma=gamma, ignore_index=ignore_index
        )
        super().__init__(reduction)
        check_arrays_or_none(type(self).__name__, weight=weight)
        self.weight = weight
        self.alpha = _check_real("alpha", alpha)
        _check_gamma(gamma)
        self.gamma = gamma
        self.ignore_index = ignore_index

    def forward(self, input: Any, target: Any) -> Any:
        return softmax_focal_loss(
            input,
            target,
            weight=self.weight,
            alpha=self.alpha,
            gamma=self.gamma,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
        )

    def _options(self) -> dict[str, Any]:
        options = {"alpha": repr(self.alpha), "gamma": repr(self.gamma), **super()._options()}
        if self.weight is not None:
            options["weight"] = _describe(self.weight)
        if self.ignore_index != -100:
            options["ignore_index"] = repr(self.ignore_index)
        return options
