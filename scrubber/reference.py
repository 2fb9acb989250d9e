"""Versioned reference tables shipped in ``scrubber/data`` (see its MANIFEST.toml).

Every coding fact a check relies on (which codes are add-ons and their primaries, IG billing
units and routes, covered diagnoses, billable ICD-10-CM codes) is read from here, so a code-table
update is a data change with a source and dates, not a code change. Tables load on first use and
are cached; the ICD-10-CM tables (~150k codes) load only when a check asks for them.
"""

from __future__ import annotations

import datetime as dt
import difflib
import gzip
import io
import os
import re
import tomllib
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl

from scrubber.errors import InputError

_PACKAGE = "scrubber.data"


def _bytes(name: str) -> bytes:
    return resources.files(_PACKAGE).joinpath(name).read_bytes()


@cache
def manifest() -> dict[str, Any]:
    return tomllib.loads(_bytes("MANIFEST.toml").decode("utf-8"))


def _csv(name: str, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.read_csv(io.BytesIO(_bytes(name)), schema_overrides=schema, infer_schema=False).with_columns(
        pl.col(c).cast(t) for c, t in schema.items()
    )


@cache
def admin_codes() -> pl.DataFrame:
    """One row per 963xx administration code, with ``allowed_primaries`` and ``documented_routes`` as lists."""
    frame = _csv(
        manifest()["admin_codes"]["file"],
        {
            "code": pl.String(),
            "family": pl.String(),
            "role": pl.String(),
            "time_based": pl.String(),
            "documented_routes": pl.String(),
            "allowed_primaries": pl.String(),
            "initial_rank": pl.Int64(),
            "min_minutes": pl.Int64(),
            "addon_hour_code": pl.String(),
            "subsequent_code": pl.String(),
            "secondary_when_initial_absent": pl.String(),
            "route_evidence": pl.String(),
            "concurrent_code": pl.String(),
        },
    )
    return frame.with_columns(
        pl.col("time_based") == "true",
        (pl.col("secondary_when_initial_absent") == "true").fill_null(False),
        pl.col("allowed_primaries").fill_null("").str.split(" ").list.eval(pl.element().filter(pl.element() != "")),
        pl.col("documented_routes").str.split(" "),
    )


@cache
def addon_primaries_ncci() -> pl.DataFrame:
    """The CMS NCCI add-on code edit list: each add-on and its eligible primaries (a list)."""
    frame = _csv(manifest()["addon_primaries_ncci"]["file"], {"addon": pl.String(), "primaries": pl.String()})
    return frame.with_columns(pl.col("primaries").str.split(" "))


@cache
def immune_globulins() -> pl.DataFrame:
    """IG drug codes: product, route (IV, SC or IV_SC), billing unit in mg, single-dose container."""
    frame = _csv(
        manifest()["immune_globulins"]["file"],
        {"code": pl.String(), "product": pl.String(), "route": pl.String(), "unit_mg": pl.Float64(),
         "single_dose": pl.String()},
    )
    return frame.with_columns(pl.col("single_dose") == "true")


@cache
def modifiers() -> pl.DataFrame:
    """Modifiers the checks read, by role: waste (JW), no_waste (JZ), distinct_site, route_iv, route_sc."""
    return _csv(manifest()["modifiers"]["file"], {"code": pl.String(), "role": pl.String()})


def modifiers_with_role(role: str) -> list[str]:
    codes = modifiers().filter(pl.col("role") == role).get_column("code").to_list()
    if not codes:
        raise KeyError(f"no modifier with role {role!r} in {manifest()['modifiers']['file']}")
    return codes


_MAX_BITS = 64  # code sets travel as UInt64 bit masks (see code_table)


@cache
def code_table() -> pl.DataFrame:
    """One row per procedure code a check knows (administration codes and immune globulins).

    Besides the attributes of both tables (prefixed ``adm_`` and ``ig_``), each administration
    code has a bit (``adm_bit``) so that "which codes are billed on this claim and date" is one
    UInt64 per line instead of a list: ``adm_primary_mask`` holds the bits of an add-on's allowed
    primaries, ``adm_family_initial_bit`` the bit of the initial code whose add-on hour this is
    (96360 for 96361). Immune globulins have ``ig_bit`` likewise, for "a JW line of this drug".
    """
    adm = admin_codes()
    ig = immune_globulins()
    for name, table in (("admin_codes", adm), ("immune_globulins", ig)):
        if table.height > _MAX_BITS:
            raise ValueError(f"{name} has {table.height} codes; code masks hold {_MAX_BITS}")
    codes = adm.get_column("code").to_list()
    bit = {code: 1 << i for i, code in enumerate(codes)}
    initial_of = {row["addon_hour_code"]: row["code"] for row in adm.iter_rows(named=True) if row["addon_hour_code"]}
    primary_mask = {c: sum(bit.get(p, 0) for p in ps) for c, ps in zip(codes, adm.get_column("allowed_primaries"),
                                                                       strict=True)}
    aoc = addon_primaries_ncci()
    aoc_of = dict(zip(aoc.get_column("addon").to_list(), aoc.get_column("primaries").to_list(), strict=True))
    aoc_mask = {c: sum(bit.get(p, 0) for p in aoc_of.get(c, [])) for c in codes}
    adm_rows = adm.select(
        pl.col("code").alias("procedure_code"),
        *[pl.col(c).alias(f"adm_{c}") for c in adm.columns if c not in ("code", "source", "allowed_primaries")],
        pl.col("allowed_primaries").list.join(" or ").alias("adm_primaries_text"),
        pl.col("family").rank("dense").cast(pl.UInt8).alias("adm_family_idx"),
        pl.Series([bit[c] for c in codes], dtype=pl.UInt64()).alias("adm_bit"),
        pl.Series([primary_mask[c] for c in codes], dtype=pl.UInt64()).alias("adm_primary_mask"),
        # The CMS NCCI add-on code edit list (policies with [addons] primaries = "ncci", MEDICARE).
        pl.Series([aoc_mask[c] or primary_mask[c] for c in codes], dtype=pl.UInt64()).alias("adm_ncci_primary_mask"),
        pl.Series([" or ".join(aoc_of[c]) if c in aoc_of else None for c in codes], dtype=pl.String()
                  ).alias("adm_ncci_primaries_text"),
        # The primaries the line's subsequent code accepts: whether it can follow a given initial.
        pl.Series([primary_mask.get(s or "", 0) for s in adm.get_column("subsequent_code")],
                  dtype=pl.UInt64()).alias("adm_subsequent_primary_mask"),
        pl.Series([bit.get(initial_of.get(c, ""), 0) for c in codes], dtype=pl.UInt64()).alias(
            "adm_family_initial_bit"),
        # The primaries the line's concurrent code accepts (96368 after 96365 or 96413), and its bit.
        pl.Series([primary_mask.get(s or "", 0) for s in adm.get_column("concurrent_code")],
                  dtype=pl.UInt64()).alias("adm_concurrent_primary_mask"),
        pl.Series([bit.get(s or "", 0) for s in adm.get_column("concurrent_code")],
                  dtype=pl.UInt64()).alias("adm_concurrent_bit"),
    )
    ig_rows = ig.select(
        pl.col("code").alias("procedure_code"),
        pl.col("product").alias("ig_product"),
        pl.col("route").alias("ig_route"),
        pl.col("unit_mg").alias("ig_unit_mg"),
        pl.col("single_dose").alias("ig_single_dose"),
        pl.Series([1 << i for i in range(ig.height)], dtype=pl.UInt64()).alias("ig_bit"),
    )
    return adm_rows.join(ig_rows, on="procedure_code", how="full", coalesce=True).sort("procedure_code")


def admin_bits(codes: list[str]) -> int:
    """The UInt64 mask of the given administration codes (see :func:`code_table`)."""
    table = code_table().filter(pl.col("procedure_code").is_in(codes) & pl.col("adm_bit").is_not_null())
    return int(sum(table.get_column("adm_bit").to_list()))


def route_evidence_bits(evidence: str) -> int:
    """Mask of the codes that show a route (``iv_infusion``, ``sc_infusion``, ``injection``, ``push``)."""
    codes = admin_codes_where(route_evidence=evidence)
    if not codes:
        raise KeyError(f"no administration code with route_evidence {evidence!r}")
    return admin_bits(codes)


@cache
def home_ivig_supplies() -> pl.DataFrame:
    """Home IVIG services and supplies codes (Q2052) by period of dates of service: ``max_per_date``,
    ``unit_basis`` (``visit`` or ``15_minutes``), ``effective_from`` / ``effective_to`` (null: open)
    and ``drug_window_days`` (see MANIFEST.toml)."""
    frame = _csv(
        manifest()["home_ivig_supplies"]["file"],
        {"code": pl.String(), "benefit": pl.String(), "max_per_date": pl.Int64(), "unit_basis": pl.String(),
         "effective_from": pl.Date(), "effective_to": pl.Date(), "drug_window_days": pl.Int64()},
    )
    unknown = set(frame.get_column("unit_basis").to_list()) - {"visit", "15_minutes"}
    if unknown:
        raise ValueError(f"home_ivig_supplies: unknown unit_basis {sorted(unknown)}")
    return frame.drop("description", "source")


@cache
def covered_diagnoses() -> pl.DataFrame:
    """(list_id, code) with codes undotted, as claims carry them after normalisation."""
    frame = _csv(manifest()["covered_diagnoses"]["file"], {"list_id": pl.String(), "code": pl.String()})
    return frame.select("list_id", pl.col("code").str.replace_all(".", "", literal=True).alias("code"))


def covered_list_name(list_id: str, policy: str) -> str:
    """What a finding calls a covered list: the payer-facing name in MANIFEST.toml
    (``[covered_diagnoses.lists.<id>]``, e.g. the article id and title), never the product's list id.

    A list a policy file defines itself (``[coverage.lists]``) has no such entry: it is named by
    ``covered_diagnoses.names.policy_list_name`` with the policy and the list's own name.
    """
    meta = manifest()["covered_diagnoses"]
    named = meta.get("lists", {}).get(list_id)
    if named is not None:
        return str(named["name"])
    return str(meta["names"]["policy_list_name"]).format(list=list_id, policy=policy)


@cache
def icd10_releases() -> pl.DataFrame:
    """The ICD-10-CM releases shipped (every ``[icd10cm.*]`` table of MANIFEST.toml), in date order,
    with the dates of service each applies to (a fiscal year: October 1 to September 30)."""
    rows = [
        (key, meta["release"], meta["effective_from"], meta["effective_to"], meta["file"])
        for key, meta in manifest()["icd10cm"].items()
    ]
    return pl.DataFrame(
        rows,
        schema={"release_key": pl.String(), "release": pl.String(), "effective_from": pl.Date(),
                "effective_to": pl.Date(), "file": pl.String()},
        orient="row",
    ).sort("effective_from")


@cache
def icd10_billable_codes(release_key: str) -> pl.Series:
    """The billable codes (undotted) of one shipped release; each release is read only when asked for."""
    files = dict(icd10_releases().select("release_key", "file").iter_rows())
    return pl.Series("code", gzip.decompress(_bytes(files[release_key])).decode("ascii").split())


def icd10_release_index(date_col: str = "date_of_service") -> pl.Expr:
    """The position (in :func:`icd10_releases` order, UInt8) of the release in force on each date of
    service; null for a date outside every shipped release (or in a gap between two), whose
    diagnoses cannot be judged: RULES.md "a date outside every shipped release is not evaluated for
    validity, never flagged"."""
    expr: pl.Expr = pl.lit(None, pl.UInt8)
    date = pl.col(date_col)
    for i, (start, end) in enumerate(icd10_releases().select("effective_from", "effective_to").iter_rows()):
        expr = pl.when(date.is_between(pl.lit(start), pl.lit(end))).then(pl.lit(i, pl.UInt8)).otherwise(expr)
    return expr.alias("icd10_release")


def icd10_outside_releases(date_col: str = "date_of_service") -> pl.Expr:
    """True where the date of service is in no shipped ICD-10-CM release (validity not evaluated); a
    null date is in none.

    Tested against the releases' spans merged where one ends the day before the next starts (the
    shipped fiscal years are one span: two comparisons per line instead of a chain of one branch per
    release, 0.03 -> 0.01 s on 2M lines)."""
    spans: list[list[dt.date]] = []
    for start, end in icd10_releases().select("effective_from", "effective_to").iter_rows():  # (sorted by date)
        if spans and start <= spans[-1][1] + dt.timedelta(days=1):
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([start, end])
    date = pl.col(date_col)
    inside = pl.any_horizontal(pl.lit(False), *[date.is_between(pl.lit(s), pl.lit(e)) for s, e in spans])
    return ~inside.fill_null(False)


def icd10_releases_for_dates(first: dt.date | None, last: dt.date | None) -> list[int]:
    """Positions of the shipped releases in force on some date between ``first`` and ``last``."""
    if first is None or last is None:
        return []
    spans = icd10_releases().select("effective_from", "effective_to").iter_rows()
    return [i for i, (start, end) in enumerate(spans) if start <= last and end >= first]


def icd10_billable_bits(codes: pl.Series, releases: list[int]) -> pl.DataFrame:
    """``code`` and ``billable`` (UInt64): bit ``i`` set where the code is billable in release ``i``
    (positions of :func:`icd10_releases`), for the given releases only (the others are not read)."""
    keys = icd10_releases().get_column("release_key").to_list()
    frame = pl.DataFrame({"code": codes.cast(pl.String)})
    bits: pl.Expr = pl.lit(0, pl.UInt64)
    for i in releases:
        hit = pl.col("code").is_in(icd10_billable_codes(keys[i]).implode())
        bits = bits | pl.when(hit).then(pl.lit(1 << i, pl.UInt64)).otherwise(pl.lit(0, pl.UInt64))
    return frame.select("code", bits.alias("billable"))


@cache
def icd10_next() -> dict[str, Any] | None:
    """The release in force after the newest shipped one (MANIFEST ``[icd10cm_next]``), not shipped:
    ``release`` (e.g. FY2027), ``effective_from`` / ``effective_to``, and ``judged_by`` /
    ``judged_by_key``, the newest shipped release whose categories judge its dates (RULES.md keeps
    "never flagged" for every other date outside the shipped releases). None when the MANIFEST has
    no such table. It must start the day after the newest release ends and name it: anything else
    is a packaging error, raised (a test holds it)."""
    meta = manifest().get("icd10cm_next")
    if meta is None:
        return None
    last = icd10_releases().row(-1, named=True)
    start = last["effective_to"] + dt.timedelta(days=1)
    if meta["judged_by"] != last["release_key"] or meta["effective_from"] != start:
        raise ValueError(f"MANIFEST [icd10cm_next] must start on {start} and be judged by "
                         f"{last['release_key']}, the newest shipped release")
    return {"release": str(meta["release"]), "effective_from": meta["effective_from"],
            "effective_to": meta["effective_to"], "judged_by": str(last["release"]),
            "judged_by_key": str(last["release_key"])}


@cache
def icd10_categories(release_key: str) -> pl.Series:
    """The codes a shipped release subdivides (undotted): every leading part of 3 characters or more
    of a billable code that is not billable itself, e.g. D80 and D80.8 are not, D80.0 is. ICD-10-CM
    Official Guidelines I.B.2: such a code has not been coded to the full number of characters."""
    codes = icd10_billable_codes(release_key)
    frame = pl.DataFrame({"code": codes})
    parts = pl.concat([frame.filter(pl.col("code").str.len_chars() > n).select(pl.col("code").str.slice(0, n))
                       for n in range(3, int(codes.str.len_chars().max() or 3))]).unique()
    return parts.filter(~pl.col("code").is_in(codes.implode())).get_column("code").sort()


def icd10_in_next(date_col: str = "date_of_service") -> pl.Expr:
    """True where the date of service falls in :func:`icd10_next` (false when there is none, or the
    date is null)."""
    nxt = icd10_next()
    if nxt is None:
        return pl.lit(False)
    date = pl.col(date_col)
    return date.is_between(pl.lit(nxt["effective_from"]), pl.lit(nxt["effective_to"])).fill_null(False)


def releases_summary() -> list[dict[str, str]]:
    """Reference data releases, for the report's provenance (findings JSON ``provenance.reference_data``,
    HTML footer). The CMS edit tables (MUE, NCCI PTP) also give their ``table_quarter`` and, when a
    newer table was loaded from ``SCRUBBER_REFERENCE_DIR``, the file it came from (``override``)."""
    m = manifest()
    out = []
    for key in ("admin_codes", "immune_globulins", "modifiers", "home_ivig_supplies", "covered_diagnoses"):
        out.append({"table": key, "release": m[key]["release"], "source": m[key]["source"],
                    "effective_from": str(m[key]["effective_from"])})
    for key in EDIT_TABLES:
        meta = edit_table_meta(key)
        row = {"table": key, "release": meta["release"], "source": meta["source"],
               "table_quarter": meta["table_quarter"]}
        if meta.get("effective_from"):
            row["effective_from"] = str(meta["effective_from"])
        if meta.get("override"):
            row["override"] = meta["override"]
        out.append(row)
    for key, meta in m["icd10cm"].items():
        out.append({"table": f"icd10cm.{key}", "release": meta["release"], "source": meta["source"],
                    "effective_from": str(meta["effective_from"]), "effective_to": str(meta["effective_to"])})
    if "icd10cm_next" in m:
        meta = m["icd10cm_next"]
        judged = m["icd10cm"][meta["judged_by"]]["release"]
        out.append({"table": "icd10cm_next",
                    "release": f"{meta['release']} (not shipped: judged by the codes {judged} subdivides)",
                    "source": meta["source"]})
    return out


def admin_codes_where(**criteria: str) -> list[str]:
    """Administration codes whose columns equal the given values, e.g. ``family="push"``."""
    frame = admin_codes()
    for column, value in criteria.items():
        frame = frame.filter(pl.col(column) == value)
    return frame.get_column("code").sort().to_list()


# --------------------------------------------------------------------------- CMS edit tables (MUE, NCCI PTP)

# The quarterly CMS tables a user may replace with a newer quarter without a new release of the
# product: a directory named by this environment variable holding any of the files below (same
# names and columns as the shipped ones) and a MANIFEST.toml with an entry per file it replaces
# (at least ``release`` and ``table_quarter``; the product reports that quarter).
REFERENCE_DIR_ENV = "SCRUBBER_REFERENCE_DIR"
EDIT_TABLES = ("mue_practitioner", "mue_outpatient", "ncci_ptp")
MUE_SETTINGS = {"practitioner": "mue_practitioner", "outpatient": "mue_outpatient"}
PTP_SETTINGS = ("practitioner", "outpatient", "both")
_EDIT_COLUMNS = {
    "mue_practitioner": ("code", "mue", "mai", "rationale"),
    "mue_outpatient": ("code", "mue", "mai", "rationale"),
    "ncci_ptp": ("column1", "column2", "modifier_indicator", "effective_from", "effective_to", "setting"),
}


def reference_dir() -> str | None:
    """The directory of replacement CMS edit tables (``SCRUBBER_REFERENCE_DIR``), or None."""
    value = os.environ.get(REFERENCE_DIR_ENV, "").strip()
    return value or None


@cache
def _override_manifest(directory: str) -> dict[str, Any]:
    """The entries of the override directory's MANIFEST.toml for the edit tables it replaces."""
    root = Path(directory)
    if not root.is_dir():
        raise InputError(f"{REFERENCE_DIR_ENV} names no directory", directory)
    present = [key for key in EDIT_TABLES if (root / f"{key}.csv").is_file()]
    if not present:
        names = ", ".join(f"{k}.csv" for k in EDIT_TABLES)
        raise InputError(f"{REFERENCE_DIR_ENV}: the directory holds none of {names}", directory)
    path = root / "MANIFEST.toml"
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("a replacement table needs MANIFEST.toml beside it saying its release and "
                         "table_quarter", str(path)) from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"cannot read the replacement tables' manifest ({exc})", str(path)) from None
    _refuse_unread(root, doc, present, str(path))
    entries: dict[str, Any] = {}
    for key in present:
        meta = doc.get(key)
        if not isinstance(meta, dict) or not all(str(meta.get(k, "")).strip() for k in ("release", "table_quarter")):
            raise InputError(f"[{key}] needs 'release' and 'table_quarter' (the CMS table and quarter of "
                             f"{key}.csv)", str(path))
        if not re.fullmatch(r"[0-9]{4}Q[1-4]", str(meta["table_quarter"]).strip()):
            # The quarter is printed on every finding the table decides (and compared with the claims'
            # dates): "garbage" would be reported as the table's quarter.
            raise InputError(f"[{key}] table_quarter must be a year and quarter such as 2026Q3 "
                             f"(got {meta['table_quarter']!r})", str(path))
        if "file" in meta and str(meta["file"]).strip() != f"{key}.csv":
            # The table is read from {key}.csv whatever the entry says: another name was passed over.
            raise InputError(f"[{key}] file = {meta['file']!r}: the table of [{key}] is read from {key}.csv "
                             "(leave 'file' out, or name that file)", str(path))
        if "effective_from" in meta and not isinstance(meta["effective_from"], dt.date):
            raise InputError(f"[{key}] effective_from must be a TOML date such as 2026-07-01 (got "
                             f"{meta['effective_from']!r})", str(path))
        entries[key] = {"source": str(meta.get("source", meta["release"])), **meta,
                        "file": f"{key}.csv", "override": str(root / f"{key}.csv")}
    return entries


