"""over-cap-96371: 96371 billed over the per-encounter limit.

**over-cap-96371** (error). Total 96371 units for an encounter above the policy cap: 1 by CPT
("use 96369, 96371 only once per encounter"); a policy may set another number. A policy cap for any
other code is enforced by `units-over-mue` (it replaces the MUE for that code): no setting is accepted
and ignored. When the units also take a date of service over 96371's CMS MUE (1, MAI 3) and the cap
is not above it, the MUE denies every 96371 unit of the claim that date: those lines are at risk
(reasons `over_cap_units`, `over_cap_line`); a cap above the MUE is the payer's own, and its units over
are at risk. 96371 billed where no 96369 anchors it is `addon-without-primary`'s (its whole line is
denied for that), not also over the cap.

Implementation. The cap is the line's policy's ``[caps]`` entry for 96371 (``pol_cap``; both
built-in policies set 1, a policy file may set another number). The 96371 lines are few, so they are
filtered first and their units summed per encounter (``enc_key``: an institutional claim is one
encounter, a next-payer copy its own) in claim and line order; each line whose units run past the
cap is flagged with the units over it on that line (``excess_units``), so that 96371 x1 on two lines
flags the second (reason ``over_cap_line``: delete it) and 96371 x3 on one line flags 2 units
(``over_cap_units``: bill it x1), never a fix that says "x0". The money: when the units of the date
(per encounter; an institutional claim per claim and date, ``cd_key``) exceed 96371's MUE of the
setting (``mue_practitioner.csv`` / ``mue_outpatient.csv``) and the cap is not above it, as units-over-mue
prices an MUE, the 96371 lines of the finding's claim that date (``risk_rows``, named by
``denied_lines``) counted after other findings' amounts (``lines_after``); otherwise (a payer's cap
above the MUE; an institutional encounter over midnight within the MUE on each date) the units over
(``excess``: reasons ``over_cap_only_line`` / ``over_cap_only_units``, the same fixes). The reasons of
the usual case keep the names, and so the finding ids, they had before the MUE was priced. The code is
:data:`checks._counting.CAP_CHECK_CODE`: units-over-mue leaves it to this check, so 96371 over the
cap is one finding, not also an MUE one.
"""

from __future__ import annotations

import polars as pl

from checks._counting import CAP_CHECK_CODE, date_of_service_group, edit_setting, mue_table_words
from checks.addon_without_primary import unanchored_addons
from scrubber import reference
from scrubber.cards import load_card
from scrubber.enrich import code_is
from scrubber.registry import Check, Context

# The order of a claim's 96371 lines in a finding's lists (the lines denied with it).
_BY_LINE = ["line_number", "row_id"]

def _mue_of_96371(column: str, dtype: pl.DataType) -> pl.Expr:
    """``column`` (mue, mai) of 96371's row in the MUE table of the line's setting (outpatient for an
    institutional claim, practitioner otherwise); null when the table has no row for it."""
    def value(setting: str) -> pl.Expr:
        row = reference.mue_table(setting).filter(pl.col("code") == CAP_CHECK_CODE)
        return pl.lit(row.item(0, column) if row.height else None, dtype)
    return pl.when(pl.col("is_inst")).then(value("outpatient")).otherwise(value("practitioner"))


def find(lines: pl.LazyFrame, ctx: Context) -> pl.LazyFrame:
    # The code by its code-table row (an integer test, not a text comparison on every line).
    setup = lines.filter(code_is(procedure_code=CAP_CHECK_CODE) & pl.col("pol_cap").is_not_null())
    # 96371 that no readable line anchors (no 96369 in the encounter) is addon-without-primary's: the
    # whole line is denied for that, and its units are not also over the cap (one root cause).
    setup = setup.join(unanchored_addons(setup), on="row_id", how="anti")
    # The MUE is a date-of-service edit (MAI 3): the encounter's units on one date (an institutional
    # claim, one encounter over midnight, counts each date apart: claim and date, ``cd_key``).
    mue_group = date_of_service_group(pl.col("is_inst"))
    totals = setup.with_columns(
        pl.col("units").cum_sum().over("enc_key", order_by=["claim_id", "line_number"]).alias("_through"),
        pl.col("units").sum().over("enc_key").alias("total"),
        mue_group.alias("_mg"),
    ).with_columns(pl.col("units").sum().over("_mg").alias("_mue_total"))
    # The lines an MUE denies with a finding's line: the code's lines of its claim on that date.
    over = totals.with_columns(
        # (by line: the rows come out of an anti join in no set order)
        pl.col("row_id").over(["_mg", "claim_id"], mapping_strategy="join", order_by=_BY_LINE).alias("_denied_rows"),
        pl.col("line_number").over(["_mg", "claim_id"], mapping_strategy="join", order_by=_BY_LINE).alias("_denied"),
    ).filter(pl.col("_through") > pl.col("pol_cap"))
    excess = pl.min_horizontal(pl.col("units"), pl.col("_through") - pl.col("pol_cap"))
    mue, mai = _mue_of_96371("mue", pl.Int64()), _mue_of_96371("mai", pl.Int8())
    # Units over the CPT limit that also take the date over the CMS MUE: every unit of 96371 on the
    # claim is denied (docs/RULES.md, "An MUE denies the line, not the units over"), not only the units
    # over; a cap a policy sets above the MUE is the payer's own, and its units over are at risk.
    denied = (pl.col("_mue_total") > mue) & (pl.col("pol_cap") <= mue)
    whole = excess >= pl.col("units")
    setting = edit_setting()
    return over.select(
        "row_id",
        pl.when(denied).then(pl.when(whole).then(pl.lit("over_cap_line")).otherwise(pl.lit("over_cap_units")))
        .when(whole).then(pl.lit("over_cap_only_line")).otherwise(pl.lit("over_cap_only_units"))
        .alias("reason"),
        pl.col("total").cast(pl.Float64),
        pl.col("pol_cap").alias("cap"),
        excess.cast(pl.Float64).alias("excess_units"),
        (pl.col("units") - excess).cast(pl.Float64).alias("correct_units"),
        pl.when(denied).then(mue).alias("mue"),
        pl.when(denied).then(mai).alias("mai"),
        pl.when(denied).then(pl.col("_denied_rows")).cast(pl.List(pl.Int64)).alias("risk_rows"),
        pl.when(denied).then(pl.col("_denied").list.sort()).alias("denied_lines"),
        *[pl.when(denied).then(words) for words in mue_table_words(setting)],
    )


CHECK = Check(card=load_card(__file__), find=find)
