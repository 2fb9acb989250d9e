"""Benchmark the scrubber against a bare ``polars.read_csv`` of the same file, in one run.

    python benchmarks/run.py --lines 2000000          # the reference run (~8 min on 2 cores, mostly the JSON scrub)
    python benchmarks/run.py --quick                  # smoke run: 20k lines, 1 repetition
    python benchmarks/run.py --lines 10000000 --json-lines 2000000 --runs 1
    python benchmarks/run.py --src /tmp/snap      # time a snapshot (git checkout-index -a --prefix=/tmp/snap/)

Generates the batch with ``benchmarks/generate.py`` (or reuses it from ``--data-dir`` when the
same lines and seed were generated before), then, for each of ``--runs`` repetitions (default 3),
runs every measurement in its own process, interleaved so that background load hits all of them
alike, and reports medians:

* ``read_csv``: ``polars.read_csv(FILE)`` with its defaults (type inference), timed around the call
  only (the interpreter and ``import polars`` are not counted), and the same read with
  ``infer_schema=False`` (every column as text, which is what the scrubber's CSV loader does); the
  defaults read is also timed process start to exit (``python -c "import polars; ..."``);
* ``scrub CSV``: ``scrub check FILE --json OUT`` (all checks, findings JSON written), process start
  to exit;
* ``scrub JSON``: the same claims as nested JSON (``--json-lines`` caps its size: the JSON loader
  holds the parsed document in Python objects);
* ``scrub 10 claims``: ``scrub check small.csv --json out.json``, process start to exit.

Peak RSS is per measured process (GNU time's ``%M``). The ratio column is the scrub's wall time over the bare
``read_csv`` call; below the table, issue 16's two ratios: process to process (scrub process / read
process) and call only (the scrub's ``--timings`` phases summed / the ``read_csv`` call). The table
goes to stdout and between the results markers of ``--results`` (default ``benchmarks/results.md``;
the analysis around the markers is kept) and ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

# The measured processes get this process's environment as it was before Polars was imported here:
# importing Polars writes its allocator defaults into _RJEM_MALLOC_CONF, and a scrub process that
# inherited them would take them for the user's setting and keep them (scrubber/allocator.py).
CHILD_ENV: dict[str, str] = dict(os.environ)

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402
import polars as pl  # noqa: E402

README = HERE / "README.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"

_READ = """
import sys, time, json
t0 = time.perf_counter()
import polars as pl
t1 = time.perf_counter()
kwargs = {"infer_schema": False} if sys.argv[2] == "text" else {}
df = pl.read_csv(sys.argv[1], **kwargs)
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "call_s": t2 - t1, "rows": df.height}))
"""


@dataclass
class Measure:
    name: str
    lines: int
    claims: int
    walls: list[float] = field(default_factory=list)  # what the table reports (s)
    rss_kb: list[int] = field(default_factory=list)
    note: str = ""

    @property
    def wall(self) -> float:
        return statistics.median(self.walls)

    @property
    def rss(self) -> int:
        return max(self.rss_kb)


CHILD_CWD: str | None = None  # a neutral folder, so '' on sys.path is not the work tree


def run_child(cmd: list[str], ok_codes: tuple[int, ...] = (0,)) -> tuple[float, int, str, str]:
    """Run ``cmd``; return (wall seconds, peak RSS KB of that process, stdout, stderr).

    Peak RSS comes from GNU time (``/usr/bin/time -f %M``), whose own tiny process forks the
    command: the kernel's maxrss of a child forked straight from this (larger) process would
    include this process's own peak. Without GNU time, ``os.wait4`` is used (an upper bound).
    """
    gnu_time = Path("/usr/bin/time")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r", suffix=".rss") as rss_file:
        full = ["/usr/bin/time", "-f", "%M", "-o", rss_file.name, *cmd] if gnu_time.exists() else cmd
        started = time.perf_counter()
        proc = subprocess.Popen(full, stdout=out, stderr=err, env=CHILD_ENV, cwd=CHILD_CWD)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
        rss = usage.ru_maxrss
        if gnu_time.exists():
            reported = [line for line in Path(rss_file.name).read_text().split() if line.isdigit()]
            rss = int(reported[-1]) if reported else rss
    if proc.returncode not in ok_codes:
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}:\n{stderr[-2000:]}")
    return wall, rss, stdout, stderr


def _phases(stderr: str) -> dict[str, float]:
    """The ``--timings`` line of a scrub run: phase -> seconds."""
    for line in stderr.splitlines():
        if line.startswith("timings (s): "):
            pairs = (item.rsplit(" ", 1) for item in line.removeprefix("timings (s): ").split(", "))
            return {name: float(value) for name, value in pairs}
    return {}


def scrub_command(src: str | None = None) -> list[str]:
    """The installed console script (the interpreter's own, not a version-manager shim), or, with
    ``src``, the same entry point run from that source tree (a snapshot, e.g. ``git checkout-index``)."""
    if src:
        CHILD_ENV["PYTHONPATH"] = str(Path(src).resolve())
        return [sys.executable, "-c", "import sys; from scrubber.cli import main; sys.argv[0] = 'scrub'; main()"]
    own = Path(sys.executable).parent / "scrub"
    found = str(own) if own.exists() else shutil.which("scrub")
    if not found:
        raise SystemExit("the `scrub` command is not installed (pip install -e .)")
    return [found]


def source_digest(src: str | None) -> str:
    """Short digest of the scrubber's Python sources measured, so a table names the code it timed."""
    import hashlib

    if src:
        root = Path(src)
    else:
        found = subprocess.run([sys.executable, "-c", "import scrubber, pathlib; print(pathlib.Path("
                                "scrubber.__file__).parent.parent)"], capture_output=True, text=True,
                               env=CHILD_ENV, cwd=CHILD_CWD)
        root = Path(found.stdout.strip())
    digest = hashlib.sha256()
    for path in sorted([*root.glob("scrubber/**/*.py"), *root.glob("checks/*.py")]):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "ram": ram,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "polars": pl.__version__,
    }


