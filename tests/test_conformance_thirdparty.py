"""conformance.check: the suite pointed at another function (a user's, optax's, Keras's).

Expected outcomes of the third-party pairs are PyTorch's (the runner's reference), and
the differences asserted here are those recorded in docs/other-libraries.md, each
explained there (e.g. optax's inf where PyTorch's formula gives NaN for an infinite
logit).
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance import Unsupported, check, options, reduce
from conformance.__main__ import main
from conformance.cases import Case

pytest.importorskip("torch")


def my_mse(input: Any, target: Any, reduction: str = "mean", weight: Any = None) -> Any:
    """A correct mse_loss written with array methods (torch and JAX alike); with a
    weight (of input's shape), 'mean' is sum(w l) / sum(w) as in PyTorch 2.13."""
    loss = (input - target) ** 2
    if weight is None:
        return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]
    loss = loss * weight
    return {"none": loss, "mean": loss.sum() / weight.sum(), "sum": loss.sum()}[reduction]


def wrong_mse(input: Any, target: Any, reduction: str = "mean", weight: Any = None) -> Any:
    """mse_loss with 'mean' dividing by one element too many (off by n/(n+1)), and
    the weight forgotten."""
    loss = (input - target) ** 2
    mean = loss.sum() / (loss.numel() + 1)
    return {"none": loss, "mean": mean, "sum": loss.sum()}[reduction]


def no_weight(fn: Any, input: Any, target: Any, **kwargs: Any) -> Any:
    """An adapter: PyTorch's reductions over an unreduced function; no weight."""
    o = options(kwargs, "mylib", reduction="mean")
    return reduce(fn(input, target, reduction="none"), o["reduction"])


def my_mse_tensor(input: Any, target: Any, reduction: str = "mean") -> Any:
    """The same function without a weight, for the adapter."""
    return my_mse(input, target, reduction)


SHAPED = "(4,3)-*"  # the (4, 3) cases of mse_loss: plain and weighted, each reduction


def test_a_correct_function_passes() -> None:
    results = check(my_mse, "mse_loss", "torch", dtypes=["float64"], cases="(*)-*")
    assert results.ok, results.summary()
    counts = results.counts()
    assert counts["passed"] >= 30, counts  # values and torch autograd gradients
    assert {c.check for c in results.cells} == {"value", "grad"}
    assert results.target.endswith("my_mse")


def test_a_wrong_function_fails_with_a_clear_report() -> None:
    results = check(wrong_mse, "mse_loss", "torch", dtypes=["float64"], cases=SHAPED)
    assert not results.ok
    failing = results.failing_cases()
    # 'mean' fails (value and gradient), and every weighted case; 'none' and 'sum' pass.
    both = {"value", "grad"}
    assert failing == {
        "(4,3)-mean": both,
        "(4,3)-mean-weight": both,
        "(4,3)-none-weight": both,
        "(4,3)-sum-weight": both,
    }, failing
    summary = results.summary()
    assert "FAILED mse_loss/(4,3)-mean [value; torch; float64]: 1 of 1 elements out" in summary
    assert "got " in summary
    assert "expected " in summary


def test_unsupported_cases_are_skipped_with_the_reason() -> None:
    results = check(
        my_mse_tensor, "mse_loss", "torch", adapter=no_weight, dtypes=["float64"], cases=SHAPED
    )
    assert results.ok, results.summary()
    skipped = {c.message for c in results.cells if c.status == "skipped"}
    assert skipped == {"mylib has no weight"}
    assert results.counts()["passed"] == 6  # three reductions, values and gradients


def test_cases_by_predicate() -> None:
    def only_none(case: Case) -> bool:
        return dict(case.kwargs) == {"reduction": "none"} and "weight" not in case.args

    results = check(my_mse, "mse_loss", "torch", dtypes=["float64"], cases=only_none)
    assert results.ok, results.summary()
    names = {c.case for c in results.cells}
    assert names
    assert all(name.endswith("-none") for name in names), names
    assert "bcast(3)(4,3)-none" in names  # names with brackets are matched exactly


def test_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--loss", "mse_loss", "--backend", "torch", "--dtype", "float64"]
    argv += ["--case", "(4,3)-none", "--no-report"]
    target = "tests.test_conformance_thirdparty"
    assert main([*argv, "--target", f"{target}:my_mse"]) == 0
    assert "2 passed, 0 failed" in capsys.readouterr().out
    argv[-2] = "(4,3)-mean"
    assert main([*argv, "--target", f"{target}:wrong_mse"]) == 1
    assert "FAILED mse_loss/(4,3)-mean" in capsys.readouterr().out


def test_unsupported_is_the_runners() -> None:
    from conformance.runner import Unsupported as RunnerUnsupported

    assert Unsupported is RunnerUnsupported
    with pytest.raises(Unsupported, match="mylib has no weight"):
        options({"weight": None}, "mylib", reduction="mean")


# --- optax and Keras 3: the recorded outcomes (docs/other-libraries.md) --------------------


def _pair(target: str, loss: str) -> Any:
    from conformance.thirdparty import PAIRS

    return next(p for p in PAIRS if p.target == target and p.loss == loss)


