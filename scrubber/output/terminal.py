"""What ``scrub check`` prints when no output file is named: totals, one row per check, the findings
one per line (``claim:line  check  message``, by claim, capped), rejections, and the verdict.

Claim data reaches a terminal here, so every value is made printable first: an escape sequence
hidden in a claim id must not move the cursor or recolour the verdict.
"""

from __future__ import annotations

import re

import polars as pl

from scrubber.engine import ScrubResult
from scrubber.errors import UNPRINTABLE
from scrubber.gate import Verdict
from scrubber.output import icd10_next_words
from scrubber.records import REJECTED_LINE_REASON, UNMATCHED_REASON

MAX_REJECTED_SHOWN = 10
MAX_FINDINGS_SHOWN = 50
_CONTROL = re.compile(UNPRINTABLE)
_CHECK_WIDTH = 34


def printable(value: object) -> str:
    """``value`` as text with control characters (ANSI escapes, bells, line breaks) shown as ``\\xNN``."""
    text = "" if value is None else str(value)
    return _CONTROL.sub(_escaped, text.replace("\n", "\\n").replace("\t", " "))


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def render_findings(findings: pl.DataFrame, limit: int = MAX_FINDINGS_SHOWN) -> list[str]:
    """The first ``limit`` findings, one line each, in claim order, and a count of the rest."""
    if findings.height == 0:
        return []
    shown = findings.head(limit).select(
        pl.concat_str(pl.col("claim_id").fill_null("?"),
                      pl.when(pl.col("line_number").is_not_null())
                      .then(pl.lit(":") + pl.col("line_number").cast(pl.String)).otherwise(pl.lit("")))
        .alias("where"),
        "check_id", "message",
    )
    wheres = [printable(w) for w in shown.get_column("where").to_list()]
    width = max(len(w) for w in wheres)
    title = (f"Findings ({findings.height}):" if findings.height <= limit
             else f"Findings (first {limit} of {findings.height}, by claim):")
    out = ["", title]
    for where, check, message in zip(wheres, shown.get_column("check_id").to_list(),
                                     shown.get_column("message").to_list(), strict=True):
        out.append(f"  {where:<{width}}  {printable(check):<{_CHECK_WIDTH}}{printable(message)}")
    if findings.height > limit:
        out.append(f"  ... and {findings.height - limit} more: write them all with --json, --csv or --html.")
    return out


def reference_line(result: ScrubResult) -> str:
    """Which edit tables and code sets the run checked against (issue 17: the quarter is said)."""
    tables = {r["table"]: r for r in result.provenance.get("reference_data", [])}
    parts = [f"{label} {tables[key]['table_quarter']}{' (replaced)' if tables[key].get('override') else ''}"
             for key, label in (("mue_practitioner", "MUE practitioner"), ("mue_outpatient", "MUE outpatient"),
                                ("ncci_ptp", "NCCI PTP")) if key in tables and tables[key].get("table_quarter")]
    icd = sorted(t["release"] for k, t in tables.items() if k.startswith("icd10cm."))
    if icd:
        parts.append(f"ICD-10-CM {icd[0]}-{icd[-1]}" if len(icd) > 1 else f"ICD-10-CM {icd[0]}")
    return "Checked against: " + ", ".join(parts) + "." if parts else "Checked against: the shipped tables."


def render_summary(result: ScrubResult, verdict: Verdict, rejected_path: str | None = None,
                   compare: list[str] | None = None) -> str:
    """The terminal summary; ``rejected_path`` is the ``--rejected`` file, if any, for the hint."""
    s = result.summary
    out = [
        f"Scrubbed {s['claims']} claim(s), {s['lines']} line(s) from {len(result.provenance['inputs'])} file(s).",
        f"Rows read {s['rows_read']} = checked {s['rows_checked']} + rejected {s['rejected_rows']}"
        + (f" ({s['merged_rows']} of them copies of a checked line, merged into it)." if s.get("merged_rows") else "."),
        *([f"{s['void_claims']} void claim(s) (frequency 8) read and counted, not scrubbed: a void cancels the claim "
           "it repeats."] if s.get("void_claims") else []),
        *([f"{s['drug_lines_not_checked']} drug line(s) outside the immune globulin table: their units and JW/JZ "
           "were not checked."] if s.get("drug_lines_not_checked") else []),
        "",
        f"{'check':<34}{'severity':<10}{'findings':>9}{'claims':>8}{'at risk $':>13}{'not eval.':>11}",
    ]
    for check_id, row in s["by_check"].items():
        out.append(
            f"{check_id:<34}{row['severity']:<10}{row['findings']:>9}{row['claims']:>8}"
            f"{row['charges_at_risk']:>13,.2f}{row['lines_not_evaluated']:>11}"
        )
    out.append("")
    out.append(
        f"{s['findings']} finding(s) on {s['claims_with_findings']} claim(s); "
        f"charges at risk ${s['charges_at_risk']:,.2f} of ${s['charges_billed']:,.2f} billed."
    )
    suppressed = result.suppressed.height if result.suppressed is not None else 0
    if suppressed:
        out.append(f"{suppressed} suppressed finding(s) (reviewed, not counted above; listed in --json/--csv/--html; "
                   "a line another finding also names stays at risk under it).")
    out += render_findings(result.findings)
    if result.rejected.height:
        out.append("")
        merged = int(s.get("merged_rows", 0))
        out.append(f"{result.rejected.height} row(s) rejected and not checked:" if not merged else
                   f"{result.rejected.height} row(s) rejected ({merged} of them copies of a checked line, merged into "
                   "it; the others not checked):")
        for row in result.rejected.head(MAX_REJECTED_SHOWN).iter_rows(named=True):
            out.append(f"  {printable(row['source'])} {printable(row['location'])}: {printable(row['reason'])}")
        if result.rejected.height > MAX_REJECTED_SHOWN:
            more = result.rejected.height - MAX_REJECTED_SHOWN
            where = (f"all of them are in {rejected_path}" if rejected_path
                     else "--rejected PATH writes them all as CSV")
            out.append(f"  ... and {more} more ({where}).")
        elif rejected_path:
            out.append(f"  (also written to {rejected_path})")
    if s.get("lines_outside_icd10_releases"):
        out.append(f"{s['lines_outside_icd10_releases']} line(s) dated outside every shipped ICD-10-CM release: "
                   f"their diagnosis codes were not evaluated for validity{icd10_next_words(s)}.")
    out.append(reference_line(result))
    if result.unmatched_records.height:
        # (a record that matched its line but holds a value that cannot be used, or repeats another, is
        # no unmatched record: probe 20B read "1 record matched no claim line" for one of those)
        reasons = result.unmatched_records.get_column("reason")
        unmatched = int((reasons == UNMATCHED_REASON).sum())
        of_rejected = int((reasons == REJECTED_LINE_REASON).sum())
        others = result.unmatched_records.height - unmatched - of_rejected
        words = [f"{unmatched} administration record(s) matched no claim line"] if unmatched else []
        if of_rejected:
            words.append(f"{of_rejected} record(s) of a rejected claim line not used")
        if others:
            words.append(f"{others} record problem(s) (a value not used, a repeated record)")
        out.append("; ".join(words) + " (unmatched_records in the findings JSON).")
    if result.input_warnings:
        out.append(f"{len(result.input_warnings)} input file problem(s) that did not stop the scrub (see stderr).")
    if compare:
        out.append("")
        out += compare
    out.append("")
    out.append(verdict.line())
    return "\n".join(out) + "\n"
