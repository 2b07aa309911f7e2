"""Run every conformance case on every backend and dtype, and compare with PyTorch.

For each case x dtype the data are drawn in float64 and rounded through the dtype (so
every backend and the reference see the same, representable values). The reference is
PyTorch on the CPU in float64 on those values; PyTorch in the case's own dtype is
computed too ("matches PyTorch's rounding"). For each backend the candidate is
``backend.call(arrayloss.<loss>, input, target, **kwargs)`` with arrays of that backend
and dtype.

A value cell passes when the result is an array of the backend (its own array type),
has PyTorch's shape and PyTorch's result dtype for that dtype, and every element lies
within the tolerance below of the float64 reference. The error against PyTorch in the
case's dtype is recorded beside it (reports show both); it does not decide the cell.

Where PyTorch raises, arrayloss must raise an exception of the same category
(``ValueError``, ``TypeError`` or ``RuntimeError``; arrayloss's errors derive from both a
natural type and ``RuntimeError`` where PyTorch raises ``RuntimeError``). Cases whose
error comes from the *values* (``Case.value_check``) are skipped on traced or lazy
backends (jax-jit, Dask), where arrayloss documents that value checks are off.

Gradient cells (backends with autodiff: torch via autograd, JAX via ``jax.grad``; float64
and float32) compare d(sum of the output)/d(first argument) with PyTorch's float64 autograd
gradient, under the same policy with its own k (see ``TOLERANCE_POLICY``).

The run is deterministic: every case draws its data from its own seed.
"""

from __future__ import annotations

import contextlib
import contextvars
import fnmatch
import functools
import importlib
import importlib.metadata
import inspect
import multiprocessing
import platform
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from queue import Empty
from typing import Any, Protocol

import numpy as np

from .backends import BACKENDS, DTYPES, Backend, backend_by_name
from .beyond import BEYOND
from .cases import LOSSES, Case, cases_for, loss_info
from .frontends import FrameworkRun

__all__ = [
    "EPS",
    "GRAD_RTOL_EPS",
    "RTOL_EPS",
    "TOLERANCE_POLICY",
    "CellResult",
    "Reference",
    "Results",
    "Unsupported",
    "case_cells",
    "compare",
    "environment",
    "framework_reference",
    "reference",
    "run",
    "tolerance",
]

#: Machine epsilon of each dtype (bfloat16: 8 significand bits, 2**-7).
EPS: dict[str, float] = {
    "float64": 2.0**-52,
    "float32": 2.0**-23,
    "float16": 2.0**-10,
    "bfloat16": 2.0**-7,
}
#: The tolerance in units of the dtype's eps, for values and for gradients.
RTOL_EPS = 8.0
GRAD_RTOL_EPS = 16.0
#: Gradients are compared in these dtypes only.
GRAD_DTYPES = ("float64", "float32")
#: Where the cases come from (``run(source=...)``, ``--source``).
SOURCES = ("cases", "opinfo", "all")
#: Why a value-check case is skipped on traced or lazy backends.
VALUE_CHECK_SKIP = "value checks are off on traced/lazy backends"

TOLERANCE_POLICY = f"""\
Every backend is held to the same rule. For a result of dtype d with eps = finfo(d).eps
(float64 2**-52, float32 2**-23, float16 2**-10, bfloat16 2**-7), an element a passes
against the reference e (PyTorch, CPU, float64, on the same dtype-rounded inputs, the
result then rounded to d) when

    |a - e| <= k * eps * (|e| + scale)

  k = {RTOL_EPS:g} for values, {GRAD_RTOL_EPS:g} for gradients;
  scale, for values = max(1, the largest finite |input element|, the largest finite
          |unreduced loss element|), times the number of elements N (at least 1) for
          reduction='sum';
  scale, for gradients = max(1, the largest finite |gradient element| of the reference);
          where PyTorch's gradient is mapped onto the exact derivative (ctc_loss, see
          LossInfo.exact_grad), the largest of PyTorch's own gradient too, whose rounding
          the mapped reference carries; for losses computed by a log-space recurrence
          (ctc_loss, LossInfo.grad_scale_by_loss), times max(1, the largest finite
          |unreduced loss element|): each forward variable carries an absolute error of
          about eps * |loss| in log space, a relative error of that size in the gradient.

NaN must face NaN and +-inf the same infinity, element for element.

Why: the losses are built from intermediates (1 - t, 1 - p, 1 + exp(-|x|), (1 - t) x,
the clamped logs) whose size is bounded by that scale; each operation rounds relative to
its intermediate, not to the final result, which may be far smaller after cancellation
(x - log(1 + e^x) for very negative x, or a loss near 0). A sum of N elements accumulates
N such errors. Rounding the reference to d makes float16 overflow (inf) part of the
expected result. k leaves room for a few roundings in the formula and for another order
of summation; gradients take one more division and the reduction's 1/N. The worst errors
measured on the CPU backends (21 losses) are 1.6 eps for values and 2 eps for gradients.
For float64 the bound is 1.8e-15 relative (plus the scale term); 100 eps fails.
"""


