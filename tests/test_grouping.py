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


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 12), st.booleans(), st.booleans()), min_size=1,
                max_size=30, unique_by=lambda r: (r[0], r[1])))
def test_encounter_keys_are_the_same_on_both_paths(rows: list[tuple[int, int, bool, bool]]) -> None:
    """The encounter key of claim-and-date rows (scrubber.enrich._encounter_numbers) is the same
    partition whether the rows come in claim-and-date order (the fast path) or not: institutional
    claims split into visits where a whole calendar day has no service, professional rows by member,
    date, provider and layer. (A claim is institutional or not as a whole: its first row decides.)"""
    import datetime as dt

    from scrubber.enrich import _encounter_numbers

    kind = {}
    for claim, _, inst, _ in rows:
        kind.setdefault(claim, inst)
    frame = pl.DataFrame({
        "_claim": [r[0] for r in rows],
        "_inst": [kind[r[0]] for r in rows],
        "_corr": [r[3] and not kind[r[0]] for r in rows],
        "cob_layer": pl.Series([0] * len(rows), dtype=pl.UInt8),
        "member_id": [f"M{r[0] % 2}" for r in rows],
        "date_of_service": [dt.date(2026, 3, 1) + dt.timedelta(days=r[1]) for r in rows],
        "billing_provider": ["P"] * len(rows),
        # Whether a date continues the day before's visit (enrich._continues): varied per claim and date.
        "_cont": [(r[0] + r[1]) % 3 != 0 for r in rows],
        # Whether the date lies inside an observation stay begun earlier on the claim: varied too.
        "_stay": [(r[0] * 7 + r[1]) % 5 == 0 for r in rows],
    }).with_columns(pl.col("_claim").cast(pl.UInt32))
    ordered = frame.sort("_claim", "date_of_service")
    fast = ordered.with_columns(_encounter_numbers(ordered, in_claim_date_order=True).alias("k"))
    slow = ordered.with_columns(_encounter_numbers(ordered, in_claim_date_order=False).alias("k"))

    def partition(keys: pl.DataFrame) -> set[frozenset[tuple[int, dt.date]]]:
        return {frozenset(zip(g["_claim"], g["date_of_service"], strict=True))
                for g in keys.partition_by("k", as_dict=False)}

    assert partition(fast) == partition(slow)
    # Institutional rows of one claim share a key exactly when no date between them lacks a service
    # and the later date continues the earlier one's visit (or is the same date), or the later date
    # lies inside an observation stay begun earlier (whatever the gap).
    for claim in ordered.filter("_inst").get_column("_claim").unique():
        mine = fast.filter(pl.col("_claim") == claim).sort("date_of_service")
        dates, keys, cont, stay = (mine.get_column(c).to_list() for c in ("date_of_service", "k", "_cont", "_stay"))
        for i in range(1, len(dates)):
            gap = (dates[i] - dates[i - 1]).days
            assert (keys[i] == keys[i - 1]) == (gap == 0 or stay[i] or (gap == 1 and cont[i]))
