"""The words of missing-modifier and home-ig-supplies read right for each payer and setting (issue 11).

Every reason of both cards is rendered on real-looking claims, once for Medicare and once for a
commercial payer whose policy (a file extending DEFAULT) asks for the same modifiers, professional and
institutional: commercial text carries no Medicare remedy or Medicare source, corrections name frequency
code 7 and the payer's claim number, fixes give the computed answer (never "x0"), and every fact a
template names is there (the only placeholder allowed is a payer claim number the input lacks).
"""

from __future__ import annotations

import re

import polars as pl
import pytest

from checks import by_id
from scrubber.engine import scrub

HEADER = ("claim_id,line_number,member_id,payer,claim_type,place_of_service,date_of_service,procedure_code,"
          "modifier_1,modifier_2,units,charge,diagnosis_1,drug_dose_mg,drug_wasted_mg,route,payer_claim_number")
# One scenario per reason: (name, the lines as "line,pos,dos,code,mod1,mod2,units,charge,dose,waste,route").
SCENARIOS = {
    "no_jw_jz": ["1,11,2026-02-10,J1459,,,70,7000,35000,,IV"],
    "waste_without_jw": ["1,11,2026-02-10,J1459,,,71,7100,35200,400,IV"],
    "waste_unbilled": ["1,11,2023-06-30,J1459,,,71,7100,35200,400,IV"],
    "jz_with_billable_waste": ["1,11,2026-02-10,J1459,JZ,,71,7100,35200,400,IV"],
    # The waste's unit billed in the dose line's own units (x72 = x71 for the dose + x1 discarded).
    "waste_in_dose_units": ["1,11,2026-02-10,J1459,,,72,7200,35200,400,IV"],
    # The same where JW is required and JZ not yet (the line is processed: the waste's unit at risk).
    "waste_units_without_jw": ["1,11,2023-06-30,J1459,,,72,7200,35200,400,IV"],
    "jw_not_billable_use_jz": ["1,11,2026-02-10,J1459,,,71,7100,35200,200,IV", "2,11,2026-02-10,J1459,JW,,1,100,,,"],
    "jw_not_billable": ["1,11,2026-02-10,J1459,JZ,,71,7100,35200,200,IV", "2,11,2026-02-10,J1459,JW,,1,100,,,"],
    "jw_on_dose_line_use_jz": ["1,11,2026-02-10,J1459,JW,,71,7100,35200,200,IV"],
    # (before JZ was required; JW and JZ together on such a line are jw_and_jz_on_line's, probe 19A)
    "jw_on_dose_line": ["1,11,2023-06-30,J1459,JW,,71,7100,35200,200,IV"],
    "jw_on_dose_line_with_waste": ["1,11,2026-02-10,J1459,JW,,72,7200,35200,400,IV"],
    # The drug's only line bills the discarded amount under JW; no line bills the documented dose.
    "jw_waste_without_dose_line": ["1,11,2026-02-10,J1459,JW,,1,100,35200,400,IV"],
    # A lone JW line with no waste documented (an 837I line carries none): it still bills the dose.
    "jw_on_dose_line_undocumented_jz": ["1,11,2026-02-10,J1459,JW,,70,7000,35000,,IV"],
    "jw_on_dose_line_undocumented": ["1,11,2023-06-30,J1459,JW,,70,7000,35000,,IV"],
    "jz_on_waste_line": ["1,11,2026-02-10,J1459,,,71,7100,35200,400,IV", "2,11,2026-02-10,J1459,JZ,,1,100,,,"],
    "jw_and_jz_on_line": ["1,11,2026-02-10,J1459,,,71,7100,35200,400,IV", "2,11,2026-02-10,J1459,JW,JZ,1,100,,,"],
    "jz_and_jw_lines": ["1,11,2026-02-10,J1459,JZ,,71,7100,35200,400,IV", "2,11,2026-02-10,J1459,JW,,1,100,,,"],
    "kx_missing": ["1,12,2026-02-10,J1559,JZ,JB,80,4000,8000,,SC"],
    # The pump of that home SCIG without KX, the drug line with it (2023: no JW/JZ at home yet, so the
    # two modifier slots hold JB and KX).
    "kx_missing_pump_supply": ["1,12,2023-06-01,J1559,JB,KX,80,4000,8000,,SC", "2,12,2023-06-01,E0779,RR,JB,1,250,,,"],
    "jb_missing_home_sc": ["1,12,2023-06-01,J1559,KX,,80,4000,8000,,SC"],
    "second_q2052": ["1,12,2026-03-05,J1459,JZ,,60,6000,30000,,IV", "2,12,2026-03-05,Q2052,,,4,420,,,",
                     "3,12,2026-03-05,Q2052,,,4,420,,,"],
    "over_one_unit": ["1,12,2023-05-01,J1459,JZ,,60,6000,30000,,IV", "2,12,2023-05-01,Q2052,,,2,840,,,"],
    "no_home_ivig": ["1,12,2026-03-08,Q2052,,,1,420,,,"],
    "pos_differs": ["1,12,2026-03-05,J1459,JZ,,60,6000,30000,,IV", "2,13,2026-03-05,Q2052,,,4,420,,,"],
    # A dose over two lines (one per NDC, the record on the first) and the waste's lines.
    "waste_without_jw_lines": ["1,11,2026-02-10,J1459,,,40,4000,35200,400,IV", "2,11,2026-02-10,J1459,,,31,3100,,,"],
    "waste_unbilled_lines": ["1,11,2023-06-30,J1459,,,40,4000,35200,400,IV", "2,11,2023-06-30,J1459,,,31,3100,,,"],
    "waste_in_dose_units_lines": ["1,11,2026-02-10,J1459,,,40,4000,35200,400,IV", "2,11,2026-02-10,J1459,,,32,3200,,,"],
    "waste_units_without_jw_lines": ["1,11,2023-06-30,J1459,,,40,4000,35200,400,IV",
                                     "2,11,2023-06-30,J1459,,,32,3200,,,"],
    "jz_with_billable_waste_lines": ["1,11,2026-02-10,J1459,JZ,,40,4000,35200,400,IV",
                                     "2,11,2026-02-10,J1459,JZ,,31,3100,,,"],
    "jz_on_waste_and_dose_lines": ["1,11,2026-02-10,J1459,JZ,,71,7100,35200,400,IV",
                                   "2,11,2026-02-10,J1459,JZ,,1,100,,,"],
    "waste_line_without_jw": ["1,11,2026-02-10,J1459,,,71,7100,35200,400,IV", "2,11,2026-02-10,J1459,,,1,100,,,"],
    "waste_line_without_jw_dose_jz": ["1,11,2026-02-10,J1459,JZ,,71,7100,35200,400,IV",
                                      "2,11,2026-02-10,J1459,,,1,100,,,"],
    # Every line carries JW: the dose line is the one documenting the dose; the other bills the waste.
    "jw_on_dose_line_beside_jw": ["1,11,2026-02-10,J1459,JW,,71,7100,35200,400,IV",
                                  "2,11,2026-02-10,J1459,JW,,1,100,,,"],
    "jw_and_jz_on_dose_line": ["1,11,2026-02-10,J1459,JW,JZ,71,7100,35200,400,IV",
                               "2,11,2026-02-10,J1459,JW,,1,100,,,"],
    # A JW line apart from its dose (a last field "apart": on the visit's other claim, professional; the
    # next day of the hospital claim, institutional): moved beside the dose, or deleted (probe 26B D1).
    "waste_jw_line_apart": ["1,11,2026-02-10,J1459,,,71,7100,35200,800,IV", "1,11,2026-02-10,J1459,JW,,1,100,,,,apart"],
    "jw_waste_billed_twice": ["1,11,2026-02-10,J1459,,,71,7100,35200,800,IV", "2,11,2026-02-10,J1459,JW,,1,100,,,",
                              "1,11,2026-02-10,J1459,JW,,1,100,,,,apart"],
    "jw_apart_no_billable_waste": ["1,11,2026-02-10,J1459,JZ,,71,7100,35200,200,IV",
                                   "1,11,2026-02-10,J1459,JW,,1,100,,,,apart"],
    "waste_jw_line_apart_lines": ["1,11,2026-02-10,J1459,,,40,4000,35200,800,IV", "2,11,2026-02-10,J1459,,,31,3100,,,",
                                  "1,11,2026-02-10,J1459,JW,,1,100,,,,apart"],
    "waste_jw_line_apart_undocumented": ["1,11,2026-02-10,J1459,,,70,7000,,,IV",
                                         "1,11,2026-02-10,J1459,JW,,2,200,,,,apart"],
    # Before JW was asked (2017): the dose line bills its waste in its own units, payable as billed, and
    # the JW line apart bills it again (review 28E D2).
    "jw_waste_billed_in_dose_units": ["1,11,2016-06-01,J1459,,,72,7200,35200,400,IV",
                                      "1,11,2016-06-01,J1459,JW,,1,100,,,,apart"],
    "jw_apart_billed_by_moved": ["1,11,2026-02-10,J1459,,,71,7100,35200,800,IV",
                                 "1,11,2026-02-10,J1459,JW,,1,100,,,,apart",
                                 "2,11,2026-02-10,J1459,JW,,1,100,,,,apart"],
}
# The other finding a scenario's claim gets besides its own (the dose line's move of the first JW line).
ALSO = {"jw_apart_billed_by_moved": {"waste_jw_line_apart"}}
PAYERS = {"medicare": "MEDICARE", "commercial": "BCBS"}
# A commercial payer whose policy asks what Medicare asks: every reason can speak its commercial words.
BCBS = """name = "BCBS_PLUS"
extends = "DEFAULT"
payers = ["BCBS"]
[jz]
required_from = 2023-07-01
[kx]
required_from = 2023-01-01
[jb]
required_from = 2011-07-22
"""
MEDICARE_ONLY = re.compile(r"\bABN\b|\bG[AZY]\b|Medicare|IOM 100-04|A5250[79]|L33(610|794)|CMS JW/JZ")
INTERNAL = re.compile(r"RULES\.md|REFERENCE\.md|\.csv|\.toml|IG_OFFICE_DEFAULT|policies/")
TEXTS = ("message", "suggested_fix", "appeal_text", "citation")


