"""``arrayloss.mindspore`` without MindSpore: the recorded signatures, closed-form
values and MindSpore's validation. (tests/test_frontend_mindspore.py compares with the
real MindSpore where it is installed.)"""

from __future__ import annotations

import inspect
import math
import subprocess
import sys

import numpy as np
import pytest

import arrayloss.mindspore as msl
from conformance.backends import Backend

# Read with inspect.signature off mindspore 2.10.0 (pip install mindspore==2.10.0, CPU,
# Python 3.11): `inspect.signature(cls.__init__)` and `inspect.signature(cls.construct)`
# of each `mindspore.nn` loss cell, `self` removed.
MINDSPORE_2_10_SIGNATURES = {
    "BCELoss": ("(weight=None, reduction='mean')", "(logits, labels)"),
    "BCEWithLogitsLoss": ("(reduction='mean', weight=None, pos_weight=None)", "(input, target)"),
    "CrossEntropyLoss": (
        "(weight=None, ignore_index=-100, reduction='mean', label_smoothing=0.0)",
        "(logits, labels)",
    ),
    "NLLLoss": ("(weight=None, ignore_index=-100, reduction='mean')", "(logits, labels)"),
    "KLDivLoss": ("(reduction='mean')", "(logits, labels)"),
    "L1Loss": ("(reduction='mean')", "(logits, labels)"),
    "MAELoss": ("(reduction='mean')", "(logits, label)"),
    "MSELoss": ("(reduction='mean')", "(logits, labels)"),
    "RMSELoss": ("()", "(logits, label)"),
    "HuberLoss": ("(reduction='mean', delta=1.0)", "(logits, labels)"),
    "SmoothL1Loss": ("(beta=1.0, reduction='none')", "(logits, labels)"),
    "SoftMarginLoss": ("(reduction='mean')", "(logits, labels)"),
    "MultiLabelSoftMarginLoss": ("(weight=None, reduction='mean')", "(x, target)"),
    "MultiMarginLoss": (
        "(p=1, margin=1.0, reduction='mean', weight=None)",
        "(x, target, weight=None)",
    ),
    "MultilabelMarginLoss": ("(reduction='mean')", "(x, target)"),
    "HingeEmbeddingLoss": ("(margin=1.0, reduction='mean')", "(logits, labels)"),
    "CosineEmbeddingLoss": ("(margin=0.0, reduction='mean')", "(logits_x1, logits_x2, labels)"),
    "MarginRankingLoss": ("(margin=0.0, reduction='mean')", "(input1, input2, target)"),
    "TripletMarginLoss": (
        "(p=2, swap=False, eps=1e-06, reduction='mean', margin=1.0)",
        "(x, positive, negative, margin=1.0)",
    ),
    "TripletMarginWithDistanceLoss": (
        "(distance_function=None, swap=False, reduction='mean', margin=1.0)",
        "(x, positive, negative)",
    ),
    "PoissonNLLLoss": (
        "(log_input=True, full=False, eps=1e-08, reduction='mean')",
        "(input, target)",
    ),
    "GaussianNLLLoss": ("(*, full=False, eps=1e-06, reduction='mean')", "(logits, labels, var)"),
    "CTCLoss": (
        "(blank=0, reduction='mean', zero_infinity=False)",
        "(log_probs, targets, input_lengths, target_lengths)",
    ),
    "SoftmaxCrossEntropyWithLogits": ("(sparse=False, reduction='none')", "(logits, labels)"),
    "FocalLoss": ("(weight=None, gamma=2.0, reduction='mean')", "(logits, labels)"),
    "DiceLoss": ("(smooth=1e-05)", "(logits, label)"),
    "MultiClassDiceLoss": (
        "(weights=None, ignore_indiex=None, activation='softmax')",
        "(logits, label)",
    ),
    "SampledSoftmaxLoss": (
        "(num_sampled, num_classes, num_true=1, sampled_values=None, "
        "remove_accidental_hits=True, seed=0, reduction='none')",
        "(weights, biases, labels, logits)",
    ),
}


