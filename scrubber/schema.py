"""The canonical claim-line model: the one schema between every loader and every check.

Every loader (CSV, JSON, X12) produces a *raw* frame: the columns below as text (``modifiers``
and ``diagnoses`` as lists of text) plus provenance columns. :mod:`scrubber.canonical` casts it to
the types declared here and rejects, with a reason, every row that does not fit. Checks only
ever see rows that passed.

The declarations here are the single source for: the Polars dtypes, the pandera schema that
validates values (built lazily, because importing pandera costs ~0.2 s), the list of required
columns a file must have, and the documentation table in ``docs/``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:  # pragma: no cover
    import pandera.polars as pa

# Format rules (FORMATS.md). Kept here, next to the fields they constrain.
PROCEDURE_CODE_RE = r"^[A-Z0-9]{5}$"
MODIFIER_RE = r"^[A-Z0-9]{2}$"
# ICD-10-CM after normalisation (upper case, dot removed): a letter, then 2 to 6 letters/digits.
# The second character is usually a digit, but FY2026 added letter-second codes (QA0x), so the
# format test stays loose; whether a code is *billable* is the noncovered-diagnosis check's job.
DIAGNOSIS_RE = r"^[A-Z][0-9A-Z]{2,6}$"
NDC_RE = r"^[0-9]{11}$"
POS_RE = r"^[0-9]{2}$"

CLAIM_TYPES = ("professional", "institutional")
ROUTES = ("IV", "SC", "IM", "PUSH")
DISTINCT_SITE_MODIFIERS = ("59", "XE", "XS", "XP", "XU")
PAYER_SEQUENCES = ("P", "S", "T")
CLAIM_FREQUENCY_RE = r"^[0-9]$"


@dataclass(frozen=True)
class Field:
    """One canonical column."""

    name: str
    dtype: pl.DataType
    required: bool = False
    doc: str = ""
    # pandera value checks: (check name, argument, human reason)
    checks: tuple[tuple[str, Any, str], ...] = field(default_factory=tuple)


FIELDS: tuple[Field, ...] = (
    Field("claim_id", pl.String(), True, "patient control number (CLM01)"),
    Field(
        "line_number",
        pl.Int32(),
        True,
        "service line number (LX01)",
        (("ge", 1, "line_number must be 1 or more"),),
    ),
    Field("member_id", pl.String(), True, "subscriber/patient id (NM109)"),
    Field("payer", pl.String(), True, "payer name or id; selects the payer policy"),
    Field(
        "claim_type",
        pl.String(),
        False,
        "professional (837P) or institutional (837I); default professional",
        (("isin", list(CLAIM_TYPES), "claim_type must be professional or institutional"),),
    ),
    Field(
        "place_of_service",
        pl.String(),
        False,
        "2-digit POS code",
        (("str_matches", POS_RE, "place_of_service must be a 2-digit code"),),
    ),
    Field("date_of_service", pl.Date(), True, "line service date (DTP*472)"),
    Field(
        "procedure_code",
        pl.String(),
        True,
        "5-character HCPCS/CPT code",
        (("str_matches", PROCEDURE_CODE_RE, "malformed procedure code (expected 5 letters/digits)"),),
    ),
    Field("modifiers", pl.List(pl.String()), False, "modifiers, in billed order"),
    Field(
        "units",
        pl.Float64(),
        True,
        "service units",
        (("gt", 0, "units must be greater than 0"),),
    ),
    Field("charge", pl.Float64(), False, "line charge", (("ge", 0, "charge must not be negative"),)),
    Field("diagnoses", pl.List(pl.String()), False, "ICD-10-CM codes the line points to, normalised"),
    Field("ndc", pl.String(), False, "11-digit NDC", (("str_matches", NDC_RE, "ndc must be 11 digits"),)),
    Field(
        "drug_dose_mg",
        pl.Float64(),
        False,
        "documented amount administered, mg",
        (("ge", 0, "drug_dose_mg must not be negative"),),
    ),
    Field(
        "drug_wasted_mg",
        pl.Float64(),
        False,
        "documented amount discarded, mg",
        (("ge", 0, "drug_wasted_mg must not be negative"),),
    ),
    Field(
        "route",
        pl.String(),
        False,
        "documented route: IV, SC, IM or PUSH",
        (("isin", list(ROUTES), "route must be one of IV, SC, IM, PUSH"),),
    ),
    Field("infusion_start", pl.Datetime("us"), False, "documented start of active infusion"),
    Field("infusion_stop", pl.Datetime("us"), False, "documented stop of active infusion"),
    Field(
        "observation_minutes",
        pl.Int64(),
        False,
        "documented post-infusion observation minutes",
        (("ge", 0, "observation_minutes must not be negative"),),
    ),
    Field("sites", pl.Int64(), False, "documented SC infusion sites", (("ge", 1, "sites must be 1 or more"),)),
    Field("revenue_code", pl.String(), False, "institutional revenue code (SV201), when known"),
    Field("billing_provider", pl.String(), False, "billing provider NPI (2010AA NM109); part of the professional "
          "encounter"),
    Field("rendering_provider", pl.String(), False, "rendering provider NPI (2310B / 2420A NM109)"),
    Field(
        "payer_sequence",
        pl.String(),
        False,
        "payer responsibility (SBR01): P primary, S secondary, T tertiary",
        (("isin", list(PAYER_SEQUENCES), "payer_sequence must be P, S or T"),),
    ),
    Field(
        "claim_frequency",
        pl.String(),
        False,
        "claim frequency code (CLM05-3): 1 original, 7 replacement, 8 void",
        (("str_matches", CLAIM_FREQUENCY_RE, "claim_frequency must be one digit"),),
    ),
    Field("payer_claim_number", pl.String(), False, "payer's claim control number of the original claim (REF*F8)"),
)

FIELD_BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}
REQUIRED_COLUMNS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.required)
LIST_COLUMNS: tuple[str, ...] = tuple(f.name for f in FIELDS if isinstance(f.dtype, pl.List))
SCALAR_COLUMNS: tuple[str, ...] = tuple(f.name for f in FIELDS if not isinstance(f.dtype, pl.List))

# Documentation fields, keyed by claim_id + line_number; --records joins these onto any input.
RECORD_COLUMNS: tuple[str, ...] = (
    "drug_dose_mg",
    "drug_wasted_mg",
    "route",
    "infusion_start",
    "infusion_stop",
    "observation_minutes",
    "sites",
)

# Claim-level fields that must agree across the lines of a claim.
CLAIM_LEVEL_COLUMNS: tuple[str, ...] = ("member_id", "payer", "claim_type")

# Provenance: where each row came from, for rejection reports and the audit trail.
PROVENANCE: dict[str, pl.DataType] = {
    "row_id": pl.Int64(),  # unique across the whole run, in input order
    "source": pl.String(),  # file path as given
    "source_row": pl.Int64(),  # row as a person counts it (CSV: header is row 1)
    "source_location": pl.String(),  # human wording: "claim 3, line 2"; null means "row {source_row}"
}


def location() -> pl.Expr:
    """Where a row stands in its file, as a person finds it: "row 7" (CSV) or the loader's wording.

    CSV rows leave ``source_location`` null (2M copies of "row N" cost a column of text for
    nothing); this spells it out for the rows that are shown: findings and rejections.
    """
    return pl.coalesce(pl.col("source_location"), pl.format("row {}", pl.col("source_row"))).alias("source_location")

CANONICAL_SCHEMA: dict[str, pl.DataType] = {**PROVENANCE, **{f.name: f.dtype for f in FIELDS}}
RAW_SCHEMA: dict[str, pl.DataType] = {
    **PROVENANCE,
    **{f.name: (pl.List(pl.String()) if isinstance(f.dtype, pl.List) else pl.String()) for f in FIELDS},
}


def pandera_schema() -> pa.DataFrameSchema:
    """The pandera schema of the canonical frame, built from :data:`FIELDS`.

    Validate a *DataFrame* (or a LazyFrame with validation depth SCHEMA_AND_DATA): on a plain
    LazyFrame pandera checks only names and types, never values.
    """
    import pandera.polars as pa

    columns: dict[str, pa.Column] = {}
    for f in FIELDS:
        checks = [getattr(pa.Check, name)(arg, error=reason) for name, arg, reason in f.checks]
        columns[f.name] = pa.Column(f.dtype, checks=checks, nullable=not f.required)
    for name, dtype in PROVENANCE.items():
        columns[name] = pa.Column(dtype, nullable=name in ("source_row", "source_location"))
    return pa.DataFrameSchema(columns, strict=False, name="canonical claim lines")
