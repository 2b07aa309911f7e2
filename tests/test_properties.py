"""Property-based tests (hypothesis): random cases of every loss against PyTorch.

The cases come from the fuzzer's strategies (``conformance.fuzz.cases``: shapes, dtypes,
options, reductions with the legacy ``size_average``/``reduce``, and values with their
edge values, drawn around the loss's own conformance cases) and are judged as the
conformance suite judges a case (``conformance.fuzz.check``: values and gradients against
PyTorch, the same tolerance policy), on NumPy, PyTorch and JAX (eager). A failure shows
hypothesis's shrunk case and a pasteable reproducer.

The number of examples comes from the hypothesis profile (tests/conftest.py): "ci" (the
default; derandomized, so the same examples every run) or "nightly" (many more), chosen
with ``HYPOTHESIS_PROFILE``.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import arrayloss
from conformance.__main__ import main
from conformance.backends import backend_by_name
from conformance.fuzz import DEFAULT_BACKENDS, cases, check, fuzz, raise_mismatch, reproducer
from conformance.runner import quiet_legacy_warnings

#: The losses by family (one test each; their test files in tests/).
FAMILIES = {
    "binary": ("binary_cross_entropy", "binary_cross_entropy_with_logits"),
    "classification": ("cross_entropy", "nll_loss"),
    "divergence": ("kl_div", "poisson_nll_loss", "gaussian_nll_loss"),
    "margin": (
        "soft_margin_loss",
        "multilabel_soft_margin_loss",
        "multi_margin_loss",
        "multilabel_margin_loss",
    ),
    "regression": ("l1_loss", "mse_loss", "huber_loss", "smooth_l1_loss"),
    "embedding": (
        "margin_ranking_loss",
        "hinge_embedding_loss",
        "cosine_embedding_loss",
        "triplet_margin_loss",
        "triplet_margin_with_distance_loss",
    ),
    "ctc": ("ctc_loss",),
}

#: NumPy and PyTorch; JAX too (``conformance.fuzz.DEFAULT_BACKENDS``) in the nightly
#: profile: eager JAX compiles each operation anew for every new shape, about a second
#: a case, too slow for the CI budget of this file.
_NAMES = (
    DEFAULT_BACKENDS if os.environ.get("HYPOTHESIS_PROFILE") == "nightly" else ("numpy", "torch")
)
BACKENDS = [b for b in map(backend_by_name, _NAMES) if b.skip_reason() is None]


def test_families_cover_every_loss() -> None:
    from conformance.cases import LOSSES

    covered = sorted(loss for family in FAMILIES.values() for loss in family)
    # linear_cross_entropy (three arrays of related shapes) has no random-case generator
    # yet: tests/test_linear_cross_entropy.py and its conformance cases cover it.
    assert covered == sorted(set(LOSSES) - {"linear_cross_entropy"})


@pytest.mark.parametrize("family", list(FAMILIES))
@given(data=st.data())
def test_random_cases_agree_with_torch(family: str, data: st.DataObject) -> None:
    fuzz_case = data.draw(cases(FAMILIES[family]), label="case")
    with quiet_legacy_warnings():
        raise_mismatch(check(fuzz_case, BACKENDS))


# --- the fuzzer itself (python -m conformance --fuzz) --------------------------------------


def test_fuzz_is_deterministic_for_a_seed() -> None:
    first = fuzz(15, 7, ["l1_loss", "nll_loss"], ["numpy"])
    again = fuzz(15, 7, ["l1_loss", "nll_loss"], ["numpy"])
    assert first.ok
    assert first.cases == 15
    assert (first.cells, first.losses) == (again.cells, again.losses)


def test_fuzz_shrinks_a_broken_loss_to_a_pasteable_reproducer(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = arrayloss.mse_loss
    monkeypatch.setattr(arrayloss, "mse_loss", lambda x, t, *a, **kw: real(x * 1.001, t, *a, **kw))
    assert main(["--fuzz", "30", "--seed", "1", "--loss", "mse_loss", "--backend", "numpy"]) == 1
    results = fuzz(30, 1, ["mse_loss"], ["numpy"])
    assert len(results.mismatches) == 1
    verdict = results.mismatches[0]
    assert verdict.ref is not None
    code = reproducer(verdict.fuzz_case, verdict.mismatches[0], verdict.ref.arrays)
    namespace: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(code, namespace)  # the printed reproducer runs as it is
    actual, expected = np.asarray(namespace["actual"]), namespace["expected"].numpy()
    assert actual.shape == expected.shape
    assert not np.allclose(actual, expected, rtol=1e-6, atol=0)
    assert "MISMATCH (shrunk)" in capsys.readouterr().out
