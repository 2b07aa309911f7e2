"""Every loss on JAX in JAX's default 32-bit configuration (``jax_enable_x64`` off).

The rest of the suite runs JAX with x64 on, process-wide (its float64 cases need it), so
a loss asking JAX for int64 went unseen: in the default configuration that warns at
every call ("Explicitly requested dtype int64 ... will be truncated"), as
``multilabel_margin_loss`` did. One subprocess (tests/jax_default_config_check.py, about
20 s) runs each loss of ``torch.nn`` on float32 data with int32 (and, for class-index
losses, uint8) targets, eagerly, under ``jax.jit`` and under ``jax.grad``, and reports
the values, gradients and warnings; here they are compared with PyTorch's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import arrayloss
from tests.jax_default_config_check import UINT8_TARGETS
from tests.sharding_check import SPECS

pytest.importorskip("jax")
pytest.importorskip("torch")

KEYS = sorted(SPECS) + sorted(f"{name}[uint8]" for name in UINT8_TARGETS)


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    script = Path(__file__).with_name("jax_default_config_check.py")
    env = dict(os.environ)
    # The subprocess imports the arrayloss (and tests/) this process imported.
    source = str(Path(arrayloss.__file__).resolve().parents[1])
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, root, env.get("PYTHONPATH")]))
    env.pop("JAX_ENABLE_X64", None)
    done = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-4000:]
    result: dict[str, Any] = json.loads(done.stdout)
    assert result["x64"] is False
    return result


def _record(report: dict[str, Any], key: str) -> dict[str, Any]:
    record: dict[str, Any] = report["losses"][key]
    assert "error" not in record, record["error"]
    return record


def test_every_loss_of_torch_has_a_case(report: dict[str, Any]) -> None:
    assert set(report["losses"]) == set(KEYS)


@pytest.mark.parametrize("key", KEYS)
def test_no_warning(report: dict[str, Any], key: str) -> None:
    # Before the fix: multilabel_margin_loss warned of int64 in asarray, astype and
    # arange, eagerly, under jit and under grad.
    assert _record(report, key)["warnings"] == []


@pytest.mark.parametrize("key", KEYS)
def test_values_and_gradients_match_torch(report: dict[str, Any], key: str) -> None:
    record = _record(report, key)
    # The integer arrays really are 32-bit (or uint8): x64 is off.
    assert not any(d == "int64" or d.endswith("64") for d in record["dtypes"]), record["dtypes"]
    for reduction, values in record["reductions"].items():
        assert values["dtype"] == "float32", reduction
        for mode in ("eager", "jit"):
            np.testing.assert_allclose(
                values[mode], values["torch"], rtol=1e-4, atol=1e-5, err_msg=f"{reduction} {mode}"
            )
    for mode in ("eager", "jit"):
        np.testing.assert_allclose(
            record["grad"][mode],
            record["grad"]["torch"],
            rtol=1e-3,
            atol=1e-6,
            err_msg=f"gradient, {mode}",
        )
