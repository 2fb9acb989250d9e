"""The same scrub on Apache Spark: partitioned by member, findings identical to a local run.

For Spark users (a lakehouse of claim lines)::

    from scrubber.spark import scrub
    findings, rejected = scrub(spark.read.parquet("s3://claims/2026/"), policies=["acme.toml"])

and for the command line, ``scrub check INPUT --engine spark`` (:func:`scrub_files`).

Why it is exact. Every rule is confined to one member's encounters, except the claim-level ones of
canonicalisation (a claim whose lines disagree on the member is rejected whole; duplicate
``claim_id`` + ``line_number``; the codes of a claim's rejected lines still count for it). So each
line goes to the partition of its *claim's* member key: the member id, except for the rare claim
whose lines name several members (or none on some lines), whose lines all take the smallest of
them. A pre-pass finds those claims. Then ``repartition(key)`` and ``mapInArrow`` hand each
partition, whole, to :func:`scrubber.engine.check_batches`, the one engine entry the command line
uses too (:mod:`scrubber.spark_partition`): one Polars call per partition. (Measured on 2 cores,
issue 14: ``groupBy(member).applyInArrow`` took 318 s on 2.1M lines, this 16 s.)

Why the numbers match. ``row_id`` (in every finding) and ``source_row`` ("row 7") must be what a
local run gives, i.e. the input order. Before the shuffle each row gets
``monotonically_increasing_id()`` (its read partition and position in it); the same pre-pass counts
the rows of every read partition, and from those counts (``zipWithIndex``'s method) each row's
numbers follow wherever it lands. Summary counts are added up from each partition's
:func:`scrubber.engine.summary_parts`: the engine's one definition, rounded once at the end.

Key normalisation is coarser than the engine's (all whitespace removed, upper case): two spellings
the engine reads as one member always share a partition; the cost of the coarseness is only that
two members may share one too, which changes nothing (a partition's members are independent).

pyspark is imported here and in nothing the local engine imports: ``scrub check`` on the local
engine never loads it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import mmap
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from scrubber import __version__, allocator, reference
from scrubber.canonical import REJECTED_SCHEMA
from scrubber.engine import (
    FINDINGS_SCHEMA,
    PhaseClock,
    ScrubResult,
    add_summary_parts,
    build_context,
    check_batches,
    ignore_warnings,
    odd_payer_warnings,
    select_checks,
    split_claim_warnings_of,
    summary_from_parts,
    summary_parts,
    unusable_times_warnings,
    unused_policy_warnings,
)
from scrubber.errors import InputError, ScrubError, UsageError, display_name
from scrubber.loaders import column_notices, expand_paths, sniff_format
from scrubber.loaders.parquet_loader import LIST_COLUMNS, check_columns, normalised_names, not_a_code_list
from scrubber.policy import PolicySet
from scrubber.records import empty_problems
from scrubber.schema import RAW_SCHEMA, SCALAR_COLUMNS
from scrubber.spark_partition import (
    ALL,
    CORRUPT,
    FILE,
    FINDING,
    KEPT,
    KIND,
    LINES,
    ODD_PAYERS,
    PARTITION_SHIFT,
    PARTS,
    POLICIES_USED,
    REJECTED,
    REJECTED_PREFIX,
    SPLIT_CLAIMS,
    UNUSABLE_TIMES,
    InputFile,
    PartitionPlan,
    output_schema,
    run_partition,
)

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import Column, DataFrame, SparkSession

    from scrubber.registry import Check

JAVA_MIN = 17  # Spark 4 runs on Java 17 or 21
_LOG: Path | None = None  # where the JVM that session() started writes its log
KEY = "_scrub_key"
_CLAIM_KEY, _MEMBER_KEY, _IRREGULAR = "_scrub_claim", "_scrub_member", "_scrub_irregular"
_CLAIM_ID = "_scrub_claim_id"  # (the claim as the engine tells claims apart: its trimmed id)
# Columns a raw frame is built from (FORMATS.md, the CSV's modifier_1..4 / diagnosis_1..4, list columns).
_WANTED = frozenset(
    [*SCALAR_COLUMNS, *LIST_COLUMNS, *(c for cols in LIST_COLUMNS.values() for c in cols)]
)
_PROVENANCE = ("source", "source_row")
_ROWS_PER_PARTITION = 500_000  # lines a partition's Polars call takes at most (about 1 GB in a worker)


# --------------------------------------------------------------------------- public API


class SparkScrub:
    """What :func:`scrub` returns: ``findings, rejected = scrub(df)``, and :meth:`summary`.

    Both are Spark DataFrames over one cached computation (``persist``), so writing the findings,
    then the rejected rows, then asking for the summary runs the scrub once; :meth:`unpersist`
    frees it. Rows come in no particular order: sort findings by ``claim_id``, ``line_number``
    (the local order also puts the check's registry order, ``reason`` and ``message`` next).
    """

    def __init__(self, out: DataFrame, checks: list[Check], policies: PolicySet) -> None:
        self._out = out
        self.checks = checks
        self.policies = policies

    @property
    def findings(self) -> DataFrame:
        """One row per finding, with the findings JSON's fields (:data:`scrubber.engine.FINDINGS_SCHEMA`)."""
        from pyspark.sql import functions as F

        return self._out.where(F.col(KIND) == FINDING).select(*FINDINGS_SCHEMA)

    @property
    def rejected(self) -> DataFrame:
        """One row per rejected input row: source, row, location, claim_id, line_number, reason, row_id."""
        from pyspark.sql import functions as F

        names = [*REJECTED_SCHEMA, "row_id"]
        return self._out.where(F.col(KIND) == REJECTED).select(
            *[F.col(f"{REJECTED_PREFIX}{n}").alias(n) for n in names])

    def __iter__(self) -> Iterator[DataFrame]:
        yield self.findings
        yield self.rejected

    def summary(self) -> dict[str, Any]:
        """The run's totals, the same dict a local run's summary is (``scrub check``'s JSON ``summary``)."""
        from pyspark.sql import functions as F

        rows = self._out.where(F.col(KIND) == PARTS).select("_parts").collect()
        return _summary([r[0] for r in rows], self.checks, self.policies)[0]

    def collect(self) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, Any], pl.DataFrame, list[dict[str, str]]]:
        """Findings (in the local run's order), rejected rows (in row order), summary, report lines and
        the input warnings of the lines' content, collected to the driver in one Spark job."""
        table = _to_arrow(self._out)
        out = pl.from_arrow(table)
        assert isinstance(out, pl.DataFrame)
        findings = _ordered_findings(out.filter(pl.col(KIND) == FINDING).select(list(FINDINGS_SCHEMA)), self.checks)
        names = [*REJECTED_SCHEMA, "row_id"]
        rejected = (
            out.filter(pl.col(KIND) == REJECTED)
            .select([pl.col(f"{REJECTED_PREFIX}{n}").alias(n) for n in names])
            .sort("row_id").select(list(REJECTED_SCHEMA)).cast(REJECTED_SCHEMA)
        )
        summary, warnings = _summary(out.filter(pl.col(KIND) == PARTS).get_column("_parts").to_list(), self.checks,
                                     self.policies)
        blobs = out.filter(pl.col(KIND) == LINES).get_column("_lines").to_list()
        frames = [pl.read_ipc(b) for b in blobs]
        lines = pl.concat(frames, how="vertical_relaxed").sort("row_id") if frames else pl.DataFrame()
        return findings, rejected, summary, lines, warnings

    def unpersist(self) -> None:
        self._out.unpersist()