def tolerance(dtype: str, expected: np.ndarray, scale: float, grad: bool = False) -> np.ndarray:
    """The allowed |actual - expected| per element (see :data:`TOLERANCE_POLICY`)."""
    k = GRAD_RTOL_EPS if grad else RTOL_EPS
    with np.errstate(invalid="ignore"):
        return np.asarray(k * EPS[dtype] * (np.abs(expected) + scale))


@dataclass
class Comparison:
    passed: bool
    max_abs_err: float
    max_rel_err: float
    # The largest |a - e| / (eps * (|e| + scale)): the error in the policy's units (the
    # tolerance is k of them), comparable across dtypes.
    error_eps: float
    message: str | None = None


def compare(
    actual: np.ndarray, expected: np.ndarray, dtype: str, scale: float, grad: bool = False
) -> Comparison:
    """Compare values under the tolerance policy: NaN equal to NaN, inf to inf of the
    same sign, finite elements within :func:`tolerance`."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        return Comparison(
            False, np.inf, np.inf, np.inf, f"shape {actual.shape} != {expected.shape}"
        )
    nan_a, nan_e = np.isnan(actual), np.isnan(expected)
    finite = np.isfinite(expected) & np.isfinite(actual)
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.where(finite, np.abs(actual - expected), 0.0)
        rel = err / np.where(finite & (expected != 0), np.abs(expected), np.inf)
    max_abs = float(err.max(initial=0.0))
    max_rel = float(rel.max(initial=0.0))
    unit = np.where(finite, EPS[dtype] * (np.abs(np.where(finite, expected, 0.0)) + scale), 1.0)
    error_eps = float((err / unit).max(initial=0.0))
    problems = []

    def first(mask: np.ndarray, what: str) -> None:
        if np.any(mask):
            i = tuple(int(n) for n in np.argwhere(mask)[0])
            problems.append(
                f"{what} at {i}: got {float(actual[i])!r}, expected {float(expected[i])!r}"
            )

    first(nan_a != nan_e, "NaN mismatch")
    first(~nan_a & ~nan_e & ~finite & (actual != expected), "inf mismatch")
    tol = tolerance(dtype, expected, scale, grad)
    bad = finite & (err > tol)
    if np.any(bad):
        i = tuple(int(n) for n in np.argwhere(bad)[0])
        problems.append(
            f"{int(bad.sum())} of {bad.size} elements out of tolerance; first at {i}: "
            f"got {float(actual[i])!r}, expected {float(expected[i])!r} "
            f"(|error| {err[i]:.3g} > tolerance {tol[i]:.3g})"
        )
    if np.any(nan_a != nan_e) or np.any(~nan_a & ~nan_e & ~finite & (actual != expected)):
        max_abs = max_rel = error_eps = np.inf  # a NaN or an infinity out of place
    return Comparison(not problems, max_abs, max_rel, error_eps, "; ".join(problems) or None)


# --- results -----------------------------------------------------------------------------


@dataclass
class CellResult:
    """One case on one backend in one dtype: a value check or a gradient check."""

    case: str
    loss: str
    check: str  # 'value' or 'grad'
    backend: str
    dtype: str
    status: str  # 'passed', 'failed' or 'skipped'
    max_abs_err: float | None = None
    max_rel_err: float | None = None
    error_eps: float | None = None  # see Comparison.error_eps
    # The error against PyTorch computed in the case's own dtype (values only).
    max_abs_err_torch_dtype: float | None = None
    error_eps_torch_dtype: float | None = None  # the same in the policy's eps units
    message: str | None = None
    description: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def row(self) -> str:
        """The row of the matrix: the loss, or 'loss [grad]'."""
        return self.loss if self.check == "value" else f"{self.loss} [grad]"


@dataclass
class Results:
    cells: list[CellResult]
    losses: tuple[str, ...]
    backends: tuple[str, ...]
    dtypes: tuple[str, ...]
    skipped_backends: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    environment: dict[str, Any] = field(default_factory=dict)
    #: The front-ends' cross-checks against Keras 3, optax and MindSpore themselves
    #: (``conformance.frontends.run_frameworks``), when the run included them.
    frameworks: dict[str, FrameworkRun] = field(default_factory=dict)

    @property
    def failures(self) -> list[CellResult]:
        return [c for c in self.cells if c.status == "failed"]

    @property
    def framework_failures(self) -> list[str]:
        return [f"({run.name}) {f}" for run in self.frameworks.values() for f in run.failures]

    @property
    def ok(self) -> bool:
        return not self.failures and not self.framework_failures

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "seconds": round(self.seconds, 3),
            "losses": list(self.losses),
            "backends": list(self.backends),
            "dtypes": list(self.dtypes),
            "skipped_backends": self.skipped_backends,
            "tolerance_policy": TOLERANCE_POLICY,
            "environment": self.environment,
            "cells": [asdict(c) for c in self.cells],
            "frameworks": {name: run.to_json() for name, run in self.frameworks.items()},
        }


# --- PyTorch, the reference --------------------------------------------------------------


@contextlib.contextmanager
def quiet_legacy_warnings() -> Iterator[None]:
    """Silence the deprecation warnings of size_average/reduce: DeprecationWarning from
    arrayloss, UserWarning from PyTorch (both start "size_average and reduce"), and
    kl_div's warning for reduction='mean' (both libraries emit it)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "size_average and reduce", DeprecationWarning)
        warnings.filterwarnings("ignore", "size_average and reduce", UserWarning)
        # kl_div's reduction='mean' warning, from PyTorch and from arrayloss alike.
        warnings.filterwarnings("ignore", "reduction: 'mean' divides", UserWarning)
        # The regression losses' warning for a target of another shape (both libraries).
        warnings.filterwarnings("ignore", "Using a target size", UserWarning)
        yield


