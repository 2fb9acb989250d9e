"""The lines of one drug on one claim and date, as two checks read them (one root cause, one finding).

``missing-modifier`` words a JW or JZ line by its drug's other lines (the administered line, the JW
lines), and ``unit-miscalculation`` judges a JW line's units as the discarded amount. A JW line that
is its drug's only line on the claim and date bills the administered dose under JW: its error is the
modifier (``missing-modifier``: JW comes off, the waste goes on its own line), not a count of
discarded units, so ``unit-miscalculation`` leaves it alone. That decision is
:func:`jw_billing_the_dose`, written here once for both.
"""

from __future__ import annotations

import polars as pl

GROUP = ["cd_key", "code_idx"]  # one drug on one claim and date


def siblings(drugs: pl.LazyFrame, wanted: pl.LazyFrame) -> pl.LazyFrame:
    """Per drug, claim and date in ``wanted`` (lines of ``drugs``): ``admin_line`` (the first line
    without JW), ``n_admin`` (how many lines without JW), ``admin_has_jz`` and ``jw_lines`` (the JW
    lines' numbers). Aggregated only for the groups of ``wanted``: a few lines of a batch."""
    is_jw = pl.col("is_jw")
    return drugs.join(wanted.select(GROUP).unique(), on=GROUP, how="semi").group_by(GROUP).agg(
        pl.col("line_number").filter(~is_jw).min().alias("admin_line"),
        (~is_jw).sum().alias("n_admin"),
        (pl.col("is_jz") & ~is_jw).any().alias("admin_has_jz"),
        pl.col("line_number").filter(is_jw).sort().cast(pl.String).str.join(", ").alias("jw_lines"),
    )


def jw_billing_the_dose() -> pl.Expr:
    """On lines joined with :func:`siblings`: a JW line with no line of its drug without JW on the
    claim and date, i.e. the line that bills the administered dose."""
    return pl.col("is_jw") & (pl.col("n_admin") == 0)
