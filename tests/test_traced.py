"""Every loss under program transforms (issue 6): ``jax.jit``, ``jax.vmap`` and
``torch.compile(fullgraph=True)``, each equal to the eager call on the same data.

Under a trace no loss may branch on array values: shape, dtype and option checks still
raise, value checks (class index ranges, probabilities in [0, 1], ...) are skipped
(docs/dispatch.md lists them). The data are conformance cases (``conformance.cases``),
one representative case per loss with its options, plus a few second layouts; the
expected values are the eager results of the same backend (which the conformance suite
compares with PyTorch).

torch.compile runs with ``backend="aot_eager"``: Dynamo traces the whole loss into one
graph (``fullgraph=True`` turns any graph break into an error) and AOTAutograd traces
its backward, without inductor's C++ compilation (minutes on a 2-core machine).
"""

from __future__ import annotations

import dataclasses
import functools
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

import arrayloss
from arrayloss._dispatch import namespace_of
from arrayloss._errors import ArrayLossTypeError, ArrayLossValueError
from conformance.backends import Backend, backend_by_name
from conformance.cases import LOSSES, Case, all_cases, case_by_name
from tests.helpers import loss_functions

pytestmark = [
    # Dynamo warns once per call site that it traces through functools.lru_cache
    # wrappers (array-api-compat caches its type checks); the wrapped functions are pure.
    pytest.mark.filterwarnings(
        "ignore:Dynamo detected a call to a `functools.lru_cache`-wrapped function:UserWarning"
    ),
]

#: One case per loss, with options where the loss has them (weights, label smoothing,
#: ignored indices, p, margin, swap, full, ...). Reductions are varied by the tests.
REPRESENTATIVE: dict[str, str] = {
    "binary_cross_entropy": "(2,3,4)-none-weight_bcast(4)-binary",
    "binary_cross_entropy_with_logits": "(4,3)-mean-weight_full(4,3)-pos_weight_C(3)-soft",
    "cross_entropy": "(2,3,4)-none-class_index_ignored-weight-smoothing",
    "nll_loss": "(2,3,4)-none-class_index_ignored-weight",
    "linear_cross_entropy": "(3,4)x(5,2,4)-none-class_index_ignored-bias-weight-smoothing",
    "kl_div": "(4,3)-batchmean-log_target_True",
    "soft_margin_loss": "(4,3)-none",
    "multilabel_soft_margin_loss": "(4,3)-none-soft-weight",
    "multi_margin_loss": "(5,3)-none-p2-weight",
    "multilabel_margin_loss": "(9,4)-none",
    "l1_loss": "(4,3)-none-weight",
    "mse_loss": "(2,3,4)-none-weight",
    "huber_loss": "delta_0.5-none",
    "smooth_l1_loss": "beta_0.5-none",
    "poisson_nll_loss": "(4,3)-none-log_input_False-full_True",
    "gaussian_nll_loss": "(4,3)-var_fewer(4)-none-full_True",
    "margin_ranking_loss": "(5)-none-margin_2",
    "hinge_embedding_loss": "(4,3)-none-margin_1",
    "cosine_embedding_loss": "(5,4)-mean-margin_0.5",
    "triplet_margin_loss": "(5,4)-mean-margin_0.5-swap_True",
    "triplet_margin_with_distance_loss": "(5,4)-mean-margin_0.5-swap_True",
    "ctc_loss": "padded-none",
}
#: Second layouts: soft targets (no gather); concatenated CTC targets, padded to the
#: longest target eagerly but to their total length when traced (the longest is a value).
#: multilabel_margin_loss also takes another path when traced (sorting, not its eager
#: loop over target slots): its representative case covers that.
EXTRA = [
    "cross_entropy/(2,3,4)-none-soft-weight-smoothing",
    "ctc_loss/concatenated-mean",
]
CASE_IDS = [f"{loss}/{name}" for loss, name in REPRESENTATIVE.items()] + EXTRA
#: The per-example reduction besides 'none' that vmap is checked with ('mean', except
#: where PyTorch warns that 'mean' is not the mathematical one).
BATCH_REDUCTION = {"kl_div": "batchmean"}


def test_every_loss_is_represented() -> None:
    # The losses PyTorch lacks (conformance/beyond.py) are left out: these checks take
    # torch.nn.functional as the reference. tests/test_beyond.py runs them under jax.jit
    # (the jax-jit backend), jax.grad and torch autograd against their source framework.
    from conformance.beyond import BEYOND

    functions = loss_functions() - set(BEYOND)
    assert set(REPRESENTATIVE) == set(LOSSES) == functions
    assert len(functions) == 22
    for case_id in CASE_IDS:
        case_by_name(case_id)  # raises if a case was renamed


