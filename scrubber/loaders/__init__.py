"""Find input files, recognise their format, and read them all into one raw frame.

Format is decided by content first (``ISA`` starts an X12 interchange, ``{`` or ``[`` a JSON
document, a comma-separated first line naming ``claim_id`` a CSV header), then by extension;
anything else is read as CSV. File-level problems raise
:class:`scrubber.errors.InputError` (exit status 2); row-level problems travel with the row.

Every reader also gives an *independent count* of the rows its file holds (``counted_rows``),
taken without the parser that produces the rows (issue 12): the CSV's records by a quote-aware
scan of its lines, the X12 service lines by a plain segment count, the JSON lines from the parsed
document. :meth:`RawInput.reconciliation` compares it with the rows each file actually yielded, so
"rows read" can be trusted to mean every row the file holds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import polars as pl

from scrubber.errors import InputError, display_name
from scrubber.schema import RAW_FRAME_SCHEMA

INPUT_SUFFIXES = {".csv", ".json", ".jsonl", ".ndjson", ".837", ".837i", ".837p", ".x12", ".edi", ".txt", ".dat",
                  ".parquet"}
# As the messages list them (probe 22B: a list written by hand left out four that are read).
_SUFFIXES_TEXT = ", ".join(sorted(INPUT_SUFFIXES, key=lambda s: (s.lstrip(".")[0].isdigit(), s)))
_SNIFF_BYTES = 8192
# Extensions that also hold notes and prose: in a folder, such a file is claims only if it says so.
_PROSE_SUFFIXES = {".txt", ".dat"}
_FINDINGS_CSV_COLUMNS = {"check_id", "severity", "message"}


def expand_paths(inputs: list[str], exclude: Path | None = None, notes: list[dict[str, str]] | None = None
                 ) -> list[Path]:
    """Files named directly, plus claim files inside named folders (sorted, for determinism).

    In a folder, what is not claims is skipped with a note (appended to ``notes``, which become
    input warnings): hidden files and folders (``.DS_Store``, macOS ``._claims.csv``), the
    ``exclude`` file (``--records``), any other administration records file, and the scrubber's
    own findings (a previous ``--csv`` or ``--json`` output). A file named directly is read as
    claims, or refused with the reason (:func:`open_file`).
    """
    skip = exclude.resolve() if exclude is not None and exclude.exists() else None
    out: list[Path] = []
    seen: dict[tuple[int, int], Path] = {}

    def note(p: Path, why: str) -> None:
        if notes is not None:
            notes.append({"source": display_name(p), "problem": f"skipped: {why}"})

    def take(p: Path) -> None:
        """Read each file once, however it is named (twice, ./x, a link): the second read would
        reject every row as a duplicate of itself."""
        st = p.stat()
        first = seen.setdefault((st.st_dev, st.st_ino), p)
        if first is p:
            out.append(p)
        else:
            note(p, f"the same file as {display_name(first)}, read once")

    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = []
            for p in sorted(path.rglob("*")):
                if p.is_dir():
                    continue
                if p.suffix.lower() not in INPUT_SUFFIXES:  # (a .tsv, .bak or no extension): say it was not read
                    if not any(part.startswith(".") for part in p.relative_to(path).parts):
                        what = f"'{p.suffix}' is not a claims file extension" if p.suffix else "no file extension"
                        note(p, f"{what} ({_SUFFIXES_TEXT}); name the file on the command line to read it")
                    continue
                if not p.is_file():  # named like claims but unreadable: say so, a missing export matters
                    note(p, "a link to a file that does not exist" if p.is_symlink() and not p.exists()
                         else "not a regular file (a pipe, socket or device)")
                    continue
                why = _not_claims(p, path, skip)
                if why is None:
                    found.append(p)
                else:
                    note(p, why)
            if not found:
                raise InputError(f"folder holds no claim files ({_SUFFIXES_TEXT})", item)
            for p in found:
                take(p)
        elif path.is_file():
            take(path)
        elif path.exists():
            raise InputError("not a regular file", item)
        else:
            raise InputError("no such file or folder", item)
    return out


def _not_claims(path: Path, folder: Path, records: Path | None) -> str | None:
    """Why a file found in a folder is not claims to read, or None when it is."""
    if any(part.startswith(".") for part in path.relative_to(folder).parts):
        return "hidden file (a name starting with '.', such as macOS '._' copies)"
    if records is not None and path.resolve() == records:
        return "it is the --records file"
    return _foreign_content(path)


# A whole small file that holds no claim: an empty JSON claims list, or a CSV header line alone. In a
# folder it is noted and passed over like an empty file (an export of a day without claims), not a
# reason to check none of the other files ("no claims in file" stopped the run).
_NO_CLAIMS = re.compile(rb'(\{[ \t\r\n]*"claims"[ \t\r\n]*:[ \t\r\n]*\[[ \t\r\n]*\][ \t\r\n]*\}|\[[ \t\r\n]*\]'
                        rb'|[^\r\n\[{]*claim_id[^\r\n]*)[ \t\r\n]*')


NO_CLAIM_ROWS = "no claim rows (an empty claims list, or a header without rows)"


def _foreign_content(path: Path) -> str | None:
    """'an administration records file' or 'findings written by scrub' when the first bytes say so."""
    try:
        with path.open("rb") as fh:
            head = fh.read(_SNIFF_BYTES)
            if _blank_from(fh, head):
                # One empty export in a folder holds no rows: noted, not a reason to check none of the others.
                return "empty file (no claim rows)"
    except OSError:
        return None  # read as claims: the reader names the problem
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if len(head) < _SNIFF_BYTES and _NO_CLAIMS.fullmatch(start):
        return NO_CLAIM_ROWS
    if start[:1] == b"{":
        key = start[1:].lstrip(b" \t\r\n")
        if key.startswith(b'"findings"'):
            return "findings written by scrub (--json), not claims"
        if key.startswith(b'"records"'):
            return "an administration records file (pass it with --records)"
        return None
    if start[:1] == b"[" or start[:3].upper() == b"ISA":
        return None
    from scrubber.loaders.csv_loader import CLAIM_COLUMNS, _normalise_header

    first = start.split(b"\n", 1)[0].decode("utf-8", "replace")
    names = {_normalise_header(n.strip().strip('"')) for n in first.split(",")}
    if path.suffix.lower() in _PROSE_SUFFIXES and "claim_id" not in names:
        return f"a {path.suffix.lower()} file without a claims header (claim_id, ...), not claims"
    if _FINDINGS_CSV_COLUMNS <= names:
        return "findings written by scrub (--csv), not claims"
    from scrubber.schema import RECORD_COLUMNS, REQUIRED_COLUMNS

    if {"claim_id", "line_number"} <= names and names & set(RECORD_COLUMNS) and not (
            set(REQUIRED_COLUMNS) - {"claim_id", "line_number"}) & names & CLAIM_COLUMNS:
        return "an administration records file (claim_id, line_number and documentation only; pass it with --records)"
    return None


_MAGIC = {
    b"PK\x03\x04": "a zip archive or Excel workbook (.xlsx); save it as CSV UTF-8",
    b"\xd0\xcf\x11\xe0": "an Excel 97-2003 workbook (.xls); save it as CSV UTF-8",
    b"%PDF": "a PDF document; expected CSV, JSON or X12 text",
    b"\x1f\x8b": "a gzip archive; decompress it first",
}


def _blank_from(fh: BinaryIO, head: bytes) -> bool:
    """Whether a file whose first bytes are ``head`` (read from ``fh``) holds nothing but whitespace."""
    blank = not head.removeprefix(b"\xef\xbb\xbf").strip()  # (a BOM alone: an empty Excel export, probe 21B)
    while blank and (block := fh.read(1 << 20)):  # whitespace-only so far: is there anything?
        blank = not block.strip()
    return blank


def sniff_format(path: Path) -> str:
    """'csv', 'json', 'x12' or 'parquet', from the first bytes and the extension.

    Raises :class:`InputError` for what is no claims text at all (empty, binary, UTF-16), so the
    user hears the real problem instead of a confusing "missing column" later.
    """
    try:
        with path.open("rb") as fh:
            head = fh.read(_SNIFF_BYTES)
            blank = _blank_from(fh, head)
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", display_name(path)) from None
    if blank:
        raise InputError("empty file", display_name(path))
    if head.startswith(b"PAR1"):  # Parquet's magic number (a lakehouse extract; loaders/parquet_loader.py)
        return "parquet"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError("UTF-16 text (Excel 'Unicode Text'); export the file as CSV UTF-8", display_name(path))
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            raise InputError(f"binary file: {what}", display_name(path))
    # A file that is mostly NULs is binary; a text file with a stray NUL is read, and the rows that hold
    # one are rejected where they stand (the same NUL past the first bytes was read as text).
    if head.count(b"\x00") * 100 > len(head) or (b"\x00" in head and _utf16_without_bom(head)):
        if _utf16_without_bom(head):
            raise InputError("UTF-16 text without a byte order mark; export the file as UTF-8", display_name(path))
        raise InputError("binary file (contains NUL bytes); expected CSV, JSON or X12 text", display_name(path))
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if start[:3].upper() == b"ISA":
        return "x12"
    if _X12_WITHOUT_ISA.match(start):  # GS/ST first: X12 cut below its envelope, whatever the name says
        return "x12"
    if start[:1] in (b"{", b"["):
        return "json"
    if _csv_header(start):  # content wins over a misleading extension (a CSV saved as .json)
        return "csv"
    suffix = path.suffix.lower()
    if suffix in (".json", ".jsonl", ".ndjson"):
        return "json"
    if suffix in (".837", ".837i", ".837p", ".x12", ".edi"):
        return "x12"
    return "csv"


# A file that starts with a GS or ST segment (an element separator right after the id): X12 whose ISA
# is missing; the X12 reader then says so, instead of a CSV reader listing "missing columns".
_X12_WITHOUT_ISA = re.compile(rb"^(?:GS|ST)[*|^~!#:]", re.IGNORECASE)


def _utf16_without_bom(head: bytes) -> bool:
    """Text in UTF-16 without its BOM: nearly every other byte NUL (ASCII and Latin letters), none of the others."""
    pairs = head[: len(head) - len(head) % 2]
    if len(pairs) < 8:
        return False
    half = len(pairs) // 2
    even, odd = pairs[0::2].count(0), pairs[1::2].count(0)
    return (odd >= 0.9 * half and even == 0) or (even >= 0.9 * half and odd == 0)


def _csv_header(start: bytes) -> bool:
    """The first line reads as a claims CSV header: comma-separated, naming ``claim_id``."""
    first = start.split(b"\n", 1)[0].lower()
    return b"," in first and b"claim_id" in first.replace(b" ", b"_")


def _json_document(path: Path) -> str | bytes:
    """A JSON file for :func:`scrubber.loaders.json_loader.load_json`: an ASCII file as its bytes, line
    ends made newlines as reading it as text does (the same bytes as the text encoded again, without
    decoding 650 MB to encode them back); any other file as text (:func:`_read_text`: its decoding,
    byte order mark and errors are defined once, there)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", display_name(path)) from None
    if not data.isascii():  # (a byte order mark is not ASCII either)
        del data
        return _read_text(path, lossy=True)
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n") if b"\r" in data else data


