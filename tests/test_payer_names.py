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
# (an hour of infusion: 105 minutes with no 96366 billed is unit-miscalculation's hours_not_billed, not
# these tests' subject)
LINE = ("{claim},{line},M1,{payer},professional,11,2026-03-02,96365,,,,1,350.00,D80.0,,,,,IV,2026-03-02T09:00,"
        "2026-03-02T10:00,,,1234567893,,,")
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


COB_HEADER = ("claim_id,line_number,member_id,payer,claim_type,place_of_service,date_of_service,procedure_code,units,"
              "charge,diagnosis_1,infusion_start,infusion_stop,billing_provider,payer_sequence")


@pytest.mark.parametrize(("first", "second", "copies"), [
    (("BCBS", "P"), ("MEDICARE", ""), 1),   # the primary marked, the next payer's claim not (probe 18E)
    (("MEDICARE", ""), ("BCBS", "P"), 1),   # the unmarked one first: still the next payer's
    (("BCBS", "P"), ("MEDICARE", "S"), 1),  # both marked: their layers are their own
    (("BCBS", ""), ("MEDICARE", ""), 1),    # neither marked: the second payer's
])
def test_a_claim_that_does_not_say_its_sequence_is_a_copy_of_one_that_does(tmp_path: Path, first, second,
                                                                           copies: int) -> None:
    """The same lines to two payers, one claim marked P (or S) and the other blank, were one visit: a
    duplicate initial 96365 on the second and twice the MUE. A blank claim takes the first layer the
    marked ones leave free. Near miss: the same lines to the same payer are a duplicate (a finding)."""
    def claim(cid: str, payer: str, sequence: str) -> list[str]:
        return [f"{cid},1,MC,{payer},professional,11,2026-03-02,96365,1,150,D83.9,2026-03-02T09:00,2026-03-02T13:00,"
                f"1111111111,{sequence}",
                f"{cid},2,MC,{payer},professional,11,2026-03-02,96366,3,450,D83.9,,,1111111111,{sequence}"]

    path = tmp_path / "claims.csv"
    path.write_text("\n".join([COB_HEADER, *claim("K1", *first), *claim("K2", *second)]) + "\n", encoding="utf-8")
    result = scrub([str(path)])
    assert result.findings.height == 0, result.findings.select("claim_id", "check_id", "reason").rows()
    assert result.summary["next_payer_copies"] == copies
    path.write_text("\n".join([COB_HEADER, *claim("K1", "BCBS", "P"), *claim("K2", "BCBS", "")]) + "\n",
                    encoding="utf-8")
    assert ("K2", "duplicate-initial-infusion") in scrub([str(path)]).findings.select("claim_id", "check_id").rows()


def test_a_payer_name_that_only_looks_like_a_policys_is_named_in_a_warning(tmp_path: Path) -> None:
    """Probe 27C D5: MEDICARE written with a zero-width space or a Cyrillic E matches no policy and was
    scrubbed under DEFAULT without a word (six Medicare findings of the sample gone). Each such name is
    an input warning naming the policy it got. Near misses: MEDICARE itself, and an accented name of one
    script (SANTÉ), warn nothing."""
    rows = [LINE.format(claim=f"C{i}", line=1, payer=payer) for i, payer in enumerate(
        ["MEDICARE", "MEDI\u200bCARE", "M\u0415DICARE", "SANT\u00c9"])]
    path = tmp_path / "payers.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    warnings = [w["problem"] for w in scrub([str(path)]).input_warnings]
    odd = [w for w in warnings if w.startswith("payer ")]
    assert len(odd) == 2, warnings
    assert "U+200B ZERO WIDTH SPACE" in odd[0] or "U+200B ZERO WIDTH SPACE" in odd[1]
    assert any("U+0415 CYRILLIC CAPITAL LETTER IE among LATIN letters" in w for w in odd)
    assert all("scrubbed under the DEFAULT policy" in w for w in odd)


def test_a_direction_mark_in_a_payer_name_is_quoted_as_the_mark_it_is_named(tmp_path: Path) -> None:
    """Probe 28A D8: "payer 'MEDICARE\ufffd' ... holds U+200F RIGHT-TO-LEFT MARK": the mark was made
    U+FFFD before it could be shown, so the quote disagreed with the warning's own words. Near miss: the
    zero-width space (invisible but printable) was always shown."""
    rows = [LINE.format(claim=f"C{i}", line=1, payer=payer) for i, payer in enumerate(
        ["MEDICARE\u200f", "MEDI\u200bCARE"])]
    path = tmp_path / "payers.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    odd = sorted(w["problem"] for w in scrub([str(path)]).input_warnings if w["problem"].startswith("payer "))
    assert len(odd) == 2, odd
    assert odd[0].startswith("payer 'MEDICARE[U+200F]'") and "U+200F RIGHT-TO-LEFT MARK" in odd[0], odd[0]
    assert odd[1].startswith("payer 'MEDI[U+200B]CARE'"), odd[1]
    assert not any("\ufffd" in w for w in odd)


def test_a_control_character_inside_a_payer_name_is_named(tmp_path: Path) -> None:
    """Probe 28C D8: MEDICARE split by a unit separator or NEL (read as a space by the policy match) took
    DEFAULT without a word. Such a name is warned with the character shown, as a format character is.
    Near miss: MEDICARE with a plain space inside is a payer name of its own, not warned."""
    rows = [LINE.format(claim=f"C{i}", line=1, payer=payer) for i, payer in enumerate(
        ["MEDI\x1fCARE", "MEDI\x85CARE", "MEDI CARE"])]
    path = tmp_path / "payers.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    odd = sorted(w["problem"] for w in scrub([str(path)]).input_warnings if w["problem"].startswith("payer "))
    assert len(odd) == 2, odd
    assert odd[0].startswith("payer 'MEDI[U+001F]CARE'") and "holds U+001F CONTROL CHARACTER" in odd[0], odd[0]
    assert odd[1].startswith("payer 'MEDI[U+0085]CARE'") and "scrubbed under the DEFAULT policy" in odd[1], odd[1]
