"""``sample_weight=``, a weight or mask per element of the 'none' output, on every loss
(issue 10 part 2): 'none' gives ``w * loss`` (exactly 0 where ``w`` is 0), 'sum'
``sum(w * loss)``, 'mean' the weighted mean composed with each loss's own normalizer.

The data are conformance cases (``conformance.cases`` for PyTorch's losses,
``conformance.beyond`` for the others): one per loss, non-empty, with a finite 'none'
output of at least three samples. Expected values: PyTorch's own function on the
selected (or repeated) samples where PyTorch has the loss; elsewhere the closed form
over the unweighted 'none' values (``sum(w l) / sum(w)``).
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

import numpy as np
import pytest

import arrayloss
from conformance.backends import Backend, backend_by_name
from conformance.beyond import BEYOND
from conformance.cases import LOSSES, Case, LossInfo
from tests.helpers import loss_functions

ALL_LOSSES = sorted(loss_functions())
#: The loss whose reduction is 'mean' and 'sum' only (there is no 'none' output; the
#: weight is per element of the squared error).
NO_NONE = {"rmse"}
#: Losses whose 'none' output couples samples (ntxent: a pair matrix normalized over
#: every embedding): a sample's NaN reaches the others, so (d) leaves them out.
COUPLED = {"ntxent"}


def _info(loss: str) -> LossInfo:
    return LOSSES[loss] if loss in LOSSES else BEYOND[loss]


def _split(loss: str, arrays: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    names = _info(loss).positional
    return [arrays[n] for n in names if n in arrays], {
        k: v for k, v in arrays.items() if k not in names
    }


def _call(loss: str, arrays: dict[str, Any], options: dict[str, Any], **kw: Any) -> Any:
    positional, keywords = _split(loss, arrays)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # kl_div's 'mean' warning, broadcast targets
        return getattr(arrayloss, loss)(*positional, **keywords, **options, **kw)


@functools.cache
def _case(loss: str) -> tuple[Case, int]:
    """The first usable case of ``loss`` and its batch size N (the 'none' output's
    leading dimension; rmse: the squared error's); one with a ``weight`` if any, so
    that the weighted mean is composed with the class weights' normalizer."""
    cases = list(_info(loss).generate())
    cases.sort(key=lambda c: "weight" not in c.kwargs and "weight" not in c.args)
    for case in cases:
        if case.value_check or (case.dtypes and "float64" not in case.dtypes):
            continue
        if {"size_average", "reduce"} & set(case.kwargs):
            continue
        if case.kwargs.get("reduction") == "batchmean" and loss != "kl_div":
            continue
        arrays = case.arrays()
        if any(a.size == 0 for a in arrays.values()):
            continue
        options = _options(case)
        if loss in NO_NONE:
            shape = np.broadcast_shapes(*(a.shape for a in arrays.values()))
            if len(shape) >= 1 and shape[0] >= 3:
                return case, shape[0]
            continue
        none = np.asarray(_call(loss, arrays, {**options, "reduction": "none"}))
        if none.ndim >= 1 and none.shape[0] >= 3 and np.all(np.isfinite(none)):
            return case, none.shape[0]
    raise AssertionError(f"no usable case for {loss}")  # pragma: no cover


def _options(case: Case) -> dict[str, Any]:
    return {k: v for k, v in case.kwargs.items() if k != "reduction"}


def _reductions(loss: str) -> tuple[str, ...]:
    if loss in NO_NONE:
        return ("mean", "sum")
    if loss in {"kl_div", "generalized_kl_divergence", "convex_kl_divergence"}:
        return ("none", "mean", "sum", "batchmean")
    return ("none", "mean", "sum")


def _none_shape(loss: str) -> tuple[int, ...]:
    case, _ = _case(loss)
    arrays = case.arrays()
    if loss in NO_NONE:
        return tuple(np.broadcast_shapes(*(a.shape for a in arrays.values())))
    return tuple(np.asarray(_call(loss, arrays, {**_options(case), "reduction": "none"})).shape)


def _per_sample(w: np.ndarray, loss: str) -> np.ndarray:
    """``w`` of shape (N,) as (N, 1, ..., 1): one weight per sample of the 'none' output."""
    return np.reshape(w, (w.shape[0],) + (1,) * (len(_none_shape(loss)) - 1))


def _to(backend: Backend, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    return {
        k: backend.asarray(v, "int64" if v.dtype.kind in "iu" else "float64")
        for k, v in arrays.items()
    }


def _run(backend: Backend, loss: str, arrays: dict[str, Any], options: dict[str, Any]) -> Any:
    positional, keywords = _split(loss, arrays)
    fn = getattr(arrayloss, loss)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        out = backend.call(fn, *positional, **keywords, **options)
    return backend.to_numpy(out).astype(np.float64)


def _mask(n: int) -> np.ndarray:
    m = np.zeros(n, dtype=bool)
    m[::2] = True
    m[1] = True  # samples 0, 1, 2, 4, ...: a mix
    return m


# --- (a) weights of 1 change nothing -------------------------------------------------------


@pytest.mark.parametrize("loss", ALL_LOSSES)
def test_weights_of_one_equal_no_weight(backend: Backend, loss: str) -> None:
    case, _ = _case(loss)
    arrays = case.arrays()
    ones = np.ones(_none_shape(loss))
    for reduction in _reductions(loss):
        options = {**_options(case), "reduction": reduction}
        plain = _run(backend, loss, _to(backend, arrays), options)
        weighted = _run(
            backend,
            loss,
            _to(backend, arrays),
            {**options, "sample_weight": backend.asarray(ones, "float64")},
        )
        np.testing.assert_allclose(weighted, plain, rtol=1e-12, atol=1e-12, err_msg=reduction)


# --- (b) a bool mask is the loss of the selected samples -----------------------------------


#: Losses whose ``weight`` is one per class (never sliced by sample).
CLASS_WEIGHTED = {"cross_entropy", "nll_loss", "multi_margin_loss", "multilabel_soft_margin_loss"}


def _subset(loss: str, arrays: dict[str, Any], index: Any, n: int) -> dict[str, Any]:
    """The arrays of the samples ``index`` (taken along each array's batch axis)."""
    out = {}
    for name, a in arrays.items():
        if loss == "ctc_loss" and name == "log_probs":
            out[name] = a[:, index]
        elif name == "pos_weight" or (name == "weight" and loss in CLASS_WEIGHTED):
            out[name] = a  # a weight per class
        elif a.ndim >= 1 and a.shape[0] == n:
            out[name] = a[index]
        else:
            out[name] = a
    return out


def _expected_subset(
    loss: str, case: Case, index: np.ndarray, n: int, reduction: str
) -> np.ndarray | None:
    """PyTorch's own value on the samples ``index`` (repeats allowed), or None where
    PyTorch lacks the loss."""
    if loss not in LOSSES:
        return None
    import torch
    import torch.nn.functional as F

    arrays = _subset(loss, case.arrays(), index, n)
    positional, keywords = _split(loss, arrays)

    def t(a: Any) -> Any:
        if not isinstance(a, np.ndarray):
            return a
        return torch.tensor(a) if a.dtype.kind in "iu" else torch.tensor(a, dtype=torch.float64)

    options = {**_options(case), "reduction": reduction}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = getattr(F, loss)(
            *(t(a) for a in positional), **{k: t(v) for k, v in keywords.items()}, **options
        )
    return np.asarray(out.double().numpy())


def _closed_form(loss: str, case: Case, w: np.ndarray, reduction: str) -> np.ndarray:
    """``sum(w l)`` or ``sum(w l) / sum(w)`` over the unweighted 'none' values (per
    sample ``w``), for the losses PyTorch lacks; batchmean times elements per sample."""
    none = np.asarray(
        _call(loss, case.arrays(), {**_options(case), "reduction": "none"}), dtype=np.float64
    )
    wb = np.broadcast_to(_per_sample(w, loss), none.shape)
    if loss == "ntxent":
        # 'mean' over the positive pairs: the count is the weighted positive pairs.
        labels = case.arrays()["labels"]
        positive = (labels[:, None] == labels[None, :]) & ~np.eye(len(labels), dtype=bool)
        count = np.sum(wb * positive)
    else:
        count = np.sum(wb)
    total = np.sum(wb * none)
    if reduction == "none":
        return wb * none
    if reduction == "sum":
        return np.asarray(total)
    if reduction == "batchmean":
        return np.asarray(total / count * (none.size / none.shape[0]))
    return np.asarray(total / count)


@pytest.mark.parametrize("loss", sorted(set(ALL_LOSSES) - NO_NONE))
def test_bool_mask_is_the_loss_of_the_selected_samples(backend: Backend, loss: str) -> None:
    case, n = _case(loss)
    mask = _mask(n)
    arrays = _to(backend, case.arrays())
    for reduction in _reductions(loss):
        if reduction == "none":
            continue
        got = _run(
            backend,
            loss,
            arrays,
            {
                **_options(case),
                "reduction": reduction,
                "sample_weight": backend.asarray(_per_sample(mask, loss), "bool"),
            },
        )
        expected = _expected_subset(loss, case, np.flatnonzero(mask), n, reduction)
        if expected is None:
            expected = _closed_form(loss, case, mask.astype(np.float64), reduction)
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12, err_msg=reduction)


@pytest.mark.parametrize("loss", sorted(set(ALL_LOSSES) - NO_NONE))
def test_none_is_zero_exactly_where_masked(backend: Backend, loss: str) -> None:
    case, n = _case(loss)
    mask = _mask(n)
    options = {**_options(case), "reduction": "none"}
    plain = _run(backend, loss, _to(backend, case.arrays()), options)
    sw = backend.asarray(_per_sample(mask, loss), "bool")
    got = _run(backend, loss, _to(backend, case.arrays()), {**options, "sample_weight": sw})
    keep = np.broadcast_to(_per_sample(mask, loss), plain.shape)
    np.testing.assert_array_equal(got[~keep], 0.0)
    # Elsewhere within rounding, not to the bit: without a sample_weight a loss may take
    # a plain-call lane to PyTorch's kernel (triplet_margin_loss's, say), whose sums can
    # round apart from the composed form that a sample_weight computes.
    eps = float(np.finfo(np.asarray(plain).dtype).eps)
    np.testing.assert_allclose(got, np.where(keep, plain, 0.0), rtol=8 * eps, atol=0)


# --- (c) integer weights repeat samples ----------------------------------------------------


@pytest.mark.parametrize("loss", sorted(set(ALL_LOSSES) - NO_NONE))
def test_integer_weights_equal_repeated_samples(backend: Backend, loss: str) -> None:
    case, n = _case(loss)
    counts = np.arange(n) % 3  # 0, 1, 2, 0, ...
    index = np.repeat(np.arange(n), counts)
    for reduction in ("mean", "sum"):
        got = _run(
            backend,
            loss,
            _to(backend, case.arrays()),
            {
                **_options(case),
                "reduction": reduction,
                "sample_weight": backend.asarray(_per_sample(counts, loss), "float64"),
            },
        )
        expected = _expected_subset(loss, case, index, n, reduction)
        if expected is None:
            expected = _closed_form(loss, case, counts.astype(np.float64), reduction)
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12, err_msg=reduction)


