"""Hostile-input round (QA, black box through the real CLI): one test per problem found, plus a few
passing tests for contracts the other bad-input tests do not pin yet.

Contracts attacked (README, FORMATS.md):

* **accounted**: rows read = rows checked + rows rejected; each rejected row names where it is and why.
* **isolated**: a bad row never changes the findings of good rows (a JSON Lines line's problem rejects
  that line; a broken object never takes a good line's or claim's place).
* **one line**: bad user input gives exit 2 and one line ``scrub: error: ...`` on stderr, never a traceback.
* **masked**: ``--mask-phi`` hides member and claim ids in every output, the warnings on stderr included.
* **folders**: a folder input skips what is not claims with a note (``input_warnings``), silently never.
* **outputs**: ``-`` means standard output; an output that cannot go there is a usage error.

Every problem the round found is fixed; each test states the contract it holds.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

# The bad-input suite's claims and CLI helpers: one definition of "a clean run accounts for every row".
from test_bad_input import FINDING, GOOD, HEADER, assert_file_error, assert_no_traceback, run_json, scrub

from scrubber.cli import main


def csv_text(*rows: str) -> str:
    return "\n".join([HEADER, *rows]) + "\n"


def assert_one_line_error(result: Result, *words: str) -> str:
    return assert_file_error(result, "", *words)


def findings_of(doc: dict) -> set[tuple[str, int | None, str]]:
    return {(f["claim_id"], f["line_number"], f["check_id"]) for f in doc["findings"]}


def claim(claim_id: str, member: str, lines: list[dict]) -> dict:
    return {"claim_id": claim_id, "member_id": member, "payer": "AETNA", "place_of_service": "11",
            "diagnoses": ["D80.0"], "lines": lines}


PRIMARY = {"line_number": 1, "date_of_service": "2026-02-10", "procedure_code": "96365", "units": 1,
           "diagnosis_pointers": [1], "infusion_start": "2026-02-10T09:00", "infusion_stop": "2026-02-10T11:00"}
ADDON = {"line_number": 2, "date_of_service": "2026-02-10", "procedure_code": "96366", "units": 1,
         "diagnosis_pointers": [1]}


# -------------------------------------------------------------------------------------------------
# Problems the round found (all fixed), most severe first.


# Contract: masked.
def test_mask_phi_hides_ids_quoted_by_suppression_warnings(tmp_path: Path) -> None:
    claims = tmp_path / "claims.csv"
    claims.write_text(csv_text(*GOOD, *FINDING), encoding="utf-8")
    # A shared suppressions file names other patients' claims and members (and a glob of them).
    suppressions = tmp_path / "suppressions.toml"
    suppressions.write_text(
        '[[suppress]]\nclaim = "SMITHCLM7"\nreason = "r"\nby = "b"\nexpires = 2030-01-01\n'
        '[[suppress]]\nmember = "MBRJONES44"\nreason = "r"\nby = "b"\nexpires = 2030-01-01\n'
        '[[suppress]]\nclaim = "DOECLM2*"\ncheck = "route-mismatch"\nreason = "r"\nby = "b"\n'
        'expires = 2030-01-01\n', encoding="utf-8")
    html = tmp_path / "report.html"
    result = scrub(str(claims), "--suppressions", str(suppressions), "--mask-phi", "--json", "-", "--html",
                   str(html), "--fail-on", "never")
    assert_no_traceback(result)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert len(doc["suppression_warnings"]) == 3  # all three entries match nothing, and say so
    for name, text in {"stderr": result.stderr, "json": result.stdout, "html": html.read_text()}.items():
        for secret in ("SMITHCLM7", "MBRJONES44", "DOECLM2"):
            assert secret not in text, (name, secret)


# Contract: masked.
def test_mask_phi_masks_ids_in_the_suppression_by_field(tmp_path: Path) -> None:
    claims = tmp_path / "claims.csv"
    claims.write_text(csv_text(*GOOD, FINDING[0].replace(",MF,", ",MBR44871,")), encoding="utf-8")
    suppressions = tmp_path / "suppressions.toml"
    suppressions.write_text('[[suppress]]\nclaim = "F1"\nreason = "reviewed with MBR44871"\n'
                            'by = "J. Coder (call re MBR44871)"\nexpires = 2030-01-01\n', encoding="utf-8")
    result = scrub(str(claims), "--suppressions", str(suppressions), "--mask-phi", "--json", "-", "--fail-on", "never")
    assert_no_traceback(result)
    doc = json.loads(result.stdout)
    (suppressed,) = doc["suppressed"]
    assert "MBR44871" not in suppressed["suppression"]["reason"]  # holds today
    assert "MBR44871" not in result.stdout


# Contract: isolated.
def test_json_line_number_given_twice_does_not_reject_its_good_sibling(tmp_path: Path) -> None:
    bad_line = json.dumps(PRIMARY).replace('"line_number": 1,', '"line_number": 1, "line_number": 2,')
    text = ('{"claims": [' + json.dumps(claim("G1", "MG", [PRIMARY, ADDON])).replace(json.dumps(PRIMARY), bad_line)
            + ", " + json.dumps(claim("F1", "MF", [dict(ADDON, line_number=1)])) + "]}")
    path = tmp_path / "claims.json"
    path.write_text(text, encoding="utf-8")
    doc = run_json(str(path))
    # Rejected alone, and with no line number of its own (the key it gave twice is no key).
    assert [r["row"] for r in doc["rejected_rows"]] == [1]
    assert "the line object gives line_number more than once" in doc["rejected_rows"][0]["reason"]
    assert doc["summary"]["rows_checked"] == 2  # G1 line 2 and F1 line 1
    assert findings_of(doc) == {("F1", 1, "addon-without-primary")}


# Contract: isolated.
def test_json_claim_id_given_twice_does_not_take_another_claims_place(tmp_path: Path) -> None:
    bad = json.dumps(claim("G3", "MZ", [dict(ADDON, line_number=1)])).replace('"claim_id": "G3"',
                                                                             '"claim_id": "X9", "claim_id": "G3"')
    good = claim("G3", "MG", [dict(ADDON, line_number=1, date_of_service="2026-02-12")])
    path = tmp_path / "claims.json"
    path.write_text('{"claims": [' + bad + ", " + json.dumps(good) + "]}", encoding="utf-8")
    doc = run_json(str(path))
    assert [r["row"] for r in doc["rejected_rows"]] == [1]
    assert findings_of(doc) == {("G3", 1, "addon-without-primary")}


# Contract: isolated (JSON Lines: a broken line is rejected alone, as test_json_lines_broken_line_is_rejected_alone).
def test_json_lines_lone_surrogate_rejects_only_its_line(tmp_path: Path) -> None:
    lines = [json.dumps(claim("G1", "MG", [PRIMARY, ADDON])),
             json.dumps(claim("B1", "M\ud800", [dict(ADDON, line_number=1)])),  # json.dumps writes \ud800
             json.dumps(claim("F1", "MF", [dict(ADDON, line_number=1)]))]
    assert "\\ud800" in lines[1]
    path = tmp_path / "claims.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    doc = run_json(str(path))
    assert doc["summary"]["rows_checked"] == 3
    assert [r["location"] for r in doc["rejected_rows"]] == ["line 2"]
    assert findings_of(doc) == {("F1", 1, "addon-without-primary")}


# Contract: folders.
def test_folder_notes_claim_files_it_cannot_read(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.csv").write_text(csv_text(*GOOD, *FINDING), encoding="utf-8")
    (folder / "march.csv").symlink_to(tmp_path / "export-not-there.csv")
    os.mkfifo(folder / "pipe.csv")
    doc = run_json(str(folder))
    assert doc["summary"]["rows_read"] == 3
    noted = {Path(w["source"]).name for w in doc["input_warnings"]}
    assert {"march.csv", "pipe.csv"} <= noted, doc["input_warnings"]


# Contract: folders.
def test_folder_skips_a_text_file_that_is_not_claims(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "claims.csv").write_text(csv_text(*GOOD, *FINDING), encoding="utf-8")
    (folder / "README.txt").write_text("March export from the billing system.\nContact: billing office\n")
    doc = run_json(str(folder))
    assert doc["summary"]["rows_read"] == 3
    assert any(Path(w["source"]).name == "README.txt" for w in doc["input_warnings"])


# Contract: accounted (and the gate: "a row that could not be checked" should be a real problem).
def test_the_same_file_given_twice_is_read_once(tmp_path: Path) -> None:
    claims = tmp_path / "claims.csv"
    claims.write_text(csv_text(*GOOD), encoding="utf-8")
    result = scrub(str(claims), str(tmp_path / "." / "claims.csv"), "--json", "-", "--fail-on", "never")
    assert_no_traceback(result)
    if result.exit_code == 2:  # refusing it is fine, in one line
        assert_one_line_error(result, "claims.csv")
        return
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)["summary"]
    assert (summary["rows_read"], summary["rejected_rows"]) == (2, 0)


# Contract: isolated (records: a bad record is blamed on its own row, as a ragged records CSV row is).
def test_one_bad_entry_in_a_records_json_is_reported_alone(tmp_path: Path) -> None:
    claims = tmp_path / "claims.csv"
    claims.write_text(csv_text(*GOOD, *FINDING), encoding="utf-8")
    records = tmp_path / "records.json"
    records.write_text(json.dumps({"records": [{"claim_id": "G1", "line_number": 1, "route": "IV"}, None]}))
    doc = run_json(str(claims), "--records", str(records))
    assert doc["summary"]["rows_checked"] == 3
    assert doc["summary"]["unmatched_records"] == 1


# Contract: isolated (records: JSON readers disagree on a key given twice, so the record must not be guessed).
def test_a_records_json_key_given_twice_is_reported_not_guessed(tmp_path: Path) -> None:
    claims = tmp_path / "claims.csv"
    claims.write_text(csv_text(*GOOD, *FINDING), encoding="utf-8")
    records = tmp_path / "records.json"
    records.write_text('[{"claim_id": "G1", "line_number": 1, "line_number": 2, "route": "IV"}]', encoding="utf-8")
    doc = run_json(str(claims), "--records", str(records))
    assert doc["summary"]["unmatched_records"] == 1
    assert "more than once" in doc["unmatched_records"][0]["reason"]


# Contract: one line.
@pytest.mark.parametrize("option", [["--baseline-expires", "2026-02-30"], ["--fail-on", "sometimes"]],
                         ids=["impossible-date", "unknown-choice"])
def test_a_bad_option_value_is_one_line(tmp_path: Path, option: list[str]) -> None:
    claims = tmp_path / "claims.csv"
    claims.write_text(csv_text(*GOOD), encoding="utf-8")
    assert_one_line_error(scrub(str(claims), "--baseline-write", str(tmp_path / "b.toml"), *option), option[0])


# Contract: one line (a settings or findings file's problem names the file; never an internal error).
@pytest.mark.parametrize("kind", ["diff", "compare", "policy", "suppressions", "config"])
def test_deeply_nested_settings_and_findings_files_are_named_errors(tmp_path: Path, kind: str) -> None:
    claims = tmp_path / "claims.csv"
    claims.write_text(csv_text(*GOOD), encoding="utf-8")
    if kind in ("diff", "compare"):
        bad = tmp_path / "old.json"
        bad.write_text('{"findings": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
        args = ["diff", str(bad), str(bad)] if kind == "diff" else ["check", str(claims), "--compare", str(bad)]
    else:
        bad = tmp_path / "settings.toml"
        bad.write_text("a = " + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
        args = ["check", str(claims), f"--{kind}", str(bad)]
    line = assert_one_line_error(CliRunner().invoke(main, args), str(bad))
    assert "unexpected" not in line


# Contract: one line (policy values are bounded like claim values).
def test_a_policy_cap_beyond_64_bits_is_a_one_line_error(tmp_path: Path) -> None:
    claims = tmp_path / "claims.csv"
    claims.write_text(csv_text(*GOOD), encoding="utf-8")
    policy = tmp_path / "acme.toml"
    policy.write_text('name = "ACME"\nextends = "DEFAULT"\n[caps]\n96371 = 100000000000000000000000000000\n')
    line = assert_one_line_error(scrub(str(claims), "--policy", str(policy), "--json", "-"), "acme.toml", "caps")
    assert "unexpected" not in line


# Contract: one line.
@pytest.mark.parametrize("key", ["policies", "suppressions"])
def test_a_nul_in_a_config_path_names_the_config_file(tmp_path: Path, key: str) -> None:
    claims = tmp_path / "claims.csv"
    claims.write_text(csv_text(*GOOD), encoding="utf-8")
    config = tmp_path / "scrubber.toml"
    config.write_text(f'{key} = ["acme\\u0000.toml"]\n', encoding="utf-8")
    line = assert_one_line_error(scrub(str(claims), "--config", str(config), "--json", "-"), "scrubber.toml")
    assert "unexpected" not in line


# Contract: outputs.
def test_letters_to_standard_output_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    claims = tmp_path / "claims.csv"
    claims.write_text(csv_text(*GOOD), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = scrub(str(claims), "--letters", "-", "--fail-on", "never")
    assert not (tmp_path / "-").exists()
    assert_one_line_error(result, "--letters")


# -------------------------------------------------------------------------------------------------
# Contracts that hold today, not pinned elsewhere.


# Contract: accounted; digits a spreadsheet shows but Python's int()/float() would read.
@pytest.mark.parametrize(("column", "value"), [
    ("units", "\uff11"), ("units", "\u0661"), ("line_number", "\uff11"), ("units", "NaN"), ("units", "-0"),
    ("charge", "inf"), ("date_of_service", "02/30/2026"), ("date_of_service", "2026-02-29"),
    ("infusion_start", "2026-02-10T24:00"), ("infusion_start", "2026-02-10T09:00Z"),
], ids=["fullwidth-one", "arabic-indic-one", "fullwidth-line", "nan", "minus-zero", "inf-charge", "feb-30",
        "feb-29-2026", "hour-24", "utc-suffix"])
def test_odd_numbers_and_impossible_dates_reject_their_row_only(tmp_path: Path, column: str, value: str) -> None:
    columns = HEADER.split(",")
    bad = dict(zip(columns, FINDING[0].split(","), strict=True)) | {"claim_id": "B1", column: value}
    path = tmp_path / "claims.csv"
    path.write_text(csv_text(*GOOD, ",".join(bad[c] for c in columns), *FINDING), encoding="utf-8")
    doc = run_json(str(path))
    assert [(r["row"], r["claim_id"]) for r in doc["rejected_rows"]] == [(4, "B1")]
    assert repr(value)[1:-1] in doc["rejected_rows"][0]["reason"] or value in doc["rejected_rows"][0]["reason"]
    assert findings_of(doc) == {("F1", 1, "addon-without-primary")}


# Contract: accounted; line ends a Windows/Mac export mixes, and a quoted cell spanning lines.
@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr-only"])
def test_line_ends_and_multiline_cells_keep_row_numbers(tmp_path: Path, newline: str) -> None:
    columns = HEADER.split(",")
    note = dict(zip(columns, GOOD[0].split(","), strict=True)) | {"charge": '"300"'}
    bad = FINDING[0].replace("F1,1,MF", "B1,1,MB").replace(",1,120,", ",x,120,")
    rows = [HEADER + ",note", ",".join(note[c] for c in columns) + ',"first' + newline + 'second"',
            GOOD[1] + ",", bad + ",", FINDING[0] + ","]
    path = tmp_path / "claims.csv"
    path.write_bytes(newline.join(rows).encode() + newline.encode())
    doc = run_json(str(path))
    assert doc["summary"]["rows_read"] == 4
    assert [(r["row"], r["claim_id"]) for r in doc["rejected_rows"]] == [(4, "B1")]
    assert findings_of(doc) == {("F1", 1, "addon-without-primary")}


# Contract: accounted; X12 structure a hand-edited file gets wrong.
def test_x12_second_sv1_under_one_lx_and_claim_without_hi_are_rejected_rows(tmp_path: Path) -> None:
    def subscriber(hl: int, member: str, clm: str, body: list[str]) -> list[str]:
        return [f"HL*{hl}*1*22*0~", "SBR*P*18*******MB~", f"NM1*IL*1*M*****MI*{member}~",
                "NM1*PR*2*AETNA*****PI*AETNA~", f"CLM*{clm}*500***11:B:1*Y*A*Y*Y~", *body]

    def service(n: int, code: str) -> list[str]:
        return [f"LX*{n}~", f"SV1*HC:{code}*100*UN*1***1~", "DTP*472*D8*20260210~"]

    body = [*subscriber(2, "MG", "G1", ["HI*ABK:D800~", *service(1, "96365"), *service(2, "96366")]),
            # B1: two SV1 under one LX; B2: its pointer names a diagnosis the claim never gives.
            *subscriber(3, "MB", "B1", ["HI*ABK:D800~", "LX*1~", "SV1*HC:96366*100*UN*1***1~",
                                        "SV1*HC:96365*100*UN*1***1~", "DTP*472*D8*20260210~"]),
            *subscriber(4, "MC", "B2", service(1, "96365")),
            *subscriber(5, "MF", "F1", ["HI*ABK:D800~", *service(1, "96366")])]
    head = ["ST*837*0001*005010X222A1~", "BHT*0019*00*1*20260615*0800*CH~", "NM1*41*2*SUB*****46*S~",
            "PER*IC*B*TE*5555550100~", "NM1*40*2*PAYER*****46*PAYER~", "HL*1**20*1~",
            "NM1*85*2*CENTER*****XX*1234567893~", "N3*1 MAIN~", "N4*X*IL*62701~", "REF*EI*123456789~"]
    segments = [*head, *body]
    text = "\n".join([
        "ISA*00*          *00*          *ZZ*SCRUBBER       *ZZ*PAYER          *260615*0800*^*00501*000000001*0*T*:~",
        "GS*HC*S*P*20260615*0800*1*X*005010X222A1~", *segments, f"SE*{len(segments) + 1}*0001~", "GE*1*1~",
        "IEA*1*000000001~"]) + "\n"
    path = tmp_path / "claims.837"
    path.write_text(text, encoding="utf-8")
    doc = run_json(str(path))
    assert doc["summary"]["rows_read"] == 5
    reasons = {r["claim_id"]: r["reason"] for r in doc["rejected_rows"]}
    assert set(reasons) == {"B1", "B2"}
    assert "second service segment SV1" in reasons["B1"]
    assert "diagnosis pointer 1" in reasons["B2"]
    assert findings_of(doc) == {("F1", 1, "addon-without-primary")}
    assert doc["input_warnings"] == []


# Contract: one line; policy and suppressions files of the wrong shape.
@pytest.mark.parametrize(("option", "text", "words"), [
    ("--policy", 'name = "AETNA"\nextends = "DEFAULT"\ncaps = "x"\n', ["caps"]),
    ("--policy", 'name = "AETNA"\nextends = "DEFAULT"\n[caps]\n96371 = -1\n', ["caps.96371"]),
    ("--policy", 'name = 5\nextends = "DEFAULT"\n', ["name"]),
    ("--policy", 'name = "X"\nextends = "X"\n', ["extends"]),
    ("--suppressions", '[[suppress]]\ncheck = "addon-without-primary"\nreason = "r"\nby = "b"\n'
                       'expires = "2026-02-30"\n', ["entry 1", "expires"]),
    ("--suppressions", '[suppress]\ncheck = "addon-without-primary"\nreason = "r"\nby = "b"\n'
                       'expires = 2027-01-01\n', ["[[suppress]]"]),
    ("--suppressions", '[[suppress]]\nid = 12345678\nreason = "r"\nby = "b"\nexpires = 2027-01-01\n', ["id"]),
    ("--config", 'fail_on = "sometimes"\n', ["fail_on"]),
    ("--config", '[tool.scrubber]\nfail_on = "never"\n', ["unknown key 'tool'"]),
], ids=["caps-not-table", "negative-cap", "name-not-text", "extends-itself", "expires-feb-30",
        "suppress-not-array", "id-not-text", "fail-on-unknown", "tool-section-in-scrubber-toml"])
def test_settings_files_of_the_wrong_shape_are_one_line_errors(tmp_path: Path, option: str, text: str,
                                                               words: list[str]) -> None:
    claims = tmp_path / "claims.csv"
    claims.write_text(csv_text(*GOOD), encoding="utf-8")
    settings = tmp_path / "settings.toml"
    settings.write_text(text, encoding="utf-8")
    line = assert_one_line_error(scrub(str(claims), option, str(settings), "--json", "-"), *words)
    assert "settings.toml" in line


# Contract: one line; --compare / diff against something that is not a findings file.
@pytest.mark.parametrize("content", ['{"findings": 5}', "[1, 2]", "{oops", '{"findings": [{"x": 1}, 5, null]}'],
                         ids=["findings-not-list", "top-level-list", "invalid", "findings-without-ids"])
def test_comparing_against_a_non_findings_file_is_one_line(tmp_path: Path, content: str) -> None:
    claims = tmp_path / "claims.csv"
    claims.write_text(csv_text(*GOOD), encoding="utf-8")
    old = tmp_path / "old.json"
    old.write_text(content, encoding="utf-8")
    assert_one_line_error(scrub(str(claims), "--json", "-", "--compare", str(old)), "old.json")
    assert_one_line_error(CliRunner().invoke(main, ["diff", str(old), str(old)]), "old.json")


# Contract: folders; a symlink loop in a folder ends and reads each claim file once.
def test_folder_with_a_symlink_loop_reads_each_file_once(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    (folder / "sub" / "deeper").mkdir(parents=True)
    (folder / "a.csv").write_text(csv_text(*GOOD), encoding="utf-8")
    (folder / "sub" / "deeper" / "b.csv").write_text(csv_text(*FINDING), encoding="utf-8")
    (folder / "sub" / "up").symlink_to("..")
    (folder / "sub" / "deeper" / "root").symlink_to(folder)
    doc = run_json(str(folder))
    assert doc["summary"]["rows_read"] == 3
    assert doc["summary"]["rejected_rows"] == 0
    assert findings_of(doc) == {("F1", 1, "addon-without-primary")}


# Contract: HTML autoescapes claim text in the appeal letters too (not only the report).
def test_appeal_letters_escape_claim_text(tmp_path: Path) -> None:
    # A long 96365 whose add-on hours are billed: a finding that needs an appeal letter.
    header = "claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,units,charge," \
             "diagnosis_1,route,infusion_start,infusion_stop"
    script = "<script>alert(1)</script>"
    rows = [f'"{script}",1,"<b>M1</b>",AETNA,11,2026-03-10,96365,1,350.00,D80.0,IV,2026-03-10T08:00,'
            "2026-03-10T17:45",
            f'"{script}",2,"<b>M1</b>",AETNA,11,2026-03-10,96366,9,990.00,D80.0,,,']
    claims = tmp_path / "claims.csv"
    claims.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    letters = tmp_path / "letters"
    result = scrub(str(claims), "--letters", str(letters), "--fail-on", "never", "-q")
    assert_no_traceback(result)
    assert result.exit_code == 0, result.output
    pages = sorted(letters.glob("*.html"))
    assert len(pages) == 2, pages  # the letter and its index
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "<script>alert" not in text and "<b>M1</b>" not in text, page.name
    assert any("&lt;script&gt;" in page.read_text(encoding="utf-8") for page in pages)
