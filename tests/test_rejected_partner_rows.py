"""A rejected row whose code could be read, beside a good line a check judges together with it.

Probe 20B D2: a 96365 rejected for its units ("abc") beside a good second 96365 took the good line's
"second initial service" away with no count, and so for a 99213 whose 96365 was rejected (NCCI), a
96361 inside a rejected 96365 (concurrent hydration) and a second 96365 with XS (the MUE). A rejected
code is no evidence for a finding (the design since probe 18B), but the good line was not judged
either: it is counted "not evaluated" by the check that would have judged the pair. A rejected row of
a code the check does not pair with the good line leaves the count at 0 (near misses).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scrubber.engine import scrub

HEADER = ("claim_id,line_number,member_id,payer,claim_type,place_of_service,date_of_service,procedure_code,"
          "modifier_1,units,charge,diagnosis_1,infusion_start,infusion_stop,revenue_code,billing_provider")


def _row(line: int, code: str, units: str = "1", modifier: str = "", times: str = "", kind: str = "professional",
         date: str = "2026-05-06", claim: str = "P1") -> str:
    start, stop = (f"{date}T{t}" for t in times.split("-")) if times else ("", "")
    revenue = "0260" if kind == "institutional" else ""
    pos = "22" if kind == "institutional" else "11"
    return (f"{claim},{line},M1,MEDICARE,{kind},{pos},{date},{code},{modifier},{units},300.00,D80.0,{start},{stop},"
            f"{revenue},1234567893")


def _run(tmp_path: Path, rows: list[str]) -> tuple[set, dict[str, int], int]:
    path = tmp_path / "claims.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    result = scrub([str(path)])
    found = set(result.findings.select("line_number", "check_id", "reason").iter_rows())
    counts = {k: v["lines_not_evaluated"] for k, v in result.summary["by_check"].items()}
    return found, counts, result.summary["rejected_rows"]


CASES = {
    # check: (the rows with the partner good, the partner row's line number, the good line's finding)
    "duplicate-initial-infusion": ([_row(1, "96365", times="09:00-10:00"), _row(2, "96365", times="10:00-11:00")],
                                   1, (2, "duplicate-initial-infusion", "second_initial")),
    "ncci-ptp-conflict": ([_row(1, "99213"), _row(2, "96365", times="09:00-10:00")],
                          2, (1, "ncci-ptp-conflict", "em_without_25")),
    "concurrent-hydration": ([_row(1, "96365", times="09:00-10:00"), _row(2, "96361", times="09:00-10:20")],
                             1, (2, "concurrent-hydration", "not_reportable")),
    "units-over-mue": ([_row(1, "96365", times="09:00-10:00"), _row(2, "96365", modifier="XS", times="09:05-10:05")],
                       1, (2, "units-over-mue", "second_site_over_mue")),
}


@pytest.mark.parametrize("check", CASES)
def test_a_good_line_beside_a_rejected_partner_is_counted_not_evaluated(tmp_path: Path, check: str) -> None:
    rows, partner, finding = CASES[check]
    found, counts, rejected = _run(tmp_path, rows)
    assert finding in found and rejected == 0  # (the pair, both rows good: the finding)
    bad = list(rows)
    bad[partner - 1] = bad[partner - 1].replace(",1,300.00,", ",abc,300.00,")
    found, counts, rejected = _run(tmp_path, bad)
    assert rejected == 1 and finding not in found
    assert counts[check] == 1, counts


def test_the_hospital_claims_rejected_row_of_another_date_is_beside_its_lines(tmp_path: Path) -> None:
    # One encounter across midnight: the rejected 96365 of 22:30 and the good one of 08:00 next day.
    rows = [_row(1, "96365", "abc", times="22:30-23:30", kind="institutional", date="2026-03-12"),
            _row(2, "96365", times="08:00-09:00", kind="institutional", date="2026-03-13")]
    _, counts, rejected = _run(tmp_path, rows)
    assert rejected == 1 and counts["duplicate-initial-infusion"] == 1
    # Near miss: a recurring hospital claim's visit two weeks later is an encounter of its own (review 21C).
    rows[1] = _row(2, "96365", times="08:00-09:00", kind="institutional", date="2026-03-26")
    _, counts, rejected = _run(tmp_path, rows)
    assert rejected == 1 and counts["duplicate-initial-infusion"] == 0


@pytest.mark.parametrize(("check", "partner"), [
    ("duplicate-initial-infusion", _row(1, "96366", "abc")),  # an add-on: no second initial service
    ("ncci-ptp-conflict", _row(2, "96366", "abc")),  # 99213 pairs with no 96366 here
    ("concurrent-hydration", _row(1, "96360", "abc", times="08:00-09:00")),  # hydration beside hydration
    ("units-over-mue", _row(1, "96374", "abc")),  # another code: 96365's units are all read
])
def test_near_miss_a_rejected_row_the_check_does_not_pair_with_the_line(tmp_path: Path, check: str,
                                                                       partner: str) -> None:
    rows, line, _ = CASES[check]
    rows = list(rows)
    rows[line - 1] = partner
    _, counts, rejected = _run(tmp_path, rows)
    assert rejected == 1 and counts[check] == 0, counts
