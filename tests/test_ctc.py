"""ctc_loss and CTCLoss on every backend, against PyTorch; gradients against PyTorch's
(through log_softmax, and with its documented exp(log_probs) term) and finite
differences."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import arrayloss
from arrayloss import ArrayLossIndexError, ArrayLossTypeError, ArrayLossValueError
from conformance.backends import BACKENDS, Backend
from tests.helpers import REDUCTIONS, RTOL, assert_matches

torch = pytest.importorskip("torch")

AUTODIFF = [
    pytest.param(b, id=b.name, marks=[pytest.mark.skip(reason=r)] if (r := b.skip_reason()) else [])
    for b in BACKENDS
    if b.autodiff
]

T, N, C, S = 10, 5, 4, 4
# Per sample: the full length with a repeated label; a shorter input; an impossible
# alignment (3 frames for 3 labels with a repeat, which need 4); an empty target; an
# input of length 0 with an empty target (loss 0).
INPUT_LENGTHS = np.array([10, 7, 3, 6, 0])
TARGET_LENGTHS = np.array([4, 2, 3, 0, 0])


def make_data(rng: np.random.Generator, normalized: bool = True) -> dict[str, np.ndarray]:
    logits = rng.normal(size=(T, N, C)) * 2
    if normalized:
        logits = logits - np.log(np.sum(np.exp(logits), axis=2, keepdims=True))
    targets = rng.integers(1, C, size=(N, S))
    targets[0, :2] = 2  # a repeated label: the path must pass a blank between them
    targets[2, :2] = 3
    return {
        "log_probs": logits,
        "targets": targets,
        "input_lengths": INPUT_LENGTHS,
        "target_lengths": TARGET_LENGTHS,
    }


def concatenated(targets: np.ndarray, target_lengths: np.ndarray) -> np.ndarray:
    return np.concatenate([targets[i, :n] for i, n in enumerate(target_lengths)])


def torch_ctc(data: dict[str, np.ndarray], **kwargs: Any) -> np.ndarray:
    """PyTorch's own result (float64 NumPy)."""
    args = [torch.tensor(np.asarray(data["log_probs"], dtype=np.float64))]
    args += [torch.tensor(data[k]) for k in ("targets", "input_lengths", "target_lengths")]
    return torch.nn.functional.ctc_loss(*args, **kwargs).double().numpy()


