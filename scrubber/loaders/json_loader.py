"""Read nested claims JSON (``{"claims": [...]}``, a bare list of claims, or JSON Lines).

A claim carries claim-level fields and ``lines``; a line may override a claim-level field (a
line's ``place_of_service`` wins over the claim's, as SV105 over CLM05-1). A line's diagnoses come
from, in order: ``diagnosis_pointers`` (1-based, into the claim's ``diagnoses``), its own
``diagnoses`` list or ``diagnosis_1..4``, else all of the claim's diagnoses.

Rows are numbered by their position in the file: the n-th line of all claims is row n, and the
location says "claim 3 (C-100), line 2" so a person can find it.

What rejects what (issue 12, isolation): a line whose diagnosis pointer leaves the claim's
diagnoses, or whose ``modifiers`` are not a list, is rejected alone and keeps its other values (its
code still tells the claim what it bills: ``value_error``). A claim or line object that gives one of
the fields FORMATS.md defines twice is rejected, the same way whatever the file's size (JSON readers
disagree on which copy counts: Python keeps the last, Polars the first); keys the scrubber does not
read are ignored, twice or not. In JSON Lines, a line that is not valid JSON is one rejected row; the
other lines are read.

Two readers, one result. The Python reader (:func:`parse_claims` + :func:`claims_to_raw`, run by
:func:`slow_raw`) is the definition: it takes any document, however irregular, and gives every row
its values and reasons. It costs ~30 us a line, so a large document is first offered to
:func:`fast_raw`, which cuts the claims into chunks at element boundaries, parses each chunk with
``pl.read_json`` against a fixed schema (every scalar as text) and flattens it with list
expressions. Polars' reader is more lenient than :mod:`json` in ways that would change the result
(it wraps a scalar into a one-element list, spells some numbers its own way, reads a lone
surrogate escape as NUL), so the fast reader looks for each such case, cheaply, and declines the
whole file when one may be present; the Python reader then reads it. It never guesses.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import polars as pl
from polars.exceptions import PanicException, PolarsError

from scrubber.errors import InputError, decoded, display_name, undecodable_byte
from scrubber.schema import CLAIM_LEVEL_COLUMNS, RAW_FRAME_SCHEMA, SCALAR_COLUMNS

# Claim fields a claim without lines still reports on its one (rejected) row.
_CLAIM_LEVEL = ("claim_id", *CLAIM_LEVEL_COLUMNS, "place_of_service", "date_of_service")
# Every key the readers take from a claim or a line: a duplicate of one of them rejects the object.
KNOWN_KEYS = frozenset((*SCALAR_COLUMNS, "lines", "diagnoses", "diagnosis_pointers", "modifiers",
                        *(f"modifier_{i}" for i in range(1, 5)), *(f"diagnosis_{i}" for i in range(1, 5))))
# A duplicate of one of these makes the line's code or date unknown: the line is no evidence (load_error).
_IDENTITY_KEYS = frozenset(("procedure_code", "date_of_service", "lines"))
# The keys that identify a row: given twice, the row cannot say which claim line it is.
_KEY_FIELDS = frozenset(("claim_id", "line_number"))
REPEATED_KEYS = "\x00duplicate keys"  # set by mark_repeated_keys; no JSON text can spell it as a key
NOT_UTF8 = "\x00not utf-8"  # set by json_lines on a claim read from a line in another encoding: its reason


def _not_utf8_line(number: int, byte: str) -> str:
    """Why the JSON Lines line ``number`` holding a byte that is not UTF-8 (``byte``: "0xfc") is rejected."""
    return (f"not UTF-8 text at line {number} (byte {byte}): this line was saved in another encoding, so its "
            "values cannot be trusted; export the file as UTF-8")


def _as_text(value: Any) -> Any:
    """``value`` with every text (keys too) read as UTF-8, bytes that were not shown as U+FFFD."""
    if isinstance(value, str):
        return decoded(value)
    if isinstance(value, list):
        return [_as_text(v) for v in value]
    if isinstance(value, dict):
        return {(decoded(k) if isinstance(k, str) else k): _as_text(v) for k, v in value.items()}
    return value


class BrokenLine:
    """A JSON Lines line that is not valid JSON: one rejected row (claims) or unused record
    (``--records``), the other lines are still read."""

    def __init__(self, number: int, message: str) -> None:
        self.number = number
        self.message = message


def mark_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook``: the object, marked with the known keys it gives more than once."""
    obj = dict(pairs)
    if len(obj) < len(pairs):
        counts = Counter(k for k, _ in pairs)
        # (and the document's "claims": given twice, readers disagree on which list counts)
        twice = sorted(k for k, n in counts.items() if n > 1 and (k in KNOWN_KEYS or k == "claims"))
        if twice:
            obj[REPEATED_KEYS] = twice
    return obj


class _Digits(float):
    """An integer of more digits than Python converts, as the float it overflows to, keeping its text:
    the row's rejection quotes the digits written, not 'inf' (probe 18B)."""

    text: str


def whole_number(text: str) -> int | float:
    """``parse_int`` for :func:`json.loads`: an integer of more digits than Python converts (4,300)
    is read as a float (infinite), so the value it sits in is refused on its own row (a number out
    of range) instead of the whole file failing with a ValueError."""
    try:
        return int(text)
    except ValueError:
        out = _Digits(text)
        out.text = text
        return out


def _loads(text: str) -> Any:
    return json.loads(text, object_pairs_hook=mark_repeated_keys, parse_int=whole_number)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"  # fails the typed cast with a clear reason
    if isinstance(value, _Digits):
        return value.text
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 1e15 else repr(value)
    return str(value)


