"""A fix applied as written settles the claim: the corrected claim passes the checks that spoke.

Billing staff apply the suggested fix of each finding and send the claim again (README "a fix per
line"); a fix that names a count another finding on the same line contradicts, or that leaves the
claim over the limit it quotes, sends them round a loop. Each case here bills a claim, reads the
fix's corrected units, bills them and runs again.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import polars as pl

from scrubber.engine import scrub

HEADER = ("claim_id,line_number,member_id,payer,claim_type,place_of_service,date_of_service,procedure_code,"
          "units,charge,diagnosis_1,route,infusion_start,infusion_stop")
CAP_POLICY = textwrap.dedent('''
    name = "ACME"
    extends = "DEFAULT"
    payers = ["ACME"]
    [caps]
    "96366" = 2
''')


def _run(tmp_path: Path, name: str, rows: list[str], policies: list[str]) -> pl.DataFrame:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    result = scrub([str(path)], policy_files=policies)
    assert result.summary["rejected_rows"] == 0
    return result.findings


def _claim(units: int) -> list[str]:
    # 96365 08:00-11:45 (225 minutes: the record supports 96366 x3) and 96366 billed x``units``.
    return ["P1,1,M1,ACME,professional,11,2026-03-10,96365,1,350,D80.0,IV,2026-03-10T08:00,2026-03-10T11:45",
            f"P1,2,M1,ACME,professional,11,2026-03-10,96366,{units},{100 * units},D80.0,,,"]


def test_a_policy_cap_fix_counts_the_units_another_finding_takes_off_the_line(tmp_path: Path) -> None:
    policy = tmp_path / "acme.toml"
    policy.write_text(CAP_POLICY, encoding="utf-8")
    first = _run(tmp_path, "before.csv", _claim(5), [str(policy)])
    fixes = dict(first.select("check_id", "suggested_fix").iter_rows())
    # x5 where the record supports x3 (unit-miscalculation) and the payer caps 96366 at 2: the cap's fix
    # is x2, not "x4" (5 less its own excess of 1, forgetting the 2 the record does not support).
    assert fixes["unit-miscalculation"].startswith("Bill 96366 x3 instead of x5")
    cap_fix = fixes["units-over-mue"]
    assert cap_fix.startswith("Bill 96366 x2 on claim P1 line 2"), cap_fix
    corrected = int(re.match(r"Bill 96366 x(\d+)", cap_fix).group(1))
    assert _run(tmp_path, "after.csv", _claim(corrected), [str(policy)]).height == 0
    # Near miss: x2 to begin with is within the record and the cap.
    assert _run(tmp_path, "within.csv", _claim(2), [str(policy)]).height == 0


JW_HEADER = ("claim_id,line_number,member_id,payer,claim_type,place_of_service,date_of_service,procedure_code,"
             "modifier_1,units,charge,diagnosis_1,drug_dose_mg,drug_wasted_mg,infusion_start,infusion_stop")


def test_a_waste_line_left_unbilled_is_asked_for_within_the_encounters_cap(tmp_path: Path) -> None:
    # J1459 capped at 80 per encounter: 39,000 mg given (x78) and 2,000 mg wasted (JW x4 by the record).
    # The JW line x1 was compared with the cap alone: "bill JW x4", then 82 units over the cap (probe 16E).
    policy = tmp_path / "acme.toml"
    policy.write_text(CAP_POLICY.replace('"96366" = 2', '"J1459" = 80'), encoding="utf-8")

    def claim(jw_units: int) -> list[str]:
        # (an hour of infusion: four hours with no 96366 billed are hours_not_billed, not this test's subject)
        return ["U6,1,MU6,ACME,professional,11,2026-03-02,96365,,1,100,D80.0,,,2026-03-02T09:00,2026-03-02T10:00",
                "U6,2,MU6,ACME,professional,11,2026-03-02,J1459,,78,7800,D80.0,39000,,,",
                f"U6,3,MU6,ACME,professional,11,2026-03-02,J1459,JW,{jw_units},{100 * jw_units},D80.0,,2000,,"]

    def run(name: str, rows: list[str]) -> pl.DataFrame:
        path = tmp_path / name
        path.write_text("\n".join([JW_HEADER, *rows]) + "\n", encoding="utf-8")
        result = scrub([str(path)], policy_files=[str(policy)])
        assert result.summary["rejected_rows"] == 0
        return result.findings

    first = run("before.csv", claim(1))
    assert first.select("check_id", "reason").rows() == [("unit-miscalculation", "under_cap")]
    fix = first.item(0, "suggested_fix")
    assert fix.startswith("Bill J1459 x2 instead of x1"), fix
    assert run("after.csv", claim(2)).height == 0


def test_a_second_96369_beside_a_billed_96371_is_deleted_and_the_claim_settles(tmp_path: Path) -> None:
    """96369, 96371, 96369: the third line was told "report as 96371 x1", and the claim so corrected
    billed 96371 twice, over-cap-96371's finding (probe 19C; CPT: 96369 and 96371 once per encounter).
    Its fix now deletes the line; the claim so corrected has no finding."""
    line = "S1,{n},M1,MEDICARE,professional,11,2026-03-02,{code},1,300,D80.0,,{start},{stop}"
    rows = [line.format(n=1, code="96369", start="2026-03-02T09:00", stop="2026-03-02T10:00"),
            line.format(n=2, code="96371", start="", stop=""),
            # (run beside the first, at new sites: a continuing one is 96370's, the test below)
            line.format(n=3, code="96369", start="2026-03-02T09:30", stop="2026-03-02T10:30")]
    first = _run(tmp_path, "before.csv", rows, [])
    assert first.select("line_number", "check_id", "reason").rows() == [
        (3, "duplicate-initial-infusion", "second_initial_subsequent_taken")]
    fix = first.get_column("suggested_fix")[0]
    assert fix.startswith("Delete claim S1 line 3 (96369): 96371, paid once per encounter, is already billed")
    assert "96371 x1 instead" not in fix
    assert _run(tmp_path, "after.csv", rows[:2], []).height == 0


def test_a_second_96369_that_continues_the_first_is_its_additional_hour_and_settles(tmp_path: Path) -> None:
    """96369 09:00-10:00 and 96369 10:00-11:00: one subcutaneous infusion of 120 minutes, whose second
    hour is 96370 (probe 19C: it was told "96371", a second pump set-up the record does not show, where
    96369 x2 on one line for the same minutes was 96369 + 96370). Applied, the claim has no finding."""
    line = "S2,{n},M2,MEDICARE,professional,11,2026-03-02,{code},1,300,D80.0,,{start},{stop}"
    rows = [line.format(n=1, code="96369", start="2026-03-02T09:00", stop="2026-03-02T10:00"),
            line.format(n=2, code="96369", start="2026-03-02T10:00", stop="2026-03-02T11:00")]
    first = _run(tmp_path, "before.csv", rows, [])
    assert first.select("line_number", "reason").rows() == [(2, "second_initial_continues")]
    assert first.get_column("suggested_fix")[0].startswith("Report claim S2 line 2 as 96370 x1 instead of 96369")
    fixed = [rows[0], rows[1].replace(",96369,", ",96370,")]
    assert _run(tmp_path, "after.csv", fixed, []).height == 0


def _sc_sessions(claim: str, *intervals: str) -> list[str]:
    """One 96369 line per interval ("09:00-10:00") on ``claim`` (MEDICARE, office, 2026-03-02)."""
    line = f"{claim},{{n}},M{claim[1:]},MEDICARE,professional,11,2026-03-02,96369,1,300,D80.0,,{{start}},{{stop}}"
    return [line.format(n=n, start=f"2026-03-02T{start}", stop=f"2026-03-02T{stop}")
            for n, (start, stop) in enumerate((i.split("-") for i in intervals), start=1)]


def test_a_chain_of_96369_lines_continuing_one_infusion_is_its_additional_hours_and_settles(tmp_path: Path) -> None:
    """96369 09:00-10:00, 10:00-11:00 and 11:00-12:00: one subcutaneous infusion of 180 minutes, 96369 +
    96370 x2. Three such lines were left to the set-up rule (line 2 "as 96371", line 3 deleted: probe
    19F's D3/D4, left); each line is now the hours its own minutes add. A third line adding under 31
    minutes adds none: deleted, naming the earlier hours. Applied, the claims have no finding."""
    rows = _sc_sessions("S3", "09:00-10:00", "10:00-11:00", "11:00-12:00")
    first = _run(tmp_path, "before.csv", rows, [])
    assert first.select("line_number", "reason").rows() == [(2, "second_initial_continues"),
                                                            (3, "second_initial_continues")]
    fixes = first.get_column("suggested_fix").to_list()
    assert fixes[0].startswith("Report claim S3 line 2 as 96370 x1 instead of 96369: the documented 120 minutes")
    assert fixes[1].startswith("Report claim S3 line 3 as 96370 x1 instead of 96369: the documented 180 minutes "
                               "(09:00-10:00, 10:00-11:00 and 11:00-12:00) support 96369 x1 and 96370 x2 (96369 on "
                               "claim S3 line 1 stays initial; the earlier hours: 96370 x1 on claim S3 line 2)"), \
        fixes[1]
    fixed = [rows[0], rows[1].replace(",96369,", ",96370,"), rows[2].replace(",96369,", ",96370,")]
    assert _run(tmp_path, "after.csv", fixed, []).height == 0
    # The third line adds 20 minutes (140 in all: 96370 x1, line 2's): deleted.
    short = [*rows[:2], rows[2].replace("T12:00", "T11:20")]
    first = _run(tmp_path, "short.csv", short, [])
    assert first.select("line_number", "reason").rows() == [(2, "second_initial_continues"),
                                                            (3, "second_initial_continues_none")]
    assert "the earlier hours: 96370 x1 on claim S3 line 2" in first.get_column("suggested_fix")[1]
    assert _run(tmp_path, "short_after.csv", [rows[0], rows[1].replace(",96369,", ",96370,")], []).height == 0


def test_near_miss_a_chain_whose_middle_line_adds_no_hour_is_left_to_the_set_up_rule(tmp_path: Path) -> None:
    # 09:00-10:00, 10:00-10:20 (80 minutes: no hour yet), 10:20-12:00 (180: 96370 x2). Deleting line 2 as
    # "adds none" while line 3 takes x2 from the minutes line 2 carried did not settle (review 20D).
    rows = _sc_sessions("S5", "09:00-10:00", "10:00-10:20", "10:20-12:00")
    first = _run(tmp_path, "before.csv", rows, [])
    assert first.select("line_number", "reason").rows() == [(2, "second_initial"),
                                                            (3, "second_initial_subsequent_taken")]


def test_near_miss_a_later_second_set_up_among_them_leaves_all_to_the_set_up_rule(tmp_path: Path) -> None:
    # The third 96369 starts at 14:00, after a break longer than an interruption: a new pump set-up.
    # Then none of them is read as the infusion going on (the fixes must agree with each other).
    rows = _sc_sessions("S4", "09:00-10:00", "10:00-11:00", "14:00-15:00")
    first = _run(tmp_path, "before.csv", rows, [])
    assert first.select("line_number", "reason").rows() == [(2, "second_initial"),
                                                            (3, "second_initial_subsequent_taken")]


def test_a_second_hydration_session_apart_from_the_first_settles_as_the_time_rules_read_it(tmp_path: Path) -> None:
    """96360 09:00-10:00 and 96360 13:00-14:00 (office) or 13:00-14:40: the second, recoded, is a 96361
    that meets no infusion, its own minutes a whole infusion (docs/RULES.md): 60 minutes support no
    additional hour (deleted), 100 minutes one. Probe 21A: the set-up rule's "report it as 96361 x1"
    for 60 minutes drew "delete 96361" on the corrected claim, a loop between two fixes."""
    line = "H1,{n},M1,MEDICARE,professional,11,2026-03-02,{code},1,120,E86.0,,2026-03-02T{start},2026-03-02T{stop}"
    first = line.format(n=1, code="96360", start="09:00", stop="10:00")
    for stop, reason, fixed in (("14:00", "second_initial_separate_none", [first]),
                                ("14:40", "second_initial",
                                 [first, line.format(n=2, code="96361", start="13:00", stop="14:40")])):
        rows = [first, line.format(n=2, code="96360", start="13:00", stop=stop)]
        found = _run(tmp_path, "before.csv", rows, [])
        assert found.select("line_number", "reason").rows() == [(2, reason)]
        if reason == "second_initial":
            assert "as 96361 x1 instead of 96360" in found.get_column("suggested_fix")[0]
        assert _run(tmp_path, "after.csv", fixed, []).height == 0
