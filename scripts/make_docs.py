"""Regenerate the documentation that comes from data: docs/SOURCES.md (from scrubber/data/sources.toml)
and the checks tables of README.md and docs/RULES.md (from the checks' cards).

    python scripts/make_docs.py          # rewrite the files
    python scripts/make_docs.py --check  # exit 1 if a file is out of date (tests/test_docs.py does this)

The generated parts sit between ``<!-- generated: NAME -->`` and ``<!-- end generated -->`` markers;
the rest of each file is written by people.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__":  # document this tree's checks and data, not an installed copy
    sys.path.insert(0, str(ROOT))
_BLOCK = re.compile(r"(<!-- generated: (?P<name>[a-z-]+) -->\n)(?P<body>.*?)(<!-- end generated -->)", re.S)


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def sources_md() -> str:
    """docs/SOURCES.md: every primary source the product cites, by the id findings and cards use."""
    from scrubber.cards import sources

    rows = [
        "# Sources",
        "",
        "The primary sources scrubber cites, by id. A finding's `citation` renders the *cites* form; cards",
        "(`checks/*.toml`) name sources by id. Generated from `scrubber/data/sources.toml` by",
        "`scripts/make_docs.py`; `verified` says how far the project has read the text (`text`: the passage",
        "itself; `cited`: a CMS or contractor page citing it for the point; `data`: a copy of the data file).",
        "",
        "| id | source | issuer | date | cited as | where to find it | verified |",
        "|---|---|---|---|---|---|---|",
    ]
    for source_id, s in sorted(sources().items()):
        rows.append("| " + " | ".join(_cell(v) for v in (
            f"`{source_id}`", s["title"], s["issuer"], s.get("date") or "current revision", s["cites"], s["where"],
            s.get("verified", ""))) + " |")
    return "\n".join(rows) + "\n"


def checks_table() -> str:
    """The checks, one row each, from the registry and the cards (README and docs/RULES.md)."""
    from checks import all_checks

    rows = ["| id | severity | scope | finds |", "|---|---|---|---|"]
    for check in all_checks():
        card = check.card
        rows.append(f"| `{check.id}` | {' / '.join(card.severities)} | {card.scope} | {_cell(card.summary)} |")
    return "\n".join(rows) + "\n"


GENERATORS = {"checks-table": checks_table}


def render_blocks(text: str) -> str:
    """``text`` with every generated block rewritten by its generator."""
    def replace(match: re.Match[str]) -> str:
        name = match.group("name")
        if name not in GENERATORS:
            raise KeyError(f"no generator for block {name!r}")
        return match.group(1) + GENERATORS[name]() + match.group(4)

    return _BLOCK.sub(replace, text)


def expected() -> dict[Path, str]:
    out = {ROOT / "docs" / "SOURCES.md": sources_md()}
    for path in (ROOT / "README.md", ROOT / "docs" / "RULES.md"):
        out[path] = render_blocks(path.read_text(encoding="utf-8"))
    return out


def main(argv: list[str]) -> int:
    stale = [p for p, text in expected().items() if not p.exists() or p.read_text(encoding="utf-8") != text]
    if "--check" in argv:
        for p in stale:
            print(f"out of date: {p.relative_to(ROOT)} (run python scripts/make_docs.py)")
        return 1 if stale else 0
    for p, text in expected().items():
        p.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
