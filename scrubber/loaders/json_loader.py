"""Read nested claims JSON (``{"claims": [...]}``, a bare list of claims, or JSON Lines).

A claim carries claim-level fields and ``lines``; a line may override a claim-level field (a
line's ``place_of_service`` wins over the claim's, as SV105 over CLM05-1). A line's diagnoses come
from, in order: ``diagnosis_pointers`` (1-based, into the claim's ``diagnoses``), its own
``diagnoses`` list or ``diagnosis_1..4``, else all of the claim's diagnoses.

Rows are numbered by their position in the file: the n-th line of all claims is row n, and the
location says "claim 3 (C-100), line 2" so a person can find it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from scrubber.errors import InputError
from scrubber.schema import RAW_SCHEMA, SCALAR_COLUMNS

_CLAIM_LEVEL = ("claim_id", "member_id", "payer", "claim_type", "place_of_service", "date_of_service")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"  # fails the typed cast with a clear reason
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 1e15 else repr(value)
    return str(value)


def parse_claims(text: str, source: str) -> list[Any]:
    """The list of claim objects in a JSON or JSON Lines document."""
    stripped = text.strip()
    if not stripped:
        raise InputError("empty file", source)
    try:
        doc = json.loads(stripped)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":
            return _parse_json_lines(stripped, source)
        raise InputError(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", source) from None
    except RecursionError:
        raise InputError("invalid JSON: nested too deeply to be claims", source) from None
    if isinstance(doc, dict) and "claims" in doc:
        claims = doc["claims"]
        if not isinstance(claims, list):
            raise InputError('"claims" must be a list of claim objects', source)
        return claims
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict) and "lines" in doc:
        return [doc]  # a JSON Lines file with one claim
    raise InputError('not a claims file (expected {"claims": [...]}, a list of claims, or JSON Lines)', source)


def _parse_json_lines(text: str, source: str) -> list[Any]:
    claims: list[Any] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            claims.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise InputError(f"invalid JSON Lines record at line {number}: {exc.msg}", source) from None
        except RecursionError:
            raise InputError(f"invalid JSON Lines record at line {number}: nested too deeply", source) from None
    return claims


def _line_diagnoses(claim: dict, line: dict) -> tuple[list[str] | None, str | None]:
    claim_dx = claim.get("diagnoses")
    if claim_dx is not None and not isinstance(claim_dx, list):
        return None, "claim diagnoses must be a list"
    pointers = line.get("diagnosis_pointers")
    if pointers is not None:
        if not isinstance(pointers, list):
            pointers = [pointers]
        out: list[str] = []
        for p in pointers:
            index = _pointer(p)
            if index is None:
                return None, f"diagnosis pointer {p!r} is not a whole number"
            if not claim_dx or index < 1 or index > len(claim_dx):
                return None, f"diagnosis pointer {index} points past the claim's {len(claim_dx or [])} diagnoses"
            out.append(_text(claim_dx[index - 1]) or "")
        return out, None
    if isinstance(line.get("diagnoses"), list):
        return [_text(d) or "" for d in line["diagnoses"]], None
    listed = [line.get(f"diagnosis_{i}") for i in range(1, 5)]
    if any(v is not None for v in listed):
        return [_text(v) for v in listed if v is not None], None  # type: ignore[misc]
    return [_text(d) or "" for d in (claim_dx or [])], None


def _pointer(value: Any) -> int | None:
    """A 1-based diagnosis pointer: 2, 2.0 or "2"; not 1.5, true, Infinity or "B"."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():  # not "²"
        return int(value.strip())
    return None


def _line_modifiers(line: dict) -> tuple[list[str], str | None]:
    mods = line.get("modifiers")
    if mods is not None:
        if isinstance(mods, str):
            mods = mods.replace(",", " ").split()
        if not isinstance(mods, list):
            return [], "modifiers must be a list"
        return [_text(m) or "" for m in mods], None
    return [_text(line[k]) for k in (f"modifier_{i}" for i in range(1, 5)) if line.get(k) is not None], None  # type: ignore[misc]


def claims_to_raw(claims: list[Any], source: str, first_row_id: int) -> pl.DataFrame:
    """Flatten claim objects to one raw row per line (a claim without lines is one rejected row)."""
    columns: dict[str, list[Any]] = {c: [] for c in RAW_SCHEMA}
    columns["load_error"] = []

    def add(values: dict[str, Any], location: str, error: str | None) -> None:
        row = len(columns["row_id"])
        columns["row_id"].append(first_row_id + row)
        columns["source"].append(source)
        columns["source_row"].append(row + 1)
        columns["source_location"].append(location)
        for c in SCALAR_COLUMNS:
            v = values.get(c)
            if isinstance(v, (dict, list)):
                error = error or f"{c} must be a single value"
                v = None
            columns[c].append(_text(v))
        columns["modifiers"].append(values.get("modifiers", []))
        columns["diagnoses"].append(values.get("diagnoses", []))
        columns["load_error"].append(error)

    for ci, claim in enumerate(claims, start=1):
        if not isinstance(claim, dict):
            add({}, f"claim {ci}", "claim is not an object")
            continue
        label = f"claim {ci} ({claim.get('claim_id')})" if claim.get("claim_id") is not None else f"claim {ci}"
        lines = claim.get("lines")
        if not isinstance(lines, list) or not lines:
            add({k: claim.get(k) for k in _CLAIM_LEVEL}, label, "claim has no lines")
            continue
        for li, line in enumerate(lines, start=1):
            location = f"{label}, line {li}"
            if not isinstance(line, dict):
                add({k: claim.get(k) for k in _CLAIM_LEVEL}, location, "line is not an object")
                continue
            values = {k: v for k, v in claim.items() if k not in ("lines", "diagnoses")}
            values.update({k: v for k, v in line.items() if v is not None or k not in values})
            dx, dx_error = _line_diagnoses(claim, line)
            mods, mod_error = _line_modifiers(line)
            values["diagnoses"] = dx or []
            values["modifiers"] = mods
            add(values, location, dx_error or mod_error)
    return pl.DataFrame(columns, schema={**RAW_SCHEMA, "load_error": pl.String()})


def load_json(path: Path, text: str, first_row_id: int) -> pl.DataFrame:
    """Raw frame for one JSON / JSON Lines file."""
    claims = parse_claims(text, str(path))
    if not claims:
        raise InputError("no claims in file", str(path))
    if not any(isinstance(c, dict) and ("lines" in c or "claim_id" in c) for c in claims):
        raise InputError("not a claims file: no object has claim_id or lines", str(path))
    return claims_to_raw(claims, str(path), first_row_id)
