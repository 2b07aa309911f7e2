"""``arrayloss.keras`` without Keras: the recorded signatures, closed-form values and
Keras's reduction. (tests/test_frontend_keras.py compares with the real Keras 3.)"""

from __future__ import annotations

import inspect
import math
import subprocess
import sys

import numpy as np
import pytest

import arrayloss.keras as kl
from conformance.backends import Backend

# Read with `inspect.signature` off keras 3.15.1 (Python 3.11): every public name of
# `keras.losses` but `get`, `serialize` and `deserialize` (functions, and classes'
# constructors).
KERAS_3_15_SIGNATURES = {
    "BinaryCrossentropy": "(from_logits=False, label_smoothing=0.0, axis=-1, reduction='sum_over_batch_size', name='binary_crossentropy', dtype=None)",
    "BinaryFocalCrossentropy": "(apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1, reduction='sum_over_batch_size', name='binary_focal_crossentropy', dtype=None)",
    "CTC": "(reduction='sum_over_batch_size', name='ctc', dtype=None)",
    "CategoricalCrossentropy": "(from_logits=False, label_smoothing=0.0, axis=-1, reduction='sum_over_batch_size', name='categorical_crossentropy', dtype=None)",
    "CategoricalFocalCrossentropy": "(alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1, reduction='sum_over_batch_size', name='categorical_focal_crossentropy', dtype=None)",
    "CategoricalGeneralizedCrossEntropy": "(q=0.5, reduction='sum_over_batch_size', name='categorical_generalized_cross_entropy', dtype=None)",
    "CategoricalHinge": "(reduction='sum_over_batch_size', name='categorical_hinge', dtype=None)",
    "Circle": "(gamma=80.0, margin=0.4, remove_diagonal=True, reduction='sum_over_batch_size', name='circle', dtype=None)",
    "CosineSimilarity": "(axis=-1, reduction='sum_over_batch_size', name='cosine_similarity', dtype=None)",
    "Dice": "(reduction='sum_over_batch_size', name='dice', axis=None, dtype=None)",
    "Hinge": "(reduction='sum_over_batch_size', name='hinge', dtype=None)",
    "Huber": "(delta=1.0, reduction='sum_over_batch_size', name='huber_loss', dtype=None)",
    "KLDivergence": "(reduction='sum_over_batch_size', name='kl_divergence', dtype=None)",
    "LogCosh": "(reduction='sum_over_batch_size', name='log_cosh', dtype=None)",
    "Loss": "(name=None, reduction='sum_over_batch_size', dtype=None)",
    "MeanAbsoluteError": "(reduction='sum_over_batch_size', name='mean_absolute_error', dtype=None)",
    "MeanAbsolutePercentageError": "(reduction='sum_over_batch_size', name='mean_absolute_percentage_error', dtype=None)",
    "MeanSquaredError": "(reduction='sum_over_batch_size', name='mean_squared_error', dtype=None)",
    "MeanSquaredLogarithmicError": "(reduction='sum_over_batch_size', name='mean_squared_logarithmic_error', dtype=None)",
    "Poisson": "(reduction='sum_over_batch_size', name='poisson', dtype=None)",
    "SparseCategoricalCrossentropy": "(from_logits=False, ignore_class=None, reduction='sum_over_batch_size', axis=-1, name='sparse_categorical_crossentropy', dtype=None)",
    "SquaredHinge": "(reduction='sum_over_batch_size', name='squared_hinge', dtype=None)",
    "Tversky": "(alpha=0.5, beta=0.5, reduction='sum_over_batch_size', name='tversky', axis=None, dtype=None)",
    "binary_crossentropy": "(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1)",
    "binary_focal_crossentropy": "(y_true, y_pred, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1)",
    "categorical_crossentropy": "(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1)",
    "categorical_focal_crossentropy": "(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1)",
    "categorical_generalized_cross_entropy": "(y_true, y_pred, q)",
    "categorical_hinge": "(y_true, y_pred)",
    "circle": "(y_true, y_pred, ref_labels=None, ref_embeddings=None, remove_diagonal=True, gamma=80, margin=0.4)",
    "cosine_similarity": "(y_true, y_pred, axis=-1)",
    "ctc": "(y_true, y_pred)",
    "dice": "(y_true, y_pred, axis=None)",
    "hinge": "(y_true, y_pred)",
    "huber": "(y_true, y_pred, delta=1.0)",
    "kl_divergence": "(y_true, y_pred)",
    "log_cosh": "(y_true, y_pred)",
    "mean_absolute_error": "(y_true, y_pred)",
    "mean_absolute_percentage_error": "(y_true, y_pred)",
    "mean_squared_error": "(y_true, y_pred)",
    "mean_squared_logarithmic_error": "(y_true, y_pred)",
    "poisson": "(y_true, y_pred)",
    "sparse_categorical_crossentropy": "(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1)",
    "squared_hinge": "(y_true, y_pred)",
    "tversky": "(y_true, y_pred, alpha=0.5, beta=0.5, axis=None)",
}

