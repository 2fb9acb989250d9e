"""Run a scrub: load, canonicalise, enrich once, run the selected checks, assemble findings.

The engine is the only place that knows the order of things; checks never see files, options or
output formats. Findings come out in a deterministic order (claim, line, registry order of the
check, message) so the same input gives byte-identical output.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

from checks import all_checks
from scrubber import __version__, reference
from scrubber.canonical import Canonical, canonicalise, merged_copies
from scrubber.cards import render_plan
from scrubber.enrich import enrich, is_ig
from scrubber.errors import InputError, PolicyError, UsageError, printable, shown
from scrubber.grouping import run_heads
from scrubber.loaders import load_inputs
from scrubber.payer_names import odd_characters
from scrubber.per_batch import remember_context
from scrubber.policy import BUILTIN, PolicySet
from scrubber.records import RecordJoin, empty_problems, load_records
from scrubber.registry import FIX_KINDS, Check, Context
from scrubber.schema import location
from scrubber.suppressions import SUPPRESSION_COLUMNS
from scrubber.timing import timing

if TYPE_CHECKING:  # pragma: no cover
    from scrubber.suppressions import SuppressionSet

# Called at phase boundaries and per input batch with (phase, lines so far): ``scrub check``'s
# progress line on a terminal (scrubber.progress). Never called per line.
Progress = Callable[[str, int], None]

SEVERITY_RANK = {"error": 3, "warning": 2, "info": 1}
_STREAMING_FROM = 50_000  # lines; below this the in-memory engine finishes first
_ALL_AT_ONCE_UP_TO = 3_000_000  # lines; above this, checks run one after the other (memory)
# lines; from this on the time facts are computed on a second thread while the checks that do not
# read them run (below it, one collect_all of every check starts up faster than two)
_TIMING_ASIDE_FROM = _STREAMING_FROM

FINDINGS_SCHEMA: dict[str, pl.DataType] = {
    "finding_id": pl.String(),
    "claim_id": pl.String(),
    "line_number": pl.Int32(),
    "check_id": pl.String(),
    "reason": pl.String(),
    "severity": pl.String(),
    "message": pl.String(),
    "suggested_fix": pl.String(),
    "appeal_text": pl.String(),
    "attach": pl.String(),
    "citation": pl.String(),
    "fix_kind": pl.String(),
    "disposition": pl.String(),
    "title": pl.String(),
    "carc": pl.String(),
    "rarc": pl.String(),
    "member_id": pl.String(),
    "payer": pl.String(),
    "policy": pl.String(),
    "payer_kind": pl.String(),
    "claim_type": pl.String(),
    "billing_provider": pl.String(),
    "payer_claim_number": pl.String(),
    "date_of_service": pl.Date(),
    "procedure_code": pl.String(),
    "units": pl.Float64(),
    "charge": pl.Float64(),
    "charge_at_risk": pl.Float64(),
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
    # Per input warning: whether ``--strict`` refuses its file for it (an X12 reader's notice; not a
    # file skipped in a folder, nor a count that differs from the rows read).
    strict_refuses: list[bool] = field(default_factory=list)
    # Findings a suppressions file waived (scrubber.suppressions): out of ``findings``, the gate and
    # the totals, listed with their suppression_* columns; and the file's expired/unmatched entries.
    suppressed: pl.DataFrame | None = None
    suppression_warnings: list[dict[str, Any]] = field(default_factory=list)


def ignore_warnings(select: list[str] | None, ignore: list[str] | None) -> list[dict[str, str]]:
    """An input warning per ``--ignore`` id that ``--select`` leaves out already: the option was
    accepted and changes nothing, which a run must not do silently (probe 27C D9)."""
    if not select:
        return []
    idle = [i for i in dict.fromkeys(ignore or []) if i not in select]
    return [{"source": "--ignore", "problem": f"{i} is not among the --select checks, so ignoring it changes "
             "nothing"} for i in idle]


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
    return Context(coverage=coverage.lazy(), coverage_lists=coverage_lists.lazy(),
                   policy_params=params["params"].lazy(), policy_caps=params["caps"].lazy())


def _run_checks(enriched: pl.DataFrame, checks: list[Check], ctx: Context) -> tuple[pl.DataFrame, dict[str, int]]:
    """Findings of every check (deterministic order), and per check the lines it could not evaluate.

    Each check's ``find`` decides (row, reason, facts); its card words the finding
    (:func:`scrubber.cards.render`); :func:`_charges_at_risk` puts a price on it.
    """
    if not checks:
        return pl.DataFrame(schema={**FINDINGS_SCHEMA, "_order": pl.Int32}), {}
    lf = enriched.lazy()
    # The streaming engine: on 2M lines it runs the checks in 0.8x the in-memory engine's time; on a
    # small batch its start-up costs more than the work, so small batches stay in memory.
    engine = "streaming" if enriched.height >= _STREAMING_FROM else "in-memory"
    if enriched.height > _ALL_AT_ONCE_UP_TO:
        # A very large batch: one check at a time, so that only one check's intermediate frames
        # are in memory at once (all at once took 10M lines from 4.4 to 7.6 GB).
        results = [plan.collect(engine=engine) for plan in _plans(checks, lf, ctx)]
        findings, unevaluated = _worded_and_counted(checks, results, enriched, range(len(checks)))
    elif enriched.height >= _TIMING_ASIDE_FROM and 0 < sum(c.reads_timing for c in checks) < len(checks):
        findings, unevaluated = _with_timing_aside(checks, lf, ctx, engine, enriched)
    else:
        # One collect_all for every check and every "not evaluated" count: Polars runs them side by
        # side and shares what their plans have in common (a check and its count filter alike).
        results = pl.collect_all(_plans(checks, lf, ctx), engine=engine)
        findings, unevaluated = _worded_and_counted(checks, results, enriched, range(len(checks)))
    # Deterministic order before ids are given (two findings with one key are numbered in this order):
    # a total order, the fix and the row last (probe 23F R5: two findings equal up to the message took
    # their order, and their "#2" id, from a group_by's).
    keys = ["claim_id", "line_number", "_order", "reason", "message", "suggested_fix", "row_id"]
    return findings.sort(keys, nulls_last=True), unevaluated


def _worded_and_counted(checks: list[Check], results: list[pl.DataFrame], enriched: pl.DataFrame,
                        orders: Iterable[int]) -> tuple[pl.DataFrame, dict[str, int]]:
    """The worded findings (:func:`_worded`) and "not evaluated" counts of ``checks`` from what their
    plans (:func:`_plans`) returned; ``orders``: each check's place in the registry order."""
    counted = [c for c in checks if c.unevaluated is not None]
    unevaluated = {c.id: int(f.item()) for c, f in zip(counted, results[len(checks):], strict=True)}
    return _worded(checks, results[: len(checks)], enriched, orders), unevaluated


