"""Fuzzing against PyTorch: hypothesis strategies that draw whole conformance cases.

One generator, two uses: ``python -m conformance --fuzz N --seed S`` and the property
tests (``tests/test_properties.py``) both draw cases with :func:`cases` and judge them
with :func:`check`.

A drawn case is an ordinary :class:`~conformance.cases.Case` (plus a dtype), built from a
*template*: one of the hand-written cases of the loss (``conformance.cases``), which knows
a valid structure (which arrays, of which kinds, how their shapes relate). From it the
strategy draws

- new sizes: every distinct dimension size of the template is mapped to a new size
  (0 to 6; at least 2 where the size is also a class count or a length, the ``scale`` of
  an integer kind), consistently across the arrays, so the shapes stay related as the
  loss requires while 0-d, unbatched, batched, K-dimensional and size-0 shapes come from
  the templates that have them;
- new values: a fresh seed, and for each float argument a kind (with its scale) drawn
  from the kinds the loss's cases use for that argument (edge values included: +-inf,
  NaN, exact 0 and 1, huge logits, zero vectors, values at the kinks);
- new options: each option from the values the loss's cases use for it (or its
  default), every reduction (with the loss's own, e.g. ``'batchmean'``), and the legacy
  ``size_average``/``reduce`` pairs where PyTorch's function has them;
- a dtype (float64, float32, float16, bfloat16).

Everything shrinks towards the template (hypothesis draws "keep" first), so a shrunk
failure is a small change of a known case. The case is then judged exactly as by
``python -m conformance``: :func:`conformance.runner.reference` and
:func:`conformance.runner.case_cells` (the same comparison and tolerance policy), values
and gradients on the chosen backends.

A failed cell is *explained* when one of :data:`EXPLANATIONS` (a named predicate with its
reason; listed in docs/conformance.md, "Fuzzing") recognises it; anything else is a
mismatch, and :func:`reproducer` writes it as a few lines of pasteable Python.
"""

from __future__ import annotations

import functools
import inspect
import math
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, given, reject, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from .backends import DTYPES, Backend, backend_by_name
from .cases import INTEGER_KINDS, LEGACY, LOSSES, Arg, Case, cases_for
from .runner import (
    GRADIENTS,
    CellResult,
    Reference,
    _backend_args,
    _call,
    _effective_reduction,
    _judge_error,
    _torch_loss,
    case_cells,
    compare,
    quiet_legacy_warnings,
    reference,
)

__all__ = [
    "DEFAULT_BACKENDS",
    "EXPLANATIONS",
    "Explanation",
    "FuzzCase",
    "FuzzResults",
    "Verdict",
    "cases",
    "check",
    "fuzz",
    "reproducer",
]

#: The backends a fuzz run uses unless told otherwise (CPU, eager).
DEFAULT_BACKENDS = ("numpy", "torch", "jax")
#: The largest size a dimension is drawn with.
MAX_SIZE = 6
_ABSENT = "<default>"  # an option left out (the loss's default)
_LEGACY_KEYS = ("size_average", "reduce")
#: Options tied to the data (blank = C - 1 goes with labels below C - 1): kept as drawn.
_PINNED_OPTIONS = frozenset({"blank"})


@dataclass(frozen=True)
class FuzzCase:
    """A drawn case and the dtype it runs in."""

    case: Case
    dtype: str

    def __str__(self) -> str:
        return f"{self.case.loss} [{self.dtype}] {self.case.describe()} (seed {self.case.seed})"


# --- what the loss's own cases use ---------------------------------------------------------


@dataclass(frozen=True)
class _Pools:
    """What the hand-written cases of one loss use: the templates, the (kind, scale)
    pairs of each float argument, the values of each option, the reductions."""

    templates: tuple[Case, ...]
    kinds: Mapping[str, tuple[tuple[str, float], ...]]
    value_check_kinds: frozenset[tuple[str, str, float]]
    options: Mapping[str, tuple[Any, ...]]
    reductions: tuple[str, ...]
    legacy: bool


