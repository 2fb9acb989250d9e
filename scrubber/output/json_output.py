"""Findings JSON (FORMATS.md): ``findings``, ``summary``, ``rejected_rows``, plus extensions.

Extensions beside the contract's keys: each finding also carries ``title``, ``fix_kind``,
``disposition`` (what the payer does with it, apart from severity),
``member_id``, ``payer``, ``policy``, ``date_of_service``, ``procedure_code``, ``charge``,
``source`` and ``location``; the document carries ``unmatched_records`` and ``provenance``.
Output is deterministic (sorted findings, sorted keys, no timestamps unless provenance is asked
for), so the same input gives byte-identical JSON.

Layout: the small parts are indented as usual; the ``findings`` and ``rejected_rows`` arrays hold
one object per line, written by Polars. A batch can carry hundreds of thousands of findings, and
building a Python dict per finding for :func:`json.dumps` cost 2-3 s per 70,000 of them.
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from scrubber.engine import ScrubResult

CONTRACT_KEYS = ("claim_id", "line_number", "check_id", "severity", "message", "suggested_fix", "appeal_text",
                 "citation")
EXTRA_KEYS = ("title", "fix_kind", "disposition", "member_id", "payer", "policy", "date_of_service",
              "procedure_code", "units", "charge", "source", "source_location")
REJECTED_KEYS = ("source", "row", "location", "claim_id", "line_number", "reason")


def findings_frame(findings: pl.DataFrame) -> pl.DataFrame:
    """The findings as the JSON and CSV outputs write them: contract keys first, then extensions."""
    frame = findings.select(*CONTRACT_KEYS, *EXTRA_KEYS).with_columns(pl.col("date_of_service").cast(pl.String))
    return frame.rename({"source_location": "location"})


def findings_records(findings: pl.DataFrame) -> list[dict[str, Any]]:
    return findings_frame(findings).to_dicts()


def _array(frame: pl.DataFrame) -> str:
    """A JSON array of ``frame``'s rows, one object per line."""
    if frame.height == 0:
        return "[]"
    return "[\n    " + frame.write_ndjson().rstrip("\n").replace("\n", ",\n    ") + "\n  ]"


def _value(obj: Any) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False, default=str).replace("\n", "\n  ")


def document(result: ScrubResult, with_provenance: bool = True) -> dict[str, Any]:
    """The document as Python objects (tests, small batches); :func:`render_json` writes the same."""
    doc: dict[str, Any] = {
        "findings": findings_records(result.findings),
        "summary": result.summary,
        "rejected_rows": result.rejected.select(REJECTED_KEYS).to_dicts(),
        "unmatched_records": result.unmatched_records.to_dicts(),
    }
    if with_provenance:
        doc["provenance"] = _provenance(result)
    return doc


def _provenance(result: ScrubResult) -> dict[str, Any]:
    return {k: v for k, v in result.provenance.items() if k != "started_at"}


def render_json(result: ScrubResult) -> str:
    parts = [
        f'"findings": {_array(findings_frame(result.findings))}',
        f'"summary": {_value(result.summary)}',
        f'"rejected_rows": {_array(result.rejected.select(REJECTED_KEYS))}',
        f'"unmatched_records": {_array(result.unmatched_records)}',
        f'"provenance": {_value(_provenance(result))}',
    ]
    return "{\n  " + ",\n  ".join(parts) + "\n}\n"
