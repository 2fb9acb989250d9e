"""Administration records (``--records``): documentation joined onto claim lines from any format.

An 837 carries no infusion times, observation minutes or dose/waste documentation; the EHR does.
A records file (CSV, JSON list, ``{"records": [...]}`` or JSON Lines) holds ``claim_id``,
``line_number`` and any of the documentation columns of FORMATS.md. Record values fill and
override the claim line's documentation (the record is the documentation's source of truth).
Records that match no claim line, or repeat a key, are reported, never dropped silently.

A problem in the records file is the records file's (issue 12): a value that does not parse or
breaks its rule (``infusion_start`` "soon", a negative dose) is reported with the records file's
row and is not used, so the claim line keeps its own documentation and is checked on what is
known; a ragged row is reported the same way and the other records still join. So is a column that
is not read but looks meant to be: a misspelled documentation column (``drug_dose``) or a claims
column (``units``), with the row that names it (the header, row 1).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from scrubber.errors import InputError, display_name, undecodable_byte
from scrubber.loaders import sniff_format
from scrubber.loaders.csv_loader import CLAIM_COLUMNS, ignored_notices, read_header, read_text_table
from scrubber.loaders.json_loader import (
    NOT_UTF8,
    REPEATED_KEYS,
    BrokenLine,
    has_lone_surrogate,
    json_lines,
    looks_like_json_lines,
    mark_repeated_keys,
    whole_number,
)
from scrubber.schema import RECORD_COLUMNS

KEY = ("claim_id", "line_number")
READ_COLUMNS = frozenset((*KEY, *RECORD_COLUMNS))  # what a records file gives; any other column is not read
UNMATCHED_REASON = "record matches no claim line"  # (the terminal counts these apart from other problems)
# A record whose claim line was read but rejected: nothing of it reached a check (probe 23H B3).
REJECTED_LINE_REASON = "the claim line it documents was rejected (see rejected_rows): the record is not used"
UNMATCHED_SCHEMA = {"source": pl.String(), "row": pl.Int64(), "claim_id": pl.String(),
                    "line_number": pl.String(), "reason": pl.String()}


@dataclass
class Records:
    """A records file, read: one row per record, keys normalised, documentation as text."""

    frame: pl.DataFrame  # claim_id, line_number (text, normalised), documentation columns as text
    source: str
    # Rows or values of the file that are not used, with the reason (UNMATCHED_SCHEMA).
    problems: pl.DataFrame | None = None
    # Columns that are not read but look meant to be (input warnings, as a claims file's columns are).
    notices: list[str] = field(default_factory=list)
    # Data rows read (usable or not): the summary's ``records_read``, so that every record row is
    # visibly accounted for beside ``unmatched_records`` (probe 23H B3).
    rows_read: int = 0


def _normalise_key(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Key spelling shared by claims and records: trimmed id; line "01", "1.0" and "+1" are line 1."""
    return frame.with_columns(
        pl.col("claim_id").cast(pl.String).str.strip_chars(),
        pl.col("line_number").cast(pl.String).str.strip_chars().str.replace(r"^\+?0*([0-9]+)(\.0*)?$", "${1}"),
    )


def _item_problem(item: Any) -> str | None:
    """Why one record of a records JSON cannot be used, or None: it is reported alone (as a CSV row is)."""
    if isinstance(item, BrokenLine):
        return item.message
    if not isinstance(item, dict):
        kind = "null" if item is None else type(item).__name__
        return f"record is not an object ({kind})"
    if REPEATED_KEYS in item:
        return (f"record gives {', '.join(item[REPEATED_KEYS])} more than once (JSON readers disagree on which "
                "value counts): not used")
    return None


