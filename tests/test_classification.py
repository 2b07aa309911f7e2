"""nll_loss and cross_entropy on every backend.

Expected values come from PyTorch on the same data (``torch_loss``) or from closed-form
math; each carries its provenance.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import pytest

import arrayloss
from conformance.backends import Backend
from tests.helpers import REDUCTIONS, assert_matches, rounded, torch_loss

C = 4
#: (input shape, target shape): unbatched, batched, K = 2 extra dimensions.
SHAPES = [((C,), ()), ((5, C), (5,)), ((2, C, 3, 2), (2, 3, 2))]


def index_target(rng: np.random.Generator, shape: tuple[int, ...], ignore: bool) -> np.ndarray:
    t = rng.integers(0, C, size=shape)
    if ignore and t.ndim:
        t.flat[0] = -100  # one ignored sample (the default ignore_index)
    return np.asarray(t, dtype=np.int64)


def b_kwargs(backend: Backend, kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: backend.asarray(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}


# --- values against PyTorch ---------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shapes", SHAPES, ids=lambda s: str(s[0]))
@pytest.mark.parametrize("with_weight", [False, True], ids=["plain", "weight"])
@pytest.mark.parametrize("ignore", [False, True], ids=["all", "ignore"])
def test_nll_loss_matches_torch(
    backend: Backend,
    rng: np.random.Generator,
    reduction: str,
    shapes: Any,
    with_weight: bool,
    ignore: bool,
) -> None:
    x_shape, t_shape = shapes
    # Log-probabilities along the class axis (any values would do for nll_loss).
    x = rng.normal(size=x_shape)
    axis = 1 if len(x_shape) > 1 else 0
    logp = x - np.log(np.sum(np.exp(x), axis=axis, keepdims=True))
    t = index_target(rng, t_shape, ignore)
    kwargs: dict[str, Any] = {"reduction": reduction}
    if with_weight:
        kwargs["weight"] = rng.uniform(0.5, 2.0, size=C)
    # PyTorch on the same data.
    expected = torch_loss("nll_loss", logp, t, **kwargs)
    result = backend.call(
        arrayloss.nll_loss,
        backend.asarray(logp),
        backend.asarray(t, "int64"),
        **b_kwargs(backend, kwargs),
    )
    assert_matches(backend, result, expected, "float64")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shapes", SHAPES, ids=lambda s: str(s[0]))
@pytest.mark.parametrize("with_weight", [False, True], ids=["plain", "weight"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
def test_cross_entropy_index_targets_match_torch(
    backend: Backend,
    rng: np.random.Generator,
    reduction: str,
    shapes: Any,
    with_weight: bool,
    label_smoothing: float,
) -> None:
    x_shape, t_shape = shapes
    x = rng.normal(size=x_shape) * 3
    t = index_target(rng, t_shape, ignore=True)
    kwargs: dict[str, Any] = {"reduction": reduction, "label_smoothing": label_smoothing}
    if with_weight:
        kwargs["weight"] = rng.uniform(0.5, 2.0, size=C)
    # PyTorch on the same data.
    expected = torch_loss("cross_entropy", x, t, **kwargs)
    result = backend.call(
        arrayloss.cross_entropy,
        backend.asarray(x),
        backend.asarray(t, "int64"),
        **b_kwargs(backend, kwargs),
    )
    assert_matches(backend, result, expected, "float64")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shapes", SHAPES, ids=lambda s: str(s[0]))
@pytest.mark.parametrize("options", ["plain", "weight_smoothing"])
def test_cross_entropy_probability_targets_match_torch(
    backend: Backend, rng: np.random.Generator, reduction: str, shapes: Any, options: str
) -> None:
    x_shape, _ = shapes
    x = rng.normal(size=x_shape) * 3
    p = rng.uniform(size=x_shape)
    kwargs: dict[str, Any] = {"reduction": reduction}
    if options == "weight_smoothing":
        kwargs["weight"] = rng.uniform(0.5, 2.0, size=C)
        kwargs["label_smoothing"] = 0.2
    # PyTorch on the same data ('mean' divides by the number of samples).
    expected = torch_loss("cross_entropy", x, p, **kwargs)
    result = backend.call(
        arrayloss.cross_entropy, backend.asarray(x), backend.asarray(p), **b_kwargs(backend, kwargs)
    )
    assert_matches(backend, result, expected, "float64")


@pytest.mark.parametrize("ignore_index", [-100, -5, 0, 1])
def test_probability_targets_reject_a_non_negative_ignore_index(
    backend: Backend, rng: np.random.Generator, ignore_index: int
) -> None:
    # Found by the fuzzer (conformance/fuzz.py). PyTorch: TORCH_CHECK(ignore_index < 0,
    # "ignore_index is not supported for floating point target") for class probabilities.
    x = rng.normal(size=(3, C))
    p = rng.uniform(size=(3, C))
    call = functools.partial(
        backend.call,
        arrayloss.cross_entropy,
        backend.asarray(x),
        backend.asarray(p),
        ignore_index=ignore_index,
    )
    if ignore_index >= 0:
        with pytest.raises(RuntimeError, match="ignore_index"):
            torch_loss("cross_entropy", x, p, ignore_index=ignore_index)
        with pytest.raises(ValueError, match="`ignore_index` is not supported with class prob"):
            call()
    else:
        expected = torch_loss("cross_entropy", x, p, ignore_index=ignore_index)
        assert_matches(backend, call(), expected, "float64")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(0,), (2, 0), (2, 0, 3)], ids=str)
def test_probability_targets_with_no_classes_and_smoothing_match_torch(
    backend: Backend, reduction: str, shape: tuple[int, ...]
) -> None:
    # Found by the fuzzer: C = 0 with label_smoothing divided by zero (eps / C). PyTorch
    # sums nothing: -0 per sample ("none", "sum"); "mean" of an empty input is NaN.
    x = np.zeros(shape)
    kwargs = {"reduction": reduction, "label_smoothing": 0.25}
    expected = torch_loss("cross_entropy", x, x, **kwargs)
    result = backend.call(arrayloss.cross_entropy, backend.asarray(x), backend.asarray(x), **kwargs)
    assert_matches(backend, result, expected, "float64")


def test_custom_ignore_index_matches_torch(backend: Backend, rng: np.random.Generator) -> None:
    x = rng.normal(size=(6, C))
    t = np.array([0, 2, 2, 1, 3, 2])
    w = rng.uniform(0.5, 2.0, size=C)
    for loss, kw in (("nll_loss", {}), ("cross_entropy", {"label_smoothing": 0.1})):
        for reduction in REDUCTIONS:
            # PyTorch on the same data: class 2 ignored.
            expected = torch_loss(loss, x, t, weight=w, ignore_index=2, reduction=reduction, **kw)
            result = backend.call(
                getattr(arrayloss, loss),
                backend.asarray(x),
                backend.asarray(t, "int64"),
                weight=backend.asarray(w),
                ignore_index=2,
                reduction=reduction,
                **kw,
            )
            assert_matches(backend, result, expected, "float64")


@pytest.mark.parametrize("index_dtype", ["int32", "int16", "uint8", "int64"])
@pytest.mark.parametrize("loss", ["nll_loss", "cross_entropy"])
def test_class_indices_of_any_integer_dtype(
    backend: Backend, rng: np.random.Generator, loss: str, index_dtype: str
) -> None:
    # PyTorch takes int64 (and uint8) class indices only; arrayloss any integer dtype on
    # every backend (JAX's default integers are int32). Expected: PyTorch with int64.
    x = rng.normal(size=(5, C))
    t = np.array([0, 3, 2, 2, 1])
    w = rng.uniform(0.5, 2.0, size=C)
    expected = torch_loss(loss, x, t, weight=w, reduction="none")
    result = backend.call(
        getattr(arrayloss, loss),
        backend.asarray(x),
        backend.asarray(t, index_dtype),
        weight=backend.asarray(w),
        reduction="none",
    )
    assert_matches(backend, result, expected, "float64")


def test_every_dtype_matches_torch_in_that_dtype(
    backend: Backend, rng: np.random.Generator
) -> None:
    t = index_target(rng, (6,), ignore=True)
    for dtype in backend.dtypes:
        x = rounded(rng.normal(size=(6, C)) * 3, dtype)
        for reduction in REDUCTIONS:
            # PyTorch in the same dtype.
            expected = torch_loss("cross_entropy", x, t, dtype=dtype, reduction=reduction)
            result = backend.call(
                arrayloss.cross_entropy,
                backend.asarray(x, dtype),
                backend.asarray(t, "int64"),
                reduction=reduction,
            )
            assert_matches(backend, result, expected, dtype)


def test_closed_form_uniform_logits(backend: Backend) -> None:
    # Closed form: equal logits give p = 1/C, so the loss is log C for every target.
    x = backend.asarray(np.zeros((3, C)))
    t = backend.asarray(np.array([0, 1, 3]), "int64")
    result = backend.call(arrayloss.cross_entropy, x, t)
    assert_matches(backend, result, np.asarray(math.log(C)), "float64")


# --- ignore_index -----------------------------------------------------------------------------


@pytest.mark.parametrize("loss", ["nll_loss", "cross_entropy"])
def test_all_ignored(backend: Backend, loss: str) -> None:
    # PyTorch: 0 / 0 = NaN for 'mean', 0 for 'sum', zeros for 'none'.
    x = backend.asarray(np.zeros((3, C)))
    t = backend.asarray(np.full(3, -100), "int64")
    mean = backend.to_numpy(backend.call(getattr(arrayloss, loss), x, t))
    assert np.isnan(mean)
    assert backend.to_numpy(backend.call(getattr(arrayloss, loss), x, t, reduction="sum")) == 0
    none = backend.to_numpy(backend.call(getattr(arrayloss, loss), x, t, reduction="none"))
    np.testing.assert_array_equal(none, np.zeros(3))
    # +0.0, not -0.0, as PyTorch gives (torch.signbit of its 'none' result is all False).
    expected = torch_loss(loss, np.zeros((3, C)), np.full(3, -100), reduction="none")
    np.testing.assert_array_equal(np.signbit(none), np.signbit(expected))


# --- half precision ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_large_logits_finite(backend: Backend, dtype: str) -> None:
    if dtype not in backend.dtypes:
        pytest.skip(f"{backend.name} has no {dtype}")
    x = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4]])
    t = np.array([1, 2])
    result = backend.call(
        arrayloss.cross_entropy,
        backend.asarray(x, dtype),
        backend.asarray(t, "int64"),
        reduction="none",
    )
    # Closed form: -log_softmax: 1e4 for the first, log 2 for the second (rounded).
    expected = rounded(np.array([1e4, math.log(2.0)]), dtype)
    assert backend.dtype_name(result) == dtype
    np.testing.assert_allclose(backend.to_numpy(result), expected, rtol=1e-2)


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize("loss", ["nll_loss", "cross_entropy"])
@pytest.mark.parametrize("bad", [5, -3])
def test_out_of_range_target_raises_on_eager_backends(
    backend: Backend, loss: str, bad: int
) -> None:
    if backend.jit or backend.lazy:
        pytest.skip("value checks run on eager arrays only (documented)")
    x = backend.asarray(np.zeros((3, C)))
    t = backend.asarray(np.array([0, bad, 1]), "int64")
    # PyTorch raises IndexError("Target 5 is out of bounds.").
    with pytest.raises(IndexError, match=rf"class index {bad}, outside \[0, 4\) \(C = 4\)"):
        backend.call(getattr(arrayloss, loss), x, t)


def test_errors_name_the_argument(backend: Backend) -> None:
    x = backend.asarray(np.zeros((3, C)))
    t = backend.asarray(np.array([0, 1, 2]), "int64")
    with pytest.raises(ValueError, match=r"`target` of class indices must have shape \(3,\)"):
        backend.call(arrayloss.nll_loss, x, backend.asarray(np.array([0, 1]), "int64"))
    with pytest.raises(ValueError, match=r"`weight` must have shape \(4,\)"):
        backend.call(arrayloss.cross_entropy, x, t, weight=backend.asarray(np.ones(2)))
    with pytest.raises(ValueError, match=r"`label_smoothing` must lie between 0\.0 and 1\.0"):
        backend.call(arrayloss.cross_entropy, x, t, label_smoothing=1.5)
    with pytest.raises(TypeError, match="`target` of class indices must have an integer"):
        backend.call(arrayloss.nll_loss, x, backend.asarray(np.zeros(3)))
    with pytest.raises(TypeError, match="`input` must have a real floating-point dtype"):
        backend.call(arrayloss.cross_entropy, t, t)
    with pytest.raises(ValueError, match=r"`input` must have shape \(C,\)"):
        backend.call(arrayloss.nll_loss, backend.asarray(np.zeros(())), t[0])


def test_runtime_errors_are_runtime_errors_as_in_torch() -> None:
    # PyTorch raises RuntimeError for these; ours are also RuntimeError.
    with pytest.raises(RuntimeError):
        arrayloss.cross_entropy(np.zeros((3, C)), np.array([0, 1, 2]), label_smoothing=-0.1)
    with pytest.raises(RuntimeError):
        arrayloss.nll_loss(np.zeros((3, C)), np.array([0, 1, 2]), weight=np.ones(3))


# --- gradients --------------------------------------------------------------------------------


def _torch_grad(loss: str, x: np.ndarray, t: np.ndarray, **kwargs: Any) -> np.ndarray:
    import torch
    import torch.nn.functional as F

    xt = torch.tensor(x, requires_grad=True)
    kw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    getattr(F, loss)(xt, torch.tensor(t), **kw).sum().backward()
    assert xt.grad is not None
    return xt.grad.numpy()  # type: ignore[no-any-return]


GRAD_CASES = [
    ("nll_loss", {"reduction": "mean"}),
    ("cross_entropy", {"reduction": "mean", "label_smoothing": 0.2}),
    ("cross_entropy", {"reduction": "none"}),
    ("cross_entropy", {"reduction": "sum", "probabilities": True}),
]


@pytest.mark.parametrize(("loss", "options"), GRAD_CASES, ids=lambda v: str(v))
def test_gradients_equal_torch_autograd(
    backend: Backend, rng: np.random.Generator, loss: str, options: dict[str, Any]
) -> None:
    if not backend.autodiff:
        pytest.skip(f"{backend.name} records no gradients")
    options = dict(options)
    x = rng.normal(size=(2, C, 3)) * 2
    if options.pop("probabilities", False):
        t = rng.uniform(size=(2, C, 3))
    else:
        t = index_target(rng, (2, 3), ignore=True)
    w = rng.uniform(0.5, 2.0, size=C)
    # PyTorch autograd on the same data.
    expected = _torch_grad(loss, x, t, weight=w, **options)
    fn = getattr(arrayloss, loss)
    tb = backend.asarray(t, str(t.dtype))
    wb = backend.asarray(w)
    if backend.module == "torch":
        xb = backend.asarray(x).requires_grad_(True)
        fn(xb, tb, weight=wb, **options).sum().backward()
        actual = backend.to_numpy(xb.grad)
    else:
        import jax
        import jax.numpy as jnp

        grad = jax.grad(lambda xx: jnp.sum(fn(xx, tb, weight=wb, **options)))
        actual = backend.to_numpy((jax.jit(grad) if backend.jit else grad)(backend.asarray(x)))
    np.testing.assert_allclose(actual, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shapes", SHAPES[1:], ids=lambda s: str(s[0]))
def test_cross_entropy_is_log_softmax_then_gather_to_the_bit(
    backend: Backend, rng: np.random.Generator, shapes: Any
) -> None:
    # Without label smoothing, cross_entropy makes the log-probabilities at the targets
    # only (_numerics.log_softmax_parts): the same operations as log_softmax followed by
    # nll_loss's gather, so the same bits, and on autodiff backends the same gradient
    # (fast paths off: torch would take ATen's kernel). Under jax.jit XLA compiles the
    # two programs apart (its fusions may contract or vectorize differently): there the
    # gradients agree within rounding. Extreme logits, -inf included, and an ignored
    # sample.
    import array_api_compat

    from arrayloss import _dispatch, _numerics

    x_shape, t_shape = shapes
    x = rng.normal(size=x_shape) * 30
    x.flat[1] = -np.inf
    t = index_target(rng, t_shape, ignore=True)
    w = rng.uniform(0.5, 2.0, size=C)
    tb = backend.asarray(t, "int64")
    xp = array_api_compat.array_namespace(tb)
    for dtype in ("float32", "float64"):
        for options in ({"reduction": "none"}, {"reduction": "sum", "weight": w}):
            kw = b_kwargs(backend, options)
            if "weight" in kw:
                kw["weight"] = backend.asarray(w, dtype)

            def direct(xb: Any, kw: dict[str, Any] = kw) -> Any:
                return arrayloss.cross_entropy(xb, tb, **kw)

            def composed(xb: Any, kw: dict[str, Any] = kw) -> Any:
                logp = _numerics.log_softmax(xp, xb, 1)
                return arrayloss.nll_loss(logp, tb, **kw)

            with _dispatch.fast_paths(False):
                got = backend.to_numpy(direct(backend.asarray(x, dtype)))
                expected = backend.to_numpy(composed(backend.asarray(x, dtype)))
                np.testing.assert_array_equal(got, expected, strict=True)
                if not backend.autodiff:
                    continue
                grads = []
                for f in (direct, composed):
                    if backend.module == "torch":
                        xb = backend.asarray(x, dtype).requires_grad_(True)
                        f(xb).sum().backward()
                        grads.append(backend.to_numpy(xb.grad))
                    else:
                        import jax
                        import jax.numpy as jnp

                        grad = jax.grad(lambda xx, f=f: jnp.sum(f(xx)))
                        grad = jax.jit(grad) if backend.jit else grad
                        grads.append(backend.to_numpy(grad(backend.asarray(x, dtype))))
                if backend.jit:
                    rtol = 1e-6 if dtype == "float32" else 1e-14
                    np.testing.assert_allclose(grads[0], grads[1], rtol=rtol, atol=0)
                else:
                    np.testing.assert_array_equal(grads[0], grads[1], strict=True)


def test_jax_vmap(backend: Backend, rng: np.random.Generator) -> None:
    if backend.module != "jax" or backend.jit:
        pytest.skip("jax.vmap on the eager JAX backend")
    import jax

    x = rng.normal(size=(3, 5, C))
    t = rng.integers(0, C, size=(3, 5))
    batched = jax.vmap(lambda xx, tt: arrayloss.cross_entropy(xx, tt, label_smoothing=0.1))(
        backend.asarray(x), backend.asarray(t, "int64")
    )
    # PyTorch, one batch at a time.
    expected = np.array(
        [torch_loss("cross_entropy", x[i], t[i], label_smoothing=0.1) for i in range(3)]
    )
    assert_matches(backend, batched, expected, "float64")


# --- classes ----------------------------------------------------------------------------------


def test_classes_equal_functions(backend: Backend, rng: np.random.Generator) -> None:
    x = rng.normal(size=(5, C))
    t = np.array([0, 3, 2, 1, 3])
    w = rng.uniform(0.5, 2.0, size=C)
    for cls, loss, kw in (
        (arrayloss.NLLLoss, "nll_loss", {}),
        (arrayloss.CrossEntropyLoss, "cross_entropy", {"label_smoothing": 0.2}),
    ):
        module = cls(weight=backend.asarray(w), ignore_index=3, reduction="sum", **kw)
        # PyTorch's function on the same data.
        expected = torch_loss(loss, x, t, weight=w, ignore_index=3, reduction="sum", **kw)
        result = backend.call(module, backend.asarray(x), backend.asarray(t, "int64"))
        assert_matches(backend, result, expected, "float64")


def test_class_repr() -> None:
    assert repr(arrayloss.NLLLoss()) == "NLLLoss(reduction='mean')"
    loss = arrayloss.CrossEntropyLoss(weight=np.ones(3), label_smoothing=0.1, ignore_index=0)
    assert repr(loss) == (
        "CrossEntropyLoss(reduction='mean', weight=<ndarray of shape (3,)>, "
        "ignore_index=0, label_smoothing=0.1)"
    )


def test_probability_target_dtype_promotes_as_torch(
    backend: Backend, rng: np.random.Generator
) -> None:
    if "float32" not in backend.dtypes:
        pytest.skip(f"{backend.name} has no float32")
    x = rounded(rng.normal(size=(3, C)), "float32")
    p = rng.uniform(size=(3, C))
    # PyTorch: log_softmax in float32, the product with the float64 target in float64.
    import torch
    import torch.nn.functional as F

    expected = F.cross_entropy(torch.tensor(x, dtype=torch.float32), torch.tensor(p)).numpy()
    result = backend.call(
        arrayloss.cross_entropy, backend.asarray(x, "float32"), backend.asarray(p, "float64")
    )
    assert backend.dtype_name(result) == "float64"
    np.testing.assert_allclose(backend.to_numpy(result), expected, rtol=1e-6)


# --- empty='zero' (issue 10, part 2; PyTorch lacks it) ----------------------------------------

#: Where 'mean' averages over nothing: (input shape, target, weight). PyTorch gives NaN
#: for each (checked below, so that every case really is one).
EMPTY_CASES = {
    "all ignored": ((3, C), np.full(3, -100), None),
    "empty batch": ((0, C), np.zeros(0, dtype=np.int64), None),
    "weights of kept targets sum to 0": ((3, C), np.array([0, 1, -100]), [0.0, 0.0, 1.0, 2.0]),
    "all ignored (N, C, d1)": ((2, C, 3), np.full((2, 3), -100), [1.0, 2.0, 3.0, 4.0]),
}


@pytest.mark.parametrize("case", list(EMPTY_CASES))
@pytest.mark.parametrize("loss", ["nll_loss", "cross_entropy"])
def test_empty_zero_gives_0_where_torch_gives_nan(
    backend: Backend, rng: np.random.Generator, loss: str, case: str
) -> None:
    shape, t, w = EMPTY_CASES[case]
    x = rng.normal(size=shape)
    kwargs: dict[str, Any] = {} if w is None else {"weight": np.asarray(w)}
    if loss == "cross_entropy":
        kwargs["label_smoothing"] = 0.2
    # PyTorch on the same data: 'mean' is 0 / 0 = NaN.
    assert np.isnan(torch_loss(loss, x, t, **kwargs))
    fn = functools.partial(
        backend.call, getattr(arrayloss, loss), backend.asarray(x), backend.asarray(t, "int64")
    )
    kw = b_kwargs(backend, kwargs)
    assert np.isnan(backend.to_numpy(fn(**kw)))  # the default stays PyTorch's
    # Closed form: the 'mean' of nothing is 0 with empty='zero'.
    assert_matches(backend, fn(**kw, empty="zero"), np.asarray(0.0), "float64")
    for reduction in ("none", "sum"):  # unaffected: PyTorch's values
        expected = torch_loss(loss, x, t, reduction=reduction, **kwargs)
        assert_matches(backend, fn(**kw, reduction=reduction, empty="zero"), expected, "float64")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shapes", SHAPES, ids=lambda s: str(s[0]))
@pytest.mark.parametrize("loss", ["nll_loss", "cross_entropy"])
def test_empty_zero_equals_torch_where_something_counts(
    backend: Backend, rng: np.random.Generator, loss: str, shapes: Any, reduction: str
) -> None:
    x_shape, t_shape = shapes
    x = rng.normal(size=x_shape)
    t = index_target(rng, t_shape, ignore=True)
    if t.ndim == 0:
        t = np.asarray(1)  # an unbatched sample that counts
    kwargs: dict[str, Any] = {"reduction": reduction, "weight": rng.uniform(0.5, 2.0, size=C)}
    if loss == "cross_entropy":
        kwargs["label_smoothing"] = 0.1
    # PyTorch on the same data (its default, as there is something to average).
    expected = torch_loss(loss, x, t, **kwargs)
    result = backend.call(
        getattr(arrayloss, loss),
        backend.asarray(x),
        backend.asarray(t, "int64"),
        **b_kwargs(backend, kwargs),
        empty="zero",
    )
    assert_matches(backend, result, expected, "float64")


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("shape", [(0, C), (0, C, 2), (3, 0)], ids=str)
def test_empty_zero_with_probability_targets(
    backend: Backend, reduction: str, shape: tuple[int, ...]
) -> None:
    # An empty input (no samples, or C = 0 classes): PyTorch's 'mean' is NaN, its 'sum' 0.
    x = np.zeros(shape)
    expected = torch_loss("cross_entropy", x, x, reduction=reduction)
    assert np.isnan(expected) == (reduction == "mean")
    result = backend.call(
        arrayloss.cross_entropy,
        backend.asarray(x),
        backend.asarray(x),
        reduction=reduction,
        empty="zero",
    )
    # Closed form: 0 for both with empty='zero'.
    assert_matches(backend, result, np.asarray(0.0), "float64")


def _grad(backend: Backend, fn: Any, x: np.ndarray) -> np.ndarray:
    """d sum(fn(x)) / dx on an autodiff backend (torch autograd, or jax.grad, jitted on
    the jax-jit backend)."""
    if backend.module == "torch":
        xb = backend.asarray(x).requires_grad_(True)
        fn(xb).sum().backward()
        return backend.to_numpy(xb.grad)  # type: ignore[no-any-return]
    import jax
    import jax.numpy as jnp

    grad = jax.grad(lambda xx: jnp.sum(fn(xx)))
    return backend.to_numpy((jax.jit(grad) if backend.jit else grad)(backend.asarray(x)))  # type: ignore[no-any-return]


@pytest.mark.parametrize("case", ["all ignored", "weights of kept targets sum to 0"])
@pytest.mark.parametrize("loss", ["nll_loss", "cross_entropy"])
def test_empty_zero_has_a_zero_gradient(backend: Backend, loss: str, case: str) -> None:
    if not backend.autodiff:
        pytest.skip(f"{backend.name} records no gradients")
    shape, t, w = EMPTY_CASES[case]
    x = np.random.default_rng(3).normal(size=shape)
    tb = backend.asarray(t, "int64")
    kw = {} if w is None else {"weight": backend.asarray(np.asarray(w))}
    grad = _grad(backend, lambda xx: getattr(arrayloss, loss)(xx, tb, **kw, empty="zero"), x)
    # Closed form: the loss is the constant 0, so is its gradient (not NaN).
    np.testing.assert_array_equal(grad, np.zeros(shape))


# --- ignore_probability_rows (issue 10, part 2; PyTorch lacks it) -----------------------------


def _kept_positions(x: np.ndarray, p: np.ndarray, kept: np.ndarray) -> tuple[Any, Any]:
    """The (M, C) logits and probabilities of the kept positions, classes last."""
    axis = 0 if x.ndim == 1 else 1
    rows = np.moveaxis(x, axis, -1).reshape(-1, x.shape[axis])
    prob = np.moveaxis(p, axis, -1).reshape(-1, x.shape[axis])
    keep = kept.reshape(-1)
    return rows[keep], prob[keep]


def _ignored_rows(
    rng: np.random.Generator, x_shape: tuple[int, ...], ignore_index: float
) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities of ``x_shape`` with about a third of the positions ignored (every
    class ``ignore_index``) and one kept position that holds ``ignore_index`` in one
    class only; and the mask of kept positions."""
    axis = 0 if len(x_shape) == 1 else 1
    p = np.moveaxis(rng.uniform(size=x_shape), axis, -1).copy()  # classes last
    kept = np.ones(p.shape[:-1], dtype=bool)
    if kept.ndim:
        flat, kflat = p.reshape(-1, x_shape[axis]), kept.reshape(-1)
        kflat[::3] = False
        flat[~kflat] = ignore_index
        flat[1, 2] = ignore_index  # not every class: counted as it is
        p, kept = flat.reshape(p.shape), kflat.reshape(kept.shape)
    return np.moveaxis(p, -1, axis), kept


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shapes", SHAPES, ids=lambda s: str(s[0]))
@pytest.mark.parametrize("options", ["plain", "weight_smoothing"])
def test_ignore_probability_rows_equal_torch_on_the_kept_rows(
    backend: Backend, rng: np.random.Generator, reduction: str, shapes: Any, options: str
) -> None:
    x_shape, _ = shapes
    x = rng.normal(size=x_shape) * 3
    p, kept = _ignored_rows(rng, x_shape, -100.0)
    kwargs: dict[str, Any] = {"reduction": reduction}
    if options == "weight_smoothing":
        kwargs["weight"] = rng.uniform(0.5, 2.0, size=C)
        kwargs["label_smoothing"] = 0.2
    # PyTorch on the kept positions alone ((M, C) rows); 'none' is 0 at the ignored ones.
    rows, prob = _kept_positions(x, p, kept)
    expected = torch_loss("cross_entropy", rows, prob, **kwargs)
    if reduction == "none":
        full = np.zeros(kept.shape)
        full[kept] = expected
        expected = full
    result = backend.call(
        arrayloss.cross_entropy,
        backend.asarray(x),
        backend.asarray(p),
        **b_kwargs(backend, kwargs),
        ignore_probability_rows=True,
    )
    assert_matches(backend, result, expected, "float64")


