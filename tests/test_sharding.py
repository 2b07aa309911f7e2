"""Every loss on JAX arrays sharded across devices (issue 9).

One subprocess (tests/sharding_check.py) simulates 8 CPU devices
(``XLA_FLAGS=--xla_force_host_platform_device_count=8`` must be set before JAX is
imported, hence the subprocess), shards each loss's batched arrays along the batch axis
with ``NamedSharding(Mesh(devices, ("batch",)), P("batch", ...))`` and reports, as JSON,
what the checks below compare: under ``jax.jit`` the sharded value against the unsharded
one and PyTorch's, the sharding of the per-sample ('none') output, the collectives XLA
put in the compiled 'mean', the gradient, and the un-jitted call on sharded arrays.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import arrayloss
from conformance.cases import LOSSES
from tests.helpers import loss_functions
from tests.sharding_check import N_DEVICES, SPECS, N

pytest.importorskip("jax")
pytest.importorskip("torch")

NAMES = sorted(SPECS)


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    """The JSON the subprocess prints (about 20 s on a 2-core machine)."""
    script = Path(__file__).with_name("sharding_check.py")
    env = dict(os.environ)
    # The subprocess imports the arrayloss this process imported (a worktree's src/).
    source = str(Path(arrayloss.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH")]))
    env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={N_DEVICES}"
    env["JAX_PLATFORMS"] = "cpu"
    env["JAX_ENABLE_X64"] = "1"
    done = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-4000:]
    result: dict[str, Any] = json.loads(done.stdout)
    assert result["n_devices"] == N_DEVICES, result["n_devices"]
    return result


def _loss(report: dict[str, Any], name: str) -> dict[str, Any]:
    record: dict[str, Any] = report["losses"][name]
    assert "error" not in record, record["error"]
    return record


def _trimmed(spec: list[str | None]) -> list[str | None]:
    while spec and spec[-1] is None:
        spec = spec[:-1]
    return spec


def test_every_loss_has_a_case() -> None:
    # The losses PyTorch lacks (conformance/beyond.py) are left out: the sharded check
    # compares with torch.nn.functional, which has none of them. They are elementwise or
    # per-sample losses built from the same operations as binary_cross_entropy_with_logits
    # and cross_entropy, which are checked here.
    from conformance.beyond import BEYOND

    functions = loss_functions() - set(BEYOND)
    assert set(SPECS) == functions == set(LOSSES)
    assert len(SPECS) == 22


@pytest.mark.parametrize("name", NAMES)
def test_sharded_value_equals_unsharded_and_torch(report: dict[str, Any], name: str) -> None:
    for reduction, rec in _loss(report, name)["reductions"].items():
        sharded = np.asarray(rec["sharded"])
        # The same jitted function on unsharded arrays: only the summation order of
        # the reduction may differ (partial sums per device, then an all-reduce).
        np.testing.assert_allclose(
            sharded, rec["unsharded"], rtol=1e-12, atol=1e-14, err_msg=reduction
        )
        # torch.nn.functional on the same float64 data.
        np.testing.assert_allclose(sharded, rec["torch"], rtol=1e-10, atol=1e-12, err_msg=reduction)


@pytest.mark.parametrize("name", NAMES)
def test_per_sample_output_keeps_the_batch_sharding(report: dict[str, Any], name: str) -> None:
    rec = _loss(report, name)["reductions"]["none"]
    # The per-sample loss has the batch first, whether or not a class or feature axis
    # was reduced away (cross_entropy: (N, C) -> (N,); ctc_loss: (T, N, C) -> (N,)).
    assert rec["shape"][0] == N
    assert rec["spec"][:1] == ["batch"], rec["sharding"]
    assert all(s is None for s in rec["spec"][1:]), rec["sharding"]
    # Each device holds its N / 8 samples, nothing more.
    assert rec["shard_shapes"] == [[N // N_DEVICES, *rec["shape"][1:]]]


@pytest.mark.parametrize("name", NAMES)
def test_mean_is_partial_sums_and_an_all_reduce(report: dict[str, Any], name: str) -> None:
    reduced = [r for r in _loss(report, name)["reductions"].values() if r["shape"] == []]
    assert reduced
    for rec in reduced:
        assert rec["spec"] == []
        assert rec["shard_shapes"] == [[]]
        # XLA reduces each device's shard, then combines the partial sums (and, for
        # the weighted means, the weight totals) with all-reduce; no input is ever
        # gathered onto one device.
        assert rec["collectives"]["all-reduce"] >= 1, rec["collectives"]
        assert rec["collectives"]["all-gather"] == 0, rec["collectives"]
        assert rec["collectives"]["all-to-all"] == 0, rec["collectives"]


@pytest.mark.parametrize("name", NAMES)
def test_gradient_sharded_equals_unsharded(report: dict[str, Any], name: str) -> None:
    grad = _loss(report, name)["grad"]
    np.testing.assert_allclose(grad["sharded"], grad["unsharded"], rtol=1e-12, atol=1e-15)
    # d(loss)/d(input) is sharded like the input (trailing Nones aside: P('batch') is
    # P('batch', None)).
    assert _trimmed(grad["spec"]) == _trimmed(grad["input_spec"])


@pytest.mark.parametrize("name", NAMES)
def test_eager_call_on_sharded_arrays(report: dict[str, Any], name: str) -> None:
    # Without jax.jit each operation runs on the sharded arrays; arguments of different
    # ranks (input (N, C), target (N,)) have different shardings but one device set.
    record = _loss(report, name)
    assert record["eager"]["error"] is None, record["eager"]["error"]
    first = next(iter(record["reductions"].values()))
    np.testing.assert_allclose(record["eager"]["value"], first["unsharded"], rtol=1e-12)


def test_cross_entropy_on_a_2d_mesh(report: dict[str, Any]) -> None:
    # Mesh (4, 2) ('batch', 'model'): the batch over 'batch', the 6 classes over
    # 'model'. log-sum-exp and the target's logit need the whole class axis: XLA
    # combines them with all-reduces over 'model' (the max, the sum of exponentials,
    # the picked logit), and the batch stays sharded.
    result = report["cross_entropy_2d"]
    assert "error" not in result, result["error"]
    for reduction in ("mean", "none"):
        rec = result[reduction]
        np.testing.assert_allclose(rec["sharded"], rec["unsharded"], rtol=1e-12)
        assert rec["collectives"]["all-gather"] == 0, rec["collectives"]
        assert rec["collectives"]["all-reduce"] >= 2, rec["collectives"]
    assert result["none"]["spec"] == ["batch"]
    grad = result["grad"]
    np.testing.assert_allclose(grad["sharded"], grad["unsharded"], rtol=1e-12, atol=1e-15)
    assert grad["spec"] == ["batch", "model"]
