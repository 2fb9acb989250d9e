"""addon-without-primary: an add-on line that is not anchored.

**addon-without-primary** (error). An add-on line that is not anchored: none of its allowed primaries
is billed in the encounter, or its only primaries are themselves unanchored add-ons (then every line of
the chain fires). Allowed primaries (CPT parentheticals): 96361: 96360, 96365, 96374, 96409, 96413 ·
96366: 96365, 96367 · 96367: 96365, 96374, 96409, 96413 · 96368: 96365, 96366, 96413, 96415, 96416 ·
96370: 96369 · 96371: 96369 · 96375 and 96376: 96365, 96374, 96409, 96413 · 96411: 96409, 96413 ·
96415: 96413 · 96417: 96413. MEDICARE (policy setting `[addons] primaries = "ncci"`) anchors by the CMS
NCCI add-on code edit list instead, which accepts more: 96366 also with 96360 and 96413; 96367, 96368
and 96375 also with 96360. The primary may sit on another claim of the same encounter (CMS add-on code
edits: same practitioner, patient and date). Denial seen as N122 with B15/97/107.

Implementation. The allowed primaries are data: CPT's parentheticals (``admin_codes.csv``
``allowed_primaries``), and for policies with ``[addons] primaries = "ncci"`` (MEDICARE) the CMS NCCI
add-on code edit list (``addon_primaries_ncci.csv``), which is wider than CPT's and decides Medicare
payment: 96366 also after 96360 or 96413, 96367 and 96375 also after 96360, 96368 also after 96360
(a primary source leads here; docs/RULES.md says so). Enrichment gives
every line its encounter's ``enc_admin_mask`` (codes billed, rejected rows' readable codes included)
and ``enc_anchored_mask`` (RULES.md "Anchored", computed transitively once per encounter), so a line
fires when its code's bit is billed but not anchored: no Python per line, one bit test. In an
encounter holding a row the loader could not read (its code unknown) the line is not evaluated.
"""

from __future__ import annotations

import polars as pl

from scrubber.cards import load_card
from scrubber.enrich import checked_admin_masks, code, code_is, codes_text, rejected_codes_in_masks, with_codes
from scrubber.registry import Check, Context


def unanchored_addons(lines: pl.LazyFrame) -> pl.LazyFrame:
    """The add-on lines no readable line of the encounter anchors: those this check reports, and, where
    a row of the encounter could not be read, those it leaves unevaluated. :mod:`checks._counting` reads
    it too (one root cause: an MUE does not count the units of an add-on with no primary, nor of one
    whose primary may be the unread row: a bad row never adds a finding to the good lines)."""
    addons = lines.filter(code_is(adm_role="addon"))
    return with_codes(addons, "adm_bit").filter((pl.col("adm_bit") & pl.col("enc_anchored_mask")) == 0)


def find(lines: pl.LazyFrame, ctx: Context) -> pl.LazyFrame:
    unanchored = unanchored_addons(lines).filter(~pl.col("enc_unreadable"))
    unanchored = with_codes(unanchored, "adm_primary_mask", "adm_primaries_text", "adm_ncci_primary_mask",
                            "adm_ncci_primaries_text")
    # The primaries the line's policy accepts: the CMS NCCI add-on code edits (MEDICARE) or CPT's.
    ncci = pl.col("pol_ncci_addons")
    mask = pl.when(ncci).then(pl.col("adm_ncci_primary_mask")).otherwise(pl.col("adm_primary_mask"))
    text = pl.when(ncci).then(pl.col("adm_ncci_primaries_text")).otherwise(pl.col("adm_primaries_text"))
    # Primaries billed on the encounter's checked lines but not anchored themselves (an orphan chain), if
    # any (a rejected row's code is no word of a finding: enrich.checked_admin_masks).
    billed_primaries = mask & pl.col("checked_admin_mask").fill_null(0).cast(pl.UInt64)
    if not rejected_codes_in_masks(lines):  # (the usual batch: the masks hold checked lines' codes only)
        unanchored = unanchored.with_columns(pl.col("enc_admin_mask").alias("checked_admin_mask"))
    else:
        # (the few unanchored add-ons, collected: a left join of an empty frame panicked in Polars'
        # streaming engine)
        unanchored = unanchored.collect()
        unanchored = (unanchored.lazy().join(checked_admin_masks(lines, unanchored.lazy()), on="enc_key", how="left")
                      if unanchored.height else
                      unanchored.lazy().with_columns(pl.lit(0, pl.UInt64).alias("checked_admin_mask")))
    return unanchored.with_columns(billed_primaries.alias("_billed_primaries")).select(
        "row_id",
        pl.when(pl.col("_billed_primaries") == 0).then(pl.lit("no_primary")).otherwise(pl.lit("unanchored_chain"))
        .alias("reason"),
        text.alias("primaries"),
        codes_text("_billed_primaries").alias("unanchored"),
    )


def unevaluated(lines: pl.LazyFrame) -> pl.LazyFrame:
    """Add-on lines of encounters holding an unreadable row (its code, perhaps the primary, is
    unknown), and add-on lines anchored only by the code of a rejected row (the primary was billed
    on a line that could not be checked: not reported, not silently passed either)."""
    undecided = pl.col("enc_unreadable")
    if "enc_rejected_anchor_mask" in lines.collect_schema():
        by_rejected = (code("adm_bit") & pl.col("enc_rejected_anchor_mask")) != 0
        undecided = undecided | by_rejected.fill_null(False)
    return lines.filter(code_is(adm_role="addon") & undecided)


CHECK = Check(card=load_card(__file__), find=find, unevaluated=unevaluated)
