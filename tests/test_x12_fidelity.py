"""X12: what a file says is read as it says it, or its line is rejected saying why; never read as something else.

Found by a reading-fidelity probe (an independent segment reader compared field by field with the loader):

* qualifiers written in lower case (``NM1*il``, ``HI*abk``, ``LIN**n4``, ``CTP...*me``, ``REF*f8``,
  ``DTP*472*rd8``, GS08 ``005010x222a1``) were dropped, although segment ids and codes are read in any case;
* an SV103 / SV204 unit basis the guide does not allow (``ML``: the NDC quantity) was read as HCPCS units;
* a CLM01 repeated in one file merged the later claim into the earlier one (its LX 1 and 2 "duplicates",
  its LX 3 checked as the earlier claim's line 3);
* an 837I outpatient line without DTP*472 on a multi-day statement period took the period's first day,
  so a second 96365 of another day was a "second initial" on day 1 (an inpatient claim's lines carry no
  dates by the guide and keep the period's start; an 837P DTP*472 RD8 range is read from its start, as
  real files bill ranges: tests/test_hostile_round2.py).

Each test has its near miss that reads as before, checks that the rows read reconcile with the
independent count, and that the other claims of the file keep their findings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
from test_x12_loader import HEADER, IVIG_CLAIM, interchange, load, subscriber
from test_x12_stray_segments import HOME_CLAIM as STRAY_HOME_CLAIM

from scrubber.engine import scrub
from scrubber.loaders.x12_loader import count_x12_rows

INSTITUTIONAL_GUIDE = "005010X223A2"
# Columns that hold where a row is in the file: adding segments moves them, nothing else may change.
_POSITIONAL = ("row_id", "source_row", "source_location")
_FINDING = ("claim_id", "line_number", "check_id", "severity", "member_id", "payer", "billing_provider",
            "procedure_code", "message")
# A bystander in every file: home IVIG for a Medicare member with a diagnosis off the LCD list, so it has
# a finding (noncovered-diagnosis) of its own that must not change.
HOME_CLAIM = [*subscriber(9, "MBR900", "MEDICARE"), *STRAY_HOME_CLAIM]
# An 837I bystander: an outpatient IVIG visit whose lines carry their dates.
OUTPATIENT_CLAIM = [
    *subscriber(9, "MBR901", "MEDICARE"),
    "CLM*OPBY1*5500***13:A:1**A*Y*Y",
    "DTP*434*RD8*20260601-20260601",
    "HI*ABK:D801",
    "LX*1",
    "SV2*0636*HC:J1459:JZ*5250*UN*350",
    "DTP*472*D8*20260601",
    "LIN**N4*44206043610",
    "CTP****35*GR",
    "LX*2",
    "SV2*0260*HC:96365*250*UN*1",
    "DTP*472*D8*20260601",
]


def _professional(*claims: list[str], **kwargs: str) -> str:
    return interchange([*HEADER, *[s for c in claims for s in c]], **kwargs)


def _institutional(*claims: list[str]) -> str:
    return interchange([*HEADER, *[s for c in claims for s in c]], version=INSTITUTIONAL_GUIDE)


def _read(text: str) -> pl.DataFrame:
    """The raw frame, after checking that its rows reconcile with the independent count."""
    frame = load(text)
    assert frame.height == count_x12_rows(text, "x")
    return frame


def _run(tmp_path: Path, name: str, text: str) -> Any:
    """The engine's result for ``text`` written as a file, after checking its rows reconcile."""
    path = tmp_path / f"{name}.837"
    path.write_text(text, encoding="utf-8")
    result = scrub([str(path)])
    # Rows read = checked + rejected, and every file gave the rows its independent count says.
    assert result.summary["reconciled"] and result.summary["rows_counted"] == result.summary["rows_read"]
    return result


def _scrub(tmp_path: Path, name: str, text: str) -> tuple[list[tuple], pl.DataFrame]:
    result = _run(tmp_path, name, text)
    return sorted(result.findings.select(_FINDING).iter_rows()), result.rejected


def _findings_of(findings: list[tuple], *claim_ids: str) -> list[tuple]:
    return [f for f in findings if f[0] in claim_ids]


