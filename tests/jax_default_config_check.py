"""Every loss of arrayloss on JAX in JAX's default configuration: 32-bit (no x64).

Most JAX users never set ``jax_enable_x64``. Then JAX has no int64 or float64: asking
for int64 warns ("Explicitly requested dtype int64 ... will be truncated") and gives
int32, and integer arrays made from NumPy's int64 are int32. The conformance suite and
the other tests run JAX with x64 on (their float64 cases need it), and x64 is a
process-wide switch set before the first array is made, hence this script, which
tests/test_jax_default_config.py runs in a subprocess.

It takes the cases of tests/sharding_check.py (one per loss of ``torch.nn``, with
weights, ignored indices and options), in float32, and prints one JSON object: per
loss and reduction, arrayloss's value called eagerly (the auto-jit fast path) and under
``jax.jit``, PyTorch's value on the same float32 data, the gradient with respect to the
first argument (eager ``jax.grad`` and ``jax.jit(jax.grad)``) and PyTorch's, and every
warning raised. Class-index losses run again with uint8 targets (PyTorch's other
accepted index dtype), compared with PyTorch's value for int64 ones. It asserts
nothing: the test does.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
import warnings
from typing import Any

import numpy as np

from tests.sharding_check import SPECS, Spec

#: Losses whose class-index target also runs as uint8, and that target's argument name.
UINT8_TARGETS = {"cross_entropy": "target", "nll_loss": "target", "multi_margin_loss": "target"}


def _float32(a: np.ndarray) -> np.ndarray:
    return a.astype(np.float32) if a.dtype.kind == "f" else a


def _run(jax: Any, spec: Spec, uint8: bool) -> dict[str, Any]:
    import torch
    import torch.nn.functional as F

    import arrayloss

    arrays = {name: _float32(a) for name, (a, _) in {**spec.positional, **spec.keyword}.items()}
    if uint8:
        name = UINT8_TARGETS[spec.loss]
        # Without the ignored index (-100 is no uint8): the plain class indices.
        arrays[name] = np.asarray(SPECS["multi_margin_loss"].positional["target"][0])
    names = list(arrays)
    n_pos = len(spec.positional)
    fn = getattr(arrayloss, spec.loss)

    def call(reduction: str, *values: Any) -> Any:
        kw = dict(zip(names[n_pos:], values[n_pos:], strict=True))
        return fn(*values[:n_pos], **kw, **spec.options, reduction=reduction)

    def torch_call(reduction: str, *values: Any) -> Any:
        kw = dict(zip(names[n_pos:], values[n_pos:], strict=True))
        return getattr(F, spec.loss)(*values[:n_pos], **kw, **spec.options, reduction=reduction)

    jax_args = [
        jax.numpy.asarray(a.astype(np.uint8) if uint8 and n == UINT8_TARGETS[spec.loss] else a)
        for n, a in arrays.items()
    ]
    torch_args = [torch.from_numpy(np.ascontiguousarray(a)) for a in arrays.values()]
    out: dict[str, Any] = {"dtypes": [str(a.dtype) for a in jax_args], "reductions": {}}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for reduction in spec.reductions:
            jitted = jax.jit(lambda *v, r=reduction: call(r, *v))
            out["reductions"][reduction] = {
                "eager": np.asarray(call(reduction, *jax_args)).tolist(),
                "jit": np.asarray(jitted(*jax_args)).tolist(),
                "torch": torch_call(reduction, *torch_args).detach().numpy().tolist(),
                "dtype": str(call(reduction, *jax_args).dtype),
            }
        reduction = spec.reductions[0]

        # ctc_loss: PyTorch's gradient is the one through a log_softmax (it assumes
        # normalized log-probabilities; docs/conformance.md): both take the logits.
        softmaxed = spec.loss == "ctc_loss"

        def scalar(first: Any, *rest: Any) -> Any:
            if softmaxed:
                first = jax.nn.log_softmax(first, axis=-1)
            return call(reduction, first, *rest)

        first = torch_args[0].clone().requires_grad_(True)
        torch_first = torch.log_softmax(first, dim=-1) if softmaxed else first
        (expected,) = torch.autograd.grad(
            torch_call(reduction, torch_first, *torch_args[1:]), first
        )
        out["grad"] = {
            "eager": np.asarray(jax.grad(scalar)(*jax_args)).tolist(),
            "jit": np.asarray(jax.jit(jax.grad(scalar))(*jax_args)).tolist(),
            "torch": expected.numpy().tolist(),
        }
    out["warnings"] = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    return out


def main(argv: list[str]) -> int:
    # JAX's defaults: no x64, whatever the caller's environment says.
    os.environ.pop("JAX_ENABLE_X64", None)
    os.environ["JAX_PLATFORMS"] = "cpu"
    import jax

    assert not jax.config.jax_enable_x64
    result: dict[str, Any] = {"x64": bool(jax.config.jax_enable_x64), "losses": {}}
    only = set(argv)
    runs = [(name, False) for name in SPECS] + [(name, True) for name in UINT8_TARGETS]
    for name, uint8 in runs:
        if only and name not in only:
            continue
        key = f"{name}[uint8]" if uint8 else name
        try:
            result["losses"][key] = _run(jax, SPECS[name], uint8)
        except Exception:
            result["losses"][key] = {"error": traceback.format_exc()}
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
