"""What one Spark partition runs: its claim lines through :func:`scrubber.engine.check_batches`.

This module is the executor side of :mod:`scrubber.spark` and imports no pyspark: Spark hands
:func:`run_partition` the partition's rows as Arrow record batches (``mapInArrow``), and gets back
Arrow record batches of one declared schema, :func:`output_schema`, which holds four kinds of
rows (column ``_kind``):

* ``finding``: one per finding, in the columns of :data:`scrubber.engine.FINDINGS_SCHEMA` (read at
  run time: a column the engine adds travels with no change here);
* ``rejected``: one per rejected row, in the columns of
  :data:`scrubber.canonical.REJECTED_SCHEMA` prefixed ``rejected_``, plus its ``rejected_row_id``;
* ``parts``: one per partition, the additive summary counts (:func:`scrubber.engine.summary_parts`)
  as JSON, which the driver adds up with the engine's own :func:`~scrubber.engine.add_summary_parts`;
* ``lines``: with ``report_lines``, one per partition, the lines the HTML report reads, as Arrow
  IPC bytes (full columns for claims with a finding or a rejected row, five columns for the rest).

Row numbers are those of a local run: the driver numbered the input before the shuffle (see
:class:`PartitionPlan`), so ``row_id``, ``source_row`` and every finding's location are the same
whichever partition a line lands in.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from scrubber.canonical import REJECTED_SCHEMA
from scrubber.engine import (
    FINDINGS_SCHEMA,
    REPORTED_LINE_FACTS,
    build_context,
    check_batches,
    odd_payers,
    policies_used,
    select_checks,
    split_claim_parts,
    unusable_times_parts,
)
from scrubber.engine import summary_parts as engine_summary_parts
from scrubber.loaders.csv_loader import BAD_ROW_KEPT, NUL_ROW
from scrubber.loaders.parquet_loader import raw_of_text, typed_to_text
from scrubber.policy import PolicySet

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa

    from scrubber.registry import Check, Context

KIND = "_kind"
FINDING, REJECTED, PARTS, LINES = "finding", "rejected", "parts", "lines"
REJECTED_PREFIX = "rejected_"
# Internal columns the driver adds to the input (named so as not to meet a user's column).
FILE = "_scrub_file"  # which input (file) a row came from: 0, 1, ... in the order given
ALL = "_scrub_all"  # monotonically_increasing_id() before blank rows are dropped (source rows)
KEPT = "_scrub_kept"  # monotonically_increasing_id() after they are dropped (row ids)
CORRUPT = "_scrub_corrupt"  # Spark's text of a CSV record whose cell count differs from the header's
# monotonically_increasing_id() is (Spark partition index << 33) + position in that partition.
PARTITION_SHIFT = 33
# The line columns the report reads for every line (by payer / month / policy tables); claims with a
# finding or a rejected row carry all columns (their lines are shown).
# The columns the report's breakdowns (payer, billing provider, month, policy) read of every line.
REPORT_NARROW = ("row_id", "claim_id", "payer", "billing_provider", "date_of_service", "charge", "policy")


UNUSABLE_TIMES = "unusable_times"  # the key of the parts holding engine.unusable_times_parts
POLICIES_USED = "policies_used"  # ... and engine.policies_used
ODD_PAYERS = "odd_payers"  # ... and engine.odd_payers
SPLIT_CLAIMS = "split_claims"  # ... and engine.split_claim_parts

def output_schema() -> dict[str, pl.DataType]:
    """The columns every partition returns (see the module docstring), from the engine's schemas."""
    return {
        KIND: pl.String(),
        **FINDINGS_SCHEMA,
        **{f"{REJECTED_PREFIX}{name}": dtype for name, dtype in REJECTED_SCHEMA.items()},
        f"{REJECTED_PREFIX}row_id": pl.Int64(),
        "_parts": pl.String(),
        "_lines": pl.Binary(),
    }


