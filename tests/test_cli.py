"""The command line through click's runner: outputs, selection, exit codes, explain, policies."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from conftest import ROOT, sample_finding_count

from checks import all_checks
from scrubber.cli import main

SAMPLE = str(ROOT / "sample_claims" / "claims.csv")
SAMPLE_LINES = (ROOT / "sample_claims" / "claims.csv").read_text(encoding="utf-8").count("\n") - 1

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
        assert "Why payers deny it" in text and "Sources" in text
        assert "**" not in text  # plain text for a terminal
        assert ", ." not in " ".join(text.split())  # a source without a date: "issuer." (A52509)
        # The denial codes its findings carry (the card's, else its reasons'), never "CARC -" beside
        # findings that carry 151; the words of the money at risk fit every check.
        codes = {c for r in check.card.reasons.values() for c in r.carc} | set(check.card.carc)
        assert ("CARC -" in text) == (not codes), (check.id, text.splitlines()[2])
        assert "points to it" not in text or check.id == "noncovered-diagnosis"
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


def test_strict_without_an_x12_input_says_it_validated_nothing() -> None:
    """A setting accepted is never silently ignored: --strict on CSV input warns (probe N)."""
    result = run("check", SAMPLE, "--strict", "--fail-on", "never", "--json", "-")
    assert result.exit_code == 0
    warning = ("scrub: warning: --strict: no input is an X12 837 file, and --strict validates X12 files only: "
               "nothing more was validated")
    assert warning in result.stderr.splitlines()
    assert any(w["source"] == "--strict" for w in json.loads(result.stdout)["input_warnings"])
    # near miss: with an X12 input, or without --strict, no such warning
    x12 = run("check", str(ROOT / "sample_claims" / "claims.837"), "--strict", "--fail-on", "never")
    assert "--strict: no input" not in x12.stderr
    assert "--strict: no input" not in run("check", SAMPLE, "--fail-on", "never").stderr


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
    assert "SE01 says 9999 segments" in warning and "not fatal; --strict rejects the file" in warning
    doc = json.loads(relaxed.stdout)
    assert doc["summary"]["input_warnings"] == 1 and doc["summary"]["rows_checked"] > 0
    assert [w["source"] for w in doc["input_warnings"]] == [str(broken)]
    assert doc["input_warnings"][0]["problem"] in warning
    clean = CliRunner().invoke(main, ["check", str(sample), "--fail-on", "never", "--json", "-"])
    assert clean.stderr == "" and json.loads(clean.stdout)["input_warnings"] == []
    # In a folder, a file skipped (here a hidden one) is a warning --strict does not act on: only the
    # 837's own envelope problem says it would refuse the file.
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "broken.837").write_text(broken.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / ".hidden.csv").write_text("claim_id\n", encoding="utf-8")
    both = CliRunner().invoke(main, ["check", str(folder), "--fail-on", "never", "--json", "-"])
    assert both.exit_code == 0, both.output
    by_file = {line.split(": ")[2]: line for line in both.stderr.splitlines()}
    assert set(by_file) == {str(folder / ".hidden.csv"), str(folder / "broken.837")}, both.stderr
    assert "skipped" in by_file[str(folder / ".hidden.csv")] and "--strict" not in by_file[str(folder / ".hidden.csv")]
    assert "not fatal; --strict rejects the file" in by_file[str(folder / "broken.837")]


def test_a_count_warning_on_an_837_does_not_promise_strict(monkeypatch: pytest.MonkeyPatch) -> None:
    """A row count that differs from the rows read is the run's warning, not the 837's structure:
    --strict does not refuse the file for it, so the warning does not say it would."""
    from scrubber.loaders import RawInput

    sample = ROOT / "sample_claims" / "claims.837"
    monkeypatch.setattr(RawInput, "reconciliation", lambda self: [{"source": self.files[0], "counted": 999,
                                                                   "read": self.rows}])
    result = CliRunner().invoke(main, ["check", str(sample), "--fail-on", "never", "--json", "-"])
    (warning,) = result.stderr.splitlines()
    assert "an independent count finds 999 row(s)" in warning and "--strict" not in warning, warning


# -------------------------------------------------------------------------------------------------
# The gate fails closed.



BAD_DATE = "C3,1,M3,MEDICARE,11,2026-02-30,96365,,1,300,D80.0,,,"  # no such day


def test_a_rejected_row_fails_the_gate(write_csv) -> None:
    path = str(write_csv(CLEAN.rstrip("\n") + "\n" + BAD_DATE + "\n"))
    result = run("check", path)
    assert result.exit_code == 1
    assert result.stdout.rstrip().endswith("FAIL (--fail-on error): 1 row(s) could not be checked")
    for fail_on in ("warning", "info"):
        assert run("check", path, "--fail-on", fail_on).exit_code == 1
    assert run("check", path, "--fail-on", "never").exit_code == 0
    to_file = run("check", path, "--json", "/dev/null")
    assert to_file.exit_code == 1 and "1 row(s) could not be checked" in to_file.stderr
    to_stdout = run("check", path, "--json", "-")
    assert to_stdout.exit_code == 1
    assert to_stdout.stderr == "FAIL (--fail-on error): 1 row(s) could not be checked\n"
    json.loads(to_stdout.stdout)


def test_nothing_checked_exits_2_and_still_writes_its_outputs(write_csv, tmp_path) -> None:
    header = CLEAN.strip().splitlines()[0]
    path = str(write_csv(header + "\n" + BAD_DATE + "\n"))
    out = tmp_path / "f.json"
    result = run("check", path, "--json", str(out))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (f"scrub: error: {path}: nothing could be checked: all 1 row(s) "
                                              "were rejected")
    assert json.loads(out.read_text())["rejected_rows"][0]["row"] == 2  # the outputs say which rows and why
    terminal = run("check", path)
    assert terminal.exit_code == 2 and "nothing could be checked" in terminal.stdout
    # --fail-on never sets how findings and rejected rows count; nothing checked is unusable input at
    # every --fail-on, never a PASS (probe N: a cut-off 837 passed with --fail-on never).
    never = run("check", path, "--fail-on", "never")
    assert never.exit_code == 2 and "PASS" not in never.stdout and "nothing could be checked" in never.stdout
    header_only = str(write_csv(header + "\n", name="empty.csv"))
    assert run("check", header_only).exit_code == 2
    assert run("check", header_only, "--fail-on", "never").exit_code == 2
    # near miss: one row checked beside the rejected one passes a report-only run
    mixed = str(write_csv(CLEAN.strip() + "\n" + BAD_DATE + "\n", name="mixed.csv"))
    assert run("check", mixed, "--fail-on", "never").exit_code == 0


def test_unknown_check_id_suggests_the_nearest() -> None:
    result = run("check", SAMPLE, "--select", "route-mismach")
    assert result.exit_code == 2
    assert result.stderr == "scrub: error: --select: unknown check id 'route-mismach'; did you mean 'route-mismatch'?\n"
    far = run("check", SAMPLE, "--ignore", "zzz")
    assert far.exit_code == 2 and "unknown check id 'zzz' (see `scrub checks`)" in far.stderr
    assert "did you mean 'route-mismatch'" in run("explain", "route-mismatc").stderr


def test_ctrl_c_exits_130_with_one_line_and_leaves_nothing(tmp_path) -> None:
    """SIGINT while the run waits on standard input (a pipe that never ends): exit 130, one line."""
    import os
    import signal
    import subprocess
    import sys
    import time

    spool = tmp_path / "tmp"
    spool.mkdir()
    out = tmp_path / "f.json"
    proc = subprocess.Popen([sys.executable, "-m", "scrubber.cli", "check", "-", "--json", str(out)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(spool)})
    assert proc.stdin is not None
    proc.stdin.write(b"claim_id,line_number\n")
    proc.stdin.flush()
    deadline = time.monotonic() + 60
    while not any(spool.iterdir()) and time.monotonic() < deadline:  # it is reading standard input now
        time.sleep(0.05)
    assert any(spool.iterdir())
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert stderr.decode() == "scrub: error: interrupted\n" and stdout == b""
    assert not any(spool.iterdir()) and not out.exists()  # the spooled input removed, no output


# -------------------------------------------------------------------------------------------------
# Standard input, --rejected, --quiet, the terminal's findings list, progress.


def test_standard_input_is_read_with_its_format_from_content() -> None:
    sample_dir = ROOT / "sample_claims"
    for name in ("claims.csv", "claims.json"):
        result = CliRunner().invoke(main, ["check", "-", "--json", "-", "--fail-on", "never"],
                                    input=(sample_dir / name).read_bytes())
        assert result.exit_code == 0, result.output
        doc = json.loads(result.stdout)
        assert doc["provenance"]["inputs"] == ["<stdin>"] and len(doc["findings"]) == sample_finding_count()
        assert {f["source"] for f in doc["findings"]} == {"<stdin>"}
    x12 = CliRunner().invoke(main, ["check", "-", "--records", str(sample_dir / "records.csv"), "--json", "-",
                                    "--fail-on", "never"], input=(sample_dir / "claims.837").read_bytes())
    assert x12.exit_code == 0 and json.loads(x12.stdout)["provenance"]["formats"] == {"<stdin>": "x12"}
    empty = CliRunner().invoke(main, ["check", "-"], input=b"")
    assert empty.exit_code == 2 and empty.stderr == "scrub: error: <stdin>: empty file\n"
    twice = CliRunner().invoke(main, ["check", "-", "-"], input=b"")
    assert twice.exit_code == 2 and "only once" in twice.stderr


def test_rejected_rows_out_and_the_hint_names_it(write_csv, tmp_path) -> None:
    bad = [f"B{i},1,M{i},MEDICARE,11,2026-02-30,96365,,1,300,D80.0,,," for i in range(12)]
    path = str(write_csv(CLEAN.rstrip("\n") + "\n" + "\n".join(bad) + "\n"))
    terminal = run("check", path)
    assert "... and 2 more (--rejected PATH writes them all as CSV)." in terminal.stdout
    out = tmp_path / "rejected.csv"
    named = run("check", path, "--rejected", str(out))
    assert named.exit_code == 1
    assert f"... and 2 more (all of them are in {out})." in named.stdout
    rows = out.read_text().splitlines()
    assert rows[0] == "source,row,claim_id,line_number,reason,location" and len(rows) == 13
    assert rows[1].startswith(f"{path},4,B0,1,\"unparseable date_of_service '2026-02-30'")


def test_quiet_prints_nothing_but_errors(write_csv, tmp_path) -> None:
    path = str(write_csv(CLEAN.rstrip("\n") + "\n" + BAD_DATE + "\n"))
    quiet = run("check", path, "-q")
    assert quiet.exit_code == 1 and quiet.output == ""
    written = run("check", path, "--quiet", "--json", str(tmp_path / "f.json"))
    assert written.exit_code == 1 and written.output == "" and (tmp_path / "f.json").exists()
    error = run("check", "missing.csv", "-q")
    assert error.exit_code == 2 and error.stderr.startswith("scrub: error: missing.csv")


def test_terminal_lists_findings_by_claim_capped(tmp_path) -> None:
    result = run("check", SAMPLE)
    lines = result.stdout.splitlines()
    n = sample_finding_count()
    start = lines.index(f"Findings ({n}):")
    listed = lines[start + 1:start + 1 + n]
    assert listed[0].split() [:2] == ["PCN-2001:1", "addon-without-primary"]
    assert "Add-on 96366 on 2026-05-04 is billed without any of its primary services" in listed[0]
    claims = [line.split()[0].split(":")[0] for line in listed]
    assert claims == sorted(claims)  # grouped by claim
    rows = ["claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,units,charge"]
    rows += [f"A{i:03d},1,M{i},MEDICARE,11,2026-03-02,96366,1,100" for i in range(60)]
    many = tmp_path / "many.csv"
    many.write_text("\n".join(rows) + "\n")
    out = run("check", str(many), "--select", "addon-without-primary").stdout
    assert "Findings (first 50 of 60, by claim):" in out
    assert "  ... and 10 more: write them all with --json, --csv or --html." in out
    assert "A049:1" in out and "A050:1" not in out


def test_terminal_shows_control_characters_not_their_effect(tmp_path) -> None:
    path = tmp_path / "ansi.csv"
    path.write_text("claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,units\n"
                    '"X\x1b[2J\x1b[31m",1,M1,MEDICARE,11,2026-03-02,96366,1\n', encoding="utf-8")
    out = run("check", str(path)).stdout
    assert "\x1b" not in out and "X\\x1b[2J\\x1b[31m:1" in out
    # A right-to-left override in a claim id showed the rest of the line reversed (probe W).
    path.write_text("claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,units\n"
                    "PCN-1\u202e1002,1,M1,MEDICARE,11,2026-03-02,96366,1\n", encoding="utf-8")
    out = run("check", str(path)).stdout
    assert "\u202e" not in out and "PCN-1\\u202e1002:1" in out


def test_progress_only_on_a_terminal(tmp_path) -> None:
    """With stderr on a pty the progress line is drawn (and erased); in a pipe never."""
    import os
    import pty
    import subprocess
    import sys

    script = ("import scrubber.progress as p; p.SHOW_FROM_LINES = 1; import sys; from scrubber.cli import main; "
              "sys.argv = ['scrub', 'check', sys.argv[1], '--json', sys.argv[2], '--fail-on', 'never']; main()")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("CI", None)
    master, slave = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-c", script, SAMPLE, str(tmp_path / "a.json")], stderr=slave,
                              stdout=subprocess.PIPE, env=env, timeout=120, check=False)
        os.close(slave)
        seen = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(master)
    assert proc.returncode == 0
    text = seen.decode()
    n = SAMPLE_LINES
    assert f"scrub: reading: {n} lines (" in text and "lines/s)" in text and f"scrub: checks done: {n} lines" in text
    assert "\r\x1b[2K" in text
    piped = subprocess.run([sys.executable, "-c", script, SAMPLE, str(tmp_path / "b.json")], capture_output=True,
                           env=env, timeout=120, check=False)
    assert piped.returncode == 0 and "scrub: reading" not in piped.stderr.decode()
    ci = subprocess.run([sys.executable, "-c", script, SAMPLE, str(tmp_path / "c.json")], stderr=subprocess.PIPE,
                        env={**env, "CI": "true"}, timeout=120, check=False)
    assert "scrub: reading" not in ci.stderr.decode()


def test_progress_callback_sees_phases_and_rows() -> None:
    from scrubber.engine import scrub

    calls: list[tuple[str, int]] = []
    scrub([SAMPLE], progress=lambda phase, lines: calls.append((phase, lines)))
    phases = [p for p, _ in calls]
    assert phases[0] == "open inputs and policies" and phases[1] == "read" and ("read", SAMPLE_LINES) in calls
    assert phases[-4:] == ["read + canonicalise", "enrich", "checks", "summary"]
    assert dict(calls)["summary"] == SAMPLE_LINES


def test_progress_line_is_quiet_below_the_threshold_and_rate_limited(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from scrubber.progress import Progress, wanted

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Tty()
    progress = Progress(stream, threshold=1000)
    progress("read", 999)
    assert stream.getvalue() == ""
    progress("read", 1000)
    progress("read", 2000)  # within the redraw interval: skipped
    progress("enrich", 2000)  # a phase boundary is always drawn
    progress.finish()
    text = stream.getvalue()
    assert text.count("scrub: reading: 1,000 lines") == 1 and "2,000 lines" in text.split("reading")[-1]
    assert text.endswith("\r\x1b[2K")
    monkeypatch.delenv("CI", raising=False)  # the CI runner sets it, and progress is then off by design
    assert wanted(Tty(), quiet=False) and not wanted(Tty(), quiet=True) and not wanted(io.StringIO(), quiet=False)
    monkeypatch.setenv("CI", "true")
    assert not wanted(Tty(), quiet=False)


def test_a_file_name_that_is_not_utf8_is_refused_with_one_line(tmp_path) -> None:
    import os

    name = os.fsdecode(b"claims-\xff.csv")
    (tmp_path / name).write_bytes((ROOT / "sample_claims" / "claims.csv").read_bytes())
    for target in (str(tmp_path / name), str(tmp_path)):  # named, or found in a folder
        result = run("check", target)
        assert result.exit_code == 2
        assert result.stderr.startswith("scrub: error: file name ") and "claims-\\xff.csv is not valid UTF-8" in (
            result.stderr) and result.stderr.count("\n") == 1


@pytest.mark.parametrize("option", ["--json", "--csv", "--html", "--rejected", "--policy", "--records",
                                    "--suppressions", "--baseline-write", "--compare", "--config", "--letters"])
def test_an_empty_path_is_a_usage_error_not_an_option_left_out(option: str) -> None:
    """``--json "$OUT"`` with OUT unset: the run wrote nothing and said nothing (probe J)."""
    result = run("check", SAMPLE, "--no-config" if option != "--config" else "--quiet", option, "")
    assert result.exit_code == 2 and "an empty path" in result.output, result.output


def test_near_miss_a_path_option_with_a_name_runs(tmp_path) -> None:
    result = run("check", SAMPLE, "--no-config", "--json", str(tmp_path / "out.json"), "--fail-on", "never")
    assert result.exit_code == 0 and (tmp_path / "out.json").is_file()


def test_config_and_no_config_together_are_a_usage_error() -> None:
    result = run("check", SAMPLE, "--no-config", "--config", str(ROOT / "sample_claims" / "scrubber.toml"))
    assert result.exit_code == 2 and "contradict" in result.output


def test_strict_errors_keep_member_ids_out_under_mask_phi(tmp_path) -> None:
    """pyx12 quotes the value it finds too long: with --mask-phi the member id was printed on stderr
    (probe 15B). The error keeps the file name and the segment, the value is masked."""
    pytest.importorskip("pyx12")
    sample = ROOT / "sample_claims" / "claims.837"
    text = sample.read_text(encoding="utf-8")
    at = text.index("NM1*IL")
    end = text.index("~", at)
    fields = text[at:end].split("*")
    fields[9] = "PHIMEMBER" + "Q" * 80  # NM109 too long (80 at most)
    leaky = tmp_path / "leaky.837"
    leaky.write_text(text[:at] + "*".join(fields) + text[end:], encoding="utf-8")
    plain = CliRunner().invoke(main, ["check", str(leaky), "--strict", "--no-config"])
    assert plain.exit_code == 2 and "PHIMEMBER" in plain.stderr  # (the value is what pyx12 reports)
    masked = CliRunner().invoke(main, ["check", str(leaky), "--strict", "--no-config", "--mask-phi"])
    assert masked.exit_code == 2 and "PHIMEMBER" not in masked.stderr, masked.stderr
    assert f"{leaky}: fails X12 structural validation (--strict): segment" in masked.stderr


def test_the_terminal_tells_unmatched_records_from_records_whose_value_is_not_used(tmp_path) -> None:
    """Probe 20B: a record that matched its claim line but held a value that cannot be used
    (infusion_start "yesterday") was summed as "1 administration record(s) matched no claim line".
    Near miss: a record of no claim line is counted as such."""
    records = tmp_path / "records.csv"
    records.write_text("claim_id,line_number,infusion_start\nPCN-1001,1,yesterday\nNO-SUCH,1,2026-03-02T09:00\n",
                       encoding="utf-8")
    result = run("check", SAMPLE, "--records", str(records), "--fail-on", "never")
    assert "1 administration record(s) matched no claim line; 1 record problem(s) (a value not used, a repeated " \
           "record) (unmatched_records in the findings JSON)." in result.output, result.output


def test_python_m_scrubber_is_the_scrub_command(tmp_path) -> None:
    """``python -m scrubber`` ran nothing ("No module named scrubber.__main__"): helpers and job runners
    that call the interpreter had no way in. It is the same command, under the same name."""
    import os
    import subprocess
    import sys

    import scrubber

    code = str(__import__("pathlib").Path(scrubber.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": code}
    shown = subprocess.run([sys.executable, "-P", "-m", "scrubber", "--help"], capture_output=True, text=True,
                           env=env, timeout=120, check=False)
    assert shown.returncode == 0 and shown.stdout.startswith("Usage: scrub ")
    ran = subprocess.run([sys.executable, "-P", "-m", "scrubber", "check", str(ROOT / "sample_claims" / "claims.csv"),
                          "--no-config", "--json", "-", "--fail-on", "never"], capture_output=True, text=True,
                         env=env, timeout=300, check=False, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert len(json.loads(ran.stdout)["findings"]) == sample_finding_count()


def test_an_ignore_that_select_leaves_out_already_is_said(tmp_path) -> None:
    """Probe 27C D9: `--select route-mismatch --ignore unit-miscalculation` ran without a word, the ignore
    changing nothing; it is an input warning. Near miss: an ignore among the selected checks is no warning."""
    from scrubber.engine import scrub

    sample = SAMPLE
    idle = scrub([sample], select=["route-mismatch"], ignore=["unit-miscalculation"]).input_warnings
    assert {"source": "--ignore", "problem": "unit-miscalculation is not among the --select checks, so ignoring "
            "it changes nothing"} in idle
    used = scrub([sample], select=["route-mismatch", "unit-miscalculation"], ignore=["unit-miscalculation"])
    assert not [w for w in used.input_warnings if w["source"] == "--ignore"]
