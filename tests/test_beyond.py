"""The losses PyTorch lacks (issue 10) on every backend, against the framework each comes
from: optax and Keras 3 directly (values, and gradients by ``jax.grad``), torchvision and
MindSpore by their documented formulas and examples. Never against arrayloss itself."""

from __future__ import annotations

import functools
import inspect
import math
import os
import warnings
from typing import Any

import numpy as np
import pytest

import arrayloss
from conformance.backends import Backend, backend_by_name
from tests.helpers import REDUCTIONS, assert_matches, rounded

os.environ.setdefault("KERAS_BACKEND", "jax")


def _jnp() -> Any:
    pytest.importorskip("jax")
    backend_by_name("jax").namespace()  # 64-bit JAX
    import jax.numpy as jnp

    return jnp


def _reduce(loss: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "none":
        return loss
    # sum / size: the mean of no element is NaN (as PyTorch and arrayloss), silently.
    with np.errstate(invalid="ignore"):
        return np.asarray(loss.sum() if reduction == "sum" else loss.sum() / loss.size)


def call(backend: Backend, name: str, *arrays: Any, dtype: str = "float64", **kwargs: Any) -> Any:
    def to(a: Any) -> Any:
        if not isinstance(a, np.ndarray):
            return a
        return backend.asarray(a, "int64" if a.dtype.kind in "iu" else dtype)

    kwargs = {k: to(v) for k, v in kwargs.items()}
    return backend.call(getattr(arrayloss, name), *(to(a) for a in arrays), **kwargs)


# --- sigmoid_focal_loss: torchvision's formula, optax's function --------------------------


def torchvision_sigmoid_focal(
    inputs: np.ndarray, targets: np.ndarray, alpha: float, gamma: float, reduction: str
) -> np.ndarray:
    """torchvision.ops.sigmoid_focal_loss, transcribed from its documented source
    (torchvision/ops/focal_loss.py; torchvision is not installable here), in float64."""
    import torch
    import torch.nn.functional as F

    x, t = torch.tensor(inputs), torch.tensor(targets)
    p = torch.sigmoid(x)
    ce_loss = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    p_t = p * t + (1 - p) * (1 - t)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = alpha * t + (1 - alpha) * (1 - t)
        loss = alpha_t * loss
    return _reduce(loss.numpy(), reduction)


def optax_sigmoid_focal(
    inputs: np.ndarray, targets: np.ndarray, alpha: float, gamma: float, reduction: str
) -> np.ndarray:
    optax = pytest.importorskip("optax")
    jnp = _jnp()
    loss = optax.losses.sigmoid_focal_loss(
        jnp.asarray(inputs), jnp.asarray(targets), alpha=None if alpha < 0 else alpha, gamma=gamma
    )
    return _reduce(np.asarray(loss, dtype=np.float64), reduction)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(), (7,), (4, 5), (2, 3, 4), (0, 3)], ids=str)
def test_sigmoid_focal_matches_torchvision_formula(
    backend: Backend, rng: np.random.Generator, reduction: str, shape: Any
) -> None:
    x = np.asarray(rng.normal(size=shape) * 3)
    t = np.asarray(rng.integers(0, 2, size=shape), dtype=np.float64)
    expected = torchvision_sigmoid_focal(x, t, 0.25, 2, reduction)
    result = call(backend, "sigmoid_focal_loss", x, t, reduction=reduction)
    assert_matches(backend, result, expected, "float64")


@pytest.mark.parametrize(
    ("alpha", "gamma"), [(-1.0, 2.0), (0.5, 0.0), (0.25, 1.0), (0.9, 3.5), (0.0, 0.5)]
)
def test_sigmoid_focal_matches_optax(
    backend: Backend, rng: np.random.Generator, alpha: float, gamma: float
) -> None:
    x = rng.normal(size=(6, 5)) * 3
    t = rng.uniform(size=(6, 5))  # soft labels, as optax allows
    expected = optax_sigmoid_focal(x, t, alpha, gamma, "none")
    result = call(backend, "sigmoid_focal_loss", x, t, alpha=alpha, gamma=gamma)
    assert_matches(backend, result, expected, "float64")


def test_sigmoid_focal_every_dtype_matches_optax(
    backend: Backend, rng: np.random.Generator
) -> None:
    for dtype in backend.dtypes:
        x = rounded(rng.normal(size=(6, 5)) * 3, dtype)
        t = rounded(rng.integers(0, 2, size=(6, 5)).astype(np.float64), dtype)
        assert x is not None
        assert t is not None
        for reduction in REDUCTIONS:
            # optax in float64 on the rounded values, rounded once to the dtype.
            expected = rounded(optax_sigmoid_focal(x, t, 0.25, 2.0, reduction), dtype)
            assert expected is not None
            result = call(backend, "sigmoid_focal_loss", x, t, dtype=dtype, reduction=reduction)
            assert_matches(backend, result, expected, dtype)


def test_sigmoid_focal_saturated_logits_closed_form(backend: Backend) -> None:
    # Closed form in float64, s = sigmoid(-x): x = 50, t = 0: (1 - p_t)^2 = (1 - s)^2,
    # alpha_t = 0.75, ce = 50 + log1p(s'); x = 0, t = 1: 0.25 (1/2)^2 log 2.
    x = np.array([50.0, 0.0])
    t = np.array([0.0, 1.0])
    s = 1.0 / (1.0 + math.exp(50.0))
    expected = np.array(
        [
            0.75 * (1.0 - s) ** 2 * (50.0 + math.log1p(math.exp(-50.0))),
            0.25 * 0.25 * math.log(2.0),
        ]
    )
    assert_matches(backend, call(backend, "sigmoid_focal_loss", x, t), expected, "float64")


def test_sigmoid_focal_keeps_small_losses_where_torchvision_cancels(backend: Backend) -> None:
    # x = 20, t = 1 in float32: sigmoid(20) rounds to 1, so torchvision's 1 - p_t is 0 and
    # its loss 0. Closed form (float64): 0.25 sigmoid(-20)^2 log1p(e^-20) ~ 2.2e-27, a
    # normal float32; arrayloss's 1 - p_t = sigmoid(-20) keeps it.
    s = 1.0 / (1.0 + math.exp(20.0))
    expected = 0.25 * s**2 * math.log1p(math.exp(-20.0))
    result = call(backend, "sigmoid_focal_loss", np.array([20.0]), np.array([1.0]), dtype="float32")
    np.testing.assert_allclose(backend.to_numpy(result), [expected], rtol=1e-5)
    assert torchvision_sigmoid_focal(np.float32([20.0]), np.float32([1.0]), 0.25, 2, "none")[0] == 0


def test_sigmoid_focal_integer_targets_are_promoted(backend: Backend) -> None:
    # Closed form: logit 0, so every p_t is 1/2.
    result = call(backend, "sigmoid_focal_loss", np.zeros(2), np.array([1, 0]), reduction="sum")
    assert_matches(backend, result, np.asarray(0.25 * math.log(2.0)), "float64")


# --- softmax_focal_loss: Keras's function, MindSpore's documented example ------------------


def keras_categorical_focal(
    logits: np.ndarray, y_true: np.ndarray, alpha: float, gamma: float, axis: int
) -> np.ndarray:
    """keras.losses.categorical_focal_crossentropy(y_true, y_pred, from_logits=True)."""
    keras = pytest.importorskip("keras")
    jnp = _jnp()
    loss = keras.losses.categorical_focal_crossentropy(
        jnp.asarray(y_true), jnp.asarray(logits), alpha=alpha, gamma=gamma, from_logits=True,
        axis=axis,
    )  # fmt: skip
    return np.asarray(loss, dtype=np.float64)


def one_hot(t: np.ndarray, n_classes: int, axis: int) -> np.ndarray:
    valid = (t >= 0) & (t < n_classes)
    hot = np.eye(n_classes)[np.where(valid, t, 0)] * valid[..., None]
    return np.moveaxis(hot, -1, axis)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(4,), (6, 4), (2, 4, 3, 2)], ids=str)
@pytest.mark.parametrize("with_weight", [False, True], ids=["plain", "weight"])
def test_softmax_focal_with_indices_matches_keras(
    backend: Backend, rng: np.random.Generator, reduction: str, shape: Any, with_weight: bool
) -> None:
    axis = 0 if len(shape) == 1 else 1
    c = shape[axis]
    x = rng.normal(size=shape) * 2
    t = np.asarray(rng.integers(0, c, size=shape[:axis] + shape[axis + 1 :]))
    if t.ndim:
        t.flat[0] = -100  # ignored
    w = rng.uniform(0.5, 2.0, size=c) if with_weight else None
    y = one_hot(t, c, axis)
    if w is not None:  # MindSpore's per-class weight on the one-hot target
        y = y * w.reshape((-1,) + (1,) * (len(shape) - axis - 1))
    per_sample = keras_categorical_focal(x, y, 0.25, 2.0, axis)
    counted = (t != -100).sum()
    if reduction == "mean":
        expected = np.asarray(per_sample.sum() / counted)
    else:
        expected = _reduce(per_sample, reduction)
    kwargs: dict[str, Any] = {"reduction": reduction}
    if w is not None:
        kwargs["weight"] = w
    result = call(backend, "softmax_focal_loss", x, t, **kwargs)
    assert_matches(backend, result, expected, "float64")


