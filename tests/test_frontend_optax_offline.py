"""``arrayloss.optax`` without optax: the recorded signatures, values from optax's
documentation and closed forms, the ``where`` semantics and the documented gaps.
(tests/test_frontend_optax.py compares with the installed optax.)"""

from __future__ import annotations

import inspect
import subprocess
import sys

import numpy as np
import pytest

import arrayloss.optax as ol
from conformance.backends import Backend

# Read with inspect.signature off optax 0.2.8 (Python 3.11): each public function of
# `optax.losses`, annotations and return annotation removed.
OPTAX_0_2_8_SIGNATURES = {
    "binary_dice_loss": "(predictions, targets, *, smooth=1.0, apply_sigmoid=True)",
    "convex_kl_divergence": "(log_predictions, targets, axis=-1, where=None)",
    "cosine_distance": "(predictions, targets, *, epsilon=0.0, axis=-1, where=None)",
    "cosine_similarity": "(predictions, targets, *, epsilon=0.0, axis=-1, where=None)",
    "ctc_loss": (
        "(logits, logit_paddings, labels, label_paddings, *, blank_id=0, log_epsilon=-100000.0)"
    ),
    "ctc_loss_with_forward_probs": (
        "(logits, logit_paddings, labels, label_paddings, *, blank_id=0, log_epsilon=-100000.0)"
    ),
    "dice_loss": (
        "(predictions, targets, *, class_weights=None, smooth=1.0, alpha=0.5, beta=0.5, "
        "apply_softmax=True, reduction='mean', ignore_background=False, axis=None)"
    ),
    "generalized_kl_divergence": "(log_predictions, targets, axis=-1, where=None)",
    "hinge_loss": "(predictor_outputs, targets)",
    "huber_loss": "(predictions, targets=None, *, delta=1.0)",
    "kl_divergence": "(log_predictions, targets, axis=-1, where=None)",
    "kl_divergence_with_log_targets": "(log_predictions, log_targets, axis=-1, where=None)",
    "l2_loss": "(predictions, targets=None)",
    "log_cosh": "(predictions, targets=None)",
    "multiclass_generalized_dice_loss": (
        "(predictions, targets, *, smooth=1.0, apply_softmax=True, ignore_background=False)"
    ),
    "multiclass_hinge_loss": "(scores, labels)",
    "ntxent": "(embeddings, labels, temperature=0.07)",
    "poly_loss_cross_entropy": "(logits, labels, *, epsilon=2.0, axis=-1, where=None)",
    "safe_softmax_cross_entropy": "(logits, labels)",
    "sigmoid_binary_cross_entropy": "(logits, labels)",
    "sigmoid_focal_loss": "(logits, labels, *, alpha=None, gamma=2.0)",
    "smooth_labels": "(labels, alpha, *, axis=-1, where=None)",
    "softmax_cross_entropy": "(logits, labels, axis=-1, where=None)",
    "softmax_cross_entropy_with_integer_labels": "(logits, labels, axis=-1, where=None)",
    "squared_error": "(predictions, targets=None)",
    "triplet_margin_loss": (
        "(anchors, positives, negatives, axis=-1, norm_degree=2, margin=1.0, eps=1e-06)"
    ),
}
# The rest of optax 0.2.8's optax.losses: not provided (reasons in ol.NOT_PROVIDED).
NOT_PROVIDED = {
    "make_fenchel_young_loss",
    "multiclass_perceptron_loss",
    "multiclass_sparsemax_loss",
    "perceptron_loss",
    "ranking_softmax_loss",
    "sparsemax_loss",
}


def _bare(sig: inspect.Signature) -> str:
    params = [p.replace(annotation=inspect.Parameter.empty) for p in sig.parameters.values()]
    return str(sig.replace(parameters=params, return_annotation=inspect.Signature.empty))


def test_every_function_is_provided_or_listed() -> None:
    assert set(ol.__all__) - {"NOT_PROVIDED"} == set(OPTAX_0_2_8_SIGNATURES)
    assert set(ol.NOT_PROVIDED) == NOT_PROVIDED
    assert not NOT_PROVIDED & set(dir(ol))