def _row(frame: pl.DataFrame, claim_id: str, line: str) -> dict:
    (row,) = frame.filter((pl.col("claim_id") == claim_id) & (pl.col("line_number") == line)).to_dicts()
    return row


def _position(text: str, segment: str, occurrence: int = 0) -> int:
    """The segment position (1-based, as the reader counts) of the ``occurrence``-th segment equal to ``segment``."""
    segments = [s.strip() for s in text.split("~") if s.strip()]
    return [i for i, s in enumerate(segments) if s == segment][occurrence] + 1


# --- 1. qualifiers in any case --------------------------------------------------------------------------
# Every qualifier and code-list value the reader compares, in upper case; the lower-case file writes the
# same qualifiers in lower case and nothing else (names, ids and codes keep their spelling).
_UPPER_837P = [
    *HEADER,
    "HL*2*1*22*0",
    "SBR*P*18*******CI",
    "NM1*IL*1*Doe*Jane****MI*Mbr-7a",
    "NM1*PR*2*Aetna Better Health*****PI*PAYER01",
    "CLM*Ivig-7a*6100***11:B:7*Y*A*Y*Y",
    "REF*F8*Orig-123",
    *IVIG_CLAIM[1:9],  # HI, the J1459 line with LIN/CTP, the 96365 line
    "DTP*472*RD8*20260110-20260110",
    "LX*3",
    "SV1*HC:J1559:JZ*900*UN*80***2",
    "DTP*472*D8*20260110",
    "LIN**N4*44206045101",
    "CTP****8*GR",
]
_LOWER = {
    "SBR*P*": "SBR*p*",
    "NM1*IL*": "NM1*il*",
    "NM1*PR*": "NM1*pr*",
    "*MI*Mbr": "*mi*Mbr",  # (NM108 is not read; lowering it too is what a lower-case file does)
    "REF*F8*": "REF*f8*",
    "HI*ABK:D801*ABF:G6181": "HI*abk:D801*abf:G6181",
    "*UN*": "*un*",
    "LIN**N4*": "LIN**n4*",
    "*35000*ME": "*35000*me",
    "*8*GR": "*8*gr",
    "*RD8*": "*rd8*",
    "*D8*": "*d8*",
}


def _lowered(segments: list[str]) -> list[str]:
    out = []
    for segment in segments:
        for upper, lower in _LOWER.items():
            segment = segment.replace(upper, lower)
        out.append(segment)
    return out


def test_upper_case_qualifiers_are_read_as_before() -> None:
    """Near miss: the upper-case file reads every value the qualifiers select, with no reason."""
    frame = _read(interchange(_UPPER_837P))
    assert frame.select("claim_id", "member_id", "payer", "payer_claim_number", "payer_sequence").unique().rows() == [
        ("Ivig-7a", "Mbr-7a", "Aetna Better Health", "Orig-123", "P")]
    assert frame.get_column("diagnoses").to_list() == [["D801", "G6181"], ["D801"], ["G6181"]]
    assert frame.get_column("ndc").to_list() == ["44206043610", None, "44206045101"]
    assert frame.get_column("drug_dose_mg").to_list() == ["35000", None, "8000"]
    assert frame.get_column("date_of_service").to_list() == ["2026-01-10"] * 3
    assert frame.get_column("units").to_list() == ["350", "1", "80"]
    assert frame.get_column("claim_type").to_list() == ["professional"] * 3
    assert frame.get_column("load_error").to_list() == [None] * 3
    assert frame.get_column("value_error").to_list() == [None] * 3


def test_lower_case_qualifiers_read_as_upper_case(tmp_path: Path) -> None:
    """837P: the member id, payer, REF*F8 payer claim number, HI diagnoses, RD8 date, LIN NDC and CTP dose
    selected by lower-case qualifiers (and a lower-case guide version) read as in the upper-case file, and
    the findings are the same; names and ids keep their case."""
    upper_text = interchange(_UPPER_837P)
    lower_body = _lowered(_UPPER_837P)
    assert sum(a != b for a, b in zip(lower_body, _UPPER_837P, strict=True)) >= 12
    lower_text = interchange(lower_body, version="005010x222a1")
    _read_as_upper_case(tmp_path, lower_text, upper_text, "p")


