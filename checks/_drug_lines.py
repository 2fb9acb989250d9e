"""The lines of one drug on one claim and date, as two checks read them (one root cause, one finding).

``missing-modifier`` words a JW or JZ line by its drug's other lines (the administered line, the JW
lines), and ``unit-miscalculation`` judges a JW line's units as the discarded amount. A JW line that
is its drug's only line on the claim and date bills the administered dose under JW: its error is the
modifier (``missing-modifier``: JW comes off, the waste goes on its own line), not a count of
discarded units, so ``unit-miscalculation`` leaves it alone. That decision is
:func:`jw_billing_the_dose`, written here once for both.

The mirror case is :func:`waste_lines`: the discarded amount billed on a line of its own but without
JW (with JZ instead, the two confused, or with no modifier), beside the line that bills the dose and
documents the record. Its error is the modifier on that line (``missing-modifier``, which also names
the dose lines that carry JZ: JZ beside a JW line contradicts it); the dose line's "waste not billed
with JW" and the units over the dose that ``unit-miscalculation`` would count are the same root cause,
so both leave the drug's lines on that claim and date to it.

A third case is :func:`waste_in_dose_units`: the discarded amount billed in the dose line's own units
(J1569 x25 for 12,000 mg administered and 500 mg discarded, no JW line), where the policy asks for it
on a JW line of its own. The one unit over the dose is the waste without JW: ``missing-modifier``
reports it (``waste_in_dose_units``, whose fix bills the dose's units and adds the JW line), and
``unit-miscalculation`` does not count the same unit again as over the dose.

Whether JW and JZ apply to a line (the policy's dates, exempt places, home) is written here too
(:func:`jw_required`, :func:`jz_required`): the waste-line decision reads it, and so does
``missing-modifier``. So is whether an immune globulin was given subcutaneously
(:func:`given_subcutaneously`), which decides both the home SCIG coverage list
(``noncovered-diagnosis``) and the KX and JB modifiers (``missing-modifier``).
"""

from __future__ import annotations

import weakref

import polars as pl

from scrubber import reference
from scrubber.enrich import billed, documented_iv, documented_sc, dose_units, is_ig, waste_units, with_drug_units
from scrubber.grouping import shared_keys
from scrubber.per_batch import once_per_batch

GROUP = ["cd_key", "code_idx"]  # one drug on one claim and date


def with_doses_in_parts(drugs: pl.LazyFrame, lines: pl.LazyFrame, keep: bool = False) -> pl.LazyFrame:
    """``drugs`` (IG lines of the batch ``lines``) where a JW line that documents no dose of its own
    borrows, as ``doc_dose_mg``, the dose its drug's lines document in parts (:func:`doses_in_parts`),
    not the first line's part: its waste adds units to the dose in all. Both checks that weigh a JW
    line's waste read it so (review 27A D1). ``keep``: every line of such a drug keeps the dose in all
    as ``dose_in_all``, which weighs the waste a JZ on one of its parts denies (review 27D D1: JZ on
    x41 and x30 beside a payable JW x1 passed, each part weighed alone); null elsewhere."""
    parts = doses_in_parts(lines)
    if not parts.height:
        return drugs.with_columns(pl.lit(None, pl.Float64).alias("dose_in_all")) if keep else drugs
    borrows = pl.col("is_jw") & pl.col("drug_dose_mg").is_null() & pl.col("in_all").is_not_null()
    out = drugs.join(parts.lazy(), on=GROUP, how="left").with_columns(
        pl.when(borrows).then(pl.col("in_all")).otherwise(pl.col("doc_dose_mg")).alias("doc_dose_mg"))
    return out.rename({"in_all": "dose_in_all"}) if keep else out.drop("in_all")


