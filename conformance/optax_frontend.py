"""``arrayloss.optax`` against optax itself: every function on every backend.

``python -m conformance.optax_frontend`` runs each case of ``CASES`` with optax's own
function (``optax.losses``, on JAX with 64-bit enabled) and with the ``arrayloss.optax``
function of the same name on every installed arrayloss backend, in float32 and float64,
compares the per-example values and, on the autodiff backends (torch, JAX), the
gradients of their sum with respect to the first input (``jax.grad`` of optax's), and
prints a matrix: function x backend, cases passed/total and the largest relative error.
tests/test_frontend_optax.py runs the same cases.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from conformance import frontends
from conformance.backends import Backend
from conformance.frontends import Result, compare

__all__ = [
    "CASES",
    "Case",
    "JaxNumpy",
    "Result",
    "largest_list_loss",
    "main",
    "matrix",
    "optax_reason",
    "run_all",
    "run_case",
]

_RNG = np.random.default_rng(20261204)
_X = _RNG.normal(size=(4, 3))
_Y = _RNG.uniform(size=(4, 3))
_P = np.exp(_X) / np.exp(_X).sum(1, keepdims=True)
_SOFT = _Y / _Y.sum(1, keepdims=True)
_LAB = np.array([0, 2, 1, 1])
_BIN = (_Y > 0.5).astype(np.int64)
_SIGN = np.array([1.0, -1.0, 1.0, -1.0])[:, None] * np.ones(3)
_ONEHOT = np.eye(3)[_LAB]
_KEEP = np.array([[True, True, False], [True, False, True], [False, True, True], [True] * 3])
_ROWS = np.array([True, False, True, True])
_X3 = _RNG.normal(size=(2, 3, 4))
_SOFT3 = _RNG.dirichlet(np.ones(12), size=2).reshape(2, 3, 4)
_X4 = _RNG.normal(size=(1, 2, 3, 4))
_LAB4 = np.array([[5, 11]])  # flat indices into the (3, 4) class slice
_SEG = _RNG.normal(size=(2, 3, 2, 3))  # (B, H, W, C): classes last
_SEG_T = np.eye(3)[_RNG.integers(0, 3, size=(2, 3, 2))]
_SEG_P = np.exp(_SEG) / np.exp(_SEG).sum(-1, keepdims=True)
_ZERO_T = _SOFT.copy()
_ZERO_T[0, 1] = 0.0  # a zero target: 0 log 0 = 0
_NEG_INF = _X.copy()
_NEG_INF[0, 1] = _NEG_INF[2, 0] = -np.inf  # safe_softmax_cross_entropy: label 0 there
_SAFE_T = _ONEHOT.copy()
_SAFE_T[0] = [1.0, 0.0, 0.0]
_SAFE_T[2] = [0.0, 0.5, 0.5]
_CTC_LOGITS = _RNG.normal(size=(2, 6, 4))
_CTC_PAD = np.array([[0.0] * 6, [0.0] * 5 + [1.0]])
_CTC_LAB = np.array([[1, 2, 2], [3, 1, 0]])
_CTC_LAB_PAD = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
# ctc_loss_with_forward_probs: 3 frames for labels needing 4 and 5 (repeats), no
# alignment; then repeats, and padded labels equal to the blank (2).
_CTC_LAB_LONG = np.array([[1, 1, 3], [3, 3, 3]])
_CTC_LAB_REP = np.array([[1, 1, 2], [3, 3, 2]])
_CTC_PAD_REP = np.array([[0.0] * 6, [0.0] * 3 + [1.0] * 3])
_CTC_LAB_PAD_REP = np.array([[0.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
_EMB = _RNG.normal(size=(6, 4))
_EMB_LAB = np.array([0, 0, 1, 1, 2, 2])
_SIGN3 = np.where(_RNG.uniform(size=(2, 3, 4)) > 0.5, 1.0, -1.0)
_X_ZEROS = _X.copy()
_X_ZEROS[0, 1] = _X_ZEROS[2, 2] = 0.0  # perceptron's kink: maximum(0, -0) splits the tie
_LAB3 = np.array([[0, 3, 1], [2, 2, 0]])  # labels of _X3's (2, 3) rows of 4 classes
_TIED = np.array([[1.0, 1.0, 0.0], [0.5, 2.0, 2.0], [0.3, 0.3, 0.3], [-1.0, 2.0, 2.0]])
_TIED_LAB = np.array([0, 1, 2, 0])  # target tied with the largest other score: rows 0, 1
_TIED2 = _TIED[[0, 1, 3]]  # the perceptron's kink with one other score tied: rows 0, 1
_TIED2_LAB = _TIED_LAB[[0, 1, 3]]
_KINKS = np.array([[-1.0, 1.0, 0.0], [1.0, -1.0, 3.0]])  # sparse_plus's joins, exactly
_BOUNDARY = np.array([[1.0, 0.0, -2.0], [0.5, -0.5, 0.2]])  # row 0: p = (1, 0, 0), 0 exactly
_BOUNDARY_LAB = np.array([1, 0])
_WIDE = 2.0 * _RNG.normal(size=(5, 7))  # sparsemax supports of 1 to several classes
_WIDE_LAB = np.array([0, 6, 3, 3, 1])
_REL = _RNG.integers(0, 4, size=(4, 3)).astype(float)  # graded relevance 0..3
_WEIGHTS = _RNG.uniform(0.5, 2.0, size=(4, 3))
_KEEP_EMPTY = _KEEP.copy()
_KEEP_EMPTY[1] = False  # a list with no item kept: loss 0, left out of the mean
_REL3 = _RNG.integers(0, 3, size=(2, 3, 4)).astype(float)
_KEEP_ITEMS = np.array([True, True, False, True])  # (list_size,): broadcast to every list


@dataclass(frozen=True)
class JaxNumpy:
    """A ``jax.numpy`` function given to both sides by name (``reduce_fn=jnp.sum``, as
    optax code passes it): looked up when the case runs, so that importing this module
    imports no JAX."""

    name: str

    def resolve(self) -> Any:
        import jax.numpy as jnp

        return getattr(jnp, self.name)


def largest_list_loss(loss: Any, where: Any = None) -> Any:
    """A custom ``reduce_fn``, of any array API library: the largest loss of the lists
    kept (those outside ``where`` count 0)."""
    import array_api_compat

    xp = array_api_compat.array_namespace(loss)
    if where is not None:
        loss = xp.where(where, loss, xp.zeros_like(loss))
    return xp.max(loss)


@dataclass(frozen=True)
class Case:
    """One call: ``fn(*inputs, **kwargs)``. Floating NumPy arrays (in ``kwargs`` too)
    are cast to the case's dtype; integer and boolean ones keep theirs. ``grad``:
    compare the gradient of the summed loss with respect to ``inputs[0]``. ``rtol``:
    a looser relative tolerance, where a difference is documented."""

    fn: str
    inputs: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)
    label: str = ""
    grad: bool = True
    dtypes: tuple[str, ...] = ("float32", "float64")
    rtol: float | None = None

    @property
    def id(self) -> str:
        return f"{self.fn}[{self.label}]" if self.label else self.fn


_F64 = ("float64",)

CASES: tuple[Case, ...] = (
    Case("sigmoid_binary_cross_entropy", (_X, _Y)),
    Case("sigmoid_binary_cross_entropy", (_X, _BIN[0]), label="int-broadcast"),
    Case("softmax_cross_entropy", (_X, _SOFT)),
    Case("softmax_cross_entropy", (_X, _SOFT), {"axis": 0}, label="axis0"),
    Case("softmax_cross_entropy", (_X3, _SOFT3), {"axis": (1, 2)}, label="axes12"),
    Case("softmax_cross_entropy", (_X, _SOFT * _KEEP), {"where": _KEEP}, label="where"),
    Case("softmax_cross_entropy", (_X, _SOFT), {"where": _ROWS}, label="where-rows"),
    Case("softmax_cross_entropy_with_integer_labels", (_X, _LAB)),
    Case("softmax_cross_entropy_with_integer_labels", (_X.T.copy(), _LAB), {"axis": 0}, "axis0"),
    Case("softmax_cross_entropy_with_integer_labels", (_X4, _LAB4), {"axis": (2, 3)}, "axes23"),
    Case(
        "softmax_cross_entropy_with_integer_labels",
        (_X, np.array([0, 2, 1, 1])),
        {"where": _KEEP},
        label="where",
    ),
    Case("softmax_cross_entropy_with_integer_labels", (_X, _LAB), {"where": _ROWS}, "where-rows"),
    Case("safe_softmax_cross_entropy", (_X, _SOFT)),
    Case("safe_softmax_cross_entropy", (_NEG_INF, _SAFE_T), label="-inf"),
    Case("poly_loss_cross_entropy", (_X, _SOFT), {"epsilon": 1.5}),
    Case("poly_loss_cross_entropy", (_X, _Y / _Y.sum(0)), {"axis": 0}, label="axis0"),
    Case(
        "poly_loss_cross_entropy",
        (_X, _SOFT * _KEEP / (_SOFT * _KEEP).sum(1, keepdims=True)),
        {"where": _KEEP},
        label="where",
    ),
    Case("sigmoid_focal_loss", (_X, _BIN)),
    Case("sigmoid_focal_loss", (_X, _Y), {"alpha": 0.25, "gamma": 1.5}, label="alpha-soft"),
    Case("hinge_loss", (_X, _SIGN)),
    Case("multiclass_hinge_loss", (_X, _LAB)),
    Case("multiclass_hinge_loss", (_X - 5.0, _LAB), label="negative-scores"),
    Case("multiclass_hinge_loss", (_X3, _LAB3), label="batch-3d"),
    Case("multiclass_hinge_loss", (_TIED, _TIED_LAB), label="ties"),
    Case("multiclass_hinge_loss", (_X[:, :1], np.zeros(4, dtype=np.int64)), label="one-class"),
    Case("perceptron_loss", (_X, _SIGN)),
    Case("perceptron_loss", (_X3, _SIGN3), label="3d"),
    Case("perceptron_loss", (_X_ZEROS, _SIGN), label="zero-outputs"),
    Case("multiclass_perceptron_loss", (_X, _LAB)),
    Case("multiclass_perceptron_loss", (_X - 5.0, _LAB), label="negative-scores"),
    Case("multiclass_perceptron_loss", (_X3, _LAB3), label="batch-3d"),
    Case("multiclass_perceptron_loss", (_X[1], np.array(2)), label="1d"),
    Case("multiclass_perceptron_loss", (_TIED2, _TIED2_LAB), label="two-way-ties"),
    Case("sparsemax_loss", (2 * _X, _BIN)),
    Case("sparsemax_loss", (2 * _X, _BIN[0]), label="int-broadcast"),
    Case("sparsemax_loss", (2 * _X3, _SIGN3 > 0), label="bool-3d"),
    Case("sparsemax_loss", (2 * _X, _Y), label="float-labels"),
    Case("sparsemax_loss", (_KINKS, np.array([[0, 1, 1], [1, 0, 0]])), label="kinks"),
    # float64 only: optax 0.2.8's projection_simplex fails on float32 under
    # jax_enable_x64 (its 1 / arange(...) is float64, and its custom JVP rejects the
    # mixed tangent). tests/test_frontend_optax_offline.py checks float32 by hand.
    Case("multiclass_sparsemax_loss", (_X, _LAB), dtypes=_F64),
    Case("multiclass_sparsemax_loss", (_WIDE, _WIDE_LAB), label="wide", dtypes=_F64),
    Case("multiclass_sparsemax_loss", (_TIED, _TIED_LAB), label="ties", dtypes=_F64),
    Case("multiclass_sparsemax_loss", (10 * _X, _LAB), label="one-hot-support", dtypes=_F64),
    Case(
        "multiclass_sparsemax_loss",
        (_BOUNDARY, _BOUNDARY_LAB),
        label="support-boundary",
        dtypes=_F64,
    ),
    Case("ranking_softmax_loss", (_X, _Y)),
    Case("ranking_softmax_loss", (_X, _REL), label="graded"),
    Case("ranking_softmax_loss", (_X, _BIN), label="int-labels"),
    Case("ranking_softmax_loss", (_X, _REL), {"where": _KEEP}, label="where"),
    Case("ranking_softmax_loss", (_X, _REL), {"where": _KEEP_EMPTY}, label="where-empty-list"),
    Case("ranking_softmax_loss", (_X, _REL), {"weights": _WEIGHTS}, label="weights"),
    Case(
        "ranking_softmax_loss",
        (_X, _REL),
        {"where": _KEEP_EMPTY, "weights": _WEIGHTS},
        label="where-weights",
    ),
    Case(
        "ranking_softmax_loss",
        (_X, _REL),
        {"where": _KEEP, "reduce_fn": JaxNumpy("sum")},
        label="jnp.sum",
    ),
    Case(
        "ranking_softmax_loss",
        (_X, _REL),
        {"where": _KEEP_EMPTY, "reduce_fn": JaxNumpy("mean")},
        label="jnp.mean",
    ),
    Case(
        "ranking_softmax_loss",
        (_X, _REL),
        {"where": _KEEP_EMPTY, "reduce_fn": None},
        label="reduce_fn-None",
    ),
    Case(
        "ranking_softmax_loss",
        (_X, _REL),
        {"where": _KEEP_EMPTY, "reduce_fn": largest_list_loss},
        label="custom-reduce_fn",
    ),
    Case(
        "ranking_softmax_loss",
        (_X3, _REL3),
        {"where": _KEEP_ITEMS, "reduce_fn": None},
        label="3d-where-broadcast",
    ),
    Case("ranking_softmax_loss", (_X[0], _REL[0]), label="one-list"),
    Case(
        "ranking_softmax_loss",
        (_X, _REL),
        {"where": np.zeros((4, 3), dtype=bool)},
        label="where-no-list",
    ),
    Case("squared_error", (_X, _Y)),
    Case("squared_error", (_X,), label="no-targets"),
    Case("l2_loss", (_X, _Y)),
    Case("huber_loss", (2 * _X, _Y), {"delta": 0.5}),
    Case("huber_loss", (2 * _X,), label="no-targets"),
    Case("log_cosh", (_X, _Y)),
    Case("cosine_similarity", (_X, _Y)),
    Case("cosine_similarity", (_X, _Y), {"axis": 0}, label="axis0"),
    Case("cosine_similarity", (_X, _Y), {"where": _KEEP}, label="where"),
    Case("cosine_distance", (_X, _Y)),
    Case("kl_divergence", (np.log(_P), _ZERO_T)),
    Case("kl_divergence", (np.log(_P), _SOFT), {"axis": None}, label="axis-None"),
    Case("kl_divergence", (np.log(_P), _SOFT), {"where": _KEEP}, label="where"),
    Case("kl_divergence_with_log_targets", (np.log(_P), np.log(_SOFT))),
    Case("generalized_kl_divergence", (np.log(_P), 2 * _Y)),
    Case("generalized_kl_divergence", (np.log(_P), _Y), {"where": _KEEP}, label="where"),
    Case("convex_kl_divergence", (np.log(_P), 2 * _Y)),
    Case("ctc_loss", (_CTC_LOGITS, _CTC_PAD, _CTC_LAB, _CTC_LAB_PAD)),
    # No alignment: optax's large finite loss (log_epsilon), not inf.
    Case(
        "ctc_loss",
        (_CTC_LOGITS[:, :3], np.zeros((2, 3)), _CTC_LAB_LONG, np.zeros((2, 3))),
        {"log_epsilon": -1e3},
        label="no-alignment",
    ),
    Case(
        "ctc_loss",
        (_CTC_LOGITS, _CTC_PAD_REP, _CTC_LAB_REP, _CTC_LAB_PAD_REP),
        {"blank_id": 2},
        label="repeats-blank2",
    ),
    # (loss, logalpha_phi, logalpha_emit) flattened into one array (see _flat); the
    # gradient is the loss's.
    Case("ctc_loss_with_forward_probs", (_CTC_LOGITS, _CTC_PAD, _CTC_LAB, _CTC_LAB_PAD)),
    Case(
        "ctc_loss_with_forward_probs",
        (_CTC_LOGITS[:, :3], np.zeros((2, 3)), _CTC_LAB_LONG, np.zeros((2, 3))),
        {"log_epsilon": -1e3},
        label="no-alignment",
    ),
    Case(
        "ctc_loss_with_forward_probs",
        (_CTC_LOGITS, _CTC_PAD_REP, _CTC_LAB_REP, _CTC_LAB_PAD_REP),
        {"blank_id": 2},
        label="repeats-blank2",
    ),
    Case("dice_loss", (_SEG, _SEG_T)),
    Case(
        "dice_loss",
        (_SEG, _SEG_T),
        {"class_weights": np.array([1.0, 2.0, 0.5]), "smooth": 0.5, "ignore_background": True},
        label="weights-ignore",
    ),
    Case(
        "dice_loss",
        (_SEG_P, _SEG_T),
        {"apply_softmax": False},
        label="probabilities",
        grad=False,  # optax checks the sums eagerly (jnp.allclose): no jax.jit
    ),
    Case("dice_loss", (_SEG[..., :1], _SEG_T[..., :1]), label="one-class-sigmoid"),
    Case("multiclass_generalized_dice_loss", (_SEG, _SEG_T)),
    Case("binary_dice_loss", (_X, _BIN.astype(float))),
    Case("ntxent", (_EMB, _EMB_LAB), {"temperature": 0.5}),
    Case("triplet_margin_loss", (_X, _Y, _P), rtol=1e-5),
    Case("triplet_margin_loss", (_X, _Y, _P), {"axis": 0, "margin": 0.5}, "axis0", rtol=1e-5),
    Case("smooth_labels", (_ONEHOT,), {"alpha": 0.1}),
)


def _resolve(value: Any) -> Any:
    return value.resolve() if isinstance(value, JaxNumpy) else value


def _cast(a: Any, dtype: str) -> Any:
    if isinstance(a, np.ndarray) and a.dtype.kind == "f":
        return a.astype(dtype)
    return a


# --- optax -------------------------------------------------------------------------------


def optax_reason() -> str | None:
    """None when optax imports; otherwise why not."""
    try:
        import optax  # noqa: F401
    except Exception as exc:
        return f"optax is not importable ({type(exc).__name__}: {exc})"
    return None


def _quiet(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` with convex_kl_divergence's DeprecationWarning (optax's and ours) silenced."""

    def call(*args: Any, **kwargs: Any) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return fn(*args, **kwargs)

    return call


