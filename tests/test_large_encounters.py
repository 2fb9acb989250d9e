"""One encounter of thousands of lines (an export putting a placeholder member or one date on many
claims) costs what its lines cost, not their square (probe 22B: concurrent-hydration paired every
hydration line with every other infusion of the encounter, 16,000 lines took 71 s and 10 GB)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import checks.concurrent_hydration as ch
from scrubber.engine import scrub

HEADER = ("claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,modifier_1,units,"
          "charge,diagnosis_1,infusion_start,infusion_stop")
# Hydration 09:00-10:30 beside infusions of which some overlap it and some do not.
ROWS = [
    "H1,1,M1,MEDICARE,11,2026-03-02,96365,,1,300,D80.0,2026-03-02T09:00,2026-03-02T09:45",
    "H1,2,M1,MEDICARE,11,2026-03-02,96367,,1,200,D80.0,2026-03-02T10:00,2026-03-02T10:40",
    "H1,3,M1,MEDICARE,11,2026-03-02,96360,XE,1,150,D80.0,2026-03-02T09:30,2026-03-02T10:30",
    "H1,4,M1,MEDICARE,11,2026-03-02,96367,,1,200,D80.0,2026-03-02T10:30,2026-03-02T11:00",
    "H1,5,M1,MEDICARE,11,2026-03-02,96367,,1,200,D80.0,2026-03-02T08:00,2026-03-02T09:30",
]


def _overlapped(tmp_path: Path) -> dict[int, str]:
    path = tmp_path / "claims.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    f = scrub([str(path)], select=["concurrent-hydration"]).findings
    return dict(f.select("line_number", "message").iter_rows())


def test_a_large_encounter_counts_the_lines_a_hydration_line_overlaps(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # The hydration 09:30-10:30 overlaps lines 1 (09:00-09:45) and 2 (10:00-10:40); it only touches
    # line 4 (10:30) and line 5 (09:30). Counted instead of named, the number is the same.
    named = _overlapped(tmp_path)
    assert "overlaps 96365 line 1 (09:00-09:45), 96367 line 2 (10:00-10:40) b" in named[3]
    monkeypatch.setattr(ch, "_MAX_PAIRS", 0)
    counted = _overlapped(tmp_path)
    assert "overlaps 2 other infusion line(s) of the encounter" in counted[3]
    assert counted.keys() == named.keys()


def test_thousands_of_lines_on_one_member_and_date_stay_linear(tmp_path: Path) -> None:
    rows = [f"C{i // 4},{i % 4 + 1},M1,MEDICARE,11,2026-03-02,{['96365', '96366', '96367', '96361', '96360'][i % 5]},"
            "XE,1,100,D80.0,2026-03-02T09:00,2026-03-02T10:30" for i in range(6000)]
    path = tmp_path / "one_encounter.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    f = scrub([str(path)], select=["concurrent-hydration"]).findings
    assert f.height == 2400  # every hydration line (96360, 96361): 2 of every 5
    assert f.get_column("message").str.contains("overlaps 3600 other infusion line").all()
    assert f.select(pl.col("message").str.len_chars().max()).item() < 5000
