"""kl_div / KLDivLoss on every backend, against PyTorch and closed-form math."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import arrayloss
from conformance.backends import Backend
from tests.helpers import assert_matches, rounded, torch_loss

KL_REDUCTIONS = ("none", "mean", "sum", "batchmean")


def kl_call(backend: Backend, x: Any, t: Any, dtype: str = "float64", **kwargs: Any) -> Any:
    """arrayloss.kl_div on ``backend``, with the 'mean' UserWarning expected and silenced."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "reduction: 'mean' divides", UserWarning)
        return backend.call(
            arrayloss.kl_div, backend.asarray(x, dtype), backend.asarray(t, dtype), **kwargs
        )


def kl_case(rng: np.random.Generator, shape: tuple[int, ...], log_target: bool) -> tuple[Any, Any]:
    logits = rng.normal(size=shape)
    x = logits - np.log(np.sum(np.exp(logits), axis=-1, keepdims=True)) if shape else -abs(logits)
    t = rng.uniform(size=shape)
    if t.ndim:
        t.flat[0] = 0.0  # a zero target contributes 0, not NaN (xlogy)
    return x, (np.log(t + 0.1) if log_target else t)


@pytest.mark.parametrize("reduction", KL_REDUCTIONS)
@pytest.mark.parametrize("shape", [(), (5,), (4, 3), (2, 3, 4)], ids=str)
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_torch(
    backend: Backend, rng: np.random.Generator, reduction: str, shape: Any, log_target: bool
) -> None:
    x, t = kl_case(rng, shape, log_target)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = torch_loss("kl_div", x, t, reduction=reduction, log_target=log_target)
    result = kl_call(backend, x, t, reduction=reduction, log_target=log_target)
    assert_matches(backend, result, expected, "float64")


def test_kl_div_every_dtype(backend: Backend, rng: np.random.Generator) -> None:
    for dtype in backend.dtypes:
        x, t = kl_case(rng, (6, 5), False)
        x, t = rounded(x, dtype), rounded(t, dtype)
        for reduction in KL_REDUCTIONS:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                expected = torch_loss("kl_div", x, t, dtype=dtype, reduction=reduction)
            result = kl_call(backend, x, t, dtype, reduction=reduction)
            assert_matches(backend, result, expected, dtype)


def test_kl_div_closed_form(backend: Backend) -> None:
    # KL(y || q) = sum y log(y / q), with 0 log 0 = 0; batchmean divides by the batch (2).
    q = np.array([[0.5, 0.25, 0.25], [0.2, 0.3, 0.5]])
    y = np.array([[0.25, 0.25, 0.5], [0.0, 0.5, 0.5]])
    per_row = [np.sum(y[0] * np.log(y[0] / q[0])), 0.5 * np.log(0.5 / 0.3)]
    expected = (per_row[0] + per_row[1]) / 2
    result = kl_call(backend, np.log(q), y, reduction="batchmean")
    assert_matches(backend, result, np.asarray(expected), "float64")


def test_kl_div_broadcasts_like_torch(backend: Backend, rng: np.random.Generator) -> None:
    x = np.log(rng.uniform(0.1, 1.0, size=(4, 3)))
    t = rng.uniform(size=(3,))
    expected = torch_loss("kl_div", x, t, reduction="none")
    result = kl_call(backend, x, t, reduction="none")
    assert_matches(backend, result, expected, "float64")
    with pytest.raises(
        ValueError,
        match=r"`target` of shape \(2,\) does not broadcast with `input` of shape \(4, 3\)",
    ):
        kl_call(backend, x, np.ones(2), reduction="none")


def test_kl_div_mean_warns_like_torch() -> None:
    x = np.log(np.full((2, 2), 0.5))
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size") as caught:
        arrayloss.kl_div(x, np.exp(x))
    assert caught[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        arrayloss.kl_div(x, np.exp(x), reduction="batchmean")


@pytest.mark.parametrize("legacy", [(True, None), (False, None), (None, False)], ids=str)
@pytest.mark.parametrize("shape", [(), (4, 3)], ids=str)
def test_kl_div_legacy_with_batchmean_divides_again_like_torch(
    backend: Backend, rng: np.random.Generator, legacy: tuple[Any, Any], shape: tuple[int, ...]
) -> None:
    # Found by the fuzzer (conformance/fuzz.py): PyTorch maps size_average/reduce onto a
    # reduction and then, because reduction='batchmean' was passed, divides the result
    # by the batch size (not for 0-d input). (4, 3) with size_average=True: mean / 4.
    x, t = kl_case(rng, shape, False)
    size_average, reduce = legacy
    kwargs = {"reduction": "batchmean", "size_average": size_average, "reduce": reduce}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = torch_loss("kl_div", x, t, **kwargs)
        result = kl_call(backend, x, t, **kwargs)
    if shape and legacy == (True, None):
        kl = np.where(t > 0, t * np.log(np.where(t > 0, t, 1.0)), 0.0) - t * x
        assert np.isclose(float(expected), np.mean(kl) / shape[0])
    assert_matches(backend, result, expected, "float64")


def test_kl_div_bad_reduction_lists_batchmean() -> None:
    with pytest.raises(
        ValueError,
        match=r"`reduction` must be one of 'none', 'mean', 'sum', 'batchmean'; got 'avg'",
    ):
        arrayloss.kl_div(np.zeros(2), np.zeros(2), reduction="avg")


def test_kl_div_empty_batchmean_is_nan(backend: Backend) -> None:
    # PyTorch: sum 0 divided by a batch of 0 gives NaN.
    empty = np.zeros((0, 3))
    assert np.isnan(backend.to_numpy(kl_call(backend, empty, empty, reduction="batchmean")))


@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_class_equals_torch(
    backend: Backend, rng: np.random.Generator, log_target: bool
) -> None:
    x, t = kl_case(rng, (4, 3), log_target)
    loss = arrayloss.KLDivLoss(reduction="batchmean", log_target=log_target)
    expected = torch_loss("kl_div", x, t, reduction="batchmean", log_target=log_target)
    result = backend.call(loss, backend.asarray(x), backend.asarray(t))
    assert_matches(backend, result, expected, "float64")


@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_gradients_equal_torch(rng: np.random.Generator, log_target: bool) -> None:
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    from tests.test_gradients_and_transforms import AUTODIFF

    x, t = kl_case(rng, (4, 3), log_target)
    if not log_target:
        t[0, 0] = 0.3  # PyTorch's gradient of xlogy(t, t) at t = 0 is NaN; keep it finite
    xt = torch.tensor(x, requires_grad=True)
    tt = torch.tensor(t, requires_grad=True)
    F.kl_div(xt, tt, reduction="batchmean", log_target=log_target).backward()
    for param in AUTODIFF:
        backend = param.values[0]
        if backend.skip_reason():
            continue
        if backend.module == "torch":
            xb = backend.asarray(x).requires_grad_()
            tb = backend.asarray(t).requires_grad_()
            arrayloss.kl_div(xb, tb, reduction="batchmean", log_target=log_target).backward()
            gx, gt = backend.to_numpy(xb.grad), backend.to_numpy(tb.grad)
        else:
            import jax

            grad = jax.grad(
                lambda a, b: arrayloss.kl_div(a, b, reduction="batchmean", log_target=log_target),
                argnums=(0, 1),
            )
            if backend.jit:
                grad = jax.jit(grad)
            gx, gt = (backend.to_numpy(g) for g in grad(backend.asarray(x), backend.asarray(t)))
        np.testing.assert_allclose(gx, xt.grad.numpy(), rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(gt, tt.grad.numpy(), rtol=1e-10, atol=1e-14)
