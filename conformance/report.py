"""The conformance matrix as text (stdout) and as a report directory (JSON + Markdown)."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .cases import cases_for, loss_info
from .opinfo import OPINFO_PREFIX
from .runner import EPS, GRAD_RTOL_EPS, RTOL_EPS, TOLERANCE_POLICY, CellResult, Results

__all__ = [
    "format_failures",
    "format_matrix",
    "format_per_dtype",
    "matrix_json",
    "summarize",
    "write_report",
]

#: How many failing cells are listed in full.
MAX_FAILURES = 20
MATRIX_LEGEND = (
    "cells: passed/total, then the worst error in eps of the result's dtype (ulps-like): "
    "max |a - e| / (eps (|e| + scale)) over the elements, e the PyTorch float64 reference; "
    f"a cell fails above {RTOL_EPS:g} (values) or {GRAD_RTOL_EPS:g} (gradients)"
)
#: The unit of every ``error_eps`` number, for report.json.
ERROR_UNIT = (
    "error_eps: max over elements of |a - e| / (eps_d * (|e| + scale)), eps_d the machine "
    "epsilon of the result's dtype, e the reference, scale as in the tolerance policy; "
    "tolerance_eps is the limit (k); fraction_of_tolerance = error_eps / tolerance_eps; "
    "max_rel_err: max |a - e| / |e| over finite nonzero e; max_abs_err: max |a - e|"
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


def _eps(x: float) -> str:
    return "0" if x == 0 else "inf" if x == float("inf") else f"{x:.2g}eps"


def _cell(cells: list[CellResult]) -> str:
    """'passed/total  error', 'FAIL passed/total  error', or '-' when nothing ran."""
    passed, total, worst = _summary(cells)
    if total == 0:
        return "skipped" if cells else "-"
    shown = "" if worst is None else f"  {_eps(worst.error_eps or 0.0)}"
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
    rows = [[row] + [_cell(by[row, b]) for b in results.backends] for row in _rows(results)]
    return _table(header, rows, markdown)


def format_per_dtype(results: Results, markdown: bool = False) -> str:
    """Rows: (loss row, dtype); cells: passed/total and the worst error in eps of the
    dtype, as in the matrix."""
    by: dict[tuple[str, str, str], list[CellResult]] = defaultdict(list)
    for c in results.cells:
        by[c.row, c.dtype, c.backend].append(c)
    header = ["loss", "dtype", *results.backends]
    rows = []
    for row in _rows(results):
        for dtype in results.dtypes:
            cells = [by[row, dtype, b] for b in results.backends]
            if any(cells):
                rows.append([row, dtype] + [_cell(c) for c in cells])
    return _table(header, rows, markdown)


def format_torch_dtype(results: Results, markdown: bool = False) -> str:
    """The worst error (eps units) against PyTorch computed in the case's own dtype
    (values): the "matches PyTorch's rounding" figure; 0 is bit for bit."""
    worst: dict[tuple[str, str, str], float] = {}
    for c in results.cells:
        if c.error_eps_torch_dtype is not None:
            key = (c.loss, c.dtype, c.backend)
            worst[key] = max(worst.get(key, 0.0), c.error_eps_torch_dtype)
    header = ["loss", "dtype", *results.backends]
    rows = []
    for loss in results.losses:
        for dtype in results.dtypes:
            values = [worst.get((loss, dtype, b)) for b in results.backends]
            if any(v is not None for v in values):
                rows.append([loss, dtype] + ["-" if v is None else _eps(v) for v in values])
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
    status = "all cells pass" if not results.failures else f"{len(results.failures)} FAILING cells"
    parts = [
        f"arrayloss conformance against PyTorch: {status} "
        f"({len(results.cells)} cells in {results.seconds:.1f} s)",
        "",
        MATRIX_LEGEND,
        format_matrix(results),
        "",
        "per dtype: passed/total and the worst error in eps of that dtype",
        format_per_dtype(results),
    ]
    skips = format_skips(results)
    if skips:
        parts += ["", *skips]
    frameworks = format_frameworks(results)
    if frameworks:
        parts += ["", *frameworks]
    if results.failures:
        parts += ["", format_failures(results)]
    return "\n".join(parts)


FRAMEWORKS_INTRO = (
    "The front-ends against the real frameworks: `arrayloss.keras`, `arrayloss.optax` and "
    "`arrayloss.mindspore` on each arrayloss backend (rows) against Keras 3, optax and "
    "MindSpore themselves (columns): case runs passed/total, values, and gradients on "
    "torch and JAX (conformance/frontends.py; the migration guides give each entry)."
)


def format_frameworks(results: Results, markdown: bool = False) -> list[str]:
    """The front-ends' section: the backend x framework table, then (Markdown) each
    framework's entry x backend matrix; empty when the run did not include them."""
    if not results.frameworks:
        return []
    from .frontends import summary

    parts = [FRAMEWORKS_INTRO, "", summary(results.frameworks)]
    if markdown:
        for run in results.frameworks.values():
            if run.reason is None:
                parts += ["", f"### {run.title} ({run.seconds:.0f} s)", "", run.matrix]
    failures = results.framework_failures
    if failures:
        shown = failures[:MAX_FAILURES]
        parts += ["", f"{len(failures)} front-end case runs FAIL:", *shown]
        if len(failures) > len(shown):
            parts.append(f"... and {len(failures) - len(shown)} more")
    return parts