@pytest.mark.parametrize("name", sorted(OPTAX_0_2_8_SIGNATURES))
def test_signature_is_optax_0_2_8(name: str) -> None:
    assert _bare(inspect.signature(getattr(ol, name))) == OPTAX_0_2_8_SIGNATURES[name]


def test_import_is_framework_free() -> None:
    code = (
        "import sys, arrayloss.optax\n"
        "bad = {'optax', 'jax', 'torch', 'dask', 'numpy', 'cupy'} & set(sys.modules)\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _np(backend: Backend, fn: object, *arrays: object, **kwargs: object) -> np.ndarray:
    args = [backend.asarray(a) if isinstance(a, np.ndarray) else a for a in arrays]
    kw = {k: backend.asarray(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    return backend.to_numpy(backend.call(fn, *args, **kw)).astype(np.float64)  # type: ignore[arg-type]


_LOGITS = np.array([[1.2, -0.8, -0.5], [0.9, -1.2, 1.1]], dtype=np.float32)


def test_docstring_examples(backend: Backend) -> None:
    # optax 0.2.8's docstrings of softmax_cross_entropy and
    # softmax_cross_entropy_with_integer_labels: [0.2761 2.9518] and [[6.4587 0.4587]].
    one_hot = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=np.float32)
    expected = [0.2761, 2.9518]
    got = _np(backend, ol.softmax_cross_entropy, _LOGITS, one_hot)
    np.testing.assert_allclose(got, expected, atol=1e-4)
    got = _np(backend, ol.softmax_cross_entropy_with_integer_labels, _LOGITS, np.array([0, 1]))
    np.testing.assert_allclose(got, expected, atol=1e-4)
    logits = np.arange(24, dtype=np.float32).reshape(1, 2, 3, 4)
    labels = np.ravel_multi_index((np.array([[1, 2]]), np.array([[1, 3]])), (3, 4))
    got = _np(backend, ol.softmax_cross_entropy_with_integer_labels, logits, labels, axis=(2, 3))
    np.testing.assert_allclose(got, [[6.4587, 0.4587]], atol=1e-4)


def test_where_masks_classes(backend: Backend) -> None:
    # Closed form: a masked class leaves the softmax; its label counts 0. Row 1 keeps
    # classes 0 and 2: -log(e^0.9 / (e^0.9 + e^1.1)) for one-hot class 0.
    keep = np.array([[True, True, True], [True, False, True]])
    labels = np.array([[1.0, 0.0, 0.0], [1.0, 5.0, 0.0]], dtype=np.float32)
    got = _np(backend, ol.softmax_cross_entropy, _LOGITS, labels, where=keep)
    row1 = -np.log(np.exp(0.9) / (np.exp(0.9) + np.exp(1.1)))
    np.testing.assert_allclose(got, [0.2761, row1], atol=1e-4)
    # A batch-shaped `where` masks whole rows: 0.
    got = _np(backend, ol.softmax_cross_entropy, _LOGITS, labels, where=np.array([False, True]))
    assert got[0] == 0.0


def test_reduction_is_per_example(backend: Backend) -> None:
    x = np.array([[0.5, -1.0], [2.0, 0.0]], dtype=np.float32)
    t = np.array([[0.0, 1.0], [1.0, 1.0]], dtype=np.float32)
    # Closed forms: (x - t)^2, and half of it for l2_loss, elementwise.
    np.testing.assert_allclose(_np(backend, ol.squared_error, x, t), (x - t) ** 2)
    np.testing.assert_allclose(_np(backend, ol.l2_loss, x, t), 0.5 * (x - t) ** 2)
    # kl_divergence sums over the last axis only: one value per row.
    assert _np(backend, ol.kl_divergence, np.log(t + 0.5), t).shape == (2,)


def test_ctc_forward_probs_by_hand(backend: Backend) -> None:
    # Computed by hand: T = 2 frames, classes (blank, 1), the label sequence (1,);
    # p(blank), p(1) = (0.25, 0.75) then (0.6, 0.4). Paths of (1,): (1, b) 0.45,
    # (b, 1) 0.1, (1, 1) 0.3, so the loss is -log 0.85. Extended labels (b, 1, b):
    # phi holds the blanks before and after the label, emit the label. At t = 0 the
    # blank after the label is unreachable: optax's log_epsilon e, twice (from the
    # blank and the label states, both at e before t = 0), times p(blank):
    # e + log 2 + log 0.25. The last row adds the paths ending on the label:
    # phi[1, 1] = log(0.75 * 0.6 + 0.4) = log 0.85 = -loss. Sample 2: the same frame 0,
    # frame 1 padded (frozen), so the loss is -log 0.75 and phi[1, 1] = log 0.75.
    # float32 inputs: rtol 1e-5.
    e = -1e5
    p = np.array([[0.25, 0.75], [0.6, 0.4]])
    logits = np.log(np.stack([p, p])).astype(np.float32)  # log_softmax: the same
    paddings = np.array([[0.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    labels = np.array([[1], [1]])
    args = [backend.asarray(a) for a in (logits, paddings, labels, np.zeros((2, 1), np.float32))]
    loss, phi, emit = (
        backend.to_numpy(a).astype(np.float64)
        for a in backend.call(ol.ctc_loss_with_forward_probs, *args)
    )
    np.testing.assert_allclose(loss, [-np.log(0.85), -np.log(0.75)], rtol=1e-5)
    l25, l5 = np.log(0.25), e + np.log(0.5)
    expected_phi = [[[l25, l5], [l25, l5]], [[np.log(0.15), np.log(0.85)], [l25, np.log(0.75)]]]
    np.testing.assert_allclose(phi, expected_phi, rtol=1e-5)
    expected_emit = [[[np.log(0.75)], [np.log(0.75)]], [[np.log(0.4)], [np.log(0.75)]]]
    np.testing.assert_allclose(emit, expected_emit, rtol=1e-5)


def test_multiclass_hinge_with_negative_scores() -> None:
    # Closed form (Crammer-Singer): max_c(s_c + 1 - [c = y]) - s_y = 1 + (-3) - (-2) = 0
    # for label 0 of scores [-2, -3, -4]; Keras's categorical hinge alone gives 3.
    s = np.array([[-2.0, -3.0, -4.0], [-2.0, -3.0, -4.0]])
    np.testing.assert_allclose(ol.multiclass_hinge_loss(s, np.array([0, 2])), [0.0, 3.0])


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda x: ol.dice_loss(x, x, alpha=0.3), "alpha = beta = 0.5"),
        (lambda x: ol.dice_loss(x, x, reduction="none"), "reduction='mean'"),
        (lambda x: ol.dice_loss(x, x, axis=(0, 1)), "default axis"),
        (lambda x: ol.smooth_labels(x, 0.1, where=x > 0), "where"),
    ],
)
def test_documented_gaps_raise(call: object, match: str) -> None:
    x = np.ones((2, 3, 2))
    with pytest.raises(NotImplementedError, match=match):
        call(x)  # type: ignore[operator]


def test_errors() -> None:
    with pytest.raises(ValueError, match="out of bounds"):
        ol.softmax_cross_entropy(_LOGITS, _LOGITS, axis=2)
    with pytest.raises(ValueError, match="must be of type 'int' or"):
        ol.softmax_cross_entropy_with_integer_labels(_LOGITS, np.array([0, 1]), axis=None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="same shape"):
        ol.squared_error(_LOGITS, _LOGITS[0])
    with pytest.raises(ValueError, match="rank 3"):
        ol.ctc_loss(_LOGITS, _LOGITS, _LOGITS, _LOGITS)
    with pytest.raises(ValueError, match="rank 3"):
        ol.ctc_loss_with_forward_probs(_LOGITS, _LOGITS, _LOGITS, _LOGITS)
