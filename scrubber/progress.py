"""A sign of life on long runs: phase, lines read and rate, on one self-erasing stderr line.

Shown only when stderr is a terminal (never in pipes, files or CI logs, which would fill with
carriage returns), never under ``--quiet``, and only once a run has read about a million lines:
a small batch finishes before anyone would look. The engine calls it at phase boundaries and per
input batch (:data:`scrubber.engine.Progress`), never per line; it redraws at most a few times a
second. No colour is used, so ``NO_COLOR`` needs nothing more.
"""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO

SHOW_FROM_LINES = 1_000_000
_REDRAW_SECONDS = 0.25


def wanted(stream: TextIO, quiet: bool) -> bool:
    """Progress goes to ``stream`` only if it is a terminal, the run is not quiet and not under CI."""
    if quiet or os.environ.get("CI"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _rate(lines: int, seconds: float) -> str:
    per_second = lines / seconds if seconds > 0 else 0.0
    return f"{per_second / 1000:,.0f}k lines/s" if per_second >= 1000 else f"{per_second:,.0f} lines/s"


class Progress:
    """The ``progress`` callback of :func:`scrubber.engine.scrub` for ``scrub check``."""

    def __init__(self, stream: TextIO | None = None, threshold: int | None = None) -> None:
        self.stream = stream or sys.stderr
        self.threshold = SHOW_FROM_LINES if threshold is None else threshold
        self.started = time.perf_counter()
        self._drawn = 0.0
        self._shown = False
        self._lines = 0

    def __call__(self, phase: str, lines: int) -> None:
        self._lines = max(self._lines, lines)
        if self._lines < self.threshold:
            return
        now = time.perf_counter()
        reading = phase == "read"
        if reading and now - self._drawn < _REDRAW_SECONDS:
            return
        self._drawn = now
        elapsed = now - self.started
        if reading:
            text = f"scrub: reading: {self._lines:,} lines ({_rate(self._lines, elapsed)})"
        else:
            text = f"scrub: {phase} done: {self._lines:,} lines, {elapsed:.1f} s ({_rate(self._lines, elapsed)})"
        self.stream.write("\r\x1b[2K" + text)
        self.stream.flush()
        self._shown = True

    def finish(self) -> None:
        """Erase the progress line, so the summary or an error starts on a clean line."""
        if self._shown:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self._shown = False
