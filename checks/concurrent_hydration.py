"""concurrent-hydration: hydration billed for minutes another infusion was running.

**concurrent-hydration** (error). A hydration line (96360, 96361) whose documented minutes overlap
another infusion's documented minutes in the encounter: hydration concurrent with other drug
administration is not separately reportable (NCCI Policy Manual ch. XI). The fix recomputes
hydration from its minutes outside the overlap (removed when under 31). Where the hydration is
already billed in the units its minutes outside the overlap support, the finding is information, not
an error (nothing to correct; the record of both intervals is what a payer asks for); otherwise the
units billed over those are at risk.

Implementation. Intervals come from :mod:`scrubber.timing`: every timed line's own start and stop
(midnight rule included); the other infusions of the encounter (every timed line that is not
hydration: infusions and the add-on hours documented with them) are merged into disjoint segments,
and a hydration line fires when its own interval shares at least one minute with them (touching,
10:00-11:00 beside 11:00-12:00, is not overlapping). The recomputed hydration is its episode's (96360
with the 96361 lines documented as its continuation, or a secondary 96361) minutes outside the
segments: under 31 the hydration is removed (its lines are at risk); otherwise the fix names what
those minutes support (96360 x1 with 96361 hours by the add-on rule, or 96361 as secondary
hydration, also when another initial service of the encounter outranks the 96360: the fix then
agrees with `duplicate-initial-infusion`'s on the same line), and `unit-miscalculation`, which
counts hydration minutes the same way, reports any excess units. One root cause, one finding:
hydration whose documented minutes are under 31 anyway is `infusion-too-short` (96360) or
`unit-miscalculation` (secondary 96361), not this check. Not evaluated (counted): hydration lines in
an encounter with another infusion when the hydration line or an infusion line of the encounter has
no usable times. The words name each line a hydration line overlaps, with its times; in an encounter
of more than 10,000 such pairs (thousands of lines on one member and date) they count them, each count
a sorted search, so the cost stays that of the lines (probe 22B: 16,000 lines took 71 s and 10 GB).
"""

from __future__ import annotations

import polars as pl

from checks._counting import hydration_as_secondary, initial_services
from scrubber import reference
from scrubber.cards import load_card
from scrubber.enrich import beside_rejected_codes, code
from scrubber.registry import Check, Context
from scrubber.text import number
from scrubber.timing import (
    HOUR,
    INFUSION,
    Timing,
    billed_as,
    chain_code,
    codes_where,
    concurrent_hydration,
    interval,
    labels,
    removed_hydration,
    timing,
)

# Hydration lines x other infusions of one encounter named line by line at most: beyond it the words
# count the lines overlapped (an export putting thousands of lines on one member and date made the
# pairs quadratic: 16,000 lines took 71 s and 10 GB, probe 22B).
_MAX_PAIRS = 10_000


def _overlapped(t: Timing, hit: pl.LazyFrame) -> pl.LazyFrame:
    """``row_id`` -> ``overlapped``: the other infusions' lines a hydration line overlaps, with times
    (in an encounter of more than :data:`_MAX_PAIRS` pairs, how many: :func:`_overlap_counts`)."""
    drugs = t.lines.join(hit.select("enc_key").unique(), on="enc_key", how="semi").filter(
        ~pl.col("tm_hydration") & pl.col("minutes").is_not_null()).select(
        "row_id", "enc_key", pl.col("s").alias("_ds"), pl.col("e").alias("_de")).collect()
    sizes = hit.group_by("enc_key").len("_hits").collect().join(
        drugs.group_by("enc_key").len("_drugs"), on="enc_key", how="left")
    large = sizes.filter(pl.col("_hits") * pl.col("_drugs").fill_null(0) > _MAX_PAIRS).select("enc_key")
    named_part = _named_overlaps(t, hit.join(large.lazy(), on="enc_key", how="anti"),
                                 drugs.lazy().join(large.lazy(), on="enc_key", how="anti"))
    if large.height == 0:
        return named_part
    return pl.concat([named_part, _overlap_counts(hit.join(large.lazy(), on="enc_key", how="semi"),
                                                  drugs.join(large, on="enc_key", how="semi"))])


