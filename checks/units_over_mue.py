"""units-over-mue: units of a code above its Medically Unlikely Edit (or a policy cap).

**units-over-mue** (error). Units of a code above its Medically Unlikely Edit for the setting
(practitioner table for professional claims, outpatient hospital table for institutional claims): MAI 1
per line; MAI 2 and 3 per member, date and provider (institutional: claim and date of service: MAI 2
and 3 are date-of-service edits). The values, indicators and
table quarter are data. MAI 2 units above the MUE cannot be appealed; MAI 3 units may be paid on appeal
with documentation (a justification). 96371 is left to `over-cap-96371`, and units that
`duplicate-initial-infusion` reports, or additional hours the documented time does not support
(`unit-miscalculation`, `observation-counted-as-infusion`), or drug units over the documented dose
or waste (`unit-miscalculation`), or Q2052 lines `home-ig-supplies` reports, or the units of an add-on
with no primary (`addon-without-primary`), or an infusion line under its floor that the time rules
recode (`infusion-too-short`, `observation-counted-as-infusion`: a 10-minute 96365-XS is a push, not
a second 96365 over its MUE, and hydration of 30 minutes or less is not reported; a drug infusion in
an encounter billing an immune globulin, whose fix is the record's times, is counted), are not
reported again (one root cause); a
second 96365 carrying XS is over the practitioner MUE of 1 and is a justification (MAI 3); with XE
alone (a separate encounter that day) its words and the record it asks for are that encounter's, not
a second site's, and with XP or XU a distinct service's; without that record, the fix reports it as
its documented time says (run with the other line for its floor or more: 96368, the concurrent
infusion, or deleted where the code has none, hydration; else its subsequent codes; probe 28D D1).
A policy cap
replaces the MUE for its code; a cap of 0 is `policy_cap_zero` (the policy pays none of the code: the
line is deleted; review 26D D5), but for a line `addon-without-primary` reports as another, payable
code (a lone 96375 as 96374), whose fix it is (review 26F D4). 96376 has a practitioner MUE of 0:
the message says it is a facility-only code.
An immune globulin whose record documents every unit the encounter counts (each dose line its dose,
each JW line a discarded amount that adds a billing unit, its own or its drug's other line's that day;
units over them are unit-miscalculation's and not counted here) is over its MAI 3 MUE as documented
(`over_mue_documented`): the fix is the appeal alone, and the discarded amount is not cut to meet the
MUE (JW units count toward it; cut, the JW rules ask for the line back).
A line the fix deletes whole (MAI 2, a policy cap) that is an infusion takes with it the additional
hour lines of its claim that only its minutes supported (96369-XE 14:00-15:40 deleted with the 96370
those 100 minutes supported, beside a first 96369 of 60 minutes): named in the fix, at risk with it,
not also over their own MUE; only where those hours are right as billed now and each line goes whole
(hours the time rules judge over or under stay their finding).

Implementation. The MUE tables are ``scrubber/data/mue_practitioner.csv`` and ``mue_outpatient.csv``
(:func:`scrubber.reference.mue_table`; ``SCRUBBER_REFERENCE_DIR`` replaces them with a newer CMS
quarter), and the quarter each finding was checked against is a fact of the finding. A line's limit
is its policy's ``[caps]`` entry for the code when there is one (``pol_cap``, units per encounter),
else the MUE of its setting (a code the other setting's table limits and its setting's shipped table
has no row for, newer than that table, is counted not evaluated: probe 28B D2). Per line (MAI 1) the
line's units are compared; per encounter (MAI 2, 3
and policy caps; ``enc_key``: member, date and billing provider, an institutional claim, a
next-payer copy apart; MAI 2 and 3 on an institutional claim per claim and date, ``cd_key``) the
units of the code are summed and each line whose units run past the
limit carries the units over (``excess_units``, what the fix removes); lines with 59/XE/XS/XP/XU are
counted last, so the excess lands on the line that claims to be a separate service. The money at
risk is what CMS denies: every unit of the line over an MAI 1 MUE, and every unit of the code on the
claim that takes a date over an MAI 2 or 3 MUE (CGS: MUEs "are set to deny claim lines exceeding
the acceptable maximums"; NGS: 88350 x8 against an MUE of 4 "and the claim denies"), not only the
units over: ``risk_rows`` are the group's lines of the finding's claim (``denied_lines`` names
them), risk ``lines_after``: what another finding already puts at risk on those lines stays its own
(the hours over the record, the extra initial units: the cause keeps its part) and the MUE takes the
rest of each line. A policy cap is the payer's: its units over are at risk (``excess_after``).
MAI 1 excess and MAI 2 excess are corrections, MAI 3 excess a justification (paid on appeal with the record), a
second initial service with XS over its MUE a justification whose record is the second vascular
access site, an MUE of 0 (96376 on a practitioner claim: CMS Policy) a correction that says the code
is not payable in that setting. One root cause (:mod:`checks._counting`): 96371 is over-cap-96371's,
and the units duplicate-initial-infusion reports are subtracted before counting (96365 x3 is two
extra initial services there, not also 2 units over the MUE here), decided from the lines, not from
that check having run. The hours a deleted infusion line takes are
:func:`checks._counting.hours_of_deleted_infusions`: the time rules' excess once the line is gone
(:func:`scrubber.timing.timing_without`, on its encounter), on chains they find right now. Cost:
the MUE of codes of the code table is a gather on ``code_idx``; only lines of other codes (E/M,
codes a newer table adds) are looked up by text; the one full pass is the sum per encounter and
code, on an integer key; everything after works on the few lines over.
"""

