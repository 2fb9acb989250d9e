"""Appeal letters argue only for lines that stand as billed.

A justification (units over an MAI 3 MUE, a covered diagnosis the record documents) is appealed with
the record. A line another finding corrects or deletes is not (MU7: 96367 x5 with no primary, also
over its MUE: the letter asked to pay "1 denied unit" of a line it listed as corrected, "$0.00 in
question"), and an info finding, whose line declares the expected denial (GA/GZ/GY), is not either.
"""

from __future__ import annotations

from pathlib import Path

from scrubber.engine import scrub
from scrubber.output.letters import letters_payload

HEADER = ("claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,modifier_1,units,"
          "charge,diagnosis_1")
ROWS = [
    # 96367 x5, no primary: addon-without-primary corrects it (units-over-mue's MAI 3 part was appealed).
    "MU7,1,MMU7,MEDICARE,11,2026-03-02,96367,,5,100,D80.0",
    # A second 96365 with XS over the MUE of 1, nothing else wrong: appealed with the record of the site.
    "XS1,1,MXS1,MEDICARE,11,2026-03-02,96365,,1,300,D80.0",
    "XS1,2,MXS1,MEDICARE,11,2026-03-02,96365,XS,1,300,D80.0",
    # Home SCIG without JZ (a modifier to add) and no diagnosis on the line: the coverage justification
    # stands beside missing-modifier's correction, which leaves the service standing. (Its missing KX is
    # the coverage finding's: GA or GZ, the criteria not met on the claim.)
    "KX1,1,MKX1,MEDICARE,12,2026-05-01,96369,,1,300,",
    "KX1,2,MKX1,MEDICARE,12,2026-05-01,J1559,,80,4000,",
    # Home IVIG for CIDP with GY: the provider declared no benefit; the info finding is not appealed.
    "GY1,1,MGY1,MEDICARE,12,2026-03-02,J1459,GY,70,6650,G61.81",
]


def _letters(tmp_path: Path) -> dict[str, dict]:
    path = tmp_path / "claims.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    result = scrub([str(path)])
    found = result.findings.filter(result.findings["claim_id"] == "MU7")
    # (units-over-mue leaves an add-on with no primary to addon-without-primary now: one root cause)
    assert set(found.get_column("check_id")) == {"addon-without-primary"}  # the premises
    gy = result.findings.filter(result.findings["claim_id"] == "GY1")
    assert ("info", "justification") in gy.select("severity", "fix_kind").rows()
    return {letter["claim_id"]: letter for letter in letters_payload(result)}


def test_a_corrected_line_gets_no_appeal(tmp_path: Path) -> None:
    letters = _letters(tmp_path)
    assert "MU7" not in letters


def test_a_line_whose_correction_is_a_modifier_is_still_appealed(tmp_path: Path) -> None:
    letter = _letters(tmp_path)["KX1"]
    assert ("noncovered-diagnosis", 2) in [(x["check_id"], x["line_number"]) for x in letter["justified"]]
    assert ("missing-modifier", 2) in [(x["check_id"], x["line_number"]) for x in letter["corrected"]]


def test_an_info_finding_gets_no_appeal(tmp_path: Path) -> None:
    assert "GY1" not in _letters(tmp_path)


def test_a_line_that_stands_is_appealed(tmp_path: Path) -> None:
    letter = _letters(tmp_path)["XS1"]
    assert [(x["check_id"], x["line_number"]) for x in letter["justified"]] == [("units-over-mue", 2)]
    # The MUE denies every 96365 unit of the claim until the appeal is decided: both lines' $300.
    assert letter["at_risk"] == 600.0


def test_the_amount_in_question_is_at_least_the_lines_argued_for(tmp_path: Path) -> None:
    """J1459 x320 without JZ, over its MUE of 300 (MAI 3): missing-modifier's correction takes the line's
    money first, and the letter appealing the MUE said "Amount in question $0.00" for a $30,400 line
    (probe Y). Near miss XS1: the MUE's own amount (both 96365 lines, $600) stays."""
    path = tmp_path / "claims.csv"
    path.write_text("\n".join([HEADER,
                               "L12,1,ML12,MEDICARE,11,2026-03-02,96365,,1,350,D80.0",
                               "L12,2,ML12,MEDICARE,11,2026-03-02,J1459,,320,30400,D80.0",
                               *[r for r in ROWS if r.startswith("XS1")]]) + "\n", encoding="utf-8")
    letters = {x["claim_id"]: x for x in letters_payload(scrub([str(path)]))}
    assert letters["L12"]["at_risk"] == 30400.0
    assert letters["XS1"]["at_risk"] == 600.0



