"""Policies are data that layer: a file extends a built-in and overrides only what differs."""

from __future__ import annotations

import datetime as dt

import pytest

from scrubber.engine import scrub
from scrubber.errors import PolicyError
from scrubber.policy import PolicySet

CLAIM = """
claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,modifier_1,units,charge,diagnosis_1,drug_dose_mg
Q1,1,M1,{payer},{pos},2026-02-10,J1459,{mod},70,7000,{dx},35000
"""


def test_builtins_follow_rules_md() -> None:
    ps = PolicySet.load()
    medicare, default = ps.policies["MEDICARE"], ps.policies["DEFAULT"]
    assert medicare.jz_required_from == dt.date(2023, 7, 1) and default.jz_required_from is None
    assert medicare.jw_required_from == dt.date(2017, 1, 1)
    assert set(medicare.jw_jz_exempt_pos) == {"21", "50", "72"}
    assert medicare.kx_pos == ("12",) and default.kx_pos == ()
    assert medicare.caps["96371"] == 1 == default.caps["96371"]
    assert ps.payer_map["MEDICARE"] == "MEDICARE"


def test_payer_names_match_case_insensitively(write_csv) -> None:
    path = write_csv(CLAIM.format(payer=" medicare ", pos="11", mod="", dx="D80.0"))
    result = scrub([str(path)], select=["missing-modifier"])
    assert result.findings.height == 1 and result.findings["policy"][0] == "MEDICARE"


def test_a_policy_can_require_jz_for_a_commercial_payer(tmp_path, write_csv) -> None:
    path = write_csv(CLAIM.format(payer="BCBS", pos="11", mod="", dx="D80.0"))
    assert scrub([str(path)], select=["missing-modifier"]).findings.height == 0
    pol = tmp_path / "bcbs.toml"
    pol.write_text('name = "BCBS"\nextends = "MEDICARE"\npayers = ["BCBS"]\n')
    assert scrub([str(path)], [str(pol)], select=["missing-modifier"]).findings.height == 1


def test_a_policy_can_replace_a_coverage_list_inline(tmp_path, write_csv) -> None:
    path = write_csv(CLAIM.format(payer="ACME", pos="11", mod="", dx="D69.3"))
    assert scrub([str(path)], select=["noncovered-diagnosis"]).findings.height == 0
    pol = tmp_path / "acme.toml"
    pol.write_text('name = "ACME"\npayers = ["ACME"]\n[coverage]\nother = ["PIDD_ONLY"]\n'
                   '[coverage.lists]\nPIDD_ONLY = ["D80.0", "D83.9"]\n')
    found = scrub([str(path)], [str(pol)], select=["noncovered-diagnosis"]).findings
    assert found.height == 1 and "PIDD_ONLY" in found["message"][0]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('name = "X"\nextends = "NOPE"\n', "NOPE"),
        ('name = "X"\n[kx]\nposition = ["12"]\n', "kx.position"),
        ('name = "X"\n[caps]\n"96371" = -1\n', "caps.96371"),
        ('name = "X"\n[coverage]\nother = ["NO_SUCH_LIST"]\n', "NO_SUCH_LIST"),
        ("payers = [\n", "invalid TOML"),
        ('extends = "MEDICARE"\n', "name"),
    ],
)
def test_bad_policies_are_errors(tmp_path, write_csv, text: str, needle: str) -> None:
    pol = tmp_path / "p.toml"
    pol.write_text(text)
    claims = write_csv(CLAIM.format(payer="ACME", pos="11", mod="", dx="D69.3"))
    with pytest.raises(PolicyError, match=needle):
        scrub([str(claims)], [str(pol)])
