"""Benchmark ``arrayloss.ctc_loss`` against ``torch.nn.functional.ctc_loss`` (CPU).

Run with ``python -m benchmarks.ctc`` (or ``python benchmarks/ctc.py``) from the
repository root. Reports the median time of the forward pass and of forward + backward
on PyTorch tensors (arrayloss through autograd vs PyTorch's native kernel), NumPy
(forward only) and JAX under ``jax.jit`` (forward, and ``jax.grad``), all measured in
the same run, and each one's ratio to PyTorch's native time for the same pass.
Shapes default to T=200, N=32, C=50, S=30 (``--help`` for options).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def median_seconds(fn: Callable[[], Any], repeat: int, warmup: int = 2) -> float:
    """The median wall time of ``fn()`` over ``repeat`` calls, after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def make_data(
    n_time: int, batch: int, n_classes: int, n_labels: int, seed: int = 0
) -> dict[str, np.ndarray]:
    """Normalized log-probabilities, padded targets in [1, C) and lengths that fit."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n_time, batch, n_classes))
    log_probs = logits - np.log(np.sum(np.exp(logits), axis=2, keepdims=True))
    targets = rng.integers(1, n_classes, size=(batch, n_labels))
    input_lengths = rng.integers(n_time // 2, n_time + 1, size=batch)
    input_lengths[0] = n_time
    target_lengths = rng.integers(n_labels // 2, n_labels + 1, size=batch)
    target_lengths[0] = n_labels
    return {
        "log_probs": log_probs,
        "targets": targets,
        "input_lengths": input_lengths,
        "target_lengths": target_lengths,
    }


def run(args: argparse.Namespace) -> list[tuple[str, str, float, float]]:
    """Rows of (backend, pass, median seconds, ratio to PyTorch's native time)."""
    import torch
    import torch.nn.functional as F

    import arrayloss

    torch.set_num_threads(args.threads)
    data = make_data(args.T, args.N, args.C, args.S)
    dtype = args.dtype
    lp = data["log_probs"].astype(dtype)
    tg, il, tl = data["targets"], data["input_lengths"], data["target_lengths"]
    t_lp, t_tg = torch.tensor(lp), torch.tensor(tg)
    t_il, t_tl = torch.tensor(il), torch.tensor(tl)
    rows: list[tuple[str, str, float, float]] = []

    def torch_forward(fn: Callable[..., Any]) -> Callable[[], Any]:
        def call() -> Any:
            with torch.no_grad():
                return fn(t_lp, t_tg, t_il, t_tl)

        return call

    def torch_backward(fn: Callable[..., Any]) -> Callable[[], Any]:
        def call() -> Any:
            x = t_lp.detach().requires_grad_(True)
            fn(x, t_tg, t_il, t_tl).backward()
            return x.grad

        return call

    native = {
        "forward": median_seconds(torch_forward(F.ctc_loss), args.repeat),
        "forward+backward": median_seconds(torch_backward(F.ctc_loss), args.repeat),
    }
    for name, seconds in native.items():
        rows.append(("torch native (F.ctc_loss)", name, seconds, 1.0))
    for name, make in (("forward", torch_forward), ("forward+backward", torch_backward)):
        seconds = median_seconds(make(arrayloss.ctc_loss), args.repeat)
        rows.append(("arrayloss on torch", name, seconds, seconds / native[name]))

    seconds = median_seconds(lambda: arrayloss.ctc_loss(lp, tg, il, tl), args.repeat)
    rows.append(("arrayloss on numpy", "forward", seconds, seconds / native["forward"]))

    try:
        import jax
        import jax.numpy as jnp
    except ImportError:  # pragma: no cover - optional
        return rows
    jax.config.update("jax_enable_x64", True)
    j_args = [jnp.asarray(a) for a in (lp, tg, il, tl)]
    forward = jax.jit(arrayloss.ctc_loss)
    grad = jax.jit(jax.grad(arrayloss.ctc_loss))
    for name, fn in (("forward", forward), ("forward+backward", grad)):
        started = time.perf_counter()
        fn(*j_args).block_until_ready()
        compile_seconds = time.perf_counter() - started
        seconds = median_seconds(lambda fn=fn: fn(*j_args).block_until_ready(), args.repeat)
        label = f"arrayloss on jax-jit (compile {compile_seconds:.2f} s)"
        rows.append((label, name, seconds, seconds / native[name]))
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-T", type=int, default=200)
    parser.add_argument("-N", type=int, default=32)
    parser.add_argument("-C", type=int, default=50)
    parser.add_argument("-S", type=int, default=30)
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    args = parser.parse_args(argv)
    print(
        f"ctc_loss, T={args.T} N={args.N} C={args.C} S={args.S}, {args.dtype}, "
        f"median of {args.repeat}, torch threads {args.threads}"
    )
    print(f"{'backend':<44} {'pass':<17} {'median':>10} {'vs torch':>9}")
    for backend, name, seconds, ratio in run(args):
        print(f"{backend:<44} {name:<17} {seconds * 1e3:>8.2f}ms {ratio:>8.1f}x")


if __name__ == "__main__":
    main()
