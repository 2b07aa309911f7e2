"""Dask at scale (issue 9): every loss on arrays split into many chunks, along the batch
axis and along the class / feature axes, stays chunk-local.

Each loss's lazy result is computed, without graph optimization (so that every
operation is a task of its own: fused tasks would hide their intermediates), under a
Dask callback that records the memory every task's result spans. No intermediate may be larger than a
small multiple of one input chunk: a loss that put a chunked axis into one chunk (a
gather, a ``reshape`` or a sort along it) would hold a block of whole rows, or the
whole array, and fail. The values are compared with NumPy's (float64) too.

The inputs are generated per chunk (``map_blocks`` of a generator seeded by the
block's position), so that no task of the graph holds a whole input either.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import arrayloss as al

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
from dask.callbacks import Callback  # noqa: E402

# The inputs: N rows in 8 chunks, C classes (features) in 4 chunks, T time steps in 2.
N, C, T = 256, 64, 12
ROWS, COLS = N // 8, C // 4
# The largest intermediate may be this many times the largest input chunk. Partial
# results are a chunk or smaller (elementwise terms, row sums, per-chunk partial sums);
# the headroom covers a few side by side (a concat of two chunks, a gathered value
# beside its mask). A block of whole rows of classes is 4 chunks; the whole array 32.
FACTOR = 2


class LargestResult(Callback):  # type: ignore[misc]
    """Records the largest ``nbytes`` of any task's result while a graph runs."""

    def __init__(self) -> None:
        super().__init__()
        self.largest = 0
        self.key: object = None

    def _posttask(self, key: object, result: Any, dsk: Any, state: Any, worker_id: Any) -> None:
        if str(key).startswith("finalize-"):
            return  # the result itself, handed to the caller ('none': the whole output)
        parts = result if isinstance(result, (tuple, list)) else (result,)
        size = sum(footprint(part) for part in parts)
        if size > self.largest:
            self.largest, self.key = size, key


def footprint(x: Any) -> int:
    """The bytes an array's elements span in memory: ``nbytes``, except for views with
    zero strides (``broadcast_to``), which hold one row however many they show."""
    if not isinstance(x, np.ndarray):
        return int(getattr(x, "nbytes", 0))
    if x.size == 0:
        return 0
    return x.itemsize + sum((n - 1) * abs(s) for n, s in zip(x.shape, x.strides, strict=True))


