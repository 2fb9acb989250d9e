"""Turn a loader's raw text frame into the canonical typed frame, rejecting what does not fit.

All loaders hand over the same raw shape (:data:`scrubber.schema.RAW_SCHEMA`: text columns,
lists of text for modifiers and diagnoses, provenance, and an optional ``load_error`` a loader
already found), in one frame or in batches. This module is the only place that:

* normalises text (trims, upper-cases codes, removes the dot from ICD-10 codes, pads POS);
* casts to the canonical types, turning every unparseable value into a reason;
* applies the value rules of :data:`scrubber.schema.FIELDS` (the rules the pandera schema is
  built from) and explains each failure with pandera's own failure cases;
* rejects values beyond the bounds of :data:`scrubber.schema.FIELDS` (dates 1900-2100, units,
  charges, mg, minutes) with reasons, and reads dates as billing exports write them (ISO,
  ``M/D/YYYY``, ``YYYYMMDD``; a date that can only be day-first is refused, never guessed);
* rejects duplicate ``claim_id`` + ``line_number`` rows and whole claims whose lines disagree on a
  claim-level field, and gives a line that lacks a claim-level value its claim's (isolation: a
  row's own problem, or an unreadable row, never makes its claim's good lines disagree).

Every input row ends up in exactly one of the two returned frames: rows read = rows checked +
rows rejected.

Why it is written the way it is (issue 5: a scrub should cost little more than reading the file):

* **Clean data pays almost nothing.** Code columns hold a few hundred distinct values in millions
  of rows, so they are normalised and validated *per distinct value* and mapped back only when
  normalising changed something; numbers and dates are cast directly, and only the few values
  the fast cast refuses go through the lenient parser (``$1,234.50``, ``2026-03-02 09:00``).
  Both paths are one definition (:data:`_TEXT_NORMALISERS`, :func:`_parse`): the fast path only
  skips work whose result it can prove is the same.
* **Pandera explains, Polars decides.** The value rules are compiled from ``FIELDS`` into Polars
  expressions; pandera (0.4 s to import) runs only on the rows that fail, to word the reason, and
  the property tests validate every passing row with the full pandera schema.
* **Claims are runs.** Duplicate lines and claims whose lines disagree are found by comparing each
  row with its neighbour within a claim run (:mod:`scrubber.grouping`), not by hashing text
  keys; only the candidates are then compared exactly.
* **Batches.** Raw text is typed a batch at a time, so a 20M-line file is never held as text.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import polars as pl

from scrubber import reference
from scrubber.errors import UNPRINTABLE
from scrubber.grouping import claim_order, run_starts
from scrubber.payer_names import payer_keys
from scrubber.schema import (
    CLAIM_FILLED_COLUMNS,
    CLAIM_LEVEL_COLUMNS,
    CLAIM_TYPE_DEFAULT,
    FIELDS,
    MODIFIER_RE,
    NUMBER_FIELDS,
    PROVENANCE,
    RAW_FRAME_SCHEMA,
    location,
    pandera_schema,
    procedure_code_missing,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandera.polars as pa

REJECTED_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),
    "row": pl.Int64(),
    "location": pl.String(),
    "claim_id": pl.String(),
    "line_number": pl.String(),
    "reason": pl.String(),
}
_LONG_SCHEMA: dict[str, pl.DataType] = {"row_id": pl.Int64(), "column": pl.String(), "reason": pl.String()}
_RAW_COLUMNS: dict[str, pl.DataType] = dict(RAW_FRAME_SCHEMA)

_ROUTE_SYNONYMS = {
    "INTRAVENOUS": "IV",
    "IV PUSH": "PUSH",
    "IVP": "PUSH",
    "SUBCUTANEOUS": "SC",
    "SUBQ": "SC",
    "SQ": "SC",
    "SUBCUT": "SC",
    "INTRAMUSCULAR": "IM",
}

_DATE_FMT = "%Y-%m-%d"
_DATETIME_FAST_FMT = "%Y-%m-%dT%H:%M"  # the FORMATS.md spelling; anything else takes the lenient path
# Dates as billing exports write them (FORMATS.md): ISO, month-first M/D/YYYY (US exports), YYYYMMDD.
_US_DATE = r"^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}$"
_COMPACT_DATE = r"^[0-9]{8}$"
# Forms that can only be day-first: refused with their own reason, never read as something else.
_DAY_FIRST = r"^(?:1[3-9]|2[0-9]|3[01])/(?:0?[1-9]|1[0-2])/[0-9]{4}$|^[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{4}$"
# A datetime: a date in one of the forms above, "T" or spaces, then H:MM or HH:MM (seconds optional).
_DATETIME_PARTS = r"^(\S+?)(?:T|\s+)([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?$"
_DATE_FORMS = "a date YYYY-MM-DD, M/D/YYYY or YYYYMMDD"
_DATETIME_FORMS = "a datetime YYYY-MM-DDTHH:MM, M/D/YYYY H:MM or YYYYMMDD HH:MM"
# "1,234.50" as a spreadsheet formats money: commas only in thousands positions.
_THOUSANDS_RE = r"^[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?$"
# Queries over the few failing rows run on the in-memory engine: nothing to stream, and Polars
# 2.1's streaming engine panics in ``pl.format`` on some gathered string buffers.
_SMALL = "in-memory"
_CANONICAL_COLS: list[str] = list(PROVENANCE) + [f.name for f in FIELDS]
_PARSED_FIELDS = [f for f in FIELDS if not isinstance(f.dtype, pl.List) and f.dtype != pl.String()]
_PARSED_NAMES = {f.name for f in _PARSED_FIELDS}
_SCALAR_TEXT = [f.name for f in FIELDS if not isinstance(f.dtype, pl.List)]
_TEXT_FIELDS = [f for f in FIELDS if f.dtype == pl.String()]
# Text columns with (nearly) a distinct value per claim: normalised row by row, not per value.
_HIGH_CARDINALITY = frozenset({"claim_id", "member_id"})
_LIST_RULES: dict[str, tuple[str, str]] = {
    "modifiers": (MODIFIER_RE, "malformed modifier (expected 2 letters/digits)"),
    # Any non-blank value: one not shaped like an ICD-10-CM code (schema.DIAGNOSIS_RE) is a finding of
    # noncovered-diagnosis (RULES.md), not a rejected row, so it reaches the check (normalised).
    "diagnoses": (r".", "malformed ICD-10-CM diagnosis code"),
    "claim_diagnoses": (r".", "malformed ICD-10-CM diagnosis code"),
}


@dataclass
class Canonical:
    """The result of canonicalisation: rows to check and rows rejected, with reasons."""

    lines: pl.DataFrame
    rejected: pl.DataFrame
    rows_read: int
    # The rejected rows as far as they could be typed (canonical columns, null where a value did not
    # parse or is out of bounds). Never checked; they tell checks which codes the claim bills on its
    # rejected lines. Rows the loader could not read are not among them (their values are no evidence),
    # nor rows rejected as repeats of a kept line (the same values: nothing of the encounter is unread).
    rejected_lines: pl.DataFrame | None = None
    # Those unreadable rows (row_id, source, claim_id, line_number; claim_id and line_number as far as
    # they could be read): their claims bill a line whose code nobody knows, so a check that needs
    # every code of the claim can say it could not evaluate it instead of firing on a guess.
    unreadable_lines: pl.DataFrame | None = None


def empty_rejected() -> pl.DataFrame:
    return pl.DataFrame(schema=REJECTED_SCHEMA)


# --------------------------------------------------------------------------- normalisation rules
# One definition each, used per distinct value (fast path) and per row (failing rows, reasons).


def _strip_blank(text: pl.Expr) -> pl.Expr:
    """Trimmed text; empty or whitespace-only is null (an empty cell)."""
    stripped = text.str.strip_chars()
    return pl.when(stripped.str.len_bytes() > 0).then(stripped)


def _pos(text: pl.Expr) -> pl.Expr:
    pos = _strip_blank(text)
    # Spreadsheets drop the leading zero of POS codes ("2" for "02").
    return pl.when(pos.str.len_bytes() == 1).then(pl.lit("0") + pos).otherwise(pos)


def _revenue_code(text: pl.Expr) -> pl.Expr:
    code = _strip_blank(text)
    # UB-04 revenue codes are 4 digits; exports (and 4010-era files) drop the leading zero: 250 is 0250.
    return pl.when(code.str.contains(r"^[0-9]{3}$")).then(pl.lit("0") + code).otherwise(code)


_TEXT_NORMALISERS: dict[str, Callable[[pl.Expr], pl.Expr]] = {
    "procedure_code": lambda e: _strip_blank(e).str.to_uppercase(),
    "claim_type": lambda e: _strip_blank(e).str.to_lowercase(),
    "route": lambda e: _strip_blank(e).str.to_uppercase().replace(_ROUTE_SYNONYMS),
    "place_of_service": _pos,
    "ndc": lambda e: _strip_blank(e).str.replace_all("-", "", literal=True),
    "payer_sequence": lambda e: _strip_blank(e).str.to_uppercase(),
    "revenue_code": _revenue_code,
}


def _text_normaliser(col: str) -> Callable[[pl.Expr], pl.Expr]:
    return _TEXT_NORMALISERS.get(col, _strip_blank)


def _modifier_value(text: pl.Expr) -> pl.Expr:
    return text.str.strip_chars().str.to_uppercase()


def diagnosis_value(text: pl.Expr) -> pl.Expr:
    """Upper case without the dot: "d80.0" is D800. Only a dot after the 3-character category is
    the code's dot; one elsewhere ("D8.00") stays, so the code fails the format rule as the typo it is."""
    return text.str.strip_chars().str.to_uppercase().str.replace(r"^([A-Z0-9]{3})\.", "${1}")


