"""Adapters from PyTorch's loss calls to optax's and Keras 3's losses, for ``check``.

Each :class:`Pair` names a third-party function (``module:attribute``), the PyTorch loss
it shares semantics with, and the adapter that maps the PyTorch-style call onto it
(argument order, class axis, reduction); what the library cannot express raises
:class:`~conformance.runner.Unsupported` and is skipped with the reason. The adapters do
the minimum: they never compute the loss themselves, so every difference the check finds
is the library's. ``python -m conformance.thirdparty`` runs every pair and prints the
table of docs/other-libraries.md.

The libraries are imported only when a pair runs (optax needs JAX; Keras 3 is used with
its JAX backend, ``KERAS_BACKEND=jax``, set here before Keras is imported).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .check import CheckResults, Unsupported, check, load, options, reduce

__all__ = ["KERAS", "OPTAX", "PAIRS", "Pair", "run_pair"]


@dataclass(frozen=True)
class Pair:
    """A third-party loss and the PyTorch loss it is checked against."""

    target: str  # module:attribute
    loss: str
    adapter: Callable[..., Any]
    note: str = ""  # what the adapter does, for the table

    @property
    def library(self) -> str:
        return self.target.split(".")[0].split(":")[0]


def _jnp() -> Any:
    import jax.numpy as jnp

    return jnp


def _is_integer(x: Any) -> bool:
    return "int" in str(x.dtype)


# --- optax -------------------------------------------------------------------------------


def optax_elementwise(fn: Callable[..., Any], input: Any, target: Any, **kwargs: Any) -> Any:
    """optax's elementwise losses ``fn(predictions, targets)``; the reduction here."""
    o = options(kwargs, "optax", reduction="mean")
    return reduce(fn(input, target), o["reduction"])


def optax_bce_logits(fn: Callable[..., Any], input: Any, target: Any, **kwargs: Any) -> Any:
    """sigmoid_binary_cross_entropy(logits, labels); PyTorch's elementwise weight
    multiplies it (no pos_weight: it weighs one term of the formula)."""
    o = options(kwargs, "optax", reduction="mean", weight=None)
    loss = fn(input, target)
    return reduce(loss if o["weight"] is None else loss * o["weight"], o["reduction"])


def optax_l2(fn: Callable[..., Any], input: Any, target: Any, **kwargs: Any) -> Any:
    """optax.l2_loss is half the squared error: times 2 for mse_loss."""
    o = options(kwargs, "optax.l2_loss", reduction="mean")
    return reduce(2 * fn(input, target), o["reduction"])


def optax_huber(fn: Callable[..., Any], input: Any, target: Any, **kwargs: Any) -> Any:
    o = options(kwargs, "optax.huber_loss", reduction="mean", delta=1.0)
    return reduce(fn(input, target, delta=o["delta"]), o["reduction"])


def _class_axis(input: Any) -> int:
    # PyTorch: classes along axis 1, or 0 for an unbatched (C,) input.
    return 0 if input.ndim == 1 else 1


def optax_integer_labels(fn: Callable[..., Any], input: Any, target: Any, **kwargs: Any) -> Any:
    """softmax_cross_entropy_with_integer_labels(logits, labels, axis): class indices.
    optax has no ignore_index: the adapter gives it only valid labels and drops the
    ignored ones from the loss and the mean (PyTorch's reduction), so what is compared
    is optax's value on the rest."""
    o = options(kwargs, "optax", reduction="mean", ignore_index=-100, weight=None)
    if not _is_integer(target):
        raise Unsupported("probability targets: optax.softmax_cross_entropy")
    jnp = _jnp()
    keep = target != o["ignore_index"]
    labels = jnp.where(keep, target, 0)
    loss = fn(input, labels, axis=_class_axis(input))
    # PyTorch's class weight: w[target] times the loss, 'mean' divided by their sum.
    w = jnp.ones_like(loss) if o["weight"] is None else jnp.take(o["weight"], labels)
    w = jnp.where(keep, w, 0).astype(loss.dtype)
    loss = jnp.where(keep, loss * w, 0)
    if o["reduction"] == "mean":
        return jnp.sum(loss) / jnp.sum(w)
    return reduce(loss, o["reduction"])


def optax_soft_labels(fn: Callable[..., Any], input: Any, target: Any, **kwargs: Any) -> Any:
    """softmax_cross_entropy(logits, labels, axis): class probabilities."""
    o = options(kwargs, "optax", reduction="mean")
    if _is_integer(target):
        raise Unsupported("class-index targets: optax.softmax_cross_entropy_with_integer_labels")
    return reduce(fn(input, target, axis=_class_axis(input)), o["reduction"])


