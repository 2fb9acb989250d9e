"""The same claims give the same findings, ids, words and money whatever order the file lists them in.

Exports list an encounter's claims (and a claim's lines) in whatever order their system keeps: by
claim number, by date entered, by procedure code. A finding's id keys suppressions and run-to-run
diffs, and its claim and money feed the per-claim and per-payer totals, so none of them may follow
the file's row order. Each case below failed on the order it names before it was fixed; the last
test shuffles generated encounters spread over several claims.
"""

from __future__ import annotations

import random
import textwrap
from pathlib import Path

import polars as pl
import pytest

from scrubber.engine import scrub

HEADER = ("claim_id,line_number,member_id,payer,claim_type,place_of_service,date_of_service,procedure_code,"
          "modifier_1,units,charge,diagnosis_1,drug_dose_mg,drug_wasted_mg,route,infusion_start,infusion_stop,"
          "billing_provider,revenue_code")
SHOWN = ["finding_id", "claim_id", "line_number", "check_id", "reason", "charge_at_risk", "message", "suggested_fix"]


def _findings(tmp: Path, rows: list[str], name: str) -> pl.DataFrame:
    path = tmp / name
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    result = scrub([str(path)])
    assert result.summary["rejected_rows"] == 0, result.rejected.to_dicts()
    return result.findings.select(SHOWN).sort("finding_id", "check_id", "reason")


def _rows(text: str) -> list[str]:
    return [r for r in textwrap.dedent(text).strip().splitlines() if r]


def _same_in_every_order(tmp: Path, text: str, orders: list[list[int]]) -> pl.DataFrame:
    rows = _rows(text)
    first = _findings(tmp, rows, "given.csv")
    for n, order in enumerate(orders):
        assert _findings(tmp, [rows[i] for i in order], f"order{n}.csv").equals(first), order
    return first


def test_hours_billed_on_two_claims_are_one_finding_on_the_first_claim_by_id(tmp_path: Path) -> None:
    # 96366 on claims A1 and B1 of one encounter, the 96365 documented for 60 minutes: no hour is
    # supported. The finding sat on whichever claim the file listed first (another id, another claim).
    found = _same_in_every_order(tmp_path, """
        A1,1,M1,AETNA,professional,11,2026-03-02,96365,,1,300,D80.0,,,IV,2026-03-02T09:00,2026-03-02T10:00,1234567893,
        A1,2,M1,AETNA,professional,11,2026-03-02,96366,,1,110,D80.0,,,IV,,,1234567893,
        B1,1,M1,AETNA,professional,11,2026-03-02,96366,,2,220,D80.0,,,IV,,,1234567893,
        B1,2,M1,AETNA,professional,11,2026-03-02,J1459,JZ,20,2000,D80.0,10000,,IV,,,1234567893,
    """, [[2, 3, 0, 1]])
    hours = found.filter(pl.col("check_id") == "unit-miscalculation").to_dicts()
    assert [(f["claim_id"], f["line_number"], f["reason"]) for f in hours] == [("A1", 2, "hours_none")]


def test_an_excess_is_laid_on_the_lines_in_claim_and_line_order_when_rows_are_shuffled(tmp_path: Path) -> None:
    # 96366 x3 (claim A1) + x1 (claim A2), four hours billed, three supported: the unit over is laid
    # on A1's line first ($100 / 3). With the rows out of order the lines were matched to their charges
    # by a join that did not keep order, and the unit could land on A2's line ($200).
    found = _same_in_every_order(tmp_path, """
        A1,1,M1,AETNA,professional,11,2026-09-19,96366,,3,100,D80.0,,,IV,2026-09-19T08:00,2026-09-19T08:45,1234567893,
        A1,2,M1,AETNA,professional,11,2026-09-19,J1459,JZ,20,300,D80.0,10000,,IV,,,1234567893,
        A2,1,M1,AETNA,professional,11,2026-09-19,96365,,1,100,D80.0,,,IV,2026-09-19T09:30,2026-09-19T11:00,1234567893,
        A2,3,M1,AETNA,professional,11,2026-09-19,96366,,1,200,D80.0,,,IV,2026-09-19T11:00,2026-09-19T13:31,1234567893,
    """, [[3, 1, 2, 0], [2, 3, 0, 1], [3, 2, 1, 0]])
    over = found.filter(pl.col("reason") == "hours_over").to_dicts()
    assert len(over) == 1 and over[0]["claim_id"] == "A1" and over[0]["charge_at_risk"] == pytest.approx(33.33)


