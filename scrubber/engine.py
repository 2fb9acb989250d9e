"""Run a scrub: load, canonicalise, enrich once, run the selected checks, assemble findings.

The engine is the only place that knows the order of things; checks never see files, options or
output formats. Findings come out in a deterministic order (claim, line, registry order of the
check, message) so the same input gives byte-identical output.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

from scrubber import __version__, reference
from scrubber.canonical import canonicalise
from scrubber.enrich import enrich
from scrubber.errors import InputError, PolicyError, UsageError
from scrubber.grouping import claim_order, run_starts
from scrubber.loaders import load_inputs
from scrubber.policy import PolicySet
from scrubber.records import RecordJoin, empty_problems, load_records
from scrubber.registry import FIX_KINDS, Check, Context, all_checks
from scrubber.schema import location

if TYPE_CHECKING:  # pragma: no cover
    from scrubber.suppressions import SuppressionSet

# Called at phase boundaries and per input batch with (phase, lines so far): ``scrub check``'s
# progress line on a terminal (scrubber.progress). Never called per line.
Progress = Callable[[str, int], None]

SEVERITY_RANK = {"error": 3, "warning": 2, "info": 1}
# A line's charge is "at risk" when a finding says the payer will deny or recoup it (an error). A
# warning, such as units billed under what the record supports, is money left unbilled, not at risk.
AT_RISK_SEVERITIES = ("error",)
_STREAMING_FROM = 50_000  # lines; below this the in-memory engine finishes first
_ALL_AT_ONCE_UP_TO = 3_000_000  # lines; above this, checks run one after the other (memory)

FINDINGS_SCHEMA: dict[str, pl.DataType] = {
    "claim_id": pl.String(),
    "line_number": pl.Int32(),
    "check_id": pl.String(),
    "severity": pl.String(),
    "message": pl.String(),
    "suggested_fix": pl.String(),
    "appeal_text": pl.String(),
    "citation": pl.String(),
    "fix_kind": pl.String(),
    "disposition": pl.String(),
    "title": pl.String(),
    "member_id": pl.String(),
    "payer": pl.String(),
    "policy": pl.String(),
    "date_of_service": pl.Date(),
    "procedure_code": pl.String(),
    "units": pl.Float64(),
    "charge": pl.Float64(),
    "source": pl.String(),
    "source_location": pl.String(),
    "row_id": pl.Int64(),
}


@dataclass
class ScrubResult:
    """Everything a report needs: findings, the lines checked, rejections, totals, provenance."""

    findings: pl.DataFrame
    lines: pl.DataFrame
    rejected: pl.DataFrame
    unmatched_records: pl.DataFrame
    summary: dict[str, Any]
    provenance: dict[str, Any]
    checks: list[Check] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # wall seconds per phase, for --timings
    # File-level problems that did not stop the read (X12 envelope counts): {"source", "problem"}.
    input_warnings: list[dict[str, str]] = field(default_factory=list)
    # Findings a suppressions file waived (scrubber.suppressions): out of ``findings``, the gate and
    # the totals, listed with their suppression_* columns; and the file's expired/unmatched entries.
    suppressed: pl.DataFrame | None = None
    suppression_warnings: list[dict[str, Any]] = field(default_factory=list)


def select_checks(select: list[str] | None, ignore: list[str] | None) -> list[Check]:
    """Checks to run: ``select`` (default all) minus ``ignore``. Unknown ids are an error."""
    checks = all_checks()
    known = {c.id for c in checks}
    for option, ids in (("--select", select or []), ("--ignore", ignore or [])):
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise UsageError(f"{option}: unknown check id(s) {', '.join(unknown)} (see `scrub checks`)")
    chosen = [c for c in checks if not select or c.id in select]
    return [c for c in chosen if c.id not in set(ignore or [])]


def build_context(policies: PolicySet) -> Context:
    """Resolve each policy's coverage list ids (reference lists or the policy's inline lists)."""
    params = policies.line_parameters()
    lists = pl.concat([reference.covered_diagnoses(), params["inline_lists"]])
    unknown = params["coverage"].join(lists.select("list_id").unique(), on="list_id", how="anti")
    if unknown.height:
        policy, setting, list_id = unknown.row(0)
        known = ", ".join(sorted(reference.covered_diagnoses().get_column("list_id").unique().to_list()))
        raise PolicyError(f"coverage.{setting} names unknown list '{list_id}' (shipped lists: {known}; or define it "
                          "under [coverage.lists])", policies.policies[policy].origin)
    coverage = params["coverage"].join(lists, on="list_id", how="inner").select("policy", "setting", "code").unique()
    names = params["coverage"].with_columns(pl.col("list_id").str.replace(r"^[^:]+:", ""))
    coverage_lists = names.group_by("policy", "setting", maintain_order=True).agg(pl.col("list_id").str.join(", ")
                                                                                .alias("lists"))
    return Context(coverage=coverage.lazy(), coverage_lists=coverage_lists.lazy())


def _run_checks(enriched: pl.DataFrame, checks: list[Check], ctx: Context) -> tuple[pl.DataFrame, dict[str, int]]:
    """Findings of every check (deterministic order), and per check the lines it could not evaluate."""
    lf = enriched.lazy()
    plans = []
    for order, check in enumerate(checks):
        found = check.find(lf, ctx)
        schema = found.collect_schema()
        # A check may set severity or fix kind per finding; otherwise its registry defaults apply.
        severity = pl.col("severity") if "severity" in schema else pl.lit(check.severity)
        fix_kind = pl.col("fix_kind") if "fix_kind" in schema else pl.lit(check.fix_kind)
        plans.append(
            found.select(
                "row_id",
                pl.lit(check.id).alias("check_id"),
                pl.lit(order).alias("_order"),
                severity.alias("severity"),
                pl.col("message").cast(pl.String),
                pl.col("suggested_fix").cast(pl.String),
                pl.col("appeal_text").cast(pl.String),
                pl.lit(check.citation).alias("citation"),
                fix_kind.alias("fix_kind"),
                pl.lit(check.disposition).alias("disposition"),
                pl.lit(check.title).alias("title"),
            )
        )
    counted = [c for c in checks if c.unevaluated is not None]
    counts = [c.unevaluated(lf).select(pl.len()) for c in counted]  # type: ignore[misc]
    if not plans:
        return pl.DataFrame(schema=FINDINGS_SCHEMA), {}
    # One collect_all for every check and every "not evaluated" count: Polars runs them side by
    # side and shares what their plans have in common (a check and its count filter alike). The
    # streaming engine: on 2M lines it runs the checks in 0.8x the in-memory engine's time; on a
    # small batch its start-up costs more than the work, so small batches stay in memory.
    engine = "streaming" if enriched.height >= _STREAMING_FROM else "in-memory"
    if enriched.height <= _ALL_AT_ONCE_UP_TO:
        results = pl.collect_all([*plans, *counts], engine=engine)
    else:
        # A very large batch: one check at a time, so that only one check's intermediate frames
        # are in memory at once (all at once took 10M lines from 4.4 to 7.6 GB).
        results = [plan.collect(engine=engine) for plan in [*plans, *counts]]
    unevaluated = {c.id: int(f.item()) for c, f in zip(counted, results[len(plans):], strict=True)}
    found_all = pl.concat(results[: len(plans)]).unique(["row_id", "check_id", "message"])
    facts = _facts_of(enriched, found_all.get_column("row_id")).with_columns(location())
    findings = (
        found_all.hstack(facts.drop("row_id"))
        .sort("claim_id", "line_number", "_order", "message", nulls_last=True)
        .select(list(FINDINGS_SCHEMA))
    )
    return findings, unevaluated


_FACTS = ("row_id", "claim_id", "line_number", "member_id", "payer", "policy", "date_of_service", "procedure_code",
          "units", "charge", "source", "source_row", "source_location")


def _facts_of(enriched: pl.DataFrame, row_ids: pl.Series) -> pl.DataFrame:
    """The line facts findings carry, for the rows ``row_ids`` (in that order).

    Lines are almost always in row order, so positions come from a binary search instead of a
    join that would hash every line of the batch for a few thousand findings.
    """
    ids = enriched.get_column("row_id")
    if ids.is_sorted():
        positions = ids.search_sorted(row_ids)
        return enriched.select(_FACTS)[positions]
    return pl.DataFrame({"row_id": row_ids}).join(enriched.select(_FACTS), on="row_id", how="left",
                                                  maintain_order="left")


def _claims(claim_id: pl.Series) -> int:
    """Distinct claims; counted as runs when each claim's lines are together (the enriched order)."""
    if claim_id.len() == 0:
        return 0
    if claim_order(claim_id) is None:
        return int(run_starts(claim_id).sum())
    return int(claim_id.n_unique())


