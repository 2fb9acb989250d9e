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
    """One row per 963xx administration code, with ``allowed_primaries`` as a list."""
    frame = _csv(
        manifest()["admin_codes"]["file"],
        {
            "code": pl.String(),
            "family": pl.String(),
            "role": pl.String(),
            "time_based": pl.String(),
            "route_class": pl.String(),
            "allowed_primaries": pl.String(),
            "initial_rank": pl.Int64(),
            "min_minutes": pl.Int64(),
            "addon_hour_code": pl.String(),
            "subsequent_code": pl.String(),
        },
    )
    return frame.with_columns(
        pl.col("time_based") == "true",
        pl.col("allowed_primaries").fill_null("").str.split(" ").list.eval(pl.element().filter(pl.element() != "")),
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
def covered_diagnoses() -> pl.DataFrame:
    """(list_id, code) with codes undotted, as claims carry them after normalisation."""
    frame = _csv(manifest()["covered_diagnoses"]["file"], {"list_id": pl.String(), "code": pl.String()})
    return frame.select("list_id", pl.col("code").str.replace_all(".", "", literal=True).alias("code"))


@cache
def icd10_releases() -> pl.DataFrame:
    """The ICD-10-CM releases shipped, with the dates of service each applies to."""
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
def icd10_billable() -> pl.DataFrame:
    """(release_key, code): every billable ICD-10-CM code of every shipped release, undotted."""
    frames = []
    for key, file in icd10_releases().select("release_key", "file").iter_rows():
        codes = gzip.decompress(_bytes(file)).decode("ascii").split()
        frames.append(pl.DataFrame({"release_key": key, "code": codes}))
    return pl.concat(frames)


def icd10_release_for(date_col: str = "date_of_service") -> pl.Expr:
    """Release key for each date: the release in force, else the nearest one shipped.

    Dates before the first release use the first; dates after the last use the last (a newer
    release is not shipped yet). The report says when that happened.
    """
    releases = icd10_releases()
    keys = releases.get_column("release_key").to_list()
    starts = releases.get_column("effective_from").to_list()
    expr: pl.Expr = pl.lit(keys[0])
    for key, start in zip(keys[1:], starts[1:], strict=True):
        expr = pl.when(pl.col(date_col) >= pl.lit(start)).then(pl.lit(key)).otherwise(expr)
    return expr


def icd10_coverage_window() -> tuple[dt.date, dt.date]:
    releases = icd10_releases()
    return releases.get_column("effective_from").min(), releases.get_column("effective_to").max()  # type: ignore[return-value]


def releases_summary() -> list[dict[str, str]]:
    """Reference data releases, for the report's provenance footer."""
    m = manifest()
    out = []
    for key in ("admin_codes", "immune_globulins", "covered_diagnoses"):
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
