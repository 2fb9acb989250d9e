"""Findings JSON (FORMATS.md): ``findings``, ``summary``, ``rejected_rows``, plus extensions.

Extensions beside the contract's keys: each finding also carries ``finding_id`` (stable across
runs and input formats, :mod:`scrubber.finding_ids`), ``title``, ``fix_kind``,
``disposition`` (what the payer does with it, apart from severity),
``member_id``, ``payer``, ``policy``, ``date_of_service``, ``procedure_code``, ``charge``,
``source`` and ``location``; the document carries ``unmatched_records``, ``input_warnings``
(file-level problems that did not stop the scrub, such as X12 envelope counts), ``suppressed``
(findings a suppressions file waived, each with its ``suppression``: reason, by, expires, source,
entry), ``suppression_warnings`` (expired entries, entries that matched nothing), ``compare``
(with ``--compare``) and ``provenance``.
Output is deterministic (sorted findings, sorted keys, no timestamps unless provenance is asked
for), so the same input gives byte-identical JSON. It is strict JSON: a non-finite number (a
``1e308`` charge summed to infinity) is written as ``null``, never ``NaN`` or ``Infinity``.

Layout: the small parts are indented as usual; the ``findings`` and ``rejected_rows`` arrays hold
one object per line, written by Polars. A batch can carry hundreds of thousands of findings, and
building a Python dict per finding for :func:`json.dumps` cost 2-3 s per 70,000 of them.
"""

from __future__ import annotations

import io
import json
import math
from typing import Any, BinaryIO

import polars as pl

from scrubber.engine import ScrubResult
from scrubber.outputs import polars_writes

CONTRACT_KEYS = ("claim_id", "line_number", "check_id", "severity", "message", "suggested_fix", "appeal_text",
                 "citation")
EXTRA_KEYS = ("finding_id", "reason", "title", "fix_kind", "disposition", "attach", "carc", "rarc", "member_id",
              "payer", "policy", "claim_type", "billing_provider", "date_of_service", "procedure_code", "units",
              "charge", "charge_at_risk", "source", "source_location")
REJECTED_KEYS = ("source", "row", "location", "claim_id", "line_number", "reason")


SUPPRESSION_KEYS = {"suppression_reason": "reason", "suppression_by": "by", "suppression_expires": "expires",
                    "suppression_source": "source", "suppression_entry": "entry"}


