"""One root cause, one finding: what the encounter-counting checks leave to each other.

Four checks count services in an encounter, and one billing error can exceed several of their
limits at once: 96365 x3 is a second and third initial service (``duplicate-initial-infusion``)
and 96365 over its practitioner MUE of 1 (``units-over-mue``); 96365 with 96374 as a second
initial service is also an NCCI pair (``ncci-ptp-conflict``); 96371 x2 is over the CPT cap
(``over-cap-96371``) and over its MUE. RULES.md (units-over-mue, ncci-ptp-conflict) and issue 17
say each such error is reported once, by the check whose rule names it. That rule is written here,
once, as functions of the enriched lines:

* :func:`initial_services`: the one-initial decision itself (which initial service stays initial,
  which units of every other initial line are extra; hydration the overlap with another infusion
  removes is concurrent-hydration's, not counted). ``duplicate-initial-infusion`` words it;
* :func:`units_reported_elsewhere`: per line, the units another check reports (the extra initial
  units; additional hours the documented time does not support; drug units the documented dose or
  waste does not support; Q2052 lines home-ig-supplies reports; every unit of an add-on line with no
  primary, addon-without-primary's; every unit of an infusion line under its floor that the time rules
  recode, :func:`units_recoded_whole`); ``units-over-mue`` counts a line's units minus these;
* :func:`setting_and_code`, :func:`in_shared_group`: the index of per-setting code arrays, and the
  rows whose key repeats (a window restricted to them), for the unit counters;
* :data:`CAP_CHECK_CODE`: the code whose units ``over-cap-96371`` counts, and no other check;
  :func:`mue_table_words`, :func:`date_of_service_group`: the MUE table's name and quarter in both
  checks' words, and what a date-of-service MUE counts over;
* :func:`pair_of_initial_services`: NCCI pairs of two initial services, which are the one-initial
  rule's (``ncci-ptp-conflict`` leaves them out);
* :func:`hydration_as_secondary`, :func:`short_infusions`, :func:`sequential_push`: what a service
  the one-initial rule outranks is billed as (hydration: 96361 in its secondary units; an infusion
  of 15 minutes or less: the sequential push, 96375), read by ``duplicate-initial-infusion``,
  ``concurrent-hydration`` and ``infusion-too-short`` so that their fixes on one line agree;
* :func:`hours_of_deleted_infusions`: the hour lines an infusion units-over-mue deletes whole takes
  with it (``unit-miscalculation`` judges the encounter without both:
  :func:`checks.units_over_mue.lines_deleted_whole`, decided once per batch).

Every function decides from the lines alone, never from another check's findings, so each check
still runs on its own (``--select units-over-mue`` gives the same findings for that check as a full
run).
"""

from __future__ import annotations

import functools

import polars as pl

from checks.addon_without_primary import unanchored_addons
from checks.home_ig_supplies import supply_decisions
from checks.unit_miscalculation import drug_units_over, sequential_units
from scrubber import reference
from scrubber.enrich import code, code_is, has_modifier, is_ig, with_codes
from scrubber.grouping import shared_keys
from scrubber.per_batch import context_of, once_per_batch
from scrubber.text import number
from scrubber.timing import (
    HOUR,
    INFUSION,
    Timing,
    codes_where,
    interval,
    lines_without,
    removed_hydration,
    secondary_units,
    timing,
    timing_without,
)

# over-cap-96371 counts this code's units per encounter against the policy cap (CPT: "use 96369,
# 96371 only once per encounter"); units-over-mue leaves the code to it.
CAP_CHECK_CODE = "96371"


def date_of_service_group(institutional: pl.Expr) -> pl.Expr:
    """What a date-of-service MUE (MAI 2 and 3) counts over, as one integer: the encounter, where an
    institutional claim (one encounter whatever its dates) counts each date of service apart (claim and
    date: ``cd_key``, set apart from encounter keys by a high bit); for ``units-over-mue`` and
    ``over-cap-96371`` alike."""
    return (pl.when(institutional).then(pl.col("cd_key").cast(pl.UInt64) | pl.lit(1 << 62, pl.UInt64))
            .otherwise(pl.col("enc_key").cast(pl.UInt64)))


def edit_setting(institutional: pl.Expr | None = None) -> pl.Expr:
    """The CMS edit table's setting of a line: "outpatient" (hospital) on an institutional claim,
    "practitioner" otherwise (``institutional``: the column saying so, ``is_inst`` by default), as the
    MUE and NCCI tables are keyed (:data:`scrubber.reference.MUE_SETTINGS`)."""
    inst = pl.col("is_inst") if institutional is None else institutional
    return pl.when(inst).then(pl.lit("outpatient")).otherwise(pl.lit("practitioner"))


