"""The machinery the framework front-ends' cross-checks share, and their summary.

``conformance.keras_frontend``, ``conformance.optax_frontend`` and
``conformance.mindspore`` each hold their cases and how to compute one case with the
real framework and with the arrayloss front-end; comparing, running every case on every
backend, the per-framework matrix and the command line live here, once.

``python -m conformance.frontends`` runs the three and prints one table: a row per
arrayloss backend, a column per real framework (Keras 3, optax, MindSpore), each entry
the case runs passed/total; a framework that is not installed is listed with the reason.
"""

from __future__ import annotations

import argparse
import importlib
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from conformance.backends import Backend, available_backends

__all__ = [
    "FRAMEWORKS",
    "FrameworkRun",
    "Result",
    "compare",
    "cpu_backends",
    "main",
    "matrix",
    "run_all",
    "run_frameworks",
    "summary",
]

#: The front-end cross-checks: (column title, module).
FRAMEWORKS: tuple[tuple[str, str], ...] = (
    ("Keras 3", "conformance.keras_frontend"),
    ("optax", "conformance.optax_frontend"),
    ("MindSpore", "conformance.mindspore"),
)

Pair = tuple[np.ndarray, "np.ndarray | None"]  # a value, and its gradient or None


def relative_error(actual: np.ndarray, expected: np.ndarray) -> float:
    """The largest difference, relative to max(1, the largest finite |expected|); NaN
    against NaN and equal infinities count as no difference, another shape as inf."""
    if actual.shape != expected.shape:
        return math.inf
    if actual.size == 0:
        return 0.0
    same = (np.isnan(actual) & np.isnan(expected)) | (actual == expected)
    diff = np.where(same, 0.0, np.abs(actual - expected))
    finite = np.where(np.isfinite(expected), np.abs(expected), 0.0)
    return float(np.max(diff)) / max(1.0, float(np.max(finite)))


@dataclass
class Result:
    case: Any
    backend: str
    dtype: str
    passed: bool
    error: float  # largest error (value and gradient), relative to max(1, |expected|)
    message: str = ""


def compare(
    case: Any,
    backend: Backend,
    dtype: str,
    reference: Pair,
    candidate: Pair,
    tolerance: tuple[float, float],
    framework: str,
) -> Result:
    """Judge the front-end's (value, gradient) against the framework's: values within
    ``tolerance`` (rtol, atol), gradients within ten times it, NaN where NaN."""
    (expected, expected_grad), (actual, grad) = reference, candidate
    rtol, atol = tolerance
    messages = []
    error = relative_error(actual, expected)
    passed = actual.shape == expected.shape and bool(
        np.allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True)
    )
    if not passed:
        messages.append(f"value {actual.tolist()} != {framework} {expected.tolist()}")
    if grad is not None and expected_grad is not None:
        error = max(error, relative_error(grad, expected_grad))
        if not np.allclose(grad, expected_grad, rtol=10 * rtol, atol=10 * atol, equal_nan=True):
            passed = False
            messages.append(f"gradient differs by {np.nanmax(np.abs(grad - expected_grad)):.3g}")
    return Result(case, backend.name, dtype, passed, error, "; ".join(messages))


def cpu_backends() -> tuple[Backend, ...]:
    return tuple(b for b in available_backends() if not b.gpu)


def run_all(
    cases: Sequence[Any],
    run_case: Callable[[Any, Backend, str], Result],
    backends: tuple[Backend, ...] | None = None,
    skip: Callable[[Any], bool] = lambda case: False,
    progress: Callable[[Result], None] | None = None,
) -> list[Result]:
    """Every case (``case.dtypes``) on every backend that has the dtype; an exception
    is a failed result carrying it."""
    results = []
    for backend in backends or cpu_backends():
        for case in cases:
            if skip(case):
                continue
            for dtype in case.dtypes:
                if dtype not in backend.dtypes:
                    continue
                try:
                    result = run_case(case, backend, dtype)
                except Exception as exc:
                    message = f"{type(exc).__name__}: {exc}"
                    result = Result(case, backend.name, dtype, False, math.inf, message)
                results.append(result)
                if progress is not None:
                    progress(result)
    return results


def matrix(
    results: list[Result],
    rows: Sequence[str],
    row_of: Callable[[Any], str],
    dtypes: tuple[str, str],
    title: str = "entry",
    not_run: dict[str, str] | None = None,
) -> str:
    """A markdown table: a row per entry (``row_of(case)``), a column per backend: case
    runs passed/total and the largest error in each of ``dtypes`` (relative to
    max(1, |expected|)); rows in ``not_run`` show its reason instead."""
    backends = list(dict.fromkeys(r.backend for r in results))
    lines = [f"| {title} | " + " | ".join(backends) + " |", "|---|" + "---|" * len(backends)]
    for name in rows:
        if not_run and name in not_run:
            lines.append(f"| {name} | " + " | ".join(not_run[name] for _ in backends) + " |")
            continue
        entries = []
        for b in backends:
            runs = [r for r in results if row_of(r.case) == name and r.backend == b]
            errors = []
            for dtype in dtypes:
                es = [r.error for r in runs if r.dtype == dtype]
                errors.append(f"{max(es):.0e}" if es else "-")
            entries.append(f"{sum(r.passed for r in runs)}/{len(runs)}; " + "; ".join(errors))
        lines.append(f"| {name} | " + " | ".join(entries) + " |")
    passed = sum(r.passed for r in results)
    lines.append("")
    lines.append(
        f"{passed}/{len(results)} case runs passed (values, and gradients on torch and JAX); "
        f"each entry: passed/total; largest error in {dtypes[0]}; in {dtypes[1]}."
    )
    return "\n".join(lines)


