"""soft_margin_loss and multilabel_soft_margin_loss on every backend, against PyTorch."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pytest

import arrayloss
from conformance.backends import BACKENDS as BACKENDS_BY_NAME
from conformance.backends import Backend, backend_by_name
from tests.helpers import REDUCTIONS, assert_matches, rounded, torch_loss


def call(backend: Backend, name: str, x: Any, t: Any, dtype: str = "float64", **kwargs: Any) -> Any:
    kwargs = {
        k: backend.asarray(v, dtype) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()
    }
    return backend.call(
        getattr(arrayloss, name), backend.asarray(x, dtype), backend.asarray(t, dtype), **kwargs
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(), (7,), (4, 5), (2, 3, 4)], ids=str)
def test_soft_margin_matches_torch(
    backend: Backend, rng: np.random.Generator, reduction: str, shape: Any
) -> None:
    x = np.asarray(rng.normal(size=shape) * 3)
    y = np.asarray(rng.choice([-1.0, 1.0], size=shape))
    expected = torch_loss("soft_margin_loss", x, y, reduction=reduction)
    assert_matches(
        backend, call(backend, "soft_margin_loss", x, y, reduction=reduction), expected, "float64"
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(3,), (4, 5), (2, 3, 4)], ids=str)
@pytest.mark.parametrize("with_weight", [False, True], ids=["plain", "weight"])
def test_multilabel_soft_margin_matches_torch(
    backend: Backend, rng: np.random.Generator, reduction: str, shape: Any, with_weight: bool
) -> None:
    x = rng.normal(size=shape) * 3
    y = rng.integers(0, 2, size=shape).astype(np.float64)
    kwargs: dict[str, Any] = {"reduction": reduction}
    if with_weight:
        kwargs["weight"] = rng.uniform(0.5, 2.0, size=shape[-1:])
    expected = torch_loss("multilabel_soft_margin_loss", x, y, **kwargs)
    result = call(backend, "multilabel_soft_margin_loss", x, y, **kwargs)
    assert_matches(backend, result, expected, "float64")


@pytest.mark.parametrize("name", ["soft_margin_loss", "multilabel_soft_margin_loss"])
def test_every_dtype_matches_torch_in_that_dtype(
    backend: Backend, rng: np.random.Generator, name: str
) -> None:
    for dtype in backend.dtypes:
        x = rounded(rng.normal(size=(6, 5)) * 3, dtype)
        y = rounded(
            rng.choice([-1.0, 1.0] if name == "soft_margin_loss" else [0.0, 1.0], size=(6, 5)),
            dtype,
        )
        for reduction in REDUCTIONS:
            expected = torch_loss(name, x, y, dtype=dtype, reduction=reduction)
            assert_matches(
                backend, call(backend, name, x, y, dtype, reduction=reduction), expected, dtype
            )


def test_soft_margin_is_stable_where_torch_overflows(backend: Backend) -> None:
    # Closed form: log(1 + e^{800}) = 800 + log(1 + e^{-800}) = 800 in float64.
    # PyTorch's kernel, log1p(exp(-y x)), gives inf here; arrayloss the finite value.
    x = np.array([-800.0, 800.0, 0.0])
    y = np.array([1.0, -1.0, 1.0])
    result = call(backend, "soft_margin_loss", x, y, reduction="none")
    assert_matches(backend, result, np.array([800.0, 800.0, math.log(2.0)]), "float64")


def test_multilabel_soft_margin_closed_form(backend: Backend) -> None:
    # At x = 0 every class contributes log 2; with weights (1, 2, 3) the mean over the
    # 3 classes is 2 log 2.
    x = np.zeros((2, 3))
    y = np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    result = call(
        backend,
        "multilabel_soft_margin_loss",
        x,
        y,
        weight=np.array([1.0, 2.0, 3.0]),
        reduction="none",
    )
    assert_matches(backend, result, np.full(2, 2 * math.log(2.0)), "float64")


def test_shapes_that_do_not_broadcast_raise(backend: Backend) -> None:
    with pytest.raises(
        ValueError,
        match=r"`target` of shape \(2,\) does not broadcast with `input` of shape \(4,\)",
    ):
        call(backend, "soft_margin_loss", np.zeros(4), np.ones(2))
    with pytest.raises(
        ValueError, match="`input` must have a class \\(last\\) dimension; got a 0-d array"
    ):
        call(backend, "multilabel_soft_margin_loss", np.zeros(()), np.ones(()))


@pytest.mark.parametrize("name", ["soft_margin_loss", "multilabel_soft_margin_loss"])
def test_gradients_equal_torch_autograd(name: str, rng: np.random.Generator) -> None:
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    from tests.test_gradients_and_transforms import AUTODIFF

    x = rng.normal(size=(4, 3)) * 2
    y = (
        rng.choice([-1.0, 1.0], size=(4, 3))
        if name == "soft_margin_loss"
        else rng.uniform(size=(4, 3))
    )
    # PyTorch's soft_margin_loss is not differentiable with respect to its target.
    target_grad = name != "soft_margin_loss"
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.tensor(y, requires_grad=target_grad)
    getattr(F, name)(xt, yt).backward()
    for param in AUTODIFF:
        backend = param.values[0]
        if backend.skip_reason():
            continue
        if backend.module == "torch":
            xb, yb = backend.asarray(x).requires_grad_(), backend.asarray(y).requires_grad_()
            getattr(arrayloss, name)(xb, yb).backward()
            gx, gy = backend.to_numpy(xb.grad), backend.to_numpy(yb.grad)
        else:
            import jax

            grad = jax.grad(getattr(arrayloss, name), argnums=(0, 1))
            if backend.jit:
                grad = jax.jit(grad)
            gx, gy = (backend.to_numpy(g) for g in grad(backend.asarray(x), backend.asarray(y)))
        np.testing.assert_allclose(gx, xt.grad.numpy(), rtol=1e-10, atol=1e-14)
        if target_grad:
            np.testing.assert_allclose(gy, yt.grad.numpy(), rtol=1e-10, atol=1e-14)


# --- multi_margin_loss -----------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(4,), (5, 4)], ids=str)
@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("with_weight", [False, True], ids=["plain", "weight"])
def test_multi_margin_matches_torch(
    backend: Backend,
    rng: np.random.Generator,
    reduction: str,
    shape: Any,
    p: int,
    with_weight: bool,
) -> None:
    x = rng.normal(size=shape)
    y = np.asarray(rng.integers(0, shape[-1], size=shape[:-1]))
    kwargs: dict[str, Any] = {"reduction": reduction, "p": p, "margin": 0.7}
    if with_weight:
        kwargs["weight"] = rng.uniform(0.5, 2.0, size=shape[-1:])
    expected = torch_loss("multi_margin_loss", x, y.astype(np.int64), **kwargs)
    b_kwargs = {
        k: backend.asarray(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()
    }
    result = backend.call(
        arrayloss.multi_margin_loss, backend.asarray(x), backend.asarray(y, "int64"), **b_kwargs
    )
    assert_matches(backend, result, expected, "float64")


def test_multi_margin_empty_batch(backend: Backend) -> None:
    # PyTorch 2.13 returns uninitialized memory for an empty batch (seen: 7e-278, -6e231),
    # so the expected values are closed form: the sum of nothing is 0, its mean NaN.
    x = backend.asarray(np.zeros((0, 4)))
    t = backend.asarray(np.zeros(0), "int64")
    assert backend.to_numpy(backend.call(arrayloss.multi_margin_loss, x, t, reduction="sum")) == 0
    assert np.isnan(backend.to_numpy(backend.call(arrayloss.multi_margin_loss, x, t)))
    assert backend.to_numpy(
        backend.call(arrayloss.multi_margin_loss, x, t, reduction="none")
    ).shape == (0,)


def test_multi_margin_unchecked_index_out_of_range_under_jit() -> None:
    # Under jax.jit the index is not checked (docs: value checks are skipped traced). The
    # gathered form keeps the one-hot form's documented result: an index out of range
    # selects no class, so x_y counts as 0, all C terms count, and a weight gives 0.
    jax = pytest.importorskip("jax")
    jnp = backend_by_name("jax").namespace()  # enables x64
    x = jnp.asarray([[0.1, 0.2, 0.4, 0.8], [0.1, 0.2, 0.4, 0.8]])
    t = jnp.asarray([3, 7])
    loss = jax.jit(lambda a, b: arrayloss.multi_margin_loss(a, b, reduction="none"))(x, t)
    # Row 0, PyTorch's documented example: (0.3 + 0.4 + 0.6) / 4; row 1: (1.1 + 1.2 +
    # 1.4 + 1.8) / 4, as if x_y were 0 and no class were the target's.
    np.testing.assert_allclose(np.asarray(loss), [0.325, 1.375], rtol=1e-12)
    w = jnp.asarray([1.0, 2.0, 3.0, 4.0])
    weighted = jax.jit(lambda a, b: arrayloss.multi_margin_loss(a, b, weight=w, reduction="none"))(
        x, t
    )
    np.testing.assert_allclose(np.asarray(weighted), [4 * 0.325, 0.0], rtol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    ("input_shape", "target_shape"),
    [((), ()), ((), (1,)), ((4,), (1,)), ((1, 4), ()), ((1, 4), (1,))],
    ids=str,
)
def test_multi_margin_single_sample_shapes_as_torch(
    backend: Backend,
    rng: np.random.Generator,
    reduction: str,
    input_shape: Any,
    target_shape: Any,
) -> None:
    # PyTorch's OpInfo samples (found by the OpInfo conformance source): target needs only
    # one index per sample, 0-d or 1-d; 'none' takes target's shape; a 0-d input is one
    # class (LossMultiMargin.cpp, multi_margin_loss_shape_check).
    x = np.asarray(rng.normal(size=input_shape))
    y = np.asarray(rng.integers(0, x.shape[-1] if x.ndim else 1, size=target_shape))
    expected = torch_loss("multi_margin_loss", x, y, reduction=reduction, p=2, margin=0.7)
    result = backend.call(
        arrayloss.multi_margin_loss,
        backend.asarray(x),
        backend.asarray(y, "int64"),
        reduction=reduction,
        p=2,
        margin=0.7,
    )
    assert_matches(backend, result, expected, "float64")


@pytest.mark.parametrize(
    ("input_shape", "target_shape", "message"),
    [
        ((3, 4), (), r"one class index per sample .*\(shape \(3, 4\): 3 samples\).*got shape \(\)"),
        ((1, 4), (1, 1), r"as a 0-d or 1-d array; got shape \(1, 1\)"),
        ((3, 0), (3,), r"with C > 0 classes; got shape \(3, 0\)"),
        ((0,), (), r"with C > 0 classes; got shape \(0,\)"),
        ((2, 3, 4), (2, 4), r"must have shape \(\), \(C,\) or \(N, C\)"),
    ],
    ids=str,
)
def test_multi_margin_shape_errors_as_torch(
    input_shape: Any, target_shape: Any, message: str
) -> None:
    x, y = np.zeros(input_shape), np.zeros(target_shape, dtype=np.int64)
    with pytest.raises(RuntimeError):  # PyTorch: RuntimeError, for each of these
        torch_loss("multi_margin_loss", x, y)
    with pytest.raises(ValueError, match=message):
        arrayloss.multi_margin_loss(x, y)


@pytest.mark.parametrize("weight_shape", [(), (5, 4)], ids=str)
def test_multi_margin_weight_of_other_rank_is_reported_first_as_torch(
    weight_shape: Any,
) -> None:
    # PyTorch's OpInfo error inputs: a float target *and* a weight that is not 1-d.
    # PyTorch's Python wrapper rejects the weight first (ValueError); so does arrayloss.
    x, y, w = np.zeros((5, 4)), np.zeros(5), np.ones(weight_shape)
    with pytest.raises(ValueError, match="weight must be one-dimensional"):
        torch_loss("multi_margin_loss", x, y, weight=w)
    with pytest.raises(
        ValueError, match=rf"`weight` must be one-dimensional.*got shape {re.escape(str(w.shape))}"
    ):
        arrayloss.multi_margin_loss(x, y, weight=w)


def test_multi_margin_pytorch_documented_example(backend: Backend) -> None:
    # torch.nn.MultiMarginLoss docs: 1/4 [(1 - 0.8 + 0.1) + (1 - 0.8 + 0.2) + (1 - 0.8 + 0.4)].
    loss = arrayloss.MultiMarginLoss()
    x = backend.asarray(np.array([[0.1, 0.2, 0.4, 0.8]]))
    result = backend.call(loss, x, backend.asarray(np.array([3]), "int64"))
    assert_matches(backend, result, np.asarray(0.325), "float64")


def test_multi_margin_rejects_other_p() -> None:
    with pytest.raises(ValueError, match=r"`p` must be 1 or 2 .*; got 3"):
        arrayloss.multi_margin_loss(np.zeros((2, 3)), np.zeros(2, dtype=np.int64), p=3)
    with pytest.raises(ValueError, match=r"`p` must be 1 or 2 .*; got 0"):
        arrayloss.MultiMarginLoss(p=0)


def test_multi_margin_index_out_of_range(backend: Backend) -> None:
    x = backend.asarray(np.zeros((2, 3)))
    t = backend.asarray(np.array([0, 3]), "int64")
    if backend.jit or backend.lazy:
        backend.call(arrayloss.multi_margin_loss, x, t)  # documented: no value check
        return
    with pytest.raises(
        IndexError, match=r"`target` holds class index 3, outside \[0, 3\) \(C = 3\)$"
    ):
        backend.call(arrayloss.multi_margin_loss, x, t)


def test_multi_margin_gradient_equals_torch(rng: np.random.Generator) -> None:
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    from tests.test_gradients_and_transforms import AUTODIFF

    x = rng.normal(size=(6, 4))
    x[0] = [0.0, 1.0, 0.0, 0.0]  # z = margin - x_y + x_i = 0 exactly: gradient 0 there
    y = rng.integers(0, 4, size=6)
    y[0] = 1
    w = rng.uniform(0.5, 2.0, size=4)
    for p in (1, 2):
        xt = torch.tensor(x, requires_grad=True)
        F.multi_margin_loss(xt, torch.tensor(y), p=p, weight=torch.tensor(w)).backward()
        for param in AUTODIFF:
            backend = param.values[0]
            if backend.skip_reason():
                continue
            fn = lambda a, p=p, b=backend: arrayloss.multi_margin_loss(  # noqa: E731
                a, b.asarray(y, "int64"), p=p, weight=b.asarray(w)
            )
            if backend.module == "torch":
                xb = backend.asarray(x).requires_grad_()
                fn(xb).backward()
                g = backend.to_numpy(xb.grad)
            else:
                import jax

                grad = jax.jit(jax.grad(fn)) if backend.jit else jax.grad(fn)
                g = backend.to_numpy(grad(backend.asarray(x)))
            np.testing.assert_allclose(g, xt.grad.numpy(), rtol=1e-10, atol=1e-14)


# --- multilabel_margin_loss ------------------------------------------------------------------


def multilabel_targets(
    rng: np.random.Generator, n: int, c: int, max_targets: int | None = None
) -> np.ndarray:
    """Per sample a block of class indices (repeats allowed) of length 0 .. max_targets,
    then -1, then arbitrary indices in [-1, C) that PyTorch ignores."""
    t = rng.integers(-1, c, size=(n, c))
    for row in t:
        k = int(rng.integers(0, (max_targets if max_targets is not None else c) + 1))
        row[:k] = rng.integers(0, c, size=k)
        if k < c:
            row[k] = -1
    return t


@pytest.fixture(params=["slots", "sorting"])
def multilabel_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both algorithms of multilabel_margin_loss: eager arrays with few target slots loop
    over them; with the threshold at -1 every backend takes the sorts."""
    if request.param == "sorting":
        import arrayloss._margin

        monkeypatch.setattr(arrayloss._margin, "_SLOT_LOOP_MAX", -1)
    return request.param  # type: ignore[no-any-return]


