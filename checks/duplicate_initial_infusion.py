"""duplicate-initial-infusion: more than one initial administration service in one encounter.

**What it finds.** More than one unit of initial services (96360, 96365, 96369, 96374, 96409,
96413) for one encounter (one member on one date, across all claims of the batch): two 96365
lines, 96365 x3 units, or 96365 plus 96360 or 96374 billed as initial. A line that carries 59,
XE, XS, XP or XU (a separate IV site or encounter, documented) is not counted. The service that
stays initial is chosen by the CPT hierarchy (chemo infusion > chemo push > therapeutic infusion >
SC infusion > therapeutic push > hydration), then claim and line order; every other unit is
flagged on its line.

**Why payers deny it.** "The physician should only report one 'initial' service code unless
protocol requires that two separate IV sites must be used" (IOM 100-04 ch.12 section 30.5, RAC
topic 0071); hospitals report one initial service per vascular access site (IOM 100-04 ch.4
section 230.2). The second initial line is denied or recouped.

**Example.** Member M1, 2026-03-02: 96365 x1 (IVIG) and 96365 x1 (a second drug), no modifier:
the second 96365 fires.

**Use instead.** The subsequent code: a second therapeutic drug is 96367, hydration after 96365 is
96361, a push after 96365 is 96375, extra hours of the same infusion are 96366 (96365 x3 becomes
96365 x1 + 96366). If protocol required a second IV site, document it and append XS (or 59).

**Appeal basis.** A correction. Where two sites were required, the appeal is the documentation of
the second site with the XS/59 modifier.

**Sources.** RAC topic 0071 (IOM 100-04 ch.12 section 30.5); Noridian JE Part A "Initial Drug
Administration" (IOM 100-04 ch.4 section 230.2(B), CR 3631); CPT hierarchy (REFERENCE.md 1c).
"""

from __future__ import annotations

import polars as pl

from scrubber.enrich import ENCOUNTER, code_is, with_codes, with_modifier_roles
from scrubber.legacy import legacy_check
from scrubber.registry import Context
from scrubber.text import fill, number

_ORDER = ["adm_initial_rank", "claim_id", "line_number"]


def find(lines: pl.LazyFrame, ctx: Context) -> pl.LazyFrame:
    initial = with_modifier_roles(lines.filter(code_is(adm_role="initial")))
    counted = initial.filter(~pl.col("has_distinct_site_modifier"))
    # Only encounters with more than one initial unit can hold a finding. They are found on a 64-bit
    # hash of member and date (a collision can only add an encounter, which the exact windows
    # below then clear), so the sort by text keys runs on the few candidates, not every encounter.
    encounter_hash = pl.struct(*ENCOUNTER).hash()
    counted = counted.filter(pl.col("units").sum().over(encounter_hash) > 1)
    counted = with_codes(counted, "adm_initial_rank", "adm_bit", "adm_addon_hour_code", "adm_subsequent_code",
                         "adm_subsequent_primary_mask")
    # One sort of the (small) set of initial lines, then plain windows: the first line of each
    # encounter in hierarchy order is the one that stays initial.
    ranked = counted.sort(*ENCOUNTER, *_ORDER).with_columns(
        pl.col("units").cum_sum().over(ENCOUNTER).alias("_through"),
        pl.col("procedure_code").first().over(ENCOUNTER).alias("_kept_code"),
        pl.col("adm_bit").first().over(ENCOUNTER).alias("_kept_bit"),
        pl.col("claim_id").first().over(ENCOUNTER).alias("_kept_claim"),
        pl.col("line_number").first().over(ENCOUNTER).alias("_kept_line"),
    )
    extra = ranked.filter(pl.col("_through") > 1)
    is_kept_line = (pl.col("claim_id") == pl.col("_kept_claim")) & (pl.col("line_number") == pl.col("_kept_line"))
    extra_units = pl.min_horizontal(pl.col("units"), pl.col("_through") - 1)
    # The subsequent code is only right if its allowed primaries include the initial that stays
    # (96369 kept: 96365 has no add-on that follows it, so 96367 would be an add-on without primary).
    follows_kept = (pl.col("adm_subsequent_primary_mask") & pl.col("_kept_bit")) != 0
    message = (
        pl.when(is_kept_line)
        .then(
            fill(
                "Initial service {code} is billed x{units}; an initial service is reported once per encounter "
                "(member {member}, {dos}).",
                code=pl.col("procedure_code"),
                units=number(pl.col("units")),
                member=pl.col("member_id"),
                dos=pl.col("date_of_service"),
            )
        )
        .otherwise(
            fill(
                "Second initial service {code} for member {member} on {dos}: {kept} (claim {kept_claim}, line "
                "{kept_line}) is already the initial service, and this line has no 59/XE/XS/XP/XU.",
                code=pl.col("procedure_code"),
                member=pl.col("member_id"),
                dos=pl.col("date_of_service"),
                kept=pl.col("_kept_code"),
                kept_claim=pl.col("_kept_claim"),
                kept_line=pl.col("_kept_line").cast(pl.String),
            )
        )
    )
    fix = (
        pl.when(is_kept_line & pl.col("adm_addon_hour_code").is_not_null())
        .then(
            fill(
                "Bill {code} x1 and report the additional hour(s) of the same infusion with {addon} "
                "(units from the documented minutes).",
                code=pl.col("procedure_code"),
                addon=pl.col("adm_addon_hour_code"),
            )
        )
        .when(is_kept_line)
        .then(fill("Bill {code} x1; report a further service with {subsequent}.", code=pl.col("procedure_code"),
                   subsequent=pl.col("adm_subsequent_code")))
        .when(follows_kept)
        .then(
            fill(
                "Report this service as the subsequent code {subsequent} (x{extra}) instead of {code}; if protocol "
                "required a separate IV site, document it and append XS (or 59).",
                subsequent=pl.col("adm_subsequent_code"),
                extra=number(extra_units),
                code=pl.col("procedure_code"),
            )
        )
        .otherwise(
            fill(
                "No subsequent code reports {code} after {kept} (CPT add-on rules): if the record documents a "
                "separate IV site or encounter, append XS (or 59) to this line; otherwise remove it.",
                code=pl.col("procedure_code"),
                kept=pl.col("_kept_code"),
            )
        )
    )
    appeal = fill(
        "Corrected claim: one initial drug administration service is reported per encounter (IOM 100-04 ch.12 "
        "section 30.5). {kept} remains the initial service for {dos}; the other service is reported with its "
        "subsequent code, or carries XS where the record documents a second IV site.",
        kept=pl.col("_kept_code"),
        dos=pl.col("date_of_service"),
    )
    return extra.select("row_id", message.alias("message"), fix.alias("suggested_fix"), appeal.alias("appeal_text"))


CHECK = legacy_check(
    id="duplicate-initial-infusion",
    title="More than one initial administration service in an encounter",
    severity="error",
    scope="encounter",
    rule="One initial service (96360/96365/96369/96374/96409/96413) per encounter unless 59/XE/XS/XP/XU documents "
    "a separate site or encounter.",
    sources=("RAC topic 0071 (IOM 100-04 ch.12 section 30.5)", "Noridian JE-A Initial Drug Administration "
             "(IOM 100-04 ch.4 section 230.2(B))", "CPT drug administration hierarchy"),
    fix="Keep one initial service; report the others with their subsequent codes, or XS/59 for a documented "
    "second site.",
    appeal="Corrected claim with the subsequent code, or documentation of the second IV site with XS/59.",
    denial_codes=("CO-97", "CO-236", "M15"),
    fix_kind="correction",
    disposition="second initial line denied, or recouped on audit",
    find=find,
)
