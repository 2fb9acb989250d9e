"""Shared test helpers: write claim CSVs, run the engine, find the shared external data."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def write_csv(tmp_path: Path):
    """Write CSV text (dedented, leading blank line dropped) to a file and return its path."""

    def _write(text: str, name: str = "claims.csv") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return _write


def finding_keys(findings) -> list[str]:
    """Findings as sorted "claim_id:line_number" strings (repeats kept)."""
    return sorted(f"{c}:{n}" for c, n in findings.select("claim_id", "line_number").iter_rows())


def empty_canonical():
    """A canonical frame with no rows (schema only): for checking plans and schemas."""
    import polars as pl

    from scrubber.schema import CANONICAL_SCHEMA

    return pl.DataFrame(schema=CANONICAL_SCHEMA)


def sample_finding_count() -> int:
    """How many findings the bundled sample batch gives (from the engine, so tests follow the rules)."""
    from scrubber.engine import scrub

    return scrub([str(ROOT / "sample_claims" / "claims.csv")]).findings.height
