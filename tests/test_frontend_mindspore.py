"""``arrayloss.mindspore`` against the real MindSpore 2.10 (CPU), on every backend.

Skipped where MindSpore is not importable: the default test environments do not install
it. ``nox -s mindspore`` runs this file in an environment with ``mindspore==2.10.0``.
Each case of ``conformance.mindspore.CASES`` compares the front-end cell's value (float32,
and float16 where MindSpore's CPU kernels take it) with MindSpore's own cell on the same
inputs and, on torch and JAX, the gradient with ``mindspore.grad``'s.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from conformance.backends import Backend
from conformance.mindspore import CASES, NO_CPU_KERNEL, Case, mindspore_reason, run_case

_REASON = mindspore_reason()
pytestmark = [
    pytest.mark.skipif(_REASON is not None, reason=_REASON or ""),
    # MindSpore's own import-time DeprecationWarnings (its Python sources), not ours.
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

_PARAMS = [
    pytest.param(case, dtype, id=f"{case.id}-{dtype}")
    for case in CASES
    if case.cell not in NO_CPU_KERNEL
    for dtype in case.dtypes
]


@pytest.mark.parametrize(("case", "dtype"), _PARAMS)
def test_matches_mindspore(case: Case, dtype: str, backend: Backend) -> None:
    if dtype not in backend.dtypes:
        pytest.skip(f"{backend.name} has no {dtype}")
    result = run_case(case, backend, dtype)
    assert result.passed, result.message


def test_no_cpu_kernel_is_still_true() -> None:
    # The cells checked only against closed-form values: MindSpore 2.10.0 has no CPU
    # kernel for them. When one gains a kernel, move its cases into the comparison.
    import mindspore as ms
    from mindspore import nn

    x = ms.Tensor(np.ones((2, 3), np.float32))
    for name in sorted(NO_CPU_KERNEL):
        args: tuple[Any, ...] = (x, x) if name == "SoftMarginLoss" else (x, x, x)
        if name == "MultilabelMarginLoss":
            args = (x, ms.Tensor(np.zeros((2, 3), np.int32)))
        with pytest.raises((RuntimeError, TypeError)):
            getattr(nn, name)()(*args).asnumpy()  # asnumpy: MindSpore may raise only then


_F64 = np.zeros((2, 3))
_F32 = _F64.astype(np.float32)
_SV = (np.array([1]), np.ones((2, 1), np.float32), np.ones(1, np.float32))
_ERRORS = [
    ("BCELoss", {}, (_F64, _F64)),
    ("BCEWithLogitsLoss", {}, (_F64, _F64)),
    ("CrossEntropyLoss", {}, (_F64, np.array([0, 1], np.int32))),
    ("TripletMarginWithDistanceLoss", {}, (_F64, _F64, _F64)),
    ("SoftmaxCrossEntropyWithLogits", {}, (_F64, _F64)),
    ("SoftmaxCrossEntropyWithLogits", {}, (_F32, _F64)),
    ("L1Loss", {"reduction": "avg"}, None),
    ("SmoothL1Loss", {"reduction": "max"}, None),
    ("CosineEmbeddingLoss", {"margin": 0}, None),
    ("CosineEmbeddingLoss", {"margin": 1.5}, None),
    ("FocalLoss", {"gamma": 2}, None),
    ("DiceLoss", {"smooth": 1}, None),
    ("DiceLoss", {}, (_F32, _F32[:1])),
    ("MultiClassDiceLoss", {"activation": "gelu"}, None),
    ("FocalLoss", {}, (_F32, np.zeros((2, 2), np.int32))),
    ("RMSELoss", {}, (_F32, _F32.astype(np.uint8))),
    ("SampledSoftmaxLoss", {"num_sampled": 4, "num_classes": 3, "sampled_values": _SV}, None),
    ("SampledSoftmaxLoss", {"num_sampled": 1, "num_classes": 3, "num_true": 0}, None),
    ("SampledSoftmaxLoss", {"num_sampled": 1, "num_classes": 3, "num_true": 4}, None),
    ("SampledSoftmaxLoss", {"num_sampled": 1, "num_classes": 3, "seed": -1}, None),
    ("SampledSoftmaxLoss", {"num_sampled": 1, "num_classes": 3, "sampled_values": 3}, None),
    ("SampledSoftmaxLoss", {"num_sampled": 1, "num_classes": 3, "sampled_values": _SV[:2]}, None),
    (
        "SampledSoftmaxLoss",
        {"num_sampled": 1, "num_classes": 3, "sampled_values": _SV},
        (_F32.T, _F32[0], _F32[:, :1], _F32[:, :2]),
    ),
]


@pytest.mark.parametrize(
    ("name", "init", "args"),
    [pytest.param(*e, id=f"{e[0]}-{i}") for i, e in enumerate(_ERRORS)],
)
def test_errors_match_mindspore(name: str, init: dict[str, Any], args: Any) -> None:
    import mindspore as ms
    from mindspore import nn

    import arrayloss.mindspore as front

    def outcome(make: Any, convert: Any) -> type[BaseException] | None:
        try:
            cell = make(**init)
            if args is not None:
                out = cell(*(convert(a) for a in args))
                getattr(out, "asnumpy", lambda: None)()  # MindSpore may raise only then
        except (TypeError, ValueError) as exc:
            return TypeError if isinstance(exc, TypeError) else ValueError
        return None

    theirs = outcome(getattr(nn, name), ms.Tensor)
    ours = outcome(getattr(front, name), lambda a: a)
    assert theirs is not None
    assert ours is theirs


def test_sampled_values_are_mindspore_samplers() -> None:
    # The SampledSoftmaxLoss cases' sampled values are those of MindSpore's own sampler.
    from mindspore import Tensor, ops

    from conformance.mindspore import _SS_LAB1, _SS_LAB2, _SS_SAMPLER1, _SS_SAMPLER2

    for num_true, labels, stored in ((1, _SS_LAB1, _SS_SAMPLER1), (2, _SS_LAB2, _SS_SAMPLER2)):
        sampler = ops.UniformCandidateSampler(num_true, 3, True, 6, 2, True)
        drawn = sampler(Tensor(labels))
        for got, want in zip(drawn, stored, strict=True):
            np.testing.assert_allclose(got.asnumpy(), want, rtol=1e-7)
