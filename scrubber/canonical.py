"""Turn a loader's raw text frame into the canonical typed frame, rejecting what does not fit.

All loaders hand over the same raw shape (:data:`scrubber.schema.RAW_SCHEMA`: text columns,
lists of text for modifiers and diagnoses, provenance, and an optional ``load_error`` a loader
already found). This module is the only place that:

* normalises text (trims, upper-cases codes, removes the dot from ICD-10 codes, pads POS);
* casts to the canonical types, turning every unparseable value into a reason;
* runs the pandera schema on the typed frame (values, not just types) and turns each failure case
  into a reason for its row;
* rejects duplicate ``claim_id`` + ``line_number`` rows and whole claims whose lines disagree on a
  claim-level field.

Every input row ends up in exactly one of the two returned frames: rows read = rows checked +
rows rejected.

Memory matters more than elegance here (a 20M-line file must fit in 24 GB with room for the
checks): the raw input is a lazy scan, read in streaming passes, and the typed frame is the one
full-size copy. Reasons are strings, and a string column costs 16 bytes a row even when null, so
reasons are only ever built for the rows that fail, never as full-height columns. The checked
lines are the typed frame itself, compacted column by column (rejected rows dropped, one
contiguous chunk per column, constant columns as literals).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import polars as pl

from scrubber.schema import (
    CLAIM_LEVEL_COLUMNS,
    DIAGNOSIS_RE,
    FIELDS,
    MODIFIER_RE,
    PROVENANCE,
    RAW_SCHEMA,
    pandera_schema,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandera.polars as pa

REJECTED_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),
    "row": pl.Int64(),
    "location": pl.String(),
    "claim_id": pl.String(),
    "line_number": pl.String(),
    "reason": pl.String(),
}
_LONG_SCHEMA: dict[str, pl.DataType] = {"row_id": pl.Int64(), "column": pl.String(), "reason": pl.String()}

_ROUTE_SYNONYMS = {
    "INTRAVENOUS": "IV",
    "IV PUSH": "PUSH",
    "IVP": "PUSH",
    "SUBCUTANEOUS": "SC",
    "SUBQ": "SC",
    "SQ": "SC",
    "SUBCUT": "SC",
    "INTRAMUSCULAR": "IM",
}

_DATE_FMT = "%Y-%m-%d"
_DATETIME_FMT = "%Y-%m-%dT%H:%M:%S"
# "1,234.50" as a spreadsheet formats money: commas only in thousands positions.
_THOUSANDS_RE = r"^[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?$"
# Queries over the few failing rows, once they are in memory, run on the in-memory engine: nothing to
# stream, and Polars 2.1's streaming engine panics in ``pl.format`` on some gathered string buffers
# (seen on a semi-join result). Reading those rows back from the scan streams (a full read otherwise).
_SMALL = "in-memory"
_CANONICAL_COLS: list[str] = list(PROVENANCE) + [f.name for f in FIELDS]
_PARSED_FIELDS = [f for f in FIELDS if not isinstance(f.dtype, pl.List) and f.dtype != pl.String()]
_SCALAR_TEXT = [f.name for f in FIELDS if not isinstance(f.dtype, pl.List)]
_LIST_RULES: dict[str, tuple[str, str]] = {
    "modifiers": (MODIFIER_RE, "malformed modifier (expected 2 letters/digits)"),
    "diagnoses": (DIAGNOSIS_RE, "malformed ICD-10-CM diagnosis code"),
}


@dataclass
class Canonical:
    """The result of canonicalisation: rows to check and rows rejected, with reasons."""

    lines: pl.DataFrame
    rejected: pl.DataFrame
    rows_read: int


def empty_rejected() -> pl.DataFrame:
    return pl.DataFrame(schema=REJECTED_SCHEMA)


def _blank_to_null(col: str) -> pl.Expr:
    stripped = pl.col(col).str.strip_chars()
    return pl.when(stripped.str.len_bytes() > 0).then(stripped).alias(col)


def _normalise_list(col: str, element: pl.Expr) -> pl.Expr:
    return (
        pl.col(col)
        .list.eval(element.filter(element.str.len_bytes() > 0))
        .fill_null(pl.lit([], dtype=pl.List(pl.String())))
    )


def _modifier_element() -> pl.Expr:
    return pl.element().str.strip_chars().str.to_uppercase()


def _diagnosis_element() -> pl.Expr:
    return pl.element().str.strip_chars().str.to_uppercase().str.replace_all(".", "", literal=True)


def _normalise_text(lf: pl.LazyFrame) -> pl.LazyFrame:
    """Trim, null-out blanks, and put codes in one spelling so checks compare like with like."""
    lf = lf.with_columns(_blank_to_null(c) for c in _SCALAR_TEXT)
    route = pl.col("route").str.to_uppercase()
    pos = pl.col("place_of_service")
    return lf.with_columns(
        pl.col("procedure_code").str.to_uppercase(),
        pl.col("claim_type").str.to_lowercase().fill_null("professional"),
        route.replace(_ROUTE_SYNONYMS),
        # Spreadsheets drop the leading zero of POS codes ("2" for "02").
        pl.when(pos.str.len_bytes() == 1).then(pl.lit("0") + pos).otherwise(pos).alias("place_of_service"),
        pl.col("ndc").str.replace_all("-", "", literal=True),
        _normalise_list("modifiers", _modifier_element()),
        _normalise_list("diagnoses", _diagnosis_element()),
    )


def _parse(col: str, dtype: pl.DataType) -> tuple[pl.Expr, str]:
    """Expression casting (normalised) text to ``dtype``, null on failure, and what was expected."""
    text = pl.col(col)
    if dtype == pl.Date():
        return text.str.to_date(_DATE_FMT, strict=False), "a date YYYY-MM-DD"
    if isinstance(dtype, pl.Datetime):
        # One format: "T" or a space between date and time, seconds optional.
        iso = text.str.replace(" ", "T", literal=True)
        iso = pl.when(iso.str.len_bytes() == 16).then(iso + ":00").otherwise(iso)
        return iso.str.to_datetime(_DATETIME_FMT, time_unit="us", strict=False), "a datetime YYYY-MM-DDTHH:MM"
    if dtype in (pl.Int32(), pl.Int64()):
        # "3" and "3.0" are both line 3; "3.5" is not a whole number and fails.
        whole = text.str.replace(r"^([+-]?[0-9]+)\.0*$", "${1}")
        return whole.cast(dtype, strict=False), "a whole number"
    if dtype == pl.Float64():
        amount = text.str.strip_prefix("$")
        amount = pl.when(amount.str.contains(",", literal=True) & amount.str.contains(_THOUSANDS_RE)).then(
            amount.str.replace_all(",", "", literal=True)
        ).otherwise(amount)
        parsed = amount.cast(pl.Float64, strict=False)
        # Non-finite numbers ("inf", "nan", "1e400") parse as floats but are not amounts.
        return pl.when(parsed.is_finite()).then(parsed), "a number"
    return text, ""


def _typed(raw: pl.LazyFrame) -> pl.LazyFrame:
    """Canonical columns, typed, plus ``_failed``: a value did not parse or a loader flagged the row.

    A value that does not parse becomes null here; its reason is built later, only for failing rows.
    The casts and the failure test share one ``select`` so each column is parsed once.
    """
    parsed = {f.name: _parse(f.name, f.dtype)[0] for f in _PARSED_FIELDS}
    failed = [pl.col("load_error").is_not_null()]
    failed += [pl.col(name).is_not_null() & expr.is_null() for name, expr in parsed.items()]
    return _normalise_text(raw).select(
        *[parsed[c].alias(c) if c in parsed else pl.col(c) for c in _CANONICAL_COLS],
        pl.any_horizontal(failed).alias("_failed"),
    )


_SHOWN_CHARS = 60


def _shown(value: pl.Expr) -> pl.Expr:
    """A value as it may appear inside a one-line reason: line breaks escaped, long text cut."""
    flat = value.str.replace_all("\r", "\\r", literal=True).str.replace_all("\n", "\\n", literal=True)
    return pl.when(flat.str.len_chars() > _SHOWN_CHARS).then(flat.str.slice(0, _SHOWN_CHARS) + "...").otherwise(flat)


def _parse_reasons(raw_failing: pl.LazyFrame) -> pl.DataFrame:
    """One (row_id, column, reason) per value that did not parse, and per loader error, of failing rows."""
    lf = _normalise_text(raw_failing)
    frames = [
        lf.filter(pl.col("load_error").is_not_null()).select(
            "row_id", pl.lit("load_error").alias("column"), pl.col("load_error").alias("reason")
        )
    ]
    for f in _PARSED_FIELDS:
        parsed, expected = _parse(f.name, f.dtype)
        frames.append(
            lf.filter(pl.col(f.name).is_not_null() & parsed.is_null()).select(
                "row_id",
                pl.lit(f.name).alias("column"),
                pl.format("unparseable {} '{}' (expected {})", pl.lit(f.name), _shown(pl.col(f.name)), pl.lit(expected))
                .alias("reason"),
            )
        )
    return pl.concat(pl.collect_all(frames, engine=_SMALL)).cast(_LONG_SCHEMA)


def _list_element_matches(regex: str) -> Callable[[Any], pl.LazyFrame]:
    """A pandera custom check: every element of a list column matches ``regex`` (an empty list passes)."""

    def check(data: Any) -> pl.LazyFrame:  # pandera's PolarsData: .lazyframe and .key
        return data.lazyframe.select(pl.col(data.key).list.eval(pl.element().str.contains(regex)).list.all())

    return check


@cache
def _validator() -> pa.DataFrameSchema:
    """The schema's value checks, plus element checks for the list columns; built once per process."""
    import pandera.polars as pa

    schema = pandera_schema()
    for col, (regex, reason) in _LIST_RULES.items():
        schema = schema.update_column(col, checks=[pa.Check(_list_element_matches(regex), error=reason)])
    return schema