def call_multilabel_margin(
    backend: Backend, x: Any, t: Any, dtype: str = "float64", **kw: Any
) -> Any:
    return backend.call(
        arrayloss.multilabel_margin_loss,
        backend.asarray(x, dtype),
        backend.asarray(t, "int64"),
        **kw,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    ("shape", "max_targets"),
    [((), None), ((6,), None), ((1, 6), 6), ((9, 7), None), ((8, 40), 3), ((5, 40), 40)],
    ids=str,
)
def test_multilabel_margin_matches_torch(
    backend: Backend,
    rng: np.random.Generator,
    multilabel_path: str,
    reduction: str,
    shape: Any,
    max_targets: int | None,
) -> None:
    n, c = (shape[0] if len(shape) == 2 else 1), (shape[-1] if shape else 1)
    t = multilabel_targets(rng, n, c, max_targets).reshape(shape)
    x = rng.normal(size=shape)
    expected = torch_loss("multilabel_margin_loss", x, t, reduction=reduction)
    result = call_multilabel_margin(backend, x, t, reduction=reduction)
    assert_matches(backend, result, expected, "float64")


def test_multilabel_margin_pytorch_documented_example(backend: Backend) -> None:
    # torch.nn.MultiLabelMarginLoss docs: targets {3, 0} (the 1 after -1 is ignored):
    # 1/4 [(1-(0.1-0.2)) + (1-(0.1-0.4)) + (1-(0.8-0.2)) + (1-(0.8-0.4))] = 0.85.
    loss = arrayloss.MultiLabelMarginLoss()
    x = backend.asarray(np.array([[0.1, 0.2, 0.4, 0.8]]))
    result = backend.call(loss, x, backend.asarray(np.array([[3, 0, -1, 1]]), "int64"))
    assert_matches(backend, result, np.asarray(0.85), "float64")