# Keras losses without an arrayloss.keras entry; docs/migration/from-keras.md says why.
NOT_PROVIDED: set[str] = set()
EXTRA = {"reduce_weighted_values"}  # arrayloss.keras's own: Keras's reduction


def _bare(sig: inspect.Signature) -> str:
    """The signature without annotations, as inspect prints Keras's."""
    params = [p.replace(annotation=inspect.Parameter.empty) for p in sig.parameters.values()]
    return str(sig.replace(parameters=params, return_annotation=inspect.Signature.empty))


def test_every_keras_loss_is_provided_or_listed() -> None:
    assert set(kl.__all__) == (set(KERAS_3_15_SIGNATURES) - NOT_PROVIDED) | EXTRA
    assert not NOT_PROVIDED & set(dir(kl))


@pytest.mark.parametrize("name", sorted(set(KERAS_3_15_SIGNATURES) - NOT_PROVIDED))
def test_signature_is_keras_3_15(name: str) -> None:
    assert _bare(inspect.signature(getattr(kl, name))) == KERAS_3_15_SIGNATURES[name]


def test_import_is_framework_free() -> None:
    code = (
        "import sys, arrayloss.keras\n"
        "bad = {'keras', 'tensorflow', 'torch', 'jax', 'dask', 'numpy', 'cupy'} & set(sys.modules)\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _np(backend: Backend, x: object) -> np.ndarray:
    return backend.to_numpy(x).astype(np.float64)


# --- closed-form values ------------------------------------------------------------------


def test_binary_crossentropy_docstring_example(backend: Backend) -> None:
    # Keras 3's BinaryCrossentropy docstring: 0.815 (0.8149245 printed by Keras 3.15.1).
    t = backend.asarray(np.array([[0.0, 1.0], [0.0, 0.0]], np.float32))
    p = backend.asarray(np.array([[0.6, 0.4], [0.4, 0.6]], np.float32))
    assert math.isclose(_np(backend, kl.BinaryCrossentropy()(t, p)), 0.8149245, rel_tol=1e-6)


def test_probabilities_are_clipped_at_keras_epsilon(backend: Backend) -> None:
    # Keras clips p to [1e-7, 1 - 1e-7]: a certain wrong answer costs -log(1e-7) = 16.118
    # (PyTorch's binary_cross_entropy: 100). Computed by hand.
    t = backend.asarray(np.array([[1.0]], np.float32))
    p = backend.asarray(np.array([[0.0]], np.float32))
    expected = -math.log(1e-7)
    assert np.allclose(_np(backend, kl.binary_crossentropy(t, p)), [expected], rtol=1e-5)
    labels = backend.asarray(np.array([1]))
    probs = backend.asarray(np.array([[1.0, 0.0]], np.float32))
    value = _np(backend, kl.sparse_categorical_crossentropy(labels, probs))
    assert np.allclose(value, [expected], rtol=1e-5)


def test_function_is_mean_over_last_axis(backend: Backend) -> None:
    # By hand: squared errors [[1, 4], [0, 9]] -> per-sample means [2.5, 4.5].
    t = backend.asarray(np.array([[0.0, 0.0], [1.0, 1.0]], np.float32))
    p = backend.asarray(np.array([[1.0, 2.0], [1.0, 4.0]], np.float32))
    assert np.allclose(_np(backend, kl.mean_squared_error(t, p)), [2.5, 4.5])
    mse = kl.MeanSquaredError
    assert math.isclose(_np(backend, mse()(t, p)), 3.5)
    assert math.isclose(_np(backend, mse(reduction="sum")(t, p)), 7.0)
    assert np.allclose(_np(backend, mse(reduction=None)(t, p)), [2.5, 4.5])
    w = backend.asarray(np.array([2.0, 0.0], np.float32))
    # Keras: weighted sum 5.0 over the batch size 2; over the weights' sum 2.
    assert math.isclose(_np(backend, mse()(t, p, sample_weight=w)), 2.5)
    assert math.isclose(_np(backend, mse(reduction="mean_with_sample_weight")(t, p, w)), 2.5)
    w1 = backend.asarray(np.array([[1.0], [3.0]], np.float32))  # (N, 1): squeezed
    assert math.isclose(_np(backend, mse(reduction="sum")(t, p, w1)), 16.0)


def test_zero_weights_give_zero_not_nan(backend: Backend) -> None:
    # Keras's divide_no_nan: mean_with_sample_weight with all weights 0 is 0.
    t = backend.asarray(np.zeros((2, 2), np.float32))
    p = backend.asarray(np.ones((2, 2), np.float32))
    w = backend.asarray(np.zeros(2, np.float32))
    loss = kl.MeanAbsoluteError(reduction="mean_with_sample_weight")
    assert _np(backend, loss(t, p, w)) == 0.0


def test_ignore_class_is_masked_out_of_the_mean(backend: Backend) -> None:
    # Logits 0 over 2 classes: log 2 per kept sample; with ignore_class=1 the one ignored
    # sample counts 0 and sum_over_batch_size divides by the 2 kept (Keras's mask).
    labels = backend.asarray(np.array([0, 1, 0]))
    logits = backend.asarray(np.zeros((3, 2), np.float32))
    loss = kl.SparseCategoricalCrossentropy(from_logits=True, ignore_class=1)
    assert math.isclose(_np(backend, loss(labels, logits)), math.log(2), rel_tol=1e-6)
    per_sample = kl.sparse_categorical_crossentropy(labels, logits, True, ignore_class=1)
    assert np.allclose(_np(backend, per_sample), [math.log(2), 0.0, math.log(2)])
    loss_sum = kl.SparseCategoricalCrossentropy(True, 1, reduction="sum")
    assert math.isclose(_np(backend, loss_sum(labels, logits)), 2 * math.log(2), rel_tol=1e-6)


def test_tversky_alpha_weighs_false_negatives(backend: Backend) -> None:
    # Keras's tversky: 1 - TP / (TP + alpha FN + beta FP) with FN = sum((1 - p) y).
    # y = (1, 1, 0), p = (1, 0, 1): TP 1, FN 1, FP 1; alpha 0.2, beta 0.8 -> 1 - 1/2 = 0.5,
    # alpha 1, beta 0 -> 1 - 1/2 = 0.5; alpha 0, beta 0 -> 0 (by hand, epsilon 1e-7).
    y = backend.asarray(np.array([[1.0, 1.0, 0.0, 0.0]], np.float32))
    p = backend.asarray(np.array([[1.0, 0.0, 0.0, 0.0]], np.float32))
    # TP 1, FN 1, FP 0: alpha=1 -> 1 - 1/2; beta=1 -> 1 - 1/1 = 0.
    assert math.isclose(_np(backend, kl.tversky(y, p, alpha=1.0, beta=0.0)), 0.5, rel_tol=1e-6)
    assert abs(_np(backend, kl.tversky(y, p, alpha=0.0, beta=1.0))) < 1e-6


def test_dice_axis_none_is_one_value(backend: Backend) -> None:
    # 1 - 2 * 1 / (2 + 1) = 1/3 over everything; per sample with axis=1: [0, 1].
    y = backend.asarray(np.array([[1.0, 0.0], [1.0, 0.0]], np.float32))
    p = backend.asarray(np.array([[1.0, 0.0], [0.0, 0.0]], np.float32))
    assert math.isclose(_np(backend, kl.dice(y, p)), 1 / 3, rel_tol=1e-6)
    assert np.allclose(_np(backend, kl.dice(y, p, axis=1)), [0.0, 1.0], atol=1e-6)


# Circle, by hand: unit embeddings e0 = (1, 0), e1 = (0.6, 0.8) (label 0), e2 = (0, 1)
# (label 1); Keras's defaults gamma 80, margin 0.4. Cosine distances d01 = 0.4,
# d02 = 1, d12 = 0.2. Positive term -80 [d + 0.4]_+ (0.4 - d), negative term
# 80 [1.4 - d]_+ (0.6 - d): row 0: positive 0 (d = 0.4), negative 80 * 0.4 * -0.4 =
# -12.8; row 1: positive 0, negative 80 * 1.2 * 0.4 = 38.4; row 2 has no positive: 0.
_CIRCLE_E = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]], np.float32)
_CIRCLE_Y = np.array([0, 0, 1])


