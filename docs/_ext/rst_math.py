"""Griffe extension: the RST of arrayloss's numpydoc docstrings, as Markdown for mkdocstrings.

The docstrings stay RST (``help()``, IPython and scipy-style tooling read them as such);
only the site's copy is converted, before mkdocstrings parses it:

- a ``.. math::`` directive and its indented body become a ``$$ ... $$`` block,
- the role :math:`x` becomes ``$x$``,
- ``name : {'a', 'b'}, default 'b'`` becomes ``name : {'b', 'a'}`` (numpydoc: the
  first choice is the default, as griffe reads it),
- :func:, :class:, :meth:, :data:, :attr:, :mod: and :exc: roles become code spans; those
  naming a public arrayloss object become links to its reference page (autorefs).

pymdownx.arithmatex (generic mode) then marks the math and KaTeX renders it in the browser.
Configured in mkdocs.yml under the python handler's ``extensions``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

try:
    import griffe
except ImportError:  # the converter itself needs no griffe (tests/test_docs.py runs it)
    griffe = None

__all__ = ["RstMath", "convert"]

INIT = Path(__file__).resolve().parents[2] / "src" / "arrayloss" / "__init__.py"
_DIRECTIVE = re.compile(r"^(?P<indent>[ \t]*)\.\. math::[ \t]*(?P<rest>.*)$")
_MATH_ROLE = re.compile(r":math:`(?P<body>[^`]+)`")
_XREF_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|data|attr|mod|exc|obj):`(?P<target>[^`]+)`")
# `name : {'none', 'mean', 'sum'}, default 'mean'`: numpydoc's convention (and griffe's
# parser) takes the FIRST choice as the default, so the default moves to the front.
_CHOICES = re.compile(
    r"^(?P<head>\s*\w+(?:, \w+)* : )\{(?P<choices>[^}]*)\}, default (?P<default>.+?)\s*$"
)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _math_blocks(lines: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(lines):
        match = _DIRECTIVE.match(lines[i])
        if match is None:
            out.append(lines[i])
            i += 1
            continue
        indent = match["indent"]
        body = [match["rest"]] if match["rest"].strip() else []
        i += 1
        while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > len(indent)):
            body.append(lines[i])
            i += 1
        while body and not body[-1].strip():
            body.pop()
        while body and not body[0].strip():
            body.pop(0)
        depth = min((_indent(b) for b in body if b.strip()), default=0)
        body = _aligned([b[depth:] for b in body])
        if out and out[-1].strip():
            out.append("")
        out.append(f"{indent}$$")
        out += [f"{indent}{b}" if b.strip() else "" for b in body]
        out.append(f"{indent}$$")
        if i < len(lines) and lines[i].strip():
            out.append("")
    return out


def _aligned(body: list[str]) -> list[str]:
    """A chain of equalities written one per line (``a = b`` then ``= c``) as an
    ``aligned`` environment, so KaTeX breaks the line at each ``=`` instead of running
    past the page's column; any other body is returned unchanged."""
    lines = [b for b in body if b.strip()]
    if len(lines) < 2 or " = " not in lines[0]:
        return body
    if not all(line.lstrip().startswith("= ") for line in lines[1:]):
        return body
    first = lines[0].replace(" = ", " &= ", 1)
    rest = ["&" + line.lstrip() for line in lines[1:]]
    return [
        "\\begin{aligned}",
        first + " \\\\",
        *[r + " \\\\" for r in rest[:-1]],
        rest[-1],
        "\\end{aligned}",
    ]


def _choices(match: re.Match[str]) -> str:
    choices = [c.strip() for c in match["choices"].split(",")]
    default = match["default"].strip()
    if default in choices:
        choices.remove(default)
    return f"{match['head']}{{{', '.join([default, *choices])}}}"


def _xref(match: re.Match[str], public: frozenset[str]) -> str:
    target = match["target"].strip()
    shown = target
    if target.startswith("~"):
        target = target[1:]
        shown = target.rsplit(".", 1)[-1]
    if target.startswith("arrayloss.") and target.split(".", 1)[1] in public:
        return f"[`{shown}`][{target}]"
    return f"`{shown}`"


def convert(text: str, public: frozenset[str] = frozenset()) -> str:
    """The Markdown (with ``$``-math) form of an RST docstring ``text``."""
    lines = [_CHOICES.sub(_choices, line) for line in text.splitlines()]
    text = "\n".join(_math_blocks(lines))
    text = _MATH_ROLE.sub(lambda m: f"${m['body'].strip()}$", text)
    return _XREF_ROLE.sub(lambda m: _xref(m, public), text)


def _public() -> frozenset[str]:
    """arrayloss.__all__, read from the source (importing it is not needed to build)."""
    tree = ast.parse(INIT.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return frozenset(ast.literal_eval(node.value))
    raise RuntimeError(f"no __all__ in {INIT}")


if griffe is not None:

    class RstMath(griffe.Extension):
        """Convert every docstring of the loaded package (see the module docstring)."""

        def __init__(self) -> None:
            super().__init__()
            self._public = _public()

        def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
            if obj.docstring is not None:
                obj.docstring.value = convert(obj.docstring.value, self._public)
