"""The registry is the single source of truth: unique stable ids, each check documented by its rule
and worded by a complete card, each reason with fixtures."""

from __future__ import annotations

import re
import tomllib

from conftest import FIXTURES, SHARED, empty_canonical

from checks import all_checks
from scrubber.cards import EXPLAIN_SECTIONS, LINE_FACTS, sources
from scrubber.registry import FIX_KINDS, SCOPES, SEVERITIES

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


def _carded() -> list:
    return all_checks()


def test_ids_unique_and_cover_the_contract() -> None:
    ids = [c.id for c in all_checks()]
    assert len(ids) == len(set(ids))
    assert CONTRACT_IDS <= set(ids)


def test_contract_ids_match_formats_md_when_shared_is_present() -> None:
    formats = SHARED / "spec" / "FORMATS.md"
    if not formats.exists():
        return
    listed = set(re.findall(r"^\| `([a-z0-9-]+)` \|", formats.read_text(encoding="utf-8"), flags=re.M))
    assert listed <= {c.id for c in all_checks()}
    assert CONTRACT_IDS <= listed


def test_every_check_is_documented() -> None:
    for check in all_checks():
        assert check.severity in SEVERITIES and check.scope in SCOPES and check.fix_kind in FIX_KINDS
        assert check.title and check.disposition and check.citation
        assert check.doc.startswith(f"{check.id}:"), check.id
        assert check.rule.startswith(f"**{check.id}**"), (check.id, check.rule[:80])
        for section in EXPLAIN_SECTIONS:
            assert check.card.explain[section], (check.id, section)


def test_every_citation_is_a_shipped_source() -> None:
    known = sources()
    for source_id, source in known.items():
        for key in ("title", "issuer", "where", "cites"):
            assert str(source.get(key, "")).strip(), (source_id, key)
    for check in _carded():
        assert set(check.card.sources) <= set(known), check.id
        for reason in check.card.reasons.values():
            for ids in reason.citations.values():
                assert ids and set(ids) <= set(known), (check.id, reason.name, ids)


def test_a_reason_without_citations_cites_the_cards_citations_else_its_sources() -> None:
    """units-over-mue says once which MUE table each setting cites (19E: the same variants were
    repeated in six reasons); a reason that says otherwise keeps its own; a card without citations
    lends its sources."""
    from scrubber.cards import parse_card

    mue = {c.id: c for c in all_checks()}["units-over-mue"].card
    table = {"default": ("CMS-MUE-PRACTITIONER",), "professional": ("CMS-MUE-PRACTITIONER",),
             "institutional": ("CMS-MUE-OUTPATIENT",)}
    assert mue.reasons["over_mue_policy_line"].citations == table
    assert "CPT-DRUG-ADMIN" in mue.reasons["second_site_over_mue"].citations["default"]  # its own
    explain = dict.fromkeys(EXPLAIN_SECTIONS, "x")
    reason = {"severity": "error", "fix_kind": "correction", "risk": "line", "message": "m", "fix": "f",
              "correction": "c"}
    card = {"id": "x", "title": "X", "scope": "line", "summary": "s", "disposition": "d", "sources": ["CPT-DRUG-ADMIN"],
            "explain": explain, "reasons": {"r": reason}}
    assert parse_card(card).reasons["r"].citations == {"default": ("CPT-DRUG-ADMIN",)}
    cited = parse_card({**card, "citations": {"medicare": ["IOM-100-04-12-30.5"], "commercial": ["CPT-DRUG-ADMIN"]}})
    assert cited.reasons["r"].citations == {"medicare": ("IOM-100-04-12-30.5",), "commercial": ("CPT-DRUG-ADMIN",)}