def _kl_reduce(loss: Any, reduction: str, input: Any) -> Any:
    if reduction == "batchmean":
        total = _jnp().sum(loss)
        return total / input.shape[0] if input.ndim else total
    return reduce(loss, reduction)


def optax_kl(fn: Callable[..., Any], input: Any, target: Any, **kwargs: Any) -> Any:
    """kl_divergence(log_predictions, targets, axis=()): summed over no axis, the
    pointwise terms; optax.kl_divergence_with_log_targets for log_target=True."""
    o = options(kwargs, "optax", reduction="mean", log_target=False)
    wants_log = fn.__name__.endswith("log_targets")
    if o["log_target"] != wants_log:
        other = "kl_divergence" + ("_with_log_targets" if o["log_target"] else "")
        raise Unsupported(f"log_target={o['log_target']}: optax.{other}")
    return _kl_reduce(fn(input, target, axis=()), o["reduction"], input)


def optax_ctc(
    fn: Callable[..., Any],
    log_probs: Any,
    targets: Any,
    input_lengths: Any,
    target_lengths: Any,
    **kwargs: Any,
) -> Any:
    """ctc_loss(logits (B, T, K), logit_paddings, labels (B, N), label_paddings,
    blank_id): batch first, lengths as 0/1 paddings; PyTorch's 'mean' divides each loss
    by its target length."""
    o = options(kwargs, "optax.ctc_loss", reduction="mean", blank=0, zero_infinity=False)
    if o["zero_infinity"]:
        raise Unsupported("optax.ctc_loss has no zero_infinity")
    jnp = _jnp()
    unbatched = log_probs.ndim == 2
    if unbatched:
        log_probs = log_probs[:, None, :]
        targets = jnp.reshape(targets, (1, -1))  # (S,) or (1, S)
        input_lengths = jnp.reshape(input_lengths, (1,))  # () or (1,)
        target_lengths = jnp.reshape(target_lengths, (1,))
    elif targets.ndim == 1:
        raise Unsupported("concatenated 1-D targets (optax takes padded (B, S) labels)")
    t, s = log_probs.shape[0], targets.shape[1]
    dtype = log_probs.dtype
    logit_paddings = (jnp.arange(t)[None, :] >= input_lengths[:, None]).astype(dtype)
    label_paddings = (jnp.arange(s)[None, :] >= target_lengths[:, None]).astype(dtype)
    loss = fn(
        jnp.moveaxis(log_probs, 0, 1), logit_paddings, targets, label_paddings, blank_id=o["blank"]
    )
    if o["reduction"] == "none":
        return loss[0] if unbatched else loss
    if o["reduction"] == "mean":
        return jnp.mean(loss / jnp.maximum(target_lengths, 1).astype(dtype))
    return reduce(loss, o["reduction"])


def optax_hinge(
    fn: Callable[..., Any], input1: Any, input2: Any, target: Any, **kwargs: Any
) -> Any:
    """margin_ranking_loss = max(0, margin - y (x1 - x2)) = margin * hinge_loss((x1 - x2) /
    margin, y) for margin > 0 (hinge_loss: max(0, 1 - y x))."""
    o = options(kwargs, "optax.hinge_loss", reduction="mean", margin=0.0)
    margin = o["margin"]
    if margin <= 0:
        raise Unsupported(f"margin={margin} (hinge_loss's margin is 1; only > 0 rescales)")
    diff = input1 - input2
    loss = fn(diff, target) if margin == 1 else margin * fn(diff / margin, target)
    return reduce(loss, o["reduction"])


def optax_cosine(
    fn: Callable[..., Any], input1: Any, input2: Any, target: Any, **kwargs: Any
) -> Any:
    """cosine_embedding_loss from optax.cosine_similarity (its default epsilon=0):
    1 - cos where y = 1, max(0, cos - margin) where y = -1, else 0."""
    o = options(kwargs, "optax.cosine_similarity", reduction="mean", margin=0.0)
    jnp = _jnp()
    cos = fn(input1, input2)
    zero = jnp.zeros_like(cos)
    loss = jnp.where(target == 1, 1 - cos, zero) + jnp.where(
        target == -1, jnp.maximum(cos - o["margin"], 0), zero
    )
    return reduce(loss, o["reduction"])


