"""``arrayloss.mindspore`` against MindSpore itself: every cell on every backend.

``python -m conformance.mindspore`` runs each case of ``CASES`` with MindSpore's own
cell (``mindspore.nn``, CPU) and with the ``arrayloss.mindspore`` cell of the same name
on every installed arrayloss backend, in float32 and (where MindSpore's CPU kernels take
it) float16, compares the values and, on the autodiff backends (torch, JAX), the
gradients with respect to the first input (``mindspore.grad``; of the sum where a cell
returns no scalar), and prints a matrix: cell x backend, cases passed/total and the
largest relative error. It needs MindSpore
(``nox -s mindspore``); tests/test_frontend_mindspore.py runs the same cases.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from conformance import frontends
from conformance.backends import Backend
from conformance.frontends import Result, compare

__all__ = ["CASES", "NO_CPU_KERNEL", "Case", "Result", "main", "run_case"]

# Cells MindSpore 2.10.0 has no CPU kernel for ("The kernel ... unregistered"): their
# cases are checked only where a reference runs (the test file's closed-form values).
NO_CPU_KERNEL = {"SoftMarginLoss", "MultilabelMarginLoss", "TripletMarginLoss"}

_RNG = np.random.default_rng(20261204)
_X = _RNG.normal(size=(4, 3))
_Y = _RNG.uniform(size=(4, 3))
_P = 1 / (1 + np.exp(-_X))
_LAB = np.array([0, 2, 1, 1])
_SIGN = np.array([1.0, -1.0, 1.0, -1.0])
_W3 = np.array([1.0, 2.0, 0.5])
_X4 = _RNG.normal(size=(2, 3, 2, 2))
_LAB4 = _RNG.integers(0, 3, size=(2, 1, 2, 2))
_ONEHOT = np.eye(3)[_LAB]
# BCELoss at and below MindSpore's epsilon 1e-12 (1 - 1e-13 is 1 in float32), each
# probability with the labels 0, 1 and 0.3; 1e-12 and 1e-9 tell log(p + eps) from a clip.
_P_EDGE = np.array([0.0, 1e-13, 1e-12, 1e-9, 1 - 1e-13, 1.0])[:, None] * np.ones(3)
_Y_EDGE = np.ones((6, 1)) * np.array([0.0, 1.0, 0.3])
# SampledSoftmaxLoss: 6 classes of dimension 3, 4 examples. Its sampled values: those of
# mindspore.ops.UniformCandidateSampler(num_true, 3, True, 6, seed=2, True) for these
# labels (MindSpore 2.10.0, CPU; the same for num_true 1 and 2), whose classes 0 and 4
# hit true labels; and one by hand with unequal expected counts.
_SS_W = _RNG.normal(size=(6, 3))
_SS_B = _RNG.normal(size=6)
_SS_LAB1 = np.array([[0], [2], [1], [4]])
_SS_LAB2 = np.array([[0, 3], [2, 5], [1, 0], [4, 2]])
_SS_Q = 0.5981224179267883
_SS_SAMPLER1 = (np.array([4, 0, 5]), np.full((4, 1), _SS_Q), np.full(3, _SS_Q))
_SS_SAMPLER2 = (np.array([4, 0, 5]), np.full((4, 2), _SS_Q), np.full(3, _SS_Q))
_SS_HAND2 = (
    np.array([3, 1]),
    np.array([[0.2, 0.7], [0.5, 1.5], [0.9, 0.1], [1.0, 0.4]]),
    np.array([0.3, 2.0]),
)


@dataclass(frozen=True)
class Case:
    """One call: ``cell(**init)(*inputs)``. Floating NumPy arrays (in ``init`` too) are
    cast to the case's dtype; integer ones keep theirs. ``grad``: compare the gradient
    with respect to ``inputs[0]`` (a scalar loss is needed)."""

    cell: str
    init: dict[str, Any] = field(default_factory=dict)
    inputs: tuple[Any, ...] = ()
    dtypes: tuple[str, ...] = ("float32", "float16")
    grad: bool = True
    label: str = ""

    @property
    def id(self) -> str:
        return f"{self.cell}[{self.label}]" if self.label else self.cell


def _i32(a: np.ndarray) -> np.ndarray:
    return a.astype(np.int32)


CASES: tuple[Case, ...] = (
    Case("BCELoss", {}, (_P, _Y)),
    Case(
        "BCELoss",
        {"weight": np.broadcast_to(_W3, _P.shape).copy(), "reduction": "sum"},
        (_P, _Y),
        label="weight-sum",
    ),
    # float32 only: MindSpore's float16 kernel rounds 1e-12 to 0, so that p = 0 and 1 give
    # it inf and NaN (the class's documented difference).
    Case(
        "BCELoss",
        {"reduction": "sum"},
        (_P_EDGE, _Y_EDGE),
        dtypes=("float32",),
        label="edge-sum",
    ),
    Case(
        "BCELoss",
        {"weight": np.broadcast_to(_W3, _P_EDGE.shape).copy()},
        (_P_EDGE, _Y_EDGE),
        dtypes=("float32",),
        label="edge-weight-mean",
    ),
    Case(
        "BCELoss",
        {"reduction": "none"},
        (_P_EDGE, _Y_EDGE),
        dtypes=("float32",),
        grad=False,
        label="edge-none",
    ),
    Case("BCEWithLogitsLoss", {"weight": _W3, "pos_weight": _W3[::-1].copy()}, (_X, _Y)),
    Case("BCEWithLogitsLoss", {"reduction": "none"}, (_X, _Y), grad=False, label="none"),
    Case("CrossEntropyLoss", {"weight": _W3, "label_smoothing": 0.1}, (_X, _i32(_LAB))),
    Case(
        "CrossEntropyLoss",
        {"reduction": "sum"},
        (_X, _Y / _Y.sum(1, keepdims=True)),
        label="probs-sum",
    ),
    Case(
        "NLLLoss",
        {"weight": _W3, "ignore_index": 1},
        (np.log(_P / _P.sum(1, keepdims=True)), _i32(_LAB)),
    ),
    Case("KLDivLoss", {"reduction": "batchmean"}, (np.log(_P), _Y)),
    Case("KLDivLoss", {}, (np.log(_P), _Y), label="mean"),
    Case("L1Loss", {}, (_X, _Y)),
    Case("MAELoss", {"reduction": "sum"}, (_X, _Y)),
    Case("MSELoss", {}, (_X, _Y)),
    Case("MSELoss", {"reduction": "none"}, (_X[0], _Y), grad=False, label="broadcast"),
    Case("RMSELoss", {}, (_X, _Y)),
    Case("HuberLoss", {"delta": 0.5}, (2 * _X, _Y)),
    Case("SmoothL1Loss", {"beta": 0.5, "reduction": "mean"}, (2 * _X, _Y)),
    Case("SmoothL1Loss", {}, (_X, _Y), grad=False, label="default-none"),
    Case("SoftMarginLoss", {}, (_X, _SIGN[:, None] * np.ones(3))),
    Case("MultiLabelSoftMarginLoss", {"weight": _W3}, (_X, (_Y > 0.5).astype(float))),
    Case("MultiMarginLoss", {"p": 2, "margin": 0.7, "weight": _W3}, (_X, _LAB)),
    Case(
        "MultilabelMarginLoss", {}, (_X, np.array([[0, 2, -1], [1, -1, 0], [2, 1, 0], [1, -1, -1]]))
    ),
    Case("HingeEmbeddingLoss", {"margin": 0.8}, (_X, np.sign(_Y - 0.5))),
    Case("CosineEmbeddingLoss", {"margin": 0.1}, (_X, _Y, _SIGN)),
    Case("MarginRankingLoss", {"margin": 0.2}, (_X, _Y, np.sign(_Y - 0.5))),
    Case("TripletMarginLoss", {"margin": 0.5}, (_X, _Y, _P)),
    Case("TripletMarginWithDistanceLoss", {"margin": 0.5, "swap": True}, (_X, _Y, _P)),
    Case("PoissonNLLLoss", {"full": True}, (_X, 3 * _Y)),
    Case("PoissonNLLLoss", {"log_input": False}, (_P, 3 * _Y), label="probabilities"),
    Case("GaussianNLLLoss", {"full": True}, (_X, _Y, _P)),
    Case(
        "CTCLoss",
        {},
        (
            np.log(_RNG.dirichlet(np.ones(4), size=(6, 2))),
            np.array([[1, 2, 2], [3, 1, 0]]),
            np.array([6, 5]),
            np.array([3, 2]),
        ),
        dtypes=("float32",),
        grad=False,
    ),
    Case(
        "SoftmaxCrossEntropyWithLogits",
        {"sparse": True},
        (_X, _i32(_LAB)),
        dtypes=("float32",),
        grad=False,
    ),
    Case(
        "SoftmaxCrossEntropyWithLogits", {"reduction": "mean"}, (_X, _ONEHOT), label="one-hot-mean"
    ),
    Case(
        "SoftmaxCrossEntropyWithLogits",
        {"sparse": True, "reduction": "mean"},
        (_X, _i32(_LAB)),
        label="sparse-mean",
    ),
    Case("FocalLoss", {"weight": _W3, "gamma": 2.0}, (_X, _i32(_LAB[:, None]))),
    Case(
        "FocalLoss",
        {"gamma": 1.5, "reduction": "none"},
        (_X4, _i32(_LAB4)),
        grad=False,
        label="spatial-none",
    ),
    Case("FocalLoss", {"gamma": 1.5, "reduction": "sum"}, (_X4, _i32(_LAB4)), label="spatial-sum"),
    Case("FocalLoss", {"weight": _W3}, (_X, _ONEHOT), label="one-hot"),
    Case(
        "FocalLoss",
        {"reduction": "sum"},
        (_X4, np.eye(3)[_LAB4[:, 0]].transpose(0, 3, 1, 2)),
        label="one-hot-spatial-sum",
    ),
    Case("FocalLoss", {"reduction": "none"}, (_X, _ONEHOT), grad=False, label="one-hot-none"),
    Case("DiceLoss", {}, (_P, (_Y > 0.5).astype(float))),
    Case("DiceLoss", {"smooth": 0.1}, (_P, _Y), label="smooth"),
    Case("MultiClassDiceLoss", {}, (_X, _ONEHOT)),
    Case(
        "MultiClassDiceLoss",
        {"ignore_indiex": 1, "activation": "sigmoid"},
        (_X, _ONEHOT),
        label="ignore-sigmoid",
    ),
    Case(
        "MultiClassDiceLoss",
        {"weights": _W3[:, None].copy()},
        (_X, _ONEHOT),
        grad=False,
        label="weights",
    ),
    Case(
        "MultiClassDiceLoss",
        {"activation": "softmax"},
        (_X4, np.eye(3)[_LAB4[:, 0]].transpose(0, 3, 1, 2)),
        label="spatial",
    ),
    # The gradient is with respect to the weights (the first input), of the sum of the
    # (N,) loss: MindSpore applies no reduction to it.
    Case(
        "SampledSoftmaxLoss",
        {"num_sampled": 3, "num_classes": 6, "sampled_values": _SS_SAMPLER1},
        (_SS_W, _SS_B, _SS_LAB1, _X),
    ),
    Case(
        "SampledSoftmaxLoss",
        {
            "num_sampled": 3,
            "num_classes": 6,
            "sampled_values": _SS_SAMPLER1,
            "remove_accidental_hits": False,
            "reduction": "mean",
        },
        (_SS_W, _SS_B, _i32(_SS_LAB1), _X),
        label="no-removal-mean",
    ),
    Case(
        "SampledSoftmaxLoss",
        {"num_sampled": 3, "num_classes": 6, "num_true": 2, "sampled_values": _SS_SAMPLER2},
        (_SS_W, _SS_B, _SS_LAB2, _X),
        label="num_true2",
    ),
    Case(
        "SampledSoftmaxLoss",
        {
            "num_sampled": 2,
            "num_classes": 6,
            "num_true": 2,
            "sampled_values": _SS_HAND2,
            "remove_accidental_hits": False,
            "reduction": "sum",
        },
        (_SS_W, _SS_B, _i32(_SS_LAB2), 2 * _X),
        label="num_true2-hand-sum",
    ),
    # Sampled logits far above the true one: softmax under 1e-20, MindSpore's 46.0517.
    Case(
        "SampledSoftmaxLoss",
        {"num_sampled": 3, "num_classes": 6, "sampled_values": _SS_SAMPLER1},
        (_SS_W, _SS_B - 60 * (np.arange(6) == 2), _SS_LAB1, _X),
        dtypes=("float32",),
        label="floor",
    ),
)


def _cast(a: Any, dtype: str) -> Any:
    if isinstance(a, np.ndarray) and a.dtype.kind == "f":
        return a.astype(dtype)
    if isinstance(a, tuple):  # SampledSoftmaxLoss's sampled_values
        return tuple(_cast(v, dtype) for v in a)
    return a


def _total(loss: Any) -> Any:
    """The loss differentiated: its sum where a cell returns no scalar (SampledSoftmaxLoss)."""
    return loss if len(loss.shape) == 0 else loss.sum()


# --- MindSpore -------------------------------------------------------------------------


def mindspore_reason() -> str | None:
    """None when MindSpore imports; otherwise why not."""
    try:
        import mindspore
    except Exception as exc:  # ImportError, or a NumPy 2 ABI failure
        return f"mindspore is not importable ({type(exc).__name__}: {exc})"
    if mindspore.__version__.startswith("2.10.") and int(np.__version__.split(".")[0]) >= 2:
        # It imports, with a warning, and then fails inside its operators.
        return f"MindSpore {mindspore.__version__} needs NumPy < 2; NumPy is {np.__version__}"
    return None


def _ms(a: Any) -> Any:
    import mindspore as ms

    if isinstance(a, tuple):
        return tuple(_ms(v) for v in a)
    return ms.Tensor(a) if isinstance(a, np.ndarray) else a


def mindspore_value(case: Case, dtype: str) -> tuple[np.ndarray, np.ndarray | None]:
    """MindSpore's loss (and gradient w.r.t. ``inputs[0]`` if ``case.grad``)."""
    import mindspore as ms
    from mindspore import nn

    init = {k: _ms(_cast(v, dtype)) for k, v in case.init.items()}
    cell = getattr(nn, case.cell)(**init)
    args = [_ms(_cast(a, dtype)) for a in case.inputs]
    value = np.asarray(cell(*args).asnumpy(), dtype=np.float64)
    grad = None
    if case.grad:
        g = ms.grad(lambda x: _total(cell(x, *args[1:])), grad_position=0)(args[0])
        grad = np.asarray(g.asnumpy(), dtype=np.float64)
    return value, grad