def test_multilabel_margin_closed_form_repeats_and_ties(
    backend: Backend, multilabel_path: str
) -> None:
    # Class 1 named twice counts twice (PyTorch loops over target slots); classes 0 and
    # 2 are the non-targets. Sample 0: 2 * [(1 - 0.5 + 0.1) + (1 - 0.5 + 0.3)] / 3.
    # Sample 1: x_1 - 1 = 0 = x_0 = x_2: every hinge is exactly 0. Sample 2: no target.
    x = np.array([[0.1, 0.5, 0.3], [0.0, 1.0, 0.0], [5.0, -5.0, 0.0]])
    t = np.array([[1, 1, -1], [1, -1, 2], [-1, 0, 1]])
    result = call_multilabel_margin(backend, x, t, reduction="none")
    assert_matches(backend, result, np.array([2 * 1.4 / 3, 0.0, 0.0]), "float64")


def test_multilabel_margin_every_dtype(backend: Backend, rng: np.random.Generator) -> None:
    # PyTorch's CPU kernel has no float16/bfloat16: the reference is float64 on the
    # rounded inputs; arrayloss computes halves in float32 and returns the input dtype.
    t = multilabel_targets(rng, 6, 5)
    for dtype in backend.dtypes:
        x = rounded(rng.normal(size=(6, 5)), dtype)
        expected = rounded(torch_loss("multilabel_margin_loss", x, t, reduction="none"), dtype)
        result = call_multilabel_margin(backend, x, t, dtype, reduction="none")
        assert_matches(backend, result, expected, dtype)