def arrow_type(dtype: pl.DataType) -> pa.DataType:
    """The Arrow type Spark declares for a Polars type: ``string``, never ``large_string``."""
    import pyarrow as pa

    simple = {pl.String(): pa.string(), pl.Int32(): pa.int32(), pl.Int64(): pa.int64(), pl.Float64(): pa.float64(),
              pl.Date(): pa.date32(), pl.Boolean(): pa.bool_(), pl.Binary(): pa.binary()}
    if dtype in simple:
        return simple[dtype]
    if isinstance(dtype, pl.List):
        return pa.list_(arrow_type(dtype.inner))
    raise TypeError(f"no Spark type for the findings column type {dtype}")


@dataclass(frozen=True)
class InputFile:
    """How the driver read one input, for numbering and decoding its rows on the executors."""

    source: str  # the path as given (findings' and rejections' ``source``)
    first_source_row: int = 1  # row number of the first data row (CSV: 2, the header is row 1)
    header: tuple[str, ...] = ()  # CSV: the normalised header, to re-read a ragged record
    crlf: bool = False  # CSV with CRLF line ends read multi-line: a record's last cell keeps the "\r"
    nul: bool = False  # CSV holding a NUL byte: the local reader rejects the rows holding one


@dataclass(frozen=True)
class PartitionPlan:
    """Everything a partition needs, pickled once per task (small: no data).

    ``offsets`` maps (input, Spark partition index of its read) to (the source row, the row id)
    of that read partition's first row: the driver counted the rows of every read partition
    before the shuffle (``zipWithIndex``'s way), so a row's numbers follow from its two
    monotonically increasing ids wherever it lands.
    """

    policies: PolicySet
    select: tuple[str, ...] | None
    ignore: tuple[str, ...] | None
    inputs: tuple[InputFile, ...]
    offsets: dict[tuple[int, int], tuple[int, int]]
    time_zone: str | None = None
    provenance_columns: bool = False  # the input carries ``source`` / ``source_row`` columns: keep them
    report_lines: bool = False

    def setup(self) -> tuple[list[Check], Context]:
        """The checks and context, built once per Python worker (workers are reused across tasks)."""
        key = repr((self.policies, self.select, self.ignore))
        if key not in _SETUP:
            checks = select_checks(list(self.select) if self.select is not None else None,
                                   list(self.ignore) if self.ignore is not None else None)
            _SETUP[key] = (checks, build_context(self.policies))
        return _SETUP[key]


_SETUP: dict[str, tuple[list[Any], Any]] = {}