@pytest.fixture(scope="module")
def findings(tmp_path_factory) -> pl.DataFrame:
    """Every scenario for both payer kinds and both settings, scrubbed with both checks."""
    tmp = tmp_path_factory.mktemp("words")
    rows = [HEADER]
    for kind, payer in PAYERS.items():
        for setting in ("professional", "institutional"):
            for n, (reason, lines) in enumerate(SCENARIOS.items()):
                claim = f"{kind[0].upper()}{setting[0].upper()}{n:02d}"
                member = f"M-{claim}"
                pcn = "" if reason == "no_home_ivig" else f"PCN{claim}"
                for line in lines:
                    number, pos, dos, code, m1, m2, units, charge, dose, waste, route, *apart = line.split(",")
                    where = claim
                    if apart and setting == "professional":
                        where = claim + "B"
                    elif apart:  # (one hospital claim is one encounter across its dates)
                        number, dos = str(int(number) + 10), dos[:-2] + f"{int(dos[-2:]) + 1:02d}"
                    rows.append(",".join([where, number, member, payer, setting, pos, dos, code, m1, m2, units,
                                          charge, "D80.0", dose, waste, route, pcn]))
    claims = tmp / "claims.csv"
    claims.write_text("\n".join(rows) + "\n", encoding="utf-8")
    policy = tmp / "bcbs.toml"
    policy.write_text(BCBS, encoding="utf-8")
    result = scrub([str(claims)], [str(policy)], select=["missing-modifier", "home-ig-supplies"])
    assert result.summary["rejected_rows"] == 0
    return result.findings