def _bare(sig: inspect.Signature) -> str:
    """The signature without annotations and `self`, as inspect prints MindSpore's."""
    params = [
        p.replace(annotation=inspect.Parameter.empty)
        for p in sig.parameters.values()
        if p.name != "self"
    ]
    return str(sig.replace(parameters=params, return_annotation=inspect.Signature.empty))


def test_every_cell_is_provided() -> None:
    assert set(msl.__all__) == set(MINDSPORE_2_10_SIGNATURES)


@pytest.mark.parametrize("name", sorted(MINDSPORE_2_10_SIGNATURES))
def test_signature_is_mindspore_2_10(name: str) -> None:
    cls = getattr(msl, name)
    init, construct = MINDSPORE_2_10_SIGNATURES[name]
    assert _bare(inspect.signature(cls.__init__)) == init
    assert _bare(inspect.signature(cls.construct)) == construct


def test_import_is_framework_free() -> None:
    code = (
        "import sys, arrayloss.mindspore\n"
        "bad = {'mindspore', 'torch', 'jax', 'dask', 'numpy', 'cupy'} & set(sys.modules)\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _value(backend: Backend, cell: object, *arrays: object) -> np.ndarray:
    args = [backend.asarray(a) for a in arrays]
    return backend.to_numpy(backend.call(cell, *args)).astype(np.float64)  # type: ignore[arg-type]


# --- closed-form values ------------------------------------------------------------------


def test_rmse_docstring_examples(backend: Backend) -> None:
    # MindSpore's RMSELoss docstring: 0.57735026 = sqrt(1/3), then 1.0 (broadcast).
    x = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    y = np.array([1.0, 2.0, 2.0], dtype=np.float32)
    assert math.isclose(_value(backend, msl.RMSELoss(), x, y), math.sqrt(1 / 3), rel_tol=1e-6)
    y2 = np.array([[1.0, 1.0, 1.0], [1.0, 2.0, 2.0]], dtype=np.float32)
    assert math.isclose(_value(backend, msl.RMSELoss(), x, y2), 1.0, rel_tol=1e-6)


def test_focal_and_dice_docstring_examples(backend: Backend) -> None:
    # MindSpore's FocalLoss docstring: weight [1, 2], gamma 2.0 -> 0.12516622.
    logits = np.array([[0.8, 1.4], [0.5, 0.9], [1.2, 0.9]], dtype=np.float32)
    labels = np.array([[1], [1], [0]], dtype=np.int32)
    focal = msl.FocalLoss(weight=backend.asarray(np.array([1.0, 2.0], np.float32)), gamma=2.0)
    assert math.isclose(_value(backend, focal, logits, labels), 0.12516622, rel_tol=1e-5)
    # MindSpore's MultiClassDiceLoss docstring: 0.54958105.
    x = np.array([[0.2, 0.5, 0.7], [0.3, 0.1, 0.5], [0.9, 0.6, 0.3]], dtype=np.float32)
    y = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 1]], dtype=np.float32)
    assert math.isclose(_value(backend, msl.MultiClassDiceLoss(), x, y), 0.54958105, rel_tol=1e-5)
    # MindSpore's DiceLoss docstring: 0.38596618.
    x = np.array([[0.2, 0.5], [0.3, 0.1], [0.9, 0.6]], dtype=np.float32)
    y = np.array([[0, 1], [1, 0], [0, 1]], dtype=np.float32)
    assert math.isclose(_value(backend, msl.DiceLoss(), x, y), 0.38596618, rel_tol=1e-5)


def test_multilabel_margin_docstring_example(backend: Backend) -> None:
    # MindSpore's MultilabelMarginLoss docstring (Ascend/GPU): 0.325, the loss alone.
    x = np.array([[0.1, 0.2, 0.4, 0.8], [0.2, 0.3, 0.5, 0.7]], dtype=np.float32)
    t = np.array([[1, 2, 0, 3], [2, 3, -1, 1]], dtype=np.int64)
    assert math.isclose(_value(backend, msl.MultilabelMarginLoss(), x, t), 0.325, rel_tol=1e-6)


