"""The benchmark suite: every loss arrayloss exports against torch.nn.functional.

Run ``python -m benchmarks.suite`` (``--help`` for the options; ``--quick`` for a smoke run
of under two minutes). For each loss, size and mode (forward; forward+backward), every
contender (see :data:`benchmarks.harness.CONTENDERS`) runs interleaved round-robin in this
one process; the medians over rounds are reported as ratios to ``torch.nn.functional``
on 2 threads in the same cell. Writes ``results.json``, ``results.md`` and
``plots/<loss>.png`` to ``--out`` and prints the table of ratios. The peak extra memory
of each loss at N = 1e7 (``--memory-size``) is measured in a subprocess
(:mod:`benchmarks.memory`).
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from . import harness, memory, report
from .workloads import WORKLOADS, default_sizes, shape_for

__all__ = ["main", "run"]

QUICK_SIZES = (1, 10_000)
OPTIONAL = {"optax-jit": "optax", "keras": "keras"}


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for mod in ("arrayloss", "numpy", "torch", "jax", "optax", "keras", "array_api_compat"):
        module = sys.modules.get(mod)
        if module is None and harness.available(mod):
            module = sys.modules.get(mod)
        if module is not None:
            out[mod] = str(getattr(module, "__version__", "?"))
    return out


def _parse_sizes(values: list[str] | None) -> tuple[int, ...] | None:
    if not values:
        return None
    sizes: list[int] = []
    for value in values:
        sizes += [int(float(v)) for v in value.split(",") if v.strip()]
    return tuple(sizes)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.suite", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--quick", action="store_true", help="small sizes, few rounds (< 2 min)")
    p.add_argument("--loss", action="append", metavar="NAME", help="only this loss (repeatable)")
    p.add_argument(
        "--sizes",
        action="append",
        metavar="N[,N...]",
        help="sizes N (elements of the first input) for every loss, e.g. 1,1e3,1e6",
    )
    p.add_argument("--rounds", type=int, help="rounds per cell (default 5; quick 3)")
    p.add_argument(
        "--backend",
        action="append",
        choices=sorted({c.backend for c in harness.CONTENDERS}),
        help="only the contenders of this backend (repeatable); torch is always the baseline",
    )
    p.add_argument("--mode", action="append", choices=harness.MODES, help="forward and/or backward")
    p.add_argument("--out", default="benchmarks/results", help="output directory")
    p.add_argument(
        "--memory-size",
        type=float,
        help="N of the peak-memory measurement (default 1e7; 0, the default of --quick, skips it)",
    )
    p.add_argument("--batch-ms", type=float, help="minimum batch time per sample (default 5)")
    p.add_argument("--budget-s", type=float, help="time budget per cell, seconds (default 8)")
    p.add_argument(
        "--max-call-s",
        type=float,
        default=5.0,
        help="skip a contender at a size where its time per call, extrapolated linearly "
        "from the previous size's (when that was over 0.25 s), exceeds this (default 5 s)",
    )
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    return p


def run(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the suite with command-line ``argv``; return the results (also written out)."""
    args = _parser().parse_args(argv)
    started = time.time()
    quick = args.quick
    rounds = args.rounds or (3 if quick else 5)
    batch_s = (args.batch_ms or (1.0 if quick else 5.0)) / 1000
    budget_s = args.budget_s or (2.0 if quick else 8.0)
    memory_size = int(args.memory_size if args.memory_size is not None else (0 if quick else 1e7))
    sizes_override = _parse_sizes(args.sizes)
    max_call_s = args.max_call_s
    modes = tuple(args.mode or harness.MODES)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    import torch

    import arrayloss

    torch.set_num_threads(2)
    gc.freeze()  # the collections between cells then skip the libraries' objects
    notes: list[str] = []
    skipped_losses: dict[str, str] = {}
    exported = set(getattr(arrayloss, "__all__", dir(arrayloss)))
    wanted = args.loss or list(WORKLOADS)
    names = []
    for name in wanted:
        if name not in WORKLOADS:
            raise SystemExit(f"unknown loss {name!r}; known: {', '.join(WORKLOADS)}")
        if name not in exported:
            skipped_losses[name] = "not exported by this arrayloss"
            continue
        names.append(name)
    # Lowercase public names that are not losses: a switch and a target transform.
    not_losses = {"fast_paths", "smooth_labels"}
    for name in sorted(exported - not_losses):
        if name.islower() and not name.startswith("_") and name not in WORKLOADS:
            notes.append(f"arrayloss.{name} has no workload in benchmarks/workloads.py")

    contenders = []
    skipped_contenders: dict[str, str] = {}
    for c in harness.CONTENDERS:
        if args.backend and c.backend not in args.backend and c.name not in ("torch", "floor"):
            continue
        module = OPTIONAL.get(c.name)
        if module is None and c.backend == "jax":
            module = "jax"
        if module is not None and not harness.available(module):
            skipped_contenders[c.name] = f"{module} is not installed"
            continue
        contenders.append(c)

    cells: list[dict[str, Any]] = []
    plan = [
        (name, n)
        for name in names
        for n in (sizes_override or (QUICK_SIZES if quick else default_sizes(WORKLOADS[name])))
    ]
    # (loss, mode, contender) -> (elements, seconds per call) at the last size run.
    last: dict[tuple[str, str, str], tuple[int, float]] = {}
    for i, (name, n) in enumerate(plan, 1):
        workload = WORKLOADS[name]
        case = workload.make(np.random.default_rng(0), shape_for(workload.kind, n))
        for mode in modes:
            t0 = time.perf_counter()
            runners: dict[str, tuple[harness.Runner, int]] = {}
            errors: dict[str, str] = {}
            for c in contenders:
                prev = last.get((name, mode, c.name))
                # Only a call already slow (0.25 s: past per-call overheads) is
                # extrapolated linearly in N to the next size.
                if prev is not None and c.name != harness.BASELINE and prev[1] > 0.25:
                    predicted = prev[1] * case.elements / max(prev[0], 1)
                    if predicted > max_call_s:
                        errors[c.name] = (
                            f"skipped: about {predicted:.0f} s per call predicted from "
                            f"N={prev[0]:.0e} (over --max-call-s {max_call_s:g})"
                        )
                        continue
                try:
                    run_one = harness.build_runner(c.name, workload, case, mode)
                except Exception as exc:
                    errors[c.name] = f"{type(exc).__name__}: {exc}"[:300]
                    continue
                if run_one is not None:
                    runners[c.name] = (run_one, c.threads)
            timings, timing_errors = harness.time_cell(runners, rounds, batch_s, budget_s)
            errors.update(timing_errors)
            for cname, t in timings.items():
                last[(name, mode, cname)] = (case.elements, t.median)
            base = timings.get(harness.BASELINE)
            results = {
                cname: {
                    "median_s": t.median,
                    "noise": t.noise,
                    "rounds": len(t.samples),
                    "reps": t.reps,
                    "ratio": t.median / base.median if base else None,
                }
                for cname, t in timings.items()
            }
            cells.append(
                {
                    "loss": name,
                    "kind": workload.kind,
                    "size": n,
                    "shape": list(case.shape),
                    "elements": case.elements,
                    "mode": mode,
                    "results": results,
                    "errors": errors,
                }
            )
            print(
                f"[{i}/{len(plan)}] {name} N={case.elements:.0e} {mode}: "
                f"{time.perf_counter() - t0:.1f} s",
                file=sys.stderr,
                flush=True,
            )
            # Survives an interrupted run; the complete results.json is written at the end.
            (out / "results.partial.json").write_text(json.dumps({"cells": cells}) + "\n")
            del runners, timings
            gc.collect()
        del case
        gc.collect()

    mem: dict[str, Any] = {}
    if memory_size > 0 and names:
        t0 = time.perf_counter()
        mem = memory.run_subprocess(names, memory_size)
        mem["size"] = memory_size
        print(f"memory at N={memory_size:.0e}: {time.perf_counter() - t0:.1f} s", file=sys.stderr)

    results_doc: dict[str, Any] = {
        "meta": {
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "cpu": _cpu_name(),
            "cores": os.cpu_count(),
            "platform": platform.platform(),
            "versions": _versions(),
            "argv": list(argv) if argv is not None else sys.argv[1:],
            "quick": quick,
            "rounds": rounds,
            "batch_ms": batch_s * 1000,
            "budget_s": budget_s,
            "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
            "duration_s": None,
        },
        "contenders": [
            {"name": c.name, "backend": c.backend, "description": c.description} for c in contenders
        ],
        "skipped": {"losses": skipped_losses, "contenders": skipped_contenders},
        "notes": notes,
        "cells": cells,
        "memory": mem,
    }
    if not args.no_plots:
        results_doc["plots"] = report.plots(results_doc, out / "plots")
    results_doc["meta"]["duration_s"] = round(time.time() - started, 1)
    (out / "results.json").write_text(json.dumps(results_doc, indent=1) + "\n")
    (out / "results.md").write_text(report.markdown(results_doc))
    (out / "results.partial.json").unlink(missing_ok=True)
    print(report.terminal(results_doc))
    print(f"wrote {out / 'results.json'}, {out / 'results.md'}", file=sys.stderr)
    gc.unfreeze()
    return results_doc


def main() -> None:
    run()


if __name__ == "__main__":
    main()