def _plans(checks: list[Check], lf: pl.LazyFrame, ctx: Context) -> list[pl.LazyFrame]:
    """Every check's ``find`` plan in order, then the "not evaluated" count of each check that has one."""
    remember_context(lf, ctx)  # (a fact decided once per batch may read the policies' tables)
    plans = [c.find(lf, ctx) for c in checks]
    return [*plans, *(c.unevaluated(lf).select(pl.len()) for c in checks if c.unevaluated is not None)]


def _with_timing_aside(checks: list[Check], lf: pl.LazyFrame, ctx: Context, engine: str, enriched: pl.DataFrame
                       ) -> tuple[pl.DataFrame, dict[str, int]]:
    """:func:`_worded_and_counted` of every check, with the checks that read the time facts
    (:func:`scrubber.timing.timing`, eager, ~0.45 s on 2M lines using ~1.4 cores;
    ``Check.reads_timing``) built and run on a worker thread while the others run and are worded
    on this one: neither group waits for the other's work. An exception of the worker is raised
    here by ``result()``."""
    place = {c.id: i for i, c in enumerate(checks)}
    untimed = [c for c in checks if not c.reads_timing]
    timed = [c for c in checks if c.reads_timing]

    def timed_results() -> list[pl.DataFrame]:
        timing(lf)
        return pl.collect_all(_plans(timed, lf, ctx), engine=engine)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="timing") as worker:
        computing = worker.submit(timed_results)
        first = pl.collect_all(_plans(untimed, lf, ctx), engine=engine)
        words, counts = _worded_and_counted(untimed, first, enriched, [place[c.id] for c in untimed])
        second = computing.result()
    more_words, more_counts = _worded_and_counted(timed, second, enriched, [place[c.id] for c in timed])
    counts.update(more_counts)
    return _stacked([words, more_words]), {c.id: counts[c.id] for c in checks if c.id in counts}


def _finish(findings: pl.DataFrame, enriched: pl.DataFrame, extra: dict[str, pl.DataType] | None = None
            ) -> pl.DataFrame:
    """Findings as every output reads them: charges at risk counted, the findings schema, in order."""
    schema = {**FINDINGS_SCHEMA, **(extra or {})}
    if findings.height == 0:
        return pl.DataFrame(schema=schema)
    findings = findings.with_columns(_charges_at_risk(findings, enriched))
    return findings.select(list(schema)).cast(schema)


# Line facts every finding carries (and its card may quote), looked up by the finding's row_id.
_FACTS = ("row_id", "claim_id", "line_number", "member_id", "payer", "policy", "payer_kind", "claim_type",
          "billing_provider", "payer_claim_number", "claim_frequency", "place_of_service", "date_of_service",
          "procedure_code", "units", "charge", "source", "source_row", "source_location")


def _worded(checks: list[Check], found: list[pl.DataFrame], enriched: pl.DataFrame, orders: Iterable[int]
            ) -> pl.DataFrame:
    """Every check's findings with their line facts and words (message, fix, appeal, citation...).

    The line facts of all findings are gathered in one go, and the cards' words of every check are
    one ``collect_all``: per check and per variant, the start-up of a collect cost more than the words.
    """
    kept = []
    for frame in found:
        frame = frame.drop(c for c in _FACTS if c in frame.columns and c != "row_id")
        # A finding repeated row for row is worded once; when no line has two findings of the check
        # (nearly always) no row can repeat, and that test costs a fraction of hashing every row.
        if frame.get_column("row_id").n_unique() < frame.height:
            frame = frame.unique(maintain_order=True)
        kept.append(frame)
    facts = _facts_of(enriched, pl.concat([f.get_column("row_id") for f in kept])).with_columns(location())
    facts = facts.drop("row_id")
    plans, offset = [], 0
    for order, check, frame in zip(orders, checks, kept, strict=True):
        mine = facts.slice(offset, frame.height)
        offset += frame.height
        plans.append(render_plan(frame.hstack(mine), check.card).with_columns(
            pl.lit(check.id).alias("check_id"),
            pl.lit(order).alias("_order"),
            pl.lit(check.disposition).alias("disposition"),
            pl.lit(check.title).alias("title"),
        ))
    # Only what the rest of the run reads: the findings' fields, and what ids, charges and order need
    # (each check's own facts are in its words now; 100 columns sorted and concatenated cost double).
    return _stacked([frame.select(c for c in _WORDED if c in frame.columns)
                     for frame in pl.collect_all(plans, engine="in-memory")])


# Columns of a worded finding read after the words besides FINDINGS_SCHEMA: the order of checks, the
# finding's reason (ids, order), the codes involved (ids), what its charge at risk is counted from.
_WORDED_EXTRA = ("_order", "codes", "risk", "excess_units", "risk_rows")
_WORDED = (*FINDINGS_SCHEMA, *(c for c in _WORDED_EXTRA if c not in FINDINGS_SCHEMA))


