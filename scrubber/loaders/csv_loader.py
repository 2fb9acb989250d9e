"""Read the 837-like claim-line CSV of FORMATS.md into the raw frame.

How rows are counted (what ``source_row`` and "row N" in a rejection mean): as a spreadsheet
shows them. The header is row 1 and the first claim line is row 2; a quoted cell that spans
several physical lines is still one row; a blank line is a row too (it is skipped, not checked,
but the rows after it keep the number a spreadsheet gives them).

Every cell is read as text; :mod:`scrubber.canonical` does the typing so that a bad value rejects
its row with a reason instead of failing the whole file. The one exception is for speed: the engine
asks for the number columns read as numbers (:func:`number_batches`), which holds only where
canonicalisation would take every value as read; any other file or batch is read as text.

Two readers, one result. The fast path is Polars' CSV reader, lazily, so only the columns the
raw frame needs are ever materialised (a 20M-line file must fit in memory). Polars refuses some
real-world files; those go through Python's :mod:`csv` module in batches:

* rows with more cells than the header ("ragged"): each is rejected with its row number and
  reason, never silently truncated (Polars could only truncate them or give up on the file);
* quotes Polars will not accept (a stray ``"`` inside an unquoted cell);
* old Mac line endings (CR only), which Polars would read as one long line.

A quote that is never closed swallows the rest of the file into one cell in any CSV reader, and
one closed rows later swallows the rows between: the independent count of :mod:`csv_count` finds
both, and that row is rejected with a reason naming the lines it swallowed, so the rows inside it
are not lost without a word. The same count is what "rows read" is reconciled to.

Columns: the claim columns of FORMATS.md are read; any other column is kept out under a name of its
own (``_extra_N``), so a column that happens to be called ``load_error``, ``source_row``, ``row_id``
or ``modifiers`` never collides with what the loader adds and never reaches a checked value.
"""

from __future__ import annotations

import csv
import difflib
import functools
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from scrubber.canonical import takes_as_read
from scrubber.errors import InputError, decoded, display_name, shown, undecodable_byte
from scrubber.loaders.csv_count import CsvCount, count_csv, first_not_utf8, polars_path
from scrubber.schema import (
    LOADER_COLUMNS,
    NUMBER_FIELDS,
    RAW_SCHEMA,
    RECORD_COLUMNS,
    REQUIRED_COLUMNS,
    SCALAR_COLUMNS,
)

MODIFIER_COLUMNS = tuple(f"modifier_{i}" for i in range(1, 5))
DIAGNOSIS_COLUMNS = tuple(f"diagnosis_{i}" for i in range(1, 5))
CLAIM_COLUMNS = frozenset((*SCALAR_COLUMNS, *MODIFIER_COLUMNS, *DIAGNOSIS_COLUMNS))
# Names of what loaders and canonicalisation add to a row: a claims file's column of that name is
# not read (and a person hears so), it is kept out like any other unknown column.
INTERNAL_NAMES = frozenset(("load_error", "value_error", "row_id", "source", "source_row", "source_location",
                            "_index", "modifiers", "diagnoses", "claim_diagnoses"))
_SNIFF_BYTES = 65536
_BATCH_ROWS = 100_000  # slow path: rows per Polars batch, so Python objects never pile up
_MAX_CELL = 1 << 27  # csv module default is 128 KiB; a long quoted note must not abort the read

csv.field_size_limit(min(sys.maxsize, _MAX_CELL))


def _normalise_header(name: str) -> str:
    """``Claim ID``, ``claim-id`` and `` claim_id`` all name ``claim_id`` (spaces and hyphens are how
    spreadsheets and other exports spell the underscore), and so does its fullwidth spelling (NFKC: an
    East Asian input method's fullwidth ``modifier_1`` was neither read nor named as not read, and its JZ
    went unseen: "neither JZ nor a JW line", probe 25C D4)."""
    return unicodedata.normalize("NFKC", name).strip().lstrip("\ufeff").strip().lower().replace(
        " ", "_").replace("-", "_")


