"""missing-modifier: a required JW, JZ or KX modifier is absent, or JW and JZ contradict each other.

**missing-modifier** (error). Policy-driven.
- JW/JZ, MEDICARE: required on separately payable single-dose drugs (all IG codes); JW since
  2017-01-01, JZ for dates of service on or after 2023-07-01. Not at POS 21 inpatient, 50 FQHC, 72 RHC.
  At home (drugs a DME supplier dispenses for self-administration; the home places and the home IVIG
  places, POS 32 included) JZ and JW are required for dates of service on or after 2024-01-01 only; a
  drug the practitioner gives at home (the encounter bills an administration service, 96365...) is no
  supplier's and follows the dates above. Fires when:
  - a drug line carries neither JZ nor a JW line for the same drug on the claim and date;
  - JZ is billed while the documented waste adds at least one billing unit
    (ceil((dose + wasted) / unit) > ceil(dose / unit)); waste inside the rounded-up unit is not
    billable, and then JZ is exactly right (A52507 scenario 2; "no billable discarded amount");
  - a JW line is billed for waste that adds no billing unit (JW not permitted there: use JZ);
  - JW and JZ sit on one line, or a JZ line and a JW line bill the same drug on the claim and date
    (they contradict each other at any place of service, required there or not);
  - a JW line is its drug's only line on the claim and date: it bills the administered dose under JW
    (the fix takes JW off it, appends JZ where required, and bills documented waste that adds a unit
    on its own JW line; never "delete the JW line", which would drop the dose); when every line of
    the drug there carries JW, the one that bills the dose (documents it, else the most units) is
    that line, and the others bill the waste (the fix takes JW, and JZ, off the dose line only);
    also where the record's amounts are not documented (an 837I line carries none): a discarded
    amount is paid only beside the dose administered from the container (IOM 100-04 ch.17 s.40), so
    a lone JW line is wrong either way, unless a line of the drug without JW is billed in the
    encounter on another claim (a claim split in two); and where the lone JW line bills just the
    documented discarded amount, the dose documented is billed on no line (the fix adds the dose's
    line and keeps the JW line);
  - a JW line apart from its dose (no line of the drug without JW on its claim and date, one on
    another claim of the visit or another date of the hospital claim): where that dose has no JW line
    of its own and documents waste that adds a unit (with or without JZ, or billed in the dose line's
    own units: probe 28A D2), the dose line's finding moves
    that JW line beside it (`waste_jw_line_apart`, a dose billed over several lines
    `waste_jw_line_apart_lines`; "add a JW line" beside it billed the waste twice), and so does a
    dose line with neither JW nor JZ whose record documents no amounts, as an 837 sends it
    (`waste_jw_line_apart_undocumented`: not "append JZ" while the visit bills its waste under JW;
    review 27A D2; a dose billed in parts so is one finding naming its lines, review 27D D4);
    where the dose has its own JW line, this one bills the waste a second time and is deleted
    (`jw_waste_billed_twice`; probe 26B D1), and so where no JW line is asked and the dose line bills
    its waste in its own units (`jw_waste_billed_in_dose_units`; review 28E D2); of two or more such
    JW lines apart from a dose without
    its own, the first (by claim, date and line) is moved and each other one is deleted, the waste
    billed once (`jw_apart_billed_by_moved`; review 26D W2); where the dose documents no discarded amount that adds a
    unit (JZ, or waste inside the rounded-up unit), there is none to bill and it is deleted
    (`jw_apart_no_billable_waste`; review 26D D4);
  - the discarded amount is billed on its own line with JZ instead of JW, or with no modifier where
    the policy requires JW, beside the line that bills the dose (the fix puts JW on that line, and
    takes JZ off the dose line if it carries it; the dose line is not reported again);
  - a dose billed over several lines (one per NDC, the record on one of them, or each line its own
    dose and one of them the discarded amount) whose documented waste adds a unit and is not billed
    with JW is one finding, naming all the lines (one JW line to add, for the doses in all); a JW
    line beside a dose whose lines each document their own part weighs its waste against their
    doses in all, and JZ, where it applies, goes on every one of them (review 27A D1); JZ on a part
    beside a JW line whose waste adds a unit to the dose in all contradicts it (review 27D D1);
  - the discarded amount is billed in the dose line's own units (J1568 x70 for 32,000 mg administered,
    64 units, and 3,000 mg discarded, 6 units; no JW line) where the policy requires JW: the waste
    without JW (`waste_in_dose_units`, the fix bills the dose's units and adds the JW line), not also
    units over the dose under `unit-miscalculation` (one root cause). Where JZ is required the line,
    with neither JW nor JZ, is returned unprocessed (its whole charge at risk); where only JW is (the
    DEFAULT policy, Medicare before 2023-07-01) the line is processed and the waste's units are at risk
    (`waste_units_without_jw`).
- JW/JZ, DEFAULT: JW for documented waste that adds at least one unit; JZ not required.
- KX, MEDICARE: subcutaneous immune globulin at home under the External Infusion Pumps policy (A52507)
  for dates of service on or after 2023-01-01: an SC IG line (J1551, J1555, J1558, J1559, J1575, or
  J1561/J1569 documented SC or carrying JB, or with no route documented beside SC administration only
  or a subcutaneous infusion pump, E0779/E0781, for the patient and date: an 837P carries no route)
  at a home place of service must carry KX (criteria met),
  GA or GZ (criteria not met, with or without an ABN) or GY (drug not given through a covered pump).
  Home IVIG under the IVIG benefit (A52509) has no KX requirement: an unmet criterion there is "no
  benefit category" (see `noncovered-diagnosis`). KX on administration lines is never required. The
  external infusion pump and supply lines (E0779, E0780, E0781, E0791, A4221, A4222) billed at home
  by the supplier of such an SC IG line for the patient and date (on its claim or one of their own)
  need one of the same modifiers: "claims for external infusion
  pumps, drugs, and supplies billed without a KX, GA, or GZ modifier ... will be rejected for missing
  information" (Noridian JA DME, 2023 EIP modifiers; `kx_missing_pump_supply`). A
  line whose diagnoses are off the covered list is `noncovered-diagnosis`'s (`home_scig_not_covered`:
  the criteria are not met, its fix appends GA or GZ), not also missing KX (one root cause: the KX
  fix asserted the criteria met). DEFAULT: none.
- JB, MEDICARE: the same SC IG lines at home (J1551, J1555, J1558, J1559, J1561, J1569, J1575), and
  the E0779/E0781 pump lines their supplier bills for the patient and date, carry JB (administered
  subcutaneously) for dates of service from 2011-07-22: "For J1569 and associated infusion pump (E0779)
  claims where the route of administration is subcutaneous, a JB modifier must be added to each HCPCS
  code" (Noridian JD DME; A52507 names the codes; `jb_missing_home_sc`). A line with JA is
  route-mismatch's contradiction, not a missing JB; another route takes no modifier. DEFAULT: none.

Implementation. Every date and place is policy data (``scrubber/policies/*.toml``, materialised per
line by enrichment): ``jw.required_from`` / ``jz.required_from`` (``pol_jw_from`` / ``pol_jz_from``),
``jw_jz.exempt_pos`` (``jwjz_exempt``), ``jw_jz.home_from`` (``pol_jwjz_home_from``: at a home place of
service JW/JZ apply from that date), ``home_pos`` (``is_home``, the one home set coverage and KX read
too), ``kx.required_from`` and ``kx.accepted`` (``pol_kx_from``, ``kx_ok``). DEFAULT simply has no JZ
date, no exempt places, no home date and no KX date. Which drugs are single-dose, their billing unit
and route are the IG table (``scrubber/data/immune_globulins.csv``).

The waste a line's drug documents (its own ``drug_dose_mg`` / ``drug_wasted_mg``, else the drug's
administered line on the claim and date, :func:`scrubber.enrich.with_drug_units`) gives the billable
discarded units, ceil((dose + waste) / unit) - ceil(dose / unit); with dose or waste undocumented it is
unknown and nothing is decided on a guess. One finding per line and root cause, most specific first:

* a line with JW and JZ: ``jw_and_jz_on_line`` (remove JZ when another line of the drug bills the dose,
  so this one bills the waste; else remove JW), or, on the drug's only line with billable waste,
  ``jz_with_billable_waste``; a JW+JZ line whose waste adds no unit is ``jw_not_billable*`` (deleting
  the line settles both), unless it is the drug's only line billing the dose's units: then it is
  ``jw_and_jz_on_line`` too (remove JW), as the same line without documented amounts (an 837 line)
  reads;
* a JW line whose waste adds no unit: ``jw_not_billable_use_jz`` (delete it and append JZ to the
  administered line, where JZ is required there and that line lacks it) or ``jw_not_billable``; but
  when it is the drug's only line on the claim and date it bills the administered dose, and the fix
  takes JW off it instead of deleting it: ``jw_on_dose_line_use_jz`` (and append JZ, where required
  and absent) or ``jw_on_dose_line``; such a line whose waste adds a unit bills dose and waste
  together under JW: ``jw_on_dose_line_with_waste`` (the dose without JW, the waste on its own JW line);
  beside JW lines that bill the waste, ``jw_on_dose_line_beside_jw`` / ``jw_and_jz_on_dose_line`` (the
  modifiers come off the dose line; no JW line is added);
* the waste billed on its own line with JZ, or with no modifier where JW is required, beside the dose
  line (:func:`checks._drug_lines.waste_lines`): ``jz_on_waste_line`` / ``waste_line_without_jw`` on
  that line, or ``jz_on_waste_and_dose_lines`` / ``waste_line_without_jw_dose_jz`` when the dose
  lines carry JZ (named: the fix takes it off), and nothing on the drug's other lines there;
* a JZ line beside a JW line of the drug: ``jz_and_jw_lines``, unless the waste adds no unit (then the
  JW line is the error, reported above);
* JZ with billable waste and no JW line: ``jz_with_billable_waste``;
* no JZ, no JW line: with billable waste ``waste_without_jw`` where JZ is required (Medicare returns
  the claim unprocessable) or ``waste_unbilled`` where only JW is (DEFAULT, Medicare before
  2023-07-01: the policy's JW requirement is not met, an error like every missing modifier, though
  the discarded units are only money left unbilled, so nothing is at risk); without it ``no_jw_jz``.
* a dose billed over several lines without JW (the record on one of them, the others borrowing it):
  the three waste reasons above once for the dose, on the record's line, with ``_lines`` appended
  (``jz_with_billable_waste_lines``, ...) and the lines named, so the fix adds one JW line; the
  lines' own ``no_jw_jz`` stays per line (each line needs JZ).

Deviation from the letter of RULES.md, following it in substance: the JW line for waste that adds no
unit and the two contradictions are reported for every policy and place of service
(``unit-miscalculation`` leaves such a JW line to this check for every payer; a line cannot be both
JW and JZ anywhere).

KX: a home line of a policy with a KX date, for a code whose IG route is SC, or IV/SC (J1561, J1569)
documented SC (``route`` SC or JB), on or after the date, without an accepted modifier (``kx_ok``).
Administration codes and IVIG never need it. KX is its own finding: a line may also have a JW/JZ one.

Cost: the IG lines are filtered first; the sibling facts (the administered line, the JW lines) are
aggregated only for the claims and dates of the few lines that need them; KX reads home lines only.
"""