def test_rmse_is_the_root_of_the_weighted_mean(backend: Backend) -> None:
    # Closed form: sqrt(sum(w d^2) / sum(w)), sqrt(sum(w d^2)).
    x = np.array([1.0, 2.0, 3.0, -1.0])
    y = np.array([0.0, 2.0, 1.0, 1.0])
    w = np.array([1.0, 3.0, 0.0, 2.0])
    d2 = (x - y) ** 2
    for reduction, expected in (
        ("mean", np.sqrt(np.sum(w * d2) / np.sum(w))),
        ("sum", np.sqrt(np.sum(w * d2))),
    ):
        got = backend.to_numpy(
            backend.call(
                arrayloss.rmse,
                backend.asarray(x, "float64"),
                backend.asarray(y, "float64"),
                reduction=reduction,
                sample_weight=backend.asarray(w, "float64"),
            )
        )
        np.testing.assert_allclose(got, expected, rtol=1e-13)


# --- empty= and an all-zero weight ---------------------------------------------------------


def test_weights_summing_to_zero_follow_empty(backend: Backend) -> None:
    x = backend.asarray(np.array([[1.0, 2.0], [0.5, -1.0]]), "float64")
    t = backend.asarray(np.array([0, 1]), "int64")
    zero = backend.asarray(np.zeros(2, dtype=bool), "bool")
    nan = backend.call(arrayloss.cross_entropy, x, t, sample_weight=zero)
    assert np.isnan(backend.to_numpy(nan))  # 0 / 0, as PyTorch's empty mean
    got = backend.call(arrayloss.cross_entropy, x, t, sample_weight=zero, empty="zero")
    assert backend.to_numpy(got) == 0.0
    y = backend.asarray(np.zeros((2, 2)), "float64")
    assert np.isnan(backend.to_numpy(backend.call(arrayloss.mse_loss, x, y, sample_weight=zero)))


