"""The progress bar of ``python -m conformance``, on stderr.

On a terminal it redraws one line in place (at most ten times a second); elsewhere (a CI
log, a pipe) it writes a start line, then at most one line every ``interval`` seconds,
and a final line. It counts *runs*: one case in one dtype on one backend, i.e. a value
cell together with its gradient cell where the backend has one.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

__all__ = ["ProgressBar", "format_duration"]


def format_duration(seconds: float) -> str:
    """``m:ss``, or ``h:mm:ss`` from an hour on."""
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class ProgressBar:
    """``start(total)``, then ``advance(n, label)`` as runs finish, then ``finish()``.

    Parameters
    ----------
    stream
        Where to write (default: ``sys.stderr`` at the time of each write).
    tty
        Redraw in place (True) or write separate lines (False); default: whether
        ``stream`` is a terminal.
    interval
        Seconds between two lines when not on a terminal.
    width
        Characters of the bar itself.
    clock
        A monotonic clock in seconds (tests pass a fake one).
    """

    #: Seconds between two redraws on a terminal.
    REDRAW = 0.1

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        tty: bool | None = None,
        interval: float = 10.0,
        width: int = 24,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self._tty = tty
        self.interval = interval
        self.width = width
        self._clock = clock
        self.total = 0
        self.done = 0
        self.label = ""
        self._started = 0.0
        self._last_write = 0.0
        self._drawn = 0  # length of the line drawn last on a terminal
        self._finished = False

    @property
    def stream(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stderr

    @property
    def tty(self) -> bool:
        if self._tty is None:
            isatty = getattr(self.stream, "isatty", None)
            self._tty = bool(isatty and isatty())
        return self._tty

    def start(self, total: int) -> None:
        self.total, self.done, self._finished = total, 0, False
        self._started = self._last_write = self._clock()
        if self.tty:
            self._draw()
        else:
            self._line(f"conformance: {total} runs (case x dtype x backend) to go")

    def advance(self, n: int = 1, label: str = "") -> None:
        self.done = min(self.total, self.done + n) if self.total else self.done + n
        if label:
            self.label = label
        now = self._clock()
        if self.tty:
            if now - self._last_write >= self.REDRAW:
                self._last_write = now
                self._draw()
        elif now - self._last_write >= self.interval:
            self._last_write = now
            self._line(self.status())

    def finish(self) -> None:
        """The final state (every run done), then a newline on a terminal."""
        if self._finished:
            return
        self._finished = True
        self.done, self.label = self.total, ""
        elapsed = format_duration(self._clock() - self._started)
        if self.tty:
            self._draw(f"{self.total} runs in {elapsed}")
            self.stream.write("\n")
            self.stream.flush()
        else:
            self._line(f"conformance: {self.total}/{self.total} runs done in {elapsed}")

    def bar(self) -> str:
        filled = self.width * self.done // self.total if self.total else self.width
        return "[" + "#" * filled + "-" * (self.width - filled) + "]"

    def status(self, tail: str | None = None) -> str:
        """One line: the bar, done/total, percent, the current loss and dtype, elapsed, ETA."""
        elapsed = self._clock() - self._started
        percent = 100 * self.done // self.total if self.total else 100
        if tail is None:
            if self.done and self.done < self.total:
                eta = format_duration(elapsed * (self.total - self.done) / self.done)
            else:
                eta = "?" if self.done < self.total else "0:00"
            tail = f"{format_duration(elapsed)} elapsed, ETA {eta}"
            if self.label:
                tail = f"{self.label}  {tail}"
        return f"{self.bar()} {self.done}/{self.total} runs {percent:3d}%  {tail}"

    def _draw(self, tail: str | None = None) -> None:
        text = self.status(tail)
        pad = " " * max(0, self._drawn - len(text))
        self._drawn = len(text)
        self.stream.write("\r" + text + pad)
        self.stream.flush()

    def _line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()
