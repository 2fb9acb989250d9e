"""duplicate-initial-infusion: more than one initial administration service in an encounter.

**duplicate-initial-infusion** (error). More than one unit of initial services in one encounter (two
96365 lines, 96365 x3 units, 96365 plus 96360 or 96374 as initial), where neither the extra one nor
the one that stays initial carries 59, XE, XS, XP or XU (the modifier may sit on either, as NCCI
reads it). Hydration that concurrent-hydration removes (under 31 minutes outside another infusion)
is not an initial service here. The service that stays initial is the highest in the CPT hierarchy
(chemo infusion > chemo push > therapeutic infusion > SC infusion > therapeutic push > hydration),
then claim and line order. The fix names the right subsequent code: second therapeutic drug 96367,
hydration after 96365 is 96361 (in the units its minutes outside other infusions support as
secondary hydration, less the units the encounter's other hydration lines bill, which stay: the line is
deleted when they bill them all; hydration of 30 minutes or less is deleted, as infusion-too-short
says), push
after 96365 is 96375 (so is an infusion of 15 minutes or less, which is a push, also when only
observation minutes lift it over 15; for an immune globulin, never a push, the fix is 96367 with the
record's times corrected, where no other IV or SC infusion of the encounter can be the immune
globulin's), extra hours are 96366 (an initial billed x2 or more whose infusion
documents its times is told what those minutes support: 96365 x2 for 60 minutes is 96365 x1 and no
96366; one documented under its floor is left to the time rules, which recode the line whole: 96365
x2 for 10 minutes is 96374 x1, review 25D D3). A second infusion recoded to its sequential code is
reported once, its further hours with
the add-on hour code (CPT: 96367 and 96417 once per sequential infusion): 96365 x3 documented for
180 minutes after 96413 is 96367 x1 and 96366 x2, 96413 x2 for 120 minutes after 96413 is 96417 x1
and 96415 x1; without times, 96367 x1 and 96366 as the record documents. A second infusion
documented while the one that stays initial runs (together for more than 15 minutes, CPT's floor
of an infusion; end to start, or a few minutes' overlap, is sequential) is a concurrent infusion:
the fix is 96368 x1, with no additional hours (CPT: 96368 with 96365 or 96413, once per encounter),
or deleting the line where the encounter already bills 96368 or an earlier line takes it; where no
other infusion of its family stays in the encounter, its claim's additional-hour lines (96366) are
deleted with it, their units at risk in this finding (not also hours over the record or the MUE). A
sequential infusion (96367) documented while the one that stays initial runs (the same test; no
distinct-site modifier) is that concurrent infusion too: 96368 x1, or deleted where the encounter
already bills 96368 or an earlier line (of either kind) takes it (`sequential_concurrent`, `_again`;
CPT: 96367 is a sequential infusion of a new drug, 96368 a concurrent one). Where the one that
stays initial is a short infusion the swap makes a push (infusion-too-short's `push_before_infusion`:
10 minutes billed as 96365 before three hours billed as 96367), the initial service is that infusion:
the other lines are judged against it and the words name it (a 96367 run inside the three hours is
the concurrent one in the same run, not on the corrected claim's; review 24E D4, D6). A
subcutaneous infusion beside an IV initial service (96369 and 96365: no subsequent code reports one
after the other) is at a site of its own: the fix is XS (or 59) on it, not deleting it. A second
initial whose subsequent code is reported once per encounter (96371, a policy cap of 1) is deleted
where the encounter already bills that code or an earlier line takes it (its time, where the record
documents further hours of the same infusion, is 96370), not recoded to a second one; and a second
96369 whose documented times continue the kept one's infusion (from its end, or within 30 minutes
after it), where the encounter bills no 96370, is that infusion going on: its time beyond the first
hour is 96370 (as many as its minutes add to the hours the infusion so far supports), the line deleted
where they add none; several such lines are one infusion only where each continues the one before
and each but the last adds an hour (09:00-10:00, 10:00-11:00, 11:00-12:00: 96369 + 96370 x2), else
all are left to the set-up rule. A second 96360 documented apart from the kept one's hydration
(starting more than 30 minutes after it ends, or ending before it starts), the encounter's only one,
where it bills no 96361, is reported as 96361 in the hours beyond a first hour its own minutes support (recoded, it
meets no infusion: its own minutes are a whole infusion, as unit-miscalculation reads it), and
deleted where they support none (13:00-14:00 after 09:00-10:00; 13:00-14:40 is 96361 x1). Services
sent again to the next payer are not duplicates, and an administration line route-mismatch replaces
with the product's infusion codes (96369 x2 for an IV-only immune globulin) is not recoded here too.
Professional claims cite IOM 100-04 ch.12 section 30.5; institutional claims cite ch.4 section 230.2
(one initial service per vascular access site per encounter).

Implementation. The decision is :func:`checks._counting.initial_services`, shared with
units-over-mue and ncci-ptp-conflict so that a second initial service is reported once, here. It
counts the units of initial-service lines (``adm_role`` initial in
``scrubber/data/admin_codes.csv``) without a distinct-site modifier per encounter (``enc_key``: a
next-payer copy is its own encounter, an institutional claim is one encounter across midnight, split
only where its dates leave a whole day without service, :func:`scrubber.enrich.encounters`), ranks
them by ``adm_initial_rank`` (the hierarchy), then claim and line, and flags every unit after the
first. The hospital hierarchy of issue 13 (chemotherapy > therapeutic > hydration; infusion > push >
injection) orders the initial codes exactly as the physician one, so one rank serves both; the words
and citations differ by setting (the card). The fix names a subsequent code only when that code's
allowed primaries accept the initial that stays (``adm_subsequent_code`` and its primaries): after
96369, 96365 has no add-on that follows it, so the fix is XS (a subcutaneous infusion site and an IV
access are separate sites). A line documented under its infusion floor is its push whatever its billed
code's subsequent code accepts: a 10-minute 96413 beside a kept 96409 is 96411 (probe 25A D1). A
kept initial billed x2 or more is told to bill x1 and report the rest with the
add-on hour code (96365 x3: 96365 x1 and 96366 x2) or the subsequent code (96374 x2: 96374 x1 and
96375 x1). The units over one are the money at risk (``excess_units``). """

