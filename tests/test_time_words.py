"""The words of the time checks (unit-miscalculation, observation-counted-as-infusion, infusion-too-short,
concurrent-hydration) as a payer, a billing clerk and an appeal writer read them: the payer's kind and
the setting pick the citations, fixes give the computed answer, corrected claims carry frequency code 7
and the payer's claim number, under-billing is money left unbilled, and the money at risk adds up."""

from __future__ import annotations

import re

import polars as pl
import pytest

from scrubber.engine import scrub

TIME_CHECKS = ["unit-miscalculation", "observation-counted-as-infusion", "infusion-too-short", "concurrent-hydration"]
HEADER = ("claim_id,line_number,member_id,payer,claim_type,place_of_service,date_of_service,procedure_code,"
          "revenue_code,units,charge,diagnosis_1,infusion_start,infusion_stop,observation_minutes,drug_dose_mg,"
          "payer_claim_number")


def _claims(payer: str, claim_type: str, prefix: str) -> list[str]:
    """One claim per reason of the four cards, for one payer and setting."""
    pos, rev = ("22", "0260") if claim_type == "institutional" else ("11", "")
    d = "2026-03-02"

    def line(claim: str, n: int, code: str, units: float, charge: float, start: str = "", stop: str = "",
             obs: str = "", dose: str = "", dx: str = "D80.0") -> str:
        times = [f"{d}T{start}" if start else "", f"{d}T{stop}" if stop else ""]
        return ",".join([f"{prefix}{claim}", str(n), f"M{prefix}{claim}", payer, claim_type, pos, d, code, rev,
                         f"{units:g}", f"{charge:g}", dx, *times, obs, dose, f"PCN-{prefix}{claim}"])

    return [
        line("DO", 1, "J1459", 75, 7500, dose="35000"),  # drug_over: 70 supported
        line("DU", 1, "J1459", 69, 6900, dose="35000"),  # drug_under
        line("DL", 1, "J1459", 70, 7000, dose="35000"), line("DL", 2, "J1459", 70, 7000),  # drug_over_lines
        line("DM", 1, "J1459", 40, 4000, dose="35000"), line("DM", 2, "J1459", 20, 2000),  # drug_under_lines
        line("HO", 1, "96365", 1, 300, "09:00", "10:40"), line("HO", 2, "96366", 1, 120),
        line("HO", 3, "96366", 1, 120),  # hours_over: 100 min supports x1, x2 billed on two lines
        line("HN", 1, "96365", 1, 300, "09:00", "10:30"), line("HN", 2, "96366", 1, 120),  # hours_none
        # 96366 beside 96413 only: anchored for MEDICARE (the CMS list), but no 96365/96367 gives it hours
        line("HX", 1, "96413", 1, 400, "09:00", "10:00", dx="C50.911"), line("HX", 2, "96366", 1, 120),
        # the same after 120 minutes of chemotherapy, which support 96415 x1: recoded, not deleted
        line("HF", 1, "96413", 1, 400, "09:00", "11:00", dx="C50.911"), line("HF", 2, "96366", 1, 120),
        # the same after 180 minutes (96415 x2): the recode of the one unit billed, and the rest asked with it
        line("HR", 1, "96413", 1, 400, "09:00", "12:00", dx="C50.911"), line("HR", 2, "96366", 1, 120),
        # the same after 600 minutes (96415 x9): the rest asked up to the practitioner MUE of 8
        line("HM", 1, "96413", 1, 400, "08:00", "18:00", dx="C50.911"), line("HM", 2, "96366", 1, 120),
        # 96415 beside 96413 of 60 minutes (none of its own) and a sequential 96367 of 95 (96366 x1): recoded
        line("HT", 1, "96413", 1, 400, "09:00", "10:00", dx="C50.911"),
        line("HT", 2, "96367", 1, 150, "10:00", "11:35", dx="C50.911"), line("HT", 3, "96415", 1, 150),
        line("HU", 1, "96365", 1, 300, "08:00", "10:31"), line("HU", 2, "96366", 1, 120),  # hours_under
        line("HB", 1, "96365", 1, 300, "08:00", "10:31"),  # hours_not_billed: 151 minutes support x2, no 96366 billed
        # sequential_units: 96367 x2 for one infusion of 150 minutes is 96367 x1 and 96366 x1
        line("SQ", 1, "96365", 1, 300, "08:00", "09:00"), line("SQ", 2, "96367", 2, 300, "09:00", "11:30"),
        # 96367 x2 10:00-12:00 and a 96366 continuing it to 13:00: the hours of the whole (review 27A D6)
        line("SC", 1, "96365", 1, 300, "09:00", "10:00"), line("SC", 2, "96367", 2, 300, "10:00", "12:00"),
        line("SC", 3, "96366", 1, 120, "12:00", "13:00"),
        # the same for 600 minutes (96366 x9): the hours asked up to the MUE of 8 (review 27A D4)
        line("SM", 1, "96365", 1, 300, "08:00", "09:00"), line("SM", 2, "96367", 4, 600, "09:00", "19:00"),
        line("OB", 1, "96365", 1, 300, "09:00", "10:20", "30"), line("OB", 2, "96366", 1, 120),  # observation
        line("SH", 1, "96365", 1, 300, "09:00", "09:12"),  # too short: push 96374
        # a lone sequential infusion too short: the initial push 96374 on a practitioner claim (27D B2)
        line("SL", 1, "96367", 1, 150, "09:00", "09:10"),
        # near miss: after an initial infusion it is the sequential push 96375
        line("SN", 1, "96365", 1, 300, "08:00", "09:00"), line("SN", 2, "96367", 1, 150, "09:00", "09:10"),
        # too short before an infusion billed as sequential: push_before_infusion (96375, 96367 as 96365)
        line("SB", 1, "96365", 1, 300, "08:50", "09:00"), line("SB", 2, "96367", 1, 150, "09:00", "10:00"),
        # the same with the infusion billed x3 for its one documented infusion: x1, its hours asked beside
        line("SX", 1, "96365", 1, 300, "08:50", "09:00"), line("SX", 2, "96367", 3, 450, "09:00", "12:00"),
        # the same reaching 16 minutes only with observation: below_floor_push_before_infusion
        line("SO", 1, "96365", 1, 300, "08:50", "09:00", "10"), line("SO", 2, "96367", 1, 150, "09:20", "10:20"),
        line("SI", 1, "96365", 1, 300, "09:00", "09:12"),
        line("SI", 2, "J1459", 70, 7000, dose="35000"),  # too short beside immune globulin: ig_push
        line("HY", 1, "96360", 1, 150, "09:00", "09:25", dx="E86.0"),  # hydration too short
        line("CH", 1, "96365", 1, 300, "09:00", "10:00"),
        line("CH", 2, "96361", 1, 80, "09:00", "10:20", dx="E86.0"),  # concurrent: 20 min outside
        line("CK", 1, "96365", 1, 300, "09:00", "10:00"),
        line("CK", 2, "96361", 1, 80, "09:30", "11:00", dx="E86.0"),  # concurrent: 60 min outside, x1 as billed
        line("CX", 1, "96365", 1, 300, "09:00", "10:00"),
        # 96361 x2 for 09:00-11:00: 120 minutes support x2, but 60 of them run with the 96365: x1, one over
        line("CX", 2, "96361", 2, 160, "09:00", "11:00", dx="E86.0"),
    ]


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    rows = [HEADER]
    for payer, prefix in (("MEDICARE", "M"), ("AETNA", "C")):
        for claim_type, p2 in (("professional", "P"), ("institutional", "I")):
            rows += _claims(payer, claim_type, prefix + p2)
    path = tmp_path_factory.mktemp("words") / "claims.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = scrub([str(path)], select=TIME_CHECKS)
    assert result.summary["rejected_rows"] == 0, result.rejected.to_dicts()
    return result.findings


