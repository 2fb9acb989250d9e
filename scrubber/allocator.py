"""How a ``scrub`` process asks Polars' memory allocator to give freed memory back.

Polars allocates with jemalloc and configures it when it is first imported, from the environment
variable ``_RJEM_MALLOC_CONF`` (its own defaults first, then the variable's value, which wins:
``polars/__init__.py``). Its defaults keep freed pages for a while in two stages: "dirty" for 0.5 s,
then "muzzy" (handed back with ``MADV_FREE``) for 1 s more. A muzzy page is free for the kernel to
take, but it still counts in the process's resident memory until the kernel needs it, which on a
machine with free memory is never: what ``time -v``, ``ps`` and a container's memory accounting
report as the run's peak then includes memory the run had already freed.

A scrub frees large columns all along (each batch's text once typed, every intermediate column of
enrichment and of the checks), so its reported peak is mostly such memory: on the 2M-line benchmark
batch ``muzzy_decay_ms:0`` (skip the muzzy stage: pages leave when their 0.5 s as dirty pages is up)
takes the peak from ~1.70 to ~1.33 GB with the phases before the write as fast as before
(benchmarks/results.md, "Issue 16, fifth pass"). The 10M-line peak, set by live data, does not move.

Which arena a freed block returns to matters too. jemalloc gives each thread one of four arenas per
CPU, and a block goes back to the arena that allocated it, so a column the reader's or Polars'
threads built and the main thread frees is reused only by threads of that arena; the others take
fresh pages (a page fault each). ``percpu_arena:percpu`` (one arena per CPU, picked by the CPU the
thread runs on) lets the next allocation on that CPU reuse it: on the 2M-line benchmark batch ~14%
fewer page faults (760k -> 655k), ~0.5 s less system time, the phases before the write ~0.07 s
faster and the write phase less often slow (medians 0.26-0.40 s against 0.39-0.64 s; why is not
measured), peak within 20 MB (benchmarks/results.md, "Issue 16, seventh pass").

And large blocks should be reused too. jemalloc serves every allocation of 8 MiB or more (a column
of a million rows: each column of a batch) from one dedicated arena that purges a freed block at
once, "because less immediate reuse is expected for huge allocations" (jemalloc ``arena.c``,
``arena_choose_huge``): the next column of that size faults in fresh pages, and every purge is a
system call. A scrub frees and allocates such columns all along, so
``oversize_threshold:0`` (no dedicated arena: large blocks come from the per-CPU arenas and stay as
dirty pages for Polars' 0.5 s like any other) is the better trade here: on the 10M-line batch, six
interleaved pairs, system time 12.7 -> 8.9 s and process wall 20.5 -> 16.6 s (medians; as many page
faults: the time saved is the purging), peak the same (5.26-5.40 GB); on the 2M-line benchmark batch 7%
fewer page faults, the phases before the write 0.03-0.05 s faster, peak within 30 MB
(benchmarks/results.md, "Issue 16, eighth pass").

Only the command line does this (:meth:`scrubber.cli._OneLineErrors.main`), never an import: a
program that uses scrubber as a library keeps its own allocator settings. A value the user set in
``_RJEM_MALLOC_CONF`` is left as it is (theirs is the setting that counts), and nothing is done once
Polars is imported (jemalloc has read its settings by then). A ``scrub`` started by a Python
process that had imported Polars (a pipeline script that uses Polars itself) inherits the variable
Polars wrote there on import, its own defaults and nothing else: that is no one's choice, so the
setting is added after them (the last value of an option counts). A variable that holds anything
more is the user's and is left alone. (``benchmarks/run.py`` still hands its children the
environment it had before importing Polars, so that every measured process starts alike.)
"""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping

VARIABLE = "_RJEM_MALLOC_CONF"
# muzzy_decay_ms:0: freed pages leave after their 0.5 s as dirty pages (above). percpu_arena:percpu
# (Linux only: it needs the CPU a thread runs on): one arena per CPU instead of jemalloc's four per
# CPU chosen per thread; oversize_threshold:0 (measured on Linux only): no arena that purges large
# blocks at once (above).
SETTING = ("muzzy_decay_ms:0,percpu_arena:percpu,oversize_threshold:0" if sys.platform.startswith("linux")
           else "muzzy_decay_ms:0")
# What Polars writes into the variable when it is imported and nobody had set it (polars/__init__.py
# of Polars 2.1; with POLARS_THP=1 it adds huge pages): a child process inherits it. Should a
# later Polars write other defaults, they read as a user's setting and are left alone (the safe side).
_POLARS_DEFAULTS = ("dirty_decay_ms:500,muzzy_decay_ms:1000",
                    "dirty_decay_ms:500,muzzy_decay_ms:1000,thp:always,metadata_thp:always")


def configure(environ: MutableMapping[str, str] = os.environ) -> bool:
    """Ask for :data:`SETTING` unless the user set the variable or Polars is already imported; a
    variable holding only Polars' own defaults (inherited from a process that imported Polars) gets
    :data:`SETTING` after them.

    Returns whether it did (the variable then ends with :data:`SETTING`, for Polars to append to its own).
    """
    if "polars" in sys.modules:
        return False
    current = environ.get(VARIABLE)
    if current is None:
        environ[VARIABLE] = SETTING
    elif current in _POLARS_DEFAULTS:
        environ[VARIABLE] = f"{current},{SETTING}"
    else:
        return False
    return True