def summarise(result_lines: pl.DataFrame, findings: pl.DataFrame, rejected: pl.DataFrame, rows_read: int,
              checks: list[Check], unevaluated: dict[str, int], unmatched: pl.DataFrame) -> dict[str, Any]:
    flagged = findings.filter(pl.col("severity").is_in(AT_RISK_SEVERITIES)).unique("row_id")
    by_check: dict[str, dict[str, Any]] = {}
    for check in checks:
        mine = findings.filter(pl.col("check_id") == check.id)
        by_check[check.id] = {
            "title": check.title,
            "severity": check.severity,
            "findings": mine.height,
            "claims": mine.get_column("claim_id").n_unique() if mine.height else 0,
            "charges_at_risk": round(float(mine.filter(pl.col("severity").is_in(AT_RISK_SEVERITIES)).unique("row_id")
                                           .get_column("charge").fill_null(0).sum()), 2),
            "lines_not_evaluated": unevaluated.get(check.id, 0),
        }
    by_severity = {s: int(findings.filter(pl.col("severity") == s).height) for s in SEVERITY_RANK}
    lines = result_lines.height
    summary = {
        "claims": _claims(result_lines.get_column("claim_id")),
        "lines": lines,
        "claims_with_findings": int(findings.get_column("claim_id").n_unique()) if findings.height else 0,
        "findings": findings.height,
        "rejected_rows": rejected.height,
        "rows_read": rows_read,
        "rows_checked": lines,
        "reconciled": rows_read == lines + rejected.height,
        "claims_with_rejected_rows": int(rejected.get_column("claim_id").drop_nulls().n_unique()),
        "charges_billed": round(float(result_lines.get_column("charge").fill_null(0).sum()), 2) if lines else 0.0,
        "charges_at_risk": round(float(flagged.get_column("charge").fill_null(0).sum()), 2),
        "by_severity": by_severity,
        "by_check": by_check,
        "unmatched_records": unmatched.height,
    }
    if lines and any(c.id == "noncovered-diagnosis" for c in checks):
        first, last = reference.icd10_coverage_window()
        dos = result_lines.get_column("date_of_service")
        # Dates outside the shipped ICD-10-CM releases were checked against the nearest release.
        summary["lines_outside_icd10_releases"] = int(((dos < first) | (dos > last)).sum())
    return summary


