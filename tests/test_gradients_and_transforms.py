"""Autodiff and program transforms: torch autograd, jax.grad, jax.jit, jax.vmap, Dask.

Gradients are compared with PyTorch's own autograd on the same data, in float64.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import arrayloss
from conformance.backends import BACKENDS, Backend

torch = pytest.importorskip("torch")

LOSSES = ["binary_cross_entropy", "binary_cross_entropy_with_logits"]
AUTODIFF = [
    pytest.param(b, id=b.name, marks=[pytest.mark.skip(reason=r)] if (r := b.skip_reason()) else [])
    for b in BACKENDS
    if b.autodiff
]


def make_case(loss: str, rng: np.random.Generator, options: str) -> dict[str, Any]:
    shape = (5, 4)
    if loss == "binary_cross_entropy":
        x = rng.uniform(0.02, 0.98, size=shape)
    else:
        x = rng.normal(size=shape) * 3
        x[0, 0] = 0.0  # the kink of |x|: JAX's d|x|/dx at 0 differs from PyTorch's
    case: dict[str, Any] = {"input": x, "target": rng.uniform(size=shape), "kwargs": {}}
    if options in ("weight", "both"):
        case["kwargs"]["weight"] = rng.uniform(0.5, 2.0, size=(4,))
    if options in ("pos_weight", "both") and loss != "binary_cross_entropy":
        case["kwargs"]["pos_weight"] = rng.uniform(0.5, 3.0, size=(4,))
    return case


def torch_gradients(loss: str, case: dict[str, Any], reduction: str) -> tuple[Any, Any]:
    """PyTorch's d(sum of the loss)/d(input) and /d(target), float64."""
    import torch.nn.functional as F

    x = torch.tensor(case["input"], requires_grad=True)
    t = torch.tensor(case["target"], requires_grad=True)
    kwargs = {k: torch.tensor(v) for k, v in case["kwargs"].items()}
    getattr(F, loss)(x, t, reduction=reduction, **kwargs).sum().backward()
    return x.grad.numpy(), t.grad.numpy()


def backend_gradients(
    backend: Backend, loss: str, case: dict[str, Any], reduction: str
) -> tuple[Any, Any]:
    fn = getattr(arrayloss, loss)
    kwargs = {k: backend.asarray(v) for k, v in case["kwargs"].items()}
    if backend.module == "torch":
        x = backend.asarray(case["input"]).requires_grad_()
        t = backend.asarray(case["target"]).requires_grad_()
        out = fn(x, t, reduction=reduction, **kwargs)
        assert out.requires_grad
        out.sum().backward()
        return backend.to_numpy(x.grad), backend.to_numpy(t.grad)
    import jax

    def total(x: Any, t: Any) -> Any:
        return fn(x, t, reduction=reduction, **kwargs).sum()

    grad = jax.grad(total, argnums=(0, 1))
    if backend.jit:
        grad = jax.jit(grad)
    gx, gt = grad(backend.asarray(case["input"]), backend.asarray(case["target"]))
    return backend.to_numpy(gx), backend.to_numpy(gt)