def _not_utf8_row(cells: list[str], header: list[str]) -> str | None:
    """Why a row (read with ``surrogateescape``) holding a byte that is not UTF-8 is not read: a cell
    in another encoding (a latin-1 "é") cannot be read as its writer meant, and the row's other cells
    are not trusted either (the file's other rows are read)."""
    for i, cell in enumerate(cells[:len(header)]):
        if byte := undecodable_byte(cell):
            column = header[i] if not header[i].startswith("_extra_") else f"column {i + 1}"
            return (f"not UTF-8 text (byte {byte} in {column}): this row was saved in another encoding, so its "
                    "cells cannot be trusted; export the file as CSV UTF-8")
    return None


def read_header(path: Path) -> list[str]:
    """The header row, normalised; raises :class:`InputError` when it cannot be read (a byte that is
    not UTF-8 in a column's name too: the rows after it may hold one, each its own row's problem)."""
    try:
        with path.open("r", encoding="utf-8-sig", errors="surrogateescape", newline="") as fh:
            header = next(csv.reader(fh), None)
    except csv.Error as exc:
        raise InputError(f"unreadable CSV header ({exc})", str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", str(path)) from None
    if not header or all(not h.strip() for h in header):
        raise InputError("no header row (the first line must name the columns)", str(path))
    if bad := next((undecodable_byte(h) for h in header if undecodable_byte(h)), None):
        raise InputError(f"not UTF-8 text (byte {bad} in the header row); export the file as CSV UTF-8", str(path))
    return [h or f"_unnamed_{i}" for i, h in enumerate(_normalise_header(h) for h in header)]


def reading_names(header: list[str], known: frozenset[str] = CLAIM_COLUMNS) -> list[str]:
    """Column names to read the file with: known columns by name, every other one as ``_extra_N``."""
    return [h if h in known else f"_extra_{i}" for i, h in enumerate(header)]


def ignored_notices(header: list[str], known: frozenset[str] = CLAIM_COLUMNS, kind: str = "claims",
                    noun: str = "column") -> list[str]:
    """A notice per column named like something the loader adds, or like a claims column misspelled
    (``modifer_1``, ``drug_dose``): it is not read (FORMATS.md: unknown columns are kept and ignored),
    say so rather than let someone believe it was; a misspelled modifier or dose column read as
    absent would give findings ("neither JZ nor JW") that are the header's fault."""
    out = []
    for name in dict.fromkeys(h for h in header if h not in known):
        if name in INTERNAL_NAMES:
            hint = {"modifiers": "; modifiers go in modifier_1..modifier_4",
                    "diagnoses": "; diagnoses go in diagnosis_1..diagnosis_4"}.get(name, "")
        elif (normal := _normalise_header(name)) in known:
            # (a JSON key is read as written: "MODIFIER_1" named no field and its JZ went unseen, probe 26C D2)
            hint = f"; did you mean '{normal}'? (keys are read as written, in lower case)"
        elif (alias := _export_alias(normal)) in known:
            # (an export's short name: "MOD1" or "Mod 1" dropped every modifier without a word, probe 28C D2)
            hint = f"; did you mean '{alias}'?"
        else:
            # (as written and in lower case: "MODIFER_1" is a misspelling in capitals, review 26E D6)
            scores = {k: max(_likeness(name, k), _likeness(normal, k)) for k in known}
            best = max(scores.values(), default=0.0)
            if best < 0.8:
                continue
            hint = f"; did you mean '{min(k for k, v in scores.items() if v == best)}'?"  # diagnosis: diagnosis_1
        out.append(f"{noun} '{name}' is not a {kind} {noun} and is ignored{hint}")
    return out


# Short names exports give numbered claim columns ("MOD1", "Mod 1", "DX2", "ICD_3"), as normalised
# (:func:`_normalise_header`): the claims column each stands for.
_EXPORT_ALIASES = ((re.compile(r"^mod(?:ifier)?_?0?([1-4])$"), "modifier_{}"),
                   (re.compile(r"^(?:dx|diag|icd(?:_?10)?)_?0?([1-4])$"), "diagnosis_{}"))


def _export_alias(normal: str) -> str | None:
    """The claims column an export's short name (normalised) stands for, else None."""
    for pattern, column in _EXPORT_ALIASES:
        if m := pattern.match(normal):
            return column.format(m.group(1))
    return None


def _likeness(name: str, known: str) -> float:
    """difflib's similarity of two column names, 0 when its cheap upper bounds are already under the
    0.8 a near miss needs (a header of 100,000 columns took two minutes of full comparisons): the
    lengths' bound first, then a matcher per known name, built once (:func:`_matcher`)."""
    if 2 * min(len(name), len(known)) < 0.8 * (len(name) + len(known)):
        return 0.0
    matcher = _matcher(known)
    matcher.set_seq1(name)
    if matcher.quick_ratio() < 0.8:
        return 0.0
    return matcher.ratio()


@functools.cache
def _matcher(known: str) -> difflib.SequenceMatcher:
    """A matcher against the column name ``known`` (difflib indexes its second sequence once)."""
    return difflib.SequenceMatcher(None, "", known)


def _check_header(header: list[str], path: Path, required: tuple[str, ...] = REQUIRED_COLUMNS,
                  known: frozenset[str] = CLAIM_COLUMNS) -> None:
    if required == REQUIRED_COLUMNS and "revenue_code" in header:
        # FORMATS.md: institutional lines may carry a revenue code instead of a procedure code.
        required = tuple(c for c in required if c != "procedure_code")
    dupes = sorted(h for h, n in Counter(header).items() if n > 1 and h in known)  # (count per name: linear)
    if dupes:
        raise InputError(f"duplicate column(s) in header: {', '.join(dupes)}", str(path))
    missing = [c for c in required if c not in header]
    if missing:
        # (an invisible character shown: "claim_id\u200b" read as the missing claim_id, probe 28C D10)
        found = ", ".join(shown(h) for h in header if not h.startswith("_unnamed_"))
        hint = ""
        if required == REQUIRED_COLUMNS and {"claim_id", "line_number"} <= set(header) and set(header) & set(
                RECORD_COLUMNS):
            hint = "; if this is an administration records file, pass it with --records"
        elif len(header) == 1:
            hint, separator = _separator_hint(header[0], required)
            if separator:  # the names as the file meant them (a tab shows as U+FFFD on a terminal)
                found = ", ".join(c.strip() for c in header[0].split(separator))
        raise InputError(f"missing required column(s): {', '.join(missing)} (found: {found}){hint}", str(path))


# Separators a spreadsheet may export with instead of commas (Excel in a comma-decimal locale: ';').
_OTHER_SEPARATORS = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}