def test_defaults_that_differ_from_torch(backend: Backend) -> None:
    x = np.array([[0.0, 3.0]], dtype=np.float32)
    y = np.zeros((1, 2), dtype=np.float32)
    # SmoothL1Loss's default reduction is 'none': [0, 3 - 0.5] by hand.
    np.testing.assert_allclose(_value(backend, msl.SmoothL1Loss(), x, y), [[0.0, 2.5]])
    # SoftmaxCrossEntropyWithLogits(sparse=True): -log softmax, per sample, by hand.
    sce = msl.SoftmaxCrossEntropyWithLogits(sparse=True)
    expected = math.log1p(math.exp(3.0))
    np.testing.assert_allclose(
        _value(backend, sce, x, np.array([0], dtype=np.int32)), [expected], rtol=1e-6
    )


# MindSpore's BCELoss at and below its epsilon: probabilities and labels, float32.
_BCE_P = np.array([0.0, 1e-13, 1e-9, 0.5, 1.0, 0.0, 1e-13, 1.0], dtype=np.float32)
_BCE_Y = np.array([1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0], dtype=np.float32)


def test_bce_shifts_each_log_by_1e_12(backend: Backend) -> None:
    # MindSpore's -[y log(x + 1e-12) + (1 - y) log(1 - x + 1e-12)] (its CPU kernel,
    # measured: docs/migration/from-mindspore.md), by hand in float64. p = 0 with label 1
    # costs -log(1e-12) = 27.631021 (PyTorch's clamp: 100), p = 1e-9 -log(1.001e-9)
    # (PyTorch: -log(1e-9) = 20.723266).
    expected = [
        -math.log(1e-12),
        -math.log(1.1e-12),
        -math.log(1.001e-9),
        math.log(2),
        -math.log(1e-12),
        -math.log1p(1e-12),
        -math.log1p(1e-12 - 1e-13),
        0.0,
    ]
    actual = _value(backend, msl.BCELoss(reduction="none"), _BCE_P, _BCE_Y)
    np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-7)
    assert math.isclose(actual[0], 27.631021, rel_tol=1e-7)


def test_bce_gradient_is_mindspores_at_0_and_1(backend: Backend) -> None:
    # MindSpore's BinaryCrossEntropyGrad, w (x - y) / max(x (1 - x), 1e-12), by hand: not
    # the derivative of the value (at p = 1e-13, y = 0: 0.1, not 1), finite at 0 and 1.
    from conformance.mindspore import Case, arrayloss_value

    if not backend.autodiff or backend.gpu:
        pytest.skip(f"{backend.name}: the gradient is compared on CPU autodiff backends")
    case = Case("BCELoss", {"reduction": "sum"}, (_BCE_P, _BCE_Y))
    _, grad = arrayloss_value(case, backend, "float32")
    p, y = _BCE_P.astype(np.float64), _BCE_Y.astype(np.float64)
    expected = (p - y) / np.maximum(p * (1 - p), 1e-12)  # [-1e12, -1e12, -1e9, -2, 1e12, 0, 0.1, 0]
    np.testing.assert_allclose(grad, expected, rtol=1e-6)


# --- validation ------------------------------------------------------------------------

_F64 = np.zeros((2, 3))


@pytest.mark.parametrize(
    "make",
    [
        lambda: msl.L1Loss("avg"),
        lambda: msl.MSELoss(reduction="batchmean"),
        lambda: msl.SmoothL1Loss(1.0, "max"),
        lambda: msl.BCEWithLogitsLoss("mean ", None),
    ],
)
def test_bad_reduction_is_value_error(make: object) -> None:
    with pytest.raises(ValueError, match="the 'reduction' must be in"):
        make()  # type: ignore[operator]


