"""Parquet read as its CSV would be: timestamps in several zones, modifiers given in both forms.

Timestamps stored with a time zone: one instant, one duration, whatever zone each column is in.
A lakehouse writer may store the infusion start in the clinic's zone and the stop in UTC. Read each
column as the wall-clock time of its own zone, 09:00 New York to 16:45 UTC (11:45 New York) was 465
minutes instead of 165, "supports 96366 x7" (probe 27C D1); the Spark engine reads both in its session
zone. A file whose timestamps share one zone reads as its wall-clock time, as before.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from scrubber.engine import scrub


def _claims(path: Path, stop_zone: str) -> Path:
    start = dt.datetime(2026, 3, 2, 9, 0)
    stop = dt.datetime(2026, 3, 2, 11, 45)
    frame = pl.DataFrame({
        "claim_id": ["TZ1", "TZ1"], "line_number": [1, 2], "member_id": ["M1", "M1"], "payer": ["AETNA"] * 2,
        "place_of_service": ["11"] * 2, "date_of_service": [dt.date(2026, 3, 2)] * 2,
        "procedure_code": ["96365", "96366"], "units": [1, 2], "charge": [350.0, 220.0], "diagnosis_1": ["D80.0"] * 2,
        "infusion_start": [start, None], "infusion_stop": [stop, None],
    }).with_columns(
        pl.col("infusion_start").dt.replace_time_zone("America/New_York"),
        pl.col("infusion_stop").dt.replace_time_zone("America/New_York").dt.convert_time_zone(stop_zone))
    frame.write_parquet(path)
    return path


def test_a_start_and_stop_stored_in_two_zones_are_one_duration(tmp_path: Path) -> None:
    # 09:00-11:45 New York, the stop stored in UTC: 165 minutes support 96366 x2, as billed
    result = scrub([str(_claims(tmp_path / "mixed.parquet", "UTC"))], select=["unit-miscalculation"])
    assert result.summary["rows_checked"] == 2
    assert result.findings.height == 0, result.findings.get_column("message").to_list()


def test_one_zone_reads_as_its_wall_clock_time(tmp_path: Path) -> None:
    # the near miss: both in New York (read as 09:00-11:45), and a 96366 x3 there is one over the record
    path = _claims(tmp_path / "same.parquet", "America/New_York")
    pl.read_parquet(path).with_columns(pl.when(pl.col("line_number") == 2).then(3).otherwise(pl.col("units"))
                                       .alias("units")).write_parquet(path)
    result = scrub([str(path)], select=["unit-miscalculation"])
    assert result.findings.get_column("reason").to_list() == ["hours_over"]
    assert "09:00-11:45 = 165 min" in result.findings.item(0, "message")


def test_a_naive_start_beside_a_zoned_stop_is_refused_with_its_reason(tmp_path: Path) -> None:
    """Probe 28C D3: a start stored without a zone (New York wall clock) beside its stop in UTC was read
    09:00-16:45, every infusion hours too long, 100 findings for the sample's 44, without a word. Which
    zone the naive one was written in cannot be told: the file is refused, naming both columns. Near
    miss: both naive (the file's wall-clock time) is read."""
    import pytest

    from scrubber.errors import InputError

    path = _claims(tmp_path / "half.parquet", "UTC")
    pl.read_parquet(path).with_columns(pl.col("infusion_start").dt.replace_time_zone(None)).write_parquet(path)
    with pytest.raises(InputError, match="infusion_start stored without a time zone beside infusion_stop in UTC"):
        scrub([str(path)])
    naive = tmp_path / "naive.parquet"
    pl.read_parquet(path).with_columns(pl.col("infusion_stop").dt.convert_time_zone("America/New_York")
                                       .dt.replace_time_zone(None)).write_parquet(naive)
    result = scrub([str(naive)], select=["unit-miscalculation"])
    assert result.summary["rows_checked"] == 2 and result.findings.height == 0
    # (review 28E D3: a naive timestamp in a column the scrubber does not read is no reason to refuse it)
    extra = tmp_path / "extra.parquet"
    pl.read_parquet(_claims(tmp_path / "both.parquet", "UTC")).with_columns(
        pl.lit(dt.datetime(2026, 3, 3, 8, 0)).alias("exported_at")).write_parquet(extra)
    result = scrub([str(extra)], select=["unit-miscalculation"])
    assert result.summary["rows_checked"] == 2 and result.findings.height == 0


def test_a_modifier_given_in_both_forms_is_read_once(tmp_path: Path) -> None:
    """Probe 27C D8: a file with modifier_1..4 and a modifiers list read each code twice ("GY, GY"). Near
    miss: two different codes, one in each form, are both read."""
    path = tmp_path / "mods.parquet"
    pl.DataFrame({
        "claim_id": ["M1", "M1"], "line_number": [1, 2], "member_id": ["MM1"] * 2, "payer": ["AETNA"] * 2,
        "place_of_service": ["11"] * 2, "date_of_service": [dt.date(2026, 3, 2)] * 2,
        "procedure_code": ["96365", "96366"], "units": [1, 1], "charge": [350.0, 110.0], "diagnosis_1": ["D80.0"] * 2,
        "modifier_1": ["XS", "GY"], "modifiers": [["XS"], ["GA"]],
    }).write_parquet(path)
    lines = scrub([str(path)]).lines.sort("line_number")
    assert lines.get_column("modifiers").to_list() == [["XS"], ["GY", "GA"]]
