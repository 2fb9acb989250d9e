"""A void claim (claim_frequency 8) is read and counted, never scrubbed.

A void cancels the claim it repeats: its lines are the original's as billed, and the payer adjudicates
none of them, so coding edits do not apply. Its findings ("report line 2 as 96367") told the biller to
recode a cancellation, and with ``--fail-on error`` blocked the void that withdraws the erroneous
original (probe I). The summary counts void claims; a replacement (7) is still scrubbed.
"""

from __future__ import annotations

from pathlib import Path

from scrubber.engine import scrub

HEADER = ("claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,units,diagnosis_1,"
          "infusion_start,infusion_stop,billing_provider,claim_frequency,payer_claim_number")


def _claim(claim: str, member: str, frequency: str) -> list[str]:
    return [f"{claim},1,{member},MEDICARE,11,2026-03-02,96365,1,E11.9,2026-03-02T09:00,2026-03-02T10:00,"
            f"1234567893,{frequency},ICN{claim}",
            f"{claim},2,{member},MEDICARE,11,2026-03-02,96365,1,E11.9,2026-03-02T11:00,2026-03-02T12:00,"
            f"1234567893,{frequency},ICN{claim}"]


def test_a_void_claim_is_counted_not_scrubbed_and_a_replacement_is_scrubbed(tmp_path: Path) -> None:
    path = tmp_path / "claims.csv"
    path.write_text("\n".join([HEADER, *_claim("VD", "M8", "8"), *_claim("RP", "M9", "7"),
                               *_claim("OR", "M7", "1")]) + "\n", encoding="utf-8")
    result = scrub([str(path)])
    assert sorted(set(result.findings.get_column("claim_id"))) == ["OR", "RP"]
    assert result.summary["void_claims"] == 1
    assert result.summary["rows_checked"] == 6 and result.summary["reconciled"]
    # Not read by the checks (no line "not evaluated") and not billed again (its charges cancel).
    void_lines = result.lines.filter(result.lines["claim_id"] == "VD").height
    assert void_lines == 2 and all(c["lines_not_evaluated"] == 0 for c in result.summary["by_check"].values())


def test_near_miss_a_batch_without_voids_says_nothing_of_them(tmp_path: Path) -> None:
    path = tmp_path / "claims.csv"
    path.write_text("\n".join([HEADER, *_claim("OR", "M7", "1")]) + "\n", encoding="utf-8")
    assert "void_claims" not in scrub([str(path)]).summary


_REBILL = ("claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,modifier_1,units,"
           "charge,diagnosis_1,ndc,drug_dose_mg,route,infusion_start,infusion_stop,billing_provider,claim_frequency,"
           "payer_claim_number")


def _visit(claim: str, frequency: str, member: str = "1EG4R58QX", provider: str = "1679576722",
           hours: str = "4") -> list[str]:
    tail = f"{provider},{frequency},{'26041000555099' if frequency == '8' else ''}"
    return [f"{claim},1,{member},MEDICARE,11,2026-02-10,96365,,1,350,D69.3,,,,2026-02-10T08:00,2026-02-10T13:00,{tail}",
            f"{claim},2,{member},MEDICARE,11,2026-02-10,96366,,{hours},440,D69.3,,,,,,{tail}",
            f"{claim},3,{member},MEDICARE,11,2026-02-10,J1459,JZ,200,19000,D69.3,44206043810,100000,IV,,,{tail}"]


def test_an_original_its_void_and_the_rebill_count_the_visit_once(tmp_path: Path) -> None:
    """R58 billed, R59 voids it (the same lines), R60 bills the visit again: R58 was counted with R60 (a
    "second initial" 96365 to recode as concurrent, J1459 x400 over its MUE of 300: $19,350 of false errors
    on a correct claim; probe 17E). The void cancels R58: neither is scrubbed, R60 is, alone. Near misses:
    without the void the two originals are one visit billed twice (findings); a void of another
    provider's claim cancels nothing here."""
    path = tmp_path / "claims.csv"
    path.write_text("\n".join([_REBILL, *_visit("R58", "1"), *_visit("R59", "8"), *_visit("R60", "1")]) + "\n",
                    encoding="utf-8")
    result = scrub([str(path)])
    assert result.findings.height == 0
    assert result.summary["void_claims"] == 1 and result.summary["voided_claims"] == 1
    assert result.summary["charges_billed"] == 19790.0  # (R60's: R58's and R59's cancel)
    path.write_text("\n".join([_REBILL, *_visit("R58", "1"), *_visit("R60", "1")]) + "\n", encoding="utf-8")
    twice = scrub([str(path)])
    assert {"duplicate-initial-infusion", "units-over-mue"} <= set(twice.findings.get_column("check_id"))
    assert "voided_claims" not in twice.summary
    other = [*_visit("R58", "1"), *_visit("R59", "8", provider="1111111111"), *_visit("R60", "1")]
    path.write_text("\n".join([_REBILL, *other]) + "\n", encoding="utf-8")
    assert scrub([str(path)]).findings.height > 0
    # A void and the rebill after it, the original sent in an earlier batch: the void cancels no claim of
    # this one (the rebill, with one more hour than documented, is scrubbed).
    path.write_text("\n".join([_REBILL, *_visit("R59", "8"), *_visit("R60", "1", hours="5")]) + "\n",
                    encoding="utf-8")
    rebill = scrub([str(path)])
    assert "voided_claims" not in rebill.summary
    assert rebill.findings.select("claim_id", "check_id").rows() == [("R60", "unit-miscalculation")]


def test_a_rebill_without_its_primary_is_reported_not_anchored_by_the_voided_original(tmp_path: Path) -> None:
    """The rebill leaves out the 96365: the voided original's 96365 anchored its 96366, and the excess hours
    were reported on the cancelled claim (probe 17E)."""
    rebill = [row for row in _visit("R50", "1", hours="2") if ",96365," not in row]
    path = tmp_path / "claims.csv"
    path.write_text("\n".join([_REBILL, *_visit("R48", "1"), *_visit("R49", "8"), *rebill]) + "\n", encoding="utf-8")
    found = scrub([str(path)]).findings.select("claim_id", "check_id").rows()
    assert found == [("R50", "addon-without-primary")]


def test_the_reports_share_of_claims_with_findings_is_of_the_claims_scrubbed(tmp_path: Path) -> None:
    """Probe 28D D6: an original, its void, the rebill and another claim: the report read "2 of 4 claims
    (50%)", the void and the claim it cancels in the count though neither is scrubbed (and neither's
    charges billed). The share is of the claims scrubbed, and the two are said. Near miss: without a
    void, all claims and no such sentence."""
    from scrubber.output.html_report import render_html

    path = tmp_path / "claims.csv"
    path.write_text("\n".join([_REBILL, *_visit("R58", "1"), *_visit("R59", "8"), *_visit("R60", "1", hours="5"),
                               *_visit("R61", "1", member="OTHER", hours="5")]) + "\n", encoding="utf-8")
    page = render_html(scrub([str(path)]))
    assert "2 of 2 claims scrubbed</strong> (100%)" in page
    assert "2 void or voided claim(s) were read and not scrubbed" in page
    path.write_text("\n".join([_REBILL, *_visit("R60", "1", hours="5"), *_visit("R61", "1", member="OTHER")]) + "\n",
                    encoding="utf-8")
    page = render_html(scrub([str(path)]))
    assert "1 of 2 claims scrubbed</strong> (50%)" in page and "void or voided" not in page
