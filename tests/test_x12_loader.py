"""The X12 837P/837I reader: inline snippets, files written by others, and the CSV -> 837 writer.

The inline snippets are IVIG/SCIG infusion claims written here (no external file has a 963xx
code). The tests on ``../shared/external`` check that every 5010 837 there parses, that claim and
line counts (and each line's procedure code) agree with pyx12, and that the structural-error
cases this reader is meant to notice are rejected with reasons. They skip when ``../shared`` is
absent, so the project still tests on its own.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import random
import re
import sys
from hashlib import sha256
from pathlib import Path
from types import ModuleType
from typing import Any

import polars as pl
import pytest

from scrubber.canonical import canonicalise
from scrubber.errors import InputError
from scrubber.loaders.x12_loader import FRAME_SCHEMA, count_x12_rows, load_x12, read_x12, validate_x12_strict

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared"
EXTERNAL = SHARED / "external"
SNIP = EXTERNAL / "peer_tests" / "aurelianware_cloudhealthoffice_snip"
IMSWEB = EXTERNAL / "x12" / "imsweb_x12-parser"
needs_shared = pytest.mark.skipif(
    not EXTERNAL.is_dir(),
    reason=f"shared external test data not found at {EXTERNAL}; tests on files written by others are skipped",
)

ICD9_REASON = "ICD-9 diagnosis qualifier BK is not accepted; 5010 claims use ICD-10-CM (ABK/ABF)"
ICD9_BK_BF = f"{ICD9_REASON}; {ICD9_REASON.replace('BK', 'BF', 1)}"


# --- building snippets ---------------------------------------------------------------------------
def interchange(
    *transactions: list[str],
    element: str = "*",
    component: str = ":",
    terminator: str = "~",
    newline: str = "\n",
    version: str = "005010X222A1",
    control: int = 1,
) -> str:
    """An ISA/GS envelope around transaction sets (each a list of segments written with '*' and
    ':'; ST and SE are added, SE01 counted). Separators are swapped in for the ones given."""
    segments = [
        "*".join(
            [
                "ISA",
                "00",
                " " * 10,
                "00",
                " " * 10,
                "ZZ",
                "SENDER".ljust(15),
                "ZZ",
                "RECEIVER".ljust(15),
                "260115",
                "1200",
                "^",
                "00501",
                f"{control:09d}",
                "0",
                "T",
                "\0",
            ]
        ),
        f"GS*HC*SENDER*RECEIVER*20260115*1200*{control}*X*{version}",
    ]
    for number, body in enumerate(transactions, start=1):
        st = [f"ST*837*{number:04d}*{version}", *body]
        segments.extend([*st, f"SE*{len(st) + 1}*{number:04d}"])
    segments += [f"GE*{len(transactions)}*{control}", f"IEA*1*{control:09d}"]
    text = "".join(f"{s}{terminator}{newline}" for s in segments)
    return text.replace("*", element).replace(":", component).replace("\0", component)


HEADER = [
    "BHT*0019*00*BATCH1*20260115*1200*CH",
    "NM1*41*2*INFUSION CENTER*****46*SENDER",
    "PER*IC*BILLING DESK*TE*5555550100",
    "NM1*40*2*RECEIVER*****46*RECEIVER",
    "HL*1**20*1",
    "NM1*85*2*INFUSION CENTER*****XX*1234567893",
    "N3*100 MAIN ST",
    "N4*SPRINGFIELD*IL*627010000",
    "REF*EI*123456789",
]


def subscriber(hl: int, member: str, payer: str) -> list[str]:
    return [
        f"HL*{hl}*1*22*0",
        "SBR*P*18*******CI",
        f"NM1*IL*1*DOE*JANE****MI*{member}",
        "DMG*D8*19600101*F",
        f"NM1*PR*2*{payer}*****PI*PAYER01",
    ]


# IVIG: J1459 350 units (35 g = 35000 mg), initial hour 96365, 3 additional hours 96366.
IVIG_CLAIM = [
    "CLM*IVIG100*6100***11:B:1*Y*A*Y*Y",
    "HI*ABK:D801*ABF:G6181",
    "LX*1",
    "SV1*HC:J1459:JZ*5250*UN*350***1:2",
    "DTP*472*D8*20260110",
    "LIN**N4*44206-0436-10",
    "CTP****35000*ME",
    "LX*2",
    "SV1*HC:96365*250*UN*1***1",
    "DTP*472*D8*20260110",
    "LX*3",
    "SV1*HC:96366*600*UN*3***2",
    "DTP*472*D8*20260110",
]
# SCIG in the home: J1559 (8 g, CTP in grams), 96369 + 96370 with four modifiers, an RD8 range
# on one line, SV105 overriding CLM05-1, and a CTP in ML that does not convert to mg.
SCIG_CLAIM = [
    "CLM*SCIG200*1400***12:B:1*Y*A*Y*Y",
    "HI*ABK:D839",
    "LX*1",
    "SV1*HC:J1559:JZ:KX*900*UN*80***1",
    "DTP*472*D8*20260203",
    "LIN**N4*44206045101",
    "CTP****8*GR",
    "LX*2",
    "SV1*HC:96369:59:XU:KX:GA*300*UN*1*11**1",
    "DTP*472*RD8*20260203-20260204",
    "LX*3",
    "SV1*HC:96370*200*UN*1***1",
    "DTP*472*D8*20260203",
    "LIN**N4*44206045101",
    "CTP****40*ML",
]
# 837I outpatient IVIG: revenue codes, HCPCS in SV202, no SV107; one line without DTP*472 takes
# the DTP*434 statement start; ABJ/APR are not line diagnoses.
INSTITUTIONAL_CLAIM = [
    "CLM*OPIVIG300*5500***13:A:1**A*Y*Y",
    # (a one-day period dates LX 2, which has no DTP*472: on a longer one the line would be rejected)
    "DTP*434*RD8*20260301-20260301",
    "CL1*1*7*01",
    "HI*ABK:D801*ABF:G6181",
    "HI*ABJ:R531",
    "HI*APR:R509",
    "LX*1",
    "SV2*0636*HC:J1459:JZ*5250*UN*350",
    "DTP*472*D8*20260302",
    "LIN**N4*44206043610",
    "CTP****35*GR",
    "LX*2",
    "SV2*0260*HC:96365*250*UN*1",
]


def ivig_text(**kwargs: Any) -> str:
    return interchange([*HEADER, *subscriber(2, "MBR100", "MEDICARE"), *IVIG_CLAIM], **kwargs)


def load(text: str, name: str = "claims.837", first_row_id: int = 0) -> pl.DataFrame:
    return load_x12(Path(name), text, first_row_id)


def column(frame: pl.DataFrame, name: str) -> list:
    return frame.get_column(name).to_list()


# --- extraction --------------------------------------------------------------------------------
def test_ivig_837p_lines_are_extracted() -> None:
    frame = load(ivig_text(), first_row_id=100)
    assert frame.schema == pl.Schema(FRAME_SCHEMA)
    assert column(frame, "row_id") == [100, 101, 102]
    assert column(frame, "source_row") == [1, 2, 3]
    assert set(column(frame, "source")) == {"claims.837"}
    assert column(frame, "claim_id") == ["IVIG100"] * 3
    assert column(frame, "line_number") == ["1", "2", "3"]
    assert column(frame, "procedure_code") == ["J1459", "96365", "96366"]
    assert column(frame, "modifiers") == [["JZ"], [], []]
    assert column(frame, "units") == ["350", "1", "3"]
    assert column(frame, "charge") == ["5250", "250", "600"]
    assert column(frame, "diagnoses") == [["D801", "G6181"], ["D801"], ["G6181"]]
    assert column(frame, "date_of_service") == ["2026-01-10"] * 3
    assert column(frame, "place_of_service") == ["11"] * 3
    assert column(frame, "claim_type") == ["professional"] * 3
    assert column(frame, "payer") == ["MEDICARE"] * 3
    assert column(frame, "member_id") == ["MBR100"] * 3
    assert column(frame, "ndc") == ["44206043610", None, None]
    assert column(frame, "drug_dose_mg") == ["35000", None, None]
    assert column(frame, "revenue_code") == [None] * 3
    assert column(frame, "load_error") == [None] * 3
    # LX 2 is segment 25: ISA, GS, ST, 9 header, 5 subscriber, CLM, HI, LX, SV1, DTP, LIN, CTP, then LX.
    assert column(frame, "source_location")[1] == "segment 25 (claim IVIG100, LX 2)"
    for name in ("drug_wasted_mg", "route", "infusion_start", "infusion_stop", "observation_minutes", "sites"):
        assert frame.get_column(name).null_count() == frame.height


def test_scig_modifiers_rd8_grams_and_line_pos() -> None:
    frame = load(interchange([*HEADER, *subscriber(2, "MBR200", "AETNA"), *SCIG_CLAIM]))
    assert column(frame, "procedure_code") == ["J1559", "96369", "96370"]
    assert column(frame, "modifiers") == [["JZ", "KX"], ["59", "XU", "KX", "GA"], []]
    assert column(frame, "date_of_service") == ["2026-02-03", "2026-02-03", "2026-02-03"]
    assert column(frame, "place_of_service") == ["12", "11", "12"]  # SV105 wins over CLM05-1
    assert column(frame, "drug_dose_mg") == ["8000", None, None]  # 8 GR -> 8000 mg; 40 ML stays null
    assert column(frame, "ndc") == ["44206045101", None, "44206045101"]
    assert column(frame, "load_error") == [None] * 3


def test_institutional_837i() -> None:
    text = interchange([*HEADER, *subscriber(2, "MBR300", "BLUE CROSS"), *INSTITUTIONAL_CLAIM], version="005010X223A2")
    frame = load(text)
    assert column(frame, "claim_type") == ["institutional"] * 2
    assert column(frame, "revenue_code") == ["0636", "0260"]
    assert column(frame, "procedure_code") == ["J1459", "96365"]
    assert column(frame, "modifiers") == [["JZ"], []]
    assert column(frame, "units") == ["350", "1"]
    assert column(frame, "charge") == ["5250", "250"]
    assert column(frame, "place_of_service") == [None, None]  # CLM05-1 is a facility type code here
    assert column(frame, "date_of_service") == ["2026-03-02", "2026-03-01"]  # second: DTP*434 start
    assert column(frame, "diagnoses") == [["D801", "G6181"], ["D801", "G6181"]]  # no ABJ / APR
    assert column(frame, "drug_dose_mg") == ["35000", None]
    assert column(frame, "load_error") == [None, None]


def test_valid_snippets_canonicalise_clean() -> None:
    """The text formats the reader produces (dates, numbers, lists) are what canonicalisation reads."""
    text = interchange(
        [*HEADER, *subscriber(2, "MBR100", "MEDICARE"), *IVIG_CLAIM, *subscriber(3, "MBR200", "AETNA"), *SCIG_CLAIM]
    )
    institutional = interchange(
        [*HEADER, *subscriber(2, "MBR300", "BLUE CROSS"), *INSTITUTIONAL_CLAIM], version="005010X223A2"
    )
    frame = pl.concat([load(text), load(institutional, first_row_id=6)])
    result = canonicalise(frame.lazy())
    assert result.rejected.height == 0, result.rejected.to_dicts()
    lines = result.lines
    assert lines.height == 8
    assert lines.schema["date_of_service"] == pl.Date()
    assert lines.get_column("units").to_list() == [350.0, 1.0, 3.0, 80.0, 1.0, 1.0, 350.0, 1.0]
    assert lines.get_column("drug_dose_mg").to_list()[:4] == [35000.0, None, None, 8000.0]
    assert lines.get_column("line_number").to_list() == [1, 2, 3, 1, 2, 3, 1, 2]
    assert lines.get_column("diagnoses").to_list()[0] == ["D801", "G6181"]


def test_dependent_patient_is_the_subscriber_id_and_its_own_code_and_cob_names_are_ignored() -> None:
    body = [
        *HEADER,
        "HL*2*1*22*1",
        "SBR*P**GRP01******CI",
        "NM1*IL*1*DOE*JOHN****MI*SUB999",
        "NM1*PR*2*UNITED HEALTHCARE*****PI*87726",
        "HL*3*2*23*0",
        "PAT*19",
        "NM1*QC*1*DOE*JIMMY",
        "DMG*D8*20100101*M",
        *IVIG_CLAIM[:2],
        "SBR*S*01*******CI",
        "NM1*IL*1*DOE*JANE****MI*OTHER-SUBSCRIBER",
        "NM1*PR*2*OTHER PAYER*****PI*99999",
        *IVIG_CLAIM[2:],
    ]
    frame = load(interchange(body))
    # The subscriber id, then six hex digits of the dependant's name and birth date (2010CA NM1*QC, DMG).
    assert set(column(frame, "member_id")) == {"SUB999-P" + sha256(b"DOE|JIMMY||20100101").hexdigest()[:6]}
    assert set(column(frame, "payer")) == {"UNITED HEALTHCARE"}
    assert column(frame, "load_error") == [None] * 3


def test_payer_falls_back_to_its_id() -> None:
    body = [*HEADER, "HL*2*1*22*0", "SBR*P*18*******CI", "NM1*IL*1*DOE****MI*M1", "NM1*PR*2******PI*00435", *IVIG_CLAIM]
    assert set(column(load(interchange(body)), "payer")) == {"00435"}


def test_several_envelopes_with_different_separators() -> None:
    """Two interchanges (the second with its own delimiters and no newlines), two groups, three STs."""
    first = ivig_text(control=1)
    second_body = [*HEADER, *subscriber(2, "MBR200", "AETNA"), *SCIG_CLAIM]
    # (the second transaction set's claim its own CLM01: a repeated CLM01 rejects the later claim)
    other_body = [s.replace("CLM*SCIG200*", "CLM*SCIG201*") for s in second_body]
    second = interchange(second_body, other_body, element="|", component="^", terminator="'", newline="", control=2)
    frame = load(first + "\r\n" + second)
    assert frame.height == 9
    assert column(frame, "claim_id") == ["IVIG100"] * 3 + ["SCIG200"] * 3 + ["SCIG201"] * 3
    assert column(frame, "modifiers")[4] == ["59", "XU", "KX", "GA"]
    assert column(frame, "drug_dose_mg")[3] == "8000"
    assert frame.get_column("load_error").null_count() == 9


@pytest.mark.parametrize("newline", ["", "\n", "\r\n"])
def test_segment_terminator_with_or_without_newlines(newline: str) -> None:
    frame = load(ivig_text(newline=newline))
    assert column(frame, "procedure_code") == ["J1459", "96365", "96366"]
    assert frame.get_column("load_error").null_count() == 3


@pytest.mark.parametrize("width", range(98, 110))
def test_a_file_folded_at_any_width_reads_the_same(width: int) -> None:
    # Folded where the line break lands before ISA16 (104) or before the segment terminator (105), the
    # break was read as a delimiter: "no ST transaction set in the file" (probe 16B).
    flat = ivig_text()
    folded = "\n".join(flat[i:i + width] for i in range(0, len(flat), width))
    frame, unfolded = load(folded), load(flat)
    assert frame.height == unfolded.height == 3
    assert column(frame, "procedure_code") == column(unfolded, "procedure_code")
    assert frame.get_column("load_error").null_count() == 3


def test_leading_bom_and_blank_lines_are_ignored() -> None:
    assert load("\ufeff\n\n" + ivig_text()).height == 3


# --- rejections with reasons ---------------------------------------------------------------------
def _reasons(frame: pl.DataFrame) -> list[str | None]:
    """Both kinds of loader reasons: the row unreadable (load_error) or one value refused (value_error)."""
    joined = frame.select(pl.concat_str("load_error", "value_error", separator="; ", ignore_nulls=True))
    return [r or None for r in joined.to_series().to_list()]


def test_icd9_qualifier_rejects_the_claim() -> None:
    claim = [
        "CLM*OLD1*100***11:B:1*Y*A*Y*Y",
        "HI*BK:2790*BF:3569",
        "LX*1",
        "SV1*HC:J1459*100*UN*10***1",
        "DTP*472*D8*20260110",
    ]
    frame = load(interchange([*HEADER, *subscriber(2, "M1", "AETNA"), *claim]))
    assert _reasons(frame) == [ICD9_BK_BF]
    assert canonicalise(frame.lazy()).rejected.get_column("reason").str.contains("ICD-9").all()


def test_lx_without_sv1_is_rejected_and_other_lines_are_kept() -> None:
    claim = [*IVIG_CLAIM[:7], "LX*2", "DTP*472*D8*20260110", *IVIG_CLAIM[10:]]
    frame = load(interchange([*HEADER, *subscriber(2, "M1", "AETNA"), *claim]))
    assert column(frame, "line_number") == ["1", "2", "3"]
    assert _reasons(frame) == [None, "service line LX 2 (segment 25) has no SV1 (837P) or SV2 (837I) segment", None]


def test_diagnosis_pointer_past_hi_codes() -> None:
    claim = [
        "CLM*P1*100***11:B:1*Y*A*Y*Y",
        "HI*ABK:D801",
        "LX*1",
        "SV1*HC:96365*100*UN*1***1:3",
        "DTP*472*D8*20260110",
        "LX*2",
        "SV1*HC:96366*100*UN*1***X",
        "DTP*472*D8*20260110",
        "LX*3",
        "SV1*HC:96366*100*UN*1***0",
        "DTP*472*D8*20260110",
    ]
    frame = load(interchange([*HEADER, *subscriber(2, "M1", "AETNA"), *claim]))
    assert _reasons(frame) == [
        "diagnosis pointer 3 (SV107) points past the claim's 1 HI diagnosis code(s)",
        "diagnosis pointer 'X' (SV107) is not a number",
        "diagnosis pointer 0 (SV107) must be 1 or more (pointers count from 1)",  # (it pointed "past" the codes)
    ]
    assert column(frame, "diagnoses")[0] == ["D801"]


def test_claim_without_lines_is_one_rejected_row() -> None:
    body = [
        *HEADER,
        *subscriber(2, "M1", "AETNA"),
        "CLM*EMPTY1*0***11:B:1*Y*A*Y*Y",
        "HI*ABK:D801",
        *subscriber(3, "M2", "AETNA"),
        *IVIG_CLAIM,
    ]
    frame = load(interchange(body))
    assert frame.height == 4
    first = frame.row(0, named=True)
    assert first["claim_id"] == "EMPTY1"
    assert first["line_number"] is None
    assert first["member_id"] == "M1"
    assert first["place_of_service"] == "11"
    assert first["source_location"] == "segment 18 (claim EMPTY1)"
    assert first["load_error"] == "claim has no service lines (no LX with SV1/SV2 in loop 2400)"
    assert _reasons(frame)[1:] == [None, None, None]


def test_unknown_segment_rejects_its_claim_only() -> None:
    claim = [*IVIG_CLAIM[:2], "ZZZ*1", *IVIG_CLAIM[2:]]
    body = [
        *HEADER,
        *subscriber(2, "M1", "AETNA"),
        *claim,
        *subscriber(3, "M2", "AETNA"),
        *[s.replace("IVIG100", "IVIG101") for s in IVIG_CLAIM],
    ]
    frame = load(interchange(body))
    reasons = _reasons(frame)
    assert reasons[:3] == ["unknown segment 'ZZZ' at segment 20 (not part of the 5010 837 guides)"] * 3
    assert reasons[3:] == [None] * 3


def test_unknown_segment_inside_a_service_line_rejects_that_line_only() -> None:
    # ZZZ in line 2's loop rejected all three lines of the claim; lines 1 and 3 are good (probe 16G).
    at = IVIG_CLAIM.index("SV1*HC:96365*250*UN*1***1") + 1
    claim = [*IVIG_CLAIM[:at], "ZZZ*1*2", *IVIG_CLAIM[at:]]
    reasons = _reasons(load(interchange([*HEADER, *subscriber(2, "M1", "AETNA"), *claim])))
    assert reasons[0] is None and reasons[2] is None
    assert reasons[1] is not None and "unknown segment 'ZZZ'" in reasons[1]


def test_unknown_segment_in_subscriber_loop_rejects_that_subscribers_claims() -> None:
    body = [
        *HEADER,
        *subscriber(2, "M1", "AETNA"),
        "XYZ*1",
        *IVIG_CLAIM,
        *subscriber(3, "M2", "AETNA"),
        *[s.replace("IVIG100", "IVIG101") for s in IVIG_CLAIM],
    ]
    reasons = _reasons(load(interchange(body)))
    assert all(r and "unknown segment 'XYZ'" in r for r in reasons[:3])
    assert reasons[3:] == [None] * 3


def test_truncated_file_without_se_rejects_the_transaction() -> None:
    text = ivig_text()
    truncated = text[: text.index("SE*")]
    reasons = _reasons(load(truncated))
    assert len(reasons) == 3
    # The transaction set, its group and its interchange all lack their trailers: each is named.
    assert all(
        r == "transaction set ST 0001 (segment 3): the file ends before its SE trailer (truncated?); "
        "functional group GS 1 (segment 2) has no GE trailer before the end of the file (truncated?); "
        "interchange ISA 000000001 (segment 1) has no IEA trailer before the end of the file (truncated?)"
        for r in reasons
    ), reasons[0]


def test_4010_transaction_is_rejected_with_the_version() -> None:
    reasons = _reasons(load(ivig_text(version="004010X098A1")))
    assert set(reasons) == {
        "X12 implementation guide 004010X098A1 is not accepted; send 5010 837P (005010X222A1) or 837I (005010X223A2)"
    }


def test_sv2_under_a_professional_guide_is_rejected() -> None:
    text = interchange([*HEADER, *subscriber(2, "M1", "AETNA"), *INSTITUTIONAL_CLAIM], version="005010X222A1")
    frame = load(text)
    assert column(frame, "claim_type") == ["institutional"] * 2
    assert all(
        "service segment SV2 is 837I, but the transaction set is 005010X222A1 (837P)" in r for r in _reasons(frame)
    )


def test_component_separator_other_than_isa16_is_named() -> None:
    text = ivig_text().replace("HC:96365", "HC>96365")
    reasons = _reasons(load(text))
    assert reasons[1] == (
        "SV1 SV101 'HC>96365' separates its components with the character >, but ISA16 declares the character : "
        "as the component separator"
    )


def test_bad_ctp_quantity_and_service_without_lx() -> None:
    claim = [
        "CLM*C1*100***11:B:1*Y*A*Y*Y",
        "HI*ABK:D801",
        "SV1*HC:96365*100*UN*1***1",
        "DTP*472*D8*20260110",
        "LX*2",
        "SV1*HC:J1459*100*UN*10***1",
        "LIN**N4*44206043610",
        "CTP****abc*ME",
    ]
    frame = load(interchange([*HEADER, *subscriber(2, "M1", "AETNA"), *claim]))
    assert _reasons(frame) == [
        "SV1 at segment 20 has no LX before it",
        "CTP04 drug quantity 'abc' (segment 25) is not a number",
    ]


def test_the_ctp_quantity_of_a_jw_line_is_the_amount_discarded() -> None:
    """CTP04 is the quantity of the drug the line bills: on the JW line, the amount discarded (CMS JW/JZ
    FAQ: the discarded amount on its own line with JW). Read as a dose, a JW line for waste inside the
    rounded unit passed on X12 while the same claim in CSV fired (probe O)."""
    claim = [
        "CLM*W1*7200***11:B:1*Y*A*Y*Y", "HI*ABK:D801",
        "LX*1", "SV1*HC:J1459*7100*UN*71***1", "DTP*472*D8*20260110", "LIN**N4*44206043610", "CTP****35200*ME",
        "LX*2", "SV1*HC:J1459:JW*100*UN*1***1", "DTP*472*D8*20260110", "LIN**N4*44206043610", "CTP****0.3*GR",
    ]
    frame = load(interchange([*HEADER, *subscriber(2, "M1", "MEDICARE"), *claim]))
    assert column(frame, "drug_dose_mg") == ["35200", None]
    assert column(frame, "drug_wasted_mg") == [None, "300"]  # (grams read as mg, as a dose is)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("GS*HC*A*B*20260101*1200*1*X*005010X222A1~ST*837*1~", "segment 1 is not an ISA interchange header"),
        ("NOT AN 837 FILE", "segment 1 is not an ISA interchange header; the file starts with 'NOT AN 837 FILE'"),
        ("", "segment 1 is not an ISA interchange header"),
        ("ISA", "segment 1: ISA segment is too short to read the delimiters"),
        ("ISA*00*          *00*   ~", "segment 1: ISA segment is too short to read the delimiters"),
        ("ISA0000", "segment 1: ISA element separator '0' is a letter, digit or space"),
        (
            (
                "ISA*00*          *00*          *ZZ*A              *ZZ*B              *260115*1200*^*00501*"
                "000000001*0*T*:*"
            ),
            "segment 1: ISA declares unusable delimiters",
        ),
        (  # ISA11, the repetition separator, is the segment terminator: the ISA would end there (probe 19B)
            (
                "ISA*00*          *00*          *ZZ*A              *ZZ*B              *260115*1200*~*00501*"
                "000000001*0*T*:~GS*HC*A*B*20260115*1200*1*X*005010X222A1~"
            ),
            "repetition separator ISA11 '~' is also the segment terminator",
        ),
    ],
)
def test_whole_file_problems_raise_input_error(text: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        load(text, name="bad.837")
    assert message in info.value.message
    assert info.value.source == "bad.837"


def test_not_an_837_names_the_transaction_and_its_position() -> None:
    text = interchange(["BPR*I*100*C*ACH"]).replace("ST*837", "ST*835")
    with pytest.raises(InputError, match=r"not an 837 claim file: its transaction sets are 835 \(ST at segment 3\)"):
        load(text)


def test_837_without_claims_raises() -> None:
    with pytest.raises(InputError, match="no claims"):
        load(interchange(HEADER))


def test_malformed_input_never_raises_anything_but_input_error() -> None:
    """Random cuts, deletions, duplications and character swaps: a frame or an InputError, never a crash."""
    base = interchange(
        [*HEADER, *subscriber(2, "MBR100", "MEDICARE"), *IVIG_CLAIM, *subscriber(3, "MBR200", "AETNA"), *SCIG_CLAIM]
    )
    segments = base.split("~\n")
    rng = random.Random(20260115)
    alphabet = "*:~^\n ABC0129-"
    for _ in range(400):
        segs = list(segments)
        for _ in range(rng.randint(1, 4)):
            op, i = rng.choice(("drop", "dup", "cut", "swap", "empty")), rng.randrange(len(segs))
            if op == "drop" and len(segs) > 1:
                segs.pop(i)
            elif op == "dup":
                segs.insert(i, segs[i])
            elif op == "cut":
                segs[i] = segs[i][: rng.randrange(len(segs[i]) + 1)]
            elif op == "swap" and segs[i]:
                j = rng.randrange(len(segs[i]))
                segs[i] = segs[i][:j] + rng.choice(alphabet) + segs[i][j + 1 :]
            elif op == "empty":
                segs[i] = segs[i].split("*")[0] + "*"
        text = "~\n".join(segs)
        try:
            frame = load(text)
        except InputError:
            continue
        assert frame.schema == pl.Schema(FRAME_SCHEMA)
        assert column(frame, "source_row") == list(range(1, frame.height + 1))


def test_ten_thousand_claims_in_one_transaction_set() -> None:
    """A large file reads whole: every claim and line, none lost (its speed is measured by
    ``benchmarks/x12_and_report.py``, not asserted here)."""
    body = list(HEADER)
    for i in range(10_000):
        body += subscriber(i + 2, f"M{i}", "AETNA") + [s.replace("IVIG100", f"C{i}") for s in IVIG_CLAIM]
    frame, notices = read_x12(Path("big.837"), interchange(body), 0)
    assert frame.height == 30_000 and notices == []
    assert frame.get_column("claim_id").n_unique() == 10_000
    assert frame.get_column("load_error").is_null().all()


# --- strict mode (pyx12) ---------------------------------------------------------------------------
def test_strict_validation_accepts_a_clean_file_and_names_problems(tmp_path: Path) -> None:
    pytest.importorskip("pyx12")
    good = tmp_path / "good.837"
    good.write_text(ivig_text(), encoding="utf-8")
    assert validate_x12_strict(good) == []
    bad = tmp_path / "bad.837"
    bad.write_text(ivig_text().replace("LX*2~\nSV1*HC:96365*250*UN*1***1~\n", "LX*2~\n"), encoding="utf-8")
    problems = validate_x12_strict(bad)
    assert any("SV1" in p for p in problems), problems
    assert any("SE count" in p for p in problems), problems
    assert validate_x12_strict(tmp_path / "missing.837")[0].startswith("cannot read file")


# --- files written by others -----------------------------------------------------------------------
def _inventory() -> list[dict[str, str]]:
    """x12_inventory.txt: one 'key=value | key=value' line per external X12 file."""
    path = EXTERNAL / "x12_inventory.txt"
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("file="):
            rows.append(dict(part.strip().split("=", 1) for part in line.split(" | ") if "=" in part))
    return rows


def _valid_5010_837s() -> list[str]:
    return [
        row["file"]
        for row in _inventory()
        if row.get("st") == "837"
        and row.get("ver", "").startswith(("005010X222", "005010X223"))
        and "err" not in row
        and (EXTERNAL / row["file"]).is_file()  # the inventory also lists files that were not copied
    ]


def _read(relative: str) -> str:
    return (EXTERNAL / relative).read_text(encoding="utf-8-sig")


def _independent_lines(text: str) -> tuple[str, list[tuple[str | None, str | None, str | None]]]:
    """(method, [(CLM01, LX01, procedure code)]) counted without this project's reader.

    pyx12's loop-aware reader (2300 claim and 2400 line loops) when it has a map for the guide
    (005010X222A1, 005010X223A2); pyx12's own segment tokenizer for other 5010 guides (X222,
    X222A2, X223A3 have no pyx12 map); and, for files pyx12 refuses outright (an ISA with a
    wrongly padded field), a dozen-line splitter here. A claim with no line appears once as
    (CLM01, None, None), as the reader gives it one row.
    """
    import pyx12.error_handler
    import pyx12.errors
    import pyx12.params
    import pyx12.x12context
    import pyx12.x12file

    out: list[tuple[str | None, str | None, str | None]] = []
    try:
        reader = pyx12.x12context.X12ContextReader(
            pyx12.params.params(), pyx12.error_handler.errh_null(), io.StringIO(text)
        )
        for node in reader.iter_segments("2300"):
            if node.id != "2300":
                continue
            claim_id = node.get_value("CLM01")
            loops = list(node.select("2400"))
            if not loops:
                out.append((claim_id, None, None))
            for lx in loops:
                out.append((claim_id, lx.get_value("LX01"), lx.get_value("SV101-2") or lx.get_value("SV202-2")))
        return "pyx12 2300/2400 loops", out
    except pyx12.errors.EngineError:  # no map for this guide
        out = []
    except pyx12.errors.X12Error:
        return "tiny splitter", _tiny_split(text)
    rows: list[list] = []
    for seg in pyx12.x12file.X12Reader(io.StringIO(text)):
        sid = seg.get_seg_id()
        if sid == "CLM":
            rows.append([seg.get_value("CLM01"), None, None, 0])
        elif sid == "LX" and rows:
            if rows[-1][1] is not None or rows[-1][3]:
                rows.append([rows[-1][0], None, None, 0])
            rows[-1][1], rows[-1][3] = seg.get_value("LX01"), 1
        elif sid in ("SV1", "SV2") and rows:
            rows[-1][2] = seg.get_value("SV101-2" if sid == "SV1" else "SV202-2")
    return "pyx12 segment tokenizer", [(c, n, p) for c, n, p, _ in rows]


def _tiny_split(text: str) -> list[tuple[str | None, str | None, str | None]]:
    text = text.lstrip()
    element = text[3]
    isa16 = text.split(element, 16)[16]
    component, terminator = isa16[0], isa16[1]
    out: list[list] = []
    for raw in text.split(terminator):
        els = raw.strip().split(element)
        if els[0] == "CLM":
            out.append([els[1], None, None, False])
        elif els[0] == "LX" and out:
            if out[-1][3]:
                out.append([out[-1][0], None, None, False])
            out[-1][1], out[-1][3] = els[1], True
        elif els[0] in ("SV1", "SV2") and out:
            parts = els[1 if els[0] == "SV1" else 2].split(component)
            out[-1][2] = parts[1] if len(parts) > 1 else None
    return [(c, n, p) for c, n, p, _ in out]


@needs_shared
def test_inventory_lists_5010_837s() -> None:
    assert len(_valid_5010_837s()) >= 60


@needs_shared
@pytest.mark.parametrize("relative", _valid_5010_837s() or ["(no inventory)"])
def test_every_5010_837_parses_and_matches_pyx12(relative: str) -> None:
    if relative == "(no inventory)":
        pytest.skip("x12_inventory.txt not found in shared/external")
    pytest.importorskip("pyx12")
    text = _read(relative)
    frame = load(text, name=relative)
    assert frame.schema == pl.Schema(FRAME_SCHEMA)
    assert frame.height > 0
    method, expected = _independent_lines(text)
    got = list(
        zip(column(frame, "claim_id"), column(frame, "line_number"), column(frame, "procedure_code"), strict=True)
    )
    # An SV1 with no LX before it is a row of its own here (rejected: "has no LX before it") while
    # pyx12 puts no 2400 loop there: compare such rows on the claim only.
    got = [(c, None, None) if n is None else (c, n, p) for c, n, p in got]
    assert got == expected, f"{relative}: reader and {method} disagree"
    # Every rejected row says why; no row is rejected with an empty reason.
    assert all(r is None or r.strip() for r in column(frame, "load_error"))


@needs_shared
def test_clean_external_files_canonicalise_without_rejections() -> None:
    for name in ("clean_837p.x12", "clean_837i.x12", "L2_lx_out_of_sequence.x12", "L4_replacement_with_ref_f8.x12"):
        result = canonicalise(load((SNIP / name).read_text(encoding="utf-8"), name=name).lazy())
        assert result.rejected.height == 0, (name, result.rejected.to_dicts())
        assert result.lines.height == 2
    uhin = load(_read("x12/UHIN_x12-parser-library/837.edi"))
    assert uhin.row(0, named=True) | {"source": None} == uhin.row(0, named=True) | {
        "source": None,
        "claim_id": "1606",
        "member_id": "601239742",
        "payer": "FLORIDA DIRECT UHIN PAYER",
        "procedure_code": "90834",
        "date_of_service": "2024-08-15",  # RD8 20240815-20240820: the start
        "diagnoses": ["R69"],
        "load_error": None,
    }


@needs_shared
def test_aurelianware_drug_lines() -> None:
    base = "x12/aurelianware_cloudhealthoffice/X12837InstitutionalTests__"
    prof = load(_read(base + "ProfessionalNdcSample.x12")).row(0, named=True)
    assert (prof["procedure_code"], prof["ndc"], prof["drug_dose_mg"]) == ("J0696", "00781320495", "500")
    assert prof["payer"] is None  # the sample has no 2010BB payer loop: canonicalisation rejects it
    outpatient = load(_read(base + "OutpatientSample.x12"))
    assert column(outpatient, "procedure_code") == ["99284", "80053", "J1885"]
    assert column(outpatient, "revenue_code") == ["0450", "0300", "0636"]
    assert column(outpatient, "ndc")[2] == "00409379601"
    assert column(outpatient, "drug_dose_mg")[2] is None  # CTP 2 ML: not convertible to mg
    assert column(outpatient, "diagnoses")[0] == ["R0789"]  # APR R079 is not a line diagnosis
    inpatient = load(_read(base + "InpatientDrgSample.x12"))
    assert column(inpatient, "procedure_code") == [None, None, "27447"]  # revenue-code-only lines
    assert column(inpatient, "date_of_service") == ["2026-02-10"] * 3  # LX 2 has no DTP*472: DTP*434
    assert column(inpatient, "diagnoses")[0] == ["M1711", "I10", "E119"]  # ABK + ABF, not ABJ


# The SNIP cases this reader is meant to notice, with the reason it gives.
SNIP_READER_CASES = {
    "L2_line_without_sv1.x12": [None, "service line LX 2 (segment 23) has no SV1 (837P) or SV2 (837I) segment"],
    # The mutation keeps SV107 1:2 but leaves one HI code, so line 1 also points past it.
    "L5_icd9_qualifier.x12": [
        f"{ICD9_REASON}; diagnosis pointer 2 (SV107) points past the claim's 1 HI diagnosis code(s)",
        ICD9_REASON,
    ],
    "L4_dx_pointer_beyond_dx.x12": [None, "diagnosis pointer 3 (SV107) points past the claim's 2 HI diagnosis code(s)"],
    "L1_unknown_segment.x12": ["unknown segment 'ZZZ' at segment 20 (not part of the 5010 837 guides)"] * 2,
}
# Cases the reader passes on, that canonicalisation rejects (value rules, not structure).
SNIP_CANONICAL_CASES = {
    "L1_invalid_service_date.x12": "unparseable date_of_service '20260230'",
    "L4_prof_line_without_dos.x12": "missing required value date_of_service",
    "L5_bad_cpt_and_modifier.x12": "malformed procedure code",
}


def _snip_cases() -> dict[str, str]:
    path = SNIP / "cases.tsv"
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8", newline="") as fh:
        return {row["file"]: row["expected_rule_ids"] for row in csv.DictReader(fh, delimiter="\t")}


@needs_shared
def test_snip_cases_the_reader_notices() -> None:
    cases = _snip_cases()
    assert set(SNIP_READER_CASES) | set(SNIP_CANONICAL_CASES) | {"L1_not_x12.x12"} <= set(cases)
    with pytest.raises(InputError, match="segment 1 is not an ISA interchange header"):
        load((SNIP / "L1_not_x12.x12").read_text(encoding="utf-8"))
    for name, reasons in SNIP_READER_CASES.items():
        assert _reasons(load((SNIP / name).read_text(encoding="utf-8"), name=name)) == reasons, name
    for name, reason in SNIP_CANONICAL_CASES.items():
        rejected = canonicalise(load((SNIP / name).read_text(encoding="utf-8"), name=name).lazy()).rejected
        assert rejected.get_column("reason").str.contains(reason, literal=True).any(), (name, rejected.to_dicts())
    # Cases expected to pass (rule ids "(none)") pass here too.
    for name, rules in cases.items():
        if rules == "(none)":
            assert canonicalise(load((SNIP / name).read_text(encoding="utf-8")).lazy()).rejected.height == 0, name


# SNIP level-1/2 envelope cases: the claims are still read (and checked), and the file gets a
# notice naming the segment position (stderr, input_warnings; --strict makes it an error).
SNIP_ENVELOPE_CASES = {
    "L1_se_count_wrong.x12": "segment 26: SE01 says 17 segments, but the transaction set ST 0001 starting at "
                             "segment 3 has 24",
    "L1_ge_count_mismatch.x12": "segment 27: GE01 says 2 transaction sets",
    "L1_iea_control_mismatch.x12": "segment 28: IEA02 control number 000000999 does not match ISA13 000000101",
    "L1_duplicate_st_control.x12": "segment 27: ST02 control number 0001 is used twice",
    "L2_hl_wrong_parent.x12": "segment 13: HL02 names parent HL 7",
}


@needs_shared
def test_snip_envelope_cases_are_notices_naming_the_segment() -> None:
    assert set(SNIP_ENVELOPE_CASES) <= set(_snip_cases())
    for name, expected in SNIP_ENVELOPE_CASES.items():
        frame, notices = read_x12(Path(name), (SNIP / name).read_text(encoding="utf-8"), 0)
        assert frame.height >= 2 and frame.get_column("load_error").is_null().all(), name
        assert len(notices) == 1 and notices[0].startswith(expected), (name, notices)
    for name in ("clean_837p.x12", "clean_837i.x12"):
        assert read_x12(Path(name), (SNIP / name).read_text(encoding="utf-8"), 0)[1] == [], name


@needs_shared
def test_se01_notices_agree_with_the_inventorys_independent_count() -> None:
    """x12_inventory.txt (written by others) flags the files whose SE01 is not the segment count."""
    files = _valid_5010_837s()
    assert files
    flagged = {row["file"] for row in _inventory() if row.get("SE_count_mismatch")}
    for relative in files:
        notices = read_x12(Path(relative), _read(relative), 0)[1]
        assert any("SE01 says" in n for n in notices) == (relative in flagged), (relative, notices)


@needs_shared
def test_imsweb_expected_errors() -> None:
    """EXPECTED_ERRORS.tsv lists the imsweb structural-error files. This reader notices what it
    extracts from (no ISA, unknown segment ids, a missing HI behind SV107 pointers, claims without
    lines); loop-count and missing-N3 kinds of errors are left to --strict (pyx12). Every imsweb
    837 uses ICD-9, so every row is rejected at least for that."""
    expected = {}
    with (IMSWEB / "EXPECTED_ERRORS.tsv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            expected[row["file"]] = int(row["expected_error_count"])
    with pytest.raises(InputError, match="segment 1 is not an ISA interchange header; the file starts with 'GS"):
        load((IMSWEB / "837_5010__x12_no_isa_line.txt").read_text(encoding="utf-8"))
    for name in expected:
        reasons = _reasons(load((IMSWEB / name).read_text(encoding="utf-8"), name=name))
        assert reasons and all(reasons), name
    # (these files repeat a CLM01 in one file: the later claim also says so, test_x12_fidelity.py)
    for name in ("837_5010__x12_valid.txt", "837_5010__x12_no_errors.txt"):
        repeat = r"^claim id \S+ repeats the claim at segment \d+ .*?the lines of this claim are not checked; "
        reasons = {re.sub(repeat, "", r) for r in _reasons(load((IMSWEB / name).read_text()))}
        assert reasons == {ICD9_BK_BF}, name
    bad_ids = _reasons(load((IMSWEB / "837_5010__x12_bad_segment_identifier.txt").read_text()))
    # '' and Nd4 sit in the header and billing provider loops (both claims); NM31 in subscriber 1 only.
    assert all("unknown segment '' at segment 6" in r and "unknown segment 'Nd4' at segment 11" in r for r in bad_ids)
    assert ["unknown segment 'NM31' at segment 20" in r for r in bad_ids] == [True, False]
    no_hi = _reasons(load((IMSWEB / "837_5010__x12_segment_errors.txt").read_text()))
    assert no_hi == [
        "; ".join(f"diagnosis pointer {n} (SV107) points past the claim's 0 HI diagnosis code(s)" for n in (1, 2, 3))
    ]
    # Two claims have an SV1 but no LX (imsweb: "2400 is required but not found" twice).
    repeats = _reasons(load((IMSWEB / "837_5010__x12_missing_required_loops_mult_repeats.txt").read_text()))
    assert [next(p for p in r.split("; ") if "has no LX" in p) for r in repeats if "has no LX" in r] == [
        "SV1 at segment 33 has no LX before it",
        "SV1 at segment 59 has no LX before it",
    ]
    # --strict (pyx12) finds the structural errors for every file expected to have some.
    pytest.importorskip("pyx12")
    for name, count in expected.items():
        if count:
            assert validate_x12_strict(IMSWEB / name), name


@needs_shared
def test_4010_files_are_read_and_rejected_by_version() -> None:
    files = [
        r["file"]
        for r in _inventory()
        if r.get("st") == "837" and r.get("ver", "").startswith("004010") and r.get("CLM")
    ]
    assert files
    for relative in files:
        reasons = _reasons(load(_read(relative)))
        assert all("is not accepted; send 5010" in r for r in reasons), relative


@needs_shared
def test_non_837_transactions_raise() -> None:
    for relative in (
        "x12/azoner_pyx12/835id.x12",
        "x12/imsweb_x12-parser/837_5010__x12_999_accepted.txt",
        "x12/LinuxForHealth_x12/demo-file__demo.834",
    ):
        with pytest.raises(InputError, match="not an 837 claim file"):
            load(_read(relative))


# --- CSV -> 837 writer -------------------------------------------------------------------------------
def _writer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("csv_to_837", ROOT / "scripts" / "csv_to_837.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


CLAIMS_CSV = """\
claim_id,line_number,member_id,payer,claim_type,place_of_service,date_of_service,procedure_code,modifier_1,modifier_2,\
units,charge,diagnosis_1,diagnosis_2,ndc,drug_dose_mg
IVIG-1,1,M100,MEDICARE,professional,11,2026-01-10,J1459,JZ,,350,5250.00,D80.1,G61.81,44206-0436-10,35000
IVIG-1,2,M100,MEDICARE,professional,11,2026-01-10,96365,,,1,250,D80.1,,,
IVIG-1,3,M100,MEDICARE,professional,11,2026-01-10,96366,,,3,300.5,G61.81,,,
SCIG-1,2,M200,AETNA,,12,2026-02-03,96369,59,KX,1,200,D83.9,,,
SCIG-1,1,M200,AETNA,,2,2026-02-03,J1559,JZ,KX,80,900,D83.9,,44206045101,
HOSP-1,1,M300,MEDICARE,institutional,21,2026-03-16,96365,,,1,350,D80.0,,,
HOSP-1,2,M300,MEDICARE,institutional,21,2026-03-16,J1459,,,70,6650,D80.0,,44206043810,35000
"""


def test_csv_to_837_round_trips(tmp_path: Path) -> None:
    writer = _writer()
    source = tmp_path / "claims.csv"
    source.write_text(CLAIMS_CSV, encoding="utf-8")
    out = tmp_path / "claims.837"
    assert writer.main([str(source), "-o", str(out), "--date", "2026-01-15T12:00"]) == 0
    text = out.read_text(encoding="utf-8")
    frame = load(text)
    # A blank payer_sequence is SBR01 U (unknown), read back as none: P asserted "primary", and two
    # equal claims to two payers (a next-payer copy in the CSV) were two primaries in the 837 (probe P).
    assert "SBR*P*" not in text and "SBR*U*" in text
    assert frame.get_column("payer_sequence").null_count() == frame.height
    assert frame.get_column("load_error").null_count() == frame.height
    got = frame.select(
        "claim_id",
        "line_number",
        "member_id",
        "payer",
        "procedure_code",
        "modifiers",
        "units",
        "date_of_service",
        "diagnoses",
        "place_of_service",
        "ndc",
        "drug_dose_mg",
        "charge",
    ).rows()
    # Institutional claims go in their own 837I group: CLM05-1 facility type 11 (inpatient) reads back
    # as POS 21, SV201 carries the usual revenue code of the line's code.
    assert got[-2:] == [
        ("HOSP-1", "1", "M300", "MEDICARE", "96365", [], "1", "2026-03-16", ["D800"], "21", None, None, "350.00"),
        ("HOSP-1", "2", "M300", "MEDICARE", "J1459", [], "70", "2026-03-16", ["D800"], "21", "44206043810", "35000",
         "6650.00"),
    ]
    assert column(frame, "claim_type")[-2:] == ["institutional"] * 2
    assert column(frame, "revenue_code")[-2:] == ["0260", "0636"]
    got = got[:-2]
    assert got == [
        (
            "IVIG-1",
            "1",
            "M100",
            "MEDICARE",
            "J1459",
            ["JZ"],
            "350",
            "2026-01-10",
            ["D801", "G6181"],
            "11",
            "44206043610",
            "35000",
            "5250.00",
        ),
        ("IVIG-1", "2", "M100", "MEDICARE", "96365", [], "1", "2026-01-10", ["D801"], "11", None, None, "250.00"),
        ("IVIG-1", "3", "M100", "MEDICARE", "96366", [], "3", "2026-01-10", ["G6181"], "11", None, None, "300.50"),
        (
            "SCIG-1",
            "1",
            "M200",
            "AETNA",
            "J1559",
            ["JZ", "KX"],
            "80",
            "2026-02-03",
            ["D839"],
            "02",
            "44206045101",
            None,
            "900.00",
        ),
        (
            "SCIG-1",
            "2",
            "M200",
            "AETNA",
            "96369",
            ["59", "KX"],
            "1",
            "2026-02-03",
            ["D839"],
            "12",
            None,
            None,
            "200.00",
        ),
    ]
    assert canonicalise(frame.lazy()).rejected.height == 0
    # SE01 counts ST..SE, and the envelope is what pyx12 expects of a 005010X222A1 837P.
    segments = [s.strip() for s in text.split("~") if s.strip()]
    starts = [i for i, s in enumerate(segments) if s.startswith("ST*")]
    ends = [i for i, s in enumerate(segments) if s.startswith("SE*")]
    assert len(starts) == len(ends) == 2  # one 837P and one 837I transaction set
    for st, se in zip(starts, ends, strict=True):
        assert segments[se].split("*")[1] == str(se - st + 1)
    assert segments[-1] == "IEA*2*000000001"
    assert "CLM*HOSP-1*7000.00***11:A:1**A*Y*Y" in segments
    assert "CLM*IVIG-1*5800.50***11:B:1*Y*A*Y*Y" in segments
    assert "CTP****35000*ME" in segments
    assert "CTP****80*UN" in segments  # NDC without a dose: the line's units in UN
    if importlib.util.find_spec("pyx12") is not None:
        assert validate_x12_strict(out) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("professional,11,2026-01-10,J1459", "institutional,11,2026-01-10,J1459"), "claim_type"),
        (("institutional,21,2026-03-16,96365", "institutional,11,2026-03-16,96365"), "no facility type"),
        (
            ("M100,MEDICARE,professional,11,2026-01-10,96365", "M1*0,MEDICARE,professional,11,2026-01-10,96365"),
            "lines disagree on member_id",
        ),
        (("2026-02-03,96369", "02/03/2026,96369"), "is not YYYY-MM-DD"),
        (("G61.81,,,\n", "G61~81,,,\n"), "contains an X12 delimiter"),
    ],
)
def test_csv_to_837_refuses_what_it_cannot_write(
    tmp_path: Path, change: tuple[str, str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "claims.csv"
    source.write_text(CLAIMS_CSV.replace(*change), encoding="utf-8")
    assert _writer().main([str(source), "-o", str(tmp_path / "x.837")]) == 2
    assert message in capsys.readouterr().err


def test_a_statement_period_that_cannot_date_a_line_rejects_the_lines_it_dates() -> None:
    # DTP*434 reversed (or without an end) dates no line: LX 2 has no DTP*472 and took its start
    # silently; LX 1, dated by its own DTP*472, is read as before. A line-level RD8 already was checked.
    for period, why in (("RD8*20260302-20260301", "ends before it starts"), ("RD8*20260301", "has no end date")):
        claim = [s.replace("DTP*434*RD8*20260301-20260301", f"DTP*434*{period}") for s in INSTITUTIONAL_CLAIM]
        frame = load(interchange([*HEADER, *subscriber(2, "MBR300", "BLUE CROSS"), *claim], version="005010X223A2"))
        errors = column(frame, "load_error")
        assert errors[0] is None and why in errors[1] and "DTP*434" in errors[1], errors


@pytest.mark.parametrize(("qualifier", "words"), [("ZZ", "qualifier ZZ is not HC"), ("", "qualifier (empty) is not HC"),
                                                  ("IV", "qualifier IV is not HC")])
def test_a_code_under_another_qualifier_than_hc_is_not_read_as_hcpcs(qualifier: str, words: str) -> None:
    # SV1*ZZ:96365 and SV1*:96365 were checked as HCPCS 96365; IV (home infusion EDI codes) is another
    # code set the guide allows, not HCPCS either (probe 16B). Near miss: hc (any case) is HCPCS.
    claim = [s.replace("SV1*HC:96365*", f"SV1*{qualifier}:96365*") for s in IVIG_CLAIM]
    reasons = _reasons(load(interchange([*HEADER, *subscriber(2, "MBR100", "MEDICARE"), *claim])))
    assert reasons[0] is None and reasons[2] is None
    assert reasons[1] is not None and words in reasons[1], reasons
    assert ("the 5010 guide allows" in reasons[1]) == (qualifier != "IV")
    lower = [s.replace("SV1*HC:96365*", "SV1*hc:96365*") for s in IVIG_CLAIM]
    assert _reasons(load(interchange([*HEADER, *subscriber(2, "MBR100", "MEDICARE"), *lower]))) == [None] * 3


def test_a_space_padded_st01_is_still_an_837() -> None:
    """``ST*837 *`` (a padded ST01, as ST02 and GS08 can be): its transaction set was skipped as "not an
    837", its claims neither read, counted nor rejected, and the run passed (probe 17B). Near miss: an
    835 stays skipped."""
    text = ivig_text()
    padded = text.replace("ST*837*", "ST*837 *", 1)
    assert padded != text
    assert load(padded).height == load(text).height > 0
    assert count_x12_rows(padded, "claims.837") == count_x12_rows(text, "claims.837")
    other = text.replace("ST*837*", "ST*835*", 1)
    assert count_x12_rows(other, "claims.837") == 0
    with pytest.raises(InputError, match="not an 837 claim file"):
        load(other)


def test_a_second_service_date_on_one_line_rejects_the_line() -> None:
    """The guides allow one DTP*472 per service line; a second one with another date was dropped without
    a word and the line checked on the first (probe 17B; the CSV equivalent is rejected). Near miss: the
    same date given twice is one date."""
    text = ivig_text()
    first = "DTP*472*D8*20260110"
    assert first in text
    two = load(text.replace(first, f"{first}~\nDTP*472*D8*20260111", 1))
    reasons = two.get_column("load_error").to_list()
    assert reasons[0] is not None and "second date of service ('20260111')" in reasons[0]
    assert reasons[1:] == [None] * (len(reasons) - 1)
    same = load(text.replace(first, f"{first}~\n{first}", 1))
    assert same.get_column("load_error").is_null().all()
    one_day = load(text.replace(first, f"{first}~\nDTP*472*RD8*20260110-20260110", 1))  # (one date in two forms)
    assert one_day.get_column("load_error").is_null().all()
