"""Peak extra memory of one call, as a multiple of the bytes of the first input.

Run in a fresh subprocess by the suite (``python -m benchmarks.memory ...``), with
``MALLOC_MMAP_THRESHOLD_`` fixed so that glibc serves every large block by ``mmap`` and
returns it on ``free``: the resident set then follows the live allocations of NumPy,
PyTorch's CPU allocator and XLA's alike. For each contender and mode: a warm-up call
(compilation, caches), then the kernel's peak-RSS mark is reset (``/proc/self/clear_refs``)
and one more call runs; its peak minus the resident set before it is the extra memory.
The result of a forward call is a scalar; the gradient of a forward+backward call is
counted (it is one input's worth, so 1x of forward+backward is unavoidable).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import json
import os
import re
import signal
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


class _OverTime(Exception):
    pass


def _over_time(signum: int, frame: Any) -> None:
    raise _OverTime("over the time allowed per loss")


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def measure(
    names: list[str],
    n: int,
    contenders: tuple[str, ...] = MEMORY_CONTENDERS,
    stream: Any = None,
    per_loss_s: int = 0,
) -> dict[str, Any]:
    """Peak extra memory per loss, contender and mode at size ``n`` (this process)."""
    import numpy as np
    import torch.nn.functional  # noqa: F401

    import arrayloss  # noqa: F401  (imported before any alarm can interrupt an import)

    for optional in ("jax", "jax.numpy", "optax"):
        with contextlib.suppress(ImportError):
            importlib.import_module(optional)
    out: dict[str, Any] = {}
    gc.freeze()  # collections below then skip the many objects of the imported libraries
    if not os.path.exists(_STATUS) or not _reset_peak():
        gc.unfreeze()
        return {"error": "needs Linux /proc/self/status and clear_refs"}
    for name in names:
        workload = WORKLOADS[name]
        case = workload.make(np.random.default_rng(0), shape_for(workload.kind, n))
        rows: dict[str, Any] = {"elements": case.elements, "input_bytes": case.input_bytes}
        if per_loss_s:
            signal.signal(signal.SIGALRM, _over_time)
            signal.alarm(per_loss_s)
        over = False
        for contender in contenders:
            for mode in ("forward", "backward"):
                if over:
                    rows[f"{contender}/{mode}"] = {"error": f"skipped: over {per_loss_s} s"}
                    continue
                try:
                    run = build_runner(contender, workload, case, mode)
                    if run is None:
                        continue
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        run()  # warm: compilation, caches
                        gc.collect()
                        _reset_peak()
                        before = _kib("VmRSS")
                        run()
                        peak = _kib("VmHWM")
                except Exception as exc:
                    over = isinstance(exc, _OverTime)
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
        signal.alarm(0)
        out[name] = rows
        if stream is not None:  # one JSON line per loss: a timeout keeps what was done
            print(json.dumps({name: rows}), file=stream, flush=True)
        del case
        gc.collect()
    gc.unfreeze()
    return out


def run_subprocess(names: list[str], n: int, per_loss_s: int = 120) -> dict[str, Any]:
    """:func:`measure` in a fresh interpreter, glibc's mmap threshold fixed.

    Each loss gets ``per_loss_s`` seconds (an alarm in the child); a loss over it, or a
    crash, loses only the rows not yet printed (named in ``"error"``).
    """
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536", MALLOC_TRIM_THRESHOLD_="0")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    cmd = [sys.executable, "-m", "benchmarks.memory", "--size", str(n)]
    cmd += ["--per-loss-s", str(per_loss_s)]
    for name in names:
        cmd += ["--loss", name]
    timeout = 60 + per_loss_s * len(names)
    failure = None
    try:
        proc = subprocess.run(
            cmd, env=env, cwd=root, capture_output=True, text=True, timeout=timeout, check=False
        )
        stdout = proc.stdout
        if proc.returncode != 0:
            tail = proc.stderr.strip().splitlines()[-1:]
            failure = tail[0] if tail else f"exit status {proc.returncode}"
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout or ""
        stdout = out.decode() if isinstance(out, bytes) else out
        failure = f"timed out after {timeout:g} s"
    result: dict[str, Any] = {}
    for line in stdout.splitlines():
        if line.strip():
            result.update(json.loads(line))
    missing = [name for name in names if name not in result]
    if failure is not None and missing:
        result["error"] = f"{failure}; not measured: {', '.join(missing)}"
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loss", action="append", required=True)
    parser.add_argument("--size", type=float, default=1e7)
    parser.add_argument("--per-loss-s", type=int, default=0, help="alarm per loss (0: none)")
    args = parser.parse_args(argv)
    measure(args.loss, int(args.size), stream=sys.stdout, per_loss_s=args.per_loss_s)


if __name__ == "__main__":
    main()