@pytest.mark.parametrize(("alpha", "gamma"), [(1.0, 0.0), (0.5, 1.0), (0.25, 3.5)])
def test_softmax_focal_with_probabilities_matches_keras(
    backend: Backend, rng: np.random.Generator, alpha: float, gamma: float
) -> None:
    x = rng.normal(size=(5, 3, 2)) * 2
    t = rng.uniform(size=(5, 3, 2))
    expected = keras_categorical_focal(x, t, alpha, gamma, axis=1)
    result = call(backend, "softmax_focal_loss", x, t, alpha=alpha, gamma=gamma, reduction="none")
    assert_matches(backend, result, expected, "float64")


def test_softmax_focal_gamma_0_alpha_1_is_cross_entropy(
    backend: Backend, rng: np.random.Generator
) -> None:
    # Closed form: gamma = 0, alpha = 1 is the cross entropy, -log softmax at the target.
    x = rng.normal(size=(5, 4))
    t = rng.integers(0, 4, size=5)
    logp = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
    expected = np.asarray(-logp[np.arange(5), t].mean())
    result = call(backend, "softmax_focal_loss", x, t, alpha=1.0, gamma=0.0)
    assert_matches(backend, result, expected, "float64")


def test_softmax_focal_mindspore_documented_example(backend: Backend) -> None:
    # mindspore.nn.FocalLoss docs: weight [1, 2], gamma 2, reduction 'mean' on these
    # logits and labels prints 0.12516622 (float32 output, 8 digits).
    logits = np.array([[0.8, 1.4], [0.5, 0.9], [1.2, 0.9]])
    labels = np.array([1, 1, 0])
    result = call(
        backend, "softmax_focal_loss", logits, labels, dtype="float32",
        weight=np.array([1.0, 2.0]), alpha=1.0, gamma=2.0,
    )  # fmt: skip
    assert backend.dtype_name(result) == "float32"
    # Within a few float32 ulps (MindSpore rounds its own float32 steps; exact: 0.1251662066).
    np.testing.assert_allclose(backend.to_numpy(result), 0.12516622, rtol=4e-7)


def test_softmax_focal_every_dtype_matches_keras(
    backend: Backend, rng: np.random.Generator
) -> None:
    for dtype in backend.dtypes:
        x = rounded(rng.normal(size=(6, 3)) * 2, dtype)
        assert x is not None
        t = rng.integers(0, 3, size=6)
        # Keras in float64 on the rounded logits, rounded once to the dtype.
        expected = rounded(
            np.asarray(keras_categorical_focal(x, one_hot(t, 3, 1), 0.25, 2.0, 1).mean()), dtype
        )
        assert expected is not None
        result = call(backend, "softmax_focal_loss", x, t, dtype=dtype)
        assert_matches(backend, result, expected, dtype)


def test_softmax_focal_all_ignored_mean_is_nan(backend: Backend) -> None:
    # The mean over no counted sample: 0 / 0.
    result = call(backend, "softmax_focal_loss", np.zeros((2, 3)), np.array([-100, -100]))
    assert np.isnan(backend.to_numpy(result))


# --- gradients: jax.grad of optax's and Keras's functions ------------------------------------


def _autodiff_grad(backend: Backend, name: str, x: np.ndarray, *rest: Any, **kwargs: Any) -> Any:
    if backend.module == "torch":
        xb = backend.asarray(x).requires_grad_()
        others = [backend.asarray(a) for a in rest]
        getattr(arrayloss, name)(xb, *others, **kwargs).sum().backward()
        return backend.to_numpy(xb.grad)
    import jax

    grad = jax.grad(lambda a, *o: getattr(arrayloss, name)(a, *o, **kwargs).sum())
    if backend.jit:
        grad = jax.jit(grad)
    return backend.to_numpy(grad(backend.asarray(x), *(backend.asarray(a) for a in rest)))


def _autodiff_backends() -> list[Backend]:
    from tests.test_gradients_and_transforms import AUTODIFF

    return [p.values[0] for p in AUTODIFF if not p.values[0].skip_reason()]  # type: ignore[union-attr]


@pytest.mark.parametrize(("alpha", "gamma"), [(0.25, 2.0), (-1.0, 1.0), (0.5, 3.5)])
def test_sigmoid_focal_gradient_equals_jax_grad_of_optax(
    rng: np.random.Generator, alpha: float, gamma: float
) -> None:
    optax = pytest.importorskip("optax")
    import jax

    jnp = _jnp()
    x = rng.normal(size=(4, 3)) * 3
    t = rng.integers(0, 2, size=(4, 3)).astype(np.float64)

    def reference(a: Any) -> Any:
        return jnp.mean(
            optax.losses.sigmoid_focal_loss(
                a, jnp.asarray(t), alpha=None if alpha < 0 else alpha, gamma=gamma
            )
        )

    expected = np.asarray(jax.grad(reference)(jnp.asarray(x)))
    for backend in _autodiff_backends():
        got = _autodiff_grad(
            backend, "sigmoid_focal_loss", x, t, alpha=alpha, gamma=gamma, reduction="mean"
        )
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-14, err_msg=backend.name)


def test_softmax_focal_gradient_equals_jax_grad_of_keras(rng: np.random.Generator) -> None:
    keras = pytest.importorskip("keras")
    import jax

    jnp = _jnp()
    x = rng.normal(size=(5, 4)) * 2
    t = rng.integers(0, 4, size=5)
    y = jnp.asarray(one_hot(t, 4, 1))

    def reference(a: Any) -> Any:
        loss = keras.losses.categorical_focal_crossentropy(y, a, from_logits=True)
        return jnp.sum(loss)

    expected = np.asarray(jax.grad(reference)(jnp.asarray(x)))
    for backend in _autodiff_backends():
        got = _autodiff_grad(backend, "softmax_focal_loss", x, t, reduction="sum")
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-14, err_msg=backend.name)


# --- errors -------------------------------------------------------------------------------


def test_focal_errors(backend: Backend) -> None:
    with pytest.raises(
        ValueError, match=r"`targets` must have the shape of `inputs` \(4,\); got \(2,\)"
    ):
        call(backend, "sigmoid_focal_loss", np.zeros(4), np.ones(2))
    with pytest.raises(ValueError, match=r"`gamma` must be a float >= 0; got -1.0"):
        call(backend, "sigmoid_focal_loss", np.zeros(4), np.ones(4), gamma=-1.0)
    with pytest.raises(ValueError, match="`reduction` must be one of 'none', 'mean', 'sum'"):
        call(backend, "softmax_focal_loss", np.zeros((2, 3)), np.array([0, 1]), reduction="avg")
    with pytest.raises(TypeError, match="`alpha` must be a float; got str"):
        call(backend, "softmax_focal_loss", np.zeros((2, 3)), np.array([0, 1]), alpha="0.25")
    with pytest.raises(ValueError, match=r"`target` of class indices must have shape \(2,\)"):
        call(backend, "softmax_focal_loss", np.zeros((2, 3)), np.array([0, 1, 2]))
    if not (backend.jit or backend.lazy):  # value checks: eager arrays only
        with pytest.raises(IndexError, match=r"class index 3, outside \[0, 3\)"):
            call(backend, "softmax_focal_loss", np.zeros((2, 3)), np.array([0, 3]))


# --- the classes and the signatures --------------------------------------------------------

#: The source framework's signature of each function (torchvision is not installed here:
#: its documented signature, torchvision.ops.sigmoid_focal_loss).
SOURCE_SIGNATURES = {
    "sigmoid_focal_loss": "(inputs, targets, alpha=0.25, gamma=2, reduction='none')",
}


def test_sigmoid_focal_signature_is_torchvisions() -> None:
    *params, empty, last = inspect.signature(arrayloss.sigmoid_focal_loss).parameters.values()
    # torchvision's parameters, then arrayloss's keyword-only empty and sample_weight.
    assert (empty.name, empty.kind, empty.default) == ("empty", empty.KEYWORD_ONLY, "nan")
    assert (last.name, last.kind, last.default) == ("sample_weight", last.KEYWORD_ONLY, None)
    ours = ", ".join(p.name + ("" if p.default is p.empty else f"={p.default!r}") for p in params)
    assert f"({ours})" == SOURCE_SIGNATURES["sigmoid_focal_loss"]


