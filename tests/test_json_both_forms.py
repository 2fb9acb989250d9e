"""A JSON line that gives a list and numbered fields keeps both, as the Parquet reader does.

``"modifiers": []`` beside ``"modifier_1": "JZ"`` dropped the JZ (missing-modifier fired) while the same
line as Parquet read it; ``"diagnoses": ["Z00.00"]`` beside ``"diagnosis_1": "D80.0"`` dropped D80.0
(probe J). Both the Python reader (small documents) and the Polars reader (large ones) are tested.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scrubber.engine import scrub


def _claim(n: int, modifiers: list[str], modifier_1: str | None, diagnoses: list[str] | None,
           diagnosis_1: str | None) -> dict:
    line = {"line_number": 1, "date_of_service": "2026-03-02", "procedure_code": "J1459", "units": 70,
            "charge": 7000, "drug_dose_mg": 35000, "modifiers": modifiers}
    if modifier_1 is not None:
        line["modifier_1"] = modifier_1
    if diagnoses is not None:
        line["diagnoses"] = diagnoses
    if diagnosis_1 is not None:
        line["diagnosis_1"] = diagnosis_1
    return {"claim_id": f"C{n}", "member_id": f"M{n}", "payer": "MEDICARE", "place_of_service": "12",
            "lines": [line]}


@pytest.mark.parametrize("copies", [1, 2000], ids=["python-reader", "polars-reader"])
def test_both_forms_are_read(tmp_path: Path, copies: int) -> None:
    claims = [_claim(n, [], "JZ", ["Z00.00"], "D80.0") for n in range(copies)]
    path = tmp_path / "claims.json"
    path.write_text(json.dumps({"claims": claims}), encoding="utf-8")
    result = scrub([str(path)])
    lines = result.lines.filter(result.lines["claim_id"] == "C0")
    assert lines.get_column("modifiers").to_list() == [["JZ"]]
    assert lines.get_column("diagnoses").to_list() == [["D800", "Z0000"]]
    # Home IVIG with JZ and a covered diagnosis (D80.0, A52509) first: no finding on the line.
    assert result.findings.filter(result.findings["claim_id"] == "C0").height == 0


@pytest.mark.parametrize("copies", [1, 2000], ids=["python-reader", "polars-reader"])
def test_near_miss_the_list_alone_is_read_as_before(tmp_path: Path, copies: int) -> None:
    claims = [_claim(n, ["JZ"], None, ["D80.0"], None) for n in range(copies)]
    path = tmp_path / "claims.json"
    path.write_text(json.dumps({"claims": claims}), encoding="utf-8")
    lines = scrub([str(path)]).lines
    row = lines.filter(lines["claim_id"] == "C0")
    assert row.get_column("modifiers").to_list() == [["JZ"]] and row.get_column("diagnoses").to_list() == [["D800"]]


def _pointed(n: int, claim_id: str | None, diagnosis_1: str | None) -> dict:
    """A claim whose one line points at its claim's D80.0, with its own claim id and diagnosis_1 when given."""
    line = {"line_number": 1, "date_of_service": "2026-03-02", "procedure_code": "96365", "units": 1,
            "charge": 300, "diagnosis_pointers": [1]}
    if claim_id is not None:
        line["claim_id"] = claim_id
    if diagnosis_1 is not None:
        line["diagnosis_1"] = diagnosis_1
    return {"claim_id": f"C{n}", "member_id": f"M{n}", "payer": "MEDICARE", "place_of_service": "11",
            "diagnoses": ["D80.0"], "lines": [line]}


@pytest.mark.parametrize("copies", [1, 2000], ids=["python-reader", "polars-reader"])
def test_a_lines_own_diagnosis_beside_its_pointers_is_kept(tmp_path: Path, copies: int) -> None:
    # Probe 21B D5: "diagnosis_1": "D80" (not billable) beside pointers was dropped, never validated.
    claims = [_pointed(0, None, "D80"), *(_pointed(n, None, None) for n in range(1, copies))]
    path = tmp_path / "claims.json"
    path.write_text(json.dumps({"claims": claims}), encoding="utf-8")
    result = scrub([str(path)])
    lines = result.lines.filter(result.lines["claim_id"].is_in(["C0", "C1"])).sort("claim_id")
    assert lines.get_column("diagnoses").to_list()[0] == ["D80", "D800"]
    assert ("C0", "invalid_code") in set(result.findings.select("claim_id", "reason").iter_rows())
    if copies > 1:  # (near miss: pointers alone read as before)
        assert lines.get_column("diagnoses").to_list()[1] == ["D800"]


@pytest.mark.parametrize("copies", [1, 2000], ids=["python-reader", "polars-reader"])
def test_a_line_naming_another_claim_is_rejected_under_its_own(tmp_path: Path, copies: int) -> None:
    # Probe 21B D4: a line of claim object C0 giving "claim_id": "C1" moved into C1, another member's
    # claim, which was then rejected whole. The line is rejected under C0; C1 is checked as alone.
    claims = [_pointed(0, "C1", None), *(_pointed(n, None, None) for n in range(1, max(copies, 2)))]
    path = tmp_path / "claims.json"
    path.write_text(json.dumps({"claims": claims}), encoding="utf-8")
    result = scrub([str(path)])
    (rejected,) = result.rejected.to_dicts()
    assert rejected["claim_id"] == "C0" and "inside claim object 'C0'" in rejected["reason"]
    assert result.summary["rows_checked"] == max(copies, 2) - 1
    # (near misses: a line repeating its own claim's id, spaced otherwise too, is read as before)
    for own in ("C0", " C0", "C0\u00a0"):
        same = [_pointed(0, own, None), *(_pointed(n, None, None) for n in range(1, max(copies, 2)))]
        path.write_text(json.dumps({"claims": same}), encoding="utf-8")
        assert scrub([str(path)]).summary["rejected_rows"] == 0, own