def prepare(lines: int, json_lines: int, seed: int, data_dir: Path) -> dict[str, Path | int]:
    data_dir.mkdir(parents=True, exist_ok=True)
    csv_path = data_dir / f"claims_{lines}_{seed}.csv"
    json_path = data_dir / f"claims_{json_lines}_{seed}.json"
    small_path = data_dir / f"claims_10claims_{seed}.csv"
    frame = None
    if not csv_path.exists():
        t = time.perf_counter()
        frame = generate.generate_lines(lines, seed)
        generate.write_csv(frame, csv_path)
        print(f"generated {csv_path} ({frame.height} lines) in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    if json_lines and not json_path.exists():
        t = time.perf_counter()
        jframe = frame if frame is not None and json_lines == lines else generate.generate_lines(json_lines, seed)
        generate.write_json(jframe, json_path)
        print(f"generated {json_path} ({jframe.height} lines) in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        del jframe
    if not small_path.exists():
        small = generate.generate_lines(200, seed)
        first = small.get_column("claim_id").unique(maintain_order=True).head(10)
        generate.write_csv(small.filter(pl.col("claim_id").is_in(first.implode())), small_path)
    del frame
    counts = {}
    for key, path in (("csv", csv_path), ("small", small_path)):
        df = pl.scan_csv(path, infer_schema=False).select(pl.len(), pl.col("claim_id").n_unique()).collect()
        counts[key] = (df.item(0, 0), df.item(0, 1))
    if json_lines:
        counts["json"] = counts["csv"] if json_lines == lines else None
        if counts["json"] is None:
            # Same generator and seed: the JSON batch is the CSV batch of that size.
            frame = generate.generate_lines(json_lines, seed)
            counts["json"] = (frame.height, frame.get_column("claim_id").n_unique())
    return {"csv": csv_path, "json": json_path, "small": small_path, "counts": counts}


def fmt_rate(n: int, seconds: float) -> str:
    rate = n / seconds
    if rate >= 1e6:
        return f"{rate / 1e6:.2f} M"
    return f"{rate / 1e3:.0f} k" if rate >= 1e4 else f"{rate:,.0f}"


def table(measures: list[Measure], read: Measure) -> str:
    rows = [
        "| measurement | lines | claims | wall s (median) | lines/s | claims/s | peak RSS | x bare read |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in measures:
        same_file = m.lines == read.lines
        ratio = "1.00" if m is read else (f"{m.wall / read.wall:.2f}" if same_file else "")
        rows.append(
            f"| {m.name} | {m.lines:,} | {m.claims:,} | {m.wall:.2f} | {fmt_rate(m.lines, m.wall)} | "
            f"{fmt_rate(m.claims, m.wall)} | {m.rss / 1024:,.0f} MB | {ratio} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Scrubber benchmark: scrub vs bare polars.read_csv, medians of runs.")
    ap.add_argument("--lines", type=int, default=2_000_000, help="claim lines in the CSV batch (default 2,000,000)")
    ap.add_argument("--json-lines", type=int, default=None,
                    help="lines in the JSON batch (default: same as --lines up to 2,000,000; 0 skips JSON)")
    ap.add_argument("--runs", type=int, default=3, help="repetitions; the table shows medians (default 3)")
    ap.add_argument("--seed", type=int, default=20260501)
    ap.add_argument("--quick", action="store_true", help="smoke run: 20,000 lines, 1 repetition, no file updates")
    ap.add_argument("--data-dir", default=os.environ.get("SCRUB_BENCH_DIR", "/tmp/scrubber-bench"),
                    help="where batches are generated and reused (default /tmp/scrubber-bench)")
    ap.add_argument("--results", default=str(HERE / "results.md"), help="markdown file for the results")
    ap.add_argument("--no-write", action="store_true", help="print only; do not update results.md / README.md")
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                    help="environment variable for the measured processes (repeatable), e.g. "
                    "POLARS_ENGINE_AFFINITY=in-memory; listed in the results")
    ap.add_argument("--src", help="run the scrubber from this source tree instead of the installed one "
                    "(e.g. a snapshot made with `git checkout-index -a --prefix=DIR/`)")
    args = ap.parse_args(argv)
    if args.quick:
        args.lines, args.runs, args.no_write = 20_000, 1, True
    json_lines = min(args.lines, 2_000_000) if args.json_lines is None else args.json_lines
    data = prepare(args.lines, json_lines, args.seed, Path(args.data_dir))
    counts = data["counts"]
    global CHILD_CWD
    for item in args.env:
        key, _, value = item.partition("=")
        CHILD_ENV[key] = value
    scrub = scrub_command(args.src)
    out_dir = Path(tempfile.mkdtemp(prefix="scrub-bench-out-"))
    CHILD_CWD = str(out_dir)
    code = source_digest(args.src)
    load_before = os.getloadavg()

    read = Measure("`polars.read_csv` (defaults, call only)", *counts["csv"])
    read_process = Measure("`python -c 'import polars; polars.read_csv(...)'` (defaults, process)", *counts["csv"])
    read_text = Measure("`polars.read_csv(infer_schema=False)` (call only)", *counts["csv"])
    scrub_csv = Measure("`scrub check` CSV, findings JSON written (process)", *counts["csv"])
    scrub_json = Measure("`scrub check` nested JSON, findings JSON written (process)", *counts["json"]) \
        if json_lines else None
    small = Measure("`scrub check` 10 claims, end to end (process)", *counts["small"])
    findings: dict[str, int] = {}
    phases: list[dict[str, float]] = []
    for i in range(args.runs):
        for mode, m in (("infer", read), ("text", read_text)):
            wall, rss, out, _ = run_child([sys.executable, "-c", _READ, str(data["csv"]), mode])
            m.walls.append(json.loads(out)["call_s"])
            m.rss_kb.append(rss)
            if m is read:  # the same read, process start to exit: what a scrub process is compared with
                read_process.walls.append(wall)
                read_process.rss_kb.append(rss)
        for m, path in ((scrub_csv, data["csv"]), (scrub_json, data["json"]), (small, data["small"])):
            if m is None:
                continue
            target = out_dir / f"{Path(path).name}.findings.json"
            cmd = [*scrub, "check", str(path), "--json", str(target), "--timings"]
            wall, rss, _, err = run_child(cmd, ok_codes=(0, 1))
            if m is scrub_csv:
                phases.append(_phases(err))
            if not target.exists():
                raise SystemExit(f"{' '.join(cmd)} wrote no findings JSON")
            m.walls.append(wall)
            m.rss_kb.append(rss)
            if i == 0:
                label = {id(scrub_csv): "CSV", id(scrub_json): "JSON", id(small): "10 claims"}[id(m)]
                findings[label] = json.loads(target.read_text())["summary"]["findings"]
        print(f"run {i + 1}/{args.runs}: read {read.walls[-1]:.2f} s, scrub CSV {scrub_csv.walls[-1]:.2f} s"
              + (f", scrub JSON {scrub_json.walls[-1]:.2f} s" if scrub_json else "")
              + f", 10 claims {small.walls[-1]:.2f} s", file=sys.stderr)
    load_after = os.getloadavg()
    shutil.rmtree(out_dir, ignore_errors=True)

    measures = [read, read_text, read_process, scrub_csv, *([scrub_json] if scrub_json else []), small]
    info = machine()
    csv_mb = Path(data["csv"]).stat().st_size / 1e6
    lines_out = [
        f"## Benchmark, {dt.date.today().isoformat()}",
        "",
        f"Command: `python benchmarks/run.py --lines {args.lines}"
        + (f" --json-lines {json_lines}" if json_lines != min(args.lines, 2_000_000) else "")
        + (f" --runs {args.runs}" if args.runs != 3 else "")
        + "".join(f" --env {e}" for e in args.env) + (f" --src {args.src}" if args.src else "") + "`"
        + f" (seed {args.seed}; CSV {csv_mb:,.0f} MB; medians of {args.runs} run(s))",
        "",
        table(measures, read),
        "",
        f"- scrub CSV / bare read, **process to process** (both include interpreter start, imports and "
        f"exit): **{scrub_csv.wall / read_process.wall:.2f}x** ({scrub_csv.wall:.2f} s / {read_process.wall:.2f} s)",
    ]
    call = statistics.median(sum(p.values()) for p in phases) if phases and phases[0] else None
    if call:
        lines_out.append(
            f"- call only (the scrub's `--timings` phases summed, {call:.2f} s, / the `read_csv` call, "
            f"{read.wall:.2f} s): **{call / read.wall:.2f}x**")
    lines_out.append(
        f"- scrub process / `read_csv` call (the ratio of the table's last column): {scrub_csv.wall / read.wall:.2f}x; "
        f"/ `read_csv(infer_schema=False)` call: {scrub_csv.wall / read_text.wall:.2f}x")
    if scrub_json:
        same = scrub_json.lines == scrub_csv.lines
        share = (scrub_json.lines / scrub_json.wall) / (scrub_csv.lines / scrub_csv.wall)
        lines_out.append(
            f"- JSON input throughput / CSV input throughput: **{share:.2f}**"
            + ("" if same else f" (JSON batch {scrub_json.lines:,} lines, CSV batch {scrub_csv.lines:,} lines)")
        )
    if phases and phases[0]:
        split = {k: statistics.median(p.get(k, 0.0) for p in phases) for k in phases[0]}
        lines_out.append("- where the CSV scrub's time goes (`--timings`, medians, s): "
                         + ", ".join(f"{k} {v:.2f}" for k, v in split.items())
                         + "; the rest of the wall time is interpreter start, imports and exit")
    lines_out += [
        "- findings written: " + ", ".join(f"{k}: {v:,}" for k, v in findings.items()),
        f"- environment of the measured processes: {', '.join(args.env) if args.env else 'unchanged'}",
        f"- scrubber source: {args.src or 'installed (editable) work tree'}, scrubber/ + checks/ *.py sha256 "
        f"{code}",
        f"- machine: {info['cpu']}, {info['cores']} cores, {info['ram']} RAM, {info['os']}; "
        f"Python {info['python']}, Polars {info['polars']}",
        f"- load average (1 min) before / after: {load_before[0]:.2f} / {load_after[0]:.2f} "
        "(other processes on the machine slow every measurement alike)",
        "",
    ]
    text = "\n".join(lines_out)
    print(text)
    if not args.no_write:
        for target in (Path(args.results), README):
            _replace_block(target, text)
    return 0


def _replace_block(path: Path, text: str) -> None:
    """Put ``text`` between the results markers of ``path`` (notes around them are kept)."""
    old = path.read_text() if path.exists() else ""
    if START in old and END in old:
        head, rest = old.split(START, 1)
        _, tail = rest.split(END, 1)
        path.write_text(f"{head}{START}\n{text}\n{END}{tail}")
    elif path != README:
        path.write_text(f"{START}\n{text}\n{END}\n")


if __name__ == "__main__":
    raise SystemExit(main())
