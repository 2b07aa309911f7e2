"""``arrayloss.optax`` without optax: the recorded signatures, values from optax's
documentation and closed forms, the ``where`` semantics and the documented gaps.
(tests/test_frontend_optax.py compares with the installed optax.)"""

from __future__ import annotations

import inspect
import re
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
    "multiclass_perceptron_loss": "(scores, labels)",
    "multiclass_sparsemax_loss": "(scores, labels)",
    "ntxent": "(embeddings, labels, temperature=0.07)",
    "perceptron_loss": "(predictor_outputs, targets)",
    "poly_loss_cross_entropy": "(logits, labels, *, epsilon=2.0, axis=-1, where=None)",
    # optax's default is jax.numpy.mean; arrayloss's a backend-neutral function `mean`
    # (addresses removed by _bare).
    "ranking_softmax_loss": (
        "(logits, labels, *, where=None, weights=None, reduce_fn=<function mean>)"
    ),
    "safe_softmax_cross_entropy": "(logits, labels)",
    "sigmoid_binary_cross_entropy": "(logits, labels)",
    "sigmoid_focal_loss": "(logits, labels, *, alpha=None, gamma=2.0)",
    "smooth_labels": "(labels, alpha, *, axis=-1, where=None)",
    "softmax_cross_entropy": "(logits, labels, axis=-1, where=None)",
    "softmax_cross_entropy_with_integer_labels": "(logits, labels, axis=-1, where=None)",
    "sparsemax_loss": "(logits, labels)",
    "squared_error": "(predictions, targets=None)",
    "triplet_margin_loss": (
        "(anchors, positives, negatives, axis=-1, norm_degree=2, margin=1.0, eps=1e-06)"
    ),
}
# The rest of optax 0.2.8's optax.losses: not provided (reasons in ol.NOT_PROVIDED).
NOT_PROVIDED = {"make_fenchel_young_loss"}


def _bare(sig: inspect.Signature) -> str:
    params = [p.replace(annotation=inspect.Parameter.empty) for p in sig.parameters.values()]
    text = str(sig.replace(parameters=params, return_annotation=inspect.Signature.empty))
    return re.sub(r" at 0x[0-9a-fA-F]+>", ">", text)


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


# --- perceptron, sparsemax and ranking losses: closed forms ----------------------------------


def test_perceptron_losses(backend: Backend) -> None:
    # Closed form max(0, -x y): [max(0, -0.5), max(0, 2), max(0, -0.0)].
    x = np.array([[0.5, -2.0, 0.0]], dtype=np.float32)
    y = np.array([[1.0, 1.0, -1.0]], dtype=np.float32)
    np.testing.assert_array_equal(_np(backend, ol.perceptron_loss, x, y), [[0.0, 2.0, 0.0]])
    # Closed form max_c s_c - s_y: label 1 of (2, 0.5, -1) gives 2 - 0.5; label 0 gives 0.
    s = np.array([[2.0, 0.5, -1.0], [2.0, 0.5, -1.0]], dtype=np.float32)
    got = _np(backend, ol.multiclass_perceptron_loss, s, np.array([1, 0]))
    np.testing.assert_allclose(got, [1.5, 0.0])
    # One row of scores, a 0-d label (optax's shapes too): 0.7 - 0.1.
    one = np.array([0.1, 0.7, 0.3], dtype=np.float32)
    got = _np(backend, ol.multiclass_perceptron_loss, one, np.array(0))
    np.testing.assert_allclose(got, 0.6, rtol=1e-6)


def test_multiclass_hinge_one_class_and_3d(backend: Backend) -> None:
    # Closed forms: one class, max(s + 1 - 1) - s = 0 (optax's); (2, 3, C) scores give
    # (2, 3) losses, max_c(s_c + 1 - [c = y]) - s_y per row: for rows (0, 1, 3), label 0
    # gives max(0, 2, 4) - 0 = 4 and label 2 gives max(1, 2, 3) - 3 = 0.
    got = _np(backend, ol.multiclass_hinge_loss, np.array([[0.4], [-2.0]]), np.array([0, 0]))
    np.testing.assert_array_equal(got, [0.0, 0.0])
    s = np.broadcast_to(np.array([0.0, 1.0, 3.0]), (2, 3, 3)).copy()
    labels = np.array([[0, 2, 0], [2, 2, 0]])
    got = _np(backend, ol.multiclass_hinge_loss, s, labels)
    np.testing.assert_allclose(got, [[4.0, 0.0, 4.0], [0.0, 0.0, 4.0]])