def test_softmax_focal_defaults_are_keras() -> None:
    keras = pytest.importorskip("keras")
    theirs = inspect.signature(keras.losses.CategoricalFocalCrossentropy.__init__).parameters
    ours = inspect.signature(arrayloss.softmax_focal_loss).parameters
    for name in ("alpha", "gamma"):
        assert ours[name].default == theirs[name].default


@pytest.mark.parametrize(
    ("cls", "fn", "kwargs"),
    [
        ("SigmoidFocalLoss", "sigmoid_focal_loss", {"alpha": 0.5, "gamma": 1.0}),
        ("SoftmaxFocalLoss", "softmax_focal_loss", {"alpha": 1.0, "ignore_index": 2}),
    ],
)
def test_class_equals_torchvision_or_keras(
    backend: Backend, rng: np.random.Generator, cls: str, fn: str, kwargs: dict[str, Any]
) -> None:
    x = rng.normal(size=(5, 3))
    if fn == "sigmoid_focal_loss":
        t = rng.integers(0, 2, size=(5, 3)).astype(np.float64)
        expected = torchvision_sigmoid_focal(x, t, 0.5, 1.0, "sum")
    else:
        t = np.array([0, 2, 1, 2, 0])
        per_sample = keras_categorical_focal(x, one_hot(np.where(t == 2, -1, t), 3, 1), 1.0, 2.0, 1)
        expected = np.asarray(per_sample.sum())
    loss = getattr(arrayloss, cls)(**kwargs, reduction="sum")
    result = backend.call(loss, backend.asarray(x), backend.asarray(t))
    assert_matches(backend, result, expected, "float64")


def test_class_repr_and_errors() -> None:
    assert repr(arrayloss.SigmoidFocalLoss()) == (
        "SigmoidFocalLoss(alpha=0.25, gamma=2, reduction='none')"
    )
    loss = arrayloss.SoftmaxFocalLoss(weight=np.ones(3), ignore_index=0)
    assert repr(loss) == (
        "SoftmaxFocalLoss(alpha=0.25, gamma=2.0, reduction='mean', "
        "weight=<ndarray of shape (3,)>, ignore_index=0)"
    )
    with pytest.raises(TypeError, match=r"SigmoidFocalLoss\(\) got an array for `alpha`"):
        arrayloss.SigmoidFocalLoss(np.zeros(3))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="`gamma` must be a float >= 0"):
        arrayloss.SoftmaxFocalLoss(gamma=-2.0)
    with pytest.raises(ValueError, match="`reduction` must be one of"):
        arrayloss.SoftmaxFocalLoss(reduction="batchmean")


# --- conformance: the runner catches a wrong loss ------------------------------------------


def test_conformance_against_the_source_framework_can_fail() -> None:
    pytest.importorskip("optax")
    from conformance.runner import run

    def off_by_a_little(inputs: Any, targets: Any, **kwargs: Any) -> Any:
        return np.asarray(arrayloss.sigmoid_focal_loss(inputs, targets, **kwargs) * (1 + 1e-6))

    kwargs: dict[str, Any] = {
        "losses": ["sigmoid_focal_loss"],
        "backends": ["numpy"],
        "dtypes": ["float64"],
        "cases": ["sigmoid_focal_loss/(4,3)-sum-binary"],
    }
    assert run(**kwargs).ok
    failed = run(**kwargs, function=off_by_a_little)
    assert not failed.ok
    assert "out of tolerance" in (failed.failures[0].message or "")


# --- dice_loss, tversky_loss, multiclass_dice_loss -----------------------------------------


def keras_fn(name: str, y_true: np.ndarray, y_pred: np.ndarray, **kwargs: Any) -> np.ndarray:
    keras = pytest.importorskip("keras")
    jnp = _jnp()
    out = getattr(keras.losses, name)(jnp.asarray(y_true), jnp.asarray(y_pred), **kwargs)
    return np.asarray(out, dtype=np.float64)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(5,), (4, 3), (2, 3, 4)], ids=str)
def test_dice_matches_keras(
    backend: Backend, rng: np.random.Generator, reduction: str, shape: Any
) -> None:
    x = rng.uniform(size=shape)
    t = rng.integers(0, 2, size=shape).astype(np.float64)
    # keras.losses.dice with axis = every axis but the batch axis: one value per sample.
    expected = _reduce(keras_fn("dice", t, x, axis=tuple(range(1, len(shape)))), reduction)
    assert_matches(
        backend, call(backend, "dice_loss", x, t, reduction=reduction), expected, "float64"
    )


def test_dice_keras_documented_example(backend: Backend) -> None:
    # keras.losses.dice's docstring: [0.5, 0.75757575] with axis=(1, 2, 3); 0.6164384
    # with axis=None (one ratio over the batch).
    y_true = np.array([[[[1.0], [1.0]], [[0.0], [0.0]]], [[[1.0], [1.0]], [[0.0], [0.0]]]])
    y_pred = np.array([[[[0.0], [1.0]], [[0.0], [1.0]]], [[[0.4], [0.0]], [[0.0], [0.9]]]])
    per_sample = call(backend, "dice_loss", y_pred, y_true, dtype="float32", reduction="none")
    np.testing.assert_allclose(backend.to_numpy(per_sample), [0.5, 0.75757575], rtol=1e-6)
    whole = call(backend, "dice_loss", y_pred, y_true, dtype="float32", batch=True)
    np.testing.assert_allclose(backend.to_numpy(whole), 0.6164384, rtol=1e-6)


def test_dice_mindspore_documented_example(backend: Backend) -> None:
    # mindspore.nn.DiceLoss(smooth=1e-5) docs: 0.38596618 (float32): squares in the
    # denominator, the smoothing there only, one ratio over everything.
    logits = np.array([[0.2, 0.5], [0.3, 0.1], [0.9, 0.6]])
    labels = np.array([[0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    result = call(
        backend, "dice_loss", logits, labels, dtype="float32", squared=True, batch=True,
        smooth_dr=1e-5,
    )  # fmt: skip
    np.testing.assert_allclose(backend.to_numpy(result), 0.38596618, rtol=4e-7)


def test_dice_smoothing_is_optax_with_twice_its_smooth(
    backend: Backend, rng: np.random.Generator
) -> None:
    # optax.losses.binary_dice_loss(logits, labels, smooth=s) (sigmoid applied) is
    # (I + s) / (P/2 + T/2 + s): smooth_nr = smooth_dr = 2 s here, on sigmoid(logits).
    optax = pytest.importorskip("optax")
    jnp = _jnp()
    logits = rng.normal(size=(4, 6))
    t = rng.integers(0, 2, size=(4, 6)).astype(np.float64)
    expected = np.asarray(
        optax.losses.binary_dice_loss(jnp.asarray(logits), jnp.asarray(t), smooth=0.75),
        dtype=np.float64,
    )
    p = 1 / (1 + np.exp(-logits))
    result = call(backend, "dice_loss", p, t, smooth_nr=1.5, smooth_dr=1.5, reduction="none")
    assert_matches(backend, result, expected, "float64")


@pytest.mark.parametrize(("alpha", "beta"), [(0.3, 0.7), (1.0, 0.0), (0.5, 0.5)])
def test_tversky_matches_keras_with_alpha_and_beta_exchanged(
    backend: Backend, rng: np.random.Generator, alpha: float, beta: float
) -> None:
    x = rng.uniform(size=(4, 3, 2))
    t = rng.integers(0, 2, size=(4, 3, 2)).astype(np.float64)
    # Keras's alpha weighs the false negatives, arrayloss's (optax's) the false positives.
    expected = keras_fn("tversky", t, x, alpha=beta, beta=alpha, axis=(1, 2))
    result = call(backend, "tversky_loss", x, t, alpha=alpha, beta=beta, reduction="none")
    assert_matches(backend, result, expected, "float64")


def test_tversky_matches_optax_per_class(backend: Backend, rng: np.random.Generator) -> None:
    # optax.losses.dice_loss(alpha, beta, smooth, reduction='none') per class (classes
    # last, softmax applied): Tversky of each class's probabilities.
    optax = pytest.importorskip("optax")
    jnp = _jnp()
    x = rng.normal(size=(4, 5, 3))
    labels = rng.integers(0, 3, size=(4, 5))
    expected = np.asarray(
        optax.losses.dice_loss(
            jnp.asarray(x), jnp.asarray(np.eye(3)[labels]), smooth=0.5, alpha=0.3, beta=0.7,
            reduction="none",
        ),
        dtype=np.float64,
    )  # fmt: skip
    p = np.exp(x) / np.exp(x).sum(-1, keepdims=True)
    for c in range(3):
        result = call(
            backend, "tversky_loss", p[..., c], (labels == c).astype(np.float64), alpha=0.3,
            beta=0.7, smooth_nr=0.5, smooth_dr=0.5, reduction="none",
        )  # fmt: skip
        assert_matches(backend, result, expected[:, c], "float64")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 6), (2, 3, 3, 4)], ids=str)
