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

import datetime as dt
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
NDC_DIGITS = 11  # FORMATS.md: the NDC in its 11-digit billing form (5-4-2)
NDC_RE = rf"^[0-9]{{{NDC_DIGITS}}}$"
POS_RE = r"^[0-9]{2}$"

CLAIM_TYPES = ("professional", "institutional")
ROUTES = ("IV", "SC", "IM", "PUSH")
PAYER_SEQUENCES = ("P", "S", "T")  # SBR01 payer responsibility: primary, secondary, tertiary, in that order
CLAIM_FREQUENCY_RE = r"^[0-9]$"
REVENUE_CODE_RE = r"^[0-9]{4}$"

# Sane bounds (issue 12): a value outside them is a typo or a unit mix-up, never a claim to check, and
# some (year 0, 1e308) break date arithmetic or strict JSON downstream. They are wide on purpose: the
# checks judge plausibility, these only keep impossible values out.
FIRST_DATE = dt.date(1900, 1, 1)
LAST_DATE = dt.date(2100, 12, 31)
MAX_UNITS = 100_000  # the largest IG dose in units of 100 mg is a few thousand
MAX_CHARGE = 10_000_000  # dollars, one line
MAX_MG = 10_000_000  # 10 kg of drug
MAX_MINUTES = 10_080  # one week of observation
MAX_SITES = 100
MAX_LINE_NUMBER = 999_999  # LX01 is at most 6 digits


def _dates(name: str) -> tuple[tuple[str, Any, str], ...]:
    """Value checks of a date column: within the years a claim can be about."""
    span = f"{FIRST_DATE:%Y-%m-%d} to {LAST_DATE:%Y-%m-%d}"
    return (("ge", FIRST_DATE, f"{name} must be within {span}"), ("le", LAST_DATE, f"{name} must be within {span}"))


def _datetimes(name: str) -> tuple[tuple[str, Any, str], ...]:
    first, last = dt.datetime.combine(FIRST_DATE, dt.time()), dt.datetime.combine(LAST_DATE, dt.time(23, 59, 59))
    span = f"{FIRST_DATE:%Y-%m-%d} to {LAST_DATE:%Y-%m-%d}"
    return (("ge", first, f"{name} must be within {span}"), ("le", last, f"{name} must be within {span}"))


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
        (("ge", 1, "line_number must be 1 or more"),
         ("le", MAX_LINE_NUMBER, f"line_number must be at most {MAX_LINE_NUMBER:,}")),
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
    Field("date_of_service", pl.Date(), True, "line service date (DTP*472)", _dates("date_of_service")),
    Field(
        "procedure_code",
        pl.String(),
        True,
        "5-character HCPCS/CPT code; an institutional line with a revenue code may have none",
        (("str_matches", PROCEDURE_CODE_RE, "malformed procedure code (expected 5 letters/digits)"),),
    ),
    Field("modifiers", pl.List(pl.String()), False, "modifiers, in billed order"),
    Field(
        "units",
        pl.Float64(),
        True,
        "service units",
        (("gt", 0, "units must be greater than 0"), ("le", MAX_UNITS, f"units must be at most {MAX_UNITS:,}")),
    ),
    Field(
        "charge",
        pl.Float64(),
        False,
        "line charge",
        (("ge", 0, "charge must not be negative"), ("le", MAX_CHARGE, f"charge must be at most {MAX_CHARGE:,}")),
    ),
    Field("diagnoses", pl.List(pl.String()), False, "ICD-10-CM codes the line points to, normalised"),
    # The claim's own list where the input has one apart from its lines' (X12 HI, a JSON claim's
    # "diagnoses" with pointers): a payer validates every code on the claim, pointed to or not (CGS Part
    # B ICD-10 edits: "code validation ... regardless of pointer definition in SV107"). Null from CSV.
    Field("claim_diagnoses", pl.List(pl.String()), False, "ICD-10-CM codes of the claim (HI), normalised"),
    Field("ndc", pl.String(), False, "11-digit NDC", (("str_matches", NDC_RE, "ndc must be 11 digits"),)),
    Field(
        "drug_dose_mg",
        pl.Float64(),
        False,
        "documented amount administered, mg",
        (("ge", 0, "drug_dose_mg must not be negative"), ("le", MAX_MG, f"drug_dose_mg must be at most {MAX_MG:,}")),
    ),
    Field(
        "drug_wasted_mg",
        pl.Float64(),
        False,
        "documented amount discarded, mg",
        (("ge", 0, "drug_wasted_mg must not be negative"),
         ("le", MAX_MG, f"drug_wasted_mg must be at most {MAX_MG:,}")),
    ),
    Field(
        "route",
        pl.String(),
        False,
        "documented route: IV, SC, IM or PUSH",
        (("isin", list(ROUTES), "route must be one of IV, SC, IM, PUSH"),),
    ),
    Field("infusion_start", pl.Datetime("us"), False, "documented start of active infusion",
          _datetimes("infusion_start")),
    Field("infusion_stop", pl.Datetime("us"), False, "documented stop of active infusion", _datetimes("infusion_stop")),
    Field(
        "observation_minutes",
        pl.Int64(),
        False,
        "documented post-infusion observation minutes",
        (("ge", 0, "observation_minutes must not be negative"),
         ("le", MAX_MINUTES, f"observation_minutes must be at most {MAX_MINUTES:,}")),
    ),
    Field("sites", pl.Int64(), False, "documented SC infusion sites",
          (("ge", 1, "sites must be 1 or more"), ("le", MAX_SITES, f"sites must be at most {MAX_SITES}"))),
    Field(
        "revenue_code",
        pl.String(),
        False,
        "institutional revenue code (SV201), 4 digits (a 3-digit one gets its leading 0)",
        (("str_matches", REVENUE_CODE_RE, "revenue_code must be 4 digits"),),
    ),
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

