"""addon-without-primary: an add-on administration code billed without one of its primaries.

**What it finds.** An add-on line (96361, 96366, 96367, 96368, 96370, 96371, 96375, 96376, 96411,
96415, 96417) with none of its allowed primary codes on the same claim and date of service.
Allowed primaries follow the CPT parentheticals (RULES.md): 96361: 96360, 96365, 96374, 96409,
96413 · 96366: 96365, 96367 · 96367: 96365, 96374, 96409, 96413 · 96368: 96365, 96366, 96413,
96415, 96416 · 96370 and 96371: 96369 · 96375 and 96376: 96365, 96374, 96409, 96413 · 96411:
96409, 96413 · 96415: 96413 · 96417: 96413. The list lives in ``scrubber/data/admin_codes.csv``.

**Why payers deny it.** An add-on code describes time or a service *in addition to* a primary
procedure and is never paid alone: remark N122 ("Add-on code cannot be billed by itself") with
CARC B15, 97 or 107.

**Example.** Claim C1, 2026-03-02: line 1 96366 x1 (IV infusion, additional hour), line 2 J1459
x70. No 96365 or 96367 on the claim that day: 96366 fires.

**Use instead.** Bill the primary (here 96365) if the initial infusion was performed and
documented, or correct the add-on to the code that describes what was done. A primary billed on
another claim for the same day does not count: the pair must be on one claim.

**Appeal basis.** A correction, not an appeal: resubmit with the primary on the same claim.

**Sources.** CPT parentheticals (codapedia 2815, iframe.ai 96366/96367, codingahead, legalclarity);
NCCI add-on code edits; denial codes from Noridian JE-B reason-code guidance (REFERENCE.md 1a, 6).
"""

from __future__ import annotations

import polars as pl

from scrubber.enrich import code_is, with_codes
from scrubber.registry import Check, Context
from scrubber.text import fill


def find(lines: pl.LazyFrame, ctx: Context) -> pl.LazyFrame:
    addons = with_codes(lines.filter(code_is(adm_role="addon")), "adm_primary_mask", "adm_primaries_text")
    # adm_primary_mask: the allowed primaries as bits; cd_admin_mask: the codes billed on the claim and date.
    lines = addons.filter((pl.col("adm_primary_mask") & pl.col("cd_admin_mask")) == 0)
    primaries = pl.col("adm_primaries_text")
    return lines.select(
        "row_id",
        fill(
            "Add-on {code} is billed without a primary ({primaries}) on claim {claim} for {dos}.",
            code=pl.col("procedure_code"),
            primaries=primaries,
            claim=pl.col("claim_id"),
            dos=pl.col("date_of_service"),
        ).alias("message"),
        fill(
            "Add the primary service ({primaries}) to this claim if it was performed and documented on {dos}; "
            "otherwise replace {code} with the code that describes the service given.",
            primaries=primaries,
            dos=pl.col("date_of_service"),
            code=pl.col("procedure_code"),
        ).alias("suggested_fix"),
        fill(
            "Corrected claim: {code} on {dos} is an add-on code reportable only with {primaries} on the same "
            "claim (CPT). The corrected claim reports the primary service documented in the administration "
            "record together with the add-on.",
            code=pl.col("procedure_code"),
            dos=pl.col("date_of_service"),
            primaries=primaries,
        ).alias("appeal_text"),
    )


CHECK = Check(
    id="addon-without-primary",
    title="Add-on code without its primary",
    severity="error",
    scope="claim",
    rule="An add-on administration code needs one of its allowed primary codes on the same claim and date.",
    sources=("CPT add-on parentheticals (REFERENCE.md 1a)", "NCCI add-on code edits", "RARC N122"),
    fix="Add the documented primary code to the claim, or recode the add-on.",
    appeal="Corrected claim: the add-on is reported with its primary on the same claim.",
    denial_codes=("N122", "B15", "97", "107"),
    fix_kind="correction",
    disposition="line denied (N122) until the primary is on the claim",
    find=find,
)