def _stacked(worded: list[pl.DataFrame]) -> pl.DataFrame:
    """Worded findings of several checks in one frame, columns in :data:`_WORDED` order whichever
    check has them (a check without ``excess_units`` may come first)."""
    both = pl.concat(worded, how="diagonal_relaxed")
    return both.select(c for c in _WORDED if c in both.columns)


def _charges_at_risk(findings: pl.DataFrame, enriched: pl.DataFrame) -> pl.Series:
    """The charge each finding puts at risk, counting every line's charge at most once.

    Per finding, by its reason's ``risk`` (the card): ``line`` its line's charge; ``excess`` the share
    of its line's charge that the excess units are (fact ``excess_units``; 10 of 80 units at $7,600 is
    $950), or, when the excess is billed over several lines (fact ``risk_rows``: 96366 x1 and x2 with
    one hour supported), the excess laid on those lines in order, each at most its own units;
    ``excess_after`` the same for units counted after those other findings report on the line (a
    policy cap counts the units the record supports: they add to the units over the record); ``lines``
    the charges of every line a claim-level problem makes unprocessable (fact ``risk_rows``: an invalid
    diagnosis puts each line pointing to it at risk); ``lines_after`` those charges counted after the
    other findings' amounts on each line (an MUE denies whole lines: it takes the rest of each line, and
    the finding that is the cause of part of it, hours over the record, keeps that part); ``none`` nothing.
    A line claimed by several findings counts once, at the largest amount, on the first of them
    (most severe, then registry order), plus the ``excess_after`` amounts, up to the line's charge; so
    per-check, per-payer and per-claim totals add up to the headline.
    """
    n = findings.height
    if n == 0:
        return pl.Series("charge_at_risk", [], pl.Float64)
    base = findings.select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("_f"),
        "row_id", "risk", "charge", "units", "severity", "_order",
        (pl.col("excess_units") if "excess_units" in findings.columns else pl.lit(None, pl.Float64))
        .cast(pl.Float64).alias("_excess"),
        (pl.col("risk_rows") if "risk_rows" in findings.columns else pl.lit(None, pl.List(pl.Int64)))
        .cast(pl.List(pl.Int64)).alias("_rows"),
    ).with_columns(pl.col("severity").replace_strict(SEVERITY_RANK, default=0, return_dtype=pl.Int8).alias("_rank"))
    charge = pl.col("charge").fill_null(0.0)
    excess_kinds = ["excess", "excess_after"]
    spread_excess = pl.col("risk").is_in(excess_kinds) & pl.col("_rows").list.len().fill_null(0).gt(0)
    own = base.filter((pl.col("risk") == "line") | (pl.col("risk").is_in(excess_kinds) & ~spread_excess)).select(
        "_f", "row_id", "_rank", "_order", (pl.col("risk") == "excess_after").alias("_after"),
        charge.alias("_charge"),
        pl.when(pl.col("risk") == "line").then(charge)
        .otherwise(charge * (pl.col("_excess").fill_null(0.0) / pl.col("units")).clip(0.0, 1.0)).alias("_amount"),
    )
    spread = base.filter(pl.col("risk").is_in(["lines", "lines_after"])).select(
        "_f", "_rank", "_order", "_rows", (pl.col("risk") == "lines_after").alias("_after")).explode("_rows")
    spread = spread.drop_nulls("_rows").rename({"_rows": "row_id"})
    spread = _with_line_charges(spread, enriched).with_columns(pl.col("_amount").alias("_charge"))
    parts = [own, spread.select(own.columns)]
    laid = base.filter(spread_excess)
    if laid.height:
        # The excess units laid on the lines in the finding's order, each line at most its own units.
        rows = laid.select("_f", "_rank", "_order", (pl.col("risk") == "excess_after").alias("_after"),
                           pl.col("_excess").fill_null(0.0), "_rows").explode("_rows").drop_nulls("_rows")
        rows = _with_line_charges(rows.rename({"_rows": "row_id"}), enriched, with_units=True).rename(
            {"_amount": "_charge"})
        before = pl.col("_units").fill_null(0.0).cum_sum().over("_f") - pl.col("_units").fill_null(0.0)
        share = pl.min_horizontal(pl.col("_units"), (pl.col("_excess") - before).clip(lower_bound=0.0))
        parts.append(rows.select(*own.columns[:-1], (pl.col("_charge") * (share / pl.col("_units")))
                                 .fill_nan(0.0).fill_null(0.0).clip(lower_bound=0.0).alias("_amount")))
    claims = pl.concat(parts)
    first = claims.filter(~pl.col("_after"))
    kept = first.sort(["row_id", "_amount", "_rank", "_order", "_f"], descending=[False, True, True, False, False])
    kept = kept.unique("row_id", keep="first", maintain_order=True)
    after = claims.filter(pl.col("_after"))
    if after.height:
        # Units counted after the others' add to them, up to the line's charge.
        room = (pl.col("_charge") - pl.col("_taken").fill_null(0.0)).clip(lower_bound=0.0)
        after = after.join(kept.select("row_id", pl.col("_amount").alias("_taken")), on="row_id", how="left")
        after = after.sort("row_id", "_rank", "_order", "_f", descending=[False, True, False, False]).with_columns(
            (pl.min_horizontal(pl.col("_amount").cum_sum().over("row_id"), room)
             - pl.min_horizontal((pl.col("_amount").cum_sum() - pl.col("_amount")).over("row_id"), room))
            .alias("_amount"))
        kept = pl.concat([kept, after.select(kept.columns)])
    # Each line's amount in cents before the sum: a float sum depends on the order of its terms (lines
    # in file order), and a half cent laid on a line rounded either way with the claims' order.
    per_finding = kept.group_by("_f").agg(pl.col("_amount").round(2).sum())
    return (
        base.select("_f").join(per_finding, on="_f", how="left", maintain_order="left")
        .get_column("_amount").fill_null(0.0).round(2).alias("charge_at_risk")
    )


