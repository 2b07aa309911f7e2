"""PyTorch's own test inputs as a second source of conformance cases.

PyTorch tests each operator on the sample inputs of its ``OpInfo``
(``torch.testing._internal.common_methods_invocations.op_db``). This module draws the
samples of the OpInfos of the losses in :data:`conformance.cases.LOSSES`
(``nn.functional.<loss>``, and any variant of it) on the CPU in float64, with fixed seeds,
and turns each ``SampleInput(input, args, kwargs)`` into a :class:`ArrayCase`: a case whose
arrays are fixed NumPy data instead of being drawn from an :class:`~conformance.cases.Arg`.
The runner then treats it like any other case: every backend, every dtype (the float64
data rounded through the dtype), values and gradients against PyTorch in float64. The
OpInfo's error inputs (``error_inputs``: inputs PyTorch must reject) are converted the
same way (``.../error-<i>``): PyTorch raises there, and arrayloss must raise an error of
the same kind.

The mapping (see :func:`convert_sample`):

- ``input`` and the positional ``args`` take the names of the loss's parameters in order
  (``arrayloss.<loss>``'s signature, which is ``torch.nn.functional.<loss>``'s);
- a tensor becomes a NumPy array (float64, or int64 for class indices and lengths);
- a list of ints (``ctc_loss``'s lengths) becomes a tuple of ints, passed by keyword;
- ``torch.nn.PairwiseDistance()`` with its defaults (``p=2``, ``eps=1e-6``,
  ``keepdim=False``), the ``distance_function`` of ``triplet_margin_with_distance_loss``'s
  samples, is the loss's default distance: it is dropped (``distance_function=None``);
- other options (numbers, strings, booleans, None) are passed as they are.

A sample that cannot be expressed as data (another callable, a tensor on another device,
a complex or boolean tensor) is not converted: :func:`opinfo_skipped` lists it with its
reason, and the runner reports it as a skipped cell. Every other sample runs on every
backend and dtype; nothing is dropped silently.

Importing ``torch.testing._internal`` takes seconds: it happens once per process, in
:func:`opinfo_cases` (cached), and ``python -m conformance`` calls it in the parent
process and hands the cases, which are plain data, to its workers. The import has side
effects on the process that PyTorch's test suite wants: it freezes the
``torch.backends`` flags (``torch.backends.disable_global_flags()``) and wraps
TorchScript calls; arrayloss and its tests use neither.
"""

from __future__ import annotations

import functools
import inspect
import random
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .cases import LOSSES, Case

__all__ = [
    "NO_OPINFO",
    "OPINFO_PREFIX",
    "SEED",
    "ArrayCase",
    "convert_sample",
    "error_samples_for",
    "opinfo_cases",
    "opinfo_names",
    "opinfo_skipped",
    "samples_for",
]

#: The prefix of every OpInfo case's name: ``opinfo:nn.functional.mse_loss/3``.
OPINFO_PREFIX = "opinfo:"
#: The seed of torch's and Python's generators before each OpInfo's samples are drawn
#: (some samples draw options with Python's ``random``: huber_loss's delta, ...).
SEED = 0
#: The losses of :data:`conformance.cases.LOSSES` that have no OpInfo in PyTorch 2.13,
#: with why (none: all 21 have one, ``nn.functional.<loss>``).
NO_OPINFO: dict[str, str] = {}


