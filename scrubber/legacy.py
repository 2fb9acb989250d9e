"""Adapter for checks not yet moved to cards (their ``find`` still writes the text itself).

Temporary: each check moves to a card (``checks/<module>.toml``) with its second-edition rules;
when the last one has, this module goes.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from scrubber.cards import Card, Reason
from scrubber.registry import Check, Context


def legacy_check(*, id: str, title: str, severity: str, scope: str, rule: str, sources: tuple[str, ...], fix: str,
                 appeal: str, denial_codes: tuple[str, ...], fix_kind: str, disposition: str,
                 find: Callable[[pl.LazyFrame, Context], pl.LazyFrame],
                 unevaluated: Callable[[pl.LazyFrame], pl.LazyFrame] | None = None) -> Check:
    reason = Reason(name="legacy", severity=severity, fix_kind=fix_kind, risk="line",
                    texts={"message": {"default": "{message}"}}, citations={"default": ()})
    card = Card(check_id=id, title=title, scope=scope, summary=rule, disposition=disposition, sources=(),
                explain={"why": rule, "example": "", "use_instead": fix, "appeal_basis": appeal},
                reasons={"legacy": reason}, carc=denial_codes)
    return LegacyCheck(card=card, find=find, unevaluated=unevaluated, legacy_citation="; ".join(sources))


class LegacyCheck(Check):
    legacy_citation: str = ""

    def __init__(self, card: Card, find, unevaluated, legacy_citation: str) -> None:  # type: ignore[no-untyped-def]
        object.__setattr__(self, "card", card)
        object.__setattr__(self, "find", find)
        object.__setattr__(self, "unevaluated", unevaluated)
        object.__setattr__(self, "legacy_citation", legacy_citation)

    @property
    def citation(self) -> str:
        return self.legacy_citation
