"""The facts checks share: reference data, payer policy, and per-claim/per-encounter aggregates.

Two kinds of facts, for one reason (issue 5: on 2M lines every full-height column costs Polars
20-40 ms, and there were fifty):

* **Materialised by** :func:`enrich`, once per run, because they need a pass over the whole batch
  or are read by most checks: ``code_idx`` (the line's row in
  :func:`scrubber.reference.code_table`), ``policy`` and its dates and flags, the modifier flags
  ``is_jw`` / ``is_jz``, the claim + date key ``cd_key`` with ``cd_admin_mask`` (administration
  codes billed that day, one bit each), ``cd_jw_mask`` (IG codes billed on a JW line) and
  ``cd_dose_mask`` (IG codes billed on a line without JW), and the
  encounter (:func:`encounters`, RULES.md "Encounter"): ``enc_key``, its ``enc_admin_mask`` (the
  administration codes billed in the encounter, rejected rows' readable codes included) and
  ``enc_anchored_mask`` (those that are initial services, stand-alone codes, or add-ons anchored by
  them, transitively: RULES.md "Anchored"), ``enc_unreadable`` (the encounter's lines may be
  incomplete: a row of it whose code is unknown, or a rejected drug line), ``cob_layer`` /
  ``copy_of`` (next-payer copies), and
  the facts borrowed from a sibling line: ``doc_dose_mg`` / ``doc_wasted_mg`` (the drug's
  documentation on the claim and date, on IG lines).
* **Derived on demand** by the expressions below, which a check applies after it has filtered the
  lines it cares about: code attributes (:func:`with_codes`), modifier roles
  (:func:`with_modifier_roles`), drug units (:func:`with_drug_units`). A check filters with the
  cheap set tests (:func:`code_is`) first. Infusion time (minutes, episodes, add-on units per
  encounter) is :mod:`scrubber.timing`'s.

Policy columns (:func:`_policy_columns`): ``policy``, ``payer_kind`` (``medicare`` or
``commercial``: which words findings speak), ``pol_ncci_addons`` (add-ons anchored by the CMS NCCI
add-on code edits), ``pol_ncci_em`` (the policy applies NCCI pairs with an E/M code), ``pol_cov_home_iv`` /
``pol_cov_home_sc`` / ``pol_cov_other`` (the policy names a covered list for that setting), ``pol_jw_from``,
``pol_jz_from``, ``pol_jwjz_home_from`` (JW/JZ at home only from this date), ``pol_kx_from`` (KX for
home SC immune globulin from this date), ``pol_cap`` (the policy's ``[caps]`` units per encounter for
the line's code, any code), ``is_home`` (POS in the policy's one home set, ``home_pos``),
``is_home_ivig`` (POS where the home IVIG benefit pays the drug and Q2052, ``home_ivig_pos``),
``jwjz_exempt`` (POS exempt from JW/JZ), ``kx_ok`` (the line carries one of the policy's accepted
KX/GA/GZ/GY; tested on home lines only).

Lines come out with each claim's rows together (in input order when they already were, as
exports write them).
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache, reduce
from typing import Any

import polars as pl

from scrubber import reference
from scrubber.grouping import claim_order, claim_runs, run_starts, shared_keys, sorted_distinct
from scrubber.payer_names import payer_keys
from scrubber.policy import PolicySet
from scrubber.schema import PAYER_SEQUENCES, PROCEDURE_CODE_RE

# cd_key packs (claim run, date) into one UInt64: the date as days since 1970 made non-negative in
# 23 bits (every year 0000-9999 fits), the claim run above it. A sub-key of a claim and date (its
# drug, its administration family) adds 6 more bits below (codes and families number < 64).
_DAY_BITS = 23
_DAY_OFFSET = 1 << (_DAY_BITS - 1)
_SUB_BITS = 6


# --------------------------------------------------------------------------- expressions for checks


def code(attribute: str) -> pl.Expr:
    """The code-table value ``attribute`` (``adm_role``, ``ig_unit_mg``, ...) of the line's code.

    The table is padded with nulls to every UInt8 value and a null ``code_idx`` (a code outside the
    table) reads the last one: a gather with no null index is 2.5x cheaper (2M lines: 0.016 -> 0.006 s).
    """
    values = reference.code_table().get_column(attribute)
    padded = pl.concat([values, pl.repeat(None, _NO_CODE + 1 - values.len(), dtype=values.dtype, eager=True)])
    return pl.lit(padded).gather(pl.col("code_idx").fill_null(_NO_CODE)).alias(attribute)


_NO_CODE = 255  # the largest UInt8: where code() reads a null code_idx (tables hold at most 64 codes each)


def code_is(**criteria: Any) -> pl.Expr:
    """True where the line's code has these code-table values, e.g. ``code_is(adm_role="addon")``.

    A set test on the small integer ``code_idx``: cheap enough to filter millions of lines with.
    ``None`` as a value means "has any value" (``code_is(ig_product=None)``: an immune globulin).
    """
    indices = _code_indices(tuple(sorted(criteria.items())))
    return pl.col("code_idx").is_in(pl.Series(indices, dtype=pl.UInt8()).implode()).fill_null(False)


@cache
def _code_indices(criteria: tuple[tuple[str, Any], ...]) -> tuple[int, ...]:
    table = reference.code_table().with_row_index("_idx")
    for column, value in criteria:
        table = table.filter(pl.col(column).is_not_null() if value is None else pl.col(column) == value)
    return tuple(table.get_column("_idx").to_list())


def is_ig() -> pl.Expr:
    """An immune-globulin drug line (``scrubber/data/immune_globulins.csv``)."""
    return code_is(ig_product=None)


def with_codes(lines: pl.LazyFrame, *attributes: str) -> pl.LazyFrame:
    """``lines`` with the given code-table columns added."""
    return lines.with_columns(code(a) for a in attributes)


def has_modifier(*mods: str) -> pl.Expr:
    """True where the line carries any of ``mods``."""
    return reduce(lambda a, b: a | b, (pl.col("modifiers").list.contains(pl.lit(m)) for m in mods), pl.lit(False))


def with_modifier_roles(lines: pl.LazyFrame) -> pl.LazyFrame:
    """``has_distinct_site_modifier`` (59/XE/XS/XP/XU), ``has_route_iv_modifier`` (JA) and
    ``has_route_sc_modifier`` (JB), from ``scrubber/data/modifiers.csv``."""
    return lines.with_columns(
        has_modifier(*reference.modifiers_with_role("distinct_site")).alias("has_distinct_site_modifier"),
        has_modifier(*reference.modifiers_with_role("route_iv")).alias("has_route_iv_modifier"),
        has_modifier(*reference.modifiers_with_role("route_sc")).alias("has_route_sc_modifier"),
    )


def rejected_codes_in_masks(lines: pl.LazyFrame) -> bool:
    """Rejected rows added codes to the code masks of this batch (enrich builds
    ``enc_rejected_anchor_mask`` only then): only then do :func:`checked_admin_masks` differ."""
    return "enc_rejected_anchor_mask" in lines.collect_schema()


def beside_rejected_codes(lines: pl.LazyFrame, mask: int | pl.Expr) -> pl.LazyFrame:
    """The ``lines`` of encounters whose rejected rows bill a code of ``mask`` (administration bits,
    or an expression of them per line): what a check judging two billed services together cannot
    decide there (:func:`_rejected_in_encounter`), counted not evaluated. None in most batches (no
    such rows: no ``enc_rejected_mask`` column)."""
    if "enc_rejected_mask" not in lines.collect_schema():
        return lines.filter(pl.lit(False))
    bits = pl.lit(mask, pl.UInt64) if isinstance(mask, int) else mask
    return lines.filter(((pl.col("enc_rejected_mask") & bits) != 0).fill_null(False))


def checked_admin_masks(lines: pl.LazyFrame, of: pl.LazyFrame) -> pl.LazyFrame:
    """``enc_key`` -> ``checked_admin_mask``: the administration codes the checked lines of the
    encounters of ``of`` bill. ``enc_admin_mask`` also holds the readable codes of rejected rows
    (:func:`_with_rejected_codes`: they anchor add-ons, so our rejection invents no "no primary"),
    but such a code is no evidence for a finding nor a word of one (probe 18B: a rejected 96365
    beside a home J1559 made a route error; a rejected 96367 turned a 96366's "no primary" into
    "billed with 96367"). For the few encounters a check flags, not every line."""
    return lines.filter(code_is(adm_role=None)).join(of.select("enc_key").unique(), on="enc_key", how="semi").group_by(
        "enc_key").agg(code("adm_bit").cast(pl.UInt64).bitwise_or().alias("checked_admin_mask")).with_columns(
        pl.col("checked_admin_mask").cast(pl.UInt64))  # (typed also where no group is left: a Null column)


def documented_iv() -> pl.Expr:
    """The line documents IV administration: ``route`` IV or a JA modifier (after
    :func:`with_modifier_roles`); false, not null, where nothing is documented."""
    return (pl.col("route") == "IV").fill_null(False) | pl.col("has_route_iv_modifier")


def documented_sc() -> pl.Expr:
    """The line documents SC administration: ``route`` SC or a JB modifier (see :func:`documented_iv`)."""
    return (pl.col("route") == "SC").fill_null(False) | pl.col("has_route_sc_modifier")


def billed(mask: int, column: str = "enc_admin_mask") -> pl.Expr:
    """True where any of the codes in ``mask`` (see :func:`scrubber.reference.admin_bits`) is billed."""
    return (pl.col(column) & pl.lit(mask, pl.UInt64)) != 0


def codes_text(column: str = "enc_admin_mask", within: int | None = None) -> pl.Expr:
    """The administration codes of a mask column as text ("96365, 96366"), in code order; with
    ``within`` (a mask of :func:`scrubber.reference.admin_bits`), only those codes."""
    table = reference.code_table().filter(pl.col("adm_bit").is_not_null())
    parts = [
        pl.when((pl.col(column) & pl.lit(bit, pl.UInt64)) != 0).then(pl.lit(c))
        for c, bit in table.select("procedure_code", "adm_bit").iter_rows()
        if within is None or bit & within
    ]
    return pl.concat_str(parts, separator=", ", ignore_nulls=True)


def _ceil_units(mg: pl.Expr, unit: pl.Expr) -> pl.Expr:
    """Billing units of ``mg``, rounded up to the next unit (IOM 100-04 ch.17)."""
    # 1e-9 guards against 35000/500 landing a hair above 70 in floating point.
    return (mg / unit - 1e-9).ceil().cast(pl.Int64)


def dose_units(dose: pl.Expr, unit: pl.Expr) -> pl.Expr:
    """Units an administered dose bills: max(1, ceil(dose / unit)); null without a documented dose
    (``max_horizontal`` alone would read a null dose as 1 unit). The one rounding of a dose, for every
    check that needs it (RULES.md unit-miscalculation, missing-modifier)."""
    return pl.when(dose.is_not_null()).then(pl.max_horizontal(_ceil_units(dose, unit), pl.lit(1)))


def waste_units(dose: pl.Expr, waste: pl.Expr, unit: pl.Expr) -> pl.Expr:
    """Billing units the discarded amount adds to the dose: ceil((dose + waste) / unit) - ceil(dose /
    unit) (0: the waste fits inside the rounded-up unit; null without dose or waste)."""
    return _ceil_units(dose + waste, unit) - _ceil_units(dose, unit)


def with_drug_units(lines: pl.LazyFrame) -> pl.LazyFrame:
    """Documented dose and waste of IG lines (own, else the drug's other line that day) and the units
    they support: ``doc_dose``, ``doc_waste``, ``drug_expected_units`` (RULES.md unit-miscalculation)."""
    dose = pl.coalesce("drug_dose_mg", "doc_dose_mg")
    waste = pl.coalesce("drug_wasted_mg", "doc_wasted_mg")
    lines = with_codes(lines, "ig_unit_mg").with_columns(dose.alias("doc_dose"), waste.alias("doc_waste"))
    unit = pl.col("ig_unit_mg")
    return lines.with_columns(
        pl.when(unit.is_not_null() & ~pl.col("is_jw"))
        .then(dose_units(pl.col("doc_dose"), unit))
        .when(unit.is_not_null() & pl.col("is_jw"))
        .then(waste_units(pl.col("doc_dose"), pl.col("doc_waste"), unit))
        .alias("drug_expected_units"),
    )


# --------------------------------------------------------------------------- materialised once per run


def _code_index(lines: pl.DataFrame) -> pl.Series:
    """``code_idx``: the line's row in :func:`scrubber.reference.code_table`, null for other codes.

    A non-strict cast to an Enum of the table's codes (its physical value is that row; a code outside
    the table becomes null): 2.5x cheaper than a ``replace_strict`` lookup on 2M lines."""
    table = reference.code_table().get_column("procedure_code")
    return lines.get_column("procedure_code").cast(pl.Enum(table), strict=False).to_physical().cast(
        pl.UInt8).alias("code_idx")


def _policy_columns(lines: pl.DataFrame, policies: PolicySet) -> list[pl.Series]:
    """The policy of each line's payer and the policy facts checks read, as plain columns.

    The payer is mapped once per distinct name (:meth:`PolicySet.policy_for`: exact names, then
    patterns such as the Medicare contractors'), never per line. Dates are per policy
    (``pol_jw_from``, ``pol_jz_from``, ``pol_jwjz_home_from``: JW/JZ at home from that date,
    ``pol_kx_from``: KX for home SC immune globulin from that date, ``pol_jb_from``: JB on it and its
    pump from that date; null = never / no such rule);
    ``is_home`` is the POS in the policy's one home set (``home_pos``), ``is_home_ivig`` in its home
    IVIG set (``home_ivig_pos``); ``kx_ok`` (a modifier the
    policy accepts for KX) is tested on home lines of policies with a KX date only.

    Payers and places of service take a handful of values in millions of lines, so each is turned
    into a small integer once (an Enum of its distinct values: 4x cheaper than a string lookup per
    line on 2M lines) and every per-policy or per-(policy, POS) fact is decided by comparing those
    integers (:func:`_per_policy`).
    """
    pols = list(policies.policies.values())
    number = {p.name: i for i, p in enumerate(pols)}
    names, payer_index = _small_codes(lines.get_column("payer").fill_null(""))
    policy_of = pl.Series([number[policies.policy_for(n)] for n in names.to_list()], dtype=pl.UInt32())
    index = policy_of.gather(payer_index).alias("_p")
    pos_names, pos_index = _small_codes(lines.get_column("place_of_service"))
    pos_index = pos_index.cast(pl.UInt32).alias("_pos")
    frame = pl.DataFrame([index, pos_index, lines.get_column("code_idx")])

    def pos_in(sets: list[tuple[str, ...]]) -> pl.Expr:
        """True where the line's POS is in its policy's set: per group of policies with the same set,
        a test of the small integers ``_p`` and ``_pos``."""
        in_set = [tuple(i for i, code in enumerate(pos_names.to_list()) if code in codes) for codes in sets]
        parts = [_index_in("_pos", list(chosen)) if len(set(in_set)) == 1 else
                 _index_in("_p", [i for i, s in enumerate(in_set) if s == chosen]) & _index_in("_pos", list(chosen))
                 for chosen in dict.fromkeys(in_set) if chosen]
        return reduce(lambda a, b: a | b, parts, pl.lit(False)).fill_null(False)

    out = frame.select(
        pl.col("_p"),  # keeps the frame full height when every fact below is one value for all policies
        _per_policy([p.name for p in pols], pl.String()).alias("policy"),
        _per_policy([p.kind for p in pols], pl.String()).alias("payer_kind"),
        _per_policy([p.addon_primaries == "ncci" for p in pols], pl.Boolean()).alias("pol_ncci_addons"),
        _per_policy([p.jw_required_from for p in pols], pl.Date()).alias("pol_jw_from"),
        _per_policy([p.jz_required_from for p in pols], pl.Date()).alias("pol_jz_from"),
        _per_policy([p.jw_jz_home_from for p in pols], pl.Date()).alias("pol_jwjz_home_from"),
        _per_policy([p.kx_required_from for p in pols], pl.Date()).alias("pol_kx_from"),
        _per_policy([p.jb_required_from for p in pols], pl.Date()).alias("pol_jb_from"),
        _per_policy([p.ncci_em_pairs for p in pols], pl.Boolean()).alias("pol_ncci_em"),
        # Whether the policy names a covered-diagnosis list for each IG setting (none: coverage not evaluated).
        *[_per_policy([bool(p.coverage.get(setting)) for p in pols], pl.Boolean()).alias(f"pol_cov_{setting}")
          for setting in ("home_iv", "home_sc", "other")],
        pos_in([p.home_pos for p in pols]).alias("is_home"),
        pos_in([p.home_ivig_pos for p in pols]).alias("is_home_ivig"),
        pos_in([p.jw_jz_exempt_pos for p in pols]).alias("jwjz_exempt"),
    ).drop("_p")
    # kx_ok only matters where KX can be asked for (home lines of a policy with a KX date): test
    # the modifiers of those rows only.
    kx_policies = [i for i, p in enumerate(pols) if p.kx_required_from]
    rows = (out.get_column("is_home") & index.is_in(kx_policies)).arg_true()
    at_home = pl.DataFrame([index[rows], lines.get_column("modifiers")[rows]]).select(
        pl.coalesce(*[pl.when(pl.col("_p") == i).then(
            pl.col("modifiers").list.eval(pl.element().is_in(list(pols[i].kx_accepted))).list.any())
            for i in kx_policies], pl.lit(False))
    ).to_series()
    kx_ok = pl.repeat(False, lines.height, eager=True).scatter(rows, at_home).alias("kx_ok")
    return [*out.get_columns(), kx_ok, _policy_caps(lines, pols, index)]


def _small_codes(values: pl.Series) -> tuple[pl.Series, pl.Series]:
    """The distinct values of a text column that takes a handful of values (payer, place of
    service), sorted, and each row's position among them (null for null).

    Lines of a claim repeat them, so the distinct values are found among the first rows of runs of
    equal values (a few hundred thousand of 2M lines) and spread back by run: 0.05 -> 0.035 s."""
    run = values.rle_id()
    heads = values.filter(run_starts(run))
    names = heads.drop_nulls().unique().sort()
    return names, heads.cast(pl.Enum(names)).to_physical().gather(run)


def _index_in(column: str, indices: list[int]) -> pl.Expr:
    """True where the small integer ``column`` is one of ``indices``."""
    if not indices:
        return pl.lit(False)
    if len(indices) == 1:
        return pl.col(column) == indices[0]
    return pl.col(column).is_in(pl.Series(indices, dtype=pl.UInt32).implode())


def _per_policy(values: list[Any], dtype: pl.DataType) -> pl.Expr:
    """Each line's policy's value of a policy fact (``values[i]`` for policy ``i``, read from ``_p``).

    One value for every policy is a constant; a flag or a date is one comparison of ``_p`` per
    distinct value (a gather from a literal table cost 5-15x more on 2M lines); text, a gather (the
    cheapest way to build 2M strings)."""
    distinct = list(dict.fromkeys(values))
    if len(distinct) == 1:
        return pl.lit(distinct[0], dtype)
    if dtype == pl.String():
        return pl.lit(pl.Series(values, dtype=dtype)).gather(pl.col("_p"))
    if dtype == pl.Boolean():
        return _index_in("_p", [i for i, v in enumerate(values) if v])
    chosen: pl.Expr = pl.lit(distinct[-1], dtype)
    for value in distinct[:-1]:
        chosen = pl.when(_index_in("_p", [i for i, v in enumerate(values) if v == value])).then(
            pl.lit(value, dtype)).otherwise(chosen)
    return chosen


def _policy_caps(lines: pl.DataFrame, pols: list[Any], index: pl.Series) -> pl.Series:
    """``pol_cap``: the line's policy's ``[caps]`` entry for its code (units per encounter), or null.

    Codes of the code table by a gather on ``code_idx``; a cap on any other code (an E/M, a drug
    outside the IG table) by a lookup on only the lines billing such a code, so that no configured
    cap is ignored (units-over-mue enforces them).
    """
    table = reference.code_table().get_column("procedure_code")
    # One row of _NO_CODE + 1 entries per policy, null past the table: a null code_idx reads the pad
    # (see code(): a gather with no null index is 2.5x cheaper).
    pad = [None] * (_NO_CODE + 1 - table.len())
    caps = pl.Series([cap for p in pols for cap in [*(p.caps.get(c) for c in table.to_list()), *pad]],
                     dtype=pl.Int64())
    if caps.null_count() == caps.len():  # no policy caps a code of the table: nothing to look up per line
        out = pl.DataFrame([pl.repeat(None, lines.height, dtype=pl.Int64, eager=True).alias("pol_cap")])
    else:
        frame = pl.DataFrame([index.alias("_p"), lines.get_column("code_idx")])
        out = frame.select(pl.lit(caps).gather(
            pl.col("_p") * (_NO_CODE + 1) + pl.col("code_idx").fill_null(_NO_CODE).cast(pl.UInt32)).alias("pol_cap"))
    others = {c for p in pols for c in p.caps} - set(table.to_list())
    if not others:
        return out.to_series()
    rows = (lines.get_column("procedure_code").is_in(pl.Series(sorted(others)).implode())).arg_true()
    keys = pl.DataFrame(
        [(i, code, cap) for i, p in enumerate(pols) for code, cap in p.caps.items() if code in others],
        schema={"_p": pl.UInt32(), "procedure_code": pl.String(), "pol_cap": pl.Int64()}, orient="row",
    )
    found = pl.DataFrame([index.gather(rows).alias("_p"), lines.get_column("procedure_code").gather(rows)]).join(
        keys, on=["_p", "procedure_code"], how="left", maintain_order="left").get_column("pol_cap")
    return out.to_series().scatter(rows, found)


_MASKS = ("cd_admin_mask", "cd_jw_mask", "cd_dose_mask")


def _line_bits() -> list[pl.Expr]:
    """One line's contribution to its claim and date's code masks (needs ``code_idx``, ``is_jw``):
    its administration code's bit, and its IG code's bit on a JW line or on a line without JW."""
    return [
        code("adm_bit").fill_null(0).alias("cd_admin_mask"),
        pl.when(pl.col("is_jw")).then(code("ig_bit")).otherwise(0).fill_null(0).alias("cd_jw_mask"),
        pl.when(~pl.col("is_jw")).then(code("ig_bit")).otherwise(0).fill_null(0).alias("cd_dose_mask"),
    ]


def _is_jw() -> pl.Expr:
    return has_modifier(*reference.modifiers_with_role("waste")).alias("is_jw")


def _claim_date_key(lines: pl.DataFrame, claims: pl.Series) -> pl.Series:
    """``cd_key``: the claim run (``claims``, :func:`scrubber.grouping.claim_runs`) and the date packed in
    one UInt64 (null where the date is). One expression on Int64 (the claim run is below 2^32, so
    the packed key is below 2^56): 6 full-height temporaries of the Series arithmetic become 2 (2M lines:
    0.025 -> 0.012 s CPU)."""
    return pl.DataFrame([claims.alias("_claim"), lines.get_column("date_of_service")]).select(
        (pl.col("_claim").cast(pl.Int64) * (1 << _DAY_BITS) + pl.col("date_of_service").cast(pl.Int64) + _DAY_OFFSET)
        .cast(pl.UInt64).alias("cd_key")).to_series()


def _claim_date(lines: pl.DataFrame, cd_runs: tuple[pl.Series, pl.Series] | None) -> pl.DataFrame:
    """The two code masks of each line's claim and date (``cd_key`` on ``lines``; ``cd_runs``: its
    :func:`_claim_date_runs`, computed once for this and the encounters)."""
    # Materialise the bits before aggregating: a code() lookup inside a window is evaluated group
    # by group (1.1 s instead of 0.2 s on 2M lines).
    frame = pl.DataFrame([lines.get_column("code_idx"), lines.get_column("is_jw")])
    admin, jw, dose = _line_bits()
    if cd_runs:
        # Claims together and each claim's dates in order (as exports write them): each claim and
        # date is one run, so aggregate per run and spread back by position. Only rows with a bit
        # set are aggregated (a drug or E/M line adds nothing to the administration mask, a line
        # without JW nothing to the JW mask; the bits are looked up on those lines only: administration
        # codes found by a set test on code_idx first, 0.035 -> 0.010 s CPU on 2M lines).
        group, firsts = cd_runs
        group = group.alias("_g")
        frame = frame.hstack([group])
        return pl.DataFrame([
            _or_per_run(frame.filter(code_is(adm_bit=None)).select(admin, "_g"), group, firsts.len()),
            _or_per_run(frame.filter("is_jw").select(jw, "_g").filter(pl.col("cd_jw_mask") != 0), group,
                        firsts.len()),
            _or_per_run(frame.filter(~pl.col("is_jw") & code_is(ig_bit=None)).select(dose, "_g"), group,
                        firsts.len()),
        ])
    bits = frame.select(admin, jw, dose)
    return bits.hstack([lines.get_column("cd_key")]).select(pl.col(c).bitwise_or().over("cd_key") for c in _MASKS)


def _or_per_run(rows: pl.DataFrame, group: pl.Series, runs: int) -> pl.Series:
    """The bitwise OR over each run of ``group`` (sorted run ids 0..runs-1) of the first column of
    ``rows`` (the rows with a bit set, in run order, with their run in ``group``'s name), on every row
    of ``group`` (0 for a run without any).

    A claim and date bills a handful of lines, so the OR is taken by doubling instead of grouping:
    each row ORs in the row 1, then 2, 4... places after it while that row is still in its run, and
    after log2(longest run) steps a run's first row holds its whole run's OR (1.2M rows: 0.06 s CPU for
    a sorted group-by, 0.035 s this way). Runs longer than :data:`_DOUBLING_UP_TO` rows are grouped."""
    name = rows.columns[0]
    heads = run_starts(rows.get_column(group.name))
    starts = heads.arg_true()
    longest = (starts.append(pl.Series([rows.height], dtype=starts.dtype)).diff().max() or 0) if rows.height else 0
    if longest <= _DOUBLING_UP_TO:
        value, run = pl.col(name), pl.col(group.name)
        step = 1
        while step < longest:
            rows = rows.with_columns(
                pl.when(run == run.shift(-step)).then(value | value.shift(-step)).otherwise(value).alias(name))
            step *= 2
        per_run = rows.filter(heads)
    else:
        per_run = rows.group_by(group.name, maintain_order=True).agg(pl.col(name).bitwise_or())
    full = pl.repeat(0, runs, dtype=rows.schema[name], eager=True).scatter(per_run.get_column(group.name),
                                                                          per_run.get_column(name))
    return full.gather(group).alias(name)


_DOUBLING_UP_TO = 16  # rows of one claim and date with a bit set: 4 doubling steps at most


def _claim_date_runs(cd_key: pl.Series) -> tuple[pl.Series, pl.Series] | None:
    """Each line's claim-and-date run (0..n-1) and the runs' first rows, when each claim and date is
    one run (``cd_key`` sorted: claims together, each claim's dates in order, as exports write
    them); else ``None``. Computed once for :func:`encounters` and :func:`_encounter_masks`."""
    if not cd_key.is_sorted():
        return None
    group = cd_key.rle_id().set_sorted()
    return group, run_starts(group).arg_true()


def _with_rejected_codes(lines: pl.DataFrame, rejected: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series | None]:
    """OR into the code masks the codes billed on rejected rows of the same claim and date (rows
    whose claim id and code could be read); only the lines of those claims are touched. With them,
    each line's administration codes of such rows alone (``cd_rejected_mask``, ``None`` where no
    rejected row's code lands on a line): what :func:`_rejected_in_encounter` spreads.

    A rejected row whose date could not be read counts for every date of its claim: the claim
    bills that code on a date we cannot tell, so a check must not report its absence (the cost is
    a finding missed on a multi-date claim, never one invented by our own rejection). A rejected row
    whose claim has no line checked counts for its member's claims on its date (96365 rejected on
    claim A anchors the 96366 of claim B in the same encounter: not evaluated, never "no primary").
    """
    known = rejected.filter(pl.col("procedure_code").is_not_null())
    if known.height == 0:
        return lines, None
    added = pl.repeat(0, lines.height, dtype=pl.UInt64, eager=True)
    ghosts = known.select("claim_id", "member_id", "date_of_service", "claim_type", "billing_provider",
                          _code_index(known), _is_jw()).select(
        "claim_id", "member_id", "date_of_service", "claim_type", "billing_provider", *_line_bits())
    # A rejected row whose claim has no line checked at all belongs to an encounter the batch cannot
    # name: its codes count for the encounters of its member and date it may belong to (on every date
    # when it has none): :func:`_orphan_passes`.
    checked = ghosts.get_column("claim_id").is_in(lines.get_column("claim_id").unique().implode()).fill_null(False)
    passes = [(lines.get_column("claim_id"), ghosts.filter(checked).with_columns(pl.col("claim_id").alias("_key"))),
              *_orphan_passes(lines, ghosts.filter(~checked))]
    for line_keys, of in passes:
        of = of.filter(pl.col("_key").is_not_null())
        rows = line_keys.is_in(of.get_column("_key").unique().implode()).fill_null(False).arg_true()
        if rows.len() == 0:
            continue
        masks = pl.col(_MASKS).bitwise_or()
        dated = of.filter(pl.col("date_of_service").is_not_null()).group_by("_key", "date_of_service").agg(masks)
        undated = of.filter(pl.col("date_of_service").is_null()).group_by("_key").agg(masks.name.suffix("_any"))
        extra = (
            pl.DataFrame([line_keys.gather(rows).alias("_key"), lines.get_column("date_of_service").gather(rows)])
            .join(dated, on=["_key", "date_of_service"], how="left", maintain_order="left")
            .join(undated, on="_key", how="left", maintain_order="left")
            .select((pl.col(m).fill_null(0) | pl.col(f"{m}_any").fill_null(0)).cast(pl.UInt64).alias(m)
                    for m in _MASKS)
        )
        lines = lines.with_columns(
            lines.get_column(m).scatter(rows, lines.get_column(m).gather(rows) | extra.get_column(m)) for m in _MASKS
        )
        added = added.scatter(rows, added.gather(rows) | extra.get_column("cd_admin_mask"))
    # A hospital claim's encounter may run across midnight (:func:`encounters`): a rejected row dated a
    # day the claim checks no line of is beside its lines of the day before and after (a rejected 96365
    # of 22:30 beside the 08:00 one of the next day); one dated a day with checked lines is beside
    # those, and so their encounter (:func:`_rejected_in_encounter`), not a visit of the next day or
    # weeks later (reviews 21C, 21E).
    dated = pl.DataFrame([lines.get_column("claim_id"), lines.get_column("date_of_service")]).unique()
    rejected_of = ghosts.filter(checked & pl.col("date_of_service").is_not_null()).join(
        dated, on=["claim_id", "date_of_service"], how="anti").select(
        "claim_id", pl.col("date_of_service").alias("_rdate"), pl.col("cd_admin_mask").alias("_c"))
    hospital = (lines.get_column("claim_type") == "institutional").fill_null(False) & lines.get_column(
        "claim_id").is_in(rejected_of.get_column("claim_id").implode()).fill_null(False)
    rows = hospital.arg_true()
    if rows.len():
        near = ((pl.col("date_of_service") - pl.col("_rdate")).dt.total_days().abs() <= 1).fill_null(False)
        of = pl.DataFrame([rows.alias("_at"), lines.get_column("claim_id").gather(rows),
                           lines.get_column("date_of_service").gather(rows)]).join(
            rejected_of, on="claim_id").filter(near).group_by("_at").agg(pl.col("_c").bitwise_or())
        if of.height:
            at = of.get_column("_at")
            added = added.scatter(at, added.gather(at) | of.get_column("_c").cast(pl.UInt64))
    return lines, (added.alias("cd_rejected_mask") if (added != 0).any() else None)


def _orphan_passes(lines: pl.DataFrame, orphans: pl.DataFrame) -> list[tuple[pl.Series, pl.DataFrame]]:
    """Where rejected rows whose claim has no line checked (``orphans``: ``member_id``, ``claim_type``,
    ``billing_provider``) may belong: ``(line keys, orphans with _key)`` pairs, a line's key null where
    the rows cannot be in its encounter. An institutional claim is an encounter of its own, so such a
    row is in none of the batch's (its claim has no line checked) and no hospital line is in its
    encounter; a professional row (or one of unknown type, read as professional as lines are) is in
    the professional encounters of its member and date under its billing provider, or under any when
    its provider cannot be read, as a line without a provider is in any (probe 17B: a physician's
    rejected 96365 of another provider, or a hospital's, left a good claim's "no primary" unevaluated)."""
    institutional = (pl.col("claim_type") == "institutional").fill_null(False)
    professional = orphans.filter(~institutional)
    if not professional.height:
        return []
    eligible = ~lines.select(institutional).to_series()
    member, provider = lines.get_column("member_id"), lines.get_column("billing_provider")
    with_provider = professional.filter(pl.col("billing_provider").is_not_null())
    keyed = with_provider.with_columns(pl.concat_str("member_id", pl.lit("\x1f"), "billing_provider").alias("_key"))
    anyone = professional.filter(pl.col("billing_provider").is_null()).with_columns(pl.col("member_id").alias("_key"))

    def keys(expr: pl.Expr, where: pl.Series) -> pl.Series:
        return pl.select(pl.when(where).then(expr)).to_series()

    return [(keys(pl.concat_str(pl.lit(member), pl.lit("\x1f"), pl.lit(provider)), eligible), keyed),
            (keys(pl.lit(member), eligible), anyone),
            (keys(pl.lit(member), eligible & provider.is_null()), with_provider.with_columns(
                pl.col("member_id").alias("_key")))]


def _members_of_lossy_ids(lines: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """``rows`` with each member id read with the decoder's replacement character (a byte of another
    encoding in the cell: "M\ufffdller") replaced by the batch's member ids it may stand for (the same
    length, the same characters where it has them: "M1ller", not "M1"), a row per id; a row matching
    none keeps its id, which keys it to no encounter. Probe 20B: "1EG4TE5MK7\ufffd" keyed a rejected
    96365 to no encounter, and the 96366 of its member's other claim was reported "without its
    primary". An id mostly unreadable (fewer than three characters read, or half of it marked) stands
    for no one: eleven marks matched every Medicare id of the batch (review 20D). Matched per pattern
    of marks (length and positions: a handful), each a slice-and-join over the members of that length."""
    lossy = pl.col("member_id").str.contains("\ufffd", literal=True).fill_null(False)
    marked = rows.filter(lossy)
    if not marked.height:
        return rows
    members = lines.select(pl.col("member_id").drop_nulls().unique())
    patterns: dict[tuple[int, tuple[int, ...]], list[str]] = {}
    for marked_id in marked.get_column("member_id").unique().to_list():
        at = tuple(k for k, ch in enumerate(marked_id) if ch == "\ufffd")
        if len(marked_id) - len(at) >= 3 and 2 * len(at) < len(marked_id):
            patterns.setdefault((len(marked_id), at), []).append(marked_id)
    found = []
    for (length, at), ids in patterns.items():
        pieces, start = [], 0
        for k in at:  # the member id with the characters at the marks' places replaced by the mark
            pieces += [pl.col("_as").str.slice(start, k - start), pl.lit("\ufffd")]
            start = k + 1
        pieces.append(pl.col("_as").str.slice(start))
        found.append(members.select(pl.col("member_id").alias("_as")).filter(
            pl.col("_as").str.len_chars() == length).with_columns(pl.concat_str(pieces).alias("member_id")).join(
            pl.DataFrame({"member_id": ids}, schema={"member_id": pl.String}), on="member_id"))
    matches = pl.concat(found) if found else pl.DataFrame(schema={"_as": pl.String, "member_id": pl.String})
    expanded = marked.join(matches, on="member_id", how="left").with_columns(
        pl.coalesce("_as", "member_id").alias("member_id")).drop("_as")
    return pl.concat([rows.filter(~lossy), expanded], how="vertical_relaxed")


def _borrowed(lines: pl.DataFrame, donors: pl.Expr, takers: pl.Expr, sub_key: pl.Expr, order: list[str],
              values: dict[str, tuple[pl.Expr, pl.Expr]]) -> pl.DataFrame:
    """Facts a line takes from a sibling on its claim and date.

    Per (``cd_key``, ``sub_key``) group: for each ``name: (value, counts)``, the ``value`` of the
    first donor row (in ``order``) where ``counts`` holds; set on the ``takers`` rows, null
    elsewhere. Done on the donor and taker rows only, sorted once by a packed UInt64 key (claim,
    date, sub-key), so the per-group step runs on Polars' sorted fast path with no join.
    """
    if donors.meta.eq(takers):  # the same lines give and take (one test, not two)
        flags = lines.select(donors.alias("_d")).with_columns(pl.col("_d").alias("_t"))
        rows = flags.get_column("_d").arg_true()
    else:
        flags = lines.select(donors.alias("_d"), takers.alias("_t"))
        rows = (flags.get_column("_d") | flags.get_column("_t")).arg_true()
    roots = list(dict.fromkeys(c for pair in values.values() for e in pair for c in e.meta.root_names()))
    subset = (
        lines.select(*dict.fromkeys([*order, *roots, "cd_key"]), sub_key.cast(pl.UInt64).alias("_sub"))[rows]
        .hstack([*flags[rows].get_columns(), rows.alias("_row")])
        .with_columns((pl.col("cd_key") * (1 << _SUB_BITS) + pl.col("_sub")).alias("_key"))
    )
    subset = _sorted_by(subset, ["_key", *order])
    subset = subset.with_columns(subset.get_column("_key").set_sorted())
    # The donor's value as a column first, then the window: a filter inside ``over`` is evaluated
    # group by group (0.045 s on 520k rows; this 0.027 s).
    spread = subset.with_columns(
        pl.when(pl.col("_d") & counts).then(value).alias(name) for name, (value, counts) in values.items()
    ).select("_row", "_t", *[pl.col(name).first(ignore_nulls=True).over("_key") for name in values]).filter("_t")
    out = []
    for name in values:
        column = pl.repeat(None, lines.height, dtype=spread.schema[name], eager=True).alias(name)
        out.append(column.scatter(spread.get_column("_row"), spread.get_column(name)))
    return pl.DataFrame(out)


def _sorted_by(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """``frame`` sorted by ``columns``; returned as it is when already in that order, as lines of
    claims written together with their lines in order mostly are (one vectorised test, no sort)."""
    if frame.height < 2:
        return frame
    ordered: pl.Expr = pl.lit(False)
    equal: pl.Expr = pl.lit(True)
    for name in columns:
        col = pl.col(name).cast(pl.Int64) if frame.schema[name] == pl.Boolean() else pl.col(name)
        ordered = ordered | (equal & (col > col.shift(1)))
        equal = equal & (col == col.shift(1))
    in_order = frame.select((ordered | equal).fill_null(False).slice(1).all()).item()
    return frame if in_order else frame.sort(columns)


def enrich(lines: pl.DataFrame, policies: PolicySet, rejected: pl.DataFrame | None = None,
           unreadable: pl.DataFrame | None = None) -> pl.DataFrame:
    """The enriched frame every check reads: each claim's lines together, shared facts beside them.

    ``rejected`` are the typed rejected rows (:attr:`scrubber.canonical.Canonical.rejected_lines`):
    a line rejected for, say, a bad route in its documentation was still billed, so its code
    counts in its claim and date's code masks (the 96365 of a 96366 is there even if its record is
    unreadable; without this the add-on would be reported without its primary).
    """
    order = claim_order(lines.get_column("claim_id"))
    if order is not None:
        lines = lines[order]
    # Two chains that share nothing but the lines run side by side on the two cores: code_idx, the
    # policy facts, two line flags and the borrowed doses on a second thread, the claim and date keys,
    # the masks and the encounters on this one. Polars releases the GIL in its work (held for 0.09 s of
    # 0.8 here) and most of these steps are single-threaded passes (2M lines, on an otherwise idle
    # machine: 0.71 -> 0.48 s wall).
    with ThreadPoolExecutor(max_workers=1) as pool:
        coded = pool.submit(_with_code_index, lines)
        policy = pool.submit(_policy_of, coded, policies)
        flags = pool.submit(_line_flags, lines)
        # Claim runs and claim-and-date runs are computed once, here, for the masks and the encounters.
        claims = claim_runs(lines.get_column("claim_id"))
        cd_key = _claim_date_key(lines, claims)
        cd_runs = _claim_date_runs(cd_key)
        is_jw = lines.select(_is_jw()).to_series()
        lines = coded.result()
        work = lines.hstack([is_jw, cd_key])
        doses = pool.submit(_documented_doses, work)
        work = work.hstack(_claim_date(work, cd_runs))
        own = added = None
        if rejected is not None and rejected.height:
            own = work.get_column("cd_admin_mask")
            work, added = _with_rejected_codes(work, rejected)
            if work.get_column("cd_admin_mask").equals(own):
                own = None
        work = work.hstack(encounters(work, cd_runs, claims))
        if added is not None:
            work = work.hstack([_rejected_in_encounter(work, added)])
        facts = policy.result()
        work = work.hstack(facts)
        work = work.hstack(_encounter_masks(work, cd_runs))
        if own is not None:
            work = work.hstack([_anchored_by_rejected(work, own)])
        work = work.hstack([_unreadable_in_encounter(work, unreadable, rejected), *doses.result(),
                            *flags.result()])
    # The columns in their documented order (reports list them so): the policy facts after code_idx,
    # the line flags beside is_jw, is_inst last.
    first = [*lines.columns, *(f.name for f in facts), "is_jw", "is_jz"]
    return work.select(*first, *(c for c in work.columns if c not in {*first, "is_inst"}), "is_inst")


def _with_code_index(lines: pl.DataFrame) -> pl.DataFrame:
    """``lines`` with ``code_idx`` (:func:`_code_index`) added."""
    return lines.hstack([_code_index(lines)])


def _policy_of(coded: Future[pl.DataFrame], policies: PolicySet) -> list[pl.Series]:
    """:func:`_policy_columns` of the lines once ``coded`` (the lines with ``code_idx``) is done."""
    return _policy_columns(coded.result(), policies)


def _line_flags(lines: pl.DataFrame) -> list[pl.Series]:
    """``is_jz`` (the line carries JZ) and ``is_inst`` (:func:`_institutional`)."""
    return [lines.select(has_modifier(*reference.modifiers_with_role("no_waste")).alias("is_jz")).to_series(),
            _institutional(lines)]


def _documented_doses(lines: pl.DataFrame) -> pl.DataFrame:
    """``doc_dose_mg`` / ``doc_wasted_mg``: the drug's documented dose and waste on its claim and date,
    on IG lines (:func:`_borrowed`; the administered line first, one documenting its own waste first,
    then line order)."""
    # (the administered line first, and of those the one documenting its own discarded amount: a JW line
    # borrows the dose of the container its waste came from, review 27A D8: x41 for 20,100 mg and x31 for
    # 15,100 mg with 400 mg discarded on line 3 weighed the JW line's waste against line 2's dose)
    lines = lines.with_columns(pl.col("drug_wasted_mg").is_null().alias("_no_own_waste"))
    return _borrowed(
        lines, is_ig(), is_ig(), pl.col("code_idx"), ["is_jw", "_no_own_waste", "line_number"],
        {"doc_dose_mg": (pl.col("drug_dose_mg"), pl.col("drug_dose_mg").is_not_null()),
         "doc_wasted_mg": (pl.col("drug_wasted_mg"), pl.col("drug_wasted_mg").is_not_null())},
    )


def _institutional(lines: pl.DataFrame) -> pl.Series:
    """``is_inst``: the line's claim is institutional (``claim_type``), the setting of the NCCI and MUE
    tables checks read by ``code_idx`` on nearly every line: compared once here (0.01 s of 2M lines)
    instead of once per check and table. (Per claim and spread by run cost more: a boolean gather.)"""
    return (lines.get_column("claim_type") == "institutional").fill_null(False).alias("is_inst")


# --------------------------------------------------------------------------- encounters

_COPY_LAYER = {seq: layer for layer, seq in enumerate(PAYER_SEQUENCES)}  # P 0, S 1, T 2: the payer it goes to


def _claims_of(lines: pl.DataFrame, claims: pl.Series | None = None, starts: pl.Series | None = None
               ) -> tuple[pl.Series, pl.DataFrame, pl.Series]:
    """Each line's claim number (dense, in order), one row per claim with its claim-level facts, and
    the row where each claim starts.

    Lines arrive with each claim's rows together (:func:`enrich`), so a claim is a run: ``claims``
    (:func:`scrubber.grouping.claim_runs` of ``claim_id``) and ``starts`` (where they start) when the
    caller has them, else computed.
    """
    run = (claim_runs(lines.get_column("claim_id")) if claims is None else claims).alias("_claim")
    if starts is None:
        starts = run_starts(run).arg_true()  # run ids are sorted: a claim's first row is where its run starts
    first = lines.select(
        # _pos: where the claim starts in the input (its first row id), not in this frame: claim_order
        # puts claims in hash order when some claim is not contiguous, and which claim is "earlier"
        # (the first payer's) must not depend on an unrelated claim's layout (nor on the Spark partition).
        pl.col("row_id").alias("_pos"),
        "claim_id", "member_id", "payer", "claim_type", "billing_provider", "payer_sequence", "claim_frequency",
    )[starts]
    return run, pl.DataFrame([run.gather(starts)]).hstack(first), starts


def _copies(lines: pl.DataFrame, run: pl.Series, claims: pl.DataFrame, starts: pl.Series) -> pl.DataFrame:
    """Next-payer copies among claims that do not say their payer sequence (RULES.md "Same services
    sent to the next payer"): a claim whose lines (date, code, modifiers, units) equal those of an
    earlier claim of the same member and billing provider sent to a different payer.

    Claims are compared by an order-independent signature (wrapping sum of 64-bit line hashes, and
    the line count) within one member and provider: two different claims of one member and provider
    agreeing on both by chance is a 1-in-2^64 event. Returns ``_claim``, ``_layer`` (0 for the first
    payer of a group of equal claims, then 1, 2...) and ``copy_of`` (that first claim) for the copies.
    """
    none = pl.DataFrame(schema={"_claim": pl.UInt32, "_layer": pl.UInt8, "copy_of": pl.String})
    payer = payer_keys("payer", claims.get_column("payer")).alias("_payer")  # as policies read it
    # Filter first: equal claims have as many lines and the same sum of dates, so only claims that
    # share member, provider, line count and date sum with a claim sent to another payer are hashed
    # (most claims share them with none: 0.45 s -> 0.1 s on 2M lines). A group of equal claims lies
    # inside one such set, so it is kept whole and found as before. Claims are runs of ``run``: the
    # per-claim count and sum are differences of running totals at each run's last row.
    if claims.height < 2:
        return none
    # A claim ends on the row before the next one starts.
    ends = (starts.slice(1) - 1).append(pl.Series([lines.height - 1], dtype=starts.dtype))
    # (every line: a claim that says its sequence is the original a claim that does not may repeat)
    days = lines.get_column("date_of_service").cast(pl.Int64).fill_null(0).cum_sum().alias("_days")
    per_claim = pl.DataFrame([(ends - starts + 1).cast(pl.Int64).alias("_n"), days.gather(ends)]).with_columns(
        pl.col("_days").diff().fill_null(pl.col("_days")))  # first claim: its own total
    sets = claims.select("_claim", "member_id", "billing_provider", "payer").hstack(per_claim)
    sets = sets[_sharing_a_key(sets.select(pl.struct("member_id", "billing_provider", "_n", "_days").hash(0x51D3)))]
    candidates = sets.filter(
        payer.n_unique().over("member_id", "billing_provider", "_n", "_days") > 1).get_column("_claim")
    if candidates.len() < 2:
        return none
    rows = run.is_in(candidates.implode()).arg_true()
    sigs = _claim_signatures(lines, run, rows)
    if sigs.height < 2:
        return none
    key = ["member_id", "billing_provider", "_sig", "_n"]
    grouped = sigs.join(claims, on="_claim").with_columns(payer)
    grouped = grouped.filter(pl.col("_payer").n_unique().over(key) > 1).sort("_pos")
    if grouped.height == 0:
        return none
    return _blank_layers(grouped, key)


def _blank_layers(grouped: pl.DataFrame, key: list[str]) -> pl.DataFrame:
    """``_claim``, ``_layer``, ``copy_of`` of the claims of ``grouped`` (groups of equal claims sent to
    several payers, in input order) that do not say their payer sequence: each payer takes a layer in
    the order it first appears, skipping the layers the group's claims that say theirs take (P 0, S 1,
    T 2): beside a claim marked P for BCBS, the same lines to Medicare unmarked are the next payer's
    (probe 18E: counted as a second visit, a duplicate initial and twice the MUE). ``copy_of``: the
    group's first claim of layer 0. Groups of copies are few: decided in Python."""
    out = []
    for _, group in grouped.group_by(key, maintain_order=True):
        stated = {p: _COPY_LAYER.get(q) for p, q in group.select("_payer", "payer_sequence").iter_rows()
                  if q is not None and _COPY_LAYER.get(q) is not None}
        taken = set(stated.values())
        free = (layer for layer in range(len(taken) + group.height + 1) if layer not in taken)
        layer_of = dict(stated)
        for p in group.get_column("_payer").unique(maintain_order=True):
            if p not in layer_of:
                layer_of[p] = next(free)
        first = next((c for c, p in group.select("claim_id", "_payer").iter_rows() if layer_of[p] == 0),
                     group.get_column("claim_id")[0])
        for claim, p, q in group.select("_claim", "_payer", "payer_sequence").iter_rows():
            if q is None and layer_of[p] > 0:
                out.append((claim, layer_of[p], first))
    return pl.DataFrame(out, schema={"_claim": pl.UInt32, "_layer": pl.UInt8, "copy_of": pl.String}, orient="row")


