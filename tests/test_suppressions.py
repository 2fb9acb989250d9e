"""Suppressions: matching by id and by pattern, expiry, unmatched entries, the audit section of every
output, and --baseline-write for a team adopting the tool on a backlog."""

from __future__ import annotations

import datetime as dt
import json
import re
import textwrap
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from conftest import ROOT

from checks import REGISTERED
from scrubber.cli import main
from scrubber.engine import scrub
from scrubber.errors import UsageError
from scrubber.suppressions import SuppressionSet, apply, glob_regex, read_file

SAMPLE = str(ROOT / "sample_claims" / "claims.csv")
ALL = [c.id for c in REGISTERED]
KNOWN = ["addon-without-primary", "route-mismatch", "unit-miscalculation", "missing-modifier"]
FUTURE = "2099-12-31"


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def write(path: Path, text: str) -> str:
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def sample():
    return scrub([SAMPLE])


def entry(**keys: str) -> str:
    keys = {"reason": "reviewed", "by": "J. Coder", "expires": FUTURE, **keys}
    body = "\n".join(f"{k} = {v}" if k == "expires" else f'{k} = "{v}"' for k, v in keys.items())
    return "[[suppress]]\n" + body + "\n"


def suppress(tmp_path: Path, *entries: str, name: str = "sup.toml") -> SuppressionSet:
    path = write(tmp_path / name, "\n".join(entries))
    return SuppressionSet.load([path], ALL)


def test_by_id_and_by_id_prefix(tmp_path: Path, sample) -> None:
    f = sample.findings
    first, second = f.get_column("finding_id").to_list()[:2]
    applied = apply(f, suppress(tmp_path, entry(id=first), entry(id=second[:8])))
    assert applied.suppressed.get_column("finding_id").to_list() == [first, second]
    assert applied.active.height == f.height - 2 and applied.warnings == []
    assert applied.suppressed.get_column("suppression_entry").to_list() == [1, 2]
    assert set(applied.suppressed.get_column("suppression_by")) == {"J. Coder"}


def test_by_pattern_check_claim_glob_payer_and_code(tmp_path: Path, sample) -> None:
    f = sample.findings
    route = f.filter(pl.col("check_id") == "route-mismatch")
    applied = apply(f, suppress(tmp_path, entry(check="route-mismatch", claim="PCN-200?")))
    assert applied.suppressed.get_column("claim_id").to_list() == [
        c for c in route.get_column("claim_id").to_list() if re.fullmatch(r"PCN-200.", c)]
    # Payer patterns match as policies do, case-insensitively; code patterns the line's code.
    payer = f.get_column("payer").to_list()[0]
    by_payer = apply(f, suppress(tmp_path, entry(payer=payer.lower())))
    assert by_payer.suppressed.height == f.filter(pl.col("payer").str.to_uppercase() == payer.upper()).height
    by_code = apply(f, suppress(tmp_path, entry(check="unit-miscalculation", code="J14*")))
    assert by_code.suppressed.height == f.filter((pl.col("check_id") == "unit-miscalculation")
                                                 & pl.col("procedure_code").str.starts_with("J14")).height > 0
    member = f.get_column("member_id").to_list()[0]
    by_member = apply(f, suppress(tmp_path, entry(member=member)))
    assert by_member.suppressed.height == f.filter(pl.col("member_id") == member).height


def test_near_miss_patterns_do_not_match(tmp_path: Path, sample) -> None:
    f = sample.findings
    claim = f.get_column("claim_id").to_list()[0]
    check = f.get_column("check_id").to_list()[0]
    other = next(c for c in KNOWN if c != check)
    for pattern in (entry(check=other, claim=claim), entry(claim=claim + "0"), entry(claim=claim[:-1]),
                    entry(claim=claim.lower())):
        applied = apply(f, suppress(tmp_path, pattern))
        assert applied.suppressed.height == 0, pattern
        assert [w["entry"] for w in applied.warnings] == [1]
        assert "matches no finding" in applied.warnings[0]["problem"]


