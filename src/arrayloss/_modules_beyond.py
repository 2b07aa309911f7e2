"""The classes of the losses PyTorch lacks: thin, explicit wrappers over the functions,
named after the source framework's class (``SigmoidFocalLoss`` for torchvision's
function, ...), built as the torch.nn-named classes of ``_modules``: options when
constructed (validated then), arrays when called."""

from __future__ import annotations

from typing import Any

from ._contrastive import _check_temperature, ntxent
from ._divergence import KL_DIV_REDUCTIONS
from ._focal import (
    _check_gamma,
    _check_real,
    poly1_cross_entropy,
    sigmoid_focal_loss,
    softmax_focal_loss,
)
from ._generalized_kl import convex_kl_divergence, generalized_kl_divergence
from ._keras_family import (
    categorical_hinge,
    check_int_dim,
    cosine_similarity_loss,
    hinge,
    log_cosh,
    mean_absolute_percentage_error,
    mean_squared_logarithmic_error,
    squared_hinge,
)
from ._modules import _describe, _Loss
from ._overlap import _check_flag, dice_loss, multiclass_dice_loss, tversky_loss
from ._reduction import validate_empty, validate_reduction
from ._rmse import rmse, validate_rmse_reduction
from ._validation import check_arrays_or_none, check_options_not_arrays

__all__ = [
    "CategoricalHinge",
    "ConvexKLDivergence",
    "CosineSimilarityLoss",
    "DiceLoss",
    "GeneralizedKLDivergence",
    "Hinge",
    "LogCosh",
    "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError",
    "MultiClassDiceLoss",
    "NTXentLoss",
    "Poly1CrossEntropyLoss",
    "RMSELoss",
    "SigmoidFocalLoss",
    "SoftmaxFocalLoss",
    "SquaredHinge",
    "TverskyLoss",
]


class _BeyondLoss(_Loss):
    """A loss without PyTorch's legacy ``size_average``/``reduce``: ``reduction`` only,
    with the source framework's default."""

    def __init__(self, reduction: str = "mean", *, empty: str = "nan") -> None:
        self.empty = validate_empty(empty)
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

    def __init__(
        self, alpha: float = 0.25, gamma: float = 2, reduction: str = "none", *, empty: str = "nan"
    ) -> None:
        self.empty = validate_empty(empty)
        check_options_not_arrays(type(self).__name__, alpha=alpha, gamma=gamma)
        super().__init__(reduction, empty=empty)
        self.alpha = _check_real("alpha", alpha)
        _check_gamma(gamma)
        self.gamma = gamma

    def forward(self, inputs: Any, targets: Any, *, sample_weight: Any | None = None) -> Any:
        return sigmoid_focal_loss(
            inputs,
            targets,
            alpha=self.alpha,
            gamma=self.gamma,
            reduction=self.reduction,
            empty=self.empty,
            sample_weight=sample_weight,
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
        *,
        empty: str = "nan",
    ) -> None:
        self.empty = validate_empty(empty)
        check_options_not_arrays(
            type(self).__name__, alpha=alpha, gamma=gamma, ignore_index=ignore_index
        )
        super().__init__(reduction, empty=empty)
        check_arrays_or_none(type(self).__name__, weight=weight)
        self.weight = weight
        self.alpha = _check_real("alpha", alpha)
        _check_gamma(gamma)
        self.gamma = gamma
        self.ignore_index = ignore_index

    def forward(self, input: Any, target: Any, *, sample_weight: Any | None = None) -> Any:
        return softmax_focal_loss(
            input,
            target,
            weight=self.weight,
            alpha=self.alpha,
            gamma=self.gamma,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            empty=self.empty,
            sample_weight=sample_weight,
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
        *,
        empty: str = "nan",
    ) -> None:
        self.empty = validate_empty(empty)
        name = type(self).__name__
        check_options_not_arrays(name, smooth_nr=smooth_nr, smooth_dr=smooth_dr)
        super().__init__(reduction, empty=empty)
        self.smooth_nr = _check_real("smooth_nr", smooth_nr)
        self.smooth_dr = _check_real("smooth_dr", smooth_dr)
        self.squared = _check_flag("squared", squared)
        self.batch = _check_flag("batch", batch)

    def forward(self, input: Any, target: Any, *, sample_weight: Any | None = None) -> Any:
        return dice_loss(
            input,
            target,
            smooth_nr=self.smooth_nr,
            smooth_dr=self.smooth_dr,
            squared=self.squared,
            batch=self.batch,
            reduction=self.reduction,
            empty=self.empty,
            sample_weight=sample_weight,
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
        *,
        empty: str = "nan",
    ) -> None:
        self.empty = validate_empty(empty)
        name = type(self).__name__
        check_options_not_arrays(name, alpha=alpha, beta=beta, smooth_nr=smooth_nr)
        super().__init__(reduction, empty=empty)
        self.alpha = _check_real("alpha", alpha)
        self.beta = _check_real("beta", beta)
        self.smooth_nr = _check_real("smooth_nr", smooth_nr)
        self.smooth_dr = _check_real("smooth_dr", smooth_dr)
        self.batch = _check_flag("batch", batch)

    def forward(self, input: Any, target: Any, *, sample_weight: Any | None = None) -> Any:
        return tversky_loss(
            input,
            target,
            alpha=self.alpha,
            beta=self.beta,
            smooth_nr=self.smooth_nr,
            smooth_dr=self.smooth_dr,
            batch=self.batch,
            reduction=self.reduction,
            empty=self.empty,
            sample_weight=sample_weight,
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
        *,
        empty: str = "nan",
    ) -> None:
        self.empty = validate_empty(empty)
        name = type(self).__name__
        check_options_not_arrays(name, ignore_index=ignore_index, softmax=softmax)
        super().__init__(reduction, empty=empty)
        check_arrays_or_none(name, weight=weight)
        self.weight = weight
        self.ignore_index = ignore_index
        self.softmax = _check_flag("softmax", softmax)
        self.smooth_nr = _check_real("smooth_nr", smooth_nr)
        self.smooth_dr = _check_real("smooth_dr", smooth_dr)
        self.squared = _check_flag("squared", squared)
        self.batch = _check_flag("batch", batch)

    def forward(self, input: Any, target: Any, *, sample_weight: Any | None = None) -> Any:
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
            empty=self.empty,
            sample_weight=sample_weight,
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