from __future__ import annotations

import polars as pl

from checks._counting import (
    below_floor,
    billed_line,
    concurrent_of_batch,
    hydration_as_secondary,
    initial_services,
    initial_swaps,
    kept_as_swapped,
    not_replaced,
    outranked_push,
    sequential_infusions,
    swapped_initials,
    units_recoded_whole,
)
from scrubber import reference
from scrubber.cards import load_card
from scrubber.enrich import beside_rejected_codes, code_is
from scrubber.registry import Check, Context
from scrubber.timing import billed_as, chain_code, episode_interval, hour_units, interval, timing


def find(lines: pl.LazyFrame, ctx: Context) -> pl.LazyFrame:
    # Collected once, the columns read here only: the words and the secondary-hydration units both
    # read it (a few lines of a batch).
    extra = not_replaced(lines, initial_services(lines).select(
        "row_id", "is_kept_line", "extra_units", "adm_bit", "adm_addon_hour_code", "adm_subsequent_code",
        "adm_subsequent_primary_mask", "kept_code", "kept_bit", "kept_claim", "kept_line", "kept_dos",
        "date_of_service", "claim_id", "line_number", "enc_key", "enc_admin_mask", "kept_row",
        "adm_concurrent_code", "adm_concurrent_primary_mask", "adm_concurrent_bit", "code_idx", "policy",
    ).collect())
    # A kept initial billed x2 or more that is documented under its floor is the time rules' to recode
    # whole (:func:`units_recoded_whole`: 96365 x2 for 10 minutes is "bill 96374 x1 instead"), not also
    # "bill 96365 x1" here: two codes for one line (review 25D D3).
    kept = extra.filter(pl.col("is_kept_line")).select("enc_key").unique().collect()
    if kept.height:
        whole = units_recoded_whole(lines, kept.get_column("enc_key")).select("row_id").collect()
        extra = extra.filter(~(pl.col("is_kept_line") & pl.col("row_id").is_in(whole.get_column("row_id").implode())))
    # The subsequent code only fits if its allowed primaries include the initial that stays.
    follows_kept = (pl.col("adm_subsequent_primary_mask") & pl.col("kept_bit")) != 0
    follows_itself = (pl.col("adm_subsequent_primary_mask") & pl.col("adm_bit")) != 0
    has_hours = pl.col("adm_addon_hour_code").is_not_null()
    # A second infusion of a family with hours (96365 after 96413: 96367 and 96366; 96413 after 96413:
    # 96417 and 96415) is reported once as its subsequent code, its later hours with the add-on hour
    # code (CPT: 96367 and 96417 once per sequential infusion). Hydration (96361 is both) is
    # secondary hydration, sized by its own rule (:func:`hydration_as_secondary`).
    sequential = (~pl.col("is_kept_line") & follows_kept & has_hours
                  & (pl.col("adm_subsequent_code") != pl.col("adm_addon_hour_code")))
    # A kept initial billed x2 or more, or such a sequential infusion, whose infusion documents its
    # minutes: the fix names what those minutes support (96365 x2 for 60 minutes is 96365 x1 and no
    # 96366; 96365 x3 for 180 minutes after 96413 is 96367 x1 and 96366 x2), not "the units as hours".
    named = pl.when(~pl.col("is_kept_line")).then(pl.col("adm_subsequent_code"))  # (kept: its own code)
    timed = _documented_hours(lines, extra.filter((pl.col("is_kept_line") & has_hours) | sequential).select(
        "row_id", named.alias("_named")))
    # A line documented under its floor (infusion-too-short's or observation-counted-as-infusion's too)
    # is billed as their fixes say: an infusion of 15 minutes or less as the sequential push (96375),
    # not 96367 (immune globulin, never a push: the usual subsequent code, once the times are corrected);
    # hydration of 30 minutes or less not at all.
    below = below_floor(lines, extra.filter(~pl.col("is_kept_line")))
    short = outranked_push(lines, below).join(
        below.lazy().select("row_id", "tm_push", pl.col("ep_minutes").alias("_short_minutes")), on="row_id")
    short_hydration = ~pl.col("is_kept_line") & pl.col("_short_minutes").is_not_null() & pl.col("tm_push").is_null()
    # (a line under its floor is billed as the time rules say: a push, or no hydration)
    long_enough = pl.col("_short_minutes").is_null()
    short_push = (~pl.col("is_kept_line") & ~long_enough & pl.col("tm_push").is_not_null()
                  & ~pl.col("ig").fill_null(False))
    # An infusion documented while the kept one runs is a concurrent infusion (96368), once per encounter.
    concurrent = ~pl.col("is_kept_line") & long_enough & pl.col("_concurrent").fill_null(False)
    # Hydration after the kept initial is secondary hydration (:func:`hydration_as_secondary`); when the
    # encounter's other hydration lines already bill every unit its minutes support, this line is deleted
    # ("report it as 96361 x1" beside a 96361 x1 that stays made x2 where the minutes support x1).
    nothing_left = (pl.col("secondary_units") >= 1) & pl.col("instead_units").is_null()
    # A code the encounter may bill once (a policy cap of 1: 96371) and already bills, or an earlier
    # line takes: the line is deleted, not recoded to it (probe 19C: 96369, 96371, 96369 was told "line 3
    # as 96371", and the fix applied was over-cap-96371's finding).
    taken = ~pl.col("is_kept_line") & long_enough & pl.col("_taken").fill_null(False)
    # A second 96369 whose times continue the kept one's infusion is that infusion going on: its time is
    # the additional hours (96370), not a second pump set-up (96371) (probe 19C).
    continued = ~pl.col("is_kept_line") & pl.col("_cont_units").is_not_null()
    # A second 96360 documented apart from the kept one's hydration is, recoded, a 96361 that meets no
    # infusion: its own minutes a whole infusion, billed as the hours beyond a first hour (probe 21A:
    # "report it as 96361 x1" for 60 minutes drew "delete 96361" on the corrected claim).
    separate = ~pl.col("is_kept_line") & long_enough & pl.col("_own_units").is_not_null()
    reason = (
        pl.when(pl.col("is_kept_line") & has_hours & pl.col("supported").is_not_null())
        .then(pl.lit("repeated_hours_timed"))
        .when(pl.col("is_kept_line") & has_hours).then(pl.lit("repeated_hours"))
        .when(pl.col("is_kept_line")).then(pl.lit("repeated_service"))
        .when(short_hydration).then(pl.lit("second_initial_short_hydration"))
        .when(~pl.col("is_kept_line") & nothing_left).then(pl.lit("second_initial_hydration_billed"))
        .when(concurrent & pl.col("_concurrent_code").is_not_null()).then(pl.lit("second_initial_concurrent"))
        .when(concurrent).then(pl.lit("second_initial_concurrent_again"))
        .when(continued & (pl.col("_cont_units") >= 1)).then(pl.lit("second_initial_continues"))
        .when(continued).then(pl.lit("second_initial_continues_none"))
        .when(separate & (pl.col("_own_units") < 1)).then(pl.lit("second_initial_separate_none"))
        .when(taken).then(pl.lit("second_initial_subsequent_taken"))
        .when(sequential & long_enough & pl.col("supported").is_not_null()
              & ((pl.col("extra_units") > 1) | (pl.col("ep_units") > 0))).then(pl.lit("second_initial_hours_timed"))
        .when(sequential & long_enough & pl.col("supported").is_null() & (pl.col("extra_units") > 1))
        .then(pl.lit("second_initial_units"))
        # (a short infusion is its push, 96411 after 96409 as 96375 after 96374, whether or not the billed
        # code's subsequent code takes the kept one: probe 25A D1, a 10-minute 96413 beside 96409 was told
        # "one is a subcutaneous infusion, append XS")
        .when(follows_kept | short_push).then(pl.lit("second_initial"))
        .otherwise(pl.lit("second_initial_no_subsequent"))
    )
    instead = (
        pl.when(continued).then(pl.col("adm_addon_hour_code"))
        .when(concurrent).then(pl.col("_concurrent_code"))
        .when(pl.col("is_kept_line") & has_hours).then(pl.col("adm_addon_hour_code"))
        .when(pl.col("is_kept_line") & follows_itself).then(pl.col("adm_subsequent_code"))
        .when(~pl.col("is_kept_line") & pl.col("tm_push").is_not_null() & ~pl.col("ig").fill_null(False))
        .then(pl.col("push_code"))
        .when(~pl.col("is_kept_line") & follows_kept).then(pl.col("adm_subsequent_code"))
    )
    # Hydration after another initial service is secondary hydration, in units of its own minutes; none
    # left for this line when the encounter's other hydration lines already bill them (delete it).
    secondary = hydration_as_secondary(lines, extra).select("row_id", "instead_units", "secondary_units")
    # A subsequent code the policy pays once per encounter (96371, CPT "once per encounter") is worded so,
    # not "once per sequential infusion" as 96367 and 96417 are (probe 19E: two findings of one claim
    # said both of 96371).
    once = ctx.policy_caps.filter(pl.col("cap") == 1).select(
        "policy", pl.col("procedure_code").alias("adm_subsequent_code"), pl.lit(True).alias("_once"))
    extra = extra.join(once, on=["policy", "adm_subsequent_code"], how="left")
    continues = _continuations(lines, extra)
    apart = _separate_sessions(lines, extra)
    # (with the sequential infusions: the encounter's one concurrent code goes to the first of either;
    # decided once per batch, as the hour and MUE counts read it)
    sequential = not_replaced(lines, sequential_infusions(lines)).collect()
    concurrent_found = concurrent_of_batch(lines)
    found = _named_as_swapped(lines, extra.join(secondary, on="row_id", how="left").join(
        short, on="row_id", how="left").join(timed, on="row_id", how="left").join(
        concurrent_found.lazy(), on="row_id", how="left").join(
        _subsequent_taken(extra), on="row_id", how="left").join(continues, on="row_id", how="left").join(
        apart, on="row_id", how="left")).select(
        "row_id",
        reason.alias("reason"),
        pl.col("kept_code").alias("kept"),
        "kept_claim",
        "kept_line",
        "kept_dos",
        instead.alias("instead"),
        pl.col("adm_addon_hour_code").alias("hour_code"),
        # A hospital encounter across dates (no documented times told the days apart): the visit may
        # have been a new one, which the record decides; XE (same day) is no remedy across dates. The
        # return is on the later of the two dates (probe 20A: an outranked line of the stay's first day
        # named that day as the one the patient "came back on").
        pl.when(pl.col("date_of_service") != pl.col("kept_dos")).then(pl.format(
            " If the record shows the patient left and came back on {}, that is a separate visit and this initial "
            "service stands (document both visits' times; XE is for a separate encounter the same day).",
            pl.max_horizontal("date_of_service", "kept_dos").cast(pl.String))).otherwise(pl.lit(""))
        .alias("visit_note"),
        # A concurrent infusion's own additional hours go with it (:func:`_concurrent_hours`): their units
        # are at risk too, laid on its line, then on theirs.
        (pl.col("extra_units").cast(pl.Float64) + pl.when(concurrent).then(pl.col("_hour_units")).fill_null(0.0))
        .alias("excess_units"),
        pl.when(concurrent & pl.col("_hour_rows").is_not_null()).then(pl.concat_list(pl.col("row_id"), "_hour_rows"))
        .alias("risk_rows"),
        pl.when(concurrent).then(pl.col("hours_note", "hours_removed")).fill_null(""),
        pl.when(continued).then(pl.col("_cont_units").cast(pl.Float64))
        .when(separate).then(pl.col("_own_units").cast(pl.Float64))
        # (a line documented under its floor is one push, whatever its units: 96365 x2 for 10 minutes
        # beside a kept 96374 is 96375 x1, as infusion-too-short says on the same line, review 26D D6)
        .when(concurrent | short_push).then(pl.lit(1.0)).otherwise(pl.coalesce(
            pl.col("instead_units").cast(pl.Float64), pl.col("extra_units").cast(pl.Float64))).alias("instead_units"),
        "own_interval",
        "kept_interval",
        "concurrent_code",
        "concurrent_elsewhere",
        pl.col("adm_subsequent_code").alias("subsequent_code"),
        "subsequent_elsewhere",
        pl.when(pl.col("_once")).then(pl.lit("once per encounter")).otherwise(pl.lit("once per sequential infusion"))
        .alias("per"),
        pl.when(pl.col("_once")).then(pl.lit("")).otherwise(pl.format(
            ", and each further new drug's infusion is its own {}", "adm_subsequent_code")).alias("per_more"),
        pl.col("_cont_total").alias("cont_total"),
        pl.col("cont_before").fill_null(""),
        pl.when(continued).then(pl.col("_cont_minutes")).when(separate).then(pl.col("_own_minutes"))
        .otherwise(pl.coalesce("minutes", "_short_minutes")).alias("minutes"),
        pl.when(continued).then(pl.col("_cont_interval")).when(separate).then(pl.col("_own_interval"))
        .otherwise(pl.col("interval")).alias("interval"),
        "supported",
        pl.col("secondary_units").cast(pl.Float64),
    )
    return pl.concat([found, _sequential_concurrent(swapped_initials(lines, sequential), concurrent_found)],
                     how="diagonal_relaxed")


