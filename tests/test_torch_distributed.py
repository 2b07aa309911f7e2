"""arrayloss inside torch.distributed training: DDP and FSDP2 over two CPU processes.

Two subprocesses (tests/distributed_check.py) join a gloo process group through a file
(no network port), each takes half of the batch, wraps a Linear model in
DistributedDataParallel (then FSDP2's ``fully_shard``), and backpropagates an arrayloss
loss; the gradients they end with must equal the single-process gradient of PyTorch's
own loss on the full batch. arrayloss is only tensor operations, so autograd and the
gradient averaging of DDP/FSDP need nothing from it; what these tests pin down is the
reduction across ranks (see docs/scaling-out.md).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import arrayloss

torch = pytest.importorskip("torch")
dist = pytest.importorskip("torch.distributed")

from tests.distributed_check import CASES  # noqa: E402  (after the skips)

if not dist.is_available():
    pytest.skip("torch.distributed is not available in this PyTorch build", allow_module_level=True)
if not dist.is_gloo_available():
    pytest.skip("torch.distributed has no gloo backend in this build", allow_module_level=True)

WORLD_SIZE = 2
N, FEATURES, C = 8, 6, 4  # batch, features, classes (N: a multiple of WORLD_SIZE)
EQUAL = [c for c in CASES if c != "cross_entropy_weighted_local_mean"]


def _data() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(2026)
    classes = rng.integers(0, C, size=N)
    return {
        "w": rng.normal(size=(C, FEATURES)),
        "b": rng.normal(size=C),
        "x": rng.normal(size=(N, FEATURES)),
        "classes": classes,
        # ignore_index (-100) on row 1 (rank 0) and rows 4 and 7 (rank 1): unequal shares.
        "ignored": np.where(np.arange(N) % 3 == 1, -100, classes),
        "weight": rng.uniform(0.5, 2.0, size=C),
        "soft": rng.uniform(size=(N, C)),
        "pos_weight": rng.uniform(0.5, 3.0, size=C),
    }


@pytest.fixture(scope="module")
def ranks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The gradients each rank saved ("grads", one dict per rank), and FSDP2's error on
    rank 0 if it failed ("fsdp_error"; about 10 s: two processes importing torch)."""
    workdir = tmp_path_factory.mktemp("distributed")
    np.savez(workdir / "data.npz", **_data())
    script = Path(__file__).with_name("distributed_check.py")
    env = dict(os.environ)
    source = str(Path(arrayloss.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH")]))
    env["OMP_NUM_THREADS"] = "1"
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(rank), str(WORLD_SIZE), str(workdir)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for rank in range(WORLD_SIZE)
    ]
    outputs = []
    try:
        for proc in procs:
            outputs.append(proc.communicate(timeout=120)[0])
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    for rank, (proc, output) in enumerate(zip(procs, outputs, strict=True)):
        assert proc.returncode == 0, f"rank {rank}:\n{output[-4000:]}"
    fsdp_error = workdir / "fsdp-error-0.txt"
    return {
        "grads": [dict(np.load(workdir / f"grads-{rank}.npz")) for rank in range(WORLD_SIZE)],
        "fsdp_error": fsdp_error.read_text() if fsdp_error.exists() else None,
    }


def _expected(case: str) -> dict[str, np.ndarray]:
    """PyTorch's gradient of its own loss on the full batch, in one process."""
    import torch.nn.functional as F

    d = _data()
    model = torch.nn.Linear(FEATURES, C, dtype=torch.float64)
    with torch.no_grad():
        model.weight.copy_(torch.from_numpy(d["w"]))
        model.bias.copy_(torch.from_numpy(d["b"]))
    out = model(torch.from_numpy(d["x"]))
    t = torch.from_numpy
    if case == "cross_entropy":
        loss = F.cross_entropy(out, t(d["classes"]))
    elif case == "bce_with_logits_pos_weight":
        loss = F.binary_cross_entropy_with_logits(out, t(d["soft"]), pos_weight=t(d["pos_weight"]))
    else:  # the weighted mean over the whole batch
        loss = F.cross_entropy(out, t(d["ignored"]), weight=t(d["weight"]))
    loss.backward()
    return {"weight": model.weight.grad.numpy(), "bias": model.bias.grad.numpy()}


def _check(ranks: dict[str, Any], mode: str, case: str) -> None:
    expected = _expected(case)
    for rank, grads in enumerate(ranks["grads"]):
        for name, value in expected.items():
            got = grads[f"{mode}/{case}/{name}"]
            np.testing.assert_allclose(got, value, rtol=1e-12, atol=1e-15, err_msg=f"rank {rank}")


@pytest.mark.parametrize("case", EQUAL)
def test_ddp_gradients_equal_single_process(ranks: dict[str, Any], case: str) -> None:
    _check(ranks, "ddp", case)


@pytest.mark.parametrize("case", EQUAL)
def test_fsdp_gradients_equal_single_process(ranks: dict[str, Any], case: str) -> None:
    if ranks["fsdp_error"] is not None:
        pytest.skip(f"FSDP2 (fully_shard) on CPU with gloo failed: {ranks['fsdp_error'][-300:]}")
    _check(ranks, "fsdp", case)


def test_a_weighted_mean_per_rank_is_not_the_global_weighted_mean(
    ranks: dict[str, Any],
) -> None:
    # The pitfall the docs warn of: with class weights (or ignore_index), 'mean' divides
    # each rank's sum by that rank's total weight, and DDP then averages the ranks
    # equally. The shares' totals differ here, so the gradient is off.
    expected = _expected("cross_entropy_weighted_global")["weight"]
    got = ranks["grads"][0]["ddp/cross_entropy_weighted_local_mean/weight"]
    assert not np.allclose(got, expected, rtol=1e-3)
