"""The dispatch layer: one library, one device, or a named error."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import types

import numpy as np
import pytest

import arrayloss
from arrayloss._dispatch import namespace_of, scan
from conformance.backends import Backend


def test_import_arrayloss_imports_no_array_library() -> None:
    code = textwrap.dedent(
        """
        import sys
        import arrayloss
        arrayloss.BCEWithLogitsLoss()
        banned = ("numpy", "torch", "jax", "jaxlib", "cupy", "dask", "array_api_strict")
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in banned)
        print(",".join(loaded))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "", f"import arrayloss imported: {out}"


def test_public_surface_is_sorted_and_complete() -> None:
    # Submodules (the framework front-ends arrayloss.keras, .optax, .mindspore) become
    # attributes once imported, by any earlier test; they are not star-exported names.
    public = [
        n
        for n in dir(arrayloss)
        if not n.startswith("_") and not isinstance(getattr(arrayloss, n), types.ModuleType)
    ]
    assert arrayloss.__all__ == sorted(arrayloss.__all__)
    assert set(public) - {"annotations"} <= set(arrayloss.__all__)


@pytest.mark.parametrize(
    ("first", "second", "first_type", "second_type"),
    [
        ("numpy", "torch", "numpy.ndarray", "torch.Tensor"),
        ("torch", "jax", "torch.Tensor", "jax.Array"),
        ("numpy", "array-api-strict", "numpy.ndarray", "array_api_strict.Array"),
        ("jax", "numpy", "jax.Array", "numpy.ndarray"),
        ("dask", "numpy", "dask.array.Array", "numpy.ndarray"),
    ],
)
def test_two_libraries_raise_type_error_naming_both(
    first: str, second: str, first_type: str, second_type: str
) -> None:
    from conformance.backends import backend_by_name

    a, b = backend_by_name(first), backend_by_name(second)
    for backend in (a, b):
        if backend.skip_reason():
            pytest.skip(backend.skip_reason() or "")
    x = a.asarray(np.zeros(3))
    t = b.asarray(np.zeros(3))
    message = (
        rf"arrays from two libraries: `input` is {first_type} but `target` is "
        rf"{second_type}; convert them to one library first"
    )
    with pytest.raises(TypeError, match=message):
        arrayloss.binary_cross_entropy_with_logits(x, t)


def test_weight_from_another_library_is_named() -> None:
    torch = pytest.importorskip("torch")
    x = np.zeros(3)
    with pytest.raises(
        TypeError, match=r"`input` is numpy.ndarray but `pos_weight` is torch.Tensor"
    ):
        arrayloss.binary_cross_entropy_with_logits(x, x, pos_weight=torch.ones(3))


@pytest.mark.parametrize("bad", [[0.0, 1.0], (0.0, 1.0), "abc"], ids=["list", "tuple", "str"])
def test_non_array_raises_type_error_naming_type(bad: object) -> None:
    # PyTorch rejects lists for these losses too (AttributeError: no attribute 'size').
    name = type(bad).__name__
    with pytest.raises(TypeError, match=rf"`input` must be an array .*; got {name}"):
        arrayloss.binary_cross_entropy_with_logits(bad, np.zeros(2))


def test_two_devices_raise_value_error_naming_both() -> None:
    xp = pytest.importorskip("array_api_strict")
    x = xp.zeros(3)
    t = xp.zeros(3, device=xp.Device("device1"))
    with pytest.raises(
        ValueError,
        match=r"arrays on two devices: `input` is on .*CPU_DEVICE.* but `target` is on "
        r".*device1.*; move them to one device first",
    ) as info:
        arrayloss.binary_cross_entropy_with_logits(x, t)
    assert isinstance(info.value, RuntimeError)  # PyTorch raises RuntimeError


def test_result_lives_on_the_input_device() -> None:
    xp = pytest.importorskip("array_api_strict")
    device = xp.Device("device1")
    x = xp.zeros(3, device=device)
    out = arrayloss.binary_cross_entropy_with_logits(x, x, reduction="none")
    assert out.device == device
    assert arrayloss.binary_cross_entropy(x, x).device == device


def test_torch_cpu_scalar_combines_with_other_devices() -> None:
    # PyTorch allows a 0-d CPU tensor beside tensors of any device; so does dispatch.
    torch = pytest.importorskip("torch")
    x = torch.zeros(3, device="meta")
    ctx = namespace_of(input=x, target=x, pos_weight=torch.tensor(2.0))
    assert ctx.device == torch.device("meta")


def test_result_follows_the_tensor_beside_a_torch_cpu_scalar_input() -> None:
    torch = pytest.importorskip("torch")
    t = torch.zeros((), device="meta")
    out = arrayloss.binary_cross_entropy_with_logits(torch.tensor(0.5), t, reduction="none")
    assert out.device == torch.device("meta")


def _argument_sets() -> list[dict[str, object]]:
    torch = pytest.importorskip("torch")
    a, b = np.zeros(3), np.ones((2, 3), dtype=np.float32)
    t, meta = torch.zeros(3), torch.zeros(3, device="meta")
    return [
        {"input": a, "target": b},
        {"input": a, "target": b, "weight": None, "sample_weight": a},
        {"input": a, "target": 2.0},  # a Python number: the general path
        {"input": a, "target": np.float64(1.0)},  # a NumPy scalar
        {"input": t, "target": t, "weight": None},
        {"input": t, "target": torch.nn.Parameter(torch.zeros(3))},  # a subclass
        {"input": meta, "target": meta, "pos_weight": torch.tensor(2.0)},  # 0-d CPU
        {"input": torch.tensor(0.5), "target": meta},
        {"input": None, "target": t},
    ]