def _softplus(x: float) -> float:
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def test_circle_closed_form(backend: Backend) -> None:
    e, y = backend.asarray(_CIRCLE_E), backend.asarray(_CIRCLE_Y)
    rows = [_softplus(-12.8), _softplus(38.4), 0.0]
    assert np.allclose(_np(backend, kl.circle(y, e)), rows, rtol=1e-5)
    # remove_diagonal=False adds each row's own pair (d = 0, positive term -12.8): row 0
    # LSE_pos = log(1 + e^-12.8); row 2 gains a positive: -12.8 + log(e^-12.8 + e^38.4).
    rows_diag = [
        _softplus(math.log1p(math.exp(-12.8)) - 12.8),
        _softplus(math.log1p(math.exp(-12.8)) + 38.4),
        _softplus(-12.8 + 38.4 + math.log1p(math.exp(-51.2))),
    ]
    value = kl.circle(y, e, remove_diagonal=False)
    assert np.allclose(_np(backend, value), rows_diag, rtol=1e-5)


def test_circle_masks_rows_without_pairs(backend: Backend) -> None:
    # Keras's Circle masks the losses that are 0 (row 2: no positive): the mean is over
    # the 2 others, 'mean_with_sample_weight' divides by their weights only (1 + 3).
    e, y = backend.asarray(_CIRCLE_E), backend.asarray(_CIRCLE_Y)
    rows = [_softplus(-12.8), _softplus(38.4)]
    assert math.isclose(_np(backend, kl.Circle()(y, e)), sum(rows) / 2, rel_tol=1e-5)
    assert math.isclose(_np(backend, kl.Circle(reduction="sum")(y, e)), sum(rows), rel_tol=1e-5)
    w = backend.asarray(np.array([1.0, 3.0, 5.0], np.float32))
    mean_w = kl.Circle(reduction="mean_with_sample_weight")(y, e, sample_weight=w)
    assert math.isclose(_np(backend, mean_w), (rows[0] + 3 * rows[1]) / 4, rel_tol=1e-5)
    # sum_over_batch_size with weights: the weighted sum over the 2 kept rows.
    weighted = kl.Circle()(y, e, sample_weight=w)
    assert math.isclose(_np(backend, weighted), (rows[0] + 3 * rows[1]) / 2, rel_tol=1e-5)