def _overlap_counts(hit: pl.LazyFrame, drugs: pl.DataFrame) -> pl.LazyFrame:
    """``row_id`` -> ``overlapped`` ("2,400 other infusion lines of the encounter") without the pairs:
    the lines starting before the hydration stops, less those stopping by its start (a line that stops
    by the start started before it), each a sorted search (``join_asof``) per encounter."""
    starts = drugs.sort("enc_key", "_ds").with_columns(pl.int_range(1, pl.len() + 1).over("enc_key").alias("_n1"))
    stops = drugs.sort("enc_key", "_de").with_columns(pl.int_range(1, pl.len() + 1).over("enc_key").alias("_n2"))
    h = hit.select("row_id", "enc_key", "s", "e").collect()
    began = h.sort("e").join_asof(starts.sort("_ds").select("enc_key", "_ds", "_n1"), left_on="e", right_on="_ds",
                                  by="enc_key", strategy="backward", allow_exact_matches=False, check_sortedness=False)
    ended = h.sort("s").join_asof(stops.sort("_de").select("enc_key", "_de", "_n2"), left_on="s", right_on="_de",
                                  by="enc_key", strategy="backward", allow_exact_matches=True, check_sortedness=False)
    n = (pl.col("_n1").fill_null(0) - pl.col("_n2").fill_null(0)).alias("_n")
    return began.join(ended.select("row_id", "_n2"), on="row_id").select(
        "row_id", pl.format("{} other infusion line(s) of the encounter", n).alias("overlapped")).lazy()


def _named_overlaps(t: Timing, hit: pl.LazyFrame, drugs: pl.LazyFrame) -> pl.LazyFrame:
    """``row_id`` -> ``overlapped`` for encounters of few pairs: each line overlapped, with its times."""
    nearby = t.lines.join(hit.select("enc_key").unique(), on="enc_key", how="semi")
    named = labels(t.named(nearby), hit.select("enc_key"))
    drugs = drugs.join(named.select("row_id", "label", "claim_id", "line_number"), on="row_id").drop("row_id")
    pairs = hit.select("row_id", "enc_key", "s", "e").join(drugs, on="enc_key")
    pairs = pairs.filter((pl.min_horizontal("e", "_de") - pl.max_horizontal("s", "_ds")) > 0)
    text = pl.col("label") + pl.lit(" (") + interval("_ds", "_de") + pl.lit(")")
    # By start, then claim and line: the same words whatever order the file lists the claims in.
    return pairs.sort("row_id", "_ds", "claim_id", "line_number").group_by("row_id", maintain_order=True).agg(
        text.str.join(", ").alias("overlapped"))


def _episodes(lines: pl.LazyFrame, t: Timing, hit: pl.LazyFrame) -> pl.LazyFrame:
    """``ep`` -> the hydration episode's lines (``hydration_lines``, ``ep_rows``) and what its minutes
    outside the overlap support (``supported``: "96360 x1 and 96361 x1", "96361 x2"). Hydration that
    another initial service of the encounter outranks (96360 beside 96365) is secondary hydration:
    "96361 x2" for 120 minutes (:func:`checks._counting.hydration_as_secondary`, which
    duplicate-initial-infusion's fix reads too), never 96360 back as a second initial service."""
    nearby = t.lines.join(hit.select("enc_key").unique(), on="enc_key", how="semi")
    named = labels(t.named(nearby), hit.select("enc_key")).join(hit.select("ep").unique(), on="ep", how="semi")
    rows = named.sort("ep", "tm_kind", "claim_id", "line_number").group_by("ep", maintain_order=True).agg(
        pl.col("label").str.join(" + ").alias("hydration_lines"),
        pl.col("row_id").alias("ep_rows"),
        pl.col("label").filter(pl.col("tm_kind") == INFUSION).first().str.extract(r"^(\S+)").alias("_initial"),
    )
    encounters = hit.select("enc_key").unique().collect().get_column("enc_key")
    demoted = (hydration_as_secondary(lines, initial_services(lines, encounters)) if encounters.len()
               else pl.LazyFrame(schema={"ep": pl.Int32, "secondary_units": pl.Int64})).select("ep", "secondary_units")
    # What is billed, written as ``supported`` is (:func:`scrubber.text.number`; a fraction never matches): the initial
    # line(s) of the episode, and every unit of its hour code in the encounter, timed or not (an
    # untimed 96361 x2 beside a timed x3 is billed too: the timed lines alone read as "nothing to
    # correct"). The hours are compared so only where the encounter has one episode of the chain.
    units = named.join(lines.select("row_id", "units"), on="row_id", how="left").group_by("ep").agg(
        pl.col("units").filter(pl.col("tm_kind") == INFUSION).sum().alias("_initial_units"),
        (pl.col("tm_kind") == INFUSION).any().alias("_has_initial"),
    )
    chains = t.episodes.join(hit.select("enc_key").unique(), on="enc_key", how="semi").group_by(
        "enc_key", "tm_chain").agg(pl.len().alias("_episodes"))
    billed_hours = t.groups.select("enc_key", "tm_chain", pl.col("billed").alias("_hour_units"),
                                   pl.col("hour_rows").alias("_hour_rows"))
    episodes = t.episodes.join(rows, on="ep").join(demoted, on="ep", how="left").join(
        units, on="ep", how="left").join(chains, on=["enc_key", "tm_chain"], how="left").join(
        billed_hours, on=["enc_key", "tm_chain"], how="left").with_columns(
        pl.col("_hour_units").fill_null(0.0), chain_code().alias("_hour"))
    hours = billed_as(pl.col("_hour"), pl.col("ep_units"))
    supported = (
        pl.when(pl.col("secondary_units").is_not_null()).then(billed_as(pl.col("_hour"), pl.col("secondary_units")))
        .when(pl.col("has_infusion")).then(pl.col("_initial") + pl.lit(" x1 and ") + hours)
        .otherwise(hours)
    )
    # (as billed_as writes it, with the units as billed)
    billed_hours = (pl.when(pl.col("_hour_units") > 0)
                    .then(pl.col("_hour") + pl.lit(" x") + number(pl.col("_hour_units")))
                    .otherwise(pl.lit("no ") + pl.col("_hour")))
    billed = (
        pl.when(pl.col("_has_initial"))
        .then(pl.col("_initial") + pl.lit(" x") + number(pl.col("_initial_units")) + pl.lit(" and ") + billed_hours)
        .otherwise(billed_hours)
    )
    supported_hours = pl.coalesce("secondary_units", "ep_units")
    return episodes.select(
        "ep", "hydration_lines", "ep_rows", supported.alias("supported"),
        billed.alias("billed"),
        # (several episodes of the chain in the encounter: its hours are not one episode's to compare)
        (pl.col("_episodes").fill_null(1) == 1).alias("_one_episode"),
        (pl.col("_hour_units") - supported_hours).clip(lower_bound=0).alias("excess_hours"),
        "_hour_rows")


