"""arrayloss: PyTorch's loss functions, written once against the Python array API standard.

Every loss takes arrays of one library (NumPy, PyTorch, JAX, CuPy, Dask or any array API
library) and returns an array of that library on the same device, with autograd intact.
Names, parameters and defaults mirror ``torch.nn.functional`` and ``torch.nn``.

Importing arrayloss imports no array library.
"""

from __future__ import annotations

from ._binary import binary_cross_entropy, binary_cross_entropy_with_logits
from ._classification import cross_entropy, multi_margin_loss, nll_loss
from ._ctc import ctc_loss
from ._divergence import kl_div
from ._embedding import (
    cosine_embedding_loss,
    hinge_embedding_loss,
    margin_ranking_loss,
    triplet_margin_loss,
    triplet_margin_with_distance_loss,
)
from ._errors import ArrayLossIndexError, ArrayLossTypeError, ArrayLossValueError
from ._focal import sigmoid_focal_loss, softmax_focal_loss
from ._margin import multilabel_margin_loss, multilabel_soft_margin_loss, soft_margin_loss
from ._modules import (
    BCELoss,
    BCEWithLogitsLoss,
    CosineEmbeddingLoss,
    CrossEntropyLoss,
    CTCLoss,
    GaussianNLLLoss,
    HingeEmbeddingLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MarginRankingLoss,
    MSELoss,
    MultiLabelMarginLoss,
    MultiLabelSoftMarginLoss,
    MultiMarginLoss,
    NLLLoss,
    PoissonNLLLoss,
    SmoothL1Loss,
    SoftMarginLoss,
    TripletMarginLoss,
    TripletMarginWithDistanceLoss,
)
from ._modules_beyond import (
    DiceLoss,
    MultiClassDiceLoss,
    SigmoidFocalLoss,
    SoftmaxFocalLoss,
    TverskyLoss,
)
from ._overlap import dice_loss, multiclass_dice_loss, tversky_loss
from ._probabilistic import gaussian_nll_loss, poisson_nll_loss
from ._regression import huber_loss, l1_loss, mse_loss, smooth_l1_loss

__version__ = "0.1.0.dev0"

__all__ = [
    "ArrayLossIndexError",
    "ArrayLossTypeError",
    "ArrayLossValueError",
    "BCELoss",
    "BCEWithLogitsLoss",
    "CTCLoss",
    "CosineEmbeddingLoss",
    "CrossEntropyLoss",
    "DiceLoss",
    "GaussianNLLLoss",
    "HingeEmbeddingLoss",
    "HuberLoss",
    "KLDivLoss",
    "L1Loss",
    "MSELoss",
    "MarginRankingLoss",
    "MultiClassDiceLoss",
    "MultiLabelMarginLoss",
    "MultiLabelSoftMarginLoss",
    "MultiMarginLoss",
    "NLLLoss",
    "PoissonNLLLoss",
    "SigmoidFocalLoss",
    "SmoothL1Loss",
    "SoftMarginLoss",
    "SoftmaxFocalLoss",
    "TripletMarginLoss",
    "TripletMarginWithDistanceLoss",
    "TverskyLoss",
    "__version__",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cosine_embedding_loss",
    "cross_entropy",
    "ctc_loss",
    "dice_loss",
    "gaussian_nll_loss",
    "hinge_embedding_loss",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "margin_ranking_loss",
    "mse_loss",
    "multi_margin_loss",
    "multiclass_dice_loss",
    "multilabel_margin_loss",
    "multilabel_soft_margin_loss",
    "nll_loss",
    "poisson_nll_loss",
    "sigmoid_focal_loss",
    "smooth_l1_loss",
    "soft_margin_loss",
    "softmax_focal_loss",
    "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
    "tversky_loss",
]
