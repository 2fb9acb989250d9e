"""Isolation (issue 12), as a property: bad rows added to a valid batch never change a good row's findings.

Hypothesis draws seeds; a seeded generator (``claimgen``) builds a valid batch of claims, which is
written as CSV, nested JSON (or JSON Lines) or X12 837, scrubbed, then written again with bad rows
added and scrubbed again. The findings on the good claims must be identical, and every file must
still reconcile (rows read = its independent count).

What "bad rows" are here, per format, is what real exports get wrong: ragged and short rows,
unparseable or out-of-range values, a quote left open at the end, blank claim-level cells; JSON
lines with pointers past the diagnoses, ``modifiers`` that are not a list, keys given twice, a line
of a JSON Lines file that is not JSON; X12 claims outside the transaction set, unknown segments,
ICD-9 qualifiers, a year-0 date, an impossible CTP quantity. They come as new claims of members of
their own (another member's encounter is not this one's) or as lines added to a good claim whose
procedure code cannot be read (a line with a readable code is a billed service: adding it changes
the claim on purpose). The cases where a rejected line's readable code must still count for its
siblings are in ``test_bad_input.py``.
"""

from __future__ import annotations

import json
import random
import tempfile
from pathlib import Path

import polars as pl
from claimgen import CSV_COLUMNS, generate_claims, table, write_rows
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_x12_loader import _writer

