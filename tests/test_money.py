"""Charges at risk add up (issue 11 "Money"): each line's charge counts once, per-check, per-payer,
per-billing-provider and per-claim totals equal the headline, and what counts follows the card."""

from __future__ import annotations

import math

import pytest
from conftest import ROOT

from scrubber.engine import scrub
from scrubber.output.html_report import build_context

BATCHES = [ROOT / "sample_claims" / "claims.csv", ROOT / "sample_claims" / "claims.json"]


@pytest.mark.parametrize("path", BATCHES, ids=lambda p: p.name)
def test_totals_add_up_to_the_headline(path) -> None:
    result = scrub([str(path)])
    s = result.summary
    headline = s["charges_at_risk"]
    assert headline > 0
    assert math.isclose(sum(c["charges_at_risk"] for c in s["by_check"].values()), headline, abs_tol=0.011)
    f = result.findings
    assert math.isclose(float(f.get_column("charge_at_risk").sum()), headline, abs_tol=0.011)
    ctx = build_context(result)
    for table in ("by_payer", "by_provider", "by_month"):
        assert math.isclose(sum(r["at_risk"] for r in ctx[table]), headline, abs_tol=0.011), table
    import json

    claims = json.loads(str(ctx["data"]))["claims"]
    assert math.isclose(sum(c["risk"] for c in claims), headline, abs_tol=0.011)
    # Each line's charge counts once at most: the total never exceeds what was billed.
    assert headline <= s["charges_billed"] + 0.005


def test_warnings_and_info_put_nothing_at_risk() -> None:
    result = scrub([str(BATCHES[0])])
    f = result.findings
    assert float(f.filter(f["severity"] != "error").get_column("charge_at_risk").sum()) == 0.0


MONEY_HEADER = ("claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,modifier_1,units,"
                "charge,diagnosis_1,drug_dose_mg,drug_wasted_mg,infusion_start,infusion_stop,billing_provider")


def _at_risk(tmp_path, *rows: str) -> dict[tuple[str, int, str], float]:
    path = tmp_path / "claims.csv"
    path.write_text("\n".join([MONEY_HEADER, *rows]) + "\n", encoding="utf-8")
    f = scrub([str(path)]).findings
    return {(c, n, k): a for c, n, k, a in f.select("claim_id", "line_number", "check_id", "charge_at_risk").rows()}


def test_a_line_over_its_mue_is_at_risk_whole_once(tmp_path) -> None:
    """CMS denies every unit of a claim line over an MAI 1 MUE, and every unit of the code on the claim
    that takes a date over an MAI 2 or 3 MUE (CMS NCCI MUE FAQ; CGS: "set to deny claim lines
    exceeding the acceptable maximums"), not only the units over: the line's whole charge is at risk,
    once (probe S: 96372 x5 put $25 of $125 at risk). Units over the record that another finding
    reports on the line stay that finding's money, the cause of them; the MUE takes the rest of the
    line (probe U: the MUE took all of it and left the hours over the record at $0)."""
    money = _at_risk(
        tmp_path,
        # 96366 x12 at $100 a unit, 660 minutes: x10 supported (2 over), MUE 8 (MAI 3)
        "L1,1,M1,MEDICARE,11,2026-03-02,96365,,1,350,D80.0,,,2026-03-02T08:00,2026-03-02T19:00,1111111111",
        "L1,2,M1,MEDICARE,11,2026-03-02,96366,,12,1200,D80.0,,,,,1111111111",
        # J1459 x330 at $100: 160,000 mg is 320 units (10 over), MUE 300
        "L2,1,M2,MEDICARE,11,2026-03-02,96365,,1,350,D80.0,,,2026-03-02T08:00,2026-03-02T10:00,1111111111",
        "L2,2,M2,MEDICARE,11,2026-03-02,96366,,1,100,D80.0,,,,,1111111111",
        "L2,3,M2,MEDICARE,11,2026-03-02,J1459,JZ,330,33000,D80.0,160000,0,,,1111111111",
        # 96372 x5 at $125 (MUE 4): the whole line, not $25
        "L4,1,M4,MEDICARE,11,2026-03-02,96372,,5,125,D80.0,,,,,1111111111",
    )
    assert money[("L1", 2, "unit-miscalculation")] == 200.0 and money[("L1", 2, "units-over-mue")] == 1000.0
    assert money[("L2", 3, "unit-miscalculation")] == 1000.0 and money[("L2", 3, "units-over-mue")] == 32000.0
    assert money[("L4", 1, "units-over-mue")] == 125.0


