"""Bad input never crashes the scrubber, and no row is lost (issues 4 and 12), through the real CLI.

Each test names the contract it holds (a ``Contract:`` comment or docstring line):

* **file-level**: a file that cannot be claims at all: exit status 2 and exactly one line on
  stderr, ``scrub: error: FILE: problem``; never a traceback.
* **rejected**: a row-level problem rejects the row (or the whole claim, for a claim-wide problem)
  with its source, row and reason; everything else is still checked.
* **counted**: rows read equal an independent count of what the file holds (a quote-aware scan of
  a CSV's lines, a segment count of an X12, the parsed JSON): a row the parser merged, skipped or
  misplaced is a rejected row naming where it is, never a silent loss.
* **isolated**: a row's problem rejects that row only: it never changes its claim's good lines
  (claim-level values do not fight them, a readable code still counts as billed).
* **value bounds**: dates outside 1900-2100 and impossible numbers (units, charges, mg, minutes)
  are rejected rows with reasons, never an abort or an ``Infinity``.
* **dates as exported**: ISO, ``M/D/YYYY``, ``YYYYMMDD`` (with ``H:MM`` times) are read; a date
  that can only be day-first is refused with a reason, never guessed.
* **internal names**: extra CSV columns named like what the loader adds are kept out.
* **records**: a problem in the ``--records`` file is blamed on the records file's row.
* **folders**: a folder input skips what is not claims (hidden files, records, findings) with a note.
* **printable**: file names and cell values in messages and reasons never carry control characters.
* **reconciled**: every output says rows read = rows checked + rows rejected.

How rows are counted: in a CSV, as a spreadsheet shows them (header = row 1, first claim line =
row 2, a quoted cell spanning several physical lines is one row, a blank line still counts);
in JSON, ``row`` is the line's position across the file and ``location`` names the claim and
line ("claim 2 (C2), line 1").
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner, Result

from scrubber.cli import main

REPO = Path(__file__).resolve().parent.parent
HEADER = ("claim_id,line_number,member_id,payer,claim_type,place_of_service,date_of_service,procedure_code,"
          "modifier_1,units,charge,diagnosis_1,drug_dose_mg,infusion_start,infusion_stop")
# A clean claim: IV infusion (96365) with a documented 120 minutes and its add-on hour (96366).
GOOD = [
    "G1,1,MG,AETNA,professional,11,2026-02-10,96365,,1,300,D80.0,,2026-02-10T09:00,2026-02-10T11:00",
    "G1,2,MG,AETNA,professional,11,2026-02-10,96366,,1,120,D80.0,,,",
]
# A claim with a real finding (add-on without its primary), so we can see checks still run.
FINDING = ["F1,1,MF,AETNA,professional,11,2026-02-10,96366,,1,120,D80.0,,,"]


def scrub(*args: str) -> Result:
    return CliRunner().invoke(main, ["check", *args])


def assert_no_traceback(result: Result) -> None:
    assert "Traceback" not in result.stdout + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)


def assert_file_error(result: Result, name: str, *words: str) -> str:
    """Exit 2, one line on stderr naming the file and the problem, nothing else."""
    assert_no_traceback(result)
    assert result.exit_code == 2, (result.exit_code, result.output)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"scrub: error: {name}"), lines[0]
    for word in words:
        assert word.lower() in lines[0].lower(), lines[0]
    return lines[0]


def run_json(*args: str) -> dict:
    result = scrub(*args, "--json", "-", "--fail-on", "never")
    assert_no_traceback(result)
    doc = json.loads(result.stdout)
    s = doc["summary"]
    # (--fail-on never passes every run in which some row was checked; nothing checked is unusable input)
    assert result.exit_code == (0 if s["rows_checked"] else 2), result.output
    assert s["rows_read"] == s["rows_checked"] + s["rejected_rows"]
    assert s["reconciled"] is True
    assert len(doc["rejected_rows"]) == s["rejected_rows"]
    for row in doc["rejected_rows"]:
        assert row["source"] and row["row"] and row["reason"], row
    return doc


def write(path: Path, text: str | bytes) -> str:
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    return str(path)


def csv_text(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


# -------------------------------------------------------------------------------------------------
# File-level problems: exit 2, one line.


# Contract: file-level.
def test_missing_path(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.csv")
    assert_file_error(scrub(missing), missing, "no such file")


# Contract: file-level.
@pytest.mark.parametrize("content", [b"", b"   \n\n\t\r\n"], ids=["zero-bytes", "whitespace"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    path = write(tmp_path / "empty.csv", content)
    assert_file_error(scrub(path), path, "empty file")


# Contract: file-level.
@pytest.mark.parametrize(
    ("content", "word"),
    [
        (b"claim_id,line\x00_number\n\x00\x01\x02\x03", "binary"),
        (b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)), "excel"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "excel"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "pdf"),
        (b"\x1f\x8b\x08\x00" + bytes(50), "gzip"),
    ],
    ids=["nul-bytes", "xlsx", "xls", "pdf", "gzip"],
)
def test_binary_file(tmp_path: Path, content: bytes, word: str) -> None:
    path = write(tmp_path / "claims.csv", content)
    assert_file_error(scrub(path), path, word)


@pytest.mark.parametrize("at", ["first", "last"])
def test_a_stray_nul_byte_rejects_its_row_wherever_it_is(tmp_path: Path, at: str) -> None:
    """A NUL in a row near the top refused the whole file as binary; the same row further down was
    checked with the NUL in its claim id (probe W). Either way: that row rejected, the others checked."""
    stray = "HX\x00-1,1,MH,AETNA,professional,11,2026-02-10,96366,,1,120,D80.0,,,"
    rows = [stray, *GOOD, *FINDING] if at == "first" else [*GOOD, *FINDING, stray]
    doc = run_json(write(tmp_path / "nul.csv", csv_text(*rows)))
    (rejected,) = doc["rejected_rows"]
    assert rejected["row"] == (2 if at == "first" else 5) and "NUL byte" in rejected["reason"]
    assert doc["summary"]["rows_checked"] == 3
    assert [(f["claim_id"], f["check_id"]) for f in doc["findings"]] == [("F1", "addon-without-primary")]


# Contract: row-level (probe 16G: one latin-1 byte in one cell stopped the whole file, exit 2).
def test_latin1_cell_rejects_its_row_and_the_others_keep_their_findings(tmp_path: Path) -> None:
    clean = write(tmp_path / "clean.csv", csv_text(*GOOD, *FINDING))
    data = csv_text(*GOOD).encode() + "G2,1,Müller,AETNA,,11,2026-02-10,96365,,1,1,D80.0,,,\n".encode("latin-1")
    data += csv_text(*FINDING).split("\n", 1)[1].encode()
    doc = run_json(write(tmp_path / "latin1.csv", data))
    (rejected,) = doc["rejected_rows"]
    assert rejected["row"] == 4 and rejected["claim_id"] == "G2" and rejected["line_number"] == "1"
    assert "not UTF-8" in rejected["reason"] and "0xfc" in rejected["reason"] and "member_id" in rejected["reason"]
    assert doc["summary"]["rows_read"] == 4 and doc["summary"]["rows_checked"] == 3
    def kept(findings: list[dict]) -> list[tuple]:  # (the row numbers and file name differ, the rest may not)
        return [(f["claim_id"], f["line_number"], f["check_id"], f["message"], f["suggested_fix"]) for f in findings]

    assert kept(doc["findings"]) == kept(run_json(clean)["findings"]) != []


# Contract: row-level.
def test_latin1_deep_in_large_file(tmp_path: Path) -> None:
    """A bad byte past the first read block (and past the header's read) rejects its row only."""
    rows = [f"C{i},1,M{i},AETNA,,11,2026-02-10,96365,,1,1,D80.0,,," for i in range(5000)]
    data = csv_text(*rows).encode() + "Z1,1,José,AETNA,,11,2026-02-10,96365,,1,1,D80.0,,,\n".encode("latin-1")
    doc = run_json(write(tmp_path / "big-latin1.csv", data))
    (rejected,) = doc["rejected_rows"]
    assert rejected["row"] == 5002 and "0xe9" in rejected["reason"]
    assert doc["summary"]["rows_checked"] == 5000


# Contract: row-level. A byte in another encoding inside a quoted cell running over two lines.
def test_latin1_in_a_quoted_multiline_cell(tmp_path: Path) -> None:
    data = (csv_text(*GOOD).encode() + 'Q1,1,"Mé\nX",AETNA,,11,2026-02-10,96365,,1,1,D80.0,,,\n'.encode("latin-1")
            + csv_text(*FINDING).split("\n", 1)[1].encode())
    doc = run_json(write(tmp_path / "q.csv", data))
    assert [(r["row"], r["claim_id"]) for r in doc["rejected_rows"]] == [(4, "Q1")]
    assert [(f["claim_id"], f["check_id"]) for f in doc["findings"]] == [("F1", "addon-without-primary")]


# Contract: file-level. A column's name that is not UTF-8 cannot be matched to a column.
def test_latin1_in_the_header(tmp_path: Path) -> None:
    data = (HEADER + ",not\xe9s").encode("latin-1") + b"\n" + "\n".join(GOOD).encode() + b"\n"
    path = write(tmp_path / "h.csv", data)
    assert_file_error(scrub(path), path, "not UTF-8", "0xe9", "header")


# Contract: file-level.
def test_utf16_file(tmp_path: Path) -> None:
    path = write(tmp_path / "unicode.csv", csv_text(*GOOD).encode("utf-16"))
    assert_file_error(scrub(path), path, "UTF-16")


# Contract: file-level. One JSON document is parsed whole: no claim of it can be read apart.
def test_latin1_json(tmp_path: Path) -> None:
    path = write(tmp_path / "c.json", '{"claims": [{"claim_id": "Müller"}]}'.encode("latin-1"))
    assert_file_error(scrub(path), path, "not UTF-8", "0xfc")


# Contract: row-level. In JSON Lines each line is a record: the line in another encoding is rejected.
def test_latin1_json_lines_rejects_its_line(tmp_path: Path) -> None:
    def claim(cid: str, member: str, code: str) -> bytes:
        return json.dumps({"claim_id": cid, "member_id": member, "payer": "AETNA", "place_of_service": "11",
                           "date_of_service": "2026-02-10", "lines": [{"line_number": 1, "procedure_code": code,
                           "units": 1, "charge": 120, "diagnoses": ["D80.0"]}]}, ensure_ascii=False).encode("latin-1")
    lines = [claim("J1", "MA", "96366"), claim("J2", "Müller", "96366"), claim("J3", "MC", "96366")]
    doc = run_json(write(tmp_path / "c.jsonl", b"\n".join(lines) + b"\n"))
    (rejected,) = doc["rejected_rows"]
    assert rejected["claim_id"] == "J2" and "line 2" in rejected["reason"] and "0xfc" in rejected["reason"]
    assert sorted(f["claim_id"] for f in doc["findings"]) == ["J1", "J3"]
    # The rejected line keeps its ids, as a CSV row does: its 96365 may be the primary of another claim's
    # 96366 that day, which is then not evaluated rather than "without its primary" (probe 17D).
    lines = [claim("K1", "Müller", "96365").replace(b'"M\xfcller"', b'"M7", "notes": "M\xfcller"'),
             claim("K2", "M7", "96366")]
    doc = run_json(write(tmp_path / "k.jsonl", b"\n".join(lines) + b"\n"))
    assert [r["claim_id"] for r in doc["rejected_rows"]] == ["K1"] and doc["findings"] == []
    assert doc["summary"]["by_check"]["addon-without-primary"]["lines_not_evaluated"] == 1


# Contract: file-level.
def test_missing_required_column(tmp_path: Path) -> None:
    header = HEADER.replace("units,", "")
    path = write(tmp_path / "nounits.csv", csv_text("G1,1,MG,AETNA,,11,2026-02-10,96365,,300,D80.0,,,", header=header))
    line = assert_file_error(scrub(path), path, "missing required column", "units")
    assert "found:" in line
    # (probe 28C D10: a column named claim_id and a zero-width space is shown as such, not as the claim_id
    # the error says is missing)
    hidden = write(tmp_path / "hidden.csv", csv_text("G1,1,MG,AETNA,,11,2026-02-10,96365,,1,300,D80.0,,,",
                                                    header=HEADER.replace("claim_id", "claim_id\u200b", 1)))
    line = assert_file_error(scrub(hidden), hidden, "missing required column(s): claim_id")
    assert "found: claim_id[U+200B], line_number" in line and "\u200b" not in line


# Contract: file-level.
@pytest.mark.parametrize(("separator", "name"), [(";", "semicolons"), ("\t", "tabs"), ("|", "vertical bars")])
def test_other_separator_is_named(tmp_path: Path, separator: str, name: str) -> None:
    """A semicolon CSV (Excel in a comma-decimal locale) or a tab-separated export reads as one
    column: the error says which separator the header uses, so the fix (the export's setting) is
    plain; a header that merely lacks a column gets no such hint."""
    text = csv_text(*GOOD).replace(",", separator)
    path = write(tmp_path / "export.csv", text)
    line = assert_file_error(scrub(path), path, "missing required column", f"separated by {name}, not commas")
    # the names found are listed apart (a tab was printed raw, shown as U+FFFD by the terminal)
    found = line.split("(found: ")[1].split(")")[0]
    assert found.startswith("claim_id, line_number, member_id,") and separator not in found
    short = write(tmp_path / "short.csv", text.replace(f"{separator}units", "", 1))
    assert "separated by" not in assert_file_error(scrub(short), short, "missing required column")


# Contract: file-level.
def test_header_only_names_nothing_we_know(tmp_path: Path) -> None:
    path = write(tmp_path / "other.csv", "a,b,c\n1,2,3\n")
    assert_file_error(scrub(path), path, "missing required column")


# Contract: file-level.
def test_duplicate_column(tmp_path: Path) -> None:
    path = write(tmp_path / "dup.csv", csv_text(GOOD[0] + ",X", header=HEADER + ",Units"))
    assert_file_error(scrub(path), path, "duplicate column", "units")


# Contract: file-level.
@pytest.mark.parametrize(
    ("content", "word"),
    [
        ('{"claims": [{"claim_id": "C1", "lines": [{"line_number": 1', "invalid JSON"),
        ('{"claims": [}', "invalid JSON"),
        ("[" * 100_000 + "]" * 100_000, "nested"),
        ('{"claims": [{"claim_id": "C1\\ud800", "member_id": "M", "payer": "X", "lines": [{"line_number": 1}]}]}',
         "unpaired surrogate"),
    ],
    ids=["truncated", "invalid", "deeply-nested", "lone-surrogate"],
)
def test_invalid_json(tmp_path: Path, content: str, word: str) -> None:
    path = write(tmp_path / "claims.json", content)
    assert_file_error(scrub(path), path, word)


# Contract: file-level.
@pytest.mark.parametrize(
    "content",
    ['{"patients": []}', "[1, 2, 3]", '"claims"', "42", '{"claims": 5}', '[{"a": 1}]'],
)
def test_json_that_is_not_claims(tmp_path: Path, content: str) -> None:
    path = write(tmp_path / "other.json", content)
    assert_file_error(scrub(path), path)


@pytest.mark.parametrize("content", ['{"claims": []}', "[]"])
def test_an_empty_claims_list_is_a_file_of_no_rows_as_a_header_alone_is(tmp_path: Path, content: str) -> None:
    """Probe 28C D9: an empty JSON claims list beside other inputs stopped the run (exit 2, none of their
    rows checked), while a CSV header alone passed in silence. Both are a file of no rows: said with an
    input warning, the other inputs checked; alone, nothing could be checked (exit 2), as before."""
    path = write(tmp_path / "empty.json", content)
    header_only = write(tmp_path / "header.csv", HEADER + "\n")
    alone = scrub(path)
    assert_no_traceback(alone)
    assert alone.exit_code == 2 and "nothing could be checked" in alone.stderr, alone.stderr
    good = write(tmp_path / "good.csv", csv_text(*GOOD))
    for empty in (path, header_only):
        doc = run_json(good, empty)
        assert doc["summary"]["rows_checked"] == len(GOOD)
        assert any("this file holds no claim rows" in w["problem"] and w["source"].endswith(Path(empty).name)
                   for w in doc["input_warnings"]), doc["input_warnings"]


# Contract: file-level.
def test_folder_without_claim_files(tmp_path: Path) -> None:
    (tmp_path / "readme.md").write_text("hello")
    assert_file_error(scrub(str(tmp_path)), str(tmp_path), "no claim files")


# Contract: file-level.
def test_not_a_regular_file(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    assert_file_error(scrub(str(fifo)), str(fifo), "not a regular file")


# Contract: file-level.
@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_input(tmp_path: Path) -> None:
    path = write(tmp_path / "secret.csv", csv_text(*GOOD))
    os.chmod(path, 0)
    assert_file_error(scrub(path), path, "cannot read")


# Policies ------------------------------------------------------------------------------------------


@pytest.fixture
def good_csv(tmp_path: Path) -> str:
    return write(tmp_path / "good.csv", csv_text(*GOOD))


# Contract: file-level.
def test_missing_policy_file(tmp_path: Path, good_csv: str) -> None:
    policy = str(tmp_path / "nope.toml")
    assert_file_error(scrub(good_csv, "--policy", policy), policy, "no such policy file")


# Contract: file-level.
def test_unreadable_policy_file(tmp_path: Path, good_csv: str) -> None:
    folder = tmp_path / "policy.toml"
    folder.mkdir()
    assert_file_error(scrub(good_csv, "--policy", str(folder)), str(folder), "cannot read policy file")
    latin = write(tmp_path / "latin.toml", 'name = "Café"\n'.encode("latin-1"))
    assert_file_error(scrub(good_csv, "--policy", latin), latin, "cannot read policy file", "UTF-8")
    binary = write(tmp_path / "bin.toml", b"name = \x00\x01")
    assert_file_error(scrub(good_csv, "--policy", binary), binary, "cannot read policy file")


# Contract: file-level.
@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_policy_without_permission(tmp_path: Path, good_csv: str) -> None:
    policy = write(tmp_path / "p.toml", 'name = "X"\n')
    os.chmod(policy, 0)
    assert_file_error(scrub(good_csv, "--policy", policy), policy, "cannot read policy file")


# Contract: file-level.
@pytest.mark.parametrize(
    ("toml", "words"),
    [
        ('name = "ACME"\nexmpt_pos = ["21"]\n', ("unknown key", "exmpt_pos")),
        ('name = "ACME"\n[jw]\nrequired = 2017-01-01\n', ("unknown key", "jw.required")),
        ('name = "ACME"\n[coverage.lists]\nX = "D80.0"\n', ("coverage.lists.X", "list")),
        ('name = "ACME"\n[coverage.lists]\nX = ["D80.0", "NOTACODE!"]\n', ("coverage.lists.X", "NOTACODE!", "ICD-10")),
        ('name = "ACME"\npayers = [1, 2]\n', ("payers", "text")),
        ('name = "ACME"\n[coverage]\nother = [5]\n', ("coverage.other",)),
        ('name = "ACME"\n[jz]\nrequired_from = 2023-07-01T10:00:00\n', ("jz.required_from", "date")),
        ('name = "ACME"\n[caps]\n"96371" = -1\n', ("caps.96371",)),
        ('name = "ACME"\nextends = "NOPE"\n', ("extends unknown policy",)),
        ('payers = ["ACME"]\n', ("needs a 'name'",)),
        ('name = "  "\n', ("name",)),
        ('name = "ACME"\npayers = [', ("invalid TOML",)),
        # A file named like a built-in redefines it for all its payers: built on the other one, it
        # swapped every commercial (or Medicare) payer's rules silently.
        ('name = "DEFAULT"\nextends = "MEDICARE"\npayers = ["ACME"]\n', ("named DEFAULT", "must extend DEFAULT")),
        ('name = "medicare"\nextends = "DEFAULT"\n', ("named MEDICARE", "must extend MEDICARE")),
        ('name = "MEDICARE"\n[jz]\nrequired_from = false\n', ("must extend MEDICARE", "extends DEFAULT")),
    ],
    ids=["unknown-top", "unknown-nested", "list-not-list", "list-not-icd10", "payers-not-text", "coverage-not-text",
         "datetime-not-date", "negative-cap", "unknown-base", "no-name", "blank-name", "bad-toml",
         "default-on-medicare", "medicare-on-default", "medicare-without-extends"],
)
def test_bad_policy(tmp_path: Path, good_csv: str, toml: str, words: tuple[str, ...]) -> None:
    policy = write(tmp_path / "acme.toml", toml)
    assert_file_error(scrub(good_csv, "--policy", policy), policy, *words)


# Contract: file-level.
@pytest.mark.parametrize("option", ["--select", "--ignore"])
def test_unknown_check_ids(good_csv: str, option: str) -> None:
    result = scrub(good_csv, option, "addon-without-primary,no-such-check")
    line = assert_file_error(result, "")
    assert option in line and "no-such-check" in line and "addon-without-primary" not in line.split("ids")[-1]


# Records (--records) -------------------------------------------------------------------------------


# Contract: file-level.
@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("r.json", '{"records": [', ("invalid JSON",)),
        ("r.json", '{"records": 3}', ("list of objects",)),
        ("r.json", b'{"records": [{"claim_id": "G1", "line_number": 1, "route": "' + "Müller".encode("latin-1")
         + b'"}]}', ("UTF-8", "read whole")),
        ("r.csv", "claim_id,drug_dose_mg\nG1,100\n", ("line_number",)),
        ("r.csv", "claim_id,line_number,notes\nG1,1,x\n", ("documentation columns",)),
        ("r.csv", "claim_id,line_number,route,route\nG1,1,IV,IV\n", ("duplicate column",)),
        ("r.csv", b"", ("empty file",)),
    ],
    ids=["truncated-json", "not-a-list", "latin1-json-document", "no-key", "no-doc", "dup-col", "empty"],
)
def test_bad_records_file(tmp_path: Path, good_csv: str, name: str, content: str | bytes,
                          words: tuple[str, ...]) -> None:
    records = write(tmp_path / name, content)
    assert_file_error(scrub(good_csv, "--records", records), records, *words)


