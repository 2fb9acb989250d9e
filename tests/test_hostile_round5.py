"""Bad settings and paths give a one-line reason, not "unexpected ..." (probe J, low).

* A ``pyproject.toml`` in a parent folder whose ``tool`` is not a table (``tool = 1``): "unexpected
  TypeError" on every run below it. It holds no scrubber settings.
* A findings file (``scrub diff``, ``--compare``) with an unpaired surrogate escape: "unexpected
  UnicodeEncodeError".
* An output whose folder is a file (``--json notes.txt/x.json``): "File exists".
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from conftest import ROOT

from scrubber.cli import main

SAMPLE = str(ROOT / "sample_claims" / "claims.csv")


def test_a_parent_pyproject_whose_tool_is_not_a_table_is_not_a_config(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "pyproject.toml").write_text("tool = 1\n", encoding="utf-8")
    below = tmp_path / "work"
    below.mkdir()
    monkeypatch.chdir(below)
    result = CliRunner().invoke(main, ["check", SAMPLE, "-q", "--fail-on", "never"])
    assert result.exit_code == 0, result.output


def test_a_findings_file_with_a_lone_surrogate_is_refused_in_one_line(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    runner = CliRunner()
    runner.invoke(main, ["check", SAMPLE, "--no-config", "-q", "--json", str(good), "--fail-on", "never"])
    doc = json.loads(good.read_text(encoding="utf-8"))
    doc["findings"][0]["message"] = "x\udcff"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc), encoding="utf-8")
    for args in (["diff", str(bad), str(good)], ["check", SAMPLE, "--no-config", "-q", "--compare", str(bad)]):
        result = runner.invoke(main, args)
        assert result.exit_code == 2 and "unpaired surrogate" in result.output, result.output
        assert "unexpected" not in result.output
    # Near miss: the good file compares.
    assert runner.invoke(main, ["diff", str(good), str(good)]).exit_code == 0


def test_an_output_whose_folder_is_a_file_says_so(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hi\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", SAMPLE, "--no-config", "-q", "--json", str(notes / "x.json")])
    assert result.exit_code == 2 and "is a file, not a folder" in result.output, result.output
    assert notes.read_text(encoding="utf-8") == "hi\n"


def _timed_run(tmp_path: Path, z1_times: str, z2_times: str, z1_hours: int, z2_hours: int) -> dict:
    """The findings JSON of two claims of 2026-03-02 (a 96365 with the given times and a 96366)."""
    claims = tmp_path / "claims.csv"
    claims.write_text(
        "claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,units,diagnosis_1,"
        "infusion_start,infusion_stop\n"
        f"Z1,1,M11,MEDICARE,11,2026-03-02,96365,1,E11.9,{z1_times}\n"
        f"Z1,2,M11,MEDICARE,11,2026-03-02,96366,{z1_hours},E11.9,,\n"
        f"Z2,1,M12,MEDICARE,11,2026-03-02,96365,1,E11.9,{z2_times}\n"
        f"Z2,2,M12,MEDICARE,11,2026-03-02,96366,{z2_hours},E11.9,,\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(claims), "--no-config", "--json", "-", "--fail-on", "never"])
    return json.loads(result.stdout)


def test_times_that_cannot_be_an_infusion_are_named_not_only_counted(tmp_path: Path) -> None:
    """A stop typed before its start left the line's minutes unevaluated with only a summary counter: a
    gate passed 96366 x3 beside it (probe I). The file now gets an input warning naming the row; an
    infusion across midnight (22:00 to 01:00 on one date) is read as 180 minutes and named nowhere."""
    doc = _timed_run(tmp_path, "2026-03-02T10:00,2026-03-02T09:00", "2026-03-02T22:00,2026-03-02T01:00", 3, 2)
    problems = [w["problem"] for w in doc["input_warnings"]]
    assert len(problems) == 1 and "1 line(s) document an infusion_stop" in problems[0] and "row 2" in problems[0]
    assert "row 4" not in problems[0]



def test_times_of_a_code_the_time_rules_do_not_read_are_not_named(tmp_path: Path) -> None:
    """96416 initiates a prolonged chemotherapy infusion with a pump (CPT: more than 8 hours): its
    record documents days, and its minutes are read by no rule, so "check the times" sent a biller to
    fix a right record (probe 25A D3). A timed 96413 whose stop falls two days on is still named."""
    claims = tmp_path / "pump.csv"
    claims.write_text(
        "claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,units,diagnosis_1,"
        "infusion_start,infusion_stop\n"
        "P1,1,M1,MEDICARE,11,2026-03-10,96413,1,C18.7,2026-03-10T09:00,2026-03-10T11:00\n"
        "P1,2,M1,MEDICARE,11,2026-03-10,96416,1,C18.7,2026-03-10T11:00,2026-03-12T09:00\n"
        "P2,1,M2,MEDICARE,11,2026-03-10,96413,1,C18.7,2026-03-10T09:00,2026-03-12T09:00\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(claims), "--no-config", "--json", "-", "--fail-on", "never"])
    problems = [w["problem"] for w in json.loads(result.stdout)["input_warnings"]]
    assert len(problems) == 1 and "1 line(s) document an infusion_stop" in problems[0], problems
    assert "row 4" in problems[0] and "row 3" not in problems[0], problems[0]
