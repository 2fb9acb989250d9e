"""An unreadable row of another claim leaves its member's encounter that day unevaluated.

A1's 96365 on a ragged CSV row (one cell too many: rejected whole) and B1's 96366 of the same member,
date and provider on a claim of its own: the 96366 was reported "without its primary", a finding made
by the row the batch could not read (probe J). A ragged row keeps the cells that place it (member and
date, beside its claim id and line number), read only for that; its one reason is the ragged row.
"""

from __future__ import annotations

from pathlib import Path

from scrubber.engine import scrub

ROOT = Path(__file__).resolve().parents[1]
HEADER = (ROOT / "sample_claims" / "claims.csv").read_text(encoding="utf-8").splitlines()[0]
A1 = ("A1,1,{member},AETNA,professional,11,2026-03-02,96365,,,,1,350.00,D80.0,,,,,IV,2026-03-02T09:00,"
      "2026-03-02T10:45,,,1234567893,,,,EXTRA")
B1 = "B1,1,M1,AETNA,professional,11,2026-03-02,96366,,,,1,150.00,D80.0,,,,,IV,,,,,1234567893,,,"


def _run(tmp_path: Path, member: str):
    path = tmp_path / "claims.csv"
    path.write_text("\n".join([HEADER, A1.format(member=member), B1]) + "\n", encoding="utf-8")
    return scrub([str(path)])


def test_a_ragged_row_of_the_members_other_claim_leaves_the_add_on_unevaluated(tmp_path: Path) -> None:
    result = _run(tmp_path, "M1")
    assert result.findings.height == 0
    assert result.summary["by_check"]["addon-without-primary"]["lines_not_evaluated"] == 1
    assert result.rejected.get_column("reason").to_list() == ["row has 28 cells but the header names 27 columns"]


def test_near_miss_a_ragged_row_of_another_member_changes_nothing(tmp_path: Path) -> None:
    result = _run(tmp_path, "M2")
    assert result.findings.select("claim_id", "check_id").rows() == [("B1", "addon-without-primary")]
