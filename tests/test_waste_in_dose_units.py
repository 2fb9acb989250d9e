"""The discarded amount billed in the dose line's own units is one finding, not two.

J1569 (500 mg units) for 12,000 mg administered and 500 mg discarded, billed x25 on one line with no
JW line, is the waste without JW (CMS JW/JZ FAQ: the discarded amount on its own line with JW), and
the one unit over the dose is that same waste: ``missing-modifier`` reports it
(``waste_in_dose_units``: bill x24, add J1569-JW x1) and ``unit-miscalculation`` does not also count
the unit as over the dose (``checks._drug_lines.waste_in_dose_units``). Near misses keep their own
findings: a unit more than dose and waste (a unit the record does not back at all), a place where JW
is not required (inpatient), a line billing only the dose (waste unbilled), JZ on the line.
"""

from __future__ import annotations

import polars as pl
import pytest

from scrubber.engine import scrub

HEADER = ("claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,modifier_1,units,"
          "charge,diagnosis_1,ndc,drug_dose_mg,drug_wasted_mg,route,infusion_start,infusion_stop,payer_claim_number")


def _claim(claim: str, payer: str, pos: str, drug_lines: list[tuple[str, int, str, str]]) -> list[str]:
    """A 55-minute IVIG infusion (96365) and the J1569 lines (modifier, units, dose, waste)."""
    rows = [f"{claim},1,M{claim},{payer},{pos},2026-03-02,96365,,1,200,D80.0,,,,IV,2026-03-02T09:00,"
            f"2026-03-02T09:55,PCN{claim}"]
    for n, (mod, units, dose, waste) in enumerate(drug_lines, start=2):
        rows.append(f"{claim},{n},M{claim},{payer},{pos},2026-03-02,J1569,{mod},{units},{units * 100},D80.0,"
                    f"00944270005,{dose},{waste},IV,,,PCN{claim}")
    return rows


CLAIMS = {
    "ONE": _claim("ONE", "MEDICARE", "11", [("", 25, "12000", "500")]),
    "SPLIT": _claim("SPLIT", "MEDICARE", "11", [("", 20, "12000", "500"), ("", 5, "", "")]),
    "COMMERCIAL": _claim("COMMERCIAL", "AETNA", "11", [("", 25, "12000", "500")]),
    "MORE": _claim("MORE", "MEDICARE", "11", [("", 26, "12000", "500")]),
    "INPATIENT": _claim("INPATIENT", "MEDICARE", "21", [("", 25, "12000", "500")]),
    "DOSE_ONLY": _claim("DOSE_ONLY", "MEDICARE", "11", [("", 24, "12000", "500")]),
    "WITH_JZ": _claim("WITH_JZ", "MEDICARE", "11", [("JZ", 25, "12000", "500")]),
    "NO_WASTE_UNIT": _claim("NO_WASTE_UNIT", "MEDICARE", "11", [("", 25, "11800", "200")]),
}


@pytest.fixture(scope="module")
def found(tmp_path_factory) -> pl.DataFrame:
    path = tmp_path_factory.mktemp("waste") / "claims.csv"
    path.write_text("\n".join([HEADER, *(r for rows in CLAIMS.values() for r in rows)]) + "\n", encoding="utf-8")
    result = scrub([str(path)])
    assert result.summary["rejected_rows"] == 0
    return result.findings


def _of(found: pl.DataFrame, claim: str) -> list[tuple[str, str, int]]:
    return sorted(found.filter(pl.col("claim_id") == claim).select("check_id", "reason", "line_number").rows())