# Claim-level fields: one value per claim, repeated on its lines. Lines that disagree reject the whole
# claim (which value would be the claim's?); a line without one (an export that writes claim fields
# once, a row the reader could not split) is not a disagreement. member_id and payer are required on
# every line; the others are filled from the claim's other lines (CLAIM_FILLED_COLUMNS) so that one
# line missing a value never puts it in another setting, encounter or payer sequence than its claim.
CLAIM_LEVEL_COLUMNS: tuple[str, ...] = (
    "member_id",
    "payer",
    "claim_type",
    "billing_provider",
    "payer_sequence",
    "claim_frequency",
    "payer_claim_number",
)
CLAIM_FILLED_COLUMNS: tuple[str, ...] = (
    "claim_type",
    "billing_provider",
    "payer_sequence",
    "claim_frequency",
    "payer_claim_number",
)
CLAIM_TYPE_DEFAULT = "professional"

# A procedure code is required, except on an institutional line that has a revenue code (room and
# board 0120, pharmacy 0250: 837I lines often carry no HCPCS); checks that need a code skip such lines.
def procedure_code_missing() -> pl.Expr:
    """Rows that break the procedure-code requirement."""
    exempt = (pl.col("claim_type") == "institutional") & pl.col("revenue_code").is_not_null()
    return pl.col("procedure_code").is_null() & ~exempt.fill_null(False)

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
# What a loader found wrong with a row, beside the values (both null when nothing):
# * ``load_error``: the row could not be read as a row (ragged CSV row, quote swallowing rows, X12
#   segment outside an envelope): its values are not evidence of anything, not even its code;
# * ``value_error``: one value the loader could not take (a diagnosis pointer past the claim's
#   diagnoses, ``modifiers`` that are not a list, a key written twice); the row is rejected, but
#   its other values were read and still tell its claim which codes it bills.
LOADER_COLUMNS: dict[str, pl.DataType] = {"load_error": pl.String(), "value_error": pl.String()}
RAW_FRAME_SCHEMA: dict[str, pl.DataType] = {**RAW_SCHEMA, **LOADER_COLUMNS}
# The number fields a loader may hand over already in their canonical dtype instead of as text: the
# CSV fast path reads them as numbers (a string per cell, then a cast, cost ~0.2 s of CPU per 2M
# lines). Only values canonicalisation takes as they are may come so (every value finite and within
# its field's checks: :func:`scrubber.canonical.takes_as_read`); a batch with any other is read as
# text, because a rejection quotes the value as the file wrote it.
NUMBER_FIELDS: dict[str, pl.DataType] = {f.name: f.dtype for f in FIELDS if f.dtype.is_numeric()}


def pandera_schema(frame_checks: bool = True) -> pa.DataFrameSchema:
    """The pandera schema of the canonical frame, built from :data:`FIELDS`.

    Validate a *DataFrame* (or a LazyFrame with validation depth SCHEMA_AND_DATA): on a plain
    LazyFrame pandera checks only names and types, never values. ``frame_checks=False`` leaves out
    the rule across columns (a procedure code unless institutional with a revenue code), for callers
    that word that reason themselves.
    """
    import pandera.polars as pa

    columns: dict[str, pa.Column] = {}
    for f in FIELDS:
        checks = [getattr(pa.Check, name)(arg, error=reason) for name, arg, reason in f.checks]
        # procedure_code: null is allowed on institutional revenue-code lines (the frame check below)
        columns[f.name] = pa.Column(f.dtype, checks=checks, nullable=not f.required or f.name == "procedure_code")
    for name, dtype in PROVENANCE.items():
        columns[name] = pa.Column(dtype, nullable=name in ("source_row", "source_location"))

    def has_procedure_code(data: Any) -> pl.LazyFrame:
        return data.lazyframe.select(~procedure_code_missing())

    required = [pa.Check(has_procedure_code, error="missing required value procedure_code")] if frame_checks else []
    return pa.DataFrameSchema(columns, checks=required, strict=False, name="canonical claim lines")
