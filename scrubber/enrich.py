"""Join reference data, payer policy and the shared per-claim/per-encounter aggregates onto lines.

Done once per run, so checks share one scan and one set of groupings instead of each re-reading
or re-grouping the frame. Everything here is derived, never a judgement: checks decide.

Column families added (prefix = origin):

* ``policy``, ``pol_*``: the payer's policy and its parameters (:mod:`scrubber.policy`).
* ``adm_*``: the administration-code row (family, role, allowed primaries, timing) for 963xx lines.
* ``ig_*``: the immune-globulin row (product, route, billing unit) for IG drug lines.
* ``cd_*``: aggregates over the line's claim and date (codes billed, codes on JW lines).
* ``t_*``: documented infusing minutes and observation minutes, own or taken from the family's
  initial line, and the add-on units they support (:func:`addon_units`).
* ``doc_*``: drug dose/waste documentation shared by the lines of one drug on one claim and date.
"""

from __future__ import annotations

import polars as pl

from scrubber import reference
from scrubber.policy import FALLBACK, PolicySet

CLAIM_DATE = ("claim_id", "date_of_service")
ENCOUNTER = ("member_id", "date_of_service")
_MINUTES_PER_DAY = 24 * 60


def has_modifier(*mods: str) -> pl.Expr:
    """True where the line carries any of ``mods``."""
    expr = pl.lit(False)
    for m in mods:
        expr = expr | pl.col("modifiers").list.contains(pl.lit(m))
    return expr


def infusing_minutes(start: str = "infusion_start", stop: str = "infusion_stop") -> pl.Expr:
    """Stop minus start in whole minutes; a stop clock-time before the start crosses midnight."""
    minutes = (pl.col(stop) - pl.col(start)).dt.total_minutes()
    crossed = (minutes < 0) & (minutes > -_MINUTES_PER_DAY)
    # A stop more than a day before the start is not a time anyone infused: treat as unknown.
    return pl.when(crossed).then(minutes + _MINUTES_PER_DAY).when(minutes >= 0).then(minutes)


def addon_units(minutes: pl.Expr, secondary_hydration: pl.Expr) -> pl.Expr:
    """Add-on hour units the documented infusing minutes support (RULES.md unit-miscalculation).

    Therapeutic, hydration, SC and chemo add-on hours: ``max(0, floor((T - 31) / 60))``, so
    61-90 minutes is 0 units and 91-150 is 1. 96361 as secondary hydration (no 96360 that day):
    0 at T <= 30, else ``1 + floor((T - 31) / 60)``.
    """
    timing = reference.manifest()["timing"]
    hour = timing["unit_minutes"]
    past = timing["addon_after_minutes"] + 1
    regular = ((minutes - past) / hour).floor().clip(lower_bound=0)
    secondary = pl.when(minutes < timing["secondary_hydration_min_minutes"]).then(0).otherwise(
        1 + ((minutes - past) / hour).floor()
    )
    return pl.when(secondary_hydration).then(secondary).otherwise(regular).cast(pl.Int64)


def _ceil_units(mg: pl.Expr, unit: pl.Expr) -> pl.Expr:
    # 1e-9 guards against 35000/500 landing a hair above 70 in floating point.
    return (mg / unit - 1e-9).ceil().cast(pl.Int64)


def _with_policy(lines: pl.LazyFrame, policies: PolicySet) -> pl.LazyFrame:
    params = policies.line_parameters()
    return (
        lines.with_columns(pl.col("payer").str.strip_chars().str.to_uppercase().alias("payer_key"))
        .join(params["payers"].lazy(), on="payer_key", how="left")
        .with_columns(pl.col("policy").fill_null(FALLBACK))
        .join(params["params"].lazy(), on="policy", how="left")
        .join(params["caps"].lazy().rename({"cap": "pol_cap"}), on=["policy", "procedure_code"], how="left")
        .with_columns(
            pl.col("place_of_service").is_in(pl.col("pol_home_pos")).fill_null(False).alias("is_home"),
        )
    )


def _with_reference(lines: pl.LazyFrame) -> pl.LazyFrame:
    adm = reference.admin_codes().select(
        pl.col("code").alias("procedure_code"),
        *[pl.col(c).alias(f"adm_{c}") for c in reference.admin_codes().columns if c not in ("code", "source")],
    )
    ig = reference.immune_globulins().select(
        pl.col("code").alias("procedure_code"),
        pl.col("product").alias("ig_product"),
        pl.col("route").alias("ig_route"),
        pl.col("unit_mg").alias("ig_unit_mg"),
        pl.col("single_dose").alias("ig_single_dose"),
    )
    return (
        lines.join(adm.lazy(), on="procedure_code", how="left")
        .join(ig.lazy(), on="procedure_code", how="left")
        .with_columns(
            pl.col("ig_product").is_not_null().alias("is_ig"),
            pl.col("adm_role").is_not_null().alias("is_admin"),
            has_modifier("JW").alias("is_jw"),
            has_modifier("JZ").alias("is_jz"),
        )
    )