@functools.cache
def _pools(loss: str) -> _Pools:
    import torch.nn.functional as F

    templates = tuple(cases_for(loss))
    kinds: dict[str, dict[tuple[str, float], None]] = {}
    checked: set[tuple[str, str, float]] = set()
    unchecked: set[tuple[str, str, float]] = set()
    options: dict[str, dict[Any, None]] = {}
    reductions = dict.fromkeys(("none", "mean", "sum"))
    for case in templates:
        for name, arg in case.args.items():
            if arg.kind not in INTEGER_KINDS:
                kinds.setdefault(name, {})[(arg.kind, arg.scale)] = None
                (checked if case.value_check else unchecked).add((name, arg.kind, arg.scale))
        for key, value in case.kwargs.items():
            if key == "reduction":
                reductions[value] = None
            elif key not in _LEGACY_KEYS and key not in _PINNED_OPTIONS:
                options.setdefault(key, {})[value] = None
    parameters = inspect.signature(getattr(F, loss)).parameters
    return _Pools(
        templates,
        {name: tuple(pairs) for name, pairs in kinds.items()},
        frozenset(checked - unchecked),
        {key: (_ABSENT, *values) for key, values in options.items()},
        tuple(reductions),
        "size_average" in parameters,
    )


def _keep_or(template: Any, pool: Sequence[Any]) -> st.SearchStrategy[Any]:
    """The template's value (drawn first, so failures shrink towards it) or one of
    ``pool``."""
    return st.one_of(st.just(template), st.sampled_from(pool)) if pool else st.just(template)


@st.composite
def _draw_case(draw: st.DrawFn, loss: str, dtypes: tuple[str, ...]) -> FuzzCase:
    pools = _pools(loss)
    template: Case = draw(st.sampled_from(pools.templates))
    # Sizes: one new size per distinct size of the template's shapes.
    counts = {int(a.scale) for a in template.args.values() if a.kind in INTEGER_KINDS}
    # A size that a pinned option names (blank = C - 1, or C) stays.
    pinned = {v + d for k, v in template.kwargs.items() if k in _PINNED_OPTIONS for d in (0, 1)}
    sizes = {}
    for n in sorted(_sizes(template)):
        low = 2 if n in counts else 0
        sizes[n] = n if n in pinned else draw(_keep_or(n, range(low, MAX_SIZE + 1)))
    # Arrays: new shapes, and for float arguments maybe another kind of values.
    args = {}
    value_check = template.value_check
    for name, arg in template.args.items():
        kind, scale = arg.kind, arg.scale
        if kind in INTEGER_KINDS:
            scale = float(sizes.get(int(scale), scale))
        else:
            kind, scale = draw(_keep_or((kind, scale), pools.kinds.get(name, ())))
            value_check |= (name, kind, scale) in pools.value_check_kinds
        args[name] = Arg(kind, tuple(sizes[n] for n in arg.shape), scale)
    # Options.
    kwargs = {k: v for k, v in template.kwargs.items() if k not in _LEGACY_KEYS}
    for key, pool in pools.options.items():
        value = draw(_keep_or(kwargs.get(key, _ABSENT), pool))
        kwargs.pop(key, None)
        if value != _ABSENT:
            kwargs[key] = value
    kwargs["reduction"] = draw(_keep_or(template.kwargs.get("reduction", "mean"), pools.reductions))
    if pools.legacy:
        legacy = tuple(template.kwargs.get(k) for k in _LEGACY_KEYS)
        size_average, reduce = draw(_keep_or(legacy, ((None, None), *LEGACY)))
        if (size_average, reduce) != (None, None):
            kwargs.update(size_average=size_average, reduce=reduce)
    allowed = template.dtypes or DTYPES
    dtype = draw(st.sampled_from([d for d in dtypes if d in allowed] or list(dtypes)))
    seed = draw(_keep_or(template.seed, range(2**32)))
    name = f"fuzz-{template.name}"
    case = Case(name, loss, seed, args, kwargs, value_check)
    try:
        case.arrays()
    except ValueError:  # sizes the template's samplers cannot fill (lengths summing to S)
        reject()
    return FuzzCase(case, dtype)


def _sizes(case: Case) -> set[int]:
    return {n for arg in case.args.values() for n in arg.shape}


