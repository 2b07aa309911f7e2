"""Point the conformance suite at any function with a PyTorch-like signature.

``check(function, "mse_loss", backend="jax")`` runs the conformance cases of one loss
through ``function`` instead of arrayloss's, on the chosen backends and dtypes, and
compares every value and gradient with PyTorch exactly as ``python -m conformance`` does
(same cases, same reference, same tolerance policy; see ``conformance.runner``).

The function is called as PyTorch's: ``function(input, target, **kwargs)`` with the
case's arrays (of the backend and dtype of the cell) and options (``reduction=...``,
``weight=...``, ...). A third party whose signature differs is reached through an
*adapter*, ``adapter(function, *args, **kwargs)``, that maps the PyTorch-style call onto
it (argument order, a class axis, a reduction the library lacks) and raises
:class:`Unsupported` for a case the function cannot express; that cell is skipped with
the adapter's reason instead of failing. :func:`options` and :func:`reduce` help write
adapters; ``conformance.thirdparty`` holds the adapters of optax and Keras 3.
"""

from __future__ import annotations

import argparse
import fnmatch
import functools
import importlib
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .cases import LOSSES, Case, cases_for
from .runner import CellResult, Results, Unsupported, run

__all__ = ["CheckResults", "Unsupported", "check", "command_line", "load", "options", "reduce"]

Adapter = Callable[..., Any]


@dataclass
class CheckResults(Results):
    """The cells of :func:`check` (a :class:`conformance.runner.Results`) and the name of
    the function they tested."""

    target: str = ""

    def counts(self) -> Counter[str]:
        """How many cells passed, failed and were skipped."""
        return Counter(c.status for c in self.cells)

    def summary(self, limit: int = 20) -> str:
        """A few lines: the counts; each failing case (up to ``limit``) with its first
        message and the backends and dtypes it fails on; each reason for skipping with
        the number of cells it covers."""
        n = self.counts()
        lines = [
            f"{self.target} vs PyTorch ({', '.join(self.losses)}; "
            f"{', '.join(self.backends)}; {', '.join(self.dtypes)}): "
            f"{n['passed']} passed, {n['failed']} failed, {n['skipped']} skipped"
        ]
        for name, reason in self.skipped_backends.items():
            lines.append(f"  backend {name} skipped: {reason}")
        failing: dict[tuple[str, str], list[CellResult]] = {}
        for c in self.failures:
            failing.setdefault((c.case, c.check), []).append(c)
        for (case, what), cells in list(failing.items())[:limit]:
            where = _where(cells)
            lines.append(f"  FAILED {self.losses[0]}/{case} [{what}; {where}]: {cells[0].message}")
        if len(failing) > limit:
            lines.append(f"  ... and {len(failing) - limit} more failing cases")
        reasons = Counter(c.message for c in self.cells if c.status == "skipped")
        for reason, count in reasons.most_common():
            lines.append(f"  skipped {count}: {reason}")
        return "\n".join(lines)

    def failing_cases(self) -> dict[str, set[str]]:
        """The failing case names, each with the checks ('value', 'grad') that fail."""
        out: dict[str, set[str]] = {}
        for c in self.failures:
            out.setdefault(c.case, set()).add(c.check)
        return out


def _where(cells: list[CellResult]) -> str:
    backends = ", ".join(dict.fromkeys(c.backend for c in cells))
    dtypes = ", ".join(dict.fromkeys(c.dtype for c in cells))
    return f"{backends}; {dtypes}"


def check(
    function: Callable[..., Any],
    loss: str,
    backend: str | Iterable[str] | None = None,
    *,
    adapter: Adapter | None = None,
    dtypes: Iterable[str] | None = None,
    cases: str | Iterable[str] | Callable[[Case], bool] | None = None,
    name: str | None = None,
) -> CheckResults:
    """Run the conformance cases of ``loss`` through ``function`` and compare with PyTorch.

    Parameters
    ----------
    function
        The function to test. Without an adapter it is called as PyTorch's
        ``torch.nn.functional.<loss>``: positional arrays first (``input, target``; see
        ``LossInfo.positional``), then the other arrays and options by keyword.
    loss
        The name of the PyTorch loss it should agree with (a key of
        ``conformance.cases.LOSSES``), e.g. ``"mse_loss"``.
    backend
        One backend name or several (``"numpy"``, ``"torch"``, ``"jax"``, ``"jax-jit"``,
        ``"dask"``, ...; default: every backend, those not installed listed as skipped).
        Arrays of that backend are passed, and the result must be one.
    adapter
        ``adapter(function, *args, **kwargs)``: calls ``function`` for a PyTorch-style
        call and returns a PyTorch-style result, or raises :class:`Unsupported` (the cell
        is skipped with its reason).
    dtypes
        Dtype names (default: every dtype of each backend).
    cases
        Which cases: shell-style patterns matched against the case name (``"*-none*"``)
        or id (``"mse_loss/(4,3)-*"``), or a predicate on :class:`conformance.cases.Case`
        (e.g. ``lambda c: c.kwargs.get("reduction") == "none"``). Default: all.
    name
        The function's name in messages (default: its module and qualified name).

    Returns
    -------
    CheckResults
        The cells, as ``python -m conformance`` reports them. ``.ok`` is True when none
        failed; ``.summary()`` lists the failures and the skip reasons.

    Raises
    ------
    ValueError
        An unknown loss, backend or dtype, or ``cases`` selecting no case.

    Examples
    --------
    >>> from conformance import check
    >>> def my_mse(input, target, reduction="mean"):
    ...     loss = (input - target) ** 2
    ...     return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]
    >>> results = check(my_mse, "mse_loss", "torch", dtypes=["float64"], cases="(*)-none")
    >>> print(results.summary())
    conformance.check.my_mse vs PyTorch (mse_loss; torch; float64): 10 passed, 0 failed, 0 skipped
    """
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; known: {', '.join(LOSSES)}")
    label = name or _name(function)
    candidate = function if adapter is None else functools.partial(adapter, function)
    backends = [backend] if isinstance(backend, str) else backend
    results = run([loss], backends, dtypes, _patterns(loss, cases), jobs=1, function=candidate)
    for cell in results.cells:
        cell.message = _rename(cell.message, label)
    fields = {k: getattr(results, k) for k in Results.__dataclass_fields__}
    return CheckResults(**fields, target=label)