def _with_line_charges(spread: pl.DataFrame, enriched: pl.DataFrame, with_units: bool = False) -> pl.DataFrame:
    """``spread`` with the charge (``_amount``, 0 when missing) of the line its ``row_id`` names, and
    with ``with_units`` its units (``_units``); rows naming no line are dropped (an inner join).

    Lines are almost always in row order, so the lines are found by a binary search (:func:`_positions`)
    instead of a join hashing every line of the batch: 0.04 s of 2M lines."""
    columns = [pl.col("charge").fill_null(0.0).alias("_amount"),
               *([pl.col("units").cast(pl.Float64).alias("_units")] if with_units else [])]
    located = _positions(enriched, spread.get_column("row_id"))
    if located is None:
        # (In ``spread``'s order: an excess is laid on a finding's lines in the order it names them.)
        return spread.join(enriched.select("row_id", *columns), on="row_id", how="inner", maintain_order="left")
    positions, found = located
    return spread.with_columns(enriched.select(columns)[positions]).filter(found)


def _positions(enriched: pl.DataFrame, row_ids: pl.Series) -> tuple[pl.Series, pl.Series] | None:
    """Where each of ``row_ids`` is among the lines, and whether it is there at all, by a binary
    search when the lines are in row order (almost always); ``None`` otherwise (the caller joins)."""
    ids = enriched.get_column("row_id")
    if not ids.is_sorted() or ids.len() == 0:
        return None
    wanted = row_ids.cast(ids.dtype)
    positions = ids.search_sorted(wanted).clip(upper_bound=ids.len() - 1)
    return positions, ids.gather(positions) == wanted


def _facts_of(enriched: pl.DataFrame, row_ids: pl.Series) -> pl.DataFrame:
    """The line facts findings carry, for the rows ``row_ids`` (in that order).

    Lines are almost always in row order, so positions come from a binary search (:func:`_positions`)
    instead of a join that would hash every line of the batch for a few thousand findings.
    """
    columns = [c for c in _FACTS if c in enriched.columns]
    located = _positions(enriched, row_ids)
    if located is not None:  # (every finding's row is a line: no position to drop)
        return enriched.select(columns)[located[0]]
    return pl.DataFrame({"row_id": row_ids}).join(enriched.select(columns), on="row_id", how="left",
                                                  maintain_order="left")


def _claims(claim_id: pl.Series) -> int:
    """Distinct claims: the distinct ids among the heads of runs of equal ids (every id starts some
    run), which are the runs themselves when the ids run in increasing order (as exports write them):
    :func:`scrubber.grouping.run_heads`."""
    heads, distinct = run_heads(claim_id)
    return heads.len() if distinct else int(heads.n_unique())


def _merged_into_checked(rejected: pl.DataFrame, result_lines: pl.DataFrame) -> pl.Series:
    """True on the rejected rows that are copies of a line checked (:func:`scrubber.canonical.merged_copies`
    whose claim and line number the checked lines hold): a copy whose kept line was then rejected with
    its claim left something unchecked (review 27D D6)."""
    if not rejected.height:
        return pl.Series("merged", [], pl.Boolean)
    copies = merged_copies(rejected)
    if not copies.any() or not result_lines.height:
        return copies & False
    checked = result_lines.select("claim_id", pl.col("line_number").cast(pl.String)).unique()
    kept = rejected.select("claim_id", "line_number").with_row_index("_i").join(
        checked, on=["claim_id", "line_number"], how="semi").get_column("_i")
    return copies & pl.Series(range(rejected.height)).is_in(kept.implode())


def summary_parts(result_lines: pl.DataFrame, findings: pl.DataFrame, rejected: pl.DataFrame, checks: list[Check],
                  unevaluated: dict[str, int]) -> dict[str, Any]:
    """The additive part of :func:`summarise`: counts and unrounded sums over whole claims and members.

    Runs over disjoint sets of members (every line, rejected row and finding of a claim in one run)
    have parts that add up (:func:`add_summary_parts`) to the parts of one run over all of them;
    the Spark engine sums its partitions' parts this way, so both engines share this definition.
    """
    by_check: dict[str, dict[str, Any]] = {}
    # One pass splits the findings by check (13 filters over every finding cost 0.017 s of 60k);
    # each check's rows keep their order, so its sum is the one a filter gave. Only the three columns
    # read are split: splitting every column of 91,773 findings (their texts, 120 MB) cost 0.02-0.04 s.
    counted = findings.select("check_id", "claim_id", "charge_at_risk")
    per_check = counted.partition_by("check_id", as_dict=True, maintain_order=True) if findings.height else {}
    for check in checks:
        mine = per_check.get((check.id,), counted.clear())
        by_check[check.id] = {
            "findings": mine.height,
            "claims": mine.get_column("claim_id").n_unique() if mine.height else 0,
            "charges_at_risk": float(mine.get_column("charge_at_risk").sum()),
            "lines_not_evaluated": unevaluated.get(check.id, 0),
        }
    lines = result_lines.height
    merged = _merged_into_checked(rejected, result_lines)
    parts: dict[str, Any] = {
        "claims": _claims(result_lines.get_column("claim_id")),
        "lines": lines,
        "claims_with_findings": int(findings.get_column("claim_id").n_unique()) if findings.height else 0,
        "findings": findings.height,
        "rejected_rows": rejected.height,
        # (copies of a checked line, merged into it: rejected as rows, nothing of their line unread)
        "merged_rows": int(merged.sum()),
        "claims_with_rejected_rows": int(rejected.filter(~merged).get_column("claim_id").drop_nulls()
                                         .n_unique()) if rejected.height else 0,
        "charges_billed": float(result_lines.select(pl.col("charge").filter(billed_lines(result_lines))
                                .fill_null(0).sum()).item() or 0.0) if lines else 0.0,
        "charges_at_risk": float(findings.get_column("charge_at_risk").sum()),
        "by_severity": _by_severity(findings),
        "by_check": by_check,
        "lines_outside_icd10_releases": 0,
    }
    if lines and any(c.id == "noncovered-diagnosis" for c in checks):
        # Lines with diagnoses dated outside every shipped ICD-10-CM release: their codes were not
        # evaluated for validity (never flagged). Counted apart from the check's "not evaluated" lines,
        # which also hold IG lines whose policy names no covered list for their setting.
        has_dx = pl.col("diagnoses").list.len() > 0
        outside, in_next = result_lines.select(
            (has_dx & reference.icd10_outside_releases()).sum().alias("outside"),
            (has_dx & reference.icd10_in_next()).sum().alias("in_next")).row(0)
        parts["lines_outside_icd10_releases"] = int(outside)
        # Of those, the lines dated in the release after the newest shipped one: their codes that the
        # newest release subdivides are judged (and flagged), the others not.
        parts["lines_in_icd10_next"] = int(in_next)
    if lines and "code_idx" in result_lines.columns:
        # Drug lines (J codes) outside the immune globulin table: no check judges their units or JW/JZ,
        # so a PASS must not read as if it had (the checks' scope is the IG drugs).
        drug = pl.any_horizontal(pl.col("procedure_code").str.starts_with(p) for p in reference.drug_code_prefixes())
        parts["drug_lines_not_checked"] = int(result_lines.select(
            (drug & ~is_ig()).fill_null(False).sum()).item())
    if "copy_of" in result_lines.columns:
        copies = result_lines.filter(pl.col("copy_of").is_not_null() | pl.col("cob_layer").fill_null(0).gt(0))
        parts["next_payer_copies"] = copies.select("claim_id").unique().height
    if lines and "claim_frequency" in result_lines.columns:
        voids = result_lines.filter(pl.col("claim_frequency").is_in(reference.void_frequencies()))
        parts["void_claims"] = voids.select("claim_id").unique().height
    if "voided_by" in result_lines.columns:
        voided = result_lines.filter(pl.col("voided_by").is_not_null())
        parts["voided_claims"] = voided.select("claim_id").unique().height
    return parts