def run_partition(plan: PartitionPlan, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """``mapInArrow`` body: one :func:`~scrubber.engine.check_batches` call for the whole partition."""
    import pyarrow as pa

    received = list(batches)
    if not received or sum(b.num_rows for b in received) == 0:
        return
    frame = pl.from_arrow(pa.Table.from_batches(received))
    del received
    assert isinstance(frame, pl.DataFrame)
    out = partition_outputs(plan, frame)
    yield from arrow_batches(out)


def partition_outputs(plan: PartitionPlan, frame: pl.DataFrame) -> pl.DataFrame:
    """The output rows (:func:`output_schema`) of one partition's input rows."""
    raw = raw_frame(plan, frame)
    checks, ctx = plan.setup()
    checked = check_batches(raw, plan.policies, checks, ctx)
    canon, enriched, findings = checked.canon, checked.enriched, checked.findings
    rejected = canon.rejected.with_columns(_rejected_row_ids(raw, canon.lines).alias("row_id"))
    parts = engine_summary_parts(enriched, findings, canon.rejected, checks, checked.unevaluated)
    parts["rows_read"] = canon.rows_read
    # The lines whose times cannot be an infusion, per file: an input warning, worded on the driver.
    parts[UNUSABLE_TIMES] = unusable_times_parts(enriched)
    # (a --policy file deciding no line nor naming a rejected row: warned on the driver)
    parts[POLICIES_USED] = policies_used(enriched, canon.rejected_lines, plan.policies)
    # (payer names no policy matches as they look: warned on the driver)
    parts[ODD_PAYERS] = odd_payers(enriched)
    # (a claim id given by several files with other lines: its lines are in this partition)
    parts[SPLIT_CLAIMS] = split_claim_parts(canon.lines, canon.rejected)
    frames = [
        _shaped(FINDING, findings),
        _shaped(REJECTED, rejected.rename({c: f"{REJECTED_PREFIX}{c}" for c in rejected.columns})),
        _shaped(PARTS, pl.DataFrame({"_parts": [json.dumps(parts)]})),
    ]
    if plan.report_lines:
        lines = enriched.select(*canon.lines.columns, *REPORTED_LINE_FACTS)
        frames.append(_shaped(LINES, pl.DataFrame({"_lines": [_report_lines(lines, findings, rejected)]},
                                                  schema={"_lines": pl.Binary()})))
    return pl.concat(frames, how="vertical")


def raw_frame(plan: PartitionPlan, frame: pl.DataFrame) -> pl.DataFrame:
    """The raw frame (RAW_SCHEMA + ``load_error``) of a partition's rows, numbered as a local run
    numbers them, in input order."""
    offsets = pl.DataFrame(
        [(f, p, src, rid) for (f, p), (src, rid) in plan.offsets.items()],
        schema={FILE: pl.Int32(), "_p": pl.Int64(), "_src0": pl.Int64(), "_rid0": pl.Int64()}, orient="row",
    )
    starts = pl.DataFrame({"_f": list(range(len(plan.inputs))),
                           "_first": [i.first_source_row for i in plan.inputs]},
                          schema={"_f": pl.Int32(), "_first": pl.Int64()})
    numbered = frame.with_columns(pl.col(FILE).cast(pl.Int32), (pl.col(KEPT) // (1 << PARTITION_SHIFT)).alias("_p"))
    numbered = numbered.join(offsets, on=[FILE, "_p"], how="left").join(starts, left_on=FILE, right_on="_f",
                                                                          how="left")
    ids = numbered.select(
        (pl.col("_rid0") + (pl.col(KEPT) % (1 << PARTITION_SHIFT))).alias("_row_id"),
        (pl.col("_src0") + (pl.col(ALL) % (1 << PARTITION_SHIFT)) + pl.col("_first")).alias("_source_row"),
    )
    if ids.get_column("_row_id").null_count():  # pragma: no cover - the driver counted every read partition
        raise AssertionError("a row's read partition was not counted before the shuffle")
    keep: tuple[str, ...] = (FILE,)
    frame = frame.drop(KEPT, ALL, "_p", strict=False).hstack(ids.get_columns())
    if plan.provenance_columns:
        frame = frame.with_columns(
            pl.col("source").cast(pl.String).alias("_source"),
            pl.col("source_row").cast(pl.Int64).fill_null(pl.col("_source_row")).alias("source_row"),
        ).drop("source")
    else:
        names = pl.Series([i.source for i in plan.inputs], dtype=pl.String())
        # (a file's own column named "source" is not read, whatever it holds: the local reader ignores
        # it with an input warning; a list there stopped the Spark run, review 24E D8)
        frame = frame.drop("source", strict=False).with_columns(pl.lit(names).gather(pl.col(FILE)).alias("_source"),
                                   pl.col("_source_row").alias("source_row"))
    frame = frame.drop("_source_row").sort("_row_id")
    keep = (*keep, "_row_id", "_source", "source_row")
    corrupt = frame.get_column(CORRUPT) if CORRUPT in frame.columns else None
    text = typed_to_text(frame.drop(CORRUPT, strict=False), plan.time_zone, keep=keep)
    text = _csv_fixes(plan, text, corrupt)
    raw = raw_of_text(text.drop(FILE, "_row_id"), pl.col("_source"), 0)
    return raw.with_columns(text.get_column("_row_id").alias("row_id"))


def _csv_fixes(plan: PartitionPlan, text: pl.DataFrame, corrupt: pl.Series | None) -> pl.DataFrame:
    """What Spark's CSV reader does otherwise than the local one, undone.

    * Read multi-line (quoted line breaks), a CRLF file's last column keeps the ``\\r``.
    * A record with more cells than the header: Spark drops the extra cells, the local reader rejects
      the row ("row has N cells but the header names M columns") keeping only its claim id and line
      number; Spark's text of the record (``columnNameOfCorruptRecord``) tells which rows.
    """
    crlf = [number for number, spec in enumerate(plan.inputs) if spec.crlf]
    if crlf:
        # The line end's "\r" stays on the record's last cell, which is not the last column on a short row.
        mine = pl.col(FILE).is_in(crlf)
        text = text.with_columns(
            pl.when(mine).then(pl.col(c).str.strip_suffix("\r")).otherwise(pl.col(c)).alias(c)
            for c, dtype in text.schema.items() if dtype == pl.String() and c not in ("_source",))
    nul = [number for number, spec in enumerate(plan.inputs) if spec.nul]
    has_nul = None
    if nul:  # (probe 21B: Spark checked a row holding a NUL byte the local reader rejects)
        cells = [c for c, dtype in text.schema.items() if dtype == pl.String() and c != "_source"]
        has_nul = text.select(pl.col(FILE).is_in(nul) & pl.any_horizontal(
            pl.col(c).str.contains("\x00", literal=True) for c in cells).fill_null(False)).to_series()
        if not has_nul.any():
            has_nul = None
    if (corrupt is None or corrupt.null_count() == corrupt.len()) and has_nul is None:
        return text
    errors: list[str | None] = [None] * text.height
    blanked: list[bool] = [False] * text.height
    if has_nul is not None:
        for position in has_nul.arg_true().to_list():
            errors[position], blanked[position] = NUL_ROW, True
    files = text.get_column(FILE).to_list()
    for position in ([] if corrupt is None else corrupt.is_not_null().arg_true().to_list()):  # rare rows
        spec = plan.inputs[files[position]]
        record = corrupt[position]
        cells = next(csv.reader(io.StringIO(record, newline=""), strict=False), [])
        if spec.crlf and cells:
            cells[-1] = cells[-1].removesuffix("\r")
        width = len(spec.header)
        if len(cells) > width and any(c.strip() for c in cells) and not blanked[position]:
            errors[position] = f"row has {len(cells)} cells but the header names {width} columns"
            blanked[position] = True
    if not any(blanked):
        return text
    mask = pl.Series(blanked)
    ident = {*BAD_ROW_KEPT, FILE, "_row_id", "_source", "source_row"}  # (as the local reader keeps)
    return text.with_columns(
        *[pl.when(mask).then(pl.lit(None, dtype)).otherwise(pl.col(c)).alias(c)
          for c, dtype in text.schema.items() if c not in ident],
        pl.Series("load_error", errors, dtype=pl.String()),
    )


def _rejected_row_ids(raw: pl.DataFrame, lines: pl.DataFrame) -> pl.Series:
    """The row id of each rejected row: canonicalise lists them in row-id order, and they are the
    rows it did not keep."""
    kept = lines.get_column("row_id")
    return raw.get_column("row_id").filter(~raw.get_column("row_id").is_in(kept.implode())).sort()


def _report_lines(lines: pl.DataFrame, findings: pl.DataFrame, rejected: pl.DataFrame) -> bytes:
    """The lines the HTML report reads, as Arrow IPC bytes: every column for the claims it shows
    (a finding or a rejected row), the columns of its per-payer/month/policy tables for the rest."""
    shown = pl.concat([findings.get_column("claim_id"), rejected.get_column("claim_id")]).drop_nulls().unique()
    is_shown = lines.get_column("claim_id").is_in(shown.implode())
    narrow = [c for c in REPORT_NARROW if c in lines.columns]
    rest = lines.filter(~is_shown)
    out = pl.concat([
        lines.filter(is_shown),
        rest.select(
            *[pl.col(c) if c in narrow else pl.lit(None, dtype).alias(c) for c, dtype in lines.schema.items()]),
    ])
    buffer = io.BytesIO()
    out.write_ipc(buffer, compression="lz4")
    return buffer.getvalue()


def _shaped(kind: str, frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` in the output schema: its columns where it has them, nulls elsewhere."""
    schema = output_schema()
    return frame.select(
        *[pl.lit(kind).alias(KIND) if name == KIND else
          (pl.col(name).cast(dtype) if name in frame.columns else pl.lit(None, dtype).alias(name))
          for name, dtype in schema.items()]
    )


def arrow_batches(out: pl.DataFrame) -> Iterator[pa.RecordBatch]:
    """The output as Arrow batches of exactly the declared types (Spark refuses ``large_string``)."""
    import pyarrow as pa

    schema = pa.schema([pa.field(name, arrow_type(dtype)) for name, dtype in output_schema().items()])
    table = out.to_arrow(compat_level=pl.CompatLevel.oldest()).cast(schema)
    yield from table.to_batches()