def test_sparsemax_loss_is_sparse_plus(backend: Backend) -> None:
    # jax.nn.sparse_plus's closed form: 0 for x <= -1, (x + 1)^2 / 4 between, x from 1;
    # label 0 takes sparse_plus(x), a true label sparse_plus(-x).
    x = np.array([-2.0, -1.0, 0.0, 0.5, 1.0, 3.0], dtype=np.float32)
    got = _np(backend, ol.sparsemax_loss, x, np.zeros(6, dtype=np.int64))
    np.testing.assert_allclose(got, [0.0, 0.0, 0.25, 0.5625, 1.0, 3.0])
    got = _np(backend, ol.sparsemax_loss, x, np.ones(6, dtype=bool))
    np.testing.assert_allclose(got, [2.0, 1.0, 0.25, 0.0625, 0.0, 0.0])


def test_multiclass_sparsemax_loss(backend: Backend) -> None:
    # By hand: sparsemax(1, 0.5, -1): sorted (1, 0.5, -1), cumulative sums (1, 1.5, 0.5);
    # 1/2 + 0.5 - 1.5/2 > 0 but 1/3 - 1 - 0.5/3 < 0, so k = 2, tau = (1.5 - 1) / 2 = 0.25
    # and p = (0.75, 0.25, 0). The loss is s.p - |p|^2 / 2 + 1/2 - s_y = 1.0625 - s_y:
    # 0.0625, 0.5625 and 2.0625 for labels 0, 1, 2. Equal scores: p = 1/3 each, and
    # 0.3 - 1/6 + 1/2 - 0.3 = 1/3.
    s = np.array([[1.0, 0.5, -1.0]] * 3 + [[0.3, 0.3, 0.3]], dtype=np.float32)
    got = _np(backend, ol.multiclass_sparsemax_loss, s, np.array([0, 1, 2, 1]))
    np.testing.assert_allclose(got, [0.0625, 0.5625, 2.0625, 1 / 3], rtol=1e-6)
    # Any batch shape: (2, 1, 3) scores, (2, 1) labels.
    got = _np(backend, ol.multiclass_sparsemax_loss, s[:2, None], np.array([[0], [1]]))
    np.testing.assert_allclose(got, [[0.0625], [0.5625]], rtol=1e-6)


def _gradients(backend: Backend, fn: object, x: np.ndarray, *rest: object) -> np.ndarray:
    """The gradient of ``fn(x, *rest).sum()`` with respect to ``x`` on an autodiff
    backend (torch: autograd, JAX: jax.grad)."""
    args = [backend.asarray(a) if isinstance(a, np.ndarray) else a for a in rest]
    if backend.module == "torch":
        t = backend.asarray(x).detach().requires_grad_(True)
        fn(t, *args).sum().backward()  # type: ignore[operator]
        return t.grad.detach().cpu().numpy().astype(np.float64)
    import jax

    grad = jax.grad(lambda v: fn(v, *args).sum())(backend.asarray(x))  # type: ignore[operator]
    return np.asarray(grad, dtype=np.float64)


def test_gradients_by_hand(backend: Backend) -> None:
    if not backend.autodiff or backend.gpu:
        pytest.skip("gradients: torch and JAX on the CPU")
    # The sparsemax loss's gradient is p - e_y: (0.75 - 1, 0.25, 0) for the scores above.
    s = np.array([[1.0, 0.5, -1.0]], dtype=np.float32)
    got = _gradients(backend, ol.multiclass_sparsemax_loss, s, np.array([0]))
    np.testing.assert_allclose(got, [[-0.25, 0.25, 0.0]], atol=1e-6)
    # At the support's boundary (p = (1, 0), its second entry exactly 0) optax's support
    # mask counts only p > 0: the gradient is (1 - 1, 0) for label 0.
    got = _gradients(backend, ol.multiclass_sparsemax_loss, np.array([[1.0, 0.0]]), np.array([0]))
    np.testing.assert_allclose(got, [[0.0, 0.0]], atol=1e-12)
    # sparse_plus's derivative clip((x + 1) / 2, 0, 1): 0, 0.5, 1 at x = -1, 0, 1.
    x = np.array([-1.0, 0.0, 1.0])
    got = _gradients(backend, ol.sparsemax_loss, x, np.zeros(3, dtype=np.int64))
    np.testing.assert_allclose(got, [0.0, 0.5, 1.0])
    # The perceptron's kink at x y = 0: maximum's tie split, -y / 2 (jnp.maximum's too).
    got = _gradients(backend, ol.perceptron_loss, np.array([0.0, 1.0]), np.array([1.0, -1.0]))
    np.testing.assert_allclose(got, [-0.5, 1.0])
    # Equal scores (C = 3), multiclass hinge: optax's jnp.max shares the other two
    # classes' s_c + 1: (0.5, 0.5, -1) for label 2.
    s = np.array([[0.3, 0.3, 0.3]])
    got = _gradients(backend, ol.multiclass_hinge_loss, s, np.array([2]))
    np.testing.assert_allclose(got, [[0.5, 0.5, -1.0]], atol=1e-12)


