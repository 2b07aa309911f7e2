"""The options of binary_cross_entropy(_with_logits) that PyTorch lacks (issue 10, part 2):
``label_smoothing``, ``ignore_index``, ``empty`` and, for logits, ``inf_logits``, on
every backend.

Expected values come from PyTorch applied to transformed inputs (smoothed targets, the
subset of elements not ignored) or from closed-form limits; each carries its provenance.
PyTorch's own results at infinite logits and on empty means are checked too, as the
documented contrast.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import arrayloss
from conformance.backends import Backend
from tests.helpers import REDUCTIONS, assert_matches, torch_loss

LOSSES = ["binary_cross_entropy", "binary_cross_entropy_with_logits"]
BCE, LOGITS = LOSSES


def make_case(loss: str, rng: np.random.Generator, shape: tuple[int, ...] = (4, 5)) -> Any:
    x = rng.uniform(0.02, 0.98, size=shape) if loss == BCE else rng.normal(size=shape) * 3
    return x, rng.uniform(size=shape)


def call(backend: Backend, loss: str, x: Any, t: Any, **kwargs: Any) -> Any:
    arrays = {k: backend.asarray(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    return backend.call(getattr(arrayloss, loss), backend.asarray(x), backend.asarray(t), **arrays)


def weights(loss: str, rng: np.random.Generator, options: str, n: int) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    if options in ("weight", "both"):
        kwargs["weight"] = rng.uniform(0.5, 2.0, size=(n,))
    if options in ("pos_weight", "both") and loss == LOGITS:
        kwargs["pos_weight"] = rng.uniform(0.5, 3.0, size=(n,))
    return kwargs


def gradients(
    backend: Backend, loss: str, x: np.ndarray, t: np.ndarray, **kwargs: Any
) -> tuple[np.ndarray, np.ndarray]:
    """d(sum of the loss)/d(input) and /d(target) on an autodiff backend."""
    fn = getattr(arrayloss, loss)
    arrays = {k: backend.asarray(v) for k, v in kwargs.items() if isinstance(v, np.ndarray)}
    options = {k: v for k, v in kwargs.items() if not isinstance(v, np.ndarray)}
    if backend.module == "torch":
        xt = backend.asarray(x).requires_grad_()
        tt = backend.asarray(t).requires_grad_()
        fn(xt, tt, **arrays, **options).sum().backward()
        return backend.to_numpy(xt.grad), backend.to_numpy(tt.grad)
    import jax

    def total(a: Any, b: Any) -> Any:
        return fn(a, b, **arrays, **options).sum()

    grad = jax.grad(total, argnums=(0, 1))
    if backend.jit:
        grad = jax.jit(grad)
    gx, gt = grad(backend.asarray(x), backend.asarray(t))
    return backend.to_numpy(gx), backend.to_numpy(gt)


def torch_gradient(loss: str, x: np.ndarray, t: np.ndarray, **kwargs: Any) -> np.ndarray:
    """PyTorch's d(sum of the loss)/d(input), float64."""
    import torch
    import torch.nn.functional as F

    xt = torch.tensor(x, requires_grad=True)
    kw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    getattr(F, loss)(xt, torch.tensor(t), **kw).sum().backward()
    return xt.grad.numpy()  # type: ignore[no-any-return]


def need_autodiff(backend: Backend) -> None:
    if not backend.autodiff:
        pytest.skip(f"{backend.name} records no gradients")


