"""The torch.nn-named loss classes: thin, explicit wrappers over the functions.

Each class has PyTorch's constructor signature; options are validated when the loss is
constructed (PyTorch only fails when it is called), and ``forward``/``__call__`` take the
arrays.
"""

from __future__ import annotations

from typing import Any

from ._binary import binary_cross_entropy, binary_cross_entropy_with_logits
from ._classification import _check_p, cross_entropy, multi_margin_loss, nll_loss
from ._ctc import _check_blank, ctc_loss
from ._divergence import KL_DIV_REDUCTIONS, kl_div
from ._margin import multilabel_soft_margin_loss, soft_margin_loss
from ._reduction import REDUCTIONS, legacy_reduction
from ._validation import check_options_not_arrays

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "CTCLoss",
    "CrossEntropyLoss",
    "KLDivLoss",
    "MultiLabelSoftMarginLoss",
    "MultiMarginLoss",
    "NLLLoss",
    "SoftMarginLoss",
]


class _Loss:
    """Base of the loss classes: holds ``reduction``, as ``torch.nn.modules.loss._Loss``."""

    reduction: str
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

    def forward(self, input: Any, target: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, input: Any, target: Any) -> Any:
        return self.forward(input, target)

    def _options(self) -> dict[str, Any]:
        # Each value as it should appear in repr.
        return {"reduction": repr(self.reduction)}

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={v}" for k, v in self._options().items())
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

    def __init__(
        self,
        weight: Any | None = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)

    def forward(self, input: Any, target: Any) -> Any:
        return binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


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

    def __init__(
        self,
        weight: Any | None = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        pos_weight: Any | None = None,
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.pos_weight = pos_weight

    def forward(self, input: Any, target: Any) -> Any:
        return binary_cross_entropy_with_logits(
            input,
            target,
            weight=self.weight,
            reduction=self.reduction,
            pos_weight=self.pos_weight,
        )

    def _options(self) -> dict[str, Any]:
        options = super()._options()
        if self.pos_weight is not None:
            options["pos_weight"] = _describe(self.pos_weight)
        return options


class NLLLoss(_WeightedLoss):
    """Negative log likelihood of class indices; see :func:`arrayloss.nll_loss`.

    Mirrors :class:`torch.nn.NLLLoss`.

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
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Any, target: Any) -> Any:
        return nll_loss(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
        )

    def _options(self) -> dict[str, Any]:
        options = super()._options()
        if self.ignore_index != -100:
            options["ignore_index"] = repr(self.ignore_index)
        return options


class CrossEntropyLoss(_WeightedLoss):
    """Cross entropy on logits; see :func:`arrayloss.cross_entropy`.

    Mirrors :class:`torch.nn.CrossEntropyLoss`.

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
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        check_options_not_arrays(
            type(self).__name__, ignore_index=ignore_index, label_smoothing=label_smoothing
        )
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Any, target: Any) -> Any:
        return cross_entropy(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )

    def _options(self) -> dict[str, Any]:
        options = super()._options()
        if self.ignore_index != -100:
            options["ignore_index"] = repr(self.ignore_index)
        if self.label_smoothing != 0.0:
            options["label_smoothing"] = repr(self.label_smoothing)
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
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input: Any, target: Any) -> Any:
        return kl_div(input, target, reduction=self.reduction, log_target=self.log_target)

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
    ) -> None:
        super().__init__(size_average, reduce, reduction)

    def forward(self, input: Any, target: Any) -> Any:
        return soft_margin_loss(input, target, reduction=self.reduction)


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
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)

    def forward(self, input: Any, target: Any) -> Any:
        return multilabel_soft_margin_loss(
            input, target, weight=self.weight, reduction=self.reduction
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
    ) -> None:
        check_options_not_arrays(type(self).__name__, p=p, margin=margin)
        super().__init__(size_average, reduce, reduction)
        _check_p(p)
        self.p = p
        self.margin = margin
        self.weight = weight

    def forward(self, input: Any, target: Any) -> Any:
        return multi_margin_loss(
            input,
            target,
            p=self.p,
            margin=self.margin,
            weight=self.weight,
            reduction=self.reduction,
        )

    def _options(self) -> dict[str, Any]:
        options = {"p": repr(self.p), "margin": repr(self.margin), **super()._options()}
        if self.weight is not None:
            options["weight"] = _describe(self.weight)
        return options


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
        self, blank: int = 0, reduction: str = "mean", zero_infinity: bool = False
    ) -> None:
        check_options_not_arrays(
            type(self).__name__, blank=blank, reduction=reduction, zero_infinity=zero_infinity
        )
        super().__init__(reduction=reduction)
        self.blank = _check_blank(blank)
        self.zero_infinity = zero_infinity

    def forward(  # type: ignore[override]
        self, log_probs: Any, targets: Any, input_lengths: Any, target_lengths: Any
    ) -> Any:
        return ctc_loss(
            log_probs,
            targets,
            input_lengths,
            target_lengths,
            blank=self.blank,
            reduction=self.reduction,
            zero_infinity=self.zero_infinity,
        )

    def __call__(  # type: ignore[override]
        self, log_probs: Any, targets: Any, input_lengths: Any, target_lengths: Any
    ) -> Any:
        return self.forward(log_probs, targets, input_lengths, target_lengths)

    def _options(self) -> dict[str, Any]:
        options = {"blank": repr(self.blank), **super()._options()}
        if self.zero_infinity:
            options["zero_infinity"] = "True"
        return options