# --- arrayloss -------------------------------------------------------------------------


def arrayloss_value(
    case: Case, backend: Backend, dtype: str
) -> tuple[np.ndarray, np.ndarray | None]:
    """The ``arrayloss.mindspore`` cell's loss (and gradient on torch and JAX)."""
    import arrayloss.mindspore as front

    def convert(v: Any) -> Any:
        if isinstance(v, tuple):
            return tuple(convert(a) for a in v)
        return backend.asarray(v) if isinstance(v, np.ndarray) else v

    init = {k: convert(_cast(v, dtype)) for k, v in case.init.items()}
    args = [backend.asarray(_cast(a, dtype)) for a in case.inputs]

    def fn(*a: Any) -> Any:
        return getattr(front, case.cell)(**init)(*a)

    value = backend.to_numpy(backend.call(fn, *args)).astype(np.float64)
    grad = None
    if case.grad and backend.autodiff and not backend.gpu:
        if backend.module == "torch":
            x = args[0].detach().requires_grad_(True)
            _total(fn(x, *args[1:])).backward()
            grad = x.grad.detach().numpy().astype(np.float64)
        else:
            import jax

            g = jax.grad(lambda x: _total(fn(x, *args[1:])))(args[0])
            grad = np.asarray(g, dtype=np.float64)
    return value, grad


