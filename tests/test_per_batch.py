"""A decision two checks share is computed once per batch (:mod:`scrubber.per_batch`).

units-over-mue decides which lines an MUE deletes whole, and unit-miscalculation judges the hours
without them: one decision, asked by both. Computing it twice cost the full run a second MUE pass.
"""

from __future__ import annotations

import gc
import threading

import polars as pl
from test_reads_timing import enriched  # noqa: F401  (the sample claims, enriched)

import checks.units_over_mue as mue
from checks import all_checks
from scrubber import engine
from scrubber.per_batch import once_per_batch
from scrubber.policy import PolicySet


def test_the_mue_decision_is_made_once_for_both_checks(enriched, monkeypatch) -> None:  # noqa: F811
    calls: list[pl.LazyFrame] = []
    over = mue._over

    def counted(lines: pl.LazyFrame) -> pl.DataFrame:
        calls.append(lines)
        return over(lines)

    monkeypatch.setattr(mue, "_over", counted)
    mue._decided.cache_clear()
    wanted = {"units-over-mue", "unit-miscalculation"}
    checks = [c for c in all_checks() if c.id in wanted]
    found = engine._run_checks(enriched, checks, engine.build_context(PolicySet.load()))
    assert len(calls) == 1
    assert set(found[0].get_column("check_id")) == wanted  # (both checks report on the sample)


def test_a_batch_gets_its_own_result_and_concurrent_callers_wait_for_one() -> None:
    computed: list[int] = []

    @once_per_batch
    def height(lines: pl.LazyFrame) -> int:
        computed.append(1)
        return lines.select(pl.len()).collect().item()

    first, second = pl.LazyFrame({"a": [1, 2]}), pl.LazyFrame({"a": [1]})
    got: list[int] = []
    threads = [threading.Thread(target=lambda f=first: got.append(height(f))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert got == [2, 2, 2, 2] and len(computed) == 1
    assert height(second) == 1 and height(first) == 2 and len(computed) == 2
    # (held weakly: a batch gone is let go, and a new frame is never handed an old result)
    del threads, first
    gc.collect()
    assert height(pl.LazyFrame({"a": [1, 2, 3]})) == 3 and len(computed) == 3