def _with_claim_date(lines: pl.LazyFrame) -> pl.LazyFrame:
    per_claim_date = lines.group_by(CLAIM_DATE).agg(
        pl.col("procedure_code").unique().sort().alias("cd_codes"),
        pl.col("procedure_code").filter(pl.col("is_jw")).unique().sort().alias("cd_jw_codes"),
        pl.col("procedure_code").filter(pl.col("is_admin")).unique().sort().alias("cd_admin_codes"),
    )
    return lines.join(per_claim_date, on=CLAIM_DATE, how="left")


def _with_timing(lines: pl.LazyFrame) -> pl.LazyFrame:
    own_times = pl.col("infusion_start").is_not_null() & pl.col("infusion_stop").is_not_null()
    lines = lines.with_columns(
        pl.when(own_times).then(infusing_minutes()).alias("own_minutes"),
        own_times.alias("has_own_times"),
    )
    initial = (
        lines.filter((pl.col("adm_role") == "initial") & pl.col("adm_time_based"))
        .sort("line_number")
        .group_by(*CLAIM_DATE, "adm_family")
        .agg(
            pl.col("own_minutes").drop_nulls().first().alias("init_minutes"),
            pl.col("observation_minutes").filter(pl.col("has_own_times")).first().alias("init_obs"),
        )
    )
    lines = lines.join(initial, on=[*CLAIM_DATE, "adm_family"], how="left")
    is_addon_timed = (pl.col("adm_role") == "addon") & pl.col("adm_time_based")
    secondary_hydration = (pl.col("procedure_code") == "96361") & ~pl.col("cd_codes").list.contains("96360")
    # Secondary hydration is timed on its own documented times only (RULES.md).
    minutes = (
        pl.when(pl.col("has_own_times"))
        .then(pl.col("own_minutes"))
        .when(~secondary_hydration)
        .then(pl.col("init_minutes"))
    )
    obs = (
        pl.when(pl.col("has_own_times"))
        .then(pl.col("observation_minutes"))
        .otherwise(pl.coalesce("observation_minutes", "init_obs"))
    )
    lines = lines.with_columns(
        pl.when(is_addon_timed | (pl.col("adm_role") == "initial")).then(minutes).alias("t_minutes"),
        pl.when(is_addon_timed | (pl.col("adm_role") == "initial")).then(obs).alias("t_obs"),
        pl.when(pl.col("has_own_times")).then(pl.lit("own")).otherwise(pl.lit("initial line")).alias("t_from"),
        secondary_hydration.alias("is_secondary_hydration"),
    )
    with_obs = pl.col("t_minutes") + pl.col("t_obs").fill_null(0)
    return lines.with_columns(
        pl.when(is_addon_timed)
        .then(addon_units(pl.col("t_minutes"), pl.col("is_secondary_hydration")))
        .alias("t_expected_units"),
        pl.when(is_addon_timed)
        .then(addon_units(with_obs, pl.col("is_secondary_hydration")))
        .alias("t_expected_units_with_obs"),
    )


def _with_drug_documentation(lines: pl.LazyFrame) -> pl.LazyFrame:
    key = [*CLAIM_DATE, "procedure_code"]
    docs = (
        lines.filter(pl.col("is_ig"))
        .sort("is_jw", "line_number")  # the administered (non-JW) line's documentation first
        .group_by(key)
        .agg(
            pl.col("drug_dose_mg").drop_nulls().first().alias("doc_dose_mg"),
            pl.col("drug_wasted_mg").drop_nulls().first().alias("doc_wasted_mg"),
        )
    )
    lines = lines.join(docs, on=key, how="left")
    dose = pl.coalesce("drug_dose_mg", "doc_dose_mg")
    waste = pl.coalesce("drug_wasted_mg", "doc_wasted_mg")
    unit = pl.col("ig_unit_mg")
    # max_horizontal ignores nulls, so guard: no documented dose means no expectation at all.
    administered = pl.when(dose.is_not_null()).then(pl.max_horizontal(_ceil_units(dose, unit), pl.lit(1)))
    jw_units = _ceil_units(dose + waste, unit) - _ceil_units(dose, unit)
    return lines.with_columns(
        dose.alias("doc_dose"),
        waste.alias("doc_waste"),
        pl.when(pl.col("is_ig") & ~pl.col("is_jw"))
        .then(administered)
        .when(pl.col("is_ig") & pl.col("is_jw"))
        .then(jw_units)
        .alias("drug_expected_units"),
    )


def enrich(lines: pl.DataFrame, policies: PolicySet) -> pl.DataFrame:
    """The enriched frame every check reads (collected once)."""
    lf = lines.lazy()
    lf = _with_policy(lf, policies)
    lf = _with_reference(lf)
    lf = _with_claim_date(lf)
    lf = _with_timing(lf)
    lf = _with_drug_documentation(lf)
    return lf.sort("row_id").collect(engine="in-memory")