# Contract: file-level.
def test_missing_records_file(tmp_path: Path, good_csv: str) -> None:
    records = str(tmp_path / "none.csv")
    assert_file_error(scrub(good_csv, "--records", records), records, "no such records file")
    # A pipe exists, but is no file a records reader reads more than once (probe 22B: "no such records
    # file" for --records <(...)): said as it is.
    fifo = tmp_path / "records.pipe"
    os.mkfifo(fifo)
    assert_file_error(scrub(good_csv, "--records", str(fifo)), str(fifo), "not a regular file")
    folder = tmp_path / "records_folder"
    folder.mkdir()
    assert_file_error(scrub(good_csv, "--records", str(folder)), str(folder), "a folder")


# Contract: file-level (--debug).
def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    """``--debug`` is the way to see one; without it, one line. The exit status stays 2 (unusable
    input): Python's 1 for an uncaught exception would read as "findings" to a CI gate."""
    missing = str(tmp_path / "nope.csv")
    result = scrub(missing, "--debug")
    assert result.exit_code == 2
    assert "Traceback" in result.stderr and "no such file" in result.stderr.splitlines()[-1]
    bad_select = scrub(missing, "--select", "bogus", "--debug")
    assert bad_select.exit_code == 2


# -------------------------------------------------------------------------------------------------
# Row-level problems: rejected with source, row and reason; the rest is still checked.

ROW_CASES = [
    ("bad-date", "B1,1,MB,AETNA,,11,2026-02-30,96365,,1,300,D80.0,,,", "unparseable date_of_service '2026-02-30'"),
    ("day-first-date", "B1,1,MB,AETNA,,11,13/02/2026,96365,,1,300,D80.0,,,", "day-first date_of_service '13/02/2026'"),
    ("bad-date-format", "B1,1,MB,AETNA,,11,2026/02/10,96365,,1,300,D80.0,,,", "expected a date YYYY-MM-DD"),
    ("bad-datetime", "B1,1,MB,AETNA,,11,2026-02-10,96365,,1,300,D80.0,,9am,2026-02-10T10:00",
     "unparseable infusion_start '9am'"),
    ("bad-number", "B1,1,MB,AETNA,,11,2026-02-10,96365,,two,300,D80.0,,,", "unparseable units 'two'"),
    ("bad-charge", "B1,1,MB,AETNA,,11,2026-02-10,96365,,1,12;50,D80.0,,,", "unparseable charge '12;50'"),
    ("nan", "B1,1,MB,AETNA,,11,2026-02-10,96365,,nan,300,D80.0,,,", "unparseable units 'nan'"),
    ("bad-line-number", "B1,1.5,MB,AETNA,,11,2026-02-10,96365,,1,300,D80.0,,,", "unparseable line_number '1.5'"),
    ("negative-units", "B1,1,MB,AETNA,,11,2026-02-10,96365,,-2,300,D80.0,,,",
     "units must be greater than 0 (units = '-2')"),
    ("zero-units", "B1,1,MB,AETNA,,11,2026-02-10,96365,,0,300,D80.0,,,", "units must be greater than 0 (units = '0')"),
    ("negative-dose", "B1,1,MB,AETNA,,11,2026-02-10,J1459,,1,300,D80.0,-5,,", "drug_dose_mg must not be negative"),
    ("short-procedure", "B1,1,MB,AETNA,,11,2026-02-10,9636,,1,300,D80.0,,,",
     "malformed procedure code (expected 5 letters/digits) (procedure_code = '9636')"),
    ("long-procedure", "B1,1,MB,AETNA,,11,2026-02-10,96365-A,,1,300,D80.0,,,", "malformed procedure code"),
    # A diagnosis not shaped like an ICD-10-CM code ("80.0", "D8.00") is no rejected row: it is a
    # noncovered-diagnosis finding (RULES.md second edition; tests/test_coverage_words.py).
    ("bad-modifier", "B1,1,MB,AETNA,,11,2026-02-10,96365,JWX,1,300,D80.0,,,", "malformed modifier"),
    ("bad-claim-type", "B1,1,MB,AETNA,dental,11,2026-02-10,96365,,1,300,D80.0,,,", "claim_type must be"),
    ("bad-pos", "B1,1,MB,AETNA,,office,2026-02-10,96365,,1,300,D80.0,,,", "place_of_service must be a 2-digit code"),
    ("missing-member", "B1,1,,AETNA,,11,2026-02-10,96365,,1,300,D80.0,,,", "missing required value member_id"),
    ("missing-claim-id", " ,1,MB,AETNA,,11,2026-02-10,96365,,1,300,D80.0,,,", "missing required value claim_id"),
    ("missing-units", "B1,1,MB,AETNA,,11,2026-02-10,96365,,,300,D80.0,,,", "missing required value units"),
    ("missing-date", "B1,1,MB,AETNA,,11,,96365,,1,300,D80.0,,,", "missing required value date_of_service"),
]


