"""l1_loss, mse_loss, huber_loss and smooth_l1_loss on every backend, against PyTorch."""

from __future__ import annotations

import math
import re
import warnings
from typing import Any

import numpy as np
import pytest

import arrayloss
from conformance.backends import BACKENDS, Backend
from tests.helpers import REDUCTIONS, assert_matches, rounded, torch_loss
from tests.test_gradients_and_transforms import AUTODIFF

#: (loss, options): every loss; the thresholds a binary fraction (exact kinks), beta 0 (L1).
#: The default thresholds run in the class tests and the conformance cases.
VARIANTS: list[tuple[str, dict[str, Any]]] = [
    ("l1_loss", {}),
    ("mse_loss", {}),
    ("huber_loss", {"delta": 0.75}),
    ("smooth_l1_loss", {"beta": 0.75}),
    ("smooth_l1_loss", {"beta": 0.0}),
]
VARIANT_IDS = [f"{n}-{'-'.join(f'{k}{v}' for k, v in o.items()) or 'default'}" for n, o in VARIANTS]
WEIGHTED = ["l1_loss", "mse_loss", "huber_loss"]
SIZE_WARNING = r"Using a target size \(3,\) that is different to the input size \(4, 3\)"


def call(backend: Backend, name: str, x: Any, t: Any, dtype: str = "float64", **kwargs: Any) -> Any:
    kwargs = {
        k: backend.asarray(v, dtype) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()
    }
    return backend.call(
        getattr(arrayloss, name), backend.asarray(x, dtype), backend.asarray(t, dtype), **kwargs
    )


# --- values against PyTorch ------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("name", "options"), VARIANTS, ids=VARIANT_IDS)
def test_matches_torch(
    backend: Backend, rng: np.random.Generator, name: str, options: dict[str, Any], reduction: str
) -> None:
    for shape in [(), (7,), (4, 5), (2, 3, 4), (0, 3)]:
        x = np.asarray(rng.normal(size=shape) * 2)
        y = np.asarray(rng.normal(size=shape) * 2)
        expected = torch_loss(name, x, y, reduction=reduction, **options)
        result = call(backend, name, x, y, reduction=reduction, **options)
        assert_matches(backend, result, expected, "float64")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", WEIGHTED)
def test_weight_matches_torch(
    backend: Backend, rng: np.random.Generator, name: str, reduction: str
) -> None:
    # PyTorch 2.13: 'mean' is sum(w l) / sum(w) for l1/mse but mean(w l) for huber.
    for shape in [(), (7,), (4, 5)]:
        x, y = rng.normal(size=shape), rng.normal(size=shape)
        w = np.asarray(rng.uniform(0.0, 3.0, size=shape))
        expected = torch_loss(name, x, y, reduction=reduction, weight=w)
        result = call(backend, name, x, y, reduction=reduction, weight=w)
        assert_matches(backend, result, expected, "float64")


def test_weighted_mean_closed_form(backend: Backend) -> None:
    # |d| = (1, 2, 0), w = (3, 1, 0): l1 sum(w l) / sum(w) = 5 / 4; huber (delta 1):
    # l = (0.5, 1.5, 0), mean(w l) = 3 / 3 = 1 (PyTorch divides by the count here).
    x, y, w = np.array([1.0, -2.0, 0.5]), np.array([0.0, 0.0, 0.5]), np.array([3.0, 1.0, 0.0])
    assert_matches(backend, call(backend, "l1_loss", x, y, weight=w), np.asarray(1.25), "float64")
    assert_matches(backend, call(backend, "mse_loss", x, y, weight=w), np.asarray(1.75), "float64")
    assert_matches(backend, call(backend, "huber_loss", x, y, weight=w), np.asarray(1.0), "float64")


@pytest.mark.parametrize(("name", "options"), VARIANTS, ids=VARIANT_IDS)
def test_every_dtype_matches_torch_in_that_dtype(
    backend: Backend, rng: np.random.Generator, name: str, options: dict[str, Any]
) -> None:
    for dtype in backend.dtypes:
        x = rounded(rng.normal(size=(6, 5)) * 3, dtype)
        y = rounded(rng.normal(size=(6, 5)) * 3, dtype)
        for reduction in REDUCTIONS:
            expected = torch_loss(name, x, y, dtype=dtype, reduction=reduction, **options)
            result = call(backend, name, x, y, dtype, reduction=reduction, **options)
            assert_matches(backend, result, expected, dtype)


