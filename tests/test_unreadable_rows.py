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


def test_a_primary_rejected_for_a_malformed_code_leaves_its_addon_unevaluated(write_csv) -> None:
    """A hostile probe: 96365 typed "9636", "96365X" or with Arabic-Indic digits is rejected, and the
    good 96366 beside it got "billed without any of its primary services" (a blank code already left it
    not evaluated). A code that is not a 5-character code is unknown as a blank one is; a well-formed
    code on a rejected row (here with an unreadable charge) still counts as billed."""
    bad = ["9636", "96365X", "\u0669\u0666\u0663\u0666\u0665", "96\u200d365"]
    rows = [f"B{i},1,MB{i},MEDICARE,11,2026-03-02,{code},1,300,D80.0\n"
            f"B{i},2,MB{i},MEDICARE,11,2026-03-02,96366,1,120,D80.0\n" for i, code in enumerate(bad)]
    near = ("K1,1,MK1,MEDICARE,11,2026-03-02,96365,1,abc,D80.0\n"
            "K1,2,MK1,MEDICARE,11,2026-03-02,96366,1,120,D80.0\n"
            "U2,1,MU2,MEDICARE,11,2026-03-02,96366,1,120,D80.0\n")
    result = scrub([str(write_csv(HEADER + "\n" + "".join(rows) + near))], select=["addon-without-primary"])
    assert result.summary["rejected_rows"] == len(bad) + 1
    flagged = {(c, n) for c, n in result.findings.select("claim_id", "line_number").iter_rows()}
    assert flagged == {("U2", 1)}  # the other member's orphan still fires; K1's readable 96365 anchors it
    # (the four beside a malformed code, and K1's, whose primary is known only from a rejected row)
    assert result.summary["by_check"]["addon-without-primary"]["lines_not_evaluated"] == len(bad) + 1


def test_a_bad_row_does_not_turn_unsupported_hours_into_an_mue_finding(write_csv) -> None:
    """The isolation property found it: 96366 x100 beside a 60-minute 96365 is unit-miscalculation's
    (hours the time does not support), so units-over-mue leaves those units out. A ragged row in the
    encounter makes the time rule not evaluated (the row may be an infusion), and the MUE then counted
    all 100 units: a finding on a good row that only the bad row made. The units the readable lines
    do not support stay the time rule's either way."""
    timed = ("claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,units,charge,"
             "diagnosis_1,infusion_start,infusion_stop\n"
             "T1,1,MT1,MEDICARE,11,2026-03-02,96365,1,300,D80.0,2026-03-02T09:00,2026-03-02T10:00\n"
             "T1,2,MT1,MEDICARE,11,2026-03-02,96366,100,120,D80.0,,\n")
    checks = ["units-over-mue", "unit-miscalculation"]
    clean = scrub([str(write_csv(timed, name="clean.csv"))], select=checks).findings
    assert clean.select("check_id", "reason").rows() == [("unit-miscalculation", "hours_none")]
    bad = scrub([str(write_csv(timed + "T1,3,MT1,MEDICARE,11,2026-03-02,96375,1,35,D80.0,,,X,Y\n", name="bad.csv"))],
                select=checks)
    assert bad.summary["rejected_rows"] == 1 and bad.findings.height == 0