def _opens_an_object(document: str | bytes) -> bool:
    """Whether a JSON document starts with an object, as a findings or records file does (:func:`_foreign_content`)."""
    if isinstance(document, bytes):
        return document.lstrip(b" \t\r\n").startswith(b"{")
    return document.lstrip("\ufeff \t\r\n").startswith("{")


def _read_text(path: Path, lossy: bool = False) -> str:
    """The file's UTF-8 text. ``lossy``: a file that is not all UTF-8 is read with each such byte kept
    as a lone surrogate (``surrogateescape``), for a reader that rejects only the records holding one
    (JSON Lines: :func:`scrubber.loaders.json_loader.json_lines`; X12, by segment); otherwise it is an error."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        if lossy:
            return path.read_text(encoding="utf-8-sig", errors="surrogateescape")
        raise InputError(
            f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}); export the file as UTF-8",
            display_name(path),
        ) from None
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", display_name(path)) from None


@dataclass
class FileReader:
    """One input file, opened and checked, ready to yield raw batches from a given first ``row_id``.

    ``fast`` may raise :class:`FastPathRefused` part-way; then ``slow`` reads the file again.
    ``numbers``, when the reader can, is ``fast`` with the number columns read as numbers
    (:data:`scrubber.schema.NUMBER_FIELDS`), for a caller that takes such batches.
    """

    path: Path
    fmt: str
    fast: Callable[[int], Iterator[pl.DataFrame]]
    slow: Callable[[int], Iterator[pl.DataFrame]] | None = None
    # File-level problems that do not stop the read (X12 envelope counts): "segment N: ...".
    notices: list[str] = field(default_factory=list)
    # The independent count of the rows the file holds (see the module docstring).
    counted_rows: int | None = None
    numbers: Callable[[int], Iterator[pl.DataFrame]] | None = None

    @property
    def name(self) -> str:
        """The file's name as rows and reports carry it (``source``)."""
        return display_name(self.path)