# --- helpers -------------------------------------------------------------------------------


@functools.cache
def _jax() -> Backend:
    pytest.importorskip("jax")
    backend = backend_by_name("jax")
    backend.namespace()  # enables 64-bit JAX
    return backend


def _is_index(a: np.ndarray) -> bool:
    return a.dtype.kind in "iu"


def _to(backend: Backend, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    return {
        k: backend.asarray(v, "int64" if _is_index(v) else "float64") for k, v in arrays.items()
    }


def _caller(case: Case, **overrides: Any) -> Callable[[dict[str, Any]], Any]:
    """``call(arrays)``: the loss of ``case`` on the arrays (named as in the case), the
    positional ones by position, with the case's options (and ``overrides``)."""
    fn = getattr(arrayloss, case.loss)
    names = LOSSES[case.loss].positional
    options = {**case.kwargs, **overrides}

    def call(arrays: dict[str, Any]) -> Any:
        positional = [arrays[n] for n in names if n in arrays]
        keywords = {k: v for k, v in arrays.items() if k not in names}
        return fn(*positional, **keywords, **options)

    return call


def _close(got: Any, expected: Any) -> None:
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.shape == expected.shape
    assert got.dtype == expected.dtype
    # The same operations in float64; XLA may fuse and reorder a sum.
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14, equal_nan=True)


# --- jax.jit -------------------------------------------------------------------------------


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_jax_jit_equals_eager_values_and_grad(case_id: str) -> None:
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    backend = _jax()
    case = case_by_name(case_id)
    call = _caller(case)
    arrays = _to(backend, case.arrays())
    wrt = LOSSES[case.loss].grad_wrt

    def total(x: Any, rest: dict[str, Any]) -> Any:
        return jnp.sum(call({**rest, wrt: x}))

    x = arrays.pop(wrt)
    eager = call({**arrays, wrt: x})
    eager_grad = jax.grad(total)(x, arrays)
    _close(jax.jit(call)({**arrays, wrt: x}), eager)
    _close(jax.jit(jax.grad(total))(x, arrays), eager_grad)
    assert np.all(np.isfinite(np.asarray(eager_grad)))  # the comparison means something


# --- jax.vmap ------------------------------------------------------------------------------


def _batch(case: Case, size: int = 3) -> list[dict[str, np.ndarray]]:
    """``size`` examples of ``case``'s structure (its arrays drawn from successive
    seeds), each a complete set of the loss's arrays."""
    return [dataclasses.replace(case, seed=case.seed + i).arrays() for i in range(size)]


@pytest.mark.parametrize("case_id", CASE_IDS)
@pytest.mark.parametrize("reduction", ["none", "mean"])
def test_jax_vmap_equals_loop_of_eager_calls(case_id: str, reduction: str) -> None:
    jax = pytest.importorskip("jax")

    backend = _jax()
    case = case_by_name(case_id)
    if reduction == "mean":
        reduction = BATCH_REDUCTION.get(case.loss, "mean")
    call = _caller(case, reduction=reduction)
    examples = _batch(case)
    # vmap maps every array (weights included) over a new leading batch axis.
    stacked = _to(backend, {k: np.stack([e[k] for e in examples]) for k in examples[0]})
    batched = jax.vmap(call)(stacked)
    looped = np.stack([np.asarray(call(_to(backend, e))) for e in examples])
    _close(batched, looped)
    assert np.asarray(batched).shape[0] == len(examples)


@pytest.mark.parametrize(
    "case_id",
    ["cross_entropy/(5,3)-mean-class_index_ignored-weight-smoothing", "ctc_loss/padded-sum"],
)
def test_jit_vmap_grad_compose_per_example_gradients(case_id: str) -> None:
    # Per-example gradients, the idiom of JAX training code, on a loss that gathers
    # (cross_entropy) and one that loops over time (ctc_loss, a lax.scan).
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    backend = _jax()
    case = case_by_name(case_id)
    call = _caller(case)
    wrt = LOSSES[case.loss].grad_wrt
    examples = _batch(case)
    stacked = _to(backend, {k: np.stack([e[k] for e in examples]) for k in examples[0]})

    def loss_of(x: Any, rest: dict[str, Any]) -> Any:
        return jnp.sum(call({**rest, wrt: x}))

    grads = jax.jit(jax.vmap(jax.grad(loss_of)))(stacked.pop(wrt), stacked)
    for i, e in enumerate(examples):
        arrays = _to(backend, e)
        _close(grads[i], jax.grad(loss_of)(arrays.pop(wrt), arrays))


# --- torch.compile -------------------------------------------------------------------------


