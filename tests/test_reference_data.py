"""The shipped reference data says what its sources say (docs/research/REFERENCE_DATA_NOTES.md).

These tests read the files a run reads (through ``scrubber.reference`` and the MANIFEST) and check
facts known from the primary sources, so a rebuilt or hand-edited table that drifts from its
source fails here rather than in a claim.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from scrubber import reference

FISCAL_YEARS = ["fy2021", "fy2022", "fy2023", "fy2024", "fy2025", "fy2026"]


def billable(release: str) -> set[str]:
    return set(reference.icd10_billable_codes(release).to_list())


def test_every_fiscal_year_2021_to_2026_is_shipped_back_to_back() -> None:
    releases = reference.icd10_releases()
    assert releases.get_column("release_key").to_list() == FISCAL_YEARS
    for row in releases.iter_rows(named=True):
        year = int(row["release_key"][2:])
        assert row["effective_from"] == dt.date(year - 1, 10, 1)
        assert row["effective_to"] == dt.date(year, 9, 30)


@pytest.mark.parametrize(
    ("release", "count"),
    # Code counts of the CMS/NCHS files the releases were built from (FY2021 with its January 2021
    # update: 72,616 + 5; FY2024: 74,044 as the CDC announced for October 1, 2023).
    [("fy2021", 72621), ("fy2022", 72750), ("fy2023", 73674), ("fy2024", 74044), ("fy2025", 74260),
     ("fy2026", 74719)],
)
def test_release_sizes_match_their_source_files(release: str, count: int) -> None:
    assert len(billable(release)) == count


@pytest.mark.parametrize("release", FISCAL_YEARS)
def test_hereditary_hypogammaglobulinemia_is_billable_every_year_and_its_category_never(release: str) -> None:
    codes = billable(release)
    assert "D800" in codes
    assert "D80" not in codes


@pytest.mark.parametrize("release", FISCAL_YEARS)
def test_e66_8_billable_through_fy2024_only(release: str) -> None:
    # FY2025 split E66.8 into E66.81- (obesity class 1-3) and E66.89.
    codes = billable(release)
    assert ("E668" in codes) == (release <= "fy2024")
    assert ("E66811" in codes) == (release >= "fy2025")


@pytest.mark.parametrize("release", FISCAL_YEARS)
def test_g35_billable_through_fy2025_and_a_category_in_fy2026(release: str) -> None:
    codes = billable(release)
    assert ("G35" in codes) == (release <= "fy2025")
    if release == "fy2026":
        assert any(code.startswith("G35") and len(code) > 3 for code in codes)


def test_mid_year_updates_are_in_the_year_they_were_published() -> None:
    # April 1, 2022: Z28.310/Z28.311/Z28.39 replace Z28.3; April 1, 2023: Z55.6 (health literacy).
    assert {"Z28310", "Z28311", "Z2839"} <= billable("fy2022")
    assert "Z283" in billable("fy2021") and "Z283" not in billable("fy2022")
    assert "Z556" in billable("fy2023") and "Z556" not in billable("fy2022")


def test_every_covered_diagnosis_is_billable_in_fy2026() -> None:
    # A covered list that names a category or a retired code could never match a valid claim.
    covered = set(reference.covered_diagnoses().get_column("code").to_list())
    assert covered - billable("fy2026") == set()


def _table(key: str) -> list[dict[str, str]]:
    import csv
    import io
    from importlib import resources

    name = reference.manifest()[key]["file"]
    text = resources.files("scrubber.data").joinpath(name).read_text("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("key", ["mue_practitioner", "mue_outpatient"])
def test_mue_tables_are_whole_and_cited(key: str) -> None:
    rows = _table(key)
    codes = [r["code"] for r in rows]
    assert len(codes) == len(set(codes))
    for row in rows:
        assert int(row["mue"]) >= 0
        assert row["mai"] in {"1", "2", "3"}
        assert row["rationale"] and row["source"]
    # Every administration code and immune globulin the product knows has an MUE (J1552 is new in 2025
    # and absent from the 2024 outpatient table; C8957, an OPPS code known so that it anchors 96368 as
    # the CMS add-on edits list it, is in neither extract read: no MUE is checked on it).
    known = set(reference.admin_codes().get_column("code")) | set(reference.immune_globulins().get_column("code"))
    missing = known - set(codes) - ({"J1552"} if key == "mue_outpatient" else set()) - {"C8957"}
    assert missing == set()


def test_mue_values_that_differ_by_setting() -> None:
    prac = {r["code"]: r for r in _table("mue_practitioner")}
    out = {r["code"]: r for r in _table("mue_outpatient")}
    # 96376 is facility only: practitioner MUE 0 ("CMS Policy"), outpatient 10.
    assert (prac["96376"]["mue"], prac["96376"]["rationale"]) == ("0", "CMS Policy")
    assert out["96376"]["mue"] == "10"
    assert (prac["96365"]["mue"], out["96365"]["mue"]) == ("1", "2")
    assert (prac["96366"]["mue"], out["96366"]["mue"]) == ("8", "24")
    assert (prac["96369"]["mai"], prac["96368"]["mai"]) == ("2", "2")
    assert (prac["J1459"]["mue"], prac["J1559"]["mue"]) == ("300", "2400")


def test_ncci_pairs_name_their_setting_and_indicator() -> None:
    rows = _table("ncci_ptp")
    pairs = {(r["column1"], r["column2"], r["setting"]): r["modifier_indicator"] for r in rows}
    assert all(r["setting"] in {"practitioner", "outpatient", "both"} for r in rows)
    assert all(r["modifier_indicator"] in {"0", "1"} and r["source"] for r in rows)
    assert len(pairs) == len(rows)
    assert pairs[("96365", "96360", "both")] == "1"
    assert pairs[("96365", "96372", "both")] == "1"
    assert pairs[("96365", "96374", "both")] == "1"
    assert pairs[("96413", "96409", "both")] == "1"
    assert pairs[("96365", "96523", "both")] == "0"
    assert pairs[("96365", "99213", "both")] == "1"
    # 99211 with drug administration: never (0) on practitioner claims, 1 on outpatient claims.
    assert pairs[("96365", "99211", "practitioner")] == "0"
    assert pairs[("96365", "99211", "outpatient")] == "1"
    # 96361 has no edit against 96365.
    assert not any(r["column1"] in {"96361", "96365"} and r["column2"] in {"96361", "96365"}
                   and r["column1"] != r["column2"] and "96361" in (r["column1"], r["column2"]) for r in rows)


def test_sources_list_is_complete_and_well_formed() -> None:
    import tomllib
    from importlib import resources

    sources = tomllib.loads(resources.files("scrubber.data").joinpath("sources.toml").read_text("utf-8"))
    for key, entry in sources.items():
        assert set(entry) == {"title", "issuer", "date", "where", "cites", "verified"}, key
        assert entry["title"] and entry["issuer"] and entry["where"] and entry["cites"], key
        assert entry["verified"] in {"text", "cited", "data"}, key
    # The ids RULES.md's rules rest on (docs/research/REFERENCE_DATA_NOTES.md maps rule to ids).
    assert {"IOM-100-04-12-30.5", "IOM-100-04-04-230.2", "IOM-100-04-17-10", "IOM-100-04-17-40",
            "IOM-100-04-12-30.6.7", "CPT-DRUG-ADMIN", "NCCI-PM-XI", "NCCI-AOC", "A52507", "A52509", "L33610",
            "L33794", "NCD-250.3", "CMS-JWJZ-FAQ", "MLN-MM13056", "CR7501", "CR3631", "CMS-MUE", "CMS-NCCI-PTP",
            "RAC-0071", "RAC-0074", "RAC-0137", "ICD10CM", "HCPCS", "CARC-RARC"} <= set(sources)


def test_the_next_release_follows_the_newest_shipped_one() -> None:
    nxt = reference.icd10_next()
    assert nxt is not None
    last = reference.icd10_releases().row(-1, named=True)
    assert nxt["judged_by_key"] == last["release_key"] and nxt["judged_by"] == last["release"]
    assert nxt["effective_from"] == last["effective_to"] + dt.timedelta(days=1)
    assert nxt["effective_to"] == dt.date(nxt["effective_from"].year + 1, 9, 30)
    assert nxt["release"] == f"FY{nxt['effective_to'].year}"


def test_categories_are_the_subdivided_codes_never_a_billable_one() -> None:
    categories = set(reference.icd10_categories("fy2026").to_list())
    codes = billable("fy2026")
    assert {"D80", "G35", "J459", "J4590", "E668"} <= categories
    assert not categories & codes
    assert "D808" not in categories and "D8099" not in categories  # billable; not a part of any code
    for category in ("D80", "J4590"):  # each is a leading part of longer billable codes
        assert any(code.startswith(category) and len(code) > len(category) for code in codes)


@pytest.mark.parametrize(("before", "after"), list(itertools.pairwise(FISCAL_YEARS)))
def test_no_category_ever_became_billable_in_the_next_release(before: str, after: str) -> None:
    """What lets FY2026's categories judge FY2027 dates (docs/RULES.md): a subdivided code has never
    been made billable again; the other way (a billable code subdivided, as G35) happens every year."""
    assert not set(reference.icd10_categories(before).to_list()) & billable(after)
