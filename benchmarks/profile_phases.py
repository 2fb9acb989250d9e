"""Where a scrub spends its time: each phase of ``scrubber.engine.scrub`` timed on its own.

    python benchmarks/profile_phases.py FILE [--json-out OUT.md]
    python benchmarks/profile_phases.py --importtime SMALL.csv

The phases are the engine's, called directly (loaders, canonical, enrich, each check, findings,
summary, JSON rendering), with sub-phases where one function does several things (the CSV read
vs. the raw-frame mapping; the casts vs. pandera vs. the claim-level rules; each enrichment step;
each check collected alone). Lazy steps are collected one at a time, so the sum can exceed the
engine's single fused plan a little; the engine's own ``_run_checks`` (all checks in one
``collect_all``) is timed too. RSS after each phase is the process's resident memory then.

``--importtime`` runs ``scrub check SMALL.csv --json OUT`` under ``python -X importtime`` and
lists the heaviest imports (cumulative) on that path.

This script mirrors the structure of ``scrubber.canonical.canonicalise`` and
``scrubber.enrich.enrich`` at the time of writing; if those change, the sub-phase timings need
the same change (the whole-function timings do not).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

_T0 = time.perf_counter()
ROWS: list[tuple[str, float, float, float]] = []  # (phase, seconds, rss MB after, peak MB)
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * _PAGE / 1e6


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def phase(name: str):
    started = time.perf_counter()
    yield
    ROWS.append((name, time.perf_counter() - started, _rss_mb(), _peak_mb()))


def profile(path: str) -> str:
    with phase("import polars"):
        import polars as pl
    with phase("import scrubber.engine (+ policy, records, registry, loaders)"):
        from scrubber import engine
    with phase("import checks (registry)"):
        checks = engine.select_checks(None, None)
    from scrubber import canonical as cn
    from scrubber import enrich as en
    from scrubber.loaders import csv_loader, load_inputs, sniff_format
    from scrubber.policy import PolicySet

    with phase("PolicySet.load + build_context (reference CSVs)"):
        policies = PolicySet.load([])
        ctx = engine.build_context(policies)

    fmt = sniff_format(Path(path))
    if fmt == "csv":
        header = csv_loader.read_header(Path(path))
        with phase("load: pl.read_csv all-text (csv_loader._scan)"):
            scanned = csv_loader._scan(Path(path), header)
        with phase("load: blank-row filter + to_raw (lists, provenance)"):
            blank = pl.all_horizontal(pl.col(header).is_null() | (pl.col(header).str.strip_chars() == ""))
            raw_one = csv_loader.to_raw(scanned.filter(~blank), path, 0)
        del scanned, raw_one
    else:
        import json as _json

        from scrubber.loaders import json_loader

        text = Path(path).read_text(encoding="utf-8-sig")
        with phase("load: json.loads (parse_claims)"):
            claims = json_loader.parse_claims(text, path)
        with phase("load: claims_to_raw (Python loop per line)"):
            raw_one = json_loader.claims_to_raw(claims, path, 0)
        del claims, raw_one, text, _json
    with phase("load_inputs total (read + align + concat + sort by row_id)"):
        raw = load_inputs([path])
    frame = raw.frame
    n_lines = frame.height

    # --- canonicalise, step by step (mirrors canonical.canonicalise)
    with phase("canonical: select/cast to RAW_SCHEMA"):
        lf = frame.lazy()
        lf = lf.select([pl.col(c).cast(t) if c in lf.collect_schema() else pl.lit(None, t).alias(c)
                        for c, t in {**cn.RAW_SCHEMA, "load_error": pl.String()}.items()])
        raw_df = lf.collect()
    with phase("canonical: _normalise_text + _cast_with_reasons (collect)"):
        typed = cn._cast_with_reasons(cn._normalise_text(raw_df.lazy())).collect()
    with phase("canonical: _long_reasons_from_parse"):
        parse_failed = cn._long_reasons_from_parse(typed)
    canonical_cols = list(cn.PROVENANCE) + [f.name for f in cn.FIELDS]
    with phase("canonical: import pandera.polars"):
        import pandera.polars  # noqa: F401
    with phase("canonical: pandera validation (_long_reasons_from_pandera)"):
        pandera_failed = cn._long_reasons_from_pandera(typed.select(canonical_cols), parse_failed)
    with phase("canonical: _claim_level_reasons (duplicates + claim disagreements)"):
        claim_failed = cn._claim_level_reasons(typed)
    with phase("canonical: reasons concat/unique/sort/group + rejected + lines join/sort"):
        reasons = (
            pl.concat([parse_failed, pandera_failed, claim_failed])
            .unique(["row_id", "column", "reason"]).sort("row_id", "column", "reason")
            .group_by("row_id", maintain_order=True).agg(pl.col("reason").str.join("; "))
        )
        lines = (typed.join(reasons, on="row_id", how="anti").select(canonical_cols)
                 .with_columns(pl.col("claim_type").fill_null("professional")).sort("row_id"))
    del typed, raw_df, lines
    with phase("canonicalise total (the function, as the engine calls it)"):
        canon = cn.canonicalise(frame.lazy())
    del frame, raw

    # --- enrich, step by step (each step collected on its own)
    cur = canon.lines
    for name, step in (
        ("_with_policy", lambda lf: en._with_policy(lf, policies)),
        ("_with_reference", en._with_reference),
        ("_with_claim_date (group_by claim+date, 3 sorted unique lists, join back)", en._with_claim_date),
        ("_with_timing (initial-line group_by + join)", en._with_timing),
        ("_with_drug_documentation (IG group_by + join)", en._with_drug_documentation),
    ):
        with phase(f"enrich: {name}"):
            cur = step(cur.lazy()).collect()
    with phase("enrich: final sort by row_id"):
        cur = cur.sort("row_id")
    del cur
    with phase("enrich total (the function)"):
        enriched = en.enrich(canon.lines, policies)
    width = enriched.width

    # --- checks one by one, then the engine's fused run
    lf = enriched.lazy()
    for check in checks:
        outcome = ""
        with phase(f"check {check.id} (collected alone)"):
            try:
                outcome = f"{check.find(lf, ctx).collect().height} rows"
            except BaseException as exc:  # noqa: BLE001 - a Polars panic is a BaseException
                outcome = f"FAILED {type(exc).__name__}: {str(exc)[:80]}"
        ROWS[-1] = (f"{ROWS[-1][0]}: {outcome}", *ROWS[-1][1:])
    findings = None
    for attempt in range(1, 4):
        with phase(f"engine._run_checks (all checks, collect_all + unique + join facts + sort), attempt {attempt}"):
            try:
                findings = engine._run_checks(enriched, checks, ctx)
            except BaseException as exc:  # noqa: BLE001
                ROWS.append((f"  ^ FAILED {type(exc).__name__}: {str(exc)[:100]}", 0.0, _rss_mb(), _peak_mb()))
        if findings is not None:
            break
    if findings is None:
        return _table(path, n_lines, None, width) + "\nengine._run_checks failed 3 times; later phases not run\n"
    with phase("engine._unevaluated"):
        unevaluated = engine._unevaluated(enriched, checks)
    with phase("engine.summarise"):
        from scrubber.records import empty_problems

        summary = engine.summarise(canon.lines, findings, canon.rejected, canon.rows_read, checks, unevaluated,
                                   empty_problems())
    with phase("ScrubResult lines = enriched.select(canonical cols + policy)"):
        result = engine.ScrubResult(findings=findings, lines=enriched.select(*canon.lines.columns, "policy"),
                                    rejected=canon.rejected, unmatched_records=empty_problems(), summary=summary,
                                    provenance={"note": "profile"}, checks=checks)
    from scrubber.output import json_output

    with phase("json_output.document (to_dicts)"):
        doc = json_output.document(result)
    import json

    with phase("json.dumps(indent=2)"):
        text = json.dumps(doc, indent=2, sort_keys=False, ensure_ascii=False, default=str) + "\n"
    with phase("write findings JSON to disk"):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=True) as fh:
            fh.write(text)

    return _table(path, n_lines, findings.height, width)


def _table(path: str, n_lines: int, n_findings: int | None, width: int) -> str:
    total = time.perf_counter() - _T0
    out = [
        f"Profile of `{path}`: {n_lines:,} lines, {n_findings if n_findings is not None else '?'} findings, "
        f"enriched frame {width} columns; "
        f"script total {total:.2f} s, peak RSS {_peak_mb():,.0f} MB",
        "",
        "| phase | s | share of script | RSS after (MB) | peak so far (MB) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, secs, rss, peak in ROWS:
        out.append(f"| {name} | {secs:.3f} | {100 * secs / total:.1f}% | {rss:,.0f} | {peak:,.0f} |")
    return "\n".join(out) + "\n"


_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")


def importtime(small: str) -> str:
    """Heaviest imports (cumulative us) on the path of `scrub check SMALL --json OUT`."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-X", "importtime", "-c",
               "import sys; from scrubber.cli import main; sys.argv = ['scrub'] + sys.argv[1:]; main()",
               "check", small, "--json", str(Path(tmp) / "out.json")]
        started = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - started
    rows = []
    for line in proc.stderr.splitlines():
        m = _LINE.match(line)
        if m:
            rows.append((int(m.group(2)), len(m.group(3)) // 2, m.group(4)))
    top_level = sorted((r for r in rows if r[1] == 0), reverse=True)
    total_us = sum(r[0] for r in top_level)
    out = [f"`scrub check {small} --json OUT` under -X importtime: wall {wall:.2f} s (importtime inflates it), "
           f"exit {proc.returncode}; top-level imports {total_us / 1e6:.2f} s cumulative", "",
           "| top-level import (cumulative) | ms |", "|---|---:|"]
    out += [f"| {name} | {us / 1000:.0f} |" for us, _, name in top_level[:15]]
    heavy = sorted((r for r in rows if r[0] > 20_000), reverse=True)
    out += ["", "| any import > 20 ms (cumulative, nested ones included) | ms |", "|---|---:|"]
    out += [f"| {'  ' * depth}{name} | {us / 1000:.0f} |" for us, depth, name in heavy[:40]]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file", help="claims file (CSV or JSON) to profile; with --importtime, a small CSV")
    ap.add_argument("--importtime", action="store_true", help="import-time profile of `scrub check FILE`")
    ap.add_argument("--out", help="also append the markdown table to this file")
    args = ap.parse_args(argv)
    text = importtime(args.file) if args.importtime else profile(args.file)
    print(text)
    if args.out:
        with open(args.out, "a") as fh:
            fh.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