@pytest.fixture
def dynamo() -> Iterator[Any]:
    """torch with a fresh Dynamo cache: each test compiles its own graphs (the test
    functions share code objects, and Dynamo recompiles a code object only so often)."""
    torch = pytest.importorskip("torch")
    torch._dynamo.reset()
    yield torch
    torch._dynamo.reset()


def _compiled(torch: Any, fn: Callable[..., Any], fullgraph: bool = True) -> Any:
    return torch.compile(fn, fullgraph=fullgraph, backend="aot_eager")


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_torch_compile_fullgraph_equals_eager_values_and_grad(dynamo: Any, case_id: str) -> None:
    torch = dynamo
    backend = backend_by_name("torch")
    case = case_by_name(case_id)
    call = _caller(case)
    wrt = LOSSES[case.loss].grad_wrt
    results = []
    for compile_it in (False, True):
        arrays = _to(backend, case.arrays())
        arrays[wrt].requires_grad_(True)
        out = (_compiled(torch, call) if compile_it else call)(arrays)
        out.sum().backward()
        results.append((out.detach(), arrays[wrt].grad))
    (eager, eager_grad), (got, got_grad) = results
    _close(got.numpy(), eager.numpy())
    _close(got_grad.numpy(), eager_grad.numpy())
    assert torch.all(torch.isfinite(eager_grad))


def test_torch_compile_sees_traced_arrays_as_not_eager(dynamo: Any) -> None:
    # ctx.eager is False while Dynamo traces (torch.compiler.is_compiling()), so no loss
    # reads a value there; outside torch.compile torch tensors are eager.
    torch = dynamo

    def eager_flag(x: Any) -> Any:
        return x + 1 if namespace_of(input=x).eager else x - 1

    x = torch.zeros(2)
    assert eager_flag(x).tolist() == [1.0, 1.0]
    assert _compiled(torch, eager_flag)(x).tolist() == [-1.0, -1.0]


