"""The Polars JSON reader against the Python one: same raw frame for every document it takes.

``json_loader.slow_raw`` (``json.loads`` + a loop per line) defines what a document loads as;
``json_loader.fast_raw`` must give exactly that frame (columns, dtypes, text of every value,
``source_row``/``source_location`` wording, reasons) or decline (None) so the Python reader takes
the file. These tests generate many documents, regular and deliberately irregular, in every
layout (``{"claims": [...]}``, a bare list, JSON Lines; compact, spaced, indented; escaped or raw
unicode), and check both halves of that contract:

* whatever the fast reader returns equals the Python reader's frame (``DataFrame.equals``), and
  it returns nothing for a document the Python reader rejects;
* for regular documents it does return a frame (the fast path is really taken), also through
  ``load_json`` and the CLI's loader.

Chunks are made tiny (``PARSE_BYTES``/``GROUP_BYTES``) so that a small document is cut into many
chunks and groups, as a large file is: the cut and merge logic runs on every case.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from claimgen import DIAGNOSES, MODIFIERS, generate_claims

from scrubber.errors import InputError
from scrubber.loaders import json_loader, load_inputs
from scrubber.loaders.json_loader import fast_raw, slow_raw
from scrubber.schema import RECORD_COLUMNS

CLAIM_KEYS = ("claim_id", "member_id", "payer", "claim_type", "place_of_service", "date_of_service")
NUMERIC = ("line_number", "units", "charge", "drug_dose_mg", "drug_wasted_mg", "observation_minutes", "sites")
LINE_KEYS = ("line_number", "procedure_code", "units", "charge", "ndc", *RECORD_COLUMNS)


@pytest.fixture(autouse=True)
def tiny_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cut every document into chunks of a few hundred bytes, grouped a few at a time."""
    monkeypatch.setattr(json_loader, "PARSE_BYTES", 300)
    monkeypatch.setattr(json_loader, "GROUP_BYTES", 1500)


def compare(text: str, first_row_id: int = 0) -> str:
    """Assert the fast reader gives the Python reader's frame or declines.

    Returns "fast" (it took the file), "declined", or "rejected" (the Python reader raises, and the
    fast reader declined, as it must).
    """
    try:
        slow = slow_raw(text, "in.json", first_row_id)
    except (InputError, UnicodeEncodeError):  # the second: a lone surrogate, which Polars cannot hold
        assert fast_raw(text, "in.json", first_row_id) is None, "the fast reader took a file Python rejects"
        return "rejected"
    fast = fast_raw(text, "in.json", first_row_id)
    # The same document as bytes (how load_inputs hands over an ASCII file): the same outcome.
    from_bytes = fast_raw(text.encode("utf-8"), "in.json", first_row_id)
    assert (from_bytes is None) == (fast is None) and (fast is None or from_bytes.equals(fast))
    if fast is None:
        return "declined"
    if not fast.equals(slow):
        assert fast.schema == slow.schema
        for name in slow.columns:
            mismatch = fast.with_row_index("_r").filter(~fast[name].eq_missing(slow[name]))
            assert mismatch.is_empty(), (name, mismatch.head(3).to_dicts(), slow[mismatch["_r"][0], name])
        pytest.fail("frames differ")  # pragma: no cover - the loop above names the column
    return "fast"


# --------------------------------------------------------------------------------------------------
# Generated documents.


def _number(cell: str) -> Any:
    """A numeric cell as a JSON number when it is one (3, 2.5), else the text ("$1,234.00", " 2 ")."""
    try:
        value = float(cell)
    except ValueError:
        return cell
    if cell.strip() != cell or (cell.startswith("0") and len(cell) > 1 and cell[1] != "."):
        return cell
    return int(value) if value.is_integer() and "." not in cell else value


