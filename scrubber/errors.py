"""Errors that end a run with a clear one-line message (exit status 2), never a traceback."""

from __future__ import annotations

import os
import re

# Characters that never reach a terminal or a report as they are, from a cell or a file name: C0/C1
# controls (ESC starts ANSI sequences that recolour or rewrite the screen), DEL, the line and paragraph
# separators, and the bidirectional marks and overrides that make a text read differently from what it
# says ("PCN-1\u202e1002"). The one definition: the terminal and the rejected rows' reasons use it too.
_C0_C1 = "\x00-\x1f\x7f-\x9f"  # the control characters, DEL among them
UNPRINTABLE = f"[{_C0_C1}\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
_UNPRINTABLE = re.compile(UNPRINTABLE)
_CONTROL = re.compile(f"[{_C0_C1}]")


def printable(text: str) -> str:
    """``text`` safe for one terminal line: undecodable bytes (a file name that is not UTF-8, kept by
    Python as lone surrogates) and control characters become U+FFFD."""
    return _UNPRINTABLE.sub("\ufffd", decoded(text))


# Characters that change how the text around them is displayed without being seen: bidirectional
# overrides, embeddings and isolates (they reorder what a reader sees: "Trojan source"), the direction
# marks, and the zero-width space, word joiner and byte-order mark (two claim ids differing by one look
# the same). The HTML report and letters show each as a mark; joiners (U+200C, U+200D) are left, as
# names in several scripts need them (probe 23H B5).
_INVISIBLE = re.compile("[\u061c\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]")


def show_invisible(text: str) -> str:
    """``text`` with each invisible control shown as ``[U+202E]`` (claim data is untrusted text)."""
    return _INVISIBLE.sub(lambda m: f"[U+{ord(m.group()):04X}]", text) if _INVISIBLE.search(text) else text


def shown(text: str) -> str:
    """``text`` as a warning quotes it: each invisible control shown as ``[U+200F]`` (:func:`show_invisible`),
    then what no terminal line may hold as U+FFFD (:func:`printable`). In this order: the direction marks
    are both invisible and unprintable, and a warning naming "U+200F" quoted the name with U+FFFD (probe
    28A D8); a control character likewise (``[U+001F]``: "MEDI\ufffdCARE" named U+001F, probe 28C D8)."""
    return printable(_CONTROL.sub(lambda m: f"[U+{ord(m.group()):04X}]", show_invisible(text)))



def undecodable_byte(text: str) -> str | None:
    """The first byte of ``text`` that was not UTF-8 (read with ``errors="surrogateescape"``, which
    keeps such a byte as a lone surrogate), as ``0xe9``; None when there is none."""
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(text[exc.start])
        return f"0x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else None
    return None


def decoded(text: str) -> str:
    """``text`` read with ``surrogateescape`` as UTF-8 text: each byte that was not UTF-8 shown as U+FFFD."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def display_name(path: os.PathLike[str] | str) -> str:
    """A file name as reports and messages show it (see :func:`printable`); ``str(path)`` for any
    name that is valid text, so the name in the output is the one the user typed."""
    return printable(os.fspath(path))


class ScrubError(Exception):
    """A problem with the user's input or options that stops the whole run."""

    def __init__(self, message: str, source: str | None = None) -> None:
        super().__init__(message)
        self.source = printable(source) if source is not None else None
        self.message = printable(message)

    def __str__(self) -> str:
        return f"{self.source}: {self.message}" if self.source else self.message


class InputError(ScrubError):
    """An input file that cannot be read as claims at all (missing, empty, binary, wrong shape)."""


class PolicyError(ScrubError):
    """A policy file that cannot be used (unreadable, unknown keys, bad values)."""


class UsageError(ScrubError):
    """Options that contradict each other or name things that do not exist (unknown check ids)."""
