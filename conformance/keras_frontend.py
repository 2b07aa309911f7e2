"""``arrayloss.keras`` against Keras 3 itself: every loss on every backend.

``python -m conformance.keras_frontend`` runs each case of ``CASES`` with Keras's own
function or class (``keras.losses``, on Keras's JAX backend) and with the
``arrayloss.keras`` entry of the same name on every installed arrayloss backend, in
float32 and float16, compares the values and, on the autodiff backends (torch, JAX), the
gradients with respect to ``y_pred`` (Keras's through ``jax.grad``), and prints a matrix:
entry x backend, cases passed/total and the largest relative error. The float16
reference is Keras in float32 on the float16-rounded inputs (Keras's classes compute in
``floatx``, float32; this front-end in float32 internally and rounds once).
tests/test_frontend_keras.py runs the same cases. ``--entry NAME`` (repeatable: a Keras
function or class name, e.g. ``--entry circle --entry Circle``) runs only those entries.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from conformance import frontends
from conformance.backends import Backend
from conformance.frontends import Result, compare

__all__ = ["CASES", "Case", "Result", "keras_reason", "main", "run_case"]

_RNG = np.random.default_rng(20261204)
_X = _RNG.normal(size=(4, 3))  # logits, predictions
_Y = _RNG.uniform(size=(4, 3))  # targets in [0, 1]
_P = 1 / (1 + np.exp(-_X))  # probabilities, elementwise
_B = (_Y > 0.5).astype(np.float64)  # binary labels
_SM = np.exp(_X) / np.exp(_X).sum(-1, keepdims=True)  # probabilities over the last axis
_LAB = np.array([0, 2, 1, 1])
_ONEHOT = np.eye(3)[_LAB]
_SW = np.array([1.0, 0.0, 2.0, 0.5])  # sample weights
_X4 = _RNG.normal(size=(2, 3, 2, 2))  # classes on axis 1 (Keras's axis=1)
_ONEHOT4 = np.moveaxis(np.eye(3)[_RNG.integers(0, 3, size=(2, 2, 2))], -1, 1)
_P4 = _RNG.uniform(size=(2, 2, 2, 1))
_B4 = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0]).reshape(2, 2, 2, 1)
_CTC_LABELS = np.array([[1, 2, 0], [2, 2, 1]])
_CTC_LOGITS = _RNG.normal(size=(2, 6, 4))
_E = _RNG.normal(size=(6, 4))
_E /= np.linalg.norm(_E, axis=1, keepdims=True)  # unit embeddings, as Circle expects
_EL = np.array([0, 1, 0, 2, 1, 0])  # label 2 alone: a row with no positive (masked)
_R = _RNG.normal(size=(5, 4))
_R /= np.linalg.norm(_R, axis=1, keepdims=True)  # reference embeddings
_RL = np.array([1, 0, 0, 2, 1])
_SW6 = np.array([1.0, 0.0, 2.0, 0.5, 1.5, 1.0])
_LAB3 = np.array([[0, 2], [1, 1]])  # labels of (2, 2, 3) probabilities
_X3 = np.moveaxis(_X4[..., 0], 1, -1)  # (2, 2, 3) logits
_SM3 = np.exp(_X3) / np.exp(_X3).sum(-1, keepdims=True)


@dataclass(frozen=True)
class Case:
    """One call: ``name(y_true, y_pred, **options)`` for a function,
    ``name(**options)(y_true, y_pred, sample_weight=sample_weight)`` for a class.
    Floating NumPy inputs are cast to the case's dtype; integer ones keep theirs."""

    name: str
    y_true: Any
    y_pred: Any
    options: dict[str, Any] = field(default_factory=dict)
    sample_weight: Any = None
    dtypes: tuple[str, ...] = ("float32", "float16")
    grad: bool = True
    label: str = ""

    @property
    def is_class(self) -> bool:
        return self.name[0].isupper()

    @property
    def id(self) -> str:
        return f"{self.name}[{self.label}]" if self.label else self.name


def _pairs(
    fn: str, cls: str, y_true: Any, y_pred: Any, sw: Any = _SW, **options: Any
) -> list[Case]:
    """The function and the class on the same inputs (the class with and without
    sample weights ``sw``, one per sample of the function's result)."""
    label = ",".join(f"{k}={v}" for k, v in options.items())
    return [
        Case(fn, y_true, y_pred, options, label=label),
        Case(cls, y_true, y_pred, options, label=label),
        Case(cls, y_true, y_pred, options, sw, label=(label + ",sw").lstrip(",")),
    ]


