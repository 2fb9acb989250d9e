"""unit-miscalculation: billed units that the documented dose or infusion time do not support.

**unit-miscalculation** (error when over, warning when under).
- Drug lines: expected units = max(1, ceil(dose_mg / unit_mg)) (CMS rounds up to the next unit). A
  JW line's expected units = ceil((dose + wasted) / unit) - ceil(dose / unit) when that is 1 or more
  (a JW line for waste that adds no unit is `missing-modifier`, not this check; so is a JW line that is
  its drug's only line on the claim and date). Fractional units are
  over or under by their difference. Example: 35 g of J1459 = 70 units; 8 g of J1559 = 80 units. A
  dose billed over several lines of the drug without JW on the claim and date (one line per NDC) where
  a line documents no dose of its own, or where each documents its own part (one of them, at most,
  the discarded amount: the last container's; probe 28A D1), is judged in all: the
  lines' units against the dose the record documents, rounded up once (x40 + x30 for 35 g of J1459 is
  right; x70 + x70 is 70 over; 20,100 mg + 15,100 mg is x71, so x41 + x31 is 1 over: IOM 100-04 ch.17
  s.10, the dose used rounded to the next unit, probe 26B D2). Likewise the JW lines of a
  drug on the claim and date, when there are several beside the line that bills the dose: their units
  in all against the documented waste (JW x5 + x4 for 4,800 mg after 35,200 mg is right; x9 + x9 is 9
  over). A drug line (or lines) billing exactly the dose's units plus the units of its documented
  waste, with no JW line where the policy requires one, is `missing-modifier`'s (the waste without JW:
  one root cause); where the policy asks no JW line (Medicare before 2017-01-01, a policy without JW)
  it is payable as billed (IOM 100-04 ch.17 s.40; probe 27B D2), and so is a part of the waste's
  units; units past both are over both (`drug_over_with_waste`, `drug_over_lines_with_waste`: the
  fix allows the dose's and the discarded amount's units).
- Additional-hour add-ons (96361, 96366, 96370, 96415): for each infusion it extends in the encounter,
  with T its documented minutes (crossing midnight allowed; a stop more than a day after its start,
  `timing.max_infusion_minutes`, or a start more than a day from the line's date of service, is
  read as a recording error: not evaluated, an input warning), the
  infusion supports max(0, floor((T - 31) / 60)) additional hours: 61-90 minutes is 0, 91-150 is 1,
  151-210 is 2, 211-270 is 3. The expected units of the add-on code are the sum over those infusions, compared with the
  units of that code billed in the encounter (split over several lines or not). 96365 for 60 minutes and
  96367 for 100 minutes support 96366 x1. None billed is a count too: where the infusions' time
  supports hours of a code no line of the encounter bills, the infusion line is told to add them
  (`hours_not_billed`, a warning: money left unbilled; 96413 for 211 minutes alone is 96415 x3; held
  back, and counted not evaluated, where an infusion of the chain has no usable times or a row of the
  encounter could not be read), up to
  the code's MUE and the policy's cap, unless another finding's fix names those hours or changes the
  codes they follow (an initial infusion line billed other than x1 or recoded by the one-initial rule,
  a sequential line `sequential_units` resizes, an administration line route-mismatch may recode to
  the product's route, hydration concurrent-hydration resizes, hours of another code billed over their
  time: they may be these hours under the wrong code, or a line of the code by the same provider no
  primary anchors, that date or the next after an infusion running past midnight:
  addon-without-primary's line to move or re-date, or any line of the code by the same provider that
  date: its hours may be these; an original claim's lines are never its replacement's hours; probe 25A
  D2, review 26A). With no
  infusion it extends billed in the encounter, an add-on anchored by another primary (MEDICARE's CMS
  list: 96366 with 96413 or 96360) supports none
  where every infusion line of the encounter documents its minutes (`hours_no_infusion`; with no
  time documented it is not evaluated); where the time of another family's infusion billed there
  supports hours of its own add-on code not billed (96366 after 96413 alone for 120 minutes: 96415
  x1; after 96360: 96361), the fix recodes the line to that code (`hours_other_family`) instead of
  deleting a payable hour; so it does where the infusion of its own family is billed but its time
  supports none (96415 beside 96413 of 60 minutes and a sequential 96367 of 95 minutes: 96366 x1,
  `hours_other_family_timed`). An add-on without any primary in the encounter is
  `addon-without-primary`'s, and its hours are not judged here (one root cause; counted not
  evaluated).
- A sequential infusion code (96367, 96417) billed x2 or more on one line that documents one
  infusion (its own start and stop) is `sequential_units` (error, the units past the first at risk):
  CPT reports it once per sequential infusion of a new drug, and the time past its first hour is the
  family's additional hour (96367 x3 for 10:00-13:00 is 96367 x1 and 96366 x2); several drugs infused
  one after another are each documented with their own times (probe 26A D5). Not a line the time
  rules recode whole or promote to the initial code, the one-initial rule recodes as the concurrent
  infusion, or route-mismatch replaces; its units past the first are not also over the MUE, the hours
  it asks are those of the infusion with the add-on lines documented as continuing it (review 27A D6)
  and are bounded by the policy's cap on the hour code and its MUE in the setting, less the units of
  that code billed for the encounter's other infusions (an untimed line of it only up to the hours
  they support: probe 28A D4), as `hours_not_billed`'s (reviews 27A D4, 27D D3); where an hours
  finding sizes the encounter's hour code in all, the fix leaves the hours to it and names it (probe
  28A D6: asked twice, applied twice).
- An add-on line that documents its own start and stop continues the infusion whose interval it meets
  or overlaps: the two intervals merge (96360 09:00-10:00 and 96361 10:00-11:00 is one 120-minute
  hydration: 96361 x1). After an interruption of at most 30 minutes (a bag change) it still
  continues it, the gap not counted (96365 09:00-10:00 and 96366 10:01-11:00 is 119 minutes: 96366
  x1); an add-on line starting later, or with no infusion of its family before it, is an infusion of
  its own. Beside an infusion line of its family without times, whether it continues that infusion is
  unknown: not evaluated. An add-on line with no times borrows nothing: it is judged by the infusions
  it extends.
- 96361 billed as secondary hydration (no 96360 in the encounter) with its own times T: nothing is
  billable at T <= 30; otherwise expected units = 1 + floor((T - 31) / 60).
- An initial code is billed at 1 unit; more than 1 is `duplicate-initial-infusion`, not this check.
- Units left unbilled are asked for up to a policy cap on the code (units per encounter, replacing
  the MUE, as units-over-mue counts it): no warning where the encounter's units of the code reach the
  cap, and where the record supports more than the cap leaves room for, the warning asks for the room
  (`under_cap`), not for units the cap then reports over. So they are up to the code's MAI 3 MUE (its
  setting's, counted as units-over-mue counts it: the encounter; an institutional claim's date): none
  where the units of the code reach it, and the room up to it where the record supports more
  (`hours_under_mue`, `drug_under_mue`; hours not where the encounter bills the code on several dates,
  each with its own MUE), whose words say that billed past the MUE every unit of the code on the claim is
  denied until an appeal with the record pays them (96366 x8 at its MUE of 8 with 631 minutes
  documented was told "bill x10", which the MUE then denied).
- Where the excess is fully explained by counting observation minutes, this check stays quiet and
  `observation-counted-as-infusion` fires instead: one finding per root cause. Likewise hydration
  hours whose excess is fully explained by the minutes concurrent with another infusion are
  `concurrent-hydration`'s (its fix recomputes the hydration), and the hours of an infusion that
  `duplicate-initial-infusion` recodes as concurrent (96368, no additional hours) are its own; in a
  family holding such an infusion the hours billed are judged as the recode leaves the encounter, over
  and under (the concurrent infusion's minutes support none, and the words name it; an add-on line
  documented as its continuation counts for the kept infusion, as the corrected claim reads it).
- An infusion line that `units-over-mue` deletes whole (over an MAI 2 MUE or a policy cap) supports
  no hours here: the encounter is judged as that deletion leaves it, the hour lines the deletion
  takes with it are that finding's, and the words name the line not counted (96369 09:00-10:00,
  96369-XE 14:00-16:40 and 96370 x1: the MUE deletes line 2, and the 96370 is "delete", not "bill
  x2" on the deleted line's minutes).

Implementation. Drug lines: dose and waste come from the line, or from the other line of the same
drug on the claim and date (:func:`scrubber.enrich.with_drug_units`; the JW line usually carries no
documentation of its own); a JW line whose waste adds no unit is left alone, and so is a JW line that
is its drug's only line on the claim and date (it bills the dose under JW: ``missing-modifier``'s, see
:mod:`checks._drug_lines`). Additional hours: the
encounter's time facts come from :mod:`scrubber.timing` (the one definition of infusing minutes, the
midnight rule, episodes of merged intervals and the units they support), computed once per batch on
the timed lines only and shared with the other time checks. Each add-on code is judged once per
encounter, on its first line (by claim id, then date and line number, never file order), against the units
billed on all its lines (named when there are several); a code of which no line is billed in the
encounter is judged on the chain's first infusion line (``hours_not_billed``). Hydration minutes
concurrent with another infusion are not counted (NCCI
Policy Manual ch. XI; `concurrent-hydration` reports the overlap), so the hydration hours expected
are those of the minutes outside the overlap, and the lines of hydration that check removes, or
whose excess those minutes fully explain (``expected_concurrent``), are left to it (one root
cause). Not evaluated (counted in the summary): a drug line without a documented dose; an add-on
code whose encounter has an infusion it extends without usable times, an add-on line with unusable
times (a stop dated before its start, or a same-date stop more than 12 hours round the clock), an
add-on line without times and no infusion line to judge it by, or hydration beside an infusion of
unknown times.
"""

