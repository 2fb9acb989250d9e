"""Building finding text (messages, fixes, appeal language) as Polars expressions.

Text is built from a template and the claim's facts, deterministically and without a Python loop
per finding. A fact that is missing shows as a visible placeholder such as ``[dose mg?]``, never
as an empty string and never as a guess.
"""

from __future__ import annotations

import re

import polars as pl

_FIELD = re.compile(r"\{([a-z_0-9]+)\}")


def number(expr: pl.Expr) -> pl.Expr:
    """A number as a person writes it: 70 not 70.0, 2.5 not 2.500."""
    whole = expr.round(0) == expr
    return (
        pl.when(whole)
        .then(expr.cast(pl.Int64, strict=False).cast(pl.String))
        .otherwise(expr.round(2).cast(pl.String))
    )


def dotted(expr: pl.Expr) -> pl.Expr:
    """ICD-10-CM code with its dot restored (D800 -> D80.0) for people to read; a value that kept a dot
    (a malformed one, "D8.00", :func:`scrubber.canonical.diagnosis_value`) is shown as written, not
    "D8..00" (probe 28D D2)."""
    return pl.when((expr.str.len_chars() > 3) & ~expr.str.contains(".", literal=True)).then(
        expr.str.slice(0, 3) + "." + expr.str.slice(3)).otherwise(expr)


def fill(template: str, **facts: pl.Expr) -> pl.Expr:
    """Expression rendering ``template`` with ``{name}`` replaced by each fact (as text).

    A null fact renders as ``[name?]`` so an appeal letter never silently drops a fact.
    """
    parts: list[pl.Expr] = []
    pos = 0
    for match in _FIELD.finditer(template):
        if match.start() > pos:
            parts.append(pl.lit(template[pos : match.start()]))
        name = match.group(1)
        if name not in facts:
            raise KeyError(f"template field {{{name}}} has no fact")
        fact = facts[name]
        parts.append(fact.cast(pl.String).fill_null(pl.lit(f"[{name.replace('_', ' ')}?]")))
        pos = match.end()
    if pos < len(template):
        parts.append(pl.lit(template[pos:]))
    return pl.concat_str(parts) if parts else pl.lit("")
