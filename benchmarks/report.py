"""Rendering of the suite's results: terminal table, Markdown, plots, the goals of issue 7.

``python -m benchmarks.report results.json`` re-renders ``results.md``, the plots and
the terminal table from a saved run.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .workloads import FAMILIES

__all__ = ["goals", "markdown", "plots", "summary", "terminal"]

Results = dict[str, Any]
BIG = 100_000  # the goals' "N >= 1e5"
MODE_LABEL = {"forward": "fwd", "backward": "fwd+bwd"}


def _fmt_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def _fmt_ratio(r: float | None) -> str:
    if r is None:
        return "-"
    return f"{r:.2f}x" if r < 10 else f"{r:.0f}x"


def _contenders(results: Results) -> list[str]:
    return [c["name"] for c in results["contenders"]]


def _losses(results: Results) -> list[str]:
    seen: dict[str, None] = {}
    for cell in results["cells"]:
        seen.setdefault(cell["loss"], None)
    return list(seen)


def _cells(
    results: Results,
    loss: str | Iterable[str] | None = None,
    mode: str | None = None,
    min_elements: int = 0,
) -> list[dict[str, Any]]:
    losses = {loss} if isinstance(loss, str) else (set(loss) if loss is not None else None)
    return [
        c
        for c in results["cells"]
        if (losses is None or c["loss"] in losses)
        and (mode is None or c["mode"] == mode)
        and c["elements"] >= min_elements
    ]


def _ratio(cell: dict[str, Any], name: str, over: str = "torch") -> float | None:
    res = cell["results"]
    if name not in res or over not in res:
        return None
    return float(res[name]["median_s"] / res[over]["median_s"])


# ---------------------------------------------------------------- terminal table
def _table(results: Results, cells: list[dict[str, Any]], markdown: bool) -> list[str]:
    names = [n for n in _contenders(results) if any(n in c["results"] for c in cells)]
    others = [n for n in names if n != "torch"]
    head = ["loss", "N", "shape", "mode", "torch", *others, "noise"]
    rows = []
    for c in cells:
        res = c["results"]
        torch_t = res.get("torch", {}).get("median_s")
        noise = max((r["noise"] for r in res.values()), default=0.0)
        rows.append(
            [
                c["loss"],
                f"{c['elements']:.0e}" if c["elements"] >= 1000 else str(c["elements"]),
                "x".join(map(str, c["shape"])),
                MODE_LABEL[c["mode"]],
                _fmt_time(torch_t) if torch_t else "-",
                *[_fmt_ratio(res[n]["ratio"]) if n in res else "" for n in others],
                f"{noise:.0%}",
            ]
        )
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return lines
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=False)]
    fmt = "  ".join(f"{{:>{w}}}" if i > 3 else f"{{:<{w}}}" for i, w in enumerate(widths))
    lines = [fmt.format(*head), fmt.format(*["-" * w for w in widths])]
    lines += [fmt.format(*r) for r in rows]
    return lines


def terminal(results: Results) -> str:
    """The table of every cell: torch's time, then every contender's ratio to it."""
    meta = results["meta"]
    lines = [
        "",
        f"arrayloss benchmarks, {meta['date']}, {meta['cpu']} ({meta['cores']} cores); "
        "times relative to torch.nn.functional (2 threads) in the same run",
        "noise: the largest interquartile range / median of the cell's contenders",
        "",
        *_table(results, results["cells"], markdown=False),
        "",
    ]
    lines += [f"  {g['goal']}: {g['measured']} -> {g['status']}" for g in goals(results)]
    lines += _skip_notes(results)
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- summary and goals
def _range(values: list[float]) -> str:
    if not values:
        return ""
    lo, hi = min(values), max(values)
    return _fmt_ratio(lo) if abs(hi - lo) < 0.005 else f"{_fmt_ratio(lo)}-{_fmt_ratio(hi)}"


def summary(results: Results) -> list[str]:
    """Markdown: per loss, the range of each contender's ratio over the cells N >= 1e5."""
    names = [n for n in _contenders(results) if n != "torch"]
    head = ["loss", "mode", *names]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for loss in _losses(results):
        for mode in ("forward", "backward"):
            cells = _cells(results, loss, mode, BIG)
            if not cells:
                continue
            row = [loss, MODE_LABEL[mode]]
            for n in names:
                row.append(_range([r for c in cells if (r := _ratio(c, n)) is not None]))
            lines.append("| " + " | ".join(row) + " |")
    return lines


