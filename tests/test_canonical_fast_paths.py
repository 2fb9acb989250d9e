"""Typing decides most rules without a row-level test: a bound from the column's min and max, a
required value from its null count, a re-parse from null counts and float sums, a code rule per
distinct value (scrubber.canonical._type_batch). These cases put one bad cell in a clean batch and
check that exactly its row is rejected, for the reason of that cell: a shortcut that let the row
through, or rejected a good one, fails here.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

import polars as pl
import pytest
from claimgen import CSV_COLUMNS, generate_claims, table, write_rows

from scrubber.canonical import canonicalise
from scrubber.loaders import load_inputs

# (column, text written, a word the reason must hold)
BAD_CELLS = [
    ("line_number", "0", "line_number"),
    ("line_number", "1000000", "line_number"),
    ("line_number", "2.5", "line_number"),
    ("date_of_service", "0000-01-01", "date_of_service"),
    ("date_of_service", "2101-01-01", "date_of_service"),
    ("date_of_service", "1899-12-31", "date_of_service"),
    ("date_of_service", "", "date_of_service"),
    ("units", "0", "units"),
    ("units", "100001", "units"),
    ("units", "nan", "units"),
    ("units", "inf", "units"),
    ("units", "-inf", "units"),
    ("units", "1e400", "units"),
    ("units", "", "units"),
    ("charge", "-1", "charge"),
    ("charge", "1e308", "charge"),
    ("charge", "NaN", "charge"),
    ("procedure_code", "", "procedure_code"),
    ("procedure_code", "9636", "procedure_code"),
    ("payer", " ", "payer"),
    ("member_id", "   ", "member_id"),
    ("claim_type", "dental", "claim_type"),
    ("place_of_service", "abc", "place_of_service"),
]


def _raw(tmp: Path) -> pl.DataFrame:
    """A clean raw batch, as the CSV loader hands it over."""
    lines = generate_claims(random.Random(7), prefix="F", n_claims=12, max_lines=4)
    path = tmp / "clean.csv"
    path.write_text(write_rows(list(CSV_COLUMNS), table(lines)), encoding="utf-8")
    return load_inputs([str(path)]).collect()


@pytest.fixture(scope="module")
def clean() -> pl.DataFrame:
    with tempfile.TemporaryDirectory() as tmp:
        raw = _raw(Path(tmp))
    assert canonicalise(raw).rejected.height == 0
    return raw


@pytest.mark.parametrize(("column", "text", "word"), BAD_CELLS)
def test_one_bad_cell_rejects_its_row_only(clean: pl.DataFrame, column: str, text: str, word: str) -> None:
    # (a claim-level value that is blank or breaks its own rule rejects its line only: isolation)
    victim = clean.height - 1
    raw = clean.with_columns(
        pl.when(pl.col("row_id") == victim).then(pl.lit(text)).otherwise(pl.col(column)).alias(column))
    canon = canonicalise(raw)
    assert canon.rows_read == clean.height
    rejected = canon.rejected
    assert rejected.get_column("row").to_list() == [clean.get_column("source_row")[victim]], rejected
    assert word in rejected.get_column("reason")[0]
    assert canon.lines.height == clean.height - 1


def test_a_required_column_never_filled_rejects_every_row(clean: pl.DataFrame) -> None:
    canon = canonicalise(clean.with_columns(pl.lit(None, pl.String()).alias("units")))
    assert canon.lines.height == 0
    assert canon.rejected.height == clean.height
    assert canon.rejected.get_column("reason").str.contains("units").all()


def test_an_optional_column_never_filled_is_null(clean: pl.DataFrame) -> None:
    canon = canonicalise(clean.with_columns(pl.lit(None, pl.String()).alias(c) for c in ("infusion_start", "sites")))
    assert canon.rejected.height == 0
    assert canon.lines.get_column("infusion_start").null_count() == clean.height
    assert canon.lines.schema["infusion_start"] == pl.Datetime("us")
