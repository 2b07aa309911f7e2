"""The backend fixtures: every test that takes ``backend`` (or ``xp``) runs on every
backend of ``conformance.backends.BACKENDS``: NumPy, array-api-strict (always: it proves
arrayloss uses only the standard), PyTorch, JAX eager and under ``jax.jit``, Dask (where
computing inside a loss is an error), and the GPU backends (torch-cuda, jax-gpu, CuPy),
which skip with their reason on a machine without a GPU.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest

from conformance.backends import BACKENDS, Backend

# Keras 3 (the reference of several losses PyTorch lacks, and of arrayloss.keras) runs
# on JAX here: its default backend, TensorFlow, is not installed, and without this any
# test that imports keras first would fail to import it (and skip).
os.environ.setdefault("KERAS_BACKEND", "jax")


def _register_hypothesis_profiles() -> None:
    """Hypothesis profiles (tests/test_properties.py), chosen by HYPOTHESIS_PROFILE: "ci"
    (the default: derandomized, the same bounded examples every run) and "nightly" (many
    more, random). The minimal environment has no hypothesis (and no property tests)."""
    try:
        from hypothesis import HealthCheck, settings
    except ImportError:
        return
    slow = [HealthCheck.too_slow, HealthCheck.data_too_large]
    settings.register_profile(
        "ci",
        derandomize=True,
        max_examples=25,
        deadline=None,
        database=None,
        suppress_health_check=slow,
        print_blob=True,
    )
    settings.register_profile(
        "nightly", max_examples=500, deadline=None, suppress_health_check=slow, print_blob=True
    )
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


_register_hypothesis_profiles()


def _backend_params() -> list[Any]:
    params = []
    for backend in BACKENDS:
        reason = backend.skip_reason()
        marks = [pytest.mark.skip(reason=f"{backend.name}: {reason}")] if reason else []
        params.append(pytest.param(backend, id=backend.name, marks=marks))
    return params


@pytest.fixture(params=_backend_params())
def backend(request: pytest.FixtureRequest) -> Backend:
    """One backend/mode: make arrays with ``backend.asarray``, call losses with
    ``backend.call`` (jit for jax-jit, no compute for Dask), read with ``to_numpy``."""
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def xp(backend: Backend) -> Any:
    """The backend's own array module (numpy, torch, jax.numpy, dask.array, ...)."""
    return backend.namespace()


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261123)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        action="append",
        default=[],
        metavar="NAME",
        help="run the backend-parametrized tests only on these backends (repeatable): "
        + ", ".join(b.name for b in BACKENDS),
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = set(config.getoption("--backend"))
    if not wanted:
        return
    unknown = wanted - {b.name for b in BACKENDS}
    if unknown:
        raise pytest.UsageError(f"--backend: unknown backend(s) {sorted(unknown)}")
    keep, drop = [], []
    for item in items:
        params = getattr(item, "callspec", None)
        backend = params.params.get("backend") if params else None
        (drop if backend is not None and backend.name not in wanted else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