def _scenario(claim_id: str) -> str:
    return list(SCENARIOS)[int(claim_id[2:4])]


def test_every_reason_of_both_cards_is_rendered_for_each_payer_kind_and_setting(findings) -> None:
    cards = {r for c in ("missing-modifier", "home-ig-supplies") for r in by_id()[c].card.reasons}
    assert set(SCENARIOS) == cards
    seen = {(r, k, t) for r, k, t in findings.select("reason", "payer_kind", "claim_type").iter_rows()}
    for reason in cards:
        for kind in ("medicare", "commercial"):
            for setting in ("professional", "institutional"):
                assert (reason, kind, setting) in seen, (reason, kind, setting)
    # Each scenario's claim gets exactly the finding it was written for (and those of ALSO).
    for claim, reason in findings.select("claim_id", "reason").iter_rows():
        assert reason == _scenario(claim) or reason in ALSO.get(_scenario(claim), set()), (claim, reason)


def test_no_internal_names_no_x0_and_every_fact_present(findings) -> None:
    for row in findings.iter_rows(named=True):
        for key in TEXTS:
            text = row[key]
            assert text and not INTERNAL.search(text), (row["reason"], key, text)
            assert not re.search(r"\bx0\b|x0\.|units = the", text), (row["reason"], key, text)
            placeholders = set(re.findall(r"\[([a-z ]+)\?\]", text))
            allowed = {"payer claim number"} if row["payer_claim_number"] is None else set()
            assert placeholders <= allowed, (row["reason"], key, placeholders)