def finite(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with NaN and infinite floats as nulls: strict JSON has no spelling for them."""
    floats = [c for c, t in frame.schema.items() if t.is_float()]
    return frame.with_columns(pl.when(pl.col(c).is_finite()).then(pl.col(c)).alias(c) for c in floats)


def findings_frame(findings: pl.DataFrame) -> pl.DataFrame:
    """The findings as the JSON and CSV outputs write them: contract keys first, then extensions."""
    frame = findings.select(*CONTRACT_KEYS, *EXTRA_KEYS).with_columns(pl.col("date_of_service").cast(pl.String))
    return finite(frame.rename({"source_location": "location"}))


def suppressed_frame(result: ScrubResult) -> pl.DataFrame:
    """The suppressed findings as JSON writes them: the finding keys plus a ``suppression`` object."""
    suppressed = result.suppressed
    if suppressed is None:
        suppressed = result.findings.clear().with_columns(pl.lit(None, pl.String()).alias(c)
                                                          for c in SUPPRESSION_KEYS)
    suppression = pl.struct(pl.col(c).cast(pl.String) if c == "suppression_expires" else pl.col(c)
                            for c in SUPPRESSION_KEYS).struct.rename_fields(list(SUPPRESSION_KEYS.values()))
    return pl.concat([findings_frame(suppressed), suppressed.select(suppression.alias("suppression"))],
                     how="horizontal")


def strict(value: Any) -> Any:
    """``value`` with non-finite floats as ``None``, for :func:`json.dumps` with ``allow_nan=False``."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: strict(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [strict(v) for v in value]
    return value


def findings_records(findings: pl.DataFrame) -> list[dict[str, Any]]:
    return findings_frame(findings).to_dicts()


def _write_array(frame: pl.DataFrame, out: BinaryIO) -> None:
    """A JSON array of ``frame``'s rows, one object per line, written as UTF-8 bytes.

    Each row is encoded by Polars (``struct.json_encode``: the bytes ``write_ndjson`` writes) in the
    streaming engine, which writes them straight to ``out`` as a one-column CSV without quoting whose
    line terminator is the array's separator. No document-sized copy passes through Python (a
    ``write_ndjson`` buffer with its newlines replaced cost twice the time: 93 MB for 60,000 findings).
    """
    if frame.height == 0:
        out.write(b"[]")
        return
    rows = _in_parts(frame).select(pl.struct(pl.all()).struct.json_encode())
    out.write(b"[\n    ")
    out.flush()  # Polars writes to a real file's descriptor itself: what Python buffered goes first
    if frame.height > 1:
        _sink_lines(rows.slice(0, frame.height - 1), out, ",\n    ")
    _sink_lines(rows.slice(frame.height - 1), out, "\n  ]")  # the last row closes the array


# Rows per slice of :func:`_in_parts` (~3.5 MB of findings JSON), and at most this many slices: the plan
# of a concatenation costs more than linearly in its inputs (500 slices: 0.1 s to plan, 2,000: 0.9 s).
_PART_ROWS = 2_000
_MAX_PARTS = 32


def _in_parts(frame: pl.DataFrame) -> pl.LazyFrame:
    """``frame`` as the concatenation of slices of a few thousand rows (zero-copy), in order.

    Why: taken whole, the frame goes through the streaming engine in a few large pieces, so the JSON
    text of the 2M-line batch's 91,773 findings (155 MB) was made in fresh memory, a page fault per
    4 KB (37,000-47,000 faults); slices of a few thousand rows go through as small pieces whose memory
    the next one reuses (2,000-7,000 faults): 0.1-0.15 s less CPU on that batch. The bytes are the same.
    """
    size = max(_PART_ROWS, -(-frame.height // _MAX_PARTS))
    return pl.concat([frame.slice(start, size).lazy() for start in range(0, frame.height, size)])


def _sink_lines(lines: pl.LazyFrame, out: BinaryIO, terminator: str) -> None:
    """Write a one-column frame of text, each value followed by ``terminator``, exactly as it is."""
    with polars_writes():
        lines.sink_csv(out, include_header=False, quote_style="never", line_terminator=terminator)


def _value(obj: Any) -> str:
    return json.dumps(strict(obj), indent=2, ensure_ascii=False, default=str, allow_nan=False).replace("\n", "\n  ")


def document(result: ScrubResult, with_provenance: bool = True, compare: dict[str, Any] | None = None
             ) -> dict[str, Any]:
    """The document as Python objects (tests, small batches); :func:`render_json` writes the same."""
    doc: dict[str, Any] = {
        "findings": findings_records(result.findings),
        "summary": strict(result.summary),
        "rejected_rows": result.rejected.select(REJECTED_KEYS).to_dicts(),
        "unmatched_records": result.unmatched_records.to_dicts(),
        "input_warnings": result.input_warnings,
        "suppressed": suppressed_frame(result).to_dicts(),
        "suppression_warnings": result.suppression_warnings,
    }
    if compare is not None:
        doc["compare"] = strict(compare)
    if with_provenance:
        doc["provenance"] = _provenance(result)
    return doc


def _provenance(result: ScrubResult) -> dict[str, Any]:
    return {k: v for k, v in result.provenance.items() if k != "started_at"}


def write_json(result: ScrubResult, out: BinaryIO, compare: dict[str, Any] | None = None) -> None:
    """Write the findings JSON document to a binary stream (large batches: no document-sized copies).

    ``compare``: the ``--compare`` section (:func:`scrubber.diff.compare_section`), when asked for.
    """
    out.write(b'{\n  "findings": ')
    _write_array(findings_frame(result.findings), out)
    out.write(b',\n  "summary": ' + _value(result.summary).encode())
    out.write(b',\n  "rejected_rows": ')
    _write_array(result.rejected.select(REJECTED_KEYS), out)
    out.write(b',\n  "unmatched_records": ')
    _write_array(result.unmatched_records, out)
    out.write(b',\n  "input_warnings": ' + _value(result.input_warnings).encode())
    out.write(b',\n  "suppressed": ')
    _write_array(suppressed_frame(result), out)
    out.write(b',\n  "suppression_warnings": ' + _value(result.suppression_warnings).encode())
    if compare is not None:
        out.write(b',\n  "compare": ' + _value(compare).encode())
    out.write(b',\n  "provenance": ' + _value(_provenance(result)).encode() + b"\n}\n")


def render_json(result: ScrubResult, compare: dict[str, Any] | None = None) -> str:
    buffer = io.BytesIO()
    write_json(result, buffer, compare)
    return buffer.getvalue().decode("utf-8")
