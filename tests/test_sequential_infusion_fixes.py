"""What duplicate-initial-infusion tells the biller to bill instead of a second initial infusion.

CPT reports a sequential infusion once ("Report 96367 only once per sequential infusion of same
infusate mix"; 96417 likewise), its later hours with the add-on hour code (96366, 96415). A second
96365 billed x3 for one documented 180-minute infusion after 96413 is 96367 x1 and 96366 x2, never
"96367 x3" (the old fix, which a corrected claim then passed). A subcutaneous infusion beside an IV
initial service is given at a site of its own: XS (or 59), never "delete the line".
"""

from __future__ import annotations

import csv
import io
from importlib import resources

import polars as pl
import pytest

from scrubber.engine import scrub

HEADER = ("claim_id,line_number,member_id,payer,claim_type,place_of_service,date_of_service,procedure_code,units,"
          "charge,diagnosis_1,revenue_code,infusion_start,infusion_stop")
D = "2026-06-10"


def _line(claim: str, n: int, code: str, units: int, start: str = "", stop: str = "", payer: str = "MEDICARE",
          kind: str = "professional") -> str:
    times = [f"{D}T{start}" if start else "", f"{D}T{stop}" if stop else ""]
    revenue = "0260" if kind == "institutional" else ""
    return ",".join([claim, str(n), f"M{claim}", payer, kind, "11" if kind == "professional" else "22", D, code,
                     str(units), "100", "A41.9", revenue, *times])


CLAIMS = [
    _line("S1", 1, "96413", 1, "09:00", "10:00"), _line("S1", 2, "96365", 3, "10:00", "13:00"),
    _line("S2", 1, "96413", 1, "09:00", "10:00"), _line("S2", 2, "96413", 2, "10:00", "12:00"),
    _line("S3", 1, "96365", 1, "09:00", "10:00", kind="institutional"),
    _line("S3", 2, "96365", 2, "10:00", "12:00", kind="institutional"),
    # 91 minutes billed x1: its hour is named too (96367 x1 and 96366 x1); 90 minutes: 96367 x1 only.
    _line("S4", 1, "96413", 1, "09:00", "10:00", payer="AETNA"),
    _line("S4", 2, "96365", 1, "10:00", "11:31", payer="AETNA"),
    _line("S5", 1, "96413", 1, "09:00", "10:00", payer="AETNA"),
    _line("S5", 2, "96365", 1, "10:00", "11:30", payer="AETNA"),
    # No times: once, and the hours as the record documents them.
    _line("S6", 1, "96413", 1), _line("S6", 2, "96365", 3),
    # An infusion of 15 minutes or less billed x2 after 96413: a push (the time rules), not 96367 and hours.
    _line("S7", 1, "96413", 1, "09:00", "10:00"), _line("S7", 2, "96365", 2, "10:00", "10:10"),
    # The SC infusion beside an IV initial: XS on it.
    _line("S8", 1, "96365", 1, "09:00", "11:00"), _line("S8", 2, "96369", 1),
]