def _one(findings: pl.DataFrame, claim: str, check: str | None = None) -> dict:
    mine = findings.filter(pl.col("claim_id") == claim)
    if check:
        mine = mine.filter(pl.col("check_id") == check)
    assert mine.height == 1, mine.select("claim_id", "line_number", "check_id", "reason").to_dicts()
    return mine.row(0, named=True)


TEXTS = ("message", "suggested_fix", "appeal_text", "citation")


def test_every_reason_of_the_four_cards_is_rendered(findings: pl.DataFrame) -> None:
    from checks import by_id

    seen = set(findings.select("check_id", "reason").unique().iter_rows())
    for check_id in TIME_CHECKS:
        for reason in by_id()[check_id].card.reasons:
            if reason in ("jw_over", "jw_under", "jw_over_lines", "jw_under_lines", "addon_hours", "below_floor_push",
                          "below_floor_hydration", "below_floor_ig", "repeated_hours_timed",
                          "second_initial_short_hydration", "under_cap", "hours_under_mue", "drug_under_mue",
                          "drug_over_with_waste", "drug_over_lines_with_waste"):
                continue  # rendered by the fixtures of tests/fixtures/checks (JW lines, observation floors, a
                # policy cap, an MUE, a policy asking no JW line) and tests/test_jw_lines.py,
                # tests/test_outranked_services.py, tests/test_fixes_settle.py, tests/test_waste_in_dose_units.py
            assert (check_id, reason) in seen, (check_id, reason)