def test_commercial_findings_carry_no_medicare_remedy_or_source(findings) -> None:
    commercial = findings.filter(pl.col("payer_kind") == "commercial")
    assert commercial.height
    for row in commercial.iter_rows(named=True):
        for key in TEXTS:
            assert not MEDICARE_ONLY.search(row[key]), (row["reason"], key, row[key])


def test_medicare_findings_cite_the_primary_sources_of_their_rule(findings) -> None:
    medicare = findings.filter(pl.col("payer_kind") == "medicare")
    cited = dict(medicare.select("reason", "citation").unique("reason").iter_rows())
    for reason in ("no_jw_jz", "waste_without_jw", "jz_with_billable_waste", "jw_and_jz_on_line", "jz_and_jw_lines"):
        assert "IOM 100-04, ch. 17, section 40" in cited[reason] and "CMS JW/JZ Modifier Policy FAQ" in cited[reason]
    assert "A52507" in cited["jw_not_billable_use_jz"]  # scenario 2: no billable discarded amount
    assert "L33794" in cited["kx_missing"] and "A52507" in cited["kx_missing"]
    for reason in ("second_q2052", "over_one_unit", "no_home_ivig", "pos_differs"):
        assert "A52509" in cited[reason]
    assert "Noridian JD DME" in cited["pos_differs"]
    kx = medicare.filter(pl.col("reason") == "kx_missing").row(0, named=True)
    assert all(m in kx["suggested_fix"] for m in ("KX", "GA", "GZ", "GY", "ABN"))
    assert not any("ch. 12" in c for c in findings["citation"])  # no physician-manual section here