from __future__ import annotations

import polars as pl

from checks._drug_lines import (
    GROUP,
    beside_home_drug,
    given_subcutaneously,
    has_dose_line,
    has_jw_line,
    jw_billing_the_dose,
    jw_required,
    jz_required,
    required_from,
    siblings,
    since,
    waste_in_dose_units,
    waste_lines,
    waste_paid_with_dose,
    with_doses_in_parts,
)
from checks._first_rule import first_rule, rule_value
from checks.noncovered_diagnosis import home_scig_uncovered
from scrubber import reference
from scrubber.cards import load_card
from scrubber.enrich import (
    checked_admin_masks,
    code,
    dose_units,
    has_modifier,
    is_ig,
    rejected_codes_in_masks,
    waste_units,
    with_codes,
    with_drug_units,
    with_modifier_roles,
)
from scrubber.registry import Check, Context
from scrubber.text import number

# The facts every JW/JZ finding carries (templates use those of their reason).
_FACTS = ["product", "dose", "waste", "unit_mg", "waste_units", "admin_units", "admin_line", "jz_to", "jw_lines",
          "jz_note", "jz_lines",
          "dose_lines", "waste_jw_lines", "drop", "keep", "jz_from", "jw_from", "billed", "excess_units",
          "jw_claim", "jw_line", "jw_dos", "jw_units", "dose_claim", "dose_line", "dose_dos", "risk_rows", "dose_words"]

_APART_FACTS = {"jw_claim": pl.String, "jw_line": pl.Int32, "jw_dos": pl.Date, "jw_units": pl.Float64,
                "dose_claim": pl.String, "dose_line": pl.Int32, "dose_dos": pl.Date, "risk_rows": pl.List(pl.Int64),
                "dose_words": pl.String}

# The reasons of a dose line whose waste no JW line of its claim and date bills, where one of another
# claim or date of the encounter does (:func:`_moved_jw_line`).
# (and the discarded amount billed in the dose line's own units: "bill the dose's units and add a JW
# line" beside a JW line on the visit's other claim billed the waste twice, probe 28A D2)
_MOVABLE = ("waste_without_jw", "waste_unbilled", "jz_with_billable_waste", "waste_in_dose_units",
            "waste_units_without_jw")