from __future__ import annotations

import polars as pl

from checks._counting import (
    CAP_CHECK_CODE,
    date_of_service_group,
    distinct_site,
    edit_setting,
    hours_of_deleted_infusions,
    in_shared_group,
    mue_table_words,
    setting_and_code,
    units_reported_elsewhere,
)
from scrubber import reference
from scrubber.cards import load_card
from scrubber.enrich import beside_rejected_codes, code, code_is, dose_units, has_modifier, waste_units, with_codes
from scrubber.per_batch import once_per_batch, remember_context
from scrubber.registry import Check, Context
from scrubber.text import number
from scrubber.timing import INFUSION, interval, timing

# What decides a line's limit: the MUE indicator (1 per line, 2 and 3 per encounter) or a policy cap.
_CAP = 9  # stands for "policy cap" beside the MAI values 1-3 in the ``_kind`` column
_ENCOUNTER = 1 << 32  # ``_k`` packs the encounter above the code index: enc_key * _ENCOUNTER + code_idx


def _by_setting_and_code(column: str, dtype: pl.DataType, at: pl.Expr | None = None) -> pl.Expr:
    """The MUE tables' ``column`` for the line's setting and code: one gather from the practitioner
    and outpatient arrays laid end to end (at :func:`checks._counting.setting_and_code`, or ``at`` when the caller
    computed it once for several columns); null for codes without an MUE."""
    tables = [reference.mue_table(s) for s in reference.MUE_SETTINGS]  # practitioner, then outpatient
    arrays = [reference.by_code_idx(t.get_column("code"), t.get_column(column)) for t in tables]
    both = pl.concat(arrays).cast(dtype)
    if both.null_count() == both.len():  # (a gather from an all-null literal mistypes in Polars 2.1)
        return pl.lit(None, dtype)
    return pl.lit(both).gather(setting_and_code() if at is None else at)


def not_payable_in_setting() -> pl.Expr:
    """True on lines of a code this check counts whose limit is 0: a policy cap of 0, or an MUE of 0 in
    the line's setting (96376 on a practitioner claim: facility-only). This check denies every unit of
    such a line whatever else the claim bills (``mue_zero``, ``policy_cap_zero``), so a rule whose
    fix would keep the line leaves it here (addon-without-primary: "bill the primary" beside "delete,
    facility-only code" on one line, review 25E D3)."""
    limit = pl.coalesce(pl.col("pol_cap"), _by_setting_and_code("mue", pl.Int64()))
    return (_by_index() & (limit == 0)).fill_null(False)


def _codes_outside_code_table() -> list[str]:
    """Codes with an MUE that the code table does not hold (E/M, vascular access...): looked up by text."""
    known = set(reference.code_table().get_column("procedure_code").to_list())
    return sorted((set(reference.mue_table("practitioner").get_column("code"))
                   | set(reference.mue_table("outpatient").get_column("code"))) - known)


def _by_index() -> pl.Expr:
    """Lines whose limit is gathered by ``code_idx``: codes of the code table, but the one
    over-cap-96371 counts (:data:`checks._counting.CAP_CHECK_CODE`)."""
    codes = reference.code_table().get_column("procedure_code").to_list()
    idx = pl.col("code_idx")
    return idx.is_not_null() & (idx != codes.index(CAP_CHECK_CODE))


def _by_text() -> pl.Expr:
    """Lines of any other code with a limit, looked up by text: a code with an MUE outside the code
    table (:func:`_codes_outside_code_table`) or one a policy caps."""
    return pl.col("code_idx").is_null() & pl.col("procedure_code").is_not_null() & (
        pl.col("procedure_code").is_in(_codes_outside_code_table()) | pl.col("pol_cap").is_not_null())


def _limits(lines: pl.LazyFrame) -> pl.LazyFrame:
    """Lines that have a limit, with ``_inst``, ``mue`` / ``mai`` (the setting's MUE, if any),
    ``_limit`` and ``_kind`` (MAI 1-3, or :data:`_CAP` when the policy caps the code), and ``_ck`` (an
    integer per code, for the encounter-and-code key). Run on the few candidate lines of pass two."""
    prac, out = reference.mue_table("practitioner"), reference.mue_table("outpatient")
    inst = pl.col("is_inst")  # enrich: claim_type is institutional (never null)
    idx = pl.col("code_idx")
    # Codes of the code table (administration codes, immune globulins): gathered by code_idx.
    by_idx = lines.filter(_by_index()).with_columns(
        inst.alias("_inst"),
        _by_setting_and_code("mue", pl.Int64()).alias("mue"),
        _by_setting_and_code("mai", pl.Int8()).alias("mai"),
        idx.cast(pl.UInt32).alias("_ck"),
    )
    # Any other code with an MUE or a policy cap (an E/M; a code a newer CMS quarter adds): by text,
    # on those lines only.
    others = _codes_outside_code_table()
    other_codes = pl.DataFrame({"procedure_code": others}, schema={"procedure_code": pl.String()}).with_row_index(
        "_ck", offset=256)
    by_text = lines.filter(_by_text()).with_columns(inst.alias("_inst")).join(
        other_codes.lazy(), on="procedure_code", how="left").join(
        prac.lazy().select(pl.col("code").alias("procedure_code"), pl.col("mue").alias("_pm"),
                           pl.col("mai").alias("_pa")), on="procedure_code", how="left").join(
        out.lazy().select(pl.col("code").alias("procedure_code"), pl.col("mue").alias("_om"),
                          pl.col("mai").alias("_oa")), on="procedure_code", how="left").with_columns(
        pl.when(pl.col("_inst")).then(pl.col("_om")).otherwise(pl.col("_pm")).cast(pl.Int64).alias("mue"),
        pl.when(pl.col("_inst")).then(pl.col("_oa")).otherwise(pl.col("_pa")).cast(pl.Int8).alias("mai"),
        # A capped code in neither table: a key from the code's text, above every code index.
        pl.coalesce(pl.col("_ck").cast(pl.UInt32),
                    pl.col("procedure_code").hash().mod(1 << 31).cast(pl.UInt32) + pl.lit(1 << 31, pl.UInt32))
        .alias("_ck"),
    ).drop("_pm", "_pa", "_om", "_oa")
    both = pl.concat([by_idx, by_text.select(by_idx.collect_schema().names())], how="vertical")
    return both.with_columns(
        pl.coalesce(pl.col("pol_cap"), pl.col("mue")).alias("_limit"),
        pl.when(pl.col("pol_cap").is_not_null()).then(pl.lit(_CAP, pl.Int8)).otherwise(pl.col("mai")).alias("_kind"),
    ).filter(pl.col("_limit").is_not_null())


