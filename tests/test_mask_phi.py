"""--mask-phi: member and claim ids pseudonymised consistently in every output (JSON, CSV, HTML, terminal,
rejected rows, baseline), file names and quoted values hidden; the findings themselves unchanged."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
from click.testing import CliRunner
from conftest import ROOT

from scrubber.cli import main
from scrubber.engine import scrub
from scrubber.masking import Masker, Pseudonyms, TextMasker, mask_quoted, mask_result

SAMPLE = ROOT / "sample_claims" / "claims.csv"
HEADER = ("claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,units,charge,"
          "diagnosis_1")
# Claim ids embed the member id (as many billing systems do); a rejected row quotes values; two
# lines of one claim disagree on the member; a member id is a prefix of another (M10 / M100).
CLAIMS = HEADER + """
SMITHJ-MBR4471-01,1,MBR4471,MEDICARE,11,2026-03-02,96366,1,100,D80.0
SMITHJ-MBR4471-01,2,MBR4471,MEDICARE,11,2026-03-02,96365,x,310,D80.0
DUP-9,1,MX1234567,MEDICARE,11,2026-02-10,96365,1,250.00,D80.0
DUP-9,2,MY7654321,MEDICARE,11,2026-02-10,96366,1,120.00,D80.0
P10,1,M10,MEDICARE,11,2026-04-01,96369,1,200,D80.0
P10,2,M10,MEDICARE,11,2026-04-01,96371,2,200,D80.0
P100,1,M100,MEDICARE,11,2026-04-01,96366,1,100,D80.0
"""
SECRETS = ("SMITHJ", "MBR4471", "MX1234567", "MY7654321", "M10", "M100", "P10", "P100", "DUP-9", "jsmith_claims")


def write_claims(tmp_path: Path) -> Path:
    path = tmp_path / "jsmith_claims.csv"
    path.write_text(CLAIMS, encoding="utf-8")
    return path


def tokens(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z0-9_\-]+", text))


def test_every_output_is_masked(tmp_path: Path, monkeypatch) -> None:
    claims = write_claims(tmp_path)
    outs = {k: tmp_path / f"out.{k}" for k in ("json", "csv", "html")}
    rejected = tmp_path / "rejected.csv"
    result = CliRunner().invoke(main, ["check", str(claims), "--mask-phi", "--json", str(outs["json"]), "--csv",
                                       str(outs["csv"]), "--html", str(outs["html"]), "--rejected", str(rejected),
                                       "--fail-on", "never"])
    assert result.exit_code == 0, result.output
    terminal = CliRunner().invoke(main, ["check", str(claims), "--mask-phi", "--fail-on", "never"])
    assert terminal.exit_code == 0, terminal.output
    texts = {name: path.read_text(encoding="utf-8") for name, path in outs.items()}
    texts |= {"rejected": rejected.read_text(), "terminal": terminal.stdout, "stderr": result.stderr}
    for name, text in texts.items():
        leaked = [s for s in SECRETS if s in tokens(text) or (len(s) > 3 and s in text)]
        assert not leaked, (name, leaked)
    doc = json.loads(texts["json"])
    # Pseudonyms are consistent within the run: the same claim id in JSON, CSV, rejected rows, HTML.
    claim_ids = {f["claim_id"] for f in doc["findings"]} | {r["claim_id"] for r in doc["rejected_rows"]}
    assert all(re.fullmatch(r"C-[0-9a-f]{6,}", c) for c in claim_ids), claim_ids
    csv_claims = set(pl.read_csv(outs["csv"]).get_column("claim_id"))
    assert csv_claims <= claim_ids and set(pl.read_csv(rejected).get_column("claim_id")) <= claim_ids
    assert all(c in texts["html"] for c in claim_ids)
    members = {f["member_id"] for f in doc["findings"]}
    assert all(re.fullmatch(r"M-[0-9a-f]{6,}", m) for m in members)
    over_cap = next(f for f in doc["findings"] if f["check_id"] == "over-cap-96371")
    assert f"member {over_cap['member_id']} on" in over_cap["message"]  # the text quotes the same pseudonym
    assert doc["provenance"]["inputs"] == ["input-1.csv"] and {f["source"] for f in doc["findings"]} == {"input-1.csv"}
    reasons = [r["reason"] for r in doc["rejected_rows"]]
    assert any("unparseable units '[masked]'" in r for r in reasons)
    assert any("disagree on member_id ([masked])" in r for r in reasons)
    # What the findings are about is not masked: codes, dates, charges.
    unmasked = json.loads(CliRunner().invoke(main, ["check", str(claims), "--json", "-", "--fail-on", "never"]).stdout)
    assert [(f["procedure_code"], f["date_of_service"], f["charge"]) for f in doc["findings"]] == [
        (f["procedure_code"], f["date_of_service"], f["charge"]) for f in unmasked["findings"]]
    assert "ids pseudonymised" in texts["html"]
    # The finding ids are keyed with the run's key (probe 17B: the real ones, plain hashes of the claim id
    # and of what each finding shows beside it, gave the claim ids back to a guess): the same 12 hex
    # characters, one per finding, the same id in every output of the run, none of them a real one.
    masked_ids = [f["finding_id"] for f in doc["findings"]]
    real_ids = {f["finding_id"] for f in unmasked["findings"]}
    assert all(re.fullmatch(r"[0-9a-f]{12}", i) for i in masked_ids) and len(set(masked_ids)) == len(masked_ids)
    assert not set(masked_ids) & real_ids and len(masked_ids) == len(real_ids)
    assert set(pl.read_csv(outs["csv"]).get_column("finding_id")) <= set(masked_ids)
    assert doc["provenance"]["masked"] is True and "masked" not in unmasked["provenance"]


def test_a_masked_findings_file_is_no_baseline_and_no_diff_side(tmp_path: Path) -> None:
    """A baseline names the real ids (the next run matches them), which give the claim ids back: refused
    with --mask-phi. A masked findings file's ids match no other run: diff and --compare refuse it
    rather than call every finding new and fixed. Near miss: unmasked files compare as before."""
    claims = write_claims(tmp_path)
    refused = CliRunner().invoke(main, ["check", str(claims), "--mask-phi", "--baseline-write",
                                        str(tmp_path / "b.toml"), "--fail-on", "never"])
    assert refused.exit_code == 2 and "--baseline-write cannot be used with --mask-phi" in refused.stderr
    assert not (tmp_path / "b.toml").exists()
    masked, plain = tmp_path / "masked.json", tmp_path / "plain.json"
    for path, extra in ((masked, ["--mask-phi"]), (plain, [])):
        assert CliRunner().invoke(main, ["check", str(claims), *extra, "--json", str(path), "--fail-on",
                                         "never"]).exit_code == 0
    diff = CliRunner().invoke(main, ["diff", str(masked), str(plain)])
    assert diff.exit_code == 2 and "written with --mask-phi" in diff.stderr
    compare = CliRunner().invoke(main, ["check", str(claims), "--compare", str(masked), "--fail-on", "never"])
    assert compare.exit_code == 2 and "written with --mask-phi" in compare.stderr
    assert CliRunner().invoke(main, ["diff", str(plain), str(plain)]).exit_code == 0


def test_pseudonyms_differ_between_runs_but_not_within_one() -> None:
    a, b = Pseudonyms(), Pseudonyms()
    values = pl.Series(["M1", "M2", "M1"])
    ta, tb = a.table(values, "M-"), b.table(values, "M-")
    assert ta.height == 2 and ta.get_column("pseudonym").n_unique() == 2
    assert ta.get_column("pseudonym").to_list() != tb.get_column("pseudonym").to_list()
    assert a.table(values, "M-").equals(ta)


def test_pseudonyms_lengthen_rather_than_collide() -> None:
    values = pl.Series([f"M{i}" for i in range(20_000)])  # 6 hex characters would collide here
    table = Pseudonyms(b"k" * 32).table(values, "M-")
    assert table.get_column("pseudonym").n_unique() == 20_000
    assert table.get_column("pseudonym").str.len_chars().min() > 2 + 6


def test_text_is_masked_word_by_word() -> None:
    words = pl.DataFrame({"value": ["M10", "C 1", "a/b.csv"], "pseudonym": ["M-aa", "C-bb", "input-1.csv"]})
    masker = TextMasker(words, {"C 1": "C-bb"})
    texts = pl.Series(["member M10 and M100 (claim C 1, line 2) in a/b.csv.", "M10.", "(M10)", "XM10", None])
    assert masker.series(texts).to_list() == [
        "member M-aa and M100 (claim C-bb, line 2) in input-1.csv.", "M-aa.", "(M-aa)", "XM10", None]


def test_quoted_values_never_leak_whatever_they_hold() -> None:
    reasons = pl.Series([
        "unparseable units 'x' (expected a number); unparseable charge 'y' (expected a number)",
        "unparseable charge 'a; b' (expected a number)",  # the value holds the separator
        "malformed modifier 'O'Brien'",  # the value holds a quote
        'diagnosis pointer "it\'s" is not a whole number',  # repr() chose double quotes
        "missing required value member_id",
    ])
    masked = pl.select(mask_quoted(pl.lit(reasons))).to_series().to_list()
    assert masked[0] == ("unparseable units '[masked]' (expected a number); unparseable charge '[masked]' "
                         "(expected a number)")
    assert masked[4] == "missing required value member_id"
    for original, text in zip(reasons.to_list(), masked, strict=True):
        for secret in ("x'", "'y", "a; b", "Brien", "it's"):
            if secret in original:
                assert secret not in text, text


def test_masker_covers_an_earlier_runs_findings_consistently(tmp_path: Path) -> None:
    result = scrub([str(SAMPLE)])
    old = result.findings.head(3).with_columns(pl.lit("GONE-1").alias("claim_id"))
    masker = Masker(result, extra=[old])
    shown = masker.result()
    first = result.findings.get_column("claim_id")[0]
    masked_first = shown.findings.get_column("claim_id")[0]
    assert masker.frame(result.findings.head(1)).get_column("claim_id")[0] == masked_first != first
    assert masker.frame(old).get_column("claim_id").str.starts_with("C-").all()
    assert mask_result(result).findings.get_column("claim_id")[0] != masked_first  # another run, another key


def test_compare_under_mask_phi_masks_the_old_runs_fixed_findings(tmp_path: Path) -> None:
    old = tmp_path / "old.json"
    doc = json.loads(CliRunner().invoke(main, ["check", str(SAMPLE), "--json", "-", "--fail-on", "never"]).stdout)
    doc["findings"].append({**doc["findings"][0], "finding_id": "0123456789ab", "claim_id": "FIXED-CLAIM-77",
                            "message": "about FIXED-CLAIM-77"})
    old.write_text(json.dumps(doc))
    result = CliRunner().invoke(main, ["check", str(SAMPLE), "--compare", str(old), "--mask-phi", "--json", "-",
                                       "--fail-on", "never"])
    assert result.exit_code == 0, result.output
    assert "FIXED-CLAIM-77" not in result.stdout
    (fixed,) = json.loads(result.stdout)["compare"]["fixed_findings"]
    assert fixed["claim_id"].startswith("C-") and fixed["message"] == f"about {fixed['claim_id']}"


def test_compare_under_mask_phi_masks_ids_an_old_message_quotes(tmp_path: Path) -> None:
    """Probe 20B: a fixed finding's message quoted "claim PCN-1305", a claim with no finding of its own and
    not in this run: no id table knew it, and it was shown as written. The cards quote ids after "claim",
    "member" and "payer claim number" (an id without a digit too: review 20D). Near miss: the lower-case
    words the cards write after "claim" stay words."""
    old = tmp_path / "old.json"
    doc = json.loads(CliRunner().invoke(main, ["check", str(SAMPLE), "--json", "-", "--fail-on", "never"]).stdout)
    doc["findings"].append({**doc["findings"][0], "finding_id": "0123456789ab", "claim_id": "GONE-1",
                            "message": "billed again; it is already billed on claim QUOTED-905, line 2, for member "
                                       "ADAMSJANE (payer claim number PCN88); see the claim number"})
    old.write_text(json.dumps(doc))
    result = CliRunner().invoke(main, ["check", str(SAMPLE), "--compare", str(old), "--mask-phi", "--json", "-",
                                       "--fail-on", "never"])
    assert result.exit_code == 0, result.output
    for real in ("GONE-1", "QUOTED-905", "ADAMSJANE", "PCN88"):
        assert real not in result.stdout, real
    (fixed,) = json.loads(result.stdout)["compare"]["fixed_findings"]
    assert re.fullmatch(r"billed again; it is already billed on claim C-\w+, line 2, for member M-\w+ \(payer claim "
                        r"number N-\w+\); see the claim number", fixed["message"]), fixed["message"]


def test_the_names_of_policy_suppressions_and_compare_files_are_masked(tmp_path: Path) -> None:
    """A settings file named after a patient (DOE_JANE_policy.toml) was named in the JSON, the HTML and
    on stderr under --mask-phi (probe J): it becomes policy-1.toml, suppressions-1.toml, compared.json."""
    folder = tmp_path / "DOE_JANE"
    folder.mkdir()
    old = folder / "DOE_JANE_findings.json"
    runner = CliRunner()
    runner.invoke(main, ["check", str(SAMPLE), "--no-config", "-q", "--json", str(old), "--fail-on", "never"])
    supp = folder / "DOE_JANE_supp.toml"
    supp.write_text((ROOT / "sample_claims" / "suppressions.toml").read_text(encoding="utf-8"), encoding="utf-8")
    policy = folder / "DOE_JANE_policy.toml"
    policy.write_text('name = "ACME"\nextends = "DEFAULT"\npayers = ["ACME"]\n', encoding="utf-8")
    out, html = tmp_path / "m.json", tmp_path / "m.html"
    result = runner.invoke(main, ["check", str(SAMPLE), "--no-config", "--mask-phi", "--compare", str(old),
                                  "--suppressions", str(supp), "--policy", str(policy), "--json", str(out),
                                  "--html", str(html), "--fail-on", "never"])
    assert result.exit_code == 0, result.output
    for text in (out.read_text(encoding="utf-8"), html.read_text(encoding="utf-8"), result.output):
        assert "DOE_JANE" not in text
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["compare"]["old"] == "compared.json"
    assert doc["provenance"]["policy_files"] == ["policy-1.toml"]
    assert {f["suppression"]["source"] for f in doc["suppressed"]} == {"suppressions-1.toml"}


def test_near_miss_without_mask_phi_settings_files_are_named(tmp_path: Path) -> None:
    policy = tmp_path / "acme_policy.toml"
    policy.write_text('name = "ACME"\nextends = "DEFAULT"\npayers = ["ACME"]\n', encoding="utf-8")
    out = tmp_path / "m.json"
    CliRunner().invoke(main, ["check", str(SAMPLE), "--no-config", "--policy", str(policy), "--json", str(out),
                              "--fail-on", "never"])
    assert json.loads(out.read_text(encoding="utf-8"))["provenance"]["policy_files"] == [str(policy)]


def test_masking_a_reason_hides_its_value_and_keeps_its_words() -> None:
    """--mask-phi masks a reason from its first quote to its last: a possessive apostrophe ("the two
    claims' lines ... this claim's lines") or quoted separators hid the sentence between them (probe 15B)."""
    import polars as pl

    from scrubber.loaders.x12_loader import _foreign_separator
    from scrubber.masking import mask_quoted

    reason = _foreign_separator("CLM", "CLM05", "11>B>1", ":")
    masked = pl.select(mask_quoted(pl.lit(reason))).item()
    assert "11>B>1" not in masked
    assert masked == ("CLM CLM05 '[masked]' separates its components with the character >, but ISA16 declares "
                      "the character : as the component separator")


def test_suppression_warnings_of_a_masked_run_do_not_quote_finding_ids(tmp_path: Path) -> None:
    """An entry's id is a real finding id (or its first characters): quoted beside the finding it
    matched, it gave the claim id back as the finding's own id did (probe 17D). Near miss: unmasked, the
    warning names the id the user wrote."""
    claims = write_claims(tmp_path)
    plain = json.loads(CliRunner().invoke(main, ["check", str(claims), "--json", "-", "--fail-on", "never"]).stdout)
    real = plain["findings"][0]["finding_id"]
    sup = tmp_path / "sup.toml"
    sup.write_text(f'[[suppress]]\nid = "{real}"\nreason = "old"\nby = "J. Coder"\nexpires = "2020-01-01"\n',
                   encoding="utf-8")
    masked = CliRunner().invoke(main, ["check", str(claims), "--mask-phi", "--suppressions", str(sup), "--json", "-",
                                       "--fail-on", "never"])
    doc = json.loads(masked.stdout)
    problems = [w["problem"] for w in doc["suppression_warnings"]]
    assert problems and all("(id [masked])" in p for p in problems)
    assert real not in masked.stdout + masked.stderr
    unmasked = CliRunner().invoke(main, ["check", str(claims), "--suppressions", str(sup), "--json", "-",
                                         "--fail-on", "never"])
    assert f"(id {real})" in unmasked.stdout


def test_a_claim_id_longer_than_one_quoted_value_is_masked_in_its_cut_form(tmp_path: Path) -> None:
    """A 300-character claim id is quoted cut at 200 characters in the words ("C...C... (300 characters)"):
    the masker matched the whole id only, so the first 200 characters were shown (probe 18D). Near
    miss: an id of 200 characters is quoted and masked whole."""
    long_id, short_id = "C" * 300, "D" * 200
    rows = ["claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,units,charge,"
            "diagnosis_1,payer_claim_number"]
    rows += [f"{cid},1,M1,MEDICARE,11,2026-02-10,96366,1,100,D80.0,PCN1" for cid in (long_id, short_id)]
    path = tmp_path / "claims.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "out.json"
    result = CliRunner().invoke(main, ["check", str(path), "--json", str(out), "--mask-phi", "--fail-on", "never"])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "C" * 20 not in text and "D" * 20 not in text
    assert len(json.loads(text)["findings"]) == 2


def test_a_rejected_rows_line_number_that_is_no_number_is_masked_in_every_output(tmp_path: Path) -> None:
    """An export that shifts the member id into line_number: the reason quoted it masked, the rejected
    row's line_number column beside it showed it (probe 19B: JSON, HTML and --rejected). Near miss: a
    rejected row's plain line number (2) stays readable."""
    path = tmp_path / "claims.csv"
    path.write_text(
        "claim_id,line_number,member_id,payer,date_of_service,procedure_code,units\n"
        "C-OK,1,MEMBER-OK,MEDICARE,2026-03-02,96365,1\n"
        "C-OK,2,MEMBER-OK,MEDICARE,2026-03-02,96366,x\n"
        "PCN-77123,1EG4TE5MK72,1EG4TE5MK72,MEDICARE,2026-03-02,96365,1\n"
        "C-NONE,,MEMBER-OK,MEDICARE,2026-03-02,96365,1\n", encoding="utf-8")
    out, rejected, html = tmp_path / "f.json", tmp_path / "rej.csv", tmp_path / "r.html"
    result = CliRunner().invoke(main, ["check", str(path), "--mask-phi", "--no-config", "--fail-on", "never",
                                       "--json", str(out), "--rejected", str(rejected), "--html", str(html)])
    assert result.exit_code == 0, result.output
    for text in (out.read_text(encoding="utf-8"), rejected.read_text(encoding="utf-8"),
                 html.read_text(encoding="utf-8"), result.output):
        assert "1EG4TE5MK72" not in text
    numbers = sorted(str(r["line_number"]) for r in json.loads(out.read_text(encoding="utf-8"))["rejected_rows"])
    # (a rejected row without a line number stays without one)
    assert numbers == ["2", "None", "[masked]"]


def test_a_rejected_x12_lines_location_masks_an_lx_that_is_no_line_number(tmp_path: Path) -> None:
    """Probe 20B: LX01 holding a name ("LX*SMITHSON") was masked in the rejected row's line_number and
    reason but quoted in its location ("segment 25 (claim C-..., LX SMITHSON)"). Near miss: the
    location of a row with a numeric LX keeps it."""
    text = (ROOT / "sample_claims" / "claims.837").read_text(encoding="utf-8")
    path = tmp_path / "claims.837"
    path.write_text(text.replace("LX*2~", "LX*SMITH (JOHN)~", 1), encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(path), "--no-config", "--mask-phi", "--json", "-",
                                       "--fail-on", "never"])
    assert "SMITH" not in result.stdout and "JOHN" not in result.stdout  # (a parenthesis in it too: review 20D)
    (rejected,) = [r for r in json.loads(result.stdout)["rejected_rows"] if "line_number" in r["reason"]]
    assert rejected["location"].endswith(", LX [masked])"), rejected["location"]
    path.write_text(text.replace("LX*2~", "LX*2~SV1*BAD~", 1), encoding="utf-8")
    other = json.loads(CliRunner().invoke(main, ["check", str(path), "--no-config", "--mask-phi", "--json", "-",
                                                 "--fail-on", "never"]).stdout)["rejected_rows"]
    assert other and all(not r["location"].endswith("[masked])") for r in other), other


def test_a_findings_file_whose_masked_mark_is_no_boolean_is_refused(tmp_path: Path) -> None:
    """A hand-edited ``"masked": "yes"`` was read as unmasked and compared (probe 23H B4): refused,
    naming the value. Near miss: ``"masked": false`` is an unmasked file."""
    claims = write_claims(tmp_path)
    plain = tmp_path / "plain.json"
    assert CliRunner().invoke(main, ["check", str(claims), "--json", str(plain), "--fail-on", "never"]).exit_code == 0
    doc = json.loads(plain.read_text())
    for value, refused in (("yes", True), (1, True), (False, False)):
        edited = tmp_path / "edited.json"
        edited.write_text(json.dumps({**doc, "provenance": {**doc["provenance"], "masked": value}}))
        diff = CliRunner().invoke(main, ["diff", str(edited), str(plain)])
        if refused:
            assert diff.exit_code == 2 and f"provenance.masked is {json.dumps(value)}" in diff.stderr, value
        else:
            assert diff.exit_code == 0, diff.output