def _sharing_a_key(keys: pl.DataFrame) -> pl.Series:
    """Positions of the rows whose value in the one column of ``keys`` (a 64-bit hash) another row shares.

    A sort of 600k integers and a neighbour comparison (0.02 s) find the repeated hashes (usually
    none), instead of a hash group-by on four columns with text (0.14 s): only claims sharing a hash
    can share the key it hashes (a collision only adds rows, which the exact test after it drops)."""
    key = keys.to_series()
    return key.is_in(shared_keys(key).implode()).arg_true()


def _voided(lines: pl.DataFrame, run: pl.Series, claims: pl.DataFrame) -> pl.DataFrame:
    """``_claim``, ``voided_by``: the claims a void of the batch (CLM05-3 8) cancels. A void repeats the
    claim it cancels: the same member, billing provider and payer (as policies read it) and the same
    lines (date, code, modifiers, units: the order-independent signature of :func:`_copies`); each void
    cancels one such claim that is no correction itself and is read before it, the nearest one.
    An original, its void and the rebill sent after it, all in one audit batch: the
    cancelled original was counted with the rebill (a second initial service, twice the MUE: probe 17E).
    Only the members with a void are looked at (none in most batches)."""
    none = pl.DataFrame(schema={"_claim": pl.UInt32, "voided_by": pl.String})
    frequency = claims.get_column("claim_frequency")
    void = frequency.is_in(reference.void_frequencies()).fill_null(False)
    if not void.any():
        return none
    members = claims.filter(void).get_column("member_id").unique()
    candidates = claims.filter(pl.col("member_id").is_in(members.implode()))
    sigs = _claim_signatures(lines, run, run.is_in(candidates.get_column("_claim").implode()).arg_true())
    kinds = candidates.with_columns(
        payer_keys("payer", candidates.get_column("payer")).alias("_payer"),
        pl.col("claim_frequency").is_in(reference.void_frequencies()).fill_null(False).alias("_void"),
        pl.col("claim_frequency").is_in(reference.correction_frequencies()).fill_null(False).alias("_corr"))
    key = ["member_id", "billing_provider", "_payer", "_sig", "_n"]
    grouped = sigs.join(kinds, on="_claim")
    voids = grouped.filter("_void").select(*key, pl.col("_pos").alias("_void_pos"),
                                           pl.col("claim_id").alias("voided_by"))
    originals = grouped.filter(~pl.col("_corr")).select(*key, "_claim", "_pos")
    # Only a claim read before the void: a void and the rebill after it, the original sent in an earlier
    # batch, cancel nothing here (the rebill is the claim to scrub). Each void takes the nearest such
    # claim before it, each claim one void.
    pairs = voids.join(originals, on=key, nulls_equal=True).filter(pl.col("_pos") < pl.col("_void_pos"))
    pairs = pairs.sort("_void_pos", pl.col("_pos"), descending=[False, True]).unique(
        "_void_pos", keep="first", maintain_order=True).unique("_claim", keep="first", maintain_order=True)
    return pairs.select("_claim", "voided_by")