def parse_claims(text: str, source: str) -> list[Any]:
    """The list of claim objects in a JSON or JSON Lines document."""
    stripped = text.strip()
    if not stripped:
        raise InputError("empty file", source)
    try:
        doc = _loads(stripped)
    except json.JSONDecodeError as exc:
        if looks_like_json_lines(stripped, source):
            return [value for _, value in json_lines(text)]  # (text: line numbers as in the file)
        if exc.msg == "Extra data":
            first = _loads(stripped[:exc.pos])
            if isinstance(first, list) or (isinstance(first, dict) and "claims" in first):
                # One claims document and text after its end (a stray brace, two files pasted together):
                # say so, not "no object has claim_id" from reading it as one JSON Lines line.
                raise InputError(f"invalid JSON at line {exc.lineno}, column {exc.colno}: text after the end of "
                                 "the claims document", source) from None
            return [value for _, value in json_lines(text)]  # JSON Lines: claim objects one after another
        raise InputError(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", source) from None
    except RecursionError:
        if looks_like_json_lines(stripped, source):  # one line nested too deeply: that line's problem
            return [value for _, value in json_lines(text)]
        raise InputError("invalid JSON: nested too deeply to be claims", source) from None
    if byte := undecodable_byte(stripped):  # (one document is read whole: no claim of it can be set apart)
        if isinstance(doc, dict) and "lines" in doc and "claims" not in doc:  # JSON Lines of one claim: its line's
            return [{**_as_text(doc), NOT_UTF8: _not_utf8_line(1, byte)}]
        raise InputError(f"not UTF-8 text (byte {byte}); a JSON document is read whole, so export the file as "
                         "UTF-8 (in JSON Lines only the line holding it would be rejected)", source)
    if isinstance(doc, dict) and REPEATED_KEYS in doc and "claims" in doc[REPEATED_KEYS]:
        raise InputError('the document gives "claims" twice; JSON readers disagree on which one counts', source)
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


def record_lines(text: str) -> list[str]:
    """The lines of a JSON Lines document: split at line feeds only (a CR before one is dropped).
    U+2028, U+2029 and U+0085 are legal inside JSON strings; ``str.splitlines`` split a valid record at
    them, so its claim was rejected and every later line number was off by one. A file with no line
    feed at all splits at carriage returns (classic Mac line ends)."""
    if "\n" not in text and "\r" in text:
        return text.split("\r")
    return [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]


def looks_like_json_lines(text: str, source: str) -> bool:
    """A document that fails to parse is JSON Lines with broken lines when its first line is a claim
    object on its own (or the file is named .jsonl / .ndjson and some line is); a broken JSON document
    is not (its first line is ``{`` or ``{"claims": [``)."""
    lines = [line for line in record_lines(text) if line.strip()]
    if len(lines) < 2:
        return False
    candidates = lines if source.lower().endswith((".jsonl", ".ndjson")) else lines[:1]
    for line in candidates:
        try:
            value = _loads(line)  # (a 5,000-digit integer on the first line stopped the run: parse_int)
        except (json.JSONDecodeError, RecursionError):
            continue
        if isinstance(value, dict) and ("claim_id" in value or "lines" in value):
            return True
    return False


def json_lines(text: str) -> list[tuple[int, Any]]:
    """``(line number, value)`` for each non-blank line of a JSON Lines document; a line that is not
    one JSON value gives a :class:`BrokenLine` saying why, so that it is reported alone and the other
    lines are still read (claims and ``--records`` files alike)."""
    values: list[tuple[int, Any]] = []
    for number, line in enumerate(record_lines(text), start=1):
        if not line.strip():
            continue
        if byte := undecodable_byte(line):
            reason = _not_utf8_line(number, byte)
            try:
                value = _loads(line)
            except (json.JSONDecodeError, RecursionError):
                value = None
            if isinstance(value, dict):
                # Its claim is rejected, its lines keeping their ids (as a CSV row does): its encounter is
                # then left unevaluated, not told a primary it may bill is missing (probe 17D).
                values.append((number, {**_as_text(value), NOT_UTF8: reason}))
            else:
                values.append((number, BrokenLine(number, reason)))
            continue
        try:
            value = _loads(line)
        except json.JSONDecodeError as exc:
            value = BrokenLine(number, f"invalid JSON Lines record at line {number}: {exc.msg} (column "
                                       f"{exc.colno}); the line is not read")
        except RecursionError:
            value = BrokenLine(number, f"invalid JSON Lines record at line {number}: nested too deeply; "
                                       "the line is not read")
        else:
            # "\ud800": json.loads keeps a lone surrogate that UTF-8 cannot hold; in JSON Lines that
            # is this line's problem, not the file's (the escape is ASCII, so the raw line shows it).
            if "\\ud" in line.lower() and has_lone_surrogate(value):
                value = BrokenLine(number, f"invalid JSON Lines record at line {number}: an unpaired "
                                           "surrogate escape is not a character; the line is not read")
        values.append((number, value))
    return values


def has_lone_surrogate(value: Any) -> bool:
    """Whether a parsed JSON value holds a lone surrogate (``"\\ud800"``): :func:`json.loads` keeps it,
    but no UTF-8 text (nor a Polars string) can hold it."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _not_codes(values: Any, whose: str) -> str | None:
    """The reason a ``diagnoses`` list a line takes holds an entry that is no code: a list or an object
    (``[["D80.0"]]``, ``[{"code": "D80.0"}]``). Read as text it was Python's spelling of the entry,
    reported as a malformed diagnosis the claim never held; the row is rejected instead, as a nested
    modifier is (a line with its own diagnoses or pointers to good entries takes none of them)."""
    if not isinstance(values, list):
        return None
    for value in values:
        if isinstance(value, (list, dict)):
            kind = "an object" if isinstance(value, dict) else "a list"
            return f"{whose} diagnoses must list codes as text, not {kind}"
    return None


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
            if index < 1:
                return None, f"diagnosis pointer {index} must be 1 or more (pointers count from 1)"
            if not claim_dx or index > len(claim_dx):
                return None, f"diagnosis pointer {index} points past the claim's {len(claim_dx or [])} diagnoses"
            nested = _not_codes([claim_dx[index - 1]], "claim")
            if nested:
                return None, nested
            out.append(_text(claim_dx[index - 1]) or "")
        # Codes the line gives itself beside its pointers are kept too, first (probe 21B: an invalid
        # diagnosis_1 beside pointers was never validated): nothing given is ignored.
        own = [_text(v) for v in (line.get(f"diagnosis_{i}") for i in range(1, 5)) if v is not None]
        if isinstance(line.get("diagnoses"), list):
            nested = _not_codes(line["diagnoses"], "line")
            if nested:
                return None, nested
            own += [_text(d) or "" for d in line["diagnoses"]]
        return [*own, *out], None  # type: ignore[list-item]
    # The numbered fields, then the line's list (as the Parquet reader merges them): a line giving
    # both forms loses neither.
    listed = [_text(v) for v in (line.get(f"diagnosis_{i}") for i in range(1, 5)) if v is not None]
    if isinstance(line.get("diagnoses"), list):
        nested = _not_codes(line["diagnoses"], "line")
        if nested:
            return None, nested
        return [*listed, *(_text(d) or "" for d in line["diagnoses"])], None  # type: ignore[list-item]
    if listed:
        return listed, None  # type: ignore[return-value]
    nested = _not_codes(claim_dx, "claim")
    if nested:
        return None, nested
    return [_text(d) or "" for d in (claim_dx or [])], None


def _claim_codes(claim: dict) -> list[str] | None:
    """The claim's own ``diagnoses`` as text (the list pointers point into: every code of it is on the
    claim a payer validates), None when it gives none or not as a list of codes."""
    codes = claim.get("diagnoses")
    if not isinstance(codes, list) or _not_codes(codes, "claim"):
        return None
    return [t for t in (_text(c) for c in codes) if t]


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
    """``modifier_1..4``, then the ``modifiers`` list (as the Parquet reader merges them): a line giving
    both forms loses neither (an empty list beside ``modifier_1`` JZ dropped the JZ)."""
    numbered = [_text(line[k]) for k in (f"modifier_{i}" for i in range(1, 5)) if line.get(k) is not None]
    mods = line.get("modifiers")
    if mods is not None:
        if isinstance(mods, str):
            mods = mods.replace(",", " ").split()
        if not isinstance(mods, list):
            return [], "modifiers must be a list"
        return [*numbered, *(_text(m) or "" for m in mods)], None  # type: ignore[list-item]
    return numbered, None  # type: ignore[return-value]


def count_rows(claims: list[Any]) -> int:
    """The rows a list of claims holds, counted apart from the flattening: a line per line object of
    a claim with lines, one row for anything else (a claim without lines, a broken JSON Lines line)."""
    return sum(len(c["lines"]) if isinstance(c, dict) and isinstance(c.get("lines"), list) and c["lines"] else 1
               for c in claims)


def _kind(value: object) -> str:
    """A JSON value's kind as the file's author would name it (for messages)."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an empty list"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return "a string"
    return "a number" if isinstance(value, int | float) else "null"


