"""Hostile round 4 (probe H): one test per problem fixed, with a near miss where it makes sense.

The contracts: --mask-phi hides every file name in every output; a records file's column that is not
read is said so, as a claims file's is; outputs are all or none, whatever fails (standard output, a
device, Ctrl-C during the final renames), and a failure is one line with exit 2.
"""

from __future__ import annotations

import csv
import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT

import scrubber
from scrubber.cli import main
from scrubber.errors import ScrubError
from scrubber.outputs import OutputSet

SAMPLE = ROOT / "sample_claims" / "claims.csv"
SAMPLE_RECORDS = ROOT / "sample_claims" / "records.csv"
# The code under test (also for subprocesses): the scrubber package this test imported.
CODE = str(Path(scrubber.__file__).resolve().parents[1])


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def scrub_process(*args: str, cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-P", "-m", "scrubber.cli", *args], cwd=cwd, timeout=300, check=False,
                          env={**os.environ, "PYTHONPATH": CODE}, **kwargs)


def files_in(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


# --------------------------------------------------------------------------- 1. --mask-phi and skipped files

def _patient_folder(tmp_path: Path) -> Path:
    """A folder named after a patient, holding claims and files that are skipped, all named after patients."""
    folder = tmp_path / "SMITH_JOHN"
    folder.mkdir()
    (folder / "claims.csv").write_bytes(SAMPLE.read_bytes())
    (folder / "SMITH_JOHN_referral.pdf").write_text("x\n")  # another extension
    (folder / "DOE_JANE.csv").write_bytes(b"")  # an empty file
    (folder / "records_DOE.csv").write_bytes(SAMPLE_RECORDS.read_bytes())  # a records file
    return folder


# Contract: --mask-phi hides input file names in every output. The files a folder held but that were
# skipped were named in full, folder and all, in input_warnings (JSON), the HTML report and stderr.
def test_mask_phi_hides_the_names_of_skipped_files(tmp_path: Path) -> None:
    folder = _patient_folder(tmp_path)
    out_json, out_html = tmp_path / "m.json", tmp_path / "m.html"
    result = run("check", str(folder), "--no-config", "--mask-phi", "--json", str(out_json), "--html", str(out_html),
                 "--fail-on", "never")
    assert result.exit_code == 0, result.output
    texts = {"json": out_json.read_text(encoding="utf-8"), "html": out_html.read_text(encoding="utf-8"),
             "stderr": result.stderr}
    for name, text in texts.items():
        assert "SMITH" not in text and "DOE" not in text, (name, text[:2000])
    warnings = json.loads(texts["json"])["input_warnings"]
    assert sorted(w["source"] for w in warnings) == ["skipped-1.csv", "skipped-2.pdf", "skipped-3.csv"]
    for w in warnings:  # the same pseudonym on stderr as in the JSON, with the reason kept
        assert f"scrub: warning: {w['source']}: {w['problem']}" in result.stderr
        assert w["source"] in texts["html"]
    assert json.loads(texts["json"])["provenance"]["inputs"] == ["input-1.csv"]


def test_mask_phi_names_a_skipped_file_that_is_the_records_file_as_the_records_file(tmp_path: Path) -> None:
    """Near miss: the --records file inside the folder keeps the one pseudonym it has everywhere."""
    folder = _patient_folder(tmp_path)
    result = run("check", str(folder), "--no-config", "--mask-phi", "--records", str(folder / "records_DOE.csv"),
                 "--json", "-", "--fail-on", "never")
    assert result.exit_code == 0, result.output
    assert "SMITH" not in result.stdout + result.stderr and "DOE" not in result.stdout + result.stderr
    doc = json.loads(result.stdout)
    assert doc["provenance"]["records"] == "records-1.csv"
    assert {"source": "records-1.csv", "problem": "skipped: it is the --records file"} in doc["input_warnings"]


def test_without_mask_phi_skipped_files_are_named_in_full(tmp_path: Path) -> None:
    """Near miss: unmasked, the warning names the file, so that it can be found."""
    folder = _patient_folder(tmp_path)
    result = run("check", str(folder), "--no-config", "--json", "-", "--fail-on", "never")
    sources = {w["source"] for w in json.loads(result.stdout)["input_warnings"]}
    assert sources == {str(folder / n) for n in ("SMITH_JOHN_referral.pdf", "DOE_JANE.csv", "records_DOE.csv")}


# --------------------------------------------------------------------------- 2. records file columns

def _claims_and_records(tmp_path: Path) -> tuple[Path, list[list[str]]]:
    """The sample claims without their documentation, and the documentation as records rows (header first)."""
    rows = list(csv.reader(SAMPLE.open(encoding="utf-8", newline="")))
    header, index = rows[0], {c: i for i, c in enumerate(rows[0])}
    documentation = next(csv.reader(SAMPLE_RECORDS.open(encoding="utf-8", newline="")))[2:]
    records = [["claim_id", "line_number", *documentation]]
    for row in rows[1:]:
        values = [row[index[c]] for c in documentation]
        if any(values):
            records.append([row[index["claim_id"]], row[index["line_number"]], *values])
        for c in documentation:
            row[index[c]] = ""
    claims = tmp_path / "nodoc.csv"
    with claims.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([header, *rows[1:]])
    return claims, records


def _write_records(path: Path, records: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(records)
    return path


def _records_run(claims: Path, records: Path) -> dict:
    result = run("check", str(claims), "--no-config", "--records", str(records), "--json", "-", "--fail-on", "never")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# Contract: a column that is not read is said so. 'drug_dose' for 'drug_dose_mg' in a records file dropped
# every dose finding without a word, while the same typo in a claims CSV warns "did you mean".
def test_a_misspelled_records_column_is_reported(tmp_path: Path) -> None:
    claims, records = _claims_and_records(tmp_path)
    records[0][records[0].index("drug_dose_mg")] = "drug_dose"
    doc = _records_run(claims, _write_records(tmp_path / "rec.csv", records))
    assert doc["input_warnings"] == [{"source": str(tmp_path / "rec.csv"),
                                      "problem": "column 'drug_dose' is not a records column and is ignored; "
                                                 "did you mean 'drug_dose_mg'?"}]
    assert [u for u in doc["unmatched_records"] if u["claim_id"] is None] == []  # (a column is no record)


def test_a_claims_column_in_a_records_file_is_reported_as_not_read(tmp_path: Path) -> None:
    claims, records = _claims_and_records(tmp_path)
    records = [[*records[0], "units", "ehr_note"], *([*r, "3", "seen"] for r in records[1:])]
    doc = _records_run(claims, _write_records(tmp_path / "rec.csv", records))
    reasons = [w["problem"] for w in doc["input_warnings"]]
    assert len(reasons) == 1 and reasons[0].startswith("column 'units' is not a documentation column and is not read")
    # (an EHR's own column, 'ehr_note', is ignored as in a claims file: no notice)


def test_a_misspelled_key_in_a_json_records_file_is_reported_at_its_first_record(tmp_path: Path) -> None:
    claims, records = _claims_and_records(tmp_path)
    objects = [{k: v for k, v in zip(records[0], r, strict=True) if v} for r in records[1:]]
    first = next(i for i, o in enumerate(objects, start=1) if "drug_dose_mg" in o)
    objects = [{("drug_dose" if k == "drug_dose_mg" else k): v for k, v in o.items()} for o in objects]
    path = tmp_path / "rec.json"
    path.write_text(json.dumps(objects), encoding="utf-8")
    doc = _records_run(claims, path)
    assert [w["problem"] for w in doc["input_warnings"]] == [
        f"column 'drug_dose' (first in record {first}) is not a records column and is ignored; "
        "did you mean 'drug_dose_mg'?"]


def test_a_records_file_with_the_documented_columns_has_no_column_notice(tmp_path: Path) -> None:
    """Near miss: the right names (and an EHR column of its own) give no notice, and the findings of the
    claims with their documentation in place."""
    claims, records = _claims_and_records(tmp_path)
    records = [[*records[0], "ehr_note"], *([*r, "seen"] for r in records[1:])]
    doc = _records_run(claims, _write_records(tmp_path / "rec.csv", records))
    assert doc["input_warnings"] == [] and [u for u in doc["unmatched_records"] if u["claim_id"] is None] == []
    whole = json.loads(run("check", str(SAMPLE), "--no-config", "--json", "-", "--fail-on", "never").stdout)
    assert len(doc["findings"]) == len(whole["findings"])


# --------------------------------------------------------------------------- 3. standard output and devices

@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_device_output_that_fails_replaces_no_file(tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    report.write_text("OLD")
    result = run("check", str(SAMPLE), "--no-config", "--html", str(report), "--csv", "/dev/full")
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == ("scrub: error: /dev/full: cannot write output (No space left on device); "
                                     "no file was replaced")
    assert report.read_text() == "OLD" and files_in(tmp_path) == ["report.html"]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_standard_output_on_a_full_disk_replaces_no_file(tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    report.write_text("OLD")
    with open("/dev/full", "wb") as full:
        proc = scrub_process("check", str(SAMPLE), "--no-config", "--html", str(report), "--json", "-", cwd=tmp_path,
                             stdout=full, stderr=subprocess.PIPE, text=True)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == ("scrub: error: cannot write to standard output (No space left on device); "
                           "no file was replaced\n")
    assert report.read_text() == "OLD" and files_in(tmp_path) == ["report.html"]


def test_closed_standard_output_is_a_usage_error(tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    report.write_text("OLD")
    proc = scrub_process("check", str(SAMPLE), "--no-config", "--html", str(report), "--json", "-", cwd=tmp_path,
                         stderr=subprocess.PIPE, text=True, preexec_fn=lambda: os.close(1))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == "scrub: error: --json - writes to standard output, which is closed; name a file instead\n"
    assert report.read_text() == "OLD" and files_in(tmp_path) == ["report.html"]


def test_standard_output_and_a_device_that_work_are_written_with_the_files(tmp_path: Path) -> None:
    """Near miss: a device and standard output that take the bytes; the files are replaced as always."""
    report = tmp_path / "report.html"
    report.write_text("OLD")
    result = run("check", str(SAMPLE), "--no-config", "--html", str(report), "--csv", os.devnull, "--json", "-",
                 "--fail-on", "never")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["findings"]
    assert report.read_text(encoding="utf-8").startswith("<!DOCTYPE html>") and files_in(tmp_path) == ["report.html"]


def test_a_reader_leaving_standard_output_early_still_gets_the_files(tmp_path: Path) -> None:
    """Near miss: `--html - | head` is not a failure of the run; the other outputs are still written."""
    out = tmp_path / "f.json"
    out.write_text("OLD")
    proc = subprocess.run(f'"{sys.executable}" -P -m scrubber.cli check "{SAMPLE}" --no-config --json "{out}" '
                          f"--html - --fail-on never | head -c 10", shell=True, capture_output=True, text=True,
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": CODE}, timeout=300, check=False)
    assert proc.stdout == "<!DOCTYPE " and proc.stderr == ""
    assert json.loads(out.read_text(encoding="utf-8"))["findings"] and files_in(tmp_path) == ["f.json"]


# --------------------------------------------------------------------------- 4. Ctrl-C during the commit

def _outputs_run(tmp_path: Path) -> tuple[list[Path], Path, object]:
    """Existing JSON and CSV outputs, a new HTML report and new letters; run and return the result."""
    old = [tmp_path / "out" / "f.json", tmp_path / "out" / "f.csv"]
    old[0].parent.mkdir()
    for path in old:
        path.write_text("OLD")
    letters = tmp_path / "out" / "L"
    result = run("check", str(SAMPLE), "--no-config", "--json", str(old[0]), "--csv", str(old[1]),
                 "--html", str(tmp_path / "out" / "h.html"), "--letters", str(letters), "--fail-on", "never")
    return old, letters, result


# Contract: all or none. Ctrl-C during the final renames left every temporary file (.f.json.*.tmp, the
# letters' .appeal-*.tmp) and sometimes a .old copy behind, and could leave a mix of old and new outputs.
@pytest.mark.parametrize("at", [1, 2, 3, 4, 6, "last"])
def test_an_interrupt_during_the_renames_puts_everything_back(tmp_path: Path, monkeypatch, at: int | str) -> None:
    real_replace, calls = os.replace, []

    def interrupted(src, dst, *args, **kwargs):
        calls.append(dst)
        if len(calls) == at:
            raise KeyboardInterrupt
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", interrupted)
    if at == "last":  # the rename that puts the last new file in place: a run uninterrupted, counted
        (tmp_path / "dry").mkdir()
        assert _outputs_run(tmp_path / "dry")[2].exit_code == 0
        at, calls[:] = len(calls), []
    old, _, result = _outputs_run(tmp_path)
    assert result.exit_code == 130 and result.stderr.strip() == "scrub: error: interrupted", result.output
    assert len(calls) >= at
    assert [p.read_text() for p in old] == ["OLD", "OLD"]
    assert files_in(tmp_path / "out") == ["L", "f.csv", "f.json"]


def test_an_interrupt_once_every_output_is_in_place_leaves_no_old_copy(tmp_path: Path, monkeypatch) -> None:
    real_unlink, hits = Path.unlink, []

    def interrupted(self, *args, **kwargs):
        if self.name.endswith(".old") and not hits:
            hits.append(self)
            raise KeyboardInterrupt
        return real_unlink(self, *args, **kwargs)

    monkeypatch.setattr(Path, "unlink", interrupted)
    old, letters, result = _outputs_run(tmp_path)
    assert hits and result.exit_code == 130, result.output
    assert all(p.read_text(encoding="utf-8") != "OLD" for p in old)  # the new outputs, all of them
    assert not [n for n in files_in(tmp_path / "out") if Path(n).name.startswith(".")]
    assert (letters / "index.html").exists()


def test_an_interrupt_as_a_temporary_file_is_made_leaves_nothing(tmp_path: Path, monkeypatch) -> None:
    """Ctrl-C landing just after a letter's temporary file was made, before the run knew its name (a
    real SIGINT left '.appeal-*.tmp' so): the name is known before the file exists."""
    real_open, hits = os.open, []

    def interrupted(path, flags, *args, **kwargs):
        fd = real_open(path, flags, *args, **kwargs)
        if str(path).endswith(".tmp") and Path(path).parent.name == "L" and len(hits) < 3:
            hits.append(path)
            if len(hits) == 3:
                os.close(fd)
                raise KeyboardInterrupt
        return fd

    monkeypatch.setattr(os, "open", interrupted)
    old, _, result = _outputs_run(tmp_path)
    assert len(hits) == 3 and result.exit_code == 130, result.output
    assert [p.read_text() for p in old] == ["OLD", "OLD"]
    assert files_in(tmp_path / "out") == ["L", "f.csv", "f.json"]


def test_a_run_that_is_not_interrupted_replaces_every_output(tmp_path: Path) -> None:
    """Near miss: the same outputs, no interrupt: all new, nothing left beside them."""
    old, letters, result = _outputs_run(tmp_path)
    assert result.exit_code == 0, result.output
    assert all(p.read_text(encoding="utf-8") != "OLD" for p in old)
    assert not [n for n in files_in(tmp_path / "out") if Path(n).name.startswith(".")]
    assert len(list(letters.iterdir())) > 1


def _count_stats(monkeypatch) -> list[int]:
    real_stat, count = os.stat, [0]

    def counting(*args, **kwargs):
        count[0] += 1
        return real_stat(*args, **kwargs)

    monkeypatch.setattr(os, "stat", counting)
    return count


# The check that no two outputs name one file compared every output with every other one (936 letters:
# 437,000 comparisons, each a few file look-ups), which widened the window for an interrupt to a second.
def test_the_commit_looks_each_output_up_a_bounded_number_of_times(tmp_path: Path, monkeypatch) -> None:
    n = 300
    targets = [tmp_path / f"letter-{i}.html" for i in range(n)]
    for t in targets:
        t.write_text("OLD")
    with OutputSet() as written:
        for t in targets:
            with written.open(str(t)) as out:
                out.write(b"NEW")
        count = _count_stats(monkeypatch)
    assert count[0] <= 10 * n, count[0]
    assert all(t.read_text() == "NEW" for t in targets) and len(list(tmp_path.iterdir())) == n


def test_two_outputs_that_are_one_file_by_a_hard_link_are_still_refused(tmp_path: Path) -> None:
    """Near miss for the linear check: the same file under two names is found without comparing pairs."""
    a, b = tmp_path / "a.html", tmp_path / "b.html"
    a.write_text("OLD")
    os.link(a, b)
    with pytest.raises(ScrubError, match="two outputs would write it"), OutputSet() as written:
        for path in (a, b):
            with written.open(str(path)) as out:
                out.write(b"NEW")
    assert a.read_text() == "OLD" and sorted(p.name for p in tmp_path.iterdir()) == ["a.html", "b.html"]


def test_a_rename_failing_part_way_is_still_a_one_line_error(tmp_path: Path, monkeypatch) -> None:
    """Near miss: an OSError (not an interrupt) at the same point is still 'cannot write output', exit 2,
    and leaves nothing behind (the empty file made to keep a target aside was left: '.f.csv.*.old')."""
    real_replace, calls = os.replace, []

    def failing(src, dst, *args, **kwargs):
        calls.append(dst)
        if len(calls) == 3:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", failing)
    old, _, result = _outputs_run(tmp_path)
    assert result.exit_code == 2 and "cannot write output (Input/output error)" in result.stderr, result.output
    assert [p.read_text() for p in old] == ["OLD", "OLD"]
    assert files_in(tmp_path / "out") == ["L", "f.csv", "f.json"]

