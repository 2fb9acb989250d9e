"""Seeded generator of realistic synthetic infusion/injection claim batches (benchmarks only).

Writes the claim-line CSV of ``FORMATS.md`` (or, with ``--format json``, the nested claims JSON:
``{"claims": [{claim fields, "diagnoses": [...], "lines": [{..., "modifiers": [...],
"diagnosis_pointers": [1]}]}]}``).

Encounter templates (one claim each, one member on one date; a member's claims are 21 days apart
so no two claims of a member share a date unless an error says so):

* ``ivig_office``: 96365 (+ 96366 x N) [+ 96375 + J1200 premedication push] + an IVIG J-code with
  the dose in mg and units = ceil(dose / 500), JZ when nothing was discarded, else a JW line.
  POS 11 (office, professional) or 19/22 (outpatient hospital, mostly institutional).
* ``home_ig``: POS 12, drug line only (IVIG or SCIG), JZ (or JW line) and KX for Medicare.
* ``scig_office``: 96369 + 96370 x N [+ 96371 x1] + an SCIG J-code in 100 mg units.
* ``hydration``: 96360 (+ 96361 x N).
* ``chemo``: 96413 (+ 96415 x N) + 96375 + J9355 (trastuzumab) + J2405 (ondansetron).

Infusion start/stop sit on the initial administration line and always support the billed add-on
units (add-on units = max(0, floor((T - 31) / 60)), RULES.md); some initial lines document
observation minutes that do not change that.

A share of claims (``--error-share``, default 0.10) carries exactly one seeded error, spread evenly
over the eight check ids of FORMATS.md (the ``_seeded_error`` column is not written; use
``--truth PATH`` to get claim_id -> seeded check id as CSV).

Everything is vectorised (numpy + Polars, a Python loop per template slot only), so 2M lines take
a few seconds. Same ``--seed`` and options give byte-identical output.

    python benchmarks/generate.py --lines 2000000 --out /tmp/bench_2m.csv
    python benchmarks/generate.py --lines 2000000 --format json --out /tmp/bench_2m.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

CSV_COLUMNS = [
    "claim_id", "line_number", "member_id", "payer", "claim_type", "place_of_service", "date_of_service",
    "procedure_code", "modifier_1", "modifier_2", "modifier_3", "modifier_4", "units", "charge",
    "diagnosis_1", "diagnosis_2", "diagnosis_3", "diagnosis_4", "ndc", "drug_dose_mg", "drug_wasted_mg", "route",
    "infusion_start", "infusion_stop", "observation_minutes", "sites",
]
CLAIM_FIELDS = ["claim_id", "member_id", "payer", "claim_type", "place_of_service", "date_of_service"]
LINE_FIELDS = [
    "line_number", "procedure_code", "units", "charge", "ndc", "drug_dose_mg", "drug_wasted_mg", "route",
    "infusion_start", "infusion_stop", "observation_minutes", "sites",
]

CHECK_IDS = [
    "addon-without-primary",
    "duplicate-initial-infusion",
    "route-mismatch",
    "unit-miscalculation",
    "missing-modifier",
    "over-cap-96371",
    "observation-counted-as-infusion",
    "noncovered-diagnosis",
]
# Templates an error of each check may be seeded into.
ERROR_TEMPLATES = {
    "addon-without-primary": ["ivig_office", "hydration"],
    "duplicate-initial-infusion": ["ivig_office"],
    "route-mismatch": ["ivig_office"],
    "unit-miscalculation": ["ivig_office", "scig_office", "hydration", "chemo"],
    "missing-modifier": ["ivig_office", "scig_office", "home_ig"],
    "over-cap-96371": ["scig_office"],
    "observation-counted-as-infusion": ["ivig_office", "hydration"],
    "noncovered-diagnosis": ["ivig_office", "home_ig"],
}
TEMPLATE_WEIGHTS = {"ivig_office": 0.40, "home_ig": 0.14, "scig_office": 0.12, "hydration": 0.14, "chemo": 0.20}
# Mean lines per claim of each template (measured on clean claims); used to size the batch.
_LINES_PER_CLAIM = {"ivig_office": 3.6, "home_ig": 1.15, "scig_office": 3.4, "hydration": 1.75, "chemo": 5.0}

PAYERS = ["MEDICARE", "AETNA", "UHC", "BCBS", "CIGNA", "HUMANA", "MEDICARE PART B"]
PAYER_P = [0.40, 0.14, 0.14, 0.14, 0.08, 0.05, 0.05]
HOME_PAYERS = ["MEDICARE", "MEDICARE DME", "AETNA", "UHC", "BCBS"]
HOME_PAYER_P = [0.55, 0.15, 0.10, 0.10, 0.10]

# Products: code -> (billing unit mg, vial sizes mg, NDC). NDCs are synthetic 11-digit values.
IVIG = {
    "J1459": (500, (5000, 10000, 20000), "44206043890"),
    "J1568": (500, (5000, 10000), "68982081004"),
    "J1569": (500, (5000, 10000, 20000), "00944270004"),
    "J1557": (500, (5000, 10000), "64193024505"),
    "J1561": (500, (5000, 10000), "13533080012"),
    "J1576": (500, (5000, 10000), "00069040502"),
}
IVIG_P = [0.30, 0.20, 0.20, 0.10, 0.12, 0.08]
SCIG = {
    "J1559": (100, (1000, 2000, 4000, 10000), "44206045190"),
    "J1555": (100, (1000, 2000, 4000, 8000), "00944285002"),
    "J1558": (100, (1000, 2000, 4000), "13533080520"),
    "J1575": (100, (2500, 5000, 10000), "00944259102"),
}
SCIG_P = [0.40, 0.30, 0.15, 0.15]
SC_ONLY_FOR_ROUTE_ERROR = {k: SCIG[k] for k in ("J1559", "J1555")}

DX_IVIG_OFFICE = ["D80.0", "D83.9", "D80.3", "G61.81", "D69.3", "G70.00", "G61.0", "M33.10", "D81.9", "L12.0"]
DX_IVIG_OFFICE_P = [0.14, 0.18, 0.06, 0.18, 0.12, 0.10, 0.08, 0.05, 0.04, 0.05]
DX_HOME_IVIG = ["D80.0", "D83.9", "D80.3", "D81.9", "D83.0", "D82.0"]
DX_HOME_SCIG = ["D80.0", "D83.9", "D80.3", "G61.81", "D83.8"]
DX_HYDRATION = ["E86.0", "R11.2", "A08.4", "E87.1"]
DX_CHEMO = ["C50.911", "C34.90", "C18.9", "C61"]
DX_SECONDARY = ["I10", "E11.9", "Z79.899", "J44.9"]

PRICE = {
    "96360": 160.0, "96361": 45.0, "96365": 190.0, "96366": 52.0, "96369": 210.0, "96370": 48.0, "96371": 60.0,
    "96375": 35.0, "96413": 280.0, "96415": 60.0, "J1200": 4.0, "J9355": 95.0, "J2405": 1.5,
    **dict.fromkeys(IVIG, 88.0), **dict.fromkeys(SCIG, 21.0),
}
FIRST_DOS = dt.date(2025, 7, 1)
G35_INVALID_FROM = dt.date(2025, 10, 1)


def _pick(rng: np.random.Generator, values: list[str], n: int, p: list[float] | None = None) -> np.ndarray:
    return np.asarray(values, dtype=object)[rng.choice(len(values), size=n, p=p)]


def _times(rng: np.random.Generator, addon_units: np.ndarray) -> np.ndarray:
    """Infusing minutes T that support exactly ``addon_units``: T in [31 + 60N, 90 + 60N]."""
    return 31 + 60 * addon_units + rng.integers(0, 60, size=addon_units.shape[0])


class Products:
    """A product table as arrays, so choosing products and their attributes needs no per-claim loop."""

    def __init__(self, table: dict[str, tuple[int, tuple[int, ...], str]]) -> None:
        self.codes = np.asarray(list(table), dtype=object)
        self.unit = np.array([v[0] for v in table.values()], dtype=np.int64)
        width = max(len(v[1]) for v in table.values())
        self.vials = np.array([list(v[1]) + [v[1][-1]] * (width - len(v[1])) for v in table.values()],
                              dtype=np.int64)
        self.n_vials = np.array([len(v[1]) for v in table.values()], dtype=np.int64)
        self.ndc = np.asarray([v[2] for v in table.values()], dtype=object)

    def pick(self, rng: np.random.Generator, n: int, p: list[float] | None = None) -> np.ndarray:
        return rng.choice(len(self.codes), size=n, p=p)


def _dose_and_waste(rng: np.random.Generator, products: Products, which: np.ndarray, dose_mg: np.ndarray,
                    zero_waste_share: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dose rounded to the billing unit, waste from the vial size (a multiple of the unit, or 0)."""
    n = len(which)
    unit = products.unit[which]
    vial = products.vials[which, rng.integers(0, 1 << 30, size=n) % products.n_vials[which]]
    dose = np.maximum(unit, (np.round(dose_mg / unit) * unit).astype(np.int64))
    # Many clinics round the order to whole vials: nothing discarded.
    round_to_vial = rng.random(n) < zero_waste_share
    dose = np.where(round_to_vial, np.maximum(vial, np.round(dose / vial).astype(np.int64) * vial), dose)
    waste = (-(-dose // vial)) * vial - dose
    return unit, dose, waste


class Batch:
    """Collects line frames (one per template slot) and the claim frame of each template."""

    def __init__(self) -> None:
        self.lines: list[pl.DataFrame] = []
        self.claims: list[pl.DataFrame] = []

    def line(self, c: pl.DataFrame, slot: int, present: pl.Expr | bool, code: pl.Expr | str,
             units: pl.Expr | int, mods: tuple = (), **fields: pl.Expr) -> None:
        code_e = pl.lit(code) if isinstance(code, str) else code
        units_e = pl.lit(units, pl.Int64) if isinstance(units, int) else units
        mod_exprs = [pl.lit(m) if isinstance(m, str) else m for m in mods]
        mod_exprs += [pl.lit(None, pl.String)] * (4 - len(mod_exprs))
        frame = c.select(
            pl.col("_claim"),
            pl.lit(slot, pl.Int8).alias("_slot"),
            (pl.lit(present) if isinstance(present, bool) else present).alias("_present"),
            code_e.cast(pl.String).alias("procedure_code"),
            *[m.cast(pl.String).alias(f"modifier_{i + 1}") for i, m in enumerate(mod_exprs)],
            units_e.cast(pl.Int64).alias("units"),
            *[e.alias(k) for k, e in fields.items()],
        )
        self.lines.append(frame.filter(pl.col("_present")).drop("_present"))


def _series(name: str, values: np.ndarray) -> pl.Series:
    """numpy array to Series; object arrays (text, possibly None) become String with nulls."""
    if values.dtype == object:
        return pl.Series(name, values.tolist(), dtype=pl.String)
    return pl.Series(name, values)


def _claims_frame(idx: np.ndarray, members: np.ndarray, dos: np.ndarray, payer: np.ndarray, pos: np.ndarray,
                  claim_type: np.ndarray, dx1: np.ndarray, dx2: np.ndarray, err: np.ndarray, **extra) -> pl.DataFrame:
    columns = {
        "_claim": idx, "_member": members, "date_of_service": dos, "payer": payer, "place_of_service": pos,
        "claim_type": claim_type, "dx1": dx1, "dx2": dx2, "_seeded_error": err, **extra,
    }
    return pl.DataFrame([_series(k, np.asarray(v)) for k, v in columns.items()]).with_columns(
        pl.col("date_of_service").cast(pl.Date), pl.col("dx2").cast(pl.String),
        pl.col("_seeded_error").cast(pl.String))


def _start(col: str = "start_min") -> pl.Expr:
    return pl.col("date_of_service").cast(pl.Datetime("us")) + pl.duration(minutes=pl.col(col))


def _stop(minutes: str = "T") -> pl.Expr:
    return _start() + pl.duration(minutes=pl.col(minutes))


def _charge(code: pl.Expr | str, units: pl.Expr) -> pl.Expr:
    code_e = pl.lit(code) if isinstance(code, str) else code
    return (code_e.replace_strict(PRICE, default=50.0, return_dtype=pl.Float64) * units).round(2)


def _apply_dx_error(rng: np.random.Generator, dx1: np.ndarray, err: np.ndarray, dos: np.ndarray,
                    home_iv: np.ndarray | None = None) -> np.ndarray:
    """noncovered-diagnosis: a category (D80), G35 (not billable from 2025-10-01) or a billable
    but non-covered code (E86.0 for immune globulin; G61.81 for home IVIG)."""
    hit = err == "noncovered-diagnosis"
    variant = rng.integers(0, 3, size=len(dx1))
    late = dos >= np.datetime64(G35_INVALID_FROM)
    bad = np.where(variant == 0, "D80", np.where((variant == 1) & late, "G35", "E86.0"))
    if home_iv is not None:
        bad = np.where(home_iv & (variant == 2), "G61.81", bad)
    return np.where(hit, bad, dx1).astype(object)


# ---------------------------------------------------------------------------------------- templates


def ivig_office(b: Batch, rng: np.random.Generator, base: dict) -> None:
    n = len(base["idx"])
    err = base["err"]
    pos = _pick(rng, ["11", "19", "22"], n, [0.55, 0.25, 0.20])
    institutional = (pos != "11") & (rng.random(n) < 0.7)
    claim_type = np.where(institutional, "institutional", "professional")
    payer = _pick(rng, PAYERS, n, PAYER_P)
    payer = np.where(err == "missing-modifier", "MEDICARE", payer)  # JZ is a Medicare requirement
    ivig, sc_only = Products(IVIG), Products(SC_ONLY_FOR_ROUTE_ERROR)
    which = ivig.pick(rng, n, IVIG_P)
    sc_which = sc_only.pick(rng, n)
    weight = rng.normal(75, 15, n).clip(35, 140)
    g_per_kg = rng.choice([0.4, 0.5, 1.0, 2.0], n, p=[0.45, 0.25, 0.2, 0.1])
    dose_target = np.minimum(weight * g_per_kg * 1000 / np.where(g_per_kg == 2.0, 2, 1), 90000)
    unit, dose, waste = _dose_and_waste(rng, ivig, which, dose_target, zero_waste_share=0.6)
    # Route error: an SC-only product given with IV administration codes (units in 100 mg).
    route_err = err == "route-mismatch"
    code = np.where(route_err, sc_only.codes[sc_which], ivig.codes[which])
    ndc = np.where(route_err, sc_only.ndc[sc_which], ivig.ndc[which])
    unit = np.where(route_err, sc_only.unit[sc_which], unit)
    waste = np.where(route_err | (err == "missing-modifier"), 0, waste)
    addon = np.clip(np.round(dose / 12000) + rng.integers(0, 2, n), 1, 5).astype(np.int64)
    t_min = _times(rng, addon)
    obs = np.where(rng.random(n) < 0.3, rng.choice([15, 30, 60], n), -1)
    # observation-counted-as-infusion: T supports addon - 1 units; T + observation reaches addon.
    obs_err = err == "observation-counted-as-infusion"
    short = 31 + 60 * (addon - 1) + rng.integers(0, 45, n)
    t_min = np.where(obs_err, short, t_min)
    obs = np.where(obs_err, (31 + 60 * addon) - short + rng.integers(0, 15, n), obs)
    # unit-miscalculation: drug units off (over or under) or one add-on hour too many.
    unit_err = err == "unit-miscalculation"
    unit_variant = rng.integers(0, 3, n)
    drug_delta = np.where(unit_err & (unit_variant == 0), rng.integers(1, 6, n),
                          np.where(unit_err & (unit_variant == 1), -rng.integers(1, 4, n), 0))
    addon_billed = addon + np.where(unit_err & (unit_variant == 2), 1, 0)
    obs = np.where(unit_err & (unit_variant == 2), -1, obs)
    drug_units = np.maximum(1, -(-dose // unit) + drug_delta)
    dx1 = _apply_dx_error(rng, _pick(rng, DX_IVIG_OFFICE, n, DX_IVIG_OFFICE_P), err, base["dos"])
    dx2 = np.where(rng.random(n) < 0.3, _pick(rng, DX_SECONDARY, n), None)
    c = _claims_frame(
        base["idx"], base["member"], base["dos"], payer, pos, claim_type, dx1, dx2, err,
        code=code, unit_mg=unit, dose=dose, waste=waste, drug_units=drug_units, addon=addon_billed,
        T=t_min, obs=obs, start_min=rng.integers(8 * 12, 13 * 12, n) * 5,
        push=rng.random(n) < 0.3, ndc=ndc,
    ).with_columns(pl.col("obs").replace(-1, None))
    e = pl.col("_seeded_error")
    times = {"infusion_start": _start(), "infusion_stop": _stop(), "observation_minutes": pl.col("obs"),
             "route": pl.lit("IV"), "charge": _charge("96365", pl.lit(1))}
    b.line(c, 0, e.ne_missing("addon-without-primary"), "96365", 1, **times)
    b.line(c, 1, e.eq_missing("duplicate-initial-infusion"), "96365", 1, charge=_charge("96365", pl.lit(1)))
    b.line(c, 2, pl.col("addon") > 0, "96366", pl.col("addon"), charge=_charge("96366", pl.col("addon")))
    b.line(c, 3, pl.col("push"), "96375", 1, charge=_charge("96375", pl.lit(1)))
    b.line(c, 4, pl.col("push"), "J1200", 1, mods=("JZ",), charge=_charge("J1200", pl.lit(1)),
           drug_dose_mg=pl.lit(50, pl.Int64), route=pl.lit("PUSH"), ndc=pl.lit("63323066401"))
    has_waste = pl.col("waste") > 0
    jz = pl.when(~has_waste & e.ne_missing("missing-modifier")).then(pl.lit("JZ"))
    b.line(c, 5, True, pl.col("code"), pl.col("drug_units"), mods=(jz,), charge=_charge(pl.col("code"),
           pl.col("drug_units")), ndc=pl.col("ndc"), drug_dose_mg=pl.col("dose"),
           drug_wasted_mg=pl.when(has_waste).then(pl.col("waste")), route=pl.lit("IV"))
    jw_units = pl.col("waste") // pl.col("unit_mg")
    b.line(c, 6, has_waste, pl.col("code"), jw_units, mods=("JW",), charge=_charge(pl.col("code"), jw_units),
           ndc=pl.col("ndc"))
    b.claims.append(c.select("_claim", "_member", "date_of_service", "payer", "place_of_service", "claim_type",
                             "dx1", "dx2", "_seeded_error"))


def home_ig(b: Batch, rng: np.random.Generator, base: dict) -> None:
    n = len(base["idx"])
    err = base["err"]
    payer = _pick(rng, HOME_PAYERS, n, HOME_PAYER_P)
    payer = np.where(err == "missing-modifier", "MEDICARE", payer)
    is_sc = rng.random(n) < 0.45
    home_iv = ("J1459", "J1569", "J1561", "J1568")
    products = Products({**{k: IVIG[k] for k in home_iv}, **SCIG})
    which = np.where(is_sc, len(home_iv) + rng.choice(len(SCIG), size=n, p=SCIG_P),
                     rng.choice(len(home_iv), size=n, p=[0.35, 0.3, 0.2, 0.15]))
    code = products.codes[which]
    weight = rng.normal(72, 15, n).clip(35, 140)
    dose_target = np.where(is_sc, weight * 0.12 * 1000, weight * 0.5 * 1000)
    unit, dose, waste = _dose_and_waste(rng, products, which, dose_target, zero_waste_share=0.75)
    # missing-modifier at home: KX missing (Medicare DME policy).
    dx_home = np.where(is_sc, _pick(rng, DX_HOME_SCIG, n), _pick(rng, DX_HOME_IVIG, n))
    medicare = np.char.startswith(payer.astype(str), "MEDICARE")
    # G61.81 (CIDP) is covered for home SCIG but not home IVIG under Medicare (A52509); DEFAULT covers it.
    dx1 = _apply_dx_error(rng, dx_home, err, base["dos"], home_iv=~is_sc & medicare)
    c = _claims_frame(
        base["idx"], base["member"], base["dos"], payer, np.full(n, "12"), np.full(n, "professional"),
        dx1, np.full(n, None), err, code=code, unit_mg=unit, dose=dose, waste=waste,
        drug_units=-(-dose // unit), kx=medicare & (err != "missing-modifier"), route=np.where(is_sc, "SC", "IV"),
        ndc=products.ndc[which],
    )
    has_waste = pl.col("waste") > 0
    kx = pl.when(pl.col("kx")).then(pl.lit("KX"))
    b.line(c, 0, True, pl.col("code"), pl.col("drug_units"), mods=(pl.when(~has_waste).then(pl.lit("JZ")), kx),
           charge=_charge(pl.col("code"), pl.col("drug_units")), ndc=pl.col("ndc"), drug_dose_mg=pl.col("dose"),
           drug_wasted_mg=pl.when(has_waste).then(pl.col("waste")), route=pl.col("route"))
    jw_units = pl.col("waste") // pl.col("unit_mg")
    b.line(c, 1, has_waste, pl.col("code"), jw_units, mods=("JW", kx), charge=_charge(pl.col("code"), jw_units),
           ndc=pl.col("ndc"))
    b.claims.append(c.select("_claim", "_member", "date_of_service", "payer", "place_of_service", "claim_type",
                             "dx1", "dx2", "_seeded_error"))


def scig_office(b: Batch, rng: np.random.Generator, base: dict) -> None:
    n = len(base["idx"])
    err = base["err"]
    payer = _pick(rng, PAYERS, n, PAYER_P)
    payer = np.where(err == "missing-modifier", "MEDICARE", payer)
    scig = Products(SCIG)
    which = scig.pick(rng, n, SCIG_P)
    code = scig.codes[which]
    weight = rng.normal(72, 15, n).clip(35, 140)
    unit, dose, waste = _dose_and_waste(rng, scig, which, weight * 0.12 * 1000, zero_waste_share=0.8)
    waste = np.where(err == "missing-modifier", 0, waste)
    addon = rng.choice([0, 1, 1, 2], n).astype(np.int64)
    t_min = _times(rng, addon)
    unit_err = err == "unit-miscalculation"
    drug_units = -(-dose // unit) + np.where(unit_err, rng.choice([-5, -2, 3, 10], n), 0)
    c = _claims_frame(
        base["idx"], base["member"], base["dos"], payer, _pick(rng, ["11", "19", "22"], n, [0.7, 0.2, 0.1]),
        np.full(n, "professional"), _apply_dx_error(rng, _pick(rng, DX_HOME_SCIG, n), err, base["dos"]),
        np.where(rng.random(n) < 0.2, _pick(rng, DX_SECONDARY, n), None), err,
        code=code, unit_mg=unit, dose=dose, waste=waste, drug_units=np.maximum(1, drug_units), addon=addon,
        T=t_min, start_min=rng.integers(8 * 12, 14 * 12, n) * 5, sites=rng.integers(1, 5, n),
        setup=(rng.random(n) < 0.35) | (err == "over-cap-96371"),
        setup_units=np.where(err == "over-cap-96371", rng.choice([2, 2, 3], n), 1),
        ndc=scig.ndc[which],
    )
    e = pl.col("_seeded_error")
    b.line(c, 0, True, "96369", 1, infusion_start=_start(), infusion_stop=_stop(), route=pl.lit("SC"),
           sites=pl.col("sites"), charge=_charge("96369", pl.lit(1)))
    b.line(c, 1, pl.col("addon") > 0, "96370", pl.col("addon"), charge=_charge("96370", pl.col("addon")))
    b.line(c, 2, pl.col("setup"), "96371", pl.col("setup_units"), charge=_charge("96371", pl.col("setup_units")))
    has_waste = pl.col("waste") > 0
    jz = pl.when(~has_waste & e.ne_missing("missing-modifier")).then(pl.lit("JZ"))
    b.line(c, 3, True, pl.col("code"), pl.col("drug_units"), mods=(jz,), ndc=pl.col("ndc"),
           charge=_charge(pl.col("code"), pl.col("drug_units")), drug_dose_mg=pl.col("dose"),
           drug_wasted_mg=pl.when(has_waste).then(pl.col("waste")), route=pl.lit("SC"))
    jw_units = pl.col("waste") // pl.col("unit_mg")
    b.line(c, 4, has_waste, pl.col("code"), jw_units, mods=("JW",), charge=_charge(pl.col("code"), jw_units),
           ndc=pl.col("ndc"))
    b.claims.append(c.select("_claim", "_member", "date_of_service", "payer", "place_of_service", "claim_type",
                             "dx1", "dx2", "_seeded_error"))


def hydration(b: Batch, rng: np.random.Generator, base: dict) -> None:
    n = len(base["idx"])
    err = base["err"]
    pos = _pick(rng, ["11", "19", "22"], n, [0.4, 0.35, 0.25])
    claim_type = np.where((pos != "11") & (rng.random(n) < 0.7), "institutional", "professional")
    addon = rng.choice([0, 1, 1, 2, 3], n).astype(np.int64)
    t_min = _times(rng, addon)
    obs = np.where(rng.random(n) < 0.2, 30, -1)
    # observation-counted-as-infusion on the initial: 96360 needs 31 infusing minutes.
    obs_err = err == "observation-counted-as-infusion"
    short = rng.integers(18, 31, n)
    t_min = np.where(obs_err, short, t_min)
    addon = np.where(obs_err, 0, addon)
    obs = np.where(obs_err, 31 - short + rng.integers(0, 30, n), obs)
    unit_err = err == "unit-miscalculation"
    addon_billed = addon + unit_err.astype(np.int64)
    obs = np.where(unit_err, -1, obs)
    c = _claims_frame(
        base["idx"], base["member"], base["dos"], _pick(rng, PAYERS, n, PAYER_P), pos, claim_type,
        _pick(rng, DX_HYDRATION, n), np.where(rng.random(n) < 0.15, _pick(rng, DX_SECONDARY, n), None), err,
        addon=addon_billed, T=t_min, obs=obs, start_min=rng.integers(7 * 12, 16 * 12, n) * 5,
    ).with_columns(pl.col("obs").replace(-1, None))
    e = pl.col("_seeded_error")
    b.line(c, 0, e.ne_missing("addon-without-primary"), "96360", 1, infusion_start=_start(), infusion_stop=_stop(),
           observation_minutes=pl.col("obs"), route=pl.lit("IV"), charge=_charge("96360", pl.lit(1)))
    has_addon = (pl.col("addon") > 0) | e.eq_missing("addon-without-primary")
    units = pl.max_horizontal(pl.col("addon"), pl.lit(1))
    b.line(c, 1, has_addon, "96361", units, charge=_charge("96361", units))
    b.claims.append(c.select("_claim", "_member", "date_of_service", "payer", "place_of_service", "claim_type",
                             "dx1", "dx2", "_seeded_error"))


def chemo(b: Batch, rng: np.random.Generator, base: dict) -> None:
    n = len(base["idx"])
    err = base["err"]
    pos = _pick(rng, ["11", "19", "22"], n, [0.5, 0.3, 0.2])
    claim_type = np.where((pos != "11") & (rng.random(n) < 0.7), "institutional", "professional")
    addon = rng.choice([0, 1, 1, 2], n).astype(np.int64)
    t_min = _times(rng, addon)
    addon_billed = addon + (err == "unit-miscalculation").astype(np.int64)
    dose = (rng.normal(450, 80, n).clip(200, 900) // 10 * 10).astype(np.int64)
    c = _claims_frame(
        base["idx"], base["member"], base["dos"], _pick(rng, PAYERS, n, PAYER_P), pos, claim_type,
        _pick(rng, DX_CHEMO, n), np.where(rng.random(n) < 0.25, _pick(rng, DX_SECONDARY, n), None), err,
        addon=addon_billed, T=t_min, start_min=rng.integers(8 * 12, 14 * 12, n) * 5, dose=dose,
    )
    b.line(c, 0, True, "96413", 1, infusion_start=_start(), infusion_stop=_stop(), route=pl.lit("IV"),
           charge=_charge("96413", pl.lit(1)))
    b.line(c, 1, pl.col("addon") > 0, "96415", pl.col("addon"), charge=_charge("96415", pl.col("addon")))
    b.line(c, 2, True, "96375", 1, charge=_charge("96375", pl.lit(1)))
    units = pl.col("dose") // 10
    b.line(c, 3, True, "J9355", units, mods=("JZ",), charge=_charge("J9355", units), ndc=pl.lit("50242013401"),
           drug_dose_mg=pl.col("dose"), route=pl.lit("IV"))
    b.line(c, 4, True, "J2405", 8, mods=("JZ",), charge=_charge("J2405", pl.lit(8)), ndc=pl.lit("00409475503"),
           drug_dose_mg=pl.lit(8, pl.Int64), route=pl.lit("PUSH"))
    b.claims.append(c.select("_claim", "_member", "date_of_service", "payer", "place_of_service", "claim_type",
                             "dx1", "dx2", "_seeded_error"))


TEMPLATES = {"ivig_office": ivig_office, "home_ig": home_ig, "scig_office": scig_office, "hydration": hydration,
             "chemo": chemo}


# ---------------------------------------------------------------------------------------- batch


def generate_lines(lines: int, seed: int = 20260501, error_share: float = 0.10) -> pl.DataFrame:
    """The batch as one frame: one row per line, sorted by claim and line, plus ``_seeded_error``."""
    rng = np.random.default_rng(seed)
    names = list(TEMPLATES)
    weights = np.array([TEMPLATE_WEIGHTS[t] for t in names])
    mean_lines = float(np.dot(weights, [_LINES_PER_CLAIM[t] for t in names]))
    n_claims = max(1, int(lines / mean_lines * 1.05) + 5)  # a little over; trimmed to ``lines`` below
    idx = np.arange(n_claims, dtype=np.int64)
    template = rng.choice(len(names), size=n_claims, p=weights)
    err = np.full(n_claims, None, dtype=object)
    erroneous = rng.random(n_claims) < error_share
    kinds = rng.integers(0, len(CHECK_IDS), size=n_claims)
    for k, check_id in enumerate(CHECK_IDS):
        hit = erroneous & (kinds == k)
        allowed = [names.index(t) for t in ERROR_TEMPLATES[check_id]]
        template = np.where(hit, np.asarray(allowed)[rng.integers(0, len(allowed), size=n_claims)], template)
        err = np.where(hit, check_id, err)
    # A member's claims are 21 days apart: one claim per member and date (no accidental encounters).
    member = idx // 6
    first = rng.integers(0, 240, size=n_claims // 6 + 1)
    dos = np.datetime64(FIRST_DOS) + (first[member] + 21 * (idx % 6)).astype("timedelta64[D]")
    batch = Batch()
    for t, name in enumerate(names):
        sel = template == t
        if not sel.any():
            continue
        base = {"idx": idx[sel], "member": member[sel], "dos": dos[sel], "err": err[sel]}
        TEMPLATES[name](batch, np.random.default_rng([seed, t]), base)
    claims = pl.concat(batch.claims).sort("_claim").rechunk()
    line_frames = pl.concat(batch.lines, how="diagonal_relaxed").rechunk()  # gathers are slow on many chunks
    order = np.argsort(line_frames.get_column("_claim").to_numpy() * 16 + line_frames.get_column("_slot").to_numpy(),
                       kind="stable")
    line_frames = line_frames[order]
    # Trim to the requested size: whole claims only, up to the first claim that reaches ``lines``.
    last_claim = int(line_frames.get_column("_claim")[min(lines, line_frames.height) - 1])
    line_frames = line_frames.filter(pl.col("_claim") <= last_claim)
    claims = claims.filter(pl.col("_claim") <= last_claim)
    # Line numbers: position within the claim (frame is sorted by claim).
    claim_col = line_frames.get_column("_claim").to_numpy()
    starts = np.flatnonzero(np.r_[True, claim_col[1:] != claim_col[:-1]])
    first_pos = np.repeat(starts, np.diff(np.r_[starts, len(claim_col)]))
    line_no = np.arange(len(claim_col)) - first_pos + 1
    c = claims.with_columns(
        pl.format("C{}", pl.col("_claim").cast(pl.String).str.zfill(9)).alias("claim_id"),
        pl.format("M{}", pl.col("_member").cast(pl.String).str.zfill(8)).alias("member_id"),
    )
    # claims are 0..n-1 in order, so the claim row of a line is its _claim value.
    claim_rows = c.select("claim_id", "member_id", "payer", "claim_type", "place_of_service", "date_of_service",
                          "dx1", "dx2", "_seeded_error")[claim_col]
    dx_ptr2 = pl.col("dx2").is_not_null() & pl.col("procedure_code").str.starts_with("J")
    out = pl.concat([line_frames.drop("_slot"), claim_rows], how="horizontal").with_columns(
        pl.Series("line_number", line_no, dtype=pl.Int64),
        pl.col("dx1").alias("diagnosis_1"),
        pl.when(dx_ptr2).then(pl.col("dx2")).alias("diagnosis_2"),
        pl.lit(None, pl.String).alias("diagnosis_3"),
        pl.lit(None, pl.String).alias("diagnosis_4"),
    )
    for col in CSV_COLUMNS:
        if col not in out.columns:
            out = out.with_columns(pl.lit(None, pl.String).alias(col))
    return out.select(*CSV_COLUMNS, "dx1", "dx2", "_seeded_error", "_claim")


def write_csv(frame: pl.DataFrame, out: Path) -> None:
    frame.select(CSV_COLUMNS).write_csv(out, date_format="%Y-%m-%d", datetime_format="%Y-%m-%dT%H:%M",
                                        float_precision=2)


def write_json(frame: pl.DataFrame, out: Path) -> None:
    """Nested claims JSON: claim fields, ``diagnoses`` and ``lines`` (with ``modifiers`` and pointers)."""
    mods = [f"modifier_{i}" for i in range(1, 5)]
    lines = frame.with_columns(
        pl.col("date_of_service").dt.strftime("%Y-%m-%d"),
        pl.col("infusion_start").dt.strftime("%Y-%m-%dT%H:%M"),
        pl.col("infusion_stop").dt.strftime("%Y-%m-%dT%H:%M"),
        pl.concat_list(mods).list.drop_nulls().alias("modifiers"),
        pl.when(pl.col("diagnosis_2").is_not_null()).then(pl.lit([1, 2])).otherwise(pl.lit([1]))
        .alias("diagnosis_pointers"),
    )
    line_struct = pl.struct(*LINE_FIELDS, "modifiers", "diagnosis_pointers")
    claims = lines.group_by("_claim", maintain_order=True).agg(
        *[pl.col(c).first() for c in CLAIM_FIELDS],
        pl.concat_list(pl.col("dx1").first(), pl.col("dx2").first()).list.drop_nulls().alias("diagnoses"),
        line_struct.alias("lines"),
    ).drop("_claim")
    with out.open("wb") as fh:
        fh.write(b'{"claims": ')
        claims.write_json(fh)
        fh.write(b"}\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, default=100_000, help="approximate number of claim lines (default 100000)")
    ap.add_argument("--seed", type=int, default=20260501)
    ap.add_argument("--error-share", type=float, default=0.10, help="share of claims with one seeded error")
    ap.add_argument("--format", choices=("csv", "json"), default="csv")
    ap.add_argument("--out", required=True, help="output file")
    ap.add_argument("--truth", help="also write claim_id,seeded_check_id for the erroneous claims (CSV)")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    frame = generate_lines(args.lines, args.seed, args.error_share)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if args.format == "csv":
        write_csv(frame, out)
    else:
        write_json(frame, out)
    if args.truth:
        frame.filter(pl.col("_seeded_error").is_not_null()).group_by("claim_id", maintain_order=True).agg(
            pl.col("_seeded_error").first().alias("seeded_check_id")).write_csv(args.truth)
    n_claims = frame.get_column("claim_id").n_unique()
    print(f"wrote {out}: {frame.height} lines, {n_claims} claims, {out.stat().st_size / 1e6:.1f} MB "
          f"in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