def _pandera_reasons(lines: pl.DataFrame) -> pl.DataFrame:
    """Run the pandera schema on the typed frame; one (row_id, column, check) per failing value."""
    import pandera.polars as pa

    try:
        _validator().validate(lines, lazy=True)
        return pl.DataFrame(schema=_LONG_SCHEMA)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    # A failure without a row index would be a frame-level (type) problem: canonicalise built the
    # types itself, so that cannot happen; rows are what we reject.
    cases = cases.filter(pl.col("index").is_not_null())
    row_id = lines.get_column("row_id").gather(cases.get_column("index").cast(pl.Int64))
    return cases.select(row_id.alias("row_id"), "column", pl.col("check").alias("reason")).cast(_LONG_SCHEMA)


def _explain_value_failures(cases: pl.DataFrame, raw_failing: pl.DataFrame) -> pl.DataFrame:
    """Reasons a person can act on: the check's wording plus the value *as written in the file*."""
    if cases.height == 0:
        return cases
    out = [
        cases.filter(pl.col("reason") == "not_nullable").select(
            "row_id", "column", pl.format("missing required value {}", pl.col("column")).alias("reason")
        )
    ]
    valued = cases.filter(pl.col("reason") != "not_nullable")
    for col in valued.get_column("column").unique().sort():
        mine = valued.filter(pl.col("column") == col)
        if col in _LIST_RULES:
            regex, _ = _LIST_RULES[col]
            element = _modifier_element() if col == "modifiers" else _diagnosis_element()
            shown = raw_failing.select(
                "row_id",
                pl.col(col)
                .list.eval(pl.element().filter((element.str.len_bytes() > 0) & ~element.str.contains(regex)))
                .list.eval(pl.format("'{}'", _shown(pl.element())))
                .list.join(", ")
                .alias("_shown"),
            )
            reason = pl.format("{} {}", pl.col("reason"), pl.col("_shown"))
        else:
            shown = raw_failing.select("row_id", _shown(pl.col(col).str.strip_chars()).alias("_shown"))
            reason = pl.format("{} ({} = '{}')", pl.col("reason"), pl.lit(col), pl.col("_shown"))
        out.append(mine.join(shown, on="row_id", how="left").select("row_id", "column", reason.alias("reason")))
    return pl.concat(out)