def _standalone_replacements(lines: pl.DataFrame, run: pl.Series, claims: pl.DataFrame) -> pl.Series:
    """Claim numbers of the replacements (CLM05-3 7, a correction that is no void) that correct no claim
    of the batch: no other claim of the same member, billing provider and payer (as policies read it)
    that is no correction itself bills a line on one of its dates with one of its codes. The claim it
    replaces was sent earlier, outside the batch; the visit's other claims may be in it: cut off from
    them as an encounter of its own, its 96367 beside their 96365 was an add-on without its primary
    (probe 18A; CMS's add-on edits look across the practitioner's claims for the patient and date).
    It joins their encounter; one that may repeat a claim of the batch stays on its own (an audit
    batch holding the original and its replacement counts the visit once). None in most batches."""
    frequency = claims.get_column("claim_frequency")
    corrections, voids = reference.correction_frequencies(), reference.void_frequencies()
    replacement = (frequency.is_in(corrections) & ~frequency.is_in(voids)).fill_null(False)
    if not replacement.any():
        return pl.Series("_claim", [], dtype=pl.UInt32)
    members = claims.filter(replacement).get_column("member_id").unique()
    mine = claims.filter(pl.col("member_id").is_in(members.implode())).select(
        "_claim", "member_id", "billing_provider", payer_keys("payer", claims.filter(
            pl.col("member_id").is_in(members.implode())).get_column("payer")).alias("_payer"),
        pl.col("claim_frequency").is_in(corrections).fill_null(False).alias("_corr"),
        (pl.col("claim_frequency").is_in(corrections) & ~pl.col("claim_frequency").is_in(voids)).fill_null(False)
        .alias("_replacement"))
    rows = run.is_in(mine.get_column("_claim").implode()).arg_true()
    billed = pl.DataFrame([run.gather(rows)]).hstack(lines.select("date_of_service", "procedure_code")[rows]).join(
        mine, on="_claim").unique()
    key = ["member_id", "billing_provider", "_payer", "date_of_service", "procedure_code"]
    repeats = billed.filter("_replacement").join(
        billed.filter(~pl.col("_corr")).select(*key, pl.col("_claim").alias("_other")), on=key, nulls_equal=True
    ).filter(pl.col("_other") != pl.col("_claim")).get_column("_claim").unique()
    return mine.filter(pl.col("_replacement") & ~pl.col("_claim").is_in(repeats.implode())).get_column("_claim")


