"""Read the 837-like claim-line CSV of FORMATS.md into the raw frame.

How rows are counted (what ``source_row`` and "row N" in a rejection mean): as a spreadsheet
shows them. The header is row 1 and the first claim line is row 2; a quoted cell that spans
several physical lines is still one row; a blank line is a row too (it is skipped, not checked,
but the rows after it keep the number a spreadsheet gives them).

Every cell is read as text; :mod:`scrubber.canonical` does the typing so that a bad value rejects
its row with a reason instead of failing the whole file.

Two readers, one result. The fast path is Polars' CSV reader, lazily, so only the columns the
raw frame needs are ever materialised (a 20M-line file must fit in memory). Polars refuses some
real-world files; those go through Python's :mod:`csv` module in batches:

* rows with more cells than the header ("ragged"): each is rejected with its row number and
  reason, never silently truncated (Polars could only truncate them or give up on the file);
* quotes Polars will not accept (a stray ``"`` inside an unquoted cell);
* old Mac line endings (CR only), which Polars would read as one long line.

A quote that is never closed swallows the rest of the file into one cell in any CSV reader; that
row is rejected with a reason that says so, so the rows inside it are not lost without a word.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from scrubber.errors import InputError
from scrubber.schema import RAW_SCHEMA, RECORD_COLUMNS, REQUIRED_COLUMNS, SCALAR_COLUMNS

MODIFIER_COLUMNS = tuple(f"modifier_{i}" for i in range(1, 5))
DIAGNOSIS_COLUMNS = tuple(f"diagnosis_{i}" for i in range(1, 5))
_SNIFF_BYTES = 65536
_BATCH_ROWS = 100_000  # slow path: rows per Polars batch, so Python objects never pile up
_MAX_CELL = 1 << 27  # csv module default is 128 KiB; a long quoted note must not abort the read

csv.field_size_limit(min(sys.maxsize, _MAX_CELL))


def _normalise_header(name: str) -> str:
    return name.strip().lstrip("\ufeff").strip().lower().replace(" ", "_")


def _not_utf8(exc: UnicodeDecodeError, path: Path) -> InputError:
    return InputError(
        f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} near byte offset {exc.start}); "
        "export the file as CSV UTF-8",
        str(path),
    )


def read_header(path: Path) -> list[str]:
    """The header row, normalised; raises :class:`InputError` when it cannot be read."""
    try:
        with path.open("r", encoding="utf-8-sig", newline="") as fh:
            header = next(csv.reader(fh), None)
    except UnicodeDecodeError as exc:
        raise _not_utf8(exc, path) from None
    except csv.Error as exc:
        raise InputError(f"unreadable CSV header ({exc})", str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", str(path)) from None
    if not header or all(not h.strip() for h in header):
        raise InputError("no header row (the first line must name the columns)", str(path))
    return [h or f"_unnamed_{i}" for i, h in enumerate(_normalise_header(h) for h in header)]


def _check_header(header: list[str], path: Path, required: tuple[str, ...] = REQUIRED_COLUMNS) -> None:
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise InputError(f"duplicate column(s) in header: {', '.join(dupes)}", str(path))
    missing = [c for c in required if c not in header]
    if missing:
        found = ", ".join(h for h in header if not h.startswith("_unnamed_"))
        hint = ""
        if required == REQUIRED_COLUMNS and {"claim_id", "line_number"} <= set(header) and set(header) & set(
                RECORD_COLUMNS):
            hint = "; if this is an administration records file, pass it with --records"
        raise InputError(f"missing required column(s): {', '.join(missing)} (found: {found}){hint}", str(path))


def _raise_if_not_utf8(exc: Exception, path: Path) -> None:
    """Polars' UTF-8 complaint is a file-level problem; its other complaints go to the slow path."""
    text = str(exc).lower()
    if "utf-8" in text or "utf8" in text:
        raise InputError("not UTF-8 text; export the file as CSV UTF-8", str(path)) from None