def _named_as_swapped(lines: pl.LazyFrame, extra: pl.LazyFrame) -> pl.LazyFrame:
    """``extra`` with the ``kept_*`` its words name (code, claim, line, date) those of the infusion the
    swap makes the initial service where the kept initial is a short line it makes a push
    (:func:`checks._counting.initial_swaps`): the fixes on the other lines name the service that stays
    initial once they are applied (review 24E D6: "the initial service is 96365 on line 1" beside
    infusion-too-short's "line 1 is 96375; line 2, billed 96367, is the initial 96365")."""
    kept = extra.filter(~pl.col("is_kept_line")).select("kept_row").collect().get_column("kept_row")
    swaps = initial_swaps(lines, kept)
    if not swaps.height:
        return extra
    schema = extra.collect_schema()
    # (the kept line's own row stays: the words name the swapped line, the joins key on the row)
    return kept_as_swapped(extra.join(swaps.lazy(), on="kept_row", how="left", maintain_order="left"),
                           pl.Schema({k: v for k, v in schema.items() if k != "kept_row"}), ~pl.col("is_kept_line"))


def _sequential_concurrent(sequential: pl.DataFrame, concurrent: pl.DataFrame) -> pl.LazyFrame:
    """The sequential infusions (96367: :func:`checks._counting.sequential_infusions`) documented while
    the kept initial's infusion runs (:func:`checks._counting.concurrent_infusions`): a concurrent
    infusion, reported as its concurrent code x1 (96368, once per encounter, no additional hours), or
    deleted where the encounter already bills it or an earlier line takes it. CPT: 96367 is a
    *sequential* infusion of a new drug, 96368 a *concurrent* one (probe 23A D1)."""
    return sequential.lazy().join(concurrent.lazy(), on="row_id", how="inner").select(
        "row_id",
        pl.when(pl.col("_concurrent_code").is_not_null()).then(pl.lit("sequential_concurrent"))
        .otherwise(pl.lit("sequential_concurrent_again")).alias("reason"),
        pl.col("kept_code").alias("kept"),
        "kept_claim",
        "kept_line",
        "kept_dos",
        pl.col("_concurrent_code").alias("instead"),
        pl.lit("").alias("visit_note"),  # (the documented times overlap: no separate visit)
        # (the line goes whole, recoded or deleted; the hours that go with it are at risk here too)
        (pl.col("units").cast(pl.Float64) + pl.col("_hour_units").fill_null(0.0)).alias("excess_units"),
        pl.when(pl.col("_hour_rows").is_not_null()).then(pl.concat_list(pl.col("row_id"), "_hour_rows"))
        .alias("risk_rows"),
        pl.col("hours_note", "hours_removed").fill_null(""),
        pl.lit(1.0).alias("instead_units"),
        "own_interval",
        "kept_interval",
        "concurrent_code",
        "concurrent_elsewhere",
    )