@pytest.mark.parametrize("options", ["plain", "weight-ignore_0", "batch"])
def test_multiclass_dice_matches_optax(
    backend: Backend, rng: np.random.Generator, reduction: str, shape: Any, options: str
) -> None:
    optax = pytest.importorskip("optax")
    jnp = _jnp()
    x = rng.normal(size=shape) * 2
    labels = rng.integers(0, 3, size=(shape[0], *shape[2:]))
    w = rng.uniform(0.5, 2.0, size=3)
    ours: dict[str, Any] = {"smooth_nr": 1.0, "smooth_dr": 1.0}  # optax's smooth 0.5
    theirs: dict[str, Any] = {"smooth": 0.5}
    if options == "weight-ignore_0":
        ours.update(weight=w, ignore_index=0)
        theirs.update(class_weights=jnp.asarray(w), ignore_background=True)
    if options == "batch":
        ours.update(batch=True)
        theirs.update(axis=tuple(range(len(shape) - 1)))
    per_sample = optax.losses.dice_loss(
        jnp.moveaxis(jnp.asarray(x), 1, -1), jnp.asarray(np.eye(3)[labels]), **theirs
    )
    expected = _reduce(np.asarray(per_sample, dtype=np.float64), reduction)
    result = call(backend, "multiclass_dice_loss", x, labels, reduction=reduction, **ours)
    assert_matches(backend, result, expected, "float64")


def test_multiclass_dice_mindspore_documented_example(backend: Backend) -> None:
    # mindspore.nn.MultiClassDiceLoss(weights=None, ignore_indiex=None,
    # activation="softmax") docs: 0.54958105 (float32). Its labels are one-hot.
    logits = np.array([[0.2, 0.5, 0.7], [0.3, 0.1, 0.5], [0.9, 0.6, 0.3]])
    labels = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    result = call(
        backend, "multiclass_dice_loss", logits, labels, dtype="float32", squared=True,
        batch=True, smooth_dr=1e-5,
    )  # fmt: skip
    np.testing.assert_allclose(backend.to_numpy(result), 0.54958105, rtol=4e-7)


def test_overlap_sums_accumulate_in_float32_for_half_inputs(backend: Backend) -> None:
    # 2 x 40,000 ones: the sums (80,000 per sample with the target's) overflow float16
    # (max 65,504). Closed form: 1 - 2 n / (2 n + 1e-7) = 0 (float32 accumulation);
    # accumulated in float16 it would be 1 - inf / inf = NaN.
    for dtype in (d for d in backend.dtypes if d in ("float16", "bfloat16")):
        ones = np.ones((2, 40_000))
        for name in ("dice_loss", "tversky_loss"):
            result = call(backend, name, ones, ones, dtype=dtype, reduction="none")
            assert backend.dtype_name(result) == dtype
            np.testing.assert_array_equal(backend.to_numpy(result), [0.0, 0.0])


def test_overlap_gradients_equal_jax_grad_of_keras_and_optax(rng: np.random.Generator) -> None:
    keras = pytest.importorskip("keras")
    optax = pytest.importorskip("optax")
    import jax

    jnp = _jnp()
    x = rng.uniform(size=(3, 5))
    t = jnp.asarray(rng.integers(0, 2, size=(3, 5)).astype(np.float64))
    logits = rng.normal(size=(3, 4, 5))
    labels = rng.integers(0, 4, size=(3, 5))
    hot = jnp.asarray(np.eye(4)[labels])
    references = {
        "dice_loss": lambda a: jnp.mean(keras.losses.dice(t, a, axis=(1,))),
        "tversky_loss": lambda a: jnp.mean(keras.losses.tversky(t, a, 0.7, 0.3, axis=(1,))),
        "multiclass_dice_loss": lambda a: jnp.mean(
            optax.losses.dice_loss(jnp.moveaxis(a, 1, -1), hot, smooth=0.5)
        ),
    }
    args: dict[str, tuple[Any, ...]] = {
        "dice_loss": (x, np.asarray(t)),
        "tversky_loss": (x, np.asarray(t)),
        "multiclass_dice_loss": (logits, labels),
    }
    kwargs: dict[str, dict[str, Any]] = {
        "dice_loss": {},
        "tversky_loss": {"alpha": 0.3, "beta": 0.7},
        "multiclass_dice_loss": {"smooth_nr": 1.0, "smooth_dr": 1.0},
    }
    for name, reference in references.items():
        first, *rest = args[name]
        expected = np.asarray(jax.grad(reference)(jnp.asarray(first)))
        for backend in _autodiff_backends():
            got = _autodiff_grad(backend, name, first, *rest, **kwargs[name])
            np.testing.assert_allclose(
                got, expected, rtol=1e-10, atol=1e-14, err_msg=f"{name} {backend.name}"
            )


def test_overlap_errors(backend: Backend) -> None:
    with pytest.raises(
        ValueError, match=r"`target` must have the shape of `input` \(2, 3\); got \(3,\)"
    ):
        call(backend, "dice_loss", np.zeros((2, 3)), np.ones(3))
    with pytest.raises(ValueError, match="`input` of tversky_loss must have shape"):
        call(backend, "tversky_loss", np.zeros(()), np.ones(()))
    with pytest.raises(TypeError, match="`squared` must be a bool; got int"):
        call(backend, "dice_loss", np.zeros((2, 3)), np.ones((2, 3)), squared=1)
    with pytest.raises(ValueError, match=r"class indices of shape \(2, 4\) \(integer\)"):
        call(backend, "multiclass_dice_loss", np.zeros((2, 3, 4)), np.zeros((2, 5), dtype=int))
    if not (backend.jit or backend.lazy):
        with pytest.raises(IndexError, match=r"class index 3, outside \[0, 3\)"):
            call(backend, "multiclass_dice_loss", np.zeros((2, 3)), np.array([0, 3]))


@pytest.mark.parametrize(
    ("cls", "kwargs"),
    [
        ("DiceLoss", {"squared": True, "smooth_dr": 1e-5}),
        ("TverskyLoss", {"alpha": 0.3, "beta": 0.7}),
        ("MultiClassDiceLoss", {"ignore_index": 0, "smooth_nr": 1.0, "smooth_dr": 1.0}),
    ],
)
def test_overlap_classes_equal_the_frameworks(
    backend: Backend, rng: np.random.Generator, cls: str, kwargs: dict[str, Any]
) -> None:
    if cls == "MultiClassDiceLoss":
        optax = pytest.importorskip("optax")
        jnp = _jnp()
        x = rng.normal(size=(4, 3, 5))
        t = rng.integers(0, 3, size=(4, 5))
        expected = np.asarray(
            optax.losses.dice_loss(
                jnp.moveaxis(jnp.asarray(x), 1, -1), jnp.asarray(np.eye(3)[t]), smooth=0.5,
                ignore_background=True,
            ),
            dtype=np.float64,
        ).sum()  # fmt: skip
    else:
        x = rng.uniform(size=(4, 5))
        t = rng.integers(0, 2, size=(4, 5)).astype(np.float64)
        if cls == "DiceLoss":  # MindSpore's DiceLoss formula, per sample
            expected = np.sum(1 - 2 * (x * t).sum(1) / ((x * x).sum(1) + (t * t).sum(1) + 1e-5))
        else:
            expected = keras_fn("tversky", t, x, alpha=0.7, beta=0.3, axis=(1,)).sum()
    loss = getattr(arrayloss, cls)(**kwargs, reduction="sum")
    result = backend.call(loss, backend.asarray(x), backend.asarray(t))
    assert_matches(backend, result, np.asarray(expected), "float64")


# --- the Keras pointwise losses, categorical_hinge, poly1_cross_entropy --------------------

#: Each Keras loss's formula, transcribed from keras/src/losses/losses.py (Keras 3),
#: elementwise (Keras then averages over the last axis), in float64.
KERAS_FORMULAS = {
    "hinge": lambda x, t: np.maximum(1.0 - t * x, 0.0),
    "squared_hinge": lambda x, t: np.maximum(1.0 - t * x, 0.0) ** 2,
    "log_cosh": lambda x, t: (x - t) + np.logaddexp(0.0, -2.0 * (x - t)) - np.log(2.0),
    "mean_absolute_percentage_error": lambda x, t: (
        100.0 * np.abs((t - x) / np.maximum(np.abs(t), 1e-7))
    ),
    "mean_squared_logarithmic_error": lambda x, t: (
        (np.log(np.maximum(x, 1e-7) + 1.0) - np.log(np.maximum(t, 1e-7) + 1.0)) ** 2
    ),
}


