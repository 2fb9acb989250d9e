"""The pre-submission gate: what exit status a run ends with, and why, in words.

It fails closed. A row that could not be checked is not a row that passed: any rejected row fails
the gate at every ``--fail-on`` but ``never`` (but a copy of a checked line, merged into it: nothing
of its line is unchecked), and a run in which no row at all could be checked is unusable input (exit
2), not a pass, at every ``--fail-on``. Suppressed findings are outside the gate (they were
reviewed); ``--fail-on never`` otherwise exits 0 (a report-only run): it sets how findings and
rejected rows count, and an input of which nothing could be checked has neither to count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the engine (and Polars) are imported when a verdict is made, not by `scrub --help`
    from scrubber.engine import ScrubResult

EXIT_OK, EXIT_FINDINGS, EXIT_UNUSABLE, EXIT_INTERRUPTED = 0, 1, 2, 130
FAIL_ON = ("error", "warning", "info", "never")


@dataclass
class Verdict:
    """The gate's decision: ``status`` (0/1/2) and the reasons, one short phrase each."""

    status: int
    fail_on: str
    reasons: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.status != EXIT_OK

    def line(self) -> str:
        """``PASS (--fail-on error)`` or ``FAIL (--fail-on error): 2 rows could not be checked``."""
        word = "PASS" if self.status == EXIT_OK else "FAIL"
        return f"{word} (--fail-on {self.fail_on})" + (f": {'; '.join(self.reasons)}" if self.reasons else "")


def decide(result: ScrubResult, fail_on: str) -> Verdict:
    """The verdict for ``result`` at ``fail_on``."""
    from scrubber.engine import SEVERITY_RANK

    s = result.summary
    reasons = []
    checked, rejected = int(s.get("rows_checked", 0)), int(s.get("rejected_rows", 0))
    # (copies of a checked line merged into it are rejected as rows but leave nothing unchecked: the same
    # export given twice, a CSV and its 837, pass as the file given once; probe 27C D3)
    unchecked = rejected - int(s.get("merged_rows", 0))
    if checked == 0:  # (at every --fail-on: no threshold of findings makes an unusable input a pass)
        what = f"all {rejected} row(s) were rejected" if rejected else "the input holds no claim lines"
        return Verdict(EXIT_UNUSABLE, fail_on, [f"nothing could be checked: {what}"])
    if fail_on == "never":
        return Verdict(EXIT_OK, fail_on)
    threshold = SEVERITY_RANK[fail_on]
    severities = result.findings.get_column("severity")
    at_or_above = int(severities.is_in([sev for sev, rank in SEVERITY_RANK.items() if rank >= threshold]).sum())
    if at_or_above:
        reasons.append(f"{at_or_above} finding(s) at or above {fail_on}")
    if unchecked:
        reasons.append(f"{unchecked} row(s) could not be checked")
    if not s.get("reconciled", True):
        reasons.append("rows read do not reconcile with rows checked + rejected")
    return Verdict(EXIT_FINDINGS if reasons else EXIT_OK, fail_on, reasons)
