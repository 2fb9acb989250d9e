"""What changed: scrub diff OLD.json NEW.json and scrub check --compare, by finding_id."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from conftest import ROOT

from scrubber.cli import main

SAMPLE = ROOT / "sample_claims" / "claims.csv"


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def findings_json(tmp_path: Path, name: str, claims: Path, *extra: str) -> Path:
    out = tmp_path / name
    result = run("check", str(claims), "--json", str(out), "--fail-on", "never", "-q", *extra)
    assert result.exit_code == 0, result.output
    return out


def edited_sample(tmp_path: Path) -> Path:
    """The sample with PCN-2001 fixed (its add-on gets the primary) and a new claim with a finding."""
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    fixed = []
    for line in lines[1:]:
        cells = line.split(",")
        if cells[0] == "PCN-2001" and cells[header.index("procedure_code")] == "96366":
            primary = list(cells)
            primary[header.index("line_number")] = "9"
            primary[header.index("procedure_code")] = "96365"
            fixed.append(",".join(primary))
        fixed.append(line)
    new = list(lines[1].split(","))
    new[0], new[header.index("procedure_code")] = "PCN-NEW", "96366"
    new[header.index("member_id")] = "M-NEW"  # its own encounter: no primary on the member's other claims
    for col in ("infusion_start", "infusion_stop", "route"):
        new[header.index(col)] = ""
    path = tmp_path / "edited.csv"
    path.write_text("\n".join([lines[0], *fixed, ",".join(new)]) + "\n", encoding="utf-8")
    return path


def test_diff_new_fixed_unchanged_with_counts_and_charges(tmp_path: Path) -> None:
    old = findings_json(tmp_path, "old.json", SAMPLE)
    new = findings_json(tmp_path, "new.json", edited_sample(tmp_path))
    out = tmp_path / "diff.json"
    result = run("diff", str(old), str(new), "--json", str(out))
    assert result.exit_code == 0, result.output
    section = json.loads(out.read_text())
    old_ids = {f["finding_id"]: f for f in json.loads(old.read_text())["findings"]}
    new_ids = {f["finding_id"]: f for f in json.loads(new.read_text())["findings"]}
    assert section["counts"]["new"]["findings"] == 1
    (new_id,) = section["finding_ids"]["new"]
    assert new_ids[new_id]["claim_id"] == "PCN-NEW"
    (fixed,) = section["fixed_findings"]
    assert fixed["claim_id"] == "PCN-2001" and fixed["finding_id"] not in new_ids
    assert section["counts"]["fixed"] == {"findings": 1, "charges": old_ids[fixed["finding_id"]]["charge"]}
    assert sorted(section["finding_ids"]["unchanged"]) == sorted(set(old_ids) & set(new_ids))
    assert section["counts"]["unchanged"]["findings"] == len(old_ids) - 1
    assert "1 new" in result.stdout and "1 fixed" in result.stdout
    assert "PCN-NEW:1" in result.stdout and "PCN-2001:1" in result.stdout
    assert run("diff", str(old), str(new), "--fail-on-new").exit_code == 1
    assert run("diff", str(old), str(old), "--fail-on-new").exit_code == 0


def test_compare_on_a_check_run(tmp_path: Path) -> None:
    old = findings_json(tmp_path, "old.json", SAMPLE)
    edited = edited_sample(tmp_path)
    terminal = run("check", str(edited), "--compare", str(old))
    assert "Compared with " in terminal.stdout and "1 new" in terminal.stdout and "1 fixed" in terminal.stdout
    assert terminal.exit_code == 1  # the gate is the run's own, unchanged by comparing
    doc = json.loads(run("check", str(edited), "--compare", str(old), "--json", "-", "--fail-on", "never").stdout)
    assert doc["compare"]["counts"]["new"]["findings"] == 1 and doc["compare"]["old"] == str(old)


def test_a_suppressed_finding_is_not_fixed(tmp_path: Path) -> None:
    old = findings_json(tmp_path, "old.json", SAMPLE)
    first = json.loads(old.read_text())["findings"][0]["finding_id"]
    sup = tmp_path / "s.toml"
    sup.write_text(f'[[suppress]]\nid = "{first}"\nreason = "ok"\nby = "me"\nexpires = 2099-01-01\n')
    new = findings_json(tmp_path, "new.json", SAMPLE, "--suppressions", str(sup))
    section = json.loads(run("diff", str(old), str(new), "--json", "-").stdout)
    assert section["finding_ids"]["suppressed"] == [first]
    assert section["counts"]["fixed"]["findings"] == 0 and section["counts"]["new"]["findings"] == 0


def test_bad_findings_files(tmp_path: Path) -> None:
    good = findings_json(tmp_path, "good.json", SAMPLE)
    old_style = tmp_path / "old_style.json"
    doc = json.loads(good.read_text())
    for f in doc["findings"]:
        del f["finding_id"]
    old_style.write_text(json.dumps(doc))
    for path, words in ((tmp_path / "none.json", "no such findings file"), (SAMPLE, "not a findings JSON file"),
                        (old_style, "no finding_id")):
        result = run("diff", str(path), str(good))
        assert result.exit_code == 2 and words in result.stderr, result.output
        assert result.stderr.startswith(f"scrub: error: {path}: ")
    compared = run("check", str(SAMPLE), "--compare", str(old_style))
    assert compared.exit_code == 2 and "no finding_id" in compared.stderr
    edited = tmp_path / "edited.json"  # a hand-edited shown value of the wrong type reads as null
    edited.write_text(json.dumps({"findings": [{"finding_id": "0123456789ab", "line_number": "x", "charge": 5}]}))
    result = run("diff", str(edited), str(good))
    assert result.exit_code == 0 and "1 fixed ($5.00)" in result.stdout
    # ... but the key and the money are what the comparison counts by: a number for an id, or money
    # that is no number, are refused (they compared as another id, and added $0.00; probe N).
    for entry, words in (({"finding_id": 5}, "findings[0].finding_id 5 is not text"),
                         ({"finding_id": "0123456789ab", "charge_at_risk": "abc"},
                          "findings[0].charge_at_risk 'abc' is not a number"),
                         ({"finding_id": "0123456789ab", "charge": True}, "findings[0].charge True is not a number"),
                         # NaN, infinity and amounts no claim bills: the totals were no number ("$nan"), and
                         # writing them stopped the run with an internal error (probe W)
                         ({"finding_id": "0123456789ab", "charge_at_risk": float("nan")},
                          "findings[0].charge_at_risk nan is not an amount scrub writes"),
                         ({"finding_id": "0123456789ab", "charge_at_risk": 1e308},
                          "findings[0].charge_at_risk 1e+308 is not an amount scrub writes"),
                         ({"finding_id": "0123456789ab", "charge": -5}, "findings[0].charge -5 is not an amount")):
        edited.write_text(json.dumps({"findings": [entry]}))
        result = run("diff", str(edited), str(good))
        assert result.exit_code == 2 and words in result.stderr, result.output
    # a second "findings" key: JSON keeps the last one, which silently compared another list
    edited.write_text('{"findings": [{"finding_id": "0123456789ab"}], "findings": []}')
    result = run("diff", str(edited), str(good))
    assert result.exit_code == 2 and "key 'findings' given twice" in result.stderr, result.output
    # near miss: the largest amounts scrub can write still compare
    edited.write_text(json.dumps({"findings": [{"finding_id": "0123456789ab", "charge": 10_000_000,
                                                "charge_at_risk": 25_000_000.5}]}))
    assert run("diff", str(edited), str(good)).exit_code == 0
    # Entries that are not findings, and one id given for many findings, are not a file scrub wrote:
    # read as they were, [1, 2, 3] compared as "no findings" and copies of one id as that many "fixed".
    numbers = tmp_path / "numbers.json"
    numbers.write_text(json.dumps({"findings": [1, 2, 3]}))
    repeated = tmp_path / "repeated.json"
    repeated.write_text(json.dumps({"findings": [{**f, "finding_id": "aaaaaaaaaaaa"} for f in doc["findings"]]}))
    for path, words in ((numbers, "findings[0] is not a finding object"),
                        (repeated, f"appears {len(doc['findings'])} times")):
        result = run("diff", str(path), str(good))
        assert result.exit_code == 2 and words in result.stderr, result.output


def test_the_totals_say_what_left_when_a_fixed_findings_line_stays_at_risk(tmp_path: Path) -> None:
    """A finding fixed while its line stays at risk under another finding: "fixed ($1,900)" read as money
    recovered though the total did not move (probe P). The comparison gives each run's total."""
    header = "claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,modifier_1,units,"
    header += "charge,diagnosis_1,drug_dose_mg"
    old_rows = ["X1,1,M1,MEDICARE,11,2026-03-02,96365,,1,350,D80,",
                "X1,2,M1,MEDICARE,11,2026-03-02,J1459,,38,1900,D80,19000"]
    new_rows = [old_rows[0], old_rows[1].replace(",J1459,,", ",J1459,JZ,")]
    paths = []
    for name, rows in (("old", old_rows), ("new", new_rows)):
        claims = tmp_path / f"{name}.csv"
        claims.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
        paths.append(findings_json(tmp_path, f"{name}.json", claims))
    result = run("diff", str(paths[0]), str(paths[1]), "--json", "-")
    doc = json.loads(result.stdout)
    old_total = json.loads(paths[0].read_text())["summary"]["charges_at_risk"]
    new_total = json.loads(paths[1].read_text())["summary"]["charges_at_risk"]
    assert doc["charges_at_risk"] == {"old": old_total, "new": new_total}
    assert old_total == new_total == 2250.0  # the invalid diagnosis keeps both lines at risk
    assert doc["counts"]["fixed"]["findings"] == 1
    terminal = run("diff", str(paths[0]), str(paths[1]))
    assert "Charges at risk in all: $2,250.00 -> $2,250.00" in terminal.stdout


