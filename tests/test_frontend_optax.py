"""``arrayloss.optax`` against the real optax (in the test extras), on every backend.

Each case of ``conformance.optax_frontend.CASES`` compares the front-end function's
per-example values (float32, or a case's only dtype; ``python -m
conformance.optax_frontend`` adds float64) with optax's own function on the same inputs
and, on torch and JAX, the gradient of their sum with ``jax.grad`` of optax's. optax's values are computed once per case; eager JAX
is left to the command (jax-jit covers JAX here), to keep this file fast.
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

from conformance.backends import Backend
from conformance.optax_frontend import CASES, Case, optax_reason, run_case

_REASON = optax_reason()
pytestmark = pytest.mark.skipif(_REASON is not None, reason=_REASON or "")


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_matches_optax(case: Case, backend: Backend) -> None:
    if backend.name == "jax":
        # Kept fast: jax-jit covers JAX (values traced, gradients with jax.grad); eager
        # JAX runs in `python -m conformance.optax_frontend`.
        pytest.skip("eager JAX: in python -m conformance.optax_frontend")
    # float32, or the case's own dtype (multiclass_sparsemax_loss: float64 only).
    result = run_case(case, backend, "float32" if "float32" in case.dtypes else case.dtypes[0])
    assert result.passed, result.message


def _public_losses() -> dict[str, object]:
    import optax

    return {
        name: getattr(optax.losses, name)
        for name in dir(optax.losses)
        if not name.startswith("_") and callable(getattr(optax.losses, name))
    }


def test_every_optax_loss_is_provided_or_listed() -> None:
    import arrayloss.optax as front

    provided = set(front.__all__) - {"NOT_PROVIDED"}
    listed = set(front.NOT_PROVIDED)
    names = set(_public_losses())
    assert names == provided | listed
    assert not provided & listed


def _default(value: object) -> object:
    # A function default by its name: optax's ranking_softmax_loss defaults `reduce_fn`
    # to jax.numpy.mean, arrayloss.optax's to a backend-neutral `mean` (same semantics:
    # the conformance cases compare the two, and jnp.mean passed explicitly).
    return getattr(value, "__name__", value) if inspect.isroutine(value) else value


def test_signatures_are_the_installed_optax() -> None:
    import arrayloss.optax as front

    for name, fn in _public_losses().items():
        if name in front.NOT_PROVIDED:
            continue
        theirs = inspect.signature(fn).parameters
        ours = inspect.signature(getattr(front, name)).parameters
        assert [(p.name, p.kind, _default(p.default)) for p in ours.values()] == [
            (p.name, p.kind, _default(p.default)) for p in theirs.values()
        ], name


def test_convex_kl_divergence_warns_as_optax() -> None:
    import jax.numpy as jnp
    import optax

    import arrayloss.optax as front

    x = np.log(np.array([[0.2, 0.8]]))
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        optax.losses.convex_kl_divergence(jnp.asarray(x), jnp.asarray(x))
    assert any(issubclass(w.category, DeprecationWarning) for w in theirs)
    with pytest.warns(DeprecationWarning, match="generalized_kl_divergence"):
        front.convex_kl_divergence(x, np.exp(x))