class _KerasPointwise(_BeyondLoss):
    """A Keras 3 loss class over one of the pointwise functions: ``reduction`` only
    (PyTorch's names; 'mean' is Keras's default ``sum_over_batch_size``)."""

    _function: Any

    def forward(self, input: Any, target: Any, *, sample_weight: Any | None = None) -> Any:
        return type(self)._function(
            input, target, reduction=self.reduction, empty=self.empty, sample_weight=sample_weight
        )


class Hinge(_KerasPointwise):
    """The hinge loss; see :func:`arrayloss.hinge`. Mirrors :class:`keras.losses.Hinge`.

    Examples
    --------
    >>> import numpy as np
    >>> import arrayloss
    >>> float(arrayloss.Hinge()(np.array([0.3, 2.0]), np.array([0.0, 1.0])))
    0.65
    """

    _function = staticmethod(hinge)


class SquaredHinge(_KerasPointwise):
    """The squared hinge loss; see :func:`arrayloss.squared_hinge`. Mirrors
    :class:`keras.losses.SquaredHinge`.

    Examples
    --------
    >>> import numpy as np
    >>> import arrayloss
    >>> float(arrayloss.SquaredHinge()(np.array([0.5, -1.0]), np.array([1.0, -1.0])))
    0.125
    """

    _function = staticmethod(squared_hinge)


class CategoricalHinge(_KerasPointwise):
    """The categorical hinge loss; see :func:`arrayloss.categorical_hinge`. Mirrors
    :class:`keras.losses.CategoricalHinge` (classes on axis 1 here).

    Examples
    --------
    >>> import numpy as np
    >>> import arrayloss
    >>> x, t = np.array([[2.0, 0.5, -1.0]]), np.array([[0.0, 1.0, 0.0]])
    >>> float(arrayloss.CategoricalHinge()(x, t))
    2.5
    """

    _function = staticmethod(categorical_hinge)


