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