def test_waste_in_the_dose_units_is_one_missing_modifier_finding(found) -> None:
    assert _of(found, "ONE") == [("missing-modifier", "waste_in_dose_units", 2)]
    row = found.filter(pl.col("claim_id") == "ONE").row(0, named=True)
    assert "line 2 bills x25, the 12000 mg administered (x24) and the 500 mg discarded (x1)" in row["message"]
    assert row["suggested_fix"] == ("Bill line 2 as J1569 x24 for the 12000 mg administered and add a line "
                                    "J1569-JW x1 for the 500 mg discarded (claim ONE, 2026-03-02).")
    assert "corrected from 25 to 24 unit(s)" in row["appeal_text"]
    # A commercial payer that requires JW but not JZ processes the line: the reason whose money is the
    # waste's unit, not the whole line (same words).
    assert _of(found, "COMMERCIAL") == [("missing-modifier", "waste_units_without_jw", 2)]
    commercial = found.filter(pl.col("claim_id") == "COMMERCIAL").row(0, named=True)
    assert commercial["charge_at_risk"] == 100.0 and row["charge_at_risk"] == 2500.0


def test_a_dose_and_its_waste_over_two_lines_is_one_finding(found) -> None:
    assert _of(found, "SPLIT") == [("missing-modifier", "waste_in_dose_units_lines", 2)]
    row = found.filter(pl.col("claim_id") == "SPLIT").row(0, named=True)
    assert "lines 2, 3 bill x25 in all" in row["message"]
    assert row["suggested_fix"].startswith("Bill lines 2, 3 as J1569 x24 in all")


def test_near_misses_keep_their_own_findings(found) -> None:
    # x26: one unit the record backs as waste and one it does not back at all.
    assert _of(found, "MORE") == [("missing-modifier", "waste_without_jw", 2), ("unit-miscalculation", "drug_over", 2)]
    # Inpatient: JW/JZ do not apply, so the unit is only over the dose.
    assert _of(found, "INPATIENT") == [("unit-miscalculation", "drug_over", 2)]
    # The dose's units only: the waste is not billed at all (the older reason, its words unchanged).
    assert _of(found, "DOSE_ONLY") == [("missing-modifier", "waste_without_jw", 2)]
    # JZ on the line: its own reason, whose fix already bills the dose's units.
    assert _of(found, "WITH_JZ") == [("missing-modifier", "jz_with_billable_waste", 2)]
    # 11,800 + 200 mg fits in 24 units: no billable waste, so x25 is one over the dose (and no JZ).
    assert sorted(r[:2] for r in _of(found, "NO_WASTE_UNIT")) == [
        ("missing-modifier", "no_jw_jz"), ("unit-miscalculation", "drug_over")]


def test_one_discard_beside_two_documented_doses_adds_one_jw_line(tmp_path) -> None:
    """Each line documents its own dose and line 2 the 400 mg discarded: the fix adds one JW line for
    the doses in all (35,200 + 400 mg: one unit), not one per line (probe K: JW x2 for one discard)."""
    rows = _claim("TWO", "MEDICARE", "11", [("", 40, "20000", ""), ("", 31, "15200", "400")])
    path = tmp_path / "claims.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    found = scrub([str(path)]).findings
    assert _of(found, "TWO") == [("missing-modifier", "waste_without_jw_lines", 3)]
    fix = found.row(0, named=True)["suggested_fix"]
    assert fix.startswith("Add one line J1569-JW x1 for the 400 mg discarded")
    assert "lines 2, 3 bill J1569 x71 in all for the 35200 mg administered" in fix


NO_JW_POLICY = 'name = "ACME"\nextends = "DEFAULT"\npayers = ["ACME HEALTH"]\n[jw]\nrequired_from = false\n'


