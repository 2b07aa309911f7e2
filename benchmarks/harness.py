"""Contenders and the timer: interleaved rounds, medians, noise.

A *contender* turns a workload's NumPy arguments into a zero-argument callable that runs
one call to completion (JAX results are blocked on). Every contender of a cell (one loss,
one size, one mode) is warmed up and calibrated first; then each round runs a batch of
calls of every contender, in an order that rotates from round to round, so that a change
of machine load hits all contenders alike. The reported time of a contender is the
median over rounds of the per-call time of its batch; its noise is the interquartile
range over the median.
"""

from __future__ import annotations

import importlib
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .workloads import Case, Workload

__all__ = [
    "CONTENDERS",
    "MODES",
    "Contender",
    "Timing",
    "available",
    "build_runner",
    "time_cell",
]

MODES = ("forward", "backward")  # backward: forward + backward (gradient of the first input)
BASELINE = "torch"
Runner = Callable[[], Any]


@dataclass(frozen=True)
class Contender:
    """One way of computing a loss.

    ``backend`` is what ``--backend`` selects on; ``threads`` the torch intra-op thread
    count set before each of its batches (torch's own default on this machine is 2).
    """

    name: str
    backend: str
    description: str
    threads: int = 2


CONTENDERS = (
    Contender("torch", "torch", "torch.nn.functional on torch tensors, 2 threads (baseline)"),
    Contender("torch-1t", "torch", "torch.nn.functional on torch tensors, 1 thread", threads=1),
    Contender("arrayloss-torch", "torch", "arrayloss on torch tensors (autograd), 2 threads"),
    Contender(
        "arrayloss-torch-1t", "torch", "arrayloss on torch tensors (autograd), 1 thread", threads=1
    ),
    Contender(
        "arrayloss-torch-generic",
        "torch",
        "arrayloss on torch tensors, 2 threads, fast paths off (the generic definition)",
    ),
    Contender("arrayloss-numpy", "numpy", "arrayloss on NumPy arrays (forward only)"),
    Contender("arrayloss-jax", "jax", "arrayloss on JAX arrays, called eagerly (jax.grad)"),
    Contender(
        "arrayloss-jax-generic",
        "jax",
        "arrayloss on JAX arrays, called eagerly, fast paths off (no auto-jit)",
    ),
    Contender("arrayloss-jax-jit", "jax", "arrayloss on JAX arrays under jax.jit"),
    Contender("optax-jit", "optax", "the optax equivalent under jax.jit, where one exists"),
    Contender("keras", "keras", "the Keras 3 equivalent (forward only), where one exists"),
    Contender("numpy-hand", "numpy", "the loss written by hand in NumPy (forward only)"),
    Contender("floor", "floor", "memory-bandwidth floor: torch sum over the inputs' bytes"),
)
CONTENDER_NAMES = tuple(c.name for c in CONTENDERS)
# Contenders without a compilation step on their first call.
NO_COMPILE = frozenset(
    {
        "torch",
        "torch-1t",
        "arrayloss-torch",
        "arrayloss-torch-1t",
        "arrayloss-torch-generic",
        "arrayloss-numpy",
        "numpy-hand",
        "floor",
    }
)


def available(module: str) -> bool:
    """Whether ``module`` imports (optional contenders skip with a note when not)."""
    try:
        importlib.import_module(module)
    except Exception:
        return False
    return True


# ---------------------------------------------------------------- conversions
def _torch_args(case: Case) -> list[Any]:
    import torch

    return [torch.from_numpy(a) for a in case.args]


def _jax_args(case: Case) -> list[Any]:
    import jax.numpy as jnp

    # JAX's default integer is int32 (x64 off).
    out = [jnp.asarray(a.astype(np.int32) if a.dtype.kind == "i" else a) for a in case.args]
    for a in out:
        a.block_until_ready()
    return out


def _torch_call(
    fn: Callable[..., Any], args: list[Any], kwargs: dict[str, Any], mode: str
) -> Runner:
    import torch

    if mode == "forward":
        return lambda: fn(*args, **kwargs)
    x = args[0].clone().requires_grad_(True)
    rest = args[1:]
    return lambda: torch.autograd.grad(fn(x, *rest, **kwargs), x)


def _jax_call(fn: Callable[..., Any], args: list[Any], mode: str, jit: bool) -> Runner:
    import jax

    f = fn if mode == "forward" else jax.grad(fn)
    if jit:
        f = jax.jit(f)
    return lambda: jax.block_until_ready(f(*args))


def _generic(run: Runner) -> Runner:
    # The same call with arrayloss's fast paths off: the generic definition, measured in
    # the same cells as the fast paths, so that each fast path's gain is a ratio of one run
    # (the switch itself costs well under a microsecond).
    import arrayloss

    def generic() -> Any:
        with arrayloss.fast_paths(False):
            return run()

    return generic


