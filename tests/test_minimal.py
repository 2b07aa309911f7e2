"""The minimal install: arrayloss with array-api-strict and nothing else.

``nox -s minimal`` runs this file alone in an environment without PyTorch, JAX or Dask;
expected values are closed-form math.
"""

from __future__ import annotations

import math

import pytest

import arrayloss

xp = pytest.importorskip("array_api_strict")


def test_losses_run_on_strict_arrays() -> None:
    # -log(sigmoid(1.5)) and log(2): closed form.
    x = xp.full((10, 64), 1.5)
    y = xp.ones((10, 64))
    loss = arrayloss.BCEWithLogitsLoss(pos_weight=xp.ones(64))(x, y)
    assert isinstance(loss, type(x))
    assert loss.shape == ()
    assert math.isclose(float(loss), math.log1p(math.exp(-1.5)), rel_tol=1e-14)
    half = xp.full((3,), 0.5)
    assert math.isclose(
        float(arrayloss.binary_cross_entropy(half, half)), math.log(2), rel_tol=1e-14
    )