def open_file(path: Path) -> FileReader:
    """Sniff the format and check what can be checked before any row is read.

    CSV is read in batches later (a large file never sits in memory as text); JSON and X12 are
    parsed here, whole, so their file-level problems surface before any work.
    """
    fmt = sniff_format(path)
    name = display_name(path)
    if fmt == "csv":
        from scrubber.loaders import csv_loader

        foreign = _foreign_content(path)
        if foreign is not None and "findings" in foreign:
            raise InputError(f"this file holds {foreign}", name)
        header, fast_ok, count, notices = csv_loader.open_csv(path)
        if foreign == NO_CLAIM_ROWS:  # (said, as a JSON file's empty claims list is: probe 28C D9)
            notices = [*notices, f"this file holds {foreign}"]

        def slow(first: int) -> Iterator[pl.DataFrame]:
            return csv_loader.slow_batches(path, header, first, count.swallowed, count.nul)

        def fast(first: int) -> Iterator[pl.DataFrame]:
            return csv_loader.fast_batches(path, header, first, count.swallowed, count.rows, count.nul)

        def numbers(first: int) -> Iterator[pl.DataFrame]:
            return csv_loader.number_batches(path, header, first, count.rows)

        if not fast_ok:
            return FileReader(path, fmt, slow, notices=notices, counted_rows=count.rows)
        # (a quoted cell swallowing rows is marked on the text read: csv_loader._mark_swallowed)
        return FileReader(path, fmt, fast, slow, notices, count.rows,
                          numbers=None if count.swallowed or count.nul else numbers)
    if fmt == "parquet":
        from scrubber.loaders import parquet_loader

        lf, _ = parquet_loader.open_parquet(path)
        notices = parquet_loader.column_notices(path)
        if parquet_loader.row_count(path) == 0:  # (said, as a CSV header alone is: probe 28C D9)
            notices = [*notices, "this file holds no claim rows (a table without rows)"]
        return FileReader(path, fmt, lambda first: parquet_loader.batches(path, lf, first), notices=notices)
    if fmt == "json":
        from scrubber.loaders.json_loader import key_notices, load_json

        document = _json_document(path)
        foreign = _foreign_content(path)
        if foreign == NO_CLAIM_ROWS:
            # (an empty claims list is a file of no rows, as a CSV header alone is: noted, the other inputs
            # checked; it stopped the run, probe 28C D9)
            return FileReader(path, fmt, lambda first: iter([pl.DataFrame(schema=RAW_FRAME_SCHEMA)]),
                              notices=[f"this file holds {foreign}"], counted_rows=0)
        if _opens_an_object(document) and foreign:
            raise InputError(f"this file holds {foreign}", name)
        loaded, counted = load_json(path, document, 0)
        notices: list[str] = key_notices(document)
        del document
    else:
        from scrubber.loaders.x12_loader import count_x12_rows, read_x12

        text = _read_text(path, lossy=True)  # (a segment holding a byte in another encoding rejects its own)
        loaded, notices = read_x12(path, text, 0)
        counted = count_x12_rows(text, name)
        del text
    return FileReader(path, fmt, lambda first: iter([_aligned(loaded, first)]), notices=notices, counted_rows=counted)


