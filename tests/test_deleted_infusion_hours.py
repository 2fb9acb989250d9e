"""A fix that deletes an infusion line takes the additional hours only its minutes supported.

Probe 19D: 96369 09:00-10:00, 96369-XE 14:00-15:40 and 96370 x1 on one office claim. 96369 has an
MAI 2 MUE of 1, so units-over-mue deletes the second 96369; the 96370 was billed for the 100
minutes of that second infusion and the first one's 60 minutes support none. The MUE's fix named the
96369 alone and the corrected claim drew "delete 96370" from unit-miscalculation on the next run: one
root cause, two rounds. The deletion's finding now names those hours and puts them at risk with it.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import polars as pl

from scrubber.engine import scrub

HEADER = ("claim_id,line_number,member_id,payer,claim_type,place_of_service,date_of_service,procedure_code,"
          "modifier_1,units,charge,diagnosis_1,infusion_start,infusion_stop,billing_provider")


def _row(claim: str, line: int, code: str, modifier: str = "", units: int = 1, charge: float = 300.0,
         times: str = "", payer: str = "MEDICARE") -> str:
    start, stop = (f"2026-03-10T{t}" for t in times.split("-")) if times else ("", "")
    return (f"{claim},{line},M-{claim[:2]},{payer},professional,11,2026-03-10,{code},{modifier},{units},{charge:.2f},"
            f"D80.0,{start},{stop},1234567893")


def _run(tmp_path: Path, name: str, rows: list[str], policies: list[str] | None = None) -> pl.DataFrame:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    result = scrub([str(path)], policy_files=policies or [])
    assert result.summary["rejected_rows"] == 0
    return result.findings


def _second_session(first: str, hours: int = 1, hour_claim: str = "E1") -> list[str]:
    """96369 ``first``, 96369-XE 14:00-15:40 (100 minutes: one 96370), 96370 x``hours`` on ``hour_claim``."""
    return [_row("E1", 1, "96369", times=first), _row("E1", 2, "96369", "XE", times="14:00-15:40"),
            _row(hour_claim, 3, "96370", units=hours, charge=110.0 * hours)]


def _one(findings: pl.DataFrame, check: str) -> dict:
    rows = findings.filter(pl.col("check_id") == check).to_dicts()
    assert len(rows) == 1, findings.select("claim_id", "line_number", "check_id", "reason").to_dicts()
    return rows[0]


def test_the_mue_deletion_of_a_second_96369_takes_the_96370_only_its_minutes_support(tmp_path: Path) -> None:
    findings = _run(tmp_path, "claim.csv", _second_session("09:00-10:00"))
    mue = _one(findings, "units-over-mue")
    assert (mue["line_number"], mue["reason"]) == (2, "over_mue_policy_line")
    assert "Delete 96370 x1 on claim E1 line 3 too" in mue["suggested_fix"], mue["suggested_fix"]
    assert "(96370 x1 on claim E1 line 3) are removed with it" in mue["appeal_text"]
    # Both 96369 lines (the MUE denies every unit of the code on the claim) and the 96370.
    assert mue["charge_at_risk"] == 710.0
    assert findings.height == 1  # the 96370 is supported as billed: no time finding beside it
    # The fix applied as written settles the claim.
    settled = _run(tmp_path, "corrected.csv", [_row("E1", 1, "96369", times="09:00-10:00")])
    assert settled.height == 0, settled.select("check_id", "reason").to_dicts()


def test_near_miss_hours_the_kept_infusion_supports_stay(tmp_path: Path) -> None:
    # The first 96369 ran 120 minutes: it supports the 96370 itself, which stays when line 2 goes.
    findings = _run(tmp_path, "claim.csv", _second_session("09:00-11:00"))
    mue = _one(findings, "units-over-mue")
    assert "96370" not in mue["suggested_fix"] and mue["charge_at_risk"] == 600.0
    settled = _run(tmp_path, "corrected.csv", [_row("E1", 1, "96369", times="09:00-11:00"),
                                               _row("E1", 3, "96370", charge=110.0)])
    assert settled.height == 0


def test_hours_the_time_rules_judge_now_are_judged_as_the_deletion_leaves_the_claim(tmp_path: Path) -> None:
    # 96370 x2 (one over the record as billed) or x1 where the second session's 160 minutes support two
    # (one under): the MUE's fix names no hours beside the time rules' finding, and that finding reads
    # the claim without the 96369 the MUE deletes (review 20C: "bill 96370 x2" beside "delete line 2",
    # on the minutes of the line deleted; applied, the claim drew a second round).
    over = _run(tmp_path, "over.csv", _second_session("09:00-10:00", hours=2))
    assert "96370" not in _one(over, "units-over-mue")["suggested_fix"]
    hours = _one(over, "unit-miscalculation")
    assert (hours["line_number"], hours["reason"]) == (3, "hours_none")
    assert hours["charge_at_risk"] == 220.0
    assert "not counted: 96369 x1 on claim E1 line 2, which the units-over-mue finding deletes" in hours["message"]
    rows = _second_session("09:00-10:00")
    under = _run(tmp_path, "under.csv", [rows[0], rows[1].replace("T15:40", "T16:40"), rows[2]])
    assert "96370" not in _one(under, "units-over-mue")["suggested_fix"]
    assert _one(under, "unit-miscalculation")["reason"] == "hours_none"
    # Both fixes applied as written settle the claim.
    settled = _run(tmp_path, "corrected.csv", [rows[0]])
    assert settled.height == 0, settled.select("check_id", "reason").to_dicts()


def test_near_miss_hours_the_kept_infusion_continues_are_right_once_the_line_goes(tmp_path: Path) -> None:
    # 96370 x1 10:00-11:00 continuing the first 96369 (120 minutes together: one hour) beside the second
    # session of 100 minutes: x2 as billed would be one under, x1 once line 2 goes is right: no time
    # finding beside the deletion (review 20C's owntimes2: "bill 96370 x2" applied drew "bill x1").
    rows = _second_session("09:00-10:00")
    hour = rows[2].replace(",,,1234567893", ",2026-03-10T10:00,2026-03-10T11:00,1234567893")
    findings = _run(tmp_path, "claim.csv", [rows[0], rows[1], hour])
    assert findings.get_column("check_id").to_list() == ["units-over-mue"]


def test_a_partly_supported_hour_line_is_corrected_by_the_time_rules(tmp_path: Path) -> None:
    # The first 96369 runs 120 minutes (one 96370 of its own), the second 100 (one more): 96370 x2 is
    # right now, and x1 once line 2 goes. A line losing some of its units is not named as "1 of the 2"
    # by the MUE's fix; the time rules say "x1", judged without line 2.
    findings = _run(tmp_path, "claim.csv", _second_session("09:00-11:00", hours=2))
    mue = _one(findings, "units-over-mue")
    assert "96370" not in mue["suggested_fix"] and mue["charge_at_risk"] == 600.0
    hours = _one(findings, "unit-miscalculation")
    assert (hours["reason"], hours["charge_at_risk"]) == ("hours_over", 110.0)
    assert "Bill 96370 x1 instead of x2" in hours["suggested_fix"]


def test_hours_taken_whole_are_not_also_over_their_own_mue(tmp_path: Path) -> None:
    # 96369-XE 14:00-19:40 (340 minutes: 96370 x5) deleted with its 96370 x5: no second finding telling
    # the biller to keep the five units and appeal their MUE of 3 (review 20C).
    rows = _second_session("09:00-10:00", hours=5)
    findings = _run(tmp_path, "claim.csv", [rows[0], rows[1].replace("T15:40", "T19:40"), rows[2]])
    mue = _one(findings, "units-over-mue")
    assert mue["line_number"] == 2 and "Delete 96370 x5 on claim E1 line 3 too" in mue["suggested_fix"]
    assert mue["charge_at_risk"] == 1150.0


def test_hours_billed_on_another_claim_stay_that_claims_to_correct(tmp_path: Path) -> None:
    findings = _run(tmp_path, "claim.csv", _second_session("09:00-10:00", hour_claim="E2"))
    mue = _one(findings, "units-over-mue")
    assert "96370" not in mue["suggested_fix"] and mue["charge_at_risk"] == 600.0


def test_a_policy_caps_deletion_takes_the_hours_too(tmp_path: Path) -> None:
    # A payer capping 96365 at one per encounter (a policy cap replaces the MUE): 96365-XE 14:00-15:40 is
    # deleted, and the 96366 its 100 minutes supported goes with it, its units at risk after the line's.
    policy = tmp_path / "acme.toml"
    policy.write_text(textwrap.dedent('''
        name = "ACME"
        extends = "DEFAULT"
        payers = ["ACME"]
        [caps]
        "96365" = 1
    '''), encoding="utf-8")
    rows = [_row("C1", 1, "96365", times="09:00-10:00", payer="ACME"),
            _row("C1", 2, "96365", "XE", times="14:00-15:40", payer="ACME"),
            _row("C1", 3, "96366", charge=110.0, payer="ACME")]
    cap = _one(_run(tmp_path, "claim.csv", rows, [str(policy)]), "units-over-mue")
    assert cap["reason"] == "over_policy_cap_line"
    assert "Delete 96366 x1 on claim C1 line 3 too" in cap["suggested_fix"]
    assert cap["charge_at_risk"] == 410.0


def test_near_miss_a_claim_deleting_two_infusions_of_the_chain_names_no_hours(tmp_path: Path) -> None:
    # 96369-XE 11:00-12:00 (no hour) and 96369-XE 14:00-15:40 (one) both deleted: whose minutes supported
    # the 96370 is not said in one line's fix (review 20C: line 2's said "only the deleted infusion's").
    rows = [_row("E1", 1, "96369", times="09:00-10:00"), _row("E1", 2, "96369", "XE", times="11:00-12:00"),
            _row("E1", 3, "96369", "XE", times="14:00-15:40"), _row("E1", 4, "96370", charge=110.0)]
    findings = _run(tmp_path, "claim.csv", rows).filter(pl.col("check_id") == "units-over-mue")
    assert sorted(findings.get_column("line_number").to_list()) == [2, 3]
    assert not findings.get_column("suggested_fix").str.contains("96370").any()



def test_an_hour_line_the_corrected_encounter_judges_is_not_also_counted_not_evaluated(tmp_path: Path) -> None:
    # Review 21C D4: an untimed second 96369 the MUE deletes left the 96370 "delete" (judged without it)
    # and counted "not evaluated" (the billed encounter's untimed infusion) in one run. Near miss: an
    # untimed 96369 that stays leaves the 96370 not evaluated, as before.
    path = tmp_path / "claim.csv"
    rows = [_row("E1", 1, "96369", times="09:00-10:00"), _row("E1", 2, "96369", "XE"),
            _row("E1", 3, "96370", charge=110.0)]
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    result = scrub([str(path)])
    assert ("unit-miscalculation", "hours_none") in set(result.findings.select("check_id", "reason").iter_rows())
    assert result.summary["by_check"]["unit-miscalculation"]["lines_not_evaluated"] == 0
    path.write_text("\n".join([HEADER, _row("E2", 1, "96369"), _row("E2", 3, "96370", charge=110.0)]) + "\n",
                    encoding="utf-8")
    result = scrub([str(path)])
    assert result.summary["by_check"]["unit-miscalculation"]["lines_not_evaluated"] == 1
