"""Reliability (issue 6): no loss writes into its arguments; the losses are safe to call
from many threads at once and give bit-identical results run to run; float16 and
bfloat16 never overflow where PyTorch does not; ``torch.autocast`` as in PyTorch.

The cases are the conformance suite's (``conformance.cases``), a few per loss chosen to
cover its options (weights, ``pos_weight``, ``ignore_index``, -1 padding, CTC lengths,
the reductions); expected values come from PyTorch on the same data or from the
single-threaded / first run of the same call.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

import arrayloss
from conformance.backends import Backend, backend_by_name
from conformance.cases import LOSSES, Case, cases_for
from conformance.runner import quiet_legacy_warnings
from tests.helpers import RTOL

torch = pytest.importorskip("torch")

LOSS_NAMES = tuple(LOSSES)
#: The CPU backends: every test here runs on each that is installed.
CPU_BACKENDS = ("numpy", "torch", "jax", "array-api-strict", "dask")


def _backend_param(name: str) -> Any:
    backend = backend_by_name(name)
    reason = backend.skip_reason()
    marks = [pytest.mark.skip(reason=f"{name}: {reason}")] if reason else []
    return pytest.param(backend, id=name, marks=marks)


#: The no-mutation test also runs on the GPU backends that can write in place (they
#: skip, with their reason, on a machine without a GPU).
MUTATION_BACKEND_PARAMS = [_backend_param(n) for n in (*CPU_BACKENDS, "torch-cuda", "cupy")]


# --- the cases ---------------------------------------------------------------------------


def _features(case: Case) -> set[str]:
    """What a case exercises: its arguments, the kinds of their values, its options."""
    features = set(case.args) | {f"kind:{arg.kind}" for arg in case.args.values()}
    features |= {f"{k}={v!r}" for k, v in case.kwargs.items()}
    features.add(f"reduction={case.kwargs.get('reduction', 'mean')!r}")
    return features


@functools.cache
def _cases(loss: str, k: int) -> tuple[Case, ...]:
    """Up to ``k`` conformance cases of ``loss`` that together cover the most options
    (a greedy cover of :func:`_features`): no error cases, no legacy options, no empty
    arrays (an empty array cannot show a write)."""
    pool = [
        c
        for c in cases_for(loss)
        if not c.name.startswith("error")
        and not c.value_check
        and "size_average" not in c.kwargs
        and all(int(np.prod(arg.shape)) > 0 for arg in c.args.values())
    ]
    chosen: list[Case] = []
    seen: set[str] = set()
    while pool and len(chosen) < k:
        best = max(pool, key=lambda c: (len(_features(c) - seen), c.name))
        if not _features(best) - seen:
            break
        chosen.append(best)
        seen |= _features(best)
        pool.remove(best)
    return tuple(chosen)


def _is_index(a: np.ndarray) -> bool:
    return a.dtype.kind in "iu"


def _make_args(backend: Backend, case: Case, dtype: str) -> dict[str, Any]:
    return {
        name: backend.asarray(a, "int64" if _is_index(a) else dtype)
        for name, a in case.arrays().items()
    }


def _split(case: Case, args: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    """The loss's positional arrays in order, and the rest (arrays and options) by keyword."""
    names = LOSSES[case.loss].positional
    positional = [args[n] for n in names if n in args]
    keywords = {k: v for k, v in args.items() if k not in names}
    return positional, {**keywords, **case.kwargs}


def _call(case: Case, args: dict[str, Any]) -> Any:
    positional, keywords = _split(case, args)
    return getattr(arrayloss, case.loss)(*positional, **keywords)


def _bits(a: np.ndarray) -> tuple[str, tuple[int, ...], bytes]:
    """Everything that bit-identical means: dtype, shape and the bytes."""
    a = np.ascontiguousarray(a)
    return str(a.dtype), a.shape, a.tobytes()


def _snapshot(backend: Backend, x: Any) -> tuple[str, tuple[int, ...], bytes]:
    if backend.lazy:  # a Dask argument: its values, computed (outside any loss)
        return _bits(backend.to_numpy(x))
    return _bits(np.array(backend.to_numpy(x), copy=True))


# --- no mutation -------------------------------------------------------------------------


