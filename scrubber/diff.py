"""What changed between two runs: findings new, fixed and unchanged, by ``finding_id``.

``scrub diff OLD.json NEW.json`` compares two findings JSON files; ``scrub check ... --compare
OLD.json`` compares the run with an earlier one. A finding is the same finding when its id is the
same (:mod:`scrubber.finding_ids`: claim, line, check, reason, codes), so rewording a message or
reading the claims from another format changes nothing here.

An active finding of the old run that is suppressed in the new one is neither fixed nor new: it is
counted as ``suppressed`` (a person waived it; the claim was not corrected). Money is the finding's
``charge_at_risk`` when the findings carry it, else its line's charge counted once per line.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

import polars as pl

from scrubber.errors import UsageError
from scrubber.schema import MAX_CHARGE, MAX_LINE_NUMBER
from scrubber.settings_files import read_text

KINDS = ("new", "fixed", "unchanged", "suppressed")
MAX_LISTED = 50
_COLUMNS = {"finding_id": pl.String(), "claim_id": pl.String(), "line_number": pl.Int64(), "check_id": pl.String(),
            "severity": pl.String(), "member_id": pl.String(), "procedure_code": pl.String(), "message": pl.String(),
            "charge": pl.Float64(), "charge_at_risk": pl.Float64()}


def _frame(records: list[dict[str, Any]]) -> pl.DataFrame:
    """The comparison's columns of a JSON findings array; a value of the wrong type (a hand-edited
    file) reads as null rather than stopping the comparison."""
    columns = []
    for key, dtype in _COLUMNS.items():
        values = [r.get(key) for r in records]
        if dtype == pl.String():
            values = [None if v is None else str(v) for v in values]
        else:
            values = [v if isinstance(v, int | float) and not isinstance(v, bool) else None for v in values]
        columns.append(pl.Series(key, values, dtype=dtype, strict=False))
    return _lowercase_ids(pl.DataFrame(columns))


def _lowercase_ids(frame: pl.DataFrame) -> pl.DataFrame:
    """An id is hex, compared as suppressions match it: in any case (probe 22B: a hand-edited file's
    upper-case ids counted as new and fixed findings)."""
    return frame.with_columns(pl.col("finding_id").str.to_lowercase())


class _RepeatedKey(ValueError):
    """A key given twice in one object of a findings file (scrub writes each once)."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) < len(pairs):
        raise _RepeatedKey(next(k for k, n in Counter(k for k, _ in pairs).items() if n > 1))
    return obj


# The largest amount a finding can carry: a line's charge (schema.MAX_CHARGE); the charges at risk of a
# finding naming every line of a claim, at most MAX_LINE_NUMBER of them.
_MAX_AMOUNT = {"charge": MAX_CHARGE, "charge_at_risk": MAX_CHARGE * MAX_LINE_NUMBER}


def _mistyped(finding: dict[str, Any]) -> list[str]:
    """What a finding gives with a type scrub never writes, for the fields a comparison counts by: its
    ``finding_id`` (the key: a number 5 is no id "5" of the other run) and the money it adds up
    (a charge "abc" counted as $0.00)."""
    out = []
    if not isinstance(finding.get("finding_id"), str):
        out.append(f"finding_id {finding.get('finding_id')!r} is not text")
    for key in ("charge", "charge_at_risk"):
        value = finding.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            out.append(f"{key} {value!r} is not a number")
        elif value is not None and not 0 <= value <= _MAX_AMOUNT[key]:
            # (NaN and infinity too: scrub never writes them, nor a negative amount or one above what
            # the lines of a claim can bill; summed, they would make the totals no number at all)
            out.append(f"{key} {value!r} is not an amount scrub writes (0 to {_MAX_AMOUNT[key]:,})")
    return out


def _select(frame: pl.DataFrame) -> pl.DataFrame:
    return _lowercase_ids(frame.select(pl.col(c).cast(t) if c in frame.columns else pl.lit(None, t).alias(c)
                                       for c, t in _COLUMNS.items()))


