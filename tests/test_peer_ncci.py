"""A peer claim editor's NCCI engine tests (aurelianware/cloudhealthoffice, transcribed as data in
``../shared/external/peer_tests/aurelianware_cloudhealthoffice_ncci/ncci_cases.json``), run through
ncci-ptp-conflict (their rule NE001) and units-over-mue (NE002).

Each case brings its own PTP and MUE tables; they are loaded the way a user loads a newer CMS quarter:
files named as the shipped ones in a directory with a MANIFEST.toml saying the table and quarter, named
by ``SCRUBBER_REFERENCE_DIR``. Where our rules deliberately differ, :data:`DIFFERENCES` says how and
why, and the test asserts our behaviour instead of theirs.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from conftest import SHARED

from scrubber.engine import scrub

CASES_FILE = SHARED / "external" / "peer_tests" / "aurelianware_cloudhealthoffice_ncci" / "ncci_cases.json"
_DOS = "2025-03-01"  # their default date of service; their edits are effective 2025-01-01
_RULE_CHECK = {"NE001": "ncci-ptp-conflict", "NE002": "units-over-mue"}

# Case name -> (the findings we give instead, as (rule, line) pairs, and why).
DIFFERENCES: dict[str, tuple[list[tuple[str, int]], str]] = {
    "NE001_Mi1_Modifier59OnCol1NotCol2_StillDenies": (
        [],
        "since 2019-07-01 CMS accepts 59/X{EPSU} on either code of an indicator-1 pair (Part B; RULES.md "
        "ncci-ptp-conflict, REFERENCE.md 4d): 59 on the column-1 99213 bypasses the edit for a 2025 date",
    ),
    "NE002_Mai2_TwoLinesSumExceedsLimit_Denies": (
        [("NE002", 2)],
        "a date-of-service MUE is reported on the line whose units run past the limit (3 + 3 against 4: "
        "2 units of line 2), with those units at risk and the fix on that line; they list both lines",
    ),
}


def _cases() -> list:
    if not CASES_FILE.exists():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"{CASES_FILE} not present (../shared absent)"))]
    cases = json.loads(CASES_FILE.read_text(encoding="utf-8"))["cases"]
    return [pytest.param(c, id=c["name"]) for c in cases]


def _csv(header: list[str], rows: list[list[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _tables(case: dict, where: Path) -> None:
    """Their PTP and MUE rows as a replacement table directory (a rule with no setting flag applies
    to both; ``professional``/``facility`` choose the practitioner or outpatient hospital table)."""
    where.mkdir()
    mue = {"practitioner": [], "outpatient": []}
    for row in case["mue"]:
        for setting, flag in (("practitioner", "professional"), ("outpatient", "facility")):
            if row.get(flag, True):
                mue[setting].append([row["code"], row["max"], row["mai"], "peer test", "peer table"])
    for setting, rows in mue.items():
        (where / f"mue_{setting}.csv").write_text(_csv(["code", "mue", "mai", "rationale", "source"], rows))
    ptp = [[p["col1"], p["col2"], p["mi"], "2025-01-01", "", "both", "peer table"] for p in case["ptp"]]
    (where / "ncci_ptp.csv").write_text(_csv(
        ["column1", "column2", "modifier_indicator", "effective_from", "effective_to", "setting", "source"], ptp))
    (where / "MANIFEST.toml").write_text("\n".join(
        f'[{key}]\nrelease = "peer test table ({case["name"]})"\ntable_quarter = "2025Q1"\n'
        for key in ("mue_practitioner", "mue_outpatient", "ncci_ptp")))


def _claims(case: dict) -> str:
    claim_type = "institutional" if case["claim_type"] == "837I" else "professional"
    rows = []
    for line in case["lines"]:
        mods = (line.get("modifiers") or []) + ["", "", "", ""]
        rows.append(["P1", line["ln"], "M1", "MEDICARE", claim_type, "11" if claim_type == "professional" else "22",
                     line.get("dos", _DOS), line["code"], *mods[:4], line["units"], 100, "D80.0"])
    return _csv(["claim_id", "line_number", "member_id", "payer", "claim_type", "place_of_service",
                 "date_of_service", "procedure_code", "modifier_1", "modifier_2", "modifier_3", "modifier_4",
                 "units", "charge", "diagnosis_1"], rows)


@pytest.mark.parametrize("case", _cases())
def test_peer_case(case: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _tables(case, tmp_path / "tables")
    monkeypatch.setenv("SCRUBBER_REFERENCE_DIR", str(tmp_path / "tables"))
    claims = tmp_path / "claims.csv"
    claims.write_text(_claims(case))
    result = scrub([str(claims)], select=list(_RULE_CHECK.values()))
    assert result.summary["rejected_rows"] == 0, result.rejected.to_dicts()
    found = result.findings
    ours = sorted((rule, ln) for rule, check in _RULE_CHECK.items()
                  for ln in found.filter(found["check_id"] == check).get_column("line_number").to_list())
    if case["name"] in DIFFERENCES:
        expected, why = DIFFERENCES[case["name"]]
        assert ours == sorted(expected), why
        return
    expect = case["expect"]
    if expect["passed"]:
        assert ours == [], found.get_column("message").to_list()
        return
    assert {rule for rule, _ in ours} == {f["rule"] for f in expect["failures"]}, found.get_column("message").to_list()
    for failure in expect["failures"]:
        mine = found.filter(found["check_id"] == _RULE_CHECK[failure["rule"]])
        if "affected_lines" in failure:
            assert sorted(mine.get_column("line_number").to_list()) == failure["affected_lines"]
        messages = " ".join(mine.get_column("message").to_list())
        # The numbers they report are in our words: the pair, the units billed, the MUE.
        for key in ("col1", "col2", "units_billed", "mue_max"):
            if key in failure:
                assert re.search(rf"(?<![0-9]){failure[key]}(?![0-9])", messages), (key, messages)
        # CARC/RARC are not compared: theirs (97/N519, B20; 151/N115) are their own mapping; ours follow
        # the X12 lists for Medicare NCCI (236, 97 + M15) and MUE (151 + N362) denials (the cards).
