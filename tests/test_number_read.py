"""The CSV fast path reads the number columns as numbers (issue 16: a string per cell and a cast
cost ~0.2 s of CPU per 2M lines), and what it gives must be what reading them as text gives: the
same checked lines, the same rejected rows with the same reasons (quoting the cell as written),
the same row numbers. A value Polars does not read as a number, or one typing would not take as
read (not finite, beyond a bound), sends the rest of the file to the text read; the batches before
it stand. Each case compares the two reads of one file.
"""

from __future__ import annotations

import random
import tempfile
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from claimgen import (
    CSV_COLUMNS,
    generate_claims,
    generate_layout,
    render_csv,
    table,
    write_large_csv,
    write_rows,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from test_properties import NASTY, _damage_bytes, _mutate

from scrubber.canonical import Canonical, canonicalise
from scrubber.engine import scrub
from scrubber.errors import ScrubError
from scrubber.loaders import RawBatch, RawInput, csv_loader, load_inputs
from scrubber.schema import NUMBER_FIELDS

SAMPLES = Path(__file__).resolve().parents[1] / "sample_claims"

# Spellings of a number a file may hold: taken as numbers, refused by Polars' number reader (then
# read as text: thousands separators, currency, blanks around), or read but not taken as they are.
SPELLINGS = ("5", "5.0", "5.", ".5", "+5", "-5", "0", "-0", "1e3", "1E3", "05", "2.5", "1.0000000000000002",
             "2147483647", "2147483648", "9223372036854775808", "1e400", "1e-400", "inf", "-inf", "NaN",
             " 5", "5 ", "\t5", "1,000", "1,000.50", "$5", "5$", "0x10", "1_000", "\u0665", "\uff15", "TRUE", "-",
             ".", "e5", "1.2.3", "", " ", "\t")


def _file(tmp: Path, rows: list[list[str]], name: str = "claims.csv") -> Path:
    path = tmp / name
    path.write_text(write_rows(list(CSV_COLUMNS), rows), encoding="utf-8")
    return path


def _clean_rows(n_claims: int = 12, seed: int = 7) -> list[list[str]]:
    """Generated claim lines with their numbers written plainly (the generator also writes
    " 1 ", "1.0" line numbers and "$1,190.00" charges, which only the text read takes)."""
    rows = table(generate_claims(random.Random(seed), prefix="N", n_claims=n_claims, max_lines=4))
    for name, dtype in NUMBER_FIELDS.items():
        col = CSV_COLUMNS.index(name)
        for row in rows:
            value = row[col].strip().replace("$", "").replace(",", "")
            row[col] = str(int(float(value))) if value and dtype.is_integer() else value
    return rows


def _read(path: Path, numbers: bool) -> Canonical:
    raw = load_inputs([str(path)])
    canon = canonicalise(raw.batches(numbers=numbers))
    assert raw.reconciliation() == []
    return canon


def _same(path: Path) -> Canonical:
    """Both reads of ``path`` agree in everything canonicalisation hands on; the number read's result."""
    text, numbers = _read(path, numbers=False), _read(path, numbers=True)
    assert numbers.rows_read == text.rows_read
    assert_frame_equal(numbers.lines, text.lines)
    assert_frame_equal(numbers.rejected, text.rejected)
    for a, b in ((numbers.rejected_lines, text.rejected_lines), (numbers.unreadable_lines, text.unreadable_lines)):
        assert (a is None) == (b is None)
        if a is not None and b is not None:
            assert_frame_equal(a, b)
    return numbers


def _dtypes(path: Path) -> list[pl.DataType]:
    """The ``units`` dtype of each batch the number read gives."""
    header = csv_loader.open_csv(path)[0]
    return [b.schema["units"] for b in csv_loader.number_batches(path, header, 0)]


def test_a_clean_file_is_read_as_numbers() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = _file(Path(tmp), _clean_rows())
        assert _dtypes(path) == [pl.Float64()]
        canon = _same(path)
        assert canon.rejected.height == 0
        assert canon.lines.height == len(_clean_rows())


@pytest.mark.parametrize("text", SPELLINGS)
@pytest.mark.parametrize("kind", ["float", "integer"])
def test_every_spelling_of_a_number_reads_as_the_text_read_does(text: str, kind: str) -> None:
    """The spelling in each number column of one kind, a row each: what Polars reads as a number
    must be the value typing gives the text, or the row rejected alike."""
    columns = [c for c, t in NUMBER_FIELDS.items() if (t.is_float() if kind == "float" else t.is_integer())]
    rows = _clean_rows()
    for n, column in enumerate(columns):
        rows[3 + 4 * n][CSV_COLUMNS.index(column)] = text
    with tempfile.TemporaryDirectory() as tmp:
        _same(_file(Path(tmp), rows))


def test_a_blank_line_number_is_shown_as_written() -> None:
    """Polars reads a blank number cell as null; a rejected row shows the line number the file
    wrote (here blank, not null), so a batch with a line number missing is read as text."""
    rows = _clean_rows()
    rows[4][CSV_COLUMNS.index("line_number")] = " "
    with tempfile.TemporaryDirectory() as tmp:
        path = _file(Path(tmp), rows)
        assert _dtypes(path) == [pl.String()]
        canon = _same(path)
    assert canon.rejected.get_column("line_number").to_list() == [""]


def test_a_value_polars_reads_as_no_number_sends_the_whole_file_to_text(monkeypatch) -> None:
    monkeypatch.setattr(csv_loader, "_FAST_BATCH_ROWS", 5)
    rows = _clean_rows(n_claims=14)
    assert len(rows) > 25
    rows[2] = [""] * len(CSV_COLUMNS)  # a blank row: row numbers must still agree
    rows[12][CSV_COLUMNS.index("charge")] = "$1,190.00"  # no number to Polars; the text read takes it
    rows[22][CSV_COLUMNS.index("units")] = "-2"  # a rejection quoting the text as written
    with tempfile.TemporaryDirectory() as tmp:
        path = _file(Path(tmp), rows)
        with pytest.raises(csv_loader.NumbersRefused):
            _dtypes(path)
        canon = _same(path)
    assert canon.rejected.get_column("row").to_list() == [24]
    assert "(units = '-2')" in canon.rejected.get_column("reason")[0]
    assert 1190.0 in canon.lines.get_column("charge").to_list()


def test_batches_given_before_the_reader_fails_are_dropped(monkeypatch) -> None:
    """Polars' streaming reader skips a part it cannot parse, goes on, and raises at the end (Polars
    2.1: the batches before carry rows from after the bad part under the next row numbers); the
    number read is refused whole, so not one of those rows reaches the checks."""
    monkeypatch.setattr(csv_loader, "_FAST_BATCH_ROWS", 1000)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "large.csv"
        write_large_csv(path, 20_000, seed=3, error_rate=0.0)
        lines = path.read_text(encoding="utf-8").split("\n")
        charge = lines[0].split(",").index("charge")
        cells = lines[3001].split(",")
        cells[charge] = "$" + cells[charge]
        lines[3001] = ",".join(cells)
        path.write_text("\n".join(lines), encoding="utf-8")
        header = csv_loader.open_csv(path)[0]
        given = []
        with pytest.raises(csv_loader.NumbersRefused):
            given.extend(csv_loader.number_batches(path, header, 0))
        canon = _same(path)
    assert canon.lines.height == 20_000 and canon.rejected.height == 0
    assert canon.lines.get_column("source_row").to_list() == list(range(2, 20_002))


def test_a_value_typing_would_not_take_as_read_sends_its_batch_to_text(monkeypatch) -> None:
    monkeypatch.setattr(csv_loader, "_FAST_BATCH_ROWS", 5)
    rows = _clean_rows(n_claims=14)
    rows[2] = [""] * len(CSV_COLUMNS)  # a blank row before it: the text read of its batch starts right
    rows[17][CSV_COLUMNS.index("sites")] = "101"  # a number Polars reads, beyond the bound of sites
    rows[18][CSV_COLUMNS.index("units")] = "1e400"  # not finite
    with tempfile.TemporaryDirectory() as tmp:
        path = _file(Path(tmp), rows)
        kinds = _dtypes(path)
        assert kinds[3] == pl.String() and set(kinds[:3] + kinds[4:]) == {pl.Float64()}, kinds
        canon = _same(path)
    assert canon.rejected.get_column("row").to_list() == [19, 20]
    assert "(sites = '101')" in canon.rejected.get_column("reason")[0]
    assert "'1e400'" in canon.rejected.get_column("reason")[1]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.sampled_from([3, 7, 1000]))
