"""Acceptance round: small claims written straight from RULES.md (second edition), run through the CLI.

The cases live in `tests/acceptance/cases_*.toml` (see `tests/acceptance/build.py`). Each case lists
the findings an independent reader of the rules expects, as (claim, line, check id, severity); the
test runs every case once through `scrub check` as a user would (CSV, and the same claims as
FORMATS.md nested JSON) and compares. Cases where the product is believed wrong are `xfail(strict)`
with the reason quoting RULES.md, so a fix turns them into XPASS failures until the mark is removed.
The word checks hold on every finding of the run: no Medicare-only remedy in a commercial finding, no
internal file names, no "x0", institutional findings cite IOM 100-04 ch. 4 and never ch. 12.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ACCEPTANCE = Path(__file__).resolve().parent / "acceptance"
sys.path.insert(0, str(ACCEPTANCE))
import build  # noqa: E402

CASES = build.load_cases()
# Policies that extend MEDICARE (their findings may name ABN, GA, GZ, GY); every other is commercial.
MEDICARE_POLICIES = {"MEDICARE", "NORIDIAN_JF_LIST"}


def _scrub(path: Path, out: Path, *extra: str) -> dict:
    """Run `scrub check` on one input file with the acceptance policies; return the findings JSON."""
    command = [sys.executable, "-m", "scrubber.cli", "check", str(path), *extra, "--json", str(out),
               "--fail-on", "never"]
    for policy in build.POLICIES:
        command += ["--policy", str(policy)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ACCEPTANCE.parent.parent),
                                                                      os.environ.get("PYTHONPATH")]))}
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(out.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """The product's findings for every case, from the CSV and from the nested JSON of the same claims."""
    folder = tmp_path_factory.mktemp("acceptance")
    (folder / "claims.csv").write_text(build.claims_csv(CASES), encoding="utf-8")
    (folder / "claims.json").write_text(build.claims_json(CASES), encoding="utf-8")
    return {
        "csv": _scrub(folder / "claims.csv", folder / "out_csv.json"),
        "json": _scrub(folder / "claims.json", folder / "out_json.json"),
    }


def _findings_of(run: dict, case: build.Case) -> list[dict]:
    prefix = f"{case.id}-C"
    return [f for f in run["findings"] if f["claim_id"].startswith(prefix)]


def test_every_case_that_follows_a_source_says_which() -> None:
    """A case whose expectation departs from the sheet's words names the source and docs/RULES.md."""
    for case in CASES:
        if case.follows:
            assert "docs/RULES.md" in case.follows and not case.xfail, case.id


def _params() -> list:
    params = []
    for case in CASES:
        marks = [pytest.mark.xfail(reason=case.xfail, strict=True)] if case.xfail else []
        params.append(pytest.param(case, id=f"{case.id}-{case.group}", marks=marks))
    return params


@pytest.mark.parametrize("case", _params())
def test_case(runs: dict[str, dict], case: build.Case) -> None:
    """The findings of the case's claims are exactly the expected ones; fixes give the computed answer."""
    found = _findings_of(runs["csv"], case)
    got = {(f["claim_id"], f["line_number"], f["check_id"], f["severity"]) for f in found}
    expected = case.expected_keys()
    assert got == expected, (
        f"{case.title}\nrule: {case.rule}\nmissing: {sorted(expected - got, key=str)}\n"
        f"unexpected: {sorted(got - expected, key=str)}\n"
        + "\n".join(f"  {f['check_id']} line {f['line_number']}: {f['message']}" for f in found)
    )
    for field_name, wanted in (("suggested_fix", case.fix_contains), ("message", case.message_contains)):
        for key, words in wanted.items():
            where, check_id = key.split()
            claim, line = where.split(":")
            claim_id = case.claim_id(int(claim[1:]))
            matches = [f for f in found if f["claim_id"] == claim_id and str(f["line_number"]) == line
                       and f["check_id"] == check_id]
            assert matches, f"no {check_id} finding on {claim_id}:{line}"
            for word in words:
                assert re.search(rf"(?<![0-9.]){re.escape(word)}(?![0-9A-Za-z])", matches[0][field_name]), (
                    f"{field_name} of {key} does not give {word}: {matches[0][field_name]}"
                )


def test_every_row_accounted_for(runs: dict[str, dict]) -> None:
    """No acceptance row is rejected, in either format, and the rows reconcile."""
    lines = sum(len(build.case_lines(c)) for c in CASES)
    for run in runs.values():
        assert run["rejected_rows"] == []
        assert run["summary"]["lines"] == lines
        assert run["summary"]["reconciled"] is True