def test_multilabel_margin_empty_batch(backend: Backend) -> None:
    # PyTorch 2.13 returns uninitialized memory for 'mean' of an empty batch: closed
    # form instead, as for multi_margin_loss.
    x, t = np.zeros((0, 4)), np.zeros((0, 4), dtype=np.int64)
    assert backend.to_numpy(call_multilabel_margin(backend, x, t, reduction="sum")) == 0
    assert np.isnan(backend.to_numpy(call_multilabel_margin(backend, x, t)))
    none = call_multilabel_margin(backend, x, t, reduction="none")
    assert backend.to_numpy(none).shape == (0,)


def test_multilabel_margin_bad_inputs(backend: Backend) -> None:
    x = np.zeros((2, 3))
    with pytest.raises(TypeError, match="`target` of class indices must have an integer dtype"):
        backend.call(
            arrayloss.multilabel_margin_loss, backend.asarray(x), backend.asarray(np.zeros((2, 3)))
        )
    with pytest.raises(ValueError, match=r"`target` must have `input`'s shape \(2, 3\)"):
        call_multilabel_margin(backend, x, np.zeros((2, 2), dtype=np.int64))
    with pytest.raises(ValueError, match=r"`input` must have shape \(C,\) or \(N, C\)"):
        call_multilabel_margin(backend, np.zeros((2, 3, 4)), np.zeros((2, 3, 4), dtype=np.int64))
    with pytest.raises(ValueError, match=r"with C > 0 .*got shape \(3, 0\)"):
        call_multilabel_margin(backend, np.zeros((3, 0)), np.zeros((3, 0), dtype=np.int64))