def _by_severity(findings: pl.DataFrame) -> dict[str, int]:
    """Findings per severity, counted in one pass over the severity column (a filter per severity
    gathered every column of the findings only to count them: 0.01-0.02 s of 91,773)."""
    counts = findings.select((pl.col("severity") == s).sum().alias(s) for s in SEVERITY_RANK).row(0, named=True)
    return {s: int(counts[s] or 0) for s in SEVERITY_RANK}


def billed_lines(lines: pl.DataFrame) -> pl.Expr:
    """The lines whose charges count as billed (the headline and the report's tables alike): not a void's,
    whose charges cancel the claim it repeats, nor a claim a void of the batch cancels (``voided_by``):
    an original, its void and the rebill bill the visit once."""
    void = pl.col("claim_frequency").is_in(reference.void_frequencies()).fill_null(False)
    return ~void & (pl.col("voided_by").is_null() if "voided_by" in lines.columns else pl.lit(True))


def add_summary_parts(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """The parts of two runs over disjoint members, added key by key (nested dicts too)."""
    out = dict(a)
    for key, value in b.items():
        if key not in out:
            out[key] = value
        elif isinstance(value, dict):
            out[key] = add_summary_parts(out[key], value)
        else:
            out[key] = out[key] + value
    return out


def summary_from_parts(parts: dict[str, Any], rows_read: int, checks: list[Check], unmatched: int) -> dict[str, Any]:
    """The summary of a run from its (added) :func:`summary_parts`: rounding, reconciliation, titles."""
    by_check = {
        check.id: {
            "title": check.title,
            "severity": check.severity,
            "findings": parts["by_check"][check.id]["findings"],
            "claims": parts["by_check"][check.id]["claims"],
            "charges_at_risk": round(parts["by_check"][check.id]["charges_at_risk"], 2),
            "lines_not_evaluated": parts["by_check"][check.id]["lines_not_evaluated"],
        }
        for check in checks
    }
    lines = parts["lines"]
    summary = {
        "claims": parts["claims"],
        "lines": lines,
        "claims_with_findings": parts["claims_with_findings"],
        "findings": parts["findings"],
        "rejected_rows": parts["rejected_rows"],
        "merged_rows": parts.get("merged_rows", 0),
        "rows_read": rows_read,
        "rows_counted": rows_read,  # the files' independent count, where the reader has one (scrub() sets it)
        "rows_checked": lines,
        "reconciled": rows_read == lines + parts["rejected_rows"],
        "claims_with_rejected_rows": parts["claims_with_rejected_rows"],
        "charges_billed": round(parts["charges_billed"], 2) if lines else 0.0,
        "charges_at_risk": round(parts["charges_at_risk"], 2),
        "by_severity": dict(parts["by_severity"]),
        "by_check": by_check,
        "unmatched_records": unmatched,
        "suppressed": 0,
    }
    if lines and any(c.id == "noncovered-diagnosis" for c in checks):
        # Lines whose diagnoses were not evaluated for validity (dated outside every shipped release),
        # and of them those dated in the next, unshipped release (judged by its categories only).
        summary["lines_outside_icd10_releases"] = parts["lines_outside_icd10_releases"]
        nxt = reference.icd10_next()
        if nxt is not None and parts.get("lines_in_icd10_next"):
            summary["icd10_next_release"] = {"release": nxt["release"], "judged_by": nxt["judged_by"],
                                             "lines": parts["lines_in_icd10_next"]}
    if "next_payer_copies" in parts:
        summary["next_payer_copies"] = parts["next_payer_copies"]
    if parts.get("drug_lines_not_checked"):
        summary["drug_lines_not_checked"] = parts["drug_lines_not_checked"]  # J codes outside the IG table
    if parts.get("void_claims"):
        summary["void_claims"] = parts["void_claims"]  # read and counted, not scrubbed (a void cancels)
    if parts.get("voided_claims"):
        summary["voided_claims"] = parts["voided_claims"]  # the claims those voids cancel: not scrubbed either
    return summary


def summarise(result_lines: pl.DataFrame, findings: pl.DataFrame, rejected: pl.DataFrame, rows_read: int,
              checks: list[Check], unevaluated: dict[str, int], unmatched: pl.DataFrame) -> dict[str, Any]:
    """Totals of the run. Charges at risk are the findings' ``charge_at_risk`` (each line counted once,
    see :func:`_charges_at_risk`), so the per-check figures add up to the headline."""
    parts = summary_parts(result_lines, findings, rejected, checks, unevaluated)
    return summary_from_parts(parts, rows_read, checks, unmatched.height)


_TIMES_LISTED = 5


def _unusable_times(lines: pl.DataFrame) -> list[dict[str, str]]:
    """Per file, the checked lines whose documented start and stop cannot be an infusion (a stop before
    the start that is no crossing of midnight, or more than a day after it): the timing checks leave
    them unevaluated, which the summary only counted, so a gate passed 96366 x3 beside a 96365 whose
    stop was typed before its start. Named here (the first rows) so the biller checks the record."""
    return unusable_times_warnings(unusable_times_parts(lines))


def unusable_times_parts(lines: pl.DataFrame) -> dict[str, dict[str, Any]]:
    """Per file (``source``): ``count`` of the lines :func:`_unusable_times` names and ``first``, the
    first of them by row (``[row_id, location]``, at most as many as the warning lists). Parts of
    disjoint rows add up with :func:`add_summary_parts` (counts summed, lists joined): the Spark engine
    adds its partitions' and words them once on the driver (:func:`unusable_times_warnings`)."""
    from scrubber.timing import infusing_minutes, is_addon_line, is_timed

    if "infusion_start" not in lines.columns or not lines.height:
        return {}
    # (the lines whose minutes the time rules read: 96416's pump runs for days, and a push's or a drug's
    # times are not evaluated at all; "check the times" there sent a biller to fix a right record, probe
    # 25A D3)
    timed = is_timed() if "code_idx" in lines.columns else pl.lit(True)
    # The minutes only of the lines with both times (a quarter of a batch's lines, the infusions): the
    # date arithmetic over every line cost 0.07 s of 2M, the filter first 0.03 s. Eager, in two steps:
    # a lazy plan would fuse them into one predicate evaluated over every line again.
    both = lines.select("row_id", "source", "source_row", "source_location", "infusion_start", "infusion_stop",
                        "date_of_service", "claim_type", "place_of_service", "procedure_code",
                        *(["code_idx"] if "code_idx" in lines.columns else []))
    both = both.filter(pl.col("infusion_start").is_not_null() & pl.col("infusion_stop").is_not_null() & timed)
    # (add-on lines by their code index where the lines carry one: enriched lines)
    addon = is_addon_line() if "code_idx" in lines.columns else None
    bad = both.filter(infusing_minutes(addon=addon).is_null()).with_columns(location())
    out: dict[str, dict[str, Any]] = {}
    for (source,), rows in bad.sort("row_id").group_by("source", maintain_order=True):
        first = rows.head(_TIMES_LISTED).select("row_id", "source_location").rows()
        out[str(source)] = {"count": rows.height, "first": [[int(r), str(loc)] for r, loc in first]}
    return out


def policies_used(lines: pl.DataFrame, rejected: pl.DataFrame | None = None,
                  policies: PolicySet | None = None) -> dict[str, int]:
    """Per policy name, the checked lines it decides, and the rejected rows its payers name (a policy
    whose claims were all rejected is in use: review 20D): parts of disjoint rows add up (the Spark
    engine's partitions), and :func:`unused_policy_warnings` reads them."""
    used: dict[str, int] = {}
    if "policy" in lines.columns and lines.height:
        used = dict(lines.group_by("policy").len().drop_nulls("policy").iter_rows())
    if rejected is not None and policies is not None and "payer" in rejected.columns and rejected.height:
        for payer in rejected.get_column("payer").drop_nulls().unique().to_list():
            name = policies.policy_for(payer)
            used[name] = used.get(name, 0) + 1
    return used


def split_claim_parts(lines: pl.DataFrame, rejected: pl.DataFrame | None = None) -> dict[str, int]:
    """:func:`split_claim_warnings` as parts that add up (keyed by claim id, then the warning as JSON): a
    claim's lines are in one Spark partition, and the driver words them in the local engine's order."""
    import json

    return {f"{w['claim']}\x1f{json.dumps(w['warning'])}": 1 for w in _split_claims(lines, rejected)}


def split_claim_warnings_of(parts: dict[str, int]) -> list[dict[str, str]]:
    """The warnings of :func:`split_claim_parts` (added up), in claim order."""
    import json

    return [json.loads(key.split("\x1f", 1)[1]) for key in sorted(parts)]


def split_claim_warnings(lines: pl.DataFrame, rejected: pl.DataFrame | None = None) -> list[dict[str, str]]:
    """:func:`_split_claims`' warnings, in claim order."""
    return [w["warning"] for w in _split_claims(lines, rejected)]


def _split_claims(lines: pl.DataFrame, rejected: pl.DataFrame | None = None) -> list[dict[str, Any]]:
    """Per claim id whose checked lines come from several input files that give it different lines (a
    line number one file holds and another does not; ``claim`` and ``warning``): read as one claim, its lines
    together (review 27C D4: two exports reusing a claim id, or a corrected claim given beside its
    original without a frequency code, were merged without a word; one X12 file rejects a CLM01 given
    twice with other content). Only where the batch has several files; a few claims. Each file's lines
    are those it gives, a copy merged into another file's line (``rejected``, :data:`scrubber.canonical.
    MERGED_COPY`) included: the checked lines alone named a file by the lines it was kept for, so the
    warning followed the files' order (probe 28C D6)."""
    if "source" not in lines.columns or not lines.height:
        return []
    if rejected is not None and rejected.height and {"source", "claim_id", "line_number"} <= set(rejected.columns):
        merged = rejected.filter(merged_copies(rejected)).select(
            "source", "claim_id", pl.col("line_number").cast(lines.schema["line_number"], strict=False))
        if merged.height:
            lines = pl.concat([lines.select("source", "claim_id", "line_number"),
                               merged.cast({"source": lines.schema["source"], "claim_id": lines.schema["claim_id"]})])
    sources = lines.get_column("source")
    if not (sources != sources.first()).any():  # (one file: a comparison, 0.01 s of 2M lines; n_unique 0.03 s)
        return []
    per_file = lines.group_by("claim_id", "source").agg(pl.col("line_number").unique().sort().alias("_lines"))
    several = per_file.filter(pl.len().over("claim_id") > 1).filter(
        pl.col("_lines").n_unique().over("claim_id") > 1)
    out = []
    for (claim,), rows in several.sort("claim_id", "source").group_by("claim_id", maintain_order=True):
        files = "; ".join(f"{printable(src)} line{'s' if len(nums) > 1 else ''} {', '.join(str(n) for n in nums)}"
                          for src, nums in rows.select("source", "_lines").iter_rows())
        out.append({"claim": str(claim), "warning": {"source": str(rows.item(0, "source")), "problem": (
            f"claim {shown(str(claim))!r} is given by several files with different lines "
            f"({files}): read as one claim, its lines together; claim ids must be unique across the inputs "
            "(a corrected claim carries frequency code 7)")}})
    return out


def odd_payers(lines: pl.DataFrame) -> dict[str, int]:
    """Per input file and payer name whose text is no plain text of one script (a zero-width character,
    a Cyrillic letter among Latin ones: :func:`scrubber.payer_names.odd_characters`), the checked lines
    it names, keyed ``source + "\x1f" + payer``: parts of disjoint rows add up (the Spark engine's
    partitions); :func:`odd_payer_warnings` words them. Read per distinct name: a handful."""
    if "payer" not in lines.columns or not lines.height:
        return {}
    # (the distinct names first, a handful: the count per file only where one is odd, none in most batches)
    odd = [p for p in lines.get_column("payer").unique().drop_nulls().to_list() if odd_characters(p)]
    if not odd:
        return {}
    names = lines.filter(pl.col("payer").is_in(odd)).group_by("source", "payer").len()
    return {f"{source}\x1f{payer}": int(n) for source, payer, n in names.iter_rows()}


def odd_payer_warnings(odd: dict[str, int], policies: PolicySet) -> list[dict[str, str]]:
    """An input warning per payer name of :func:`odd_payers`: it matches policies as written, so the
    claim may have taken another policy than the payer it looks like (probe 27C D5), said with the
    policy it got."""
    out = []
    for key in sorted(odd):
        source, payer = key.split("\x1f", 1)
        out.append({"source": source, "problem": (
            f"payer {shown(payer)!r} ({odd[key]} line(s)) holds {odd_characters(payer)}: payer "
            f"names are matched as written, so its claims are scrubbed under the {policies.policy_for(payer)} "
            "policy; check the payer name in the export")})
    return out


def unused_policy_warnings(policies: PolicySet, used: dict[str, int]) -> list[dict[str, str]]:
    """An input warning per policy of a ``--policy`` file that decides no line of the batch: no payer
    name of the batch maps to it (a typo, "MEDICAR"; a payer another file claims later), so the file
    changed nothing, which a run must not do silently (probe 20B)."""
    return [{"source": p.origin, "problem": f"policy {p.name} applies to no claim of this batch: no payer name here "
             "maps to it" + ("" if p.name in BUILTIN else
                             " (check its payers and payer_patterns against the claims' payer names)")}
            for p in policies.claimants if p.origin != "built-in" and not used.get(p.name)]


def unusable_times_warnings(parts: dict[str, dict[str, Any]]) -> list[dict[str, str]]:
    """The input warnings of :func:`unusable_times_parts` (added up), one per file in the order given."""
    out = []
    # (files in the order of their first such row, as the rows are numbered across files)
    for source, part in sorted(parts.items(), key=lambda item: min(r for r, _ in item[1]["first"])):
        shown = ", ".join(loc for _, loc in sorted(part["first"])[:_TIMES_LISTED])
        more = f" and {part['count'] - _TIMES_LISTED} more" if part["count"] > _TIMES_LISTED else ""
        out.append({"source": source, "problem": (
            f"{part['count']} line(s) document an infusion_stop that cannot end their infusion_start (before it, "
            f"or more than a day after it), or an infusion_start more than a day from the date of service (or the "
            f"day before it, ending before it): "
            f"{shown}{more}; their infusion minutes are not evaluated (check the times in the administration "
            "record)")})
    return out


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
        _validate_x12(raw.formats, raw.file_notices)
    loaded = load_records(records) if records else None
    joiner = RecordJoin(loaded) if loaded is not None else None
    # (a records join reads and merges the batches' text: numbers are typed at the reader only without one)
    batches = _counted(raw.batches(numbers=joiner is None), progress, clock)
    if joiner is not None:
        batches = ((n, None if b is None else joiner.apply(b)) for n, b in batches)
    clock.lap("open inputs and policies")
    checked = check_batches(batches, policies, checks, ctx, clock, suppressions)
    canon, enriched, findings, unevaluated = checked.canon, checked.enriched, checked.findings, checked.unevaluated
    suppressed, suppression_warnings = checked.suppressed, checked.suppression_warnings
    unmatched = joiner.problems(enriched.get_column("row_id")) if joiner is not None else empty_problems()
    summary = summarise(enriched, findings, canon.rejected, canon.rows_read, checks, unevaluated, unmatched)
    if loaded is not None:
        summary["records_read"] = loaded.rows_read  # (beside unmatched_records: the records' own count)
    # Rows are counted independently of the parsers (a quote-aware scan, a segment count): the run is
    # "reconciled" only when rows read = checked + rejected AND every file gave the rows its count says.
    mismatched = raw.reconciliation()
    summary["reconciled"] = bool(summary["reconciled"] and not mismatched)
    # (files whose reader has no count of its own, Parquet, count as read)
    summary["rows_counted"] = summary["rows_read"] + sum(int(m["counted"]) - int(m["read"]) for m in mismatched)
    counts = [{"source": str(m["source"]), "problem": f"an independent count finds {m['counted']} row(s) but "
               f"{m['read']} were read: rows may be missing from the check"} for m in mismatched]
    # (a records file's columns not read but named like documentation: warned as a claims file's are)
    record_notices = [{"source": loaded.source, "problem": n} for n in loaded.notices] if loaded is not None else []
    times = [*_unusable_times(enriched), *split_claim_warnings(canon.lines, canon.rejected)]
    # --strict validates X12 inputs only: said when there is none, not silently a no-op.
    unvalidated = ([{"source": "--strict", "problem": "no input is an X12 837 file, and --strict validates X12 "
                     "files only: nothing more was validated"}]
                   if strict and "x12" not in raw.formats.values() else [])
    unused = [*policies.notices,
              *unused_policy_warnings(policies, policies_used(enriched, canon.rejected_lines, policies)),
              *odd_payer_warnings(odd_payers(enriched), policies)]
    unvalidated += ignore_warnings(select, ignore)
    input_warnings = [*raw.skipped, *raw.file_notices, *record_notices, *counts, *times, *unused, *unvalidated]
    strict_refuses = [False] * len(raw.skipped) + [raw.formats.get(n["source"]) == "x12" for n in raw.file_notices] \
        + [False] * (len(record_notices) + len(counts) + len(times) + len(unused) + len(unvalidated))
    summary["input_warnings"] = len(input_warnings)
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
        lines=enriched.select(*canon.lines.columns, *REPORTED_LINE_FACTS),
        rejected=canon.rejected,
        unmatched_records=unmatched,
        summary=summary,
        provenance=provenance,
        checks=checks,
        timings=clock.phases,
        input_warnings=input_warnings,
        strict_refuses=strict_refuses,
        suppressed=suppressed,
        suppression_warnings=suppression_warnings,
    )