def test_no_internal_names_no_x0_and_no_missing_fact(findings: pl.DataFrame) -> None:
    for row in findings.iter_rows(named=True):
        for key in TEXTS:
            text = row[key] or ""
            assert not re.search(r"RULES\.md|REFERENCE\.md|\.csv|\.toml|IG_OFFICE|DEFAULT|blog", text), text
            assert not re.search(r"\bx0\b", text), text
            assert "?]" not in text, text  # every fact present (the payer claim number is given)


def test_commercial_findings_carry_no_medicare_remedy_or_manual(findings: pl.DataFrame) -> None:
    commercial = findings.filter(pl.col("payer") == "AETNA")
    assert commercial.height >= 20
    for row in commercial.iter_rows(named=True):
        for key in TEXTS:
            text = row[key] or ""
            assert not re.search(r"\b(ABN|GA|GZ|GY)\b", text), text
        assert "IOM" not in row["citation"] and "Recovery Audit" not in row["citation"], row["citation"]
        assert ("HCPCS" if row["procedure_code"].startswith("J") else "CPT") in row["citation"]


def test_medicare_citations_follow_the_setting(findings: pl.DataFrame) -> None:
    timed = pl.col("check_id").is_in(["observation-counted-as-infusion", "infusion-too-short"]) | pl.col(
        "reason").str.starts_with("hours")
    medicare = findings.filter((pl.col("payer") == "MEDICARE") & timed)
    assert medicare.height >= 10
    for row in medicare.iter_rows(named=True):
        if row["claim_type"] == "institutional":
            assert "ch. 4, section 230.2" in row["citation"] and "ch. 12" not in row["citation"], row
        else:
            assert "ch. 12, section 30.5" in row["citation"] and "ch. 4" not in row["citation"], row
    concurrent = _one(findings, "MPCK", "concurrent-hydration")
    assert "NCCI Policy Manual for Medicare Services, ch. XI" in concurrent["citation"]
    assert "NCCI" not in _one(findings, "CPCK", "concurrent-hydration")["citation"]


