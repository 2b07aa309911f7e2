"""linear_cross_entropy (and LinearCrossEntropyLoss) on every backend.

Expected values and gradients come from PyTorch's ``F.linear_cross_entropy`` on the same
data (its unchunked reference path, ``options=None``), never from arrayloss itself.
Block sizes are chosen not to divide N (7) or C (11), so that every loop ends on a
partial block.
"""

from __future__ import annotations

import tracemalloc
from typing import Any

import numpy as np
import pytest

import arrayloss
from conformance.backends import Backend
from tests.helpers import REDUCTIONS, assert_matches, torch_loss

N, D, C = 7, 5, 11
#: Blocks of 3 rows and 4 classes: neither divides N = 7 nor C = 11.
CHUNKS = {"batch_chunk_size": 3, "vocab_chunk_size": 4}


def index_target(rng: np.random.Generator, shape: tuple[int, ...], ignore: bool) -> np.ndarray:
    t = rng.integers(0, C, size=shape)
    if ignore:
        t.flat[0] = -100  # one ignored sample (the default ignore_index, None -> -100)
    return np.asarray(t, dtype=np.int64)


def call(backend: Backend, *arrays: Any, dtype: str = "float64", **kwargs: Any) -> Any:
    def conv(a: Any) -> Any:
        if not isinstance(a, np.ndarray):
            return a
        return backend.asarray(a, "int64" if a.dtype.kind in "iu" else dtype)

    return backend.call(
        arrayloss.linear_cross_entropy,
        *(conv(a) for a in arrays),
        **{k: conv(v) for k, v in kwargs.items()},
    )


# --- values against PyTorch ---------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("out_features", [(), (2, 3)], ids=["2d", "kdim"])
@pytest.mark.parametrize("rich", [False, True], ids=["plain", "bias-weight-ignore-smoothing"])
def test_index_targets_match_torch(
    backend: Backend,
    rng: np.random.Generator,
    reduction: str,
    out_features: tuple[int, ...],
    rich: bool,
) -> None:
    x = rng.normal(size=(N, D))
    w = rng.normal(size=(C, *out_features, D))
    t = index_target(rng, (N, *out_features), ignore=rich)
    kwargs: dict[str, Any] = {"reduction": reduction}
    if rich:
        kwargs["linear_bias"] = rng.normal(size=(C, *out_features))
        kwargs["weight"] = rng.uniform(0.5, 2.0, size=C)
        kwargs["label_smoothing"] = 0.3
    # PyTorch's reference path on the same data.
    expected = torch_loss("linear_cross_entropy", x, w, t, **kwargs)
    result = call(backend, x, w, t, options=CHUNKS, **kwargs)
    assert_matches(backend, result, expected, "float64")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("rich", [False, True], ids=["plain", "bias-weight-smoothing"])
def test_probability_targets_match_torch(
    backend: Backend, rng: np.random.Generator, reduction: str, rich: bool
) -> None:
    x, w = rng.normal(size=(N, D)), rng.normal(size=(C, D))
    p = rng.uniform(size=(N, C))
    p /= p.sum(axis=1, keepdims=True)
    kwargs: dict[str, Any] = {"reduction": reduction}
    if rich:
        kwargs.update(
            linear_bias=rng.normal(size=C),
            weight=rng.uniform(0.5, 2.0, size=C),
            label_smoothing=0.2,
        )
    expected = torch_loss("linear_cross_entropy", x, w, p, **kwargs)  # PyTorch, same data
    result = call(backend, x, w, p, options=CHUNKS, **kwargs)
    assert_matches(backend, result, expected, "float64")


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_float32_matches_torch(backend: Backend, rng: np.random.Generator, reduction: str) -> None:
    # float32 data, the reference computed by PyTorch in float64 on the same values.
    x = rng.normal(size=(N, D)).astype(np.float32).astype(np.float64)
    w = rng.normal(size=(C, D)).astype(np.float32).astype(np.float64)
    t = index_target(rng, (N,), ignore=True)
    expected = torch_loss("linear_cross_entropy", x, w, t, reduction=reduction, label_smoothing=0.1)
    result = call(
        backend, x, w, t, dtype="float32", reduction=reduction, label_smoothing=0.1, options=CHUNKS
    )
    assert_matches(backend, result, expected, "float32")


@pytest.mark.parametrize("chunks", [(1, 1), (2, 3), (7, 11), (100, 100), (None, 5)])
def test_every_block_size_gives_torchs_value(
    backend: Backend, rng: np.random.Generator, chunks: tuple[int | None, int]
) -> None:
    x, w, b = rng.normal(size=(N, D)), rng.normal(size=(C, D)), rng.normal(size=C)
    t = index_target(rng, (N,), ignore=True)
    expected = torch_loss("linear_cross_entropy", x, w, t, linear_bias=b, reduction="none")
    options = {"batch_chunk_size": chunks[0], "vocab_chunk_size": chunks[1]}
    result = call(backend, x, w, t, linear_bias=b, reduction="none", options=options)
    assert_matches(backend, result, expected, "float64")


