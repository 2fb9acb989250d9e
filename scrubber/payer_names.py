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


def _script(ch: str) -> str:
    """The script of a letter as its Unicode name begins (LATIN, CYRILLIC, GREEK...)."""
    return unicodedata.name(ch, "UNKNOWN").split(" ")[0]


def odd_characters(payer: str) -> str | None:
    """What in a payer name is no plain text of one script, in words (``U+200B ZERO WIDTH SPACE``;
    ``U+0415 CYRILLIC CAPITAL LETTER IE among LATIN letters``), or ``None``: a format character (zero
    width, a direction mark) or letters of two scripts make a name that looks like a policy's payer
    and matches none of them, so the claim silently took another policy (probe 27C D5: MEDICARE with a
    Cyrillic E was scrubbed under DEFAULT). Accents of one script (SANTÉ) are plain text."""
    key = payer_key(payer)
    # (a control character inside the name, which the key reads as a space: "MEDI\x1fCARE" took DEFAULT
    # without a word, probe 28C D8)
    controls = [ch for ch in payer.strip() if unicodedata.category(ch) == "Cc"]
    hidden = [ch for ch in key if unicodedata.category(ch) in ("Cf", "Co", "Cn")]
    if hidden or controls:
        return ", ".join(dict.fromkeys(f"U+{ord(ch):04X} {unicodedata.name(ch, 'CONTROL CHARACTER')}"
                                       for ch in (*controls, *hidden)))
    scripts = [_script(ch) for ch in key if ch.isalpha()]
    if len(set(scripts)) < 2:
        return None
    main = max(set(scripts), key=scripts.count)
    others = [ch for ch in key if ch.isalpha() and _script(ch) != main]
    return ", ".join(dict.fromkeys(f"U+{ord(ch):04X} {unicodedata.name(ch, 'UNNAMED')}" for ch in others)) \
        + f" among {main} letters"