def _bits_of(column: str, alias: str) -> pl.LazyFrame:
    """(``column``, ``alias``): each administration code of the code table, named as ``column`` names a
    code (the add-on hour code, the subsequent code), with its bit in the encounter's code masks."""
    return reference.code_table().lazy().filter(pl.col("adm_bit").is_not_null()).select(
        pl.col("procedure_code").alias(column), pl.col("adm_bit").alias(alias))


def _continuations(lines: pl.LazyFrame, extra: pl.LazyFrame) -> pl.LazyFrame:
    """``row_id`` -> ``_cont_units``, ``_cont_total``, ``_cont_minutes``, ``_cont_interval``,
    ``cont_before``: the outranked initial lines of ``extra`` billing the kept initial's own code, whose
    subsequent code is paid once per encounter (``_once``: 96369, whose 96371 is a new pump set-up with
    new sites), in an encounter billing no additional-hour line of the chain, that together continue the
    kept line's infusion: each starts where the infusion so far ends or within
    ``timing.addon_gap_minutes`` after it. One infusion going on, whose time beyond the first hour is
    the additional hours (96370) its minutes support (:func:`scrubber.timing.hour_units`, the gaps not
    counted): each line is the hours its own minutes add (``_cont_units``, of ``_cont_total`` through
    it; ``cont_before``: those the earlier lines report). Only where every such line of the encounter
    continues it: a later second set-up among them is left to the set-up rule for all, whose fixes
    agree with each other (probe 19F: a third line told that "96371 goes to" a line recoded to 96370).
    96369 09:00-10:00 and 96369 10:00-11:00 was "report as 96371", where 96369 x2 on one line for the
    same 120 minutes was 96369 + 96370 (probe 19C); three such lines were 96371 and a deletion where
    their 180 minutes are 96369 + 96370 x2 (probe 19F)."""
    rows = extra.filter(~pl.col("is_kept_line") & pl.col("_once").fill_null(False)
                        & (pl.col("adm_bit") == pl.col("kept_bit"))).join(
        _bits_of("adm_addon_hour_code", "_hour_bit"), on="adm_addon_hour_code")
    rows = rows.filter((pl.col("enc_admin_mask") & pl.col("_hour_bit")) == 0).select(
        "row_id", "kept_row", "enc_key", "claim_id", "line_number", "adm_addon_hour_code").collect()
    if not rows.height:
        return pl.LazyFrame(schema={"row_id": pl.Int64, "_cont_units": pl.Int64, "_cont_total": pl.Int64,
                                    "_cont_minutes": pl.Int64, "_cont_interval": pl.String, "cont_before": pl.String})
    wanted = pl.concat([rows.get_column("row_id"), rows.get_column("kept_row")]).unique()
    t = timing(lines).lines.filter(pl.col("row_id").is_in(wanted.implode()))
    own = t.select("row_id", "s", "e").filter(pl.col("e").is_not_null())
    kept = t.select(pl.col("row_id").alias("kept_row"), pl.col("ep_start").alias("_ks"),
                    pl.col("ep_stop").alias("_ke")).filter(pl.col("_ke").is_not_null())
    gap = reference.manifest()["timing"]["addon_gap_minutes"]
    # In start order: where the infusion so far ends (the kept one's stop, then the latest stop before).
    ordered = rows.lazy().join(own, on="row_id", how="left").join(kept, on="kept_row", how="left").sort(
        "enc_key", "s", "line_number").with_columns(
        pl.max_horizontal(pl.col("_ke"), pl.col("e").cum_max().shift(1).over("enc_key")).alias("_so_far"))
    follows = ((pl.col("s") >= pl.col("_so_far")) & (pl.col("s") - pl.col("_so_far") <= gap)
               & (pl.col("e") > pl.col("s")))
    minutes = (pl.col("_ke") - pl.col("_ks")) + (pl.col("e") - pl.col("s")).cum_sum().over("enc_key")
    chained = ordered.filter(follows.fill_null(False).all().over("enc_key")).with_columns(minutes.alias("_m"))
    # The earlier lines that report hours, named ("96370 x1 on claim S1 line 2"), for the words.
    named = pl.when(pl.col("_units") > 0).then(billed_line("adm_addon_hour_code", "_units"))
    worded = chained.with_columns(
        hour_units(pl.col("_m")).cast(pl.Int64).alias("_total"),
        pl.int_range(pl.len()).over("enc_key").alias("_k"),  # (the line's place in the chain, from 0)
        interval("s", "e").alias("_iv"),
    ).with_columns(
        (pl.col("_total") - pl.col("_total").shift(1, fill_value=0).over("enc_key")).alias("_units"),
    ).filter(
        # A line before the last that adds no hour would be deleted while its minutes carry the next
        # line's hours (and may bridge the gap to it): applied, the claim did not settle (review 20D).
        # Such a chain is left to the set-up rule.
        ~((pl.col("_units") == 0) & (pl.col("_k") < pl.len().over("enc_key") - 1)).any().over("enc_key"),
    ).with_columns(
        named.alias("_named"),
    ).with_columns(
        pl.col("_iv").over("enc_key", mapping_strategy="join").alias("_ivs"),
        pl.col("_named").over("enc_key", mapping_strategy="join").alias("_names"),
    )
    # (the intervals so far: the kept one's, then each line's through this one)
    intervals = pl.concat_list(interval("_ks", "_ke"), pl.col("_ivs").list.head(pl.col("_k") + 1))
    before = pl.col("_names").list.head(pl.col("_k")).list.drop_nulls()
    return worded.select(
        "row_id",
        "_units",
        "_total",
        pl.col("_m").cast(pl.Int64).alias("_cont_minutes"),
        (intervals.list.head(intervals.list.len() - 1).list.join(", ") + pl.lit(" and ") + intervals.list.last())
        .alias("_cont_interval"),
        pl.when(before.list.len() > 0).then(pl.lit("; the earlier hours: ") + before.list.join(", "))
        .otherwise(pl.lit("")).alias("cont_before"),
    ).rename({"_units": "_cont_units", "_total": "_cont_total"})