def _claim_signatures(lines: pl.DataFrame, run: pl.Series, rows: pl.Series) -> pl.DataFrame:
    """``_claim``, ``_sig``, ``_n``: the order-independent signature of the claims' lines at ``rows``
    (date, code, modifiers, units: a wrapping sum of 64-bit line hashes) and their count, by which
    :func:`_copies` and :func:`_voided` tell that one claim repeats another."""
    subset = lines.select("date_of_service", "procedure_code", "modifiers", "units")[rows]
    line_hash = pl.struct("date_of_service", "procedure_code", _sorted_modifiers(subset), "units").hash(0x2F1E)
    frame = pl.DataFrame([run.gather(rows)]).hstack(subset.select(line_hash.alias("_h")))
    return frame.group_by("_claim").agg(pl.col("_h").sum().alias("_sig"), pl.len().alias("_n"))


def _sorted_modifiers(lines: pl.DataFrame) -> pl.Series:
    """Each line's modifiers in sorted order, joined by spaces (the same modifiers in another order are
    the same line). A list of none or one is its first element (or ""); only lists of two or more
    (3% of lines) are sorted, by ``list.eval`` (``list.sort`` on every line cost 1.4 s of 2M lines,
    ``list.join`` 0.16 s; this 0.05 s)."""
    modifiers = lines.get_column("modifiers")
    joined = modifiers.list.first().fill_null("")
    several = (modifiers.list.len() > 1).arg_true()
    if several.len():
        joined = joined.scatter(several, modifiers.gather(several).list.eval(pl.element().sort()).list.join(" "))
    return joined.alias("modifiers")


