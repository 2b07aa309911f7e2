"""The public API mirrors PyTorch 2.13: names, signatures, defaults, classes, docstrings."""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
from typing import Any

import numpy as np
import pytest

import arrayloss
from conformance.backends import Backend
from tests.helpers import assert_matches, loss_functions, torch_loss

torch = pytest.importorskip("torch")

FUNCTIONS = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cosine_embedding_loss",
    "cross_entropy",
    "ctc_loss",
    "gaussian_nll_loss",
    "hinge_embedding_loss",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "linear_cross_entropy",
    "margin_ranking_loss",
    "mse_loss",
    "multi_margin_loss",
    "multilabel_margin_loss",
    "multilabel_soft_margin_loss",
    "nll_loss",
    "poisson_nll_loss",
    "smooth_l1_loss",
    "soft_margin_loss",
    "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
]
CLASSES = {
    "BCELoss": "binary_cross_entropy",
    "BCEWithLogitsLoss": "binary_cross_entropy_with_logits",
    "CrossEntropyLoss": "cross_entropy",
    "MultiLabelSoftMarginLoss": "multilabel_soft_margin_loss",
}
#: The losses PyTorch lacks (issue 10), each with the source framework's function or
#: class it mirrors: their signatures follow that framework, not torch.nn.functional
#: (tests/test_beyond.py compares them with it), so they are not in FUNCTIONS.
BEYOND_FUNCTIONS = {
    "sigmoid_focal_loss": "torchvision.ops.sigmoid_focal_loss",
    "softmax_focal_loss": "keras.losses.CategoricalFocalCrossentropy",
    "dice_loss": "keras.losses.Dice",
    "tversky_loss": "keras.losses.Tversky",
    "multiclass_dice_loss": "mindspore.nn.MultiClassDiceLoss",
    "hinge": "keras.losses.hinge",
    "squared_hinge": "keras.losses.squared_hinge",
    "categorical_hinge": "keras.losses.categorical_hinge",
    "log_cosh": "keras.losses.log_cosh",
    "mean_absolute_percentage_error": "keras.losses.mean_absolute_percentage_error",
    "mean_squared_logarithmic_error": "keras.losses.mean_squared_logarithmic_error",
    "poly1_cross_entropy": "optax.losses.poly_loss_cross_entropy",
    "generalized_kl_divergence": "optax.losses.generalized_kl_divergence",
    "convex_kl_divergence": "optax.losses.convex_kl_divergence",
    "ntxent": "optax.losses.ntxent",
    "rmse": "mindspore.nn.RMSELoss",
    "cosine_similarity_loss": "keras.losses.cosine_similarity",
}
BEYOND_CLASSES = {
    "SigmoidFocalLoss": "sigmoid_focal_loss",
    "SoftmaxFocalLoss": "softmax_focal_loss",
    "DiceLoss": "dice_loss",
    "TverskyLoss": "tversky_loss",
    "MultiClassDiceLoss": "multiclass_dice_loss",
    "Hinge": "hinge",
    "SquaredHinge": "squared_hinge",
    "CategoricalHinge": "categorical_hinge",
    "LogCosh": "log_cosh",
    "MeanAbsolutePercentageError": "mean_absolute_percentage_error",
    "MeanSquaredLogarithmicError": "mean_squared_logarithmic_error",
    "Poly1CrossEntropyLoss": "poly1_cross_entropy",
    "GeneralizedKLDivergence": "generalized_kl_divergence",
    "ConvexKLDivergence": "convex_kl_divergence",
    "NTXentLoss": "ntxent",
    "RMSELoss": "rmse",
    "CosineSimilarityLoss": "cosine_similarity_loss",
}
#: Classes outside test_class_equals_function (class-index targets, or no weight).
INDEX_CLASSES = {
    "NLLLoss": "nll_loss",
    "KLDivLoss": "kl_div",
    "SoftMarginLoss": "soft_margin_loss",
    "MultiMarginLoss": "multi_margin_loss",
    "MultiLabelMarginLoss": "multilabel_margin_loss",
    "L1Loss": "l1_loss",
    "MSELoss": "mse_loss",
    "HuberLoss": "huber_loss",
    "SmoothL1Loss": "smooth_l1_loss",
    "PoissonNLLLoss": "poisson_nll_loss",
    "CTCLoss": "ctc_loss",
    "MarginRankingLoss": "margin_ranking_loss",
    "HingeEmbeddingLoss": "hinge_embedding_loss",
    "CosineEmbeddingLoss": "cosine_embedding_loss",
    "TripletMarginLoss": "triplet_margin_loss",
}
#: Classes whose constructor takes keyword-only options (an array by position is then
#: Python's TypeError) or whose call takes a third array; tested in their family's file.
OTHER_CLASSES = {
    "GaussianNLLLoss": "gaussian_nll_loss",
    "TripletMarginWithDistanceLoss": "triplet_margin_with_distance_loss",
}