def _run(target: str, loss: str, cases: list[str], **kwargs: Any) -> Any:
    from conformance.thirdparty import run_pair

    kwargs.setdefault("dtypes", ["float64"])
    return run_pair(_pair(target, loss), "jax", cases=cases, **kwargs)


@pytest.fixture
def optax() -> Any:
    return pytest.importorskip("optax")


def test_optax_sigmoid_binary_cross_entropy(optax: Any) -> None:
    cases = ["(4,3)-none-binary", "(4,3)-mean-soft", "(4,3)-sum-weight*", "infinite-none-binary"]
    results = _run("optax:sigmoid_binary_cross_entropy", "binary_cross_entropy_with_logits", cases)
    # An infinite logit opposite its label: optax inf (the limit), PyTorch NaN
    # ((1 - t) x = 0 * inf in its formula).
    assert results.failing_cases() == {"infinite-none-binary": {"value"}}, results.summary()
    assert "got inf, expected nan" in results.failures[0].message
    assert results.counts()["passed"] >= 6


def test_optax_integer_labels(optax: Any) -> None:
    cases = ["weight-mean", "huge-sum-class_index", "error-target_out_of_range"]
    target = "optax:softmax_cross_entropy_with_integer_labels"
    results = _run(target, "cross_entropy", cases)
    # optax does not check class indices: an index of C gives a number, not an error.
    assert results.failing_cases() == {"error-target_out_of_range": {"value"}}, results.summary()
    assert "PyTorch raised, optax" in results.failures[0].message
    assert results.counts()["passed"] >= 4


def test_optax_squared_error_and_l2_loss(optax: Any) -> None:
    cases = ["(4,3)-none", "(4,3)-mean", "bcast(4,3)(3)-sum"]
    for target in ("optax:squared_error", "optax:l2_loss"):
        results = _run(target, "mse_loss", cases)
        # optax refuses shapes that PyTorch broadcasts (with a warning).
        assert results.failing_cases() == {"bcast(4,3)(3)-sum": {"value", "grad"}}, target
        assert "Shape mismatch" in results.failures[0].message


def test_optax_huber_loss(optax: Any) -> None:
    results = _run("optax:huber_loss", "huber_loss", ["delta_0.001-none", "delta_inf-sum"])
    # delta=inf: optax's delta * (|e| - min(|e|, delta)) is inf * 0 = NaN.
    assert results.failing_cases() == {"delta_inf-sum": {"value", "grad"}}, results.summary()
    assert "got nan" in results.failures[0].message


def test_optax_kl_divergence(optax: Any) -> None:
    results = _run("optax:kl_divergence", "kl_div", ["(4,3)-*-log_target_False"])
    assert results.ok, results.summary()
    assert results.counts()["passed"] >= 6


def test_optax_ctc_loss(optax: Any) -> None:
    results = _run("optax:ctc_loss", "ctc_loss", ["padded-none", "impossible-none"])
    failing = results.failing_cases()
    # The value of a possible alignment agrees; optax's gradient is that of its own
    # log_softmax of the input, and an impossible alignment costs about -log_epsilon
    # (1e5), not inf.
    assert failing == {"padded-none": {"grad"}, "impossible-none": {"value"}}, results.summary()
    message = next(c.message for c in results.failures if c.case == "impossible-none")
    assert "expected inf" in message


@pytest.fixture
def keras() -> Any:
    import os

    os.environ.setdefault("KERAS_BACKEND", "jax")
    if os.environ["KERAS_BACKEND"] != "jax":
        pytest.skip("Keras runs here with another backend than JAX")
    return pytest.importorskip("keras")


def test_keras_binary_crossentropy(keras: Any) -> None:
    target = "keras.losses:binary_crossentropy"
    results = _run(
        target,
        "binary_cross_entropy_with_logits",
        ["(4,3)-none-soft"],
        dtypes=["float64", "float32"],
    )
    # float64 input, computed by Keras to about float32 precision (floatx): the float64
    # values are off by ~1e-8 relative; float32 agrees.
    failing = {(c.case, c.dtype) for c in results.failures}
    assert failing == {("(4,3)-none-soft", "float64")}, results.summary()
    assert results.counts()["passed"] >= 2
    # Probabilities exactly 0 or 1: Keras clips them to [1e-7, 1 - 1e-7], so the loss is
    # -log(1e-7) = 16.1; PyTorch clamps the log at -100.
    results = _run(target, "binary_cross_entropy", ["exact_0_target_1"], dtypes=["float32"])
    assert "expected 100.0" in results.failures[0].message
    assert "got 16.118" in results.failures[0].message


def test_selecting_no_case_is_an_error() -> None:
    with pytest.raises(ValueError, match="no case of mse_loss is selected"):
        check(my_mse, "mse_loss", "torch", cases="no-such-case")
    with pytest.raises(ValueError, match="unknown loss 'mse'"):
        check(my_mse, "mse", "torch")


def test_doctests() -> None:
    import doctest
    import importlib

    # The module, not the function conformance.check that the package exports.
    module = importlib.import_module("conformance.check")
    failed, attempted = doctest.testmod(module)
    assert attempted >= 4
    assert failed == 0