def _read_as_upper_case(tmp_path: Path, lower_text: str, upper_text: str, name: str) -> pl.DataFrame:
    """The lower-case file's rows and findings are the upper-case file's; returns the upper-case rows."""
    lower, upper = _read(lower_text), _read(upper_text)
    assert lower.to_dicts() == upper.to_dicts()
    findings, rejected = _scrub(tmp_path, f"lower_{name}", lower_text)
    upper_findings, upper_rejected = _scrub(tmp_path, f"upper_{name}", upper_text)
    assert rejected.height == upper_rejected.height == 0
    assert findings == upper_findings
    return upper


def test_lower_case_837i_diagnoses_statement_period_and_version(tmp_path: Path) -> None:
    """837I: ``HI*abk`` / ``abf``, a lower-case ``rd8`` statement period dating an undated line, ``da`` days
    and a lower-case X223 guide: read as the upper-case file."""
    claim = [
        *subscriber(2, "MBR300", "BLUE CROSS"),
        "CLM*INPT9*9000***11:A:1**A*Y*Y",
        "DTP*434*RD8*20260301-20260301",
        "HI*ABK:D801*ABF:G6181",
        "LX*1",
        "SV2*0120**3000*DA*1",
        "LX*2",
        "SV2*0260*HC:96365*250*UN*1",
        "DTP*472*D8*20260301",
    ]
    lowered = [s.replace("ABK", "abk").replace("ABF", "abf").replace("*RD8*", "*rd8*").replace("*DA*", "*da*")
               .replace("*UN*", "*un*").replace("*D8*", "*d8*") for s in claim]
    upper_text = _institutional(claim, OUTPATIENT_CLAIM)
    lower_text = interchange([*HEADER, *lowered, *OUTPATIENT_CLAIM], version="005010x223a2")
    upper = _read_as_upper_case(tmp_path, lower_text, upper_text, "i")
    assert upper.get_column("diagnoses").to_list()[0] == ["D801", "G6181"]
    assert upper.get_column("date_of_service").to_list()[:2] == ["2026-03-01"] * 2


# --- 2. unit basis the guide does not allow ---------------------------------------------------------------
def test_sv103_unit_basis_other_than_un_or_mj_rejects_the_line(tmp_path: Path) -> None:
    """``SV1*HC:J1569:JZ*9000*ML*200`` is 200 mL (the NDC quantity), not 200 HCPCS units: rejected naming
    SV103 and its value; DA (days) is no 837P basis either. The other lines and claims read as before."""
    bad = [
        *subscriber(2, "MBR100", "AETNA"),
        "CLM*ML1*9350***11:B:1*Y*A*Y*Y",
        "HI*ABK:D801",
        "LX*1",
        "SV1*HC:J1569:JZ*9000*ML*200***1",
        "DTP*472*D8*20260302",
        "LIN**N4*00944270005",
        "CTP****200*ML",
        "LX*2",
        "SV1*HC:96365*350*DA*1***1",
        "DTP*472*D8*20260302",
        "LX*3",
        "SV1*HC:96366*120*UN*1***1",
        "DTP*472*D8*20260302",
    ]
    text = _professional(bad, HOME_CLAIM)
    frame = _read(text)
    assert _row(frame, "ML1", "1")["value_error"] == (
        "SV103 unit basis 'ML' is not UN (units) or MJ (minutes): the units cannot be read as HCPCS units")
    assert _row(frame, "ML1", "2")["value_error"] == (
        "SV103 unit basis 'DA' is not UN (units) or MJ (minutes): the units cannot be read as HCPCS units")
    assert _row(frame, "ML1", "3")["value_error"] is None  # near miss: UN
    assert frame.get_column("load_error").to_list() == [None] * 4
    findings, rejected = _scrub(tmp_path, "ml", text)
    assert sorted(rejected.select("line_number", "reason").rows()) == [
        ("1", "SV103 unit basis 'ML' is not UN (units) or MJ (minutes): the units cannot be read as HCPCS units"),
        ("2", "SV103 unit basis 'DA' is not UN (units) or MJ (minutes): the units cannot be read as HCPCS units"),
    ]
    alone, _ = _scrub(tmp_path, "home", _professional(HOME_CLAIM))
    assert alone and _findings_of(findings, "HOME1") == alone


