"""A line's reason as the first of several rules that applies, decided cheaply and named late.

Two checks (route-mismatch, missing-modifier) test each candidate line against rules in order of
precedence, where a line gets the first that applies. Naming the reason with text on every
candidate costs more than the decision (hundreds of thousands of immune globulin lines), so the
decision is a small integer (:func:`first_rule`), the candidates are filtered on it, and only the
flagged lines get the rule's name or other values (:func:`rule_value`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl


def first_rule(conditions: Sequence[pl.Expr]) -> pl.Expr:
    """The number (UInt8, from 0, in ``conditions``' order) of the first condition that holds; null
    where none does (a null condition does not hold)."""
    rule: pl.Expr = pl.lit(None, pl.UInt8)
    for number, condition in reversed(list(enumerate(conditions))):
        rule = pl.when(condition).then(pl.lit(number, pl.UInt8)).otherwise(rule)
    return rule


def rule_value(rule: pl.Expr, values: Sequence[Any], dtype: pl.DataType) -> pl.Expr:
    """The value ``values`` gives the rule numbered by ``rule`` (:func:`first_rule`): its reason, or
    another fact of it (the codes it conflicts with)."""
    numbers = pl.Series(range(len(values)), dtype=pl.UInt8)
    return rule.replace_strict(numbers, pl.Series(values, dtype=dtype), return_dtype=dtype)