# What a replacement table's MANIFEST entry may say (the shipped MANIFEST's keys for these tables).
_OVERRIDE_KEYS = ("release", "table_quarter", "source", "effective_from", "title", "file")


def _refuse_unread(root: Path, doc: dict[str, Any], present: list[str], manifest_path: str) -> None:
    """Everything in the override directory that would be passed over unread is an error: a user who
    put it there believes it replaces a table (a misspelled ``mue_outpatien.csv`` left the shipped table
    in force; an ``[ncci_ptp]`` entry without its file, or a misspelled key, changed nothing)."""
    known = ", ".join(f"{k}.csv" for k in EDIT_TABLES)
    # (any case of .csv: "mue_practitioner.CSV" was passed over without a word, probe 17B; the tables
    # are read by their lower-case names only)
    for other in sorted(p.name for p in root.iterdir()
                        if p.suffix.lower() == ".csv" and not (p.suffix == ".csv" and p.stem in EDIT_TABLES)):
        near = difflib.get_close_matches(other, [f"{k}.csv" for k in EDIT_TABLES], n=1)
        hint = f"; did you mean {near[0]}?" if near else f" (the tables it replaces: {known})"
        raise InputError(f"{REFERENCE_DIR_ENV}: {other} is no table this product reads{hint}", str(root / other))
    for key, meta in doc.items():
        if key not in EDIT_TABLES:
            near = difflib.get_close_matches(key, EDIT_TABLES, n=1)
            hint = f"; did you mean [{near[0]}]?" if near else f" (known: {', '.join(EDIT_TABLES)})"
            raise InputError(f"unknown entry [{key}]{hint}", manifest_path)
        if key not in present:
            raise InputError(f"[{key}] describes {key}.csv, which is not in the directory", manifest_path)
        unknown = sorted(set(meta) - set(_OVERRIDE_KEYS)) if isinstance(meta, dict) else []
        if unknown:
            near = difflib.get_close_matches(unknown[0], _OVERRIDE_KEYS, n=1)
            hint = f"; did you mean '{near[0]}'?" if near else f" (allowed: {', '.join(_OVERRIDE_KEYS)})"
            raise InputError(f"[{key}] unknown key '{unknown[0]}'{hint}", manifest_path)