#: Classes whose PyTorch twin owns parameters (torch.nn.LinearCrossEntropyLoss holds the
#: linear layer): arrayloss creates no arrays, so the call takes them and the constructor
#: takes only the function's keyword options (documented in the class).
STATELESS_CLASSES = {"LinearCrossEntropyLoss": "linear_cross_entropy"}


#: arrayloss's options that PyTorch lacks (issue 10, part 2), per function: each is
#: keyword-only, comes after all of PyTorch's parameters, and its default keeps PyTorch's
#: behaviour. The classes of these functions take the same ones in ``__init__``.
EXTRA_OPTIONS: dict[str, dict[str, Any]] = {
    "binary_cross_entropy": {"label_smoothing": 0.0, "ignore_index": None, "empty": "nan"},
    "binary_cross_entropy_with_logits": {
        "label_smoothing": 0.0,
        "ignore_index": None,
        "inf_logits": "nan",
        "empty": "nan",
    },
    "cross_entropy": {"empty": "nan", "ignore_probability_rows": False},
    "nll_loss": {"empty": "nan"},
}
#: Every other function has ``empty`` only (what 'mean' over nothing gives).
for _name in FUNCTIONS:
    EXTRA_OPTIONS.setdefault(_name, {"empty": "nan"})
#: arrayloss's per-call options, on every loss function (after its EXTRA_OPTIONS) and
#: every class's ``forward`` (after PyTorch's arrays): keyword-only, with these defaults.
CALL_OPTIONS: dict[str, Any] = {"sample_weight": None}
ALL_CLASSES = {**CLASSES, **INDEX_CLASSES, **OTHER_CLASSES}


def parameters(fn: Any) -> list[tuple[str, Any, Any]]:
    return [
        (p.name, p.kind, p.default)
        for p in inspect.signature(fn).parameters.values()
        if p.name != "self"
    ]


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_signature_equals_torch(name: str) -> None:
    import torch.nn.functional as F

    assert_torch_signature_then_extras(
        getattr(arrayloss, name), getattr(F, name), {**EXTRA_OPTIONS.get(name, {}), **CALL_OPTIONS}
    )


@pytest.mark.parametrize("name", list(ALL_CLASSES))
def test_class_signatures_equal_torch(name: str) -> None:
    ours, theirs = getattr(arrayloss, name), getattr(torch.nn, name)
    extras = EXTRA_OPTIONS.get(ALL_CLASSES[name], {})
    assert_torch_signature_then_extras(ours.__init__, theirs.__init__, extras)
    assert_torch_signature_then_extras(ours.forward, theirs.forward, CALL_OPTIONS)


def assert_torch_signature_then_extras(ours: Any, theirs: Any, extras: dict[str, Any]) -> None:
    # PyTorch's parameters exactly (names, kinds, defaults, order), then only the
    # arrayloss options of EXTRA_OPTIONS: keyword-only, with their listed defaults.
    mine, torch_params = parameters(ours), parameters(theirs)
    assert mine[: len(torch_params)] == torch_params
    assert mine[len(torch_params) :] == [
        (p, inspect.Parameter.KEYWORD_ONLY, default) for p, default in extras.items()
    ]


@pytest.mark.parametrize("name", list(CLASSES))
def test_class_equals_function(backend: Backend, name: str, rng: np.random.Generator) -> None:
    x = rng.uniform(0.05, 0.95, size=(4, 3))
    t = rng.uniform(size=(4, 3))
    w = rng.uniform(size=(3,))
    loss = getattr(arrayloss, name)(weight=backend.asarray(w), reduction="sum")
    expected = torch_loss(CLASSES[name], x, t, weight=w, reduction="sum")
    result = backend.call(loss, backend.asarray(x), backend.asarray(t))
    assert_matches(backend, result, expected, "float64")


def test_bce_with_logits_class_pos_weight(backend: Backend) -> None:
    # torch.nn.BCEWithLogitsLoss docs example: -log(sigmoid(1.5)), closed form.
    loss = arrayloss.BCEWithLogitsLoss(pos_weight=backend.asarray(np.ones(64)))
    result = backend.call(
        loss, backend.asarray(np.full((10, 64), 1.5)), backend.asarray(np.ones((10, 64)))
    )
    assert_matches(backend, result, np.asarray(np.log1p(np.exp(-1.5))), "float64")


@pytest.mark.parametrize("name", [*CLASSES, *INDEX_CLASSES])
def test_arrays_passed_to_constructor_raise_at_once(name: str) -> None:
    out, tgt = np.zeros(3), np.zeros(3)
    with pytest.raises(
        TypeError,
        match=rf"{name}\(\) got an array for `\w+`: .* write {name}\(\.\.\.\)\(input, target\)",
    ):
        getattr(arrayloss, name)(out, tgt)