def build_claims(rnd: random.Random, prefix: str, wild: bool) -> list[Any]:
    """Nested claims from ``claimgen`` lines, every representation the Python reader accepts.

    ``wild`` mixes representations within a document and adds the irregular cases (pointers past
    the claim's diagnoses, null lines, non-object claims, numeric ids, scalar diagnoses, type
    conflicts) for which the fast reader may decline.
    """
    lines = generate_claims(rnd, prefix=prefix, n_claims=rnd.randint(1, 7), max_lines=5)
    by_claim: dict[str, list[Any]] = {}
    for line in lines:
        by_claim.setdefault(line.cells["claim_id"], []).append(line)
    doc_mods = rnd.choice(("list", "string", "parts", "none"))
    doc_numbers = rnd.random() < 0.5
    claims: list[Any] = []
    for claim_lines in by_claim.values():
        cells0 = claim_lines[0].cells
        claim: dict[str, Any] = {}
        on_lines: set[str] = set()
        for key in CLAIM_KEYS:
            where = rnd.choices(("claim", "lines", "both"), (6, 1, 2))[0] if key != "claim_id" else "claim"
            if wild and key == "claim_id":
                where = rnd.choices(("claim", "lines", "both", "none"), (6, 1, 1, 1))[0]
            if where in ("claim", "both"):
                claim[key] = cells0[key] if cells0[key] != "" or rnd.random() < 0.5 else None
            if where in ("lines", "both"):
                on_lines.add(key)
        if wild and rnd.random() < 0.1 and "claim_id" in claim:
            claim["claim_id"] = rnd.choice((7, 7.0, 1.5, True, -0.0))  # numeric / boolean claim id
        dx_pool = sorted({c for ln in claim_lines for i in range(1, 5) if (c := ln.cells[f"diagnosis_{i}"])})
        if rnd.random() < 0.8:
            claim["diagnoses"] = dx_pool if not (wild and rnd.random() < 0.05) else (dx_pool or ["D80.0"])[0]
        if wild and rnd.random() < 0.1 and "diagnoses" in claim and isinstance(claim["diagnoses"], list):
            claim["diagnoses"] = [*claim["diagnoses"], None]
        out_lines: list[Any] = []
        for ln in claim_lines:
            cells = ln.cells
            entry: dict[str, Any] = {}
            for key in LINE_KEYS:
                value: Any = cells[key]
                if value == "":
                    if rnd.random() < 0.3:
                        entry[key] = None
                    continue
                numbers = doc_numbers if not wild else rnd.random() < 0.5
                entry[key] = _number(value) if key in NUMERIC and numbers else value
            for key in on_lines:
                entry[key] = cells[key] if not (key == "place_of_service" and rnd.random() < 0.3) else "22"
            mods = [cells[f"modifier_{i}"] for i in range(1, 5) if cells[f"modifier_{i}"]]
            mode = doc_mods if not wild else rnd.choice(("list", "string", "parts", "none"))
            if mode == "list":
                entry["modifiers"] = mods if not wild or rnd.random() < 0.9 else [*mods, 59, None]
            elif mode == "string" and mods:
                entry["modifiers"] = rnd.choice((" ", ",", ", ")).join(mods)
            elif mode == "parts":
                entry.update({f"modifier_{i + 1}": m for i, m in enumerate(mods)})
            dx = [cells[f"diagnosis_{i}"] for i in range(1, 5) if cells[f"diagnosis_{i}"]]
            dx_mode = rnd.choice(("pointers", "list", "parts", "claim"))
            if dx_mode == "pointers" and isinstance(claim.get("diagnoses"), list):
                pointers: list[Any] = [claim["diagnoses"].index(d) + 1 for d in dx if d in claim["diagnoses"]]
                style = rnd.choice((int, str, float))
                pointers = [style(p) for p in pointers]
                if wild and rnd.random() < 0.2:
                    pointers.append(rnd.choice((0, 9, "9", 1.5, "B", None, True, " 1", -1)))
                entry["diagnosis_pointers"] = pointers if len(pointers) != 1 or rnd.random() < 0.7 else pointers[0]
            elif dx_mode == "list":
                entry["diagnoses"] = dx
            elif dx_mode == "parts":
                entry.update({f"diagnosis_{i + 1}": d for i, d in enumerate(dx)})
            keys = list(entry)
            if rnd.random() < 0.3:
                rnd.shuffle(keys)
                keys.sort(key=lambda k: k == "claim_id")  # a line never opens like a claim
            out_lines.append({k: entry[k] for k in keys})
        if wild and rnd.random() < 0.05:
            out_lines.insert(rnd.randint(0, len(out_lines)), None)
        shape = rnd.choices(("lines", "empty", "absent", "null"), (20, 1, 1, 1))[0]
        if shape == "lines":
            claim["lines"] = out_lines
        elif shape == "empty":
            claim["lines"] = []
        elif shape == "null":
            claim["lines"] = None
        claims.append(claim)
    if wild and rnd.random() < 0.05:
        claims.insert(rnd.randint(0, len(claims)), rnd.choice(("not a claim", 3, None, [])))
    return claims