def scrub(
    inputs: list[str],
    policy_files: list[str] | tuple[str, ...] = (),
    records: str | None = None,
    select: list[str] | None = None,
    ignore: list[str] | None = None,
    strict: bool = False,
    suppressions: SuppressionSet | None = None,
    progress: Progress | None = None,
) -> ScrubResult:
    """Scrub claim files; raises :class:`scrubber.errors.ScrubError` for unusable input or options.

    ``strict``: X12 inputs must also pass pyx12's structural validation against the implementation
    guide (slow, opt-in); a file that does not is unusable input.
    ``suppressions``: reviewed findings to take out of the findings and totals (kept in ``suppressed``).
    ``progress``: called with (phase, lines) per input batch and when each phase ends.
    """
    started = dt.datetime.now(dt.UTC)
    clock = PhaseClock(progress)
    checks = select_checks(select, ignore)
    policies = PolicySet.load(policy_files)
    ctx = build_context(policies)
    raw = load_inputs(inputs, records)
    if strict:
        _validate_x12(raw.formats, raw.notices)
    batches = _counted(raw.batches(), progress, clock)
    joiner = RecordJoin(load_records(records)) if records else None
    if joiner is not None:
        batches = ((n, None if b is None else joiner.apply(b)) for n, b in batches)
    clock.lap("open inputs and policies")
    canon = canonicalise(batches)
    unmatched = joiner.problems() if joiner is not None else empty_problems()
    clock.lap("read + canonicalise")
    enriched = enrich(canon.lines, policies, canon.rejected_lines)
    clock.lap("enrich")
    findings, unevaluated = _run_checks(enriched, checks, ctx)
    findings, suppressed, suppression_warnings = _identify_and_suppress(findings, suppressions)
    clock.lap("checks")
    summary = summarise(enriched, findings, canon.rejected, canon.rows_read, checks, unevaluated, unmatched)
    summary["input_warnings"] = len(raw.notices)
    summary["suppressed"] = suppressed.height
    clock.lap("summary")
    provenance = {
        "tool": "scrubber",
        "version": __version__,
        "started_at": started.replace(microsecond=0).isoformat(),
        "inputs": raw.files,
        "formats": raw.formats,
        "records": records,
        "policies": policies.describe(),
        "policy_files": list(policy_files),
        "reference_data": reference.releases_summary(),
        "checks": [c.id for c in checks],
    }
    assert set(FIX_KINDS) >= {c.fix_kind for c in checks}
    return ScrubResult(
        findings=findings,
        lines=enriched.select(*canon.lines.columns, "policy"),
        rejected=canon.rejected,
        unmatched_records=unmatched,
        summary=summary,
        provenance=provenance,
        checks=checks,
        timings=clock.phases,
        input_warnings=raw.notices,
        suppressed=suppressed,
        suppression_warnings=suppression_warnings,
    )


