"""A push billed as the initial infusion before an infusion billed as sequential swaps with it
(infusion-too-short ``push_before_infusion``: 96375, and the 96367 as 96365), and the rules that judge
the encounter's other lines judge them against the infusion that is the initial service once the swap
is made, so the fixes settle in one run (review 24E D4, D6).

CPT: one initial service per encounter, by hierarchy (infusions before pushes); a second infusion
given while the initial one runs is the concurrent infusion (96368), not a sequential one (96367).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import test_outranked_services as outranked

from scrubber.engine import scrub

HEADER = outranked.HEADER


def _line(claim: str, n: int, code: str, units: int, start: str = "", stop: str = "") -> str:
    return outranked._line(claim, n, code, units, start, stop, day="2026-04-07", payer="AETNA", dx="A41.9")


def _run(tmp_path: Path, name: str, rows: list[str]) -> pl.DataFrame:
    path = tmp_path / f"{name}.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    result = scrub([str(path)])
    assert result.summary["rejected_rows"] == 0
    return result.findings.sort("line_number", "check_id")


def _premedication_then_ivig(claim: str, fourth: str, start: str, stop: str) -> list[str]:
    """10 minutes billed as 96365, three hours billed as 96367 and 96366 x2, and a fourth line."""
    return [_line(claim, 1, "96365", 1, "08:50", "09:00"), _line(claim, 2, "96367", 1, "09:00", "12:00"),
            _line(claim, 3, "96366", 2), _line(claim, 4, fourth, 1, start, stop)]


def test_a_second_96367_inside_the_promoted_infusion_is_the_concurrent_one_in_the_same_run(tmp_path: Path) -> None:
    found = _run(tmp_path, "billed", _premedication_then_ivig("W1", "96367", "10:00", "11:00"))
    got = {(r["line_number"], r["reason"]) for r in found.iter_rows(named=True)}
    assert got == {(1, "push_before_infusion"), (4, "sequential_concurrent")}, found.select("line_number", "reason")
    words = found.filter(pl.col("line_number") == 4).row(0, named=True)
    # The initial infusion is line 2's (billed 96367, the initial 96365 once swapped), not the 10 minutes.
    assert "initial infusion 96365 on claim W1 line 2 (2026-04-07 09:00-12:00)" in words["message"], words["message"]
    assert words["suggested_fix"].startswith("Report claim W1 line 4 as 96368 x1 instead of 96367 x1")
    # The fixes applied together: 96375, 96365, 96366 x2 and 96368: nothing more to say.
    fixed = [_line("W1", 1, "96375", 1, "08:50", "09:00"), _line("W1", 2, "96365", 1, "09:00", "12:00"),
             _line("W1", 3, "96366", 2), _line("W1", 4, "96368", 1, "10:00", "11:00")]
    assert _run(tmp_path, "fixed", fixed).height == 0


def test_a_96367_after_the_promoted_infusion_stays_sequential(tmp_path: Path) -> None:
    # Near miss: the fourth line starts as the three hours end (end to start is sequential, not concurrent).
    found = _run(tmp_path, "billed", _premedication_then_ivig("W2", "96367", "12:00", "13:00"))
    assert found.select("line_number", "reason").rows() == [(1, "push_before_infusion")]
    fixed = [_line("W2", 1, "96375", 1, "08:50", "09:00"), _line("W2", 2, "96365", 1, "09:00", "12:00"),
             _line("W2", 3, "96366", 2), _line("W2", 4, "96367", 1, "12:00", "13:00")]
    assert _run(tmp_path, "fixed", fixed).height == 0


def test_a_second_initial_line_is_told_which_line_stays_initial_after_the_swap(tmp_path: Path) -> None:
    # A second short 96365 later in the encounter: duplicate-initial-infusion names the infusion that is
    # the initial service once swapped (line 2), not the 10-minute line infusion-too-short makes 96375.
    found = _run(tmp_path, "billed", _premedication_then_ivig("W3", "96365", "12:30", "12:40"))
    second = found.filter(pl.col("check_id") == "duplicate-initial-infusion").row(0, named=True)
    assert second["line_number"] == 4 and second["reason"] == "second_initial"
    assert "96365 on claim W3 line 2 is already the initial service" in second["message"], second["message"]
    assert "(96365 on claim W3 line 2 stays initial)" in second["suggested_fix"]


def test_without_an_infusion_to_promote_the_short_line_stays_the_one_named(tmp_path: Path) -> None:
    # Near miss: the 96367 runs 15 minutes, no infusion to promote: the kept initial is line 1 as billed.
    rows = [_line("W4", 1, "96365", 1, "08:50", "09:00"), _line("W4", 2, "96367", 1, "09:00", "09:15"),
            _line("W4", 3, "96365", 1, "12:30", "12:40")]
    found = _run(tmp_path, "billed", rows)
    second = found.filter(pl.col("check_id") == "duplicate-initial-infusion").row(0, named=True)
    assert second["line_number"] == 3 and second["reason"] == "second_initial"
    assert "96365 on claim W4 line 1 is already the initial service" in second["message"], second["message"]


def test_of_two_infusions_from_the_same_minute_the_longest_is_promoted(tmp_path: Path) -> None:
    # Review 25D D2: 30 minutes and three hours billed as 96367, both from 09:00, with 96366 x2. The
    # three hours are the initial 96365 with their 96366 x2; the 30 minutes the concurrent 96368 (no
    # hours). Promoting the first by start made the three hours 96368 and deleted the 96366 x2.
    rows = [_line("W5", 1, "96365", 1, "08:50", "09:00"), _line("W5", 2, "96367", 1, "09:00", "09:30"),
            _line("W5", 3, "96367", 1, "09:00", "12:00"), _line("W5", 4, "96366", 2)]
    found = _run(tmp_path, "billed", rows)
    got = {(r["line_number"], r["reason"]) for r in found.iter_rows(named=True)}
    assert got == {(1, "push_before_infusion"), (2, "sequential_concurrent")}, found.select("line_number", "reason")
    assert "claim W5 line 3" in found.filter(pl.col("line_number") == 1).row(0, named=True)["message"]
    fixed = [_line("W5", 1, "96375", 1, "08:50", "09:00"), _line("W5", 2, "96368", 1, "09:00", "09:30"),
             _line("W5", 3, "96365", 1, "09:00", "12:00"), _line("W5", 4, "96366", 2)]
    assert _run(tmp_path, "fixed", fixed).height == 0