def render(rnd: random.Random, claims: list[Any]) -> str:
    """One of the layouts the Python reader accepts, with varying whitespace and escaping."""
    ascii_only = rnd.random() < 0.5
    layout = rnd.choice(("wrapped", "list", "jsonl"))
    if layout == "jsonl":
        newline = rnd.choice(("\n", "\r\n"))
        rows = [
            json.dumps(c, ensure_ascii=ascii_only, separators=rnd.choice(((",", ":"), (", ", ": ")))) for c in claims
        ]
        if rnd.random() < 0.3:
            rows = [r for row in rows for r in (row, "")]  # blank lines between records
        return newline.join(rows) + rnd.choice(("", newline, newline * 2))
    indent = rnd.choice((None, None, 1, 2))
    separators = rnd.choice(((",", ":"), (", ", ": ")))
    doc: Any = {"claims": claims} if layout == "wrapped" else claims
    return json.dumps(doc, ensure_ascii=ascii_only, indent=indent, separators=separators) + rnd.choice(("", "\n"))


def documents(seed: int, count: int, wild: bool) -> Iterator[str]:
    rnd = random.Random(seed)
    for n in range(count):
        yield render(rnd, build_claims(rnd, f"S{seed}N{n}-", wild))


@pytest.mark.parametrize("seed", range(6))
def test_regular_documents_take_the_fast_path_and_match(seed: int) -> None:
    outcomes = [compare(text, first_row_id=seed * 1000) for text in documents(seed, 25, wild=False)]
    assert "declined" not in outcomes
    assert outcomes.count("fast") >= 20  # "rejected": one JSON Lines record without "lines" is no claims file


@pytest.mark.parametrize("seed", range(100, 106))
def test_irregular_documents_match_or_decline(seed: int) -> None:
    outcomes = [compare(text, first_row_id=7) for text in documents(seed, 40, wild=True)]
    assert outcomes.count("fast") >= 4  # irregular cases are sprinkled: some files still go fast


# --------------------------------------------------------------------------------------------------
# Hand-written cases.

LINE = {"line_number": 1, "procedure_code": "96365", "units": 1}


def doc(*claims: Any) -> str:
    return json.dumps({"claims": list(claims)})


def claim(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"claim_id": "C-100", "member_id": "M1", "payer": "AETNA", "date_of_service": "2026-02-10"}
    base.update(fields)
    return base