def test_sv204_unit_basis_other_than_un_or_da_rejects_the_line(tmp_path: Path) -> None:
    """837I: SV204 may be UN or DA; ``ML`` is rejected naming SV204, DA room-and-board days and UN units read."""
    claim = [
        *subscriber(2, "MBR300", "BLUE CROSS"),
        "CLM*OPML1*9000***13:A:1**A*Y*Y",
        "DTP*434*RD8*20260302-20260303",
        "HI*ABK:D801",
        "LX*1",
        "SV2*0636*HC:J1569:JZ*9000*ML*200",
        "DTP*472*D8*20260302",
        "LX*2",
        "SV2*0120**3000*DA*2",
        "DTP*472*RD8*20260302-20260303",
        "LX*3",
        "SV2*0260*HC:96365*350*UN*1",
        "DTP*472*D8*20260302",
    ]
    text = _institutional(claim, OUTPATIENT_CLAIM)
    frame = _read(text)
    assert _row(frame, "OPML1", "1")["value_error"] == (
        "SV204 unit basis 'ML' is not UN (units) or DA (days): the units cannot be read as HCPCS units")
    # Near misses: DA days (an 837I line's RD8 range is its days: not rejected) and UN units read.
    days, units = _row(frame, "OPML1", "2"), _row(frame, "OPML1", "3")
    assert (days["units"], days["date_of_service"], days["load_error"], days["value_error"]) == (
        "2", "2026-03-02", None, None)
    assert (units["units"], units["load_error"], units["value_error"]) == ("1", None, None)
    findings, rejected = _scrub(tmp_path, "i_ml", text)
    assert rejected.select("claim_id", "line_number").rows() == [("OPML1", "1")]
    alone, _ = _scrub(tmp_path, "i_alone", _institutional(OUTPATIENT_CLAIM))
    assert _findings_of(findings, "OPBY1") == alone


# --- 3. a CLM01 repeated in one file ---------------------------------------------------------------------
_ACCT_FIRST = [
    *subscriber(2, "MBR100", "MEDICARE"),
    "CLM*ACCT-77*600***11:B:1*Y*A*Y*Y",
    "HI*ABK:D801",
    "LX*1",
    "SV1*HC:96365*350*UN*1***1",
    "DTP*472*D8*20260302",
    "LX*2",
    "SV1*HC:96366*250*UN*1***1",
    "DTP*472*D8*20260302",
]
_ACCT_LATER = [
    "CLM*ACCT-77*7600***11:B:1*Y*A*Y*Y",
    "HI*ABK:D801",
    "LX*1",
    "SV1*HC:96365*350*UN*1***1",
    "DTP*472*D8*20260309",
    "LX*2",
    "SV1*HC:J1459:JZ*7000*UN*70***1",
    "DTP*472*D8*20260309",
    "LIN**N4*44206043810",
    "CTP****35000*ME",
    "LX*3",
    "SV1*HC:96366*250*UN*1***1",
    "DTP*472*D8*20260309",
]


def _claim_only(segments: list[str]) -> list[str]:
    """A claim's segments from its CLM on (without the subscriber loop before it)."""
    return segments[next(i for i, s in enumerate(segments) if s.startswith("CLM*")):]


def test_repeated_clm01_rejects_both_claims_whole(tmp_path: Path) -> None:
    """The later CLM with the same CLM01 is a claim of its own: each of its lines (LX 3 too, which was checked
    as the earlier claim's line 3) is rejected naming the claim id and the earlier CLM's segment, not as a
    "duplicate claim_id + line_number" of an unrelated line; and the earlier claim's lines are rejected
    too (which claim the id is cannot be told; keeping the earlier made the result depend on the order,
    probe 26C D4). The other claims of the file read as they would alone."""
    text = _professional(_ACCT_FIRST, _ACCT_LATER, HOME_CLAIM)
    frame = _read(text)
    assert frame.height == 2 + 3 + 1
    first_clm, later_clm = _position(text, _ACCT_FIRST[5]), _position(text, _ACCT_LATER[0])
    reason = (f"claim id ACCT-77 is given by the claims at segments {first_clm} and {later_clm} of this file with "
              "other lines or values: each claim needs its own CLM01 (patient control number), else the lines of "
              "the claims are read as one claim; the lines of this claim are not checked")
    assert frame.slice(0, 5).get_column("load_error").to_list() == [reason] * 5
    assert frame.slice(2, 3).get_column("procedure_code").to_list() == ["96365", "J1459", "96366"]
    findings, rejected = _scrub(tmp_path, "dup", text)
    assert rejected.height == 5 and set(rejected.get_column("claim_id")) == {"ACCT-77"}
    alone_findings, _ = _scrub(tmp_path, "alone", _professional(HOME_CLAIM))
    assert findings == alone_findings
    member = subscriber(2, "MBR100", "MEDICARE")
    swapped_text = _professional([*member, *_ACCT_LATER], _claim_only(_ACCT_FIRST), HOME_CLAIM)
    swapped, swapped_rejected = _scrub(tmp_path, "swapped", swapped_text)
    assert swapped == findings and swapped_rejected.height == 5