def test_circle_reference_embeddings(backend: Backend) -> None:
    # One query e0 (label 0) against references e0 (label 0), e2 (label 1), gamma 1,
    # margin 0: with the diagonal removed the query has no positive (0); kept, the
    # positive d = 0 and the negative d = 1 both give 0: softplus(0) = log 2 (by hand).
    q, lq = backend.asarray(_CIRCLE_E[:1]), backend.asarray(_CIRCLE_Y[:1])
    r, lr = backend.asarray(_CIRCLE_E[[0, 2]]), backend.asarray(np.array([0, 1]))
    options = {"ref_labels": lr, "ref_embeddings": r, "gamma": 1.0, "margin": 0.0}
    assert np.allclose(_np(backend, kl.circle(lq, q, **options)), [0.0])
    kept = kl.circle(lq, q, remove_diagonal=False, **options)
    assert np.allclose(_np(backend, kept), [math.log(2)], rtol=1e-6)


def test_circle_keeps_half_precision(backend: Backend) -> None:
    if "float16" not in backend.dtypes:
        pytest.skip(f"{backend.name} has no float16")
    e, y = backend.asarray(_CIRCLE_E, "float16"), backend.asarray(_CIRCLE_Y)
    value = kl.circle(y, e)
    assert backend.dtype_name(value) == "float16"
    # 0.6 and 0.8 round in float16 (to 0.6001 and 0.7998): within 1%.
    assert np.allclose(_np(backend, value), [_softplus(-12.8), _softplus(38.4), 0.0], rtol=1e-2)


def test_generalized_cross_entropy_closed_form(backend: Backend) -> None:
    # (1 - p^q) / q by hand, q = 1/2: p = 0.25 -> 2 (1 - 0.5) = 1; p = 0.64 -> 0.4; a
    # label out of range picks nothing (Keras's one-hot): p = 0 -> 1/q = 2.
    probs = backend.asarray(np.array([[0.75, 0.25], [0.36, 0.64], [0.5, 0.5]], np.float32))
    labels = backend.asarray(np.array([1, 1, 2]))
    value = kl.categorical_generalized_cross_entropy(labels, probs, q=0.5)
    assert np.allclose(_np(backend, value), [1.0, 0.4, 2.0], rtol=1e-6)
    loss = kl.CategoricalGeneralizedCrossEntropy()
    assert math.isclose(_np(backend, loss(labels, probs)), 3.4 / 3, rel_tol=1e-6)
    w = backend.asarray(np.array([1.0, 2.0, 0.0], np.float32))
    summed = kl.CategoricalGeneralizedCrossEntropy(reduction="sum")(labels, probs, w)
    assert math.isclose(_np(backend, summed), 1.8, rel_tol=1e-6)
    # q = 1: 1 - p (the function takes any q; the class requires (0, 1)).
    one = kl.categorical_generalized_cross_entropy(labels, probs, q=1.0)
    assert np.allclose(_np(backend, one), [0.75, 0.36, 1.0], rtol=1e-6)