def test_glob_is_literal_but_for_star_and_question_mark() -> None:
    assert re.match(glob_regex("PCN-2*"), "PCN-2001") and not re.match(glob_regex("PCN-2*"), "XPCN-2001")
    assert re.match(glob_regex("A.B"), "A.B") and not re.match(glob_regex("A.B"), "AxB")
    assert re.match(glob_regex("C(1)"), "C(1)")


def test_expired_entry_suppresses_nothing_and_warns(tmp_path: Path, sample) -> None:
    f = sample.findings
    first = f.get_column("finding_id")[0]
    sup = suppress(tmp_path, entry(id=first, expires="2026-01-31"))
    applied = apply(f, sup, today=dt.date(2026, 2, 1))
    assert applied.suppressed.height == 0 and applied.active.height == f.height
    (warning,) = applied.warnings
    assert "expired on 2026-01-31" in warning["problem"] and warning["entry"] == 1
    still = apply(f, sup, today=dt.date(2026, 1, 31))  # valid through its expiry date
    assert still.suppressed.height == 1 and still.warnings == []


def test_first_entry_in_file_order_wins(tmp_path: Path, sample) -> None:
    f = sample.findings
    first = f.get_column("finding_id")[0]
    claim = f.get_column("claim_id")[0]
    applied = apply(f, suppress(tmp_path, entry(claim=claim, reason="pattern"), entry(id=first, reason="by id")))
    assert applied.suppressed.filter(pl.col("finding_id") == first).get_column("suppression_reason")[0] == "pattern"


@pytest.mark.parametrize(("body", "words"), [
    ('[[suppress]]\nid = "0123456789ab"\nreason = "x"\nby = "y"\n', "'expires' is required"),
    ('[[suppress]]\nid = "0123456789ab"\nby = "y"\nexpires = 2027-01-01\n', "'reason' is required"),
    ('[[suppress]]\nid = "0123456789ab"\nreason = "x"\nby = "y"\nexpires = 2027-01-01\nreson = "z"\n',
     "unknown key 'reson'"),
    ('[[suppress]]\nid = "xyz"\nreason = "x"\nby = "y"\nexpires = 2027-01-01\n', "is not a finding id"),
    ('[[suppress]]\ncheck = "route-mismatc"\nreason = "x"\nby = "y"\nexpires = 2027-01-01\n',
     "did you mean 'route-mismatch'"),
    ('[[suppress]]\nid = "0123456789ab"\nclaim = "C1"\nreason = "x"\nby = "y"\nexpires = 2027-01-01\n',
     "either an id or a pattern"),
    ('[[suppress]]\nreason = "x"\nby = "y"\nexpires = 2027-01-01\n', "needs an id or a pattern"),
    # (a pattern matching every finding waived every finding of every run without a word: probe 28C B6)
    ('[[suppress]]\nmember = "*"\nreason = "x"\nby = "y"\nexpires = 2027-01-01\n',
     "member = '*' matches every finding"),
    ('[[suppress]]\nclaim = "**"\npayer = "*"\nreason = "x"\nby = "y"\nexpires = 2027-01-01\n',
     "claim = '**' and payer = '*' matches every finding"),
    ('[[suppress]]\nid = "0123456789ab"\nreason = "x"\nby = "y"\nexpires = "soon"\n', "must be a date"),
    # (a date and time, as a policy's dates refuse it: probe 19B)
    ('[[suppress]]\nid = "0123456789ab"\nreason = "x"\nby = "y"\nexpires = 2027-01-01T00:00:00\n',
     "must be a date such as 2027-06-30, not 2027-01-01T00:00:00"),
    # (an ISO week date is a date Python reads, not the form the message names: review 20C)
    ('[[suppress]]\nid = "0123456789ab"\nreason = "x"\nby = "y"\nexpires = "2027-W26-3"\n', "must be a date"),
    ('[suppress]\nid = 1\n', "array of tables"),
    ('ignore = []\n', "unknown key 'ignore'"),
    ('[[suppress]\n', "not valid TOML"),
])
def test_bad_suppressions_files_are_usage_errors(tmp_path: Path, body: str, words: str) -> None:
    path = write(tmp_path / "bad.toml", body)
    with pytest.raises(UsageError, match=re.escape(words)):
        read_file(path, KNOWN)
    result = run("check", SAMPLE, "--suppressions", path)
    assert result.exit_code == 2 and result.stderr.startswith(f"scrub: error: {path}: ")
    assert result.stderr.count("\n") == 1


