"""Writers for a :class:`scrubber.engine.ScrubResult`: JSON, CSV, terminal table, HTML report."""

from typing import Any


def icd10_next_words(summary: dict[str, Any]) -> str:
    """The clause after "their diagnosis codes were not evaluated for validity" when some of those
    lines are dated in the release after the newest shipped one (summary ``icd10_next_release``),
    where a code the newest release subdivides is judged: one wording for the terminal and HTML."""
    nxt = summary.get("icd10_next_release")
    if not nxt:
        return ""
    return (f", except that the {nxt['lines']} dated in {nxt['release']} (not shipped) were checked for codes "
            f"that {nxt['judged_by']} subdivides into more specific codes, and those are flagged")