def test_letters_of_an_earlier_run_do_not_stay_beside_this_runs(tmp_path: Path) -> None:
    """A masked run into a folder an unmasked run had filled left the old letters, real claim ids in
    their names and text, beside an index saying '0 claim(s)' (probe 15B). Only this tool's letter
    files go; anything else in the folder stays."""
    from click.testing import CliRunner

    from scrubber.cli import main

    claims = tmp_path / "claims.csv"
    claims.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    folder = tmp_path / "letters"
    first = CliRunner().invoke(main, ["check", str(claims), "--no-config", "--fail-on", "never",
                                      "--letters", str(folder)])
    assert first.exit_code == 0, first.output
    old = sorted(p.name for p in folder.glob("appeal-*.html"))
    assert old
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    clean = tmp_path / "clean.csv"
    clean.write_text(HEADER + "\nOK1,1,MOK1,MEDICARE,11,2026-03-02,96365,,1,300,D80.0\n", encoding="utf-8")
    second = CliRunner().invoke(main, ["check", str(clean), "--no-config", "--fail-on", "never", "--mask-phi",
                                       "--letters", str(folder)])
    assert second.exit_code == 0, second.output
    assert sorted(p.name for p in folder.iterdir()) == ["index.html", "notes.txt"]
    assert f"removed {len(old)} letter(s) of an earlier run" in second.stderr
    # Near miss: the same run again rewrites its letters and removes none.
    again = CliRunner().invoke(main, ["check", str(claims), "--no-config", "--fail-on", "never",
                                      "--letters", str(folder)])
    assert "removed" not in again.stderr and sorted(p.name for p in folder.glob("appeal-*.html")) == old


def test_the_report_counts_the_claims_to_justify_that_get_a_letter(tmp_path: Path) -> None:
    # The HTML said "Send justification: 3 claim(s)", counting the info-only GY claim and the claim whose
    # only justification sits on a corrected line, where --letters writes two letters (probe 16D).
    from scrubber.output.html_report import build_context

    path = tmp_path / "claims.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    result = scrub([str(path)])
    letters = {letter["claim_id"] for letter in letters_payload(result)}
    assert letters == {"XS1", "KX1"}
    assert build_context(result)["to_send"]["justify"] == len(letters)


def test_a_line_argued_for_without_a_charge_asks_for_it(tmp_path: Path) -> None:
    # "Amount in question $0.00" for a claim that gave no charge on the line argued for (probe 16D): the
    # amount is a fact to fill in, marked as the other missing facts are. Near miss: XS1 gave its charges.
    from scrubber.output.letters import render_letters

    rows = [*ROWS, "XS2,1,MXS2,MEDICARE,11,2026-03-02,96365,,1,300,D80.0",
            "XS2,2,MXS2,MEDICARE,11,2026-03-02,96365,XS,1,,D80.0"]
    path = tmp_path / "claims.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    result = scrub([str(path)])
    letters = {letter["claim_id"]: letter for letter in letters_payload(result)}
    assert letters["XS2"]["amount_shown"] == "$300.00 and [charge of line 2?]"
    assert letters["XS1"]["amount_shown"] == "$600.00"
    page = render_letters(result)[letters["XS2"]["file"]]
    assert '<mark class="ph">[charge of line 2?]</mark>' in page


def test_a_drug_line_whose_route_finding_recodes_the_push_is_still_appealed(tmp_path: Path) -> None:
    """J1459 x400 with a 96374: route-mismatch (immune globulin is never pushed) sits on the drug line
    but recodes the push line; the drug line stands, and its MAI 3 MUE justification was left without
    a letter (probe 19C). Near miss: the same drug billed with 96367 and no primary (its own line
    recoded) is still no letter's (test_a_corrected_line_gets_no_appeal)."""
    path = tmp_path / "claims.csv"
    path.write_text(
        "claim_id,line_number,member_id,payer,claim_type,place_of_service,date_of_service,procedure_code,"
        "revenue_code,modifier_1,units,charge,diagnosis_1,drug_dose_mg,drug_wasted_mg\n"
        "H303,1,M303,MEDICARE,institutional,22,2026-03-10,96374,0260,,1,210,D83.9,,\n"
        "H303,2,M303,MEDICARE,institutional,22,2026-03-10,J1459,0636,JZ,400,38000,D83.9,200000,0\n",
        encoding="utf-8")
    result = scrub([str(path)])
    assert ("route-mismatch", "ig_as_push", 2) in result.findings.select("check_id", "reason", "line_number").rows()
    letter = {x["claim_id"]: x for x in letters_payload(result)}["H303"]
    assert [(x["check_id"], x["line_number"]) for x in letter["justified"]] == [("units-over-mue", 2)]
    assert all(x["line_number"] != 2 for x in letter["corrected"])


def test_a_letters_folder_named_as_another_outputs_file_is_refused_before_anything_is_made(tmp_path: Path) -> None:
    """Probe 28C D7: --html X --letters X made the folder X, then refused the report "it is a folder;
    nothing was written", and the next run's --html X found a folder. Refused up front, nothing made.
    Near miss: the letters beside the report, in a folder of their own, are written."""
    from click.testing import CliRunner

    from scrubber.cli import main

    claims = tmp_path / "claims.csv"
    claims.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    for option in ("--html", "--json"):
        same = CliRunner().invoke(main, ["check", str(claims), "--no-config", "--fail-on", "never",
                                         option, str(out / "r.html"), "--letters", str(out / "r.html")])
        assert same.exit_code == 2 and f"{option} and --letters both write" in same.output, same.output
        assert not (out / "r.html").exists()
    apart = CliRunner().invoke(main, ["check", str(claims), "--no-config", "--fail-on", "never",
                                      "--html", str(out / "r.html"), "--letters", str(out / "letters")])
    assert apart.exit_code == 0, apart.output
    assert (out / "r.html").is_file() and any((out / "letters").glob("appeal-*.html"))