def _read_json_items(path: Path, path_text: str) -> list[tuple[int, Any]]:
    """``(row, record)`` of a records JSON: a list's items numbered from 1, a JSON Lines file's by
    their line in the file. A JSON Lines line that is not JSON is one record that cannot be used
    (a :class:`~scrubber.loaders.json_loader.BrokenLine`, reported with its line), never the end of
    the run: the other records still join, as a CSV records file's ragged row does."""
    try:
        # (a byte that is not UTF-8 kept as a lone surrogate: in JSON Lines only its line is not used,
        # as a claims file's line is rejected; probe 21B: one such byte stopped the run)
        text = path.read_bytes().decode("utf-8-sig", errors="surrogateescape")
    except OSError as exc:
        raise InputError(f"cannot read records file ({exc.strerror})", path_text) from None
    try:
        doc: Any = json.loads(text, object_pairs_hook=mark_repeated_keys, parse_int=whole_number)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data" or looks_like_json_lines(text, path_text):
            return _record_lines(text)
        raise InputError(f"invalid JSON ({exc.msg} at line {exc.lineno})", path_text) from None
    except RecursionError:
        if looks_like_json_lines(text, path_text):
            return _record_lines(text)
        raise InputError("invalid JSON (nested too deeply)", path_text) from None
    if byte := undecodable_byte(text):  # (one document is read whole: no record of it can be set apart)
        raise InputError(f"not UTF-8 text (byte {byte}); a JSON document is read whole, so export the file as "
                         "UTF-8 (in JSON Lines only the line holding it would not be used)", path_text)
    if isinstance(doc, dict) and "records" not in doc and any(k in doc for k in KEY):
        # JSON Lines of one record (a one-line file is one JSON document)
        return [(text[:len(text) - len(text.lstrip())].count("\n") + 1, doc)]
    items = doc.get("records") if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise InputError('records JSON must be a list of objects or {"records": [...]}', path_text)
    if "\\ud" in text.lower():  # a lone surrogate escape ("\ud800") is no character: that record is not used
        items = [BrokenLine(row, "a value holds an unpaired surrogate escape, which is not a character; not used")
                 if has_lone_surrogate(item) else item for row, item in enumerate(items, start=1)]
    return list(enumerate(items, start=1))


def _record_lines(text: str) -> list[tuple[int, Any]]:
    """:func:`~scrubber.loaders.json_loader.json_lines` for records: a line holding a byte that is not
    UTF-8 is a record that cannot be used (its values cannot be trusted), reported with its line."""
    return [(row, BrokenLine(row, item[NOT_UTF8] + "; not used") if isinstance(item, dict) and NOT_UTF8 in item
             else item) for row, item in json_lines(text)]


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def load_records(path_text: str) -> Records:
    """Read a records file; file-level problems raise :class:`InputError` naming the file."""
    path = Path(path_text)
    if path.is_dir():
        raise InputError("cannot read records file (a folder; name the records file in it)", path_text)
    if path.exists() and not path.is_file():
        # (a pipe or process substitution: read more than once here, probe 22B)
        raise InputError("cannot read records file (not a regular file: a pipe or device; save the records to a "
                         "file first)", path_text)
    if not path.is_file():
        raise InputError("no such records file", path_text)
    source = display_name(path_text)
    fmt = sniff_format(path)
    if fmt == "csv":
        frame = read_text_table(path, READ_COLUMNS, required=KEY)
        columns = {name: 1 for name in read_header(path)}  # the header is row 1
    elif fmt == "json":
        numbered = _read_json_items(path, path_text)
        items = [item for _, item in numbered]
        cols = [*KEY, *RECORD_COLUMNS]
        objects = [i if isinstance(i, dict) else {} for i in items]
        columns = {}  # each key at the first record that gives it
        for row, item in numbered:
            if isinstance(item, dict):
                for key in item:
                    if isinstance(key, str) and key != REPEATED_KEYS:
                        columns.setdefault(key, row)
        frame = pl.DataFrame(
            {"source_row": [row for row, _ in numbered], **{c: [_text(i.get(c)) for i in objects] for c in cols},
             "load_error": [_item_problem(i) for i in items]},
            schema={"source_row": pl.Int64(), **dict.fromkeys(cols, pl.String()), "load_error": pl.String()},
        )
    else:
        raise InputError("records must be CSV or JSON", path_text)
    missing = [c for c in KEY if c not in frame.columns]
    if missing:
        raise InputError(f"records file lacks column(s): {', '.join(missing)}", path_text)
    doc_cols = [c for c in RECORD_COLUMNS if c in frame.columns]
    if not doc_cols:
        raise InputError(f"records file has none of the documentation columns ({', '.join(RECORD_COLUMNS)})",
                         path_text)
    frame = _normalise_key(frame.lazy().select("source_row", *KEY, *doc_cols, "load_error").with_columns(
        pl.col("source_row").cast(pl.Int64))).collect()
    rows_read = frame.height
    unreadable = frame.filter(pl.col("load_error").is_not_null())
    frame = frame.filter(pl.col("load_error").is_null()).drop("load_error")
    bad = _bad_values(frame, doc_cols)
    if bad.height:  # a value that cannot be taken is not used: the claim line keeps its own
        nulls = bad.group_by("_i").agg(pl.col("column"))
        marks = frame.with_row_index("_i").join(nulls, on="_i", how="left", maintain_order="left").get_column("column")
        frame = frame.with_columns(
            pl.when(marks.list.contains(c).fill_null(False)).then(None).otherwise(pl.col(c)).alias(c)
            for c in doc_cols)
    problems = pl.concat([
        unreadable.select(pl.lit(source).alias("source"), pl.col("source_row").alias("row"), *KEY,
                          pl.col("load_error").alias("reason")),
        bad.join(frame.with_row_index("_i").select("_i", "source_row", *KEY), on="_i").group_by(
            "_i", maintain_order=True).agg(pl.col("source_row").first().alias("row"), *[pl.col(k).first() for k in KEY],
                                           pl.col("reason").str.join("; ")).select(
            pl.lit(source).alias("source"), "row", *KEY,
            (pl.col("reason") + pl.lit("; the value is not used")).alias("reason")),
    ]).cast(UNMATCHED_SCHEMA)
    return Records(frame=frame, source=source, problems=problems, notices=_column_notices(columns),
                   rows_read=rows_read)