# --- label_smoothing ------------------------------------------------------------------------


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", ["plain", "weight", "pos_weight", "both"])
@pytest.mark.parametrize("eps", [0.1, 1.0])
def test_label_smoothing_is_torch_on_smoothed_targets(
    backend: Backend, rng: np.random.Generator, loss: str, reduction: str, options: str, eps: float
) -> None:
    x, t = make_case(loss, rng)
    t[0, :3] = [0.0, 1.0, 1.0]
    kwargs = weights(loss, rng, options, 5)
    # PyTorch on the targets smoothed as Keras's binary losses do: t (1 - eps) + eps / 2.
    expected = torch_loss(loss, x, t * (1 - eps) + eps / 2, reduction=reduction, **kwargs)
    result = call(backend, loss, x, t, reduction=reduction, label_smoothing=eps, **kwargs)
    assert_matches(backend, result, expected, "float64")
    # ... which is not PyTorch's loss on the targets as given.
    plain = torch_loss(loss, x, t, reduction=reduction, **kwargs)
    assert not np.allclose(backend.to_numpy(result), plain)


@pytest.mark.parametrize("loss", LOSSES)
def test_label_smoothing_closed_form(backend: Backend, loss: str) -> None:
    # eps = 1: every target is 1/2, so at p = 1/2 (logit 0) each element loses log 2.
    x = np.full(4, 0.5 if loss == BCE else 0.0)
    t = np.array([0.0, 1.0, 1.0, 0.0])
    result = call(backend, loss, x, t, label_smoothing=1.0, reduction="none")
    assert_matches(backend, result, np.full(4, np.log(2.0)), "float64")


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize(
    ("eps", "error", "match"),
    [
        (-0.1, ValueError, r"`label_smoothing` must lie between 0.0 and 1.0; got -0.1"),
        (1.5, ValueError, r"`label_smoothing` must lie between 0.0 and 1.0; got 1.5"),
        ("0.1", TypeError, r"`label_smoothing` must be a float; got str"),
    ],
)
def test_label_smoothing_out_of_range_raises(
    backend: Backend, loss: str, eps: Any, error: type[Exception], match: str
) -> None:
    x = np.full(3, 0.5)
    with pytest.raises(error, match=match):
        call(backend, loss, x, x, label_smoothing=eps)


# --- inf_logits -----------------------------------------------------------------------------

INF = np.inf
# (logit, target, pos_weight, weight) -> the limit of w [(1 - t) softplus(x) + p t softplus(-x)]
# (closed form: softplus(+inf) = inf, softplus(-inf) = 0, and a term with coefficient 0 is 0).
LIMITS = [
    (INF, 0.0, 1.0, 1.0, INF),
    (INF, 1.0, 1.0, 1.0, 0.0),
    (-INF, 0.0, 1.0, 1.0, 0.0),
    (-INF, 1.0, 1.0, 1.0, INF),
    (INF, 0.5, 1.0, 1.0, INF),
    (-INF, 0.5, 1.0, 1.0, INF),
    (-INF, 1.0, 3.0, 1.0, INF),
    (INF, 1.0, 3.0, 2.0, 0.0),
    (-INF, 0.0, 3.0, 2.0, 0.0),
    (INF, 0.0, 1.0, 0.0, 0.0),  # a weight of 0: the limit of 0 * f(x) is 0
]


def test_torch_gives_nan_at_infinite_logits() -> None:
    # The contrast this option exists for: PyTorch 2.13's values at these same elements.
    x, t, pw, w, _ = (np.array(c) for c in zip(*LIMITS, strict=True))
    torch_values = torch_loss(LOGITS, x, t, pos_weight=pw, weight=w, reduction="none")
    assert np.isnan(torch_values[[1, 2, 3, 5, 6, 7, 8, 9]]).all()
    assert np.isinf(torch_values[[0, 4]]).all()


@pytest.mark.parametrize("inf_logits", ["nan", "limit"])
def test_inf_logits_values(backend: Backend, inf_logits: str) -> None:
    x, t, pw, w, limit = (np.array(c) for c in zip(*LIMITS, strict=True))
    result = backend.to_numpy(
        call(
            backend,
            LOGITS,
            x,
            t,
            pos_weight=pw,
            weight=w,
            reduction="none",
            inf_logits=inf_logits,
        )
    )
    if inf_logits == "nan":  # the default: PyTorch's values, NaN included
        expected = torch_loss(LOGITS, x, t, pos_weight=pw, weight=w, reduction="none")
        np.testing.assert_array_equal(result, expected)
    else:
        np.testing.assert_array_equal(result, limit)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", ["plain", "weight", "pos_weight", "both"])
