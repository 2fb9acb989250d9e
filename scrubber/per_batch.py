"""Facts several checks decide with, computed once per batch.

A check is a pure function of the enriched lines, and two checks may need the same decision: the
lines an MUE deletes whole are units-over-mue's to report and what unit-miscalculation judges the
hours without (one decision, one place). Each computes it from the lines; :func:`once_per_batch`
makes the second ask the first one's result (:func:`scrubber.timing.timing` is the time facts so
cached), so running both costs one computation, and each still runs alone (``--select``).
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


def once_per_batch(compute: Callable[[pl.LazyFrame], T], kept: int = _KEPT) -> Callable[[pl.LazyFrame], T]:
    """``compute(lines)``, the same result for the same ``lines`` object (by identity, held weakly:
    the entry goes with the batch), for the ``kept`` batches used last. Thread-safe: a second caller
    waits for the first one's result."""
    entries: list[tuple[weakref.ref, T]] = []
    lock = threading.RLock()

    @functools.wraps(compute)
    def cached(lines: pl.LazyFrame) -> T:
        with lock:
            entries[:] = [(ref, value) for ref, value in entries if ref() is not None]
            for i, (ref, value) in enumerate(entries):
                if ref() is lines:
                    entries.insert(0, entries.pop(i))
                    return value
            value = compute(lines)
            entries.insert(0, (weakref.ref(lines), value))
            del entries[kept:]
            return value

    cached.cache_clear = entries.clear  # type: ignore[attr-defined]
    return cached


_contexts: list[tuple[weakref.ref, object]] = []
_contexts_lock = threading.Lock()


def remember_context(lines: pl.LazyFrame, ctx: object) -> None:
    """Keep the run's context (:class:`scrubber.registry.Context`) for ``lines``, the batch the engine
    hands every check: a fact decided once per batch (:func:`once_per_batch`, keyed by the lines alone)
    that needs a policy table reads it with :func:`context_of`, whichever check asks first. The
    engine calls this before building the checks' plans; a check whose decision another check reads
    calls it in its own ``find`` too (run alone, or from a test)."""
    with _contexts_lock:
        _contexts[:] = [(ref, c) for ref, c in _contexts if ref() is not None and ref() is not lines]
        _contexts.insert(0, (weakref.ref(lines), ctx))
        del _contexts[_KEPT:]


def context_of(lines: pl.LazyFrame) -> object | None:
    """The context :func:`remember_context` kept for ``lines`` (by identity), or ``None``."""
    with _contexts_lock:
        return next((c for ref, c in _contexts if ref() is lines), None)
