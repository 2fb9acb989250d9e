"""ncci-ptp-conflict: an NCCI procedure-to-procedure pair billed in one encounter without the modifier it allows.

**ncci-ptp-conflict** (error). Two codes of a shipped NCCI procedure-to-procedure pair billed in one
encounter on the same date of service: modifier indicator 0, never together (the column-2 line is
denied); 1, allowed when the column-2 line (or, since 2019, either line) carries 59, XE, XS, XP or
XU, or 25 on an E/M line (an
E/M with drug administration: only 25 on the E/M). The
pairs shipped: the infusion family's own pairs not already reported by `duplicate-initial-infusion`,
vascular access (36000, 36410, 96523) bundled into administration, 96372 with 96365/96374, and E/M:
99202-99215 and the hospital clinic visit G0463 (probe 28B D1) with drug administration need 25 on
the E/M; 99211 with drug administration is not paid
(IOM 100-04 ch.12 section 30.6.7). Values, indicators and table quarter are data.

Implementation. The pairs are ``scrubber/data/ncci_ptp.csv`` (:func:`scrubber.reference.ncci_pairs`;
``SCRUBBER_REFERENCE_DIR`` loads a newer CMS quarter): column 1, column 2, modifier indicator, the
dates of service it applies to and the setting (practitioner for professional claims, outpatient for
institutional, or both). Indicator 9 (not applicable) is ignored. The finding is on the column-2
line, the one the payer denies, and names the column-1 code(s) and line(s) billed with it in the
encounter (``enc_key``: member, date and billing provider; an institutional claim; a next-payer copy
apart) on the same date of service (a hospital claim's lines of two dates are no pair). Indicator 1
is bypassed by 59/XE/XS/XP/XU on the column-2 line, or on the column-1 line for
dates of service from ``ncci_rules.either_line_from`` (2019-07-01, MANIFEST.toml), or by 25 on the
E/M line of a pair with an E/M code (``ncci_rules.em_codes``); an E/M with drug administration only
by that 25 (59 or X{EPSU} on either line is no separately identifiable E/M); 25 on the drug administration line
instead is its own reason, with the fix that moves it. An E/M pair with indicator 0 (99211 with
drug administration in the practitioner table) is ``em_not_payable``: not paid with or without 25.
A policy with ``[ncci] em_pairs = false`` skips the pairs with an E/M code for its payers. One root
cause (:mod:`checks._counting`): a pair of two initial services (96365 with 96374 or 96360, 96413
with 96409...) is the one-initial rule's, reported by duplicate-initial-infusion with the hierarchy's
fix, never again here; so is a pair whose column-2 line that rule recodes or deletes whole (96360
after 96413 beside 96416: reported as 96361, which 96416 does not bundle, not also "delete it").
Cost: which encounters can hold a pair is a bit test of the line's ``enc_admin_mask`` against its
code's column-1 administration codes (no join on millions of lines); only lines of codes outside the
code table (E/M, vascular access) are matched by text, and the pairs are joined on the few candidate
lines.
"""

from __future__ import annotations

import polars as pl

from checks._counting import (
    distinct_site,
    edit_setting,
    pair_of_initial_services,
    recoded_by_one_initial_rule,
    setting_and_code,
)
from scrubber import reference
from scrubber.cards import load_card
from scrubber.enrich import beside_rejected_codes, has_modifier
from scrubber.registry import Check, Context

_SETTINGS = ("practitioner", "outpatient")
_TABLE_NAMES = {"practitioner": "practitioner", "outpatient": "outpatient hospital"}


def _pairs() -> pl.DataFrame:
    """The pairs each setting applies (``_setting``), indicator 0 or 1, not left to the one-initial
    rule, with the column-1 code's administration bit (``_bit1``, null outside the code table)."""
    pairs = reference.ncci_pairs().filter(pl.col("modifier_indicator").is_in([0, 1]) & ~pair_of_initial_services())
    per_setting = pl.concat([
        pairs.filter(pl.col("setting").is_in([s, "both"])).with_columns(pl.lit(s).alias("_setting"))
        for s in _SETTINGS
    ])
    bits = reference.code_table().filter(pl.col("adm_bit").is_not_null()).select(
        pl.col("procedure_code").alias("column1"), pl.col("adm_bit").alias("_bit1"))
    return per_setting.join(bits, on="column1", how="left").drop("setting")