def _claim_level_reasons(keys: pl.LazyFrame) -> pl.DataFrame:
    """Duplicate line keys, and claims whose lines disagree on member, payer or claim type.

    At 20M lines, grouping by text keys costs gigabytes of hash tables. So candidates are found on
    64-bit hashes (per claim: the smallest and largest hash of each claim-level value differ), and
    only the candidates' rows are then compared exactly, as text. A hash collision can only add a
    candidate, which the exact pass clears; it cannot invent a rejection.

    Payer is compared as policies match it (trimmed, case-insensitive): ``Medicare`` and
    ``MEDICARE`` select the same policy and are not a disagreement.
    """
    compared = {c: pl.col(c).str.to_uppercase() if c == "payer" else pl.col(c) for c in CLAIM_LEVEL_COLUMNS}
    claim_hash = pl.col("claim_id").hash(seed=7)
    keyed = keys.filter(pl.col("claim_id").is_not_null())
    dup_candidates = keyed.filter(
        pl.col("line_number").is_not_null() & (pl.len().over(claim_hash, pl.col("line_number")) > 1)
    )
    spread = keyed.group_by(claim_hash.alias("_h")).agg(
        *[e.hash(seed=11).min().alias(f"_min_{c}") for c, e in compared.items()],
        *[e.hash(seed=11).max().alias(f"_max_{c}") for c, e in compared.items()],
    )
    conflict_hashes = spread.filter(
        pl.any_horizontal(pl.col(f"_min_{c}") != pl.col(f"_max_{c}") for c in compared)
    ).select("_h")
    conflict_candidates = keyed.join(conflict_hashes, left_on=claim_hash, right_on="_h", how="semi")
    dup, claims = pl.collect_all([dup_candidates, conflict_candidates], engine="streaming")

    frames = [_duplicate_reasons(dup)]
    if claims.height:
        for col, expr in compared.items():
            values = claims.group_by("claim_id").agg(
                expr.drop_nulls().n_unique().alias("_n"), pl.col(col).drop_nulls().unique().sort().alias("_values")
            ).filter(pl.col("_n") > 1)
            if values.height == 0:
                continue
            frames.append(
                claims.join(values, on="claim_id", how="inner").select(
                    "row_id",
                    pl.lit(col).alias("column"),
                    pl.format(
                        "lines of claim {} disagree on {} ({}); the whole claim is rejected",
                        _shown(pl.col("claim_id")),
                        pl.lit(col),
                        _shown(pl.col("_values").list.join(", ")),
                    ).alias("reason"),
                )
            )
    return pl.concat(frames).cast(_LONG_SCHEMA)


