"""The discarded amount billed over several JW lines reads right and is counted once.

``unit-miscalculation`` judges the JW lines of one drug on a claim and date together against the
documented waste (``jw_over_lines`` / ``jw_under_lines``): the fix bills the JW units once in all, the
money at risk is the units over, and ``units-over-mue`` does not count those units again.
"""

from __future__ import annotations

import polars as pl

from scrubber.engine import scrub

HEADER = ("claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,modifier_1,units,"
          "charge,diagnosis_1,ndc,drug_dose_mg,drug_wasted_mg,payer_claim_number")
ROWS = [
    "JL1,1,M1,MEDICARE,11,2026-02-10,J1459,,71,7100,D80.0,44206043810,35200,4800,PCN1",
    "JL1,2,M1,MEDICARE,11,2026-02-10,J1459,JW,9,900,D80.0,44206043810,,,PCN1",
    "JL1,3,M1,MEDICARE,11,2026-02-10,J1459,JW,9,900,D80.0,44206043620,,,PCN1",
    "JL2,1,M2,AETNA,11,2026-02-10,J1459,,71,7100,D80.0,44206043810,35200,4800,PCN2",
    "JL2,2,M2,AETNA,11,2026-02-10,J1459,JW,5,500,D80.0,44206043810,,,PCN2",
    "JL2,3,M2,AETNA,11,2026-02-10,J1459,JW,3,300,D80.0,44206043620,,,PCN2",
    # 290 units given (145,000 mg) and 5,000 mg discarded: JW x10, x20 billed on two lines; the MUE of
    # J1459 is 300 per date: the 10 units over are the waste's excess, not also units over the MUE.
    "JL3,1,M3,MEDICARE,11,2026-02-10,J1459,,290,29000,D80.0,44206043810,145000,5000,PCN3",
    "JL3,2,M3,MEDICARE,11,2026-02-10,J1459,JW,10,1000,D80.0,44206043810,,,PCN3",
    "JL3,3,M3,MEDICARE,11,2026-02-10,J1459,JW,10,1000,D80.0,44206043620,,,PCN3",
]


def _findings(tmp_path) -> pl.DataFrame:
    path = tmp_path / "claims.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    result = scrub([str(path)])
    assert result.summary["rejected_rows"] == 0
    return result.findings


def test_jw_lines_judged_in_all_read_right(tmp_path) -> None:
    found = _findings(tmp_path)
    over = found.filter(pl.col("claim_id") == "JL1").row(0, named=True)
    assert (over["check_id"], over["reason"], over["line_number"]) == ("unit-miscalculation", "jw_over_lines", 3)
    assert over["suggested_fix"] == ("Bill J1459-JW x9 in all on the JW lines 2, 3 of claim JL1 (2026-02-10) "
                                     "instead of x18.")
    assert "x18 in all" in over["message"] and "supports JW x9 in all" in over["message"]
    assert over["charge_at_risk"] == 900.0  # 9 of line 3's 9 units
    assert "payer claim number PCN1" in over["appeal_text"]
    under = found.filter(pl.col("claim_id") == "JL2").row(0, named=True)
    assert (under["reason"], under["severity"], under["charge_at_risk"]) == ("jw_under_lines", "warning", 0.0)
    assert "money left unbilled" in under["suggested_fix"] and "Medicare" not in under["message"]
    for row in found.iter_rows(named=True):
        for key in ("message", "suggested_fix", "appeal_text"):
            assert "?]" not in row[key], (row["reason"], key, row[key])


def test_units_over_the_waste_are_not_also_over_the_mue(tmp_path) -> None:
    found = _findings(tmp_path).filter(pl.col("claim_id") == "JL3")
    assert found.select("check_id", "reason").rows() == [("unit-miscalculation", "jw_over_lines")]