def test_half_precision_is_computed_in_float32(backend: Backend) -> None:
    # Closed form: each squared error is 300^2 = 9e4, above float16's maximum 65504, but
    # the mean of (9e4, 0) is 4.5e4, which float16 holds; PyTorch computes in float32.
    if "float16" not in backend.dtypes:
        pytest.skip(f"{backend.name} has no float16")
    x, y = np.array([300.0, 0.0]), np.zeros(2)
    result = call(backend, "mse_loss", x, y, "float16")
    assert_matches(backend, result, np.asarray(45000.0), "float16")


def test_threshold_formulas_closed_form(backend: Backend) -> None:
    # d = (0.5, 3, -4, 2): Huber (delta 2) 0.5 d^2 below 2, 2 (|d| - 1) from 2 on;
    # smooth L1 (beta 2) 0.5 d^2 / 2 below 2, |d| - 1 from 2 on.
    x, y = np.array([0.5, 3.0, -4.0, 2.0]), np.zeros(4)
    huber = call(backend, "huber_loss", x, y, reduction="none", delta=2.0)
    assert_matches(backend, huber, np.array([0.125, 4.0, 6.0, 2.0]), "float64")
    smooth = call(backend, "smooth_l1_loss", x, y, reduction="none", beta=2.0)
    assert_matches(backend, smooth, np.array([0.0625, 2.0, 3.0, 1.0]), "float64")


def test_inf_and_nan_propagate_as_torch(backend: Backend) -> None:
    # inf - inf = NaN; with the threshold at inf, PyTorch's linear branch gives
    # inf * (inf - inf) = NaN for an infinite difference: the same here.
    inf, nan = math.inf, math.nan
    x = np.array([inf, -inf, inf, nan, 1.0, 0.0])
    y = np.array([0.0, 0.0, inf, 0.0, nan, 0.0])
    for name, options in [
        *VARIANTS,
        ("huber_loss", {"delta": inf}),
        ("smooth_l1_loss", {"beta": inf}),
    ]:
        expected = torch_loss(name, x, y, reduction="none", **options)
        result = call(backend, name, x, y, reduction="none", **options)
        assert_matches(backend, result, expected, "float64")


# --- broadcasting and its warning ------------------------------------------------------------


@pytest.mark.parametrize(("name", "options"), VARIANTS, ids=VARIANT_IDS)
def test_broadcast_target_warns_like_torch(
    backend: Backend, rng: np.random.Generator, name: str, options: dict[str, Any]
) -> None:
    x, y = rng.normal(size=(4, 3)), rng.normal(size=(3,))
    import torch
    import torch.nn.functional as F

    with pytest.warns(UserWarning, match="Using a target size") as torch_warnings:
        getattr(F, name)(torch.tensor(x), torch.tensor(y), **options)
    assert torch_warnings[0].filename == __file__
    expected = torch_loss(name, x, y, reduction="none", **options)
    if backend.jit:
        # Under jax.jit the warning is raised when the loss is traced (once per shape).
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Using a target size", UserWarning)
            result = call(backend, name, x, y, reduction="none", **options)
    else:
        with pytest.warns(UserWarning, match=SIZE_WARNING) as ours:
            result = call(backend, name, x, y, reduction="none", **options)
        assert len(ours) == 1
        # The user's line, as PyTorch's stacklevel=2 (backend.call is one frame below).
        assert ours[0].filename.endswith(("test_regression.py", "backends.py"))
    assert_matches(backend, result, expected, "float64")


def test_warning_points_at_the_callers_line() -> None:
    with pytest.warns(UserWarning, match=SIZE_WARNING) as record:
        arrayloss.mse_loss(np.zeros((4, 3)), np.zeros(3))
    assert record[0].filename == __file__


def test_same_shapes_do_not_warn(backend: Backend) -> None:
    # pytest turns any warning into an error (pyproject filterwarnings = error).
    call(backend, "l1_loss", np.zeros((4, 3)), np.ones((4, 3)))


@pytest.mark.parametrize("name", ["l1_loss", "mse_loss", "huber_loss", "smooth_l1_loss"])
def test_shapes_that_do_not_broadcast_raise(backend: Backend, name: str) -> None:
    # PyTorch: RuntimeError from broadcast_tensors; arrayloss: ValueError and RuntimeError.
    with pytest.raises(
        arrayloss.ArrayLossValueError,
        match=r"`target` of shape \(2, 3\) does not broadcast with `input` of shape \(4, 3\)",
    ) as info:
        call(backend, name, np.zeros((4, 3)), np.zeros((2, 3)))
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, RuntimeError)


