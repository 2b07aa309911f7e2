"""The embedding and ranking losses on every backend, against PyTorch: margin_ranking_loss,
hinge_embedding_loss, cosine_embedding_loss, triplet_margin_loss and
triplet_margin_with_distance_loss (functions, classes, gradients, errors)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import array_api_compat
import numpy as np
import pytest

import arrayloss
from conformance.backends import Backend
from tests.helpers import assert_matches, rounded, torch_loss

INF = math.inf


def call(backend: Backend, name: str, *arrays: Any, dtype: str = "float64", **kwargs: Any) -> Any:
    """``arrayloss.<name>`` on ``backend``; integer NumPy arrays stay int64."""

    def to(a: Any) -> Any:
        return backend.asarray(a, "int64" if a.dtype.kind in "iu" else dtype)

    return backend.call(getattr(arrayloss, name), *(to(a) for a in arrays), **kwargs)


def signs(rng: np.random.Generator, shape: Any, values: Any = (-1.0, 1.0)) -> np.ndarray:
    return np.asarray(rng.choice(values, size=shape))


# --- values against PyTorch --------------------------------------------------------------


def test_margin_ranking_matches_torch(backend: Backend, rng: np.random.Generator) -> None:
    # The reductions are shared code (tests/test_reduction.py); the conformance cases run
    # every reduction on every loss. Here: 'none' and one reduction per comparison.
    reduction = "none"
    x1, x2 = rng.normal(size=(2, 4, 3))
    # Labels other than +-1 enter -y (x1 - x2) + margin as they are.
    y = signs(rng, (4, 3), (-1.0, 1.0, 0.0, 2.0))
    expected = torch_loss("margin_ranking_loss", x1, x2, y, margin=0.3, reduction=reduction)
    result = call(backend, "margin_ranking_loss", x1, x2, y, margin=0.3, reduction=reduction)
    assert_matches(backend, result, expected, "float64")
    # Broadcasting within one number of dimensions, as PyTorch 2.13; int64 labels.
    y = signs(rng, (4, 1), (-1, 1))
    reduction = "mean"
    expected = torch_loss("margin_ranking_loss", x1, x2[:1], y, reduction=reduction)
    result = call(backend, "margin_ranking_loss", x1, x2[:1], y, reduction=reduction)
    assert_matches(backend, result, expected, "float64")


def test_hinge_embedding_matches_torch(backend: Backend, rng: np.random.Generator) -> None:
    reduction = "none"
    x = rng.normal(size=(5, 4)) * 2
    # ATen: where(y != 1, max(0, margin - x), 0) + where(y != -1, x, 0): a label of 0 or
    # 2 gets both terms.
    y = signs(rng, (5, 4), (-1.0, 1.0, 0.0, 2.0))
    expected = torch_loss("hinge_embedding_loss", x, y, margin=0.7, reduction=reduction)
    result = call(backend, "hinge_embedding_loss", x, y, margin=0.7, reduction=reduction)
    assert_matches(backend, result, expected, "float64")
    y = signs(rng, (4,), (-1, 1))  # int64 labels, broadcast over the rows
    reduction = "sum"
    expected = torch_loss("hinge_embedding_loss", x, y, reduction=reduction)
    assert_matches(
        backend,
        call(backend, "hinge_embedding_loss", x, y, reduction=reduction),
        expected,
        "float64",
    )


def test_hinge_embedding_closed_form(backend: Backend) -> None:
    # x for y = 1, max(0, 1 - x) for y = -1, both for y = 0: 0.5, 0.7 and 0 + 3.
    x = np.array([0.5, 0.3, 3.0, -2.0])
    y = np.array([1.0, -1.0, 0.0, 1.0])
    result = call(backend, "hinge_embedding_loss", x, y, reduction="none")
    assert_matches(backend, result, np.array([0.5, 0.7, 3.0, -2.0]), "float64")


def test_cosine_embedding_matches_torch(backend: Backend, rng: np.random.Generator) -> None:
    reduction = "none"
    x1, x2 = rng.normal(size=(2, 6, 4))
    x1[1] = 0.0  # zero vectors: cosine 0 through PyTorch's EPSILON
    x2[2] = 0.0
    x1[3] = x2[3] = 0.0
    y = signs(rng, (6,), (-1.0, 1.0, 0.0))
    y[1:4] = [1.0, -1.0, 1.0]
    for margin in (0.0, -0.5):
        expected = torch_loss(
            "cosine_embedding_loss", x1, x2, y, margin=margin, reduction=reduction
        )
        result = call(
            backend, "cosine_embedding_loss", x1, x2, y, margin=margin, reduction=reduction
        )
        assert_matches(backend, result, expected, "float64")
    # Unbatched (D,) with a 0-d int label; an input broadcast over the batch.
    reduction = "mean"
    y0 = np.asarray(-1)
    expected = torch_loss(
        "cosine_embedding_loss", x1[0], x2[0], y0, margin=-0.5, reduction=reduction
    )
    result = call(
        backend, "cosine_embedding_loss", x1[0], x2[0], y0, margin=-0.5, reduction=reduction
    )
    assert_matches(backend, result, expected, "float64")
    expected = torch_loss("cosine_embedding_loss", x1, x2[:1], y, reduction=reduction)
    result = call(backend, "cosine_embedding_loss", x1, x2[:1], y, reduction=reduction)
    assert_matches(backend, result, expected, "float64")


def test_cosine_embedding_closed_form(backend: Backend) -> None:
    # Parallel: 1 - 1 = 0; opposite with y = -1: max(0, -1 - (-0.5)) = 0; orthogonal with
    # y = 1: 1 - 0 = 1; a zero vector: cosine 0, so 1 - 0 = 1.
    x1 = np.array([[1.0, 2.0], [1.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
    x2 = np.array([[2.0, 4.0], [-3.0, 0.0], [0.0, 5.0], [1.0, 1.0]])
    y = np.array([1.0, -1.0, 1.0, 1.0])
    result = call(backend, "cosine_embedding_loss", x1, x2, y, margin=-0.5, reduction="none")
    # The parallel pair's cosine is 10 / sqrt((5 + eps)(20 + eps)), eps = float32(1e-12).
    eps = float(np.float32(1e-12))
    parallel = 1.0 - 10.0 / math.sqrt((5.0 + eps) * (20.0 + eps))
    assert_matches(backend, result, np.array([parallel, 0.0, 1.0, 1.0]), "float64")


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0, INF], ids=lambda p: f"p{p:g}")
def test_triplet_margin_matches_torch(backend: Backend, rng: np.random.Generator, p: float) -> None:
    a, pos, neg = rng.normal(size=(3, 6, 4))
    pos[0] = a[0]  # identical anchor and positive: the distance is eps * D ** (1 / p)
    for swap in (False, True):
        kwargs: dict[str, Any] = {"p": p, "swap": swap, "margin": 1.5, "reduction": "none"}
        expected = torch_loss("triplet_margin_loss", a, pos, neg, **kwargs)
        result = call(backend, "triplet_margin_loss", a, pos, neg, **kwargs)
        assert_matches(backend, result, expected, "float64")
    # Unbatched (D,), and a mean over a broadcast negative.
    expected = torch_loss("triplet_margin_loss", a[1], pos[1], neg[1], p=p, margin=3.0)
    assert_matches(
        backend,
        call(backend, "triplet_margin_loss", a[1], pos[1], neg[1], p=p, margin=3.0),
        expected,
        "float64",
    )
    expected = torch_loss("triplet_margin_loss", a, pos, neg[:1], p=p, eps=0.0)
    result = call(backend, "triplet_margin_loss", a, pos, neg[:1], p=p, eps=0.0)
    assert_matches(backend, result, expected, "float64")


def test_triplet_margin_other_orders_match_torch(
    backend: Backend, rng: np.random.Generator
) -> None:
    # torch.norm takes any real order: 0 counts nonzero elements, negative orders and -inf
    # are "norms" too; an element of 0 gives a norm of 0 for p < 0.
    a, pos, neg = rng.normal(size=(3, 5, 4))
    neg[0, 1] = a[0, 1] - 1e-6  # a difference of exactly 0 after eps
    for p in (0.0, 0.5, 1.5, -1.0, -INF):
        expected = torch_loss("triplet_margin_loss", a, pos, neg, p=p, margin=2.0, reduction="none")
        result = call(
            backend, "triplet_margin_loss", a, pos, neg, p=p, margin=2.0, reduction="none"
        )
        assert_matches(backend, result, expected, "float64")


def test_triplet_margin_closed_form(backend: Backend) -> None:
    # eps = 0: d(a, p) = 0; d(a, n) = 5 (2-norm), 7 (1-norm), 4 (inf-norm); margin 6.
    a = np.zeros((1, 2))
    n = np.array([[3.0, 4.0]])
    for p, loss in ((2.0, 1.0), (1.0, 0.0), (INF, 2.0)):
        result = call(backend, "triplet_margin_loss", a, a, n, margin=6.0, p=p, eps=0.0)
        assert_matches(backend, result, np.asarray(loss), "float64")
    # swap: d(p, n) = 1 < d(a, n) = 5 replaces d(a, n): max(0, 1 + sqrt(18) - 1).
    pos = np.array([[3.0, 3.0]])
    result = call(backend, "triplet_margin_loss", a, pos, n, margin=1.0, eps=0.0, swap=True)
    d_ap = math.hypot(3.0, 3.0)
    assert_matches(backend, result, np.asarray(1.0 + d_ap - 1.0), "float64")


def test_triplet_with_default_distance_matches_torch(
    backend: Backend, rng: np.random.Generator
) -> None:
    a, pos, neg = rng.normal(size=(3, 6, 4))
    pos[0] = a[0]
    for swap, reduction in ((False, "none"), (True, "sum")):
        kwargs = {"swap": swap, "margin": 0.7, "reduction": reduction}
        expected = torch_loss("triplet_margin_with_distance_loss", a, pos, neg, **kwargs)
        result = call(backend, "triplet_margin_with_distance_loss", a, pos, neg, **kwargs)
        assert_matches(backend, result, expected, "float64")


def _l1_distance(check: Callable[[Any], None]) -> Callable[[Any, Any], Any]:
    def distance(x: Any, y: Any) -> Any:
        check(x)
        check(y)
        xp = array_api_compat.array_namespace(x, y)
        return xp.sum(xp.abs(x - y), axis=-1)

    return distance


def test_user_distance_gets_the_callers_arrays(backend: Backend, rng: np.random.Generator) -> None:
    import torch

    a, pos, neg = rng.normal(size=(3, 5, 4))
    library = array_api_compat.array_namespace(backend.asarray(a))
    seen: list[Any] = []

    def check(x: Any) -> None:
        # Arrays (or JAX tracers) of the caller's library, not converted NumPy.
        assert array_api_compat.array_namespace(x) is library, type(x)
        seen.append(type(x))

    distance = _l1_distance(check)
    torch_distance = _l1_distance(lambda x: None)
    for swap in (False, True):
        expected = torch.nn.functional.triplet_margin_with_distance_loss(
            *(torch.tensor(v) for v in (a, pos, neg)),
            distance_function=torch_distance,
            swap=swap,
            reduction="none",
        ).numpy()
        loss = arrayloss.TripletMarginWithDistanceLoss(
            distance_function=distance, swap=swap, reduction="none"
        )
        result = backend.call(loss, *(backend.asarray(v) for v in (a, pos, neg)))
        assert_matches(backend, result, expected, "float64")
    assert len(seen) == 2 * (2 + 3)


@pytest.mark.parametrize(
    "name",
    ["margin_ranking_loss", "hinge_embedding_loss", "cosine_embedding_loss", "triplet_margin_loss"],
)
def test_every_dtype_matches_torch_in_that_dtype(
    backend: Backend, rng: np.random.Generator, name: str
) -> None:
    for dtype in backend.dtypes:
        x1, x2, x3 = (rounded(rng.normal(size=(6, 5)), dtype) for _ in range(3))
        if name == "hinge_embedding_loss":
            arrays: tuple[Any, ...] = (x1, signs(rng, (6, 5)))
        elif name == "triplet_margin_loss":
            arrays = (x1, x2, x3)
        else:
            y = signs(rng, (6, 5) if name == "margin_ranking_loss" else (6,))
            arrays = (x1, x2, y)
        arrays = tuple(rounded(a, dtype) for a in arrays)
        for reduction in ("none", "mean"):
            expected = torch_loss(name, *arrays, dtype=dtype, reduction=reduction)
            result = call(backend, name, *arrays, dtype=dtype, reduction=reduction)
            assert_matches(backend, result, expected, dtype)


def test_result_dtypes_follow_torch() -> None:
    torch = pytest.importorskip("torch")
    f32, f64 = np.zeros((2, 3), np.float32), np.ones((2, 3))
    # hinge: the input's dtype, whatever the target's (ATen's where on the input).
    assert arrayloss.hinge_embedding_loss(f32, f64).dtype == np.float32
    # cosine: the inputs' promoted dtype; the target does not take part.
    assert arrayloss.cosine_embedding_loss(f32, f32, np.ones(2)).dtype == np.float32
    # margin ranking: all three promote; an integer label does not widen.
    assert arrayloss.margin_ranking_loss(f32, f32, f64).dtype == np.float64
    assert arrayloss.margin_ranking_loss(f32, f32, np.ones((2, 3), np.int64)).dtype == np.float32
    assert arrayloss.triplet_margin_loss(f32, f64, f32).dtype == np.float64
    t32, t64 = torch.zeros(2, 3), torch.ones(2, 3, dtype=torch.float64)
    F = torch.nn.functional
    assert F.hinge_embedding_loss(t32, t64).dtype == torch.float32
    assert (
        F.margin_ranking_loss(t32, t32, torch.ones(2, 3, dtype=torch.int64)).dtype == torch.float32
    )


def test_empty_batches(backend: Backend) -> None:
    # The mean of nothing is NaN and the sum 0, as PyTorch.
    z = np.zeros((0, 3))
    for name, arrays in (
        ("cosine_embedding_loss", (z, z, np.zeros(0))),
        ("triplet_margin_loss", (z, z, z)),
        ("hinge_embedding_loss", (z, z)),
    ):
        assert np.isnan(backend.to_numpy(call(backend, name, *arrays)))
        assert backend.to_numpy(call(backend, name, *arrays, reduction="sum")) == 0


@pytest.mark.parametrize("p", [math.inf, -math.inf, 2.0, 0.5], ids=str)
def test_triplet_empty_batch_every_order(backend: Backend, p: float) -> None:
    # Found by the fuzzer: on Dask the inf-norms of an empty batch raised (Dask's max and
    # min of an empty array fail even over a non-empty axis). PyTorch: an empty result
    # for 'none', NaN for 'mean', 0 for 'sum'.
    z = np.zeros((0, 4))
    none = backend.to_numpy(call(backend, "triplet_margin_loss", z, z, z, p=p, reduction="none"))
    assert none.shape == (0,)
    assert np.isnan(backend.to_numpy(call(backend, "triplet_margin_loss", z, z, z, p=p)))
    assert (
        backend.to_numpy(call(backend, "triplet_margin_loss", z, z, z, p=p, reduction="sum")) == 0
    )


# --- gradients against PyTorch autograd ----------------------------------------------------


def _torch_grads(name: str, arrays: list[np.ndarray], wrt: int, **kwargs: Any) -> list[Any]:
    import torch

    tensors = [torch.tensor(a, requires_grad=i < wrt) for i, a in enumerate(arrays)]
    getattr(torch.nn.functional, name)(*tensors, **kwargs).sum().backward()
    return [t.grad.numpy() if t.grad is not None else np.zeros(t.shape) for t in tensors[:wrt]]


def _backend_grads(
    backend: Backend, name: str, arrays: list[np.ndarray], wrt: int, **kwargs: Any
) -> list[Any]:
    fn = getattr(arrayloss, name)
    inputs = [backend.asarray(a) for a in arrays]
    if backend.module == "torch":
        for x in inputs[:wrt]:
            x.requires_grad_()
        fn(*inputs, **kwargs).sum().backward()
        return [backend.to_numpy(x.grad) for x in inputs[:wrt]]
    import jax

    def total(*xs: Any) -> Any:
        return fn(*xs, **kwargs).sum()

    grad = jax.grad(total, argnums=tuple(range(wrt)))
    if backend.jit:
        grad = jax.jit(grad)
    return [backend.to_numpy(g) for g in grad(*inputs)]


def _autodiff_backends() -> list[Any]:
    from tests.test_gradients_and_transforms import AUTODIFF

    return AUTODIFF


def _gradient_cases() -> list[Any]:
    rng = np.random.default_rng(7)
    x1, x2, x3 = rng.normal(size=(3, 6, 4))
    y = np.array([1.0, -1.0, 1.0, -1.0, 0.0, 2.0])
    # Margin ranking and hinge: some hinges exactly at 0 (PyTorch passes the gradient).
    r1 = x1.copy()
    r1[0, 0] = x2[0, 0] + 0.5  # -1 * (x1 - x2) + 0.5 = 0
    h = x1.copy()
    h[1, 1] = 0.7  # margin - x = 0 with margin 0.7
    hy = np.where(rng.uniform(size=(6, 4)) < 0.5, -1.0, 1.0)
    hy[1, 1] = -1.0
    # Cosine: zero vectors in either input (a gradient of about 1 / sqrt(EPSILON)).
    c1, c2 = x1.copy(), x2.copy()
    c1[0] = 0.0
    c2[1] = 0.0
    c1[2] = c2[2] = 0.0
    # Triplet: identical anchor and positive (eps decides the gradient), a tie in the
    # inf-norm.
    t2 = x2.copy()
    t2[0] = x1[0]
    t3 = x3.copy()
    t3[1, :2] = x1[1, :2] - np.array([2.0, -2.0]) - 1e-6
    cases = [
        ("margin_ranking_loss", [r1, x2, np.sign(x3)], 2, {"margin": 0.5}),
        ("hinge_embedding_loss", [h, hy], 1, {"margin": 0.7}),
        ("cosine_embedding_loss", [c1, c2, y], 2, {"margin": -0.2}),
        ("cosine_embedding_loss", [c1[0], c2[0], np.asarray(-1.0)], 2, {"margin": -0.5}),
    ]
    for p, swap in (
        (1.0, False),
        (2.0, True),
        (3.0, False),
        (INF, True),
        (0.5, False),
        (-1.0, True),
    ):
        kwargs = {"p": p, "swap": swap, "margin": 3.0}
        cases.append(("triplet_margin_loss", [x1, t2, t3], 3, kwargs))
    cases.append(("triplet_margin_loss", [x1, t2, t3], 3, {"eps": 0.0, "margin": 3.0}))
    # eps = 0 and exact (dyadic) data: differences of exactly 0 (PyTorch's norm gradient
    # sign(0) = 0 there; JAX's d|x|/dx at 0 is 1) and an exact tie of the inf-norm.
    a = np.array([[0.5, 0.25, 0.0, 1.0], [1.0, -2.0, 0.5, 0.75]])
    pos = a + np.array([[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    neg = a - np.array([[2.0, -2.0, 0.0, 0.5], [0.25, 0.0, -0.25, 0.0]])
    for p in (1.0, 3.0, INF, 0.5):
        kwargs = {"eps": 0.0, "p": p, "margin": 3.0}
        cases.append(("triplet_margin_loss", [a, pos, neg], 3, kwargs))
    cases.append(
        ("triplet_margin_with_distance_loss", [x1, t2, t3], 3, {"swap": True, "margin": 3.0})
    )
    return [
        pytest.param(name, arrays, wrt, kwargs, id=f"{name}-{i}")
        for i, (name, arrays, wrt, kwargs) in enumerate(cases)
    ]


@pytest.mark.parametrize(("name", "arrays", "wrt", "kwargs"), _gradient_cases())
def test_gradients_equal_torch_autograd(
    name: str, arrays: list[np.ndarray], wrt: int, kwargs: dict[str, Any]
) -> None:
    pytest.importorskip("torch")
    expected = _torch_grads(name, arrays, wrt, **kwargs)
    assert any(np.any(g != 0) for g in expected)
    checked = 0
    for param in _autodiff_backends():
        backend = param.values[0]
        if backend.skip_reason():
            continue
        got = _backend_grads(backend, name, arrays, wrt, **kwargs)
        for g, e in zip(got, expected, strict=True):
            np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-14, err_msg=backend.name)
        checked += 1
    assert checked


# --- errors -------------------------------------------------------------------------------


def test_margin_ranking_dimension_errors() -> None:
    x = np.zeros(4)
    with pytest.raises(
        RuntimeError, match=r"`input1`, `input2`, `target` must have the same number"
    ):
        arrayloss.margin_ranking_loss(x, x, np.ones(()))
    with pytest.raises(
        arrayloss.ArrayLossValueError,
        match=r"`input2` of shape \(3,\) does not broadcast with `input1`",
    ):
        arrayloss.margin_ranking_loss(x, np.zeros(3), np.ones(4))
    # Beside a floating array an integer one is promoted (as in PyTorch); with no
    # floating array at all it raises.
    i = np.zeros(4, np.int64)
    with pytest.raises(
        TypeError, match="`input1` must have a real floating-point dtype; got int64"
    ):
        arrayloss.margin_ranking_loss(i, i, i)


def test_cosine_dimension_errors() -> None:
    x = np.zeros((5, 4))
    with pytest.raises(RuntimeError, match=r"`target` must be 0-d or 1-d .*; got shape \(5, 1\)"):
        arrayloss.cosine_embedding_loss(x, x, np.ones((5, 1)))
    with pytest.raises(
        ValueError, match=r"a 0-d `target` needs `input1` and `input2` of shape \(D,\); got shapes"
    ):
        arrayloss.cosine_embedding_loss(x, x, np.ones(()))
    with pytest.raises(
        ValueError, match=r"a 1-d `target` needs .* \(N, D\); got shapes \(5, 4\) and \(4,\)"
    ):
        arrayloss.cosine_embedding_loss(x, x[0], np.ones(5))
    with pytest.raises(
        RuntimeError, match=r"`target` of shape \(3,\) does not broadcast with `samples`"
    ):
        arrayloss.cosine_embedding_loss(x, x, np.ones(3))


def test_triplet_errors() -> None:
    x = np.zeros((2, 3))
    for fn in (arrayloss.triplet_margin_loss, arrayloss.triplet_margin_with_distance_loss):
        with pytest.raises(ValueError, match="`margin` must be greater than 0; got 0"):
            fn(x, x, x, margin=0)
        with pytest.raises(RuntimeError, match=r"same number of dimensions; got 1-d, 2-d and 2-d"):
            fn(x[0], x, x)
    with pytest.raises(ValueError, match=r"`margin` must be greater than 0; got -1\.0"):
        arrayloss.TripletMarginLoss(margin=-1.0)
    with pytest.raises(ValueError, match=r"`margin` must be greater than 0; got 0\.0"):
        arrayloss.TripletMarginWithDistanceLoss(margin=0.0)
    with pytest.raises(TypeError, match="`swap` must be a bool; got int"):
        arrayloss.triplet_margin_loss(x, x, x, swap=1)
    with pytest.raises(TypeError, match="`p` must be a float; got str"):
        arrayloss.triplet_margin_loss(x, x, x, p="fro")
    with pytest.raises(RuntimeError, match=r"the inf-norm of an empty last dimension"):
        arrayloss.triplet_margin_loss(np.zeros((2, 0)), np.zeros((2, 0)), np.zeros((2, 0)), p=INF)
    # No legacy reductions here, as in PyTorch ('elementwise_mean' included).
    for reduction in ("avg", "elementwise_mean"):
        with pytest.raises(ValueError, match=f"`reduction` must be one of .*; got '{reduction}'"):
            arrayloss.triplet_margin_with_distance_loss(x, x, x, reduction=reduction)
        with pytest.raises(ValueError, match=f"got '{reduction}'"):
            arrayloss.TripletMarginWithDistanceLoss(reduction=reduction)
    with pytest.raises(TypeError, match="`distance_function` must be callable or None; got int"):
        arrayloss.triplet_margin_with_distance_loss(x, x, x, distance_function=3)


def test_torch_raises_the_same_kinds_of_error() -> None:
    # Where PyTorch raises RuntimeError, arrayloss raises a RuntimeError too (and a
    # ValueError); where PyTorch raises ValueError, a ValueError.
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    t = torch.zeros(5, 4)
    with pytest.raises(RuntimeError):
        F.cosine_embedding_loss(t, t, torch.ones(3))
    with pytest.raises(RuntimeError):
        F.margin_ranking_loss(t[0], t[0], torch.ones(()))
    with pytest.raises(ValueError, match="margin must be greater than 0"):
        F.triplet_margin_loss(t, t, t, margin=0)


# --- classes ------------------------------------------------------------------------------


def test_classes_equal_functions(backend: Backend, rng: np.random.Generator) -> None:
    x1, x2, x3 = rng.normal(size=(3, 4, 3))
    y = signs(rng, (4,))
    pairs: list[tuple[Any, str, tuple[Any, ...], dict[str, Any]]] = [
        (
            arrayloss.MarginRankingLoss(margin=0.2, reduction="sum"),
            "margin_ranking_loss",
            (x1, x2, np.sign(x3)),
            {"margin": 0.2, "reduction": "sum"},
        ),
        (
            arrayloss.HingeEmbeddingLoss(margin=0.5),
            "hinge_embedding_loss",
            (x1, np.sign(x2)),
            {"margin": 0.5},
        ),
        (
            arrayloss.CosineEmbeddingLoss(margin=0.1, reduction="none"),
            "cosine_embedding_loss",
            (x1, x2, y),
            {"margin": 0.1, "reduction": "none"},
        ),
        (
            arrayloss.TripletMarginLoss(margin=2.0, p=1.0, swap=True),
            "triplet_margin_loss",
            (x1, x2, x3),
            {"margin": 2.0, "p": 1.0, "swap": True},
        ),
        (
            arrayloss.TripletMarginWithDistanceLoss(margin=2.0, swap=True),
            "triplet_margin_with_distance_loss",
            (x1, x2, x3),
            {"margin": 2.0, "swap": True},
        ),
    ]
    for loss, name, arrays, kwargs in pairs:
        expected = torch_loss(name, *arrays, **kwargs)
        result = backend.call(loss, *(backend.asarray(a) for a in arrays))
        assert_matches(backend, result, expected, "float64")


def test_class_reprs_and_legacy_arguments() -> None:
    assert repr(arrayloss.MarginRankingLoss()) == "MarginRankingLoss(margin=0.0, reduction='mean')"
    assert (
        repr(arrayloss.TripletMarginLoss(swap=True))
        == "TripletMarginLoss(margin=1.0, p=2.0, eps=1e-06, swap=True, reduction='mean')"
    )
    loss = arrayloss.TripletMarginWithDistanceLoss(distance_function=np.minimum, reduction="sum")
    assert (
        repr(loss)
        == "TripletMarginWithDistanceLoss(margin=1.0, distance_function=minimum, reduction='sum')"
    )
    with pytest.warns(DeprecationWarning, match="use reduction='none' instead"):
        assert arrayloss.CosineEmbeddingLoss(reduce=False).reduction == "none"
    with pytest.raises(TypeError, match="takes 1 positional argument"):
        arrayloss.TripletMarginWithDistanceLoss(None)  # type: ignore[misc]
    with pytest.raises(TypeError, match="`margin` must be a float; got str"):
        arrayloss.HingeEmbeddingLoss(margin="1")  # type: ignore[arg-type]
