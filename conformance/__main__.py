"""``python -m conformance``: every loss, every installed backend, every dtype, vs PyTorch.

Exit status: 0 when every cell passes, 1 on any mismatch, 2 on a usage error.
Backends that cannot run here are listed with their reason and do not fail the run.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import arrayloss

from . import heatmap
from .backends import BACKENDS, DTYPES
from .beyond import BEYOND
from .cases import LOSSES
from .progress import ProgressBar
from .report import format_failures, format_text, write_report
from .runner import SOURCES, run


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m conformance",
        description="Run arrayloss's losses on every backend and dtype and compare them "
        "with PyTorch (CPU, float64). Exit status 0: every cell passes; 1: a mismatch; "
        "2: a usage error.",
    )
    p.add_argument(
        "--backend",
        action="extend",
        nargs="+",
        metavar="NAME",
        choices=[b.name for b in BACKENDS],
        help="backends to run (default: all)",
    )
    p.add_argument(
        "--loss",
        action="extend",
        nargs="+",
        metavar="NAME",
        choices=[*LOSSES, *BEYOND],
        help="losses to run (default: all; those PyTorch lacks are compared with their "
        "source framework, conformance/beyond.py)",
    )
    p.add_argument(
        "--dtype",
        action="extend",
        nargs="+",
        metavar="NAME",
        choices=list(DTYPES),
        help="dtypes to run (default: all)",
    )
    p.add_argument(
        "--case",
        action="extend",
        nargs="+",
        metavar="PATTERN",
        help="only cases whose id 'loss/name' matches a shell-style pattern",
    )
    p.add_argument(
        "--source",
        choices=SOURCES,
        default="cases",
        help="the cases to run: the generated ones (cases, the default), PyTorch's OpInfo "
        "sample inputs (opinfo: about 17,000 more cells, minutes more), or both (all)",
    )
    p.add_argument(
        "--report",
        metavar="DIR",
        default="conformance-report",
        help="where to write report.md, report.json and heatmap.png (default: "
        "./conformance-report)",
    )
    p.add_argument("--no-report", action="store_true", help="write no report")
    p.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        default=min(4, os.cpu_count() or 1),
        help="worker processes, one dtype each (default: the CPU count, at most 4)",
    )
    p.add_argument(
        "--quiet",
        action="store_true",
        help="print only the summary line and failures, and no progress bar",
    )
    p.add_argument(
        "--target",
        metavar="MODULE:FUNCTION",
        help="check this function (PyTorch-like signature) against PyTorch instead of "
        "arrayloss's; needs one --loss (see docs/other-libraries.md)",
    )
    p.add_argument(
        "--adapter",
        metavar="MODULE:FUNCTION",
        help="with --target: adapter(function, *args, **kwargs) mapping PyTorch's call "
        "onto the target's signature",
    )
    p.add_argument(
        "--fuzz",
        type=int,
        metavar="N",
        help="instead: draw N random cases (conformance/fuzz.py; backends default to "
        "numpy, torch, jax) and print a reproducer for any unexplained mismatch",
    )
    p.add_argument("--seed", type=int, default=0, help="the seed of --fuzz (default: 0)")
    p.add_argument(
        "--no-frameworks",
        action="store_true",
        help="skip the front-ends' cross-checks against Keras 3, optax and MindSpore "
        "themselves (they run after the full suite, on the CPU backends selected; not with "
        "--loss, --case or --source opinfo)",
    )
    p.add_argument(
        "--generic",
        action="store_true",
        help="switch arrayloss's backend-specific fast paths off (ARRAYLOSS_FAST_PATHS=0): "
        "check the generic array-API definitions, which the fast paths must agree with",
    )
    return p


def _with_frameworks(args: argparse.Namespace) -> bool:
    """The front-ends' cross-checks belong to the full report: not to a run narrowed to
    some losses or cases (their entries are not losses), nor to OpInfo's samples."""
    return not (args.no_frameworks or args.loss or args.case or args.source == "opinfo")


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.generic:
        # The environment too: worker processes are spawned and read it at import.
        previous = os.environ.get("ARRAYLOSS_FAST_PATHS")
        os.environ["ARRAYLOSS_FAST_PATHS"] = "0"
        try:
            with arrayloss.fast_paths(False):
                return _main(args)
        finally:
            if previous is None:
                del os.environ["ARRAYLOSS_FAST_PATHS"]
            else:
                os.environ["ARRAYLOSS_FAST_PATHS"] = previous
    return _main(args)


def _main(args: argparse.Namespace) -> int:
    if args.jobs < 1:
        parser().error("--jobs must be at least 1")
    if args.fuzz is not None:
        if args.fuzz < 1:
            parser().error("--fuzz must be at least 1")
        from .fuzz import main as fuzz_main

        return fuzz_main(args.fuzz, args.seed, args.loss, args.backend, args.dtype, args.quiet)
    if args.adapter and not args.target:
        parser().error("--adapter needs --target")
    if args.target:
        from .check import command_line

        return command_line(args)
    progress = None if args.quiet else ProgressBar()
    results = run(
        args.loss,
        args.backend,
        args.dtype,
        args.case,
        jobs=args.jobs,
        progress=progress,
        source=args.source,
    )
    if _with_frameworks(args):
        # The real frameworks run on the CPU: the CPU backends of this run, if any.
        chosen = [b for b in BACKENDS if b.name in results.backends and not b.gpu]
        if chosen:
            from .frontends import run_frameworks

            if progress is not None:
                print("front-ends against Keras 3, optax and MindSpore ...", flush=True)
            results.frameworks = run_frameworks(tuple(chosen))
    if args.quiet:
        status = "pass" if not results.failures else f"{len(results.failures)} FAILING"
        print(f"arrayloss conformance: {len(results.cells)} cells, {status}")
        for framework in results.frameworks.values():
            counts = framework.counts.values()
            outcome = framework.reason or (
                f"{sum(p for p, _ in counts)}/{sum(t for _, t in counts)} case runs pass"
            )
            print(f"front-end vs {framework.name}: {outcome}")
        for name, reason in results.skipped_backends.items():
            print(f"{name}: skipped ({reason})")
        if results.failures:
            print(format_failures(results))
        for failure in results.framework_failures:
            print(f"FAILED {failure}")
    else:
        print(format_text(results))
    if not args.no_report:
        path = write_report(results, args.report)
        if not args.quiet:
            names = ("report.md", "report.json", heatmap.HEATMAP_FILE)
            files = [path / name for name in names]
            print(f"\nreport: {', '.join(str(f) for f in files if f.exists())}")
        if not heatmap.available():
            print(f"note: {heatmap.NOTE}")
    if not results.cells:
        # Fail: a GPU job whose backends are missing must not pass having tested nothing.
        print("no cells ran: nothing selected is available here")
        return 1
    return 0 if results.ok else 1


if __name__ == "__main__":
    sys.exit(main())
