"""Losses on a ``dask.distributed`` cluster of worker processes (issue 9).

One ``LocalCluster`` (2 worker processes, 1 thread each) for the module. Each loss gets
Dask arrays chunked along the batch axis and along the class (feature) axis, returns a
lazy result, and the cluster computes it: the tasks run in other processes, so the
graph (arrayloss's functions included) must pickle and its partial results travel
between workers. The values must equal NumPy's (and PyTorch's where cheap).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import arrayloss as al

from .helpers import torch_loss

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip(
    "distributed", reason="dask.distributed is not installed (pip install distributed)"
)

RTOL = 1e-12


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with warnings.catch_warnings():
        # Starting and stopping a cluster may warn about ports and slow shutdowns;
        # that is the cluster's business, not the losses'.
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        client = distributed.Client(cluster)
    try:
        yield client
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            client.close()
            cluster.close()


def _chunked(a: np.ndarray, *chunks: int) -> Any:
    return da.from_array(a, chunks=chunks)


def _compute(client: Any, lazy: Any) -> np.ndarray:
    assert isinstance(lazy, da.Array)
    return np.asarray(client.compute(lazy).result())


def _close(got: np.ndarray, *expected: Any) -> None:
    for e in expected:
        np.testing.assert_allclose(got, np.asarray(e, dtype=np.float64), rtol=RTOL, atol=RTOL)


rng = np.random.default_rng(9)
N, C = 60, 10
LOGITS = rng.normal(size=(N, C)) * 3
TARGET01 = rng.integers(0, 2, size=(N, C)).astype(np.float64)
CLASSES = np.where(rng.uniform(size=N) < 0.2, -100, rng.integers(0, C, size=N))
WEIGHT = rng.uniform(0.2, 2.0, size=C)
LOG_P = LOGITS - np.log(np.sum(np.exp(LOGITS), axis=1, keepdims=True))
PROBS = rng.dirichlet(np.ones(C), size=N)


def test_the_workers_are_processes(client: Any) -> None:
    # Not threads of this process: the graph crosses process boundaries.
    pids = client.run(lambda: __import__("os").getpid())
    assert len(pids) == 2
    assert __import__("os").getpid() not in pids.values()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits_pos_weight(client: Any, reduction: str) -> None:
    pos_weight = np.linspace(0.5, 3.0, C)
    lazy = al.binary_cross_entropy_with_logits(
        _chunked(LOGITS, 16, 4),
        _chunked(TARGET01, 16, 4),
        pos_weight=_chunked(pos_weight, 4),
        reduction=reduction,
    )
    _close(
        _compute(client, lazy),
        al.binary_cross_entropy_with_logits(
            LOGITS, TARGET01, pos_weight=pos_weight, reduction=reduction
        ),
        torch_loss(
            "binary_cross_entropy_with_logits",
            LOGITS,
            TARGET01,
            pos_weight=pos_weight,
            reduction=reduction,
        ),
    )


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_weight_ignore_smoothing_class_chunks(client: Any, reduction: str) -> None:
    # Three uneven chunks along the classes (4 + 4 + 2): the log-sum-exp, the gathered
    # log-probability and the weighted mean sum(w[t] l) / sum(w[t]) all cross chunks.
    kwargs = {"ignore_index": -100, "label_smoothing": 0.15, "reduction": reduction}
    lazy = al.cross_entropy(
        _chunked(LOGITS, 16, 4),
        _chunked(CLASSES, 16),
        weight=_chunked(WEIGHT, 4),
        **kwargs,
    )
    _close(
        _compute(client, lazy),
        al.cross_entropy(LOGITS, CLASSES, weight=WEIGHT, **kwargs),
        torch_loss("cross_entropy", LOGITS, CLASSES, weight=WEIGHT, **kwargs),
    )


def test_nll_loss_weight_ignore(client: Any) -> None:
    lazy = al.nll_loss(
        _chunked(LOG_P, 7, 3), _chunked(CLASSES, 7), weight=_chunked(WEIGHT, 5), ignore_index=-100
    )
    _close(
        _compute(client, lazy),
        al.nll_loss(LOG_P, CLASSES, weight=WEIGHT),
        torch_loss("nll_loss", LOG_P, CLASSES, weight=WEIGHT),
    )


def test_mse_loss(client: Any) -> None:
    target = rng.normal(size=(N, C))
    lazy = al.mse_loss(_chunked(LOGITS, 16, 4), _chunked(target, 16, 4))
    _close(
        _compute(client, lazy), al.mse_loss(LOGITS, target), torch_loss("mse_loss", LOGITS, target)
    )


def test_kl_div_batchmean(client: Any) -> None:
    lazy = al.kl_div(_chunked(LOG_P, 16, 4), _chunked(PROBS, 16, 4), reduction="batchmean")
    _close(
        _compute(client, lazy),
        al.kl_div(LOG_P, PROBS, reduction="batchmean"),
        torch_loss("kl_div", LOG_P, PROBS, reduction="batchmean"),
    )


def test_ctc_loss(client: Any) -> None:
    t, n, c, s = 12, 8, 6, 4
    z = rng.normal(size=(t, n, c))
    log_probs = z - np.log(np.sum(np.exp(z), axis=2, keepdims=True))
    targets = rng.integers(1, c, size=(n, s))
    input_lengths = np.full(n, t)
    target_lengths = rng.integers(1, s + 1, size=n)
    lazy = al.ctc_loss(
        _chunked(log_probs, 6, 4, 3),
        _chunked(targets, 4, s),
        _chunked(input_lengths, 4),
        _chunked(target_lengths, 4),
    )
    _close(
        _compute(client, lazy),
        al.ctc_loss(log_probs, targets, input_lengths, target_lengths),
        torch_loss("ctc_loss", log_probs, targets, input_lengths, target_lengths),
    )