@dataclass
class Findings:
    """One findings JSON document, as far as a comparison needs it."""

    source: str
    active: pl.DataFrame
    suppressed: pl.DataFrame
    # The checks the run ran (summary.by_check), when the document says: a finding of a check one of
    # the two runs did not run is not "fixed" or "new", it was not looked for.
    checks: frozenset[str] | None = None

    def only(self, check_ids: list[str]) -> Findings:
        """These findings restricted to the given checks."""
        keep = pl.col("check_id").is_in(check_ids)
        return Findings(self.source, self.active.filter(keep), self.suppressed.filter(keep), self.checks)

    @classmethod
    def read(cls, path: str) -> Findings:
        from scrubber.loaders.json_loader import whole_number

        # (UTF-8 or UTF-16 with a BOM, as Notepad or PowerShell saves a file scrub wrote: read_text)
        text = read_text(path, "findings file")
        try:
            # (an integer of more digits than Python converts reads as infinity: "not an amount", below)
            doc = json.loads(text, object_pairs_hook=_unique_keys, parse_int=whole_number)
        except _RepeatedKey as exc:  # JSON keeps the last: a second "findings" would silently win
            raise UsageError(f"not a findings file scrub wrote (key {exc.args[0]!r} given twice in one object)",
                             path) from None
        except json.JSONDecodeError as exc:
            raise UsageError(f"not a findings JSON file ({exc.msg} at line {exc.lineno})", path) from None
        except RecursionError:
            raise UsageError("not a findings JSON file (nested too deeply)", path) from None
        if "\\ud" in text.lower():
            from scrubber.loaders.json_loader import has_lone_surrogate

            if has_lone_surrogate(doc):  # "\udcff": JSON allows the escape, no text can hold it
                raise UsageError("not a findings JSON file (a text holds an unpaired surrogate escape such as "
                                 "\\udcff, which is no character)", path)
        return cls.from_document(doc, path)

    @classmethod
    def from_result(cls, result: Any, source: str) -> Findings:
        """The findings of a run in this process (``scrub check --compare``)."""
        suppressed = result.suppressed if result.suppressed is not None else result.findings.clear()
        return cls(source, _select(result.findings), _select(suppressed), _checks_of(result.summary))

    @classmethod
    def from_document(cls, doc: Any, source: str) -> Findings:
        if not isinstance(doc, dict) or not isinstance(doc.get("findings"), list):
            raise UsageError("not a findings JSON file (no \"findings\" array; write one with scrub check --json)",
                             source)
        findings, suppressed = doc["findings"], doc.get("suppressed") or []
        for name, entries in (("findings", findings), ("suppressed", suppressed)):
            if not isinstance(entries, list):
                raise UsageError(f'not a findings JSON file ("{name}" is not a list)', source)
            bad = next((i for i, f in enumerate(entries) if not isinstance(f, dict)), None)
            if bad is not None:  # dropped, it would read as a finding fixed (or never there)
                raise UsageError(f"not a findings JSON file ({name}[{bad}] is not a finding object)", source)
        provenance = doc.get("provenance")
        masked = provenance.get("masked") if isinstance(provenance, dict) else None
        if masked is not None and not isinstance(masked, bool):  # ("yes" read as unmasked: probe 23H B4)
            raise UsageError(f"not a findings file scrub wrote (provenance.masked is {json.dumps(masked)[:40]}, "
                             "not true or false)", source)
        if masked is True:
            raise UsageError("written with --mask-phi: its finding ids are keyed for that run only and match no other "
                             "run's; compare findings files written without --mask-phi", source)
        if any(not f.get("finding_id") for f in [*findings, *suppressed]):
            raise UsageError("its findings have no finding_id (written by an older scrub); run scrub check again "
                             "to compare", source)
        for name, entries in (("findings", findings), ("suppressed", suppressed)):
            wrong = next((f"{name}[{i}].{why}" for i, f in enumerate(entries) for why in _mistyped(f)), None)
            if wrong is not None:  # a key that is no text, or money that is no number, would compare as another
                raise UsageError(f"not a findings file scrub wrote ({wrong})", source)
        ids = Counter(str(f["finding_id"]).lower() for f in [*findings, *suppressed])
        repeated = next((i for i, n in ids.items() if n > 1), None)
        if repeated is not None:  # scrub writes each id once: counted once, the rest would read as fixed
            raise UsageError(f"not a findings file scrub wrote (finding_id {repeated} appears {ids[repeated]} "
                             "times; each finding has its own)", source)
        return cls(source, _frame(findings), _frame(suppressed), _checks_of(doc.get("summary")))


def _checks_of(summary: Any) -> frozenset[str] | None:
    """The check ids a run ran, from its summary's ``by_check`` (None when it does not say)."""
    by_check = summary.get("by_check") if isinstance(summary, dict) else None
    if not isinstance(by_check, dict) or not by_check:
        return None
    return frozenset(str(k) for k in by_check)


def _money(frame: pl.DataFrame, counted: pl.DataFrame | None = None) -> float:
    """Charges behind ``frame``'s findings: ``charge_at_risk`` summed, else each line's charge once, and
    not a line of ``counted`` (``claim_id``, ``line_number``: lines another part of the same run counted)."""
    if frame.height == 0:
        return 0.0
    if frame.get_column("charge_at_risk").is_not_null().any():
        total = frame.get_column("charge_at_risk").fill_null(0).sum()
    else:
        lines = frame.unique(["claim_id", "line_number"])
        if counted is not None and counted.height:
            lines = lines.join(counted, on=["claim_id", "line_number"], how="anti", nulls_equal=True)
        total = lines.get_column("charge").fill_null(0).sum()
    return round(float(total), 2)