def _loss(out: Any) -> Any:
    """The loss of an output: ctc_loss_with_forward_probs returns (loss, forward
    variables), the others the loss."""
    return out[0] if isinstance(out, tuple) else out


def _flat(out: Any, to_numpy: Callable[[Any], np.ndarray]) -> np.ndarray:
    """An output as one float64 array to compare: a tuple's arrays flattened and
    concatenated."""
    if isinstance(out, tuple):
        return np.concatenate([np.ravel(to_numpy(o)).astype(np.float64) for o in out])
    return np.asarray(to_numpy(out), dtype=np.float64)


def optax_value(case: Case, dtype: str) -> tuple[np.ndarray, np.ndarray | None]:
    """optax's per-example loss (and the gradient of its sum w.r.t. ``inputs[0]``)."""
    from conformance.backends import _jax

    jax = _jax()  # 64-bit enabled
    import jax.numpy as jnp
    import optax

    fn = _quiet(getattr(optax.losses, case.fn))
    args = [jnp.asarray(_cast(a, dtype)) if isinstance(a, np.ndarray) else a for a in case.inputs]
    kwargs = {
        k: jnp.asarray(_cast(v, dtype)) if isinstance(v, np.ndarray) else _resolve(v)
        for k, v in case.kwargs.items()
    }
    if not case.grad:
        return _flat(fn(*args, **kwargs), np.asarray), None

    def loss(x: Any) -> tuple[Any, Any]:
        value = fn(x, *args[1:], **kwargs)
        return jnp.sum(_loss(value)), value

    # One compiled call for the value and the gradient (eager JAX is slow to dispatch).
    (_, value), grad = jax.jit(jax.value_and_grad(loss, has_aux=True))(args[0])
    return _flat(value, np.asarray), np.asarray(grad, dtype=np.float64)


