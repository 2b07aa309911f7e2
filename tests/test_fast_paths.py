"""The fast paths of the dispatch layer (issue 7): each computes what the generic
definition computes, keeps its errors and warnings, and can be switched off.

- JAX: a loss called on JAX arrays runs as a cached ``jax.jit`` kernel
  (``_dispatch.jax_auto_jit``), under a user's ``grad`` too (differentiated whole);
  inside a user's ``jit``/``vmap`` it is inlined and changes nothing.
- PyTorch: cross_entropy, nll_loss, binary_cross_entropy_with_logits, l1_loss,
  mse_loss, huber_loss and smooth_l1_loss hand float32/float64 tensors to ATen's
  kernels after arrayloss's checks (``_dispatch.native_kernel``); every loss built on
  log_sigmoid (soft margin, multilabel soft margin, BCE with logits with a pos_weight)
  uses ATen's ``logsigmoid`` for it (``_dispatch.native_elementwise``), and the hinge
  of the margin and embedding losses ``torch.clamp_min``; kl_div's ``t log t``
  ``torch.xlogy`` and binary_cross_entropy's clamped logs ``clamp_min(log(p), -100)``
  when nothing needs a gradient. mse, l1, huber and smooth_l1 call F's ATen binding
  directly, and so does BCE with logits (``_dispatch._TORCH_ATEN_BINDING``).

The expected values here are the generic definitions' (``arrayloss.fast_paths(False)``),
which the conformance suite checks against PyTorch on every backend; the fast paths
themselves are also in the conformance run (test_conformance.py, both paths).
"""

from __future__ import annotations

import contextlib
import inspect
import itertools
import math
import os
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import array_api_compat
import numpy as np
import pytest

import arrayloss
from arrayloss import _dispatch
from conformance.backends import backend_by_name
from tests.helpers import loss_functions

jax = pytest.importorskip("jax")
jnp = backend_by_name("jax").namespace()  # enables x64
torch = pytest.importorskip("torch")

RNG = np.random.default_rng(7)
LOGITS = RNG.normal(size=(6, 5))
PROBS = 1.0 / (1.0 + np.exp(-LOGITS))
BINARY = (RNG.random((6, 5)) > 0.5).astype(np.float64)
CLASSES = np.array([0, 4, 2, 1, 3, 2])
SIGNS = np.where(RNG.random(6) > 0.5, 1.0, -1.0)
OTHER = RNG.normal(size=(6, 5))
MULTILABEL = np.array([[3, 0, -1, 1, 2]] * 6)

# Every loss the JAX fast path wraps (all but ctc_loss and multilabel_margin_loss), with
# arguments: (arrays, options).
CALLS: dict[str, tuple[tuple[np.ndarray, ...], dict[str, Any]]] = {
    "binary_cross_entropy": ((PROBS, BINARY), {}),
    "binary_cross_entropy_with_logits": ((LOGITS, BINARY), {"reduction": "sum"}),
    "cross_entropy": ((LOGITS, CLASSES), {"label_smoothing": 0.1}),
    "nll_loss": ((np.log(PROBS), CLASSES), {"reduction": "none"}),
    "linear_cross_entropy": ((LOGITS, OTHER[:4], CLASSES[:6] % 4), {"label_smoothing": 0.1}),
    "kl_div": ((np.log(PROBS), PROBS[::-1]), {"reduction": "batchmean"}),
    "multi_margin_loss": ((LOGITS, CLASSES), {"p": 2}),
    "soft_margin_loss": ((LOGITS, np.sign(OTHER)), {}),
    "multilabel_soft_margin_loss": ((LOGITS, BINARY), {}),
    "l1_loss": ((LOGITS, OTHER), {}),
    "mse_loss": ((LOGITS, OTHER), {"reduction": "sum"}),
    "huber_loss": ((LOGITS, OTHER), {"delta": 0.5}),
    "smooth_l1_loss": ((LOGITS, OTHER), {"beta": 0.5}),
    "poisson_nll_loss": ((LOGITS, PROBS), {}),
    "gaussian_nll_loss": ((LOGITS, OTHER, PROBS), {}),
    "margin_ranking_loss": ((LOGITS[:, 0], OTHER[:, 0], SIGNS), {"margin": 0.1}),
    "hinge_embedding_loss": ((LOGITS, np.sign(OTHER)), {}),
    "cosine_embedding_loss": ((LOGITS, OTHER, SIGNS), {}),
    "triplet_margin_loss": ((LOGITS, OTHER, PROBS), {"swap": True}),
    "triplet_margin_with_distance_loss": ((LOGITS, OTHER, PROBS), {"margin": 0.5}),
    # The losses PyTorch lacks (issue 10).
    "sigmoid_focal_loss": ((LOGITS, BINARY), {"reduction": "mean"}),
    "softmax_focal_loss": ((LOGITS, CLASSES), {}),
    "poly1_cross_entropy": ((LOGITS, CLASSES), {}),
    "dice_loss": ((PROBS, BINARY), {}),
    "tversky_loss": ((PROBS, BINARY), {}),
    "multiclass_dice_loss": ((LOGITS, CLASSES), {}),
    "hinge": ((LOGITS, BINARY), {}),
    "squared_hinge": ((LOGITS, BINARY), {}),
    "categorical_hinge": ((LOGITS, BINARY), {}),
    "log_cosh": ((LOGITS, OTHER), {}),
    "mean_absolute_percentage_error": ((LOGITS, OTHER), {}),
    "mean_squared_logarithmic_error": ((PROBS, PROBS[::-1]), {}),
    "generalized_kl_divergence": ((LOGITS, PROBS), {}),
    "convex_kl_divergence": ((LOGITS, PROBS), {}),
    "ntxent": ((LOGITS, CLASSES), {}),
    "rmse": ((LOGITS, OTHER), {}),
    "cosine_similarity_loss": ((LOGITS, OTHER), {"dim": 0}),
}


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    _dispatch._jit_cache.clear()
    _dispatch._not_jittable.clear()
    yield
    _dispatch._jit_cache.clear()
    _dispatch._not_jittable.clear()