@once_per_batch
def doses_in_parts(lines: pl.LazyFrame) -> pl.DataFrame:
    """``GROUP``, ``in_all`` (mg): the drugs two or more lines without JW of which each
    document their own dose, one per NDC, and at most one a discarded amount (the last container's):
    one dose billed in parts, whose dose used is their sum, rounded up once (IOM 100-04 ch.17 s.10; CMS
    RAC topic 0074; probe 26B D2). ``unit-miscalculation`` counts the lines' units against it, and
    ``missing-modifier`` weighs a JW line's waste against it (review 27A D1: x41 + x30 + JW x1 for
    20,100 + 15,100 mg and 400 mg discarded was told to delete the JW line, weighed against 20,100 mg
    alone; probe 28A D1: the same with the 400 mg written on the x30 part was judged part by part,
    "bill x31" and "delete the JW line" on a claim billed right, while missing-modifier read the parts in
    all). Where two or more parts each document a discarded amount, each is its own container's dose
    and waste: those drugs are not here. One pass over the drug lines (one packed integer per line, the
    shared ones by a sort, as :func:`scrubber.grouping.shared_keys` finds them), once per batch; the rest
    on the few collected."""
    plain = lines.filter(is_ig() & ~pl.col("is_jw"))
    own = pl.col("drug_dose_mg")
    packed = pl.col("cd_key").cast(pl.UInt64) * 256 + pl.col("code_idx").cast(pl.UInt64)
    wasted = pl.col("drug_wasted_mg") > 0
    owning = plain.filter(own.is_not_null() | wasted).select(
        *GROUP, packed.alias("_k"), own.alias("_dose"), wasted.fill_null(False).alias("_w")).collect()
    shared = shared_keys(owning.filter(pl.col("_dose").is_not_null()).get_column("_k"))
    return owning.filter(pl.col("_k").is_in(shared.implode())).group_by(GROUP).agg(
        pl.col("_dose").sum().alias("in_all"), pl.col("_w").sum().alias("_w")).filter(pl.col("_w") <= 1).drop("_w")


def siblings(drugs: pl.LazyFrame, wanted: pl.LazyFrame) -> pl.LazyFrame:
    """Per drug, claim and date in ``wanted`` (lines of ``drugs``): ``admin_line`` (the first line
    without JW), ``admin_lines`` (all of them, "2, 3"), ``admin_billed`` (their units in all), ``n_admin``
    (how many lines without JW),
    ``admin_has_jz``, ``jw_lines`` (the JW lines' numbers), ``n_jw`` and ``dose_jw_row`` (when
    every line carries JW, the one that bills the dose: the one documenting its own dose, else the
    most units, else the first) and ``waste_jw_lines`` (the other JW lines' numbers). Aggregated
    only for the groups of ``wanted``: a few lines of a batch."""
    is_jw = pl.col("is_jw")

    def of_jw(name: str) -> pl.Expr:
        return pl.col(name).filter(is_jw)

    dose_first = [pl.col("drug_dose_mg").is_not_null().filter(is_jw), of_jw("units"), of_jw("line_number")]
    dose_row = of_jw("row_id").sort_by(dose_first, descending=[True, True, False]).first()
    return drugs.join(wanted.select(GROUP).unique(), on=GROUP, how="semi").group_by(GROUP).agg(
        pl.col("line_number").filter(~is_jw).min().alias("admin_line"),
        pl.col("line_number").filter(~is_jw).sort().cast(pl.String).str.join(", ").alias("admin_lines"),
        pl.col("units").filter(~is_jw).sum().alias("admin_billed"),
        (~is_jw).sum().alias("n_admin"),
        (pl.col("is_jz") & ~is_jw).any().alias("admin_has_jz"),
        pl.col("line_number").filter(is_jw).sort().cast(pl.String).str.join(", ").alias("jw_lines"),
        is_jw.sum().alias("n_jw"),
        dose_row.alias("dose_jw_row"),
        pl.col("line_number").filter(is_jw & (pl.col("row_id") != dose_row)).sort().cast(pl.String).str.join(", ")
        .alias("waste_jw_lines"),
    )


def jw_billing_the_dose() -> pl.Expr:
    """On lines joined with :func:`siblings`: the JW line that bills the administered dose, where no
    line of its drug on the claim and date is without JW (with several JW lines, the one
    ``dose_jw_row`` names; the others bill the discarded amount)."""
    return pl.col("is_jw") & (pl.col("n_admin") == 0) & (pl.col("row_id") == pl.col("dose_jw_row"))