def test_fixes_and_corrections_give_the_computed_answer(findings) -> None:
    def one(reason: str, kind: str = "medicare") -> dict:
        return findings.filter((pl.col("reason") == reason) & (pl.col("payer_kind") == kind)
                               & (pl.col("claim_type") == "professional")).row(0, named=True)

    # (no units: another finding may correct them, and "J1459 x80" beside "bill x70" read as two fixes; probe Y)
    assert one("no_jw_jz")["suggested_fix"].startswith("Append JZ to line 1 (J1459, claim ")
    assert "Add a line J1459-JW x1 for the 400 mg discarded" in one("waste_without_jw")["suggested_fix"]
    assert "line 1 bills J1459 x71 for the 35200 mg administered" in one("waste_without_jw")["suggested_fix"]
    assert "add a line J1459-JW x1 for the 400 mg discarded" in one("jz_with_billable_waste")["suggested_fix"]
    use_jz = one("jw_not_billable_use_jz")
    assert use_jz["suggested_fix"] == ("Delete the JW line 2 (J1459-JW x1) and append JZ to line 1 (J1459 x71), "
                                       f"claim {use_jz['claim_id']}.")
    assert "append JZ" not in one("jw_not_billable")["suggested_fix"]  # line 1 already carries JZ
    # The drug's only line carries JW: it bills the dose, so JW comes off it; it is never deleted.
    on_dose = one("jw_on_dose_line_use_jz")
    assert on_dose["suggested_fix"] == ("Bill line 1 as J1459-JZ x71 for the 35200 mg administered: remove JW and "
                                        f"append JZ (claim {on_dose['claim_id']}).")
    assert one("jw_on_dose_line")["suggested_fix"].startswith("Bill line 1 as J1459 x71 for the 35200 mg")
    assert not any("Delete" in one(r)["suggested_fix"] for r in ("jw_on_dose_line_use_jz", "jw_on_dose_line"))
    waste_jz = one("jz_on_waste_line")
    assert waste_jz["line_number"] == 2 and waste_jz["suggested_fix"] == (
        f"Replace JZ with JW on line 2 (J1459 x1, claim {waste_jz['claim_id']}): it bills the 400 mg discarded.")
    assert one("jw_on_dose_line_with_waste")["suggested_fix"] == (
        "Bill line 1 as J1459 x71 for the 35200 mg administered, without JW, and add a line J1459-JW x1 for the "
        f"400 mg discarded (claim {one('jw_on_dose_line_with_waste')['claim_id']}).")
    # A dose billed over lines 1 and 2: one finding, whose fix bills the dose on both and the waste once.
    split = one("waste_without_jw_lines")
    assert split["line_number"] == 1 and split["suggested_fix"] == (
        f"Add one line J1459-JW x1 for the 400 mg discarded (claim {split['claim_id']}, 2026-02-10); lines 1, 2 "
        "bill J1459 x71 in all for the 35200 mg administered, without JZ.")
    assert one("jz_with_billable_waste_lines")["suggested_fix"].startswith(
        "Remove JZ from line(s) 1, 2 (lines 1, 2 bill J1459 x71 in all")
    assert "lines 1, 2 keep J1459 x71 in all" in one("waste_unbilled_lines")["suggested_fix"]
    # The waste's own line without JW: JW goes on it, and JZ comes off the dose line that carries it.
    assert one("waste_line_without_jw")["suggested_fix"].startswith("Append JW to line 2 (J1459 x1,")
    assert one("waste_line_without_jw_dose_jz")["suggested_fix"].endswith(
        "and remove JZ from line(s) 1, which bill the dose (JZ beside a JW line contradicts it).")
    assert one("jz_on_waste_and_dose_lines")["suggested_fix"].startswith(
        "Replace JZ with JW on line 2 (J1459 x1,")
    assert "remove JZ from line(s) 1" in one("jz_on_waste_and_dose_lines")["suggested_fix"]
    beside = one("jw_on_dose_line_beside_jw")
    assert beside["line_number"] == 1 and beside["suggested_fix"] == (
        f"Remove JW from line 1 (J1459 x71, claim {beside['claim_id']}): it bills the 35200 mg administered; "
        "line(s) 2 keep JW for the 400 mg discarded.")
    assert one("jw_and_jz_on_dose_line")["suggested_fix"].startswith("Remove JW and JZ from line 1 (J1459 x71")
    assert not any("add a line" in one(r)["suggested_fix"].lower()
                   for r in ("jw_on_dose_line_beside_jw", "jw_and_jz_on_dose_line"))
    assert one("jw_and_jz_on_line")["suggested_fix"].startswith("Remove JZ from line 2")
    assert "Remove JZ from line 1" in one("jz_and_jw_lines")["suggested_fix"]
    assert "line(s) 2" in one("jz_and_jw_lines")["suggested_fix"]
    assert one("over_one_unit")["suggested_fix"].startswith("Bill Q2052 x1 on line 2")
    second = one("second_q2052")
    assert second["line_number"] == 3 and f"claim {second['claim_id']}, line 2" in second["suggested_fix"]
    for row in findings.iter_rows(named=True):
        assert "frequency code 7" in row["appeal_text"], row["reason"]
        if row["payer_claim_number"]:
            assert f"payer claim number {row['payer_claim_number']}" in row["appeal_text"], row["reason"]