def test_fixes_give_the_computed_answer(findings: pl.DataFrame) -> None:
    over = _one(findings, "MPHO")
    assert over["reason"] == "hours_over"
    assert "Bill 96366 x1 instead of x2" in over["suggested_fix"] and "claim MPHO lines 2, 3" in over["suggested_fix"]
    assert "96365 line 1, 09:00-10:40 = 100 min, supports 1" in over["message"]
    orphan_hours = _one(findings, "MPHX")
    assert orphan_hours["reason"] == "hours_no_infusion"
    assert "no infusion it extends (96365 or 96367) is billed in the encounter" in orphan_hours["message"]
    assert orphan_hours["suggested_fix"].startswith("Delete 96366 (claim MPHX line 2")
    none = _one(findings, "MPHN")
    assert none["suggested_fix"].startswith("Delete 96366 (claim MPHN line 2")
    assert "90 min, supports 0 (1 from 91 min)" in none["message"]
    # review 26A D6: the words say what the record supports, and the fix asks the rest with the recode
    recode = _one(findings, "MPHR")
    assert recode["reason"] == "hours_other_family" and "supports 96415 x2 not yet billed" in recode["message"]
    assert "as 96415 x1 instead of 96366 x1, and add 96415 x1 for the rest of the documented time (96415 x2 in " \
           "all)" in recode["suggested_fix"]
    capped = _one(findings, "MPHM")  # review 26F D3: bounded by the MUE as hours_not_billed is
    assert "supports 96415 x9 not yet billed" in capped["message"]
    assert "and add 96415 x7 for the rest of the documented time (96415 x8 in all; its CMS MUE is 8 per date " \
           "of service, so the rest only on appeal with the record)" in capped["suggested_fix"], capped["suggested_fix"]
    exact = _one(findings, "MPHF")
    assert "as 96415 x1 instead of 96366 x1:" in exact["suggested_fix"] and "and add" not in exact["suggested_fix"]
    sequential = _one(findings, "MPSQ")
    assert sequential["reason"] == "sequential_units"
    assert sequential["suggested_fix"].startswith("Bill 96367 x1 on claim MPSQ line 2 and its additional hours as "
                                                  "96366 (x1 for the documented 150 minutes")
    assert "one documented infusion (09:00-11:30, 150 minutes)" in sequential["message"]
    continued = findings.filter((pl.col("claim_id") == "MPSC") & (pl.col("reason") == "sequential_units")).row(
        0, named=True)
    assert "96366 (x2 for the 180 minutes it runs with the 96366 lines that continue it)" in continued["message"]
    # (its hours are those hours_under sizes in all on the 96366 line, not asked a second time: probe 28A D6)
    assert "(its additional hours are those the 96366 finding on claim MPSC line 3 sizes for the encounter in " \
           "all)" in continued["suggested_fix"]
    under = findings.filter((pl.col("claim_id") == "MPSC") & (pl.col("reason") == "hours_under")).row(0, named=True)
    assert under["line_number"] == 3 and "Bill 96366 x2 instead of x1 in all" in under["suggested_fix"]
    bounded = _one(findings, "MPSM")
    assert "and its additional hours as 96366 (x8 in all with any 96366 already billed for this infusion: the " \
           "documented 600 minutes support x9; its CMS MUE is 8 per date of service" in bounded["suggested_fix"]
    # (whole, not cut as a claim value is at 200 characters: probe 28A D3)
    assert "so the rest only on appeal with the record); if 4 new drugs were infused" in bounded["suggested_fix"]
    assert "characters)" not in bounded["suggested_fix"]
    drug = _one(findings, "MPDO")
    assert "Bill J1459 x70 instead of x75" in drug["suggested_fix"] and "5 more than the dose supports" in drug[
        "message"]
    swapped = _one(findings, "MPSX", "infusion-too-short")  # review 27A D3: the units named, one code per line
    assert "report 96367 on claim MPSX line 2 as 96365 x1 instead of x3:" in swapped["suggested_fix"]
    assert findings.filter((pl.col("claim_id") == "MPSX") & (pl.col("reason") == "sequential_units")).height == 0
    assert "Add 96366 x2" in _one(findings, "MPSX", "unit-miscalculation")["suggested_fix"]
    push = _one(findings, "MPSH")
    assert push["suggested_fix"].startswith("Bill 96374 x1 instead of 96365 on line 1")
    assert "12 minutes (09:00-09:12)" in push["message"]
    lone = _one(findings, "MPSL")  # 27D B2: a lone 96367 of 10 minutes is the initial push, not a lone 96375
    assert lone["suggested_fix"].startswith("Bill 96374 x1 instead of 96367 on line 1") and "push: 96374." in lone[
        "message"]
    assert _one(findings, "MPSN")["suggested_fix"].startswith("Bill 96375 x1 instead of 96367 on line 2")
    # a hospital claim's line is never alone (another claim of the visit may bill the initial service)
    assert _one(findings, "MISL")["suggested_fix"].startswith("Bill 96375 x1 instead of 96367 on line 1")
    assert _one(findings, "MPHY")["suggested_fix"].startswith("Delete line 1 (96360)")
    removed = _one(findings, "MPCH", "concurrent-hydration")
    assert removed["reason"] == "not_reportable" and removed["suggested_fix"].startswith(
        "Delete the hydration (96361 line 2)")
    assert "overlaps 96365 line 1 (09:00-10:00) by 60 min" in removed["message"]
    kept = _one(findings, "MPCX", "concurrent-hydration")
    assert kept["reason"] == "overlap_excluded" and kept["suggested_fix"].endswith("60 minutes outside the other "
                                                                                   "infusion only: 96361 x1.")
    assert "support 96361 x1; billed: 96361 x2" in kept["message"]
    right = _one(findings, "MPCK", "concurrent-hydration")  # billed as the minutes outside support: said, no fix
    assert right["reason"] == "overlap_already_excluded" and right["severity"] == "info"
    assert right["suggested_fix"].startswith("No change: claim MPCK bills the hydration on")
    observed = _one(findings, "MPOB")
    assert "adding the 30 minutes of documented observation" in observed["message"]


