"""The Spark engine against the local engine on the same batch: lines/s on local[1] and local[2].

    python benchmarks/spark.py --lines 2000000                 # the reference run (CSV and Parquet)
    python benchmarks/spark.py --lines 200000 --formats csv    # a quicker look
    python benchmarks/spark.py --lines 2000000 --no-write      # print only

Generates the batch with ``benchmarks/generate.py`` (or reuses it from ``--data-dir``, as ``run.py``
does) and a Parquet copy of it (typed columns, as a lakehouse holds them). Then, each in its own
process, ``--runs`` times, interleaved:

* ``scrub check FILE --json OUT --timings`` (the local engine);
* ``scrub check FILE --engine spark --spark-master local[N] --json OUT --timings`` for each master.

Reported: process wall time (interpreter, JVM start and exit included) and the Spark job alone (the
engine's phases: pre-pass, then partition + check + collect), lines/s on each, and whether the
findings JSON is byte-identical to the local engine's. With ``--stages``, one more in-process run per
master splits the job: Spark's read alone (``count``), the pre-pass, the read + shuffle alone (the
repartitioned rows written to Spark's ``noop`` sink), and the whole scrub: where the shuffle costs.
The table goes to stdout and between the spark markers of ``benchmarks/results.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import polars as pl  # noqa: E402
import run as bench  # noqa: E402  (run.py: child processes, machine facts, the generated batch)

START, END = "<!-- spark:start -->", "<!-- spark:end -->"


def parquet_copy(csv_path: Path) -> Path:
    """The CSV batch as typed Parquet (dates, timestamps, doubles, a list of modifiers)."""
    out = csv_path.with_suffix(".parquet")
    if out.exists():
        return out
    text = pl.scan_csv(csv_path, infer_schema=False)
    mods = [c for c in text.collect_schema().names() if c.startswith("modifier_")]
    text.with_columns(
        pl.col("line_number").cast(pl.Int32),
        pl.col("units", "charge", "drug_dose_mg", "drug_wasted_mg").cast(pl.Float64),
        pl.col("observation_minutes", "sites").cast(pl.Int64),
        pl.col("date_of_service").str.to_date(),
        pl.col("infusion_start", "infusion_stop").str.to_datetime(),
        pl.concat_list(mods).list.drop_nulls().alias("modifiers"),
    ).drop(mods).sink_parquet(out)
    return out


def measure(path: Path, engine: str, out: Path) -> tuple[float, dict[str, float]]:
    cmd = [*bench.scrub_command(str(HERE.parent)), "check", str(path), "--json", str(out), "--timings"]
    if engine != "local":
        cmd += ["--engine", "spark", "--spark-master", engine]
    wall, _, _, stderr = bench.run_child(cmd, ok_codes=(0, 1))
    return wall, bench._phases(stderr)


def stages(path: Path, master: str) -> dict[str, float]:
    """One in-process run split into Spark jobs (see the module docstring)."""
    # This source tree, in this process and in the Spark workers it starts (as the measured processes).
    sys.path.insert(0, str(HERE.parent))
    os.environ["PYTHONPATH"] = str(HERE.parent)
    from pyspark.sql import functions as F

    from scrubber import spark as engine

    session = engine.session(master)
    try:
        fmt = "parquet" if path.suffix == ".parquet" else "csv"
        out: dict[str, float] = {}
        t = time.perf_counter()
        frame, spec = engine._read(session, path, fmt)
        frame.count()
        out["read (count)"] = time.perf_counter() - t
        run = engine._Run(session, (), None, None)
        t = time.perf_counter()
        all_rows, kept = engine._numbered(frame, 0)
        engine._prepass([all_rows])
        out["pre-pass"] = time.perf_counter() - t
        t = time.perf_counter()
        kept.repartition(F.col("member_id")).write.format("noop").mode("overwrite").save()
        out["read + shuffle"] = time.perf_counter() - t
        t = time.perf_counter()
        plan = run.plan([(frame, spec)], provenance_columns=False, report_lines=False, partitions=None)
        engine.SparkScrub(plan, run.checks, run.policies).collect()
        out["whole scrub (pre-pass + shuffle + Polars + collect)"] = time.perf_counter() - t
        return out
    finally:
        session.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Spark engine vs local engine, lines/s.")
    ap.add_argument("--lines", type=int, default=2_000_000)
    ap.add_argument("--seed", type=int, default=20260501)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--masters", default="local[1],local[2]")
    ap.add_argument("--formats", default="csv,parquet")
    ap.add_argument("--data-dir", default=str(Path(tempfile.gettempdir()) / "scrubber-bench"))
    ap.add_argument("--stages", action="store_true", help="also split one in-process run into Spark jobs")
    ap.add_argument("--no-write", action="store_true", help="print only; leave results.md alone")
    args = ap.parse_args(argv)

    data = bench.prepare(args.lines, 0, args.seed, Path(args.data_dir))
    lines, claims = data["counts"]["csv"]
    inputs = {"csv": Path(data["csv"]), "parquet": parquet_copy(Path(data["csv"]))}
    masters = args.masters.split(",")
    load_before = os.getloadavg()
    rows: list[str] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in args.formats.split(","):
            path = inputs[fmt]
            walls: dict[str, list[float]] = {}
            phases: dict[str, list[dict[str, float]]] = {}
            outputs: dict[str, Path] = {}
            for _ in range(args.runs):
                for engine in ["local", *masters]:
                    out = Path(tmp) / f"{fmt}-{engine}.json"
                    wall, ph = measure(path, engine, out)
                    walls.setdefault(engine, []).append(wall)
                    phases.setdefault(engine, []).append(ph)
                    outputs[engine] = out
            reference = outputs["local"].read_bytes()
            for engine in ["local", *masters]:
                wall = statistics.median(walls[engine])
                ph = {k: statistics.median(p[k] for p in phases[engine]) for k in phases[engine][0]}
                job = sum(v for k, v in ph.items() if k.startswith(("open inputs + pre-pass", "partition")))
                same = "(reference)" if engine == "local" else (
                    "yes" if outputs[engine].read_bytes() == reference else "**no**")
                job_cell = f"{job:.1f}" if engine != "local" else ""
                job_rate = bench.fmt_rate(lines, job) if engine != "local" else ""
                name = "local engine" if engine == "local" else f"Spark `{engine}`"
                rows.append(f"| {fmt} | {name} | {wall:.1f} | {bench.fmt_rate(lines, wall)} | {job_cell} | "
                            f"{job_rate} | {same} |")
                notes.append(f"- {fmt}, {name}: " + ", ".join(f"{k} {v:.1f}" for k, v in ph.items()))
    split = []
    if args.stages:
        for fmt in args.formats.split(","):
            for master in masters:
                got = stages(inputs[fmt], master)
                split.append(f"- {fmt}, `{master}`: " + ", ".join(f"{k} {v:.1f} s" for k, v in got.items()))
    info = bench.machine()
    load_after = os.getloadavg()
    text = "\n".join([
        f"## Spark engine, {dt.date.today().isoformat()}",
        "",
        f"Command: `python benchmarks/spark.py --lines {args.lines} --runs {args.runs} --masters {args.masters} "
        f"--formats {args.formats}{' --stages' if args.stages else ''}` ({lines:,} lines, {claims:,} claims; "
        f"medians of {args.runs} run(s))",
        "",
        "| input | engine | process wall s | lines/s (process) | Spark job s | lines/s (job) | same findings JSON |",
        "|---|---|---:|---:|---:|---:|---|",
        *rows,
        "",
        "Phases (`--timings`, s):",
        *notes,
        *(["", "One in-process run split into Spark jobs (each reads the input again):", *split] if split else []),
        "",
        f"- machine: {info['cpu']}, {info['cores']} cores, {info['ram']} RAM; Python {info['python']}, "
        f"Polars {info['polars']}",
        f"- load average (1 min) before / after: {load_before[0]:.2f} / {load_after[0]:.2f}",
        "",
    ])
    print(text)
    if not args.no_write:
        results = HERE / "results.md"
        old = results.read_text()
        if START in old and END in old:
            head, rest = old.split(START, 1)
            _, tail = rest.split(END, 1)
            results.write_text(f"{head}{START}\n{text}\n{END}{tail}")
        else:
            results.write_text(f"{old.rstrip()}\n\n{START}\n{text}\n{END}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