def _separate_sessions(lines: pl.LazyFrame, extra: pl.LazyFrame) -> pl.LazyFrame:
    """``row_id`` -> ``_own_units``, ``_own_minutes``, ``_own_interval``: the outranked initial lines of
    ``extra`` billing the kept line's own code whose subsequent code is its additional-hour code (96360:
    96361), in an encounter billing no line of that code, documented apart from the kept infusion
    (starting more than ``timing.addon_gap_minutes`` after it ends, or ending before it starts), the
    encounter's only such line.
    Recoded, such a line is an additional-hour line that meets no infusion: its own minutes are a whole
    infusion (docs/RULES.md, unit-miscalculation), so it bills the hours beyond a first hour they
    support (:func:`scrubber.timing.hour_units`; none up to 90 minutes: the line is deleted). The set-up
    rule's "96361 x1" for a 60-minute session drew "delete 96361" on the corrected claim (probe 21A)."""
    rows = extra.filter(~pl.col("is_kept_line") & (pl.col("adm_bit") == pl.col("kept_bit"))
                        & (pl.col("adm_subsequent_code") == pl.col("adm_addon_hour_code"))).join(
        _bits_of("adm_addon_hour_code", "_hour_bit"), on="adm_addon_hour_code")
    # (one such line in the encounter: two would merge with each other once recoded, which sizing each
    # alone missed; review 21C. Those are left to the set-up rule, as before.)
    rows = rows.filter(((pl.col("enc_admin_mask") & pl.col("_hour_bit")) == 0)
                       & (pl.len().over("enc_key") == 1)).select("row_id", "kept_row").collect()
    if not rows.height:
        return pl.LazyFrame(schema={"row_id": pl.Int64, "_own_units": pl.Int64, "_own_minutes": pl.Int64,
                                    "_own_interval": pl.String})
    wanted = pl.concat([rows.get_column("row_id"), rows.get_column("kept_row")]).unique()
    t = timing(lines).lines.filter(pl.col("row_id").is_in(wanted.implode()))
    own = t.select("row_id", "s", "e", "minutes").filter(pl.col("minutes").is_not_null())
    kept = t.select(pl.col("row_id").alias("kept_row"), pl.col("ep_start").alias("_ks"),
                    pl.col("ep_stop").alias("_ke")).filter(pl.col("_ke").is_not_null())
    gap = reference.manifest()["timing"]["addon_gap_minutes"]
    # (after the kept infusion by more than the gap, or ending before it starts: one touching it is
    # read by the time rules as meeting it (review 21C), and one before it with no infusion of its family
    # before it is an infusion of its own whatever the gap (review 21E: the earlier session listed second
    # was "96361 x1", then "delete 96361"))
    apart = (pl.col("s") - pl.col("_ke") > gap) | (pl.col("e") < pl.col("_ks"))
    return rows.lazy().join(own, on="row_id").join(kept, on="kept_row").filter(apart).select(
        "row_id", hour_units(pl.col("minutes")).cast(pl.Int64).alias("_own_units"),
        pl.col("minutes").cast(pl.Int64).alias("_own_minutes"), interval("s", "e").alias("_own_interval"))


