"""Reviewed-finding suppressions: a finding a person has accepted, with who, why and until when.

A suppressions file (``--suppressions FILE``, TOML, FORMATS.md "Repeated use") lists entries::

    [[suppress]]
    id = "f3a9c2d1e4b5"             # a finding_id (or its first 8+ characters), or instead a pattern:
    # check = "units-over-mue"; claim = "PCN-2*"; member = "..."; payer = "..."; code = "96366"
    reason = "reviewed: second IV site documented"
    by = "J. Coder"
    expires = 2027-06-30

A suppressed finding leaves the gate and the totals but is never deleted: every output lists it
with its suppression, because an auditor must see what was waived and why. Entries are checked
when the file is read (unknown keys, missing reason/by/expires, unknown check ids: exit 2, like
policy files); an entry that has expired suppresses nothing (the finding is reported again) and an
entry that matches no finding is a warning, so stale waivers surface instead of piling up.

Matching is vectorised: ids by joins (one per id length), patterns by one expression each, and
the first entry in file order wins when several match one finding.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from scrubber.errors import UsageError
from scrubber.finding_ids import ID_CHARS
from scrubber.settings_files import read_toml

PATTERN_KEYS = ("check", "claim", "member", "payer", "code")
REQUIRED_KEYS = ("reason", "by", "expires")
ALLOWED_KEYS = ("id", *PATTERN_KEYS, *REQUIRED_KEYS)
MIN_ID_CHARS = 8
SUPPRESSION_COLUMNS: dict[str, pl.DataType] = {
    "suppression_reason": pl.String(),
    "suppression_by": pl.String(),
    "suppression_expires": pl.Date(),
    "suppression_source": pl.String(),
    "suppression_entry": pl.Int64(),
}
_ID_RE = re.compile(rf"^[0-9a-f]{{{MIN_ID_CHARS},{ID_CHARS}}}$")


@dataclass(frozen=True)
class Suppression:
    """One ``[[suppress]]`` entry: by finding id, or by a pattern of check/claim/member/payer/code."""

    source: str
    entry: int  # 1-based position in its file, as a person counts the entries
    reason: str
    by: str
    expires: dt.date
    id: str | None = None
    check: str | None = None
    claim: str | None = None
    member: str | None = None
    payer: str | None = None
    code: str | None = None

    @property
    def label(self) -> str:
        """How warnings name the entry: file and position, plus what it matches."""
        # Values quoted ('...'), so --mask-phi can hide the claim and member patterns it names
        # (masking.PATTERN_IN_LABEL): a shared file names other patients' claims.
        what = f"id {self.id}" if self.id else ", ".join(f"{k} '{getattr(self, k)}'" for k in PATTERN_KEYS
                                                          if getattr(self, k) is not None)
        return f"entry {self.entry} ({what})"


@dataclass
class SuppressionSet:
    """Every entry of every suppressions file of the run, in order (earlier entries win)."""

    entries: list[Suppression] = field(default_factory=list)

    @classmethod
    def load(cls, paths: list[str] | tuple[str, ...], known_checks: list[str]) -> SuppressionSet:
        entries: list[Suppression] = []
        read: set[str] = set()
        for path in paths:
            # (a file given twice is read once, as an input is: its second copy's entries all shadowed by
            # the first's were warned of as stale; probe 20B)
            if (where := os.path.realpath(path)) in read:
                continue
            read.add(where)
            entries.extend(read_file(path, known_checks))
        return cls(entries)

    def __bool__(self) -> bool:
        return bool(self.entries)


def _date(value: Any, where: str, path: str) -> dt.date:
    # A date and time is refused, as a policy's dates refuse it (probe 19B): which day a time in some
    # zone expires on is a guess.
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        # (the one form the message names: fromisoformat also takes week dates, "2027-W26-3")
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    shown = value.isoformat() if isinstance(value, dt.datetime | dt.time) else repr(value)
    raise UsageError(f"{where}: expires must be a date such as 2027-06-30, not {shown}", path)


def read_file(path: str, known_checks: list[str]) -> list[Suppression]:
    """The entries of one suppressions file; any problem is a usage error naming the file and entry."""
    data = read_toml(path, "suppressions file")
    unknown = sorted(set(data) - {"suppress"})
    if unknown:
        raise UsageError(f"unknown key '{unknown[0]}' (a suppressions file holds [[suppress]] entries)", path)
    raw = data.get("suppress", [])
    if not isinstance(raw, list) or not all(isinstance(e, dict) for e in raw):
        raise UsageError("'suppress' must be an array of tables ([[suppress]] entries)", path)
    return [_entry(item, number, path, known_checks) for number, item in enumerate(raw, start=1)]


def _entry(item: dict[str, Any], number: int, path: str, known_checks: list[str]) -> Suppression:
    where = f"entry {number}"
    for key in item:
        if key not in ALLOWED_KEYS:
            near = difflib.get_close_matches(key, ALLOWED_KEYS, n=1)
            hint = f"; did you mean '{near[0]}'?" if near else f" (allowed: {', '.join(ALLOWED_KEYS)})"
            raise UsageError(f"{where}: unknown key '{key}'{hint}", path)
    for key in ("id", *PATTERN_KEYS, "reason", "by"):
        value = item.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise UsageError(f"{where}: {key} must be a non-empty text", path)
    for key in REQUIRED_KEYS:
        if key not in item:
            raise UsageError(f"{where}: '{key}' is required (every suppression says why, who and until when)", path)
    has_pattern = any(k in item for k in PATTERN_KEYS)
    if "id" in item and has_pattern:
        raise UsageError(f"{where}: give either an id or a pattern (check/claim/member/payer/code), not both", path)
    if "id" not in item and not has_pattern:
        raise UsageError(f"{where}: needs an id or a pattern (check, claim, member, payer, code)", path)
    globs = [k for k in PATTERN_KEYS if k != "check" and k in item]
    if "check" not in item and globs and all(set(item[k].strip()) <= {"*"} for k in globs):
        # (member = "*" waived every finding of every run without a word, probe 28C B6)
        raise UsageError(f"{where}: {' and '.join(f'{k} = {item[k]!r}' for k in globs)} matches every finding: name "
                         "the check, claim, member, payer or code it waives (a waiver of everything hides every "
                         "finding of every run)", path)
    finding_id = item.get("id")
    if finding_id is not None:
        finding_id = finding_id.strip().lower()
        if not _ID_RE.match(finding_id):
            raise UsageError(f"{where}: id '{item['id']}' is not a finding id ({MIN_ID_CHARS} to {ID_CHARS} hex "
                             "characters, as in the findings' finding_id)", path)
    check = item.get("check")
    check = check.strip().lower() if isinstance(check, str) else check  # (ids are lower case, as --select reads them)
    if check is not None and check not in known_checks:
        near = difflib.get_close_matches(check, known_checks, n=1)
        hint = f"; did you mean '{near[0]}'?" if near else " (see `scrub checks`)"
        raise UsageError(f"{where}: unknown check id '{check}'{hint}", path)
    return Suppression(
        source=path, entry=number, reason=item["reason"].strip(), by=item["by"].strip(),
        expires=_date(item["expires"], where, path), id=finding_id, check=check,
        claim=item.get("claim"), member=item.get("member"), payer=item.get("payer"),
        code=item["code"].strip().upper() if item.get("code") else None,
    )


# --------------------------------------------------------------------------- matching


def glob_regex(pattern: str, ignore_case: bool = False) -> str:
    """A shell-style glob (``*`` any text, ``?`` one character) as an anchored regex; all else literal."""
    body = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return ("(?i)" if ignore_case else "") + f"^{body}$"


def _glob(column: str, pattern: str, ignore_case: bool = False) -> pl.Expr:
    if not ignore_case and "*" not in pattern and "?" not in pattern:
        return pl.col(column) == pattern
    return pl.col(column).str.contains(glob_regex(pattern, ignore_case)).fill_null(False)


def _code_matches(findings: pl.DataFrame, pattern: str) -> pl.Expr:
    """The finding's line code, or any code of its ``codes`` column, matches ``pattern``."""
    expr = _glob("procedure_code", pattern)
    if "codes" in findings.columns:
        if isinstance(findings.schema["codes"], pl.List):
            regex = glob_regex(pattern)
            expr = expr | pl.col("codes").list.eval(pl.element().cast(pl.String).str.contains(regex)).list.any()
        else:
            expr = expr | _glob("codes", pattern)
    return expr.fill_null(False)