def _separator_hint(cell: str, required: tuple[str, ...]) -> tuple[str, str | None]:
    """When the one header cell read holds the required columns split by another separator (a
    semicolon CSV from a comma-decimal locale, a tab-separated export), say so: the fix is the
    export's setting, which the bare list of missing columns does not tell. Returns the hint and
    the separator found (None: none)."""
    for separator, name in _OTHER_SEPARATORS.items():
        if set(required) <= {c.strip().lower() for c in cell.split(separator)}:
            return (f"; the header is separated by {name}, not commas: export the file as comma-separated CSV",
                    separator)
    return "", None


def _raise_if_not_utf8(exc: Exception, path: Path) -> None:
    """Polars' UTF-8 complaint is a file-level problem; its other complaints go to the slow path."""
    text = str(exc).lower()
    if "utf-8" in text or "utf8" in text:  # (where: the first such byte, as the count finds it)
        raise InputError(f"not UTF-8 text ({first_not_utf8(path)}); export the file as CSV UTF-8", str(path)) from None


def _cr_only(path: Path) -> bool:
    """Old Mac line endings: CR but no LF in the first block. Polars would see one giant line."""
    with path.open("rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    return b"\r" in head and b"\n" not in head


def _scan(path: Path, header: list[str], numbers: bool = False) -> pl.LazyFrame:
    """Fast path: Polars reads every cell as text, numbering rows as a spreadsheet does; with
    ``numbers``, the number columns as numbers (:data:`scrubber.schema.NUMBER_FIELDS`)."""
    return pl.scan_csv(
        polars_path(path),
        has_header=True,
        new_columns=header,
        infer_schema=False,
        schema_overrides={c: NUMBER_FIELDS[c] for c in header if c in NUMBER_FIELDS} if numbers else None,
        encoding="utf8",
        raise_if_empty=False,
        row_index_name="source_row",
        row_index_offset=2,
        glob=False,  # a file name is a name: "claims[1].csv" is not a pattern
    )


def _slow_batches(path: Path, header: list[str], swallowed: dict[int, str] | None = None) -> Iterator[pl.DataFrame]:
    """Row-by-row read with the csv module, yielded as text frames of at most ``_BATCH_ROWS`` rows.

    Each frame has the header's columns, ``source_row`` and ``load_error``: a row with more cells
    than the header is kept as a row that carries its reason, so it is reported where it stands, as
    is a row whose quoted cell swallowed others (``swallowed``: row number -> reason).
    """
    width = len(header)
    ident = {header.index(c) for c in BAD_ROW_KEPT if c in header}
    schema = {**dict.fromkeys(header, pl.String()), "source_row": pl.Int64(), "load_error": pl.String()}
    rows: list[list[str | int | None]] = []
    swallowed = swallowed or {}

    try:
        # surrogateescape: a byte that is not UTF-8 rejects its row (below), not the file
        with path.open("r", encoding="utf-8-sig", errors="surrogateescape", newline="") as fh:
            reader = csv.reader(fh, strict=False)
            next(reader, None)
            number = 1
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:  # e.g. a NUL byte in a cell
                    cells, error = [], f"unreadable CSV row ({exc})"
                else:
                    error = None
                    if len(cells) > width:
                        # Extra cells that are all empty hold nothing to lose: a blank row, not a ragged one.
                        if any(c.strip() for c in cells):
                            error = f"row has {len(cells)} cells but the header names {width} columns"
                        # The row is rejected whole; only BAD_ROW_KEPT is kept, so the rejection
                        # names the line (other cells may be shifted by a stray comma).
                        cells = [c if i in ident else "" for i, c in enumerate(cells[:width])] if error else []
                number += 1
                if not error and (error := _not_utf8_row(cells, header)):
                    cells = [c if i in ident else "" for i, c in enumerate(cells[:width])]
                if number in swallowed:
                    cells = [c if i in ident else "" for i, c in enumerate(cells[:width])]
                    error = swallowed[number]
                if len(rows) >= _BATCH_ROWS:
                    yield pl.DataFrame(rows, schema=schema, orient="row")
                    rows = []
                padded = [(c if c.isascii() else decoded(c)) if c != "" else None for c in cells]
                padded += [None] * (width - len(cells))
                rows.append([*padded, number, error])
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", str(path)) from None
    yield pl.DataFrame(rows, schema=schema, orient="row")


def _slow_read(path: Path, header: list[str]) -> pl.DataFrame:
    return pl.concat(list(_slow_batches(path, header)), rechunk=False)


def _mark_swallowed(chunk: pl.DataFrame, header: list[str], swallowed: dict[int, str]) -> pl.DataFrame:
    """Rows whose quoted cell swallowed other rows (by spreadsheet row number): unreadable, with the reason.

    Only :data:`BAD_ROW_KEPT` is kept, so the rejection names the line and its encounter; the rest
    of the row is one cell's worth of other rows.
    """
    if not swallowed:
        return chunk
    rows = pl.Series(list(swallowed), dtype=pl.Int64)
    hit = chunk.get_column("source_row").cast(pl.Int64).is_in(rows.implode())
    if not hit.any():
        return chunk
    reasons = pl.DataFrame({"source_row": rows, "_why": list(swallowed.values())})
    marked = chunk.with_columns(pl.col("source_row").cast(pl.Int64)).join(reasons, on="source_row", how="left",
                                                                          maintain_order="left")
    keep = {*BAD_ROW_KEPT, "source_row"}
    error = pl.coalesce("load_error", "_why") if "load_error" in chunk.columns else pl.col("_why")
    return marked.with_columns(
        *[pl.when(pl.col("_why").is_null()).then(pl.col(c)).alias(c) for c in header if c not in keep],
        error.alias("load_error"),
    ).drop("_why")

# Kept of a row rejected whole for its shape (more cells than the header, a quoted cell that
# swallowed other rows, a NUL or non-UTF-8 byte): the cells that name its line, and those that place
# it in an encounter (member and date, read only to leave that encounter unevaluated: a stray comma
# after them leaves them right, one before them makes them text that matches no encounter). One set
# for every such row and both engines (probe 24B D4: Spark kept two, the local reader two or four
# by the path that read the file, and the engines scoped "not evaluated" apart).
BAD_ROW_KEPT = ("claim_id", "line_number", "member_id", "date_of_service")


class FastPathRefused(Exception):  # a signal between loader and engine, never shown to a user
    """Polars refused the file part-way (ragged rows, odd quoting): read it again with :mod:`csv`."""


class NumbersRefused(FastPathRefused):
    """The read with numbers typed (:func:`number_batches`) failed: read the file again as text."""


_FAST_BATCH_ROWS = 500_000  # rows of text typed at a time (~200 MB): 20M lines never sit in memory as text;
# smaller batches reuse the memory the previous one freed (fewer page faults than 1M-row batches)


def open_csv(path: Path) -> tuple[list[str], bool, CsvCount, list[str]]:
    """A claims CSV, checked before any row is read (file-level problems raise InputError).

    Returns the names to read its columns with (:func:`reading_names`), whether the fast reader
    can take the file (not with CR-only or lone-CR line breaks, which only :mod:`csv` splits as a
    spreadsheet does), the independent count of its rows, and notices about columns not read.
    """
    header = read_header(path)
    _check_header(header, path)
    count = count_csv(path, len(header))
    fast_ok = not (count.lone_cr or count.not_utf8 or _cr_only(path)) and isinstance(polars_path(path), Path)
    return reading_names(header), fast_ok, count, ignored_notices(header)


NUL_ROW = "the row holds a NUL byte (binary data inside a text file): its cells cannot be trusted"


def nul_rows(chunk: pl.DataFrame, header: list[str]) -> dict[int, str]:
    """Spreadsheet row number -> reason, for the rows of ``chunk`` with a NUL byte in a cell: each is
    rejected where it stands, wherever it is in the file (only a file that is mostly NULs is refused
    whole as binary, :func:`scrubber.loaders.sniff_format`). Run only when the count saw one."""
    hit = chunk.filter(pl.any_horizontal(pl.col(c).str.contains("\x00", literal=True) for c in header))
    return dict.fromkeys(hit.get_column("source_row").cast(pl.Int64).to_list(), NUL_ROW)


def fast_batches(path: Path, header: list[str], first_row_id: int, swallowed: dict[int, str] | None = None,
                 expected: int | None = None, nul: bool = False) -> Iterator[pl.DataFrame]:
    """Raw batches (RAW_SCHEMA + ``load_error``) read by Polars, ``row_id`` from ``first_row_id``.

    Every column of the file is parsed (nothing is projected away), so a ragged row or bad quoting
    anywhere stops the read: then :class:`FastPathRefused` is raised, possibly after some batches,
    and the caller reads the file again with :func:`slow_batches`. So it is too when the rows it gave
    differ from ``expected`` (the independent count): Polars may read a file it should refuse
    differently instead (a quote inside a header name made it read no row at all).
    """
    next_id = first_row_id
    try:
        for chunk in _scan(path, header).collect_batches(chunk_size=_FAST_BATCH_ROWS):
            chunk = _mark_swallowed(chunk, header, swallowed or {})
            if nul:
                chunk = _mark_swallowed(chunk, header, nul_rows(chunk, header))
            raw = to_raw_frame(_drop_blank_rows(chunk, header), display_name(path), next_id)
            next_id += raw.height
            yield raw
    except pl.exceptions.PolarsError as exc:  # ragged rows, odd quoting, a header Polars splits otherwise
        _raise_if_not_utf8(exc, path)
        raise FastPathRefused(str(exc)) from None
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", str(path)) from None
    _check_count(next_id - first_row_id, expected)


def number_batches(path: Path, header: list[str], first_row_id: int, expected: int | None = None
                   ) -> Iterator[pl.DataFrame]:
    """:func:`fast_batches` with the number columns read as numbers (:data:`scrubber.schema.NUMBER_FIELDS`),
    for a caller that takes such batches: no string per cell and no cast (~0.2 s of CPU per 2M lines).

    A batch holding a value typing would not take as read (:func:`scrubber.canonical.takes_as_read`:
    not finite or beyond a bound, so its rejection must quote the text) is read again as text, its
    rows only. Any error of the reader (a value it reads as no number, and all :func:`fast_batches`
    refuses) raises :class:`NumbersRefused`: the caller drops the batches given and reads the file as
    text. None of them can be kept: Polars' streaming reader goes on past a part of the file it
    failed to parse and raises only at the end, so the rows it gave may miss some and be misnumbered.
    """
    next_id, done = first_row_id, 0  # (done: rows Polars gave, blank ones too: a text read's offset)
    try:
        for chunk in _scan(path, header, numbers=True).collect_batches(chunk_size=_FAST_BATCH_ROWS):
            rows = _drop_blank_rows(chunk, header)
            if not takes_as_read(rows):
                rows = _drop_blank_rows(_scan(path, header).slice(done, chunk.height).collect(), header)
            raw = to_raw_frame(rows, display_name(path), next_id)
            done, next_id = done + chunk.height, next_id + raw.height
            yield raw
    except pl.exceptions.PolarsError as exc:
        _raise_if_not_utf8(exc, path)
        raise NumbersRefused(str(exc)) from None
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", str(path)) from None
    _check_count(next_id - first_row_id, expected, NumbersRefused)


def _check_count(read: int, expected: int | None, refusal: type[FastPathRefused] | None = None) -> None:
    """Refuse the read (:class:`FastPathRefused`, or ``refusal``) when it gave other than ``expected`` rows."""
    if expected is not None and read != expected:
        raise (refusal or FastPathRefused)(f"Polars read {read} rows, the file holds {expected}")


def slow_batches(path: Path, header: list[str], first_row_id: int,
                 swallowed: dict[int, str] | None = None, nul: bool = False) -> Iterator[pl.DataFrame]:
    """Raw batches read row by row with :mod:`csv` (see :func:`_slow_batches`)."""
    next_id = first_row_id
    for chunk in _slow_batches(path, header, swallowed):
        if nul:
            chunk = _mark_swallowed(chunk, header, nul_rows(chunk, header))
        raw = to_raw_frame(_drop_blank_rows(chunk, header), display_name(path), next_id)
        next_id += raw.height
        yield raw


def _blank(header: list[str]) -> pl.Expr:
    """A row whose every cell is empty or whitespace (trailing blank lines, spacer rows); a number
    read as one is never blank."""
    return pl.all_horizontal(pl.col(header).cast(pl.String).str.strip_chars().str.len_bytes().fill_null(0) == 0)


def _drop_blank(lf: pl.LazyFrame, header: list[str]) -> pl.LazyFrame:
    """Drop blank rows (:func:`_blank`); a row that carries a reader's error is never blank."""
    blank = _blank(header)
    if "load_error" in lf.collect_schema():
        blank = blank & pl.col("load_error").is_null()
    return lf.filter(~blank)


def _drop_blank_rows(frame: pl.DataFrame, header: list[str]) -> pl.DataFrame:
    """:func:`_drop_blank` of a batch, cheaply: only a row without a claim id can be blank, so only
    those rows pay for the all-columns test."""
    no_id = frame.select(pl.col("claim_id").str.strip_chars().str.len_bytes().fill_null(0) == 0).to_series()
    if not no_id.any():
        return frame
    rows = no_id.arg_true()
    candidates = frame[rows]
    blank = candidates.select(_blank(header)).to_series()
    if "load_error" in frame.columns:
        blank = blank & candidates.get_column("load_error").is_null()
    if not blank.any():
        return frame
    drop = pl.repeat(False, frame.height, eager=True).scatter(rows.filter(blank), True)
    return frame.filter(~drop)


def to_raw_frame(frame: pl.DataFrame, source: str, first_row_id: int) -> pl.DataFrame:
    """:func:`to_raw` of one eager batch.

    Modifier and diagnosis columns that are empty in the whole batch (modifier_3/4 in most exports)
    hold nothing for the lists: left out, so the lists are built from the others only."""
    empty = [c for c in (*MODIFIER_COLUMNS, *DIAGNOSIS_COLUMNS)
             if c in frame.columns and frame.get_column(c).null_count() == frame.height]
    return to_raw(frame.drop(empty).lazy(), source, first_row_id).collect(engine="in-memory")


def to_raw(lf: pl.LazyFrame, source: str | pl.Expr, first_row_id: int) -> pl.LazyFrame:
    """Map CSV-shaped columns (modifier_1..4, diagnosis_1..4) onto the raw canonical frame.

    Extra unknown columns are read but not carried on: checks never look at them. ``source`` is
    the file name, or an expression for frames that hold several (tests build batches that way).
    """
    cols = set(lf.collect_schema().names())

    def listed(names: tuple[str, ...]) -> pl.Expr:
        items = [pl.col(n) for n in names if n in cols]
        if not items:
            return pl.lit([], pl.List(pl.String()))
        # concat_list + list.drop_nulls costs 15x this on 2M rows. The unit separator (0x1F) does
        # not occur in claim text; a cell that did hold one would fail the code format check.
        joined = pl.concat_str(items, separator="\x1f", ignore_nulls=True)
        any_value = pl.any_horizontal(item.is_not_null() for item in items)
        return pl.when(any_value).then(joined.str.split("\x1f")).otherwise(pl.lit([], pl.List(pl.String())))

    wanted = [pl.col(c) if c in cols else pl.lit(None, pl.String()).alias(c) for c in SCALAR_COLUMNS]
    load_error = pl.col("load_error") if "load_error" in cols else pl.lit(None, pl.String()).alias("load_error")
    value_error = pl.lit(None, pl.String()).alias("value_error")  # CSV cells are typed by canonicalisation
    raw = lf.with_row_index("_index").select(
        (pl.col("_index").cast(pl.Int64) + first_row_id).alias("row_id"),
        (pl.lit(source) if isinstance(source, str) else source).alias("source"),
        pl.col("source_row").cast(pl.Int64),
        pl.lit(None, pl.String()).alias("source_location"),  # "row {source_row}", see schema.location()
        *wanted,
        listed(MODIFIER_COLUMNS).alias("modifiers"),
        listed(DIAGNOSIS_COLUMNS).alias("diagnoses"),
        pl.lit(None, pl.List(pl.String())).alias("claim_diagnoses"),  # (a CSV row is its line's diagnoses)
        load_error,
        value_error,
    )
    return raw.select(*RAW_SCHEMA, *LOADER_COLUMNS)


def read_text_table(path: Path, known: frozenset[str], required: tuple[str, ...] = ()) -> pl.DataFrame:
    """Read a small CSV of text (records files) with ``source_row`` and ``load_error``.

    Only the ``known`` columns are read by name (others as ``_extra_N``, see :func:`reading_names`);
    a ragged row is a row with its reason in ``load_error`` (its cells blanked), never the end of the
    read: the caller reports it and uses the others.
    """
    header = read_header(path)
    _check_header(header, path, required, known)
    names = reading_names(header, known)
    # The same independent count as a claims file's (probe 21B: an unclosed quote swallowed every record
    # after it into one "record matches no claim line"; one latin-1 byte stopped the run): a row whose
    # quoted cell swallows others, a row with a byte that is not UTF-8 or a NUL is that row's problem.
    count = count_csv(path, len(header))
    frame = None
    if not (_cr_only(path) or count.lone_cr or count.not_utf8) and isinstance(polars_path(path), Path):
        try:
            frame = _scan(path, names).collect().with_columns(pl.lit(None, pl.String()).alias("load_error"))
        except pl.exceptions.PolarsError as exc:
            _raise_if_not_utf8(exc, path)
        except OSError as exc:
            raise InputError(f"cannot read file ({exc.strerror})", str(path)) from None
    if frame is None:
        frame = pl.concat(list(_slow_batches(path, names, count.swallowed)), rechunk=False)
    else:
        frame = _mark_swallowed(frame, names, count.swallowed)
    if count.nul:
        frame = _mark_swallowed(frame.with_columns(pl.col("source_row").cast(pl.Int64)), names,
                                nul_rows(frame, [n for n in names if n in frame.columns]))
    blank = _blank(names) & pl.col("load_error").is_null()
    return frame.with_columns(pl.col("source_row").cast(pl.Int64)).filter(~blank)
