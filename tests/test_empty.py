"""``empty=``, on every loss: what 'mean' over nothing gives (an empty batch, every
element ignored, sample weights summing to 0): NaN by default, as PyTorch (0 / 0), or
exactly 0 with ``empty='zero'``, with a gradient of 0, not NaN.

The data are those of tests/test_sample_weight.py (a conformance case per loss); the
empty input is that case with none of its samples. Expected values: PyTorch's own
function on the empty input where PyTorch has the loss.
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any

import numpy as np
import pytest

import arrayloss
from conformance.backends import Backend, backend_by_name
from conformance.cases import LOSSES
from tests.test_sample_weight import (
    ALL_LOSSES,
    NO_NONE,
    _call,
    _case,
    _expected_subset,
    _info,
    _none_shape,
    _options,
    _reductions,
    _run,
    _subset,
    _to,
)

#: ctc_loss rejects an empty batch (``log_probs`` must not be empty, as PyTorch): only
#: its weights can sum to 0.
NO_EMPTY_INPUT = {"ctc_loss"}
#: PyTorch 2.13's 'mean' of an empty batch is an uninitialized value here (its kernels
#: return ``at::empty``'s memory); arrayloss gives NaN, 0 / 0, as PyTorch's other losses.
TORCH_UNINITIALIZED = {"multi_margin_loss", "multilabel_margin_loss"}
#: The losses whose 'mean' may be the keyword's 'batchmean' too.
BATCHMEAN = {"kl_div", "generalized_kl_divergence", "convex_kl_divergence"}


def _empty(loss: str) -> dict[str, np.ndarray]:
    case, n = _case(loss)
    return _subset(loss, case.arrays(), np.arange(0), n)


def _means(loss: str) -> list[str]:
    return ["mean", "batchmean"] if loss in BATCHMEAN else ["mean"]


def _zero_weight(loss: str) -> np.ndarray:
    return np.zeros(_none_shape(loss))


# --- the signature -------------------------------------------------------------------------


@pytest.mark.parametrize("loss", ALL_LOSSES)
def test_every_loss_takes_empty_before_sample_weight(loss: str) -> None:
    params = inspect.signature(getattr(arrayloss, loss)).parameters
    names = list(params)
    # Keyword-only, after PyTorch's parameters, before sample_weight (always last).
    assert names[-1] == "sample_weight"
    assert names.index("empty") < len(names) - 1
    p = params["empty"]
    assert (p.kind, p.default) == (inspect.Parameter.KEYWORD_ONLY, "nan")


# --- (a) an empty input --------------------------------------------------------------------


@pytest.mark.parametrize("loss", sorted(set(ALL_LOSSES) - NO_EMPTY_INPUT))
def test_empty_input_mean_is_nan_by_default_and_zero_on_request(
    backend: Backend, loss: str
) -> None:
    case, _ = _case(loss)
    arrays = _to(backend, _empty(loss))
    for reduction in _means(loss):
        options = {**_options(case), "reduction": reduction}
        default = _run(backend, loss, arrays, options)
        zero = _run(backend, loss, arrays, {**options, "empty": "zero"})
        assert np.isnan(default), reduction
        assert zero == 0.0, reduction
        assert not np.signbit(zero), reduction


@pytest.mark.parametrize("loss", sorted(set(LOSSES) - NO_EMPTY_INPUT - TORCH_UNINITIALIZED))
def test_empty_input_default_is_pytorchs(loss: str) -> None:
    pytest.importorskip("torch")
    case, n = _case(loss)
    expected = _expected_subset(loss, case, np.arange(0), n, "mean")
    assert expected is not None
    assert np.isnan(expected)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = np.asarray(_call(loss, _empty(loss), {**_options(case), "reduction": "mean"}))
    np.testing.assert_array_equal(ours, expected)


# --- (b) sample weights summing to 0 -------------------------------------------------------


@pytest.mark.parametrize("loss", ALL_LOSSES)
def test_zero_sample_weight_mean_is_nan_by_default_and_zero_on_request(
    backend: Backend, loss: str
) -> None:
    case, _ = _case(loss)
    arrays = _to(backend, case.arrays())
    w = backend.asarray(_zero_weight(loss), "float64")
    for reduction in _means(loss):
        options = {**_options(case), "reduction": reduction, "sample_weight": w}
        assert np.isnan(_run(backend, loss, arrays, options)), reduction
        assert _run(backend, loss, arrays, {**options, "empty": "zero"}) == 0.0, reduction


def _first_float(loss: str, arrays: dict[str, np.ndarray]) -> str:
    return next(n for n in _info(loss).positional if arrays[n].dtype.kind == "f")


@pytest.mark.parametrize("empty_input", [False, True], ids=["zero-weights", "empty-input"])
@pytest.mark.parametrize("loss", ALL_LOSSES)
def test_torch_gradient_of_an_empty_mean_is_zero(loss: str, empty_input: bool) -> None:
    torch = pytest.importorskip("torch")
    if empty_input and loss in NO_EMPTY_INPUT:
        pytest.skip("no empty input")
    case, _ = _case(loss)
    arrays = _empty(loss) if empty_input else case.arrays()
    first = _first_float(loss, arrays)
    tensors = {
        k: torch.tensor(v) if v.dtype.kind in "iu" else torch.tensor(v, dtype=torch.float64)
        for k, v in arrays.items()
    }
    tensors[first].requires_grad_(True)
    kw: dict[str, Any] = {"empty": "zero"}
    if not empty_input:
        kw["sample_weight"] = torch.zeros(_none_shape(loss), dtype=torch.float64)
    for reduction in _means(loss):
        tensors[first].grad = None
        out = _call(loss, tensors, {**_options(case), "reduction": reduction}, **kw)
        assert out.item() == 0.0
        out.backward()
        grad = tensors[first].grad
        assert grad is not None
        np.testing.assert_array_equal(grad.numpy(), np.zeros(tuple(grad.shape)))


@pytest.mark.parametrize("empty_input", [False, True], ids=["zero-weights", "empty-input"])
@pytest.mark.parametrize("loss", ALL_LOSSES)
def test_jax_gradient_of_an_empty_mean_is_zero(loss: str, empty_input: bool) -> None:
    jax_backend = backend_by_name("jax")
    if not jax_backend.available:  # pragma: no cover
        pytest.skip("jax is not installed")
    if empty_input and loss in NO_EMPTY_INPUT:
        pytest.skip("no empty input")
    jax_backend.namespace()  # 64-bit JAX
    import jax

    case, _ = _case(loss)
    arrays = _empty(loss) if empty_input else case.arrays()
    first = _first_float(loss, arrays)
    j = _to(jax_backend, arrays)
    kw: dict[str, Any] = {"empty": "zero"}
    if not empty_input:
        kw["sample_weight"] = jax_backend.asarray(_zero_weight(loss), "float64")
    for reduction in _means(loss):
        options = {**_options(case), "reduction": reduction}

        def f(x: Any, options: dict[str, Any] = options) -> Any:
            return _call(loss, {**j, first: x}, options, **kw)

        value, grad = jax.value_and_grad(f)(j[first])
        assert float(value) == 0.0
        np.testing.assert_array_equal(np.asarray(grad), np.zeros(grad.shape))


# --- (c) a non-empty input: 'zero' changes nothing -----------------------------------------


@pytest.mark.parametrize("loss", ALL_LOSSES)
def test_zero_changes_nothing_on_a_non_empty_input(backend: Backend, loss: str) -> None:
    case, _ = _case(loss)
    arrays = _to(backend, case.arrays())
    for reduction in _reductions(loss):
        options = {**_options(case), "reduction": reduction}
        plain = _run(backend, loss, arrays, options)
        zero = _run(backend, loss, arrays, {**options, "empty": "zero"})
        # Within rounding, not to the bit: with its defaults a loss may take a plain-call
        # lane to PyTorch's kernel (_dispatch.plain_torch_embedding_kernel, say), whose
        # sums can round apart from the composed form that 'zero' computes.
        eps = float(np.finfo(np.asarray(plain).dtype).eps)
        np.testing.assert_allclose(zero, plain, rtol=8 * eps, atol=0, err_msg=reduction)


# --- (d) errors and the classes ------------------------------------------------------------


@pytest.mark.parametrize("loss", ALL_LOSSES)
def test_bad_value_raises(loss: str) -> None:
    case, _ = _case(loss)
    with pytest.raises(ValueError, match="`empty` must be one of 'nan', 'zero'; got 'none'"):
        _call(loss, case.arrays(), {**_options(case), "reduction": "sum"}, empty="none")


def _classes() -> list[str]:
    return sorted(
        name
        for name in arrayloss.__all__
        if inspect.isclass(getattr(arrayloss, name))
        and "empty" in inspect.signature(getattr(arrayloss, name).__init__).parameters
    )


@pytest.mark.parametrize("name", _classes())
def test_class_takes_empty_validates_it_and_shows_it_when_set(name: str) -> None:
    cls = getattr(arrayloss, name)
    default = cls()
    assert default.empty == "nan"
    assert "empty=" not in repr(default)
    zero = cls(empty="zero")
    assert zero.empty == "zero"
    assert repr(zero).endswith("empty='zero')")
    with pytest.raises(ValueError, match="`empty` must be one of 'nan', 'zero'; got 'x'"):
        cls(empty="x")


def test_every_class_takes_empty() -> None:
    from arrayloss._modules import _Loss

    classes = [
        n
        for n in arrayloss.__all__
        if inspect.isclass(getattr(arrayloss, n)) and issubclass(getattr(arrayloss, n), _Loss)
    ]
    assert sorted(classes) == _classes()


def test_class_passes_empty_to_its_function() -> None:
    x = np.zeros((0, 3))
    assert np.isnan(arrayloss.MSELoss()(x, x))
    assert float(arrayloss.MSELoss(empty="zero")(x, x)) == 0.0
    assert float(arrayloss.Hinge(empty="zero")(x, x)) == 0.0
    assert float(arrayloss.KLDivLoss(reduction="batchmean", empty="zero")(x, x)) == 0.0
    w = np.zeros(3)
    y = np.ones(3)
    assert float(arrayloss.RMSELoss(empty="zero")(y, y * 2, sample_weight=w)) == 0.0


def test_rmse_of_an_empty_mean_is_zero_with_a_zero_gradient() -> None:
    torch = pytest.importorskip("torch")
    x = torch.ones(4, dtype=torch.float64, requires_grad=True)
    out = arrayloss.rmse(
        x, torch.zeros(4, dtype=torch.float64), sample_weight=torch.zeros(4), empty="zero"
    )
    out.backward()
    assert out.item() == 0.0
    assert x.grad is not None
    assert torch.equal(x.grad, torch.zeros(4, dtype=torch.float64))


@pytest.mark.parametrize("loss", sorted(set(ALL_LOSSES) - NO_NONE))
def test_none_and_sum_of_an_empty_input_are_unchanged(loss: str) -> None:
    if loss in NO_EMPTY_INPUT:
        pytest.skip("no empty input")
    case, _ = _case(loss)
    for reduction in ("none", "sum"):
        options = {**_options(case), "reduction": reduction}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            plain = np.asarray(_call(loss, _empty(loss), options))
            zero = np.asarray(_call(loss, _empty(loss), {**options, "empty": "zero"}))
        np.testing.assert_array_equal(zero, plain)