def _jw_apart_from_dose(drugs: pl.LazyFrame) -> pl.DataFrame:
    """The JW lines with no line of their drug without JW on their claim and date whose encounter bills
    the drug's dose elsewhere (another claim of the visit, another date of a hospital stay), with
    ``_twice`` (every such dose line already has a JW line of its own: this one bills the waste a
    second time), ``_no_waste`` (no such dose documents a discarded amount that adds a unit) and the
    dose line's ``dose_claim``, ``dose_line``, ``dose_dos`` (the one with its own JW line, else the
    first), and the line's ``enc_key``, ``code_idx``, claim, line, date and units. Probe 26B D1: the JW
    line was excused by the dose in the encounter while the dose line was told to add a JW line of its
    own, so the fixes billed the waste twice, and a waste billed twice passed. Found by a mask test on
    the drug lines (read off the rules' frame, it ran their siblings' join a second time: 0.09 s of 2M
    lines); a few lines, or none."""
    schema = {"row_id": pl.Int64, "enc_key": pl.UInt32, "code_idx": pl.UInt8, "jw_claim": pl.String,
              "jw_line": pl.Int32, "jw_dos": pl.Date, "jw_units": pl.Float64, "_twice": pl.Boolean,
              "_in_units": pl.Boolean, "_no_waste": pl.Boolean, "dose_claim": pl.String, "dose_line": pl.Int32,
              "dose_dos": pl.Date}
    apart = drugs.filter(pl.col("is_jw") & ~has_dose_line()).select(
        "row_id", "enc_key", "code_idx", "cd_key", pl.col("claim_id").alias("jw_claim"),
        pl.col("line_number").alias("jw_line"), pl.col("date_of_service").alias("jw_dos"),
        pl.col("units").alias("jw_units")).collect()
    if not apart.height:
        return pl.DataFrame(schema=schema)
    keys = apart.select("enc_key", "code_idx", pl.col("cd_key").alias("_jw_cd"), pl.col("row_id").alias("_jw_row"))
    doses = _drug_lines(drugs.filter(~pl.col("is_jw")).join(keys.lazy(), on=["enc_key", "code_idx"]).filter(
        pl.col("cd_key") != pl.col("_jw_cd")))
    # (or, where no JW line is asked, a dose line billing its waste in its own units, payable as billed
    # there: the JW line apart bills it a second time, review 28E D2)
    doses = with_codes(doses, "ig_single_dose", "ig_bit")
    in_units = (waste_paid_with_dose() & (pl.col("waste_units") >= 1)
                & (pl.col("units") >= pl.col("admin_units") + pl.col("waste_units"))).fill_null(False)
    with_jw = pl.col("has_jw_line") | in_units
    # (a dose whose record documents no discarded amount that adds a unit: JZ, or waste inside the
    # rounded-up unit; review 26D D4: a JW line on the visit's other claim passed where on the dose's
    # own claim it is told to go)
    no_unit = (pl.col("waste_units") == 0).fill_null(False) | (pl.col("waste_units").is_null() & pl.col("is_jz"))

    def named(column: str) -> pl.Expr:  # (the dose with its own JW line, else the first)
        return pl.coalesce(pl.col(column).filter(with_jw).first(), pl.col(column).first())

    per_line = doses.sort("claim_id", "date_of_service", "line_number", "row_id").group_by("_jw_row").agg(
        with_jw.all().alias("_twice"), (in_units & ~pl.col("has_jw_line")).any().alias("_in_units"),
        (no_unit & ~with_jw).all().alias("_no_waste"),
        named("claim_id").alias("dose_claim"), named("line_number").alias("dose_line"),
        named("date_of_service").alias("dose_dos"))
    return apart.lazy().join(per_line, left_on="row_id", right_on="_jw_row", how="inner").select(
        list(schema)).collect().cast(schema)  # type: ignore[arg-type]


def _moved_jw_line(alone: pl.LazyFrame, apart: pl.DataFrame, drugs: pl.LazyFrame
                   ) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """``alone`` (the dose lines' findings) with ``waste_jw_line_apart`` where the dose's waste has no
    JW line on its claim and date (:data:`_MOVABLE`) but a JW line of the drug apart from its dose
    (:func:`_jw_apart_from_dose`, not billed twice, its dose's waste billable) is elsewhere in the
    encounter, and the encounter has one such dose: the fix moves that JW line beside the dose ("add a
    JW line" beside it billed the waste twice; probe 26B D1), with ``jw_claim``, ``jw_line``,
    ``jw_dos``, ``jw_units`` and ``risk_rows`` (the JW line, which no dose anchors, and where the dose
    line is denied as billed, without JW or JZ or with JZ, that line); a dose billed over several lines
    likewise (``waste_jw_line_apart_lines``; review 26D W4), and a dose line with neither JW nor JZ
    whose record documents no discarded amount, the drug's one such line
    (``waste_jw_line_apart_undocumented``; review 27A D2). Otherwise as they were. Of two
    or more such JW lines the first (by claim, date and line) is moved, and each of the others is
    returned as ``jw_apart_billed_by_moved`` (the discarded amount is billed once, on the line moved;
    review 26D W2: the dose was told to add a JW line and both apart lines passed), with the moved
    line as ``jw_claim``, ``jw_line``, ``jw_dos`` and the dose as ``dose_claim``, ``dose_line``,
    ``dose_dos``."""
    schema = {"row_id": pl.Int64, "reason": pl.String, "code_idx": pl.UInt8,
              **{c: _APART_FACTS[c] for c in ("jw_claim", "jw_line", "jw_dos", "dose_claim", "dose_line", "dose_dos")}}
    movable = apart.filter(~pl.col("_twice").fill_null(False) & ~pl.col("_no_waste").fill_null(False))
    if not movable.height:
        return alone, pl.LazyFrame(schema=schema)
    keys = ["enc_key", "code_idx"]
    order = ["jw_claim", "jw_dos", "jw_line", "row_id"]
    one = movable.sort(*keys, *order).group_by(keys, maintain_order=True).agg(
        pl.col("row_id").first().alias("_jw_row"), pl.col("jw_claim", "jw_line", "jw_dos", "jw_units").first())
    # (a dose billed over several lines is one finding naming them, ``_lines``: review 26D W4)
    split = pl.col("reason").is_in([f"{r}_lines" for r in _MOVABLE])
    # (a dose line with neither JW nor JZ whose record documents no amounts, as an 837 sends it, is
    # told "append JZ" by the rules while the visit bills its waste under JW on its other claim:
    # review 27A D2; one such line of the drug, else each keeps its own finding)
    undocumented = (pl.col("reason") == "no_jw_jz") & pl.col("waste").is_null()
    plain = pl.col("reason").is_in(list(_MOVABLE)) | split | undocumented
    doses = alone.filter(plain).group_by(keys).agg(pl.col("cd_key").n_unique().alias("_n_doses"))
    # (of several such lines, a dose billed in parts, the first carries the move and names them all;
    # the others' "append JZ" goes: review 27D D4)
    parts = alone.filter(undocumented).group_by(keys).agg(
        pl.col("row_id").sort_by("line_number").first().alias("_carrier"),
        pl.when(pl.len() > 1).then(pl.format("lines {}", pl.col("line_number").sort().cast(pl.String).str.join(", ")))
        .otherwise(pl.format("line {}", pl.col("line_number").first())).alias("dose_words"))
    moved = plain & (pl.col("_n_doses") == 1) & pl.col("_jw_row").is_not_null()
    # (required JZ or JW, or JZ with billable waste: the dose line is denied as billed; JW only: it is
    # paid, the JW line is not)
    returned = pl.col("reason").str.replace(r"_lines$", "").is_in(["waste_without_jw", "jz_with_billable_waste",
                                                                     "no_jw_jz", "waste_in_dose_units"])
    alone = alone.join(one.lazy(), on=keys, how="left").join(doses, on=keys, how="left").join(
        parts, on=keys, how="left").filter(
        ~(moved & undocumented & (pl.col("row_id") != pl.col("_carrier"))).fill_null(False)).with_columns(
        pl.when(moved & undocumented).then(pl.lit("waste_jw_line_apart_undocumented"))
        .when(moved & split).then(pl.lit("waste_jw_line_apart_lines"))
        .when(moved).then(pl.lit("waste_jw_line_apart")).otherwise(pl.col("reason")).alias("reason"),
        pl.when(moved & returned).then(pl.concat_list("row_id", "_jw_row"))
        .when(moved).then(pl.concat_list("_jw_row")).alias("risk_rows"),
        *(pl.when(moved).then(pl.col(c)).alias(c) for c in ("jw_claim", "jw_line", "jw_dos", "jw_units")),
        pl.when(moved & undocumented).then(pl.col("dose_words")).alias("dose_words"),
    ).drop("_n_doses", "_carrier").collect()
    alone = _with_jz_parts(alone, drugs)
    # The other JW lines apart from the dose whose finding moves the first: its discarded amount, billed again.
    taken = alone.filter(pl.col("reason").str.starts_with("waste_jw_line_apart")).select(
        *keys, "_jw_row", pl.col("claim_id").alias("dose_claim"), pl.col("line_number").alias("dose_line"),
        pl.col("date_of_service").alias("dose_dos"), "jw_claim", "jw_line", "jw_dos")
    again = movable.select("row_id", *keys).join(taken, on=keys).filter(pl.col("row_id") != pl.col("_jw_row")).select(
        "row_id", pl.lit("jw_apart_billed_by_moved").alias("reason"), "code_idx",
        *(c for c in schema if c not in ("row_id", "reason", "code_idx")))
    return alone.drop("_jw_row").lazy(), again.lazy().cast(schema)  # type: ignore[arg-type]