def test_suppressed_findings_leave_gate_and_totals_but_every_output_lists_them(tmp_path: Path) -> None:
    doc = json.loads(run("check", SAMPLE, "--json", "-", "--fail-on", "never").stdout)
    errors = [f for f in doc["findings"] if f["severity"] == "error"]
    sup = write(tmp_path / "sup.toml", "\n".join(entry(id=f["finding_id"], reason=f"ok {i}")
                                                 for i, f in enumerate(errors)))
    out_json, out_csv, out_html = tmp_path / "f.json", tmp_path / "f.csv", tmp_path / "r.html"
    result = run("check", SAMPLE, "--suppressions", sup, "--json", str(out_json), "--csv", str(out_csv),
                 "--html", str(out_html))
    assert result.exit_code == 0, result.output  # only the warning is left: the gate passes at error
    new = json.loads(out_json.read_text())
    assert [f["finding_id"] for f in new["findings"]] == [f["finding_id"] for f in doc["findings"]
                                                         if f["severity"] != "error"]
    assert new["summary"]["suppressed"] == len(errors)
    assert new["summary"]["findings"] == len(doc["findings"]) - len(errors)
    assert new["summary"]["charges_at_risk"] == 0
    assert [s["finding_id"] for s in new["suppressed"]] == [f["finding_id"] for f in errors]
    first = new["suppressed"][0]
    assert first["suppression"] == {"reason": "ok 0", "by": "J. Coder", "expires": FUTURE, "source": sup, "entry": 1}
    assert first["message"] == errors[0]["message"]  # the finding itself, in full
    table = pl.read_csv(out_csv)
    assert table.height == len(doc["findings"])
    waived = table.filter(pl.col("suppressed"))
    assert waived.get_column("finding_id").to_list() == [f["finding_id"] for f in errors]
    assert waived.get_column("suppression_reason")[0] == "ok 0" and waived.get_column("suppressed_by")[0] == "J. Coder"
    assert table.filter(~pl.col("suppressed")).get_column("suppression_reason").is_null().all()
    html = out_html.read_text(encoding="utf-8")
    section = re.search(r'<section class="card" id="suppressed">.*?</section>', html, re.S)
    assert section and f"Suppressed findings ({len(errors)})" in section.group(0)
    assert errors[0]["finding_id"] in section.group(0) and "ok 0" in section.group(0)


def test_expired_and_unmatched_entries_warn_on_stderr_in_json_and_html(tmp_path: Path) -> None:
    sup = write(tmp_path / "sup.toml", entry(id="0123456789ab") + entry(check="route-mismatch", expires="2020-01-01"))
    out = tmp_path / "r.html"
    result = run("check", SAMPLE, "--suppressions", sup, "--json", "-", "--html", str(out), "--fail-on", "never")
    warnings = result.stderr.splitlines()
    assert len(warnings) == 2, result.stderr
    assert warnings[0].startswith(f"scrub: warning: {sup}: entry 1 (id 0123456789ab) matches no finding")
    assert "entry 2 (check 'route-mismatch') expired on 2020-01-01" in warnings[1]
    doc = json.loads(result.stdout)
    assert [(w["entry"], w["source"]) for w in doc["suppression_warnings"]] == [(1, sup), (2, sup)]
    assert doc["suppressed"] == [] and any(f["check_id"] == "route-mismatch" for f in doc["findings"])
    assert "Suppression warnings (2)" in out.read_text(encoding="utf-8")


