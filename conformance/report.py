"""The conformance matrix as text (stdout) and as a report directory (JSON + Markdown)."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

from .cases import cases_for
from .opinfo import OPINFO_PREFIX
from .runner import EPS, GRAD_RTOL_EPS, RTOL_EPS, TOLERANCE_POLICY, CellResult, Results

__all__ = ["format_failures", "format_matrix", "format_per_dtype", "write_report"]

#: How many failing cells are listed in full.
MAX_FAILURES = 20
MATRIX_LEGEND = (
    "cells: passed/total and the worst error in eps of the result's dtype, |error| / "
    f"(eps (|expected| + scale)); the tolerance is {RTOL_EPS:g} of them, {GRAD_RTOL_EPS:g} "
    "for gradients"
)


def _rows(results: Results) -> list[str]:
    rows = []
    for loss in results.losses:
        rows += [loss, f"{loss} [grad]"]
    present = {c.row for c in results.cells}
    return [r for r in rows if r in present]


def _summary(cells: Iterable[CellResult]) -> tuple[int, int, CellResult | None]:
    """(passed, total, the cell with the worst error) over the cells that ran."""
    ran = [c for c in cells if c.status != "skipped"]
    passed = sum(c.passed for c in ran)
    measured = [c for c in ran if c.error_eps is not None]
    worst = max(measured, key=lambda c: c.error_eps or 0.0, default=None)
    return passed, len(ran), worst


def _number(x: float | None, spec: str) -> str:
    return "inf" if x is None or x == float("inf") else format(x, spec)


def _cell(cells: list[CellResult], error: str) -> str:
    """'passed/total  error', 'FAIL passed/total  error', or '-' when nothing ran."""
    passed, total, worst = _summary(cells)
    if total == 0:
        return "skipped" if cells else "-"
    if worst is None:
        shown = ""
    elif error == "eps":
        shown = f"  {_number(worst.error_eps, '.2g')}"
        shown += "" if shown.endswith("inf") else "eps"
    else:
        shown = f"  {_number(max(c.max_abs_err or 0.0 for c in cells), '.1e')}"
    mark = "" if passed == total else "FAIL "
    return f"{mark}{passed}/{total}{shown}"


def _table(header: list[str], rows: list[list[str]], markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(line.rstrip() for line in lines)


def _group(results: Results) -> dict[tuple[str, str], list[CellResult]]:
    by: dict[tuple[str, str], list[CellResult]] = defaultdict(list)
    for c in results.cells:
        by[c.row, c.backend].append(c)
    return by


def format_matrix(results: Results, markdown: bool = False) -> str:
    """Rows: each loss and 'loss [grad]'; columns: backends; cells: passed/total and the
    worst error in eps of its dtype (see :data:`MATRIX_LEGEND`)."""
    by = _group(results)
    header = ["loss", *results.backends]
    rows = [[row] + [_cell(by[row, b], "eps") for b in results.backends] for row in _rows(results)]
    return _table(header, rows, markdown)


def format_per_dtype(results: Results, markdown: bool = False) -> str:
    """Rows: (loss row, dtype); cells: passed/total and the largest |error| against the
    float64 reference."""
    by: dict[tuple[str, str, str], list[CellResult]] = defaultdict(list)
    for c in results.cells:
        by[c.row, c.dtype, c.backend].append(c)
    header = ["loss", "dtype", *results.backends]
    rows = []
    for row in _rows(results):
        for dtype in results.dtypes:
            cells = [by[row, dtype, b] for b in results.backends]
            if any(cells):
                rows.append([row, dtype] + [_cell(c, "abs") for c in cells])
    return _table(header, rows, markdown)


def format_torch_dtype(results: Results, markdown: bool = False) -> str:
    """The largest |error| against PyTorch computed in the case's own dtype (values)."""
    worst: dict[tuple[str, str, str], float] = {}
    for c in results.cells:
        if c.max_abs_err_torch_dtype is not None:
            key = (c.loss, c.dtype, c.backend)
            worst[key] = max(worst.get(key, 0.0), c.max_abs_err_torch_dtype)
    header = ["loss", "dtype", *results.backends]
    rows = []
    for loss in results.losses:
        for dtype in results.dtypes:
            values = [worst.get((loss, dtype, b)) for b in results.backends]
            if any(v is not None for v in values):
                rows.append([loss, dtype] + ["-" if v is None else f"{v:.1e}" for v in values])
    return _table(header, rows, markdown)