# Normalised list element (empty after normalising = dropped), per list column.
_LIST_VALUES: dict[str, Callable[[pl.Expr], pl.Expr]] = {"modifiers": _modifier_value, "diagnoses": diagnosis_value,
                                                          "claim_diagnoses": diagnosis_value}


# List columns a row may leave out (null: not given) rather than give empty: a claim's own diagnoses,
# which a CSV row has no place for; so an 837's list and the same line from a CSV are one line, not two
# rows that differ (a value one of them leaves out is no difference: _duplicate_reasons).
_NULL_WHEN_ABSENT = frozenset({"claim_diagnoses"})


def _list_filled(col: str, expr: pl.Expr) -> pl.Expr:
    """``expr`` with a null list made empty, except for the columns of :data:`_NULL_WHEN_ABSENT`."""
    return expr if col in _NULL_WHEN_ABSENT else expr.fill_null(pl.lit([], dtype=pl.List(pl.String())))


def _normalise_list(col: str) -> pl.Expr:
    element = _LIST_VALUES[col](pl.element())
    return _list_filled(col, pl.col(col).list.eval(element.filter(element.str.len_bytes() > 0)))


def _normalise_text(lf: pl.LazyFrame) -> pl.LazyFrame:
    """Row-by-row normalisation of every column (the reference the per-value fast path follows)."""
    return lf.with_columns(
        *[_text_normaliser(c)(pl.col(c)).alias(c) for c in _SCALAR_TEXT],
        *[_normalise_list(c).alias(c) for c in _LIST_VALUES],
    )


def _unparsed_reason(f: Any, text: pl.Expr, shown: pl.Expr) -> pl.Expr:
    """Why ``text`` (field ``f``'s value) did not parse: "unparseable ... (expected ...)", except a whole
    number too large for the column's integer type, which breaks the field's bound (line_number
    100000000000000000000000 is no "unparseable" text: it is over 999,999)."""
    expected = _parse(f.name, f.dtype)[1]
    reason = pl.format("unparseable {} '{}' (expected {})", pl.lit(f.name), shown, pl.lit(expected))
    if f.dtype not in (pl.Int32(), pl.Int64()):
        return reason
    bounds = {name: words for name, _, words in f.checks if name in ("ge", "le")}
    whole = text.str.strip_chars().str.contains(r"^[+-]?[0-9]+(\.0*)?$")
    negative = text.str.strip_chars().str.starts_with("-")
    for name, condition in (("ge", negative), ("le", ~negative)):
        if name in bounds:
            reason = pl.when(whole & condition).then(
                pl.format("{} ({} = '{}')", pl.lit(bounds[name]), pl.lit(f.name), shown)).otherwise(reason)
    return reason


def _parse(col: str, dtype: pl.DataType) -> tuple[pl.Expr, str]:
    """Expression casting (normalised) text to ``dtype``, null on failure, and what was expected."""
    text = pl.col(col)
    if dtype == pl.Date():
        return _date_value(text), _DATE_FORMS
    if isinstance(dtype, pl.Datetime):
        parts = text.str.extract_groups(_DATETIME_PARTS)
        hour, minute = (parts.struct.field(k).cast(pl.Int64, strict=False) for k in ("2", "3"))
        second = parts.struct.field("4").cast(pl.Int64, strict=False).fill_null(0)
        clock = pl.duration(hours=hour, minutes=minute, seconds=second, time_unit="us")
        day = _date_value(parts.struct.field("1")).cast(pl.Datetime("us"))
        valid = (hour < 24) & (minute < 60) & (second < 60)
        return pl.when(valid).then(day + clock), _DATETIME_FORMS
    if dtype in (pl.Int32(), pl.Int64()):
        # "3" and "3.0" are both line 3; "3.5" is not a whole number and fails.
        whole = text.str.replace(r"^([+-]?[0-9]+)\.0*$", "${1}")
        return whole.cast(dtype, strict=False), "a whole number"
    if dtype == pl.Float64():
        amount = text.str.strip_prefix("$")
        amount = pl.when(amount.str.contains(",", literal=True) & amount.str.contains(_THOUSANDS_RE)).then(
            amount.str.replace_all(",", "", literal=True)
        ).otherwise(amount)
        parsed = amount.cast(pl.Float64, strict=False)
        # Non-finite numbers ("inf", "nan", "1e400") parse as floats but are not amounts.
        return pl.when(parsed.is_finite()).then(parsed), "a number"
    return text, ""


def _date_value(text: pl.Expr) -> pl.Expr:
    """A date in any accepted form (ISO, M/D/YYYY, YYYYMMDD), null otherwise; never a guess."""
    return pl.coalesce(
        text.str.to_date(_DATE_FMT, strict=False),
        pl.when(text.str.contains(_US_DATE)).then(text.str.to_date("%m/%d/%Y", strict=False)),
        pl.when(text.str.contains(_COMPACT_DATE)).then(text.str.to_date("%Y%m%d", strict=False)),
    )


def _fast_parse(col: str, dtype: pl.DataType) -> pl.Expr:
    """A direct cast of raw text; where it gives a value, :func:`_parse` of the normalised text gives the same.

    It refuses more than ``_parse`` (no trimming, no ``$``, no seconds), never accepts more; the
    refusals are re-parsed leniently (:func:`_complete_parse`).
    """
    text = pl.col(col)
    if dtype == pl.Date():
        return text.str.to_date(_DATE_FMT, strict=False)
    if isinstance(dtype, pl.Datetime):
        # No cache of distinct values: datetimes are nearly unique per line, so hashing them costs more
        # than it saves (dates above keep it: a few hundred days in a million lines).
        return text.str.to_datetime(_DATETIME_FAST_FMT, time_unit="us", strict=False, cache=False)
    # Floats: a non-finite value ("inf", "nan") counts as refused (see _complete_parse), which is
    # cheaper than a when/then over every row.
    return text.cast(dtype, strict=False)


# --------------------------------------------------------------------------- typing one batch


def _conform(raw: pl.DataFrame) -> pl.DataFrame:
    """Exactly the raw columns, in order (missing optional ones as nulls), as text but the number
    columns a reader typed with values taken as they are (:func:`takes_as_read`)."""
    if list(raw.schema) == list(_RAW_COLUMNS) and all(  # the CSV loader's batches
            t == _RAW_COLUMNS[c] or t == NUMBER_FIELDS.get(c) for c, t in raw.schema.items()):
        return raw  # (typed number columns are held to takes_as_read by _type_batch)
    return raw.select(
        [pl.col(c).cast(t) if c in raw.columns else pl.lit(None, t).alias(c) for c, t in _RAW_COLUMNS.items()]
    )


def takes_as_read(batch: pl.DataFrame) -> bool:
    """Whether typing takes the number columns ``batch`` holds already typed
    (:data:`scrubber.schema.NUMBER_FIELDS`) as they are: every value finite and within every check of
    its field, so that no row can fail on one, and no line number missing. A value that fails must
    come as the file wrote it: its rejection quotes the text, and the lenient parse and the reasons
    read text; a rejected row shows its line number as written, even blank (the reader reads a
    blank number cell as null). Decided from the columns' extremes and float sums, as typing asks
    them (:func:`_not_as_read`)."""
    typed = _typed_numbers(batch)
    if "line_number" in typed and batch.get_column("line_number").null_count():
        return False
    if not typed:
        return True
    facts = batch.select(*_bounds_broken(typed),
                         *[pl.col(c).sum().alias(f"_sum_{c}") for c in typed if batch.schema[c].is_float()])
    return not _not_as_read(facts.row(0, named=True), typed)


def _typed_numbers(raw: pl.DataFrame) -> set[str]:
    """The number columns ``raw`` holds already typed (in their canonical dtype) instead of as text."""
    return {c for c, t in raw.schema.items() if t == NUMBER_FIELDS.get(c)}


def _not_as_read(facts: dict[str, Any], typed: set[str]) -> bool:
    """Whether a typed number column breaks :func:`takes_as_read`, from the facts typing asks anyway
    (:func:`_cast_stats`): a bound its extremes break (``_bound_i``), a float sum not finite (a NaN
    or an infinity read; ``_sum_c``)."""
    return (any(facts.get(f"_bound_{i}") for i, (col, _, _) in enumerate(_BOUNDS) if col in typed)
            or not all(math.isfinite(facts.get(f"_sum_{c}") or 0.0) for c in typed))