def _column_notices(columns: dict[str, int]) -> list[str]:
    """The records file's columns that are not read but look meant to be: a misspelled documentation
    column (``drug_dose``), worded as a claims file's (:func:`~scrubber.loaders.csv_loader.ignored_notices`),
    and a claims column that is no documentation column (``units``): records carry only the documentation
    columns (FORMATS.md). Read as absent, either would change findings without a word. Other columns
    (an EHR's own) are ignored, as in a claims file. ``columns``: name -> the row that names it (a CSV's
    header, row 1; a JSON file's first record with the key)."""
    out: list[str] = []
    for name, row in columns.items():
        where = "" if row == 1 else f" (first in record {row})"
        if name in CLAIM_COLUMNS and name not in READ_COLUMNS:
            out.append(f"column '{name}'{where} is not a documentation column and is not read (records give "
                       f"claim_id, line_number and {', '.join(RECORD_COLUMNS)})")
        else:
            out.extend(n.replace(f"column '{name}'", f"column '{name}'{where}", 1)
                       for n in ignored_notices([name], READ_COLUMNS, kind="records"))
    return out


def _bad_values(frame: pl.DataFrame, doc_cols: list[str]) -> pl.DataFrame:
    """``(_i, column, reason)`` for each documentation value that does not parse or breaks its rule."""
    from scrubber.canonical import value_problems

    return value_problems(frame, doc_cols)