def cases(
    losses: Iterable[str] | None = None, dtypes: Iterable[str] | None = None
) -> st.SearchStrategy[FuzzCase]:
    """A hypothesis strategy for whole cases of ``losses`` (default: every loss) in
    ``dtypes`` (default: all four)."""
    names = tuple(losses) if losses is not None else tuple(LOSSES)
    chosen = tuple(dtypes) if dtypes is not None else DTYPES
    return st.sampled_from(names).flatmap(lambda loss: _draw_case(loss, chosen))


# --- explained mismatches ---------------------------------------------------------------------


@dataclass(frozen=True)
class Explanation:
    """A known, documented deviation: ``applies(fuzz_case, cell, ref)`` recognises a
    failed cell it explains; ``reason`` says why it is not a bug."""

    name: str
    reason: str
    applies: Callable[[FuzzCase, CellResult, Reference], bool]


def _reduction_checked_first(fuzz_case: FuzzCase, cell: CellResult, ref: Reference) -> bool:
    message = cell.message or ""
    return (
        ref.error is not None
        and message.startswith("arrayloss raised ")
        and "`reduction` must be one of" in message
    )


def _uninitialized_empty_reduction(fuzz_case: FuzzCase, cell: CellResult, ref: Reference) -> bool:
    case = fuzz_case.case
    first = ref.arrays[LOSSES[case.loss].positional[0]]
    return (
        case.loss in ("multi_margin_loss", "multilabel_margin_loss")
        and cell.check == "value"
        and ref.error is None
        and first.size == 0
        and _effective_reduction(case.kwargs) in ("mean", "sum")
    )


def _pytorch_rounds_alike(fuzz_case: FuzzCase, cell: CellResult, ref: Reference) -> bool:
    """Out of tolerance against the float64 reference, but within it against PyTorch
    computing in the case's own dtype (same inputs, same tolerance)."""
    case, dtype = fuzz_case.case, fuzz_case.dtype
    message = cell.message or ""
    if ref.error is not None or "out of tolerance" not in message or "mismatch" in message:
        return False
    backend = backend_by_name(cell.backend)
    args = _backend_args(backend, ref.arrays, dtype)
    if cell.check == "grad":
        if ref.grad is None:
            return False
        actual = GRADIENTS[backend.module](backend, case, args)
        out, x = _torch_loss(case, ref.arrays, dtype, requires_grad=True)
        out.sum().backward()
        expected = backend_by_name("torch").to_numpy(x.grad)
        return compare(actual, expected, dtype, ref.grad_scale, grad=True).passed
    if ref.value_in_dtype is None:
        return False
    actual = backend.to_numpy(_call(backend, case, args))
    return compare(actual, ref.value_in_dtype, ref.result_dtype, ref.scale).passed


def _value_check_off(fuzz_case: FuzzCase, cell: CellResult, ref: Reference) -> bool:
    """PyTorch raised, arrayloss on a traced or lazy backend did not, and arrayloss on
    NumPy (eager) raises the same category of error: a value check (documented off
    there)."""
    backend = backend_by_name(cell.backend)
    message = cell.message or ""
    if not (backend.jit or backend.lazy) or not message.startswith("PyTorch raised"):
        return False
    numpy = backend_by_name("numpy")
    dtype = fuzz_case.dtype if fuzz_case.dtype in numpy.dtypes else "float32"
    try:
        _call(numpy, fuzz_case.case, _backend_args(numpy, ref.arrays, dtype))
    except Exception as exc:
        return _judge_error(ref.error, exc)[0] == "passed"
    return False


def _stirling_of_integer_target(fuzz_case: FuzzCase, cell: CellResult, ref: Reference) -> bool:
    case = fuzz_case.case
    target = ref.arrays.get("target")
    return (
        case.loss == "poisson_nll_loss"
        and bool(case.kwargs.get("full"))
        and fuzz_case.dtype == "float64"
        and target is not None
        and target.dtype.kind in "iu"
        and cell.check == "value"
        and "out of tolerance" in (cell.message or "")
    )


