"""Versioned reference tables shipped in ``scrubber/data`` (see its MANIFEST.toml).

Every coding fact a check relies on (which codes are add-ons and their primaries, IG billing
units and routes, covered diagnoses, billable ICD-10-CM codes) is read from here, so a code-table
update is a data change with a source and dates, not a code change. Tables load on first use and
are cached; the ICD-10-CM tables (~150k codes) load only when a check asks for them.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import tomllib
from functools import cache
from importlib import resources
from typing import Any

import polars as pl

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
        },
    )
    return frame.with_columns(
        pl.col("time_based") == "true",
        (pl.col("secondary_when_initial_absent") == "true").fill_null(False),
        pl.col("allowed_primaries").fill_null("").str.split(" ").list.eval(pl.element().filter(pl.element() != "")),
        pl.col("documented_routes").str.split(" "),
    )


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
    adm_rows = adm.select(
        pl.col("code").alias("procedure_code"),
        *[pl.col(c).alias(f"adm_{c}") for c in adm.columns if c not in ("code", "source", "allowed_primaries")],
        pl.col("allowed_primaries").list.join(" or ").alias("adm_primaries_text"),
        pl.col("family").rank("dense").cast(pl.UInt8).alias("adm_family_idx"),
        pl.Series([bit[c] for c in codes], dtype=pl.UInt64()).alias("adm_bit"),
        pl.Series([primary_mask[c] for c in codes], dtype=pl.UInt64()).alias("adm_primary_mask"),
        # The primaries the line's subsequent code accepts: whether it can follow a given initial.
        pl.Series([primary_mask.get(s or "", 0) for s in adm.get_column("subsequent_code")],
                  dtype=pl.UInt64()).alias("adm_subsequent_primary_mask"),
        pl.Series([bit.get(initial_of.get(c, ""), 0) for c in codes], dtype=pl.UInt64()).alias(
            "adm_family_initial_bit"),
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
    """True where the date of service is in no shipped ICD-10-CM release (validity not evaluated)."""
    return icd10_release_index(date_col).is_null()


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


def releases_summary() -> list[dict[str, str]]:
    """Reference data releases, for the report's provenance footer."""
    m = manifest()
    out = []
    for key in ("admin_codes", "immune_globulins", "modifiers", "covered_diagnoses"):
        out.append({"table": key, "release": m[key]["release"], "source": m[key]["source"]})
    for key, meta in m["icd10cm"].items():
        out.append({"table": f"icd10cm.{key}", "release": meta["release"], "source": meta["source"]})
    return out


def admin_codes_where(**criteria: str) -> list[str]:
    """Administration codes whose columns equal the given values, e.g. ``family="push"``."""
    frame = admin_codes()
    for column, value in criteria.items():
        frame = frame.filter(pl.col(column) == value)
    return frame.get_column("code").sort().to_list()