def test_concurrent_hydration_puts_its_money_on_the_first_hour_line_by_line_number(tmp_path: Path) -> None:
    # Two timed 96361 lines of one episode, both overlapping the 96413: one finding each, the units
    # over the minutes outside the overlap at risk once, on line 3 (it followed the row order).
    found = _same_in_every_order(tmp_path, """
        Y0,1,M41,MEDICARE,professional,11,2026-09-10,96361,,1,110,D80.0,,,IV,,,1234567893,
        Y0,3,M41,MEDICARE,professional,11,2026-09-10,96361,,1,110,D80.0,,,IV,2026-09-10T11:00,2026-09-10T11:10,1234567893,
        Y0,4,M41,MEDICARE,professional,11,2026-09-10,96361,,1,300,D80.0,,,IV,2026-09-10T10:45,2026-09-10T12:15,1234567893,
        Z1,1,M41,MEDICARE,professional,11,2026-09-10,J1569,,100,300,D80.0,10000,,IV,,,1234567893,
        Z1,2,M41,MEDICARE,professional,11,2026-09-10,96413,,1,300,D80.0,,,IV,2026-09-10T11:00,2026-09-10T11:45,1234567893,
    """, [[2, 1, 0, 3, 4], [4, 2, 3, 1, 0]])
    money = {f["line_number"]: f["charge_at_risk"] for f in found.filter(
        pl.col("check_id") == "concurrent-hydration").to_dicts()}
    assert money[3] > 0 and money[4] == 0.0


def test_two_infusions_starting_together_give_the_add_on_to_the_one_it_overlaps(tmp_path: Path) -> None:
    # 96413 09:30-09:50 (claim A1) and 96413 09:30-12:01 (claim X0) start together; the 96415
    # documented 11:00-11:45 continues the one still running. Listing X0 first joined it to A1's
    # 20 minutes instead ("09:30-11:45 = 65 min").
    found = _same_in_every_order(tmp_path, """
        X0,4,M36,AETNA,professional,11,2026-01-18,96413,,1,110,D80.0,,,IV,2026-01-18T09:30,2026-01-18T12:01,1234567893,
        A1,2,M36,AETNA,professional,11,2026-01-18,96413,,1,100,D80.0,,,IV,2026-01-18T09:30,2026-01-18T09:50,1234567893,
        X2,2,M36,AETNA,professional,11,2026-01-18,96415,,3,200,D80.0,,,IV,2026-01-18T11:00,2026-01-18T11:45,1234567893,
    """, [[1, 0, 2], [2, 1, 0]])
    words = " ".join(found.get_column("message").to_list())
    assert "65 min" not in words and "96413 claim X0 line 4 + 96415 claim X2 line 2, 09:30-12:01 = 151 min" in words


def test_a_half_cent_laid_on_a_line_rounds_the_same_in_every_order(tmp_path: Path) -> None:
    # 96366 x7 over three lines of claims A and B, four hours supported: the units over are laid on
    # $250 (x2), $333.33 (x3) and half of $333.33 (x2): $166.665. Summed in file order, the finding's
    # money was $749.99 in one order and $750.00 in another (probe T).
    found = _same_in_every_order(tmp_path, """
        A,1,M1,MEDICARE,professional,11,2026-03-10,96365,,1,300,D80.0,,,IV,2026-03-10T10:30,2026-03-10T13:00,1234567893,
        A,2,M1,MEDICARE,professional,11,2026-03-10,96366,,2,250,D80.0,,,IV,,,1234567893,
        B,5,M1,MEDICARE,professional,11,2026-03-10,96366,,3,333.33,D80.0,,,IV,,,1234567893,
        B,6,M1,MEDICARE,professional,11,2026-03-10,96366,,2,333.33,D80.0,,,IV,,,1234567893,
    """, [[3, 2, 0, 1], [2, 3, 1, 0], [1, 3, 0, 2]])
    assert found.filter(pl.col("reason") == "hours_over").get_column("charge_at_risk").to_list() == [749.99]