def _by_setting_and_code(values: dict[str, pl.DataFrame], column: str) -> pl.Expr:
    """``values[setting]``'s ``column`` (keyed by ``column2``) for the line's setting and code: one
    gather from the two settings' arrays laid end to end (``code_idx``, then + the code table's
    length on institutional claims), no join and no per-setting branch."""
    arrays = [reference.by_code_idx(values[s].get_column("column2"), values[s].get_column(column)) for s in _SETTINGS]
    return pl.lit(pl.concat(arrays).fill_null(0)).gather(setting_and_code())


# A column-2 code whose column-1 partners include a code outside the code table (96377, 96401, an
# E/M) has this bit set in its partner mask; no administration code's bit uses it (reference.code_table
# gives administration codes bits 0-63 in table order, far fewer than 63 of them).
_TEXT_PARTNER = 1 << 63


def _candidates(lines: pl.LazyFrame, pairs: pl.DataFrame) -> pl.LazyFrame:
    """Lines whose code is column 2 of a pair whose column-1 code may be billed in the encounter: one
    filter, cheap on every line (a bit test of ``enc_admin_mask`` against the column-1 administration
    codes of the line's code and setting, gathered by ``code_idx``); the pairs decide on the few that
    pass. A column-1 code outside the code table keeps the line (the join with column-1 lines decides)."""
    assert reference.code_table().filter(pl.col("adm_bit") >= _TEXT_PARTNER).height == 0
    per_col2 = {s: pairs.filter(pl.col("_setting") == s).group_by("column2").agg(
        (pl.col("_bit1").fill_null(0).cast(pl.UInt64).bitwise_or()
         | pl.when(pl.col("_bit1").is_null().any()).then(pl.lit(_TEXT_PARTNER, pl.UInt64)).otherwise(0))
        .alias("_mask"),
    ) for s in _SETTINGS}
    partners = _by_setting_and_code(per_col2, "_mask")
    billed = pl.col("enc_admin_mask") | pl.lit(_TEXT_PARTNER, pl.UInt64)
    # Column 2 outside the code table (E/M, 36000, 36410, 96523): by text.
    known = set(reference.code_table().get_column("procedure_code").to_list())
    text2 = sorted(set(pairs.get_column("column2")) - known)
    return lines.filter(((billed & partners) != 0).fill_null(False)
                        | (pl.col("code_idx").is_null() & pl.col("procedure_code").is_in(text2)))


