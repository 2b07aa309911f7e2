"""MkDocs hook: publish the benchmark results (benchmarks/results/) inside the site.

`python -m benchmarks.suite` writes results.md, results.json and plots/<loss>.png to
benchmarks/results/, outside docs/. Rather than copying them (copies go stale when the
suite runs again), this hook adds the tracked files to the site under the same relative
path, benchmarks/results/: docs/performance.md links and embeds them from there, and
results.md becomes a page of its own (its `plots/<loss>.png` images resolve unchanged).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
RESULTS = Path("benchmarks") / "results"
PATTERNS = ("results.md", "results.json", "plots/*.png")


def on_files(files: Files, config: Any) -> Files:
    for pattern in PATTERNS:
        for path in sorted((ROOT / RESULTS).glob(pattern)):
            src_uri = path.relative_to(ROOT).as_posix()
            files.append(
                File(
                    src_uri,
                    src_dir=str(ROOT),
                    dest_dir=config["site_dir"],
                    use_directory_urls=config["use_directory_urls"],
                )
            )
    return files