def _with_jz_parts(alone: pl.DataFrame, drugs: pl.LazyFrame) -> pl.DataFrame:
    """``alone`` with ``jz_note`` on the moves beside a dose line documenting no amounts
    (``waste_jw_line_apart_undocumented``): the drug's other lines on the claim and date that carry JZ,
    which the JW line moved beside them contradicts (", and remove JZ from line 3"), else "". Probe 28A
    D5: x41-JZ and x30 with the JW line on the visit's other claim moved it beside line 4 and left the
    JZ on line 3, "JZ contradicts JW" on the next run. A few rows, or none."""
    moved = alone.filter(pl.col("reason") == "waste_jw_line_apart_undocumented")
    if not moved.height:
        return alone.with_columns(pl.lit("").alias("jz_note"))
    keys = moved.select("cd_key", "code_idx").unique()
    jz = drugs.filter(pl.col("is_jz") & ~pl.col("is_jw")).join(keys.lazy(), on=["cd_key", "code_idx"]).group_by(
        "cd_key", "code_idx").agg(pl.col("line_number").sort().cast(pl.String).str.join(", ").alias("_jz"),
                                  pl.len().alias("_n")).collect()
    note = pl.when(pl.col("_jz").is_not_null() & (pl.col("reason") == "waste_jw_line_apart_undocumented")).then(
        pl.format(", and remove JZ from line{} {}", pl.when(pl.col("_n") > 1).then(pl.lit("s")).otherwise(pl.lit("")),
                  "_jz")).otherwise(pl.lit(""))
    return alone.join(jz, on=["cd_key", "code_idx"], how="left").with_columns(note.alias("jz_note")).drop("_jz", "_n")


def _single_dose(lines: pl.LazyFrame) -> pl.LazyFrame:
    """Single-dose IG lines, with ``has_jw_line`` (a JW line of the drug on the claim and date): the
    flag and mask facts the rules are filtered by before any dose is read. Not those of an encounter
    with a row that could not be read (enrich: ``enc_unreadable``): the rules weigh a drug's lines
    against each other, and the missing row may be the dose line or the JW line (not evaluated)."""
    ig = with_codes(lines.filter(is_ig() & ~pl.col("enc_unreadable")), "ig_single_dose", "ig_bit").filter(
        pl.col("ig_single_dose").fill_null(False))
    return ig.with_columns(has_jw_line().alias("has_jw_line"))


def _drug_lines(drugs: pl.LazyFrame) -> pl.LazyFrame:
    """Lines of :func:`_single_dose` with the facts the JW/JZ rules read (dose, waste, units); the waste
    of a dose billed in parts weighed against the dose in all (``dose_in_all``, where the frame has it)."""
    ig = with_drug_units(drugs)
    dose, waste, unit = pl.col("doc_dose"), pl.col("doc_waste"), pl.col("ig_unit_mg")
    weighed = pl.coalesce("dose_in_all", dose) if "dose_in_all" in ig.collect_schema() else dose
    return ig.with_columns(
        dose.alias("dose"),
        waste.alias("waste"),
        unit.alias("unit_mg"),
        waste_units(weighed, waste, unit).alias("waste_units"),
        dose_units(dose, unit).alias("admin_units"),
        jw_required().alias("jw_required"),
        jz_required().alias("jz_required"),
        required_from("pol_jz_from").alias("jz_from"),
        required_from("pol_jw_from").alias("jw_from"),
    )


def _one_per_split_dose(flagged: pl.LazyFrame, waste_rules: int) -> pl.LazyFrame:
    """The waste rules' findings (``_rule`` below ``waste_rules``) once per dose billed over several
    lines without JW (one line per NDC, the record on one of them): the discarded amount goes unbilled
    once, so one finding, on the line that documents the record (else the first), with ``dose_lines``
    (all the lines, "3, 4"; null for a dose on one line) and ``jz_lines`` (those carrying JZ). A rule
    on one line would say "line 4 bills x64" of a line billing part of it. Likewise lines that each
    document their own dose where one of them documents the discarded amount (the others borrow it):
    one discard, one JW line to add (a finding per line told the biller to add it twice), judged
    against the lines' doses in all. Lines that each document their own dose and waste stay one
    finding each (each is its own dose); so do the other rules' findings (``no_jw_jz``: every line
    needs JZ). Aggregated over the flagged lines only (a few thousand in a batch of millions) and
    joined back: the flagged lines are derived once."""
    own = pl.col("drug_dose_mg").is_not_null()
    own_waste = pl.col("drug_wasted_mg").is_not_null()
    waste = pl.col("_rule") < waste_rules

    def lines(of: pl.Expr) -> pl.Expr:
        return of.sort().cast(pl.String).str.join(", ")

    doses = flagged.filter(waste).group_by(GROUP).agg(
        pl.col("row_id").sort_by(~(own & own_waste), ~own, "line_number").first().alias("_first"),
        pl.col("units").sum().alias("_billed"),
        pl.col("_rule").min().alias("_dose_rule"),
        lines(pl.col("line_number")).alias("dose_lines"),
        lines(pl.col("line_number").filter("is_jz")).alias("jz_lines"),
        pl.len().alias("_n"),
        own.sum().alias("_own"),
        own_waste.sum().alias("_own_waste"),
        pl.col("drug_dose_mg").sum().alias("_doses"),
    ).filter((pl.col("_n") >= 2) & ((pl.col("_own") <= 1) | (pl.col("_own_waste") == 1)))
    split = waste & pl.col("_first").is_not_null()
    # Several documented doses: the lines' doses in all, and the units they and the waste make.
    dose = pl.when(split & (pl.col("_own") >= 2)).then("_doses").otherwise("dose")
    return flagged.join(doses.drop("_n"), on=GROUP, how="left").filter(
        ~split | (pl.col("row_id") == pl.col("_first"))).with_columns(
        pl.when(split).then("_dose_rule").otherwise("_rule").alias("_rule"),
        pl.when(split).then("dose_lines").alias("dose_lines"),
        pl.when(split & (pl.col("jz_lines") != "")).then("jz_lines").alias("jz_lines"),
        pl.when(split).then("_billed").otherwise("units").alias("billed"),
        dose.alias("dose"),
        waste_units(dose, pl.col("waste"), pl.col("unit_mg")).alias("waste_units"),
        dose_units(dose, pl.col("unit_mg")).alias("admin_units"),
    )