def test_json_input_gives_the_same_findings(runs: dict[str, dict]) -> None:
    """FORMATS.md nested JSON of the same claims gives the same findings, with the same finding ids."""
    def keys(run: dict) -> set:
        return {(f["claim_id"], f["line_number"], f["check_id"], f["severity"], f["finding_id"], f["message"])
                for f in run["findings"]}
    assert keys(runs["json"]) == keys(runs["csv"])


def test_dates_outside_every_icd10_release_are_counted(runs: dict[str, dict]) -> None:
    """RULES.md: a date outside every shipped release is not evaluated for validity (counted and shown)."""
    assert runs["csv"]["summary"]["lines_outside_icd10_releases"] >= 2


def _text(finding: dict) -> str:
    return " ".join(str(finding.get(k) or "") for k in ("title", "message", "suggested_fix", "appeal_text",
                                                        "citation", "disposition"))


def test_no_medicare_remedy_in_a_commercial_finding(runs: dict[str, dict]) -> None:
    """ABN and GA/GZ/GY are Medicare's; a commercial payer's finding never tells the user to use them."""
    bad = [(f["claim_id"], f["check_id"]) for f in runs["csv"]["findings"]
           if f["policy"] not in MEDICARE_POLICIES
           and re.search(r"\b(ABN|GA|GZ|GY|Advance Beneficiary Notice)\b", _text(f))]
    assert bad == []


def test_no_internal_file_names_and_no_x0(runs: dict[str, dict]) -> None:
    """Findings speak to a biller: no data or code file names, never 'x0' units."""
    bad = []
    for f in runs["csv"]["findings"]:
        text = _text(f)
        if re.search(r"\b\w+\.(csv|toml|py|gz|txt)\b|covered_diagnoses|mue_(practitioner|outpatient)|ncci_ptp", text):
            bad.append((f["claim_id"], f["check_id"], "file name"))
        if re.search(r"\bx0\b", text):
            bad.append((f["claim_id"], f["check_id"], "x0"))
    assert bad == []


def test_institutional_findings_cite_chapter_4(runs: dict[str, dict]) -> None:
    """RULES.md: institutional claims cite ch.4 section 230.2, professional (Medicare) claims ch.12 section 30.5."""
    institutional = [f for f in runs["csv"]["findings"] if f["claim_type"] == "institutional"]
    assert institutional
    assert [f["claim_id"] for f in institutional if re.search(r"ch(\.|apter)\s*12\b", _text(f))] == []
    duplicates = [f for f in institutional if f["check_id"] == "duplicate-initial-infusion"]
    assert duplicates and all("ch. 4, section 230.2" in f["citation"] for f in duplicates)
    professional = [f for f in runs["csv"]["findings"] if f["claim_type"] == "professional"
                    and f["check_id"] == "duplicate-initial-infusion" and f["policy"] in MEDICARE_POLICIES]
    assert professional and all("ch. 12, section 30.5" in f["citation"] for f in professional)


