"""observation-counted-as-infusion: infusion time reached only by counting observation minutes.

**observation-counted-as-infusion** (error). For a time-based family: the billed add-on units exceed
what the infusing minutes support but are within what they support with `observation_minutes` added;
or an infusion needs T >= 16 (hydration T >= 31) and only T + observation reaches it. Observation,
education, flushes and keep-vein-open time are not infusion time. A too-short drug infusion is fixed
as infusion-too-short fixes it: its push code (the sequential push where another initial service
outranks it), or, where the line can only be an immune globulin's (the encounter bills one and no
other IV or SC infusion of it, long enough or untimed, can carry it), never a push, the record's times.

Implementation. The time facts are :mod:`scrubber.timing`'s (episodes of merged intervals per
encounter, the units each supports with and without the observation minutes documented on its
lines, or on an add-on line without times of its chain, which count for the latest infusion it
extends; one observation period per episode, the longest documented). Add-on hours: an add-on code
judged once per encounter, on its first line, fires when its billed units exceed what the infusing
minutes support and do not exceed what they support with the observation added (`unit-miscalculation`
stays quiet then: one finding per root cause); the hours of an infusion duplicate-initial-infusion
recodes as concurrent are its finding's. Floors: an infusion line with a floor in
``admin_codes.csv`` (``min_minutes``: 16, hydration 31) fires when its minutes (the episode it
begins, so an add-on line documented as its continuation counts) are below the floor and only the
observation minutes lift them to it (`infusion-too-short` stays quiet then). The fix names the computed
answer: the add-on units the infusing minutes support, the push code (``push_code``) for a too-short
drug infusion (the sequential push, 96375, where another initial service outranks it, as
infusion-too-short and duplicate-initial-infusion name it: :func:`checks._counting.outranked_push`),
deletion for too-short hydration. Where the line can only be an immune globulin's (no other IV or SC
infusion of the encounter carries it), never a push, the fix is the record's times (``below_floor_ig``),
as infusion-too-short's ``ig_push``: a push code would only trade this finding for route-mismatch's.
Beside an infusion of its family billed as sequential (96367) the push is the sequential one and the
infusion the initial service (``below_floor_push_before_infusion``, as infusion-too-short's
``push_before_infusion``).
"""

from __future__ import annotations

import polars as pl

from checks._counting import (
    PROMOTED,
    as_fixes_leave,
    as_secondary_hydration,
    floored_infusions,
    lifted_by_observation,
    outranked_push,
    under_floor,
)
from scrubber.cards import load_card
from scrubber.registry import Check, Context
from scrubber.timing import episode_interval, timing


def _hours(lines: pl.LazyFrame) -> pl.LazyFrame:
    """The add-on hours findings, an encounter losing lines to another finding's fix (an MUE deletion,
    a concurrent recode) judged as the fix leaves it (:func:`checks._counting.as_fixes_leave`), as
    unit-miscalculation judges it: one reading of the hours (review 24E D1: judged on the billed claim,
    the concurrent infusion's hour hid the observation's, and beside unit-miscalculation's "x2" this
    check said "x3")."""
    _, encounters, corrected = as_fixes_leave(lines)
    if corrected is None:
        return _hours_judged(lines)
    return pl.concat([_hours_judged(lines, skip=encounters.get_column("enc_key")), _hours_judged(corrected)],
                     how="vertical_relaxed")


def _hours_judged(lines: pl.LazyFrame, skip: pl.Series | None = None) -> pl.LazyFrame:
    t = timing(lines)
    billed, counted, expected = pl.col("billed"), pl.col("counted"), pl.col("expected")
    groups = t.groups if skip is None else t.groups.filter(~pl.col("enc_key").is_in(skip.implode()))
    # ``counted``: without the lines of hydration concurrent-hydration removes (its root cause).
    hit = groups.filter(pl.col("evaluable") & (counted > expected) & (counted <= pl.col("expected_obs"))).collect()
    if hit.height:
        # (hydration after an initial service that outranks the 96360 is secondary hydration)
        hit = as_secondary_hydration(hit, lines).filter((counted > expected) & (counted <= pl.col("expected_obs")))
    return (
        hit.lazy().select(
            pl.col("head").alias("row_id"),
            pl.when(expected == 0).then(pl.lit("addon_hours_none")).otherwise(pl.lit("addon_hours")).alias("reason"),
            billed.alias("billed"),
            expected.alias("expected"),
            (billed - expected).alias("excess_units"),
            pl.col("observation").alias("obs_minutes"),
            "billed_on",
            "infusions",
            pl.when(expected == 0).then(pl.col("hour_rows")).alias("risk_rows"),
        )
    )


def _floors(lines: pl.LazyFrame) -> pl.LazyFrame:
    minutes, floor, obs = pl.col("ep_minutes"), pl.col("tm_floor"), pl.col("ep_obs")
    hit = floored_infusions(lines).filter(under_floor() & lifted_by_observation()).collect()  # few, read twice
    # The push code infusion-too-short would name (the sequential push where another initial service
    # outranks the line); immune globulin is never a push, so there the fix is the record's times.
    push = outranked_push(lines, hit)
    drug = (pl.when(pl.col("ig")).then(pl.lit("below_floor_ig"))
            .when(pl.col("promote_code").is_not_null()).then(pl.lit("below_floor_push_before_infusion"))
            .otherwise(pl.lit("below_floor_push")))
    return hit.lazy().join(push, on="row_id", how="left").select(
        "row_id",
        pl.when(pl.col("tm_push").is_not_null()).then(drug).otherwise(pl.lit("below_floor_hydration")).alias("reason"),
        minutes.alias("minutes"),
        floor.alias("floor"),
        obs.alias("obs_minutes"),
        "push_code",
        episode_interval().alias("interval"),
        *PROMOTED,
    )


def find(lines: pl.LazyFrame, ctx: Context) -> pl.LazyFrame:
    return pl.concat([_hours(lines), _floors(lines)], how="diagonal_relaxed")


def unevaluated(lines: pl.LazyFrame) -> pl.LazyFrame:
    """Add-on lines whose encounter's time cannot be judged; infusion lines with a floor and no usable times."""
    groups = timing(lines).groups
    _, encounters, corrected = as_fixes_leave(lines)
    if corrected is not None:  # (those encounters as the findings read them: review 24F D2)
        groups = pl.concat([groups.join(encounters.lazy(), on="enc_key", how="anti"),
                            timing(corrected).groups.select(groups.collect_schema().names())])
    hours = groups.filter(~pl.col("evaluable")).select(pl.col("hour_rows").alias("row_id"))
    floors = floored_infusions(lines).filter(pl.col("minutes").is_null()).select("row_id")
    return pl.concat([hours.explode("row_id"), floors])


CHECK = Check(card=load_card(__file__), find=find, unevaluated=unevaluated, reads_timing=True)