def _identify_and_suppress(findings: pl.DataFrame, suppressions: SuppressionSet | None
                           ) -> tuple[pl.DataFrame, pl.DataFrame, list[dict[str, Any]]]:
    """Give every finding its stable ``finding_id``, then take out the ones ``suppressions`` waive."""
    from scrubber import suppressions as suppress
    from scrubber.finding_ids import finding_ids

    findings = findings.with_columns(finding_ids(findings))
    applied = suppress.apply(findings, suppressions)
    return applied.active, applied.suppressed, applied.warnings


def _counted(batches: Iterator[Any], progress: Progress | None, clock: PhaseClock) -> Iterator[Any]:
    """The raw batches, telling ``progress`` how many rows have been read so far."""
    if progress is None:
        yield from batches
        return
    rows = 0
    for number, batch in batches:
        if batch is not None:
            rows += batch.height
            clock.rows = rows
            progress("read", rows)
        yield number, batch


def _validate_x12(formats: dict[str, str], notices: list[dict[str, str]]) -> None:
    """Raise InputError for the first X12 input with envelope notices of the reader, or that pyx12
    finds structural problems in."""
    from scrubber.loaders.x12_loader import validate_x12_strict

    for path, fmt in formats.items():
        if fmt != "x12":
            continue
        problems = [n["problem"] for n in notices if n["source"] == path] or validate_x12_strict(path)
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise InputError(f"fails X12 structural validation (--strict): {problems[0]}{more}", path)


class PhaseClock:
    """Wall time of each phase of a run (``scrub check --timings`` prints them; the benchmark reads them)."""

    def __init__(self, progress: Progress | None = None) -> None:
        self.phases: dict[str, float] = {}
        self._last = time.perf_counter()
        self._progress = progress
        self.rows = 0  # rows read so far, for ``progress``

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.phases[name] = round(now - self._last, 4)
        self._last = now
        if self._progress is not None:
            self._progress(name, self.rows)
