"""``--mask-phi``: one pseudonymised copy of a run's result, which every output then renders.

Masking the result once, rather than in each writer, is what makes it hold for every output
(JSON, CSV, HTML, terminal, rejected rows, baseline comments) and keeps the pseudonyms consistent
between them: within a run the same member id always becomes the same ``M-3f2a9c``.

What is masked:

* member ids, claim ids and payer claim numbers, as columns and wherever a text quotes them
  (messages, fixes, appeal text, rejection reasons, locations). A pseudonym is a keyed BLAKE2 hash
  of the id with a random per-run key that is never written anywhere, so two runs give different
  pseudonyms and nobody can recompute one from a guessed id. Pseudonyms grow from 6 to more hex
  characters when a batch has so many ids that 6 would collide.
* input file names (``input-1.csv``; ``records-1.csv`` for ``--records``; ``skipped-1.pdf`` for a
  file an input folder held but that was not read; ``policy-1.toml`` and ``suppressions-1.toml`` for
  the settings files a run names; the CLI names a ``--compare`` file ``compared.json``): names often
  carry a patient's or a practice's name, and so do the folders they sit in.
* values quoted by rejection reasons (``unparseable date_of_service '[masked]'``) and the
  disagreeing values of a claim whose lines disagree on member, payer or claim type.

* ``finding_id``: the real one is a plain hash of the claim id and of what the finding shows beside
  it, so next to a pseudonym it gave the claim id back to anyone guessing ids; a masked output shows
  it keyed with the run's key (12 hex characters still, the same finding the same id within the run,
  unlinkable across runs). Suppressions match the real ids before masking; a masked findings file
  says so (``provenance.masked``) and ``scrub diff`` / ``--compare`` refuse it, whose ids match no
  other run; ``--baseline-write`` (real ids, for the next run to match) is refused with ``--mask-phi``.

What is not masked: dates of service, codes, units, charges, payer names, diagnoses, NDCs and
provider NPIs (the findings are about them).

Text is masked token by token, so an id is replaced only where it stands as a word ("M10" is not
touched inside "M100"): texts are split on spaces, each word's surrounding punctuation set apart,
and the core looked up in the id table, all as Polars joins over the distinct texts.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from scrubber.cards import MAX_QUOTED_CHARS
from scrubber.finding_ids import ID_CHARS

if TYPE_CHECKING:
    from scrubber.engine import ScrubResult

STDIN_NAME = "<stdin>"
MASKED_VALUE = "[masked]"
_START_CHARS = 6
# Pseudonymised columns: column -> pseudonym prefix.
ID_COLUMNS = {"claim_id": "C-", "member_id": "M-", "payer_claim_number": "N-"}
TEXT_COLUMNS = ("message", "suggested_fix", "appeal_text", "source_location", "location", "reason",
                "suppression_reason", "suppression_by", "problem")
# How a suppression warning names an entry's claim and member patterns (suppressions.Suppression.label):
# they may name claims and members outside this batch, which no id table can know, so they are hidden.
PATTERN_IN_LABEL = re.compile(r"\b(claim|member) '[^']*'")
# ... and the finding id an entry names (suppressions.Suppression.label: "entry 2 (id de37d3840bd6)"): a
# real id, which with the finding shown beside it gives the claim id back (probe 17D), as the finding's own did.
ID_IN_LABEL = re.compile(r"\(id [^)]*\)")
_WORD = r"^([(\[{'\"]*)(.*?)([)\]}'\",.;:!?]*)$"
# A rejection reason quotes the values it read: 'value' (canonical) or repr() (loaders: '...' or "...").
_QUOTED = r"'.*'|\".*\""
_DISAGREE = r"(disagree on [a-z_]+ \().*(\); the whole claim)"


class Pseudonyms:
    """Pseudonyms for one run: keyed hashes, consistent within the run, never the same across runs."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key if key is not None else secrets.token_bytes(32)

    def finding_ids(self, values: pl.Series) -> pl.DataFrame:
        """``value -> pseudonym`` for the distinct ``finding_id`` values: the same 12 hex characters,
        keyed with the run's key. A finding id is a plain hash of the claim id and of what the finding
        shows beside it (line, check, reason, code), so the real one, next to a pseudonymised claim id,
        gave the claim id back to anyone guessing ids (probe 17B: 40 of 44 in 0.4 s)."""
        distinct = values.drop_nulls().unique().sort().to_list()
        size = (ID_CHARS + 1) // 2
        keyed = [hashlib.blake2b(v.encode("utf-8"), key=self._key, digest_size=size).hexdigest()[:ID_CHARS]
                 for v in distinct]
        return pl.DataFrame({"value": distinct, "pseudonym": keyed},
                            schema={"value": pl.String(), "pseudonym": pl.String()})

    def table(self, values: pl.Series, prefix: str) -> pl.DataFrame:
        """``value -> pseudonym`` for the distinct non-null ``values``, collision-free."""
        distinct = values.drop_nulls().unique().sort().to_list()
        digests = [hashlib.blake2b(v.encode("utf-8"), key=self._key, digest_size=16).hexdigest() for v in distinct]
        chars = _START_CHARS
        while len({d[:chars] for d in digests}) < len(digests):  # two ids, one pseudonym: lengthen them all
            chars += 2
        return pl.DataFrame({"value": distinct, "pseudonym": [prefix + d[:chars] for d in digests]},
                            schema={"value": pl.String(), "pseudonym": pl.String()})


