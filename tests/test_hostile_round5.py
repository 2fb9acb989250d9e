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