def _duplicate_reason(obj: dict, what: str) -> tuple[str | None, bool]:
    """The reason an object with repeated keys is rejected, and whether its values are still evidence."""
    twice = obj.get(REPEATED_KEYS)
    if not twice:
        return None, True
    names = ", ".join(twice)
    return (f"the {what} object gives {names} more than once (JSON readers disagree on which one counts)",
            not set(twice) & _IDENTITY_KEYS)


def claims_to_raw(claims: list[Any], source: str, first_row_id: int) -> pl.DataFrame:
    """Flatten claim objects to one raw row per line (a claim without lines is one rejected row)."""
    columns: dict[str, list[Any]] = {c: [] for c in RAW_FRAME_SCHEMA}

    def add(values: dict[str, Any], location: str, error: str | None, value_error: str | None = None) -> None:
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
        columns["claim_diagnoses"].append(values.get("claim_diagnoses"))
        columns["load_error"].append(error)
        columns["value_error"].append(value_error)

    for ci, claim in enumerate(claims, start=1):
        if isinstance(claim, BrokenLine):
            add({}, f"line {claim.number}", claim.message)
            continue
        if not isinstance(claim, dict):
            add({}, f"claim {ci}", "claim is not an object")
            continue
        label = f"claim {ci} ({claim.get('claim_id')})" if claim.get("claim_id") is not None else f"claim {ci}"
        claim_dup, claim_readable = _duplicate_reason(claim, "claim")
        lines = claim.get("lines")
        if lines is None and isinstance(claim.get("claims"), list):
            # A whole {"claims": [...]} document where one claim object belongs (JSON Lines files
            # concatenated with a claims file): say so, and how many claims it holds unread.
            inner = claim["claims"]
            add({}, label, f'a {{"claims": [...]}} document of {len(inner)} claim(s) where one claim object belongs '
                           "(JSON Lines holds one claim per line): its claims were not read")
            continue
        if not isinstance(lines, list) or not lines:
            add({k: claim.get(k) for k in _CLAIM_LEVEL}, label, "; ".join(
                r for r in ("claim has no lines" if lines is None or lines == [] else
                            f"claim's \"lines\" is {_kind(lines)}, not a list of line objects", claim_dup) if r))
            continue
        for li, line in enumerate(lines, start=1):
            location = f"{label}, line {li}"
            if not isinstance(line, dict):
                add({k: claim.get(k) for k in _CLAIM_LEVEL}, location, "line is not an object")
                continue
            values = {k: v for k, v in claim.items() if k not in ("lines", "diagnoses", REPEATED_KEYS, NOT_UTF8)}
            values.update({k: v for k, v in line.items() if (v is not None or k not in values) and k != REPEATED_KEYS})
            dx, dx_error = _line_diagnoses(claim, line)
            mods, mod_error = _line_modifiers(line)
            values["diagnoses"] = dx or []
            values["claim_diagnoses"] = _claim_codes(claim)
            values["modifiers"] = mods
            line_dup, line_readable = _duplicate_reason(line, "line")
            # A key given twice is no key: its last value must not make this row the twin of another
            # claim's or line's (a bad row never changes good rows), so the row keeps no value for it.
            for key in _KEY_FIELDS.intersection([*claim.get(REPEATED_KEYS, ()), *line.get(REPEATED_KEYS, ())]):
                values[key] = None
            unreadable = [r for r, ok in ((claim_dup, claim_readable), (line_dup, line_readable)) if r and not ok]
            own_id, claim_id = _text(line.get("claim_id")), _text(claim.get("claim_id"))
            if own_id is not None and claim_id is not None and own_id.strip() != claim_id.strip():
                values["claim_id"] = claim.get("claim_id")
                unreadable.append(f"the line gives claim_id '{own_id}' inside claim object '{claim_id}': a line "
                                  "belongs to the claim it is nested in")
            if claim.get(NOT_UTF8):
                unreadable.insert(0, claim[NOT_UTF8])
            problems = [r for r in (claim_dup, line_dup, dx_error, mod_error) if r and r not in unreadable]
            add(values, location, "; ".join(unreadable) or None, "; ".join(problems) or None)
    return pl.DataFrame(columns, schema=RAW_FRAME_SCHEMA)


KEY_SAMPLE_BYTES = 4 << 20  # the keys of a large document's claims are read from its first 4 MiB


def key_notices(text: str | bytes) -> list[str]:
    """A notice per key of the claims and their lines named like a claims field but not one
    (``modifer_1``, ``drug_dose``): not read, as a CSV column of that name is not, and said so (a JZ
    under a misspelled key read as absent gave "neither JZ nor JW"). The claims of the whole document,
    or of its first :data:`KEY_SAMPLE_BYTES` when larger (an export misspells a field in every claim;
    parsing all of a 650 MB file again in Python would double the read). Call after the document read."""
    from scrubber.loaders.csv_loader import ignored_notices

    data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogateescape")  # (a lossy read's bytes)
    head = data[:KEY_SAMPLE_BYTES].decode("utf-8", errors="ignore")
    try:
        claims = parse_claims(head, "") if len(data) <= KEY_SAMPLE_BYTES else _head_claims(head)
    except (InputError, RecursionError, ValueError):  # (the reader has said what is wrong with the document)
        return []
    keys: set[str] = set()
    on_claims: set[str] = set()
    for claim in claims:
        if isinstance(claim, dict):
            keys.update(k for k in claim if isinstance(k, str))
            on_claims.update(k for k in claim if k in LINE_ONLY_KEYS)
            lines = claim.get("lines")
            for line in lines if isinstance(lines, list) else []:
                if isinstance(line, dict):
                    keys.update(k for k in line if isinstance(k, str))
    keys.discard(REPEATED_KEYS)
    # (a line's modifiers and diagnosis pointers given on its claim object are not the lines': a claim's
    # JZ there read as absent gave "neither JZ nor a JW line", probe 26C D3)
    line_only = [f"field '{k}' on a claim object is not read: it belongs on each of its lines"
                 + ("; the claim's codes go in 'diagnoses'" if k.startswith("diagnosis_") else "")
                 for k in sorted(on_claims)]
    return [*line_only, *ignored_notices(sorted(keys), KNOWN_KEYS, noun="field")]


# Fields read from a line object only (a claim object's other fields are its lines'; its codes are
# ``diagnoses``).
LINE_ONLY_KEYS = frozenset({"modifiers", "modifier_1", "modifier_2", "modifier_3", "modifier_4",
                            "diagnosis_pointers", "diagnosis_1", "diagnosis_2", "diagnosis_3", "diagnosis_4"})