#: The known deviations (docs/conformance.md, "Fuzzing", lists each with its reason).
EXPLANATIONS: tuple[Explanation, ...] = (
    Explanation(
        "reduction_checked_first",
        "an invalid reduction and another error at once: arrayloss checks the options "
        "before the arrays (ValueError), PyTorch the shapes first (RuntimeError); both raise",
        _reduction_checked_first,
    ),
    Explanation(
        "pytorch_rounds_alike",
        "out of tolerance against PyTorch in float64, but within it against PyTorch in the "
        "case's own dtype: PyTorch rounds the same way (e.g. the float32 gradient of "
        "cosine_embedding_loss for 1-element vectors, mathematically 0, is a cancellation "
        "of terms of size 1/|x|)",
        _pytorch_rounds_alike,
    ),
    Explanation(
        "value_check_off",
        "a value error (a class index or a length out of range, ...) on a traced or lazy "
        "backend (jax-jit, Dask): arrayloss checks values on eager arrays only "
        "(documented), and raises the same error on NumPy",
        _value_check_off,
    ),
    Explanation(
        "stirling_of_integer_target",
        "poisson_nll_loss(full=True) with an integer target and float64 input: PyTorch "
        "computes the Stirling term in float32 (log of an int64 tensor gives the default "
        "dtype); arrayloss in float64 (docs/losses/probabilistic.md)",
        _stirling_of_integer_target,
    ),
    Explanation(
        "uninitialized_empty_reduction",
        "multi_margin_loss and multilabel_margin_loss of an empty batch with 'mean' or "
        "'sum': PyTorch's CPU kernel returns uninitialized memory (a different value each "
        "call); arrayloss returns NaN for 'mean' (0 / 0) and 0 for 'sum'",
        _uninitialized_empty_reduction,
    ),
)


# --- judging a case -------------------------------------------------------------------------


@dataclass
class Verdict:
    """The cells of one drawn case: the failures split into explained ones (with the
    explanation's name) and mismatches."""

    fuzz_case: FuzzCase
    cells: list[CellResult]
    explained: list[tuple[CellResult, str]] = field(default_factory=list)
    mismatches: list[CellResult] = field(default_factory=list)
    ref: Reference | None = None

    @property
    def ok(self) -> bool:
        return not self.mismatches


def check(fuzz_case: FuzzCase, backends: Sequence[Backend]) -> Verdict:
    """Run a drawn case on ``backends`` exactly as the conformance suite runs a case."""
    case, dtype = fuzz_case.case, fuzz_case.dtype
    ref = reference(case, dtype)
    usable = [b for b in backends if dtype in b.dtypes]
    verdict = Verdict(fuzz_case, case_cells(case, dtype, usable, ref), ref=ref)
    for cell in verdict.cells:
        if cell.status != "failed":
            continue
        why = next((e.name for e in EXPLANATIONS if e.applies(fuzz_case, cell, ref)), None)
        if why is None:
            verdict.mismatches.append(cell)
        else:
            verdict.explained.append((cell, why))
    return verdict


# --- the reproducer -------------------------------------------------------------------------


def _literal(a: np.ndarray) -> str:
    """Python source for ``a``: a flat list reshaped (0-d and size-0 included)."""

    def number(x: Any) -> str:
        if isinstance(x, float) and not math.isfinite(x):
            return "np.nan" if math.isnan(x) else ("np.inf" if x > 0 else "-np.inf")
        return repr(x)

    items = ", ".join(number(x) for x in a.reshape(-1).tolist())
    dtype = "np.int64" if a.dtype.kind in "iu" else "np.float64"
    return f"np.array([{items}], dtype={dtype}).reshape({a.shape!r})"


