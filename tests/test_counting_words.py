"""The words of the encounter-counting checks (duplicate-initial-infusion, over-cap-96371,
units-over-mue, ncci-ptp-conflict) read right for each payer kind and setting (issue 11 "The words"):
no Medicare-only remedy or manual in a commercial payer's text, the hospital manual (IOM 100-04 ch.4
section 230.2) on institutional claims and the physician one (ch.12) only on professional claims, the
computed answer in every fix (never "x0"), no internal file or list names, and the table quarter in
every MUE and NCCI message."""

from __future__ import annotations

import re
import textwrap
import tomllib

import polars as pl
import pytest
from conftest import FIXTURES

from checks import by_id
from scrubber.cards import LINE_FACTS, PAYER_KINDS, SETTINGS, render
from scrubber.engine import scrub

CHECKS = ("duplicate-initial-infusion", "over-cap-96371", "units-over-mue", "ncci-ptp-conflict")
TEXTS = ("message", "suggested_fix", "appeal_text", "attach")
MEDICARE_ONLY = re.compile(r"\b(ABN|GA|GZ|GY|IOM|Medicare)\b")
PHYSICIAN_MANUAL = re.compile(r"ch\. ?12")
INTERNAL = re.compile(r"RULES\.md|REFERENCE\.md|\.csv|\.toml|IG_OFFICE_DEFAULT|MANIFEST")


def _every_variant(check_id: str) -> pl.DataFrame:
    """One finding per reason, payer kind and setting, every fact filled with a plain value."""
    card = by_id()[check_id].card
    rows = []
    for name, reason in card.reasons.items():
        for kind in PAYER_KINDS:
            for setting in SETTINGS:
                row = {"reason": name, "payer_kind": kind, "claim_type": setting}
                for fact in reason.placeholders():
                    row[LINE_FACTS.get(fact, fact)] = f"<{fact}>"
                rows.append(row)
    return render(pl.DataFrame(rows), card)


@pytest.mark.parametrize("check_id", CHECKS)
def test_every_reason_reads_right_for_each_payer_kind_and_setting(check_id: str) -> None:
    worded = _every_variant(check_id)
    for row in worded.iter_rows(named=True):
        where = (check_id, row["reason"], row["payer_kind"], row["claim_type"])
        texts = " ".join(row[t] or "" for t in TEXTS)
        assert row["message"] and row["suggested_fix"] and row["appeal_text"] and row["citation"], where
        if row["payer_kind"] == "commercial":
            assert not MEDICARE_ONLY.search(texts) and "IOM" not in row["citation"], where
        if row["claim_type"] == "institutional":
            assert not PHYSICIAN_MANUAL.search(texts + row["citation"]), where
        assert not INTERNAL.search(texts + row["citation"]), where
        if row["fix_kind"] == "justification":
            assert row["attach"], where
        if row["fix_kind"] == "correction":
            assert "frequency code 7" in row["appeal_text"] and "<payer_claim_number>" in row["appeal_text"], where


def test_duplicate_initial_cites_the_manual_of_the_setting() -> None:
    worded = _every_variant("duplicate-initial-infusion").filter(pl.col("payer_kind") == "medicare")
    for row in worded.iter_rows(named=True):
        if row["claim_type"] == "institutional":
            assert "ch. 4, section 230.2" in row["citation"] and "ch.4 section 230.2" in row["appeal_text"]
            assert "vascular access site" in row["appeal_text"]
        else:
            assert "ch. 12, section 30.5" in row["citation"] and "ch.12 section 30.5" in row["appeal_text"]


def test_mue_and_ncci_messages_name_the_numbers_and_the_quarter() -> None:
    for check_id in ("units-over-mue", "ncci-ptp-conflict"):
        for name, reason in by_id()[check_id].card.reasons.items():
            message = " ".join(reason.texts["message"].values())
            if name.startswith("over_policy_cap") or name == "policy_cap_zero":  # a payer's cap, not a CMS table
                assert "{cap}" in message and "{policy}" in message
                continue
            assert "{quarter}" in message and "{table}" in message, (check_id, name)
    for name, reason in by_id()["units-over-mue"].card.reasons.items():
        message = " ".join(reason.texts["message"].values())
        assert "{mue}" in message or "{cap}" in message or name == "mue_zero", name
        assert "{units}" in message or "{billed}" in message, name
    assert "facility-only" in by_id()["units-over-mue"].card.reasons["mue_zero"].texts["message"]["default"]
    for reason in by_id()["ncci-ptp-conflict"].card.reasons.values():
        assert "{column1}" in reason.texts["message"]["default"] and "{code}" in reason.texts["message"]["default"]


def _fixture_cases():
    for check_id in CHECKS:
        doc = tomllib.loads((FIXTURES / "checks" / f"{check_id}.toml").read_text(encoding="utf-8"))
        for case in doc["case"]:
            if case["expect"] and "policy" not in case and "reference" not in case:
                yield pytest.param(check_id, case, id=f"{check_id}: {case['name']}")


@pytest.mark.parametrize(("check_id", "case"), list(_fixture_cases()))
def test_findings_on_real_claims_give_the_computed_answer(check_id: str, case: dict, write_csv) -> None:
    found = scrub([str(write_csv(textwrap.dedent(case["csv"])))], select=[check_id]).findings
    assert found.height
    for row in found.iter_rows(named=True):
        texts = " ".join(row[t] or "" for t in TEXTS)
        assert not re.search(r"\bx0\b|x0 |\bx-", texts), texts
        # Every fact is known (the payer's claim number is absent from these inputs).
        assert not re.search(r"\[(?!payer claim number\?)[a-z0-9 ]+\?\]", texts), texts
        assert str(row["line_number"]) in row["suggested_fix"] and row["claim_id"] in row["suggested_fix"], texts
        if row["payer_kind"] == "commercial":
            assert not MEDICARE_ONLY.search(texts) and "IOM" not in row["citation"], texts
        if row["claim_type"] == "institutional":
            assert not PHYSICIAN_MANUAL.search(texts + row["citation"]), texts
        assert row["charge_at_risk"] > 0