def _head_claims(head: str) -> list[Any]:
    """The complete claim objects at the start of ``head`` (a document's first bytes), one at a time."""
    decoder = json.JSONDecoder()
    start = None
    for pattern in (_WRAPPED_START, _LIST_START, _OBJECT_START):
        if m := re.match(pattern.pattern.decode(), head):
            start = m.end() if pattern is not _OBJECT_START else m.start()
            break
    claims: list[Any] = []
    at = start if start is not None else len(head)
    while at < len(head):
        while at < len(head) and head[at] in " \t\r\n,":
            at += 1
        if at >= len(head) or head[at] == "]":
            break
        try:
            value, at = decoder.raw_decode(head, at)
        except json.JSONDecodeError:
            break  # (the cut at the sample's end, or a broken claim: the reader says so)
        claims.append(value)
    return claims


def load_json(path: Path, text: str | bytes, first_row_id: int) -> tuple[pl.DataFrame, int]:
    """Raw frame for one JSON / JSON Lines file (the Polars reader when it can vouch, else Python's),
    and the independent count of the rows it holds (:func:`count_rows`).

    ``text`` is the file as text, or as the UTF-8 bytes of that text (line ends already newlines, no
    byte order mark): the Polars reader parses bytes, so a large file given as bytes is neither decoded
    nor encoded again unless the Python reader has to read it (650 MB: 0.27 s and 0.37 s saved)."""
    source = display_name(path)
    if len(text) >= FAST_MIN_CHARS:
        fast = fast_read(text, source, first_row_id)
        if fast is not None:
            return fast
    return slow_read(text.decode("utf-8") if isinstance(text, bytes) else text, source, first_row_id)


def slow_raw(text: str, source: str, first_row_id: int) -> pl.DataFrame:
    """The Python reader: the definition of what every document loads as (and of its file errors)."""
    return slow_read(text, source, first_row_id)[0]


def slow_read(text: str, source: str, first_row_id: int) -> tuple[pl.DataFrame, int]:
    """:func:`slow_raw` and the count of rows the parsed document holds."""
    claims = parse_claims(text, source)
    if not claims:
        raise InputError("no claims in file", source)
    if not any(isinstance(c, dict) and ("lines" in c or "claim_id" in c) for c in claims):
        raise InputError("not a claims file: no object has claim_id or lines", source)
    try:
        return claims_to_raw(claims, source, first_row_id), count_rows(claims)
    except UnicodeEncodeError as exc:  # "\ud800": json.loads keeps a lone surrogate, UTF-8 cannot hold it
        if byte := undecodable_byte(text):  # a byte in another encoding (loaders._read_text, lossy)
            raise InputError(f"not UTF-8 text (byte {byte}); a JSON document is read whole, so export the file as "
                             "UTF-8 (in JSON Lines only the line holding it would be rejected)", source) from None
        raise InputError(f"invalid JSON text: an unpaired surrogate escape (\\u{ord(exc.object[exc.start]):04x}) "
                         "is not a character; fix the exporting system", source) from None


# --------------------------------------------------------------------------------------------------
# The Polars reader.
#
# What ``pl.read_json`` does differently from ``json.loads`` + the Python reader, and what this
# reader does about each (all measured on Polars 2.1; the differential test pins them):
#
# * A scalar where the schema says list is wrapped (``"modifiers": "JW KX"`` reads ["JW KX"],
#   Python splits it; ``"diagnoses": "D80"`` reads ["D80"], Python rejects it). A one-element list
#   is therefore ambiguous; when one could matter, a regex over the chunk's text settles whether
#   any such key holds a scalar (exact, because keys are checked to be spelled without escapes).
#   A list of objects (``lines``) never wraps: Polars raises.
# * Numbers and booleans read into a text column are spelled by Polars: ints exactly as Python,
#   floats as the shortest round trip without exponent. That equals Python's spelling except for
#   -0.0, |x| < 1e-4, and 16+ significant digits (tie-breaking between two shortest forms differs);
#   any text of those shapes declines (a 16-digit *string* id declines too: the price of not knowing).
# * A lone surrogate escape reads as NUL (Python keeps it): declined. Escaped keys decode alike, but
#   a key spelled with an escape declines: the regexes above need keys spelled plainly.
# * JSON Lines: Python splits lines on \r, U+0085, U+2028 and U+2029 as well; declined.
# * Syntax: Polars is as strict as json (NaN, Infinity, leading zeros, trailing commas, control
#   characters all fail) and fails where json succeeds only on numbers beyond 128 bits and on
#   nesting deeper than 1024 (declined by the failure). Not detected: nesting between Python's
#   recursion limit (~990) and 1024 levels, and duplicate keys in one object (Python keeps the
#   last, Polars the first); both need a full tokenizer to see.

FAST_MIN_CHARS = 128 * 1024  # below this (~400 lines) the Python reader is faster than Polars' ~25 ms setup
PARSE_BYTES = 1 << 20  # one ``read_json`` call: Polars parses ~1.5x faster when a chunk fits in cache
GROUP_BYTES = 16 << 20  # one flatten (its fixed cost, ~25 ms, wants many claims); bounds transient memory
MAX_SPAN_BYTES = 64 << 20  # Polars' parser needs ~10x a chunk's size: a larger chunk declines

_LINE_EXTRA = (
    "diagnoses",
    "diagnosis_pointers",
    "modifiers",
    *(f"modifier_{i}" for i in range(1, 5)),
    *(f"diagnosis_{i}" for i in range(1, 5)),
)
_TEXT = pl.String()
_TEXTS = pl.List(pl.String())
_LINE_STRUCT = pl.Struct(
    {**{c: _TEXT for c in SCALAR_COLUMNS}, **{k: (_TEXTS if k in _LINE_EXTRA[:3] else _TEXT) for k in _LINE_EXTRA}}
)
_CLAIM_SCHEMA: dict[str, pl.DataType] = {
    **{c: _TEXT for c in SCALAR_COLUMNS},
    "diagnoses": _TEXTS,
    "lines": pl.List(_LINE_STRUCT),
}
# JSON Lines: each physical line becomes one {_RECORD: [its values]} object, so a line that is not
# exactly one complete value shows (0 values: blank; 2+: several values; a record spanning lines or
# closing our wrapper breaks the count of wrapper objects). The key must not occur in the file.
_RECORD = "_scrubber_jsonl_record_"
_RECORD_SCHEMA = {_RECORD: pl.List(pl.Struct(_CLAIM_SCHEMA))}

_WS = b" \t\n\r"  # the only whitespace json.loads accepts between tokens
_WRAPPED_START = re.compile(rb'[ \t\n\r]*\{[ \t\n\r]*"claims"[ \t\n\r]*:[ \t\n\r]*\[')
_WRAPPED_END = re.compile(rb"\][ \t\n\r]*\}[ \t\n\r]*\Z")
_LIST_START = re.compile(rb"[ \t\n\r]*\[")
_LIST_END = re.compile(rb"\][ \t\n\r]*\Z")
_OBJECT_START = re.compile(rb"[ \t\n\r]*\{")
_NON_WS = re.compile(rb"[^ \t\n\r]")
_FIRST_KEY = re.compile(rb'[ \t\n\r]*(\{[ \t\n\r]*"[^"\\]*")')  # a claim's opening, through its first key
# A key spelled with an escape (the last escape in it, then the rest of the key, then the colon).
_ESCAPED_KEY = re.compile(rb'\\.(?:[^"\\]|\\.)*"[ \t\n\r]*:')
_LONE_SURROGATE = re.compile(
    rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)
