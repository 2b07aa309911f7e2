"""Browser check of the built site: headless Chromium on a local server.

    python docs/_scripts/check_site.py [--site build/site] [--out build/site-check]

Serves the built site (``mkdocs build --site-dir build/site``) with http.server on a free
localhost port and opens pages in Debian's headless Chromium (``/usr/bin/chromium``):

- the binary_cross_entropy_with_logits reference page must show its formula rendered by
  KaTeX (elements of class "katex", no raw ``\\ell``, ``$$`` or ``\\[`` left in the visible
  text of the docstring);
- the conformance page must show the heatmap ``<img>``, whose file the server serves
  (HTTP 200, a PNG signature).

Screenshots go to ``--out`` (not committed): the top of both pages, and the heatmap
image as the server serves it to the browser. ``nox -s docs`` runs this after
the strict build; ``nox -s docs -- --no-browser`` builds only. Exit status 1 on a failed
assertion, 2 when Chromium is missing.
"""

from __future__ import annotations

import argparse
import functools
import html
import http.server
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BCE_PAGE = "reference/binary_cross_entropy_with_logits/"
CONFORMANCE_PAGE = "conformance/"
HEATMAP = "conformance-heatmap.png"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars")
MISSING = (
    "Chromium was not found (looked for {names} on PATH). Install Debian's package: "
    "`sudo apt-get install chromium`, or build the site without the browser check: "
    "`nox -s docs -- --no-browser`."
)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        # Chromium closes connections it no longer needs (a font, a prefetch) while
        # they are being written: a reset peer is not a failure of the check.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


@contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve ``directory`` on a free localhost port in a thread; yields the base URL."""
    handler = functools.partial(_Quiet, directory=str(directory))
    server = _QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def _chromium(binary: str, *args: str, timeout: float = 120) -> str:
    with tempfile.TemporaryDirectory(prefix="arrayloss-chromium-") as profile:
        done = subprocess.run(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"chromium exited with {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout


def rendered_dom(binary: str, url: str) -> str:
    """The DOM after the page's scripts ran (KaTeX included)."""
    return _chromium(binary, "--virtual-time-budget=10000", "--dump-dom", url)


def screenshot(binary: str, url: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    _chromium(
        binary,
        "--virtual-time-budget=10000",
        "--window-size=1280,2000",
        f"--screenshot={path}",
        url,
    )
    if not path.exists() or path.stat().st_size == 0:
        raise RuntimeError(f"chromium wrote no screenshot to {path}")


class _Text(HTMLParser):
    """Visible text of an element, without KaTeX's MathML copy and annotations."""

    SKIP = frozenset({"script", "style", "annotation", "math"})

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(markup: str) -> str:
    parser = _Text()
    parser.feed(markup)
    return html.unescape(" ".join(parser.parts))


def _doc_section(dom: str, anchor: str) -> str:
    """The markup of the mkdocstrings object ``anchor`` (its heading to the next object)."""
    start = dom.find(f'id="{anchor}"')
    if start < 0:
        raise AssertionError(f"no element with id {anchor!r} in the rendered page")
    # the next object's container: <div class="doc doc-object doc-class"> etc.
    end = dom.find('class="doc doc-object doc-', start + 1)
    return dom[start : end if end > 0 else len(dom)]


def check_math(binary: str, base: str) -> list[str]:
    dom = rendered_dom(binary, base + BCE_PAGE)
    errors = []
    section = _doc_section(dom, "arrayloss.binary_cross_entropy_with_logits")
    katex = len(re.findall(r'class="katex[" ]', section))
    display = section.count('class="katex-display"')
    if katex < 2 or display < 1:
        errors.append(
            f"{BCE_PAGE}: expected KaTeX-rendered math in the docstring (elements of class "
            f'"katex", one "katex-display" block at least); found {katex} and {display}'
        )
    text = visible_text(section)
    for raw in ("\\ell", "$$", "\\[", "\\(", ":math:", ".. math::"):
        if raw in text:
            errors.append(f"{BCE_PAGE}: raw {raw!r} left in the visible text of the formula")
    if "katex-error" in section:
        errors.append(f"{BCE_PAGE}: KaTeX reported an error (class katex-error)")
    if not errors:
        print(f"{BCE_PAGE}: {katex} KaTeX elements, {display} display blocks, no raw LaTeX")
    return errors


def check_heatmap(binary: str, base: str) -> list[str]:
    dom = rendered_dom(binary, base + CONFORMANCE_PAGE)
    images = re.findall(r"<img\b[^>]*>", dom)
    heatmap = [img for img in images if HEATMAP in img]
    if not heatmap:
        return [f"{CONFORMANCE_PAGE}: no <img> of {HEATMAP} among {len(images)} images"]
    src = re.search(r'src="([^"]+)"', heatmap[0])
    if src is None:
        return [f"{CONFORMANCE_PAGE}: the heatmap <img> has no src"]
    url = urllib.request.urljoin(base + CONFORMANCE_PAGE, html.unescape(src.group(1)))
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            status, head = response.status, response.read(len(PNG_SIGNATURE))
    except urllib.error.HTTPError as error:
        status, head = error.code, b""
    if status != 200 or head != PNG_SIGNATURE:
        return [f"{url}: HTTP {status}, first bytes {head!r}; expected 200 and a PNG"]
    print(f"{CONFORMANCE_PAGE}: heatmap <img> served as a PNG (HTTP 200) from {url}")
    return []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, default=ROOT / "build" / "site")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "site-check")
    args = parser.parse_args(argv)
    if not (args.site / "index.html").exists():
        print(f"no built site in {args.site}: run `mkdocs build` first", file=sys.stderr)
        return 1
    binary = find_chromium()
    if binary is None:
        print(MISSING.format(names=", ".join(CHROMIUM_NAMES)), file=sys.stderr)
        return 2
    with serve(args.site) as base:
        errors = check_math(binary, base) + check_heatmap(binary, base)
        shots = (
            ("bce-with-logits", BCE_PAGE),
            ("conformance", CONFORMANCE_PAGE),
            ("conformance-heatmap", "images/" + HEATMAP),
        )
        for name, page in shots:
            path = args.out / f"{name}.png"
            screenshot(binary, base + page, path)
            print(f"screenshot: {path}")
    for error in errors:
        print(f"FAIL: {error}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
