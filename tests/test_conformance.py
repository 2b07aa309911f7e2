"""The conformance suite (``conformance.runner.run``, the code path of
``python -m conformance``) on every installed backend, and tests of the runner itself:
that it does catch wrong results, wrong types, wrong gradients and wrong errors.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import arrayloss
from conformance.__main__ import main
from conformance.beyond import BEYOND
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
    assert results.environment["fast_paths"] == "on"


@pytest.mark.slow
def test_every_cell_passes_on_the_generic_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    # The same suite with the fast paths off (python -m conformance --generic) on PyTorch,
    # whose fast paths are its native kernels: the generic definitions pass too, so each
    # native fast path is checked against PyTorch on both of its sides. JAX's fast path,
    # auto-jit, has its generic side in the jax-jit column of the test above (inside a
    # user's jit the loss is the generic definition, traced), and eager JAX on both paths
    # in tests/test_fast_paths.py; eager JAX with the fast paths off compiles op by op and
    # would cost CI about five minutes more (`--generic --backend jax` runs it). The other
    # backends run the generic definitions in the test above.
    monkeypatch.setenv("ARRAYLOSS_FAST_PATHS", "0")  # the spawned workers read it
    with arrayloss.fast_paths(False):
        results = run(backends=["torch"], jobs=min(4, os.cpu_count() or 1))
    assert results.environment["fast_paths"] == "off (--generic)"
    assert set(results.backends) == {"torch"}
    assert results.ok, format_failures(results) + "\n\n" + format_matrix(results)


def test_cases_are_data_with_unique_ids_and_stable_seeds() -> None:
    cases = all_cases() + tuple(c for loss in BEYOND for c in cases_for(loss))
    ids = [c.id for c in cases]
    assert len(ids) == len(set(ids))
    for loss in (*LOSSES, *BEYOND):
        n = len(cases_for(loss))
        assert 20 <= n <= 300, (loss, n)  # jax-jit compiles per structure: keep it small
        reductions = {c.kwargs.get("reduction", "mean") for c in cases_for(loss)}
        # ntxent: optax gives only the mean over the pairs (its 'none', the pair matrix,
        # is checked per pair in tests/test_beyond.py); rmse has no 'none'.
        expected = {"mean", "sum"} if loss in ("ntxent", "rmse") else {"none", "mean", "sum"}
        assert expected <= reductions
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


def test_a_reference_library_that_is_not_installed_skips_its_cells(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # squared_hinge's reference is Keras's: without Keras its cells are skipped with the
    # reason, not failed as if the reference had raised for the case.
    monkeypatch.setitem(__import__("sys").modules, "keras", None)  # import keras fails
    results = run(["squared_hinge"], ["numpy", "torch"], ["float64"])
    assert results.cells
    assert {c.status for c in results.cells} == {"skipped"}
    assert all("pip install keras" in (c.message or "") for c in results.cells)
    assert any(c.check == "grad" for c in results.cells)
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


# --- the report files and the progress bar ---------------------------------------------------


def _png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk, after checking the signature."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _red_pixels(path: Path) -> int:
    """How many pixels have the heatmap's FAIL colour."""
    from matplotlib.image import imread

    from conformance.heatmap import FAIL_RED

    rgb = imread(path)[..., :3]
    red = np.array([int(FAIL_RED[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    return int(np.all(np.abs(rgb - red) < 0.02, axis=-1).sum())


def test_report_directory_has_markdown_json_and_a_heatmap(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pytest.importorskip("matplotlib")
    from conformance.report import write_report

    select = ([BCE, LOGITS], ["numpy", "torch", "cupy"], ["float64"])
    # The generic definitions: their rounding differs from PyTorch's (errors > 0 to
    # report); the torch fast path of binary_cross_entropy_with_logits is PyTorch itself.
    with arrayloss.fast_paths(False):
        results = run(*select, cases=[f"{BCE}/(4,3)-*", f"{LOGITS}/(4,3)-*"])
    assert results.ok
    write_report(results, tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == {"report.md", "report.json", "heatmap.png"}
    width, height = _png_size((tmp_path / "heatmap.png").read_bytes())
    assert 600 <= width <= 4000
    assert 200 <= height <= 3000
    red_in_legend = _red_pixels(tmp_path / "heatmap.png")  # the colour bar's top and the key
    markdown = (tmp_path / "report.md").read_text()
    assert "![Worst error per loss and backend](heatmap.png)" in markdown
    assert "| binary_cross_entropy [grad] | - | " in markdown

    report = json.loads((tmp_path / "report.json").read_text())
    assert "error_eps" in report["error_unit"]
    records = {(r["loss"], r["check"], r["backend"]): r for r in report["matrix"]}
    assert set(records) == {
        (loss, check, backend)
        for loss in (BCE, LOGITS)
        for check, backend in [("value", "numpy"), ("value", "torch"), ("grad", "torch")]
    }
    for (loss, check, backend), record in records.items():
        cells = [
            c
            for c in results.cells
            if (c.loss, c.check, c.backend) == (loss, check, backend) and c.status != "skipped"
        ]
        errors = [c.error_eps for c in cells if c.error_eps is not None]
        assert record["passed"] == record["total"] == len(cells) > 0
        assert record["worst_error_eps"] == max(errors) > 0
        assert record["fraction_of_tolerance"] == max(errors) / record["tolerance_eps"]
        assert record["tolerance_eps"] == (16.0 if check == "grad" else 8.0)
        assert record["dtypes"]["float64"]["worst_error_eps"] == max(errors)

    # A failing cell: the JSON counts it, the heatmap paints it red.
    _patch(monkeypatch, BCE, lambda real, *a, **kw: real(*a, **kw) * 1.01)
    failing = run(*select, cases=[f"{BCE}/(4,3)-*"])
    write_report(failing, tmp_path / "failing")
    report = json.loads((tmp_path / "failing" / "report.json").read_text())
    numpy_value = next(r for r in report["matrix"] if r["backend"] == "numpy")
    assert numpy_value["failed"] == numpy_value["total"] - numpy_value["passed"] > 0
    assert numpy_value["fraction_of_tolerance"] > 1
    assert _red_pixels(tmp_path / "failing" / "heatmap.png") > red_in_legend + 1000


def test_without_matplotlib_the_heatmap_is_skipped_with_a_note(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import conformance.heatmap

    monkeypatch.setattr(conformance.heatmap, "available", lambda: False)
    (tmp_path / "heatmap.png").write_bytes(b"stale")  # from an earlier run: removed
    argv = ["--loss", BCE, "--backend", "numpy", "--dtype", "float64", "--jobs", "1"]
    assert main([*argv, "--case", f"{BCE}/(4,3)-mean*", "--report", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "note: matplotlib is not installed: heatmap.png was not written" in captured.out
    assert {p.name for p in tmp_path.iterdir()} == {"report.md", "report.json"}
    assert "heatmap.png" not in (tmp_path / "report.md").read_text()
    # Not --quiet: the progress bar ran on stderr (not a terminal here: plain lines).
    assert "runs (case x dtype x backend) to go" in captured.err
    assert "runs done in" in captured.err


class _FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_progress_bar_redraws_on_a_terminal_and_writes_few_lines_in_a_log() -> None:
    import io

    from conformance.progress import ProgressBar, format_duration

    assert format_duration(75) == "1:15"
    assert format_duration(3725) == "1:02:05"

    clock, out = _FakeClock(), io.StringIO()
    bar = ProgressBar(out, tty=True, width=10, clock=clock)
    bar.start(40)
    clock.now = 10.0
    bar.advance(10, "float32 mse_loss")
    line = out.getvalue().split("\r")[-1]
    # A quarter done in 10 s: 30 s to go.
    assert line == "[##--------] 10/40 runs  25%  float32 mse_loss  0:10 elapsed, ETA 0:30"
    clock.now = 10.05
    bar.advance(10, "float32 l1_loss")  # within 0.1 s of the last redraw: not drawn
    assert out.getvalue().count("\r") == 2
    clock.now = 20.0
    bar.finish()
    last = out.getvalue().split("\r")[-1]
    assert last.endswith("\n")
    assert last.rstrip() == "[##########] 40/40 runs 100%  40 runs in 0:20"  # spaces: erased
    assert "\n" not in out.getvalue()[:-1]  # one line, redrawn in place

    clock, out = _FakeClock(), io.StringIO()
    log = ProgressBar(out, tty=False, interval=10.0, clock=clock)
    log.start(100)
    for second in range(1, 100):
        clock.now = float(second)
        log.advance(1, "float64 nll_loss")
    log.finish()
    lines = out.getvalue().splitlines()
    # The start line, one line per 10 s (at 10 s, 20 s, ... 90 s) and the last line.
    assert len(lines) == 1 + 9 + 1
    assert lines[0] == "conformance: 100 runs (case x dtype x backend) to go"
    assert lines[1].endswith("10/100 runs  10%  float64 nll_loss  0:10 elapsed, ETA 1:30")
    assert lines[-1] == "conformance: 100/100 runs done in 1:39"


class _Recorder:
    """A progress display that records what run() tells it."""

    def __init__(self) -> None:
        self.total = -1
        self.advanced: list[tuple[int, str]] = []
        self.finished = False

    def start(self, total: int) -> None:
        self.total = total

    def advance(self, n: int, label: str) -> None:
        assert not self.finished
        self.advanced.append((n, label))

    def finish(self) -> None:
        self.finished = True


@pytest.mark.parametrize("jobs", [1, 2])
def test_progress_counts_every_run_with_and_without_workers(jobs: int) -> None:
    progress = _Recorder()
    results = run(
        [BCE, LOGITS],
        ["numpy", "array-api-strict"],
        ["float64", "float16"],  # array-api-strict has no float16
        cases=["*/(4,3)-mean*"],
        jobs=jobs,
        progress=progress,
    )
    value_cells = [c for c in results.cells if c.check == "value"]
    assert progress.finished
    assert progress.total == len(value_cells) == sum(n for n, _ in progress.advanced) > 0
    labels = {label for _, label in progress.advanced}
    assert labels == {
        f"{dtype} {loss}" for dtype in ("float64", "float16") for loss in (BCE, LOGITS)
    }


def test_update_docs_rewrites_only_the_marked_block(tmp_path: Path) -> None:
    from conformance.report import write_report
    from conformance.update_docs import BEGIN, END, load_results, update

    results = run([BCE], ["numpy", "cupy"], ["float64"], cases=[f"{BCE}/(4,3)-mean*"])
    write_report(results, tmp_path / "report", heatmap=False)
    assert load_results(tmp_path / "report").cells == results.cells
    (tmp_path / "report" / "heatmap.png").write_bytes(b"\x89PNG\r\n\x1a\nfake")
    doc = tmp_path / "docs" / "conformance.md"
    doc.parent.mkdir()
    doc.write_text(f"# Title\n\nbefore\n\n{BEGIN}\nold matrix\n{END}\n\nafter\n")
    image = tmp_path / "docs" / "images" / "heatmap.png"
    update(tmp_path / "report", doc, image, command="python -m conformance", commit="abc1234")
    text = doc.read_text()
    assert text.startswith(f"# Title\n\nbefore\n\n{BEGIN}\n")
    assert text.endswith(f"{END}\n\nafter\n")
    assert "old matrix" not in text
    assert "Produced by `python -m conformance` at commit `abc1234` (1 losses)" in text
    assert f"All {len(results.cells)} cells pass" in text
    assert "![Worst error per loss and backend](images/heatmap.png)" in text
    assert f"| {BCE} | 3/3  " in text
    assert "- cupy: skipped (" in text
    assert image.read_bytes().endswith(b"fake")

    doc.write_text("no markers\n")
    with pytest.raises(ValueError, match="must hold the markers"):
        update(tmp_path / "report", doc, image)


def test_the_docs_state_the_tolerance_policy_of_the_code() -> None:
    from conformance.runner import TOLERANCE_POLICY
    from conformance.update_docs import BEGIN, DOC, END

    text = (Path(__file__).parent.parent / DOC).read_text()
    assert TOLERANCE_POLICY.strip() in text
    assert text.count(BEGIN) == text.count(END) == 1


# --- the front-ends' columns: Keras 3, optax and MindSpore themselves -------------------------


def _fake_framework(monkeypatch: pytest.MonkeyPatch, shift: float) -> None:
    """Replace the three front-end cross-checks by two small ones: 'Fakelib', whose
    reference is the closed form mean((x - y)^2) and whose candidate is arrayloss's
    mse_loss on the backend plus ``shift``, and 'Absent', which is not installed."""
    import sys
    import types

    from conformance import frontends

    x, y = np.array([0.5, -1.0, 2.0]), np.array([1.0, 1.0, 1.0])

    @dataclasses.dataclass
    class FakeCase:
        id: str
        dtypes: tuple[str, ...] = ("float64",)

    def run_case(case: Any, backend: Any, dtype: str) -> Any:
        value = arrayloss.mse_loss(backend.asarray(x, "float64"), backend.asarray(y, "float64"))
        candidate = (np.asarray(backend.to_numpy(value)) + shift, None)
        reference = (np.asarray(np.mean((x - y) ** 2)), None)
        return frontends.compare(case, backend, dtype, reference, candidate, (1e-12, 0), "Fakelib")

    fake = types.ModuleType("fake_frontend")
    cases = (FakeCase("mse[a]"), FakeCase("mse[b]"))
    fake.reason = lambda: None  # type: ignore[attr-defined]
    fake.title = lambda: "arrayloss.fake vs Fakelib 1.0"  # type: ignore[attr-defined]
    fake.run_all = lambda backends: frontends.run_all(cases, run_case, backends)  # type: ignore[attr-defined]
    fake.matrix = lambda results: frontends.matrix(  # type: ignore[attr-defined]
        results, ["mse"], lambda c: "mse", ("float64", "float32")
    )
    absent = types.ModuleType("absent_frontend")
    absent.reason = lambda: "absentlib is not installed"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fake_frontend", fake)
    monkeypatch.setitem(sys.modules, "absent_frontend", absent)
    frameworks = (("Fakelib", "fake_frontend"), ("Absent", "absent_frontend"))
    monkeypatch.setattr(frontends, "FRAMEWORKS", frameworks)


def test_the_report_has_a_column_per_real_framework(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import conformance.__main__ as command
    from conformance.update_docs import BEGIN, END, load_results, update

    # The full run, narrowed to two cells here: the front-ends run only with it.
    real_run = command.run
    monkeypatch.setattr(
        command,
        "run",
        lambda *a, **kw: real_run([BCE], ["numpy"], ["float64"], cases=[f"{BCE}/(4,3)-mean*"]),
    )
    _fake_framework(monkeypatch, shift=0.0)
    report = tmp_path / "report"
    assert main(["--backend", "numpy", "--jobs", "1", "--report", str(report)]) == 0
    out = capsys.readouterr().out
    assert "| numpy | 2/2 | not run |" in out
    assert "Absent not run: absentlib is not installed" in out
    markdown = (report / "report.md").read_text()
    assert "## Front-ends" in markdown
    assert "### arrayloss.fake vs Fakelib 1.0" in markdown
    assert "| mse | 2/2; 0e+00; - |" in markdown
    data = json.loads((report / "report.json").read_text())
    assert data["ok"] is True
    assert data["frameworks"]["Fakelib"]["counts"] == {"numpy": [2, 2]}
    assert data["frameworks"]["Absent"]["reason"] == "absentlib is not installed"
    loaded = load_results(report)
    assert loaded.frameworks["Fakelib"].counts == {"numpy": [2, 2]}
    doc = tmp_path / "conformance.md"
    doc.write_text(f"{BEGIN}\n{END}\n")
    update(report, doc, tmp_path / "heatmap.png", commit="abc1234")
    assert "| numpy | 2/2 | not run |" in doc.read_text()

    # Narrowed runs and --no-frameworks leave them out.
    assert main(["--backend", "numpy", "--loss", BCE, "--no-report", "--quiet"]) == 0
    assert "Fakelib" not in capsys.readouterr().out
    assert main(["--backend", "numpy", "--no-frameworks", "--no-report", "--quiet"]) == 0
    assert "Fakelib" not in capsys.readouterr().out

    # A front-end that disagrees with its framework fails the run, cells passing or not.
    _fake_framework(monkeypatch, shift=1e-6)
    assert main(["--backend", "numpy", "--jobs", "1", "--no-report", "--quiet"]) == 1
    out = capsys.readouterr().out
    assert " cells, pass\nfront-end vs Fakelib: 0/2 case runs pass\n" in out
    assert "FAILED (Fakelib) mse[a] on numpy float64: value" in out


def test_a_front_end_command_runs_the_entries_asked_for(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from conformance import frontends

    asked: list[tuple[str, ...]] = []

    def run(backends: Any, entries: tuple[str, ...] = ()) -> list[Any]:
        asked.append(entries)
        return []

    def table(results: Any, entries: tuple[str, ...] = ()) -> str:
        return f"table of {', '.join(entries) or 'all'}"

    def command(*argv: str) -> int:
        return frontends.command(
            "prog", "d", lambda: None, lambda: "t", run, table, ["a", "b"], list(argv)
        )

    assert command("--backend", "numpy", "--entry", "b") == 0
    assert asked == [("b",)]
    assert "table of b" in capsys.readouterr().out
    assert command() == 0
    assert asked[-1] == ()
    with pytest.raises(SystemExit) as exit_info:
        command("--entry", "c")
    assert exit_info.value.code == 2
    assert "--entry: no cases for c" in capsys.readouterr().err