def since(column: str) -> pl.Expr:
    """The date of service is on or after the policy date in ``column`` (false when the policy has none)."""
    return (pl.col(column).is_not_null() & (pl.col("date_of_service") >= pl.col(column))).fill_null(False)


def _jw_jz_apply() -> pl.Expr:
    """JW/JZ apply at the line's place of service: not an exempt place (``jw_jz.exempt_pos``), and at
    home only from the policy's home date (``jw_jz.home_from``), where it has one. Home is the policy's
    home places and its home IVIG places (``is_home_ivig``: POS 32, where the supplier bills the drug
    and its Q2052 too): the same drug at POS 32 and POS 12 in 2023 was told to append JZ at 32 only.
    The home date is the DME supplier's (drugs dispensed for self-administration): a drug whose
    encounter bills an administration service was given by the practitioner, whose claims follow the
    general dates (probe 19D: 96365 + J1459 at POS 12 in August 2023 was asked no JZ)."""
    at_home_ok = ~_home_dated() | since("pol_jwjz_home_from")
    return ~pl.col("jwjz_exempt") & at_home_ok


def _home_dated() -> pl.Expr:
    """The line is dispensed for home use (:func:`_jw_jz_apply`) under a policy with a home date."""
    home = ((pl.col("is_home") | pl.col("is_home_ivig")) & (pl.col("enc_admin_mask") == 0)).fill_null(False)
    return home & pl.col("pol_jwjz_home_from").is_not_null()


def required_from(column: str) -> pl.Expr:
    """The date JW or JZ (``column``: ``pol_jw_from`` / ``pol_jz_from``) is required from on this line,
    for the words: the policy's date, or at home its home date where that is later (probe 22A: home SCIG
    on 2024-01-02 was told JZ was required "from 2023-07-01", the practitioner's date)."""
    return pl.when(_home_dated()).then(pl.max_horizontal(column, "pol_jwjz_home_from")).otherwise(pl.col(column))


def jw_required() -> pl.Expr:
    """The policy requires JW for billable waste on this line (``jw.required_from``)."""
    return _jw_jz_apply() & since("pol_jw_from")


def jz_required() -> pl.Expr:
    """The policy requires JZ on this line when nothing billable was discarded (``jz.required_from``)."""
    return _jw_jz_apply() & since("pol_jz_from")


def has_jw_line() -> pl.Expr:
    """On IG lines with the ``ig_bit`` code: a line of the same drug on the claim and date carries JW
    (the claim-and-date JW mask, enrich ``cd_jw_mask``)."""
    return (pl.col("cd_jw_mask") & pl.col("ig_bit")) != 0


def has_dose_line() -> pl.Expr:
    """On IG lines with the ``ig_bit`` code: a line of the same drug on the claim and date carries no JW
    (the claim-and-date mask enrich ``cd_dose_mask``; a rejected row's readable code counts)."""
    return (pl.col("cd_dose_mask") & pl.col("ig_bit")) != 0


def waste_beside_dose() -> pl.Expr:
    """On IG lines with the ``ig_single_dose`` and ``ig_bit`` codes: a single-dose drug's line without
    JW, in a readable encounter, whose drug has no JW line on the claim and date: where the policy asks
    for the discarded amount on a JW line there (:func:`jw_required`) the waste billed in the line's
    own units is ``missing-modifier``'s (its ``jz_with_billable_waste``, ``waste_unbilled`` and
    ``waste_without_jw`` hold such lines to their documented waste); where it does not (Medicare before JW was required,
    2017-01-01; a payer policy without JW), the waste billed with the dose on its line is payable as
    billed (IOM 100-04 ch.17 s.40: the discarded amount of a single-dose container is paid), so no
    units over the dose either way. Not where JW/JZ do not apply at the place (:func:`_jw_jz_apply`:
    an exempt place, inpatient, whose drugs Part B does not pay apart; home before the home date):
    there a unit past the dose is over (probe 27B D2: "bill x56" for x60 of 27,600 mg given and 2,400 mg
    discarded dropped four payable units where no JW was asked)."""
    return (pl.col("ig_single_dose").fill_null(False) & ~pl.col("is_jw") & ~has_jw_line()
            & ~pl.col("enc_unreadable") & _jw_jz_apply())


