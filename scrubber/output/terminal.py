"""The short summary printed when no output file is named: totals, one row per check, rejections."""

from __future__ import annotations

from scrubber.engine import ScrubResult

_MAX_REJECTED_SHOWN = 10


def render_summary(result: ScrubResult, fail_on: str, failed: bool) -> str:
    s = result.summary
    out = [
        f"Scrubbed {s['claims']} claim(s), {s['lines']} line(s) from {len(result.provenance['inputs'])} file(s).",
        f"Rows read {s['rows_read']} = checked {s['rows_checked']} + rejected {s['rejected_rows']}.",
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
    if result.rejected.height:
        out.append("")
        out.append(f"{result.rejected.height} row(s) rejected and not checked:")
        for row in result.rejected.head(_MAX_REJECTED_SHOWN).iter_rows(named=True):
            out.append(f"  {row['source']} {row['location']}: {row['reason']}")
        if result.rejected.height > _MAX_REJECTED_SHOWN:
            out.append(f"  ... and {result.rejected.height - _MAX_REJECTED_SHOWN} more (use --json or --csv).")
    if result.unmatched_records.height:
        out.append(f"{result.unmatched_records.height} administration record(s) matched no claim line.")
    if result.input_warnings:
        out.append(f"{len(result.input_warnings)} input file problem(s) that did not stop the scrub (see stderr).")
    verdict = "FAIL" if failed else "PASS"
    out.append("")
    out.append(f"{verdict} (--fail-on {fail_on})")
    return "\n".join(out) + "\n"