# --- (d) masked-out NaN and inf ------------------------------------------------------------


def _poisoned(loss: str, case: Case, mask: np.ndarray, value: float) -> dict[str, np.ndarray]:
    arrays = dict(case.arrays())
    first = _info(loss).positional[0]
    a = arrays[first].copy()
    if loss == "ctc_loss":
        a[:, ~mask] = value
    else:
        a[~mask] = value
    arrays[first] = a
    return arrays


@pytest.mark.parametrize("value", [np.nan, np.inf])
@pytest.mark.parametrize("loss", sorted(set(ALL_LOSSES) - NO_NONE - COUPLED))
def test_masked_nan_and_inf_inputs_give_a_finite_loss(loss: str, value: float) -> None:
    np_backend = backend_by_name("numpy")
    case, n = _case(loss)
    mask = _mask(n)
    arrays = _poisoned(loss, case, mask, value)
    sw = _per_sample(mask, loss)
    for reduction in ("none", "mean", "sum"):
        got = _run(
            np_backend,
            loss,
            _to(np_backend, arrays),
            {**_options(case), "reduction": reduction, "sample_weight": sw},
        )
        assert np.all(np.isfinite(got)), reduction
    # 'mean' equals the mean over the clean samples.
    clean = _run(
        np_backend,
        loss,
        _to(np_backend, case.arrays()),
        {**_options(case), "reduction": "mean", "sample_weight": sw},
    )
    got = _run(
        np_backend,
        loss,
        _to(np_backend, arrays),
        {**_options(case), "reduction": "mean", "sample_weight": sw},
    )
    np.testing.assert_allclose(got, clean, rtol=1e-12)