def waste_paid_with_dose() -> pl.Expr:
    """:func:`waste_beside_dose` where the policy asks no JW line there (:func:`jw_required`): the waste
    billed in the dose line's own units is payable as billed (IOM 100-04 ch.17 s.40). unit-miscalculation
    allows its units (``drug_over_with_waste``), and missing-modifier deletes a JW line apart that bills
    it again (``jw_waste_billed_in_dose_units``): one condition, read by both."""
    return waste_beside_dose() & ~jw_required()


def waste_in_dose_units(billed: pl.Expr, dose: pl.Expr, waste: pl.Expr, unit: pl.Expr, due: pl.Expr) -> pl.Expr:
    """The dose's line (or lines, ``billed`` in all) bill the documented dose and its billable waste
    together, ceil(dose / unit) + the waste's units exactly, on lines ``due`` (:func:`waste_beside_dose`;
    ``missing-modifier`` passes those where :func:`jw_required`): one root cause, the waste without JW
    that ``missing-modifier`` reports, or the waste payable as billed where no JW is asked; either way
    not also counted over the dose by ``unit-miscalculation``. False where anything is undocumented."""
    extra = waste_units(dose, waste, unit)
    return (due & (extra >= 1) & (billed == dose_units(dose, unit) + extra)).fill_null(False)


def waste_lines(lines: pl.LazyFrame) -> pl.LazyFrame:
    """Per drug, claim and date where the discarded amount is billed on a line of its own without JW:
    ``row_id`` of that line, the group's keys (:data:`GROUP`), ``is_jz`` (the line carries JZ instead
    of JW; else no modifier, which counts only where the policy requires JW there) and ``jz_lines``
    (the drug's other lines there that carry JZ, e.g. "1"; null when none). A line without JW and
    without a dose of its own (a waste line borrows the record from the dose line) whose units are the
    units the documented waste adds (ceil((dose + waste) / unit) - ceil(dose / unit), at least 1), on a
    claim and date whose lines of the drug without JW bill the dose's units and the waste's units
    together, in two lines or more; when two lines could be it, the last one is. The candidates are
    decided now from columns as they are (none in most batches: then nothing else is read)."""
    plain = lines.filter(is_ig() & ~pl.col("is_jw") & ~pl.col("enc_unreadable"))
    borrowing = plain.filter(pl.col("drug_dose_mg").is_null() & pl.col("doc_dose_mg").is_not_null()
                             & (pl.coalesce("drug_wasted_mg", "doc_wasted_mg") > 0).fill_null(False)
                             & (pl.col("is_jz") | jw_required()))
    keys = borrowing.select(GROUP).unique().collect()
    if not keys.height:
        return pl.LazyFrame(schema={"row_id": pl.Int64, **keys.schema, "is_jz": pl.Boolean, "jz_lines": pl.String})
    dose, waste, unit = pl.col("doc_dose"), pl.col("doc_waste"), pl.col("ig_unit_mg")
    candidates = with_drug_units(borrowing).with_columns(
        waste_units(dose, waste, unit).alias("_w"), dose_units(dose, unit).alias("_a")).filter(
        (pl.col("_w") >= 1) & (pl.col("units") == pl.col("_w")))
    group = plain.join(keys.lazy(), on=GROUP, how="semi")
    totals = group.group_by(GROUP).agg(pl.len().alias("_n"), pl.col("units").sum().alias("_total"))
    chosen = candidates.join(totals, on=GROUP).filter(
        (pl.col("_n") >= 2) & (pl.col("_total") == pl.col("_a") + pl.col("_w"))
    ).sort("line_number").group_by(GROUP).agg(pl.col("row_id", "is_jz").last())
    jz_lines = group.filter("is_jz").join(chosen.select(*GROUP, pl.col("row_id").alias("_chosen")), on=GROUP).filter(
        pl.col("row_id") != pl.col("_chosen")).group_by(GROUP).agg(
        pl.col("line_number").sort().cast(pl.String).str.join(", ").alias("jz_lines"))
    return chosen.join(jz_lines, on=GROUP, how="left").select("row_id", *GROUP, "is_jz", "jz_lines")