#: The fast-path contenders and the same calls with fast paths off.
FAST_PATHS = (
    ("arrayloss-torch", "arrayloss-torch-generic", "torch"),
    ("arrayloss-jax", "arrayloss-jax-generic", "JAX eager"),
)


def fast_path_gains(results: Results) -> list[str]:
    """Markdown: per loss and mode, the generic definition's time over the fast path's,
    in the same cells (a gain of 1.00x: the loss has no fast path on that backend)."""
    head = ["loss", "mode"]
    pairs = [p for p in FAST_PATHS if p[0] in _contenders(results) and p[1] in _contenders(results)]
    for _, _, label in pairs:
        head += [f"{label}, N=1", f"{label}, N >= 1e5"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for loss in _losses(results):
        for mode in ("forward", "backward"):
            row = [loss, MODE_LABEL[mode]]
            for fast, generic, _ in pairs:
                for lo, hi in ((0, 1), (BIG, None)):
                    gains = [
                        r
                        for c in _cells(results, loss, mode, lo)
                        if (hi is None or c["elements"] <= hi)
                        and (r := _ratio(c, generic, over=fast)) is not None
                    ]
                    row.append(_range(gains))
            if any(row[2:]):
                lines.append("| " + " | ".join(row) + " |")
    return lines


def _grade(worst: list[tuple[float, str]], target: float, unit: str = "x") -> tuple[str, str]:
    """'median, worst (loss); k/n losses meet it', and met / not met / not measured."""
    if not worst:
        return "not measured", "not measured"
    per_loss: dict[str, float] = {}
    for value, loss in worst:
        per_loss[loss] = max(value, per_loss.get(loss, value))
    value, loss = max((v, k) for k, v in per_loss.items())
    ok = sum(v <= target for v in per_loss.values())
    median = sorted(v for v, _ in worst)[len(worst) // 2]

    def show(v: float) -> str:
        return _fmt_ratio(v) if unit == "x" else f"{v:.1f} {unit}"

    text = (
        f"median {show(median)}, worst {show(value)} ({loss}); {ok}/{len(per_loss)} losses meet it"
    )
    return text, "met" if ok == len(per_loss) else "not met"


def _ratios(
    results: Results,
    name: str,
    over: str = "torch",
    mode: str = "forward",
    losses: Iterable[str] | None = None,
    min_elements: int = BIG,
    max_elements: int | None = None,
) -> list[tuple[float, str]]:
    out = []
    for c in _cells(results, losses, mode, min_elements):
        if max_elements is not None and c["elements"] > max_elements:
            continue
        r = _ratio(c, name, over)
        if r is not None:
            out.append((r, c["loss"]))
    return out


def _memory(results: Results, key: str) -> list[tuple[float, str]]:
    mem = results.get("memory") or {}
    out = []
    for loss, rows in mem.items():
        if isinstance(rows, dict) and key in rows and "multiple" in rows[key]:
            out.append((float(rows[key]["multiple"]), loss))
    return out


def goals(results: Results, baseline: str = "torch") -> list[dict[str, str]]:
    """The goals of issue 7 next to this run's worst ratio (N >= 1e5 unless stated).

    ``baseline="torch-1t"`` grades the goals measured against torch against torch on
    one thread instead, with arrayloss on torch on one thread too (each row's
    ``"vs_baseline"`` says whether it is such a goal): on a loaded 2-core machine the
    2-thread kernels of both wait for a second core and are far noisier.
    """
    # Against torch on one thread, arrayloss on torch runs on one thread too.
    al_torch = "arrayloss-torch-1t" if baseline == "torch-1t" else "arrayloss-torch"
    rows: list[tuple[str, str, list[tuple[float, str]], float, str]] = []
    fam = FAMILIES
    rows.append(
        (
            "elementwise losses (BCE family, soft margin, KL, multilabel soft margin), torch eager",
            "<= 1.2x",
            _ratios(results, al_torch, losses=fam["elementwise"], over=baseline),
            1.2,
            "x",
        )
    )
    rows.append(
        (
            "mse, l1, torch eager",
            "<= 1.1x",
            _ratios(results, al_torch, losses=fam["regression"], over=baseline),
            1.1,
            "x",
        )
    )
    rows.append(
        (
            "huber, smooth_l1, torch eager",
            "<= 1.3x",
            _ratios(results, al_torch, losses=fam["huber"], over=baseline),
            1.3,
            "x",
        )
    )
    rows.append(
        (
            "cross_entropy, nll, torch eager, B x C >= 4M",
            "<= 1.3x",
            _ratios(
                results,
                al_torch,
                losses=fam["classification"],
                min_elements=4_000_000,
                over=baseline,
            ),
            1.3,
            "x",
        )
    )
    rows.append(
        (
            "any loss, NumPy vs torch on one thread",
            "<= 1.1x",
            _ratios(results, "arrayloss-numpy", over="torch-1t"),
            1.1,
            "x",
        )
    )
    for name, label in (("arrayloss-jax", "eager (auto-jit)"), ("arrayloss-jax-jit", "jit")):
        rows.append(
            (
                f"any loss, JAX {label}, N >= 1e6",
                "<= 0.6x torch",
                _ratios(results, name, min_elements=1_000_000, over=baseline),
                0.6,
                "x",
            )
        )
        rows.append(
            (
                f"any loss, JAX {label}, vs optax under jit",
                "<= 1.0x optax",
                _ratios(results, name, over="optax-jit"),
                1.0,
                "x",
            )
        )
    for name, label in (
        (al_torch, "torch autograd"),
        ("arrayloss-jax", "jax.grad eager (auto-jit)"),
        ("arrayloss-jax-jit", "jax.grad under jit"),
    ):
        rows.append(
            (
                f"forward+backward, {label}",
                "<= 1.5x torch",
                _ratios(results, name, mode="backward", over=baseline),
                1.5,
                "x",
            )
        )
    one = {"min_elements": 0, "max_elements": 1}
    rows.append(
        (
            "per call at N=1, torch",
            "<= 2x native",
            _ratios(results, al_torch, **one, over=baseline),
            2,
            "x",
        )
    )
    numpy_us = [
        (c["results"]["arrayloss-numpy"]["median_s"] * 1e6, c["loss"])
        for c in _cells(results, mode="forward")
        if c["elements"] == 1 and "arrayloss-numpy" in c["results"]
    ]
    rows.append(("per call at N=1, NumPy", "<= 10 us", numpy_us, 10, "us"))
    for name, label in (("arrayloss-jax", "eager (auto-jit)"), ("arrayloss-jax-jit", "jit")):
        rows.append(
            (
                f"per call at N=1, JAX {label}",
                "<= 1.1x optax under jit",
                _ratios(results, name, over="optax-jit", **one),
                1.1,
                "x",
            )
        )
    size = (results.get("memory") or {}).get("size")
    at = f" at N={size:.0e}" if size else ""
    for name in ("arrayloss-torch", "arrayloss-numpy", "arrayloss-jax-jit"):
        rows.append(
            (
                f"peak extra memory{at}, forward, {name}",
                "<= 2x one input",
                _memory(results, f"{name}/forward"),
                2,
                "x",
            )
        )
    for name in ("arrayloss-torch", "arrayloss-jax-jit"):
        rows.append(
            (
                f"peak extra memory{at}, forward+backward, {name}",
                "<= 3x one input",
                _memory(results, f"{name}/backward"),
                3,
                "x",
            )
        )
    out = []
    for goal, target, values, limit, unit in rows:
        measured, status = _grade(values, limit, unit)
        out.append({"goal": goal, "target": target, "measured": measured, "status": status})
    marks = ("torch eager", "torch autograd", "per call at N=1, torch")
    for row in out:
        row["vs_baseline"] = "yes" if any(m in row["goal"] for m in marks) else "no"
    out.append(
        {
            "goal": "GPU: elementwise >= 70% of bandwidth at N=1e8, <= 1.2x torch CUDA",
            "target": "",
            "measured": "not measured (CPU-only run)",
            "status": "not measured",
        }
    )
    return out


# ---------------------------------------------------------------- Markdown
def _skip_notes(results: Results) -> list[str]:
    lines = []
    for name, why in results["skipped"]["losses"].items():
        lines.append(f"- skipped loss `{name}`: {why}")
    for name, why in results["skipped"]["contenders"].items():
        lines.append(f"- skipped contender `{name}`: {why}")
    for note in results.get("notes", []):
        lines.append(f"- {note}")
    if "plots_note" in results:
        lines.append(f"- {results['plots_note']}")
    return lines


def _memory_table(results: Results) -> list[str]:
    mem = results.get("memory") or {}
    note = [f"Peak memory: {mem['error']}", ""] if "error" in mem else []
    losses = [k for k, v in mem.items() if isinstance(v, dict)]
    if not losses:
        return note or ["Peak memory not measured."]
    keys: list[str] = []
    for loss in losses:
        keys += [k for k in mem[loss] if "/" in k and k not in keys]
    head = ["loss", *keys]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for loss in losses:
        row = [loss]
        for k in keys:
            v = mem[loss].get(k)
            row.append("" if v is None else ("error" if "error" in v else f"{v['multiple']:.2f}x"))
        lines.append("| " + " | ".join(row) + " |")
    return note + lines


def markdown(results: Results) -> str:
    """The whole report as Markdown (``results.md``)."""
    meta = results["meta"]
    versions = ", ".join(f"{k} {v}" for k, v in meta["versions"].items())
    load = meta.get("load_average")
    lines = [
        "# arrayloss benchmark results",
        "",
        f"- date: {meta['date']}; duration {meta['duration_s']} s; "
        f"command: `python -m benchmarks.suite {' '.join(meta['argv'])}`".rstrip(),
        f"- machine: {meta['cpu']}, {meta['cores']} cores; {meta['platform']}",
        f"- load average at the end: {', '.join(f'{x:.1f}' for x in load)}" if load else "",
        f"- versions: {versions}",
        f"- {meta['rounds']} rounds per cell (fewer, down to 3, when the calls are slow), "
        f"batches of >= {meta['batch_ms']:g} ms, contenders interleaved round-robin; "
        "time = median over rounds; noise = the largest IQR/median in the cell.",
        "- ratio = contender's median / torch.nn.functional's median (2 threads), same cell.",
        "",
        "## Contenders",
        "",
        *[f"- `{c['name']}`: {c['description']}" for c in results["contenders"]],
        *_skip_notes(results),
        "",
        "## Goals of issue 7",
        "",
        "A goal is met when every loss meets it in every cell it covers (the worst cell",
        "decides; the median over those cells shows the typical ratio). The last column",
        "grades the goals against torch with both sides on one thread (`arrayloss-torch-1t`",
        "/ `torch-1t`), which a loaded 2-core machine disturbs far less.",
        "",
        "| goal | target | measured | status | one thread each |",
        "|---|---|---|---|---|",
        *[
            f"| {g['goal']} | {g['target']} | {g['measured']} | {g['status']} | "
            + (f"{one['measured']} ({one['status']})" if g.get("vs_baseline") == "yes" else "")
            + " |"
            for g, one in zip(goals(results), goals(results, "torch-1t"), strict=True)
        ],
        "",
        "## Fast paths: the generic definition's time over the fast path's",
        "",
        "Same cells, same run: `arrayloss-torch-generic` / `arrayloss-torch` and",
        "`arrayloss-jax-generic` / `arrayloss-jax` (above 1: the fast path is faster).",
        "",
        *fast_path_gains(results),
        "",
        "## Ratios to torch at N >= 1e5 (range over sizes)",
        "",
        *summary(results),
        "",
        f"## Peak extra memory at N={(results.get('memory') or {}).get('size', 0):.0e} "
        "(multiple of one input's bytes)",
        "",
        *_memory_table(results),
        "",
        "## Every cell",
        "",
        *_table(results, results["cells"], markdown=True),
        "",
    ]
    problems = [
        f"- {c['loss']} N={c['elements']} {MODE_LABEL[c['mode']]}, `{name}`: {why}"
        for c in results["cells"]
        for name, why in c.get("errors", {}).items()
    ]
    if problems:
        lines += ["## Contenders skipped or failed in a cell", "", *problems, ""]
    for loss, path in (results.get("plots") or {}).items():
        lines += [f"![{loss}](plots/{Path(path).name})", ""]
    return "\n".join(line for line in lines if line is not None) + "\n"


# ---------------------------------------------------------------- plots
def plots(results: Results, directory: Path) -> dict[str, str]:
    """One PNG per loss: median time vs N, log-log, forward and forward+backward."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        results["plots_note"] = "plots skipped: matplotlib is not installed"
        return {}
    directory.mkdir(parents=True, exist_ok=True)
    written: dict[str, str] = {}
    names = _contenders(results)
    tab10 = plt.get_cmap("tab10").colors
    palette = [tab10[i] for i in (0, 1, 2, 3, 4, 5, 6, 8, 9)]  # no grey: torch-1t is grey
    colors = {name: palette[i % len(palette)] for i, name in enumerate(names)}
    styles = {"torch": ("k", "-"), "torch-1t": ("0.45", "-"), "floor": ("k", ":")}
    for loss in _losses(results):
        fig, axes = plt.subplots(1, 2, figsize=(11, 4.4), sharey=True)
        for ax, mode in zip(axes, ("forward", "backward"), strict=True):
            cells = sorted(_cells(results, loss, mode), key=lambda c: c["elements"])
            for name in names:
                pts = [
                    (c["elements"], c["results"][name]["median_s"])
                    for c in cells
                    if name in c["results"]
                ]
                if pts:
                    color, line = styles.get(name, (colors[name], "-"))
                    xs, ys = zip(*pts, strict=True)
                    ax.loglog(xs, ys, line, color=color, marker="o", ms=3, label=name)
            ax.set_title(f"{loss}, {MODE_LABEL[mode]}")
            ax.set_xlabel("N (elements of the first input)")
            ax.grid(True, which="major", alpha=0.3)
        axes[0].set_ylabel("median time per call (s)")
        axes[0].legend(fontsize=7, loc="upper left")  # forward has every contender
        fig.tight_layout()
        path = directory / f"{loss}.png"
        fig.savefig(path, dpi=80)
        plt.close(fig)
        written[loss] = str(path)
    return written


def main(argv: list[str] | None = None) -> None:
    import json

    paths = argv if argv is not None else sys.argv[1:]
    path = Path(paths[0] if paths else "benchmarks/results/results.json")
    results = json.loads(path.read_text())
    if results.get("plots") is not None:
        results["plots"] = plots(results, path.parent / "plots")
    (path.parent / "results.md").write_text(markdown(results))
    print(terminal(results))


if __name__ == "__main__":
    main()