_DX_SCALAR = re.compile(rb'"diagnoses"[ \t\n\r]*:[ \t\n\r]*[^\[n \t\n\r]')
_CLAIM_ID_NOT_TEXT = re.compile(rb'"claim_id"[ \t\n\r]*:[ \t\n\r]*[^"n \t\n\r]')
_MODS_NOT_TEXT = re.compile(rb'"modifiers"[ \t\n\r]*:[ \t\n\r]*[^"\[n \t\n\r]')
_MODS_TEXT = re.compile(rb'"modifiers"[ \t\n\r]*:[ \t\n\r]*"')
_MODS_LIST = re.compile(rb'"modifiers"[ \t\n\r]*:[ \t\n\r]*\[')
# U+0085, U+2028, U+2029: legal inside a JSON Lines record (record_lines keeps them in their line);
# rare, so a chunk holding one is left to the Python reader rather than vouched for here.
_SPLIT_LINES = (b"\xc2\x85", b"\xe2\x80\xa8", b"\xe2\x80\xa9")

# Text Polars may have spelled differently from Python (see above); Rust regex syntax.
_RISKY_TEXT = r"^-0$|^-?(?:0\.0000|[0.]*[1-9](?:\.?[0-9]){15})"
_POINTER = r"^[0-9]{1,15}$"
_SEPARATED = r"^$|[\s\x1c-\x1f,]"  # Python's str.split() whitespace is exactly \s plus \x1c-\x1f
_SCALAR_LOOKING = r"^-?[0-9]|^(?:true|false)$"
_MODIFIER_TOKENS = r"[^\s\x1c-\x1f,]+"  # str.replace(",", " ").split()


class _Decline(Exception):
    """The fast reader cannot vouch for this document; the Python reader reads it instead."""


def fast_raw(text: str | bytes, source: str, first_row_id: int) -> pl.DataFrame | None:
    """The raw frame :func:`slow_raw` would give, read by Polars; None when it cannot be sure."""
    read = fast_read(text, source, first_row_id)
    return None if read is None else read[0]


def fast_read(text: str | bytes, source: str, first_row_id: int) -> tuple[pl.DataFrame, int] | None:
    """The raw frame :func:`slow_raw` would give, read by Polars, and the rows the parsed claims hold
    (counted before flattening); None when it cannot be sure. ``text``: as :func:`load_json` takes it.

    None also for documents the Python reader rejects (invalid JSON, not claims): it raises the
    error with its wording.
    """
    try:
        return _fast_raw(text, source, first_row_id)
    except (_Decline, PolarsError, PanicException, UnicodeEncodeError):
        return None


def _fast_raw(text: str | bytes, source: str, first_row_id: int) -> tuple[pl.DataFrame, int]:
    data = text if isinstance(text, bytes) else text.encode("utf-8")
    jsonl = False
    if m := _WRAPPED_START.match(data):
        end = _WRAPPED_END.search(data, max(0, len(data) - 4096))
        if end is None:
            raise _Decline
        spans = _element_spans(data, m.end(), end.start())
    elif m := _LIST_START.match(data):
        end = _LIST_END.search(data, max(0, len(data) - 4096))
        if end is None:
            raise _Decline
        spans = _element_spans(data, m.end(), end.start())
    elif _OBJECT_START.match(data):
        jsonl = True
        spans = _line_spans(data)
    else:
        raise _Decline
    pieces = _parse_spans(data, spans, jsonl, text.isascii())
    n_claims = sum(p.claims for p in pieces)
    if n_claims == 0 or not any(p.claims_file for p in pieces):
        raise _Decline  # "no claims" / "not a claims file": the Python reader words the error
    if jsonl and n_claims == 1 and (sum(p.null_lines for p in pieces) or b'"claims"' in data):
        raise _Decline  # one JSON value: Python reads it as a document ({"claims": ...} or a claim)
    del data
    frames, offset = [], 1
    for piece in pieces:
        frames.append(piece.frame.with_columns(pl.col("_ci") + offset))
        offset += piece.claims
    return _finish(pl.concat(frames), source, first_row_id), sum(p.rows for p in pieces)


def _element_spans(data: bytes, start: int, end: int) -> list[tuple[int, int]]:
    """Chunks of the array content ``data[start:end]``, cut where an element like the first begins.

    A cut is only a guess (the pattern may also open a line); :func:`_parse_spans` proves each: a
    chunk parses as an array only if both its ends sit between top-level elements.
    """
    if _NON_WS.search(data, start, end) is None:
        raise _Decline  # "claims": [] - no claims
    first = _FIRST_KEY.match(data, start)
    cuts = [start]
    if first is not None:
        opening = first.group(1)
        at, misses = start + PARSE_BYTES, 0
        while (c := data.find(opening, at, end)) >= 0:
            if data[max(start, c - 64) : c].rstrip(_WS).endswith(b","):
                cuts.append(c)
                at = c + PARSE_BYTES
            else:  # the pattern also opens something that is not an element (a first line?)
                at, misses = c + 1, misses + 1
                if misses > 1000:
                    raise _Decline
    cuts.append(end)
    if any(b - a > MAX_SPAN_BYTES for a, b in itertools.pairwise(cuts)):
        raise _Decline  # too few cut points (claims open in different ways): one parse would be huge
    return list(itertools.pairwise(cuts))


def _line_spans(data: bytes) -> list[tuple[int, int]]:
    """Chunks of a JSON Lines document, cut after a newline."""
    cuts, at = [0], PARSE_BYTES
    while (c := data.find(b"\n", at)) >= 0 and c + 1 < len(data):
        cuts.append(c + 1)
        at = c + 1 + PARSE_BYTES
    cuts.append(len(data))
    return list(itertools.pairwise(cuts))


class _Piece:
    """Consecutive chunks, flattened: raw rows (claim numbers local to the piece) and what they hold."""

    def __init__(self, frame: pl.DataFrame, claims: int, claims_file: bool, null_lines: int, rows: int) -> None:
        self.frame = frame
        self.claims = claims
        self.rows = rows  # the rows the parsed claims hold (count_rows' rule), counted before flattening
        self.claims_file = claims_file  # some claim has a claim_id or lines
        self.null_lines = null_lines  # claims whose lines are null or missing


_Span = tuple[int, int]