def test_inf_logits_limit_equals_torch_on_finite_logits(
    backend: Backend, rng: np.random.Generator, reduction: str, options: str
) -> None:
    x, t = make_case(LOGITS, rng)
    x[0, :4] = [0.0, 1e4, -1e4, 40.0]
    kwargs = weights(LOGITS, rng, options, 5)
    expected = torch_loss(LOGITS, x, t, reduction=reduction, **kwargs)
    result = call(backend, LOGITS, x, t, reduction=reduction, inf_logits="limit", **kwargs)
    assert_matches(backend, result, expected, "float64")


def test_inf_logits_limit_gradients_are_finite(backend: Backend, rng: np.random.Generator) -> None:
    need_autodiff(backend)
    x = np.array([INF, INF, -INF, -INF, INF, -INF, 0.0, 2.5, -1.5])
    t = np.array([0.0, 1.0, 0.0, 1.0, 0.3, 0.3, 1.0, 0.2, 0.7])
    pw = rng.uniform(0.5, 3.0, size=9)
    w = rng.uniform(0.5, 2.0, size=9)
    gx, gt = gradients(
        backend, LOGITS, x, t, pos_weight=pw, weight=w, reduction="sum", inf_logits="limit"
    )
    # Closed form: d/dx w [(1 - t) softplus(x) + p t softplus(-x)]
    #   = w [(1 - t) sigmoid(x) - p t sigmoid(-x)]: w (1 - t) at +inf, -w p t at -inf.
    with np.errstate(over="ignore"):
        sig = 1.0 / (1.0 + np.exp(-x))
    expected = w * ((1 - t) * sig - pw * t * (1 - sig))
    np.testing.assert_allclose(gx, expected, rtol=1e-12, atol=1e-15)
    # Finite logits: PyTorch's own gradient.
    finite = np.isfinite(x)
    torch_gx = torch_gradient(
        LOGITS, x[finite], t[finite], pos_weight=pw[finite], weight=w[finite], reduction="sum"
    )
    np.testing.assert_allclose(gx[finite], torch_gx, rtol=1e-12)
    # d/dt: never NaN; 0 where the term that would be 0 * inf vanishes.
    assert not np.isnan(gt).any()
    assert gt[1] == 0.0
    assert gt[2] == 0.0


def test_inf_logits_unknown_raises(backend: Backend) -> None:
    x = np.zeros(3)
    with pytest.raises(ValueError, match=r"`inf_logits` must be one of 'nan', 'limit'; got 'clip'"):
        call(backend, LOGITS, x, x, inf_logits="clip")


# --- ignore_index ---------------------------------------------------------------------------