@pytest.mark.parametrize("bad", [3, -2])
def test_multilabel_margin_index_out_of_range(backend: Backend, bad: int) -> None:
    # PyTorch checks the padding after the first -1 too ("target is out of range").
    x = np.zeros((2, 3))
    t = np.array([[0, -1, bad], [1, 2, -1]])
    if backend.jit or backend.lazy:
        call_multilabel_margin(backend, x, t)  # documented: no value check
        return
    with pytest.raises(
        IndexError,
        match=rf"`target` holds class index {bad}, outside \[0, 3\) \(C = 3\) and not ignore_index -1$",
    ):
        call_multilabel_margin(backend, x, t)


def test_multilabel_margin_gradient_equals_torch(
    rng: np.random.Generator, multilabel_path: str
) -> None:
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    from tests.test_gradients_and_transforms import AUTODIFF

    x = rng.normal(size=(7, 6))
    x[0] = [0.0, 1.0, 0.0, 2.0, -1.0, 0.5]  # hinges exactly at 0: derivative 0 there
    t = multilabel_targets(rng, 7, 6)
    t[0] = [1, 3, 1, -1, 0, 0]
    xt = torch.tensor(x, requires_grad=True)
    F.multilabel_margin_loss(xt, torch.tensor(t), reduction="sum").backward()
    for param in AUTODIFF:
        backend = param.values[0]
        if backend.skip_reason():
            continue
        fn = lambda a, b=backend: arrayloss.multilabel_margin_loss(  # noqa: E731
            a, b.asarray(t, "int64"), reduction="sum"
        )
        if backend.module == "torch":
            xb = backend.asarray(x).requires_grad_()
            fn(xb).backward()
            g = backend.to_numpy(xb.grad)
        else:
            import jax

            grad = jax.jit(jax.grad(fn)) if backend.jit else jax.grad(fn)
            g = backend.to_numpy(grad(backend.asarray(x)))
        np.testing.assert_allclose(g, xt.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_multilabel_margin_jax_vmap_equals_loop(rng: np.random.Generator) -> None:
    pytest.importorskip("jax")
    import jax

    jnp = next(b for b in BACKENDS_BY_NAME if b.name == "jax").namespace()  # enables x64
    x = rng.normal(size=(4, 3, 5))
    t = multilabel_targets(rng, 12, 5).reshape(4, 3, 5)
    batched = jax.vmap(arrayloss.multilabel_margin_loss)(jnp.asarray(x), jnp.asarray(t))
    looped = [float(arrayloss.multilabel_margin_loss(x[i], t[i])) for i in range(4)]
    np.testing.assert_allclose(np.asarray(batched), looped, rtol=1e-13)


def test_multilabel_margin_class_equals_function(
    backend: Backend, rng: np.random.Generator
) -> None:
    x = rng.normal(size=(4, 5))
    t = multilabel_targets(rng, 4, 5)
    loss = arrayloss.MultiLabelMarginLoss(reduction="sum")
    assert repr(loss) == "MultiLabelMarginLoss(reduction='sum')"
    result = backend.call(loss, backend.asarray(x), backend.asarray(t, "int64"))
    expected = torch_loss("multilabel_margin_loss", x, t, reduction="sum")
    assert_matches(backend, result, expected, "float64")