def find(lines: pl.LazyFrame, ctx: Context) -> pl.LazyFrame:
    t = timing(lines)
    # Documented hydration under the floor is infusion-too-short's or unit-miscalculation's root cause.
    hit = t.lines.filter(concurrent_hydration()).collect().lazy()  # a few lines, read three times
    removed = removed_hydration()
    # Units billed beyond what the minutes outside the overlap support are at risk, once per episode:
    # on its first hydration-hour line that overlaps (the line they are billed on), else its first line
    # that overlaps, first by claim and line number, never by file order (laid on the hour lines).
    # An episode whose hour lines carry no times of their own (the usual untimed 96361 continuing a timed
    # 96360) has no hour line among the lines that overlap: its excess goes on its first one that does
    # (the 96360), laid on the hour lines (risk_rows); it was priced nowhere (probe 17C).
    first_hour = t.named(hit).group_by("ep").agg(
        pl.col("row_id").sort_by(pl.col("tm_kind") != HOUR, "claim_id", "line_number").first().alias("_first_hour"))
    # Billed already as the minutes outside the overlap support: said (info), nothing to correct.
    already = ((pl.col("billed") == pl.col("supported")) & pl.col("_one_episode")).fill_null(False)
    return (
        hit.join(_overlapped(t, hit), on="row_id", how="left").join(_episodes(lines, t, hit), on="ep", how="left")
        .join(first_hour, on="ep", how="left")
        .select(
            "row_id",
            pl.when(removed).then(pl.lit("not_reportable")).when(already).then(pl.lit("overlap_already_excluded"))
            .otherwise(pl.lit("overlap_excluded")).alias("reason"),
            pl.when(~removed & ~already & (pl.col("row_id") == pl.col("_first_hour")))
            .then(pl.col("excess_hours")).cast(pl.Float64).alias("excess_units"),
            pl.col("overlap").alias("overlap_minutes"),
            pl.col("ep_minutes").alias("minutes"),
            pl.col("ep_effective").alias("outside_minutes"),
            interval("s", "e").alias("interval"),
            "overlapped",
            "hydration_lines",
            pl.when(~removed).then(pl.col("supported")).alias("supported"),
            "billed",
            # (removed: every line of the episode; units over: laid on the hour code's lines in order)
            pl.when(removed).then(pl.col("ep_rows")).when(~already & (pl.col("row_id") == pl.col("_first_hour")))
            .then(pl.col("_hour_rows")).alias("risk_rows"),
        )
    )


def unevaluated(lines: pl.LazyFrame) -> pl.LazyFrame:
    """Hydration lines beside another infusion whose overlap cannot be judged (missing times), or in
    an encounter where a rejected row bills another infusion (its code read, another cell not: its
    interval is unknown; probe 20B D2: the good 96361 inside a rejected 96365 passed uncounted)."""
    unknown = timing(lines).lines.filter(pl.col("concurrency_unknown")).select("row_id")
    others = reference.admin_bits(codes_where(tm_kind=INFUSION, tm_hydration=False))
    hydration = reference.admin_bits(codes_where(tm_hydration=True))
    own = ((code("adm_bit").cast(pl.UInt64) & pl.lit(hydration, pl.UInt64)) != 0).fill_null(False)
    beside = beside_rejected_codes(lines.filter(own), others).select("row_id")
    return pl.concat([unknown, beside]).unique()


CHECK = Check(card=load_card(__file__), find=find, unevaluated=unevaluated, reads_timing=True)
