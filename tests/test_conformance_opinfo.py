"""PyTorch's OpInfo sample inputs as a conformance source (``conformance/opinfo.py``):
every loss has samples, their conversion to data is deterministic and faithful, and the
samples of a few losses pass on NumPy and PyTorch through the runner."""

from __future__ import annotations

import os
import pickle
import random
import shlex
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("expecttest")  # torch.testing._internal imports it

import arrayloss  # noqa: E402
from conformance import opinfo  # noqa: E402
from conformance.__main__ import main  # noqa: E402
from conformance.cases import LOSSES  # noqa: E402
from conformance.opinfo import (  # noqa: E402
    NO_OPINFO,
    OPINFO_PREFIX,
    ArrayCase,
    convert_sample,
    opinfo_cases,
    opinfo_names,
    opinfo_skipped,
    samples_for,
)
from conformance.report import format_failures  # noqa: E402
from conformance.runner import run  # noqa: E402


@pytest.mark.slow
def test_every_opinfo_sample_passes_on_every_backend() -> None:
    # All 697 samples and error inputs of the 21 losses, every available backend and
    # dtype, values and gradients: `python -m conformance --source opinfo`.
    results = run(source="opinfo", jobs=min(4, os.cpu_count() or 1))
    assert results.cells
    assert results.ok, format_failures(results)


def test_every_loss_has_opinfo_samples_or_is_listed_as_having_none() -> None:
    names = opinfo_names()
    assert names.keys() == LOSSES.keys()
    for loss in LOSSES:
        if loss in NO_OPINFO:
            assert names[loss] == [], f"{loss} is listed as having no OpInfo, but has one"
        else:
            assert names[loss], f"{loss} has no OpInfo: list it in NO_OPINFO with why"
            assert any(c.loss == loss for c in opinfo_cases([loss]))
    assert not (NO_OPINFO.keys() - LOSSES.keys())
    # Every sample of PyTorch 2.13 converts; a future one that does not is reported.
    assert opinfo_skipped() == {}


def _draw(loss: str) -> list[ArrayCase]:
    # Uncached: the samples drawn afresh and converted again.
    (op,) = opinfo._opinfos(loss)
    return [convert_sample(loss, s, f"x/{i}") for i, s in enumerate(samples_for(op))]


@pytest.mark.parametrize("loss", ["huber_loss", "hinge_embedding_loss", "multi_margin_loss"])
def test_conversion_is_deterministic(loss: str) -> None:
    # huber_loss's delta and hinge_embedding_loss's margin come from Python's `random`,
    # multi_margin_loss's targets from torch's generator.
    torch.manual_seed(1234)
    random.seed(5678)
    next_torch, next_random = torch.rand(3), random.random()
    torch.manual_seed(1234)
    random.seed(5678)
    first = _draw(loss)
    # The caller's generators are left as they were.
    assert torch.equal(torch.rand(3), next_torch)
    assert random.random() == next_random
    # Another state of the generators: the same samples.
    torch.manual_seed(99)
    random.seed(99)
    second = _draw(loss)
    assert len(first) == len(second) > 0
    for a, b in zip(first, second, strict=True):
        assert a.kwargs == b.kwargs
        assert a.data.keys() == b.data.keys()
        for key in a.data:
            assert a.data[key].dtype == b.data[key].dtype
            np.testing.assert_array_equal(a.data[key], b.data[key])


def test_samples_map_onto_the_signature() -> None:
    cases = {c.name: c for c in opinfo_cases()}
    # gaussian_nll_loss(input, target, var): args are the positional parameters in order.
    gauss = cases[f"{OPINFO_PREFIX}nn.functional.gaussian_nll_loss/0"]
    assert list(gauss.data) == ["input", "target", "var"]
    assert all(a.dtype == np.float64 for a in gauss.data.values())
    # Class indices stay int64.
    nll = cases[f"{OPINFO_PREFIX}nn.functional.nll_loss/0"]
    assert nll.data["target"].dtype == np.int64
    # ctc_loss's lengths: int64 arrays, or (PyTorch's list samples) tuples of ints.
    ctc = [c for c in cases.values() if c.loss == "ctc_loss"]
    assert any(isinstance(c.kwargs.get("input_lengths"), tuple) for c in ctc)
    assert any(c.data.get("input_lengths") is not None for c in ctc)
    # triplet_margin_with_distance_loss's PairwiseDistance() is the default distance.
    distance = [c for c in cases.values() if c.loss == "triplet_margin_with_distance_loss"]
    assert distance
    assert all("distance_function" not in c.kwargs for c in distance)
    assert list(distance[0].data) == ["anchor", "positive", "negative"]


class _Sample:
    def __init__(self, input: Any, *args: Any, **kwargs: Any) -> None:
        self.input, self.args, self.kwargs = input, args, kwargs