def _subsequent_taken(extra: pl.LazyFrame) -> pl.LazyFrame:
    """``row_id`` -> ``_taken``, ``subsequent_elsewhere``: the outranked initial lines of ``extra`` whose
    subsequent code the line's policy caps at one unit per encounter (``_once``, from ``[caps]``: 96371, CPT "Use
    96369, 96371 only once per encounter") and which the encounter already bills, or which an earlier
    such line (by claim and line) takes."""
    follows = (pl.col("adm_subsequent_primary_mask") & pl.col("kept_bit")) != 0
    rows = extra.filter(~pl.col("is_kept_line") & follows & pl.col("_once").fill_null(False)).join(
        _bits_of("adm_subsequent_code", "_sub_bit"), on="adm_subsequent_code")
    ranked = rows.sort("enc_key", "claim_id", "line_number").with_columns(
        pl.col("claim_id").first().over("enc_key").alias("_first_claim"),
        pl.col("line_number").first().over("enc_key").alias("_first_line"),
        (pl.int_range(pl.len()).over("enc_key") == 0).alias("_is_first"),
        ((pl.col("enc_admin_mask") & pl.col("_sub_bit")) != 0).alias("_billed"),
    )
    return ranked.filter(pl.col("_billed") | ~pl.col("_is_first")).select(
        "row_id",
        pl.lit(True).alias("_taken"),
        pl.when(pl.col("_billed")).then(pl.lit("is already billed in this encounter")).otherwise(pl.format(
            "goes to claim {} line {}", "_first_claim", "_first_line")).alias("subsequent_elsewhere"),
    )