def scrub(df: DataFrame, policies: PolicySet | list[str] | tuple[str, ...] | None = None,
          select: list[str] | None = None, ignore: list[str] | None = None, *, source: str = "dataframe",
          partitions: int | None = None) -> SparkScrub:
    """Scrub a Spark DataFrame of claim lines; returns findings and rejected rows as DataFrames.

    ``df`` has the canonical columns of FORMATS.md (names as a CSV header is read: ``Claim ID`` is
    ``claim_id``), as text or typed (dates, numbers, timestamps: read as a local run reads the same
    Parquet file), modifiers/diagnoses as ``modifier_1..4`` / ``diagnosis_1..4`` or list columns
    ``modifiers`` / ``diagnoses``. Rows are numbered in the DataFrame's order (``row_id`` from 0,
    "row N" from 1), so read it straight from files; a ``source`` column (and ``source_row``)
    names where each row came from instead of ``source``.

    ``policies``: a :class:`~scrubber.policy.PolicySet` or policy file paths (``--policy``);
    ``select`` / ``ignore``: check ids as for ``scrub check``. ``partitions``: how many partitions
    the lines are spread over (default: one per ~500,000 lines, at least one per core).

    Runs one Spark job at once (the pre-pass that numbers rows and finds claims naming several
    members); the scrub itself runs on the first action on the results.
    """
    from pyspark import StorageLevel

    run = _Run(df.sparkSession, policies, select, ignore)
    frame = _normalised(df, source)
    provenance = "source" in frame.columns
    if provenance and "source_row" not in frame.columns:
        from pyspark.sql import functions as F

        frame = frame.withColumn("source_row", F.lit(None).cast("long"))
    spec = InputFile(source=source, first_source_row=1)
    out = run.plan([(frame, spec)], provenance_columns=provenance, report_lines=False, partitions=partitions)
    return SparkScrub(out.persist(StorageLevel.MEMORY_AND_DISK), run.checks, run.policies)