def test_default_options_and_ignore_index(backend: Backend, rng: np.random.Generator) -> None:
    x, w = rng.normal(size=(N, D)), rng.normal(size=(C, D))
    t = index_target(rng, (N,), ignore=False)
    t[1] = 4
    for kwargs in ({}, {"ignore_index": 4}, {"ignore_index": 4, "label_smoothing": 0.5}):
        expected = torch_loss("linear_cross_entropy", x, w, t, **kwargs)  # PyTorch, same data
        assert_matches(backend, call(backend, x, w, t, **kwargs), expected, "float64")


def test_unbatched_input(backend: Backend, rng: np.random.Generator) -> None:
    x, w = rng.normal(size=(D,)), rng.normal(size=(C, D))
    t = np.asarray(3, dtype=np.int64)
    p = rng.uniform(size=(C,))
    for target in (t, p):
        expected = torch_loss("linear_cross_entropy", x, w, target, reduction="none")  # PyTorch
        result = call(backend, x, w, target, reduction="none", options=CHUNKS)
        assert_matches(backend, result, expected, "float64")


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_empty_batch_as_torch(backend: Backend, reduction: str) -> None:
    x, w = np.zeros((0, D)), np.ones((C, D))
    t = np.zeros((0,), dtype=np.int64)
    expected = torch_loss("linear_cross_entropy", x, w, t, reduction=reduction)  # NaN mean
    assert_matches(backend, call(backend, x, w, t, reduction=reduction), expected, "float64")


# --- gradients ----------------------------------------------------------------------------


def _torch_grads(x: np.ndarray, w: np.ndarray, t: np.ndarray, **kwargs: Any) -> list[np.ndarray]:
    import torch
    import torch.nn.functional as F

    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    kw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    F.linear_cross_entropy(xt, wt, torch.tensor(t), **kw).sum().backward()
    assert xt.grad is not None
    assert wt.grad is not None
    return [xt.grad.numpy(), wt.grad.numpy()]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("target_kind", ["index", "probabilities"])