@pytest.mark.parametrize("value", [np.nan, np.inf])
@pytest.mark.parametrize("loss", sorted(set(ALL_LOSSES) - NO_NONE - COUPLED))
def test_masked_nan_and_inf_inputs_give_zero_gradients(loss: str, value: float) -> None:
    torch = pytest.importorskip("torch")
    case, n = _case(loss)
    mask = _mask(n)
    arrays = _poisoned(loss, case, mask, value)
    first = _info(loss).positional[0]
    tensors = {
        k: torch.tensor(v) if v.dtype.kind in "iu" else torch.tensor(v, dtype=torch.float64)
        for k, v in arrays.items()
    }
    tensors[first].requires_grad_(True)
    sw = torch.tensor(_per_sample(mask, loss))
    out = _call(loss, tensors, {**_options(case), "reduction": "mean"}, sample_weight=sw)
    out.backward()
    grad = tensors[first].grad.numpy()
    if loss == "ctc_loss":
        grad = np.moveaxis(grad, 1, 0)  # (T, N, C): the batch axis first
    assert np.isfinite(out.item())
    assert np.all(np.isfinite(grad))
    assert np.all(grad[~mask] == 0.0)


# --- (e) errors ----------------------------------------------------------------------------


@pytest.mark.parametrize("loss", ALL_LOSSES)
def test_wrong_shape_names_sample_weight_and_both_shapes(loss: str) -> None:
    case, _ = _case(loss)
    shape = _none_shape(loss)
    bad = np.ones((*shape[:-1], shape[-1] + 1) if shape else (2,))
    with pytest.raises(ValueError, match=r"`sample_weight` must broadcast to .*got shape"):
        _call(loss, case.arrays(), {**_options(case), "reduction": "sum"}, sample_weight=bad)