def ignored_case(
    loss: str, rng: np.random.Generator, ignore_index: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inputs and targets with about a third of the targets ``ignore_index``; the inputs
    there are garbage (NaN, inf, or a probability outside [0, 1])."""
    x, t = make_case(loss, rng)
    t[0, :3] = [0.0, 1.0, 1.0]
    keep = rng.random(t.shape) > 0.35
    keep[0, :3] = True
    keep[1, 0] = False
    t[~keep] = ignore_index
    garbage = [np.nan, 5.0, -3.0] if loss == BCE else [np.nan, np.inf, -np.inf]
    x[~keep] = np.resize(garbage, int((~keep).sum()))
    return x, t, keep


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", ["plain", "weight", "pos_weight", "both"])
@pytest.mark.parametrize("ignore_index", [-1, -100])
def test_ignore_index_is_torch_on_the_kept_elements(
    backend: Backend,
    rng: np.random.Generator,
    loss: str,
    reduction: str,
    options: str,
    ignore_index: int,
) -> None:
    x, t, keep = ignored_case(loss, rng, ignore_index)
    kwargs = weights(loss, rng, options, 5)
    # PyTorch on the kept elements only (weights broadcast to the full shape first).
    subset = {k: np.broadcast_to(v, x.shape)[keep] for k, v in kwargs.items()}
    kept = torch_loss(loss, x[keep], t[keep], reduction=reduction, **subset)
    if reduction == "none":
        expected = np.zeros(x.shape)
        expected[keep] = kept
    else:
        expected = kept
    result = call(backend, loss, x, t, reduction=reduction, ignore_index=ignore_index, **kwargs)
    assert_matches(backend, result, expected, "float64")
    if reduction == "none":  # +0.0 at the ignored elements, not -0.0
        assert not np.signbit(backend.to_numpy(result)[~keep]).any()


@pytest.mark.parametrize("loss", LOSSES)
def test_ignore_index_with_label_smoothing(
    backend: Backend, rng: np.random.Generator, loss: str
) -> None:
    # The ignored elements are found on the targets as given, then the rest smoothed:
    # PyTorch on the kept elements' smoothed targets.
    x, t, keep = ignored_case(loss, rng, -1)
    expected = torch_loss(loss, x[keep], t[keep] * 0.8 + 0.1)
    result = call(backend, loss, x, t, ignore_index=-1, label_smoothing=0.2)
    assert_matches(backend, result, expected, "float64")


@pytest.mark.parametrize("loss", LOSSES)
def test_ignore_index_gradients(backend: Backend, rng: np.random.Generator, loss: str) -> None:
    need_autodiff(backend)
    x, t, keep = ignored_case(loss, rng, -1)
    gx, gt = gradients(backend, loss, x, t, ignore_index=-1, reduction="mean")
    # 0 at the ignored elements, whatever their input (NaN, inf, 5.0) ...
    assert not np.isnan(gx).any()
    assert not np.isnan(gt).any()
    np.testing.assert_array_equal(gx[~keep], 0.0)
    np.testing.assert_array_equal(gt[~keep], 0.0)
    # ... and PyTorch's gradient of its mean over the kept elements elsewhere.
    np.testing.assert_allclose(gx[keep], torch_gradient(loss, x[keep], t[keep]), rtol=1e-10)


def test_bce_kept_elements_are_still_checked(backend: Backend) -> None:
    # Ignored elements are not checked (their target is the sentinel, their input may be
    # padding); the kept ones are, on eager backends, and the message names only them.
    p = np.array([0.5, 7.0, 1.5])
    t = np.array([1.0, -1.0, 0.0])
    ok = call(backend, BCE, p[:2], t[:2], ignore_index=-1, reduction="sum")
    assert_matches(backend, ok, np.array(np.log(2.0)), "float64")
    if backend.jit or backend.lazy:
        # Documented: no value checks on traced or lazy arrays; the formula's NaN.
        out = backend.to_numpy(call(backend, BCE, p, t, ignore_index=-1, reduction="none"))
        assert np.isnan(out[2])
        return
    with pytest.raises(
        ValueError,
        match=r"all elements of `input` must lie between 0 and 1; got values from "
        r"0.5 to 1.5",
    ):
        call(backend, BCE, p, t, ignore_index=-1)
    with pytest.raises(ValueError, match=r"all elements of `target` must lie between 0 and 1"):
        call(backend, BCE, p[:1], np.array([-1.0]), ignore_index=-2)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("bad", [True, 1.0, "-1"])
def test_ignore_index_must_be_an_int(backend: Backend, loss: str, bad: Any) -> None:
    x = np.full(3, 0.5)
    with pytest.raises(TypeError, match=r"`ignore_index` must be an int; got"):
        call(backend, loss, x, x, ignore_index=bad)


# --- empty ----------------------------------------------------------------------------------


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("empty", ["nan", "zero"])
def test_empty_mean(backend: Backend, loss: str, empty: str) -> None:
    nothing = np.zeros((0, 3))
    all_ignored = (np.full((2, 3), 0.5), np.full((2, 3), -1.0))
    # PyTorch: the mean of no element is NaN (0 / 0); 'zero' makes it 0.
    assert np.isnan(torch_loss(loss, nothing, nothing))
    want = np.array(np.nan if empty == "nan" else 0.0)
    result = call(backend, loss, nothing, nothing, empty=empty)
    np.testing.assert_array_equal(backend.to_numpy(result), want)
    result = call(backend, loss, *all_ignored, ignore_index=-1, empty=empty)
    np.testing.assert_array_equal(backend.to_numpy(result), want)
    assert backend.dtype_name(result) == "float64"
    # 'sum' and 'none' are unchanged by `empty`: 0 and zeros.
    total = call(backend, loss, *all_ignored, ignore_index=-1, empty=empty, reduction="sum")
    assert_matches(backend, total, np.array(0.0), "float64")


@pytest.mark.parametrize("loss", LOSSES)
def test_empty_zero_gradient_is_zero(backend: Backend, loss: str) -> None:
    need_autodiff(backend)
    x, t = np.full((2, 3), 0.5), np.full((2, 3), -1.0)
    gx, gt = gradients(backend, loss, x, t, ignore_index=-1, empty="zero")
    np.testing.assert_array_equal(gx, 0.0)
    np.testing.assert_array_equal(gt, 0.0)


@pytest.mark.parametrize("loss", LOSSES)
def test_empty_zero_changes_nothing_else(
    backend: Backend, rng: np.random.Generator, loss: str
) -> None:
    x, t = make_case(loss, rng)
    expected = torch_loss(loss, x, t)
    assert_matches(backend, call(backend, loss, x, t, empty="zero"), expected, "float64")


@pytest.mark.parametrize("loss", LOSSES)
def test_empty_unknown_raises(backend: Backend, loss: str) -> None:
    x = np.full(3, 0.5)
    with pytest.raises(ValueError, match=r"`empty` must be one of 'nan', 'zero'; got 'none'"):
        call(backend, loss, x, x, empty="none")


# --- other dtypes ---------------------------------------------------------------------------


@pytest.mark.parametrize("loss", LOSSES)
def test_options_in_every_dtype(backend: Backend, rng: np.random.Generator, loss: str) -> None:
    # PyTorch in the same dtype on the kept elements' smoothed targets.
    from tests.helpers import rounded

    for dtype in backend.dtypes:
        x, t, keep = ignored_case(loss, rng, -1)
        x = rounded(np.where(keep, x, 0.5), dtype)
        t = rounded(t, dtype)
        smoothed = rounded(t[keep] * 0.9 + 0.05, dtype)
        expected = torch_loss(loss, x[keep], smoothed, dtype=dtype, reduction="sum")
        result = backend.call(
            getattr(arrayloss, loss),
            backend.asarray(x, dtype),
            backend.asarray(t, dtype),
            reduction="sum",
            ignore_index=-1,
            label_smoothing=0.1,
        )
        assert backend.dtype_name(result) == dtype
        actual = float(backend.to_numpy(result))
        # Smoothing rounds differently in half precision: a loose check there.
        rtol = {"float64": 1e-12, "float32": 1e-5}.get(dtype, 2e-2)
        np.testing.assert_allclose(actual, expected, rtol=rtol)


# --- classes --------------------------------------------------------------------------------


@pytest.mark.parametrize(("cls", "loss"), [("BCELoss", BCE), ("BCEWithLogitsLoss", LOGITS)])
def test_classes_pass_the_options(
    backend: Backend, rng: np.random.Generator, cls: str, loss: str
) -> None:
    x, t, keep = ignored_case(loss, rng, -1)
    options: dict[str, Any] = {"label_smoothing": 0.2, "ignore_index": -1, "empty": "zero"}
    if loss == LOGITS:
        options["inf_logits"] = "limit"
    loss_fn = getattr(arrayloss, cls)(reduction="sum", **options)
    expected = torch_loss(loss, x[keep], t[keep] * 0.8 + 0.1, reduction="sum")
    result = backend.call(loss_fn, backend.asarray(x), backend.asarray(t))
    assert_matches(backend, result, expected, "float64")


def test_class_repr_and_validation() -> None:
    loss_fn = arrayloss.BCEWithLogitsLoss(
        pos_weight=np.ones(3), label_smoothing=0.1, ignore_index=-1, inf_logits="limit"
    )
    assert repr(loss_fn) == (
        "BCEWithLogitsLoss(reduction='mean', pos_weight=<ndarray of shape (3,)>, "
        "label_smoothing=0.1, ignore_index=-1, inf_logits='limit')"
    )
    assert repr(arrayloss.BCELoss(empty="zero")) == "BCELoss(reduction='mean', empty='zero')"
    with pytest.raises(ValueError, match=r"`label_smoothing` must lie between 0\.0 and 1\.0"):
        arrayloss.BCELoss(label_smoothing=2.0)
    with pytest.raises(ValueError, match="`empty` must be one of 'nan', 'zero'; got 'Zero'"):
        arrayloss.BCELoss(empty="Zero")
    with pytest.raises(ValueError, match="`inf_logits` must be one of 'nan', 'limit'"):
        arrayloss.BCEWithLogitsLoss(inf_logits=True)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="`ignore_index` must be an int; got float"):
        arrayloss.BCEWithLogitsLoss(ignore_index=-1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="positional"):
        arrayloss.BCELoss(None, None, None, "mean", 0.1)  # type: ignore[misc]


# --- the torch native kernel ----------------------------------------------------------------

NEW_OPTIONS = [
    {"label_smoothing": 0.1},
    {"ignore_index": -1},
    {"inf_logits": "limit"},
    {"empty": "zero"},
]


@pytest.mark.parametrize("options", [{}, *NEW_OPTIONS], ids=lambda o: ",".join(o) or "none")
def test_torch_native_kernel_only_without_the_new_options(
    monkeypatch: pytest.MonkeyPatch, options: dict[str, Any]
) -> None:
    # ATen's binary_cross_entropy_with_logits knows none of these options: with any of
    # them the generic definition must run. A spy on the kernel tells which ran.
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    from arrayloss import _dispatch

    calls = []
    native = F.binary_cross_entropy_with_logits
    # arrayloss calls the ATen binding under F's function directly
    # (_dispatch._TORCH_ATEN_BINDING), so the spy sits on the binding, and the kernel
    # that holds it is built again.
    binding = torch.binary_cross_entropy_with_logits

    def spy(*args: Any) -> Any:
        calls.append(1)
        return binding(*args)

    monkeypatch.setattr(torch, "binary_cross_entropy_with_logits", spy)
    monkeypatch.setattr(_dispatch, "_torch_aten_kernels", {})
    x = torch.tensor([[0.3, -2.0, float("inf")], [1.0, 0.5, -1.0]], dtype=torch.float64)
    t = torch.tensor([[1.0, 0.0, 1.0], [-1.0, 1.0, 0.0]], dtype=torch.float64)
    result = arrayloss.binary_cross_entropy_with_logits(x, t, reduction="none", **options)
    assert len(calls) == (0 if options else 1)
    plain = native(x, t, reduction="none")
    # Where an option matters, the result is not ATen's.
    if "label_smoothing" in options or "ignore_index" in options or "inf_logits" in options:
        assert not torch.equal(result.isnan(), plain.isnan()) or not torch.allclose(
            result.nan_to_num(), plain.nan_to_num()
        )


# --- program transforms ---------------------------------------------------------------------

ALL_OPTIONS: dict[str, dict[str, Any]] = {
    BCE: {"label_smoothing": 0.1, "ignore_index": -1, "empty": "zero"},
    LOGITS: {"label_smoothing": 0.1, "ignore_index": -1, "inf_logits": "limit", "empty": "zero"},
}


@pytest.mark.filterwarnings("ignore::UserWarning")  # Dynamo's notes on lru_cache wrappers
@pytest.mark.parametrize("loss", LOSSES)
def test_options_under_torch_compile_fullgraph(rng: np.random.Generator, loss: str) -> None:
    # One graph (fullgraph=True: a graph break is an error), values and gradients equal
    # to the eager call's; the ignored inputs are garbage there too.
    torch = pytest.importorskip("torch")
    x, t, _ = ignored_case(loss, rng, -1)
    if loss == LOGITS:
        x[0, 1] = np.inf  # a kept infinite logit: smoothed target 0.95, so the loss is
        # +inf ('limit'), its gradient 0.05 (finite)
    options = ALL_OPTIONS[loss]

    def fn(a: Any, b: Any) -> Any:
        return getattr(arrayloss, loss)(a, b, **options)

    torch._dynamo.reset()
    try:
        results = []
        for f in (fn, torch.compile(fn, fullgraph=True, backend="aot_eager")):
            xt = torch.tensor(x, requires_grad=True)
            out = f(xt, torch.tensor(t))
            out.backward()
            results.append((out.detach().numpy(), xt.grad.numpy()))
    finally:
        torch._dynamo.reset()
    (eager, eager_grad), (got, got_grad) = results
    assert np.isfinite(eager) == (loss == BCE)
    np.testing.assert_allclose(got, eager, rtol=1e-12)
    np.testing.assert_allclose(got_grad, eager_grad, rtol=1e-12)
    assert np.isfinite(eager_grad).all()


@pytest.mark.parametrize("loss", LOSSES)
def test_options_under_jax_vmap(rng: np.random.Generator, loss: str) -> None:
    # Per-row losses under jit(vmap(...)) equal the eager call on each row; a row with
    # every target ignored gives 0 ('zero'), not NaN.
    jnp = pytest.importorskip("conformance.backends").backend_by_name("jax").namespace()
    import jax

    x, t, _ = ignored_case(loss, rng, -1)
    t[2] = -1.0
    options = ALL_OPTIONS[loss]

    def fn(a: Any, b: Any) -> Any:
        return getattr(arrayloss, loss)(a, b, **options)

    rows = jax.jit(jax.vmap(fn))(jnp.asarray(x), jnp.asarray(t))
    expected = [float(fn(jnp.asarray(x[i]), jnp.asarray(t[i]))) for i in range(len(x))]
    np.testing.assert_allclose(np.asarray(rows), expected, rtol=1e-12)
    assert float(rows[2]) == 0.0


@pytest.mark.parametrize("loss", LOSSES)
def test_options_run_as_one_jax_auto_jit_kernel(rng: np.random.Generator, loss: str) -> None:
    # Eager JAX calls run as a cached jitted kernel per set of options (static keys); no
    # option may need a concrete value while traced (that would fall back to eager).
    from arrayloss import _dispatch

    jnp = pytest.importorskip("conformance.backends").backend_by_name("jax").namespace()
    x, t, keep = ignored_case(loss, rng, -1)
    fn = getattr(arrayloss, loss)
    _dispatch._jit_cache.clear()
    _dispatch._not_jittable.clear()
    try:
        result = fn(jnp.asarray(x), jnp.asarray(t), **ALL_OPTIONS[loss])
        assert not _dispatch._not_jittable
        assert [key[0] for key in _dispatch._jit_cache] == [fn.__wrapped__]
        expected = torch_loss(loss, x[keep], t[keep] * 0.9 + 0.05)
        np.testing.assert_allclose(np.asarray(result), expected, rtol=1e-12)
    finally:
        _dispatch._jit_cache.clear()
        _dispatch._not_jittable.clear()
