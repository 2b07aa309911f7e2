"""Every loss of arrayloss on JAX arrays sharded over several devices (issue 9).

Run as a script (tests/test_sharding.py does, in a subprocess), it simulates 8 CPU
devices (``XLA_FLAGS=--xla_force_host_platform_device_count=8``, set before JAX is
imported), shards each loss's batched arrays along the batch axis with
``NamedSharding(Mesh(devices, ("batch",)), P("batch", ...))`` (weights replicated), and
prints one JSON object: per loss, the values of the sharded and the unsharded call under
``jax.jit`` ('mean' and 'none'), PyTorch's value on the same data, the sharding of the
per-sample output, the collectives in the compiled 'mean', the gradient (sharded and
unsharded) and the eager (un-jitted) sharded call. It asserts nothing: the test does.

Importing this module imports neither JAX nor PyTorch: the test reads :data:`SPECS`
(the loss names) from it.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: The number of simulated devices and the batch size (2 samples per device).
N_DEVICES = 8
N = 16
C = 5


@dataclass(frozen=True)
class Spec:
    """One loss's inputs: the arrays passed by position, then by keyword, each with its
    batch axis (None: not batched, replicated on every device), and the options."""

    loss: str
    positional: dict[str, tuple[np.ndarray, int | None]]
    keyword: dict[str, tuple[np.ndarray, int | None]] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    reductions: tuple[str, ...] = ("mean", "none")


def _signs(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.choice([-1.0, 1.0], size=shape)


def _log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def _multilabel_targets(rng: np.random.Generator) -> np.ndarray:
    # Per sample k = n % (C + 1) class indices, then -1 (then anything, ignored).
    t = rng.integers(-1, C, size=(N, C))
    for n in range(N):
        k = n % (C + 1)
        t[n, :k] = rng.integers(0, C, size=k)
        if k < C:
            t[n, k] = -1
    return t


def _specs() -> list[Spec]:
    rng = np.random.default_rng(9)
    x = rng.normal(size=(N, C)) * 2
    y = rng.normal(size=(N, C)) * 2
    p = rng.uniform(0.02, 0.98, size=(N, C))
    q = rng.uniform(size=(N, C))
    w = rng.uniform(0.5, 2.0, size=(C,))
    classes = rng.integers(0, C, size=(N,))
    ignored = np.where(np.arange(N) % 5 == 3, -100, classes)
    v = rng.uniform(0.5, 2.0, size=(N, C))
    b = 0  # the batch axis of every (N, ...) array
    t_len, s_len = 12, 3
    return [
        Spec("binary_cross_entropy", {"input": (p, b), "target": (q, b)}, {"weight": (w, None)}),
        Spec(
            "binary_cross_entropy_with_logits",
            {"input": (x, b), "target": (q, b)},
            {"weight": (w, None), "pos_weight": (w[::-1].copy(), None)},
        ),
        Spec(
            "cross_entropy",
            {"input": (x, b), "target": (ignored, b)},
            {"weight": (w, None)},
            {"label_smoothing": 0.1},
        ),
        Spec(
            "linear_cross_entropy",
            {
                "input": (x[:, :4].copy(), b),
                "linear_weight": (y[:C, :4].copy(), None),
                "target": (ignored, b),
            },
            {"linear_bias": (w[::-1].copy(), None), "weight": (w, None)},
            {"label_smoothing": 0.1},
        ),
        Spec(
            "nll_loss",
            {"input": (_log_softmax(x), b), "target": (ignored, b)},
            {"weight": (w, None)},
        ),
        Spec(
            "kl_div",
            {"input": (_log_softmax(x), b), "target": (q, b)},
            reductions=("batchmean", "none"),
        ),
        Spec("soft_margin_loss", {"input": (x, b), "target": (_signs(rng, (N, C)), b)}),
        Spec(
            "multilabel_soft_margin_loss",
            {"input": (x, b), "target": ((q > 0.5).astype(np.float64), b)},
            {"weight": (w, None)},
        ),
        Spec(
            "multi_margin_loss",
            {"input": (x, b), "target": (classes, b)},
            {"weight": (w, None)},
            {"p": 2, "margin": 0.7},
        ),
        Spec("multilabel_margin_loss", {"input": (x, b), "target": (_multilabel_targets(rng), b)}),
        Spec("l1_loss", {"input": (x, b), "target": (y, b)}),
        Spec("mse_loss", {"input": (x, b), "target": (y, b)}),
        Spec("huber_loss", {"input": (x, b), "target": (y, b)}, options={"delta": 0.5}),
        Spec("smooth_l1_loss", {"input": (x, b), "target": (y, b)}, options={"beta": 0.5}),
        Spec(
            "poisson_nll_loss",
            {"input": (x / 2, b), "target": (rng.poisson(2.0, size=(N, C)).astype(float), b)},
            options={"full": True},
        ),
        Spec("gaussian_nll_loss", {"input": (x, b), "target": (y, b), "var": (v, b)}),
        Spec(
            "margin_ranking_loss",
            {"input1": (x[:, 0], b), "input2": (y[:, 0], b), "target": (_signs(rng, (N,)), b)},
            options={"margin": 0.3},
        ),
        Spec("hinge_embedding_loss", {"input": (np.abs(x), b), "target": (_signs(rng, (N, C)), b)}),
        Spec(
            "cosine_embedding_loss",
            {"input1": (x, b), "input2": (y, b), "target": (_signs(rng, (N,)), b)},
            options={"margin": 0.2},
        ),
        Spec("triplet_margin_loss", {"anchor": (x, b), "positive": (y, b), "negative": (v, b)}),
        Spec(
            "triplet_margin_with_distance_loss",
            {"anchor": (x, b), "positive": (y, b), "negative": (v, b)},
            options={"swap": True},
        ),
        Spec(
            "ctc_loss",
            {
                # (T, N, C): the batch is axis 1 of log_probs.
                "log_probs": (_log_softmax(rng.normal(size=(t_len, N, C))), 1),
                "targets": (rng.integers(1, C, size=(N, s_len)), b),
                "input_lengths": (rng.integers(t_len // 2, t_len + 1, size=(N,)), b),
                "target_lengths": (rng.integers(0, s_len + 1, size=(N,)), b),
            },
        ),
    ]


#: The cases, one per loss of arrayloss (tests/test_sharding.py checks that none is missing).
SPECS: dict[str, Spec] = {spec.loss: spec for spec in _specs()}


def _spec(x: Any) -> list[str | None]:
    """The partition spec of a JAX array's sharding, as JSON (one entry per axis named;
    [] for a replicated result)."""
    return [None if s is None else str(s) for s in getattr(x.sharding, "spec", ())]


def _collectives(hlo: str) -> dict[str, int]:
    """How many of each cross-device collective a compiled HLO module holds."""
    return {op: hlo.count(f" {op}(") for op in ("all-reduce", "all-gather", "all-to-all")}


def _run(jax: Any, spec: Spec, mesh: Any) -> dict[str, Any]:
    import torch
    import torch.nn.functional as F
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P

    import arrayloss

    names = list(spec.positional) + list(spec.keyword)
    arrays = {**spec.positional, **spec.keyword}
    n_pos = len(spec.positional)

    def spec_for(ndim: int, axis: int | None) -> Any:
        parts: list[str | None] = [None] * ndim
        if axis is not None:
            parts[axis] = "batch"
        return P(*parts)

    sharded = [
        jax.device_put(a, NamedSharding(mesh, spec_for(a.ndim, ax))) for a, ax in arrays.values()
    ]
    unsharded = [jax.numpy.asarray(a) for a, _ in arrays.values()]
    fn = getattr(arrayloss, spec.loss)

    def call(reduction: str, *values: Any) -> Any:
        kw = dict(zip(names[n_pos:], values[n_pos:], strict=True))
        return fn(*values[:n_pos], **kw, **spec.options, reduction=reduction)

    out: dict[str, Any] = {"reductions": {}}
    for reduction in spec.reductions:
        f = jax.jit(lambda *v, r=reduction: call(r, *v))
        got = f(*sharded)
        ref = f(*unsharded)
        t_args = [torch.from_numpy(np.asarray(a)) for a, _ in arrays.values()]
        t_kw = dict(zip(names[n_pos:], t_args[n_pos:], strict=True))
        expected = getattr(F, spec.loss)(
            *t_args[:n_pos], **t_kw, **spec.options, reduction=reduction
        )
        record: dict[str, Any] = {
            "sharded": np.asarray(got).tolist(),
            "unsharded": np.asarray(ref).tolist(),
            "torch": expected.numpy().tolist(),
            "sharding": repr(got.sharding),
            "spec": _spec(got),
            "shard_shapes": sorted({tuple(s.data.shape) for s in got.addressable_shards}),
            "shape": list(got.shape),
        }
        if got.ndim == 0:
            hlo = f.lower(*sharded).compile().as_text()
            record["collectives"] = _collectives(hlo)
        out["reductions"][reduction] = record

    # The gradient of the (default-reduced) loss with respect to the first argument.
    reduction = spec.reductions[0]

    def scalar(first: Any, *rest: Any) -> Any:
        return call(reduction, first, *rest)

    g = jax.jit(jax.grad(scalar))
    g_sharded = g(*sharded)
    out["grad"] = {
        "sharded": np.asarray(g_sharded).tolist(),
        "unsharded": np.asarray(g(*unsharded)).tolist(),
        "spec": _spec(g_sharded),
        "input_spec": _spec(sharded[0]),
    }

    # Without jit: eager operations on the sharded arrays.
    try:
        eager = call(reduction, *sharded)
        out["eager"] = {"value": np.asarray(eager).tolist(), "error": None}
    except Exception as exc:  # reported, the test decides
        out["eager"] = {"value": None, "error": f"{type(exc).__name__}: {exc}"}
    return out


def _run_2d(jax: Any) -> dict[str, Any]:
    """cross_entropy on a 2-D mesh: the batch over 'batch', the classes over 'model'."""
    from jax.sharding import Mesh, NamedSharding
    from jax.sharding import PartitionSpec as P

    import arrayloss

    mesh = Mesh(np.array(jax.devices()).reshape(4, 2), ("batch", "model"))
    rng = np.random.default_rng(92)
    x = rng.normal(size=(N, 6)) * 3
    t = rng.integers(0, 6, size=(N,))
    xs = jax.device_put(x, NamedSharding(mesh, P("batch", "model")))
    ts = jax.device_put(t, NamedSharding(mesh, P("batch")))
    out: dict[str, Any] = {}
    for reduction in ("mean", "none"):
        f = jax.jit(lambda x, t, r=reduction: arrayloss.cross_entropy(x, t, reduction=r))
        got = f(xs, ts)
        hlo = f.lower(xs, ts).compile().as_text()
        out[reduction] = {
            "sharded": np.asarray(got).tolist(),
            "unsharded": np.asarray(f(jax.numpy.asarray(x), jax.numpy.asarray(t))).tolist(),
            "spec": _spec(got),
            "collectives": _collectives(hlo),
        }
    g = jax.jit(jax.grad(lambda x, t: arrayloss.cross_entropy(x, t)))
    gs = g(xs, ts)
    out["grad"] = {
        "sharded": np.asarray(gs).tolist(),
        "unsharded": np.asarray(g(jax.numpy.asarray(x), jax.numpy.asarray(t))).tolist(),
        "spec": _spec(gs),
    }
    return out


def main(argv: list[str]) -> int:
    # Before JAX is imported: 8 CPU devices, float64.
    os.environ["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={N_DEVICES}"
    os.environ["JAX_PLATFORMS"] = "cpu"
    os.environ["JAX_ENABLE_X64"] = "1"
    import jax
    from jax.sharding import Mesh

    devices = jax.devices()
    result: dict[str, Any] = {"n_devices": len(devices), "jax": jax.__version__, "losses": {}}
    mesh = Mesh(np.array(devices), ("batch",))
    only = set(argv)
    for name, spec in SPECS.items():
        if only and name not in only:
            continue
        start = time.perf_counter()
        try:
            record = _run(jax, spec, mesh)
        except Exception:
            record = {"error": traceback.format_exc()}
        record["seconds"] = round(time.perf_counter() - start, 3)
        result["losses"][name] = record
    if not only or "2d" in only:
        try:
            result["cross_entropy_2d"] = _run_2d(jax)
        except Exception:
            result["cross_entropy_2d"] = {"error": traceback.format_exc()}
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
