"""Conformance cases of the losses PyTorch lacks, each against the framework it comes from.

:data:`BEYOND` registers them as :data:`conformance.cases.LOSSES` registers PyTorch's,
with one more field: :attr:`~conformance.cases.LossInfo.reference`, the source
framework's own function (optax's, Keras 3's) behind a thin adapter that maps
arrayloss's call onto it (argument order, class axis, one-hot targets, the reduction),
as the adapters of ``conformance.thirdparty`` do: the adapter never computes the loss
itself. The runner takes the reference's value in float64 (and in the case's dtype)
and its ``jax.grad`` gradient, and holds arrayloss to the same tolerance policy as
against PyTorch. torchvision and MindSpore are not installable here: their formulas
and documented examples are checked in ``tests/test_beyond.py``.

The libraries are imported when a reference first runs (Keras 3 with its JAX backend,
``KERAS_BACKEND=jax``).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from .cases import (
    REDUCTIONS,
    Arg,
    Case,
    LossInfo,
    Shape,
    _case,
    _shape_str,
)

__all__ = ["BEYOND"]


def _jnp() -> Any:
    from .backends import _jax

    _jax()  # 64-bit JAX, for the float64 reference
    import jax.numpy as jnp

    return jnp


def _reduce(loss: Any, reduction: str) -> Any:
    jnp = _jnp()
    if reduction == "none":
        return loss
    return jnp.sum(loss) if reduction == "sum" else jnp.mean(loss)


# --- sigmoid_focal_loss: optax.losses.sigmoid_focal_loss ------------------------------------


def optax_sigmoid_focal(
    inputs: Any, targets: Any, alpha: float = 0.25, gamma: float = 2, reduction: str = "none"
) -> Any:
    """optax's (logits, labels, alpha, gamma); optax's ``alpha=None`` is torchvision's
    (and arrayloss's) negative alpha."""
    import optax

    loss = optax.losses.sigmoid_focal_loss(
        inputs, targets, alpha=None if alpha < 0 else alpha, gamma=gamma
    )
    return _reduce(loss, reduction)


FOCAL_SHAPES: tuple[Shape, ...] = ((), (5,), (4, 3), (2, 3, 4), (0, 3))


def _sigmoid_focal_cases() -> Iterator[Case]:
    loss = "sigmoid_focal_loss"
    for shape in FOCAL_SHAPES:
        for reduction in REDUCTIONS:
            for target in ("binary", "soft"):
                args = {"inputs": Arg("logits", shape, 3.0), "targets": Arg(target, shape)}
                name = f"{_shape_str(shape)}-{reduction}-{target}"
                yield _case(loss, name, args, reduction=reduction)
    for alpha, gamma in ((-1.0, 2.0), (0.5, 0.0), (0.25, 1.0), (0.75, 3.5), (0.0, 0.5)):
        args = {"inputs": Arg("logits", (4, 3), 3.0), "targets": Arg("binary", (4, 3))}
        name = f"(4,3)-sum-alpha_{alpha:g}-gamma_{gamma:g}"
        yield _case(loss, name, args, reduction="sum", alpha=alpha, gamma=gamma)
    # Saturated logits: 1 - p_t underflows (torchvision's cancels to 0 first).
    args = {"inputs": Arg("logits", (4, 3), 20.0), "targets": Arg("binary", (4, 3))}
    yield _case(loss, "(4,3)-none-saturated", args, reduction="none")


# --- softmax_focal_loss: keras.losses.categorical_focal_crossentropy -----------------------


def keras_categorical_focal(
    input: Any,
    target: Any,
    weight: Any = None,
    alpha: float = 0.25,
    gamma: float = 2.0,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Any:
    """categorical_focal_crossentropy(y_true, y_pred, alpha, gamma, from_logits=True,
    axis=class axis). Class indices become one-hot rows (an ignored index a row of
    zeros, which Keras's sum turns into a loss of 0); the per-class ``weight``
    (MindSpore's, which Keras lacks) multiplies each sample's loss by its class's weight;
    'mean' divides by the number of samples not ignored."""
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras

    jnp = _jnp()
    axis = 0 if input.ndim == 1 else 1
    n_classes = input.shape[axis]
    counted = None
    if "int" in str(target.dtype):
        counted = (target >= 0) & (target < n_classes) & (target != ignore_index)
        labels = jnp.where(counted, target, 0)
        one_hot = jnp.moveaxis(jnp.eye(n_classes, dtype=input.dtype)[labels], -1, axis)
        y_true = one_hot * jnp.expand_dims(counted, axis).astype(input.dtype)
    else:
        y_true = target
    y_true = (
        y_true
        if weight is None
        else y_true * jnp.reshape(weight, (-1,) + (1,) * (input.ndim - axis - 1))
    )
    loss = keras.losses.categorical_focal_crossentropy(
        y_true, input, alpha=alpha, gamma=gamma, from_logits=True, axis=axis
    )
    if reduction == "mean" and counted is not None:
        return jnp.sum(loss) / jnp.sum(counted.astype(loss.dtype))
    return _reduce(loss, reduction)


N_FOCAL_CLASSES = 3
FOCAL_CLASS_SHAPES: tuple[tuple[Shape, Shape], ...] = (
    ((N_FOCAL_CLASSES,), ()),
    ((5, N_FOCAL_CLASSES), (5,)),
    ((2, N_FOCAL_CLASSES, 4), (2, 4)),
    ((0, N_FOCAL_CLASSES), (0,)),
)


def _softmax_focal_cases() -> Iterator[Case]:
    loss = "softmax_focal_loss"
    for shape, target_shape in FOCAL_CLASS_SHAPES:
        for reduction in REDUCTIONS:
            for target in ("class_index", "class_index_ignored", "soft"):
                if target == "class_index_ignored" and not target_shape:
                    continue  # an unbatched sample that is ignored: the mean is NaN anyway
                t_shape = shape if target == "soft" else target_shape
                for weighted in (False, True):
                    args = {
                        # Logits * 2: every probability above Keras's clip at 1e-7.
                        "input": Arg("logits", shape, 2.0),
                        "target": Arg(target, t_shape, float(N_FOCAL_CLASSES)),
                    }
                    name = f"{_shape_str(shape)}-{reduction}-{target}"
                    if weighted:
                        args["weight"] = Arg("positive", (N_FOCAL_CLASSES,))
                        name += "-weight"
                    yield _case(loss, name, args, reduction=reduction)
    for alpha, gamma in ((1.0, 0.0), (0.5, 1.0), (0.25, 3.5), (1.0, 0.5)):
        args = {
            "input": Arg("logits", (5, N_FOCAL_CLASSES), 2.0),
            "target": Arg("class_index", (5,), float(N_FOCAL_CLASSES)),
        }
        name = f"(5,3)-sum-alpha_{alpha:g}-gamma_{gamma:g}"
        yield _case(loss, name, args, reduction="sum", alpha=alpha, gamma=gamma)


# --- dice_loss, tversky_loss: keras.losses.dice, keras.losses.tversky ---------------------


def _keras() -> Any:
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras

    return keras


def _keras_axis(input: Any, batch: bool) -> tuple[int, ...]:
    # Keras's axis: the axes summed over (every axis but the batch axis, or all).
    return tuple(range(0 if batch else 1, input.ndim))


def keras_dice(
    input: Any,
    target: Any,
    smooth_nr: float = 0.0,
    smooth_dr: float = 1e-7,
    squared: bool = False,
    batch: bool = False,
    reduction: str = "mean",
) -> Any:
    """keras.losses.dice(y_true, y_pred, axis): its constants are arrayloss's defaults
    (the cases use no others)."""
    assert (smooth_nr, smooth_dr, squared) == (0.0, 1e-7, False), "Keras has no such option"
    loss = _keras().losses.dice(target, input, axis=_keras_axis(input, batch))
    return _reduce(loss, reduction)


def keras_tversky(
    input: Any,
    target: Any,
    alpha: float = 0.5,
    beta: float = 0.5,
    smooth_nr: float = 0.0,
    smooth_dr: float = 1e-7,
    batch: bool = False,
    reduction: str = "mean",
) -> Any:
    """keras.losses.tversky(y_true, y_pred, alpha, beta, axis) with alpha and beta
    exchanged: Keras's alpha weighs the false negatives, arrayloss's (optax's) the false
    positives."""
    assert (smooth_nr, smooth_dr) == (0.0, 1e-7), "Keras has no such option"
    loss = _keras().losses.tversky(
        target, input, alpha=beta, beta=alpha, axis=_keras_axis(input, batch)
    )
    return _reduce(loss, reduction)


BINARY_OVERLAP_SHAPES: tuple[Shape, ...] = ((5,), (4, 3), (2, 3, 4), (3, 2, 2, 2))


def _dice_cases() -> Iterator[Case]:
    loss = "dice_loss"
    for shape in BINARY_OVERLAP_SHAPES:
        for reduction in REDUCTIONS:
            for target in ("binary", "soft"):
                args = {"input": Arg("probabilities", shape), "target": Arg(target, shape)}
                name = f"{_shape_str(shape)}-{reduction}-{target}"
                yield _case(loss, name, args, reduction=reduction)
        args = {"input": Arg("probabilities", shape), "target": Arg("binary", shape)}
        yield _case(loss, f"{_shape_str(shape)}-none-batch", args, reduction="none", batch=True)


def _tversky_cases() -> Iterator[Case]:
    loss = "tversky_loss"
    for shape in BINARY_OVERLAP_SHAPES:
        for reduction in REDUCTIONS:
            for target in ("binary", "soft"):
                args = {"input": Arg("probabilities", shape), "target": Arg(target, shape)}
                name = f"{_shape_str(shape)}-{reduction}-{target}"
                yield _case(loss, name, args, reduction=reduction, alpha=0.3, beta=0.7)
    for alpha, beta in ((0.5, 0.5), (1.0, 0.0), (0.0, 1.0), (0.7, 0.3)):
        args = {"input": Arg("probabilities", (4, 6)), "target": Arg("binary", (4, 6))}
        name = f"(4,6)-none-alpha_{alpha:g}-beta_{beta:g}"
        yield _case(loss, name, args, reduction="none", alpha=alpha, beta=beta)
    args = {"input": Arg("probabilities", (4, 6)), "target": Arg("binary", (4, 6))}
    yield _case(loss, "(4,6)-sum-batch", args, reduction="sum", batch=True)


# --- multiclass_dice_loss: optax.losses.dice_loss -------------------------------------------


def optax_dice(
    input: Any,
    target: Any,
    weight: Any = None,
    ignore_index: int | None = None,
    softmax: bool = True,
    smooth_nr: float = 0.0,
    smooth_dr: float = 1e-7,
    squared: bool = False,
    batch: bool = False,
    reduction: str = "mean",
) -> Any:
    """optax.losses.dice_loss(predictions, targets, class_weights, smooth, apply_softmax,
    ignore_background, axis) with the classes moved last, class indices one-hot, and
    optax's smooth s as smooth_nr = smooth_dr = 2 s (it smooths (I + s) / (P/2 + T/2 + s))."""
    import optax

    assert smooth_nr == smooth_dr, "optax smooths numerator and denominator alike"
    assert not squared, "optax has no squared denominator"
    assert ignore_index in (None, 0), "optax ignores only the background class 0"
    jnp = _jnp()
    n_classes = input.shape[1]
    if "int" in str(target.dtype):
        target = jnp.moveaxis(jnp.eye(n_classes, dtype=input.dtype)[target], -1, 1)
    predictions, targets = jnp.moveaxis(input, 1, -1), jnp.moveaxis(target, 1, -1)
    axis = tuple(range(0 if batch else 1, input.ndim - 1))
    loss = optax.losses.dice_loss(
        predictions,
        targets,
        class_weights=weight,
        smooth=smooth_nr / 2,
        apply_softmax=softmax,
        ignore_background=ignore_index == 0,
        axis=axis,
    )
    return _reduce(loss, reduction)


def _multiclass_dice_cases() -> Iterator[Case]:
    loss = "multiclass_dice_loss"
    c = N_FOCAL_CLASSES
    for shape in ((5, c), (4, c, 6), (2, c, 3, 4)):
        index_shape = (shape[0], *shape[2:])
        for reduction in REDUCTIONS:
            for target in ("class_index", "soft"):
                t_shape = shape if target == "soft" else index_shape
                args = {"input": Arg("logits", shape, 2.0), "target": Arg(target, t_shape, c)}
                name = f"{_shape_str(shape)}-{reduction}-{target}"
                yield _case(loss, name, args, reduction=reduction, smooth_nr=2.0, smooth_dr=2.0)
        args = {
            "input": Arg("logits", shape, 2.0),
            "target": Arg("class_index", index_shape, c),
            "weight": Arg("positive", (c,)),
        }
        name = f"{_shape_str(shape)}-none-weight-ignore_0"
        yield _case(
            loss, name, args, reduction="none", ignore_index=0, smooth_nr=1.0, smooth_dr=1.0
        )
        args = {"input": Arg("logits", shape, 2.0), "target": Arg("class_index", index_shape, c)}
        name = f"{_shape_str(shape)}-sum-batch"
        yield _case(loss, name, args, reduction="sum", batch=True, smooth_nr=0.2, smooth_dr=0.2)


# --- the Keras pointwise losses; poly1_cross_entropy: optax.losses.poly_loss_cross_entropy --


def _keras_pointwise(name: str) -> Any:
    """keras.losses.<name>(y_true, y_pred) on a trailing axis of 1: Keras's mean over the
    last axis is then the elementwise loss, which arrayloss reduces (the reduction here)."""

    def reference(input: Any, target: Any, reduction: str = "mean") -> Any:
        fn = getattr(_keras().losses, name)
        return _reduce(fn(target[..., None], input[..., None]), reduction)

    reference.__name__ = f"keras_{name}"
    return reference


def optax_hinge(input: Any, target: Any, reduction: str = "mean") -> Any:
    """optax.losses.hinge_loss(predictor_outputs, targets) (targets -1 or 1); Keras's
    convention, which arrayloss follows, takes 0/1 labels as -1/1 when every label is 0
    or 1: the adapter maps them so. (keras.losses.hinge itself averages in float32.)"""
    import optax

    jnp = _jnp()
    binary = jnp.all((target == 0) | (target == 1))
    labels = jnp.where(binary, 2 * target - 1, target)
    return _reduce(optax.losses.hinge_loss(input, labels), reduction)


def optax_log_cosh(input: Any, target: Any, reduction: str = "mean") -> Any:
    """optax.losses.log_cosh(predictions, targets), elementwise."""
    import optax

    return _reduce(optax.losses.log_cosh(input, target), reduction)


def keras_categorical_hinge(input: Any, target: Any, reduction: str = "mean") -> Any:
    """keras.losses.categorical_hinge(y_true, y_pred) with the classes moved last."""
    jnp = _jnp()
    axis = 0 if input.ndim == 1 else 1
    loss = _keras().losses.categorical_hinge(
        jnp.moveaxis(target, axis, -1), jnp.moveaxis(input, axis, -1)
    )
    return _reduce(loss, reduction)


def optax_poly1(
    input: Any, target: Any, epsilon: float = 2.0, ignore_index: int = -100, reduction: str = "mean"
) -> Any:
    """poly_loss_cross_entropy(logits, labels, epsilon, axis=class axis): class indices
    one-hot (an ignored one a row of zeros, a loss of 0 there); 'mean' over the samples
    not ignored."""
    import optax

    jnp = _jnp()
    axis = 0 if input.ndim == 1 else 1
    n_classes = input.shape[axis]
    counted = None
    if "int" in str(target.dtype):
        counted = (target >= 0) & (target < n_classes) & (target != ignore_index)
        hot = jnp.eye(n_classes, dtype=input.dtype)[jnp.where(counted, target, 0)]
        target = jnp.moveaxis(hot, -1, axis) * jnp.expand_dims(counted, axis).astype(input.dtype)
    loss = optax.losses.poly_loss_cross_entropy(input, target, epsilon=epsilon, axis=axis)
    if reduction == "mean" and counted is not None:
        return jnp.sum(loss) / jnp.sum(counted.astype(loss.dtype))
    return _reduce(loss, reduction)


POINTWISE_SHAPES: tuple[Shape, ...] = ((), (5,), (4, 3), (2, 3, 4), (3, 1, 5), (6,), (0, 3))
#: The pointwise losses: (input kind, scale, target kind), and the source's name.
POINTWISE: dict[str, tuple[str, float, str]] = {
    "hinge": ("logits", 2.0, "signs"),
    "squared_hinge": ("logits", 2.0, "signs"),
    "log_cosh": ("logits", 3.0, "logits"),
    "mean_absolute_percentage_error": ("logits", 2.0, "logits"),
    "mean_squared_logarithmic_error": ("rates", 3.0, "rates"),
}


def _pointwise_cases(loss: str) -> Iterator[Case]:
    x_kind, scale, t_kind = POINTWISE[loss]
    for shape in POINTWISE_SHAPES:
        for reduction in REDUCTIONS:
            args = {"input": Arg(x_kind, shape, scale), "target": Arg(t_kind, shape, scale)}
            yield _case(loss, f"{_shape_str(shape)}-{reduction}", args, reduction=reduction)
    if loss in ("hinge", "squared_hinge"):
        # 0/1 labels: Keras (and arrayloss) take them as -1/1 when every label is 0 or 1.
        for reduction in REDUCTIONS:
            args = {"input": Arg("logits", (4, 3), 2.0), "target": Arg("binary", (4, 3))}
            yield _case(loss, f"(4,3)-{reduction}-binary", args, reduction=reduction)
        args = {"input": Arg("logits", (4, 3), 2.0), "target": Arg("signs_mixed", (4, 3))}
        yield _case(loss, "(4,3)-none-mixed_labels", args, reduction="none")
    if loss == "log_cosh":
        args = {"input": Arg("huge", (4, 3), 300.0), "target": Arg("zeros", (4, 3))}
        yield _case(loss, "(4,3)-none-large_errors", args, reduction="none")


def _categorical_hinge_cases() -> Iterator[Case]:
    loss = "categorical_hinge"
    for shape in ((3,), (5, 3), (2, 3, 4), (0, 3)):
        for reduction in REDUCTIONS:
            for target in ("binary", "soft"):
                args = {"input": Arg("logits", shape, 2.0), "target": Arg(target, shape)}
                name = f"{_shape_str(shape)}-{reduction}-{target}"
                yield _case(loss, name, args, reduction=reduction)


def _poly1_cases() -> Iterator[Case]:
    loss = "poly1_cross_entropy"
    c = N_FOCAL_CLASSES
    for shape, target_shape in FOCAL_CLASS_SHAPES:
        for reduction in REDUCTIONS:
            for target in ("class_index", "class_index_ignored", "soft"):
                if target == "class_index_ignored" and not target_shape:
                    continue
                t_shape = shape if target == "soft" else target_shape
                args = {"input": Arg("logits", shape, 3.0), "target": Arg(target, t_shape, c)}
                name = f"{_shape_str(shape)}-{reduction}-{target}"
                yield _case(loss, name, args, reduction=reduction)
    for epsilon in (0.0, 1.0, -1.0):
        args = {"input": Arg("logits", (5, c), 3.0), "target": Arg("class_index", (5,), c)}
        yield _case(loss, f"(5,3)-sum-epsilon_{epsilon:g}", args, reduction="sum", epsilon=epsilon)


# --- generalized_kl_divergence, convex_kl_divergence: optax ---------------------------------


def _optax_generalized_kl(name: str) -> Any:
    """optax.losses.<name>(log_predictions, targets, axis=()): summed over no axis, the
    elementwise terms; 'batchmean' divides the sum by the batch size, as kl_div.
    (optax deprecates convex_kl_divergence, an alias: its warning is silenced here.)"""

    def reference(input: Any, target: Any, reduction: str = "batchmean") -> Any:
        import warnings

        import optax

        jnp = _jnp()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            loss = getattr(optax.losses, name)(input, target, axis=())
        if reduction == "batchmean":
            return jnp.sum(loss) / (loss.shape[0] if loss.ndim else 1)
        return _reduce(loss, reduction)

    reference.__name__ = f"optax_{name}"
    return reference


def _generalized_kl_cases(loss: str) -> Iterator[Case]:
    for shape in ((), (5,), (4, 3), (2, 3, 4), (0, 3)):
        for reduction in (*REDUCTIONS, "batchmean"):
            for target in ("soft", "positive"):
                args = {"input": Arg("logits", shape), "target": Arg(target, shape)}
                name = f"{_shape_str(shape)}-{reduction}-{target}"
                yield _case(loss, name, args, reduction=reduction)
    # Targets exactly 0 (0 log 0 = 0) and broadcasting.
    args = {"input": Arg("logits", (4, 3)), "target": Arg("probabilities_01", (4, 3))}
    yield _case(loss, "(4,3)-none-zeros", args, reduction="none")
    args = {"input": Arg("logits", (4, 3)), "target": Arg("soft", (3,))}
    yield _case(loss, "(4,3)-sum-broadcast", args, reduction="sum")


# --- ntxent: optax.losses.ntxent -----------------------------------------------------------


def optax_ntxent(
    embeddings: Any, labels: Any, temperature: float = 0.07, reduction: str = "mean"
) -> Any:
    """optax.losses.ntxent(embeddings, labels, temperature): the mean over the positive
    pairs; 'sum' is that mean times their number (counted here from the labels). optax
    has no per-pair result: 'none' is checked per pair in tests/test_beyond.py."""
    import optax

    jnp = _jnp()
    mean = optax.losses.ntxent(embeddings, labels, temperature=temperature)
    if reduction == "mean":
        return mean
    assert reduction == "sum", "optax.losses.ntxent gives no per-pair losses"
    same = labels[:, None] == labels[None, :]
    return mean * (jnp.sum(same) - labels.shape[0])


def _ntxent_cases() -> Iterator[Case]:
    loss = "ntxent"
    for n, d in ((6, 4), (8, 3), (5, 2), (10, 16)):
        for reduction in ("mean", "sum"):
            for temperature in (0.07, 0.5, 2.0):
                args = {
                    "embeddings": Arg("logits", (n, d)),
                    "labels": Arg("class_index", (n,), 3.0),
                }
                name = f"({n},{d})-{reduction}-t_{temperature:g}"
                yield _case(loss, name, args, reduction=reduction, temperature=temperature)
    # A zero embedding (optax clips its squared norm at eps).
    args = {"embeddings": Arg("zero_rows", (6, 4)), "labels": Arg("class_index", (6,), 2.0)}
    yield _case(loss, "(6,4)-mean-zero_rows", args, reduction="mean", temperature=0.5)


def _zero_embedding(arrays: Any) -> str | None:
    e = arrays["embeddings"]
    if e.size and bool((np.sum(e * e, axis=-1) == 0).any()):
        return (
            "a zero embedding: optax clips its squared norm at the eps of the dtype, so the "
            "gradient there is about 1/sqrt(eps) of the dtype computed in (the float64 "
            "reference's differs from float32's by design)"
        )
    return None


# --- rmse: keras.metrics.RootMeanSquaredError; cosine_similarity_loss: Keras -----------------


def keras_rmse(input: Any, target: Any, reduction: str = "mean") -> Any:
    """keras.metrics.RootMeanSquaredError on one batch, through its stateless API (a pure
    function of its variables, so ``jax.grad`` differentiates it): update_state(y_true,
    y_pred), then result. 'sum' is the root of the sum of squares: that result times
    the root of the number of elements. (MindSpore's nn.RMSELoss, not installable here,
    is checked by its documented examples in tests/test_beyond.py.)"""
    jnp = _jnp()
    metric = _keras().metrics.RootMeanSquaredError(dtype=str(input.dtype))
    state = [jnp.zeros_like(v.value) for v in metric.variables]
    state = metric.stateless_update_state(state, target, input)
    result = metric.stateless_result(state)
    assert reduction in ("mean", "sum"), "rmse has no 'none'"
    if reduction == "sum":
        n = np.prod(np.broadcast_shapes(input.shape, target.shape))
        return result * np.sqrt(float(n))
    return result


def _rmse_cases() -> Iterator[Case]:
    loss = "rmse"
    for shape in ((), (5,), (4, 3), (2, 3, 4), (3, 1, 5), (64,)):
        for reduction in ("mean", "sum"):
            for scale in (1.0, 1e3):
                args = {"input": Arg("logits", shape, scale), "target": Arg("logits", shape, scale)}
                name = f"{_shape_str(shape)}-{reduction}" + ("-large" if scale > 1 else "")
                yield _case(loss, name, args, reduction=reduction)
    # A perfect fit: the root of 0 (its gradient: see _perfect_fit).
    for reduction in ("mean", "sum"):
        args = {"input": Arg("constant", (4, 3), 1.5), "target": Arg("constant", (4, 3), 1.5)}
        yield _case(loss, f"(4,3)-{reduction}-perfect_fit", args, reduction=reduction)


def _perfect_fit(arrays: Any) -> str | None:
    if arrays["input"].size and bool(np.all(arrays["input"] == arrays["target"])):
        return (
            "every error 0: Keras's sqrt of 0 has the derivative 0 * inf = NaN; arrayloss's "
            "is 0 (documented; tests/test_beyond.py checks it)"
        )
    return None


def keras_cosine_similarity(input: Any, target: Any, dim: int = -1, reduction: str = "mean") -> Any:
    """keras.losses.cosine_similarity(y_true, y_pred, axis=dim)."""
    loss = _keras().losses.cosine_similarity(target, input, axis=dim)
    return _reduce(loss, reduction)


def _cosine_cases() -> Iterator[Case]:
    loss = "cosine_similarity_loss"
    for shape, dim in (((5,), -1), ((4, 3), -1), ((4, 3), 0), ((2, 3, 4), 1), ((2, 3, 4), -1),
                       ((3, 1, 5), 1), ((0, 3), -1), ((6, 1), -1)):  # fmt: skip
        for reduction in REDUCTIONS:
            args = {"input": Arg("logits", shape, 2.0), "target": Arg("logits", shape, 3.0)}
            name = f"{_shape_str(shape)}-dim_{dim}-{reduction}"
            yield _case(loss, name, args, reduction=reduction, dim=dim)
    # Tiny vectors (norms about 1e-5, above Keras's epsilon 1e-7).
    args = {"input": Arg("logits", (4, 3), 1e-5), "target": Arg("logits", (4, 3), 1e-5)}
    yield _case(loss, "(4,3)-none-tiny", args, reduction="none")
    # Zero vectors: a cosine of 0, as Keras (the gradient: see _zero_vector).
    args = {"input": Arg("zero_rows", (6, 4)), "target": Arg("logits", (6, 4))}
    yield _case(loss, "(6,4)-none-zero_rows", args, reduction="none")
    args = {"input": Arg("logits", (6, 4)), "target": Arg("zero_rows", (6, 4))}
    yield _case(loss, "(6,4)-sum-zero_target_rows", args, reduction="sum")


def _zero_input_vector(arrays: Any) -> str | None:
    x = arrays["input"]
    if x.size and x.ndim and bool((np.sum(x * x, axis=-1) == 0).any()):
        return (
            "a zero input vector: Keras's derivative of rsqrt at 0 gives NaN there; "
            "arrayloss's is the finite -target/|target|/epsilon (documented)"
        )
    return None


#: The losses PyTorch lacks, by name, each with its source framework as reference.
BEYOND: dict[str, LossInfo] = {
    info.name: info
    for info in (
        LossInfo(
            "sigmoid_focal_loss",
            _sigmoid_focal_cases,
            positional=("inputs", "targets"),
            reference=optax_sigmoid_focal,
            source="optax.losses.sigmoid_focal_loss",
        ),
        LossInfo(
            "softmax_focal_loss",
            _softmax_focal_cases,
            reference=keras_categorical_focal,
            source="keras.losses.categorical_focal_crossentropy",
        ),
        LossInfo("dice_loss", _dice_cases, reference=keras_dice, source="keras.losses.dice"),
        LossInfo(
            "tversky_loss",
            _tversky_cases,
            reference=keras_tversky,
            source="keras.losses.tversky (alpha and beta exchanged)",
        ),
        LossInfo(
            "multiclass_dice_loss",
            _multiclass_dice_cases,
            reference=optax_dice,
            source="optax.losses.dice_loss",
        ),
        LossInfo(
            "hinge",
            functools.partial(_pointwise_cases, "hinge"),
            reference=optax_hinge,
            source="optax.losses.hinge_loss (Keras's 0/1 labels mapped to -1/1)",
        ),
        LossInfo(
            "log_cosh",
            functools.partial(_pointwise_cases, "log_cosh"),
            reference=optax_log_cosh,
            source="optax.losses.log_cosh",
        ),
        *(
            LossInfo(
                name,
                functools.partial(_pointwise_cases, name),
                reference=_keras_pointwise(name),
                source=f"keras.losses.{name}",
                reference_precision="float32",
            )
            for name in POINTWISE
            if name not in ("hinge", "log_cosh")
        ),
        LossInfo(
            "categorical_hinge",
            _categorical_hinge_cases,
            reference=keras_categorical_hinge,
            source="keras.losses.categorical_hinge",
        ),
        LossInfo(
            "poly1_cross_entropy",
            _poly1_cases,
            reference=optax_poly1,
            source="optax.losses.poly_loss_cross_entropy",
        ),
        *(
            LossInfo(
                name,
                functools.partial(_generalized_kl_cases, name),
                reference=_optax_generalized_kl(name),
                source=f"optax.losses.{name}",
            )
            for name in ("generalized_kl_divergence", "convex_kl_divergence")
        ),
        LossInfo(
            "ntxent",
            _ntxent_cases,
            _zero_embedding,
            positional=("embeddings", "labels"),
            reference=optax_ntxent,
            source="optax.losses.ntxent",
        ),
        LossInfo(
            "rmse",
            _rmse_cases,
            _perfect_fit,
            reference=keras_rmse,
            source="keras.metrics.RootMeanSquaredError",
            reference_precision="float32",
        ),
        LossInfo(
            "cosine_similarity_loss",
            _cosine_cases,
            _zero_input_vector,
            reference=keras_cosine_similarity,
            source="keras.losses.cosine_similarity",
        ),
    )
}