def _torch_dtype(dtype: str) -> Any:
    import torch

    return getattr(torch, dtype)


def _error_category(exc: BaseException) -> type[BaseException]:
    for category in (ValueError, TypeError, RuntimeError):
        if isinstance(exc, category):
            return category
    return Exception


def _describe_error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:300]


@dataclass
class Reference:
    """PyTorch's answers for one case in one dtype."""

    arrays: dict[str, np.ndarray]  # float64 values, representable in the dtype
    error: BaseException | None = None
    value: np.ndarray | None = None  # float64 result rounded to the result dtype
    result_dtype: str = ""
    shape: tuple[int, ...] = ()
    scale: float = 1.0
    value_in_dtype: np.ndarray | None = None  # PyTorch computed in the dtype
    grad: np.ndarray | None = None  # float64 d(sum)/d(first argument), or None
    grad_scale: float = 1.0
    grad_skip: str | None = None
    #: Why the reference could not run at all (its library is not installed): every cell
    #: of the case is skipped with this reason rather than judged against an error.
    unavailable: str | None = None


def _is_index(a: np.ndarray) -> bool:
    # Class indices (int64) stay integers in every dtype of a run.
    return a.dtype.kind in "iu"


def _round_through(a: np.ndarray, dtype: str) -> np.ndarray:
    import torch

    return torch.from_numpy(a).to(_torch_dtype(dtype)).to(torch.float64).numpy()


def _torch_loss(
    case: Case,
    arrays: Mapping[str, np.ndarray],
    dtype: str,
    requires_grad: bool = False,
    **overrides: Any,
) -> tuple[Any, Any]:
    """``torch.nn.functional.<loss>`` on ``arrays`` in ``dtype``: (result, the tensor of
    the first positional argument)."""
    import torch
    import torch.nn.functional as F

    tensors = {
        k: torch.from_numpy(v) if _is_index(v) else torch.from_numpy(v).to(_torch_dtype(dtype))
        for k, v in arrays.items()
    }
    # A positional argument the case gives as an option (gaussian_nll_loss's float
    # `var`) is not drawn: it goes by keyword, with the other options.
    positional = [tensors.pop(name) for name in loss_info(case.loss).positional if name in tensors]
    positional[0].requires_grad_(requires_grad)
    with quiet_legacy_warnings():
        out = getattr(F, case.loss)(*positional, **tensors, **{**case.kwargs, **overrides})
    return out, positional[0]


def _finite_max(*arrays: np.ndarray) -> float:
    biggest = 0.0
    for a in arrays:
        a = np.abs(a[np.isfinite(a)])
        if a.size:
            biggest = max(biggest, float(a.max()))
    return biggest


def _effective_reduction(kwargs: Mapping[str, Any]) -> str:
    size_average, reduce = kwargs.get("size_average"), kwargs.get("reduce")
    if size_average is None and reduce is None:
        return str(kwargs.get("reduction", "mean"))
    if reduce is False:
        return "none"
    return "sum" if size_average is False else "mean"


def _unreduced_options(loss: str) -> dict[str, Any]:
    """The options that make PyTorch's ``loss`` unreduced: reduction='none', and the
    legacy size_average/reduce cleared where the loss has them (huber_loss has not)."""
    import torch.nn.functional as F

    parameters = inspect.signature(getattr(F, loss)).parameters
    options = {"size_average": None, "reduce": None, "reduction": "none"}
    return {k: v for k, v in options.items() if k in parameters}