def test_every_placeholder_of_every_card_has_its_fact() -> None:
    """A template may only name a line fact or a fact the check's find() returns (checked on the
    plan's schema, so a renamed fact fails here, not on a customer's claim)."""
    import polars as pl

    from scrubber.engine import build_context
    from scrubber.enrich import enrich
    from scrubber.policy import PolicySet

    policies = PolicySet.load()
    enriched = enrich(empty_canonical(), policies).lazy()
    ctx = build_context(policies)
    for check in _carded():
        schema = check.find(enriched, ctx).collect_schema()
        assert {"row_id", "reason"} <= set(schema), check.id
        facts = set(LINE_FACTS) | {c for c in schema if not c.startswith("_")}
        for reason in check.card.reasons.values():
            missing = reason.placeholders() - facts
            assert not missing, (check.id, reason.name, missing)
        assert isinstance(schema["reason"], pl.String | pl.Categorical), check.id


def test_every_check_has_fixtures_that_fire_and_near_misses_that_do_not() -> None:
    for check in all_checks():
        path = FIXTURES / "checks" / f"{check.id}.toml"
        assert path.exists(), f"no fixture for {check.id}"
        cases = tomllib.loads(path.read_text(encoding="utf-8"))["case"]
        assert any(c["expect"] for c in cases), f"{check.id}: no must-fire case"
        assert any(not c["expect"] for c in cases), f"{check.id}: no near-miss case"


def test_every_reason_has_a_fixture() -> None:
    """Each reason of each card is named by at least one must-fire fixture case (``reasons``)."""
    for check in _carded():
        doc = tomllib.loads((FIXTURES / "checks" / f"{check.id}.toml").read_text(encoding="utf-8"))
        named = {r for case in doc["case"] for r in case.get("reasons", {}).values()}
        assert set(check.card.reasons) <= named, (check.id, set(check.card.reasons) - named)


_RECORD_BLAME = re.compile(r"recording error|was an error|so that it supports|correct(?:ed)? the route in the "
                           r"administration record", re.IGNORECASE)


def test_no_payer_facing_text_declares_the_record_wrong_or_fits_it_to_the_code() -> None:
    """A corrected claim cannot attest that the clinical record "was a recording error", and a fix must
    not tell the biller to change the record "so that it supports" the code billed: an auditor reads
    that as altering records to fit billing (probe K). The record is confirmed with the clinician and
    amended by its author as a dated late entry."""
    for check in all_checks():
        for reason in check.card.reasons.values():
            for text in _texts_of(reason.texts):
                assert not _RECORD_BLAME.search(text), (check.id, reason.name, text)


def _texts_of(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _texts_of(v)]
    if isinstance(value, list | tuple):
        return [t for v in value for t in _texts_of(v)]
    return []


def test_payer_facing_texts_never_name_the_scrubbers_own_policy() -> None:
    """Corrections and appeals go to the payer: "per the DEFAULT policy for discarded drug" names this
    tool's fallback policy, which a BCBS reviewer cannot know (probe M). They name the payer ({payer})
    or the coding rule itself; the messages and fixes, read by the biller, may name the policy."""
    for check in all_checks():
        for reason in check.card.reasons.values():
            for kind in ("correction", "appeal"):
                for text in _texts_of(reason.texts.get(kind)):
                    assert "{policy}" not in text and "DEFAULT" not in text, (check.id, reason.name, kind, text)



def test_an_invalid_diagnosis_is_denied_with_the_invalid_diagnosis_remark() -> None:
    """CARC 146 (diagnosis inconsistent with the date) comes with RARC M76 (missing, incomplete or
    invalid diagnosis), never the card's N115 ("decision based on an LCD"), which a reason giving its own
    CARC and no RARC borrowed (probe 28D D3: unpointed_invalid_code)."""
    from checks import all_checks

    invalid = [(check.id, name, reason.rarc or check.card.rarc) for check in all_checks()
               for name, reason in check.card.reasons.items() if "146" in (reason.carc or check.card.carc)]
    assert len(invalid) >= 3 and all("M76" in rarc for _, _, rarc in invalid), invalid