def call(backend: Backend, data: dict[str, np.ndarray], dtype: str = "float64", **kw: Any) -> Any:
    return backend.call(
        arrayloss.ctc_loss,
        backend.asarray(data["log_probs"], dtype),
        backend.asarray(data["targets"]),
        backend.asarray(data["input_lengths"]),
        backend.asarray(data["target_lengths"]),
        **kw,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("zero_infinity", [False, True], ids=["inf", "zero_infinity"])
@pytest.mark.parametrize("layout", ["padded", "concatenated"])
def test_matches_torch(
    backend: Backend, rng: np.random.Generator, reduction: str, zero_infinity: bool, layout: str
) -> None:
    data = make_data(rng)
    if layout == "concatenated":
        data["targets"] = concatenated(data["targets"], data["target_lengths"])
    kwargs = {"reduction": reduction, "zero_infinity": zero_infinity}
    expected = torch_ctc(data, **kwargs)  # PyTorch, float64, same data
    if reduction == "none":  # the impossible sample: +inf, or 0 with zero_infinity
        assert expected[2] == (0.0 if zero_infinity else np.inf)
    assert_matches(backend, call(backend, data, **kwargs), expected, "float64")


@pytest.mark.parametrize("target_shape", ["(S,)", "(1,S)"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_unbatched_matches_torch(
    backend: Backend, rng: np.random.Generator, target_shape: str, reduction: str
) -> None:
    data = make_data(rng)
    targets = data["targets"][0] if target_shape == "(S,)" else data["targets"][:1]
    unbatched = {
        "log_probs": data["log_probs"][:, 0],
        "targets": targets,
        "input_lengths": np.asarray(T),
        "target_lengths": np.asarray(S),
    }
    expected = torch_ctc(unbatched, reduction=reduction)  # PyTorch, float64
    assert expected.shape == ()
    assert_matches(backend, call(backend, unbatched, reduction=reduction), expected, "float64")


@pytest.mark.parametrize("blank", [C - 1, 2])
def test_blank_elsewhere_matches_torch(
    backend: Backend, rng: np.random.Generator, blank: int
) -> None:
    data = make_data(rng)
    # With blank 2, the targets hold the blank's index too: PyTorch computes them by the
    # same recursion (a skip onto such a label is allowed), and so does arrayloss.
    data["targets"] = rng.integers(0, C - 1, size=(N, S)) if blank == C - 1 else data["targets"]
    expected = torch_ctc(data, blank=blank, reduction="none")  # PyTorch, float64
    assert_matches(backend, call(backend, data, blank=blank, reduction="none"), expected, "float64")


def test_every_dtype_matches_float64(backend: Backend, rng: np.random.Generator) -> None:
    # PyTorch's CPU kernel has no float16/bfloat16 version: the reference is PyTorch in
    # float64 on the same (rounded) values; halves are computed in float32 and rounded.
    data = make_data(rng)
    for dtype in backend.dtypes:
        rounded = dict(data, log_probs=backend.to_numpy(backend.asarray(data["log_probs"], dtype)))
        expected = torch_ctc(rounded, reduction="none", zero_infinity=True)
        result = call(backend, rounded, dtype, reduction="none", zero_infinity=True)
        assert backend.dtype_name(result) == dtype
        actual = backend.to_numpy(result).astype(np.float64)
        np.testing.assert_allclose(actual, expected, rtol=RTOL[dtype], atol=RTOL[dtype] * 20)


@pytest.mark.parametrize("kind", [tuple, list])
def test_lengths_as_python_sequences(
    backend: Backend, rng: np.random.Generator, kind: type
) -> None:
    if backend.jit:
        pytest.skip("under jax.jit a tuple argument is traced; pass lengths as arrays there")
    data = make_data(rng)
    expected = torch_ctc(data, reduction="sum", zero_infinity=True)  # PyTorch, float64
    result = backend.call(
        arrayloss.ctc_loss,
        backend.asarray(data["log_probs"]),
        backend.asarray(data["targets"]),
        kind(int(n) for n in data["input_lengths"]),
        kind(int(n) for n in data["target_lengths"]),
        reduction="sum",
        zero_infinity=True,
    )
    assert_matches(backend, result, expected, "float64")


def test_all_minus_infinity_log_probs_give_no_nan(rng: np.random.Generator) -> None:
    # log(0) for a whole class, and every log-probability of one frame -inf: the loss is
    # finite where a path avoids them, +inf otherwise (as PyTorch); never NaN.
    data = make_data(rng)
    data["log_probs"][:, :, 3] = -np.inf
    data["log_probs"][1, 1, :] = -np.inf
    expected = torch_ctc(data, reduction="none")  # PyTorch, float64
    result = arrayloss.ctc_loss(**data, reduction="none")
    np.testing.assert_allclose(result, expected, rtol=1e-13)
    assert not np.any(np.isnan(result))


# --- gradients -----------------------------------------------------------------------------


def _grad(backend: Backend, fn: Any, x: np.ndarray) -> np.ndarray:
    """d fn(x) / dx on ``backend`` (torch autograd or jax.grad, jitted on jax-jit)."""
    if backend.module == "torch":
        t = backend.asarray(x).requires_grad_(True)
        fn(t).backward()
        return backend.to_numpy(t.grad)
    import jax

    grad = jax.grad(fn)
    return backend.to_numpy((jax.jit(grad) if backend.jit else grad)(backend.asarray(x)))


def _log_softmax(backend: Backend, z: Any) -> Any:
    if backend.module == "torch":
        return torch.log_softmax(z, dim=2)
    import jax

    return jax.nn.log_softmax(z, axis=2)


@pytest.mark.parametrize("backend", AUTODIFF)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_gradient_through_log_softmax_equals_torch(
    backend: Backend, rng: np.random.Generator, reduction: str
) -> None:
    # The usual use: log_probs = log_softmax(logits). There PyTorch's gradient and the
    # exact one agree (the exp(log_probs) term sums to 1 per frame and log_softmax's
    # backward removes it).
    data = make_data(rng, normalized=False)
    z = data["log_probs"]
    others = [data[k] for k in ("targets", "input_lengths", "target_lengths")]
    kwargs = {"reduction": reduction, "zero_infinity": True}

    zt = torch.tensor(z, requires_grad=True)
    torch.nn.functional.ctc_loss(
        torch.log_softmax(zt, 2), *(torch.tensor(a) for a in others), **kwargs
    ).sum().backward()
    expected = zt.grad.numpy()  # PyTorch autograd, float64

    args = [backend.asarray(a) for a in others]

    def total(x: Any) -> Any:
        return arrayloss.ctc_loss(_log_softmax(backend, x), *args, **kwargs).sum()

    np.testing.assert_allclose(_grad(backend, total, z), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("backend", AUTODIFF)
@pytest.mark.parametrize(
    ("reduction", "normalized"),
    [("none", False), ("mean", True), ("sum", False)],
    ids=["none-raw", "mean-normalized", "sum-raw"],
)
def test_gradient_wrt_log_probs_is_torchs_minus_exp_log_probs(
    backend: Backend, rng: np.random.Generator, reduction: str, normalized: bool
) -> None:
    # PyTorch's ctc backward (aten/src/ATen/native/LossCTC.cpp) returns
    #   g_n * (exp(lp[t, n, c]) - posterior(t, n, c))   for t < input_lengths[n],
    # the exact derivative -g_n * posterior plus g_n * exp(lp), whether or not log_probs
    # are normalized; 0 for t >= input_lengths[n] and for samples zeroed by
    # zero_infinity. arrayloss gives the exact derivative: the two differ by that term.
    data = make_data(rng, normalized=normalized)
    lp = data["log_probs"]
    others = [data[k] for k in ("targets", "input_lengths", "target_lengths")]
    kwargs = {"reduction": reduction, "zero_infinity": True}
    xt = torch.tensor(lp, requires_grad=True)
    torch.nn.functional.ctc_loss(xt, *(torch.tensor(a) for a in others), **kwargs).sum().backward()
    torch_grad = xt.grad.numpy()  # PyTorch autograd, float64

    per_sample = torch_ctc(data, reduction="none")
    weight = np.where(np.isfinite(per_sample), 1.0, 0.0)
    if reduction == "mean":
        weight = weight / (N * np.maximum(TARGET_LENGTHS, 1))
    active = np.arange(T)[:, None] < INPUT_LENGTHS[None, :]
    expected = torch_grad - np.exp(lp) * (active * weight)[:, :, None]

    args = [backend.asarray(a) for a in others]

    def total(x: Any) -> Any:
        return arrayloss.ctc_loss(x, *args, **kwargs).sum()

    np.testing.assert_allclose(_grad(backend, total, lp), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("backend", AUTODIFF)
def test_gradient_equals_finite_differences(backend: Backend, rng: np.random.Generator) -> None:
    # The exact derivative, checked without PyTorch: central differences (h = 1e-6,
    # float64) on log-probabilities that are not normalized.
    data = make_data(rng, normalized=False)
    others = [backend.asarray(data[k]) for k in ("targets", "input_lengths", "target_lengths")]

    def total(x: Any) -> Any:
        return arrayloss.ctc_loss(x, *others, reduction="mean", zero_infinity=True).sum()

    grad = _grad(backend, total, data["log_probs"])
    numpy_others = [data[k] for k in ("targets", "input_lengths", "target_lengths")]
    h = 1e-6
    for index in [(0, 0, 0), (3, 0, 2), (6, 1, 0), (9, 0, 1), (2, 3, 0), (1, 2, 1)]:
        plus, minus = data["log_probs"].copy(), data["log_probs"].copy()
        plus[index] += h
        minus[index] -= h
        f_plus = arrayloss.ctc_loss(plus, *numpy_others, zero_infinity=True)
        f_minus = arrayloss.ctc_loss(minus, *numpy_others, zero_infinity=True)
        assert grad[index] == pytest.approx((f_plus - f_minus) / (2 * h), abs=1e-8)


@pytest.mark.parametrize("backend", AUTODIFF)
def test_impossible_and_minus_infinity_gradients_are_finite(
    backend: Backend, rng: np.random.Generator
) -> None:
    # -inf log-probabilities and an impossible alignment: no NaN in the gradient; the
    # impossible sample (zeroed by zero_infinity) and the frames past each input's
    # length get exactly 0, as PyTorch.
    data = make_data(rng)
    lp = data["log_probs"]
    lp[:, :, 3] = -np.inf
    others = [backend.asarray(data[k]) for k in ("targets", "input_lengths", "target_lengths")]

    def total(x: Any) -> Any:
        return arrayloss.ctc_loss(x, *others, reduction="sum", zero_infinity=True).sum()

    grad = _grad(backend, total, lp)
    assert np.all(np.isfinite(grad))
    assert np.all(grad[:, 2] == 0.0)  # the impossible sample
    assert np.all(grad[7:, 1] == 0.0)  # past input_lengths[1] = 7


# --- errors --------------------------------------------------------------------------------

EAGER = ["numpy", "torch"]


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (
            {"input_lengths": [10, 7, 3, 6, 11]},
            ArrayLossValueError,
            "`input_lengths` must be at most T = 10",
        ),
        (
            {"input_lengths": [10, 7, 3, 6, -1]},
            ArrayLossValueError,
            "`input_lengths` must be at least 0",
        ),
        (
            {"target_lengths": [5, 2, 3, 0, 0]},
            ArrayLossValueError,
            "`target_lengths` must be at most S = 4",
        ),
        (
            {"target_lengths": [4, 2, 3, 0, -1]},
            ArrayLossValueError,
            "`target_lengths` must be at least 0",
        ),
        (
            {"input_lengths": [10, 7, 3, 6]},
            ArrayLossValueError,
            "`input_lengths` must hold one length per sample",
        ),
        (
            {"target_lengths": np.zeros((2, 5), dtype=np.int64)},
            ArrayLossValueError,
            "`target_lengths` must hold one length per sample",
        ),
        (
            {"input_lengths": np.full(5, 3.0)},
            ArrayLossTypeError,
            "`input_lengths` must have an integer dtype",
        ),
        (
            {"input_lengths": 10},
            TypeError,
            "`input_lengths` must be an integer array or a sequence",
        ),
        (
            {"targets": np.ones((N, S))},
            ArrayLossTypeError,
            "`targets` of labels must have an integer dtype",
        ),
        (
            {"targets": np.ones((N, S, 1), dtype=np.int64)},
            ArrayLossValueError,
            "`targets` must have shape",
        ),
        (
            {"targets": np.ones((N - 1, S), dtype=np.int64)},
            ArrayLossValueError,
            "padded `targets` must have N = 5 rows",
        ),
        (
            {"targets": np.ones(8, dtype=np.int64)},
            ArrayLossValueError,
            r"sum\(target_lengths\) = 9",
        ),
        (
            {"targets": np.full((N, S), C, dtype=np.int64)},
            ArrayLossIndexError,
            r"label 4, outside \[0, 4\)",
        ),
        ({"log_probs": np.zeros((T, N, C, 1))}, ArrayLossValueError, "`log_probs` must have shape"),
        ({"log_probs": np.zeros((0, N, C))}, ArrayLossValueError, "`log_probs` must not be empty"),
        ({"blank": C}, ArrayLossValueError, r"`blank` must be a class index in \[0, 4\)"),
        ({"blank": -1}, ArrayLossValueError, "`blank` must be a class index"),
        ({"reduction": "avg"}, ValueError, "`reduction` must be one of"),
    ],
    ids=lambda v: v.split("`")[1] if isinstance(v, str) and "`" in v else None,
)
@pytest.mark.parametrize("backend_name", EAGER)
def test_errors_name_the_argument(
    rng: np.random.Generator, change: dict[str, Any], error: type, match: str, backend_name: str
) -> None:
    from conformance.backends import backend_by_name

    backend = backend_by_name(backend_name)
    data: dict[str, Any] = dict(make_data(rng))
    data.update(change)
    args = {k: backend.asarray(v) if isinstance(v, np.ndarray) else v for k, v in data.items()}
    with pytest.raises(error, match=match):
        arrayloss.ctc_loss(**args)


def test_errors_raise_where_torch_raises(rng: np.random.Generator) -> None:
    # The same bad lengths make PyTorch raise RuntimeError: arrayloss's errors are
    # RuntimeErrors too.
    data = make_data(rng)
    for name, bad in (("input_lengths", [11, 7, 3, 6, 0]), ("target_lengths", [5, 2, 3, 0, 0])):
        args = {**{k: torch.tensor(v) for k, v in data.items()}, name: torch.tensor(bad)}
        with pytest.raises(RuntimeError):
            torch.nn.functional.ctc_loss(**args)
        with pytest.raises(RuntimeError):
            arrayloss.ctc_loss(**args)


# --- the class -----------------------------------------------------------------------------


def test_class_equals_function(backend: Backend, rng: np.random.Generator) -> None:
    data = make_data(rng)
    loss = arrayloss.CTCLoss(blank=0, reduction="sum", zero_infinity=True)
    expected = torch.nn.CTCLoss(reduction="sum", zero_infinity=True)(
        *(
            torch.tensor(data[k])
            for k in ("log_probs", "targets", "input_lengths", "target_lengths")
        )
    )  # PyTorch's class, float64
    result = backend.call(
        loss,
        *(
            backend.asarray(data[k])
            for k in ("log_probs", "targets", "input_lengths", "target_lengths")
        ),
    )
    assert_matches(backend, result, expected.numpy(), "float64")


def test_class_checks_options_and_repr() -> None:
    assert repr(arrayloss.CTCLoss()) == "CTCLoss(blank=0, reduction='mean')"
    assert (
        repr(arrayloss.CTCLoss(blank=3, reduction="sum", zero_infinity=True))
        == "CTCLoss(blank=3, reduction='sum', zero_infinity=True)"
    )
    with pytest.raises(TypeError, match="`blank` must be an int; got float"):
        arrayloss.CTCLoss(blank=1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="`reduction` must be one of"):
        arrayloss.CTCLoss(reduction="avg")
