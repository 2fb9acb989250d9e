"""Two speeds the issues name, measured here rather than asserted in unit tests.

* **X12 reader** (issue 6: "pyx12 parsed 10,000 claims in 51 s, a purpose-built segment reader
  0.31 s"): the synthetic batch of ``generate.py`` (professional claims) written as an 837P by
  ``scripts/csv_to_837.py``, then read by ``scrubber.loaders.x12_loader.read_x12``; median of runs.
* **HTML report for a large flagged batch** (issue 3: "stays usable for a batch with 10,000
  flagged claims"): ``render_html`` of a scrub in which every claim has findings; wall time and
  file size (the browser test opens such a report; this measures building it).

Usage::

    python benchmarks/x12_and_report.py                 # 10,000 claims each
    python benchmarks/x12_and_report.py --claims 2000   # quicker
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "scripts"))

import generate  # noqa: E402  (benchmarks/generate.py)
import polars as pl  # noqa: E402
from csv_to_837 import build_837  # noqa: E402  (scripts/csv_to_837.py)


def _professional_claims(claims: int, seed: int) -> list[dict[str, str]]:
    """Rows (dicts of text) of the first ``claims`` professional claims of a generated batch."""
    frame = generate.generate_lines(claims * 5, seed).filter(pl.col("claim_type") == "professional")
    keep = frame.get_column("claim_id").unique(maintain_order=True).head(claims)
    frame = frame.filter(pl.col("claim_id").is_in(keep.implode()))
    text = frame.select(pl.all().cast(pl.String).fill_null(""))
    return text.to_dicts()


def bench_x12(claims: int, runs: int, seed: int) -> dict[str, float]:
    from scrubber.loaders.x12_loader import read_x12

    rows = _professional_claims(claims, seed)
    text = build_837(rows)
    walls = []
    for _ in range(runs):
        start = time.perf_counter()
        frame, _notices = read_x12(Path("bench.837"), text, 0)
        walls.append(time.perf_counter() - start)
    return {"claims": len({r["claim_id"] for r in rows}), "lines": frame.height, "bytes": len(text),
            "median_s": statistics.median(walls)}


def bench_report(claims: int, seed: int) -> dict[str, float]:
    from scrubber.engine import scrub
    from scrubber.output.html_report import render_html

    # Every claim flagged: 96366 x1 with 90 minutes documented (0 units supported) and 75 units of
    # J1459 for 35 g (70 expected), so each claim carries two findings.
    lines = ["claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,modifier_1,"
             "units,charge,diagnosis_1,drug_dose_mg,infusion_start,infusion_stop"]
    payers = ("MEDICARE", "AETNA", "CIGNA", "UHC")
    for i in range(claims):
        claim, member, payer, dos = f"B{i:06d}", f"MB{i:07d}", payers[i % 4], f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}"
        lines += [f"{claim},1,{member},{payer},11,{dos},96365,,1,250,D80.0,,{dos}T09:00,{dos}T10:30",
                  f"{claim},2,{member},{payer},11,{dos},96366,,1,120,D80.0,,,",
                  f"{claim},3,{member},{payer},11,{dos},J1459,JZ,75,7500,D80.0,35000,,"]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "flagged.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        result = scrub([str(path)])
    start = time.perf_counter()
    html = render_html(result, mask_phi=True)
    wall = time.perf_counter() - start
    return {"claims_flagged": result.summary["claims_with_findings"], "findings": result.summary["findings"],
            "render_s": wall, "mb": len(html.encode("utf-8")) / 1e6}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--claims", type=int, default=10_000, help="claims in each batch (default 10,000)")
    ap.add_argument("--runs", type=int, default=3, help="repetitions of the X12 read (median shown)")
    ap.add_argument("--seed", type=int, default=20260501)
    args = ap.parse_args(argv)
    x12 = bench_x12(args.claims, args.runs, args.seed)
    print(f"X12 reader: {x12['claims']:,} claims / {x12['lines']:,} lines ({x12['bytes'] / 1e6:.1f} MB of 837P) "
          f"read in {x12['median_s']:.2f} s (median of {args.runs})")
    report = bench_report(args.claims, args.seed)
    print(f"HTML report: {report['claims_flagged']:,} flagged claims, {report['findings']:,} findings, rendered in "
          f"{report['render_s']:.2f} s, {report['mb']:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