def _block(kind: str, block_info: dict[Any, Any] | None = None) -> np.ndarray:
    # One chunk, seeded by the block's position: the same values whatever the scheduler.
    info = block_info[None]
    shape = tuple(info["chunk-shape"])
    location = tuple(info["chunk-location"])
    rng = np.random.default_rng([zlib.crc32(kind.encode()), *location])
    if kind == "normal":
        return rng.normal(size=shape)
    if kind == "unit":
        return rng.uniform(0.02, 0.98, size=shape)
    if kind == "positive":
        return rng.uniform(0.5, 2.0, size=shape)
    if kind == "sign":
        return rng.choice([-1.0, 1.0], size=shape)
    if kind == "binary":
        return rng.integers(0, 2, size=shape).astype(np.float64)
    if kind == "log_prob":  # log of a distribution over the last axis (per chunk)
        z = rng.normal(size=shape)
        return z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True)) - math.log(C // shape[-1])
    if kind == "prob":  # a distribution over the last axis, up to the chunk count
        p = rng.uniform(0.1, 1.0, size=shape)
        return p / np.sum(p, axis=-1, keepdims=True) / (C // shape[-1])
    if kind == "class":
        return rng.integers(0, C, size=shape)
    if kind == "class_ignored":  # a quarter at ignore_index=-100
        t = rng.integers(0, C, size=shape)
        return np.where(rng.uniform(size=shape) < 0.25, -100, t)
    if kind == "labels":  # multilabel_margin_loss: a few classes, then -1
        t = rng.integers(0, C, size=shape)
        count = rng.integers(0, 5, size=(*shape[:-1], 1))
        return np.where(np.arange(shape[-1]) < count, t, -1)
    raise AssertionError(kind)


def lazy(kind: str, shape: tuple[int, ...], chunks: tuple[int, ...]) -> Any:
    integer = kind in ("class", "class_ignored", "labels")
    dtype = np.int64 if integer else np.float64
    blocks = tuple(
        tuple(min(c, n - i) for i in range(0, n, c)) for n, c in zip(shape, chunks, strict=True)
    )
    return da.map_blocks(
        _block, kind, chunks=blocks, dtype=dtype, meta=np.empty((0,) * len(shape), dtype)
    )


@dataclass(frozen=True)
class Scenario:
    name: str
    loss: Callable[..., Any]
    args: tuple[tuple[str, tuple[int, ...], tuple[int, ...]], ...]
    kwargs: dict[str, Any]
    # Keyword arrays (weight, pos_weight): small, one chunk (NumPy values).
    arrays: dict[str, np.ndarray]
    # Why this loss may hold more than FACTOR chunks (None: it may not).
    bound: str | None = None


M, MC = (N, C), (ROWS, COLS)
V, VC = (N,), (ROWS,)
WEIGHT = np.linspace(0.5, 2.0, C)

SCENARIOS = [
    Scenario("bce", al.binary_cross_entropy, (("unit", M, MC), ("binary", M, MC)), {}, {}),
    Scenario(
        "bce_logits_pos_weight",
        al.binary_cross_entropy_with_logits,
        (("normal", M, MC), ("binary", M, MC)),
        {},
        {"pos_weight": WEIGHT},
    ),
    Scenario(
        "cross_entropy_weight_ignore_smoothing",
        al.cross_entropy,
        (("normal", M, MC), ("class_ignored", V, VC)),
        {"label_smoothing": 0.1},
        {"weight": WEIGHT},
    ),
    Scenario(
        "cross_entropy_probabilities",
        al.cross_entropy,
        (("normal", M, MC), ("prob", M, MC)),
        {},
        {},
    ),
    Scenario(
        "cross_entropy_spatial",
        al.cross_entropy,
        (("normal", (N // 4, C, 8), (ROWS // 4, COLS, 4)), ("class", (N // 4, 8), (ROWS // 4, 4))),
        {},
        {},
    ),
    Scenario(
        "nll_weight_ignore",
        al.nll_loss,
        (("log_prob", M, MC), ("class_ignored", V, VC)),
        {},
        {"weight": WEIGHT},
    ),
    Scenario(
        "kl_div_batchmean",
        al.kl_div,
        (("log_prob", M, MC), ("prob", M, MC)),
        {"reduction": "batchmean"},
        {},
    ),
    Scenario("soft_margin", al.soft_margin_loss, (("normal", M, MC), ("sign", M, MC)), {}, {}),
    Scenario(
        "multilabel_soft_margin",
        al.multilabel_soft_margin_loss,
        (("normal", M, MC), ("binary", M, MC)),
        {},
        {"weight": WEIGHT},
    ),
    Scenario(
        "multi_margin",
        al.multi_margin_loss,
        (("normal", M, MC), ("class", V, VC)),
        {"p": 2},
        {"weight": WEIGHT},
    ),
    Scenario(
        "multilabel_margin",
        al.multilabel_margin_loss,
        (("normal", M, MC), ("labels", M, MC)),
        {},
        {},
        bound="sorts each sample's C scores (and its labels), so a block holds whole rows "
        "of classes: rows stay chunked, the bound is a row block",
    ),
    *(
        Scenario(f.__name__, f, (("normal", M, MC), ("normal", M, MC)), {}, {})
        for f in (al.l1_loss, al.mse_loss, al.huber_loss, al.smooth_l1_loss)
    ),
    Scenario("poisson_nll", al.poisson_nll_loss, (("normal", M, MC), ("positive", M, MC)), {}, {}),
    Scenario(
        "gaussian_nll",
        al.gaussian_nll_loss,
        (("normal", M, MC), ("normal", M, MC), ("positive", M, MC)),
        {"full": True},
        {},
    ),
    Scenario(
        "margin_ranking",
        al.margin_ranking_loss,
        (("normal", V, VC), ("normal", V, VC), ("sign", V, VC)),
        {"margin": 0.5},
        {},
    ),
    Scenario(
        "hinge_embedding", al.hinge_embedding_loss, (("positive", M, MC), ("sign", M, MC)), {}, {}
    ),
    Scenario(
        "cosine_embedding",
        al.cosine_embedding_loss,
        (("normal", M, MC), ("normal", M, MC), ("sign", V, VC)),
        {"margin": 0.1},
        {},
    ),
    Scenario(
        "triplet_margin",
        al.triplet_margin_loss,
        (("normal", M, MC), ("normal", M, MC), ("normal", M, MC)),
        {"swap": True},
        {},
    ),
    Scenario(
        "triplet_margin_with_distance",
        al.triplet_margin_with_distance_loss,
        (("normal", M, MC), ("normal", M, MC), ("normal", M, MC)),
        {},
        {},
    ),
]


def _numpy_value(scenario: Scenario, inputs: list[Any]) -> Any:
    arrays = [np.asarray(x) for x in inputs]
    return scenario.loss(*arrays, **scenario.kwargs, **scenario.arrays)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_no_task_holds_more_than_a_few_chunks(scenario: Scenario, reduction: str) -> None:
    inputs = [lazy(kind, shape, chunks) for kind, shape, chunks in scenario.args]
    kwargs = dict(scenario.kwargs)
    if reduction == "none" or "reduction" not in kwargs:
        kwargs["reduction"] = reduction
    arrays = {k: da.from_array(v, chunks=-1) for k, v in scenario.arrays.items()}
    with dask.config.set(scheduler="sync"):
        values = [np.asarray(x.compute()) for x in inputs]  # the reference's inputs
    result = scenario.loss(*inputs, **kwargs, **arrays)
    assert isinstance(result, da.Array)
    recorder = LargestResult()
    with recorder, dask.config.set(scheduler="sync"), np.errstate(all="ignore"):
        got = np.asarray(result.compute(optimize_graph=False))
    chunk = max(math.prod(chunks) * np.dtype(np.float64).itemsize for _, _, chunks in scenario.args)
    limit = FACTOR * chunk
    if scenario.bound is not None:
        rows = scenario.args[0][2][0]
        limit = FACTOR * 2 * rows * C * np.dtype(np.float64).itemsize
    whole = max(math.prod(shape) * 8 for _, shape, _ in scenario.args)
    assert limit <= whole / 2  # the bound can tell a chunk from the whole array
    assert recorder.largest <= limit, (
        f"a task of {scenario.name} produced {recorder.largest} bytes ({recorder.key}); "
        f"one input chunk is {chunk} bytes, the whole input {whole}"
    )
    expected = np.asarray(
        scenario.loss(*values, **kwargs, **scenario.arrays)  # NumPy, float64
    )
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_ctc_loss_keeps_batch_chunks() -> None:
    # The recurrence runs over time, one step after the other: each step holds the
    # (N, 2S + 1) forward variables in one chunk (see _dispatch.scan). The emissions
    # are gathered chunk by chunk along the class axis; no task holds all of log_probs.
    s = 6
    log_probs = lazy("log_prob", (T, N, C), (T // 2, ROWS, COLS))
    targets = lazy("class", (N, s), (ROWS, s)) % (C - 1) + 1
    input_lengths = np.full(N, T, dtype=np.int64)
    target_lengths = np.arange(N, dtype=np.int64) % (s + 1)
    with dask.config.set(scheduler="sync"):
        lp_values, target_values = dask.compute(log_probs, targets)
    result = al.ctc_loss(
        log_probs,
        targets,
        da.from_array(input_lengths, chunks=ROWS),
        da.from_array(target_lengths, chunks=ROWS),
        reduction="sum",
    )
    recorder = LargestResult()
    with recorder, dask.config.set(scheduler="sync"), np.errstate(all="ignore"):
        got = np.asarray(result.compute(optimize_graph=False))
    whole = T * N * C * 8
    assert recorder.largest < whole / 4, (recorder.largest, recorder.key)
    expected = al.ctc_loss(lp_values, target_values, input_lengths, target_lengths, reduction="sum")
    np.testing.assert_allclose(got, np.asarray(expected), rtol=1e-10)


def test_the_recorder_catches_a_rechunk() -> None:
    # The test can fail: a sum after putting the class axis in one chunk holds rows of
    # all classes, four chunks' worth, above the limit.
    x = lazy("normal", M, MC)
    recorder = LargestResult()
    with recorder, dask.config.set(scheduler="sync"):
        x.rechunk({1: -1}).sum().compute(optimize_graph=False)
    assert recorder.largest > FACTOR * ROWS * COLS * 8


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_log_sum_exp_across_class_chunks_is_exact(dtype: str) -> None:
    # Each row's largest logit lies in a different class chunk, far above the others
    # (exp would overflow without the shift by the maximum over all chunks), and a
    # whole chunk of rows is ignored (its partial sums are 0 in both the numerator and
    # the weight sum). Chunks: 3 rows, 2 classes; C = 5 (2 + 2 + 1).
    from .helpers import torch_loss

    logits = np.array(
        [
            [900.0, -3.0, 1.0, 2.0, 0.5],
            [0.0, 0.0, -900.0, 899.0, 1.0],
            [1.0, 2.0, 3.0, 4.0, 1000.0],
            [-1000.0, -1001.0, -999.5, -1000.0, -1002.0],
            [5.0, -5.0, 5.0, -5.0, 5.0],
            [0.1, 0.2, 0.3, 0.4, 0.5],
        ]
    )
    target = np.array([1, 3, 4, -100, -100, -100])
    weight = np.array([0.5, 1.0, 2.0, 3.0, 0.25])
    kwargs = {"weight": weight, "ignore_index": -100, "label_smoothing": 0.2}
    x = da.from_array(logits.astype(dtype), chunks=(3, 2))
    t = da.from_array(target, chunks=3)
    w = da.from_array(weight.astype(dtype), chunks=2)
    for reduction in ("none", "mean", "sum"):
        lazy = al.cross_entropy(
            x, t, weight=w, ignore_index=-100, label_smoothing=0.2, reduction=reduction
        )
        got = np.asarray(lazy.compute(scheduler="sync"), dtype=np.float64)
        reference = torch_loss(
            "cross_entropy", logits, target, dtype=dtype, reduction=reduction, **kwargs
        )
        rtol = 1e-13 if dtype == "float64" else 1e-6
        np.testing.assert_allclose(got, reference, rtol=rtol, atol=rtol)
        assert np.all(np.isfinite(got))


def test_the_dask_column_chunks_every_axis() -> None:
    # The conformance and unit-test column: two chunks along every axis of size >= 2.
    from conformance.backends import backend_by_name

    x = backend_by_name("dask").asarray(np.zeros((5, 3, 1, 2)), "float64")
    assert x.chunks == ((3, 2), (2, 1), (1,), (1, 1))
