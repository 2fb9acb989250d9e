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


@dataclass
class RawInput:
    """Everything the loaders read, before typing and validation."""

    frame: pl.DataFrame
    files: list[str] = field(default_factory=list)
    formats: dict[str, str] = field(default_factory=dict)


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


def sniff_format(path: Path) -> str:
    """'csv', 'json' or 'x12', from the first bytes and the extension."""
    try:
        with path.open("rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", str(path)) from None
    if not head.strip():
        raise InputError("empty file", str(path))
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


def load_file(path: Path, first_row_id: int) -> tuple[pl.DataFrame, str]:
    """Raw frame of one file and the format it was read as."""
    fmt = sniff_format(path)
    if fmt == "csv":
        from scrubber.loaders.csv_loader import load_csv

        frame, ragged = load_csv(path, first_row_id)
        if ragged:
            frame = _with_early_rejections(frame, ragged, str(path))
        return frame, fmt
    text = _read_text(path)
    if fmt == "json":
        from scrubber.loaders.json_loader import load_json

        return load_json(path, text, first_row_id), fmt
    from scrubber.loaders.x12_loader import load_x12

    return load_x12(path, text, first_row_id), fmt


def _with_early_rejections(frame: pl.DataFrame, ragged: list[tuple[int, str]], source: str) -> pl.DataFrame:
    """Add rows the CSV reader could not split, as raw rows that carry their reason."""
    start = frame.get_column("row_id").max() + 1 if frame.height else frame.get_column("row_id").min() or 0
    extra = pl.DataFrame(
        {
            "row_id": list(range(start, start + len(ragged))),
            "source": [source] * len(ragged),
            "source_row": [r for r, _ in ragged],
            "source_location": [f"row {r}" for r, _ in ragged],
            "load_error": [reason for _, reason in ragged],
        },
        schema={"row_id": pl.Int64(), "source": pl.String(), "source_row": pl.Int64(),
                "source_location": pl.String(), "load_error": pl.String()},
    )
    return pl.concat([frame, extra], how="diagonal_relaxed")


def load_inputs(inputs: list[str]) -> RawInput:
    """Read every input into one raw frame with run-wide unique, input-ordered ``row_id``."""
    frames: list[pl.DataFrame] = []
    files: list[str] = []
    formats: dict[str, str] = {}
    next_id = 0
    for path in expand_paths(inputs):
        frame, fmt = load_file(path, next_id)
        frames.append(frame)
        files.append(str(path))
        formats[str(path)] = fmt
        if frame.height:
            next_id = int(frame.get_column("row_id").max()) + 1
    schema = {**RAW_SCHEMA, "load_error": pl.String()}
    aligned = [f.select([pl.col(c).cast(t) if c in f.columns else pl.lit(None, t).alias(c) for c, t in schema.items()])
               for f in frames]
    frame = pl.concat(aligned) if aligned else pl.DataFrame(schema=schema)
    return RawInput(frame=frame.sort("row_id"), files=files, formats=formats)
