"""unit-miscalculation: billed units that the documented dose or infusion time do not support.

**What it finds.**

* *Drug lines* (immune globulins, ``scrubber/data/immune_globulins.csv``): expected units =
  max(1, ceil(dose_mg / unit_mg)); CMS rounds up to the next unit. A JW line (the discarded
  amount) expects ceil((dose + wasted) / unit) - ceil(dose / unit). Examples: 35 g of J1459
  (500 mg units) = 70 units; 8 g of J1559 (100 mg units) = 80 units. Dose and waste come from the
  line, or from the other line of the same drug on the same claim and date (the JW line usually
  carries no documentation of its own).
* *Time-based add-on lines* (96361, 96366, 96370, 96415): with T the documented infusing minutes
  (stop - start; crossing midnight allowed), expected = max(0, floor((T - 31) / 60)): 61-90 minutes
  is 0 units, 91-150 is 1, 151-210 is 2, 211-270 is 3. An add-on without its own times takes them
  from the initial line of its family on the same claim and date.
* *96361 as secondary hydration* (no 96360 on the claim and date), timed by its own start/stop:
  nothing billable at T <= 30; otherwise 1 + floor((T - 31) / 60) (31-90 minutes is 1 unit).
* *Add-on units split across lines*: lines of one add-on code on a claim and date that take their
  time from the same initial line are one service; their units are totalled and judged once, on
  the first of them (two 96366 x1 lines after a 100-minute 96365 are 2 units where 1 is supported).

Over-billing is an error; under-billing a warning (money left on the table, or a documentation
gap). An initial code billed x2 or more is duplicate-initial-infusion, not this check. Where the
excess is fully explained by counting the documented observation minutes as infusion time, this
check stays quiet and observation-counted-as-infusion fires instead: one finding per root cause.
Lines without a dose (drug) or times (add-on) are not evaluated and are counted in the summary.

**Why payers deny it.** Units above the documented dose or time are an overpayment (RAC topic
0074 "Excessive or insufficient drugs and biologicals units billed"); MUE edits deny with CARC 151
and N362.

**Example.** J1459 (Privigen), dose 35,000 mg, billed 75 units: 70 expected, fires (error).
96366 x1 with a 09:00-10:30 infusion (90 minutes): 0 expected, fires.

**Use instead.** Bill the expected units; report discarded drug on its own JW line.

**Appeal basis.** A correction of the units. Where the record supports the billed units (a dose or
time missing from the feed), attach the administration record instead.

**Sources.** IOM 100-04 ch.17 section 10 (round up to the next unit; one unit minimum); RAC
topic 0074; A52507 (JW line scenarios); CPT time rules (REFERENCE.md 1b, 4e).
"""

from __future__ import annotations

import polars as pl

from scrubber.enrich import is_ig, timed, with_codes, with_drug_units, with_timing
from scrubber.legacy import legacy_check
from scrubber.registry import Context
from scrubber.text import fill, number

_DRUG = pl.col("is_ig")
_TIMED_ADDON = (pl.col("adm_role") == "addon") & pl.col("adm_time_based").fill_null(False)


def _applicable(lines: pl.LazyFrame) -> pl.LazyFrame:
    """Drug lines and time-based add-on lines, with the units their documentation supports."""
    lines = lines.filter(is_ig() | timed("addon")).with_columns(is_ig().alias("is_ig"))
    return with_codes(with_drug_units(with_timing(lines)), "ig_product")


def _observation_explains() -> pl.Expr:
    return (
        (pl.col("t_obs").fill_null(0) > 0)
        & (pl.col("billed_units") > pl.col("t_expected_units"))
        & (pl.col("billed_units") <= pl.col("t_expected_units_with_obs"))
    )