def test_findings_files_without_charges_at_risk_count_each_line_once_across_kinds(tmp_path: Path) -> None:
    # An earlier version's findings file (no charge_at_risk): the kinds count line charges, and a line with
    # a new and an unchanged finding was counted in both: "2 new ($14,250), 1 unchanged ($7,600)" for a
    # run whose lines come to $14,250 (probe 16D).
    def doc(findings: list[dict]) -> dict:
        return {"findings": findings, "summary": {}}

    def finding(fid: str, line: int, check: str, charge: float) -> dict:
        return {"finding_id": fid, "claim_id": "C1", "line_number": line, "check_id": check, "charge": charge,
                "message": "m"}

    old = tmp_path / "old.json"
    new = tmp_path / "new.json"
    old.write_text(json.dumps(doc([finding("aaaaaaaaaaaa", 3, "unit-miscalculation", 7600.0)])))
    new.write_text(json.dumps(doc([finding("aaaaaaaaaaaa", 3, "unit-miscalculation", 7600.0),
                                   finding("bbbbbbbbbbbb", 3, "units-over-mue", 7600.0),
                                   finding("cccccccccccc", 2, "missing-modifier", 6650.0)])))
    result = run("diff", str(old), str(new), "--json", "-")
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout)["counts"]
    assert (counts["new"]["charges"], counts["unchanged"]["charges"]) == (14250.0, 0.0)
    assert counts["new"]["charges"] + counts["unchanged"]["charges"] == json.loads(result.stdout)[
        "charges_at_risk"]["new"]
    # Near miss: the old run's one line, counted once in its own total.
    assert json.loads(result.stdout)["charges_at_risk"]["old"] == 7600.0


