"""Count the records of a CSV file without the CSV reader: the independent count rows are reconciled to.

Issue 12: a count taken from the rows a parser produced cannot notice the rows that parser lost.
This module counts a file's records from its physical lines, by the quoting rules of RFC 4180 as
Python's :mod:`csv` applies them (``strict=False``), so that "rows read" can be checked against it:

* a physical line ends at LF, CRLF or a lone CR (a lone CR is a line break for :mod:`csv` too);
* a quote opens a quoted cell only at the start of a cell; inside one, ``""`` is a quote and a
  single ``"`` closes it; anywhere else a quote is a plain character;
* a line break inside a quoted cell continues the record; a record whose every cell is blank is
  not a row (the readers skip it), but it keeps its row number.

How it stays cheap (issue 5): Polars splits the lines (``scan_lines``) and counts them with blank
lines and lines that hold a quote or a CR, in one parallel pass. A file without quotes needs
nothing more: its records are its non-blank lines. Otherwise only the lines with a quote, a CR or
nothing in them are collected; each is classified by what it does to the "inside a quoted cell"
state (two regular expressions: does it end inside a quoted cell if it starts outside, and if it
starts inside), and the state along the file is a scan over those few lines with cumulative sums,
with no Python loop over lines.

A quoted cell that runs over lines which hold as many cells as the header are rows of their own
swallowed into one cell (an unclosed quote mid-file: every CSV reader does it); the record is
reported with the file lines it swallowed, as is a quoted cell the file ends inside.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from scrubber.errors import InputError

# One cell, starting outside a quoted cell: quoted (a closing quote is followed by a comma, the
# line's end or a non-quote character, which makes the rest of the cell plain text), plain, or empty.
_QUOTED_BODY = '(?:[^"]|"")*'
_CELL = f'(?:"{_QUOTED_BODY}"(?:[^",][^,]*)?|[^",][^,]*|)'
# The line ends inside a quoted cell when its last cell is a quoted cell that is not closed.
_ENDS_INSIDE_FROM_OUTSIDE = f'^(?:{_CELL},)*"{_QUOTED_BODY}$'
_ENDS_INSIDE_FROM_INSIDE = f'^{_QUOTED_BODY}$|^{_QUOTED_BODY}"(?:[^",][^,]*)?,(?:{_CELL},)*"{_QUOTED_BODY}$'
_BLANK = r"^[\s,]*$"
_MAYBE_BLANK = r'^[\s,"]*$'


@dataclass
class CsvCount:
    """What the independent count found in one CSV file."""

    rows: int  # non-blank records after the header: what rows read must equal
    lone_cr: bool = False  # a CR that is no part of a CRLF: only the csv-module reader splits lines there
    # Spreadsheet row number (header = 1) -> why the record is unreadable (a quoted cell swallowing rows).
    swallowed: dict[int, str] = field(default_factory=dict)
    nul: bool = False  # a NUL byte somewhere: the readers reject the rows that hold one (csv_loader.nul_rows)
    # The first byte that is not UTF-8 (a cell typed in another encoding): the text reader rejects
    # the rows holding one (csv_loader._slow_batches); None for a UTF-8 file.
    not_utf8: str | None = None


def polars_path(path: Path) -> Path | bytes:
    """What to hand Polars for ``path``: the path, or the file's bytes when its name is not UTF-8
    (Polars takes only text paths; such names are rare, and such files small). Every Polars reader
    is called with ``glob=False``: a file named ``claims[1].csv`` is that file, not a pattern that
    matches ``claims1.csv``."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return path.read_bytes()
    return path


def count_csv(path: Path, width: int) -> CsvCount:
    """The records of the CSV file at ``path`` (``width``: the header's number of columns).

    A file that is not all UTF-8 is counted on its text decoded with each bad byte replaced: no
    byte that is not UTF-8 is a line break, a quote or a comma (those are ASCII, which UTF-8
    decoding never swallows), so the records are the same; one latin-1 name must not cost the
    file's other rows their check (the rows holding such a byte are rejected as they are read)."""
    try:
        return _count(path, polars_path(path), width)
    except _NotUtf8:
        first = first_not_utf8(path)
        count = _count(path, path.read_bytes().decode("utf-8", "replace").encode("utf-8"), width)
        count.not_utf8 = first
        return count


class _NotUtf8(Exception):  # between count_csv and _count only
    """Polars refused the file's text as UTF-8."""