# --- comparison ------------------------------------------------------------------------

TOLERANCES = {"float32": (2e-5, 2e-6), "float16": (4e-3, 2e-3)}


def run_case(case: Case, backend: Backend, dtype: str) -> Result:
    """Compare one case on one backend and dtype with MindSpore's own."""
    return compare(
        case,
        backend,
        dtype,
        mindspore_value(case, dtype),
        arrayloss_value(case, backend, dtype),
        TOLERANCES[dtype],
        "MindSpore",
    )


#: For ``python -m conformance.frontends``: why this check cannot run here, or None.
reason = mindspore_reason


def run_all(
    backends: tuple[Backend, ...] | None = None,
    progress: Callable[[Result], None] | None = None,
    entries: tuple[str, ...] = (),
) -> list[Result]:
    """Every case (only those of ``entries``, MindSpore cell names, when given)."""
    cases = [c for c in CASES if not entries or c.cell in entries]
    return frontends.run_all(
        cases, run_case, backends, skip=lambda case: case.cell in NO_CPU_KERNEL, progress=progress
    )


def matrix(results: list[Result], entries: tuple[str, ...] = ()) -> str:
    return frontends.matrix(
        results,
        list(dict.fromkeys(c.cell for c in CASES if not entries or c.cell in entries)),
        lambda c: c.cell,
        ("float32", "float16"),
        "cell",
        dict.fromkeys(NO_CPU_KERNEL, "no MindSpore CPU kernel"),
    )


def title() -> str:
    import mindspore

    return f"arrayloss.mindspore vs MindSpore {mindspore.__version__} (CPU)"


def main(argv: list[str] | None = None) -> int:
    description = (__doc__ or "").split("\n")[0]
    return frontends.command(
        "python -m conformance.mindspore",
        description,
        reason,
        title,
        run_all,
        matrix,
        [c.cell for c in CASES],
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