def test_ignore_probability_rows_is_off_by_default(
    backend: Backend, rng: np.random.Generator
) -> None:
    # Without the flag a row of -100s is a target like any other, as in PyTorch (which
    # ignores ignore_index for probabilities): PyTorch on the same data.
    x = rng.normal(size=(6, C))
    p, _ = _ignored_rows(rng, (6, C), -100.0)
    for reduction in REDUCTIONS:
        expected = torch_loss("cross_entropy", x, p, reduction=reduction)
        result = backend.call(
            arrayloss.cross_entropy, backend.asarray(x), backend.asarray(p), reduction=reduction
        )
        assert_matches(backend, result, expected, "float64")


def test_ignore_probability_rows_with_a_non_negative_ignore_index(
    backend: Backend, rng: np.random.Generator
) -> None:
    # With the flag any ignore_index is accepted (PyTorch raises for >= 0 with
    # probabilities): ignore_index=0 leaves out all-zero rows. PyTorch on the kept rows.
    x = rng.normal(size=(6, C))
    p, kept = _ignored_rows(rng, (6, C), 0.0)
    rows, prob = _kept_positions(x, p, kept)
    expected = torch_loss("cross_entropy", rows, prob, label_smoothing=0.3)
    result = backend.call(
        arrayloss.cross_entropy,
        backend.asarray(x),
        backend.asarray(p),
        ignore_index=0,
        label_smoothing=0.3,
        ignore_probability_rows=True,
    )
    assert_matches(backend, result, expected, "float64")


