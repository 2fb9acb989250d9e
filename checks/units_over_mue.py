"""units-over-mue: units of a code above its Medically Unlikely Edit (or a policy cap).

**units-over-mue** (error). Units of a code above its Medically Unlikely Edit for the setting
(practitioner table for professional claims, outpatient hospital table for institutional claims): MAI 1
per line; MAI 2 and 3 per member, date and provider (institutional: claim). The values, indicators and
table quarter are data. MAI 2 units above the MUE cannot be appealed; MAI 3 units may be paid on appeal
with documentation (a justification). 96371 is left to `over-cap-96371`, and units that
`duplicate-initial-infusion` reports are not reported again (one root cause); a second 96365 carrying
XS is over the practitioner MUE of 1 and is a justification (MAI 3). A policy cap replaces the MUE for
its code. 96376 has a practitioner MUE of 0: the message says it is a facility-only code.

Implementation. The MUE tables are ``scrubber/data/mue_practitioner.csv`` and ``mue_outpatient.csv``
(:func:`scrubber.reference.mue_table`; ``SCRUBBER_REFERENCE_DIR`` replaces them with a newer CMS
quarter), and the quarter each finding was checked against is a fact of the finding. A line's limit
is its policy's ``[caps]`` entry for the code when there is one (``pol_cap``, units per encounter),
else the MUE of its setting. Per line (MAI 1) the line's units are compared; per encounter (MAI 2, 3
and policy caps; ``enc_key``: member, date and billing provider, an institutional claim, a
next-payer copy apart) the units of the code are summed and each line whose units run past the
limit carries the units over (``excess_units``, the money at risk); lines with 59/XE/XS/XP/XU are
counted last, so the excess lands on the line that claims to be a separate service. MAI 1 excess and
MAI 2 excess are corrections, MAI 3 excess a justification (paid on appeal with the record), a
second initial service with XS over its MUE a justification whose record is the second vascular
access site, an MUE of 0 (96376 on a practitioner claim: CMS Policy) a correction that says the code
is not payable in that setting. One root cause (:mod:`checks._counting`): 96371 is over-cap-96371's,
and the units duplicate-initial-infusion reports are subtracted before counting (96365 x3 is two
extra initial services there, not also 2 units over the MUE here), decided from the lines, not from
that check having run. Cost: the MUE of codes of the code table is a gather on ``code_idx``; only
lines of other codes (E/M, codes a newer table adds) are looked up by text; the one full pass is the
sum per encounter and code, on an integer key; everything after works on the few lines over.
"""

from __future__ import annotations

import polars as pl

from checks._counting import CAP_CHECK_CODE, distinct_site, units_reported_elsewhere
from scrubber import reference
from scrubber.cards import load_card
from scrubber.enrich import code_is
from scrubber.registry import Check, Context

# What decides a line's limit: the MUE indicator (1 per line, 2 and 3 per encounter) or a policy cap.
_CAP = 9  # stands for "policy cap" beside the MAI values 1-3 in the ``_kind`` column
_TABLE_NAMES = {"practitioner": "practitioner services", "outpatient": "outpatient hospital services"}


def _lookup(table: pl.DataFrame, column: str) -> pl.Expr:
    """The table's ``column`` for the line's code, gathered by ``code_idx`` (null for other codes)."""
    values = reference.by_code_idx(table.get_column("code"), table.get_column(column))
    if values.null_count() == values.len():  # (a gather from an all-null literal mistypes in Polars 2.1)
        return pl.lit(None, values.dtype)
    return pl.lit(values).gather(pl.col("code_idx"))