# --- arrayloss ---------------------------------------------------------------------------


def arrayloss_value(
    case: Case, backend: Backend, dtype: str
) -> tuple[np.ndarray, np.ndarray | None]:
    """The ``arrayloss.optax`` function's loss (and gradient of its sum on torch, JAX)."""
    import arrayloss.optax as front

    fn = _quiet(getattr(front, case.fn))
    args = [
        backend.asarray(_cast(a, dtype)) if isinstance(a, np.ndarray) else a for a in case.inputs
    ]
    kwargs = {
        k: backend.asarray(_cast(v, dtype)) if isinstance(v, np.ndarray) else _resolve(v)
        for k, v in case.kwargs.items()
    }
    value = _flat(backend.call(fn, *args, **kwargs), backend.to_numpy)
    grad = None
    if case.grad and backend.autodiff and not backend.gpu:
        if backend.module == "torch":
            x = args[0].detach().requires_grad_(True)
            _loss(fn(x, *args[1:], **kwargs)).sum().backward()
            grad = x.grad.detach().numpy().astype(np.float64)
        else:
            import jax
            import jax.numpy as jnp

            grad_fn = jax.grad(lambda x: jnp.sum(_loss(fn(x, *args[1:], **kwargs))))
            if backend.jit:  # the gradient traced too, in the jax-jit column
                grad_fn = jax.jit(grad_fn)
            grad = np.asarray(grad_fn(args[0]), dtype=np.float64)
    return value, grad