def edit_table_meta(key: str) -> dict[str, Any]:
    """MANIFEST entry of a CMS edit table (``mue_practitioner``, ``mue_outpatient``, ``ncci_ptp``):
    the shipped one, or the override directory's when it replaces that table."""
    directory = reference_dir()
    if directory is not None:
        replaced = _override_manifest(directory)
        if key in replaced:
            return replaced[key]
    return manifest()[key]


def _edit_table_bytes(key: str) -> tuple[bytes, str]:
    meta = edit_table_meta(key)
    if meta.get("override"):
        return Path(meta["override"]).read_bytes(), meta["override"]
    return _bytes(meta["file"]), meta["file"]


def _read_edit_table(key: str) -> tuple[pl.DataFrame, str]:
    data, origin = _edit_table_bytes(key)
    try:
        frame = pl.read_csv(io.BytesIO(data), infer_schema=False)
    except pl.exceptions.PolarsError as exc:
        raise InputError(f"cannot read the table ({str(exc).splitlines()[0]})", origin) from None
    missing = [c for c in _EDIT_COLUMNS[key] if c not in frame.columns]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)} (expected {', '.join(_EDIT_COLUMNS[key])})",
                         origin)
    return frame.with_columns(pl.col(pl.String).str.strip_chars()), origin


