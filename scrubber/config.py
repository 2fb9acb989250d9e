"""Project configuration: the options a team would otherwise repeat on every ``scrub check``.

``scrubber.toml`` in the working directory or the nearest parent that has one, or a
``[tool.scrubber]`` table in a ``pyproject.toml`` there (in one folder, ``scrubber.toml`` wins; a
``pyproject.toml`` without the table is passed over). ``--config FILE`` names one; ``--no-config``
ignores them. Keys::

    policies = ["policies/acme.toml"]          # --policy (repeatable)
    select = ["addon-without-primary"]         # --select (a list, or "a,b")
    ignore = []                                # --ignore
    fail_on = "error"                          # --fail-on
    suppressions = ["suppressions.toml"]       # --suppressions (repeatable)
    [outputs]                                  # --json / --csv / --html / --rejected
    json = "out/findings.json"

Paths are relative to the config file's folder. The command line wins, key by key (an option
given replaces the config's value for that key; each output is its own key). Unknown keys and
unknown check ids are errors (exit 2) naming the key, as in policy files: a misspelt key must not
silently do nothing. ``scrub check --show-config`` prints the effective settings and where each
came from.
"""

from __future__ import annotations

import difflib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scrubber.errors import UsageError
from scrubber.gate import FAIL_ON
from scrubber.settings_files import read_toml

CONFIG_NAME = "scrubber.toml"
PYPROJECT = "pyproject.toml"
OUTPUT_KEYS = ("json", "csv", "html", "rejected")
KEYS = ("policies", "select", "ignore", "fail_on", "suppressions", "outputs")
DEFAULT = "default"
COMMAND_LINE = "command line"


@dataclass(frozen=True)
class Setting:
    value: Any
    origin: str  # "default", "command line" or the config file's path


@dataclass
class Config:
    """A config file's settings, validated, with paths made absolute (relative to the file)."""

    path: Path | None = None
    values: dict[str, Any] = field(default_factory=dict)
    # A pyproject.toml beside the discovered scrubber.toml whose [tool.scrubber] is not read (said, not
    # silently passed over: a setting accepted is never silently ignored).
    shadowed: Path | None = None

    @property
    def origin(self) -> str:
        return str(self.path) if self.path else DEFAULT


def discover(start: Path | None = None) -> Path | None:
    """The config of ``start`` (default: the working directory): ``scrubber.toml`` or a ``pyproject.toml``
    with ``[tool.scrubber]``, in that folder or the nearest parent that has one."""
    folder = (start or Path.cwd()).resolve()
    for directory in (folder, *folder.parents):
        candidate = directory / CONFIG_NAME
        # (one that is there but cannot be read, a dangling link, a loop, a folder, is this folder's config
        # all the same: :func:`load` says why; passed over, a parent's settings applied without a word, 23H)
        if os.path.lexists(candidate):
            return candidate
        pyproject = directory / PYPROJECT
        if pyproject.is_file() and "scrubber" in _tool(_read(pyproject)):
            return pyproject
    return None


def _read(path: Path) -> dict[str, Any]:
    return read_toml(path, "config")


def _tool(data: dict[str, Any]) -> dict[str, Any]:
    """A pyproject's ``[tool]`` table; anything else (``tool = 1`` in a project of someone else's) holds
    no scrubber settings (it gave "unexpected TypeError" on every run below it)."""
    tool = data.get("tool", {})
    return tool if isinstance(tool, dict) else {}


def _unknown(key: str, allowed: tuple[str, ...], where: str, path: Path) -> UsageError:
    near = difflib.get_close_matches(key, allowed, n=1)
    hint = f"; did you mean '{near[0]}'?" if near else f" (allowed: {', '.join(allowed)})"
    return UsageError(f"unknown key '{where}{key}'{hint}", str(path))


def _texts(value: Any, key: str, path: Path, comma: bool = False) -> list[str]:
    if comma and isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise UsageError(f"'{key}' must be a list of texts", str(path))
    return list(value)


