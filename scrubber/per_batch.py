"""Facts several checks decide with, computed once per batch.

A check is a pure function of the enriched lines, and two checks may need the same decision: the
lines an MUE deletes whole are units-over-mue's to report and what unit-miscalculation judges the
hours without (one decision, one place). Each computes it from the lines; :func:`once_per_batch`
makes the second ask the first one's result, as :func:`scrubber.timing.timing` does for the time
facts, so running both costs one computation, and each still runs alone (``--select``).
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Callable
from typing import TypeVar

import polars as pl

T = TypeVar("T")

_KEPT = 2  # a batch, and room for one more (a test's, a partition's) without recomputing the first


def once_per_batch(compute: Callable[[pl.LazyFrame], T]) -> Callable[[pl.LazyFrame], T]:
    """``compute(lines)``, the same result for the same ``lines`` object (by identity, held weakly:
    the entry goes with the batch). Thread-safe: a second caller waits for the first one's result."""
    kept: list[tuple[weakref.ref, T]] = []
    lock = threading.RLock()

    @functools.wraps(compute)
    def cached(lines: pl.LazyFrame) -> T:
        with lock:
            kept[:] = [(ref, value) for ref, value in kept if ref() is not None]
            for i, (ref, value) in enumerate(kept):
                if ref() is lines:
                    kept.insert(0, kept.pop(i))
                    return value
            value = compute(lines)
            kept.insert(0, (weakref.ref(lines), value))
            del kept[_KEPT:]
            return value

    cached.cache_clear = kept.clear  # type: ignore[attr-defined]
    return cached