def _duplicate_reasons(candidates: pl.DataFrame) -> pl.DataFrame:
    """Every repeat of a ``claim_id`` + ``line_number`` after its first row (exact text comparison)."""
    dup = candidates.filter(pl.len().over("claim_id", "line_number") > 1)
    first = dup.group_by("claim_id", "line_number").agg(pl.all().sort_by("row_id").first().name.prefix("_first_"))
    return (
        dup.join(first, on=["claim_id", "line_number"], how="left")
        .filter(pl.col("row_id") != pl.col("_first_row_id"))
        .select(
            "row_id",
            pl.lit("line_number").alias("column"),
            pl.format(
                "duplicate claim_id + line_number ({} line {}); first seen at {} of {}",
                _shown(pl.col("claim_id")),
                pl.col("line_number"),
                pl.col("_first_source_location"),
                pl.col("_first_source"),
            ).alias("reason"),
        )
        .cast(_LONG_SCHEMA)
    )


def _compact(frame: pl.DataFrame, keep: pl.Series | None) -> pl.DataFrame:
    """``frame`` (rows where ``keep``) as one contiguous chunk per column, one column at a time.

    A streaming collect leaves a column in ~100 chunks, and Polars copies a multi-chunk frame
    whole on the next eager ``select``/``filter``. Moving columns out one by one (``drop_in_place``)
    keeps the extra memory to a single column instead of a second copy of the frame. The caller
    must hold no other reference to ``frame``'s columns, or their old chunks stay alive. Columns
    with one value on every row become literals.
    """
    out: list[pl.Series] = []
    constant: dict[str, pl.Expr] = {}
    order = frame.columns
    for name in order:
        column = frame.drop_in_place(name)
        if keep is not None:
            column = column.filter(keep)
        if name != "row_id" and column.len() and _constant(column):
            # One value on every row (``source`` of a one-file run; an optional column the file
            # does not have): a literal costs nothing per row and stays one through joins,
            # while a string column costs 16 bytes a row, plus the text when it is over 12 bytes.
            constant[name] = pl.lit(column[0], column.dtype)
        else:
            out.append(column.rechunk())
        del column
    kept = pl.DataFrame(out)  # row_id is never constant-folded, so ``kept`` has the height
    if not constant:
        return kept
    return kept.with_columns(value.alias(name) for name, value in constant.items()).select(order)