def _bad_rows(frame: pl.DataFrame, ok: pl.Expr, what: str, origin: str) -> None:
    bad = frame.with_row_index("_row", offset=2).filter(~ok.fill_null(False))
    if bad.height:
        raise InputError(f"row {bad.item(0, '_row')}: {what}", origin)


@cache
def _mue_table(key: str, directory: str | None) -> pl.DataFrame:
    frame, origin = _read_edit_table(key)
    typed = frame.select(
        pl.col("code").str.to_uppercase(),
        pl.col("mue").cast(pl.Int64, strict=False),
        pl.col("mai").cast(pl.Int8, strict=False),
        pl.col("rationale"),
    )
    _bad_rows(typed, pl.col("code").str.contains(r"^[A-Z0-9]{5}$"), "code must be a 5-character HCPCS/CPT code",
              origin)
    _bad_rows(typed, pl.col("mue") >= 0, "mue must be a whole number >= 0", origin)
    _bad_rows(typed, pl.col("mai").is_in([1, 2, 3]), "mai must be 1, 2 or 3", origin)
    _bad_rows(typed, ~pl.col("code").is_duplicated(), "code listed twice", origin)
    return typed


def mue_table(setting: str) -> pl.DataFrame:
    """The MUE table of a setting (``practitioner`` for professional claims, ``outpatient`` for
    institutional): ``code``, ``mue`` (units), ``mai`` (1 claim line, 2 date of service by policy,
    3 date of service by clinical benchmark), ``rationale``."""
    return _mue_table(MUE_SETTINGS[setting], reference_dir())