CASES: list[Case] = [
    *_pairs("binary_crossentropy", "BinaryCrossentropy", _B, _P),
    *_pairs("binary_crossentropy", "BinaryCrossentropy", _Y, _X, from_logits=True),
    *_pairs("binary_crossentropy", "BinaryCrossentropy", _B, _P, label_smoothing=0.1),
    Case("binary_crossentropy", _B, _X, {"from_logits": True, "label_smoothing": 0.2, "axis": 0}),
    Case("binary_crossentropy", _B4, _P4, label="rank 4"),
    *_pairs("binary_focal_crossentropy", "BinaryFocalCrossentropy", _B, _P),
    *_pairs(
        "binary_focal_crossentropy",
        "BinaryFocalCrossentropy",
        _B,
        _X,
        from_logits=True,
        apply_class_balancing=True,
        alpha=0.3,
        gamma=1.5,
        label_smoothing=0.1,
    ),
    *_pairs("categorical_crossentropy", "CategoricalCrossentropy", _ONEHOT, _SM),
    *_pairs(
        "categorical_crossentropy",
        "CategoricalCrossentropy",
        _ONEHOT,
        _X,
        from_logits=True,
        label_smoothing=0.1,
    ),
    Case("categorical_crossentropy", _ONEHOT4, _X4, {"from_logits": True, "axis": 1}),
    *_pairs("categorical_focal_crossentropy", "CategoricalFocalCrossentropy", _ONEHOT, _SM),
    *_pairs(
        "categorical_focal_crossentropy",
        "CategoricalFocalCrossentropy",
        _ONEHOT,
        _X,
        from_logits=True,
        alpha=0.5,
        gamma=1.0,
        label_smoothing=0.2,
    ),
    *_pairs("sparse_categorical_crossentropy", "SparseCategoricalCrossentropy", _LAB, _SM),
    *_pairs(
        "sparse_categorical_crossentropy",
        "SparseCategoricalCrossentropy",
        _LAB,
        _X,
        from_logits=True,
    ),
    *_pairs(
        "sparse_categorical_crossentropy",
        "SparseCategoricalCrossentropy",
        _LAB,
        _X,
        from_logits=True,
        ignore_class=1,
    ),
    Case(
        "SparseCategoricalCrossentropy",
        _LAB,
        _X,
        {"from_logits": True, "ignore_class": 2, "reduction": "sum"},
        _SW,
        label="ignore_class=2,sum,sw",
    ),
    *_pairs("mean_squared_error", "MeanSquaredError", _Y, _X),
    *_pairs("mean_absolute_error", "MeanAbsoluteError", _Y, _X),
    *_pairs("mean_absolute_percentage_error", "MeanAbsolutePercentageError", _Y, _X),
    *_pairs("mean_squared_logarithmic_error", "MeanSquaredLogarithmicError", _Y, _P),
    *_pairs("huber", "Huber", _Y, _X, delta=0.5),
    *_pairs("log_cosh", "LogCosh", _Y, _X),
    *_pairs("hinge", "Hinge", _B, _X),
    *_pairs("squared_hinge", "SquaredHinge", 2 * _B - 1, _X),
    *_pairs("categorical_hinge", "CategoricalHinge", _ONEHOT, _X),
    *_pairs("kl_divergence", "KLDivergence", _Y, _P),
    *_pairs("poisson", "Poisson", _Y, _P),
    *_pairs("cosine_similarity", "CosineSimilarity", _Y, _X),
    *_pairs("cosine_similarity", "CosineSimilarity", _Y, _X, _SW[:3], axis=0),
    *_pairs("dice", "Dice", _B4, _P4),
    *_pairs("dice", "Dice", _B4, _P4, _SW[:2], axis=(1, 2)),
    *_pairs("tversky", "Tversky", _B4, _P4, alpha=0.3, beta=0.7),
    *_pairs("tversky", "Tversky", _B4, _P4, _SW[:2], alpha=0.3, beta=0.7, axis=(1, 2, 3)),
    *[
        Case(c.name, c.y_true, c.y_pred, c.options, c.sample_weight, ("float32",), c.grad, c.label)
        for c in _pairs("ctc", "CTC", _CTC_LABELS, _CTC_LOGITS, _SW[:2])
    ],
    *_pairs("circle", "Circle", _EL, _E, _SW6),
    *_pairs("circle", "Circle", _EL, 0.9 * _E, _SW6, gamma=2.0, margin=0.25, remove_diagonal=False),
    Case("circle", _EL, _E, {"ref_labels": _RL, "ref_embeddings": _R}, label="ref"),
    Case(
        "circle",
        _EL[:5],
        _R,
        {"ref_labels": _EL, "ref_embeddings": _E, "gamma": 10.0, "remove_diagonal": False},
        label="ref,gamma=10,remove_diagonal=False",
    ),
    Case("circle", _EL.astype(np.float64), _E, {"margin": 0.1}, label="float labels,margin=0.1"),
    Case("Circle", _EL[:, None], _E, {"gamma": 16.0}, label="labels (N, 1),gamma=16"),
    *[
        Case("Circle", _EL, _E, {"reduction": r}, sw, grad=r is not None, label=f"{r},sw")
        for r in ("sum", "mean", "mean_with_sample_weight", None)
        for sw in (_SW6,)
    ],
    Case(
        "Circle", _EL, _E, {"reduction": "mean_with_sample_weight"}, label="mean_with_sample_weight"
    ),
    *_pairs(
        "categorical_generalized_cross_entropy",
        "CategoricalGeneralizedCrossEntropy",
        _LAB,
        _SM,
        q=0.5,
    ),
    *_pairs(
        "categorical_generalized_cross_entropy",
        "CategoricalGeneralizedCrossEntropy",
        _LAB,
        _P,
        q=0.2,
    ),
    Case("categorical_generalized_cross_entropy", _LAB3, _SM3, {"q": 0.7}, label="rank 3,q=0.7"),
    Case(
        "categorical_generalized_cross_entropy",
        _LAB.astype(np.float64),
        _SM,
        {"q": 0.9},
        label="float labels,q=0.9",
    ),
    *[
        Case(
            "CategoricalGeneralizedCrossEntropy",
            _LAB,
            _SM,
            {"reduction": r},
            _SW,
            grad=r is not None,
            label=f"{r},sw",
        )
        for r in ("sum", "mean_with_sample_weight", None)
    ],
    *[
        Case(
            "MeanSquaredError",
            _Y,
            _X,
            {"reduction": reduction},
            sw,
            grad=reduction not in (None, "none"),
            label=f"{reduction}{',sw' if sw is not None else ''}",
        )
        for reduction in ("sum", "none", None, "mean", "mean_with_sample_weight")
        for sw in (None, _SW, _SW[:, None])
    ],
]