def _count(path: Path, source: Path | bytes, width: int) -> CsvCount:
    """:func:`count_csv` of the text Polars reads from ``source`` (the file, or its bytes)."""
    lines = pl.scan_lines(source, name="t", glob=False)
    try:
        totals = lines.select(
            pl.len().alias("lines"),
            pl.col("t").str.contains('["\r]').sum().alias("special"),
            pl.col("t").str.contains(_BLANK).sum().alias("blank"),
            pl.col("t").str.contains("\x00", literal=True).any().alias("nul"),
        ).collect().row(0, named=True)
    except pl.exceptions.ComputeError as exc:
        if "utf8" in str(exc).lower() or "utf-8" in str(exc).lower():
            raise _NotUtf8 from None
        raise
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", str(path)) from None
    if not totals["special"]:
        count = CsvCount(rows=max(0, totals["lines"] - 1 - totals["blank"]), nul=bool(totals["nul"]))
        count.swallowed.update(_cut_off_last_row(path, width, totals["lines"]))
        return count
    special = (
        lines.with_row_index("i")
        .filter(pl.col("t").str.contains(f'["\r]|{_BLANK}'))
        .select("i", *_classified(pl.col("t")), pl.col("t").str.contains("\r").alias("cr"))
        .collect(engine="streaming")  # the regular expressions run on every core
    )
    if special.get_column("_b").is_null().all() and not special.get_column("cr").any():
        # No line opens a quoted cell it does not close: every line starts outside one, so what a
        # line would do from inside never matters (the common case, spared a second expression).
        special = special.with_columns(pl.col("_a").alias("_b"))
    elif special.get_column("_b").null_count():
        special = special.with_columns(
            pl.scan_lines(source, name="t", glob=False).with_row_index("i")
            .filter(pl.col("t").str.contains(f'["\r]|{_BLANK}'))
            .select(pl.col("t").str.contains(_ENDS_INSIDE_FROM_INSIDE).alias("_b"))
            .collect(engine="streaming").get_column("_b"))
    count = _count_special(path, source, special, totals["lines"], width)
    count.nul = bool(totals["nul"])
    return count


def _classified(text: pl.Expr, from_inside: bool = False) -> list[pl.Expr]:
    """What a line does to the quoting state (``_a``: ends inside if it starts outside; ``_b``: ends
    inside if it starts inside), whether it is blank, and its text only where the text is needed
    later (a line that may belong to a blank quoted record, or one a lone CR splits)."""
    maybe_blank = text.str.contains(_MAYBE_BLANK)
    opens = text.str.contains(_ENDS_INSIDE_FROM_OUTSIDE)
    return [
        opens.alias("_a"),
        # Needed only once some line opens a quoted cell (see count_csv); null until then.
        (text.str.contains(_ENDS_INSIDE_FROM_INSIDE) if from_inside
         else pl.when(opens.any()).then(text.str.contains(_ENDS_INSIDE_FROM_INSIDE))).alias("_b"),
        text.str.contains(_BLANK).alias("blank"),
        (maybe_blank & text.str.contains('"', literal=True)).alias("quoted_blank"),
        pl.when(maybe_blank | text.str.contains("\r", literal=True)).then(text).alias("t"),
    ]