@cache
def _ncci_pairs(directory: str | None) -> pl.DataFrame:
    frame, origin = _read_edit_table("ncci_ptp")
    typed = frame.select(
        pl.col("column1").str.to_uppercase(),
        pl.col("column2").str.to_uppercase(),
        pl.col("modifier_indicator").cast(pl.Int8, strict=False),
        pl.col("effective_from").str.to_date("%Y-%m-%d", strict=False).alias("effective_from"),
        pl.col("effective_to").str.to_date("%Y-%m-%d", strict=False).alias("effective_to"),
        pl.col("setting").str.to_lowercase(),
        pl.col("effective_from").alias("_from_text"),
        pl.col("effective_to").alias("_to_text"),
    )
    code = r"^[A-Z0-9]{5}$"
    _bad_rows(typed, pl.col("column1").str.contains(code) & pl.col("column2").str.contains(code),
              "column1 and column2 must be 5-character HCPCS/CPT codes", origin)
    _bad_rows(typed, pl.col("modifier_indicator").is_in([0, 1, 9]), "modifier_indicator must be 0, 1 or 9", origin)
    _bad_rows(typed, pl.col("setting").is_in(list(PTP_SETTINGS)),
              f"setting must be one of {', '.join(PTP_SETTINGS)}", origin)
    for column in ("effective_from", "effective_to"):
        _bad_rows(typed, pl.col(f"_{column.split('_')[1]}_text").is_null() | pl.col(column).is_not_null(),
                  f"{column} must be a date YYYY-MM-DD or empty", origin)
    return typed.drop("_from_text", "_to_text")