def test_a_date_of_service_mue_denies_the_code_on_the_claim_that_goes_over(tmp_path) -> None:
    """96372 x3 on claim B1 and x3 on claim B2 (MUE 4 a date): B2 takes the date over, and all of B2's
    96372 units are denied ($90, not the $60 of its 2 units over); B1's are not. Two 96365 lines on one
    claim, one with XS (MUE 1, MAI 3): both are denied until the appeal ($600). Near miss: x4 alone."""
    money = _at_risk(
        tmp_path,
        "B1,1,M5,MEDICARE,11,2026-03-02,96372,,3,90,D80.0,,,,,1111111111",
        "B2,1,M5,MEDICARE,11,2026-03-02,96372,,3,90,D80.0,,,,,1111111111",
        "X1,1,M6,MEDICARE,11,2026-03-02,96365,,1,300,D80.0,,,2026-03-02T08:00,2026-03-02T09:00,1111111111",
        "X1,2,M6,MEDICARE,11,2026-03-02,96365,XS,1,300,D80.0,,,2026-03-02T08:00,2026-03-02T09:00,1111111111",
        "N1,1,M7,MEDICARE,11,2026-03-02,96372,,4,120,D80.0,,,,,1111111111",
    )
    assert money == {("B2", 1, "units-over-mue"): 90.0, ("X1", 2, "units-over-mue"): 600.0}


def test_an_extra_initial_unit_keeps_its_money_beside_the_mue(tmp_path) -> None:
    """96365 x3 (two extra initial units, duplicate-initial-infusion's) and 96365-XS over the MUE of 1:
    the extra units' $600 stay the duplicate's, the MUE takes the rest of both lines ($600)."""
    money = _at_risk(
        tmp_path,
        "W1,1,N3,AETNA,11,2026-03-02,96365,,3,900,D80.0,,,2026-03-02T08:00,2026-03-02T09:00,1111111111",
        "W1,2,N3,AETNA,11,2026-03-02,96365,XS,1,300,D80.0,,,2026-03-02T08:00,2026-03-02T09:00,1111111111",
    )
    assert money[("W1", 1, "duplicate-initial-infusion")] == 600.0
    assert money[("W1", 2, "units-over-mue")] == 600.0


def test_near_miss_a_whole_line_at_risk_leaves_no_room_for_more(tmp_path) -> None:
    """Units over the MUE on a line whose whole charge another finding puts at risk add nothing."""
    money = _at_risk(
        tmp_path,
        "L3,1,M3,MEDICARE,11,2026-03-02,96365,,1,350,D80.0,,,2026-03-02T08:00,2026-03-02T10:00,1111111111",
        "L3,2,M3,MEDICARE,11,2026-03-02,J1459,,330,33000,D80.0,160000,0,,,1111111111",  # no JZ: the whole line
    )
    assert sum(a for (c, n, _), a in money.items() if (c, n) == ("L3", 2)) == 33000.0


