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

import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["LOSSES", "Arg", "Case", "LossInfo", "all_cases", "case_by_name", "cases_for"]

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
#: The kinds drawn as int64 class indices (kept integer in every dtype of a run).
INTEGER_KINDS = frozenset(
    {
        "class_index",
        "class_index_ignored",
        "class_index_out_of_range",
        "all_ignored",
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

    lp = arrays["log_probs"]
    lp3 = lp if lp.ndim == 3 else lp[:, None, :]
    t, n = lp3.shape[:2]
    input_lengths = arrays["input_lengths"].reshape(n)
    target_lengths = arrays["target_lengths"].reshape(n)
    tensors = [torch.from_numpy(arrays[k]) for k in CTC_POSITIONAL]
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
        LossInfo("kl_div", _kl_div_cases),
        LossInfo("soft_margin_loss", _soft_margin_cases),
        LossInfo("multilabel_soft_margin_loss", _multilabel_soft_margin_cases),
        LossInfo("multi_margin_loss", _multi_margin_cases),
        LossInfo(
            "ctc_loss",
            _ctc_cases,
            positional=CTC_POSITIONAL,
            exact_grad=_ctc_exact_grad,
            grad_scale_by_loss=True,
        ),
    )
}


def cases_for(loss: str) -> tuple[Case, ...]:
    """The cases of one loss, in grid order."""
    return tuple(LOSSES[loss].generate())


def all_cases() -> tuple[Case, ...]:
    return tuple(case for loss in LOSSES for case in cases_for(loss))


def case_by_name(case_id: str) -> Case:
    """The case named ``loss/name`` (as in the reports)."""
    for case in all_cases():
        if case.id == case_id:
            return case
    raise KeyError(f"no conformance case {case_id!r}")