def given_subcutaneously(batch: pl.LazyFrame) -> pl.Expr:
    """On IG lines with ``ig_route`` and the modifier roles (``with_modifier_roles``): the drug was given
    subcutaneously. An SC-only product; or one given both ways (J1561, J1569) documented SC (route or
    JB), or documenting no route where the encounter's administration is SC infusion only (the
    administration billed says how it was given, as in route-mismatch) or a subcutaneous infusion pump
    (E0779, E0781: MANIFEST ``dme_jb``) is billed at home on the line's claim or by its supplier for the
    patient and date (``enc_key``) in ``batch`` and no home IVIG supply (Q2052) is: an 837P carries no
    route, and home IVIG under its own benefit is billed with Q2052, not a pump (A52509; probe 18A:
    J1569 + E0779 at home without JB or KX passed)."""
    sc_admin_only = billed(reference.route_evidence_bits("sc_infusion")) & ~billed(
        reference.route_evidence_bits("iv_infusion"))
    items = _home_pumps_and_supplies(batch)

    def beside(kind: pl.Expr) -> pl.Expr:
        found = items.filter(kind)
        return (pl.col("claim_id").is_in(found.get_column("claim_id").unique().implode())
                | pl.col("enc_key").is_in(found.get_column("enc_key").unique().implode()))

    # (a home IVIG supply, Q2052, beside it says the IVIG benefit: the evidence conflicts, no SC is
    # read from the pump; probe 18D: JB/KX asked of a drug home-ig-supplies pairs as home IVIG)
    beside_pump = pl.col("is_home") & beside(pl.col("_pump")) & ~beside(~pl.col("_pump"))
    return ((pl.col("ig_route") == "SC") | (
        (pl.col("ig_route") == "IV_SC") & (documented_sc() | (~documented_iv() & (sc_admin_only | beside_pump)))
    )).fill_null(False)


def beside_home_drug(items: pl.LazyFrame, drugs: pl.LazyFrame) -> pl.LazyFrame:
    """``_item``, ``row_id``, ``_via``: each pump or supply line of ``items`` with each home immune
    globulin line of ``drugs`` it goes with (both with ``row_id``, ``claim_id``, ``enc_key``): on the
    drug's claim whatever their date (``_via`` 0: a pump rented from the day before, a Q2052 up to 30
    days after the drug's delivery), or billed by its supplier for the patient and date on a claim of
    their own (``_via`` 1; probes 17A, 17D). The one pairing missing-modifier (KX and JB on the pump of
    home SCIG) and noncovered-diagnosis (the pump, or the Q2052 of home IVIG, at risk with an uncovered
    drug) read."""
    return pl.concat([
        items.select(pl.col("row_id").alias("_item"), key).join(drugs.select("row_id", key), on=key).select(
            "_item", "row_id", pl.lit(via, pl.UInt8).alias("_via"))
        for via, key in enumerate(("claim_id", "enc_key"))
    ])


_PUMPS: list = [None, None]  # (weak reference to the batch, its pumps and supplies): read once per run


def _home_pumps_and_supplies(batch: pl.LazyFrame) -> pl.DataFrame:
    """``claim_id``, ``enc_key``, ``_pump`` of the batch's home pump (E0779, E0781) and home IVIG supply
    (Q2052) lines: a scan of the batch, made once for the lines every check is handed (missing-modifier
    asks three times, noncovered-diagnosis once; none in most batches)."""
    cached, items = _PUMPS
    if cached is not None and cached() is batch:
        return items
    _, pumps = reference.dme_jb_codes()
    supplies = reference.home_ivig_supplies().get_column("code")
    items = batch.filter(pl.col("is_home") & pl.col("code_idx").is_null()).filter(
        pl.col("procedure_code").is_in(pumps) | pl.col("procedure_code").is_in(supplies.implode())).select(
        "claim_id", "enc_key", pl.col("procedure_code").is_in(pumps).alias("_pump")).collect()
    _PUMPS[:] = [weakref.ref(batch), items]
    return items
