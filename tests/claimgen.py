"""Generators of valid claim lines in the canonical CSV format (FORMATS.md), for tests and benchmarks.

Two generators, one format:

* Hypothesis strategies (:func:`claims`, :func:`csv_documents`) for property tests. Every line they
  produce is *valid*: it must load with zero rejected rows, whatever the layout variation (column
  order, BOM, CRLF, quoting, spellings the loader normalises). Each generated line also carries the
  canonical values it must load as, so a test can check the round trip, not only the absence of
  rejections. Other tests reuse them: ``from claimgen import claims, render_csv``.
* :func:`write_large_csv`, a vectorised (numpy + Polars) writer of millions of realistic lines for
  memory and speed runs (``benchmarks/large_input.py``); Hypothesis is far too slow for that.

Claim ids carry a caller-chosen prefix so that several generated files can be loaded in one batch
without their claims colliding (the same claim id in two files is one claim to the scrubber).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

# Column order of FORMATS.md. Required columns first, as a spreadsheet export usually has them.
REQUIRED = ("claim_id", "line_number", "member_id", "payer", "date_of_service", "procedure_code", "units")
OPTIONAL = (
    "claim_type",
    "place_of_service",
    "modifier_1",
    "modifier_2",
    "modifier_3",
    "modifier_4",
    "charge",
    "diagnosis_1",
    "diagnosis_2",
    "diagnosis_3",
    "diagnosis_4",
    "ndc",
    "drug_dose_mg",
    "drug_wasted_mg",
    "route",
    "infusion_start",
    "infusion_stop",
    "observation_minutes",
    "sites",
)
CSV_COLUMNS: tuple[str, ...] = REQUIRED + OPTIONAL

PAYERS = ("MEDICARE", "AETNA", "CIGNA", "UHC", "BCBS-TX", "Humana")
ADMIN_CODES = ("96360", "96361", "96365", "96366", "96367", "96368", "96369", "96370", "96371", "96372", "96374",
               "96375", "96413", "96415")
DRUG_CODES = ("J1459", "J1554", "J1556", "J1557", "J1569", "J1561", "J1575", "J1559", "J7030", "J3490")
MODIFIERS = ("JW", "JZ", "KX", "59", "XE", "XS", "XU", "25", "GA", "GZ")
DIAGNOSES = ("D80.0", "D80.2", "D81.9", "D83.9", "G61.81", "G70.00", "M33.20", "E86.0", "C91.10", "Z51.11",
             "G35", "D69.3")
POS = ("11", "12", "19", "22", "2")
ROUTES = {"IV": ("IV", "iv", "Intravenous"), "SC": ("SC", "subq", "SQ"), "IM": ("IM", "intramuscular"),
          "PUSH": ("PUSH", "IV push", "ivp")}

# Unicode letters beyond ASCII, so the UTF-8 path is exercised (member names, ids from other systems).
_ID_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-_/éÖñ漢"


@dataclass
class Line:
    """One generated claim line: the CSV cells as text, and the canonical values they must load as."""

    cells: dict[str, str]
    expected: dict[str, Any] = field(default_factory=dict)


def _number_text(rnd: random.Random, value: float, money: bool = False) -> str:
    """One spelling of a non-negative number that canonicalisation accepts."""
    options = [f"{value:.2f}" if money else repr(value)]
    if money:
        options += [f"${value:.2f}", f"${value:,.2f}", f"{value:,.2f}"]
    if float(value).is_integer():
        options.append(str(int(value)))
    return rnd.choice(options)


def _id(rnd: random.Random, size: int) -> str:
    return "".join(rnd.choice(_ID_ALPHABET) for _ in range(size))


def generate_line(rnd: random.Random, claim: dict[str, str], line_number: int, claim_dx: list[str]) -> Line:
    """One valid line of ``claim``; every optional value is sometimes absent, every spelling varies."""
    procedure = rnd.choice(ADMIN_CODES + DRUG_CODES)
    units = rnd.choice((0.5, 1.0, 2.0, 3.0, 4.0, 10.0, 20.0, 70.0, 100.0))
    charge = None if rnd.random() < 0.2 else round(rnd.uniform(0, 99_999), 2)
    mods = [rnd.choice(MODIFIERS) for _ in range(rnd.randint(0, 4))]
    dx = [rnd.choice(DIAGNOSES) for _ in range(rnd.randint(0, 4))] or claim_dx
    day = dt.date.fromisoformat(claim["date_of_service"])
    is_drug = procedure.startswith("J")
    dose = round(rnd.uniform(0, 60_000), 1) if is_drug and rnd.random() < 0.7 else None
    waste = round(rnd.uniform(0, 500), 1) if is_drug and rnd.random() < 0.5 else None
    ndc = "".join(rnd.choice("0123456789") for _ in range(11)) if is_drug and rnd.random() < 0.7 else None
    route = rnd.choice((None, *ROUTES))
    obs = rnd.randint(0, 240) if rnd.random() < 0.3 else None
    sites = rnd.randint(1, 8) if rnd.random() < 0.2 else None
    cells: dict[str, str] = {
        **{k: claim[k] for k in ("claim_id", "member_id", "payer", "claim_type", "place_of_service")},
        "line_number": rnd.choice((str(line_number), f"{line_number}.0", f" {line_number} ", f"0{line_number}")),
        "date_of_service": claim["date_of_service"],
        "procedure_code": rnd.choice((procedure, procedure.lower())),
        "units": _number_text(rnd, units),
        "charge": "" if charge is None else _number_text(rnd, charge, money=True),
        "ndc": "" if ndc is None else rnd.choice((ndc, f"{ndc[:5]}-{ndc[5:9]}-{ndc[9:]}")),
        "drug_dose_mg": "" if dose is None else _number_text(rnd, dose),
        "drug_wasted_mg": "" if waste is None else _number_text(rnd, waste),
        "route": "" if route is None else rnd.choice(ROUTES[route]),
        "observation_minutes": "" if obs is None else str(obs),
        "sites": "" if sites is None else str(sites),
        "infusion_start": "",
        "infusion_stop": "",
    }
    for i in range(4):
        cells[f"modifier_{i + 1}"] = rnd.choice((mods[i], mods[i].lower())) if i < len(mods) else ""
        cells[f"diagnosis_{i + 1}"] = rnd.choice((dx[i], dx[i].replace(".", ""), dx[i].lower())) if i < len(dx) else ""
    start_dt = stop_dt = None
    if rnd.random() < 0.5:
        start_dt = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=rnd.randint(6 * 60, 20 * 60))
        stop_dt = start_dt + dt.timedelta(minutes=rnd.randint(0, 8 * 60))
        sep = rnd.choice(("T", " "))
        cells["infusion_start"] = start_dt.strftime(f"%Y-%m-%d{sep}%H:%M")
        cells["infusion_stop"] = stop_dt.strftime(f"%Y-%m-%d{sep}%H:%M:%S")
    expected = {
        "claim_id": claim["claim_id"],
        "line_number": line_number,
        "member_id": claim["member_id"],
        "payer": claim["payer"],
        "claim_type": claim["claim_type"].lower() or "professional",
        "date_of_service": day,
        "procedure_code": procedure,
        "units": units,
        "charge": charge,
        "modifiers": mods,
        "diagnoses": [d.replace(".", "").upper() for d in dx],
        "ndc": ndc,
        "route": route,
        "infusion_start": start_dt,
        "infusion_stop": stop_dt,
        "observation_minutes": obs,
        "sites": sites,
    }
    return Line(cells=cells, expected=expected)


def generate_claims(rnd: random.Random, prefix: str = "C", n_claims: int = 3, max_lines: int = 6) -> list[Line]:
    """Lines of ``n_claims`` valid claims, claim-level fields agreeing on every line of a claim.

    Claim ids start with ``prefix`` and are unique within the result; line numbers are unique
    within a claim and come in shuffled order, as exports sometimes do.
    """
    out: list[Line] = []
    for ci in range(n_claims):
        claim = {
            "claim_id": f"{prefix}{ci}{_id(rnd, rnd.randint(0, 6))}",
            "member_id": _id(rnd, rnd.randint(1, 12)),
            "payer": rnd.choice(PAYERS),
            "claim_type": rnd.choice(("", "professional", "Professional", "institutional")),
            "place_of_service": rnd.choice((*POS, "")),
            "date_of_service": (dt.date(2020, 1, 1) + dt.timedelta(days=rnd.randint(0, 8 * 365))).isoformat(),
        }
        claim_dx = [rnd.choice(DIAGNOSES) for _ in range(rnd.randint(0, 3))]
        numbers = list(range(1, rnd.randint(1, max_lines) + 1))
        rnd.shuffle(numbers)
        out.extend(generate_line(rnd, claim, number, claim_dx) for number in numbers)
    return out


def claims(prefix: str = "C", max_claims: int = 6, max_lines: int = 6) -> st.SearchStrategy[list[Line]]:
    """Hypothesis strategy: lines of 1..``max_claims`` valid claims (see :func:`generate_claims`).

    Hypothesis draws a seed and a claim count, and a seeded generator builds the lines: drawing
    every cell through Hypothesis costs ~6 ms a line, which would make 10,000 cases a
    ten-minute run. Failures still reproduce (the seed is printed) and shrink towards fewer claims.
    """
    return st.builds(
        lambda seed, n: generate_claims(random.Random(seed), prefix, n, max_lines),
        st.integers(0, 2**32 - 1),
        st.integers(1, max_claims),
    )


@dataclass
class CsvLayout:
    """How a valid file is laid out; every variation here must load identically."""

    columns: list[str]
    extra_columns: list[str]
    bom: bool = False
    crlf: bool = False
    quote_all: bool = False
    trailing_blank_lines: int = 0
    header_spelling: dict[str, str] = field(default_factory=dict)


def generate_layout(rnd: random.Random) -> CsvLayout:
    """Column order, optional columns present, extra unknown columns, BOM, CRLF, quoting, blank tail."""
    optional = [c for c in OPTIONAL if rnd.random() < 0.6]
    columns = [*REQUIRED, *optional]
    rnd.shuffle(columns)
    extras = [c for c in ("notes", "rendering_npi", "Batch Id", "x") if rnd.random() < 0.25]
    return CsvLayout(
        columns=columns,
        extra_columns=extras,
        bom=rnd.random() < 0.5,
        crlf=rnd.random() < 0.5,
        quote_all=rnd.random() < 0.3,
        trailing_blank_lines=rnd.choice((0, 0, 1, 3)),
        header_spelling={c: rnd.choice((c, c.upper(), c.replace("_", " ").title())) for c in columns},
    )


def csv_layouts() -> st.SearchStrategy[CsvLayout]:
    """Hypothesis strategy of :class:`CsvLayout` (seeded, like :func:`claims`)."""
    return st.builds(lambda seed: generate_layout(random.Random(seed)), st.integers(0, 2**32 - 1))


def table(lines: list[Line], columns: list[str] | tuple[str, ...] = CSV_COLUMNS) -> list[list[str]]:
    """The data rows of ``lines`` as lists of cells, in ``columns`` order (no header)."""
    return [[line.cells.get(c, "") for c in columns] for line in lines]


def write_rows(header: list[str], rows: list[list[str]], crlf: bool = False, quote_all: bool = False) -> str:
    """CSV text of a header and rows of any length (rows may be ragged on purpose).

    A cell holding a bare CR is always quoted: with "\n" line endings the csv module would leave
    it bare, and a bare CR is a line break to some readers and text to others (Polars does both),
    so the file would no longer say what the rows say.
    """
    buf = io.StringIO(newline="")
    terminator = "\r\n" if crlf else "\n"
    minimal = csv.writer(buf, lineterminator=terminator, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    every = csv.writer(buf, lineterminator=terminator, quoting=csv.QUOTE_ALL)
    minimal.writerow(header)
    for row in rows:
        (every if any("\r" in cell for cell in row) else minimal).writerow(row)
    return buf.getvalue()


def render_csv(lines: list[Line], layout: CsvLayout | None = None) -> bytes:
    """The CSV bytes of ``lines``; extra columns hold text with commas, quotes and newlines."""
    layout = layout or CsvLayout(columns=list(CSV_COLUMNS), extra_columns=[])
    header = [layout.header_spelling.get(c, c) for c in layout.columns] + layout.extra_columns
    newline = "\r\n" if layout.crlf else "\n"
    rows = [
        row + [f'free text, "quoted"{newline}second line {i}' for _ in layout.extra_columns]
        for i, row in enumerate(table(lines, layout.columns))
    ]
    text = write_rows(header, rows, crlf=layout.crlf, quote_all=layout.quote_all)
    text += newline * layout.trailing_blank_lines
    return ("\ufeff" if layout.bom else "").encode() + text.encode("utf-8")


def expected_visible(lines: list[Line], layout: CsvLayout) -> list[dict[str, Any]]:
    """The canonical values a layout can show: a column the file lacks loads as null (or its default)."""
    present = set(layout.columns)
    out = []
    for line in lines:
        exp = dict(line.expected)
        if "claim_type" not in present:
            exp["claim_type"] = "professional"
        if not present & {f"modifier_{i}" for i in range(1, 5)}:
            exp["modifiers"] = []
        else:
            exp["modifiers"] = [m for i, m in enumerate(line.expected["modifiers"]) if f"modifier_{i + 1}" in present]
        exp["diagnoses"] = [d for i, d in enumerate(line.expected["diagnoses"]) if f"diagnosis_{i + 1}" in present]
        for col in ("charge", "ndc", "route", "infusion_start", "infusion_stop", "observation_minutes", "sites"):
            if col not in present:
                exp[col] = None
        out.append(exp)
    return out


def csv_documents(prefix: str = "C", max_claims: int = 6) -> st.SearchStrategy[tuple[bytes, list[Line], CsvLayout]]:
    """Hypothesis strategy of a valid CSV file: its bytes, the lines in file order, and the layout."""
    return st.builds(lambda lines, layout: (render_csv(lines, layout), lines, layout),
                     claims(prefix=prefix, max_claims=max_claims), csv_layouts())


# --------------------------------------------------------------------------------------------------
# Large files, vectorised: millions of lines in seconds, for memory and speed measurements.


def write_large_csv(path: Path | str, n_lines: int, seed: int = 0, error_rate: float = 0.03) -> None:
    """Write ``n_lines`` valid, realistic claim lines (every column of FORMATS.md) to ``path``.

    Each claim is one infusion encounter of four lines (96365 initial hour, 96366 add-on hour,
    the IVIG drug billed in 500 mg units with JZ, and an IV push 96375) whose documentation
    supports what is billed, so a clean claim draws no finding. ``error_rate`` of the lines get a
    realistic billing error (units off, modifier dropped, primary missing) so checks have work to
    do and the findings frame has a production-like size. Built column by column with numpy and
    written by Polars in 1M-line chunks, so the generator's own memory stays flat.
    """
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    chunk = 1_000_000
    per_claim = 4
    proc_t = np.array(["96365", "96366", "J1459", "96375"])
    with open(path, "wb") as fh:
        for start in range(0, n_lines, chunk):
            n = min(chunk, n_lines - start)
            idx = np.arange(start, start + n)
            claim_no = idx // per_claim
            pos_in_claim = idx % per_claim
            dose_units = 20 + (claim_no * 7) % 60  # the drug line's units; dose is units x 500 mg
            minutes = 91 + (claim_no * 11) % 60  # 91..150 infusing minutes: one 96366 unit
            err = rng.random(n) < error_rate
            proc = proc_t[pos_in_claim]
            # Errors: the initial 96365 billed as an add-on (no primary), drug units doubled, JZ dropped.
            proc = np.where(err & (pos_in_claim == 0), "96366", proc)
            units = np.where(pos_in_claim == 2, dose_units, 1) * np.where(err & (pos_in_claim == 2), 2, 1)
            modifier = np.where((pos_in_claim == 2) & ~(err & (claim_no % 2 == 0)), "JZ", "")
            frame = pl.DataFrame(
                {
                    "claim_no": claim_no,
                    "line_number": pos_in_claim + 1,
                    "pos_in_claim": pos_in_claim,
                    "procedure_code": proc,
                    "modifier_1": modifier,
                    "units": units.astype(float),
                    "charge": np.round(rng.uniform(40, 9000, n), 2),
                    "dose": (dose_units * 500).astype(float),
                    "minutes": minutes,
                    "day_offset": (claim_no * 31) % 730,
                }
            )
            day = pl.lit(dt.date(2024, 1, 1)) + pl.duration(days=pl.col("day_offset"))
            start_at = day.cast(pl.Datetime("us")) + pl.duration(hours=9)
            drug = pl.col("pos_in_claim") == 2
            timed = pl.col("pos_in_claim") == 0
            frame = frame.select(
                pl.format("CLM{}", pl.col("claim_no").cast(pl.String).str.zfill(9)).alias("claim_id"),
                "line_number",
                pl.format("M{}", (pl.col("claim_no") * 7919 % 500_000)).alias("member_id"),
                pl.lit(np.array(PAYERS[:5])).gather(pl.col("claim_no") % 5).alias("payer"),
                pl.lit("professional").alias("claim_type"),
                pl.lit("11").alias("place_of_service"),
                day.dt.strftime("%Y-%m-%d").alias("date_of_service"),
                "procedure_code",
                "modifier_1",
                "units",
                "charge",
                pl.lit("D80.0").alias("diagnosis_1"),
                pl.when(drug).then(pl.lit("13533080020")).alias("ndc"),
                pl.when(drug).then(pl.col("dose")).alias("drug_dose_mg"),
                pl.when(drug).then(pl.lit(0.0)).alias("drug_wasted_mg"),
                pl.when(drug | timed).then(pl.lit("IV")).alias("route"),
                pl.when(timed).then(start_at.dt.strftime("%Y-%m-%dT%H:%M")).alias("infusion_start"),
                pl.when(timed).then((start_at + pl.duration(minutes=pl.col("minutes"))).dt.strftime("%Y-%m-%dT%H:%M"))
                .alias("infusion_stop"),
                pl.when(timed).then(pl.lit(30)).alias("observation_minutes"),
                pl.lit(None, pl.Int64).alias("sites"),
            )
            frame.write_csv(fh, include_header=start == 0)