def test_wrong_type_dtype_and_library_are_named() -> None:
    x, y = np.zeros(3), np.ones(3)
    with pytest.raises(TypeError, match=r"`sample_weight` must be an array .*; got list"):
        arrayloss.mse_loss(x, y, sample_weight=[1.0, 1.0, 1.0])
    with pytest.raises(TypeError, match="`sample_weight` must have a bool, integer or real"):
        arrayloss.mse_loss(x, y, sample_weight=np.ones(3, dtype=complex))
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match="sample_weight"):
        arrayloss.mse_loss(torch.zeros(3), torch.ones(3), sample_weight=np.ones(3))


def test_message_states_the_expected_and_the_got_shape() -> None:
    x = np.zeros((4, 3))
    with pytest.raises(ValueError, match=r"output, \(4,\); got shape \(3,\)"):
        arrayloss.cross_entropy(x, np.zeros(4, dtype=np.int64), sample_weight=np.ones(3))


# --- (f) gradients -------------------------------------------------------------------------


#: PyTorch's ctc_loss backward is not the derivative of its forward (the conformance
#: suite maps it, ``LossInfo.exact_grad``); ctc_loss's gradient is checked against
#: jax.grad below.
@pytest.mark.parametrize("loss", sorted(set(LOSSES) - {"ctc_loss"}))
def test_torch_gradient_equals_pytorchs_on_the_selected_samples(loss: str) -> None:
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    case, n = _case(loss)
    mask = _mask(n)
    first = _info(loss).positional[0]
    arrays = case.arrays()
    if arrays[first].dtype.kind in "iu":  # pragma: no cover - every first is floating
        pytest.skip("no gradient")

    def tensors(a: dict[str, np.ndarray]) -> dict[str, Any]:
        out = {
            k: torch.tensor(v) if v.dtype.kind in "iu" else torch.tensor(v, dtype=torch.float64)
            for k, v in a.items()
        }
        out[first].requires_grad_(True)
        return out

    options = {**_options(case), "reduction": "mean"}
    if loss == "kl_div":
        options["reduction"] = "batchmean"
    ours = tensors(arrays)
    _call(loss, ours, options, sample_weight=torch.tensor(_per_sample(mask, loss))).backward()
    theirs = tensors(arrays)
    index = np.flatnonzero(mask)
    # PyTorch's function on the selected samples, differentiated through the slice.
    positional, keywords = _split(loss, _subset(loss, theirs, torch.tensor(index), n))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        getattr(F, loss)(*positional, **keywords, **options).backward()
    np.testing.assert_allclose(
        ours[first].grad.numpy(), theirs[first].grad.numpy(), rtol=1e-9, atol=1e-12
    )