def _pointwise_data(name: str, rng: np.random.Generator, shape: Any) -> tuple[Any, Any]:
    if name in ("hinge", "squared_hinge"):
        x, t = rng.normal(size=shape) * 2, rng.choice([-1.0, 1.0], size=shape)
    elif name == "mean_squared_logarithmic_error":
        x, t = rng.uniform(0, 3, size=shape), rng.uniform(0, 3, size=shape)
    else:
        x, t = rng.normal(size=shape) * 3, rng.normal(size=shape) * 3
    return np.asarray(x), np.asarray(t)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(), (7,), (4, 5), (2, 3, 4)], ids=str)
@pytest.mark.parametrize("name", list(KERAS_FORMULAS))
def test_keras_pointwise_losses_match_keras_formulas(
    backend: Backend, rng: np.random.Generator, name: str, shape: Any, reduction: str
) -> None:
    x, t = _pointwise_data(name, rng, shape)
    expected = _reduce(np.asarray(KERAS_FORMULAS[name](x, t)), reduction)
    assert_matches(backend, call(backend, name, x, t, reduction=reduction), expected, "float64")


@pytest.mark.parametrize("name", list(KERAS_FORMULAS))
def test_keras_pointwise_losses_match_keras(rng: np.random.Generator, name: str) -> None:
    # keras.losses.<name>(y_true, y_pred) per row against the mean over the last axis of
    # arrayloss's elementwise loss. Keras's ops.mean computes float64 in float32 on JAX:
    # float32's tolerance.
    x, t = _pointwise_data(name, rng, (6, 5))
    expected = keras_fn(name, t, x)
    got = np.asarray(getattr(arrayloss, name)(x, t, reduction="none")).mean(axis=-1)
    np.testing.assert_allclose(got, expected, rtol=2e-6)


def test_hinge_takes_0_1_labels_as_keras_does(backend: Backend) -> None:
    # keras.losses.hinge: every label 0 or 1, so y = 2 t - 1. Closed form:
    # max(0, 1 + 0.3) = 1.3, max(0, 1 - 2) = 0. With a 2 among them (not all binary),
    # labels stay: max(0, 1 - 0) = 1, max(0, 1 - 4) = 0.
    result = call(backend, "hinge", np.array([0.3, 2.0]), np.array([0.0, 1.0]), reduction="none")
    assert_matches(backend, result, np.array([1.3, 0.0]), "float64")
    result = call(backend, "hinge", np.array([0.3, 2.0]), np.array([0.0, 2.0]), reduction="none")
    assert_matches(backend, result, np.array([1.0, 0.0]), "float64")
    # Keras's own function on the same 0/1 labels (float32-accurate: its mean).
    keras_value = keras_fn("hinge", np.array([[0.0, 1.0]]), np.array([[0.3, 2.0]]))
    np.testing.assert_allclose(keras_value, [(1.3 + 0.0) / 2], rtol=2e-7)


def test_log_cosh_is_finite_for_large_errors(backend: Backend) -> None:
    # Closed form: log cosh(e) = |e| - log 2 + log1p(e^{-2|e|}); cosh(800) overflows.
    e = np.array([800.0, -800.0, 0.0, 1e-3])
    expected = np.abs(e) - np.log(2.0) + np.log1p(np.exp(-2 * np.abs(e)))
    result = call(backend, "log_cosh", e, np.zeros(4), reduction="none")
    assert_matches(backend, result, expected, "float64")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(4,), (5, 4), (2, 4, 3)], ids=str)
def test_categorical_hinge_matches_keras(
    backend: Backend, rng: np.random.Generator, shape: Any, reduction: str
) -> None:
    axis = 0 if len(shape) == 1 else 1
    x = rng.normal(size=shape) * 2
    t = one_hot(
        rng.integers(0, shape[axis], size=shape[:axis] + shape[axis + 1 :]), shape[axis], axis
    )
    # keras.losses.categorical_hinge with the classes last (no mean: float64 throughout).
    expected = keras_fn("categorical_hinge", np.moveaxis(t, axis, -1), np.moveaxis(x, axis, -1))
    result = call(backend, "categorical_hinge", x, t, reduction=reduction)
    assert_matches(backend, result, _reduce(expected, reduction), "float64")


def optax_poly1(x: np.ndarray, labels: np.ndarray, epsilon: float, axis: int) -> np.ndarray:
    optax = pytest.importorskip("optax")
    jnp = _jnp()
    out = optax.losses.poly_loss_cross_entropy(
        jnp.asarray(x), jnp.asarray(labels), epsilon=epsilon, axis=axis
    )
    return np.asarray(out, dtype=np.float64)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(4,), (6, 4), (2, 4, 3)], ids=str)
@pytest.mark.parametrize("epsilon", [2.0, 1.0, -0.5])
def test_poly1_matches_optax(
    backend: Backend, rng: np.random.Generator, shape: Any, reduction: str, epsilon: float
) -> None:
    axis = 0 if len(shape) == 1 else 1
    x = rng.normal(size=shape) * 3
    t = np.asarray(rng.integers(0, shape[axis], size=shape[:axis] + shape[axis + 1 :]))
    if t.ndim:
        t.flat[0] = -100  # ignored: out of the sum and of the mean's count
    per_sample = optax_poly1(x, one_hot(t, shape[axis], axis), epsilon, axis)
    if reduction == "mean":
        expected = np.asarray(per_sample.sum() / (t != -100).sum())
    else:
        expected = _reduce(per_sample, reduction)
    result = call(backend, "poly1_cross_entropy", x, t, epsilon=epsilon, reduction=reduction)
    assert_matches(backend, result, expected, "float64")
    # Probabilities (optax's labels as they are).
    soft = rng.uniform(size=shape)
    expected = optax_poly1(x, soft, epsilon, axis)
    result = call(backend, "poly1_cross_entropy", x, soft, epsilon=epsilon, reduction="none")
    assert_matches(backend, result, expected, "float64")


def test_pointwise_gradients_equal_jax_grad_of_the_sources(rng: np.random.Generator) -> None:
    keras = pytest.importorskip("keras")
    optax = pytest.importorskip("optax")
    import jax

    jnp = _jnp()
    x = rng.normal(size=(4, 3)) * 2
    signs = rng.choice([-1.0, 1.0], size=(4, 3))
    labels = rng.integers(0, 3, size=4)
    hot = one_hot(labels, 3, 1)
    cases: dict[str, tuple[Any, tuple[Any, ...], dict[str, Any]]] = {
        "hinge": (lambda a: jnp.sum(optax.losses.hinge_loss(a, jnp.asarray(signs))), (signs,), {}),
        "log_cosh": (lambda a: jnp.sum(optax.losses.log_cosh(a, jnp.asarray(signs))), (signs,), {}),
        "categorical_hinge": (
            lambda a: jnp.sum(keras.losses.categorical_hinge(jnp.asarray(hot), a)),
            (hot,),
            {},
        ),
        "poly1_cross_entropy": (
            lambda a: jnp.sum(optax.losses.poly_loss_cross_entropy(a, jnp.asarray(hot))),
            (labels,),
            {},
        ),
    }
    for name, (reference, rest, kwargs) in cases.items():
        expected = np.asarray(jax.grad(reference)(jnp.asarray(x)))
        for backend in _autodiff_backends():
            got = _autodiff_grad(backend, name, x, *rest, reduction="sum", **kwargs)
            np.testing.assert_allclose(
                got, expected, rtol=1e-10, atol=1e-14, err_msg=f"{name} {backend.name}"
            )


def test_pointwise_errors(backend: Backend) -> None:
    with pytest.raises(ValueError, match=r"`target` must have the shape of `input` \(3,\)"):
        call(backend, "log_cosh", np.zeros(3), np.zeros(2))
    with pytest.raises(TypeError, match="`epsilon` must be a float; got str"):
        call(backend, "poly1_cross_entropy", np.zeros((2, 3)), np.array([0, 1]), epsilon="2")
    with pytest.raises(ValueError, match="`reduction` must be one of"):
        call(backend, "hinge", np.zeros(3), np.ones(3), reduction="batchmean")


def test_categorical_hinge_of_an_empty_batch(backend: Backend) -> None:
    # Closed form: no sample, so 'none' is empty, 'sum' 0 and 'mean' NaN (0 / 0). Dask
    # raised here once (the maximum of an empty chunk), caught by the conformance suite.
    x, t = np.zeros((0, 3)), np.zeros((0, 3))
    assert_matches(
        backend, call(backend, "categorical_hinge", x, t, reduction="none"), np.zeros(0), "float64"
    )
    assert_matches(
        backend,
        call(backend, "categorical_hinge", x, t, reduction="sum"),
        np.asarray(0.0),
        "float64",
    )
    assert np.isnan(backend.to_numpy(call(backend, "categorical_hinge", x, t)))