def test_gradients_equal_torch(
    backend: Backend, rng: np.random.Generator, reduction: str, target_kind: str
) -> None:
    if not backend.autodiff:
        pytest.skip(f"{backend.name} records no gradients")
    x, w = rng.normal(size=(N, D)), rng.normal(size=(C, D))
    index = target_kind == "index"
    t = index_target(rng, (N,), ignore=True) if index else rng.uniform(size=(N, C))
    kwargs: dict[str, Any] = {
        "reduction": reduction,
        "weight": rng.uniform(0.5, 2.0, size=C),
        "linear_bias": rng.normal(size=C),
        "label_smoothing": 0.2,
    }
    expected = _torch_grads(x, w, t, **kwargs)  # PyTorch autograd on the same data
    tb = backend.asarray(t)
    kw = {k: backend.asarray(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    if backend.module == "torch":
        xb = backend.asarray(x).requires_grad_(True)
        wb = backend.asarray(w).requires_grad_(True)
        arrayloss.linear_cross_entropy(xb, wb, tb, options=CHUNKS, **kw).sum().backward()
        actual = [backend.to_numpy(xb.grad), backend.to_numpy(wb.grad)]
    else:
        import jax
        import jax.numpy as jnp

        def total(xx: Any, ww: Any) -> Any:
            return jnp.sum(arrayloss.linear_cross_entropy(xx, ww, tb, options=CHUNKS, **kw))

        grad = jax.grad(total, argnums=(0, 1))
        if backend.jit:
            grad = jax.jit(grad)
        actual = [backend.to_numpy(g) for g in grad(backend.asarray(x), backend.asarray(w))]
    for a, e in zip(actual, expected, strict=True):
        np.testing.assert_allclose(a, e, rtol=1e-10, atol=1e-12)


# --- options, memory and the class --------------------------------------------------------


def test_torch_options_object_gives_its_batch_chunk_size(rng: np.random.Generator) -> None:
    torch = pytest.importorskip("torch")
    x, w = rng.normal(size=(N, D)), rng.normal(size=(C, D))
    t = index_target(rng, (N,), ignore=True)
    expected = torch_loss("linear_cross_entropy", x, w, t)  # PyTorch's reference path
    options = torch.nn.LinearCrossEntropyOptions(batch_chunk_size=2)
    for xp_x, xp_w, xp_t in ((x, w, t), tuple(torch.tensor(a) for a in (x, w, t))):
        result = arrayloss.linear_cross_entropy(xp_x, xp_w, xp_t, options=options)
        np.testing.assert_allclose(np.asarray(result), expected, rtol=1e-13)


def test_forward_never_holds_the_logits(rng: np.random.Generator) -> None:
    # The (N, C) float64 logits are 64 MiB; blocks of 128 x 1024 are 1 MiB each. NumPy
    # reports its buffers to tracemalloc.
    n, c, d = 512, 16384, 8
    x, w = rng.normal(size=(n, d)), rng.normal(size=(c, d)) * 0.1
    t = rng.integers(0, c, size=n)
    logits_bytes = n * c * 8
    tracemalloc.start()
    try:
        arrayloss.linear_cross_entropy(
            x, w, t, options={"batch_chunk_size": 128, "vocab_chunk_size": 1024}
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < logits_bytes / 8, f"peak {peak / 2**20:.1f} MiB"


def test_class_equals_function(backend: Backend, rng: np.random.Generator) -> None:
    x, w, b = rng.normal(size=(N, D)), rng.normal(size=(C, D)), rng.normal(size=C)
    cw = rng.uniform(0.5, 2.0, size=C)
    t = index_target(rng, (N,), ignore=True)
    loss_fn = arrayloss.LinearCrossEntropyLoss(
        weight=backend.asarray(cw), label_smoothing=0.1, options=CHUNKS
    )
    # PyTorch's class owns the layer; give it ours, then compare values.
    expected = torch_loss(
        "linear_cross_entropy", x, w, t, linear_bias=b, weight=cw, label_smoothing=0.1
    )
    xb, wb, tb, bb = (backend.asarray(a) for a in (x, w, t, b))
    assert_matches(backend, backend.call(loss_fn, xb, wb, tb, bb), expected, "float64")


def test_class_repr_and_signature() -> None:
    loss_fn = arrayloss.LinearCrossEntropyLoss(ignore_index=3, options={"vocab_chunk_size": 2})
    assert repr(loss_fn) == (
        "LinearCrossEntropyLoss(reduction='mean', ignore_index=3, options={'vocab_chunk_size': 2})"
    )
    with pytest.raises(ValueError, match="`options` batch_chunk_size must be a positive int"):
        arrayloss.LinearCrossEntropyLoss(options={"batch_chunk_size": 0})


# --- errors -------------------------------------------------------------------------------


def _error_cases() -> list[Any]:
    x, w = np.ones((N, D)), np.ones((C, D))
    t = np.zeros(N, dtype=np.int64)
    f = arrayloss.linear_cross_entropy
    return [
        pytest.param(lambda: f(x, np.ones((C, 3)), t), ValueError, "`linear_weight` must have shape", id="features"),
        pytest.param(lambda: f(x, np.ones(D), t), ValueError, "`linear_weight` must have shape", id="weight_1d"),
        pytest.param(lambda: f(np.ones((2, N, D)), w, t), ValueError, "`input` must have shape", id="input_3d"),
        pytest.param(lambda: f(np.ones(D), np.ones((C, 2, D)), t[:2]), ValueError, "needs a batched `input`", id="kdim_unbatched"),
        pytest.param(lambda: f(x, w, t[:3]), ValueError, r"`target` must have shape \(7,\)", id="target_shape"),
        pytest.param(lambda: f(x, w, np.zeros(N)), TypeError, "`target` of class indices", id="target_float"),
        pytest.param(lambda: f(x, w, np.ones((N, C), dtype=np.int64)), TypeError, "`target` of class probabilities", id="prob_int"),
        pytest.param(lambda: f(x, w, np.full((N, C), 0.1), ignore_index=0), ValueError, "`ignore_index` is not supported", id="prob_ignore"),
        pytest.param(lambda: f(x, w, t, linear_bias=np.ones(3)), ValueError, "`linear_bias` must have shape", id="bias_shape"),
        pytest.param(lambda: f(x, w, t, weight=np.ones(3)), ValueError, "`weight` must have shape", id="weight_shape"),
        pytest.param(lambda: f(x, w, t, label_smoothing=1.5), ValueError, "`label_smoothing` must lie", id="smoothing"),
        pytest.param(lambda: f(x, w, t, reduction="avg"), ValueError, "`reduction` must be one of", id="reduction"),
        pytest.param(lambda: f(x, w, t, ignore_index=1.5), TypeError, "`ignore_index` must be an int", id="ignore_float"),
        pytest.param(lambda: f(x, w, np.full(N, C)), IndexError, "class index 11, outside", id="out_of_range"),
        pytest.param(lambda: f(x, w.astype(np.float32), t), TypeError, "`input` and `linear_weight` must have one dtype", id="dtypes"),
        pytest.param(lambda: f(x, w, t, options=3), TypeError, "`options` must be None", id="options_type"),
        pytest.param(lambda: f(x, w, t, options={"chunk": 3}), ValueError, "`options` takes the keys", id="options_key"),
        pytest.param(lambda: f(x, w, t, options={"vocab_chunk_size": 2.0}), TypeError, "vocab_chunk_size must be a positive int", id="options_float"),
    ]  # fmt: skip


@pytest.mark.parametrize(("thunk", "error", "match"), _error_cases())
def test_errors_name_the_argument(thunk: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        thunk()