def test_records_file_gives_the_same_findings(runs: dict[str, dict], tmp_path: Path) -> None:
    """FORMATS.md --records: the documentation columns joined from a records file give the same findings."""
    documentation = ["drug_dose_mg", "drug_wasted_mg", "route", "infusion_start", "infusion_stop",
                     "observation_minutes", "sites"]
    rows = [row for case in CASES for row in build.case_lines(case)]
    claims = [{k: v for k, v in row.items() if k not in documentation} for row in rows]
    records = [{k: row[k] for k in ["claim_id", "line_number", *documentation]} for row in rows
               if any(row[k] is not None for k in documentation)]
    for name, table in (("claims.csv", claims), ("records.csv", records)):
        header = list(table[0])
        lines = [",".join(header)] + [",".join("" if r[k] is None else str(r[k]) for k in header) for r in table]
        (tmp_path / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    joined = _scrub(tmp_path / "claims.csv", tmp_path / "out.json", "--records", str(tmp_path / "records.csv"))
    assert joined["summary"]["unmatched_records"] == 0
    assert ({(f["claim_id"], f["line_number"], f["check_id"], f["message"]) for f in joined["findings"]}
            == {(f["claim_id"], f["line_number"], f["check_id"], f["message"]) for f in runs["csv"]["findings"]})


def _finding(runs: dict[str, dict], claim_id: str, check_id: str) -> dict:
    matches = [f for f in runs["csv"]["findings"] if f["claim_id"] == claim_id and f["check_id"] == check_id]
    assert matches, f"no {check_id} finding on {claim_id}"
    return matches[0]


def test_home_ivig_with_ga_is_told_gy_not_abn(runs: dict[str, dict]) -> None:
    """DX03: home IVIG, uncovered, GA on the line: info, and the fix points to GY instead of keeping GA/ABN."""
    finding = _finding(runs, "DX03-C1", "noncovered-diagnosis")
    assert finding["severity"] == "info"
    assert not finding["suggested_fix"].startswith("No change")
    assert re.search(r"\bGY\b", finding["suggested_fix"])


def test_orphan_chain_names_only_initial_services(runs: dict[str, dict]) -> None:
    """The unanchored-chain message lists only initial services as what the chain needs."""
    finding = next(f for f in runs["csv"]["findings"] if f["claim_id"] == "AD03-C1" and f["line_number"] == 2)
    listed = re.search(r"initial service \(([^)]*)\)", finding["message"])
    assert listed is None or "96367" not in listed.group(1)
    assert "96367" in finding["message"]  # named as the unanchored add-on it is


def test_bad_rows_do_not_change_good_findings(runs: dict[str, dict], tmp_path: Path) -> None:
    """A bad row is rejected with a reason and never changes the findings of the good rows."""
    good = build.claims_csv(CASES)
    header = good.splitlines()[0].split(",")

    def row(claim_id: str, member: str, **values: str) -> str:
        base = dict.fromkeys(header, "")
        base.update(claim_id=claim_id, line_number="1", member_id=member, payer="MEDICARE",
                    claim_type="professional", place_of_service="11", date_of_service="2026-05-04",
                    procedure_code="96365", units="1", diagnosis_1="D80.0", billing_provider="1000000001")
        base.update(values)
        return ",".join(base[k] for k in header)

    bad = [row("BAD-1", "BAD-M", units="abc"), row("BAD-2", "BAD-M", date_of_service="2026-13-01"),
           row("BAD-3", "BAD-M", procedure_code="9636"), row("IN01-C1", "IN01-M", line_number="3", units="-1")]
    (tmp_path / "claims.csv").write_text(good + "\n".join(bad) + "\n", encoding="utf-8")
    out = _scrub(tmp_path / "claims.csv", tmp_path / "out.json")
    assert len(out["rejected_rows"]) == len(bad)
    assert all(r["reason"] for r in out["rejected_rows"])
    keys = {(f["claim_id"], f["line_number"], f["check_id"], f["severity"]) for f in out["findings"]}
    assert keys == {(f["claim_id"], f["line_number"], f["check_id"], f["severity"]) for f in runs["csv"]["findings"]}


def test_mai_1_counts_per_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """RULES.md units-over-mue: 'MAI 1 per line; MAI 2 and 3 per member, date and provider'. No shipped code of
    the family has MAI 1, so a user's newer table (README: SCRUBBER_REFERENCE_DIR) gives 96367 MAI 1, MUE 4."""
    shipped = Path(__file__).resolve().parents[1] / "scrubber" / "data" / "mue_practitioner.csv"
    reference = tmp_path / "reference"
    reference.mkdir()
    table = []
    for line in shipped.read_text(encoding="utf-8").splitlines():
        fields = line.split(",")
        if fields[0] == "96367":
            fields[2] = "1"
        table.append(",".join(fields))
    (reference / "mue_practitioner.csv").write_text("\n".join(table) + "\n", encoding="utf-8")
    (reference / "MANIFEST.toml").write_text('[mue_practitioner]\nrelease = "acceptance MAI 1"\n'
                                             'table_quarter = "2026Q3"\n', encoding="utf-8")
    header = "claim_id,line_number,member_id,payer,date_of_service,procedure_code,units,diagnosis_1,billing_provider"
    claims = [header,
              "MAI-A,1,MA,MEDICARE,2026-05-04,96365,1,D80.0,1", "MAI-A,2,MA,MEDICARE,2026-05-04,96367,3,D80.0,1",
              "MAI-A,3,MA,MEDICARE,2026-05-04,96367,2,D80.0,1",
              "MAI-B,1,MB,MEDICARE,2026-05-04,96365,1,D80.0,1", "MAI-B,2,MB,MEDICARE,2026-05-04,96367,5,D80.0,1",
              "MAI-C,1,MC,MEDICARE,2026-05-04,96365,1,D80.0,1", "MAI-C,2,MC,MEDICARE,2026-05-04,96367,4,D80.0,1"]
    (tmp_path / "claims.csv").write_text("\n".join(claims) + "\n", encoding="utf-8")
    monkeypatch.setenv("SCRUBBER_REFERENCE_DIR", str(reference))
    out = _scrub(tmp_path / "claims.csv", tmp_path / "out.json")
    got = {(f["claim_id"], f["line_number"]) for f in out["findings"] if f["check_id"] == "units-over-mue"}
    assert got == {("MAI-B", 2)}
