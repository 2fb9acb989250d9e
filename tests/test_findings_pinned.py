"""The findings of fixed batches, pinned to a golden file written before the performance work (issue 16).

Performance changes (typing at the reader, flat columns, per-distinct-value decisions, windows on
ready columns) must not change a single finding. This test scrubs fixed batches and compares the
whole findings document (findings, summary, rejected rows, unmatched records, warnings; provenance
left out: it names paths, versions and times) with ``tests/fixtures/golden/findings_pinned.json``:

* the benchmark generator's batch at 20k lines, same seed as ``benchmarks/run.py``, as CSV and as
  nested JSON;
* ``tests/claimgen.write_large_csv`` (a second, differently shaped generator) at 8k lines;
* the benchmark CSV with unreadable and odd cells spread over it (rejected rows, lenient parsing);
* the benchmark CSV with next-payer copies of some claims (lines reordered, modifiers swapped) and near misses;
* the benchmark CSV with every fifth claim split in two (encounters of several claims);
* messy-but-valid CSV layouts from ``tests/claimgen`` (column order, BOM, CRLF, quoting, spellings);
* the sample batch (CSV, JSON, 837 with its records file).

The golden file holds, per batch, the finding count, a sha256 of each finding (so a difference
says which finding changed) and one sha256 of the rest of the document. Regenerate it only when a
change of findings is intended: ``PYTHONPATH=. python tests/test_findings_pinned.py --write``.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))

import claimgen  # noqa: E402
import generate  # noqa: E402

from scrubber.engine import scrub  # noqa: E402
from scrubber.output.json_output import document  # noqa: E402

GOLDEN = ROOT / "tests" / "fixtures" / "golden" / "findings_pinned.json"
SAMPLE = ROOT / "sample_claims"
BENCH_SEED = 20260501  # benchmarks/run.py's default seed


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def _digest(inputs: list[str], records: str | None = None) -> dict[str, Any]:
    """Count and hashes of the findings document; input paths are replaced by their file names."""
    doc = document(scrub(inputs, records=records), with_provenance=False)
    folders = {str(Path(p).parent) + "/" for p in inputs + ([records] if records else [])}

    def norm(obj: Any) -> bytes:
        text = _canonical(obj).decode()
        for folder in folders:
            text = text.replace(folder, "")
        return text.encode()

    findings = doc.pop("findings")
    return {
        "count": len(findings),
        "findings": [hashlib.sha256(norm(f)).hexdigest()[:12] for f in findings],
        "rest": hashlib.sha256(norm(doc)).hexdigest(),
    }


def _messy_csv(path: Path) -> None:
    rnd = random.Random(1616)
    lines = claimgen.generate_claims(rnd, prefix="M", n_claims=60, max_lines=6)
    path.write_bytes(claimgen.render_csv(lines, claimgen.generate_layout(rnd)))


def _bad_cells_csv(source: Path, path: Path) -> None:
    """The benchmark CSV with unreadable or odd cells spread over it (rejected rows, lenient parsing)."""
    import polars as pl

    frame = pl.read_csv(source, infer_schema=False)
    bad = {
        "units": ["abc", "inf", "NaN", "-1", "1e3", " 2 ", "1,000"],
        "date_of_service": ["2025-13-01", "09/23/2025", "20250923", "", "2025-9-3"],
        "charge": ["$1,200.00", "inf", "-5", "12.345", "nan"],
        "drug_dose_mg": ["NaN", "1e400", "five", "500.0"],
        "infusion_start": ["2025-09-23 25:00", "2025-09-23T09:00:00", "9:00", "2025-09-23T9:5"],
        "line_number": ["1.5", "x", "0", "-2"],
        "procedure_code": ["96365 ", "j1459", "9636", "96365-59"],
        "modifier_1": ["jz", " JW", "Z", "JZJW"],
        "diagnosis_1": ["d80.0", "D800", "D80.", "ZZZ"],
    }
    cols = []
    for k, (name, values) in enumerate(bad.items()):
        rows = pl.int_range(pl.len())
        hit = (rows * 7 + k * 13) % 97 == 0
        value = pl.lit(pl.Series(values)).gather((rows // 97 + k) % len(values))
        cols.append(pl.when(hit).then(value).otherwise(pl.col(name)).alias(name))
    frame.with_columns(cols).write_csv(path)


def _copies_csv(source: Path, path: Path) -> None:
    """The benchmark CSV plus next-payer copies of some of its claims (another payer, the same lines in
    another order with modifiers swapped) and near misses (one line's units changed)."""
    import polars as pl

    frame = pl.read_csv(source, infer_schema=False)
    claims = frame.get_column("claim_id").unique(maintain_order=True)
    picked = frame.filter(pl.col("claim_id").is_in(claims.gather_every(7).head(400).implode()))
    other = pl.when(pl.col("payer") == "MEDICARE").then(pl.lit("AETNA")).otherwise(pl.lit("Medicare"))
    copies = picked.reverse().with_columns(
        (pl.col("claim_id") + "-C").alias("claim_id"), other.alias("payer"),
        pl.col("modifier_2").alias("modifier_1"), pl.col("modifier_1").alias("modifier_2"))
    near = picked.filter(pl.col("claim_id").is_in(claims.gather_every(21).head(100).implode())).with_columns(
        (pl.col("claim_id") + "-N").alias("claim_id"), other.alias("payer"),
        pl.when(pl.col("line_number") == "1").then(pl.lit("2")).otherwise(pl.col("units")).alias("units"))
    pl.concat([frame, copies, near]).write_csv(path)


def _split_claims_csv(source: Path, path: Path) -> None:
    """The benchmark CSV with every fifth claim split in two (its lines after the first billed on a
    second claim of the same member and date): encounters that span several claims."""
    import polars as pl

    frame = pl.read_csv(source, infer_schema=False)
    number = pl.col("claim_id").str.slice(1).cast(pl.Int64)
    split = (number % 5 == 0) & (pl.col("line_number").cast(pl.Int64) > 1)
    frame.with_columns(pl.when(split).then(pl.col("claim_id") + "-B").otherwise(pl.col("claim_id"))
                       .alias("claim_id")).write_csv(path)


def batches(tmp: Path) -> dict[str, dict[str, Any]]:
    """Every pinned batch's digest, keyed by a name."""
    frame = generate.generate_lines(20_000, BENCH_SEED)
    generate.write_csv(frame, tmp / "bench.csv")
    generate.write_json(frame, tmp / "bench.json")
    claimgen.write_large_csv(tmp / "large.csv", 8_000, seed=7, error_rate=0.05)
    _messy_csv(tmp / "messy.csv")
    _bad_cells_csv(tmp / "bench.csv", tmp / "bad.csv")
    _copies_csv(tmp / "bench.csv", tmp / "copies.csv")
    _split_claims_csv(tmp / "bench.csv", tmp / "split.csv")
    return {
        "bench_20k_csv": _digest([str(tmp / "bench.csv")]),
        "bench_20k_json": _digest([str(tmp / "bench.json")]),
        "claimgen_large_8k_csv": _digest([str(tmp / "large.csv")]),
        "claimgen_messy_csv": _digest([str(tmp / "messy.csv")]),
        "bench_20k_bad_cells_csv": _digest([str(tmp / "bad.csv")]),
        "bench_20k_next_payer_copies_csv": _digest([str(tmp / "copies.csv")]),
        "bench_20k_split_claims_csv": _digest([str(tmp / "split.csv")]),
        "sample_csv": _digest([str(SAMPLE / "claims.csv")]),
        "sample_json": _digest([str(SAMPLE / "claims.json")]),
        "sample_837_records": _digest([str(SAMPLE / "claims.837")], records=str(SAMPLE / "records.csv")),
    }


def test_findings_are_those_pinned_before_the_performance_work(tmp_path: Path) -> None:
    golden = json.loads(GOLDEN.read_text())
    got = batches(tmp_path)
    assert set(got) == set(golden)
    for name, want in golden.items():
        have = got[name]
        assert have["count"] == want["count"], name
        changed = [i for i, (a, b) in enumerate(zip(have["findings"], want["findings"], strict=True)) if a != b]
        assert not changed, f"{name}: findings at positions {changed[:10]} differ"
        assert have["rest"] == want["rest"], f"{name}: summary, rejected rows or warnings differ"
    # The pinned batches are not trivially empty: the benchmark batch has its seeded findings.
    assert golden["bench_20k_csv"]["count"] > 500


if __name__ == "__main__":
    import tempfile

    if "--write" not in sys.argv:
        raise SystemExit("usage: PYTHONPATH=. python tests/test_findings_pinned.py --write")
    with tempfile.TemporaryDirectory() as d:
        result = batches(Path(d))
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    GOLDEN.write_text(json.dumps(result, indent=1) + "\n")
    print({k: v["count"] for k, v in result.items()})
    _ = pytest  # imported for the test run only
