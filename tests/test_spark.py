"""The Spark engine (issue 14) and the Parquet loader both engines share.

Two halves. The first needs no Spark: Parquet read by the local engine, the additive summary parts,
a member's findings not depending on other members (what makes partitioning exact), the Arrow
types a partition returns, the one-line errors, and that a local run never loads pyspark. The second
runs Spark ``local[2]`` with several shuffle partitions and small read splits, and holds the two
engines to the same findings (every field), rejected rows and summary: on the sample batch, through
the DataFrame API, on CSV layouts Spark's reader sees otherwise, on a 50k-claim batch whose
encounters, claims and copies are split across three files, and through the command line on Parquet.
It is skipped, with the reason, where pyspark or Java 17 is missing.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from conftest import ROOT

from scrubber.engine import (
    FINDINGS_SCHEMA,
    add_summary_parts,
    check_batches,
    scrub,
    select_checks,
    summary_from_parts,
    summary_parts,
)
from scrubber.loaders import load_inputs
from scrubber.policy import PolicySet

SAMPLE = ROOT / "sample_claims" / "claims.csv"
_TEXT_COLUMNS_OF_SAMPLE = ("claim_id", "member_id", "payer", "claim_type", "place_of_service", "procedure_code",
                           "diagnosis_1", "diagnosis_2", "ndc", "route")


def _cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scrubber.cli", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=900, check=False)


def typed_parquet(csv_path: Path, out: Path, row_group_size: int | None = None) -> Path:
    """The claims of a CSV as a lakehouse table holds them: dates, timestamps, numbers, a list of modifiers."""
    text = pl.read_csv(csv_path, infer_schema=False)
    mods = [c for c in text.columns if c.startswith("modifier_")]
    typed = text.with_columns(
        pl.col("line_number").cast(pl.Int32),
        pl.col("units", "charge", "drug_dose_mg", "drug_wasted_mg").cast(pl.Float64),
        pl.col("observation_minutes", "sites").cast(pl.Int64),
        pl.col("date_of_service").str.to_date(),
        pl.col("infusion_start", "infusion_stop").str.to_datetime(),
        pl.concat_list(mods).list.drop_nulls().alias("modifiers"),
    ).drop(mods)
    typed.write_parquet(out, row_group_size=row_group_size)
    return out


# --------------------------------------------------------------------------- without Spark


def test_parquet_reads_as_the_csv_of_the_same_claims(tmp_path: Path) -> None:
    parquet = typed_parquet(SAMPLE, tmp_path / "claims.parquet")
    from_csv, from_parquet = scrub([str(SAMPLE)]), scrub([str(parquet)])
    assert from_parquet.findings.height == from_csv.findings.height > 0
    same = [c for c in FINDINGS_SCHEMA if c not in ("source", "source_location")]
    assert from_parquet.findings.select(same).equals(from_csv.findings.select(same))
    assert from_parquet.summary == from_csv.summary
    # Rows count from 1 in Parquet (no header row): CSV row N is Parquet row N - 1.
    csv_rows = from_csv.findings.get_column("source_location").str.extract(r"row (\d+)").cast(pl.Int64)
    parquet_rows = from_parquet.findings.get_column("source_location").str.extract(r"row (\d+)").cast(pl.Int64)
    assert (csv_rows - 1).equals(parquet_rows)
    assert set(from_parquet.findings.get_column("source")) == {str(parquet)}


def test_parquet_blank_rows_are_skipped_and_keep_their_number(tmp_path: Path) -> None:
    rows = {
        "Claim ID": ["C1", None, "C2", "C3"],  # header spellings are read as a CSV header's
        "line_number": [1, None, 1, 1],
        "member_id": ["M1", " ", "M2", "M3"],
        "payer": ["MEDICARE", None, "AETNA", "AETNA"],
        "date_of_service": [dt.date(2026, 3, 2), None, dt.date(2026, 3, 2), dt.date(2026, 3, 2)],
        "procedure_code": ["96365", None, "96365", "96365"],
        "units": [1.0, None, -1.0, 1.0],
        "diagnoses": [["D80.0"], [], ["D80.0", "G61.81"], None],
    }
    path = tmp_path / "lake.parquet"
    pl.DataFrame(rows).write_parquet(path)
    result = scrub([str(path)])
    assert result.summary["rows_read"] == 3  # the all-blank row 2 is not a claim line
    assert result.rejected.select("row", "claim_id").rows() == [(3, "C2")]
    assert "units must be greater than 0" in result.rejected.item(0, "reason")
    dx = result.lines.sort("claim_id").get_column("diagnoses").to_list()
    assert dx == [["D800"], []]


def test_parquet_timestamps_with_a_zone_are_read_as_their_wall_clock(tmp_path: Path) -> None:
    from scrubber.loaders.parquet_loader import raw_from_typed

    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    frame = pl.DataFrame({"claim_id": ["C1"], "infusion_start": [start]}).with_columns(
        pl.col("infusion_start").dt.convert_time_zone("America/New_York"))
    assert raw_from_typed(frame, "x", 0).item(0, "infusion_start") == "2026-03-02T04:00:00"
    # The Spark engine passes the session's zone: Spark reads a zoned timestamp as an instant.
    assert raw_from_typed(frame, "x", 0, time_zone="UTC").item(0, "infusion_start") == "2026-03-02T09:00:00"


def test_a_date_column_stored_as_a_timestamp_reads_as_its_date(tmp_path: Path) -> None:
    """pandas writes a date column as a timestamp: at midnight it is the date (every row was rejected);
    with a time of day it is written in full and rejected as the same text in a CSV would be."""
    from scrubber.loaders.parquet_loader import raw_from_typed

    days = [dt.datetime(2026, 3, 2), dt.datetime(2026, 3, 2, 9, 30)]
    frame = pl.DataFrame({"claim_id": ["C1", "C2"], "date_of_service": days})
    assert raw_from_typed(frame, "x", 0).get_column("date_of_service").to_list() == ["2026-03-02",
                                                                                      "2026-03-02T09:30:00"]
    parquet = typed_parquet(SAMPLE, tmp_path / "claims.parquet")
    stamped = tmp_path / "stamped.parquet"
    pl.read_parquet(parquet).with_columns(pl.col("date_of_service").cast(pl.Datetime("ns"))).write_parquet(stamped)
    same = [c for c in FINDINGS_SCHEMA if c not in ("source", "source_location")]
    dated, timed = scrub([str(parquet)]), scrub([str(stamped)])
    assert timed.summary == dated.summary and timed.summary["rejected_rows"] == 0
    assert timed.findings.select(same).equals(dated.findings.select(same))


@pytest.mark.parametrize(("content", "expected"), [
    ("missing", "missing required column(s): payer"),
    ("corrupt", "unreadable Parquet file"),
])
def test_parquet_file_problems_are_one_line_exit_2(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "bad.parquet"
    if content == "missing":
        pl.DataFrame({"claim_id": ["C1"], "line_number": [1], "member_id": ["M1"], "date_of_service": ["2026-03-02"],
                      "procedure_code": ["96365"], "units": [1]}).write_parquet(path)
    else:
        path.write_bytes(b"PAR1" + b"\x00" * 64)
    proc = _cli("check", str(path))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and expected in proc.stderr and "Traceback" not in proc.stderr


def test_a_local_run_never_imports_pyspark(tmp_path: Path) -> None:
    parquet = typed_parquet(SAMPLE, tmp_path / "claims.parquet")
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from scrubber.cli import main\n"
        f"for path in ({str(SAMPLE)!r}, {str(parquet)!r}):\n"
        "    result = CliRunner().invoke(main, ['check', path, '--json', '-'])\n"
        "    assert result.exit_code == 1, result.output\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pyspark', 'py4j')))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def _member_halves(raw: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    first = raw.get_column("member_id").str.strip_chars().unique().sort().head(7)
    mine = raw.get_column("member_id").str.strip_chars().is_in(first.implode())
    return raw.filter(mine), raw.filter(~mine)


def test_summary_parts_of_disjoint_members_add_up_to_the_whole_run() -> None:
    """What the Spark engine does with its partitions, on the sample: two runs over disjoint members."""
    policies, checks = PolicySet.load(()), select_checks(None, None)
    raw = load_inputs([str(SAMPLE)]).collect()
    whole = scrub([str(SAMPLE)]).summary
    parts = []
    for half in _member_halves(raw):
        checked = check_batches(half, policies, checks)
        assert checked.findings.height > 0  # both halves matter
        parts.append(summary_parts(checked.enriched, checked.findings, checked.canon.rejected, checks,
                                   checked.unevaluated))
    added = summary_from_parts(functools.reduce(add_summary_parts, parts), raw.height, checks, 0)
    assert {**added, "input_warnings": 0} == whole


CONTIGUITY_A = """claim_id,line_number,member_id,payer,date_of_service,procedure_code,units,charge,diagnosis_1
X1,1,MX,MEDICARE,2026-03-02,96365,1,100,D80.0
ZZ9,1,MB,AETNA,2026-03-02,96365,1,100,D80.0
ZZ9,2,MB,AETNA,2026-03-02,96375,1,100,D80.0
"""
CONTIGUITY_B = """claim_id,line_number,member_id,payer,date_of_service,procedure_code,units,charge,diagnosis_1
X1,2,MX,MEDICARE,2026-03-02,96366,1,100,D80.0
AA1,1,MB,MEDICARE,2026-03-02,96365,1,100,D80.0
AA1,2,MB,MEDICARE,2026-03-02,96375,1,100,D80.0
AA2,1,MB,MEDICARE,2026-03-02,96365,1,100,D80.0
"""


def test_a_members_findings_do_not_depend_on_another_members_claim_being_split(tmp_path: Path) -> None:
    """Member MB's claims ZZ9 (AETNA) and AA1 (MEDICARE) bill the same services: AA1 is the copy sent to
    the next payer, ZZ9 coming first in the input. Member MX's claim X1 is split over the two files,
    which makes the engine order claims by hash; the first payer must still be ZZ9's, as when MB's
    lines are scrubbed alone (a Spark partition holding MB but not MX): AA2, MEDICARE's primary claim
    the same day, then shares ZZ9's encounter and repeats its initial service."""
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text(CONTIGUITY_A)
    b.write_text(CONTIGUITY_B)
    raw = load_inputs([str(a), str(b)]).collect()
    alone = check_batches(raw.filter(pl.col("member_id") == "MB"), PolicySet.load(()), select_checks(None, None))
    together = scrub([str(a), str(b)])
    mb = together.findings.filter(pl.col("member_id") == "MB")
    assert mb.select("claim_id", "line_number", "check_id").rows() == [("ZZ9", 1, "duplicate-initial-infusion")]
    assert mb.equals(alone.findings)
    assert together.lines.filter(pl.col("claim_id") == "AA1").get_column("copy_of").unique().to_list() == ["ZZ9"]


