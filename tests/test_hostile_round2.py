"""Hostile-input round 2 (X12 mutations and mixed folders, black box): one test per problem found.

Contracts attacked (README, FORMATS.md): every row accounted for (counted apart from the parser);
a bad part never changes the findings of good claims; bad input gives a clear message, never a
traceback. Each test holds a contract the round found broken, fixed since.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from test_bad_input import FINDING, GOOD, HEADER, run_json, scrub
from test_x12_loader import HEADER as X12_HEADER
from test_x12_loader import IVIG_CLAIM, interchange, ivig_text, load, subscriber

from scrubber.loaders.x12_loader import count_x12_rows, read_x12


def _reasons(frame: pl.DataFrame) -> list[str | None]:
    return frame.get_column("load_error").to_list()


# Contract: a quantity is read as what it is. SV103 "MJ" is minutes (837P TR3): reported for
# anesthesia; 60 minutes of 96365 read as units were 60 initial infusions (false findings).
def test_minutes_on_an_infusion_line_are_rejected_with_the_reason() -> None:
    claim = [s.replace("SV1*HC:96365*250*UN*1", "SV1*HC:96365*250*MJ*60") for s in IVIG_CLAIM]
    assert claim != IVIG_CLAIM
    frame = load(interchange([*X12_HEADER, *subscriber(2, "MBR100", "MEDICARE"), *claim]))
    reasons = _reasons(frame)
    assert reasons[1] is not None and "SV103 unit basis MJ (minutes) on 96365" in reasons[1]
    assert "quantity 60 is minutes" in reasons[1]
    assert reasons[0] is None and reasons[2] is None  # the drug and the add-on lines are untouched


def test_minutes_on_an_anesthesia_line_are_accepted() -> None:
    """Near miss: an anesthesia code (00100-01999) reports minutes as the TR3 says."""
    claim = [s.replace("SV1*HC:96365*250*UN*1", "SV1*HC:00142:QK*827*MJ*61") for s in IVIG_CLAIM]
    frame = load(interchange([*X12_HEADER, *subscriber(2, "MBR100", "MEDICARE"), *claim]))
    assert _reasons(frame) == [None, None, None]
    assert frame.get_column("units").to_list()[1] == "61"


# Contract: accounted and isolated. Segment ids are upper case in X12; a lower-case "clm" or "lx"
# was an unknown segment charged to the claim before it (a good claim lost its lines and finding)
# and the independent count missed the lower-case LX.
def test_lower_case_segment_ids_are_read_as_their_segments() -> None:
    second = [s.replace("IVIG100", "IVIG101") for s in IVIG_CLAIM]
    lowered = [s[:3].lower() + s[3:] if s.startswith(("CLM", "LX*", "SV1", "DTP")) else s for s in second]
    text = interchange([*X12_HEADER, *subscriber(2, "M1", "AETNA"), *IVIG_CLAIM,
                        "hl*3*1*22*0", *subscriber(3, "M2", "AETNA")[1:], *lowered])
    frame = load(text)
    assert _reasons(frame) == [None] * 6
    assert frame.get_column("claim_id").to_list() == ["IVIG100"] * 3 + ["IVIG101"] * 3
    assert count_x12_rows(text, "claims.837") == 6


def test_a_lower_case_interchange_header_is_read() -> None:
    # 'isa*00*...' was refused ("segment 1 is not an ISA interchange header") though every other
    # segment id is read in any case.
    text = ivig_text()
    lowered = "\n".join(s[:3].lower() + s[3:] for s in text.split("\n"))
    assert lowered.startswith("isa*")
    assert load(lowered).drop("source_location").equals(load(text).drop("source_location"))
    assert count_x12_rows(lowered, "claims.837") == 3


# Contract: a clear message, and the claims as sent. CR/LF are in no X12 character set: a file
# folded at 80 columns (mainframe and VAN exports) was refused with "its transaction sets are 8?37",
# and a line break inside the payer name sent a Medicare claim to the DEFAULT policy.
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_x12_folded_at_80_columns_reads_like_the_unfolded_file(newline: str) -> None:
    flat = ivig_text(newline="")
    folded = newline.join(flat[i:i + 80] for i in range(0, len(flat), 80))
    assert not all(line.endswith("~") for line in folded.split(newline)[:-1])  # the fold cuts segments
    expected, got = load(flat), load(folded)
    assert got.drop("source_location").equals(expected.drop("source_location"))
    assert count_x12_rows(folded, "claims.837") == 3


def test_a_line_break_inside_an_element_is_not_data() -> None:
    text = ivig_text().replace("NM1*PR*2*MEDICARE", "NM1*PR*2*MEDI\nCARE")
    assert "MEDI\nCARE" in text
    assert load(text).get_column("payer").to_list() == ["MEDICARE"] * 3


def test_newline_terminated_files_keep_their_segments() -> None:
    """Near miss: when the newline is the terminator, it still ends segments."""
    frame = load(ivig_text(terminator="\n", newline=""))
    assert frame.get_column("procedure_code").to_list() == ["J1459", "96365", "96366"]


# Contract: folders. One empty export in a folder stopped the whole run (exit 2, nothing checked).
def test_an_empty_file_in_a_folder_is_noted_and_the_others_checked(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.csv").write_text("\n".join([HEADER, *GOOD, *FINDING]) + "\n", encoding="utf-8")
    (folder / "empty.csv").write_bytes(b"")
    (folder / "blank.x12").write_bytes(b"\n\n  \n")
    (folder / "excel.csv").write_bytes(b"\xef\xbb\xbf")  # (an empty Excel export: a BOM alone; probe 21B B4)
    doc = run_json(str(folder))
    assert doc["summary"]["rows_read"] == 3
    noted = {Path(w["source"]).name: w["problem"] for w in doc["input_warnings"]}
    assert noted.get("empty.csv") == noted.get("blank.x12") == noted.get("excel.csv") == \
        "skipped: empty file (no claim rows)"


# Contract: a setting is not misread. --strict refused a valid file named twice, blaming "X12
# structural validation" for the note that it was read once; the warning suffix "--strict rejects
# the file" was printed under notes --strict does not act on.
def test_strict_accepts_a_valid_file_named_twice(tmp_path: Path) -> None:
    path = tmp_path / "claims.837"
    path.write_text(ivig_text(), encoding="utf-8")
    result = scrub(str(path), str(path), "--strict", "--fail-on", "never")
    assert result.exit_code == 0, result.output
    assert "read once" in result.output and "--strict rejects" not in result.output


# Contract: nothing accepted without a word. A reversed RD8 range (20260112-20260110) was read as
# 2026-01-12 and moved the line to another encounter; an RD8 with no end was accepted too.
# An end that is no date (a short "0305", or no such day) was read as the start day alone (probe 16B).
@pytest.mark.parametrize(("value", "words"), [("20260112-20260110", "ends before it starts"),
                                              ("20260110", "has no end date"),
                                              ("20260110-0113", "has an end that is not a date"),
                                              ("20260110-20260132", "has an end that is not a date")])
def test_an_unreadable_service_date_range_rejects_its_line(value: str, words: str) -> None:
    first = IVIG_CLAIM.index("DTP*472*D8*20260110")  # the drug line's date
    claim = [*IVIG_CLAIM[:first], f"DTP*472*RD8*{value}", *IVIG_CLAIM[first + 1:]]
    frame = load(interchange([*X12_HEADER, *subscriber(2, "MBR100", "MEDICARE"), *claim]))
    reasons = _reasons(frame)
    assert reasons[0] is not None and words in reasons[0], reasons
    assert reasons[1:] == [None, None]


def test_a_service_date_range_in_order_is_read_from_its_start() -> None:
    """Near miss: a one-day and a two-day range in order are fine."""
    for value in ("20260110-20260110", "20260110-20260111"):
        claim = [s.replace("DTP*472*D8*20260110", f"DTP*472*RD8*{value}") for s in IVIG_CLAIM]
        frame = load(interchange([*X12_HEADER, *subscriber(2, "MBR100", "MEDICARE"), *claim]))
        assert _reasons(frame) == [None, None, None]
        assert frame.get_column("date_of_service").to_list() == ["2026-01-10"] * 3


# Contract: accounted. A rejected 96365 (units "abc") still anchors its claim's 96366 (the primary
# was billed: our rejection must not invent an orphan add-on), but the add-on was silently passed;
# it is now counted as not evaluated. A good primary beside the rejected one still decides.
_ADDON_CSV = ("claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,units,charge,"
              "diagnosis_1")


@pytest.mark.parametrize(("rows", "not_evaluated"), [
    (["A1,1,M1,AETNA,11,2026-01-10,96366,1,100,D80.0", "A1,2,M1,AETNA,11,2026-01-10,96365,abc,300,D80.0"], 1),
    (["A1,1,M1,AETNA,11,2026-01-10,96366,1,100,D80.0", "A1,2,M1,AETNA,11,2026-01-10,96365,1,300,D80.0",
      "A1,2,M1,AETNA,11,2026-01-10,96365,1,300,D80.0"], 0),
], ids=["anchored-only-by-the-rejected-row", "near-miss-a-good-primary-anchors"])
def test_an_add_on_anchored_by_a_rejected_row_is_counted_not_evaluated(tmp_path: Path, rows: list[str],
                                                                        not_evaluated: int) -> None:
    path = tmp_path / "claims.csv"
    path.write_text("\n".join([_ADDON_CSV, *rows]) + "\n", encoding="utf-8")
    doc = run_json(str(path))
    assert doc["summary"]["rejected_rows"] == 1
    assert not [f for f in doc["findings"] if f["check_id"] == "addon-without-primary"]
    assert doc["summary"]["by_check"]["addon-without-primary"]["lines_not_evaluated"] == not_evaluated


# Contract: nothing skipped without a word. A repeated HL id and an 835 transaction set inside an 837
# group were passed over silently (the 835's segments hold no claim lines).
def test_a_repeated_hl_id_is_a_notice() -> None:
    second = [s.replace("IVIG100", "IVIG101") for s in IVIG_CLAIM]
    text = interchange([*X12_HEADER, *subscriber(2, "M1", "AETNA"), *IVIG_CLAIM, *subscriber(2, "M2", "AETNA"),
                        *second])
    frame, notices = read_x12(Path("claims.837"), text, 0)
    assert frame.height == 6
    assert any("HL01 2 is used twice" in n for n in notices), notices


def test_a_transaction_set_that_is_not_an_837_is_a_notice() -> None:
    text = ivig_text()
    st = text.index("ST*837")
    other = "ST*835*0002*005010X221A1~BPR*I*100*C*ACH~SE*3*0002~\n"
    text = text[:st] + other + text[st:]
    frame, notices = read_x12(Path("claims.837"), text, 0)
    assert frame.height == 3
    assert any("transaction set 835 is not an 837" in n for n in notices), notices
