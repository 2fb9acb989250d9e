"""over-cap-96371: 96371 billed over the per-encounter limit.

**What it finds.** Total 96371 units (additional SC pump set-up with a new site) for one encounter
(one member on one date, across all claims of the batch) above the payer policy's cap, 1 by
default. The lines are taken in claim and line order; the line whose units push the total over the
cap is flagged with the units over.

**Why payers deny it.** CPT: "Use 96369, 96371 only once per encounter". 96369 already includes
the set-up of all sites placed at the start ("establishment of subcutaneous infusion site(s)"), so
extra sites placed together never earn more 96371 units. The popular claim that "most LCDs cap
96371 at 2 units" has no source (RULES.md; REFERENCE.md 8(f)). Units over the limit are denied
(CARC 151 with N362 where an MUE applies).

**Example.** Member M7, 2026-04-10: 96369 x1, 96370 x1, 96371 x2 (four Hizentra sites): 96371
fires, 1 unit over.

**Use instead.** Bill 96371 x1 per encounter (or the policy's cap) and only for a new pump set-up
with new site(s) after the initial one.

**Appeal basis.** A correction: reduce the units. A payer whose contract allows more sets its cap in
a policy file (``[caps] "96371" = 2``).

**Sources.** CPT 96369/96371 descriptors and the once-per-encounter note (codingahead 96369,
96371; REFERENCE.md 2 and 8(f)).
"""

from __future__ import annotations

import polars as pl

from scrubber.enrich import ENCOUNTER
from scrubber.legacy import legacy_check
from scrubber.registry import Context
from scrubber.text import fill, number


def find(lines: pl.LazyFrame, ctx: Context) -> pl.LazyFrame:
    sc_setup = lines.filter((pl.col("procedure_code") == "96371") & pl.col("pol_cap").is_not_null())
    totals = sc_setup.with_columns(
        pl.col("units").cum_sum().over(ENCOUNTER, order_by=["claim_id", "line_number"]).alias("_through"),
        pl.col("units").sum().over(ENCOUNTER).alias("_total"),
    )
    over = totals.filter(pl.col("_through") > pl.col("pol_cap"))
    over_units = pl.min_horizontal(pl.col("units"), pl.col("_through") - pl.col("pol_cap"))
    return over.select(
        "row_id",
        fill(
            "96371 is billed {total} unit(s) for member {member} on {dos}; the {policy} limit is {cap} per "
            "encounter, so {over} unit(s) on this line are over.",
            total=number(pl.col("_total")),
            member=pl.col("member_id"),
            dos=pl.col("date_of_service"),
            policy=pl.col("policy"),
            cap=pl.col("pol_cap").cast(pl.String),
            over=number(over_units),
        ).alias("message"),
        fill(
            "Reduce 96371 on this line by {over} unit(s) (bill {cap} per encounter in all). Sites placed at the "
            "initial set-up are part of 96369.",
            over=number(over_units),
            cap=pl.col("pol_cap").cast(pl.String),
        ).alias("suggested_fix"),
        fill(
            "Corrected claim: CPT directs that 96371 be reported only once per encounter; sites established at the "
            "initial pump set-up are included in 96369. 96371 is corrected to {cap} unit(s) for {dos}.",
            cap=pl.col("pol_cap").cast(pl.String),
            dos=pl.col("date_of_service"),
        ).alias("appeal_text"),
    )


CHECK = legacy_check(
    id="over-cap-96371",
    title="96371 over the per-encounter limit",
    severity="error",
    scope="encounter",
    rule="96371 units per encounter may not exceed the policy cap (1 by CPT: 'use 96369, 96371 only once per "
    "encounter').",
    sources=("CPT 96369/96371 (codingahead)", "REFERENCE.md 8(f): no LCD supports a 2-unit cap"),
    fix="Reduce 96371 to the cap; initial-set-up sites belong to 96369.",
    appeal="Corrected claim with 96371 at the per-encounter limit.",
    denial_codes=("CO-151", "N362"),
    fix_kind="correction",
    disposition="units over the limit denied",
    find=find,
)