def test_96371_over_its_mue_puts_the_claims_96371_lines_at_risk(tmp_path) -> None:
    """96371's CMS MUE is 1 (MAI 3, a date-of-service edit): units over it deny every 96371 unit of the
    claim that date, as units-over-mue prices every other code (the check put only the unit over at
    risk, $100 of a $200 line). A payer's cap above the MUE is its own: its units over stay the
    money; an institutional claim's 96371 on each side of midnight is within the MUE on each date."""
    money = _at_risk(
        tmp_path,
        "C1,1,M1,MEDICARE,11,2026-04-10,96369,,1,200,D80.0,,,,,1111111111",
        "C1,2,M1,MEDICARE,11,2026-04-10,96371,,2,200,D80.0,,,,,1111111111",
        "C2,1,M2,MEDICARE,11,2026-04-10,96369,,1,200,D80.0,,,,,1111111111",
        "C2,2,M2,MEDICARE,11,2026-04-10,96371,,1,100,D80.0,,,,,1111111111",
        "C2,3,M2,MEDICARE,11,2026-04-10,96371,,1,100,D80.0,,,,,1111111111",
    )
    assert money[("C1", 2, "over-cap-96371")] == 200.0
    assert money[("C2", 3, "over-cap-96371")] == 200.0  # lines 2 and 3, on the finding of line 3
    path = tmp_path / "claims.csv"
    path.write_text("\n".join([
        "claim_id,line_number,member_id,payer,claim_type,place_of_service,date_of_service,procedure_code,"
        "revenue_code,units,charge,diagnosis_1",
        "H1,1,M9,MEDICARE,institutional,22,2026-04-10,96371,0260,1,100,D80.0",
        "H1,2,M9,MEDICARE,institutional,22,2026-04-11,96371,0260,1,100,D80.0",
        "H1,3,M9,MEDICARE,institutional,22,2026-04-10,96369,0260,1,250,D80.0",
        "A1,1,M5,ACME HEALTH,professional,11,2026-04-10,96369,,1,200,D80.0",
        "A1,2,M5,ACME HEALTH,professional,11,2026-04-10,96371,,3,300,D80.0",
    ]) + "\n", encoding="utf-8")
    policy = tmp_path / "acme.toml"
    policy.write_text('name = "ACME"\nextends = "DEFAULT"\npayers = ["ACME HEALTH"]\n[caps]\n"96371" = 2\n',
                      encoding="utf-8")
    f = scrub([str(path)], select=["over-cap-96371"], policy_files=[str(policy)]).findings
    near = {(c, n): a for c, n, a in f.select("claim_id", "line_number", "charge_at_risk").rows()}
    assert near == {("H1", 2): 100.0, ("A1", 2): 100.0}


def test_a_jb_on_an_iv_only_immune_globulin_puts_the_drug_line_at_risk(tmp_path) -> None:
    """J1459-JB with 96365: the payer denies the line whose modifier its code does not take (CARC 4), the
    drug, not the 96365 that agrees with it (probe V: $350 on the 96365). A route written only in the
    record (no modifier on the claim) leaves the administration it contradicts at risk."""
    money = _at_risk(
        tmp_path,
        "R1,1,M1,MEDICARE,11,2026-03-02,96365,,1,350,D80.0,,,2026-03-02T09:00,2026-03-02T10:00,1111111111",
        "R1,2,M1,MEDICARE,11,2026-03-02,J1459,JB,40,3800,D80.0,20000,0,,,1111111111",
        "R2,1,M2,MEDICARE,11,2026-03-02,96365,,1,350,D80.0,,,2026-03-02T09:00,2026-03-02T10:00,1111111111",
        "R2,2,M2,MEDICARE,11,2026-03-02,J1459,,40,3800,D80.0,20000,0,,,1111111111",
    )
    assert money[("R1", 2, "route-mismatch")] == 3800.0
    assert ("R2", 2, "route-mismatch") not in money  # no route documented: nothing to contradict
    path = tmp_path / "record.csv"
    path.write_text("\n".join([
        "claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,units,charge,"
        "diagnosis_1,drug_dose_mg,route,infusion_start,infusion_stop",
        "R3,1,M3,MEDICARE,11,2026-03-02,96365,1,350,D80.0,,,2026-03-02T09:00,2026-03-02T10:00",
        "R3,2,M3,MEDICARE,11,2026-03-02,J1459,40,3800,D80.0,20000,SC,,",
    ]) + "\n", encoding="utf-8")
    f = scrub([str(path)], select=["route-mismatch"]).findings
    assert f.select("line_number", "reason", "charge_at_risk").rows() == [(2, "documented_sc_iv_product", 350.0)]