def optax_triplet(
    fn: Callable[..., Any], anchor: Any, positive: Any, negative: Any, **kwargs: Any
) -> Any:
    """triplet_margin_loss(anchors, positives, negatives, norm_degree=p, margin, eps)."""
    o = options(
        kwargs, "optax.triplet_margin_loss", reduction="mean", margin=1.0, p=2.0, eps=1e-6,
        swap=False,
    )  # fmt: skip
    if o["swap"]:
        raise Unsupported("optax.triplet_margin_loss has no swap")
    loss = fn(anchor, positive, negative, norm_degree=o["p"], margin=o["margin"], eps=o["eps"])
    return reduce(loss, o["reduction"])


OPTAX: tuple[Pair, ...] = (
    Pair("optax:sigmoid_binary_cross_entropy", "binary_cross_entropy_with_logits",
         optax_bce_logits, "times weight"),
    Pair("optax:softmax_cross_entropy_with_integer_labels", "cross_entropy",
         optax_integer_labels, "class axis 1; ignored targets masked out and the class "
         "weight applied by the adapter"),
    Pair("optax:softmax_cross_entropy", "cross_entropy", optax_soft_labels, "class axis 1"),
    Pair("optax:squared_error", "mse_loss", optax_elementwise),
    Pair("optax:l2_loss", "mse_loss", optax_l2, "times 2"),
    Pair("optax:huber_loss", "huber_loss", optax_huber),
    Pair("optax:kl_divergence", "kl_div", optax_kl, "axis=() (pointwise)"),
    Pair("optax.losses:kl_divergence_with_log_targets", "kl_div", optax_kl, "axis=() (pointwise)"),
    Pair("optax:ctc_loss", "ctc_loss", optax_ctc,
         "batch first, lengths as paddings; 'mean' divides by target lengths"),
    Pair("optax:hinge_loss", "margin_ranking_loss", optax_hinge,
         "hinge of x1 - x2, rescaled by the margin"),
    Pair("optax:cosine_similarity", "cosine_embedding_loss", optax_cosine,
         "1 - cos / max(0, cos - margin) by target"),
    Pair("optax.losses:triplet_margin_loss", "triplet_margin_loss", optax_triplet),
)  # fmt: skip


# --- Keras 3 -----------------------------------------------------------------------------


def _keras_pointwise(fn: Callable[..., Any], input: Any, target: Any, **k: Any) -> Any:
    # Keras averages over the last axis: over a trailing axis of 1, a no-op. Broadcast
    # first (as PyTorch does): Keras matches ranks by a trailing axis of 1 before it
    # broadcasts, which the added axis would defeat.
    input, target = _jnp().broadcast_arrays(input, target)
    return fn(target[..., None], input[..., None], **k)


def keras_elementwise(fn: Callable[..., Any], input: Any, target: Any, **kwargs: Any) -> Any:
    """keras.losses.<f>(y_true, y_pred) (mean over the last axis): arguments swapped, a
    trailing axis of 1 for the pointwise loss; the reduction here."""
    o = options(kwargs, "keras", reduction="mean")
    return reduce(_keras_pointwise(fn, input, target), o["reduction"])


def keras_huber(fn: Callable[..., Any], input: Any, target: Any, **kwargs: Any) -> Any:
    o = options(kwargs, "keras.losses.huber", reduction="mean", delta=1.0)
    return reduce(_keras_pointwise(fn, input, target, delta=o["delta"]), o["reduction"])


def keras_bce_logits(fn: Callable[..., Any], input: Any, target: Any, **kwargs: Any) -> Any:
    o = options(kwargs, "keras", reduction="mean")
    return reduce(_keras_pointwise(fn, input, target, from_logits=True), o["reduction"])


def keras_kl(fn: Callable[..., Any], input: Any, target: Any, **kwargs: Any) -> Any:
    """keras.losses.kl_divergence(y_true, y_pred) takes probabilities: exp(input)."""
    o = options(kwargs, "keras.losses.kl_divergence", reduction="mean", log_target=False)
    if o["log_target"]:
        raise Unsupported("keras.losses.kl_divergence has no log targets")
    jnp = _jnp()
    return _kl_reduce(_keras_pointwise(fn, jnp.exp(input), target), o["reduction"], input)