def _file_names(result: ScrubResult) -> dict[str, str]:
    """Input and records file names -> ``input-N.ext`` / ``records-N.ext``, and the files an input
    folder held but that were not read (input warnings: "skipped: empty file") -> ``skipped-N.ext``,
    folder and all (``SMITH_JOHN/SMITH_JOHN_referral.pdf``). Standard input keeps its name."""
    names: dict[str, str] = {}
    inputs = list(result.provenance.get("inputs") or [])
    records = result.provenance.get("records")
    for path in inputs:
        if path not in names and path != STDIN_NAME:
            names[path] = f"input-{len(names) + 1}{Path(path).suffix.lower()}"
    if records and records not in names and records != STDIN_NAME:
        names[records] = f"records-1{Path(records).suffix.lower()}"
    # Sources not named in the provenance (should not happen): still hidden.
    frames = [result.findings, result.lines, result.rejected, result.unmatched_records]
    if result.suppressed is not None:
        frames.append(result.suppressed)
    for frame in frames:
        if "source" in frame.columns:
            for source in frame.get_column("source").drop_nulls().unique().sort().to_list():
                if source not in names and source != STDIN_NAME:
                    names[source] = f"input-{len(names) + 1}{Path(source).suffix.lower()}"
    # The settings files a run names (--policy, --suppressions): their names may carry a patient's or a
    # practice's name as much as an input's.
    for path in result.provenance.get("policy_files") or []:
        if isinstance(path, str) and path not in names:
            count = sum(v.startswith("policy-") for v in names.values()) + 1
            names[path] = f"policy-{count}{Path(path).suffix.lower()}"
    sources = {w.get("source") for w in result.suppression_warnings}
    if result.suppressed is not None and "suppression_source" in result.suppressed.columns:
        sources |= set(result.suppressed.get_column("suppression_source").drop_nulls().to_list())
    for path in sorted(s for s in sources if isinstance(s, str)):
        if path not in names:
            count = sum(v.startswith("suppressions-") for v in names.values()) + 1
            names[path] = f"suppressions-{count}{Path(path).suffix.lower()}"
    skipped = 0
    for warning in result.input_warnings:  # the read files' own warnings are named above
        source = warning.get("source")
        if isinstance(source, str) and source not in names and source != STDIN_NAME:
            skipped += 1
            names[source] = f"skipped-{skipped}{Path(source).suffix.lower()}"
    return names


def _frames(result: ScrubResult) -> list[pl.DataFrame]:
    frames = [result.findings, result.lines, result.rejected, result.unmatched_records]
    return frames + ([result.suppressed] if result.suppressed is not None else [])


# How the cards quote a claim, a member and a payer claim number in a message ("on claim PCN-1305,
# line 2", "for member M1"): an id has a digit or a capital (the words the cards write after "claim"
# are lower case: "claim number", "claim line"; review 20D: "ADAMSJANE" was shown).
_ID_TOKEN = r"([^\s,;:()]*[0-9A-Z][^\s,;:()]*)"
_QUOTED_IDS = {"claim_id": r"\bclaim " + _ID_TOKEN, "member_id": r"\bmember " + _ID_TOKEN,
               "payer_claim_number": r"\bpayer claim number " + _ID_TOKEN}