@pytest.mark.parametrize("backend", AUTODIFF)
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("options", ["plain", "weight", "pos_weight", "both"])
def test_gradients_equal_torch_autograd(
    backend: Backend, loss: str, reduction: str, options: str, rng: np.random.Generator
) -> None:
    case = make_case(loss, rng, options)
    expected_x, expected_t = torch_gradients(loss, case, reduction)
    got_x, got_t = backend_gradients(backend, loss, case, reduction)
    # 1e-10 relative in float64, as promised in the docs.
    np.testing.assert_allclose(got_x, expected_x, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(got_t, expected_t, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("backend", AUTODIFF)
def test_bce_gradient_finite_at_exact_zero_and_one(backend: Backend) -> None:
    # A sigmoid saturated to exactly 0 or 1 must not poison training with NaN. PyTorch
    # clamps the denominator at 1e-12; the chained gradient through the saturated
    # sigmoid (derivative 0) is 0 in both.
    p = np.array([0.0, 1.0, 0.0, 1.0])
    y = np.array([1.0, 0.0, 0.0, 1.0])
    gx, _ = backend_gradients(
        backend, "binary_cross_entropy", {"input": p, "target": y, "kwargs": {}}, "sum"
    )
    assert np.all(np.isfinite(gx)), gx


def test_torch_gradient_flows_to_weights() -> None:
    # PyTorch refuses weights with requires_grad in this loss; arrayloss differentiates
    # them. Closed form: with 'sum', d/dw_c of sum_{n,c} w_c l_{n,c} = sum_n l_{n,c},
    # with l PyTorch's unweighted per-element loss.
    import torch.nn.functional as F

    rng = np.random.default_rng(0)
    x = torch.tensor(rng.normal(size=(3, 4)))
    t = torch.tensor(rng.uniform(size=(3, 4)))
    pw = torch.tensor(rng.uniform(0.5, 2.0, size=(4,)))
    w = torch.tensor(rng.uniform(0.5, 2.0, size=(4,)), requires_grad=True)
    arrayloss.binary_cross_entropy_with_logits(
        x, t, weight=w, pos_weight=pw, reduction="sum"
    ).backward()
    unweighted = F.binary_cross_entropy_with_logits(x, t, pos_weight=pw, reduction="none")
    np.testing.assert_allclose(w.grad.numpy(), unweighted.sum(0).numpy(), rtol=1e-12)


@pytest.mark.parametrize("loss", LOSSES)
def test_jax_vmap_equals_loop(loss: str, rng: np.random.Generator) -> None:
    jax = pytest.importorskip("jax")
    jnp = BACKENDS[3].namespace()  # enables x64
    x = rng.uniform(0.05, 0.95, size=(6, 3, 4))
    t = rng.uniform(size=(6, 3, 4))
    fn = getattr(arrayloss, loss)
    for reduction in ("none", "mean", "sum"):
        batched = jax.vmap(lambda a, b, r=reduction: fn(a, b, reduction=r))(
            jnp.asarray(x), jnp.asarray(t)
        )
        looped = np.stack(
            [
                np.asarray(fn(jnp.asarray(a), jnp.asarray(b), reduction=reduction))
                for a, b in zip(x, t, strict=True)
            ]
        )
        np.testing.assert_allclose(np.asarray(batched), looped, rtol=1e-13)


def test_jax_jit_grad_vmap_compose(rng: np.random.Generator) -> None:
    # Per-example gradients: jit(vmap(grad(loss))), the idiom of JAX training code.
    jax = pytest.importorskip("jax")
    jnp = BACKENDS[3].namespace()
    x = rng.normal(size=(8, 5))
    t = rng.uniform(size=(8, 5))
    pw = rng.uniform(0.5, 2.0, size=(5,))

    def per_example(xi: Any, ti: Any) -> Any:
        return arrayloss.binary_cross_entropy_with_logits(xi, ti, pos_weight=jnp.asarray(pw))

    grads = jax.jit(jax.vmap(jax.grad(per_example)))(jnp.asarray(x), jnp.asarray(t))
    import torch.nn.functional as F

    for i in range(8):
        xi = torch.tensor(x[i], requires_grad=True)
        F.binary_cross_entropy_with_logits(
            xi, torch.tensor(t[i]), pos_weight=torch.tensor(pw)
        ).backward()
        np.testing.assert_allclose(np.asarray(grads[i]), xi.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize("loss", LOSSES)
def test_dask_stays_lazy_and_equals_numpy(loss: str, rng: np.random.Generator) -> None:
    da = pytest.importorskip("dask.array")
    dask_backend = next(b for b in BACKENDS if b.name == "dask")
    x = rng.uniform(0.05, 0.95, size=(10, 4))
    t = rng.uniform(size=(10, 4))
    w = rng.uniform(size=(4,))
    fn = getattr(arrayloss, loss)
    for reduction in ("none", "mean", "sum"):
        # backend.call forbids any compute inside the loss.
        lazy = dask_backend.call(
            fn,
            da.from_array(x, chunks=3),
            da.from_array(t, chunks=3),
            weight=da.from_array(w),
            reduction=reduction,
        )
        assert isinstance(lazy, da.Array)
        np.testing.assert_allclose(
            lazy.compute(), fn(x, t, weight=w, reduction=reduction), rtol=1e-13
        )


def test_torch_result_keeps_autograd_graph_and_device() -> None:
    x = torch.zeros(3, requires_grad=True)
    out = arrayloss.binary_cross_entropy_with_logits(x, torch.ones(3))
    assert isinstance(out, torch.Tensor)
    assert out.requires_grad
    assert out.device == x.device
    assert out.shape == ()