def command(
    prog: str,
    description: str,
    reason: Callable[[], str | None],
    title: Callable[[], str],
    run: Callable[..., list[Result]],
    table: Callable[..., str],
    names: Sequence[str],
    argv: list[str] | None = None,
) -> int:
    """The command line of one front-end's cross-check: ``--backend`` and ``--entry``
    (repeatable; ``names`` are the entries there are cases for), the matrix, then each
    failure; exit status 1 if any failed, 0 when skipped, 2 for an unknown entry.
    ``run(backends, entries=...)`` and ``table(results, entries=...)``, ``entries`` a
    tuple of names (empty: all)."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument(
        "--backend", action="append", default=[], help="only these backends (repeatable)"
    )
    parser.add_argument(
        "--entry",
        action="append",
        default=[],
        metavar="NAME",
        help="only this entry's cases, e.g. a function or class name (repeatable)",
    )
    args = parser.parse_args(argv)
    entries = tuple(args.entry)
    unknown = sorted(set(entries) - set(names))
    if unknown:
        parser.error(f"--entry: no cases for {', '.join(unknown)}")
    why = reason()
    if why:
        print(f"skipped: {why}")
        return 0
    backends = cpu_backends()
    if args.backend:
        backends = tuple(b for b in backends if b.name in args.backend)
    results = run(backends, entries=entries)
    print(f"{title()}\n")
    print(table(results, entries=entries))
    for r in results:
        if not r.passed:
            print(f"FAILED {r.case.id} on {r.backend} {r.dtype}: {r.message}")
    return 0 if all(r.passed for r in results) else 1


@dataclass
class FrameworkRun:
    """One front-end's cross-check, as the reports keep it (plain data: report.json
    holds it as is, and ``python -m conformance.update_docs`` reads it back)."""

    name: str  # the column: "Keras 3", "optax", "MindSpore"
    title: str  # e.g. "arrayloss.keras vs Keras 3.15.1 (JAX backend)"; "" when not run
    reason: str | None  # why it did not run, or None
    counts: dict[str, list[int]]  # backend -> [passed, total]
    matrix: str  # the Markdown matrix entry x backend ("" when not run)
    failures: list[str]
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failures

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FrameworkRun:
        return cls(**data)


def run_framework(name: str, module_name: str, backends: tuple[Backend, ...]) -> FrameworkRun:
    """Run one front-end's cross-check (``FRAMEWORKS``) on ``backends``."""
    module = importlib.import_module(module_name)
    why = module.reason()
    if why:
        return FrameworkRun(name, "", why, {}, "", [])
    start = time.perf_counter()
    results: list[Result] = module.run_all(backends)
    counts: dict[str, list[int]] = {}
    for r in results:
        passed_total = counts.setdefault(r.backend, [0, 0])
        passed_total[0] += r.passed
        passed_total[1] += 1
    failures = [
        f"{r.case.id} on {r.backend} {r.dtype}: {r.message}" for r in results if not r.passed
    ]
    seconds = time.perf_counter() - start
    return FrameworkRun(
        name, module.title(), None, counts, module.matrix(results), failures, seconds
    )


def run_frameworks(backends: tuple[Backend, ...] | None = None) -> dict[str, FrameworkRun]:
    """Every front-end's cross-check on ``backends`` (default: every CPU backend here;
    the real frameworks run on the CPU, so GPU backends are left out)."""
    chosen = tuple(b for b in backends if not b.gpu) if backends is not None else cpu_backends()
    return {name: run_framework(name, module, chosen) for name, module in FRAMEWORKS}


def summary(runs: dict[str, FrameworkRun]) -> str:
    """One Markdown table: a row per arrayloss backend, a column per framework (case
    runs passed/total), then each framework that did not run, with its reason."""
    backends = list(dict.fromkeys(b for run in runs.values() for b in run.counts))
    names = list(runs)
    lines = ["| backend | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for b in backends:
        entries = []
        for run in runs.values():
            if run.reason is not None:
                entries.append("not run")
                continue
            passed, total = run.counts.get(b, (0, 0))
            entries.append(f"{passed}/{total}")
        lines.append(f"| {b} | " + " | ".join(entries) + " |")
    for name, run in runs.items():
        if run.reason is not None:
            lines.append(f"\n{name} not run: {run.reason}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m conformance.frontends", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--backend", action="append", default=[], help="only these backends (repeatable)"
    )
    args = parser.parse_args(argv)
    backends = cpu_backends()
    if args.backend:
        backends = tuple(b for b in backends if b.name in args.backend)
    runs = run_frameworks(backends)
    print(summary(runs))
    for run in runs.values():
        for failure in run.failures:
            print(f"FAILED ({run.name}) {failure}")
    return 0 if all(run.ok for run in runs.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