def reference(case: Case, dtype: str) -> Reference:
    """PyTorch's float64 result (and gradient) and its result in ``dtype``; for a loss
    PyTorch lacks, its source framework's (:func:`framework_reference`)."""
    import torch

    arrays = {k: v if _is_index(v) else _round_through(v, dtype) for k, v in case.arrays().items()}
    if loss_info(case.loss).reference is not None:
        return framework_reference(case, dtype, arrays)
    ref = Reference(arrays)
    try:
        out, _ = _torch_loss(case, arrays, "float64")
    except Exception as exc:
        ref.error = exc
        return ref
    try:
        in_dtype, _ = _torch_loss(case, arrays, dtype)
        ref.result_dtype = str(in_dtype.dtype).rsplit(".", 1)[-1]
        ref.value_in_dtype = in_dtype.to(torch.float64).numpy()
    except Exception:  # PyTorch lacks a kernel in this dtype: float64 still decides
        ref.result_dtype = dtype
    ref.shape = tuple(out.shape)
    ref.value = _round_through(out.numpy(), ref.result_dtype)
    # The size of the intermediates (see TOLERANCE_POLICY).
    unreduced, _ = _torch_loss(case, arrays, "float64", **_unreduced_options(case.loss))
    n_sum = max(1, unreduced.numel()) if _effective_reduction(case.kwargs) == "sum" else 1
    first = arrays[loss_info(case.loss).positional[0]]
    ref.scale = max(1.0, _finite_max(first, unreduced.numpy())) * n_sum

    ref.grad_skip = _grad_skip(case, dtype, ref)
    if ref.grad_skip is None:
        out, x = _torch_loss(case, arrays, "float64", requires_grad=True)
        out.sum().backward()
        # None: PyTorch defined no gradient on the way (the 0-"norm", a count): zero.
        ref.grad = x.grad.numpy() if x.grad is not None else np.zeros(tuple(x.shape))
        info = loss_info(case.loss)
        torch_grad_max = _finite_max(ref.grad)
        if info.exact_grad is not None:
            ref.grad = info.exact_grad(case, arrays, ref.grad)
        if not np.all(np.isfinite(ref.grad)):
            ref.grad, ref.grad_skip = None, "PyTorch's gradient is not finite"
        else:
            ref.grad_scale = max(1.0, _finite_max(ref.grad), torch_grad_max)
            if info.grad_scale_by_loss:
                ref.grad_scale *= max(1.0, _finite_max(unreduced.numpy()))
    return ref


def framework_reference(case: Case, dtype: str, arrays: dict[str, np.ndarray]) -> Reference:
    """The answers of a loss's source framework (``LossInfo.reference``, a JAX function
    called as arrayloss's) for one case: as :func:`reference` takes PyTorch's, with
    ``jax.grad`` for the gradient."""
    from .backends import _jax

    jax = _jax()  # 64-bit JAX
    jnp = jax.numpy
    info = loss_info(case.loss)
    assert info.reference is not None
    function = info.reference
    ref = Reference(arrays)

    def split(dt: str) -> tuple[list[Any], dict[str, Any]]:
        args = {
            k: jnp.asarray(v) if _is_index(v) else jnp.asarray(v, dtype=getattr(jnp, dt))
            for k, v in arrays.items()
        }
        positional = [args.pop(name) for name in info.positional if name in args]
        return positional, args

    def call(dt: str, **overrides: Any) -> np.ndarray:
        positional, rest = split(dt)
        out = function(*positional, **rest, **{**case.kwargs, **overrides})
        return np.array(jnp.asarray(out, dtype=jnp.float64))

    try:
        out = call("float64")
    except ModuleNotFoundError as exc:  # the source framework is not installed here
        ref.unavailable = (
            f"the reference {function.__name__} needs {exc.name}, which is not installed "
            f"(pip install {exc.name})"
        )
        return ref
    except Exception as exc:
        ref.error = exc
        return ref
    # The result dtype is the case's (every array of a case has it): the frameworks
    # disagree here (Keras computes float16 in float32), arrayloss keeps the input's.
    ref.result_dtype = dtype
    try:
        positional, rest = split(dtype)
        in_dtype = function(*positional, **rest, **case.kwargs)
        ref.value_in_dtype = np.array(jnp.asarray(in_dtype, dtype=jnp.float64))
    except Exception:  # no kernel in this dtype: float64 still decides
        pass
    ref.shape = tuple(out.shape)
    ref.value = _round_through(out, ref.result_dtype)
    try:
        unreduced = call("float64", reduction="none")
    except Exception:  # a reference without unreduced values (optax's ntxent): its result
        unreduced = out
    n_sum = max(1, unreduced.size) if _effective_reduction(case.kwargs) == "sum" else 1
    ref.scale = max(1.0, _finite_max(arrays[info.positional[0]], unreduced)) * n_sum
    ref.grad_skip = _grad_skip(case, dtype, ref)
    if ref.grad_skip is None:
        positional, rest = split("float64")

        def total(x: Any) -> Any:
            return jnp.sum(function(x, *positional[1:], **rest, **case.kwargs))

        ref.grad = np.array(jax.grad(total)(positional[0]))
        if not np.all(np.isfinite(ref.grad)):
            ref.grad, ref.grad_skip = None, f"{info.source}'s gradient is not finite"
        else:
            ref.grad_scale = max(1.0, _finite_max(ref.grad))
    return ref