def test_waste_billed_in_the_dose_units_risks_the_line_only_where_jz_is_required(tmp_path) -> None:
    """J1459 x72 at $95 a unit: 71 units of dose and 1 of waste on one line, no JW line. Where JZ is
    required (Medicare from 2023-07-01) a line with neither JW nor JZ is returned unprocessed: the whole
    line. Where only JW is (the DEFAULT policy; Medicare before), the line is processed and the waste's
    unit billed without JW is what is at risk (probe V: $6,840 for a commercial payer)."""
    money = _at_risk(
        tmp_path,
        "W1,1,M1,MEDICARE,11,2026-03-02,J1459,,72,6840,D80.0,35200,800,,,1111111111",
        "W2,1,M2,AETNA,11,2026-03-02,J1459,,72,6840,D80.0,35200,800,,,1111111111",
        "W3,1,M3,MEDICARE,11,2023-06-30,J1459,,72,6840,D80.0,35200,800,,,1111111111",
    )
    assert money[("W1", 1, "missing-modifier")] == 6840.0
    assert money[("W2", 1, "missing-modifier")] == 95.0
    assert money[("W3", 1, "missing-modifier")] == 95.0


def test_unsupported_hours_split_over_two_lines_are_priced_on_both(tmp_path) -> None:
    """96366 x1 ($110) and x2 ($220) with one hour supported: two units over, $220, laid on the chain's
    lines in order; the excess priced on the head line alone was capped at its $110 (probe P)."""
    money = _at_risk(
        tmp_path,
        "K1,1,M1,MEDICARE,11,2026-03-02,96365,,1,350,D80.0,,,2026-03-02T09:00,2026-03-02T10:31,1111111111",
        "K1,2,M1,MEDICARE,11,2026-03-02,96366,,1,110,D80.0,,,,,1111111111",
        "K1,3,M1,MEDICARE,11,2026-03-02,96366,,2,220,D80.0,,,,,1111111111",
        # near miss: one unit over on the head line alone stays its share of that line
        "K2,1,M2,MEDICARE,11,2026-03-02,96365,,1,350,D80.0,,,2026-03-02T09:00,2026-03-02T10:31,1111111111",
        "K2,2,M2,MEDICARE,11,2026-03-02,96366,,2,220,D80.0,,,,,1111111111",
    )
    assert money[("K1", 2, "unit-miscalculation")] == 220.0
    assert money[("K2", 2, "unit-miscalculation")] == 110.0


def test_the_mue_words_say_which_units_another_finding_reports(tmp_path) -> None:
    """"96366 is billed 10 unit(s)" on a line billing x12 read as a contradiction (probe P): the MUE
    counts the units after those another finding reports, and says so."""
    path = tmp_path / "claims.csv"
    path.write_text("\n".join([
        MONEY_HEADER,
        "L1,1,M1,MEDICARE,11,2026-03-02,96365,,1,350,D80.0,,,2026-03-02T08:00,2026-03-02T19:00,1111111111",
        "L1,2,M1,MEDICARE,11,2026-03-02,96366,,12,1200,D80.0,,,,,1111111111",
        "L4,1,M4,MEDICARE,11,2026-03-02,96365,,1,350,D80.0,,,2026-03-02T08:00,2026-03-02T19:00,1111111111",
        "L4,2,M4,MEDICARE,11,2026-03-02,96366,,10,1000,D80.0,,,,,1111111111",  # near miss: all 10 supported
    ]) + "\n", encoding="utf-8")
    f = scrub([str(path)], select=["units-over-mue", "unit-miscalculation"]).findings
    mue = {c: m for c, k, m in f.select("claim_id", "check_id", "message").rows() if k == "units-over-mue"}
    assert mue["L1"].startswith("96366 is billed 10 unit(s) (besides the 2 unit(s) of claim L1 line 2 another "
                                "finding already reports) in this encounter")
    assert mue["L4"].startswith("96366 is billed 10 unit(s) in this encounter")