def test_baseline_write_then_gate_only_new_claims(tmp_path: Path, write_csv, monkeypatch) -> None:
    """The adoption workflow: baseline the backlog, then only a new claim's finding fails the gate."""
    monkeypatch.setenv("SCRUB_USER", "A. Auditor")
    baseline = tmp_path / "baseline.toml"
    first = run("check", SAMPLE, "--baseline-write", str(baseline), "--fail-on", "never", "-q")
    assert first.exit_code == 0 and first.output == ""
    text = baseline.read_text(encoding="utf-8")
    entries = SuppressionSet.load([str(baseline)], ALL).entries
    findings = scrub([SAMPLE]).findings
    assert [e.id for e in entries] == findings.get_column("finding_id").to_list()
    assert {e.reason for e in entries} == {"baseline: accepted on adoption"} and {e.by for e in entries} == {
        "A. Auditor"}
    assert {e.expires for e in entries} == {dt.date.today() + dt.timedelta(days=365)}
    assert "# PCN-2001:1 addon-without-primary 96366" in text  # a reviewer sees what each entry waives
    assert run("check", SAMPLE, "--suppressions", str(baseline)).exit_code == 0
    # A new claim with an add-on and no primary: its finding is new, so the gate fails on it alone.
    new = write_csv("""
    claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,units,charge,diagnosis_1
    NEW-1,1,M9,MEDICARE,11,2026-07-01,96366,1,100,D80.0
    """)
    both = run("check", SAMPLE, str(new), "--suppressions", str(baseline), "--json", "-")
    assert both.exit_code == 1
    assert [f["claim_id"] for f in json.loads(both.stdout)["findings"]] == ["NEW-1"]


def test_baseline_expiry_flag(tmp_path: Path) -> None:
    baseline = tmp_path / "b.toml"
    assert run("check", SAMPLE, "--baseline-write", str(baseline), "--baseline-expires", "2027-03-31",
               "--fail-on", "never", "-q").exit_code == 0
    assert "expires = 2027-03-31" in baseline.read_text() and "expires = 20" in baseline.read_text()
    bad = run("check", SAMPLE, "--baseline-write", str(baseline), "--baseline-expires", "next year")
    assert bad.exit_code == 2