def _grad_skip(case: Case, dtype: str, ref: Reference) -> str | None:
    if dtype not in GRAD_DTYPES:
        return f"gradients are compared in {' and '.join(GRAD_DTYPES)} only"
    if not all(np.all(np.isfinite(a)) for a in ref.arrays.values()):
        return "non-finite inputs"
    if ref.value is None or not np.all(np.isfinite(ref.value)):
        return "non-finite loss"
    return loss_info(case.loss).grad_exclusion(ref.arrays)


# --- the candidate: arrayloss on a backend -----------------------------------------------


class Unsupported(Exception):
    """Raised by a function under test (or its adapter) for a case it cannot express
    (an option or a shape it lacks): the cell is skipped with this message as reason."""


#: The function under test in place of arrayloss's (``run(function=...)``), or None.
_FUNCTION: contextvars.ContextVar[Callable[..., Any] | None] = contextvars.ContextVar(
    "_FUNCTION", default=None
)


def _candidate(loss: str) -> Callable[..., Any]:
    """The function the cells test: arrayloss's ``loss``, or the one given to run()."""
    import arrayloss

    function = _FUNCTION.get()
    return getattr(arrayloss, loss) if function is None else function


def _expected_type(backend: Backend, dtype: str) -> Any:
    return type(backend.asarray(np.zeros(1), dtype))


def _backend_args(backend: Backend, arrays: Mapping[str, np.ndarray], dtype: str) -> dict[str, Any]:
    return {k: backend.asarray(v, "int64" if _is_index(v) else dtype) for k, v in arrays.items()}


def _call(backend: Backend, case: Case, args: dict[str, Any]) -> Any:
    fn = _candidate(case.loss)
    names = loss_info(case.loss).positional
    rest = {k: v for k, v in args.items() if k not in names}
    positional = [args[name] for name in names if name in args]  # see _torch_loss
    with quiet_legacy_warnings():
        return backend.call(fn, *positional, **rest, **case.kwargs)


def _torch_grad(backend: Backend, case: Case, args: dict[str, Any]) -> np.ndarray:
    wrt = loss_info(case.loss).grad_wrt
    args[wrt].requires_grad_(True)
    _call(backend, case, args).sum().backward()
    return backend.to_numpy(args[wrt].grad)


def _jax_grad(backend: Backend, case: Case, args: dict[str, Any]) -> np.ndarray:
    info = loss_info(case.loss)
    options = tuple(sorted(case.kwargs.items()))
    grad = _jax_grad_function(_candidate(case.loss), info.positional, options, backend.jit)
    x = args.pop(info.grad_wrt)
    return backend.to_numpy(grad(x, args))


@functools.lru_cache(maxsize=1024)
def _jax_grad_function(
    fn: Callable[..., Any],
    positional: tuple[str, ...],
    options: tuple[tuple[str, Any], ...],
    jit: bool,
) -> Callable[..., Any]:
    """``jax.grad`` of the summed loss with respect to its first positional argument
    (``positional[0]``); on jit backends the
    whole gradient is traced under ``jax.jit`` (one compilation per shape, where
    ``grad`` of a jitted function compiles its forward and backward parts apart).
    Cached so that JAX reuses its compilations across cases."""
    import jax
    import jax.numpy as jnp

    kwargs = dict(options)

    def total(x: Any, arrays: dict[str, Any]) -> Any:
        others = [arrays[name] for name in positional[1:] if name in arrays]
        rest = {k: v for k, v in arrays.items() if k not in positional}
        with quiet_legacy_warnings():
            return jnp.sum(fn(x, *others, **rest, **kwargs))

    grad = jax.grad(total)
    return jax.jit(grad) if jit else grad


#: How to take d(sum of the loss)/d(first argument) on each autodiff library.
GRADIENTS: dict[str, Callable[[Backend, Case, dict[str, Any]], np.ndarray]] = {
    "torch": _torch_grad,
    "jax": _jax_grad,
}


