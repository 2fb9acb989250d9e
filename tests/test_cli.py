"""The command line through click's runner: outputs, selection, exit codes, explain, policies."""

from __future__ import annotations

import json

from click.testing import CliRunner
from conftest import ROOT

from scrubber.cli import main
from scrubber.registry import all_checks

SAMPLE = str(ROOT / "sample_claims" / "claims.csv")

CLEAN = """
claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,modifier_1,units,charge,diagnosis_1,drug_dose_mg,infusion_start,infusion_stop
C1,1,M1,MEDICARE,11,2026-03-02,96365,,1,300,D80.0,,2026-03-02T09:00,2026-03-02T10:00
C1,2,M1,MEDICARE,11,2026-03-02,J1459,JZ,70,7000,D80.0,35000,,
"""
UNDER = """
claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,modifier_1,units,charge,diagnosis_1,drug_dose_mg
C2,1,M2,AETNA,11,2026-03-02,96365,,1,300,D69.3,
C2,2,M2,AETNA,11,2026-03-02,J1459,,69,6900,D69.3,35000
"""


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_json_to_stdout_matches_the_contract() -> None:
    result = run("check", SAMPLE, "--json", "-")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert set(doc) >= {"findings", "summary", "rejected_rows"}
    first = doc["findings"][0]
    for key in ("claim_id", "line_number", "check_id", "severity", "message", "suggested_fix", "appeal_text",
                "citation"):
        assert key in first
    assert {f["check_id"] for f in doc["findings"]} == {c.id for c in all_checks()}
    s = doc["summary"]
    assert s["rows_read"] == s["rows_checked"] + s["rejected_rows"]


def test_exit_0_on_a_clean_batch_and_summary_table(write_csv) -> None:
    result = run("check", str(write_csv(CLEAN)))
    assert result.exit_code == 0, result.output
    assert "addon-without-primary" in result.stdout and "PASS" in result.stdout


def test_fail_on_controls_the_exit_code(write_csv) -> None:
    path = str(write_csv(UNDER))  # one warning: 69 units billed for 70 documented
    assert run("check", path).exit_code == 0
    assert run("check", path, "--fail-on", "warning").exit_code == 1
    assert run("check", path, "--fail-on", "never").exit_code == 0
    assert run("check", SAMPLE, "--fail-on", "never", "--json", "-").exit_code == 0


def test_select_and_ignore() -> None:
    doc = json.loads(run("check", SAMPLE, "--select", "route-mismatch,over-cap-96371", "--json", "-").stdout)
    assert {f["check_id"] for f in doc["findings"]} == {"route-mismatch", "over-cap-96371"}
    doc = json.loads(run("check", SAMPLE, "--ignore", "route-mismatch", "--json", "-").stdout)
    assert "route-mismatch" not in {f["check_id"] for f in doc["findings"]}
    nothing = run("check", SAMPLE, "--select", "route-mismatch", "--ignore", "route-mismatch", "--json", "-")
    assert nothing.exit_code == 2 and nothing.stdout == ""  # no check left would pass anything: usage error
    assert nothing.stderr == "scrub: error: --select and --ignore leave no check to run\n"


def test_unknown_check_id_is_a_usage_error() -> None:
    result = run("check", SAMPLE, "--select", "no-such-check")
    assert result.exit_code == 2
    assert "no-such-check" in result.stderr and "Traceback" not in result.output


def test_missing_input_exits_2_with_one_line() -> None:
    result = run("check", "does/not/exist.csv")
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0 and "does/not/exist.csv" in result.stderr


def test_csv_output_and_files(tmp_path) -> None:
    out_csv, out_json = tmp_path / "f.csv", tmp_path / "f.json"
    result = run("check", SAMPLE, "--csv", str(out_csv), "--json", str(out_json))
    assert result.exit_code == 1
    header = out_csv.read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("claim_id,line_number,check_id,severity,message")
    rows = len(out_csv.read_text(encoding="utf-8").splitlines()) - 1
    assert rows == len(json.loads(out_json.read_text())["findings"])


def test_checks_lists_every_check_and_explain_prints_docs() -> None:
    listing = run("checks").stdout
    for check in all_checks():
        assert check.id in listing
        text = run("explain", check.id).stdout
        assert "**Why payers deny it.**" in text and "**Sources.**" in text
    bad = run("explain", "nope")
    assert bad.exit_code == 2 and "unknown check id" in bad.stderr