def _source(value: Any) -> str:
    """Python source for an option (repr, but for infinities and NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "float('nan')" if math.isnan(value) else repr(value).replace("inf", "float('inf')")
    return repr(value)


_CONVERT = {
    "numpy": ("import numpy as np", "np.asarray({a}, dtype=np.{d})"),
    "array-api-strict": (
        "import array_api_strict as xps",
        "xps.asarray({a}.astype(np.{d}))",
    ),
    "torch": ("import torch", "torch.tensor({a}).to(torch.{d})"),
    "jax": (
        "import jax\nimport jax.numpy as jnp\njax.config.update('jax_enable_x64', True)",
        "jnp.asarray({a}).astype(jnp.{d})",
    ),
    "dask": ("import dask.array as da", "da.from_array({a}.astype(np.{d}))"),
}
_CONVERT["jax-jit"] = _CONVERT["jax"]


def reproducer(fuzz_case: FuzzCase, cell: CellResult, arrays: Mapping[str, np.ndarray]) -> str:
    """A few lines of Python that rebuild the case's arrays literally and call arrayloss
    (on the cell's backend and dtype) and PyTorch (float64), for a test."""
    case, dtype = fuzz_case.case, fuzz_case.dtype
    info = LOSSES[case.loss]
    backend = cell.backend if cell.backend in _CONVERT else "numpy"
    imports, convert = _CONVERT[backend]
    lines = [
        f"# {case.loss}, {dtype}, {cell.backend}, {cell.check}: {cell.message}",
        *dict.fromkeys(["import numpy as np", "import torch", *imports.split("\n")]),
        "",
        "import arrayloss",
        "",
    ]
    for name, a in arrays.items():
        lines.append(f"{name} = {_literal(a)}")
    options = ", ".join(f"{k!r}: {_source(v)}" for k, v in case.kwargs.items())
    lines.append(f"kwargs = {{{options}}}")

    def call(module: str, wrap: Callable[[str, np.ndarray], str]) -> str:
        pos = [wrap(n, arrays[n]) for n in info.positional if n in arrays]
        kw = [f"{n}={wrap(n, a)}" for n, a in arrays.items() if n not in info.positional]
        return f"{module}.{case.loss}({', '.join([*pos, *kw, '**kwargs'])})"

    def ours(name: str, a: np.ndarray) -> str:
        return name if a.dtype.kind in "iu" and backend == "numpy" else _ours(name, a)

    def _ours(name: str, a: np.ndarray) -> str:
        d = "int64" if a.dtype.kind in "iu" else dtype
        return convert.format(a=name, d=d)

    def theirs(name: str, a: np.ndarray) -> str:
        return f"torch.from_numpy({name})"

    wrt = info.positional[0]
    if cell.check == "grad":
        lines.append(f"t_{wrt} = torch.from_numpy({wrt}).requires_grad_()")
        ref_call = call("torch.nn.functional", lambda n, a: f"t_{n}" if n == wrt else theirs(n, a))
        lines.append(f"{ref_call}.sum().backward()")
        lines.append(f"expected = t_{wrt}.grad.numpy()")
        if backend.startswith("jax"):
            lines.append(
                "actual = jax.grad(lambda x: jnp.sum("
                + call("arrayloss", lambda n, a: "x" if n == wrt else _ours(n, a))
                + f"))({_ours(wrt, arrays[wrt])})"
            )
        else:
            lines.append(f"x = {_ours(wrt, arrays[wrt])}.requires_grad_()")
            lines.append(call("arrayloss", lambda n, a: "x" if n == wrt else _ours(n, a)))
            lines[-1] += ".sum().backward()"
            lines.append("actual = x.grad")
    else:
        lines.append(f"expected = {call('torch.nn.functional', theirs)}")
        lines.append(f"actual = {call('arrayloss', ours)}")
    lines.append("print(actual, expected)")
    return "\n".join(lines)


# --- the fuzz run --------------------------------------------------------------------------


class Mismatch(AssertionError):
    """An unexplained failed cell (one subclass per loss/check/backend, so that hypothesis
    tells different bugs apart and shrinks each)."""

    verdict: Verdict


@functools.cache
def _mismatch_type(signature: str) -> type[Mismatch]:
    return type(f"Mismatch[{signature}]", (Mismatch,), {})


def raise_mismatch(verdict: Verdict) -> None:
    """Raise a :class:`Mismatch` (with the reproducer) if the verdict has mismatches."""
    if verdict.ok:
        return
    cell = verdict.mismatches[0]
    assert verdict.ref is not None
    text = reproducer(verdict.fuzz_case, cell, verdict.ref.arrays)
    exc = _mismatch_type(f"{cell.loss}/{cell.check}")(
        f"{len(verdict.mismatches)} mismatch(es) for {verdict.fuzz_case}\n{text}"
    )
    exc.verdict = verdict
    raise exc


@dataclass
class FuzzResults:
    cases: int = 0
    cells: int = 0
    failed_cells: int = 0
    explained: dict[str, int] = field(default_factory=dict)
    mismatches: list[Verdict] = field(default_factory=list)  # shrunk, one per bug
    losses: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.mismatches


def fuzz(
    n: int,
    seed: int,
    losses: Iterable[str] | None = None,
    backends: Iterable[str] | None = None,
    dtypes: Iterable[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> FuzzResults:
    """Draw ``n`` cases (deterministic for ``seed``), run each on ``backends`` (default
    :data:`DEFAULT_BACKENDS`) against PyTorch, and shrink any unexplained mismatch.

    The run stops at the first mismatch (hypothesis then shrinks it, and any other it
    meets on the way); explained failures are counted and go on."""
    chosen = [backend_by_name(b) for b in (backends or DEFAULT_BACKENDS)]
    runnable = [b for b in chosen if b.skip_reason() is None]
    results = FuzzResults()
    started = time.perf_counter()
    done = {"generating": True}

    @settings(
        max_examples=n,
        database=None,
        deadline=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.generate, Phase.shrink),
        report_multiple_bugs=True,
        print_blob=False,
    )
    @hypothesis_seed(seed)
    @given(cases(losses, dtypes))
    def run_one(fuzz_case: FuzzCase) -> None:
        verdict = check(fuzz_case, runnable)
        if done["generating"]:
            results.cases += 1
            results.cells += len(verdict.cells)
            results.failed_cells += len(verdict.explained) + len(verdict.mismatches)
            loss = fuzz_case.case.loss
            results.losses[loss] = results.losses.get(loss, 0) + 1
            for _, why in verdict.explained:
                results.explained[why] = results.explained.get(why, 0) + 1
            if not verdict.ok:
                done["generating"] = False
                if progress:
                    progress(f"case {results.cases}: a mismatch, shrinking it")
            elif progress and results.cases % 100 == 0:
                elapsed = time.perf_counter() - started
                progress(
                    f"{results.cases}/{n} cases, {results.cells} cells, "
                    f"{sum(results.explained.values())} explained, {elapsed:.0f} s"
                )
        raise_mismatch(verdict)

    try:
        with quiet_legacy_warnings():
            run_one()
    except Mismatch as exc:
        results.mismatches.append(exc.verdict)
    except Exception as group:  # several bugs: an ExceptionGroup (Python 3.11+)
        for exc in getattr(group, "exceptions", None) or [group]:
            if not isinstance(exc, Mismatch):
                raise
            results.mismatches.append(exc.verdict)
    results.seconds = time.perf_counter() - started
    return results


def format_results(results: FuzzResults, n: int, seed: int) -> str:
    lines = [
        f"arrayloss fuzz (seed {seed}): {results.cases} of {n} cases, {results.cells} cells, "
        f"{results.failed_cells} failed cells, "
        f"{sum(results.explained.values())} explained, "
        f"{len(results.mismatches)} unexplained mismatch(es), {results.seconds:.0f} s",
        "cases per loss: " + ", ".join(f"{k} {v}" for k, v in sorted(results.losses.items())),
    ]
    for why, count in sorted(results.explained.items()):
        lines.append(f"explained {why}: {count} cell(s)")
    for verdict in results.mismatches:
        assert verdict.ref is not None
        lines.append("")
        lines.append(f"MISMATCH (shrunk): {verdict.fuzz_case}")
        for cell in verdict.mismatches:
            lines.append(f"  {cell.backend} {cell.check}: {cell.message}")
        lines.append(reproducer(verdict.fuzz_case, verdict.mismatches[0], verdict.ref.arrays))
    return "\n".join(lines)


def main(
    n: int,
    seed: int,
    losses: Iterable[str] | None,
    backends: Iterable[str] | None,
    dtypes: Iterable[str] | None,
    quiet: bool = False,
) -> int:
    """``python -m conformance --fuzz N --seed S``: exit status 1 on any mismatch."""

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    results = fuzz(n, seed, losses, backends, dtypes, None if quiet else progress)
    print(format_results(results, n, seed))
    return 0 if results.ok else 1