def test_damaged_files_read_alike_either_way(seed: int, batch_rows: int) -> None:
    """Cells from the property tests' nasty list, ragged rows, damaged bytes: both reads agree (or
    both refuse the file)."""
    rnd = random.Random(seed)
    rows = _mutate(rnd, _clean_rows(n_claims=rnd.randint(1, 5), seed=seed), rnd.randint(0, 4))
    for _ in range(rnd.randint(0, 3)):
        if rows:
            row, col = rows[rnd.randrange(len(rows))], CSV_COLUMNS.index(rnd.choice(sorted(NUMBER_FIELDS)))
            if col < len(row):  # (a mutation may have shortened the row)
                row[col] = rnd.choice((*NASTY, *SPELLINGS))
    data = write_rows(list(CSV_COLUMNS), rows).encode("utf-8")
    if rnd.random() < 0.3:
        data = _damage_bytes(rnd, data, rnd.randint(1, 2))
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp:
        mp.setattr(csv_loader, "_FAST_BATCH_ROWS", batch_rows)
        path = Path(tmp) / "d.csv"
        path.write_bytes(data)
        try:
            _read(path, numbers=False)
        except ScrubError as exc:  # a file-level refusal: the number read refuses it alike
            with pytest.raises(type(exc)):
                _read(path, numbers=True)
            return
        _same(path)