def _pattern_match(findings: pl.DataFrame, s: Suppression) -> pl.Expr:
    parts = []
    if s.check is not None:
        parts.append(pl.col("check_id") == s.check)
    if s.claim is not None:
        parts.append(_glob("claim_id", s.claim))
    if s.member is not None:
        parts.append(_glob("member_id", s.member))
    if s.payer is not None:  # payers select policies case-insensitively; patterns match them alike
        parts.append(_glob("payer", s.payer.strip(), ignore_case=True))
    if s.code is not None:
        parts.append(_code_matches(findings, s.code))
    return pl.all_horizontal(parts).fill_null(False)


def _first_entry(findings: pl.DataFrame, active: list[tuple[int, Suppression]]) -> pl.Series:
    """Per finding, the index (in ``active``) of the first entry that matches it, else null."""
    n = findings.height
    best = pl.Series("_entry", [None] * n, pl.Int64())
    ids = [(i, s) for i, s in active if s.id is not None]
    if ids:
        table = pl.DataFrame({"_i": [i for i, _ in ids], "_id": [s.id for _, s in ids]},
                             schema={"_i": pl.Int64(), "_id": pl.String()})
        frame = findings.select(pl.col("finding_id"), pl.int_range(n, dtype=pl.Int64).alias("_pos"))
        for length in table.get_column("_id").str.len_chars().unique().to_list():
            mine = table.filter(pl.col("_id").str.len_chars() == length).group_by("_id").agg(pl.col("_i").min())
            hit = (frame.with_columns(pl.col("finding_id").str.slice(0, length).alias("_id"))
                   .join(mine, on="_id", how="left").sort("_pos").get_column("_i"))
            best = pl.select(pl.min_horizontal(best, hit)).to_series().alias("_entry")
    patterns = [(i, s) for i, s in active if s.id is None]
    if patterns:
        chain: Any = None
        for i, s in patterns:  # in file order: the first matching entry wins
            cond = _pattern_match(findings, s)
            chain = pl.when(cond).then(pl.lit(i, pl.Int64)) if chain is None else chain.when(cond).then(pl.lit(i))
        hit = findings.select(chain.otherwise(pl.lit(None, pl.Int64)).alias("_entry")).to_series()
        best = pl.select(pl.min_horizontal(best, hit)).to_series().alias("_entry")
    return best