def test_corrections_are_frequency_7_with_the_payer_claim_number(findings: pl.DataFrame) -> None:
    for row in findings.iter_rows(named=True):
        if row["reason"] == "overlap_already_excluded":  # nothing to correct: the record, if asked
            assert row["fix_kind"] == "justification" and "Corrected claim" not in row["appeal_text"]
            continue
        assert row["fix_kind"] == "correction"
        assert f"Corrected claim {row['claim_id']} (frequency code 7, payer claim number PCN-{row['claim_id']})" in \
            row["appeal_text"], row["appeal_text"]


def test_under_billing_is_money_left_unbilled_and_puts_nothing_at_risk(findings: pl.DataFrame) -> None:
    under = findings.filter(pl.col("reason").is_in(["hours_under", "drug_under", "hours_not_billed"]))
    assert under.height == 20
    # (hours none is billed for: asked on the infusion line, "add", never "instead of x0"; the SX claims'
    # on the 96367 line their swap promotes to 96365)
    added = findings.filter(pl.col("reason") == "hours_not_billed")
    assert added.height == 8 and set(added.get_column("procedure_code")) == {"96365", "96367"}
    assert all(f.startswith("Add 96366 x2 for ") for f in added.get_column("suggested_fix")), added.get_column(
        "suggested_fix").to_list()
    for row in under.iter_rows(named=True):
        assert row["severity"] == "warning" and row["charge_at_risk"] == 0.0
        assert "money left unbilled" in row["message"] + row["suggested_fix"]


def test_money_at_risk(findings: pl.DataFrame) -> None:
    # 5 excess units of 75 at $7,500; 96366 x2 on two $120 lines where 1 is supported: the head line's
    # share (1 of its 1 unit); 96366 supported by none: its whole line; a removed hydration: its line.
    assert _one(findings, "MPDO")["charge_at_risk"] == 500.0
    assert _one(findings, "MPHO")["charge_at_risk"] == 120.0
    assert _one(findings, "MPHN")["charge_at_risk"] == 120.0
    assert _one(findings, "MPCH", "concurrent-hydration")["charge_at_risk"] == 80.0
    assert _one(findings, "MPCK", "concurrent-hydration")["charge_at_risk"] == 0.0
    # one unit of two over what the 60 minutes outside the overlap support: half the $160 (it was $0.00,
    # and unit-miscalculation leaves the excess the concurrent minutes explain to this check)
    assert _one(findings, "MPCX", "concurrent-hydration")["charge_at_risk"] == 80.0
    assert _one(findings, "MPSH")["charge_at_risk"] == 300.0