# --- generalized_kl_divergence, convex_kl_divergence --------------------------------------


@pytest.mark.parametrize("reduction", [*REDUCTIONS, "batchmean"])
@pytest.mark.parametrize("name", ["generalized_kl_divergence", "convex_kl_divergence"])
def test_generalized_kl_matches_optax(
    backend: Backend, rng: np.random.Generator, name: str, reduction: str
) -> None:
    optax = pytest.importorskip("optax")
    jnp = _jnp()
    x = rng.normal(size=(5, 4))
    t = rng.uniform(0.0, 2.0, size=(5, 4))  # unnormalized
    t[0, 0] = 0.0  # 0 log 0 = 0
    import warnings

    with warnings.catch_warnings():  # optax deprecates convex_kl_divergence (an alias)
        warnings.simplefilter("ignore", DeprecationWarning)
        per_sample = getattr(optax.losses, name)(jnp.asarray(x), jnp.asarray(t))
    per_sample = np.asarray(per_sample, dtype=np.float64)  # optax sums the last axis
    if reduction == "none":
        result = call(backend, name, x, t, reduction="none")
        got = backend.to_numpy(result).sum(axis=-1)
        np.testing.assert_allclose(got, per_sample, rtol=1e-13, atol=1e-13)
        return
    expected = {
        "batchmean": per_sample.mean(),  # the sum over the batch / N
        "sum": per_sample.sum(),
        "mean": per_sample.sum() / x.size,
    }[reduction]
    result = call(backend, name, x, t, reduction=reduction)
    assert_matches(backend, result, np.asarray(expected), "float64")


def test_generalized_kl_of_distributions_is_kl_div(
    backend: Backend, rng: np.random.Generator
) -> None:
    # Closed form: for normalized p and t the terms e^x - t sum to 0 per row, so the
    # batchmean equals torch.nn.functional.kl_div's (here as the formula in NumPy).
    p = rng.dirichlet(np.ones(4), size=3)
    t = rng.dirichlet(np.ones(4), size=3)
    expected = np.sum(t * (np.log(t) - np.log(p))) / 3
    result = call(backend, "generalized_kl_divergence", np.log(p), t)
    assert_matches(backend, result, np.asarray(expected), "float64")


def test_generalized_kl_gradient_equals_jax_grad_of_optax(rng: np.random.Generator) -> None:
    optax = pytest.importorskip("optax")
    import jax

    jnp = _jnp()
    x = rng.normal(size=(4, 3))
    t = rng.uniform(0.0, 2.0, size=(4, 3))

    def reference(a: Any) -> Any:
        return jnp.mean(optax.losses.generalized_kl_divergence(a, jnp.asarray(t)))

    expected = np.asarray(jax.grad(reference)(jnp.asarray(x)))
    for backend in _autodiff_backends():
        got = _autodiff_grad(backend, "generalized_kl_divergence", x, t)
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-14, err_msg=backend.name)


# --- ntxent ------------------------------------------------------------------------------


def numpy_ntxent_pairs(e: np.ndarray, labels: np.ndarray, tau: float) -> np.ndarray:
    """The per-pair losses of optax.losses.ntxent, transcribed (optax/losses/
    _self_supervised.py: cosine with each squared norm clipped at eps, / temperature,
    -log(e^s_ij / (e^s_ij + sum over negatives e^s_ik))), 0 off the positive pairs."""
    unit = e / np.sqrt(np.maximum((e * e).sum(-1, keepdims=True), np.finfo(e.dtype).eps))
    s = unit @ unit.T / tau
    same = labels[:, None] == labels[None, :]
    positive = same & ~np.eye(len(labels), dtype=bool)
    negatives = np.where(same, 0.0, np.exp(s)).sum(axis=1, keepdims=True)
    return np.where(positive, -np.log(np.exp(s) / (np.exp(s) + negatives)), 0.0)


@pytest.mark.parametrize("temperature", [0.07, 0.5, 2.0])
def test_ntxent_matches_optax(
    backend: Backend, rng: np.random.Generator, temperature: float
) -> None:
    optax = pytest.importorskip("optax")
    jnp = _jnp()
    e = rng.normal(size=(8, 5))
    labels = rng.integers(0, 3, size=8)
    expected = np.asarray(
        optax.losses.ntxent(jnp.asarray(e), jnp.asarray(labels), temperature=temperature),
        dtype=np.float64,
    )
    result = call(backend, "ntxent", e, labels, temperature=temperature)
    assert_matches(backend, result, expected, "float64")
    # 'none': the pair matrix, against optax's formula transcribed; 'sum': its sum.
    pairs = numpy_ntxent_pairs(e, labels, temperature)
    result = call(backend, "ntxent", e, labels, temperature=temperature, reduction="none")
    assert_matches(backend, result, pairs, "float64")
    result = call(backend, "ntxent", e, labels, temperature=temperature, reduction="sum")
    assert_matches(backend, result, np.asarray(pairs.sum()), "float64")


def test_ntxent_anchor_without_negatives(backend: Backend) -> None:
    # Closed form: every label equal, so no negatives: each pair scores -log(1) = 0.
    e = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 2.0]])
    result = call(backend, "ntxent", e, np.array([1, 1, 1]))
    assert_matches(backend, result, np.asarray(0.0), "float64")


def test_ntxent_gradient_equals_jax_grad_of_optax(rng: np.random.Generator) -> None:
    optax = pytest.importorskip("optax")
    import jax

    jnp = _jnp()
    e = rng.normal(size=(7, 3))
    labels = rng.integers(0, 2, size=7)
    expected = np.asarray(
        jax.grad(lambda a: optax.losses.ntxent(a, jnp.asarray(labels), 0.5))(jnp.asarray(e))
    )
    for backend in _autodiff_backends():
        got = _autodiff_grad(backend, "ntxent", e, labels, temperature=0.5)
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-14, err_msg=backend.name)


def test_ntxent_errors(backend: Backend) -> None:
    with pytest.raises(ValueError, match=r"`embeddings` must have shape \(N, D\)"):
        call(backend, "ntxent", np.zeros((3, 2)), np.zeros(4, dtype=int))
    with pytest.raises(ValueError, match=r"`temperature` must be > 0; got 0\.0"):
        call(backend, "ntxent", np.zeros((3, 2)), np.zeros(3, dtype=int), temperature=0.0)
    with pytest.raises(TypeError, match="`labels` must have an integer dtype"):
        call(backend, "ntxent", np.zeros((3, 2)), np.zeros(3))


# --- rmse: MindSpore's nn.RMSELoss, Keras's RootMeanSquaredError metric --------------------


def keras_rmse(x: np.ndarray, t: np.ndarray) -> Any:
    """keras.metrics.RootMeanSquaredError on one batch (stateless: differentiable)."""
    keras = pytest.importorskip("keras")
    jnp = _jnp()
    metric = keras.metrics.RootMeanSquaredError(dtype="float64")
    state = [jnp.zeros_like(v.value) for v in metric.variables]
    state = metric.stateless_update_state(state, jnp.asarray(t), jnp.asarray(x))
    return metric.stateless_result(state)


def test_rmse_mindspore_documented_examples(backend: Backend) -> None:
    # mindspore.nn.RMSELoss docstring, Case 1: logits (1, 2, 3), labels (1, 2, 2) print
    # 0.57735026 (float32; sqrt(1/3) in float64). Case 2: logits (3,), labels (2, 3)
    # [[1, 1, 1], [1, 2, 2]] broadcast, errors (0, 1, 2, 0, 0, 1): sqrt(6/6) = 1.0.
    result = call(backend, "rmse", np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 2.0]))
    assert_matches(backend, result, np.asarray(math.sqrt(1 / 3)), "float64")
    np.testing.assert_allclose(backend.to_numpy(result), 0.57735026, rtol=1e-7)
    logits, labels = np.array([1.0, 2.0, 3.0]), np.array([[1.0, 1.0, 1.0], [1.0, 2.0, 2.0]])
    with warnings.catch_warnings(record=True) as caught:  # mse_loss's, once per trace
        warnings.simplefilter("always")
        result = call(backend, "rmse", logits, labels)
    assert_matches(backend, result, np.asarray(1.0), "float64")
    if not backend.jit:
        assert [str(w.message)[:40] for w in caught] == ["Using a target size (2, 3) that is diffe"]


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("shape", [(), (7,), (4, 5), (2, 3, 4)], ids=str)
def test_rmse_closed_form(
    backend: Backend, rng: np.random.Generator, shape: Any, reduction: str
) -> None:
    # Closed form in float64: sqrt(mean) or sqrt(sum) of the squared errors.
    x, t = np.asarray(rng.normal(size=shape) * 3), np.asarray(rng.normal(size=shape))
    sq = (x - t) ** 2
    expected = np.asarray(math.sqrt(sq.mean() if reduction == "mean" else sq.sum()))
    assert_matches(backend, call(backend, "rmse", x, t, reduction=reduction), expected, "float64")