@pytest.mark.parametrize(
    ("cell", "args"),
    [
        (msl.BCELoss(), (_F64, _F64)),
        (msl.BCEWithLogitsLoss(), (_F64, _F64)),
        (msl.CrossEntropyLoss(), (_F64, np.array([0, 1]))),
        (msl.TripletMarginWithDistanceLoss(), (_F64, _F64, _F64)),
        (msl.SoftmaxCrossEntropyWithLogits(), (_F64, _F64)),
        (msl.SoftmaxCrossEntropyWithLogits(), (_F64.astype(np.float32), _F64)),
    ],
)
def test_float64_is_type_error_where_mindspore_refuses_it(cell: object, args: tuple) -> None:
    with pytest.raises(TypeError, match="dtype of"):
        cell(*args)  # type: ignore[operator]


def test_option_errors() -> None:
    w = np.ones(3, dtype=np.float32)
    x = np.full((2, 3), 0.5, dtype=np.float32)
    with pytest.raises(ValueError, match="shape of 'weight' must be"):
        msl.BCELoss(weight=w)(x, x)
    with pytest.raises(TypeError, match="'margin' must be float"):
        msl.CosineEmbeddingLoss(margin=0)
    with pytest.raises(ValueError, match=r"in \[-1.0, 1.0\]"):
        msl.CosineEmbeddingLoss(margin=1.5)
    with pytest.raises(TypeError, match="'gamma' must be float"):
        msl.FocalLoss(gamma=2)
    with pytest.raises(ValueError, match="dimension of 'weight' must be 1"):
        msl.FocalLoss(weight=np.ones((2, 2), dtype=np.float32))
    with pytest.raises(TypeError, match="'smooth' must be float"):
        msl.DiceLoss(smooth=1)
    with pytest.raises(ValueError, match="positive"):
        msl.DiceLoss(smooth=0.0)
    with pytest.raises(ValueError, match="'activation' must be in"):
        msl.MultiClassDiceLoss(activation="gelu")
    with pytest.raises(ValueError, match="dimension of 'weights' must be 2"):
        msl.MultiClassDiceLoss(weights=w)
    with pytest.raises(ValueError, match="must be equal to"):
        msl.DiceLoss()(x, x[:1])
    with pytest.raises(ValueError, match="must be one or equal to"):
        msl.FocalLoss()(x, np.zeros((2, 2), dtype=np.int32))
    with pytest.raises(TypeError, match="must not be unsigned"):
        msl.RMSELoss()(x, x.astype(np.uint8))


def test_cells_without_a_mindspore_cpu_kernel(backend: Backend) -> None:
    # SoftMarginLoss: mean(log(1 + exp(-y x))), by hand.
    x = np.array([0.0, 2.0], dtype=np.float32)
    y = np.array([1.0, -1.0], dtype=np.float32)
    expected = (math.log(2) + math.log1p(math.exp(2.0))) / 2
    assert math.isclose(_value(backend, msl.SoftMarginLoss(), x, y), expected, rel_tol=1e-6)
    # TripletMarginLoss: d(a, p) = 0, d(a, n) = 1 (+ eps terms), so max(0, m - 1 + ~0);
    # the call's margin counts only while the constructor's is 1.0, as MindSpore's construct.
    a = np.array([[0.0, 0.0]], dtype=np.float32)
    n = np.array([[1.0, 0.0]], dtype=np.float32)
    args = [backend.asarray(v) for v in (a, a, n)]

    def loss(cell: msl.TripletMarginLoss, margin: float) -> float:
        return float(backend.to_numpy(backend.call(lambda *t: cell(*t, margin), *args)))

    assert math.isclose(loss(msl.TripletMarginLoss(), 3.0), 2.0, rel_tol=1e-5)
    assert math.isclose(loss(msl.TripletMarginLoss(margin=2.0), 3.0), 1.0, rel_tol=1e-5)


def _sampled(backend: Backend, cell: msl.SampledSoftmaxLoss, labels: list) -> np.ndarray:
    # 3 classes of dimension 1, weights 1, 2, 3, no biases, one example of activation 1:
    # the logit of class c is c + 1.
    w = np.array([[1.0], [2.0], [3.0]], dtype=np.float32)
    b = np.zeros(3, dtype=np.float32)
    x = np.ones((1, 1), dtype=np.float32)
    return _value(backend, cell, w, b, np.array(labels, dtype=np.int32), x)