def test_money_at_risk_follows_the_reason(findings) -> None:
    risk = {(r, c): a for r, c, a in findings.filter(pl.col("payer_kind") == "medicare")
            .select("reason", "claim_type", "charge_at_risk").iter_rows()}
    assert risk[("waste_unbilled", "professional")] == 0  # JW missing: money left unbilled, nothing denied
    assert risk[("waste_unbilled_lines", "professional")] == 0
    assert risk[("waste_line_without_jw", "professional")] == 100  # the waste's line
    assert risk[("no_jw_jz", "professional")] == 7000
    assert risk[("jw_not_billable_use_jz", "professional")] == 100  # the JW line itself
    assert risk[("over_one_unit", "professional")] == 420  # 1 of 2 units of an $840 line
    severity = dict(findings.select("reason", "severity").unique().iter_rows())
    # A required modifier missing is an error (RULES.md missing-modifier), even when nothing is at risk.
    assert set(severity.values()) == {"error"}


def test_a_claim_returned_as_unprocessable_is_not_told_to_adjust_itself(findings) -> None:
    """Medicare returns a claim whose drug line carries neither JW nor JZ as unprocessable: it never
    enters claim history, so a frequency 7 adjustment of it rejects (probe O). Those corrections say
    both ways; a line that carries a modifier (processed, then denied) keeps the adjustment."""
    unprocessable = {"no_jw_jz", "waste_without_jw", "waste_in_dose_units", "waste_without_jw_lines",
                     "waste_in_dose_units_lines"}
    for row in findings.iter_rows(named=True):
        text = row["appeal_text"]
        if row["reason"] in unprocessable:
            assert text.startswith(f"Corrected claim {row['claim_id']}: "), text
            assert "a claim returned as unprocessable, never entered in the payer's history, is sent again as a new " \
                   "claim." in text
        elif row["reason"] == "jz_with_billable_waste":  # near miss: JZ on the line, the claim was processed
            assert text.startswith(f"Corrected claim {row['claim_id']} (frequency code 7"), text


def test_the_jw_line_a_fix_adds_carries_the_drug_lines_kx_and_jb(tmp_path) -> None:
    """Home SC immune globulin: the discarded amount's JW line is billed with the KX and JB every line of
    the drug needs (A52507; the Noridian JD DME JB notice). "Add a line J1559-JW x4", applied as
    written, made two findings on the added line (probe 19A: kx_missing, jb_missing_home_sc). The office
    line's JW line takes no KX or JB (near miss), only the denial its dose line declares (GA; probe
    19F)."""
    claims = tmp_path / "claims.csv"
    claims.write_text(
        "claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,modifier_1,"
        "modifier_2,modifier_3,units,charge,diagnosis_1,drug_dose_mg,drug_wasted_mg,route,billing_provider\n"
        "H1,1,M1,MEDICARE,12,2026-02-10,J1559,JZ,KX,JB,76,3800,D80.0,7600,400,SC,1234567893\n"
        "H1,2,M1,MEDICARE,12,2026-02-10,E0779,RR,KX,JB,1,250,D80.0,,,,1234567893\n"
        "O1,1,M2,MEDICARE,11,2026-02-10,J1459,JZ,GA,,71,7100,D80.0,35200,400,IV,1234567893\n", encoding="utf-8")
    findings = scrub([str(claims)], select=["missing-modifier"]).findings
    fixes = dict(findings.select("claim_id", "suggested_fix").iter_rows())
    assert set(fixes) == {"H1", "O1"}
    assert "add a line J1559-JW-KX-JB x4 for the 400 mg discarded" in fixes["H1"]
    # (GA, the dose line's declared denial, is the waste's too; nothing else of the dose line is copied)
    assert "add a line J1459-JW-GA x1 for the 400 mg discarded" in fixes["O1"]
    # The corrected claim's words name the line as the fix does, not "a new line with modifier JW"
    # (probe 19E: the letter and the fix disagreed on the home SCIG line's modifiers).
    appeals = dict(findings.select("claim_id", "appeal_text").iter_rows())
    assert "on a new line J1559-JW-KX-JB, 4 unit(s) for the 400 mg discarded" in appeals["H1"], appeals["H1"]
    assert "on a new line J1459-JW-GA, 1 unit(s) for the 400 mg discarded" in appeals["O1"], appeals["O1"]
    # Applied as written, the home claim has no finding left.
    fixed = tmp_path / "fixed.csv"
    fixed.write_text(
        "claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,modifier_1,"
        "modifier_2,modifier_3,units,charge,diagnosis_1,drug_dose_mg,drug_wasted_mg,route,billing_provider\n"
        "H1,1,M1,MEDICARE,12,2026-02-10,J1559,KX,JB,,76,3800,D80.0,7600,400,SC,1234567893\n"
        "H1,2,M1,MEDICARE,12,2026-02-10,E0779,RR,KX,JB,1,250,D80.0,,,,1234567893\n"
        "H1,3,M1,MEDICARE,12,2026-02-10,J1559,JW,KX,JB,4,200,D80.0,,,SC,1234567893\n", encoding="utf-8")
    assert scrub([str(fixed)]).findings.height == 0