def _jwjz(lines: pl.LazyFrame, ctx: Context) -> pl.LazyFrame:
    # Filter first, derive after: each rule below implies a test of flags and masks (a JW line or a JZ
    # line beside one; or no JW line of the drug and, on a JZ line, documented waste), so the doses
    # and units are derived on the lines that pass it only: a twentieth of the IG lines. (The tests
    # are columns of the IG lines, and the filters after them: a filter's condition is evaluated on
    # every row, and those of consecutive filters are merged.)
    # (a JW line beside a dose billed in parts, one per NDC, weighs its waste against their sum)
    drugs = with_doses_in_parts(_single_dose(lines), lines, keep=True)
    is_jw, is_jz = pl.col("is_jw"), pl.col("is_jz")
    waste_documented = pl.coalesce("drug_wasted_mg", "doc_wasted_mg") > 0
    maybe_paired = is_jw | (is_jz & pl.col("has_jw_line"))
    maybe_alone = ~is_jw & ~pl.col("has_jw_line") & (~is_jz | waste_documented)
    drugs = drugs.with_columns(maybe_paired.alias("_paired"), maybe_alone.alias("_alone"))
    no_unit = (pl.col("waste_units") == 0).fill_null(False)
    billable = (pl.col("waste_units") >= 1).fill_null(False)

    # Lines whose words need their siblings: JW lines in question, and JZ lines beside a JW line. A JW
    # line with billable waste is in question when its units are not the waste's (it may bill the dose
    # as the drug's only line); one that bills the waste's units, as nearly every one does, is not.
    off_waste = billable & (pl.col("units") != pl.col("waste_units"))
    # (a JW line whose waste is not documented is in question too: it may be the drug's only line)
    unknown = pl.col("waste_units").is_null()
    # A JW line billing the waste's units, a dose documented:
    waste_units_only = billable & ~off_waste & (pl.col("dose") > 0).fill_null(False)
    # ... in question too where its drug has no line without JW on the claim and date (the dose billed
    # on no line): a bit test, so the siblings of every JW line (nearly every one bills the waste beside
    # its dose line) are not gathered.
    lone_waste = is_jw & ~is_jz & waste_units_only & ~has_dose_line()
    needs_siblings = ((is_jw & (is_jz | no_unit | off_waste | unknown)) | lone_waste
                      | (~is_jw & is_jz & pl.col("has_jw_line")))
    wanted = _drug_lines(drugs.filter(pl.col("_paired"))).filter(needs_siblings)
    paired = wanted.join(siblings(drugs, wanted), on=GROUP, how="left")
    waste_line = pl.col("n_admin") > 0  # another line of the drug bills the dose: this JW line bills the waste
    use_jz = pl.col("jz_required") & pl.col("admin_line").is_not_null() & ~pl.col("admin_has_jz").fill_null(False)
    # The drug's only line on the claim and date carries JW: it bills the administered dose, so JW comes
    # off it (and JZ goes on where required); deleting it would drop the dose.
    dose_line = jw_billing_the_dose()
    # Without documented amounts, a lone JW line bills the dose only if no line of its drug without JW
    # is billed in the encounter on another claim (a claim split in two: the dose on one, the waste's
    # JW line on the other).
    undocumented = dose_line & ~is_jz & unknown
    # The drug's only line bills the discarded amount under JW, and no line bills the dose documented:
    # the waste is paid only beside the dose's line (IOM 100-04 ch.17 s.40), unless that is on another claim.
    waste_alone = dose_line & ~is_jz & waste_units_only
    candidates = paired.filter(undocumented | waste_alone).select("row_id", "enc_key", "code_idx", "cd_key")
    elsewhere = candidates.join(
        drugs.filter(~is_jw).select("enc_key", "code_idx", pl.col("cd_key").alias("_other")),
        on=["enc_key", "code_idx"]).filter(pl.col("cd_key") != pl.col("_other")).select(
        "row_id", pl.lit(True).alias("_dose_elsewhere")).unique("row_id")
    paired = paired.join(elsewhere, on="row_id", how="left")
    apart = _jw_apart_from_dose(drugs)
    paired = paired.join(apart.lazy().select("row_id", "_twice", "_in_units", "_no_waste", "dose_claim", "dose_line",
                                             "dose_dos"), on="row_id", how="left")
    undocumented = undocumented & pl.col("_dose_elsewhere").is_null()
    paired = paired.with_columns(
        # A JW line apart from its dose whose dose already has its own JW line: the waste billed twice.
        pl.when(pl.col("_twice").fill_null(False) & pl.col("_in_units").fill_null(False))
        .then(pl.lit("jw_waste_billed_in_dose_units"))
        .when(pl.col("_twice").fill_null(False)).then(pl.lit("jw_waste_billed_twice"))
        # ... or whose dose documents no discarded amount that adds a unit: none to bill.
        .when(pl.col("_no_waste").fill_null(False)).then(pl.lit("jw_apart_no_billable_waste"))
        # (where the policy asks JW there: not at an exempt place, nor at home before its home date)
        .when(waste_alone & (pl.col("n_jw") == 1)).then(
            pl.when(pl.col("_dose_elsewhere").is_null() & pl.col("jw_required"))
            .then(pl.lit("jw_waste_without_dose_line")))
        # Beside JW lines that bill the discarded amount: only the modifiers come off the dose line.
        .when(dose_line & billable & (pl.col("n_jw") >= 2) & is_jz).then(pl.lit("jw_and_jz_on_dose_line"))
        .when(dose_line & billable & (pl.col("n_jw") >= 2)).then(pl.lit("jw_on_dose_line_beside_jw"))
        # JW and JZ on the drug's only line, its units the dose's: the contradiction, as a line without
        # documented amounts reads (an 837 line: probe 19A, the reason and finding id changed with the
        # format); JW comes off, JZ stays.
        .when(dose_line & no_unit & is_jz & (pl.col("units") == pl.col("admin_units")))
        .then(pl.lit("jw_and_jz_on_line"))
        .when(dose_line & no_unit & pl.col("jz_required") & ~is_jz).then(pl.lit("jw_on_dose_line_use_jz"))
        .when(dose_line & no_unit).then(pl.lit("jw_on_dose_line"))
        .when(dose_line & ~is_jz & billable).then(pl.lit("jw_on_dose_line_with_waste"))
        # No discarded amount documented: the line still bills the dose under JW (the record decides
        # between JZ and a JW line of its own for the waste).
        .when(undocumented & pl.col("jz_required")).then(pl.lit("jw_on_dose_line_undocumented_jz"))
        .when(undocumented).then(pl.lit("jw_on_dose_line_undocumented"))
        .when(is_jw & no_unit & use_jz).then(pl.lit("jw_not_billable_use_jz"))
        .when(is_jw & no_unit).then(pl.lit("jw_not_billable"))
        .when(is_jw & is_jz & ~waste_line & billable).then(pl.lit("jz_with_billable_waste"))
        .when(is_jw & is_jz).then(pl.lit("jw_and_jz_on_line"))
        .when(~is_jw & is_jz & ~no_unit).then(pl.lit("jz_and_jw_lines"))
        .alias("reason"),
        pl.when(is_jw & is_jz).then(pl.when(waste_line).then(pl.lit("JZ")).otherwise(pl.lit("JW"))).alias("drop"),
    ).with_columns(
        pl.when(pl.col("drop") == "JZ").then(pl.lit("JW")).when(pl.col("drop") == "JW").then(pl.lit("JZ"))
        .alias("keep"),
        # The lines JZ goes on: every line of the dose (a dose billed in parts, one per NDC: review 27A D1).
        pl.when(pl.col("n_admin") > 1).then(pl.format("lines {} ({} x{} in all)", "admin_lines", "procedure_code",
                                                      number(pl.col("admin_billed"))))
        .otherwise(pl.format("line {} ({} x{})", "admin_line", "procedure_code", number(pl.col("admin_units"))))
        .alias("jz_to"),
    )

    # Every other administered line: what its own modifiers and the documented waste call for, decided
    # as a small integer and named on the flagged lines only (a text reason on each of 500k IG lines
    # cost more than the decision).
    rules = [  # (reason, condition), in order of precedence: a line gets the first that applies
        ("jz_with_billable_waste", is_jz & billable & pl.col("jw_required") & ~pl.col("has_jw_line")),
        ("waste_without_jw", ~is_jz & ~pl.col("has_jw_line") & billable & pl.col("jz_required")),
        ("waste_unbilled", ~is_jz & ~pl.col("has_jw_line") & billable & pl.col("jw_required")),
        ("no_jw_jz", ~is_jz & ~pl.col("has_jw_line") & ~billable & pl.col("jz_required")),
    ]
    # The discarded amount billed on its own line without JW (JZ instead, or nothing) beside the dose
    # line (checks._drug_lines): one finding, on that line; the drug's other lines there are the same
    # root cause (the ones with JZ are named in it: JZ would contradict the JW line).
    confused = waste_lines(lines)
    dose_jz = pl.col("jz_lines").is_not_null()
    on_waste = _drug_lines(drugs.join(confused.select("row_id", "jz_lines"), on="row_id")).with_columns(
        pl.when(is_jz & dose_jz).then(pl.lit("jz_on_waste_and_dose_lines"))
        .when(is_jz).then(pl.lit("jz_on_waste_line"))
        .when(dose_jz).then(pl.lit("waste_line_without_jw_dose_jz"))
        .otherwise(pl.lit("waste_line_without_jw")).alias("reason"),
        pl.when(is_jz).then(pl.lit("JZ")).alias("drop"),
        pl.lit("JW").alias("keep"),
    )
    flagged = _drug_lines(drugs.filter(pl.col("_alone"))).filter(~needs_siblings & ~is_jw).join(
        confused.select(GROUP), on=GROUP, how="anti").with_columns(
        first_rule([condition for _, condition in rules]).alias("_rule"),
    ).filter(pl.col("_rule").is_not_null())
    # The waste billed in the dose's own units, no JW line, no JZ (checks._drug_lines.waste_in_dose_units):
    # its fix takes the waste's units off the dose line, so it is named apart from waste not billed at all.
    no_jw = [i for i, (reason, _) in enumerate(rules) if reason in ("waste_without_jw", "waste_unbilled")]
    in_dose = pl.col("_rule").is_in(no_jw) & waste_in_dose_units(
        pl.col("billed"), pl.col("dose"), pl.col("waste"), pl.col("unit_mg"), jw_required())
    # Where JZ is required, a line with neither JW nor JZ is returned unprocessed: the whole line is at
    # risk. Where only JW is (a policy without JZ, or Medicare before JZ was required), the line is
    # processed and what is billed wrongly is the waste's units without JW (risk "excess").
    jw_only = pl.col("_rule") == [reason for reason, _ in rules].index("waste_unbilled")
    # The waste rules are all but the last (no_jw_jz).
    alone = _one_per_split_dose(flagged, waste_rules=len(rules) - 1).with_columns(
        pl.when(in_dose & jw_only).then(pl.lit("waste_units_without_jw"))
        .when(in_dose).then(pl.lit("waste_in_dose_units"))
        .otherwise(rule_value(pl.col("_rule"), [reason for reason, _ in rules], pl.String())).alias("reason"),
        pl.when(in_dose & jw_only).then(pl.col("waste_units").cast(pl.Float64)).alias("excess_units"),
    ).with_columns(
        pl.when(pl.col("dose_lines").is_not_null()).then(pl.concat_str("reason", pl.lit("_lines")))
        .otherwise("reason").alias("reason"),
    )
    alone, again = _moved_jw_line(alone, apart, drugs)
    # The product's name (text) on the findings only; each part has the facts of its reasons (the
    # others are null in the concatenation).
    def facts(part: pl.LazyFrame) -> pl.LazyFrame:
        names = part.collect_schema().names()
        return part.select("row_id", "reason", code("ig_product").alias("product"),
                           *(f for f in _FACTS if f != "product" and f in names))

    found = pl.concat([facts(paired.filter(pl.col("reason").is_not_null())), facts(alone), facts(on_waste),
                       facts(again)], how="diagonal_relaxed").collect()
    # (the facts of the JW line apart from its dose, typed whether or not any is found)
    found = found.with_columns(pl.lit(None, dtype).alias(c) for c, dtype in _APART_FACTS.items()
                               if c not in found.columns).cast({c: t for c, t in _APART_FACTS.items()})
    if "jz_note" not in found.columns:  # (no move beside an undocumented dose: _with_jz_parts not run)
        found = found.with_columns(pl.lit("").alias("jz_note"))
    if found.height and rejected_codes_in_masks(lines):  # (rejected rows' codes in the masks: a few batches)
        found = _without_rejected_lift(found, lines)
    # (the discarded amount as the words name it: "the 400 mg discarded", or where the record documents
    # none, as a JW line apart from an 837 visit's dose bills it, "the discarded amount": "[waste?] mg",
    # probe 28A D5)
    found = found.with_columns(pl.when(pl.col("waste").is_not_null()).then(pl.format(
        "the {} mg discarded", number(pl.col("waste")))).otherwise(pl.lit("the discarded amount")).alias("discarded"))
    if not found.height:  # (a left join of an empty frame: the streaming engine's panic, see enrich)
        return found.lazy().with_columns(pl.lit(None, pl.String).alias("jw_code"))
    # The JW line a fix adds, named for the flagged lines only, after the rules (a list column carried
    # through the rules' joins cost more than the rules).
    flagged = lines.filter(pl.col("row_id").is_in(found.get_column("row_id").implode())).collect().lazy()
    return found.lazy().join(_jw_codes(flagged, lines, ctx), on="row_id", how="left")