def date_of_service_mues(lines: pl.LazyFrame, asks: pl.DataFrame) -> pl.DataFrame:
    """``row_id``, ``mue``, ``in_group``, ``table``, ``quarter`` of the lines ``asks`` names (``row_id``,
    ``short_units``: the units asked for; ``hours``: an ask for the hours of several lines) whose ask the
    MUE may bound, an MAI 3 MUE and no policy cap theirs: the MUE of the line's setting and code, and the
    units of its code the MUE counts with it as :func:`_over` counts them (the encounter, an
    institutional claim's date; less the units another finding reports over the record,
    :func:`checks._counting.units_reported_elsewhere`). Left out: an hours ask in an encounter that bills
    the code on several dates (an institutional stay across midnight: each date has its own MUE, while an
    hours finding reads the encounter's hours in all; review 22E: per claim, a series claim's other
    visit left its own visit unbounded); a drug line is its own date's (review 22D). For unit-miscalculation's units
    left unbilled, which ask for no more than the MUE leaves room for (probe 22A D2). A few lines,
    collected; the units over the record are decided only for the groups whose billed units leave less
    room than is asked (the rest cannot be bound: their counted units are fewer still)."""
    target = lines.filter(pl.col("row_id").is_in(asks.get_column("row_id").implode())).filter(
        _by_index() & pl.col("pol_cap").is_null()).with_columns(
        date_of_service_group(pl.col("is_inst")).alias("_ge"),
        _by_setting_and_code("mue", pl.Int64()).alias("mue"),
        _by_setting_and_code("mai", pl.Int8()).alias("mai"),
        edit_setting().alias("_setting"),
    ).filter(pl.col("mai") == 3).select("row_id", "enc_key", "claim_id", "code_idx", "_ge", "mue", "_setting").collect()
    if target.height == 0:
        return pl.DataFrame(schema={"row_id": pl.Int64, "mue": pl.Int64, "in_group": pl.Float64, "table": pl.String,
                                    "quarter": pl.String})
    group = lines.filter(pl.col("enc_key").is_in(target.get_column("enc_key").unique().implode())
                         & pl.col("code_idx").is_in(target.get_column("code_idx").unique().implode())).select(
        "row_id", "enc_key", "procedure_code", "claim_id", "code_idx", "units",
        date_of_service_group(pl.col("is_inst")).alias("_ge")).collect()
    billed = group.group_by("_ge", "code_idx").agg(pl.col("units").fill_null(0.0).sum().alias("_billed"))
    dates = group.group_by("enc_key", "code_idx").agg(pl.col("_ge").n_unique().alias("_dates"))
    several = (pl.col("_dates") > 1) & pl.col("hours")
    target = target.join(asks.select("row_id", "short_units", "hours"), on="row_id").join(
        billed, on=["_ge", "code_idx"], how="left").join(dates, on=["enc_key", "code_idx"], how="left").filter(
        (pl.col("short_units") > pl.col("mue") - pl.col("_billed")) & ~several).drop(
        "short_units", "_billed", "hours", "_dates")
    group = group.join(target.select("_ge", "code_idx").unique(), on=["_ge", "code_idx"], how="semi")
    reported = units_reported_elsewhere(lines, group.select("row_id", "enc_key", "procedure_code")).collect()
    counted = group.join(reported, on="row_id", how="left").with_columns(
        (pl.col("units").fill_null(0.0) - pl.col("reported_units").fill_null(0.0)).clip(lower_bound=0)
        .alias("_counted"))
    sums = counted.group_by("_ge", "code_idx").agg(pl.col("_counted").sum().alias("in_group"))
    return target.join(sums, on=["_ge", "code_idx"], how="left").select(
        "row_id", "mue", "in_group", *mue_table_words(pl.col("_setting")))


# The columns the decision reads (the words' line facts come from the engine by row_id).
_COLUMNS = ("row_id", "enc_key", "cd_key", "code_idx", "procedure_code", "units", "claim_id", "line_number",
            "modifiers", "is_inst", "pol_cap")