TAKEN = {
    "claim-level-only": doc(
        claim(place_of_service="11", claim_type="professional", lines=[LINE, {**LINE, "line_number": 2}])
    ),
    "line-overrides": doc(
        claim(
            place_of_service="11",
            lines=[{**LINE, "place_of_service": "22", "member_id": "M2"}, {**LINE, "place_of_service": None}],
        )
    ),
    "pointers-int-str-float": doc(
        claim(
            diagnoses=["D80.0", "G61.81", None],
            lines=[
                {**LINE, "diagnosis_pointers": [2, 1]},
                {**LINE, "diagnosis_pointers": ["1", "02"]},
                {**LINE, "diagnosis_pointers": [2.0, 3]},
                {**LINE, "diagnosis_pointers": 1},
                {**LINE, "diagnosis_pointers": []},
            ],
        )
    ),
    "pointer-past-diagnoses": doc(
        claim(
            diagnoses=["D80.0"],
            lines=[{**LINE, "diagnosis_pointers": [1, 2, 0]}, {**LINE, "diagnosis_pointers": [0]}, {**LINE}],
        ),
        claim(claim_id="C-2", lines=[{**LINE, "diagnosis_pointers": [1]}]),
    ),
    "modifiers-list": doc(claim(lines=[{**LINE, "modifiers": ["JW", "KX"]}, {**LINE, "modifiers": ["59"]}])),
    "modifiers-string": doc(claim(lines=[{**LINE, "modifiers": "JW KX"}, {**LINE, "modifiers": "JW,KX , 59"}])),
    "modifiers-one-string": doc(claim(lines=[{**LINE, "modifiers": "JW"}, {**LINE, "modifiers": ["JW", "KX"]}])),
    "modifiers-parts": doc(claim(lines=[{**LINE, "modifier_1": "JW", "modifier_3": "KX"}, {**LINE, "modifier_2": 59}])),
    "modifiers-list-with-numbers-and-nulls": doc(claim(lines=[{**LINE, "modifiers": [59, None, "jw"]}])),
    "diagnoses-on-line": doc(
        claim(
            diagnoses=["D80.0"],
            lines=[
                {**LINE, "diagnosis_1": "G61.81", "diagnosis_3": "D83.9"},
                {**LINE, "diagnoses": ["E86.0", None]},
                {**LINE, "diagnoses": []},
                {**LINE},
            ],
        )
    ),
    "numbers-as-numbers": doc(
        claim(
            lines=[
                {
                    "line_number": 1,
                    "procedure_code": "J1459",
                    "units": 70,
                    "charge": 6650.0,
                    "drug_dose_mg": 35000,
                    "drug_wasted_mg": 0.5,
                    "sites": 2,
                    "observation_minutes": 30.0,
                }
            ]
        )
    ),
    "numbers-as-strings": doc(
        claim(
            lines=[
                {
                    "line_number": "1",
                    "procedure_code": "J1459",
                    "units": "70.0",
                    "charge": "$6,650.00",
                    "drug_dose_mg": "35000",
                    "sites": "2",
                }
            ]
        )
    ),
    "numbers-mixed-with-text": doc(
        claim(lines=[{**LINE, "units": 2.5}, {**LINE, "units": "2.5"}, {**LINE, "units": 1e2}, {**LINE, "units": True}])
    ),
    "nulls": doc(
        claim(
            member_id=None,
            lines=[
                {
                    "line_number": None,
                    "procedure_code": None,
                    "units": None,
                    "modifiers": None,
                    "diagnoses": None,
                    "diagnosis_pointers": None,
                }
            ],
        )
    ),
    "empty-lines": doc(claim(lines=[]), claim(claim_id="C-2", lines=[LINE])),
    "no-lines-key": doc(claim(procedure_code="96365"), claim(claim_id="C-2", lines=[LINE])),
    "no-claim-id": doc({"member_id": "M1", "lines": [LINE]}, claim(claim_id=None, lines=[LINE])),
    "empty-line-object": doc(claim(lines=[{}, LINE])),
    "unicode-raw": json.dumps(
        {"claims": [claim(claim_id="Jösé-漢-😀", member_id="Müller", lines=[LINE])]}, ensure_ascii=False
    ),
    "unicode-escaped": json.dumps({"claims": [claim(claim_id="Jösé-漢-😀", member_id="Müller", lines=[LINE])]}),
    "escapes-in-values": doc(claim(member_id='a "quoted" \\ back\\slash /\t\n\u0000', lines=[LINE])),
    "bare-list": json.dumps([claim(lines=[LINE]), claim(claim_id="C-2", lines=[LINE, LINE])]),
    "jsonl": "\n".join(json.dumps(claim(claim_id=f"L{i}", lines=[LINE] * i)) for i in range(1, 4)) + "\n",
    "jsonl-crlf-blank-lines": "\r\n\r\n".join(json.dumps(claim(claim_id=f"L{i}", lines=[LINE])) for i in range(3))
    + "\r\n  \r\n",
    "jsonl-one-claim": json.dumps(claim(lines=[LINE])) + "\n",
    "jsonl-claims-key-inside": json.dumps(claim(claims=[1], lines=[LINE])) + "\n" + json.dumps(claim(lines=[LINE])),
    "indented": json.dumps({"claims": [claim(lines=[LINE, LINE]), claim(claim_id="C-2", lines=[LINE])] * 5}, indent=2),
    "big-ints-and-exact-floats": doc(claim(lines=[{**LINE, "units": 123456789012345, "charge": 0.1 + 0.2 - 0.3 + 10}])),
    "wrapped-on-one-line-of-jsonl": json.dumps({"claims": [claim(lines=[LINE])]}) + "\n",
    "modifiers-empty-string": doc(claim(lines=[{**LINE, "modifiers": ""}, {**LINE, "modifiers": " , "}])),
    "unknown-fields": doc(claim(notes={"a": [1, {"b": None}]}, lines=[{**LINE, "extra": [[1], "x"], "flag": False}])),
}