def _count_special(path: Path, source: Path | bytes, special: pl.DataFrame, total: int, width: int) -> CsvCount:
    """Records from the lines that hold a quote, a CR or nothing (the others are plain one-line records)."""
    idx = special.get_column("i").cast(pl.Int64)
    lead = int(idx[0])  # plain lines before the first collected one
    # Lines between two collected lines are plain: nothing changes the quoting state there.
    gap = (idx.shift(-1).fill_null(total) - idx - 1).alias("gap")
    lone_cr = bool(special.get_column("cr").any())
    frame = special.with_columns(gap).drop("cr")
    if lone_cr:  # a lone CR splits a physical line; the plain lines after it follow its last part
        split = (
            frame.filter(pl.col("t").str.contains("\r", literal=True))
            .with_columns(pl.col("t").str.split("\r"))
            .with_columns(pl.int_ranges(pl.col("t").list.len()).alias("_part"), pl.col("t").list.len().alias("_n"))
            .explode("t", "_part")
            .with_columns(pl.when(pl.col("_part") == pl.col("_n") - 1).then(pl.col("gap")).otherwise(0).alias("gap"))
            .with_columns(*_classified(pl.col("t"), from_inside=True))
            .drop("_n")
        )
        whole = frame.filter(~pl.col("t").str.contains("\r", literal=True).fill_null(False))
        frame = pl.concat([whole.with_columns(pl.lit(0, pl.Int64).alias("_part")), split.select(
            [*whole.columns, "_part"])]).sort("i", "_part").drop("_part")
    state = frame.lazy().with_columns(
        # What the line does to "inside a quoted cell": keep, flip, or set it whatever it was.
        (pl.col("_a") == pl.col("_b")).alias("_const"),
        (pl.col("_a") & ~pl.col("_b")).alias("_flip"),
    ).with_columns(
        pl.col("_flip").cum_sum().alias("_flips"),
    ).with_columns(
        pl.when("_const").then(pl.col("_a")).forward_fill().fill_null(False).alias("_base"),
        pl.when("_const").then(pl.col("_flips")).forward_fill().fill_null(0).alias("_flips_at_base"),
    ).with_columns(
        (pl.col("_base") ^ ((pl.col("_flips") - pl.col("_flips_at_base")) % 2 == 1)).alias("after"),
    ).with_columns(
        pl.col("after").shift(1).fill_null(False).alias("before"),
        # Physical line number (1-based) of each collected line, lone CRs counted as breaks.
        (pl.int_range(pl.len()) + pl.col("gap").cum_sum() - pl.col("gap") + 1 + lead).alias("line"),
    ).with_columns(
        # Lines inside a quoted cell before this one: collected ones, and the plain gaps after an inside line.
        (pl.col("before").cast(pl.Int64).cum_sum() - pl.col("before").cast(pl.Int64)
         + pl.when("after").then(pl.col("gap")).otherwise(0).cum_sum()
         - pl.when("after").then(pl.col("gap")).otherwise(0)).alias("_inside_before"),
    ).with_columns(
        (pl.col("line") - pl.col("_inside_before")).alias("row"),  # the record's spreadsheet row
    ).select("t", "blank", "quoted_blank", "gap", "before", "after", "line", "row").collect()
    lines_total = int(lead + state.height + state.get_column("gap").sum())
    inside = int(state.get_column("before").sum()) + int(state.filter("after").get_column("gap").sum())
    records = lines_total - inside
    blank = state.filter(~pl.col("before") & ~pl.col("after") & pl.col("blank")).height
    blank += _quoted_blank_records(state)
    count = CsvCount(rows=max(0, records - 1 - blank), lone_cr=lone_cr)
    count.swallowed = _swallowing(source, state, width, lines_total)
    if not lone_cr and not state.item(-1, "after"):  # the last record starts on the last line
        count.swallowed.update(_cut_off_last_row(path, width, lines_total - inside))
    return count


def _quoted_blank_records(state: pl.DataFrame) -> int:
    """Records with quotes whose every cell is blank (``"",""``, a quoted line break): parsed exactly,
    they are few. A record the file ends inside is never blank: it is reported (see _swallowing)."""
    if not state.get_column("quoted_blank").any():
        return 0
    records = state.with_columns((~pl.col("before")).cum_sum().alias("_rec"))
    # Only records with a quoted, maybe-blank line, and no line that is neither blank nor maybe-blank.
    wanted = records.filter("quoted_blank").get_column("_rec").unique()
    spoiled = records.filter(pl.col("t").is_null()).get_column("_rec").unique()
    records = records.filter(pl.col("_rec").is_in(wanted.implode()) & ~pl.col("_rec").is_in(spoiled.implode()))
    records = records.group_by("_rec", maintain_order=True).agg(
        pl.col("t").str.join("\n"),
        pl.col("t").str.contains(_MAYBE_BLANK).all().alias("_maybe"),
        pl.col("quoted_blank").any().alias("_quoted"),
        # plain lines inside the record (a gap before its last line) are not blank
        (pl.col("gap").sum() - pl.col("gap").last()).alias("_plain"),
        pl.col("after").last().alias("_open"),
        pl.col("before").first().alias("_continued"),
    )
    candidates = records.filter(pl.col("_maybe") & pl.col("_quoted") & (pl.col("_plain") == 0) & ~pl.col("_open")
                                & ~pl.col("_continued"))
    blank = 0
    for text in candidates.get_column("t"):
        cells = [c for row in csv.reader(io.StringIO(text, newline=""), strict=False) for c in row]
        blank += all(not c.strip() for c in cells)
    return blank


