"""addon-without-primary: an add-on line that is not anchored.

**addon-without-primary** (error). An add-on line that is not anchored: none of its allowed primaries
is billed in the encounter, or its only primaries are themselves unanchored add-ons (then every line of
the chain fires). Allowed primaries (CPT parentheticals): 96361: 96360, 96365, 96374, 96409, 96413 ·
96366: 96365, 96367 · 96367: 96365, 96374, 96409, 96413 · 96368: 96365, 96366, 96413, 96415, 96416 ·
96370: 96369 · 96371: 96369 · 96375 and 96376: 96365, 96374, 96409, 96413 · 96411: 96409, 96413 ·
96415: 96413 · 96417: 96413. MEDICARE (policy setting `[addons] primaries = "ncci"`) anchors by the CMS
NCCI add-on code edit list instead, which accepts more: 96366 also with 96360 and 96413; 96367, 96368
and 96375 also with 96360. The primary may sit on another claim of the same encounter (CMS add-on code
edits: same practitioner, patient and date). Denial seen as N122 with B15/97/107. A professional
additional-hour add-on with no primary on its date, where a line of the same patient and provider
dated the day before bills the infusion it extends and documents it running past midnight into the
add-on's date (minutes supporting its units: the add-ons of that infusion, their own documented
times added where they continue it one after another, each within 30 minutes of the last end, laid
in start order, ties by claim and line, on the hours of the whole; the same payer layer; no line of
its code on that date yet,
no observation), is
`primary_across_midnight`: the fix dates the add-on with its primary (CPT counts an infusion across
midnight as one continuous service; the add-on edits pay it with its primary on the same date),
never a second initial service on the later date; one of that infusion's add-ons after the lines its
hours (at least one) are laid on is `primary_across_midnight_beyond`: deleted, the time it bills not
documented; one they reach part of is `primary_across_midnight_partial`: re-dated with the units left.
An additional-hour add-on with no primary, the
encounter's only timed add-on without one, where the documented time of another family's infusion billed there
supports hours of its own add-on code not yet billed, is `no_primary_other_family`: the fix recodes
it to that code (96366 beside 96413 alone for 120 minutes under CPT's list: 96415 x1), as
unit-miscalculation recodes one that is anchored (`hours_other_family`), instead of asking for a
primary nobody documented. A sequential add-on (96367, 96375, 96411, 96417, 96371) billed x1 (or xN
on a line documenting one infusion, its own start and stop: review 27A D5) as the
only administration line of its professional encounter (a service given by no IV route beside it,
96372, 96401 or 96402, aside: probe 28A B2; not documented under its floor, which
`infusion-too-short` recodes as a push, and alone the initial push, its fix only; not beside a
rejected administration row; not after an
infusion of the day before that ran past midnight) is `no_primary_only_service`: the one service of its kind
is the initial one, and the fix reports it with the initial code (96367 alone: 96365). An add-on no
unit of which is payable in its setting (an MUE of 0 there or a policy cap of 0: 96376 on a
practitioner claim, facility-only) is left to `units-over-mue`, whose fix deletes the line: "bill the
primary" beside it was a second fix for one line that would still be denied (review 25E D3); but a
fix that reports it as another code the policy pays (`no_primary_only_service`,
`no_primary_other_family`: a lone 96375 under a cap of 0 on 96375 is 96374, not an initial code
capped at 0 too) is this check's, and units-over-mue leaves that line (review 26D D5, 26F D4).

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

from checks.unit_miscalculation import other_family, sequential_infusion_codes
from scrubber import reference
from scrubber.cards import load_card
from scrubber.enrich import checked_admin_masks, code, code_is, codes_text, rejected_codes_in_masks, with_codes
from scrubber.per_batch import context_of, once_per_batch, remember_context
from scrubber.registry import Check, Context
from scrubber.timing import (
    HOUR,
    INFUSION,
    MINUTES_PER_DAY,
    code_timing,
    codes_where,
    hour_units,
    infusing_minutes,
    timing,
)


def unanchored_addons(lines: pl.LazyFrame) -> pl.LazyFrame:
    """The add-on lines no readable line of the encounter anchors: those this check reports, and, where
    a row of the encounter could not be read, those it leaves unevaluated. :mod:`checks._counting` reads
    it too (one root cause: an MUE does not count the units of an add-on with no primary, nor of one
    whose primary may be the unread row: a bad row never adds a finding to the good lines)."""
    addons = lines.filter(code_is(adm_role="addon"))
    return with_codes(addons, "adm_bit").filter((pl.col("adm_bit") & pl.col("enc_anchored_mask")) == 0)


def _recode_unknown(lines: pl.LazyFrame) -> pl.Expr:
    """True on additional-hour lines of an encounter where a rejected row bills an infusion (its code read,
    its times or another cell not) of another family than the one the line extends: whether its time
    supports this line recoded to its own hour code (:func:`_hours_of_another_family`) cannot be
    told, so the fix would be a guess (the sample's 96365 rejected beside a 96415 turned "report it
    as 96366 x1" into "bill a 96413")."""
    if "enc_rejected_mask" not in lines.collect_schema():
        return pl.lit(False)
    infusions = reference.admin_bits(codes_where(tm_kind=INFUSION))
    def timing_attr(name: str) -> pl.Expr:
        return pl.lit(code_timing().get_column(name)).gather(pl.col("code_idx").fill_null(0))

    hours = code_is(adm_role="addon") & (timing_attr("tm_kind") == HOUR)
    # (an infusion of another family: one the line's code extends anchors it, or fails to, as before)
    own = timing_attr("tm_extends_mask")
    others = pl.lit(infusions, pl.UInt64) & ~own
    return hours & ((pl.col("enc_rejected_mask") & others) != 0).fill_null(False)


# The reasons whose fix reports the line as another code: kept on a line no unit of which is payable in
# its setting (its own code's), where every other reason leaves the line to units-over-mue's deletion.
RECODES = ("no_primary_other_family", "no_primary_only_service")


def find(lines: pl.LazyFrame, ctx: Context) -> pl.LazyFrame:
    remember_context(lines, ctx)
    # (a line no unit of which is payable in its setting is units-over-mue's to delete, whatever anchors
    # it, unless the fix reports it as a payable code: review 26D D5, 26F D4)
    return _decided(lines).filter(~pl.col("_not_payable") | pl.col("reason").is_in(RECODES)).drop(
        "_not_payable").lazy()


def reported_as_initial(lines: pl.LazyFrame) -> pl.Series:
    """The ``row_id`` of the add-ons this check reports with their initial code (``no_primary_only_service``:
    96367 alone is 96365 x1): their hours are that service's, which the time rules ask beside the fix
    (unit-miscalculation's ``hours_not_billed``), where other unanchored add-ons' hours wait on it."""
    decided = _decided(lines)
    return decided.filter(pl.col("reason") == "no_primary_only_service").get_column("row_id")


def recoded_though_not_payable(lines: pl.LazyFrame, candidates: pl.DataFrame) -> pl.Series:
    """The ``row_id`` of ``candidates`` (lines units-over-mue finds at a limit of 0: a policy cap of 0, an
    MUE of 0 in the setting) that this check reports as another, payable code (:data:`RECODES`): a
    lone 96375 under a cap of 0 on 96375 is 96374, and 96366 beside 96413 alone is 96415; the MUE's
    "delete" beside it was a second fix for one line, and alone it lost a payable service (review 26D
    D5, 26F D4). Decided once per batch, and only where a candidate is an unanchored add-on."""
    ids = candidates.get_column("row_id")
    if not unanchored_addons(lines.filter(pl.col("row_id").is_in(ids.implode()))).select(pl.len()).collect().item():
        return pl.Series("row_id", [], pl.Int64)
    decided = _decided(lines).filter(pl.col("_not_payable") & pl.col("reason").is_in(RECODES))
    return decided.get_column("row_id").filter(decided.get_column("row_id").is_in(ids.implode()))


@once_per_batch
def _decided(lines: pl.LazyFrame) -> pl.DataFrame:
    """Every unanchored add-on's finding, collected, with ``_not_payable`` (:func:`checks.units_over_mue.
    not_payable_in_setting`): :func:`find` reports them, and units-over-mue leaves the lines recoded here
    (:func:`recoded_though_not_payable`). With the run's context kept for ``lines`` (the policies' caps
    bound a recode), else none."""
    from checks.units_over_mue import not_payable_in_setting  # (that module imports this one)

    kept = context_of(lines)
    ctx = kept if isinstance(kept, Context) else Context.empty()
    unanchored = unanchored_addons(lines).filter(~pl.col("enc_unreadable") & ~_recode_unknown(lines))
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
    found = unanchored.with_columns(billed_primaries.alias("_billed_primaries"), mask.alias("_mask")).select(
        "row_id", "member_id", "billing_provider", "date_of_service", "is_inst", "_mask", "procedure_code",
        "cob_layer", not_payable_in_setting().alias("_not_payable"),
        pl.when(pl.col("_billed_primaries") == 0).then(pl.lit("no_primary")).otherwise(pl.lit("unanchored_chain"))
        .alias("reason"),
        text.alias("primaries"),
        codes_text("_billed_primaries").alias("unanchored"),
    ).collect()
    overnight = _primary_across_midnight(lines, found.filter((pl.col("reason") == "no_primary") & ~pl.col("is_inst")))
    recoded = _hours_of_another_family(lines, ctx, found.filter(pl.col("reason") == "no_primary"))
    # A line documented under its floor is a push, which the time rules recode (review 21E: "report as
    # 96365" beside "bill 96375" for a 96367 of 10 minutes); alone in its encounter, the initial push
    # 96374, so asking for a primary beside it is a second fix for one line (27D B2).
    short = _pushes(lines, found.filter(pl.col("reason") == "no_primary"))
    found = found.join(short.filter("_lone").select("row_id"), on="row_id", how="anti")
    alone = _the_only_service(lines, ctx, found.filter(pl.col("reason") == "no_primary").join(
        short.select("row_id"), on="row_id", how="anti"))
    return found.lazy().join(overnight, on="row_id", how="left").join(recoded, on="row_id", how="left").join(
        alone, on="row_id", how="left").with_columns(
        pl.when(pl.col("midnight_fits").fill_null(False)).then(pl.lit("primary_across_midnight"))
        .when(pl.col("midnight_beyond").fill_null(False)).then(pl.lit("primary_across_midnight_beyond"))
        .when(pl.col("midnight_units").is_not_null()).then(pl.lit("primary_across_midnight_partial"))
        .when(pl.col("other_code").is_not_null()).then(pl.lit("no_primary_other_family"))
        .when(pl.col("initial_code").is_not_null() & pl.col("primary_code").is_null())
        .then(pl.lit("no_primary_only_service"))
        .otherwise(pl.col("reason")).alias("reason"),
    ).drop("member_id", "billing_provider", "date_of_service", "is_inst", "_mask", "midnight_fits", "midnight_beyond",
           "procedure_code", "cob_layer").collect()


def _pushes(lines: pl.LazyFrame, orphans: pl.DataFrame) -> pl.DataFrame:
    """The lines of ``orphans`` documented under their floor (pushes the time rules recode:
    ``infusion-too-short``, ``observation-counted-as-infusion``): ``row_id``, and ``_lone``, the only
    administration line of its encounter (:func:`checks._counting.lone_administrations`), whose push
    is the initial one (:func:`checks._counting.outranked_push`)."""
    from checks._counting import floored_infusions, lone_pushes, under_floor  # (it imports this module)

    if not orphans.height:
        return pl.DataFrame(schema={"row_id": pl.Int64, "_lone": pl.Boolean})
    short = floored_infusions(lines).filter(under_floor() & pl.col("row_id").is_in(
        orphans.get_column("row_id").implode())).select("row_id", "tm_push").collect()
    lone = lone_pushes(lines, short).get_column("row_id")
    return short.select("row_id", pl.col("row_id").is_in(lone.implode()).alias("_lone"))


def _the_only_service(lines: pl.LazyFrame, ctx: Context, orphans: pl.DataFrame) -> pl.LazyFrame:
    """``row_id`` -> ``initial_code``: the sequential add-ons of ``orphans`` (96367, 96375, 96411, 96417,
    96371: the subsequent code of an initial service that is not its additional hour) billed x1 as the
    only administration line of their encounter. The one service of its kind is the initial one, whose
    code is then the initial code (96367 alone is 96365; CPT reports the first service with the initial
    code; CR 3631's "subsequent even if first" is about a service after another kind's initial one):
    probe 21A, a lone 96367 was told to bill a 96365 "the record documents" beside it, or to delete."""
    schema = {"row_id": pl.Int64, "initial_code": pl.String}
    if not orphans.height:
        return pl.LazyFrame(schema=schema)
    sequential = pl.col("adm_subsequent_code").is_not_null() & (
        (pl.col("adm_subsequent_code") != pl.col("adm_addon_hour_code")) | pl.col("adm_addon_hour_code").is_null())
    table = reference.code_table().filter((pl.col("adm_role") == "initial") & sequential)
    initial = table.select(pl.col("adm_subsequent_code").alias("procedure_code"),
                           pl.col("procedure_code").alias("initial_code"))
    # (the few orphans of those codes first: most orphans are additional hours)
    orphans = orphans.filter(pl.col("procedure_code").is_in(initial.get_column("procedure_code").implode()))
    if not orphans.height:
        return pl.LazyFrame(schema=schema)
    from checks._counting import lone_administrations  # (that module imports this one)

    # The only administration line of its professional encounter (:func:`checks._counting.lone_administrations`).
    alone = lone_administrations(lines, orphans)
    # (x1, or xN on a line documenting one infusion (its own start and stop): the initial service x1, its
    # hours asked by the time rules; review 27A D5: 96367 x3 for 10:00-13:00 alone was "bill the primary",
    # and 96365 + 96367 + 96366 x2 followed)
    # (a sequential infusion code only, 96367 or 96417: 96375 x2 is two pushes whatever their times)
    infusions = sequential_infusion_codes().get_column("procedure_code")
    timed = timing(lines).lines.filter(pl.col("minutes").is_not_null()).select("row_id", pl.lit(True).alias("_timed"))
    mine = lines.join(alone.lazy(), on="row_id", how="semi").join(timed, on="row_id", how="left").filter(
        (pl.col("units") == 1) | (pl.col("_timed").fill_null(False) & pl.col("procedure_code").is_in(
            infusions.implode()))).select("row_id", "procedure_code", "policy")
    # (not an initial code the line's policy caps at 0: that recode is not payable either)
    unpaid = ctx.policy_caps.filter(pl.col("cap") == 0).select("policy", pl.col("procedure_code").alias("initial_code"))
    return mine.join(initial.lazy(), on="procedure_code").join(unpaid, on=["policy", "initial_code"], how="anti"
                                                               ).select("row_id", "initial_code")


def _hours_of_another_family(lines: pl.LazyFrame, ctx: Context, orphans: pl.DataFrame) -> pl.LazyFrame:
    """``row_id`` -> ``other_code``, ``other_units``, ``other_extends``: the additional-hour lines of
    ``orphans`` (no primary in the encounter), the encounter's only one, where the documented
    time of another family's infusion billed in the encounter supports hours of its own add-on code
    not yet billed (:func:`checks.unit_miscalculation.other_family`, the rule unit-miscalculation
    recodes an anchored one by): 96366 beside 96413 alone for 120 minutes is 96415 x1 under CPT's
    primaries, as it is under MEDICARE's wider list (probe 21A: the commercial claim was told to bill
    a 96365 nobody documented, or to delete a documented hour)."""
    schema = {"row_id": pl.Int64, "other_code": pl.String, "other_units": pl.Int64, "other_extends": pl.String,
              "other_supported": pl.Int64, "other_rest": pl.String}
    # (the encounter's only such line: two, 96415 and 96370 beside one 96365 supporting one hour, were
    # each told "96366 x1"; review 21D)
    t = timing(lines)
    # (the timed lines of the few orphans, from the time facts: no pass over every line)
    hours = t.lines.filter(pl.col("row_id").is_in(orphans.get_column("row_id").implode())).filter(
        pl.len().over("enc_key") == 1).select("row_id").collect()
    if not hours.height:
        return pl.LazyFrame(schema=schema)
    groups = t.groups.filter(pl.col("head").is_in(hours.get_column("row_id").implode())
                             & (pl.col("hour_rows").list.len() == 1)
                             & (pl.col("expected") == 0) & (pl.col("billed") > 0)).collect()
    if not groups.height:
        return pl.LazyFrame(schema=schema)
    return other_family(groups, t, lines, ctx).lazy().filter(pl.col("other_code").is_not_null()).select(
        pl.col("head").alias("row_id"), "other_code", "other_units", "other_extends", "other_supported",
        "other_rest").cast(schema)  # type: ignore[arg-type]


def _primary_across_midnight(lines: pl.LazyFrame, orphans: pl.DataFrame) -> pl.LazyFrame:
    """``row_id`` -> ``primary_code``, ``primary_claim``, ``primary_line``, ``primary_dos``,
    ``primary_interval``: for the professional add-on lines of ``orphans`` (no primary on their date),
    a line of the same member and provider dated the day before that bills one of their primaries
    and documents an infusion running past midnight into the add-on's date (probe 21A: 96365 23:00-01:30
    dated 03-02 with its 96366 dated 03-03 was told to bill a primary for 03-03, a second initial
    service for one infusion). CPT counts an infusion across midnight as one continuous service and
    the CMS add-on edits pay an add-on with its primary on the same date: the add-on goes on the
    primary's date. Only an additional-hour add-on of that infusion's code (96366 of a 96365), whose
    minutes support its units, on a date billing no line of the code yet and no observation: the
    re-dated line then settles (review 21D). Of several, the first by claim and line."""
    schema = {"row_id": pl.Int64, "primary_code": pl.String, "primary_claim": pl.String,
              "primary_line": pl.Int64, "primary_dos": pl.String, "primary_interval": pl.String,
              "midnight_fits": pl.Boolean, "midnight_beyond": pl.Boolean, "midnight_units": pl.Int64}
    if not orphans.height:
        return pl.LazyFrame(schema=schema)
    # (filter first: the lines whose documented stop is dated later, or a clock time before the start on
    # the same date, few of any batch; then only those whose times are an infusion, started on the
    # line's date and ending the next day: a stop typed months later is a recording error, not this)
    # (from the time facts' integer minutes: the timed lines whose usable times end on a later day
    # than they start, few of any batch; a pass over every line's datetimes cost 0.1 s of 2M)
    day = MINUTES_PER_DAY
    overnight = timing(lines).lines.filter(
        pl.col("minutes").is_not_null() & ((pl.col("s") + pl.col("minutes")) // day > pl.col("s") // day)).select(
        "row_id").collect().get_column("row_id")
    if not overnight.len():
        return pl.LazyFrame(schema=schema)
    maybe = lines.filter(pl.col("row_id").is_in(overnight.implode()) & ~pl.col("is_inst"))
    ends = pl.col("infusion_start") + pl.duration(minutes=infusing_minutes())
    next_day = pl.col("date_of_service").dt.offset_by("1d")
    crossing = maybe.filter((pl.col("infusion_start").dt.date() == pl.col("date_of_service"))
                            & (ends.dt.date() == next_day).fill_null(False)).select(
        "member_id", "cob_layer", pl.col("billing_provider").alias("_provider"), next_day.alias("date_of_service"),
        code("adm_bit").cast(pl.UInt64).alias("_bit"), pl.col("procedure_code").alias("primary_code"),
        pl.col("claim_id").alias("primary_claim"), pl.col("line_number").cast(pl.Int64).alias("primary_line"),
        pl.col("date_of_service").cast(pl.String).alias("primary_dos"),
        pl.format("{} to {}", pl.col("infusion_start").dt.strftime("%Y-%m-%d %H:%M"),
                  ends.dt.strftime("%Y-%m-%d %H:%M")).alias("primary_interval"),
        infusing_minutes().alias("_minutes"), pl.col("infusion_start").alias("_pstart"), ends.alias("_pend"),
        pl.col("enc_admin_mask").alias("_billed"), pl.col("observation_minutes").fill_null(0).alias("_obs"))
    same_provider = ((pl.col("billing_provider") == pl.col("_provider")) | pl.col("billing_provider").is_null()
                     | pl.col("_provider").is_null())
    # Only an additional hour of that infusion, which its minutes support, where its date bills no line
    # of the code yet and no observation (review 21D: re-dated, a 96366 for 20 minutes drew "delete", one
    # beside a 96366 x2 for 210 minutes "over", a 96367 after midnight is a service of its own day).
    hours = lines.join(orphans.lazy().select("row_id"), on="row_id", how="semi").filter(
        code_is(adm_role="addon")).select(
        "row_id", code("adm_bit").cast(pl.UInt64).alias("_own_bit"), code("adm_extends").alias("_extends"),
        pl.col("claim_id").alias("_claim"), pl.col("line_number").alias("_line"), pl.col("units").alias("_units"),
        pl.col("infusion_start").alias("_own_start"),
        (pl.col("infusion_start") + pl.duration(minutes=infusing_minutes())).alias("_own_stop"))
    # The add-ons' own documented times, where they continue the infusion (each from within it, or the
    # add-ons before it, to at most ``timing.addon_gap_minutes`` after their end, as the time rules merge
    # an add-on into the infusion it meets, the gap not counted), add their minutes beyond it, and the
    # add-ons of that infusion are judged together (probe 23A D3: 96365 23:00-00:30 with its 96366 dated
    # the next day documenting 00:30-01:30 is 150 minutes, one hour, not "bill a primary for the next
    # date"; review 23D: a second 96366 at 01:30-02:30 continues the first).
    gap = pl.duration(minutes=reference.manifest()["timing"]["addon_gap_minutes"])
    primary = ["primary_claim", "primary_line"]
    family = pl.col("_extends").str.split(" ").list.contains(pl.col("primary_code")).fill_null(False)
    timed = family & pl.col("_own_start").is_not_null() & pl.col("_own_stop").is_not_null()
    # (the add-ons before this one in start order, with times: how far the infusion reaches so far)
    before = pl.when(timed).then(pl.col("_own_stop")).shift(1).cum_max().forward_fill().over(primary)
    reach = pl.max_horizontal("_pend", before)
    meets = timed & (pl.col("_own_start") >= pl.col("_pstart")) & (pl.col("_own_start") <= reach + gap)
    # (a timed add-on that does not meet it ends the chain: those after it do not continue it either)
    continues = meets & ((timed & ~meets).cast(pl.UInt32).cum_sum().over(primary) == 0)
    beyond = (pl.col("_own_stop") - pl.max_horizontal("_own_start", reach)).dt.total_minutes().clip(lower_bound=0)
    minutes = pl.col("_minutes") + pl.when(continues).then(beyond).otherwise(0).sum().over(primary)
    # (the units of the add-ons that are this infusion's: those continuing it, and those without times;
    # one whose own times lie apart is a service of its own date)
    ours = family & (continues | ~timed)
    # (laid in start order, the untimed last: each fits while the hours reach its units, so one line too
    # many does not undo the others, review 23E)
    units = pl.when(ours).then(pl.col("_units")).otherwise(0).cum_sum().over(primary)
    redatable = ours & ((pl.col("_billed") & pl.col("_own_bit")) == 0) & (pl.col("_obs") == 0)
    fits = redatable & (hour_units(minutes) >= units)
    # (one of that infusion's add-ons after the lines its hours are laid on, all of them: deleted, never
    # "bill a primary for the next date" beside the lines re-dated with it, review 23G; only where its
    # minutes support an hour, which a line before took)
    supported = hour_units(minutes)
    beyond = redatable & (supported > 0) & (supported <= units - pl.col("_units"))
    # (one the hours reach part of: re-dated with the units they leave it, review 24C D3; it was "bill a
    # primary for the next date" beside the lines re-dated with it)
    left = supported - (units - pl.col("_units"))
    partial = redatable & ~fits & (left > 0) & (left < pl.col("_units"))
    # (an orphan after such an infusion that the re-date does not fit is marked, not re-dated: a 96367
    # begun after midnight is no "only service" of its day to report as the initial one either)
    # (a next-payer copy's add-on meets its own copy's primary only, review 23E: cob_layer)
    keys = ("row_id", "member_id", "billing_provider", "date_of_service", "_mask", "cob_layer")
    return orphans.lazy().select(keys).join(hours, on="row_id", how="left").join(
        crossing, on=["member_id", "date_of_service", "cob_layer"]).filter(
        same_provider & ((pl.col("_mask") & pl.col("_bit")) != 0)).sort(
        # (ties in start order, untimed lines among them, by claim and line: never the file's order,
        # review 24C D2)
        *primary, "_own_start", "_claim", "_line", "row_id", nulls_last=True).with_columns(
        fits.fill_null(False).alias("midnight_fits"), beyond.fill_null(False).alias("midnight_beyond"),
        pl.when(partial.fill_null(False)).then(left.cast(pl.Int64)).alias("midnight_units")).sort(
        "row_id", pl.col("midnight_fits").not_(), "primary_claim", "primary_line").group_by(
        "row_id", maintain_order=True).first().select(
        list(schema)).cast(schema)  # type: ignore[arg-type]


def unevaluated(lines: pl.LazyFrame) -> pl.LazyFrame:
    """Add-on lines of encounters holding an unreadable row (its code, perhaps the primary, is
    unknown), and add-on lines anchored only by the code of a rejected row (the primary was billed
    on a line that could not be checked: not reported, not silently passed either)."""
    undecided = pl.col("enc_unreadable")
    if "enc_rejected_anchor_mask" in lines.collect_schema():
        by_rejected = (code("adm_bit") & pl.col("enc_rejected_anchor_mask")) != 0
        undecided = undecided | by_rejected.fill_null(False)
    return pl.concat([lines.filter(code_is(adm_role="addon") & undecided).select("row_id"),
                      unanchored_addons(lines).filter(_recode_unknown(lines)).select("row_id")]).unique()


CHECK = Check(card=load_card(__file__), find=find, unevaluated=unevaluated, reads_timing=True)