def _framework_references(results: Results) -> list[str]:
    """The section naming the reference of each loss PyTorch lacks (none: no section)."""
    rows = [
        f"| `{loss}` | `{info.source}` |"
        + (
            f" its float64 cells are judged with {info.reference_precision}'s eps |"
            if info.reference_precision
            else " |"
        )
        for loss in results.losses
        if (info := loss_info(loss)).reference is not None
    ]
    if not rows:
        return []
    return [
        "## Losses PyTorch lacks",
        "",
        "Their reference is the framework they come from (conformance/beyond.py), called "
        "in float64 on the same values, with `jax.grad` for the gradients; everything else "
        "(the tolerance policy, the result's dtype: the inputs') is as for PyTorch's losses.",
        "",
        "| loss | reference | note |",
        "|---|---|---|",
        *rows,
        "",
    ]


def format_markdown(results: Results) -> str:
    env = results.environment
    status = (
        "all cells pass" if not results.failures else f"**{len(results.failures)} failing cells**"
    )
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
        *_framework_references(results),
        *(
            ["## Front-ends", "", *format_frameworks(results, markdown=True), ""]
            if results.frameworks
            else []
        ),
        "## Per dtype",
        "",
        "Passed/total and the worst error in eps of each dtype against the reference "
        "(PyTorch, CPU, float64).",
        "",
        format_per_dtype(results, markdown=True),
        "",
        "## Matches PyTorch's rounding",
        "",
        "The worst error in eps against PyTorch computed in the case's own dtype "
        "(values; 0: bit for bit). Recorded, not judged:",
        "",
        format_torch_dtype(results, markdown=True),
        "",
    ]
    skips = format_skips(results)
    if skips:
        parts += ["## Skipped", "", *(f"- {s}" for s in skips), ""]
    if results.failures:
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
        f"Fast paths: {env.get('fast_paths', 'on')}",
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


def _finite_or_none(x: float | None) -> float | str | None:
    """JSON has no infinity: 'inf' instead."""
    return "inf" if x == float("inf") else x


def summarize(cells: Iterable[CellResult], check: str) -> dict[str, Any]:
    """passed/failed/skipped counts and the worst errors of a group of cells of one check
    (see :data:`ERROR_UNIT`); the worst cell is named as 'loss/case' and its dtype."""
    cells = list(cells)
    counts = Counter(c.status for c in cells)
    passed, total, worst = _summary(cells)
    k = GRAD_RTOL_EPS if check == "grad" else RTOL_EPS
    error_eps = worst.error_eps if worst is not None else None
    torch_dtype = [c.error_eps_torch_dtype for c in cells if c.error_eps_torch_dtype is not None]
    return {
        "passed": passed,
        "failed": counts["failed"],
        "skipped": counts["skipped"],
        "total": total,
        "worst_error_eps": _finite_or_none(error_eps),
        "tolerance_eps": k,
        "fraction_of_tolerance": _finite_or_none(None if error_eps is None else error_eps / k),
        "worst_cell": None if worst is None else f"{worst.loss}/{worst.case} {worst.dtype}",
        "max_rel_err": _finite_or_none(
            max((c.max_rel_err for c in cells if c.max_rel_err is not None), default=None)
        ),
        "max_abs_err": _finite_or_none(
            max((c.max_abs_err for c in cells if c.max_abs_err is not None), default=None)
        ),
        "worst_error_eps_torch_dtype": _finite_or_none(max(torch_dtype, default=None)),
    }


def matrix_json(results: Results) -> list[dict[str, Any]]:
    """The matrix as records: one per (loss, check, backend) that has cells, with the
    totals and worst errors of :func:`summarize` overall and per dtype."""
    by: dict[tuple[str, str, str], list[CellResult]] = defaultdict(list)
    for c in results.cells:
        by[c.loss, c.check, c.backend].append(c)
    records = []
    for loss in results.losses:
        for check in ("value", "grad"):
            for backend in results.backends:
                cells = by.get((loss, check, backend))
                if not cells:
                    continue
                dtypes = {
                    dtype: summarize([c for c in cells if c.dtype == dtype], check)
                    for dtype in results.dtypes
                    if any(c.dtype == dtype for c in cells)
                }
                record = {"loss": loss, "check": check, "backend": backend}
                records.append({**record, **summarize(cells, check), "dtypes": dtypes})
    return records


def write_report(results: Results, directory: str | Path, heatmap: bool = True) -> Path:
    """Write ``report.json`` (every cell, and the matrix with its worst errors),
    ``report.md`` and, where matplotlib is installed and ``heatmap``, ``heatmap.png``
    into ``directory``."""
    from .heatmap import HEATMAP_FILE, write_heatmap

    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    data = results.to_json()
    data["error_unit"] = ERROR_UNIT
    data["matrix"] = matrix_json(results)
    with open(path / "report.json", "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, default=str)
        f.write("\n")
    png = write_heatmap(results, path / HEATMAP_FILE) if heatmap else None
    if png is None:
        (path / HEATMAP_FILE).unlink(missing_ok=True)  # not a stale one from another run
    markdown = format_markdown(results)
    if png is not None:
        figure = f"![Worst error per loss and backend]({HEATMAP_FILE})\n\n## Per dtype"
        markdown = markdown.replace("## Per dtype", figure, 1)
    (path / "report.md").write_text(markdown, encoding="utf-8")
    return path