@pytest.mark.parametrize("shape", [(7,), (4, 5), (2, 3, 4)], ids=str)
def test_rmse_matches_keras_metric(rng: np.random.Generator, shape: Any) -> None:
    # Keras's Mean metric averages in float32 on JAX: float32's tolerance.
    x, t = rng.normal(size=shape) * 3, rng.normal(size=shape)
    expected = float(keras_rmse(x, t))
    np.testing.assert_allclose(float(arrayloss.rmse(x, t)), expected, rtol=2e-6)
    n = x.size  # 'sum': the root of the sum of squares, Keras's value times sqrt(n)
    np.testing.assert_allclose(
        float(arrayloss.rmse(x, t, reduction="sum")), expected * math.sqrt(n), rtol=2e-6
    )


def test_rmse_every_dtype_closed_form(backend: Backend, rng: np.random.Generator) -> None:
    for dtype in backend.dtypes:
        x = rounded(rng.normal(size=(6, 5)) * 3, dtype)
        t = rounded(rng.normal(size=(6, 5)), dtype)
        assert x is not None
        assert t is not None
        for reduction in ("mean", "sum"):
            sq = (x - t) ** 2
            exact = math.sqrt(sq.mean() if reduction == "mean" else sq.sum())
            expected = rounded(np.asarray(exact), dtype)
            assert expected is not None
            result = call(backend, "rmse", x, t, dtype=dtype, reduction=reduction)
            assert_matches(backend, result, expected, dtype)


def test_rmse_gradient_equals_jax_grad_of_keras(rng: np.random.Generator) -> None:
    import jax

    x, t = rng.normal(size=(4, 3)) * 2, rng.normal(size=(4, 3))
    # jax.grad of the Keras metric; float32's tolerance (its float32 mean).
    expected = np.asarray(jax.grad(lambda a: keras_rmse(a, t))(_jnp().asarray(x)))
    for backend in _autodiff_backends():
        got = _autodiff_grad(backend, "rmse", x, t)
        np.testing.assert_allclose(got, expected, rtol=2e-6, atol=1e-9, err_msg=backend.name)
    # Closed form: d/dx sqrt(mean(d^2)) = d / (n rmse).
    d = x - t
    closed = d / (d.size * math.sqrt((d * d).mean()))
    np.testing.assert_allclose(expected, closed, rtol=2e-6)


def test_rmse_perfect_fit_has_gradient_0_where_keras_has_nan() -> None:
    import jax

    x = np.full((4, 3), 1.5)
    keras_grad = np.asarray(jax.grad(lambda a: keras_rmse(a, x))(_jnp().asarray(x)))
    assert np.isnan(keras_grad).all()  # sqrt'(0) * 0
    for backend in _autodiff_backends():
        for reduction in ("mean", "sum"):
            got = _autodiff_grad(backend, "rmse", x, x, reduction=reduction)
            np.testing.assert_array_equal(got, np.zeros((4, 3)), err_msg=backend.name)


def test_rmse_of_empty_arrays(backend: Backend) -> None:
    # torch.sqrt(F.mse_loss(empty, empty)) is NaN (the mean of nothing); the sum is 0.
    import torch
    import torch.nn.functional as F

    empty = np.zeros((0, 3))
    assert torch.sqrt(F.mse_loss(torch.zeros(0, 3), torch.zeros(0, 3))).isnan()
    assert np.isnan(backend.to_numpy(call(backend, "rmse", empty, empty)))
    result = call(backend, "rmse", empty, empty, reduction="sum")
    assert_matches(backend, result, np.asarray(0.0), "float64")


def test_rmse_errors(backend: Backend) -> None:
    with pytest.raises(ValueError, match=r"`reduction` must be one of 'mean', 'sum'; got 'none'"):
        call(backend, "rmse", np.zeros(3), np.ones(3), reduction="none")
    with pytest.raises(ValueError, match=r"`reduction` must be one of 'mean', 'sum'; got 'avg'"):
        call(backend, "rmse", np.zeros(3), np.ones(3), reduction="avg")
    with pytest.raises(ValueError, match=r"`target` of shape \(2,\) does not broadcast"):
        call(backend, "rmse", np.zeros(3), np.ones(2))
    with pytest.raises(TypeError, match="`input` must have a real floating-point dtype"):
        call(backend, "rmse", np.zeros(3, dtype=np.int64), np.ones(3))


# --- cosine_similarity_loss: keras.losses.cosine_similarity --------------------------------


def test_cosine_similarity_loss_keras_documented_example(backend: Backend) -> None:
    # keras.losses.cosine_similarity docstring: [-0., -0.99999994, 0.99999994] (float32);
    # closed form: orthogonal 0, the same direction -1, the opposite 1.
    y_true = np.array([[0.0, 1.0], [1.0, 1.0], [1.0, 1.0]])
    y_pred = np.array([[1.0, 0.0], [1.0, 1.0], [-1.0, -1.0]])
    result = call(backend, "cosine_similarity_loss", y_pred, y_true, reduction="none")
    assert_matches(backend, result, np.array([0.0, -1.0, 1.0]), "float64")
    result = call(backend, "cosine_similarity_loss", y_pred, y_true, dtype="float32")
    assert_matches(backend, result, np.asarray(0.0), "float32")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    ("shape", "dim"), [((5,), -1), ((4, 3), -1), ((4, 3), 0), ((2, 3, 4), 1), ((2, 3, 4), 2)]
)
def test_cosine_similarity_loss_matches_keras(
    backend: Backend, rng: np.random.Generator, shape: Any, dim: int, reduction: str
) -> None:
    x, t = rng.normal(size=shape) * 2, rng.normal(size=shape)
    expected = _reduce(keras_fn("cosine_similarity", t, x, axis=dim), reduction)
    result = call(backend, "cosine_similarity_loss", x, t, dim=dim, reduction=reduction)
    assert_matches(backend, result, expected, "float64")


def test_cosine_similarity_loss_is_minus_torch_cosine_similarity(
    backend: Backend, rng: np.random.Generator
) -> None:
    import torch
    import torch.nn.functional as F

    x, t = rng.normal(size=(5, 4, 3)), rng.normal(size=(5, 4, 3))
    expected = -F.cosine_similarity(torch.tensor(x), torch.tensor(t), dim=1).numpy()
    result = call(backend, "cosine_similarity_loss", x, t, dim=1, reduction="none")
    assert_matches(backend, result, expected, "float64")


def test_cosine_similarity_loss_every_dtype_matches_keras(
    backend: Backend, rng: np.random.Generator
) -> None:
    for dtype in backend.dtypes:
        x = rounded(rng.normal(size=(6, 5)) * 2, dtype)
        t = rounded(rng.normal(size=(6, 5)), dtype)
        assert x is not None
        assert t is not None
        for reduction in REDUCTIONS:
            # Keras in float64 on the rounded values, rounded once to the dtype.
            expected = rounded(_reduce(keras_fn("cosine_similarity", t, x), reduction), dtype)
            assert expected is not None
            result = call(backend, "cosine_similarity_loss", x, t, dtype=dtype, reduction=reduction)
            assert_matches(backend, result, expected, dtype)


def test_cosine_similarity_loss_zero_vectors(backend: Backend) -> None:
    # Keras: a zero vector normalizes to 0 (x * min(rsqrt(0), 1e7)), so the loss is 0.
    x = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 2.0], [0.0, 0.0, 0.0]])
    t = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    expected = keras_fn("cosine_similarity", t, x)
    np.testing.assert_array_equal(expected, [0.0, 0.0, 0.0])
    for dtype in backend.dtypes:
        result = call(backend, "cosine_similarity_loss", x, t, dtype=dtype, reduction="none")
        assert_matches(backend, result, expected, dtype)


def test_cosine_similarity_loss_gradient_equals_jax_grad_of_keras(
    rng: np.random.Generator,
) -> None:
    keras = pytest.importorskip("keras")
    import jax

    jnp = _jnp()
    x, t = rng.normal(size=(4, 3)) * 2, rng.normal(size=(4, 3))
    for dim in (-1, 0):

        def reference(a: Any, dim: int = dim) -> Any:
            return jnp.sum(keras.losses.cosine_similarity(jnp.asarray(t), a, axis=dim))

        expected = np.asarray(jax.grad(reference)(jnp.asarray(x)))
        for backend in _autodiff_backends():
            got = _autodiff_grad(backend, "cosine_similarity_loss", x, t, dim=dim, reduction="sum")
            np.testing.assert_allclose(
                got, expected, rtol=1e-10, atol=1e-14, err_msg=f"{dim} {backend.name}"
            )
    # A zero input vector: Keras's gradient is NaN (rsqrt's derivative at 0 times 0);
    # arrayloss's is the derivative of x / epsilon there, -t / |t| / epsilon.
    x[1] = 0.0
    keras_grad = np.asarray(jax.grad(functools.partial(reference, dim=-1))(jnp.asarray(x)))
    assert np.isnan(keras_grad[1]).all()
    expected = keras_grad.copy()
    expected[1] = -t[1] / np.linalg.norm(t[1]) / 1e-7
    for backend in _autodiff_backends():
        got = _autodiff_grad(backend, "cosine_similarity_loss", x, t, reduction="sum")
        np.testing.assert_allclose(got, expected, rtol=1e-9, err_msg=backend.name)


