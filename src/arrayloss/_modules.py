"""The torch.nn-named loss classes: thin, explicit wrappers over the functions.

Each class has PyTorch's constructor signature; options are validated when the loss is
constructed (PyTorch only fails when it is called), and ``forward``/``__call__`` take the
arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._binary import (
    _check_inf_logits,
    _check_options,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
)
from ._classification import (
    _check_ignore_probability_rows,
    _check_p,
    cross_entropy,
    multi_margin_loss,
    nll_loss,
)
from ._ctc import _check_blank, ctc_loss
from ._divergence import KL_DIV_REDUCTIONS, kl_div
from ._embedding import (
    _check_positive_margin,
    cosine_embedding_loss,
    hinge_embedding_loss,
    margin_ranking_loss,
    triplet_margin_loss,
    triplet_margin_with_distance_loss,
)
from ._linear import _chunk_sizes, linear_cross_entropy
from ._margin import multilabel_margin_loss, multilabel_soft_margin_loss, soft_margin_loss
from ._probabilistic import gaussian_nll_loss, poisson_nll_loss, probabilistic_reduction
from ._reduction import REDUCTIONS, legacy_reduction, validate_empty, validate_reduction
from ._regression import _check_threshold, huber_loss, l1_loss, mse_loss, smooth_l1_loss
from ._validation import check_arrays_or_none, check_options_not_arrays

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "CTCLoss",
    "CosineEmbeddingLoss",
    "CrossEntropyLoss",
    "GaussianNLLLoss",
    "HingeEmbeddingLoss",
    "HuberLoss",
    "KLDivLoss",
    "L1Loss",
    "LinearCrossEntropyLoss",
    "MSELoss",
    "MarginRankingLoss",
    "MultiLabelMarginLoss",
    "MultiLabelSoftMarginLoss",
    "MultiMarginLoss",
    "NLLLoss",
    "PoissonNLLLoss",
    "SmoothL1Loss",
    "SoftMarginLoss",
    "TripletMarginLoss",
    "TripletMarginWithDistanceLoss",
]


class _Loss:
    """Base of the loss classes: holds ``reduction``, as ``torch.nn.modules.loss._Loss``."""

    reduction: str
    #: What 'mean' over nothing gives ('nan' or 'zero'; see :func:`arrayloss.mse_loss`),
    #: set by each loss's keyword-only ``empty``.
    empty: str = "nan"
    #: The reductions this loss accepts (kl_div adds 'batchmean').
    _reductions: tuple[str, ...] = REDUCTIONS

    def __init__(
        self,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        check_options_not_arrays(
            type(self).__name__, size_average=size_average, reduce=reduce, reduction=reduction
        )
        self.reduction = legacy_reduction(size_average, reduce, reduction, self._reductions)

    def forward(self, *arrays: Any, **kwargs: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, *arrays: Any, **kwargs: Any) -> Any:
        # Any number of arrays, as torch.nn.Module.__call__: (input, target) for most
        # losses, (input1, input2, target) or (anchor, positive, negative) for others.
        return self.forward(*arrays, **kwargs)

    def _options(self) -> dict[str, Any]:
        # Each value as it should appear in repr.
        return {"reduction": repr(self.reduction)}

    def __repr__(self) -> str:
        described = self._options()
        if self.empty != "nan" and "empty" not in described:
            described["empty"] = repr(self.empty)
        options = ", ".join(f"{k}={v}" for k, v in described.items())
        return f"{type(self).__name__}({options})"


class _WeightedLoss(_Loss):
    """A loss with a ``weight`` array, as ``torch.nn.modules.loss._WeightedLoss``."""

    def __init__(
        self,
        weight: Any | None = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        check_arrays_or_none(type(self).__name__, weight=weight)
        self.weight = weight

    def _options(self) -> dict[str, Any]:
        options = super()._options()
        if self.weight is not None:
            options["weight"] = _describe(self.weight)
        return options


def _describe(array: Any) -> str:
    # A short description for repr: the full array would flood the console.
    return f"<{type(array).__name__} of shape {tuple(array.shape)}>"


class BCELoss(_WeightedLoss):
    """Binary cross entropy on probabilities; see :func:`arrayloss.binary_cross_entropy`.

    Mirrors :class:`torch.nn.BCELoss`.

    Examples
    --------
    >>> import numpy as np
    >>> import arrayloss
    >>> loss_fn = arrayloss.BCELoss(reduction="sum")
    >>> float(loss_fn(np.array([0.5, 0.5]), np.array([1.0, 0.0])))  # 2 log 2
    1.3862943611198906
    """

    label_smoothing: float
    ignore_index: int | None
    empty: str

    def __init__(
        self,
        weight: Any | None = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        *,
        label_smoothing: float = 0.0,
        ignore_index: int | None = None,
        empty: str = "nan",
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        _init_binary_options(self, label_smoothing, ignore_index, empty)

    def forward(self, input: Any, target: Any, *, sample_weight: Any | None = None) -> Any:
        return binary_cross_entropy(
            input,
            target,
            weight=self.weight,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
            ignore_index=self.ignore_index,
            empty=self.empty,
            sample_weight=sample_weight,
        )

    def _options(self) -> dict[str, Any]:
        return {**super()._options(), **_binary_options(self)}


class BCEWithLogitsLoss(_WeightedLoss):
    """Binary cross entropy on logits; see :func:`arrayloss.binary_cross_entropy_with_logits`.

    Mirrors :class:`torch.nn.BCEWithLogitsLoss`.

    Examples
    --------
    >>> import numpy as np
    >>> import arrayloss
    >>> loss_fn = arrayloss.BCEWithLogitsLoss(pos_weight=np.ones(64))
    >>> loss = loss_fn(np.full((10, 64), 1.5), np.ones((10, 64)))
    >>> bool(np.isclose(loss, np.log1p(np.exp(-1.5))))  # -log(sigmoid(1.5))
    True
    """

    label_smoothing: float
    ignore_index: int | None
    empty: str

    def __init__(
        self,
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
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        check_arrays_or_none(type(self).__name__, pos_weight=pos_weight)
        self.pos_weight = pos_weight
        _init_binary_options(self, label_smoothing, ignore_index, empty)
        _check_inf_logits(inf_logits)
        self.inf_logits = inf_logits

    def forward(self, input: Any, target: Any, *, sample_weight: Any | None = None) -> Any:
        return binary_cross_entropy_with_logits(
            input,
            target,
            weight=self.weight,
            reduction=self.reduction,
            pos_weight=self.pos_weight,
            label_smoothing=self.label_smoothing,
            ignore_index=self.ignore_index,
            inf_logits=self.inf_logits,
            empty=self.empty,
            sample_weight=sample_weight,
        )

    def _options(self) -> dict[str, Any]:
        options = super()._options()
        if self.pos_weight is not None:
            options["pos_weight"] = _describe(self.pos_weight)
        options.update(_binary_options(self))
        if self.inf_logits != "nan":
            options["inf_logits"] = repr(self.inf_logits)
        if "empty" in options:
            options["empty"] = options.pop("empty")  # the signature's order
        return options


def _init_binary_options(
    loss: BCELoss | BCEWithLogitsLoss, label_smoothing: float, ignore_index: int | None, empty: str
) -> None:
    # The options PyTorch lacks (issue 10), validated when the loss is constructed.
    _check_options(label_smoothing, ignore_index, empty)
    loss.label_smoothing = label_smoothing
    loss.ignore_index = ignore_index
    loss.empty = empty


def _binary_options(loss: BCELoss | BCEWithLogitsLoss) -> dict[str, str]:
    # In repr: only those that differ from PyTorch's behaviour.
    options = {}
    if loss.label_smoothing != 0.0:
        options["label_smoothing"] = repr(loss.label_smoothing)
    if loss.ignore_index is not None:
        options["ignore_index"] = repr(loss.ignore_index)
    if loss.empty != "nan":
        options["empty"] = repr(loss.empty)
    return options


class NLLLoss(_WeightedLoss):
    """Negative log likelihood of class indices; see :func:`arrayloss.nll_loss`.

    Mirrors :class:`torch.nn.NLLLoss`; the keyword-only ``empty`` is arrayloss's own
    (see :func:`arrayloss.nll_loss`).

    Examples
    --------
    >>> import numpy as np
    >>> import arrayloss
    >>> loss_fn = arrayloss.NLLLoss(reduction="sum")
    >>> float(loss_fn(np.log(np.array([[0.5, 0.5], [0.25, 0.75]])), np.array([0, 0])))
    2.0794415416798357
    """

    def __init__(
        self,
        weight: Any | None = None,
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: str = "mean",
        *,
        empty: str = "nan",
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.empty = validate_empty(empty)

    def forward(self, input: Any, target: Any, *, sample_weight: Any | None = None) -> Any:
        return nll_loss(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            empty=self.empty,
            sample_weight=sample_weight,
        )

    def _options(self) -> dict[str, Any]:
        options = super()._options()
        if self.ignore_index != -100:
            options["ignore_index"] = repr(self.ignore_index)
        if self.empty != "nan":
            options["empty"] = repr(self.empty)
        return options


class CrossEntropyLoss(_WeightedLoss):
    """Cross entropy on logits; see :func:`arrayloss.cross_entropy`.

    Mirrors :class:`torch.nn.CrossEntropyLoss`; the keyword-only ``empty`` and
    ``ignore_probability_rows`` are arrayloss's own (see :func:`arrayloss.cross_entropy`).

    Examples
    --------
    >>> import numpy as np
    >>> import arrayloss
    >>> loss_fn = arrayloss.CrossEntropyLoss()
    >>> float(loss_fn(np.zeros((3, 4)), np.array([0, 1, 3])))  # log 4
    1.3862943611198906
    """

    def __init__(
        self,
        weight: Any | None = None,
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
        *,
        empty: str = "nan",
        ignore_probability_rows: bool = False,
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        check_options_not_arrays(
            type(self).__name__, ignore_index=ignore_index, label_smoothing=label_smoothing
        )
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing
        self.empty = validate_empty(empty)
        self.ignore_probability_rows = _check_ignore_probability_rows(ignore_probability_rows)

    def forward(self, input: Any, target: Any, *, sample_weight: Any | None = None) -> Any:
        return cross_entropy(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
            empty=self.empty,
            ignore_probability_rows=self.ignore_probability_rows,
            sample_weight=sample_weight,
        )

    def _options(self) -> dict[str, Any]:
        options = super()._options()
        if self.ignore_index != -100:
            options["ignore_index"] = repr(self.ignore_index)
        if self.label_smoothing != 0.0:
            options["label_smoothing"] = repr(self.label_smoothing)
        if self.empty != "nan":
            options["empty"] = repr(self.empty)
        if self.ignore_probability_rows:
            options["ignore_probability_rows"] = "True"
        return options


class LinearCrossEntropyLoss(_WeightedLoss):
    """Cross entropy of a linear layer's logits, fused and chunked; see
    :func:`arrayloss.linear_cross_entropy`.

    Mirrors :class:`torch.nn.LinearCrossEntropyLoss`, with one deliberate difference:
    PyTorch's class owns the linear layer (its constructor takes ``in_features``,
    ``num_classes``, ``out_features``, ``bias``, ``device`` and ``dtype`` and creates the
    parameters), while arrayloss creates no arrays (it does not know your library): the
    layer's ``linear_weight`` and ``linear_bias`` belong to your model and are passed to
    each call, ``loss_fn(input, linear_weight, target, linear_bias=None)``. The options
    (``weight``, ``reduction``, ``ignore_index``, ``label_smoothing``, ``options``) are
    PyTorch's, keyword-only as there.

    Examples
    --------
    >>> import numpy as np
    >>> import arrayloss
    >>> loss_fn = arrayloss.LinearCrossEntropyLoss(options={"vocab_chunk_size": 2})
    >>> x, w = np.zeros((3, 2)), np.ones((4, 2))
    >>> float(loss_fn(x, w, np.array([0, 1, 3])))  # log 4
    1.3862943611198906
    """

    def __init__(
        self,
        *,
        weight: Any | None = None,
        reduction: str = "mean",
        ignore_index: int | None = None,
        label_smoothing: float = 0.0,
        options: Any = None,
        empty: str = "nan",
    ) -> None:
        self.empty = validate_empty(empty)
        super().__init__(weight, None, None, reduction)
        check_options_not_arrays(
            type(self).__name__, ignore_index=ignore_index, label_smoothing=label_smoothing
        )
        _chunk_sizes(options)  # checked now, as the other options
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing
        self.options = options

    def forward(
        self,
        input: Any,
        linear_weight: Any,
        target: Any,
        linear_bias: Any | None = None,
        *,
        sample_weight: Any | None = None,
    ) -> Any:
        return linear_cross_entropy(
            input,
            linear_weight,
            target,
            linear_bias=linear_bias,
            weight=self.weight,
            reduction=self.reduction,
            ignore_index=self.ignore_index,
            label_smoothing=self.label_smoothing,
            options=self.options,
            empty=self.empty,
            sample_weight=sample_weight,
        )

    def _options(self) -> dict[str, Any]:
        options = super()._options()
        if self.ignore_index is not None:
            options["ignore_index"] = repr(self.ignore_index)
        if self.label_smoothing != 0.0:
            options["label_smoothing"] = repr(self.label_smoothing)
        if self.options is not None:
            options["options"] = repr(self.options)
        return options


class KLDivLoss(_Loss):
    """The Kullback-Leibler divergence; see :func:`arrayloss.kl_div`.

    Mirrors :class:`torch.nn.KLDivLoss`.

    Examples
    --------
    >>> import numpy as np
    >>> import arrayloss
    >>> loss_fn = arrayloss.KLDivLoss(reduction="batchmean")
    >>> q, y = np.array([[0.5, 0.5]]), np.array([[0.25, 0.75]])
    >>> bool(np.isclose(loss_fn(np.log(q), y), np.sum(y * np.log(y / q))))
    True
    """

    _reductions = KL_DIV_REDUCTIONS

    def __init__(
        self,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        log_target: bool = False,
        *,
        empty: str = "nan",
    ) -> None:
        self.empty = validate_empty(empty)
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input: Any, target: Any, *, sample_weight: Any | None = None) -> Any:
        return kl_div(
            input,
            target,
            reduction=self.reduction,
            log_target=self.log_target,
            empty=self.empty,
            sample_weight=sample_weight,
        )

    def _options(self) -> dict[str, Any]:
        options = super()._options()
        if self.log_target:
            options["log_target"] = "True"
        return options


class SoftMarginLoss(_Loss):
    """The two-class logistic loss; see :func:`arrayloss.soft_margin_loss`.

    Mirrors :class:`torch.nn.SoftMarginLoss`.
    """

    def __init__(
        self,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        *,
        empty: str = "nan",
    ) -> None:
        self.empty = validate_empty(empty)
        super().__init__(size_average, reduce, reduction)

    def forward(self, input: Any, target: Any, *, sample_weight: Any | None = None) -> Any:
        return soft_margin_loss(
            input, target, reduction=self.reduction, empty=self.empty, sample_weight=sample_weight
        )


class MultiLabelMarginLoss(_Loss):
    """Multi-class multi-label hinge loss over padded class indices; see
    :func:`arrayloss.multilabel_margin_loss`.

    Mirrors :class:`torch.nn.MultiLabelMarginLoss`.
    """

    def __init__(
        self,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        *,
        empty: str = "nan",
    ) -> None:
        self.empty = validate_empty(empty)
        super().__init__(size_average, reduce, reduction)

    def forward(self, input: Any, target: Any, *, sample_weight: Any | None = None) -> Any:
        return multilabel_margin_loss(
            input, target, reduction=self.reduction, empty=self.empty, sample_weight=sample_weight
        )


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """Multi-label one-versus-all logistic loss; see
    :func:`arrayloss.multilabel_soft_margin_loss`.

    Mirrors :class:`torch.nn.MultiLabelSoftMarginLoss`.
    """

    def __init__(
        self,
        weight: Any | None = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        *,
        empty: str = "nan",
    ) -> None:
        self.empty = validate_empty(empty)
        super().__init__(weight, size_average, reduce, reduction)

    def forward(self, input: Any, target: Any, *, sample_weight: Any | None = None) -> Any:
        return multilabel_soft_margin_loss(
            input,
            target,
            weight=self.weight,
            reduction=self.reduction,
            empty=self.empty,
            sample_weight=sample_weight,
        )


class MultiMarginLoss(_Loss):
    """Multi-class margin (hinge) loss; see :func:`arrayloss.multi_margin_loss`.

    Mirrors :class:`torch.nn.MultiMarginLoss`; ``p`` is checked when constructed.
    """

    def __init__(
        self,
        p: int = 1,
        margin: float = 1.0,
        weight: Any | None = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        *,
        empty: str = "nan",
    ) -> None:
        self.empty = validate_empty(empty)
        check_options_not_arrays(type(self).__name__, p=p, margin=margin)
        super().__init__(size_average, reduce, reduction)
        _check_p(p)
        check_arrays_or_none(type(self).__name__, weight=weight)
        self.p = p
        self.margin = margin
        self.weight = weight

    def forward(self, input: Any, target: Any, *, sample_weight: Any | None = None) -> Any:
        return multi_margin_loss(
            input,
            target,
            p=self.p,
            margin=self.margin,
            weight=self.weight,
            reduction=self.reduction,
            empty=self.empty,
            sample_weight=sample_weight,
        )

    def _options(self) -> dict[str, Any]:
        options = {"p": repr(self.p), "margin": repr(self.margin), **super()._options()}
        if self.weight is not None:
            options["weight"] = _describe(self.weight)
        return options


# --- regression losses ------------------------------------------------------------------


class L1Loss(_Loss):
    """Mean absolute error; see :func:`arrayloss.l1_loss`.

    Mirrors :class:`torch.nn.L1Loss` (no ``weight``, as PyTorch's class).

    Examples
    --------
    >>> import numpy as np
    >>> import arrayloss
    >>> float(arrayloss.L1Loss(reduction="sum")(np.array([1.0, -2.0]), np.zeros(2)))
    3.0
    """

    def __init__(
        self,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        *,
        empty: str = "nan",
    ) -> None:
        self.empty = validate_empty(empty)
        super().__init__(size_average, reduce, reduction)

    def forward(self, input: Any, target: Any, *, sample_weight: Any | None = None) -> Any:
        return l1_loss(
            input, target, reduction=self.reduction, empty=self.empty, sample_weight=sample_weight
        )


class MSELoss(_Loss):
    """Mean squared error; see :func:`arrayloss.mse_loss`.

    Mirrors :class:`torch.nn.MSELoss` (no ``weight``, as PyTorch's class).
    """

    def __init__(
        self,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        *,
        empty: str = "nan",
    ) -> None:
        self.empty = validate_empty(empty)
        super().__init__(size_average, reduce, reduction)

    def forward(self, input: Any, target: Any, *, sample_weight: Any | None = None) -> Any:
        return mse_loss(
            input, target, reduction=self.reduction, empty=self.empty, sample_weight=sample_weight
        )


class HuberLoss(_Loss):
    """The Huber loss; see :func:`arrayloss.huber_loss`.

    Mirrors :class:`torch.nn.HuberLoss`; ``delta`` is checked when constructed.
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0, *, empty: str = "nan") -> None:
        self.empty = validate_empty(empty)
        check_options_not_arrays(type(self).__name__, reduction=reduction, delta=delta)
        self.reduction = validate_reduction(reduction)
        self.delta = _check_threshold("delta", delta, allow_zero=False)

    def forward(self, input: Any, target: Any, *, sample_weight: Any | None = None) -> Any:
        return huber_loss(
            input,
            target,
            reduction=self.reduction,
            delta=self.delta,
            empty=self.empty,
            sample_weight=sample_weight,
        )

    def _options(self) -> dict[str, Any]:
        return {**super()._options(), "delta": repr(self.delta)}


class SmoothL1Loss(_Loss):
    """The smooth L1 loss; see :func:`arrayloss.smooth_l1_loss`.

    Mirrors :class:`torch.nn.SmoothL1Loss`; ``beta`` is checked when constructed.
    """

    def __init__(
        self,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        beta: float = 1.0,
        *,
        empty: str = "nan",
    ) -> None:
        self.empty = validate_empty(empty)
        check_options_not_arrays(type(self).__name__, beta=beta)
        super().__init__(size_average, reduce, reduction)
        self.beta = _check_threshold("beta", beta, allow_zero=True)

    def forward(self, input: Any, target: Any, *, sample_weight: Any | None = None) -> Any:
        return smooth_l1_loss(
            input,
            target,
            reduction=self.reduction,
            beta=self.beta,
            empty=self.empty,
            sample_weight=sample_weight,
        )

    def _options(self) -> dict[str, Any]:
        return {**super()._options(), "beta": repr(self.beta)}


# --- probabilistic losses ------------------------------------------------------------------


class PoissonNLLLoss(_Loss):
    """Poisson negative log-likelihood; see :func:`arrayloss.poisson_nll_loss`.

    Mirrors :class:`torch.nn.PoissonNLLLoss`, whose ``forward`` names its first argument
    ``log_input`` (the input, whatever ``log_input`` says).

    Examples
    --------
    >>> import numpy as np
    >>> import arrayloss
    >>> loss_fn = arrayloss.PoissonNLLLoss(log_input=False, reduction="sum")
    >>> loss = loss_fn(np.array([1.0, 2.0]), np.array([1.0, 2.0]))
    >>> bool(np.isclose(loss, 3.0 - 2.0 * np.log(2.0 + 1e-8)))  # 1 - log(1) + 2 - 2 log(2)
    True
    """

    def __init__(
        self,
        log_input: bool = True,
        full: bool = False,
        size_average: bool | None = None,
        eps: float = 1e-8,
        reduce: bool | None = None,
        reduction: str = "mean",
        *,
        empty: str = "nan",
    ) -> None:
        self.empty = validate_empty(empty)
        check_options_not_arrays(type(self).__name__, log_input=log_input, full=full, eps=eps)
        check_options_not_arrays(
            type(self).__name__, size_average=size_average, reduce=reduce, reduction=reduction
        )
        super().__init__(None, None, probabilistic_reduction(size_average, reduce, reduction))
        self.log_input = log_input
        self.full = full
        self.eps = eps

    def forward(self, log_input: Any, target: Any, *, sample_weight: Any | None = None) -> Any:
        return poisson_nll_loss(
            log_input,
            target,
            log_input=self.log_input,
            full=self.full,
            eps=self.eps,
            reduction=self.reduction,
            empty=self.empty,
            sample_weight=sample_weight,
        )

    def _options(self) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if not self.log_input:
            options["log_input"] = "False"
        if self.full:
            options["full"] = "True"
        if self.eps != 1e-8:
            options["eps"] = repr(self.eps)
        return {**options, **super()._options()}


class GaussianNLLLoss(_Loss):
    """Gaussian negative log-likelihood; see :func:`arrayloss.gaussian_nll_loss`.

    Mirrors :class:`torch.nn.GaussianNLLLoss`: keyword-only options, and ``var`` is the
    third argument of the call.

    Examples
    --------
    >>> import numpy as np
    >>> import arrayloss
    >>> loss_fn = arrayloss.GaussianNLLLoss(reduction="sum")
    >>> x, y = np.zeros((2, 3)), np.ones((2, 3))
    >>> float(loss_fn(x, y, np.ones((2, 1))))  # six times (log 1 + 1) / 2
    3.0
    """

    def __init__(
        self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean", empty: str = "nan"
    ) -> None:
        self.empty = validate_empty(empty)
        check_options_not_arrays(type(self).__name__, full=full, eps=eps, reduction=reduction)
        super().__init__(None, None, probabilistic_reduction(None, None, reduction))
        self.full = full
        self.eps = eps

    def forward(
        self, input: Any, target: Any, var: Any, *, sample_weight: Any | None = None
    ) -> Any:
        return gaussian_nll_loss(
            input,
            target,
            var,
            full=self.full,
            eps=self.eps,
            reduction=self.reduction,
            empty=self.empty,
            sample_weight=sample_weight,
        )

    def _options(self) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if self.full:
            options["full"] = "True"
        if self.eps != 1e-6:
            options["eps"] = repr(self.eps)
        return {**options, **super()._options()}


# --- embedding and ranking losses ----------------------------------------------------------


class _MarginLoss(_Loss):
    """A loss with a ``margin`` option (checked to be a number when constructed)."""

    def __init__(
        self,
        margin: float,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        check_options_not_arrays(type(self).__name__, margin=margin)
        super().__init__(size_average, reduce, reduction)
        if isinstance(margin, bool) or not isinstance(margin, (int, float)):
            raise TypeError(f"`margin` must be a float; got {type(margin).__name__}")
        self.margin = margin

    def _options(self) -> dict[str, Any]:
        return {"margin": repr(self.margin), **super()._options()}


class MarginRankingLoss(_MarginLoss):
    """The ranking hinge of two scores; see :func:`arrayloss.margin_ranking_loss`.

    Mirrors :class:`torch.nn.MarginRankingLoss`.

    Examples
    --------
    >>> import numpy as np
    >>> import arrayloss
    >>> loss = arrayloss.MarginRankingLoss(margin=0.5)
    >>> float(loss(np.array([1.0, 3.0]), np.array([2.0, 1.0]), np.array([1.0, -1.0])))
    2.0
    """

    def __init__(
        self,
        margin: float = 0.0,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        *,
        empty: str = "nan",
    ) -> None:
        self.empty = validate_empty(empty)
        super().__init__(margin, size_average, reduce, reduction)

    def forward(
        self, input1: Any, input2: Any, target: Any, *, sample_weight: Any | None = None
    ) -> Any:
        return margin_ranking_loss(
            input1,
            input2,
            target,
            margin=self.margin,
            reduction=self.reduction,
            empty=self.empty,
            sample_weight=sample_weight,
        )


class HingeEmbeddingLoss(_MarginLoss):
    """The hinge embedding loss; see :func:`arrayloss.hinge_embedding_loss`.

    Mirrors :class:`torch.nn.HingeEmbeddingLoss`.
    """

    def __init__(
        self,
        margin: float = 1.0,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        *,
        empty: str = "nan",
    ) -> None:
        self.empty = validate_empty(empty)
        super().__init__(margin, size_average, reduce, reduction)

    def forward(self, input: Any, target: Any, *, sample_weight: Any | None = None) -> Any:
        return hinge_embedding_loss(
            input,
            target,
            margin=self.margin,
            reduction=self.reduction,
            empty=self.empty,
            sample_weight=sample_weight,
        )


class CosineEmbeddingLoss(_MarginLoss):
    """The cosine embedding loss; see :func:`arrayloss.cosine_embedding_loss`.

    Mirrors :class:`torch.nn.CosineEmbeddingLoss`.
    """

    def __init__(
        self,
        margin: float = 0.0,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        *,
        empty: str = "nan",
    ) -> None:
        self.empty = validate_empty(empty)
        super().__init__(margin, size_average, reduce, reduction)

    def forward(
        self, input1: Any, input2: Any, target: Any, *, sample_weight: Any | None = None
    ) -> Any:
        return cosine_embedding_loss(
            input1,
            input2,
            target,
            margin=self.margin,
            reduction=self.reduction,
            empty=self.empty,
            sample_weight=sample_weight,
        )


class TripletMarginLoss(_Loss):
    """The triplet margin loss; see :func:`arrayloss.triplet_margin_loss`.

    Mirrors :class:`torch.nn.TripletMarginLoss`; ``margin > 0`` is checked when
    constructed, as PyTorch does.
    """

    def __init__(
        self,
        margin: float = 1.0,
        p: float = 2.0,
        eps: float = 1e-6,
        swap: bool = False,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        *,
        empty: str = "nan",
    ) -> None:
        self.empty = validate_empty(empty)
        check_options_not_arrays(type(self).__name__, margin=margin, p=p, eps=eps, swap=swap)
        super().__init__(size_average, reduce, reduction)
        _check_positive_margin(margin)
        self.margin = margin
        self.p = p
        self.eps = eps
        self.swap = swap

    def forward(
        self, anchor: Any, positive: Any, negative: Any, *, sample_weight: Any | None = None
    ) -> Any:
        return triplet_margin_loss(
            anchor,
            positive,
            negative,
            margin=self.margin,
            p=self.p,
            eps=self.eps,
            swap=self.swap,
            reduction=self.reduction,
            empty=self.empty,
            sample_weight=sample_weight,
        )

    def _options(self) -> dict[str, Any]:
        options = {"margin": repr(self.margin), "p": repr(self.p), "eps": repr(self.eps)}
        if self.swap:
            options["swap"] = "True"
        return {**options, **super()._options()}


class TripletMarginWithDistanceLoss(_Loss):
    """The triplet margin loss with a distance of your choice; see
    :func:`arrayloss.triplet_margin_with_distance_loss`.

    Mirrors :class:`torch.nn.TripletMarginWithDistanceLoss`; ``margin > 0`` is checked
    when constructed. ``distance_function`` stays None for the default distance
    (PyTorch stores a ``PairwiseDistance()`` module there; the loss is the same).
    """

    def __init__(
        self,
        *,
        distance_function: Callable[[Any, Any], Any] | None = None,
        margin: float = 1.0,
        swap: bool = False,
        reduction: str = "mean",
        empty: str = "nan",
    ) -> None:
        self.empty = validate_empty(empty)
        # PyTorch's function accepts only these three ('elementwise_mean' is an error).
        if not (isinstance(reduction, str) and reduction in REDUCTIONS):
            options = ", ".join(repr(r) for r in REDUCTIONS)
            raise ValueError(f"`reduction` must be one of {options}; got {reduction!r}")
        super().__init__(reduction=reduction)
        _check_positive_margin(margin)
        if distance_function is not None and not callable(distance_function):
            raise TypeError(
                f"`distance_function` must be callable or None; got "
                f"{type(distance_function).__name__}"
            )
        self.distance_function = distance_function
        self.margin = margin
        self.swap = swap

    def forward(
        self, anchor: Any, positive: Any, negative: Any, *, sample_weight: Any | None = None
    ) -> Any:
        return triplet_margin_with_distance_loss(
            anchor,
            positive,
            negative,
            distance_function=self.distance_function,
            margin=self.margin,
            swap=self.swap,
            reduction=self.reduction,
            empty=self.empty,
            sample_weight=sample_weight,
        )

    def _options(self) -> dict[str, Any]:
        options = {"margin": repr(self.margin)}
        if self.distance_function is not None:
            name = getattr(
                self.distance_function, "__name__", type(self.distance_function).__name__
            )
            options["distance_function"] = name
        if self.swap:
            options["swap"] = "True"
        return {**options, **super()._options()}


class CTCLoss(_Loss):
    """The connectionist temporal classification loss; see :func:`arrayloss.ctc_loss`.

    Mirrors :class:`torch.nn.CTCLoss`; ``blank`` and ``reduction`` are checked when
    constructed.

    Examples
    --------
    >>> import numpy as np
    >>> import arrayloss
    >>> loss_fn = arrayloss.CTCLoss(reduction="sum")
    >>> log_probs = np.log(np.array([[[0.25, 0.75]]]))  # T=1, N=1, C=2
    >>> bool(np.isclose(loss_fn(log_probs, np.array([[1]]), [1], [1]), -np.log(0.75)))
    True
    """

    def __init__(
        self,
        blank: int = 0,
        reduction: str = "mean",
        zero_infinity: bool = False,
        *,
        empty: str = "nan",
    ) -> None:
        self.empty = validate_empty(empty)
        check_options_not_arrays(
            type(self).__name__, blank=blank, reduction=reduction, zero_infinity=zero_infinity
        )
        super().__init__(reduction=reduction)
        self.blank = _check_blank(blank)
        self.zero_infinity = zero_infinity

    def forward(
        self,
        log_probs: Any,
        targets: Any,
        input_lengths: Any,
        target_lengths: Any,
        *,
        sample_weight: Any | None = None,
    ) -> Any:
        return ctc_loss(
            log_probs,
            targets,
            input_lengths,
            target_lengths,
            blank=self.blank,
            reduction=self.reduction,
            zero_infinity=self.zero_infinity,
            empty=self.empty,
            sample_weight=sample_weight,
        )

    def _options(self) -> dict[str, Any]:
        options = {"blank": repr(self.blank), **super()._options()}
        if self.zero_infinity:
            options["zero_infinity"] = "True"
        return options
