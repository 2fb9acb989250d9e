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
"""

from __future__ import annotations

from dataclasses import dataclass

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

REJECTED_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),
    "row": pl.Int64(),
    "location": pl.String(),
    "claim_id": pl.String(),
    "line_number": pl.String(),
    "reason": pl.String(),
}

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
_DATETIME_FMTS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S")


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
    return pl.when(stripped == "").then(None).otherwise(stripped).alias(col)


def _normalise_text(lf: pl.LazyFrame) -> pl.LazyFrame:
    """Trim, null-out blanks, and put codes in one spelling so checks compare like with like."""
    scalar_text = [f.name for f in FIELDS if not isinstance(f.dtype, pl.List)]
    lf = lf.with_columns(_blank_to_null(c) for c in scalar_text)
    route = pl.col("route").str.to_uppercase()
    pos = pl.col("place_of_service")
    return lf.with_columns(
        pl.col("procedure_code").str.to_uppercase(),
        pl.col("claim_type").str.to_lowercase(),
        route.replace(_ROUTE_SYNONYMS),
        # Spreadsheets drop the leading zero of POS codes ("2" for "02").
        pl.when(pos.str.contains(r"^[0-9]$")).then(pl.lit("0") + pos).otherwise(pos).alias("place_of_service"),
        pl.col("ndc").str.replace_all("-", ""),
        pl.col("modifiers")
        .list.eval(pl.element().str.strip_chars().str.to_uppercase())
        .list.eval(pl.element().filter(pl.element() != ""))
        .fill_null(pl.lit([], dtype=pl.List(pl.String()))),
        pl.col("diagnoses")
        .list.eval(pl.element().str.strip_chars().str.to_uppercase().str.replace_all(".", "", literal=True))
        .list.eval(pl.element().filter(pl.element() != ""))
        .fill_null(pl.lit([], dtype=pl.List(pl.String()))),
    )


def _parse_int(col: str, dtype: pl.DataType) -> pl.Expr:
    # "3" and "3.0" are both line 3; "3.5" is not a whole number and fails.
    text = pl.col(col).str.replace(r"^([+-]?[0-9]+)\.0*$", "${1}")
    return text.cast(dtype, strict=False)


def _parse(col: str, dtype: pl.DataType) -> tuple[pl.Expr, str]:
    """Expression casting raw text to ``dtype`` (null on failure) and what was expected."""
    if dtype == pl.Date():
        return pl.col(col).str.to_date(_DATE_FMT, strict=False), "a date YYYY-MM-DD"
    if isinstance(dtype, pl.Datetime):
        text = pl.col(col).str.replace(" ", "T", literal=True)
        parsed = pl.coalesce([text.str.to_datetime(fmt, time_unit="us", strict=False) for fmt in _DATETIME_FMTS])
        return parsed, "a datetime YYYY-MM-DDTHH:MM"
    if dtype in (pl.Int32(), pl.Int64()):
        return _parse_int(col, dtype), "a whole number"
    if dtype == pl.Float64():
        text = pl.col(col).str.replace_all(r"^\$", "")
        return text.cast(pl.Float64, strict=False), "a number"
    return pl.col(col), ""


def _cast_with_reasons(lf: pl.LazyFrame) -> pl.LazyFrame:
    """Cast every column; add one ``_bad_<col>`` reason column per column whose text did not parse."""
    casts: list[pl.Expr] = []
    reasons: list[pl.Expr] = []
    for f in FIELDS:
        if isinstance(f.dtype, pl.List) or f.dtype == pl.String():
            continue
        parsed, expected = _parse(f.name, f.dtype)
        casts.append(parsed.alias(f.name))
        bad = pl.col(f.name).is_not_null() & parsed.is_null()
        # Non-finite numbers ("inf", "nan") parse as floats but are not amounts.
        if f.dtype == pl.Float64():
            bad = bad | (parsed.is_not_null() & ~parsed.is_finite())
        reasons.append(
            pl.when(bad)
            .then(pl.format("unparseable {} '{}' (expected {})", pl.lit(f.name), pl.col(f.name), pl.lit(expected)))
            .alias(f"_bad_{f.name}")
        )
    return lf.with_columns(reasons).with_columns(casts)


def _list_checks() -> dict[str, tuple[str, str]]:
    return {
        "modifiers": (MODIFIER_RE, "malformed modifier (expected 2 letters/digits)"),
        "diagnoses": (DIAGNOSIS_RE, "malformed ICD-10-CM diagnosis code"),
    }


def _long_reasons_from_parse(df: pl.DataFrame) -> pl.DataFrame:
    bad_cols = [c for c in df.columns if c.startswith("_bad_")]
    frames = [
        df.filter(pl.col(c).is_not_null()).select(
            "row_id", pl.lit(c.removeprefix("_bad_")).alias("column"), pl.col(c).alias("reason")
        )
        for c in bad_cols
    ]
    load = df.filter(pl.col("load_error").is_not_null()).select(
        "row_id", pl.lit("load_error").alias("column"), pl.col("load_error").alias("reason")
    )
    return pl.concat([load, *frames]) if frames else load


def _long_reasons_from_pandera(df: pl.DataFrame, parse_failed: pl.DataFrame) -> pl.DataFrame:
    """Run the pandera schema on the typed frame; one reason per failing (row, column)."""
    import pandera.polars as pa

    schema = pandera_schema()
    for col, (regex, reason) in _list_checks().items():
        schema = schema.update_column(
            col,
            checks=[pa.Check(_list_element_matches(regex), error=reason)],
        )
    try:
        schema.validate(df, lazy=True)
        return pl.DataFrame(schema={"row_id": pl.Int64(), "column": pl.String(), "reason": pl.String()})
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    cases = cases.filter(pl.col("index").is_not_null())
    row_ids = df.select("row_id").with_row_index("index").with_columns(pl.col("index").cast(pl.Int64))
    cases = cases.with_columns(pl.col("index").cast(pl.Int64)).join(row_ids, on="index", how="left")
    shown = pl.col("failure_case").cast(pl.String).fill_null("")
    reason = (
        pl.when(pl.col("check") == "not_nullable")
        .then(pl.format("missing required value {}", pl.col("column")))
        .otherwise(pl.format("{} ({} = '{}')", pl.col("check"), pl.col("column"), shown))
    )
    long = cases.select("row_id", "column", reason.alias("reason"))
    # A value that did not parse is already explained; do not also call it missing.
    return long.join(parse_failed.select("row_id", "column"), on=["row_id", "column"], how="anti")


def _list_element_matches(regex: str):  # noqa: ANN202 - pandera check callable
    def check(data):  # noqa: ANN001, ANN202
        return data.lazyframe.select(pl.col(data.key).list.eval(pl.element().str.contains(regex)).list.all())

    return check


def _claim_level_reasons(df: pl.DataFrame) -> pl.DataFrame:
    """Duplicate line keys, and claims whose lines disagree on member, payer or claim type."""
    keyed = df.filter(pl.col("claim_id").is_not_null() & pl.col("line_number").is_not_null())
    dup = keyed.with_columns(
        pl.col("row_id").cum_count().over("claim_id", "line_number", order_by="row_id").alias("_nth"),
        pl.col("source_location").first().over("claim_id", "line_number", order_by="row_id").alias("_first"),
        pl.col("source").first().over("claim_id", "line_number", order_by="row_id").alias("_first_src"),
    ).filter(pl.col("_nth") > 1)
    dup_reasons = dup.select(
        "row_id",
        pl.lit("line_number").alias("column"),
        pl.format(
            "duplicate claim_id + line_number ({} line {}); first seen at {} of {}",
            pl.col("claim_id"),
            pl.col("line_number"),
            pl.col("_first"),
            pl.col("_first_src"),
        ).alias("reason"),
    )
    frames = [dup_reasons]
    claims = df.filter(pl.col("claim_id").is_not_null())
    for col in CLAIM_LEVEL_COLUMNS:
        value = pl.col(col).fill_null("professional") if col == "claim_type" else pl.col(col)
        values = claims.with_columns(value.alias("_v")).group_by("claim_id").agg(
            pl.col("_v").drop_nulls().unique().sort().alias("_values")
        )
        conflicting = values.filter(pl.col("_values").list.len() > 1)
        if conflicting.height == 0:
            continue
        hits = claims.join(conflicting, on="claim_id").select(
            "row_id",
            pl.lit(col).alias("column"),
            pl.format(
                "lines of claim {} disagree on {} ({}); the whole claim is rejected",
                pl.col("claim_id"),
                pl.lit(col),
                pl.col("_values").list.join(", "),
            ).alias("reason"),
        )
        frames.append(hits)
    return pl.concat(frames)


def canonicalise(raw: pl.LazyFrame) -> Canonical:
    """Cast a raw frame to the canonical schema; return checked rows and rejected rows."""
    raw = raw.select([pl.col(c).cast(t) if c in raw.collect_schema() else pl.lit(None, t).alias(c)
                      for c, t in {**RAW_SCHEMA, "load_error": pl.String()}.items()])
    typed = _cast_with_reasons(_normalise_text(raw)).collect()
    parse_failed = _long_reasons_from_parse(typed)
    canonical_cols = list(PROVENANCE) + [f.name for f in FIELDS]
    pandera_failed = _long_reasons_from_pandera(typed.select(canonical_cols), parse_failed)
    claim_failed = _claim_level_reasons(typed)
    reasons = (
        pl.concat([parse_failed, pandera_failed, claim_failed])
        .unique(["row_id", "column", "reason"])
        .sort("row_id", "column", "reason")
        .group_by("row_id", maintain_order=True)
        .agg(pl.col("reason").str.join("; "))
    )
    bad = typed.join(reasons, on="row_id", how="inner").sort("row_id")
    # A line number that failed to cast is null in ``typed``; show the text the user wrote.
    raw_line = raw.select("row_id", pl.col("line_number").alias("_raw_line")).collect()
    rejected = bad.join(raw_line, on="row_id", how="left").select(
        "source",
        pl.col("source_row").alias("row"),
        pl.col("source_location").alias("location"),
        "claim_id",
        pl.col("line_number").cast(pl.String).fill_null(pl.col("_raw_line")).alias("line_number"),
        "reason",
    )
    lines = (
        typed.join(reasons, on="row_id", how="anti")
        .select(canonical_cols)
        .with_columns(pl.col("claim_type").fill_null("professional"))
        .sort("row_id")
    )
    return Canonical(lines=lines, rejected=rejected, rows_read=typed.height)
