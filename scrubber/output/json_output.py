"""Findings JSON (FORMATS.md): ``findings``, ``summary``, ``rejected_rows``, plus extensions.

Extensions beside the contract's keys: each finding also carries ``title``, ``fix_kind``,
``disposition`` (what the payer does with it, apart from severity),
``member_id``, ``payer``, ``policy``, ``date_of_service``, ``procedure_code``, ``charge``,
``source`` and ``location``; the document carries ``unmatched_records``, ``input_warnings``
(file-level problems that did not stop the scrub, such as X12 envelope counts) and ``provenance``.
Output is deterministic (sorted findings, sorted keys, no timestamps unless provenance is asked
for), so the same input gives byte-identical JSON.

Layout: the small parts are indented as usual; the ``findings`` and ``rejected_rows`` arrays hold
one object per line, written by Polars. A batch can carry hundreds of thousands of findings, and
building a Python dict per finding for :func:`json.dumps` cost 2-3 s per 70,000 of them.
"""

from __future__ import annotations

import io
import json
from typing import Any, BinaryIO

import polars as pl

from scrubber.engine import ScrubResult

CONTRACT_KEYS = ("claim_id", "line_number", "check_id", "severity", "message", "suggested_fix", "appeal_text",
                 "citation")
EXTRA_KEYS = ("reason", "title", "fix_kind", "disposition", "attach", "carc", "rarc", "member_id", "payer", "policy",
              "claim_type", "billing_provider", "date_of_service", "procedure_code", "units", "charge",
              "charge_at_risk", "source", "source_location")
REJECTED_KEYS = ("source", "row", "location", "claim_id", "line_number", "reason")


def findings_frame(findings: pl.DataFrame) -> pl.DataFrame:
    """The findings as the JSON and CSV outputs write them: contract keys first, then extensions."""
    frame = findings.select(*CONTRACT_KEYS, *EXTRA_KEYS).with_columns(pl.col("date_of_service").cast(pl.String))
    return frame.rename({"source_location": "location"})


def findings_records(findings: pl.DataFrame) -> list[dict[str, Any]]:
    return findings_frame(findings).to_dicts()


def _write_array(frame: pl.DataFrame, out: BinaryIO) -> None:
    """A JSON array of ``frame``'s rows, one object per line, written as UTF-8 bytes."""
    if frame.height == 0:
        out.write(b"[]")
        return
    buffer = io.BytesIO()
    frame.write_ndjson(buffer)
    out.write(b"[\n    ")
    out.write(buffer.getvalue().rstrip(b"\n").replace(b"\n", b",\n    "))
    out.write(b"\n  ]")


def _value(obj: Any) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False, default=str).replace("\n", "\n  ")


def document(result: ScrubResult, with_provenance: bool = True) -> dict[str, Any]:
    """The document as Python objects (tests, small batches); :func:`render_json` writes the same."""
    doc: dict[str, Any] = {
        "findings": findings_records(result.findings),
        "summary": result.summary,
        "rejected_rows": result.rejected.select(REJECTED_KEYS).to_dicts(),
        "unmatched_records": result.unmatched_records.to_dicts(),
        "input_warnings": result.input_warnings,
    }
    if with_provenance:
        doc["provenance"] = _provenance(result)
    return doc


def _provenance(result: ScrubResult) -> dict[str, Any]:
    return {k: v for k, v in result.provenance.items() if k != "started_at"}


def write_json(result: ScrubResult, out: BinaryIO) -> None:
    """Write the findings JSON document to a binary stream (large batches: no document-sized copies)."""
    out.write(b'{\n  "findings": ')
    _write_array(findings_frame(result.findings), out)
    out.write(b',\n  "summary": ' + _value(result.summary).encode())
    out.write(b',\n  "rejected_rows": ')
    _write_array(result.rejected.select(REJECTED_KEYS), out)
    out.write(b',\n  "unmatched_records": ')
    _write_array(result.unmatched_records, out)
    out.write(b',\n  "input_warnings": ' + _value(result.input_warnings).encode())
    out.write(b',\n  "provenance": ' + _value(_provenance(result)).encode() + b"\n}\n")


def render_json(result: ScrubResult) -> str:
    buffer = io.BytesIO()
    write_json(result, buffer)
    return buffer.getvalue().decode("utf-8")