def encounters(lines: pl.DataFrame, cd_runs: tuple[pl.Series, pl.Series] | None = None,
               claims: pl.Series | None = None) -> pl.DataFrame:
    """The encounter of each line (RULES.md "Encounter"), as ``enc_key`` (UInt32, dense; only its
    equality means anything: numbered in line order when each claim and date is its own encounter), with
    ``cob_layer`` (0 for the primary payer's claim, 1 secondary, 2 tertiary) and ``copy_of`` (for a
    detected next-payer copy: the claim it repeats).

    * Professional claims: one member, one date of service, one billing provider (a claim without
      ``billing_provider`` shares the encounter of the member's other unnamed-provider claims that
      day, or of the one provider the member's other claims name that day, :func:`_unnamed_provider`),
      and one payer layer: a claim sent to the next payer (``payer_sequence`` S/T, or a
      detected copy) bills the same services again and never counts with the primary payer's
      claims (COB copies are not duplicates).
    * Institutional claims: the claim (a hospital outpatient encounter may run past midnight), split
      where its line dates leave a whole calendar day without service: visits days apart billed on one
      claim (a hospital's recurring claim) are separate encounters, as IOM 100-04 ch.4 section
      230.2(B) counts one initial service per encounter (:func:`_visit_starts`); so are consecutive
      dates whose documented times show two visits (:func:`_continues`).
    * A professional and an institutional claim never share an encounter.
    * A replacement or void (``claim_frequency`` 7, 8) is its own encounter (per date when
      professional): it sends again the services of the claim it corrects (docs/RULES.md).

    This is the one definition: add-on matching, the one-initial rule, caps, MUEs, route and time
    rules all group by ``enc_key``. ``cd_runs``: :func:`_claim_date_runs` of ``cd_key``, ``claims``:
    :func:`scrubber.grouping.claim_runs` of ``claim_id``, when the caller has them (computed here otherwise).
    """
    cd_key = lines.get_column("cd_key")
    runs = _claim_date_runs(cd_key) if cd_runs is None else cd_runs
    # Without a null date the claim-and-date runs refine the claim runs: as many of them as claims
    # means each claim is one claim and date, and the runs start where the claims do.
    one_date = None
    if runs and cd_key.null_count() == 0 and cd_key.len():
        n_claims = cd_key[-1] // (1 << _DAY_BITS) + 1  # claim runs are dense and sorted
        one_date = runs[1] if runs[1].len() == n_claims else None
    run, claims, starts = _claims_of(lines, claims, one_date)
    voided = _voided(lines, run, claims)
    facts, copy_of = _claim_facts(claims, _copies(lines, run, claims, starts), voided,
                                  _standalone_replacements(lines, run, claims))
    # The key is decided per claim and date (a few hundred thousand groups, not millions of lines): one
    # representative row per cd_key group, the exact dense rank of its key, spread back by position.
    if runs:  # each claim and date is one run: its first row is where the run starts
        group, firsts = runs
    else:
        group = cd_key.rank("dense").cast(pl.UInt32) - 1
        firsts = group.is_first_distinct().arg_true()
        firsts = firsts.gather(group.gather(firsts).arg_sort())  # in group order
    # Claim facts are rows of ``facts`` by claim number: gathers by position, no join on 2M lines.
    if one_date is not None:
        # Each claim is one claim and date: the claims' rows are the representatives, their member
        # and provider already gathered.
        rep = pl.DataFrame([claims.get_column("_claim"), *facts.select("_inst", "_corr", "cob_layer").get_columns(),
                            claims.get_column("member_id"), lines.get_column("date_of_service").gather(firsts),
                            claims.get_column("billing_provider")])
    else:
        rep_claim = run.gather(firsts)
        rep = pl.DataFrame([rep_claim, *facts.select("_inst", "_corr", "cob_layer")[rep_claim].get_columns(),
                            *lines.select("member_id", "date_of_service", "billing_provider")[firsts].get_columns()])
    rep = _unnamed_provider(rep, claims.get_column("payer").gather(rep.get_column("_claim"))).hstack(
        _continues(lines, rep, run))
    rep = _encounter_numbers(rep, in_claim_date_order=cd_key.null_count() == 0)
    copies = (copy_of.gather(run) if copy_of.null_count() < copy_of.len()
              else pl.repeat(None, lines.height, dtype=pl.String, eager=True).alias("copy_of"))
    # rep is a dense rank (1..k): its keys are all distinct when the largest is its length (no hashing).
    if runs and (rep.len() == 0 or rep.max() == rep.len()):
        # Each claim and date is an encounter of its own (the usual batch): the same encounters
        # numbered in line order instead, so ``enc_key`` is sorted and every per-encounter window
        # and sort of the checks takes Polars' sorted path (checks 1.70 -> 1.55 s on 2M lines).
        enc_key = (group + 1).cast(pl.UInt32).set_sorted().alias("enc_key")
    else:
        enc_key = rep.gather(group)
    voided_by = (facts.get_column("voided_by").gather(run) if voided.height
                 else pl.repeat(None, lines.height, dtype=pl.String, eager=True).alias("voided_by"))
    return pl.DataFrame([enc_key, facts.get_column("cob_layer").gather(run), copies, voided_by])


