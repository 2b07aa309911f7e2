"""``arrayloss.keras`` against the real Keras 3 (JAX backend), on every backend.

Skipped where Keras is not importable. Each case of ``conformance.keras_frontend.CASES``
compares the front-end's value with Keras's own function or class on the same inputs
and, on torch and JAX, the gradient with respect to ``y_pred`` with ``jax.grad`` of
Keras's; Keras's values are computed once per case.

Kept to about a minute: every case in float32 runs on NumPy and torch (values and
gradients) and in float16 on torch; the other backends (array-api-strict, JAX, JAX under
jit, Dask) run one case per class, the class with sample weights, which goes through
the function, the class's reduction and the weights. ``python -m
conformance.keras_frontend`` runs every case on every backend in both dtypes.
"""

from __future__ import annotations

import pytest

from conformance.backends import BACKENDS, Backend
from conformance.keras_frontend import CASES, Case, keras_reason, run_case

_REASON = keras_reason()
pytestmark = pytest.mark.skipif(_REASON is not None, reason=_REASON or "")

_EVERY_CASE = {"numpy", "torch"}
_HALF = {"torch"}
# One case per class: its first case with sample weights.
_SAMPLE = {
    id(c) for c in {c.name: c for c in reversed(CASES) if c.sample_weight is not None}.values()
}


def _params() -> list[object]:
    """(case, dtype, backend) for the CPU backends in the combinations above only (no
    skipped parameters for the others); a backend not installed here is skipped."""
    params = []
    for backend in BACKENDS:
        if backend.gpu:
            continue
        reason = backend.skip_reason()
        marks = [pytest.mark.skip(reason=f"{backend.name}: {reason}")] if reason else []
        for case in CASES:
            if backend.name not in _EVERY_CASE and id(case) not in _SAMPLE:
                continue
            for dtype in case.dtypes:
                if dtype not in backend.dtypes or (
                    dtype != "float32" and backend.name not in _HALF
                ):
                    continue
                name = f"{case.id}-{dtype}-{backend.name}"
                params.append(pytest.param(case, dtype, backend, id=name, marks=marks))
    return params


@pytest.mark.parametrize(("case", "dtype", "backend"), _params())
def test_matches_keras(case: Case, dtype: str, backend: Backend) -> None:
    result = run_case(case, backend, dtype)
    assert result.passed, result.message
