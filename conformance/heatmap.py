"""The conformance matrix as a PNG heatmap (matplotlib, optional).

Two panels side by side, values and gradients; a row per loss, a column per backend.
The colour of a cell is its worst error as a fraction of the tolerance (the worst
``error_eps`` over its cells divided by k: 8 for values, 16 for gradients), on a log
scale from 1e-3 to 1; the number written in it is that worst error in eps of the
result's dtype. A failing cell is red with a thick red border and reads FAIL; a backend
that could not run here (and a cell whose cells were all skipped) is grey and reads
"skipped"; a combination that has no cells (NumPy has no gradients) is left blank.
"""

from __future__ import annotations

import importlib.util
from collections import defaultdict
from pathlib import Path
from typing import Any

from .backends import backend_by_name
from .runner import GRAD_RTOL_EPS, RTOL_EPS, CellResult, Results

__all__ = ["HEATMAP_FILE", "available", "write_heatmap"]

HEATMAP_FILE = "heatmap.png"
#: The colour scale: the worst error as a fraction of the tolerance, log scale.
VMIN, VMAX = 1e-3, 1.0
SKIPPED_GREY = "#c8c8c8"
FAIL_RED = "#d62728"
NOTE = (
    "matplotlib is not installed: heatmap.png was not written "
    "(pip install matplotlib, or the 'conformance' extra)"
)


def available() -> bool:
    """Whether matplotlib can be imported (the heatmap needs it)."""
    return importlib.util.find_spec("matplotlib") is not None


def _grid(
    results: Results, check: str, columns: list[str]
) -> list[list[tuple[str, float | None, str]]]:
    """Per (loss, column): (kind, colour value, text); kind is 'ok', 'fail', 'skipped'
    or 'none'."""
    by: dict[tuple[str, str], list[CellResult]] = defaultdict(list)
    for c in results.cells:
        if c.check == check:
            by[c.loss, c.backend].append(c)
    k = GRAD_RTOL_EPS if check == "grad" else RTOL_EPS
    grid = []
    for loss in results.losses:
        row: list[tuple[str, float | None, str]] = []
        for backend in columns:
            cells = by.get((loss, backend), [])
            ran = [c for c in cells if c.status != "skipped"]
            errors = [c.error_eps for c in ran if c.error_eps is not None]
            worst = max(errors, default=None)
            if backend in results.skipped_backends:
                row.append(("skipped", None, "skipped"))
            elif not cells:
                row.append(("none", None, ""))
            elif not ran:
                row.append(("skipped", None, "skipped"))
            elif any(c.status == "failed" for c in ran):
                passed = sum(c.passed for c in ran)
                row.append(("fail", None, f"FAIL\n{passed}/{len(ran)}"))
            elif worst is None:  # error cases only: both raised
                row.append(("ok", VMIN, "ok"))
            else:
                text = "0" if worst == 0 else f"{worst:.2g}"
                row.append(("ok", min(max(worst / k, VMIN), VMAX), text))
        grid.append(row)
    return grid


def write_heatmap(results: Results, path: str | Path) -> Path | None:
    """Draw the heatmap into ``path`` (PNG); None, writing nothing, without matplotlib."""
    if not available():
        return None
    from matplotlib.colors import LogNorm
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch, Rectangle

    losses = list(results.losses)
    backends = [*results.backends, *results.skipped_backends]
    grad_backends = [b for b in backends if backend_by_name(b).autodiff]
    panels = [("values", "value", backends)]
    if grad_backends and any(c.check == "grad" for c in results.cells):
        panels.append(("gradients", "grad", grad_backends))
    n_cols = sum(len(cols) for _, _, cols in panels)
    width = max(9.0, 2.6 + 0.72 * n_cols + 0.8)
    height = 2.6 + 0.28 * max(len(losses), 3)
    fig = Figure(figsize=(width, height), dpi=110, layout="constrained")
    axes = fig.subplots(1, len(panels), width_ratios=[len(cols) for _, _, cols in panels])
    axes = list(axes) if len(panels) > 1 else [axes]
    cmap: Any = _colormap()
    norm = LogNorm(VMIN, VMAX)
    image = None
    for ax, (title, check, columns) in zip(axes, panels, strict=True):
        grid = _grid(results, check, columns)
        data = [[v if v is not None else float("nan") for _, v, _ in row] for row in grid]
        image = ax.imshow(data, cmap=cmap, norm=norm, aspect="auto", interpolation="nearest")
        for i, row in enumerate(grid):
            for j, (kind, value, text) in enumerate(row):
                if kind == "skipped":
                    ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, color=SKIPPED_GREY))
                elif kind == "fail":
                    ax.add_patch(
                        Rectangle(
                            (j - 0.5, i - 0.5), 1, 1, facecolor=FAIL_RED, edgecolor="darkred", lw=2
                        )
                    )
                dark = kind == "ok" and value is not None and value < 0.03
                colour = "white" if dark or kind == "fail" else "black"
                ax.text(j, i, text, ha="center", va="center", fontsize=6.5, color=colour)
        k = RTOL_EPS if check == "value" else GRAD_RTOL_EPS
        ax.set_title(f"{title}: worst error in eps (tolerance {k:g} eps)", fontsize=9)
        ax.set_xticks(range(len(columns)), columns, rotation=35, ha="right", fontsize=8)
        ax.set_yticks(range(len(losses)), losses if ax is axes[0] else [], fontsize=8)
        ax.set_xticks([x - 0.5 for x in range(len(columns) + 1)], minor=True)
        ax.set_yticks([y - 0.5 for y in range(len(losses) + 1)], minor=True)
        ax.grid(which="minor", color="white", linewidth=1)
        ax.tick_params(which="minor", length=0)
        ax.set_facecolor("white")
    status = "all cells pass" if not results.failures else f"{len(results.failures)} FAILING cells"
    fig.suptitle(
        f"arrayloss against PyTorch (CPU, float64): worst error per loss and backend; "
        f"{len(results.cells)} cells, {status}",
        fontsize=10,
    )
    bar = fig.colorbar(image, ax=axes, shrink=0.9, extend="max", pad=0.01, aspect=30)
    bar.set_label("worst error / tolerance", fontsize=8)
    bar.ax.tick_params(labelsize=7)
    handles = [
        Patch(facecolor=FAIL_RED, edgecolor="darkred", linewidth=2, label="FAIL (passed/total)"),
        Patch(facecolor=SKIPPED_GREY, label="skipped (not available here)"),
        Patch(facecolor="white", edgecolor="black", label="blank: no cells (no autodiff)"),
    ]
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=3,
        fontsize=7.5,
        frameon=False,
        title=f"colour: worst error as a fraction of the tolerance (log scale; {RTOL_EPS:g} eps "
        f"for values, {GRAD_RTOL_EPS:g} for gradients); number: worst error in eps of the "
        "result's dtype, |a - e| / (eps (|e| + scale))",
        title_fontsize=7.5,
    )
    path = Path(path)
    fig.savefig(path, format="png")
    return path


def _colormap() -> Any:
    from matplotlib import colormaps

    viridis = colormaps["viridis"]
    return viridis.with_extremes(over=FAIL_RED, under=viridis(0.0), bad="white")