@dataclass(frozen=True, eq=False)
class ArrayCase(Case):
    """A case whose arrays are fixed data (an OpInfo sample), not drawn from a seed.

    ``args`` is empty; ``data`` holds the arrays by parameter name (float64, or int64
    for indices and lengths), positional ones first. ``name`` names the OpInfo and the
    sample's index, ``opinfo:nn.functional.mse_loss/3``, so the id is
    ``mse_loss/opinfo:nn.functional.mse_loss/3``. ``skip`` is set, with the reason,
    for a sample that could not be converted: the runner reports it as skipped.
    """

    data: Mapping[str, np.ndarray] = field(default_factory=dict)
    skip: str | None = None

    def arrays(self) -> dict[str, np.ndarray]:
        """Copies of the sample's arrays."""
        return {name: np.array(a, copy=True) for name, a in self.data.items()}

    def describe(self) -> str:
        parts = [f"{name}={_describe_array(a)}" for name, a in self.data.items()]
        parts += [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return ", ".join(parts)


def _describe_array(a: np.ndarray) -> str:
    shape = "(" + ",".join(str(n) for n in a.shape) + ")"
    if a.dtype.kind in "iu":
        values = a.ravel()[:6].tolist()
        more = "..." if a.size > 6 else ""
        return f"int{shape}{values}{more}"
    return f"opinfo{shape}"


# --- PyTorch's OpInfos -------------------------------------------------------------------


@functools.cache
def _op_db() -> tuple[Any, ...]:
    """Every OpInfo of PyTorch's test suite (the slow import, once per process)."""
    from torch.testing._internal.common_methods_invocations import op_db

    return tuple(op_db)


def _opinfos(loss: str) -> list[Any]:
    """The OpInfos of ``torch.nn.functional.<loss>`` (its variants included), but
    linear_cross_entropy's ``chunked*`` variants: their samples are the reference variant's
    with ``options=LinearCrossEntropyOptions(...)``, knobs of PyTorch's own kernel (an
    object, not data); arrayloss's chunking is tested by tests/test_linear_cross_entropy.py."""
    return [
        op
        for op in _op_db()
        if op.name == f"nn.functional.{loss}"
        and not (loss == "linear_cross_entropy" and op.variant_test_name.startswith("chunked"))
    ]


def opinfo_names() -> dict[str, list[str]]:
    """Each loss of :data:`LOSSES` -> the names of its OpInfos (with the variant after a
    dot, as PyTorch's test names write it)."""
    return {loss: [_full_name(op) for op in _opinfos(loss)] for loss in LOSSES}


def _full_name(op: Any) -> str:
    return f"{op.name}.{op.variant_test_name}" if op.variant_test_name else str(op.name)


def samples_for(op: Any) -> list[Any]:
    """The OpInfo's sample inputs on the CPU in float64, drawn deterministically: torch's
    and Python's generators are seeded with :data:`SEED` first, and restored after."""
    import torch

    return _seeded(lambda: list(op.sample_inputs("cpu", torch.float64, requires_grad=False)))


def error_samples_for(op: Any) -> list[Any]:
    """The ``SampleInput`` of each of the OpInfo's error inputs (inputs PyTorch must
    reject; none if it has no ``error_inputs_func``), drawn as :func:`samples_for`."""
    if op.error_inputs_func is None:
        return []
    return _seeded(lambda: [e.sample_input for e in op.error_inputs("cpu")])


def _seeded(draw: Callable[[], list[Any]]) -> list[Any]:
    import torch

    state = random.getstate()
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(SEED)
            random.seed(SEED)
            return draw()
    finally:
        random.setstate(state)


# --- the conversion ----------------------------------------------------------------------


class Unconvertible(ValueError):
    """A sample argument that cannot be expressed as data."""


def _parameters(loss: str) -> list[str]:
    import arrayloss

    return list(inspect.signature(getattr(arrayloss, loss)).parameters)


def _is_default_pairwise_distance(value: Any) -> bool:
    import torch

    return (
        type(value) is torch.nn.PairwiseDistance
        and value.norm == 2.0
        and value.eps == 1e-6
        and value.keepdim is False
    )


def _convert_value(name: str, value: Any) -> tuple[str, Any]:
    """('array', ndarray), ('option', value) or ('drop', None) for one argument."""
    import torch

    if isinstance(value, torch.Tensor):
        if value.device.type != "cpu":
            raise Unconvertible(f"{name} is on {value.device}")
        if value.is_floating_point():
            return "array", value.detach().to(torch.float64).numpy().copy()
        if value.dtype in (torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8):
            return "array", value.detach().to(torch.int64).numpy().copy()
        raise Unconvertible(f"{name} is a {value.dtype} tensor")
    if isinstance(value, (list, tuple)):
        if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            return "option", tuple(value)
        raise Unconvertible(f"{name} is a sequence of {sorted({type(v).__name__ for v in value})}")
    if value is None or isinstance(value, (bool, int, float, str)):
        return "option", value
    if name == "distance_function" and _is_default_pairwise_distance(value):
        return "drop", None
    raise Unconvertible(f"{name} is a {type(value).__name__}, not data")


def convert_sample(loss: str, sample: Any, name: str) -> ArrayCase:
    """One ``SampleInput`` of ``loss``'s OpInfo as an :class:`ArrayCase` named ``name``.

    ``sample.input`` and ``sample.args`` are the loss's parameters in order; keywords
    keep their names. A sample that cannot be converted comes back with ``skip`` set.
    """
    parameters = _parameters(loss)
    values: dict[str, Any] = {}
    positional = [sample.input, *sample.args]
    if len(positional) > len(parameters):
        return _skipped(loss, name, f"{len(positional)} positional arguments")
    values.update(zip(parameters, positional, strict=False))
    for key, value in sample.kwargs.items():
        if key not in parameters or key in values:
            return _skipped(loss, name, f"unknown or repeated argument {key!r}")
        values[key] = value
    arrays: dict[str, np.ndarray] = {}
    options: dict[str, Any] = {}
    try:
        for key, value in values.items():
            kind, converted = _convert_value(key, value)
            if kind == "array":
                arrays[key] = converted
            elif kind == "option":
                options[key] = converted
    except Unconvertible as exc:
        return _skipped(loss, name, f"not expressible as data: {exc}")
    # The loss's positional arrays first, in order (the runner passes them by position).
    order = [p for p in LOSSES[loss].positional if p in arrays]
    data = {key: arrays[key] for key in [*order, *(k for k in arrays if k not in order)]}
    return ArrayCase(name, loss, SEED, {}, options, data=data)


def _skipped(loss: str, name: str, reason: str) -> ArrayCase:
    return ArrayCase(name, loss, SEED, {}, skip=reason)


def _convert_op(loss: str, op: Any) -> Iterator[ArrayCase]:
    name = f"{OPINFO_PREFIX}{_full_name(op)}"
    for i, sample in enumerate(samples_for(op)):
        yield convert_sample(loss, sample, f"{name}/{i}")
    for i, sample in enumerate(error_samples_for(op)):
        yield convert_sample(loss, sample, f"{name}/error-{i}")


@functools.cache
def _cases_of(loss: str) -> tuple[ArrayCase, ...]:
    return tuple(case for op in _opinfos(loss) for case in _convert_op(loss, op))


def opinfo_cases(losses: Iterable[str] | None = None) -> tuple[ArrayCase, ...]:
    """The OpInfo cases of ``losses`` (default: every loss of :data:`LOSSES`), skipped
    ones included; cached per loss."""
    return tuple(
        case for loss in (LOSSES if losses is None else losses) for case in _cases_of(loss)
    )


def opinfo_skipped(losses: Iterable[str] | None = None) -> dict[str, str]:
    """Case id -> why the sample was not converted."""
    return {c.id: c.skip for c in opinfo_cases(losses) if c.skip is not None}