def test_a_partition_returns_exactly_the_declared_arrow_types() -> None:
    pa = pytest.importorskip("pyarrow")
    from scrubber.spark_partition import (
        FILE,
        InputFile,
        PartitionPlan,
        arrow_type,
        output_schema,
        partition_outputs,
    )

    raw = load_inputs([str(SAMPLE)]).collect()
    text = pl.read_csv(SAMPLE, infer_schema=False)
    ids = pl.int_range(pl.len(), dtype=pl.Int64)
    frame = text.with_columns(pl.lit(0).alias(FILE), ids.alias("_scrub_all"), ids.alias("_scrub_kept"))
    plan = PartitionPlan(policies=PolicySet.load(()), select=None, ignore=None,
                         inputs=(InputFile(str(SAMPLE), first_source_row=2),), offsets={(0, 0): (0, 0)},
                         report_lines=True)
    out = partition_outputs(plan, frame)
    from scrubber.spark_partition import arrow_batches

    batches = list(arrow_batches(out))
    declared = pa.schema([pa.field(n, arrow_type(t)) for n, t in output_schema().items()])
    assert all(b.schema == declared for b in batches)
    assert declared.field("claim_id").type == pa.string() and declared.field("date_of_service").type == pa.date32()
    local = scrub([str(SAMPLE)])
    findings = out.filter(pl.col("_kind") == "finding").select(list(FINDINGS_SCHEMA))
    assert findings.equals(local.findings)
    assert raw.height == json.loads(out.filter(pl.col("_kind") == "parts").item(0, "_parts"))["rows_read"]