def _cr_only(path: Path) -> bool:
    """Old Mac line endings: CR but no LF in the first block. Polars would see one giant line."""
    with path.open("rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    return b"\r" in head and b"\n" not in head


def _scan(path: Path, header: list[str]) -> pl.LazyFrame:
    """Fast path: Polars reads every cell as text, numbering rows as a spreadsheet does."""
    return pl.scan_csv(
        path,
        has_header=True,
        new_columns=header,
        infer_schema=False,
        encoding="utf8",
        raise_if_empty=False,
        row_index_name="source_row",
        row_index_offset=2,
    )


def _slow_batches(path: Path, header: list[str]) -> Iterator[pl.DataFrame]:
    """Row-by-row read with the csv module, yielded as text frames of at most ``_BATCH_ROWS`` rows.

    Each frame has the header's columns, ``source_row`` and ``load_error``: a row with more cells
    than the header is kept as a row that carries its reason, so it is reported where it stands.
    """
    width = len(header)
    ident = {header.index(c) for c in ("claim_id", "line_number") if c in header}
    schema = {**dict.fromkeys(header, pl.String()), "source_row": pl.Int64(), "load_error": pl.String()}
    rows: list[list[str | int | None]] = []
    record_lines: list[str] = []  # physical lines of the record being read, to diagnose the last one

    def tap(fh: Iterator[str]) -> Iterator[str]:
        for line in fh:
            record_lines.append(line)
            yield line

    try:
        with path.open("r", encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(tap(fh), strict=False)
            next(reader, None)
            number = 1
            last_text = ""
            while True:
                record_lines.clear()
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
                        # The row is rejected whole; only its claim id and line number are kept, so
                        # the rejection names the line (other cells may be shifted by a stray comma).
                        cells = [c if i in ident else "" for i, c in enumerate(cells[:width])] if error else []
                number += 1
                last_text = "".join(record_lines)
                if len(rows) >= _BATCH_ROWS:
                    yield pl.DataFrame(rows, schema=schema, orient="row")
                    rows = []
                padded = [c if c != "" else None for c in cells] + [None] * (width - len(cells))
                rows.append([*padded, number, error])
    except UnicodeDecodeError as exc:
        raise _not_utf8(exc, path) from None
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", str(path)) from None
    if rows and rows[-1][-1] is None and _ends_inside_quotes(last_text):
        lines = last_text.count("\n") + last_text.count("\r") - last_text.count("\r\n")
        rows[-1] = [*([None] * width), number, (
            f"a quoted cell is never closed: this row runs over the last {lines} line(s) of the file, "
            "swallowing any rows in them; close the quote")]
    yield pl.DataFrame(rows, schema=schema, orient="row")


def _ends_inside_quotes(record_text: str) -> bool:
    """Whether the file's last record is cut off inside a quoted cell (lenient csv says nothing)."""
    try:
        for _ in csv.reader(io.StringIO(record_text, newline=""), strict=True):
            pass
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False


def _slow_read(path: Path, header: list[str]) -> pl.DataFrame:
    return pl.concat(list(_slow_batches(path, header)), rechunk=False)


class FastPathRefused(Exception):  # a signal between loader and engine, never shown to a user
    """Polars refused the file part-way (ragged rows, odd quoting): read it again with :mod:`csv`."""


_FAST_BATCH_ROWS = 1_000_000  # rows of text typed at a time (~400 MB): 20M lines never sit in memory as text


def open_csv(path: Path) -> tuple[list[str], bool]:
    """The normalised header of a claims CSV (file-level problems raise InputError) and whether the
    fast reader can take the file (it cannot read old Mac CR-only line endings)."""
    header = read_header(path)
    _check_header(header, path)
    return header, not _cr_only(path)


def fast_batches(path: Path, header: list[str], first_row_id: int) -> Iterator[pl.DataFrame]:
    """Raw batches (RAW_SCHEMA + ``load_error``) read by Polars, ``row_id`` from ``first_row_id``.

    Every column of the file is parsed (nothing is projected away), so a ragged row or bad quoting
    anywhere stops the read: then :class:`FastPathRefused` is raised, possibly after some batches,
    and the caller reads the file again with :func:`slow_batches`.
    """
    next_id = first_row_id
    try:
        for chunk in _scan(path, header).collect_batches(chunk_size=_FAST_BATCH_ROWS):
            raw = to_raw_frame(_drop_blank_rows(chunk, header), str(path), next_id)
            next_id += raw.height
            yield raw
    except pl.exceptions.PolarsError as exc:  # ragged rows, odd quoting, a header Polars splits otherwise
        _raise_if_not_utf8(exc, path)
        raise FastPathRefused(str(exc)) from None
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", str(path)) from None


def slow_batches(path: Path, header: list[str], first_row_id: int) -> Iterator[pl.DataFrame]:
    """Raw batches read row by row with :mod:`csv` (see :func:`_slow_batches`)."""
    next_id = first_row_id
    for chunk in _slow_batches(path, header):
        raw = to_raw_frame(_drop_blank_rows(chunk, header), str(path), next_id)
        next_id += raw.height
        yield raw


def _blank(header: list[str]) -> pl.Expr:
    """A row whose every cell is empty or whitespace (trailing blank lines, spacer rows)."""
    return pl.all_horizontal(pl.col(header).str.strip_chars().str.len_bytes().fill_null(0) == 0)


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
    """:func:`to_raw` of one eager batch."""
    return to_raw(frame.lazy(), source, first_row_id).collect(engine="in-memory")


def to_raw(lf: pl.LazyFrame, source: str | pl.Expr, first_row_id: int) -> pl.LazyFrame:
    """Map CSV-shaped columns (modifier_1..4, diagnosis_1..4) onto the raw canonical frame.

    Extra unknown columns are read but not carried on: checks never look at them. ``source`` is
    the file name, or an expression for frames that hold several (tests build batches that way).
    """
    cols = set(lf.collect_schema().names())

    def listed(names: tuple[str, ...], combined: str) -> pl.Expr:
        items = [pl.col(n) for n in names if n in cols]
        if combined in cols:  # an extension: one cell such as "JW KX" or "D80.0,G61.81"
            items.append(pl.col(combined).str.extract_all(r"[^,; ]+"))
        if not items:
            return pl.lit([], pl.List(pl.String()))
        if combined in cols:
            return pl.concat_list(items).list.eval(pl.element().filter(pl.element().is_not_null()))
        # concat_list + list.drop_nulls costs 15x this on 2M rows. The unit separator (0x1F) does
        # not occur in claim text; a cell that did hold one would fail the code format check.
        joined = pl.concat_str(items, separator="\x1f", ignore_nulls=True)
        any_value = pl.any_horizontal(item.is_not_null() for item in items)
        return pl.when(any_value).then(joined.str.split("\x1f")).otherwise(pl.lit([], pl.List(pl.String())))

    wanted = [pl.col(c) if c in cols else pl.lit(None, pl.String()).alias(c) for c in SCALAR_COLUMNS]
    load_error = pl.col("load_error") if "load_error" in cols else pl.lit(None, pl.String()).alias("load_error")
    raw = lf.with_row_index("_index").select(
        (pl.col("_index").cast(pl.Int64) + first_row_id).alias("row_id"),
        (pl.lit(source) if isinstance(source, str) else source).alias("source"),
        pl.col("source_row").cast(pl.Int64),
        pl.lit(None, pl.String()).alias("source_location"),  # "row {source_row}", see schema.location()
        *wanted,
        listed(MODIFIER_COLUMNS, "modifiers").alias("modifiers"),
        listed(DIAGNOSIS_COLUMNS, "diagnoses").alias("diagnoses"),
        load_error,
    )
    return raw.select(*RAW_SCHEMA, "load_error")


def read_text_table(path: Path, required: tuple[str, ...] = ()) -> pl.DataFrame:
    """Read a small CSV of text (records files) with ``source_row``; raises InputError on ragged rows."""
    header = read_header(path)
    _check_header(header, path, required)
    if not _cr_only(path):
        try:
            return _scan(path, header).collect()
        except pl.exceptions.PolarsError as exc:
            _raise_if_not_utf8(exc, path)
        except OSError as exc:
            raise InputError(f"cannot read file ({exc.strerror})", str(path)) from None
    frame = _slow_read(path, header)
    bad = frame.filter(pl.col("load_error").is_not_null())
    if bad.height:
        row, reason = bad.row(0, named=False)[-2:]
        raise InputError(f"row {row}: {reason}", str(path))
    return frame.drop("load_error")