# The reasons that say JW or JZ is required (the rules of _jwjz and the names derived from them): what a
# home line asks before the policy's home date depends on the encounter's administration codes.
_REQUIRED = ("no_jw_jz", "waste_without_jw", "waste_unbilled", "jz_with_billable_waste", "waste_in_dose_units",
             "waste_units_without_jw")


def _without_rejected_lift(found: pl.DataFrame, lines: pl.LazyFrame) -> pl.DataFrame:
    """``found`` without the requirement findings on home lines before the policy's home date whose
    encounter bills an administration service only on rejected rows: the practitioner's dates
    (:func:`checks._drug_lines._jw_jz_apply`) rest on a code a rejected row holds, which is no
    evidence for a finding (enrich.checked_admin_masks; probe 19F: a rejected 96365 asked JZ of a
    home J1459 in 2023)."""
    home = (pl.col("is_home") | pl.col("is_home_ivig")).fill_null(False)
    early = pl.col("pol_jwjz_home_from").is_not_null() & (pl.col("date_of_service") < pl.col("pol_jwjz_home_from"))
    candidates = lines.filter(pl.col("row_id").is_in(found.get_column("row_id").implode())).filter(
        home & early & (pl.col("enc_admin_mask") != 0)).select("row_id", "enc_key").collect()
    if not candidates.height:
        return found
    checked = checked_admin_masks(lines, candidates.lazy()).collect()
    lifted = candidates.join(checked, on="enc_key", how="left").filter(
        pl.col("checked_admin_mask").fill_null(0) == 0).get_column("row_id")
    required = pl.col("reason").str.replace(r"_lines$", "").is_in(_REQUIRED)
    return found.filter(~(pl.col("row_id").is_in(lifted.implode()) & required))


