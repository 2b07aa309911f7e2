"""``arrayloss.mindspore``: MindSpore 2.10's ``mindspore.nn`` loss cells, on any backend.

Each class has the name, constructor (argument order and defaults, read with
``inspect.signature`` off MindSpore 2.10.0) and call convention (``construct``'s
arguments) of the MindSpore cell, MindSpore's validation (``ValueError`` for a bad
``reduction``, ``TypeError`` for the dtypes MindSpore refuses), and computes with the
shared arrayloss kernels on the arrays it is called with: NumPy, PyTorch, JAX, Dask,
CuPy or any array API library. No formula is written twice: where MindSpore's numbers
differ from PyTorch's, the difference is passed as arguments to the kernels (``BCELoss``'s
``log(p + 1e-12)``), or stated in the class's docstring.

Importing this module imports no array library and no MindSpore.

>>> import numpy as np
>>> from arrayloss import mindspore as msl
>>> logits = np.array([1.0, 2.0, 3.0], dtype=np.float32)
>>> labels = np.array([1.0, 2.0, 2.0], dtype=np.float32)
>>> round(float(msl.RMSELoss()(logits, labels)), 6)  # MindSpore's docstring: 0.57735026
0.57735

``SampledSoftmaxLoss`` needs its ``sampled_values`` given: without them MindSpore draws
the negative classes with its own seeded sampler (``ops.UniformCandidateSampler``),
whose random stream no other library reproduces.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._binary import binary_cross_entropy_log_eps, binary_cross_entropy_with_logits
from ._classification import cross_entropy, multi_margin_loss, nll_loss
from ._ctc import ctc_loss
from ._dispatch import device_of, namespace_of
from ._divergence import kl_div
from ._embedding import (
    cosine_embedding_loss,
    hinge_embedding_loss,
    margin_ranking_loss,
    triplet_margin_loss,
    triplet_margin_with_distance_loss,
)
from ._focal import softmax_focal_loss
from ._margin import multilabel_margin_loss, multilabel_soft_margin_loss, soft_margin_loss
from ._numerics import log_softmax
from ._overlap import dice_loss, multiclass_dice_loss
from ._probabilistic import gaussian_nll_loss, poisson_nll_loss
from ._regression import huber_loss, l1_loss, mse_loss, smooth_l1_loss

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "CTCLoss",
    "CosineEmbeddingLoss",
    "CrossEntropyLoss",
    "DiceLoss",
    "FocalLoss",
    "GaussianNLLLoss",
    "HingeEmbeddingLoss",
    "HuberLoss",
    "KLDivLoss",
    "L1Loss",
    "MAELoss",
    "MSELoss",
    "MarginRankingLoss",
    "MultiClassDiceLoss",
    "MultiLabelSoftMarginLoss",
    "MultiMarginLoss",
    "MultilabelMarginLoss",
    "NLLLoss",
    "PoissonNLLLoss",
    "RMSELoss",
    "SampledSoftmaxLoss",
    "SmoothL1Loss",
    "SoftMarginLoss",
    "SoftmaxCrossEntropyWithLogits",
    "TripletMarginLoss",
    "TripletMarginWithDistanceLoss",
]

_REDUCTIONS = ("mean", "sum", "none")
_HALF_SINGLE = ("float16", "float32")


def _dtype_name(x: Any) -> str:
    return str(x.dtype).rsplit(".", 1)[-1]


class _Cell:
    """Base of the cells: MindSpore's ``LossBase`` validation of ``reduction``."""

    reduction: str
    _reductions: tuple[str, ...] = _REDUCTIONS

    def __init__(self, reduction: str = "mean") -> None:
        if not isinstance(reduction, str) or reduction not in self._reductions:
            raise ValueError(
                f"For '{type(self).__name__}', the 'reduction' must be in "
                f"{list(self._reductions)}, but got {reduction}."
            )
        self.reduction = reduction

    def construct(self, *args: Any) -> Any:
        raise NotImplementedError

    def __call__(self, *args: Any) -> Any:
        return self.construct(*args)

    def _check_dtype(self, name: str, x: Any, allowed: tuple[str, ...] = _HALF_SINGLE) -> None:
        """MindSpore's TypeError for a dtype its kernel refuses (float64 mostly)."""
        if _dtype_name(x) not in allowed:
            raise TypeError(
                f"For '{type(self).__name__}', the dtype of '{name}' must be one of "
                f"{list(allowed)}, but got {_dtype_name(x)}."
            )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(reduction={self.reduction!r})"


def _check_float(cell: str, name: str, value: object) -> float:
    """MindSpore's ``validator.check_value_type(name, value, [float])``."""
    if not isinstance(value, float):
        raise TypeError(
            f"For '{cell}', the type of '{name}' must be float, but got {type(value).__name__}."
        )
    return value


def _broadcast(logits: Any, labels: Any) -> tuple[Any, Any]:
    """MindSpore's elementwise cells broadcast ``logits`` and ``labels`` silently."""
    if tuple(logits.shape) == tuple(labels.shape):
        return logits, labels
    xp = namespace_of(logits=logits, labels=labels).xp
    a, b = xp.broadcast_arrays(logits, labels)
    return a, b