# Derived line facts the reports show beside the canonical columns.
REPORTED_LINE_FACTS = ("policy", "payer_kind", "enc_key", "cob_layer", "copy_of", "voided_by")


@dataclass
class Checked:
    """What :func:`check_batches` returns: the typed and rejected rows, the enriched lines, findings."""

    canon: Canonical
    enriched: pl.DataFrame
    findings: pl.DataFrame
    unevaluated: dict[str, int]
    suppressed: pl.DataFrame
    suppression_warnings: list[dict[str, Any]]


def check_batches(raw: pl.DataFrame | Any, policies: PolicySet, checks: list[Check], ctx: Context | None = None,
                  clock: PhaseClock | None = None, suppressions: SuppressionSet | None = None) -> Checked:
    """The scrub of claim lines already read: canonicalise, enrich, run the checks, word the findings.

    The one entry both engines use: the command line hands it the loaders' raw batches, the Spark
    engine (:mod:`scrubber.spark`) one partition's raw frame. No file I/O happens inside.
    ``raw`` is a raw frame (:data:`scrubber.schema.RAW_SCHEMA`) or what :func:`canonicalise` accepts.
    Every finding gets its stable ``finding_id``; ``suppressions`` take reviewed findings out of the
    findings (kept in ``suppressed``) before charges at risk are counted, so a waived finding's line
    charge goes to the findings that remain on that line, or out of the totals.
    """
    ctx = ctx if ctx is not None else build_context(policies)
    canon = canonicalise(raw)
    if clock is not None:
        clock.lap("read + canonicalise")
    enriched = enrich(canon.lines, policies, canon.rejected_lines, canon.unreadable_lines)
    if clock is not None:
        clock.lap("enrich")
    # A void claim (CLM05-3 8) cancels the claim it repeats: the payer adjudicates none of its lines,
    # so the checks do not read them (summary ``void_claims`` counts them; findings on a void blocked
    # the gate that sends it, and its lines were counted "not evaluated"). A void is its own encounter:
    # leaving it out changes no other claim's findings.
    # So is a claim a void of the batch cancels (``voided_by``: the original it repeats; probe 17E).
    void = pl.col("claim_frequency").is_in(reference.void_frequencies()).fill_null(False) | pl.col(
        "voided_by").is_not_null()
    scrubbed = enriched.filter(~void) if enriched.select(void.any()).item() else enriched
    worded, unevaluated = _run_checks(scrubbed, checks, ctx)
    skipped = frozenset(c.id for c in all_checks()) - {c.id for c in checks}
    findings, suppressed, warnings = _identify_and_suppress(worded, suppressions, skipped)
    findings, suppressed = _finish(findings, enriched), _finish(suppressed, enriched, SUPPRESSION_COLUMNS)
    if clock is not None:
        clock.lap("checks")
    return Checked(canon=canon, enriched=enriched, findings=findings, unevaluated=unevaluated, suppressed=suppressed,
                   suppression_warnings=warnings)


def _identify_and_suppress(findings: pl.DataFrame, suppressions: SuppressionSet | None,
                           skipped: frozenset[str] = frozenset(),
                           ) -> tuple[pl.DataFrame, pl.DataFrame, list[dict[str, Any]]]:
    """Give every finding its stable ``finding_id``, then take out the ones ``suppressions`` waive
    (``skipped``: the checks not run, whose waivers are not stale)."""
    from scrubber import suppressions as suppress
    from scrubber.finding_ids import finding_ids

    findings = findings.with_columns(finding_ids(findings))
    applied = suppress.apply(findings, suppressions, skipped=skipped)
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
