"""The conformance cases, as data (like PyTorch's OpInfo sample inputs).

A :class:`Case` names a loss (its ``arrayloss`` / ``torch.nn.functional`` name), a seed,
one :class:`Arg` per array argument (how to draw it from a seeded NumPy generator) and
the non-array options. Nothing here calls a loss: the runner (``conformance.runner``)
turns each case into arrays of every backend and dtype and compares with PyTorch.

``input`` and ``target`` are passed positionally, every other array (``weight``,
``pos_weight``) and option by keyword, exactly as written in the case.

To add a loss: write a generator yielding its cases and register it in :data:`LOSSES`
with a :class:`LossInfo`.
"""

from __future__ import annotations

import functools
import math
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "LOSSES",
    "Arg",
    "Case",
    "LossInfo",
    "all_cases",
    "case_by_name",
    "cases_for",
    "loss_info",
]

Shape = tuple[int, ...]
Sampler = Callable[[np.random.Generator, Shape, float], np.ndarray]


def _with_values(rng: np.random.Generator, base: np.ndarray, values: list[float]) -> np.ndarray:
    """``base`` with ``values`` written at random distinct positions (each at least once
    when the array is large enough)."""
    out = np.array(base, dtype=np.float64)
    if out.size:
        positions = rng.permutation(out.size)[: len(values)]
        out.flat[positions] = values[: len(positions)]
    return out


def _probabilities_01(rng: np.random.Generator, shape: Shape, scale: float) -> np.ndarray:
    # About a third exactly 0, a third exactly 1: the -100 clamp of both logs.
    p = rng.uniform(size=shape)
    kind = rng.integers(0, 3, size=shape)
    return _with_values(rng, np.where(kind == 0, 0.0, np.where(kind == 1, 1.0, p)), [0.0, 1.0])


def _huge(rng: np.random.Generator, shape: Shape, scale: float) -> np.ndarray:
    # +-scale mixed with ordinary logits.
    signs = rng.choice([-1.0, 1.0], size=shape)
    x = np.where(rng.uniform(size=shape) < 0.7, signs * scale, rng.normal(size=shape) * 3)
    return _with_values(rng, x, [scale, -scale])


def _infinite(rng: np.random.Generator, shape: Shape, scale: float) -> np.ndarray:
    x = rng.choice([-np.inf, np.inf, -2.5, 0.0, 1.5], size=shape)
    return _with_values(rng, x, [np.inf, -np.inf])


def _nan_probability(rng: np.random.Generator, shape: Shape, scale: float) -> np.ndarray:
    return _with_values(rng, rng.uniform(size=shape), [np.nan])


def _outside_unit(rng: np.random.Generator, shape: Shape, scale: float) -> np.ndarray:
    # In [0, 1] but for one element at 1 + scale (or -scale).
    return _with_values(rng, rng.uniform(size=shape), [1.0 + scale, -scale])


def _class_index(rng: np.random.Generator, shape: Shape, scale: float) -> np.ndarray:
    # Class indices in [0, C), C = scale.
    return rng.integers(0, int(scale), size=shape)


def _class_index_ignored(rng: np.random.Generator, shape: Shape, scale: float) -> np.ndarray:
    # About a quarter (at least one) at PyTorch's default ignore_index, -100.
    t = np.where(rng.uniform(size=shape) < 0.25, -100, _class_index(rng, shape, scale))
    t = np.asarray(t)
    if t.size:
        t.flat[rng.integers(t.size)] = -100
    return t


def _class_index_out_of_range(rng: np.random.Generator, shape: Shape, scale: float) -> np.ndarray:
    # Valid indices but for one equal to C (PyTorch: IndexError "Target 3 is out of bounds.").
    t = np.asarray(_class_index(rng, shape, scale))
    if t.size:
        t.flat[rng.integers(t.size)] = int(scale)
    return t


def _with_index(t: np.ndarray, rng: np.random.Generator, value: int) -> np.ndarray:
    t = np.array(t)
    if t.size:
        t.flat[rng.integers(t.size)] = value
    return t


def _multilabel_index(rng: np.random.Generator, shape: Shape, scale: float) -> np.ndarray:
    # multilabel_margin_loss targets over C = scale classes: per sample a block of k
    # indices in [0, C) (repeats allowed), then -1, then anything in [-1, C), which
    # PyTorch ignores; k runs over 0 .. C (C: no -1 at all).
    t = rng.integers(-1, int(scale), size=shape)
    rows = t.reshape(-1, shape[-1]) if len(shape) else t.reshape(1, 1)
    for n, row in enumerate(rows):
        k = n % (row.size + 1)
        row[:k] = rng.integers(0, int(scale), size=k)
        if k < row.size:
            row[k] = -1
    return t


def _with_nan(rng: np.random.Generator, shape: Shape, scale: float) -> np.ndarray:
    # Normal * scale with one NaN (and an infinity where there is room).
    return _with_values(rng, rng.normal(size=shape) * scale, [np.nan, np.inf])


def _kinks(rng: np.random.Generator, shape: Shape, scale: float) -> np.ndarray:
    # Exactly at the kinks of the regression losses for delta = beta = scale (a power of
    # two, exact in every dtype): 0, +-scale, and between and beyond them.
    x = rng.choice([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0], size=shape) * scale
    return _with_values(rng, x, [0.0, scale, -scale])


def _counts(rng: np.random.Generator, shape: Shape, scale: float) -> np.ndarray:
    # Poisson counts of mean `scale`, with 0, 1 and 2 at least once each: the Stirling
    # term of poisson_nll_loss(full=True) applies only above 1.
    return _with_values(rng, rng.poisson(scale, size=shape), [0.0, 1.0, 2.0])


def _rates(rng: np.random.Generator, shape: Shape, scale: float) -> np.ndarray:
    # Poisson rates uniform in [0, scale), with one exactly 0 (log(0 + eps)).
    return _with_values(rng, rng.uniform(0.0, scale, size=shape), [0.0])


def _small_variance(rng: np.random.Generator, shape: Shape, scale: float) -> np.ndarray:
    # Variances around 1 with some below gaussian_nll_loss's default eps (1e-6),
    # exactly 0 included: clamped to eps.
    v = rng.uniform(0.5, 2.0, size=shape)
    v = np.where(rng.uniform(size=shape) < 0.3, rng.uniform(0.0, 2e-6, size=shape), v)
    return _with_values(rng, v, [0.0, 1e-8, 5e-7])


def _signs_mixed(rng: np.random.Generator, shape: Shape, scale: float) -> np.ndarray:
    # -1 and 1 with 0 and 2 (each at least once when there is room).
    return _with_values(rng, rng.choice([-1.0, 1.0, 0.0, 2.0], size=shape), [0.0, 2.0, -1.0, 1.0])


def _zero_rows(rng: np.random.Generator, shape: Shape, scale: float) -> np.ndarray:
    # Vectors along the last axis: about a third (at least one) all zero.
    x = rng.normal(size=shape) * scale
    if x.ndim < 2 or x.size == 0:
        return np.zeros(shape) if x.ndim < 2 else x
    rows = x.reshape(-1, shape[-1])
    zero = rng.uniform(size=rows.shape[0]) < 1 / 3
    zero[rng.integers(rows.shape[0])] = True
    rows[zero] = 0.0
    return rows.reshape(shape)


def _log_softmax(rng: np.random.Generator, shape: Shape, scale: float) -> np.ndarray:
    # Normalized log-probabilities over the last (class) axis, from logits normal * scale.
    x = rng.normal(size=shape) * scale
    if not x.size:
        return x
    m = np.max(x, axis=-1, keepdims=True)
    return x - m - np.log(np.sum(np.exp(x - m), axis=-1, keepdims=True))


def _ctc_repeats(rng: np.random.Generator, shape: Shape, scale: float) -> np.ndarray:
    # Labels in [1, C) (C = scale) where each repeats the one before it half the time.
    t = rng.integers(1, int(scale), size=shape)
    repeat = rng.uniform(size=shape) < 0.5
    for j in range(1, shape[-1] if shape else 0):
        t[..., j] = np.where(repeat[..., j], t[..., j - 1], t[..., j])
    return t


