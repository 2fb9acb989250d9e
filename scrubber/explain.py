"""``scrub explain CHECK_ID``: a check's documentation in plain text, from its rule and its card.

Plain text for a terminal (no Markdown markup): the rule as docs/RULES.md states it (the check's
docstring), the card's explanation, each reason with its severity and what is at risk, and the
sources with where to find them.
"""

from __future__ import annotations

import re
import textwrap

from scrubber.cards import EXPLAIN_SECTIONS, EXPLAIN_TITLES, Card, sources
from scrubber.registry import Check

_WIDTH = 100
_RISK_WORDS = {"line": "the line's charge", "excess": "the excess units' share of the line charge",
               "excess_after": "the excess units' share of the line charge, beyond the units other findings report",
               "lines": "the charges of every line the finding names",
               "lines_after": "the charges of the lines the finding names, beyond what other findings put at risk",
               "none": "nothing (not a denial)"}


def plain(text: str) -> str:
    """Markdown emphasis and code marks removed: ``**x**`` and ```x``` read as x."""
    return re.sub(r"`+", "", re.sub(r"\*\*(.+?)\*\*", r"\1", text))


def _para(text: str, indent: str = "  ") -> str:
    return textwrap.fill(" ".join(plain(text).split()), width=_WIDTH, initial_indent=indent, subsequent_indent=indent)


def _codes(card: Card, kind: str) -> list[str]:
    """The card's CARC or RARC codes, else those its reasons give (in order, once each)."""
    own = list(getattr(card, kind))
    if own:
        return own
    return list(dict.fromkeys(c for reason in card.reasons.values() for c in getattr(reason, kind)))


def explain_text(check: Check) -> str:
    card = check.card
    out = [
        f"{check.id}: {check.title}",
        f"severity: {' / '.join(card.severities)}    scope: {card.scope}    fix: {' / '.join(card.fix_kinds)}",
        f"denial codes: CARC {', '.join(_codes(card, 'carc')) or '-'}; RARC {', '.join(_codes(card, 'rarc')) or '-'}",
        f"what the payer does: {card.disposition}",
        "",
        "Rule",
        _para(check.rule),
    ]
    for section in EXPLAIN_SECTIONS:
        out += ["", EXPLAIN_TITLES[section], _para(card.explain[section])]
    out += ["", "Reasons"]
    for reason in card.reasons.values():
        out.append(f"  {reason.name}: {reason.severity}, {reason.fix_kind}; at risk: {_RISK_WORDS[reason.risk]}")
        out.append(_para(reason.texts["message"].get("default") or next(iter(reason.texts["message"].values())),
                         "    "))
    table = sources()
    out += ["", "Sources"]
    for source_id in card.sources:
        s = table[source_id]
        issued = ", ".join(part for part in (s["issuer"], s["date"]) if part)  # (a source may have no date)
        out.append(_para(f"{source_id}: {s['title']}. {issued}. {s['where']}"))
    return "\n".join(out) + "\n"