def _check_no_mutation(backend: Backend, case: Case, fn: Callable[..., Any]) -> None:
    """Every array argument of ``fn`` (a loss) byte-identical after the call (and after
    the result is computed, on Dask); on torch no argument's version counter moved (any
    in-place operation bumps it), also with ``requires_grad`` and a backward pass."""
    args = _make_args(backend, case, "float64")
    before = {name: _snapshot(backend, x) for name, x in args.items()}
    torch_like = backend.module == "torch"
    versions = {n: x._version for n, x in args.items()} if torch_like else {}
    positional, keywords = _split(case, args)
    with quiet_legacy_warnings():
        result = backend.call(fn, *positional, **keywords)
    backend.to_numpy(result)  # Dask: run the graph, where a write would happen
    for name, x in args.items():
        assert _snapshot(backend, x) == before[name], f"{case.id}: `{name}` was modified"
        if versions:
            assert x._version == versions[name], f"{case.id}: `{name}` written in place"
    if torch_like:
        for x in args.values():
            if x.is_floating_point():
                x.requires_grad_(True)
        with quiet_legacy_warnings():
            total = fn(*positional, **keywords).sum()
        if total.requires_grad:
            total.backward()
        for name, x in args.items():
            assert _snapshot(backend, x) == before[name], f"{case.id}: `{name}` modified"
            assert x._version == versions[name], f"{case.id}: `{name}` written in place"


@pytest.mark.parametrize("backend", MUTATION_BACKEND_PARAMS)
@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_no_loss_writes_into_its_arguments(backend: Backend, loss: str) -> None:
    # JAX arrays are immutable and Dask is slow to build: fewer cases there.
    for case in _cases(loss, {"jax": 1, "dask": 2}.get(backend.name, 6)):
        _check_no_mutation(backend, case, getattr(arrayloss, loss))


def _writes_into_input(input: Any, *args: Any, **kwargs: Any) -> Any:
    result = arrayloss.l1_loss(input, *args, **kwargs)
    input[..., 0] = 0.5  # what a careless in-place kernel does
    return result


@pytest.mark.parametrize("name", ["numpy", "torch"])
def test_the_mutation_check_sees_a_write(name: str) -> None:
    """The check above fails for a loss that writes into its input."""
    case = _cases("l1_loss", 1)[0]
    with pytest.raises(AssertionError, match="`input`"):
        _check_no_mutation(backend_by_name(name), case, _writes_into_input)


@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_numpy_results_do_not_share_memory_with_inputs(loss: str) -> None:
    """NumPy: the result owns its memory (a later write into it cannot corrupt an input,
    and a write into an input cannot change it), and read-only inputs are accepted
    (NumPy raises on any write into them, so this proves no write happens)."""
    backend = backend_by_name("numpy")
    for case in _cases(loss, 6):
        for dtype in case.dtypes or ("float64", "float32", "float16"):
            args = _make_args(backend, case, dtype)
            for x in args.values():
                x.flags.writeable = False
            with quiet_legacy_warnings():
                result = _call(case, args)
            assert isinstance(result, np.ndarray)
            for name, x in args.items():
                assert not np.shares_memory(result, x), f"{case.id} {dtype}: result is `{name}`"