def load(path: Path) -> Config:
    """Read and validate one config file (``pyproject.toml``: its ``[tool.scrubber]`` table)."""
    given = path
    try:
        path = path.resolve()
    except (OSError, RuntimeError) as exc:  # (a symlink loop: "unexpected RuntimeError" before, 23H)
        raise UsageError(f"cannot read config file ({exc})", str(path)) from None
    if not path.is_file():
        # (named as found, not as the link's target: a dangling scrubber.toml was "<target>: no such
        # config file", a file the user never named; review 24C D5)
        if given.is_symlink() and not os.path.lexists(path):
            raise UsageError(f"config file is a link to nothing ({os.readlink(given)})", str(given.absolute()))
        raise UsageError("no such config file" if not os.path.lexists(path) else
                         "config file is not a readable file (a folder)", str(path))
    data = _read(path)
    prefix = ""
    if path.name == PYPROJECT:
        if "scrubber" not in _tool(data):  # (discovery passes such a file over; one named is a mistake)
            raise UsageError("has no [tool.scrubber] table: no settings to read", str(path))
        data = _tool(data)["scrubber"]
        prefix = "tool.scrubber."
        if not isinstance(data, dict):
            raise UsageError("[tool.scrubber] must be a table", str(path))
    base = path.parent
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in KEYS:
            raise _unknown(key, KEYS, prefix, path)
        if key in ("policies", "suppressions"):
            paths = _texts(value, prefix + key, path)
            if any("\x00" in p for p in paths):
                raise UsageError(f"'{prefix}{key}': a path holds a NUL character", str(path))
            values[key] = [str(base / p) for p in paths]
        elif key in ("select", "ignore"):
            values[key] = [v.strip().lower() for v in _texts(value, prefix + key, path, comma=True)]
            if key == "select" and not values[key]:
                # Not "every check" (what an absent select means): --select '' is refused likewise.
                raise UsageError(f"'{prefix}select' names no check id (leave it out to run every check; "
                                 "see `scrub checks`)", str(path))
        elif key == "fail_on":
            if value not in FAIL_ON:
                raise UsageError(f"'{prefix}fail_on' must be one of {', '.join(FAIL_ON)}, not {value!r}", str(path))
            values[key] = value
        else:  # outputs
            if not isinstance(value, dict):
                raise UsageError(f"'{prefix}outputs' must be a table ([outputs] with json/csv/html/rejected)",
                                 str(path))
            outputs = {}
            for name, target in value.items():
                if name not in OUTPUT_KEYS:
                    raise _unknown(name, OUTPUT_KEYS, prefix + "outputs.", path)
                if not isinstance(target, str) or not target.strip():
                    raise UsageError(f"'{prefix}outputs.{name}' must be a path", str(path))
                outputs[name] = target if target == "-" else str(base / target)
            values[key] = outputs
    return Config(path, values)


def find(explicit: str | None, isolated: bool) -> Config:
    """The config of this run: ``--config FILE``, else the discovered one, else none (``--no-config``)."""
    if explicit:
        return load(Path(explicit))
    if isolated:
        return Config()
    found = discover()
    if not found:
        return Config()
    config = load(found)
    beside = found.with_name(PYPROJECT)
    if found.name == CONFIG_NAME and beside.is_file() and "scrubber" in _tool(_read(beside)):
        config.shadowed = beside
    return config


def effective(config: Config, cli: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Setting]:
    """Each setting's value and origin: the command line (a value that is not None) over the config
    over the defaults. ``cli`` and ``defaults`` use the config's keys, outputs as ``outputs.json``..."""
    out: dict[str, Setting] = {}
    config_values = dict(config.values)
    for name, target in config_values.pop("outputs", {}).items():
        config_values[f"outputs.{name}"] = target
    for key in [*(k for k in KEYS if k != "outputs"), *(f"outputs.{k}" for k in OUTPUT_KEYS)]:
        if cli.get(key) is not None:
            out[key] = Setting(cli[key], COMMAND_LINE)
        elif key in config_values:
            out[key] = Setting(config_values[key], config.origin)
        else:
            out[key] = Setting(defaults.get(key), DEFAULT)
    return out


def show(config: Config, settings: dict[str, Setting]) -> str:
    """``--show-config``: the effective settings as TOML-like lines, each with where it came from."""
    source = str(config.path) if config.path else "no config file found"
    lines = [f"# config: {source}", "# precedence: command line > config file > default"]
    width = max(len(k) for k in settings)
    for key, setting in settings.items():
        value = setting.value
        shown = "(none)" if value is None else json.dumps(value, ensure_ascii=False)
        if key == "select" and value is None:
            shown = "(all checks)"
        lines.append(f"{key:<{width}} = {shown}  # {setting.origin}")
    return "\n".join(lines) + "\n"
