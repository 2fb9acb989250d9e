"""The registry is the single source of truth: unique stable ids, documented, each with fixtures."""

from __future__ import annotations

import re
import tomllib

from conftest import FIXTURES, SHARED

from scrubber.registry import FIX_KINDS, SCOPES, SEVERITIES, all_checks

# FORMATS.md fixes these ids; other tools build on them.
CONTRACT_IDS = {
    "addon-without-primary",
    "duplicate-initial-infusion",
    "route-mismatch",
    "unit-miscalculation",
    "missing-modifier",
    "over-cap-96371",
    "observation-counted-as-infusion",
    "noncovered-diagnosis",
}
DOC_SECTIONS = ("**What it finds.**", "**Why payers deny it.**", "**Example.**", "**Use instead.**",
                "**Appeal basis.**", "**Sources.**")


def test_ids_unique_and_cover_the_contract() -> None:
    ids = [c.id for c in all_checks()]
    assert len(ids) == len(set(ids))
    assert CONTRACT_IDS <= set(ids)


def test_contract_ids_match_formats_md_when_shared_is_present() -> None:
    formats = SHARED / "spec" / "FORMATS.md"
    if not formats.exists():
        return
    listed = set(re.findall(r"^\| `([a-z0-9-]+)` \|", formats.read_text(encoding="utf-8"), flags=re.M))
    assert listed == CONTRACT_IDS


def test_every_check_is_documented() -> None:
    for check in all_checks():
        assert check.severity in SEVERITIES and check.scope in SCOPES and check.fix_kind in FIX_KINDS
        assert check.title and check.rule and check.fix and check.appeal and check.sources and check.denial_codes
        assert check.doc.startswith(f"{check.id}:"), check.id
        for section in DOC_SECTIONS:
            assert section in check.doc, (check.id, section)


def test_every_check_has_fixtures_that_fire_and_near_misses_that_do_not() -> None:
    for check in all_checks():
        path = FIXTURES / "checks" / f"{check.id}.toml"
        assert path.exists(), f"no fixture for {check.id}"
        cases = tomllib.loads(path.read_text(encoding="utf-8"))["case"]
        assert any(c["expect"] for c in cases), f"{check.id}: no must-fire case"
        assert any(not c["expect"] for c in cases), f"{check.id}: no near-miss case"
