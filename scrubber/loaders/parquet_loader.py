"""Read claim lines from Parquet (a lakehouse extract) into the raw frame.

Parquet carries types, the raw frame is text: every value is turned into the text a CSV export
of it would hold, and :mod:`scrubber.canonical` types it exactly as it types a CSV. So a Parquet
file and the CSV of the same claims give the same lines, the same rejections and the same findings.

* Column names are matched as CSV headers are (trimmed, lower case, spaces as ``_``); the same
  columns are required (FORMATS.md). Modifiers and diagnoses are either the CSV's
  ``modifier_1..4`` / ``diagnosis_1..4`` columns or list columns ``modifiers`` / ``diagnoses``
  (as a lakehouse table usually holds them), or both (a code given by both is read once).
* Dates are written ``YYYY-MM-DD`` (so is a timestamp at midnight in ``date_of_service``, as pandas
  stores a date column); timestamps ``YYYY-MM-DDTHH:MM:SS`` in wall-clock time (a
  timestamp with a time zone: the time in its zone, or in ``time_zone`` when given: the Spark
  engine passes the session time zone, which is what Spark reads such a column as; where a file
  stores its timestamps in several zones, all in one, the infusion start's: :func:`_one_zone`); numbers as
  Polars writes them (``3``, ``3.0``, ``1e-07``), so a whole-number line number stored as a
  double still reads as that line.
* Rows are numbered from 1 (``source_row``: "row 1" is the first row of the file, as a Parquet
  viewer counts them); a row whose every value is empty is skipped, as a blank CSV row is, and
  keeps its number.

:func:`raw_from_typed` is the one conversion: the local loader calls it per batch of a file, and
the Spark engine (:mod:`scrubber.spark`) per partition of a Spark DataFrame, so both engines see the
same raw text.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from scrubber.errors import InputError
from scrubber.loaders.csv_loader import (
    CLAIM_COLUMNS,
    DIAGNOSIS_COLUMNS,
    MODIFIER_COLUMNS,
    _check_header,
    _normalise_header,
    ignored_notices,
    to_raw,
)
from scrubber.schema import NDC_DIGITS, RAW_SCHEMA

LIST_COLUMNS = {"modifiers": MODIFIER_COLUMNS, "diagnoses": DIAGNOSIS_COLUMNS}
_KNOWN = CLAIM_COLUMNS | frozenset(LIST_COLUMNS)  # the columns read; any other is kept as _extra_N
_BATCH_ROWS = 1_000_000  # rows typed at a time
_DATE_FMT = "%Y-%m-%d"
_DATETIME_FMT = "%Y-%m-%dT%H:%M:%S"


def normalised_names(names: list[str]) -> list[str]:
    """Column names as a CSV header is normalised (``Claim ID`` is ``claim_id``)."""
    return [_normalise_header(n) or f"_unnamed_{i}" for i, n in enumerate(names)]


def check_columns(names: list[str], source: str) -> None:
    """File-level problems of the (normalised) column names: duplicates, missing required columns."""
    _check_header(names, Path(source))


# Columns that hold a date, no time: a timestamp there at midnight is that date (pandas and many
# lakehouse writers store a date column as a timestamp); one with a time of day is written in full
# and rejected like the same text in a CSV.
_DATE_ONLY = frozenset(("date_of_service",))


def _text(expr: pl.Expr, dtype: pl.DataType, time_zone: str | None, date_only: bool = False) -> pl.Expr:
    """One value as the text a CSV export would hold (null stays null)."""
    if dtype == pl.String():
        return expr
    if dtype == pl.Date():
        return expr.dt.strftime(_DATE_FMT)
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is not None:
            if time_zone is not None and not date_only:  # (a zoned midnight is the date in its own zone)
                expr = expr.dt.convert_time_zone(time_zone)
            expr = expr.dt.replace_time_zone(None)
        if date_only:
            midnight = expr.dt.truncate("1d") == expr
            return pl.when(midnight).then(expr.dt.strftime(_DATE_FMT)).otherwise(expr.dt.strftime(_DATETIME_FMT))
        return expr.dt.strftime(_DATETIME_FMT)
    if isinstance(dtype, pl.Binary):
        return expr.cast(pl.String, strict=False)
    if dtype in (pl.Float32(), pl.Float64()):
        # A whole number stored as a float (pandas writes an integer column holding a null so) is the
        # text a CSV holds, "1001", not "1001.0": a claim or member id read "1001.0" matched no records row
        # and split the member's encounters from a CSV's (probe 26C D8), as the JSON reader reads it.
        # (below the float's exact integer range only: a 32-bit float holds 7 digits, and 944270005
        # stored so reads back 944270016, another code, review 23G)
        exact = 2.0 ** 53 if dtype == pl.Float64() else 2.0 ** 24
        whole = expr.is_finite() & (expr == expr.floor()) & (expr.abs() < exact)
        return pl.when(whole).then(expr.cast(pl.Int64, strict=False).cast(pl.String)).otherwise(expr.cast(pl.String))
    return expr.cast(pl.String)


def _list_text(expr: pl.Expr, dtype: pl.DataType, time_zone: str | None) -> pl.Expr:
    inner = dtype.inner if isinstance(dtype, pl.List | pl.Array) else pl.String()
    if isinstance(dtype, pl.Array):
        expr = expr.arr.to_list()
    if inner != pl.String():
        expr = expr.list.eval(_text(pl.element(), inner, time_zone))
    return expr


def not_a_code_list(name: str, holds: str) -> str:
    """The error of a ``modifiers`` / ``diagnoses`` column that is no list of codes (``holds``: its type
    as the reader names it), for the local reader and the Spark engine alike."""
    numbered = LIST_COLUMNS[name]
    return (f"column {name} holds {holds}; expected a list of codes (or the columns {numbered[0]}.."
            f"{len(numbered)}, one code each)")


def _one_zone(schema: pl.Schema) -> str | None:
    """The zone every time-zone-aware timestamp of a file is written in when they are stored in several
    zones: the infusion start's, else the first's (a start stored in New York time and its stop in UTC
    read each in its own zone made 09:00-16:45 of 09:00-11:45, 465 minutes for 165, probe 27C D1; the
    Spark engine reads both in its session zone). ``None`` where they share one zone (or there are
    none): each is then read in its own, the file's wall-clock time. A date column (``date_of_service``,
    a zoned midnight) is left out: it is a date in its own zone."""
    zones = {name: dtype.time_zone for name, dtype in schema.items()
             if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None and name not in _DATE_ONLY
             and name in _KNOWN}
    if len(set(zones.values())) < 2:
        return None
    return zones.get("infusion_start") or next(iter(zones.values()))


def typed_to_text(frame: pl.DataFrame, time_zone: str | None = None, keep: tuple[str, ...] = (),
                  source: str = "input") -> pl.DataFrame:
    """Claim-line columns of any type as the text a CSV export would hold.

    Scalar columns become text; ``modifiers`` / ``diagnoses`` list columns become lists of text,
    named ``_list_modifiers`` / ``_list_diagnoses``; a nested claims column (a list in ``modifier_1``:
    read as nothing, a JZ was lost without a word, probe 22B) is an :class:`InputError`; other nested
    columns are extras checks never read and are left out. The
    ``keep`` columns (provenance) pass through as they are.
    """
    texts: list[pl.Expr] = []
    lists: list[pl.Expr] = []
    if time_zone is None:
        time_zone = _one_zone(frame.schema)
    for name, dtype in frame.schema.items():
        if name in keep:
            continue
        nested = isinstance(dtype, pl.List | pl.Array | pl.Struct | pl.Object)
        if name in LIST_COLUMNS and isinstance(dtype, pl.List | pl.Array):
            lists.append(_list_text(pl.col(name), dtype, time_zone).alias(f"_list_{name}"))
        elif nested:
            # (modifier_1..4 and diagnosis_1..4 too: a list in modifier_1 was left out without a word)
            if name in RAW_SCHEMA or name in CLAIM_COLUMNS:
                raise InputError(f"column {name} holds {dtype}; expected a single value per row", source)
        elif name in _DIGITS and dtype.is_numeric() and dtype != pl.Float32():
            # (not a 32-bit float: it holds 7 digits exactly, an 11-digit code read from one is another
            # code, review 23G; left as its text, it is rejected)
            texts.append(_digits(pl.col(name), _DIGITS[name]).alias(name))
        else:
            texts.append(_text(pl.col(name), dtype, time_zone, date_only=name in _DATE_ONLY).alias(name))
    return frame.select(*keep, *texts, *lists)


# Codes of fixed width whose leading zeros are part of the code (FORMATS.md: an 11-digit NDC): a writer
# that typed the column as integers (``polars.read_csv(...).write_parquet()`` infers NDCs as numbers)
# dropped them, and the number can only stand for the code of that width (probe 23B: every drug line
# of such a file was rejected "ndc must be 11 digits (ndc = '944270005')"). POS and revenue codes
# get their zero back from the normalisation every loader shares (``scrubber.canonical``).
_DIGITS = {"ndc": NDC_DIGITS}


def _digits(expr: pl.Expr, width: int) -> pl.Expr:
    """A numeric code as its text of ``width`` digits (pandas writes an NDC column with blanks as
    floats: 944270005.0, review 23E); a negative, fractional or wider number as it is (rejected)."""
    whole = (expr >= 0) & (expr == expr.floor()) & (expr < 10**width)
    return pl.when(whole).then(expr.cast(pl.UInt64, strict=False).cast(pl.String).str.zfill(width)).otherwise(
        expr.cast(pl.String))


def blank_rows(text: pl.DataFrame, keep: tuple[str, ...] = ()) -> pl.Series:
    """Rows whose every value is empty or whitespace (lists: empty), as a blank CSV row."""
    tests = [pl.col(c).str.strip_chars().str.len_bytes().fill_null(0) == 0 if dtype == pl.String()
             else pl.col(c).list.len().fill_null(0) == 0
             for c, dtype in text.schema.items() if c not in keep]
    return text.select(pl.all_horizontal(tests) if tests else pl.repeat(True, text.height)).to_series()


def raw_of_text(text: pl.DataFrame, source: str | pl.Expr, first_row_id: int) -> pl.DataFrame:
    """The raw frame (:data:`scrubber.schema.RAW_SCHEMA` + ``load_error``) of :func:`typed_to_text`'s
    output with a ``source_row`` column; ``row_id`` counts from ``first_row_id``."""
    list_cols = [c for c in text.columns if c.startswith("_list_")]
    raw = to_raw(text.drop(list_cols).lazy(), source, first_row_id).collect(engine="in-memory")
    if not list_cols:
        return raw
    # A list column adds its elements after those of the CSV-style columns (modifier_1..4), each code
    # once: a file giving both forms of one line's modifiers read "GY, GY" (probe 27C D8).
    extra = text.select(
        pl.concat_list(pl.lit(raw.get_column(c.removeprefix("_list_"))),
                       pl.col(c).fill_null(pl.lit([], pl.List(pl.String))))
        .list.eval(pl.element().filter(pl.element().is_not_null())).list.unique(maintain_order=True)
        .alias(c.removeprefix("_list_"))
        for c in list_cols
    )
    return raw.with_columns(extra.get_columns())


def raw_from_typed(frame: pl.DataFrame, source: str, first_row_id: int, time_zone: str | None = None) -> pl.DataFrame:
    """The raw frame of one batch of a file: typed columns named as FORMATS.md names them, and
    ``source_row`` (else rows count from 1); blank rows dropped after numbering, ``row_id`` counting
    the rows kept."""
    if "source_row" not in frame.columns:
        frame = frame.with_row_index("source_row", offset=1).with_columns(pl.col("source_row").cast(pl.Int64))
    text = typed_to_text(frame, time_zone, keep=("source_row",), source=source)
    blank = blank_rows(text, keep=("source_row",))
    if blank.any():
        text = text.filter(~blank)
    return raw_of_text(text, source, first_row_id)


def _named(source: str | pl.Expr) -> str:
    return source if isinstance(source, str) else "input"


def _scan(path: Path) -> tuple[pl.LazyFrame, list[str]]:
    """The file's columns renamed as FORMATS.md names them; file-level problems raise InputError."""
    try:
        lf = pl.scan_parquet(path, glob=False)  # a file name is a name, not a pattern
        names = lf.collect_schema().names()
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputError(f"unreadable Parquet file ({_first_line(exc)})", str(path)) from None
    normalised = normalised_names(names)
    check_columns(normalised, str(path))
    for name, dtype in zip(normalised, lf.collect_schema().dtypes(), strict=True):
        if name in LIST_COLUMNS and not isinstance(dtype, pl.List | pl.Array):
            # A text "modifiers" column ("JZ") read as no modifiers gave a false "neither JZ nor JW"
            # (probe 22B): a list column holds one code per element, else the numbered columns do.
            raise InputError(not_a_code_list(name, str(dtype)), str(path))
    _mixed_zones(dict(zip(normalised, lf.collect_schema().dtypes(), strict=True)), str(path))
    # A column named like one the loader adds (load_error, source_row, row_id, source) or any other
    # unknown column is not read, as in a CSV: kept under a name of its own, with a notice.
    read_as = [n if n in _KNOWN else f"_extra_{i}" for i, n in enumerate(normalised)]
    return lf.rename(dict(zip(names, read_as, strict=True))), read_as