def test_an_exact_copy_of_a_claim_whose_id_another_claim_reuses_is_rejected_too(tmp_path: Path) -> None:
    """Review 26E D2: the first claim sent twice and another claim under its id: every one is rejected,
    whatever the order (the exact copy read before the other claim was checked)."""
    first, later = _claim_only(_ACCT_FIRST), _ACCT_LATER
    member = subscriber(2, "MBR100", "MEDICARE")
    for order in ([first, first, later], [first, later, first], [later, first, first]):
        text = _professional([*member, *order[0]], *order[1:], HOME_CLAIM)
        findings, rejected = _scrub(tmp_path, "copies", text)
        assert rejected.height == 2 + 2 + 3 and set(rejected.get_column("claim_id")) == {"ACCT-77"}, order
        assert findings == _scrub(tmp_path, "alone", _professional(HOME_CLAIM))[0]


def test_a_claim_id_given_with_spaces_is_the_same_id(tmp_path: Path) -> None:
    """Review 26E D5: "ACCT-77" and "ACCT-77 " are one CLM01: both claims are rejected in either order."""
    spaced = [s.replace("CLM*ACCT-77*", "CLM*ACCT-77 *") for s in _ACCT_LATER]
    member = subscriber(2, "MBR100", "MEDICARE")
    for claims in ([_ACCT_FIRST, spaced], [[*member, *spaced], _claim_only(_ACCT_FIRST)]):
        _, rejected = _scrub(tmp_path, "spaced", _professional(*claims, HOME_CLAIM))
        assert rejected.height == 5, rejected


def test_a_next_payer_copy_under_the_same_clm01_is_worded_as_such(tmp_path: Path) -> None:
    """Review 26E D7: a claim and its copy to the next payer keep one patient control number; the reason
    says so, not "each claim needs its own CLM01"."""
    copy = [s.replace("SBR*P*", "SBR*S*").replace("NM1*PR*2*MEDICARE*****PI*MEDICARE", "NM1*PR*2*AETNA*****PI*AETNA")
            for s in _ACCT_FIRST]
    frame = _read(_professional(_ACCT_FIRST, [s.replace("HL*2*", "HL*3*") for s in copy], HOME_CLAIM))
    reasons = set(frame.filter(pl.col("claim_id") == "ACCT-77").get_column("load_error").to_list())
    assert len(reasons) == 1 and "for another payer or as a corrected claim" in reasons.pop()


def test_an_exact_copy_whose_clm01_has_a_trailing_space_is_read_once(tmp_path: Path) -> None:
    """Review 26F D5: the id is compared stripped for the copy's content too (both were rejected as
    "other lines or values")."""
    spaced = [s.replace("CLM*ACCT-77*", "CLM*ACCT-77 *") for s in _claim_only(_ACCT_FIRST)]
    _, rejected = _scrub(tmp_path, "spaced_copy", _professional(_ACCT_FIRST, spaced, HOME_CLAIM))
    assert rejected.height == 2 and not [r for r in rejected.get_column("reason") if "other lines" in r]


def test_near_miss_an_exact_copy_of_a_claim_in_one_file_is_read_once(tmp_path: Path) -> None:
    """The same claim twice (one interchange sent again) is no reuse of the id: read once, its findings
    those of the claim alone."""
    findings, rejected = _scrub(tmp_path, "copy", _professional(_ACCT_FIRST, _claim_only(_ACCT_FIRST), HOME_CLAIM))
    alone, _ = _scrub(tmp_path, "alone", _professional(_ACCT_FIRST, HOME_CLAIM))
    assert findings == alone and rejected.height == 2


