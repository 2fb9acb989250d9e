"""scrubber.grouping's shortcuts against the plain definitions, on random id columns: in file
order or not, repeated. A claim is a group of equal ids; its lines need not be contiguous in the
file, and the shortcuts (run heads in increasing order) must never change a count or an order.
Checked lines always have a claim id (canonicalise rejects a line without one, and its claim-level
pass leaves such rows out before grouping), so the ids here are never null."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from scrubber.engine import _claims
from scrubber.grouping import claim_order, run_heads, shared_keys

ids = st.lists(st.sampled_from(["C1", "C2", "C3", "C10", "C9", "Ç", ""]), max_size=40)


def _contiguous(values: list[str]) -> bool:
    seen: set[str] = set()
    for i, v in enumerate(values):
        if v in seen and values[i - 1] != v:
            return False
        seen.add(v)
    return True


@settings(max_examples=300, deadline=None)
@given(ids, st.booleans())
def test_distinct_claims_and_their_order(values: list[str], in_order: bool) -> None:
    if in_order:  # exports usually write claims in increasing order
        values = sorted(values)
    s = pl.Series("claim_id", values, dtype=pl.String)
    assert _claims(s) == s.n_unique()
    heads, distinct = run_heads(s)
    if distinct:  # the shortcut's promise
        assert heads.n_unique() == heads.len()
    order = claim_order(s)
    if _contiguous(values):
        assert order is None
    else:
        assert order is not None
        ordered = s.gather(order).to_list()
        assert _contiguous(ordered) and sorted(order.to_list()) == list(range(len(values)))
        for v in set(values):  # each claim's lines keep their file order
            assert [i for i in order.to_list() if values[i] == v] == [i for i, x in enumerate(values) if x == v]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 12), max_size=50))
def test_shared_keys_are_the_values_that_repeat(values: list[int]) -> None:
    keys = pl.Series(values, dtype=pl.UInt64)
    assert set(shared_keys(keys).to_list()) == {v for v in values if values.count(v) > 1}
