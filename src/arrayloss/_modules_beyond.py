"""The classes of the losses PyTorch lacks: thin, explicit wrappers over the functions,
named after the source framework's class (``SigmoidFocalLoss`` for torchvision's
function, ...), built as the torch.nn-named classes of ``_modules``: options when
constructed (validated then), arrays when called."""

from __future__ import annotations

from typing import Any

from ._focal import _check_gamma, _check_real, sigmoid_focal_loss, softmax_focal_loss
from ._modules import _describe, _Loss
from ._overlap import _check_flag, dice_loss, multiclass_dice_loss, tversky_loss
from ._reduction import validate_reduction
from ._validation import check_arrays_or_none, check_options_not_arrays

__all__ = ["DiceLoss", "MultiClassDiceLoss", "SigmoidFocalLoss", "SoftmaxFocalLoss", "TverskyLoss"]


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


class DiceLoss(_BeyondLoss):
    """The Dice loss; see :func:`arrayloss.dice_loss`.

    Mirrors :class:`keras.losses.Dice` (the defaults) and :class:`mindspore.nn.DiceLoss`
    (``squared=True, batch=True, smooth_dr=smooth``).

    Examples
    --------
    >>> import numpy as np
    >>> import arrayloss
    >>> loss_fn = arrayloss.DiceLoss(smooth_dr=0.0)
    >>> float(loss_fn(np.array([[1.0, 0.0]]), np.array([[1.0, 1.0]])))  # 1 - 2/3
    0.33333333333333337
    """

    def __init__(
        self,
        smooth_nr: float = 0.0,
        smooth_dr: float = 1e-7,
        squared: bool = False,
        batch: bool = False,
        reduction: str = "mean",
    ) -> None:
        name = type(self).__name__
        check_options_not_arrays(name, smooth_nr=smooth_nr, smooth_dr=smooth_dr)
        super().__init__(reduction)
        self.smooth_nr = _check_real("smooth_nr", smooth_nr)
        self.smooth_dr = _check_real("smooth_dr", smooth_dr)
        self.squared = _check_flag("squared", squared)
        self.batch = _check_flag("batch", batch)

    def forward(self, input: Any, target: Any) -> Any:
        return dice_loss(
            input,
            target,
            smooth_nr=self.smooth_nr,
            smooth_dr=self.smooth_dr,
            squared=self.squared,
            batch=self.batch,
            reduction=self.reduction,
        )

    def _options(self) -> dict[str, Any]:
        return {
            "smooth_nr": repr(self.smooth_nr),
            "smooth_dr": repr(self.smooth_dr),
            "squared": repr(self.squared),
            "batch": repr(self.batch),
            **super()._options(),
        }


class TverskyLoss(_BeyondLoss):
    """The Tversky loss; see :func:`arrayloss.tversky_loss`.

    Mirrors :class:`keras.losses.Tversky` with ``alpha`` and ``beta`` exchanged
    (``alpha`` weighs the false positives here, as in optax and Salehi et al.).

    Examples
    --------
    >>> import numpy as np
    >>> import arrayloss
    >>> loss_fn = arrayloss.TverskyLoss(alpha=1.0, beta=0.0, smooth_dr=0.0)
    >>> float(loss_fn(np.array([[1.0, 1.0]]), np.array([[1.0, 0.0]])))  # 1 - 1/2
    0.5
    """

    def __init__(
        self,
        alpha: float = 0.5,
        beta: float = 0.5,
        smooth_nr: float = 0.0,
        smooth_dr: float = 1e-7,
        batch: bool = False,
        reduction: str = "mean",
    ) -> None:
        name = type(self).__name__
        check_options_not_arrays(name, alpha=alpha, beta=beta, smooth_nr=smooth_nr)
        super().__init__(reduction)
        self.alpha = _check_real("alpha", alpha)
        self.beta = _check_real("beta", beta)
        self.smooth_nr = _check_real("smooth_nr", smooth_nr)
        self.smooth_dr = _check_real("smooth_dr", smooth_dr)
        self.batch = _check_flag("batch", batch)

    def forward(self, input: Any, target: Any) -> Any:
        return tversky_loss(
            input,
            target,
            alpha=self.alpha,
            beta=self.beta,
            smooth_nr=self.smooth_nr,
            smooth_dr=self.smooth_dr,
            batch=self.batch,
            reduction=self.reduction,
        )

    def _options(self) -> dict[str, Any]:
        return {
            "alpha": repr(self.alpha),
            "beta": repr(self.beta),
            "smooth_nr": repr(self.smooth_nr),
            "smooth_dr": repr(self.smooth_dr),
            "batch": repr(self.batch),
            **super()._options(),
        }


class MultiClassDiceLoss(_BeyondLoss):
    """The multi-class Dice loss; see :func:`arrayloss.multiclass_dice_loss`.

    Mirrors :class:`mindspore.nn.MultiClassDiceLoss` (``squared=True, batch=True,
    smooth_dr=1e-5``) and :func:`optax.losses.dice_loss`.

    Examples
    --------
    >>> import numpy as np
    >>> import arrayloss
    >>> loss_fn = arrayloss.MultiClassDiceLoss(softmax=False, smooth_dr=0.0)
    >>> x = np.array([[[1.0, 0.0], [0.0, 1.0]]])  # (N, C, d) = (1, 2, 2), one-hot
    >>> float(loss_fn(x, np.array([[0, 1]])))  # a perfect match
    0.0
    """

    def __init__(
        self,
        weight: Any | None = None,
        ignore_index: int | None = None,
        softmax: bool = True,
        smooth_nr: float = 0.0,
        smooth_dr: float = 1e-7,
        squared: bool = False,
        batch: bool = False,
        reduction: str = "mean",
    ) -> None:
        name = type(self).__name__
        check_options_not_arrays(name, ignore_index=ignore_index, softmax=softmax)
        super().__init__(reduction)
        check_arrays_or_none(name, weight=weight)
        self.weight = weight
        self.ignore_index = ignore_index
        self.softmax = _check_flag("softmax", softmax)
        self.smooth_nr = _check_real("smooth_nr", smooth_nr)
        self.smooth_dr = _check_real("smooth_dr", smooth_dr)
        self.squared = _check_flag("squared", squared)
        self.batch = _check_flag("batch", batch)

    def forward(self, input: Any, target: Any) -> Any:
        return multiclass_dice_loss(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            softmax=self.softmax,
            smooth_nr=self.smooth_nr,
            smooth_dr=self.smooth_dr,
            squared=self.squared,
            batch=self.batch,
            reduction=self.reduction,
        )

    def _options(self) -> dict[str, Any]:
        options = {
            "softmax": repr(self.softmax),
            "smooth_nr": repr(self.smooth_nr),
            "smooth_dr": repr(self.smooth_dr),
            "squared": repr(self.squared),
            "batch": repr(self.batch),
            **super()._options(),
        }
        if self.weight is not None:
            options["weight"] = _describe(self.weight)
        if self.ignore_index is not None:
            options["ignore_index"] = repr(self.ignore_index)
        return options