def test_where_no_jw_line_is_asked_the_allowed_units_hold_the_payable_waste(tmp_path) -> None:
    """A policy that asks no JW line pays the discarded amount billed with the dose (IOM 100-04 ch.17
    s.40): x25 for 12,000 mg given and 500 mg discarded passes, x24 + 1 unit too many is over the dose
    and the discarded amount (x25 allowed, not "bill x24", which dropped a payable unit), on one line
    or over two; x26 without a documented discard is over the dose (x24)."""
    rows = [*_claim("PAID", "ACME HEALTH", "11", [("", 25, "12000", "500")]),
            *_claim("OVER", "ACME HEALTH", "11", [("", 26, "12000", "500")]),
            *_claim("LINES", "ACME HEALTH", "11", [("", 20, "12000", "500"), ("", 6, "", "")]),
            *_claim("NODISCARD", "ACME HEALTH", "11", [("", 26, "12000", "")])]
    path, policy = tmp_path / "claims.csv", tmp_path / "acme.toml"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    policy.write_text(NO_JW_POLICY, encoding="utf-8")
    found = scrub([str(path)], policy_files=[str(policy)]).findings
    assert _of(found, "PAID") == []
    assert _of(found, "OVER") == [("unit-miscalculation", "drug_over_with_waste", 2)]
    over = found.filter(pl.col("claim_id") == "OVER").row(0, named=True)
    assert over["suggested_fix"] == ("Bill J1569 x25 instead of x26 on line 2 of claim OVER (2026-03-02): the dose "
                                     "and the documented discarded amount.")
    assert "the documented dose of 12000 mg and the 500 mg discarded from the single-dose container" in over["message"]
    assert "1 more than the dose and the discarded amount support" in over["message"]
    assert "corrected from 26 to 25 unit(s)" in over["appeal_text"] and over["charge_at_risk"] == 100.0
    assert _of(found, "LINES") == [("unit-miscalculation", "drug_over_lines_with_waste", 3)]
    lines = found.filter(pl.col("claim_id") == "LINES").row(0, named=True)
    assert lines["suggested_fix"].startswith("Bill J1569 x25 in all on lines 2, 3 of claim LINES (2026-03-02) "
                                             "instead of x26")
    nodiscard = found.filter(pl.col("claim_id") == "NODISCARD").row(0, named=True)
    assert (nodiscard["reason"], nodiscard["suggested_fix"]) == (
        "drug_over", "Bill J1569 x24 instead of x26 on line 2 of claim NODISCARD (2026-03-02).")


def test_waste_in_the_dose_units_beside_a_jw_line_on_the_visits_other_claim_moves_that_line(tmp_path) -> None:
    """Probe 28A D2: x25 for 12,000 mg given and 500 mg discarded, and J1569-JW x1 on the visit's other
    claim: "bill x24 and add a JW line" billed the waste twice (the new line and the one left on the other
    claim, which passed). The fix moves that JW line beside the dose and bills the dose's units there;
    the same with JZ on the dose line (the fix named the units to bill, not "keeps x24" of a line
    billing x25). Near miss: without the JW line apart, the dose line's own finding (ONE above)."""
    rows = [*_claim("APA", "MEDICARE", "11", [("", 25, "12000", "500")]),
            "APB,1,MAPA,MEDICARE,11,2026-03-02,J1569,JW,1,100,D80.0,00944270005,,,IV,,,PCNAPB",
            *_claim("APZ", "MEDICARE", "11", [("JZ", 25, "12000", "500")]),
            "APY,1,MAPZ,MEDICARE,11,2026-03-02,J1569,JW,1,100,D80.0,00944270005,,,IV,,,PCNAPY"]
    path = tmp_path / "claims.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    found = scrub([str(path)]).findings
    for dose, jw in (("APA", "APB"), ("APZ", "APY")):
        assert _of(found, dose) == [("missing-modifier", "waste_jw_line_apart", 2)], _of(found, dose)
        assert _of(found, jw) == []
        fix = found.filter(pl.col("claim_id") == dose).row(0, named=True)["suggested_fix"]
        assert fix.startswith(f"Move claim {jw} line 1 (J1569-JW x1, 2026-03-02) to claim {dose}, 2026-03-02, "
                              "beside line 2, as J1569-JW x1 for the 500 mg discarded; line 2 bills J1569 x24 for "
                              "the 12000 mg administered, without JZ."), fix
