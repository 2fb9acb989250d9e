"""Findings as CSV: one row per finding, the JSON finding keys as columns (for spreadsheets)."""

from __future__ import annotations

import polars as pl

from scrubber.engine import ScrubResult
from scrubber.output.json_output import CONTRACT_KEYS, EXTRA_KEYS


def render_csv(result: ScrubResult) -> str:
    frame = result.findings.select(*CONTRACT_KEYS, *EXTRA_KEYS).rename({"source_location": "location"})
    return frame.with_columns(pl.col("date_of_service").cast(pl.String)).write_csv()