class LogCosh(_KerasPointwise):
    """The log-cosh loss; see :func:`arrayloss.log_cosh`. Mirrors
    :class:`keras.losses.LogCosh`.

    Examples
    --------
    >>> import numpy as np
    >>> import arrayloss
    >>> bool(np.isclose(arrayloss.LogCosh()(np.ones(3), np.zeros(3)), np.log(np.cosh(1.0))))
    True
    """

    _function = staticmethod(log_cosh)


class MeanAbsolutePercentageError(_KerasPointwise):
    """See :func:`arrayloss.mean_absolute_percentage_error`. Mirrors
    :class:`keras.losses.MeanAbsolutePercentageError`.

    Examples
    --------
    >>> import numpy as np
    >>> import arrayloss
    >>> loss_fn = arrayloss.MeanAbsolutePercentageError()
    >>> round(float(loss_fn(np.array([1.1, 1.5]), np.array([1.0, 2.0]))), 10)
    17.5
    """

    _function = staticmethod(mean_absolute_percentage_error)


class MeanSquaredLogarithmicError(_KerasPointwise):
    """See :func:`arrayloss.mean_squared_logarithmic_error`. Mirrors
    :class:`keras.losses.MeanSquaredLogarithmicError`.

    Examples
    --------
    >>> import numpy as np
    >>> import arrayloss
    >>> loss_fn = arrayloss.MeanSquaredLogarithmicError(reduction="sum")
    >>> float(loss_fn(np.array([1.0, 3.0]), np.array([1.0, 3.0])))
    0.0
    """

    _function = staticmethod(mean_squared_logarithmic_error)


class CosineSimilarityLoss(_BeyondLoss):
    """The negative cosine similarity along ``dim``; see
    :func:`arrayloss.cosine_similarity_loss`. Mirrors
    :class:`keras.losses.CosineSimilarity` (its ``axis`` as ``dim``); not
    ``torch.nn.CosineSimilarity``, PyTorch's module of :math:`+\\cos`.

    Examples
    --------
    >>> import numpy as np
    >>> import arrayloss
    >>> loss_fn = arrayloss.CosineSimilarityLoss(dim=0, reduction="sum")
    >>> round(float(loss_fn(np.array([3.0, 4.0]), np.array([6.0, 8.0]))), 12)  # same direction
    -1.0
    """

    def __init__(self, dim: int = -1, reduction: str = "mean", *, empty: str = "nan") -> None:
        self.empty = validate_empty(empty)
        check_options_not_arrays(type(self).__name__, dim=dim)
        super().__init__(reduction, empty=empty)
        self.dim = check_int_dim(dim)

    def forward(self, input: Any, target: Any, *, sample_weight: Any | None = None) -> Any:
        return cosine_similarity_loss(
            input,
            target,
            dim=self.dim,
            reduction=self.reduction,
            empty=self.empty,
            sample_weight=sample_weight,
        )

    def _options(self) -> dict[str, Any]:
        return {"dim": repr(self.dim), **super()._options()}


class RMSELoss(_BeyondLoss):
    """The root mean squared error; see :func:`arrayloss.rmse`. Mirrors
    :class:`mindspore.nn.RMSELoss` (which has no ``reduction``: 'mean' here) and
    :class:`keras.metrics.RootMeanSquaredError` on one batch.

    Examples
    --------
    >>> import numpy as np
    >>> import arrayloss
    >>> float(arrayloss.RMSELoss()(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 5.0])))
    1.1547005383792515
    """

    def __init__(self, reduction: str = "mean", *, empty: str = "nan") -> None:
        self.empty = validate_empty(empty)
        check_options_not_arrays(type(self).__name__, reduction=reduction)
        self.reduction = validate_rmse_reduction(reduction)

    def forward(self, input: Any, target: Any, *, sample_weight: Any | None = None) -> Any:
        return rmse(
            input, target, reduction=self.reduction, empty=self.empty, sample_weight=sample_weight
        )