def test_the_jw_line_shares_the_dose_lines_declared_denial_and_no_rejected_row_lifts_the_home_date(
        tmp_path) -> None:
    """Probe 19F: (1) home SCIG off the covered list declared with GA: the JW line is J1559-JW-GA-JB, not
    -KX-JB (applied, the rerun found it not covered); home IVIG with GY: J1459-JW-GY. (2) A rejected
    96365 row is no evidence that the practitioner gave the drug: a home J1459 in August 2023 is asked
    no JZ (the supplier's home date), as without that row."""
    claims = tmp_path / "claims.csv"
    claims.write_text(
        "claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,modifier_1,"
        "modifier_2,modifier_3,units,charge,diagnosis_1,drug_dose_mg,drug_wasted_mg,route,billing_provider,"
        "infusion_start,infusion_stop\n"
        "H1,1,M1,MEDICARE,12,2026-02-10,J1559,JZ,GA,JB,76,3800,G70.00,7600,400,SC,1234567893,,\n"
        "H1,2,M1,MEDICARE,12,2026-02-10,E0779,RR,GA,JB,1,250,G70.00,,,,1234567893,,\n"
        "G1,1,M2,MEDICARE,12,2026-02-10,J1459,JZ,GY,,71,7100,G61.81,35200,400,IV,1234567893,,\n"
        "KR1,1,M3,MEDICARE,12,2023-08-01,96365,,,,abc,350,D80.0,,,,1234567893,2023-08-01T09:00,2023-08-01T10:00\n"
        "KR1,2,M3,MEDICARE,12,2023-08-01,J1459,,,,40,4000,D80.0,20000,0,IV,1234567893,,\n", encoding="utf-8")
    result = scrub([str(claims)], select=["missing-modifier"])
    fixes = {(c, n): f for c, n, f in result.findings.select("claim_id", "line_number", "suggested_fix").iter_rows()}
    assert "add a line J1559-JW-GA-JB x4" in fixes[("H1", 1)]
    assert "add a line J1459-JW-GY x1" in fixes[("G1", 1)]
    assert ("KR1", 2) not in fixes and result.summary["rejected_rows"] == 1


def test_the_required_from_date_is_the_home_date_at_home(tmp_path) -> None:
    # Home SCIG dispensed on 2024-01-02 (POS 12, no administration service): JZ applies there from the
    # policy's home date, 2024-01-01, and the words said "from 2023-07-01" (probe 22A, debatable Q1).
    # Near miss: the same drug given in the office on that date is dated from 2023-07-01.
    path = tmp_path / "home.csv"
    path.write_text(
        "claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,modifier_1,"
        "modifier_2,units,charge,diagnosis_1,drug_dose_mg,drug_wasted_mg\n"
        "H1,1,M1,MEDICARE,12,2024-01-02,J1559,JB,KX,80,8000,D80.0,8000,0\n"
        "O1,1,M2,MEDICARE,11,2024-01-02,96369,,,1,300,D80.0,,\n"
        "O1,2,M2,MEDICARE,11,2024-01-02,J1559,JB,KX,80,8000,D80.0,8000,0\n", encoding="utf-8")
    f = scrub([str(path)], select=["missing-modifier"]).findings.filter(pl.col("reason") == "no_jw_jz")
    words = dict(f.select("claim_id", "message").iter_rows())
    assert "from 2024-01-01" in words["H1"] and "2023-07-01" not in words["H1"]
    assert "from 2023-07-01" in words["O1"]