def test_a_findings_file_saved_with_a_bom_is_read(tmp_path: Path) -> None:
    # Notepad or PowerShell's Out-File saves the file scrub wrote with a UTF-8 BOM (probe 21B D6: "not a
    # findings JSON file (Unexpected UTF-8 BOM (decode using utf-8-sig))"); every claim reader takes one.
    old = findings_json(tmp_path, "old.json", SAMPLE)
    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + old.read_bytes())
    result = run("diff", str(bom), str(old), "--json", "-")
    assert result.exit_code == 0, result.output
    section = json.loads(result.stdout)
    assert section["counts"]["new"]["findings"] == 0 and section["counts"]["fixed"]["findings"] == 0
    assert len(section["finding_ids"]["unchanged"]) == len(json.loads(old.read_text())["findings"])


def test_a_findings_file_saved_as_utf16_is_read(tmp_path: Path) -> None:
    # Windows PowerShell 5 writes `scrub check --json - > run.json` as UTF-16 with a BOM (probe 21D B2:
    # "cannot read findings file ('utf-8' codec can't decode byte 0xff ...)"); the BOM names the encoding.
    old = findings_json(tmp_path, "old.json", SAMPLE)
    utf16 = tmp_path / "utf16.json"
    utf16.write_bytes(old.read_text(encoding="utf-8").encode("utf-16"))
    result = run("diff", str(utf16), str(old), "--json", "-")
    assert result.exit_code == 0, result.output
    section = json.loads(result.stdout)
    assert section["counts"]["new"]["findings"] == 0 and section["counts"]["fixed"]["findings"] == 0
    assert len(section["finding_ids"]["unchanged"]) == len(json.loads(old.read_text())["findings"])
    # Near miss: a cut UTF-16 file is a one-line error naming the encoding, not a traceback.
    cut = tmp_path / "cut.json"
    cut.write_bytes(utf16.read_bytes()[:-1])
    result = run("diff", str(cut), str(old))
    assert result.exit_code == 2 and "cannot read findings file (not UTF-16 text" in result.output


def test_finding_ids_compare_in_any_case(tmp_path: Path) -> None:
    # A hand-edited findings file with its ids upper-cased (probe 22B): the same findings, not one new
    # and one fixed each; suppressions match ids in any case already. Near miss: another id is new.
    old = findings_json(tmp_path, "old.json", SAMPLE)
    doc = json.loads(old.read_text())
    for f in doc["findings"]:
        f["finding_id"] = f["finding_id"].upper()
    upper = tmp_path / "upper.json"
    upper.write_text(json.dumps(doc))
    section = json.loads(run("diff", str(upper), str(old), "--json", "-").stdout)
    assert section["counts"]["new"]["findings"] == 0 and section["counts"]["fixed"]["findings"] == 0
    doc["findings"][0]["finding_id"] = "ffffffffffff"
    upper.write_text(json.dumps(doc))
    section = json.loads(run("diff", str(upper), str(old), "--json", "-").stdout)
    assert section["counts"]["new"]["findings"] == 1 and section["counts"]["fixed"]["findings"] == 1