def test_sampled_softmax_closed_forms(backend: Backend) -> None:
    e = math.e
    ones = np.ones((1, 1), dtype=np.float32)

    def cell(sampled: list, true_count: object = ones, **kw: object) -> msl.SampledSoftmaxLoss:
        values = (np.array(sampled), true_count, np.ones(len(sampled), dtype=np.float32))
        return msl.SampledSoftmaxLoss(len(sampled), 3, sampled_values=values, **kw)

    # True class 0 against sampled 1 and 2, expected counts 1: -log softmax([1, 2, 3])_0.
    out = _sampled(backend, cell([1, 2]), [[0]])
    assert out.shape == (1,)
    assert math.isclose(out[0], math.log(e + e**2 + e**3) - 1, rel_tol=1e-6)
    # A sampled class equal to the true one keeps its logit (MindSpore removes accidental
    # hits only in its own sampler), and 'mean' is not applied: still (N,).
    out = _sampled(backend, cell([0, 2], remove_accidental_hits=True, reduction="mean"), [[0]])
    assert out.shape == (1,)
    assert math.isclose(out[0], math.log(2 * e + e**3) - 1, rel_tol=1e-6)
    # num_true 2: labels 1/2 each; class 1's logit 2 less log(e) = 1; sampled class 2.
    counts = np.array([[1.0, e]], dtype=np.float32)
    values = (np.array([2]), counts, np.ones(1, dtype=np.float32))
    two = msl.SampledSoftmaxLoss(1, 3, 2, values)
    out = _sampled(backend, two, [[0, 1]])
    assert math.isclose(out[0], math.log(2 * e + e**3) - 1, rel_tol=1e-6)
    # A true class of probability under 1e-20 costs -log(1e-20), MindSpore's floor.
    tiny = np.full((1, 1), math.exp(60.0), dtype=np.float32)
    out = _sampled(backend, cell([1, 2], tiny), [[0]])
    assert math.isclose(out[0], -math.log(1e-20), rel_tol=1e-6)


def test_sampled_softmax_takes_python_sampled_values(backend: Backend) -> None:
    cell = msl.SampledSoftmaxLoss(2, 3, sampled_values=([1, 2], [[1.0]], [1.0, 1.0]))
    e = math.e
    assert math.isclose(
        _sampled(backend, cell, [[0]])[0], math.log(e + e**2 + e**3) - 1, rel_tol=1e-6
    )


def test_sampled_softmax_errors() -> None:
    sv = (np.array([1]), np.ones((1, 1)), np.ones(1))
    with pytest.raises(ValueError, match="random stream cannot be reproduced"):
        msl.SampledSoftmaxLoss(2, 3)
    with pytest.raises(ValueError, match="'num_sampled' must be smaller"):
        msl.SampledSoftmaxLoss(4, 3, sampled_values=sv)
    with pytest.raises(ValueError, match="'num_true' must be greater"):
        msl.SampledSoftmaxLoss(1, 3, 0, sv)
    with pytest.raises(ValueError, match="'num_true' must be smaller"):
        msl.SampledSoftmaxLoss(1, 3, 4, sv)
    with pytest.raises(ValueError, match="'seed' must be greater"):
        msl.SampledSoftmaxLoss(1, 3, sampled_values=sv, seed=-1)
    with pytest.raises(TypeError, match="must be a list or tuple"):
        msl.SampledSoftmaxLoss(1, 3, sampled_values=np.ones(3))
    with pytest.raises(ValueError, match="length of 'sampled_values'"):
        msl.SampledSoftmaxLoss(1, 3, sampled_values=sv[:2])
    with pytest.raises(ValueError, match="'reduction' must be in"):
        msl.SampledSoftmaxLoss(1, 3, sampled_values=sv, reduction="avg")
    w = np.ones((3, 1), dtype=np.float32)
    with pytest.raises(TypeError, match="'labels' should be one of"):
        msl.SampledSoftmaxLoss(1, 3, sampled_values=sv)(w, w[:, 0], w[:1], w[:1])