def _jw_codes(flagged: pl.LazyFrame, lines: pl.LazyFrame, ctx: Context) -> pl.LazyFrame:
    """``row_id``, ``jw_code``: the line a fix asks to add for the discarded amount, as it is billed: the
    drug's code with JW; under a Medicare-kind policy the dose line's declaration of the expected
    denial (GA, GZ, GY: ``modifiers.csv`` roles ``declares_noncovered`` / ``declares_no_benefit``),
    which the waste of the same drug shares (probe 19F: without it the rerun reported the JW line as
    not covered); and for home SC immune globulin the modifiers every line of the drug needs there:
    KX from the policy's KX date where the criteria are met and nothing is declared (A52507), JB from
    its JB date for the JB codes (the Noridian JD DME JB notice: "a JB modifier must be added to each
    HCPCS code"). "J1559-JW x4", applied as written, made two findings on the line it added (probe
    19A); other modifiers of the dose line are not copied (its own findings may take them off, and
    GA/GZ/GY are no commercial remedy; probe 19E)."""
    declaring = [*reference.modifiers_with_role("declares_noncovered"), *reference.modifiers_with_role(
        "declares_no_benefit")]
    # (the flagged lines only, a few: a list.eval per line is cheap here)
    medicare = (pl.col("payer_kind") == "medicare").fill_null(False)
    declared = flagged.select("row_id", pl.when(medicare).then(
        pl.col("modifiers").list.eval(pl.lit("-") + pl.element().filter(pl.element().is_in(declaring))).list.join(""))
        .alias("_declared"))
    kx = _home_scig(flagged.filter(~has_modifier(*declaring)), batch=lines)
    kx = kx.join(home_scig_uncovered(kx, ctx, lines), on="row_id", how="anti").select(
        "row_id", pl.lit("-KX").alias("_kx"))
    drugs, _ = reference.dme_jb_codes()
    jb = _home_scig(flagged.filter(pl.col("procedure_code").is_in(drugs)), "pol_jb_from", batch=lines).select(
        "row_id", pl.lit("-JB").alias("_jb"))
    return flagged.select("row_id", "procedure_code").join(declared, on="row_id", how="left").join(
        kx, on="row_id", how="left").join(jb, on="row_id", how="left").select(
        "row_id", pl.concat_str([pl.col("procedure_code"), pl.lit("-JW"), "_declared", "_kx", "_jb"],
                                ignore_nulls=True).alias("jw_code"))


def _home_scig(lines: pl.LazyFrame, date: str = "pol_kx_from", batch: pl.LazyFrame | None = None) -> pl.LazyFrame:
    """Home SC immune globulin lines (:func:`checks._drug_lines.given_subcutaneously`, the pumps read in
    ``batch``, default ``lines``) from the policy's KX date (the lines KX is asked of), or from another
    of its dates (``date``: ``pol_jb_from``)."""
    home = lines.filter(is_ig() & pl.col("is_home") & since(date))
    home = with_modifier_roles(with_codes(home, "ig_route", "ig_product"))
    return home.filter(given_subcutaneously(lines if batch is None else batch))


def _kx(lines: pl.LazyFrame, ctx: Context) -> pl.LazyFrame:
    # (off the covered list: noncovered-diagnosis's home_scig_not_covered, decided on the few lines here)
    missing = _home_scig(lines.filter(~pl.col("kx_ok")), batch=lines)
    missing = missing.join(home_scig_uncovered(missing, ctx, lines), on="row_id", how="anti").join(
        ctx.policy_params.select("policy", "pol_kx_accepted"), on="policy", how="left").select(
        "row_id", pl.lit("kx_missing").alias("reason"), pl.col("ig_product").alias("product"),
        pl.col("pol_kx_from").alias("kx_from"), *_kx_words(),
    )
    return pl.concat([missing, _kx_pump_supplies(lines, ctx)], how="diagonal_relaxed")


def _kx_pump_supplies(lines: pl.LazyFrame, ctx: Context) -> pl.LazyFrame:
    """The external infusion pump and supply lines (MANIFEST ``external_infusion_pump``) at home without
    an accepted modifier on a claim billing home SC immune globulin needing one, or billed by its
    supplier for the patient and date on a claim of their own (``enc_key``, probe 17A): the policy
    asks it of the pump, drug and supply lines alike (Noridian JA DME, 2023 EIP modifiers: "claims for
    external infusion pumps, drugs, and supplies"). An encounter whose SC IG is off the covered list is
    left to noncovered-diagnosis (one root cause, as its drug line). The pump and supply lines are found
    first (home lines, then their codes: none in most batches)."""
    home = lines.filter(pl.col("is_home") & since("pol_kx_from") & ~pl.col("kx_ok")).select(
        "row_id", "claim_id", "enc_key", "procedure_code", "pol_kx_from", "policy").collect()
    items = home.filter(pl.col("procedure_code").is_in(reference.external_infusion_pump_codes()))
    if not items.height:
        return pl.LazyFrame(schema={"row_id": pl.Int64, "reason": pl.String})
    near = lines.filter(pl.col("claim_id").is_in(items.get_column("claim_id").unique().implode())
                        | pl.col("enc_key").is_in(items.get_column("enc_key").unique().implode()))
    scig = _home_scig(near, batch=lines)
    uncovered = home_scig_uncovered(scig, ctx, lines)
    found = _beside_home_scig(items.lazy(), scig.join(uncovered, on="row_id", how="anti"),
                              excluded=scig.join(uncovered, on="row_id"))
    return found.join(items.lazy().select("row_id", "pol_kx_from", "policy"), on="row_id").join(
        ctx.policy_params.select("policy", "pol_kx_accepted"), on="policy", how="left").select(
        "row_id", pl.lit("kx_missing_pump_supply").alias("reason"), "product", pl.col("pol_kx_from").alias("kx_from"),
        *_kx_words())