def test_missing_java_is_one_line_and_exit_2(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("JAVA_HOME", "SPARK_HOME")}
    env["PATH"] = str(Path(sys.executable).parent)  # python, and no java
    proc = _cli("check", str(SAMPLE), "--engine", "spark", env=env)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert ("needs Java 17" in proc.stderr) or ("pip install 'scrubber[spark]'" in proc.stderr)


@pytest.mark.parametrize(("args", "expected"), [
    (("--engine", "spark", "--records", str(ROOT / "sample_claims" / "records.csv")), "--records not supported"),
    (("--spark-master", "local[2]"), "--spark-master applies to --engine spark only"),
    (("--engine", "spark", str(ROOT / "sample_claims" / "claims.837")), "reads CSV and Parquet"),
])
def test_spark_options_are_refused_where_they_do_not_apply(args: tuple[str, ...], expected: str) -> None:
    proc = _cli("check", str(SAMPLE), *args)
    assert proc.returncode == 2 and expected in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr


def test_suppressions_of_a_config_file_are_named_as_such_on_spark() -> None:
    """The bundled sample folder's scrubber.toml names suppressions: on Spark the refusal named the
    --suppressions option, which the user never gave, and not the way out."""
    proc = _cli("check", "claims.csv", "--engine", "spark", cwd=ROOT / "sample_claims")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert f"suppressions (from {ROOT / 'sample_claims' / 'scrubber.toml'}; --no-config leaves them out) not " \
           "supported with --engine spark" in proc.stderr


# --------------------------------------------------------------------------- Spark local[2]


