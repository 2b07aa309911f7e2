"""The conformance suite (``conformance.runner.run``, the code path of
``python -m conformance``) on every installed backend, and tests of the runner itself:
that it does catch wrong results, wrong types, wrong gradients and wrong errors.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import arrayloss
from conformance.__main__ import main
from conformance.cases import LOSSES, all_cases, case_by_name, cases_for
from conformance.report import format_failures, format_matrix
from conformance.runner import EPS, VALUE_CHECK_SKIP, CellResult, compare, run

LOGITS = "binary_cross_entropy_with_logits"
BCE = "binary_cross_entropy"


def _patch(monkeypatch: pytest.MonkeyPatch, loss: str, wrap: Callable[..., Any]) -> None:
    """Replace ``arrayloss.<loss>`` by ``wrap(real_loss, *args, **kwargs)``."""
    real = getattr(arrayloss, loss)
    monkeypatch.setattr(arrayloss, loss, lambda *a, **kw: wrap(real, *a, **kw))


def _failed(cells: list[CellResult]) -> list[CellResult]:
    return [c for c in cells if c.status == "failed"]


# --- the suite itself ----------------------------------------------------------------------


@pytest.mark.slow
def test_every_cell_passes() -> None:
    # Every loss, every available backend, every dtype: each dtype in a worker process.
    results = run(jobs=min(4, os.cpu_count() or 1))
    assert results.cells
    assert results.ok, format_failures(results) + "\n\n" + format_matrix(results)


def test_cases_are_data_with_unique_ids_and_stable_seeds() -> None:
    cases = all_cases()
    ids = [c.id for c in cases]
    assert len(ids) == len(set(ids))
    for loss in LOSSES:
        n = len(cases_for(loss))
        assert 20 <= n <= 300, (loss, n)  # jax-jit compiles per structure: keep it small
        reductions = {c.kwargs.get("reduction", "mean") for c in cases_for(loss)}
        assert {"none", "mean", "sum"} <= reductions
    case = case_by_name(f"{LOGITS}/(4,3)-sum-soft")
    first, again = case.arrays(), case.arrays()
    assert first.keys() == {"input", "target"}
    np.testing.assert_array_equal(first["input"], again["input"])


# --- the tolerance policy ------------------------------------------------------------------


def test_tolerance_rejects_100_eps_in_float64() -> None:
    expected = np.array([0.5, 1.0, 3.0])
    assert compare(expected * (1 + 2 * EPS["float64"]), expected, "float64", 1.0).passed
    result = compare(expected * (1 + 100 * EPS["float64"]), expected, "float64", 1.0)
    assert not result.passed
    assert "out of tolerance" in (result.message or "")


def test_nan_and_inf_must_match_element_for_element() -> None:
    nan, inf = np.nan, np.inf
    assert compare(np.array([nan, inf, -inf, 1.0]), np.array([nan, inf, -inf, 1.0]), "float32", 1)
    assert not compare(np.array([nan, 1.0]), np.array([0.5, 1.0]), "float32", 1.0).passed
    assert not compare(np.array([0.5, 1.0]), np.array([nan, 1.0]), "float32", 1.0).passed
    assert not compare(np.array([inf]), np.array([-inf]), "float32", 1.0).passed
    assert not compare(np.array([inf]), np.array([1e30]), "float32", 1.0).passed


# --- the runner catches wrong candidates ----------------------------------------------------


def test_a_result_off_by_one_percent_is_a_mismatch(monkeypatch: pytest.MonkeyPatch) -> None:
    # (Backends whose 0-d arrays stay arrays under `* 1.01`: NumPy's become scalars.)
    _patch(monkeypatch, LOGITS, lambda real, *a, **kw: real(*a, **kw) * 1.01)
    backends = ["torch", "array-api-strict"]
    results = run([LOGITS], backends, ["float64"], cases=[f"{LOGITS}/(4,3)-*"])
    values = [c for c in results.cells if c.check == "value"]
    assert values
    assert _failed(values) == values
    assert all("out of tolerance" in (c.message or "") for c in values)
    assert not results.ok
    assert "FAIL" in format_matrix(results)


def test_a_numpy_result_for_torch_input_is_a_mismatch(monkeypatch: pytest.MonkeyPatch) -> None:
    def to_numpy(real: Callable[..., Any], *a: Any, **kw: Any) -> Any:
        return real(*a, **kw).detach().numpy()

    _patch(monkeypatch, BCE, to_numpy)
    results = run([BCE], ["torch"], ["float64"], cases=[f"{BCE}/(4,3)-mean-soft"])
    [value] = [c for c in results.cells if c.check == "value"]
    assert value.status == "failed"
    assert "numpy.ndarray, not torch.Tensor" in (value.message or "")


def test_a_wrong_result_dtype_is_a_mismatch(monkeypatch: pytest.MonkeyPatch) -> None:
    _patch(monkeypatch, BCE, lambda real, *a, **kw: real(*a, **kw).astype(np.float32))
    results = run([BCE], ["numpy"], ["float64"], cases=[f"{BCE}/(5)-none-soft"])
    [cell] = results.cells
    assert cell.status == "failed"
    assert "dtype float32 != PyTorch's float64" in (cell.message or "")


def test_a_wrong_gradient_is_a_mismatch(monkeypatch: pytest.MonkeyPatch) -> None:
    # The same value at x, but d/dx scaled by 1.01.
    def steeper(real: Callable[..., Any], input: Any, *a: Any, **kw: Any) -> Any:
        return real(input * 1.01 - input.detach() * 0.01, *a, **kw)

    _patch(monkeypatch, LOGITS, steeper)
    results = run([LOGITS], ["torch"], ["float64"], cases=[f"{LOGITS}/(2,3,4)-sum-*"])
    by_check = {c.check: c for c in results.cells}
    assert by_check["value"].passed
    assert by_check["grad"].status == "failed"
    assert "out of tolerance" in (by_check["grad"].message or "")


def test_not_raising_where_torch_raises_is_a_mismatch(monkeypatch: pytest.MonkeyPatch) -> None:
    # Clipping instead of validating: PyTorch raises for a probability outside [0, 1].
    def clipping(real: Callable[..., Any], input: Any, *a: Any, **kw: Any) -> Any:
        return real(np.clip(input, 0.0, 1.0), *a, **kw)

    _patch(monkeypatch, BCE, clipping)
    results = run([BCE], ["numpy"], ["float64"], cases=[f"{BCE}/error-input_outside_unit"])
    [cell] = results.cells
    assert cell.status == "failed"
    assert "PyTorch raised, arrayloss did not" in (cell.message or "")


def test_raising_the_wrong_kind_of_error_is_a_mismatch(monkeypatch: pytest.MonkeyPatch) -> None:
    def type_error(real: Callable[..., Any], *a: Any, **kw: Any) -> Any:
        raise TypeError("not the category PyTorch raises")

    _patch(monkeypatch, BCE, type_error)
    results = run([BCE], ["numpy"], ["float64"], cases=[f"{BCE}/error-*", f"{BCE}/(5)-sum-soft"])
    assert results.cells
    assert _failed(results.cells) == results.cells
    messages = {c.case: c.message or "" for c in results.cells}
    assert "not a RuntimeError" in messages["error-input_outside_unit"]
    assert "not a ValueError" in messages["error-reduction"]
    assert "arrayloss raised, PyTorch did not" in messages["(5)-sum-soft"]


def test_value_check_cases_are_skipped_on_traced_and_lazy_backends() -> None:
    results = run([BCE], ["numpy", "dask"], ["float64"], cases=[f"{BCE}/error-input_outside_unit"])
    by_backend = {c.backend: c for c in results.cells}
    assert by_backend["numpy"].passed  # both raised
    assert by_backend["dask"].status == "skipped"
    assert by_backend["dask"].message == VALUE_CHECK_SKIP
    assert results.ok


def test_unknown_names_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown backend 'numpyy'"):
        run(backends=["numpyy"])


# --- the command line ----------------------------------------------------------------------


def test_command_line_writes_the_report_and_sets_the_exit_status(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--loss", BCE, "--backend", "numpy", "cupy", "--dtype", "float64", "--jobs", "1"]
    argv += ["--case", f"{BCE}/(4,3)-*", "--report", str(tmp_path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "all cells pass" in out
    assert "cupy: skipped (" in out
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["ok"] is True
    assert {c["backend"] for c in report["cells"]} == {"numpy"}
    assert "Tolerance policy" in (tmp_path / "report.md").read_text()

    _patch(monkeypatch, BCE, lambda real, *a, **kw: real(*a, **kw) * 1.01)  # NumPy scalars
    assert main([*argv, "--no-report", "--quiet"]) == 1
    assert "rerun:  python -m conformance --backend numpy" in capsys.readouterr().out

    with pytest.raises(SystemExit) as exit_info:
        main(["--backend", "no-such-backend"])
    assert exit_info.value.code == 2
