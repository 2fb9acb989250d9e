"""infusion-too-short: an infusion documented for less than its code's minimum time.

**infusion-too-short** (error). An infusion line whose documented minutes, without observation, are
below its floor: 96365, 96367, 96413 or 96417 with T <= 15 (an infusion of 15 minutes or less is a
push: use 96374, 96375, 96409, 96411, the initial push 96374 or 96409 for a sequential infusion
line that is the only administration line of its practitioner encounter (where its policy pays
it); where the line can only
be an immune globulin's (the
encounter bills one and no other IV or SC infusion of it, long enough or untimed, can carry it),
never a push, the fix is the documented times instead); 96360 with T <= 30 (hydration of 30 minutes
or less is not reported). When T plus observation reaches the floor, `observation-counted-as-infusion`
fires instead.

Implementation. The floors and the codes to use instead are data (``admin_codes.csv``: ``min_minutes``
16 for 96365, 96367, 96413, 96417 and 31 for 96360; ``push_code`` 96374, 96375, 96409, 96411). T is the
infusion's minutes from :mod:`scrubber.timing`: its own start and stop, merged with an add-on line
documented as its continuation (96360 09:00-09:20 with 96361 09:20-10:20 is one 80-minute hydration, not
a 20-minute one). Boundaries: 15 minutes fires and 16 does not; 30 fires and 31 does not. An infusion
without usable times is not evaluated (counted). In an encounter that bills an immune globulin and has
no other IV or SC infusion line (96365, 96367, 96369) long enough or untimed, the reason is ``ig_push``:
IG is never a push (route-mismatch), so the fix is the documented times, not the push code. Beside such
a line the immune globulin's infusion may be that one: a 10-minute premedication after three hours of
IVIG is a push of another drug (probe 24A D1; :func:`checks._counting.outranked_push`). A short infusion
that another initial service of the encounter outranks is a sequential push (96365 for 10 minutes after
96413: 96375, the code ``duplicate-initial-infusion``'s fix on the same line names;
:func:`checks._counting.sequential_push`). A short initial infusion the encounter keeps as its initial
service, beside an infusion of its family billed as sequential (96367, 96417) and documented long
enough, is ``push_before_infusion``: the infusion is the initial service (CPT's hierarchy; IOM 100-04
ch.12 §30.5, the primary reason irrespective of order), so the push is the sequential one and the fix
names both lines (96375 instead of 96365, and 96367 as 96365, x1 where it bills more units for its
one documented infusion, the hours asked beside it by `unit-miscalculation`; probe 24A O01, review
27A D3).
"""

from __future__ import annotations

import polars as pl

from checks._counting import PROMOTED, floored_infusions, outranked_push, short_infusions
from scrubber.cards import load_card
from scrubber.registry import Check, Context
from scrubber.timing import episode_interval


def find(lines: pl.LazyFrame, ctx: Context) -> pl.LazyFrame:
    minutes, floor = pl.col("ep_minutes"), pl.col("tm_floor")
    # (the decision, checks._counting: without the minutes observation would add to reach the floor)
    short = short_infusions(lines).collect()  # a few lines, read twice
    # The push to bill (the sequential push where another initial service outranks the line), and
    # whether the encounter bills an immune globulin, never a push (then the fix is the record's times).
    push = outranked_push(lines, short)
    reason = (pl.when(pl.col("ig")).then(pl.lit("ig_push"))
              .when(pl.col("promote_code").is_not_null()).then(pl.lit("push_before_infusion"))
              .otherwise(pl.lit("push")))
    return short.lazy().join(push, on="row_id", how="left").select(
        "row_id",
        pl.when(pl.col("tm_push").is_not_null()).then(reason).otherwise(pl.lit("hydration")).alias("reason"),
        minutes.alias("minutes"),
        floor.alias("floor"),
        "push_code",
        episode_interval().alias("interval"),
        *PROMOTED,
    )


def unevaluated(lines: pl.LazyFrame) -> pl.LazyFrame:
    """Infusion lines with a floor and no usable start and stop."""
    return floored_infusions(lines).filter(pl.col("minutes").is_null()).select("row_id")


CHECK = Check(card=load_card(__file__), find=find, unevaluated=unevaluated, reads_timing=True)