def _encounter_numbers(rep: pl.DataFrame, in_claim_date_order: bool) -> pl.Series:
    """``enc_key`` of each claim-and-date row of ``rep``: the dense rank (1..n) of its encounter key.

    The key (RULES.md "Encounter") is the struct (institutional, claim when institutional or a
    replacement/void, member, date unless institutional, billing provider, payer layer), with fields
    that do not apply null. Ranked as one struct it is a sort of every row with its text (0.1 s on
    600k rows). In that order, nulls first, the keys fall in three blocks: professional claims
    (member, date, provider, layer), then professional replacements and voids (claim, date), then
    institutional claims (claim). When the rows are in claim-and-date order, as :func:`encounters`
    builds them from a ``cd_key`` without nulls, the last two blocks are in key order already: only
    the first is sorted, and each block's ranks follow the previous block's."""
    inst, alone = pl.col("_inst"), pl.col("_inst") | pl.col("_corr")
    if not in_claim_date_order:
        visits = _visit_starts(rep)
        return rep.with_columns(visits).select(
            pl.struct(
                inst,
                # Institutional: the claim and visit. Professional: member, date, billing provider, payer
                # layer; a professional replacement or void: the claim and date.
                pl.when(alone).then(pl.col("_claim")).alias("_c"),
                pl.when(~alone).then(pl.col("member_id")).alias("_m"),
                pl.when(~inst).then(pl.col("date_of_service")).otherwise(pl.col("_visit")).alias("_d"),
                pl.when(~alone).then(pl.col("billing_provider")).alias("_p"),
                pl.when(~alone).then(pl.col("cob_layer")).alias("_l"),
            ).rank("dense").cast(pl.UInt32).alias("enc_key")
        ).to_series()
    blocks = rep.select((~alone).alias("_a"), (alone & ~inst).alias("_b"), inst.alias("_c"))
    professional, corrections, institutional = (blocks.get_column(c).arg_true() for c in blocks.columns)
    fields = rep.select("member_id", "date_of_service", "billing_provider", "cob_layer")[professional]
    # A field with one value for every row (no billing provider at all, only primary claims) orders
    # nothing: ranking without it is the same and half the work.
    varying = [c for c in fields.columns if not _constant(fields.get_column(c))]
    fields = fields.select(varying or fields.columns[:1])
    ranked = fields.select(pl.struct(pl.all()).rank("dense").cast(pl.UInt32)).to_series()
    first = (ranked.max() or 0) + 1
    # Replacements and voids: one row per claim and date, each its own key, in key order.
    numbered = pl.int_range(first, first + corrections.len(), dtype=pl.UInt32, eager=True)
    # Institutional: the claim and visit are the key; its dates' rows are together, in date order.
    inst_rows = rep.select("_claim", "date_of_service", "_cont", "_stay")[institutional]
    claims = _visit_runs(inst_rows).cast(pl.UInt32) + (first + corrections.len())
    out = pl.repeat(0, rep.height, dtype=pl.UInt32, eager=True).alias("enc_key")
    for rows, values in ((professional, ranked), (corrections, numbered), (institutional, claims)):
        out = out.scatter(rows, values.cast(pl.UInt32))
    return out


def _new_visit(claim: pl.Expr, date: pl.Expr, cont: pl.Expr, stay: pl.Expr) -> pl.Expr:
    """On rows sorted by claim and date: the row starts a visit (its claim's first date; a date more
    than one day after the claim's previous date, a whole calendar day without service between; or the
    next day where it does not continue the previous day's visit, ``cont``: :func:`_continues`), unless
    it lies inside an observation stay begun on an earlier date of the claim (``stay``)."""
    gap = (date - date.shift(1)).dt.total_days()
    return (claim != claim.shift(1)).fill_null(True) | (
        ~stay & ((gap > 1).fill_null(True) | ((gap == 1) & ~cont).fill_null(False)))


def _visit_runs(rows: pl.DataFrame) -> pl.Series:
    """0-based visit number of each row of ``rows`` (``_claim``, ``date_of_service``, ``_cont``, ``_stay``),
    which are in claim and date order: one institutional encounter per visit (see :func:`encounters`)."""
    return rows.select(_new_visit(pl.col("_claim"), pl.col("date_of_service"), pl.col("_cont"), pl.col("_stay")
                                  ).cum_sum() - 1).to_series()


def _unnamed_provider(rep: pl.DataFrame, payers: pl.Series) -> pl.DataFrame:
    """``rep`` (one row per claim and date) where a professional claim without ``billing_provider``
    takes the provider of its member's other claims that date, payer (``payers``: each row's claim's,
    read as policies read it) and payer layer when they name exactly one: the sheet makes an input
    without providers one provider per member and date, and a claim that leaves the column blank beside
    one that names the NPI was an encounter of its own (a second 96365 there was no duplicate). With two
    providers named that day the blank claim stays apart (which of them billed it cannot be told); so
    does a blank claim to another payer, which may be the same visit sent to the next payer (copy
    detection compares providers as written: filled, the copy was a duplicate of the primary claim).
    Nothing to do unless some rows name a provider and some do not."""
    provider = rep.get_column("billing_provider")
    if provider.null_count() in (0, rep.height):
        return rep
    keyed = rep.hstack([payers.alias("_payer")]).with_columns(payer_keys("_payer", payers))
    key = ["member_id", "date_of_service", "cob_layer", "_payer"]
    professional = ~pl.col("_inst") & ~pl.col("_corr")
    named = keyed.filter(professional & pl.col("billing_provider").is_not_null()).group_by(key).agg(
        pl.col("billing_provider").unique().alias("_named")).filter(pl.col("_named").list.len() == 1)
    if not named.height:
        return rep
    filled = keyed.join(named.with_columns(pl.col("_named").list.first()), on=key, how="left",
                      maintain_order="left", nulls_equal=False)
    return filled.with_columns(
        pl.when(professional & pl.col("billing_provider").is_null()).then(pl.col("_named"))
        .otherwise(pl.col("billing_provider")).alias("billing_provider")).drop("_named", "_payer")


