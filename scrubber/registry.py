"""The check registry: one table of every check, read by the engine, reports, CLI and tests.

A check is metadata plus a pure function from the enriched line frame to findings. Registration
is explicit: ``checks/__init__.py`` lists the checks in order; nothing registers itself by being
imported.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

SEVERITIES = ("error", "warning", "info")
SCOPES = ("line", "claim", "encounter")
FIX_KINDS = ("correction", "justification")

# Columns a check's finder must return (one row per finding).
FINDING_COLUMNS = ("row_id", "message", "suggested_fix", "appeal_text")


@dataclass(frozen=True)
class Context:
    """Run-wide tables a check may need besides the lines, all derived from policy + reference data.

    ``coverage``: (policy, setting, code) for every covered diagnosis, undotted.
    ``coverage_lists``: (policy, setting, lists), the list ids behind each, for messages.
    """

    coverage: pl.LazyFrame
    coverage_lists: pl.LazyFrame

    def covered_sets(self) -> dict[tuple[str, str], pl.Series]:
        """(policy, setting) -> the covered codes, for set tests."""
        table = self.coverage.collect()
        return {(policy, setting): group.get_column("code")
                for (policy, setting), group in table.group_by("policy", "setting", maintain_order=True)}


@dataclass(frozen=True)
class Check:
    """Metadata of one check and the function that finds its problems.

    ``find`` takes the enriched lines (:mod:`scrubber.enrich`) as a LazyFrame and the run's
    :class:`Context`, and returns a
    LazyFrame with :data:`FINDING_COLUMNS` and optionally ``severity`` (to override the default
    per finding, as unit-miscalculation does for under-billing). ``unevaluated`` takes the same
    enriched lines and returns the ones the check applies to but lacks the data to decide (no
    times, no dose); the engine counts them for the summary.
    """

    id: str
    title: str
    severity: str
    scope: str
    rule: str
    sources: tuple[str, ...]
    fix: str
    appeal: str
    denial_codes: tuple[str, ...]
    fix_kind: str
    disposition: str  # what the payer does with it (CMS editors keep this apart from severity)
    find: Callable[[pl.LazyFrame, Context], pl.LazyFrame]
    unevaluated: Callable[[pl.LazyFrame], pl.LazyFrame] | None = None

    @property
    def doc(self) -> str:
        """The module docstring: what, why, example, fix, sources (``scrub explain`` prints it)."""
        module = inspect.getmodule(self.find)
        return inspect.cleandoc(module.__doc__ or "") if module else ""

    @property
    def citation(self) -> str:
        return "; ".join(self.sources)


def all_checks() -> list[Check]:
    """Every registered check, in registry order; ids are unique."""
    from checks import REGISTERED

    seen: set[str] = set()
    for check in REGISTERED:
        if check.id in seen:
            raise RuntimeError(f"check id registered twice: {check.id}")
        seen.add(check.id)
    return list(REGISTERED)


def by_id() -> dict[str, Check]:
    return {c.id: c for c in all_checks()}