def _mixed_zones(dtypes: dict[str, pl.DataType], source: str) -> None:
    """Refuse a file whose timestamps are some with a time zone and some without (a pipeline that
    localised one column): which zone the naive one was written in cannot be told, so no infusion's
    minutes can be (probe 28C D3: a New York wall-clock start beside its UTC stop read 09:00-16:45 for
    09:00-11:45, 100 findings for 44, without a word). Several zones are read in one
    (:func:`_one_zone`); none, the file's wall-clock time. A date column is a date in its own zone."""
    # (the columns read: a naive "exported_at" beside zoned times refused a file whose times agree,
    # review 28E D3)
    stamps = {name: dtype.time_zone for name, dtype in dtypes.items()
              if isinstance(dtype, pl.Datetime) and name not in _DATE_ONLY and name in _KNOWN}
    naive = [name for name, zone in stamps.items() if zone is None]
    zoned = [f"{name} in {zone}" for name, zone in stamps.items() if zone is not None]
    if naive and zoned:
        raise InputError(f"{', '.join(naive)} stored without a time zone beside {', '.join(zoned)}: the zone the "
                         "first was written in cannot be told, so no infusion's minutes can; write every timestamp "
                         "in one zone, or all without one", source)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def open_parquet(path: Path) -> tuple[pl.LazyFrame, list[str]]:
    """Open a Parquet file and check its columns (before any row is read)."""
    return _scan(path)


def row_count(path: Path) -> int:
    """The rows the file holds, from its metadata."""
    return int(pl.scan_parquet(path, glob=False).select(pl.len()).collect().item())


def column_notices(path: Path) -> list[str]:
    """A notice per column named like something the loader adds: not read (as in a CSV)."""
    names = normalised_names(pl.scan_parquet(path, glob=False).collect_schema().names())
    return ignored_notices(names, _KNOWN)


def batches(path: Path, lf: pl.LazyFrame, first_row_id: int) -> Iterator[pl.DataFrame]:
    """Raw batches of the file, ``row_id`` from ``first_row_id``; ``source_row`` counts from 1."""
    next_id = first_row_id
    try:
        for chunk in lf.with_row_index("source_row", offset=1).collect_batches(chunk_size=_BATCH_ROWS):
            raw = raw_from_typed(chunk.with_columns(pl.col("source_row").cast(pl.Int64)), str(path), next_id)
            next_id += raw.height
            yield raw
    except pl.exceptions.PolarsError as exc:
        raise InputError(f"unreadable Parquet file ({_first_line(exc)})", str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", str(path)) from None
