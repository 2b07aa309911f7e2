"""Reductions and PyTorch's legacy size_average/reduce, checked against torch's own mapping."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import arrayloss
from arrayloss._dispatch import namespace_of
from arrayloss._reduction import (
    apply_reduction,
    legacy_reduction,
    mean_of,
    validate_empty,
    validate_reduction,
)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_valid_reductions_pass(reduction: str) -> None:
    assert validate_reduction(reduction) == reduction


@pytest.mark.parametrize("bad", ["avg", "MEAN", "", None, 1, "batchmean"])
def test_invalid_reduction_names_options_and_got(bad: object) -> None:
    with pytest.raises(
        ValueError, match=rf"`reduction` must be one of 'none', 'mean', 'sum'; got {bad!r}"
    ):
        validate_reduction(bad)


def test_elementwise_mean_is_deprecated_mean() -> None:
    # PyTorch accepts 'elementwise_mean' as 'mean' with a warning.
    with pytest.warns(DeprecationWarning, match="elementwise_mean"):
        assert validate_reduction("elementwise_mean") == "mean"


@pytest.mark.parametrize("size_average", [None, True, False])
@pytest.mark.parametrize("reduce", [None, True, False])
def test_legacy_mapping_equals_torch(size_average: object, reduce: object) -> None:
    torch_reduction = pytest.importorskip("torch.nn._reduction")
    if size_average is None and reduce is None:
        assert legacy_reduction(None, None, "sum") == "sum"
        return
    expected = torch_reduction.legacy_get_string(size_average, reduce, emit_warning=False)
    with pytest.warns(DeprecationWarning, match=f"use reduction='{expected}' instead"):
        # The legacy arguments override `reduction`, as in PyTorch.
        assert legacy_reduction(size_average, reduce, "sum") == expected  # type: ignore[arg-type]


def test_legacy_warning_points_at_the_callers_line() -> None:
    x = np.zeros(3)
    with pytest.warns(DeprecationWarning, match="reduction='sum'") as caught:
        arrayloss.binary_cross_entropy_with_logits(x, x, size_average=False)
    assert caught[0].filename == __file__
    with pytest.warns(DeprecationWarning, match="reduction='none'") as caught:
        arrayloss.BCELoss(reduce=False)
    assert caught[0].filename == __file__


def test_no_warning_without_legacy_arguments() -> None:
    x = np.zeros(3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        arrayloss.binary_cross_entropy_with_logits(x, x, reduction="sum")


def test_legacy_flags_must_be_bools() -> None:
    with pytest.raises(TypeError, match="`size_average` must be a bool or None; got str"):
        legacy_reduction("yes", None, "mean")  # type: ignore[arg-type]


def test_apply_reduction_empty_mean_is_nan_without_warning() -> None:
    ctx = namespace_of(input=np.zeros(0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with ctx.quiet_floating_point():
            result = apply_reduction(ctx, np.zeros(0), "mean")
    assert isinstance(result, np.ndarray)
    assert result.shape == ()
    assert np.isnan(result)


def test_apply_reduction_values() -> None:
    # Closed form: sum and mean of 1..4.
    ctx = namespace_of(input=np.zeros(1))
    loss = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert apply_reduction(ctx, loss, "sum") == 10.0
    assert apply_reduction(ctx, loss, "mean") == 2.5
    assert apply_reduction(ctx, loss, "none") is loss


@pytest.mark.parametrize("bad", ["Zero", "0", "ignore", None, 0.0])
def test_invalid_empty_names_options_and_got(bad: object) -> None:
    with pytest.raises(ValueError, match=rf"`empty` must be one of 'nan', 'zero'; got {bad!r}"):
        validate_empty(bad)


def test_mean_of_an_empty_count_is_nan_or_zero() -> None:
    ctx = namespace_of(input=np.zeros(1))
    with ctx.quiet_floating_point():
        assert np.isnan(mean_of(ctx, np.float64(0.0), np.float64(0.0)))
        assert np.isnan(mean_of(ctx, np.float64(0.0), 0))
    assert mean_of(ctx, np.float64(0.0), np.float64(0.0), "zero") == 0.0
    assert mean_of(ctx, np.float64(0.0), 0, "zero") == 0.0
    # A non-empty count divides, whatever `empty` says.
    assert mean_of(ctx, np.float64(6.0), np.float64(4.0), "zero") == 1.5
    with ctx.quiet_floating_point():
        assert apply_reduction(ctx, np.zeros(0), "mean", empty="zero") == 0.0


def test_mean_of_zero_count_has_zero_gradient() -> None:
    # 'zero' must not pass NaN back through 0 / 0 (where() alone would).
    torch = pytest.importorskip("torch")
    total = torch.zeros((), dtype=torch.float64, requires_grad=True)
    ctx = namespace_of(input=total)
    mean_of(ctx, total, torch.zeros((), dtype=torch.float64), "zero").backward()
    assert total.grad is not None
    assert total.grad.item() == 0.0