def _cast(a: Any, dtype: str) -> Any:
    if isinstance(a, np.ndarray) and a.dtype.kind == "f":
        return a.astype(dtype)
    return a


# --- Keras -----------------------------------------------------------------------------


def _keras() -> Any:
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras

    return keras


def keras_reason() -> str | None:
    """None when Keras 3 imports on its JAX backend; otherwise why not."""
    try:
        keras = _keras()
    except Exception as exc:
        return f"keras is not importable ({type(exc).__name__}: {exc})"
    if keras.backend.backend() != "jax":
        return f"keras runs on {keras.backend.backend()}, not JAX (KERAS_BACKEND)"
    return None


def _keras_call(case: Case, options: dict[str, Any]) -> Callable[..., Any]:
    losses = _keras().losses
    if case.is_class:
        loss = getattr(losses, case.name)(**options)
        return lambda t, p, w: loss(t, p, sample_weight=w)
    fn = getattr(losses, case.name)
    return lambda t, p, w: fn(t, p, **options)


_KERAS_CACHE: dict[tuple[int, str], tuple[np.ndarray, np.ndarray | None]] = {}


def keras_value(case: Case, dtype: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Keras's loss (and gradient w.r.t. ``y_pred`` of its sum) in float32 on the
    inputs rounded to ``dtype``; computed once per case and dtype."""
    key = (id(case), dtype)
    if key not in _KERAS_CACHE:
        _KERAS_CACHE[key] = _keras_value(case, dtype)
    return _KERAS_CACHE[key]


def _keras_value(case: Case, dtype: str) -> tuple[np.ndarray, np.ndarray | None]:
    import jax
    import jax.numpy as jnp

    def arr(a: Any) -> Any:
        if a is None:
            return None
        a = _cast(a, dtype)
        return jnp.asarray(a.astype(np.float32) if a.dtype.kind == "f" else a)

    call = _keras_call(
        case, {k: arr(v) if isinstance(v, np.ndarray) else v for k, v in case.options.items()}
    )
    t, p, w = arr(case.y_true), arr(case.y_pred), arr(case.sample_weight)
    value = np.asarray(call(t, p, w), dtype=np.float64)
    grad = None
    if case.grad:
        g = jax.grad(lambda q: jnp.sum(call(t, q, w)))(p)
        grad = np.asarray(g, dtype=np.float64)
    return value, grad


# --- arrayloss -------------------------------------------------------------------------


def arrayloss_value(
    case: Case, backend: Backend, dtype: str
) -> tuple[np.ndarray, np.ndarray | None]:
    """The ``arrayloss.keras`` entry's loss (and gradient on torch and JAX)."""
    import arrayloss.keras as front

    entry = getattr(front, case.name)
    sw = None if case.sample_weight is None else backend.asarray(_cast(case.sample_weight, dtype))
    t = backend.asarray(_cast(case.y_true, dtype))
    p = backend.asarray(_cast(case.y_pred, dtype))
    options = {
        k: backend.asarray(_cast(v, dtype)) if isinstance(v, np.ndarray) else v
        for k, v in case.options.items()
    }

    if case.is_class:
        loss = entry(**options)

        def fn(t: Any, p: Any, *w: Any) -> Any:
            return loss(t, p, sample_weight=w[0] if w else None)
    else:

        def fn(t: Any, p: Any, *w: Any) -> Any:
            return entry(t, p, **options)

    args = (t, p) if sw is None else (t, p, sw)
    value = backend.to_numpy(backend.call(fn, *args)).astype(np.float64)
    grad = None
    if case.grad and backend.autodiff and not backend.gpu:
        if backend.module == "torch":
            q = p.detach().requires_grad_(True)
            fn(t, q, *args[2:]).sum().backward()
            grad = q.grad.detach().float().numpy().astype(np.float64)
        else:
            import jax
            import jax.numpy as jnp

            g = jax.grad(lambda q: jnp.sum(fn(t, q, *args[2:])))(p)
            grad = np.asarray(g.astype(jnp.float32), dtype=np.float64)
    return value, grad


# --- comparison ------------------------------------------------------------------------

TOLERANCES = {"float32": (2e-5, 2e-6), "float16": (4e-3, 2e-3)}


def run_case(case: Case, backend: Backend, dtype: str) -> Result:
    """Compare one case on one backend and dtype with Keras's own."""
    return compare(
        case,
        backend,
        dtype,
        keras_value(case, dtype),
        arrayloss_value(case, backend, dtype),
        TOLERANCES[dtype],
        "Keras",
    )


#: For ``python -m conformance.frontends``: why this check cannot run here, or None.
reason = keras_reason


def run_all(
    backends: tuple[Backend, ...] | None = None,
    progress: Callable[[Result], None] | None = None,
    entries: tuple[str, ...] = (),
) -> list[Result]:
    """Every case (only those of ``entries``, the Keras names, when given)."""
    cases = [c for c in CASES if not entries or c.name in entries]
    return frontends.run_all(cases, run_case, backends, progress=progress)


def matrix(results: list[Result], entries: tuple[str, ...] = ()) -> str:
    """The entry x backend table (the rows of ``entries`` only, when given)."""
    return frontends.matrix(
        results,
        list(dict.fromkeys(f"`{c.name}`" for c in CASES if not entries or c.name in entries)),
        lambda c: f"`{c.name}`",
        ("float32", "float16"),
        "entry",
        None,
    )


def title() -> str:
    return f"arrayloss.keras vs Keras {_keras().__version__} (JAX backend)"


def main(argv: list[str] | None = None) -> int:
    description = (__doc__ or "").split("\n")[0]
    return frontends.command(
        "python -m conformance.keras_frontend",
        description,
        reason,
        title,
        run_all,
        matrix,
        [c.name for c in CASES],
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
