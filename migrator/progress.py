"""A tiny progress reporter for long scans: one ``\\r``-updated status line on stderr.

It only ever writes when it is worth it: stderr is a terminal, ``--quiet`` was not given, and the
environment does not ask for plain output (``NO_COLOR`` set to anything, ``CI`` set to a true
value, ``TERM=dumb``). ``colour_enabled``/``paint`` apply the same conventions to colour, where
``FORCE_COLOR`` can also turn it on for a non-terminal.  Otherwise every call is a cheap no-op, so piped output, logs and CI stay byte-for-byte as
they were.  The line is cleared when the ``with`` block ends, so later output starts on a clean line.

    with Progress(len(files), "parsing", enabled_for(sys.stderr, args.quiet)) as progress:
        for f in files:
            ...
            progress.advance()

No dependency beyond the standard library.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from typing import Callable, Mapping, Optional, TextIO

__all__ = ["Progress", "enabled_for", "colour_enabled", "paint", "set_quiet"]

_FALSE_WORDS = {"", "0", "false", "no", "off"}
_QUIET = False  # the command line's -q/--quiet, for code that draws progress without being told


def set_quiet(quiet: bool) -> None:
    """`-q/--quiet` for the whole process: every Progress is then a no-op."""
    global _QUIET
    _QUIET = bool(quiet)


def colour_enabled(stream: Optional[TextIO] = None, environ: Optional[Mapping[str, str]] = None) -> bool:
    """Whether to write ANSI colour to ``stream``: ``NO_COLOR`` (non-empty) turns it off
    (https://no-color.org); ``FORCE_COLOR`` (non-empty; "0"/"false"/"no"/"off" mean off) decides
    otherwise (https://force-color.org); else only on a terminal whose ``TERM`` is not ``dumb``."""
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return False
    forced = env.get("FORCE_COLOR")
    if forced:
        return forced.strip().lower() not in _FALSE_WORDS
    if env.get("TERM") == "dumb":
        return False
    return _isatty(sys.stderr if stream is None else stream)


_CODES = {"red": "31", "yellow": "33", "green": "32", "bold": "1", "dim": "2"}


def paint(text: str, colour: str, stream: Optional[TextIO] = None) -> str:
    """``text`` wrapped in the ANSI code for ``colour`` when colour_enabled(stream), else unchanged."""
    if not text or not colour_enabled(stream):
        return text
    return f"\033[{_CODES[colour]}m{text}\033[0m"


def _isatty(stream) -> bool:
    isatty = getattr(stream, "isatty", None)
    if isatty is None:
        return False
    try:
        return bool(isatty())
    except (ValueError, OSError):  # closed or detached stream
        return False


def _env_true(value: Optional[str]) -> bool:
    return value is not None and value.strip().lower() not in _FALSE_WORDS


def enabled_for(stream: Optional[TextIO] = None, quiet: bool = False,
                environ: Optional[Mapping[str, str]] = None) -> bool:
    """Whether progress should be drawn on ``stream`` (default: ``sys.stderr``).

    False when ``quiet`` (or -q/--quiet for the process, see set_quiet); when ``NO_COLOR`` is set
    to a non-empty value (https://no-color.org); when ``CI`` is set to a true value (GitHub
    Actions, GitLab, ... set ``CI=true``) or ``TERM=dumb``; or when the stream is not a terminal (or
    is closed, or has no ``isatty``). ``FORCE_COLOR`` forces colour, not a ``\\r`` status line:
    in a log that line would be noise.
    """
    if quiet or _QUIET:
        return False
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return False
    if _env_true(env.get("CI")) or env.get("TERM") == "dumb":
        return False
    return _isatty(sys.stderr if stream is None else stream)


class Progress:
    """``with Progress(total, label, enabled) as p: ... p.advance()``.

    ``total`` may be ``None`` (or 0) when unknown: the line then shows a count without a
    percentage.  ``enabled=None`` decides with :func:`enabled_for` on ``stream``.  Redraws are
    limited to one per ``min_interval`` seconds, except the first and the one reaching ``total``.
    """

    def __init__(self, total: Optional[int], label: str, enabled: Optional[bool] = None,
                 stream: Optional[TextIO] = None, min_interval: float = 0.1,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.total = total if total and total > 0 else None
        self.label = label
        self.done = 0
        self.stream = sys.stderr if stream is None else stream
        self.enabled = enabled_for(self.stream) if enabled is None else bool(enabled)
        self.min_interval = min_interval
        self._clock = clock
        self._last_draw: Optional[float] = None
        self._shown = 0  # width of the line currently on screen

    # -- context manager ------------------------------------------------------------------------

    def __enter__(self) -> "Progress":
        self._draw(force=True)
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        self.clear()
        return False  # never swallow exceptions

    # -- public ---------------------------------------------------------------------------------

    def advance(self, n: int = 1) -> None:
        """Count ``n`` more items done and redraw (rate-limited)."""
        self.done += n
        self._draw(force=self.total is not None and self.done >= self.total)

    def message(self, text: str) -> None:
        """Print ``text`` on its own line without mangling the status line (no-op when disabled)."""
        if not self.enabled:
            return
        self.clear()
        self._write(text if text.endswith("\n") else text + "\n")
        self._draw(force=True)

    def clear(self) -> None:
        """Erase the status line (no-op when nothing is shown)."""
        if self.enabled and self._shown:
            self._write("\r" + " " * self._shown + "\r")
            self._shown = 0

    def line(self) -> str:
        """The status text as it would be drawn now."""
        if self.total is None:
            return f"{self.label}: {self.done}"
        pct = min(100, self.done * 100 // self.total)
        return f"{self.label}: {self.done}/{self.total} ({pct}%)"

    # -- internals ------------------------------------------------------------------------------

    def _draw(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = self._clock()
        if not force and self._last_draw is not None and now - self._last_draw < self.min_interval:
            return
        self._last_draw = now
        width = max(10, shutil.get_terminal_size((80, 24)).columns - 1)
        text = self.line()[:width]
        pad = " " * max(0, self._shown - len(text))
        self._write("\r" + text + pad)
        self._shown = len(text)

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # broken pipe, closed stream: stop drawing, never fail the run
            self.enabled = False
            self._shown = 0