def test_ignore_probability_rows_has_no_effect_on_class_indices(
    backend: Backend, rng: np.random.Generator
) -> None:
    # Class indices honour ignore_index anyway: PyTorch on the same data.
    x = rng.normal(size=(6, C))
    t = np.array([0, -100, 2, 3, -100, 1])
    expected = torch_loss("cross_entropy", x, t, label_smoothing=0.1)
    result = backend.call(
        arrayloss.cross_entropy,
        backend.asarray(x),
        backend.asarray(t, "int64"),
        label_smoothing=0.1,
        ignore_probability_rows=True,
    )
    assert_matches(backend, result, expected, "float64")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(C,), (2, C, 3)], ids=str)
def test_ignore_probability_rows_all_ignored(
    backend: Backend, reduction: str, shape: tuple[int, ...]
) -> None:
    # Closed form: nothing kept, so 'none' is 0 everywhere, 'sum' 0, 'mean' 0 / 0 = NaN
    # (PyTorch's mean of nothing), or 0 with empty='zero'.
    x = np.random.default_rng(5).normal(size=shape)
    p = np.full(shape, -100.0)
    fn = functools.partial(
        backend.call,
        arrayloss.cross_entropy,
        backend.asarray(x),
        backend.asarray(p),
        reduction=reduction,
        weight=backend.asarray(np.arange(1.0, C + 1)),
        ignore_probability_rows=True,
    )
    without_classes = shape[:1] + shape[2:] if len(shape) > 1 else ()
    zero = np.zeros(without_classes) if reduction == "none" else np.asarray(0.0)
    if reduction == "mean":
        assert np.isnan(backend.to_numpy(fn()))
    else:
        assert_matches(backend, fn(), zero, "float64")
    assert_matches(backend, fn(empty="zero"), zero, "float64")


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ignore_probability_rows_gradients(
    backend: Backend, rng: np.random.Generator, reduction: str
) -> None:
    if not backend.autodiff:
        pytest.skip(f"{backend.name} records no gradients")
    x = rng.normal(size=(3, C, 2)) * 2
    p, kept = _ignored_rows(rng, (3, C, 2), -100.0)
    w = rng.uniform(0.5, 2.0, size=C)
    pb, wb = backend.asarray(p), backend.asarray(w)
    kw = {"weight": wb, "label_smoothing": 0.1, "reduction": reduction}
    grad = _grad(
        backend, lambda xx: arrayloss.cross_entropy(xx, pb, **kw, ignore_probability_rows=True), x
    )
    # PyTorch autograd on the kept positions alone; 0 at the ignored ones.
    import torch
    import torch.nn.functional as F

    rows, prob = _kept_positions(x, p, kept)
    rows_t = torch.tensor(rows, requires_grad=True)
    F.cross_entropy(
        rows_t, torch.tensor(prob), weight=torch.tensor(w), label_smoothing=0.1, reduction=reduction
    ).sum().backward()
    assert rows_t.grad is not None
    expected = np.zeros((3, 2, C))  # classes last, as _kept_positions
    expected[kept] = rows_t.grad.numpy()
    np.testing.assert_allclose(grad, np.moveaxis(expected, -1, 1), rtol=1e-10, atol=1e-12)