def test_a_third_claim_with_the_id_names_the_first_and_other_transaction_sets_count() -> None:
    """Per file: a repeat in a later transaction set of the same file is rejected too, naming the first CLM."""
    third = [s.replace("20260309", "20260316") for s in _ACCT_LATER]
    text = interchange([*HEADER, *_ACCT_FIRST, *_ACCT_LATER], [*HEADER, *subscriber(2, "MBR100", "MEDICARE"), *third])
    frame = _read(text)
    first_clm = _position(text, _ACCT_FIRST[5])
    errors = frame.get_column("load_error").to_list()
    assert all(e is not None and e.startswith(f"claim id ACCT-77 is given by the claims at segments {first_clm} and ")
               for e in errors), errors
    assert len(errors) == 8


def test_distinct_clm01s_read_clean(tmp_path: Path) -> None:
    """Near miss: the same claims with their own CLM01s are two claims, read and checked with no rejection."""
    text = _professional(_ACCT_FIRST, [s.replace("ACCT-77", "ACCT-78") for s in _ACCT_LATER], HOME_CLAIM)
    frame = _read(text)
    assert frame.get_column("load_error").null_count() == frame.height == 6
    assert frame.get_column("value_error").null_count() == 6
    _, rejected = _scrub(tmp_path, "distinct", text)
    assert rejected.height == 0


# --- 4. 837I lines without DTP*472 on a multi-day statement period -----------------------------------------
def _undated_claim(period: str) -> list[str]:
    """An outpatient claim whose second 96365 has no DTP*472 of its own."""
    return [
        *subscriber(2, "MBR300", "BLUE CROSS"),
        "CLM*OPI1*700***13:A:1**A*Y*Y",
        f"DTP*434*RD8*{period}",
        "HI*ABK:D801",
        "LX*1",
        "SV2*0260*HC:96365*350*UN*1",
        "DTP*472*D8*20260302",
        "LX*2",
        "SV2*0260*HC:96365*350*UN*1",
    ]


def test_undated_837i_line_of_a_multi_day_statement_period_is_rejected(tmp_path: Path) -> None:
    """The statement period's first day is no line's date: the second 96365 was a "second initial" on
    2026-03-02. Rejected saying its date is unknown (and given none); the dated line and the other claim
    read as before."""
    text = _institutional(_undated_claim("20260302-20260309"), OUTPATIENT_CLAIM)
    frame = _read(text)
    period = _position(text, "DTP*434*RD8*20260302-20260309")
    undated = _row(frame, "OPI1", "2")
    assert undated["load_error"] == (
        "no DTP*472 service date on this line, and the claim's statement period 2026-03-02 to 2026-03-09 "
        f"(DTP*434 at segment {period}) spans 8 days: the line's date of service is unknown")
    assert undated["date_of_service"] is None
    dated = _row(frame, "OPI1", "1")
    assert (dated["date_of_service"], dated["load_error"]) == ("2026-03-02", None)
    findings, rejected = _scrub(tmp_path, "undated", text)
    assert rejected.select("claim_id", "line_number").rows() == [("OPI1", "2")]
    assert not [f for f in findings if f[2] == "duplicate-initial-infusion"]
    alone, _ = _scrub(tmp_path, "i_alone", _institutional(OUTPATIENT_CLAIM))
    assert _findings_of(findings, "OPBY1") == alone


def test_undated_837i_line_of_a_one_day_statement_period_takes_that_day() -> None:
    """Near miss: a one-day statement period (RD8 or D8) still dates the lines that give no date."""
    for period in ("RD8*20260302-20260302", "D8*20260302"):
        claim = [s.replace("DTP*434*RD8*20260302-20260302", f"DTP*434*{period}")
                 for s in _undated_claim("20260302-20260302")]
        frame = _read(_institutional(claim, OUTPATIENT_CLAIM))
        assert frame.get_column("date_of_service").to_list()[:2] == ["2026-03-02"] * 2, period
        assert frame.get_column("load_error").null_count() == frame.height, period


