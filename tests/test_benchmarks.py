"""The benchmark suite's machinery on tiny inputs: workloads, outputs, report.

No timing value is ever asserted (they depend on the machine and its load); these tests
check that the workloads compute the losses they claim to, and that a run writes
well-formed JSON, Markdown and terminal output.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

import arrayloss  # noqa: E402
from benchmarks import harness, memory, report, suite  # noqa: E402
from benchmarks.workloads import WORKLOADS, default_sizes, shape_for  # noqa: E402
from tests.helpers import loss_functions  # noqa: E402

LOSS = "binary_cross_entropy_with_logits"


def _torch_value(name, case):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(getattr(F, name)(*map(torch.from_numpy, case.args), **case.kwargs))


@pytest.mark.parametrize("name", sorted(WORKLOADS))
def test_workload_arguments_fit_torch(name):
    # Every workload, also of losses arrayloss does not export yet: torch accepts its
    # arguments, the first has the shape of its kind, and the NumPy-by-hand version
    # computes torch's value (float32 data: rtol 1e-4).
    workload = WORKLOADS[name]
    n = 2000
    shape = shape_for(workload.kind, n)
    case = workload.make(np.random.default_rng(1), shape)
    assert case.shape == shape
    assert case.args[0].dtype == np.float32
    expected = _torch_value(name, case)
    assert math.isfinite(expected)
    if workload.numpy is not None:
        np.testing.assert_allclose(workload.numpy(*case.args), expected, rtol=1e-4, atol=1e-6)
    assert default_sizes(workload)[-1] <= workload.max_size


@pytest.mark.parametrize("name", sorted(n for n, w in WORKLOADS.items() if w.optax is not None))
def test_optax_equivalents(name):
    # The optax contender computes the same loss as torch.
    pytest.importorskip("optax")
    workload = WORKLOADS[name]
    case = workload.make(np.random.default_rng(2), shape_for(workload.kind, 2000))
    run = harness.build_runner("optax-jit", workload, case, "forward")
    np.testing.assert_allclose(float(run()), _torch_value(name, case), rtol=1e-4, atol=1e-6)


def test_exported_losses_have_workloads():
    # A loss added to arrayloss without a workload would be silently left out. The
    # losses PyTorch lacks (conformance/beyond.py) are not: the suite's goals are ratios
    # to torch.nn.functional, which has no baseline for them (issue 10's follow-up).
    from conformance.beyond import BEYOND

    public = loss_functions() - set(BEYOND)
    assert public <= set(WORKLOADS), public - set(WORKLOADS)


def test_quick_run_writes_well_formed_outputs(tmp_path, capsys):
    out = tmp_path / "results"
    results = suite.run(
        ["--quick", "--loss", LOSS, "--sizes", "10", "--rounds", "2", "--out", str(out)]
    )
    data = json.loads((out / "results.json").read_text())
    assert data["meta"]["cpu"]
    assert data["meta"]["argv"][0] == "--quick"
    assert [c["loss"] for c in data["cells"]] == [LOSS, LOSS]
    assert [c["mode"] for c in data["cells"]] == ["forward", "backward"]
    names = {c["name"] for c in data["contenders"]} | set(data["skipped"]["contenders"])
    assert names == set(harness.CONTENDER_NAMES)
    for cell in data["cells"]:
        assert cell["shape"] == [10]
        assert cell["errors"] == {}
        res = cell["results"]
        assert {"torch", "torch-1t", "arrayloss-torch"} <= set(res)
        assert res["torch"]["ratio"] == 1.0  # the baseline against itself
        for r in res.values():
            assert r["rounds"] == 2
            assert math.isfinite(r["median_s"])
            assert math.isfinite(r["noise"])
    forward, backward = data["cells"]
    assert "arrayloss-numpy" in forward["results"]
    assert "arrayloss-numpy" not in backward["results"]  # NumPy has no autodiff
    assert data["memory"] == {}  # --quick skips the memory subprocess
    md = (out / "results.md").read_text()
    assert md.startswith("# arrayloss benchmark results")
    assert "| goal | target | measured | status |" in md
    assert f"| {LOSS} | 10 | 10 | fwd+bwd |" in md
    if data.get("plots"):
        assert (out / "plots" / f"{LOSS}.png").stat().st_size > 0
    else:
        assert "matplotlib" in data["plots_note"]
    printed = capsys.readouterr().out
    assert LOSS in printed
    assert "arrayloss-torch" in printed
    assert results["cells"] == data["cells"]


def test_losses_missing_from_arrayloss_are_skipped(tmp_path):
    missing = [n for n in WORKLOADS if not hasattr(arrayloss, n)]
    if not missing:
        pytest.skip("arrayloss exports every benchmarked loss")
    data = suite.run(["--quick", "--loss", missing[0], "--out", str(tmp_path), "--no-plots"])
    assert data["cells"] == []
    assert missing[0] in data["skipped"]["losses"]


def test_memory_measurement_is_well_formed():
    # The suite runs this in a subprocess; here in-process, without the JAX contender.
    result = memory.measure([LOSS], 1000, ("torch", "arrayloss-torch", "arrayloss-numpy"))
    rows = result[LOSS]
    assert rows["input_bytes"] == 4000
    assert "torch/forward" in rows
    assert "arrayloss-torch/backward" in rows
    for key, value in rows.items():
        if "/" in key:
            assert value["multiple"] >= 0
            assert value["extra_bytes"] % 1024 == 0


def test_goals_grade_against_the_issue_targets():
    # A synthetic run: one loss 1.1x torch at N=1e6, memory 1.5x (forward).
    cell = {
        "loss": LOSS,
        "elements": 1_000_000,
        "shape": [1_000_000],
        "mode": "forward",
        "results": {
            "torch": {"median_s": 1.0, "noise": 0.0, "ratio": 1.0},
            "arrayloss-torch": {"median_s": 1.1, "noise": 0.0, "ratio": 1.1},
            "arrayloss-numpy": {"median_s": 2.0, "noise": 0.0, "ratio": 2.0},
            "torch-1t": {"median_s": 1.5, "noise": 0.0, "ratio": 1.5},
        },
    }
    results = {
        "cells": [cell],
        "memory": {LOSS: {"arrayloss-torch/forward": {"multiple": 1.5}}, "size": 10**7},
    }
    rows = {g["goal"]: g for g in report.goals(results)}
    elementwise = next(g for k, g in rows.items() if k.startswith("elementwise"))
    assert elementwise["status"] == "met"
    assert "1.10x" in elementwise["measured"]
    numpy_goal = rows["any loss, NumPy vs torch on one thread"]
    assert numpy_goal["status"] == "not met"  # 2.0 / 1.5 = 1.33x > 1.1x
    assert rows["mse, l1, torch eager"]["status"] == "not measured"
    mem = rows["peak extra memory at N=1e+07, forward, arrayloss-torch"]
    assert mem["status"] == "met"