def ncci_pairs() -> pl.DataFrame:
    """NCCI procedure-to-procedure pairs: ``column1``, ``column2``, ``modifier_indicator`` (0 never
    together, 1 allowed with a modifier, 9 not applicable), ``effective_from`` / ``effective_to``
    (dates of service; null = open), ``setting`` (practitioner, outpatient or both)."""
    return _ncci_pairs(reference_dir())


def ncci_rules() -> dict[str, Any]:
    """How indicator 1 pairs are bypassed: ``either_line_from`` (date from which the column 1 line's
    modifier counts too) and ``em_codes`` (the inclusive range of E/M codes)."""
    return manifest()["ncci_rules"]


@cache
def _minutes_range() -> tuple[str, str]:
    low, high = manifest()["unit_basis"]["minutes_codes"]
    return str(low), str(high)


def minutes_basis() -> str:
    """The X12 unit basis qualifier that reports a quantity in minutes (MANIFEST ``unit_basis``)."""
    return str(manifest()["unit_basis"]["minutes_basis"])


def correction_frequencies() -> list[str]:
    """Claim frequency codes (CLM05-3) of a claim that corrects an earlier one: a replacement or a void
    (MANIFEST ``claim_frequency``)."""
    return [str(c) for c in manifest()["claim_frequency"]["corrections"]]


