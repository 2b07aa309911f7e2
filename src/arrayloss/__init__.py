"""arrayloss: PyTorch's loss functions, written once against the Python array API standard.

Every loss takes arrays of one library (NumPy, PyTorch, JAX, CuPy, Dask or any array API
library) and returns an array of that library on the same device, with autograd intact.
Names, parameters and defaults mirror ``torch.nn.functional`` and ``torch.nn``.

Importing arrayloss imports no array library.
"""

from __future__ import annotations

from ._binary import binary_cross_entropy, binary_cross_entropy_with_logits
from ._classification import cross_entropy, multi_margin_loss, nll_loss
from ._contrastive import ntxent
from ._ctc import ctc_loss
from ._dispatch import fast_paths
from ._divergence import kl_div
from ._embedding import (
    cosine_embedding_loss,
    hinge_embedding_loss,
    margin_ranking_loss,
    triplet_margin_loss,
    triplet_margin_with_distance_loss,
)
from ._errors import ArrayLossIndexError, ArrayLossTypeError, ArrayLossValueError
from ._focal import poly1_cross_entropy, sigmoid_focal_loss, softmax_focal_loss
from ._generalized_kl import convex_kl_divergence, generalized_kl_divergence
from ._keras_family import (
    categorical_hinge,
    cosine_similarity_loss,
    hinge,
    log_cosh,
    mean_absolute_percentage_error,
    mean_squared_logarithmic_error,
    squared_hinge,
)
from ._labels import smooth_labels
from ._linear import linear_cross_entropy
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
    LinearCrossEntropyLoss,
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
    CategoricalHinge,
    ConvexKLDivergence,
    CosineSimilarityLoss,
    DiceLoss,
    GeneralizedKLDivergence,
    Hinge,
    LogCosh,
    MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
    MultiClassDiceLoss,
    NTXentLoss,
    Poly1CrossEntropyLoss,
    RMSELoss,
    SigmoidFocalLoss,
    SoftmaxFocalLoss,
    SquaredHinge,
    TverskyLoss,
)
from ._overlap import dice_loss, multiclass_dice_loss, tversky_loss
from ._probabilistic import gaussian_nll_loss, poisson_nll_loss
from ._regression import huber_loss, l1_loss, mse_loss, smooth_l1_loss
from ._rmse import rmse

__version__ = "0.1.0.dev0"

__all__ = [
    "ArrayLossIndexError",
    "ArrayLossTypeError",
    "ArrayLossValueError",
    "BCELoss",
    "BCEWithLogitsLoss",
    "CTCLoss",
    "CategoricalHinge",
    "ConvexKLDivergence",
    "CosineEmbeddingLoss",
    "CosineSimilarityLoss",
    "CrossEntropyLoss",
    "DiceLoss",
    "GaussianNLLLoss",
    "GeneralizedKLDivergence",
    "Hinge",
    "HingeEmbeddingLoss",
    "HuberLoss",
    "KLDivLoss",
    "L1Loss",
    "LinearCrossEntropyLoss",
    "LogCosh",
    "MSELoss",
    "MarginRankingLoss",
    "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError",
    "MultiClassDiceLoss",
    "MultiLabelMarginLoss",
    "MultiLabelSoftMarginLoss",
    "MultiMarginLoss",
    "NLLLoss",
    "NTXentLoss",
    "PoissonNLLLoss",
    "Poly1CrossEntropyLoss",
    "RMSELoss",
    "SigmoidFocalLoss",
    "SmoothL1Loss",
    "SoftMarginLoss",
    "SoftmaxFocalLoss",
    "SquaredHinge",
    "TripletMarginLoss",
    "TripletMarginWithDistanceLoss",
    "TverskyLoss",
    "__version__",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "categorical_hinge",
    "convex_kl_divergence",
    "cosine_embedding_loss",
    "cosine_similarity_loss",
    "cross_entropy",
    "ctc_loss",
    "dice_loss",
    "fast_paths",
    "gaussian_nll_loss",
    "generalized_kl_divergence",
    "hinge",
    "hinge_embedding_loss",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "linear_cross_entropy",
    "log_cosh",
    "margin_ranking_loss",
    "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error",
    "mse_loss",
    "multi_margin_loss",
    "multiclass_dice_loss",
    "multilabel_margin_loss",
    "multilabel_soft_margin_loss",
    "nll_loss",
    "ntxent",
    "poisson_nll_loss",
    "poly1_cross_entropy",
    "rmse",
    "sigmoid_focal_loss",
    "smooth_l1_loss",
    "smooth_labels",
    "soft_margin_loss",
    "softmax_focal_loss",
    "squared_hinge",
    "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
    "tversky_loss",
]
