"""The out-of-core benchmark (benchmarks/out_of_core.py) on a small run.

No timing or memory value is asserted beyond what holds on any machine: the run
writes well-formed JSON and Markdown, computes the losses' true values (the inputs are
generated per chunk, reproducibly, so NumPy can recompute them), and sizes its chunks
from the budget.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import arrayloss as al

pytest.importorskip("dask.array")

from benchmarks import out_of_core

ROOT = Path(__file__).resolve().parents[1]


def test_parse_bytes() -> None:
    assert out_of_core.parse_bytes("2GiB") == 2 * 2**30
    assert out_of_core.parse_bytes("500MB") == 500 * 10**6
    assert out_of_core.parse_bytes("1e9") == 10**9
    assert out_of_core.parse_bytes("64 kib") == 64 * 1024
    with pytest.raises(argparse.ArgumentTypeError, match="unknown unit"):
        out_of_core.parse_bytes("3 parsecs")
    with pytest.raises(argparse.ArgumentTypeError, match="not a size"):
        out_of_core.parse_bytes("2 GiB of RAM")


def test_chunks_come_from_the_budget() -> None:
    # 256 MiB over 2 workers of WORKING_SET buffers: 16 MiB chunks of float32 rows.
    per_chunk = 256 * 2**20 // (2 * out_of_core.WORKING_SET)
    rows = out_of_core.chunk_rows(256 * 2**20, 2, 1000)
    assert per_chunk - 4000 < rows * 1000 * 4 <= per_chunk
    assert out_of_core.chunk_rows(256 * 2**20, 4, 1000) < rows
    # A large budget: chunks of at most MAX_CHUNK.
    rows = out_of_core.chunk_rows(2 * 2**30, 2, 1000)
    assert out_of_core.MAX_CHUNK - 4000 < rows * 1000 * 4 <= out_of_core.MAX_CHUNK


@pytest.mark.parametrize("class_chunks", [1, 3])
def test_the_values_are_the_losses_of_the_generated_data(class_chunks: int) -> None:
    # Several chunks (60 rows x 50 classes; 16 rows and 50 or 17 classes per chunk):
    # the lazy result equals NumPy's loss of the same generated arrays (generated per
    # chunk, so the reference is drawn with the same chunks).
    rows, classes = 16, 50
    columns = -(-classes // class_chunks)
    for loss in out_of_core.LOSSES:
        _, nbytes = out_of_core._workload(loss, 60 * classes, classes, rows, 3, class_chunks)
        data = out_of_core.run(
            elements=60 * classes,
            budget=rows * columns * 4 * 2 * out_of_core.WORKING_SET,
            workers=2,
            classes=classes,
            losses=(loss,),
            seed=3,
            class_chunks=class_chunks,
        )
        assert data["chunk_rows"] == rows
        assert data["chunk_columns"] == columns
        result = data["results"][0]
        assert result["chunks"] == 4 * class_chunks  # rows: 16 + 16 + 16 + 12
        assert result["input_bytes"] == nbytes
        x = out_of_core._lazy("logits", (60, classes), rows, 3, classes, class_chunks)
        x = x.compute()
        if loss == "cross_entropy":
            t = out_of_core._lazy("classes", (60,), rows, 3, classes).compute()
            expected = al.cross_entropy(x, t)
        else:
            t = out_of_core._lazy("binary", (60, classes), rows, 3, classes, class_chunks)
            expected = al.binary_cross_entropy_with_logits(x, t.compute())
        np.testing.assert_allclose(result["value"], float(expected), rtol=1e-5)


def test_quick_profile_writes_json_and_markdown(tmp_path: Path) -> None:
    out = tmp_path / "ooc"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.out_of_core", "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    data = json.loads((out / "out_of_core.json").read_text())
    # Exit status 1 when a loss went over the budget (the interpreter's baseline counts).
    within = all(r["within_budget"] for r in data["results"])
    assert proc.returncode == (0 if within else 1), proc.stderr
    assert data["quick"] is True
    assert data["elements"] == out_of_core.QUICK_ELEMENTS
    assert data["budget_bytes"] == out_of_core.parse_bytes(out_of_core.QUICK_BUDGET)
    assert [r["loss"] for r in data["results"]] == list(out_of_core.LOSSES)
    for r in data["results"]:
        assert r["wall_s"] > 0
        assert r["elements"] == out_of_core.QUICK_ELEMENTS
        assert r["chunks"] > 1
        assert np.isfinite(r["value"])
        assert r["value"] > 0
        assert r["peak_rss_sampled_bytes"] >= r["rss_before_bytes"] > 0
        assert r["peak_rss_bytes"] >= r["peak_rss_sampled_bytes"]
        assert r["max_rss_bytes"] > 0
        assert r["within_budget"] == (r["peak_rss_bytes"] <= data["budget_bytes"])
    markdown = (out / "out_of_core.md").read_text()
    assert "| binary_cross_entropy_with_logits |" in markdown
    assert "| cross_entropy |" in markdown
    assert markdown == out_of_core.markdown(data)
    assert markdown in proc.stdout