@dataclass
class Applied:
    """Findings split by the suppressions: still active, suppressed (with why), and the warnings."""

    active: pl.DataFrame
    suppressed: pl.DataFrame
    warnings: list[dict[str, Any]]


def empty_suppressed(findings: pl.DataFrame) -> pl.DataFrame:
    return findings.clear().with_columns(pl.lit(None, t).alias(c) for c, t in SUPPRESSION_COLUMNS.items())


def apply(findings: pl.DataFrame, suppressions: SuppressionSet | None, today: dt.date | None = None,
          skipped: frozenset[str] = frozenset()) -> Applied:
    """Split ``findings`` (which carry ``finding_id``) by ``suppressions``; order is kept in both parts.
    ``skipped``: the check ids that did not run (``--select``/``--ignore``): an entry of such a check
    matching nothing is not stale, and an entry by id alone is not told to be deleted then."""
    if not suppressions:
        return Applied(findings, empty_suppressed(findings), [])
    today = today or dt.date.today()
    warnings: list[dict[str, Any]] = []
    active: list[tuple[int, Suppression]] = []
    for s in suppressions.entries:
        if s.expires < today:
            warnings.append({"source": s.source, "entry": s.entry,
                             "problem": f"{s.label} expired on {s.expires.isoformat()}; the findings it matched are "
                                        "reported again (review them, then renew or delete the entry)"})
        else:
            active.append((len(active), s))
    if not active or findings.height == 0:
        chosen = pl.Series("_entry", [None] * findings.height, pl.Int64())
    else:
        chosen = _first_entry(findings, active)
    used = set(chosen.drop_nulls().unique().to_list())
    entries = dict(active)
    for i, s in active:
        if i in used or (s.check is not None and s.check in skipped):
            continue  # (a waiver of a check that did not run is neither used nor stale)
        # An entry whose findings an earlier entry already suppresses is not stale (probe 20B: "delete it"
        # of a longer-lived waiver shadowed by one expiring sooner, or of a file given twice).
        mine = (findings.get_column("finding_id").str.starts_with(s.id) if s.id is not None
                else findings.select(_pattern_match(findings, s)).to_series()).fill_null(False)
        if mine.any():
            first = entries[int(chosen.filter(mine).drop_nulls()[0])]
            after = ("it applies once that one expires or is removed" if first.expires < s.expires else
                     "that one lasts as long, so this one never applies (delete it, or put it first)")
            problem = (f"{s.label} matches only findings that {first.label} of {first.source} suppresses first "
                       f"(the first matching entry in file order is the one applied): {after}")
        elif not skipped:
            problem = f"{s.label} matches no finding (fixed, or no longer found? delete it)"
        else:
            problem = (f"{s.label} matches no finding of the checks that ran (fixed, no longer found, or a finding "
                       f"of {', '.join(sorted(skipped))}, not run in this scrub)")
        warnings.append({"source": s.source, "entry": s.entry, "problem": problem})
    warnings.sort(key=lambda w: (w["source"], w["entry"]))
    if not used:
        return Applied(findings, empty_suppressed(findings), warnings)
    table = pl.DataFrame(
        {
            "_entry": [i for i, _ in active],
            "suppression_reason": [s.reason for _, s in active],
            "suppression_by": [s.by for _, s in active],
            "suppression_expires": [s.expires for _, s in active],
            "suppression_source": [s.source for _, s in active],
            "suppression_entry": [s.entry for _, s in active],
        },
        schema={"_entry": pl.Int64(), **SUPPRESSION_COLUMNS},
    )
    marked = findings.with_columns(chosen)
    suppressed = (marked.filter(pl.col("_entry").is_not_null())
                  .join(table, on="_entry", how="left", maintain_order="left").drop("_entry"))
    return Applied(marked.filter(pl.col("_entry").is_null()).drop("_entry"), suppressed, warnings)