def quoted_ids(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """The claim ids, member ids and payer claim numbers the ``message`` of ``frames`` quote, as id
    columns for :class:`Masker`'s tables: an earlier run's findings compared with this one (probe 20B:
    a fixed finding's message named "claim PCN-1305", a claim of no finding and not in this run, which
    no table knew, so it was shown as it was). An id holding a space, comma or parenthesis is cut
    there (its first part masked)."""
    texts = pl.concat([f.select(pl.col("message").cast(pl.String)) for f in frames if "message" in f.columns]
                      or [pl.DataFrame(schema={"message": pl.String()})])
    columns = {c: texts.select(pl.col("message").str.extract_all(p)).explode("message").drop_nulls()
               .select(pl.col("message").str.replace(r"^\S+( claim number)? ", "").alias(c)).get_column(c)
               for c, p in _QUOTED_IDS.items()}
    longest = max(len(v) for v in columns.values())
    return pl.DataFrame([v.extend_constant(None, longest - len(v)) for v in columns.values()])


def id_tables(frames: list[pl.DataFrame], pseudonyms: Pseudonyms) -> dict[str, pl.DataFrame]:
    """One pseudonym table per id column, over every frame given."""
    tables = {}
    for column, prefix in ID_COLUMNS.items():
        values = [f.get_column(column).cast(pl.String) for f in frames if column in f.columns]
        if values:
            tables[column] = pseudonyms.table(pl.concat(values), prefix)
    ids = [f.get_column("finding_id").cast(pl.String) for f in frames if "finding_id" in f.columns]
    if ids:  # (a column only: no text quotes a finding id, and the word masker must not meet one)
        tables["finding_id"] = pseudonyms.finding_ids(pl.concat(ids))
    return tables


class TextMasker:
    """Replaces ids and file names in free text by their pseudonyms, word by word."""

    def __init__(self, words: pl.DataFrame, spaced: dict[str, str]) -> None:
        self.words = words.unique("value", keep="first")  # the first table wins: claim over member ids
        self.spaced = dict(sorted(spaced.items(), key=lambda kv: -len(kv[0])))  # keys with spaces: substring

    def series(self, texts: pl.Series) -> pl.Series:
        name = texts.name
        if texts.len() == 0 or texts.null_count() == texts.len():
            return texts
        distinct = pl.DataFrame({"_orig": texts.drop_nulls().unique()})
        masked = distinct.get_column("_orig")
        if self.spaced:
            masked = masked.str.replace_many(list(self.spaced), list(self.spaced.values()), leftmost=True)
        words = (
            pl.DataFrame({"_orig": distinct.get_column("_orig"), "_text": masked})
            .with_row_index("_t")
            .with_columns(pl.col("_text").str.split(" ").alias("_w"))
            .explode("_w")
            .with_columns(pl.col("_w").str.extract_groups(_WORD).alias("_parts"))
            .unnest("_parts", separator="_")
        )
        parts = words.columns[-3:]  # prefix, core, suffix
        lookup = self.words.rename({"value": "_key"})
        words = (
            words.join(lookup.rename({"pseudonym": "_whole"}), left_on="_w", right_on="_key", how="left",
                       maintain_order="left")
            .join(lookup.rename({"pseudonym": "_core"}), left_on=parts[1], right_on="_key", how="left",
                  maintain_order="left")
            .with_columns(
                pl.coalesce(
                    pl.col("_whole"),
                    pl.when(pl.col("_core").is_not_null())
                    .then(pl.concat_str(pl.col(parts[0]), pl.col("_core"), pl.col(parts[2]))),
                    pl.col("_w"),
                ).alias("_new")
            )
        )
        back = words.group_by("_t", maintain_order=True).agg(pl.col("_orig").first(), pl.col("_new").str.join(" "))
        mapping = dict(zip(back.get_column("_orig").to_list(), back.get_column("_new").to_list(), strict=True))
        return texts.replace_strict(mapping, default=texts, return_dtype=pl.String()).alias(name)

    def text(self, text: str | None) -> str | None:
        if text is None:
            return None
        return self.series(pl.Series("t", [text], pl.String())).item()


# A line number as a rejected row may quote it unmasked: up to six digits (schema.MAX_LINE_NUMBER, 999,999).
_LINE_NUMBER = r"^\s*\d{1,6}\s*$"


def mask_quoted(reason: pl.Expr) -> pl.Expr:
    """A rejection reason with the values it quotes hidden (they may be any cell of the row).

    A reason joins one problem per value with "; ". Each part's quoted value is masked from its
    first quote to its last, so a quote inside the value cannot end the masking early; when a
    part's quotes do not pair up (a value holding "; " or a lone quote), everything from the
    reason's first quote to its last is masked instead: less readable, never leaking.
    """
    masked = f"'{MASKED_VALUE}'"
    reason = reason.str.replace(_DISAGREE, f"${{1}}{MASKED_VALUE}${{2}}")
    parts = reason.str.split("; ")
    paired = parts.list.eval(((pl.element().str.count_matches("'", literal=True) % 2) == 0)
                             & ((pl.element().str.count_matches('"', literal=True) % 2) == 0)).list.all()
    per_part = parts.list.eval(pl.element().str.replace(_QUOTED, masked)).list.join("; ")
    return pl.when(paired).then(per_part).otherwise(reason.str.replace(_QUOTED, masked))


def _mask_frame(frame: pl.DataFrame, tables: dict[str, pl.DataFrame], files: dict[str, str],
                texts: TextMasker, quoted: bool = False) -> pl.DataFrame:
    exprs = []
    for column in frame.columns:
        if column in tables:
            t = tables[column]
            exprs.append(pl.col(column).cast(pl.String).replace_strict(
                t.get_column("value"), t.get_column("pseudonym"), default=None).alias(column))
        elif column in ("source", "suppression_source") and files:
            exprs.append(pl.col(column).replace(list(files), list(files.values())))
    out = frame.with_columns(exprs) if exprs else frame
    if quoted and "reason" in out.columns:
        out = out.with_columns(mask_quoted(pl.col("reason")))
    if quoted and out.schema.get("line_number") == pl.String():
        # A rejected row's line number as its cell held it: a value that is no line number (a member id
        # shifted into the column by an export) is what its reason quotes, masked there and so here
        # (probe 19B: the reason said '[masked]', the column beside it the id).
        number = pl.col("line_number")
        out = out.with_columns(pl.when(number.is_null() | number.str.contains(_LINE_NUMBER))
                               .then(number).otherwise(pl.lit(MASKED_VALUE)).alias("line_number"))
        # ... and an X12 row's location quotes the LX01 it read ("segment 25 (claim C1, LX SMITHSON)"):
        # a value that is no line number is masked there too (probe 20B).
        if "location" in out.columns and out.schema["location"] == pl.String():
            # (to the location's last parenthesis: an LX01 may hold one, which left it shown; review 20D)
            out = out.with_columns(pl.col("location").str.replace(
                r"(, LX )(.*)(\))$", "${1}" + MASKED_VALUE + "${3}").alias("_masked_lx")).with_columns(
                pl.when(pl.col("location").str.extract(r", LX (.*)\)$").str.contains(_LINE_NUMBER).fill_null(True))
                .then(pl.col("location")).otherwise(pl.col("_masked_lx")).alias("location")).drop("_masked_lx")
    text_columns = [c for c in TEXT_COLUMNS if c in out.columns and out.schema[c] == pl.String()]
    if text_columns and out.height:
        out = out.with_columns(texts.series(out.get_column(c)) for c in text_columns)
    return out


def relabel_sources(result: ScrubResult, files: dict[str, str]) -> ScrubResult:
    """``result`` with file names replaced (``files``: shown name -> new name) in every column and text.

    Standard input is read from a spooled temporary file; this shows it as ``<stdin>``.
    """
    if not files:
        return result
    words = pl.DataFrame({"value": list(files), "pseudonym": list(files.values())},
                         schema={"value": pl.String(), "pseudonym": pl.String()})
    texts = TextMasker(words, {k: v for k, v in files.items() if any(ch.isspace() for ch in k)})
    return _rebuild(result, lambda f, reasons=False: _mask_frame(f, {}, files, texts), files, texts)


class Masker:
    """The masking of one run: pseudonym tables built once over the result (and any ``extra`` frames,
    such as the findings of an earlier run compared with this one), so that every output and every
    frame masked with it shows the same pseudonym for the same id."""

    def __init__(self, result: ScrubResult, pseudonyms: Pseudonyms | None = None,
                 extra: list[pl.DataFrame] | tuple[pl.DataFrame, ...] = ()) -> None:
        self._result = result
        self.tables = id_tables([*_frames(result), *extra], pseudonyms or Pseudonyms())
        self.files = _file_names(result)
        word_tables = [self.tables[c] for c in ID_COLUMNS if c in self.tables]
        # An id longer than one quoted value is quoted cut ("C...C... (300 characters)", cards._bounded):
        # its cut form is the same id to mask (probe 18D: its first 200 characters were shown).
        word_tables += [t.filter(pl.col("value").str.len_chars() > MAX_QUOTED_CHARS).with_columns(
            pl.col("value").str.slice(0, MAX_QUOTED_CHARS)) for t in word_tables]
        word_tables.append(pl.DataFrame({"value": list(self.files), "pseudonym": list(self.files.values())},
                                        schema={"value": pl.String(), "pseudonym": pl.String()}))
        words = pl.concat(word_tables)
        spaced = {v: p for v, p in words.iter_rows() if any(ch.isspace() for ch in v)}
        self.texts = TextMasker(words, spaced)

    def frame(self, frame: pl.DataFrame, reasons: bool = False) -> pl.DataFrame:
        """``frame`` with its id columns pseudonymised, file names and (``reasons``) quoted values hidden."""
        return _mask_frame(frame, self.tables, self.files, self.texts, quoted=reasons)

    def text(self, text: str | None) -> str | None:
        return self.texts.text(text)

    def result(self) -> ScrubResult:
        masked = _rebuild(self._result, self.frame, self.files, self.texts)
        # (said in the findings file: its finding ids are this run's keyed ones, which scrub diff refuses)
        return dataclasses.replace(masked, provenance={**masked.provenance, "masked": True})


def mask_result(result: ScrubResult, pseudonyms: Pseudonyms | None = None) -> ScrubResult:
    """A copy of ``result`` with member/claim ids pseudonymised and file names and quoted values hidden."""
    return Masker(result, pseudonyms).result()


def _rebuild(result: ScrubResult, frame: Callable[..., pl.DataFrame], files: dict[str, str],
             texts: TextMasker) -> ScrubResult:
    def name(path: Any) -> Any:
        return files.get(path, path) if isinstance(path, str) else path

    provenance = dict(result.provenance)
    if "inputs" in provenance:
        provenance["inputs"] = [name(p) for p in provenance["inputs"]]
    if isinstance(provenance.get("formats"), dict):
        provenance["formats"] = {name(k): v for k, v in provenance["formats"].items()}
    if provenance.get("records"):
        provenance["records"] = name(provenance["records"])
    if provenance.get("policy_files"):
        provenance["policy_files"] = [name(p) for p in provenance["policy_files"]]
    if isinstance(provenance.get("policies"), list):
        provenance["policies"] = [{**p, "origin": name(p.get("origin"))} if isinstance(p, dict) else p
                                  for p in provenance["policies"]]
    warnings = [{**w, "source": name(w.get("source")), "problem": texts.text(w.get("problem"))}
                for w in result.input_warnings]
    suppression_warnings = [{**w, "source": name(w.get("source")),
                             "problem": texts.text(ID_IN_LABEL.sub(f"(id {MASKED_VALUE})", PATTERN_IN_LABEL.sub(
                                 rf"\1 '{MASKED_VALUE}'", w["problem"])))
                             if w.get("problem") else w.get("problem")} for w in result.suppression_warnings]
    return dataclasses.replace(
        result,
        findings=frame(result.findings),
        lines=frame(result.lines),
        rejected=frame(result.rejected, reasons=True),
        unmatched_records=frame(result.unmatched_records, reasons=True),
        suppressed=frame(result.suppressed) if result.suppressed is not None else None,
        provenance=provenance,
        input_warnings=warnings,
        suppression_warnings=suppression_warnings,
    )