@pytest.mark.parametrize("loss", ALL_LOSSES)
def test_jax_grad_equals_torch_autograd(loss: str) -> None:
    torch = pytest.importorskip("torch")
    jax_backend = backend_by_name("jax")
    if not jax_backend.available:  # pragma: no cover
        pytest.skip("jax is not installed")
    jax_backend.namespace()  # 64-bit JAX
    import jax

    case, n = _case(loss)
    w = 0.5 + np.arange(n) % 3  # 0.5, 1.5, 2.5, ...
    first = _info(loss).positional[0]
    arrays = case.arrays()
    options = {**_options(case), "reduction": "mean"}

    t = {
        k: torch.tensor(v) if v.dtype.kind in "iu" else torch.tensor(v, dtype=torch.float64)
        for k, v in arrays.items()
    }
    t[first].requires_grad_(True)
    tw = torch.tensor(_per_sample(w, loss), requires_grad=True)
    _call(loss, t, options, sample_weight=tw).backward()

    j = _to(jax_backend, arrays)

    def f(x: Any, sw: Any) -> Any:
        return _call(loss, {**j, first: x}, options, sample_weight=sw)

    gx, gw = jax.grad(f, argnums=(0, 1))(j[first], jax_backend.asarray(_per_sample(w, loss)))
    np.testing.assert_allclose(np.asarray(gx), t[first].grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(np.asarray(gw), tw.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_gradient_with_respect_to_the_weight_is_the_closed_form() -> None:
    # d/dw_n [sum(w l) / sum(w)] = (l_n - mean) / sum(w), with l = (x - y)^2.
    torch = pytest.importorskip("torch")
    x = torch.tensor([1.0, 2.0, -1.0, 0.5], dtype=torch.float64)
    y = torch.zeros(4, dtype=torch.float64)
    w = torch.tensor([1.0, 2.0, 0.5, 3.0], dtype=torch.float64, requires_grad=True)
    out = arrayloss.mse_loss(x, y, sample_weight=w)
    out.backward()
    elementwise = (x - y) ** 2
    wd = w.detach()
    mean = (wd * elementwise).sum() / wd.sum()
    np.testing.assert_allclose(w.grad.numpy(), ((elementwise - mean) / wd.sum()).numpy())


# --- fast paths, jax_auto_jit, Dask --------------------------------------------------------


def test_torch_native_kernels_are_bypassed_with_a_sample_weight(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    torch = pytest.importorskip("torch")
    calls: list[str] = []
    for name in (
        "cross_entropy",
        "nll_loss",
        "binary_cross_entropy_with_logits",
        "l1_loss",
        "mse_loss",
        "huber_loss",
        "smooth_l1_loss",
    ):
        real = getattr(torch.nn.functional, name)

        def spy(*args: Any, _name: str = name, _real: Any = real, **kwargs: Any) -> Any:
            calls.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(torch.nn.functional, name, spy)
    # These losses call F's ATen binding directly (_dispatch._TORCH_ATEN_BINDING): spy
    # on the bindings too, built again with the spies, each logged by its loss's name.
    from arrayloss import _dispatch

    for module, binding, name in (
        (torch._C._nn, "cross_entropy_loss", "cross_entropy"),
        (torch._C._nn, "nll_loss_nd", "nll_loss"),
        (torch._C._nn, "l1_loss", "l1_loss"),
        (torch._C._nn, "mse_loss", "mse_loss"),
        (torch._C._nn, "huber_loss", "huber_loss"),
        (torch._C._nn, "smooth_l1_loss", "smooth_l1_loss"),
        (torch, "binary_cross_entropy_with_logits", "binary_cross_entropy_with_logits"),
    ):
        real = getattr(module, binding)

        def binding_spy(*args: Any, _name: str = name, _real: Any = real) -> Any:
            calls.append(_name)
            return _real(*args)

        monkeypatch.setattr(module, binding, binding_spy)
    monkeypatch.setattr(_dispatch, "_torch_aten_kernels", {})
    x = torch.randn(4, 3, dtype=torch.float64)
    t = torch.tensor([0, 2, 1, 0])
    y = torch.randn(4, 3, dtype=torch.float64)
    sw = torch.tensor([True, False, True, True])
    arrayloss.cross_entropy(x, t)
    arrayloss.mse_loss(x, y)
    arrayloss.binary_cross_entropy_with_logits(x, y)
    # The spies work: without a sample weight, native.
    assert calls == ["cross_entropy", "mse_loss", "binary_cross_entropy_with_logits"]
    calls.clear()
    arrayloss.cross_entropy(x, t, sample_weight=sw)
    arrayloss.nll_loss(x, t, sample_weight=sw)
    arrayloss.binary_cross_entropy_with_logits(x, y, sample_weight=sw[:, None])
    for name in ("l1_loss", "mse_loss", "huber_loss", "smooth_l1_loss"):
        getattr(arrayloss, name)(x, y, sample_weight=sw[:, None])
    assert calls == []


def test_jax_cached_kernel_takes_the_weight_as_a_traced_argument() -> None:
    jax_backend = backend_by_name("jax")
    if not jax_backend.available:  # pragma: no cover
        pytest.skip("jax is not installed")
    jnp = jax_backend.namespace()
    import jax

    from arrayloss import _dispatch

    x = jnp.asarray([[1.0, 2.0, 0.5], [0.1, -1.0, 2.0]])
    t = jnp.asarray([0, 2])
    w = jnp.asarray([2.0, 0.0])
    eager = arrayloss.cross_entropy(x, t, sample_weight=w)
    # A cached kernel keyed on cross_entropy with a sample_weight array argument.
    assert any(
        key[0].__name__ == "cross_entropy" and "sample_weight" in key[2]
        for key in _dispatch._jit_cache
    )
    # PyTorch on the selected sample (weight 0 drops the second).
    expected = float(jax.nn.logsumexp(x[0]) - x[0, 0])
    np.testing.assert_allclose(float(eager), expected, rtol=1e-12)
    # Another weight value reuses the kernel and gives its own result.
    other = arrayloss.cross_entropy(x, t, sample_weight=jnp.asarray([0.0, 1.0]))
    np.testing.assert_allclose(float(other), float(jax.nn.logsumexp(x[1]) - x[1, 2]))
    jitted = jax.jit(lambda a, b: arrayloss.cross_entropy(a, t, sample_weight=b))(x, w)
    np.testing.assert_allclose(float(jitted), expected, rtol=1e-12)
    g = jax.grad(lambda a: arrayloss.cross_entropy(a, t, sample_weight=w))(x)
    assert np.all(np.asarray(g)[1] == 0.0)
    # vmap over a batch of weights: one weighted mean per row of weights.
    ws = jnp.asarray([[2.0, 0.0], [0.0, 1.0]])
    batched = jax.vmap(lambda b: arrayloss.cross_entropy(x, t, sample_weight=b))(ws)
    np.testing.assert_allclose(np.asarray(batched), [float(eager), float(other)], rtol=1e-12)


def test_dask_stays_lazy_with_a_sample_weight() -> None:
    dask_backend = backend_by_name("dask")
    if not dask_backend.available:  # pragma: no cover
        pytest.skip("dask is not installed")
    x = dask_backend.asarray(np.array([[1.0, 2.0], [0.5, -1.0], [0.0, 3.0]]), "float64")
    t = dask_backend.asarray(np.array([0, 1, 1]), "int64")
    w = dask_backend.asarray(np.array([1.0, 0.0, 2.0]), "float64")
    out = dask_backend.call(arrayloss.cross_entropy, x, t, sample_weight=w)
    assert type(out).__module__.startswith("dask")


# --- classes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls_name", "fn_name"),
    [
        ("CrossEntropyLoss", "cross_entropy"),
        ("SoftMarginLoss", "soft_margin_loss"),
        ("DiceLoss", "dice_loss"),
    ],
)
def test_classes_take_sample_weight_at_call(backend: Backend, cls_name: str, fn_name: str) -> None:
    case, n = _case(fn_name)
    arrays = _to(backend, case.arrays())
    sw = backend.asarray(_per_sample(_mask(n), fn_name), "bool")
    options = _options(case)
    positional, keywords = _split(fn_name, arrays)
    instance = getattr(arrayloss, cls_name)(**keywords, **options)
    got = backend.call(instance, *positional, sample_weight=sw)
    expected = _run(backend, fn_name, arrays, {**options, "sample_weight": sw})
    np.testing.assert_allclose(backend.to_numpy(got), expected, rtol=1e-12)