# --- 5. an 837P DTP*472 RD8 range over several days --------------------------------------------------------
def _range_claim(dates: str) -> list[str]:
    return [
        *subscriber(2, "MBR100", "MEDICARE"),
        "CLM*RD8P1*46750***11:B:1*Y*A*Y*Y",
        "HI*ABK:D801",
        "LX*1",
        "SV1*HC:J1569:JZ*45000*UN*500***1",
        f"DTP*472*RD8*{dates}",
        "LIN**N4*00944270005",
        "CTP****250000*ME",
        "LX*2",
        "SV1*HC:96365*1750*UN*1***1",
        "DTP*472*D8*20260302",
    ]


def test_undated_inpatient_837i_lines_keep_the_statement_start() -> None:
    """Near miss: an inpatient claim (bill type 11x) carries no line dates by the 837I guide; its undated
    lines keep the period's start (rejecting them would reject every inpatient claim)."""
    claim = [s.replace("13:A:1", "11:A:1") for s in _undated_claim("20260302-20260309")]
    frame = _read(_institutional(claim, OUTPATIENT_CLAIM))
    assert _row(frame, "OPI1", "2")["date_of_service"] == "2026-03-02"
    assert frame.get_column("load_error").null_count() == frame.height


def test_837p_rd8_range_over_several_days_is_read_from_its_start() -> None:
    """An 837P DTP*472 RD8 range is read from its first day (real files bill ranges; the hostile round of
    tests/test_hostile_round2.py pins it); a range of one day is that date."""
    for dates in ("20260302-20260306", "20260302-20260302"):
        frame = _read(_professional(_range_claim(dates), HOME_CLAIM))
        assert _row(frame, "RD8P1", "1")["date_of_service"] == "2026-03-02"
        assert frame.get_column("load_error").null_count() == frame.height


def test_ivig_claim_is_untouched() -> None:
    """The reference 837P claim reads as it always has (none of the above applies to it)."""
    frame = _read(_professional([*subscriber(2, "MBR100", "MEDICARE"), *IVIG_CLAIM]))
    assert frame.get_column("load_error").null_count() == frame.height == 3


def test_an_outpatient_837i_line_dated_by_a_range_of_several_days_is_rejected(tmp_path: Path) -> None:
    """IOM 100-04 ch.4 s.230.2: drug administration is reported with a line item date of service on the
    day it is provided. 96365 x4 dated 09-07 to 09-28 (four weekly visits) was read as four units on
    09-07: "bill 96365 x1 and 96366 x3", three infusion hours nobody documented (probe O)."""
    claim = [
        *subscriber(2, "MBR400", "MEDICARE"),
        "CLM*RNG1*1800***13:A:1**A*Y*Y",
        "DTP*434*RD8*20260907-20260928",
        "HI*ABK:D801",
        "LX*1", "SV2*0260*HC:96365*1800*UN*4", "DTP*472*RD8*20260907-20260928",
        # near misses: a one-day range is that day; a line in days (DA) keeps its range's start
        "LX*2", "SV2*0260*HC:96365*450*UN*1", "DTP*472*RD8*20260907-20260907",
        "LX*3", "SV2*0120**3000*DA*2", "DTP*472*RD8*20260907-20260908",
    ]
    frame = _read(_institutional(claim))
    ranged = _row(frame, "RNG1", "1")
    assert ranged["date_of_service"] is None
    assert ranged["load_error"] == ("DTP*472 at segment 23 dates the line 2026-09-07 to 2026-09-28, 22 days: per-date "
                                    "rules (one initial service per encounter, MUEs per day) cannot judge a range; "
                                    "bill one line per date of service")
    assert (_row(frame, "RNG1", "2")["date_of_service"], _row(frame, "RNG1", "2")["load_error"]) == ("2026-09-07", None)
    assert (_row(frame, "RNG1", "3")["date_of_service"], _row(frame, "RNG1", "3")["load_error"]) == ("2026-09-07", None)
    findings, rejected = _scrub(tmp_path, "range", _institutional(claim))
    assert rejected.select("claim_id", "line_number").rows() == [("RNG1", "1")]
    assert not [f for f in findings if f[2] == "duplicate-initial-infusion"]