from scrubber.engine import scrub
from scrubber.loaders import load_inputs

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = 6  # per format: each example is two scrubs of a small batch (~0.3 s)
SETTINGS = {"deadline": None, "max_examples": EXAMPLES,
            "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}
NASTY = ("", "abc", "-1", "0", "1e400", "nan", "2025-02-30", "0000-01-01", "13/01/2025", "9" * 40, "$", "\x1b[31m",
         "JWX", "D80.0.0", "1e308", "=1+1")
UNREADABLE_CODES = ("", "9636", "XXXXXX", "96-365")


def _good_claims(seed: int) -> tuple[list[list[str]], list[str]]:
    rnd = random.Random(seed)
    lines = generate_claims(rnd, prefix="G", n_claims=rnd.randint(2, 5), max_lines=5)
    return table(lines), sorted({line.expected["claim_id"] for line in lines})


def _findings(paths: list[str], good: list[str]) -> set[tuple]:
    raw = load_inputs(paths)
    from scrubber.canonical import canonicalise

    canon = canonicalise(raw.batches())
    assert raw.reconciliation() == [], raw.reconciliation()
    assert canon.rows_read == sum(raw.counted_rows.values())
    result = scrub(paths)
    mine = result.findings.filter(pl.col("claim_id").is_in(good))
    return set(mine.select("claim_id", "line_number", "check_id", "message").rows())


def _col(name: str) -> int:
    return CSV_COLUMNS.index(name)


# --- CSV -------------------------------------------------------------------------------------------


def _bad_csv_rows(rnd: random.Random, rows: list[list[str]], ragged: set[str] | None = None,
                  placed: set[tuple[str, str]] | None = None) -> list[str]:
    """Bad rows as CSV text lines (ragged rows cannot be written as cells). ``ragged`` collects the good
    claims given a row whose code is unknown (a ragged row, or a line whose code cannot be read);
    ``placed`` the (member, date) of a row of unknown code on a claim of its own that still names them
    (a row cut short after its date): it may bill the primary of that member's encounter that day."""
    out: list[str] = []
    claims = {}
    for row in rows:
        claims.setdefault(row[_col("claim_id")], row)
    for k in range(rnd.randint(1, 6)):
        kind = rnd.choice(("new", "new", "in_claim", "ragged", "short", "blank"))
        template = list(rnd.choice(rows))
        if kind == "new":
            template[_col("claim_id")] = f"~BAD{k}"
            template[_col("member_id")] = f"~BADM{k}"
            for _ in range(rnd.randint(1, 3)):
                template[rnd.randrange(len(template))] = rnd.choice(NASTY)
            template[_col("claim_id")] = f"~BAD{k}"
            template[_col("member_id")] = f"~BADM{k}"
        elif kind == "in_claim":
            # A line of a good claim whose code cannot be read; its claim-level cells blank or the claim's.
            # Its code unknown, the claim may be missing a line: collected with the ragged ones.
            if ragged is not None:
                ragged.add(template[_col("claim_id")])
            template[_col("line_number")] = str(900 + k)
            template[_col("procedure_code")] = rnd.choice(UNREADABLE_CODES)
            for name in ("claim_type", "place_of_service"):
                if rnd.random() < 0.5:
                    template[_col(name)] = ""
            for _ in range(rnd.randint(0, 2)):
                at = rnd.randrange(len(template))
                if CSV_COLUMNS[at] not in ("claim_id", "member_id", "payer", "procedure_code", "claim_type"):
                    template[at] = rnd.choice(NASTY)
        elif kind == "ragged":  # an unquoted comma: cells shifted, the row unreadable (its line number may repeat)
            template.extend(["extra", rnd.choice(NASTY) or "x"])
            if ragged is not None:
                ragged.add(template[_col("claim_id")])
        elif kind == "short":
            template[_col("claim_id")] = f"~BAD{k}"
            template = template[: rnd.randint(1, 5)]
            member, day = _col("member_id"), _col("date_of_service")
            if placed is not None and len(template) > max(member, day) and template[member] and template[day]:
                placed.add((template[member], template[day]))
            elif placed is not None and len(template) > member and template[member]:
                # (cut before its date: its member's on every date, probe 20B; None stands for any date)
                placed.add((template[member], None))
        else:
            out.append(",".join([""] * len(CSV_COLUMNS)))
            continue
        out.append(write_rows(list(CSV_COLUMNS), [template]).splitlines()[1])
    if rnd.random() < 0.3:  # a quote left open on the last row: it swallows nothing but itself
        out.append('~BADQ,1,~BADMQ,AETNA,,11,2026-01-01,"96365,,1')
    return out


ABSENCE_CHECKS = {"addon-without-primary", "route-mismatch", "missing-modifier", "home-ig-supplies",
                  "unit-miscalculation", "observation-counted-as-infusion"}


@settings(**SETTINGS)
@given(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))
def test_bad_csv_rows_never_change_good_findings(seed: int, bad_seed: int) -> None:
    rows, good = _good_claims(seed)
    text = write_rows(list(CSV_COLUMNS), rows)
    with tempfile.TemporaryDirectory() as tmp:
        clean = Path(tmp) / "clean.csv"
        clean.write_text(text, encoding="utf-8")
        dirty = Path(tmp) / "dirty.csv"
        ragged: set[str] = set()
        placed: set[tuple[str, str]] = set()
        dirty.write_text(text + "\n".join(_bad_csv_rows(random.Random(bad_seed), rows, ragged, placed)) + "\n",
                         encoding="utf-8")
        before, after = _findings([str(clean)], good), _findings([str(dirty)], good)
        # A row of unknown code hides a line: an add-on of its encounter may have had its primary there, a
        # drug its administration or its JW line, so the checks that report an absence leave that
        # encounter unevaluated instead of reporting (issue 12). Nothing else may change.
        where = {(r[_col("member_id")], r[_col("date_of_service")]) for r in rows if r[_col("claim_id")] in ragged}
        where |= placed
        near = {r[_col("claim_id")] for r in rows if (r[_col("member_id")], r[_col("date_of_service")]) in where
                or (r[_col("member_id")], None) in where}
        hidden = {f for f in before if f[0] in near and f[2] in ABSENCE_CHECKS}
        assert after - hidden == before - hidden and after <= before


# --- JSON ------------------------------------------------------------------------------------------


