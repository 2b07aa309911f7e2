"""Peak memory of linear_cross_entropy (fused, chunked) against the unfused
``cross_entropy(x @ W.T, t)``, float32, forward and forward+backward.

    python -m benchmarks.linear_ce                        # N=8192, V=128000, D=256 + N=1024
    python -m benchmarks.linear_ce --n 8192 --vocab 128000 --hidden 256 --contender arrayloss-torch

Each (size, contender, mode) runs in a fresh interpreter with glibc's mmap threshold fixed
(as benchmarks/memory.py: every large block is mmapped and returned on free, so the
resident set follows the live allocations). The inputs are made first; then the peak-RSS
mark is reset and one call runs (JAX: after a warm-up call that compiles); the extra
memory is the peak minus the resident set before the call. Forward+backward counts the
gradients of ``input`` and ``linear_weight`` (N x D + V x D floats).

A contender whose estimated peak exceeds 70% of the memory available is skipped with the
estimate (the unfused forms need 2 to 4 (N, V) float32 arrays: 8 to 17 GB at N = 8192,
V = 128,000), so the run never drives a shared machine into the OOM killer; a smaller
batch (N = 1024 by default) is then measured in the same run, where every contender
fits, for same-run ratios. Results: benchmarks/results/linear_ce/linear_ce.json and .md
(``--name`` changes the stem).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "linear_ce"

#: name -> (description, (N, V) float32 arrays alive at the forward peak, at fwd+bwd).
CONTENDERS: dict[str, tuple[str, float, float]] = {
    "torch-unfused": ("torch.nn.functional.cross_entropy(x @ W.T, t)", 2.0, 4.0),
    "torch-fused": (
        "torch.nn.functional.linear_cross_entropy(..., options=LinearCrossEntropyOptions())",
        0.5,
        1.0,
    ),
    "arrayloss-torch": ("arrayloss.linear_cross_entropy on torch", 0.1, 1.1),
    "numpy-unfused": ("arrayloss.cross_entropy(x @ W.T, t) on NumPy (forward only)", 3.0, 0.0),
    "arrayloss-numpy": ("arrayloss.linear_cross_entropy on NumPy (forward only)", 0.1, 0.0),
    "jax-unfused": ("arrayloss.cross_entropy(x @ W.T, t), jax.jit", 2.0, 4.0),
    "arrayloss-jax": ("arrayloss.linear_cross_entropy, jax.jit", 0.1, 1.5),
}
NO_BACKWARD = {"numpy-unfused", "arrayloss-numpy"}

_CHILD = r"""
import gc, json, re, sys
import numpy as np
contender, mode, n, v, d = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6])

def kib(field):
    with open("/proc/self/status") as f:
        return int(re.search(rf"^{field}:\s+(\d+) kB", f.read(), re.M).group(1))

rng = np.random.default_rng(0)
x = rng.standard_normal((n, d), dtype=np.float32)
w = (rng.standard_normal((v, d), dtype=np.float32) / np.sqrt(d)).astype(np.float32)
t = rng.integers(0, v, size=n)
import arrayloss
backward = mode == "forward+backward"
if contender.startswith("torch") or contender == "arrayloss-torch":
    import torch, torch.nn.functional as F
    torch.set_num_threads(2)
    x, w, t = torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(t)
    x.requires_grad_(backward); w.requires_grad_(backward)
    if contender == "torch-unfused":
        f = lambda: F.cross_entropy(x @ w.T, t)
    elif contender == "torch-fused":
        opts = torch.nn.LinearCrossEntropyOptions()
        f = lambda: F.linear_cross_entropy(x, w, t, options=opts)
    else:
        f = lambda: arrayloss.linear_cross_entropy(x, w, t)
    def run():
        loss = f()
        if backward:
            loss.backward()
        return float(loss)
    warm = False
elif contender in ("numpy-unfused", "arrayloss-numpy"):
    if contender == "numpy-unfused":
        run = lambda: float(arrayloss.cross_entropy(x @ w.T, t))
    else:
        run = lambda: float(arrayloss.linear_cross_entropy(x, w, t))
    warm = False
else:
    import jax, jax.numpy as jnp
    x, w, t = jnp.asarray(x), jnp.asarray(w), jnp.asarray(t)
    if contender == "jax-unfused":
        loss = lambda a, b: arrayloss.cross_entropy(a @ b.T, t)
    else:
        loss = lambda a, b: arrayloss.linear_cross_entropy(a, b, t)
    g = jax.jit(jax.value_and_grad(loss, argnums=(0, 1)) if backward else loss)
    def run():
        out = g(x, w)
        jax.block_until_ready(out)
        return float(out[0] if backward else out)
    warm = True
if warm:
    run()
gc.collect()
with open("/proc/self/clear_refs", "w") as refs:
    refs.write("5")