def test_the_common_type_path_agrees_with_the_general_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # _common_type_context answers for all-ndarray or all-Tensor arguments; wherever it
    # answers, its context is the general path's (which it skips), and it leaves every
    # other combination to the general path.
    from arrayloss import _dispatch

    answered = 0
    for arrays in _argument_sets():
        fast = _dispatch._common_type_context(arrays)
        with monkeypatch.context() as m:
            m.setattr(_dispatch, "_common_type_context", lambda arrays: None)
            general = namespace_of(**arrays)
        assert namespace_of(**arrays) == general
        if fast is not None:
            answered += 1
            assert fast == general, arrays
    assert answered == 4  # the ndarray pairs, the CPU tensors, `None` beside a tensor


def test_the_common_type_path_leaves_errors_to_the_general_path() -> None:
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match="arrays from two libraries"):
        namespace_of(input=np.zeros(3), target=torch.zeros(3))
    with pytest.raises(ValueError, match="arrays on two devices"):
        namespace_of(input=torch.zeros(3), target=torch.zeros(3, device="meta"))


@pytest.mark.parametrize("name", ["input", "target", "weight", "pos_weight"])
def test_python_number_where_an_array_is_required(name: str) -> None:
    # Dispatch ignores numbers (options may be numbers); the loss names the argument.
    arrays = {"input": np.zeros(2), "target": np.zeros(2), name: 2.0}
    expected = "an array or None" if name in ("weight", "pos_weight") else "an array"
    with pytest.raises(TypeError, match=rf"`{name}` must be {expected}; got float"):
        arrayloss.binary_cross_entropy_with_logits(**arrays)


def test_numpy_scalars_are_numpy_arrays() -> None:
    # np.float64 subclasses float, yet it is a 0-d NumPy array to dispatch and to losses.
    out = arrayloss.binary_cross_entropy_with_logits(np.float64(0.0), np.float64(1.0))
    assert isinstance(out, np.ndarray)
    assert np.isclose(out, np.log(2.0))  # closed form: -log(sigmoid(0))


def test_none_and_python_scalars_are_ignored() -> None:
    ctx = namespace_of(input=np.zeros(2), target=None, margin=1.0, p=2)
    assert ctx.eager
    assert ctx.device == "cpu"


def test_no_array_at_all_raises() -> None:
    with pytest.raises(TypeError, match="expected at least one array argument"):
        namespace_of(input=None, target=1.0)


def test_eager_flag(backend: Backend) -> None:
    x = backend.asarray(np.zeros(2))

    def probe(a: object) -> object:
        ctx = namespace_of(input=a)
        seen.append(ctx.eager)
        return a

    seen: list[bool] = []
    backend.call(probe, x)
    assert seen == [not (backend.jit or backend.lazy)]


def _running_products(x: object, factors: object) -> object:
    # A recurrence through dispatch.scan: the carry (state, constant) times each x[t].
    ctx = namespace_of(x=x)
    xp = ctx.xp
    init = (xp.ones_like(x[0, ...]), xp.ones_like(x[0, ...]) * 2.0)
    state, constant = scan(ctx, _product_step, init, (x, factors))
    return state * constant


def _product_step(carry: tuple[object, object], xs: tuple[object, object]) -> tuple[object, object]:
    state, constant = carry
    x_t, f_t = xs
    return state * x_t * f_t, constant  # type: ignore[operator]


def test_scan_runs_a_recurrence_on_every_backend(backend: Backend) -> None:
    # Closed form: 2 * prod over t of x[t] * f[t]. Dask stays lazy (backend.call forbids
    # computing), JAX runs lax.scan (traced under jax-jit).
    x = np.arange(1.0, 13.0).reshape(4, 3) / 4
    f = np.full((4, 1), 0.5)
    result = backend.call(_running_products, backend.asarray(x), backend.asarray(f))
    np.testing.assert_allclose(backend.to_numpy(result), 2 * np.prod(x * f, axis=0), rtol=1e-14)


def _collected_products(x: object, factors: object) -> object:
    # The same recurrence, collecting the state after every step.
    ctx = namespace_of(x=x)
    xp = ctx.xp
    init = (xp.ones_like(x[0, ...]), xp.ones_like(x[0, ...]) * 2.0)
    (state, _), states = scan(ctx, _product_step, init, (x, factors), collect=True)
    return xp.concat([states, state[None, ...]], axis=0)


def test_scan_collects_the_states_on_every_backend(backend: Backend) -> None:
    # Closed form: the running products prod over s <= t of x[s] * f[s], (T, 3), then
    # the final state again (the last collected one).
    x = np.arange(1.0, 13.0).reshape(4, 3) / 4
    f = np.full((4, 1), 0.5)
    result = backend.call(_collected_products, backend.asarray(x), backend.asarray(f))
    running = np.cumprod(x * f, axis=0)
    expected = np.concatenate([running, running[-1:]], axis=0)
    np.testing.assert_allclose(backend.to_numpy(result), expected, rtol=1e-14)
