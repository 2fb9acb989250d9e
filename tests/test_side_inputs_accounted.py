"""Side inputs are accounted for like claims: a records row used by nothing is listed with its reason,
the records read are counted, and a policy file read with a default it does not state says so
(probe 23H B1, B3)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from scrubber.cli import main

CLAIMS = """\
claim_id,line_number,member_id,payer,claim_type,place_of_service,date_of_service,procedure_code,modifier_1,units,\
charge,diagnosis_1,ndc,drug_dose_mg,drug_wasted_mg,route,infusion_start,infusion_stop
PCN-2011,1,M1,MEDICARE,professional,11,2026-03-02,96365,,{units},350.00,D80.0,,,,IV,,
PCN-2011,2,M1,MEDICARE,professional,11,2026-03-02,J1459,JZ,70,6650.00,D80.0,44206043810,,,IV,,
"""
RECORDS = """\
claim_id,line_number,drug_dose_mg,route,infusion_start,infusion_stop
PCN-2011,1,,IV,2026-03-02T09:00,2026-03-02T11:45
PCN-2011,2,35000,IV,,
PCN-9999,1,,IV,2026-03-02T09:00,2026-03-02T11:45
"""


def _run(tmp_path: Path, units: str, *extra: str) -> tuple[dict, str]:
    claims = tmp_path / "claims.csv"
    claims.write_text(CLAIMS.format(units=units))
    records = tmp_path / "records.csv"
    records.write_text(RECORDS)
    result = CliRunner().invoke(main, ["check", str(claims), "--no-config", "--records", str(records), "--json",
                                       str(tmp_path / "out.json"), "--fail-on", "never", *extra])
    assert result.exit_code == 0, result.output
    return json.loads((tmp_path / "out.json").read_text()), result.output


def test_a_record_of_a_rejected_claim_row_is_listed_as_not_used(tmp_path: Path) -> None:
    """Units "x1" reject line 1; its record (times) reached nothing and was listed nowhere, so the
    records file's rows were not all accounted for."""
    doc, _ = _run(tmp_path, "x1")
    assert doc["summary"]["rejected_rows"] == 1
    assert [(u["row"], u["claim_id"], u["line_number"], u["reason"].split(" (")[0])
            for u in doc["unmatched_records"]] == [
        (2, "PCN-2011", "1", "the claim line it documents was rejected"),
        (4, "PCN-9999", "1", "record matches no claim line"),
    ]
    assert doc["summary"]["records_read"] == 3 and doc["summary"]["unmatched_records"] == 2
    terminal = CliRunner().invoke(main, ["check", str(tmp_path / "claims.csv"), "--no-config", "--records",
                                         str(tmp_path / "records.csv"), "--fail-on", "never"]).output
    assert "1 administration record(s) matched no claim line; 1 record(s) of a rejected claim line not used" \
        in terminal


def test_records_of_checked_lines_are_used_and_only_the_stray_one_is_listed(tmp_path: Path) -> None:
    """The near miss: the same files with line 1 readable: its record is used, not listed."""
    doc, output = _run(tmp_path, "1")
    assert doc["summary"]["rejected_rows"] == 0
    assert [(u["row"], u["reason"]) for u in doc["unmatched_records"]] == [(4, "record matches no claim line")]
    assert doc["summary"]["records_read"] == 3
    assert "rejected claim line" not in output and doc["unmatched_records"][0]["claim_id"] == "PCN-9999"


def test_the_html_report_counts_the_records_read_and_not_used(tmp_path: Path) -> None:
    html = tmp_path / "report.html"
    _run(tmp_path, "x1", "--html", str(html))
    text = html.read_text()
    assert "3 administration record(s) read, 2 not used or with a problem" in text
    assert "Administration records not used (2)" in text


def test_a_run_without_records_has_no_records_total(tmp_path: Path) -> None:
    claims = tmp_path / "claims.csv"
    claims.write_text(CLAIMS.format(units="1"))
    result = CliRunner().invoke(main, ["check", str(claims), "--no-config", "--json", "-", "--fail-on", "never"])
    assert result.exit_code == 0, result.output
    assert "records_read" not in json.loads(result.stdout)["summary"]


POLICY_ON_MEDICARE_PAYERS = 'name = "ACME"\npayers = ["MEDICARE PART B", "ACME"]\n'


def _policy_run(tmp_path: Path, text: str) -> tuple[dict, str]:
    claims = tmp_path / "claims.csv"
    claims.write_text(CLAIMS.format(units="1").replace(",MEDICARE,", ",MEDICARE PART B,"))
    policy = tmp_path / "acme.toml"
    policy.write_text(text)
    result = CliRunner().invoke(main, ["check", str(claims), "--no-config", "--policy", str(policy), "--json",
                                       str(tmp_path / "out.json"), "--fail-on", "never"])
    assert result.exit_code == 0, result.output
    return json.loads((tmp_path / "out.json").read_text()), result.output


def test_a_policy_without_extends_says_it_is_read_as_default(tmp_path: Path) -> None:
    """A file naming Medicare's payers without ``extends`` gave their claims commercial rules (no JZ,
    no KX) without a word: read as before, and said, naming the payers and both ways out."""
    doc, output = _policy_run(tmp_path, POLICY_ON_MEDICARE_PAYERS)
    (warning,) = [w for w in doc["input_warnings"] if "extends" in w["problem"]]
    assert warning["source"].endswith("acme.toml")
    assert 'read as extends = "DEFAULT"' in warning["problem"]
    assert "its payers MEDICARE PART B are Medicare's by name" in warning["problem"]
    assert 'add extends = "MEDICARE"' in warning["problem"]
    assert "does not say which policy it extends" in output


def test_a_policy_without_extends_for_other_payers_names_no_medicare_payer(tmp_path: Path) -> None:
    doc, _ = _policy_run(tmp_path, 'name = "ACME"\npayers = ["ACME", "MEDICARE PART B"]\n'
                         '[payer_patterns]\nprefix = ["ACME"]\n')
    (warning,) = [w for w in doc["input_warnings"] if "extends" in w["problem"]]
    assert "MEDICARE PART B" in warning["problem"] and "ACME" not in warning["problem"].split("payers")[1]
    doc, _ = _policy_run(tmp_path, 'name = "ACME"\npayers = ["ACME"]\n')
    (warning,) = [w for w in doc["input_warnings"] if "extends" in w["problem"]]
    assert "Medicare's by name" not in warning["problem"] and 'add extends = "DEFAULT"' in warning["problem"]


def test_a_policy_that_states_its_base_has_no_notice(tmp_path: Path) -> None:
    """The near miss: the same file stating its base (either one) is read without a word."""
    for base in ("DEFAULT", "MEDICARE"):
        doc, output = _policy_run(tmp_path, POLICY_ON_MEDICARE_PAYERS + f'extends = "{base}"\n')
        assert not [w for w in doc["input_warnings"] if "extends" in w["problem"]], base
        assert "does not say which policy it extends" not in output
