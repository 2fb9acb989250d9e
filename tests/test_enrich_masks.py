"""The claim-and-date code masks are ORed per run by doubling for short runs and by a group-by for runs
longer than ``enrich._DOUBLING_UP_TO`` rows (scrubber.enrich._or_per_run). Both paths must give what a
``bitwise_or`` window per run gives, on every row, including runs without any bit (0)."""

from __future__ import annotations

import random

import polars as pl
import pytest

from scrubber import enrich


def _runs(rng: random.Random, lengths: list[int]) -> tuple[pl.Series, pl.DataFrame]:
    """Run ids of every line (sorted, dense) and the rows with a bit set (in run order, with their run)."""
    group = pl.Series("_g", [run for run, length in enumerate(lengths) for _ in range(length)], dtype=pl.UInt32)
    bits = pl.Series("mask", [rng.choice([0, 0, 1, 2, 4, 8, 1 << 40]) for _ in range(group.len())], dtype=pl.UInt64)
    rows = pl.DataFrame([bits, group]).filter(pl.col("mask") != 0)
    return group, rows


def _expected(group: pl.Series, rows: pl.DataFrame) -> list[int]:
    per_run: dict[int, int] = {}
    for mask, run in rows.iter_rows():
        per_run[run] = per_run.get(run, 0) | mask
    return [per_run.get(run, 0) for run in group.to_list()]


@pytest.mark.parametrize("longest", [1, 2, 3, enrich._DOUBLING_UP_TO, enrich._DOUBLING_UP_TO + 1, 40])
def test_or_per_run_matches_a_window_on_every_row(longest: int) -> None:
    rng = random.Random(longest)
    lengths = [rng.randint(1, longest) for _ in range(300)] + [longest]
    group, rows = _runs(rng, lengths)
    got = enrich._or_per_run(rows, group, len(lengths))
    assert got.to_list() == _expected(group, rows)
    window = pl.DataFrame([group]).join(rows.group_by("_g").agg(pl.col("mask").bitwise_or()), on="_g", how="left",
                                        maintain_order="left").get_column("mask").fill_null(0)
    assert got.to_list() == window.to_list()


def test_no_row_with_a_bit_gives_zeros() -> None:
    group = pl.Series("_g", [0, 0, 1, 2, 2, 2], dtype=pl.UInt32)
    rows = pl.DataFrame({"mask": pl.Series([], dtype=pl.UInt64), "_g": pl.Series([], dtype=pl.UInt32)})
    assert enrich._or_per_run(rows, group, 3).to_list() == [0] * 6
