"""Hostile inputs of probe 26C: JSON keys in capitals and a claim object's line-only fields read as
absent without a word (a JZ unseen: "neither JZ nor a JW line"); two coverage lists whose names differ
only in case, one silently dropped (a covered diagnosis reported not covered).

The contract: a field meant as a claims field is read, or an input warning says it is not; a setting
the product accepts is never silently ignored. (The repeated line whose copies give different parts
of it, D1, is in tests/test_repeated_rows.py.)
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from scrubber.cli import main
from scrubber.engine import scrub

LINE = {"line_number": 1, "date_of_service": "2026-03-02", "procedure_code": "J1459", "units": 70, "charge": 6650,
        "ndc": "44206043810", "drug_dose_mg": 35000, "drug_wasted_mg": 0}
CLAIM = {"claim_id": "A", "member_id": "M1", "payer": "MEDICARE", "place_of_service": "11", "diagnoses": ["D80.0"]}


def _claims(tmp_path: Path, claim: dict, line: dict) -> Path:
    path = tmp_path / "claims.json"
    path.write_text(json.dumps({"claims": [{**claim, "lines": [line]}]}), encoding="utf-8")
    return path


def _problems(result: object) -> list[str]:
    return [w["problem"] for w in result.input_warnings]  # type: ignore[attr-defined]


@pytest.mark.parametrize("key", ["MODIFIER_1", "Modifier_1"])
def test_a_json_key_in_capitals_is_named_as_not_read(tmp_path: Path, key: str) -> None:
    result = scrub([str(_claims(tmp_path, CLAIM, {**LINE, key: "JZ"}))])
    # (the JZ is not read: missing-modifier fires, and the warning says why)
    assert result.findings.get_column("check_id").to_list() == ["missing-modifier"]
    assert any(f"'{key}'" in p and "did you mean 'modifier_1'" in p for p in _problems(result)), _problems(result)


def test_near_miss_the_key_as_written_in_the_format_is_read_without_a_warning(tmp_path: Path) -> None:
    result = scrub([str(_claims(tmp_path, CLAIM, {**LINE, "modifier_1": "JZ"}))])
    assert result.findings.height == 0 and not _problems(result)


@pytest.mark.parametrize("key", ["modifier_1", "diagnosis_1"])
def test_a_line_only_field_on_the_claim_object_is_named_as_not_read(tmp_path: Path, key: str) -> None:
    value = "JZ" if key == "modifier_1" else "Z00.00"
    result = scrub([str(_claims(tmp_path, {**CLAIM, key: value}, LINE))])
    assert any(f"'{key}' on a claim object is not read" in p for p in _problems(result)), _problems(result)


def test_near_miss_a_claim_level_field_lines_inherit_gives_no_warning(tmp_path: Path) -> None:
    result = scrub([str(_claims(tmp_path, {**CLAIM, "billing_provider": "1234567893"}, {**LINE, "modifier_1": "JZ"}))])
    assert not _problems(result)


POLICY = """name = "ACME"
extends = "DEFAULT"
payers = ["AETNA"]
[coverage]
other = ["acme_ig"]
[coverage.lists]
{lists}
"""
CSV = ("claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,modifier_1,units,"
       "charge,diagnosis_1,ndc,drug_dose_mg,drug_wasted_mg,route,infusion_start,infusion_stop\n"
       "A1,1,MA1,AETNA,11,2026-03-02,96365,,1,350.00,D80.0,,,,IV,2026-03-02T09:00,2026-03-02T10:00\n"
       "A1,2,MA1,AETNA,11,2026-03-02,J1459,JZ,70,6650.00,D80.0,44206043810,35000,0,IV,,\n")


def _run_with_lists(tmp_path: Path, lists: str) -> object:
    policy = tmp_path / "acme.toml"
    policy.write_text(POLICY.format(lists=lists), encoding="utf-8")
    claims = tmp_path / "claims.csv"
    claims.write_text(CSV, encoding="utf-8")
    return CliRunner().invoke(main, ["check", str(claims), "--policy", str(policy), "--no-config", "--json", "-",
                                     "--fail-on", "never"])


def test_two_coverage_lists_named_alike_but_for_case_are_refused(tmp_path: Path) -> None:
    out = _run_with_lists(tmp_path, 'Acme_IG = ["D80.0"]\nACME_IG = ["G61.81"]')
    assert out.exit_code == 2, out.output
    assert "name the same list ACME_IG" in out.output and "Traceback" not in out.output


def test_near_miss_one_list_in_any_case_is_read(tmp_path: Path) -> None:
    out = _run_with_lists(tmp_path, 'Acme_IG = ["D80.0", "G61.81"]')
    assert out.exit_code == 0, out.output
    findings = json.loads(out.stdout)["findings"]
    assert not [f for f in findings if f["check_id"] == "noncovered-diagnosis"], findings


TIMES = ("claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,units,charge,"
         "diagnosis_1,infusion_start,infusion_stop\n"
         "X2,1,MY,AETNA,11,2026-03-02,96365,1,350.00,D80.0,{start},{stop}\n"
         "X2,2,MY,AETNA,11,2026-03-02,96366,3,330.00,D80.0,,\n")


def test_infusion_times_on_another_date_than_the_service_are_not_used(tmp_path: Path) -> None:
    # Probe 26C D6: times a year off (or in 1900) were judged by their clock times alone.
    path = tmp_path / "off.csv"
    path.write_text(TIMES.format(start="2025-03-02T09:00", stop="2025-03-02T12:00"), encoding="utf-8")
    result = scrub([str(path)])
    assert result.findings.height == 0
    assert result.summary["by_check"]["unit-miscalculation"]["lines_not_evaluated"] >= 1
    assert any("more than a day from the date of service" in p for p in _problems(result)), _problems(result)


def test_near_miss_an_infusion_started_the_evening_before_is_used(tmp_path: Path) -> None:
    path = tmp_path / "overnight.csv"
    path.write_text(TIMES.format(start="2026-03-01T22:00", stop="2026-03-02T01:00"), encoding="utf-8")
    result = scrub([str(path)])
    # 180 minutes support 96366 x2: x3 is one over, judged by the times
    assert [(r["check_id"], r["reason"]) for r in result.findings.iter_rows(named=True)] == [
        ("unit-miscalculation", "hours_over")], result.findings
    assert not _problems(result)


def test_whole_number_ids_stored_as_floats_in_parquet_read_as_a_csv_writes_them(tmp_path: Path) -> None:
    # Probe 26C D8: pandas writes an integer column holding a null as floats; "1001.0" matched no
    # records row and split the member from a CSV's lines.
    import polars as pl

    frame = pl.DataFrame({
        "claim_id": [1001.0, 1001.0, None], "line_number": [1.0, 2.0, 1.0], "member_id": [5551234.0, 5551234.0, 7.5],
        "payer": ["AETNA"] * 3, "place_of_service": [11.0, 11.0, 11.0],
        "date_of_service": ["2026-03-02"] * 3, "procedure_code": ["96365", "96366", "96365"],
        "units": [1.0, 2.0, 1.0], "charge": [350.0, 120.0, 350.0], "diagnosis_1": ["D80.0"] * 3,
        "infusion_start": ["2026-03-02T09:00", None, None], "infusion_stop": ["2026-03-02T10:40", None, None]})
    path = tmp_path / "float_ids.parquet"
    frame.write_parquet(path)
    result = scrub([str(path)])
    # 100 minutes support 96366 x1: x2 is one over, on claim 1001 of member 5551234
    found = result.findings.select("claim_id", "member_id", "reason").rows()
    assert found == [("1001", "5551234", "hours_over")], found
    assert result.summary["rows_checked"] == 2 and result.summary["rows_read"] == 3  # no claim id: rejected


def test_a_start_the_day_before_that_never_reaches_the_date_of_service_is_not_used(tmp_path: Path) -> None:
    # Review 26D D7: the day-before allowance is for an infusion across midnight; 10:00-11:00 the day
    # before is the same recording error as two days off (a concurrent 96367 passed as sequential).
    path = tmp_path / "day_before.csv"
    path.write_text(TIMES.format(start="2026-03-01T09:00", stop="2026-03-01T12:00"), encoding="utf-8")
    result = scrub([str(path)])
    assert result.findings.height == 0
    assert any("more than a day from the date of service" in p for p in _problems(result)), _problems(result)


def test_an_add_on_dated_with_the_infusion_it_continues_past_midnight_keeps_its_times(tmp_path: Path) -> None:
    # Review 26E D3: addon-without-primary tells the biller to date the 96366 with its infusion (03-02);
    # its own times then start the day after its date, and were called unusable.
    rows = ("claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,units,charge,"
            "diagnosis_1,infusion_start,infusion_stop\n"
            "T3,1,MT3,AETNA,11,2026-03-02,96365,1,350.00,D80.0,2026-03-02T22:00,2026-03-03T01:00\n"
            "T3,2,MT3,AETNA,11,2026-03-02,96366,2,330.00,D80.0,2026-03-03T01:00,2026-03-03T02:00\n")
    path = tmp_path / "redated.csv"
    path.write_text(rows, encoding="utf-8")
    result = scrub([str(path)])
    assert not _problems(result)
    # 240 minutes in all support 96366 x3: x2 is one short, judged by both lines' times
    assert result.findings.select("reason").to_series().to_list() == ["hours_under"]


def _inpatient(tmp_path: Path, pos: str) -> object:
    rows = ("claim_id,line_number,member_id,payer,claim_type,place_of_service,date_of_service,procedure_code,units,"
            "charge,diagnosis_1,revenue_code,infusion_start,infusion_stop\n"
            f"IP1,1,MIP1,AETNA,institutional,{pos},2026-02-10,96365,1,350.00,D80.0,0260,2026-02-12T09:00,"
            "2026-02-12T10:00\n"
            f"IP1,2,MIP1,AETNA,institutional,{pos},2026-02-10,96366,3,330.00,D80.0,0260,,\n")
    path = tmp_path / f"stay_{pos}.csv"
    path.write_text(rows, encoding="utf-8")
    return scrub([str(path)])


def test_an_inpatient_line_dated_with_the_stays_first_day_keeps_its_times(tmp_path: Path) -> None:
    # Review 26E D4: an inpatient claim's lines take the stay's first day; times two days in were unusable.
    result = _inpatient(tmp_path, "21")
    assert not _problems(result) and result.findings.select("reason").to_series().to_list() == ["hours_none"]


def test_near_miss_an_outpatient_line_two_days_from_its_times_is_not_used(tmp_path: Path) -> None:
    result = _inpatient(tmp_path, "22")
    assert any("more than a day from the date of service" in p for p in _problems(result)), _problems(result)