def test_the_mue_words_name_units_another_finding_reports_on_another_line_of_the_code(tmp_path) -> None:
    """96366 x4 and x8 with 10 hours documented: unit-miscalculation reports the 2 units on the first
    line, the MUE's excess lands on the second; "billed 10 unit(s)" said nothing of the other 2 (the
    note was read from the finding's own line only)."""
    path = tmp_path / "claims.csv"
    path.write_text("\n".join([
        MONEY_HEADER,
        "L1,1,M1,MEDICARE,11,2026-03-02,96365,,1,350,D80.0,,,2026-03-02T08:00,2026-03-02T19:00,1111111111",
        "L1,2,M1,MEDICARE,11,2026-03-02,96366,,4,400,D80.0,,,,,1111111111",
        "L1,3,M1,MEDICARE,11,2026-03-02,96366,,8,800,D80.0,,,,,1111111111",
        # near miss: 10 hours documented, 10 billed over two lines: nothing reported elsewhere
        "L4,1,M4,MEDICARE,11,2026-03-02,96365,,1,350,D80.0,,,2026-03-02T08:00,2026-03-02T19:00,1111111111",
        "L4,2,M4,MEDICARE,11,2026-03-02,96366,,4,400,D80.0,,,,,1111111111",
        "L4,3,M4,MEDICARE,11,2026-03-02,96366,,6,600,D80.0,,,,,1111111111",
    ]) + "\n", encoding="utf-8")
    f = scrub([str(path)], select=["units-over-mue", "unit-miscalculation"]).findings
    mue = {c: (n, m, a) for c, n, k, m, a in f.select("claim_id", "line_number", "check_id", "message",
                                                     "charge_at_risk").rows() if k == "units-over-mue"}
    line, message, at_risk = mue["L1"]
    assert line == 3
    assert message.startswith("96366 is billed 10 unit(s) (besides the 2 unit(s) of claim L1 line 2 another "
                              "finding already reports) in this encounter")
    assert at_risk == 1000.0  # line 3 and what unit-miscalculation leaves of line 2
    assert mue["L4"][1].startswith("96366 is billed 10 unit(s) in this encounter")


def test_the_report_tables_bill_what_the_headline_bills_also_beside_a_void(tmp_path) -> None:
    """A void's charges cancel the claim it repeats: left out of the headline's billed, they were in
    the HTML payer, provider and month tables ($920 against $460, probe P)."""
    path = tmp_path / "claims.csv"
    header = MONEY_HEADER + ",claim_frequency,payer_claim_number"
    path.write_text("\n".join([
        header,
        "V1,1,M1,MEDICARE,11,2026-03-02,96365,,1,350,D80.0,,,2026-03-02T09:00,2026-03-02T10:00,1111111111,1,",
        "V1,2,M1,MEDICARE,11,2026-03-02,96366,,1,110,D80.0,,,,,1111111111,1,",
        "V2,1,M1,MEDICARE,11,2026-03-02,96365,,1,350,D80.0,,,2026-03-02T09:00,2026-03-02T10:00,1111111111,8,P-V1",
        "V2,2,M1,MEDICARE,11,2026-03-02,96366,,1,110,D80.0,,,,,1111111111,8,P-V1",
    ]) + "\n", encoding="utf-8")
    result = scrub([str(path)])
    # The void cancels V1, which the batch holds: neither is billed (probe 17E: an original, its void and
    # the rebill bill the visit once); the tables agree with the headline.
    assert result.summary["charges_billed"] == 0.0 and result.summary["voided_claims"] == 1
    ctx = build_context(result)
    for table in ("by_payer", "by_provider", "by_month"):
        assert sum(r["billed"] for r in ctx[table]) == 0.0, table
    # Near miss: the void alone (its original sent in an earlier batch) cancels nothing here.
    path.write_text("\n".join([header, *[r for r in path.read_text().splitlines()[1:] if r.startswith("V2")],
                               "V3,1,M1,MEDICARE,11,2026-03-02,96365,,1,350,D80.0,,,2026-03-02T09:00,"
                               "2026-03-02T10:00,1111111111,1,"]) + "\n", encoding="utf-8")
    alone = scrub([str(path)])
    assert alone.summary["charges_billed"] == 350.0 and "voided_claims" not in alone.summary
    assert sum(r["billed"] for r in build_context(alone)["by_payer"]) == 350.0


def test_hydration_units_over_the_outside_minutes_count_untimed_lines_too(tmp_path) -> None:
    """96361 x3 timed (180 minutes outside the overlap: x3) and x2 untimed: 2 units over, $200 (probe Q:
    the untimed line was left out, info, $0.00)."""
    money = _at_risk(
        tmp_path,
        "B1,1,M1,MEDICARE,11,2026-03-02,96365,,1,350,D80.0,,,2026-03-02T09:00,2026-03-02T10:00,1111111111",
        "B1,2,M1,MEDICARE,11,2026-03-02,96361,,3,300,D80.0,,,2026-03-02T09:00,2026-03-02T13:00,1111111111",
        "B1,3,M1,MEDICARE,11,2026-03-02,96361,,2,200,D80.0,,,,,1111111111",
    )
    assert sum(a for (c, _, k), a in money.items() if c == "B1" and k == "concurrent-hydration") == 200.0


