"""An unreadable row of another claim leaves its member's encounter that day unevaluated.

A1's 96365 on a ragged CSV row (one cell too many: rejected whole) and B1's 96366 of the same member,
date and provider on a claim of its own: the 96366 was reported "without its primary", a finding made
by the row the batch could not read (probe J). A ragged row keeps the cells that place it (member and
date, beside its claim id and line number), read only for that; its one reason is the ragged row.
"""

from __future__ import annotations

from pathlib import Path

import pytest

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


_H = "claim_id,line_number,member_id,payer,claim_type,place_of_service,date_of_service,procedure_code,units,charge," \
     "diagnosis_1,billing_provider"
_DOC = "DOC-1,1,M100,MEDICARE,professional,11,2026-05-04,96366,1,110.00,D80.0,1111111112"
_HOSP = "HOSP-1,1,M100,MEDICARE,institutional,22,2026-05-04,96366,1,110.00,D80.0,"


@pytest.mark.parametrize(("good", "other", "hidden"), [
    # Another billing provider's professional claim, a hospital's claim beside a physician's, a physician's
    # beside a hospital's, another hospital claim: not the good claim's encounter (probe 17B).
    (_DOC, "DOC-2,1,M100,MEDICARE,professional,11,2026-05-04,96365,x,350.00,D80.0,1234567893", False),
    (_DOC, "HOSP-9,1,M100,MEDICARE,institutional,22,2026-05-04,96365,x,350.00,D80.0,", False),
    (_HOSP, "DOC-9,1,M100,MEDICARE,professional,11,2026-05-04,96365,x,350.00,D80.0,", False),
    (_HOSP, "HOSP-9,1,M100,MEDICARE,institutional,22,2026-05-04,96365,x,350.00,D80.0,", False),
    (_HOSP, "HOSP-9,1,M100,MEDICARE,institutional,22,2026-05-04,9636,1,350.00,D80.0,", False),
    # Near misses: the same provider, or a row whose provider cannot be read: it may be the primary.
    (_DOC, "DOC-2,1,M100,MEDICARE,professional,11,2026-05-04,96365,x,350.00,D80.0,1111111112", True),
    (_DOC, "DOC-2,1,M100,MEDICARE,professional,11,2026-05-04,96365,x,350.00,D80.0,", True),
    (_DOC, "DOC-2,1,M100,MEDICARE,professional,11,2026-05-04,9636,1,350.00,D80.0,1111111112", True),
])
def test_a_rejected_row_of_a_claim_of_its_own_reaches_only_encounters_it_may_be_in(
        tmp_path: Path, good: str, other: str, hidden: bool) -> None:
    """A rejected row whose claim has no line checked (unreadable units, or a malformed code) leaves the
    encounters of its member and date unevaluated, where the primary an add-on lacks may be: only the
    professional encounters under its billing provider (any, when it cannot be read); an institutional
    claim is an encounter of its own, and a physician's and a hospital's bill are never one."""
    path = tmp_path / "claims.csv"
    path.write_text("\n".join([_H, good, other]) + "\n", encoding="utf-8")
    result = scrub([str(path)])
    assert result.summary["rejected_rows"] == 1
    found = result.findings.select("claim_id", "check_id").rows()
    assert found == ([] if hidden else [(good.split(",")[0], "addon-without-primary")])
    assert result.summary["by_check"]["addon-without-primary"]["lines_not_evaluated"] == (1 if hidden else 0)
