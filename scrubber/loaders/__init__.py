"""Find input files, recognise their format, and read them all into one raw frame.

Format is decided by content first (``ISA`` starts an X12 interchange, ``{`` or ``[`` a JSON
document, a comma-separated first line naming ``claim_id`` a CSV header), then by extension;
anything else is read as CSV. File-level problems raise
:class:`scrubber.errors.InputError` (exit status 2); row-level problems travel with the row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from scrubber.errors import InputError
from scrubber.schema import RAW_SCHEMA

INPUT_SUFFIXES = {".csv", ".json", ".jsonl", ".ndjson", ".837", ".x12", ".edi", ".txt", ".dat", ".parquet"}
_SNIFF_BYTES = 8192


def expand_paths(inputs: list[str], exclude: Path | None = None) -> list[Path]:
    """Files named directly, plus claim files inside named folders (sorted, for determinism).

    ``exclude`` (the ``--records`` file) is not picked up from a folder: a folder of claims may
    hold its administration records beside them.
    """
    skip = exclude.resolve() if exclude is not None and exclude.exists() else None
    out: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in INPUT_SUFFIXES
                           and p.resolve() != skip)
            if not found:
                raise InputError("folder holds no claim files (.csv, .json, .jsonl, .837, .x12, .edi, .parquet)", item)
            out.extend(found)
        elif path.is_file():
            out.append(path)
        elif path.exists():
            raise InputError("not a regular file", item)
        else:
            raise InputError("no such file or folder", item)
    return out


_MAGIC = {
    b"PK\x03\x04": "a zip archive or Excel workbook (.xlsx); save it as CSV UTF-8",
    b"\xd0\xcf\x11\xe0": "an Excel 97-2003 workbook (.xls); save it as CSV UTF-8",
    b"%PDF": "a PDF document; expected CSV, JSON or X12 text",
    b"\x1f\x8b": "a gzip archive; decompress it first",
}


def sniff_format(path: Path) -> str:
    """'csv', 'json', 'x12' or 'parquet', from the first bytes and the extension.

    Raises :class:`InputError` for what is no claims text at all (empty, binary, UTF-16), so the
    user hears the real problem instead of a confusing "missing column" later.
    """
    try:
        with path.open("rb") as fh:
            head = fh.read(_SNIFF_BYTES)
            blank = not head.strip()
            while blank and (block := fh.read(1 << 20)):  # whitespace-only so far: is there anything?
                blank = not block.strip()
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", str(path)) from None
    if blank:
        raise InputError("empty file", str(path))
    if head.startswith(b"PAR1"):  # Parquet's magic number (a lakehouse extract; loaders/parquet_loader.py)
        return "parquet"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError("UTF-16 text (Excel 'Unicode Text'); export the file as CSV UTF-8", str(path))
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            raise InputError(f"binary file: {what}", str(path))
    if b"\x00" in head:
        raise InputError("binary file (contains NUL bytes); expected CSV, JSON or X12 text", str(path))
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if start[:3].upper() == b"ISA":
        return "x12"
    if start[:1] in (b"{", b"["):
        return "json"
    if _csv_header(start):  # content wins over a misleading extension (a CSV saved as .json)
        return "csv"
    suffix = path.suffix.lower()
    if suffix in (".json", ".jsonl", ".ndjson"):
        return "json"
    if suffix in (".837", ".x12", ".edi"):
        return "x12"
    return "csv"


def _csv_header(start: bytes) -> bool:
    """The first line reads as a claims CSV header: comma-separated, naming ``claim_id``."""
    first = start.split(b"\n", 1)[0].lower()
    return b"," in first and b"claim_id" in first.replace(b" ", b"_")


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}); export the file as UTF-8",
            str(path),
        ) from None
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", str(path)) from None


@dataclass
class FileReader:
    """One input file, opened and checked, ready to yield raw batches from a given first ``row_id``.

    ``fast`` may raise :class:`FastPathRefused` part-way; then ``slow`` reads the file again.
    """

    path: Path
    fmt: str
    fast: Callable[[int], Iterator[pl.DataFrame]]
    slow: Callable[[int], Iterator[pl.DataFrame]] | None = None
    # File-level problems that do not stop the read (X12 envelope counts): "segment N: ...".
    notices: list[str] = field(default_factory=list)


def open_file(path: Path) -> FileReader:
    """Sniff the format and check what can be checked before any row is read.

    CSV is read in batches later (a large file never sits in memory as text); JSON and X12 are
    parsed here, whole, so their file-level problems surface before any work.
    """
    fmt = sniff_format(path)
    if fmt == "csv":
        from scrubber.loaders import csv_loader

        header, fast_ok = csv_loader.open_csv(path)

        def slow(first: int) -> Iterator[pl.DataFrame]:
            return csv_loader.slow_batches(path, header, first)

        if not fast_ok:
            return FileReader(path, fmt, slow)
        return FileReader(path, fmt, lambda first: csv_loader.fast_batches(path, header, first), slow)
    if fmt == "parquet":
        from scrubber.loaders import parquet_loader

        lf, _ = parquet_loader.open_parquet(path)
        return FileReader(path, fmt, lambda first: parquet_loader.batches(path, lf, first))
    text = _read_text(path)
    if fmt == "json":
        from scrubber.loaders.json_loader import load_json

        loaded = load_json(path, text, 0)
        notices: list[str] = []
    else:
        from scrubber.loaders.x12_loader import read_x12

        loaded, notices = read_x12(path, text, 0)
    del text
    return FileReader(path, fmt, lambda first: iter([_aligned(loaded, first)]), notices=notices)


def _aligned(frame: pl.DataFrame, first_row_id: int) -> pl.DataFrame:
    """An in-memory loader's frame with exactly the raw columns and ``row_id`` numbered from ``first_row_id``."""
    schema = {**RAW_SCHEMA, "load_error": pl.String()}
    frame = frame.select(
        [pl.col(c).cast(t) if c in frame.columns else pl.lit(None, t).alias(c) for c, t in schema.items()]
    )
    return frame.with_columns((pl.int_range(pl.len(), dtype=pl.Int64) + first_row_id).alias("row_id"))