_GROUP = ["_ge", "_gc"]  # what a limit counts over: (the line, 0), or (the encounter or claim-date, the code)
# The order of a group's lines: the units are counted through them in it, and the excess laid on them in it
# (a distinct-site line last; then by claim and line, never by a join's output order; the row id makes the
# order total).
_IN_GROUP = ["_distinct", "claim_id", "line_number", "row_id"]


def _group() -> list[pl.Expr]:
    """What a limit counts over, as two integers: the line (MAI 1); for MAI 2 and 3, date-of-service
    edits, the encounter and code, where an institutional claim (one encounter whatever its dates)
    counts each date of service apart (claim and date: ``cd_key``); a policy cap, the encounter."""
    where = (
        pl.when(pl.col("_kind") == 1).then(pl.col("row_id").cast(pl.UInt64) | pl.lit(1 << 63, pl.UInt64))
        .when(pl.col("_kind").is_in([2, 3])).then(date_of_service_group(pl.col("_inst")))
        .otherwise(pl.col("enc_key").cast(pl.UInt64))
    )
    code = pl.when(pl.col("_kind") == 1).then(pl.lit(0, pl.UInt64)).otherwise(pl.col("_ck").cast(pl.UInt64))
    return [where.alias("_ge"), code.alias("_gc")]


def _limited(lines: pl.LazyFrame) -> pl.LazyFrame:
    """The lines of code-table codes that have a limit, on integer columns only: ``row_id``,
    ``code_idx``, ``units``, ``_limit`` (by a gather on ``code_idx``), ``_k`` (encounter and code, the
    encounter in the high 32 bits) and ``_per_line`` (MAI 1): the one pass over (nearly) every line."""
    idx = pl.col("code_idx")
    at = pl.col("_at")  # (the setting and code, computed once for the two gathers)
    per_line = pl.col("pol_cap").is_null() & (_by_setting_and_code("mai", pl.Int8(), at) == 1)
    return lines.select("row_id", "enc_key", "code_idx", "units", "is_inst", "pol_cap").filter(
        _by_index()).with_columns(setting_and_code().alias("_at")).select(
        "row_id", "code_idx", "units",
        pl.coalesce(pl.col("pol_cap"), _by_setting_and_code("mue", pl.Int64(), at)).alias("_limit"),
        (pl.col("enc_key").cast(pl.UInt64) * _ENCOUNTER + idx.cast(pl.UInt64)).alias("_k"),
        per_line.alias("_per_line"),
    ).filter(pl.col("_limit").is_not_null())


