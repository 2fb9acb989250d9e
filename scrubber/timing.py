"""Infusion time, defined once: what every time rule of RULES.md reads.

* **Infusing minutes** (:func:`infusing_minutes`): a line's own ``infusion_stop - infusion_start``.
  A stop clock-time before the start on the same date crossed midnight when the wrapped time is
  plausible (``timing.max_midnight_wrap_minutes``); otherwise, and for a stop dated before its start,
  the minutes are null and the rules that need them leave the line unevaluated.
* **Infusions and what extends them** (``scrubber/data/admin_codes.csv``: ``infusion``, ``extends``,
  ``min_minutes``, ``push_code``): infusion lines 96360, 96365, 96367, 96369, 96413, 96417; the
  additional-hour codes and the infusions each extends (96361: 96360; 96366: 96365, 96367; 96370:
  96369; 96415: 96413, 96417). An infusion code and the add-on hour that extends it form a *chain*.
* **Episodes** (merged intervals): within an encounter (``enc_key``) and chain, an add-on line with
  its own times continues the infusion whose interval it meets or overlaps, so their intervals merge
  into one episode whose minutes are the length of the union; after an interruption of at most
  ``timing.addon_gap_minutes`` behind an infusion of its chain it continues it too (the gap not
  counted); otherwise an add-on line with times is an episode of its own (its minutes are the whole
  infusion); two infusion lines are never merged (a sequential 96367 is its own infusion). Datetimes are compared,
  not clock times, so an institutional claim's lines dated after midnight continue the infusion they
  follow.
* **Concurrent minutes**: hydration (96360, 96361) running while another infusion runs is not
  hydration (NCCI Policy Manual ch. XI); a hydration episode's *effective* minutes are its minutes
  outside the union of the encounter's other infusions' documented intervals. Every other episode's
  effective minutes are its minutes.
* **Expected add-on units** per encounter and add-on code: the sum over its episodes of
  ``max(0, floor((T - 31) / 60))`` (:func:`hour_units`), or for 96361 as secondary hydration (no
  96360 billed in the encounter) ``1 + floor((T - 31) / 60)`` from 31 minutes (:func:`secondary_units`);
  compared once per encounter with the units of that code billed there, on its first line.

Everything is decided on the timed lines only (filtered first), per encounter, with sorts and
cumulative maxima instead of windows: rows sorted by (group, start) with the group packed into the
high bits of an Int64 make one global ``cum_max`` of the stops a per-group running maximum, and an
interval starting after it opens a new episode. :func:`timing` computes this once per batch, step by
step on the timed lines only, and the checks read the results.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import polars as pl

from scrubber import reference
from scrubber.grouping import sorted_distinct
from scrubber.per_batch import once_per_batch

INFUSION, HOUR = 1, 2  # tm_kind: an infusion line, an additional-hour add-on line
MINUTES_PER_DAY = 24 * 60
# Packing (group, minute) into one Int64: minutes since 1970 offset to be non-negative in 32 bits
# (years 0001-6000 fit), the group number above them.
_OFF = 1 << 31
_HI = 1 << 32


# --------------------------------------------------------------------------- the code data


@cache
def code_timing() -> pl.DataFrame:
    """Per row of :func:`scrubber.reference.code_table` (so gathered by ``code_idx``): the timing
    role of the code, from ``admin_codes.csv``.

    ``tm_kind`` (0 not timed, 1 infusion, 2 additional hour), ``tm_chain`` (code_idx of the add-on
    hour code of its chain: its own for an add-on hour, its extender's for an infusion),
    ``tm_hydration``, ``tm_secondary`` (the add-on hour is timed as a secondary service when none
    of the infusions it extends is billed: 96361), ``tm_floor`` (the fewest minutes the infusion
    needs), ``tm_push`` (the code for it when shorter), ``tm_bit`` (the code's administration bit)
    and ``tm_extends_mask`` (bits of the infusion codes of the chain).
    """
    table = reference.code_table()
    codes = table.get_column("procedure_code").to_list()
    index = {c: i for i, c in enumerate(codes)}
    bits = dict(zip(codes, table.get_column("adm_bit").to_list(), strict=True))
    infusions = set(table.filter(pl.col("adm_infusion") == "true").get_column("procedure_code").to_list())
    extender: dict[str, str] = {}
    for hour, extends in table.filter(pl.col("adm_extends").is_not_null()).select(
            "procedure_code", "adm_extends").iter_rows():
        for code_ in extends.split():
            if code_ not in infusions:
                raise ValueError(f"admin_codes.csv: {hour} extends {code_}, which is not an infusion code")
            if code_ in extender:
                raise ValueError(f"admin_codes.csv: {code_} is extended by both {extender[code_]} and {hour}")
            extender[code_] = hour
    missing = infusions - set(extender)
    if missing:
        raise ValueError(f"admin_codes.csv: no additional-hour code extends {sorted(missing)}")
    hours = set(extender.values())
    for hour in hours:
        if sum(1 for e in extender.values() if e == hour) > 2:
            raise ValueError(f"admin_codes.csv: {hour} extends more than two infusion codes (timing._groups "
                             "assumes at most two)")
    chain_mask = {h: sum(bits[c] or 0 for c, e in extender.items() if e == h) for h in hours}

    def chain_of(code_: str) -> str | None:
        return code_ if code_ in hours else extender.get(code_)

    kind = [INFUSION if c in infusions else HOUR if c in hours else 0 for c in codes]
    chains = [chain_of(c) for c in codes]
    return pl.DataFrame({
        "tm_kind": pl.Series(kind, dtype=pl.UInt8),
        "tm_chain": pl.Series([None if h is None else index[h] for h in chains], dtype=pl.UInt8),
        "tm_hydration": (table.get_column("adm_family") == "hydration").fill_null(False),
        "tm_secondary": table.get_column("adm_secondary_when_initial_absent").fill_null(False),
        "tm_floor": table.get_column("adm_min_minutes"),
        "tm_push": table.get_column("adm_push_code"),
        "tm_bit": table.get_column("adm_bit").fill_null(0),
        "tm_extends_mask": pl.Series([chain_mask.get(h, 0) if h else 0 for h in chains], dtype=pl.UInt64),
    })


def _attr(name: str) -> pl.Expr:
    return pl.lit(code_timing().get_column(name)).gather(pl.col("code_idx")).alias(name)


def is_timed() -> pl.Expr:
    """True on infusion and additional-hour lines: a set test on ``code_idx``, cheap enough to filter
    millions of lines with."""
    indices = [i for i, k in enumerate(code_timing().get_column("tm_kind").to_list()) if k]
    return pl.col("code_idx").is_in(pl.Series(indices, dtype=pl.UInt8).implode()).fill_null(False)


def codes_where(**criteria: object) -> list[str]:
    """Codes whose timing attributes equal the values given, e.g. ``codes_where(tm_kind=INFUSION)``."""
    frame = pl.concat([reference.code_table().select("procedure_code"), code_timing()], how="horizontal")
    for column, value in criteria.items():
        frame = frame.filter(pl.col(column) == value)
    return frame.get_column("procedure_code").to_list()


# --------------------------------------------------------------------------- minutes and units


def is_addon_line() -> pl.Expr:
    """True on lines of an administration add-on code (``admin_codes.csv`` role): a set test on
    ``code_idx``."""
    roles = reference.code_table().get_column("adm_role").to_list()
    indices = [i for i, role in enumerate(roles) if role == "addon"]
    return pl.col("code_idx").is_in(pl.Series(indices, dtype=pl.UInt8).implode()).fill_null(False)


def infusing_minutes(start: str = "infusion_start", stop: str = "infusion_stop",
                     addon: pl.Expr | None = None) -> pl.Expr:
    """Stop minus start in whole minutes, or null where the times cannot be an infusion.

    ``addon``: true on add-on lines (default: by ``procedure_code``; :func:`is_addon_line` by ``code_idx``
    where the caller's lines carry it).

    A stop clock-time before the start *on the same date* is an infusion that crossed midnight
    recorded under the date of service (23:00 to 02:00 is 180 minutes), as long as the wrapped
    time is plausible (``timing.max_midnight_wrap_minutes``, 12 h): 10:00 to 09:00 is a recording
    error, not a 23-hour infusion. A stop dated before its start is an error too, and so is an
    infusion longer than ``timing.max_infusion_minutes`` (a day: a start typed in 1900), and so is a
    start more than ``timing.max_start_days_from_service`` days from the line's ``date_of_service``
    (the day before for an infusion across midnight that reaches the date, the day after for an add-on
    dated with the infusion it continues or a hospital claim's line; an inpatient claim's lines, dated
    with the stay's first day, any day): times a year off were judged by their clock times alone
    (probe 26C D6). Null minutes make the timing checks leave the line unevaluated instead of firing on
    a guess.
    """
    timing_ = reference.manifest()["timing"]
    wrap_max, longest = timing_["max_midnight_wrap_minutes"], timing_["max_infusion_minutes"]
    minutes = (pl.col(stop) - pl.col(start)).dt.total_minutes()
    same_date = pl.col(stop).dt.date() == pl.col(start).dt.date()
    crossed = (minutes < 0) & same_date & (minutes + MINUTES_PER_DAY <= wrap_max)
    before = (pl.col("date_of_service") - pl.col(start).dt.date()).dt.total_days()
    apart = timing_["max_start_days_from_service"]
    # (a start before the date of service only for an infusion that reaches it: 10:00-11:00 the day
    # before a line's date is the same recording error, review 26D D7; a start the day after it for an
    # add-on dated with the infusion it continues past midnight, as addon-without-primary's fix dates it,
    # review 26E D3)
    reaches = (before <= 0) | (pl.col(stop).dt.date() >= pl.col("date_of_service"))
    # (an inpatient claim's lines are dated with the stay's first day: their times are any day of it,
    # review 26E D4)
    stay = timing_["dated_with_stay_places"]
    institutional = pl.col("claim_type") == "institutional"
    inpatient = institutional & pl.col("place_of_service").is_in(stay)
    # (the day after only for an add-on, or a hospital claim's line, which may carry its encounter's date:
    # a professional 96365 dated 03-02 documented 03-03 09:00-12:00 is a recording error as the day before
    # is, review 27A D9: it was asked its 96366 hours for 03-02, and a second one "reported as 96367")
    if addon is None:
        addon = pl.col("procedure_code").is_in(reference.admin_codes_where(role="addon"))
    later_ok = addon | institutional
    after = (before >= 0) | ((before >= -apart) & later_ok.fill_null(False))
    dated = (after & (before <= apart) & reaches) | inpatient.fill_null(False)
    return pl.when(dated.not_()).then(None).when((minutes >= 0) & (minutes <= longest)).then(minutes).when(
        crossed).then(minutes + MINUTES_PER_DAY)


def hour_units(minutes: pl.Expr) -> pl.Expr:
    """Additional hours an infusion of ``minutes`` supports: ``max(0, floor((T - 31) / 60))``
    (CPT: an additional hour needs more than 30 minutes beyond the last full hour; 61-90 minutes is
    0, 91-150 is 1)."""
    timing = reference.manifest()["timing"]
    past = timing["addon_after_minutes"] + 1
    return ((minutes - past) / timing["unit_minutes"]).floor().clip(lower_bound=0).cast(pl.Int64)


def secondary_units(minutes: pl.Expr) -> pl.Expr:
    """96361 as secondary hydration: nothing at 30 minutes or less, then ``1 + floor((T - 31) / 60)``."""
    timing = reference.manifest()["timing"]
    past = timing["addon_after_minutes"] + 1
    return (pl.when(minutes < timing["secondary_hydration_min_minutes"]).then(0)
            .otherwise(1 + ((minutes - past) / timing["unit_minutes"]).floor()).cast(pl.Int64))


def _packed(group: pl.Expr, minute: pl.Expr) -> pl.Expr:
    """(group, minute) as one Int64 that orders by group, then minute."""
    return group.cast(pl.Int64) * _HI + minute + _OFF


def _unpacked_minute(packed: pl.Expr) -> pl.Expr:
    return packed % _HI - _OFF


# --------------------------------------------------------------------------- the facts


@dataclass(frozen=True)
class Timing:
    """The time facts of one batch, as lazy frames (over data computed once) the checks filter and join.

    ``lines``: one row per timed line (infusion or additional hour): ``_pos`` (its row in the batch),
    ``row_id``, ``enc_key``, ``tm_kind``, ``tm_chain``, ``tm_hydration``, ``tm_floor``, ``tm_push``,
    ``minutes`` (own, null when unusable), ``s`` / ``e`` (own start and stop, minutes since 1970), ``ep`` (its episode,
    null without usable times), ``ep_minutes`` (the episode's minutes), ``ep_effective`` (outside
    concurrent infusions, for hydration), ``ep_obs`` (the episode's documented observation),
    ``ep_start`` / ``ep_stop``, ``overlap`` (a hydration line's own minutes concurrent with another
    infusion), ``enc_drug_unknown`` (the encounter has a non-hydration infusion line without usable
    times), ``concurrency_unknown`` (a hydration line beside another infusion whose overlap cannot
    be judged for missing times). Their claim, line number and code: :meth:`named`.

    ``episodes``: one row per episode: ``ep``, ``enc_key``, ``tm_chain``, ``has_infusion``,
    ``secondary``, ``ep_minutes``, ``ep_concurrent``, ``ep_effective``, ``ep_units`` (the add-on
    units it supports), ``ep_start``, ``ep_stop``.

    ``groups``: one row per encounter and additional-hour code billed there: ``enc_key``,
    ``tm_chain``, ``head`` (row id of its first line by claim, date and line number: where it is
    judged), ``billed`` (units of the code in the encounter), ``counted`` (the same without the lines
    of hydration that concurrent-hydration removes: those are at risk in its finding), ``expected``,
    ``expected_obs`` (with each episode's observation minutes counted), ``observation`` (those
    minutes), ``expected_concurrent`` (with hydration's minutes concurrent with another infusion
    counted: units over ``expected`` up to it are concurrent-hydration's), ``evaluable``
    (``evaluable_as_read``: the same judged on the lines that could be read, when a row of the
    encounter could not be),
    ``hour_rows`` (row ids of its lines, first line first); where the units billed differ from the
    units supported, the words' facts ``billed_on`` ("claim C1 lines 2, 3") and ``infusions`` (each
    episode with its lines, clock times, minutes and the units it supports).
    """

    lines: pl.LazyFrame
    episodes: pl.LazyFrame
    groups: pl.LazyFrame
    names: pl.DataFrame  # _pos, claim_id, line_number, procedure_code of the enriched lines (by position)
    # The groups' columns, for the additional-hour codes whose infusions' documented time supports a unit
    # where no line of the code is billed in the encounter (:func:`_unbilled`): read by no rule but the
    # money left unbilled (unit-miscalculation ``hours_not_billed``); ``head`` is an infusion line.
    unbilled: pl.LazyFrame

    def named(self, rows: pl.LazyFrame) -> pl.LazyFrame:
        """``rows`` (of :attr:`lines`) with their line's ``claim_id``, ``line_number`` and
        ``procedure_code``, by their position in the batch (``_pos``)."""
        return _named(rows, self.names)


# One plan for every check of the batch, and room beside it for the few encounters a check judges as
# corrected (unit-miscalculation reads the claim as an MUE's deletion leaves it): computing those must
# not evict the batch's. The engine computes the timing on a worker thread while other checks run
# (scrubber.engine._run_checks): a check asking for it meanwhile waits for that result instead of
# computing it a second time. (``_timing`` is looked up at each call: tests replace it.)
_cached = once_per_batch(lambda lines: _timing(lines), kept=3)


def timing(lines: pl.LazyFrame) -> Timing:
    """The :class:`Timing` of the enriched ``lines``, computed once: the same object for the same
    ``lines``, which the engine hands to every check and "not evaluated" count of a run. Thread-safe:
    a second caller for the same ``lines`` waits for the first one's result."""
    return _cached(lines)


def timing_without(lines: pl.LazyFrame, rows: pl.Series) -> Timing:
    """The :class:`Timing` of the encounters of ``rows`` (``row_id`` values of ``lines``) with those
    rows left out: what the time rules read once a fix deletes them (a second 96369 an MUE deletes
    takes with it the hours only its minutes supported). Computed anew on those encounters' lines,
    never cached: the batch's own :func:`timing` stays the one every check reads. Its ``_pos`` and
    ``names`` index that subset, not the batch: join its frames by ``row_id`` only."""
    return _timing(lines_without(lines, rows))


def lines_without(lines: pl.LazyFrame, rows: pl.Series) -> pl.LazyFrame:
    """The lines of the encounters of ``rows`` (``row_id`` values) without those rows, collected, as a
    fix that deletes or recodes them leaves the encounter: ``enc_admin_mask`` no longer holds a code
    only they billed (a 96367 recoded as the concurrent 96368 left its bit, and the 96366 it may
    extend was "not evaluable": an infusion of its chain billed and not seen; review 24D D1)."""
    ids = rows.implode()
    encounters = lines.filter(pl.col("row_id").is_in(ids)).select("enc_key").unique()
    within = lines.join(encounters, on="enc_key", how="semi")
    table = reference.code_table().get_column("adm_bit").fill_null(0).cast(pl.UInt64)
    bit = pl.lit(pl.concat([table, pl.repeat(0, 256 - table.len(), dtype=pl.UInt64, eager=True)])).gather(
        pl.col("code_idx").fill_null(255))
    gone = pl.col("row_id").is_in(ids)
    only_gone = (bit.filter(gone).bitwise_or().over("enc_key").fill_null(0)
                 & ~bit.filter(~gone).bitwise_or().over("enc_key").fill_null(0))
    if "enc_rejected_mask" in lines.collect_schema():
        # (the mask also holds the readable codes of the encounter's rejected rows: those stay billed,
        # review 24E D2: beside a rejected 96367 the 96366 stays "not evaluated")
        only_gone = only_gone & ~pl.col("enc_rejected_mask").fill_null(0).cast(pl.UInt64)
    return within.with_columns((pl.col("enc_admin_mask") & ~only_gone).alias("enc_admin_mask")).filter(
        ~gone).collect().lazy()


def _untimed_observation(timed: pl.DataFrame, usable: pl.DataFrame) -> pl.DataFrame:
    """``usable`` (the timed lines with usable times) with the observation minutes documented on an
    add-on line without times of its own given to the latest infusion of its chain in the encounter,
    the one whose hours the add-on line bills (the longest where several say it: one observation
    period follows an infusion). They were read only from lines with times, so 96365 09:00-10:20 with
    96366 x1 documenting 30 minutes of observation was an hour over the record under
    unit-miscalculation, not observation counted as infusion (probes 17C, 17E). None in most batches."""
    untimed = timed.filter((pl.col("tm_kind") == HOUR) & pl.col("e").is_null()
                           & (pl.col("observation_minutes") > 0)).group_by("enc_key", "tm_chain").agg(
        pl.col("observation_minutes").max().alias("_obs"))
    if not untimed.height:
        return usable
    keys = ["enc_key", "tm_chain"]
    latest = usable.filter(pl.col("tm_kind") == INFUSION).join(untimed, on=keys).sort("s", "_i").group_by(
        keys).last().select("_i", "_obs")
    return usable.join(latest, on="_i", how="left", maintain_order="left").with_columns(
        pl.max_horizontal("observation_minutes", "_obs").cast(usable.schema["observation_minutes"])
        .alias("observation_minutes")).drop("_obs")


def _spread(values: pl.DataFrame, at: pl.Series, height: int, elsewhere: dict[str, object] | None = None,
            ) -> list[pl.Series]:
    """Columns of ``height`` rows holding ``values`` at the positions ``at`` and null elsewhere, or the
    column's value in ``elsewhere`` (a scatter: cheaper than joining back by row id)."""
    elsewhere = elsewhere or {}
    return [pl.repeat(elsewhere.get(col.name), height, dtype=col.dtype, eager=True).alias(col.name).scatter(at, col)
            for col in values.get_columns()]


def _timing(lines: pl.LazyFrame) -> Timing:
    """Materialised step by step on the timed lines only: each step's result is read by several
    later ones and by four checks; left lazy, every reader recomputed it from the whole batch
    (measured: 140 s instead of a few on 2M lines)."""
    has_times = pl.col("infusion_start").is_not_null() & pl.col("infusion_stop").is_not_null()
    start = pl.col("infusion_start").dt.epoch("s") // 60
    # The claim, line and code of every line, by position: a view of the batch's own columns.
    names = lines.select("claim_id", "line_number", "procedure_code").with_row_index("_pos").collect()
    timed = (
        lines.with_row_index("_pos").filter(is_timed())
        .select("_pos", "row_id", "enc_key", "code_idx", "units", "observation_minutes", "enc_admin_mask",
                "enc_anchored_mask", "enc_unreadable", "infusion_start", "infusion_stop", "date_of_service",
                "claim_type", "place_of_service")
        .with_columns(_attr("tm_kind"), _attr("tm_chain"), _attr("tm_hydration"), _attr("tm_secondary"),
                      _attr("tm_floor").cast(pl.Int16), has_times.alias("has_times"),
                      infusing_minutes(addon=is_addon_line()).cast(pl.Int32).alias("minutes"))
        .with_columns(start.cast(pl.Int32).alias("s"))
        .with_columns((pl.col("s") + pl.col("minutes")).alias("e"))
        .drop("infusion_start", "infusion_stop", "date_of_service", "claim_type", "place_of_service")
        .with_columns(pl.int_range(pl.len(), dtype=pl.UInt32).alias("_i"))
        .collect()
    )
    # (Projected before filtering: a frame's filter gathers every column it has.)
    usable = timed.select(
        "_i", "enc_key", "tm_chain", "tm_kind", "tm_hydration", "tm_secondary", "enc_admin_mask", "code_idx",
        "observation_minutes", "s", "e").filter(pl.col("e").is_not_null()).select(
        "_i", "enc_key", "tm_chain", "tm_kind", "tm_hydration", "tm_secondary", "enc_admin_mask",
        _attr("tm_extends_mask"), "observation_minutes", "s", "e")
    usable = _untimed_observation(timed, usable)
    positions = timed.get_column("_pos")

    def claim_line(at: pl.Series) -> pl.DataFrame:
        return names.select(pl.col("claim_id").alias("_tc"), pl.col("line_number").alias("_tl"))[positions.gather(at)]

    spans = _concurrency(_episodes(usable, claim_line))
    episodes = _episode_facts(spans)
    # Episode ids are dense and sorted (0..n-1): an episode's facts are a gather, not a join (and none
    # when each line is its own episode, row for row).
    per_episode = episodes.select(pl.col("ep_minutes", "ep_effective", "ep_obs", "ep_start", "ep_stop")
                                  .cast(pl.Int32), "ep_removed")
    if episodes.height != spans.height:
        per_episode = per_episode[spans.get_column("ep")]
    per_span = pl.concat([spans.select(pl.col("ep", "overlap").cast(pl.Int32)), per_episode], how="horizontal")
    drug_lines = timed.select("enc_key", "minutes", "tm_kind", "tm_hydration").filter(
        (pl.col("tm_kind") == INFUSION) & ~pl.col("tm_hydration"))
    drugs = drug_lines.get_column("enc_key").unique()
    drug_unknown = drug_lines.filter(pl.col("minutes").is_null()).get_column("enc_key").unique()
    # (Without the columns no later step reads: joining columns of other chunks copies them all.)
    per_line = timed.drop("_i", "observation_minutes", "tm_secondary").hstack(
        _spread(per_span, spans.get_column("_i"), timed.height, {"ep_removed": False, "overlap": 0})
    ).with_columns(
        pl.col("enc_key").is_in(drug_unknown.implode()).alias("enc_drug_unknown"),
    ).with_columns(
        # Hydration beside another infusion whose overlap cannot be judged (times missing).
        (pl.col("tm_hydration") & (pl.col("minutes").is_null() | pl.col("enc_drug_unknown"))
         & pl.col("enc_key").is_in(drugs.implode())).alias("concurrency_unknown"),
    )
    del usable, spans, per_span, timed  # the peak memory of a run: free what no later step reads
    groups = _worded(_groups(per_line, episodes, lines), per_line, episodes, names)
    unbilled = _worded(_unbilled(per_line, episodes, groups, lines), per_line, episodes, names)
    # Kept for the checks of the run: only what they read (the batch's timed lines stay in memory).
    # Minutes (and minutes since 1970) fit 32 bits; the claim, line and code text are in ``names``.
    small = pl.Int32
    per_line = per_line.select(
        "_pos", "row_id", "enc_key", "tm_kind", "tm_chain", "tm_hydration", "tm_floor", _attr("tm_push"),
        pl.col("minutes", "s", "e", "ep", "ep_minutes", "ep_effective", "ep_obs", "ep_start", "ep_stop",
               "overlap").cast(small),
        "enc_drug_unknown", "concurrency_unknown")
    episodes = episodes.select("ep", "enc_key", "tm_chain", "has_infusion", "secondary",
                               pl.col("ep_minutes", "ep_concurrent", "ep_effective", "ep_units", "ep_start",
                                      "ep_stop").cast(small))
    kept = ["enc_key", "tm_chain", "head", "billed", "counted", pl.col("expected", "expected_obs", "observation",
            "expected_concurrent").cast(small), "evaluable", "evaluable_as_read", "hour_rows", "billed_on", "infusions"]
    return Timing(lines=per_line.lazy(), episodes=episodes.lazy(), groups=groups.select(kept).lazy(), names=names,
                  unbilled=unbilled.select(kept).lazy())


def _named(rows: pl.LazyFrame, names: pl.DataFrame) -> pl.LazyFrame:
    # A join on the position, not a gather from the batch's columns as literals: the optimiser hashes
    # and compares literals when it looks for shared subplans (tens of ms on one thread per plan).
    return rows.join(names.lazy(), on="_pos", how="left", maintain_order="left")


def _worded(groups: pl.DataFrame, lines: pl.DataFrame, episodes: pl.DataFrame, names: pl.DataFrame) -> pl.DataFrame:
    """``billed_on`` and ``infusions`` (the words' facts) on the groups whose units differ from what
    the time supports, the only ones a check can flag; null on the others (derived after the filter)."""
    keys = ["enc_key", "tm_chain"]
    off = groups.select(*keys, "billed", "counted", "expected", "hour_rows").with_row_index("_r").filter(
        (pl.col("billed") != pl.col("expected")) | (pl.col("counted") != pl.col("expected")))
    # The usual case, told from these few rows: each add-on code billed on one line, each episode one
    # line and one episode per code. Then the words are those lines' and episodes' own, without the
    # sorts and group-bys that join several (0.02 s of the words' 0.03 s on 2M lines).
    one_line = bool((off.get_column("hour_rows").list.len() == 1).all())
    off = off.select("_r", *keys)
    mine = lines.filter(pl.col("enc_key").is_in(off.get_column("enc_key").unique().implode()))
    # Their episodes by id (ids are row numbers): the words join these few, not every episode.
    mine_episodes = episodes[mine.get_column("ep").drop_nulls().unique().sort()]
    one_episode = (mine.get_column("ep").count() == mine_episodes.height
                   and not mine_episodes.select(keys).is_duplicated().any())
    # Their claim, line and code by position: a gather of a few thousand rows (a join with the 2M rows
    # of ``names`` cost 0.03 s, and each of the two plans below ran it).
    mine = mine.hstack(names.drop("_pos")[mine.get_column("_pos")]).lazy()
    words = (
        off.lazy().join(_billed_on(mine, off.lazy(), one_line), on=keys, how="left")
        .join(_episode_text(mine, mine_episodes.lazy(), off.lazy(), one_episode), on=keys, how="left").collect()
    )
    return groups.hstack(_spread(words.select("billed_on", "infusions"), words.get_column("_r"), groups.height))


def _in_group_order(rows: pl.DataFrame, *ties: str, ties_of: Callable[[pl.Series], pl.DataFrame] | None = None,
                    ) -> tuple[pl.DataFrame, bool]:
    """``rows`` sorted by their group ``_g`` (flagged sorted), then by ``ties``, and whether each group
    is one row. Rows that already come one per group in increasing order (the usual case: encounters
    numbered in line order, one line of a chain in each) are left as they are: there is no tie to
    break (a multi-column sort of 500k rows costs 10-20 ms). ``ties_of``: the ``ties`` of the lines
    at batch positions ``_pos``, when ``rows`` do not carry them (fetched only to sort)."""
    if rows.get_column("_g").null_count() or not sorted_distinct(rows.get_column("_g")):
        if ties_of is not None:
            rows = rows.hstack(ties_of(rows.get_column("_pos")))
        rows = rows.sort("_g", *ties)
        return rows.with_columns(pl.col("_g").set_sorted()), sorted_distinct(rows.get_column("_g"))
    return rows.with_columns(pl.col("_g").set_sorted()), True


def _episodes(spans: pl.DataFrame, claim_line: Callable[[pl.Series], pl.DataFrame]) -> pl.DataFrame:
    """Each timed line with usable minutes gets ``ep`` (its episode) and ``cs``, the start of the
    part of its interval no earlier line of the episode covers (so the pieces ``[cs, e]`` add up to
    the length of the episode's union).

    Lines are taken by start, infusions before add-on hours, the shorter interval first (an add-on
    that follows continues the latest infusion, so of two starting together the one reaching further
    takes it), and only then by claim id and line number (``claim_line``: those of the rows at the
    positions ``_i``, fetched only where such a tie exists): never by where the claims sit in the
    file, so an export listing an encounter's claims in another order gives the same episodes."""
    chain = (pl.col("enc_key").cast(pl.UInt64) * 256 + pl.col("tm_chain").cast(pl.UInt64)).alias("_g")
    spans, _ = _in_group_order(spans.with_columns(chain), "s", "tm_kind", "e")
    tied = pl.struct("_g", "s", "tm_kind", "e")
    if spans.height > 1 and spans.select((tied == tied.shift(1)).any()).item():
        spans = spans.hstack(claim_line(spans.get_column("_i"))).sort("_g", "s", "tm_kind", "e", "_tc", "_tl")
        spans = spans.drop("_tc", "_tl").with_columns(pl.col("_g").set_sorted())
    if not spans.select((pl.col("tm_kind") == HOUR).any()).item():
        # No add-on line has times of its own (the usual case): two infusion lines never merge, so
        # every line is an episode and covers its whole interval.
        return spans.with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias("ep"),
                                  pl.col("s").cast(pl.Int64).alias("cs")).drop("_g")
    spans = spans.with_columns(pl.col("_g").rle_id())
    reach = _packed(pl.col("_g"), pl.col("e")).cum_max().shift(1).fill_null(-1)
    starts_inside = _packed(pl.col("_g"), pl.col("s")) <= reach
    # An infusion line opens its own episode; an add-on hour continues the intervals before it in its
    # chain and encounter when it starts inside them (touching = continuing), or after an interruption
    # of at most ``timing.addon_gap_minutes`` behind an infusion of the chain (a 96366 documented
    # 10:01-11:00 after a 96365 09:00-10:00 is 119 minutes of one infusion, the gap not counted, not an
    # infusion of 59 minutes of its own; probe 18A); a later one is an infusion of its own.
    infusion_before = _packed(pl.col("_g"), (pl.col("tm_kind") == INFUSION).cast(pl.Int64)).cum_max()
    after_infusion = (infusion_before // _HI == pl.col("_g").cast(pl.Int64)) & (
        _unpacked_minute(infusion_before) == 1)
    interrupted = _packed(pl.col("_g"), pl.col("s")) <= reach + reference.manifest()["timing"]["addon_gap_minutes"]
    opens = (pl.col("tm_kind") == INFUSION) | (~starts_inside & ~(after_infusion & interrupted))
    spans = spans.with_columns(opens.cast(pl.Int64).cum_sum().alias("ep"), starts_inside.alias("_inside"))
    # An add-on episode that meets the infusion episode right after it (an add-on line documented
    # from before its infusion started) continues that infusion. Rare: looked for only where an
    # infusion line starts inside the intervals before it, right after an add-on line.
    after_hour = (pl.col("tm_kind").shift(1) == HOUR) & (pl.col("_g").shift(1) == pl.col("_g"))
    if spans.select(((pl.col("tm_kind") == INFUSION) & pl.col("_inside") & after_hour).any()).item():
        heads = spans.group_by("ep").agg(
            pl.col("_g").first(), (pl.col("tm_kind") == INFUSION).any().alias("_inf"),
            pl.col("s").min().alias("_s"), pl.col("e").max().alias("_e"),
        ).sort("ep")
        joins_next = (~pl.col("_inf") & pl.col("_inf").shift(-1).fill_null(False)
                      & (pl.col("_g").shift(-1) == pl.col("_g")).fill_null(False)
                      & (pl.col("_s").shift(-1) <= pl.col("_e")).fill_null(False))
        heads = heads.select("ep", (pl.col("ep") + joins_next.cast(pl.Int64)).alias("_ep"))
        spans = spans.join(heads, on="ep", how="left", maintain_order="left").drop("ep").rename({"_ep": "ep"})
    spans = spans.with_columns(pl.col("ep").rle_id().cast(pl.Int64))  # dense: 0, 1, 2... in row order
    covered = _packed(pl.col("ep"), pl.col("e")).cum_max().shift(1)
    same = (covered // _HI) == pl.col("ep")
    cs = pl.when(same.fill_null(False)).then(pl.max_horizontal("s", _unpacked_minute(covered))).otherwise("s")
    return spans.with_columns(cs.alias("cs")).drop("_g", "_inside")


def _concurrency(spans: pl.DataFrame) -> pl.DataFrame:
    """``overlap`` (a hydration line's minutes inside another infusion's documented minutes) and
    ``overlap_piece`` (the same for the line's own piece ``[cs, e]``, which add up per episode).

    Only encounters with timed hydration are looked at. Their other infusions' intervals (every
    non-hydration timed line) are merged per encounter into disjoint segments first, so overlapping
    drug lines are not counted twice."""
    at = spans.get_column("tm_hydration").arg_true()
    zeros = [pl.repeat(0, spans.height, dtype=pl.Int64, eager=True).alias(c) for c in ("overlap", "overlap_piece")]
    if at.len() == 0:
        return spans.hstack(zeros)
    hydration = spans.select("enc_key", "s", "e", "cs")[at].with_columns(at.alias("_p"))
    drugs = spans.select("enc_key", "s", "e", "tm_hydration").filter(
        ~pl.col("tm_hydration") & pl.col("enc_key").is_in(hydration.get_column("enc_key").unique().implode())
    ).sort("enc_key", "s")
    reach = _packed(pl.col("enc_key"), pl.col("e")).cum_max().shift(1).fill_null(-1)
    segments = (
        drugs.with_columns((_packed(pl.col("enc_key"), pl.col("s")) > reach).cast(pl.Int64).cum_sum().alias("_seg"))
        .group_by("_seg").agg(pl.col("enc_key").first(), pl.col("s").min().alias("_ss"), pl.col("e").max().alias("_se"))
        .drop("_seg")
    )
    inside = pl.min_horizontal("e", "_se")
    overlaps = (
        hydration.join(segments, on="enc_key", how="inner")
        .select("_p",
                (inside - pl.max_horizontal("s", "_ss")).clip(lower_bound=0).alias("overlap"),
                (inside - pl.max_horizontal("cs", "_ss")).clip(lower_bound=0).alias("overlap_piece"))
        .group_by("_p").agg(pl.col("overlap").sum(), pl.col("overlap_piece").sum())
    )
    return spans.hstack([z.scatter(overlaps.get_column("_p"), overlaps.get_column(z.name)) for z in zeros])


def _episode_facts(spans: pl.DataFrame) -> pl.DataFrame:
    """One row per episode: its minutes (union length), concurrent and effective minutes, observation,
    and the add-on units it supports without and with the observation minutes, and with the minutes
    concurrent with another infusion (hydration: what they would support were they reportable)."""
    piece = (pl.col("e") - pl.col("cs")).clip(lower_bound=0)
    # (a line's value, how an episode's lines combine it)
    facts = [
        (pl.col("enc_key"), pl.Expr.first), (pl.col("tm_chain"), pl.Expr.first),
        (pl.col("tm_hydration"), pl.Expr.first),
        ((pl.col("tm_kind") == INFUSION).alias("has_infusion"), pl.Expr.any),
        # Secondary: an add-on hour timed as its own service because nothing it extends is billed.
        ((pl.col("tm_secondary") & ((pl.col("enc_admin_mask") & pl.col("tm_extends_mask")) == 0))
         .alias("secondary"), pl.Expr.first),
        (piece.alias("ep_minutes"), pl.Expr.sum),
        (pl.col("overlap_piece").alias("ep_concurrent"), pl.Expr.sum),
        # One observation period follows an infusion: documented on several of its lines it is
        # counted once (the longest).
        (pl.col("observation_minutes").alias("ep_obs"), pl.Expr.max),
        (pl.col("s").alias("ep_start"), pl.Expr.min), (pl.col("e").alias("ep_stop"), pl.Expr.max),
    ]
    if spans.height == 0 or spans.get_column("ep")[-1] == spans.height - 1:
        # Ids are dense in row order, so the last one tells whether each episode is one line (the usual
        # case: add-on lines without times of their own): its facts are its values, no group-by
        # (0.1 s for 500k one-line groups).
        episodes = spans.select("ep", *(value for value, _ in facts))
    else:
        # Rows come sorted by episode: the flag lets Polars group them as runs.
        episodes = spans.with_columns(pl.col("ep").set_sorted()).group_by("ep", maintain_order=True).agg(
            combine(value) for value, combine in facts)
    effective = pl.col("ep_minutes") - pl.col("ep_concurrent")
    as_secondary = pl.col("secondary") & ~pl.col("has_infusion")

    def units(minutes: pl.Expr) -> pl.Expr:
        return pl.when(as_secondary).then(secondary_units(minutes)).otherwise(hour_units(minutes))

    # Hydration that concurrent-hydration removes: documented long enough, too short outside the overlap.
    removed = _documented_concurrent_hydration(pl.col("ep_concurrent")) & (pl.col("ep_effective") < hydration_floor())
    return episodes.with_columns(effective.alias("ep_effective"), pl.col("ep_obs").fill_null(0)).with_columns(
        units(pl.col("ep_effective")).alias("ep_units"),
        units(pl.col("ep_effective") + pl.col("ep_obs")).alias("ep_units_obs"),
        units(pl.col("ep_minutes")).alias("ep_units_concurrent"),
        removed.alias("ep_removed"),
    )


def chain_key() -> pl.Expr:
    """``_g``: an encounter and additional-hour code (``enc_key``, ``tm_chain``) packed in one integer, the
    key the groups are built and looked up by (a set test on it instead of a two-column join)."""
    return (pl.col("enc_key").cast(pl.UInt64) * 256 + pl.col("tm_chain").cast(pl.UInt64)).alias("_g")


def _groups(timed: pl.DataFrame, episodes: pl.DataFrame, batch: pl.LazyFrame) -> pl.DataFrame:
    """One row per encounter and additional-hour code billed in it: units billed, units the
    encounter's episodes support, and whether the time rules can judge it.

    Not evaluable: an infusion line of the chain whose times are unusable, or that has no times (whether
    an add-on line with times of its own continues it is unknown too); an add-on line whose times
    are unusable; an add-on line without times and no infusion line to be judged by; an infusion
    of the chain billed in the encounter on a row that could not be read (its time is unknown);
    hydration in an encounter whose other infusions' times are unknown (concurrent minutes unknown);
    an encounter with a row that could not be read (enrich: ``enc_unreadable``: it may be an
    infusion or an add-on line of the chain).
    ``batch``: the enriched lines, whose claim id, date and line number order an add-on code's
    lines when it has several (not carried by the timed lines: the usual add-on code is billed once).
    """
    key = chain_key()
    hour_lines = (
        timed.select("_pos", "tm_kind", "enc_key", "tm_chain", "row_id", "units", "ep_removed", "has_times",
                     "minutes", "enc_admin_mask", "code_idx", "tm_hydration", "enc_drug_unknown", "enc_unreadable",
                     "enc_anchored_mask")
        .filter(pl.col("tm_kind") == HOUR).with_columns(
            key, _attr("tm_extends_mask"),
            # The add-on is anchored in its encounter (a primary of it is billed: its policy's list);
            # ``_anchored``: and is not one timed on its own as a secondary service (96361).
            ((pl.col("enc_anchored_mask") & _attr("tm_bit")) == 0).alias("_orphan"),
            (((pl.col("enc_anchored_mask") & _attr("tm_bit")) != 0) & ~_attr("tm_secondary")).alias("_anchored"))
    )

    def claim_date_line(at: pl.Series) -> pl.DataFrame:
        return batch.select(pl.col("claim_id").alias("_claim_id"), pl.col("date_of_service").alias("_dos"),
                            pl.col("line_number").alias("_line")).collect()[at]

    # The head line of a code billed on several lines: the first by claim id, date and line number,
    # never by where the claims sit in the file (the finding's id and claim must not change when an
    # export lists the claims of an encounter in another order).
    hour_lines, one_each = _in_group_order(hour_lines, "_claim_id", "_dos", "_line", ties_of=claim_date_line)
    hour_lines = hour_lines.drop("_claim_id", "_dos", "_line", strict=False)
    bad = pl.col("has_times") & pl.col("minutes").is_null()
    if one_each:
        # Each group one line (the usual case: an add-on code once per encounter): its sums are its
        # own values, without a group-by building one list per group (0.03 s on 450k groups).
        hours = hour_lines.select(
            "_g", "enc_key", "tm_chain", pl.col("row_id").alias("head"),
            # (as the sums: a null as 0; the lines of removed hydration not counted)
            pl.col("units").fill_null(0.0).alias("billed"),
            pl.when(pl.col("ep_removed")).then(0.0).otherwise(pl.col("units").fill_null(0.0)).alias("counted"),
            pl.concat_list("row_id").alias("hour_rows"),
            bad.cast(pl.UInt32).alias("_bad"), (~pl.col("has_times")).cast(pl.UInt32).alias("_untimed"),
            "enc_admin_mask", "tm_extends_mask", "tm_hydration", "enc_drug_unknown", "enc_unreadable", "_anchored",
            "_orphan",
        )
    else:
        hours = hour_lines.group_by("_g", maintain_order=True).agg(
            pl.col("enc_key").first(), pl.col("tm_chain").first(),
            pl.col("row_id").first().alias("head"),
            pl.col("units").sum().alias("billed"),
            pl.col("units").filter(~pl.col("ep_removed")).sum().alias("counted"),
            pl.col("row_id").alias("hour_rows"),
            bad.sum().alias("_bad"),
            (~pl.col("has_times")).sum().alias("_untimed"),
            pl.col("enc_admin_mask").first(), pl.col("tm_extends_mask").first(), pl.col("tm_hydration").first(),
            pl.col("enc_drug_unknown").first(), pl.col("enc_unreadable").first(), pl.col("_anchored").first(),
            pl.col("_orphan").first(),
        )
    infusion_lines = (timed.select("tm_kind", "enc_key", "tm_chain", "minutes", "has_times", "code_idx")
                      .filter(pl.col("tm_kind") == INFUSION).with_columns(key, _attr("tm_bit")))
    if infusion_lines.get_column("_g").null_count() or not infusion_lines.get_column("_g").is_sorted():
        infusion_lines = infusion_lines.sort("_g")  # (no tie to break: the counts do not depend on order)
    # Times given but unusable (stop before start): unknown. No times at all: no documented minutes.
    unknown, untimed = pl.col("has_times") & pl.col("minutes").is_null(), ~pl.col("has_times")
    # (Sorted by group, flagged: the joins below take Polars' sorted path, four times faster than hashing.)
    infusions = infusion_lines.with_columns(pl.col("_g").set_sorted()).group_by("_g", maintain_order=True).agg(
        pl.len().alias("_infusions"), unknown.sum().alias("_unknown"), untimed.sum().alias("_inf_untimed"),
        # The codes seen: a chain has at most two infusion codes (code_timing checks it), so the
        # smallest and largest bit are all of them (a bitwise-or aggregate costs four times more).
        (pl.col("tm_bit").min() | pl.col("tm_bit").max()).alias("_seen"),
    )
    supported = episodes.select(key.set_sorted(), "ep_units", "ep_units_obs", "ep_obs", "ep_units_concurrent")
    sums = {"ep_units": "expected", "ep_units_obs": "expected_obs", "ep_obs": "observation",
            "ep_units_concurrent": "expected_concurrent"}
    if sorted_distinct(supported.get_column("_g")):  # (the usual case: one episode per add-on code)
        supported = supported.select("_g", *[pl.col(c).fill_null(0).alias(name) for c, name in sums.items()])
    else:
        supported = supported.group_by("_g", maintain_order=True).agg(
            pl.col(c).sum().alias(name) for c, name in sums.items())
    groups = (
        hours.join(infusions, on="_g", how="left").join(supported, on="_g", how="left")
        .with_columns(pl.col("_infusions", "_unknown", "_inf_untimed", "expected", "expected_obs", "observation",
                             "expected_concurrent").fill_null(0), pl.col("_seen").fill_null(0))
    )
    # An anchored add-on with no infusion of its chain is judged (none supported) only where every
    # infusion line of its encounter documents its minutes: then no hour can hide anywhere. With no
    # time documented (96360 + 96366, no times), nothing is decided on a guess. Decided for those few
    # encounters only.
    orphan_hours = (pl.col("_untimed") > 0) & (pl.col("_infusions") == 0) & pl.col("_anchored")
    need = groups.filter(orphan_hours).get_column("enc_key").unique()
    if need.len():
        timed_encounters = timed.filter((pl.col("tm_kind") == INFUSION) & pl.col("enc_key").is_in(need.implode())) \
            .group_by("enc_key").agg(pl.col("minutes").is_not_null().all().alias("_all_timed"))
        groups = groups.join(timed_encounters, on="enc_key", how="left", maintain_order="left")
    else:
        groups = groups.with_columns(pl.lit(None, pl.Boolean).alias("_all_timed"))
    unseen = (pl.col("enc_admin_mask") & pl.col("tm_extends_mask") & ~pl.col("_seen")) != 0
    # An infusion line of the chain without times: its minutes are unknown, and so is whether an add-on
    # line with times of its own continues it (its first hour before the add-on's interval): judging the
    # add-on's interval as a whole infusion subtracted a first hour that was never documented there, and
    # documenting the add-on's times turned a claim that passed into "delete 96366" (probe 18E).
    untimed_infusions_ok = pl.col("_inf_untimed") == 0
    evaluable = (
        (pl.col("_unknown") == 0) & untimed_infusions_ok & (pl.col("_bad") == 0)
        # An add-on without times and no infusion of its chain billed: judged (none supported) where
        # a primary anchors it (MEDICARE: 96413 anchors 96366 by the CMS list, but only 96365 and
        # 96367 give it hours) and the encounter's infusions all document their minutes; with no
        # primary at all it is addon-without-primary's finding.
        & ~((pl.col("_untimed") > 0) & (pl.col("_infusions") == 0)
            & ~(pl.col("_anchored") & pl.col("_all_timed").fill_null(False)))
        # No primary of it in the encounter: addon-without-primary's finding (one root cause), not
        # also its hours judged by its own minutes.
        & ~pl.col("_orphan")
        & ~unseen & ~(pl.col("tm_hydration") & pl.col("enc_drug_unknown"))
    )
    # ``evaluable_as_read``: judged on the lines that could be read; ``evaluable`` also needs every row of
    # the encounter read (a row that could not be may be an infusion that supports more hours).
    return groups.select("enc_key", "tm_chain", "head", "billed", "counted", "expected", "expected_obs",
                         "observation", "expected_concurrent",
                         (evaluable & ~pl.col("enc_unreadable")).alias("evaluable"),
                         evaluable.alias("evaluable_as_read"), "hour_rows")


def _unbilled(timed: pl.DataFrame, episodes: pl.DataFrame, groups: pl.DataFrame, batch: pl.LazyFrame) -> pl.DataFrame:
    """Rows shaped as :func:`_groups`' (``billed`` 0, no ``hour_rows``) for each encounter and
    additional-hour code of which no line is billed there while the documented minutes of the
    infusions it extends support at least one unit (``expected``): 96413 09:00-12:31 with no 96415
    supports x3 (RULES.md: the expected units "compared with the units of that code billed in the
    encounter", none is a count; probe 25A D2). ``head``: the chain's first infusion line by claim, date
    and line number, where the money left unbilled is told. ``evaluable``: every infusion line of the
    chain documents usable times, no row of the encounter could not be read or was rejected billing the
    code, and hydration's concurrent minutes are known. Few rows: the episodes supporting an hour whose
    chain has no billed line."""
    keys = ["enc_key", "tm_chain"]
    schema = {"enc_key": groups.schema["enc_key"], "tm_chain": groups.schema["tm_chain"],
              "head": groups.schema["head"], "billed": groups.schema["billed"], "counted": groups.schema["counted"],
              "expected": groups.schema["expected"], "expected_obs": groups.schema["expected_obs"],
              "observation": groups.schema["observation"], "expected_concurrent": groups.schema["expected_concurrent"],
              "evaluable": pl.Boolean, "evaluable_as_read": pl.Boolean, "hour_rows": groups.schema["hour_rows"]}
    # (the chains with a billed line are most of them: left out first by an integer set test on a packed
    # key, then the few left summed; a group-by and an anti join of every episode cost 0.12 s of 2M lines)
    packed = chain_key()
    billed = groups.select(packed).get_column("_g")
    supported = episodes.filter(pl.col("has_infusion") & (pl.col("ep_units") >= 1)).select(*keys, "ep_units", packed)
    supported = supported.filter(~pl.col("_g").is_in(billed.implode()))
    if not supported.height:
        return pl.DataFrame(schema=schema)
    supported = supported.group_by(keys).agg(pl.col("ep_units").sum().alias("expected"))
    infusions = timed.filter(pl.col("tm_kind") == INFUSION).join(supported.select(keys), on=keys, how="semi").join(
        episodes.select("ep", pl.col("ep_units").alias("_supports")), on="ep", how="left")
    # (their claim, date and line, and a rejected row billing the hour code: read off these few lines)
    named = batch.filter(pl.col("row_id").is_in(infusions.get_column("row_id").implode())).select(
        "row_id", "claim_id", "date_of_service", "line_number",
        *(["enc_rejected_mask"] if "enc_rejected_mask" in batch.collect_schema() else [])).collect()
    # (a rejected row billing the code, or an infusion it extends: its hours, or its minutes, are unknown;
    # review 25G D4)
    chain_bits = (pl.lit(code_timing().get_column("tm_bit")).gather(pl.col("tm_chain"))
                  | pl.lit(code_timing().get_column("tm_extends_mask")).gather(pl.col("tm_chain")))
    rejected = (((pl.col("enc_rejected_mask") & chain_bits) != 0).fill_null(False)
                if "enc_rejected_mask" in named.columns else pl.lit(False))
    # (the head: the first line whose own episode supports an hour, not a 10-minute line before it)
    per_chain = infusions.join(named, on="row_id").sort(
        pl.col("_supports").fill_null(0) < 1, "claim_id", "date_of_service", "line_number", "row_id").group_by(
        keys, maintain_order=True).agg(
        pl.col("row_id").first().alias("head"),
        (pl.col("minutes").is_not_null().all() & ~rejected.any()
         & ~(pl.col("tm_hydration") & (pl.col("enc_drug_unknown") | pl.col("concurrency_unknown"))).any())
        .alias("_judged"),
        (~pl.col("enc_unreadable").any()).alias("_read"))
    return supported.join(per_chain, on=keys).select(
        *keys, "head", pl.lit(0.0).alias("billed"), pl.lit(0.0).alias("counted"), "expected",
        pl.col("expected").alias("expected_obs"), pl.lit(0).alias("observation"),
        pl.col("expected").alias("expected_concurrent"), (pl.col("_judged") & pl.col("_read")).alias("evaluable"),
        pl.col("_judged").alias("evaluable_as_read"), pl.lit([], schema["hour_rows"]).alias("hour_rows"),
    ).cast(schema)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- words' facts


def clock(minute: pl.Expr) -> pl.Expr:
    """Minutes since 1970 as a clock time ("09:30")."""
    return pl.from_epoch(minute * 60, time_unit="s").dt.strftime("%H:%M")


def interval(start: str, stop: str) -> pl.Expr:
    """A clock interval as the words show it ("09:00-10:15"), from two columns of minutes since 1970."""
    return clock(pl.col(start)) + pl.lit("-") + clock(pl.col(stop))


def episode_interval() -> pl.Expr:
    """An episode's clock interval as the words show it, from ``ep_start``/``ep_stop``."""
    return interval("ep_start", "ep_stop")


def chain_code() -> pl.Expr:
    """The additional-hour code of a row's chain (from ``tm_chain``), as text."""
    return pl.lit(reference.code_table().get_column("procedure_code")).gather(pl.col("tm_chain"))


def billed_as(code: pl.Expr, units: pl.Expr) -> pl.Expr:
    """A code and its units as the fixes write them ("96366 x2"), or "no 96366" for none."""
    return pl.when(units > 0).then(code + pl.lit(" x") + units.cast(pl.String)).otherwise(pl.lit("no ") + code)


def _documented_concurrent_hydration(concurrent: pl.Expr) -> pl.Expr:
    """Hydration documented at or above its floor with ``concurrent`` minutes inside another infusion
    (per episode: ``ep_concurrent``; per line: ``overlap``)."""
    return pl.col("tm_hydration") & (concurrent > 0) & (pl.col("ep_minutes") >= hydration_floor())


def concurrent_hydration() -> pl.Expr:
    """On :attr:`Timing.lines`: a hydration line documented at or above the floor whose minutes overlap
    another infusion whose times are known (concurrent-hydration's lines; documented hydration under
    the floor is infusion-too-short's or unit-miscalculation's root cause)."""
    return _documented_concurrent_hydration(pl.col("overlap")) & ~pl.col("enc_drug_unknown")


def removed_hydration() -> pl.Expr:
    """On :attr:`Timing.lines`: a :func:`concurrent_hydration` line whose minutes outside the other
    infusion are under the floor, so the overlap removes it (concurrent-hydration's ``not_reportable``;
    the one-initial rule does not count it as an initial service)."""
    return concurrent_hydration() & (pl.col("ep_effective") < hydration_floor())


def hydration_floor() -> int:
    """The fewest minutes reportable hydration takes (96360's floor: 31)."""
    floors = code_timing().filter(pl.col("tm_hydration") & (pl.col("tm_kind") == INFUSION)).get_column("tm_floor")
    return int(floors.max())


def labels(lines: pl.LazyFrame, enc_keys: pl.LazyFrame) -> pl.LazyFrame:
    """``row_id`` -> ``label`` ("96365 line 1", or "96365 claim C2 line 1" in an encounter of several
    claims) for the timed ``lines`` of the encounters in ``enc_keys``; ``lines`` carry ``claim_id``,
    ``line_number`` and ``procedure_code`` (:meth:`Timing.named` adds them to :attr:`Timing.lines`)."""
    rows = lines.join(enc_keys.unique(), on="enc_key", how="semi")
    claims = rows.group_by("enc_key").agg(pl.col("claim_id").n_unique().alias("_claims"))
    where = (pl.when(pl.col("_claims") > 1).then(pl.lit(" claim ") + pl.col("claim_id") + pl.lit(" line "))
             .otherwise(pl.lit(" line ")))
    return rows.join(claims, on="enc_key").select(
        "row_id", "enc_key", "tm_chain", "ep", "tm_kind", "claim_id", "line_number",
        (pl.col("procedure_code") + where + pl.col("line_number").cast(pl.String)).alias("label"),
    )


def _billed_on(lines: pl.LazyFrame, groups: pl.LazyFrame, one_line: bool = False) -> pl.LazyFrame:
    """(``enc_key``, ``tm_chain``) -> ``billed_on``: the lines an add-on code is billed on in the
    encounter ("claim C1 line 2", "claim C1 lines 2, 3", "claim C1 line 2, claim C2 line 1");
    ``one_line``: each of the ``groups`` is billed on one line."""
    named = lines.filter(pl.col("tm_kind") == HOUR).join(groups.select("enc_key", "tm_chain"),
                                                         on=["enc_key", "tm_chain"], how="semi")
    if one_line:
        return named.select("enc_key", "tm_chain", (pl.lit("claim ") + pl.col("claim_id") + pl.lit(" line ")
                                                    + pl.col("line_number").cast(pl.String)).alias("billed_on"))
    return billed_on(named, ["enc_key", "tm_chain"])


def billed_on(named: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    """``keys`` -> ``billed_on``, the lines of ``named`` (``claim_id``, ``line_number``) per key, as the
    words name them ("claim C1 line 2", "claim C1 lines 2, 3", "claim C1 line 2, claim C2 line 1")."""
    per_claim = (
        named.sort("claim_id", "line_number")
        .group_by(*keys, "claim_id", maintain_order=True)
        .agg(pl.col("line_number").cast(pl.String))
        .select(*keys,
                (pl.lit("claim ") + pl.col("claim_id")
                 + pl.when(pl.col("line_number").list.len() > 1).then(pl.lit(" lines ")).otherwise(pl.lit(" line "))
                 + pl.col("line_number").list.join(", ")).alias("_place"))
    )
    return per_claim.group_by(*keys, maintain_order=True).agg(pl.col("_place").str.join(", ").alias("billed_on"))


def _episode_text(lines: pl.LazyFrame, episodes: pl.LazyFrame, groups: pl.LazyFrame,
                  one_episode: bool = False) -> pl.LazyFrame:
    """(``enc_key``, ``tm_chain``) -> ``infusions``: each documented episode of the chain with its
    lines, clock times, minutes and the add-on units it supports (and when the next would be), e.g.
    "96365 line 1, 09:00-10:00 = 60 min, supports 0 (1 from 91 min); 96367 line 2, 10:00-11:40 = 100
    min, supports 1 (2 from 151 min)" (hydration beside another infusion: "... = 120 min (30
    concurrent with another infusion: 90 min of hydration), supports 0 (1 from 91 min)"; secondary
    hydration: "... = 31 min as secondary hydration, supports 1 (2 from 91 min)")."""
    named = labels(lines, groups.select("enc_key")).filter(pl.col("ep").is_not_null())
    named = named.join(groups.select("enc_key", "tm_chain"), on=["enc_key", "tm_chain"], how="semi")
    if one_episode:  # (each episode one line: its label)
        per_ep = named.select("ep", pl.col("label").alias("_labels")).join(episodes, on="ep")
    else:
        per_ep = (
            named.sort("ep", "tm_kind", "claim_id", "line_number")
            .group_by("ep", maintain_order=True).agg(pl.col("label").str.join(" + ").alias("_labels"))
            .join(episodes, on="ep")
        )
    minutes = pl.col("ep_minutes").cast(pl.String) + pl.lit(" min")
    concurrent = (pl.when(pl.col("ep_concurrent") > 0)
                  .then(pl.lit(" (") + pl.col("ep_concurrent").cast(pl.String)
                        + pl.lit(" concurrent with another infusion: ") + pl.col("ep_effective").cast(pl.String)
                        + pl.lit(" min of hydration)")).otherwise(pl.lit("")))
    secondary = pl.when(pl.col("secondary") & ~pl.col("has_infusion")).then(pl.lit(" as secondary hydration")) \
        .otherwise(pl.lit(""))
    # The minutes the next unit would need: 31 + 60 * units (secondary hydration), 91 + 60 * units.
    timing_ = reference.manifest()["timing"]
    first = timing_["addon_after_minutes"] + 1
    as_secondary = pl.col("secondary") & ~pl.col("has_infusion")
    next_at = (pl.when(as_secondary).then(first).otherwise(first + timing_["unit_minutes"])
               + timing_["unit_minutes"] * pl.col("ep_units"))
    text = (pl.col("_labels") + pl.lit(", ") + episode_interval()
            + pl.lit(" = ") + minutes + concurrent + secondary + pl.lit(", supports ")
            + pl.col("ep_units").cast(pl.String) + pl.lit(" (") + (pl.col("ep_units") + 1).cast(pl.String)
            + pl.lit(" from ") + next_at.cast(pl.String) + pl.lit(" min)"))
    if one_episode:  # (one episode per chain: its text)
        return per_ep.select("enc_key", "tm_chain", text.alias("infusions"))
    return (
        per_ep.sort("enc_key", "tm_chain", "ep_start", "_labels")  # (ties: by claim and line, deterministic)
        .group_by("enc_key", "tm_chain", maintain_order=True)
        .agg(text.str.join("; ").alias("infusions"))
    )