def scrub_files(inputs: list[str], policy_files: list[str] | tuple[str, ...] = (), select: list[str] | None = None,
                ignore: list[str] | None = None, master: str = "local[*]", report_lines: bool = False,
                spark: SparkSession | None = None, partitions: int | None = None) -> ScrubResult:
    """``scrub check INPUT --engine spark``: CSV and Parquet files read by Spark, the result collected
    into the :class:`~scrubber.engine.ScrubResult` the outputs are written from.

    ``report_lines``: also collect the lines the HTML report reads (a few columns of every line).
    """
    started = dt.datetime.now(dt.UTC)
    clock = PhaseClock()
    skipped: list[dict[str, str]] = []
    paths = expand_paths(inputs, None, skipped)
    formats = {str(p): sniff_format(p) for p in paths}
    others = [p for p, f in formats.items() if f not in ("csv", "parquet")]
    if others:
        raise UsageError(f"--engine spark reads CSV and Parquet; {others[0]} is {formats[others[0]].upper()} "
                         "(use the local engine)")
    # The notices a local reader gives on opening a file (columns not read, named like claims columns),
    # from headers and schemas only: the driver reads no rows.
    notices = [{"source": display_name(p), "problem": n} for p in paths for n in column_notices(p, formats[str(p)])]
    if spark is None and pyspark_problem() is None:
        from pyspark.sql import SparkSession

        spark = SparkSession.getActiveSession()
    own = spark is None  # a session this call starts, and stops
    spark = spark if spark is not None else session(master)
    clock.lap("start Spark")
    try:
        run = _Run(spark, tuple(policy_files), select, ignore)
        frames = [_read(spark, p, formats[str(p)]) for p in paths]
        out = run.plan(frames, provenance_columns=False, report_lines=report_lines, partitions=partitions)
        clock.lap("open inputs + pre-pass (row numbers and member keys)")
        findings, rejected, summary, lines, content_warnings = SparkScrub(out, run.checks, run.policies).collect()
        clock.lap("partition + check + collect")
    except ScrubError:
        raise
    except Exception as exc:  # a failed Spark job (a Java or worker trace): one line, the cause chained
        raise ScrubError(f"--engine spark: the Spark job failed ({spark_failure(exc)}); run again with --debug "
                         "for Spark's trace") from exc
    finally:
        if own:
            spark.stop()
    if own and _LOG is not None:  # the JVM's log is kept only when something went wrong
        _LOG.unlink(missing_ok=True)
    # As the local engine words them: files skipped in a folder, each file's notices on its columns (read
    # from its header here), then the lines' content (added up from the partitions).
    input_warnings = [*skipped, *notices, *content_warnings,
                      *ignore_warnings(list(run.select) if run.select is not None else None, list(run.ignore or ()))]
    summary["input_warnings"] = len(input_warnings)
    provenance = {
        "tool": "scrubber",
        "version": __version__,
        "started_at": started.replace(microsecond=0).isoformat(),
        "inputs": [str(p) for p in paths],
        "formats": formats,
        "records": None,
        "policies": run.policies.describe(),
        "policy_files": list(policy_files),
        "reference_data": reference.releases_summary(),
        "checks": [c.id for c in run.checks],
    }
    return ScrubResult(findings=findings, lines=lines, rejected=rejected, unmatched_records=empty_problems(),
                       summary=summary, provenance=provenance, checks=run.checks, timings=clock.phases,
                       input_warnings=input_warnings, strict_refuses=[False] * len(input_warnings))


# --------------------------------------------------------------------------- the session and its JVM


def spark_failure(exc: BaseException) -> str:
    """The line of a Spark error that says what went wrong: a Python worker's exception (the last
    ``SomeError: ...`` line of its traceback), else the first line of the message."""
    text = str(exc)
    raised = re.findall(r"^\s*([A-Za-z_][\w.]*(?:Error|Exception)): (.+)$", text, flags=re.MULTILINE)
    if raised:
        name, message = raised[-1]
        return message.strip() if name.startswith("scrubber.") else f"{name.rsplit('.', 1)[-1]}: {message.strip()}"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0][:300] if lines else type(exc).__name__


