"""A line documented under its infusion floor is one push, whatever its units: the one-initial rule and
the time rules name the same code and units on it (review 26D D6: "report as 96375 x2" from
duplicate-initial-infusion beside "bill 96375 x1" from infusion-too-short on one line; 25D D3 fixed
the kept line only)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from scrubber.engine import scrub

HEADER = ("claim_id,line_number,member_id,payer,claim_type,place_of_service,date_of_service,procedure_code,units,"
          "charge,diagnosis_1,revenue_code,billing_provider,infusion_start,infusion_stop")


def _fixes(tmp_path: Path, units: int, stop: str) -> dict[str, str]:
    rows = [HEADER,
            f"DF1,1,MDF1,AETNA,professional,11,2026-04-07,96365,{units},350,A41.9,,1234567893,"
            f"2026-04-07T08:50,2026-04-07T{stop}",
            "DF1,2,MDF1,AETNA,professional,11,2026-04-07,96365,1,350,A41.9,,1234567893,2026-04-07T10:00,"
            "2026-04-07T11:00"]
    path = tmp_path / "short.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    found = scrub([str(path)]).findings.filter(pl.col("line_number") == 1)
    return dict(zip(found.get_column("check_id"), found.get_column("suggested_fix"), strict=True))


def test_a_short_line_billed_x3_beside_the_kept_infusion_is_one_push_in_both_fixes(tmp_path: Path) -> None:
    fixes = _fixes(tmp_path, 3, "09:00")
    assert "as 96375 x1 instead of 96365" in fixes["duplicate-initial-infusion"], fixes
    assert fixes["infusion-too-short"].startswith("Bill 96375 x1 instead of 96365"), fixes


def test_near_miss_a_line_of_16_minutes_is_an_infusion_and_keeps_its_units_in_the_fix(tmp_path: Path) -> None:
    fixes = _fixes(tmp_path, 2, "09:06")
    assert "infusion-too-short" not in fixes and "96375" not in fixes["duplicate-initial-infusion"], fixes