def _generic(loss: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    with arrayloss.fast_paths(False):
        return loss(*args, **kwargs)


def _keys(loss: str) -> int:
    wrapped = getattr(arrayloss, loss).__wrapped__
    return sum(1 for key in _dispatch._jit_cache if key[0] is wrapped)


# --- the switch ----------------------------------------------------------------------------


def test_fast_paths_switch_restores_and_rejects_non_bools() -> None:
    assert _dispatch.fast_paths_enabled()
    seen = []
    try:
        with arrayloss.fast_paths(False):
            seen.append(_dispatch.fast_paths_enabled())
            raise KeyError("inside")
    except KeyError:
        pass
    assert seen == [False]
    assert _dispatch.fast_paths_enabled()
    with (
        pytest.raises(TypeError, match="`enabled` must be a bool; got str"),
        arrayloss.fast_paths("no"),  # type: ignore[arg-type]
    ):
        pass


def test_every_loss_but_two_is_wrapped_and_keeps_its_signature() -> None:
    import inspect

    for name in CALLS:
        loss = getattr(arrayloss, name)
        assert loss.__wrapped__.__name__ == name
        assert inspect.signature(loss) == inspect.signature(loss.__wrapped__)
    assert not hasattr(arrayloss.ctc_loss, "__wrapped__")
    # multilabel_margin_loss reads its slot count first, then calls its wrapped kernel.
    assert not hasattr(arrayloss.multilabel_margin_loss, "__wrapped__")
    assert hasattr(arrayloss._margin._multilabel_margin_loss, "__wrapped__")
    assert len(CALLS) == len(loss_functions()) - 2


def _multilabel_target(slots: int, n_classes: int = 20) -> np.ndarray:
    # 6 samples; sample n names min(n, slots) classes (the last sample exactly slots),
    # then -1 padding, then indices PyTorch ignores.
    rng = np.random.default_rng(slots)
    t = rng.integers(-1, n_classes, size=(6, n_classes))
    for n in range(6):
        k = slots if n == 5 else min(n, slots)
        t[n, :k] = rng.integers(0, n_classes, size=k)
        if k < n_classes:
            t[n, k] = -1
    return t


def test_jax_multilabel_margin_reads_its_slots_then_runs_a_kernel_per_slot_count(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # concrete_jax_hint: an eager call on JAX arrays reads the most target slots of a
    # sample, then runs the auto-jit kernel keyed by it, which loops over that many slots
    # (as the eager loss does); more slots than _SLOT_LOOP_MAX, or a user's jit, sort.
    # Every path equals the generic loss and PyTorch.
    from arrayloss import _margin

    sorted_traces: list[int] = []
    real_sort = _margin._multilabel_margin_by_sorting

    def spy_sort(*args: Any) -> Any:
        sorted_traces.append(1)
        return real_sort(*args)

    monkeypatch.setattr(_margin, "_multilabel_margin_by_sorting", spy_sort)
    wrapped = _margin._multilabel_margin_loss.__wrapped__
    x = np.random.default_rng(3).normal(size=(6, 20))

    def kernels() -> list[Any]:
        return [key for key in _dispatch._jit_cache if key[0] is wrapped]

    for slots in (0, 2, 5, _margin._SLOT_LOOP_MAX + 1):
        t = _multilabel_target(slots)
        assert int(_margin._most_target_slots(np, t)) == slots
        xs, ts = jnp.asarray(x), jnp.asarray(t)
        expected = torch.nn.functional.multilabel_margin_loss(
            torch.asarray(x), torch.asarray(t), reduction="none"
        )
        generic = _generic(arrayloss.multilabel_margin_loss, xs, ts, reduction="none")
        before = len(sorted_traces)
        for _ in range(2):
            got = arrayloss.multilabel_margin_loss(xs, ts, reduction="none")
            assert isinstance(got, jax.Array)
            np.testing.assert_allclose(np.asarray(got), np.asarray(generic), rtol=1e-12)
            np.testing.assert_allclose(np.asarray(got), expected.numpy(), rtol=1e-12)
        sorts = len(sorted_traces) - before
        key = kernels()[-1]
        if slots <= _margin._SLOT_LOOP_MAX:
            # The slot loop, traced once.
            assert (int, slots) in key[1]
            assert sorts == 0
        else:
            # The sorts, traced once.
            assert key[1][-1] == (type(None), None)
            assert sorts == 1
    assert len(kernels()) == 4
    # Under a user's jit the slots cannot be read: the sorts.
    t = _multilabel_target(2)
    before = len(sorted_traces)
    got = jax.jit(lambda a, b: arrayloss.multilabel_margin_loss(a, b))(
        jnp.asarray(x), jnp.asarray(t)
    )
    assert len(sorted_traces) == before + 1
    np.testing.assert_allclose(
        float(got),
        float(torch.nn.functional.multilabel_margin_loss(torch.asarray(x), torch.asarray(t))),
        rtol=1e-12,
    )
    # A hint is only read from concrete JAX arrays.
    assert _dispatch.concrete_jax_hint(_margin._most_target_slots, t) is None
    with arrayloss.fast_paths(False):
        assert _dispatch.concrete_jax_hint(_margin._most_target_slots, jnp.asarray(t)) is None
    assert _dispatch.concrete_jax_hint(_margin._most_target_slots, jnp.asarray(t)) == 2


# --- JAX: cached jitted kernels ------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CALLS))
def test_jax_eager_call_runs_one_cached_kernel_and_equals_the_generic_loss(name: str) -> None:
    arrays, options = CALLS[name]
    loss = getattr(arrayloss, name)
    args = [jnp.asarray(a) for a in arrays]
    expected = _generic(loss, *args, **options)
    first = loss(*args, **options)
    assert _keys(name) == 1
    second = loss(*args, **options)
    assert _keys(name) == 1  # the same options: the same kernel
    for got in (first, second):
        assert isinstance(got, jax.Array)
        assert got.dtype == expected.dtype
        assert got.shape == expected.shape
        np.testing.assert_allclose(np.asarray(got), np.asarray(expected), rtol=1e-12, atol=1e-14)


def test_jax_kernels_are_keyed_on_options_and_their_types() -> None:
    x, t = jnp.asarray(LOGITS), jnp.asarray(OTHER)
    arrayloss.huber_loss(x, t, delta=1.0)
    arrayloss.huber_loss(x, t, delta=1.0)
    assert _keys("huber_loss") == 1
    arrayloss.huber_loss(x, t, delta=2.0)
    arrayloss.huber_loss(x, t, reduction="sum", delta=1.0)
    assert _keys("huber_loss") == 3
    # 1, 1.0 and True are equal as keys of a dict, but are different options.
    arrayloss.multi_margin_loss(x, jnp.asarray(CLASSES), margin=1)
    arrayloss.multi_margin_loss(x, jnp.asarray(CLASSES), margin=1.0)
    assert _keys("multi_margin_loss") == 2


def test_jax_lane_runs_a_calls_kernel_again_without_a_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    # _dispatch._open_jit_lane: after a call with only positional JAX arrays and options
    # that are strings or None, a call like it runs the same kernel without _jit_plan.
    plans: list[int] = []
    real_plan = _dispatch._jit_plan

    def counting_plan(*args: Any) -> Any:
        plans.append(1)
        return real_plan(*args)

    monkeypatch.setattr(_dispatch, "_jit_plan", counting_plan)
    x, t = jnp.asarray(LOGITS), jnp.asarray(OTHER)
    for options, planned in (
        ({}, 1),
        ({"reduction": "sum"}, 1),
        ({"reduction": "none"}, 1),
        ({"delta": 2.0}, 3),  # a number: 1, 1.0 and True are equal keys, so no lane
    ):
        del plans[:]
        expected = _generic(arrayloss.huber_loss, x, t, **options)
        planned_call = arrayloss.huber_loss(x, t, **options)
        np.testing.assert_allclose(np.asarray(planned_call), np.asarray(expected), rtol=1e-12)
        for _ in range(2):  # the same kernel: the same bits
            got = arrayloss.huber_loss(x, t, **options)
            np.testing.assert_array_equal(np.asarray(got), np.asarray(planned_call))
        assert len(plans) == planned, options
    assert _keys("huber_loss") == 4
    # A positional option, an array of another library: the plan each time.
    del plans[:]
    for _ in range(2):
        arrayloss.huber_loss(x, t, "sum")
    assert len(plans) == 2
    with pytest.raises(TypeError, match=r"`input` is jax\.Array but `target` is numpy\.ndarray"):
        arrayloss.huber_loss(x, OTHER)
    # Fast paths off: neither lane nor plan. A kernel gone from the cache: planned again.
    del plans[:]
    with arrayloss.fast_paths(False):
        arrayloss.huber_loss(x, t)
    assert not plans
    _dispatch._jit_cache.clear()
    arrayloss.huber_loss(x, t)
    arrayloss.huber_loss(x, t)
    assert len(plans) == 1
    assert _keys("huber_loss") == 1


def test_jax_lane_keeps_the_device_check_on_two_jax_cpu_devices() -> None:
    # Arrays on two devices: the lane's kernel raises (all committed) or is not taken
    # (committed and uncommitted mixed; jax.jit would move the uncommitted one), and the
    # loss names the devices as with fast paths off. A process where XLA splits the CPU
    # into two devices (the flag must be set before JAX starts).
    script = """
import jax, jax.numpy as jnp, pytest, arrayloss
first, second = jax.devices()
assert (first.id, second.id) == (0, 1)
x, t = jnp.asarray([0.0, 1.0, 2.0]), jnp.asarray([1.0, 1.0, 1.0])
on = lambda a, device: jax.device_put(a, device)
for fast in (True, False):
    with arrayloss.fast_paths(fast):
        for _ in range(2):  # the first call opens the lane
            assert abs(float(arrayloss.mse_loss(x, t)) - 2 / 3) < 1e-6
            assert abs(float(arrayloss.mse_loss(on(x, second), on(t, second))) - 2 / 3) < 1e-6
        assert arrayloss.mse_loss(on(x, second), on(t, second)).devices() == {second}
        for a, b, where in (
            (on(x, first), on(t, second), "cpu:0 but `target` is on cpu:1"),
            (x, on(t, second), "cpu:0 but `target` is on cpu:1"),
            (on(x, second), t, "cpu:1 but `target` is on cpu:0"),
        ):
            with pytest.raises(ValueError, match="`input` is on " + where):
                arrayloss.mse_loss(a, b)
print("ok")
"""
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "ok", done.stdout[-3000:]


@pytest.mark.parametrize("name", sorted(CALLS))
def test_under_a_users_grad_the_kernel_is_differentiated_whole(name: str) -> None:
    arrays, options = CALLS[name]
    loss = getattr(arrayloss, name)
    args = [jnp.asarray(a) for a in arrays]

    def total(x: Any) -> Any:
        return jnp.sum(loss(x, *args[1:], **options))

    expected = _generic(jax.grad(total), args[0])
    got = jax.grad(total)(args[0])
    assert _keys(name) == 1
    np.testing.assert_allclose(np.asarray(got), np.asarray(expected), rtol=1e-11, atol=1e-13)


def test_value_checks_stay_skipped_under_a_users_grad() -> None:
    # As without the fast path: a transform's tracers are not read, so no error.
    y = jnp.asarray([0.0, 1.0])
    grad = jax.grad(lambda p: arrayloss.binary_cross_entropy(p, y))(jnp.asarray([0.5, 1.5]))
    assert grad.shape == (2,)


def test_inside_a_users_jit_and_vmap_the_kernel_changes_nothing() -> None:
    x, t = jnp.asarray(LOGITS), jnp.asarray(BINARY)
    loss = arrayloss.binary_cross_entropy_with_logits
    value = jax.jit(loss)(x, t)
    grad = jax.jit(jax.grad(loss))(x, t)
    rows = jax.vmap(loss)(x, t)
    with arrayloss.fast_paths(False):
        np.testing.assert_allclose(np.asarray(value), np.asarray(loss(x, t)), rtol=1e-12)
        np.testing.assert_allclose(np.asarray(grad), np.asarray(jax.grad(loss)(x, t)), rtol=1e-12)
        expected_rows = [np.asarray(loss(x[i], t[i])) for i in range(x.shape[0])]
    np.testing.assert_allclose(np.asarray(rows), expected_rows, rtol=1e-12)


def test_a_transposed_input_inside_a_users_jit_has_the_right_gradient() -> None:
    # JAX 0.7.1 miscomputed this gradient through a nested jit of the kernel (0.4057 for
    # 0.4955); the loss is traced inline there. Expected: jax.grad without jit, and the
    # closed form d/dx of -sum_j <x_j, y_j> / (|x_j| |y_j|) over the columns j.
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(4, 3)), rng.uniform(size=(4, 3))

    def loss(a: Any) -> Any:
        return -arrayloss.cosine_similarity_loss(a.T, jnp.asarray(y).T, reduction="sum")

    grad = jax.jit(jax.grad(loss))(jnp.asarray(x))
    assert _keys("cosine_similarity_loss") == 0  # traced inline, not a cached kernel
    nx, ny = np.linalg.norm(x, axis=0), np.linalg.norm(y, axis=0)
    cos = (x * y).sum(0) / (nx * ny)
    closed_form = -(y / (nx * ny) - cos * x / nx**2)
    np.testing.assert_allclose(np.asarray(grad), -closed_form, rtol=1e-10)
    np.testing.assert_allclose(
        np.asarray(grad), np.asarray(jax.grad(loss)(jnp.asarray(x))), rtol=1e-12
    )


def test_fast_paths_off_and_other_libraries_run_as_written() -> None:
    x = jnp.asarray(LOGITS)
    with arrayloss.fast_paths(False):
        arrayloss.mse_loss(x, x)
    arrayloss.mse_loss(LOGITS, OTHER)  # NumPy
    assert _keys("mse_loss") == 0
    # Mixing libraries: the generic path's error, naming both arguments.
    with pytest.raises(TypeError, match=r"`input` is jax\.Array but `target` is numpy\.ndarray"):
        arrayloss.mse_loss(x, OTHER)
    # A user's function is not traced for a kernel (it may not be traceable).
    arrayloss.triplet_margin_with_distance_loss(
        x, x, x, distance_function=lambda a, b: jnp.sum(jnp.abs(a - b), axis=-1)
    )
    assert _keys("triplet_margin_with_distance_loss") == 0


# The value checks that a traced kernel cannot run: each is deferred to a flag, and a set
# flag reruns the loss eagerly, which raises its own error, at every call.
INVALID: dict[str, tuple[Callable[[], Any], type[Exception], str]] = {
    "probabilities": (
        lambda: arrayloss.binary_cross_entropy(jnp.asarray([0.5, 1.5]), jnp.asarray([0.0, 1.0])),
        ValueError,
        r"all elements of `input` must lie between 0 and 1; got values from 0.5 to 1.5",
    ),
    "class index": (
        lambda: arrayloss.cross_entropy(jnp.asarray(LOGITS), jnp.asarray(CLASSES + 1)),
        IndexError,
        r"`target` holds class index 5, outside \[0, 5\)",
    ),
    "nll class index": (
        lambda: arrayloss.nll_loss(jnp.asarray(LOGITS), jnp.asarray(CLASSES - 1)),
        IndexError,
        r"`target` holds class index -1, outside \[0, 5\)",
    ),
    "multilabel index": (
        lambda: arrayloss.multilabel_margin_loss(jnp.asarray(LOGITS), jnp.asarray(MULTILABEL + 3)),
        IndexError,
        r"`target` holds class index 6, outside \[0, 5\)",
    ),
    "negative variance": (
        lambda: arrayloss.gaussian_nll_loss(
            jnp.asarray(LOGITS), jnp.asarray(OTHER), -jnp.asarray(PROBS)
        ),
        ValueError,
        r"every element of `var` must be >= 0",
    ),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_value_checks_still_raise_on_eager_jax_arrays(case: str) -> None:
    call, error, message = INVALID[case]
    for _ in range(2):  # the first call traces the kernel, the second reuses it
        with pytest.raises(error, match=message):
            call()
    with arrayloss.fast_paths(False), pytest.raises(error, match=message):
        call()


def test_valid_values_after_invalid_ones_use_the_kernel() -> None:
    bad, good = jnp.asarray([0.5, 1.5]), jnp.asarray([0.5, 0.25])
    y = jnp.asarray([0.0, 1.0])
    with pytest.raises(ValueError, match="must lie between 0 and 1"):
        arrayloss.binary_cross_entropy(bad, y)
    got = arrayloss.binary_cross_entropy(good, y)
    np.testing.assert_allclose(float(got), -(np.log(0.5) + np.log(0.25)) / 2, rtol=1e-12)


def test_warnings_are_emitted_at_every_call_at_the_callers_line() -> None:
    x = jnp.asarray(LOGITS)
    for _ in range(3):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            arrayloss.kl_div(x, jnp.asarray(PROBS))  # 'mean': PyTorch's UserWarning
            arrayloss.mse_loss(x[:, :1], x[:, 0])  # a target of another shape
            arrayloss.l1_loss(x, x, size_average=False)  # legacy arguments
        kinds = [(w.category, str(w.message)[:20]) for w in caught]
        assert [k for k, _ in kinds] == [UserWarning, UserWarning, DeprecationWarning], kinds
        assert {w.filename for w in caught} == {__file__}


def test_a_loss_that_reads_values_falls_back_to_eager_for_good() -> None:
    calls = []

    @_dispatch.jax_auto_jit
    def reads_values(x: Any) -> Any:
        calls.append(1)
        return x * float(jnp.max(x))  # needs a concrete value: not traceable

    x = jnp.asarray([1.0, 2.0])
    for _ in range(2):
        np.testing.assert_allclose(np.asarray(reads_values(x)), [2.0, 4.0])
    # Traced once (which failed), then eager twice; the key is remembered.
    assert len(calls) == 3
    assert len(_dispatch._not_jittable) == 1


def test_sharded_input_keeps_its_sharding_per_sample() -> None:
    # One device here: the sharding is trivial, but the call goes through the kernel with
    # a committed NamedSharding (tests/test_sharding.py runs eight devices).
    mesh = jax.sharding.Mesh(np.array(jax.devices()[:1]), ("batch",))
    spec = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("batch"))
    x = jax.device_put(jnp.asarray(LOGITS), spec)
    t = jax.device_put(jnp.asarray(BINARY), spec)
    out = arrayloss.binary_cross_entropy_with_logits(x, t, reduction="none")
    assert _keys("binary_cross_entropy_with_logits") == 1
    assert out.sharding.is_equivalent_to(spec, out.ndim)


# --- PyTorch: ATen's kernels for cross_entropy and nll_loss --------------------------------

TORCH_CASES = {
    "cross_entropy indices": ("cross_entropy", LOGITS, CLASSES, {"label_smoothing": 0.2}),
    "cross_entropy ignored": (
        "cross_entropy",
        LOGITS,
        np.where(CLASSES == 2, -100, CLASSES),
        {"weight": PROBS[0]},
    ),
    "cross_entropy probabilities": (
        "cross_entropy",
        LOGITS,
        PROBS / PROBS.sum(1, keepdims=True),
        {},
    ),
    "nll_loss int32": ("nll_loss", np.log(PROBS), CLASSES.astype(np.int32), {"reduction": "sum"}),
    "nll_loss uint8 weighted": (
        "nll_loss",
        np.log(PROBS),
        CLASSES.astype(np.uint8),
        {"weight": PROBS[1], "ignore_index": 4},
    ),
    "bce with logits": (
        "binary_cross_entropy_with_logits",
        LOGITS * 30,
        BINARY,
        {"pos_weight": PROBS[2], "weight": PROBS[3]},
    ),
    "l1": ("l1_loss", LOGITS, np.where(BINARY > 0, LOGITS, OTHER), {}),  # kinks at d = 0
    "mse": ("mse_loss", LOGITS, OTHER, {"reduction": "none"}),
    "huber": ("huber_loss", LOGITS, OTHER, {"delta": 0.7, "reduction": "sum"}),
    "smooth_l1": ("smooth_l1_loss", LOGITS, OTHER, {"beta": 0.3}),
    "smooth_l1 beta 0": ("smooth_l1_loss", LOGITS, OTHER, {"beta": 0.0}),
    # log_sigmoid's kernel (_dispatch.native_elementwise): logits far past exp's
    # overflow, and exact zeros (the kink of |x|, where the gradient is sigmoid's 0.5).
    "soft margin": (
        "soft_margin_loss",
        np.where(BINARY > 0, LOGITS * 300, 0.0),
        SIGNS[:, None] * np.sign(OTHER),
        {},
    ),
    "multilabel soft margin": (
        "multilabel_soft_margin_loss",
        np.where(BINARY > 0, LOGITS * 300, 0.0),
        BINARY[::-1].copy(),
        {"weight": PROBS[0], "reduction": "none"},
    ),
    # xlogy's kernel: a target with zeros (t log t = 0) and a NaN.
    "kl div": (
        "kl_div",
        np.log(PROBS),
        np.where(BINARY > 0, PROBS[::-1], np.where(LOGITS > 1.5, np.nan, 0.0)),
        {"reduction": "none"},
    ),
    # clamp_min's kernel (the hinge), at its kink z = 0 too, where the gradient is 1.
    "margin ranking": (
        "margin_ranking_loss",
        np.where(BINARY > 0, OTHER, LOGITS),
        OTHER,
        {"target": np.sign(LOGITS), "margin": 0.0, "reduction": "none"},
    ),
    "hinge embedding": (
        "hinge_embedding_loss",
        np.where(BINARY > 0, 1.0, LOGITS),
        -np.sign(OTHER),
        {"reduction": "sum"},
    ),
    "bce with logits pos_weight": (
        "binary_cross_entropy_with_logits",
        np.where(BINARY > 0, LOGITS * 300, 0.0),
        BINARY[::-1].copy(),
        {"pos_weight": PROBS[2] + 1, "weight": PROBS[3]},
    ),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", sorted(TORCH_CASES))
def test_torch_native_kernel_equals_the_generic_loss_with_gradients(case: str, dtype: str) -> None:
    name, x, t, options = TORCH_CASES[case]
    loss = getattr(arrayloss, name)
    torch_dtype = getattr(torch, dtype)
    options = {
        k: torch.asarray(v, dtype=torch_dtype) if isinstance(v, np.ndarray) else v
        for k, v in options.items()
    }
    target = torch.asarray(t) if t.dtype.kind in "iu" else torch.asarray(t, dtype=torch_dtype)
    results = []
    for fast in (True, False):
        xt = torch.asarray(x, dtype=torch_dtype).requires_grad_(True)
        with arrayloss.fast_paths(fast):
            value = loss(xt, target, **options)
        value.sum().backward()
        results.append((value.detach(), xt.grad))
    (fast_value, fast_grad), (value, grad) = results
    assert fast_value.dtype == value.dtype == torch_dtype
    rtol = 1e-5 if dtype == "float32" else 1e-12
    torch.testing.assert_close(fast_value, value, rtol=rtol, atol=rtol)
    torch.testing.assert_close(fast_grad, grad, rtol=rtol, atol=rtol)


def test_torch_log_sigmoid_kernel_is_the_composed_formula(monkeypatch: pytest.MonkeyPatch) -> None:
    # _dispatch.native_elementwise: ATen's log_sigmoid for float32/float64 tensors, with
    # the composed formula's values (finite at +-1e4, where exp overflows) and gradient
    # (sigmoid(-x): 0.5 at the kink x = 0); not for half precision, not with the fast
    # paths off, not for other libraries.
    from arrayloss._numerics import log_sigmoid

    calls: list[Any] = []
    real = torch.nn.functional.logsigmoid

    def spy(x: Any) -> Any:
        calls.append(x.dtype)
        return real(x)

    monkeypatch.setattr(torch.nn.functional, "logsigmoid", spy)
    values = np.array([-1e4, -100.0, -20.0, -1.0, -1e-8, 0.0, 1e-8, 1.0, 20.0, 100.0, 1e4])
    for dtype in (torch.float32, torch.float64):
        results = []
        for fast in (True, False):
            x = torch.asarray(values, dtype=dtype).requires_grad_(True)
            with arrayloss.fast_paths(fast):
                value = log_sigmoid(arrayloss._dispatch.namespace_of(x=x).xp, x)
            (grad,) = torch.autograd.grad(value.sum(), x)
            results.append((value.detach(), grad))
        (fast_value, fast_grad), (value, grad) = results
        assert torch.isfinite(fast_value).all()
        torch.testing.assert_close(fast_value, value, rtol=0, atol=0)  # the same formula
        tol = 1e-6 if dtype == torch.float32 else 1e-15
        torch.testing.assert_close(fast_grad, grad, rtol=tol, atol=tol)
        assert fast_grad[5] == 0.5  # d/dx log sigmoid(x) = sigmoid(-x), at x = 0
    assert calls == [torch.float32, torch.float64]
    xp = arrayloss._dispatch.namespace_of(x=torch.zeros(2, dtype=torch.bfloat16)).xp
    assert _dispatch.native_elementwise(xp, torch.bfloat16, "log_sigmoid") is None
    assert _dispatch.native_elementwise(np, np.float64, "log_sigmoid") is None


def test_torch_xlogy_kernel_only_for_operands_without_a_gradient() -> None:
    # torch.xlogy's gradient with respect to y at x = y = 0 is 0 / 0 = NaN; the composed
    # form's is finite. kl_div with a target that requires a gradient stays composed.
    x = torch.asarray(np.log(PROBS))
    t = torch.asarray(np.where(BINARY > 0, PROBS, 0.0))
    xp = arrayloss._dispatch.namespace_of(x=x).xp
    assert _dispatch.native_elementwise(xp, t.dtype, "xlogy", t, t) is torch.xlogy
    mixed = (t.to(torch.float32), t)  # two dtypes: the composed form's promotion decides
    assert _dispatch.native_elementwise(xp, t.dtype, "xlogy", *mixed) is None
    t.requires_grad_(True)
    assert _dispatch.native_elementwise(xp, t.dtype, "xlogy", t, t) is None
    (grad,) = torch.autograd.grad(arrayloss.kl_div(x, t, reduction="sum"), t)
    with arrayloss.fast_paths(False):
        (generic,) = torch.autograd.grad(arrayloss.kl_div(x, t, reduction="sum"), t)
    assert torch.isfinite(grad).all()
    torch.testing.assert_close(grad, generic, rtol=0, atol=0)


@pytest.mark.parametrize("name", ["kl_div", "poisson_nll_loss"])
def test_torch_in_place_terms_only_for_constants_and_to_the_bit(name: str) -> None:
    # "kl_div_terms" (xlogy(t, t) - t x) and "poisson_log_terms" (exp(x) - y x) subtract
    # the product in place from the fresh first term: the composed form's bits, taken
    # only where nothing requires a gradient (in place over a tensor autograd keeps
    # would fail), and from 65,536 elements on; a broadcast pair computes out of place.
    block = {"kl_div": "kl_div_terms", "poisson_nll_loss": "poisson_log_terms"}[name]
    first = {"kl_div": lambda x, t: torch.xlogy(t, t), "poisson_nll_loss": lambda x, t: x.exp()}
    loss = getattr(arrayloss, name)
    options = {"reduction": "none"}
    copies = (_dispatch._IN_PLACE_MIN_ELEMENTS // PROBS.size + 1, 1)  # (13110, 5): enough
    for dtype in (torch.float32, torch.float64):
        x = torch.asarray(np.tile(np.log(PROBS), copies), dtype=dtype)
        t = torch.asarray(np.tile(np.where(BINARY > 0, PROBS, 0.0), copies), dtype=dtype)
        xp = _dispatch.namespace_of(x=x).xp
        assert _dispatch.native_elementwise(xp, dtype, block, x[:6], t[:6]) is None  # small
        native = _dispatch.native_elementwise(xp, dtype, block, x, t)
        assert native is not None
        composed = first[name](x, t) - t * x
        torch.testing.assert_close(native(x, t), composed, rtol=0, atol=0)
        torch.testing.assert_close(loss(x, t, **options), composed, rtol=0, atol=0)
        # Broadcast both ways: out of place, the same values as PyTorch's.
        for a, b in ((x, t[0]), (x[0], t)):
            torch.testing.assert_close(native(a, b), first[name](a, b) - b * a, rtol=0, atol=0)
        # With a gradient: the composed form, and its gradient.
        for tracked in (x, t):
            tracked.requires_grad_(True)
            assert _dispatch.native_elementwise(xp, dtype, block, x, t) is None
            with torch.no_grad():
                assert _dispatch.native_elementwise(xp, dtype, block, x, t) is not None
            tracked.requires_grad_(False)
        x.requires_grad_(True)
        value = loss(x, t, reduction="sum")
        (grad,) = torch.autograd.grad(value, x)
        expected = getattr(torch.nn.functional, name)(x, t, reduction="sum")
        (expected_grad,) = torch.autograd.grad(expected, x)
        torch.testing.assert_close(value, expected)
        torch.testing.assert_close(grad, expected_grad)


@pytest.mark.parametrize("full", [False, True])
def test_torch_gaussian_nll_terms_in_place_only_for_constants_and_to_the_bit(full: bool) -> None:
    # "gaussian_nll_terms": the variance clamped at eps, then 0.5 (log v + (x - y)^2 / v),
    # in place on two fresh blocks: the composed form's bits (variances of 0, below eps,
    # inf and NaN among them) and PyTorch's, only where nothing requires a gradient,
    # from 65,536 elements on, and with x, y and var of one shape.
    rng = np.random.default_rng(5)
    n = _dispatch._IN_PLACE_MIN_ELEMENTS + 3
    var = rng.uniform(0.0, 2.0, size=n)
    var[:4] = [0.0, 1e-9, np.inf, np.nan]
    for dtype in (torch.float32, torch.float64):
        x, y, v = (
            torch.asarray(a, dtype=dtype) for a in (rng.normal(size=n), rng.normal(size=n), var)
        )
        xp = _dispatch.namespace_of(x=x).xp
        block = "gaussian_nll_terms"
        assert _dispatch.native_elementwise(xp, dtype, block, x[:6], y[:6], v[:6]) is None
        assert _dispatch.native_elementwise(xp, dtype, block, x, y, v) is not None
        got = arrayloss.gaussian_nll_loss(x, y, v, full=full, reduction="none")
        composed = _generic(arrayloss.gaussian_nll_loss, x, y, v, full=full, reduction="none")
        expected = torch.nn.functional.gaussian_nll_loss(x, y, v, full=full, reduction="none")
        torch.testing.assert_close(got, composed, rtol=0, atol=0, equal_nan=True)
        torch.testing.assert_close(got, expected, rtol=0, atol=0, equal_nan=True)
        # var 0 and 1e-9 clamped at eps (finite), var inf: log(inf) / 2, var NaN: NaN.
        assert torch.isfinite(got[:2]).all()
        assert got[2] == math.inf
        assert torch.isnan(got[3])

        # A variance per sample broadcast over the classes: the composed form.
        wide = (x.reshape(-1, 1).expand(-1, 2), y.reshape(-1, 1).expand(-1, 2), v.reshape(-1, 1))
        torch.testing.assert_close(
            arrayloss.gaussian_nll_loss(*wide, full=full, reduction="none"),
            torch.nn.functional.gaussian_nll_loss(*wide, full=full, reduction="none"),
            rtol=0,
            atol=0,
            equal_nan=True,
        )
        # With a gradient: not the block (it writes in place), PyTorch's gradient.
        for tracked in (x, y, v):
            tracked.requires_grad_(True)
            assert _dispatch.native_elementwise(xp, dtype, block, x, y, v) is None
            with torch.no_grad():
                assert _dispatch.native_elementwise(xp, dtype, block, x, y, v) is not None
            tracked.requires_grad_(False)
        finite = slice(4, None)
        xs = x[finite].clone().requires_grad_(True)
        value = arrayloss.gaussian_nll_loss(xs, y[finite], v[finite], full=full)
        reference = torch.nn.functional.gaussian_nll_loss(xs, y[finite], v[finite], full=full)
        torch.testing.assert_close(value, reference)
        torch.testing.assert_close(
            torch.autograd.grad(value, xs)[0], torch.autograd.grad(reference, xs)[0]
        )


def test_torch_hinge_embedding_terms_in_place_by_blocks_and_to_the_bit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # "hinge_embedding_terms": the first term in place, the second added in place block
    # by block: the composed form's bits (signs of zero included) and PyTorch's, for
    # targets of -1, 1, 0, 2 and NaN and inputs of NaN and +-inf; blocks of 1,000 here,
    # so the last block is partial. From 65,536 elements on.
    monkeypatch.setattr(_dispatch, "_TERMS_BLOCK_ELEMENTS", 1000)
    rng = np.random.default_rng(6)
    n = _dispatch._IN_PLACE_MIN_ELEMENTS + 3
    x_values = rng.normal(size=n)
    x_values[:5] = [np.nan, np.inf, -np.inf, 1.0, -0.0]
    y_values = rng.choice([-1.0, 1.0, 0.0, 2.0, np.nan], size=n)
    y_values[:5] = [-1.0, -1.0, 1.0, -1.0, 1.0]
    for dtype, margin in itertools.product((torch.float32, torch.float64), (1.0, 0.3)):
        x, y = torch.asarray(x_values, dtype=dtype), torch.asarray(y_values, dtype=dtype)
        xp = _dispatch.namespace_of(x=x).xp
        block = "hinge_embedding_terms"
        assert _dispatch.native_elementwise(xp, dtype, block, y[:6]) is None
        assert _dispatch.native_elementwise(xp, dtype, block, y) is not None
        got = arrayloss.hinge_embedding_loss(x, y, margin, reduction="none")
        composed = _generic(arrayloss.hinge_embedding_loss, x, y, margin, reduction="none")
        expected = torch.nn.functional.hinge_embedding_loss(x, y, margin, reduction="none")
        for reference in (composed, expected):
            torch.testing.assert_close(got, reference, rtol=0, atol=0, equal_nan=True)
            assert torch.equal(torch.signbit(got), torch.signbit(reference))
        # A transposed input: its terms take its layout, which has no flat view.
        xt, yt = x[:-3].reshape(256, 256).T, y[:-3].reshape(256, 256)
        torch.testing.assert_close(
            arrayloss.hinge_embedding_loss(xt, yt, margin, reduction="none"),
            torch.nn.functional.hinge_embedding_loss(xt, yt, margin, reduction="none"),
            rtol=0,
            atol=0,
            equal_nan=True,
        )
        # The block's one operand is the target: it must need no gradient.
        y.requires_grad_(True)
        assert _dispatch.native_elementwise(xp, dtype, block, y) is None
        y.requires_grad_(False)
        # With a gradient for x: the autograd Function, whose gradient is autograd's
        # through the composed form with torch's clamp_min (the block's limit raised,
        # as before the block) and through PyTorch's own, to the bit (signs of zero
        # included; at x = NaN both give 0, as clamp_min's backward).
        for reduction in ("none", "mean", "sum"):
            grads = []
            for call in ("block", "composed", "torch"):
                xs = x.clone().requires_grad_(True)
                limit = _dispatch._IN_PLACE_MIN_ELEMENTS if call == "block" else n + 1
                with monkeypatch.context() as patch:
                    patch.setattr(_dispatch, "_IN_PLACE_MIN_ELEMENTS", limit)
                    loss = (
                        torch.nn.functional.hinge_embedding_loss
                        if call == "torch"
                        else arrayloss.hinge_embedding_loss
                    )
                    value = loss(xs, y, margin, reduction=reduction)
                has_block = _graph_has(value.grad_fn, "HingeEmbeddingTermsBackward")
                assert has_block is (call == "block")
                upstream = torch.ones_like(value) if reduction == "none" else None
                grads.append(torch.autograd.grad(value, xs, upstream)[0])
            for reference in grads[1:]:
                torch.testing.assert_close(grads[0], reference, rtol=0, atol=0, equal_nan=True)
                assert torch.equal(torch.signbit(grads[0]), torch.signbit(reference))
    # Differentiable again, and under torch.func: on a few elements (the block's limit
    # lowered; `empty` keeps the call off the plain lane, which takes ATen's kernel).
    monkeypatch.setattr(_dispatch, "_IN_PLACE_MIN_ELEMENTS", 1)
    x = torch.asarray(x_values[5:17]).requires_grad_(True)
    y = torch.asarray(y_values[5:17])

    def loss(x: Any) -> Any:
        return arrayloss.hinge_embedding_loss(x, y, 0.3, reduction="sum", empty="zero")

    assert _graph_has(loss(x).grad_fn, "HingeEmbeddingTermsBackward")
    assert torch.autograd.gradcheck(loss, (x,))
    assert torch.autograd.gradgradcheck(loss, (x,))
    grad = torch.func.grad(loss)(x.detach())
    with arrayloss.fast_paths(False):
        expected = torch.func.grad(loss)(x.detach())
    torch.testing.assert_close(grad, expected, rtol=0, atol=0)


def _ctc_calls() -> list[tuple[str, tuple[Any, ...], dict[str, Any]]]:
    # (T, N, C) = (6, 4, 5) log-probabilities; padded and concatenated targets; an
    # impossible alignment (sample 1: 3 labels with a repeat in 3 frames), an empty
    # target, a length-0 input, blank = 4; unbatched (T, C); lengths as lists.
    rng = np.random.default_rng(11)
    logits = rng.normal(size=(6, 4, 5))
    log_probs = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    targets = np.array([[1, 2, 3], [2, 2, 1], [1, 0, 0], [3, 1, 0]])
    input_lengths = np.array([6, 3, 5, 0])
    target_lengths = np.array([3, 3, 0, 0])
    flat = np.concatenate([t[:n] for t, n in zip(targets, target_lengths, strict=True)])
    return [
        ("padded", (log_probs, targets, input_lengths, target_lengths), {}),
        ("concatenated", (log_probs, flat, input_lengths, target_lengths), {}),
        ("lists", (log_probs, targets, [6, 6, 5, 4], [3, 2, 1, 0]), {"blank": 4}),
        ("unbatched", (log_probs[:, 0], targets[0], np.array(6), np.array(3)), {}),
        (
            "zero_infinity",
            (log_probs, targets, input_lengths, target_lengths),
            {"zero_infinity": True},
        ),
    ]


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_torch_ctc_forward_without_a_gradient_is_atens(
    dtype: torch.dtype, reduction: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # native_ctc_loss: log-probabilities that need no gradient take ATen's forward after
    # arrayloss's checks: PyTorch's values (to the bit for 'none'), the composed
    # recursion's within rounding (+inf, or 0 with zero_infinity, where no alignment
    # exists). With a gradient, the composed recursion (its exact derivative).
    from arrayloss import _ctc

    taken: list[bool] = []
    real = _dispatch.native_ctc_loss

    def spy(*args: Any) -> Any:
        kernel = real(*args)
        taken.append(kernel is not None)
        return kernel

    monkeypatch.setattr(_ctc, "native_ctc_loss", spy)
    for label, arrays, options in _ctc_calls():
        args = [
            torch.asarray(a, dtype=dtype)
            if i == 0
            else torch.asarray(a)
            if isinstance(a, np.ndarray)
            else a
            for i, a in enumerate(arrays)
        ]
        kwargs = {**options, "reduction": reduction}
        value = arrayloss.ctc_loss(*args, **kwargs)
        assert taken.pop() is True, label
        expected = torch.nn.functional.ctc_loss(*args, **kwargs)
        with arrayloss.fast_paths(False):
            composed = arrayloss.ctc_loss(*args, **kwargs)
        assert taken.pop() is False
        assert value.dtype == dtype
        if reduction == "none":
            torch.testing.assert_close(value, expected, rtol=0, atol=0, msg=label)
        torch.testing.assert_close(value, expected, msg=label)
        torch.testing.assert_close(value, composed, msg=label)
        # With a gradient: ATen's backward mapped onto the exact derivative, the
        # composed recursion's gradient within rounding (0 for the impossible sample,
        # where PyTorch's is NaN without zero_infinity).
        x = args[0].clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(arrayloss.ctc_loss(x, *args[1:], **kwargs).sum(), x)
        assert taken.pop() is True
        with arrayloss.fast_paths(False):
            composed_value = arrayloss.ctc_loss(x, *args[1:], **kwargs)
            (composed_grad,) = torch.autograd.grad(composed_value.sum(), x)
        assert taken.pop() is False
        assert torch.isfinite(grad).all()
        torch.testing.assert_close(grad, composed_grad, msg=label)


def test_torch_ctc_gradient_of_the_gradient_is_the_composed_recursions() -> None:
    # native_ctc_loss with create_graph: the backward differentiates the composed
    # recursion, so a gradient of the gradient exists (ATen's backward has none) and
    # equals the composed form's (NaN where it has NaN: the impossible sample's and the
    # -inf entry's frames); a -inf log-probability keeps a finite gradient, 0.
    _, (log_probs, targets, input_lengths, target_lengths), _ = _ctc_calls()[0]
    with_inf = np.array(log_probs)
    with_inf[2, 0, 3] = -np.inf
    for lp in (log_probs, with_inf):
        results = []
        for fast in (True, False):
            x = torch.asarray(lp).requires_grad_(True)
            with arrayloss.fast_paths(fast):
                value = arrayloss.ctc_loss(
                    x,
                    torch.asarray(targets),
                    torch.asarray(input_lengths),
                    torch.asarray(target_lengths),
                )
                (grad,) = torch.autograd.grad(value, x, create_graph=True)
                (second,) = torch.autograd.grad((grad * grad).sum(), x)
            results.append((grad.detach(), second))
        (grad, second), (composed_grad, composed_second) = results
        assert torch.isfinite(grad).all()
        torch.testing.assert_close(grad, composed_grad)
        torch.testing.assert_close(second, composed_second, equal_nan=True)
        assert torch.isfinite(second).any()
        if lp is with_inf:
            assert grad[2, 0, 3] == 0


class _LoggedTensor(torch.Tensor):
    """A torch.Tensor subclass that logs the functions its __torch_function__ sees."""

    seen: ClassVar[list[Any]] = []

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        cls.seen.append(func)
        return super().__torch_function__(func, types, args, kwargs or {})


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("mse_loss", {}),
        ("l1_loss", {}),
        ("huber_loss", {"delta": 0.7}),
        ("smooth_l1_loss", {"beta": 0.3}),
        ("smooth_l1_loss", {"beta": 0.0}),
        ("binary_cross_entropy_with_logits", {}),
        ("binary_cross_entropy_with_logits", {"weight": PROBS[0], "pos_weight": PROBS[1] + 1}),
        ("nll_loss", {"ignore_index": 2}),
        ("cross_entropy", {"weight": PROBS[0], "label_smoothing": 0.2}),
    ],
)
def test_torch_aten_binding_is_torch_functional_to_the_bit(
    name: str, options: dict[str, Any], reduction: str
) -> None:
    # _dispatch._TORCH_ATEN_BINDING: F's ATen binding without F's Python preamble; the
    # values and gradients are F's own, bit for bit (beta = 0 included, which F turns
    # into l1_loss). The kink of l1 (d = 0) and values past delta are in the data.
    x_values = np.where(BINARY > 0, OTHER, LOGITS)
    options = {k: torch.asarray(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}
    results = []
    for ours in (True, False):
        x = torch.asarray(x_values).requires_grad_(True)
        if name in ("nll_loss", "cross_entropy"):
            t = torch.asarray(CLASSES)
        else:
            t = torch.asarray(BINARY if name.startswith("binary") else OTHER)
        if ours:
            value = getattr(arrayloss, name)(x, t, reduction=reduction, **options)
        else:
            value = getattr(torch.nn.functional, name)(x, t, reduction=reduction, **options)
        (grad,) = torch.autograd.grad(value.sum(), x)
        results.append((value.detach(), grad))
    (value, grad), (expected, expected_grad) = results
    torch.testing.assert_close(value, expected, rtol=0, atol=0)
    torch.testing.assert_close(grad, expected_grad, rtol=0, atol=0)


@pytest.mark.parametrize("name", ["nll_loss", "cross_entropy"])
@pytest.mark.parametrize("kernel_checks", [True, False], ids=["cpu", "cuda-like"])
def test_torch_class_index_range_checked_by_the_kernel_on_cpu(
    name: str, kernel_checks: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # _dispatch.kernel_checks_class_indices: on CPU tensors ATen's kernel checks the
    # targets, so arrayloss's own check runs only once the kernel has raised (and raises
    # arrayloss's error, naming the index); where the kernel would assert on the device
    # (CUDA, simulated here) arrayloss checks first, and the kernel never sees the index.
    from arrayloss import _classification

    checks: list[int] = []
    kernel_calls: list[str] = []
    real_check = _classification._check_indices_in_range

    def check_spy(*args: Any) -> None:
        checks.append(1)
        real_check(*args)

    monkeypatch.setattr(_classification, "_check_indices_in_range", check_spy)
    monkeypatch.setattr(_classification, "kernel_checks_class_indices", lambda ctx: kernel_checks)
    # The full path's deferral is tested here: not the plain-call lane before it (tested
    # in test_torch_plain_class_index_call_goes_straight_to_the_kernel).
    monkeypatch.setattr(_classification, "plain_torch_class_index_kernel", lambda *args: None)
    real_native = _dispatch.native_kernel

    def native_spy(*args: Any) -> Any:
        kernel = real_native(*args)
        if kernel is None:
            return None

        def logged(*arguments: Any) -> Any:
            kernel_calls.append(name)
            return kernel(*arguments)

        return logged

    monkeypatch.setattr(_classification, "native_kernel", native_spy)
    loss = getattr(arrayloss, name)
    x = torch.asarray(np.log(PROBS))
    good = torch.asarray(CLASSES)
    expected = getattr(torch.nn.functional, name)(x, good)
    torch.testing.assert_close(loss(x, good), expected, rtol=0, atol=0)
    assert checks == ([] if kernel_checks else [1])
    assert kernel_calls == [name]
    for bad_index in (5, -1):
        checks.clear()
        kernel_calls.clear()
        bad = torch.asarray(np.where(CLASSES == 2, bad_index, CLASSES))
        with pytest.raises(
            arrayloss.ArrayLossIndexError, match=rf"class index {bad_index}, outside \[0, 5\)"
        ):
            loss(x, bad, reduction="none")
        assert checks == [1]  # after the kernel on CPU, before it elsewhere
        assert kernel_calls == ([name] if kernel_checks else [])
    # ignore_index names an index the kernel skips: no error on either path.
    ignored = torch.asarray(np.where(CLASSES == 2, 7, CLASSES))
    torch.testing.assert_close(
        loss(x, ignored, ignore_index=7),
        getattr(torch.nn.functional, name)(x, ignored, ignore_index=7),
        rtol=0,
        atol=0,
    )


PLAIN_LOSSES = {
    "mse_loss": {},
    "l1_loss": {},
    "huber_loss": {"delta": 0.7},
    "smooth_l1_loss": {"beta": 0.0},
    "binary_cross_entropy_with_logits": {},
    "hinge_embedding_loss": {"margin": 0.7},
}
# The module that asks for each lane, and its targets.
PLAIN_LOSS_MODULES = {
    "binary_cross_entropy_with_logits": "_binary",
    "hinge_embedding_loss": "_embedding",
}
SIGN_GRID = np.where(BINARY > 0, 1.0, -1.0)
# hinge_embedding_loss's targets: -1 and 1, and others (which get both terms).
HINGE_TARGETS = np.where(OTHER > 1.0, 0.5, SIGN_GRID)


def _spy_on_lane(monkeypatch: pytest.MonkeyPatch, module: Any, lane: str) -> list[bool]:
    # Replaces ``module``'s plain-call lane ``lane`` (imported from _dispatch) by a spy;
    # the list it returns records, per call, whether the lane gave a kernel.
    taken: list[bool] = []
    real = getattr(_dispatch, lane)

    def spy(*args: Any, **kwargs: Any) -> Any:
        kernel = real(*args, **kwargs)
        taken.append(kernel is not None)
        return kernel

    monkeypatch.setattr(module, lane, spy)
    return taken


@pytest.mark.parametrize("name", sorted(PLAIN_LOSSES))
def test_torch_plain_call_goes_straight_to_the_kernel(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # _dispatch.plain_torch_kernel: a call of plain float32/float64 tensors of one shape,
    # with every other argument at its default, skips arrayloss's checks (all of which
    # would pass) for ATen's kernel: F's values and gradients to the bit. Any call that is
    # not plain takes the full path, with its promotion, warnings and errors.
    import importlib

    module = importlib.import_module(f"arrayloss.{PLAIN_LOSS_MODULES.get(name, '_regression')}")
    taken = _spy_on_lane(monkeypatch, module, "plain_torch_kernel")
    loss = getattr(arrayloss, name)
    functional = getattr(torch.nn.functional, name)
    options = PLAIN_LOSSES[name]
    t_values = {
        "binary_cross_entropy_with_logits": BINARY,
        "hinge_embedding_loss": HINGE_TARGETS,
    }.get(name, np.where(BINARY > 0, LOGITS, OTHER))
    for dtype in (torch.float32, torch.float64):
        for reduction in ("none", "mean", "sum"):
            results = []
            for ours in (True, False):
                x = torch.asarray(LOGITS, dtype=dtype).requires_grad_(True)
                t = torch.asarray(t_values, dtype=dtype)
                f = loss if ours else functional
                value = f(x, t, reduction=reduction, **options)
                (grad,) = torch.autograd.grad(value.sum(), x)
                results.append((value.detach(), grad))
            (value, grad), (expected, expected_grad) = results
            assert taken.pop() is True
            torch.testing.assert_close(value, expected, rtol=0, atol=0)
            torch.testing.assert_close(grad, expected_grad, rtol=0, atol=0)
    x = torch.asarray(LOGITS)
    t = torch.asarray(t_values)
    # Not plain: each takes the full path, and its behavior there.
    if name.startswith("binary"):
        with pytest.raises(ValueError, match="must have the shape of `input`"):
            loss(x, t[:1], **options)  # a target of another shape
    elif name == "hinge_embedding_loss":
        loss(x, t[:1], **options)  # a broadcast target (PyTorch does not warn)
    else:
        with pytest.warns(UserWarning, match="target size"):
            loss(x, t[:1], **options)  # a broadcast target
    loss(x, t.to(torch.float32), **options)  # two dtypes: promoted
    loss(torch.asarray(LOGITS, dtype=torch.float16), t.to(torch.float16), **options)
    loss(x.as_subclass(_LoggedTensor), t.as_subclass(_LoggedTensor), **options)
    with arrayloss.fast_paths(False):
        loss(x, t, **options)
    with pytest.raises(ValueError, match="reduction"):
        loss(x, t, reduction="avg", **options)
    with pytest.raises((TypeError, ValueError), match="reduction"):
        loss(x, t, reduction=["mean"], **options)  # type: ignore[arg-type]
    assert not any(taken)
    if name == "huber_loss":
        with pytest.raises(ValueError, match="`delta` must be positive"):
            loss(x, t, delta=0.0)
        with pytest.raises(TypeError, match="`delta` must be a real number"):
            loss(x, t, delta=torch.tensor(1.0))
    if name == "mse_loss":
        with pytest.warns(DeprecationWarning, match="size_average"):
            loss(x, t, size_average=False)
    assert not any(taken)


def test_torch_hinge_embedding_lane_stops_at_its_size(monkeypatch: pytest.MonkeyPatch) -> None:
    # hinge_embedding_loss's ATen lane (_dispatch.plain_torch_kernel) stops above
    # _PLAIN_TORCH_MAX_ELEMENTS, where ATen's form holds one more full-size block: there
    # the plain call computes the composed form (_dispatch.plain_namespace). Both are
    # ATen's operations in ATen's order, so the values and gradients agree to the bit on
    # either side of the limit, also for targets other than -1 and 1.
    from arrayloss import _embedding

    aten = _spy_on_lane(monkeypatch, _embedding, "plain_torch_kernel")
    composed = _spy_on_lane(monkeypatch, _embedding, "plain_namespace")
    most = _dispatch._PLAIN_TORCH_MAX_ELEMENTS["hinge_embedding_loss"]
    rng = np.random.default_rng(3)
    for n in (most, most + 1):
        x_values = rng.normal(size=n)
        t_values = rng.choice([-1.0, 1.0, 0.0, 2.0], size=n, p=[0.45, 0.45, 0.05, 0.05])
        for dtype in (torch.float32, torch.float64):
            for reduction in ("none", "mean", "sum"):
                results = []
                for f in (arrayloss.hinge_embedding_loss, torch.nn.functional.hinge_embedding_loss):
                    x = torch.asarray(x_values, dtype=dtype).requires_grad_(True)
                    t = torch.asarray(t_values, dtype=dtype)
                    value = f(x, t, margin=0.5, reduction=reduction)
                    (grad,) = torch.autograd.grad(value.sum(), x)
                    results.append((value.detach(), grad))
                (value, grad), (expected, expected_grad) = results
                torch.testing.assert_close(value, expected, rtol=0, atol=0)
                torch.testing.assert_close(grad, expected_grad, rtol=0, atol=0)
        assert aten == [n <= most] * 6
        assert composed == ([] if n <= most else [True] * 6)
        aten.clear()
        composed.clear()


LOG_PROBS = np.log(PROBS / PROBS.sum(axis=1, keepdims=True))
# KL's target: probabilities with zeros (0 log 0 = 0), as log-probabilities for log_target.
KL_TARGET = np.where(BINARY > 0, np.exp(LOG_PROBS), 0.0)

# The composed losses with a plain-call lane (_dispatch.plain_namespace): the
# module that asks, the arrays of a call (the first is differentiated), and option sets
# to call with beside the defaults.
COMPOSED_PLAIN_LOSSES: dict[str, tuple[str, tuple[np.ndarray, ...], list[dict[str, Any]]]] = {
    "soft_margin_loss": ("_margin", (LOGITS, SIGN_GRID), [{}]),
    "multilabel_soft_margin_loss": ("_margin", (LOGITS, BINARY), [{}]),
    "kl_div": (
        "_divergence",
        (LOG_PROBS, KL_TARGET),
        [{"reduction": "batchmean"}, {"log_target": True, "reduction": "batchmean"}],
    ),
    "poisson_nll_loss": (
        "_probabilistic",
        (np.abs(LOGITS), np.floor(3 * PROBS)),
        [{"log_input": False, "eps": 0.25}, {"full": True}],
    ),
    "gaussian_nll_loss": (
        "_probabilistic",
        (LOGITS, OTHER, np.where(BINARY > 0, PROBS, 0.0)),  # var: 0s clamped to eps
        [{"full": True, "eps": 0.25}],
    ),
    "margin_ranking_loss": ("_embedding", (LOGITS, OTHER, SIGN_GRID), [{"margin": 0.3}]),
}


def test_torch_mean_on_the_cpu_is_the_sum_over_the_size() -> None:
    # _dispatch.native_mean: ATen's CPU mean is its sum divided by the number of
    # elements, so 'mean' by torch.mean gives sum(loss) / size to the bit (the value the
    # generic path computes), at sizes where the sum runs in one block and in several.
    # None (sum / size) elsewhere: with a gradient wanted (mean's backward would make a
    # full-size block), off the CPU, in half precision, with fast paths off.
    from arrayloss import _reduction

    xp = array_api_compat.array_namespace(torch.zeros(1))
    rng = np.random.default_rng(11)
    for n in (1, 7, 1000, 65_537, 1_000_003):
        for shape in ((n,), (1, n), (n, 1)):
            values = np.exp(rng.normal(size=n)).reshape(shape) * 1e3
            for dtype in (torch.float32, torch.float64):
                loss = torch.asarray(values, dtype=dtype)
                assert _dispatch.native_mean(xp, loss) is not None
                mean = _reduction.reduce_plain(xp, loss, "mean")
                with arrayloss.fast_paths(False):
                    expected = _reduction.reduce_plain(xp, loss, "mean")
                torch.testing.assert_close(mean, expected, rtol=0, atol=0)
                torch.testing.assert_close(mean, torch.sum(loss) / loss.numel(), rtol=0, atol=0)
    tracked = torch.ones(3, requires_grad=True)
    assert _dispatch.native_mean(xp, tracked) is None
    with torch.no_grad():
        assert _dispatch.native_mean(xp, tracked) is not None
    assert _dispatch.native_mean(xp, torch.ones(3, dtype=torch.float16)) is None
    assert _dispatch.native_mean(xp, torch.ones(3, device="meta")) is None  # not the CPU
    with arrayloss.fast_paths(False):
        assert _dispatch.native_mean(xp, torch.ones(3)) is None
    assert _dispatch.native_mean(array_api_compat.array_namespace(np.ones(3)), np.ones(3)) is None
    # Nothing to average: NaN, as sum / 0.
    assert torch.isnan(_reduction.reduce_plain(xp, torch.ones(0), "mean"))


@pytest.mark.parametrize("name", sorted(COMPOSED_PLAIN_LOSSES))
def test_torch_plain_call_of_a_composed_loss_skips_only_the_checks(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # _dispatch.plain_namespace: a call of plain float32/float64 tensors of one
    # shape, the legacy arguments and arrayloss's own options at their defaults, skips the
    # checks and computes the full path's kernel and reduction: the full path's values
    # and gradients to the bit (the lane switched off), and PyTorch's within rounding.
    # Any call that is not plain takes the full path, with its promotion and errors.
    import importlib

    module = importlib.import_module(f"arrayloss.{COMPOSED_PLAIN_LOSSES[name][0]}")
    taken = _spy_on_lane(monkeypatch, module, "plain_namespace")
    real_lane = module.plain_namespace
    _, values, option_sets = COMPOSED_PLAIN_LOSSES[name]
    loss = getattr(arrayloss, name)
    functional = getattr(torch.nn.functional, name)
    reductions = [{"reduction": r} for r in ("none", "mean", "sum")]
    for dtype in (torch.float32, torch.float64):
        for options in reductions + option_sets:
            results = []
            for how in ("lane", "full path", "torch"):
                monkeypatch.setattr(
                    module,
                    "plain_namespace",
                    real_lane if how == "lane" else lambda *a, **k: None,
                )
                arrays = [torch.asarray(v, dtype=dtype) for v in values]
                arrays[0].requires_grad_(True)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)  # kl_div's 'mean'
                    value = (loss if how != "torch" else functional)(*arrays, **options)
                (grad,) = torch.autograd.grad(value.sum(), arrays[0])
                results.append((value.detach(), grad))
            assert taken.pop() is True, options
            (value, grad), (full_value, full_grad), (expected, expected_grad) = results
            torch.testing.assert_close(value, full_value, rtol=0, atol=0)
            torch.testing.assert_close(grad, full_grad, rtol=0, atol=0)
            torch.testing.assert_close(value, expected)
            torch.testing.assert_close(grad, expected_grad)
    monkeypatch.setattr(module, "plain_namespace", real_lane)
    taken.clear()
    arrays = [torch.asarray(v) for v in values]
    # kl_div's 'mean' warns on the lane as on the full path, at the caller's line.
    if name == "kl_div":
        with pytest.warns(UserWarning, match="batchmean") as record:
            loss(*arrays, reduction="mean")
        assert record[0].filename == __file__
        assert taken.pop() is True
    # Not plain: each takes the full path, and its behavior there.
    head, *rest = arrays
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # kl_div's 'mean'
        loss(head, *(a[:1] for a in rest))  # broadcast arrays
        loss(head, *(a.to(torch.float32) for a in rest))  # two dtypes: promoted
        loss(*(a.to(torch.float16) for a in arrays))
        loss(*(a.as_subclass(_LoggedTensor) for a in arrays))
        loss(*arrays, empty="zero")
        per_sample = loss(*arrays, reduction="none").shape  # the 'none' output's shape
        assert taken.pop() is True
        loss(*arrays, sample_weight=torch.ones(per_sample, dtype=torch.float64))
        with arrayloss.fast_paths(False):
            loss(*arrays)
    if "size_average" in inspect.signature(loss).parameters:
        with pytest.warns(DeprecationWarning, match="size_average"):
            loss(*arrays, size_average=False)
    with pytest.raises(ValueError, match="reduction"):
        loss(*arrays, reduction="avg")
    with pytest.raises(ValueError, match="empty"):
        loss(*arrays, empty="none")
    assert not any(taken)
    taken.clear()
    if name == "gaussian_nll_loss":
        # The lane still reads var's values, as PyTorch: a negative one raises.
        with pytest.raises(ValueError, match="var has negative entry"):
            loss(head, rest[0], -rest[1] - 1.0)
        assert taken == [True]


# Every loss with a plain-call lane on NumPy (_dispatch.plain_namespace): the composed
# ones above, and those whose torch lane is ATen's kernel (on NumPy: their composed
# kernel). Values with extremes: exp and products overflow, log(0), 0 / 0 (NumPy would
# warn; the full path silences it, and so must the lane).
NUMPY_PLAIN_LOSSES: dict[str, tuple[str, tuple[np.ndarray, ...], list[dict[str, Any]]]] = {
    **COMPOSED_PLAIN_LOSSES,
    "mse_loss": ("_regression", (LOGITS * 1e200, OTHER), [{}]),
    "l1_loss": ("_regression", (LOGITS, OTHER), [{}]),
    "huber_loss": ("_regression", (LOGITS, OTHER), [{"delta": 0.5}]),
    "smooth_l1_loss": ("_regression", (LOGITS, OTHER), [{"beta": 0.5}, {"beta": 0.0}]),
    "binary_cross_entropy_with_logits": ("_binary", (LOGITS * 1e3, BINARY), [{}]),
    "hinge_embedding_loss": ("_embedding", (np.abs(LOGITS), HINGE_TARGETS), [{"margin": 2}]),
    "poisson_nll_loss": (
        "_probabilistic",
        (np.abs(LOGITS) * 1e3, np.floor(3 * PROBS)),  # exp overflows: inf, as PyTorch
        [{"log_input": False, "eps": 0.25}, {"full": True}],
    ),
}


@pytest.mark.parametrize("name", sorted(NUMPY_PLAIN_LOSSES))
def test_numpy_plain_call_skips_only_the_checks(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # _dispatch.plain_namespace on NumPy: a call of plain float32/float64 ndarrays of one
    # shape, the other arguments at their defaults, skips the checks and computes the
    # full path's kernel and reduction (_reduction.reduce_plain_call): the full path's
    # values, dtype and type (a 0-d ndarray, not a NumPy scalar) to the bit, no warning
    # (they are errors here), and PyTorch's values within rounding. Any call that is
    # not plain takes the full path.
    import importlib

    module_name, values, option_sets = NUMPY_PLAIN_LOSSES[name]
    module = importlib.import_module(f"arrayloss.{module_name}")
    taken = _spy_on_lane(monkeypatch, module, "plain_namespace")
    loss = getattr(arrayloss, name)
    functional = getattr(torch.nn.functional, name)
    reductions = [{"reduction": r} for r in ("none", "mean", "sum")]
    for dtype in ("float32", "float64"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the overflow of the cast
            arrays = [np.asarray(v, dtype=dtype) for v in values]
        for options in reductions + option_sets:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                warnings.filterwarnings("ignore", "reduction: 'mean'", UserWarning)
                value = loss(*arrays, **options)
                assert taken.pop() is True, options
                with arrayloss.fast_paths(False):
                    full = loss(*arrays, **options)
                expected = functional(*(torch.asarray(a) for a in arrays), **options).numpy()
            assert type(value) is np.ndarray
            assert value.dtype == full.dtype == np.dtype(dtype)
            assert value.shape == full.shape
            np.testing.assert_array_equal(value, full, strict=True)
            rtol, atol = (2e-6, 1e-7) if dtype == "float32" else (1e-12, 1e-15)
            np.testing.assert_allclose(value, expected, rtol=rtol, atol=atol)
    taken.clear()
    arrays = [np.asarray(v) for v in values]
    head, *rest = arrays

    class _Subclass(np.ndarray):
        pass

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # kl_div's 'mean', a broadcast's size warning
        with contextlib.suppress(ValueError):  # BCE with logits refuses it
            loss(head, *(a[:1] for a in rest))  # broadcast arrays
        loss(head, *(a.astype(np.float32) for a in rest))  # two dtypes: promoted
        loss(*(a.astype(np.float16) for a in arrays))
        loss(*(a.astype(">f8") for a in arrays))  # not native-endian
        loss(*(a.view(_Subclass) for a in arrays))
        loss(*arrays, empty="zero")
        per_sample = loss(*arrays, reduction="none").shape  # the 'none' output's shape
        assert taken.pop() is True
        loss(*arrays, sample_weight=np.ones(per_sample))
        with arrayloss.fast_paths(False):
            loss(*arrays)
        if "size_average" in inspect.signature(loss).parameters:
            loss(*arrays, size_average=False)
    with pytest.raises(ValueError, match="reduction"):
        loss(*arrays, reduction="avg")
    assert not any(taken)


@pytest.mark.parametrize("name", ["nll_loss", "cross_entropy"])
def test_torch_plain_class_index_call_goes_straight_to_the_kernel(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # _dispatch.plain_torch_class_index_kernel: float32/float64 (N, C, ...) tensors with
    # int64 class indices on the CPU, every other argument at its default, skip
    # arrayloss's checks for ATen's kernel (F's values and gradients to the bit); the
    # kernel's own range check raises, and the full path then raises arrayloss's error.
    from arrayloss import _classification

    taken = _spy_on_lane(monkeypatch, _classification, "plain_torch_class_index_kernel")
    loss = getattr(arrayloss, name)
    functional = getattr(torch.nn.functional, name)
    logp = np.log(PROBS)
    cases = [
        (logp, CLASSES, {}),
        (logp, np.where(CLASSES == 2, 9, CLASSES), {"ignore_index": 9, "reduction": "sum"}),
        (logp.reshape(3, 2, 5).transpose(0, 2, 1), CLASSES.reshape(3, 2), {"reduction": "none"}),
    ]
    if name == "cross_entropy":
        cases.append((logp, CLASSES, {"label_smoothing": 0.3}))
    for dtype in (torch.float32, torch.float64):
        for x_values, t_values, options in cases:
            results = []
            for ours in (True, False):
                x = torch.asarray(np.ascontiguousarray(x_values), dtype=dtype).requires_grad_(True)
                f = loss if ours else functional
                value = f(x, torch.asarray(t_values), **options)
                (grad,) = torch.autograd.grad(value.sum(), x)
                results.append((value.detach(), grad))
            (value, grad), (expected, expected_grad) = results
            assert taken.pop() is True
            torch.testing.assert_close(value, expected, rtol=0, atol=0)
            torch.testing.assert_close(grad, expected_grad, rtol=0, atol=0)
    assert not taken
    x, t = torch.asarray(logp), torch.asarray(CLASSES)
    # An index out of range: the kernel raises, then the full path arrayloss's error.
    with pytest.raises(arrayloss.ArrayLossIndexError, match=r"class index 5, outside \[0, 5\)"):
        loss(x, torch.asarray(np.where(CLASSES == 2, 5, CLASSES)))
    assert taken == [True]
    taken.clear()
    # Not plain: the full path.
    loss(x, t.to(torch.int32))  # int32 indices
    loss(x, t, weight=torch.asarray(PROBS[0]))
    loss(x[0], t[0])  # unbatched (C,)
    loss(x.to(torch.float16), t)
    loss(x.as_subclass(_LoggedTensor), t)
    with arrayloss.fast_paths(False):
        loss(x, t)
    assert not any(taken)
    taken.clear()
    with pytest.raises(ValueError, match="reduction"):
        loss(x, t, reduction="avg")
    with pytest.raises(TypeError, match="ignore_index"):
        loss(x, t, ignore_index=True)  # type: ignore[arg-type]
    if name == "cross_entropy":
        with pytest.raises(ValueError, match="label_smoothing"):
            loss(x, t, label_smoothing=1.5)
        loss(x, t, ignore_probability_rows=True)
    assert not any(taken)


def test_torch_plain_multi_margin_call_goes_straight_to_the_kernel(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # plain_torch_class_index_kernel serves multi_margin_loss too: (N, C) float32/float64
    # with int64 indices on the CPU, p an int, margin a number, weight and arrayloss's
    # options at their defaults: F's values and gradients to the bit. ATen's kernel raises
    # for an index out of range; the full path then raises arrayloss's error.
    from arrayloss import _classification

    taken = _spy_on_lane(monkeypatch, _classification, "plain_torch_class_index_kernel")
    t = torch.asarray(CLASSES)
    for dtype in (torch.float32, torch.float64):
        for options in (
            {},
            {"p": 2, "margin": 0.5, "reduction": "sum"},
            {"margin": 2, "reduction": "none"},
        ):
            results = []
            for f in (arrayloss.multi_margin_loss, torch.nn.functional.multi_margin_loss):
                x = torch.asarray(LOGITS, dtype=dtype).requires_grad_(True)
                value = f(x, t, **options)
                (grad,) = torch.autograd.grad(value.sum(), x)
                results.append((value.detach(), grad))
            (value, grad), (expected, expected_grad) = results
            assert taken.pop() is True
            torch.testing.assert_close(value, expected, rtol=0, atol=0)
            torch.testing.assert_close(grad, expected_grad, rtol=0, atol=0)
    x = torch.asarray(LOGITS)
    for bad in (5, -1):
        with pytest.raises(arrayloss.ArrayLossIndexError, match=rf"class index {bad}, outside"):
            arrayloss.multi_margin_loss(x, torch.asarray(np.where(CLASSES == 2, bad, CLASSES)))
        assert taken.pop() is True  # tried, raised, and the full path raised arrayloss's error
    # No sample: not the kernel (its 'mean' reads uninitialized memory), PyTorch's NaN.
    empty = arrayloss.multi_margin_loss(x[:0], t[:0])
    assert taken.pop() is False
    assert bool(torch.isnan(empty))
    # Not plain: the full path.
    arrayloss.multi_margin_loss(x, t.to(torch.int32))
    arrayloss.multi_margin_loss(x, t, weight=torch.asarray(PROBS[0]))
    arrayloss.multi_margin_loss(x[0], t[0])  # unbatched (C,)
    arrayloss.multi_margin_loss(x.to(torch.float16), t)
    arrayloss.multi_margin_loss(x.as_subclass(_LoggedTensor), t)
    arrayloss.multi_margin_loss(x, t, sample_weight=torch.ones(6))
    arrayloss.multi_margin_loss(x, t, empty="zero")
    arrayloss.multi_margin_loss(x, t, p=2.0)  # type: ignore[arg-type]
    with arrayloss.fast_paths(False):
        arrayloss.multi_margin_loss(x, t)
    with pytest.warns(DeprecationWarning, match="size_average"):
        arrayloss.multi_margin_loss(x, t, size_average=False)
    with pytest.raises(ValueError, match="`p` must be 1 or 2"):
        arrayloss.multi_margin_loss(x, t, p=3)
    with pytest.raises(TypeError, match="`margin` must be a float"):
        arrayloss.multi_margin_loss(x, t, margin=True)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="reduction"):
        arrayloss.multi_margin_loss(x, t, reduction="avg")
    assert not any(taken)


def test_torch_plain_multilabel_margin_call_goes_straight_to_the_kernel(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # plain_torch_class_index_kernel serves multilabel_margin_loss: (N, C) float32/float64
    # with an int64 target of that shape on the CPU; ATen's kernel checks every element of
    # the target in [-1, C), the padding after the first -1 included, as arrayloss does.
    from arrayloss import _margin

    taken = _spy_on_lane(monkeypatch, _margin, "plain_torch_class_index_kernel")
    t = torch.asarray(MULTILABEL)
    for dtype in (torch.float32, torch.float64):
        for reduction in ("none", "mean", "sum"):
            results = []
            for f in (arrayloss.multilabel_margin_loss, torch.nn.functional.multilabel_margin_loss):
                x = torch.asarray(LOGITS, dtype=dtype).requires_grad_(True)
                value = f(x, t, reduction=reduction)
                (grad,) = torch.autograd.grad(value.sum(), x)
                results.append((value.detach(), grad))
            (value, grad), (expected, expected_grad) = results
            assert taken.pop() is True
            torch.testing.assert_close(value, expected, rtol=0, atol=0)
            torch.testing.assert_close(grad, expected_grad, rtol=0, atol=0)
    x = torch.asarray(LOGITS)
    for position, bad in (((0, 0), 5), ((0, 1), -2), ((0, 4), 7)):  # (0, 4): after the -1
        target = MULTILABEL.copy()
        target[position] = bad
        with pytest.raises(arrayloss.ArrayLossIndexError, match=rf"class index {bad}, outside"):
            arrayloss.multilabel_margin_loss(x, torch.asarray(target))
        assert taken.pop() is True  # tried, raised, and the full path raised arrayloss's error
    empty = arrayloss.multilabel_margin_loss(x[:0], t[:0])  # not ATen's uninitialized mean
    assert taken.pop() is False
    assert bool(torch.isnan(empty))
    # Not plain: the full path.
    arrayloss.multilabel_margin_loss(x, t.to(torch.int32))
    arrayloss.multilabel_margin_loss(x[0], t[0])  # unbatched (C,)
    arrayloss.multilabel_margin_loss(x.to(torch.float16), t)
    arrayloss.multilabel_margin_loss(x.as_subclass(_LoggedTensor), t)
    arrayloss.multilabel_margin_loss(x, t, sample_weight=torch.ones(6))
    with arrayloss.fast_paths(False):
        arrayloss.multilabel_margin_loss(x, t)
    with pytest.warns(DeprecationWarning, match="size_average"):
        arrayloss.multilabel_margin_loss(x, t, size_average=False)
    with pytest.raises(ValueError, match="reduction"):
        arrayloss.multilabel_margin_loss(x, t, reduction="avg")
    assert not any(taken)


def test_torch_plain_linear_cross_entropy_is_pytorchs_definition(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # plain_torch_linear_cross_entropy: (N, D) features, a (C, D) weight, a (C,) bias or
    # none, int64 class indices, on the CPU, logits no more than the full path's block:
    # PyTorch's definition (linear, then cross_entropy) to the bit, values and gradients
    # of the features, weight and bias; the full path within rounding. An index out of
    # range: ATen raises, the full path raises arrayloss's error. Anything else: the
    # full path.
    from arrayloss import _linear

    taken = _spy_on_lane(monkeypatch, _linear, "plain_torch_linear_cross_entropy")
    features, head, bias = LOGITS[:, :3], OTHER[:, :3], PROBS[:, 0]  # C = 6 classes of D = 3
    t = torch.asarray(CLASSES)
    for dtype in (torch.float32, torch.float64):
        for with_bias in (False, True):
            for options in (
                {},
                {"reduction": "sum", "label_smoothing": 0.2},
                {"reduction": "none", "ignore_index": 2},
            ):
                results = []
                for f in (
                    arrayloss.linear_cross_entropy,
                    torch.nn.functional.linear_cross_entropy,
                    "full path",
                ):
                    x, w, b = (
                        torch.asarray(a, dtype=dtype).requires_grad_(True)
                        for a in (features, head, bias)
                    )
                    kwargs = {**options, "linear_bias": b if with_bias else None}
                    if f == "full path":
                        with arrayloss.fast_paths(False):
                            value = arrayloss.linear_cross_entropy(x, w, t, **kwargs)
                    else:
                        value = f(x, w, t, **kwargs)
                    grads = torch.autograd.grad(value.sum(), (x, w, b) if with_bias else (x, w))
                    results.append((value.detach(), grads))
                (value, grads), (expected, expected_grads), (full, full_grads) = results
                assert taken[-2:] == [True, False]  # the lane, then fast paths off
                del taken[:]
                torch.testing.assert_close(value, expected, rtol=0, atol=0)
                for grad, expected_grad, full_grad in zip(
                    grads, expected_grads, full_grads, strict=True
                ):
                    torch.testing.assert_close(grad, expected_grad, rtol=0, atol=0)
                    torch.testing.assert_close(grad, full_grad)
                torch.testing.assert_close(value, full)
    x, w = torch.asarray(features), torch.asarray(head)
    for bad in (6, -1):
        with pytest.raises(arrayloss.ArrayLossIndexError, match=rf"class index {bad}, outside"):
            arrayloss.linear_cross_entropy(
                x, w, torch.asarray(np.where(CLASSES == 2, bad, CLASSES))
            )
        assert taken.pop() is True  # tried, raised, and the full path raised arrayloss's error
    # Not plain: the full path.
    arrayloss.linear_cross_entropy(x, w, t.to(torch.int32))
    arrayloss.linear_cross_entropy(x, w, t, weight=torch.ones(6, dtype=torch.float64))
    arrayloss.linear_cross_entropy(x, w, t, options={"batch_chunk_size": 2})
    arrayloss.linear_cross_entropy(x, w, t, linear_bias=torch.ones(6, dtype=torch.float32))
    with pytest.raises(TypeError, match="one dtype"):
        arrayloss.linear_cross_entropy(x, w.to(torch.float32), t)
    arrayloss.linear_cross_entropy(x[0], w, t[0])  # unbatched (D,)
    arrayloss.linear_cross_entropy(x[:0], w, t[:0])  # no sample
    arrayloss.linear_cross_entropy(x.to(torch.float16), w.to(torch.float16), t)
    arrayloss.linear_cross_entropy(x.as_subclass(_LoggedTensor), w, t)
    arrayloss.linear_cross_entropy(x, w, t, sample_weight=torch.ones(6))
    arrayloss.linear_cross_entropy(x, w, t, empty="zero")
    arrayloss.linear_cross_entropy(x, w, t, label_smoothing=0)  # an int: the full path checks it
    with torch.autocast("cpu", dtype=torch.bfloat16):
        arrayloss.linear_cross_entropy(x.to(torch.float32), w.to(torch.float32), t)
    with arrayloss.fast_paths(False):
        arrayloss.linear_cross_entropy(x, w, t)
    with pytest.raises(ValueError, match="reduction"):
        arrayloss.linear_cross_entropy(x, w, t, reduction="avg")
    # More logits than one block of the full path: the full path, chunked.
    monkeypatch.setattr(_linear, "BLOCK_ELEMENTS", 6 * 6 - 1)
    arrayloss.linear_cross_entropy(x, w, t)
    assert not any(taken)


EMBEDDING_LANE_OPTIONS: dict[str, list[dict[str, Any]]] = {
    "cosine_embedding_loss": [{}, {"margin": 0.2, "reduction": "sum"}, {"reduction": "none"}],
    "triplet_margin_loss": [
        {},
        {"margin": 0.5, "eps": 0.0, "swap": True, "reduction": "sum"},
        {"p": 2.0, "reduction": "none"},
    ],
    "triplet_margin_with_distance_loss": [{}, {"margin": 3, "swap": True}, {"reduction": "none"}],
}


@pytest.mark.parametrize("name", sorted(EMBEDDING_LANE_OPTIONS))
def test_torch_plain_embedding_call_goes_straight_to_the_kernel(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # _dispatch.plain_torch_embedding_kernel: (N, D) float32/float64 tensors of one shape
    # (and cosine's target of shape (N,) in their dtype), valid options and the others at
    # their defaults, go to ATen's kernel, whose formula the composed form follows: F's
    # values and gradients to the bit; the full path's within rounding.
    from arrayloss import _embedding

    taken = _spy_on_lane(monkeypatch, _embedding, "plain_torch_embedding_kernel")
    loss = getattr(arrayloss, name)
    functional = getattr(torch.nn.functional, name)
    cosine = name == "cosine_embedding_loss"
    values = [LOGITS, OTHER, SIGNS] if cosine else [LOGITS, OTHER, np.flip(LOGITS, 0)]
    for dtype in (torch.float32, torch.float64):
        for options in EMBEDDING_LANE_OPTIONS[name]:
            results = []
            for f in (loss, functional):
                arrays = [torch.asarray(np.ascontiguousarray(v), dtype=dtype) for v in values]
                arrays[0].requires_grad_(True)
                value = f(*arrays, **options)
                (grad,) = torch.autograd.grad(value.sum(), arrays[0])
                results.append((value.detach(), grad))
            assert taken.pop() is True
            (value, grad), (expected, expected_grad) = results
            torch.testing.assert_close(value, expected, rtol=0, atol=0)
            torch.testing.assert_close(grad, expected_grad, rtol=0, atol=0)
            with arrayloss.fast_paths(False):
                full = loss(
                    *(torch.asarray(np.ascontiguousarray(v), dtype=dtype) for v in values),
                    **options,
                )
            torch.testing.assert_close(value, full)
    taken.clear()
    arrays = [torch.asarray(np.ascontiguousarray(v)) for v in values]
    head, second, third = arrays
    # Not plain: the full path, and its behavior there.
    loss(head[0], second[0], third[0])  # one sample, 1-d
    loss(head, second[:1], third)  # broadcast
    loss(head, second.to(torch.float32), third)  # two dtypes: promoted
    loss(*(a.to(torch.float16) for a in arrays))
    loss(*(a.as_subclass(_LoggedTensor) for a in arrays))
    loss(*arrays, empty="zero")
    loss(*arrays, sample_weight=torch.ones(6))
    loss(head[:0], second[:0], third[:0])  # no sample
    with arrayloss.fast_paths(False):
        loss(*arrays)
    with pytest.raises(ValueError, match="reduction"):
        loss(*arrays, reduction="avg")
    if cosine:
        loss(head, second, third.to(torch.int64))  # an integer target
        with pytest.raises(ValueError, match="must be 0-d or 1-d"):
            loss(head, second, third[:, None])
    else:
        loss(*arrays, margin=float("nan"))  # passes PyTorch's `margin <= 0` check
        with pytest.raises(ValueError, match="`margin` must be greater than 0"):
            loss(*arrays, margin=0.0)
    if name == "triplet_margin_loss":
        with pytest.raises(TypeError, match="must be a bool"):
            loss(*arrays, swap=1)
        loss(*arrays, p=1)
        with pytest.warns(DeprecationWarning, match="size_average"):
            loss(*arrays, size_average=False)
    if name == "triplet_margin_with_distance_loss":
        loss(*arrays, swap=1)  # PyTorch's `if swap:`, as arrayloss's
        loss(*arrays, distance_function=lambda x, y: torch.sum((x - y) ** 2, dim=-1))
    assert not any(taken)


def test_torch_plain_binary_cross_entropy_without_a_gradient_is_atens(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # _dispatch.plain_torch_binary_cross_entropy: plain CPU tensors that need no gradient
    # go to ATen's kernel, which checks the probabilities; arrayloss checks the target
    # first (PyTorch does not). F's values to the bit; the composed form's within
    # rounding. With a gradient, out of range, or not plain: the full path.
    from arrayloss import _binary

    taken: list[bool] = []
    real = _dispatch.plain_torch_binary_cross_entropy

    def spy(*args: Any) -> Any:
        result = real(*args)
        taken.append(result is not None)
        return result

    monkeypatch.setattr(_binary, "plain_torch_binary_cross_entropy", spy)
    soft = np.where(BINARY > 0, PROBS, 1 - PROBS) * 0.9  # soft targets beside hard ones
    edges = np.concatenate([PROBS.ravel()[:-3], [0.0, 1.0, 1e-30]])
    for dtype in (torch.float32, torch.float64):
        for p_values, t_values in ((PROBS, BINARY), (PROBS, soft), (edges, BINARY.ravel())):
            p = torch.asarray(p_values, dtype=dtype)
            t = torch.asarray(t_values, dtype=dtype)
            for reduction in ("none", "mean", "sum"):
                value = arrayloss.binary_cross_entropy(p, t, reduction=reduction)
                assert taken.pop() is True
                expected = torch.nn.functional.binary_cross_entropy(p, t, reduction=reduction)
                torch.testing.assert_close(value, expected, rtol=0, atol=0)
                with arrayloss.fast_paths(False):
                    composed = arrayloss.binary_cross_entropy(p, t, reduction=reduction)
                torch.testing.assert_close(value, composed)
    p, t = torch.asarray(PROBS), torch.asarray(BINARY)
    with torch.no_grad():
        arrayloss.binary_cross_entropy(p.requires_grad_(True), t)
    assert taken.pop() is True  # no gradient wanted under no_grad
    # Out of range (NaN included): the kernel, or arrayloss's target check, refuses, and
    # the full path raises arrayloss's error.
    for name, bad in (("input", 1.5), ("input", np.nan), ("target", -0.5), ("target", np.nan)):
        arrays = {"input": PROBS.copy(), "target": BINARY.copy()}
        arrays[name][2, 3] = bad
        with pytest.raises(arrayloss.ArrayLossValueError, match=f"`{name}` must lie between"):
            arrayloss.binary_cross_entropy(*(torch.asarray(a) for a in arrays.values()))
        assert taken.pop() is False
    taken.clear()
    # A gradient: the composed form's, not ATen's.
    x = torch.asarray(PROBS).requires_grad_(True)
    (grad,) = torch.autograd.grad(arrayloss.binary_cross_entropy(x, t), x)
    with arrayloss.fast_paths(False):
        (generic,) = torch.autograd.grad(arrayloss.binary_cross_entropy(x, t), x)
    torch.testing.assert_close(grad, generic, rtol=0, atol=0)
    arrayloss.binary_cross_entropy(p[:0], t[:0])  # nothing: the full path's NaN
    # Large: the full path's in-place form is faster than ATen's kernel there.
    size = _dispatch._BCE_LANE_MAX_ELEMENTS + 1
    arrayloss.binary_cross_entropy(torch.full((size,), 0.5), torch.ones(size))
    assert not any(taken)
    taken.clear()
    # Not plain: never asked.
    arrayloss.binary_cross_entropy(p, t, weight=torch.asarray(PROBS[0]))
    arrayloss.binary_cross_entropy(p, t, label_smoothing=0.1)
    arrayloss.binary_cross_entropy(p, t, ignore_index=-1)
    arrayloss.binary_cross_entropy(p, t, empty="zero")
    arrayloss.binary_cross_entropy(p, t, sample_weight=torch.ones(6, 5))
    with pytest.warns(DeprecationWarning, match="size_average"):
        arrayloss.binary_cross_entropy(p, t, size_average=False)
    assert not taken
    with pytest.raises(TypeError, match="must have the dtype of `input`"):
        arrayloss.binary_cross_entropy(p, t.to(torch.float32))  # the full path's error
    arrayloss.binary_cross_entropy(p.to(torch.float16), t.to(torch.float16))
    assert not any(taken)


def _stacked(*arrays: np.ndarray) -> np.ndarray:
    # Three samples of a call's array for torch.func.vmap: the array, flipped, scaled.
    return np.stack([arrays[0], np.flip(arrays[0], 0), 0.5 * arrays[0]])


VMAP_CALLS: dict[str, tuple[np.ndarray, ...]] = {
    # Not gaussian_nll_loss: its check of var reads values (PyTorch's F too), which
    # torch.func.vmap refuses.
    **{
        name: values
        for name, (_, values, _) in COMPOSED_PLAIN_LOSSES.items()
        if name != "gaussian_nll_loss"
    },
    "mse_loss": (LOGITS, OTHER),
    "binary_cross_entropy_with_logits": (LOGITS, BINARY),
    "hinge_embedding_loss": (LOGITS, HINGE_TARGETS),
    "cosine_embedding_loss": (LOGITS, OTHER, SIGNS),
    "triplet_margin_loss": (LOGITS, OTHER, np.flip(LOGITS, 0)),
    "triplet_margin_with_distance_loss": (LOGITS, OTHER, np.flip(LOGITS, 0)),
}


@pytest.mark.parametrize("name", sorted(VMAP_CALLS))
def test_torch_func_vmap_over_the_lanes_batches_without_warnings(name: str) -> None:
    # Under torch.func transforms the plain-call lanes stand aside (_dispatch._plain_torch):
    # ATen's triplet kernel has no batching rule (vmap warned of "a performance drop"), and soft_margin's constants-only block writes with out=, which
    # vmap refuses. The batched call equals the loop of calls (warnings are errors here).
    loss = getattr(arrayloss, name)
    options = {"reduction": "batchmean"} if name == "kl_div" else {"reduction": "sum"}
    batched = [torch.asarray(np.ascontiguousarray(_stacked(v))) for v in VMAP_CALLS[name]]
    values = torch.func.vmap(lambda *arrays: loss(*arrays, **options))(*batched)
    expected = torch.stack([loss(*(a[i] for a in batched), **options) for i in range(3)])
    torch.testing.assert_close(values, expected)


def test_torch_aten_binding_leaves_tensor_subclasses_to_torch_functional() -> None:
    # A subclass's __torch_function__ is shown F's function, as with PyTorch's own call.
    x = torch.asarray(LOGITS).as_subclass(_LoggedTensor)
    t = torch.asarray(OTHER).as_subclass(_LoggedTensor)
    _LoggedTensor.seen.clear()
    arrayloss.mse_loss(x, t)
    assert torch.nn.functional.mse_loss in _LoggedTensor.seen


def test_torch_clamped_log_kernel_only_without_a_gradient(monkeypatch: pytest.MonkeyPatch) -> None:
    # clamp_min(log(p), -100): the composed clamped_log's values (the clamp at p = 0 and
    # below e^-100, NaN for p < 0 and NaN), but a NaN gradient at p = 0 (0 * inf); so
    # taken for constants and under torch.no_grad only, and BCE's gradient stays finite.
    from arrayloss._numerics import LOG_CLAMP, clamped_log

    calls: list[str] = []
    real = _dispatch._torch_clamped_log

    def spy(p: Any, floor: float) -> Any:
        calls.append("native")
        return real(p, floor)

    monkeypatch.setattr(_dispatch, "_torch_clamped_log", spy)
    values = np.array([0.0, 1e-45, 1e-300, 1e-30, 0.25, 1.0, 2.0, -0.5, np.nan])
    for dtype in (torch.float32, torch.float64):
        p = torch.asarray(values, dtype=dtype)
        xp = arrayloss._dispatch.namespace_of(p=p).xp
        fast = clamped_log(xp, p)
        with arrayloss.fast_paths(False):
            generic = clamped_log(xp, p)
        torch.testing.assert_close(fast, generic, rtol=0, atol=0, equal_nan=True)
        assert fast[0] == LOG_CLAMP
    assert calls == ["native", "native"]
    calls.clear()
    p = torch.asarray(PROBS).requires_grad_(True)
    p_with_zeros = torch.where(torch.asarray(BINARY) > 0, p, 0.0)
    t = torch.asarray(BINARY[::-1].copy())
    (grad,) = torch.autograd.grad(arrayloss.binary_cross_entropy(p_with_zeros, t), p)
    assert calls == []
    assert torch.isfinite(grad).all()
    # (binary_cross_entropy without a gradient takes its own block, tested below.)


def test_torch_binary_cross_entropy_kernel_values(monkeypatch: pytest.MonkeyPatch) -> None:
    # -lerp(log(1 - p), log(p), t) on the clamped logs, in place: the composed form's
    # values, exactly for targets of 0 and 1 (the clamp at p = 0 and 1 included, NaN for
    # p = NaN), within rounding for soft targets; the inputs untouched.
    calls: list[Any] = []
    real = _dispatch._torch_binary_cross_entropy

    def spy(p: Any, t: Any, floor: float) -> Any:
        calls.append(p.dtype)
        return real(p, t, floor)

    monkeypatch.setattr(_dispatch, "_torch_binary_cross_entropy", spy)
    p_values = np.array([0.0, 1e-45, 1e-30, 0.25, 0.5, 1 - 1e-7, 1.0, 0.0, 1.0, 0.75, np.nan])
    t_values = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.3, 1.0])
    for dtype in (torch.float32, torch.float64):
        p = torch.asarray(p_values, dtype=dtype)
        t = torch.asarray(t_values, dtype=dtype)
        p_before = p.clone()
        # The [0, 1] check reads NaN as out of range: the NaN is checked without it.
        fast = _dispatch._torch_binary_cross_entropy(p, t, -100.0)
        with arrayloss.fast_paths(False):
            generic = arrayloss.binary_cross_entropy(p[:-1], t[:-1], reduction="none")
        torch.testing.assert_close(p, p_before, rtol=0, atol=0, equal_nan=True)
        torch.testing.assert_close(fast[:9], generic[:9], rtol=0, atol=0)  # t = 0 or 1
        assert fast[0] == 0
        assert fast[7] == 100  # log(0) clamped at -100
        assert fast[8] == 100
        tol = 1e-6 if dtype == torch.float32 else 1e-15
        torch.testing.assert_close(fast[9], generic[9], rtol=tol, atol=tol)
        assert torch.isnan(fast[10])
        weight = torch.asarray(PROBS[0, :1], dtype=dtype)
        value = arrayloss.binary_cross_entropy(p[:-1], t[:-1], weight=weight, reduction="sum")
        with arrayloss.fast_paths(False):
            expected = arrayloss.binary_cross_entropy(
                p[:-1], t[:-1], weight=weight, reduction="sum"
            )
        torch.testing.assert_close(value, expected, rtol=tol, atol=tol)
    assert calls == [torch.float32, torch.float32, torch.float64, torch.float64]
    with torch.no_grad():
        arrayloss.binary_cross_entropy(p[:-1].requires_grad_(True), t[:-1])
    assert calls[-1] == torch.float64


def _graph_has(node: Any, name: str) -> bool:
    # Whether autograd's graph below ``node`` holds a node named ``name``.
    seen: set[int] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if current.name() == name:
            return True
        stack.extend(next_node for next_node, _ in current.next_functions)
    return False


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_torch_binary_cross_entropy_function_gradient_is_the_composed_forms(
    reduction: str,
) -> None:
    # With a gradient, the terms run as _dispatch._torch_bce_function: its backward is
    # autograd's gradient through the composed form, operation for operation, so bit for
    # bit: 0 where a log is clamped (p = 0, p = 1, p below e^-100), finite everywhere;
    # with respect to the target too; and differentiable again.
    p_values = np.array([0.0, 1e-45, 1e-30, 0.25, 0.5, 1 - 1e-7, 1.0, 0.0, 1.0, 0.75, 1e-320])
    t_values = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.3, 1.0])
    # A gradient for the target too, or for p alone (the backward then frees 1 - p
    # before it makes p's term).
    for dtype, target_grad in itertools.product((torch.float32, torch.float64), (True, False)):
        weight = torch.asarray(PROBS[1, :1], dtype=dtype)
        results = []
        for fast in (True, False):
            p = torch.asarray(p_values, dtype=dtype).requires_grad_(True)
            t = torch.asarray(t_values, dtype=dtype).requires_grad_(target_grad)
            with arrayloss.fast_paths(fast):
                value = arrayloss.binary_cross_entropy(p, t, weight=weight, reduction=reduction)
            # The Function sits under the weight and the reduction, on the fast path only.
            assert _graph_has(value.grad_fn, "BinaryCrossEntropyTermsBackward") is fast
            results.append(torch.autograd.grad(value.sum(), (p, t) if target_grad else (p,)))
        got, expected = results
        for grad, grad_expected in zip(got, expected, strict=True):
            torch.testing.assert_close(grad, grad_expected, rtol=0, atol=0)
        grad_p = got[0]
        assert torch.isfinite(grad_p).all()
        assert grad_p[7] == 0  # p = 0, t = 1: the clamped log(p) is not differentiated
    p = torch.asarray(PROBS.ravel()[:12]).requires_grad_(True)
    t = torch.asarray(PROBS.ravel()[12:24]).requires_grad_(True)

    def loss(p: Any, t: Any) -> Any:
        return arrayloss.binary_cross_entropy(p, t, reduction=reduction).sum()

    assert torch.autograd.gradcheck(loss, (p, t))
    assert torch.autograd.gradgradcheck(loss, (p, t))
    grad = torch.func.grad(loss)(p.detach(), t.detach())
    with arrayloss.fast_paths(False):
        expected = torch.func.grad(loss)(p.detach(), t.detach())
    torch.testing.assert_close(grad, expected, rtol=0, atol=0)


def test_numpy_clip_fast_path_is_the_standard_clip() -> None:
    # _dispatch.clip: numpy.clip for exact ndarrays (array-api-compat's broadcasts its
    # bounds first); the same values as the standard clip, NaN kept, +-inf clipped, the
    # input's dtype kept (a bound float32 cannot hold: the standard clip decides).
    xp = _dispatch.namespace_of(x=np.zeros(1)).xp
    x = np.array([np.nan, np.inf, -np.inf, -2.0, -0.5, 0.0, 0.5, 2.0], dtype=np.float32)
    for lowest, highest in ((-1.0, 1.0), (-1e40, 1e40)):
        # 1e40 overflows float32 in the cast (a warning the losses silence: they clip
        # inside ArrayContext.quiet_floating_point).
        with np.errstate(over="ignore"):
            fast = _dispatch.clip(xp, x, lowest, highest)
            with arrayloss.fast_paths(False):
                standard = _dispatch.clip(xp, x, lowest, highest)
        assert fast.dtype == standard.dtype == np.float32
        np.testing.assert_array_equal(fast, standard)
    np.testing.assert_array_equal(
        _dispatch.clip(xp, x, -1.0, 1.0), [np.nan, 1, -1, -1, -0.5, 0, 0.5, 1]
    )


def test_torch_unit_interval_check_of_a_tensor_that_requires_grad() -> None:
    # The check reads min and max as Python floats: from detached values, so PyTorch's
    # "Converting a tensor with requires_grad=True to a scalar" warning is not raised.
    p = torch.asarray(PROBS).requires_grad_(True)
    t = torch.asarray(BINARY)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        arrayloss.binary_cross_entropy(p, t).backward()
    for bad, got in ((p * 2, r"got values from 0\.\d+ to 1\.\d+"), (p + np.nan, "got NaN")):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(ValueError, match=f"`input` must lie between 0 and 1; {got}"):
                arrayloss.binary_cross_entropy(bad, t)


def test_torch_native_kernel_is_called_for_single_and_double_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[Any] = []
    real = torch._C._nn.cross_entropy_loss  # the ATen binding under F.cross_entropy

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[0].dtype)
        return real(*args, **kwargs)

    monkeypatch.setattr(torch._C._nn, "cross_entropy_loss", spy)
    monkeypatch.setattr(_dispatch, "_torch_aten_kernels", {})  # built again, with the spy
    t = torch.asarray(CLASSES)
    for dtype in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
        arrayloss.cross_entropy(torch.asarray(LOGITS, dtype=dtype), t)
    with arrayloss.fast_paths(False):
        arrayloss.cross_entropy(torch.asarray(LOGITS), t)
    assert calls == [torch.float32, torch.float64]


def test_torch_native_kernel_only_where_its_arguments_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = torch._C._nn.mse_loss  # the ATen binding under F.mse_loss, called directly

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append("native")
        return real(*args, **kwargs)

    monkeypatch.setattr(torch._C._nn, "mse_loss", spy)
    monkeypatch.setattr(_dispatch, "_torch_aten_kernels", {})  # built again, with the spy
    x = torch.asarray(LOGITS)
    arrayloss.mse_loss(x, torch.asarray(OTHER))
    assert calls == ["native"]
    arrayloss.mse_loss(x, torch.asarray(OTHER), weight=torch.asarray(PROBS))  # a weight
    arrayloss.mse_loss(x, torch.asarray(OTHER, dtype=torch.float32))  # two dtypes
    with pytest.warns(UserWarning, match="target size"):
        arrayloss.mse_loss(x, torch.asarray(OTHER[0]))  # broadcast
    assert calls == ["native"]


def test_torch_native_path_keeps_arraylosss_errors() -> None:
    x = torch.asarray(LOGITS)
    with pytest.raises(IndexError, match=r"`target` holds class index 5, outside \[0, 5\)"):
        arrayloss.cross_entropy(x, torch.asarray(CLASSES + 1))
    with pytest.raises(ValueError, match="`reduction` must be one of"):
        arrayloss.nll_loss(x, torch.asarray(CLASSES), reduction="avg")


def test_torch_native_kernel_not_taken_with_arraylosss_own_options(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # ATen's kernels know nothing of empty= and ignore_probability_rows= (issue 10,
    # part 2): with either set, the generic definition runs; with the defaults, ATen's.
    calls: list[str] = []
    # The ATen bindings under F.cross_entropy and F.nll_loss, which arrayloss calls.
    for binding, name in (("cross_entropy_loss", "cross_entropy"), ("nll_loss_nd", "nll_loss")):
        real = getattr(torch._C._nn, binding)

        def spy(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            calls.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(torch._C._nn, binding, spy)
    monkeypatch.setattr(_dispatch, "_torch_aten_kernels", {})  # built again, with the spies
    x, t = torch.asarray(LOGITS), torch.asarray(CLASSES)
    p = torch.asarray(PROBS / PROBS.sum(1, keepdims=True))
    arrayloss.cross_entropy(x, t)
    arrayloss.cross_entropy(x, p)
    arrayloss.nll_loss(x, t)
    assert calls == ["cross_entropy", "cross_entropy", "nll_loss"]
    calls.clear()
    for reduction in ("none", "mean", "sum"):
        arrayloss.cross_entropy(x, t, reduction=reduction, empty="zero")
        arrayloss.cross_entropy(x, p, reduction=reduction, empty="zero")
        arrayloss.cross_entropy(x, t, reduction=reduction, ignore_probability_rows=True)
        arrayloss.cross_entropy(x, p, reduction=reduction, ignore_probability_rows=True)
        arrayloss.nll_loss(x, t, reduction=reduction, empty="zero")
    assert calls == []
    # ... and equal to the generic definition with the defaults, where nothing is empty
    # or ignored (PyTorch's value: the conformance suite checks the generic one).
    with arrayloss.fast_paths(False):
        generic = arrayloss.cross_entropy(x, p)
    torch.testing.assert_close(
        arrayloss.cross_entropy(x, p, empty="zero", ignore_probability_rows=True), generic
    )


def test_jax_kernels_of_arraylosss_own_options() -> None:
    # empty= and ignore_probability_rows= are static options of the cached kernel (one
    # per set), traced without reading a value: the kernel equals the generic loss, and
    # so does its gradient, under a user's grad (all rows of PADDED's ignored ones too).
    padded = np.where(np.arange(6)[:, None] % 3 == 0, -100.0, PROBS / PROBS.sum(1, keepdims=True))
    x, p, t = jnp.asarray(LOGITS), jnp.asarray(padded), jnp.asarray(np.full(6, -100))
    cases = [
        (arrayloss.cross_entropy, p, {"ignore_probability_rows": True, "label_smoothing": 0.1}),
        (arrayloss.cross_entropy, p[::3], {"ignore_probability_rows": True, "empty": "zero"}),
        (arrayloss.cross_entropy, t, {"empty": "zero"}),
        (arrayloss.nll_loss, t, {"empty": "zero"}),
    ]
    for loss, target, options in cases:

        def total(xx: Any, loss: Any = loss, target: Any = target, options: Any = options) -> Any:
            return jnp.sum(loss(xx, target, **options))

        xx = x[: target.shape[0]]
        for fn in (total, jax.grad(total)):
            expected = _generic(fn, xx)
            got = fn(xx)
            assert np.all(np.isfinite(np.asarray(got)))
            np.testing.assert_allclose(np.asarray(got), np.asarray(expected), rtol=1e-12)
    assert _keys("cross_entropy") == 3
    assert _keys("nll_loss") == 1