def java_problem() -> str | None:
    """Why Spark cannot start here (no Java, or older than 17), or None. One line, for ``scrub: error:``."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home and (Path(home) / "bin" / "java").exists() else shutil.which("java")
    if java is None:
        return (f"--engine spark needs Java {JAVA_MIN} or newer, and there is no java on PATH (JAVA_HOME is "
                f"{'not set' if not home else repr(home)}); install a JDK (Debian: apt-get install "
                f"openjdk-{JAVA_MIN}-jre-headless) or use the local engine")
    try:
        shown = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60).stderr
    except (OSError, subprocess.SubprocessError) as exc:
        return f"--engine spark: cannot run {java} ({exc})"
    found = re.search(r'version "(\d+)(?:\.(\d+))?', shown)
    if found is None:
        return None  # an unusual build: let Spark try
    major = int(found.group(1))
    if major == 1 and found.group(2):  # "1.8.0_392" is Java 8
        major = int(found.group(2))
    if major < JAVA_MIN:
        return f"--engine spark needs Java {JAVA_MIN} or newer; {java} is Java {major} (set JAVA_HOME to a newer JDK)"
    return None


def pyspark_problem() -> str | None:
    """Why pyspark cannot be used (not installed, or without pyarrow/pandas), or None."""
    import importlib.util

    missing = [m for m in ("pyspark", "pyarrow", "pandas") if importlib.util.find_spec(m) is None]
    if missing:
        return (f"--engine spark needs {', '.join(missing)}: pip install 'scrubber[spark]' "
                "(or use the local engine)")
    return None


@contextlib.contextmanager
def _stderr_to(path: Path) -> Iterator[None]:
    """Send file descriptor 2 to ``path`` while the JVM starts: it inherits it and keeps its logs
    (start-up warnings, task logs) there instead of on the terminal."""
    sys.stderr.flush()
    saved = os.dup(2)
    with path.open("ab") as log:
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def session(master: str | None = None) -> SparkSession:
    """A SparkSession for the command line: the active one, or a new one on ``master``.

    Problems that would otherwise surface as a Java stack trace (no pyspark, no JVM, Java too old,
    a gateway that does not start) raise :class:`ScrubError` with one line. The JVM's own logs go to
    a file in the temporary folder, named in that error.
    """
    problem = pyspark_problem()
    if problem:
        raise ScrubError(problem)
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    problem = java_problem()
    if problem:
        raise ScrubError(problem)
    master = master or "local[*]"
    if master.startswith("local"):
        # Local workers must run this interpreter (the one with polars and scrubber), not "python3".
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    global _LOG
    log = _LOG = Path(tempfile.gettempdir()) / f"scrubber-spark-{os.getpid()}.log"
    builder = (
        SparkSession.builder.master(master)
        .appName("scrub check")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
    )
    if allocator.VARIABLE in os.environ:
        # The executors' Python workers run the same Polars pipeline: they get this process's allocator
        # setting (scrubber.allocator, or the user's own) too. A local worker inherits it anyway; a
        # cluster's would otherwise keep Polars' defaults, whose freed-but-held pages count against a
        # container's memory limit.
        builder = builder.config(f"spark.executorEnv.{allocator.VARIABLE}", os.environ[allocator.VARIABLE])
    try:
        with _stderr_to(log):
            return builder.getOrCreate()
    except Exception as exc:  # noqa: BLE001 - whatever the gateway raised, the user gets one line
        said = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
        reason = said[-1] if said else str(exc).splitlines()[0]
        raise ScrubError(f"--engine spark: Spark did not start on {master} ({reason}); JVM log: {log}") from None


# --------------------------------------------------------------------------- the plan


class _Run:
    """One scrub's checks and policies (validated on the driver, before any Spark job) and its plan."""

    def __init__(self, spark: SparkSession, policies: PolicySet | list[str] | tuple[str, ...] | None,
                 select: list[str] | None, ignore: list[str] | None) -> None:
        self.spark = spark
        self.checks = select_checks(select, ignore)
        self.policies = policies if isinstance(policies, PolicySet) else PolicySet.load(tuple(policies or ()))
        build_context(self.policies)  # a policy naming an unknown coverage list fails here, not on an executor
        self.select = tuple(select) if select is not None else None
        self.ignore = tuple(ignore) if ignore is not None else None

    def plan(self, frames: list[tuple[DataFrame, InputFile]], provenance_columns: bool, report_lines: bool,
             partitions: int | None) -> DataFrame:
        """The partitioned scrub of the inputs, as one DataFrame of :func:`output_schema` rows (lazy)."""
        from pyspark.sql import functions as F

        skip = _PROVENANCE if provenance_columns else ()
        numbered = [_numbered(frame, number, skip) for number, (frame, _) in enumerate(frames)]
        offsets, irregular, rows = _prepass([all_rows for all_rows, _ in numbered])
        kept = _union([kept_rows for _, kept_rows in numbered])
        kept = kept.withColumn(_CLAIM_KEY, _key_text(F.col("claim_id"))).withColumn(
            _MEMBER_KEY, _key_text(F.col("member_id")))
        if irregular:
            claims = self.spark.createDataFrame(irregular, schema=f"{_CLAIM_ID} string, {_IRREGULAR} string")
            kept = kept.withColumn(_CLAIM_ID, _claim_identity(F.col("claim_id"))).join(
                F.broadcast(claims), on=_CLAIM_ID, how="left").drop(_CLAIM_ID)
        else:
            kept = kept.withColumn(_IRREGULAR, F.lit(None).cast("string"))
        key = F.coalesce(
            F.col(_IRREGULAR), F.col(_MEMBER_KEY),
            F.concat(F.lit("\u0001"), F.col(_CLAIM_KEY)),  # no member on any line: its claim
            F.concat(F.lit("\u0002"), F.col(KEPT).cast("string")),  # neither: the row alone
        )
        kept = kept.withColumn(KEY, key)
        if not partitions:
            # One Polars call per partition: few large ones (a call has a fixed cost of ~0.2 s, so
            # Spark's 200 small partitions, which adaptive execution keeps for parallelism, cost more
            # than the work), but at least one per core, and none too large for a Python worker.
            partitions = max(self.spark.sparkContext.defaultParallelism, -(-rows // _ROWS_PER_PARTITION))
        shuffled = kept.repartition(partitions, KEY)
        shuffled = shuffled.drop(KEY, _CLAIM_KEY, _MEMBER_KEY, _IRREGULAR)
        plan = PartitionPlan(
            policies=self.policies, select=self.select, ignore=self.ignore,
            inputs=tuple(spec for _, spec in frames), offsets=offsets,
            time_zone=self.spark.conf.get("spark.sql.session.timeZone"),
            provenance_columns=provenance_columns, report_lines=report_lines,
        )
        return shuffled.mapInArrow(functools.partial(run_partition, plan), _spark_schema(output_schema()))


def _normalised(df: DataFrame, source: str) -> DataFrame:
    """``df`` with its columns named as FORMATS.md names them. Missing required columns, or a claim-line
    column holding nested values, raise InputError here, on the driver, before any job."""
    from pyspark.sql.types import ArrayType, MapType, StructType

    names = normalised_names(df.columns)
    check_columns(names, source)
    df = df.toDF(*names)
    for f in df.schema.fields:
        nested = isinstance(f.dataType, ArrayType | MapType | StructType)
        if f.name in LIST_COLUMNS:
            # (text too, as the local Parquet reader says: a text "modifiers" column was read as none, a JZ
            # lost without a word, probe 22B)
            if not isinstance(f.dataType, ArrayType) or isinstance(f.dataType.elementType,
                                                                   ArrayType | MapType | StructType):
                raise InputError(not_a_code_list(f.name, f.dataType.simpleString()), source)
        # (a column named like one the reader adds is not read, as the local reader ignores it with an
        # input warning, whatever it holds: a list there stopped the Spark run only, probe 24B D6)
        elif f.name in _WANTED and nested:  # (modifier_1..4: probe 22B)
            raise InputError(f"column {f.name} holds {f.dataType.simpleString()}; expected a single value per row",
                             source)
    return df


def _numbered(frame: DataFrame, number: int, skip: tuple[str, ...] = ()) -> tuple[DataFrame, DataFrame]:
    """Every row with its input and read position; and the non-blank rows, numbered again among themselves.

    Both ids are ``monotonically_increasing_id()``, evaluated in the read stage (a nondeterministic
    projection: Spark moves no filter across it), so they are the read partition and the position
    in it, in file order. ``skip``: provenance columns, which do not make a row non-blank.
    """
    from pyspark.sql import functions as F

    blank = _blank(frame, skip)
    carried = [c for c in frame.columns if c in _WANTED or c in _PROVENANCE or c == CORRUPT]
    all_rows = frame.select(*carried, F.lit(number).alias(FILE), blank.alias("_scrub_blank")).withColumn(
        ALL, F.monotonically_increasing_id())
    kept = all_rows.where(~F.col("_scrub_blank")).drop("_scrub_blank").withColumn(KEPT, F.monotonically_increasing_id())
    return all_rows, kept


def _blank(frame: DataFrame, skip: tuple[str, ...] = ()) -> Column:
    """A row whose every value is empty or whitespace, as :func:`scrubber.loaders.parquet_loader.blank_rows`
    says (and a blank CSV row): such rows are skipped, not checked, and keep their row number."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import ArrayType, MapType, StructType

    tests = []
    # claim_id first: Spark's AND stops at the first false, and a row with a claim id is never blank,
    # so the other columns' tests run on the few rows without one.
    for f in sorted(frame.schema.fields, key=lambda f: f.name != "claim_id"):
        if f.name in skip:
            continue
        if f.name == CORRUPT:  # Spark's text of a ragged CSV record: blank only if it holds nothing but commas
            tests.append(F.coalesce(F.length(F.translate(F.col(f.name), _WHITESPACE + ',"', "")), F.lit(0)) == 0)
        elif isinstance(f.dataType, ArrayType):
            if f.name in LIST_COLUMNS:
                tests.append(F.coalesce(F.size(F.col(f.name)), F.lit(0)) <= 0)
        elif not isinstance(f.dataType, StructType | MapType):
            tests.append(F.coalesce(F.length(_no_space(F.col(f.name).cast("string"))), F.lit(0)) == 0)
    return functools.reduce(lambda a, b: a & b, tests, F.lit(True))


# Unicode's White_Space characters: what Polars' strip_chars() (Rust's char::is_whitespace) strips.
_WHITESPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(chr(c) for c in range(0x2000, 0x200B)) + \
    "\u2028\u2029\u202f\u205f\u3000"


def _no_space(text: Column) -> Column:
    """``text`` without any whitespace (``translate``: a character map, several times cheaper than a
    Unicode regex on every row)."""
    from pyspark.sql import functions as F

    return F.translate(text, _WHITESPACE, "")


def _key_text(text: Column) -> Column:
    """A claim or member id as a partition key: no whitespace at all, upper case, null when empty
    (coarser than the engine's trimmed text, so the engine's equal ids always share a key)."""
    from pyspark.sql import functions as F

    key = F.upper(_no_space(text.cast("string")))
    return F.when(F.length(key) > 0, key)


def _claim_identity(text: Column) -> Column:
    """A claim id as the engine tells claims apart (trimmed of Unicode whitespace, as Polars'
    strip_chars(); case kept), null when empty. The claims whose lines name several members are found
    by it: by the coarse partition key, "c1" of one member and "C1" of another read as one claim naming
    two, and all their lines went to one member's partition, away from the other member's claims
    (probe 24B D1: a false addon-without-primary, depending on the partition count)."""
    from pyspark.sql import functions as F

    space = "[" + _WHITESPACE + "]+"
    claim = F.regexp_replace(text.cast("string"), f"^{space}|{space}$", "")
    return F.when(F.length(claim) > 0, claim)


def _union(frames: list[DataFrame]) -> DataFrame:
    """The inputs as one DataFrame; a column typed differently in two inputs is read as text in both."""
    from pyspark.sql import functions as F

    if len(frames) == 1:
        return frames[0]
    types: dict[str, set[str]] = {}
    for frame in frames:
        for f in frame.schema.fields:
            types.setdefault(f.name, set()).add(f.dataType.simpleString())
    mixed = {name for name, seen in types.items() if len(seen) > 1}
    frames = [f.select(*[_as_text(f.schema[c]).alias(c) if c in mixed else F.col(c) for c in f.columns])
              for f in frames]
    return functools.reduce(lambda a, b: a.unionByName(b, allowMissingColumns=True), frames)


def _as_text(field: Any) -> Column:
    """A column typed differently in two inputs, as the text the local Parquet reader makes of its
    type (:func:`scrubber.loaders.parquet_loader.typed_to_text`): a date as 2026-03-02, a timestamp as
    2026-03-02T09:00:00 (a date of service at midnight as its date), a numeric NDC zero-padded to its
    11 digits. Spark's own cast gave '2026-03-02 00:00:00' and '944270005': a CSV and a Parquet file
    read together had good rows rejected on Spark only (probe 24B D2)."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    from scrubber.loaders.parquet_loader import _DATE_ONLY, _DIGITS

    col, dtype, name = F.col(field.name), field.dataType, field.name
    if isinstance(dtype, T.DateType):
        return F.date_format(col, "yyyy-MM-dd")
    if isinstance(dtype, T.TimestampType | T.TimestampNTZType):
        stamp = F.date_format(col, "yyyy-MM-dd'T'HH:mm:ss")
        if name in _DATE_ONLY:
            return F.when(F.date_trunc("day", col) == col, F.date_format(col, "yyyy-MM-dd")).otherwise(stamp)
        return stamp
    numeric = isinstance(dtype, T.NumericType) and not isinstance(dtype, T.FloatType)
    if name in _DIGITS and numeric:
        width = _DIGITS[name]
        whole = (col >= 0) & (col == F.floor(col)) & (col < 10**width)
        return F.when(whole, F.lpad(col.cast("decimal(38,0)").cast("string"), width, "0")).otherwise(
            col.cast("string"))
    if isinstance(dtype, T.FloatType | T.DoubleType):
        # (a whole number stored as a float is the CSV's text, "1001", as the local reader makes it)
        exact = 2.0 ** 53 if isinstance(dtype, T.DoubleType) else 2.0 ** 24  # (a 32-bit float: 7 digits)
        whole = ~F.isnan(col) & (col == F.floor(col)) & (F.abs(col) < exact)
        return F.when(whole, col.cast("long").cast("string")).otherwise(col.cast("string"))
    return col.cast("string")


def _prepass(frames: list[DataFrame]) -> tuple[dict[tuple[int, int], tuple[int, int]], list[tuple[str, str]], int]:
    """One Spark job over the inputs: rows per read partition, and the claims naming several members.

    Returns the offsets of every read partition, (input, partition) -> (its first source row within
    its input, its first row id), and (claim key, smallest member key) of each claim whose lines
    name different members or leave the member out on some of them (those claims' lines must meet
    in one partition, to be rejected together as a local run rejects them); and the rows to check.
    """
    from pyspark.sql import functions as F

    rows = _union([
        f.select(FILE, F.shiftright(F.col(ALL), PARTITION_SHIFT).alias("_p"),
                 (~F.col("_scrub_blank")).cast("long").alias("_k"),
                 F.when(~F.col("_scrub_blank"), _claim_identity(F.col("claim_id"))).alias(_CLAIM_ID),
                 F.when(~F.col("_scrub_blank"), _key_text(F.col("member_id"))).alias(_MEMBER_KEY))
        for f in frames
    ])
    # Two groupings in one pass over the input (what GROUPING SETS compiles to): read partitions, claims.
    sets = rows.withColumn("_set", F.explode(F.array(F.lit(0), F.lit(1))))
    per_partition = F.col("_set") == 0
    grouped = sets.groupBy(
        "_set",
        F.when(per_partition, F.col(FILE)).alias("_f"),
        F.when(per_partition, F.col("_p")).alias("_part"),
        F.when(~per_partition, F.col(_CLAIM_ID)).alias("_claim"),
    ).agg(
        F.count(F.lit(1)).alias("_n"),
        F.sum("_k").alias("_kept"),
        F.min(_MEMBER_KEY).alias("_min"),
        F.max(_MEMBER_KEY).alias("_max"),
        F.max(F.col(_MEMBER_KEY).isNull().cast("int")).alias("_nulls"),
    )
    irregular = F.col("_claim").isNotNull() & F.col("_min").isNotNull() & (
        (F.col("_min") != F.col("_max")) | (F.col("_nulls") == 1))
    result = grouped.where(per_partition | irregular).collect()
    counts = sorted((r["_f"], r["_part"], r["_n"], r["_kept"]) for r in result if r["_set"] == 0)
    offsets: dict[tuple[int, int], tuple[int, int]] = {}
    row_id = 0
    source_row: dict[int, int] = {}
    for file, part, n_all, n_kept in counts:
        offsets[(int(file), int(part))] = (source_row.get(file, 0), row_id)
        source_row[file] = source_row.get(file, 0) + int(n_all)
        row_id += int(n_kept)
    claims = [(r["_claim"], r["_min"]) for r in result if r["_set"] == 1]
    return offsets, claims, row_id


def _spark_schema(schema: dict[str, pl.DataType]) -> Any:
    """The Spark StructType of a Polars schema (the output of every partition)."""
    from pyspark.sql import types as T

    def spark_type(dtype: pl.DataType) -> Any:
        simple = {pl.String(): T.StringType(), pl.Int32(): T.IntegerType(), pl.Int64(): T.LongType(),
                  pl.Float64(): T.DoubleType(), pl.Date(): T.DateType(), pl.Boolean(): T.BooleanType(),
                  pl.Binary(): T.BinaryType()}
        if dtype in simple:
            return simple[dtype]
        if isinstance(dtype, pl.List):
            return T.ArrayType(spark_type(dtype.inner))
        raise TypeError(f"no Spark type for {dtype}")

    return T.StructType([T.StructField(name, spark_type(dtype)) for name, dtype in schema.items()])


def _read(spark: SparkSession, path: Path, fmt: str) -> tuple[DataFrame, InputFile]:
    """One input file read by Spark, its columns named as the local loaders name them."""
    from pyspark.sql import types as T

    if fmt == "parquet":
        from scrubber.loaders.parquet_loader import open_parquet

        open_parquet(path)  # file-level problems (not Parquet, missing columns) as the local engine words them
        frame = spark.read.parquet(_literal(path))
        return _normalised(frame, str(path)), InputFile(source=str(path), first_source_row=1)
    from scrubber.loaders import csv_loader

    header, _, count, _ = csv_loader.open_csv(path)
    if count.not_utf8:  # Spark's reader would read each such byte as U+FFFD, silently: refused whole here
        raise InputError(f"not UTF-8 text ({count.not_utf8}); export the file as CSV UTF-8 (the local engine "
                         "rejects only the rows that hold such bytes)", str(path))
    quoted, crlf = _csv_layout(path)
    schema = T.StructType([T.StructField(h, T.StringType()) for h in header] + [T.StructField(CORRUPT, T.StringType())])
    frame = spark.read.csv(
        _literal(path), schema=schema, header=True, enforceSchema=True, encoding="UTF-8", escape='"',
        # A file with no quote cannot hold a quoted line break: read it in parallel splits.
        multiLine=quoted, mode="PERMISSIVE", columnNameOfCorruptRecord=CORRUPT,
    )
    spec = InputFile(source=str(path), first_source_row=2, header=tuple(header), crlf=quoted and crlf, nul=count.nul)
    return frame, spec


def _literal(path: Path) -> str:
    """``path`` as Spark's readers take it literally: Hadoop reads ``* ? [ ] { } \\`` in a path as a
    glob pattern, so a file named ``claims[1].csv`` would read ``claims1.csv``; each is escaped."""
    return re.sub(r"([*?\[\]{}\\])", r"\\\1", str(path))


def _csv_layout(path: Path) -> tuple[bool, bool]:
    """Whether the file holds a quote character at all, and whether its lines end in CRLF."""
    try:
        with path.open("rb") as fh:
            head = fh.read(65536)
            if not head:
                return False, False
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
                return data.find(b'"') >= 0, b"\r\n" in head
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", str(path)) from None


# --------------------------------------------------------------------------- collecting


def _to_arrow(frame: DataFrame) -> Any:
    """The DataFrame as one Arrow table on the driver (``toArrow``, Spark 4; older: the private collector)."""
    import pyarrow as pa

    if hasattr(frame, "toArrow"):
        return frame.toArrow()
    return pa.Table.from_batches(frame._collect_as_arrow())  # pragma: no cover - Spark 3.5


def _ordered_findings(findings: pl.DataFrame, checks: list[Check]) -> pl.DataFrame:
    """Findings in the local run's order (claim, line, registry order of the check, reason, message),
    ties by row id."""
    order = {c.id: i for i, c in enumerate(checks)}
    findings = findings.cast(FINDINGS_SCHEMA)
    ranked = findings.with_columns(
        pl.col("check_id").replace_strict(order, default=len(order), return_dtype=pl.Int32).alias("_order"))
    return ranked.sort("claim_id", "line_number", "_order", "reason", "message", "row_id", nulls_last=True).drop(
        "_order")


def _summary(parts_json: list[str], checks: list[Check], policies: PolicySet
             ) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The summary dict of the run from its partitions' parts (the engine's definition), and the input
    warnings on the lines' content (:func:`scrubber.engine.unusable_times_warnings`) and on the
    ``--policy`` files deciding no line (:func:`scrubber.engine.unused_policy_warnings`)."""
    import json

    parts_list = [json.loads(p) for p in parts_json]
    if not parts_list:  # no row at all: the parts of an empty run
        empty = pl.DataFrame(schema={**RAW_SCHEMA, "load_error": pl.String()})
        checked = check_batches(empty, policies, checks)
        parts = summary_parts(checked.enriched, checked.findings, checked.canon.rejected, checks, checked.unevaluated)
        parts["rows_read"] = 0
        parts_list = [parts]
    total = functools.reduce(add_summary_parts, parts_list)
    warnings = [*unusable_times_warnings(total.pop(UNUSABLE_TIMES, {})),
                *split_claim_warnings_of(total.pop(SPLIT_CLAIMS, {}))]
    warnings += [*policies.notices, *unused_policy_warnings(policies, total.pop(POLICIES_USED, {})),
                 *odd_payer_warnings(total.pop(ODD_PAYERS, {}), policies)]
    summary = summary_from_parts(total, total["rows_read"], checks, 0)
    summary["input_warnings"] = len(warnings)
    return summary, warnings
