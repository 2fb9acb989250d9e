"""Findings JSON (FORMATS.md): ``findings``, ``summary``, ``rejected_rows``, plus extensions.

Extensions beside the contract's keys: each finding also carries ``title``, ``fix_kind``,
``disposition`` (what the payer does with it, apart from severity),
``member_id``, ``payer``, ``policy``, ``date_of_service``, ``procedure_code``, ``charge``,
``source`` and ``location``; the document carries ``unmatched_records`` and ``provenance``.
Output is deterministic (sorted findings, sorted keys, no timestamps unless provenance is asked
for), so the same input gives byte-identical JSON.
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


def findings_records(findings: pl.DataFrame) -> list[dict[str, Any]]:
    frame = findings.select(*CONTRACT_KEYS, *EXTRA_KEYS).with_columns(pl.col("date_of_service").cast(pl.String))
    return frame.rename({"source_location": "location"}).to_dicts()


def document(result: ScrubResult, with_provenance: bool = True) -> dict[str, Any]:
    rejected = result.rejected.select(
        "source", "row", "location", "claim_id", "line_number", "reason"
    ).to_dicts()
    doc: dict[str, Any] = {
        "findings": findings_records(result.findings),
        "summary": result.summary,
        "rejected_rows": rejected,
        "unmatched_records": result.unmatched_records.to_dicts(),
    }
    if with_provenance:
        doc["provenance"] = {k: v for k, v in result.provenance.items() if k != "started_at"}
    return doc


def render_json(result: ScrubResult) -> str:
    return json.dumps(document(result), indent=2, sort_keys=False, ensure_ascii=False, default=str) + "\n"
