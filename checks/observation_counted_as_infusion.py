"""observation-counted-as-infusion: infusion time reached only by counting observation minutes.

**What it finds.** For a time-based family (hydration 96360/96361, therapeutic IV 96365/96366,
SC 96369/96370, chemo 96413/96415):

* billed add-on units exceed what the documented infusing minutes T support but are within what
  T + ``observation_minutes`` would support (same formulas as unit-miscalculation, which then stays
  quiet: one finding per root cause);
* an initial infusion that needs T >= 16 minutes (96365, 96413) or T >= 31 (hydration 96360)
  where T falls short and only T + observation reaches the threshold.

**Why payers deny it.** Time-based codes are billed on "the actual time over which the infusion is
administered"; post-infusion observation, patient education, flushes and keep-vein-open time are
not infusion time (CPT; IOM 100-04 ch.4; RAC topic 0137). Auditors recoup the extra hours.

**Example.** 96365 + 96366 x1, infusion 09:00-10:20 (80 minutes) and 30 observation minutes:
80 minutes supports 0 add-on units, 110 would support 1: fires on the 96366 line.

**Use instead.** Bill from the start/stop of active infusion only; remove the add-on units the
observation period created.

**Appeal basis.** A correction. If the record shows the drug was still infusing, correct the
documented stop time in the record first; never count monitoring as infusion.

**Sources.** CPT time rules and the post-infusion note (Select Health policy 09 restating CPT);
revenuecycleadvisor Q&A quoting IOM 100-04 ch.4; RAC topic 0137; REFERENCE.md 7.
"""

from __future__ import annotations

import polars as pl

from scrubber.enrich import code_is, timed, with_codes, with_timing
from scrubber.legacy import legacy_check
from scrubber.registry import Context
from scrubber.text import fill, number

_TIMED_ADDON = (pl.col("adm_role") == "addon") & pl.col("adm_time_based").fill_null(False)
_TIMED_INITIAL = (pl.col("adm_role") == "initial") & pl.col("adm_min_minutes").is_not_null()


def _applicable(lines: pl.LazyFrame) -> pl.LazyFrame:
    """Time-based add-on lines and initial lines with a minimum time, with their infusing minutes."""
    lines = lines.filter(timed("addon") | code_is(adm_role="initial", adm_time_based=True))
    return with_codes(with_timing(lines), "adm_min_minutes")


def find(lines: pl.LazyFrame, ctx: Context) -> pl.LazyFrame:
    lines = _applicable(lines)
    obs = pl.col("t_obs").fill_null(0)
    addon_hit = (
        _TIMED_ADDON
        & pl.col("is_unit_head")
        & (obs > 0)
        & (pl.col("billed_units") > pl.col("t_expected_units"))
        & (pl.col("billed_units") <= pl.col("t_expected_units_with_obs"))
    )
    initial_hit = (
        _TIMED_INITIAL
        & (obs > 0)
        & (pl.col("t_minutes") < pl.col("adm_min_minutes"))
        & (pl.col("t_minutes") + obs >= pl.col("adm_min_minutes"))
    )
    minutes = pl.col("t_minutes").cast(pl.String)
    message = (
        pl.when(addon_hit)
        .then(fill(
            "{code} x{units} needs more time than the {minutes} documented infusing minutes, which support "
            "{expected} unit(s); it is reached only by adding {obs} observation minutes.",
            code=pl.col("procedure_code"), units=number(pl.col("billed_units")), minutes=minutes,
            expected=pl.col("t_expected_units").cast(pl.String), obs=obs.cast(pl.String)))
        .otherwise(fill(
            "{code} needs at least {needed} minutes of infusion, but only {minutes} are documented; it is reached "
            "only by adding {obs} observation minutes.",
            code=pl.col("procedure_code"), needed=pl.col("adm_min_minutes").cast(pl.String), minutes=minutes,
            obs=obs.cast(pl.String)))
    )
    fix = (
        pl.when(addon_hit)
        .then(fill("Bill {code} x{expected} (from the infusion start/stop only); observation is not infusion time.",
                   code=pl.col("procedure_code"), expected=pl.col("t_expected_units").cast(pl.String)))
        .otherwise(fill("Do not bill {code} on observation time: {minutes} infusing minutes do not reach the "
                        "{needed}-minute threshold (a push or nothing, as the record supports).",
                        code=pl.col("procedure_code"), minutes=minutes,
                        needed=pl.col("adm_min_minutes").cast(pl.String)))
    )
    appeal = fill(
        "Corrected claim: time-based administration codes are reported on the actual time over which the infusion "
        "was administered; the {obs} minutes of post-infusion observation on {dos} are not infusion time and were "
        "removed from the time billed for {code}.",
        obs=obs.cast(pl.String), dos=pl.col("date_of_service"), code=pl.col("procedure_code"),
    )
    return lines.filter(addon_hit | initial_hit).select(
        "row_id", message.alias("message"), fix.alias("suggested_fix"), appeal.alias("appeal_text")
    )


def unevaluated(lines: pl.LazyFrame) -> pl.LazyFrame:
    """Lines this check applies to that document no infusion times (their own or the initial line's)."""
    return _applicable(lines).filter((_TIMED_ADDON | _TIMED_INITIAL) & pl.col("t_minutes").is_null())


CHECK = legacy_check(
    id="observation-counted-as-infusion",
    title="Observation time counted as infusion time",
    severity="error",
    scope="line",
    rule="Time-based units and initial-infusion thresholds (16 min; hydration 31) use infusing minutes only; "
    "observation, education, flushes and KVO are not infusion time.",
    sources=("CPT time rules and post-infusion note", "IOM 100-04 ch.4 (actual infusion time)", "RAC topic 0137"),
    fix="Bill from the documented start/stop of active infusion only.",
    appeal="Corrected claim with time billed on infusing minutes only.",
    denial_codes=("CO-151", "N362", "CO-50"),
    fix_kind="correction",
    disposition="time-based units recouped on review",
    find=find,
    unevaluated=unevaluated,
)