DECLINED = {
    "claim-not-an-object": doc(claim(lines=[LINE]), "not a claim"),
    "null-claim": doc(claim(lines=[LINE]), None),
    "lines-not-a-list": doc(claim(lines={"line_number": 1})),
    "line-not-an-object": doc(claim(lines=[LINE, 5])),
    "null-line": doc(claim(lines=[LINE, None])),
    "pointer-not-whole": doc(claim(diagnoses=["D80.0", "D80.2"], lines=[{**LINE, "diagnosis_pointers": [1.5]}])),
    "pointer-letter": doc(claim(diagnoses=["D80.0"], lines=[{**LINE, "diagnosis_pointers": ["B"]}])),
    "pointer-bool": doc(claim(diagnoses=["D80.0"], lines=[{**LINE, "diagnosis_pointers": [True]}])),
    "pointer-null": doc(claim(diagnoses=["D80.0"], lines=[{**LINE, "diagnosis_pointers": [None]}])),
    "pointer-huge": doc(claim(diagnoses=["D80.0"], lines=[{**LINE, "diagnosis_pointers": [1e308]}])),
    "claim-diagnoses-scalar": doc(claim(diagnoses="D80.0", lines=[LINE])),
    "line-diagnoses-scalar": doc(claim(diagnoses=["D80.0"], lines=[{**LINE, "diagnoses": "G61.81"}])),
    "modifiers-number": doc(claim(lines=[{**LINE, "modifiers": 59}])),
    "modifiers-string-and-list-ambiguous": doc(
        claim(lines=[{**LINE, "modifiers": "JW KX"}, {**LINE, "modifiers": ["JW KX"]}])
    ),
    "modifiers-object": doc(claim(lines=[{**LINE, "modifiers": {"a": 1}}])),
    "scalar-is-a-list": doc(claim(lines=[{**LINE, "units": [1]}])),
    "scalar-is-an-object": doc(claim(payer={"name": "AETNA"}, lines=[LINE])),
    "numeric-claim-id": doc(claim(claim_id=5.0, lines=[LINE])),
    "boolean-claim-id": doc(claim(claim_id=True, lines=[LINE])),
    "negative-zero": doc(claim(lines=[{**LINE, "units": -0.0}])),
    "tiny-float": doc(claim(lines=[{**LINE, "charge": 1e-05}])),
    "float-16-digits": doc(claim(lines=[{**LINE, "charge": 798986265330661.2}])),
    "float-1e16": doc(claim(lines=[{**LINE, "charge": 1e16}])),
    "string-16-digits": doc(claim(member_id="1234567890123456", lines=[LINE])),
    "lone-surrogate": '{"claims": [{"claim_id": "C\\ud800x", "lines": [{"line_number": 1}]}]}',
    # A value holding the character the reader writes for a key's null (its sentinel): declined.
    "sentinel-in-a-value": doc(claim(member_id="M\x01", lines=[LINE])),
    "escaped-key": '{"claims": [{"claim_id": "C1", "diagnose\\u0073": "D80", "lines": [{"line_number": 1}]}]}',
    "jsonl-u2028-in-string": json.dumps(claim(member_id="a\u2028b", lines=[LINE]), ensure_ascii=False)
    + "\n"
    + json.dumps(claim(lines=[LINE])),
    "jsonl-lone-cr": json.dumps(claim(lines=[LINE])).replace(", ", ",\r", 1) + "\n" + json.dumps(claim(lines=[LINE])),
    "jsonl-record-over-two-lines": json.dumps(claim(lines=[LINE])).replace(", ", ",\n", 1)
    + "\n"
    + json.dumps(claim(lines=[LINE])),
    "jsonl-two-records-one-line": json.dumps(claim(lines=[LINE]))
    + json.dumps(claim(lines=[LINE]))
    + "\n"
    + json.dumps(claim(lines=[LINE])),
    "jsonl-missing-comma-repaired": '{"claim_id": "C1", "lines": []\n"member_id": "M"}\n'
    '{"claim_id": "C2", "lines": []}',
    "jsonl-record-swallows-a-line-break": '{"claim_id": "C1", "x": [{"b": [\n]}]}\n{"claim_id": "C2", "lines": []}',
    "jsonl-not-objects": json.dumps(claim(lines=[LINE])) + "\n[1, 2]\n",
    "jsonl-injected-wrapper": json.dumps(claim(lines=[LINE]))
    + ']},{"_scrubber_jsonl_record_":['
    + json.dumps(claim(lines=[LINE]))
    + "\n{}",
    "jsonl-one-claim-no-lines": json.dumps(claim()) + "\n",
    "no-claim-id-nor-lines": doc({"member_id": "M1"}, {"payer": "X"}),
    "empty-claims": '{"claims": []}',
    "claims-not-a-list": '{"claims": {"claim_id": "C1", "lines": []}}',
    "extra-top-level-key": '{"claims": [{"claim_id": "C1", "lines": []}], "batch": 1}',
    "two-documents": doc(claim(lines=[LINE])) + "\n" + doc(claim(lines=[LINE])),
    "invalid-json": '{"claims": [{"claim_id": "C1", "lines": [}]}',
    "trailing-comma": '{"claims": [{"claim_id": "C1", "lines": []},]}',
    "nan": '{"claims": [{"claim_id": "C1", "units": NaN, "lines": []}]}',
    "huge-int": '{"claims": [{"claim_id": "C1", "units": 1' + "0" * 40 + ', "lines": []}]}',
    "not-claims": "[1, 2, 3]",
}


