"""poisson_nll_loss and gaussian_nll_loss on every backend, against PyTorch and closed
forms; their gradients against PyTorch's autograd; the stop_gradient dispatch helper."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest

import arrayloss
from arrayloss._dispatch import namespace_of, stop_gradient
from conformance.backends import Backend
from tests.helpers import REDUCTIONS, assert_matches, rounded, torch_loss
from tests.test_gradients_and_transforms import AUTODIFF

LOG_2PI = math.log(2.0 * math.pi)


def call(backend: Backend, name: str, *arrays: Any, dtype: str = "float64", **kwargs: Any) -> Any:
    """``arrayloss.<name>`` on ``backend``: NumPy arrays converted (integer arrays stay
    integer), other arguments passed as they are.

    Under jax-jit the positional arguments are traced (a Python float among them becomes a
    0-d array) and the keyword options are static: a float ``var`` goes by keyword.
    """

    def convert(a: Any) -> Any:
        if not isinstance(a, np.ndarray):
            return a
        return backend.asarray(a, "int64" if a.dtype.kind in "iu" else dtype)

    kwargs = {k: convert(v) for k, v in kwargs.items()}
    return backend.call(getattr(arrayloss, name), *map(convert, arrays), **kwargs)


def counts(rng: np.random.Generator, shape: tuple[int, ...], mean: float = 2.5) -> np.ndarray:
    # Poisson counts with 0, 1 and 2 present: the Stirling term applies only above 1.
    t = rng.poisson(mean, size=shape).astype(np.float64)
    t.flat[:3] = [0.0, 1.0, 2.0]
    return t


def grads(
    backend: Backend, fn: Any, arrays: list[np.ndarray], argnums: tuple[int, ...]
) -> list[np.ndarray]:
    """d(sum of ``fn(*arrays)``)/d(arrays[i]) for i in argnums, on a torch or JAX backend."""
    if backend.module == "torch":
        tensors = [backend.asarray(a) for a in arrays]
        for i in argnums:
            tensors[i].requires_grad_()
        fn(*tensors).sum().backward()
        return [backend.to_numpy(tensors[i].grad) for i in argnums]
    import jax

    grad = jax.grad(lambda *a: fn(*a).sum(), argnums=argnums)
    if backend.jit:
        grad = jax.jit(grad)
    return [backend.to_numpy(g) for g in grad(*(backend.asarray(a) for a in arrays))]


def torch_grads(fn: Any, arrays: list[np.ndarray], argnums: tuple[int, ...]) -> list[np.ndarray]:
    import torch

    tensors = [torch.tensor(a) for a in arrays]
    for i in argnums:
        tensors[i].requires_grad_()
    fn(*tensors).sum().backward()
    return [tensors[i].grad.numpy() for i in argnums]


# --- poisson_nll_loss --------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("log_input", [True, False], ids=["log_input", "rate"])
@pytest.mark.parametrize("full", [False, True], ids=["plain", "full"])
def test_poisson_matches_torch(
    backend: Backend, rng: np.random.Generator, reduction: str, log_input: bool, full: bool
) -> None:
    shape = (2, 3, 4)
    x = rng.normal(size=shape) if log_input else rng.uniform(0.0, 4.0, size=shape)
    t = counts(rng, shape)
    kwargs = {"log_input": log_input, "full": full, "reduction": reduction}
    expected = torch_loss("poisson_nll_loss", x, t, **kwargs)
    assert_matches(backend, call(backend, "poisson_nll_loss", x, t, **kwargs), expected, "float64")


@pytest.mark.parametrize("shape", [(), (0, 3)], ids=str)
def test_poisson_0d_and_empty_match_torch(backend: Backend, shape: Any) -> None:
    x, t = np.full(shape, 0.5), np.full(shape, 3.0)
    for reduction in REDUCTIONS:
        expected = torch_loss("poisson_nll_loss", x, t, full=True, reduction=reduction)
        result = call(backend, "poisson_nll_loss", x, t, full=True, reduction=reduction)
        assert_matches(backend, result, expected, "float64")


def test_poisson_closed_form(backend: Backend) -> None:
    # Closed form, log-rate x: e^x - y x, plus y log y - y + log(2 pi y) / 2 for y > 1 only.
    x = np.array([0.0, 1.0, -1.0, 0.5])
    y = np.array([0.0, 1.0, 2.0, 5.0])
    plain = np.exp(x) - y * x
    stirling = np.array([0.0, 0.0, 2 * math.log(2) - 2 + 0.5 * math.log(4 * math.pi), 0.0])
    stirling[3] = 5 * math.log(5) - 5 + 0.5 * math.log(10 * math.pi)
    result = call(backend, "poisson_nll_loss", x, y, full=True, reduction="none")
    assert_matches(backend, result, plain + stirling, "float64")
    # Rate x: x - y log(x + eps); a rate of 0 with a count of 0 is 0 - 0 log(eps) = 0.
    rate = np.array([0.0, 1.0, 2.0, 0.5])
    result = call(backend, "poisson_nll_loss", rate, y, log_input=False, eps=0.25, reduction="none")
    assert_matches(backend, result, rate - y * np.log(rate + 0.25), "float64")


def test_poisson_integer_counts_take_input_dtype(
    backend: Backend, rng: np.random.Generator
) -> None:
    # PyTorch promotes a float input with an int64 target to the input's dtype.
    x = rng.normal(size=(4, 3))
    t = rng.poisson(3.0, size=(4, 3)).astype(np.int64)
    for dtype in ("float64", "float32"):
        x_d = rounded(x, dtype)
        expected = torch_loss("poisson_nll_loss", x_d, t, dtype=dtype, reduction="none")
        result = call(backend, "poisson_nll_loss", x_d, t, dtype=dtype, reduction="none")
        assert_matches(backend, result, expected, dtype)


def test_poisson_broadcasts_target_like_torch(backend: Backend, rng: np.random.Generator) -> None:
    x = rng.normal(size=(4, 3))
    for t_shape in ((3,), (4, 1), (2, 4, 3)):
        t = rng.poisson(3.0, size=t_shape).astype(np.float64)
        expected = torch_loss("poisson_nll_loss", x, t, full=True, reduction="none")
        result = call(backend, "poisson_nll_loss", x, t, full=True, reduction="none")
        assert_matches(backend, result, expected, "float64")
    with pytest.raises(ValueError, match=r"`target` of shape \(3, 4\) does not broadcast"):
        call(backend, "poisson_nll_loss", x, np.ones((3, 4)))


def test_poisson_every_dtype_matches_torch_in_that_dtype(
    backend: Backend, rng: np.random.Generator
) -> None:
    for dtype in backend.dtypes:
        x = rounded(rng.normal(size=(6, 5)), dtype)
        t = rounded(counts(rng, (6, 5)), dtype)
        for reduction in REDUCTIONS:
            kwargs = {"full": True, "reduction": reduction}
            expected = torch_loss("poisson_nll_loss", x, t, dtype=dtype, **kwargs)
            result = call(backend, "poisson_nll_loss", x, t, dtype=dtype, **kwargs)
            assert_matches(backend, result, expected, dtype)


def test_poisson_legacy_arguments_and_reductions() -> None:
    x, t = np.zeros(3), np.array([0.0, 1.0, 3.0])
    with pytest.warns(DeprecationWarning, match="use reduction='sum' instead") as record:
        result = arrayloss.poisson_nll_loss(x, t, size_average=False)
    assert record[0].filename == __file__  # the user's line
    assert float(result) == 3.0  # closed form: e^0 - 0 three times
    with pytest.warns(DeprecationWarning, match="use reduction='none' instead"):
        assert arrayloss.poisson_nll_loss(x, t, reduce=False).shape == (3,)
    # PyTorch rejects the old alias in this loss (most losses accept it with a warning).
    for bad in ("avg", "elementwise_mean"):
        with pytest.raises(ValueError, match=f"`reduction` must be one of .*; got '{bad}'"):
            arrayloss.poisson_nll_loss(x, t, reduction=bad)
        with pytest.raises(ValueError, match=f"got '{bad}'"):
            arrayloss.PoissonNLLLoss(reduction=bad)


def test_poisson_rejects_wrong_argument_types() -> None:
    x = np.zeros(3)
    with pytest.raises(TypeError, match="`target` must have a real floating-point or integer"):
        arrayloss.poisson_nll_loss(x, np.ones(3, dtype=bool))
    with pytest.raises(TypeError, match="`input` must have a real floating-point dtype"):
        # An integer input is promoted beside a floating target (as in PyTorch), not
        # beside an integer one.
        arrayloss.poisson_nll_loss(np.zeros(3, dtype=np.int64), np.zeros(3, dtype=np.int64))
    with pytest.raises(TypeError, match="`log_input` must be a bool; got ndarray"):
        arrayloss.poisson_nll_loss(x, x, x)
    with pytest.raises(TypeError, match="`eps` must be a float; got str"):
        arrayloss.poisson_nll_loss(x, x, eps="small")


@pytest.mark.parametrize("log_input", [True, False], ids=["log_input", "rate"])
@pytest.mark.parametrize("full", [False, True], ids=["plain", "full"])
def test_poisson_gradients_equal_torch_autograd(
    rng: np.random.Generator, log_input: bool, full: bool
) -> None:
    pytest.importorskip("torch")
    import torch.nn.functional as F

    x = rng.normal(size=(4, 3)) if log_input else rng.uniform(0.1, 4.0, size=(4, 3))
    t = counts(rng, (4, 3)) + rng.uniform(0.0, 0.5, size=(4, 3))  # above 1 and not
    kwargs = {"log_input": log_input, "full": full}
    expected = torch_grads(lambda a, b: F.poisson_nll_loss(a, b, **kwargs), [x, t], (0, 1))
    for param in AUTODIFF:
        backend = param.values[0]
        if backend.skip_reason():
            continue
        got = grads(
            backend, lambda a, b: arrayloss.poisson_nll_loss(a, b, **kwargs), [x, t], (0, 1)
        )
        for g, e in zip(got, expected, strict=True):
            np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-14)


def test_poisson_full_gradient_is_finite_at_count_0() -> None:
    # PyTorch's gradient with respect to a target of 0 is nan with full=True (0 * log 0
    # behind masked_fill); the masked term is 0, so the closed form is d/dy(e^x - y x) = -x.
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    x = np.array([0.3, -0.7, 1.1])
    y = np.array([0.0, 0.0, 3.0])
    yt = torch.tensor(y, requires_grad=True)
    F.poisson_nll_loss(torch.tensor(x), yt, full=True, reduction="sum").backward()
    assert np.isnan(yt.grad.numpy()[:2]).all()  # PyTorch's nan
    expected = -x
    expected[2] += math.log(3.0) + 0.5 / 3.0  # d/dy (y log y - y + log(2 pi y) / 2)
    for param in AUTODIFF:
        backend = param.values[0]
        if backend.skip_reason():
            continue
        (g,) = grads(
            backend,
            lambda a, b: arrayloss.poisson_nll_loss(a, b, full=True, reduction="sum"),
            [x, y],
            (1,),
        )
        np.testing.assert_allclose(g, expected, rtol=1e-12)


# --- gaussian_nll_loss -------------------------------------------------------------------


def variance_shapes(shape: tuple[int, ...]) -> list[tuple[int, ...] | float]:
    # torch 2.13's rules: the same shape, one dimension fewer, a dimension of 1; a float.
    return [shape, shape[:-1], (*shape[:-1], 1), (shape[0], 1, *shape[2:]), 0.7]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("full", [False, True], ids=["plain", "full"])
def test_gaussian_matches_torch_for_every_var_shape(
    backend: Backend, rng: np.random.Generator, reduction: str, full: bool
) -> None:
    shape = (2, 3, 4)
    x, t = rng.normal(size=shape) * 2, rng.normal(size=shape) * 2
    for v_shape in variance_shapes(shape):
        var = v_shape if isinstance(v_shape, float) else rng.uniform(0.5, 2.0, size=v_shape)
        kwargs = {"full": full, "reduction": reduction}
        expected = torch_loss("gaussian_nll_loss", x, t, var=var, **kwargs)
        result = call(backend, "gaussian_nll_loss", x, t, var=var, **kwargs)
        assert_matches(backend, result, expected, "float64")


def test_gaussian_closed_form(backend: Backend) -> None:
    # Closed form: (log max(v, eps) + (x - y)^2 / max(v, eps)) / 2 [+ log(2 pi) / 2].
    x, y = np.array([0.0, 1.0, 2.0, 0.0]), np.array([1.0, 1.0, 0.0, 1e-4])
    v = np.array([1.0, 4.0, 0.5, 0.0])  # 0 is clamped to eps
    vc = np.maximum(v, 1e-6)
    expected = 0.5 * (np.log(vc) + (x - y) ** 2 / vc + LOG_2PI)
    result = call(backend, "gaussian_nll_loss", x, y, v, full=True, reduction="none")
    assert_matches(backend, result, expected, "float64")
    # A float var, below eps: clamped too; an int var is taken as the float.
    result = call(backend, "gaussian_nll_loss", x, y, var=0.0, eps=0.25, reduction="none")
    assert_matches(backend, result, 0.5 * (math.log(0.25) + (x - y) ** 2 / 0.25), "float64")
    result = call(backend, "gaussian_nll_loss", x, y, var=2, reduction="sum")
    assert_matches(backend, result, np.sum(0.5 * (math.log(2) + (x - y) ** 2 / 2)), "float64")


@pytest.mark.parametrize("shape", [(), (5,), (0, 3)], ids=str)
def test_gaussian_small_shapes_match_torch(
    backend: Backend, rng: np.random.Generator, shape: Any
) -> None:
    x, t = rng.normal(size=shape), rng.normal(size=shape)
    cases: list[Any] = [rng.uniform(0.5, 2.0, size=shape), 1.5]
    if shape:
        cases.append(rng.uniform(0.5, 2.0, size=shape[:-1]))  # (5,) -> (): unsqueezed to (1,)
    for var in cases:
        for reduction in REDUCTIONS:
            expected = torch_loss("gaussian_nll_loss", x, t, var=var, reduction=reduction)
            result = call(backend, "gaussian_nll_loss", x, t, var=var, reduction=reduction)
            assert_matches(backend, result, expected, "float64")


def test_gaussian_target_broadcasts_like_torch(backend: Backend, rng: np.random.Generator) -> None:
    # PyTorch 2.13 does not check target's shape: it broadcasts (and may enlarge the result).
    x = rng.normal(size=(4, 3))
    for t_shape, var in (((3,), rng.uniform(size=(4, 3))), ((2, 4, 3), rng.uniform(size=(4,)))):
        t = rng.normal(size=t_shape)
        expected = torch_loss("gaussian_nll_loss", x, t, var=var, reduction="none")
        result = call(backend, "gaussian_nll_loss", x, t, var, reduction="none")
        assert_matches(backend, result, expected, "float64")


def test_gaussian_every_dtype_matches_torch_in_that_dtype(
    backend: Backend, rng: np.random.Generator
) -> None:
    for dtype in backend.dtypes:
        x = rounded(rng.normal(size=(6, 5)), dtype)
        t = rounded(rng.normal(size=(6, 5)), dtype)
        var = rounded(rng.uniform(0.5, 2.0, size=(6, 1)), dtype)
        for reduction in REDUCTIONS:
            expected = torch_loss(
                "gaussian_nll_loss", x, t, var=var, dtype=dtype, reduction=reduction
            )
            result = call(backend, "gaussian_nll_loss", x, t, var, dtype=dtype, reduction=reduction)
            assert_matches(backend, result, expected, dtype)


@pytest.mark.parametrize("v_shape", [(3,), (1, 1), (), (4, 3, 1), (4, 0)], ids=str)
def test_gaussian_var_of_wrong_size_raises(backend: Backend, v_shape: Any) -> None:
    x = np.zeros((4, 3))
    with pytest.raises(ValueError, match="var is of incorrect size"):  # PyTorch's error
        torch_loss("gaussian_nll_loss", x, x, np.ones(v_shape))
    with pytest.raises(
        ValueError,
        match=(
            r"var is of incorrect size: `var` must have the shape of `input` \(4, 3\), that "
            r"shape without its last dimension \(4,\), or that shape with one dimension of "
            rf"1; got {re_shape(v_shape)}"
        ),
    ):
        call(backend, "gaussian_nll_loss", x, x, np.ones(v_shape))


def re_shape(shape: tuple[int, ...]) -> str:
    return str(shape).replace("(", r"\(").replace(")", r"\)")


def test_gaussian_var_that_passes_the_size_rule_but_not_broadcasting(backend: Backend) -> None:
    # torch 2.13: the rule passes (sizes 0 + 1 where the shapes differ), then the
    # arithmetic raises RuntimeError; ArrayLossValueError is a ValueError and a RuntimeError.
    x = np.zeros((2, 3))
    with pytest.raises(RuntimeError, match="must match the size"):
        torch_loss("gaussian_nll_loss", x, x, np.ones((0, 1)))
    with pytest.raises(RuntimeError, match=r"`var` of shape \(0, 1\) does not broadcast"):
        call(backend, "gaussian_nll_loss", x, x, np.ones((0, 1)))


def test_gaussian_negative_var(backend: Backend) -> None:
    x = np.zeros(3)
    var = np.array([1.0, -0.5, 2.0])
    # A Python float is checked everywhere (no array is read).
    with pytest.raises(ValueError, match=r"var has negative entry/entries: .*; got -1\.0"):
        call(backend, "gaussian_nll_loss", x, x, var=-1.0)
    if backend.jit or backend.lazy:
        # Documented: no value check on traced or lazy arrays; the variance is clamped to eps.
        result = call(backend, "gaussian_nll_loss", x, x, var, reduction="none")
        assert_matches(backend, result, 0.5 * np.log(np.maximum(var, 1e-6)), "float64")
        return
    with pytest.raises(
        ValueError,
        match=r"^var has negative entry/entries: every element of `var` must be >= 0; got -0.5$",
    ):
        call(backend, "gaussian_nll_loss", x, x, var)


def test_gaussian_rejects_wrong_argument_types() -> None:
    x = np.zeros(3)
    with pytest.raises(TypeError, match="`var` must be an array or a float; got bool"):
        arrayloss.gaussian_nll_loss(x, x, True)
    with pytest.raises(TypeError, match="`var` must have a real floating-point dtype"):
        arrayloss.gaussian_nll_loss(x, x, np.ones(3, dtype=np.int64))
    with pytest.raises(TypeError, match="`var` must be an array"):
        arrayloss.gaussian_nll_loss(x, x, [1.0, 1.0, 1.0])
    with pytest.raises(TypeError, match="`full` must be a bool; got int"):
        arrayloss.gaussian_nll_loss(x, x, 1.0, full=1)
    for bad in ("avg", "elementwise_mean"):
        with pytest.raises(ValueError, match=f"`reduction` must be one of .*; got '{bad}'"):
            arrayloss.gaussian_nll_loss(x, x, 1.0, reduction=bad)
        with pytest.raises(ValueError, match=f"got '{bad}'"):
            arrayloss.GaussianNLLLoss(reduction=bad)


def test_gaussian_numpy_float64_var_is_a_float() -> None:
    # As in PyTorch (isinstance(var, float)): np.float64 is a float, for any input shape.
    x, y = np.zeros((4, 3)), np.ones((4, 3))
    result = arrayloss.gaussian_nll_loss(x, y, np.float64(2.0), reduction="none")
    np.testing.assert_allclose(result, np.full((4, 3), 0.5 * (math.log(2.0) + 0.5)), rtol=1e-15)


@pytest.mark.parametrize("v_shape", [(4, 3), (4,), (4, 1), "float"], ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gaussian_gradients_equal_torch_autograd(
    rng: np.random.Generator, v_shape: Any, reduction: str
) -> None:
    # With respect to input and var; some variances below eps (0 included), where
    # PyTorch's clamp is invisible to autograd: d/dvar is the formula's at eps.
    pytest.importorskip("torch")
    import torch.nn.functional as F

    x, t = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    arrays = [x, t]
    argnums: tuple[int, ...] = (0, 1)
    if v_shape != "float":
        var = rng.uniform(0.5, 2.0, size=v_shape)
        var.flat[:2] = [0.0, 3e-7]
        arrays.append(var)
        argnums = (0, 1, 2)
        expected = torch_grads(
            lambda a, b, v: F.gaussian_nll_loss(a, b, v, reduction=reduction), arrays, argnums
        )
        assert np.abs(expected[2]).max() > 1e10  # the clamped elements: -d^2 / (2 eps^2)
    else:
        expected = torch_grads(
            lambda a, b: F.gaussian_nll_loss(a, b, 1e-7, reduction=reduction), arrays, argnums
        )
    for param in AUTODIFF:
        backend = param.values[0]
        if backend.skip_reason():
            continue
        got = grads(
            backend,
            lambda a, b, *v: arrayloss.gaussian_nll_loss(
                a, b, v[0] if v else 1e-7, reduction=reduction
            ),
            arrays,
            argnums,
        )
        for g, e in zip(got, expected, strict=True):
            np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-14)


def test_gaussian_var_gradient_closed_form_below_eps() -> None:
    # d/dv of (log c + d^2 / c) / 2 at c = max(v, eps), passing through the clamp:
    # (1 / c - d^2 / c^2) / 2, for v below eps as above it (PyTorch's documented note).
    torch = pytest.importorskip("torch")
    v = torch.tensor([0.0, 1e-8, 0.25], dtype=torch.float64, requires_grad=True)
    d = np.array([1e-3, 0.0, 1.0])
    x = torch.tensor(d)
    arrayloss.gaussian_nll_loss(
        x, torch.zeros(3, dtype=torch.float64), v, reduction="sum"
    ).backward()
    c = np.array([1e-6, 1e-6, 0.25])
    np.testing.assert_allclose(v.grad.numpy(), 0.5 * (1 / c - d**2 / c**2), rtol=1e-12)


def test_gaussian_jax_vmap_and_grad_compose(rng: np.random.Generator) -> None:
    # Per-example gradients with respect to var: jit(vmap(grad)), against a loop of torch.
    jax = pytest.importorskip("jax")
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    from conformance.backends import backend_by_name

    jnp = backend_by_name("jax").namespace()  # enables x64
    x, t = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    v = rng.uniform(0.0, 2e-6, size=(5, 1))  # below eps, some
    g = jax.jit(jax.vmap(jax.grad(arrayloss.gaussian_nll_loss, argnums=2)))(
        jnp.asarray(x), jnp.asarray(t), jnp.asarray(v)
    )
    for i in range(5):
        vi = torch.tensor(v[i], requires_grad=True)
        F.gaussian_nll_loss(torch.tensor(x[i]), torch.tensor(t[i]), vi).backward()
        np.testing.assert_allclose(np.asarray(g[i]), vi.grad.numpy(), rtol=1e-10)


# --- classes -----------------------------------------------------------------------------


def test_classes_equal_functions(backend: Backend, rng: np.random.Generator) -> None:
    x, t = rng.uniform(0.1, 3.0, size=(4, 3)), counts(rng, (4, 3))
    loss = arrayloss.PoissonNLLLoss(log_input=False, full=True, eps=1e-3, reduction="sum")
    expected = torch_loss(
        "poisson_nll_loss", x, t, log_input=False, full=True, eps=1e-3, reduction="sum"
    )
    assert_matches(
        backend, backend.call(loss, backend.asarray(x), backend.asarray(t)), expected, "float64"
    )
    var = rng.uniform(0.5, 2.0, size=(4, 1))
    loss = arrayloss.GaussianNLLLoss(full=True, eps=0.6, reduction="none")
    expected = torch_loss("gaussian_nll_loss", x, t, var=var, full=True, eps=0.6, reduction="none")
    result = backend.call(loss, backend.asarray(x), backend.asarray(t), backend.asarray(var))
    assert_matches(backend, result, expected, "float64")


def test_class_options_and_repr() -> None:
    with pytest.warns(DeprecationWarning, match="use reduction='none' instead"):
        assert arrayloss.PoissonNLLLoss(reduce=False).reduction == "none"
    assert repr(arrayloss.PoissonNLLLoss()) == "PoissonNLLLoss(reduction='mean')"
    assert (
        repr(arrayloss.PoissonNLLLoss(log_input=False, full=True, eps=0.1))
        == "PoissonNLLLoss(log_input=False, full=True, eps=0.1, reduction='mean')"
    )
    assert (
        repr(arrayloss.GaussianNLLLoss(full=True)) == "GaussianNLLLoss(full=True, reduction='mean')"
    )
    # Keyword-only options, as torch.nn.GaussianNLLLoss: arrays by position fail at once.
    with pytest.raises(TypeError, match="positional argument"):
        arrayloss.GaussianNLLLoss(np.zeros(3), np.zeros(3))  # type: ignore[misc]
    with pytest.raises(TypeError, match=r"GaussianNLLLoss\(\) got an array for `eps`"):
        arrayloss.GaussianNLLLoss(eps=np.ones(3))


# --- the stop_gradient helper ------------------------------------------------------------


def test_stop_gradient_per_backend() -> None:
    torch = pytest.importorskip("torch")
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    a = np.ones(3)
    assert stop_gradient(namespace_of(x=a).xp, a) is a  # no autodiff: the array itself
    t = torch.ones(3, requires_grad=True)
    detached = stop_gradient(namespace_of(x=t).xp, t)
    assert not detached.requires_grad
    assert torch.equal(detached, t.detach())

    def f(x: Any) -> Any:
        return jnp.sum(x * stop_gradient(namespace_of(x=x).xp, x))

    # d/dx of x * const(x) at x = 3 is const = 3 (it would be 6 without the stop).
    assert float(jax.grad(f)(jnp.asarray(3.0))) == 3.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert float(jax.jit(jax.grad(f))(jnp.asarray(3.0))) == 3.0
