"""X12: a stray service line (LX, SV1/SV2) where no CLM is open is a row of its own, and no other row's.

Found by a hostile-input probe: an LX/SV1 placed after an HL, before that HL's CLM, became the open
claim, so the subscriber and payer names that followed it (NM1*IL, NM1*PR, NM1*85) were read as that
stray's own 2330x loops; the intact claim after it lost its member id, payer or billing provider and was
rejected ("missing required value member_id; ... payer") or checked against no payer's policy. The
contract: every row is accounted for, and a bad row never changes the findings or acceptance of good
rows. So for each placement the stray line is exactly one rejected row whose reason names its segment
and that it is in no claim (before any CLM of its HL), every other row reads exactly as in the file
without the stray, the engine's findings are the same, and the independent count reconciles.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from test_x12_loader import HEADER, INSTITUTIONAL_CLAIM, IVIG_CLAIM, interchange, load, subscriber

from scrubber.engine import scrub
from scrubber.loaders.x12_loader import count_x12_rows

# Home IVIG for a Medicare member with a diagnosis off the LCD list: a finding (noncovered-diagnosis)
# that exists only when the claim reads its payer, so a payer taken by a stray line shows.
HOME_CLAIM = [
    "CLM*HOME1*6650***12:B:1*Y*A*Y*Y",
    "HI*ABK:G6181",
    "LX*1",
    "SV1*HC:J1459:KX:JZ*6650*UN*70***1",
    "DTP*472*D8*20260604",
    "LIN**N4*44206043810",
    "CTP****35000*ME",
]
PROFESSIONAL = [*HEADER, *subscriber(2, "MBR100", "MEDICARE"), *IVIG_CLAIM, *subscriber(3, "MBR200", "MEDICARE"),
                *HOME_CLAIM]
INSTITUTIONAL = [*HEADER, *subscriber(2, "MBR300", "BLUE CROSS"), *INSTITUTIONAL_CLAIM]
INSTITUTIONAL_GUIDE = "005010X223A2"

STRAY_LX = "LX*9"
STRAY_SV1 = "SV1*HC:96365*350*UN*1***1"
STRAY_SV2 = "SV2*0260*HC:96365*350*UN*1"
# Columns that hold where a row is in the file: inserting segments moves them, nothing else may change.
_POSITIONAL = ("row_id", "source_row", "source_location")
_FINDING = ("claim_id", "line_number", "check_id", "severity", "member_id", "payer", "billing_provider",
            "procedure_code", "message")


def _insert(body: list[str], anchor: str, stray: list[str], *, after: bool = True) -> list[str]:
    """``body`` with ``stray`` right after (or before) the last segment equal to ``anchor`` (in
    :data:`PROFESSIONAL`, the second subscriber's: HOME1's loop)."""
    at = max(i for i, s in enumerate(body) if s == anchor) + after
    return [*body[:at], *stray, *body[at:]]


def _position(text: str, segment: str) -> int:
    """The segment position (1-based, as the reader counts) of the only segment equal to ``segment``."""
    segments = [s.strip() for s in text.split("~") if s.strip()]
    (index,) = [i for i, s in enumerate(segments) if s == segment]
    return index + 1


def _scrub(tmp_path: Path, name: str, text: str) -> tuple[list[tuple], pl.DataFrame]:
    path = tmp_path / f"{name}.837"
    path.write_text(text, encoding="utf-8")
    result = scrub([str(path)])
    return sorted(result.findings.select(_FINDING).iter_rows()), result.rejected


def _assert_stray_is_its_own_row(
    tmp_path: Path, clean: str, stray_text: str, stray_segment: str, hl: str | None
) -> None:
    """The one stray line is rejected alone, naming its segment (and the HL it follows); every other
    row, the findings and the count are those of ``clean``."""
    frame, expected = load(stray_text), load(clean)
    assert frame.height == expected.height + 1 == count_x12_rows(stray_text, "x")
    # The good rows first: member id, payer, billing provider, lines, no reason; as in the clean file.
    good = frame.filter(pl.col("claim_id").is_not_null()).drop(_POSITIONAL)
    assert good.to_dicts() == expected.drop(_POSITIONAL).to_dicts()
    findings, rejected = _scrub(tmp_path, "stray", stray_text)
    clean_findings, clean_rejected = _scrub(tmp_path, "clean", clean)
    assert clean_rejected.height == 0
    assert findings == clean_findings
    # Then the stray: one row, rejected for being in no claim, naming its segment and the HL it follows.
    (stray,) = frame.filter(pl.col("claim_id").is_null()).to_dicts()
    position = _position(stray_text, stray_segment)
    sid = stray_segment.split("*")[0]
    where = (f"after the HL at segment {_position(stray_text, hl)}, before any CLM of that HL" if hl
             else "before any HL or CLM of its transaction set")
    assert stray["load_error"].startswith(
        f"{sid} at segment {position} has no CLM claim segment before it: the service line is in no claim ({where})"
    ), stray["load_error"]
    assert stray["value_error"] is None  # no SV107 complaint: a stray line has no claim's HI codes to point into
    assert rejected.get_column("reason").to_list() == [stray["load_error"]]


# (name, anchor segment, stray inserted after it (else before), stray segments, segment the reason names,
# HL the stray follows) per placement.
_P_HL = "HL*3*1*22*0"
_PROFESSIONAL_PLACEMENTS = [
    ("lx-sv1-right-after-subscriber-hl", _P_HL, True, [STRAY_LX, STRAY_SV1], STRAY_LX, _P_HL),
    ("sv1-without-lx-after-subscriber-hl", _P_HL, True, [STRAY_SV1], STRAY_SV1, _P_HL),
    ("lx-without-sv1-after-subscriber-hl", _P_HL, True, [STRAY_LX], STRAY_LX, _P_HL),
    ("whole-line-loop-after-subscriber-hl", _P_HL, True,
     [STRAY_LX, STRAY_SV1, "DTP*472*D8*20260605", "LIN**N4*00944270005", "CTP****40000*ME"], STRAY_LX, _P_HL),
    ("lx-between-sbr-and-nm1-il", "SBR*P*18*******CI", True, [STRAY_LX, STRAY_SV1], STRAY_LX, _P_HL),
    ("lx-between-nm1-il-and-nm1-pr", "DMG*D8*19600101*F", True, [STRAY_LX, STRAY_SV1], STRAY_LX, _P_HL),
    ("lx-after-nm1-pr-before-clm", HOME_CLAIM[0], False, [STRAY_LX, STRAY_SV1], STRAY_LX, _P_HL),
    ("lx-after-billing-provider-hl-before-nm1-85", "HL*1**20*1", True, [STRAY_LX, STRAY_SV1], STRAY_LX,
     "HL*1**20*1"),
    ("lx-before-any-hl", "HL*1**20*1", False, [STRAY_LX, STRAY_SV1], STRAY_LX, None),
]


@pytest.mark.parametrize(
    ("anchor", "after", "stray", "named", "hl"),
    [p[1:] for p in _PROFESSIONAL_PLACEMENTS],
    ids=[p[0] for p in _PROFESSIONAL_PLACEMENTS],
)
def test_stray_837p_line_is_rejected_alone(tmp_path: Path, anchor: str, after: bool, stray: list[str], named: str,
                                           hl: str | None) -> None:
    """837P: whichever subscriber/billing-provider segment the stray line sits before, the claims after it
    keep their member id, payer and billing provider (HOME1's Medicare finding included)."""
    clean = interchange(PROFESSIONAL)
    text = interchange(_insert(PROFESSIONAL, anchor, stray, after=after))
    _assert_stray_is_its_own_row(tmp_path, clean, text, named, hl)


_I_HL = "HL*2*1*22*0"
_INSTITUTIONAL_PLACEMENTS = [
    ("lx-sv2-right-after-subscriber-hl", _I_HL, [STRAY_LX, STRAY_SV2], STRAY_LX),
    ("sv2-without-lx-between-sbr-and-nm1-il", "SBR*P*18*******CI", [STRAY_SV2], STRAY_SV2),
    ("lx-sv2-between-nm1-il-and-nm1-pr", "DMG*D8*19600101*F", [STRAY_LX, STRAY_SV2], STRAY_LX),
]


@pytest.mark.parametrize(
    ("anchor", "stray", "named"),
    [p[1:] for p in _INSTITUTIONAL_PLACEMENTS],
    ids=[p[0] for p in _INSTITUTIONAL_PLACEMENTS],
)
def test_stray_837i_line_is_rejected_alone(tmp_path: Path, anchor: str, stray: list[str], named: str) -> None:
    """837I: the same for an SV2 line loop; OPIVIG300 keeps BLUE CROSS, MBR300 and its finding."""
    clean = interchange(INSTITUTIONAL, version=INSTITUTIONAL_GUIDE)
    text = interchange(_insert(INSTITUTIONAL, anchor, stray), version=INSTITUTIONAL_GUIDE)
    _assert_stray_is_its_own_row(tmp_path, clean, text, named, _I_HL)


def test_two_stray_lines_are_two_rows_each_naming_its_own_segment() -> None:
    """Each stray line's reason names its own segment (not the first stray's), and both are counted."""
    stray = [STRAY_LX, STRAY_SV1, "LX*8", "SV1*HC:96366*120*UN*1***1"]
    text = interchange(_insert(PROFESSIONAL, _P_HL, stray))
    frame = load(text)
    assert frame.height == load(interchange(PROFESSIONAL)).height + 2 == count_x12_rows(text, "x")
    home = frame.filter(pl.col("claim_id") == "HOME1").row(0, named=True)
    assert (home["member_id"], home["payer"], home["load_error"]) == ("MBR200", "MEDICARE", None)
    bad = frame.filter(pl.col("load_error").is_not_null())
    hl = _position(text, _P_HL)
    assert bad.get_column("load_error").to_list() == [
        f"LX at segment {_position(text, lx)} has no CLM claim segment before it: the service line is in no claim "
        f"(after the HL at segment {hl}, before any CLM of that HL)"
        for lx in (STRAY_LX, "LX*8")
    ]


def test_a_claims_own_lx_before_its_clm_is_rejected_and_the_rest_of_the_claim_kept() -> None:
    """A claim's last line loop written before its CLM (same HL): that line is rejected alone, naming its
    segment; the claim keeps its member, payer and its other lines."""
    ivig = IVIG_CLAIM[:-3]  # IVIG100 lines 1 and 2; line 3 (96366) goes before the CLM
    line3 = IVIG_CLAIM[-3:]
    body = [*HEADER, *subscriber(2, "MBR100", "MEDICARE"), *line3, *ivig]
    text = interchange(body)
    frame = load(text)
    assert frame.height == 3 == count_x12_rows(text, "x")
    stray, *claim = frame.to_dicts()
    assert stray["load_error"] == (
        f"LX at segment {_position(text, 'LX*3')} has no CLM claim segment before it: the service line is in no "
        f"claim (after the HL at segment {_position(text, 'HL*2*1*22*0')}, before any CLM of that HL)"
    )
    assert stray["procedure_code"] == "96366" and stray["claim_id"] is None
    assert [(r["claim_id"], r["member_id"], r["payer"], r["load_error"]) for r in claim] == [
        ("IVIG100", "MBR100", "MEDICARE", None)
    ] * 2
    expected = load(interchange([*HEADER, *subscriber(2, "MBR100", "MEDICARE"), *ivig])).drop(_POSITIONAL)
    assert frame.slice(1).drop(_POSITIONAL).to_dicts() == expected.to_dicts()


DEPENDANT = "MBR200-Pab5e62"  # sha256 of "DOE|JIMMY||" (NM1*QC, no DMG), six hex digits


def test_near_miss_two_claims_under_one_hl_with_several_line_loops_read_clean(tmp_path: Path) -> None:
    """Not a stray: two claims under one subscriber HL, each with several LX loops (DTP, LIN, CTP, a line
    NM1*82), and a dependant's HL: every line is read in its claim, none rejected."""
    second = [s.replace("IVIG100", "IVIG101") for s in IVIG_CLAIM]
    body = [
        *PROFESSIONAL[:-len(HOME_CLAIM)],
        *HOME_CLAIM[:5],
        "NM1*82*1*NURSE*ANN****XX*1497758544",
        *HOME_CLAIM[5:],
        "LX*2",
        "SV1*HC:96365*250*UN*1***1",
        "DTP*472*D8*20260604",
        *second,
        "HL*4*3*23*0",
        "PAT*19",
        "NM1*QC*1*DOE*JIMMY",
        *[s.replace("IVIG100", "IVIG102") for s in IVIG_CLAIM],
    ]
    text = interchange(body)
    frame = load(text)
    assert frame.height == 3 + 2 + 3 + 3 == count_x12_rows(text, "x")
    assert frame.get_column("load_error").null_count() == frame.height
    assert frame.get_column("value_error").null_count() == frame.height
    assert frame.select("claim_id", "line_number", "member_id", "payer").rows() == [
        ("IVIG100", "1", "MBR100", "MEDICARE"), ("IVIG100", "2", "MBR100", "MEDICARE"),
        ("IVIG100", "3", "MBR100", "MEDICARE"), ("HOME1", "1", "MBR200", "MEDICARE"),
        ("HOME1", "2", "MBR200", "MEDICARE"), ("IVIG101", "1", "MBR200", "MEDICARE"),
        ("IVIG101", "2", "MBR200", "MEDICARE"), ("IVIG101", "3", "MBR200", "MEDICARE"),
        # IVIG102 is the dependant's (HL 23: the subscriber id and a code of the patient's name).
        ("IVIG102", "1", DEPENDANT, "MEDICARE"), ("IVIG102", "2", DEPENDANT, "MEDICARE"),
        ("IVIG102", "3", DEPENDANT, "MEDICARE"),
    ]
    assert frame.get_column("rendering_provider").to_list()[3] == "1497758544"
    _, rejected = _scrub(tmp_path, "near_miss", text)
    assert rejected.height == 0