def test_the_episodes_of_a_busy_encounter_are_quoted_whole_and_a_huge_claim_id_is_still_cut(tmp_path) -> None:
    """96366 judged over four infusions: the episode list (a fact the time rules compose, ~300
    characters) was cut at 200 like one claim value ("9636... (260 characters)"), mid-sentence. It is
    quoted whole; a composed fact is still bounded, so a 100,000-character claim id cannot bloat it."""
    d = "2026-02-10"
    times = [("08:00", "09:00"), ("09:00", "10:40"), ("10:40", "12:20"), ("12:20", "14:00")]

    def claim(claim_id: str) -> list[str]:
        rows = [",".join([claim_id, str(n), "MB", "AETNA", "professional", "11", d, "96365" if n == 1 else "96367",
                          "", "1", "300", "D80.0", f"{d}T{a}", f"{d}T{b}", "", "", ""])
                for n, (a, b) in enumerate(times, start=1)]
        return [*rows, ",".join([claim_id, "5", "MB", "AETNA", "professional", "11", d, "96366", "", "9", "900",
                                 "D80.0", "", "", "", "", ""])]

    path = tmp_path / "claims.csv"
    path.write_text("\n".join([HEADER, *claim("B1")]) + "\n", encoding="utf-8")
    (message,) = scrub([str(path)], select=["unit-miscalculation"]).findings.get_column("message").to_list()
    assert "96367 line 4, 12:20-14:00 = 100 min, supports 1 (2 from 151 min)." in message
    assert "characters)" not in message
    huge = "C" * 100_000
    path.write_text("\n".join([HEADER, *[r.replace("B1,", f"{huge},", 1) for r in claim("B1")]]) + "\n",
                    encoding="utf-8")
    (message,) = scrub([str(path)], select=["unit-miscalculation"]).findings.get_column("message").to_list()
    assert len(message) < 5_000


def test_hours_billed_on_two_dates_of_one_encounter_name_both_dates(tmp_path) -> None:
    """Probe 20A: a hospital encounter across midnight bills 96415 on each date; the finding said "billed
    x2 for 2026-03-10 (claim R42 lines 2, 3)" though line 3 is dated 2026-03-11. Near miss: hours billed
    on one date name that date alone."""
    header = ("claim_id,line_number,member_id,payer,claim_type,place_of_service,date_of_service,procedure_code,"
              "revenue_code,units,charge,diagnosis_1,infusion_start,infusion_stop")
    rows = ["R42,1,M42,MEDICARE,institutional,22,2026-03-10,96413,0335,1,800,C50.911,2026-03-10T22:00,2026-03-11T00:30",
            "R42,2,M42,MEDICARE,institutional,22,2026-03-10,96415,0335,1,200,C50.911,,",
            "R42,3,M42,MEDICARE,institutional,22,2026-03-11,96415,0335,1,200,C50.911,,",
            "R43,1,M43,MEDICARE,institutional,22,2026-03-10,96413,0335,1,800,C50.911,2026-03-10T12:00,2026-03-10T14:30",
            "R43,2,M43,MEDICARE,institutional,22,2026-03-10,96415,0335,2,400,C50.911,,"]
    path = tmp_path / "claims.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    found = scrub([str(path)], select=["unit-miscalculation"]).findings
    words = {r["claim_id"]: r for r in found.iter_rows(named=True)}
    assert set(words) == {"R42", "R43"}
    assert words["R42"]["message"].startswith("96415 is billed x2 for 2026-03-10 and 2026-03-11 (claim R42 lines 2, 3)")
    assert words["R42"]["suggested_fix"] == "Bill 96415 x1 instead of x2 in all for 2026-03-10 and 2026-03-11 " \
                                            "(claim R42 lines 2, 3)."
    assert words["R43"]["message"].startswith("96415 is billed x2 for 2026-03-10 (claim R43 line 2)")