def find(lines: pl.LazyFrame, ctx: Context) -> pl.LazyFrame:
    pairs = _pairs()
    rules = reference.ncci_rules()
    em25 = reference.modifiers_with_role("separate_em")
    candidates = _candidates(lines, pairs).with_columns(
        edit_setting().alias("_setting"),
        distinct_site().alias("_d2"),
        has_modifier(*em25).alias("_m25_2"),
    )
    on_date = (pl.col("effective_from").is_null() | (pl.col("date_of_service") >= pl.col("effective_from"))) & (
        pl.col("effective_to").is_null() | (pl.col("date_of_service") <= pl.col("effective_to")))
    with_pairs = candidates.join(pairs.lazy(), left_on=["_setting", "procedure_code"],
                                 right_on=["_setting", "column2"], how="inner").filter(on_date)
    # The column-1 lines of those encounters, with the modifiers that can bypass the pair.
    # The lines of those encounters (an integer semi join: a few rows), whose code the join with the
    # pairs' column 1 then tests. A column-1 filter before it ran on every line with its text (the
    # optimiser pushes a filter below the semi join): 0.04 s of 2M lines for no candidate at all.
    encounters = candidates.select("enc_key").unique()
    partners = lines.join(encounters, on="enc_key", how="semi").select(
        "enc_key", "date_of_service", pl.col("procedure_code").alias("column1"), pl.col("row_id").alias("_row1"),
        pl.format("claim {} line {}", "claim_id", "line_number").alias("_where1"),
        distinct_site().alias("_d1"), has_modifier(*em25).alias("_m25_1"),
    )
    # PTP edits pair codes of one date of service (a multi-day hospital claim is one encounter, but
    # its lines of another date are no pair).
    found = with_pairs.join(partners, on=["enc_key", "date_of_service", "column1"], how="inner")
    found = found.filter(pl.col("_row1") != pl.col("row_id"))
    em1, em2 = reference.is_em(pl.col("column1")), reference.is_em(pl.col("procedure_code"))
    em_pair = em1 | em2
    found = found.filter(~em_pair | pl.col("pol_ncci_em"))
    em_line_25 = (em2 & pl.col("_m25_2")) | (em1 & pl.col("_m25_1"))
    drug_line_25 = (~em2 & pl.col("_m25_2")) | (~em1 & pl.col("_m25_1"))
    either_line = pl.col("date_of_service") >= pl.lit(rules["either_line_from"])
    # An E/M with drug administration is bypassed by 25 on the E/M line only (RULES.md: "need 25 on the
    # E/M"): 59 or X{EPSU}, on either line, does not stand for a separately identifiable E/M.
    em_with_admin = em1 != em2
    bypassed = (pl.col("modifier_indicator") == 1) & pl.when(em_with_admin).then(em_line_25).otherwise(
        pl.col("_d2") | (either_line & pl.col("_d1")) | (em_pair & em_line_25))
    reason = (
        pl.when((pl.col("modifier_indicator") == 0) & em_pair).then(pl.lit("em_not_payable"))
        .when(pl.col("modifier_indicator") == 0).then(pl.lit("pair_never"))
        .when(em_pair & drug_line_25).then(pl.lit("em_25_on_drug_line"))
        .when(em_pair).then(pl.lit("em_without_25"))
        .otherwise(pl.lit("pair_modifier"))
    )
    quarter = str(reference.edit_table_meta("ncci_ptp")["table_quarter"])
    found = found.filter(~bypassed).collect()  # (the few lines of a pair billed without its modifier)
    if found.height:
        found = found.join(recoded_by_one_initial_rule(lines, found.get_column("enc_key").unique()).collect(),
                           on="row_id", how="anti")
    return found.lazy().with_columns(reason.alias("reason")).group_by("row_id", "reason").agg(
        pl.col("column1").unique().sort(),
        pl.col("_where1").unique().sort().alias("with_lines"),
        pl.col("modifier_indicator").first().alias("indicator"),
        pl.col("_setting").first().replace_strict(_TABLE_NAMES, return_dtype=pl.String).alias("table"),
    ).with_columns(pl.lit(quarter).alias("quarter"))


def unevaluated(lines: pl.LazyFrame) -> pl.LazyFrame:
    """Lines whose code is column 2 of a pair whose column-1 code a rejected row of the encounter
    bills (its code read, another cell not): the pair's modifiers cannot be judged (probe 20B D2: a
    rejected 96365 left the good 99213's missing 25 neither reported nor counted)."""
    near = beside_rejected_codes(lines, pl.col("enc_rejected_mask"))
    if "enc_rejected_mask" not in lines.collect_schema():  # (no such row: the usual batch)
        return near.select("row_id")
    partners = _pairs().group_by("_setting", "column2").agg(
        pl.col("_bit1").fill_null(0).cast(pl.UInt64).bitwise_or().alias("_partners"))
    return near.with_columns(edit_setting().alias("_setting")).join(
        partners.lazy(), left_on=["_setting", "procedure_code"], right_on=["_setting", "column2"]).filter(
        (pl.col("enc_rejected_mask") & pl.col("_partners")) != 0).select("row_id")


CHECK = Check(card=load_card(__file__), find=find, unevaluated=unevaluated, reads_timing=True)