def _value_cell(backend: Backend, case: Case, dtype: str, ref: Reference) -> CellResult:
    cell = CellResult(
        case.name, case.loss, "value", backend.name, dtype, "failed", description=case.describe()
    )
    if ref.unavailable is not None:
        cell.status, cell.message = "skipped", ref.unavailable
        return cell
    if case.value_check and (backend.jit or backend.lazy):
        cell.status, cell.message = "skipped", VALUE_CHECK_SKIP
        return cell
    try:
        result = _call(backend, case, _backend_args(backend, ref.arrays, dtype))
    except Unsupported as exc:
        cell.status, cell.message = "skipped", str(exc)
        return cell
    except Exception as exc:
        cell.status, cell.message = _judge_error(ref.error, exc)
        return cell
    if ref.error is not None:
        source = (
            "PyTorch" if loss_info(case.loss).reference is None else loss_info(case.loss).source
        )
        cell.message = f"{source} raised, arrayloss did not: {_describe_error(ref.error)}"
        return cell
    cell.message = _check_array(backend, result, dtype, ref)
    if cell.message is not None:
        return cell
    try:
        actual = backend.to_numpy(result)  # Dask computes here
    except Exception as exc:
        cell.message = f"computing the result raised: {_describe_error(exc)}"
        return cell
    assert ref.value is not None
    comparison = compare(actual, ref.value, _judged_in(ref.result_dtype, case), ref.scale)
    cell.max_abs_err, cell.max_rel_err = comparison.max_abs_err, comparison.max_rel_err
    cell.error_eps = comparison.error_eps
    if ref.value_in_dtype is not None:
        against_dtype = compare(actual, ref.value_in_dtype, ref.result_dtype, ref.scale)
        cell.max_abs_err_torch_dtype = against_dtype.max_abs_err
        cell.error_eps_torch_dtype = against_dtype.error_eps
    cell.status = "passed" if comparison.passed else "failed"
    cell.message = comparison.message
    return cell


def _judged_in(dtype: str, case: Case) -> str:
    """The dtype whose eps the tolerance takes: the result's, or, where the reference
    computes in a narrower dtype whatever its inputs (``LossInfo.reference_precision``:
    Keras's ``ops.mean`` accumulates float64 in float32 on JAX), that dtype's if wider."""
    floor = loss_info(case.loss).reference_precision
    if floor is not None and EPS[floor] > EPS[dtype]:
        return floor
    return dtype


def _judge_error(torch_error: BaseException | None, exc: BaseException) -> tuple[str, str]:
    """(status, message) when arrayloss raised ``exc``."""
    if torch_error is None:
        return "failed", f"arrayloss raised, PyTorch did not: {_describe_error(exc)}"
    category = _error_category(torch_error)
    if not isinstance(exc, category):
        return "failed", (
            f"arrayloss raised {type(exc).__name__}, not a {category.__name__} "
            f"as PyTorch ({_describe_error(torch_error)}): {_describe_error(exc)}"
        )
    return "passed", (
        f"both raised: PyTorch {_describe_error(torch_error)}; arrayloss {_describe_error(exc)}"
    )


def _qualname(cls: Any) -> str:
    return f"{cls.__module__.split('.')[0]}.{cls.__qualname__}"


def _check_array(backend: Backend, result: Any, dtype: str, ref: Reference) -> str | None:
    """What is wrong with ``result`` as an array (type, shape, dtype), or None."""
    expected_type = _expected_type(backend, dtype)
    if type(result) is not expected_type:
        return f"result is {_qualname(type(result))}, not {_qualname(expected_type)}"
    if tuple(result.shape) != ref.shape:
        return f"result shape {tuple(result.shape)} != PyTorch's {ref.shape}"
    if backend.dtype_name(result) != ref.result_dtype:
        return f"result dtype {backend.dtype_name(result)} != PyTorch's {ref.result_dtype}"
    return None


def _grad_cell(backend: Backend, case: Case, dtype: str, ref: Reference) -> CellResult | None:
    if ref.error is not None or dtype not in GRAD_DTYPES:
        return None  # no gradient to compare
    cell = CellResult(
        case.name, case.loss, "grad", backend.name, dtype, "skipped", description=case.describe()
    )
    if ref.grad is None:
        cell.message = ref.unavailable or ref.grad_skip
        return cell
    gradient = GRADIENTS.get(backend.module)
    if gradient is None:
        cell.message = f"no gradient runner for {backend.module}"
        return cell
    try:
        actual = gradient(backend, case, _backend_args(backend, ref.arrays, dtype))
    except Unsupported as exc:
        cell.message = str(exc)
        return cell
    except Exception as exc:
        cell.status, cell.message = "failed", f"gradient raised: {_describe_error(exc)}"
        return cell
    comparison = compare(actual, ref.grad, _judged_in(dtype, case), ref.grad_scale, grad=True)
    cell.max_abs_err, cell.max_rel_err = comparison.max_abs_err, comparison.max_rel_err
    cell.error_eps = comparison.error_eps
    cell.status = "passed" if comparison.passed else "failed"
    cell.message = comparison.message
    return cell


# --- the run -----------------------------------------------------------------------------