def build_runner(contender: str, workload: Workload, case: Case, mode: str) -> Runner | None:
    """A callable running one call of ``contender``, or None where it does not apply."""
    kwargs = case.kwargs
    if contender in ("torch", "torch-1t"):
        import torch.nn.functional as F

        return _torch_call(getattr(F, workload.name), _torch_args(case), kwargs, mode)
    if contender in ("arrayloss-torch", "arrayloss-torch-1t"):
        import arrayloss

        return _torch_call(getattr(arrayloss, workload.name), _torch_args(case), kwargs, mode)
    if contender == "arrayloss-torch-generic":
        import arrayloss

        fn = getattr(arrayloss, workload.name)
        return _generic(_torch_call(fn, _torch_args(case), kwargs, mode))
    if contender == "arrayloss-jax-generic":
        import arrayloss

        loss = getattr(arrayloss, workload.name)
        return _generic(_jax_call(lambda *a: loss(*a, **kwargs), _jax_args(case), mode, False))
    if contender == "arrayloss-numpy":
        import arrayloss

        if mode != "forward":
            return None
        fn = getattr(arrayloss, workload.name)
        args = list(case.args)
        return lambda: fn(*args, **kwargs)
    if contender in ("arrayloss-jax", "arrayloss-jax-jit"):
        import arrayloss

        loss = getattr(arrayloss, workload.name)
        return _jax_call(
            lambda *a: loss(*a, **kwargs), _jax_args(case), mode, contender.endswith("jit")
        )
    if contender == "optax-jit":
        if workload.optax is None:
            return None
        return _jax_call(workload.optax, _jax_args(case), mode, jit=True)
    if contender == "keras":
        if workload.keras is None or mode != "forward":
            return None
        import keras

        kfn = workload.keras
        kargs = [keras.ops.convert_to_tensor(a) for a in case.args]
        return lambda: keras.ops.convert_to_numpy(kfn(keras, *kargs))
    if contender == "numpy-hand":
        if workload.numpy is None or mode != "forward":
            return None
        ref = workload.numpy
        args = list(case.args)
        return lambda: ref(*args)
    if contender == "floor":
        if mode != "forward":
            return None
        tensors = [t for t in _torch_args(case) if t.is_floating_point()]
        return lambda: [t.sum() for t in tensors]
    raise ValueError(f"unknown contender {contender!r}")


# ---------------------------------------------------------------- timing
@dataclass
class Timing:
    """The per-call times of one contender in one cell, one sample per round."""

    samples: list[float]
    reps: int

    @property
    def median(self) -> float:
        return float(np.median(self.samples))

    @property
    def noise(self) -> float:
        """Interquartile range over the median (0 with fewer than 2 rounds)."""
        if len(self.samples) < 2:
            return 0.0
        q1, q3 = np.percentile(self.samples, [25, 75])
        return float((q3 - q1) / np.median(self.samples))


def _set_threads(n: int) -> bool:
    """Set torch's intra-op thread count; True when it changed.

    The first call after a change pays for waking or parking the pool's threads
    (about 1 ms here), so the timer runs one untimed call after each change.
    """
    import torch

    if torch.get_num_threads() == n:
        return False
    torch.set_num_threads(n)
    return True


def _batch(run: Runner, reps: int) -> float:
    t0 = time.perf_counter()
    for _ in range(reps):
        run()
    return (time.perf_counter() - t0) / reps


def time_cell(
    runners: dict[str, tuple[Runner, int]],
    rounds: int,
    batch_s: float = 0.005,
    budget_s: float = 30.0,
) -> tuple[dict[str, Timing], dict[str, str]]:
    """Time every runner of one cell, interleaved round-robin.

    ``runners`` maps a contender name to (callable, torch threads). Each is warmed up
    (compilation, caches) and calibrated to a batch of at least ``batch_s`` seconds.
    When the calls are slow, the number of rounds drops (to no fewer than 3) so that a
    cell takes about ``budget_s`` at most. Returns the timings and, for a contender
    that raised, the error instead.
    """
    errors: dict[str, str] = {}
    reps: dict[str, int] = {}
    per_call: dict[str, float] = {}
    samples: dict[str, list[float]] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, (run, threads) in runners.items():
            try:
                _set_threads(threads)
                warm = _batch(run, 1)  # compile / warm caches
                # Nothing to compile: a slow first call is calibration enough.
                t = warm if name in NO_COMPILE and warm > 0.2 else _batch(run, 1)
                spent = t
                while spent < 2 * batch_s and spent < 0.05:  # calibrate on the fastest call
                    t1 = _batch(run, 1)
                    t, spent = min(t, t1), spent + t1
            except Exception as exc:
                errors[name] = f"{type(exc).__name__}: {exc}"[:300]
                continue
            per_call[name] = t
            reps[name] = max(1, min(10_000, int(np.ceil(batch_s / max(t, 1e-9)))))
            # A slow call is its own batch: the calibration call is the first sample.
            samples[name] = [t] if reps[name] == 1 else []
        live = [n for n in runners if n in reps]
        one_round = sum(per_call[n] * reps[n] for n in live)
        rounds = max(1, rounds)
        if one_round * rounds > budget_s:
            rounds = max(min(3, rounds), int(budget_s / max(one_round, 1e-9)))
        for r in range(rounds):
            k = r % max(1, len(live))
            for name in live[k:] + live[:k]:
                if len(samples[name]) > r:
                    continue
                run, threads = runners[name]
                if _set_threads(threads) and per_call[name] < 0.05:
                    run()
                samples[name].append(_batch(run, reps[name]))
        _set_threads(2)
    return {n: Timing(samples[n], reps[n]) for n in live}, errors