def mue_table_words(setting: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """The facts ``table`` (its name in the words) and ``quarter`` (the CMS table quarter checked
    against) of the MUE table of ``setting`` ("practitioner" or "outpatient"), for the checks that
    count units against an MUE (``units-over-mue``, ``over-cap-96371``)."""
    names = {"practitioner": "practitioner services", "outpatient": "outpatient hospital services"}
    quarters = {s: str(reference.edit_table_meta(key)["table_quarter"]) for s, key in reference.MUE_SETTINGS.items()}
    return (setting.replace_strict(names, return_dtype=pl.String).alias("table"),
            setting.replace_strict(quarters, return_dtype=pl.String).alias("quarter"))

# The order in which initial services stay initial: adm_initial_rank (the CPT hierarchy, chemo
# infusion first, in scrubber/data/admin_codes.csv; :func:`_ranked_as_documented`), then claim and
# line order.
_KEPT_ORDER = ("adm_initial_rank", "claim_id", "line_number")


def _ranked_as_documented(initial: pl.DataFrame, lines: pl.LazyFrame) -> pl.DataFrame:
    """``initial`` (initial service lines with ``adm_initial_rank``, collected: the few of encounters
    with more than one) with an infusion documented under its floor ranked as the push it is (its
    ``push_code``'s rank: CPT, an infusion of 15 minutes or less is a push). Ranked as an infusion, a
    10-minute premedication billed as 96365 on line 1 stayed the initial service and the three-hour
    IVIG on line 2 became "96367 x1 and 96366 x2", the push 96374: the order of the lines decided
    the coding (review 24D D3; the same lines the other way round gave 96365 and 96375). The time facts
    are read only where such an encounter bills a floored infusion code."""
    floored = reference.code_table().filter(pl.col("adm_min_minutes").is_not_null()
                                            & (pl.col("adm_role") == "initial"))
    if not initial.height or not initial.get_column("procedure_code").is_in(
            floored.get_column("procedure_code").implode()).any():
        return initial
    # (an integer set test on the few rows first: a join with every timed line cost more)
    ids = initial.get_column("row_id").implode()
    short = floored_infusions(lines).filter(pl.col("row_id").is_in(ids)).filter(
        under_floor() & pl.col("tm_push").is_not_null()).select("row_id", "tm_push").collect()
    if not short.height:
        return initial
    ranks = reference.code_table().filter(pl.col("adm_initial_rank").is_not_null())
    rank = pl.col("tm_push").replace_strict(ranks.get_column("procedure_code"),
                                            ranks.get_column("adm_initial_rank"), default=None)
    dtype = initial.schema["adm_initial_rank"]
    # (doubled, and one more for a push read off an infusion's times: a 96374 billed as such stays ahead
    # of a short 96365 whatever their line numbers, review 24E D5)
    return initial.join(short, on="row_id", how="left", maintain_order="left").with_columns(
        pl.when(rank.is_not_null()).then(rank.cast(dtype) * 2 + 1).otherwise(pl.col("adm_initial_rank") * 2)
        .alias("adm_initial_rank")).drop("tm_push")


def distinct_site() -> pl.Expr:
    """The line carries 59, XE, XS, XP or XU (a separate site or encounter; modifiers.csv role
    ``distinct_site``)."""
    return has_modifier(*reference.modifiers_with_role("distinct_site"))


def setting_and_code() -> pl.Expr:
    """The line's row in per-setting code arrays laid end to end (practitioner, then outpatient):
    ``code_idx``, + the code table's length on institutional claims (``is_inst``). The MUE and NCCI
    lookups gather at it: one gather, no join and no per-setting branch."""
    n = reference.code_table().height
    return pl.col("code_idx").cast(pl.UInt32) + pl.col("is_inst").cast(pl.UInt32) * n


def in_shared_group(frame: pl.LazyFrame, key: str) -> pl.Expr:
    """True on the rows of ``frame`` whose ``key`` another row has too (or is null: the nulls are one
    group in a window), decided now from the keys of ``frame``: a window over ``key`` restricted to
    these rows gives their sums exactly, and every other row is a group of its own. A window over
    hundreds of thousands of groups of one row costs 0.1-0.25 s of CPU; a sort of the keys a fifth."""
    keys = frame.select(key).collect().get_column(key)
    return pl.col(key).is_in(shared_keys(keys).implode()) | pl.col(key).is_null()


def initial_services(lines: pl.LazyFrame, encounters: pl.Series | None = None) -> pl.LazyFrame:
    """The initial-service lines that break the one-initial rule, with the decision; with
    ``encounters`` (``enc_key`` values), those of these encounters only (decided on their lines alone:
    every step is per encounter).

    Counted: lines of initial services (``adm_role`` initial) without a distinct-site modifier, per
    encounter (``enc_key``: COB copies are their own encounters, an institutional claim is one
    encounter across midnight). When an encounter has more than one unit, the unit that stays
    initial is the first in hierarchy, claim and line order; every later unit is extra.

    Returns one row per line holding extra units: the line's columns, the code-table columns the
    words use (``adm_addon_hour_code``, ``adm_subsequent_code``, ``adm_subsequent_primary_mask``, the
    concurrent code's ``adm_concurrent_code`` / ``_primary_mask`` / ``_bit``), ``extra_units``,
    ``is_kept_line`` (the kept initial itself is billed x2 or more), and the kept initial's
    ``kept_code`` / ``kept_bit`` / ``kept_claim`` / ``kept_line`` / ``kept_dos`` / ``kept_row``.

    Decided once per batch for every encounter (:func:`_initial_services_of_batch`, collected: a few
    thousand rows) and restricted here to ``encounters``: every step is per encounter, so the rows are
    those the decision on their lines alone gives. Why: each restricted call decided it again from
    the 2M lines (seven calls on the benchmark batch: units-over-mue's and unit-miscalculation's
    counts, the secondary hydration and concurrent infusion decisions, the sequential push; 12-20 ms
    each, and the lazy result re-ran inside every plan that read it) besides the batch's own 0.05 s
    for duplicate-initial-infusion (probe 23C).
    """
    decided = _initial_services_of_batch(lines).lazy()
    if encounters is None:
        return decided
    # (a filter keeps the decision's order, by encounter and rank; a null stands for the lines without
    # an encounter, as in :func:`_within`)
    keep = pl.col("enc_key").is_in(encounters.drop_nulls().cast(decided.collect_schema()["enc_key"]).implode())
    return decided.filter(keep | pl.col("enc_key").is_null() if encounters.null_count() else keep)


@functools.partial(once_per_batch, kept=4)
def _initial_services_of_batch(lines: pl.LazyFrame) -> pl.DataFrame:
    """:func:`initial_services` of every encounter of ``lines``, collected (once per batch: the
    ``lines`` a run hands every check; a check's own subset frame, such as the lines an MUE deletion
    leaves, is one more entry). Decided on the columns the decision reads (:data:`_DECIDES`), the
    line's other columns joined to the few rows decided: carried through every step, the 65 columns of
    the batch's initial lines cost twice the decision (2M lines, one thread: 0.084 s against 0.038 s
    and 0.024 s for the join)."""
    names = lines.collect_schema().names()
    initial = lines.select(_DECIDES).filter(code_is(adm_role="initial"))
    # Only encounters with more than one initial unit can break the rule: a window on the initial
    # lines first, then the modifier test on the few that remain, then the exact count. The window
    # runs only where an encounter has several initial lines (a line alone sums to its own units).
    initial = initial.filter(in_shared_group(initial, "enc_key") | (pl.col("units").fill_null(0) > 1))
    initial = initial.filter(pl.col("units").sum().over("enc_key") > 1)
    # Hydration concurrent-hydration removes (under 31 minutes outside another infusion) is not
    # reportable at all: its root cause is the overlap, and "report it as 96361" would be wrong.
    initial = initial.join(_hydration_removed(lines), on="row_id", how="anti")
    counted = initial.filter(~distinct_site())
    counted = counted.filter(pl.col("units").sum().over("enc_key") > 1)
    counted = _ranked_as_documented(with_codes(
        counted, "adm_initial_rank", "adm_bit", "adm_addon_hour_code", "adm_subsequent_code",
        "adm_subsequent_primary_mask", "adm_concurrent_code", "adm_concurrent_primary_mask", "adm_concurrent_bit"
    ).collect(), lines).lazy()
    first = {"procedure_code": "kept_code", "adm_bit": "kept_bit", "claim_id": "kept_claim",
             "line_number": "kept_line", "date_of_service": "kept_dos", "row_id": "kept_row"}
    ranked = counted.sort("enc_key", *_KEPT_ORDER).with_columns(
        pl.col("units").cum_sum().over("enc_key").alias("_through"),
        *[pl.col(c).first().over("enc_key").alias(name) for c, name in first.items()],
    )
    extra = ranked.filter(pl.col("_through") > 1)
    is_kept = (pl.col("claim_id") == pl.col("kept_claim")) & (pl.col("line_number") == pl.col("kept_line"))
    decided = extra.with_columns(
        pl.min_horizontal(pl.col("units"), pl.col("_through") - 1).alias("extra_units"),
        is_kept.alias("is_kept_line"),
    ).drop("_through").collect()
    # (a semi join on the few rows decided: a filter gathered each of the 56 columns of 2M lines by a mask,
    # 0.031 against 0.024 s)
    rest = lines.select("row_id", *(c for c in names if c not in _DECIDES)).join(
        decided.lazy().select("row_id"), on="row_id", how="semi")
    # (the columns in the order the whole lines gave: the line's, then the code table's and the decision's)
    return decided.join(rest.collect(), on="row_id", how="left", maintain_order="left").select(
        *names, *(c for c in decided.columns if c not in names))


# The columns :func:`_initial_services_of_batch` decides with (the codes, units, keys and order).
_DECIDES = ("row_id", "enc_key", "code_idx", "units", "modifiers", "claim_id", "line_number", "procedure_code",
            "date_of_service")


def sequential_infusions(lines: pl.LazyFrame, encounters: pl.Series | None = None) -> pl.DataFrame:
    """The sequential infusion lines that have a concurrent code (96367: 96368; ``concurrent_code`` in
    ``admin_codes.csv``), without a distinct-site modifier, of encounters with an initial service,
    shaped as :func:`initial_services`' rows (``is_kept_line`` false, the kept initial's ``kept_*``
    columns: the one the one-initial rule keeps) for :func:`concurrent_infusions`: a 96367 documented
    while the initial infusion runs is a concurrent infusion, 96368, as a second 96365 there is (probe
    23A D1: the same times billed as 96367 passed, as 96365 were told 96368). Collected (a few lines);
    ``encounters``: of those only. Decided once per batch (:func:`_sequential_rows`)."""
    rows = _sequential_rows(lines)
    if encounters is None or not rows.height:
        return rows
    return rows.filter(pl.col("enc_key").is_in(encounters.implode(), nulls_equal=True))


@once_per_batch
def _sequential_rows(lines: pl.LazyFrame) -> pl.DataFrame:
    """:func:`sequential_infusions` of the whole batch. The code test alone passes over every line (an
    integer set test; the modifier test on every line cost 0.15 s of 2M, review 23D); the rest reads the
    few lines it leaves, none in most batches."""
    found = lines.filter(code_is(adm_role="addon", adm_concurrent_code=None)).select("row_id").collect()
    # (collected before the modifier test: a filter after a filter is one predicate on every line)
    seq = (lines.filter(pl.col("row_id").is_in(found.get_column("row_id").implode())).collect().lazy()
           if found.height else lines.clear()).filter(~distinct_site())
    keys = seq.select("enc_key").unique().collect().get_column("enc_key")
    codes = with_codes(seq, "adm_concurrent_code", "adm_concurrent_primary_mask", "adm_concurrent_bit")
    plan = codes.join(kept_initials(lines, keys), on="enc_key", how="inner").select(
        "row_id", "enc_key", "claim_id", "line_number", "date_of_service", "units", "code_idx", "enc_admin_mask",
        "adm_concurrent_code", "adm_concurrent_primary_mask", "adm_concurrent_bit", pl.lit(False).alias("is_kept_line"),
        "kept_row", "kept_bit", "kept_code", "kept_claim", "kept_line", "kept_dos")
    return plan.collect() if keys.len() else plan.clear().collect()


# The columns :func:`concurrent_infusions` reads of its candidate rows (initial or sequential).
_CONCURRENT_CANDIDATE = ("row_id", "enc_key", "claim_id", "line_number", "enc_admin_mask", "code_idx",
                         "adm_concurrent_code", "adm_concurrent_primary_mask", "adm_concurrent_bit",
                         "is_kept_line", "kept_row", "kept_bit")


def concurrent_candidates(extra: pl.DataFrame, sequential: pl.DataFrame) -> pl.LazyFrame:
    """The rows :func:`concurrent_infusions` judges: the extra initial lines of ``extra``
    (:func:`initial_services`) and the sequential infusions of ``sequential``
    (:func:`sequential_infusions`), together, so that the encounter's one concurrent code goes to the
    first of either in claim and line order."""
    return pl.concat([extra.lazy().select(_CONCURRENT_CANDIDATE), sequential.lazy().select(_CONCURRENT_CANDIDATE)],
                     how="vertical_relaxed")


def kept_initials(lines: pl.LazyFrame, encounters: pl.Series) -> pl.LazyFrame:
    """Per encounter of ``encounters`` with an initial service: the one that stays initial, as
    :func:`initial_services` keeps it (the first initial line without a distinct-site modifier, hydration
    concurrent-hydration removes left out, in hierarchy, claim and line order): ``enc_key``,
    ``kept_row``, ``kept_bit``, ``kept_code``, ``kept_claim``, ``kept_line``, ``kept_dos``. An
    encounter whose one initial line carries 59/XS keeps that line: with no other initial service it is
    the encounter's initial service (review 24F D1), so a 96367 run inside it is judged against it and
    the swap promotes from it (review 25D D1: a 10-minute 96365-XS before three hours of 96367 and a
    second 96367 inside them left the 96368 to the next run)."""
    # (counted after the hydration concurrent-hydration removes: a 96360 inside the 96367 is no initial
    # service beside the 96365-XS, review 26D D1)
    initial = _within(lines.filter(code_is(adm_role="initial")), encounters).join(
        _hydration_removed(lines), on="row_id", how="anti")
    alone = pl.len().over("enc_key") == 1
    initial = initial.filter(~distinct_site() | alone)
    ranked = _ranked_as_documented(with_codes(initial, "adm_initial_rank", "adm_bit").collect(), lines).lazy()
    return ranked.sort("enc_key", *_KEPT_ORDER).group_by(
        "enc_key", maintain_order=True).first().select(
        "enc_key", pl.col("row_id").alias("kept_row"), pl.col("adm_bit").alias("kept_bit"),
        pl.col("procedure_code").alias("kept_code"), pl.col("claim_id").alias("kept_claim"),
        pl.col("line_number").alias("kept_line"), pl.col("date_of_service").alias("kept_dos"))


def hydration_as_secondary(lines: pl.LazyFrame, extra: pl.LazyFrame) -> pl.LazyFrame:
    """The initial hydration lines (96360) of ``extra`` (rows of :func:`initial_services`) that another
    initial service outranks: hydration after it is secondary hydration (96361), whose units are
    ``1 + floor((T - 31) / 60)`` of the hydration's minutes outside other infusions (T: its episode's,
    the 96360 line with the 96361 hours documented as its continuation). Per such line: ``row_id``,
    ``ep``, ``secondary_units`` (what those minutes support as 96361, for the episode) and
    ``instead_units`` (the same less the units of the episode's other lines and of the encounter's
    hydration hour lines without times, which stay but for the units a line fix takes off them: what
    this line is billed as instead; null when nothing is left for it). Lines without usable times, or
    beside an infusion without them (the minutes outside it cannot be told), are left out; so is a
    second 96360 behind a first (a repeat, not secondary hydration). ``duplicate-initial-infusion``
    ("report line 2 as 96361 x2") and ``concurrent-hydration`` ("for its 120 minutes outside the other
    infusion: 96361 x2") read it, so the two fixes on one line agree."""
    t = timing(lines)
    hydration_initial = codes_where(tm_hydration=True, tm_kind=INFUSION)
    demoted = extra.filter(~pl.col("is_kept_line") & ~pl.col("kept_code").is_in(hydration_initial)).select("row_id")
    # Decided now, on the few lines it can be (none in most batches: then nothing else is read).
    hydration = t.lines.join(demoted, on="row_id", how="semi").filter(
        pl.col("tm_hydration") & (pl.col("tm_kind") == INFUSION) & pl.col("ep").is_not_null()
        & pl.col("ep_effective").is_not_null() & ~pl.col("concurrency_unknown")).select(
        "row_id", "ep", "ep_effective", "enc_key").collect()
    supported = secondary_units(pl.col("ep_effective"))
    if not hydration.height:
        return hydration.lazy().select("row_id", "ep", supported.alias("secondary_units"),
                                       supported.alias("instead_units"))
    # The units of the episodes' other lines, gathered by position (``_pos``) from the batch's column.
    members = t.lines.join(hydration.lazy().select("ep").unique(), on="ep", how="semi").join(
        hydration.lazy().select("row_id"), on="row_id", how="anti").select("ep", "_pos").collect()
    # ... and of the encounter's hydration hour lines without times (96361 x2 beside a 96360 of 180
    # minutes: "report it as 96361 x3" made x5 in all; probe X): they stay, this line bills the rest.
    # ... less the units unit-miscalculation (or observation-counted-as-infusion) takes off them, which
    # do not stay (96360 of 60 minutes beside an untimed 96361 x1 whose hour that check deletes: line 2 is
    # 96361 x1, not deleted too, which left no hydration billed; probe 16E).
    encounters = hydration.get_column("enc_key").unique()
    untimed = t.lines.join(hydration.lazy().select("enc_key").unique(), on="enc_key", how="semi").filter(
        pl.col("tm_hydration") & (pl.col("tm_kind") == HOUR) & pl.col("ep").is_null()).select(
        "row_id", "enc_key", "_pos").join(
        _hours_not_supported(lines, encounters, removed_by_a_line_fix=True), on="row_id", how="left").collect()
    column = lines.select("units").collect().get_column("units")
    others = members.with_columns(column.gather(members.get_column("_pos")).alias("units")).group_by("ep").agg(
        pl.col("units").sum().alias("_others"))
    beside = untimed.with_columns(
        (column.gather(untimed.get_column("_pos")) - untimed.get_column("reported_units").fill_null(0.0))
        .alias("units")).group_by("enc_key").agg(pl.col("units").sum().alias("_untimed"))
    left = supported - pl.col("_others").fill_null(0) - pl.col("_untimed").fill_null(0)
    return hydration.lazy().join(others.lazy(), on="ep", how="left").join(
        beside.lazy(), on="enc_key", how="left").select(
        "row_id", "ep", supported.alias("secondary_units"), pl.when(left >= 1).then(left).alias("instead_units"))


def floored_infusions(lines: pl.LazyFrame) -> pl.LazyFrame:
    """The infusion lines (:mod:`scrubber.timing` lines) whose code has a floor (``min_minutes`` in
    ``admin_codes.csv``: 16, hydration 31): the lines infusion-too-short and
    observation-counted-as-infusion judge."""
    return timing(lines).lines.filter((pl.col("tm_kind") == INFUSION) & pl.col("tm_floor").is_not_null())


def under_floor() -> pl.Expr:
    """On :func:`floored_infusions`: the documented minutes, without observation, are below the floor."""
    return pl.col("ep_minutes").is_not_null() & (pl.col("ep_minutes") < pl.col("tm_floor"))


def lifted_by_observation() -> pl.Expr:
    """On :func:`floored_infusions`: the documented observation minutes lift the minutes to the floor
    (that is ``observation-counted-as-infusion``'s, not ``infusion-too-short``'s)."""
    obs = pl.col("ep_obs")
    return (obs > 0) & (pl.col("ep_minutes") + obs >= pl.col("tm_floor"))


def short_infusions(lines: pl.LazyFrame) -> pl.LazyFrame:
    """Infusion lines whose documented minutes, without observation, are below their code's floor,
    where the observation minutes would not reach it: ``infusion-too-short``'s decision."""
    return floored_infusions(lines).filter(under_floor() & ~lifted_by_observation())


def sequential_push(push: pl.Expr) -> pl.Expr:
    """The push code to bill when the push ``push`` (an initial push: 96374, 96409) follows another
    initial service: its subsequent code (96375, 96411; ``subsequent_code`` in ``admin_codes.csv``).
    A 10-minute 96365 after 96413 is 96375, not 96374 (a second initial) nor 96367 (an infusion)."""
    table = reference.code_table().filter(pl.col("adm_subsequent_code").is_not_null()
                                          & (pl.col("adm_role") == "initial"))
    return push.replace(table.get_column("procedure_code"), table.get_column("adm_subsequent_code"))


def below_floor(lines: pl.LazyFrame, rows: pl.LazyFrame) -> pl.DataFrame:
    """The timing lines among ``rows`` (``row_id``) documented under their floor, with or without
    observation minutes reaching it (``infusion-too-short``'s or ``observation-counted-as-infusion``'s
    line), collected: ``row_id``, ``enc_key``, ``tm_push`` (null for hydration), ``ep_minutes``.
    ``duplicate-initial-infusion`` reads it so that its fix on such a line names what theirs do:
    the push :func:`outranked_push` gives, or no code for hydration of 30 minutes or less."""
    return floored_infusions(lines).join(rows.select("row_id"), on="row_id", how="semi").filter(under_floor()).select(
        "row_id", "enc_key", "tm_push", "ep_minutes").collect()


def lone_administrations(lines: pl.LazyFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """The ``row_id`` of ``rows`` (collected, with ``row_id``) that are the only administration line
    of their professional encounter: its one administration code (``enc_admin_mask``), on one line, and
    no row of the encounter rejected (a rejected row's code may be another service). A hospital claim is
    an encounter of its own, and another claim of the visit may bill the initial service (review 21E:
    two initial pushes for one ED visit), so hospital lines are never lone. The one service of its kind
    is the initial one (CPT reports the first service with the initial code): addon-without-primary
    reports a lone 96367 as 96365 (:func:`checks.addon_without_primary._the_only_service`), and a lone
    96367 of 10 minutes is the initial push, 96374 (:func:`outranked_push`). A standalone service given
    by no IV route (96372, 96401, 96402: an injection, no part of the IV hierarchy nor a primary of an IV
    add-on) beside it leaves it the only IV service (probe 28A B2: 96375 beside 96372 was "bill the
    primary"; its initial push is 96374)."""
    if not rows.height:
        return pl.DataFrame(schema={"row_id": pl.Int64})
    aside = _not_iv_standalone()
    mine = lines.filter(pl.col("row_id").is_in(rows.get_column("row_id").implode()) & ~pl.col("is_inst"))
    if "enc_rejected_mask" in lines.collect_schema():
        mine = mine.filter(pl.col("enc_rejected_mask").fill_null(0) == 0)
    mine = mine.filter((pl.col("enc_admin_mask") & ~pl.lit(aside, pl.UInt64)) == code("adm_bit").cast(pl.UInt64)
                       ).select("row_id", "enc_key")
    mine = mine.collect()
    if not mine.height:
        return pl.DataFrame(schema={"row_id": pl.Int64})
    counted = code_is(adm_role=None) & ((code("adm_bit").cast(pl.UInt64) & pl.lit(aside, pl.UInt64)) == 0)
    admin = lines.filter(pl.col("enc_key").is_in(mine.get_column("enc_key").implode()) & counted
                         ).group_by("enc_key").agg(pl.len().alias("_admin_lines"))
    return mine.lazy().join(admin, on="enc_key").filter(pl.col("_admin_lines") == 1).select("row_id").collect()


def lone_pushes(lines: pl.LazyFrame, short: pl.DataFrame) -> pl.DataFrame:
    """The ``row_id`` of the lines of ``short`` (collected: ``row_id``, ``tm_push``) documented under their
    floor that are the only administration line of their encounter (:func:`lone_administrations`), whose
    push is the initial one (:func:`initial_push`), unless the line's policy caps that push at 0 (then
    it is no payable recode, as ``no_primary_only_service`` skips such a recode; review 28E D5: the rerun
    deleted the 96374 the fix asked). The policies' caps are the run's (:func:`scrubber.per_batch.
    context_of`); ``infusion-too-short`` and ``addon-without-primary`` read the same rows."""
    lone = lone_administrations(lines, short.select("row_id"))
    kept = context_of(lines)
    caps = getattr(kept, "policy_caps", None)
    if not lone.height or caps is None:
        return lone
    unpaid = caps.filter(pl.col("cap") == 0).select("policy", pl.col("procedure_code").alias("_push")).collect()
    if not unpaid.height:
        return lone
    pushes = short.lazy().join(lone.lazy(), on="row_id", how="semi").select(
        "row_id", initial_push(pl.col("tm_push")).alias("_push")).join(
        lines.select("row_id", "policy"), on="row_id")
    return pushes.join(unpaid.lazy(), on=["policy", "_push"], how="anti").select("row_id").collect()


def _not_iv_standalone() -> int:
    """The administration mask of the standalone codes given by no IV route (``admin_codes.csv``: role
    standalone, ``documented_routes`` without IV: 96372, 96401, 96402)."""
    table = reference.code_table().filter((pl.col("adm_role") == "standalone")
                                          & ~pl.col("adm_documented_routes").list.contains("IV"))
    return reference.admin_bits(table.get_column("procedure_code").to_list())


def initial_push(push: pl.Expr) -> pl.Expr:
    """The initial push whose subsequent code is the push ``push`` (96375: 96374; 96411: 96409; the
    inverse of :func:`sequential_push`, ``subsequent_code`` in ``admin_codes.csv``); an initial push
    stays itself. A 96367 of 10 minutes as the only service of its encounter is 96374: a lone 96375
    would be an add-on without its primary (27D B2)."""
    table = reference.code_table().filter(pl.col("adm_subsequent_code").is_not_null()
                                          & (pl.col("adm_role") == "initial"))
    return push.replace(table.get_column("adm_subsequent_code"), table.get_column("procedure_code"))


def outranked_push(lines: pl.LazyFrame, short: pl.DataFrame) -> pl.LazyFrame:
    """For ``short`` infusion lines (timing lines under their floor, collected): ``row_id``,
    ``push_code`` (the push to bill instead: the sequential push, 96375, where another initial service
    of the encounter outranks the line, :func:`sequential_push`; the initial push, 96374, where the line
    is the only administration service of its encounter, :func:`lone_administrations`; else the line's
    own push code) and
    ``ig`` (the encounter bills an immune globulin, never a push, and no other infusion of it can be
    the immune globulin's, :func:`_ig_carriers`: the fix is the record's times), and the ``promote_*``
    facts of an infusion billed as sequential that is the initial service instead
    (:func:`_infusion_billed_as_sequential`; the push is then the sequential one).
    ``infusion-too-short`` and ``observation-counted-as-infusion`` read it, so the two time rules name
    the same code, and ``route-mismatch`` never sends the line back (96374 -> "IG is not a push")."""
    if not short.height:
        return pl.LazyFrame(schema={"row_id": pl.Int64, "push_code": pl.String, "ig": pl.Boolean,
                                    **_PROMOTED_SCHEMA, "promote_row": pl.Int64})
    encounters = short.get_column("enc_key").unique()
    outranked = (initial_services(lines, encounters).filter(~pl.col("is_kept_line")).select(
        "row_id", pl.lit(True).alias("_outranked")) if encounters.len()
        else pl.LazyFrame(schema={"row_id": pl.Int64, "_outranked": pl.Boolean}))
    ig = _ig_only(lines, encounters).with_columns(pl.lit(True).alias("ig"))
    # (only where the short line is the service kept initial: after 96413 a 96367 stays sequential, and
    # beside a kept 96365 a short 96365-XS promotes nothing, review 24E D3)
    promoted = _infusion_billed_as_sequential(lines, short).collect()
    # (an encounter whose only initial line carries 59/XS has none kept: that line is its initial service,
    # review 24F D1; looked up on the few encounters with a promotion, none in most batches: over every
    # short line's encounter it cost 0.15 s on 2M lines)
    # (with none kept, only where the short line is the encounter's one initial line: beside a 96365-59 it
    # promotes nothing either, review 24G D1)
    places = promoted.join(short.select("row_id", "enc_key"), on="row_id").get_column("enc_key").unique()
    kept = (kept_initials(lines, places) if promoted.height else pl.LazyFrame(
        schema={"enc_key": short.schema["enc_key"], "kept_row": pl.Int64})).select("enc_key", "kept_row")
    promoted = promoted.lazy()
    kept_here = (pl.col("kept_row") == pl.col("row_id")).fill_null(False)
    outranked_line = pl.col("_outranked").fill_null(False)
    ahead = outranked_line | pl.col("promote_code").is_not_null()
    # (a lone sequential infusion is the first service: 96367 of 10 minutes alone is 96374, not 96375, 27D B2)
    lone = lone_pushes(lines, short).with_columns(pl.lit(True).alias("_lone")).lazy()
    push = (pl.when(ahead).then(sequential_push(pl.col("tm_push")))
            .when(pl.col("_lone").fill_null(False)).then(initial_push(pl.col("tm_push")))
            .otherwise(pl.col("tm_push")))
    return short.lazy().select("row_id", "enc_key", "tm_push").join(outranked, on="row_id", how="left").join(lone,
        on="row_id", how="left").join(
        ig, on="enc_key", how="left").join(promoted, on="row_id", how="left").join(
        kept, on="enc_key", how="left", nulls_equal=True).with_columns(
        pl.when(kept_here).then(pl.col(c)).alias(c) for c in (*PROMOTED, "promote_row")).select(
        "row_id",
        push.alias("push_code"),
        pl.col("ig").fill_null(False),
        *PROMOTED,
        "promote_row",  # (the promoted line's row: the concurrent rule's kept infusion, :func:`swapped_initials`)
    )


PROMOTED = ("promote_code", "promote_to", "promote_claim", "promote_line", "promote_interval", "promote_units")
_PROMOTED_SCHEMA = {"promote_code": pl.String, "promote_to": pl.String, "promote_claim": pl.String,
                    "promote_line": pl.Int64, "promote_interval": pl.String, "promote_units": pl.String}


def _infusion_billed_as_sequential(lines: pl.LazyFrame, short: pl.DataFrame) -> pl.LazyFrame:
    """``row_id`` -> ``promote_code``, ``promote_to``, ``promote_claim``, ``promote_line``,
    ``promote_interval``, ``promote_row``: for the short lines of ``short`` billed as an initial
    infusion (96365, 96413), the encounter's longest (then first) sequential infusion of the same family
    (96367, 96417) documented long enough to be one (timed, at or above its floor), and the initial code
    it is (96365, 96413). A
    10-minute premedication on 96365 before three hours of IVIG on 96367 is the push; the infusion is
    the initial service (CPT's hierarchy, infusions before pushes; for a practitioner, the code of the
    primary reason for the encounter "irrespective of the order" given, IOM 100-04 ch.12 §30.5): 96375
    and 96365, not 96374 and 96367 (probe 24A O01: the fix was "bill 96374", which left the IVIG a
    sequential infusion beside a push billed as the initial service)."""
    schema = {"row_id": pl.Int64, **_PROMOTED_SCHEMA, "promote_row": pl.Int64}
    table = reference.code_table()
    initial = table.filter((pl.col("adm_role") == "initial") & (pl.col("adm_infusion") == "true")
                           & pl.col("adm_subsequent_code").is_not_null())
    if not short.height:
        return pl.LazyFrame(schema=schema)
    # (the short lines billed as an initial infusion first, by their code: few or none)
    mine = short.lazy().select("row_id", "enc_key").join(lines.select("row_id", "procedure_code"), on="row_id").join(
        initial.lazy().select("procedure_code", pl.col("adm_subsequent_code").alias("_sequential")),
        on="procedure_code").select("row_id", "enc_key", "_sequential").collect()
    if not mine.height:
        return pl.LazyFrame(schema=schema)
    t = timing(lines).lines.filter(pl.col("enc_key").is_in(mine.get_column("enc_key").unique().implode()))
    mine = mine.lazy()
    long = t.filter(pl.col("minutes").is_not_null() & pl.col("tm_floor").is_not_null()
                    & (pl.col("minutes") >= pl.col("tm_floor"))).join(
        lines.select("row_id", "claim_id", "line_number", "procedure_code"), on="row_id").join(
        initial.lazy().select(pl.col("adm_subsequent_code").alias("procedure_code"),
                              pl.col("procedure_code").alias("promote_to")), on="procedure_code").sort(
        # (the longest infusion first, then the earliest: of a 30-minute and a 3-hour 96367 both from 09:00 the
        # 3-hour one is the initial 96365 with its 96366 x2, the other the concurrent 96368, which has no
        # hours; promoting the first by start made the 3 hours 96368 and deleted the 96366 x2, review 25D D2)
        "enc_key", "ep_minutes", "s", "claim_id", "line_number", "row_id",
        descending=[False, True, False, False, False, False]).group_by(
        "enc_key", "procedure_code", maintain_order=True).first()
    # (the promoted line billed xN for its one documented infusion: the initial code x1, review 27A D3:
    # "report 96367 as 96365" left x3, and unit-miscalculation's "96367 x1" gave the line a second code;
    # the time past its first hour is hours_not_billed's ask, in the same run)
    units = pl.when(pl.col("units") > 1).then(pl.format(" x1 instead of x{}", number(pl.col("units")))).otherwise(
        pl.lit(""))
    return mine.join(long.join(lines.select("row_id", "units"), on="row_id"),
                     left_on=["enc_key", "_sequential"], right_on=["enc_key", "procedure_code"]).select(
        "row_id", pl.col("_sequential").alias("promote_code"), "promote_to", pl.col("claim_id").alias("promote_claim"),
        pl.col("line_number").cast(pl.Int64).alias("promote_line"), interval("s", "e").alias("promote_interval"),
        units.alias("promote_units"), pl.col("row_id_right").alias("promote_row"),
    ).collect().lazy().cast(schema)  # type: ignore[arg-type]


def _ig_only(lines: pl.LazyFrame, encounters: pl.Series | None) -> pl.LazyFrame:
    """``enc_key`` of the ``encounters`` where a short infusion can only be the immune globulin's: the
    encounter bills one, and no infusion of its route carries it (:func:`_ig_carriers`). There the
    fix is the record's times (never a push), and the line's units stay its code's. One decision for
    the time rules' fixes (:func:`outranked_push`) and the unit counts (:func:`units_recoded_whole`)."""
    with_ig = _within(lines.filter(is_ig()), encounters).select("enc_key").unique().collect().get_column("enc_key")
    # (the carriers looked for in the encounters billing an immune globulin only: a handful)
    return pl.LazyFrame({"enc_key": with_ig}).join(_ig_carriers(lines, with_ig), on="enc_key", how="anti",
                                                   nulls_equal=True)


def _ig_carriers(lines: pl.LazyFrame, encounters: pl.Series) -> pl.LazyFrame:
    """``enc_key`` of the ``encounters`` where every immune globulin billed has an infusion line of its
    route (96365 or 96367 for an IV product, 96369 for an SC one; either for one given both ways) not
    documented under its floor (long enough, or untimed): the immune globulin's infusion may be that
    one, so a short infusion beside it is another drug (a 10-minute premedication after three hours of
    IVIG is the sequential push, 96375: CPT, "an infusion of 15 minutes or less" is a push, and 96367
    is a *new* drug), not the immune globulin with wrong times (probe 24A D1). A 96369 carries no IV
    product (review 24D D2: beside J1459 it made the short IV line a push, then route-mismatch)."""
    iv = code_is(adm_infusion="true", adm_route_evidence="iv_infusion")
    sc = code_is(adm_infusion="true", adm_route_evidence="sc_infusion")
    if not encounters.len():
        return pl.LazyFrame(schema={"enc_key": encounters.dtype})
    candidates = _within(lines.filter(iv | sc), encounters).select("row_id", "enc_key", "code_idx").collect()
    short = floored_infusions(lines).filter(pl.col("row_id").is_in(candidates.get_column("row_id").implode())
                                            & under_floor()).select("row_id")
    carriers = candidates.lazy().join(short, on="row_id", how="anti").group_by(
        "enc_key").agg(iv.any().alias("_iv"), sc.any().alias("_sc"))
    route = code("ig_route")
    # (every product billed needs an infusion of its route: beside J1459 and J1559, a 96369 carries the
    # J1559 only, and a short IV line may be the J1459's, review 24E D7)
    products = _within(lines.filter(is_ig()), encounters).group_by("enc_key").agg(
        (route == "IV").any().alias("_iv_only"), (route == "SC").any().alias("_sc_only"),
        (route == "IV_SC").any().alias("_either"))
    return carriers.join(products, on="enc_key", nulls_equal=True).filter(
        (~pl.col("_iv_only") | pl.col("_iv")) & (~pl.col("_sc_only") | pl.col("_sc"))
        & (~pl.col("_either") | pl.col("_iv") | pl.col("_sc"))).select("enc_key")


def _hydration_removed(lines: pl.LazyFrame) -> pl.LazyFrame:
    """``row_id`` of hydration lines whose documented minutes outside another infusion are under 31
    (concurrent-hydration's ``not_reportable``: the whole hydration goes)."""
    return timing(lines).lines.filter(removed_hydration()).select("row_id")


def _within(lines: pl.LazyFrame, encounters: pl.Series | None) -> pl.LazyFrame:
    """The ``lines`` of the encounters ``encounters`` (``enc_key`` values; a null one stands for the
    lines without an encounter, which windows group together); all of them when it is ``None``. A
    join on the few keys (after the caller's filter): an ``is_in`` in the filter tests every line."""
    if encounters is None:
        return lines
    keys = pl.DataFrame({"enc_key": encounters}).lazy()
    return lines.join(keys, on="enc_key", how="semi", nulls_equal=True)


def units_reported_elsewhere(lines: pl.LazyFrame, of: pl.DataFrame | None = None) -> pl.LazyFrame:
    """``row_id``, ``reported_units``: per line, the units another check already reports as the
    root cause: the extra initial units of :func:`initial_services`, and the additional-hour units
    the documented time does not support (``unit-miscalculation``, or ``observation-counted-as-
    infusion`` when observation minutes explain them: either way not units an MUE appeal could
    claim the record supports) or that go with a concurrent infusion's recode
    (:func:`recoded_as_concurrent`), the units past the first of a sequential infusion billed xN for
    one documented infusion (``sequential_units``), the drug units over the documented dose (or a JW line's
    over the documented waste: ``unit-miscalculation``'s excess, on the line it reports; J1459 x310 for a
    documented 150,000 mg is 10 units over the dose, not also 10 over the MUE of 300 with an appeal
    for units the record does not document), the Q2052 lines ``home-ig-supplies`` reports
    (:func:`checks.home_ig_supplies.supply_decisions`), and every unit of a line the time rules recode
    whole (:func:`units_recoded_whole`; whatever else is reported on it). Lines not listed have none. A unit counter
    subtracts these before comparing with its own limit.

    ``of``: the lines (``row_id``, ``enc_key``, ``procedure_code``) the caller reads the units of, when
    it knows them: the one-initial and time decisions are made on their encounters only (both are
    per encounter), and the Q2052 decisions only when one of them is a Q2052 line. Their rows are the
    same as without it; other lines may be left out. A few thousand candidate lines instead of 2M:
    the three decisions over every line cost 0.1 s of CPU."""
    encounters = None if of is None else of.get_column("enc_key").unique()
    extra = initial_services(lines, encounters).collect().lazy()  # (read twice: the units, the concurrent hours)
    initial = extra.select("row_id", pl.col("extra_units").cast(pl.Float64).alias("reported_units"))
    # (a concurrent infusion's hours go whole with its recode: not also as hours over the record; a
    # sequential infusion recoded as the concurrent one is no unit of its code)
    concurrent_lines = _concurrent_in(lines, encounters, extra)
    concurrent = _hours_recoded(lines, concurrent_lines)
    parts = [initial, concurrent, _hours_as_recodes_leave(lines, encounters, concurrent_lines, concurrent),
             _sequential_recoded(lines, concurrent_lines)]
    # An add-on with no primary in the encounter: every unit is addon-without-primary's (96366 x10 alone
    # was also "2 over the MUE", with a fix to reduce it and an appeal for units no primary supports).
    within = lines if encounters is None else lines.filter(pl.col("enc_key").is_in(encounters.implode()))
    # (not one no unit of which is payable in its setting: addon-without-primary leaves it to the MUE's
    # finding, whose words then named "units another finding already reports", review 26D D5)
    from checks.units_over_mue import not_payable_in_setting  # (that module imports this one)

    parts.append(unanchored_addons(within).filter(~not_payable_in_setting()).select(
        "row_id", pl.col("units").cast(pl.Float64).alias("reported_units")))
    # A sequential infusion billed x2 or more for one documented infusion: the units past the first are
    # unit-miscalculation's (``sequential_units``), not also over the MUE.
    parts.append(sequential_units(within).select("row_id", pl.col("excess_units").alias("reported_units")))
    ig_codes = reference.immune_globulins().get_column("code")
    if of is None:
        parts.append(drug_units_over(lines).select(
            "row_id", pl.col("excess_units").cast(pl.Float64).alias("reported_units")))
    elif (drug_lines := of.filter(pl.col("procedure_code").is_in(ig_codes.implode()))).height:
        # The lines of the drug candidates' encounters, collected once: the decision reads them several
        # times (filtering the drug lines first gathers every column of 500k lines: slower).
        drugs = _within(lines, drug_lines.get_column("enc_key").unique()).collect().lazy()
        parts.append(drug_units_over(drugs).select(
            "row_id", pl.col("excess_units").cast(pl.Float64).alias("reported_units")))
    supply_codes = reference.home_ivig_supplies().get_column("code")
    if of is None or of.get_column("procedure_code").is_in(supply_codes.implode()).any():
        parts.append(supply_decisions(lines, with_units=True).select(
            "row_id", pl.coalesce(pl.col("excess_units"), pl.col("units")).cast(pl.Float64).alias("reported_units")))
    summed = pl.concat(parts).group_by("row_id").agg(pl.col("reported_units").sum())
    # A line the time rules recode whole (an infusion under its floor: the push, or hydration of 30
    # minutes or less, not reported) is no unit of its code: its units go with infusion-too-short's (or
    # observation-counted-as-infusion's) fix, whatever else is reported on it (probe 23A D2: a 10-minute
    # 96365-XS was also "over the MUE of 1, keep XS and appeal" for an infusion the record says was a push).
    recoded = units_recoded_whole(lines, encounters).select("row_id", pl.col("units").cast(pl.Float64).alias("_whole"))
    return summed.join(recoded, on="row_id", how="full", coalesce=True).select(
        "row_id", pl.max_horizontal("reported_units", "_whole").alias("reported_units"))


def units_recoded_whole(lines: pl.LazyFrame, encounters: pl.Series | None = None) -> pl.LazyFrame:
    """The infusion lines under their code's floor (with or without observation minutes reaching it:
    :func:`below_floor`'s lines): every unit leaves the line's code, for the push the time rules name
    or, for hydration of 30 minutes or less, for nothing; a drug infusion that can only be an immune
    globulin's stays (:func:`_ig_only`: there the fix is the record's times, never a push), hydration does not
    (review 23D: a 20-minute 96360-XS beside IVIG was "delete" and "keep XS and appeal the MUE").
    ``encounters``: of those only (:func:`_within`)."""
    short = _within(floored_infusions(lines).filter(under_floor()), encounters).select(
        "row_id", "enc_key", "tm_push").collect()
    # (the IG decision of the time rules' fixes: a premedication beside the IG's infusion is a push)
    ig = _ig_only(lines, short.get_column("enc_key").unique())
    short = short.lazy()
    drugs_in_ig = short.filter(pl.col("tm_push").is_not_null()).join(ig, on="enc_key", how="semi", nulls_equal=True)
    return short.join(drugs_in_ig, on="row_id", how="anti").join(
        lines.select("row_id", "units"), on="row_id", how="inner").select("row_id", "units")


def _hours_as_recodes_leave(lines: pl.LazyFrame, encounters: pl.Series | None, concurrent: pl.DataFrame | None,
                            hours: pl.LazyFrame) -> pl.LazyFrame:
    """:func:`_hours_not_supported`, the encounters of concurrent recodes (``concurrent``:
    :func:`_concurrent_in`; ``hours``: the hour lines that go with them, reported by that finding)
    judged without those lines, as unit-miscalculation judges them (:func:`recoded_as_concurrent`):
    one count of the hours the record supports for the MUE and the time rules."""
    if concurrent is None or not concurrent.height:
        return _hours_not_supported(lines, encounters)
    removed = pl.concat([concurrent.get_column("row_id").cast(pl.Int64),
                         hours.select(pl.col("row_id").cast(pl.Int64)).collect().get_column("row_id")]).unique()
    touched = lines.filter(pl.col("row_id").is_in(removed.implode())).select("enc_key").unique().collect().get_column(
        "enc_key")
    rest = _hours_not_supported(lines, encounters, skip=touched)
    return pl.concat([rest, _hours_not_supported(lines, touched, tm=timing_without(lines, removed))])


def _hours_not_supported(lines: pl.LazyFrame, encounters: pl.Series | None = None,
                         removed_by_a_line_fix: bool = False,
                         tm: Timing | None = None, skip: pl.Series | None = None) -> pl.LazyFrame:
    """Per additional-hour line, its units beyond what the encounter's documented time supports
    (:mod:`scrubber.timing` groups that can be judged), laid on the chain's lines in order, each
    line at most its own units; with ``encounters``, of those encounters' lines only. With
    ``removed_by_a_line_fix``, only the units a finding's fix takes off those lines: not where the
    minutes concurrent with another infusion explain the excess (concurrent-hydration recomputes the
    hydration for the claim; unit-miscalculation leaves those hours alone).
    ``tm``: the time facts to judge by (:func:`scrubber.timing.timing_without`), else the batch's.
    ``skip``: encounters left out (judged elsewhere, on other time facts)."""
    # Judged on the lines that could be read, also where a row of the encounter could not be (then
    # unit-miscalculation is quiet, not evaluated): a row missing could only add infusion time, so the
    # excess is at most this, and a counter subtracting it never reports units it would not have
    # reported beside a good row (a bad row never changes good rows' findings).
    judged = pl.col("evaluable_as_read") & (pl.col("counted") > pl.col("expected"))
    if removed_by_a_line_fix:
        judged = judged & (pl.col("counted") > pl.col("expected_concurrent"))
    if skip is not None:
        judged = judged & ~pl.col("enc_key").is_in(skip.implode())
    groups = _within((timing(lines) if tm is None else tm).groups.filter(judged), encounters)
    rows = groups.select((pl.col("counted") - pl.col("expected")).cast(pl.Float64).alias("_excess"),
                         pl.col("hour_rows").alias("row_id"), pl.int_range(pl.len()).alias("_g")).explode("row_id")
    units = _within(lines.filter(code_is(adm_role="addon")), encounters).select(
        "row_id", pl.col("units").cast(pl.Float64))
    rows = rows.join(units, on="row_id", how="inner", maintain_order="left")
    before = pl.col("units").cum_sum().over("_g") - pl.col("units")
    return rows.select("row_id", pl.min_horizontal(pl.col("units"), (pl.col("_excess") - before).clip(lower_bound=0))
                       .alias("reported_units")).filter(pl.col("reported_units") > 0)


# The hour lines that go with another line's fix (:func:`hours_of_deleted_infusions`,
# :func:`concurrent_hours`), where there are none.
_NO_HOURS = {"row_id": pl.Int64, "_hour_rows": pl.List(pl.Int64), "_hour_units": pl.Float64,
             "hours_note": pl.String, "hours_removed": pl.String}


def billed_line(code: pl.Expr | str, units: pl.Expr | str) -> pl.Expr:
    """A line as the fixes name it: "96370 x1 on claim S1 line 2" (the code and units given, the
    line's claim and number): the hours that go with a deletion, a recode or a continuation."""
    return pl.format("{} x{} on claim {} line {}", code, units, "claim_id", "line_number")


def hours_of_deleted_infusions(lines: pl.LazyFrame, deleted: pl.Series) -> pl.DataFrame:
    """``row_id`` -> ``_hour_rows``, ``_hour_units``, ``hours_note`` and ``hours_removed``: for the
    lines a finding's fix deletes whole (``deleted``: ``row_id`` values) that are infusions of a time
    chain, the additional-hour lines of the same claim that only the deleted infusion's minutes
    supported: those the time rules find unsupported once the lines are gone
    (:func:`scrubber.timing.timing_without`). Probe 19D: 96369 09:00-10:00, 96369-XE 14:00-15:40 and
    96370 x1, the MUE deleting the second 96369 left the 96370 its 100 minutes supported, and the
    corrected claim drew "delete 96370" next.

    Taken only where the deletion settles the hours in one fix (review 20C): the chain's hours are
    exactly what the record supports now (the time rules are quiet on it: a chain they judge over or
    under keeps their finding, which a second fix here contradicted, "delete 96370" beside "bill
    96370 x2"), and each hour line goes whole (a line losing some of its units is the time rules'
    next round, not a relative fix beside an absolute one). A line of another claim stays that
    claim's to correct (as :func:`concurrent_hours`), and so are the hours of a claim deleting several
    infusion lines of the chain (whose minutes supported which is not said: review 20C). None where
    no deleted line is timed."""
    tm = timing(lines)
    infusions = tm.lines.filter(
        pl.col("row_id").is_in(deleted.implode()) & (pl.col("tm_kind") == INFUSION)).select(
        "row_id", "enc_key").collect()
    if not infusions.height:
        return pl.DataFrame(schema=_NO_HOURS)
    gone = infusions.get_column("row_id")
    after = timing_without(lines, gone)
    encounters = after.groups.select("enc_key").unique().collect().get_column("enc_key")
    # (the chains the time rules find right as billed now: judged, and every hour supported)
    settled = _within(tm.groups.filter(pl.col("evaluable_as_read") & (pl.col("counted") == pl.col("expected"))
                                       & (pl.col("billed") == pl.col("counted"))), encounters).select(
        "enc_key", "tm_chain")
    named = ["row_id", "enc_key", "claim_id", "line_number", "procedure_code", "units"]
    # (the deleted lines' encounters only, read once: a join with every line cost 0.03 s on 2M)
    local = _within(lines.select(named), infusions.get_column("enc_key").unique()).collect().lazy()
    chains = _within(tm.lines.select("row_id", "enc_key", "tm_chain"), infusions.get_column("enc_key").unique()
                     ).select("row_id", "tm_chain").collect().lazy()
    hours = _hours_not_supported(lines, encounters, tm=after).join(local, on="row_id").join(
        chains, on="row_id").join(settled, on=["enc_key", "tm_chain"], how="semi")
    owners = local.select(named[:4]).filter(pl.col("row_id").is_in(gone.implode())).join(
        chains, on="row_id").group_by("enc_key", "claim_id", "tm_chain").agg(
        pl.col("row_id").first().alias("_owner"), pl.len().alias("_deleted")).filter(pl.col("_deleted") == 1)
    per_owner = hours.join(owners, on=["enc_key", "claim_id", "tm_chain"]).sort(
        "claim_id", "line_number", "row_id").group_by("_owner").agg(
        pl.col("row_id").alias("_hour_rows"), pl.col("reported_units").sum().alias("_hour_units"),
        (pl.col("reported_units") >= pl.col("units")).all().alias("_whole"),
        billed_line("procedure_code", number(pl.col("units"))).str.join(", ").alias("_named"))
    return per_owner.filter(pl.col("_whole")).select(
        pl.col("_owner").alias("row_id"), "_hour_rows", pl.col("_hour_units").cast(pl.Float64),
        pl.format(" Delete {} too: additional hours only the deleted infusion's minutes support.", "_named")
        .alias("hours_note"),
        pl.format(" The additional hours only its minutes supported ({}) are removed with it.", "_named")
        .alias("hours_removed"),
    ).collect()


def concurrent_infusions(lines: pl.LazyFrame, extra: pl.LazyFrame) -> pl.LazyFrame:
    """``row_id`` -> ``_concurrent`` (true), ``_concurrent_code`` (96368, or null where the encounter's one
    concurrent code is already billed or goes to an earlier line), ``concurrent_code``,
    ``concurrent_elsewhere`` (where that one is), ``own_interval`` and ``kept_interval``, and the hours
    that go with it (:func:`concurrent_hours`): for the extra infusion lines of ``extra``
    (:func:`initial_services`' rows) with a concurrent code (``concurrent_code`` in ``admin_codes.csv``)
    whose documented interval runs inside the kept initial's infusion (its episode, with any add-on hours documented as
    its continuation) for at least the line's infusion floor (``min_minutes``: more than 15 minutes
    together), where the concurrent code accepts the kept initial as its primary (CPT: 96368 with
    96365 or 96413). Lines meeting the kept one end to start are sequential, not concurrent. Where the
    kept initial is a short line the swap makes a push, the kept one is the promoted infusion
    (:func:`swapped_initials`)."""
    rows = swapped_initials(lines, extra.filter(
        ~pl.col("is_kept_line") & pl.col("adm_concurrent_code").is_not_null()
        & ((pl.col("adm_concurrent_primary_mask") & pl.col("kept_bit")) != 0)).collect())
    # (the timed lines of these rows and of their kept initials only: an integer set test, no join of all)
    wanted = pl.concat([rows.get_column("row_id"), rows.get_column("kept_row")]).unique()
    t = timing(lines).lines.filter(pl.col("row_id").is_in(wanted.implode()))
    own = t.select("row_id", "s", "e", pl.coalesce("ep_stop", "e").alias("_own_stop")).filter(pl.col("e").is_not_null())
    kept = t.select(pl.col("row_id").alias("kept_row"), pl.col("ep_start").alias("_ks"),
                    pl.col("ep_stop").alias("_ke")).filter(pl.col("_ke").is_not_null())
    rows = rows.lazy()
    # Together long enough to be an infusion of its own (CPT: more than 15 minutes, ``min_minutes``):
    # a few minutes' overlap where one bag is hung as the other ends is a sequential infusion.
    together = pl.min_horizontal("e", "_ke") - pl.max_horizontal("s", "_ks")
    overlapping = with_codes(rows, "adm_min_minutes").join(own, on="row_id").join(kept, on="kept_row").filter(
        together >= pl.col("adm_min_minutes"))
    # Once per encounter (CPT): the first such line by claim and line gets it, unless it is billed.
    ranked = overlapping.sort("enc_key", "claim_id", "line_number").with_columns(
        pl.col("claim_id").first().over("enc_key").alias("_first_claim"),
        pl.col("line_number").first().over("enc_key").alias("_first_line"),
        (pl.int_range(pl.len()).over("enc_key") == 0).alias("_is_first"),
        ((pl.col("enc_admin_mask") & pl.col("adm_concurrent_bit")) != 0).alias("_billed"),
        # (with its own hours documented as its continuation: probe 18D, a 96366 timed past the kept one)
        ((pl.col("s") >= pl.col("_ks")) & (pl.col("_own_stop") <= pl.col("_ke"))).alias("_inside"),
    ).collect()  # (a few lines, or none: then the hours are not looked for)
    hours = concurrent_hours(lines, ranked.lazy()) if ranked.height else pl.LazyFrame(schema=_NO_HOURS)
    return ranked.lazy().join(hours, on="row_id", how="left").select(
        "row_id",
        pl.lit(True).alias("_concurrent"),
        "_hour_rows",
        "_hour_units",
        "hours_note",
        "hours_removed",
        pl.when(pl.col("_is_first") & ~pl.col("_billed")).then(pl.col("adm_concurrent_code")).alias("_concurrent_code"),
        pl.col("adm_concurrent_code").alias("concurrent_code"),
        pl.when(pl.col("_billed")).then(pl.lit("is already billed in this encounter")).otherwise(pl.format(
            "goes to claim {} line {}", "_first_claim", "_first_line")).alias("concurrent_elsewhere"),
        interval("s", "e").alias("own_interval"),
        interval("_ks", "_ke").alias("kept_interval"),
    )


def swapped_initials(lines: pl.LazyFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """``rows`` (the extra infusion lines of :func:`concurrent_infusions`, with their kept initial's
    ``kept_*``) where the kept initial is a short line the swap makes a push (:func:`initial_swaps`):
    the promoted infusion is then the kept one (its row, code, claim, line and date), and the promoted
    line itself no extra line. Why: judged against the 10-minute line, a second 96367 run inside the
    three hours passed, and the corrected claim was told 96368 on the next run (review 24E D4)."""
    if not rows.height:
        return rows
    swaps = initial_swaps(lines, rows.get_column("kept_row"))
    if not swaps.height:
        return rows
    joined = rows.lazy().join(swaps.lazy(), on="kept_row", how="left", maintain_order="left").filter(
        pl.col("swap_row").is_null() | (pl.col("row_id") != pl.col("swap_row")))
    return kept_as_swapped(joined, rows.collect_schema(), pl.lit(True)).select(rows.columns).collect()


def kept_as_swapped(rows: pl.LazyFrame, schema: pl.Schema, where: pl.Expr) -> pl.LazyFrame:
    """``rows`` (joined with :func:`initial_swaps` on ``kept_row``) with each ``kept_*`` column of
    ``schema`` they have (row, code, claim, line, date) that of the promoted infusion where ``where``
    holds and a swap applies, in its own dtype: the one replacement for the concurrent rule's candidates
    (:func:`swapped_initials`) and duplicate-initial-infusion's words."""
    swapped = where & pl.col("swap_row").is_not_null()
    return rows.with_columns(
        pl.when(swapped).then(pl.col(f"swap_{name}")).otherwise(pl.col(f"kept_{name}"))
        .cast(schema[f"kept_{name}"]).alias(f"kept_{name}")
        for name in ("row", "code", "claim", "line", "dos") if f"kept_{name}" in schema)


def initial_swaps(lines: pl.LazyFrame, kept: pl.Series) -> pl.DataFrame:
    """``kept_row`` -> ``swap_row``, ``swap_code`` (the initial code it is), ``swap_claim``,
    ``swap_line``, ``swap_dos``: for the kept initial lines among ``kept`` (row ids) that are
    short infusions the swap makes a push (:func:`outranked_push`'s ``promote_*``: a 10-minute 96365
    before three hours billed as 96367 is 96375, and the 96367 the initial 96365), the infusion that is
    the encounter's initial service instead. The few kept lines given only; none in most batches."""
    schema = {"kept_row": pl.Int64, "swap_row": pl.Int64, "swap_code": pl.String, "swap_claim": pl.String,
              "swap_line": pl.Int32, "swap_dos": pl.Date}
    short = below_floor(lines, pl.LazyFrame({"row_id": kept.drop_nulls().unique()}, schema={"row_id": pl.Int64}))
    if not short.height:
        return pl.DataFrame(schema=schema)
    swaps = outranked_push(lines, short).filter(pl.col("promote_row").is_not_null()).select(
        pl.col("row_id").alias("kept_row"), pl.col("promote_row").alias("swap_row"),
        pl.col("promote_to").alias("swap_code")).collect()
    # (the promoted lines' claim, line and date, read off the few lines)
    named = lines.filter(pl.col("row_id").is_in(swaps.get_column("swap_row").implode())).select(
        pl.col("row_id").alias("swap_row"), pl.col("claim_id").alias("swap_claim"),
        pl.col("line_number").alias("swap_line"), pl.col("date_of_service").alias("swap_dos")).collect()
    return swaps.join(named, on="swap_row").cast(schema).select(list(schema))  # type: ignore[arg-type]


def concurrent_hours(lines: pl.LazyFrame, concurrent: pl.LazyFrame) -> pl.LazyFrame:
    """``row_id`` -> ``_hour_rows``, ``_hour_units`` and ``hours_note``: the additional-hour lines
    (96366) of a concurrent infusion's chain on a claim whose infusions of that chain are all
    concurrent ones (``concurrent``: :func:`concurrent_infusions`'s rows, ``_inside``: run inside the
    kept infusion), on that claim's first concurrent line by line number, where no infusion of the
    chain is kept, or where each runs inside the kept infusion (its own documented hours included) and
    the encounter's other claims bill the hours the kept infusions document: CPT reports a concurrent
    infusion without additional hours, so those hours go with the recode, on that line. Where another
    infusion of the chain stays on the claim (96365 kept, 96367), the concurrent one runs beyond the
    kept one, or the hours are the kept infusion's own billed on this claim, the time rules judge them
    (unit-miscalculation)."""
    tm = timing(lines)
    # (the timed lines of the concurrent lines' encounters only: a handful, not every timed line)
    encounters = concurrent.select("enc_key").unique().collect().get_column("enc_key")
    t = tm.lines.filter(pl.col("enc_key").is_in(encounters.implode()))
    mine = t.join(concurrent.select("row_id", "claim_id", "line_number", "_inside"), on="row_id").select(
        "row_id", "enc_key", "tm_chain", "claim_id", "line_number", "_inside")
    chains = mine.select("enc_key", "tm_chain").unique()
    # Per claim: a claim whose infusions of the chain are all concurrent ones, each run inside the kept
    # infusion, bills hours of no other infusion of the chain (the kept one documents its own; probe
    # 17F: C01b's 96366 stayed, and the time rules put its excess on C01a's correct line). One that runs
    # beyond the kept infusion adds time of its own to the chain: the time rules judge those hours,
    # unless no infusion of the chain is kept (all concurrent with another chain's: 96365 in a 96413).
    infusions = t.filter(pl.col("tm_kind") == INFUSION).join(chains, on=["enc_key", "tm_chain"]).join(
        lines.select("row_id", "claim_id"), on="row_id").join(mine.select("row_id", "_inside"), on="row_id",
                                                              how="left").select(
        "enc_key", "tm_chain", "claim_id", pl.col("_inside").is_not_null().alias("_concurrent"),
        pl.col("_inside").fill_null(True))
    group = ["enc_key", "tm_chain", "claim_id"]
    # ... and only where the encounter's other claims bill the hours its kept infusions document (the
    # kept one "documents its own": probe 18D, 96366 x2 on the concurrent line's claim were the kept
    # 180-minute infusion's only hours, and deleting them lost two payable units).
    hour_units = t.filter(pl.col("tm_kind") == HOUR).join(chains, on=["enc_key", "tm_chain"]).join(
        lines.select("row_id", "claim_id", pl.col("units").fill_null(0.0).cast(pl.Float64)), on="row_id")
    concurrent_eps = t.join(mine.select("row_id"), on="row_id").select("ep").drop_nulls().unique()
    kept_hours = tm.episodes.join(chains, on=["enc_key", "tm_chain"]).join(
        concurrent_eps, on="ep", how="anti").group_by("enc_key", "tm_chain").agg(
        pl.col("ep_units").sum().alias("_kept_hours"))
    billed = hour_units.group_by(group).agg(pl.col("units").sum().alias("_mine")).join(
        hour_units.group_by("enc_key", "tm_chain").agg(pl.col("units").sum().alias("_all_units")),
        on=["enc_key", "tm_chain"])
    only = infusions.with_columns(pl.col("_concurrent").all().over("enc_key", "tm_chain").alias("_all")).group_by(
        group).agg(pl.col("_concurrent").all(), pl.col("_inside").all(), pl.col("_all").first()).join(
        billed, on=group, how="left").join(kept_hours, on=["enc_key", "tm_chain"], how="left").filter(
        pl.col("_concurrent") & (pl.col("_all") | (
            pl.col("_inside") & ((pl.col("_all_units").fill_null(0) - pl.col("_mine").fill_null(0))
                                 >= pl.col("_kept_hours").fill_null(0))))).select(group)
    first = mine.join(only, on=group).sort("claim_id", "line_number", "row_id").group_by(group).agg(
        pl.col("row_id").first())
    # Only the hour lines of the concurrent line's own claim: its corrected claim removes them; a line of
    # another claim of the encounter stays that claim's to correct (the time rules report it there;
    # probe 17D: its $100 moved onto this claim's finding and the other claim went out clean).
    hours = tm.named(t.filter(pl.col("tm_kind") == HOUR).select("_pos", "row_id", "enc_key", "tm_chain")).join(
        lines.select("row_id", "units"), on="row_id").join(first.select(group), on=group).sort(
        "claim_id", "line_number", "row_id")
    return first.join(hours.group_by(group).agg(
        pl.col("row_id").alias("_hour_rows"),
        pl.col("units").fill_null(0.0).cast(pl.Float64).sum().alias("_hour_units"),
        billed_line("procedure_code", number(pl.col("units"))).str.join(", ").alias("_named"),
    ), on=group).select(
        "row_id", "_hour_rows", "_hour_units",
        pl.format(" Delete {} too: additional hours of this infusion, which a concurrent infusion does not report.",
                  "_named").alias("hours_note"),
        pl.format(" Its additional hours ({}) are removed: a concurrent infusion is reported without additional "
                  "hours.", "_named").alias("hours_removed"),
    )


def _concurrent_in(lines: pl.LazyFrame, encounters: pl.Series | None,
                   initial: pl.LazyFrame | None = None) -> pl.DataFrame | None:
    """:func:`concurrent_infusions` of ``encounters`` (collected), None where no second infusion (an
    extra initial or a sequential infusion, :func:`sequential_infusions`) has a concurrent code (the
    usual encounter: nothing else is looked at). ``initial``: :func:`initial_services` of those
    encounters, when the caller has it."""
    initial = initial_services(lines, encounters) if initial is None else initial
    extra = initial.filter(~pl.col("is_kept_line") & pl.col("adm_concurrent_code").is_not_null()).collect()
    sequential = sequential_infusions(lines, encounters)
    if not extra.height and not sequential.height:
        return None
    # (the lines route-mismatch replaces are recoded there: the same candidates as duplicate-initial's)
    extra, sequential = not_replaced(lines, extra).collect(), not_replaced(lines, sequential).collect()
    if not extra.height and not sequential.height:
        return None
    return concurrent_infusions(lines, concurrent_candidates(extra, sequential)).collect()


def not_replaced(lines: pl.LazyFrame, rows: pl.DataFrame) -> pl.LazyFrame:
    """``rows`` (``row_id``, ``enc_key``) without the administration lines route-mismatch replaces with
    the product's infusion codes (96369 x2 for an IVIG is "96365 and 96366 for the time documented"
    there, not also "96369 x1 and 96370 x1" in duplicate-initial-infusion; a 96367 it replaces is no
    concurrent infusion to count apart in the time and MUE counts either: review 24C D4), decided on
    the few encounters ``rows`` holds. One definition for the one-initial rule and the counts that
    follow its recodes."""
    if not rows.height:
        return rows.lazy()
    from checks.route_mismatch import replaced_administration

    # (an integer set test, not a join of every line: the encounters are a handful)
    within = lines.filter(pl.col("enc_key").is_in(rows.get_column("enc_key").unique().implode()))
    # (collected: every later step reads it)
    return rows.lazy().join(replaced_administration(within), on="row_id", how="anti").collect().lazy()


_NO_UNITS = {"row_id": pl.Int64, "reported_units": pl.Float64}


def _hours_recoded(lines: pl.LazyFrame, concurrent: pl.DataFrame | None) -> pl.LazyFrame:
    """``row_id``, ``reported_units``: every unit of the additional-hour lines that go with the
    concurrent infusions ``concurrent`` (:func:`_concurrent_in`)."""
    if concurrent is None:
        return pl.LazyFrame(schema=_NO_UNITS)
    hours = concurrent.lazy().select("_hour_rows").explode("_hour_rows").drop_nulls()
    return hours.join(lines.select("row_id", pl.col("units").cast(pl.Float64).alias("reported_units")),
                      left_on="_hour_rows", right_on="row_id").select(pl.col("_hour_rows").alias("row_id"),
                                                                      "reported_units")


def _sequential_recoded(lines: pl.LazyFrame, concurrent: pl.DataFrame | None) -> pl.LazyFrame:
    """``row_id``, ``reported_units``: every unit of the sequential infusion lines (96367) among the
    concurrent infusions ``concurrent`` (:func:`_concurrent_in`): recoded whole to the concurrent code
    (the extra initial lines' units are :func:`initial_services`' already)."""
    if concurrent is None:
        return pl.LazyFrame(schema=_NO_UNITS)
    return concurrent.lazy().select("row_id").join(lines.select("row_id", "code_idx", "units"), on="row_id").filter(
        code_is(adm_role="addon")).select("row_id", pl.col("units").cast(pl.Float64).alias("reported_units"))


def as_secondary_hydration(groups: pl.DataFrame, lines: pl.LazyFrame) -> pl.DataFrame:
    """Timing ``groups`` (collected: the few a check judges) with the hydration hours of encounters
    whose 96360 another initial service outranks (:func:`hydration_as_secondary`) judged as secondary
    hydration: every hydration episode of the chain supports ``1 + floor((T - 31) / 60)`` units of
    96361 (CPT: hydration "as a secondary or subsequent service after a different initial service"),
    of which the outranked 96360 lines are billed as their ``instead_units``
    (duplicate-initial-infusion's fix); the rest is what the 96361 lines may bill. Timed as an
    initial 96360's additional hours, 96360 09:00-09:30 + 96361 09:30-10:30 before 96413 supported none,
    and the 96361 was deleted beside the 96360's own deletion: no hydration left of 90 minutes (probe
    18A). ``expected`` moves, and ``expected_obs`` / ``expected_concurrent`` by as much."""
    if not groups.height:
        return groups
    t = timing(lines)
    encounters = groups.get_column("enc_key").unique()
    demoted = hydration_as_secondary(lines, initial_services(lines, encounters)).collect()
    if not demoted.height:
        return groups
    keys = ["enc_key", "tm_chain"]
    rows = t.lines.join(demoted.lazy().select("row_id", "instead_units"), on="row_id").group_by(keys).agg(
        pl.col("instead_units").fill_null(0).sum().cast(pl.Int64).alias("_instead")).collect()
    supported = t.episodes.join(rows.lazy().select(keys), on=keys, how="semi").group_by(keys).agg(
        secondary_units(pl.col("ep_effective")).sum().alias("_secondary")).collect()
    # (the 96360 lines' own units are not in these 96361 groups: what they become is taken off)
    shift = (pl.col("_secondary") - pl.col("_instead")).clip(lower_bound=0) - pl.col("expected")
    return groups.join(rows.join(supported, on=keys), on=keys, how="left", maintain_order="left").with_columns(
        pl.when(pl.col("_secondary").is_null()).then(pl.col(c)).otherwise(pl.col(c) + shift)
        .cast(groups.schema[c]).alias(c) for c in ("expected", "expected_obs", "expected_concurrent")
    ).with_columns(
        # (the episode words time it as an initial 96360's hours: they say how it was judged instead)
        pl.when(pl.col("_secondary").is_not_null() & pl.col("infusions").is_not_null()).then(pl.format(
            "{}; as secondary hydration after another initial service: x{} in all, x{} on the 96360 line",
            "infusions", "_secondary", "_instead"))
        .otherwise(pl.col("infusions")).alias("infusions"),
    ).drop("_instead", "_secondary")


DELETED_BY_MUE, RECODED_CONCURRENT = 0, 1  # (why a line is left out of the hour counts: the words name each)


@once_per_batch
def as_fixes_leave(lines: pl.LazyFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.LazyFrame | None]:
    """The lines other findings' fixes take out of the time rules (``row_id``, ``_cause``): the lines
    units-over-mue's fixes delete whole (:func:`checks.units_over_mue.lines_deleted_whole`), and the
    infusions duplicate-initial-infusion recodes as concurrent with the hour lines that go with them
    (:func:`recoded_as_concurrent`); their encounters (``enc_key``) and those encounters' lines
    without them (:func:`scrubber.timing.lines_without`; ``None`` where there are none). What the
    hours findings of unit-miscalculation and observation-counted-as-infusion and the "not evaluated"
    count judge those encounters on, as the corrected claim will be read (review 21C: a 96370 reported
    "delete" on the corrected encounter was also counted not evaluated on the billed one; review 24E
    D1: the observation rule judged the billed claim and gave a second, contradictory fix). Decided
    once per batch: the four readers share one corrected frame, so its time facts are computed once
    (:func:`scrubber.timing.timing` is cached per frame)."""
    # (that module imports this one)
    from checks.units_over_mue import lines_deleted_whole

    removed = pl.concat([
        pl.DataFrame({"row_id": lines_deleted_whole(lines)}, schema={"row_id": pl.Int64}).with_columns(
            pl.lit(DELETED_BY_MUE, pl.Int8).alias("_cause")),
        recoded_as_concurrent(lines).select("row_id", pl.lit(RECODED_CONCURRENT, pl.Int8).alias("_cause")),
    ]).unique("row_id", keep="first", maintain_order=True)
    if not removed.height:
        return removed, pl.DataFrame(schema={"enc_key": pl.UInt32}), None
    ids = removed.get_column("row_id")
    encounters = lines.filter(pl.col("row_id").is_in(ids.implode())).select("enc_key").unique().collect()
    return removed, encounters, lines_without(lines, ids)


@once_per_batch
def concurrent_of_batch(lines: pl.LazyFrame) -> pl.DataFrame:
    """:func:`concurrent_infusions` of the whole batch (:func:`_concurrent_in`), decided once: the
    one-initial rule's recodes and the counts that judge an encounter as they leave it read the same
    rows (none in most batches)."""
    found = _concurrent_in(lines, None)
    if found is None:
        none = sequential_infusions(lines).clear().select(_CONCURRENT_CANDIDATE)
        found = concurrent_infusions(lines, none.lazy()).collect()
    return found


@once_per_batch
def recoded_as_concurrent(lines: pl.LazyFrame) -> pl.DataFrame:
    """``row_id`` of the infusion lines duplicate-initial-infusion recodes as the concurrent infusion
    (96368, without additional hours) or deletes as a second one, and of the additional-hour lines that
    go with the recode (:func:`concurrent_hours`). The hour counts judge their encounters as these
    fixes leave them (:func:`as_fixes_leave`, :func:`_hours_as_recodes_leave`), which is how the next run reads the
    corrected claim: 96368 is no timed code, so the concurrent infusion's minutes support no hour, and
    an add-on line the time rules had chained to it is the kept infusion's (96366 12:00-14:00 after a
    kept 09:00-12:00: x4, review 23G; 96366 10:30-11:30 inside it: none of its own, review 24C D1).
    Judged on the billed claim with its hours taken off, a group billing exactly the kept hours plus
    the concurrent ones was never judged (review 24D D1). Decided once per batch."""
    concurrent = concurrent_of_batch(lines)
    if not concurrent.height:
        return pl.DataFrame(schema={"row_id": pl.Int64})
    hours = _hours_recoded(lines, concurrent).select("row_id").collect()
    return pl.concat([concurrent.select(pl.col("row_id").cast(pl.Int64)), hours.cast({"row_id": pl.Int64})]).unique(
        "row_id", maintain_order=True)


def recoded_by_one_initial_rule(lines: pl.LazyFrame, encounters: pl.Series) -> pl.LazyFrame:
    """``row_id`` of the lines of ``encounters`` every unit of which is an extra initial service
    (:func:`initial_services`): duplicate-initial-infusion's fix gives the line another code (96360
    after 96413 is 96361) or deletes it, so a rule about the code as billed (an NCCI pair of 96416
    with 96360) is the one-initial rule's to settle, not a second fix on the line ("delete it")."""
    return initial_services(lines, encounters).filter(
        ~pl.col("is_kept_line") & (pl.col("extra_units") >= pl.col("units"))).select("row_id")


def pair_of_initial_services() -> pl.Expr:
    """True for the NCCI pairs (columns ``column1``, ``column2``) whose two codes are both initial
    services: billed together they are a second initial service, the one-initial rule's (96365 with
    96374 is reported by duplicate-initial-infusion with the hierarchy's fix, not again as a PTP pair)."""
    initial = reference.admin_codes_where(role="initial")
    return pl.col("column1").is_in(initial) & pl.col("column2").is_in(initial)