def _parse_spans(data: bytes, spans: list[_Span], jsonl: bool, ascii_only: bool) -> list[_Piece]:
    """Parse every chunk and flatten runs of them, in threads (Polars releases the GIL).

    Chunks are parsed one by one (small ones parse fastest) and flattened by the group (a flatten
    has a fixed cost). A chunk that does not parse is merged with its failing neighbours and parsed
    again: a wrong cut fails both chunks around it, and the merged span starts and ends at proven
    boundaries. If it still fails, the document itself is invalid and the Python reader reports it.
    """
    stop = threading.Event()  # one group declined: the others stop early
    last_end = spans[-1][1]

    def read(span: _Span) -> tuple[pl.DataFrame, bytes] | None:
        try:
            return _read_span(data, span, span[1] == last_end, jsonl, ascii_only)
        except (PolarsError, PanicException):
            return None

    def work(group: list[_Span]) -> list[_Piece | _Span]:
        out: list[_Piece | _Span] = []
        frames: list[pl.DataFrame] = []
        docs: list[bytes] = []
        try:
            for span in group:
                if stop.is_set():
                    raise _Decline
                got = read(span)
                if got is None:
                    if frames:
                        out.append(_flatten(frames, docs))
                        frames, docs = [], []
                    out.append(span)
                else:
                    frames.append(got[0])
                    docs.append(got[1])
            if frames:
                out.append(_flatten(frames, docs))
        except _Decline:
            stop.set()
            raise
        return out

    groups: list[list[_Span]] = [[]]
    for span in spans:
        if groups[-1] and span[1] - groups[-1][0][0] > GROUP_BYTES:
            groups.append([])
        groups[-1].append(span)
    items: list[_Piece | _Span] = []
    failures = 0
    for result in _map(work, groups):
        for item in result:
            failures += isinstance(item, tuple)
            if isinstance(item, tuple) and items and isinstance(items[-1], tuple):
                items[-1] = (items[-1][0], item[1])  # failing neighbours: one span
            else:
                items.append(item)
    if failures > max(2, len(spans) // 20) or any(isinstance(i, tuple) and i[1] - i[0] > MAX_SPAN_BYTES for i in items):
        raise _Decline  # the cut pattern also opens lines, or the text is invalid: not worth the retries

    def retry(span: _Span) -> _Piece:
        got = read(span)
        if got is None:
            raise _Decline
        return _flatten([got[0]], [got[1]])

    retried = iter(_map(retry, [i for i in items if isinstance(i, tuple)]))
    return [next(retried) if isinstance(i, tuple) else i for i in items]


def _map(fn: Any, args: list[Any]) -> list[Any]:
    """``fn`` over ``args`` on Polars' thread count, results in order."""
    if len(args) <= 1:
        return [fn(a) for a in args]
    with ThreadPoolExecutor(max_workers=min(len(args), max(1, pl.thread_pool_size()))) as pool:
        return list(pool.map(fn, args))


def _read_span(data: bytes, span: _Span, last: bool, jsonl: bool, ascii_only: bool) -> tuple[pl.DataFrame, bytes]:
    """One chunk's claims (the claim schema) and the JSON text Polars read them from."""
    a, b = span
    if not jsonl:
        k = b
        if not last:  # drop the comma (and whitespace) before the next chunk's first element
            while k > a and data[k - 1] in _WS:
                k -= 1
            if k == a or data[k - 1] != ord(","):
                raise _Decline
            k -= 1
        doc = b"".join((b"[", memoryview(data)[a:k], b"]"))
        _check_text(doc)
        marked, written = _mark_nulls(doc)
        claims = pl.read_json(marked, schema=_CLAIM_SCHEMA)
        _no_duplicate_keys(claims, written)
        return claims, doc
    chunk = data[a:b]
    if chunk.endswith(b"\n"):
        chunk = chunk[:-1]
    _check_text(chunk)
    if _RECORD.encode() in chunk:
        raise _Decline
    if not ascii_only and any(sep in chunk for sep in _SPLIT_LINES):
        raise _Decline
    if b"\r" in chunk and chunk.count(b"\r") != chunk.count(b"\r\n") + chunk.endswith(b"\r"):
        raise _Decline  # a lone CR: left to the Python reader (record_lines)
    key = _RECORD.encode()
    doc = b"".join((b'[{"', key, b'":[', chunk.replace(b"\n", b']},{"' + key + b'":['), b"]}]"))
    marked, written = _mark_nulls(doc)
    records = pl.read_json(marked, schema=_RECORD_SCHEMA)
    counts = records.select(
        pl.len().alias("rows"),
        pl.col(_RECORD).null_count().alias("nulls"),
        (pl.col(_RECORD).list.len() > 1).any().alias("several"),
    ).row(0, named=True)
    if counts["rows"] != chunk.count(b"\n") + 1 or counts["nulls"] or counts["several"]:
        raise _Decline  # a line that is not exactly one value: Python rejects the file
    # Blank lines hold no value and give no row; no wrapper is null, so none gives a null row.
    claims = records.select(pl.col(_RECORD).explode(empty_as_null=False).struct.unnest())
    _no_duplicate_keys(claims, written)
    return claims, doc


# Duplicate keys (see the module docstring). Polars keeps the first copy of a key, Python the last,
# and neither says there were two; so each chunk's known keys are counted in its text and in what
# Polars read, and the file is declined when they differ (the Python reader rejects the object).
# For "what Polars read" to count a key written as ``null``, such nulls are first rewritten to a
# sentinel string (or a list of it), which _flatten turns back into null.
_NULL = "\x01"
_SCALAR_KEYS = (*SCALAR_COLUMNS, *(f"modifier_{i}" for i in range(1, 5)), *(f"diagnosis_{i}" for i in range(1, 5)))
_LIST_KEYS = ("diagnoses", "diagnosis_pointers", "modifiers")
_KEY_TEXT = '"(?:{})"[ \t\n\r]*:'
_KNOWN_KEY_RE = _KEY_TEXT.format("|".join(sorted(KNOWN_KEYS)))
_NULL_SCALAR_RE = "(" + _KEY_TEXT.format("|".join(_SCALAR_KEYS)) + "[ \t\n\r]*)null"
_NULL_LIST_RE = "(" + _KEY_TEXT.format("|".join(_LIST_KEYS)) + "[ \t\n\r]*)null"
_NULL_LINES_RE = "(" + _KEY_TEXT.format("lines") + "[ \t\n\r]*)null"
_SENTINEL_ESCAPE = re.compile(rb"\\u0001", re.IGNORECASE)
_COMPACT_NULLS = {
    **{f'"{k}":null': f'"{k}":"\\u0001"' for k in _SCALAR_KEYS},
    **{f'"{k}":null': f'"{k}":["\\u0001"]' for k in _LIST_KEYS},
    '"lines":null': '"lines":[]',
}
_SPACED_NULL = '"[ \t\n\r]+:|:[ \t\n\r]+null'  # a key, then spaces before or after its colon


def _mark_nulls(doc: bytes) -> tuple[bytes, int]:
    """``doc`` with every known key's ``null`` rewritten to the sentinel, and how many known keys it writes."""
    if _SENTINEL_ESCAPE.search(doc):
        raise _Decline  # the text itself holds the sentinel
    # (bytes in and out through Polars' binary type: a Python str between them cost 0.8 ms per MB)
    text = pl.Series([doc], dtype=pl.Binary).cast(pl.String)
    written = int(text.str.count_matches(_KNOWN_KEY_RE).item())
    if b"null" not in doc:
        return doc, written
    # Compact ``"key":null`` (how exporters write JSON) in one literal pass; the regular expressions,
    # which also take spaces around the colon, only when a null is written with spaces (0.17 s -> 0.04 s
    # per 20 MB). The same rewrite either way: a literal match is exactly what the expression matches.
    marked = text.str.replace_many(_COMPACT_NULLS)
    if marked.str.contains(_SPACED_NULL).item():
        marked = (
            marked.str.replace_all(_NULL_SCALAR_RE, '${1}"\\u0001"')
            .str.replace_all(_NULL_LIST_RE, '${1}["\\u0001"]')
            .str.replace_all(_NULL_LINES_RE, "${1}[]")
        )
    return marked.cast(pl.Binary).item(), written


def _no_duplicate_keys(claims: pl.DataFrame, written: int) -> None:
    """Decline unless Polars read as many known keys as the text writes (no key twice in an object).

    A key read is a value that is not null (a written ``null`` reads as the sentinel), counted from
    the columns' null counts, which Polars keeps as metadata: no query per chunk (1.5 -> 0.1 ms a
    chunk; 620 chunks in the 2M-line benchmark file)."""
    lines = claims.get_column("lines").explode().struct.unnest()
    if _values(claims) + (_values(lines) if lines.height else 0) != written:
        raise _Decline


def _values(frame: pl.DataFrame) -> int:
    """How many values of ``frame`` are not null."""
    return frame.height * frame.width - sum(frame.null_count().row(0))


def _check_text(chunk: bytes) -> None:
    """Decline escapes Polars reads differently, and escaped keys (the key regexes need plain ones)."""
    if b"\\" in chunk and (_ESCAPED_KEY.search(chunk) or _LONE_SURROGATE.search(chunk)):
        raise _Decline


def _any(frame: pl.DataFrame, exprs: dict[str, pl.Expr]) -> dict[str, bool]:
    """Several ``any`` questions about a frame in one pass."""
    row = frame.select(**{k: e.any().fill_null(False) for k, e in exprs.items()}).row(0, named=True)
    return {k: bool(v) for k, v in row.items()}


def _list_any(column: str, pattern: str) -> pl.Expr:
    """Whether any element of a list-of-text column matches ``pattern``."""
    return pl.col(column).list.eval(pl.element().str.contains(pattern)).list.any()


def _flatten(frames: list[pl.DataFrame], docs: list[bytes]) -> _Piece:
    """Consecutive chunks' claims to raw rows, as :func:`claims_to_raw` would; declines what it cannot match.

    ``docs`` are the texts the claims were read from, for the checks only the text can answer.
    """
    claims = pl.concat(frames) if len(frames) > 1 else frames[0]
    line_fields = [f.name for f in _LINE_STRUCT.fields]
    lines = (
        claims.lazy()
        .select(
            pl.int_range(pl.len(), dtype=pl.Int64).alias("_ci"),
            *[pl.col(c).alias(f"c.{c}") for c in _CLAIM_SCHEMA if c != "lines"],
            (pl.col("lines").list.len().fill_null(0) > 0).alias("_has"),
            pl.int_ranges(1, pl.col("lines").list.len().fill_null(0) + 1, dtype=pl.Int64).alias("_li"),
            pl.col("lines"),
        )
        .explode("lines", "_li", empty_as_null=True)
        .with_columns(
            pl.col("lines").is_null().alias("_no_object"),
            *[pl.col("lines").struct.field(f).alias(f"l.{f}") for f in line_fields],
        )
        .drop("lines")
        .collect()
    )
    lines = lines.with_columns(_unmarked(c, t) for c, t in lines.schema.items() if c.startswith(("c.", "l.")))
    texts = [f"c.{c}" for c in SCALAR_COLUMNS] + [f"l.{c}" for c in SCALAR_COLUMNS]
    texts += [f"l.{k}" for k in _LINE_EXTRA[3:]]
    lists = ["c.diagnoses", "l.diagnoses", "l.modifiers"]
    flags = _any(
        lines,
        {
            "null_line": pl.col("_has") & pl.col("_no_object"),
            "risky": pl.any_horizontal(
                *[pl.col(c).str.contains(_RISKY_TEXT) for c in texts], *[_list_any(c, _RISKY_TEXT) for c in lists]
            ),
            "bad_pointer": pl.col("l.diagnosis_pointers")
            .list.eval(pl.element().str.contains(_POINTER).fill_null(False).not_())
            .list.any(),
            "single_dx": (pl.col("c.diagnoses").list.len() == 1) | (pl.col("l.diagnoses").list.len() == 1),
            "single_mod": (pl.col("l.modifiers").list.len() == 1)
            & pl.col("l.modifiers").list.first().str.contains(f"{_SEPARATED}|{_SCALAR_LOOKING}"),
            "separated_mod": (pl.col("l.modifiers").list.len() == 1)
            & pl.col("l.modifiers").list.first().str.contains(_SEPARATED),
            "claim_id_scalar": pl.col("c.claim_id").str.contains(r"^-?[0-9]+$|^(?:true|false)$"),
            "claims_file": pl.col("c.claim_id").is_not_null() | pl.col("_has"),
        },
    )
    if flags["null_line"] or flags["risky"] or flags["bad_pointer"]:
        raise _Decline

    def found(pattern: re.Pattern[bytes]) -> bool:
        return any(pattern.search(doc) is not None for doc in docs)

    if flags["single_dx"] and found(_DX_SCALAR):
        raise _Decline  # a scalar "diagnoses", wrapped by Polars
    if flags["claim_id_scalar"] and found(_CLAIM_ID_NOT_TEXT):
        raise _Decline  # a number or boolean claim id: Python's label spells it with str()
    split_modifiers = False
    if flags["single_mod"]:
        if found(_MODS_NOT_TEXT):
            raise _Decline  # a number or boolean "modifiers": Python rejects the line
        as_text, as_list = found(_MODS_TEXT), found(_MODS_LIST)
        if as_text and as_list and flags["separated_mod"]:
            raise _Decline  # ["JW KX"] or "JW KX"? Cannot tell which line holds which.
        split_modifiers = as_text and not as_list
    frame = _resolve(lines, split_modifiers)
    rows = claims.select(pl.col("lines").list.len().fill_null(0).clip(lower_bound=1).sum()).item()
    return _Piece(frame, claims.height, flags["claims_file"], claims.get_column("lines").null_count(), int(rows))


def _unmarked(column: str, dtype: pl.DataType) -> pl.Expr:
    """The column with the null sentinel (see _mark_nulls) turned back into null."""
    col = pl.col(column)
    if isinstance(dtype, pl.List):
        marked = (col.list.len() == 1) & (col.list.first() == _NULL)
    else:
        marked = col == _NULL
    return pl.when(marked.fill_null(False)).then(None).otherwise(col).alias(column)


def _present_list(lines: pl.DataFrame, columns: list[str]) -> pl.Expr:
    """The non-null values of ``columns`` as a list per row. Columns null on every row add nothing and
    are left out (usually all four: nested JSON gives lists, not numbered fields), since
    ``concat_list`` + ``list.drop_nulls`` costs ~1 s per million rows even when the branch is not taken."""
    present = [c for c in columns if lines.get_column(c).null_count() < lines.height]
    if not present:
        return pl.lit([], dtype=_TEXTS)
    return pl.concat_list([pl.col(c) for c in present]).list.drop_nulls()


def _any_present(lines: pl.DataFrame, columns: list[str]) -> bool:
    """Whether any row gives a value in ``columns`` (numbered fields beside the lists: rare)."""
    return any(lines.get_column(c).null_count() < lines.height for c in columns)


def _resolve(lines: pl.DataFrame, split_modifiers: bool) -> pl.DataFrame:
    """Values, modifiers, diagnoses and reasons of every row (claims without lines: one row each)."""
    has = pl.col("_has")
    empty = pl.lit([], dtype=_TEXTS)

    def filled(column: str) -> pl.Expr:
        return pl.col(column).list.eval(pl.element().fill_null(""))

    # A line naming another claim than the object it is nested in is rejected under its object's id
    # (probe 21B: it moved into claim C1, another member's, and the good claim was rejected whole).
    # (compared as the claims are keyed: trimmed, " C1" and "C1\u00a0" are C1; review 21D)
    moved = has & pl.col("l.claim_id").is_not_null() & pl.col("c.claim_id").is_not_null() & (
        pl.col("l.claim_id").str.strip_chars() != pl.col("c.claim_id").str.strip_chars())
    scalars = []
    for c in SCALAR_COLUMNS:
        value = pl.coalesce(pl.col(f"l.{c}"), pl.col(f"c.{c}"))
        if c == "claim_id":
            value = pl.when(moved).then(pl.col("c.claim_id")).otherwise(value)
        scalars.append((value if c in _CLAIM_LEVEL else pl.when(has).then(value)).alias(c))

    if split_modifiers:  # every "modifiers" in the chunk is text: Polars wrapped each into a list
        own = pl.col("l.modifiers").list.first().str.extract_all(_MODIFIER_TOKENS)
    else:
        own = filled("l.modifiers")
    numbered = [f"l.modifier_{i}" for i in range(1, 5)]
    parts = _present_list(lines, numbered)
    if _any_present(lines, numbered):  # the numbered fields, then the list (both forms are kept)
        own = pl.concat_list(parts, own)
    modifiers = pl.when(~has).then(empty).when(pl.col("l.modifiers").is_not_null()).then(own).otherwise(parts)

    pointers = pl.col("l.diagnosis_pointers").list.eval(pl.element().cast(pl.Int64))
    frame = lines.with_columns(
        pointers.alias("_ptr"),
        pl.col("c.diagnoses").list.len().fill_null(0).cast(pl.Int64).alias("_ndx"),
    )
    bad = (pl.col("_ptr").list.min() < 1) | (pl.col("_ptr").list.max() > pl.col("_ndx"))
    frame = frame.with_columns((has & bad.fill_null(False)).alias("_bad"))
    reason = pl.lit(None, _TEXT)
    if frame.get_column("_bad").any():
        reason = _pointer_reasons(frame)

    by_pointer = pl.col("c.diagnoses").list.gather(pl.col("_ptr") - 1, null_on_oob=True)
    by_pointer = by_pointer.list.eval(pl.element().fill_null("")).fill_null(empty)
    numbered_dx = [f"l.diagnosis_{i}" for i in range(1, 5)]
    dx_parts = _present_list(lines, numbered_dx)
    any_part = pl.any_horizontal([pl.col(c).is_not_null() for c in numbered_dx])
    own_dx = filled("l.diagnoses")
    if _any_present(lines, numbered_dx):
        own_dx = pl.concat_list(dx_parts, own_dx)
    # (codes the line gives itself beside its pointers are kept too, first: nothing given is ignored)
    pointed = by_pointer
    if _any_present(lines, numbered_dx) or lines.get_column("l.diagnoses").null_count() < lines.height:
        pointed = pl.concat_list(dx_parts, filled("l.diagnoses").fill_null(empty), by_pointer)
    diagnoses = (
        pl.when(~has | pl.col("_bad"))
        .then(empty)
        .when(pl.col("_ptr").is_not_null())
        .then(pointed)
        .when(pl.col("l.diagnoses").is_not_null())
        .then(own_dx)
        .when(any_part)
        .then(dx_parts)
        .otherwise(filled("c.diagnoses").fill_null(empty))
    )
    load_error = pl.when(~has).then(pl.lit("claim has no lines")).when(moved).then(pl.format(
        "the line gives claim_id '{}' inside claim object '{}': a line belongs to the claim it is nested in",
        "l.claim_id", "c.claim_id"))
    value_error = pl.when(has).then(reason)  # a pointer past the diagnoses: the line's other values stand
    return frame.select(
        "_ci",
        "_li",
        "_has",
        pl.col("c.claim_id").alias("_cid"),
        *scalars,
        modifiers.alias("modifiers"),
        diagnoses.alias("diagnoses"),
        # (as _claim_codes: the codes given, a null or empty entry left out)
        pl.when(has).then(pl.col("c.diagnoses").list.eval(pl.element().filter(pl.element().str.len_bytes() > 0)))
        .alias("claim_diagnoses"),
        load_error.alias("load_error"),
        value_error.alias("value_error"),
    )


def _pointer_reasons(frame: pl.DataFrame) -> pl.Expr:
    """The reason of each line whose pointers leave the claim's diagnoses: the first such pointer."""
    first_bad = (
        frame.lazy()
        .with_row_index("_row")
        .filter(pl.col("_bad"))
        .select("_row", "_ptr", "_ndx")
        .explode("_ptr")
        .filter((pl.col("_ptr") < 1) | (pl.col("_ptr") > pl.col("_ndx")))
        .group_by("_row", maintain_order=True)
        .agg(pl.col("_ptr").first(), pl.col("_ndx").first())
        .select(
            "_row",
            pl.when(pl.col("_ptr") < 1)
            .then(pl.format("diagnosis pointer {} must be 1 or more (pointers count from 1)", "_ptr"))
            .otherwise(pl.format("diagnosis pointer {} points past the claim's {} diagnoses", "_ptr", "_ndx"))
            .alias("_why"),
        )
        .collect()
    )
    reasons = pl.repeat(None, frame.height, dtype=_TEXT, eager=True).scatter(
        first_bad.get_column("_row"), first_bad.get_column("_why")
    )
    return pl.lit(reasons)


def _finish(rows: pl.DataFrame, source: str, first_row_id: int) -> pl.DataFrame:
    """Provenance columns and the exact raw schema (:data:`RAW_FRAME_SCHEMA`)."""
    has, cid = pl.col("_has"), pl.col("_cid")
    location = (
        pl.when(has & cid.is_not_null())
        .then(pl.format("claim {} ({}), line {}", "_ci", "_cid", "_li"))
        .when(has)
        .then(pl.format("claim {}, line {}", "_ci", "_li"))
        .when(cid.is_not_null())
        .then(pl.format("claim {} ({})", "_ci", "_cid"))
        .otherwise(pl.format("claim {}", "_ci"))
    )
    provenance = {
        "row_id": pl.int_range(pl.len(), dtype=pl.Int64) + first_row_id,
        "source": pl.lit(source, _TEXT),
        "source_row": pl.int_range(1, pl.len() + 1, dtype=pl.Int64),
        "source_location": location,
    }
    schema = RAW_FRAME_SCHEMA
    return rows.select([(provenance[c] if c in provenance else pl.col(c) if c in rows.columns else pl.lit(None))
                        .cast(t).alias(c) for c, t in schema.items()])
