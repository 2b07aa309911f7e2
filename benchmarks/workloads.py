"""The workloads: one per loss, keyed by its ``torch.nn.functional`` name.

A workload says how to build the arguments of a loss at a given size N (the number of
elements of the first argument, as NumPy arrays from a seeded generator), and, where they
exist, the same loss written by hand in NumPy, with optax and with Keras 3. The suite
benchmarks every workload whose loss the installed arrayloss exports, so losses that land
later are picked up without touching this file.

Everything is the default ``reduction="mean"`` (``"batchmean"`` for ``kl_div``, whose
``"mean"`` PyTorch warns about), float32 data, int64 class indices.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["FAMILIES", "WORKLOADS", "Case", "Workload", "default_sizes", "shape_for"]

Array = Any


@dataclass
class Case:
    """The arguments of one call: positional arrays (NumPy) and keyword options."""

    args: tuple[np.ndarray, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.args[0].shape)

    @property
    def elements(self) -> int:
        return int(self.args[0].size)

    @property
    def input_bytes(self) -> int:
        return int(self.args[0].nbytes)


@dataclass(frozen=True)
class Workload:
    """How to benchmark one loss.

    Attributes
    ----------
    name
        The ``torch.nn.functional`` (and arrayloss) function name.
    kind
        How a size N becomes shapes: ``"elementwise"`` (N,), ``"classification"``
        (B, C) with C <= 1000, ``"embedding"`` (B, D) with D <= 100, ``"ctc"``
        (T, B, C) = (50, N / 1000, 20).
    make
        ``make(rng, shape) -> Case``.
    numpy
        The loss by hand in NumPy (same maths, same reduction), or None.
    optax
        ``optax(*jax_args) -> scalar`` computing the same value with optax, or None.
    keras
        ``keras(keras_module, *args) -> scalar`` with Keras 3 losses, or None.
    max_size
        The largest N of the default run.
    """

    name: str
    kind: str
    make: Callable[[np.random.Generator, tuple[int, ...]], Case]
    numpy: Callable[..., Any] | None = None
    optax: Callable[..., Any] | None = None
    keras: Callable[..., Any] | None = None
    max_size: int = 10_000_000


# The goal groups of issue 7 (ratios to torch.nn.functional, torch eager, N >= 1e5).
FAMILIES: dict[str, tuple[str, ...]] = {
    "elementwise": (
        "binary_cross_entropy",
        "binary_cross_entropy_with_logits",
        "soft_margin_loss",
        "kl_div",
        "multilabel_soft_margin_loss",
    ),
    "regression": ("mse_loss", "l1_loss"),
    "huber": ("huber_loss", "smooth_l1_loss"),
    "classification": ("cross_entropy", "nll_loss"),
}

ELEMENTWISE_SIZES = (1, 10_000, 100_000, 1_000_000, 10_000_000)
# B x C with C = 1000 from N = 1e3 on, up to 65,536 x 1,000 (cross_entropy, nll_loss).
CLASSIFICATION_SIZES = (1, 1_000, 100_000, 1_000_000, 4_096_000, 16_384_000, 65_536_000)
CTC_SIZES = (1_000, 10_000, 100_000, 1_000_000)


def shape_for(kind: str, n: int) -> tuple[int, ...]:
    """The shape of the first argument of a ``kind`` workload at size ``n``."""
    n = max(1, int(n))
    if kind == "elementwise":
        return (n,)
    if kind == "classification":
        c = min(1000, n)
        return (max(1, n // c), c)
    if kind == "embedding":
        d = min(100, n)
        return (max(1, n // d), d)
    if kind == "ctc":
        return (50, max(1, n // 1000), 20)
    raise ValueError(f"unknown workload kind {kind!r}")


def default_sizes(workload: Workload) -> tuple[int, ...]:
    """The sizes N of the default run of a workload."""
    if workload.kind == "ctc":
        sizes = CTC_SIZES
    elif workload.kind == "classification" and workload.name in FAMILIES["classification"]:
        sizes = CLASSIFICATION_SIZES
    else:
        sizes = ELEMENTWISE_SIZES
    return tuple(n for n in sizes if n <= workload.max_size)


# ---------------------------------------------------------------- data makers
def _f32(a: Any) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float32)


def _normal(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.standard_normal(shape, dtype=np.float32)


def _signs(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return _f32(rng.integers(0, 2, size=shape, dtype=np.int8) * 2 - 1)


def _uniform(rng: np.random.Generator, shape: tuple[int, ...], lo: float, hi: float) -> np.ndarray:
    return _f32(rng.uniform(lo, hi, size=shape))


def _classes(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    b, c = shape
    return rng.integers(0, c, size=(b,), dtype=np.int64)


def _log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    m = x.max(axis=axis, keepdims=True)
    z = x - m
    return _f32(z - np.log(np.exp(z).sum(axis=axis, keepdims=True)))


def _two(
    left: Callable[..., np.ndarray], right: Callable[..., np.ndarray], **kwargs: Any
) -> Callable[[np.random.Generator, tuple[int, ...]], Case]:
    def make(rng: np.random.Generator, shape: tuple[int, ...]) -> Case:
        return Case((left(rng, shape), right(rng, shape)), dict(kwargs))

    return make


def _make_multilabel_margin(rng: np.random.Generator, shape: tuple[int, ...]) -> Case:
    b, c = shape
    k = min(c, 3)
    target = np.full((b, c), -1, dtype=np.int64)
    start = rng.integers(0, c, size=(b, 1))
    target[:, :k] = (start + np.arange(k)) % c  # k distinct labels, then -1 padding
    return Case((_normal(rng, shape), target))


def _make_embedding3(rng: np.random.Generator, shape: tuple[int, ...]) -> Case:
    return Case(tuple(_normal(rng, shape) for _ in range(3)))


def _make_cosine(rng: np.random.Generator, shape: tuple[int, ...]) -> Case:
    return Case((_normal(rng, shape), _normal(rng, shape), _signs(rng, shape[:1])))


def _make_ctc(rng: np.random.Generator, shape: tuple[int, ...]) -> Case:
    t, b, c = shape
    s = min(10, t // 2)
    log_probs = _log_softmax(_normal(rng, shape))
    targets = rng.integers(1, c, size=(b, s), dtype=np.int64)  # 0 is the blank
    input_lengths = np.full((b,), t, dtype=np.int64)
    target_lengths = np.full((b,), s, dtype=np.int64)
    return Case((log_probs, targets, input_lengths, target_lengths))


# ---------------------------------------------------------------- NumPy by hand
def _np_softplus_neg_abs(x: np.ndarray) -> np.ndarray:
    return np.log1p(np.exp(-np.abs(x)))


def _np_bce_logits(x: np.ndarray, t: np.ndarray) -> Any:
    return np.mean(np.maximum(x, 0) - x * t + _np_softplus_neg_abs(x))


def _np_cross_entropy(x: np.ndarray, t: np.ndarray) -> Any:
    m = x.max(axis=1, keepdims=True)
    lse = np.log(np.exp(x - m).sum(axis=1)) + m[:, 0]
    return np.mean(lse - x[np.arange(x.shape[0]), t])


def _make_linear_ce(rng: np.random.Generator, shape: tuple[int, ...]) -> Case:
    # (B, D) features, a (1000, D) linear head and class indices: the logits are (B, 1000).
    b, d = shape
    w = _f32(rng.normal(size=(1000, d)) / np.sqrt(d))
    return Case((_normal(rng, shape), w, rng.integers(0, 1000, size=b, dtype=np.int64)))


def _np_linear_ce(x: np.ndarray, w: np.ndarray, t: np.ndarray) -> Any:
    return _np_cross_entropy(x @ w.T, t)


def _np_multi_margin(x: np.ndarray, t: np.ndarray) -> Any:
    rows = np.arange(x.shape[0])
    m = np.maximum(1 - x[rows, t][:, None] + x, 0)
    m[rows, t] = 0
    return np.mean(m.sum(axis=1) / x.shape[1])


def _np_huber(x: np.ndarray, t: np.ndarray) -> Any:
    d = np.abs(x - t)
    return np.mean(np.where(d < 1, 0.5 * d * d, d - 0.5))


def _np_cosine(a: np.ndarray, b: np.ndarray, y: np.ndarray) -> Any:
    eps = 1e-8
    cos = (a * b).sum(1) / np.sqrt(((a * a).sum(1) + eps) * ((b * b).sum(1) + eps))
    return np.mean(np.where(y == 1, 1 - cos, np.maximum(cos, 0)))


def _np_triplet(a: np.ndarray, p: np.ndarray, n: np.ndarray) -> Any:
    dap = np.linalg.norm(a - p + 1e-6, axis=1)
    dan = np.linalg.norm(a - n + 1e-6, axis=1)
    return np.mean(np.maximum(dap - dan + 1, 0))


# ---------------------------------------------------------------- optax (jax arrays)
def _optax() -> Any:
    import optax

    return optax.losses


def _ox_bce_logits(x: Array, t: Array) -> Any:
    return _optax().sigmoid_binary_cross_entropy(x, t).mean()


def _ox_cross_entropy(x: Array, t: Array) -> Any:
    return _optax().softmax_cross_entropy_with_integer_labels(x, t).mean()


def _ox_kl_div(x: Array, t: Array) -> Any:
    # torch's "batchmean" on 1-D input divides the sum by input.shape[0].
    return _optax().kl_divergence(x, t) / x.shape[0]


def _ox_mse(x: Array, t: Array) -> Any:
    return _optax().squared_error(x, t).mean()


def _ox_huber(x: Array, t: Array) -> Any:
    return _optax().huber_loss(x, t, delta=1.0).mean()


def _ox_triplet(a: Array, p: Array, n: Array) -> Any:
    return _optax().triplet_margin_loss(a, p, n).mean()


def _ox_ctc(log_probs: Array, targets: Array, input_lengths: Array, target_lengths: Array) -> Any:
    import jax.numpy as jnp

    logits = jnp.transpose(log_probs, (1, 0, 2))  # (B, T, C)
    b, t, _ = logits.shape
    logit_paddings = jnp.zeros((b, t), dtype=logits.dtype)
    label_paddings = jnp.zeros(targets.shape, dtype=logits.dtype)
    per_seq = _optax().ctc_loss(logits, logit_paddings, targets, label_paddings)
    return (per_seq / target_lengths).mean()


# ---------------------------------------------------------------- Keras 3 (y_true, y_pred)
def _ks_bce_logits(k: Any, x: Array, t: Array) -> Any:
    return k.losses.binary_crossentropy(t, x, from_logits=True)


def _ks_bce(k: Any, p: Array, t: Array) -> Any:
    return k.losses.binary_crossentropy(t, p)


def _ks_cross_entropy(k: Any, x: Array, t: Array) -> Any:
    return k.ops.mean(k.losses.sparse_categorical_crossentropy(t, x, from_logits=True))


def _ks_mse(k: Any, x: Array, t: Array) -> Any:
    return k.losses.mean_squared_error(t, x)


def _ks_l1(k: Any, x: Array, t: Array) -> Any:
    return k.losses.mean_absolute_error(t, x)


def _ks_huber(k: Any, x: Array, t: Array) -> Any:
    return k.losses.huber(t, x, delta=1.0)


# ---------------------------------------------------------------- the registry
_W = [
    Workload(
        "binary_cross_entropy",
        "elementwise",
        _two(lambda r, s: _uniform(r, s, 0.01, 0.99), lambda r, s: _uniform(r, s, 0, 1)),
        numpy=lambda p, t: -np.mean(t * np.log(p) + (1 - t) * np.log1p(-p)),
        keras=_ks_bce,
    ),
    Workload(
        "binary_cross_entropy_with_logits",
        "elementwise",
        _two(_normal, lambda r, s: _uniform(r, s, 0, 1)),
        numpy=_np_bce_logits,
        optax=_ox_bce_logits,
        keras=_ks_bce_logits,
    ),
    Workload(
        "soft_margin_loss",
        "elementwise",
        _two(_normal, _signs),
        numpy=lambda x, y: np.mean(np.log1p(np.exp(-y * x))),
    ),
    Workload(
        "kl_div",
        "elementwise",
        _two(
            lambda r, s: _f32(np.log(_uniform(r, s, 0.01, 1))),
            lambda r, s: _uniform(r, s, 0, 1),
            reduction="batchmean",
        ),
        numpy=lambda x, t: np.sum(t * (np.log(t) - x)) / x.shape[0],
        optax=_ox_kl_div,
    ),
    Workload(
        "multilabel_soft_margin_loss",
        "classification",
        _two(_normal, lambda r, s: _f32(r.integers(0, 2, size=s, dtype=np.int8))),
        numpy=_np_bce_logits,  # the mean over C then over B is the mean over all
        optax=_ox_bce_logits,
    ),
    Workload(
        "cross_entropy",
        "classification",
        _two(_normal, _classes),
        numpy=_np_cross_entropy,
        optax=_ox_cross_entropy,
        keras=_ks_cross_entropy,
        max_size=65_536_000,
    ),
    Workload(
        "nll_loss",
        "classification",
        _two(lambda r, s: _log_softmax(_normal(r, s)), _classes),
        numpy=lambda x, t: -np.mean(x[np.arange(x.shape[0]), t]),
        max_size=65_536_000,
    ),
    Workload(
        "multi_margin_loss",
        "classification",
        _two(_normal, _classes),
        numpy=_np_multi_margin,
    ),
    Workload("multilabel_margin_loss", "classification", _make_multilabel_margin),
    Workload(
        "mse_loss",
        "elementwise",
        _two(_normal, _normal),
        numpy=lambda x, t: np.mean((x - t) ** 2),
        optax=_ox_mse,
        keras=_ks_mse,
    ),
    Workload(
        "l1_loss",
        "elementwise",
        _two(_normal, _normal),
        numpy=lambda x, t: np.mean(np.abs(x - t)),
        keras=_ks_l1,
    ),
    Workload(
        "huber_loss",
        "elementwise",
        _two(_normal, _normal),
        numpy=_np_huber,
        optax=_ox_huber,
        keras=_ks_huber,
    ),
    Workload(
        "smooth_l1_loss",
        "elementwise",
        _two(_normal, _normal),
        numpy=_np_huber,  # identical to huber at beta = delta = 1
        optax=_ox_huber,
    ),
    Workload(
        "poisson_nll_loss",
        "elementwise",
        _two(_normal, lambda r, s: _f32(r.poisson(1.0, size=s))),
        numpy=lambda x, t: np.mean(np.exp(x) - t * x),
    ),
    Workload(
        "gaussian_nll_loss",
        "elementwise",
        lambda r, s: Case((_normal(r, s), _normal(r, s), _uniform(r, s, 0.5, 1.5))),
        numpy=lambda x, t, v: np.mean(0.5 * (np.log(v) + (x - t) ** 2 / v)),
    ),
    Workload(
        "margin_ranking_loss",
        "elementwise",
        lambda r, s: Case((_normal(r, s), _normal(r, s), _signs(r, s))),
        numpy=lambda a, b, y: np.mean(np.maximum(-y * (a - b), 0)),
    ),
    Workload(
        "hinge_embedding_loss",
        "elementwise",
        _two(_normal, _signs),
        numpy=lambda x, y: np.mean(np.where(y == 1, x, np.maximum(1 - x, 0))),
    ),
    Workload(
        "linear_cross_entropy",
        "embedding",
        _make_linear_ce,
        numpy=_np_linear_ce,
        max_size=1_000_000,
    ),
    Workload("cosine_embedding_loss", "embedding", _make_cosine, numpy=_np_cosine),
    Workload(
        "triplet_margin_loss",
        "embedding",
        _make_embedding3,
        numpy=_np_triplet,
        optax=_ox_triplet,
    ),
    Workload(
        "triplet_margin_with_distance_loss",
        "embedding",
        _make_embedding3,
        numpy=_np_triplet,
        optax=_ox_triplet,
    ),
    Workload("ctc_loss", "ctc", _make_ctc, optax=_ox_ctc, max_size=1_000_000),
]

WORKLOADS: dict[str, Workload] = {w.name: w for w in _W}