@pytest.mark.parametrize("name", sorted(TAKEN))
def test_regular_edge_cases_take_the_fast_path(name: str) -> None:
    assert compare(TAKEN[name], first_row_id=3) == "fast"


@pytest.mark.parametrize("name", sorted(DECLINED))
def test_irregular_edge_cases_decline(name: str) -> None:
    assert compare(DECLINED[name]) != "fast"


def test_locations_and_reasons_read_like_the_python_reader() -> None:
    text = TAKEN["pointer-past-diagnoses"][:-2] + ", " + json.dumps(claim(claim_id="C-9", lines=[])) + "]}"
    fast = fast_raw(text, "x.json", 10)
    assert fast is not None
    # A pointer past the diagnoses is a problem with one value (value_error): the line's code is still read.
    assert fast.select("row_id", "source_row", "source_location", "load_error", "value_error").rows() == [
        (10, 1, "claim 1 (C-100), line 1", None, "diagnosis pointer 2 points past the claim's 1 diagnoses"),
        (11, 2, "claim 1 (C-100), line 2", None, "diagnosis pointer 0 must be 1 or more (pointers count from 1)"),
        (12, 3, "claim 1 (C-100), line 3", None, None),
        (13, 4, "claim 2 (C-2), line 1", None, "diagnosis pointer 1 points past the claim's 0 diagnoses"),
        (14, 5, "claim 3 (C-9)", "claim has no lines", None),
    ]


