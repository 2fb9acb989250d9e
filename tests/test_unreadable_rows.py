"""A row the loader cannot read (ragged CSV) hides its code: checks that report an absence stay quiet
in its encounter instead of inventing a finding (issue 12, isolation)."""

from __future__ import annotations

from scrubber.engine import scrub

HEADER = "claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,units,charge,diagnosis_1"


def test_ragged_primary_row_does_not_make_its_sibling_addon_an_orphan(write_csv) -> None:
    path = write_csv(HEADER + "\n"
                     "U1,1,MU1,MEDICARE,11,2026-03-02,96365,1,300,D80.0,X,Y\n"  # ragged: two cells too many
                     "U1,2,MU1,MEDICARE,11,2026-03-02,96366,1,120,D80.0\n"
                     "U2,1,MU2,MEDICARE,11,2026-03-02,96366,1,120,D80.0\n")
    result = scrub([str(path)], select=["addon-without-primary"])
    assert result.summary["rejected_rows"] == 1
    flagged = {(c, n) for c, n in result.findings.select("claim_id", "line_number").iter_rows()}
    assert flagged == {("U2", 1)}  # the other member's orphan still fires
    assert result.summary["by_check"]["addon-without-primary"]["lines_not_evaluated"] == 1