# The run each kind's findings come from (compare): its line charges count once across its kinds.
_RUN_OF = {"new": "new", "unchanged": "new", "fixed": "old", "suppressed": "old"}


@dataclass
class Comparison:
    """The findings of each kind (new, fixed, unchanged, suppressed), from the run that has them."""

    old: str
    new: str
    parts: dict[str, pl.DataFrame]
    not_compared: list[str] | None = None  # checks only one of the runs ran: their findings are left out
    # Each run's charges at risk in all (its active findings): a fixed finding's line may stay at risk
    # under another finding, so "fixed" money is not what left the total; the totals say what did.
    totals: tuple[float, float] | None = None

    def counts(self) -> dict[str, dict[str, Any]]:
        # Findings files without charge_at_risk (earlier versions) count line charges: a line with a new
        # and an unchanged finding was counted in both, and the kinds added to more than the run's total.
        counted: dict[str, list[pl.DataFrame]] = {"new": [], "old": []}
        out = {}
        for kind, frame in self.parts.items():
            earlier = counted[_RUN_OF[kind]]
            out[kind] = {"findings": frame.height, "charges": _money(frame, pl.concat(earlier) if earlier else None)}
            earlier.append(frame.select("claim_id", "line_number"))
        return out

    def section(self) -> dict[str, Any]:
        """The JSON form: counts and charges per kind, the ids of each kind, and the fixed findings
        in full (they are in no other part of the new document)."""
        listed = {k: self.parts[k].get_column("finding_id").to_list() for k in KINDS}
        return {
            "old": self.old,
            "new": self.new,
            "counts": self.counts(),
            "finding_ids": listed,
            "fixed_findings": self.parts["fixed"].drop("charge_at_risk").to_dicts(),
            "checks_not_compared": self.not_compared or [],
            **({"charges_at_risk": {"old": self.totals[0], "new": self.totals[1]}} if self.totals else {}),
        }

    def lines(self, limit: int = MAX_LISTED) -> list[str]:
        """For a terminal: the counts, then the new and the fixed findings (capped)."""
        from scrubber.output.terminal import printable

        counts = self.counts()
        out = [f"Compared with {self.old}: "
               + ", ".join(f"{counts[k]['findings']} {k} (${counts[k]['charges']:,.2f})" for k in KINDS) + "."]
        if self.totals is not None:
            out.append(f"Charges at risk in all: ${self.totals[0]:,.2f} -> ${self.totals[1]:,.2f} (a fixed finding's "
                       "line may stay at risk under another finding: the totals say what left).")
        if self.not_compared:
            out.append("Not compared (run in only one of the two): " + ", ".join(self.not_compared) + ".")
        for kind in ("new", "fixed"):
            frame = self.parts[kind]
            if frame.height == 0:
                continue
            if limit <= 0:  # counts only (the findings JSON lists them)
                out.append(f"{kind.capitalize()}: {frame.height} (the findings JSON lists them).")
                continue
            out.append(f"{kind.capitalize()} ({frame.height}):")
            for claim, line, check, message in frame.head(limit).select(
                    "claim_id", "line_number", "check_id", "message").iter_rows():
                where = f"{claim}:{line}" if line is not None else f"{claim}"
                out.append(f"  {printable(where)}  {printable(check):<34}{printable(message)}")
            if frame.height > limit:
                out.append(f"  ... and {frame.height - limit} more (--json writes them all).")
        return out


def compare(old: Findings, new: Findings) -> Comparison:
    """Findings of ``new`` that ``old`` did not have, the reverse, and those in both, for the checks
    both runs ran (the others are named in ``not_compared``)."""
    not_compared = None
    if old.checks is not None and new.checks is not None and old.checks != new.checks:
        both = sorted(old.checks & new.checks)
        not_compared = sorted(old.checks ^ new.checks)
        old, new = old.only(both), new.only(both)
    old_ids = old.active.select("finding_id")
    new_ids = new.active.select("finding_id")
    waived = new.suppressed.select("finding_id")
    parts = {
        "new": new.active.join(old_ids, on="finding_id", how="anti", maintain_order="left"),
        "fixed": old.active.join(new_ids, on="finding_id", how="anti", maintain_order="left")
                 .join(waived, on="finding_id", how="anti", maintain_order="left"),
        "unchanged": new.active.join(old_ids, on="finding_id", how="semi", maintain_order="left"),
        "suppressed": old.active.join(waived, on="finding_id", how="semi", maintain_order="left"),
    }
    return Comparison(old.source, new.source, parts, not_compared, (_money(old.active), _money(new.active)))