def _json_claims(rows: list[list[str]]) -> list[dict]:
    claims: dict[str, dict] = {}
    for row in rows:
        cell = dict(zip(CSV_COLUMNS, row, strict=True))
        claim = claims.setdefault(cell["claim_id"], {
            **{k: cell[k] for k in ("claim_id", "member_id", "payer", "claim_type", "place_of_service",
                                    "date_of_service") if cell[k]}, "lines": []})
        line = {k: v for k, v in cell.items() if v and k not in claim and not k.startswith(("modifier_", "diagnosis_"))}
        line["modifiers"] = [cell[f"modifier_{i}"] for i in range(1, 5) if cell[f"modifier_{i}"]]
        line["diagnoses"] = [cell[f"diagnosis_{i}"] for i in range(1, 5) if cell[f"diagnosis_{i}"]]
        claim["lines"].append(line)
    return list(claims.values())


def _bad_json(rnd: random.Random, claims: list[dict], unknown: set[str] | None = None
              ) -> tuple[list[dict | str], list[str]]:
    """Bad claims (objects, or text for what json.dumps cannot write: keys twice) and lines added to good claims
    (``unknown`` collects the good claims given a line whose code cannot be read)."""
    added: list[dict | str] = []
    for k in range(rnd.randint(1, 5)):
        kind = rnd.choice(("pointer", "modifiers", "dup_key", "value", "no_lines", "not_object", "in_claim"))
        line = {"line_number": 1, "procedure_code": rnd.choice(("96365", "96366", "J1459")), "units": 1}
        bad = {"claim_id": f"~BAD{k}", "member_id": f"~BADM{k}", "payer": "AETNA", "date_of_service": "2026-01-05",
               "diagnoses": ["D80.0"], "lines": [line]}
        if kind == "pointer":
            line["diagnosis_pointers"] = [rnd.choice((0, 2, 9))]
        elif kind == "modifiers":
            line["modifiers"] = rnd.choice((59, {"a": "JW"}, True))
        elif kind == "value":
            line[rnd.choice(("units", "charge", "date_of_service", "infusion_start"))] = rnd.choice(NASTY)
        elif kind == "no_lines":
            bad["lines"] = []
        elif kind == "not_object":
            added.append(json.dumps(rnd.choice(("not a claim", 42))))
            continue
        elif kind == "in_claim":
            target = rnd.choice(claims)
            target["lines"].append({"line_number": 900 + k, "procedure_code": rnd.choice((None, 123, "9636")),
                                    "units": rnd.choice(NASTY) or 1})
            if unknown is not None:
                unknown.add(target["claim_id"])
            continue
        if kind == "dup_key":
            added.append(json.dumps(bad).replace('"units": 1', f'"units": 1, "units": {rnd.randint(2, 9)}'))
        else:
            added.append(bad)
    broken = ['{"claim_id": "~BROKEN", "lines": ['] if rnd.random() < 0.5 else []
    return added, broken


def _json_text(claims: list[dict | str], jsonl: bool, broken: list[str]) -> str:
    items = [c if isinstance(c, str) else json.dumps(c) for c in claims]
    if jsonl:
        return "\n".join([*items, *broken]) + "\n"
    return '{"claims": [' + ",\n".join(items) + "]}"


@settings(**SETTINGS)
@given(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1), st.booleans())
def test_bad_json_lines_never_change_good_findings(seed: int, bad_seed: int, jsonl: bool) -> None:
    rows, good = _good_claims(seed)
    claims = _json_claims(rows)
    clean_text = _json_text(list(claims), jsonl, [])
    unknown: set[str] = set()
    added, broken = _bad_json(random.Random(bad_seed), claims, unknown)
    dirty_text = _json_text([*claims, *added], jsonl, broken if jsonl else [])
    suffix = ".jsonl" if jsonl else ".json"
    with tempfile.TemporaryDirectory() as tmp:
        clean, dirty = Path(tmp) / f"clean{suffix}", Path(tmp) / f"dirty{suffix}"
        clean.write_text(clean_text, encoding="utf-8")
        dirty.write_text(dirty_text, encoding="utf-8")
        before, after = _findings([str(clean)], good), _findings([str(dirty)], good)
        # A line whose code cannot be read may be any line of its claim: the checks that report an
        # absence leave its encounter unevaluated (issue 12). Nothing else may change.
        where = {(r[_col("member_id")], r[_col("date_of_service")]) for r in rows if r[_col("claim_id")] in unknown}
        near = {r[_col("claim_id")] for r in rows if (r[_col("member_id")], r[_col("date_of_service")]) in where}
        hidden = {f for f in before if f[0] in near and f[2] in ABSENCE_CHECKS}
        assert after - hidden == before - hidden and after <= before