from __future__ import annotations

import polars as pl

from checks._drug_lines import (
    GROUP,
    doses_in_parts,
    jw_billing_the_dose,
    siblings,
    waste_beside_dose,
    waste_in_dose_units,
    waste_lines,
    waste_paid_with_dose,
    with_doses_in_parts,
)
from scrubber import reference
from scrubber.cards import load_card
from scrubber.enrich import code, code_is, dose_units, is_ig, waste_units, with_codes, with_drug_units
from scrubber.registry import Check, Context
from scrubber.text import number
from scrubber.timing import INFUSION, MINUTES_PER_DAY, Timing, timing


def _drugs(lines: pl.LazyFrame) -> pl.LazyFrame:
    """IG drug lines with the units their documented dose (JW lines: waste) supports."""
    return with_codes(with_drug_units(with_doses_in_parts(lines.filter(is_ig()), lines)), "ig_product")


def _drug_findings(lines: pl.LazyFrame) -> pl.LazyFrame:
    drugs = _drugs(lines)
    expected = pl.col("drug_expected_units")
    is_jw = pl.col("is_jw")
    ig = lines.filter(is_ig())  # (the siblings and split doses read these columns as they are)
    split = _split_doses(ig, lines)
    # A JW line whose waste adds no billing unit is missing-modifier's (JW not permitted: use JZ).
    judged = drugs.filter(expected.is_not_null() & (~is_jw | (expected >= 1)) & (pl.col("units") != expected))
    # So is a JW line that is its drug's only line on the claim and date: it bills the dose under JW.
    judged = judged.join(siblings(ig, judged.filter("is_jw")).select(*GROUP, "n_admin", "dose_jw_row"), on=GROUP,
                         how="left").filter(~jw_billing_the_dose().fill_null(False))
    # The lines of a dose split over several lines are judged together (below), not one by one; so
    # are the JW lines of a discarded amount split over several JW lines.
    split_waste = _split_waste(ig)
    judged = judged.join(split.select(*GROUP, pl.lit(True).alias("_split")), on=GROUP, how="left").join(
        split_waste.select(*GROUP, pl.lit(True).alias("_split_waste")), on=GROUP, how="left").filter(
        pl.when(is_jw).then(pl.col("_split_waste").is_null()).otherwise(pl.col("_split").is_null()))
    # The discarded amount billed on its own line without JW beside the dose line is missing-modifier's
    # (checks._drug_lines).
    confused = waste_lines(lines).select(GROUP)
    judged = judged.join(confused, on=GROUP, how="anti")
    split = split.join(confused, on=GROUP, how="anti")
    split_waste = split_waste.join(confused, on=GROUP, how="anti")
    # So is the discarded amount billed in the dose line's own units where the policy wants it on a JW
    # line (checks._drug_lines.waste_in_dose_units): the unit over the dose is the waste without JW;
    # where it does not, that unit is payable as billed (waste_beside_dose).
    judged = with_codes(judged, "ig_single_dose", "ig_bit").filter(~waste_in_dose_units(
        pl.col("units"), pl.col("doc_dose"), pl.col("doc_waste"), pl.col("ig_unit_mg"), waste_beside_dose()))
    split = split.filter(~waste_in_dose_units(pl.col("billed"), pl.col("dose"), pl.col("waste"), pl.col("unit_mg"),
                                              pl.col("_waste_beside")))
    # Where no JW line is asked, the documented waste's units are payable on the dose's line(s)
    # (waste_beside_dose): units over the dose up to the dose and waste are payable, and units over
    # both are over both ("bill the dose's units" dropped the payable waste's).
    paid = pl.col("_waste_paid")
    judged = judged.with_columns(_payable_waste(pl.col("doc_dose"), pl.col("doc_waste"), pl.col("ig_unit_mg"),
                                                waste_paid_with_dose()).alias("_waste_paid")).filter(
        ~((pl.col("units") > expected) & (pl.col("units") <= expected + paid)))
    split = split.with_columns(_payable_waste(pl.col("dose"), pl.col("waste"), pl.col("unit_mg"),
                                              pl.col("_waste_paid")).alias("_waste_paid")).filter(
        ~((pl.col("billed") > pl.col("expected")) & (pl.col("billed") <= pl.col("expected") + paid)))
    over = pl.col("units") > expected
    with_waste = paid >= 1
    reason = (pl.when(is_jw).then(pl.when(over).then(pl.lit("jw_over")).otherwise(pl.lit("jw_under")))
              .otherwise(pl.when(over & with_waste).then(pl.lit("drug_over_with_waste"))
                         .when(over).then(pl.lit("drug_over")).otherwise(pl.lit("drug_under"))))
    allowed = pl.when(over).then(expected + paid).otherwise(expected)
    per_line = judged.select(
        "row_id",
        reason.alias("reason"),
        pl.col("units").alias("billed"),
        allowed.alias("expected"),
        pl.when(over).then(pl.col("units") - allowed).alias("excess_units"),
        pl.when(~over).then(expected - pl.col("units")).alias("short_units"),
        pl.col("doc_dose").alias("dose"),
        pl.col("doc_waste").alias("waste"),
        pl.col("ig_unit_mg").alias("unit_mg"),
        pl.col("ig_product").alias("product"),
    )
    # (words: the dose only, unless its payable waste is in the units allowed)
    per_dose = _in_all(split.with_columns(
        pl.when(pl.col("billed") > pl.col("expected")).then(pl.col("expected") + paid).otherwise("expected")
        .alias("expected"), pl.when(pl.col("billed") > pl.col("expected") + paid).then(paid).alias("_waste_paid"),
    ).with_columns(pl.when(pl.col("_waste_paid") >= 1).then("waste").alias("waste")), "drug")
    per_waste = _in_all(split_waste, "jw")
    return pl.concat([per_line, per_dose, per_waste], how="diagonal_relaxed")


def _payable_waste(dose: pl.Expr, waste: pl.Expr, unit: pl.Expr, paid: pl.Expr) -> pl.Expr:
    """The units the documented waste adds to the dose where they are payable on the dose's line(s)
    (``paid``: no JW line asked there, :func:`checks._drug_lines.waste_beside_dose`; IOM 100-04 ch.17
    s.40 pays the discarded amount of a single-dose container), else 0."""
    return pl.when(paid).then(waste_units(dose, waste, unit)).otherwise(0).fill_null(0)


def _in_all(groups: pl.LazyFrame, kind: str) -> pl.LazyFrame:
    """The findings of lines judged together (:func:`_split_doses`, :func:`_split_waste`): the units
    ``billed`` in all against the ``expected``, ``{kind}_over_lines`` or ``{kind}_under_lines``
    (``drug_over_lines_with_waste`` where ``_waste_paid``, the payable waste's units, are in it)."""
    billed, total = pl.col("billed"), pl.col("expected")
    with_waste = (pl.col("_waste_paid") >= 1).fill_null(False) if "_waste_paid" in groups.collect_schema() \
        else pl.lit(False)
    return groups.filter(billed != total).select(
        "row_id",
        pl.when((billed > total) & with_waste).then(pl.lit(f"{kind}_over_lines_with_waste"))
        .when(billed > total).then(pl.lit(f"{kind}_over_lines")).otherwise(pl.lit(f"{kind}_under_lines"))
        .alias("reason"),
        "billed",
        "expected",
        pl.when(billed > total).then(billed - total).alias("excess_units"),
        pl.when(billed < total).then(total - billed).alias("short_units"),
        "dose",
        "waste",
        "unit_mg",
        "product",
        "lines",
    )


def drug_units_over(lines: pl.LazyFrame) -> pl.LazyFrame:
    """``row_id``, ``excess_units``: the drug units this check reports as over the documented dose (a
    JW line: waste), on the line its finding sits on. The unit counters (``units-over-mue``, through
    :func:`checks._counting.units_reported_elsewhere`) leave them out: one root cause, one finding."""
    return _drug_findings(lines).filter(pl.col("excess_units").is_not_null()).select("row_id", "excess_units")