@pytest.mark.filterwarnings("ignore:Using a target size:UserWarning")
@pytest.mark.parametrize("name", WEIGHTED)
def test_weight_must_have_the_input_shape(backend: Backend, name: str) -> None:
    # PyTorch: ValueError("Weights and input must have the same size."), also for a
    # weight that would broadcast, and for one of the (larger) broadcast shape.
    x = np.zeros((4, 3))
    for w_shape in [(3,), (4, 1), ()]:
        message = (
            rf"`weight` must have the shape of `input` \(4, 3\); got {re.escape(str(w_shape))}"
        )
        with pytest.raises(ValueError, match=message):
            call(backend, name, x, x, weight=np.ones(w_shape))
    with pytest.raises(ValueError, match=r"`weight` must have the shape of `input` \(3,\)"):
        call(backend, name, np.zeros(3), np.zeros((4, 3)), weight=np.ones((4, 3)))


@pytest.mark.filterwarnings("ignore:Using a target size:UserWarning")
@pytest.mark.parametrize("name", WEIGHTED)
def test_weight_of_input_shape_with_a_larger_target(
    backend: Backend, rng: np.random.Generator, name: str
) -> None:
    # input (3,), target (4, 3), weight (3,): the loss over (4, 3), weighted per column.
    x, y, w = rng.normal(size=3), rng.normal(size=(4, 3)), rng.uniform(0.5, 2.0, size=3)
    for reduction in REDUCTIONS:
        expected = torch_loss(name, x, y, reduction=reduction, weight=w)
        result = call(backend, name, x, y, reduction=reduction, weight=w)
        assert_matches(backend, result, expected, "float64")


# --- delta and beta ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "option", "value", "message"),
    [
        ("huber_loss", "delta", -1.0, "`delta` must be positive; got -1.0"),
        ("huber_loss", "delta", 0.0, "`delta` must be positive; got 0.0"),
        ("huber_loss", "delta", math.nan, "`delta` must be positive; got nan"),
        ("smooth_l1_loss", "beta", -1.0, "`beta` must be non-negative; got -1.0"),
        ("smooth_l1_loss", "beta", math.nan, "`beta` must be non-negative; got nan"),
    ],
)
def test_invalid_threshold_raises_like_torch(
    name: str, option: str, value: float, message: str
) -> None:
    import torch
    import torch.nn.functional as F

    x = np.zeros(3)
    with pytest.raises(RuntimeError, match="does not support"):
        getattr(F, name)(torch.tensor(x), torch.tensor(x), **{option: value})
    with pytest.raises(arrayloss.ArrayLossValueError, match=message):
        getattr(arrayloss, name)(x, x, **{option: value})
    cls = {"huber_loss": arrayloss.HuberLoss, "smooth_l1_loss": arrayloss.SmoothL1Loss}[name]
    with pytest.raises(ValueError, match=message):  # when constructed
        cls(**{option: value})


def test_threshold_must_be_a_number() -> None:
    with pytest.raises(TypeError, match="`delta` must be a real number; got ndarray"):
        arrayloss.huber_loss(np.zeros(3), np.zeros(3), delta=np.array(1.0))
    with pytest.raises(TypeError, match="`beta` must be a real number; got str"):
        arrayloss.SmoothL1Loss(beta="1")
    # NumPy numbers and ints are numbers, as in PyTorch.
    assert float(arrayloss.huber_loss(np.ones(2), np.zeros(2), delta=np.float32(2))) == 0.5
    assert float(arrayloss.smooth_l1_loss(np.ones(2), np.zeros(2), beta=2)) == 0.25


# --- gradients ----------------------------------------------------------------------------------


def _gradients(backend: Backend, name: str, x: Any, y: Any, **options: Any) -> tuple[Any, Any]:
    """d(sum of the loss)/d(input) and /d(target) on an autodiff backend."""
    fn = getattr(arrayloss, name)
    if backend.module == "torch":
        xb, yb = backend.asarray(x).requires_grad_(), backend.asarray(y).requires_grad_()
        fn(xb, yb, **options).sum().backward()
        return backend.to_numpy(xb.grad), backend.to_numpy(yb.grad)
    import jax

    grad = jax.grad(lambda a, b: fn(a, b, **options).sum(), argnums=(0, 1))
    if backend.jit:
        grad = jax.jit(grad)
    gx, gy = grad(backend.asarray(x), backend.asarray(y))
    return backend.to_numpy(gx), backend.to_numpy(gy)