# --- the new options: errors, classes --------------------------------------------------------


def test_new_options_are_validated(backend: Backend) -> None:
    x = backend.asarray(np.zeros((3, C)))
    t = backend.asarray(np.array([0, 1, 2]), "int64")
    for loss in (arrayloss.nll_loss, arrayloss.cross_entropy):
        with pytest.raises(ValueError, match="`empty` must be one of 'nan', 'zero'; got 'avg'"):
            backend.call(loss, x, t, empty="avg")
    with pytest.raises(TypeError, match="`ignore_probability_rows` must be a bool; got str"):
        backend.call(arrayloss.cross_entropy, x, t, ignore_probability_rows="yes")
    with pytest.raises(ValueError, match="`empty` must be one of"):
        arrayloss.CrossEntropyLoss(empty="none")
    with pytest.raises(ValueError, match="`empty` must be one of"):
        arrayloss.NLLLoss(empty=0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="`ignore_probability_rows` must be a bool"):
        arrayloss.CrossEntropyLoss(ignore_probability_rows=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="positional"):
        arrayloss.cross_entropy(
            np.zeros((3, C)), np.array([0, 1, 2]), None, None, -100, None, "mean", 0.0, "zero"
        )  # type: ignore[misc]


def test_classes_take_the_new_options(backend: Backend, rng: np.random.Generator) -> None:
    x = rng.normal(size=(6, C))
    p, kept = _ignored_rows(rng, (6, C), -100.0)
    module = arrayloss.CrossEntropyLoss(label_smoothing=0.1, ignore_probability_rows=True)
    rows, prob = _kept_positions(x, p, kept)
    # PyTorch on the kept rows.
    expected = torch_loss("cross_entropy", rows, prob, label_smoothing=0.1)
    assert_matches(
        backend, backend.call(module, backend.asarray(x), backend.asarray(p)), expected, "float64"
    )
    t = backend.asarray(np.full(6, -100), "int64")
    for cls in (arrayloss.NLLLoss, arrayloss.CrossEntropyLoss):
        # Closed form: every target ignored, the 'mean' of nothing is 0.
        result = backend.call(cls(empty="zero"), backend.asarray(x), t)
        assert_matches(backend, result, np.asarray(0.0), "float64")


def test_class_repr_shows_the_new_options() -> None:
    assert repr(arrayloss.NLLLoss(empty="zero")) == "NLLLoss(reduction='mean', empty='zero')"
    loss = arrayloss.CrossEntropyLoss(empty="zero", ignore_probability_rows=True)
    assert repr(loss) == (
        "CrossEntropyLoss(reduction='mean', empty='zero', ignore_probability_rows=True)"
    )
    assert repr(arrayloss.CrossEntropyLoss(empty="nan")) == "CrossEntropyLoss(reduction='mean')"