def test_ranking_softmax_loss_docstring_examples(backend: Backend) -> None:
    # optax 0.2.8's losses/_ranking.py docstring: 1.408, then 0.497 with `where`, and the
    # gradient [-0.755, 0.09, 0.665]. Closed forms: logsumexp(2, 1, 3) - 2 = 1.4076;
    # log(1 + e^-1) = 0.3133 and logsumexp(1, 0.5, 1.5) - 1.5 = 0.6803, mean 0.4968.
    scores = np.array([2.0, 1.0, 3.0], dtype=np.float32)
    labels = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    np.testing.assert_allclose(
        _np(backend, ol.ranking_softmax_loss, scores, labels), 1.408, atol=5e-4
    )
    batch = np.array([[2.0, 1.0, 0.0], [1.0, 0.5, 1.5]], dtype=np.float32)
    batch_labels = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], dtype=np.float32)
    keep = np.array([[True, True, False], [True, True, True]])
    got = _np(backend, ol.ranking_softmax_loss, batch, batch_labels, where=keep)
    np.testing.assert_allclose(got, 0.497, atol=5e-4)
    if backend.autodiff and not backend.gpu:
        got = _gradients(backend, ol.ranking_softmax_loss, scores, labels)
        np.testing.assert_allclose(got, [-0.755, 0.09, 0.665], atol=5e-4)


def test_ranking_softmax_loss_reductions(backend: Backend) -> None:
    # Closed forms: list 0 keeps items 0 and 1 (labels 1, 0): log(1 + e^-1); list 1
    # keeps none: 0, and out of the mean; weights multiply the labels.
    x = np.array([[2.0, 1.0, 5.0], [0.0, 1.0, 2.0]])
    labels = np.array([[1.0, 0.0, 3.0], [1.0, 1.0, 1.0]])
    keep = np.array([[True, True, False], [False, False, False]])
    first = np.log1p(np.exp(-1.0))
    got = _np(backend, ol.ranking_softmax_loss, x, labels, where=keep, reduce_fn=None)
    np.testing.assert_allclose(got, [first, 0.0])
    got = _np(backend, ol.ranking_softmax_loss, x, labels, where=keep)
    np.testing.assert_allclose(got, first)  # the mean over the one list kept
    got = _np(backend, ol.ranking_softmax_loss, x, labels, where=keep, reduce_fn=np.sum)
    np.testing.assert_allclose(got, first)  # NumPy's sum, recognized on every backend
    weights = np.array([[2.0, 7.0, 1.0], [1.0, 1.0, 1.0]])
    got = _np(
        backend, ol.ranking_softmax_loss, x, labels, where=keep, weights=weights, reduce_fn=None
    )
    np.testing.assert_allclose(got, [2 * first, 0.0])
    # No list kept: the default mean is 0 (optax's _safe_reduce), not NaN.
    got = _np(backend, ol.ranking_softmax_loss, x, labels, where=np.zeros((2, 3), dtype=bool))
    assert got == 0.0


def test_ranking_softmax_loss_calls_a_custom_reduce_fn() -> None:
    seen = {}

    def reduce_fn(loss: np.ndarray, where: object = None) -> object:
        seen["where"] = where
        return loss.max()

    x = np.array([[2.0, 1.0], [0.0, 3.0]])
    labels = np.array([[1.0, 0.0], [1.0, 0.0]])
    # Closed form: the per-list losses log(1 + e^-1) and log(1 + e^3); optax's call
    # passes `where` (None here) as a keyword.
    got = ol.ranking_softmax_loss(x, labels, reduce_fn=reduce_fn)
    np.testing.assert_allclose(got, np.log1p(np.exp(3.0)))
    assert "where" in seen
    assert seen["where"] is None


def test_new_entries_errors() -> None:
    with pytest.raises(ValueError, match="Shape mismatch"):
        ol.perceptron_loss(np.ones((2, 3)), np.ones(3))
    with pytest.raises(ValueError, match="`labels` must have the shape of `scores`"):
        ol.multiclass_sparsemax_loss(np.ones((2, 3)), np.array([0, 1, 2]))
    with pytest.raises(TypeError, match="`labels` must have an integer dtype"):
        ol.multiclass_sparsemax_loss(np.ones((2, 3)), np.array([0.0, 1.0]))
    with pytest.raises(TypeError, match="`logits` must have a real floating-point dtype"):
        ol.ranking_softmax_loss(np.ones((2, 3), dtype=np.int64), np.ones((2, 3)))
    with pytest.raises(TypeError, match="`logits` must have a real floating-point dtype"):
        ol.sparsemax_loss(np.ones(3, dtype=np.int64), np.ones(3))
