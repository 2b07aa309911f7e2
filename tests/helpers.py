"""Helpers shared by the tests: PyTorch as the reference, and one comparison."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from conformance.backends import Backend

REDUCTIONS = ("none", "mean", "sum")

#: The lowercase public names of arrayloss that are not losses.
NOT_LOSSES = frozenset({"fast_paths", "smooth_labels"})


def loss_functions() -> set[str]:
    """The names of arrayloss's loss functions (its lowercase public names but
    :data:`NOT_LOSSES`)."""
    import arrayloss

    return {
        n
        for n in arrayloss.__all__
        if n[0].islower() and not n.startswith("_") and n not in NOT_LOSSES
    }


# Relative tolerance per dtype, about 8 ulps of the dtype (bfloat16: 8 bits of mantissa).
RTOL = {"float64": 1e-13, "float32": 1e-5, "float16": 8e-3, "bfloat16": 4e-2}


def assert_matches(backend: Backend, result: Any, expected: np.ndarray, dtype: str) -> None:
    """``result`` is an array of ``backend`` with ``dtype`` and the values ``expected``."""
    assert type(result) is type(backend.asarray(np.zeros(1), dtype)), type(result)
    assert backend.dtype_name(result) == dtype
    actual = backend.to_numpy(result).astype(np.float64)
    assert actual.shape == expected.shape
    scale = max(1.0, float(np.max(np.abs(expected[np.isfinite(expected)]), initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=RTOL[dtype], atol=RTOL[dtype] * scale)


def torch_loss(name: str, *arrays: Any, dtype: str = "float64", **kwargs: Any) -> Any:
    """PyTorch's own result: ``torch.nn.functional.<name>`` on the same data.

    Arrays are NumPy (or None); the result is a float64 NumPy array (or the exception
    PyTorch raised, re-raised). Legacy-argument warnings are silenced.
    """
    import torch
    import torch.nn.functional as F

    def to_torch(a: Any) -> Any:
        if a is None:
            return None
        if np.asarray(a).dtype.kind in "iu":  # class indices stay integers
            return torch.tensor(np.asarray(a, dtype=np.int64))
        t = torch.tensor(np.asarray(a, dtype="float32" if dtype == "bfloat16" else dtype))
        return t.to(torch.bfloat16) if dtype == "bfloat16" else t

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kw = {k: to_torch(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
        out = getattr(F, name)(*(to_torch(a) for a in arrays), **kw)
    return out.to(torch.float64).numpy()


def rounded(a: np.ndarray | None, dtype: str) -> np.ndarray | None:
    """``a`` rounded through ``dtype``, so that the reference sees the same values."""
    if a is None:
        return None
    if dtype == "bfloat16":
        import torch

        return torch.tensor(a, dtype=torch.float32).to(torch.bfloat16).double().numpy()
    return np.asarray(a, dtype=dtype).astype(np.float64)