def _patterns(
    loss: str, cases: str | Iterable[str] | Callable[[Case], bool] | None
) -> list[str] | None:
    """Case-id patterns for the runner: names prefixed with the loss; a predicate turns
    into the exact ids of the cases it accepts (escaped for fnmatch)."""
    if cases is None:
        return None
    if callable(cases):
        patterns = [_escape(c.id) for c in cases_for(loss) if cases(c)]
    else:
        given = [cases] if isinstance(cases, str) else list(cases)
        patterns = [p if p.startswith(f"{loss}/") else f"{loss}/{p}" for p in given]
    if not any(fnmatch.fnmatchcase(c.id, p) for c in cases_for(loss) for p in patterns):
        raise ValueError(f"no case of {loss} is selected by {cases!r}")
    return patterns


def _escape(text: str) -> str:
    return "".join(f"[{ch}]" if ch in "*?[]" else ch for ch in text)


def _name(function: Callable[..., Any]) -> str:
    module = getattr(function, "__module__", None) or ""
    qualname = getattr(function, "__qualname__", None) or repr(function)
    return f"{module}.{qualname}" if module and module != "__main__" else qualname


def _rename(message: str | None, label: str) -> str | None:
    """The runner's messages name arrayloss as the candidate; name the function tested."""
    if message is None:
        return None
    for old, new in (
        ("arrayloss raised", f"{label} raised"),
        ("arrayloss did not", f"{label} did not"),
        ("; arrayloss ", f"; {label} "),
    ):
        message = message.replace(old, new)
    return message


def command_line(args: argparse.Namespace) -> int:
    """``python -m conformance --target module:function --loss X``: :func:`check`, its
    summary printed (and the report written unless ``--no-report``)."""
    from .report import write_report  # only here: the report may import a plotting library

    if not args.loss or len(args.loss) != 1:
        print("--target needs exactly one --loss", file=sys.stderr)
        return 2
    adapter = load(args.adapter) if args.adapter else None
    results = check(
        load(args.target),
        args.loss[0],
        args.backend,
        adapter=adapter,
        dtypes=args.dtype,
        cases=args.case,
        name=args.target.replace(":", "."),
    )
    print(results.summary())
    if not args.no_report:
        path = write_report(results, args.report)
        print(f"report: {path / 'report.md'}, {path / 'report.json'}")
    return 0 if results.ok and results.cells else 1


# --- writing adapters --------------------------------------------------------------------


def options(kwargs: Mapping[str, Any], library: str, /, **supported: Any) -> dict[str, Any]:
    """The options of a PyTorch-style call, with defaults for those not given, when the
    third party has all of them; :class:`Unsupported` naming the first it lacks.

    >>> options({"reduction": "sum"}, "mylib", reduction="mean")
    {'reduction': 'sum'}
    >>> options({"weight": None, "reduction": "sum"}, "mylib", reduction="mean")
    Traceback (most recent call last):
    ...
    conformance.runner.Unsupported: mylib has no weight
    """
    for key in kwargs:
        if key not in supported:
            raise Unsupported(f"{library} has no {key}")
    return {**supported, **kwargs}


def reduce(loss: Any, reduction: str) -> Any:
    """PyTorch's ``reduction`` ('none', 'mean', 'sum') of an elementwise loss, for a
    library that returns only the unreduced loss (any array API namespace)."""
    from array_api_compat import array_namespace

    if reduction == "none":
        return loss
    xp = array_namespace(loss)
    if reduction == "mean":
        return xp.mean(loss)
    if reduction == "sum":
        return xp.sum(loss)
    raise Unsupported(f"reduction={reduction!r}")


def load(target: str) -> Callable[..., Any]:
    """The object named ``module:attribute`` (``attribute`` may be dotted), e.g.
    ``optax:sigmoid_binary_cross_entropy`` or ``keras.losses:binary_crossentropy``."""
    module_name, sep, attribute = target.partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(f"expected module:function, got {target!r}")
    obj: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        obj = getattr(obj, part)
    if not callable(obj):
        raise TypeError(f"{target} is not callable")
    return obj  # type: ignore[no-any-return]