def _continues(lines: pl.DataFrame, rep: pl.DataFrame, run: pl.Series) -> list[pl.Series]:
    """``_cont``: per row of ``rep`` (one per claim and date), whether an institutional claim's date continues the
    visit of the day before, when the claim bills that day too; ``_stay``: whether the date lies inside an
    observation stay begun on an earlier date of the claim (one encounter whatever dates lie between: G0378
    x50 from 03-10 keeps 03-12 in the stay also without a line on 03-11). The sheet keeps a hospital
    encounter across midnight one encounter, and IOM 100-04 ch.4 section 230.2(B) counts one initial service
    per encounter, "including during an encounter where observation services span more than 1 calendar day":
    per encounter, not per claim. So the next day continues the visit unless the record shows two visits:
    the documented infusion times of both days are at least ``timing.new_visit_gap_minutes`` apart
    (09:00-13:00 and 09:00 the next morning: a course of daily infusions billed on one claim; measured from
    the last documented stop before the day, so an untimed day between does not chain two timed visits), and
    no observation begun on an earlier date reaches the day (G0378, G0379, revenue code 0762: MANIFEST
    ``observation``; G0378 is billed on the date observation begins), which makes one stay of the days it
    spans (its hours reach date + ceil(hours / 24) days, as do a 0762 line's without a HCPCS code; another
    observation line its date and the next); observation billed on the day itself joins it to the day before
    unless the day bills an E/M visit of its own and the documented times show two visits. An infusion
    across midnight, or a stop at 23:00 and a start at 08:00, stays one encounter.
    Where the times of either day are not documented (an 837I never carries them), the next day is a new
    visit when it bills an initial service of its own (96360, 96365, 96369, 96374, 96409, 96413: a daily
    course of infusions, each day's visit coded from its start), neither day bills observation, and neither
    day bills an add-on only the other day can anchor (:func:`_open_days`: 96375 at 23:10 whose 96365 is
    after midnight, 96366 continuing the day before's 96365: halves of one visit); a next day that bills
    only add-on hours continues the infusion of the day before.

    Decided on the lines of institutional claims with several dates only (none in most batches); true
    elsewhere (the flag is read on consecutive dates of one institutional claim only)."""
    out = pl.repeat(True, rep.height, dtype=pl.Boolean, eager=True).alias("_cont")
    in_stay = pl.repeat(False, rep.height, dtype=pl.Boolean, eager=True).alias("_stay")
    inst = rep.select("_claim").filter(rep.get_column("_inst")).get_column("_claim")
    several = inst.filter(inst.is_duplicated()).unique()
    if not several.len():
        return [out, in_stay]
    rows = run.is_in(several.implode()).arg_true()
    sub = lines.select("procedure_code", "revenue_code", "date_of_service", "infusion_start", "infusion_stop",
                       "units")[rows].hstack([run.gather(rows)])
    codes, revenue = reference.observation_codes()
    observation = pl.col("procedure_code").is_in(codes) | pl.col("revenue_code").is_in(revenue)
    # The last date an observation line's stay can reach: G0378's hours from its date, whatever hour it
    # began (50 hours from 03-10 can reach 03-13); any other observation line its date and the next.
    hourly = pl.col("procedure_code").is_in(reference.observation_hourly_codes()) | (
        pl.col("procedure_code").is_null() & pl.col("revenue_code").is_in(reference.observation_hourly_revenue_codes()))
    days_spanned = pl.when(hourly).then((pl.col("units").fill_null(0).clip(lower_bound=0) / 24).ceil()) \
        .otherwise(1).clip(lower_bound=1).cast(pl.Int32)
    reach = pl.when(observation).then(pl.col("date_of_service") + pl.duration(days=days_spanned))
    gap = reference.manifest()["timing"]["new_visit_gap_minutes"]
    initial = pl.col("procedure_code").is_in(reference.admin_codes_where(role="initial"))
    days = sub.group_by("_claim", "date_of_service").agg(
        pl.col("infusion_start").min().alias("_first"), pl.col("infusion_stop").max().alias("_last"),
        observation.any().alias("_obs"), initial.any().alias("_initial"), reach.max().alias("_reach"),
        reference.is_em(pl.col("procedure_code")).any().alias("_visit"),
    ).join(_open_days(sub), on=["_claim", "date_of_service"], how="left").with_columns(
        pl.col("_back", "_fwd").fill_null(False)
    ).sort("_claim", "date_of_service").with_columns(
        # Inside a stay that began on an earlier date of the claim: one encounter, whatever lies between.
        (pl.col("date_of_service") <= pl.col("_reach").cum_max().forward_fill().shift(1).over("_claim"))
        .fill_null(False).alias("_stay"))
    same = pl.col("_claim") == pl.col("_claim").shift(1)
    next_day = (pl.col("date_of_service") - pl.col("date_of_service").shift(1)).dt.total_days() == 1
    # From the last documented stop so far (a day without times between does not join the days around
    # it: 44 hours from day 1's stop to day 3's start are two visits whatever day 2 documents).
    last = pl.col("_last").forward_fill().over("_claim").shift(1)
    apart = (pl.col("_first") - last).dt.total_minutes() >= gap
    # Without the times of both days: the day's own initial service starts a new visit, unless the day
    # bills an add-on only the day before anchors (96366 x2 continuing the day before's 96365, beside a
    # 96374), or the day before bills one only this day anchors (96375 at 23:10 before a 96365 after
    # midnight): halves of one visit across midnight (:func:`_open_days`).
    # Observation billed on the day (the date it begins) joins the day before unless the day opens a visit
    # of its own (an E/M: the patient registered again) and the documented times show two visits: a 96365
    # at 08:00, then a 22:00 ED visit the next day that goes on to observation, are two (probe 17C); an ED
    # visit at 20:00 whose observation, dated after midnight, holds a 96365 at 09:30 is one stay (17D).
    untimed_new = pl.col("_initial") & ~pl.col("_back") & ~pl.col("_fwd").shift(1).over("_claim").fill_null(False)
    apart = pl.when(apart.is_null()).then(untimed_new & ~pl.col("_obs")).when(pl.col("_obs")).then(
        apart & pl.col("_visit")).otherwise(apart)
    # A stay begun on an earlier date that reaches the day: one stay, whatever the times.
    stay = pl.col("_stay")
    new = days.filter((same & next_day & apart & ~stay).fill_null(False)).select("_claim", "date_of_service")
    stays = days.filter("_stay").select("_claim", "date_of_service")
    return [_set_at(rep, new, out, False), _set_at(rep, stays, in_stay, True)]


def _open_days(sub: pl.DataFrame) -> pl.DataFrame:
    """``_claim``, ``date_of_service``, ``_back``, ``_fwd``: the dates of a claim that bill an administration
    add-on none of whose primaries (CPT's parentheticals or the CMS NCCI add-on edits, the wider of the
    two) the same date bills, and that the date before (``_back``: 96366 x2 continuing the day before's
    96365) or else the date after (``_fwd``: a push 96375 at 23:10 whose 96365 is after midnight) does
    bill: each is half of one visit across midnight. An add-on no neighbouring date anchors either
    (96370 beside a 96365: a wrong code) joins nothing; a date that continues the day before never
    reaches forward (a daily course's third day stays its own visit). A few institutional lines."""
    cpt = reference.admin_codes().filter(pl.col("role") == "addon").select(
        pl.col("code").alias("procedure_code"), pl.col("allowed_primaries").alias("_primary"))
    ncci = reference.addon_primaries_ncci().select(
        pl.col("addon").alias("procedure_code"), pl.col("primaries").alias("_primary"))
    pairs = pl.concat([cpt, ncci]).explode("_primary").drop_nulls().unique()
    keys = ["_claim", "date_of_service"]
    billed = sub.select(*keys, pl.col("procedure_code").alias("_primary")).unique()
    addons = sub.select(*keys, "procedure_code").unique().join(
        pairs.select("procedure_code").unique(), on="procedure_code", how="semi").join(pairs, on="procedure_code")
    unanchored = addons.join(
        addons.join(billed, on=[*keys, "_primary"], how="semi").select(*keys, "procedure_code").unique(),
        on=[*keys, "procedure_code"], how="anti")

    def anchored_on(days: int) -> pl.DataFrame:
        """The dates whose unanchored add-ons a primary on the date ``days`` away anchors."""
        shifted = billed.with_columns(pl.col("date_of_service") - pl.duration(days=days))
        return unanchored.join(shifted, on=[*keys, "_primary"], how="semi").select(keys).unique()

    back = anchored_on(-1).with_columns(pl.lit(True).alias("_back"))
    fwd = anchored_on(1).join(back, on=keys, how="anti").with_columns(pl.lit(True).alias("_fwd"))
    return back.join(fwd, on=keys, how="full", coalesce=True)


def _set_at(rep: pl.DataFrame, marked: pl.DataFrame, series: pl.Series, value: bool) -> pl.Series:
    """``series`` (one value per row of ``rep``) set to ``value`` on the rows whose claim and date are in
    ``marked``."""
    if not marked.height:
        return series
    at = rep.get_column("_claim").is_in(marked.get_column("_claim").unique().implode()).arg_true()
    keys = rep.select("_claim", "date_of_service")[at]
    hit = keys.select(pl.struct(pl.all()).is_in(marked.select(pl.struct(pl.all())).to_series().implode())).to_series()
    return series.scatter(at, series.gather(at).zip_with(~hit, pl.repeat(value, at.len(), dtype=pl.Boolean,
                                                                           eager=True)))


def _visit_starts(rep: pl.DataFrame) -> pl.Series:
    """``_visit``: per row of ``rep`` (one per claim and date, any order), the first date of its visit
    (see :func:`encounters`); for institutional rows only (null elsewhere). An encounter that spans
    midnight keeps one visit (consecutive dates that continue it, :func:`_continues`); a claim's lines a
    week apart are two visits."""
    rows = rep.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("_i"), "_claim", "date_of_service",
                      "_inst", "_cont", "_stay").filter("_inst").sort("_claim", "date_of_service")
    first = rows.select(pl.when(_new_visit(pl.col("_claim"), pl.col("date_of_service"), pl.col("_cont"),
                                           pl.col("_stay")))
                        .then(pl.col("date_of_service")).forward_fill().alias("_visit"), "_i")
    out = pl.repeat(None, rep.height, dtype=rep.schema["date_of_service"], eager=True).alias("_visit")
    return out.scatter(first.get_column("_i"), first.get_column("_visit")) if first.height else out


def _constant(values: pl.Series) -> bool:
    """Whether every row has the same value (all null, or no null and min = max); cheap tests only:
    text is constant here only when all null."""
    if values.null_count() == values.len():
        return True
    return values.dtype.is_numeric() and values.null_count() == 0 and values.min() == values.max()


def _claim_facts(claims: pl.DataFrame, copies: pl.DataFrame, voided: pl.DataFrame,
                 standalone: pl.Series | None = None) -> tuple[pl.DataFrame, pl.Series]:
    """Per claim (row ``i`` is claim ``i``, as :func:`_claims_of` returns them): ``cob_layer``,
    ``_inst`` (institutional), ``_corr`` (a replacement or void, or a claim a void of the batch cancels:
    ``voided``, :func:`_voided`) and ``voided_by``; and ``copy_of``.

    The copies' layers are scattered by claim number (a handful of rows), not joined."""
    layer = pl.repeat(None, claims.height, dtype=pl.UInt8, eager=True).alias("_layer")
    copy_of = pl.repeat(None, claims.height, dtype=pl.String, eager=True).alias("copy_of")
    if copies.height:
        layer = layer.scatter(copies.get_column("_claim"), copies.get_column("_layer"))
        copy_of = copy_of.scatter(copies.get_column("_claim"), copies.get_column("copy_of"))
    cancelled = pl.repeat(None, claims.height, dtype=pl.String, eager=True).alias("voided_by")
    if voided.height:
        cancelled = cancelled.scatter(voided.get_column("_claim"), voided.get_column("voided_by"))
    facts = claims.select(
        pl.coalesce(pl.col("payer_sequence").replace_strict(_COPY_LAYER, default=None, return_dtype=pl.UInt8),
                    pl.lit(layer), pl.lit(0, pl.UInt8)).alias("cob_layer"),
        (pl.col("claim_type") == "institutional").fill_null(False).alias("_inst"),
        # A replacement or void (CLM05-3 7, 8) sends again services billed on an earlier claim: like
        # a next-payer copy, its own encounter, never counted with the original it corrects.
        # (a replacement of a claim outside the batch counts with the visit's other claims:
        # :func:`_standalone_replacements`)
        ((pl.col("claim_frequency").is_in(reference.correction_frequencies()).fill_null(False)
          & ~pl.col("_claim").is_in((standalone if standalone is not None
                                     else pl.Series([], dtype=pl.UInt32)).implode()))
         | pl.lit(cancelled).is_not_null()).alias("_corr"),
        pl.lit(cancelled).alias("voided_by"),
    )
    return facts, copy_of