def _constant(column: pl.Series) -> bool:
    """All null, or no null and every value equal to the first (one vectorised comparison)."""
    nulls = column.null_count()
    if nulls:
        return nulls == column.len()
    if isinstance(column.dtype, (pl.List, pl.Array, pl.Struct, pl.Object)):
        return False
    return bool((column == column[0]).all())


def canonicalise(raw: pl.LazyFrame) -> Canonical:
    """Cast a raw frame to the canonical schema; return checked rows and rejected rows.

    ``raw`` may be a lazy scan of a file (see :func:`scrubber.loaders.load_inputs`): it is typed in
    one streaming pass and never held whole as text; a second query reads back only the failing
    rows to explain them. Only lazy queries touch the typed frame until it is compacted: an eager
    ``filter``/``select``/``join`` on a multi-chunk frame would copy all of it.
    """
    present = raw.collect_schema()
    raw = raw.select(
        [
            pl.col(c).cast(t) if c in present else pl.lit(None, t).alias(c)
            for c, t in {**RAW_SCHEMA, "load_error": pl.String()}.items()
        ]
    )
    typed = _typed(raw).collect(engine="streaming")
    rows_read = typed.height

    pandera_cases = _pandera_reasons(typed[_CANONICAL_COLS])  # getitem: zero-copy, keeps chunks
    key_cols = ["row_id", "source", "source_location", "claim_id", "line_number", *CLAIM_LEVEL_COLUMNS]
    claim_failed = _claim_level_reasons(typed[key_cols].lazy())
    parse_ids = typed.get_column("row_id").filter(typed.get_column("_failed"))
    failing_ids = pl.concat([parse_ids, pandera_cases.get_column("row_id"), claim_failed.get_column("row_id")]).unique()

    rejected = empty_rejected()
    if failing_ids.len():
        raw_failing = raw.filter(pl.col("row_id").is_in(failing_ids.implode())).collect(engine="streaming")
        raw_failing = raw_failing.rechunk()  # a fresh, contiguous frame for the in-memory queries below
        parse_failed = _parse_reasons(raw_failing.lazy())
        # A value that did not parse is null in the typed frame; do not also call it missing.
        pandera_cases = pandera_cases.join(parse_failed.select("row_id", "column"), on=["row_id", "column"],
                                           how="anti")
        value_failed = _explain_value_failures(pandera_cases, raw_failing)
        reasons = (
            pl.concat([parse_failed, value_failed, claim_failed])
            .unique(["row_id", "column", "reason"])
            .sort("row_id", "column", "reason")
            .group_by("row_id", maintain_order=True)
            .agg(pl.col("reason").str.join("; "))
        )
        raw_line = raw_failing.select("row_id", pl.col("line_number").str.strip_chars().alias("_raw_line"))
        rejected = (
            typed.lazy()
            .join(reasons.lazy(), on="row_id", how="inner")
            .join(raw_line.lazy(), on="row_id", how="left")
            .sort("row_id")
            .select(
                "source",
                pl.col("source_row").alias("row"),
                pl.col("source_location").alias("location"),
                "claim_id",
                # A line number that failed to cast is null in ``typed``; show the text the user wrote.
                pl.col("line_number").cast(pl.String).fill_null(pl.col("_raw_line")).alias("line_number"),
                "reason",
            )
            .collect(engine=_SMALL)
            .cast(REJECTED_SCHEMA)
        )
        if rejected.height != failing_ids.len():  # each failing row has reasons, and one rejected entry
            raise AssertionError(f"canonicalise: {failing_ids.len()} failing rows but {rejected.height} rejected")

    keep = ~typed.get_column("row_id").is_in(failing_ids.implode()) if failing_ids.len() else None
    lines = typed[_CANONICAL_COLS]
    del typed  # ``lines`` is now the only owner of the columns, so compaction frees as it goes
    lines = _compact(lines, keep)
    if lines.height + rejected.height != rows_read:
        raise AssertionError(f"rows read {rows_read} != {lines.height} checked + {rejected.height} rejected")
    return Canonical(lines=lines, rejected=rejected, rows_read=rows_read)