# A batch of one input file, or (None) the signal to drop what that file has yielded so far: its
# fast reader gave up part-way and the file is being read again.
RawBatch = tuple[int, pl.DataFrame | None]


@dataclass
class RawInput:
    """Every input, opened and checked; :meth:`batches` reads them.

    Rows are numbered run-wide (``row_id``) in input order: files in the order given (folders
    sorted), each file's rows in file order. ``rows`` is the number of rows read, once read.
    """

    readers: list[FileReader]
    rows: int = 0

    @property
    def files(self) -> list[str]:
        return [str(r.path) for r in self.readers]

    @property
    def formats(self) -> dict[str, str]:
        return {str(r.path): r.fmt for r in self.readers}

    @property
    def notices(self) -> list[dict[str, str]]:
        """File-level problems that did not stop the read, as ``{"source", "problem"}``."""
        return [{"source": str(r.path), "problem": n} for r in self.readers for n in r.notices]

    def batches(self) -> Iterator[RawBatch]:
        from scrubber.loaders.csv_loader import FastPathRefused

        next_id = 0
        for number, reader in enumerate(self.readers):
            count = 0
            try:
                for batch in reader.fast(next_id):
                    count += batch.height
                    yield number, batch
            except FastPathRefused:
                if reader.slow is None:  # pragma: no cover - only CSV refuses, and it has a slow path
                    raise
                yield number, None
                count = 0
                for batch in reader.slow(next_id):
                    count += batch.height
                    yield number, batch
            next_id += count
        self.rows = next_id

    def collect(self) -> pl.DataFrame:
        """All raw rows in one frame (tests, small inputs)."""
        kept: dict[int, list[pl.DataFrame]] = {}
        for number, batch in self.batches():
            if batch is None:
                kept[number] = []
            else:
                kept.setdefault(number, []).append(batch)
        frames = [f for number in sorted(kept) for f in kept[number]]
        return pl.concat(frames) if frames else pl.DataFrame(schema={**RAW_SCHEMA, "load_error": pl.String()})


def load_inputs(inputs: list[str], records: str | None = None) -> RawInput:
    """Open every input (file-level problems raise :class:`InputError` here, before any row is read).

    ``records`` is the ``--records`` file, left out of folder inputs (see :func:`expand_paths`).
    """
    exclude = Path(records) if records else None
    return RawInput(readers=[open_file(path) for path in expand_paths(inputs, exclude)])