def format_skips(results: Results) -> list[str]:
    lines = [f"{name}: skipped ({reason})" for name, reason in results.skipped_backends.items()]
    counts = Counter(
        (c.backend, c.check, c.message) for c in results.cells if c.status == "skipped"
    )
    for (backend, check, reason), n in sorted(counts.items(), key=str):
        lines.append(f"{backend}: {n} {check} cells skipped ({reason})")
    return lines


def _repro(c: CellResult) -> str:
    # An OpInfo sample (conformance/opinfo.py) runs only with its source selected.
    source = " --source opinfo" if c.case.startswith(OPINFO_PREFIX) else ""
    return (
        f"python -m conformance --backend {c.backend} --dtype {c.dtype} --case '{c.loss}/{c.case}'"
        + source
    )


def format_failures(results: Results, limit: int = MAX_FAILURES) -> str:
    failures = results.failures
    if not failures:
        return ""
    lines = [f"{len(failures)} failing cells; the first {min(limit, len(failures))}:"]
    for c in failures[:limit]:
        lines.append(f"- {c.loss}/{c.case} [{c.check}] on {c.backend}, {c.dtype}: {c.message}")
        lines.append(f"    arrays: {c.description}")
        lines.append(f"    rerun:  {_repro(c)}")
    return "\n".join(lines)


def format_text(results: Results) -> str:
    """Everything printed on stdout."""
    status = "all cells pass" if results.ok else f"{len(results.failures)} FAILING cells"
    parts = [
        f"arrayloss conformance against PyTorch: {status} "
        f"({len(results.cells)} cells in {results.seconds:.1f} s)",
        "",
        MATRIX_LEGEND,
        format_matrix(results),
        "",
        "per dtype: passed/total and the largest |error| against the float64 reference",
        format_per_dtype(results),
    ]
    skips = format_skips(results)
    if skips:
        parts += ["", *skips]
    if not results.ok:
        parts += ["", format_failures(results)]
    return "\n".join(parts)


def format_markdown(results: Results) -> str:
    env = results.environment
    status = "all cells pass" if results.ok else f"**{len(results.failures)} failing cells**"
    counts = ", ".join(f"{loss}: {len(cases_for(loss))}" for loss in results.losses)
    parts = [
        "# arrayloss conformance report",
        "",
        f"{status}: {len(results.cells)} cells in {results.seconds:.1f} s. Cases per loss: "
        f"{counts}. Dtypes: {', '.join(results.dtypes)}.",
        "",
        "## Matrix",
        "",
        MATRIX_LEGEND[0].upper() + MATRIX_LEGEND[1:] + ".",
        "",
        format_matrix(results, markdown=True),
        "",
        "## Per dtype",
        "",
        "Passed/total and the largest |arrayloss - reference| (PyTorch, float64).",
        "",
        format_per_dtype(results, markdown=True),
        "",
        "Largest |arrayloss - PyTorch in the case's own dtype| (recorded, not judged):",
        "",
        format_torch_dtype(results, markdown=True),
        "",
    ]
    skips = format_skips(results)
    if skips:
        parts += ["## Skipped", "", *(f"- {s}" for s in skips), ""]
    if not results.ok:
        parts += ["## Failures", "", "```", format_failures(results, limit=100), "```", ""]
    eps = ", ".join(f"{d} {e:.3g}" for d, e in EPS.items())
    parts += [
        "## Tolerance policy",
        "",
        f"eps: {eps}.",
        "",
        "```",
        TOLERANCE_POLICY.rstrip(),
        "```",
        "",
        "## Environment",
        "",
        f"Platform: {env.get('platform', '?')}",
        "",
        "| package | version |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in env.get("versions", {}).items()),
        "",
        "| library | devices |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in env.get("devices", {}).items()),
        "",
    ]
    return "\n".join(parts)


def write_report(results: Results, directory: str | Path) -> Path:
    """Write ``report.json`` (every cell) and ``report.md`` into ``directory``."""
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    with open(path / "report.json", "w", encoding="utf-8") as f:
        json.dump(results.to_json(), f, indent=1, default=str)
        f.write("\n")
    (path / "report.md").write_text(format_markdown(results), encoding="utf-8")
    return path
