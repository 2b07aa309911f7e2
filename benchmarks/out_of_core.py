"""Out-of-core proof: losses over arrays larger than a memory budget, with Dask.

Run ``python -m benchmarks.out_of_core`` (``--help`` for the options; ``--quick`` for a
run of seconds; ``nox -s bench_out_of_core``). For ``binary_cross_entropy_with_logits``
(logits and targets of ``--elements`` float32 elements each) and ``cross_entropy``
(logits of ``--elements`` float32 elements over ``--classes`` classes, and one int64
class index per row), the inputs are generated lazily, chunk by chunk, by a NumPy
generator seeded with the chunk's position (``map_blocks``): no input ever exists in
full. By default each input is 4e9 float32 elements, 16 GB, against a 2 GiB budget.

The chunk size comes from the budget: each of ``--workers`` threads holds about
:data:`WORKING_SET` chunk-sized buffers at once (the generated input and target, the
loss's temporaries), so a chunk is ``budget / (workers * WORKING_SET)`` bytes of
float32 input, at most :data:`MAX_CHUNK` (``--max-chunk``). Dask fuses generation, loss and the chunk's partial sum into one task
per chunk and combines the partial sums in a tree: the peak resident memory is the
interpreter's baseline plus a few chunks per thread, whatever the total size.

Reported per loss: wall time, elements/s, GB/s (the bytes of all generated inputs per
second), and the process's peak resident set against the budget: on Linux the kernel's
high-water mark (``VmHWM``, reset before each loss through ``/proc/self/clear_refs``),
beside the largest current RSS that a sampler thread saw (``/proc/self/statm`` every
20 ms) and ``resource.getrusage``'s ``ru_maxrss`` (on Linux the same kernel mark, so
also reset; elsewhere the process's lifetime peak, which then bounds the peak). Writes ``out_of_core.json`` and ``out_of_core.md`` to
``--out`` and prints the Markdown table.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import resource
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["MAX_CHUNK", "WORKING_SET", "chunk_rows", "main", "parse_bytes", "run"]

#: Chunk-sized buffers one worker thread holds at its peak (inputs, temporaries).
WORKING_SET = 8
#: The largest chunk, whatever the budget: glibc serves blocks above its mmap threshold
#: (at most 32 MiB) from fresh, zeroed pages, so that each temporary of a larger chunk
#: page-faults anew; on the 2-core machine 128 MiB chunks ran at half the throughput
#: of 32 MiB ones (and the peak memory is lower too).
MAX_CHUNK = 32 * 2**20
LOSSES = ("binary_cross_entropy_with_logits", "cross_entropy")
DEFAULT_ELEMENTS = 4_000_000_000
QUICK_ELEMENTS = 20_000_000
QUICK_BUDGET = "256MiB"
_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}
_UNITS.update({"KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40})


def parse_bytes(text: str) -> int:
    """``"2GiB"`` -> 2147483648, ``"500MB"`` -> 500000000, ``"1e9"`` -> 1000000000."""
    match = re.fullmatch(r"\s*([0-9.]+(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*", text)
    if match is None:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 2GiB, 500MB, 1e9)")
    number, unit = match.groups()
    if unit.upper() not in _UNITS:
        raise argparse.ArgumentTypeError(
            f"unknown unit in {text!r}: use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB"
        )
    return int(float(number) * _UNITS[unit.upper()])


def chunk_rows(
    budget: int, workers: int, columns: int, itemsize: int = 4, max_chunk: int | None = None
) -> int:
    """Rows per chunk of a (rows, columns) input so that ``workers`` threads, each
    holding :data:`WORKING_SET` chunk-sized buffers, stay within ``budget`` bytes; and
    no chunk above ``max_chunk`` bytes (default :data:`MAX_CHUNK`)."""
    chunk_bytes = min(budget // (workers * WORKING_SET), max_chunk or MAX_CHUNK)
    return max(1, chunk_bytes // (columns * itemsize))


def _format_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    raise AssertionError


# --- lazily generated inputs ---------------------------------------------------------------

_KIND_SEED = {"logits": 1, "binary": 2, "classes": 3}


def _block(kind: str, seed: int, columns: int, block_info: Any = None) -> np.ndarray:
    # One chunk, from a generator seeded by (seed, kind, chunk position).
    info = block_info[None]
    shape = tuple(info["chunk-shape"])
    location = tuple(info["chunk-location"])
    rng = np.random.default_rng([seed, _KIND_SEED[kind], *location])
    if kind == "logits":
        return rng.standard_normal(shape, dtype=np.float32) * np.float32(3.0)
    if kind == "binary":
        return (rng.random(shape, dtype=np.float32) < 0.5).astype(np.float32)
    if kind == "classes":
        return rng.integers(0, columns, size=shape, dtype=np.int64)
    raise AssertionError(kind)


def _split(n: int, size: int) -> tuple[int, ...]:
    # n in pieces of ``size``, the last one shorter.
    return (size,) * (n // size) + ((n % size,) if n % size else ())


def _lazy(
    kind: str,
    shape: tuple[int, ...],
    rows: int,
    seed: int,
    columns: int,
    column_chunks: int = 1,
) -> Any:
    import dask.array as da

    dtype = np.int64 if kind == "classes" else np.float32
    chunks = (_split(shape[0], rows),)
    if len(shape) == 2:  # the columns (classes) in ``column_chunks`` chunks
        chunks += (_split(shape[1], -(-shape[1] // column_chunks)),)
    return da.map_blocks(
        _block,
        kind,
        seed,
        columns,
        chunks=chunks,
        dtype=dtype,
        meta=np.empty((0,) * len(shape), dtype=dtype),
    )


def _workload(
    loss: str,
    elements: int,
    classes: int,
    rows_per_chunk: int,
    seed: int,
    class_chunks: int = 1,
) -> tuple[Any, int]:
    """The lazy loss (reduction 'mean') and the bytes of the inputs it generates."""
    import arrayloss as al

    n = elements // classes
    k = class_chunks
    if loss == "binary_cross_entropy_with_logits":
        x = _lazy("logits", (n, classes), rows_per_chunk, seed, classes, k)
        t = _lazy("binary", (n, classes), rows_per_chunk, seed, classes, k)
        return al.binary_cross_entropy_with_logits(x, t), 2 * 4 * n * classes
    if loss == "cross_entropy":
        x = _lazy("logits", (n, classes), rows_per_chunk, seed, classes, k)
        t = _lazy("classes", (n,), rows_per_chunk, seed, classes)
        return al.cross_entropy(x, t), 4 * n * classes + 8 * n
    raise ValueError(f"unknown loss {loss!r}; choose from {', '.join(LOSSES)}")


# --- memory ---------------------------------------------------------------------------------


def _max_rss() -> int:
    # ru_maxrss: KiB on Linux, bytes on macOS.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024


def _current_rss() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # not Linux: the lifetime peak is the best there is
        return _max_rss()


def _reset_high_water_mark() -> bool:
    # Linux: writing 5 to clear_refs resets the kernel's peak RSS mark (VmHWM), so that
    # each loss gets its own peak (ru_maxrss is the process's lifetime peak).
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def _high_water_mark() -> int | None:
    # The kernel's peak RSS since the last reset (VmHWM), exact; None where unknown.
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


@contextmanager
def _rss_sampler(interval: float = 0.02) -> Iterator[Callable[[], int]]:
    """A thread sampling the current RSS; yields a function giving the largest seen."""
    peak = [_current_rss()]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(interval):
            peak[0] = max(peak[0], _current_rss())

    thread = threading.Thread(target=sample, name="rss-sampler", daemon=True)
    thread.start()
    try:
        yield lambda: peak[0]
    finally:
        stop.set()
        thread.join()
        peak[0] = max(peak[0], _current_rss())


def _total_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


# --- the run --------------------------------------------------------------------------------


def run(
    elements: int = DEFAULT_ELEMENTS,
    budget: int = 2 * 2**30,
    workers: int | None = None,
    classes: int = 1000,
    losses: tuple[str, ...] = LOSSES,
    seed: int = 0,
    max_chunk: int = MAX_CHUNK,
    class_chunks: int = 1,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Compute each loss over ``elements`` lazily generated elements; the results."""
    import dask

    workers = workers or min(os.cpu_count() or 1, 4)
    chunk_columns = -(-classes // class_chunks)
    rows = chunk_rows(budget, workers, chunk_columns, max_chunk=max_chunk)
    chunk_bytes = rows * chunk_columns * 4
    results = []
    for loss in losses:
        lazy, input_bytes = _workload(loss, elements, classes, rows, seed, class_chunks)
        n_chunks = -(-(elements // classes) // rows) * -(-classes // chunk_columns)
        if progress:
            progress(f"{loss}: {elements:.3g} elements in {n_chunks} chunks ...")
        rss_before = _current_rss()
        reset = _reset_high_water_mark()
        start = time.perf_counter()
        with _rss_sampler() as sampled_peak, np.errstate(all="ignore"):
            value = lazy.compute(scheduler="threads", num_workers=workers)
        wall = time.perf_counter() - start
        peak_sampled = sampled_peak()
        max_rss = _max_rss()
        hwm = _high_water_mark() if reset else None
        # The peak of this loss: the kernel's mark where it could be reset (read after
        # ru_maxrss, it is the later and larger reading), else the larger of the
        # sampler's and the lifetime peak (an upper bound).
        peak = max(hwm, peak_sampled) if hwm is not None else max(peak_sampled, max_rss)
        n_elements = elements // classes * classes
        results.append(
            {
                "loss": loss,
                "elements": n_elements,
                "input_bytes": input_bytes,
                "chunks": n_chunks,
                "value": float(value),
                "wall_s": wall,
                "elements_per_s": n_elements / wall,
                "gb_per_s": input_bytes / wall / 1e9,
                "rss_before_bytes": rss_before,
                "peak_rss_bytes": peak,
                "peak_rss_hwm_bytes": hwm,
                "peak_rss_sampled_bytes": peak_sampled,
                "max_rss_bytes": max_rss,
                "within_budget": peak <= budget,
            }
        )
        if progress:
            progress(
                f"  {wall:.1f} s, {n_elements / wall / 1e6:.1f} M elements/s, peak RSS "
                f"{_format_bytes(peak)} (budget {_format_bytes(budget)})"
            )
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "cpu": _cpu_name(),
            "cpu_count": os.cpu_count(),
            "memory_bytes": _total_memory(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "dask": dask.__version__,
        },
        "elements": elements,
        "budget_bytes": budget,
        "workers": workers,
        "classes": classes,
        "working_set": WORKING_SET,
        "max_chunk_bytes": max_chunk,
        "chunk_rows": rows,
        "chunk_columns": chunk_columns,
        "chunk_bytes": chunk_bytes,
        "results": results,
    }


def markdown(data: dict[str, Any]) -> str:
    machine = data["machine"]
    memory = machine["memory_bytes"]
    lines = [
        "# Out-of-core losses with Dask",
        "",
        f"{data['date']}; {machine['cpu']}, {machine['cpu_count']} CPUs"
        + (f", {_format_bytes(memory)} RAM" if memory else "")
        + f"; Python {machine['python']}, NumPy {machine['numpy']}, Dask {machine['dask']}.",
        "",
        f"Budget {_format_bytes(data['budget_bytes'])}, {data['workers']} worker threads, "
        f"chunks of {data['chunk_rows']:,} rows x {data['chunk_columns']} of "
        f"{data['classes']} columns "
        f"({_format_bytes(data['chunk_bytes'])} of float32 input), inputs generated per chunk.",
        "",
        "| loss | elements | input bytes | chunks | wall (s) | elements/s | GB/s "
        "| RSS before | peak RSS | peak RSS (sampled) | ru_maxrss | within budget |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in data["results"]:
        lines.append(
            f"| {r['loss']} | {r['elements']:.3g} | {_format_bytes(r['input_bytes'])} "
            f"| {r['chunks']} | {r['wall_s']:.1f} | {r['elements_per_s'] / 1e6:.1f} M "
            f"| {r['gb_per_s']:.2f} | {_format_bytes(r['rss_before_bytes'])} "
            f"| {_format_bytes(r['peak_rss_bytes'])} "
            f"| {_format_bytes(r['peak_rss_sampled_bytes'])} "
            f"| {_format_bytes(r['max_rss_bytes'])} | {'yes' if r['within_budget'] else 'NO'} |"
        )
    return "\n".join(lines) + "\n"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.out_of_core",
        description="Losses over Dask arrays larger than a memory budget: throughput and "
        "peak resident memory.",
    )
    p.add_argument(
        "--elements",
        type=float,
        help=f"float32 elements per input (default {DEFAULT_ELEMENTS:.0e}; quick "
        f"{QUICK_ELEMENTS:.0e})",
    )
    p.add_argument(
        "--budget",
        type=parse_bytes,
        help=f"memory budget, e.g. 2GiB or 500MB (default 2GiB; quick {QUICK_BUDGET})",
    )
    p.add_argument("--workers", type=int, help="Dask worker threads (default: CPUs, at most 4)")
    p.add_argument("--classes", type=int, default=1000, help="columns / classes (default 1000)")
    p.add_argument(
        "--class-chunks",
        type=int,
        default=1,
        help="chunks along the class (column) axis (default 1: chunks of whole rows)",
    )
    p.add_argument("--loss", action="append", choices=LOSSES, help="only this loss (repeatable)")
    p.add_argument("--seed", type=int, default=0, help="seed of the generated inputs")
    p.add_argument(
        "--max-chunk",
        type=parse_bytes,
        default=MAX_CHUNK,
        help="the largest chunk of float32 input, whatever the budget (default 32MiB)",
    )
    p.add_argument("--quick", action="store_true", help="a small run (seconds), for the tests")
    p.add_argument(
        "--out", default="benchmarks/results/out_of_core", help="where to write JSON and Markdown"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    elements = int(args.elements or (QUICK_ELEMENTS if args.quick else DEFAULT_ELEMENTS))
    budget = args.budget or parse_bytes(QUICK_BUDGET if args.quick else "2GiB")
    if elements < args.classes:
        raise SystemExit(f"--elements ({elements}) must be at least --classes ({args.classes})")
    data = run(
        elements=elements,
        budget=budget,
        workers=args.workers,
        classes=args.classes,
        losses=tuple(args.loss or LOSSES),
        seed=args.seed,
        max_chunk=args.max_chunk,
        class_chunks=args.class_chunks,
        progress=lambda line: print(line, file=sys.stderr, flush=True),
    )
    data["quick"] = bool(args.quick)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "out_of_core.json").write_text(json.dumps(data, indent=2) + "\n")
    text = markdown(data)
    (out / "out_of_core.md").write_text(text)
    print(text)
    return 0 if all(r["within_budget"] for r in data["results"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