# Contract: rejected (value bounds and dates as exported for their cases).
@pytest.mark.parametrize(("name", "row", "reason"), ROW_CASES, ids=[c[0] for c in ROW_CASES])
def test_row_level_problem_rejects_the_row(tmp_path: Path, name: str, row: str, reason: str) -> None:
    path = write(tmp_path / f"{name}.csv", csv_text(*GOOD, row, *FINDING))
    doc = run_json(path)
    assert doc["summary"]["rows_read"] == 4
    assert doc["summary"]["rows_checked"] == 3
    (rejected,) = doc["rejected_rows"]
    assert rejected["source"] == path
    assert rejected["row"] == 4  # header is row 1; the bad line is the 3rd data line
    assert rejected["location"] == "row 4"
    assert reason in rejected["reason"], rejected["reason"]
    # Everything else is still checked: the add-on without primary on F1 is found.
    assert [f["claim_id"] for f in doc["findings"]] == ["F1"]


# Contract: rejected.
def test_several_problems_on_one_row_are_all_reported(tmp_path: Path) -> None:
    path = write(tmp_path / "multi.csv", csv_text("B1,x,,AETNA,,11,2026-13-01,9636,,-1,300,D80.0,,,"))
    (rejected,) = run_json(path)["rejected_rows"]
    for part in ("unparseable line_number 'x'", "missing required value member_id", "unparseable date_of_service",
                 "malformed procedure code", "units must be greater than 0"):
        assert part in rejected["reason"]
    assert rejected["line_number"] == "x"  # what the user wrote, since it is no number


# Contract: rejected.
def test_duplicate_claim_line(tmp_path: Path) -> None:
    """A row repeating a line exactly (the export given twice): the repeat is rejected, the line kept."""
    path = write(tmp_path / "dup.csv", csv_text(*GOOD, GOOD[1], *FINDING))
    doc = run_json(path)
    (rejected,) = doc["rejected_rows"]
    assert rejected["row"] == 4
    assert "duplicate claim_id + line_number (G1 line 2); first seen at row 3" in rejected["reason"]
    assert doc["summary"]["rows_checked"] == 3


@pytest.mark.parametrize("hostile_first", [True, False])
def test_rows_that_differ_on_one_claim_line_are_all_rejected_whatever_their_order(tmp_path: Path,
                                                                                hostile_first: bool) -> None:
    """Two rows of one claim_id + line_number that say different things: the first one read won, so a
    row put before the real line replaced it and changed the claim's findings (probe W). Which is the
    line cannot be told: both are rejected, naming what differs, in either order."""
    other = GOOD[1].replace(",120,", ",99,")
    rows = [other, GOOD[1]] if hostile_first else [GOOD[1], other]
    doc = run_json(write(tmp_path / "dup.csv", csv_text(GOOD[0], *rows, *FINDING)))
    rejected = sorted((r["row"], r["reason"]) for r in doc["rejected_rows"])
    assert [row for row, _ in rejected] == [3, 4]
    assert all("(G1 line 2) is given by several rows that differ in charge (row 3, row 4)" in reason
               for _, reason in rejected)
    assert doc["summary"]["rows_checked"] == 2


@pytest.mark.parametrize("bad_first", [True, False])
def test_a_row_failing_its_own_rules_never_displaces_the_line_it_repeats(tmp_path: Path, bad_first: bool) -> None:
    """A row with units "x" under a good line's claim_id + line_number is rejected for its units; put
    first, it made the good line "duplicate ... first seen" and took it out of the check."""
    bad = GOOD[1].replace(",1,120,", ",x,120,")
    rows = [bad, GOOD[1]] if bad_first else [GOOD[1], bad]
    doc = run_json(write(tmp_path / "dup.csv", csv_text(GOOD[0], *rows, *FINDING)))
    (rejected,) = doc["rejected_rows"]
    assert rejected["row"] == (3 if bad_first else 4) and "units" in rejected["reason"]
    assert "duplicate" not in rejected["reason"]
    assert doc["summary"]["rows_checked"] == 3


# Contract: rejected.
def test_duplicate_claim_line_across_files(tmp_path: Path) -> None:
    first = write(tmp_path / "a.csv", csv_text(*GOOD))
    second = write(tmp_path / "b.csv", csv_text(GOOD[0], *FINDING))
    doc = run_json(first, second)
    (rejected,) = doc["rejected_rows"]
    assert (rejected["source"], rejected["row"]) == (second, 2)
    assert f"first seen at row 2 of {first}" in rejected["reason"]


# Contract: rejected (a claim-wide problem).
@pytest.mark.parametrize(
    ("column", "edit"),
    [("member_id", (",MG,", ",OTHER,")), ("payer", (",AETNA,", ",CIGNA,")),
     ("claim_type", (",professional,", ",institutional,"))],
)
def test_claim_lines_disagree_whole_claim_rejected(tmp_path: Path, column: str, edit: tuple[str, str]) -> None:
    path = write(tmp_path / "disagree.csv", csv_text(GOOD[0], GOOD[1].replace(*edit), *FINDING))
    doc = run_json(path)
    assert [r["row"] for r in doc["rejected_rows"]] == [2, 3]
    for r in doc["rejected_rows"]:
        assert f"lines of claim G1 disagree on {column}" in r["reason"]
        assert "the whole claim is rejected" in r["reason"]
    assert doc["summary"]["rows_checked"] == 1
    assert [f["claim_id"] for f in doc["findings"]] == ["F1"]


# Contract: isolated.
def test_payer_spelling_is_not_a_disagreement(tmp_path: Path) -> None:
    """Policies match payers case-insensitively, so ``Aetna`` and ``AETNA`` are one payer."""
    path = write(tmp_path / "case.csv", csv_text(GOOD[0], GOOD[1].replace(",AETNA,", ",Aetna,")))
    assert run_json(path)["summary"]["rejected_rows"] == 0


# Contract: counted.
def test_rows_are_counted_as_a_spreadsheet_shows_them(tmp_path: Path) -> None:
    """A quoted cell over three physical lines is one row; a blank line still takes a row number."""
    header = HEADER + ",notes"
    rows = [GOOD[0] + ',"first line\nsecond line\nthird, with comma"', "", GOOD[1] + ",",
            "B1,1,MB,AETNA,,11,2026-02-10,96365,,0,300,D80.0,,,,"]
    doc = run_json(write(tmp_path / "multiline.csv", csv_text(*rows, header=header)))
    (rejected,) = doc["rejected_rows"]
    assert rejected["row"] == 5  # header 1, G1/1 is 2 (3 physical lines), blank 3, G1/2 is 4
    assert doc["summary"]["rows_read"] == 3


# Contract: rejected.
def test_json_rejections_name_claim_and_line(tmp_path: Path) -> None:
    claims = {
        "claims": [
            {"claim_id": "J1", "member_id": "M1", "payer": "AETNA", "date_of_service": "2026-02-10",
             "diagnoses": ["D80.0"],
             "lines": [{"line_number": 1, "procedure_code": "96365", "units": 1},
                       {"line_number": 2, "procedure_code": "96366", "units": 0}]},
            {"claim_id": "J2", "member_id": "M2", "payer": "AETNA", "date_of_service": "2026-02-30",
             "lines": [{"line_number": 1, "procedure_code": "96365", "units": 1}]},
            {"claim_id": "J3", "member_id": "M3", "payer": "AETNA", "date_of_service": "2026-02-10",
             "diagnoses": ["D80.0"],
             "lines": [{"line_number": 1, "procedure_code": "96365", "units": 1, "diagnosis_pointers": [2]},
                       {"line_number": 1, "procedure_code": "96366", "units": 1, "diagnosis_pointers": [1.5]},
                       {"line_number": 3, "procedure_code": "96366", "units": 1, "diagnosis_pointers": [1e308]}]},
            {"claim_id": "J4", "member_id": "M4", "payer": "AETNA", "lines": []},
            "not a claim",
            {"claim_id": "J5", "member_id": "M5", "payer": "AETNA", "date_of_service": "2026-02-10",
             "lines": [{"line_number": 1, "procedure_code": "96365", "units": 1, "member_id": "OTHER"},
                       {"line_number": 2, "procedure_code": "96366", "units": 1}]},
        ]
    }
    path = write(tmp_path / "claims.json", json.dumps(claims))
    doc = run_json(path)
    by_location = {r["location"]: r["reason"] for r in doc["rejected_rows"]}
    assert "units must be greater than 0" in by_location["claim 1 (J1), line 2"]
    assert "unparseable date_of_service '2026-02-30'" in by_location["claim 2 (J2), line 1"]
    assert "points past the claim's 1 diagnoses" in by_location["claim 3 (J3), line 1"]
    assert "not a whole number" in by_location["claim 3 (J3), line 2"]
    assert "points past" in by_location["claim 3 (J3), line 3"]
    assert "claim has no lines" in by_location["claim 4 (J4)"]
    assert "claim is not an object" in by_location["claim 5"]
    assert "disagree on member_id" in by_location["claim 6 (J5), line 1"]
    assert "disagree on member_id" in by_location["claim 6 (J5), line 2"]
    assert doc["summary"]["rows_checked"] == 1  # only J1 line 1 passes
    rows = [r["row"] for r in doc["rejected_rows"]]
    assert rows == sorted(rows) and rows[0] == 2  # n-th line across the file


# -------------------------------------------------------------------------------------------------
# Reconciliation, everywhere.


# Contract: reconciled.
def test_reconciliation_on_the_terminal(tmp_path: Path) -> None:
    path = write(tmp_path / "mixed.csv", csv_text(*GOOD, "B1,1,MB,AETNA,,11,2026-02-30,96365,,1,300,D80.0,,,",
                                                 *FINDING))
    result = scrub(path)
    assert_no_traceback(result)
    assert result.exit_code == 1  # F1 has an error finding
    assert "Rows read 4 = checked 3 + rejected 1." in result.stdout
    assert f"{path} row 4: unparseable date_of_service" in result.stdout


# Contract: reconciled.
def test_reconciliation_in_json_and_on_stderr_when_writing_files(tmp_path: Path) -> None:
    path = write(tmp_path / "mixed.csv", csv_text(*GOOD, "B1,1,MB,AETNA,,11,2026-02-30,96365,,1,300,D80.0,,,"))
    out = tmp_path / "out.json"
    result = scrub(path, "--json", str(out))
    assert_no_traceback(result)
    assert "4 rows read = 3 checked + 1 rejected" not in result.stdout
    assert "3 rows read = 2 checked + 1 rejected" in result.stderr
    summary = json.loads(out.read_text())["summary"]
    assert (summary["rows_read"], summary["rows_checked"], summary["rejected_rows"]) == (3, 2, 1)


# Contract: reconciled.
def test_reconciliation_in_the_html_report(tmp_path: Path) -> None:
    path = write(tmp_path / "mixed.csv", csv_text(*GOOD, "B1,1,MB,AETNA,,11,2026-02-30,96365,,1,300,D80.0,,,",
                                                 *FINDING))
    out = tmp_path / "report.html"
    result = scrub(path, "--html", str(out))
    assert_no_traceback(result)
    html = out.read_text(encoding="utf-8")
    assert "Rows read 4 = 3 checked + 1 rejected" in html
    assert "unparseable date_of_service" in html


# -------------------------------------------------------------------------------------------------
# Real-world CSV.


def _reordered(rows: list[str], order: list[int]) -> list[str]:
    return [",".join(row.split(",")[i] for i in order) for row in rows]


# Contract: counted.
def test_real_world_csv(tmp_path: Path) -> None:
    """BOM + CRLF + quoted commas/newlines + unknown columns + any order + trailing blank lines."""
    columns = HEADER.split(",")
    order = list(reversed(range(len(columns))))
    header = ",".join(columns[i].upper().replace("_", " ") for i in order) + ",Notes,Batch"
    rows = [r + ',"needs review, urgent\r\nsecond line",7' for r in _reordered([*GOOD, *FINDING], order)]
    text = "\ufeff" + "\r\n".join([header, *rows]) + "\r\n\r\n\r\n"
    doc = run_json(write(tmp_path / "excel.csv", text))
    assert doc["summary"]["rows_read"] == 3
    assert doc["summary"]["rejected_rows"] == 0
    assert [f["claim_id"] for f in doc["findings"]] == ["F1"]
    assert doc["findings"][0]["location"] == "row 4"


# Contract: counted.
@pytest.mark.parametrize(
    ("label", "text"),
    [
        ("bom", "\ufeff" + csv_text(*GOOD, *FINDING)),
        ("crlf", csv_text(*GOOD, *FINDING).replace("\n", "\r\n")),
        ("cr-only", csv_text(*GOOD, *FINDING).replace("\n", "\r")),
        ("trailing-blank", csv_text(*GOOD, *FINDING) + "\n\n  \n,,,,,,,,,,,,,,\n"),
        ("quoted-everything", "\n".join(",".join(f'"{c}"' for c in r.split(",")) for r in [HEADER, *GOOD, *FINDING])),
        ("spaces-around", "\n".join(", ".join(r.split(",")) for r in [HEADER, *GOOD, *FINDING])),
        ("money", csv_text(GOOD[0].replace(",300,", ',"$1,300.00",'), GOOD[1], *FINDING)),
    ],
)
def test_real_world_csv_variants(tmp_path: Path, label: str, text: str) -> None:
    doc = run_json(write(tmp_path / f"{label}.csv", text))
    assert (doc["summary"]["rows_read"], doc["summary"]["rejected_rows"]) == (3, 0), doc["rejected_rows"]
    assert [f["claim_id"] for f in doc["findings"]] == ["F1"]