def _split_waste(ig: pl.LazyFrame) -> pl.LazyFrame:
    """The discarded amount billed over several JW lines of one drug on a claim and date (one per NDC,
    say): the units of all those JW lines against the waste the record documents (their own waste
    summed; or, where none has one, the waste they all borrow), beside a line that bills the dose
    (else the JW lines bill the dose: missing-modifier's). Judged one by one, each borrowing line would
    be held to the whole waste (JW x5 + x4 for 9 units: "x9 expected" twice, and fixes that bill 18), a
    repeated JW line would pass (x9 + x9), and waste documented per line would be rounded per line
    (2,400 mg + 2,400 mg after 35,200 mg is JW x9 in all, not x5 twice). One row per such waste, on the
    last JW line that documents no waste of its own (else the last), with its ``lines``; waste that
    adds no unit is missing-modifier's. Groups are found from the few JW lines (most drugs have one)."""
    own = pl.col("drug_wasted_mg")
    jw = ig.filter(pl.col("is_jw"))
    keys = jw.select(GROUP).group_by(GROUP).len().filter(pl.col("len") > 1).drop("len").collect()
    if not keys.height:
        return _drugs(jw.head(0)).select(
            *GROUP, "row_id", pl.col("units").alias("billed"), pl.col("units").alias("expected"),
            pl.col("doc_dose").alias("dose"), pl.col("doc_waste").alias("waste"),
            pl.col("ig_unit_mg").alias("unit_mg"), pl.col("ig_product").alias("product"),
            pl.col("procedure_code").alias("lines"))
    members = _drugs(jw.join(keys.lazy(), on=GROUP, how="semi")).filter(pl.col("doc_dose").is_not_null())
    dosed = siblings(ig, members).filter(pl.col("n_admin") > 0).select(GROUP)
    # (by line number, not by row order: lines documenting different doses must not give the finding to
    # file order, probe 23F)
    first_waste = pl.col("doc_waste").sort_by("line_number").first()
    waste = pl.when(own.is_not_null().any()).then(own.sum()).otherwise(first_waste)
    borrowing = own.is_null()
    return members.join(dosed, on=GROUP, how="semi").group_by(GROUP).agg(
        pl.len().alias("_n"),
        pl.col("units").sum().alias("billed"),
        pl.col("doc_dose").sort_by("line_number").first().alias("dose"),
        waste.alias("waste"),
        pl.col("ig_unit_mg").first().alias("unit_mg"),
        pl.col("ig_product").first().alias("product"),
        pl.col("row_id").sort_by(borrowing, "line_number").last().alias("row_id"),
        pl.col("line_number").sort().cast(pl.String).str.join(", ").alias("lines"),
    ).filter(pl.col("_n") > 1).with_columns(
        waste_units(pl.col("dose"), pl.col("waste"), pl.col("unit_mg")).alias("expected")).filter(
        pl.col("expected") >= 1).drop("_n")


def _split_doses(ig: pl.LazyFrame, lines: pl.LazyFrame) -> pl.LazyFrame:
    """One drug's dose billed over several lines without JW on a claim and date (one line per NDC, say)
    where a line documents no dose of its own: the units of all those lines against the dose the
    record documents (their own doses summed; or, where none has one, the dose they all borrow).
    Judged one by one, each undocumented line would be held to the whole dose (x40 + x30 for 35,000 mg:
    "x70 expected" twice), and a repeated line would pass (x70 + x70). One row per such dose, on the
    last line that documents no dose of its own (the units the record does not back), with its
    ``lines``; groups are found from the few lines that borrow a dose. So is a dose every line of which
    documents its own part (one per NDC): the dose used is their sum, rounded up once (IOM 100-04 ch.17
    s.10; CMS RAC topic 0074: "if the drug dose used ... is not a multiple of the HCPCS code dosage
    descriptor, the provider rounds to the next highest unit"): 20,100 mg + 15,100 mg of J1459 is x71,
    where each line rounded up alone passed x41 + x31 and told x41 + x30 to bill x31 (probe 26B D2).
    The row is then the last line. Not where two or more lines each document a discarded amount of
    their own (each is its own container's dose and waste, as missing-modifier reads it); one part
    documenting the discard is the last container's (:func:`checks._drug_lines.doses_in_parts`)."""
    own = pl.col("drug_dose_mg")
    plain = ig.filter(~pl.col("is_jw"))
    # Filter first, decided now: the drugs a borrowing line belongs to (none in most batches; a join
    # against no key still reads every drug line), then derive on their lines only; and the drugs
    # whose lines each document their part (checks._drug_lines.doses_in_parts, as missing-modifier
    # weighs their JW line).
    borrowing = plain.filter(own.is_null() & pl.col("doc_dose_mg").is_not_null()).select(GROUP)
    keys = pl.concat([borrowing.collect(), doses_in_parts(lines).select(GROUP)]).unique()
    members = with_codes(_drugs(plain.join(keys.lazy(), on=GROUP, how="semi") if keys.height else plain.head(0)),
                         "ig_single_dose", "ig_bit").filter(pl.col("drug_expected_units").is_not_null())
    dose = pl.when(own.is_not_null().any()).then(own.sum()).otherwise(pl.col("doc_dose").sort_by("line_number").first())
    return members.group_by(GROUP).agg(
        pl.len().alias("_n"),
        pl.col("units").sum().alias("billed"),
        dose.alias("dose"),
        # (the waste a part documents, 0 on the others: not the first part's 0, probe 28A D1)
        pl.when(pl.col("drug_wasted_mg").is_not_null().any()).then(pl.col("drug_wasted_mg").sum()).otherwise(
            pl.col("doc_waste").sort_by("line_number").drop_nulls().first()).alias("waste"),
        waste_beside_dose().all().alias("_waste_beside"),
        waste_paid_with_dose().all().alias("_waste_paid"),
        pl.col("ig_unit_mg").first().alias("unit_mg"),
        pl.col("ig_product").first().alias("product"),
        pl.coalesce(pl.col("row_id").filter(own.is_null()).sort_by(pl.col("line_number").filter(own.is_null())).last(),
                    pl.col("row_id").sort_by("line_number").last()).alias("row_id"),
        pl.col("line_number").sort().cast(pl.String).str.join(", ").alias("lines"),
    ).filter(pl.col("_n") > 1).with_columns(
        dose_units(pl.col("dose"), pl.col("unit_mg")).alias("expected"))


def _hour_findings(lines: pl.LazyFrame, ctx: Context) -> pl.LazyFrame:
    """The hours findings, an encounter losing lines to another finding's fix judged as the fix leaves
    it: units-over-mue's deletions (:func:`checks.units_over_mue.lines_deleted_whole`: a second 96369
    the MUE deletes supports no hours here, and the hour lines the deletion takes are that finding's)
    and duplicate-initial-infusion's concurrent recodes (:func:`checks._counting.recoded_as_concurrent`:
    96368 has no additional hours, so its minutes support none, and an add-on line documented as its
    continuation is the kept infusion's as the corrected claim reads it; review 24C D1, 24D D1: judged
    on the billed claim, "bill x3" beside the recode became "x2 instead of x3" on the next run).
    Both decided once per batch."""
    # (that module imports this one)
    from checks._counting import DELETED_BY_MUE, as_fixes_leave, billed_line

    removed, encounters, corrected = as_fixes_leave(lines)
    if corrected is None:
        return _judged_hours(lines, ctx)
    # The words name the infusion lines left out, or "supports none" reads as ignoring them.
    # (per family: a 96369 the MUE deletes is no word of a 96366 finding, review 24E D10)
    infusions = timing(lines).lines.filter(pl.col("tm_kind") == INFUSION).select("row_id", "tm_chain")
    left_out = lines.join(removed.lazy().join(infusions, on="row_id"), on="row_id").sort(
        "claim_id", "line_number").group_by("enc_key", "tm_chain", "_cause").agg(
        billed_line("procedure_code", number(pl.col("units"))).str.join(", ").alias("_lines"),
        # (the concurrent code from the code table, admin_codes.csv concurrent_code: no code in the words)
        code("adm_concurrent_code").drop_nulls().first().alias("_concurrent")).with_columns(
        pl.when(pl.col("_cause") == DELETED_BY_MUE).then(
            pl.format("{}, which the units-over-mue finding deletes", "_lines"))
        .otherwise(pl.format("{}, the concurrent infusion (reported as {}, without additional hours)",
                             "_lines", "_concurrent")).alias("_words")).sort("enc_key", "tm_chain", "_cause").group_by(
        "enc_key", "tm_chain", maintain_order=True).agg(pl.col("_words").str.join("; ").alias("_left_out"))
    heads = timing(corrected).lines.select("row_id", "enc_key", "tm_chain")
    judged = _judged_hours(corrected, ctx).join(heads, on="row_id", how="left").join(
        left_out, on=["enc_key", "tm_chain"], how="left").with_columns(
        pl.when(pl.col("_left_out").is_not_null()).then(pl.format("{}; not counted: {}", "infusions", "_left_out"))
        .otherwise(pl.col("infusions")).alias("infusions")).drop("enc_key", "tm_chain", "_left_out")
    # (relaxed: a part with no finding of another family types its units apart)
    return pl.concat([_judged_hours(lines, ctx, skip=encounters.get_column("enc_key")), judged],
                     how="diagonal_relaxed")


