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
from ._errors import ArrayLossIndexError, ArrayLossTypeError, ArrayLossValueError
from ._margin import multilabel_soft_margin_loss, soft_margin_loss
from ._modules import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    CTCLoss,
    KLDivLoss,
    MultiLabelSoftMarginLoss,
    MultiMarginLoss,
    NLLLoss,
    SoftMarginLoss,
)

__version__ = "0.1.0.dev0"

__all__ = [
    "ArrayLossIndexError",
    "ArrayLossTypeError",
    "ArrayLossValueError",
    "BCELoss",
    "BCEWithLogitsLoss",
    "CTCLoss",
    "CrossEntropyLoss",
    "KLDivLoss",
    "MultiLabelSoftMarginLoss",
    "MultiMarginLoss",
    "NLLLoss",
    "SoftMarginLoss",
    "__version__",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "ctc_loss",
    "kl_div",
    "multi_margin_loss",
    "multilabel_soft_margin_loss",
    "nll_loss",
    "soft_margin_loss",
]
