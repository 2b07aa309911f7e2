"""binary_cross_entropy and binary_cross_entropy_with_logits on every backend.

Expected values come from PyTorch on the same data (``torch_loss``) or from closed-form
math; each carries its provenance.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest

import arrayloss
from conformance.backends import Backend
from tests.helpers import REDUCTIONS, assert_matches, rounded, torch_loss


def logits_case(rng: np.random.Generator, shape: tuple[int, ...]) -> dict[str, np.ndarray]:
    c = shape[-1] if shape else 1
    return {
        "input": rng.normal(size=shape) * 4,
        "target": rng.uniform(size=shape),
        "weight": rng.uniform(0.5, 2.0, size=shape[-1:] or ()),
        "pos_weight": rng.uniform(0.5, 3.0, size=(c,) if shape else ()),
    }


# --- values against PyTorch ---------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(), (7,), (4, 5), (2, 3, 4)], ids=str)
@pytest.mark.parametrize("options", ["plain", "weight", "pos_weight", "both"])
def test_with_logits_matches_torch(
    backend: Backend, rng: np.random.Generator, reduction: str, shape: Any, options: str
) -> None:
    case = logits_case(rng, shape)
    kwargs: dict[str, Any] = {"reduction": reduction}
    if options in ("weight", "both"):
        kwargs["weight"] = case["weight"]
    if options in ("pos_weight", "both"):
        kwargs["pos_weight"] = case["pos_weight"]
    expected = torch_loss(
        "binary_cross_entropy_with_logits", case["input"], case["target"], **kwargs
    )
    b_kwargs = {
        k: backend.asarray(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()
    }
    result = backend.call(
        arrayloss.binary_cross_entropy_with_logits,
        backend.asarray(case["input"]),
        backend.asarray(case["target"]),
        **b_kwargs,
    )
    assert_matches(backend, result, expected, "float64")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(), (7,), (4, 5), (2, 3, 4)], ids=str)
@pytest.mark.parametrize("with_weight", [False, True], ids=["plain", "weight"])
def test_bce_matches_torch(
    backend: Backend, rng: np.random.Generator, reduction: str, shape: Any, with_weight: bool
) -> None:
    p = rng.uniform(size=shape)
    t = rng.uniform(size=shape)
    if p.ndim:
        p.flat[:2] = [0.0, 1.0][: p.size]  # exactly 0 and 1: the -100 log clamp
    weight = rng.uniform(0.5, 2.0, size=shape[-1:]) if with_weight else None
    expected = torch_loss("binary_cross_entropy", p, t, weight=weight, reduction=reduction)
    result = backend.call(
        arrayloss.binary_cross_entropy,
        backend.asarray(p),
        backend.asarray(t),
        weight=None if weight is None else backend.asarray(weight),
        reduction=reduction,
    )
    assert_matches(backend, result, expected, "float64")


@pytest.mark.parametrize("loss", ["binary_cross_entropy", "binary_cross_entropy_with_logits"])
def test_every_dtype_matches_torch_in_that_dtype(
    backend: Backend, rng: np.random.Generator, loss: str
) -> None:
    for dtype in backend.dtypes:
        if loss == "binary_cross_entropy":
            x = rounded(rng.uniform(0.01, 0.99, size=(6, 5)), dtype)
        else:
            x = rounded(rng.normal(size=(6, 5)) * 5, dtype)
        t = rounded(rng.uniform(size=(6, 5)), dtype)
        for reduction in REDUCTIONS:
            # PyTorch in the same dtype: the same rounding of the result.
            expected = torch_loss(loss, x, t, dtype=dtype, reduction=reduction)
            result = backend.call(
                getattr(arrayloss, loss),
                backend.asarray(x, dtype),
                backend.asarray(t, dtype),
                reduction=reduction,
            )
            assert_matches(backend, result, expected, dtype)


def test_pytorch_documented_example(backend: Backend) -> None:
    # torch.nn.BCEWithLogitsLoss docs: 64 classes, target ones(10, 64), output 1.5,
    # pos_weight ones(64) -> the loss is -log(sigmoid(1.5)) (closed form).
    target = backend.asarray(np.ones((10, 64)))
    output = backend.asarray(np.full((10, 64), 1.5))
    pos_weight = backend.asarray(np.ones(64))
    result = backend.call(
        arrayloss.binary_cross_entropy_with_logits, output, target, pos_weight=pos_weight
    )
    expected = -math.log(1.0 / (1.0 + math.exp(-1.5)))
    assert_matches(backend, result, np.asarray(expected), "float64")


def test_pos_weight_closed_form(backend: Backend) -> None:
    # Closed form: with y = 1, l = -p log(sigmoid(x)); with y = 0, l = -log(1 - sigmoid(x)).
    x = np.array([[0.3, -1.2], [2.0, 0.0]])
    y = np.array([[1.0, 1.0], [0.0, 0.0]])
    pw = np.array([3.0, 0.5])
    sig = 1 / (1 + np.exp(-x))
    expected = np.where(y == 1, -pw * np.log(sig), -np.log(1 - sig))
    result = backend.call(
        arrayloss.binary_cross_entropy_with_logits,
        backend.asarray(x),
        backend.asarray(y),
        pos_weight=backend.asarray(pw),
        reduction="none",
    )
    assert_matches(backend, result, expected, "float64")


# --- extreme values -----------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16", "bfloat16"])
def test_with_logits_huge_logits_finite(backend: Backend, dtype: str) -> None:
    if dtype not in backend.dtypes:
        pytest.skip(f"{backend.name} has no {dtype}")
    x = np.array([1e4, -1e4, 1e4, -1e4, 0.0, 30.0, -30.0])
    t = np.array([0.0, 1.0, 1.0, 0.0, 0.5, 0.0, 1.0])
    for reduction in REDUCTIONS:
        expected = torch_loss(
            "binary_cross_entropy_with_logits", x, t, dtype=dtype, reduction=reduction
        )
        assert np.all(np.isfinite(expected))
        result = backend.call(
            arrayloss.binary_cross_entropy_with_logits,
            backend.asarray(x, dtype),
            backend.asarray(t, dtype),
            reduction=reduction,
        )
        assert_matches(backend, result, expected, dtype)


def test_with_logits_infinities_match_torch(backend: Backend) -> None:
    # PyTorch's formula: -inf gives NaN for any target, +inf gives inf below 1, NaN at 1.
    inf = np.inf
    x = np.array([inf, inf, -inf, -inf, np.nan])
    t = np.array([0.0, 1.0, 0.0, 1.0, 0.0])
    expected = torch_loss("binary_cross_entropy_with_logits", x, t, reduction="none")
    result = backend.call(
        arrayloss.binary_cross_entropy_with_logits,
        backend.asarray(x),
        backend.asarray(t),
        reduction="none",
    )
    actual = backend.to_numpy(result)
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected))
    np.testing.assert_array_equal(actual[~np.isnan(actual)], expected[~np.isnan(expected)])


def test_with_logits_targets_outside_unit_interval(backend: Backend) -> None:
    # Not clipped: computed by the formula, as PyTorch (other frameworks document it).
    x = np.array([0.5, -2.0, 3.0])
    t = np.array([1.5, -0.5, 2.0])
    expected = torch_loss("binary_cross_entropy_with_logits", x, t, reduction="none")
    result = backend.call(
        arrayloss.binary_cross_entropy_with_logits,
        backend.asarray(x),
        backend.asarray(t),
        reduction="none",
    )
    assert_matches(backend, result, expected, "float64")


def test_bce_log_clamp_closed_form(backend: Backend) -> None:
    # p = 0 with y = 1 and p = 1 with y = 0: each log clamped at -100, so the loss is 100.
    p = np.array([0.0, 1.0, 0.0, 1.0])
    y = np.array([1.0, 0.0, 0.0, 1.0])
    result = backend.call(
        arrayloss.binary_cross_entropy, backend.asarray(p), backend.asarray(y), reduction="none"
    )
    assert_matches(backend, result, np.array([100.0, 100.0, 0.0, 0.0]), "float64")


@pytest.mark.parametrize("loss", ["binary_cross_entropy", "binary_cross_entropy_with_logits"])
def test_empty_batch(backend: Backend, loss: str) -> None:
    # PyTorch: the mean of no elements is NaN, the sum 0, 'none' an empty array.
    empty = backend.asarray(np.zeros((0, 3)))
    none = backend.call(getattr(arrayloss, loss), empty, empty, reduction="none")
    assert tuple(none.shape) == (0, 3)
    assert (
        backend.to_numpy(backend.call(getattr(arrayloss, loss), empty, empty, reduction="sum")) == 0
    )
    mean = backend.call(getattr(arrayloss, loss), empty, empty)
    assert np.isnan(backend.to_numpy(mean))


def test_half_sum_accumulates_in_float32(backend: Backend) -> None:
    # 1000 elements of log(2) = 693.1: exact in float32 accumulation; a float16 running
    # sum would stall near 512 + ... with 0.5-ulp steps. PyTorch accumulates in float32.
    if "float16" not in backend.dtypes:
        pytest.skip(f"{backend.name} has no float16")
    zeros = backend.asarray(np.zeros(1000), "float16")
    half = backend.asarray(np.full(1000, 0.5), "float16")
    result = backend.call(arrayloss.binary_cross_entropy_with_logits, zeros, half, reduction="sum")
    assert backend.dtype_name(result) == "float16"
    assert abs(float(backend.to_numpy(result)) - 1000 * math.log(2)) < 0.5


# --- result dtype ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("input_dtype", "target_dtype"), [("float32", "float64"), ("float64", "float32")]
)
def test_with_logits_result_has_target_dtype(
    backend: Backend, input_dtype: str, target_dtype: str
) -> None:
    # PyTorch's kernel works in place on (1 - target): the result has target's dtype.
    if "float64" not in backend.dtypes:
        pytest.skip(f"{backend.name} has no float64")
    x = np.array([0.5, -1.0])
    t = np.array([1.0, 0.0])
    result = backend.call(
        arrayloss.binary_cross_entropy_with_logits,
        backend.asarray(x, input_dtype),
        backend.asarray(t, target_dtype),
    )
    assert backend.dtype_name(result) == target_dtype


def test_weights_do_not_promote(backend: Backend) -> None:
    # PyTorch multiplies float64 weights into a float32 loss in place: result float32.
    x = backend.asarray(np.array([0.5, -1.0]), "float32")
    t = backend.asarray(np.array([1.0, 0.0]), "float32")
    w = backend.asarray(np.array([2.0, 1.0]), "float64")
    for kwargs in ({"weight": w}, {"pos_weight": w}):
        result = backend.call(arrayloss.binary_cross_entropy_with_logits, x, t, **kwargs)
        assert backend.dtype_name(result) == "float32"
    result = backend.call(arrayloss.binary_cross_entropy, x * 0 + 0.5, t, weight=w)
    assert backend.dtype_name(result) == "float32"


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("loss", ["binary_cross_entropy", "binary_cross_entropy_with_logits"])
def test_shape_mismatch_raises(backend: Backend, loss: str) -> None:
    x = backend.asarray(np.full((3,), 0.5))
    t = backend.asarray(np.full((2, 3), 0.5))
    with pytest.raises(
        ValueError, match=r"`target` must have the shape of `input` \(3,\); got \(2, 3\)"
    ):
        backend.call(getattr(arrayloss, loss), x, t)


@pytest.mark.parametrize("name", ["weight", "pos_weight"])
def test_weight_that_would_enlarge_the_result_raises(backend: Backend, name: str) -> None:
    # PyTorch: "output with shape [3] doesn't match the broadcast shape [2, 3]".
    x = backend.asarray(np.zeros(3))
    w = backend.asarray(np.ones((2, 3)))
    with pytest.raises(
        ValueError, match=rf"`{name}` of shape \(2, 3\) must broadcast to the input's shape \(3,\)"
    ):
        backend.call(arrayloss.binary_cross_entropy_with_logits, x, x, **{name: w})


def test_bad_reduction_raises(backend: Backend) -> None:
    x = backend.asarray(np.zeros(3))
    with pytest.raises(
        ValueError, match=r"`reduction` must be one of 'none', 'mean', 'sum'; got 'avg'"
    ):
        backend.call(arrayloss.binary_cross_entropy_with_logits, x, x, reduction="avg")


def test_integer_input_raises(backend: Backend) -> None:
    x = backend.asarray(np.array([1, 0, 1]), "int64")
    t = backend.asarray(np.array([1.0, 0.0, 1.0]))
    with pytest.raises(TypeError, match="`input` must have a real floating-point dtype; got int"):
        backend.call(arrayloss.binary_cross_entropy_with_logits, x, t)
    with pytest.raises(TypeError, match="`target` must have a real floating-point dtype; got int"):
        backend.call(arrayloss.binary_cross_entropy_with_logits, t, x)


def test_bce_dtype_mismatch_raises(backend: Backend) -> None:
    # PyTorch: RuntimeError "Found dtype Double but expected Float".
    p = backend.asarray(np.array([0.5]), "float32")
    t = backend.asarray(np.array([1.0]), "float64")
    with pytest.raises(
        TypeError, match=r"`target` must have the dtype of `input` \(float32\); got float64"
    ) as info:
        backend.call(arrayloss.binary_cross_entropy, p, t)
    assert isinstance(info.value, RuntimeError)


@pytest.mark.parametrize(
    ("which", "values", "got"),
    [
        ("input", [0.5, 1.5], "got values from 0.5 to 1.5"),
        ("input", [-0.25, 0.5], "got values from -0.25 to 0.5"),
        ("input", [np.nan, 0.5], "got NaN"),
        ("target", [0.5, 1.5], "got values from 0.5 to 1.5"),
    ],
)
def test_bce_out_of_range_raises_on_eager_backends(
    backend: Backend, which: str, values: list[float], got: str
) -> None:
    bad = backend.asarray(np.array(values))
    good = backend.asarray(np.array([0.5, 0.5]))
    args = (bad, good) if which == "input" else (good, bad)
    if backend.jit or backend.lazy:
        # Documented: no value-dependent raise on traced or lazy arrays; the formula's
        # value is returned instead: NaN for an invalid probability (the log of a
        # negative number, or NaN itself). A target above 1 is a finite value.
        out = backend.to_numpy(
            backend.call(arrayloss.binary_cross_entropy, *args, reduction="none")
        )
        assert bool(np.isnan(out).any()) == (which == "input")
        return
    with pytest.raises(
        ValueError, match=rf"all elements of `{which}` must lie between 0 and 1; {got}"
    ) as info:
        backend.call(arrayloss.binary_cross_entropy, *args)
    assert isinstance(info.value, RuntimeError)  # PyTorch raises RuntimeError


# --- legacy arguments -----------------------------------------------------------------------


@pytest.mark.parametrize("size_average", [None, True, False])
@pytest.mark.parametrize("reduce", [None, True, False])
def test_legacy_arguments_match_torch(
    backend: Backend, rng: np.random.Generator, size_average: Any, reduce: Any
) -> None:
    x = rng.normal(size=(3, 4))
    t = rng.uniform(size=(3, 4))
    expected = torch_loss(
        "binary_cross_entropy_with_logits",
        x,
        t,
        size_average=size_average,
        reduce=reduce,
        reduction="sum",
    )
    legacy = size_average is not None or reduce is not None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = backend.call(
            arrayloss.binary_cross_entropy_with_logits,
            backend.asarray(x),
            backend.asarray(t),
            size_average=size_average,
            reduce=reduce,
            reduction="sum",
        )
    assert_matches(backend, result, expected, "float64")
    deprecations = [w for w in caught if w.category is DeprecationWarning]
    assert len(deprecations) == (1 if legacy else 0)