def _as_text(raw: pl.DataFrame) -> pl.DataFrame:
    """``raw`` with its typed number columns as text: what the reasons of rejected rows read (values
    :func:`takes_as_read` took are never quoted as failing; they must only parse again)."""
    typed = _typed_numbers(raw)
    return raw.cast(dict.fromkeys(typed, pl.String())) if typed else raw


def _element_value(col: str, element: pl.Expr) -> pl.Expr:
    """Normalised list element; empty becomes null (dropped from the list)."""
    value = _LIST_VALUES[col](element)
    return pl.when(value.str.len_bytes() > 0).then(value)


def _passes(f: Any, value: pl.Expr) -> pl.Expr:
    """Whether a normalised text value passes every rule of text field ``f``."""
    ok = pl.lit(True)
    for name, arg, _reason in f.checks:
        ok = ok & _rule(name, arg, value)
    return ok


def _distinct_values(raw: pl.LazyFrame, low_card: list[str]) -> pl.LazyFrame:
    """One row: for each code column and list column, its distinct values (``c``), their normalised
    spelling in the same order (``_norm_c``), and the distinct normalised values that break a rule
    of the column (``_bad_c``).

    A lazy plan, run with the direct casts (:func:`_type_batch`): a query per column and step was
    some fifty small ones per batch, each waiting for its turn in the thread pool.
    """
    fields = {f.name: f for f in FIELDS}
    normalised = {
        **{c: pl.col(c).list.eval(_text_normaliser(c)(pl.element())) for c in low_card},
        **{c: pl.col(c).list.eval(_element_value(c, pl.element())) for c in _LIST_VALUES},
    }
    passes = {
        **{c: (lambda e, f=fields[c]: _passes(f, e)) for c in low_card if fields[c].checks},
        **{c: (lambda e, regex=_LIST_RULES[c][0]: e.str.contains(regex)) for c in _LIST_VALUES},
    }
    empty = pl.lit([], dtype=pl.List(pl.String()))
    return raw.select(
        *[pl.col(c).drop_nulls().unique().implode() for c in low_card],
        *[pl.col(c).explode().drop_nulls().unique().implode() for c in _LIST_VALUES],
    ).with_columns(
        *[e.alias(f"_norm_{c}") for c, e in normalised.items()],
        *[(normalised[c].list.eval(pl.element().drop_nulls().unique())
           .list.eval(pl.element().filter(~passes[c](pl.element()))) if c in passes else empty).alias(f"_bad_{c}")
          for c in normalised],
    )


def _per_value(row: pl.DataFrame, col: str) -> tuple[pl.Series, pl.Series, pl.Series]:
    """Column ``col``'s distinct values, their normalised spelling and its rule breakers (one row
    of :func:`_distinct_values`)."""
    return row.get_column(col)[0], row.get_column(f"_norm_{col}")[0], row.get_column(f"_bad_{col}")[0]


def _unchanged(distinct: pl.Series, normalised: pl.Series) -> bool:
    """Whether normalising leaves every distinct value as it is (then no row needs remapping)."""
    return normalised.null_count() == 0 and bool((normalised == distinct).all())


# Every bound of the parsed fields, in order: (column, check, bound).
_BOUNDS: list[tuple[str, str, Any]] = [(f.name, name, arg) for f in _PARSED_FIELDS for name, arg, _ in f.checks]


def _bounds_broken(names: Iterable[str]) -> list[pl.Expr]:
    """Aggregates (``_bound_i``, one per bound of :data:`_BOUNDS` on ``names``): whether the column's
    extreme breaks it, i.e. whether some row may. Compared by Polars (a year-0 date has no Python
    value). A float column that read a NaN, which min/max skip, is re-parsed (:func:`_complete_parse`)
    and its flags asked again."""
    names = set(names)
    return [(~_rule(name, arg, pl.col(col).max() if name == "le" else pl.col(col).min()))
            .fill_null(False).alias(f"_bound_{i}") for i, (col, name, arg) in enumerate(_BOUNDS) if col in names]


def _bound_failures(stats: dict[str, Any]) -> list[pl.Expr]:
    """Row tests for the bounds whose flag (:func:`_bounds_broken`) is set in ``stats``; none for a
    bound the column's extremes keep (the usual case: then no row-level test is paid)."""
    tests: dict[str, pl.Expr] = {}
    for i, (col, name, arg) in enumerate(_BOUNDS):
        if stats.get(f"_bound_{i}"):
            row = ~_rule(name, arg, pl.col(col))
            tests[col] = tests[col] | row if col in tests else row
    return [test.fill_null(False) for test in tests.values()]


def _type_batch(raw: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series, dict[str, pl.Series], pl.Series]:
    """The canonical typed frame of one raw batch, which of its rows fail (to be explained later),
    the values of claim-level text fields that break their own rule (see :func:`_claim_keys`), and
    its distinct typed payers (known here per distinct value; :func:`_compared` needs them).

    A clean batch costs three queries: distinct values with their normalisation and rule checks
    together with the direct casts, the facts about the cast columns (:func:`_cast_stats`), the
    remap. While the background CSV reader runs, each query waits for its turn in the thread pool
    (1-3 ms measured), so what a column's metadata (null counts) tells is read there, and the rest
    is asked in as few queries as possible (they replace ~40 per batch).
    """
    low_card = [f.name for f in _TEXT_FIELDS if f.name not in _HIGH_CARDINALITY]
    # A column the batch never fills (infusion times of an export without them) is made null, not
    # parsed: to_date/to_datetime cost ~15 ms per 2M nulls.
    direct_plan = raw.lazy().select(
        *[(pl.lit(None, f.dtype) if raw.get_column(f.name).null_count() == raw.height
           else _fast_parse(f.name, f.dtype)).alias(f.name) for f in _PARSED_FIELDS],
        *[pl.col(c).str.strip_chars().alias(c) for c in _HIGH_CARDINALITY],
    )
    # (in memory, as an eager select runs: the default engine splits the casts into more chunks, for
    # 0.04 s more CPU on 2M lines)
    values, direct = pl.collect_all([_distinct_values(raw.lazy(), low_card), direct_plan], engine="in-memory")
    stats = _cast_stats(direct)
    if _not_as_read(stats, _typed_numbers(raw)):
        # (never from the CSV loader, which holds its batches to takes_as_read; a caller that hands
        # over such typed numbers gets them typed from their text, written as Polars writes them)
        return _type_batch(_as_text(raw))
    if any(stats[f"_shortest_{c}"] == 0 for c in _HIGH_CARDINALITY):
        # a whitespace-only id: empty, as _strip_blank says (rare, so not paid on every row)
        direct = direct.with_columns(pl.col(c).replace("", None) for c in _HIGH_CARDINALITY)

    columns: dict[str, pl.Series] = {c: raw.get_column(c) for c in PROVENANCE}
    remap: list[pl.Expr] = []
    # Row-level tests only for what some row may fail: a rule of a code column when one of its
    # distinct values breaks it, a null test when the column has nulls, a bound when the column's
    # extremes pass it. A clean batch pays for none of them.
    rule_bad: list[pl.Expr] = [pl.col(c).is_not_null() for c in ("load_error", "value_error")
                               if raw.get_column(c).null_count() < raw.height]
    invalid: dict[str, pl.Series] = {}
    for col in low_card:
        distinct, normalised, bad = _per_value(values, col)
        expr = pl.col(col)
        if not _unchanged(distinct, normalised):
            expr = expr.replace_strict(distinct, normalised, default=None, return_dtype=pl.String())
        remap.append(expr.alias(col))
        if bad.len():
            rule_bad.append(pl.col(col).is_in(bad.implode()))
            if col in CLAIM_LEVEL_COLUMNS:
                invalid[col] = bad
    payers = _per_value(values, "payer")[1].drop_nulls()  # the typed column's values
    for col in _LIST_VALUES:
        distinct, normalised, bad = _per_value(values, col)
        expr = _list_filled(col, pl.col(col))
        if not _unchanged(distinct, normalised):
            element = pl.element().replace_strict(distinct, normalised, default=None)
            if normalised.null_count():  # some element is blank once trimmed: drop it
                element = element.drop_nulls()
            # (inside list.eval: list.drop_nulls() costs 15x as much on 2M lists)
            expr = expr.list.eval(element)
        remap.append(expr.alias(col))
        if bad.len():
            rule_bad.append(pl.col(col).list.eval(pl.element().is_in(bad.implode())).list.any())
    normalised_frame = raw.select(remap)

    for f in FIELDS:
        if f.name in _PARSED_NAMES or f.name in _HIGH_CARDINALITY:
            columns[f.name] = direct.get_column(f.name)
        else:
            columns[f.name] = normalised_frame.get_column(f.name)
    # A cast never turns a null into a value: a column refused some text when it has more nulls than
    # the text (metadata, no pass over the rows), or a float read a NaN or an infinity.
    refused = [f for f in _PARSED_FIELDS if raw.schema[f.name] == pl.String() and (  # (typed ones were taken)
               columns[f.name].null_count() > raw.get_column(f.name).null_count()
               or not math.isfinite(stats.get(f"_sum_{f.name}") or 0.0))]
    parse_failed = _complete_parse(raw, columns, refused) if refused else None
    if refused:  # the re-parsed columns have other extremes
        stats.update(pl.DataFrame([columns[f.name] for f in refused]).select(
            _bounds_broken(f.name for f in refused)).row(0, named=True))
    typed = pl.DataFrame([columns[c] for c in _CANONICAL_COLS])

    for f in FIELDS:
        nulls = columns[f.name].null_count()
        if f.name == "procedure_code":
            if nulls:
                # A line without claim_type may be institutional once its claim's type is known; such a
                # line with a revenue code is decided after the claim-level pass (canonicalise).
                undecided = pl.col("claim_type").is_null() & pl.col("revenue_code").is_not_null()
                rule_bad.append(procedure_code_missing() & ~undecided)
        elif f.required and nulls:
            rule_bad.append(pl.col(f.name).is_null())
    rule_bad.extend(_bound_failures(stats))
    if rule_bad:
        checks_frame = typed.with_columns(raw.get_column(c) for c in ("load_error", "value_error")
                                          if raw.get_column(c).null_count() < raw.height)
        failed = checks_frame.select(pl.any_horizontal(rule_bad).alias("_failed")).to_series()
    else:
        failed = pl.repeat(False, raw.height, eager=True).alias("_failed")
    if parse_failed is not None:
        failed = failed | parse_failed
    return typed, failed, invalid, payers