def _torch_gradients(name: str, x: Any, y: Any, **options: Any) -> tuple[Any, Any]:
    import torch
    import torch.nn.functional as F

    xt = torch.tensor(x, requires_grad=True)
    yt = torch.tensor(y, requires_grad=True)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Using a target size", UserWarning)
        getattr(F, name)(xt, yt, **options).sum().backward()
    return xt.grad.numpy(), yt.grad.numpy()


@pytest.mark.parametrize("backend", AUTODIFF)
@pytest.mark.parametrize(("name", "options"), VARIANTS, ids=VARIANT_IDS)
def test_gradients_at_the_kinks_equal_torch(
    backend: Backend, name: str, options: dict[str, Any]
) -> None:
    # d = x - y exactly 0 (L1: PyTorch's sign(0) = 0; JAX's d|x|/dx at 0 would be 1),
    # exactly +-threshold, and on both sides of it.
    k = options.get("delta", options.get("beta", 1.0)) or 1.0
    d = np.array([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 0.0]) * k
    y = np.array([0.0, 0.25, -1.0, 0.0, 3.0, -0.5, 0.0, 1.5])
    x = y + d
    # Same d, exactly: x - y is exact for these binary fractions.
    np.testing.assert_array_equal(x - y, d)
    for reduction in REDUCTIONS:
        expected_x, expected_y = _torch_gradients(name, x, y, reduction=reduction, **options)
        got_x, got_y = _gradients(backend, name, x, y, reduction=reduction, **options)
        np.testing.assert_allclose(got_x, expected_x, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(got_y, expected_y, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("backend", AUTODIFF)
def test_l1_gradient_at_zero_is_zero(backend: Backend) -> None:
    # Closed form: PyTorch's derivative of |d| at d = 0 is sign(0) = 0; so is ours, on
    # JAX too, and beta = 0 (L1) gives it without NaN from a division by beta.
    x = np.array([0.0, 1.0, -1.0])
    for name, options in [("l1_loss", {}), ("smooth_l1_loss", {"beta": 0.0})]:
        gx, gy = _gradients(backend, name, x, np.zeros(3), reduction="sum", **options)
        np.testing.assert_array_equal(gx, [0.0, 1.0, -1.0])
        np.testing.assert_array_equal(gy, [0.0, -1.0, 1.0])
        # |-0.0 - 0.0| is +0.0, as PyTorch's abs gives (JAX's form is a maximum).
        zero = getattr(arrayloss, name)(
            backend.asarray(np.array([-0.0])),
            backend.asarray(np.zeros(1)),
            reduction="none",
            **options,
        )
        assert not np.signbit(backend.to_numpy(zero)).any()


@pytest.mark.parametrize("backend", AUTODIFF)
@pytest.mark.parametrize("name", WEIGHTED)
def test_weighted_and_broadcast_gradients_equal_torch(
    backend: Backend, rng: np.random.Generator, name: str
) -> None:
    x, y, w = rng.normal(size=(4, 3)), rng.normal(size=(4, 3)), rng.uniform(0.5, 2.0, size=(4, 3))
    for reduction in REDUCTIONS:
        expected = _torch_gradients(name, x, y, reduction=reduction)
        got = _gradients(backend, name, x, y, reduction=reduction)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
        import torch

        expected = _torch_gradients(name, x, y, reduction=reduction, weight=torch.tensor(w))
        got = _gradients(backend, name, x, y, reduction=reduction, weight=backend.asarray(w))
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    # A target that broadcasts: its gradient sums over the broadcast axis.
    y3 = rng.normal(size=(3,))
    expected = _torch_gradients(name, x, y3)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Using a target size", UserWarning)
        got = _gradients(backend, name, x, y3)
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-12, atol=1e-15)


# --- JAX transforms ----------------------------------------------------------------------------


def _jax() -> tuple[Any, Any]:
    jax = pytest.importorskip("jax")
    jnp = next(b for b in BACKENDS if b.name == "jax").namespace()  # enables x64
    return jax, jnp


@pytest.mark.parametrize(("name", "options"), VARIANTS, ids=VARIANT_IDS)
def test_jax_vmap_equals_loop(rng: np.random.Generator, name: str, options: dict[str, Any]) -> None:
    jax, jnp = _jax()
    x, y = rng.normal(size=(6, 3, 4)), rng.normal(size=(6, 3, 4))
    fn = getattr(arrayloss, name)
    for reduction in REDUCTIONS:
        batched = jax.vmap(lambda a, b, r=reduction: fn(a, b, reduction=r, **options))(
            jnp.asarray(x), jnp.asarray(y)
        )
        looped = np.stack(
            [
                np.asarray(fn(jnp.asarray(a), jnp.asarray(b), reduction=reduction, **options))
                for a, b in zip(x, y, strict=True)
            ]
        )
        np.testing.assert_allclose(np.asarray(batched), looped, rtol=1e-13)


def test_jax_jit_vmap_grad_per_example(rng: np.random.Generator) -> None:
    # Per-example gradients of the weighted Huber loss, jit(vmap(grad)), against PyTorch.
    jax, jnp = _jax()
    x, y, w = rng.normal(size=(8, 5)), rng.normal(size=(8, 5)), rng.uniform(size=(8, 5))
    x[0, :2] = y[0, :2] + np.array([0.5, -0.5])  # exactly at the kinks of delta = 0.5

    def per_example(xi: Any, yi: Any, wi: Any) -> Any:
        return arrayloss.huber_loss(xi, yi, delta=0.5, weight=wi)

    grads = jax.jit(jax.vmap(jax.grad(per_example)))(jnp.asarray(x), jnp.asarray(y), jnp.asarray(w))
    import torch

    for i in range(8):
        expected, _ = _torch_gradients(
            "huber_loss", x[i], y[i], delta=0.5, weight=torch.tensor(w[i])
        )
        np.testing.assert_allclose(np.asarray(grads[i]), expected, rtol=1e-12, atol=1e-15)


# --- classes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "name", "options"),
    [
        ("L1Loss", "l1_loss", {}),
        ("MSELoss", "mse_loss", {}),
        ("HuberLoss", "huber_loss", {}),
        ("HuberLoss", "huber_loss", {"delta": 0.7}),
        ("SmoothL1Loss", "smooth_l1_loss", {}),
        ("SmoothL1Loss", "smooth_l1_loss", {"beta": 0.7}),
        ("SmoothL1Loss", "smooth_l1_loss", {"beta": 0.0}),
    ],
)
def test_class_equals_torch(
    backend: Backend, rng: np.random.Generator, cls: str, name: str, options: dict[str, Any]
) -> None:
    import torch

    x, y = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    for reduction in REDUCTIONS:
        loss = getattr(arrayloss, cls)(reduction=reduction, **options)
        theirs = getattr(torch.nn, cls)(reduction=reduction, **options)
        expected = theirs(torch.tensor(x), torch.tensor(y)).numpy()
        result = backend.call(loss, backend.asarray(x), backend.asarray(y))
        assert_matches(backend, result, expected, "float64")