def test_generalized_cross_entropy_squeezes_labels_n_1(backend: Backend) -> None:
    # Labels (N, 1): one loss per sample (Keras's one-hot broadcasts them to (N, N)).
    probs = backend.asarray(np.array([[0.75, 0.25], [0.36, 0.64]], np.float32))
    labels = backend.asarray(np.array([[1], [1]]))
    value = kl.categorical_generalized_cross_entropy(labels, probs, 0.5)
    assert np.allclose(_np(backend, value), [1.0, 0.4], rtol=1e-6)


# --- validation and configuration --------------------------------------------------------


@pytest.mark.parametrize("q", [0.0, 1.0, -0.5, 2])
def test_generalized_cross_entropy_q_is_checked(q: float) -> None:
    # Keras: ValueError("q must be in the interval (0, 1)").
    with pytest.raises(ValueError, match=r"q must be in the interval \(0, 1\); got q="):
        kl.CategoricalGeneralizedCrossEntropy(q=q)


def test_circle_shapes_are_checked() -> None:
    e = np.zeros((3, 2), np.float32)
    with pytest.raises(ValueError, match=r"`labels` must have one label per row of `embeddings`"):
        kl.circle(np.zeros(2, np.int64), e)
    with pytest.raises(ValueError, match=r"`ref_embeddings` must have the embeddings' size 2"):
        kl.circle(np.zeros(3, np.int64), e, ref_embeddings=np.zeros((3, 4), np.float32))
    with pytest.raises(TypeError, match=r"`gamma` must be a float; got str"):
        kl.circle(np.zeros(3, np.int64), e, gamma="80")


def test_new_entries_get_config() -> None:
    # As Keras 3.15.1's get_config() of each (read off Keras).
    assert kl.Circle().get_config() == {
        "name": "circle",
        "reduction": "sum_over_batch_size",
        "gamma": 80.0,
        "margin": 0.4,
        "remove_diagonal": True,
    }
    assert kl.CategoricalGeneralizedCrossEntropy(q=0.3).get_config() == {
        "name": "categorical_generalized_cross_entropy",
        "reduction": "sum_over_batch_size",
        "q": 0.3,
    }


# --- validation and configuration (the other entries) -------------------------------------


def test_bad_reduction_is_keras_value_error() -> None:
    with pytest.raises(ValueError, match="Invalid value for argument `reduction`"):
        kl.MeanSquaredError(reduction="avg")
    with pytest.raises(ValueError, match="Received: reduction=batchmean"):
        kl.reduce_weighted_values(np.zeros(2), reduction="batchmean")


def test_axis_bool_is_value_error() -> None:
    with pytest.raises(ValueError, match="`axis` must be of type `int`"):
        kl.categorical_crossentropy(np.eye(2), np.eye(2), axis=True)


def test_ctc_shapes_are_checked() -> None:
    with pytest.raises(ValueError, match=r"y_true.shape=\(2,\)"):
        kl.ctc(np.zeros(2, np.int64), np.zeros((2, 3, 4), np.float32))


def test_get_config_and_name() -> None:
    loss = kl.BinaryCrossentropy(from_logits=True, label_smoothing=0.1)
    assert loss.get_config() == {
        "name": "binary_crossentropy",
        "reduction": "sum_over_batch_size",
        "from_logits": True,
        "label_smoothing": 0.1,
        "axis": -1,
    }
    assert kl.Loss().name == "loss"
    assert kl.Huber().name == "huber_loss"


def test_dtype_casts_the_inputs(backend: Backend) -> None:
    if "float16" not in backend.dtypes:
        pytest.skip(f"{backend.name} has no float16")
    t = backend.asarray(np.zeros((2, 2)), "float16")
    p = backend.asarray(np.ones((2, 2)), "float16")
    assert backend.dtype_name(kl.MeanSquaredError()(t, p)) == "float16"
    assert backend.dtype_name(kl.MeanSquaredError(dtype="float32")(t, p)) == "float32"