# MindSpore's BinaryCrossEntropy kernels (CPU, 2.10.0): the epsilon added to each log's
# argument and the floor of the gradient's denominator; 1e-12 as the values at p = 0
# (27.631021 = -log(1e-12)) and p = 1e-13 (27.535711 = -log(1.1e-12)) show.
_BCE_EPS = 1e-12


class BCELoss(_Cell):
    r""":class:`mindspore.nn.BCELoss`: binary cross entropy on probabilities.

    :func:`arrayloss.binary_cross_entropy` with MindSpore's logs, shifted by its
    :math:`\epsilon = 10^{-12}` instead of clamped at -100 (measured on MindSpore
    2.10.0's CPU kernel):

    .. math::

        \ell_n = -w_n \left[ y_n \log(x_n + \epsilon)
                 + (1 - y_n) \log(1 - x_n + \epsilon) \right]

    so :math:`x = 0` with label 1 costs :math:`-\log 10^{-12} \approx 27.63` (PyTorch
    100), and the gradient with respect to ``logits`` is MindSpore's,
    :math:`w_n (x_n - y_n) / \max(x_n (1 - x_n), \epsilon)` (finite at 0 and 1). Those
    with respect to ``labels`` and ``weight`` are the derivatives of the value above
    (MindSpore's: :math:`w_n (\log(1 - x_n) - \log x_n)`, infinite at 0 and 1, and 0).

    ``weight`` must have ``logits``'s shape (MindSpore's documented requirement; its CPU
    kernel silently zeroes the other rows of a smaller weight): ``ValueError``
    otherwise. float16, float32 and bfloat16 only.

    Difference: float16 is computed in float32 and rounded once. MindSpore's CPU kernel
    computes in float16, where :math:`10^{-12}` rounds to 0: at :math:`x` exactly 0 or
    1 its loss is inf (NaN where the label makes it :math:`0 \cdot \infty`) and its
    gradient inf or NaN; this cell gives the finite float32 values.
    """

    def __init__(self, weight: Any | None = None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.weight = weight

    def construct(self, logits: Any, labels: Any) -> Any:
        self._check_dtype("logits", logits, ("float16", "float32", "bfloat16"))
        if self.weight is not None and tuple(self.weight.shape) != tuple(logits.shape):
            raise ValueError(
                f"For 'BCELoss', the shape of 'weight' must be the shape of 'logits' "
                f"{tuple(logits.shape)}, but got {tuple(self.weight.shape)}."
            )
        return binary_cross_entropy_log_eps(
            logits, labels, self.weight, reduction=self.reduction, log_eps=_BCE_EPS
        )


class BCEWithLogitsLoss(_Cell):
    """:class:`mindspore.nn.BCEWithLogitsLoss`: :func:`arrayloss.binary_cross_entropy_with_logits`.

    ``weight`` and ``pos_weight`` broadcast to ``input``'s shape; float16, float32 and
    bfloat16 only. Same numbers as MindSpore.
    """

    def __init__(
        self, reduction: str = "mean", weight: Any | None = None, pos_weight: Any | None = None
    ) -> None:
        super().__init__(reduction)
        self.weight = weight
        self.pos_weight = pos_weight

    def construct(self, input: Any, target: Any) -> Any:
        self._check_dtype("input", input, ("float16", "float32", "bfloat16"))
        return binary_cross_entropy_with_logits(
            input, target, self.weight, reduction=self.reduction, pos_weight=self.pos_weight
        )


class CrossEntropyLoss(_Cell):
    """:class:`mindspore.nn.CrossEntropyLoss`: :func:`arrayloss.cross_entropy`.

    Class indices (integer ``labels``) or class probabilities (floating); ``logits``
    float16 or float32 only. Same numbers as MindSpore.
    """

    def __init__(
        self,
        weight: Any | None = None,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(reduction)
        self.weight = weight
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def construct(self, logits: Any, labels: Any) -> Any:
        self._check_dtype("logits", logits)
        return cross_entropy(
            logits,
            labels,
            self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class NLLLoss(_Cell):
    """:class:`mindspore.nn.NLLLoss`: :func:`arrayloss.nll_loss`. Same numbers."""

    def __init__(
        self, weight: Any | None = None, ignore_index: int = -100, reduction: str = "mean"
    ) -> None:
        super().__init__(reduction)
        self.weight = weight
        self.ignore_index = ignore_index

    def construct(self, logits: Any, labels: Any) -> Any:
        return nll_loss(
            logits, labels, self.weight, ignore_index=self.ignore_index, reduction=self.reduction
        )


class KLDivLoss(_Cell):
    """:class:`mindspore.nn.KLDivLoss`: :func:`arrayloss.kl_div` (``log_target=False``).

    ``reduction`` also takes ``'batchmean'``. ``'mean'`` averages over every element,
    as MindSpore; arrayloss's function warns there (PyTorch's warning) and MindSpore
    does not, so the warning is silenced here.
    """

    _reductions = ("mean", "sum", "none", "batchmean")

    def construct(self, logits: Any, labels: Any) -> Any:
        import warnings

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "reduction: 'mean' divides", UserWarning)
            return kl_div(logits, labels, reduction=self.reduction)


class L1Loss(_Cell):
    """:class:`mindspore.nn.L1Loss`: :func:`arrayloss.l1_loss`; shapes broadcast."""

    def construct(self, logits: Any, labels: Any) -> Any:
        return l1_loss(*_broadcast(logits, labels), reduction=self.reduction)


class MAELoss(_Cell):
    """:class:`mindspore.nn.MAELoss`: MindSpore's other name of ``L1Loss``."""

    def construct(self, logits: Any, label: Any) -> Any:
        return l1_loss(*_broadcast(logits, label), reduction=self.reduction)


class MSELoss(_Cell):
    """:class:`mindspore.nn.MSELoss`: :func:`arrayloss.mse_loss`; shapes broadcast."""

    def construct(self, logits: Any, labels: Any) -> Any:
        return mse_loss(*_broadcast(logits, labels), reduction=self.reduction)


class RMSELoss(_Cell):
    """:class:`mindspore.nn.RMSELoss`: :math:`\\sqrt{\\operatorname{mean}((x - y)^2)}`.

    ``sqrt(mse_loss(logits, label))`` with the array library's own ``sqrt`` (to switch
    to arrayloss's ``rmse`` kernel once it lands). Shapes broadcast; unsigned integer
    dtypes raise ``TypeError`` as in MindSpore.
    """

    def __init__(self) -> None:
        super().__init__("mean")

    def construct(self, logits: Any, label: Any) -> Any:
        for name, x in (("logits", logits), ("label", label)):
            if _dtype_name(x).startswith("uint"):
                raise TypeError(
                    f"For 'RMSELoss', the parameters data type must not be unsigned, "
                    f"but got {_dtype_name(x)} for '{name}'."
                )
        xp = namespace_of(logits=logits, label=label).xp
        return xp.sqrt(mse_loss(*_broadcast(logits, label)))

    def __repr__(self) -> str:
        return "RMSELoss()"


class HuberLoss(_Cell):
    """:class:`mindspore.nn.HuberLoss`: :func:`arrayloss.huber_loss`. Same numbers."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        self.delta = delta

    def construct(self, logits: Any, labels: Any) -> Any:
        return huber_loss(logits, labels, reduction=self.reduction, delta=self.delta)


class SmoothL1Loss(_Cell):
    """:class:`mindspore.nn.SmoothL1Loss`: :func:`arrayloss.smooth_l1_loss`.

    MindSpore's default ``reduction`` is ``'none'`` (PyTorch's: ``'mean'``).
    """

    def __init__(self, beta: float = 1.0, reduction: str = "none") -> None:
        super().__init__(reduction)
        self.beta = beta

    def construct(self, logits: Any, labels: Any) -> Any:
        return smooth_l1_loss(logits, labels, reduction=self.reduction, beta=self.beta)


class SoftMarginLoss(_Cell):
    """:class:`mindspore.nn.SoftMarginLoss`: :func:`arrayloss.soft_margin_loss`.

    MindSpore 2.10.0 has no CPU kernel for it; its documented formula is PyTorch's.
    """

    def construct(self, logits: Any, labels: Any) -> Any:
        return soft_margin_loss(logits, labels, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_Cell):
    """:class:`mindspore.nn.MultiLabelSoftMarginLoss`: :func:`arrayloss.multilabel_soft_margin_loss`."""

    def __init__(self, weight: Any | None = None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.weight = weight

    def construct(self, x: Any, target: Any) -> Any:
        return multilabel_soft_margin_loss(x, target, self.weight, reduction=self.reduction)


class MultiMarginLoss(_Cell):
    """:class:`mindspore.nn.MultiMarginLoss`: :func:`arrayloss.multi_margin_loss`.

    ``weight`` is taken when constructed or when called (the constructor's wins, as in
    MindSpore). MindSpore takes int64 targets only; this cell any integer dtype.
    """

    def __init__(
        self, p: int = 1, margin: float = 1.0, reduction: str = "mean", weight: Any | None = None
    ) -> None:
        super().__init__(reduction)
        if p not in (1, 2) or isinstance(p, bool):
            raise ValueError(f"For 'MultiMarginLoss', 'p' must be 1 or 2, but got {p}.")
        self.p = p
        self.margin = margin
        self.weight = weight

    def construct(self, x: Any, target: Any, weight: Any | None = None) -> Any:
        w = self.weight if self.weight is not None else weight
        return multi_margin_loss(
            x, target, p=self.p, margin=self.margin, weight=w, reduction=self.reduction
        )


class MultilabelMarginLoss(_Cell):
    """:class:`mindspore.nn.MultilabelMarginLoss`: :func:`arrayloss.multilabel_margin_loss`.

    Returns the loss, as MindSpore's cell (its primitive ``ops.MultilabelMarginLoss``
    returns a pair ``(loss, is_target)``; the cell drops ``is_target``). MindSpore
    2.10.0 has no CPU kernel for it.
    """

    def construct(self, x: Any, target: Any) -> Any:
        return multilabel_margin_loss(x, target, reduction=self.reduction)


class HingeEmbeddingLoss(_Cell):
    """:class:`mindspore.nn.HingeEmbeddingLoss`: :func:`arrayloss.hinge_embedding_loss`."""

    def __init__(self, margin: float = 1.0, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.margin = margin

    def construct(self, logits: Any, labels: Any) -> Any:
        return hinge_embedding_loss(logits, labels, margin=self.margin, reduction=self.reduction)


class CosineEmbeddingLoss(_Cell):
    """:class:`mindspore.nn.CosineEmbeddingLoss`: :func:`arrayloss.cosine_embedding_loss`.

    ``margin`` must be a float (``TypeError``) in [-1, 1] (``ValueError``), as MindSpore.
    """

    def __init__(self, margin: float = 0.0, reduction: str = "mean") -> None:
        super().__init__(reduction)
        margin = _check_float("CosineEmbeddingLoss", "margin", margin)
        if not -1.0 <= margin <= 1.0:
            raise ValueError(
                f"For 'CosineEmbeddingLoss', the 'margin' must be in [-1.0, 1.0], but got {margin}."
            )
        self.margin = margin

    def construct(self, logits_x1: Any, logits_x2: Any, labels: Any) -> Any:
        return cosine_embedding_loss(
            logits_x1, logits_x2, labels, margin=self.margin, reduction=self.reduction
        )


class MarginRankingLoss(_Cell):
    """:class:`mindspore.nn.MarginRankingLoss`: :func:`arrayloss.margin_ranking_loss`."""

    def __init__(self, margin: float = 0.0, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.margin = margin

    def construct(self, input1: Any, input2: Any, target: Any) -> Any:
        return margin_ranking_loss(
            input1, input2, target, margin=self.margin, reduction=self.reduction
        )


class TripletMarginLoss(_Cell):
    """:class:`mindspore.nn.TripletMarginLoss`: :func:`arrayloss.triplet_margin_loss`.

    ``margin`` is also taken when called; the constructor's wins unless it is 1.0 (as
    MindSpore's ``construct``). MindSpore 2.10.0 has no CPU kernel for it.
    """

    def __init__(
        self,
        p: int = 2,
        swap: bool = False,
        eps: float = 1e-06,
        reduction: str = "mean",
        margin: float = 1.0,
    ) -> None:
        super().__init__(reduction)
        self.p = p
        self.swap = swap
        self.eps = eps
        self.margin = margin

    def construct(self, x: Any, positive: Any, negative: Any, margin: float = 1.0) -> Any:
        m = self.margin if self.margin != 1.0 else margin
        return triplet_margin_loss(
            x,
            positive,
            negative,
            margin=m,
            p=self.p,
            eps=self.eps,
            swap=self.swap,
            reduction=self.reduction,
        )


class TripletMarginWithDistanceLoss(_Cell):
    """:class:`mindspore.nn.TripletMarginWithDistanceLoss`:
    :func:`arrayloss.triplet_margin_with_distance_loss`.

    ``margin`` must be a float. With the default distance (pairwise L2) the inputs must
    be float16 or float32 (MindSpore's ``LpNorm``).
    """

    def __init__(
        self,
        distance_function: Callable[[Any, Any], Any] | None = None,
        swap: bool = False,
        reduction: str = "mean",
        margin: float = 1.0,
    ) -> None:
        super().__init__(reduction)
        self.margin = _check_float("TripletMarginWithDistanceLoss", "margin", margin)
        if not isinstance(swap, bool):
            raise TypeError(
                "For 'TripletMarginWithDistanceLoss', the type of 'swap' must be bool, "
                f"but got {type(swap).__name__}."
            )
        self.distance_function = distance_function
        self.swap = swap

    def construct(self, x: Any, positive: Any, negative: Any) -> Any:
        if self.distance_function is None:
            self._check_dtype("x", x)
        return triplet_margin_with_distance_loss(
            x,
            positive,
            negative,
            distance_function=self.distance_function,
            margin=self.margin,
            swap=self.swap,
            reduction=self.reduction,
        )


class PoissonNLLLoss(_Cell):
    """:class:`mindspore.nn.PoissonNLLLoss`: :func:`arrayloss.poisson_nll_loss`."""

    def __init__(
        self,
        log_input: bool = True,
        full: bool = False,
        eps: float = 1e-08,
        reduction: str = "mean",
    ) -> None:
        super().__init__(reduction)
        self.log_input = log_input
        self.full = full
        self.eps = eps

    def construct(self, input: Any, target: Any) -> Any:
        return poisson_nll_loss(
            input,
            target,
            log_input=self.log_input,
            full=self.full,
            eps=self.eps,
            reduction=self.reduction,
        )


class GaussianNLLLoss(_Cell):
    """:class:`mindspore.nn.GaussianNLLLoss`: :func:`arrayloss.gaussian_nll_loss`."""

    def __init__(self, *, full: bool = False, eps: float = 1e-06, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.full = full
        self.eps = eps

    def construct(self, logits: Any, labels: Any, var: Any) -> Any:
        return gaussian_nll_loss(
            logits, labels, var, full=self.full, eps=self.eps, reduction=self.reduction
        )


class CTCLoss(_Cell):
    """:class:`mindspore.nn.CTCLoss`: :func:`arrayloss.ctc_loss`."""

    def __init__(
        self, blank: int = 0, reduction: str = "mean", zero_infinity: bool = False
    ) -> None:
        super().__init__(reduction)
        self.blank = blank
        self.zero_infinity = zero_infinity

    def construct(
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


class SoftmaxCrossEntropyWithLogits(_Cell):
    """:class:`mindspore.nn.SoftmaxCrossEntropyWithLogits`: :func:`arrayloss.cross_entropy`.

    ``sparse=True``: ``labels`` are class indices ``(N,)``; ``sparse=False``: one-hot or
    probability labels ``(N, C)`` of ``logits``'s dtype (``TypeError`` otherwise, as
    MindSpore). Default ``reduction`` ``'none'``. ``logits`` float16 or float32 (with
    ``sparse=True``, float32, except for ``reduction='mean'``: MindSpore's one-hot
    labels are float32 and must match).
    """

    def __init__(self, sparse: bool = False, reduction: str = "none") -> None:
        super().__init__(reduction)
        if not isinstance(sparse, bool):
            raise TypeError(
                "For 'SoftmaxCrossEntropyWithLogits', the type of 'sparse' must be bool, "
                f"but got {type(sparse).__name__}."
            )
        self.sparse = sparse

    def construct(self, logits: Any, labels: Any) -> Any:
        if self.sparse and self.reduction != "mean":
            self._check_dtype("logits", logits, ("float32",))
        else:
            self._check_dtype("logits", logits)
        if not self.sparse and _dtype_name(labels) != _dtype_name(logits):
            raise TypeError(
                "For 'SoftmaxCrossEntropyWithLogits', the dtype of 'labels' must be the "
                f"dtype of 'logits' {_dtype_name(logits)}, but got {_dtype_name(labels)}."
            )
        return cross_entropy(logits, labels, reduction=self.reduction)


class FocalLoss(_Cell):
    """:class:`mindspore.nn.FocalLoss`: :func:`arrayloss.softmax_focal_loss` with ``alpha``.

    ``logits`` ``(N, C)`` or ``(N, C, H[, W])`` and ``labels`` of the same rank, with
    ``labels.shape[1]`` 1 (class indices, any dtype, cast to integers) or C (one-hot or
    probabilities). MindSpore averages over the spatial positions per sample and, with
    one-hot labels, also over the classes; this is expressed with the kernel's
    ``alpha`` (1 / C, 1 / positions) and ``'none'`` by a mean over the spatial axes
    (with one-hot labels, one kernel call per class gives MindSpore's ``(N, C)``).
    ``gamma`` must be a float, ``weight`` 1-D.
    """

    def __init__(
        self, weight: Any | None = None, gamma: float = 2.0, reduction: str = "mean"
    ) -> None:
        super().__init__(reduction)
        self.gamma = _check_float("FocalLoss", "gamma", gamma)
        if weight is not None and getattr(weight, "ndim", None) != 1:
            raise ValueError(
                f"For 'FocalLoss', the dimension of 'weight' must be 1, but got "
                f"{getattr(weight, 'ndim', type(weight).__name__)}."
            )
        self.weight = weight

    def construct(self, logits: Any, labels: Any) -> Any:
        if not 2 <= logits.ndim <= 4 or not 2 <= labels.ndim <= 4 or logits.ndim != labels.ndim:
            raise ValueError(
                "For 'FocalLoss', the dimensions of 'logits' and 'labels' must be equal and "
                f"in [2, 4], but got {logits.ndim} and {labels.ndim}."
            )
        c = logits.shape[1]
        if c == 1 or labels.shape[1] not in (1, c):
            raise ValueError(
                f"For 'FocalLoss', 'labels'.shape[1] must be one or equal to "
                f"'logits'.shape[1]: {c}, but got {labels.shape[1]}."
            )
        xp = namespace_of(logits=logits, labels=labels, weight=self.weight).xp
        spatial = tuple(range(1, logits.ndim - 1))  # of the loss without the class axis
        positions = 1
        for d in logits.shape[2:]:
            positions *= d

        def focal(target: Any, weight: Any, alpha: float, reduction: str) -> Any:
            return softmax_focal_loss(
                logits, target, weight=weight, alpha=alpha, gamma=self.gamma, reduction=reduction
            )

        if labels.shape[1] == 1:
            target = xp.astype(labels[:, 0, ...], xp.int64)
            if self.reduction == "none":
                loss = focal(target, self.weight, 1.0, "none")
                return xp.mean(loss, axis=spatial) if spatial else loss
            return focal(
                target,
                self.weight,
                1.0 / positions if self.reduction == "sum" else 1.0,
                self.reduction,
            )
        target = xp.astype(labels, logits.dtype)
        if self.reduction == "mean":
            return focal(target, self.weight, 1.0 / c, "mean")
        if self.reduction == "sum":
            return focal(target, self.weight, 1.0 / positions, "sum")
        eye = xp.eye(c, dtype=logits.dtype)
        ones = xp.ones(c, dtype=logits.dtype) if self.weight is None else self.weight
        per_class = [focal(target, ones * eye[k, :], 1.0, "none") for k in range(c)]
        loss = xp.stack(per_class, axis=1)  # (N, C, ...)
        return xp.mean(loss, axis=tuple(a + 1 for a in spatial)) if spatial else loss


class DiceLoss(_Cell):
    """:class:`mindspore.nn.DiceLoss`: ``dice_loss(x, y, squared=True, batch=True,
    smooth_dr=smooth)``, one ratio over all elements.

    ``smooth`` must be a positive float; ``logits`` and ``label`` of one shape
    (``ValueError``). Returns a 0-d array.
    """

    def __init__(self, smooth: float = 1e-05) -> None:
        super().__init__("mean")
        smooth = _check_float("DiceLoss", "smooth", smooth)
        if not smooth > 0:
            raise ValueError(
                f"For 'DiceLoss', 'smooth' must be a positive float, but got {smooth}."
            )
        self.smooth = smooth

    def construct(self, logits: Any, label: Any) -> Any:
        if tuple(logits.shape) != tuple(label.shape):
            raise ValueError(
                f"For 'DiceLoss', 'logits_shape' {tuple(logits.shape)} must be equal to "
                f"'label_shape' {tuple(label.shape)}."
            )
        if _dtype_name(logits) == "uint8" or _dtype_name(label) == "uint8":
            raise TypeError("For 'DiceLoss', the dtype of 'logits' and 'labels' can not be uint8.")
        if logits.ndim == 0:  # the kernel wants a batch axis; MindSpore flattens anyway
            xp = namespace_of(logits=logits, label=label).xp
            logits, label = xp.reshape(logits, (1,)), xp.reshape(label, (1,))
        return dice_loss(logits, label, squared=True, batch=True, smooth_dr=self.smooth)

    def __repr__(self) -> str:
        return f"DiceLoss(smooth={self.smooth!r})"


_ACTIVATIONS = ("softmax", "logsoftmax", "relu", "relu6", "tanh", "sigmoid")


def _activation(xp: Any, name: str, x: Any) -> Any:
    """MindSpore's ``get_activation(name)`` cells (softmax and logsoftmax on axis -1)."""
    if name == "softmax":
        return xp.exp(log_softmax(xp, x, -1))
    if name == "logsoftmax":
        return log_softmax(xp, x, -1)
    if name == "relu":
        return xp.maximum(x, xp.zeros_like(x))
    if name == "relu6":
        return xp.clip(x, 0.0, 6.0)
    if name == "tanh":
        return xp.tanh(x)
    return 1 / (1 + xp.exp(-x))  # sigmoid


class MultiClassDiceLoss(_Cell):
    """:class:`mindspore.nn.MultiClassDiceLoss`: :func:`arrayloss.multiclass_dice_loss`.

    ``logits`` and ``label`` ``(N, C, ...)`` of one shape (one-hot labels). The
    activation (a name of ``'softmax'``, ``'logsoftmax'``, ``'relu'``, ``'relu6'``,
    ``'tanh'``, ``'sigmoid'``, a callable, or None) is applied on the **last** axis as
    MindSpore's (``nn.Softmax()``'s axis is -1: the classes only for 2-D inputs), then
    ``multiclass_dice_loss(p, label, weight=w, softmax=False, squared=True, batch=True,
    smooth_dr=1e-5)``. MindSpore divides by C with ``ignore_indiex`` left out of the
    sum: that is ``weight`` 0 for that class and no ``ignore_index``. ``weights`` is
    MindSpore's ``(C, D)``: the result then has shape ``(D,)``, one kernel call per
    column.
    """

    def __init__(
        self,
        weights: Any | None = None,
        ignore_indiex: int | None = None,
        activation: str | Callable[[Any], Any] | None = "softmax",
    ) -> None:
        super().__init__("mean")
        if weights is not None and getattr(weights, "ndim", None) != 2:
            raise ValueError(
                f"For 'MultiClassDiceLoss', the dimension of 'weights' must be 2, but got "
                f"{getattr(weights, 'ndim', type(weights).__name__)}."
            )
        if ignore_indiex is not None and (
            not isinstance(ignore_indiex, int) or isinstance(ignore_indiex, bool)
        ):
            raise TypeError(
                "For 'MultiClassDiceLoss', the type of 'ignore_indiex' must be int, "
                f"but got {type(ignore_indiex).__name__}."
            )
        if isinstance(activation, str) and activation not in _ACTIVATIONS:
            raise ValueError(
                f"For 'MultiClassDiceLoss', the 'activation' must be in {list(_ACTIVATIONS)}, "
                f"but got {activation}."
            )
        if activation is not None and not isinstance(activation, str) and not callable(activation):
            raise TypeError(
                "For 'MultiClassDiceLoss', the 'activation' must be str or Cell, "
                f"but got {type(activation)}."
            )
        self.weights = weights
        self.ignore_indiex = ignore_indiex
        self.activation = activation

    def construct(self, logits: Any, label: Any) -> Any:
        if tuple(logits.shape) != tuple(label.shape):
            raise ValueError(
                f"For 'MultiClassDiceLoss', 'logits_shape' {tuple(logits.shape)} must be "
                f"equal to 'label_shape' {tuple(label.shape)}."
            )
        if logits.ndim < 2:
            raise ValueError(
                "For 'MultiClassDiceLoss', the 'logits' dimension must be greater than 1, "
                f"but got {logits.ndim}."
            )
        xp = namespace_of(logits=logits, label=label, weights=self.weights).xp
        c = label.shape[1]
        if self.weights is not None and self.weights.shape[0] != c:
            raise ValueError(
                "For 'MultiClassDiceLoss', the weight_shape[0] must be equal to "
                f"label_shape[1], but got {self.weights.shape[0]} and {c}."
            )
        p = logits
        if isinstance(self.activation, str):
            p = _activation(xp, self.activation, logits)
        elif self.activation is not None:
            p = self.activation(logits)
        keep = xp.ones(c, dtype=p.dtype)
        if self.ignore_indiex is not None and 0 <= self.ignore_indiex < c:
            keep = xp.where(xp.arange(c) == self.ignore_indiex, xp.zeros_like(keep), keep)

        def dice(weight: Any) -> Any:
            return multiclass_dice_loss(
                p, label, weight=weight, softmax=False, squared=True, batch=True, smooth_dr=1e-5
            )

        if self.weights is None:
            return dice(keep)
        w = xp.astype(self.weights, p.dtype)
        return xp.stack([dice(keep * w[:, d]) for d in range(w.shape[1])])

    def __repr__(self) -> str:
        return (
            f"MultiClassDiceLoss(ignore_indiex={self.ignore_indiex!r}, "
            f"activation={self.activation!r})"
        )


# MindSpore's SampledSoftmaxLoss._softmax_cross_entropy: -sum(t * log(softmax + 1e-20)),
# so that a true class whose probability underflows costs at most -log(1e-20) = 46.0517
# (MindSpore's docstring example shows it). In float16 the 1e-20 rounds to 0.
_SAMPLED_EPS = 1e-20


def _sampled_values_as(xp: Any, logits: Any, name: str, value: Any) -> Any:
    """``value`` as an array of the inputs' library: used as it is when it is one; any
    other array or Python sequence (NumPy, a MindSpore tensor, a list) is copied with
    ``xp.asarray`` onto ``logits``'s device (sampled values are not differentiated)."""
    try:
        namespace_of(logits=logits, **{name: value})
        if hasattr(value, "shape"):
            return value
    except TypeError:
        pass
    try:
        return xp.asarray(value, device=device_of(logits))
    except Exception as exc:
        raise TypeError(
            f"For 'SampledSoftmaxLoss', '{name}' (of 'sampled_values') could not be made an "
            f"array of the inputs' library ({type(exc).__name__}: {exc}); pass NumPy arrays "
            "or arrays of that library."
        ) from exc


def _sampled_logits(
    xp: Any, weights: Any, biases: Any, labels: Any, logits: Any, num_true: int, values: Any
) -> tuple[Any, Any]:
    """MindSpore's ``_compute_sampled_logits`` (``subtract_log_q=True``): the logits of the
    true then the sampled classes, ``(N, num_true + num_sampled)``, less the log expected
    counts, and the labels ``1 / num_true`` on the true columns, 0 on the sampled ones."""
    sampled, true_expected, sampled_expected = values
    labels = xp.reshape(labels, (-1, num_true))
    n = labels.shape[0]
    dim = weights.shape[1]
    flat = xp.reshape(labels, (-1,))
    sampled = xp.reshape(sampled, (-1,))
    true_w = xp.reshape(xp.take(weights, flat, axis=0), (n, num_true, dim))
    true_logits = xp.sum(xp.expand_dims(logits, axis=1) * true_w, axis=2)
    true_logits = true_logits + xp.reshape(xp.take(biases, flat, axis=0), (n, num_true))
    sampled_logits = logits @ xp.matrix_transpose(xp.take(weights, sampled, axis=0))
    sampled_logits = sampled_logits + xp.take(biases, sampled, axis=0)
    true_logits = true_logits - xp.log(xp.astype(true_expected, true_logits.dtype))
    sampled_logits = sampled_logits - xp.log(xp.astype(sampled_expected, true_logits.dtype))
    out = xp.concat((true_logits, sampled_logits), axis=1)
    target = xp.concat(
        (xp.ones_like(true_logits) / num_true, xp.zeros_like(sampled_logits)), axis=1
    )
    return out, target


class SampledSoftmaxLoss(_Cell):
    r""":class:`mindspore.nn.SampledSoftmaxLoss`, with the sampled classes given.

    ``construct(weights, biases, labels, logits)``: ``weights`` ``(C, dim)``, ``biases``
    ``(C,)``, ``labels`` ``(N, num_true)`` (or ``(N * num_true,)``) int32 or int64
    (``TypeError`` otherwise, as MindSpore), ``logits`` ``(N, dim)`` (the activations).
    ``sampled_values`` ``(sampled_candidates, true_expected_count,
    sampled_expected_count)``: the ``num_sampled`` negative classes ``(S,)``, the
    expected counts of the true classes ``(N, 1)`` or ``(N, num_true)`` and of the sampled
    ones ``(S,)``, as ``mindspore.ops.UniformCandidateSampler`` (or any candidate sampler)
    returns them. With ``z`` the logits of the true then the sampled classes, each less
    the log of its expected count, and ``t`` ``1 / num_true`` on the true columns:

    .. math::

        \ell_n = -\sum_j t_{n,j} \log(\mathrm{softmax}(z_n)_j + 10^{-20})

    MindSpore's form (not a log-softmax: a true class of probability under 1e-20 costs
    46.0517, as in MindSpore's docstring example), computed here from the shared
    log-softmax. As MindSpore 2.10.0 (read off its ``construct`` and measured):

    * the loss is always ``(N,)``: ``reduction`` is validated but not applied;
    * ``remove_accidental_hits`` is not applied to given ``sampled_values`` (MindSpore
      passes it only to its own sampler): a sampled class equal to a true label keeps
      its logit;
    * ``num_sampled``, ``num_classes`` and ``seed`` are only validated.

    ``sampled_values=None`` raises ``ValueError``: MindSpore would draw them with its own
    seeded sampler, whose random stream cannot be reproduced. Arrays of the inputs'
    library are used as they are; NumPy arrays, Python lists and other arrays are
    copied to the inputs' library and device (MindSpore itself takes only its tensors).
    """

    def __init__(
        self,
        num_sampled: int,
        num_classes: int,
        num_true: int = 1,
        sampled_values: Any = None,
        remove_accidental_hits: bool = True,
        seed: int = 0,
        reduction: str = "none",
    ) -> None:
        super().__init__(reduction)
        cell = "SampledSoftmaxLoss"
        if num_true < 1:
            raise ValueError(
                f"For '{cell}', the 'num_true' must be greater than or equal to 1, "
                f"but got {num_true}."
            )
        if seed < 0:
            raise ValueError(
                f"For '{cell}', the 'seed' must be greater than or equal to 0, but got {seed}."
            )
        if num_sampled > num_classes:
            raise ValueError(
                f"For '{cell}', the 'num_sampled' must be smaller than or equal to "
                f"'num_classes', but got 'num_sampled': {num_sampled} and 'num_classes': "
                f"{num_classes}."
            )
        if num_true > num_classes:
            raise ValueError(
                f"For '{cell}', the 'num_true' must be smaller than or equal to "
                f"'num_classes', but got 'num_true': {num_true} amd 'num_classes': "
                f"{num_classes}."
            )
        if sampled_values is None:
            raise ValueError(
                f"For '{cell}', 'sampled_values' must be given: without it MindSpore draws "
                "the negative classes with its own seeded UniformCandidateSampler, whose "
                "random stream cannot be reproduced outside MindSpore. Pass "
                "(sampled_candidates, true_expected_count, sampled_expected_count), e.g. "
                "mindspore.ops.UniformCandidateSampler(num_true, num_sampled, True, "
                "num_classes, seed)(labels) converted to NumPy, or any sampler's."
            )
        if not isinstance(sampled_values, (list, tuple)):
            raise TypeError(
                f"For '{cell}', the type of 'sampled_values' must be a list or tuple, "
                f"but got {type(sampled_values).__name__}."
            )
        if len(sampled_values) != 3:
            raise ValueError(
                f"For '{cell}', the length of 'sampled_values' must be equal to 3,"
                f"but got {len(sampled_values)}."
            )
        self.num_sampled = num_sampled
        self.num_classes = num_classes
        self.num_true = num_true
        self.sampled_values = tuple(sampled_values)
        self.remove_accidental_hits = remove_accidental_hits
        self.seed = seed

    def construct(self, weights: Any, biases: Any, labels: Any, logits: Any) -> Any:
        xp = namespace_of(weights=weights, biases=biases, labels=labels, logits=logits).xp
        if _dtype_name(labels) not in ("int32", "int64"):
            raise TypeError(
                "For 'SampledSoftmaxLoss', the 'labels' should be one of "
                f"['int32', 'int64'], but got '{_dtype_name(labels)}'."
            )
        names = ("sampled_candidates", "true_expected_count", "sampled_expected_count")
        values = [
            _sampled_values_as(xp, logits, name, v)
            for name, v in zip(names, self.sampled_values, strict=True)
        ]
        z, t = _sampled_logits(xp, weights, biases, labels, logits, self.num_true, values)
        # MindSpore's _softmax_cross_entropy as written: exp(z - max), normalized, with
        # the maximum differentiated (not held constant as in arrayloss's log_softmax).
        # The same values up to rounding; the gradient is MindSpore's also where float16's
        # softmax underflows to 0 (log(0 + 1e-20) is -inf there): NaN, not +-inf.
        stable = xp.exp(z - xp.max(z, axis=1, keepdims=True))
        p = stable / xp.sum(stable, axis=1, keepdims=True)
        return -xp.sum(t * xp.log(p + _SAMPLED_EPS), axis=1)

    def __repr__(self) -> str:
        return (
            f"SampledSoftmaxLoss(num_sampled={self.num_sampled!r}, "
            f"num_classes={self.num_classes!r}, num_true={self.num_true!r})"
        )
