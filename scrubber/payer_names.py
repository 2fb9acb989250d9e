"""One definition of "the same payer": how policies, claim-level agreement and next-payer copies read a
payer name.

A payer name is typed by people and exports: ``Blue Cross``, ``BLUE  CROSS`` (two spaces), ``SANTÉ``
written with a combining accent (NFD) or in full-width letters. Policies matched them as one payer
while copy detection and the claim-level agreement compared the text as written, so an exact duplicate
claim with a second space in its payer became a "next-payer copy" and its duplicate initial service
passed. Every comparison goes through :func:`payer_key`.
"""

from __future__ import annotations

import unicodedata

import polars as pl


def payer_key(payer: str | None) -> str:
    """A payer name as policies match it: Unicode-compatibility normalised (NFKC: composed accents,
    full-width letters as ASCII), trimmed, upper case, runs of whitespace as one space."""
    return " ".join(unicodedata.normalize("NFKC", payer or "").split()).upper()


def payer_keys(column: str, distinct: pl.Series) -> pl.Expr:
    """``column`` as :func:`payer_key` reads it, mapped per distinct name (``distinct``: every value the
    column holds, or more): a handful of names in millions of lines, never a Python call per line. The
    column as it is when every name is its own key already (the usual export)."""
    names = distinct.drop_nulls().unique()
    keys = pl.Series([payer_key(n) for n in names.to_list()], dtype=pl.String)
    if bool((keys == names).all()):
        return pl.col(column)
    return pl.col(column).replace_strict(names, keys, default=None)