def test_torch_compile_legacy_options_trace_without_the_warning(dynamo: Any) -> None:
    # The DeprecationWarning of size_average/reduce is not emitted while Dynamo traces
    # (it cannot trace warnings.warn: with fullgraph=True that would be an error); the
    # same call made eagerly warns as PyTorch does.
    torch = dynamo
    rng = np.random.default_rng(6)
    x = torch.tensor(rng.uniform(0.1, 0.9, size=(4, 3)))
    y = torch.tensor(rng.uniform(size=(4, 3)))

    def legacy(x: Any, y: Any) -> Any:
        return arrayloss.binary_cross_entropy(x, y, size_average=False)

    with pytest.warns(DeprecationWarning, match="reduction='sum'"):
        eager = legacy(x, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = _compiled(torch, legacy)(x, y)
    assert not [w for w in caught if issubclass(w.category, DeprecationWarning)]
    _close(got.numpy(), eager.numpy())
    _close(eager.numpy(), arrayloss.binary_cross_entropy(x, y, reduction="sum").numpy())


# --- classes -------------------------------------------------------------------------------

CLASS_CASES = {
    # class: (its function, the constructor options taken from the case's arrays)
    "BCEWithLogitsLoss": ("binary_cross_entropy_with_logits", ("weight", "pos_weight")),
    "CrossEntropyLoss": ("cross_entropy", ("weight",)),
    "GaussianNLLLoss": ("gaussian_nll_loss", ()),
}


def _class_and_call(backend: Backend, cls_name: str) -> tuple[Any, dict[str, Any], Any]:
    """An instance built from the representative case (array options from its arrays),
    the arrays it is called with, and the function's eager result."""
    loss, array_options = CLASS_CASES[cls_name]
    case = case_by_name(f"{loss}/{REPRESENTATIVE[loss]}")
    arrays = _to(backend, case.arrays())
    options = {k: arrays.pop(k) for k in array_options}
    instance = getattr(arrayloss, cls_name)(**options, **case.kwargs)
    expected = _caller(case)({**arrays, **options})
    return instance, arrays, expected


def _positional(cls_name: str, arrays: dict[str, Any]) -> list[Any]:
    loss = CLASS_CASES[cls_name][0]
    return [arrays[n] for n in LOSSES[loss].positional]


@pytest.mark.parametrize("cls_name", list(CLASS_CASES))
def test_classes_under_jax_jit_and_torch_compile(dynamo: Any, cls_name: str) -> None:
    jax = pytest.importorskip("jax")

    torch = dynamo
    instance, arrays, expected = _class_and_call(_jax(), cls_name)
    args = _positional(cls_name, arrays)
    _close(jax.jit(lambda *a: instance(*a))(*args), expected)

    instance, arrays, expected = _class_and_call(backend_by_name("torch"), cls_name)
    args = _positional(cls_name, arrays)
    _close(_compiled(torch, lambda *a: instance(*a))(*args).numpy(), expected.numpy())


# --- static checks still raise under a trace -----------------------------------------------


def _bad_calls(xp: Any) -> list[tuple[Callable[..., Any], tuple[Any, ...], type, str]]:
    """(loss, arrays, exception type, message) for shape, dtype and option errors."""
    p = xp.asarray(np.full((4, 3), 0.5))
    y = xp.asarray(np.ones((4, 3)))
    logits = xp.asarray(np.zeros((4, 3)))
    index = xp.asarray(np.zeros(4, dtype=np.int64))
    return [
        (arrayloss.binary_cross_entropy, (p, y[:2]), ArrayLossValueError, "must have the shape"),
        (arrayloss.l1_loss, (index, index), ArrayLossTypeError, "floating-point dtype"),
        (arrayloss.mse_loss, (p, y[:, :2]), ArrayLossValueError, "does not broadcast"),
        (arrayloss.nll_loss, (logits, y[:, 0]), TypeError, "integer dtype"),
        (
            functools.partial(arrayloss.cross_entropy, reduction="avg"),
            (logits, index),
            ValueError,
            "`reduction` must be one of",
        ),
    ]


@pytest.mark.parametrize("transform", ["jit", "vmap"])
def test_shape_dtype_and_option_errors_raise_under_jax(transform: str) -> None:
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    _jax()
    for fn, args, error, message in _bad_calls(jnp):
        if transform == "vmap":
            args = tuple(jnp.stack([a, a]) for a in args)
        traced = jax.jit(fn) if transform == "jit" else jax.vmap(fn)
        with pytest.raises(error, match=message):
            traced(*args)


def test_shape_dtype_and_option_errors_raise_under_torch_compile(dynamo: Any) -> None:
    # fullgraph=True: Dynamo reports an exception raised inside the graph as its own
    # Unsupported (a RuntimeError) quoting arrayloss's error; without fullgraph it runs
    # the failing frame eagerly, and arrayloss's own exception propagates.
    torch = dynamo
    for i, (fn, args, error, message) in enumerate(_bad_calls(torch)):
        with pytest.raises(RuntimeError, match=message):
            _compiled(torch, fn)(*args)
        if i < 2:  # a shape error and a dtype error
            with pytest.raises(error, match=message):
                _compiled(torch, fn, fullgraph=False)(*args)


# --- value checks are skipped under a trace ------------------------------------------------

#: The conformance cases whose error comes from the values, one per loss.
VALUE_CHECK_CASES = [
    "binary_cross_entropy/error-input_outside_unit",
    "cross_entropy/error-target_out_of_range",
    "nll_loss/error-target_out_of_range",
    "linear_cross_entropy/error-target_out_of_range",
    "multi_margin_loss/index_out_of_range",
    "multilabel_margin_loss/index_out_of_range",
    "gaussian_nll_loss/error-var_negative",
    "ctc_loss/error-concatenated_size",
]


def test_value_check_cases_cover_every_value_check() -> None:
    assert all(case_by_name(c).value_check for c in VALUE_CHECK_CASES)
    losses_with_value_checks = {c.loss for c in all_cases() if c.value_check}
    assert (
        {case_by_name(c).loss for c in VALUE_CHECK_CASES}
        == losses_with_value_checks
        == {
            "binary_cross_entropy",
            "cross_entropy",
            "nll_loss",
            "linear_cross_entropy",
            "multi_margin_loss",
            "multilabel_margin_loss",
            "gaussian_nll_loss",
            "ctc_loss",
        }
    )


@pytest.mark.parametrize("case_id", VALUE_CHECK_CASES)
def test_value_checks_are_skipped_under_jit_vmap_compile_and_dask(
    dynamo: Any, case_id: str
) -> None:
    # Eagerly each of these raises (the value check); traced or lazy it computes a
    # result (not meaningful: the inputs are invalid) without reading a value, so no
    # ConcretizationTypeError, no graph break and no Dask compute.
    jax = pytest.importorskip("jax")

    torch = dynamo
    case = case_by_name(case_id)
    call = _caller(case)
    backend = _jax()
    arrays = _to(backend, case.arrays())
    with pytest.raises((ValueError, IndexError, RuntimeError)):
        call(arrays)
    jax.jit(call)(arrays)
    jax.vmap(call)({k: v[None] for k, v in arrays.items()})

    torch_backend = backend_by_name("torch")
    _compiled(torch, call)(_to(torch_backend, case.arrays()))

    dask = backend_by_name("dask")
    if dask.skip_reason() is None:
        dask.call(call, _to(dask, case.arrays()))  # computing would raise