def _judged_hours(lines: pl.LazyFrame, ctx: Context, skip: pl.Series | None = None) -> pl.LazyFrame:
    """The hours findings of ``lines`` by their time facts, but for the encounters ``skip``."""
    t = timing(lines)
    billed, counted, expected = pl.col("billed"), pl.col("counted"), pl.col("expected")
    # One finding per root cause: excess that counting the observation minutes would explain is
    # observation-counted-as-infusion's, excess that counting the minutes concurrent with another
    # infusion would explain is concurrent-hydration's, and the lines of hydration that check removes
    # are at risk in its finding (``counted`` leaves them out). The words give the totals.
    explained = (counted <= pl.col("expected_obs")) | (counted <= pl.col("expected_concurrent"))
    over = (counted > expected) & ~explained
    judged = t.groups if skip is None else t.groups.filter(~pl.col("enc_key").is_in(skip.implode()))
    wrong = judged.filter(pl.col("evaluable") & (over | (billed < expected))).collect()
    if wrong.height:
        # (that module imports this one)
        from checks._counting import as_secondary_hydration

        # Hydration after an initial service that outranks the 96360 is secondary hydration.
        wrong = as_secondary_hydration(wrong, lines).filter(over | (billed < expected))
    wrong = other_family(wrong, t, lines, ctx)
    unbilled = _unbilled_hours(t, lines, ctx, skip)
    wrong = wrong.lazy()
    # No infusion of the add-on's chain billed at all (MEDICARE anchors 96366 with 96413 or 96360, but
    # only 96365 and 96367 give it hours): none supported, and the words name what it would extend, or
    # the add-on hour code of the infusion billed whose time supports hours not billed.
    no_infusion = (expected == 0) & pl.col("infusions").is_null()
    reason = (pl.when(billed < expected).then(pl.lit("hours_under"))
              .when(no_infusion & pl.col("other_code").is_not_null()).then(pl.lit("hours_other_family"))
              .when((expected == 0) & pl.col("other_code").is_not_null()).then(pl.lit("hours_other_family_timed"))
              .when(no_infusion).then(pl.lit("hours_no_infusion"))
              .when(expected == 0).then(pl.lit("hours_none")).otherwise(pl.lit("hours_over")))
    extends = reference.code_table().get_column("adm_extends").str.replace_all(" ", " or ")
    # The dates the code's lines are billed on: an institutional encounter across midnight bills its
    # hours on both ("96415 is billed x2 for 2026-03-10" named a line of 2026-03-11 too: probe 20A).
    hour_rows = wrong.select("head", "hour_rows").explode("hour_rows").collect()
    # (the few hour lines by an integer set test, not a join with every line: 0.03 s on 2M)
    of_rows = lines.filter(pl.col("row_id").is_in(hour_rows.get_column("hour_rows").implode())).select(
        pl.col("row_id").alias("hour_rows"), "date_of_service")
    dates = hour_rows.lazy().join(of_rows, on="hour_rows").group_by("head").agg(
        pl.col("date_of_service").unique().sort().cast(pl.String).alias("_dates"))
    days = pl.col("_dates")
    wrong = wrong.join(dates, on="head", how="left").with_columns(
        pl.when(days.list.len() > 1).then(days.list.head(days.list.len() - 1).list.join(", ") + pl.lit(" and ")
                                          + days.list.last()).otherwise(days.list.first()).alias("dates"))
    return pl.concat([
        wrong.select(
            pl.col("head").alias("row_id"),
            reason.alias("reason"),
            billed.alias("billed"),
            expected.alias("expected"),
            pl.when(billed > expected).then(billed - expected).alias("excess_units"),
            pl.when(billed < expected).then(expected - billed).alias("short_units"),
            "billed_on",
            "dates",
            "infusions",
            pl.lit(extends).gather(pl.col("tm_chain")).alias("extends"),
            "other_code", "other_units", "other_extends", "other_supported", "other_rest",
            # (hours_none: every line at risk; hours_over: the excess laid on the chain's lines in order,
            # as checks._counting lays it for the unit counters, each line at most its own units)
            pl.col("hour_rows").alias("risk_rows"),
        ),
        unbilled,
    ], how="diagonal_relaxed")


