"""unit-miscalculation ``hours_not_billed`` beside a row that could not be read: a rejected infusion row
of the chain (its units unreadable) may hold minutes that support more hours, so the hours the
readable infusions support are not asked for (review 25G D4: "add 96366 x2" where the corrected claim
supports x4); the same encounter with the 96366 billed is "not evaluated" for the same reason."""

from __future__ import annotations

from pathlib import Path

from scrubber.engine import scrub

HEADER = ("claim_id,line_number,member_id,payer,claim_type,place_of_service,date_of_service,procedure_code,units,"
          "charge,diagnosis_1,billing_provider,infusion_start,infusion_stop")


def _reasons(tmp_path: Path, second_units: str) -> set[tuple[str, int, str]]:
    rows = [HEADER,
            "J2,1,MJ2,AETNA,professional,11,2026-03-10,96365,1,350,A41.9,1234567893,2026-03-10T09:00,2026-03-10T12:00",
            f"J2,2,MJ2,AETNA,professional,11,2026-03-10,96367,{second_units},300,A41.9,1234567893,"
            "2026-03-10T12:00,2026-03-10T15:00"]
    path = tmp_path / f"j2_{second_units}.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = scrub([str(path)])
    return {(f["check_id"], f["line_number"], f["reason"]) for f in result.findings.to_dicts()}


def test_a_rejected_infusion_row_of_the_chain_leaves_the_hours_unasked(tmp_path: Path) -> None:
    assert not {r for r in _reasons(tmp_path, "xx") if r[2] == "hours_not_billed"}


def test_near_miss_the_same_row_read_asks_for_the_hours_both_infusions_support(tmp_path: Path) -> None:
    assert ("unit-miscalculation", 1, "hours_not_billed") in _reasons(tmp_path, "1")


def _not_evaluated(tmp_path: Path, first_times: str) -> tuple[int, set[str]]:
    rows = [HEADER,
            f"J3,1,MJ3,AETNA,professional,11,2026-03-10,96365,1,350,A41.9,1234567893,{first_times}",
            "J3,2,MJ3,AETNA,professional,11,2026-03-10,96367,1,300,A41.9,1234567893,2026-03-10T10:00,2026-03-10T13:00"]
    path = tmp_path / "j3.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = scrub([str(path)])
    return (result.summary["by_check"]["unit-miscalculation"]["lines_not_evaluated"],
            {f["reason"] for f in result.findings.to_dicts()})


def test_an_ask_held_back_for_an_untimed_infusion_is_counted_not_evaluated(tmp_path: Path) -> None:
    # Review 26A D7: the 96367's 180 minutes support 96366 x2, but the 96365 has no times: the ask is held
    # back, and the summary said nothing was left unevaluated.
    count, reasons = _not_evaluated(tmp_path, ",")
    assert count == 1 and "hours_not_billed" not in reasons


def test_near_miss_both_infusions_timed_ask_and_leave_nothing_unevaluated(tmp_path: Path) -> None:
    count, reasons = _not_evaluated(tmp_path, "2026-03-10T09:00,2026-03-10T10:00")
    assert count == 0 and "hours_not_billed" in reasons