def test_a_sample_that_is_not_data_is_skipped_with_its_reason() -> None:
    x = torch.zeros(2, 3)

    def distance(a: Any, b: Any) -> Any:
        return (a - b).abs().sum(-1)

    case = convert_sample(
        "triplet_margin_with_distance_loss", _Sample(x, x, x, distance_function=distance), "s"
    )
    assert case.skip is not None
    assert "distance_function is a function, not data" in case.skip
    other = torch.nn.PairwiseDistance(p=1.0)
    case = convert_sample(
        "triplet_margin_with_distance_loss", _Sample(x, x, x, distance_function=other), "s"
    )
    assert case.skip is not None
    assert "PairwiseDistance" in case.skip
    assert convert_sample("mse_loss", _Sample(x, x, wrong=1), "s").skip is not None


def test_the_runner_reports_unconvertible_samples_as_skipped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    x = torch.zeros(2, 3)
    skipped = convert_sample("mse_loss", _Sample(x, x, reduction=object()), "opinfo:bad/0")
    monkeypatch.setattr(opinfo, "opinfo_cases", lambda losses: (skipped,))
    results = run(["mse_loss"], ["numpy"], ["float64"], source="opinfo")
    assert [(c.case, c.status) for c in results.cells] == [("opinfo:bad/0", "skipped")]
    assert "not expressible as data" in (results.cells[0].message or "")


def test_opinfo_cases_of_a_few_losses_pass_on_numpy_and_torch() -> None:
    losses = ["multi_margin_loss", "cross_entropy", "triplet_margin_with_distance_loss"]
    results = run(losses, ["numpy", "torch"], ["float64", "float32"], source="opinfo")
    assert results.ok, [(c.case, c.backend, c.dtype, c.message) for c in results.failures]
    ran = [c for c in results.cells if c.status != "skipped"]
    assert len(ran) > 100
    assert all(c.case.startswith(OPINFO_PREFIX) for c in results.cells)
    assert {c.loss for c in ran} == set(losses)
    assert {c.check for c in ran} == {"value", "grad"}
    # PyTorch's error inputs: PyTorch raises, and arrayloss raises the same kind.
    errors = [c for c in ran if "/error-" in c.case]
    assert len(errors) == 2 * 2 * (9 + 8)  # multi_margin_loss 9, the triplet loss 8
    assert all((c.message or "").startswith("both raised") for c in errors)


def test_error_inputs_are_converted_too() -> None:
    cases = {c.name: c for c in opinfo_cases(["huber_loss"])}
    errors = [c for name, c in cases.items() if "/error-" in name]
    assert len(errors) == 3  # an unknown reduction, delta 0, delta -1
    assert [c.kwargs for c in errors] == [{"reduction": "abc"}, {"delta": 0}, {"delta": -1}]
    assert all(c.skip is None for c in errors)


def test_source_option_selects_the_cases(capsys: pytest.CaptureFixture[str]) -> None:
    common = ["--loss", "mse_loss", "--backend", "numpy", "--dtype", "float64"]
    assert main([*common, "--source", "opinfo", "--no-report", "--quiet"]) == 0
    opinfo_line = capsys.readouterr().out.splitlines()[0]
    assert main([*common, "--source", "cases", "--no-report", "--quiet"]) == 0
    cases_line = capsys.readouterr().out.splitlines()[0]
    n_opinfo, n_cases = (int(line.split()[2]) for line in (opinfo_line, cases_line))
    assert n_opinfo == len(opinfo_cases(["mse_loss"]))  # one value cell per sample
    assert main([*common, "--source", "all", "--no-report", "--quiet"]) == 0
    assert int(capsys.readouterr().out.split()[2]) == n_opinfo + n_cases
    assert main([*common, "--no-report", "--quiet"]) == 0  # the default: the generated cases
    assert int(capsys.readouterr().out.split()[2]) == n_cases
    with pytest.raises(ValueError, match="unknown source 'other'"):
        run(["mse_loss"], ["numpy"], ["float64"], source="other")


def test_a_wrong_result_on_an_opinfo_sample_fails_and_prints_its_rerun_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = arrayloss.mse_loss
    monkeypatch.setattr(arrayloss, "mse_loss", lambda *a, **kw: real(*a, **kw) * 1.01)
    results = run(["mse_loss"], ["numpy"], ["float64"], source="opinfo")
    assert len(results.failures) == len(opinfo_cases(["mse_loss"]))
    text = format_failures(results)
    rerun = f"--case 'mse_loss/{OPINFO_PREFIX}nn.functional.mse_loss/0' --source opinfo"
    assert rerun in text
    line = next(x for x in text.splitlines() if rerun in x)
    argv = shlex.split(line.split("python -m conformance", 1)[1])
    assert main([*argv, "--no-report", "--quiet"]) == 1
    assert "arrayloss conformance: 1 cells, 1 FAILING" in capsys.readouterr().out


def test_cases_pickle_for_the_worker_processes() -> None:
    # run(jobs > 1) hands the cases, drawn once in the parent, to spawned workers.
    case = next(c for c in opinfo_cases(["ctc_loss"]) if "input_lengths" in c.kwargs)
    again = pickle.loads(pickle.dumps(case))
    assert type(again) is ArrayCase
    assert (again.id, again.kwargs, again.skip) == (case.id, case.kwargs, case.skip)
    for key, array in case.data.items():
        np.testing.assert_array_equal(again.data[key], array)