@pytest.fixture(scope="module")
def spark():
    from scrubber.spark import java_problem, pyspark_problem

    problem = pyspark_problem() or java_problem()
    if problem:
        pytest.skip(f"Spark parity tests need pyspark and Java 17+: {problem}")
    from scrubber.spark import session

    spark = session("local[2]")
    # Several shuffle partitions (no coalescing) and small read splits, so that members, claims and the
    # row numbering really are spread over partitions even on small test batches.
    for key, value in {"spark.sql.shuffle.partitions": "8", "spark.sql.adaptive.coalescePartitions.enabled": "false",
                       "spark.sql.files.maxPartitionBytes": "512k", "spark.sql.files.openCostInBytes": "0"}.items():
        spark.conf.set(key, value)
    yield spark
    spark.stop()


def _same_result(spark_result, local_result) -> None:
    assert spark_result.findings.equals(local_result.findings)
    assert spark_result.rejected.equals(local_result.rejected)
    assert spark_result.summary == local_result.summary


def test_executors_get_the_allocator_setting(spark) -> None:
    """The executors' Python workers run Polars too: the session the command line starts passes them
    this process's allocator setting (scrubber.allocator), and a worker sees it."""
    from scrubber.allocator import VARIABLE

    assert spark.sparkContext.getConf().get(f"spark.executorEnv.{VARIABLE}") == os.environ[VARIABLE]
    seen = spark.sparkContext.parallelize([0], 1).map(lambda _: __import__("os").environ.get(VARIABLE)).collect()
    assert seen == [os.environ[VARIABLE]]


def test_sample_batch_gives_byte_identical_json_and_the_same_report(spark, tmp_path: Path) -> None:
    from scrubber.output.html_report import build_context
    from scrubber.output.json_output import render_json
    from scrubber.spark import scrub_files

    parquet = typed_parquet(SAMPLE, tmp_path / "claims.parquet", row_group_size=16)
    for path in (SAMPLE, parquet):
        local = scrub([str(path)])
        distributed = scrub_files([str(path)], spark=spark, report_lines=True, partitions=8)
        assert distributed.findings.height == local.findings.height > 0
        _same_result(distributed, local)
        assert render_json(distributed) == render_json(local)
        contexts = [build_context(r) for r in (distributed, local)]
        for c in contexts:
            for volatile in ("timings", "run_seconds", "provenance"):
                c.pop(volatile)
        assert json.dumps(contexts[0], sort_keys=True, default=str) == json.dumps(contexts[1], sort_keys=True,
                                                                                  default=str)


def test_the_dataframe_api_matches_a_local_run(spark, tmp_path: Path) -> None:
    from scrubber.spark import scrub as spark_scrub

    parquet = typed_parquet(SAMPLE, tmp_path / "claims.parquet")
    local = scrub([str(parquet)], select=None, ignore=["over-cap-96371"])
    result = spark_scrub(spark.read.parquet(str(parquet)), ignore=["over-cap-96371"], source=str(parquet),
                         partitions=8)
    findings, rejected = result
    assert [f.name for f in findings.schema.fields] == list(FINDINGS_SCHEMA)
    assert findings.schema["date_of_service"].dataType.simpleString() == "date"
    collected = pl.from_arrow(findings.toArrow()).cast(FINDINGS_SCHEMA)
    collected = collected.sort("claim_id", "line_number", "check_id", "reason", "message", "row_id", nulls_last=True)
    expected = local.findings.sort("claim_id", "line_number", "check_id", "reason", "message", "row_id",
                                   nulls_last=True)
    assert collected.equals(expected)
    assert "over-cap-96371" not in set(collected.get_column("check_id"))
    assert rejected.count() == local.rejected.height
    assert result.summary() == local.summary
    result.unpersist()


def test_a_text_modifiers_column_is_a_named_error_on_spark_as_locally(spark, tmp_path: Path) -> None:
    """Probe 22B: a text ``modifiers`` column ("JZ") was read as no modifiers, a false missing-modifier;
    the local Parquet reader and the DataFrame API now both refuse it, naming the column. Near miss: a
    list column of codes is read (test_the_dataframe_api_matches_a_local_run reads numbered columns)."""
    from scrubber.errors import InputError
    from scrubber.spark import scrub as spark_scrub

    frame = pl.read_csv(SAMPLE, infer_schema=False).head(3).with_columns(pl.lit("JZ").alias("modifiers"))
    path = tmp_path / "text_modifiers.parquet"
    frame.write_parquet(path)
    with pytest.raises(InputError, match="column modifiers holds string; expected a list of codes"):
        spark_scrub(spark.read.parquet(str(path)), source=str(path))
    listed = tmp_path / "list_modifiers.parquet"
    frame.with_columns(pl.lit(["JZ"]).alias("modifiers")).write_parquet(listed)
    result = spark_scrub(spark.read.parquet(str(listed)), source=str(listed))
    assert result.summary()["rows_read"] == 3
    result.unpersist()