def test_reduction_is_validated_at_construction() -> None:
    with pytest.raises(
        ValueError, match="`reduction` must be one of 'none', 'mean', 'sum'; got 'avg'"
    ):
        arrayloss.BCELoss(reduction="avg")


def test_legacy_arguments_in_constructor_map_like_torch() -> None:
    with pytest.warns(DeprecationWarning, match="use reduction='sum' instead"):
        ours = arrayloss.BCEWithLogitsLoss(size_average=False)
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        theirs = torch.nn.BCEWithLogitsLoss(size_average=False)
    assert ours.reduction == theirs.reduction == "sum"


def test_repr_is_short_and_informative() -> None:
    loss = arrayloss.BCEWithLogitsLoss(pos_weight=np.ones(3), reduction="sum")
    assert repr(loss) == "BCEWithLogitsLoss(reduction='sum', pos_weight=<ndarray of shape (3,)>)"
    assert repr(arrayloss.BCELoss()) == "BCELoss(reduction='mean')"


def _modules() -> list[str]:
    names = ["arrayloss"]
    names += [f"arrayloss.{m.name}" for m in pkgutil.iter_modules(arrayloss.__path__)]
    return names


@pytest.mark.parametrize("module", _modules())
def test_docstring_examples(module: str) -> None:
    # Docstring examples are executed, so they cannot go stale.
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


@pytest.mark.parametrize("name", FUNCTIONS)
def test_docstrings_give_formula_shapes_and_torch_name(name: str) -> None:
    doc = getattr(arrayloss, name).__doc__
    assert ".. math::" in doc
    assert f"torch.nn.functional.{name}" in doc
    assert "shape" in doc


def test_every_public_loss_is_listed_here() -> None:
    public = loss_functions()
    assert public == set(FUNCTIONS) | set(BEYOND_FUNCTIONS)
    classes = {n for n in arrayloss.__all__ if n[0].isupper() and not n.startswith("ArrayLoss")}
    assert classes == {
        *CLASSES,
        *INDEX_CLASSES,
        *OTHER_CLASSES,
        *BEYOND_CLASSES,
        *STATELESS_CLASSES,
    }


@pytest.mark.parametrize("name", list(BEYOND_FUNCTIONS))
def test_beyond_docstrings_give_formula_shapes_and_source(name: str) -> None:
    doc = getattr(arrayloss, name).__doc__
    assert ".. math::" in doc
    assert BEYOND_FUNCTIONS[name] in doc
    assert "shape" in doc
    assert "Examples" in doc


@pytest.mark.parametrize("name", list(BEYOND_CLASSES))
def test_beyond_class_forward_takes_the_functions_arrays(name: str) -> None:
    # The class's options are the function's keyword parameters; forward its arrays.
    fn = getattr(arrayloss, BEYOND_CLASSES[name])
    cls = getattr(arrayloss, name)
    fn_params = parameters(fn)
    forward = parameters(cls.forward)
    # The per-call options last, keyword-only, in both.
    calls = [(p, inspect.Parameter.KEYWORD_ONLY, d) for p, d in CALL_OPTIONS.items()]
    assert forward[-len(calls) :] == calls == fn_params[-len(calls) :]
    forward, fn_params = forward[: -len(calls)], fn_params[: -len(calls)]
    assert forward == fn_params[: len(forward)]
    assert {p[0] for p in parameters(cls.__init__)} == {p[0] for p in fn_params[len(forward) :]}
    for p_name, _, default in parameters(cls.__init__):
        assert default == {n: d for n, _, d in fn_params}[p_name], p_name


@pytest.mark.parametrize("name", list(STATELESS_CLASSES))
def test_stateless_class_takes_the_functions_options_and_arrays(name: str) -> None:
    fn = getattr(arrayloss, STATELESS_CLASSES[name])
    cls = getattr(arrayloss, name)
    fn_params = {p[0]: p for p in parameters(fn)}
    theirs = {p[0]: p for p in parameters(getattr(torch.nn, name).__init__)}
    init = parameters(cls.__init__)
    extras = EXTRA_OPTIONS.get(STATELESS_CLASSES[name], {})
    # The constructor: the function's keyword-only options, with torch.nn's defaults
    # (arrayloss's own, EXTRA_OPTIONS, with theirs).
    for p_name, kind, default in init:
        expected = (
            (p_name, inspect.Parameter.KEYWORD_ONLY, extras[p_name])
            if p_name in extras
            else theirs[p_name]
        )
        assert (p_name, kind, default) == fn_params[p_name] == expected, p_name
    # The call: the function's arrays, in its order.
    forward = [p[0] for p in parameters(cls.forward)]
    assert forward == [p for p in fn_params if p not in {q[0] for q in init}]