def column_notices(path: Path, fmt: str) -> list[str]:
    """The notices :func:`open_file` gives about a CSV or Parquet file's columns (not read, named like
    claims columns), from its header or schema alone: the Spark driver words them so without reading
    the rows (open_file also counts every row of a CSV, a second pass over a large input)."""
    if fmt == "csv":
        from scrubber.loaders import csv_loader

        return csv_loader.ignored_notices(csv_loader.read_header(path))
    from scrubber.loaders import parquet_loader

    return parquet_loader.column_notices(path)


def _aligned(frame: pl.DataFrame, first_row_id: int) -> pl.DataFrame:
    """An in-memory loader's frame with exactly the raw columns and ``row_id`` numbered from ``first_row_id``."""
    schema = RAW_FRAME_SCHEMA
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
    sorted), each file's rows in file order. ``rows`` is the number of rows read, once read, and
    ``rows_by_file`` the same per file (by :attr:`FileReader.name`).
    """

    readers: list[FileReader]
    rows: int = 0
    rows_by_file: dict[str, int] = field(default_factory=dict)
    # Notes about the inputs that are not about one file's content (files skipped in a folder).
    skipped: list[dict[str, str]] = field(default_factory=list)

    @property
    def files(self) -> list[str]:
        return [r.name for r in self.readers]

    @property
    def formats(self) -> dict[str, str]:
        return {r.name: r.fmt for r in self.readers}

    @property
    def file_notices(self) -> list[dict[str, str]]:
        """The readers' notices about the content of the files they read (not the files skipped)."""
        return [{"source": r.name, "problem": n} for r in self.readers for n in r.notices]

    @property
    def counted_rows(self) -> dict[str, int]:
        """The independent count of rows per file (files whose reader counts; a file given twice twice)."""
        out: dict[str, int] = {}
        for r in self.readers:
            if r.counted_rows is not None:
                out[r.name] = out.get(r.name, 0) + r.counted_rows
        return out

    def reconciliation(self) -> list[dict[str, object]]:
        """Files whose rows read differ from their independent count (empty: every row is accounted for).

        Call after :meth:`batches` is consumed. Each item: ``source``, ``counted``, ``read``.
        """
        return [{"source": name, "counted": counted, "read": self.rows_by_file.get(name, 0)}
                for name, counted in self.counted_rows.items() if self.rows_by_file.get(name, 0) != counted]

    @property
    def reconciled(self) -> bool:
        """Whether every file yielded exactly the rows its independent count says it holds."""
        return not self.reconciliation()

    def batches(self, numbers: bool = False) -> Iterator[RawBatch]:
        """``(file, batch)`` pairs; a ``None`` batch drops what that file gave so far (it is read
        again). ``numbers``: the caller takes batches whose number columns are already typed
        (:func:`scrubber.canonical.canonicalise` does; a records join does not), so a reader that
        can read them as numbers does."""
        from scrubber.loaders.csv_loader import FastPathRefused

        next_id = 0
        for number, reader in enumerate(self.readers):
            # Each read that refuses the file part-way (FastPathRefused) hands over to the next, after
            # a None that drops what it gave: numbers typed, then text by Polars, then the csv module.
            reads = [r for r in (reader.numbers if numbers else None, reader.fast, reader.slow) if r is not None]
            for attempt, read in enumerate(reads):
                count = 0
                try:
                    for batch in read(next_id):
                        count += batch.height
                        yield number, batch
                except FastPathRefused:
                    if attempt == len(reads) - 1:  # pragma: no cover - the csv module's read never refuses
                        raise
                    yield number, None
                    continue
                break
            self.rows_by_file[reader.name] = self.rows_by_file.get(reader.name, 0) + count
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
        return pl.concat(frames) if frames else pl.DataFrame(schema=RAW_FRAME_SCHEMA)


def load_inputs(inputs: list[str], records: str | None = None) -> RawInput:
    """Open every input (file-level problems raise :class:`InputError` here, before any row is read).

    ``records`` is the ``--records`` file, left out of folder inputs (see :func:`expand_paths`).
    """
    exclude = Path(records) if records else None
    skipped: list[dict[str, str]] = []
    paths = expand_paths(inputs, exclude, skipped)
    return RawInput(readers=[open_file(path) for path in paths], skipped=skipped)