# --- X12 -------------------------------------------------------------------------------------------


def _x12_rows(rows: list[list[str]]) -> list[dict[str, str]]:
    """The good claims as the 837 writer takes them: professional, POS on every claim, plain numbers."""
    out = []
    for row in rows:
        cell = dict(zip(CSV_COLUMNS, row, strict=True))
        cell["claim_type"] = "professional"
        cell["place_of_service"] = cell["place_of_service"].zfill(2) if cell["place_of_service"] else "11"
        cell["procedure_code"] = cell["procedure_code"].upper()
        cell["charge"] = cell["charge"].replace("$", "").replace(",", "")
        cell["drug_dose_mg"] = ""  # spellings the writer need not know; both runs lose them alike
        cell["units"] = str(float(cell["units"].replace(",", "")))
        cell["line_number"] = str(int(float(cell["line_number"])))
        out.append(cell)
    return out


def _bad_x12(rnd: random.Random, text: str, good: list[str]) -> str:
    segments = [s.strip() for s in text.split("~") if s.strip()]
    se = next(i for i, s in enumerate(segments) if s.startswith("SE*"))
    inside: list[str] = []
    outside: list[str] = []
    for k in range(rnd.randint(1, 4)):
        kind = rnd.choice(("outside", "unknown", "icd9", "pointer", "date", "ctp", "no_code"))
        if kind == "no_code":  # a line added to a good claim, its code unreadable
            target = f"CLM*{rnd.choice(good)}*"
            claim_at = next(i for i, s in enumerate(segments) if s.startswith(target))
            end = next(i for i in range(claim_at + 1, len(segments)) if segments[i].startswith(("HL*", "SE*")))
            segments[end:end] = [f"LX*{900 + k}", "SV1*HC*100*UN*1***1", "DTP*472*D8*20260105"]
            se += 3
            continue
        claim = [f"HL*{900 + k}*1*22*0", "SBR*P*18*******CI", f"NM1*IL*1*BAD*MEMBER****MI*~BADM{k}",
                 "NM1*PR*2*AETNA*****PI*AETNA", f"CLM*~BAD{k}*100***11:B:1*Y*A*Y*Y", "HI*ABK:D800",
                 "LX*1", "SV1*HC:96365*100*UN*1***1", "DTP*472*D8*20260105"]
        if kind == "unknown":
            claim.insert(6, "ZZZ*1")
        elif kind == "icd9":
            claim[5] = "HI*BK:2790"
        elif kind == "pointer":
            claim[7] = "SV1*HC:96365*100*UN*1***9"
        elif kind == "date":
            claim[8] = "DTP*472*D8*00000101"
        elif kind == "ctp":
            claim += ["LIN**N4*44206043610", "CTP****1E999999*ME"]
        (outside if kind == "outside" else inside).extend(claim)
    segments[se:se] = inside
    return "".join(f"{s}~\n" for s in [*segments, *outside])


@settings(**SETTINGS)
@given(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))
def test_bad_x12_claims_never_change_good_findings(seed: int, bad_seed: int) -> None:
    rows, good = _good_claims(seed)
    text = _writer().build_837(_x12_rows(rows))
    with tempfile.TemporaryDirectory() as tmp:
        clean, dirty = Path(tmp) / "clean.837", Path(tmp) / "dirty.837"
        clean.write_text(text, encoding="utf-8")
        dirty.write_text(_bad_x12(random.Random(bad_seed), text, good), encoding="utf-8")
        assert _findings([str(dirty)], good) == _findings([str(clean)], good)
