"""One definition of the same payer for policies, claim-level agreement and next-payer copies.

``BLUE  CROSS`` (two spaces), ``SANTÉ`` with a combining accent and full-width ``BLUE`` (U+FF22...) select the
policy of ``BLUE CROSS``; copy detection compared the text as written, so an exact duplicate claim
whose payer had a second space became a "next-payer copy" and its duplicate initial service passed
(exit 0), and one claim's lines so written were rejected as disagreeing on payer (probe J).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scrubber.engine import scrub
from scrubber.payer_names import payer_key

ROOT = Path(__file__).resolve().parents[1]
HEADER = (ROOT / "sample_claims" / "claims.csv").read_text(encoding="utf-8").splitlines()[0]
LINE = ("{claim},{line},M1,{payer},professional,11,2026-03-02,96365,,,,1,350.00,D80.0,,,,,IV,2026-03-02T09:00,"
        "2026-03-02T10:45,,,1234567893,,,")
SPELLINGS = ["BLUE  CROSS", " Blue Cross ", "\uff22\uff2c\uff35\uff25 CROSS", "BLUE\u00a0CROSS"]


def _run(tmp_path: Path, rows: list[str]):
    path = tmp_path / "claims.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return scrub([str(path)])


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_a_duplicate_claim_with_the_payer_spelled_otherwise_is_no_next_payer_copy(tmp_path: Path,
                                                                                   spelling: str) -> None:
    result = _run(tmp_path, [LINE.format(claim="A1", line=1, payer="BLUE CROSS"),
                             LINE.format(claim="B1", line=1, payer=spelling)])
    assert result.summary["next_payer_copies"] == 0
    assert result.findings.select("claim_id", "check_id").rows() == [("B1", "duplicate-initial-infusion")]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_one_claims_lines_with_the_payer_spelled_otherwise_agree(tmp_path: Path, spelling: str) -> None:
    result = _run(tmp_path, [LINE.format(claim="A1", line=1, payer="BLUE CROSS"),
                             LINE.format(claim="A1", line=2, payer=spelling)])
    assert result.summary["rejected_rows"] == 0


def test_near_miss_the_same_claim_sent_to_another_payer_is_a_copy(tmp_path: Path) -> None:
    result = _run(tmp_path, [LINE.format(claim="A1", line=1, payer="BLUE CROSS"),
                             LINE.format(claim="B1", line=1, payer="AETNA")])
    assert result.summary["next_payer_copies"] == 1
    assert result.findings.height == 0


def test_payer_key_composes_accents_and_folds_width() -> None:
    assert payer_key("SANTE\u0301") == payer_key("SANT\u00c9") == "SANT\u00c9"
    assert payer_key("\uff21\uff25\uff34\uff2e\uff21") == "AETNA"
