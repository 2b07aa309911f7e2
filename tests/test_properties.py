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

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.backends import backend_by_name
from conformance.fuzz import DEFAULT_BACKENDS, cases, check, raise_mismatch
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
    assert covered == sorted(LOSSES)


@pytest.mark.parametrize("family", list(FAMILIES))
@given(data=st.data())
def test_random_cases_agree_with_torch(family: str, data: st.DataObject) -> None:
    fuzz_case = data.draw(cases(FAMILIES[family]), label="case")
    with quiet_legacy_warnings():
        raise_mismatch(check(fuzz_case, BACKENDS))
