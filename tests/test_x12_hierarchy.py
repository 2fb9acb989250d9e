"""Claims take the billing provider and subscriber of the parent HL02 names, not of the last HL read.

The 5010 guides build the hierarchy with HL02: a subscriber HL (22) names its billing provider HL (20),
a patient HL (23) its subscriber. A valid file may list a second provider's HL before the first
provider's next subscriber, or a second subscriber before the first subscriber's dependant. Read as
"the last HL of that level", claim A2 below took the other provider's NPI: its 96366 left the
encounter of its own 96365 and was a false "add-on without its primary" (probe N).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
from test_x12_loader import interchange

from scrubber.engine import scrub

START = ["BHT*0019*00*1*20260101*1200*CH", "NM1*41*2*SUB*****46*S", "NM1*40*2*RCV*****46*R"]


def _claim(claim_id: str, code: str) -> list[str]:
    return [f"CLM*{claim_id}*100***11:B:1*Y*A*Y*Y", "HI*ABK:D800", "LX*1", f"SV1*HC:{code}*100*UN*1***1",
            "DTP*472*D8*20260302"]


def _subscriber(hl: int, parent: int, member: str, children: bool = False) -> list[str]:
    return [f"HL*{hl}*{parent}*22*{int(children)}", "SBR*P*18*******MB", f"NM1*IL*1*DOE*JOHN****MI*{member}",
            "NM1*PR*2*MEDICARE*****PI*MEDICARE"]


def _run(tmp_path: Path, body: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    path = tmp_path / "claims.837"
    path.write_text(interchange([*START, *body]), encoding="utf-8")
    result = scrub([str(path)], select=["addon-without-primary", "duplicate-initial-infusion"])
    assert result.summary["rejected_rows"] == 0
    return result.lines, result.findings


def test_a_subscriber_after_another_providers_hl_takes_its_own_provider(tmp_path: Path) -> None:
    lines, found = _run(tmp_path, [
        "HL*1**20*1", "NM1*85*2*CLINIC ONE*****XX*1111111111",
        *_subscriber(2, 1, "SUB1"), *_claim("A1", "96365"),
        "HL*3**20*1", "NM1*85*2*CLINIC TWO*****XX*2222222222",
        *_subscriber(4, 1, "SUB1"), *_claim("A2", "96366"),  # HL02 = 1: the first clinic's
    ])
    assert dict(lines.select("claim_id", "billing_provider").rows()) == {"A1": "1111111111", "A2": "1111111111"}
    assert found.height == 0


def test_near_miss_a_subscriber_under_the_second_provider_is_that_providers(tmp_path: Path) -> None:
    lines, found = _run(tmp_path, [
        "HL*1**20*1", "NM1*85*2*CLINIC ONE*****XX*1111111111",
        *_subscriber(2, 1, "SUB1"), *_claim("A1", "96365"),
        "HL*3**20*1", "NM1*85*2*CLINIC TWO*****XX*2222222222",
        *_subscriber(4, 3, "SUB1"), *_claim("A2", "96366"),
    ])
    assert dict(lines.select("claim_id", "billing_provider").rows()) == {"A1": "1111111111", "A2": "2222222222"}
    assert found.select("claim_id", "check_id").rows() == [("A2", "addon-without-primary")]


def test_a_dependant_after_another_subscriber_is_its_own_subscribers(tmp_path: Path) -> None:
    lines, _ = _run(tmp_path, [
        "HL*1**20*1", "NM1*85*2*CLINIC*****XX*1111111111",
        *_subscriber(2, 1, "SUB1", children=True),
        *_subscriber(3, 1, "SUB2"), *_claim("B1", "96365"),
        "HL*4*2*23*0", "PAT*19", "NM1*QC*1*DOE*JANE", "DMG*D8*20150101*F", *_claim("A1", "96366"),
    ])
    members = dict(lines.select("claim_id", "member_id").rows())
    assert members["B1"] == "SUB2"
    assert members["A1"].startswith("SUB1-P")


def test_a_transaction_set_with_no_billing_provider_loop_rejects_its_claims(tmp_path: Path) -> None:
    """Probe 21B B2: a second ST whose 2000A/2010AA was left out (its subscriber's HL02 names no HL)
    read CLM-B with a blank provider, which joined CLM-A's encounter of another provider: a false
    "second initial service". Its claims are rejected (their provider and encounter cannot be told);
    CLM-A is checked as alone. Near miss: with the provider loop, no finding and nothing rejected."""
    first = [*START, "HL*1**20*1", "NM1*85*2*CLINIC ONE*****XX*1003000126", *_subscriber(2, 1, "SUB1"),
             *_claim("CLM-A", "96374")]
    provider = ["HL*1**20*1", "NM1*85*2*CLINIC TWO*****XX*1234567893"]
    # (review 21E: also a subscriber HL naming no parent, and one under another subscriber with no
    # provider above either)
    for second, rejected in ((_subscriber(2, 1, "SUB1"), 1), (_subscriber(2, 0, "SUB1"), 1),
                             ([*_subscriber(1, 0, "SUB9"), *_subscriber(2, 1, "SUB1")], 1),
                             ([*provider, *_subscriber(2, 1, "SUB1")], 0)):
        second = [seg.replace("HL*2*0*22", "HL*2**22").replace("HL*1*0*22", "HL*1**22") for seg in second]
        path = tmp_path / "claims.837"
        path.write_text(interchange(first, [*START, *second, *_claim("CLM-B", "96374")]), encoding="utf-8")
        result = scrub([str(path)])
        assert result.summary["rejected_rows"] == rejected
        assert result.findings.filter(pl.col("check_id") == "duplicate-initial-infusion").height == 0
        if rejected:
            assert "no billing provider loop (2000A/2010AA)" in result.rejected.item(0, "reason")


def test_a_subscriber_naming_a_later_parent_hl_has_its_claims_rejected(tmp_path: Path) -> None:
    """Probe 22B: subscriber HL 3 names parent HL 4, a provider listed after it. Read under the running
    context (provider 1's), CLM-B joined CLM-A's encounter: a false "second initial service". Its
    provider was not read where its claims are, so they are rejected, naming the HL; CLM-A is checked
    as alone. Near misses: the same HLs in order take provider 2 and are quiet; a parent that is no HL
    at all (tests/test_x12_loader.py, SNIP case L2) is read under the HL before it, with a notice."""
    forward = ["HL*1**20*1", "NM1*85*2*CLINIC ONE*****XX*1111111111", *_subscriber(2, 1, "SUB1"),
               *_claim("CLM-A", "96374"), *_subscriber(3, 4, "SUB1"), *_claim("CLM-B", "96374"),
               "HL*4**20*1", "NM1*85*2*CLINIC TWO*****XX*2222222222"]
    in_order = ["HL*1**20*1", "NM1*85*2*CLINIC ONE*****XX*1111111111", *_subscriber(2, 1, "SUB1"),
                *_claim("CLM-A", "96374"), "HL*4**20*1", "NM1*85*2*CLINIC TWO*****XX*2222222222",
                *_subscriber(3, 4, "SUB1"), *_claim("CLM-B", "96374")]
    for body, rejected in ((forward, 1), (in_order, 0)):
        path = tmp_path / "claims.837"
        path.write_text(interchange([*START, *body]), encoding="utf-8")
        result = scrub([str(path)])
        assert result.summary["rejected_rows"] == rejected
        assert result.findings.filter(pl.col("check_id") == "duplicate-initial-infusion").height == 0
        if rejected:
            assert result.rejected.item(0, "claim_id") == "CLM-B"
            assert "HL 4, comes later in the transaction set" in result.rejected.item(0, "reason")


def _patient(hl: int, parent: int, first: str) -> list[str]:
    return [f"HL*{hl}*{parent}*23*0", "PAT*19", f"NM1*QC*1*DOE*{first}", "DMG*D8*20100101*M"]


def test_only_the_claims_under_a_pending_hl_are_rejected(tmp_path: Path) -> None:
    """Review 22D: the rows of an HL naming a later parent ran on until the next provider or subscriber
    HL, so a good dependant listed after it (HL 5 under subscriber 2; HL 4 under an earlier subscriber)
    had its claim rejected with the other HL's reason. The rows end where an HL outside its subtree
    opens; a dependant of the pending HL stays in it."""
    provider_two = ["HL*9**20*1", "NM1*85*2*CLINIC TWO*****XX*2222222222"]
    provider_one = ["HL*1**20*1", "NM1*85*2*CLINIC ONE*****XX*1111111111"]
    cases = [
        # a dependant pending between two good ones
        (("B1",), [*provider_one, *_subscriber(2, 1, "SUB1", True), *_patient(3, 2, "ANN"), *_claim("A1", "96365"),
                  *_patient(4, 9, "BOB"), *_claim("B1", "96365"), *_patient(5, 2, "CAT"), *_claim("C1", "96365"),
                  *provider_two]),
        # a pending subscriber, its own dependant (pending with it), then an earlier subscriber's dependant
        (("B1", "B2"), [*provider_one, *_subscriber(2, 1, "SUB1", True), *_subscriber(3, 9, "SUB3", True),
                        *_claim("B1", "96365"), *_patient(4, 3, "DAN"), *_claim("B2", "96365"),
                        *_patient(5, 2, "CAT"), *_claim("C1", "96365"), *provider_two]),
        # review 22E: the pending subscriber's dependant listed after another subscriber's is its own
        (("B1", "B2"), [*provider_one, *_subscriber(2, 1, "SUB1", True), *_subscriber(3, 9, "SUB3", True),
                        *_claim("B1", "96365"), *_patient(4, 2, "CAT"), *_claim("C1", "96365"),
                        *_patient(5, 3, "DAN"), *_claim("B2", "96366"), *provider_two]),
    ]
    for rejected, body in cases:
        path = tmp_path / "claims.837"
        path.write_text(interchange([*START, *body]), encoding="utf-8")
        result = scrub([str(path)])
        assert tuple(sorted(result.rejected.get_column("claim_id").unique())) == rejected