def test_policy_file_overrides_cap_and_maps_a_payer(tmp_path, write_csv) -> None:
    claims = write_csv("""
    claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,units,charge,diagnosis_1
    P1,1,M1,ACME HEALTH,11,2026-04-10,96369,1,200,D80.0
    P1,2,M1,ACME HEALTH,11,2026-04-10,96371,2,200,D80.0
    """)
    base = json.loads(run("check", str(claims), "--json", "-").stdout)
    assert [f["check_id"] for f in base["findings"]] == ["over-cap-96371"]
    policy = tmp_path / "acme.toml"
    policy.write_text('name = "ACME"\nextends = "DEFAULT"\npayers = ["Acme Health"]\n[caps]\n"96371" = 2\n')
    doc = json.loads(run("check", str(claims), "--policy", str(policy), "--json", "-").stdout)
    assert doc["findings"] == []
    assert any(p["name"] == "ACME" for p in doc["provenance"]["policies"])


def test_policy_with_unknown_key_is_rejected(tmp_path) -> None:
    policy = tmp_path / "bad.toml"
    policy.write_text('name = "X"\n[jw_jz]\nexmpt_pos = ["21"]\n')
    result = run("check", SAMPLE, "--policy", str(policy))
    assert result.exit_code == 2
    assert "exmpt_pos" in result.stderr and "Traceback" not in result.output


def test_format_writes_that_format_to_stdout() -> None:
    as_format = run("check", SAMPLE, "--format", "json", "--fail-on", "never")
    as_dash = run("check", SAMPLE, "--json", "-", "--fail-on", "never")
    assert as_format.exit_code == 0
    assert json.loads(as_format.stdout)["findings"] == json.loads(as_dash.stdout)["findings"]
    header = run("check", SAMPLE, "--format", "csv", "--fail-on", "never").stdout.splitlines()[0]
    assert header.startswith("claim_id,line_number,check_id,severity,message")


def test_two_outputs_on_stdout_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["check", SAMPLE, "--format", "json", "--csv", "-"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "scrub: error: only one output can go to standard output (-)"
    result = CliRunner().invoke(main, ["check", SAMPLE, "--format", "json", "--json", "out.json"])
    assert result.exit_code == 2 and "names a file too" in result.stderr


def test_a_closed_pipe_is_not_an_error() -> None:
    """`scrub check ... --html - | head -c 10`: the reader leaving early prints nothing on stderr.

    (The HTML of the sample is larger than a pipe's buffer, so the write really meets a closed pipe.)
    """
    import subprocess
    import sys

    proc = subprocess.run(
        f'"{sys.executable}" -m scrubber.cli check "{SAMPLE}" --html - | head -c 10',
        shell=True, capture_output=True, text=True, cwd=ROOT, check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert proc.stdout == "<!DOCTYPE "
    assert proc.stderr == ""


def test_strict_validates_x12_structure(tmp_path) -> None:
    """--strict: an 837 whose SE01 segment count is wrong is unusable input (exit 2, one line)."""
    sample = ROOT / "sample_claims" / "claims.837"
    assert run("check", str(sample), "--strict", "--fail-on", "never").exit_code == 0
    text = sample.read_text(encoding="utf-8")
    se = text.index("SE*")
    end = text.index("*", se + 3)
    broken = tmp_path / "broken.837"
    broken.write_text(text[: se + 3] + "9999" + text[end:], encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(broken), "--strict"])
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert line.startswith(f"scrub: error: {broken}: fails X12 structural validation (--strict):"), line
    assert "\n" not in line
    # Without --strict the claims are still checked, and the envelope problem is a warning naming
    # the segment: on stderr, in the JSON (input_warnings) and in its summary count.
    relaxed = CliRunner().invoke(main, ["check", str(broken), "--fail-on", "never", "--json", "-"])
    assert relaxed.exit_code == 0
    (warning,) = relaxed.stderr.splitlines()
    assert warning.startswith(f"scrub: warning: {broken}: segment "), warning
    assert "SE01 says 9999 segments" in warning and "claims still checked" in warning
    doc = json.loads(relaxed.stdout)
    assert doc["summary"]["input_warnings"] == 1 and doc["summary"]["rows_checked"] > 0
    assert [w["source"] for w in doc["input_warnings"]] == [str(broken)]
    assert doc["input_warnings"][0]["problem"] in warning
    clean = CliRunner().invoke(main, ["check", str(sample), "--fail-on", "never", "--json", "-"])
    assert clean.stderr == "" and json.loads(clean.stdout)["input_warnings"] == []