CSV_LAYOUTS = (
    "\ufeffclaim_id,line_number,member_id,payer,date_of_service,procedure_code,units,charge,diagnosis_1,notes\r\n"
    'C1,1,M1,MEDICARE,2026-03-02,96365,1,300,D80.0,"first line\r\nsecond line"\r\n'
    "C1,2,M1,MEDICARE,2026-03-02,96366,1,200,D80.0,\r\n"
    "C2,1,M2,AETNA,2026-03-02,96365,1,300,D80.0,ok,extra,cells\r\n"
    "C3,1,M3,AETNA,2026-03-02,96366,1\r\n"
    ",,,,,,,,,\r\n"
    "C4,1, M4 ,AETNA,2026-03-02,96365,1,300,D80.0,\r\n"
    "C4,2,M4,AETNA,2026-03-02,96365,1,300,D80.0,\r\n"
    "C5,1,M5,AETNA,2026-03-02,96366,2,300,D80.0,\r\n"
)


def test_csv_layouts_spark_reads_otherwise_give_the_same_result(spark, tmp_path: Path) -> None:
    """BOM, CRLF, a quoted line break, a ragged row, a short row, a row of commas, a member id with spaces."""
    from scrubber.spark import scrub_files

    path = tmp_path / "layouts.csv"
    path.write_bytes(CSV_LAYOUTS.encode("utf-8"))
    local = scrub([str(path)])
    assert local.rejected.height == 1 and "row has 12 cells" in local.rejected.item(0, "reason")
    _same_result(scrub_files([str(path)], spark=spark, partitions=8), local)


def test_a_row_holding_a_nul_byte_is_rejected_on_spark_as_locally(spark, tmp_path: Path) -> None:
    """Probe 21B D3: Spark read a row holding a NUL and checked it (8 findings against 6), where the
    local reader rejects it ("binary data inside a text file"); a ragged row beside it keeps its own
    reason. Near miss: the same file without the NUL rejects only the ragged row on both."""
    from scrubber.spark import scrub_files

    rows = ("claim_id,line_number,member_id,payer,date_of_service,procedure_code,units,charge,diagnosis_1\n"
            "C1,1,M1,AETNA,2026-03-02,96366,1,200,D80.0\n"
            "C2,1,M2,AETNA,2026-03-02,96366,1,200,D80.0{nul}\n"
            "C3,1,M3,AETNA,2026-03-02,96366,1,200,D80.0,extra\n")
    for nul, rejected in (("\x00", 2), ("", 1)):
        path = tmp_path / f"nul{len(nul)}.csv"
        path.write_bytes(rows.format(nul=nul).encode("utf-8"))
        local = scrub([str(path)])
        assert local.rejected.height == rejected
        _same_result(scrub_files([str(path)], spark=spark, partitions=8), local)


def test_a_file_name_is_never_a_pattern_on_spark(spark, tmp_path: Path) -> None:
    """Hadoop reads [ ] * ? { } in a path as a glob: claims[1].csv read claims1.csv. Names are literal."""
    from scrubber.spark import scrub_files

    (tmp_path / "claims1.csv").write_text(SAMPLE.read_text().splitlines()[0] + "\n", encoding="utf-8")
    for name in ("claims[1].csv", "claims{1}.csv"):
        path = tmp_path / name
        path.write_bytes(SAMPLE.read_bytes())
        local = scrub([str(path)])
        assert local.summary["rows_read"] == 194
        _same_result(scrub_files([str(path)], spark=spark, partitions=8), local)
    parquet = typed_parquet(SAMPLE, tmp_path / "claims[2].parquet")
    (tmp_path / "claims2.parquet").write_bytes(b"")
    _same_result(scrub_files([str(parquet)], spark=spark, partitions=8), scrub([str(parquet)]))