def _swallowing(source: Path | bytes, state: pl.DataFrame, width: int, lines_total: int) -> dict[int, str]:
    """Records whose quoted cell runs over lines that look like rows, or to the end of the file."""
    opened = state.filter(~pl.col("before") & pl.col("after")).select("line", "row")
    if opened.height == 0:
        return {}
    closes = state.filter(pl.col("before") & ~pl.col("after")).select(pl.col("line").alias("last"))
    spans = opened.join_asof(closes, left_on="line", right_on="last", strategy="forward").select(
        "row", (pl.col("line") + 1).alias("first"), pl.col("last").fill_null(lines_total), pl.col("last").is_null()
        .alias("to_end"))
    out: dict[int, str] = {}
    for row, first, last in spans.filter("to_end").select("row", "first", "last").iter_rows():
        out[row] = (f"a quoted cell is never closed: this row runs over the last {last - first + 2} line(s) of the "
                    "file, swallowing any rows in them; close the quote")
    inner = spans.filter(~pl.col("to_end")).select("row", "first", "last")
    if inner.height == 0:
        return out
    lines = _physical_lines(source).join_asof(inner, left_on="line", right_on="first", strategy="backward")
    # A line holding a whole row's cells looks like a row, except the line that closes the cell when
    # the cells after its quote are a whole row's: they are the opening row's own (a note in the first
    # column, closed, then the claim's cells), not a row swallowed.
    whole = pl.col("t").str.count_matches(",") >= width - 1
    own_cells = pl.col("t").str.splitn('"', 2).struct.field("field_1").str.count_matches(",") >= width - 1
    looks = (
        lines.filter(pl.col("line") <= pl.col("last"))
        .filter(whole & ~((pl.col("line") == pl.col("last")) & own_cells.fill_null(False)))
        .group_by("row", "first", "last", maintain_order=True)
        .agg(pl.len().alias("n"), pl.col("line").first().alias("at"))
    )
    for row, first, last, n, at in looks.iter_rows():
        out[row] = (f"a quoted cell opened in this row runs over lines {first}-{last} of the file, which hold {n} "
                    f"row(s) of their own (the first at line {at}): they are swallowed into one cell; close the quote")
    return out


_TAIL_BYTES = 1 << 16  # enough for any claim line; a longer last line is not judged


def _cut_off_last_row(path: Path, width: int, row: int) -> dict[int, str]:
    """The last record (spreadsheet row ``row``) when the file ends part-way through it.

    A file cut off in transfer or by a full disk ends without a line break inside its last row, whose
    missing cells a reader fills with nulls: a cut units cell ("7" of "70") would be checked as the
    claim's. A last line with no line break and fewer cells than the header is that row; it is
    reported, not read. Rows short of cells elsewhere are read with their missing cells empty (some
    exports drop trailing empty cells, and each row ends with its line break); a last line holding
    a quote is not judged here (its cells are counted by the reader's quoting rules only).
    """
    if row < 2:
        return {}
    with path.open("rb") as fh:
        size = fh.seek(0, 2)
        fh.seek(max(0, size - _TAIL_BYTES))
        tail = fh.read()
    if not tail or tail.endswith((b"\n", b"\r")) or b'"' in tail.rsplit(b"\n", 1)[-1]:
        return {}
    last = tail.rsplit(b"\n", 1)
    if len(last) < 2 and size > _TAIL_BYTES:
        return {}
    cells = last[-1].count(b",") + 1
    if cells >= width or not last[-1].strip(b" \t,"):
        return {}
    return {row: (f"the file ends part-way through this row ({cells} of the header's {width} cells, and no "
                  "line break after it): the file looks cut off; send the whole file")}


def _physical_lines(source: Path | bytes) -> pl.DataFrame:
    """Every physical line of the file (1-based ``line``, lone CRs counted as breaks)."""
    frame = (pl.scan_lines(source, name="t", glob=False).collect()
             .with_columns(pl.col("t").str.split("\r")).explode("t"))
    return frame.with_row_index("line", offset=1).with_columns(pl.col("line").cast(pl.Int64))


def first_not_utf8(path: Path) -> str:
    """The first byte that is not UTF-8, found by decoding the file incrementally, in words."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                at = offset + exc.start
                return f"byte 0x{block[exc.start]:02x} near byte offset {at}"
            offset += len(block)
    return "a sequence cut off at the end of the file"
