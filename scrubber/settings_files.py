"""Reading the files a user writes beside the claims (config, suppressions, findings to compare).

One definition of how such a file's problems read: "no such ...", "cannot read ... (why)", "not
valid TOML (...)", each a :class:`scrubber.errors.UsageError` naming the file, never a traceback
(a 100,000-deep document included: Python's parsers recurse).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from scrubber.errors import UsageError

_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def decode_text(data: bytes) -> str:
    """A settings file's bytes as text: UTF-8, with or without its BOM, or UTF-16 with its BOM.

    Why UTF-16: Windows PowerShell 5 writes ``scrub check --json - > findings.json`` as UTF-16 with a
    BOM, and Notepad saves "Unicode" so; the BOM says which it is, so no guess is made. Raises
    :class:`UnicodeDecodeError` for anything else that is not UTF-8.
    """
    if data.startswith(_UTF16_BOMS):
        return data.decode("utf-16")
    return data.decode("utf-8-sig")


def undecodable(exc: UnicodeDecodeError) -> str:
    """What :func:`decode_text` found wrong, for a message: "not UTF-8 text: byte 0xff at offset 9"."""
    encoding = "UTF-16" if "16" in exc.encoding else "UTF-8"
    return f"not {encoding} text: byte 0x{exc.object[exc.start]:02x} at offset {exc.start}"


def read_text(path: str | Path, what: str) -> str:
    """The file's text (:func:`decode_text`); ``what`` names it in the messages ("suppressions file")."""
    try:
        return decode_text(Path(path).read_bytes())
    except FileNotFoundError:
        raise UsageError(f"no such {what}", str(path)) from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"cannot read {what} ({undecodable(exc)})", str(path)) from None
    except OSError as exc:
        raise UsageError(f"cannot read {what} ({exc.strerror or exc})", str(path)) from None


def read_toml(path: str | Path, what: str) -> dict[str, Any]:
    """The file as a TOML document (see :func:`read_text`)."""
    text = read_text(path, what)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"not valid TOML ({exc})", str(path)) from None
    except RecursionError:
        raise UsageError(f"not valid TOML (nested too deeply to be a {what})", str(path)) from None