def _plain_document(seed: int) -> bytes:
    """A generated file in a random layout (claimgen), its numbers written plainly so that the number
    read takes it (the generator's own spellings, "$1,190.00" or " 1 ", send most files to text)."""
    rnd = random.Random(seed)
    lines = generate_claims(rnd, prefix="L", n_claims=rnd.randint(1, 5))
    for line in lines:
        for name, dtype in NUMBER_FIELDS.items():
            value = line.cells.get(name, "").strip().replace("$", "").replace(",", "")
            if name in line.cells:
                line.cells[name] = str(int(float(value))) if value and dtype.is_integer() else value
    return render_csv(lines, generate_layout(rnd))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1))
def test_any_layout_reads_alike_either_way(seed: int) -> None:
    """BOM, CRLF, every cell quoted, columns in any order and spelling, extra columns holding commas,
    quotes and line breaks, blank lines at the end: the number read takes the file, and gives what
    the text read gives."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "claims.csv"
        path.write_bytes(_plain_document(seed))
        assert set(_dtypes(path)) == {pl.Float64()}
        _same(path)


@pytest.mark.parametrize("records", [None, "records.csv"])
def test_the_engine_reads_numbers_but_not_for_a_records_join(monkeypatch, records: str | None) -> None:
    """A records join merges the batches' text (and reads line numbers as text): with one, the
    engine asks for text batches."""
    asked: list[bool] = []
    original = RawInput.batches

    def spy(self: RawInput, numbers: bool = False) -> Iterator[RawBatch]:
        asked.append(numbers)
        return original(self, numbers)

    monkeypatch.setattr(RawInput, "batches", spy)
    result = scrub([str(SAMPLES / "claims.csv")], records=str(SAMPLES / records) if records else None)
    assert asked == [records is None]
    assert result.findings.height > 0


@pytest.mark.parametrize(("value", "reason"), [(-5.0, "units must be greater than 0 (units = '-5.0')"),
                                               (float("nan"), "unparseable units 'NaN' (expected a number)"),
                                               (1e9, "units must be at most 100,000 (units = '1000000000.0')")])
def test_typed_numbers_typing_would_not_take_are_typed_from_their_text(value: float, reason: str) -> None:
    """A caller (not the CSV loader) handing canonicalisation typed numbers it would not take as read
    gets them typed from their text: the row is rejected with its reason, the others are kept."""
    raw = load_inputs([str(SAMPLES / "claims.csv")]).collect()
    typed = raw.with_columns(pl.col("units").cast(pl.Float64), pl.col("line_number").cast(pl.Int32))
    assert_frame_equal(canonicalise(typed).lines, canonicalise(raw).lines)
    victim = typed.get_column("row_id")[3]
    canon = canonicalise(typed.with_columns(
        pl.when(pl.col("row_id") == victim).then(pl.lit(value)).otherwise(pl.col("units")).alias("units")))
    assert canon.rejected.get_column("reason").to_list() == [reason]
    assert canon.lines.height == raw.height - 1
