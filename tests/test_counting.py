"""The encounter-counting checks together: one root cause gives one finding in a full run, each check
gives the same findings alone (--select), policy caps and the NCCI E/M switch are enforced or refused,
and a newer CMS quarter loads from SCRUBBER_REFERENCE_DIR (and is reported)."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from scrubber import reference
from scrubber.cli import main
from scrubber.engine import scrub
from scrubber.errors import InputError, PolicyError
from scrubber.policy import PolicySet

COUNTING = ["duplicate-initial-infusion", "over-cap-96371", "units-over-mue", "ncci-ptp-conflict"]
HEADER = "claim_id,line_number,member_id,payer,claim_type,place_of_service,date_of_service,procedure_code,modifier_1," \
         "units,charge,diagnosis_1\n"
# One claim per root cause; the check that owns it, and the line.
BATCH = HEADER + """\
R1,1,M1,MEDICARE,,11,2026-03-02,96365,,3,900,D80.0
R2,1,M2,MEDICARE,,11,2026-03-02,96369,,1,200,D80.0
R2,2,M2,MEDICARE,,11,2026-03-02,96371,,2,200,D80.0
R3,1,M3,AETNA,,11,2026-03-02,96365,,1,300,D69.3
R3,2,M3,AETNA,,11,2026-03-02,96374,,1,90,D69.3
R4,1,M4,MEDICARE,,11,2026-03-02,96365,,1,300,D80.0
R4,2,M4,MEDICARE,,11,2026-03-02,96365,XS,1,300,D80.0
R5,1,M5,MEDICARE,,11,2026-03-02,96413,,1,400,C50.911
R5,2,M5,MEDICARE,,11,2026-03-02,96409,,2,400,C50.911
R6,1,M6,MEDICARE,,11,2026-03-02,99213,,1,100,D80.0
R6,2,M6,MEDICARE,,11,2026-03-02,96365,,1,300,D80.0
R6,3,M6,MEDICARE,,11,2026-03-02,96366,,9,1080,D80.0
"""
OWNER = {
    ("R1", 1): ["duplicate-initial-infusion"],  # 96365 x3: 2 extra initial units, not also 2 over the MUE of 1
    ("R2", 2): ["over-cap-96371"],  # 96371 x2: the cap, not also the MUE of 1
    ("R3", 2): ["duplicate-initial-infusion"],  # 96365 + 96374: the one-initial rule, not the NCCI pair
    ("R4", 2): ["units-over-mue"],  # second 96365 with XS: not a duplicate, over the MUE of 1 (justification)
    ("R5", 2): ["duplicate-initial-infusion"],  # 96409 x2 after 96413: both units extra; not MUE, not NCCI
    ("R6", 1): ["ncci-ptp-conflict"],  # 99213 with 96365, no 25
    ("R6", 3): ["units-over-mue"],  # 96366 x9 over the MUE of 8
}


def _keys(findings) -> dict[tuple[str, int], list[str]]:
    out: dict[tuple[str, int], list[str]] = {}
    for claim, line, check in findings.select("claim_id", "line_number", "check_id").iter_rows():
        if check in COUNTING:
            out.setdefault((claim, line), []).append(check)
    return out


def test_one_root_cause_one_finding_in_a_full_run(write_csv) -> None:
    result = scrub([str(write_csv(BATCH))])
    assert _keys(result.findings) == OWNER


def test_each_counting_check_alone_finds_what_it_finds_in_the_full_run(write_csv) -> None:
    path = str(write_csv(BATCH))
    full = scrub([path]).findings
    for check in COUNTING:
        alone = scrub([path], select=[check]).findings
        mine = full.filter(full["check_id"] == check)
        assert alone.select("claim_id", "line_number", "reason", "message").rows() == \
            mine.select("claim_id", "line_number", "reason", "message").rows(), check


def test_the_xs_line_over_the_mue_is_a_justification_with_what_to_attach(write_csv) -> None:
    found = scrub([str(write_csv(BATCH))], select=["units-over-mue"]).findings
    row = found.filter(found["claim_id"] == "R4").row(0, named=True)
    assert (row["reason"], row["fix_kind"], row["severity"]) == ("second_site_over_mue", "justification", "error")
    assert "vascular access site" in row["attach"] and "2026Q2" in row["message"]
    # The MUE (MAI 3, a date-of-service edit) denies every 96365 unit of the claim until the appeal:
    # both lines, $600 (not the XS line's $300 alone).
    assert row["charge_at_risk"] == 600.0 and "line(s) 1, 2" in row["message"]


# (probe 23H B2: "ABCDE" is five letters but no HCPCS code: a cap on it capped nothing, in silence)
@pytest.mark.parametrize("key", ["9637", "96371x", "963 71", "ABCDE", "9637A", "J14A9"])
def test_policy_caps_must_name_a_code(tmp_path, key: str) -> None:
    """A cap that matches no code would be accepted and ignored: refused instead."""
    policy = tmp_path / "acme.toml"
    policy.write_text(f'name = "ACME"\npayers = ["ACME"]\n[caps]\n"{key}" = 1\n')
    with pytest.raises(PolicyError, match="not a HCPCS/CPT code"):
        PolicySet.load([str(policy)])


def test_a_cap_on_any_code_reaches_the_lines(tmp_path, write_csv) -> None:
    policy = tmp_path / "acme.toml"
    policy.write_text('name = "ACME"\npayers = ["ACME"]\n[caps]\n"99213" = 1\n"J1459" = 100\n')
    path = write_csv(HEADER + "A1,1,M1,ACME,,11,2026-03-02,99213,,2,200,D69.3\n"
                              "A1,2,M1,ACME,,11,2026-03-02,J1459,,120,12000,D69.3\n"
                              "A2,1,M2,AETNA,,11,2026-03-02,J1459,,120,12000,D69.3\n")
    found = scrub([str(path)], [str(policy)], select=["units-over-mue"]).findings
    assert found.select("claim_id", "line_number", "reason").rows() == [
        ("A1", 1, "over_policy_cap"), ("A1", 2, "over_policy_cap")]
    assert found["charge_at_risk"].to_list() == [100.0, 2000.0]


def test_ncci_em_switch_must_be_true_or_false(tmp_path, write_csv) -> None:
    policy = tmp_path / "acme.toml"
    policy.write_text('name = "ACME"\npayers = ["ACME"]\n[ncci]\nem_pairs = "no"\n')
    with pytest.raises(PolicyError, match=r"ncci\.em_pairs"):
        PolicySet.load([str(policy)])


# --------------------------------------------------------------------------- replacement CMS tables


def _tables(where, mue_rows: str = "96366,10,3,Clinical: Data,newer\n", manifest: str | None = None):
    where.mkdir(exist_ok=True)
    (where / "mue_practitioner.csv").write_text("code,mue,mai,rationale,source\n" + mue_rows)
    (where / "MANIFEST.toml").write_text(manifest if manifest is not None else
                                         '[mue_practitioner]\nrelease = "CMS practitioner MUE table 2026 Q3"\n'
                                         'table_quarter = "2026Q3"\nsource = "medicare-ncci-2026q3-'
                                         'practitioner-services-mue-table.zip"\n')
    return where


def test_a_newer_quarter_replaces_the_table_and_is_reported(tmp_path, monkeypatch, write_csv) -> None:
    path = str(write_csv(HEADER + "Q1,1,M1,MEDICARE,,11,2026-07-02,96365,,1,300,D80.0\n"
                                  "Q1,2,M1,MEDICARE,,11,2026-07-02,96366,,9,1080,D80.0\n"))
    shipped = scrub([path], select=["units-over-mue"])
    assert shipped.findings.height == 1 and "2026Q2" in shipped.findings["message"][0]
    monkeypatch.setenv(reference.REFERENCE_DIR_ENV, str(_tables(tmp_path / "q3")))
    newer = scrub([path], select=["units-over-mue"])
    assert newer.findings.height == 0  # 96366 x9 within the newer MUE of 10
    tables = {r["table"]: r for r in newer.provenance["reference_data"]}
    assert tables["mue_practitioner"]["table_quarter"] == "2026Q3"
    assert tables["mue_practitioner"]["override"].endswith("mue_practitioner.csv")
    assert "effective_from" not in tables["mue_practitioner"]  # (the replacement's manifest gives none)
    assert tables["mue_outpatient"]["table_quarter"] == "2024Q3" and "override" not in tables["mue_outpatient"]
    assert tables["ncci_ptp"]["table_quarter"] == reference.manifest()["ncci_ptp"]["table_quarter"]


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda d: d / "missing", "names no directory"),
        (lambda d: (d / "empty").mkdir() or d / "empty", "holds none of"),
        (lambda d: _tables(d / "t", manifest=""), "needs 'release' and 'table_quarter'"),
        (lambda d: (_tables(d / "t"), (d / "t" / "MANIFEST.toml").unlink())[0], "needs MANIFEST.toml"),
        (lambda d: _tables(d / "t", mue_rows="96366,10,4,x,y\n"), "row 2: mai must be 1, 2 or 3"),
        (lambda d: _tables(d / "t", mue_rows="96366,ten,3,x,y\n"), "row 2: mue must be a whole number"),
        (lambda d: _tables(d / "t", mue_rows="9636,1,3,x,y\n"), "5-character"),
        # A hostile probe: a nonsense quarter was taken silently ("garbage" would be printed as the
        # table's quarter). (A header-only table is a table without edits: tests/test_peer_ncci.py.)
        (lambda d: _tables(d / "t", manifest='[mue_practitioner]\nrelease = "x"\ntable_quarter = "garbage"\n'),
         "table_quarter must be a year and quarter"),
        # What the directory holds that would be passed over unread (probe W): a misspelled key, an entry
        # without its file, a misspelled table file, an entry for no table.
        (lambda d: _tables(d / "t", manifest='[mue_practitioner]\nrelease = "x"\ntable_quarter = "2026Q3"\n'
                                              'efective_from = 2026-07-01\n'),
         "[mue_practitioner] unknown key 'efective_from'; did you mean 'effective_from'?"),
        (lambda d: _tables(d / "t", manifest='[mue_practitioner]\nrelease = "x"\ntable_quarter = "2026Q3"\n'
                                              '[ncci_ptp]\nrelease = "y"\ntable_quarter = "2026Q3"\n'),
         "[ncci_ptp] describes ncci_ptp.csv, which is not in the directory"),
        (lambda d: (_tables(d / "t"), (d / "t" / "mue_outpatien.csv").write_text("code,mue,mai,rationale\n"))[0],
         "mue_outpatien.csv is no table this product reads; did you mean mue_outpatient.csv?"),
        # A table named in upper case is not read (the names are lower case): it was passed over in silence
        # beside a table that is (probe 17B).
        (lambda d: (_tables(d / "t"), (d / "t" / "mue_outpatient.CSV").write_text("code,mue,mai,rationale\n"))[0],
         "mue_outpatient.CSV is no table this product reads; did you mean mue_outpatient.csv?"),
        (lambda d: _tables(d / "t", manifest='[mue_practitioner]\nrelease = "x"\ntable_quarter = "2026Q3"\n'
                                              '[mue_outpatien]\nrelease = "y"\n'),
         "unknown entry [mue_outpatien]; did you mean [mue_outpatient]?"),
        # Keys taken and read by nothing (probe 15C): a file name other than the table's, a date as text.
        (lambda d: _tables(d / "t", manifest='[mue_practitioner]\nrelease = "x"\ntable_quarter = "2026Q3"\n'
                                              'file = "not_this_name.csv.txt"\n'),
         "[mue_practitioner] file = 'not_this_name.csv.txt': the table of [mue_practitioner] is read from "
         "mue_practitioner.csv"),
        (lambda d: _tables(d / "t", manifest='[mue_practitioner]\nrelease = "x"\ntable_quarter = "2026Q3"\n'
                                              'effective_from = "July 2026"\n'),
         "[mue_practitioner] effective_from must be a TOML date"),
    ],
)
def test_a_bad_replacement_table_is_a_clear_error(tmp_path, monkeypatch, write_csv, make, needle) -> None:
    monkeypatch.setenv(reference.REFERENCE_DIR_ENV, str(make(tmp_path)))
    path = str(write_csv(HEADER + "Q1,1,M1,MEDICARE,,11,2026-07-02,96366,,9,1080,D80.0\n"))
    with pytest.raises(InputError, match=re.escape(needle)):
        scrub([path], select=["units-over-mue"])
    result = CliRunner().invoke(main, ["check", path, "--json", "-"], catch_exceptions=False)
    assert result.exit_code == 2 and needle in result.stderr and "Traceback" not in result.output


def test_ncci_pairs_of_a_replacement_table_by_setting_and_date(tmp_path, monkeypatch, write_csv) -> None:
    where = tmp_path / "ptp"
    where.mkdir()
    (where / "ncci_ptp.csv").write_text(
        "column1,column2,modifier_indicator,effective_from,effective_to,setting,source\n"
        "96365,J1459,0,2026-04-01,,practitioner,made up for the test\n"
        "96365,99213,9,,,both,retired\n")
    (where / "MANIFEST.toml").write_text('[ncci_ptp]\nrelease = "test"\ntable_quarter = "2026Q2"\n')
    monkeypatch.setenv(reference.REFERENCE_DIR_ENV, str(where))
    path = str(write_csv(HEADER + "T1,1,M1,AETNA,,11,2026-04-01,96365,,1,300,D69.3\n"
                                  "T1,2,M1,AETNA,,11,2026-04-01,J1459,,70,7000,D69.3\n"
                                  "T1,3,M1,AETNA,,11,2026-04-01,99213,,1,100,D69.3\n"
                                  "T2,1,M2,AETNA,,11,2026-03-31,96365,,1,300,D69.3\n"
                                  "T2,2,M2,AETNA,,11,2026-03-31,J1459,,70,7000,D69.3\n"
                                  "T3,1,M3,AETNA,institutional,22,2026-04-01,96365,,1,300,D69.3\n"
                                  "T3,2,M3,AETNA,institutional,22,2026-04-01,J1459,,70,7000,D69.3\n"))
    found = scrub([path], select=["ncci-ptp-conflict"]).findings
    # Only the practitioner claim on or after the pair's effective date; indicator 9 is ignored.
    assert found.select("claim_id", "line_number", "reason").rows() == [("T1", 2, "pair_never")]
    assert "2026Q2" in found["message"][0]


def test_releases_summary_names_the_quarter_of_each_edit_table() -> None:
    tables = {r["table"]: r for r in reference.releases_summary()}
    for key in reference.EDIT_TABLES:
        assert tables[key]["table_quarter"] == reference.manifest()[key]["table_quarter"]
        # Versioned with its effective date (the probe found none in the provenance).
        assert tables[key]["effective_from"] == str(reference.manifest()[key]["effective_from"])
    assert tables["icd10cm.fy2026"]["effective_from"] == "2025-10-01"
    assert tables["icd10cm.fy2026"]["effective_to"] == "2026-09-30"


def test_a_replacement_tables_effective_date_is_in_the_provenance(tmp_path, monkeypatch, write_csv) -> None:
    monkeypatch.setenv(reference.REFERENCE_DIR_ENV, str(_tables(tmp_path / "q3", manifest=(
        '[mue_practitioner]\nrelease = "x"\ntable_quarter = "2026Q3"\neffective_from = 2026-07-01\n'
        'file = "mue_practitioner.csv"\n'))))
    path = str(write_csv(HEADER + "Q1,1,M1,MEDICARE,,11,2026-07-02,96366,,9,1080,D80.0\n"))
    tables = {r["table"]: r for r in scrub([path], select=["units-over-mue"]).provenance["reference_data"]}
    assert tables["mue_practitioner"]["effective_from"] == "2026-07-01"
    json.dumps(reference.releases_summary())  # plain data for the findings JSON


def test_policy_caps_take_every_hcpcs_shape(tmp_path) -> None:
    """The near misses of the refused keys: CPT Category II/III, PLA and MAAA codes (four digits and a
    letter: review 24D D5, "0001M" was refused) and Level II codes are codes."""
    policy = tmp_path / "acme.toml"
    policy.write_text('name = "ACME"\nextends = "DEFAULT"\npayers = ["ACME"]\n[caps]\n'
                      '"0001M" = 1\n"0075T" = 1\n"3074F" = 1\n"0001U" = 1\n"J1459" = 100\n"96371" = 2\n')
    caps = PolicySet.load([str(policy)]).policies["ACME"].caps
    assert set(caps) == {"0001M", "0075T", "3074F", "0001U", "J1459", "96371"}
