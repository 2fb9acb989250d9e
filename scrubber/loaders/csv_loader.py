"""Read the 837-like claim-line CSV of FORMATS.md into the raw frame.

Rows are counted as a person sees them in a spreadsheet: the header is row 1 and the first claim
line is row 2. A quoted cell that spans several physical lines is still one row.

Every cell is read as text; :mod:`scrubber.canonical` does the typing so that a bad value rejects
its row with a reason instead of failing the whole file.
"""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl

from scrubber.errors import InputError
from scrubber.schema import REQUIRED_COLUMNS, SCALAR_COLUMNS

MODIFIER_COLUMNS = tuple(f"modifier_{i}" for i in range(1, 5))
DIAGNOSIS_COLUMNS = tuple(f"diagnosis_{i}" for i in range(1, 5))


def _normalise_header(name: str) -> str:
    return name.strip().lstrip("\ufeff").strip().lower().replace(" ", "_")


def read_header(path: Path) -> list[str]:
    """The header row, normalised; raises :class:`InputError` when it cannot be read."""
    with path.open("r", encoding="utf-8-sig", newline="") as fh:
        try:
            header = next(csv.reader(fh), None)
        except UnicodeDecodeError as exc:
            raise InputError(
                f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}); "
                "export the file as UTF-8",
                str(path),
            ) from None
        except csv.Error as exc:
            raise InputError(f"unreadable CSV header ({exc})", str(path)) from None
    if not header or all(not h.strip() for h in header):
        raise InputError("no header row (the first line must name the columns)", str(path))
    return [_normalise_header(h) for h in header]


def _check_header(header: list[str], path: Path) -> None:
    dupes = sorted({h for h in header if header.count(h) > 1 and h})
    if dupes:
        raise InputError(f"duplicate column(s) in header: {', '.join(dupes)}", str(path))
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise InputError(
            f"missing required column(s): {', '.join(missing)} (found: {', '.join(h for h in header if h)})",
            str(path),
        )


def _scan(path: Path, header: list[str]) -> pl.DataFrame:
    """Fast path: Polars reads the whole file as text."""
    return pl.read_csv(
        path,
        has_header=True,
        new_columns=header,
        infer_schema=False,
        encoding="utf8",
        raise_if_empty=False,
    ).with_row_index("source_row", offset=2)


def _slow_read(path: Path, header: list[str]) -> tuple[pl.DataFrame, list[tuple[int, str]]]:
    """Row-by-row read used only when Polars refuses the file (ragged rows).

    Rows with more cells than the header are not guessed at: they are returned as rejections
    with their row number.
    """
    width = len(header)
    rows: list[list[str | None]] = []
    numbers: list[int] = []
    ragged: list[tuple[int, str]] = []
    with path.open("r", encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        next(reader, None)
        for number, cells in enumerate(reader, start=2):
            if len(cells) > width:
                ragged.append((number, f"row has {len(cells)} cells but the header names {width} columns"))
                continue
            cells = cells + [""] * (width - len(cells))
            rows.append([c if c != "" else None for c in cells])
            numbers.append(number)
    frame = pl.DataFrame(rows, schema=dict.fromkeys(header, pl.String()), orient="row")
    return frame.with_columns(pl.Series("source_row", numbers, dtype=pl.Int64)), ragged


def load_csv(path: Path, first_row_id: int) -> tuple[pl.DataFrame, list[tuple[int, str]]]:
    """Raw frame for one CSV file, plus rows rejected before parsing (row number, reason)."""
    header = read_header(path)
    header = [h or f"_unnamed_{i}" for i, h in enumerate(header)]
    _check_header(header, path)
    ragged: list[tuple[int, str]] = []
    try:
        frame = _scan(path, header)
    except pl.exceptions.ComputeError as exc:
        text = str(exc)
        if "invalid utf-8" in text.lower() or "utf8" in text.lower():
            raise InputError("not valid UTF-8 text; export the file as UTF-8", str(path)) from None
        frame, ragged = _slow_read(path, header)
    # A trailing blank line is not a claim line; a row with any cell filled in is.
    blank = pl.all_horizontal(pl.col(header).is_null() | (pl.col(header).str.strip_chars() == ""))
    frame = frame.filter(~blank)
    return to_raw(frame, str(path), first_row_id), ragged


def to_raw(frame: pl.DataFrame, source: str, first_row_id: int) -> pl.DataFrame:
    """Map CSV-shaped columns (modifier_1..4, diagnosis_1..4) onto the raw canonical frame."""
    cols = set(frame.columns)

    def listed(names: tuple[str, ...], combined: str) -> pl.Expr:
        items = [pl.col(n) for n in names if n in cols]
        if combined in cols:  # an extension: one cell such as "JW KX" or "D80.0,G61.81"
            items.append(pl.col(combined).str.extract_all(r"[^,; ]+"))
        if not items:
            return pl.lit([], pl.List(pl.String()))
        return pl.concat_list(items).list.drop_nulls()

    wanted = [c for c in SCALAR_COLUMNS if c in cols]
    raw = frame.select(
        pl.int_range(first_row_id, first_row_id + frame.height, dtype=pl.Int64).alias("row_id"),
        pl.lit(source).alias("source"),
        pl.col("source_row").cast(pl.Int64),
        pl.format("row {}", pl.col("source_row")).alias("source_location"),
        *[pl.col(c) for c in wanted],
        listed(MODIFIER_COLUMNS, "modifiers").alias("modifiers"),
        listed(DIAGNOSIS_COLUMNS, "diagnoses").alias("diagnoses"),
    )
    return raw


def read_text_table(path: Path) -> pl.DataFrame:
    """Read a small CSV of text (records files), with row numbers; used by --records."""
    header = read_header(path)
    try:
        return _scan(path, header)
    except pl.exceptions.ComputeError:
        frame, ragged = _slow_read(path, header)
        if ragged:
            row, reason = ragged[0]
            raise InputError(f"row {row}: {reason}", str(path)) from None
        return frame