def test_wrong_cuts_are_merged_away(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lines that open like claims make some cuts land inside a claim: those chunks are re-read whole."""
    monkeypatch.setattr(json_loader, "PARSE_BYTES", 150)
    monkeypatch.setattr(json_loader, "GROUP_BYTES", 100_000)
    claims = [claim(claim_id=f"D{i}", lines=[LINE, LINE]) for i in range(200)]
    for i in (20, 90, 91, 150):
        claims[i]["lines"] = [{"claim_id": f"D{i}", **LINE}] * 3
    text = json.dumps({"claims": claims})
    assert len(json_loader._element_spans(text.encode(), 12, len(text) - 2)) > 100
    assert compare(text) == "fast"


def test_many_wrong_cuts_decline_rather_than_parse_everything_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json_loader, "PARSE_BYTES", 150)
    claims = [claim(claim_id=f"C{i}", lines=[{"claim_id": f"C{i}", **LINE}] * 3) for i in range(100)]
    assert compare(json.dumps({"claims": claims})) == "declined"


# --------------------------------------------------------------------------------------------------
# The fast path is what load_json and the CLI's loader really use.


def big_document(n_claims: int = 400) -> str:
    rnd = random.Random(5)
    claims = [
        claim(
            claim_id=f"B{i}",
            diagnoses=rnd.sample(DIAGNOSES, 2),
            lines=[
                {
                    **LINE,
                    "line_number": n,
                    "modifiers": rnd.sample(MODIFIERS, rnd.randint(0, 2)),
                    "diagnosis_pointers": [1],
                }
                for n in range(1, 5)
            ],
        )
        for i in range(n_claims)
    ]
    text = json.dumps({"claims": claims})
    assert len(text) >= json_loader.FAST_MIN_CHARS
    return text


def test_load_json_uses_the_fast_reader_for_a_large_regular_file(monkeypatch: pytest.MonkeyPatch) -> None:
    text = big_document()
    expected = slow_raw(text, "big.json", 0)

    def no_python_reader(*args: object) -> pl.DataFrame:
        raise AssertionError("the Python reader ran")

    monkeypatch.setattr(json_loader, "claims_to_raw", no_python_reader)
    frame, counted = json_loader.load_json(Path("big.json"), text, 0)
    assert frame.equals(expected)
    assert counted == expected.height  # the count taken from the parsed claims agrees with the rows


def test_load_inputs_reads_the_same_rows_either_way(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.json"
    path.write_text(big_document(), encoding="utf-8")
    fast = load_inputs([str(path)]).collect()
    monkeypatch.setattr(json_loader, "FAST_MIN_CHARS", 1 << 62)
    slow = load_inputs([str(path)]).collect()
    assert fast.height == 1600 and fast.equals(slow)


@pytest.mark.parametrize(
    ("prefix", "newline", "name"),
    [("", "\r\n", "B"), ("", "\r", "B"), ("\ufeff", "\r\n", "B"), ("", "\n", "Bé")],
    ids=["ascii-crlf", "ascii-lone-cr", "byte-order-mark", "not-ascii"],
)
def test_load_inputs_reads_a_file_as_its_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefix: str,
                                              newline: str, name: str) -> None:
    """An ASCII file reaches the fast reader as its bytes (not decoded to be encoded again), with its
    line ends made newlines as reading it as text does; any other file as text. Either way the rows
    are those of the Python reader reading the file's text."""
    text = json.dumps(json.loads(big_document()), indent=1).replace('"B', f'"{name}')
    path = tmp_path / "big.json"
    path.write_bytes((prefix + text.replace("\n", newline)).encode("utf-8"))
    expected = slow_raw(text, "big.json", 0)
    monkeypatch.setattr(json_loader, "claims_to_raw", lambda *a: pytest.fail("the Python reader ran"))
    assert load_inputs([str(path)]).collect().drop("source").equals(expected.drop("source"))


def test_a_file_python_rejects_still_fails_with_its_message(tmp_path: Path) -> None:
    text = big_document()[:-2] + ",]}"
    with pytest.raises(InputError, match="invalid JSON"):
        json_loader.load_json(tmp_path / "bad.json", text, 0)


@pytest.mark.parametrize(
    ("old", "new", "what"),
    [
        ('"units": 1,', '"units": 1, "units": 2,', "line object gives units"),
        ('"units": 1,', '"units": 1, "units": null,', "line object gives units"),  # Polars keeps 1, Python null
        ('"units": 1,', '"units": null, "units": null,', "line object gives units"),
        ('"payer": "AETNA",', '"payer": "AETNA", "payer": "CIGNA",', "claim object gives payer"),
        ('"diagnosis_pointers": [1]', '"diagnosis_pointers": [1], "diagnosis_pointers": null',
         "gives diagnosis_pointers"),
    ],
    ids=["scalar", "value-then-null", "null-twice", "claim-level", "list"],
)
def test_duplicate_keys_reject_the_object_at_any_size(old: str, new: str, what: str) -> None:
    """Issue 12: Polars keeps the first of two keys, Python the last, so large and small files gave
    different claims. A known key given twice now declines the fast reader (its count of keys in the
    text differs from the keys it read), and the Python reader rejects the object."""
    text = big_document()
    assert len(text) >= json_loader.FAST_MIN_CHARS and fast_raw(text, "big.json", 0) is not None
    dup = text.replace(old, new, 1)
    assert dup != text
    assert fast_raw(dup, "big.json", 0) is None
    frame, counted = json_loader.load_json(Path("big.json"), dup, 0)
    assert counted == frame.height
    reasons = frame.select(pl.concat_str("load_error", "value_error", ignore_nulls=True)).to_series()
    reasons = reasons.filter(reasons != "")
    assert reasons.len() in (1, 4) and all(what in r for r in reasons)
    small = slow_raw(dup, "big.json", 0)
    assert small.equals(frame)


def test_unknown_keys_given_twice_are_ignored_like_unknown_keys() -> None:
    text = big_document().replace('"units": 1,', '"units": 1, "note": "a", "note": "b",', 1)
    assert fast_raw(text, "big.json", 0) is not None
    assert slow_raw(text, "big.json", 0).get_column("value_error").null_count() == 1600


@pytest.mark.parametrize(("entry", "kind"), [(["D80.0"], "a list"), ({"code": "D80.0"}, "an object")])
@pytest.mark.parametrize("whose", ["claim", "line"])
def test_a_diagnosis_given_as_a_list_or_object_rejects_its_line(entry: Any, kind: str, whose: str) -> None:
    """Read as text, ``[["D80.0"]]`` was Python's spelling "['D80.0']", reported as a malformed diagnosis
    the claim never held (probe N); the line is rejected with the reason, as a nested modifier is."""
    line = {**LINE, "diagnoses": [entry]} if whose == "line" else LINE
    text = doc(claim(lines=[line, {**LINE, "line_number": 2, "diagnoses": ["D80.0"]}],
                     **({"diagnoses": [entry]} if whose == "claim" else {})))
    assert compare(text) in ("fast", "declined")
    raw = slow_raw(text, "in.json", 0)
    reasons = raw.get_column("value_error").to_list()
    assert reasons[0] == f"{whose} diagnoses must list codes as text, not {kind}"
    # near miss: the other line, whose own diagnoses are text, takes nothing from the bad entry
    assert reasons[1] is None
    assert raw.get_column("diagnoses").to_list()[1] == ["D80.0"]


def test_a_json_lines_line_holding_a_claims_document_says_so() -> None:
    """Not "claim has no lines": the line holds a whole claims file's document (probe N)."""
    text = (json.dumps(claim(lines=[LINE])) + "\n"
            + json.dumps({"claims": [claim(claim_id="C2", lines=[LINE, {**LINE, "line_number": 2}])]}) + "\n")
    assert compare(text) != "fast"
    raw = slow_raw(text, "in.jsonl", 0)
    assert raw.get_column("load_error").to_list() == [
        None, 'a {"claims": [...]} document of 1 claim(s) where one claim object belongs (JSON Lines holds one '
        "claim per line): its claims were not read"]
    # near miss: a claim object without lines is still "claim has no lines"
    none = json.dumps(claim(claim_id="C3", lines=[])) + "\n" + json.dumps(claim(lines=[LINE])) + "\n"
    assert slow_raw(none, "in.jsonl", 0).get_column("load_error").to_list() == ["claim has no lines", None]


@pytest.mark.parametrize("indent", [None, 1])
def test_text_after_a_claims_document_is_named_as_such(tmp_path: Path, indent: int | None) -> None:
    """A claims document with a stray brace after it was read as one broken JSON Lines line and refused
    as "no object has claim_id or lines" (probe W); it says what is wrong. Near miss: JSON Lines of
    claim objects still reads line by line."""
    doc = {"claims": [{"claim_id": "T1", "member_id": "M1", "payer": "MEDICARE", "date_of_service": "2026-03-02",
                       "lines": [{"line_number": 1, "procedure_code": "96365", "units": 1}]}]}
    path = tmp_path / "claims.json"
    path.write_text(json.dumps(doc, indent=indent) + "}\n", encoding="utf-8")
    with pytest.raises(InputError, match="text after the end of the claims document"):
        json_loader.parse_claims(path.read_text(encoding="utf-8"), str(path))
    lines = "\n".join(json.dumps(c) for c in doc["claims"] * 2)
    assert len(json_loader.parse_claims(lines, "claims.jsonl")) == 2


def test_misspelled_fields_are_noted_as_the_csv_columns_are(tmp_path, monkeypatch) -> None:
    """A JSON claim's 'modifer_1' or 'drug_dose' was dropped without a word (the CSV says 'did you mean')
    and its JZ read as absent (probe 15B). Noted for JSON and JSON Lines; for a large document, from the
    claims of its first bytes."""
    from scrubber.engine import scrub

    line = {"line_number": 1, "procedure_code": "J1459", "modifer_1": "JZ", "units": 70, "charge": 7000,
            "drug_dose": 35000}
    claim = {"claim_id": "K1", "member_id": "M1", "payer": "MEDICARE", "place_of_service": "11",
             "date_of_service": "2026-03-02", "diagnoses": ["D80.0"], "lines": [line]}
    expected = ["field 'drug_dose' is not a claims field and is ignored; did you mean 'drug_dose_mg'?",
                "field 'modifer_1' is not a claims field and is ignored; did you mean 'modifier_1'?"]
    for name, text in (("c.json", json.dumps({"claims": [claim]})), ("c.jsonl", json.dumps(claim) + "\n")):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        assert [w["problem"] for w in scrub([str(path)]).input_warnings] == expected, name
    # A large document: the keys of the claims in its first bytes.
    monkeypatch.setattr(json_loader, "KEY_SAMPLE_BYTES", 600)
    good = {**claim, "lines": [{"line_number": 1, "procedure_code": "J1459", "modifiers": ["JZ"], "units": 70}]}
    many = [claim, *[{**good, "claim_id": f"K{i}"} for i in range(2, 40)]]
    assert json_loader.key_notices(json.dumps({"claims": many})) == expected
    assert json_loader.key_notices(json.dumps([good] * 40)) == []  # near miss: the fields as FORMATS names them
