"""scrubber.timing sorts its timed lines into their groups (chain and encounter) with
``_in_group_order``, which leaves rows alone when they already come one per group in increasing
order (the usual case, and the reason it is fast). Property: on random encounters, in random line
order, the time facts are the same as when every call sorts in full."""

from __future__ import annotations

import random
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from scrubber import timing as tm
from scrubber.canonical import canonicalise
from scrubber.enrich import enrich
from scrubber.grouping import sorted_distinct
from scrubber.loaders import load_inputs
from scrubber.policy import PolicySet

HEADER = "claim_id,line_number,member_id,payer,claim_type,place_of_service,date_of_service,procedure_code,units," \
         "charge,infusion_start,infusion_stop,observation_minutes"
CODES = ("96365", "96366", "96367", "96360", "96361", "96413", "96415", "96369", "96370", "96374", "J1569")


def _full_sort(rows: pl.DataFrame, *ties: str, ties_of: Callable[[pl.Series], pl.DataFrame] | None = None
               ) -> tuple[pl.DataFrame, bool]:
    """``_in_group_order`` without its shortcut: always the sort, as its slow path does it."""
    if ties_of is not None:
        rows = rows.hstack(ties_of(rows.get_column("_pos")))
    rows = rows.sort("_g", *ties)
    return rows.with_columns(pl.col("_g").set_sorted()), sorted_distinct(rows.get_column("_g"))


def _rows(seed: int) -> list[str]:
    """Claims of one to four timed (or untimed) lines, one date each, lines in file order or shuffled."""
    rnd = random.Random(seed)
    rows = []
    for c in range(rnd.randint(1, 6)):
        day = f"2026-03-{rnd.randint(1, 3):02d}"
        for n in range(1, rnd.randint(1, 4) + 1):
            start = rnd.randint(6 * 60, 20 * 60)
            length = rnd.choice((10, 20, 31, 45, 60, 61, 90, 91, 120, 150, 200))
            timed = rnd.random() < 0.8
            times = (f"{day}T{start // 60:02d}:{start % 60:02d}", f"{day}T{(start + length) // 60 % 24:02d}:"
                     f"{(start + length) % 60:02d}") if timed else ("", "")
            obs = str(rnd.choice((15, 30))) if rnd.random() < 0.1 else ""
            kind = "institutional" if rnd.random() < 0.2 else "professional"
            rows.append(f"C{c},{n},M{c % 3},AETNA,{kind},11,{day},{rnd.choice(CODES)},{rnd.randint(1, 3)},100,"
                        f"{times[0]},{times[1]},{obs}")
    if rnd.random() < 0.4:
        rnd.shuffle(rows)
    return rows


def _time_facts(lines: pl.DataFrame) -> dict[str, pl.DataFrame]:
    tm._cached.cache_clear()
    t = tm.timing(lines.lazy())
    return {"lines": t.named(t.lines).sort("row_id").collect(), "episodes": t.episodes.collect(),
            "groups": t.groups.sort("enc_key", "tm_chain").collect()}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1))
def test_the_shortcut_gives_what_sorting_in_full_gives(seed: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "claims.csv"
        path.write_text("\n".join([HEADER, *_rows(seed)]) + "\n", encoding="utf-8")
        canon = canonicalise(load_inputs([str(path)]).collect())
    lines = enrich(canon.lines, PolicySet.load(), canon.rejected_lines)
    fast = _time_facts(lines)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(tm, "_in_group_order", _full_sort)
        full = _time_facts(lines)
    for name in ("lines", "episodes", "groups"):
        assert_frame_equal(fast[name], full[name], check_column_order=False)


def test_the_shortcut_is_taken_and_left(monkeypatch) -> None:
    """Both paths of ``_in_group_order`` run on these claims (a test that only ever took one would
    compare nothing)."""
    taken: list[bool] = []
    real = tm._in_group_order

    def spy(rows: pl.DataFrame, *ties: str, **kw: Any) -> tuple[pl.DataFrame, bool]:
        taken.append(not rows.get_column("_g").null_count() and sorted_distinct(rows.get_column("_g")))
        return real(rows, *ties, **kw)

    monkeypatch.setattr(tm, "_in_group_order", spy)
    for seed in range(12):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "claims.csv"
            path.write_text("\n".join([HEADER, *_rows(seed)]) + "\n", encoding="utf-8")
            canon = canonicalise(load_inputs([str(path)]).collect())
        _time_facts(enrich(canon.lines, PolicySet.load(), canon.rejected_lines))
    assert set(taken) == {True, False}
