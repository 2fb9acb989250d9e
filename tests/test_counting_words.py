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


def test_a_second_initial_without_its_second_site_is_reported_as_its_documented_time_says(write_csv) -> None:
    """Probe 28D D1: a 96365-XS over the MUE whose record shows no second site was told "96367 for a
    sequential service, 96366 for an additional hour", though its times ran with line 1's: recoded
    96367 the next run said "a concurrent infusion (96368)", recoded 96366 "delete 96366". Run with the
    other line for the floor or more, it is the concurrent infusion (C1) and a second hydration no
    service of its own (C2); near misses: after the first (C3) or untimed (C4), the subsequent codes."""
    header = "claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,modifier_1," \
             "units,charge,diagnosis_1,infusion_start,infusion_stop"

    def line(claim: str, n: int, code: str, mod: str, start: str, stop: str) -> str:
        times = [f"2026-04-06T{t}" if t else "" for t in (start, stop)]
        return ",".join([claim, str(n), f"M{claim}", "MEDICARE", "11", "2026-04-06", code, mod, "1", "300", "E86.0",
                         *times])

    rows = [line("C1", 1, "96365", "", "09:00", "10:00"), line("C1", 2, "96365", "XS", "09:05", "10:05"),
            line("C2", 1, "96360", "", "09:00", "10:00"), line("C2", 2, "96360", "XS", "09:00", "10:00"),
            line("C3", 1, "96365", "", "09:00", "10:00"), line("C3", 2, "96365", "XS", "10:00", "11:00"),
            line("C4", 1, "96365", "", "", ""), line("C4", 2, "96365", "XS", "", ""),
            # (review 28E D4: two such lines run at the same time: 96368 once per encounter, on the first)
            line("C5", 1, "96365", "", "09:00", "10:00"), line("C5", 2, "96365", "XS", "09:05", "10:05"),
            line("C5", 3, "96365", "XS", "09:10", "10:10")]
    found = scrub([str(write_csv(header + "\n" + "\n".join(rows) + "\n"))], select=["units-over-mue"]).findings
    fixes = {r["claim_id"]: r["suggested_fix"] for r in found.iter_rows(named=True)
             if r["reason"] == "second_site_over_mue" and r["line_number"] == 2}
    third = found.filter((pl.col("claim_id") == "C5") & (pl.col("line_number") == 3)).item(0, "suggested_fix")
    assert sorted(fixes) == ["C1", "C2", "C3", "C4", "C5"]
    assert "report it as 96368, the concurrent infusion" in fixes["C5"], fixes["C5"]
    assert third.endswith("; otherwise delete it: its documented 09:10-10:10 runs with claim C5 line 2's "
                          "09:05-10:05, and the concurrent infusion (96368) is reported once per encounter, on "
                          "claim C5 line 2."), third
    assert fixes["C1"].endswith("; otherwise report it as 96368, the concurrent infusion: its documented 09:05-10:05 "
                                "runs with claim C1 line 1's 09:00-10:00."), fixes["C1"]
    assert fixes["C2"].endswith("; otherwise delete it: its documented 09:00-10:00 runs at the same time as claim C2 "
                                "line 1's 09:00-10:00, which reports that service."), fixes["C2"]
    for claim in ("C3", "C4"):
        assert fixes[claim].endswith("; otherwise report it with the subsequent code the record supports (96367 for "
                                     "a sequential service, 96366 for an additional hour)."), fixes[claim]