#: A worker's unit: (losses, backends, dtype, case patterns or None).
# (losses, backends, dtype, case patterns, own generated cases?, extra cases (OpInfo)).
_Unit = tuple[tuple[str, ...], tuple[str, ...], str, tuple[str, ...] | None, bool, tuple[Case, ...]]


def _select(names: Iterable[str] | None, known: Sequence[str], what: str) -> tuple[str, ...]:
    if names is None:
        return tuple(known)
    chosen = tuple(dict.fromkeys(names))
    unknown = [n for n in chosen if n not in known]
    if unknown:
        raise ValueError(
            f"unknown {what} {', '.join(map(repr, unknown))}; known: {', '.join(known)}"
        )
    return chosen


def run(
    losses: Iterable[str] | None = None,
    backends: Iterable[str] | None = None,
    dtypes: Iterable[str] | None = None,
    cases: Iterable[str] | None = None,
    jobs: int = 1,
    progress: Progress | None = None,
    function: Callable[..., Any] | None = None,
    source: str = "cases",
) -> Results:
    """Run the conformance suite; the one code path of ``python -m conformance`` and pytest.

    Parameters
    ----------
    losses, backends, dtypes
        Names to run (default: every loss, every backend, every dtype). Backends that
        cannot run here are listed in ``Results.skipped_backends`` with their reason.
    cases
        Shell-style patterns matched against case ids ``loss/name`` (default: all).
    jobs
        With ``jobs > 1``, each dtype runs in a worker process (at most ``jobs`` at a
        time; JAX's compilations, most of the time of a run, are per dtype anyway).
        With 1 (the default) everything runs in this process, so that monkeypatched
        losses are seen.
    progress
        Told the number of runs (case x dtype x backend) before they start and each
        finished case as it finishes, from the worker processes too (through a queue):
        the command line's progress bar (:class:`conformance.progress.ProgressBar`).
    function
        The function to test in place of arrayloss's (one loss; called as PyTorch's,
        see ``conformance.check``). It runs in this process whatever ``jobs`` says.
    source
        ``"cases"`` (the default): the generated cases of :mod:`conformance.cases`;
        ``"opinfo"``: PyTorch's OpInfo sample inputs (:mod:`conformance.opinfo`, drawn
        here, once, and handed to the workers as data); ``"all"``: both.

    Raises
    ------
    ValueError
        An unknown loss, backend, dtype or source name.
    """
    started = time.perf_counter()
    loss_names = _select(losses, (*LOSSES, *BEYOND), "loss")
    backend_names = _select(backends, tuple(b.name for b in BACKENDS), "backend")
    dtype_names = _select(dtypes, DTYPES, "dtype")
    patterns = tuple(cases) if cases is not None else None
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; known: {', '.join(SOURCES)}")
    extra: tuple[Case, ...] = ()
    if source in ("opinfo", "all"):
        from .opinfo import opinfo_cases

        extra = opinfo_cases(loss_names)
    chosen = [backend_by_name(n) for n in backend_names]
    skipped = {b.name: reason for b in chosen if (reason := b.skip_reason()) is not None}
    runnable = tuple(b.name for b in chosen if b.name not in skipped)

    own = source in ("cases", "all")
    units = [(loss_names, runnable, dtype, patterns, own, extra) for dtype in dtype_names]
    if progress is not None:
        progress.start(sum(_count_runs(unit) for unit in units))
    cells: list[CellResult] = []
    # A user's function need not be importable by a worker: it runs in this process.
    if function is None and jobs > 1 and len(units) > 1:
        cells = _run_in_workers(units, min(jobs, len(units)), progress)
    else:
        global _advance
        _advance = progress.advance if progress is not None else None
        token = _FUNCTION.set(function)
        try:
            for unit in units:
                cells += _run_dtype(unit)
        finally:
            _FUNCTION.reset(token)
            _advance = None
    if progress is not None:
        progress.finish()
    order = {name: i for i, name in enumerate((*loss_names, *dtype_names, *runnable))}
    cells.sort(key=lambda c: (order[c.loss], c.case, order[c.dtype], order[c.backend], c.check))
    return Results(
        cells,
        loss_names,
        runnable,
        dtype_names,
        skipped,
        time.perf_counter() - started,
        environment([backend_by_name(n) for n in runnable]),
    )


def _run_dtype(unit: _Unit) -> list[CellResult]:
    """Every selected case in one dtype on the given backends (a worker's unit): the
    generated cases of each loss if ``own``, then the ``extra`` ones (OpInfo samples)."""
    _, backend_names, dtype, *_ = unit
    backends = [b for b in map(backend_by_name, backend_names) if dtype in b.dtypes]
    cells: list[CellResult] = []
    if not backends:
        return cells
    for case in _unit_cases(unit):
        if (skip := getattr(case, "skip", None)) is not None:  # an unconvertible sample
            cells += [_skipped_cell(b, case, dtype, skip) for b in backends]
        else:
            cells += case_cells(case, dtype, backends, reference(case, dtype))
        if _advance is not None:
            _advance(len(backends), f"{dtype} {case.loss}")
    return cells


