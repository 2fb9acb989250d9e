"""Two dependants of one subscriber are two members (X12 2000C patient loops).

In 5010 a dependant's NM1*QC carries no id; the subscriber's id (2010BA NM1*IL) is what payers key
eligibility on. Read as every dependant's member id, two children infused on one date by one provider
were one encounter: a child's 96365 was the sibling's "second initial service", and a child's lone 96366
was anchored by the sibling's infusion (probe J). The reader names a dependant by the subscriber id,
``-P`` and six hex digits of the patient's name and birth date.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
from test_x12_loader import HEADER, interchange

from scrubber.engine import scrub


def _claim(claim_id: str, code: str, charge: str) -> list[str]:
    return [f"CLM*{claim_id}*{charge}***11:B:1*Y*A*Y*Y", "HI*ABK:D800", "LX*1", f"SV1*HC:{code}*{charge}*UN*1***1",
            "DTP*472*D8*20260302"]


def _two_children(second_code: str, second_name: str = "BEN", second_dob: str = "20170101") -> str:
    body = [
        *HEADER,
        "HL*2*1*22*1", "SBR*P**GRP******CI", "NM1*IL*1*PARENT*PAT****MI*SUB123", "DMG*D8*19800101*F",
        "NM1*PR*2*AETNA*****PI*AETNA",
        "HL*3*2*23*0", "PAT*19", "NM1*QC*1*CHILD*ANNA", "DMG*D8*20150101*F", *_claim("A1", "96365", "350"),
        "HL*4*2*23*0", "PAT*19", f"NM1*QC*1*CHILD*{second_name}", f"DMG*D8*{second_dob}*M",
        *_claim("B1", second_code, "150"),
    ]
    return interchange(body)


def _findings(tmp_path: Path, text: str) -> pl.DataFrame:
    path = tmp_path / "claims.837"
    path.write_text(text, encoding="utf-8")
    result = scrub([str(path)])
    assert result.summary["rejected_rows"] == 0
    return result.findings


def test_a_second_childs_infusion_is_not_the_first_childs_second_initial(tmp_path: Path) -> None:
    assert _findings(tmp_path, _two_children("96365")).height == 0


def test_a_childs_lone_add_on_is_not_anchored_by_a_siblings_infusion(tmp_path: Path) -> None:
    found = _findings(tmp_path, _two_children("96366"))
    assert found.select("claim_id", "check_id").rows() == [("B1", "addon-without-primary")]
    member = found.get_column("member_id")[0]
    assert member.startswith("SUB123-P") and len(member) == len("SUB123-P") + 6


def test_near_miss_the_same_child_on_two_claims_is_one_member(tmp_path: Path) -> None:
    """The same name and birth date under the subscriber: one patient, one encounter (a duplicate)."""
    found = _findings(tmp_path, _two_children("96365", second_name="ANNA", second_dob="20150101"))
    assert found.select("claim_id", "check_id").rows() == [("B1", "duplicate-initial-infusion")]