def original_frequency() -> str:
    """The claim frequency code (CLM05-3) of an original claim (MANIFEST ``claim_frequency`` ``original``):
    what a blank one reads as where two copies of a line are compared."""
    return str(manifest()["claim_frequency"]["original"])


def void_frequencies() -> list[str]:
    """Claim frequency codes (CLM05-3) of a void/cancel of a prior claim (MANIFEST ``claim_frequency``
    ``voids``): its lines are read and counted, never scrubbed."""
    return [str(c) for c in manifest()["claim_frequency"]["voids"]]


def drug_code_prefixes() -> list[str]:
    """HCPCS prefixes of drug codes (MANIFEST ``drug_codes``): a drug line outside the immune globulin
    table is counted as not checked for units and JW/JZ (summary ``drug_lines_not_checked``)."""
    return [str(p) for p in manifest()["drug_codes"]["prefixes"]]


def observation_codes() -> tuple[list[str], list[str]]:
    """HCPCS codes and revenue codes of hospital observation (MANIFEST ``observation``): a hospital claim
    billing one keeps its consecutive dates one encounter (IOM 100-04 ch.4 section 230.2(B))."""
    section = manifest()["observation"]
    return [str(c) for c in section["codes"]], [str(c) for c in section["revenue_codes"]]


def external_infusion_pump_codes() -> list[str]:
    """External infusion pump and supply codes (MANIFEST ``external_infusion_pump``) whose lines need
    the KX/GA/GZ/GY of the home SC immune globulin billed on their claim."""
    return [str(c) for c in manifest()["external_infusion_pump"]["codes"]]