def test_a_jw_line_weighs_its_waste_against_the_doses_in_all_with_the_discard_on_one_part(tmp_path) -> None:
    """Probe 28A D1 (over review 27A D8): doses on two NDC lines, the 400 mg discarded documented on the
    second. The dose used is rounded once per code and date (IOM 100-04 ch.17 s.10; CMS RAC topic 0074),
    and the discard adds the units it takes past it: 35,200 mg is x71 and 35,600 mg x72, so JW x1 is
    right and x41 + x31 is one unit over the dose (SW1); x41 + x30 + JW x1 is right (SW2: was "bill x31"
    and "delete the JW line", each part weighed alone). Near miss: a third part documenting a discard
    of its own makes each its own container's (SW3, per part)."""
    path = tmp_path / "split.csv"
    path.write_text("\n".join([
        HEADER,
        "SW1,1,MS1,MEDICARE,11,2026-03-02,J1459,,41,4100,D80.0,00944270003,20100,,PCN1",
        "SW1,2,MS1,MEDICARE,11,2026-03-02,J1459,,31,3100,D80.0,00944270005,15100,400,PCN1",
        "SW1,3,MS1,MEDICARE,11,2026-03-02,J1459,JW,1,100,D80.0,00944270005,,,PCN1",
        "SW2,1,MS2,MEDICARE,11,2026-03-02,J1459,,41,4100,D80.0,00944270003,20100,,PCN2",
        "SW2,2,MS2,MEDICARE,11,2026-03-02,J1459,,30,3000,D80.0,00944270005,15100,400,PCN2",
        "SW2,3,MS2,MEDICARE,11,2026-03-02,J1459,JW,1,100,D80.0,00944270005,,,PCN2",
        "SW3,1,MS3,MEDICARE,11,2026-03-02,J1459,,41,4100,D80.0,00944270003,20100,200,PCN3",
        "SW3,2,MS3,MEDICARE,11,2026-03-02,J1459,,30,3000,D80.0,00944270005,15100,200,PCN3",
        "SW3,3,MS3,MEDICARE,11,2026-03-02,J1459,JW,1,100,D80.0,00944270005,,,PCN3",
    ]) + "\n", encoding="utf-8")
    found = scrub([str(path)], select=["missing-modifier", "unit-miscalculation"]).findings
    rows = found.select("claim_id", "line_number", "check_id", "reason").rows()
    assert [r for r in rows if r[0] != "SW3"] == [("SW1", 2, "unit-miscalculation", "drug_over_lines")]
    over = found.row(0, named=True)
    assert "x72 in all" in over["message"] and over["suggested_fix"].startswith("Bill J1459 x71 in all on lines 1, 2")
    assert [r[2:] for r in rows if r[0] == "SW3"] == [("unit-miscalculation", "drug_under"),
                                                      ("missing-modifier", "jw_not_billable_use_jz")]


def test_a_jw_line_moved_beside_an_undocumented_dose_in_parts_takes_the_jz_off_the_other_part(tmp_path) -> None:
    """Probe 28A D5: J1459 x41-JZ and x30 (no amounts, as an 837 sends them) with the visit's JW line on
    another claim: the move beside line 3 left the JZ on line 2, and the next run said JZ contradicts JW.
    The move names it. And the JZ line beside a JW line whose dose documents no amounts was told to keep
    "the [waste?] mg discarded" with JW: "the discarded amount". Near miss: without a JZ part, no note."""
    path = tmp_path / "parts.csv"
    path.write_text("\n".join([
        HEADER,
        "NA,1,MN1,MEDICARE,11,2026-03-02,J1459,JZ,41,4100,D80.0,44206043810,,,PCN1",
        "NA,2,MN1,MEDICARE,11,2026-03-02,J1459,,30,3000,D80.0,44206043820,,,PCN1",
        "NB,1,MN1,MEDICARE,11,2026-03-02,J1459,JW,1,100,D80.0,,,,PCN2",
        "N2,1,MN2,MEDICARE,11,2026-03-02,J1459,JZ,41,4100,D80.0,44206043810,,,PCN3",
        "N2,2,MN2,MEDICARE,11,2026-03-02,J1459,,30,3000,D80.0,44206043820,,,PCN3",
        "N2,3,MN2,MEDICARE,11,2026-03-02,J1459,JW,1,100,D80.0,,,,PCN3",
        "N3A,1,MN3,MEDICARE,11,2026-03-02,J1459,,71,7100,D80.0,44206043810,,,PCN4",
        "N3B,1,MN3,MEDICARE,11,2026-03-02,J1459,JW,1,100,D80.0,,,,PCN5",
    ]) + "\n", encoding="utf-8")
    found = scrub([str(path)], select=["missing-modifier"]).findings
    fixes = {(r["claim_id"], r["reason"]): r["suggested_fix"] for r in found.iter_rows(named=True)}
    moved = fixes[("NA", "waste_jw_line_apart_undocumented")]
    assert "and do not append JZ there, and remove JZ from line 1; if the record" in moved, moved
    assert fixes[("N2", "jz_and_jw_lines")] == "Remove JZ from line 1 (claim N2): line(s) 3 bill the discarded " \
                                               "amount with JW."
    assert "remove JZ" not in fixes[("N3A", "waste_jw_line_apart_undocumented")]