def _unbilled_hours(t: Timing, lines: pl.LazyFrame, ctx: Context, skip: pl.Series | None) -> pl.LazyFrame:
    """``hours_not_billed``: an encounter whose infusions' documented time supports additional hours of a
    code of which no line is billed (:attr:`scrubber.timing.Timing.unbilled`): 96413 09:00-12:31 alone
    is told to add 96415 x3 (money left unbilled, a warning), as 96415 x1 beside it is told x3 (probe 25A
    D2; RULES.md compares the expected units with those billed, none included). On the chain's first
    infusion line. Not where another finding's fix already names those hours or changes the codes they
    follow (one root cause): an initial infusion line of the chain billed other than x1 or recoded by the
    one-initial rule (duplicate-initial-infusion sizes its hours), a chain of the administration lines
    route-mismatch may recode to the product's route (its finding sits on the drug line), hydration
    concurrent-hydration resizes, or an encounter billing more hours of
    another code than their time supports (they may be these hours under the wrong code:
    :func:`other_family` and addon-without-primary recode "96366 as 96415"), or a line of the code no
    primary of its own encounter anchors, billed by the same provider that date or the next after an
    infusion running past midnight (addon-without-primary's line to move or re-date: an institutional
    claim split in two, an infusion across midnight), never an original claim's line for its
    replacement's hours. Bounded, as :func:`_within_mue` and :func:`_within_cap` bound the other asks, by
    the code's MUE (the edit table of the line's setting) and the policy's cap on it: none where either
    is 0."""
    chains = t.unbilled if skip is None else t.unbilled.filter(~pl.col("enc_key").is_in(skip.implode()))
    found = chains.filter(pl.col("evaluable")).collect()
    if not found.height:
        return pl.LazyFrame(schema=_NOT_BILLED)
    keys = ["enc_key", "tm_chain"]
    table = reference.code_table()
    codes, extends = table.get_column("procedure_code"), table.get_column("adm_extends").str.replace_all(" ", " or ")
    # (those encounters' lines only, collected once: a few)
    within = lines.filter(pl.col("enc_key").is_in(found.get_column("enc_key").unique().implode())).collect().lazy()
    from checks import route_mismatch  # (those modules import this one)
    from checks._counting import edit_setting, initial_services
    from checks.addon_without_primary import reported_as_initial, unanchored_addons

    chain_of = t.lines.select("row_id", *keys)
    resized = pl.concat([
        initial_services(within).filter(~pl.col("is_kept_line") | (pl.col("extra_units") > 0)).select("row_id"),
        # (an initial line billed other than x1 is duplicate-initial-infusion's to size, a sequential 96367
        # x2 for one documented infusion ``sequential_units``': "96367 x1 and 96366 x2"; reviews 25G D3,
        # 26A D5)
        within.filter((pl.col("units") != 1) & code_is(adm_role="initial")).select("row_id"),
        sequential_units(within).select("row_id"),
        # (an infusion add-on no primary anchors, which addon-without-primary tells to "bill the primary or
        # delete": its hours wait on that fix; not the lone sequential line it reports as the initial
        # code, 96367 alone as 96365 x1, whose hours are that service's; review 26F, 27A D5)
        unanchored_addons(within).filter(~pl.col("row_id").is_in(reported_as_initial(lines).implode())).select(
            "row_id"),
    ]).unique().join(chain_of, on="row_id").collect()
    # (only those lines' episodes: the kept infusion's own hours are asked beside the recode, 96413
    # 09:00-12:00 and a second 96413 12:00-13:00 "reported as 96417" still support 96415 x2; review
    # 26A D1. An episode a resized line shares, a concurrent infusion inside the kept one, is left whole.)
    resized_eps = t.lines.filter(pl.col("row_id").is_in(resized.get_column("row_id").implode())).select("ep")
    left = t.episodes.join(found.lazy().select(keys), on=keys, how="semi").filter(
        pl.col("has_infusion") & (pl.col("ep_units") >= 1)).join(resized_eps, on="ep", how="anti").group_by(
        keys).agg(pl.col("ep_units").sum().alias("_left"))
    sized = resized.lazy().join(within.select("row_id", "claim_id", "line_number"), on="row_id").sort(
        "claim_id", "line_number").group_by(keys).agg(pl.format(
            "claim {} line {}", "claim_id", "line_number").str.join(", ").alias("_sized"))
    # (route-mismatch reports on the drug line and may recode the administration lines it names to the
    # product's route, "replace 96365 with 96369, 96370": their hours may be another code's (review 25F
    # D1); the chains of those lines only: an unrelated 96413 of the encounter keeps its 96415 ask
    # (review 26A D3). Where its finding names its own drug line alone (a JA/JB the product does not
    # take), the encounter's.)
    routed = route_mismatch.find(within, ctx).select("row_id", "risk_rows").collect()
    own_line = routed.filter(pl.col("risk_rows").list.len().fill_null(0).eq(0)
                             | (pl.col("risk_rows").list.first() == pl.col("row_id")))
    rerouted_chains = routed.lazy().select(pl.col("risk_rows").alias("row_id")).explode("row_id").join(
        chain_of, on="row_id").select(keys)
    rerouted = own_line.lazy().select("row_id").join(within.select("row_id", "enc_key"), on="row_id").select(
        "enc_key").unique()
    # (concurrent-hydration's fix restates the hydration's units, "report it for its 120 minutes outside
    # the other infusion: 96360 x1 and 96361 x1", or deletes it: not also "add 96361 x1"; review 26A D2)
    from checks import concurrent_hydration
    rehydrated = concurrent_hydration.find(within, ctx).select("row_id").join(chain_of, on="row_id").select(keys)
    # (an encounter billing hours of another code its own infusions support none of: those units may be
    # these hours under the wrong code, which other_family or addon-without-primary recodes, "96366 as
    # 96415"; where they support some, its finding only reduces it, review 25G D1)
    misplaced = t.groups.filter((pl.col("expected") == 0) & (pl.col("billed") > 0)).select("enc_key").unique()
    heads = within.select(pl.col("row_id").alias("head"), "claim_id", "line_number", "date_of_service", "policy",
                          "is_inst", "member_id", "billing_provider", "cob_layer")
    hour_code = pl.lit(codes).gather(pl.col("tm_chain"))
    limits = mues_by_setting("hour_code", "mue")
    # (the code billed for the patient on a claim of another encounter, that date or the day before or
    # after: an institutional claim is its own encounter, an export may put the 96366 on a second claim,
    # and an infusion across midnight may have its 96366 dated the next day; addon-without-primary
    # reports that line, "re-date it", "bill a primary or delete": not also "add 96366" here)
    corrects = pl.col("claim_frequency").is_in(reference.correction_frequencies()).fill_null(False)
    # (the day the chain's last infusion ends: an add-on line of the next day may be its hours re-dated
    # only where it runs past midnight)
    ends = t.lines.join(found.lazy().select(keys), on=keys, how="semi").filter(pl.col("tm_kind") == INFUSION).group_by(
        keys).agg(((pl.col("e").max() - 1) // MINUTES_PER_DAY).alias("_end_day"))
    found = found.join(within.select(pl.col("row_id").alias("head"), "member_id", "date_of_service", "billing_provider",
                                     "cob_layer", corrects.alias("_corr")).collect(), on="head").join(
        ends.collect(), on=keys, how="left").with_columns(hour_code.alias("hour_code"))
    # (a line no primary of its own encounter anchors, by the same provider that date or, after an
    # infusion running past midnight, the next (addon-without-primary's line to move or re-date), or
    # any line of the code by the same provider that date: its hours may be these; one billed right on
    # the day before, or by another provider, is no line to move (review 25F D2), nor a loose line of
    # another day or provider, which addon-without-primary tells to "bill a primary or delete" (review
    # 26A D4); a line of an original claim is never the hours of its replacement, nor the reverse
    # (review 26A D8))
    of_members = lines.filter(pl.col("procedure_code").is_in(found.get_column("hour_code").unique().implode())
                              & pl.col("member_id").is_in(found.get_column("member_id").unique().implode()))
    loose = unanchored_addons(of_members).select("row_id", pl.lit(True).alias("_loose"))
    # (of the same provider, payer layer and date, only hours their own infusions do not all support or
    # that cannot be judged: a second visit's or an original claim's right hours are theirs, review 25G D2)
    spare = t.groups.filter((pl.col("billed") > pl.col("expected")) | ~pl.col("evaluable_as_read")).select(
        pl.col("hour_rows").alias("row_id")).explode("row_id").join(
        of_members.select("row_id"), on="row_id", how="semi").select("row_id", pl.lit(True).alias("_spare"))
    billed = of_members.join(loose, on="row_id", how="left").join(spare, on="row_id", how="left").select(
        "member_id", pl.col("date_of_service").alias("_billed_on"), pl.col("procedure_code").alias("hour_code"),
        pl.col("billing_provider").alias("_by"), pl.col("cob_layer").alias("_layer"),
        pl.col("_loose").fill_null(False), pl.col("_spare").fill_null(False), corrects.alias("_billed_corr"))
    after = (pl.col("_billed_on") - pl.col("date_of_service")).dt.total_days()
    overnight = (after == 1) & (pl.col("_end_day") > pl.col("date_of_service").cast(pl.Int32)).fill_null(False)
    mine = pl.col("_by").eq_missing(pl.col("billing_provider")) & (pl.col("_billed_corr") == pl.col("_corr"))
    near = mine & ((pl.col("_loose") & ((after == 0) | overnight)) | (
        pl.col("_spare") & (after == 0) & pl.col("_layer").eq_missing(pl.col("cob_layer"))))
    elsewhere = found.lazy().join(billed, on=["member_id", "hour_code"]).filter(near).select(keys).unique()
    asked = found.lazy().join(left, on=keys, how="left").join(sized, on=keys, how="left").with_columns(
        pl.col("_left").fill_null(0).cast(pl.Int32)).join(misplaced, on="enc_key", how="anti").join(
        rerouted, on="enc_key", how="anti").join(rerouted_chains, on=keys, how="anti").join(
        rehydrated, on=keys, how="anti").join(
        elsewhere, on=keys, how="anti").drop("member_id", "date_of_service", "hour_code", "billing_provider",
                                             "cob_layer", "_corr", "_end_day").join(
        heads, on="head").with_columns(hour_code.alias("hour_code"), edit_setting().alias("_setting")).join(
        limits.lazy(), on=["_setting", "hour_code"], how="left").join(
        ctx.policy_caps.rename({"procedure_code": "hour_code"}), on=["policy", "hour_code"], how="left")
    # (the MUE and the cap bound the code's units in all: those the recode's fix sizes come first)
    named = pl.col("expected") - pl.col("_left")
    room_mue, room_cap = pl.col("mue") - named, pl.col("cap") - named
    asked = asked.with_columns(pl.min_horizontal("_left", room_mue, room_cap).alias("short_units"))
    limit = (pl.when(room_cap < pl.col("_left")).then(pl.format(
        "; the {} policy pays {} unit(s) of {} per encounter", "policy", "cap", "hour_code"))
        .when(room_mue < pl.col("_left")).then(pl.format(
            "; its CMS MUE is {} per date of service, so the rest only on appeal with the record", "mue"))
        .otherwise(pl.lit("")))
    sized_note = pl.when(named > 0).then(pl.format(
        "; the finding on {} sizes that line's hours ({} x{})", "_sized", "hour_code", named)
    ).otherwise(pl.lit(""))
    return asked.filter(pl.col("short_units") >= 1).select(
        pl.col("head").cast(pl.Int64).alias("row_id"),
        pl.lit("hours_not_billed").alias("reason"),
        pl.col("billed").cast(pl.Float64),
        "expected",
        pl.col("_left").alias("unbilled"),
        sized_note.alias("sized_note"),
        pl.col("short_units").cast(pl.Float64),
        "hour_code",
        pl.col("date_of_service").cast(pl.String).alias("dates"),
        "infusions",
        pl.lit(extends).gather(pl.col("tm_chain")).alias("extends"),
        limit.alias("limit_note"),
    ).cast(_NOT_BILLED)  # type: ignore[arg-type]


def mues_by_setting(code: str, mue: str) -> pl.DataFrame:
    """``_setting`` (:data:`scrubber.reference.MUE_SETTINGS`), ``code`` and ``mue``: every MUE table's
    limits, to join on a line's :func:`checks._counting.edit_setting` and a code it asks for (the
    hours an ask or a recode adds are bounded as units-over-mue counts them)."""
    return pl.concat([reference.mue_table(setting).select(
        pl.lit(setting).alias("_setting"), pl.col("code").alias(code), pl.col("mue").alias(mue))
        for setting in reference.MUE_SETTINGS])


# The facts of ``hours_not_billed`` (the words' schema is fixed whether or not any is found).
_NOT_BILLED = {"row_id": pl.Int64, "reason": pl.String, "billed": pl.Float64, "expected": pl.Int32,
               "unbilled": pl.Int32, "sized_note": pl.String,
               "short_units": pl.Float64, "hour_code": pl.String, "dates": pl.String, "infusions": pl.String,
               "extends": pl.String, "limit_note": pl.String}


def other_family(wrong: pl.DataFrame, t: Timing, lines: pl.LazyFrame, ctx: Context) -> pl.DataFrame:
    """``wrong`` (timing groups judged, collected) with ``other_code``, ``other_units`` and
    ``other_extends`` on an add-on whose own family's documented time supports none (no infusion of
    it billed in the encounter, or one too short for an additional hour) where another family's
    infusion billed there documents time its own add-on hour code does not yet bill: 96366 after 96413
    alone, 120 minutes, is 96415 x1; after 96360 alone, 96361 x1; 96415 beside 96413 of 60 minutes and
    a sequential 96367 of 95 minutes is 96366 x1 (CPT: each add-on is the additional hour of its own
    family's infusion). The fix recodes the line instead of deleting a payable hour (probes 18A, 19D).
    Not a family whose infusion line the one-initial rule recodes (duplicate-initial-infusion's fix
    sizes its hours: a 96360 outranked by a push is 96361 x2 for 120
    minutes, and "96366 as 96361 x1" beside it made x3; probe 18D). Of several such families, the one
    with the most hours left (then the lowest code); ``other_units``: the units billed, at most those
    hours and the room the policy's cap on that code leaves (``ctx.policy_caps``). Never a family
    whose own lines ``hours_under`` asks to bill more of (its fix claims those hours already)."""
    table = reference.code_table()
    empty = wrong.with_columns(pl.lit(None, pl.String).alias("other_code"),
                               pl.lit(None, pl.Int64).alias("other_units"),
                               pl.lit(None, pl.String).alias("other_extends"),
                               pl.lit(None, pl.Int64).alias("other_supported"),
                               pl.lit("").alias("other_rest"))
    alone = wrong.filter((pl.col("expected") == 0) & (pl.col("billed") > 0)).select(
        "enc_key", pl.col("tm_chain").alias("_own"))
    if not alone.height:
        return empty
    keys = ["enc_key", "tm_chain"]
    supported = t.episodes.join(alone.lazy().select("enc_key").unique(), on="enc_key", how="semi").filter(
        "has_infusion").group_by(keys).agg(pl.col("ep_units").sum().alias("_supported"))
    already = t.groups.join(alone.lazy().select("enc_key").unique(), on="enc_key", how="semi").select(
        *keys, pl.col("billed").alias("_billed"))
    # (not a family hours_under asks to bill more of: its fix claims those hours, and the recode beside
    # it made them billed twice; probe 19E)
    asked = wrong.filter(pl.col("billed") < pl.col("expected")).select(keys)
    # (nor a family whose sequential line billed xN ``sequential_units`` resizes: its fix names those
    # hours, and "add 96366 x1" beside it made x4 of two; review 26F D6)
    sequential = sequential_units(lines.filter(pl.col("enc_key").is_in(alone.get_column("enc_key").unique().implode())))
    asked = pl.concat([asked, sequential.select("row_id").join(t.lines.select("row_id", *keys), on="row_id").select(
        keys).collect()], how="vertical_relaxed")
    spare = supported.join(already, on=keys, how="left").join(asked.lazy(), on=keys, how="anti").select(
        *keys, (pl.col("_supported") - pl.col("_billed").fill_null(0)).alias("_spare")).filter(pl.col("_spare") >= 1)
    spare = spare.collect()
    if not spare.height:
        return empty
    # (the families whose infusion line is an extra initial service: that check's fix sizes their hours;
    # decided for the encounters with hours to spare only, a few of those judged)
    from checks._counting import initial_services

    recoded = initial_services(lines, spare.get_column("enc_key").unique()).filter(~pl.col("is_kept_line")).select(
        "row_id").join(t.lines.select("row_id", *keys), on="row_id").select(keys)
    spare = spare.lazy().join(recoded, on=keys, how="anti")
    codes = table.get_column("procedure_code")
    extends = table.get_column("adm_extends").str.replace_all(" ", " or ")
    best = alone.lazy().join(spare, on="enc_key").filter(pl.col("tm_chain") != pl.col("_own")).sort(
        "enc_key", "_own", "_spare", "tm_chain", descending=[False, False, True, False]).group_by(
        "enc_key", "_own", maintain_order=True).first().select(
        "enc_key", pl.col("_own").alias("tm_chain"), pl.lit(codes).gather(pl.col("tm_chain")).alias("other_code"),
        pl.col("_spare").cast(pl.Int64).alias("_spare"), pl.col("_spare").cast(pl.Int64).alias("_documented"),
        pl.lit(extends).gather(pl.col("tm_chain")).alias("other_extends")).collect()
    # The room a policy's cap on the other code leaves (units per encounter; none billed yet beyond
    # ``_billed``, already out of ``_spare``): never a recode the cap then reports over.
    caps = ctx.policy_caps.collect()
    if caps.height:
        policy = lines.select("row_id", "policy").join(pl.LazyFrame({"row_id": wrong.get_column("head")}), on="row_id")
        best = best.join(wrong.select("enc_key", "tm_chain", "head"), on=keys).join(
            policy.collect(), left_on="head", right_on="row_id").join(
            caps.rename({"procedure_code": "other_code"}), on=["policy", "other_code"], how="left").join(
            already.collect().rename({"tm_chain": "_other_chain"}).with_columns(
                pl.lit(codes).gather(pl.col("_other_chain")).alias("other_code")).select(
                "enc_key", "other_code", "_billed"), on=["enc_key", "other_code"], how="left").with_columns(
            pl.min_horizontal("_spare", pl.col("cap") - pl.col("_billed").fill_null(0)).alias("_spare")).filter(
            pl.col("_spare") >= 1).drop("head", "_billed").rename({"policy": "_policy", "cap": "_cap"})
    else:
        best = best.with_columns(pl.lit(None, pl.String).alias("_policy"), pl.lit(None, pl.Int64).alias("_cap"))
    # (the recode carries the units billed, at most those hours; the rest of them is asked beside it in
    # the same fix, and the words say what the record supports: "x1 not yet billed" of a record
    # supporting x2 left the other unit to the next run, review 26A D6; the rest up to the other code's
    # MUE in the line's setting, less its units billed, as hours_not_billed bounds its ask, review 26F D3)
    from checks._counting import edit_setting  # (that module imports this one)

    mues = mues_by_setting("other_code", "_mue")
    settings = lines.join(pl.LazyFrame({"row_id": wrong.get_column("head")}), on="row_id", how="semi").select(
        pl.col("row_id").alias("head"), edit_setting().alias("_setting")).collect()
    other_billed = already.collect().rename({"tm_chain": "_other_chain", "_billed": "_other_billed"}).with_columns(
        pl.lit(codes).gather(pl.col("_other_chain")).alias("other_code")).select(
        "enc_key", "other_code", "_other_billed")
    spare = pl.col("_spare").cast(pl.Int64)
    units = pl.min_horizontal(pl.col("billed").cast(pl.Int64), spare)
    room = (pl.col("_mue") - pl.col("_other_billed").fill_null(0)).cast(pl.Int64)
    asked = pl.min_horizontal(spare, room)
    return wrong.join(best, on=keys, how="left", maintain_order="left").join(
        settings, on="head", how="left").join(mues, on=["_setting", "other_code"], how="left").join(
        other_billed, on=["enc_key", "other_code"], how="left").with_columns(
        pl.when(pl.col("other_code").is_not_null()).then(units).alias("other_units"),
        # (what the record supports, not the room the cap leaves: "supports 96415 x1" of 240 minutes under a
        # cap of 1 misstated the record, probe 28A D7; the cap is named in the rest's words)
        pl.col("_documented").alias("other_supported"),
        pl.when(asked > units).then(pl.format(
            ", and add {} x{} for the rest of the documented time ({} x{} in all{})", "other_code",
            asked - units, "other_code", asked,
            pl.when(room < spare).then(pl.format("; its CMS MUE is {} per date of service, so the rest only on "
                                                 "appeal with the record", "_mue")).otherwise(pl.lit(""))))
        .when(room < spare).then(pl.format("; its CMS MUE is {} per date of service, so the rest only on appeal "
                                           "with the record", "_mue"))
        .otherwise(pl.lit("")).alias("other_rest"),
    ).with_columns(pl.when(pl.col("_documented") > spare).then(pl.format(
        "{}; the {} policy pays {} unit(s) of {} per encounter", "other_rest", "_policy", "_cap", "other_code"))
        .otherwise(pl.col("other_rest")).alias("other_rest")).drop(
        "_spare", "_documented", "_policy", "_cap", "_setting", "_mue", "_other_billed")


# Reasons that say units are left unbilled: what they ask to bill is bounded by a payer's cap.
_UNDER = ("drug_under", "jw_under", "drug_under_lines", "jw_under_lines", "hours_under")


def _within_cap(found: pl.LazyFrame, lines: pl.LazyFrame) -> pl.LazyFrame:
    """``found`` with its money-left-unbilled findings bounded by the policy's cap on the code (``pol_cap``,
    units per encounter, which replaces the MUE; units-over-mue counts it): none where the encounter's
    units of the code already reach the cap (96366 x2 under a cap of 2 whose record supports x3: "bill
    x3" was then an over-cap error, a loop), and ``under_cap`` asking for what the cap leaves room for
    (``capped_units``: the line's, or the lines judged together, units and the room) where the record
    supports more. The room is the encounter's: a JW line x1 beside the dose's x78 under a cap of 80
    has room for one more, not for the x4 its waste supports (probe 16E)."""
    capped_lines = lines.filter(pl.col("pol_cap").is_not_null()).select("row_id", "enc_key", "code_idx", "units",
                                                                       "pol_cap")
    caps = capped_lines.with_columns(pl.col("units").sum().over("enc_key", "code_idx").alias("_in_encounter")).select(
        "row_id", pl.col("pol_cap").alias("cap"), "_in_encounter")
    under = pl.col("reason").is_in(_UNDER)
    room = pl.col("cap") - pl.col("_in_encounter")
    capped = under & ((pl.col("expected") - pl.col("billed")) > room)
    return found.join(caps, on="row_id", how="left").filter(~(under & (room <= 0)).fill_null(False)).with_columns(
        pl.when(capped).then(pl.lit("under_cap")).otherwise(pl.col("reason")).alias("reason"),
        pl.when(capped).then(room).otherwise(pl.col("short_units")).alias("short_units"),
        pl.when(capped).then(pl.col("billed") + room).alias("capped_units"),
    ).drop("_in_encounter")


def _within_mue(found: pl.LazyFrame, lines: pl.LazyFrame) -> pl.LazyFrame:
    """``found`` with its money-left-unbilled findings bounded by the code's MAI 3 MUE, as
    :func:`_within_cap` bounds them by a policy cap: none where the units of the code the MUE counts
    already reach it, and ``drug_under_mue`` / ``hours_under_mue`` asking for the room up to it where
    the record supports more. Why: 96366 x8 at its MUE of 8 with 631 minutes documented was told "bill
    x10", and x10 then drew the MUE's error "reduce by 2" (probe 22A D2); over an MAI 3 MUE every unit of
    the code on the claim is denied until an appeal pays it, so the words say the record's units are
    billable that way only. The MUE and its count are units-over-mue's
    (:func:`checks.units_over_mue.date_of_service_mues`: the units it counts, less those over the
    record). The findings are collected here once (a few thousand rows): read again lazily, the plan
    ran twice."""
    from checks.units_over_mue import date_of_service_mues

    found = found.collect()
    under = pl.col("reason").is_in(_UNDER)
    asks = found.filter(under)  # (none at all still gives the columns: the words' schema is fixed)
    limits = date_of_service_mues(lines, asks.select("row_id", "short_units",
                                                     (pl.col("reason") == "hours_under").alias("hours")))
    where = lines.filter(pl.col("row_id").is_in(asks.get_column("row_id").implode())).select(
        "row_id", "claim_id", "line_number").collect()
    room = pl.col("mue") - pl.col("in_group")
    judged = under & pl.col("mue").is_not_null()
    past = judged & ((pl.col("expected") - pl.col("billed")) > room)
    hours = pl.col("reason") == "hours_under"
    # Where the units are billed, for the words: the hours' lines, a drug's lines, or its line.
    billed_where = pl.coalesce(
        pl.col("billed_on") if "billed_on" in found.columns else pl.lit(None, pl.String),
        pl.format("claim {} lines {}", "claim_id", "lines") if "lines" in found.columns else pl.lit(None, pl.String),
        pl.format("claim {} line {}", "claim_id", "line_number"))
    return found.join(limits, on="row_id", how="left").join(where, on="row_id", how="left").filter(
        ~(judged & (room <= 0)).fill_null(False)).with_columns(
        pl.when(past & hours).then(pl.lit("hours_under_mue")).when(past).then(pl.lit("drug_under_mue"))
        .otherwise(pl.col("reason")).alias("reason"),
        pl.when(past).then(room).otherwise(pl.col("short_units")).alias("short_units"),
        pl.when(past).then(pl.col("billed") + room).otherwise(pl.col("capped_units")).alias("capped_units"),
        pl.when(past).then(billed_where).alias("billed_where"),
    ).drop("in_group", "claim_id", "line_number").lazy()


def _sequential_hours_bounded(found: pl.LazyFrame, lines: pl.LazyFrame, ctx: Context) -> pl.LazyFrame:
    """``sequential_units`` findings (:func:`sequential_units`) whose fix asks the additional hours in all
    up to the policy's cap on the hour code (per encounter) and its MUE in the line's setting, less the
    units of that code the encounter bills for its other infusions (lines not continuing this one),
    worded as ``hours_not_billed`` words its bound: "96366 (x2 ...)" under a cap of 1 was then over the
    cap, x9 over an MUE of 8 was reduced on the next run (review 27A D4), and x2 beside a 96365's own
    96366 x2 under a cap of 2 made x4 (review 27D D3). The units of the sequential code itself are not
    changed."""
    from checks._counting import edit_setting  # (that module imports this one)

    found = found.collect()
    if not found.height:
        return found.drop("ep_minutes").lazy()
    facts = lines.join(found.lazy().select("row_id"), on="row_id", how="semi").select(
        "row_id", "policy", "enc_key", edit_setting().alias("_setting")).collect()
    # (the hour code's units billed in the encounter on lines not in this infusion's episode)
    t = timing(lines)
    episodes = t.lines.join(found.lazy().select("row_id"), on="row_id", how="semi").select(
        "row_id", pl.col("ep").alias("_ep")).collect()
    heads = facts.join(episodes, on="row_id", how="left").join(found.select("row_id", "hour_code"), on="row_id")
    billed = lines.join(heads.lazy().select("enc_key").unique(), on="enc_key", how="semi").select(
        "row_id", "enc_key", "procedure_code", "units").join(t.lines.select("row_id", "ep"), on="row_id",
                                                               how="left").collect()
    elsewhere = pl.col("_ep").is_null() | (pl.col("ep") != pl.col("_ep"))
    untimed = pl.col("ep").is_null()
    other = heads.rename({"row_id": "_head"}).join(
        billed.rename({"procedure_code": "hour_code"}), on=["enc_key", "hour_code"]).group_by("_head").agg(
        pl.col("units").filter(~untimed & elsewhere).sum().alias("_timed"),
        pl.col("units").filter(untimed).sum().alias("_untimed")).rename({"_head": "row_id"})
    # (an hour line without times is another infusion's only up to the hours the other infusions of the
    # family support: beside a 96365 of 60 minutes, an untimed 96366 x1 is this infusion's, probe 28A D4;
    # beside one of 180 minutes, 96366 x2 are that one's, review 27D D3)
    chains = t.lines.join(found.lazy().select("row_id"), on="row_id", how="semi").select(
        "row_id", "tm_chain").collect()
    supported = heads.join(chains, on="row_id").join(
        t.episodes.select("ep", "enc_key", "tm_chain", "ep_units").collect(), on=["enc_key", "tm_chain"]).filter(
        pl.col("_ep").is_null() | (pl.col("ep") != pl.col("_ep"))).group_by("row_id").agg(
        pl.col("ep_units").sum().alias("_supported"))
    other = other.join(supported, on="row_id", how="left").select(
        "row_id", (pl.col("_timed") + pl.min_horizontal(pl.col("_untimed"), (
            pl.col("_supported").fill_null(0) - pl.col("_timed")).clip(lower_bound=0))).alias("_other"))
    bounded = found.join(facts.drop("enc_key"), on="row_id", how="left").join(other, on="row_id", how="left").join(
        mues_by_setting("hour_code", "_mue"), on=["_setting", "hour_code"], how="left").join(
        ctx.policy_caps.collect().rename({"procedure_code": "hour_code", "cap": "_cap"}), on=["policy", "hour_code"],
        how="left").with_columns(pl.col("_other").fill_null(0).cast(pl.Int64))
    hours, other = pl.col("hours"), pl.col("_other")
    room_cap, room_mue = pl.col("_cap") - other, pl.col("_mue") - other
    asked = pl.min_horizontal(hours, room_cap, room_mue)
    by_cap = room_cap.is_not_null() & (room_mue.is_null() | (room_cap <= room_mue))
    others = pl.when(other > 0).then(pl.format(", x{} of them billed for the encounter's other infusions", other))\
        .otherwise(pl.lit(""))
    fix = (
        pl.when(hours.is_null() | (hours <= 0) | (asked >= hours)).then(pl.col("hours_fix"))
        .when((pl.col("_cap") == 0) & by_cap).then(pl.format(
            " (its documented {} minutes would support {} x{}, but the {} policy pays no {})", "ep_minutes",
            "hour_code", hours, "policy", "hour_code"))
        .when((asked <= 0) & by_cap).then(pl.format(
            " (its documented {} minutes would support {} x{}, but the {} policy pays {} unit(s) of {} per "
            "encounter{})", "ep_minutes", "hour_code", hours, "policy", "_cap", "hour_code", others))
        .when(asked <= 0).then(pl.format(
            " (its documented {} minutes would support {} x{}; its CMS MUE is {} per date of service{}, so any "
            "more only on appeal with the record)", "ep_minutes", "hour_code", hours, "_mue", others))
        .when(by_cap).then(pl.format(
            " and its additional hours as {} (x{} in all with any {} already billed for this infusion: the "
            "documented {} minutes support x{}, and the {} policy pays {} unit(s) of {} per encounter{})",
            "hour_code", asked, "hour_code", "ep_minutes", hours, "policy", "_cap", "hour_code", others))
        .otherwise(pl.format(
            " and its additional hours as {} (x{} in all with any {} already billed for this infusion: the "
            "documented {} minutes support x{}; its CMS MUE is {} per date of service{}, so the rest only on "
            "appeal with the record)", "hour_code", asked, "hour_code", "ep_minutes", hours, "_mue", others)))
    return bounded.with_columns(fix.alias("hours_fix")).drop(
        "policy", "_setting", "_mue", "_cap", "_other", "ep_minutes").lazy()


def find(lines: pl.LazyFrame, ctx: Context) -> pl.LazyFrame:
    # (decided now, a few rows or none: the hand-off below reads the findings three times, so it is
    # planned only where a sequential line is found; 0.09 s of 2M lines where none is)
    sequential = _sequential_hours_bounded(sequential_units(lines), lines, ctx).collect()
    found = pl.concat([_drug_findings(lines), _hour_findings(lines, ctx), sequential.lazy()], how="diagonal_relaxed")
    found = _within_mue(_within_cap(found, lines), lines)
    return _hours_sized_elsewhere(found, lines) if sequential.height else found


# The hours findings whose fix sizes the encounter's hour code in all, as the cap and the MUE leave them.
_SIZED = ("hours_over", "hours_under", "under_cap", "hours_under_mue")


def _hours_sized_elsewhere(found: pl.LazyFrame, lines: pl.LazyFrame) -> pl.LazyFrame:
    """``found`` with each ``sequential_units`` fix that asks its additional hours, where an hours finding
    already sizes the encounter's hour code in all (:data:`_SIZED`: "bill 96366 x3 instead of x1 in
    all"), billing the sequential line x1 and leaving its hours to that finding, named, instead of
    asking them a second time (probe 28A D6: "x3 in all" on the 96366 and "96366 x2 ... in all with any
    already billed for this infusion" on the 96367, applied as two edits, billed x5 for x3). A fix that
    asks no more hours (the cap or the MUE reached) keeps its words. The sequential rows are few."""
    is_sequential = pl.col("reason") == "sequential_units"
    keys = lines.select("row_id", "enc_key", "procedure_code", "claim_id", "line_number")
    sized = found.filter(pl.col("reason").is_in(_SIZED)).select("row_id").join(keys, on="row_id").select(
        "enc_key", pl.col("procedure_code").alias("hour_code"), pl.format(
            " (its additional hours are those the {} finding on claim {} line {} sizes for the encounter in all)",
            "procedure_code", "claim_id", "line_number").alias("_sized_fix")).sort(
        "enc_key", "hour_code", "_sized_fix").unique(["enc_key", "hour_code"], keep="first", maintain_order=True)
    asks = pl.col("hours_fix").str.starts_with(" and its additional hours")
    sequential = found.filter(is_sequential).join(keys.select("row_id", "enc_key"), on="row_id").join(
        sized, on=["enc_key", "hour_code"], how="left").with_columns(
        pl.when(asks & pl.col("_sized_fix").is_not_null()).then("_sized_fix").otherwise("hours_fix")
        .alias("hours_fix")).drop("enc_key", "_sized_fix")
    return pl.concat([found.filter(~is_sequential), sequential], how="diagonal_relaxed")


def sequential_infusion_codes() -> pl.DataFrame:
    """``procedure_code`` (a sequential infusion code: 96367, 96417) -> ``hour_code`` (its family's
    additional hour, 96366, 96415): the subsequent codes of the initial infusions that are not their
    hour code (96361 is both), but the pump set-up over-cap-96371 counts."""
    from checks._counting import CAP_CHECK_CODE  # (that module imports this one)

    table = reference.code_table()
    return table.filter((pl.col("adm_role") == "initial") & (pl.col("adm_infusion") == "true")
                        & pl.col("adm_subsequent_code").is_not_null()
                        & (pl.col("adm_subsequent_code") != pl.col("adm_addon_hour_code").fill_null(""))
                        & (pl.col("adm_subsequent_code") != CAP_CHECK_CODE)).select(
        pl.col("adm_subsequent_code").alias("procedure_code"), pl.col("adm_addon_hour_code").alias("hour_code")
    ).unique("procedure_code", keep="first", maintain_order=True)


def sequential_units(lines: pl.LazyFrame) -> pl.LazyFrame:
    """``sequential_units``: a sequential infusion line (96367, 96417) billed x2 or more for one
    documented infusion (its own start and stop): CPT reports the code once per sequential infusion of
    a new drug, and the time past its first hour is the family's additional hour (96366, 96415): 96367
    x3 for 10:00-13:00 is 96367 x1 and 96366 x2 (probe 26A D5: it passed, and the hours asked beside
    it may have been billed as the extra units). An error, the units past the first at risk: one time
    span documents one infusion (several drugs infused one after another are each documented with
    their own times). Not a line the time
    rules recode whole (under its floor, a push), the one-initial rule recodes as the concurrent
    infusion, or route-mismatch replaces (their fixes name the line). Few lines: a code and units test
    first."""
    from checks._counting import below_floor, not_replaced, outranked_push, recoded_as_concurrent, units_recoded_whole
    from checks.addon_without_primary import unanchored_addons
    from checks.units_over_mue import not_payable_in_setting

    codes = sequential_infusion_codes()
    schema = {"row_id": pl.Int64, "reason": pl.String, "billed": pl.Float64, "excess_units": pl.Float64,
              "hour_code": pl.String, "hours": pl.Int64, "hours_words": pl.String, "hours_fix": pl.String,
              "interval": pl.String, "minutes": pl.Int64, "ep_minutes": pl.Int64}
    # (an integer set test on the code's index, then the units: 0.012 s of 2M lines by the code's text)
    wanted = set(codes.get_column("procedure_code"))
    indices = pl.Series([i for i, c in enumerate(reference.code_table().get_column("procedure_code")) if c in wanted],
                        dtype=pl.UInt8)
    found = lines.filter(pl.col("code_idx").is_in(indices.implode()).fill_null(False)).filter(
        pl.col("units") > 1)
    # (not a line the MUE or a cap of 0 deletes whole, nor one no primary anchors: their findings' fixes
    # name the line, review 26F D1)
    found = found.filter(~not_payable_in_setting()).select("row_id", "enc_key", "procedure_code", "units").collect()
    if not found.height:
        return pl.LazyFrame(schema=schema)
    found = not_replaced(lines, found).collect()
    within = lines.filter(pl.col("enc_key").is_in(found.get_column("enc_key").unique().implode()))
    # (nor the sequential line a short "initial" infusion's fix promotes to the initial code: that fix
    # names its units and hours, review 27A D3)
    short = below_floor(lines, within.select("row_id"))
    promoted = (outranked_push(lines, short).filter(pl.col("promote_row").is_not_null()).select(
        pl.col("promote_row").alias("row_id")).collect() if short.height else pl.DataFrame(schema={"row_id": pl.Int64}))
    gone = pl.concat([recoded_as_concurrent(lines).select("row_id"),
                      units_recoded_whole(lines, found.get_column("enc_key").unique()).select("row_id").collect(),
                      unanchored_addons(within).select("row_id").collect(), promoted])
    timed = timing(lines).lines.filter(pl.col("row_id").is_in(found.get_column("row_id").implode())).filter(
        pl.col("minutes").is_not_null()).select("row_id", "minutes", "ep_minutes", "s", "e").collect()
    from scrubber.timing import hour_units, interval

    # (the hours of the infusion with the add-on lines documented as continuing it: the time rules' total,
    # review 27A D6: "x1 for the documented 120 minutes" beside hours_under's "x2 in all" for 180)
    hours = hour_units(pl.col("ep_minutes"))
    continued = pl.col("ep_minutes") > pl.col("minutes")
    return found.lazy().join(gone.lazy(), on="row_id", how="anti").join(timed.lazy(), on="row_id").join(
        codes.lazy(), on="procedure_code").select(
        pl.col("row_id").cast(pl.Int64),
        pl.lit("sequential_units").alias("reason"),
        pl.col("units").cast(pl.Float64).alias("billed"),
        (pl.col("units") - 1).cast(pl.Float64).alias("excess_units"),
        "hour_code",
        hours.alias("hours"),
        # (never "x0": 90 minutes or less support no additional hour, review 26F D7)
        pl.when(continued).then(pl.format("{} for the {} minutes it runs with the {} lines that continue it",
                                          pl.when(hours > 0).then(pl.format("x{}", hours)).otherwise(pl.lit("none")),
                                          "ep_minutes", "hour_code"))
        .when(hours > 0).then(pl.format("x{} for these minutes", hours))
        .otherwise(pl.lit("none for these minutes")).alias("hours_words"),
        pl.when(hours > 0).then(pl.format(
            " and its additional hours as {} (x{} for the documented {} minutes, in all with any {} already billed "
            "for this infusion)", "hour_code", hours, "ep_minutes", "hour_code"))
        .otherwise(pl.format(" (its documented {} minutes support no additional hour)", "ep_minutes"))
        .alias("hours_fix"),
        interval("s", "e").alias("interval"),
        pl.col("minutes").cast(pl.Int64),
        pl.col("ep_minutes").cast(pl.Int64),  # (for the bound's words; dropped there)
    ).cast(schema)  # type: ignore[arg-type]


def unevaluated(lines: pl.LazyFrame) -> pl.LazyFrame:
    """Drug lines without a documented dose; add-on lines whose encounter's time cannot be judged."""
    drugs = _drugs(lines).filter(pl.col("drug_expected_units").is_null()).select("row_id")
    groups = timing(lines).groups
    from checks._counting import as_fixes_leave  # (that module imports this one)

    _, encounters, corrected = as_fixes_leave(lines)
    if corrected is not None:  # (those encounters as the MUE's deletions leave them, as the findings read them)
        groups = pl.concat([groups.join(encounters.lazy(), on="enc_key", how="anti"),
                            timing(corrected).groups.select(groups.collect_schema().names())])
    hours = groups.filter(~pl.col("evaluable")).select(pl.col("hour_rows").alias("row_id"))
    # (hours no line bills, on an infusion line of a chain whose time cannot be judged: the ask is held
    # back, and counted so, review 26A D7)
    unbilled = timing(lines).unbilled.filter(~pl.col("evaluable")).select(pl.col("head").cast(pl.Int64).alias("row_id"))
    return pl.concat([drugs, hours.explode("row_id"), unbilled], how="vertical_relaxed")


CHECK = Check(card=load_card(__file__), find=find, unevaluated=unevaluated, reads_timing=True)
