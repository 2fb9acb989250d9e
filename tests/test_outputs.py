"""Outputs never destroy: no output over an input (symlinks and hard links followed) or over another
output, all outputs of a run or none, atomic replacement, CSV cells that cannot run as formulas,
strict JSON."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from conftest import ROOT, sample_finding_count

from scrubber.cli import main
from scrubber.output import html_report

SAMPLE = ROOT / "sample_claims" / "claims.csv"
HEADER = ("claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,units,charge,"
          "diagnosis_1")


def run(*args: str, **kwargs):
    return CliRunner().invoke(main, list(args), **kwargs)


def copy_sample(tmp_path: Path) -> Path:
    claims = tmp_path / "claims.csv"
    claims.write_bytes(SAMPLE.read_bytes())
    return claims


def usage_error(result, *words: str) -> str:
    assert result.exit_code == 2, result.output
    line = result.stderr.strip()
    assert "\n" not in line and line.startswith("scrub: error: "), result.stderr
    for word in words:
        assert word in line, line
    return line


@pytest.mark.parametrize("option", ["--json", "--csv", "--html", "--rejected", "--baseline-write"])
def test_an_output_over_the_input_is_refused_before_anything_is_read(tmp_path: Path, option: str) -> None:
    claims = copy_sample(tmp_path)
    before = claims.read_bytes()
    usage_error(run("check", str(claims), option, str(claims)), option, "would overwrite the input")
    assert claims.read_bytes() == before


def test_symlinks_and_hard_links_are_followed(tmp_path: Path) -> None:
    claims = copy_sample(tmp_path)
    link = tmp_path / "link.csv"
    link.symlink_to(claims)
    usage_error(run("check", str(claims), "--html", str(link)), "it resolves to")
    usage_error(run("check", str(link), "--json", str(claims)), "would overwrite the input")
    hard = tmp_path / "hard.csv"
    os.link(claims, hard)
    usage_error(run("check", str(claims), "--csv", str(hard)), "would overwrite the input")
    assert claims.read_bytes() == SAMPLE.read_bytes()


def test_records_policy_suppressions_and_config_are_protected(tmp_path: Path) -> None:
    claims = copy_sample(tmp_path)
    records = tmp_path / "records.csv"
    records.write_bytes((ROOT / "sample_claims" / "records.csv").read_bytes())
    policy = tmp_path / "p.toml"
    policy.write_text('name = "P"\nextends = "DEFAULT"\npayers = ["P"]\n')
    sup = tmp_path / "s.toml"
    sup.write_text("")
    usage_error(run("check", str(claims), "--records", str(records), "--json", str(records)), "records file")
    usage_error(run("check", str(claims), "--policy", str(policy), "--html", str(policy)), "policy file")
    usage_error(run("check", str(claims), "--suppressions", str(sup), "--csv", str(sup)), "suppressions file")
    config = tmp_path / "scrubber.toml"
    config.write_text("")
    usage_error(run("check", str(claims), "--config", str(config), "--json", str(config)), "config file")


def test_two_outputs_to_one_path(tmp_path: Path) -> None:
    claims = copy_sample(tmp_path)
    usage_error(run("check", str(claims), "--json", str(tmp_path / "x"), "--html", str(tmp_path / "x")),
                "--json", "--html", "give each output its own file")
    (tmp_path / "real.json").write_text("")
    (tmp_path / "alias.json").symlink_to(tmp_path / "real.json")
    usage_error(run("check", str(claims), "--json", str(tmp_path / "real.json"), "--csv", str(tmp_path / "alias.json")),
                "both write")


def test_outputs_inside_an_input_folder(tmp_path: Path) -> None:
    folder = tmp_path / "claims"
    folder.mkdir()
    copy_sample(folder)
    (folder / "notes.md").write_text("keep me")
    usage_error(run("check", str(folder), "--json", str(folder / "findings.json")), "would be read as claims")
    usage_error(run("check", str(folder), "--html", str(folder / "notes.md")), "would overwrite a file in")
    assert (folder / "notes.md").read_text() == "keep me"
    # A new report beside the claims is refused too: it worked once, and the same command then failed
    # ("would overwrite a file in"), the next run of the folder finding it there (probe 16B).
    usage_error(run("check", str(folder), "--html", str(folder / "report.html"), "--fail-on", "never"),
                "would be written into the input folder")
    assert not (folder / "report.html").exists()
    ok = run("check", str(folder), "--html", str(tmp_path / "report.html"), "--fail-on", "never")
    assert ok.exit_code == 0, ok.output  # (near miss: beside the folder)


def test_a_failing_output_leaves_no_new_output_and_truncates_nothing(tmp_path: Path, monkeypatch) -> None:
    claims = copy_sample(tmp_path)
    out_json, out_csv, out_html = tmp_path / "f.json", tmp_path / "f.csv", tmp_path / "r.html"
    for path in (out_json, out_csv, out_html):
        path.write_text("the good report of yesterday")

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(html_report, "render_html", disk_full)
    result = run("check", str(claims), "--json", str(out_json), "--csv", str(out_csv), "--html", str(out_html))
    line = usage_error(result, str(out_html), "cannot write output", "No space left on device")
    assert line.startswith(f"scrub: error: {out_html}: ")
    for path in (out_json, out_csv, out_html):  # JSON and CSV were complete, yet none replaced the old
        assert path.read_text() == "the good report of yesterday"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["claims.csv", "f.csv", "f.json", "r.html"]  # no temp


def test_a_new_file_appears_only_complete(tmp_path: Path, monkeypatch) -> None:
    claims = copy_sample(tmp_path)
    monkeypatch.setattr(html_report, "render_html", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("bug")))
    result = run("check", str(claims), "--json", str(tmp_path / "new.json"), "--html", str(tmp_path / "new.html"))
    usage_error(result, "unexpected RuntimeError: bug")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["claims.csv"]


def _letters_of(claims: Path, tmp_path: Path) -> list[str]:
    """The names --letters gives for the claims (a dry run in a folder of its own)."""
    run("check", str(claims), "--letters", str(tmp_path / "dry"), "--fail-on", "never")
    return sorted(p.name for p in (tmp_path / "dry").iterdir() if p.name != "index.html")


def test_an_output_path_ending_in_a_slash_is_a_folder(tmp_path: Path) -> None:
    # "--json newdir/x/" wrote a file named x (and "sub/" a file named sub).
    claims = copy_sample(tmp_path)
    usage_error(run("check", str(claims), "--json", str(tmp_path / "newdir" / "x") + "/"), "is a folder; name a file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["claims.csv"]


def test_a_letter_named_like_another_output_writes_nothing(tmp_path: Path) -> None:
    claims = copy_sample(tmp_path)
    letter = _letters_of(claims, tmp_path)[0]
    folder = tmp_path / "col"
    result = run("check", str(claims), "--letters", str(folder), "--json", str(folder / letter), "--fail-on", "never")
    # (refused before the read: any output named like a letter in the letters folder, this one or not)
    usage_error(result, f"holds the --json {folder / letter} under a letter's file name")
    assert not folder.exists() or not any(folder.iterdir())


def test_nothing_the_run_reads_or_writes_is_replaced_or_removed_as_a_letter(tmp_path: Path) -> None:
    # The removal of earlier letters deleted any appeal-*.html in DIR it had not written as a letter:
    # the run's own --html report, its input (probe 16B). Refused before anything is read.
    claims = copy_sample(tmp_path)
    folder = tmp_path / "L"
    folder.mkdir()
    report = folder / "appeal-report.html"
    usage_error(run("check", str(claims), "--letters", str(folder), "--html", str(report), "--fail-on", "never"),
                "a letter would replace it, or the removal of earlier letters delete it")
    assert not report.exists()
    held = folder / "appeal-input.csv.html"
    held.write_bytes(claims.read_bytes())
    usage_error(run("check", str(held), "--letters", str(folder), "--fail-on", "never"), f"holds the input {held}")
    assert held.read_bytes() == claims.read_bytes()
    # A link planted under a letter's name (the names are predictable) would write the letter through it.
    letter = _letters_of(claims, tmp_path)[0]
    linked = tmp_path / "M"
    linked.mkdir()
    (linked / letter).symlink_to(claims)
    before = claims.read_bytes()
    usage_error(run("check", str(claims), "--letters", str(linked), "--fail-on", "never"),
                "which resolves to the input")
    assert claims.read_bytes() == before and not (linked / "index.html").exists()
    # ... and a link to a file the run does not read or write is not written through either (probe 16E).
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me")
    (linked / letter).unlink()
    (linked / letter).symlink_to(precious)
    usage_error(run("check", str(claims), "--letters", str(linked), "--fail-on", "never"), "is a symbolic link")
    assert precious.read_text() == "keep me"
    # Near miss: a report named otherwise in the same folder is written, and stays.
    ok = run("check", str(claims), "--letters", str(folder), "--html", str(folder / "report.html"),
             "--fail-on", "never")
    assert ok.exit_code == 0, ok.output
    assert (folder / "report.html").exists() and (folder / "index.html").exists()


def test_a_folder_where_a_letter_goes_writes_nothing(tmp_path: Path) -> None:
    claims = copy_sample(tmp_path)
    letter = _letters_of(claims, tmp_path)[0]
    (tmp_path / "L" / letter).mkdir(parents=True)
    old = tmp_path / "old.json"
    old.write_text("yesterday")
    result = run("check", str(claims), "--json", str(old), "--html", str(tmp_path / "new.html"),
                 "--letters", str(tmp_path / "L"), "--fail-on", "never")
    usage_error(result, "it is a folder", "nothing was written")
    assert old.read_text() == "yesterday" and not (tmp_path / "new.html").exists()
    assert sorted(p.name for p in (tmp_path / "L").iterdir()) == [letter]


def test_a_rename_failing_part_way_puts_back_what_it_replaced(tmp_path: Path, monkeypatch) -> None:
    claims = copy_sample(tmp_path)
    first, second = tmp_path / "a.json", tmp_path / "b.csv"
    first.write_text("yesterday's findings")
    real_replace, calls = os.replace, []

    def failing_second_output(src, dst, *args, **kwargs):
        if Path(dst) == second:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        calls.append(dst)
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", failing_second_output)
    result = run("check", str(claims), "--json", str(first), "--csv", str(second), "--fail-on", "never")
    usage_error(result, "cannot write output")
    assert first.read_text() == "yesterday's findings" and not second.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "dry") == ["a.json", "claims.csv"]


def test_outputs_keep_the_permissions_of_a_plain_write(tmp_path: Path) -> None:
    claims = copy_sample(tmp_path)
    out = tmp_path / "f.json"
    old_umask = os.umask(0o022)
    try:
        run("check", str(claims), "--json", str(out), "--fail-on", "never")
        assert out.stat().st_mode & 0o777 == 0o644
        out.chmod(0o600)
        run("check", str(claims), "--json", str(out), "--fail-on", "never")
        assert out.stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old_umask)


def test_dev_null_is_written_not_replaced(tmp_path: Path) -> None:
    claims = copy_sample(tmp_path)
    result = run("check", str(claims), "--json", os.devnull, "--fail-on", "never")
    assert result.exit_code == 0, result.output
    assert Path(os.devnull).is_char_device()


def test_two_runs_writing_one_path_never_interleave(tmp_path: Path) -> None:
    claims = copy_sample(tmp_path)
    out = tmp_path / "shared.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-m", "scrubber.cli", "check", str(claims), "--json", str(out),
                               "--fail-on", "never", "-q"], env=env, cwd=tmp_path) for _ in range(4)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    doc = json.loads(out.read_text(encoding="utf-8"))  # one whole document, not a mix of four
    assert len(doc["findings"]) == sample_finding_count()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["claims.csv", "shared.json"]


def test_csv_cells_never_run_as_formulas(tmp_path: Path) -> None:
    claims = tmp_path / "evil.csv"
    claims.write_text(
        HEADER + "\n"
        '"=HYPERLINK(""http://x"",""y"")",1,@SUM(A1),MEDICARE,11,2026-03-02,96366,1,100,D80.0\n'
        "+1-2,1,-2+3,MEDICARE,11,2026-03-02,96366,1,100,D80.0\n"
        "SAFE-1,1,M1,MEDICARE,11,2026-03-02,96366,1,100,D80.0\n",
        encoding="utf-8",
    )
    out = tmp_path / "f.csv"
    result = run("check", str(claims), "--csv", str(out), "--fail-on", "never")
    assert result.exit_code == 0, result.output
    table = pl.read_csv(out, infer_schema=False)
    assert table.get_column("claim_id").to_list() == ["'+1-2", "'=HYPERLINK(\"http://x\",\"y\")", "SAFE-1"]
    assert table.get_column("member_id").to_list() == ["'-2+3", "'@SUM(A1)", "M1"]
    text_cells = [v for c in table.columns for v in table.get_column(c).drop_nulls().to_list()]
    assert not [v for v in text_cells if v[:1] in ("=", "+", "-", "@", "\t", "\r")]


def test_neutralise_quotes_text_cells_only() -> None:
    from scrubber.output.csv_output import neutralise

    frame = pl.DataFrame({"text": ["=1", "+1", "-1", "@a", "\tx", "\rx", "a=1", "", None],
                          "number": [-2.0, -1.5, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, None]})
    out = neutralise(frame)
    assert out.get_column("text").to_list() == ["'=1", "'+1", "'-1", "'@a", "'\tx", "'\rx", "a=1", "", None]
    assert out.get_column("number").to_list() == frame.get_column("number").to_list()
    assert out.write_csv().splitlines()[1] == "'=1,-2.0"  # a negative number stays a number


def test_a_nul_a_json_claim_id_spells_is_written_visibly_in_csv(tmp_path: Path) -> None:
    # Probe 21B D7: "BAD-\u0000" from JSON went into the findings CSV as a raw NUL byte, which
    # spreadsheets and this tool's own CSV reader treat as binary. Near miss: other ids as they are.
    claims = tmp_path / "c.json"
    claims.write_text(json.dumps({"claims": [
        {"claim_id": f"N{suffix}", "member_id": f"M{n}", "payer": "MEDICARE", "place_of_service": "11",
         "lines": [{"line_number": 1, "date_of_service": "2026-03-02", "procedure_code": "96366", "units": 1,
                    "charge": 100, "diagnosis_1": "D80.0"}]} for n, suffix in enumerate(("-\x00", "-1"))]}),
        encoding="utf-8")  # (json.dumps writes the NUL as the escape \u0000)
    out = tmp_path / "f.csv"
    result = run("check", str(claims), "--csv", str(out), "--fail-on", "never")
    assert result.exit_code == 0, result.output
    assert b"\x00" not in out.read_bytes()
    assert sorted(pl.read_csv(out, infer_schema=False).get_column("claim_id").to_list()) == ["N-1", "N-\\x00"]


def test_rejected_csv_cells_are_neutralised_too(tmp_path: Path) -> None:
    claims = tmp_path / "evil.csv"
    claims.write_text(HEADER + "\n=1+1,1,M1,MEDICARE,11,2026-02-30,96365,1,100,D80.0\n"
                      "OK,1,M1,MEDICARE,11,2026-03-02,96365,1,100,D80.0\n", encoding="utf-8")
    rejected = tmp_path / "r.csv"
    result = run("check", str(claims), "--rejected", str(rejected), "--fail-on", "never")
    assert result.exit_code == 0
    table = pl.read_csv(rejected, infer_schema=False)
    assert table.columns[:5] == ["source", "row", "claim_id", "line_number", "reason"]
    assert table.get_column("claim_id").to_list() == ["'=1+1"]


def test_json_is_strict_even_for_huge_charges(tmp_path: Path) -> None:
    claims = tmp_path / "huge.csv"
    claims.write_text(HEADER + "\nH1,1,M1,MEDICARE,11,2026-03-02,96366,1,1e308,D80.0\n"
                      "H1,2,M1,MEDICARE,11,2026-03-02,96371,1,1e308,D80.0\n", encoding="utf-8")
    result = run("check", str(claims), "--json", "-", "--fail-on", "never")
    assert result.exit_code == 2, result.output  # every row rejected: nothing checked (the JSON is still written)

    def refuse(token: str) -> None:
        raise AssertionError(f"non-standard JSON number {token}")

    doc = json.loads(result.stdout, parse_constant=refuse)
    assert "Infinity" not in result.stdout and "NaN" not in result.stdout
    # 1e308 charges are out of bounds (rejected rows), and a total that overflows is null, never Infinity.
    assert doc["summary"]["charges_billed"] in (None, 0.0)


def test_dev_stdout_is_written_through(tmp_path) -> None:
    """``--json /dev/stdout`` was refused ("No such file or directory": the link resolves to a pipe with
    no path of its own, and the temporary file beside it could not be made; probe 18B). It is written
    through, as /dev/null is."""
    import subprocess
    import sys

    claims = tmp_path / "claims.csv"
    claims.write_text("claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,units,"
                      "charge,diagnosis_1\nA1,1,M1,MEDICARE,11,2026-05-04,96366,1,110.00,D80.0\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "scrubber.cli", "check", str(claims), "--json", "/dev/stdout",
                           "--fail-on", "never"], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert '"check_id":"addon-without-primary"' in done.stdout


def test_an_output_name_too_long_for_the_file_system_is_a_usage_error(tmp_path: Path) -> None:
    # (probe 21B D8: "unexpected OSError: [Errno 36] File name too long", the catch-all's words)
    claims = copy_sample(tmp_path)
    for option, name in (("--json", "a" * 300 + ".json"), ("--html", "b" * 300 + "/x.html")):
        result = run("check", str(claims), option, str(tmp_path / name))
        assert result.exit_code == 2 and "cannot write output (File name too long)" in result.output, result.output
        assert "unexpected" not in result.output


def test_a_reason_without_denial_codes_writes_null_not_an_empty_string(tmp_path: Path) -> None:
    """Probe 28D D5: infusion-too-short's findings carried ``"carc": ""``, which a pipeline cannot tell
    from a blank; no code known is null. Near miss: addon-without-primary's B15 / N122 as written."""
    claims = tmp_path / "c.csv"
    claims.write_text("claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,units,"
                      "charge,diagnosis_1,infusion_start,infusion_stop\n"
                      "T1,1,M1,MEDICARE,11,2026-03-02,96365,1,300,D80.0,2026-03-02T09:00,2026-03-02T09:10\n"
                      "A1,1,M2,MEDICARE,11,2026-03-02,96366,1,100,D80.0,,\n", encoding="utf-8")
    out = tmp_path / "f.json"
    result = CliRunner().invoke(main, ["check", str(claims), "--no-config", "--json", str(out), "--fail-on", "never"])
    assert result.exit_code == 0, result.output
    found = {f["check_id"]: f for f in json.loads(out.read_text(encoding="utf-8"))["findings"]}
    assert found["infusion-too-short"]["carc"] is None and found["infusion-too-short"]["rarc"] is None
    assert (found["addon-without-primary"]["carc"], found["addon-without-primary"]["rarc"]) == ("B15", "N122")
