"""What a check is: an id, a pure function that decides, and a card that words the decision.

The list of checks lives in ``checks/__init__.py`` (:data:`checks.REGISTERED`, read through
:func:`checks.all_checks`); this module only defines their shape, so that ``checks`` imports the
registry and never the other way round. Registration is explicit: nothing registers itself by
being imported.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from scrubber.cards import FIX_KINDS, SCOPES, SEVERITIES, Card, cite

__all__ = ["FIX_KINDS", "SCOPES", "SEVERITIES", "Check", "Context"]


@dataclass(frozen=True)
class Context:
    """Run-wide tables a check may need besides the lines, all derived from policy + reference data.

    ``coverage``: (policy, setting, code) for every covered diagnosis, undotted.
    ``coverage_lists``: (policy, setting, lists), the list ids behind each, for messages.
    ``policy_params``: one row per policy, its parameters (``pol_kx_accepted``...), for the few finding
    rows whose words name them (the lines carry what they decide with, not every list).
    ``policy_caps``: (policy, procedure_code, cap), the caps of every policy, for a fix that names a
    code its line does not bill (a line carries only its own code's cap, ``pol_cap``).
    """

    coverage: pl.LazyFrame
    coverage_lists: pl.LazyFrame
    policy_params: pl.LazyFrame
    policy_caps: pl.LazyFrame = field(default_factory=lambda: pl.LazyFrame(
        schema={"policy": pl.String(), "procedure_code": pl.String(), "cap": pl.Int64()}))

    @classmethod
    def empty(cls) -> Context:
        """No policy tables: what a fact decided once per batch reads when no run's context was kept
        for its lines (:func:`scrubber.per_batch.context_of`)."""
        return cls(coverage=pl.LazyFrame(schema={"policy": pl.String(), "setting": pl.String(), "code": pl.String()}),
                   coverage_lists=pl.LazyFrame(schema={"policy": pl.String(), "setting": pl.String(),
                                                       "lists": pl.String()}),
                   policy_params=pl.LazyFrame(schema={"policy": pl.String()}))

    def covered_sets(self) -> dict[tuple[str, str], pl.Series]:
        """(policy, setting) -> the covered codes, for set tests."""
        table = self.coverage.collect()
        return {(policy, setting): group.get_column("code")
                for (policy, setting), group in table.group_by("policy", "setting", maintain_order=True)}


@dataclass(frozen=True)
class Check:
    """One check: its card (the words) and the functions that decide.

    ``find`` takes the enriched lines (:mod:`scrubber.enrich`) as a LazyFrame and the run's
    :class:`Context`, and returns a LazyFrame with ``row_id`` (the line the finding is about),
    ``reason`` (a name in the card) and the facts the card's templates use, nothing else.
    ``unevaluated`` takes the same lines and returns the ones the check applies to but lacks the
    data to decide (no times, no dose); the engine counts them for the summary.
    ``reads_timing``: ``find`` or ``unevaluated`` reads :func:`scrubber.timing.timing` (directly or
    through :mod:`checks._counting`); the engine computes the time facts while the other checks run
    (tests/test_reads_timing.py holds every check to its flag).
    """

    card: Card
    find: Callable[[pl.LazyFrame, Context], pl.LazyFrame]
    unevaluated: Callable[[pl.LazyFrame], pl.LazyFrame] | None = None
    reads_timing: bool = False

    @property
    def id(self) -> str:
        return self.card.check_id

    @property
    def title(self) -> str:
        return self.card.title

    @property
    def scope(self) -> str:
        return self.card.scope

    @property
    def severity(self) -> str:
        """The most severe severity the check gives (tables); each finding has its reason's."""
        return self.card.severities[0]

    @property
    def fix_kind(self) -> str:
        return self.card.fix_kinds[0]

    @property
    def disposition(self) -> str:
        return self.card.disposition

    @property
    def citation(self) -> str:
        return cite(self.card.sources)

    @property
    def rule(self) -> str:
        """The rule the check enforces: the first section of its module docstring (docs/RULES.md's text)."""
        return rule_of(self.doc)

    @property
    def doc(self) -> str:
        """The module docstring: the rule as docs/RULES.md states it, then how the check decides."""
        module = inspect.getmodule(self.find)
        return inspect.cleandoc(module.__doc__ or "") if module else ""


def rule_of(doc: str) -> str:
    """The rule paragraph(s) of a check docstring: everything between the title line and the first
    ``Implementation`` heading, whitespace folded."""
    body = doc.split("\n", 1)[1] if "\n" in doc else ""
    body = re.split(r"\n\s*Implementation\b", body, maxsplit=1)[0]
    return " ".join(body.split())