# Contract: counted.
@pytest.mark.parametrize("name", ["claims.json", "claims.837", "claims.txt"])
def test_csv_content_wins_over_the_extension(tmp_path: Path, name: str) -> None:
    """FORMATS.md: format from its content or extension. A CSV saved as .json is still a CSV."""
    doc = run_json(write(tmp_path / name, csv_text(*GOOD, *FINDING)))
    assert (doc["summary"]["rows_read"], doc["summary"]["rejected_rows"]) == (3, 0), doc["rejected_rows"]
    assert [f["claim_id"] for f in doc["findings"]] == ["F1"]


# Contract: rejected, counted.
def test_ragged_rows_are_rejected_not_truncated(tmp_path: Path) -> None:
    rows = [GOOD[0], GOOD[1] + ",extra,cells", *FINDING, "short,1"]
    doc = run_json(write(tmp_path / "ragged.csv", csv_text(*rows)))
    by_row = {r["row"]: r["reason"] for r in doc["rejected_rows"]}
    # One reason for the one problem (not "missing value" for every blanked cell), and the rejection
    # still names the claim and line.
    assert by_row[3] == "row has 17 cells but the header names 15 columns"
    (ragged,) = [r for r in doc["rejected_rows"] if r["row"] == 3]
    assert (ragged["claim_id"], ragged["line_number"]) == ("G1", "2")
    assert "missing required value member_id" in by_row[5]  # too few cells: the rest are empty
    assert doc["summary"]["rows_read"] == 4
    assert [f["claim_id"] for f in doc["findings"]] == ["F1"]


# Contract: counted.
def test_stray_quote_does_not_lose_rows(tmp_path: Path) -> None:
    rows = [GOOD[0], 'G1,2,MG,AETNA,professional,11,2026-02-10,96366,,1,12"0,D80.0,,,', *FINDING]
    doc = run_json(write(tmp_path / "quote.csv", csv_text(*rows)))
    assert doc["summary"]["rows_read"] == 3
    assert "unparseable charge '12\"0'" in doc["rejected_rows"][0]["reason"]


# Contract: counted.
def test_unclosed_quote_is_reported(tmp_path: Path) -> None:
    rows = [*GOOD, 'B1,1,MB,AETNA,,11,2026-02-10,96365,,1,"300,D80.0,,,', *FINDING]
    doc = run_json(write(tmp_path / "unclosed.csv", csv_text(*rows)))
    (rejected,) = doc["rejected_rows"]
    assert rejected["row"] == 4
    assert "quoted cell is never closed" in rejected["reason"] and "2 line(s)" in rejected["reason"]


# -------------------------------------------------------------------------------------------------
# Determinism: same input, byte-identical JSON and CSV, across processes.


