"""Find input files, recognise their format, and read them all into one raw frame.

Format is decided by content first (``ISA`` starts an X12 interchange, ``{`` or ``[`` a JSON
document), then by extension; anything else is read as CSV. File-level problems raise
:class:`scrubber.errors.InputError` (exit status 2); row-level problems travel with the row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from scrubber.errors import InputError
from scrubber.schema import RAW_SCHEMA

INPUT_SUFFIXES = {".csv", ".json", ".jsonl", ".ndjson", ".837", ".x12", ".edi", ".txt", ".dat"}
_SNIFF_BYTES = 8192


def expand_paths(inputs: list[str]) -> list[Path]:
    """Files named directly, plus claim files inside named folders (sorted, for determinism)."""
    out: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in INPUT_SUFFIXES)
            if not found:
                raise InputError("folder holds no claim files (.csv, .json, .jsonl, .837, .x12, .edi)", item)
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
    """'csv', 'json' or 'x12', from the first bytes and the extension.

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
    suffix = path.suffix.lower()
    if suffix in (".json", ".jsonl", ".ndjson"):
        return "json"
    if suffix in (".837", ".x12", ".edi"):
        return "x12"
    return "csv"


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


def load_file(path: Path, first_row_id: int) -> tuple[pl.LazyFrame, str, int]:
    """Raw frame of one file (``row_id`` from ``first_row_id``), the format it was read as, its rows."""
    fmt = sniff_format(path)
    if fmt == "csv":
        from scrubber.loaders.csv_loader import load_csv

        frame, rows = load_csv(path, first_row_id)
        return frame, fmt, rows
    text = _read_text(path)
    if fmt == "json":
        from scrubber.loaders.json_loader import load_json

        loaded = load_json(path, text, first_row_id)
    else:
        from scrubber.loaders.x12_loader import load_x12

        loaded = load_x12(path, text, first_row_id)
    return _aligned(loaded, first_row_id).lazy(), fmt, loaded.height


def _aligned(frame: pl.DataFrame, first_row_id: int) -> pl.DataFrame:
    """An in-memory loader's frame with exactly the raw columns and ``row_id`` numbered from ``first_row_id``.

    A loader that numbers its own way (or not at all) must not break run-wide uniqueness.
    """
    schema = {**RAW_SCHEMA, "load_error": pl.String()}
    frame = frame.select(
        [pl.col(c).cast(t) if c in frame.columns else pl.lit(None, t).alias(c) for c, t in schema.items()]
    )
    ids = frame.get_column("row_id")
    if frame.height and (ids.null_count() or ids.min() != first_row_id or ids.max() != first_row_id + frame.height - 1
                         or not ids.is_sorted()):
        frame = frame.with_columns((pl.int_range(pl.len(), dtype=pl.Int64) + first_row_id).alias("row_id"))
    return frame


@dataclass
class RawInput:
    """Everything the loaders read, before typing and validation.

    ``frame`` is *lazy*: for CSV it is a scan of the file, so a 20M-line input is never held in
    memory as text; canonicalisation streams it. ``collect()`` materialises it (tests, small files).
    """

    frame: pl.LazyFrame
    files: list[str] = field(default_factory=list)
    formats: dict[str, str] = field(default_factory=dict)
    rows: int = 0

    def collect(self) -> pl.DataFrame:
        return self.frame.collect()


def load_inputs(inputs: list[str]) -> RawInput:
    """Read every input into one raw frame with run-wide unique, input-ordered ``row_id``.

    Files are concatenated in the order given (folders sorted), each file's rows in file order.
    Every file is opened and checked here, so file-level problems surface before any work.
    """
    frames: list[pl.LazyFrame] = []
    files: list[str] = []
    formats: dict[str, str] = {}
    next_id = 0
    for path in expand_paths(inputs):
        frame, fmt, rows = load_file(path, next_id)
        frames.append(frame)
        files.append(str(path))
        formats[str(path)] = fmt
        next_id += rows
    schema = {**RAW_SCHEMA, "load_error": pl.String()}
    frame = pl.concat(frames, how="vertical") if frames else pl.LazyFrame(schema=schema)
    return RawInput(frame=frame, files=files, formats=formats, rows=next_id)
