"""Policies are data that layer: a file extends a built-in and overrides only what differs; payers map
to policies by exact name or pattern; home is one set of places of service."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from scrubber.engine import check_batches, scrub
from scrubber.errors import PolicyError
from scrubber.loaders import load_inputs
from scrubber.policy import PolicySet

CLAIM = """
claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,modifier_1,units,charge,diagnosis_1,drug_dose_mg
Q1,1,M1,{payer},{pos},2026-02-10,J1459,{mod},70,7000,{dx},35000
"""
HOME = ("04", "12", "13", "14", "33", "54", "55", "56")


def _enriched(path, policy_files: list[str] | None = None) -> pl.DataFrame:
    """The enriched lines of a claim file (the policy columns every check reads)."""
    raw = load_inputs([str(path)])
    return check_batches(raw.batches(), PolicySet.load(policy_files or []), []).enriched


def test_builtins_follow_rules_md() -> None:
    ps = PolicySet.load()
    medicare, default = ps.policies["MEDICARE"], ps.policies["DEFAULT"]
    assert medicare.kind == "medicare" and default.kind == "commercial"
    assert medicare.jz_required_from == dt.date(2023, 7, 1) and default.jz_required_from is None
    assert medicare.jw_required_from == dt.date(2017, 1, 1) == default.jw_required_from
    assert set(medicare.jw_jz_exempt_pos) == {"21", "50", "72"} and default.jw_jz_exempt_pos == ()
    assert medicare.jw_jz_home_from == dt.date(2024, 1, 1) and default.jw_jz_home_from is None
    assert medicare.kx_required_from == dt.date(2023, 1, 1) and default.kx_required_from is None
    assert set(medicare.kx_accepted) == {"KX", "GA", "GZ", "GY"}
    assert medicare.home_pos == HOME == default.home_pos
    assert medicare.caps["96371"] == 1 == default.caps["96371"]


@pytest.mark.parametrize(
    ("payer", "policy"),
    [
        ("Noridian JE Part B", "MEDICARE"),
        ("Humana Medicare Advantage", "DEFAULT"),
        ("UnitedHealthcare Medicare Advantage", "DEFAULT"),
        ("MEDICARE PART B", "MEDICARE"),
        ("CMS", "MEDICARE"),
        ("AETNA", "DEFAULT"),
        (" medicare ", "MEDICARE"),
        ("Medicare", "MEDICARE"),
        ("Medicare-B", "MEDICARE"),
        ("MEDICARE ADVANTAGE PPO", "DEFAULT"),  # begins with MEDICARE, but an Advantage plan
        # Medicare Advantage by other names (Part C; the plan types of 42 CFR 422.4), and WPS's
        # commercial carrier: DEFAULT. The MAC and Original Medicare's parts stay MEDICARE.
        ("MEDICARE PART C HUMANA", "DEFAULT"),
        ("MEDICARE HMO BLUE", "DEFAULT"),
        ("Medicare PPO Plan", "DEFAULT"),
        ("Medicare D-SNP", "DEFAULT"),
        ("MEDICARE MAPD", "DEFAULT"),
        ("MEDICARE ADV", "DEFAULT"),  # the clearinghouses' short form of Advantage (probe 20A)
        ("Medicare Adv. Plan", "DEFAULT"),
        ("MEDICARE ADVISORY SERVICES", "MEDICARE"),  # (a whole word: not a name that begins ADV)
        ("WPS Health Insurance", "DEFAULT"),
        ("WPS HEALTH PLAN", "DEFAULT"),
        ("WPS Medicare", "MEDICARE"),
        ("MEDICARE PART A", "MEDICARE"),
        ("Medicare Part B Noridian", "MEDICARE"),
        ("Novitas Solutions", "MEDICARE"),
        ("Palmetto GBA", "MEDICARE"),
        ("NGS", "MEDICARE"),
        ("National  Government Services", "MEDICARE"),  # runs of spaces are one
        ("WPS Government Health Administrators", "MEDICARE"),
        ("CGS Administrators", "MEDICARE"),
        ("First Coast Service Options", "MEDICARE"),
        # Railroad Retirement Board beneficiaries' Part B: Original Medicare, processed by Palmetto GBA's
        # Specialty MAC, named by clearinghouses without the contractor (probe 18A: DEFAULT, no JZ asked).
        ("RAILROAD MEDICARE", "MEDICARE"),
        ("Railroad Medicare Part B", "MEDICARE"),
        ("RR MEDICARE", "MEDICARE"),
        ("RAILROAD EMPLOYEES HEALTH PLAN", "DEFAULT"),
        # Whole words only: these merely contain the letters.
        ("KINGS HEALTH PLAN", "DEFAULT"),
        ("MEDICAREBLUE RX", "DEFAULT"),
        ("CMSA PLAN", "DEFAULT"),
        ("", "DEFAULT"),
    ],
)
def test_payer_to_policy_follows_rules_md(payer: str, policy: str) -> None:
    assert PolicySet.load().policy_for(payer) == policy


def test_payer_patterns_reach_the_lines(write_csv) -> None:
    path = write_csv(CLAIM.format(payer="Noridian JE Part B", pos="11", mod="", dx="D80.0")
                     + "Q2,1,M2,Humana Medicare Advantage,11,2026-02-10,J1459,,70,7000,D80.0,35000\n")
    lines = _enriched(path)
    assert dict(lines.select("claim_id", "policy").iter_rows()) == {"Q1": "MEDICARE", "Q2": "DEFAULT"}
    assert dict(lines.select("claim_id", "payer_kind").iter_rows()) == {"Q1": "medicare", "Q2": "commercial"}


def test_payer_names_match_case_insensitively(write_csv) -> None:
    path = write_csv(CLAIM.format(payer=" medicare ", pos="11", mod="", dx="D80.0"))
    result = scrub([str(path)], select=["missing-modifier"])
    assert result.findings.height == 1 and result.findings["policy"][0] == "MEDICARE"


def test_a_policy_file_takes_a_payer_from_a_builtin_by_name_or_pattern(tmp_path) -> None:
    exact = tmp_path / "humana.toml"
    exact.write_text('name = "HUMANA_MA"\nextends = "MEDICARE"\npayers = ["Humana Medicare Advantage"]\n')
    ps = PolicySet.load([str(exact)])
    assert ps.policy_for("HUMANA MEDICARE ADVANTAGE") == "HUMANA_MA"
    assert ps.policy_for("UnitedHealthcare Medicare Advantage") == "DEFAULT"
    assert ps.policies["HUMANA_MA"].kind == "medicare"  # extends MEDICARE: Medicare's words
    pattern = tmp_path / "ma.toml"
    pattern.write_text('name = "MA"\nextends = "MEDICARE"\n[payer_patterns]\ncontains = ["MEDICARE ADVANTAGE"]\n')
    ps = PolicySet.load([str(exact), str(pattern)])
    assert ps.policy_for("UnitedHealthcare Medicare Advantage") == "MA"
    assert ps.policy_for("Humana Medicare Advantage") == "MA"  # the later file wins
    assert ps.policy_for("Noridian JE Part B") == "MEDICARE"


def test_a_policy_file_saved_as_utf16_is_read(tmp_path) -> None:
    # Notepad's "Unicode" and Windows PowerShell 5's Out-File save UTF-16 with a BOM (probe 21D B2): the
    # BOM says the encoding, so the file reads as the same policy; without it, a one-line error.
    text = 'name = "HUMANA_MA"\nextends = "MEDICARE"\npayers = ["Humana Médicare"]\n'
    for encoding in ("utf-16", "utf-16-be"):
        path = tmp_path / f"{encoding}.toml"
        bom = b"\xfe\xff" if encoding.endswith("be") else b""
        path.write_bytes(bom + text.encode(encoding))
        ps = PolicySet.load([str(path)])
        assert ps.policy_for("HUMANA MÉDICARE") == "HUMANA_MA"
    # Near miss: UTF-16 without its BOM is no text this reader guesses.
    bare = tmp_path / "bare.toml"
    bare.write_bytes(text.encode("utf-16-le"))
    with pytest.raises(PolicyError, match="cannot read policy file"):
        PolicySet.load([str(bare)])


def test_payers_and_patterns_are_not_inherited(tmp_path) -> None:
    pol = tmp_path / "acme.toml"
    pol.write_text('name = "ACME"\nextends = "MEDICARE"\npayers = ["ACME"]\n')
    ps = PolicySet.load([str(pol)])
    assert ps.policy_for("ACME") == "ACME"
    assert ps.policy_for("Noridian JE Part B") == "MEDICARE" and ps.policy_for("MEDICARE PART B") == "MEDICARE"
    assert ps.policies["ACME"].payer_patterns.prefix == ()


def test_redefining_medicare_keeps_its_payers_on_the_new_definition(tmp_path) -> None:
    pol = tmp_path / "medicare.toml"
    pol.write_text('name = "MEDICARE"\nextends = "MEDICARE"\n[jz]\nrequired_from = false\n')
    ps = PolicySet.load([str(pol)])
    assert ps.policy_for("Noridian JE Part B") == "MEDICARE"
    assert ps.policies["MEDICARE"].jz_required_from is None


def test_home_is_one_set_for_coverage_kx_and_jw_jz(tmp_path, write_csv) -> None:
    rows = "".join(f"H{pos},1,M{pos},MEDICARE,{pos},2026-02-10,J1559,JZ,80,4000,D80.0,8000\n"
                   for pos in ("11", "12", "13", "32", "56"))
    path = write_csv(CLAIM.format(payer="MEDICARE", pos="04", mod="JZ", dx="D80.0").replace("J1459", "J1559")
                     .replace(",70,7000,", ",80,4000,").replace("35000", "8000") + rows)
    home = dict(_enriched(path).select("claim_id", "is_home").iter_rows())
    assert home == {"Q1": True, "H11": False, "H12": True, "H13": True, "H32": False, "H56": True}
    kx = scrub([str(path)], select=["missing-modifier"]).findings.filter(pl.col("reason") != "jb_missing_home_sc")
    assert sorted(kx["claim_id"]) == ["H12", "H13", "H56", "Q1"] and set(kx["reason"]) == {"kx_missing"}
    pol = tmp_path / "narrow.toml"
    pol.write_text('name = "NARROW"\nextends = "MEDICARE"\npayers = ["MEDICARE"]\nhome_pos = ["12"]\n')
    home = dict(_enriched(path, [str(pol)]).select("claim_id", "is_home").iter_rows())
    assert [c for c, h in home.items() if h] == ["H12"]
    kx = scrub([str(path)], [str(pol)], select=["missing-modifier"]).findings.filter(
        pl.col("reason") != "jb_missing_home_sc")
    assert list(kx["claim_id"]) == ["H12"]


def test_home_ivig_places_are_their_own_set_and_a_policy_sets_them(tmp_path) -> None:
    """The home IVIG benefit's places (the drug and Q2052) add 32, nursing facility, to the home set
    (Noridian JD DME IVIG billing tips); KX and JW/JZ keep home_pos. A policy's home_ivig_pos is read:
    narrowed to 12, the drug and Q2052 at 32 are no home IVIG."""
    medicare, default = (PolicySet.load().policies[n] for n in ("MEDICARE", "DEFAULT"))
    assert set(medicare.home_ivig_pos) == set(HOME) | {"32"} == set(default.home_ivig_pos)
    path = tmp_path / "claims.csv"
    path.write_text("claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,"
                    "modifier_1,units,charge,diagnosis_1,drug_dose_mg\n"
                    "N1,1,M1,MEDICARE,32,2026-03-02,J1459,JZ,70,7000,D80.0,35000\n"
                    "N1,2,M1,MEDICARE,32,2026-03-02,Q2052,,4,420,D80.0,\n")
    assert scrub([str(path)], select=["home-ig-supplies"]).findings.height == 0
    pol = tmp_path / "narrow.toml"
    pol.write_text('name = "NARROW"\nextends = "MEDICARE"\npayers = ["MEDICARE"]\nhome_ivig_pos = ["12"]\n')
    found = scrub([str(path)], [str(pol)], select=["home-ig-supplies"]).findings
    assert list(found["reason"]) == ["no_home_ivig"]


def test_a_policy_can_require_kx_and_jz_for_a_commercial_payer(tmp_path, write_csv) -> None:
    path = write_csv(CLAIM.format(payer="BCBS", pos="11", mod="", dx="D80.0"))
    assert scrub([str(path)], select=["missing-modifier"]).findings.height == 0
    pol = tmp_path / "bcbs.toml"
    pol.write_text('name = "BCBS"\nextends = "MEDICARE"\npayers = ["BCBS"]\n')
    assert scrub([str(path)], [str(pol)], select=["missing-modifier"]).findings.height == 1
    home = write_csv(CLAIM.format(payer="BCBS", pos="12", mod="JZ", dx="D80.0").replace("J1459", "J1559"),
                     name="home.csv")
    assert scrub([str(home)], select=["missing-modifier"]).findings.height == 0
    kx = tmp_path / "bcbs_kx.toml"
    kx.write_text('name = "BCBS_KX"\npayers = ["BCBS"]\n[kx]\nrequired_from = 2025-01-01\naccepted = ["KX"]\n')
    found = scrub([str(home)], [str(kx)], select=["missing-modifier"]).findings
    assert list(found["reason"]) == ["kx_missing"] and found["payer_kind"][0] == "commercial"
    assert "BCBS_KX" in found["message"][0] and "ABN" not in found["suggested_fix"][0]


def test_a_narrowed_kx_accepted_names_only_the_modifiers_it_accepts(tmp_path, write_csv) -> None:
    """A MEDICARE-kind policy accepting KX only: J1559-JZ-GA at home fires (GA is not accepted), and its
    words no longer say "without KX, GA, GZ or GY" nor offer GA, GZ or GY as the fix (probe 17C: the
    fix told the biller to append a modifier the policy refuses). Near misses: MEDICARE's own words
    offer all three; a policy accepting KX and GZ offers GZ alone, and GA on the line still fires."""
    home = write_csv(CLAIM.format(payer="MEDICARE", pos="12", mod="JZ", dx="D80.0").replace("J1459", "J1559")
                     .replace("JZ,", "JZ,GA,JB,", 1).replace("modifier_1,", "modifier_1,modifier_2,modifier_3,", 1),
                     name="home.csv")
    assert scrub([str(home)], select=["missing-modifier"]).findings.height == 0  # (GA answers KX for MEDICARE)
    plain = write_csv(CLAIM.format(payer="MEDICARE", pos="12", mod="JZ", dx="D80.0").replace("J1459", "J1559")
                      .replace("JZ,", "JZ,JB,", 1).replace("modifier_1,", "modifier_1,modifier_2,", 1),
                      name="plain.csv")
    medicare = scrub([str(plain)], select=["missing-modifier"]).findings.row(0, named=True)
    assert "without KX, GA, GZ or GY" in medicare["message"]
    assert medicare["suggested_fix"].endswith("otherwise GA (criteria not met, ABN on file) or GZ (no ABN), or GY "
                                              "if the drug was not given through a covered external infusion pump.")
    only_kx = tmp_path / "kx_only.toml"
    only_kx.write_text('name = "KX_ONLY"\nextends = "MEDICARE"\npayers = ["MEDICARE"]\n[kx]\naccepted = ["KX"]\n')
    found = scrub([str(home)], [str(only_kx)], select=["missing-modifier"]).findings.row(0, named=True)
    assert found["reason"] == "kx_missing" and "without KX:" in found["message"]
    assert "GA" not in found["suggested_fix"] and "accepts no other modifier" in found["suggested_fix"]
    assert "GA, GZ or GY" not in found["appeal_text"]
    kx_gz = tmp_path / "kx_gz.toml"
    kx_gz.write_text('name = "KX_GZ"\nextends = "MEDICARE"\npayers = ["MEDICARE"]\n[kx]\naccepted = ["KX", "GZ"]\n')
    found = scrub([str(home)], [str(kx_gz)], select=["missing-modifier"]).findings.row(0, named=True)
    assert "without KX or GZ:" in found["message"] and found["suggested_fix"].endswith("otherwise GZ (no ABN).")
    assert "(or with GZ as the record supports)" in found["appeal_text"]


def test_a_policy_can_replace_a_coverage_list_inline(tmp_path, write_csv) -> None:
    path = write_csv(CLAIM.format(payer="ACME", pos="11", mod="", dx="D69.3"))
    assert scrub([str(path)], select=["noncovered-diagnosis"]).findings.height == 0
    pol = tmp_path / "acme.toml"
    pol.write_text('name = "ACME"\npayers = ["ACME"]\n[coverage]\nother = ["PIDD_ONLY"]\n'
                   '[coverage.lists]\nPIDD_ONLY = ["D80.0", "D83.9"]\n')
    found = scrub([str(path)], [str(pol)], select=["noncovered-diagnosis"]).findings
    assert found.height == 1 and "PIDD_ONLY" in found["message"][0]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('name = "X"\nextends = "NOPE"\n', "NOPE"),
        ('name = "X"\n[kx]\nposition = ["12"]\n', "kx.position"),
        # KX left out of what answers the KX requirement: no fix could clear the finding (probe 17D).
        ('name = "X"\nextends = "MEDICARE"\npayers = ["X"]\n[kx]\naccepted = ["GA"]\n', "must list KX"),
        ('name = "X"\n[caps]\n"96371" = -1\n', "caps.96371"),
        ('name = "X"\npayers = ["X"]\n[coverage]\nother = ["NO_SUCH_LIST"]\n', "NO_SUCH_LIST"),
        # A new policy that names no payer would apply to no claim; two caps for one code keep one.
        ('name = "X"\n', "names no payers"),
        ('name = "X"\npayers = ["X"]\n[caps]\n"96366" = 10\n"96366 " = 3\n', "same code 96366"),
        ('name = "X"\npayers = ["X"]\n[caps]\n"j1459" = 100\n"J1459" = 400\n', "same code J1459"),
        ("payers = [\n", "invalid TOML"),
        ('extends = "MEDICARE"\n', "name"),
        # The keys home replaced are refused, naming the new key (never accepted and ignored).
        ('name = "X"\n[kx]\npos = ["12"]\n', "'kx.pos' is no longer read: use 'home_pos'"),
        ('name = "X"\n[coverage]\nhome_pos = ["12"]\n', "'coverage.home_pos' is no longer read: use 'home_pos'"),
        ('name = "X"\nhome_pos = ["1"]\n', "not a two-digit place of service"),
        ('name = "X"\n[jw_jz]\nexempt_pos = ["inpatient"]\n', "not a two-digit place of service"),
        ('name = "X"\n[kx]\naccepted = ["KX1"]\n', "not a two-character modifier"),
        ('name = "X"\n[kx]\nrequired_from = true\n', "kx.required_from"),
        ('name = "X"\n[jw_jz]\nhome_from = "2024"\n', "jw_jz.home_from"),
        ('name = "X"\n[payer_patterns]\nsuffix = ["X"]\n', "payer_patterns.suffix"),
        ('name = "X"\n[payer_patterns]\nprefix = "MEDICARE"\n', "payer_patterns.prefix"),
        ('name = "X"\n[payer_patterns]\ncontains = [" "]\n', "empty name"),
        # An empty payer name would claim no claim: refused, not accepted and ignored.
        ('name = "X"\npayers = ["ACME", ""]\n', "'payers' must not list an empty name"),
        # except_contains narrows only the file's own patterns: alone, or on a redefined built-in (whose
        # payers stay its own), it would be read by nothing.
        ('name = "X"\npayers = ["ACME"]\n[payer_patterns]\nexcept_contains = ["HUMANA"]\n',
         "narrows this policy's own prefix/contains patterns, and it has none"),
        ('name = "MEDICARE"\nextends = "MEDICARE"\n[payer_patterns]\nprefix = ["MEDICARE"]\n'
         'except_contains = ["HUMANA"]\n', "cannot take payers from MEDICARE"),
        # Where JZ is required, waste is billed with JW: a later or no JW date would be read by nothing.
        ('name = "X"\npayers = ["ACME"]\nextends = "MEDICARE"\n[jw]\nrequired_from = false\n',
         "'jw.required_from' must be on or before 'jz.required_from' \\(2023-07-01\\)"),
        ('name = "X"\npayers = ["ACME"]\n[jw]\nrequired_from = 2025-01-01\n[jz]\nrequired_from = 2023-07-01\n',
         "'jw.required_from' must be on or before"),
        # A covered list no setting names would be read by nothing: refused.
        ('name = "X"\npayers = ["ACME"]\n[coverage.lists]\nMYLIST = ["D80.0"]\n',
         "'coverage.lists.MYLIST' is defined but no setting names it"),
        # An empty list covers nothing (probe 28C B7: refused as an "unknown list" by the setting naming it).
        ('name = "X"\npayers = ["ACME"]\n[coverage]\nother = ["MYLIST"]\n[coverage.lists]\nMYLIST = []\n',
         "'coverage.lists.MYLIST' is empty"),
        # Settings no rule of the policy reads (probe 21B): KX never required, JW and JZ never required.
        ('name = "X"\npayers = ["ACME"]\n[kx]\naccepted = ["KX"]\n', "'kx.accepted' is set but KX is never"),
        ('name = "X"\npayers = ["ACME"]\nextends = "MEDICARE"\n[kx]\nrequired_from = false\naccepted = ["KX"]\n',
         "'kx.accepted' is set but KX is never"),
        ('name = "X"\npayers = ["ACME"]\n[jw]\nrequired_from = false\n[jw_jz]\nexempt_pos = ["21"]\n',
         "'jw_jz.exempt_pos' is set but neither"),
        ('name = "X"\npayers = ["ACME"]\n[jw]\nrequired_from = false\n[jw_jz]\nhome_from = 2024-01-01\n',
         "'jw_jz.home_from' is set but neither"),
    ],
)
def test_bad_policies_are_errors(tmp_path, write_csv, text: str, needle: str) -> None:
    pol = tmp_path / "p.toml"
    pol.write_text(text)
    claims = write_csv(CLAIM.format(payer="ACME", pos="11", mod="", dx="D69.3"))
    with pytest.raises(PolicyError, match=needle):
        scrub([str(claims)], [str(pol)])


def test_near_miss_settings_their_policy_reads_load(tmp_path) -> None:
    # kx.accepted with KX required (here or inherited from MEDICARE), jw_jz settings with JW required.
    pol = tmp_path / "p.toml"
    for text in ('name = "X"\npayers = ["ACME"]\n[kx]\nrequired_from = 2024-01-01\naccepted = ["KX", "GA"]\n',
                 'name = "X"\npayers = ["ACME"]\nextends = "MEDICARE"\n[kx]\naccepted = ["KX"]\n',
                 'name = "X"\npayers = ["ACME"]\n[jw]\nrequired_from = 2024-01-01\n[jw_jz]\nexempt_pos = ["21"]\n'):
        pol.write_text(text)
        assert PolicySet.load([str(pol)]).policy_for("ACME") == "X"
    # A copy of the shipped default.toml, renamed, restates DEFAULT's values (kx.accepted beside KX never
    # required, exempt_pos = [], home_from = false): nothing changed, nothing refused (review 21D).
    from scrubber.policy import _builtin_doc  # (the shipped file, read as the loader reads it)

    shipped = (Path(__file__).resolve().parents[1] / "scrubber" / "policies" / "default.toml").read_text()
    assert _builtin_doc("DEFAULT")["kx"]["accepted"]
    pol.write_text(shipped.replace('name = "DEFAULT"', 'name = "X"').replace("payers = []", 'payers = ["ACME"]'))
    assert PolicySet.load([str(pol)]).policy_for("ACME") == "X"


def test_two_files_defining_one_policy_name_are_an_error(tmp_path, write_csv) -> None:
    """The second file replaced the first one's rules for the first one's payers too, silently (ACME's
    claims got BETA's file's rules, while the provenance named the first file)."""
    first, second = tmp_path / "a.toml", tmp_path / "b.toml"
    first.write_text('name = "ACME"\npayers = ["ACME"]\n[ncci]\nem_pairs = true\n')
    second.write_text('name = "acme"\npayers = ["BETA"]\n[ncci]\nem_pairs = false\n')
    with pytest.raises(PolicyError, match=f"policy 'ACME' is also defined in {first}"):
        PolicySet.load([str(first), str(second)])
    # Near miss: two names, or one file given once, load.
    second.write_text('name = "BETA"\npayers = ["BETA"]\n[ncci]\nem_pairs = false\n')
    loaded = PolicySet.load([str(first), str(second)])
    assert loaded.policy_for("ACME") == "ACME" and loaded.policy_for("BETA") == "BETA"


def test_a_child_policy_inherits_its_base_policys_inline_lists(tmp_path, write_csv) -> None:
    """A policy extending another restates only what differs: adding a list of its own kept the base's
    'other' setting but dropped the list it names (refused: "unknown list 'L1'")."""
    parent, child = tmp_path / "parent.toml", tmp_path / "child.toml"
    parent.write_text('name = "ACME"\npayers = ["ACME"]\n[coverage]\nother = ["L1"]\n[coverage.lists]\n'
                      'L1 = ["D80.0"]\n')
    child.write_text('name = "ACME2"\nextends = "ACME"\npayers = ["ACME2"]\n[coverage]\nhome_iv = ["L2"]\n'
                     '[coverage.lists]\nL2 = ["D69.3"]\n')
    acme2 = PolicySet.load([str(parent), str(child)]).policies["ACME2"]
    assert acme2.coverage["other"] == ("L1",) and acme2.coverage["home_iv"] == ("L2",)
    assert acme2.lists == {"L1": ("D800",), "L2": ("D693",)}  # (codes kept without the dot)
    # The base's list the child no longer names is not the child's setting (no error); a list of the
    # same name replaces the base's.
    child.write_text('name = "ACME2"\nextends = "ACME"\npayers = ["ACME2"]\n[coverage]\nother = ["L1"]\n'
                     '[coverage.lists]\nL1 = ["D83.9"]\n')
    assert PolicySet.load([str(parent), str(child)]).policies["ACME2"].lists == {"L1": ("D839",)}
    child.write_text('name = "ACME2"\nextends = "ACME"\npayers = ["ACME2"]\n[coverage]\nother = ["A52509"]\n')
    assert PolicySet.load([str(parent), str(child)]).policies["ACME2"].lists == {}


def test_a_policy_file_deciding_no_claim_is_warned_of(tmp_path, write_csv) -> None:
    """Probe 20B: a --policy whose payers match no claim of the batch (a typo, "MEDICAR") changed nothing,
    silently. Its file gets an input warning. Near miss: a policy that decides a claim says nothing."""
    claims = write_csv("claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,units\n"
                       "C1,1,M1,ACME HEALTH,11,2026-03-02,96372,1\n")
    typo = tmp_path / "typo.toml"
    typo.write_text('name = "ACME"\nextends = "DEFAULT"\npayers = ["ACME HELTH"]\n', encoding="utf-8")
    result = scrub([str(claims)], policy_files=[str(typo)])
    assert [w for w in result.input_warnings if w["source"] == str(typo)] == [{
        "source": str(typo), "problem": "policy ACME applies to no claim of this batch: no payer name here maps to it "
        "(check its payers and payer_patterns against the claims' payer names)"}]
    typo.write_text('name = "ACME"\nextends = "DEFAULT"\npayers = ["ACME HEALTH"]\n', encoding="utf-8")
    assert not [w for w in scrub([str(claims)], policy_files=[str(typo)]).input_warnings if w["source"] == str(typo)]
    # ... nor one whose claims were all rejected (review 20D: it was told to check its payers).
    rejected = write_csv("claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,units\n"
                         "C1,1,M1,ACME HEALTH,11,2026-03-02,96372,abc\nC2,1,M2,AETNA,11,2026-03-02,96372,1\n")
    assert not [w for w in scrub([str(rejected)], policy_files=[str(typo)]).input_warnings
                if w["source"] == str(typo)]