class RecordJoin:
    """Joins a records file onto raw claim batches, one batch at a time, and remembers which record
    keys found a claim line, so that records matching none can be reported at the end."""

    def __init__(self, records: Records) -> None:
        rec = records.frame
        self.source = records.source
        self.doc_cols = [c for c in RECORD_COLUMNS if c in rec.columns]
        self.records, self.duplicates = _one_record_per_line(rec, self.doc_cols)
        self.renamed = self.records.rename({c: f"_rec_{c}" for c in self.doc_cols}).drop("source_row")
        self.matched: list[pl.DataFrame] = []
        self.file_problems = records.problems if records.problems is not None else empty_problems()

    def apply(self, raw: pl.DataFrame) -> pl.DataFrame:
        """``raw`` with each matching record's documentation filling and overriding the line's."""
        keys = _normalise_key(raw.lazy().select("row_id", *KEY)).collect()
        joined = keys.join(self.renamed, on=list(KEY), how="inner")
        if joined.height == 0:
            return raw
        self.matched.append(joined.select("row_id", *KEY))
        return (
            raw.join(joined.drop(*KEY), on="row_id", how="left", maintain_order="left")
            .with_columns(pl.coalesce(f"_rec_{c}", c).alias(c) for c in self.doc_cols)
            .drop(f"_rec_{c}" for c in self.doc_cols)
        )

    def problems(self, checked: pl.Series | None = None) -> pl.DataFrame:
        """Records that matched no claim line, records whose claim lines were all rejected (``checked``:
        the row ids of the lines checked; a record of a rejected row is used by nothing, and saying
        nothing left it unaccounted for: probe 23H B3), and repeated record keys (used once when they
        agree, not at all when they disagree)."""
        matched = (pl.concat(self.matched) if self.matched
                   else pl.DataFrame(schema={"row_id": pl.Int64(), **dict.fromkeys(KEY, pl.String())}))
        unmatched = self.records.join(matched, on=list(KEY), how="anti")
        if checked is None:
            unused = self.records.clear()
        else:
            used = matched.filter(pl.col("row_id").is_in(checked.implode()))
            unused = self.records.join(matched, on=list(KEY), how="semi").join(used, on=list(KEY), how="anti")

        def listed(frame: pl.DataFrame, reason: str) -> pl.DataFrame:
            return frame.select(pl.lit(self.source).alias("source"), pl.col("source_row").alias("row"), *KEY,
                                pl.lit(reason).alias("reason"))

        return pl.concat(
            [
                self.file_problems,
                listed(unmatched, UNMATCHED_REASON),
                listed(unused, REJECTED_LINE_REASON),
                self.duplicates.select(pl.lit(self.source).alias("source"), pl.col("source_row").alias("row"), *KEY,
                                       "reason"),
            ]
        ).cast(UNMATCHED_SCHEMA).sort("row", "reason")


def _one_record_per_line(rec: pl.DataFrame, doc_cols: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The records to join, one per claim line, and the repeated ones with their ``reason``. Rows of one
    claim line that agree (a value one leaves out is no difference) are one record, their values
    together; rows that disagree are none: which one the file lists first must not decide the
    findings (the claims' own rule for a line given twice), so the line keeps its own documentation."""
    repeated = pl.len().over(*KEY) > 1
    if not rec.select(repeated.any()).item():
        return rec, rec.clear().with_columns(pl.lit(None, pl.String()).alias("reason"))
    many = rec.filter(repeated)
    # (compared as values, not as spellings: "35000" and "35000.0", "IV" and "iv" agree, probe 23H)
    from scrubber.canonical import comparable_values

    differs = comparable_values(many, doc_cols).group_by(list(KEY)).agg(
        pl.concat_list([pl.when(pl.col(c).drop_nulls().n_unique() > 1).then(pl.lit(c)) for c in doc_cols]
                       ).list.drop_nulls().list.join(", ").alias("_differs"),
        # (values one row gives and another leaves empty: combined, and the message says which)
        pl.concat_list([pl.when(pl.col(c).is_null().any() & pl.col(c).is_not_null().any()).then(pl.lit(c))
                        for c in doc_cols]).list.drop_nulls().list.join(", ").alias("_combined"))
    many = many.join(differs, on=list(KEY), how="left")
    conflicting = many.filter(pl.col("_differs") != "")
    agreeing = many.filter(pl.col("_differs") == "")
    merged = agreeing.group_by(list(KEY), maintain_order=True).agg(
        pl.col("source_row").min(), *[pl.col(c).drop_nulls().first() for c in doc_cols])
    records = pl.concat([rec.filter(~repeated), merged.select(rec.columns)]).sort("source_row")
    duplicates = pl.concat([
        agreeing.filter(pl.int_range(pl.len()).over(*KEY) > 0).with_columns(
            pl.when(pl.col("_combined") == "").then(
                pl.lit("duplicate record for this claim line (the same values): used once"))
            .otherwise(pl.format("repeated record for this claim line (no value disagrees; {} taken from the row "
                                 "that gives it): used once, combined", "_combined")).alias("reason")),
        conflicting.with_columns(pl.format("records for this claim line disagree on {}: none is used (the line "
                                           "keeps its own documentation)", "_differs").alias("reason")),
    ]).drop("_differs", "_combined")
    return records, duplicates


def empty_problems() -> pl.DataFrame:
    return pl.DataFrame(schema=UNMATCHED_SCHEMA)