def _cast_stats(direct: pl.DataFrame) -> dict[str, Any]:
    """What typing needs to know of the cast columns, in one query: the shortest stripped id
    (``_shortest_c``: 0 when one is blank), each float column's sum (``_sum_c``: not finite when a
    NaN or an infinity was read, or a sum beyond 1.8e308: then a needless re-parse) and which
    bounds the extremes break (:func:`_bounds_broken`)."""
    filled = [f.name for f in _PARSED_FIELDS if direct.get_column(f.name).null_count() < direct.height]
    return direct.select(
        *[pl.col(c).str.len_bytes().min().alias(f"_shortest_{c}") for c in _HIGH_CARDINALITY],
        *[pl.col(c).sum().alias(f"_sum_{c}") for c in filled if direct.schema[c] == pl.Float64()],
        *_bounds_broken(filled),
    ).row(0, named=True)


def _complete_parse(raw: pl.DataFrame, columns: dict[str, pl.Series], fields: list[Any]) -> pl.Series | None:
    """Re-parse leniently the values the direct cast refused; mark the ones that still fail.

    ``fields``: the parsed fields whose direct cast refused some value (a cast never turns a null
    into a value, so those with more nulls than their text, and floats that read a NaN or an
    infinity). Updates ``columns`` in place; returns the rows with a value that does not parse at
    all (None when there is none).
    """
    def not_parsed(f: Any) -> pl.Expr:
        value = pl.lit(columns[f.name])
        missing = value.is_null() if f.dtype != pl.Float64() else ~value.is_finite().fill_null(False)
        return (pl.col(f.name).is_not_null() & missing).alias(f.name)

    refused = raw.select(not_parsed(f) for f in fields)
    any_refused = refused.select(pl.any_horizontal(pl.all())).to_series()
    rows = any_refused.arg_true()
    lenient = raw.select(*[pl.col(f.name).gather(rows).pipe(_strip_blank).alias(f"_t_{f.name}") for f in fields])
    failed = pl.repeat(False, raw.height, eager=True).alias("_failed")
    failed_rows: list[pl.Series] = []
    for f in fields:
        was_refused = refused.get_column(f.name).gather(rows)
        if not was_refused.any():
            continue
        text = lenient.get_column(f"_t_{f.name}")
        expr, _ = _parse(f"_t_{f.name}", f.dtype)
        value = lenient.select(expr.alias(f.name)).to_series()
        at = rows.filter(was_refused)
        columns[f.name] = columns[f.name].clone().scatter(at, value.filter(was_refused))
        still = (text.is_not_null() & value.is_null()).filter(was_refused)
        if still.any():
            failed_rows.append(at.filter(still))
    if not failed_rows:
        return None
    return failed.scatter(pl.concat(failed_rows).unique(), True)


def _rule(name: str, arg: Any, value: pl.Expr) -> pl.Expr:
    """A value check of :data:`scrubber.schema.FIELDS` as a Polars condition (true: the value passes)."""
    if name == "ge":
        return value >= arg
    if name == "gt":
        return value > arg
    if name == "le":
        return value <= arg
    if name == "isin":
        return value.is_in(arg)
    if name == "str_matches":
        return value.str.contains(arg)
    raise ValueError(f"no rule for check {name}")  # pragma: no cover - FIELDS declares only these