def find(lines: pl.LazyFrame, ctx: Context) -> pl.LazyFrame:
    lines = _applicable(lines)
    expected = pl.when(_DRUG).then(pl.col("drug_expected_units")).otherwise(pl.col("t_expected_units"))
    candidates = lines.filter(
        (_DRUG & pl.col("drug_expected_units").is_not_null())
        | (_TIMED_ADDON & pl.col("t_expected_units").is_not_null() & pl.col("is_unit_head") & ~_observation_explains())
    ).with_columns(expected.alias("_expected"))
    # billed_units: a line's units, or the total of an add-on whose units are split across lines.
    wrong = candidates.filter(pl.col("billed_units") != pl.col("_expected"))
    over = pl.col("billed_units") > pl.col("_expected")
    units = number(pl.col("billed_units"))
    across = pl.when(pl.col("unit_lines").is_not_null()).then(pl.lit(" in all (lines ") + pl.col("unit_lines") + ")") \
        .otherwise(pl.lit(""))
    exp = pl.col("_expected").cast(pl.String)
    drug_msg = (
        pl.when(pl.col("is_jw"))
        .then(fill(
            "JW line for {code} ({product}, {unit} mg units): documented dose {dose} mg and waste {waste} mg support "
            "{expected} unit(s) of discarded drug; billed {units}.",
            code=pl.col("procedure_code"), product=pl.col("ig_product"), unit=number(pl.col("ig_unit_mg")),
            dose=number(pl.col("doc_dose")), waste=number(pl.col("doc_waste")), expected=exp, units=units))
        .otherwise(fill(
            "{code} ({product}) is billed in {unit} mg units: the documented dose of {dose} mg is {expected} "
            "unit(s) (rounded up); billed {units}.",
            code=pl.col("procedure_code"), product=pl.col("ig_product"), unit=number(pl.col("ig_unit_mg")),
            dose=number(pl.col("doc_dose")), expected=exp, units=units))
    )
    time_msg = fill(
        "{code} is billed x{units}{across}, but {minutes} documented infusing minutes ({source} times) support "
        "{expected} unit(s){rule}.",
        code=pl.col("procedure_code"),
        units=units,
        across=across,
        minutes=pl.col("t_minutes").cast(pl.String),
        source=pl.col("t_from"),
        expected=exp,
        rule=pl.when(pl.col("is_secondary_hydration"))
        .then(pl.lit(" as secondary hydration (31-90 min = 1 unit, each further 60 min after that = 1 more)"))
        .otherwise(pl.lit(" (an add-on hour needs more than 30 minutes past the hour: 61-90 min = 0, "
                          "91-150 = 1, 151-210 = 2)")),
    )
    fix = fill("Bill {code} x{expected} instead of x{units}{across}{extra}.", code=pl.col("procedure_code"),
               expected=exp, units=units, across=across,
               extra=pl.when(_DRUG & ~pl.col("is_jw") & (pl.col("doc_waste").fill_null(0) > 0))
               .then(pl.lit("; report the documented waste on a separate JW line"))
               .when(pl.col("_expected") == 0)
               .then(pl.lit(" (remove the line)"))
               .otherwise(pl.lit("")))
    appeal = (
        pl.when(over)
        .then(fill("Corrected claim: units for {code} on {dos} are corrected to {expected}, the units the "
                   "documented {basis} supports (IOM 100-04 ch.17 section 10; CPT time rules).",
                   code=pl.col("procedure_code"), dos=pl.col("date_of_service"), expected=exp,
                   basis=pl.when(_DRUG).then(pl.lit("dose")).otherwise(pl.lit("infusion time"))))
        .otherwise(fill("Corrected claim: {code} on {dos} was under-reported; the documented {basis} supports "
                        "{expected} unit(s).", code=pl.col("procedure_code"), dos=pl.col("date_of_service"),
                        expected=exp, basis=pl.when(_DRUG).then(pl.lit("dose")).otherwise(pl.lit("infusion time"))))
    )
    return wrong.select(
        "row_id",
        pl.when(_DRUG).then(drug_msg).otherwise(time_msg).alias("message"),
        fix.alias("suggested_fix"),
        appeal.alias("appeal_text"),
        pl.when(over).then(pl.lit("error")).otherwise(pl.lit("warning")).alias("severity"),
    )


def unevaluated(lines: pl.LazyFrame) -> pl.LazyFrame:
    """Drug lines without a documented dose, add-on lines without documented times."""
    missing = (_DRUG & pl.col("drug_expected_units").is_null()) | (_TIMED_ADDON & pl.col("t_minutes").is_null())
    return _applicable(lines).filter(missing)


CHECK = legacy_check(
    id="unit-miscalculation",
    title="Units not supported by the documented dose or time",
    severity="error",
    scope="line",
    rule="Drug units = max(1, ceil(dose / billing unit)) (JW: the waste's extra units); time-based add-on units = "
    "max(0, floor((T - 31) / 60)); 96361 as secondary hydration = 1 + floor((T - 31) / 60) above 30 minutes.",
    sources=("IOM 100-04 ch.17 section 10 (round up)", "RAC topic 0074", "A52507 JW scenarios",
             "CPT add-on time rules (REFERENCE.md 1b)"),
    fix="Bill the units the documentation supports; waste on its own JW line.",
    appeal="Corrected claim with the units supported by the documented dose or infusion time.",
    denial_codes=("CO-151", "N362"),
    fix_kind="correction",
    disposition="units above the documentation denied or recouped (MUE/RAC)",
    find=find,
    unevaluated=unevaluated,
)
