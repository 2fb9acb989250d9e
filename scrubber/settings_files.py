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


def read_text(path: str | Path, what: str) -> str:
    """The file's UTF-8 text; ``what`` names it in the messages ("suppressions file")."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"no such {what}", str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {what} ({getattr(exc, 'strerror', None) or exc})", str(path)) from None


def read_toml(path: str | Path, what: str) -> dict[str, Any]:
    """The file as a TOML document (see :func:`read_text`)."""
    text = read_text(path, what)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"not valid TOML ({exc})", str(path)) from None
    except RecursionError:
        raise UsageError(f"not valid TOML (nested too deeply to be a {what})", str(path)) from None