def _encounters(seed: int, n: int = 40) -> list[str]:
    """Encounters of one to three professional claims (or one institutional claim), timed and untimed
    administration, drugs and add-ons, modifiers and diagnoses drawn at random."""
    rnd = random.Random(seed)
    codes = ["96365", "96366", "96367", "96368", "96360", "96361", "96374", "96375", "96376", "96369", "96370",
             "96413", "96415", "96417", "96372", "36000", "J1459", "J1559", "J1569", "Q2052", "99213", "G0378"]
    rows = []
    for e in range(n):
        date = f"2026-0{rnd.randint(1, 9)}-1{rnd.randint(0, 9)}"
        payer, inst = rnd.choice(["MEDICARE", "AETNA"]), rnd.random() < 0.3
        for c in range(1 if inst else rnd.randint(1, 3)):
            claim = f"E{e}-{rnd.choice('ABXYZ')}{c}"
            for line in range(1, rnd.randint(1, 4) + 1):
                code, units, times, dose, waste = rnd.choice(codes), rnd.choice([1, 1, 1, 2, 3]), ",", "", ""
                if code.startswith("J"):
                    units, dose = rnd.choice([10, 20, 70, 80, 100]), str(rnd.choice([5000, 10000, 35000, 50000]))
                    waste = rnd.choice(["", "", "200"])
                if code.startswith("96") and rnd.random() < 0.7:
                    start = rnd.randint(8, 12) * 60 + rnd.choice([0, 15, 30, 45])
                    stop = start + rnd.choice([10, 20, 31, 45, 60, 61, 90, 91, 120, 150, 151, 180])
                    times = (f"{date}T{start // 60:02d}:{start % 60:02d},{date}T{stop // 60:02d}:{stop % 60:02d}")
                revenue = ("0636" if code.startswith("J") else "0260") if inst else ""
                rows.append(",".join([
                    claim, str(line), f"M{e}", payer, "institutional" if inst else "professional",
                    "22" if inst else rnd.choice(["11", "11", "12", "19"]), date, code,
                    rnd.choice(["", "", "", "JZ", "JW", "XS", "59", "25", "KX"]), str(units),
                    str(rnd.choice([100, 110, 200, 300])), rnd.choice(["D80.0", "D80.0", "G61.81", "D80"]), dose, waste,
                    rnd.choice(["IV", "", "SC"]), times, "1234567893", revenue]))
    return rows


@pytest.mark.parametrize("seed", [3, 11, 14, 22])
def test_generated_encounters_give_the_same_findings_in_any_row_order(tmp_path: Path, seed: int) -> None:
    rows = _encounters(seed)
    given = _findings(tmp_path, rows, "given.csv")
    assert given.height > 20
    shuffled = rows[:]
    random.Random(seed + 1).shuffle(shuffled)
    assert _findings(tmp_path, shuffled, "shuffled.csv").equals(given)


# Two encounters whose additional hours run over the record, beside immune globulin lines over their
# MUE (probe 23B D1): units-over-mue laid one encounter's hours over the record on the other's hour line
# in some runs (a row index on a plan whose join order was not fixed), so U44's 96366 x12 (4 hours over
# the record: unit-miscalculation's) was also "over the MUE of 8" one run in five.
_FLAPPING = """
    U44,1,M44,AETNA,professional,11,2026-02-10,96365,,1,300,D69.3,,,,2026-02-10T09:00,2026-02-10T17:40,,
    U44,2,M44,AETNA,professional,11,2026-02-10,96366,,12,1200,D69.3,,,,,,,
    U40A,1,M40A,MEDICARE,professional,11,2026-03-02,96365,,1,300,D80.0,,,,2026-03-02T09:00,2026-03-02T18:00,,
    U40A,2,M40A,MEDICARE,professional,11,2026-03-02,96366,,9,900,D80.0,,,,,,,
    UJ1,1,MUJ1,MEDICARE,professional,11,2026-03-02,96365,,1,300,D80.0,,,,2026-03-02T09:00,2026-03-02T10:00,,
    UJ1,2,MUJ1,MEDICARE,professional,11,2026-03-02,J1459,,300,30000,D80.0,150000,500,,,,,
    UJ1,3,MUJ1,MEDICARE,professional,11,2026-03-02,J1459,JW,1,100,D80.0,,,,,,,
    UJ2,1,MUJ2,MEDICARE,professional,11,2026-03-02,96365,,1,300,D80.0,,,,2026-03-02T09:00,2026-03-02T10:00,,
    UJ2,2,MUJ2,MEDICARE,professional,11,2026-03-02,J1459,JZ,301,30100,D80.0,,,,,,,
"""


def test_the_same_file_gives_the_same_findings_on_every_run(tmp_path: Path) -> None:
    path = tmp_path / "flapping.csv"
    path.write_text(HEADER + "\n" + "\n".join(_rows(_FLAPPING)) + "\n", encoding="utf-8")
    runs = [scrub([str(path)], select=["units-over-mue"]).findings.select(SHOWN).sort("finding_id") for _ in range(30)]
    assert {(r["claim_id"], r["line_number"]) for r in runs[0].to_dicts()} == {("UJ1", 3), ("UJ2", 2)}
    for run in runs[1:]:
        assert run.equals(runs[0])