def _limits(lines: pl.LazyFrame) -> pl.LazyFrame:
    """Lines that have a limit: ``_inst``, ``mue`` / ``mai`` (the setting's MUE, if any), ``_limit``
    and ``_kind`` (MAI 1-3, or :data:`_CAP` when the policy caps the code), and ``_ck`` (a small
    integer per code, for the encounter key)."""
    prac, out = reference.mue_table("practitioner"), reference.mue_table("outpatient")
    inst = (pl.col("claim_type") == "institutional").fill_null(False)
    idx = pl.col("code_idx")
    # Codes of the code table (administration codes, immune globulins): gathered by code_idx.
    by_idx = lines.filter(idx.is_not_null()).with_columns(
        inst.alias("_inst"),
        pl.when(inst).then(_lookup(out, "mue")).otherwise(_lookup(prac, "mue")).cast(pl.Int64).alias("mue"),
        pl.when(inst).then(_lookup(out, "mai")).otherwise(_lookup(prac, "mai")).cast(pl.Int8).alias("mai"),
        idx.cast(pl.UInt32).alias("_ck"),
    )
    # Any other code with an MUE or a policy cap (an E/M; a code a newer CMS quarter adds): by text,
    # on those lines only.
    known = set(reference.code_table().get_column("procedure_code").to_list())
    others = sorted((set(prac.get_column("code")) | set(out.get_column("code"))) - known)
    other_codes = pl.DataFrame({"procedure_code": others}, schema={"procedure_code": pl.String()}).with_row_index(
        "_ck", offset=256)
    by_text = lines.filter(idx.is_null() & pl.col("procedure_code").is_not_null()
                           & (pl.col("procedure_code").is_in(others) | pl.col("pol_cap").is_not_null()))
    by_text = by_text.with_columns(inst.alias("_inst")).join(
        other_codes.lazy(), on="procedure_code", how="left").join(
        prac.lazy().select(pl.col("code").alias("procedure_code"), pl.col("mue").alias("_pm"),
                           pl.col("mai").alias("_pa")), on="procedure_code", how="left").join(
        out.lazy().select(pl.col("code").alias("procedure_code"), pl.col("mue").alias("_om"),
                          pl.col("mai").alias("_oa")), on="procedure_code", how="left").with_columns(
        pl.when(pl.col("_inst")).then(pl.col("_om")).otherwise(pl.col("_pm")).cast(pl.Int64).alias("mue"),
        pl.when(pl.col("_inst")).then(pl.col("_oa")).otherwise(pl.col("_pa")).cast(pl.Int8).alias("mai"),
        # A capped code in neither table: one key per code text is enough (few such lines).
        pl.coalesce(pl.col("_ck").cast(pl.UInt32),
                    pl.col("procedure_code").hash().mod(1 << 20).cast(pl.UInt32) + pl.lit(1 << 10, pl.UInt32))
        .alias("_ck"),
    ).drop("_pm", "_pa", "_om", "_oa")
    both = pl.concat([by_idx, by_text.select(by_idx.collect_schema().names())], how="vertical_relaxed")
    both = both.filter(pl.col("procedure_code") != CAP_CHECK_CODE)
    return both.with_columns(
        pl.coalesce(pl.col("pol_cap"), pl.col("mue")).alias("_limit"),
        pl.when(pl.col("pol_cap").is_not_null()).then(pl.lit(_CAP, pl.Int8)).otherwise(pl.col("mai")).alias("_kind"),
    ).filter(pl.col("_limit").is_not_null())