@pytest.mark.skipif(backend_by_name("dask").skip_reason() is not None, reason="no Dask")
@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_dask_graphs_do_not_write_into_their_chunks(loss: str) -> None:
    """Dask over read-only NumPy arrays: computing the loss's graph writes no chunk
    (the chunks are views of the read-only arrays, so a write would raise)."""
    import dask.array as da

    for case in _cases(loss, 1):
        arrays = case.arrays()
        for a in arrays.values():
            a.flags.writeable = False
        args = {
            name: da.from_array(a, chunks={0: max(1, (a.shape[0] + 1) // 2)} if a.ndim else ())
            for name, a in arrays.items()
        }
        with quiet_legacy_warnings(), np.errstate(all="ignore"):
            np.asarray(_call(case, args).compute(scheduler="sync"))


# --- thread safety -----------------------------------------------------------------------

THREADS = 8
CALLS_PER_THREAD = 1000
#: Backends of the round-robin; Dask (~60 ms a call to build and run a graph) takes
#: every DASK_EVERY-th call of each thread instead.
THREAD_BACKENDS = ("numpy", "torch", "jax", "array-api-strict")
DASK_EVERY = 200


class _Call:
    """One (loss, backend) call with its single-threaded result."""

    def __init__(self, backend: Backend, case: Case) -> None:
        self.label = f"{case.id} on {backend.name}"
        self.backend = backend
        self.fn = getattr(arrayloss, case.loss)
        self.positional, self.keywords = _split(case, _make_args(backend, case, "float64"))
        self.expected = self.result()

    def result(self) -> tuple[str, tuple[int, ...], bytes]:
        out = self.fn(*self.positional, **self.keywords)
        if self.backend.lazy:  # no threads of Dask's own inside the test's threads
            return _bits(np.asarray(out.compute(scheduler="sync")))
        return _bits(self.backend.to_numpy(out))


def _quiet_case(loss: str) -> Case:
    """The first chosen case of ``loss`` whose call warns about nothing: warnings
    filters are process-wide state, not to be changed from the test's threads."""
    for case in _cases(loss, 6):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            try:
                _call(case, _make_args(backend_by_name("numpy"), case, "float64"))
            except Warning:
                continue
        return case
    raise AssertionError(f"{loss}: every chosen case warns")


def _hammer(calls: list[Any], extra: list[Any], calls_per_thread: int) -> list[str]:
    """Run ``calls`` round-robin from THREADS threads started together (thread k at
    offset k * len(calls) / THREADS, so that they run different calls at the same
    time), with one of ``extra`` every DASK_EVERY-th call; each result must equal the
    call's ``expected``. Returns the failures."""
    start = threading.Barrier(THREADS)
    failures: list[str] = []
    done = [0] * THREADS

    def worker(k: int) -> None:
        start.wait()
        offset = k * len(calls) // THREADS
        for i in range(calls_per_thread):
            if extra and i % DASK_EVERY == DASK_EVERY // 2:
                call = extra[(k + i // DASK_EVERY * THREADS) % len(extra)]
            else:
                call = calls[(offset + i) % len(calls)]
            try:
                if call.result() != call.expected:
                    failures.append(f"{call.label}: a different result in thread {k}")
            except Exception as exc:  # reported with the call
                failures.append(f"{call.label}: {type(exc).__name__}: {exc} in thread {k}")
            done[k] += 1

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if sum(done) != THREADS * calls_per_thread:
        failures.append(f"only {sum(done)} calls completed")
    return failures


def test_every_loss_from_eight_threads_at_once() -> None:
    """8 threads x 1,000 calls, each a (loss, backend) taken round-robin over the 21
    losses and the CPU backends, plus a Dask call every DASK_EVERY; every result is
    bit-identical to the same call made single-threaded before."""
    backends = [backend_by_name(n) for n in THREAD_BACKENDS]
    backends = [b for b in backends if b.available]
    cases = [_quiet_case(loss) for loss in LOSS_NAMES]
    with np.errstate(all="ignore"):  # main thread only; the losses quiet their own
        calls = [_Call(b, case) for case in cases for b in backends]
        dask = backend_by_name("dask")
        dask_calls = (
            [_Call(dask, c) for c in cases if c.loss != "ctc_loss"] if dask.available else []
        )
    failures = _hammer(calls, dask_calls, CALLS_PER_THREAD)
    assert not failures, f"{len(failures)} failures, first: {failures[:5]}"


class _Racy:
    """A call with shared mutable state and no lock: what a racy cache looks like."""

    shared: ClassVar[list[int]] = [0]

    def __init__(self, k: int) -> None:
        self.label, self.k, self.expected = f"racy {k}", k, k

    def result(self) -> int:
        self.shared[0] = self.k
        time.sleep(1e-4)  # let another thread run, as a loss computing would
        return self.shared[0]


def test_the_thread_check_sees_a_race() -> None:
    """The harness above reports a call whose result another thread changed."""
    failures = _hammer([_Racy(k) for k in range(THREADS)], [], 20)
    assert failures
    assert "a different result" in failures[0]


# --- determinism -------------------------------------------------------------------------

#: Backends of the determinism test (jax-jit too: compiled code could reorder sums).
DETERMINISM_BACKENDS = ("numpy", "torch", "jax", "jax-jit", "array-api-strict", "dask")
#: In the fresh process, JAX runs under jit only: eager JAX compiles every operation
#: afresh in a new process (half a minute on a busy 2-core machine), and runs the same
#: XLA CPU kernels as in this process, where it is checked twice.
FRESH_PROCESS_BACKENDS = ("numpy", "torch", "jax-jit", "array-api-strict", "dask")


@functools.cache
def _jax_value_and_grad(loss: str, case_id: str, names: tuple[str, ...]) -> Any:
    """The loss and its gradient with respect to the first positional argument, as
    one ``jax.jit`` program (one compilation per loss and process)."""
    import jax

    case = next(c for c in _cases(loss, 1) if c.id == case_id)
    wrt = LOSSES[loss].positional[0]

    def total(x: Any, rest: tuple[Any, ...]) -> Any:
        return _call(case, {**dict(zip(names, rest, strict=True)), wrt: x}).sum()

    return jax.jit(jax.value_and_grad(total))


def _results_on(backend: Backend, case: Case) -> dict[str, np.ndarray]:
    """The value of one case on ``backend``, in float64 (the dtype of the other tests
    here, so that eager JAX reuses their compilations), and its gradient where the
    library has autodiff: torch autograd; ``jax.grad`` under ``jax.jit`` (eager JAX
    would compile each operation of the backward pass on its own: a minute per process
    on a busy 2-core machine)."""
    args = _make_args(backend, case, "float64")
    with quiet_legacy_warnings(), np.errstate(all="ignore"):
        if backend.jit:
            wrt = LOSSES[case.loss].positional[0]
            names = tuple(n for n in args if n != wrt)
            fn = _jax_value_and_grad(case.loss, case.id, names)
            value, grad = fn(args[wrt], tuple(args[n] for n in names))
            return {"value": backend.to_numpy(value), "grad": backend.to_numpy(grad)}
        positional, keywords = _split(case, args)
        out = {
            "value": backend.to_numpy(
                backend.call(getattr(arrayloss, case.loss), *positional, **keywords)
            )
        }
        if backend.module == "torch":
            wrt = LOSSES[case.loss].positional[0]
            x = args[wrt].requires_grad_(True)
            _call(case, args).sum().backward()
            out["grad"] = backend.to_numpy(x.grad)
        return out


def determinism_results(backends: tuple[str, ...] = DETERMINISM_BACKENDS) -> dict[str, np.ndarray]:
    """Every loss on each of ``backends``: values and gradients (see
    :func:`_results_on`) of the first chosen case of each loss."""
    results: dict[str, np.ndarray] = {}
    for name in backends:
        backend = backend_by_name(name)
        if not backend.available:
            continue
        for loss in LOSS_NAMES:
            case = _cases(loss, 1)[0]
            for what, value in _results_on(backend, case).items():
                results[f"{case.id}@{name}/{what}"] = value
    return results


_SUBPROCESS = """
import sys
import numpy as np
from tests.test_reliability import FRESH_PROCESS_BACKENDS, determinism_results
results = determinism_results(FRESH_PROCESS_BACKENDS)
np.savez(sys.argv[1], keys=np.array(list(results)), **{str(i): v for i, v in enumerate(results.values())})
"""


def test_results_are_bit_identical_run_to_run(tmp_path: Path) -> None:
    """Twice in this process and once in a fresh one: the same bits, values and
    gradients, for every loss on every CPU backend."""
    first = determinism_results()
    second = determinism_results()
    assert first.keys() == second.keys()
    for key, value in first.items():
        assert _bits(value) == _bits(second[key]), f"{key}: differs between two runs"
    # A fresh interpreter, importing this worktree's arrayloss and tests.
    root = Path(__file__).resolve().parents[1]
    src = Path(arrayloss.__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src), str(root)])}
    out = tmp_path / "results.npz"
    subprocess.run([sys.executable, "-c", _SUBPROCESS, str(out)], check=True, env=env, cwd=root)
    with np.load(out) as fresh:
        keys = [str(k) for k in fresh["keys"]]
        assert len(keys) >= 21 * 4, keys
        for i, key in enumerate(keys):
            assert _bits(first[key]) == _bits(fresh[str(i)]), f"{key}: differs in a fresh process"


# --- mixed precision ---------------------------------------------------------------------

Arrays = dict[str, np.ndarray]


def _big_vectors(rng: np.random.Generator) -> Arrays:
    # Norms of 300-sized vectors: their squares (1.4e6) overflow float16.
    shape = (6, 16)
    return {
        "anchor": rng.normal(size=shape) * 300,
        "positive": rng.normal(size=shape) * 300,
        "negative": rng.normal(size=shape) * 300,
    }


#: Magnitudes where a naive half-precision formula overflows (an exp, a square, a sum
#: past 65504): (id, loss, arrays from a seeded generator, options). Each runs with the
#: reductions of HALF_REDUCTIONS unless its options name one.
HALF_CASES: list[tuple[str, str, Callable[[np.random.Generator], Arrays], dict[str, Any]]] = [
    # Squares of 200 fit float16 (40000), their sum does not; squares of 300 do not fit.
    (
        "mse_200",
        "mse_loss",
        lambda r: {"input": r.normal(200, 5, (8, 16)), "target": r.normal(0, 5, (8, 16))},
        {},
    ),
    (
        "mse_300",
        "mse_loss",
        lambda r: {"input": r.normal(300, 5, (8, 16)), "target": r.normal(0, 5, (8, 16))},
        {},
    ),
    (
        "l1_3e4",
        "l1_loss",
        lambda r: {"input": r.normal(3e4, 100, (8, 16)), "target": r.normal(0, 5, (8, 16))},
        {},
    ),
    (
        "huber_1e4",
        "huber_loss",
        lambda r: {"input": r.normal(1e4, 100, (8, 16)), "target": r.normal(0, 1, (8, 16))},
        {},
    ),
    (
        "smooth_l1_1e4",
        "smooth_l1_loss",
        lambda r: {"input": r.normal(1e4, 100, (8, 16)), "target": r.normal(0, 1, (8, 16))},
        {"beta": 0.5},
    ),
    # exp(1e4) overflows every dtype: the logits losses must be written stably.
    (
        "bce_logits_1e4",
        "binary_cross_entropy_with_logits",
        lambda r: {
            "input": r.choice([-1e4, 1e4], (8, 16)),
            "target": r.integers(0, 2, (8, 16)).astype(float),
            "pos_weight": np.full(16, 3.0),
        },
        {},
    ),
    (
        "bce_weight_300",
        "binary_cross_entropy",
        lambda r: {
            "input": r.choice([0.0, 1.0], (8, 16)),
            "target": r.uniform(size=(8, 16)),
            "weight": np.full(16, 300.0),
        },
        {},
    ),
    (
        "soft_margin_1e4",
        "soft_margin_loss",
        lambda r: {
            "input": r.choice([-1e4, 1e4], (8, 16)),
            "target": r.choice([-1.0, 1.0], (8, 16)),
        },
        {},
    ),
    (
        "multilabel_soft_1e4",
        "multilabel_soft_margin_loss",
        lambda r: {
            "input": r.choice([-1e4, 1e4], (8, 16)),
            "target": r.integers(0, 2, (8, 16)).astype(float),
        },
        {},
    ),
    # Logits of 6e4 (float16's largest finite is 65504): log-softmax of -1.2e5.
    (
        "cross_entropy_6e4",
        "cross_entropy",
        lambda r: {"input": r.choice([-6e4, 6e4, 0.0], (8, 5)), "target": r.integers(0, 5, 8)},
        {},
    ),
    (
        "cross_entropy_6e4_smoothing",
        "cross_entropy",
        lambda r: {"input": r.choice([-6e4, 6e4, 0.0], (8, 5)), "target": r.integers(0, 5, 8)},
        {"label_smoothing": 0.1},
    ),
    (
        "cross_entropy_6e4_probabilities",
        "cross_entropy",
        lambda r: {
            "input": r.choice([-6e4, 6e4, 0.0], (8, 5)),
            "target": r.dirichlet(np.ones(5), 8),
        },
        {},
    ),
    (
        "nll_6e4",
        "nll_loss",
        lambda r: {"input": -r.uniform(5e4, 6e4, (8, 5)), "target": r.integers(0, 5, 8)},
        {},
    ),
    (
        "multi_margin_3e4",
        "multi_margin_loss",
        lambda r: {"input": r.choice([-3e4, 3e4], (8, 5)), "target": r.integers(0, 5, 8)},
        {},
    ),
    (
        "multilabel_margin_3e4",
        "multilabel_margin_loss",
        lambda r: {
            "input": r.choice([-3e4, 3e4], (8, 5)),
            "target": np.tile([3, 0, -1, 1, 2], (8, 1)),
        },
        {},
    ),
    (
        "kl_div_1e4",
        "kl_div",
        lambda r: {"input": -r.uniform(5e3, 1e4, (8, 16)), "target": r.dirichlet(np.ones(16), 8)},
        {"reduction": "batchmean"},
    ),
    (
        "kl_div_log_target_1e4",
        "kl_div",
        lambda r: {"input": r.normal(size=(8, 16)), "target": -r.uniform(0, 1e4, (8, 16))},
        {"log_target": True},
    ),
    # exp(11) = 59874 fits float16, exp(12) does not.
    (
        "poisson_exp_11",
        "poisson_nll_loss",
        lambda r: {
            "input": r.uniform(10, 11, (8, 16)),
            "target": r.poisson(3, (8, 16)).astype(float),
        },
        {},
    ),
    (
        "poisson_exp_12",
        "poisson_nll_loss",
        lambda r: {
            "input": r.uniform(11.5, 12, (8, 16)),
            "target": r.poisson(3, (8, 16)).astype(float),
        },
        {},
    ),
    (
        "poisson_rates_6e4",
        "poisson_nll_loss",
        lambda r: {
            "input": r.uniform(5e4, 6e4, (8, 16)),
            "target": r.poisson(3, (8, 16)).astype(float),
        },
        {"log_input": False, "full": True},
    ),
    # (x - y)^2 / var: 0.04 / 1e-6 = 4e4 per element; var 0 is clamped to eps = 1e-6.
    (
        "gaussian_tiny_var",
        "gaussian_nll_loss",
        lambda r: {
            "input": r.choice([-0.2, 0.2], (8, 16)),
            "target": np.zeros((8, 16)),
            "var": r.choice([0.0, 1e-6, 2e-6], (8, 16)),
        },
        {},
    ),
    (
        "margin_ranking_3e4",
        "margin_ranking_loss",
        lambda r: {
            "input1": r.normal(3e4, 10, 64),
            "input2": r.normal(-3e4, 10, 64),
            "target": -np.ones(64),
        },
        {},
    ),
    (
        "hinge_6e4",
        "hinge_embedding_loss",
        lambda r: {"input": r.uniform(5e4, 6e4, 64), "target": np.ones(64)},
        {},
    ),
    (
        "cosine_300",
        "cosine_embedding_loss",
        lambda r: {
            "input1": r.normal(size=(6, 16)) * 300,
            "input2": r.normal(size=(6, 16)) * 300,
            "target": r.choice([-1.0, 1.0], 6),
        },
        {},
    ),
    ("triplet_300", "triplet_margin_loss", _big_vectors, {}),
    ("triplet_300_swap", "triplet_margin_loss", _big_vectors, {"swap": True, "p": 3.0}),
    ("triplet_distance_300", "triplet_margin_with_distance_loss", _big_vectors, {}),
    # Log-probabilities down to -1e3 over 12 steps: a log-sum-exp recurrence.
    (
        "ctc_1e3",
        "ctc_loss",
        lambda r: {
            "log_probs": np.where(r.uniform(size=(12, 2, 5)) < 0.5, -1e3, np.log(0.5)),
            "targets": r.integers(1, 5, (2, 4)),
            "input_lengths": np.array([12, 10]),
            "target_lengths": np.array([4, 3]),
        },
        {},
    ),
]
HALF_REDUCTIONS = ("none", "mean", "sum")
HALF_BACKENDS = ("numpy", "torch", "jax")


def _half_params() -> list[Any]:
    params = []
    for case_id, loss, make, options in HALF_CASES:
        reductions = (options["reduction"],) if "reduction" in options else HALF_REDUCTIONS
        for reduction in reductions:
            for dtype in ("float16", "bfloat16"):
                opts = {**options, "reduction": reduction}
                params.append(
                    pytest.param(loss, make, opts, dtype, id=f"{case_id}-{reduction}-{dtype}")
                )
    return params


def _torch_result(
    loss: str, arrays: Arrays, options: dict[str, Any], dtype: str
) -> np.ndarray | None:
    """PyTorch's result in ``dtype`` (float64 values), or None where PyTorch has no
    kernel for it on the CPU (ctc_loss, multilabel_margin_loss in half precision)."""
    import torch.nn.functional as F

    info = LOSSES[loss]
    tensors = {
        k: torch.from_numpy(v) if _is_index(v) else torch.from_numpy(v).to(getattr(torch, dtype))
        for k, v in arrays.items()
    }
    positional = [tensors.pop(n) for n in info.positional]
    try:
        with quiet_legacy_warnings():  # kl_div's warning for reduction='mean'
            return getattr(F, loss)(*positional, **tensors, **options).to(torch.float64).numpy()
    except (NotImplementedError, RuntimeError):
        if dtype == "float64":
            raise
        return None


def _round_to(a: np.ndarray, dtype: str) -> np.ndarray:
    return torch.from_numpy(a).to(getattr(torch, dtype)).to(torch.float64).numpy()


@pytest.mark.parametrize(("loss", "make", "options", "dtype"), _half_params())
def test_half_precision_neither_overflows_nor_drifts(
    loss: str, make: Callable[[np.random.Generator], Arrays], options: dict[str, Any], dtype: str
) -> None:
    """float16/bfloat16 inputs at magnitudes where a naive formula overflows, on each
    backend with the dtype: (1) finite wherever PyTorch's own result in that dtype is
    finite; (2) within half-precision tolerance of PyTorch's float64 result on the same
    (rounded) inputs, rounded to the dtype (so an overflow of the final result to inf
    is where the exact result itself does not fit the dtype)."""
    arrays = {
        k: v if _is_index(v) else _round_to(v, dtype)
        for k, v in make(np.random.default_rng(6)).items()
    }
    in_dtype = _torch_result(loss, arrays, options, dtype)
    exact64 = _torch_result(loss, arrays, options, "float64")
    assert exact64 is not None
    exact = _round_to(exact64, dtype)
    finite = np.isfinite(exact)
    # Where PyTorch overflows even in float64 (soft_margin_loss's log(1 + exp(-y x)) at
    # 1e4), arrayloss is finite (documented in docs/losses/margin.md): not compared.
    overflows = ~finite & np.isfinite(exact64)
    scale = max(1.0, float(np.max(np.abs(exact[finite]), initial=0.0)))
    ran = 0
    for name in HALF_BACKENDS:
        backend = backend_by_name(name)
        if not backend.available or dtype not in backend.dtypes:
            continue
        ran += 1
        args = {
            k: backend.asarray(v, "int64" if _is_index(v) else dtype) for k, v in arrays.items()
        }
        positional = [args.pop(n) for n in LOSSES[loss].positional]
        with np.errstate(all="ignore"), quiet_legacy_warnings():
            result = getattr(arrayloss, loss)(*positional, **args, **options)
        assert backend.dtype_name(result) == dtype
        got = backend.to_numpy(result).astype(np.float64)
        assert got.shape == exact.shape
        if in_dtype is not None:
            torch_finite = np.isfinite(in_dtype)
            assert np.all(np.isfinite(got[torch_finite])), (name, got, in_dtype)
        np.testing.assert_allclose(
            got[finite], exact[finite], rtol=RTOL[dtype], atol=RTOL[dtype] * scale, err_msg=name
        )
        # Where the exact result does not fit the dtype, the cast gives +-inf as PyTorch.
        np.testing.assert_array_equal(got[overflows], exact[overflows], err_msg=name)
    assert ran


# --- torch.autocast ----------------------------------------------------------------------

AUTOCAST_LOSSES = ("binary_cross_entropy_with_logits", "binary_cross_entropy")


def _model_output(loss: str) -> tuple[Any, Any, Any]:
    """A linear model, its inputs and bfloat16 output under CPU autocast (probabilities
    through a sigmoid for binary_cross_entropy), as in a mixed-precision training step."""
    torch.manual_seed(6)
    model = torch.nn.Linear(8, 4).double().float()
    x = torch.randn(16, 8)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(x)
        if loss == "binary_cross_entropy":
            out = torch.sigmoid(out)
    return model, x, out


@pytest.mark.parametrize("target_dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("loss", AUTOCAST_LOSSES)
def test_autocast_cpu_bfloat16_as_torch(loss: str, reduction: str, target_dtype: str) -> None:
    """Under ``torch.autocast('cpu', dtype=torch.bfloat16)`` PyTorch computes both
    losses in float32 and returns float32 (they are on CPU autocast's float32 list;
    binary_cross_entropy is not refused on the CPU), a bfloat16 model output beside a
    float32 target included: arrayloss the same, values and gradients."""
    import torch.nn.functional as F

    torch.manual_seed(7)
    target = torch.rand(16, 4).to(getattr(torch, target_dtype))
    weight = torch.rand(4) + 0.5
    results, grads = [], []
    for fn in (getattr(F, loss), getattr(arrayloss, loss)):
        model, x, _ = _model_output(loss)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = model(x)
            if loss == "binary_cross_entropy":
                out = torch.sigmoid(out)
            assert out.dtype == torch.bfloat16
            result = fn(out, target, weight=weight, reduction=reduction)
        result.sum().backward()
        results.append(result)
        grads.append(model.weight.grad)
    expected, got = results
    assert expected.dtype == torch.float32  # PyTorch 2.13's behaviour, checked here
    assert got.dtype == expected.dtype
    torch.testing.assert_close(got, expected, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(grads[1], grads[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("loss", AUTOCAST_LOSSES)
def test_autocast_leaves_float32_and_other_libraries_alone(loss: str) -> None:
    """float32 tensors under autocast give the result outside it, bit for bit (arrayloss
    uses none of the operations autocast lowers); a bfloat16 input outside autocast
    keeps bfloat16, as PyTorch; NumPy arrays are not affected by torch.autocast."""
    import torch.nn.functional as F

    rng = np.random.default_rng(8)
    x = (
        rng.uniform(0.05, 0.95, (6, 3))
        if loss == "binary_cross_entropy"
        else rng.normal(size=(6, 3))
    )
    t = rng.uniform(size=(6, 3))
    fn = getattr(arrayloss, loss)
    x32, t32 = torch.tensor(x, dtype=torch.float32), torch.tensor(t, dtype=torch.float32)
    plain = fn(x32, t32)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        under = fn(x32, t32)
        in_numpy = fn(x.astype(np.float32), t.astype(np.float32))
        torch_under = getattr(F, loss)(x32, t32)
    assert _bits(under.numpy()) == _bits(plain.numpy())
    torch.testing.assert_close(under, torch_under)
    assert in_numpy.dtype == np.float32
    xb, tb = x32.to(torch.bfloat16), t32.to(torch.bfloat16)
    outside = fn(xb, tb)
    assert outside.dtype == getattr(F, loss)(xb, tb).dtype == torch.bfloat16


def test_autocast_on_cuda_refuses_binary_cross_entropy() -> None:
    """PyTorch raises for binary_cross_entropy under CUDA autocast ("unsafe to
    autocast"); arrayloss raises too (a RuntimeError, naming the safe alternative)."""
    if not torch.cuda.is_available():
        pytest.skip("torch-cuda: no CUDA GPU visible to torch")
    import torch.nn.functional as F

    p = torch.rand(4, 3, device="cuda")
    t = torch.rand(4, 3, device="cuda")
    with torch.autocast("cuda", dtype=torch.float16):
        with pytest.raises(RuntimeError, match="unsafe to autocast"):
            F.binary_cross_entropy(p, t)
        with pytest.raises(RuntimeError, match=r"unsafe to autocast.*with_logits"):
            arrayloss.binary_cross_entropy(p, t)
        logits = torch.randn(4, 3, device="cuda").half()
        got = arrayloss.binary_cross_entropy_with_logits(logits, t)
        expected = F.binary_cross_entropy_with_logits(logits, t)
    assert got.dtype == expected.dtype == torch.float32
    torch.testing.assert_close(got, expected)


#: PyTorch 2.13's Python compositions of other operations, which autocast leaves in the
#: half dtype (docs/mixed-precision.md); every other loss is on its float32 list, and
#: arrayloss hooks autocast in all of those (``ctx.autocast``).
AUTOCAST_HALF_COMPOSITIONS = (
    "multilabel_soft_margin_loss",
    "gaussian_nll_loss",
    "triplet_margin_with_distance_loss",
)


@pytest.mark.parametrize("others", ["bfloat16", "float32"])
@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_autocast_every_loss_as_documented(loss: str, others: str) -> None:
    """Under CPU autocast, with a bfloat16 first argument (a model's output) and the
    other floating arguments in bfloat16 or float32, PyTorch returns float32 for the
    losses on its float32 list (docs/mixed-precision.md's table, checked here) and
    arrayloss returns the same float32 value; for PyTorch's Python compositions the
    dtypes agree and the values are within bfloat16 tolerance."""
    import torch.nn.functional as F

    case = _cases(loss, 1)[0]
    backend = backend_by_name("torch")
    args = _make_args(backend, case, "bfloat16")
    positional, keywords = _split(case, args)
    if others == "float32":

        def widen(a: Any) -> Any:
            if isinstance(a, torch.Tensor) and a.dtype == torch.bfloat16:
                return a.float()
            return a

        positional = [positional[0], *map(widen, positional[1:])]
        keywords = {k: widen(v) for k, v in keywords.items()}
    with torch.autocast("cpu", dtype=torch.bfloat16), quiet_legacy_warnings():
        expected = getattr(F, loss)(*positional, **keywords)
        got = getattr(arrayloss, loss)(*positional, **keywords)
    # PyTorch 2.13 computes l1_loss and mse_loss with a `weight` in Python, like the
    # compositions: not on the float32 list (float32 only by promoting float32 arguments).
    on_float32_list = loss not in AUTOCAST_HALF_COMPOSITIONS and not (
        loss in ("l1_loss", "mse_loss") and "weight" in keywords
    )
    assert (expected.dtype == torch.float32) == (on_float32_list or others == "float32")
    assert got.dtype == expected.dtype
    torch_upcasts = on_float32_list
    if torch_upcasts:
        # The same float32 computation on the same float32 arguments.
        scale = float(expected.abs().max()) if expected.numel() else 0.0
        torch.testing.assert_close(
            got, expected, rtol=1e-5, atol=1e-6 * max(1.0, scale), equal_nan=True
        )
    else:
        torch.testing.assert_close(
            got.float(),
            expected.float(),
            rtol=RTOL["bfloat16"],
            atol=RTOL["bfloat16"],
            equal_nan=True,
        )