def test_class_repr_and_legacy_arguments() -> None:
    assert repr(arrayloss.HuberLoss(delta=2)) == "HuberLoss(reduction='mean', delta=2.0)"
    assert (
        repr(arrayloss.SmoothL1Loss(reduction="sum")) == "SmoothL1Loss(reduction='sum', beta=1.0)"
    )
    assert repr(arrayloss.L1Loss()) == "L1Loss(reduction='mean')"
    for cls in ("L1Loss", "MSELoss", "SmoothL1Loss"):
        with pytest.warns(DeprecationWarning, match="use reduction='none' instead"):
            assert getattr(arrayloss, cls)(reduce=False).reduction == "none"
    with pytest.warns(DeprecationWarning, match="use reduction='sum' instead"):
        result = arrayloss.l1_loss(np.ones(3), np.zeros(3), size_average=False)
    assert float(result) == 3.0


def test_torch_result_keeps_graph_device_and_dtype() -> None:
    torch = pytest.importorskip("torch")
    x = torch.zeros(3, dtype=torch.float32, requires_grad=True)
    out = arrayloss.smooth_l1_loss(x, torch.ones(3, dtype=torch.float64))
    assert out.requires_grad
    assert out.dtype == torch.float64  # promoted, as PyTorch
    assert out.shape == ()