def find(lines: pl.LazyFrame, ctx: Context) -> pl.LazyFrame:
    limited = _limits(lines)
    per_line = limited.filter(pl.col("_kind") == 1)
    per_enc = limited.filter(pl.col("_kind") != 1).with_columns(
        (pl.col("enc_key").cast(pl.UInt64) * (1 << 32) + pl.col("_ck").cast(pl.UInt64)).alias("_k"))
    # The one pass over every line with a per-encounter limit: the sum per encounter and code.
    over_keys = per_enc.group_by("_k").agg(pl.col("units").sum().alias("_sum"), pl.col("_limit").min()).filter(
        pl.col("_sum") > pl.col("_limit")).select("_k")
    candidates = pl.concat([
        per_line.filter(pl.col("units") > pl.col("_limit")).with_columns(pl.lit(None, pl.UInt64).alias("_k")),
        per_enc.join(over_keys, on="_k", how="semi"),
    ], how="vertical")
    # One root cause: units duplicate-initial-infusion reports on these lines are not counted again.
    encounters = candidates.select("enc_key").unique()
    initial = lines.filter(code_is(adm_role="initial")).join(encounters, on="enc_key", how="semi")
    reported = units_reported_elsewhere(initial)
    counted = candidates.join(reported, on="row_id", how="left").with_columns(
        (pl.col("units") - pl.col("reported_units").fill_null(0.0)).alias("_counted"),
        distinct_site().alias("_distinct"),
    )
    ordered = counted.sort("_k", "_distinct", "claim_id", "line_number", nulls_last=True).with_columns(
        pl.when(pl.col("_kind") == 1).then(pl.col("_counted"))
        .otherwise(pl.col("_counted").cum_sum().over("_k")).alias("_through"),
        pl.when(pl.col("_kind") == 1).then(pl.col("_counted"))
        .otherwise(pl.col("_counted").sum().over("_k")).alias("billed"),
        pl.when(pl.col("_kind") == 1).then(pl.lit(1, pl.UInt32))
        .otherwise(pl.len().over("_k")).alias("_lines"),
    )
    excess = pl.min_horizontal(pl.col("_counted"), pl.col("_through") - pl.col("_limit")).clip(lower_bound=0)
    over = ordered.with_columns(excess.alias("excess_units")).filter(pl.col("excess_units") > 0)
    whole_line = pl.col("excess_units") >= pl.col("units")
    setting = pl.when(pl.col("_inst")).then(pl.lit("outpatient")).otherwise(pl.lit("practitioner"))
    reason = (
        pl.when(pl.col("_kind") == _CAP).then(
            pl.when(whole_line).then(pl.lit("over_policy_cap_line")).otherwise(pl.lit("over_policy_cap")))
        .when(pl.col("_limit") == 0).then(pl.lit("mue_zero"))
        .when(pl.col("_kind") == 1).then(pl.lit("over_mue_line"))
        .when(pl.col("_kind") == 2).then(
            pl.when(whole_line).then(pl.lit("over_mue_policy_line")).otherwise(pl.lit("over_mue_policy")))
        .when(pl.col("_distinct") & code_is(adm_role="initial")).then(pl.lit("second_site_over_mue"))
        .otherwise(pl.lit("over_mue_clinical"))
    )
    quarter = {s: str(reference.edit_table_meta(key)["table_quarter"]) for s, key in reference.MUE_SETTINGS.items()}
    rationale = pl.concat([
        reference.mue_table(s).select(pl.lit(s).alias("_setting"), pl.col("code").alias("procedure_code"), "rationale")
        for s in reference.MUE_SETTINGS
    ])
    return over.with_columns(setting.alias("_setting")).join(
        rationale.lazy(), on=["_setting", "procedure_code"], how="left").select(
        "row_id",
        reason.alias("reason"),
        pl.col("_limit").alias("mue"),
        pl.col("mai"),
        pl.col("_limit").alias("cap"),
        pl.col("billed").cast(pl.Float64),
        pl.col("excess_units").cast(pl.Float64),
        (pl.col("units") - pl.col("excess_units")).cast(pl.Float64).alias("correct_units"),
        pl.col("reported_units").fill_null(0.0).alias("reported_units"),
        pl.col("_lines").alias("lines_counted"),
        pl.col("_setting").replace_strict(_TABLE_NAMES, return_dtype=pl.String).alias("table"),
        pl.col("_setting").replace_strict(quarter, return_dtype=pl.String).alias("quarter"),
        pl.col("rationale"),
    )


CHECK = Check(card=load_card(__file__), find=find)