def _over_in_code_table(limited: pl.DataFrame) -> pl.DataFrame:
    """``row_id``, ``enc_key``, ``procedure_code`` of the lines of :func:`_limited` that are over their
    limit, alone or with the other lines of their code in the encounter (a window on encounter and code).

    A window over every line was the costly part (a hash group per encounter and code, nearly every
    group one line: 0.25 s of CPU on 2M lines). A group of one line sums to its own units, so the
    window runs only on the lines of groups of several lines (:func:`checks._counting.in_shared_group`, a
    sort of the keys) and on the lines over alone; a line left out is alone in its group and not over."""
    # (a group of one line sums to its units, a null as 0, as the window sums it)
    alone_over = pl.col("units").fill_null(0) > pl.col("_limit")
    # (lines without an encounter share the null key's group, as in the window)
    shared = in_shared_group(limited.lazy(), "_k")
    over = (pl.col("units") > pl.col("_limit")) | (
        ~pl.col("_per_line") & (pl.col("units").sum().over("_k") > pl.col("_limit")))
    return limited.filter(shared | alone_over).filter(over).select(
        "row_id", (pl.col("_k") // _ENCOUNTER).cast(pl.UInt32).alias("enc_key"), code("procedure_code"))


def _candidates(lines: pl.LazyFrame) -> pl.DataFrame:
    """Pass one, decided now: ``row_id``, ``enc_key``, ``procedure_code`` of the lines that can be over
    their limit, a few thousand of 2M. Codes of the code table by integers alone; any other code with
    a limit (an E/M, a capped code, a code a newer table adds) is taken whole: few lines, and an
    encounter-and-code group never mixes the two kinds."""
    text = lines.filter(_by_text()).select("row_id", "enc_key", "procedure_code")
    limited, text_lines = pl.collect_all([_limited(lines), text])
    return pl.concat([_over_in_code_table(limited), text_lines])


def find(lines: pl.LazyFrame, ctx: Context) -> pl.LazyFrame:
    remember_context(lines, ctx)  # (addon-without-primary's recodes, which this check leaves, read it)
    found, hours = _decided(lines)
    return _with_hours_of_deleted_lines(found, hours).lazy()


@once_per_batch
def _decided(lines: pl.LazyFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The lines over their limit (:func:`_over`) and the hour lines each line deleted whole takes with
    it (:func:`checks._counting.hours_of_deleted_infusions`): decided once per batch, for this check's
    findings and for the lines unit-miscalculation judges the hours without
    (:func:`lines_deleted_whole`)."""
    found = _over(lines)
    return found, hours_of_deleted_infusions(lines, found.filter(pl.col("reason").is_in(_DELETES_LINE)).get_column(
        "row_id"))


def _over(lines: pl.LazyFrame) -> pl.DataFrame:
    """The lines over their MUE or policy cap, with their reason, units and words (collected)."""
    # Pass one: which lines can be over their limit.
    over_ids = _candidates(lines)
    # (not a line addon-without-primary reports as a payable code: its fix, not also "delete")
    from checks.addon_without_primary import recoded_though_not_payable  # (that module imports this one)

    over_ids = over_ids.filter(~pl.col("row_id").is_in(recoded_though_not_payable(lines, over_ids).implode()))
    # Pass two, on those few lines: the units another check reports, and which line carries the excess.
    # (pass one sums per encounter: a superset of the claim-date sums of institutional claims)
    ids = over_ids.get_column("row_id").implode()
    candidates = _limits(lines.select(_COLUMNS).filter(pl.col("row_id").is_in(ids))).with_columns(_group())
    # One root cause: units another check reports on these lines are not counted again (extra initial
    # units, additional hours the documented time does not support, drug units over the documented dose,
    # Q2052 lines home-ig-supplies reports: checks._counting.units_reported_elsewhere, decided on their
    # own lines, theirs only).
    reported = units_reported_elsewhere(lines, over_ids)
    counted = candidates.join(reported, on="row_id", how="left").with_columns(
        # (an MUE of 0, a code not payable in the setting, counts every unit: another root cause)
        pl.when(pl.col("_limit") == 0).then(pl.col("units"))
        .otherwise(pl.col("units") - pl.col("reported_units").fill_null(0.0)).alias("_counted"),
        distinct_site().alias("_distinct"),
        # Where the units another finding reports sit: the words name them beside the units counted.
        pl.when(pl.col("reported_units").fill_null(0.0) > 0).then(pl.format(
            "{} unit(s) of claim {} line {}", number(pl.col("reported_units")), "claim_id", "line_number"))
        .alias("_reported_at"),
    )
    ordered = _laid_in_group(counted.sort(*_GROUP, *_IN_GROUP)).with_columns(
        pl.when(pl.col("_kind") == 1).then(pl.col("_counted"))
        .otherwise(pl.col("_counted").cum_sum().over(_GROUP)).alias("_through"),
        pl.when(pl.col("_kind") == 1).then(pl.col("_counted"))
        .otherwise(pl.col("_counted").sum().over(_GROUP)).alias("billed"),
        pl.when(pl.col("_kind") == 1).then(pl.lit(1, pl.UInt32))
        .otherwise(pl.len().over(_GROUP)).alias("_lines"),
        # (every line of the group: units reported on another line of it are left out of "billed" too)
        pl.col("_reported_at").drop_nulls().over(_GROUP, mapping_strategy="join").alias("_reported_in_group"),
    )
    ordered = _with_documented_units(ordered, lines.filter(pl.col("row_id").is_in(ids)))
    excess = pl.min_horizontal(pl.col("_counted"), pl.col("_through") - pl.col("_limit")).clip(lower_bound=0)
    # A date-of-service MUE denies every unit of the code on the claim that takes the units over it; a
    # claim-line MUE, the whole line (docs/RULES.md, "An MUE denies the line, not the units over").
    # The lines denied with this one: the group's lines of the same claim (MAI 1: the line itself).
    claim_group = [*_GROUP, "claim_id"]
    over = ordered.with_columns(
        excess.alias("excess_units"),
        # (in the group's order, named: the rows come out of a join in no set order, and the excess is laid
        # on risk_rows in order; a run under load listed [138, 137] for [137, 138])
        pl.col("row_id").over(claim_group, mapping_strategy="join", order_by=_IN_GROUP).alias("risk_rows"),
        pl.col("line_number").over(claim_group, mapping_strategy="join", order_by=_IN_GROUP).alias("_denied"),
    ).filter(pl.col("excess_units") > 0).filter(
        # A documented group's fix is one appeal of its lines on the claim: one finding, on the last line
        # over (two JW lines over the MUE each said "keep the 302 units and appeal").
        ~pl.col("_documented") | (pl.col("_through") == pl.col("_through").max().over(claim_group)))
    whole_line = pl.col("excess_units") >= pl.col("units")
    setting = edit_setting(pl.col("_inst"))
    encounter = reference.modifiers_with_role("separate_encounter")
    site = reference.modifiers_with_role("separate_site")
    reason = (
        pl.when(pl.col("_kind") == _CAP).then(
            # (a cap of 0: no other line "counted first reaches it", review 26D D5)
            pl.when(pl.col("_limit") == 0).then(pl.lit("policy_cap_zero"))
            .when(whole_line).then(pl.lit("over_policy_cap_line")).otherwise(pl.lit("over_policy_cap")))
        .when(pl.col("_limit") == 0).then(pl.lit("mue_zero"))
        .when(pl.col("_kind") == 1).then(pl.lit("over_mue_line"))
        .when(pl.col("_kind") == 2).then(
            pl.when(whole_line).then(pl.lit("over_mue_policy_line")).otherwise(pl.lit("over_mue_policy")))
        .when(pl.col("_distinct") & code_is(adm_role="initial")).then(
            # XS or 59 say a second site; XE a separate encounter, XP or XU a distinct service: each
            # reason's words and the record it asks for are its own (modifiers.csv roles).
            pl.when(has_modifier(*site)).then(pl.lit("second_site_over_mue"))
            .when(has_modifier(*encounter)).then(pl.lit("second_encounter_over_mue"))
            .otherwise(pl.lit("second_distinct_over_mue")))
        .when(pl.col("_documented")).then(pl.lit("over_mue_documented"))
        .otherwise(pl.lit("over_mue_clinical"))
    )
    rationale = pl.concat([
        reference.mue_table(s).select(pl.lit(s).alias("_setting"), pl.col("code").alias("procedure_code"), "rationale")
        for s in reference.MUE_SETTINGS
    ])
    # The codes a second initial service that was no second site is reported with instead (96374:
    # 96375; 96360: 96361; 96365: 96367 or 96366), from the code table: words for second_site only.
    sub, hour = code("adm_subsequent_code"), code("adm_addon_hour_code")
    subsequent = pl.concat_str(
        [pl.when(sub.is_not_null() & (sub == hour)).then(sub + pl.lit(" for a sequential or additional hour"))
         .when(sub.is_not_null()).then(sub + pl.lit(" for a sequential service")),
         pl.when(hour.is_not_null() & (hour != sub)).then(hour + pl.lit(" for an additional hour"))],
        separator=", ", ignore_nulls=True)
    found = over.with_columns(setting.alias("_setting")).join(
        rationale.lazy(), on=["_setting", "procedure_code"], how="left").select(
        "row_id",
        reason.alias("reason"),
        pl.col("_limit").alias("mue"),
        pl.col("mai"),
        pl.col("_limit").alias("cap"),
        pl.col("billed").cast(pl.Float64),
        pl.col("excess_units").cast(pl.Float64),
        # What the line bills once corrected: its units counted here (less what another finding reports
        # on it: 96366 x5 whose record supports x3, under a cap of 2, is x2, not "x4") less those over.
        (pl.col("_counted") - pl.col("excess_units")).cast(pl.Float64).alias("correct_units"),
        pl.col("reported_units").fill_null(0.0).alias("reported_units"),
        # The lines bill more than is counted here when another finding reports units of them (x12 with 2
        # over the documented time: 10 counted), on this line or another line counted with it: the words
        # say so, or the claim reads as contradicting them.
        pl.when(pl.col("_reported_in_group").list.len() > 0).then(pl.format(
            " (besides the {} another finding already reports)", pl.col("_reported_in_group").list.join(", ")))
        .otherwise(pl.lit("")).alias("counted_note"),
        pl.col("_lines").alias("lines_counted"),
        # (a policy cap is the payer's: its units over are at risk, laid on this line, not the claim's)
        pl.when(pl.col("_kind") != _CAP).then(pl.col("risk_rows")).cast(pl.List(pl.Int64)).alias("risk_rows"),
        pl.col("_denied").list.sort().alias("denied_lines"),  # (a list: the card joins it with ", ")
        *mue_table_words(pl.col("_setting")),
        pl.col("rationale"),
        pl.col("documented_note"),
        pl.when(reason.is_in(_SECOND_INITIAL)).then(subsequent).alias("subsequent"),
    ).collect()
    return _otherwise_as_timed(found, lines)


# The reasons of a second initial service over the MUE with a modifier, whose fix says what to report
# when the record shows no second site, encounter or distinct service (:func:`_otherwise_as_timed`).
_SECOND_INITIAL = ("second_site_over_mue", "second_encounter_over_mue", "second_distinct_over_mue")


def _otherwise_as_timed(found: pl.DataFrame, lines: pl.LazyFrame) -> pl.DataFrame:
    """``found`` with ``otherwise`` on the second initial services (:data:`_SECOND_INITIAL`): what the
    line is reported as where the record shows no second site, as its documented time says. Run at the
    same time as another line of its code in the encounter for its floor or more (the time an infusion
    of its own needs, ``min_minutes``), a second 96365 is the concurrent infusion, 96368
    (``concurrent_code``), and a second 96360 no service of its own (hydration given at the same time
    is one hydration): "96367 for a sequential service, 96366 for an additional hour" were both
    contradicted by the times on the next run (probe 28D D1: 96365-XS 09:05-10:05 beside 96365
    09:00-10:00 recoded 96367 drew "a concurrent infusion (96368)", recoded 96366 "delete 96366").
    Otherwise (sequential, or untimed) the code table's subsequent codes. A few lines, or none."""
    plain = pl.format("report it with the subsequent code the record supports ({})", "subsequent")
    second = found.filter(pl.col("reason").is_in(_SECOND_INITIAL))
    if not second.height:
        return found.with_columns(pl.when(pl.col("subsequent").is_not_null()).then(plain).alias("otherwise"))
    t = timing(lines).lines.filter(pl.col("e").is_not_null()).select("row_id", "s", "e")
    keys = lines.select("row_id", "enc_key", "code_idx", "claim_id", "line_number")
    mine = keys.join(second.lazy().select("row_id"), on="row_id").join(t, on="row_id")
    others = keys.join(mine.select("enc_key", "code_idx").unique(), on=["enc_key", "code_idx"]).join(
        t, on="row_id").rename({"row_id": "_o", "claim_id": "_oc", "line_number": "_ol", "s": "_os", "e": "_oe"})
    together = pl.min_horizontal("e", "_oe") - pl.max_horizontal("s", "_os")
    best = with_codes(mine.join(others, on=["enc_key", "code_idx"]).filter(pl.col("_o") != pl.col("row_id")),
                      "adm_min_minutes", "adm_concurrent_code").with_columns(together.alias("_together")).filter(
        pl.col("adm_min_minutes").is_not_null() & (pl.col("_together") >= pl.col("adm_min_minutes").cast(pl.Int64))
    ).sort("row_id", "_together", "_oc", "_ol", descending=[False, True, False, False]).unique(
        "row_id", keep="first", maintain_order=True).with_columns(
        # (the concurrent code once per encounter, CPT: on the first such line by claim and line; a second
        # one run at the same time was also told "96368", and the rerun deleted it, review 28E D4)
        pl.col("claim_id").sort_by("claim_id", "line_number").first().over("enc_key", "code_idx").alias("_cc"),
        pl.col("line_number").sort_by("claim_id", "line_number").first().over("enc_key", "code_idx").alias("_cl"),
    ).select(
        "row_id",
        pl.when(pl.col("adm_concurrent_code").is_not_null() & (pl.col("claim_id") == pl.col("_cc"))
                & (pl.col("line_number") == pl.col("_cl"))).then(pl.format(
            "report it as {}, the concurrent infusion: its documented {} runs with claim {} line {}'s {}",
            "adm_concurrent_code", interval("s", "e"), "_oc", "_ol", interval("_os", "_oe")))
        .when(pl.col("adm_concurrent_code").is_not_null()).then(pl.format(
            "delete it: its documented {} runs with claim {} line {}'s {}, and the concurrent infusion ({}) is "
            "reported once per encounter, on claim {} line {}", interval("s", "e"), "_oc", "_ol",
            interval("_os", "_oe"), "adm_concurrent_code", "_cc", "_cl"))
        .otherwise(pl.format(
            "delete it: its documented {} runs at the same time as claim {} line {}'s {}, which reports that "
            "service", interval("s", "e"), "_oc", "_ol", interval("_os", "_oe"))).alias("_timed")).collect()
    return found.join(best, on="row_id", how="left").with_columns(
        pl.coalesce("_timed", pl.when(pl.col("subsequent").is_not_null()).then(plain)).alias("otherwise")
    ).drop("_timed")


def _laid_in_group(ordered: pl.LazyFrame) -> pl.LazyFrame:
    """``ordered`` with ``_counted`` never below 0: units another finding reports on a line beyond the
    line's own units (unit-miscalculation lays a split dose's excess on one of its lines: 10 over on a
    line of x5) are taken from the group's other lines in order, each at most down to 0. Why: counted
    as -5 there, a group of 300 at an MUE of 300 read as 5 over (review 22C). A line of an MUE of 0
    counts every unit (its ``_counted`` is its units) and takes nothing."""
    counted = pl.col("_counted")
    spill = (-counted).clip(lower_bound=0)  # what a line's reported units leave over
    kept = counted.clip(lower_bound=0)
    taken_before = kept.cum_sum().over(_GROUP) - kept
    to_lay = spill.sum().over(_GROUP)
    laid = pl.min_horizontal(kept, (to_lay - taken_before).clip(lower_bound=0))
    return ordered.with_columns(pl.when(pl.col("_kind") == 1).then(kept).otherwise(kept - laid).alias("_counted"))


def _with_documented_units(ordered: pl.LazyFrame, candidates: pl.LazyFrame) -> pl.LazyFrame:
    """``ordered`` (the ``candidates`` lines, in their MUE groups) with ``_documented``: an immune globulin
    whose record documents every unit the group counts, and ``documented_note``, what it documents.

    Why: the MAI 3 fix "keep them and appeal, otherwise reduce by N" sent a documented discarded amount
    round a loop (probe 22A D1: J1459 x300 for 150,000 mg and J1459-JW x1 for the 500 mg discarded,
    MUE 300: "reduce line 4 by 1" deleted the JW line, and missing-modifier then asked for it back). The
    group's units are documented when every line of it documents its amount, its own or its drug's other
    line's that day (:func:`scrubber.enrich.with_drug_units`): a dose line its dose, a JW line a waste
    that adds a billing unit (:func:`scrubber.enrich.waste_units`; CMS JW/JZ FAQ, IOM 100-04 ch.17 s.40).
    The units the group counts are already those the record supports: units over the dose or the waste
    are unit-miscalculation's, subtracted before (:func:`checks._counting.units_reported_elsewhere`),
    whether the dose or the waste is billed on one line or split over several (review 22C: split lines
    kept the loop). So the record decides, and the fix is the appeal alone. JW units count toward the
    MUE (the same code, summed per date of service). A few candidate lines."""
    is_jw = pl.col("is_jw")
    dose, waste = pl.coalesce("drug_dose_mg", "doc_dose_mg"), pl.coalesce("drug_wasted_mg", "doc_wasted_mg")
    unit = pl.col("ig_unit_mg")
    drug = with_codes(candidates, "ig_unit_mg").select(
        "row_id", is_jw.alias("_jw"),
        (unit.is_not_null() & dose.is_not_null()
         & (~is_jw | (waste_units(dose, waste, unit).fill_null(0) >= 1))).alias("_doc"),
        pl.when(~is_jw).then(dose_units(dose, unit)).alias("_dose_units"),
        (~is_jw & pl.col("drug_dose_mg").is_not_null()).alias("_own"),
    )
    jw = pl.col("_jw")
    # The dose's units: each dose line's own when every one documents its own dose (one line per NDC),
    # else the one dose the record documents, billed over the lines in all (unit-miscalculation's reading).
    own = pl.col("_own").filter(~jw).all().over(_GROUP)
    dose_total = pl.when(own).then(pl.col("_dose_units").filter(~jw).sum().over(_GROUP)).otherwise(
        pl.col("_dose_units").filter(~jw).max().over(_GROUP))
    given = pl.min_horizontal(pl.col("billed"), dose_total)
    discarded = (pl.col("billed") - given).clip(lower_bound=0)
    documented = ((pl.col("_kind") == 3) & pl.col("_doc").fill_null(False).all().over(_GROUP)
                  & (~jw).any().over(_GROUP)).fill_null(False)
    return ordered.join(drug, on="row_id", how="left", maintain_order="left").with_columns(
        documented.alias("_documented"),
        pl.when(discarded > 0).then(pl.format(
            "{} unit(s) for the dose administered and {} unit(s) for the amount discarded from single-dose "
            "containers", number(given), number(discarded)))
        .otherwise(pl.format("{} unit(s) for the dose administered", number(given))).alias("documented_note"),
    ).drop("_jw", "_doc", "_dose_units", "_own")


# The reasons whose fix deletes the line whole (MAI 2 or a policy cap; MAI 3 is a justification).
_DELETES_LINE = ("over_mue_policy_line", "over_policy_cap_line", "policy_cap_zero")


def lines_deleted_whole(lines: pl.LazyFrame) -> pl.Series:
    """``row_id`` of the timed infusion lines this check's fixes delete whole (an MAI 2 MUE, a policy
    cap) and of the hour lines that go with them: the lines the claim loses once its fixes are applied,
    which unit-miscalculation's time rules read it without (review 20C: 96369 09:00-10:00, 96369-XE
    14:00-16:40 and 96370 x1 drew "delete line 2" beside "bill 96370 x2", the second on the minutes
    the first deletes)."""
    found, hours = _decided(lines)
    deleted = found.filter(pl.col("reason").is_in(_DELETES_LINE)).get_column("row_id")
    timed = timing(lines).lines.filter(pl.col("row_id").is_in(deleted.implode()) & (pl.col("tm_kind") == INFUSION))
    return pl.concat([timed.select("row_id").collect().get_column("row_id"),
                      hours.get_column("_hour_rows").explode().drop_nulls()]).unique()


def _with_hours_of_deleted_lines(found: pl.DataFrame, hours: pl.DataFrame) -> pl.DataFrame:
    """``found`` with ``hours_note`` / ``hours_removed`` (empty where none) and, at risk with the
    deleted line, the additional hours only its minutes supported
    (:func:`checks._counting.hours_of_deleted_infusions`): 96369-XE over its MAI 2 MUE of 1 is deleted
    with the 96370 its 100 minutes supported, in one finding (one root cause)."""
    with_hours = pl.col("_hour_rows").is_not_null()
    # An hour line that goes whole with the deletion is not also over its own MUE (review 20C: "delete
    # 96370 x5" beside "keep all 5 and appeal"): its units are the deletion's.
    taken = hours.get_column("_hour_rows").explode().drop_nulls()
    return found.filter(~pl.col("row_id").is_in(taken.implode())).join(hours, on="row_id", how="left").with_columns(
        # (a cap's risk is its excess laid on its line, then on the hour lines; an MUE's, the lines')
        pl.when(with_hours).then(pl.concat_list(pl.coalesce(pl.col("risk_rows"), pl.concat_list("row_id")),
                                                "_hour_rows")).otherwise(pl.col("risk_rows")).alias("risk_rows"),
        pl.when(pl.col("reason").is_in(["over_policy_cap_line", "policy_cap_zero"])).then(
            pl.col("excess_units") + pl.col("_hour_units").fill_null(0.0)).otherwise("excess_units")
        .alias("excess_units"),
        pl.col("hours_note", "hours_removed").fill_null(""),
    ).drop("_hour_rows", "_hour_units")


def unevaluated(lines: pl.LazyFrame) -> pl.LazyFrame:
    """Administration lines of an encounter where a rejected row bills the same code (its code read,
    its units or another cell not): the units over the MUE cannot be told (probe 20B D2: a rejected
    96365 left the good second one's "second site over the MUE" neither reported nor counted). And
    lines of a code the other setting's MUE table limits but the line's setting's table shipped does
    not (a code newer than that table: J1552 on a hospital claim, the 2024-07-01 outpatient table
    predating it), without a policy cap: no MUE was checked, so a pass is counted, not read as units
    checked (probe 28B D2)."""
    rejected = beside_rejected_codes(lines.filter(pl.col("code_idx").is_not_null()), code("adm_bit").cast(pl.UInt64)
                                     ).select("row_id")
    unlimited = lines.filter(_no_mue_in_setting() & pl.col("pol_cap").is_null()).select("row_id")
    return pl.concat([rejected, unlimited]).unique(maintain_order=True)


def _no_mue_in_setting() -> pl.Expr:
    """True on lines of a code-table code whose setting's MUE table has no row for it while the other
    setting's has one."""
    tables = [reference.mue_table(s) for s in reference.MUE_SETTINGS]  # practitioner, then outpatient
    limits = [reference.by_code_idx(t.get_column("code"), t.get_column("mue")).is_not_null() for t in tables]
    # (the code indices each setting lacks, a handful or none: an integer set test, no gather of 2M lines)
    prac, out = ((~mine & other).arg_true().cast(pl.UInt8) for mine, other in ((limits[0], limits[1]),
                                                                                (limits[1], limits[0])))
    if not prac.len() and not out.len():
        return pl.lit(False)
    idx = pl.col("code_idx")
    return ((~pl.col("is_inst") & idx.is_in(prac.implode())) | (pl.col("is_inst") & idx.is_in(out.implode()))
            ).fill_null(False)


CHECK = Check(card=load_card(__file__), find=find, unevaluated=unevaluated, reads_timing=True)