def test_a_baseline_of_a_claim_id_with_a_control_character_reads_back(tmp_path: Path, monkeypatch) -> None:
    """The claim id goes into the comment above its entry; TOML forbids control characters there, so the
    baseline was written and then refused ("invalid character"); a blank SCRUB_USER wrote `by = "   "`,
    which the reader refuses too (probe J)."""
    from scrubber.cli import main

    header = (ROOT / "sample_claims" / "claims.csv").read_text(encoding="utf-8").splitlines()[0]
    claims = tmp_path / "claims.csv"
    claims.write_text(header + "\nPCN\x01-1,1,M1,AETNA,professional,11,2026-03-02,96366,,,,1,150.00,D80.0,,,,,IV,,,,,"
                      "1234567893,,,\n", encoding="utf-8")
    monkeypatch.setenv("SCRUB_USER", "   ")
    monkeypatch.setenv("USER", "reviewer")
    baseline = tmp_path / "baseline.toml"
    runner = CliRunner()
    first = runner.invoke(main, ["check", str(claims), "--no-config", "-q", "--baseline-write", str(baseline),
                                 "--fail-on", "never"])
    assert first.exit_code == 0, first.output
    assert 'by = "reviewer"' in baseline.read_text(encoding="utf-8")
    again = runner.invoke(main, ["check", str(claims), "--no-config", "--suppressions", str(baseline), "--json", "-"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.output)["findings"] == []
    # A DEL in the user name: JSON leaves it as it is, TOML refuses it in a string (probe 17B).
    monkeypatch.setenv("SCRUB_USER", "re\x7fviewer")
    assert runner.invoke(main, ["check", str(claims), "--no-config", "-q", "--baseline-write", str(baseline),
                                "--fail-on", "never"]).exit_code == 0
    again = runner.invoke(main, ["check", str(claims), "--no-config", "--suppressions", str(baseline), "--json", "-"])
    assert again.exit_code == 0, again.output


def test_a_waiver_of_a_check_not_run_is_not_called_stale(tmp_path: Path) -> None:
    """With --ignore (or --select) leaving a check out, its still-valid waiver matched nothing and was told
    "fixed, or no longer found? delete it"; the finding was not fixed, the check did not run."""
    sup = write(tmp_path / "sup.toml", entry(check="addon-without-primary", claim="PCN-1*")
                + entry(id="0123456789ab"))
    result = run("check", SAMPLE, "--suppressions", sup, "--ignore", "addon-without-primary", "--json", "-",
                 "--fail-on", "never")
    warnings = [w for w in result.stderr.splitlines() if "warning" in w]
    assert len(warnings) == 1, result.stderr  # the id entry only, and not told to delete
    assert "entry 2 (id 0123456789ab) matches no finding of the checks that ran" in warnings[0]
    assert "addon-without-primary, not run in this scrub" in warnings[0] and "delete it" not in warnings[0]
    # Near miss: with every check run, the unmatched id entry is stale as before.
    result = run("check", SAMPLE, "--suppressions", sup, "--json", "-", "--fail-on", "never")
    assert "entry 2 (id 0123456789ab) matches no finding (fixed, or no longer found? delete it)" in result.stderr


def test_a_waiver_shadowed_by_an_earlier_one_is_not_called_stale(tmp_path: Path) -> None:
    """Probe 20B: entry 2 (route-mismatch on claim PCN-2006, expiring later) matches a finding entry 1
    (every route-mismatch, expiring sooner) suppresses first: it was told "matches no finding ... delete
    it", and deleting it would bring the finding back when entry 1 expires. The same file given twice
    told every entry of its second copy so. Near miss: an entry matching nothing is still stale."""
    soon = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    sup = write(tmp_path / "sup.toml", entry(check="route-mismatch", expires=soon)
                + entry(check="route-mismatch", claim="PCN-2006")
                + entry(check="route-mismatch", claim="NO-SUCH-CLAIM"))
    result = run("check", SAMPLE, "--suppressions", sup, "--suppressions", sup, "--json", "-", "--fail-on", "never")
    warnings = [w for w in result.stderr.splitlines() if "warning" in w]
    assert len(warnings) == 2, result.stderr
    assert "entry 2 (check 'route-mismatch', claim 'PCN-2006') matches only findings that entry 1 " \
           "(check 'route-mismatch')" in warnings[0] and "delete it" not in warnings[0]
    assert "it applies once that one expires or is removed" in warnings[0]
    assert "entry 3 (check 'route-mismatch', claim 'NO-SUCH-CLAIM') matches no finding (fixed, or no longer " \
           "found? delete it)" in warnings[1]
    # Shadowed by an entry lasting as long, it never applies: said so (review 20D).
    sup = write(tmp_path / "sup2.toml", entry(check="route-mismatch") + entry(check="route-mismatch", claim="PCN-2006"))
    result = run("check", SAMPLE, "--suppressions", sup, "--json", "-", "--fail-on", "never")
    assert "that one lasts as long, so this one never applies (delete it, or put it first)" in result.stderr


def test_a_wildcard_beside_a_check_or_another_pattern_is_a_waiver_of_those(tmp_path: Path, sample) -> None:
    """Near miss of the match-all refusal (probe 28C B6): member = "*" beside a check waives that check's
    findings, and beside a claim pattern that claim's."""
    f = sample.findings
    check = f.get_column("check_id").to_list()[0]
    by_check = apply(f, suppress(tmp_path, entry(check=check, member="*")))
    assert by_check.suppressed.height == f.filter(pl.col("check_id") == check).height