def test_a_drug_documented_differently_on_two_lines_is_read_in_line_order(tmp_path: Path) -> None:
    # One drug on one claim and date, two lines documenting different doses or wastes (probe 23F): the
    # dose or waste the group is judged by was the first in file order, so the findings and the money
    # followed the order the export listed the lines in. Now the first by line number.
    found = _same_in_every_order(tmp_path, """
        A0,1,MA0,MEDICARE,professional,11,2026-02-10,J1459,,71,7100,D80.0,35200,4800,,,,,
        A0,2,MA0,MEDICARE,professional,11,2026-02-10,J1459,JW,5,500,D80.0,35200,,,,,,
        A0,3,MA0,MEDICARE,professional,11,2026-02-10,J1459,JW,5,500,D80.0,30000,,,,,,
        B0,1,MB0,MEDICARE,professional,11,2026-02-10,J1459,,40,4000,D80.0,35000,400,,,,,
        B0,2,MB0,MEDICARE,professional,11,2026-02-10,J1459,,32,3200,D80.0,,900,,,,,
    """, [[0, 2, 1, 4, 3], [4, 3, 2, 1, 0], [1, 0, 2, 3, 4]])
    drug = found.filter(pl.col("check_id") == "unit-miscalculation").to_dicts()
    assert [(f["claim_id"], f["line_number"]) for f in drug] == [("A0", 3), ("B0", 2)]


def test_overnight_add_ons_tied_in_start_order_are_laid_by_claim_and_line(tmp_path: Path) -> None:
    # Review 24C D2: two untimed 96366 on two claims dated after a 96365 across midnight that supports
    # one hour: which claim was re-dated and which deleted followed the file's row order.
    found = _same_in_every_order(tmp_path, """
        O2,1,MO2,AETNA,professional,11,2026-03-10,96365,,1,300,D69.3,,,IV,2026-03-10T23:00,2026-03-11T01:30,P1,
        O2a,1,MO2,AETNA,professional,11,2026-03-11,96366,,1,110,D69.3,,,IV,,,P1,
        O2b,1,MO2,AETNA,professional,11,2026-03-11,96366,,1,110,D69.3,,,IV,,,P1,
    """, [[0, 2, 1], [2, 1, 0]])
    assert [(f["claim_id"], f["reason"]) for f in found.sort("claim_id").to_dicts()] == [
        ("O2a", "primary_across_midnight"), ("O2b", "primary_across_midnight_beyond")]


def test_a_short_infusion_and_a_push_take_the_same_ranks_in_either_line_order(tmp_path: Path) -> None:
    # Review 24E D5: a 10-minute 96365 (a push by its times) and a 96374 tied on the push's rank, so the
    # line number decided which stayed initial: 96375 and "96367 as 96365" in one order, nothing
    # promoted in the other. The push billed as such stays ahead of the one read off an infusion's times.
    claim = """
        C1,1,M1,MEDICARE,professional,11,2026-06-10,96365,,1,100,A41.9,,,IV,2026-06-10T08:50,2026-06-10T09:00,P1,
        C1,2,M1,MEDICARE,professional,11,2026-06-10,96374,,1,100,A41.9,,,IV,,,P1,
        C1,3,M1,MEDICARE,professional,11,2026-06-10,96367,,1,100,A41.9,,,IV,2026-06-10T09:00,2026-06-10T12:00,P1,
        C1,4,M1,MEDICARE,professional,11,2026-06-10,96366,,2,100,A41.9,,,IV,,,P1,
    """
    found = _same_in_every_order(tmp_path, claim, [[1, 0, 2, 3], [3, 2, 1, 0]])
    assert {(f["line_number"], f["check_id"], f["reason"]) for f in found.to_dicts()} == {
        (1, "duplicate-initial-infusion", "second_initial"), (1, "infusion-too-short", "push")}
    # The same services with the two lines' numbers swapped: the same coding, on the short line.
    rows = _rows(claim)
    rows[:2] = [rows[0].replace("C1,1,", "C1,2,", 1), rows[1].replace("C1,2,", "C1,1,", 1)]
    swapped = _findings(tmp_path, rows, "swapped.csv")
    assert {(f["line_number"], f["check_id"], f["reason"]) for f in swapped.to_dicts()} == {
        (2, "duplicate-initial-infusion", "second_initial"), (2, "infusion-too-short", "push")}
