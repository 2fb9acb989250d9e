"""An infusion running through a hospital observation stay longer than a day is judged by its time.

Probe 20A: a Medicare outpatient claim with observation (G0378) over two dates, 96365 from 14:00
on the first day and 96366 x12 + x20 over both dates. At 24 h 00 min the 9 hours over the record were
found; one minute later the times were called a typo (the tool's one-day bound) and nothing was. A
hospital claim's bound is an observation stay's two days (MANIFEST ``timing``); a practitioner's
claim keeps one day.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from scrubber.engine import scrub

HEADER = ("claim_id,line_number,member_id,payer,claim_type,place_of_service,date_of_service,procedure_code,units,"
          "charge,diagnosis_1,revenue_code,infusion_start,infusion_stop")


def _claim(claim: str, stop: str, claim_type: str = "institutional") -> list[str]:
    return [f"{claim},1,M{claim},MEDICARE,{claim_type},22,2026-03-10,G0378,30,1500,E86.0,0762,,",
            f"{claim},2,M{claim},MEDICARE,{claim_type},22,2026-03-10,96365,1,400,E86.0,0260,2026-03-10T14:00,{stop}",
            f"{claim},3,M{claim},MEDICARE,{claim_type},22,2026-03-10,96366,12,1080,E86.0,0260,,",
            f"{claim},4,M{claim},MEDICARE,{claim_type},22,2026-03-11,96366,20,1800,E86.0,0260,,"]


def _run(tmp_path: Path, rows: list[str]) -> tuple[pl.DataFrame, list]:
    path = tmp_path / "claims.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    result = scrub([str(path)], select=["unit-miscalculation"])
    return result.findings, result.input_warnings


def test_a_drip_of_more_than_a_day_in_an_observation_stay_is_judged(tmp_path: Path) -> None:
    findings, warnings = _run(tmp_path, _claim("W04", "2026-03-11T14:01") + _claim("W01", "2026-03-11T16:00"))
    fixes = dict(findings.select("claim_id", "suggested_fix").rows())
    # 1441 minutes: 23 additional hours; 1560 minutes: 25 (CPT: more than 30 minutes past the last hour).
    assert fixes["W04"].startswith("Bill 96366 x23 instead of x32"), fixes
    assert fixes["W01"].startswith("Bill 96366 x25 instead of x32"), fixes
    assert not any("cannot end" in str(w) for w in warnings)


def test_near_miss_more_than_two_days_or_a_practitioners_day_is_still_a_typo(tmp_path: Path) -> None:
    # 48 h 01 min on a hospital claim, 24 h 01 min on a practitioner's: unusable times, named, not judged.
    findings, warnings = _run(tmp_path, _claim("W05", "2026-03-12T14:01")
                              + _claim("P01", "2026-03-11T14:01", claim_type="professional"))
    assert findings.height == 0, findings.select("claim_id", "reason").to_dicts()
    assert any("2 line(s) document an infusion_stop that cannot end" in str(w) for w in warnings), warnings
