"""Peak extra memory of one call, as a multiple of the bytes of the first input.

Run in a fresh subprocess by the suite (``python -m benchmarks.memory ...``), with
``MALLOC_MMAP_THRESHOLD_`` fixed so that glibc serves every large block by ``mmap`` and
returns it on ``free``: the resident set then follows the live allocations of NumPy,
PyTorch's CPU allocator and XLA's alike. For each contender and mode: two warm-up calls
(compilation, caches), then the kernel's peak-RSS mark is reset (``/proc/self/clear_refs``)
and one more call runs; its peak minus the resident set before it is the extra memory.
The result of a forward call is a scalar; the gradient of a forward+backward call is
counted (it is one input's worth, so 1x of forward+backward is unavoidable).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import subprocess
import sys
import warnings
from typing import Any

from .harness import build_runner
from .workloads import WORKLOADS, shape_for

__all__ = ["MEMORY_CONTENDERS", "measure", "run_subprocess"]

MEMORY_CONTENDERS = (
    "torch",
    "arrayloss-torch",
    "arrayloss-numpy",
    "numpy-hand",
    "arrayloss-jax-jit",
)
_STATUS = "/proc/self/status"


def _kib(field: str) -> int:
    with open(_STATUS) as f:
        match = re.search(rf"^{field}:\s+(\d+) kB", f.read(), re.MULTILINE)
    return int(match.group(1)) if match else -1


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def measure(
    names: list[str], n: int, contenders: tuple[str, ...] = MEMORY_CONTENDERS
) -> dict[str, Any]:
    """Peak extra memory per loss, contender and mode at size ``n`` (this process)."""
    import numpy as np

    out: dict[str, Any] = {}
    gc.freeze()  # collections below then skip the many objects of the imported libraries
    if not os.path.exists(_STATUS) or not _reset_peak():
        return {"error": "needs Linux /proc/self/status and clear_refs"}
    for name in names:
        workload = WORKLOADS[name]
        case = workload.make(np.random.default_rng(0), shape_for(workload.kind, n))
        rows: dict[str, Any] = {"elements": case.elements, "input_bytes": case.input_bytes}
        for contender in contenders:
            for mode in ("forward", "backward"):
                try:
                    run = build_runner(contender, workload, case, mode)
                    if run is None:
                        continue
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        run()
                        run()
                        gc.collect()
                        _reset_peak()
                        before = _kib("VmRSS")
                        run()
                        peak = _kib("VmHWM")
                except Exception as exc:
                    rows[f"{contender}/{mode}"] = {"error": f"{type(exc).__name__}: {exc}"[:200]}
                    continue
                finally:
                    run = None
                    gc.collect()
                extra = max(0, peak - before) * 1024
                rows[f"{contender}/{mode}"] = {
                    "extra_bytes": extra,
                    "multiple": extra / case.input_bytes,
                }
        out[name] = rows
        del case
        gc.collect()
    return out


def run_subprocess(names: list[str], n: int, timeout: float = 600) -> dict[str, Any]:
    """:func:`measure` in a fresh interpreter with glibc's mmap threshold fixed."""
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536", MALLOC_TRIM_THRESHOLD_="0")
    cmd = [sys.executable, "-m", "benchmarks.memory", "--size", str(n)]
    for name in names:
        cmd += ["--loss", name]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    try:
        proc = subprocess.run(
            cmd, env=env, cwd=root, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1:] or f"exit {proc.returncode}"}
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loss", action="append", required=True)
    parser.add_argument("--size", type=float, default=1e7)
    args = parser.parse_args(argv)
    json.dump(measure(args.loss, int(args.size)), sys.stdout)


if __name__ == "__main__":
    main()