def test_hydration_hours_over_the_outside_minutes_on_an_untimed_line_are_priced(tmp_path) -> None:
    """96360-XS 10:00-12:00 beside 96365 10:00-11:00, with the usual untimed 96361 x1: 60 minutes outside
    the overlap support 96360 x1 and no 96361, so the 96361's $90 is at risk (probe 17C: the error said
    so and priced $0, unit-miscalculation leaving the excess to this check). Near miss: 150 minutes
    (10:00-12:30, 90 outside) support no 96361 either (91 would): the same $90; 10:00-12:31 supports x1."""
    money = _at_risk(
        tmp_path,
        "H1,1,M1,MEDICARE,11,2026-04-08,96365,,1,520,A41.9,,,2026-04-08T10:00,2026-04-08T11:00,1111111111",
        "H1,2,M1,MEDICARE,11,2026-04-08,96360,XS,1,180,E86.0,,,2026-04-08T10:00,2026-04-08T12:00,1111111111",
        "H1,3,M1,MEDICARE,11,2026-04-08,96361,,1,90,E86.0,,,,,1111111111",
        "H2,1,M2,MEDICARE,11,2026-04-08,96365,,1,520,A41.9,,,2026-04-08T10:00,2026-04-08T11:00,2222222222",
        "H2,2,M2,MEDICARE,11,2026-04-08,96360,XS,1,180,E86.0,,,2026-04-08T10:00,2026-04-08T12:30,2222222222",
        "H2,3,M2,MEDICARE,11,2026-04-08,96361,,1,90,E86.0,,,,,2222222222",
        "H3,1,M3,MEDICARE,11,2026-04-08,96365,,1,520,A41.9,,,2026-04-08T10:00,2026-04-08T11:00,3333333333",
        "H3,2,M3,MEDICARE,11,2026-04-08,96360,XS,1,180,E86.0,,,2026-04-08T10:00,2026-04-08T12:31,3333333333",
        "H3,3,M3,MEDICARE,11,2026-04-08,96361,,1,90,E86.0,,,,,3333333333",
    )
    assert money[("H1", 2, "concurrent-hydration")] == 90.0
    assert money[("H2", 2, "concurrent-hydration")] == 90.0
    assert money.get(("H3", 2, "concurrent-hydration"), 0.0) == 0.0


def test_an_mue_finding_cites_the_table_it_was_judged_by(tmp_path) -> None:
    """A hospital claim's MUE finding (and letter) cites the Outpatient Hospital Services table only, a
    physician claim's the Practitioner Services table only (probe 19C: both were cited on a UB-04)."""
    claims = tmp_path / "claims.csv"
    claims.write_text(
        "claim_id,line_number,member_id,payer,claim_type,place_of_service,date_of_service,procedure_code,"
        "revenue_code,modifier_1,units,charge,diagnosis_1,drug_dose_mg,billing_provider\n"
        "H1,1,M1,MEDICARE,institutional,22,2026-05-04,96365,0260,,1,400,D80.0,,1234567893\n"
        "H1,2,M1,MEDICARE,institutional,22,2026-05-04,J1459,0636,JZ,400,38000,D80.0,200000,1234567893\n"
        "P1,1,M2,MEDICARE,professional,11,2026-05-04,96365,,,1,150,D80.0,,1234567893\n"
        "P1,2,M2,MEDICARE,professional,11,2026-05-04,J1459,,JZ,400,38000,D80.0,200000,1234567893\n",
        encoding="utf-8")
    findings = scrub([str(claims)], select=["units-over-mue"]).findings
    cited = dict(findings.select("claim_id", "citation").iter_rows())
    assert set(cited) == {"H1", "P1"}
    assert "Outpatient Hospital Services (2024 Q3)" in cited["H1"] and "Practitioner" not in cited["H1"]
    assert "Practitioner Services (2026 Q2)" in cited["P1"] and "Outpatient" not in cited["P1"]