def _anchored_masks(billed: pl.Series, mask_column: str) -> pl.Series:
    """For each billed set in ``billed`` (distinct masks, a few dozen), the billed codes that are
    anchored when add-ons take their primaries from ``mask_column`` of the code table (CPT's lists
    or the CMS NCCI add-on code edits): RULES.md "Anchored", initial and stand-alone services, then
    every billed add-on one of whose primaries is anchored, one step at a time until nothing changes.

    Plain integers per distinct mask: a Polars plan per step cost 0.3 s even on 14 rows."""
    table = reference.code_table().filter(pl.col("adm_bit").is_not_null())
    addons = table.filter(pl.col("adm_role") == "addon").select("adm_bit", mask_column).rows()
    addon_mask = sum(bit for bit, _ in addons)
    out = []
    for mask in billed.to_list():
        if mask is None:
            out.append(None)
            continue
        anchored = mask & ~addon_mask & 0xFFFFFFFFFFFFFFFF
        for _ in range(len(addons)):  # a chain is at most as long as the add-on list
            step = anchored
            for bit, primaries in addons:
                if mask & bit and anchored & (primaries or 0):
                    step |= bit
            if step == anchored:
                break
            anchored = step
        out.append(anchored)
    return pl.Series(out, dtype=pl.UInt64)


def _encounter_masks(lines: pl.DataFrame, cd_runs: tuple[pl.Series, pl.Series] | None = None) -> pl.DataFrame:
    """``enc_admin_mask`` (administration codes billed in the encounter, from the claim-and-date masks,
    which hold the readable codes of rejected rows too) and ``enc_anchored_mask`` (RULES.md "Anchored":
    initial and stand-alone services billed, then every billed add-on one of whose allowed primaries
    is anchored, repeated until nothing changes). Which primaries an add-on accepts is the line's
    policy (``pol_ncci_addons``: the CMS NCCI add-on code edits, else CPT's parentheticals)."""
    enc_key = lines.get_column("enc_key")
    parts = pl.DataFrame([enc_key, lines.get_column("cd_admin_mask")])
    cd_key = lines.get_column("cd_key")
    runs = _claim_date_runs(cd_key) if cd_runs is None else cd_runs
    if runs:
        # The mask is one value per claim and date, and so is the encounter: one row per claim and
        # date is enough to OR over (0.3 s -> 0.1 s on 2M lines).
        group, firsts = runs
        keys = enc_key.gather(firsts)
        # enc_key is a dense rank (1..n, see encounters()): as many keys as claim-and-date groups
        # means each encounter is one claim and date (the usual case).
        if keys.len() == 0 or (keys.null_count() == 0 and keys.max() == keys.len()):
            return _one_group_encounters(lines, group, firsts)
        parts = parts[firsts]
    # Sorted by encounter: the OR runs on Polars' sorted path (a hash group-by with a bitwise-or
    # aggregate took 0.2 s on 600k rows, this 0.06 s), and not at all when each encounter is one
    # claim and date (the usual case).
    parts = parts.sort("enc_key")
    keys = parts.get_column("enc_key")
    if sorted_distinct(keys):
        per_enc = parts.rename({"cd_admin_mask": "enc_admin_mask"})
    else:
        per_enc = parts.with_columns(keys.set_sorted()).group_by("enc_key", maintain_order=True).agg(
            pl.col("cd_admin_mask").bitwise_or().alias("enc_admin_mask"))
    # The anchored set depends on the billed set only: decided once per distinct mask (a few dozen
    # values, not 600k encounters; 1.2 s -> 0.01 s on 2M lines), then mapped to the encounters.
    distinct = per_enc.select(pl.col("enc_admin_mask").unique())
    masks = distinct.get_column("enc_admin_mask")
    per_enc = per_enc.with_columns(
        pl.col("enc_admin_mask").replace_strict(masks, _anchored_masks(masks, column), return_dtype=pl.UInt64)
        .alias(name) for name, column in (("_cpt", "adm_primary_mask"), ("_ncci", "adm_ncci_primary_mask")))
    keys = per_enc.get_column("enc_key")
    if keys.len() and keys[0] == 1 and keys[-1] == keys.len() and keys.null_count() == 0:
        # enc_key is a dense rank (1..n, see encounters()): each line's encounter is a position.
        spread = per_enc.select(pl.all().gather(enc_key - 1)).hstack([lines.get_column("pol_ncci_addons")])
    else:
        spread = pl.DataFrame([enc_key, lines.get_column("pol_ncci_addons")]).join(
            per_enc, on="enc_key", how="left", maintain_order="left")
    return spread.select(
        "enc_admin_mask",
        pl.when(pl.col("pol_ncci_addons")).then(pl.col("_ncci")).otherwise(pl.col("_cpt")).alias("enc_anchored_mask"),
    )


def _one_group_encounters(lines: pl.DataFrame, group: pl.Series, firsts: pl.Series) -> pl.DataFrame:
    """:func:`_encounter_masks` when each encounter is one claim and date (``group``: each line's
    claim-and-date run, ``firsts``: the runs' first rows): the encounter's mask is the line's own
    ``cd_admin_mask``, and its anchored set is decided per run and spread to the lines by one gather
    from the CPT sets followed by the NCCI ones (no sort by encounter, no 2M-row gather per column:
    0.12 -> 0.04 s on 2M lines)."""
    billed = lines.get_column("cd_admin_mask")
    per_group = billed.gather(firsts)
    masks = per_group.unique()
    choices = pl.concat([
        per_group.replace_strict(masks, _anchored_masks(masks, column), return_dtype=pl.UInt64)
        for column in ("adm_primary_mask", "adm_ncci_primary_mask")])
    ncci = lines.get_column("pol_ncci_addons").fill_null(False).cast(pl.UInt32)
    return pl.DataFrame([billed.alias("enc_admin_mask"),
                         choices.gather(group + ncci * per_group.len()).alias("enc_anchored_mask")])


def _rejected_in_encounter(lines: pl.DataFrame, added: pl.Series) -> pl.Series:
    """``enc_rejected_mask``: the administration codes billed in the encounter on rejected rows whose
    code could be read (``added``: per line, those of its claim and date). Such a code is no evidence
    for a finding (:func:`checked_admin_masks`), yet the finding a good line would get beside it
    cannot be told either (a rejected 96365 beside a good 96365: which is the second initial service
    is unknown): the checks judging two billed services together count those lines not evaluated
    (probe 20B D2: the good line's finding went with no count). Only built when there are such rows."""
    frame = pl.DataFrame([lines.get_column("enc_key"), added])
    return frame.select(pl.col("cd_rejected_mask").bitwise_or().over("enc_key").alias("enc_rejected_mask")
                        ).to_series()


def _anchored_by_rejected(lines: pl.DataFrame, own: pl.Series) -> pl.Series:
    """``enc_rejected_anchor_mask``: the codes of the encounter that are anchored only because a
    rejected row of its claim and date bills their primary (``own``: the claim-and-date masks
    without rejected rows' codes). A check reporting an add-on without its primary does not report
    those (the primary was billed: our rejection must not invent a finding) and counts them as not
    evaluated (their primary's line could not be checked). Only built when rejected rows add codes."""
    without = _encounter_masks(lines.with_columns(own.alias("cd_admin_mask")))
    return (lines.get_column("enc_anchored_mask") & ~without.get_column("enc_anchored_mask")).alias(
        "enc_rejected_anchor_mask")


def _unreadable_in_encounter(lines: pl.DataFrame, unreadable: pl.DataFrame | None,
                             rejected: pl.DataFrame | None = None) -> pl.Series:
    """``enc_unreadable``: the encounter's lines may be incomplete, so a check that reports the
    *absence* of a line there (an add-on without its primary, a drug without its administration or
    its JW line, home IVIG supplies without the drug) would be guessing; such lines are left
    unevaluated instead (issue 12: a bad row never changes good rows' findings). Set where the
    encounter holds a claim with a row whose code is unknown (on that row's date, every date of the
    claim when it has none): a row the loader could not read (ragged, unclosed quote, X12 structure)
    or a rejected row whose code is missing or malformed; or a rejected immune globulin line (the
    drug billed, its facts unreadable: the code masks hold administration and JW codes only), or is
    its member's on the date of such a row (a drug line, every date of the member when its date is
    unknown; or a row of unknown code with a readable date) whose claim has no line checked: another
    claim of the encounter may be the one that bills the primary (96365 on a ragged row of claim A1
    beside claim B1's 96366 of the same member and date: B1's add-on was reported "without its
    primary"); such a row of unknown code and unknown date is its member's on every date (a row cut
    after its payer), and a member id read with a byte of another encoding is the batch's ids it may
    stand for (:func:`_members_of_lossy_ids`; probe 20B: each made "no primary" on the good claim
    beside it). A row whose member is unknown (empty) says nothing about any encounter. Rejected rows
    whose administration code is readable are in the code masks instead
    (:func:`_with_rejected_codes`)."""
    false = pl.repeat(False, lines.height, eager=True).alias("enc_unreadable")
    parts = [f.select("claim_id", "member_id", "date_of_service",
                      *[(pl.col(c) if c in f.columns else pl.lit(None, pl.String)).cast(pl.String).alias(c)
                        for c in ("claim_type", "billing_provider")],
                      pl.lit(True).alias("_unknown_code"), pl.lit(False).alias("_drug"))
             for f in (unreadable,) if f is not None and f.height]
    if rejected is not None and rejected.height:
        ig = rejected.select(_code_index(rejected)).select(is_ig().fill_null(False)).to_series()
        # Unknown: missing, or not a 5-character code ("9636", "96365X", Arabic-Indic digits): what
        # the row billed cannot be told, so it may be the primary an add-on beside it needs.
        code = pl.col("procedure_code")
        unknown = code.is_null() | ~code.str.contains(PROCEDURE_CODE_RE).fill_null(False)
        parts.append(rejected.select("claim_id", "member_id", "date_of_service", "claim_type", "billing_provider",
                                     unknown.alias("_unknown_code"), ig.alias("_drug")))
    if not parts:
        return false
    bad = pl.concat(parts, how="vertical_relaxed")
    checked = lines.get_column("claim_id").unique().implode()
    orphan = ~pl.col("claim_id").is_in(checked).fill_null(False)
    # Where each such row belongs: its claim on its date (every date of the claim when its date is
    # unknown); a row whose claim has no line checked, the encounters of its member and date it may
    # belong to (:func:`_orphan_passes`).
    hit = pl.repeat(False, lines.height, eager=True)
    own = bad.filter((pl.col("_unknown_code") | pl.col("_drug")) & ~orphan)
    # (probe 20B: a row of unknown code whose date could not be read, of a claim with no line checked,
    # made "no primary" on a good claim of its member: it is that member's on every date)
    orphans = _members_of_lossy_ids(lines, bad.filter(
        orphan & pl.col("member_id").is_not_null() & (pl.col("_drug") | pl.col("_unknown_code"))))
    passes = [(lines.get_column("claim_id"), own.with_columns(pl.col("claim_id").alias("_key"))),
              *_orphan_passes(lines, orphans)]
    for line_keys, rows in passes:
        rows = rows.filter(pl.col("_key").is_not_null())
        undated = rows.filter(pl.col("date_of_service").is_null()).get_column("_key").unique()
        dated = rows.filter(pl.col("date_of_service").is_not_null()).select("_key", "date_of_service").unique()
        if undated.len():
            hit = hit | line_keys.is_in(undated.implode()).fill_null(False)
        if dated.height:
            hit = hit | pl.DataFrame([line_keys.alias("_key"), lines.get_column("date_of_service")]).join(
                dated.with_columns(pl.lit(True).alias("_d")), on=["_key", "date_of_service"], how="left",
                maintain_order="left").get_column("_d").fill_null(False)
    if not hit.any():
        return false
    frame = pl.DataFrame([lines.get_column("enc_key"), hit.alias("_u")])
    return frame.select(pl.col("_u").any().over("enc_key").alias("enc_unreadable")).to_series()
