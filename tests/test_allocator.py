"""The scrub process's allocator setting (scrubber.allocator): asked for by the command line only,
never over the user's own setting, and read by Polars' jemalloc."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from scrubber import allocator


def test_sets_the_variable_before_polars_is_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "polars", raising=False)
    environ: dict[str, str] = {}
    assert allocator.configure(environ) is True
    assert environ == {allocator.VARIABLE: allocator.SETTING}


def test_leaves_the_users_own_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "polars", raising=False)
    environ = {allocator.VARIABLE: "dirty_decay_ms:2000"}
    assert allocator.configure(environ) is False
    assert environ == {allocator.VARIABLE: "dirty_decay_ms:2000"}


def test_adds_the_setting_after_polars_defaults_a_parent_process_left(monkeypatch: pytest.MonkeyPatch) -> None:
    """A scrub started by a script that imported Polars inherits the variable Polars wrote (its own
    defaults, no one's choice): the setting goes after them, and counts. More than the defaults is a
    user's setting, left alone."""
    inherited = _written_by_polars()
    monkeypatch.delitem(sys.modules, "polars", raising=False)
    environ = {allocator.VARIABLE: inherited}
    assert allocator.configure(environ) is True
    assert environ == {allocator.VARIABLE: f"{inherited},{allocator.SETTING}"}
    chosen = {allocator.VARIABLE: f"{inherited},narenas:4"}
    assert allocator.configure(chosen) is False
    assert chosen == {allocator.VARIABLE: f"{inherited},narenas:4"}


def test_does_nothing_once_polars_is_imported() -> None:
    import polars  # noqa: F401  (jemalloc has read its settings)

    environ: dict[str, str] = {}
    assert allocator.configure(environ) is False
    assert environ == {}


def _fresh_process(*lines: str) -> subprocess.CompletedProcess[str]:
    """Run ``lines`` of Python in a new interpreter without the variable this process's Polars wrote
    (as from a shell), on this process's import path; it must succeed."""
    env = {k: v for k, v in os.environ.items() if k != allocator.VARIABLE}
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    done = subprocess.run([sys.executable, "-c", "\n".join(lines)], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done


def _written_by_polars() -> str:
    """What importing Polars writes into the variable of a process that had none (what its children
    inherit)."""
    done = _fresh_process("import os, polars", f"print(os.environ[{allocator.VARIABLE!r}])")
    return done.stdout.strip()


def _statistics_after_configure(*before: str) -> str:
    """jemalloc's statistics (printed at exit) of a fresh process that ran ``before``, then
    :func:`allocator.configure`, then imported Polars; skips where Polars has no jemalloc."""
    done = _fresh_process(
        "import os",
        *before,
        "from scrubber import allocator",
        "assert allocator.configure()",
        "os.environ[allocator.VARIABLE] += ',stats_print:true'",
        "import polars",
        "polars.DataFrame({'a': [1]})",
    )
    if "opt.muzzy_decay_ms" not in done.stderr:
        pytest.skip("this Polars build does not allocate with jemalloc (no statistics printed)")
    return done.stderr


def _assert_setting_taken(statistics: str) -> None:
    """The options of :data:`allocator.SETTING` are the ones jemalloc runs with."""
    (muzzy,) = [line for line in statistics.splitlines() if "opt.muzzy_decay_ms" in line]
    assert "opt.muzzy_decay_ms: 0 " in muzzy + " "
    if sys.platform.startswith("linux"):  # one arena per CPU (see the module's docstring)
        assert 'opt.percpu_arena: "percpu"' in statistics
        assert "opt.oversize_threshold: 0\n" in statistics  # (jemalloc's default: 8388608)
        cpus = len(os.sched_getaffinity(0))
        assert f"opt.narenas: {cpus}\n" in statistics or f"opt.narenas: {os.cpu_count()}\n" in statistics


def test_jemalloc_reads_the_setting_polars_passes_on() -> None:
    """In a fresh process: the setting reaches jemalloc as Polars' override (its statistics at exit
    show the option's value), so the memory it promises is really given back."""
    _assert_setting_taken(_statistics_after_configure())


def test_a_scrub_started_by_a_polars_process_gets_the_setting() -> None:
    """In a fresh process whose environment holds what a parent's Polars import wrote there: the
    setting reaches jemalloc all the same (the last value of an option counts)."""
    inherited = _written_by_polars()
    _assert_setting_taken(_statistics_after_configure(f"os.environ[{allocator.VARIABLE!r}] = {inherited!r}"))


def test_the_command_line_configures_and_a_library_import_does_not() -> None:
    done = _fresh_process(
        "import sys",
        "import scrubber.allocator as a",
        "real = a.configure",
        "def spy():",
        "    print('configure ->', real(), flush=True)",
        "    return True",
        "a.configure = spy",
        "import scrubber.cli",
        "print('imported', flush=True)",
        "sys.argv = ['scrub', 'checks']",
        "scrubber.cli.main()",
    )
    assert done.stdout.startswith("imported\nconfigure -> True\n"), done.stdout[:200]
    assert "addon-without-primary" in done.stdout  # the command ran after it