def _lengths(rng: np.random.Generator, shape: Shape, scale: float) -> np.ndarray:
    # Lengths in [ceil(scale / 2), scale], the first equal to scale (the full T or S).
    n = int(scale)
    t = np.asarray(rng.integers((n + 1) // 2, n + 1, size=shape))
    if t.size:
        t.flat[0] = n
    return t


def _lengths_from_zero(rng: np.random.Generator, shape: Shape, scale: float) -> np.ndarray:
    # Lengths in [0, scale], the first equal to scale and the last (of two or more) 0.
    t = np.asarray(rng.integers(0, int(scale) + 1, size=shape))
    if t.size:
        t.flat[0] = int(scale)
    if t.size > 1:
        t.flat[-1] = 0
    return t


def _lengths_summing_to(rng: np.random.Generator, shape: Shape, scale: float) -> np.ndarray:
    # Lengths that add up to exactly scale (concatenated targets of shape (scale,)): an
    # even split, then a unit moved between random pairs.
    n = max(1, int(np.prod(shape)))
    t = np.full(n, int(scale) // n)
    t[: int(scale) - int(t.sum())] += 1
    for _ in range(n):
        i, j = rng.integers(0, n, size=2)
        if t[i] > 0:
            t[i] -= 1
            t[j] += 1
    return t.reshape(shape)


#: How each kind of argument is drawn: ``sampler(rng, shape, scale)``, float64 (int64
#: for the kinds of :data:`INTEGER_KINDS`).
KINDS: dict[str, Sampler] = {
    # Logits: normal * scale.
    "logits": lambda rng, shape, scale: rng.normal(size=shape) * scale,
    # Probabilities strictly inside (0, 1).
    "probabilities": lambda rng, shape, scale: rng.uniform(0.01, 0.99, size=shape),
    # Probabilities uniform in [0, 1] with many exact 0 and 1.
    "probabilities_01": _probabilities_01,
    # Hard targets in {0, 1}.
    "binary": lambda rng, shape, scale: rng.integers(0, 2, size=shape).astype(np.float64),
    # Soft targets uniform in [0, 1].
    "soft": lambda rng, shape, scale: rng.uniform(size=shape),
    # Constants, for exact values.
    "zeros": lambda rng, shape, scale: np.zeros(shape),
    "ones": lambda rng, shape, scale: np.ones(shape),
    "constant": lambda rng, shape, scale: np.full(shape, scale),
    # Targets outside [0, 1] (the logits loss computes them by its formula).
    "wide": lambda rng, shape, scale: rng.uniform(-scale, 1.0 + scale, size=shape),
    # Weights: positive, around 1.
    "positive": lambda rng, shape, scale: rng.uniform(0.5, 2.0, size=shape) * scale,
    # Logits of +-scale (1e4) with some ordinary ones.
    "huge": _huge,
    # Logits of +-inf with some finite ones.
    "infinite": _infinite,
    # Probabilities with one NaN.
    "nan": _nan_probability,
    # Probabilities with elements outside [0, 1].
    "outside_unit": _outside_unit,
    # Class indices in [0, C) for C = scale (int64).
    "class_index": _class_index,
    # Class indices with some (at least one) at ignore_index -100.
    "class_index_ignored": _class_index_ignored,
    # Class indices with one out of range (= C).
    "class_index_out_of_range": _class_index_out_of_range,
    # Every index at ignore_index -100.
    "all_ignored": lambda rng, shape, scale: np.full(shape, -100),
    # Log-probabilities: log of uniform (0.01, 1).
    "log_probabilities": lambda rng, shape, scale: np.log(rng.uniform(0.01, 1.0, size=shape)),
    # Labels of -1 or 1 (the soft-margin losses).
    "signs": lambda rng, shape, scale: rng.choice([-1.0, 1.0], size=shape),
    # Multiples of scale in [-2, 2] (ties, for hinges exactly at 0).
    "ties": lambda rng, shape, scale: rng.integers(-4, 5, size=shape) * scale,
    # Class indices padded with -1 (multilabel_margin_loss), C = scale.
    "multilabel_index": _multilabel_index,
    # Like multilabel_index with one element (maybe in the padding) at C: out of range.
    "multilabel_index_out_of_range": lambda rng, shape, scale: _with_index(
        _multilabel_index(rng, shape, scale), rng, int(scale)
    ),
    # Normal * scale with a NaN and an infinity (the regression losses).
    "with_nan": _with_nan,
    # Values at the kinks 0, +-scale of the regression losses (delta = beta = scale).
    "kinks": _kinks,
    # Counts of mean scale (0, 1 and 2 included), as floats and as int64.
    "counts": _counts,
    "counts_int": _counts,
    # Rates in [0, scale) (one exactly 0).
    "rates": _rates,
    # Variances with some below 1e-6, 0 included.
    "small_variance": _small_variance,
    # Variances around 1 but for one negative (-0.5).
    "negative_variance": lambda rng, shape, scale: _with_values(
        rng, rng.uniform(0.5, 2.0, size=shape), [-0.5]
    ),
    # Labels of -1 or 1 as int64 (PyTorch accepts integer labels in the embedding losses).
    "int_signs": lambda rng, shape, scale: rng.choice([-1, 1], size=shape),
    # Labels of -1 and 1 mixed with others (0, 2): each loss's formula decides their fate.
    "signs_mixed": _signs_mixed,
    # Vectors (the last axis) of normal * scale, some (at least one) entirely zero.
    "zero_rows": _zero_rows,
    # Log-probabilities normalized over the last axis (log_softmax of normal * scale).
    "log_softmax": _log_softmax,
    # CTC labels in [1, C) for C = scale (blank 0 excluded).
    "ctc_labels": lambda rng, shape, scale: rng.integers(1, int(scale), size=shape),
    # CTC labels in [0, C - 1) (for blank = C - 1).
    "ctc_labels_below_last": lambda rng, shape, scale: rng.integers(0, int(scale) - 1, size=shape),
    # CTC labels in [1, C) with runs of repeats along the last axis.
    "ctc_repeats": _ctc_repeats,
    # Sequence lengths in [scale / 2, scale], the first = scale.
    "lengths": _lengths,
    # Sequence lengths in [0, scale], the first = scale, the last 0.
    "lengths_from_zero": _lengths_from_zero,
    # Sequence lengths adding up to exactly scale.
    "lengths_summing_to": _lengths_summing_to,
    # Every element the integer scale.
    "int_constant": lambda rng, shape, scale: np.full(shape, int(scale)),
}
#: The kinds drawn as int64 (kept integer in every dtype of a run).
INTEGER_KINDS = frozenset(
    {
        "class_index",
        "class_index_ignored",
        "class_index_out_of_range",
        "all_ignored",
        "multilabel_index",
        "multilabel_index_out_of_range",
        "counts_int",
        "int_signs",
        "ctc_labels",
        "ctc_labels_below_last",
        "ctc_repeats",
        "lengths",
        "lengths_from_zero",
        "lengths_summing_to",
        "int_constant",
    }
)


@dataclass(frozen=True)
class Arg:
    """How to draw one array argument: a kind of :data:`KINDS`, a shape and a scale."""

    kind: str
    shape: Shape
    scale: float = 1.0

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        dtype = np.int64 if self.kind in INTEGER_KINDS else np.float64
        return np.asarray(KINDS[self.kind](rng, self.shape, self.scale), dtype=dtype)

    def __str__(self) -> str:
        scale = "" if self.scale == 1.0 else f"*{self.scale:g}"
        return f"{self.kind}{_shape_str(self.shape)}{scale}"


@dataclass(frozen=True)
class Case:
    """One conformance case: a loss, its arrays (as :class:`Arg` specs) and options.

    Attributes
    ----------
    name
        Unique within its loss; ``loss/name`` is unique overall.
    loss
        The function name in ``arrayloss`` and in ``torch.nn.functional``.
    seed
        Seeds the NumPy generator that draws ``args`` in order.
    args
        The positional arrays first (in the order of the loss's
        :attr:`LossInfo.positional`), then keyword arrays.
    kwargs
        Options, passed as given (``reduction``, ``size_average``, ``reduce``, ...).
    value_check
        PyTorch raises because of the *values* (e.g. a probability outside [0, 1]).
        arrayloss checks values only on eager arrays (documented): backends that trace
        or run lazily (jax-jit, Dask) are exempt from this case.
    dtypes
        The dtypes to run in (None: every dtype of each backend).
    """

    name: str
    loss: str
    seed: int
    args: Mapping[str, Arg]
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    value_check: bool = False
    dtypes: tuple[str, ...] | None = None

    @property
    def id(self) -> str:
        return f"{self.loss}/{self.name}"

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays of this case (float64; int64 class indices), drawn afresh from
        its seed."""
        rng = np.random.default_rng(self.seed)
        return {name: arg.draw(rng) for name, arg in self.args.items()}

    def describe(self) -> str:
        """A one-line description of the arrays and options, for reports."""
        parts = [f"{name}={arg}" for name, arg in self.args.items()]
        parts += [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return ", ".join(parts)


@dataclass(frozen=True)
class LossInfo:
    """A loss the suite knows: how to generate its cases, which arguments go by
    position, and when its gradient with respect to the first cannot be compared with
    PyTorch's (a reason, or None)."""

    name: str
    generate: Callable[[], Iterator[Case]]
    grad_exclusion: Callable[[Mapping[str, np.ndarray]], str | None] = lambda arrays: None
    #: The array arguments passed by position, in order (the rest go by keyword). The
    #: gradient is taken with respect to the first, and the value tolerance scales with it.
    positional: tuple[str, ...] = ("input", "target")
    #: Where PyTorch's backward is not the derivative of its forward (ctc_loss): maps
    #: PyTorch's float64 gradient, ``exact_grad(case, arrays, grad)``, onto the exact
    #: derivative by a documented closed-form term; None elsewhere.
    exact_grad: Callable[[Case, Mapping[str, np.ndarray], np.ndarray], np.ndarray] | None = None
    #: The loss is the log of a sum over paths computed by a recurrence in log space
    #: (ctc_loss): the gradient tolerance scales with the loss (see the runner's policy).
    grad_scale_by_loss: bool = False
    #: For a loss PyTorch lacks (conformance/beyond.py): the source framework's function,
    #: called as arrayloss's (``reference(*positional, **keywords, **options)`` on float64
    #: JAX arrays); the runner takes values and ``jax.grad`` gradients from it instead of
    #: ``torch.nn.functional``. None: PyTorch is the reference.
    reference: Callable[..., Any] | None = None
    #: What the reference is, for reports ("optax.losses.sigmoid_focal_loss").
    source: str = "torch.nn.functional"
    #: The dtype the reference computes in at best, when narrower than its inputs (Keras's
    #: ``ops.mean`` on JAX accumulates float64 in float32): wider dtypes' cells are then
    #: judged with this dtype's eps (the report says so). None: the inputs' dtype.
    reference_precision: str | None = None

    @property
    def grad_wrt(self) -> str:
        """The argument the gradient cells differentiate with respect to."""
        return self.positional[0]


# --- the grid ----------------------------------------------------------------------------

REDUCTIONS = ("none", "mean", "sum")
SHAPES: tuple[Shape, ...] = ((), (5,), (4, 3), (2, 3, 4), (0, 3))
#: PyTorch's legacy (size_average, reduce) pairs; each overrides `reduction`.
LEGACY = (
    (True, None),
    (False, None),
    (None, True),
    (None, False),
    (True, True),
    (False, True),
    (True, False),
    (False, False),
)
#: Hard and soft targets: data only, so every structure is run with both at no compile cost.
TARGETS = ("binary", "soft")
#: The legacy options are a mapping onto `reduction`, independent of the dtype.
LEGACY_DTYPES = ("float64", "float32")
#: A weight shape that broadcasts to each input shape without being it.
BROADCAST_WEIGHT: dict[Shape, Shape] = {
    (5,): (),
    (4, 3): (4, 1),
    (2, 3, 4): (4,),
    (0, 3): (3,),
}


def _shape_str(shape: Shape) -> str:
    return "(" + ",".join(str(n) for n in shape) + ")"


def _seed(loss: str, name: str) -> int:
    # Stable across runs and independent of the order of the grid.
    return zlib.crc32(f"{loss}/{name}".encode())


def _case(
    loss: str,
    name: str,
    args: dict[str, Arg],
    value_check: bool = False,
    dtypes: tuple[str, ...] | None = None,
    **kwargs: Any,
) -> Case:
    return Case(name, loss, _seed(loss, name), args, kwargs, value_check, dtypes)


def _rotate(i: int) -> str:
    return REDUCTIONS[i % len(REDUCTIONS)]


def _bce_cases() -> Iterator[Case]:
    loss = "binary_cross_entropy"

    def args_for(shape: Shape, target: str, x: str = "probabilities") -> dict[str, Arg]:
        return {"input": Arg(x, shape), "target": Arg(target, shape)}

    # Every shape x reduction, hard and soft targets.
    for shape in SHAPES:
        for reduction in REDUCTIONS:
            for target in TARGETS:
                name = f"{_shape_str(shape)}-{reduction}-{target}"
                yield _case(loss, name, args_for(shape, target), reduction=reduction)
    # A weight per element and a broadcast one, on every shape (reductions in turn).
    i = 0
    for shape in SHAPES:
        for label, w_shape in (("full", shape), ("bcast", BROADCAST_WEIGHT.get(shape))):
            if w_shape is None:
                continue
            reduction, target = _rotate(i), TARGETS[i % 2]
            i += 1
            args = {**args_for(shape, target), "weight": Arg("positive", w_shape)}
            name = f"{_shape_str(shape)}-{reduction}-weight_{label}{_shape_str(w_shape)}-{target}"
            yield _case(loss, name, args, reduction=reduction)
    # Legacy size_average/reduce (they override `reduction`, set here to 'none').
    for size_average, reduce in LEGACY:
        args = {**args_for((4, 3), "soft"), "weight": Arg("positive", (3,))}
        name = f"legacy-size_average_{size_average}-reduce_{reduce}"
        yield _case(
            loss,
            name,
            args,
            dtypes=LEGACY_DTYPES,
            size_average=size_average,
            reduce=reduce,
            reduction="none",
        )
    # Probabilities of exactly 0 and 1: both logs clamped at -100.
    for reduction in REDUCTIONS:
        for target in TARGETS:
            args = args_for((2, 3, 4), target, "probabilities_01")
            yield _case(loss, f"exact_0_1-{reduction}-{target}", args, reduction=reduction)
    yield _case(loss, "exact_0_target_1", args_for((), "ones", "zeros"), reduction="none")
    yield _case(loss, "exact_1_target_0", args_for((), "zeros", "ones"), reduction="none")
    # float16: the elements fit but their sum overflows; PyTorch accumulates half
    # precision in float32, so the mean is finite.
    args = {**args_for((2, 3, 4), "ones", "zeros"), "weight": Arg("positive", (2, 3, 4), 300.0)}
    yield _case(loss, "half_sum_overflows-mean", args, reduction="mean")
    # Errors: PyTorch raises; arrayloss must raise the same kind of exception.
    p43 = Arg("probabilities", (4, 3))
    t43 = Arg("soft", (4, 3))
    for name, args in (
        ("input_outside_unit", {"input": Arg("outside_unit", (4, 3), 0.5), "target": t43}),
        ("input_nan", {"input": Arg("nan", (4, 3)), "target": t43}),
        ("target_outside_unit", {"input": p43, "target": Arg("outside_unit", (4, 3), 0.5)}),
    ):
        yield _case(loss, f"error-{name}", args, value_check=True)
    yield _case(loss, "error-target_shape", {"input": p43, "target": Arg("soft", (3, 4))})
    yield _case(loss, "error-reduction", {"input": p43, "target": t43}, reduction="avg")
    for name, w_shape in (("weight_shape", (2, 1)), ("weight_enlarges", (2, 4, 3))):
        args = {"input": p43, "target": t43, "weight": Arg("positive", w_shape)}
        yield _case(loss, f"error-{name}{_shape_str(w_shape)}", args, reduction="none")


def _bce_logits_cases() -> Iterator[Case]:
    loss = "binary_cross_entropy_with_logits"

    def args_for(
        shape: Shape, target: str, x: str = "logits", scale: float = 3.0
    ) -> dict[str, Arg]:
        return {"input": Arg(x, shape, scale), "target": Arg(target, shape)}

    # Every shape x reduction, hard and soft targets.
    for shape in SHAPES:
        for reduction in REDUCTIONS:
            for target in TARGETS:
                name = f"{_shape_str(shape)}-{reduction}-{target}"
                yield _case(loss, name, args_for(shape, target), reduction=reduction)
    # weight and pos_weight, alone and together, on every shape (reductions in turn).
    i = 0
    for shape in SHAPES:
        c_shape = shape[-1:] if shape else None  # pos_weight of shape (C,)
        # Each weight and each pos_weight alone and with the other.
        combos = [
            ("full", shape, None, None),
            (None, None, "C", c_shape),
            ("full", shape, "C", c_shape),
            ("bcast", BROADCAST_WEIGHT.get(shape), "0d", ()),
        ]
        for w_label, w_shape, pw_label, pw_shape in combos:
            if (w_label and w_shape is None) or (pw_label and pw_shape is None):
                continue
            reduction, target = _rotate(i), TARGETS[i % 2]
            i += 1
            args = args_for(shape, target)
            name = f"{_shape_str(shape)}-{reduction}"
            if w_shape is not None:
                args["weight"] = Arg("positive", w_shape)
                name += f"-weight_{w_label}{_shape_str(w_shape)}"
            if pw_shape is not None:
                args["pos_weight"] = Arg("positive", pw_shape, 1.5)
                name += f"-pos_weight_{pw_label}{_shape_str(pw_shape)}"
            yield _case(loss, f"{name}-{target}", args, reduction=reduction)
    # Legacy size_average/reduce.
    for size_average, reduce in LEGACY:
        args = {**args_for((4, 3), "soft"), "pos_weight": Arg("positive", (3,), 1.5)}
        name = f"legacy-size_average_{size_average}-reduce_{reduce}"
        yield _case(
            loss,
            name,
            args,
            dtypes=LEGACY_DTYPES,
            size_average=size_average,
            reduce=reduce,
            reduction="none",
        )
    # Huge and infinite logits (PyTorch gives NaN for 0 * inf: positions must match),
    # and targets outside [0, 1] (computed by the formula, not clipped).
    edge_cases: tuple[tuple[str, str, float, tuple[str, ...]], ...] = (
        ("huge", "huge", 1e4, TARGETS),
        ("infinite", "infinite", 1.0, TARGETS),
        ("target_outside_unit", "logits", 3.0, ("wide",)),
    )
    for kind, x, scale, targets in edge_cases:
        for reduction in REDUCTIONS:
            for t in targets:
                args = args_for((4, 3), t, x, scale)
                yield _case(loss, f"{kind}-{reduction}-{t}", args, reduction=reduction)
        args = {
            **args_for((2, 3, 4), targets[-1], x, scale),
            "weight": Arg("positive", (2, 3, 4)),
            "pos_weight": Arg("positive", (4,), 1.5),
        }
        yield _case(loss, f"{kind}-none-weight-pos_weight-{targets[-1]}", args, reduction="none")
    # float16: every element is 3e4, their sum overflows; PyTorch accumulates half
    # precision in float32, so the mean is finite.
    args = args_for((2, 3, 4), "ones", "constant", -3e4)
    yield _case(loss, "half_sum_overflows-mean", args, reduction="mean")
    # Errors.
    t43 = Arg("soft", (4, 3))
    yield _case(
        loss, "error-target_shape", {"input": Arg("logits", (4, 3)), "target": Arg("soft", (3, 4))}
    )
    yield _case(loss, "error-reduction", args_for((4, 3), "soft"), reduction="avg")
    for name, extra in (
        ("weight_shape", {"weight": Arg("positive", (2, 1))}),
        ("pos_weight_shape", {"pos_weight": Arg("positive", (4,))}),
    ):
        args = {"input": Arg("logits", (4, 3)), "target": t43, **extra}
        yield _case(loss, f"error-{name}", args)
    args = {**args_for((), "soft"), "pos_weight": Arg("positive", (1,))}
    yield _case(loss, "error-pos_weight_enlarges_0d", args, reduction="none")


#: One legacy (size_average, reduce) pair per reduction it maps to.
LEGACY_OUTCOMES = ((True, None), (False, None), (None, False))
#: Classes of the classification cases, and their shapes: unbatched (C,), (N, C),
#: (N, C, d1) and an empty batch; the target of class indices drops the class axis.
N_CLASSES = 3
CLASS_SHAPES: tuple[tuple[Shape, Shape], ...] = (
    ((3,), ()),
    ((5, 3), (5,)),
    ((2, 3, 4), (2, 4)),
    ((0, 3), (0,)),
)


def _indices(kind: str, shape: Shape) -> Arg:
    return Arg(kind, shape, float(N_CLASSES))


def _nll_cases() -> Iterator[Case]:
    loss = "nll_loss"

    def args_for(shape: Shape, t_shape: Shape, target: str) -> dict[str, Arg]:
        # Any real values serve as log-probabilities (PyTorch does not check them).
        return {"input": Arg("logits", shape, 2.0), "target": _indices(target, t_shape)}

    # Every shape x reduction: plain indices, and some ignored with a weight.
    for shape, t_shape in CLASS_SHAPES:
        for reduction in REDUCTIONS:
            name = f"{_shape_str(shape)}-{reduction}"
            args = args_for(shape, t_shape, "class_index")
            yield _case(loss, f"{name}-class_index", args, reduction=reduction)
            args = {
                **args_for(shape, t_shape, "class_index_ignored"),
                "weight": Arg("positive", (3,)),
            }
            yield _case(loss, f"{name}-class_index_ignored-weight", args, reduction=reduction)
    for reduction in REDUCTIONS:
        args = {**args_for((2, 3, 4), (2, 4), "class_index"), "weight": Arg("positive", (3,))}
        yield _case(loss, f"ignore_index_1-{reduction}", args, reduction=reduction, ignore_index=1)
        yield _case(
            loss,
            f"all_ignored-{reduction}",
            args_for((5, 3), (5,), "all_ignored"),
            reduction=reduction,
        )
    # Legacy size_average/reduce: the mapping is shared with BCE; one pair per outcome.
    for size_average, reduce in LEGACY_OUTCOMES:
        args = {**args_for((5, 3), (5,), "class_index_ignored"), "weight": Arg("positive", (3,))}
        name = f"legacy-size_average_{size_average}-reduce_{reduce}"
        yield _case(
            loss, name, args, dtypes=LEGACY_DTYPES, size_average=size_average, reduce=reduce
        )
    # Errors.
    yield _case(
        loss,
        "error-target_out_of_range",
        args_for((5, 3), (5,), "class_index_out_of_range"),
        value_check=True,
    )
    yield _case(loss, "error-target_shape", args_for((2, 3, 4), (2, 3), "class_index"))
    yield _case(
        loss, "error-target_float", {"input": Arg("logits", (5, 3)), "target": Arg("soft", (5,))}
    )
    args = {**args_for((5, 3), (5,), "class_index"), "weight": Arg("positive", (2,))}
    yield _case(loss, "error-weight_shape", args)
    yield _case(loss, "error-input_0d", args_for((), (), "class_index"))
    yield _case(loss, "error-reduction", args_for((5, 3), (5,), "class_index"), reduction="avg")


def _cross_entropy_cases() -> Iterator[Case]:
    loss = "cross_entropy"

    def args_for(
        shape: Shape, t_shape: Shape, target: str, x: str = "logits", scale: float = 3.0
    ) -> dict[str, Arg]:
        t = Arg(target, shape) if target == "soft" else _indices(target, t_shape)
        return {"input": Arg(x, shape, scale), "target": t}

    # Every shape x reduction: ignored indices with weight and smoothing, plain
    # probabilities; on (N, C, d1) also the converse.
    for shape, t_shape in CLASS_SHAPES:
        for reduction in REDUCTIONS:
            name = f"{_shape_str(shape)}-{reduction}"
            weighted = {
                **args_for(shape, t_shape, "class_index_ignored"),
                "weight": Arg("positive", (3,)),
            }
            yield _case(
                loss,
                f"{name}-class_index_ignored-weight-smoothing",
                weighted,
                reduction=reduction,
                label_smoothing=0.25,
            )
            yield _case(loss, f"{name}-soft", args_for(shape, t_shape, "soft"), reduction=reduction)
    for reduction in REDUCTIONS:
        args = {**args_for((2, 3, 4), (2, 4), "soft"), "weight": Arg("positive", (3,))}
        yield _case(
            loss,
            f"(2,3,4)-{reduction}-soft-weight-smoothing",
            args,
            reduction=reduction,
            label_smoothing=0.25,
        )
    # Weight alone, smoothing alone, a custom ignore_index, every sample ignored.
    for reduction in REDUCTIONS:
        t = "class_index_ignored"
        args = {**args_for((2, 3, 4), (2, 4), t), "weight": Arg("positive", (3,))}
        yield _case(loss, f"weight-{reduction}", args, reduction=reduction)
        yield _case(
            loss,
            f"smoothing-{reduction}",
            args_for((2, 3, 4), (2, 4), t),
            reduction=reduction,
            label_smoothing=0.1,
        )
        args = {**args_for((5, 3), (5,), "class_index"), "weight": Arg("positive", (3,))}
        yield _case(
            loss,
            f"ignore_index_1-smoothing-{reduction}",
            args,
            reduction=reduction,
            ignore_index=1,
            label_smoothing=0.2,
        )
        yield _case(
            loss,
            f"all_ignored-smoothing-{reduction}",
            args_for((5, 3), (5,), "all_ignored"),
            reduction=reduction,
            label_smoothing=0.2,
        )
        # Logits of +-1e4: finite in float16 (computed in float32, as PyTorch).
        for t in ("class_index", "soft"):
            yield _case(
                loss,
                f"huge-{reduction}-{t}",
                args_for((5, 3), (5,), t, "huge", 1e4),
                reduction=reduction,
            )
    # Legacy size_average/reduce: the mapping is shared with BCE; one pair per outcome.
    for size_average, reduce in LEGACY_OUTCOMES:
        args = {**args_for((5, 3), (5,), "class_index_ignored"), "weight": Arg("positive", (3,))}
        name = f"legacy-size_average_{size_average}-reduce_{reduce}"
        yield _case(
            loss, name, args, dtypes=LEGACY_DTYPES, size_average=size_average, reduce=reduce
        )
    # Errors.
    yield _case(
        loss,
        "error-target_out_of_range",
        args_for((5, 3), (5,), "class_index_out_of_range"),
        value_check=True,
    )
    yield _case(loss, "error-target_shape", args_for((2, 3, 4), (2, 3), "class_index"))
    yield _case(
        loss, "error-label_smoothing", args_for((5, 3), (5,), "class_index"), label_smoothing=1.5
    )
    args = {**args_for((5, 3), (5,), "soft"), "weight": Arg("positive", (4,))}
    yield _case(loss, "error-weight_shape", args)
    yield _case(loss, "error-reduction", args_for((5, 3), (5,), "class_index"), reduction="avg")


def _kl_div_cases() -> Iterator[Case]:
    loss = "kl_div"
    for log_target in (False, True):
        target_kind = "log_probabilities" if log_target else "probabilities_01"
        for shape in SHAPES:
            for reduction in (*REDUCTIONS, "batchmean"):
                args = {"input": Arg("log_probabilities", shape), "target": Arg(target_kind, shape)}
                name = f"{_shape_str(shape)}-{reduction}-log_target_{log_target}"
                yield _case(loss, name, args, reduction=reduction, log_target=log_target)
        # A target that broadcasts against the input (PyTorch broadcasts here).
        args = {"input": Arg("log_probabilities", (4, 3)), "target": Arg(target_kind, (3,))}
        yield _case(
            loss, f"bcast-log_target_{log_target}", args, reduction="sum", log_target=log_target
        )
    for size_average, reduce in LEGACY:
        args = {"input": Arg("log_probabilities", (4, 3)), "target": Arg("soft", (4, 3))}
        name = f"legacy-size_average_{size_average}-reduce_{reduce}"
        yield _case(
            loss, name, args, dtypes=LEGACY_DTYPES, size_average=size_average, reduce=reduce
        )


def _soft_margin_cases() -> Iterator[Case]:
    loss = "soft_margin_loss"
    for shape in SHAPES:
        for reduction in REDUCTIONS:
            args = {"input": Arg("logits", shape, 3.0), "target": Arg("signs", shape)}
            yield _case(loss, f"{_shape_str(shape)}-{reduction}", args, reduction=reduction)
    for size_average, reduce in LEGACY:
        args = {"input": Arg("logits", (4, 3), 3.0), "target": Arg("signs", (4, 3))}
        name = f"legacy-size_average_{size_average}-reduce_{reduce}"
        yield _case(
            loss, name, args, dtypes=LEGACY_DTYPES, size_average=size_average, reduce=reduce
        )


def _multilabel_soft_margin_cases() -> Iterator[Case]:
    loss = "multilabel_soft_margin_loss"
    for shape in ((5,), (4, 3), (2, 3, 4), (0, 3)):
        for reduction in REDUCTIONS:
            for target in TARGETS:
                for weighted in (False, True):
                    args = {"input": Arg("logits", shape, 3.0), "target": Arg(target, shape)}
                    name = f"{_shape_str(shape)}-{reduction}-{target}"
                    if weighted:
                        args["weight"] = Arg("positive", shape[-1:])
                        name += "-weight"
                    yield _case(loss, name, args, reduction=reduction)
    args = {"input": Arg("huge", (4, 3), 1e4), "target": Arg("binary", (4, 3))}
    yield _case(loss, "huge_logits", args, reduction="none")


def _multi_margin_cases() -> Iterator[Case]:
    loss = "multi_margin_loss"
    for shape in ((N_CLASSES,), (5, N_CLASSES)):
        for reduction in REDUCTIONS:
            for p in (1, 2):
                for weighted in (False, True):
                    args = {
                        "input": Arg("logits", shape),
                        "target": _indices("class_index", shape[:-1]),
                    }
                    name = f"{_shape_str(shape)}-{reduction}-p{p}"
                    if weighted:
                        args["weight"] = Arg("positive", (N_CLASSES,))
                        name += "-weight"
                    yield _case(loss, name, args, reduction=reduction, p=p, margin=0.7)
    # A class index out of range: an IndexError on eager backends, as in PyTorch.
    args = {
        "input": Arg("logits", (5, N_CLASSES)),
        "target": _indices("class_index_out_of_range", (5,)),
    }
    yield _case(loss, "index_out_of_range", args, value_check=True)
    for size_average, reduce in LEGACY:
        args = {"input": Arg("logits", (5, N_CLASSES)), "target": _indices("class_index", (5,))}
        name = f"legacy-size_average_{size_average}-reduce_{reduce}"
        yield _case(
            loss, name, args, dtypes=LEGACY_DTYPES, size_average=size_average, reduce=reduce
        )


def _multilabel_margin_cases() -> Iterator[Case]:
    loss = "multilabel_margin_loss"
    shapes: tuple[Shape, ...] = ((), (N_CLASSES,), (1, 7), (9, 4), (0, 4))
    for shape in shapes:
        n_classes = shape[-1] if shape else 1
        for reduction in REDUCTIONS:
            if shape[:1] == (0,) and reduction == "mean":
                continue  # PyTorch 2.13 returns uninitialized memory (documented)
            args = {
                "input": Arg("logits", shape),
                "target": Arg("multilabel_index", shape, n_classes),
            }
            yield _case(loss, f"{_shape_str(shape)}-{reduction}", args, reduction=reduction)
    # Scores on a grid of 0.5: hinges at exactly 0 (ties between a threshold and a score).
    args = {"input": Arg("ties", (6, 5), 0.5), "target": Arg("multilabel_index", (6, 5), 5)}
    yield _case(loss, "ties", args, reduction="none")
    args = {
        "input": Arg("logits", (5, 4)),
        "target": Arg("multilabel_index_out_of_range", (5, 4), 4),
    }
    yield _case(loss, "index_out_of_range", args, value_check=True)
    for size_average, reduce in LEGACY:
        args = {"input": Arg("logits", (5, 4)), "target": Arg("multilabel_index", (5, 4), 4)}
        name = f"legacy-size_average_{size_average}-reduce_{reduce}"
        yield _case(
            loss, name, args, dtypes=LEGACY_DTYPES, size_average=size_average, reduce=reduce
        )


#: The threshold option of each regression loss: its name and the values run.
REGRESSION_THRESHOLDS: dict[str, tuple[str, tuple[float, ...]]] = {
    "huber_loss": ("delta", (0.5, 2.0, 1e-3, float("inf"))),
    "smooth_l1_loss": ("beta", (0.0, 0.5, 2.0, 1e-3, float("inf"))),
}
#: The regression losses that take a per-element `weight` (PyTorch 2.13: of input's shape).
REGRESSION_WEIGHTED = frozenset({"l1_loss", "mse_loss", "huber_loss"})
#: Input and target shapes that broadcast without being equal (PyTorch warns, then
#: computes over the broadcast shape).
REGRESSION_BROADCAST: tuple[tuple[Shape, Shape], ...] = (
    ((4, 3), (3,)),
    ((3,), (4, 3)),
    ((4, 1), (1, 3)),
    ((2, 3, 4), ()),
)


def _regression_cases(loss: str) -> Iterator[Case]:
    """l1_loss, mse_loss, huber_loss and smooth_l1_loss share one grid."""
    threshold = REGRESSION_THRESHOLDS.get(loss)
    weighted = loss in REGRESSION_WEIGHTED
    legacy = loss != "huber_loss"  # huber_loss has no size_average/reduce

    def args_for(shape: Shape, t_shape: Shape | None = None, x: str = "logits") -> dict[str, Arg]:
        t_shape = shape if t_shape is None else t_shape
        return {"input": Arg(x, shape, 2.0), "target": Arg("logits", t_shape, 2.0)}

    # Every shape x reduction; the weighted losses also with a weight per element.
    for shape in SHAPES:
        for reduction in REDUCTIONS:
            name = f"{_shape_str(shape)}-{reduction}"
            yield _case(loss, name, args_for(shape), reduction=reduction)
            if weighted:
                args = {**args_for(shape), "weight": Arg("positive", shape)}
                yield _case(loss, f"{name}-weight", args, reduction=reduction)
    # A target of another shape that broadcasts (with the weight of input's shape).
    for i, (shape, t_shape) in enumerate(REGRESSION_BROADCAST):
        for reduction in REDUCTIONS:
            name = f"bcast{_shape_str(shape)}{_shape_str(t_shape)}-{reduction}"
            yield _case(loss, name, args_for(shape, t_shape), reduction=reduction)
        if weighted:
            args = {**args_for(shape, t_shape), "weight": Arg("positive", shape)}
            reduction = _rotate(i + 1)
            name = f"bcast{_shape_str(shape)}{_shape_str(t_shape)}-{reduction}-weight"
            yield _case(loss, name, args, reduction=reduction)
    # The threshold: its values (0 for smooth_l1: L1), and exactly at the kinks.
    if threshold is not None:
        option, values = threshold
        for value in values:
            for reduction in REDUCTIONS:
                args = args_for((2, 3, 4))
                name = f"{option}_{value:g}-{reduction}"
                yield _case(loss, name, args, reduction=reduction, **{option: value})
        # d = x - y exactly 0, +-threshold (powers of two, exact in every dtype): the
        # gradient cells check PyTorch's derivative at the kinks (L1's at 0 for beta = 0).
        for value in (v for v in values if v in (0.0, 0.5, 2.0)):
            args = {"input": Arg("kinks", (4, 5), value or 1.0), "target": Arg("zeros", (4, 5))}
            yield _case(loss, f"kinks-{option}_{value:g}", args, reduction="sum", **{option: value})
    else:
        args = {"input": Arg("kinks", (4, 5)), "target": Arg("zeros", (4, 5))}
        yield _case(loss, "kinks", args, reduction="sum")
    # Legacy size_average/reduce (they override `reduction`, set here to 'none').
    if legacy:
        for size_average, reduce in LEGACY:
            name = f"legacy-size_average_{size_average}-reduce_{reduce}"
            yield _case(
                loss,
                name,
                args_for((4, 3)),
                dtypes=LEGACY_DTYPES,
                size_average=size_average,
                reduce=reduce,
                reduction="none",
            )
    # +-inf and NaN propagate as in PyTorch (inf - inf = NaN; the threshold at inf too).
    specials: list[tuple[str, dict[str, Arg], dict[str, Any]]] = [
        ("infinite", {"input": Arg("infinite", (4, 5)), "target": Arg("logits", (4, 5))}, {}),
        (
            "infinite_both",
            {"input": Arg("infinite", (4, 5)), "target": Arg("infinite", (4, 5))},
            {},
        ),
        ("nan", {"input": Arg("logits", (4, 5)), "target": Arg("with_nan", (4, 5))}, {}),
        ("huge", {"input": Arg("huge", (4, 5), 1e4), "target": Arg("logits", (4, 5))}, {}),
    ]
    if threshold is not None:
        option = threshold[0]
        inf_args = {"input": Arg("infinite", (4, 5)), "target": Arg("logits", (4, 5))}
        specials.append((f"infinite-{option}_inf", inf_args, {option: float("inf")}))
    for kind, args, options in specials:
        for reduction in ("none", "sum"):
            yield _case(loss, f"{kind}-{reduction}", args, reduction=reduction, **options)
    if weighted:
        args = {
            "input": Arg("infinite", (4, 5)),
            "target": Arg("logits", (4, 5)),
            "weight": Arg("positive", (4, 5)),
        }
        yield _case(loss, "infinite-mean-weight", args, reduction="mean")
    # Errors: PyTorch raises; arrayloss must raise the same kind of exception.
    yield _case(loss, "error-target_shape", args_for((4, 3), (2, 3)))
    yield _case(loss, "error-reduction", args_for((4, 3)), reduction="avg")
    if weighted:
        for w_shape in ((3,), (4, 1), (2, 4, 3)):
            args = {**args_for((4, 3)), "weight": Arg("positive", w_shape)}
            yield _case(loss, f"error-weight_shape{_shape_str(w_shape)}", args)
        # The weight must have input's shape even where the target enlarges the result.
        args = {**args_for((3,), (4, 3)), "weight": Arg("positive", (4, 3))}
        yield _case(loss, "error-weight_of_target_shape", args)
    if threshold is not None:
        option = threshold[0]
        bad = [-1.0, float("nan")] + ([0.0] if option == "delta" else [])
        for value in bad:
            yield _case(loss, f"error-{option}_{value:g}", args_for((4, 3)), **{option: value})


def _poisson_nll_cases() -> Iterator[Case]:
    loss = "poisson_nll_loss"

    def args_for(shape: Shape, log_input: bool, t_shape: Shape | None = None) -> dict[str, Arg]:
        x = Arg("logits", shape, 1.5) if log_input else Arg("rates", shape, 4.0)
        return {"input": x, "target": Arg("counts", shape if t_shape is None else t_shape, 2.5)}

    # Every shape x reduction x log_input x full.
    for shape in SHAPES:
        for reduction in REDUCTIONS:
            for log_input in (True, False):
                for full in (False, True):
                    name = f"{_shape_str(shape)}-{reduction}-log_input_{log_input}-full_{full}"
                    yield _case(
                        loss,
                        name,
                        args_for(shape, log_input),
                        reduction=reduction,
                        log_input=log_input,
                        full=full,
                    )
    # A target that broadcasts against the input, and one that enlarges the result.
    for i, t_shape in enumerate(((3,), (4, 1), (2, 4, 3))):
        reduction = _rotate(i)
        for log_input in (True, False):
            name = f"target_bcast{_shape_str(t_shape)}-{reduction}-log_input_{log_input}"
            args = args_for((4, 3), log_input, t_shape)
            yield _case(loss, name, args, reduction=reduction, log_input=log_input, full=True)
    # eps: larger, and 0 (a rate of exactly 0 gives log 0: inf, or nan for a count of 0).
    for eps in (1e-3, 0.5, 0.0):
        for reduction in REDUCTIONS:
            args = args_for((4, 3), False)
            name = f"eps_{eps:g}-{reduction}"
            yield _case(loss, name, args, reduction=reduction, log_input=False, eps=eps)
    # Integer counts: converted to the input's dtype, as PyTorch promotes them. With
    # full=True PyTorch computes the Stirling term of an integer target in float32 (the
    # default dtype, via log of an int64 tensor), so that case skips float64.
    for log_input in (True, False):
        for full in (False, True):
            args = {**args_for((4, 3), log_input), "target": Arg("counts_int", (4, 3), 2.5)}
            yield _case(
                loss,
                f"counts_int-log_input_{log_input}-full_{full}",
                args,
                dtypes=("float32", "float16", "bfloat16") if full else None,
                reduction="none",
                log_input=log_input,
                full=full,
            )
    # Large counts: the Stirling term dominates.
    for log_input in (True, False):
        args = {"input": args_for((4, 3), log_input)["input"], "target": Arg("counts", (4, 3), 40)}
        yield _case(
            loss,
            f"large_counts-log_input_{log_input}",
            args,
            reduction="sum",
            log_input=log_input,
            full=True,
        )
    # Legacy size_average/reduce (they override `reduction`, set here to 'none').
    for size_average, reduce in LEGACY:
        name = f"legacy-size_average_{size_average}-reduce_{reduce}"
        yield _case(
            loss,
            name,
            args_for((4, 3), True),
            dtypes=LEGACY_DTYPES,
            size_average=size_average,
            reduce=reduce,
            reduction="none",
            full=True,
        )
    # Errors.
    yield _case(loss, "error-target_shape", args_for((4, 3), True, (3, 4)))
    for reduction in ("avg", "elementwise_mean"):
        yield _case(
            loss, f"error-reduction_{reduction}", args_for((4, 3), True), reduction=reduction
        )


#: Variance shapes for an input shape: the same, one fewer dimension, a last dimension
#: of 1 and (for 3-d input) a middle dimension of 1.
def _variance_shapes(shape: Shape) -> list[tuple[str, Shape]]:
    shapes = [("same", shape)]
    if shape:
        shapes += [("fewer", shape[:-1]), ("last1", (*shape[:-1], 1))]
    if len(shape) == 3:
        shapes.append(("middle1", (shape[0], 1, shape[2])))
    return shapes


def _gaussian_nll_cases() -> Iterator[Case]:
    loss = "gaussian_nll_loss"

    def args_for(shape: Shape, v_shape: Shape | None, var: str = "positive") -> dict[str, Arg]:
        args = {"input": Arg("logits", shape, 2.0), "target": Arg("logits", shape, 2.0)}
        if v_shape is not None:
            args["var"] = Arg(var, v_shape)
        return args

    # Every shape x variance shape x reduction (full in turn); a float var on each shape.
    i = 0
    for shape in SHAPES:
        for label, v_shape in _variance_shapes(shape):
            for reduction in REDUCTIONS:
                full = i % 2 == 1
                i += 1
                name = (
                    f"{_shape_str(shape)}-var_{label}{_shape_str(v_shape)}-{reduction}-full_{full}"
                )
                yield _case(loss, name, args_for(shape, v_shape), reduction=reduction, full=full)
        for reduction in REDUCTIONS:
            full = i % 2 == 1
            i += 1
            name = f"{_shape_str(shape)}-var_float-{reduction}-full_{full}"
            yield _case(loss, name, args_for(shape, None), reduction=reduction, full=full, var=0.7)
    # Variances below eps (0 included): clamped, for the default and a larger eps.
    for eps in (1e-6, 1e-2):
        for reduction in REDUCTIONS:
            for label, v_shape in (("same", (2, 3, 4)), ("fewer", (2, 3))):
                args = args_for((2, 3, 4), v_shape, "small_variance")
                name = f"small_var_{label}-eps_{eps:g}-{reduction}"
                yield _case(loss, name, args, reduction=reduction, eps=eps)
    for var in (0.0, 1e-9):
        yield _case(loss, f"var_float_{var:g}", args_for((4, 3), None), reduction="none", var=var)
    # A target that broadcasts against the input, or enlarges the result.
    for t_shape, v_shape in (((3,), (4, 3)), ((4, 1), (4,)), ((2, 4, 3), (4,)), ((2, 4, 3), None)):
        args = args_for((4, 3), v_shape)
        args["target"] = Arg("logits", t_shape, 2.0)
        name = (
            f"target_bcast{_shape_str(t_shape)}-var{_shape_str(v_shape) if v_shape else '_float'}"
        )
        kwargs: dict[str, Any] = {} if v_shape else {"var": 1.5}
        yield _case(loss, name, args, reduction="none", **kwargs)
    # Errors: var of a wrong size or sign, a wrong reduction.
    for v_shape in ((3,), (1, 1), (), (4, 3, 1), (4, 0)):
        yield _case(loss, f"error-var_size{_shape_str(v_shape)}", args_for((4, 3), v_shape))
    # var passes the size rule but does not broadcast (PyTorch: RuntimeError).
    yield _case(loss, "error-var_bcast(0,1)", args_for((2, 3), (0, 1)))
    yield _case(
        loss, "error-target_shape", {**args_for((4, 3), (4, 3)), "target": Arg("logits", (3, 4))}
    )
    yield _case(
        loss, "error-var_negative", args_for((4, 3), (4, 3), "negative_variance"), value_check=True
    )
    yield _case(loss, "error-var_float_negative", args_for((4, 3), None), var=-1.0)
    for reduction in ("avg", "elementwise_mean"):
        yield _case(
            loss, f"error-reduction_{reduction}", args_for((4, 3), (4, 1)), reduction=reduction
        )


#: Margins taken in turn by the embedding cases (the defaults are 0 or 1).
MARGINS = (0.5, -0.3, 0.0, 2.0)
POSITIVE_MARGINS = (1.0, 0.5, 2.0)


def _legacy_cases(loss: str, args: dict[str, Arg], **kwargs: Any) -> Iterator[Case]:
    for size_average, reduce in LEGACY:
        name = f"legacy-size_average_{size_average}-reduce_{reduce}"
        yield _case(
            loss,
            name,
            args,
            dtypes=LEGACY_DTYPES,
            size_average=size_average,
            reduce=reduce,
            reduction="none",
            **kwargs,
        )


def _margin_ranking_cases() -> Iterator[Case]:
    loss = "margin_ranking_loss"

    def args_for(shape: Shape, target: str = "signs", x1: str = "logits") -> dict[str, Arg]:
        return {
            "input1": Arg(x1, shape, 2.0),
            "input2": Arg("logits", shape, 2.0),
            "target": Arg(target, shape),
        }

    i = 0
    for shape in SHAPES:
        for reduction in REDUCTIONS:
            margin = MARGINS[i % len(MARGINS)]
            i += 1
            name = f"{_shape_str(shape)}-{reduction}-margin_{margin:g}"
            yield _case(loss, name, args_for(shape), reduction=reduction, margin=margin)
    for reduction in REDUCTIONS:
        # Labels other than -1 and 1 enter the formula as they are; int64 labels.
        yield _case(
            loss,
            f"signs_mixed-{reduction}",
            args_for((4, 3), "signs_mixed"),
            reduction=reduction,
            margin=0.5,
        )
        yield _case(
            loss,
            f"int_signs-{reduction}",
            args_for((4, 3), "int_signs"),
            reduction=reduction,
            margin=0.5,
        )
    # Broadcasting within one number of dimensions (PyTorch 2.13 allows it).
    args = {
        "input1": Arg("logits", (4, 3), 2.0),
        "input2": Arg("logits", (1, 3), 2.0),
        "target": Arg("signs", (4, 1)),
    }
    yield _case(loss, "broadcast-none", args, reduction="none", margin=0.5)
    # Infinite scores: 0 or inf, NaN where inf - inf.
    yield _case(loss, "infinite-none", args_for((4, 3), x1="infinite"), reduction="none")
    yield from _legacy_cases(loss, args_for((4, 3)), margin=0.5)
    # Errors.
    args = {
        "input1": Arg("logits", (4,)),
        "input2": Arg("logits", (4,)),
        "target": Arg("signs", ()),
    }
    yield _case(loss, "error-target_ndim", args)
    args = {
        "input1": Arg("logits", (4,)),
        "input2": Arg("logits", (3,)),
        "target": Arg("signs", (4,)),
    }
    yield _case(loss, "error-shapes", args)
    yield _case(loss, "error-reduction", args_for((4,)), reduction="avg")


def _hinge_embedding_cases() -> Iterator[Case]:
    loss = "hinge_embedding_loss"

    def args_for(shape: Shape, target: str = "signs", x: str = "logits") -> dict[str, Arg]:
        return {"input": Arg(x, shape, 2.0), "target": Arg(target, shape)}

    i = 0
    for shape in SHAPES:
        for reduction in REDUCTIONS:
            margin = POSITIVE_MARGINS[i % len(POSITIVE_MARGINS)]
            i += 1
            name = f"{_shape_str(shape)}-{reduction}-margin_{margin:g}"
            yield _case(loss, name, args_for(shape), reduction=reduction, margin=margin)
    for reduction in REDUCTIONS:
        # Labels other than -1 and 1 get both terms (ATen's `!= 1` and `!= -1`).
        yield _case(
            loss, f"signs_mixed-{reduction}", args_for((4, 3), "signs_mixed"), reduction=reduction
        )
        yield _case(
            loss,
            f"int_signs-{reduction}",
            args_for((4, 3), "int_signs"),
            reduction=reduction,
            margin=-0.5,
        )
    args = {"input": Arg("logits", (4, 3), 2.0), "target": Arg("signs", (3,))}
    yield _case(loss, "broadcast-none", args, reduction="none")
    yield _case(loss, "infinite-none", args_for((4, 3), "signs", "infinite"), reduction="none")
    yield from _legacy_cases(loss, args_for((4, 3)))
    # Errors.
    yield _case(loss, "error-shapes", {"input": Arg("logits", (4,)), "target": Arg("signs", (3,))})
    yield _case(loss, "error-reduction", args_for((4,)), reduction="avg")


def _cosine_embedding_cases() -> Iterator[Case]:
    loss = "cosine_embedding_loss"

    def args_for(
        shape: Shape, target: str = "signs", x1: str = "logits", x2: str = "logits"
    ) -> dict[str, Arg]:
        t_shape = shape[:-1]
        return {
            "input1": Arg(x1, shape),
            "input2": Arg(x2, shape),
            "target": Arg(target, t_shape),
        }

    i = 0
    for shape in ((5, 4), (4,), (0, 3), (3, 0)):
        for reduction in REDUCTIONS:
            margin = (0.0, 0.5, -0.5)[i % 3]
            i += 1
            name = f"{_shape_str(shape)}-{reduction}-margin_{margin:g}"
            yield _case(loss, name, args_for(shape), reduction=reduction, margin=margin)
    for reduction in REDUCTIONS:
        # Zero vectors: PyTorch's EPSILON gives cosine 0 (and a large, finite gradient).
        yield _case(
            loss,
            f"zero_rows-{reduction}",
            args_for((6, 4), x1="zero_rows"),
            reduction=reduction,
            margin=-0.5,
        )
        yield _case(
            loss,
            f"zero_rows_both-{reduction}",
            args_for((6, 4), x1="zero_rows", x2="zeros"),
            reduction=reduction,
            margin=-0.5,
        )
        # Labels other than -1 and 1 give 0; int64 labels.
        yield _case(
            loss,
            f"signs_mixed-{reduction}",
            args_for((6, 4), "signs_mixed"),
            reduction=reduction,
            margin=0.2,
        )
        yield _case(
            loss,
            f"int_signs-{reduction}",
            args_for((5, 4), "int_signs"),
            reduction=reduction,
            margin=0.2,
        )
    for label, t_shape in (("target_1", (1,)), ("target_n", (5,))):
        args = {
            "input1": Arg("logits", (5, 4)),
            "input2": Arg("logits", (1, 4)),
            "target": Arg("signs", t_shape),
        }
        yield _case(loss, f"broadcast-{label}-none", args, reduction="none", margin=0.1)
    yield from _legacy_cases(loss, args_for((5, 4)), margin=0.1)
    # Errors (PyTorch: RuntimeError).
    for name, s1, s2, t in (
        ("target_2d", (5, 4), (5, 4), (5, 1)),
        ("1d_target_1d_inputs", (4,), (4,), (4,)),
        ("0d_target_2d_inputs", (5, 4), (5, 4), ()),
        ("3d_inputs", (2, 5, 4), (2, 5, 4), (5,)),
        ("input2_1d", (5, 4), (4,), (5,)),
        ("target_length", (5, 4), (5, 4), (3,)),
        ("input_shapes", (5, 4), (5, 3), (5,)),
    ):
        args = {"input1": Arg("logits", s1), "input2": Arg("logits", s2), "target": Arg("signs", t)}
        yield _case(loss, f"error-{name}", args)
    yield _case(loss, "error-reduction", args_for((5, 4)), reduction="avg")


def _triplet_args(
    shape: Shape, anchor: str = "logits", positive: str = "logits", scale: float = 1.0
) -> dict[str, Arg]:
    return {
        "anchor": Arg(anchor, shape, scale),
        "positive": Arg(positive, shape, scale),
        "negative": Arg("logits", shape),
    }


def _triplet_common_cases(loss: str) -> Iterator[Case]:
    """Cases both triplet losses share (the default 2-norm distance)."""
    i = 0
    for shape in ((5, 4), (4,), (2, 3, 4), (0, 4), (3, 0)):
        for reduction in REDUCTIONS:
            margin = POSITIVE_MARGINS[i % len(POSITIVE_MARGINS)]
            swap = i % 2 == 1
            i += 1
            name = f"{_shape_str(shape)}-{reduction}-margin_{margin:g}-swap_{swap}"
            yield _case(
                loss, name, _triplet_args(shape), reduction=reduction, margin=margin, swap=swap
            )
    # Identical anchor and positive: the distance is eps * sqrt(D), and its gradient
    # eps / |eps| per element: where PyTorch's eps placement shows.
    for reduction in REDUCTIONS:
        args = _triplet_args((5, 4), "constant", "constant", 0.5)
        yield _case(loss, f"identical_anchor_positive-{reduction}", args, reduction=reduction)
    args = {
        "anchor": Arg("logits", (5, 4)),
        "positive": Arg("logits", (1, 4)),
        "negative": Arg("logits", (5, 1)),
    }
    yield _case(loss, "broadcast-none", args, reduction="none", swap=True)
    # Errors.
    yield _case(loss, "error-margin_0", _triplet_args((5, 4)), margin=0.0)
    yield _case(loss, "error-margin_negative", _triplet_args((5, 4)), margin=-1.0)
    args = {
        "anchor": Arg("logits", (4,)),
        "positive": Arg("logits", (5, 4)),
        "negative": Arg("logits", (5, 4)),
    }
    yield _case(loss, "error-ndim", args)
    yield _case(loss, "error-reduction", _triplet_args((5, 4)), reduction="avg")


def _triplet_margin_cases() -> Iterator[Case]:
    loss = "triplet_margin_loss"
    yield from _triplet_common_cases(loss)
    # Every order of the norm, with and without swap.
    for p in (1.0, 2.0, 3.0, math.inf, 1.5, 0.5, 0.0, -1.0, -math.inf):
        for swap in (False, True):
            for reduction in ("none", "sum"):
                name = f"p_{p:g}-swap_{swap}-{reduction}"
                yield _case(
                    loss,
                    name,
                    _triplet_args((5, 4)),
                    reduction=reduction,
                    p=p,
                    swap=swap,
                    margin=1.5,
                )
    # eps = 0 with identical anchor and positive: a distance of exactly 0 (gradient 0).
    for p in (1.0, 2.0, 3.0, math.inf):
        args = _triplet_args((5, 4), "constant", "constant", 0.5)
        yield _case(loss, f"identical_anchor_positive-eps_0-p_{p:g}", args, p=p, eps=0.0)
    args = _triplet_args((5, 4))
    yield _case(loss, "eps_0.1-p_3", args, reduction="none", eps=0.1, p=3.0)
    yield from _legacy_cases(loss, _triplet_args((5, 4)), margin=0.5)
    args = {
        "anchor": Arg("logits", (5, 4)),
        "positive": Arg("logits", (4, 4)),
        "negative": Arg("logits", (5, 4)),
    }
    yield _case(loss, "error-shapes", args)
    yield _case(loss, "error-empty_inf_norm", _triplet_args((3, 0)), p=math.inf)


def _triplet_with_distance_cases() -> Iterator[Case]:
    # The default distance only: a case's options are hashable data, not callables
    # (tests/test_embedding.py tries user distance functions).
    yield from _triplet_common_cases("triplet_margin_with_distance_loss")


#: CTC: T frames, N samples, C classes (blank 0), targets padded to S.
CTC_T, CTC_N, CTC_C, CTC_S = 16, 3, 5, 4
CTC_POSITIONAL = ("log_probs", "targets", "input_lengths", "target_lengths")


def _ctc_args(
    targets: Arg,
    input_lengths: Arg,
    target_lengths: Arg,
    log_probs: Arg = Arg("log_softmax", (CTC_T, CTC_N, CTC_C), 2.0),
) -> dict[str, Arg]:
    return {
        "log_probs": log_probs,
        "targets": targets,
        "input_lengths": input_lengths,
        "target_lengths": target_lengths,
    }


def _ctc_cases() -> Iterator[Case]:
    # A small grid: each case costs JAX a compilation of the time loop (lax.scan) per
    # dtype, forward and gradient (~0.3 s and ~1 s on a CPU). Every reduction runs with
    # padded targets and with impossible alignments, in every dtype; the other layouts
    # and options run in float64 and float32.
    loss = "ctc_loss"
    n, s, t, c = CTC_N, CTC_S, CTC_T, CTC_C
    wide = LEGACY_DTYPES  # float64 and float32
    padded = Arg("ctc_labels", (n, s), c)
    # Input lengths of at least T/2 = 2S: every alignment is possible.
    full_inputs = Arg("lengths", (n,), t)
    lengths_s = Arg("lengths", (n,), s)
    for reduction in REDUCTIONS:
        # Padded targets; one target empty, one input of full length.
        args = _ctc_args(padded, full_inputs, Arg("lengths_from_zero", (n,), s))
        yield _case(loss, f"padded-{reduction}", args, reduction=reduction)
        # Impossible alignments: 3 frames for targets of 2 to 4 labels (the first 4),
        # zeroed by zero_infinity (the gradient too).
        impossible = _ctc_args(
            Arg("ctc_repeats", (n, s), c), Arg("int_constant", (n,), 3), lengths_s
        )
        name = f"impossible-{reduction}-zero_infinity"
        yield _case(loss, name, impossible, reduction=reduction, zero_infinity=True)
    # ... and +inf without zero_infinity.
    yield _case(loss, "impossible-none", impossible, reduction="none")
    yield _case(loss, "impossible-mean", impossible, dtypes=wide, reduction="mean")
    for reduction in ("none", "mean"):
        # Concatenated targets: (sum(target_lengths),).
        total = 3 * n
        args = _ctc_args(
            Arg("ctc_labels", (total,), c), full_inputs, Arg("lengths_summing_to", (n,), total)
        )
        yield _case(loss, f"concatenated-{reduction}", args, dtypes=wide, reduction=reduction)
        # Unbatched: (T, C) with targets (S,) (exactly the target length) and 0-d lengths.
        args = _ctc_args(
            Arg("ctc_labels", (s,), c),
            Arg("lengths", (), t),
            Arg("int_constant", (), s),
            Arg("log_softmax", (t, c), 2.0),
        )
        yield _case(loss, f"unbatched-{reduction}", args, dtypes=wide, reduction=reduction)
        # Log-probabilities that are not normalized (PyTorch does not check them).
        args = _ctc_args(padded, full_inputs, lengths_s, Arg("logits", (t, n, c), 2.0))
        yield _case(loss, f"unnormalized-{reduction}", args, dtypes=wide, reduction=reduction)
    # Repeated labels (a blank must separate the repeats).
    args = _ctc_args(Arg("ctc_repeats", (n, s), c), full_inputs, lengths_s)
    yield _case(loss, "repeats-sum", args, dtypes=wide, reduction="sum")
    # The blank last (C - 1); labels in [0, C - 1).
    args = _ctc_args(Arg("ctc_labels_below_last", (n, s), c), full_inputs, lengths_s)
    yield _case(loss, "blank_last-none", args, dtypes=wide, reduction="none", blank=c - 1)
    # Inputs of any length from 0 (with an empty target): some alignments impossible.
    args = _ctc_args(padded, Arg("lengths_from_zero", (n,), t), Arg("lengths_from_zero", (n,), s))
    yield _case(loss, "short_inputs-none", args, dtypes=wide, reduction="none", zero_infinity=True)
    # Unbatched with padded targets (1, S).
    args = _ctc_args(
        Arg("ctc_labels", (1, s), c),
        Arg("lengths", (1,), t),
        Arg("lengths", (1,), s),
        Arg("log_softmax", (t, c), 2.0),
    )
    yield _case(loss, "unbatched-padded_1xS-none", args, dtypes=wide, reduction="none")
    # Errors. Lengths out of range (value checks, on eager backends):
    for name, args in (
        ("input_lengths_above_T", _ctc_args(padded, Arg("int_constant", (n,), t + 1), lengths_s)),
        (
            "target_lengths_above_S",
            _ctc_args(padded, full_inputs, Arg("int_constant", (n,), s + 1)),
        ),
        (
            "concatenated_size",
            _ctc_args(Arg("ctc_labels", (7,), c), full_inputs, Arg("int_constant", (n,), 3)),
        ),
    ):
        yield _case(loss, f"error-{name}", args, value_check=True, dtypes=wide)
    # ... and shapes and options (everywhere).
    for name, args, options in (
        (
            "log_probs_4d",
            _ctc_args(padded, full_inputs, lengths_s, Arg("log_softmax", (t, n, c, 1))),
            {},
        ),
        ("targets_3d", _ctc_args(Arg("ctc_labels", (n, s, 1), c), full_inputs, lengths_s), {}),
        ("input_lengths_size", _ctc_args(padded, Arg("lengths", (n - 1,), t), lengths_s), {}),
        ("targets_batch", _ctc_args(Arg("ctc_labels", (n + 1, s), c), full_inputs, lengths_s), {}),
        ("blank_out_of_range", _ctc_args(padded, full_inputs, lengths_s), {"blank": c}),
        ("reduction", _ctc_args(padded, full_inputs, lengths_s), {"reduction": "avg"}),
    ):
        yield _case(loss, f"error-{name}", args, dtypes=wide, **options)


#: linear_cross_entropy's classes and its layouts: unbatched (D,), (N, D), a
#: K-dimensional weight (C, d1, D) and an empty batch, each as (input, linear_weight,
#: class-index target, linear_bias); probabilities take the logits' shape.
LINEAR_CLASSES = 5
LINEAR_SHAPES: tuple[tuple[Shape, Shape, Shape, Shape], ...] = (
    ((4,), (5, 4), (), (5,)),
    ((6, 4), (5, 4), (6,), (5,)),
    ((3, 4), (5, 2, 4), (3, 2), (5, 2)),
    ((0, 4), (5, 4), (0,), (5,)),
)


def _linear_cross_entropy_cases() -> Iterator[Case]:
    loss = "linear_cross_entropy"

    def args_for(x: Shape, w: Shape, t: Shape, target: str) -> dict[str, Arg]:
        if target == "soft":
            logits = (w[0],) if len(x) == 1 else (x[0], *w[:-1])
            t_arg = Arg("soft", logits)
        else:
            t_arg = Arg(target, t, float(LINEAR_CLASSES))
        return {"input": Arg("logits", x), "linear_weight": Arg("logits", w), "target": t_arg}

    for x, w, t, b in LINEAR_SHAPES:
        for reduction in REDUCTIONS:
            name = f"{_shape_str(x)}x{_shape_str(w)}-{reduction}"
            args = {
                **args_for(x, w, t, "class_index_ignored"),
                "linear_bias": Arg("logits", b),
                "weight": Arg("positive", (LINEAR_CLASSES,)),
            }
            yield _case(
                loss,
                f"{name}-class_index_ignored-bias-weight-smoothing",
                args,
                reduction=reduction,
                label_smoothing=0.25,
            )
            yield _case(
                loss, f"{name}-class_index", args_for(x, w, t, "class_index"), reduction=reduction
            )
            yield _case(loss, f"{name}-soft", args_for(x, w, t, "soft"), reduction=reduction)
    x, w, t, b = LINEAR_SHAPES[1]
    for reduction in REDUCTIONS:
        args = {**args_for(x, w, t, "soft"), "weight": Arg("positive", (LINEAR_CLASSES,))}
        yield _case(
            loss,
            f"soft-weight-smoothing-{reduction}",
            args,
            reduction=reduction,
            label_smoothing=0.25,
        )
        yield _case(
            loss,
            f"ignore_index_1-smoothing-{reduction}",
            args_for(x, w, t, "class_index"),
            reduction=reduction,
            ignore_index=1,
            label_smoothing=0.2,
        )
        yield _case(
            loss,
            f"all_ignored-{reduction}",
            args_for(x, w, t, "all_ignored"),
            reduction=reduction,
        )
    # Errors.
    yield _case(
        loss,
        "error-target_out_of_range",
        args_for(x, w, t, "class_index_out_of_range"),
        value_check=True,
    )
    yield _case(loss, "error-target_shape", args_for(x, w, (5,), "class_index"))
    yield _case(loss, "error-weight_features", args_for(x, (5, 3), t, "class_index"))
    yield _case(
        loss, "error-label_smoothing", args_for(x, w, t, "class_index"), label_smoothing=1.5
    )
    args = {**args_for(x, w, t, "class_index"), "weight": Arg("positive", (4,))}
    yield _case(loss, "error-weight_shape", args)
    args = {**args_for(x, w, t, "class_index"), "linear_bias": Arg("logits", (4,))}
    yield _case(loss, "error-bias_shape", args)
    yield _case(loss, "error-reduction", args_for(x, w, t, "class_index"), reduction="avg")


def _ctc_exact_grad(case: Case, arrays: Mapping[str, np.ndarray], grad: np.ndarray) -> np.ndarray:
    """PyTorch's ctc_loss gradient minus its exp(log_probs) term: the exact derivative.

    PyTorch's backward (aten/src/ATen/native/LossCTC.cpp) returns
    ``g_n * (exp(lp[t, n, c]) - posterior)`` for t < input_lengths[n], where the exact
    derivative of the loss is ``-g_n * posterior``; the two agree once a log_softmax's
    backward is applied (the term sums to 1 per frame for normalized inputs), not on
    log_probs themselves. g_n is d(sum of the output)/d(loss_n): 1, or 1 / (N max(S_n, 1))
    for 'mean'; 0 for a sample zeroed by zero_infinity (PyTorch zeroes it whole).
    """
    import torch
    import torch.nn.functional as F

    # Lengths given as sequences of ints are options (the OpInfo samples), not arrays.
    values = {k: arrays[k] if k in arrays else np.asarray(case.kwargs[k]) for k in CTC_POSITIONAL}
    lp = values["log_probs"]
    lp3 = lp if lp.ndim == 3 else lp[:, None, :]
    t, n = lp3.shape[:2]
    input_lengths = values["input_lengths"].reshape(n)
    target_lengths = values["target_lengths"].reshape(n)
    tensors = [torch.from_numpy(values[k]) for k in CTC_POSITIONAL]
    blank = case.kwargs.get("blank", 0)
    per_sample = F.ctc_loss(*tensors, blank=blank, reduction="none").numpy().reshape(n)
    g = np.where(np.isfinite(per_sample), 1.0, 0.0)
    if case.kwargs.get("reduction", "mean") == "mean":
        g = g / (n * np.maximum(target_lengths, 1))
    active = np.arange(t)[:, None] < input_lengths[None, :]
    return grad - (np.exp(lp3) * (active * g)[:, :, None]).reshape(lp.shape)


def _near_0_or_1(arrays: Mapping[str, np.ndarray]) -> str | None:
    p = arrays["input"]
    if np.any(np.minimum(np.abs(p), np.abs(1.0 - p)) <= 1e-12):
        return (
            "input within 1e-12 of 0 or 1: arrayloss gives the exact derivative there, "
            "PyTorch clamps the denominator x(1 - x) at 1e-12 (documented)"
        )
    return None


#: Every loss the suite knows, by name.
LOSSES: dict[str, LossInfo] = {
    info.name: info
    for info in (
        LossInfo("binary_cross_entropy", _bce_cases, _near_0_or_1),
        LossInfo("binary_cross_entropy_with_logits", _bce_logits_cases),
        LossInfo("cross_entropy", _cross_entropy_cases),
        LossInfo("nll_loss", _nll_cases),
        LossInfo(
            "linear_cross_entropy",
            _linear_cross_entropy_cases,
            positional=("input", "linear_weight", "target"),
        ),
        LossInfo("kl_div", _kl_div_cases),
        LossInfo("soft_margin_loss", _soft_margin_cases),
        LossInfo("multilabel_soft_margin_loss", _multilabel_soft_margin_cases),
        LossInfo("multi_margin_loss", _multi_margin_cases),
        LossInfo("multilabel_margin_loss", _multilabel_margin_cases),
        *(
            LossInfo(name, functools.partial(_regression_cases, name))
            for name in ("l1_loss", "mse_loss", "huber_loss", "smooth_l1_loss")
        ),
        LossInfo("poisson_nll_loss", _poisson_nll_cases),
        LossInfo("gaussian_nll_loss", _gaussian_nll_cases, positional=("input", "target", "var")),
        LossInfo(
            "margin_ranking_loss", _margin_ranking_cases, positional=("input1", "input2", "target")
        ),
        LossInfo("hinge_embedding_loss", _hinge_embedding_cases),
        LossInfo(
            "cosine_embedding_loss",
            _cosine_embedding_cases,
            positional=("input1", "input2", "target"),
        ),
        LossInfo(
            "triplet_margin_loss",
            _triplet_margin_cases,
            positional=("anchor", "positive", "negative"),
        ),
        LossInfo(
            "triplet_margin_with_distance_loss",
            _triplet_with_distance_cases,
            positional=("anchor", "positive", "negative"),
        ),
        LossInfo(
            "ctc_loss",
            _ctc_cases,
            positional=CTC_POSITIONAL,
            exact_grad=_ctc_exact_grad,
            grad_scale_by_loss=True,
        ),
    )
}


def loss_info(loss: str) -> LossInfo:
    """The :class:`LossInfo` of a loss of :data:`LOSSES` (PyTorch's) or of
    ``conformance.beyond.BEYOND`` (the losses PyTorch lacks)."""
    if loss in LOSSES:
        return LOSSES[loss]
    from .beyond import BEYOND

    return BEYOND[loss]


def cases_for(loss: str) -> tuple[Case, ...]:
    """The cases of one loss, in grid order."""
    return tuple(loss_info(loss).generate())


def all_cases() -> tuple[Case, ...]:
    return tuple(case for loss in LOSSES for case in cases_for(loss))


def case_by_name(case_id: str) -> Case:
    """The case named ``loss/name`` (as in the reports)."""
    for case in all_cases():
        if case.id == case_id:
            return case
    raise KeyError(f"no conformance case {case_id!r}")