def dme_jb_codes() -> tuple[list[str], list[str]]:
    """The home SC immune globulin codes and the pump codes that carry JB when the drug is given
    subcutaneously (MANIFEST ``dme_jb``: A52507; Noridian JD DME)."""
    entry = manifest()["dme_jb"]
    return [str(c) for c in entry["drugs"]], [str(c) for c in entry["pumps"]]


def observation_hourly_codes() -> list[str]:
    """Observation codes billed per hour (MANIFEST ``observation.hourly_codes``: G0378), whose units say
    how many calendar days the stay can span."""
    return [str(c) for c in manifest()["observation"]["hourly_codes"]]


def observation_hourly_revenue_codes() -> list[str]:
    """Observation revenue codes whose lines report hours when they carry no HCPCS of their own
    (MANIFEST ``observation.hourly_revenue_codes``: 0762 x40 on a commercial UB-04)."""
    return [str(c) for c in manifest()["observation"].get("hourly_revenue_codes", [])]


def minutes_allowed(code: str) -> bool:
    """Whether a line of ``code`` may report its quantity in minutes (MANIFEST ``unit_basis``: the
    anesthesia time range ``minutes_codes``); one X12 service line at a time, not a column."""
    low, high = _minutes_range()
    return len(code) == 5 and code.isdigit() and low <= code <= high


def is_em(code: pl.Expr) -> pl.Expr:
    """True where ``code`` is an Evaluation and Management code (MANIFEST ``ncci_rules.em_codes``) or a
    HCPCS visit code reported as one (``ncci_rules.em_hcpcs``: G0463, the hospital clinic visit; probe
    28B D1: its pairs with drug administration were not shipped, and G0463 without 25 passed)."""
    low, high = ncci_rules()["em_codes"]
    visits = pl.Series([str(c) for c in ncci_rules().get("em_hcpcs", [])], dtype=pl.String)
    return ((code >= pl.lit(low)) & (code <= pl.lit(high)) & code.str.contains(r"^[0-9]{5}$")) | code.is_in(
        visits.implode())


def by_code_idx(codes: pl.Series, values: pl.Series) -> pl.Series:
    """``values`` (keyed by ``codes``) aligned with the rows of :func:`code_table`, null where a code
    has no value: gathered by a line's ``code_idx`` this is a lookup with no join or string hash."""
    known = code_table().get_column("procedure_code")
    mapping = pl.DataFrame({"procedure_code": codes, "_v": values})
    return pl.DataFrame({"procedure_code": known}).join(mapping, on="procedure_code", how="left",
                                                        maintain_order="left").get_column("_v")