# Contract: reconciled (determinism).
def test_same_input_gives_byte_identical_output(tmp_path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from claimgen import write_large_csv

    data = tmp_path / "data"
    data.mkdir()
    write_large_csv(data / "a.csv", 20_000, seed=1, error_rate=0.05)
    write(data / "b.csv", csv_text(*GOOD, "B1,1,MB,AETNA,,11,2026-02-30,96365,,1,300,D80.0,,,", *FINDING,
                                   GOOD[0].replace("G1,", "CLM000000000,")))
    digests = []
    for run in range(2):
        out_json, out_csv = tmp_path / f"{run}.json", tmp_path / f"{run}.csv"
        proc = subprocess.run(
            [sys.executable, "-m", "scrubber.cli", "check", str(data), "--json", str(out_json), "--csv", str(out_csv)],
            capture_output=True, text=True, check=False, cwd=REPO,
            env={**os.environ, "PYTHONHASHSEED": str(run + 1), "PYTHONPATH": str(REPO)},
        )
        assert proc.returncode == 1, proc.stderr
        assert "Traceback" not in proc.stderr
        digests.append((hashlib.sha256(out_json.read_bytes()).hexdigest(),
                        hashlib.sha256(out_csv.read_bytes()).hexdigest()))
    assert digests[0] == digests[1]
    doc = json.loads((tmp_path / "0.json").read_text())
    # B1: bad date; CLM000000000 appears in both files with two members: whole claim (4 + 1 rows).
    assert doc["summary"]["findings"] > 100 and doc["summary"]["rejected_rows"] == 6


# -------------------------------------------------------------------------------------------------
# Several inputs, JSON Lines and records: still one reconciliation, nothing lost.


# Contract: records.
def test_records_fill_documentation_and_unmatched_are_reported(tmp_path: Path) -> None:
    claims = write(tmp_path / "claims.csv", csv_text(GOOD[0].replace("2026-02-10T09:00,2026-02-10T11:00", ","),
                                                     GOOD[1], "R1,1,MR,AETNA,,11,2026-02-10,96365,,1,300,D80.0,,,"))
    records = write(tmp_path / "records.csv", "claim_id,line_number,infusion_start,infusion_stop\n"
                    "G1,01,2026-02-10T09:00,2026-02-10T11:00\n"
                    "R1,1.0,soon,2026-02-10T10:00\n"
                    "ZZ,9,2026-02-10T09:00,2026-02-10T10:00\n")
    doc = run_json(claims, "--records", records)
    # The unreadable start time is the records file's problem (its row 3), not the claims file's:
    # R1's line is checked on what is known (no documented times), and the record's value is not used.
    assert doc["rejected_rows"] == []
    assert [(u["source"], u["row"], u["claim_id"]) for u in doc["unmatched_records"]] == [
        (records, 3, "R1"), (records, 4, "ZZ")]
    bad, unmatched = doc["unmatched_records"]
    assert bad["reason"].startswith("unparseable infusion_start 'soon'") and "not used" in bad["reason"]
    assert unmatched["reason"] == "record matches no claim line"
    assert doc["summary"]["rows_read"] == 3
    # G1's 96366 is supported by the 120 documented minutes that came from the records file.
    assert doc["findings"] == []


# Contract: records.
@pytest.mark.parametrize(("name", "bad", "why"), [
    ("r.csv", "G9,1,2026-02-10T09:00,\"2026-02-10T10:00\n", "a quoted cell is never closed"),  # (swallows the rest)
    ("r.csv", "G9,1,2026-02-10T09:00,2026-02-10T10:00\x00\n", "NUL byte"),
    ("r.csv", "G9,1,2026-02-10T09:00,Müller\n", "not UTF-8 text (byte 0xfc in infusion_stop)"),
    ("r.jsonl", '{"claim_id": "G9", "line_number": 1, "infusion_stop": "Müller"}\n',
     "not UTF-8 text at line 2 (byte 0xfc)"),
], ids=["unclosed-quote", "nul", "latin1-csv", "latin1-jsonl"])
def test_a_bad_row_of_a_records_file_is_that_rows_problem(tmp_path: Path, name: str, bad: str, why: str) -> None:
    """Probe 21B D1/D2: an unclosed quote swallowed the records after it into one "record matches no
    claim line" (findings of good claims went with them, said nowhere); one latin-1 byte stopped the
    run. Each is now that row's problem, said with its reason, and a record before it still joins."""
    claims = write(tmp_path / "claims.csv", csv_text(GOOD[0].replace("2026-02-10T09:00,2026-02-10T11:00", ","),
                                                     GOOD[1]))
    good = ("claim_id,line_number,infusion_start,infusion_stop\nG1,1,2026-02-10T09:00,2026-02-10T11:00\n"
            if name.endswith(".csv") else
            '{"claim_id": "G1", "line_number": 1, "infusion_start": "2026-02-10T09:00", '
            '"infusion_stop": "2026-02-10T11:00"}\n')
    records = write(tmp_path / name, good.encode("utf-8") + bad.encode("latin-1"))
    doc = run_json(claims, "--records", records)
    (problem,) = doc["unmatched_records"]
    assert why in problem["reason"] and problem["reason"] != "record matches no claim line", problem
    # G1's 96366 is supported by the 120 documented minutes of the record before the bad one.
    assert doc["findings"] == [] and doc["rejected_rows"] == []


# Contract: counted, folders.
def test_folder_of_mixed_files_reconciles(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    write(folder / "a.csv", csv_text(*GOOD))
    write(folder / "b.jsonl", "\n".join(json.dumps(c) for c in [
        {"claim_id": "L1", "member_id": "ML", "payer": "AETNA", "date_of_service": "2026-02-10",
         "lines": [{"line_number": 1, "procedure_code": "96365", "units": 1}]},
        {"claim_id": "L2", "member_id": "ML", "payer": "AETNA", "date_of_service": "2026-02-10",
         "lines": [{"line_number": 1, "procedure_code": "963", "units": 1}]},
    ]) + "\n")
    write(folder / "c.csv", csv_text(*FINDING, "B1,1,MB,AETNA,,11,2026-02-10,96365,,1,300,D80.0,,,,extra"))
    (folder / "notes.md").write_text("not claims")
    doc = run_json(str(folder))
    assert doc["summary"]["rows_read"] == 6
    assert {(Path(r["source"]).name, r["row"]) for r in doc["rejected_rows"]} == {("b.jsonl", 2), ("c.csv", 3)}
    assert [f["claim_id"] for f in doc["findings"]] == ["F1"]


# Contract: folders.
def test_folder_with_its_records_file(tmp_path: Path) -> None:
    """A folder of claims may hold the --records file beside them: it is not read as claims, and a
    records file given as a claims input gets a hint instead of a bare missing-columns error."""
    folder = tmp_path / "in"
    folder.mkdir()
    bare = [GOOD[0].replace("2026-02-10T09:00,2026-02-10T11:00", ","), GOOD[1]]
    write(folder / "claims.csv", csv_text(*bare))
    records = write(folder / "records.csv", "claim_id,line_number,infusion_start,infusion_stop\n"
                    "G1,1,2026-02-10T09:00,2026-02-10T10:00\n")
    doc = run_json(str(folder), "--records", records)
    assert doc["summary"]["rows_read"] == 2
    # The 60 minutes from the records file support no add-on hour: 96366 x1 is over.
    assert [(f["claim_id"], f["line_number"], f["check_id"]) for f in doc["findings"]] == [
        ("G1", 2, "unit-miscalculation")]
    # Without --records the folder still reads: the records file is skipped with a note.
    doc = run_json(str(folder))
    assert doc["summary"]["rows_read"] == 2
    assert [w["source"] for w in doc["input_warnings"]] == [records]
    assert "administration records file" in doc["input_warnings"][0]["problem"]
    assert_file_error(scrub(records), records, "missing required column", "pass it with --records")


# Contract: isolated.
def test_rejected_line_still_counts_as_billed_for_its_siblings(tmp_path: Path) -> None:
    """One root cause, one report: the 96365 whose documented route is unreadable is rejected (with
    its reason), but it was billed, so its 96366 is not reported as an add-on without a primary;
    one with an unreadable date counts for every date of its claim. A rejected row whose code
    cannot be read ("963651") may have been the primary: its add-on is not evaluated (as beside a
    blank code; it was reported as an orphan until a hostile probe showed the two disagreeing)."""
    header = "claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,units,route"
    rows = ["R3,1,M1,AETNA,11,2026-03-02,96365,1,ORAL", "R3,2,M1,AETNA,11,2026-03-02,96366,1,",
            "R4,1,M2,AETNA,11,2026-03-02,963651,1,", "R4,2,M2,AETNA,11,2026-03-02,96366,1,",
            "R5,1,M3,AETNA,11,03/02/2026x,96365,1,", "R5,2,M3,AETNA,11,2026-03-02,96366,1,"]
    doc = run_json(write(tmp_path / "c.csv", "\n".join([header, *rows]) + "\n"))
    assert [(r["claim_id"], r["line_number"]) for r in doc["rejected_rows"]] == [("R3", "1"), ("R4", "1"),
                                                                                 ("R5", "1")]
    assert "route must be one of" in doc["rejected_rows"][0]["reason"]
    assert doc["findings"] == []
    # R4's add-on, and R3's and R5's, whose primary is known only from a rejected row
    assert doc["summary"]["by_check"]["addon-without-primary"]["lines_not_evaluated"] == 3


# Contract: records.
def test_duplicate_records_are_used_once_when_they_agree_and_not_at_all_when_they_disagree(
        tmp_path: Path, good_csv: str) -> None:
    """The first record read won, so swapping two rows of the records file changed the findings (probe
    15B: 0 findings one way, 2 the other). Rows of one claim line that disagree are all set aside."""
    records = write(tmp_path / "r.csv", "claim_id,line_number,observation_minutes\n"
                    "G1,1,10\nG1,1,20\nG1,1,30\n")
    doc = run_json(good_csv, "--records", records)
    reason = "records for this claim line disagree on observation_minutes: none is used (the line keeps its own " \
             "documentation)"
    assert [(u["row"], u["reason"]) for u in doc["unmatched_records"]] == [(2, reason), (3, reason), (4, reason)]
    swapped = write(tmp_path / "s.csv", "claim_id,line_number,observation_minutes\nG1,1,30\nG1,1,20\nG1,1,10\n")
    assert run_json(good_csv, "--records", swapped)["findings"] == doc["findings"]
    # Near miss: rows that agree (a value one leaves out is no difference) are one record, used once.
    agreeing = write(tmp_path / "a.csv", "claim_id,line_number,observation_minutes,route\n"
                     "G1,1,10,\nG1,1,,IV\nG1,1,10,IV\n")
    doc = run_json(good_csv, "--records", agreeing)
    # (probe 19B: "the same values" where a row left a value empty: the message says what was combined)
    combined = ("repeated record for this claim line (no value disagrees; route, observation_minutes taken from the "
                "row that gives it): used once, combined")
    assert [(u["row"], u["reason"]) for u in doc["unmatched_records"]] == [(3, combined), (4, combined)]
    same = write(tmp_path / "d.csv", "claim_id,line_number,observation_minutes,route\nG1,1,10,IV\nG1,1,10,IV\n")
    assert [(u["row"], u["reason"]) for u in run_json(good_csv, "--records", same)["unmatched_records"]] == [
        (3, "duplicate record for this claim line (the same values): used once")]
    # The same values spelled otherwise agree (probe 23H: "35000" and "35000.0", "IV" and "iv", a time with
    # seconds were "disagree: none is used", and the line lost its documentation).
    spelled = write(tmp_path / "e.csv", "claim_id,line_number,observation_minutes,route,infusion_start\n"
                    "G1,1,10,IV,2026-02-10T09:00\nG1,1,10.0,iv,2026-02-10 09:00:00\n")
    assert [(u["row"], u["reason"]) for u in run_json(good_csv, "--records", spelled)["unmatched_records"]] == [
        (3, "duplicate record for this claim line (the same values): used once")]


# Contract: records.
@pytest.mark.parametrize("broken", [
    '{"claim_id": "G1", "line_number": 1, broken',  # not JSON
    "[" * 100_000,  # JSON nested too deeply for the reader
    "[1, 2]",  # JSON, but not a record
    '{"claim_id": "X9", "line_number": 1, "route": "\\ud800"}',  # a lone surrogate: no text holds it
], ids=["not-json", "too-deep", "not-an-object", "lone-surrogate"])
@pytest.mark.parametrize("first", [True, False], ids=["first-line", "mid-file"])
def test_json_lines_records_bad_line_is_reported_alone(tmp_path: Path, broken: str, first: bool) -> None:
    """One bad line of a JSON Lines records file is that record's problem, reported with its line in
    the file (blank lines count), as a CSV records file's ragged row is: the other records still
    join, and the run goes on instead of stopping on the whole file."""
    bare = [GOOD[0].replace("2026-02-10T09:00,2026-02-10T11:00", ","), GOOD[1]]
    claims = write(tmp_path / "claims.csv", csv_text(*bare))
    good = json.dumps({"claim_id": "G1", "line_number": 1, "infusion_start": "2026-02-10T09:00",
                       "infusion_stop": "2026-02-10T10:00"})
    lines = [broken, "", good] if first else ["", good, "", broken, json.dumps({"claim_id": "ZZ", "line_number": 9,
                                                                                 "observation_minutes": 5})]
    records = write(tmp_path / "records.jsonl", "\n".join(lines) + "\n")
    doc = run_json(claims, "--records", records)
    # The 60 minutes from the good record joined: they support no add-on hour, so 96366 x1 is over.
    assert [(f["claim_id"], f["line_number"], f["check_id"]) for f in doc["findings"]] == [
        ("G1", 2, "unit-miscalculation")]
    bad_row = 1 if first else 4
    reported = [(u["row"], u["reason"]) for u in doc["unmatched_records"]]
    assert reported[0][0] == bad_row and ("not read" in reported[0][1] or "not an object" in reported[0][1]), reported
    assert [row for row, _ in reported[1:]] == ([] if first else [5])


# Contract: records.
def test_records_json_one_record_and_a_lone_surrogate_in_a_list(tmp_path: Path) -> None:
    """A JSON Lines records file of one line is one record (not "a list of objects" refused); in a
    JSON list, a record holding an unpaired surrogate escape is not used and is reported, the others
    join (it used to stop the run with an unexpected error)."""
    bare = [GOOD[0].replace("2026-02-10T09:00,2026-02-10T11:00", ","), GOOD[1]]
    claims = write(tmp_path / "claims.csv", csv_text(*bare))
    record = {"claim_id": "G1", "line_number": 1, "infusion_start": "2026-02-10T09:00",
              "infusion_stop": "2026-02-10T10:00"}
    one = write(tmp_path / "one.jsonl", "\n\n" + json.dumps(record) + "\n")
    doc = run_json(claims, "--records", one)
    assert [(f["claim_id"], f["check_id"]) for f in doc["findings"]] == [("G1", "unit-miscalculation")]
    assert doc["unmatched_records"] == []
    listed = write(tmp_path / "list.json", "[" + json.dumps(record) + ', {"claim_id": "G1", "line_number": 2, '
                   '"route": "\\ud800"}]')
    doc = run_json(claims, "--records", listed)
    assert [(f["claim_id"], f["check_id"]) for f in doc["findings"]] == [("G1", "unit-miscalculation")]
    assert [(u["row"], "unpaired surrogate" in u["reason"]) for u in doc["unmatched_records"]] == [(2, True)]


# Contract: counted.
def test_json_lines_claims_line_numbers_count_leading_blank_lines(tmp_path: Path) -> None:
    """A broken JSON Lines claim is reported at its line in the file, leading blank lines included,
    and a line nested too deeply for the reader is that line's problem, not the file's."""
    good = {"claim_id": "L1", "member_id": "ML", "payer": "AETNA", "date_of_service": "2026-02-10",
            "lines": [{"line_number": 1, "procedure_code": "96365", "units": 1}]}
    path = write(tmp_path / "claims.jsonl", "\n\n" + "\n".join(["[" * 100_000, json.dumps(good),
                                                                   '{"claim_id": "L2", "lines": [']) + "\n")
    doc = run_json(path)
    assert doc["summary"]["rows_checked"] == 1
    assert [(r["location"], r["reason"].split(":")[0]) for r in doc["rejected_rows"]] == [
        ("line 3", "invalid JSON Lines record at line 3"), ("line 5", "invalid JSON Lines record at line 5")]


# Contract: rejected (a claim-wide problem).
def test_claim_id_reused_across_files_names_both_files(tmp_path: Path) -> None:
    """Claim ids are unique across the inputs of a run: two exports that reuse C1 for different
    members make one claim whose lines disagree; the reason says which files to look at."""
    header = "claim_id,line_number,member_id,payer,date_of_service,procedure_code,units"
    a = write(tmp_path / "a.csv", f"{header}\nC1,1,MA,AETNA,2026-02-10,96365,1\n")
    b = write(tmp_path / "b.csv", f"{header}\nC1,2,MB,AETNA,2026-02-10,96365,1\nC2,1,MB,AETNA,2026-02-10,96365,1\n")
    doc = run_json(a, b)
    assert [(Path(r["source"]).name, r["claim_id"]) for r in doc["rejected_rows"]] == [("a.csv", "C1"), ("b.csv", "C1")]
    for r in doc["rejected_rows"]:
        assert r["reason"].endswith(f"(its lines come from {a} and {b}; claim ids must be unique across the inputs)")
    assert doc["summary"]["rows_checked"] == 1


# -------------------------------------------------------------------------------------------------
# Issue 12, the input side: counted before parsing, isolated, bounded, dates as exported, records,
# folders, printable. Reconciliation is also checked where the loaders expose it: each file's rows
# read against its independent count (RawInput.reconciliation, which the engine compares).

SAMPLE = REPO / "sample_claims"


def read_counted(*paths: str, records: str | None = None) -> tuple[object, object]:
    """Load and canonicalise like a run does; assert every file yielded the rows its own count says."""
    from scrubber.canonical import canonicalise
    from scrubber.loaders import load_inputs

    raw = load_inputs(list(paths), records)
    canon = canonicalise(raw.batches())
    assert raw.reconciliation() == [], raw.reconciliation()
    assert sum(raw.counted_rows.values()) == canon.rows_read
    return raw, canon


def _x12_segments(text: str) -> list[str]:
    return [s.strip() for s in text.split("~") if s.strip()]


def _x12_text(segments: list[str]) -> str:
    return "".join(f"{s}~\n" for s in segments)


# Contract: counted.
def test_unclosed_quote_mid_file_names_the_rows_it_swallowed(tmp_path: Path) -> None:
    """Issue 12: a quote opened in one member id and closed 50 rows later made those 50 rows one
    accepted member id. Now that row is rejected naming the file lines it swallowed; the rows
    around it are checked."""
    rows = [f"C{i},1,M{i},AETNA,professional,11,2026-02-10,96365,,1,300,D80.0,,," for i in range(60)]
    rows[5] = rows[5].replace(",M5,", ',"M5,')
    rows[55] = rows[55].replace(",M55,", ',M55",')
    path = write(tmp_path / "unclosed.csv", csv_text(*rows))
    _, canon = read_counted(path)
    assert canon.rows_read == 10  # rows 2-6, the swallowing row 7, rows 8-11 after it
    (rejected,) = canon.rejected.to_dicts()
    assert rejected["row"] == 7 and rejected["claim_id"] == "C5"
    assert "runs over lines 8-57 of the file, which hold 50 row(s) of their own" in rejected["reason"]
    assert "swallowed" in rejected["reason"]
    doc = run_json(path)
    assert doc["summary"]["rows_checked"] == 9


# Contract: counted.
@pytest.mark.parametrize("many", [False, True], ids=["small", "fast-reader-batches"])
def test_file_cut_off_inside_its_last_row(tmp_path: Path, many: bool) -> None:
    """A file cut off in transfer ends inside its last row: "J1569,,70" cut to "J1569,,7" was read
    with its missing cells empty and checked as 7 units. Now that row is rejected as cut off (no
    line break after it, fewer cells than the header); every other row is checked."""
    drug = "C1,3,MC,AETNA,professional,11,2026-02-10,J1569,,70,500,D80.0,35000,,"
    rows = [*GOOD, *[g.replace("G1,", f"G{i},") for i in range(2, 30_000 if many else 3) for g in GOOD]]
    path = write(tmp_path / "cut.csv", csv_text(*rows, drug).rstrip("\n")[:-len("0,500,D80.0,35000,,")])
    _, canon = read_counted(path)
    (rejected,) = canon.rejected.to_dicts()
    assert rejected["row"] == len(rows) + 2 and rejected["claim_id"] == "C1"
    assert "ends part-way through this row (10 of the header's 15 cells" in rejected["reason"]
    assert canon.lines.height == len(rows)


# Contract: counted.
@pytest.mark.parametrize("ending", ["newline", "whole-row"])
def test_short_last_row_that_is_not_cut_off_is_read(tmp_path: Path, ending: str) -> None:
    """Near misses: a short last row that ends with its line break (an export dropping trailing
    empty cells), and a whole last row with no line break after it, are rows like any other."""
    drug = "C1,3,MC,AETNA,professional,11,2026-02-10,J1569,JW,2,40,D80.0"
    if ending == "whole-row":
        drug += ",,,"
    text = csv_text(*GOOD, drug)
    path = write(tmp_path / "short.csv", text if ending == "newline" else text.rstrip("\n"))
    _, canon = read_counted(path)
    assert canon.rejected.height == 0
    assert canon.lines.height == 3


# Contract: counted.
def test_unclosed_quote_to_the_end_of_a_large_file(tmp_path: Path) -> None:
    """The same on the fast reader's path: a file large enough to be read in Polars batches."""
    rows = [f"C{i},1,M{i},AETNA,,11,2026-02-10,96365,,1,300,D80.0,,," for i in range(30_000)]
    rows[20_000] = rows[20_000].replace(",300,", ',"300,')
    _, canon = read_counted(write(tmp_path / "big.csv", csv_text(*rows)))
    (rejected,) = canon.rejected.to_dicts()
    assert rejected["row"] == 20_002 and "never closed" in rejected["reason"]
    assert canon.lines.height == 20_000


# Contract: counted.
def test_json_lines_broken_line_is_rejected_alone(tmp_path: Path) -> None:
    good = {"claim_id": "L1", "member_id": "ML", "payer": "AETNA", "date_of_service": "2026-02-10",
            "lines": [{"line_number": 1, "procedure_code": "96365", "units": 1},
                      {"line_number": 2, "procedure_code": "96366", "units": 1}]}
    text = "\n".join([json.dumps(good), '{"claim_id": "L2", "lines": [{"line_number": 1,',
                      json.dumps({**good, "claim_id": "L3"}), '{"claim_id": "L4", "lines": []}\n{"claim_id": "L5"'])
    path = write(tmp_path / "claims.jsonl", text + "\n")
    _, canon = read_counted(path)
    assert canon.lines.height == 4  # L1 and L3, two lines each
    by_location = {r["location"]: r["reason"] for r in canon.rejected.to_dicts()}
    assert by_location["line 2"].startswith("invalid JSON Lines record at line 2")
    assert by_location["line 5"].startswith("invalid JSON Lines record at line 5")
    assert by_location["claim 4 (L4)"] == "claim has no lines"
    # A broken first line: the file is still JSON Lines when its name says so.
    path = write(tmp_path / "first.jsonl", '{"claim_id": broken\n' + json.dumps(good) + "\n")
    _, canon = read_counted(path)
    assert (canon.lines.height, canon.rejected.height) == (2, 1)


# Contract: counted.
def test_x12_stray_se_mid_file_loses_no_line(tmp_path: Path) -> None:
    """Issue 12: a stray SE in the middle of the 837 sample left 12 of 125 lines read, none rejected.
    Every line after it is now a rejected row naming its position, with an input warning."""
    segments = _x12_segments((SAMPLE / "claims.837").read_text(encoding="utf-8"))
    at = [i for i, s in enumerate(segments) if s.startswith("CLM*")][4]
    path = write(tmp_path / "stray.837", _x12_text([*segments[:at], "SE*12*0001", *segments[at:]]))
    _, canon = read_counted(path)
    sample = pl.read_csv(SAMPLE / "claims.csv", infer_schema=False)
    assert canon.rows_read == sample.height
    # The four claims before it are checked (their transaction set ends at the stray SE), and the 837I
    # group's claims after them; every line between the stray SE and the real one is outside any set.
    first_four = [s.split("*")[1] for s in segments if s.startswith("CLM*")][:4]
    institutional = sample.filter(pl.col("claim_type") == "institutional").get_column("claim_id").unique().to_list()
    assert canon.lines.get_column("claim_id").unique().sort().to_list() == sorted({*first_four, *institutional})
    assert canon.rejected.height == sample.height - canon.lines.height
    assert canon.rejected.filter(pl.col("reason").str.contains("outside any ST/SE transaction set")).height > 100
    doc = run_json(path)
    assert any("outside any ST/SE" in w["problem"] for w in doc["input_warnings"])


@pytest.mark.parametrize("where", ["SE-GE", "GE-IEA", "after-IEA", "no-GE"])
# Contract: counted.
def test_x12_claims_outside_the_envelope_are_rejected_with_their_position(tmp_path: Path, where: str) -> None:
    """A complete claim between SE and GE, between GE and IEA, or after IEA used to vanish, and a
    missing GE went unreported: each is now rejected rows with the segment position (and a warning,
    which --strict makes an error)."""
    segments = _x12_segments((SAMPLE / "claims.837").read_text(encoding="utf-8"))
    if where == "no-GE":
        segments = [s for s in segments if not s.startswith("GE*")]
        reason = "has no GE trailer"
    else:
        hls = [i for i, s in enumerate(segments) if s.startswith("HL*")]
        start, end = hls[3], hls[4]  # the third claim's subscriber loop, claim and lines
        claim = segments[start:end]
        del segments[start:end]
        se = next(i for i, s in enumerate(segments) if s.startswith("SE*"))
        segments[se] = f"SE*{int(segments[se].split('*')[1]) - len(claim)}*0001"
        anchor = {"SE-GE": "GE*", "GE-IEA": "IEA*", "after-IEA": None}[where]
        at = next(i for i, s in enumerate(segments) if s.startswith(anchor)) if anchor else len(segments)
        if where == "SE-GE":
            at = next(i for i, s in enumerate(segments) if s.startswith("SE*")) + 1
        segments = [*segments[:at], *claim, *segments[at:]]
        reason = "outside any ST/SE transaction set"
    path = write(tmp_path / f"{where}.837", _x12_text(segments))
    _, canon = read_counted(path)
    assert canon.rows_read == _sample_lines()
    assert canon.rejected.height > 0
    assert canon.rejected.filter(~pl.col("reason").str.contains(reason)).height == 0
    assert canon.rejected.filter(pl.col("reason").str.contains(r"segment \d+")).height == canon.rejected.height
    result = scrub(path, "--strict", "--fail-on", "never")
    assert result.exit_code == 2 and "--strict" in result.stderr


# Contract: isolated.
def test_ragged_row_does_not_reject_its_institutional_claim(tmp_path: Path) -> None:
    """Issue 12: a ragged row of an institutional claim kept only its claim id and line number, its
    claim type defaulted to professional, and the claim's good lines were rejected for disagreeing."""
    rows = ["H1,1,MH,MEDICARE,institutional,22,2026-02-10,96365,,1,300,D80.0,,2026-02-10T09:00,2026-02-10T11:00",
            "H1,2,MH,MEDICARE,institutional,22,2026-02-10,96366,,1,120,D80.0,,,,stray,cells",
            "H1,3,MH,MEDICARE,institutional,22,2026-02-10,J1459,JZ,10,900,D80.0,5000,,"]
    _, canon = read_counted(write(tmp_path / "ragged.csv", csv_text(*rows)))
    (rejected,) = canon.rejected.to_dicts()
    assert rejected["line_number"] == "2" and rejected["reason"].startswith("row has 17 cells")
    assert canon.lines.get_column("line_number").to_list() == [1, 3]
    assert set(canon.lines.get_column("claim_type")) == {"institutional"}
    assert canon.unreadable_lines.get_column("line_number").to_list() == [2]


# Contract: isolated.
def test_a_bad_claim_level_value_rejects_its_line_only(tmp_path: Path) -> None:
    """A claim type no policy knows is that line's problem: it does not make the claim's lines disagree."""
    rows = [GOOD[0], GOOD[1].replace(",professional,", ",dental,")]
    _, canon = read_counted(write(tmp_path / "c.csv", csv_text(*rows)))
    (rejected,) = canon.rejected.to_dicts()
    assert rejected["reason"].startswith("claim_type must be professional or institutional")
    assert canon.lines.height == 1


# Contract: isolated.
def test_claim_fields_written_once_are_the_claims(tmp_path: Path) -> None:
    """Issue 13's claim-level columns may be written on the first line only (or lost on one ragged
    line): the other lines take the claim's value; lines that give two values reject the claim."""
    header = "claim_id,line_number,member_id,payer,claim_type,date_of_service,procedure_code,units,revenue_code," \
             "billing_provider,payer_sequence,claim_frequency,payer_claim_number,rendering_provider"
    rows = ["A1,1,M1,MEDICARE,institutional,2026-02-10,96365,1,0260,1234567893,S,7,PCN-9,1111111111",
            "A1,2,M1,MEDICARE,,2026-02-10,,1,0250,,,,,",
            "B1,1,M2,AETNA,,2026-02-10,96365,1,,1234567893,P,,,",
            "B1,2,M2,AETNA,,2026-02-10,96366,1,,1999999984,P,,,"]
    _, canon = read_counted(write(tmp_path / "c.csv", "\n".join([header, *rows]) + "\n"))
    a = canon.lines.filter(pl.col("claim_id") == "A1")
    assert a.select("claim_type", "billing_provider", "payer_sequence", "claim_frequency",
                    "payer_claim_number").unique().rows() == [("institutional", "1234567893", "S", "7", "PCN-9")]
    assert a.get_column("rendering_provider").to_list() == ["1111111111", None]  # a line field: not filled
    assert a.get_column("procedure_code").to_list() == ["96365", None]  # revenue-code line, checked
    assert [r["reason"] for r in canon.rejected.to_dicts()] == [
        "lines of claim B1 disagree on billing_provider (1234567893, 1999999984); the whole claim is rejected"] * 2


@pytest.mark.parametrize(
    "bad_line",
    [{"diagnosis_pointers": [3]}, {"modifiers": 59}, {"modifiers": {"a": "JW"}}],
    ids=["pointer-out-of-range", "modifiers-number", "modifiers-object"],
)
# Contract: isolated.
def test_json_line_with_a_bad_pointer_or_modifiers_keeps_its_code(tmp_path: Path, bad_line: dict) -> None:
    """Issue 12: such a 96365 was rejected as unreadable, so its 96366 got a false add-on error. The
    line is rejected for its own problem, and its readable code still counts as billed."""
    claim = {"claim_id": "J1", "member_id": "M1", "payer": "AETNA", "date_of_service": "2026-02-10",
             "place_of_service": "11", "diagnoses": ["D80.0"],
             "lines": [{"line_number": 1, "procedure_code": "96365", "units": 1, **bad_line},
                       {"line_number": 2, "procedure_code": "96366", "units": 1}]}
    doc = run_json(write(tmp_path / "c.json", json.dumps({"claims": [claim]})))
    assert [r["line_number"] for r in doc["rejected_rows"]] == ["1"]
    assert [f for f in doc["findings"] if f["check_id"] == "addon-without-primary"] == []


ROW_BOUNDS = [
    ("year-0", "B1,1,MB,AETNA,,11,0000-01-01,96365,,1,300,D80.0,,,", "date_of_service must be within 1900-01-01"),
    ("year-10000", "B1,1,MB,AETNA,,11,+10000-01-01,96365,,1,300,D80.0,,,", "date_of_service"),
    ("year-1899", "B1,1,MB,AETNA,,11,1899-12-31,96365,,1,300,D80.0,,,", "date_of_service must be within"),
    ("infusion-year-1", "B1,1,MB,AETNA,,11,2026-02-10,96365,,1,300,D80.0,,0001-01-01T09:00,2026-02-10T10:00",
     "infusion_start must be within"),
    ("charge-1e308", "B1,1,MB,AETNA,,11,2026-02-10,96365,,1,1e308,D80.0,,,", "charge must be at most 10,000,000"),
    ("units-million", "B1,1,MB,AETNA,,11,2026-02-10,96365,,1000000,300,D80.0,,,", "units must be at most 100,000"),
    ("dose-tonnes", "B1,1,MB,AETNA,,11,2026-02-10,J1459,,1,300,D80.0,1e12,,", "drug_dose_mg must be at most"),
    ("line-number", "B1,1234567,MB,AETNA,,11,2026-02-10,96365,,1,300,D80.0,,,", "line_number must be at most"),
]


@pytest.mark.parametrize(("name", "row", "reason"), ROW_BOUNDS, ids=[c[0] for c in ROW_BOUNDS])
# Contract: value bounds.
def test_values_beyond_sane_bounds_are_rejected_rows(tmp_path: Path, name: str, row: str, reason: str) -> None:
    path = write(tmp_path / f"{name}.csv", csv_text(*GOOD, row, *FINDING))
    doc = run_json(path)
    (rejected,) = doc["rejected_rows"]
    assert rejected["row"] == 4 and reason in rejected["reason"], rejected["reason"]
    assert [f["claim_id"] for f in doc["findings"]] == ["F1"]


def _sample_lines() -> int:
    """Service lines of the bundled sample (its CSV and its 837 hold the same claims)."""
    return pl.read_csv(SAMPLE / "claims.csv", infer_schema=False).height


# Contract: value bounds.
def test_out_of_range_x12_values_are_rejected_rows(tmp_path: Path) -> None:
    """Issue 12: ``DTP*472*D8*00000101`` and ``CTP****1E999999`` aborted the whole run."""
    text = (SAMPLE / "claims.837").read_text(encoding="utf-8")
    text = text.replace("DTP*472*D8*20260302~", "DTP*472*D8*00000101~", 1)
    text = text.replace("CTP****35000*ME~", "CTP****1E999999*ME~", 1)
    path = write(tmp_path / "bounds.837", text)
    doc = run_json(path)
    reasons = [r["reason"] for r in doc["rejected_rows"]]
    assert any("date_of_service must be within" in r for r in reasons)
    assert any("CTP04 drug quantity '1E999999'" in r for r in reasons)
    assert doc["summary"]["rows_checked"] == _sample_lines() - len(reasons)


# Contract: value bounds.
def test_findings_json_stays_strict_json(tmp_path: Path) -> None:
    """``1e308`` charges gave ``Infinity`` in the JSON: such a row is rejected, the output is strict JSON."""
    path = write(tmp_path / "inf.csv", csv_text(*GOOD, "B1,1,MB,AETNA,,11,2026-02-10,96366,,1,1e308,D80.0,,,",
                                                "B2,1,MB,AETNA,,11,2026-02-10,96366,,1,9e15,D80.0,,,"))
    result = scrub(path, "--json", "-", "--fail-on", "never")

    def refuse(token: str) -> None:
        raise AssertionError(f"not strict JSON: {token}")

    doc = json.loads(result.stdout, parse_constant=refuse)
    assert doc["summary"]["rejected_rows"] == 2


def _duplicate_key_claims(filler: int) -> str:
    claims = [{"claim_id": f"F{i}", "member_id": f"M{i}", "payer": "AETNA", "date_of_service": "2026-02-10",
               "lines": [{"line_number": 1, "procedure_code": "96365", "units": 1, "charge": 300}]}
              for i in range(filler)]
    body = ",\n".join(json.dumps(c) for c in claims)
    dup = ('{"claim_id": "D1", "member_id": "MD", "payer": "AETNA", "date_of_service": "2026-02-10", '
           '"lines": [{"line_number": 1, "procedure_code": "96365", "units": 1, "units": 3}, '
           '{"line_number": 2, "procedure_code": "96366", "units": 1}]}')
    dup_claim = ('{"claim_id": "D2", "member_id": "MD", "payer": "AETNA", "payer": "CIGNA", "date_of_service": '
                 '"2026-02-10", "lines": [{"line_number": 1, "procedure_code": "96365", "units": 1}]}')
    return '{"claims": [' + ",\n".join(p for p in (body, dup, dup_claim) if p) + "]}"


# Contract: value bounds (a key written twice is a value the readers disagree on).
def test_duplicate_json_keys_are_rejected_rows_at_any_size(tmp_path: Path) -> None:
    """Issue 12: files of 128 KiB or more kept the first of two keys, smaller ones the last."""
    results = []
    for filler in (0, 2000):
        text = _duplicate_key_claims(filler)
        assert (len(text) >= 128 * 1024) == bool(filler)
        _, canon = read_counted(write(tmp_path / f"dup{filler}.json", text))
        rejected = canon.rejected.select("claim_id", "line_number", "reason").rows()
        results.append(rejected)
        assert canon.lines.height == filler + 1  # every filler claim, and D1's line 2
    assert results[0] == results[1]
    assert results[0] == [
        ("D1", "1", "the line object gives units more than once (JSON readers disagree on which one counts)"),
        ("D2", "1", "the claim object gives payer more than once (JSON readers disagree on which one counts)"),
    ]


# Contract: internal names.
def test_columns_named_like_internals_never_collide(tmp_path: Path) -> None:
    """Issue 12: extra columns named load_error, source_row, _index, row_id, modifiers or diagnoses
    rejected every row, crashed or merged into checked values. They are kept out, with a note."""
    extra = ["load_error", "value_error", "source_row", "_index", "row_id", "source", "source_location",
             "modifiers", "diagnoses"]
    header = HEADER + "," + ",".join(extra)
    junk = ",".join(["oops", "bad", "x", "y", "z", "elsewhere", "here", "JW KX", "Z99.9"])
    rows = [r + "," + junk for r in [*GOOD, *FINDING]]
    path = write(tmp_path / "internals.csv", csv_text(*rows, header=header))
    _, canon = read_counted(path)
    assert canon.rejected.height == 0
    assert canon.lines.get_column("modifiers").to_list() == [[], [], []]
    assert canon.lines.get_column("diagnoses").to_list() == [["D800"]] * 3
    assert canon.lines.get_column("source").to_list() == [path] * 3
    assert canon.lines.get_column("source_row").to_list() == [2, 3, 4]
    doc = run_json(path)
    assert [f["claim_id"] for f in doc["findings"]] == ["F1"]
    noted = " ".join(w["problem"] for w in doc["input_warnings"])
    assert "'modifiers' is not a claims column and is ignored" in noted and "'load_error'" in noted


# Contract: dates as exported.
def test_dates_as_billing_exports_write_them(tmp_path: Path) -> None:
    """Issue 12: an Excel export with ``3/2/2026`` dates had every row rejected (and passed the gate)."""
    rows = ["E1,1,ME,AETNA,,11,3/2/2026,96365,,1,300,D80.0,,3/2/2026 9:05,03/02/2026 11:05",
            "E1,2,ME,AETNA,,11,03/02/2026,96366,,1,120,D80.0,,,",
            "E2,1,ME,AETNA,,11,20260303,96365,,1,300,D80.0,,20260303 09:00,2026-03-03 10:00:30",
            "E3,1,ME,AETNA,,11,2026-03-04,96365,,1,300,D80.0,,2026-03-04T09:00,2026-03-04T10:00"]
    _, canon = read_counted(write(tmp_path / "excel.csv", csv_text(*rows)))
    assert canon.rejected.height == 0
    got = canon.lines.select(pl.col("date_of_service").cast(pl.String), pl.col("infusion_start").cast(pl.String),
                             pl.col("infusion_stop").cast(pl.String)).rows()
    assert got == [("2026-03-02", "2026-03-02 09:05:00.000000", "2026-03-02 11:05:00.000000"),
                   ("2026-03-02", None, None),
                   ("2026-03-03", "2026-03-03 09:00:00.000000", "2026-03-03 10:00:30.000000"),
                   ("2026-03-04", "2026-03-04 09:00:00.000000", "2026-03-04 10:00:00.000000")]


@pytest.mark.parametrize("value", ["13/02/2026", "31/12/2025", "10.02.2026", "10.02.2026 09:00"])
# Contract: dates as exported (day-first is never guessed).
def test_day_first_dates_are_refused_with_a_reason(tmp_path: Path, value: str) -> None:
    column = "infusion_start" if " " in value else "date_of_service"
    row = (f"B1,1,MB,AETNA,,11,2026-02-10,96365,,1,300,D80.0,,{value},2026-02-10T10:00" if " " in value
           else f"B1,1,MB,AETNA,,11,{value},96365,,1,300,D80.0,,,")
    doc = run_json(write(tmp_path / "dayfirst.csv", csv_text(row)))
    (rejected,) = doc["rejected_rows"]
    assert f"day-first {column} '{value}' is not read (never guessed)" in rejected["reason"]


# Contract: records.
def test_a_ragged_records_row_is_reported_and_the_rest_joins(tmp_path: Path) -> None:
    """Issue 12: one ragged row of the --records file aborted the run."""
    claims = write(tmp_path / "claims.csv", csv_text(GOOD[0].replace("2026-02-10T09:00,2026-02-10T11:00", ","),
                                                     GOOD[1]))
    records = write(tmp_path / "records.csv", "claim_id,line_number,infusion_start,infusion_stop\n"
                    "G1,2,2026-02-10T09:00,2026-02-10T10:00,extra\n"
                    "G1,1,2026-02-10T09:00,2026-02-10T11:00\n")
    doc = run_json(claims, "--records", records)
    assert doc["rejected_rows"] == []
    ((source, row, reason),) = [(u["source"], u["row"], u["reason"]) for u in doc["unmatched_records"]]
    assert (source, row) == (records, 2) and reason.startswith("row has 5 cells")
    assert doc["findings"] == []  # line 1's 120 minutes came from the records file


# Contract: records.
def test_a_bad_record_value_is_blamed_on_the_records_file(tmp_path: Path) -> None:
    claims = write(tmp_path / "claims.csv", csv_text(*GOOD))
    records = write(tmp_path / "records.json", json.dumps({"records": [
        {"claim_id": "G1", "line_number": 1, "observation_minutes": -5, "route": "IV"}]}))
    doc = run_json(claims, "--records", records)
    assert doc["rejected_rows"] == []
    (problem,) = doc["unmatched_records"]
    assert (problem["source"], problem["row"]) == (records, 1)
    assert problem["reason"].startswith("observation_minutes must not be negative (observation_minutes = '-5')")


# Contract: folders.
def test_folder_skips_hidden_records_and_findings_files(tmp_path: Path) -> None:
    """Issue 12: a macOS ``._claims.csv`` or a previous ``--csv`` findings file in an input folder was
    read as claims. Each is skipped with a note (input warnings); the claims are read."""
    folder = tmp_path / "in"
    folder.mkdir()
    claims = write(folder / "claims.csv", csv_text(*GOOD, *FINDING))
    write(folder / "._claims.csv", b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ")
    (folder / ".cache").mkdir()
    write(folder / ".cache" / "old.csv", csv_text(*GOOD))
    assert scrub(claims, "--csv", str(folder / "findings.csv"), "--fail-on", "never").exit_code == 0
    assert scrub(claims, "--json", str(folder / "findings.json"), "--fail-on", "never").exit_code == 0
    write(folder / "records.json", json.dumps({"records": [{"claim_id": "G1", "line_number": 1, "sites": 1}]}))
    doc = run_json(str(folder))
    assert doc["summary"]["rows_read"] == 3
    notes = {Path(w["source"]).name: w["problem"] for w in doc["input_warnings"]}
    assert set(notes) == {"._claims.csv", "old.csv", "findings.csv", "findings.json", "records.json"}
    assert "hidden" in notes["._claims.csv"] and "findings written by scrub" in notes["findings.csv"]
    # Named directly, a findings file is refused with the reason, not read as claims.
    assert_file_error(scrub(str(folder / "findings.csv")), str(folder / "findings.csv"), "findings written by scrub")


# Contract: folders.
def test_the_sample_folder_can_be_checked_as_a_folder() -> None:
    """Issue 12: ``scrub check sample_claims`` exited 2 because of the records.csv beside claims.csv."""
    result = scrub(str(SAMPLE), "--json", "-", "--fail-on", "never")
    assert_no_traceback(result)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert any(Path(w["source"]).name == "records.csv" for w in doc["input_warnings"])


# Contract: printable.
def test_escape_sequences_in_cells_never_reach_the_terminal(tmp_path: Path) -> None:
    rows = [*GOOD, "B1,1,MB\x1b[2J,AETNA,,11,2026-02-3\x1b[31m0,96365,,1,300,D80.0,,,"]
    path = write(tmp_path / "ansi.csv", csv_text(*rows))
    result = scrub(path)
    assert "\x1b" not in result.stdout + result.stderr
    doc = run_json(path)
    (rejected,) = doc["rejected_rows"]
    assert "\x1b" not in rejected["reason"] and "\ufffd" in rejected["reason"]


# Contract: printable.
def test_a_file_name_that_is_not_utf8(tmp_path: Path) -> None:
    """Issue 12: a non-UTF-8 file name gave an "unexpected" error. The loaders read such a file and
    name it printably; the command line may refuse the name, but only with its one-line message."""
    from scrubber.canonical import canonicalise
    from scrubber.loaders import load_inputs

    name = os.fsdecode(bytes(tmp_path) + b"/claims-\xff.csv")
    with open(name, "w", encoding="utf-8") as fh:
        fh.write(csv_text(*GOOD, *FINDING))
    raw = load_inputs([name])
    canon = canonicalise(raw.batches())
    assert (canon.rows_read, canon.rejected.height) == (3, 0) and raw.reconciled
    (source,) = raw.files
    assert source.endswith("claims-\ufffd.csv") and source.encode("utf-8")  # printable, no surrogates
    assert set(canon.lines.get_column("source")) == {source}
    result = scrub(name, "--json", "-", "--fail-on", "never")
    assert_no_traceback(result)
    assert "unexpected" not in result.output
    if result.exit_code == 2:
        assert len(result.stderr.splitlines()) == 1
    else:
        assert result.exit_code == 0 and json.loads(result.stdout)["summary"]["rows_read"] == 3
    missing = os.fsdecode(bytes(tmp_path) + b"/gone-\xff.csv")
    result = scrub(missing)
    assert_no_traceback(result)
    assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1 and "unexpected" not in result.stderr


# Contract: counted.
def test_a_quote_inside_a_header_name_loses_no_row(tmp_path: Path) -> None:
    """Found by the fuzz run once rows were counted: Polars read such a file as no rows at all, and
    nothing said so. The fast reader's rows are now held against the count; the csv reader takes over."""
    header = HEADER.replace("diagnosis_1", 'diagn"osis_1')
    path = write(tmp_path / "quote-in-header.csv", csv_text(*GOOD, *FINDING, header=header))
    _, canon = read_counted(path)
    assert (canon.rows_read, canon.rejected.height) == (3, 0)


def test_a_huge_cell_is_quoted_cut_in_the_words_and_good_rows_keep_their_findings(tmp_path: Path) -> None:
    # A 200,000-character "diagnosis": the claim gets its malformed-code finding, but the message, fix
    # and appeal quote 200 characters and the length, so one hostile cell cannot bloat the findings file.
    huge = "D" * 200_000
    bad = f"H1,1,MH,AETNA,professional,11,2026-02-10,96365,,1,300,{huge},,2026-02-10T09:00,2026-02-10T10:00"
    path = tmp_path / "claims.csv"
    path.write_text("\n".join([HEADER, *GOOD, *FINDING, bad]) + "\n", encoding="utf-8")
    data = run_json(str(path))
    by_claim = {}
    for f in data["findings"]:
        by_claim.setdefault(f["claim_id"], []).append(f)
    assert [f["check_id"] for f in by_claim["F1"]] == ["addon-without-primary"] and "G1" not in by_claim
    (finding,) = by_claim["H1"]
    assert finding["check_id"] == "noncovered-diagnosis"
    for text in (finding["message"], finding["suggested_fix"], finding["appeal_text"]):
        assert "D" * 201 not in text
    assert "D" * 200 + "... (200000 characters)" in finding["message"]
    assert len(json.dumps(data)) < 50_000


def test_json_lines_that_are_not_a_list_say_what_they_are(tmp_path: Path) -> None:
    good = {"claim_id": "K1", "member_id": "MK", "payer": "AETNA", "date_of_service": "2026-02-10",
            "lines": [{"line_number": 1, "procedure_code": "96366", "units": 1}]}
    claims = {"claims": [good, {**good, "claim_id": "K2", "lines": {"line_number": 1}},
                         {**good, "claim_id": "K3", "lines": "96365"}, {**good, "claim_id": "K4", "lines": None}]}
    doc = run_json(write(tmp_path / "claims.json", json.dumps(claims)))
    by_location = {r["location"]: r["reason"] for r in doc["rejected_rows"]}
    assert by_location == {"claim 2 (K2)": "claim's \"lines\" is an object, not a list of line objects",
                           "claim 3 (K3)": "claim's \"lines\" is a string, not a list of line objects",
                           "claim 4 (K4)": "claim has no lines"}
    # K2-K4 are the same member and date as K1, and their lines could not be read (K2's "lines" is one
    # line object: it may be K1's 96365): K1's add-on is not evaluated rather than reported.
    assert doc["findings"] == []
    assert doc["summary"]["by_check"]["addon-without-primary"]["lines_not_evaluated"] == 1


@pytest.mark.parametrize("copies", [1, 2000], ids=["python-reader", "polars-reader"])
def test_a_document_giving_claims_twice_is_refused_not_half_read(tmp_path: Path, copies: int) -> None:
    # {"claims": [...], "claims": [...]}: json.loads keeps the last list, other readers the first; the
    # rows of the other would vanish from the count, which is taken from the same parsed document.
    claim = {"claim_id": "C1", "member_id": "M1", "payer": "AETNA", "date_of_service": "2026-02-10",
             "lines": [{"line_number": 1, "procedure_code": "96365", "units": 1}]}
    first = json.dumps({"claims": [claim] * copies})
    text = first[:-1] + ', "claims": ' + json.dumps([claim]) + "}"
    path = write(tmp_path / "claims.json", text)
    assert_file_error(scrub(path, "--json", "-"), path, '"claims" twice')


def test_a_misspelled_column_is_named_and_a_hyphen_is_an_underscore(tmp_path: Path) -> None:
    # 'modifer_1' read as absent would give "neither JZ nor a JW line": the warning names the column
    # it looks like. 'Diagnosis-1' is diagnosis_1, as 'Diagnosis 1' is (no "no diagnosis" finding).
    header = HEADER.replace("modifier_1", "modifer_1").replace("diagnosis_1", "Diagnosis-1")
    path = write(tmp_path / "claims.csv", csv_text(*GOOD, *FINDING, header=header))
    doc = run_json(path)
    noted = " ".join(w["problem"] for w in doc["input_warnings"])
    assert "column 'modifer_1' is not a claims column and is ignored; did you mean 'modifier_1'?" in noted
    assert "diagnosis" not in noted.lower()
    _, canon = read_counted(path)
    assert canon.lines.get_column("diagnoses").to_list() == [["D800"]] * 3


def test_an_exports_short_column_names_are_named_with_the_column_they_stand_for(tmp_path: Path) -> None:
    """Probe 28C D2: a header with MOD1 or "Mod 2" for the modifier columns dropped every modifier without
    a word (45 findings that were the header's); DX3 likewise. Each is named with the claims column it
    stands for. Near miss: a column of another name (Notes) is not named."""
    header = HEADER.replace("modifier_1", "MOD1") + ",Mod 2,DX3,Notes"
    path = write(tmp_path / "claims.csv", csv_text(*(f"{r},,," for r in (*GOOD, *FINDING)), header=header))
    noted = [w["problem"] for w in run_json(path)["input_warnings"]]
    for name, column in (("mod1", "modifier_1"), ("mod_2", "modifier_2"), ("dx3", "diagnosis_3")):
        assert any(f"column '{name}' is not a claims column and is ignored; did you mean '{column}'?" in n
                   for n in noted), noted
    assert not any("notes" in n for n in noted), noted


def test_a_folder_says_which_files_it_did_not_read(tmp_path: Path) -> None:
    # A .837i file (an 837I export's own extension) is read as X12; a .tsv, a .bak and a file without
    # an extension are not read, and each gets an input warning (they were skipped silently).
    folder = tmp_path / "batch"
    folder.mkdir()
    write(folder / "claims.csv", csv_text(*GOOD))
    x12 = (Path(__file__).resolve().parents[1] / "sample_claims" / "claims.837").read_text(encoding="utf-8")
    write(folder / "hospital.837i", x12)
    for name in ("claims.tsv", "claims.json.bak", "noext"):
        write(folder / name, csv_text(*FINDING))
    write(folder / ".hidden.tsv", "x")
    doc = run_json(str(folder))
    assert doc["provenance"]["formats"][str(folder / "hospital.837i")] == "x12"
    noted = {Path(w["source"]).name: w["problem"] for w in doc["input_warnings"]}
    assert noted["claims.tsv"].startswith("skipped: '.tsv' is not a claims file extension")
    assert noted["claims.json.bak"].startswith("skipped: '.bak' is not a claims file extension")
    assert noted["noext"].startswith("skipped: no file extension")
    assert ".hidden.tsv" not in noted
    # The extensions the note lists are those read (probe 22B: .ndjson, .837i, .837p, .dat were left out).
    assert all(ext in noted["noext"] for ext in (".ndjson", ".837i", ".837p", ".dat", ".parquet"))


def test_a_closed_multiline_note_in_the_first_column_is_read(tmp_path: Path) -> None:
    # The quote closes on the next line, followed by the row's own claim cells: one row, read, not
    # "a quoted cell ... swallowed" (the same note in the last column always was).
    first, *rest = GOOD
    rows = ['"Patient tolerated well.\nNo reaction",' + first, *("," + r for r in rest), "," + FINDING[0]]
    path = write(tmp_path / "notes.csv", csv_text(*rows, header="notes," + HEADER))
    doc = run_json(path)
    assert doc["summary"]["rejected_rows"] == 0 and doc["summary"]["rows_checked"] == 3


# Contract: counted.
@pytest.mark.parametrize("name", ["claims[1].csv", "claims?.csv", "claims*.csv", "a[.csv", "claims{1,2}.csv"])
def test_a_file_name_is_never_a_pattern(tmp_path: Path, name: str) -> None:
    """A hostile probe: a file named claims[1].csv was read as a glob pattern, so claims1.csv (1 row)
    was checked in its place, labelled claims[1].csv, and the run passed; 'a[.csv' stopped a folder
    run with 'invalid glob pattern'. Every Polars reader takes names literally now."""
    write(tmp_path / "claims1.csv", csv_text(*GOOD))
    target = write(tmp_path / name, csv_text(*GOOD, *FINDING))
    doc = run_json(target)
    assert doc["summary"]["rows_read"] == 3 and [f["claim_id"] for f in doc["findings"]] == ["F1"]
    folder = run_json(str(tmp_path))
    assert folder["summary"]["rows_read"] == 5 and [f["claim_id"] for f in folder["findings"]] == ["F1"]


def test_a_parquet_file_name_is_never_a_pattern(tmp_path: Path) -> None:
    frame = pl.read_csv(io.StringIO(csv_text(*GOOD, *FINDING)), infer_schema=False)
    frame.head(1).write_parquet(tmp_path / "claims1.parquet")
    frame.write_parquet(tmp_path / "claims[1].parquet")
    doc = run_json(str(tmp_path / "claims[1].parquet"))
    assert doc["summary"]["rows_read"] == 3 and [f["claim_id"] for f in doc["findings"]] == ["F1"]


def test_a_folders_file_without_claims_is_noted_not_fatal(tmp_path: Path) -> None:
    """An empty claims list in a folder stopped the whole run ("no claims in file"; probe 15B) while a
    header-only CSV passed without a word. Both are noted and the folder's other files are checked."""
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "a.csv").write_text((REPO / "sample_claims" / "claims.csv").read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "b.json").write_text('{"claims": []}\n', encoding="utf-8")
    (folder / "c.csv").write_text("claim_id,line_number,member_id,payer,date_of_service,procedure_code\n",
                                  encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(folder), "--no-config", "--fail-on", "never", "--json", "-"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["summary"]["rows_read"] == 194
    notes = {Path(w["source"]).name: w["problem"] for w in doc["input_warnings"]}
    assert notes == {"b.json": "skipped: no claim rows (an empty claims list, or a header without rows)",
                     "c.csv": "skipped: no claim rows (an empty claims list, or a header without rows)"}
    # Near miss: named on its own, a file without claims is still unusable input.
    alone = CliRunner().invoke(main, ["check", str(folder / "b.json"), "--no-config"])
    assert alone.exit_code == 2 and "b.json: this file holds no claim rows" in alone.stderr


@pytest.mark.parametrize(("value", "reason"), [
    # A whole number too large for the column's integer was "unparseable ... (expected a whole number)"
    # (probe 15B): it is a whole number, over the field's bound.
    ("100000000000000000000000", "line_number must be at most 999,999 (line_number = '100000000000000000000000')"),
    ("-9223372036854775809", "line_number must be 1 or more (line_number = '-9223372036854775809')"),
    ("1000000", "line_number must be at most 999,999 (line_number = '1000000')"),
    # Near misses: text that is no whole number stays unparseable.
    ("1.5", "unparseable line_number '1.5' (expected a whole number)"),
    ("12abc", "unparseable line_number '12abc' (expected a whole number)"),
])
def test_a_whole_number_out_of_range_names_the_bound(tmp_path: Path, value: str, reason: str) -> None:
    path = write(tmp_path / "c.csv", "claim_id,line_number,member_id,payer,place_of_service,date_of_service,"
                 f"procedure_code,units,charge\nB1,{value},M1,AETNA,11,2026-03-02,96365,1,100\n"
                 "B2,1,M2,AETNA,11,2026-03-02,96365,1,100\n")
    doc = run_json(path)
    assert [r["reason"] for r in doc["rejected_rows"]] == [reason]


# Contract: row-level in X12 too. A segment in another encoding rejects what it belongs to: the
# subscriber's name, every line of that subscriber's claim; a note in one line's loop, that line.
@pytest.mark.parametrize(("edit", "rejected"), [
    ((b"NM1*IL*1*MEMBER*****MI*2FH5UF6NL83~", b"NM1*IL*1*M\xc9MBER*****MI*2FH5UF6NL83~"),
     [("PCN-1002", "1"), ("PCN-1002", "2"), ("PCN-1002", "3")]),
    ((b"SV1*HC:96366*220.00*UN*2***1~\nDTP*472*D8*20260302~",
      b"SV1*HC:96366*220.00*UN*2***1~\nDTP*472*D8*20260302~\nNTE*ADD*SEEN BY DR M\xfcLLER~"),
     [("PCN-1001", "2")]),
])
def test_latin1_in_an_x12_segment_rejects_what_it_belongs_to(tmp_path: Path, edit: tuple[bytes, bytes],
                                                             rejected: list[tuple[str, str]]) -> None:
    sample = (REPO / "sample_claims" / "claims.837").read_bytes()
    assert edit[0] in sample
    doc = run_json(write(tmp_path / "bad.837", sample.replace(*edit, 1)))
    assert [(r["claim_id"], r["line_number"]) for r in doc["rejected_rows"]] == rejected
    assert all("not UTF-8" in r["reason"] for r in doc["rejected_rows"])
    clean = run_json(str(REPO / "sample_claims" / "claims.837"))
    gone = {c for c, _ in rejected}

    def kept(findings: list[dict]) -> list[tuple]:
        return [(f["claim_id"], f["line_number"], f["check_id"], f["message"])
                for f in findings if f["claim_id"] not in gone]

    assert kept(doc["findings"]) == kept(clean["findings"]) != []


# Contract: row-level. An integer of more digits than Python converts (4,300) on the first line of a
# JSON Lines file stopped the run with "unexpected ValueError" (probe 17B); on a later line, or in a
# field read, it was already that line's problem. A findings file holding one is refused by diff.
def test_a_huge_integer_on_the_first_json_lines_line_is_that_lines_problem(tmp_path: Path) -> None:
    big = "9" * 5000

    def claim(cid: str, member: str, code: str, extra: str = "", units: str = "1") -> str:
        return (f'{{"claim_id":"{cid}","member_id":"{member}","payer":"MEDICARE",{extra}"diagnoses":["D80.0"],'
                f'"lines":[{{"line_number":1,"date_of_service":"2026-03-02","procedure_code":"{code}",'
                f'"units":{units},"charge":110}}]}}')

    unread = run_json(write(tmp_path / "a.jsonl", "\n".join([claim("C1", "M1", "96365", f'"notes":{big},'),
                                                             claim("C2", "M2", "96366")]) + "\n"))
    assert [f["claim_id"] for f in unread["findings"]] == ["C2"] and unread["rejected_rows"] == []
    read = run_json(write(tmp_path / "b.jsonl", "\n".join([claim("C1", "M1", "96365", units=big),
                                                           claim("C2", "M2", "96366")]) + "\n"))
    assert [(r["claim_id"], "units" in r["reason"]) for r in read["rejected_rows"]] == [("C1", True)]
    assert [f["claim_id"] for f in read["findings"]] == ["C2"]
    findings = tmp_path / "f.json"
    findings.write_text(json.dumps(unread).replace('"charge_at_risk": 110.0', f'"charge_at_risk": {big}', 1))
    result = CliRunner().invoke(main, ["diff", str(findings), str(findings)])
    assert result.exit_code == 2 and "not an amount scrub writes" in result.stderr


@pytest.mark.parametrize("column,value", [
    ("modifier_1", pl.Series([["JZ"], [], []])),
    ("diagnosis_1", pl.Series([{"code": "D80.0"}] * 3)),
    ("modifiers", pl.Series(["JZ", "", ""])),
])
def test_a_parquet_claims_column_of_another_shape_is_a_named_error(tmp_path: Path, column: str,
                                                                    value: pl.Series) -> None:
    """modifier_1 holding a list, diagnosis_1 a struct, a text `modifiers` column: each was read as
    nothing without a word, and a JZ lost that way gave a false "neither JZ nor JW" (probe 22B). Near
    miss: a `modifiers` list column and plain numbered columns read as the CSV does."""
    frame = pl.read_csv(io.StringIO(csv_text(*GOOD, *FINDING)), infer_schema=False)
    path = tmp_path / "bad.parquet"
    frame.with_columns(value.alias(column)).write_parquet(path)
    assert_file_error(scrub(str(path)), str(path), f"column {column} holds")
    good = tmp_path / "good.parquet"
    frame.with_columns(pl.Series("modifiers", [["JZ"], [], []])).write_parquet(good)
    doc = run_json(str(good))
    assert doc["summary"]["rows_read"] == 3 and [f["claim_id"] for f in doc["findings"]] == ["F1"]