def _documented_hours(lines: pl.LazyFrame, kept: pl.LazyFrame) -> pl.LazyFrame:
    """``row_id`` -> ``minutes``, ``interval``, ``ep_units`` and ``supported`` ("96365 x1 and 96366 x2",
    "96365 x1 and no 96366"; ``kept``'s ``_named``, when given, names the first code: "96367 x1 and
    96366 x2"): for kept initial lines billed x2 or more, and second infusions reported as their
    sequential code, what their infusion's documented minutes support in all (:mod:`scrubber.timing`'s
    episode: the line with any add-on line documented as its continuation, the add-on units of
    ``1 + floor((T - 91) / 60)`` from 91 minutes). Lines without usable times are left out (their fix
    says the documented minutes decide)."""
    t = timing(lines)
    rows = t.lines.join(kept, on="row_id").filter(pl.col("ep").is_not_null())
    return rows.join(t.episodes.select("ep", "ep_units"), on="ep").join(
        lines.select("row_id", "procedure_code"), on="row_id").select(
        "row_id",
        pl.col("ep_minutes").alias("minutes"),
        episode_interval().alias("interval"),
        (pl.coalesce("_named", "procedure_code") + pl.lit(" x1 and ")
         + billed_as(chain_code(), pl.col("ep_units"))).alias("supported"),
        "ep_units",
    )


def unevaluated(lines: pl.LazyFrame) -> pl.LazyFrame:
    """Initial-service lines of an encounter where a rejected row bills an initial service too (its
    code read, another cell not): which service stays initial cannot be told (probe 20B D2: a rejected
    96365 left the good second 96365 neither reported nor counted)."""
    initial = reference.admin_bits(reference.admin_codes_where(role="initial"))
    return beside_rejected_codes(lines.filter(code_is(adm_role="initial")), initial).select("row_id")


CHECK = Check(card=load_card(__file__), find=find, unevaluated=unevaluated, reads_timing=True)