class Poly1CrossEntropyLoss(_BeyondLoss):
    """The Poly-1 cross entropy; see :func:`arrayloss.poly1_cross_entropy`. optax has
    only the function (:func:`optax.losses.poly_loss_cross_entropy`).

    Examples
    --------
    >>> import numpy as np
    >>> import arrayloss
    >>> loss_fn = arrayloss.Poly1CrossEntropyLoss(epsilon=0.0)
    >>> float(loss_fn(np.zeros((3, 4)), np.array([0, 1, 3])))  # log 4: cross entropy
    1.3862943611198906
    """

    def __init__(
        self,
        epsilon: float = 2.0,
        ignore_index: int = -100,
        reduction: str = "mean",
        *,
        empty: str = "nan",
    ) -> None:
        self.empty = validate_empty(empty)
        check_options_not_arrays(type(self).__name__, epsilon=epsilon, ignore_index=ignore_index)
        super().__init__(reduction, empty=empty)
        self.epsilon = _check_real("epsilon", epsilon)
        self.ignore_index = ignore_index

    def forward(self, input: Any, target: Any, *, sample_weight: Any | None = None) -> Any:
        return poly1_cross_entropy(
            input,
            target,
            epsilon=self.epsilon,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            empty=self.empty,
            sample_weight=sample_weight,
        )

    def _options(self) -> dict[str, Any]:
        options = {"epsilon": repr(self.epsilon), **super()._options()}
        if self.ignore_index != -100:
            options["ignore_index"] = repr(self.ignore_index)
        return options


class GeneralizedKLDivergence(_BeyondLoss):
    """The generalized KL divergence; see :func:`arrayloss.generalized_kl_divergence`.
    optax has only the function (:func:`optax.losses.generalized_kl_divergence`).

    Examples
    --------
    >>> import numpy as np
    >>> import arrayloss
    >>> loss_fn = arrayloss.GeneralizedKLDivergence(reduction="sum")
    >>> float(loss_fn(np.zeros(2), np.ones(2)))  # 1 (log 1 - 0) + e^0 - 1, twice
    0.0
    """

    _reductions = KL_DIV_REDUCTIONS

    def __init__(self, reduction: str = "batchmean", *, empty: str = "nan") -> None:
        self.empty = validate_empty(empty)
        check_options_not_arrays(type(self).__name__, reduction=reduction)
        self.reduction = validate_reduction(reduction, KL_DIV_REDUCTIONS)

    def forward(self, input: Any, target: Any, *, sample_weight: Any | None = None) -> Any:
        return generalized_kl_divergence(
            input, target, reduction=self.reduction, empty=self.empty, sample_weight=sample_weight
        )


class ConvexKLDivergence(GeneralizedKLDivergence):
    """The generalized KL divergence under optax's older name; see
    :func:`arrayloss.convex_kl_divergence`.

    Examples
    --------
    >>> import numpy as np
    >>> import arrayloss
    >>> float(arrayloss.ConvexKLDivergence()(np.zeros((1, 2)), np.ones((1, 2))))
    0.0
    """

    def forward(self, input: Any, target: Any, *, sample_weight: Any | None = None) -> Any:
        return convex_kl_divergence(
            input, target, reduction=self.reduction, empty=self.empty, sample_weight=sample_weight
        )


class NTXentLoss(_BeyondLoss):
    """The NT-Xent contrastive loss; see :func:`arrayloss.ntxent`. optax has only the
    function (:func:`optax.losses.ntxent`); called with ``(embeddings, labels)``.

    Examples
    --------
    >>> import numpy as np
    >>> import arrayloss
    >>> e = np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0]])
    >>> loss = arrayloss.NTXentLoss(temperature=1.0)(e, np.array([0, 0, 1]))
    >>> bool(np.isclose(loss, np.log1p(np.exp(-1.0))))
    True
    """

    def __init__(
        self, temperature: float = 0.07, reduction: str = "mean", *, empty: str = "nan"
    ) -> None:
        self.empty = validate_empty(empty)
        check_options_not_arrays(type(self).__name__, temperature=temperature)
        super().__init__(reduction, empty=empty)
        self.temperature = _check_temperature(temperature)

    def forward(self, embeddings: Any, labels: Any, *, sample_weight: Any | None = None) -> Any:
        return ntxent(
            embeddings,
            labels,
            temperature=self.temperature,
            reduction=self.reduction,
            empty=self.empty,
            sample_weight=sample_weight,
        )

    def _options(self) -> dict[str, Any]:
        return {"temperature": repr(self.temperature), **super()._options()}