# --- comparison --------------------------------------------------------------------------

TOLERANCES = {"float32": (2e-5, 2e-6), "float64": (1e-10, 1e-12)}


_REFERENCE: dict[tuple[int, str], tuple[np.ndarray, np.ndarray | None]] = {}


def _reference(case: Case, dtype: str) -> tuple[np.ndarray, np.ndarray | None]:
    """optax's values, computed once per case and dtype (not once per backend)."""
    key = (id(case), dtype)
    if key not in _REFERENCE:
        _REFERENCE[key] = optax_value(case, dtype)
    return _REFERENCE[key]


def _tolerance(case: Case, dtype: str) -> tuple[float, float]:
    rtol, atol = TOLERANCES[dtype]
    if case.rtol is not None:
        rtol, atol = max(rtol, case.rtol), max(atol, case.rtol)
    return rtol, atol


def run_case(case: Case, backend: Backend, dtype: str) -> Result:
    """Compare one case on one backend and dtype with optax's own."""
    return compare(
        case,
        backend,
        dtype,
        _reference(case, dtype),
        arrayloss_value(case, backend, dtype),
        _tolerance(case, dtype),
        "optax",
    )


#: For ``python -m conformance.frontends``: why this check cannot run here, or None.
reason = optax_reason


def run_all(
    backends: tuple[Backend, ...] | None = None,
    progress: Callable[[Result], None] | None = None,
    entries: tuple[str, ...] = (),
) -> list[Result]:
    """Every case (only those of ``entries``, optax function names, when given)."""
    cases = [c for c in CASES if not entries or c.fn in entries]
    return frontends.run_all(cases, run_case, backends, progress=progress)


def matrix(results: list[Result], entries: tuple[str, ...] = ()) -> str:
    return frontends.matrix(
        results,
        list(dict.fromkeys(c.fn for c in CASES if not entries or c.fn in entries)),
        lambda c: c.fn,
        ("float32", "float64"),
        "function",
        None,
    )


def title() -> str:
    import optax

    return f"arrayloss.optax vs optax {optax.__version__} (JAX, CPU)"


def main(argv: list[str] | None = None) -> int:
    description = (__doc__ or "").split("\n")[0]
    return frontends.command(
        "python -m conformance.optax_frontend",
        description,
        reason,
        title,
        run_all,
        matrix,
        [c.fn for c in CASES],
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
