"""Hostile-input round 3 (JSON, JSON Lines, records, standard input; black box): one test per problem
fixed. The contracts: every row accounted for, a bad row never changes the good rows' findings, and bad
input is a clear message, never "unexpected ValueError".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from test_bad_input import run_json

GOOD_CLAIM = {"claim_id": "G1", "member_id": "M1", "payer": "AETNA", "place_of_service": "11",
              "diagnoses": ["D80.0"],
              "lines": [{"line_number": 1, "date_of_service": "2026-02-10", "procedure_code": "96365", "units": 1,
                         "diagnosis_pointers": [1]}]}


# Contract: isolated. An integer of more than 4,300 digits (Python's conversion limit) anywhere in a
# JSON file, even in an unknown field, failed the whole file with "unexpected ValueError".
def test_a_huge_integer_rejects_its_own_line_only(tmp_path: Path) -> None:
    bad = json.loads(json.dumps(GOOD_CLAIM))
    bad["claim_id"] = "B1"
    path = tmp_path / "claims.jsonl"
    text = json.dumps(GOOD_CLAIM) + "\n" + json.dumps(bad).replace('"units": 1', '"units": 1' + "0" * 5000) + "\n"
    path.write_text(text, encoding="utf-8")
    doc = run_json(str(path))
    assert (doc["summary"]["rows_read"], doc["summary"]["rejected_rows"]) == (2, 1)
    assert doc["rejected_rows"][0]["claim_id"] == "B1"
    # The reason quotes the digits written, not 'inf' (probe 18B; the CSV reader quotes them too).
    assert "unparseable units '1000000000" in doc["rejected_rows"][0]["reason"]
    assert "'inf'" not in doc["rejected_rows"][0]["reason"]


def test_a_huge_integer_in_an_unknown_field_changes_nothing(tmp_path: Path) -> None:
    """Near miss: the value sits where nothing reads it; every row is checked."""
    claim = json.loads(json.dumps(GOOD_CLAIM))
    path = tmp_path / "claims.json"
    path.write_text(json.dumps({"claims": [claim]}).replace('"payer"', '"note": 1' + "0" * 5000 + ', "payer"'),
                    encoding="utf-8")
    doc = run_json(str(path))
    assert (doc["summary"]["rows_read"], doc["summary"]["rejected_rows"]) == (1, 0)


# Contract: one line, exit 2. `scrub check - <&-` (standard input closed) said "unexpected AttributeError".
def test_closed_standard_input_is_a_usage_error() -> None:
    proc = subprocess.run([sys.executable, "-m", "scrubber.cli", "check", "-"], capture_output=True, text=True,
                          preexec_fn=lambda: os.close(0), cwd="/", timeout=120, check=False)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == "scrub: error: standard input is closed; pipe claims into `scrub check -`"


# Contract: a column the product does not read is ignored with a notice, as in a CSV (FORMATS.md). In
# Parquet a 'load_error' column rejected every row with its own text as the reason, and a
# 'source_row' column refused the whole file ("duplicate column name").
def test_parquet_columns_named_like_the_loaders_own_are_ignored_with_a_notice(tmp_path: Path) -> None:
    import polars as pl

    frame = pl.DataFrame({
        "claim_id": ["P1", "P1"], "line_number": [1, 2], "member_id": ["M1", "M1"], "payer": ["AETNA", "AETNA"],
        "place_of_service": ["11", "11"], "date_of_service": ["2026-02-10", "2026-02-10"],
        "procedure_code": ["96365", "96366"], "units": [1, 1], "charge": [300.0, 120.0],
        "diagnosis_1": ["D80.0", "D80.0"], "load_error": ["boom", "boom"], "source_row": [7, 8], "row_id": [1, 1],
    })
    path = tmp_path / "claims.parquet"
    frame.write_parquet(path)
    doc = run_json(str(path))
    assert (doc["summary"]["rows_read"], doc["summary"]["rejected_rows"]) == (2, 0)
    ignored = {w["problem"] for w in doc["input_warnings"]}
    assert {f"column '{c}' is not a claims column and is ignored" for c in ("load_error", "source_row", "row_id")} \
        <= ignored


def test_a_parquet_file_typed_by_inference_keeps_its_ndcs(tmp_path: Path) -> None:
    """``polars.read_csv(...).write_parquet()`` types the NDC column as integers: 00944270005 is stored
    as 944270005. The number can only be the 11-digit code, so it is read zero-padded, and the file
    gives the CSV's findings (probe 23B: every drug line was rejected "ndc must be 11 digits")."""
    import polars as pl

    sample = Path(__file__).resolve().parents[1] / "sample_claims" / "claims.csv"
    typed = pl.read_csv(sample)
    assert typed.schema["ndc"].is_integer()
    as_csv = run_json(str(sample))
    keys = sorted((f["finding_id"], f["message"], f["charge_at_risk"]) for f in as_csv["findings"])
    # (as integers, and as floats: pandas types a column with blanks as float64, 944270005.0, review 23E)
    for name, frame in (("int", typed), ("float", typed.with_columns(pl.col("ndc").cast(pl.Float64)))):
        path = tmp_path / f"{name}.parquet"
        frame.write_parquet(path)
        as_parquet = run_json(str(path))
        assert as_parquet["summary"]["rejected_rows"] == 0, name
        assert keys == sorted((f["finding_id"], f["message"], f["charge_at_risk"]) for f in as_parquet["findings"])
    # A negative or wider number is no NDC: rejected, not padded; nor is a 32-bit float's (it holds 7
    # digits exactly: 00944270005 read back as 944270016, review 23G).
    bad = typed.head(6).with_columns(pl.Series("ndc", [-944270005, 123456789012, None, None, None, None]))
    bad.write_parquet(tmp_path / "bad.parquet")
    reasons = [r["reason"] for r in run_json(str(tmp_path / "bad.parquet"))["rejected_rows"]]
    assert sum("ndc must be 11 digits" in r for r in reasons) == 2, reasons
    typed.with_columns(pl.col("ndc").cast(pl.Float32)).write_parquet(tmp_path / "float32.parquet")
    doc = run_json(str(tmp_path / "float32.parquet"))
    drug_rows = typed.get_column("ndc").is_not_null().sum()
    assert sum("ndc must be 11 digits" in r["reason"] for r in doc["rejected_rows"]) == drug_rows