# --------------------------------------------------------------------------- writing (baseline)


def _toml_string(text: str) -> str:
    """A TOML basic string (JSON escaping is a subset TOML accepts for these characters; DEL, which JSON
    leaves as it is and TOML refuses in a string, escaped too: a DEL in $USER wrote a baseline the next
    run could not read, probe 17B)."""
    import json

    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007F")


_NOT_IN_TOML_COMMENT = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _comment(text: str) -> str:
    """Text for one TOML comment line: TOML forbids control characters other than tab in a comment (a
    claim id holding \\x01 made a baseline the scrubber could not read back), so they become U+FFFD."""
    return _NOT_IN_TOML_COMMENT.sub("\ufffd", " ".join(str(text).split()))


def baseline_text(findings: pl.DataFrame, by: str, expires: dt.date, reason: str,
                  labels: pl.DataFrame | None = None) -> str:
    """A suppressions file accepting every finding of ``findings`` by id (``--baseline-write``).

    ``labels``: the same findings as they may be shown (pseudonymised under ``--mask-phi``), for
    the comment above each entry that tells a reviewer what it waives.
    """
    shown = labels if labels is not None else findings
    out = [
        "# Suppressions written by `scrub check --baseline-write`: every finding of that run, accepted as found.",
        "# Review them: replace the reason with what was checked, or delete an entry to see its finding again.",
        "",
    ]
    rows = zip(findings.get_column("finding_id").to_list(),
               shown.select("claim_id", "line_number", "check_id", "procedure_code").iter_rows(), strict=True)
    for finding_id, (claim, line, check, code) in rows:
        where = f"{claim}:{line}" if line is not None else f"{claim}"
        out += [
            f"# {_comment(where)} {check} {_comment(code or '')}".rstrip(),
            "[[suppress]]",
            f"id = {_toml_string(finding_id)}",
            f"reason = {_toml_string(reason)}",
            f"by = {_toml_string(by)}",
            f"expires = {expires.isoformat()}",
            "",
        ]
    return "\n".join(out)