def comparable_values(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """``frame`` with each of ``columns`` (text, as a file holds it) replaced by the value a canonical
    row would hold, as text: normalised, numbers and times parsed ("35000" and "35000.0", "IV" and "iv",
    "09:00" and "09:00:00" are one value); a value that does not parse stays as its trimmed text. For
    telling whether two rows of a side file (``--records``) say the same thing."""
    fields = {f.name: f for f in FIELDS}
    out = frame
    for col in columns:
        f = fields[col]
        if f.dtype == pl.String():
            out = out.with_columns(_text_normaliser(col)(pl.col(col).cast(pl.String)).alias(col))
            continue
        out = out.with_columns(_strip_blank(pl.col(col).cast(pl.String)).alias("_t"))
        parsed, _ = _parse("_t", f.dtype)
        out = out.with_columns(pl.coalesce(parsed.cast(pl.String), pl.col("_t")).alias(col)).drop("_t")
    return out


def value_problems(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """Why values of ``columns`` (text, as a file holds them) cannot be taken: ``(_i, column, reason)``
    per value that does not parse or breaks its field's rules, ``_i`` the row's position in ``frame``.

    The same normalisation, parsing and rules as canonical rows get, for text that arrives beside
    the claims (a ``--records`` file), so its problems can be blamed on the file they come from.
    """
    out = [pl.DataFrame(schema={"_i": pl.UInt32(), "column": pl.String(), "reason": pl.String()})]
    fields = {f.name: f for f in FIELDS}
    indexed = frame.with_row_index("_i")
    for col in columns:
        f = fields[col]
        text = _text_normaliser(col)(pl.col(col).cast(pl.String)) if f.dtype == pl.String() else _strip_blank(
            pl.col(col).cast(pl.String))
        typed = indexed.select("_i", text.alias("_t"), pl.col(col).cast(pl.String).alias("_raw")).filter(
            pl.col("_t").is_not_null())
        if f.dtype != pl.String():
            parsed, _ = _parse("_t", f.dtype)
            typed = typed.with_columns(parsed.alias("_v"))
            bad_parse = typed.filter(pl.col("_v").is_null())
            out.append(bad_parse.select("_i", pl.lit(col).alias("column"), _unparsed_reason(
                f, pl.col("_t"), _shown(pl.col("_raw").str.strip_chars())).alias("reason")))
            typed = typed.filter(pl.col("_v").is_not_null())
        else:
            typed = typed.with_columns(pl.col("_t").alias("_v"))
        for name, arg, reason in f.checks:
            shown = _shown(pl.col("_raw").str.strip_chars())
            out.append(typed.filter(~_rule(name, arg, pl.col("_v"))).select(
                "_i", pl.lit(col).alias("column"),
                pl.format("{} ({} = '{}')", pl.lit(reason), pl.lit(col), shown).alias("reason")))
    return pl.concat(out).sort("_i", "column")


# --------------------------------------------------------------------------- reasons for failing rows


_SHOWN_CHARS = 60


def printable(text: pl.Expr) -> pl.Expr:
    """Text safe to print on one line: line breaks and tabs escaped, other control characters replaced."""
    flat = (text.str.replace_all("\r", "\\r", literal=True).str.replace_all("\n", "\\n", literal=True)
            .str.replace_all("\t", "\\t", literal=True))
    return flat.str.replace_all(UNPRINTABLE, "\ufffd")


def _shown(value: pl.Expr) -> pl.Expr:
    """A value as it may appear inside a one-line reason: printable (:func:`printable`), long text cut."""
    flat = printable(value)
    return pl.when(flat.str.len_chars() > _SHOWN_CHARS).then(flat.str.slice(0, _SHOWN_CHARS) + "...").otherwise(flat)


def _parse_reasons(raw_failing: pl.LazyFrame) -> pl.DataFrame:
    """One (row_id, column, reason) per value that did not parse, and per loader error, of failing rows."""
    lf = _normalise_text(raw_failing)
    frames = [
        lf.filter(pl.col(c).is_not_null()).select("row_id", pl.lit(c).alias("column"), pl.col(c).alias("reason"))
        for c in ("load_error", "value_error")
    ]
    for f in _PARSED_FIELDS:
        parsed, _ = _parse(f.name, f.dtype)
        reason = _unparsed_reason(f, pl.col(f.name), _shown(pl.col(f.name)))
        if f.dtype == pl.Date() or isinstance(f.dtype, pl.Datetime):
            day_first = pl.col(f.name).str.split(" ").list.first().str.split("T").list.first().str.contains(_DAY_FIRST)
            reason = pl.when(day_first).then(pl.format(
                "day-first {} '{}' is not read (never guessed): write YYYY-MM-DD, or M/D/YYYY month first",
                pl.lit(f.name), _shown(pl.col(f.name)))).otherwise(reason)
        frames.append(
            lf.filter(pl.col(f.name).is_not_null() & parsed.is_null()).select(
                "row_id", pl.lit(f.name).alias("column"), reason.alias("reason")
            )
        )
    return pl.concat(pl.collect_all(frames, engine=_SMALL)).cast(_LONG_SCHEMA)


def _list_element_matches(regex: str) -> Callable[[Any], pl.LazyFrame]:
    """A pandera custom check: every element of a list column matches ``regex`` (an empty list passes)."""

    def check(data: Any) -> pl.LazyFrame:  # pandera's PolarsData: .lazyframe and .key
        return data.lazyframe.select(pl.col(data.key).list.eval(pl.element().str.contains(regex)).list.all())

    return check


@cache
def _validator() -> pa.DataFrameSchema:
    """The schema's value checks, plus element checks for the list columns; built once per process."""
    import pandera.polars as pa

    schema = pandera_schema(frame_checks=False)  # the procedure-code rule is worded by canonicalise
    for col, (regex, reason) in _LIST_RULES.items():
        schema = schema.update_column(col, checks=[pa.Check(_list_element_matches(regex), error=reason)])
    return schema


def _pandera_reasons(lines: pl.DataFrame) -> pl.DataFrame:
    """Run the pandera schema on (failing) typed rows; one (row_id, column, check) per failing value."""
    import pandera.polars as pa

    try:
        _validator().validate(lines, lazy=True)
        return pl.DataFrame(schema=_LONG_SCHEMA)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    # A failure without a row index would be a frame-level (type) problem: canonicalise built the
    # types itself, so that cannot happen; rows are what we reject.
    cases = cases.filter(pl.col("index").is_not_null())
    row_id = lines.get_column("row_id").gather(cases.get_column("index").cast(pl.Int64))
    return cases.select(row_id.alias("row_id"), "column", pl.col("check").alias("reason")).cast(_LONG_SCHEMA)


def _explain_value_failures(cases: pl.DataFrame, raw_failing: pl.DataFrame) -> pl.DataFrame:
    """Reasons a person can act on: the check's wording plus the value *as written in the file*."""
    if cases.height == 0:
        return cases
    out = [
        cases.filter(pl.col("reason") == "not_nullable").select(
            "row_id", "column", pl.format("missing required value {}", pl.col("column")).alias("reason")
        )
    ]
    valued = cases.filter(pl.col("reason") != "not_nullable")
    for col in valued.get_column("column").unique().sort():
        mine = valued.filter(pl.col("column") == col)
        if col in _LIST_RULES:
            regex, _ = _LIST_RULES[col]
            element = _LIST_VALUES[col](pl.element())
            shown = raw_failing.select(
                "row_id",
                pl.col(col)
                .list.eval(pl.element().filter((element.str.len_bytes() > 0) & ~element.str.contains(regex)))
                .list.eval(pl.format("'{}'", _shown(pl.element())))
                .list.join(", ")
                .alias("_shown"),
            )
            reason = pl.format("{} {}", pl.col("reason"), pl.col("_shown"))
        else:
            shown = raw_failing.select("row_id", _shown(pl.col(col).str.strip_chars()).alias("_shown"))
            reason = pl.format("{} ({} = '{}')", pl.col("reason"), pl.lit(col), pl.col("_shown"))
        out.append(mine.join(shown, on="row_id", how="left").select("row_id", "column", reason.alias("reason")))
    return pl.concat(out)


# --------------------------------------------------------------------------- claim-level rules


def _compared(col: str, distinct: pl.Series) -> pl.Expr:
    """A claim-level value as policies match it: the payer as :func:`scrubber.payer_names.payer_key`
    reads it (``Medicare``, ``MEDICARE`` and ``MEDICARE `` are one payer), mapped per distinct payer
    (``distinct``: the column's distinct values, or more: the typed payers of every batch), and not at
    all when every payer is its own key already (0.3 s saved on 2M lines)."""
    if col != "payer":
        return pl.col(col)
    return payer_keys(col, distinct)


def _claim_level_candidates(keys: pl.DataFrame, payers: pl.Series) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rows of claims that may hold a duplicate line, and of claims whose lines may disagree.

    Each row is compared with the previous row of its claim run (claims made contiguous by
    :func:`scrubber.grouping.claim_order`): a run whose line numbers do not strictly increase may
    repeat one, a run where a claim-level value changes disagrees. Only these candidates are then
    compared exactly (:func:`_claim_level_reasons`); a clean batch pays a few vectorised
    comparisons. ``payers``: every distinct payer of ``keys`` (see :func:`_compared`).
    """
    # (each filter copies every key column: skipped when it would keep every row)
    keyed = keys.filter(pl.col("claim_id").is_not_null()) if keys.get_column("claim_id").null_count() else keys
    order = claim_order(keyed.get_column("claim_id"))
    if order is not None:
        keyed = keyed[order]
    # Columns no line fills cannot disagree; the others compare each value with the last one seen
    # (a line without one neither disagrees nor hides a disagreement between the lines around it).
    nulls = {c: keyed.get_column(c).null_count() for c in CLAIM_LEVEL_COLUMNS}
    changes = [
        (e.ne(e.forward_fill().shift(1)).fill_null(False) if nulls[c] else e.ne_missing(e.shift(1)))
        for c, e in ((c, _compared(c, payers)) for c in CLAIM_LEVEL_COLUMNS if nulls[c] < keyed.height)
    ]
    # Rows without a line number are rejected anyway; they must not hide a repeat between others.
    numbered = keyed.filter(pl.col("line_number").is_not_null()) if keyed.get_column(
        "line_number").null_count() else keyed
    start = run_starts(keyed.get_column("claim_id"))
    # One select computes the flags from the key columns as they are: adding the run columns to the
    # frame first (hstack) realigned every key column's chunks, twice (0.1 s on 2M lines).
    flags = keyed.select(
        (~pl.lit(start) & pl.any_horizontal(changes or [pl.lit(False)])).fill_null(False).alias("conflict"),
        *([_repeat(pl.lit(start)).alias("repeat")] if numbered is keyed else []),
    )
    runs = start.cum_sum()
    if numbered is keyed:
        dup = _runs_where(numbered, runs, flags.get_column("repeat"))
    else:
        numbered_start = run_starts(numbered.get_column("claim_id"))
        repeat = numbered.select(_repeat(pl.lit(numbered_start))).to_series()
        dup = _runs_where(numbered, numbered_start.cum_sum(), repeat)
    return dup, _runs_where(keyed, runs, flags.get_column("conflict"))


def _repeat(start: pl.Expr) -> pl.Expr:
    """A line number not above the previous one of its claim run (``start``: the row starts a run)."""
    return (~start & (pl.col("line_number") <= pl.col("line_number").shift(1))).fill_null(False)


def _runs_where(rows: pl.DataFrame, runs: pl.Series, flag: pl.Series) -> pl.DataFrame:
    """The rows of every claim run (``runs``: run id per row) in which ``flag`` holds on some row."""
    bad = runs.filter(flag)
    if bad.len() == 0:
        return rows.clear()
    return rows.filter(pl.lit(runs).is_in(bad.unique().implode()))


def _claim_level_reasons(keys: pl.DataFrame, payers: pl.Series, typed: pl.DataFrame, failed: pl.Series,
                         raw_failing: pl.DataFrame | None = None
                         ) -> tuple[pl.DataFrame, pl.Series, pl.DataFrame | None]:
    """Duplicate line keys, and claims whose lines disagree on member, payer or claim type.

    Payer is compared as policies match it (:func:`scrubber.payer_names.payer_key`): ``Medicare`` and
    ``MEDICARE`` select the same policy and are not a disagreement. ``payers``: every distinct
    payer of ``keys``, known from typing. ``typed`` and ``failed`` (row ids failing a row rule): what
    repeated line keys are compared by (:func:`_duplicate_reasons`). Also returns the row ids rejected
    as repeats of a kept line, and the kept lines' values merged from them.
    """
    dup, claims = _claim_level_candidates(keys, payers)
    duplicates, repeats, merged = _duplicate_reasons(dup, typed, failed, raw_failing)
    frames = [duplicates]
    if claims.height:
        # A claim whose lines come from several input files: say so, the usual cause is two
        # systems' exports reusing a claim id (ids must be unique across the inputs of one run).
        files = claims.group_by("claim_id").agg(pl.col("source").unique().sort().alias("_files"))
        where = (
            pl.when(pl.col("_files").list.len() > 1)
            .then(pl.format(" (its lines come from {}; claim ids must be unique across the inputs)",
                            pl.col("_files").list.join(" and ")))
            .otherwise(pl.lit(""))
        )
        for col in CLAIM_LEVEL_COLUMNS:
            values = claims.group_by("claim_id").agg(
                _compared(col, payers).drop_nulls().n_unique().alias("_n"), pl.col(col).drop_nulls().unique().sort()
                .alias("_values")
            ).filter(pl.col("_n") > 1)
            if values.height == 0:
                continue
            frames.append(
                claims.join(values, on="claim_id", how="inner").join(files, on="claim_id", how="left").select(
                    "row_id",
                    pl.lit(col).alias("column"),
                    pl.format(
                        "lines of claim {} disagree on {} ({}); the whole claim is rejected{}",
                        _shown(pl.col("claim_id")),
                        pl.lit(col),
                        _shown(pl.col("_values").list.join(", ")),
                        where,
                    ).alias("reason"),
                )
            )
    return pl.concat(frames).cast(_LONG_SCHEMA), repeats, merged


def _claim_keys(typed: pl.DataFrame, unreadable: pl.Series, invalid: dict[str, pl.Series]) -> pl.DataFrame:
    """The columns claim-level rules compare, with the values that cannot speak for the claim nulled.

    Isolation (issue 12): a row's own problem rejects that row only. A value that breaks its own
    rule (claim_type "dental") and every value of a row the loader could not read (a ragged row's
    cells are shifted or blanked) are nulls here: they neither disagree with the claim's good lines
    nor fill them. An unreadable row also cannot be the "first" of a duplicated line key.
    """
    key_cols = ["row_id", "source", "source_row", "source_location", "claim_id", "line_number", *CLAIM_LEVEL_COLUMNS]
    keys = typed[key_cols]  # getitem: zero-copy, unlike select on chunked data
    # ``invalid``: the values of each claim-level field that break its rule, found while typing.
    exprs: dict[str, pl.Expr] = {name: pl.when(~pl.col(name).is_in(values.implode())).then(pl.col(name))
                                 for name, values in invalid.items()}
    if unreadable.len():
        readable = ~pl.col("row_id").is_in(unreadable.implode())
        exprs = {c: pl.when(readable).then(exprs.get(c, pl.col(c))) for c in [*CLAIM_LEVEL_COLUMNS, "line_number"]}
    fixes = [e.alias(c) for c, e in exprs.items()]
    return keys.with_columns(fixes) if fixes else keys


def _fill_claim_fields(typed: pl.DataFrame, keys: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series]:
    """Claim-level values missing on some lines, taken from the claim's other lines; claim_type defaults.

    Returns the frame and the row ids that turn out to need a procedure code after all: a line with
    a revenue code and no code, no claim_type of its own, on a claim that is not institutional.
    """
    need = [c for c in CLAIM_FILLED_COLUMNS if 0 < typed.get_column(c).null_count() < typed.height]
    was_untyped = None
    if typed.get_column("claim_type").null_count():
        was_untyped = typed.select(
            pl.col("claim_type").is_null() & pl.col("procedure_code").is_null() & pl.col("revenue_code").is_not_null()
        ).to_series()
        if not was_untyped.any():
            was_untyped = None
    if need:
        part = keys.select("row_id", "claim_id", *need)
        order = claim_order(part.get_column("claim_id"))
        if order is not None:
            part = part[order]
        run = run_starts(part.get_column("claim_id")).cum_sum().alias("_run")
        # Claims are runs (sorted), so the window is one pass; nulls take the claim's value.
        filled = part.with_columns(run).select(
            "row_id", *[pl.col(c).forward_fill().backward_fill().over("_run") for c in need])
        if order is not None:
            filled = filled.sort("row_id")
        typed = typed.with_columns(
            pl.coalesce(pl.col(c), filled.get_column(c)).alias(c) for c in need)
    if typed.get_column("claim_type").null_count():
        typed = typed.with_columns(pl.col("claim_type").fill_null(CLAIM_TYPE_DEFAULT))
    undecided = pl.Series("row_id", [], pl.Int64())
    if was_untyped is not None:
        undecided = typed.get_column("row_id").filter(was_untyped & (typed.get_column("claim_type") != "institutional"))
    return typed, undecided


def _bounds(f: Any) -> list[tuple[str, Any, str]]:
    """The checks of field ``f`` that are bounds: both ends of a date, the upper end of a number."""
    temporal = f.dtype == pl.Date() or isinstance(f.dtype, pl.Datetime)
    return [(name, arg, reason) for name, arg, reason in f.checks if temporal or name == "le"]


def _bound_reasons(typed: pl.DataFrame, raw: pl.DataFrame) -> pl.DataFrame:
    """(row_id, column, reason) for each value beyond a bound of its field, quoting the file's text."""
    frames = [pl.DataFrame(schema=_LONG_SCHEMA)]
    for f in _PARSED_FIELDS:
        for name, arg, reason in _bounds(f):
            beyond = ~_rule(name, arg, pl.col(f.name))
            ids = typed.filter(beyond.fill_null(False)).select("row_id")
            if ids.height:
                frames.append(ids.join(raw.select("row_id", pl.col(f.name).str.strip_chars().alias("_raw")),
                                       on="row_id", how="left").select(
                    "row_id", pl.lit(f.name).alias("column"),
                    pl.format("{} ({} = '{}')", pl.lit(reason), pl.lit(f.name), _shown(pl.col("_raw")))
                    .alias("reason")))
    return pl.concat(frames).cast(_LONG_SCHEMA)


def _within_bounds(frame: pl.DataFrame) -> pl.DataFrame:
    """Values beyond a bound of their field (a year 0 date, 1e308 charges) as nulls, as if unreadable:
    no later computation on a rejected line meets a date Python cannot hold or an infinite sum."""
    fixes = []
    for f in _PARSED_FIELDS:
        bounds = _bounds(f)
        if not bounds:
            continue
        bad = pl.any_horizontal(~_rule(name, arg, pl.col(f.name))
                                for name, arg, _ in bounds).fill_null(False)
        fixes.append(pl.when(~bad).then(pl.col(f.name)).alias(f.name))
    return frame.with_columns(fixes) if fixes else frame


# What two rows of one claim line may differ in without being two lines: where they were read.
_WHERE_READ = ("row_id", "source", "source_row", "source_location")
# How the reason of a row rejected as a copy of a checked line begins (the same values, or values the
# kept row leaves out: merged into it, nothing of the line unread): the summary counts these rows apart
# (``merged_rows``) and the gate does not count them as rows that could not be checked.
MERGED_COPY = "duplicate claim_id + line_number"


def _copy_run(rows: pl.DataFrame, content: list[str]) -> pl.Series:
    """Per row of ``rows`` (claim rows with ``source``, ``source_row``, ``claim_id``, ``line_number`` and the
    ``content`` columns): the copy of its claim it belongs to, numbered: the rows of a claim in one file,
    in file order, until a line number that does not rise (the same claim written again below: an
    original and its replacement in one export), but for a row equal to the one before it in every
    value (a duplicate written beside its line: an export sorted by claim and line, a join's fan-out;
    probe 28C D4: line 2 written twice after line 1's 7 began a copy of its own, read as an original,
    and both its rows were rejected "differ in claim_frequency")."""
    order = rows.select(pl.int_range(pl.len()).alias("_i"), "source", "source_row", "claim_id", "line_number",
                        pl.struct(content).hash().alias("_same")).sort("source", "source_row", "_i")
    repeated = (pl.col("line_number") == pl.col("line_number").shift(1)) & (pl.col("_same") == pl.col("_same").shift(1))
    new = ((pl.col("source") != pl.col("source").shift(1)) | (pl.col("claim_id") != pl.col("claim_id").shift(1))
           | ((pl.col("line_number") <= pl.col("line_number").shift(1)) & ~repeated)).fill_null(True)
    runs = order.select("_i", new.cum_sum().alias("_copy")).sort("_i")
    return runs.get_column("_copy")


def merged_copies(rejected: pl.DataFrame) -> pl.Series:
    """True on the rows of ``rejected`` (its ``reason``) that are copies of a checked line merged into it."""
    return rejected.get_column("reason").str.starts_with(MERGED_COPY).fill_null(False)


def _duplicate_reasons(candidates: pl.DataFrame, typed: pl.DataFrame, failed: pl.Series,
                       raw_failing: pl.DataFrame | None = None) -> tuple[pl.DataFrame, pl.Series]:
    """Rows that repeat a ``claim_id`` + ``line_number`` (exact text comparison), decided the same
    whatever the rows' order: rows that are the same line (every value equal) keep the first and reject
    the repeats (the same export given twice; a value one of them leaves out, as an 837 leaves out the
    administration record, is no difference); rows that give one field of a line different values are
    all rejected, naming what differs (which of them is the line cannot be told: the first one read won,
    so a row put before the real line replaced it). A row that fails its own rules (``failed``: row
    ids) is rejected for them, and is never the line kept; its readable values still take part (probe
    22B: beside a row for C1 line 2 whose units read "1x", a row for C1 line 2 with another code was
    checked as the line: which one is the line cannot be told either). An unreadable row names no line
    (its line number is null, :func:`_claim_keys`).
    Also returns the row ids rejected as repeats of a kept line (the same values): nothing of their
    encounter is unread (:attr:`Canonical.rejected_lines` leaves them out); and the kept line's values
    merged from its repeats (``row_id`` and the values one of them gives where the kept row leaves
    them out): the line checked is the same whichever copy comes first (probe 26C D1: the sample's
    837 read before its CSV kept the 837's lines without their administration times, 33 findings for
    44)."""
    none = (pl.DataFrame(schema=_LONG_SCHEMA), pl.Series("row_id", [], pl.Int64()), None)
    if candidates.height == 0:
        return none
    key = ["claim_id", "line_number"]
    # (an unreadable row's line number is null: it names no line)
    dup = candidates.filter(pl.col("claim_id").is_not_null() & pl.col("line_number").is_not_null()).filter(
        pl.len().over(key) > 1)
    bad = pl.col("row_id").is_in(failed.implode()) if failed.len() else pl.lit(False)
    dup = dup.with_columns(bad.alias("_bad")).filter((~pl.col("_bad")).any().over(key))
    if dup.height == 0:
        return none
    content = [c for c in typed.columns if c not in (*_WHERE_READ, *key)]
    values = typed.filter(pl.col("row_id").is_in(dup.get_column("row_id").implode())).select("row_id", *content)
    if "payer" in dup.columns:  # compared as policies read it (FORMATS.md): MEDICARE and medicare are one payer
        dup = dup.with_columns(payer_keys("payer", dup.get_column("payer")).alias("payer"))
    dup = dup.join(values, on="row_id", how="left").with_columns(location())
    # Diagnoses left empty are a value left out, as a null is: on a row that fails its own rules (review
    # 22D: a row cut after its units "differed in diagnoses" from the good row of its line), and on a
    # copy whose file gives none (a CSV without diagnosis columns beside its 837: every row was rejected
    # "differ in diagnoses", probe 27C D2). Modifiers never: "no modifier" is a value on any row (96366
    # and 96366-JW are other lines, reviews 22E, 22F).
    lists = {c for c, t in dup.schema.items() if c in content and isinstance(t, pl.List) and c != "modifiers"}
    given = {c: pl.when(pl.col(c).list.len() > 0).then(pl.col(c)) if c in lists else pl.col(c) for c in content}
    if "modifiers" in given:
        # (the same modifiers in another order are the same line: no rule reads their order, and an 837 and
        # an export order them differently, pricing modifiers first; probe 28C B11: both copies rejected)
        given["modifiers"] = pl.col("modifiers").list.sort()
    # A claim frequency left blank is an original (FORMATS.md: 1 original, 7 replacement, 8 void), unless
    # another line of the same copy gives one (an export writing claim values on a claim's first line
    # only; review 27D D2): an original and its replacement under one claim id are two claims, not one
    # line given twice (review 27A D7: merged, the replacement's 7 made the original a replacement, and
    # a line only one of them holds was checked as a claim neither sent; the X12 reader rejects both,
    # as here). A copy is a run of the claim's rows in its file, line numbers rising.
    if "claim_frequency" in given:
        dup = dup.with_columns(_copy_run(dup, content).alias("_copy")).with_columns(pl.coalesce(
            pl.col("claim_frequency"), pl.col("claim_frequency").drop_nulls().first().over("_copy"),
            pl.lit(reference.original_frequency())).alias("_frequency"))  # (a column: not a window in a window)
        given["claim_frequency"] = pl.col("_frequency")
    dup = dup.with_columns(
        pl.concat_str([pl.when(given[c].drop_nulls().n_unique().over(key) > 1).then(pl.lit(c)) for c in content],
                      separator=", ", ignore_nulls=True).alias("_differ"))
    where = pl.when(pl.col("source").n_unique().over(key) > 1).then(
        pl.format("{} of {}", pl.col("source_location"), pl.col("source"))).otherwise(pl.col("source_location"))
    first = dup.with_columns(where.alias("_where")).group_by(key).agg(
        pl.all().sort_by("_bad", "row_id").first().name.prefix("_first_"),  # (a good row: every group has one)
        pl.col("_where").sort_by("row_id").str.join(", ").alias("_rows"))
    dup = dup.join(first, on=key, how="left")
    same = pl.col("_differ") == ""
    # (a row failing its own rules whose readable values are the kept line's, and whose unreadable ones
    # the kept line gives too, is rejected for its reason but names nothing of the line the encounter
    # does not have: its encounter is not "beside a rejected row", probe 28C D5: a copy with units "70
    # units" took the kept line's own no_jw_jz away, counted not evaluated; but a copy whose unreadable
    # cell the kept line leaves blank, a discarded amount "4OO", does: the line's waste is unknown,
    # review 28E D1)
    repeats = dup.filter(same & (pl.col("row_id") != pl.col("_first_row_id")) & (
        ~pl.col("_bad") | ~_unread_beside_blank(dup, content, raw_failing))).get_column("row_id")
    # (the kept row's values, each the first a good copy gives in row order: the kept row's own where it
    # has one; the copies agree wherever two give one, or they differ and none is kept. Lists too: a
    # claim's own diagnosis list is null on a CSV row and given by its 837 copy, review 26E D1)
    merged = None
    if repeats.len() and content:
        groups = dup.filter(same & ~pl.col("_bad")).select("row_id", "_first_row_id")
        # (an empty diagnosis list is left out there too: the copy that gives them gives the line's)
        given_values = values.with_columns(pl.when(pl.col(c).list.len() > 0).then(pl.col(c)).alias(c)
                                           for c in lists if c in values.columns)
        merged = given_values.join(groups, on="row_id").sort("row_id").group_by("_first_row_id").agg(
            pl.col(content).drop_nulls().first()).rename({"_first_row_id": "row_id"})
    return (
        dup.filter(~pl.col("_bad") & (~same | (pl.col("row_id") != pl.col("_first_row_id"))))
        .select(
            "row_id",
            pl.lit("line_number").alias("column"),
            pl.when(same).then(pl.format(
                MERGED_COPY + " ({} line {}); first seen at {} of {}",
                _shown(pl.col("claim_id")), pl.col("line_number"), pl.col("_first_source_location"),
                pl.col("_first_source"),
            )).otherwise(pl.format(
                "claim_id + line_number ({} line {}) is given by several rows that differ in {} ({}): which "
                "one is the line cannot be told, so none is checked",
                _shown(pl.col("claim_id")), pl.col("line_number"), pl.col("_differ"), pl.col("_rows"),
            )).alias("reason"),
        )
        .cast(_LONG_SCHEMA)
    ), repeats, merged


def _unread_beside_blank(dup: pl.DataFrame, content: list[str], raw_failing: pl.DataFrame | None) -> pl.Expr:
    """On the rows of ``dup`` (with the kept row's values as ``_first_<column>``): True where a row's raw
    text gives a value that did not read (null typed) in a column the kept row leaves blank. Without the
    raw text of the failing rows, every failing row is taken to be such a row."""
    if raw_failing is None or not raw_failing.height:
        return pl.lit(True)
    raw = raw_failing.filter(pl.col("row_id").is_in(dup.get_column("row_id").implode()))
    cols = [c for c in content if c in raw.columns and f"_first_{c}" in dup.columns]

    def given(c: str) -> pl.Expr:
        col = pl.col(c)
        if isinstance(raw.schema[c], pl.List):
            return col.list.len() > 0
        return col.cast(pl.String).str.strip_chars().str.len_chars() > 0

    unread = raw.select("row_id", *[given(c).fill_null(False).alias(f"_raw_{c}") for c in cols])
    flags = dup.select("row_id", *[pl.col(c).is_null().alias(f"_null_{c}") for c in cols],
                       *[pl.col(f"_first_{c}").is_null().alias(f"_blank_{c}") for c in cols]).join(
        unread, on="row_id", how="left", maintain_order="left")
    beside = flags.select(pl.any_horizontal(
        pl.lit(False), *[pl.col(f"_raw_{c}").fill_null(False) & pl.col(f"_null_{c}") & pl.col(f"_blank_{c}")
                         for c in cols]).alias("_x"))
    return pl.lit(beside.get_column("_x"))


# --------------------------------------------------------------------------- assembling the result


_COMPACT_GROUP = 6  # columns copied at a time: Polars does a group in parallel, memory grows by a group only


def _compact(frame: pl.DataFrame, keep: pl.Series | None) -> pl.DataFrame:
    """``frame`` without the rejected rows, one contiguous chunk per column.

    The reader hands over ~50 chunks per million rows, and the columns built here have other
    chunk boundaries; every later filter or gather on such a frame realigns them (0.1-0.2 s each
    on 2M lines), so the lines are made contiguous once. Columns move out a group at a time
    (``drop_in_place``), so the extra memory is a few columns, not a second copy of the frame.
    The caller must hold no other reference to ``frame``'s columns.

    A column without a value (billing_provider, revenue_code... in most exports) is not copied but
    made anew: the same nulls, and no memory touched until read (copying one costs as much as
    copying a column of text: 0.02 s per column on 2M lines).
    """
    order = frame.columns
    height = frame.height if keep is None else int(keep.sum())
    empty = [name for name in order if frame.get_column(name).null_count() == frame.height]
    parts = [pl.DataFrame([frame.drop_in_place(name).clear(height) for name in empty])] if empty else []
    rest = frame.columns
    for start in range(0, len(rest), _COMPACT_GROUP):
        group = pl.DataFrame([frame.drop_in_place(name) for name in rest[start:start + _COMPACT_GROUP]])
        if keep is not None:
            group = group.filter(keep)
        parts.append(group.rechunk())
        del group
    return pl.concat(parts, how="horizontal").select(order) if parts else frame


def _batches(raw: pl.LazyFrame | pl.DataFrame | Iterable[Any]) -> Iterable[tuple[int, pl.DataFrame | None]]:
    """``(file, batch)`` pairs; a ``None`` batch drops what that file gave so far (it is read again)."""
    if isinstance(raw, pl.LazyFrame):
        return [(0, raw.collect(engine="in-memory"))]
    if isinstance(raw, pl.DataFrame):
        return [(0, raw)]
    return ((0, item) if isinstance(item, pl.DataFrame) else item for item in raw)


def canonicalise(raw: pl.LazyFrame | pl.DataFrame | Iterable[Any]) -> Canonical:
    """Cast raw frames to the canonical schema; return checked rows and rejected rows.

    ``raw`` is one raw frame (lazy or not), an iterable of raw batches, or the ``(file, batch)``
    pairs of :meth:`scrubber.loaders.RawInput.batches` (a large CSV arrives that way); ``row_id``
    must be unique across all of them. Lines come out in input order.
    """
    parts: dict[int, list[tuple[pl.DataFrame, pl.Series, pl.DataFrame | None]]] = {}
    invalid: dict[str, list[pl.Series]] = {}
    payers: dict[int, list[pl.Series]] = {}
    for number, batch in _batches(raw):
        if batch is None:  # the file is being read again from its first row
            parts[number] = []
            payers[number] = []
            continue
        batch = _conform(batch)
        typed, failed, bad_values, batch_payers = _type_batch(batch)
        for name, values in bad_values.items():
            invalid.setdefault(name, []).append(values)
        payers.setdefault(number, []).append(batch_payers)
        parts.setdefault(number, []).append((typed, failed, _as_text(batch.filter(failed)) if failed.any() else None))
        del batch
    ordered = [part for number in sorted(parts) for part in parts[number]]
    del parts
    typed = pl.concat([t for t, _, _ in ordered], rechunk=False) if ordered else pl.DataFrame(schema=_typed_schema())
    failed = (pl.concat([f for _, f, _ in ordered], rechunk=False) if ordered
              else pl.Series("_failed", [], pl.Boolean()))
    raw_failing_parts = [r for _, _, r in ordered if r is not None]
    del ordered
    rows_read = typed.height
    unreadable = pl.concat([r.filter(pl.col("load_error").is_not_null()).get_column("row_id")
                            for r in raw_failing_parts]) if raw_failing_parts else pl.Series("row_id", [], pl.Int64())
    if not raw_failing_parts:
        # No row failed a row rule (a clean file): the lines will almost surely all be kept, so they are
        # made contiguous now rather than at the end, and the claim-level passes below read contiguous
        # columns (0.05 s less on 2M lines). The final _compact then has nothing left to copy.
        typed = _compact(typed, None)

    keys = _claim_keys(typed, unreadable, {name: pl.concat(v).unique() for name, v in invalid.items()})
    claim_failed, repeats, merged = _claim_level_reasons(
        keys, pl.concat([p for ps in payers.values() for p in ps] or [pl.Series([], dtype=pl.String())]).unique(),
        typed, typed.get_column("row_id").filter(failed),
        pl.concat(raw_failing_parts, how="diagonal_relaxed") if raw_failing_parts else None)
    if merged is not None and merged.height:
        typed = typed.update(merged, on="row_id")
    typed, undecided = _fill_claim_fields(typed, keys)
    del keys
    failing_ids = pl.concat([typed.get_column("row_id").filter(failed), claim_failed.get_column("row_id"),
                             undecided]).unique()

    rejected = empty_rejected()
    typed_failing = None
    unread = pl.Series("row_id", [], pl.Int64())
    if failing_ids.len():
        # Raw text of the rows that failed a row rule (claim-level failures passed them all).
        raw_failing = pl.concat(raw_failing_parts).rechunk() if raw_failing_parts else pl.DataFrame(schema=_RAW_COLUMNS)
        typed_failing = typed.filter(pl.col("row_id").is_in(failing_ids.implode())).rechunk()
        parse_failed = _parse_reasons(raw_failing.lazy())
        # Bounds are worded here: pandera turns failing values into Python objects, and a year-0 date
        # has none (its failure would lose its row). Pandera sees those values as nulls.
        bounds_failed = _bound_reasons(typed_failing, raw_failing)
        pandera_cases = (_pandera_reasons(_within_bounds(typed_failing)) if failed.any()
                         else pl.DataFrame(schema=_LONG_SCHEMA))
        # A value that did not parse (or is out of bounds) is null in what pandera saw; do not also call it missing.
        pandera_cases = pandera_cases.join(pl.concat([parse_failed, bounds_failed]).select("row_id", "column"),
                                           on=["row_id", "column"], how="anti")
        # A row the loader could not read (ragged, unclosed quote, X12 structure) has its values
        # blanked or missing because of that one problem: say it once, not "missing value" per column.
        unread = raw_failing.filter(pl.col("load_error").is_not_null()).get_column("row_id")
        if unread.len():
            pandera_cases = pandera_cases.filter(
                ~((pl.col("reason") == "not_nullable") & pl.col("row_id").is_in(unread.implode())))
        value_failed = _explain_value_failures(pandera_cases, raw_failing)
        no_code = typed_failing.filter(procedure_code_missing() & ~pl.col("row_id").is_in(unread.implode())).select(
            "row_id", pl.lit("procedure_code").alias("column"),
            pl.lit("missing required value procedure_code").alias("reason"))
        reasons = (
            pl.concat([parse_failed, bounds_failed, value_failed, claim_failed, no_code])
            # An unreadable row is rejected for that alone: the cells kept of it (its line's ids, and the
            # member and date that place it) may be shifted by a stray comma, so no reason about them.
            .filter(~pl.col("row_id").is_in(unread.implode()) | (pl.col("column") == "load_error"))
            .unique(["row_id", "column", "reason"])
            .sort("row_id", "column", "reason")
            .group_by("row_id", maintain_order=True)
            .agg(pl.col("reason").str.join("; "))
        )
        raw_line = raw_failing.select("row_id", pl.col("line_number").str.strip_chars().alias("_raw_line"))
        rejected = (
            typed_failing.lazy()
            .join(reasons.lazy(), on="row_id", how="inner")
            .join(raw_line.lazy(), on="row_id", how="left")
            .sort("row_id")
            .select(
                "source",
                pl.col("source_row").alias("row"),
                printable(location()).alias("location"),
                "claim_id",
                # A line number that failed to cast is null in ``typed``; show the text the user wrote.
                pl.col("line_number").cast(pl.String).fill_null(pl.col("_raw_line")).alias("line_number"),
                printable(pl.col("reason")).alias("reason"),
            )
            .collect(engine=_SMALL)
            .cast(REJECTED_SCHEMA)
        )
        if rejected.height != failing_ids.len():  # each failing row has reasons, and one rejected entry
            missing = failing_ids.filter(~failing_ids.is_in(typed_failing.join(reasons, on="row_id", how="semi")
                                                            .get_column("row_id").implode()))
            raise AssertionError(f"canonicalise: {failing_ids.len()} failing rows but {rejected.height} rejected "
                                 f"(no reason for row_id {missing.head(5).to_list()})")

    keep = ~typed.get_column("row_id").is_in(failing_ids.implode()) if failing_ids.len() else None
    del failed
    lines = _compact(typed, keep)
    if lines.height + rejected.height != rows_read:
        raise AssertionError(f"rows read {rows_read} != {lines.height} checked + {rejected.height} rejected")
    unreadable_lines = None
    if typed_failing is not None:
        if unread.len():  # an unreadable row's code is no evidence of anything
            unreadable_lines = typed_failing.filter(pl.col("row_id").is_in(unread.implode())).select(
                "row_id", "source", "claim_id", "line_number", "member_id", "date_of_service")
            typed_failing = typed_failing.filter(~pl.col("row_id").is_in(unread.implode()))
        if repeats.len():  # a repeat of a kept line leaves nothing of its encounter unread
            typed_failing = typed_failing.filter(~pl.col("row_id").is_in(repeats.implode()))
        typed_failing = _within_bounds(typed_failing)
    return Canonical(lines=lines, rejected=rejected, rows_read=rows_read, rejected_lines=typed_failing,
                     unreadable_lines=unreadable_lines)


def _typed_schema() -> dict[str, pl.DataType]:
    from scrubber.schema import CANONICAL_SCHEMA

    return dict(CANONICAL_SCHEMA)