before = kib("VmRSS")
import time
start = time.perf_counter()
value = run()
seconds = time.perf_counter() - start
peak = kib("VmHWM")
print(json.dumps({"extra_bytes": max(0, peak - before) * 1024, "loss": value, "seconds": seconds}))
"""


def _available_bytes() -> int:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


def measure(contender: str, mode: str, n: int, v: int, d: int, timeout: int) -> dict[str, Any]:
    """One measurement in a fresh interpreter, or why it was skipped."""
    _, fwd, bwd = CONTENDERS[contender]
    logits = n * v * 4
    estimate = (fwd if mode == "forward" else bwd) * logits
    available = _available_bytes()
    if estimate > 0.7 * available:
        return {
            "skipped": f"needs ~{estimate / 2**30:.1f} GiB ({fwd if mode == 'forward' else bwd:g}"
            f" x the {logits / 2**30:.2f} GiB of (N, V) float32 logits); "
            f"{available / 2**30:.1f} GiB available"
        }
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536", MALLOC_TRIM_THRESHOLD_="0")
    src = ROOT / "src"
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(src), str(ROOT), env.get("PYTHONPATH")) if p
    )
    cmd = [sys.executable, "-c", _CHILD, contender, mode, str(n), str(v), str(d)]
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"over {timeout} s"}
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["?"])[-1][:300]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["logits_multiple"] = result["extra_bytes"] / logits
    return result


def _markdown(data: dict[str, Any]) -> str:
    lines = [
        "# linear_cross_entropy memory",
        "",
        f"Run {data['meta']['date']} ({data['meta']['seconds']:.0f} s): `python -m "
        "benchmarks.linear_ce`. float32, class-index targets, reduction 'mean'. Extra peak "
        "resident memory of one call; 'x logits' is that over the bytes of the (N, V) "
        "float32 logits; 'vs unfused' is the unfused form of the same library, same size, "
        "same run.",
        "",
    ]
    for size in data["sizes"]:
        n, v, d = size["n"], size["vocab"], size["hidden"]
        lines += [
            f"## N = {n}, V = {v}, D = {d} (logits {n * v * 4 / 2**30:.2f} GiB)",
            "",
            "| contender | mode | extra peak | x logits | vs unfused | time |",
            "|---|---|---|---|---|---|",
        ]
        for row in size["rows"]:
            r = row["result"]
            if "extra_bytes" not in r:
                why = r.get("skipped") or r.get("error")
                lines.append(f"| {row['contender']} | {row['mode']} | {why} | | | |")
                continue
            ref = row.get("unfused_bytes")
            ratio = f"{r['extra_bytes'] / ref:.3f}" if ref else ""
            lines.append(
                f"| {row['contender']} | {row['mode']} | {r['extra_bytes'] / 2**20:,.0f} MiB "
                f"| {r['logits_multiple']:.3f} | {ratio} | {r['seconds']:.1f} s |"
            )
        lines.append("")
    return "\n".join(lines)


UNFUSED = {
    "torch-fused": "torch-unfused",
    "arrayloss-torch": "torch-unfused",
    "arrayloss-numpy": "numpy-unfused",
    "arrayloss-jax": "jax-unfused",
}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, action="append", help="batch sizes (8192, 1024)")
    parser.add_argument("--vocab", type=int, default=128_000)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--contender", action="append", choices=list(CONTENDERS))
    parser.add_argument("--timeout", type=int, default=300, help="seconds per measurement")
    parser.add_argument(
        "--jax-max-n",
        type=int,
        default=1024,
        help="JAX contenders only up to this N: a traced loop is unrolled, and compiling "
        "the 256 blocks of N = 8192 takes minutes on 2 cores",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--name", default="linear_ce", help="the result files' stem")
    args = parser.parse_args(argv)
    sizes = args.n or [8192, 1024]
    # torch-fused (PyTorch's own chunked path) is opt-in: on this CPU it took 13 s for
    # forward+backward at N = 256, V = 20,000 (its "accurate" policy), minutes here.
    contenders = args.contender or [c for c in CONTENDERS if c != "torch-fused"]
    start = time.time()
    data: dict[str, Any] = {"meta": {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}}
    data["sizes"] = []
    for n in sizes:
        rows = []
        for contender in contenders:
            for mode in ("forward", "forward+backward"):
                if mode != "forward" and contender in NO_BACKWARD:
                    continue
                if "jax" in contender and n > args.jax_max_n:
                    continue
                result = measure(contender, mode, n, args.vocab, args.hidden, args.timeout)
                row = {"contender": contender, "mode": mode, "result": result}
                rows.append(row)
                print(json.dumps({"n": n, **row}), flush=True)
        by_key = {(r["contender"], r["mode"]): r["result"] for r in rows}
        for row in rows:
            ref = by_key.get((UNFUSED.get(row["contender"], ""), row["mode"]), {})
            if "extra_bytes" in ref:
                row["unfused_bytes"] = ref["extra_bytes"]
        data["sizes"].append({"n": n, "vocab": args.vocab, "hidden": args.hidden, "rows": rows})
    data["meta"]["seconds"] = time.time() - start
    data["meta"]["contenders"] = {k: CONTENDERS[k][0] for k in contenders}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{args.name}.json").write_text(json.dumps(data, indent=1) + "\n")
    (args.out / f"{args.name}.md").write_text(_markdown(data))
    return data


if __name__ == "__main__":
    main()
