"""Every check against its fixture: must-fire cases and near misses at each RULES.md boundary.

Fixtures live in ``tests/fixtures/checks/<check-id>.toml``; each case is a small batch of claim
lines (CSV as in FORMATS.md, or ``json``: a claims JSON document) and the exact findings expected,
as ``claim_id:line_number``;
optionally ``reasons`` and ``severity`` per finding and ``not_evaluated``, the lines the check could not evaluate.
A case may bring a payer policy (``policy``: the TOML of a policy file) and replacement CMS edit tables
(``reference``: file name -> text, loaded as a user loads a newer quarter, through
``SCRUBBER_REFERENCE_DIR``).
"""

from __future__ import annotations

import re
import tomllib

import pytest
from conftest import FIXTURES, finding_keys

from scrubber.engine import scrub

# "1 units", "1 hours": a count of one before a plural noun (not "0.1 units", "11 units" or "21 hours").
_ONE_PLURAL = re.compile(r"(?<![\d.,])1 (units|hours|minutes|lines|claims|days|codes)\b")


def _cases() -> list:
    params = []
    for path in sorted((FIXTURES / "checks").glob("*.toml")):
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
        for case in doc["case"]:
            # `policy_files` (top level): policies of tests/fixtures/policies/ every case of the file uses.
            case = {**case, "policy_files": case.get("policy_files", doc.get("policy_files", []))}
            params.append(pytest.param(doc["check"], case, id=f"{doc['check']}: {case['name']}"))
    return params


@pytest.mark.parametrize(("check_id", "case"), _cases())
def test_check_fixture(check_id: str, case: dict, write_csv, tmp_path, monkeypatch) -> None:
    # (``json``: a claims JSON document instead, for what a CSV row cannot say: a claim's own diagnoses)
    path = write_csv(case["csv"]) if "csv" in case else write_csv(case["json"], "claims.json")
    policies = [str(FIXTURES / "policies" / name) for name in case["policy_files"]]
    policies += [str(write_csv(case["policy"], "policy.toml"))] if "policy" in case else []
    if "reference" in case:
        (tmp_path / "reference").mkdir()
        for name, text in case["reference"].items():
            write_csv(text, f"reference/{name}")
        monkeypatch.setenv("SCRUBBER_REFERENCE_DIR", str(tmp_path / "reference"))
    result = scrub([str(path)], select=[check_id], policy_files=policies)
    assert result.summary["rejected_rows"] == 0, result.rejected.to_dicts()
    messages = result.findings.get_column("message").to_list()
    assert finding_keys(result.findings) == sorted(case["expect"]), messages
    if "not_evaluated" in case:  # lines the check lacked the data for (summary count)
        assert result.summary["by_check"][check_id]["lines_not_evaluated"] == case["not_evaluated"]
    for key, reason in case.get("reasons", {}).items():  # the named reason of a finding (its card's words)
        claim, line = key.split(":")
        f = result.findings
        mine = f.filter((f["claim_id"] == claim) & (f["line_number"] == int(line)))
        assert mine.get_column("reason").to_list() == [reason], messages
    for key, severity in case.get("severity", {}).items():
        claim, line = key.split(":")
        f = result.findings
        mine = f.filter((f["claim_id"] == claim) & (f["line_number"] == int(line)))
        assert mine.get_column("severity").to_list() == [severity]
    # Every finding is complete: a message, a fix, appeal text and a citation; and reads as English where
    # a count is one ("corrected from 3 to 1 units" went into claim notes; probe 16D).
    for row in result.findings.iter_rows(named=True):
        assert row["message"] and row["suggested_fix"] and row["appeal_text"] and row["citation"]
        for text in (row["message"], row["suggested_fix"], row["appeal_text"]):
            assert not _ONE_PLURAL.search(text), text