def case_cells(
    case: Case, dtype: str, backends: Sequence[Backend], ref: Reference
) -> list[CellResult]:
    """The value cell (and gradient cell, on autodiff backends) of one case in one dtype
    on each of ``backends``, against PyTorch's answers ``ref`` (:func:`reference`)."""
    cells: list[CellResult] = []
    for backend in backends:
        cells.append(_value_cell(backend, case, dtype, ref))
        if backend.autodiff and (grad := _grad_cell(backend, case, dtype, ref)):
            cells.append(grad)
    return cells


def _unit_cases(unit: _Unit) -> Iterator[Case]:
    """The selected cases of a unit (its losses, in its dtype, matching its patterns)."""
    loss_names, _, dtype, patterns, own, extra = unit
    for loss in loss_names:
        chosen = (*(cases_for(loss) if own else ()), *(c for c in extra if c.loss == loss))
        for case in chosen:
            if patterns is not None and not any(fnmatch.fnmatchcase(case.id, p) for p in patterns):
                continue
            if case.dtypes is not None and dtype not in case.dtypes:
                continue
            yield case


def _count_runs(unit: _Unit) -> int:
    """How many (case, backend) runs a unit makes: its progress total."""
    backends = [b for b in map(backend_by_name, unit[1]) if unit[2] in b.dtypes]
    return len(backends) * sum(1 for _ in _unit_cases(unit)) if backends else 0


class Progress(Protocol):
    """What :func:`run` tells a progress display (see conformance/progress.py)."""

    def start(self, total: int) -> None: ...
    def advance(self, n: int, label: str) -> None: ...
    def finish(self) -> None: ...


#: Where _run_dtype reports each finished case: the caller's progress in this process,
#: a queue to the parent in a worker process, or nothing.
_advance: Callable[[int, str], None] | None = None


def _init_worker(queue: Any) -> None:
    global _advance
    if queue is not None:

        def advance(n: int, label: str) -> None:
            queue.put((n, label))

        _advance = advance


def _run_in_workers(
    units: list[_Unit], workers: int, progress: Progress | None
) -> list[CellResult]:
    """Each unit (a dtype) in a worker process; their progress comes back through a queue."""
    # spawn, not fork: JAX and PyTorch hold threads that fork would copy broken.
    context = multiprocessing.get_context("spawn")
    queue = context.Queue() if progress is not None else None

    def drain() -> None:
        while queue is not None and progress is not None:
            try:
                n, label = queue.get_nowait()
            except Empty:
                return
            progress.advance(n, label)

    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_init_worker, initargs=(queue,)
    ) as pool:
        futures = [pool.submit(_run_dtype, unit) for unit in units]
        pending = set(futures)
        while pending:
            _, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
            drain()
    drain()
    return [cell for future in futures for cell in future.result()]


def _skipped_cell(backend: Backend, case: Case, dtype: str, reason: str) -> CellResult:
    return CellResult(case.name, case.loss, "value", backend.name, dtype, "skipped", message=reason)


# --- the environment ---------------------------------------------------------------------

_DISTRIBUTIONS = (
    "numpy",
    "torch",
    "jax",
    "jaxlib",
    "dask",
    "array-api-strict",
    "array-api-compat",
    "arrayloss",
    "optax",
    "keras",
    "cupy-cuda12x",
)


def environment(backends: Sequence[Backend] = ()) -> dict[str, Any]:
    """Versions of Python and the array libraries, and the devices the backends used."""
    versions = {"python": platform.python_version()}
    for dist in _DISTRIBUTIONS:
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            if dist not in ("cupy-cuda12x", "optax", "keras"):
                versions[dist] = "not installed"
    devices = {"cpu": f"{platform.machine()} {platform.processor() or ''}".strip()}
    if any(b.module == "torch" for b in backends):
        torch = importlib.import_module("torch")
        cuda = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        devices["torch"] = ", ".join(["cpu", *(f"cuda:{i} {n}" for i, n in enumerate(cuda))])
    if any(b.module == "jax" for b in backends):
        jax = importlib.import_module("jax")
        devices["jax"] = ", ".join(str(d) for d in jax.devices())
    from arrayloss._dispatch import fast_paths_enabled

    return {
        "versions": versions,
        "platform": platform.platform(),
        "devices": devices,
        # Which definitions ran: the backend-specific fast paths, or only the generic
        # array-API ones (--generic); docs/performance.md lists the fast paths.
        "fast_paths": "on" if fast_paths_enabled() else "off (--generic)",
    }
