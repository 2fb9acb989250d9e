"""over-cap-96371: 96371 billed over the per-encounter limit.

**over-cap-96371** (error). Total 96371 units for an encounter above the policy cap: 1 by CPT
("use 96369, 96371 only once per encounter"); a policy may set another number. A policy cap for any
other code is enforced by `units-over-mue` (it replaces the MUE for that code): no setting is accepted
and ignored.

Implementation. The cap is the line's policy's ``[caps]`` entry for 96371 (``pol_cap``; both
built-in policies set 1, a policy file may set another number). The 96371 lines are few, so they are
filtered first and their units summed per encounter (``enc_key``: an institutional claim is one
encounter, a next-payer copy its own) in claim and line order; each line whose units run past the
cap is flagged with the units over it on that line (``excess_units``: the money at risk), so that
96371 x1 on two lines flags the second (reason ``over_cap_line``: delete it) and 96371 x3 on one line
flags 2 units (``over_cap_units``: bill it x1), never a fix that says "x0". The code is
:data:`checks._counting.CAP_CHECK_CODE`: units-over-mue leaves it to this check, so 96371 over the
cap is one finding, not also an MUE one.
"""

from __future__ import annotations

import polars as pl

from checks._counting import CAP_CHECK_CODE
from scrubber.cards import load_card
from scrubber.enrich import code_is
from scrubber.registry import Check, Context


def find(lines: pl.LazyFrame, ctx: Context) -> pl.LazyFrame:
    # The code by its code-table row (an integer test, not a text comparison on every line).
    setup = lines.filter(code_is(procedure_code=CAP_CHECK_CODE) & pl.col("pol_cap").is_not_null())
    totals = setup.with_columns(
        pl.col("units").cum_sum().over("enc_key", order_by=["claim_id", "line_number"]).alias("_through"),
        pl.col("units").sum().over("enc_key").alias("total"),
    )
    over = totals.filter(pl.col("_through") > pl.col("pol_cap"))
    excess = pl.min_horizontal(pl.col("units"), pl.col("_through") - pl.col("pol_cap"))
    return over.select(
        "row_id",
        pl.when(excess < pl.col("units")).then(pl.lit("over_cap_units")).otherwise(pl.lit("over_cap_line"))
        .alias("reason"),
        pl.col("total").cast(pl.Float64),
        pl.col("pol_cap").alias("cap"),
        excess.cast(pl.Float64).alias("excess_units"),
        (pl.col("units") - excess).cast(pl.Float64).alias("correct_units"),
    )


CHECK = Check(card=load_card(__file__), find=find)