def test_cosine_similarity_loss_errors(backend: Backend) -> None:
    with pytest.raises(IndexError, match=r"`dim` must be in \[-2, 1\] for `input` of 2 dim"):
        call(backend, "cosine_similarity_loss", np.zeros((2, 3)), np.ones((2, 3)), dim=2)
    with pytest.raises(TypeError, match="`dim` must be an int; got tuple"):
        call(backend, "cosine_similarity_loss", np.zeros((2, 3)), np.ones((2, 3)), dim=(0, 1))
    with pytest.raises(ValueError, match=r"`input` must have at least 1 dimension"):
        call(backend, "cosine_similarity_loss", np.zeros(()), np.ones(()))
    with pytest.raises(ValueError, match=r"`target` must have the shape of `input` \(2, 3\)"):
        call(backend, "cosine_similarity_loss", np.zeros((2, 3)), np.ones((1, 3)))


@pytest.mark.parametrize(
    ("cls", "kwargs"), [("RMSELoss", {"reduction": "sum"}), ("CosineSimilarityLoss", {"dim": 0})]
)
def test_rmse_and_cosine_classes_equal_the_frameworks(
    backend: Backend, rng: np.random.Generator, cls: str, kwargs: dict[str, Any]
) -> None:
    x, t = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    if cls == "RMSELoss":  # MindSpore's formula, sqrt(mean), times sqrt(n) for 'sum'
        expected = np.asarray(math.sqrt(((x - t) ** 2).sum()))
    else:  # keras.losses.CosineSimilarity(axis=0), 'sum_over_batch_size'
        keras = pytest.importorskip("keras")
        _jnp()
        expected = np.asarray(
            keras.losses.CosineSimilarity(axis=0, dtype="float64")(t, x), dtype=np.float64
        )
    result = backend.call(getattr(arrayloss, cls)(**kwargs), backend.asarray(x), backend.asarray(t))
    assert_matches(backend, result, expected, "float64")


def test_rmse_and_cosine_class_repr_and_errors() -> None:
    assert repr(arrayloss.RMSELoss()) == "RMSELoss(reduction='mean')"
    assert repr(arrayloss.CosineSimilarityLoss(dim=1, reduction="sum")) == (
        "CosineSimilarityLoss(dim=1, reduction='sum')"
    )
    with pytest.raises(ValueError, match="got 'none': rmse is the root of the reduced"):
        arrayloss.RMSELoss(reduction="none")
    with pytest.raises(TypeError, match=r"RMSELoss\(\) got an array for `reduction`"):
        arrayloss.RMSELoss(np.zeros(3))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="`dim` must be an int; got float"):
        arrayloss.CosineSimilarityLoss(dim=1.0)  # type: ignore[arg-type]


# --- smooth_labels: optax.smooth_labels, Keras's label_smoothing ---------------------------


def optax_smooth_labels(labels: np.ndarray, alpha: float, axis: Any = -1) -> np.ndarray:
    optax = pytest.importorskip("optax")
    jnp = _jnp()
    return np.asarray(optax.smooth_labels(jnp.asarray(labels), alpha, axis=axis))


@pytest.mark.parametrize(
    ("shape", "dim"),
    [((3,), -1), ((4, 3), -1), ((4, 3), 0), ((2, 3, 4), 1), ((2, 3, 4), (1, 2)), ((2, 3), None)],
    ids=str,
)
@pytest.mark.parametrize("alpha", [0.0, 0.1, 0.5, 1.0])
def test_smooth_labels_matches_optax(
    backend: Backend, rng: np.random.Generator, shape: Any, dim: Any, alpha: float
) -> None:
    labels = rng.uniform(size=shape)
    expected = optax_smooth_labels(labels, alpha, dim)
    result = backend.call(arrayloss.smooth_labels, backend.asarray(labels), alpha=alpha, dim=dim)
    assert_matches(backend, result, expected, "float64")


def test_smooth_labels_every_dtype_matches_optax(
    backend: Backend, rng: np.random.Generator
) -> None:
    one_hot_labels = one_hot(rng.integers(0, 5, size=6), 5, 1)
    for dtype in backend.dtypes:
        # optax in float64, rounded once to the dtype.
        expected = rounded(optax_smooth_labels(one_hot_labels, 0.1), dtype)
        assert expected is not None
        x = backend.asarray(one_hot_labels, dtype)
        assert_matches(
            backend, backend.call(arrayloss.smooth_labels, x, alpha=0.1), expected, dtype
        )


def test_smooth_labels_is_keras_label_smoothing(rng: np.random.Generator) -> None:
    keras = pytest.importorskip("keras")
    jnp = _jnp()
    p = rng.dirichlet(np.ones(4), size=5)
    y = one_hot(rng.integers(0, 4, size=5), 4, 1)
    # Categorical: Keras smooths y as optax does (over its axis).
    keras_loss = keras.losses.categorical_crossentropy(
        jnp.asarray(y), jnp.asarray(p), label_smoothing=0.2
    )
    smoothed = arrayloss.smooth_labels(y, 0.2)
    ours = keras.losses.categorical_crossentropy(jnp.asarray(smoothed), jnp.asarray(p))
    np.testing.assert_allclose(np.asarray(ours), np.asarray(keras_loss), rtol=1e-12)
    # Binary: y (1 - a) + a / 2, the smoothing of the two-class one-hot (1 - y, y).
    b, q = rng.integers(0, 2, size=(5, 3)).astype(np.float64), rng.uniform(0.1, 0.9, (5, 3))
    keras_loss = keras.losses.binary_crossentropy(jnp.asarray(b), jnp.asarray(q), 0.0, 0.2)
    pair = arrayloss.smooth_labels(np.stack([1 - b, b], axis=-1), 0.2)[..., 1]
    ours = keras.losses.binary_crossentropy(jnp.asarray(pair), jnp.asarray(q))
    np.testing.assert_allclose(np.asarray(ours), np.asarray(keras_loss), rtol=1e-12)


def test_smooth_labels_gives_torch_cross_entropy_label_smoothing(
    backend: Backend, rng: np.random.Generator
) -> None:
    # PyTorch's cross_entropy(label_smoothing=a) with class indices equals its cross
    # entropy of the smoothed one-hot probabilities (classes on axis 1).
    import torch
    import torch.nn.functional as F

    x, idx = rng.normal(size=(4, 3, 5)), rng.integers(0, 3, size=(4, 5))
    expected = F.cross_entropy(torch.tensor(x), torch.tensor(idx), label_smoothing=0.3).numpy()
    soft = backend.call(
        arrayloss.smooth_labels, backend.asarray(one_hot(idx, 3, 1)), alpha=0.3, dim=1
    )
    result = backend.call(arrayloss.cross_entropy, backend.asarray(x), soft)
    assert_matches(backend, result, expected, "float64")


def test_smooth_labels_errors(backend: Backend) -> None:
    labels = backend.asarray(np.eye(3))
    with pytest.raises(ValueError, match=r"`alpha` must be between 0 and 1; got 1\.5"):
        arrayloss.smooth_labels(labels, 1.5)
    with pytest.raises(TypeError, match="`alpha` must be a float; got ndarray"):
        arrayloss.smooth_labels(labels, np.zeros(()))  # type: ignore[arg-type]
    with pytest.raises(IndexError, match=r"`dim` must be in \[-2, 1\] for `labels` of 2 dim"):
        arrayloss.smooth_labels(labels, 0.1, dim=-3)
    with pytest.raises(ValueError, match="`dim` must not repeat an axis"):
        arrayloss.smooth_labels(labels, 0.1, dim=(1, -1))
    with pytest.raises(TypeError, match="`labels` must have a real floating-point dtype"):
        arrayloss.smooth_labels(backend.asarray(np.eye(3, dtype=np.int64), "int64"), 0.1)
    with pytest.raises(TypeError, match="`labels` must be an array; got list"):
        arrayloss.smooth_labels([1.0, 0.0], 0.1)


def test_smooth_labels_is_not_a_loss() -> None:
    from tests.helpers import loss_functions

    assert "smooth_labels" in arrayloss.__all__
    assert "smooth_labels" not in loss_functions()