def _beside_home_scig(items: pl.LazyFrame, scig: pl.LazyFrame, excluded: pl.LazyFrame | None = None
                      ) -> pl.LazyFrame:
    """``row_id``, ``product``: the pump and supply lines of ``items`` beside a home SC immune globulin
    line of ``scig`` (:func:`checks._drug_lines.beside_home_drug`: on its claim, or its supplier's for the
    patient and date; the claim's product first); never where a line of ``excluded`` (off the covered
    list: noncovered-diagnosis's) is so."""
    pairs = beside_home_drug(items, scig).join(scig.select("row_id", "ig_product"), on="row_id")
    if excluded is not None:
        barred = beside_home_drug(items, excluded).select("_item", "_via").unique()
        pairs = pairs.join(barred, on=["_item", "_via"], how="anti")
    return pairs.group_by("_item", "_via").agg(pl.col("ig_product").sort().first().alias("product")).sort(
        "_item", "_via").unique("_item", keep="first", maintain_order=True).select(
        pl.col("_item").alias("row_id"), "product")


# What each modifier a policy may accept instead of KX tells the payer, in the fix's words (the MEDICARE
# policy accepts all three, A52507): a policy that narrows ``kx.accepted`` is told only its own.
_KX_OTHERWISE = {"GA": "GA (criteria not met, ABN on file)", "GZ": "GZ (no ABN)",
                 "GY": "GY if the drug was not given through a covered external infusion pump"}


def _kx_words() -> list[pl.Expr]:
    """Facts ``kx_accepted`` ("KX, GA, GZ or GY": the line's policy's ``kx.accepted``), ``kx_otherwise``
    (the fix's sentence for criteria not met: "otherwise GA (...) or GZ (...), or GY if ...", or that
    the policy accepts no other modifier) and ``kx_record`` (the appeal's " (or with GA, GZ or GY as the
    record supports)", empty when KX is all the policy accepts). A policy narrowing the list was told to
    use the modifiers it refuses (probe 17C)."""
    accepted = pl.col("pol_kx_accepted")
    n = accepted.list.len()
    listed = pl.when(n > 1).then(pl.concat_str(accepted.list.head(n - 1).list.join(", "), pl.lit(" or "),
                                               accepted.list.last())).otherwise(accepted.list.first())
    # The accepted alternatives in the order of _KX_OTHERWISE (GA, GZ, GY: "a or b, or c" as MEDICARE reads),
    # then any other the policy accepts, by its code (XX: "otherwise XX", not "accepts no other")
    order = pl.concat_list(pl.lit(list(_KX_OTHERWISE)).list.set_intersection(accepted),
                           accepted.list.set_difference(pl.lit(["KX", *_KX_OTHERWISE])).list.sort())
    phrases = order.list.eval(pl.element().replace(_KX_OTHERWISE))
    k = phrases.list.len()
    joined = (pl.when(k >= 3).then(pl.concat_str(phrases.list.head(k - 1).list.join(" or "), pl.lit(", or "),
                                                 phrases.list.last()))
              .otherwise(phrases.list.join(" or ")))
    return [
        listed.alias("kx_accepted"),
        pl.when(k > 0).then(pl.concat_str(pl.lit("otherwise "), joined, pl.lit(".")))
        .otherwise(pl.lit("otherwise the line is not payable under this payer's policy, which accepts no other "
                          "modifier.")).alias("kx_otherwise"),
        pl.when(k > 0).then(pl.format(" (or with {} as the record supports)", pl.when(k > 1).then(pl.concat_str(
            order.list.head(k - 1).list.join(", "), pl.lit(" or "), order.list.last())).otherwise(order.list.first())))
        .otherwise(pl.lit("")).alias("kx_record"),
    ]


def _jb(lines: pl.LazyFrame) -> pl.LazyFrame:
    """Home SC immune globulin lines of the JB codes (MANIFEST ``dme_jb``), and the pump lines on such a
    line's claim or its supplier's for the patient and date, that carry neither JB nor JA, from the policy's
    JB date: "a JB modifier must be added to each HCPCS code" (Noridian JD DME; A52507). A line with JA
    says IV: route-mismatch's (a contradiction, not a missing modifier). The home lines first (none in
    most batches)."""
    drugs, pumps = reference.dme_jb_codes()
    unmarked = ~pl.col("has_route_sc_modifier") & ~pl.col("has_route_iv_modifier")
    home = lines.filter(pl.col("is_home") & since("pol_jb_from"))
    # (the drugs are immune globulins: a code-table test first; the pumps are no code of the table)
    scig = _home_scig(home.filter(is_ig()).filter(pl.col("procedure_code").is_in(drugs)), "pol_jb_from",
                      batch=lines).select(
        "row_id", "claim_id", "enc_key", "ig_product", "pol_jb_from", "has_route_sc_modifier",
        "has_route_iv_modifier").collect()
    drug_lines = scig.lazy().filter(unmarked).select("row_id", pl.col("ig_product").alias("product"),
                                                     pl.col("pol_jb_from").alias("jb_from"))
    pump_home = home.filter(pl.col("code_idx").is_null()).filter(pl.col("procedure_code").is_in(pumps))
    pumps_unmarked = with_modifier_roles(pump_home).filter(unmarked).collect()
    if not pumps_unmarked.height or not scig.height:
        return drug_lines.with_columns(pl.lit("jb_missing_home_sc").alias("reason"))
    pump_lines = _beside_home_scig(pumps_unmarked.lazy(), scig.lazy()).join(
        pumps_unmarked.lazy().select("row_id", pl.col("pol_jb_from").alias("jb_from")), on="row_id")
    return pl.concat([drug_lines, pump_lines]).with_columns(pl.lit("jb_missing_home_sc").alias("reason"))


def find(lines: pl.LazyFrame, ctx: Context) -> pl.LazyFrame:
    return pl.concat([_jwjz(lines, ctx), _kx(lines, ctx), _jb(lines)], how="diagonal_relaxed")


def unevaluated(lines: pl.LazyFrame) -> pl.LazyFrame:
    """Single-dose IG lines of an encounter with a row that could not be read (JW/JZ not judged)."""
    ig = with_codes(lines.filter(is_ig() & pl.col("enc_unreadable")), "ig_single_dose")
    return ig.filter(pl.col("ig_single_dose").fill_null(False)).select("row_id")


CHECK = Check(card=load_card(__file__), find=find, unevaluated=unevaluated)