def _generator():
    spec = importlib.util.spec_from_file_location("scrubber_bench_generate", ROOT / "benchmarks" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def cross_file_batch(folder: Path, lines: int = 170_000, seed: int = 14) -> list[Path]:
    """About 50,000 claims of ``benchmarks/generate.py`` made to cross partitions and files.

    * 5% of multi-line claims split in two claims of one encounter (same member, date), the second
      claim in another file;
    * 2% sent again to another payer without a payer sequence (next-payer copies), in another file;
      1% billed twice to the same payer (a repeated initial service across claims);
    * 1% of claims with their lines spread over two files (claims not contiguous in the input);
    * claims whose lines name two members, leave the member out, or spell it with spaces; a
      repeated line number in another file; missing units;
    * two CSV files and a Parquet file with small row groups.
    """
    gen = _generator()
    frame = gen.generate_lines(lines, seed=seed)
    cols = list(gen.CSV_COLUMNS)
    frame = frame.with_columns(pl.col("_claim").cast(pl.Int64), pl.lit(0).alias("_part"))
    h = (pl.col("_claim") * 2654435761) % 1000  # a fixed draw per claim
    odd = pl.col("line_number") % 2 == 1
    split = (h < 50) & (pl.len().over("_claim") > 1) & odd
    frame = frame.with_columns(
        pl.when(split).then(pl.col("claim_id") + "S").otherwise(pl.col("claim_id")).alias("claim_id"),
        pl.when(split).then(1).otherwise(0).alias("_part"),
    )
    copies = frame.filter((h >= 100) & (h < 120)).with_columns(
        (pl.col("claim_id") + "P").alias("claim_id"), pl.lit(2).alias("_part"),
        pl.when(pl.col("payer") == "AETNA").then(pl.lit("CIGNA")).otherwise(pl.lit("AETNA")).alias("payer"))
    twice = frame.filter((h >= 200) & (h < 210)).with_columns((pl.col("claim_id") + "D").alias("claim_id"),
                                                              pl.lit(3).alias("_part"))
    frame = pl.concat([frame, copies, twice])
    line = (pl.col("_claim") * 40503 + pl.col("line_number") * 7) % 10007
    frame = frame.with_columns(
        pl.when((h == 300) & (pl.col("line_number") == 2)).then(pl.lit("MOTHER01"))
        .when((h == 301) & (pl.col("line_number") == 1)).then(pl.lit(None, pl.String))
        .when((h == 302) & (pl.col("line_number") == 1)).then(pl.lit(" ") + pl.col("member_id") + " ")
        .otherwise(pl.col("member_id")).alias("member_id"),
        pl.when(line == 5).then(None).otherwise(pl.col("units")).alias("units"),
    )
    repeats = frame.filter((h == 303) & (pl.col("line_number") == 1)).with_columns(pl.lit(4).alias("_part"))
    frame = pl.concat([frame, repeats])
    spread = ((h >= 400) & (h < 410) & (pl.col("line_number") % 2 == 0)).cast(pl.Int64)
    frame = frame.with_columns(((pl.col("_claim") + pl.col("_part") + spread) % 3).alias("_file"))
    paths = []
    for number in range(3):
        part = frame.filter(pl.col("_file") == number).sort("_claim", "_part", "line_number", maintain_order=True)
        if number < 2:
            path = folder / f"claims_{number}.csv"
            part.select(cols).write_csv(path, date_format="%Y-%m-%d", datetime_format="%Y-%m-%dT%H:%M",
                                        float_precision=2)
        else:
            path = folder / f"claims_{number}.parquet"
            part.select(cols).write_parquet(path, row_group_size=4096)
        paths.append(path)
    return paths


def test_a_50k_claim_batch_split_across_files_gives_the_same_findings(spark, tmp_path: Path) -> None:
    from scrubber.spark import scrub_files

    paths = [str(p) for p in cross_file_batch(tmp_path)]
    local = scrub(paths)
    s = local.summary
    assert s["claims"] > 50_000 and s["next_payer_copies"] > 500 and s["rejected_rows"] > 100
    reasons = " ".join(local.rejected.get_column("reason").unique().to_list())
    assert "disagree on member_id" in reasons and "duplicate claim_id + line_number" in reasons
    assert local.findings.filter(pl.col("check_id") == "duplicate-initial-infusion").height > 100
    _same_result(scrub_files(paths, spark=spark, partitions=8), local)


def test_command_line_round_trip_on_parquet(spark, tmp_path: Path) -> None:
    """``scrub check claims.parquet --engine spark`` writes what the local engine writes (JSON, CSV bytes)."""
    parquet = typed_parquet(SAMPLE, tmp_path / "claims.parquet")
    outputs = {}
    for engine in ("local", "spark"):
        folder = tmp_path / engine
        args = ["check", str(parquet), "--json", str(folder / "f.json"), "--csv", str(folder / "f.csv"),
                "--html", str(folder / "r.html")]
        if engine == "spark":
            args += ["--engine", "spark", "--spark-master", "local[2]"]
        proc = _cli(*args)
        assert proc.returncode == 1, proc.stderr  # the sample has errors
        assert proc.stderr.strip().splitlines()[0].endswith("rejected."), proc.stderr  # no Spark log
        outputs[engine] = folder
    for name in ("f.json", "f.csv"):
        assert (outputs["spark"] / name).read_bytes() == (outputs["local"] / name).read_bytes()
    assert (outputs["spark"] / "r.html").stat().st_size > 10_000


def test_mask_phi_hides_every_claim_id_with_the_spark_engine(spark, tmp_path: Path) -> None:
    """A finding's text may quote another claim's id ("already billed on claim PCN-1305, line 2"); the
    Spark engine collects every line's ids for --mask-phi as the local engine has them, even with no
    HTML report asked for."""
    out = tmp_path / "f.json"
    proc = _cli("check", str(SAMPLE), "--engine", "spark", "--spark-master", "local[2]", "--mask-phi",
                "--json", str(out), "--fail-on", "never")
    assert proc.returncode == 0, proc.stderr
    text = out.read_text(encoding="utf-8")
    claims = {row.split(",", 1)[0] for row in SAMPLE.read_text(encoding="utf-8").splitlines()[1:]}
    assert json.loads(text)["findings"] and not [c for c in claims if c in text]


def test_input_warnings_are_the_local_engines(spark, tmp_path: Path) -> None:
    """Spark dropped every input warning: a misspelled column (its modifiers silently not read), stops
    before their starts on lines spread over partitions, a folder's empty file and a file not read."""
    from scrubber.spark import scrub_files

    folder = tmp_path / "batch"
    folder.mkdir()
    rows = [f"W{i},1,M{i % 7},MEDICARE,,11,2026-03-02,96365,,1,300,D80.0,2026-03-02T10:00,2026-03-02T09:00"
            for i in range(40)]
    (folder / "times.csv").write_text("claim_id,line_number,member_id,payer,claim_type,place_of_service,"
                                      "date_of_service,procedure_code,modifer_1,units,charge,diagnosis_1,"
                                      "infusion_start,infusion_stop\n" + "\n".join(rows) + "\n", encoding="utf-8")
    (folder / "sample.csv").write_text(SAMPLE.read_text(), encoding="utf-8")
    (folder / "empty.csv").write_text("", encoding="utf-8")
    (folder / "notes.pdf").write_bytes(b"%PDF-1.4")
    local = scrub([str(folder)])
    problems = [w["problem"] for w in local.input_warnings]
    assert any("modifer_1" in p for p in problems) and any("40 line(s) document an infusion_stop" in p
                                                               for p in problems)
    assert sum(p.startswith("skipped:") for p in problems) == 2
    ran = scrub_files([str(folder)], spark=spark, partitions=8)
    assert ran.input_warnings == local.input_warnings
    _same_result(ran, local)
    # (this session's warnings: a payer name that only looks like a policy's, a claim id two files give with
    # other lines, an --ignore that --select leaves out; probe 27C D4, D5, D9)
    (folder / "times.csv").unlink()
    (folder / "more.csv").write_text(
        "claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,units,charge,"
        "diagnosis_1\nPCN-1001,9,1EG4TE5MK72,MEDICARE,11,2026-03-02,96366,1,100,D80.0\n"
        "Z1,1,MZ1,MEDI\u200bCARE,11,2026-03-02,96365,1,300,D80.0\n", encoding="utf-8")
    local = scrub([str(folder)], select=["route-mismatch"], ignore=["unit-miscalculation"])
    problems = [w["problem"] for w in local.input_warnings]
    assert any("given by several files" in p for p in problems) and any("U+200B" in p for p in problems)
    assert any("ignoring it changes nothing" in p for p in problems)
    ran = scrub_files([str(folder)], spark=spark, partitions=8, select=["route-mismatch"],
                      ignore=["unit-miscalculation"])
    assert ran.input_warnings == local.input_warnings


def test_claim_ids_differing_only_in_case_stay_with_their_members(spark, tmp_path: Path) -> None:
    """Probe 24B D1: "c1" of member MA and "C1" of member MB are two claims to the engine, but the
    coarse partition key read them as one claim naming two members and moved MB's 96365 into MA's
    partition: MB's 96366 on C2 was a false addon-without-primary, on Spark only. Near miss: a claim
    whose own lines name two members is rejected by both engines alike."""
    from scrubber.spark import scrub_files

    path = tmp_path / "case.csv"
    path.write_text("claim_id,line_number,member_id,payer,date_of_service,procedure_code,units,charge\n"
                    "c1,1,MA,MEDICARE,2026-03-02,96365,1,300\nC1,1,MB,MEDICARE,2026-03-02,96365,1,300\n"
                    "C2,1,MB,MEDICARE,2026-03-02,96366,1,120\n"
                    "X9,1,MX,MEDICARE,2026-03-02,96365,1,300\nX9,2,MY,MEDICARE,2026-03-02,96365,1,300\n")
    local = scrub([str(path)])
    assert local.findings.height == 0 and local.summary["rejected_rows"] == 2
    for partitions in (2, 3, 8):
        _same_result(scrub_files([str(path)], spark=spark, partitions=partitions), local)


def test_a_column_typed_differently_in_two_inputs_is_read_as_the_local_reader_reads_it(spark, tmp_path: Path) -> None:
    """Probe 24B D2: a date of service stored as a date in one Parquet file and as a midnight timestamp
    in another (or a CSV beside a Parquet file with a numeric NDC) was unioned with Spark's cast to
    text: '2026-03-02 00:00:00' and '944270005' rejected good rows on Spark only."""
    from scrubber.spark import scrub_files

    base = {"claim_id": ["K3"], "line_number": [1], "member_id": ["KM3"], "payer": ["MEDICARE"],
            "procedure_code": ["J1459"], "units": [70], "charge": [7000.0], "drug_dose_mg": [35000.0],
            "route": ["IV"]}
    dated = tmp_path / "dated.parquet"
    pl.DataFrame({**base, "date_of_service": [dt.date(2026, 3, 2)], "ndc": ["44206043810"]}).write_parquet(dated)
    stamped = tmp_path / "stamped.parquet"
    pl.DataFrame({**base, "claim_id": ["K4"], "member_id": ["KM4"], "date_of_service": [dt.datetime(2026, 3, 2)],
                  "infusion_start": [dt.datetime(2026, 3, 2, 9, 30)],
                  "ndc": [944270005]}).write_parquet(stamped)
    text = tmp_path / "text.csv"
    text.write_text("claim_id,line_number,member_id,payer,date_of_service,procedure_code,units,charge,ndc\n"
                    "K5,1,KM5,MEDICARE,2026-03-02,J1459,70,7000,00944270005\n")
    for inputs in ([dated, stamped], [text, stamped]):
        local = scrub([str(p) for p in inputs])
        assert local.summary["rejected_rows"] == 0, local.rejected.to_dicts()
        _same_result(scrub_files([str(p) for p in inputs], spark=spark, partitions=3), local)


def test_a_row_rejected_for_its_shape_scopes_the_same_encounter_on_both_engines(spark, tmp_path: Path) -> None:
    """Probe 24B D4: a row with more cells than the header kept its member and date locally (its
    encounter not evaluated, the next date's hours judged) but Spark blanked them (the member's every
    date not evaluated, no finding): one set of kept cells for both (csv_loader.BAD_ROW_KEPT), for a
    NUL row too."""
    from scrubber.spark import scrub_files

    header = "claim_id,line_number,member_id,payer,date_of_service,procedure_code,units,infusion_start,infusion_stop\n"
    rows = ("R1,2,M1,MEDICARE,2026-03-03,96366,2,2026-03-03T00:00,2026-03-03T02:30\n"
            "R1,3,M1,MEDICARE,2026-03-03,96365,1,2026-03-03T14:00,2026-03-03T15:00\n")
    ragged = tmp_path / "ragged.csv"
    ragged.write_text(header + "R1,1,M1,MEDICARE,2026-03-02,96365,1,2026-03-02T22:00,2026-03-03T02:30,extra\n" + rows)
    nul = tmp_path / "nul.csv"
    nul.write_text(header + "R1,1,M1,MEDICARE,2026-03-02,96365,1,2026-03-02T22:00,2026-03-03T02:30\x00\n" + rows)
    for path in (ragged, nul):
        local = scrub([str(path)])
        assert local.summary["rejected_rows"] == 1
        _same_result(scrub_files([str(path)], spark=spark, partitions=2), local)


def test_a_list_column_named_like_a_column_the_reader_adds_is_ignored_on_both_engines(spark, tmp_path: Path) -> None:
    """Probe 24B D6: a Parquet list column named source_location or claim_diagnoses stopped the Spark
    run ("expected a single value per row"); the local reader ignored it, and claim_diagnoses without
    the input warning FORMATS.md promises. Both read the file and warn."""
    from scrubber.spark import scrub_files

    path = tmp_path / "extra.parquet"
    pl.DataFrame({"claim_id": ["A1"], "line_number": [1], "member_id": ["M1"], "payer": ["MEDICARE"],
                  "date_of_service": [dt.date(2026, 3, 2)], "procedure_code": ["96366"], "units": [1],
                  "source_location": [["a", "b"]], "claim_diagnoses": [["D80.0"]],
                  "source": [["c"]]}).write_parquet(path)
    local = scrub([str(path)])
    warned = sorted(w["problem"] for w in local.input_warnings)
    assert warned == ["column 'claim_diagnoses' is not a claims column and is ignored",
                      "column 'source' is not a claims column and is ignored",
                      "column 'source_location' is not a claims column and is ignored"]
    distributed = scrub_files([str(path)], spark=spark, partitions=2)
    _same_result(distributed, local)
    assert sorted(w["problem"] for w in distributed.input_warnings) == warned