def keras_sparse_ce(fn: Callable[..., Any], input: Any, target: Any, **kwargs: Any) -> Any:
    """sparse_categorical_crossentropy(y_true, y_pred, from_logits=True, ignore_class,
    axis=class axis); Keras's ignore_class zeroes the ignored losses, PyTorch's 'mean'
    divides by the (weighted) count of the others (the adapter's)."""
    o = options(kwargs, "keras", reduction="mean", ignore_index=-100, weight=None)
    if not _is_integer(target):
        raise Unsupported("probability targets: keras.losses.categorical_crossentropy")
    jnp = _jnp()
    # Keras wants the target's shape up to the class axis: put the classes last.
    logits = jnp.moveaxis(input, 1, -1) if input.ndim > 2 else input
    loss = fn(target, logits, from_logits=True, ignore_class=o["ignore_index"], axis=-1)
    # PyTorch's class weight, as for optax: w[target] times the loss, 'mean' / sum(w).
    keep = target != o["ignore_index"]
    labels = jnp.where(keep, target, 0)
    w = jnp.ones_like(loss) if o["weight"] is None else jnp.take(o["weight"], labels)
    w = jnp.where(keep, w, 0).astype(loss.dtype)
    loss = loss * w
    if o["reduction"] == "mean":
        return jnp.sum(loss) / jnp.sum(w)
    return reduce(loss, o["reduction"])


def keras_ce(fn: Callable[..., Any], input: Any, target: Any, **kwargs: Any) -> Any:
    o = options(kwargs, "keras", reduction="mean")
    if _is_integer(target):
        raise Unsupported("class-index targets: keras.losses.sparse_categorical_crossentropy")
    loss = fn(target, input, from_logits=True, axis=_class_axis(input))
    return reduce(loss, o["reduction"])


def keras_poisson(fn: Callable[..., Any], input: Any, target: Any, **kwargs: Any) -> Any:
    """keras.losses.poisson(y_true, y_pred) = y_pred - y_true log(y_pred + 1e-7):
    poisson_nll_loss(log_input=False), whose eps is 1e-8."""
    o = options(
        kwargs, "keras.losses.poisson", reduction="mean", log_input=True, full=False, eps=1e-8
    )
    if o["log_input"] or o["full"]:
        raise Unsupported("keras.losses.poisson takes rates (log_input=False), full=False")
    if o["eps"] != 1e-8:
        raise Unsupported("keras.losses.poisson's epsilon is fixed (1e-7)")
    return reduce(_keras_pointwise(fn, input, target), o["reduction"])


KERAS: tuple[Pair, ...] = (
    Pair("keras.losses:binary_crossentropy", "binary_cross_entropy_with_logits",
         keras_bce_logits, "from_logits=True"),
    Pair("keras.losses:binary_crossentropy", "binary_cross_entropy", keras_elementwise),
    Pair("keras.losses:sparse_categorical_crossentropy", "cross_entropy", keras_sparse_ce,
         "from_logits=True, ignore_class=ignore_index, classes moved last; class "
         "weight applied by the adapter"),
    Pair("keras.losses:categorical_crossentropy", "cross_entropy", keras_ce,
         "from_logits=True, axis=class axis"),
    Pair("keras.losses:mean_squared_error", "mse_loss", keras_elementwise),
    Pair("keras.losses:mean_absolute_error", "l1_loss", keras_elementwise),
    Pair("keras.losses:huber", "huber_loss", keras_huber),
    Pair("keras.losses:kl_divergence", "kl_div", keras_kl, "exp(input)"),
    Pair("keras.losses:poisson", "poisson_nll_loss", keras_poisson),
)  # fmt: skip

PAIRS: tuple[Pair, ...] = OPTAX + KERAS


def run_pair(
    pair: Pair, backend: str | tuple[str, ...] = ("jax", "jax-jit"), **kwargs: Any
) -> CheckResults:
    """``check`` one pair on JAX (eager and jit, by default)."""
    if pair.library == "keras":
        os.environ.setdefault("KERAS_BACKEND", "jax")
    function = load(pair.target)
    name = pair.target.replace(":", ".")
    return check(function, pair.loss, backend, adapter=pair.adapter, name=name, **kwargs)


def main(argv: list[str] | None = None) -> int:
    """Run every pair (or those whose target contains an argument) and print a summary."""
    wanted = argv if argv is not None else sys.argv[1:]
    for pair in PAIRS:
        if wanted and not any(w in pair.target for w in wanted):
            continue
        try:
            results = run_pair(pair)
        except ImportError as exc:
            print(f"{pair.target}: not installed ({exc})")
            continue
        print(results.summary(limit=1000))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