@pytest.fixture(scope="module")
def found(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    path = tmp_path_factory.mktemp("sequential") / "claims.csv"
    path.write_text("\n".join([HEADER, *CLAIMS]) + "\n", encoding="utf-8")
    result = scrub([str(path)], select=["duplicate-initial-infusion"])
    assert result.summary["rejected_rows"] == 0
    rows = result.findings.filter(pl.col("line_number") == 2).select(
        "claim_id", "reason", "message", "suggested_fix", "appeal_text").to_dicts()
    assert len(rows) == len({r["claim_id"] for r in rows})
    return {r["claim_id"]: r for r in rows}


@pytest.mark.parametrize(("claim", "supported", "was"), [
    ("S1", "96367 x1 and 96366 x2", "96367 x3"),
    ("S2", "96417 x1 and 96415 x1", "96417 x2"),
    ("S3", "96367 x1 and 96366 x1", "96367 x2"),
    ("S4", "96367 x1 and 96366 x1", None),
])
def test_a_timed_second_infusion_is_one_sequential_code_and_its_hours(
        found: dict[str, dict[str, str]], claim: str, supported: str, was: str | None) -> None:
    f = found[claim]
    assert f["reason"] == "second_initial_hours_timed"
    code = supported.split()[0]
    assert f["suggested_fix"].startswith(f"Report claim {claim} line 2 as {code} x1 instead of ")
    assert f"support {supported} in all" in f["suggested_fix"]
    assert supported in f["appeal_text"] and supported in f["message"]
    if was:
        assert was not in f["suggested_fix"] and was not in f["appeal_text"]


def test_ninety_minutes_names_no_hour(found: dict[str, dict[str, str]]) -> None:
    f = found["S5"]
    assert f["reason"] == "second_initial"
    assert "as 96367 x1 instead of 96365" in f["suggested_fix"] and "96366" not in f["suggested_fix"]


def test_an_untimed_second_infusion_billed_x3_is_once_and_the_documented_hours(
        found: dict[str, dict[str, str]]) -> None:
    f = found["S6"]
    assert f["reason"] == "second_initial_units"
    assert "as 96367 x1 instead of 96365 x3" in f["suggested_fix"]
    assert "additional hours as 96366 as the documented infusion minutes support" in f["suggested_fix"]
    assert "96367 x3" not in f["suggested_fix"] + f["appeal_text"]


def test_a_short_second_infusion_is_still_the_push(found: dict[str, dict[str, str]]) -> None:
    f = found["S7"]
    assert f["reason"] == "second_initial"
    assert "as 96375" in f["suggested_fix"] and "96367" not in f["suggested_fix"]


def test_the_sc_infusion_beside_an_iv_initial_takes_xs_not_deletion(found: dict[str, dict[str, str]]) -> None:
    f = found["S8"]
    assert f["reason"] == "second_initial_no_subsequent"
    assert f["suggested_fix"].startswith("Append XS (or 59) to claim S8 line 2 (96369)")
    for words in (f["suggested_fix"], f["appeal_text"], f["message"]):
        assert "delete" not in words and "removed" not in words
        assert "IV site for 96369" not in words


def test_no_subsequent_code_only_between_sc_and_iv_initial_services() -> None:
    """second_initial_no_subsequent's words say "a subcutaneous infusion and an IV service": true only while
    every pair of initial codes (the one that stays first in the hierarchy) without a subsequent code of
    the other after it is SC beside IV."""
    text = resources.files("scrubber.data").joinpath("admin_codes.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    primaries = {r["code"]: set(r["allowed_primaries"].split()) for r in rows}
    initial = [r for r in rows if r["role"] == "initial" and r["code"] != "96416"]
    for kept in initial:
        for extra in initial:
            if int(kept["initial_rank"]) > int(extra["initial_rank"]):
                continue  # (the higher in the hierarchy stays initial)
            subsequent = extra["subsequent_code"]
            if subsequent and kept["code"] in primaries.get(subsequent, set()):
                continue
            routes = {kept["documented_routes"] == "SC", extra["documented_routes"] == "SC"}
            assert routes == {True, False}, (kept["code"], extra["code"])


def test_a_second_initial_on_the_next_date_of_a_hospital_claim_offers_the_separate_visit(tmp_path) -> None:
    """Consecutive dates of a hospital claim whose documented times are under 12 hours apart are one
    encounter; the fix says that a return visit the next day keeps its initial service, and that XE
    (the same day) is no remedy across dates (probe O). Near misses: the same day gets no such note;
    untimed days each billing their own initial service are two visits, quiet (probe X)."""
    header = ("claim_id,line_number,member_id,payer,claim_type,place_of_service,date_of_service,procedure_code,units,"
              "charge,diagnosis_1,revenue_code,infusion_start,infusion_stop")
    rows = ["H1,1,MH1,MEDICARE,institutional,22,2026-09-14,96365,1,450,G61.0,0260,2026-09-14T20:01,2026-09-14T21:01",
            "H1,2,MH1,MEDICARE,institutional,22,2026-09-15,96365,1,450,G61.0,0260,2026-09-15T09:00,2026-09-15T10:00",
            "H2,1,MH2,MEDICARE,institutional,22,2026-09-14,96365,1,450,G61.0,0260,,",
            "H2,2,MH2,MEDICARE,institutional,22,2026-09-14,96365,1,450,G61.0,0260,,",
            "H3,1,MH3,MEDICARE,institutional,22,2026-09-14,96365,1,450,G61.0,0260,,",
            "H3,2,MH3,MEDICARE,institutional,22,2026-09-15,96365,1,450,G61.0,0260,,",
            # The outranked line on the earlier date (hydration the night before the 96365 that stays
            # initial): the return is still on the later date (probe 20A named the first day).
            "H4,1,MH4,MEDICARE,institutional,22,2026-09-14,96360,1,200,E86.0,0260,2026-09-14T20:00,2026-09-14T21:00",
            "H4,2,MH4,MEDICARE,institutional,22,2026-09-15,96365,1,450,E86.0,0260,2026-09-15T08:00,2026-09-15T09:00"]
    path = tmp_path / "claims.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    found = scrub([str(path)], select=["duplicate-initial-infusion"]).findings
    fixes = dict(found.select("claim_id", "suggested_fix").rows())
    assert "If the record shows the patient left and came back on 2026-09-15, that is a separate visit and this " \
           "initial service stands (document both visits' times; XE is for a separate encounter the same day)." \
           in fixes["H1"]
    assert "left and came back" not in fixes["H2"]
    assert "H3" not in fixes
    assert "came back on 2026-09-15, that is a separate visit" in fixes["H4"], fixes["H4"]


def test_a_concurrent_infusion_takes_its_own_additional_hours_with_it(tmp_path) -> None:
    """A 96365 documented inside the 96413 that stays initial is 96368 x1, which CPT reports without
    additional hours: the 96366 that only it supports goes too, in the same finding and money, and
    unit-miscalculation does not also ask to "bill x1" of it (probe 17A: the hours stayed billed and
    surfaced only on the corrected claim). Near misses: a kept 96365 of the same family owns the
    hours (C2), and a sequential 96365 is 96367 whose hours stay (C3)."""
    rows = [_line("C1", 1, "96413", 1, "09:00", "12:00"), _line("C1", 2, "96415", 2),
            _line("C1", 3, "96365", 1, "09:30", "11:45"), _line("C1", 4, "96366", 3),
            _line("C2", 1, "96365", 1, "09:00", "11:00"), _line("C2", 2, "96366", 1),
            _line("C2", 3, "96365", 1, "09:30", "10:30"),
            _line("C3", 1, "96413", 1, "09:00", "10:00"), _line("C3", 2, "96365", 1, "10:00", "12:15"),
            _line("C3", 3, "96366", 1)]
    path = tmp_path / "claims.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    result = scrub([str(path)], select=["duplicate-initial-infusion", "unit-miscalculation", "units-over-mue"])
    found = {(c, n): (check, reason, fix, risk) for c, n, check, reason, fix, risk in result.findings.select(
        "claim_id", "line_number", "check_id", "reason", "suggested_fix", "charge_at_risk").rows()}
    check, reason, fix, risk = found[("C1", 3)]
    assert (check, reason) == ("duplicate-initial-infusion", "second_initial_concurrent")
    assert "Delete 96366 x3 on claim C1 line 4 too" in fix and risk == 200.0  # (its $100 and the hours' $100)
    assert ("C1", 4) not in found  # (x3 for 135 minutes was also "bill x1" here)
    assert found[("C2", 3)][1] == "second_initial_concurrent" and "Delete" not in found[("C2", 3)][2]
    assert found[("C2", 3)][3] == 100.0 and ("C2", 2) not in found
    assert found[("C3", 2)][1] == "second_initial_hours_timed" and ("C3", 3) not in found


def test_a_concurrent_infusions_hours_on_another_claim_stay_that_claims(tmp_path) -> None:
    """The 96366 of the encounter is billed on another claim (Q2): the concurrent line's corrected claim
    cannot remove it, so it is not in that finding's fix or money; the time rules report it on its own
    claim (probe 17D: Q2 went out clean while Q1's finding carried its $100)."""
    rows = [_line("Q1", 1, "96413", 1, "09:00", "12:00"), _line("Q1", 2, "96365", 1, "09:30", "11:45")]
    rows.append(_line("Q2", 1, "96366", 2).replace(",MQ2,", ",MQ1,"))
    path = tmp_path / "claims.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    result = scrub([str(path)], select=["duplicate-initial-infusion", "unit-miscalculation"])
    found = {(c, n): (check, fix, risk) for c, n, check, fix, risk in result.findings.select(
        "claim_id", "line_number", "check_id", "suggested_fix", "charge_at_risk").rows()}
    assert "Delete" not in found[("Q1", 2)][1] and found[("Q1", 2)][2] == 100.0
    assert found[("Q2", 1)][0] == "unit-miscalculation" and found[("Q2", 1)][2] > 0



def test_a_concurrent_infusions_minutes_ask_for_no_more_hours(tmp_path) -> None:
    """96365 09:00-11:40 with 96366 x2, and a second 96365 09:30-11:30 inside it: the second is 96368
    without hours; its 120 minutes were also counted as a sequential infusion's, and unit-miscalculation
    asked to "bill 96366 x3" beside that fix (probe 17F). Near miss: the same second infusion from 11:40
    on (sequential: 96367, whose hours count) leaves the hours to the time rules."""
    rows = [_line("C8", 1, "96365", 1, "09:00", "11:40"), _line("C8", 2, "96366", 2),
            _line("C8", 3, "96365", 1, "09:30", "11:30"),
            _line("C9", 1, "96365", 1, "09:00", "11:40"), _line("C9", 2, "96366", 2),
            _line("C9", 3, "96365", 1, "11:40", "13:40")]
    path = tmp_path / "claims.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    result = scrub([str(path)], select=["duplicate-initial-infusion", "unit-miscalculation"])
    found = result.findings.select("claim_id", "line_number", "check_id", "reason").rows()
    assert ("C8", 3, "duplicate-initial-infusion", "second_initial_concurrent") in found
    assert not [f for f in found if f[0] == "C8" and f[2] == "unit-miscalculation"]
    assert ("C9", 3, "duplicate-initial-infusion", "second_initial_hours_timed") in found


def _member(line: str, member: str) -> str:
    """``line`` billed for ``member`` (claims of one encounter: the same member, date and provider)."""
    parts = line.split(",")
    parts[2] = member
    return ",".join(parts)


def test_a_concurrent_infusion_on_a_claim_of_its_own_takes_that_claims_hours(tmp_path) -> None:
    """K1 bills the kept 96365 09:00-11:40 and its 96366 x2 (right); K2, another claim of the encounter,
    a 96365 09:30-11:00 inside it and 96366 x1. K2's line is 96368 without hours: its 96366 goes in the
    same finding, and the time rules do not put "x3 instead of x2" on K1's correct line (probe 17F).
    With K1 billing x3 (L1, L2) the time rules still report K1's own excess, naming K1's line only.
    Near misses: M2's second infusion runs 08:30-12:00, beyond the kept one (its time is the chain's):
    its hours stay for the time rules; N1's kept infusion bills no hours of its own claim, so N2's are
    its hours, billed on the other claim of the encounter."""
    rows = [_line("K1", 1, "96365", 1, "09:00", "11:40"), _line("K1", 2, "96366", 2),
            _member(_line("K2", 1, "96365", 1, "09:30", "11:00"), "MK1"), _member(_line("K2", 2, "96366", 1), "MK1"),
            _line("L1", 1, "96365", 1, "09:00", "11:40"), _line("L1", 2, "96366", 3),
            _member(_line("L2", 1, "96365", 1, "09:30", "11:00"), "ML1"), _member(_line("L2", 2, "96366", 1), "ML1"),
            _line("M1", 1, "96365", 1, "09:00", "11:40"), _line("M1", 2, "96366", 2),
            _member(_line("M2", 1, "96365", 1, "08:30", "12:00"), "MM1"), _member(_line("M2", 2, "96366", 2), "MM1"),
            _line("N1", 1, "96365", 1, "09:00", "12:00"),
            _member(_line("N2", 1, "96365", 1, "09:30", "10:30"), "MN1"), _member(_line("N2", 2, "96366", 2), "MN1")]
    path = tmp_path / "claims.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    result = scrub([str(path)], select=["duplicate-initial-infusion", "unit-miscalculation", "units-over-mue"])
    found = {(c, n): (check, reason, message, fix, risk) for c, n, check, reason, message, fix, risk in
             result.findings.select("claim_id", "line_number", "check_id", "reason", "message", "suggested_fix",
                                    "charge_at_risk").rows()}
    check, reason, _, fix, risk = found[("K2", 1)]
    assert (check, reason) == ("duplicate-initial-infusion", "second_initial_concurrent")
    assert "Delete 96366 x1 on claim K2 line 2 too" in fix and risk == 200.0
    assert not [k for k in found if k[0] in ("K1", "K2") and k != ("K2", 1)]
    # K1's own excess: x3 billed on L1 for 160 minutes, not x4 over two claims.
    assert "Delete 96366 x1 on claim L2 line 2 too" in found[("L2", 1)][3]
    check, reason, message, fix, risk = found[("L1", 2)]
    assert (check, reason) == ("unit-miscalculation", "hours_over") and risk == pytest.approx(100 / 3, abs=0.01)
    assert "billed x3 for 2026-06-10 (claim L1 line 2), but" in message
    assert fix == "Bill 96366 x2 instead of x3 in all for 2026-06-10 (claim L1 line 2)."
    # Beyond the kept infusion: M2's hours are not deleted with the recode (the time rules judge them).
    assert "Delete" not in found[("M2", 1)][3] and found[("M2", 1)][4] == 100.0
    # The kept 180-minute infusion's claim bills no hours: N2's 96366 x2 are its hours, not the
    # concurrent one's (probe 18D: deleting them lost two payable units).
    assert "Delete" not in found[("N2", 1)][3] and found[("N2", 1)][4] == 100.0 and ("N2", 2) not in found


def test_hours_left_unbilled_beside_a_concurrent_infusion_leave_out_only_its_own_hours(tmp_path) -> None:
    # 96365 09:00-12:00 with its 96366 documented 12:00-14:00 (300 minutes: 96366 x4), a 96367 of 60
    # minutes inside it (96368, no hours of its own). The time rules give the timed 96366 to the latest
    # infusion started, the 96367: its episode's hours are the kept infusion's, not the concurrent one's.
    # Asked "x2, not counted: 2 hour(s) of the concurrent infusion", then x4 once the 96368 was billed
    # (review 23G); 96367 09:30-11:45 (135 minutes, one hour of its own) leaves x3.
    rows = [_line("K1", 1, "96365", 1, "09:00", "12:00"), _line("K1", 2, "96367", 1, "09:30", "10:30"),
            _line("K1", 3, "96366", 1, "12:00", "14:00"),
            _line("K2", 1, "96365", 1, "09:00", "12:00"), _line("K2", 2, "96367", 1, "09:30", "11:45"),
            _line("K2", 3, "96366", 1, "12:00", "13:00")]
    path = tmp_path / "k.csv"
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    found = scrub([str(path)]).findings.to_dicts()
    under = {f["claim_id"]: f["message"] for f in found if f["reason"] == "hours_under"}
    assert "supports x4: 96365 line 1 + 96366 line 3, 09:00-14:00 = 300 min" in under["K1"], under["K1"]
    assert "supports x3" in under["K2"], under["K2"]
    assert "not counted: 96367 x1 on claim K2 line 2, the concurrent infusion" in under["K2"], under["K2"]


def _settled(tmp_path, rows: list[str], fixed: list[str]) -> tuple[dict, dict]:
    """Findings by (claim, reason) for ``rows``, then for ``fixed`` (the claim as the fixes say)."""
    out = []
    for name, lines in (("claims.csv", rows), ("fixed.csv", fixed)):
        path = tmp_path / name
        path.write_text(HEADER + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
        out.append({(f["claim_id"], f["reason"]): f for f in scrub([str(path)]).findings.to_dicts()})
    return out[0], out[1]


def test_a_timed_addon_continuing_a_concurrent_infusion_inside_the_kept_one_is_no_hour_to_ask(tmp_path) -> None:
    """Review 24C D1 (a): 96365 09:00-12:00, a 96367 09:30-10:30 inside it (96368, no hours) and 96366
    documented 10:30-11:30, which the time rules chain to the 96367. Asked "bill 96366 x3" beside the
    recode, then "x2 instead of x3" once both fixes were applied: the kept 180 minutes support x2."""
    rows = [_line("T1", 1, "96365", 1, "09:00", "12:00"), _line("T1", 2, "96367", 1, "09:30", "10:30"),
            _line("T1", 3, "96366", 1, "10:30", "11:30")]
    fixed = [rows[0], _line("T1", 2, "96368", 1, "09:30", "10:30"), _line("T1", 3, "96366", 2, "10:30", "11:30")]
    first, second = _settled(tmp_path, rows, fixed)
    assert "sequential_concurrent" in {r for _, r in first}
    under = first[("T1", "hours_under")]
    assert under["suggested_fix"].startswith("Bill 96366 x2 instead of x1"), under["suggested_fix"]
    assert "96365 line 1 + 96366 line 3, 09:00-12:00 = 180 min, supports 2" in under["message"]
    assert "not counted: 96367 x1 on claim T1 line 2, the concurrent infusion" in under["message"]
    assert not second, second  # the fixed claim settles


def test_hours_over_beside_a_concurrent_recode_leave_out_its_hours(tmp_path) -> None:
    """Review 24C D1 (b): 96365 09:00-12:00, a 96367 09:30-11:30 inside it and 96366 x4: "supports x3"
    ($110 at risk) where billed over, "supports x2" where billed under: one record, two answers. The
    concurrent infusion's hours are left out both ways: x2, two units ($220) at risk. Near miss: the
    same with the 96367 from 12:00 on (sequential, its hour counts): x3."""
    rows = [_line("H1", 1, "96365", 1, "09:00", "12:00"), _line("H1", 2, "96367", 1, "09:30", "11:30"),
            _line("H1", 3, "96366", 4),
            _line("H2", 1, "96365", 1, "09:00", "12:00"), _line("H2", 2, "96367", 1, "12:00", "14:00"),
            _line("H2", 3, "96366", 4)]
    fixed = [rows[0], _line("H1", 2, "96368", 1, "09:30", "11:30"), _line("H1", 3, "96366", 2)]
    first, second = _settled(tmp_path, rows, fixed)
    over = first[("H1", "hours_over")]
    assert over["suggested_fix"] == "Bill 96366 x2 instead of x4 in all for 2026-06-10 (claim H1 line 3)."
    assert over["charge_at_risk"] == 50.0 and "not counted: 96367 x1 on claim H1 line 2" in over["message"]
    assert first[("H2", "hours_over")]["suggested_fix"].startswith("Bill 96366 x3 instead of x4")
    assert "not counted" not in first[("H2", "hours_over")]["message"]
    assert not [k for k in second if k[0] == "H1"], second


def test_a_96367_route_mismatch_replaces_is_no_concurrent_infusion_in_the_counts(tmp_path) -> None:
    """Review 24C D4: duplicate-initial-infusion leaves a 96367 route-mismatch replaces (an SC immune
    globulin billed with IV codes) to that check, but the time and MUE counts still took it as the
    concurrent infusion: "not counted: 2 hour(s) of the concurrent infusion" for a recode no finding
    makes. One definition now (checks._counting.not_replaced). Near miss: the same claim with an IV
    product is recoded, and its hours are left out."""
    header = HEADER + ",ndc,drug_dose_mg"
    rows = [_line("D79", 1, "96365", 1, "09:00", "13:00"), _line("D79", 2, "96367", 1, "09:30", "12:30"),
            _line("D79", 3, "96366", 1), _line("D79", 4, "J1559", 100),
            _line("D80", 1, "96365", 1, "09:00", "13:00"), _line("D80", 2, "96367", 1, "09:30", "12:30"),
            _line("D80", 3, "96366", 1), _line("D80", 4, "J1459", 70)]
    doses = {"J1559": ",,10000", "J1459": ",,35000"}
    path = tmp_path / "claims.csv"
    path.write_text(header + "\n" + "\n".join(r + doses.get(r.split(",")[7], ",,") for r in rows) + "\n",
                    encoding="utf-8")
    found = {(f["claim_id"], f["check_id"]): f for f in scrub([str(path)]).findings.to_dicts()}
    assert ("D79", "duplicate-initial-infusion") not in found and ("D79", "route-mismatch") in found
    assert "not counted" not in found[("D79", "unit-miscalculation")]["message"]
    assert found[("D80", "duplicate-initial-infusion")]["reason"] == "sequential_concurrent"
    assert "not counted: 96367 x1 on claim D80 line 2" in found[("D80", "unit-miscalculation")]["message"]


def test_hours_billed_for_the_kept_and_the_concurrent_infusion_are_over(tmp_path) -> None:
    """Review 24D D1: 96365 09:00-12:00, a 96367 09:30-11:30 inside it and 96366 x3 (the kept two hours
    and the concurrent one's): judged on the billed claim with the concurrent hour taken off only where
    a group was already wrong, it passed, and the corrected claim (96368) drew "x2 instead of x3".
    The encounter is judged as the recode leaves it: x2, one unit over, on the first run. With an
    8-hour kept infusion and 96366 x10 (MUE 8), the MUE's "another finding already reports" unit is
    that finding's. Near miss: x2 billed is right."""
    rows = [_line("H3", 1, "96365", 1, "09:00", "12:00"), _line("H3", 2, "96367", 1, "09:30", "11:30"),
            _line("H3", 3, "96366", 3),
            _line("H4", 1, "96365", 1, "09:00", "12:00"), _line("H4", 2, "96367", 1, "09:30", "11:30"),
            _line("H4", 3, "96366", 2),
            _line("F1", 1, "96365", 1, "08:00", "18:00"), _line("F1", 2, "96367", 1, "09:30", "11:30"),
            _line("F1", 3, "96366", 10)]
    fixed = [rows[0], _line("H3", 2, "96368", 1, "09:30", "11:30"), _line("H3", 3, "96366", 2)]
    first, second = _settled(tmp_path, rows, fixed)
    assert first[("H3", "hours_over")]["suggested_fix"].startswith("Bill 96366 x2 instead of x3")
    assert not [k for k in first if k[0] == "H4" and k[1] != "sequential_concurrent"], first
    assert first[("F1", "hours_over")]["suggested_fix"].startswith("Bill 96366 x9 instead of x10")
    mue = first[("F1", "over_mue_clinical")]
    assert "besides the 1 unit(s) of claim F1 line 3 another finding already reports" in mue["message"]
    assert not second, second


def test_observation_hours_beside_a_concurrent_recode_are_judged_as_the_recode_leaves_them(tmp_path) -> None:
    """Review 24E D1: the observation rule judged the billed claim, the concurrent 96367's hour
    counted: 96366 x3 with 60 observation minutes passed, then drew "x2 instead of x3" once recoded;
    with x4 it said "x3" beside unit-miscalculation's "x2" on the same line. Now one reading: x3 is
    the observation's (one unit), x4 unit-miscalculation's alone (x2)."""
    header = HEADER + ",observation_minutes"
    rows = {"O1": 3, "O2": 4}
    lines = []
    for claim, units in rows.items():
        lines += [_line(claim, 1, "96365", 1, "09:00", "12:00") + ",60",
                  _line(claim, 2, "96367", 1, "09:30", "11:30") + ",", _line(claim, 3, "96366", units) + ","]
    path = tmp_path / "obs.csv"
    path.write_text(header + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    found = {(f["claim_id"], f["check_id"]): f for f in scrub([str(path)]).findings.to_dicts()
             if f["line_number"] == 3}
    assert found[("O1", "observation-counted-as-infusion")]["suggested_fix"].startswith(
        "Bill 96366 x2 instead of x3"), found
    assert ("O1", "unit-miscalculation") not in found
    assert found[("O2", "unit-miscalculation")]["suggested_fix"].startswith("Bill 96366 x2 instead of x4")
    assert ("O2", "observation-counted-as-infusion") not in found


def test_a_rejected_row_billing_the_recoded_code_leaves_the_hours_not_evaluated(tmp_path) -> None:
    """Review 24E D2: judged without the recoded 96367, the encounter's code mask lost 96367 although
    a rejected row (units "x") still bills one, whose 120 minutes may support an hour: a false
    "x2 instead of x3" on a good line. Near miss: without the rejected row the excess is reported."""
    rows = [_line("H1", 1, "96365", 1, "09:00", "12:00"), _line("H1", 2, "96367", 1, "09:30", "11:30"),
            _line("H1", 3, "96366", 3)]
    bad = _line("H1", 4, "96367", 1, "12:00", "14:00").split(",")
    bad[8] = "x"
    path = tmp_path / "rej.csv"
    path.write_text(HEADER + "\n" + "\n".join([*rows, ",".join(bad)]) + "\n", encoding="utf-8")
    result = scrub([str(path)])
    assert result.summary["rejected_rows"] == 1
    assert not [f for f in result.findings.to_dicts() if f["check_id"] == "unit-miscalculation"]
    assert result.summary["by_check"]["unit-miscalculation"]["lines_not_evaluated"] == 1
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    assert [f["reason"] for f in scrub([str(path)]).findings.to_dicts()
            if f["check_id"] == "unit-miscalculation"] == ["hours_over"]


def test_observation_counts_not_evaluated_on_the_reading_its_findings_use(tmp_path) -> None:
    """Review 24F D2: observation-counted-as-infusion found on the encounter as the fixes leave it but
    counted "not evaluated" on the billed claim: an MUE-deleted untimed 96369-XE left a 96370 both
    found and not evaluated. One reading for both."""
    header = ("claim_id,line_number,member_id,payer,claim_type,place_of_service,date_of_service,procedure_code,"
              "modifier_1,units,charge,diagnosis_1,infusion_start,infusion_stop,observation_minutes")
    rows = ["C1,1,M1,MEDICARE,professional,11,2026-06-10,96369,XS,1,100,A41.9,2026-06-10T13:00,2026-06-10T15:00,60",
            "C1,2,M1,MEDICARE,professional,11,2026-06-10,96370,,2,100,A41.9,,,",
            "C1,3,M1,MEDICARE,professional,11,2026-06-10,96369,XE,1,100,A41.9,,,"]
    path = tmp_path / "u3.csv"
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    result = scrub([str(path)])
    found = {(f["line_number"], f["check_id"]) for f in result.findings.to_dicts()}
    assert (2, "observation-counted-as-infusion") in found
    assert result.summary["by_check"]["observation-counted-as-infusion"]["lines_not_evaluated"] == 0


def test_the_not_counted_words_name_lines_of_the_findings_own_family(tmp_path) -> None:
    """Review 24E D10: the left-out lines were listed per encounter, so a 96366 finding named the 96369
    the MUE deletes and a 96370 finding named the concurrent 96367. Each names its own family's."""
    header = ("claim_id,line_number,member_id,payer,claim_type,place_of_service,date_of_service,procedure_code,"
              "modifier_1,units,charge,diagnosis_1,infusion_start,infusion_stop")
    day = "2026-06-10"
    rows = [f"C1,1,M1,MEDICARE,professional,11,{day},96365,,1,100,A41.9,{day}T09:00,{day}T12:00",
            f"C1,2,M1,MEDICARE,professional,11,{day},96367,,1,100,A41.9,{day}T09:30,{day}T11:30",
            f"C1,3,M1,MEDICARE,professional,11,{day},96366,,3,100,A41.9,,",
            f"C1,4,M1,MEDICARE,professional,11,{day},96369,XS,1,100,A41.9,{day}T13:00,{day}T14:00",
            f"C1,5,M1,MEDICARE,professional,11,{day},96369,XE,1,100,A41.9,{day}T14:30,{day}T16:40",
            f"C1,6,M1,MEDICARE,professional,11,{day},96370,,2,100,A41.9,,"]
    path = tmp_path / "families.csv"
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    words = {f["line_number"]: f["message"] for f in scrub([str(path)]).findings.to_dicts()
             if f["check_id"] == "unit-miscalculation"}
    assert "not counted: 96367 x1 on claim C1 line 2, the concurrent infusion" in words[3]
    assert "96369" not in words[3].split("not counted:")[1]
    assert "not counted: 96369 x1 on claim C1 line 5, which the units-over-mue finding deletes" in words[6]
    assert "96367" not in words[6]


@pytest.mark.parametrize(("cap", "words"), [
    (1, "and its additional hours as 96366 (x1 in all with any 96366 already billed for this infusion: the "
        "documented 180 minutes support x2, and the CAPPED policy pays 1 unit(s) of 96366 per encounter)"),
    (0, "(its documented 180 minutes would support 96366 x2, but the CAPPED policy pays no 96366)"),
    (2, "and its additional hours as 96366 (x2 for the documented 180 minutes"),
])
def test_sequential_units_asks_hours_up_to_the_policy_cap(tmp_path, cap: int, words: str) -> None:
    """Review 27A D4: 96367 x3 for one 180-minute infusion is 96367 x1 and its hours as 96366, asked up to
    the policy's cap on 96366 (x2 under a cap of 1 was an over-cap error on the next run)."""
    claims = tmp_path / "claims.csv"
    claims.write_text("\n".join([HEADER, _line("Q1", 1, "96365", 1, "09:00", "10:00", payer="CAPCO"),
                                 _line("Q1", 2, "96367", 3, "10:00", "13:00", payer="CAPCO")]) + "\n")
    policy = tmp_path / "capco.toml"
    policy.write_text(f'name = "CAPPED"\nextends = "DEFAULT"\npayers = ["CAPCO"]\n[caps]\n"96366" = {cap}\n')
    found = scrub([str(claims)], [str(policy)], select=["unit-miscalculation"]).findings
    assert found.get_column("reason").to_list() == ["sequential_units"]
    assert words in found.item(0, "suggested_fix"), found.item(0, "suggested_fix")


def test_sequential_units_counts_the_hours_billed_for_the_other_infusion(tmp_path) -> None:
    """Review 27D D3: under a cap of 2 on 96366, a 96365 of 180 minutes billing its 96366 x2 beside 96367 x3
    for another 180 minutes: the cap is reached, so no more 96366 is asked (x2 more was over the cap on
    the rerun)."""
    claims = tmp_path / "claims.csv"
    claims.write_text("\n".join([HEADER, _line("Q2", 1, "96365", 1, "09:00", "12:00", payer="CAPCO"),
                                 _line("Q2", 2, "96366", 2, payer="CAPCO"),
                                 _line("Q2", 3, "96367", 3, "12:00", "15:00", payer="CAPCO")]) + "\n")
    policy = tmp_path / "capco.toml"
    policy.write_text('name = "CAPPED"\nextends = "DEFAULT"\npayers = ["CAPCO"]\n[caps]\n"96366" = 2\n')
    found = scrub([str(claims)], [str(policy)], select=["unit-miscalculation"]).findings
    assert found.get_column("reason").to_list() == ["sequential_units"]
    assert ("(its documented 180 minutes would support 96366 x2, but the CAPPED policy pays 2 unit(s) of 96366 per "
            "encounter, x2 of them billed for the encounter's other infusions)") in found.item(0, "suggested_fix")


def test_the_hours_of_a_sequential_line_are_asked_once(tmp_path) -> None:
    """Probe 28A D6: 96365 09:00-11:00 with its 96366 x1, then 96367 x3 11:00-14:00: hours_under asks
    "96366 x3 in all" and the 96367's fix asked "96366 x2 ... for this infusion" besides (x5 billed for x3
    when both were applied); its fix now names that finding. Probe 28A D4: an untimed 96366 x1 beside a
    96365 of 60 minutes (no hour of its own) is the 96367's, not "x1 billed for the encounter's other
    infusions". Near miss: without a 96366 line, the 96367's fix asks its hours (no hours finding)."""
    claims = tmp_path / "claims.csv"
    claims.write_text("\n".join([
        HEADER,
        _line("S3", 1, "96365", 1, "09:00", "11:00"), _line("S3", 2, "96366", 1, "10:00", "11:00"),
        _line("S3", 3, "96367", 3, "11:00", "14:00"),
        _line("U1", 1, "96365", 1, "09:00", "10:00", payer="CAPCO"), _line("U1", 2, "96367", 3, "10:00", "13:00",
                                                                          payer="CAPCO"),
        _line("U1", 3, "96366", 1, payer="CAPCO"),
        _line("N1", 1, "96365", 1, "09:00", "10:00"), _line("N1", 2, "96367", 3, "10:00", "13:00"),
    ]) + "\n")
    policy = tmp_path / "capco.toml"
    policy.write_text('name = "CAPPED"\nextends = "DEFAULT"\npayers = ["CAPCO"]\n[caps]\n"96366" = 2\n')
    found = scrub([str(claims)], [str(policy)], select=["unit-miscalculation"]).findings
    rows = {(r["claim_id"], r["line_number"]): r for r in found.iter_rows(named=True)}
    assert sorted(rows) == [("N1", 2), ("S3", 2), ("S3", 3), ("U1", 2), ("U1", 3)]
    assert "Bill 96366 x3 instead of x1 in all" in rows[("S3", 2)]["suggested_fix"]
    assert rows[("S3", 3)]["suggested_fix"].startswith(
        "Bill 96367 x1 on claim S3 line 3 (its additional hours are those the 96366 finding on claim S3 line 2 "
        "sizes for the encounter in all);")
    assert "Bill 96366 x2 instead of x1 in all" in rows[("U1", 3)]["suggested_fix"]
    assert "claim U1 line 3 sizes" in rows[("U1", 2)]["suggested_fix"]
    assert "other infusions" not in rows[("U1", 2)]["suggested_fix"]
    assert "and its additional hours as 96366 (x2 for the documented 180 minutes" in rows[("N1", 2)]["suggested_fix"]


def test_the_other_family_recode_under_a_cap_says_what_the_record_supports_and_what_the_policy_pays(tmp_path) -> None:
    """Probe 28A D7: 96366 x3 beside a 96413 of 240 minutes (96415 x3 documented) under a cap of 1 on
    96415 was told "its documented time supports 96415 x1 not yet billed": the room the cap leaves, not
    the record. Both checks that recode it (addon-without-primary where CPT anchors 96366 to 96365/96367
    only; unit-miscalculation where the CMS list anchors it to 96413) say x3 and name the cap; the fix
    stays x1. Near miss: without a cap, x3 and no cap words."""
    claims = tmp_path / "claims.csv"
    claims.write_text("\n".join([
        HEADER,
        _line("F2", 1, "96413", 1, "09:00", "13:00", payer="CAPCO"), _line("F2", 2, "96366", 3, payer="CAPCO"),
        _line("F3", 1, "96413", 1, "09:00", "13:00", payer="MCAP"), _line("F3", 2, "96366", 3, payer="MCAP"),
        _line("F4", 1, "96413", 1, "09:00", "13:00"), _line("F4", 2, "96366", 3),
    ]) + "\n")
    capco, mcap = tmp_path / "capco.toml", tmp_path / "mcap.toml"
    capco.write_text('name = "CAPPED"\nextends = "DEFAULT"\npayers = ["CAPCO"]\n[caps]\n"96415" = 1\n')
    mcap.write_text('name = "MCAPPED"\nextends = "MEDICARE"\npayers = ["MCAP"]\n[caps]\n"96415" = 1\n')
    found = scrub([str(claims)], [str(capco), str(mcap)], select=["addon-without-primary", "unit-miscalculation"]
                  ).findings
    rows = {r["claim_id"]: r for r in found.iter_rows(named=True)}
    assert sorted(rows) == ["F2", "F3", "F4"], found.select("claim_id", "reason").rows()
    assert rows["F2"]["reason"] == "no_primary_other_family" and rows["F3"]["reason"] == "hours_other_family"
    for claim, policy in (("F2", "CAPPED"), ("F3", "MCAPPED")):
        assert "supports 96415 x3 not yet billed" in rows[claim]["message"], rows[claim]["message"]
        assert f"as 96415 x1 instead of 96366 x3; the {policy} policy pays 1 unit(s) of 96415 per encounter" in rows[
            claim]["suggested_fix"], rows[claim]["suggested_fix"]
    assert "supports 96415 x3 not yet billed" in rows["F4"]["message"] and "policy pays" not in rows["F4"][
        "suggested_fix"]


def test_a_lone_short_infusion_is_not_sent_to_an_initial_push_the_policy_pays_no_unit_of(tmp_path) -> None:
    """Review 28E D5: a lone 96367 of 10 minutes was told "bill 96374" under a policy capping 96374 at 0,
    and the rerun deleted it. Such a recode is none (as no_primary_only_service skips one): the push named
    is the sequential one, beside addon-without-primary's. Near miss: another payer's is 96374."""
    claims = tmp_path / "claims.csv"
    claims.write_text("\n".join([HEADER, _line("LC1", 1, "96367", 1, "09:00", "09:10", payer="CAPCO"),
                                 _line("LC2", 1, "96367", 1, "09:00", "09:10")]) + "\n")
    policy = tmp_path / "capco.toml"
    policy.write_text('name = "CAPPED"\nextends = "DEFAULT"\npayers = ["CAPCO"]\n[caps]\n"96374" = 0\n')
    found = scrub([str(claims)], [str(policy)], select=["infusion-too-short"]).findings
    fixes = {r["claim_id"]: r["suggested_fix"] for r in found.iter_rows(named=True)}
    assert fixes["LC1"].startswith("Bill 96375 x1 instead of 96367") and fixes["LC2"].startswith("Bill 96374 x1")
