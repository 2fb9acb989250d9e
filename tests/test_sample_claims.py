"""The bundled sample batch: every check fires somewhere, clean claims stay clean, JSON = CSV."""

from __future__ import annotations

from conftest import ROOT

from checks import all_checks
from scrubber.engine import scrub

SAMPLE = ROOT / "sample_claims"


def test_sample_csv_fires_every_check_and_only_on_flagged_claims() -> None:
    result = scrub([str(SAMPLE / "claims.csv")])
    assert result.summary["claims"] >= 40
    assert result.summary["rejected_rows"] == 0 and result.summary["reconciled"]
    fired = set(result.findings.get_column("check_id"))
    assert fired == {c.id for c in all_checks()}
    flagged = set(result.findings.get_column("claim_id"))
    # PCN-1xxx are clean claims and near misses; PCN-2xxx carry one coding error each.
    assert not {c for c in flagged if c.startswith("PCN-1")}
    every_bad = set(result.lines.filter(result.lines["claim_id"].str.starts_with("PCN-2")).get_column("claim_id"))
    assert every_bad == {c for c in flagged if c.startswith("PCN-2")}


def test_sample_json_gives_the_same_findings_as_csv() -> None:
    cols = ["claim_id", "line_number", "check_id", "severity", "message", "suggested_fix", "appeal_text"]
    from_csv = scrub([str(SAMPLE / "claims.csv")]).findings.select(cols)
    from_json = scrub([str(SAMPLE / "claims.json")]).findings.select(cols)
    assert from_csv.height > 0
    assert from_csv.equals(from_json)


def test_sample_837_with_records_gives_the_csv_findings() -> None:
    """The X12 sample holds the professional claims; records carry what an 837 cannot."""
    cols = ["claim_id", "line_number", "check_id", "severity", "message"]
    x12 = scrub([str(SAMPLE / "claims.837")], records=str(SAMPLE / "records.csv"))
    assert x12.summary["rejected_rows"] == 0 and x12.unmatched_records.height == 0
    claims = x12.lines.get_column("claim_id").unique().to_list()
    from_csv = scrub([str(SAMPLE / "claims.csv")]).findings
    expected = from_csv.filter(from_csv["claim_id"].is_in(claims)).select(cols)
    assert expected.height > 0
    assert x12.findings.select(cols).equals(expected)
