"""The ``scrub`` command line (click), as FORMATS.md fixes it.

Exit status: 0 nothing at or above ``--fail-on`` and every row checked; 1 findings at or above it,
or rows that could not be checked (the gate fails closed, :mod:`scrubber.gate`); 2 unusable input,
nothing checked, or a usage error, always with a one-line reason on stderr and never a traceback
(``--debug`` shows one); 130 interrupted (Ctrl-C).

Order of a ``scrub check`` run: settings (command line > ``scrubber.toml`` > defaults), every usage
problem (check ids, suppressions, outputs that would overwrite an input or each other), then the
scrub, then all outputs written together (:class:`scrubber.outputs.OutputSet`), then the verdict.
"""

from __future__ import annotations

import atexit
import datetime as dt
import difflib
import os
import shutil
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from scrubber import __version__, allocator
from scrubber.errors import ScrubError, UsageError, printable
from scrubber.gate import EXIT_FINDINGS, EXIT_INTERRUPTED, EXIT_OK, EXIT_UNUSABLE, FAIL_ON

BASELINE_REASON = "baseline: accepted on adoption"
_MAX_WARNINGS_SHOWN = 10


def _ids(value: str | None, option: str) -> list[str] | None:
    """Comma-separated check ids (case-insensitive: ids are lower case); given empty, an error, not
    "every check" (``--select ''`` from an unset shell variable must not run what was not asked)."""
    if value is None:
        return None
    ids = [v.strip().lower() for v in value.split(",") if v.strip()]
    if not ids:
        raise UsageError(f"{option} names no check id (see `scrub checks`)")
    return ids


def _fail(message: str, status: int = EXIT_UNUSABLE) -> None:
    click.echo(f"scrub: error: {message}", err=True)
    sys.exit(status)


def _warn(lines: list[str], more_hint: str) -> None:
    # (printable: a warning may quote a file's own text, and an escape sequence in an X12 segment it
    # quotes cleared the screen and set the window title, probe 25C D3)
    for line in lines[:_MAX_WARNINGS_SHOWN]:
        click.echo(f"scrub: warning: {printable(line)}", err=True)
    if len(lines) > _MAX_WARNINGS_SHOWN:
        click.echo(f"scrub: warning: ... and {len(lines) - _MAX_WARNINGS_SHOWN} more ({more_hint})", err=True)


def _warn_inputs(warnings: list[dict[str, str]], x12: list[bool]) -> None:
    """File-level problems that did not stop the scrub (X12 envelope counts, files skipped in a folder),
    one line each on stderr. ``x12``: per warning, whether it is an X12 reader's, which --strict turns
    into a refusal of the file (the others it does not touch)."""
    from scrubber.loaders.x12_loader import ROWS_REJECTED

    _warn([f"{w['source']}: {w['problem']}" + (" (not fatal; --strict rejects the file)"
                                               if strict and not w["problem"].endswith(ROWS_REJECTED) else "")
           for w, strict in zip(warnings, x12, strict=True)], "input_warnings in the findings JSON")


def _warn_suppressions(warnings: list[dict[str, Any]]) -> None:
    _warn([f"{w['source']}: {w['problem']}" for w in warnings], "suppression_warnings in the findings JSON")


# click >= 8.2 raises this for a bare `scrub` (a usage error that carries the help); older click prints it.
_NO_ARGS_IS_HELP: type[Exception] | tuple[()] = getattr(click.exceptions, "NoArgsIsHelpError", ())


class _NoRepeatedOptions(click.Command):
    """A command whose single-value options may be given once: click keeps the last of two
    (``--records A --records B`` joined only B), and a setting accepted must never be ignored."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        single = {name: option for option in self.params if isinstance(option, click.Option)
                  and not option.multiple and not option.is_flag and not option.count
                  for name in [*option.opts, *option.secondary_opts]}
        seen: dict[str, str] = {}
        tokens = iter(args)
        for token in tokens:
            if token == "--":
                break
            name = token.split("=", 1)[0] if token.startswith("--") else token
            option = single.get(name)
            if option is None:
                continue
            if option.name in seen:
                raise click.UsageError(f"{seen[option.name]} is given twice; give it once", ctx)
            seen[option.name] = name
            if "=" not in token:
                next(tokens, None)  # its value
        return super().parse_args(ctx, args)


class _OneLineErrors(click.Group):
    """click's own usage errors (an unknown option, a bad choice or date) as one line, exit 2.

    FORMATS.md promises "a one-line reason" for every usage error; click would print its four-line
    "Usage / Try / Error" block. The hint names the command's help instead.
    """

    command_class = _NoRepeatedOptions

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Run a command; from the process's own command line (no ``args``: not a test's CliRunner),
        with Polars' allocator set to give freed memory back (:mod:`scrubber.allocator`) and ending
        the process as soon as the command's status is known (:func:`_exit_process`)."""
        own_process = not args and kwargs.get("args") is None
        if own_process:
            allocator.configure()
        try:
            return self._main(*args, **kwargs)
        except SystemExit as exc:
            if own_process:
                _exit_process(exc.code)
            raise

    def _main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            status = super().main(*args, **kwargs)
        except _NO_ARGS_IS_HELP as exc:  # plain `scrub`: the help, as click shows it
            click.echo(exc.ctx.get_help() if exc.ctx is not None else exc.format_message(), err=True)
            sys.exit(EXIT_UNUSABLE)
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else "scrub"
            message = " ".join(exc.format_message().split())
            _fail(f"{message} (see {where} --help)", EXIT_UNUSABLE)
        except click.exceptions.Abort:
            _fail("interrupted", EXIT_INTERRUPTED)
        except click.ClickException as exc:
            _fail(" ".join(exc.format_message().split()), exc.exit_code)
        sys.exit(status if isinstance(status, int) else EXIT_OK)


def _exit_process(code: object) -> None:
    """End the process with ``code`` as ``sys.exit`` would, without the interpreter's teardown.

    Shutting the interpreter down frees every module and object one by one (0.1-0.4 s after a
    2M-line batch, ~0.05 s even after 10 claims) for memory the operating system takes back at
    once. What a finished command still needs happens first: exit handlers (Polars', logging's)
    and the standard streams flushed; outputs are committed and temporary files gone by then.
    Returns (the interpreter then exits as usual) when that cannot be done safely: a status that
    is not a number, another thread still running, or a stream that cannot be flushed (a closed
    pipe, reported as Python always did).
    """
    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)
    others = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if not isinstance(code, int | None) or run_exit_handlers is None or others:
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        run_exit_handlers()
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        return
    os._exit(code or 0)


@click.group(cls=_OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="scrub")
def main() -> None:
    """Scrub infusion and injection claims before submission, or audit them after payment.

    Start with `scrub check CLAIMS.csv`; `scrub checks` lists what is checked and
    `scrub explain CHECK_ID` tells why.
    """


# --------------------------------------------------------------------------- scrub check


@dataclass
class Options:
    """``scrub check``'s options as given on the command line (None: not given)."""

    inputs: tuple[str, ...]
    json_path: str | None
    csv_path: str | None
    html_path: str | None
    rejected_path: str | None
    stdout_format: str | None
    policies: tuple[str, ...]
    records: str | None
    select: str | None
    ignore: str | None
    fail_on: str | None
    suppressions: tuple[str, ...]
    baseline_write: str | None
    baseline_expires: dt.datetime | None
    compare: str | None
    config: str | None
    no_config: bool
    show_config: bool
    letters_dir: str | None
    mask_phi: bool
    strict: bool
    quiet: bool
    debug: bool
    timings: bool
    engine: str
    spark_master: str | None


def _a_path(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """A path option given as an empty text (``--json "$OUT"`` with OUT unset) is a usage error: read as
    "not given", the run wrote nothing and a stale findings file stayed where the script looks."""
    values = value if isinstance(value, tuple) else (value,)
    if any(v is not None and not str(v).strip() for v in values):
        raise click.BadParameter("an empty path (was a variable left unset?)")
    return value


@main.command()
@click.argument("inputs", nargs=-1, metavar="INPUT...")
@click.option("--json", "json_path", callback=_a_path, metavar="PATH",
              help="Write findings JSON (FORMATS.md) to PATH, or - for stdout.")
@click.option("--csv", "csv_path", callback=_a_path, metavar="PATH",
              help="Write findings as CSV to PATH, or - for stdout.")
@click.option("--html", "html_path", callback=_a_path, metavar="PATH", help="Write the HTML audit report to PATH.")
@click.option("--rejected", "rejected_path", callback=_a_path, metavar="PATH",
              help="Write the rejected rows (source, row, claim_id, line_number, reason) as CSV to PATH.")
@click.option("--format", "stdout_format", type=click.Choice(("json", "csv", "html")),
              help="Write this format to standard output (the same as --json - / --csv - / --html -).")
@click.option("--policy", "policies", callback=_a_path, multiple=True, metavar="FILE",
              help="Payer policy TOML extending MEDICARE or DEFAULT (repeatable; later files win).")
@click.option("--records", callback=_a_path, metavar="FILE",
              help="Administration records (CSV/JSON) joined on claim_id + line_number.")
@click.option("--select", metavar="IDS", help="Run only these check ids (comma-separated).")
@click.option("--ignore", metavar="IDS", help="Skip these check ids (comma-separated); applied after --select.")
@click.option("--fail-on", type=click.Choice(FAIL_ON), default=None,
              help="Exit 1 when a finding at or above this severity exists, or a row could not be checked "
                   "[default: error]; never: exit 0 unless no row could be checked at all (exit 2).")
@click.option("--suppressions", callback=_a_path, multiple=True, metavar="FILE",
              help="Reviewed findings to suppress (TOML [[suppress]] entries; repeatable).")
@click.option("--baseline-write", callback=_a_path, metavar="FILE",
              help="Write a suppressions file accepting every current finding (adopting the tool on a backlog).")
@click.option("--baseline-expires", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="DATE",
              help="Expiry of the --baseline-write entries [default: one year from today].")
@click.option("--compare", callback=_a_path, metavar="OLD.json",
              help="Also say which findings are new, fixed and unchanged since OLD.json.")
@click.option("--config", callback=_a_path, metavar="FILE",
              help="Use this scrubber.toml (or pyproject.toml) instead of finding one.")
@click.option("--no-config", is_flag=True, help="Ignore scrubber.toml / pyproject.toml [tool.scrubber].")
@click.option("--show-config", is_flag=True, help="Print the effective settings and where each came from, then exit.")
@click.option("--letters", "letters_dir", callback=_a_path, metavar="DIR",
              help="Write one printable HTML appeal letter per claim that needs a justification, and an index, "
              "into DIR.")
@click.option("--mask-phi", is_flag=True,
              help="Pseudonymise member and claim ids and hide file names and quoted values in every output.")
@click.option("--strict", is_flag=True,
              help="Also validate X12 inputs against the 5010 implementation guide with pyx12 (slow; needs pyx12).")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors (outputs named are still written).")
@click.option("--debug", is_flag=True, help="Show the traceback of an unexpected error.")
@click.option("--timings", is_flag=True, help="Print the wall time of each phase on stderr (diagnostics).")
@click.option("--engine", type=click.Choice(("local", "spark")), default="local", show_default=True,
              help="spark: read CSV/Parquet with Apache Spark and scrub partitioned by member (needs scrubber[spark], "
                   "Java 17+); same outputs.")
@click.option("--spark-master", metavar="URL", help="Spark master for --engine spark (default local[*]).")
def check(**kwargs: Any) -> None:
    """Scrub claim files: CSV, JSON, JSON Lines or X12 837 (files, folders, or - for standard input).

    With no output option, prints a summary and the findings. Exit status 0: nothing at or above
    --fail-on; 1: findings at or above it, or rows that could not be checked; 2: unusable input,
    nothing checked, or bad options; 130: interrupted.
    """
    options = Options(**kwargs)
    run = CheckRun(options)
    try:
        status = run.execute()
    except ScrubError as exc:
        run.cleanup()
        _traceback_if(options.debug)
        _fail(run.shown_error(str(exc)))
    except KeyboardInterrupt:
        run.cleanup()
        _fail("interrupted", EXIT_INTERRUPTED)
    except BrokenPipeError:  # `scrub check ... --json - | head`: the reader left; nothing to report
        run.cleanup()
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(run.status)
    except Exception as exc:  # noqa: BLE001 - the last line of defence: exit 2 with one line, never 1
        run.cleanup()
        _traceback_if(options.debug)
        _fail(f"unexpected {type(exc).__name__}: {exc} (run again with --debug for details)")
    except BaseException as exc:
        run.cleanup()
        # A panic inside Polars surfaces as pyo3's PanicException, a BaseException: still exit 2 with
        # one line, never a traceback with status 1 (which would read as "findings").
        if type(exc).__name__ != "PanicException":
            raise
        _traceback_if(options.debug)
        _fail(f"internal error in Polars ({exc}); please report it with the input (run again with --debug)")
    run.cleanup()
    sys.exit(status)


def _traceback_if(debug: bool) -> None:
    """With --debug, the traceback of the error being handled, on stderr; the exit status stays the
    error's (2), never Python's 1 for an uncaught exception, which would read as "findings"."""
    if debug:
        traceback.print_exc()


def value_of(settings: dict[str, Any], key: str) -> Any:
    """The effective value of a setting (command line, config file or default)."""
    return settings[key].value if key in settings else None


def _checked_ids(option: str, ids: list[str] | None, known: list[str]) -> None:
    for check_id in ids or []:
        if check_id not in known:
            near = difflib.get_close_matches(check_id, known, n=1)
            hint = f"; did you mean '{near[0]}'?" if near else " (see `scrub checks`)"
            raise UsageError(f"{option}: unknown check id '{check_id}'{hint}")


def _utf8_names(paths: list[str]) -> None:
    """Refuse a file name that is not UTF-8 (the readers cannot open it), with the name shown as bytes."""
    for path in paths:
        try:
            path.encode("utf-8")
        except UnicodeEncodeError:
            shown = os.fsencode(path).decode("utf-8", "backslashreplace")
            raise UsageError(f"file name {shown} is not valid UTF-8; rename the file") from None


def _user() -> str:
    for name in ("SCRUB_USER", "USER", "USERNAME", "LOGNAME"):
        if os.environ.get(name, "").strip():  # blank: the reader refuses an empty `by`
            return os.environ[name].strip()
    return "baseline"


class CheckRun:
    """One ``scrub check``: settings, validation, the scrub, outputs and verdict, step by step."""

    def __init__(self, options: Options) -> None:
        self.o = options
        self.status = EXIT_OK
        self._stdin_dir: str | None = None
        self._stdin_path: str | None = None
        self._progress: Any = None
        # (outputs, reads) as checked before the read: each letter's file is checked against them too.
        self._guarded: tuple[dict[str, str], dict[str, list[str]]] = ({}, {})

    # ----------------------------------------------------------------- helpers

    def cleanup(self) -> None:
        if self._progress is not None:
            self._progress.finish()
        if self._stdin_dir is not None:
            shutil.rmtree(self._stdin_dir, ignore_errors=True)
            self._stdin_dir = None

    def _remove_stale_letters(self, folder: Path, written: set[str]) -> None:
        """Letters an earlier run wrote into ``folder`` that this run did not write again: left beside the
        new index, they read as this run's (claim ids unmasked after a --mask-phi run, or claims since
        corrected). Only this tool's letter files (:data:`~scrubber.output.letters.LETTER_FILES`) are
        removed, after every output of the run is in place; the count is said on stderr."""
        from scrubber.output.letters import LETTER_FILES

        stale = [p for p in folder.glob(LETTER_FILES) if p.name not in written and p.is_file()]
        for path in stale:
            path.unlink(missing_ok=True)
        if stale and not self.o.quiet:
            click.echo(f"scrub: removed {len(stale)} letter(s) of an earlier run from {self.shown_error(str(folder))}",
                       err=True)

    def shown_error(self, message: str) -> str:
        """A run-stopping error as stderr shows it: standard input named ``<stdin>``, and with
        --mask-phi the values it quotes hidden (a validator quotes the member id it found too long;
        the file name stays as the user gave it)."""
        if self._stdin_path:
            message = message.replace(self._stdin_path, "<stdin>")
        if self.o.mask_phi:
            import polars as pl

            from scrubber.masking import mask_quoted

            message = pl.select(mask_quoted(pl.lit(message, pl.String))).item()
        return message

    def _say(self, text: str, err: bool = False) -> None:
        if not self.o.quiet:
            click.echo(text, err=err, nl=not text.endswith("\n"))

    def _spool_stdin(self) -> str:
        """Standard input copied to a temporary file, so every loader reads it like a file."""
        stream = getattr(sys.stdin, "buffer", sys.stdin)  # bytes: the loaders sniff encodings themselves
        if stream is None or getattr(stream, "closed", False):
            raise UsageError("standard input is closed; pipe claims into `scrub check -`")
        try:
            if stream.isatty():
                raise UsageError("standard input is a terminal; pipe claims into `scrub check -`")
        except (AttributeError, ValueError):
            pass
        self._stdin_dir = tempfile.mkdtemp(prefix="scrub-stdin-")
        path = os.path.join(self._stdin_dir, "stdin")
        with open(path, "wb") as out:
            shutil.copyfileobj(stream, out)
        self._stdin_path = path
        return path

    # ----------------------------------------------------------------- the run

    def settings(self) -> tuple[Any, dict[str, Any]]:
        from scrubber import config

        o = self.o
        if o.config is not None and o.no_config:
            raise UsageError(f"--config {o.config} and --no-config contradict each other: give one")
        cfg = config.find(o.config, o.no_config)
        outputs = {"json": o.json_path, "csv": o.csv_path, "html": o.html_path}
        if o.stdout_format:
            named = outputs[o.stdout_format]
            if named not in (None, "-"):
                raise UsageError(f"--format {o.stdout_format} writes to standard output; --{o.stdout_format} {named} "
                                 "names a file too")
            outputs[o.stdout_format] = "-"
        cli = {
            "policies": list(o.policies) or None, "select": _ids(o.select, "--select"),
            "ignore": _ids(o.ignore, "--ignore"),
            "fail_on": o.fail_on, "suppressions": list(o.suppressions) or None,
            **{f"outputs.{k}": v for k, v in outputs.items()}, "outputs.rejected": o.rejected_path,
        }
        defaults = {"policies": [], "select": None, "ignore": [], "fail_on": "error", "suppressions": []}
        return cfg, config.effective(cfg, cli, defaults)

    def execute(self) -> int:
        from scrubber import config

        o = self.o
        cfg, settings = self.settings()
        if cfg.shadowed is not None and not o.quiet:
            click.echo(f"scrub: warning: {cfg.shadowed}: [tool.scrubber] is not read; {cfg.path} in the same folder "
                       "is the config (scrubber.toml wins): move its settings there or delete one", err=True)
        if o.show_config:
            click.echo(config.show(cfg, settings), nl=False)
            return EXIT_OK
        if not o.inputs:
            raise UsageError("no INPUT given (claim files, folders, or - for standard input); see scrub check --help")
        if o.engine == "spark":
            origin = settings["suppressions"].origin if "suppressions" in settings else "command line"
            suppressions = ("--suppressions" if origin in ("command line", "default") else
                            f"suppressions (from {origin}; --no-config leaves them out)")
            unsupported = [name for name, given in (("--records", o.records), ("--strict", o.strict),
                                                    (suppressions, value_of(settings, "suppressions")),
                                                    ("standard input (-)", "-" in o.inputs)) if given]
            if unsupported:
                raise UsageError(f"{' and '.join(unsupported)} not supported with --engine spark "
                                 "(use the local engine)")
        elif o.spark_master:
            raise UsageError("--spark-master applies to --engine spark only")
        value = {k: s.value for k, s in settings.items()}
        outputs = {f"--{k.split('.', 1)[1]}": v for k, v in value.items() if k.startswith("outputs.") and v}
        if o.baseline_write:
            outputs["--baseline-write"] = o.baseline_write
        if o.baseline_write and o.mask_phi:
            raise UsageError("--baseline-write cannot be used with --mask-phi: a baseline names the real finding ids, "
                             "which give the claim ids back (a masked output shows them keyed for its run, which no "
                             "later run matches); write the baseline from a run without --mask-phi")
        if o.baseline_expires is not None:
            if not o.baseline_write:
                raise UsageError("--baseline-expires applies to --baseline-write only")
            if o.baseline_expires.date() < dt.date.today():
                raise UsageError(f"--baseline-expires {o.baseline_expires.date().isoformat()} is in the past: the "
                                 "baseline would suppress nothing")
        if o.letters_dir == "-":
            raise UsageError("--letters writes a folder of letters; it cannot go to standard output (-)")
        if o.letters_dir:
            outputs["--letters"] = str(Path(o.letters_dir) / "index.html")  # checked for collisions like a file
        if list(outputs.values()).count("-") > 1:
            raise UsageError("only one output can go to standard output (-)")
        to_stdout = [f"{option} -" for option, path in outputs.items() if path == "-"]
        if to_stdout and (sys.stdout is None or sys.stdout.closed):  # `scrub check ... --json - >&-`
            shown = f"--format {o.stdout_format}" if o.stdout_format else to_stdout[0]
            raise UsageError(f"{shown} writes to standard output, which is closed; name a file instead")

        from checks import REGISTERED  # the registered checks, in order (also where all_checks() lives)

        known = [c.id for c in REGISTERED]
        named = {}
        for key in ("select", "ignore"):  # named as the user wrote it: the option, or the config file's key
            origin = settings[key].origin if key in settings else "command line"
            named[key] = f"--{key}" if origin in ("command line", "default") else f"{origin}: {key}"
            _checked_ids(named[key], value[key], known)
        if not [c for c in known if (not value["select"] or c in value["select"]) and c not in value["ignore"]]:
            # (a config file's ignore beside --select on the command line: name where each came from;
            # probe 18B: the message blamed an --ignore the user never gave)
            # (only what was given: no --select, the ignore alone; probe 19B: "--select and c.toml: ignore")
            given = [named[k] for k in ("select", "ignore") if value[k]]
            raise UsageError(f"{' and '.join(given)} {'leave' if len(given) > 1 else 'leaves'} no check to run")

        from scrubber.suppressions import SuppressionSet

        suppressions = SuppressionSet.load(value["suppressions"], known)
        inputs = list(o.inputs)
        if inputs.count("-") > 1:
            raise UsageError("standard input (-) can be read only once")
        self._check_outputs(inputs, outputs, value, cfg)
        old = None
        if o.compare:
            from scrubber.diff import Findings

            old = Findings.read(o.compare)
        if "-" in inputs:
            spooled = self._spool_stdin()
            inputs = [spooled if i == "-" else i for i in inputs]

        from scrubber import progress as progress_module

        if progress_module.wanted(sys.stderr, o.quiet):
            self._progress = progress_module.Progress(sys.stderr)
        if o.engine == "spark":  # the only path that imports pyspark
            from scrubber.spark import scrub_files

            result = scrub_files(inputs, policy_files=value["policies"], select=value["select"],
                                 ignore=value["ignore"], master=o.spark_master or "local[*]",
                                 # (--mask-phi: every line's ids, so a text quoting another claim's id is
                                 # masked too, as the local engine does)
                                 report_lines=bool(outputs.get("--html") or o.letters_dir or o.mask_phi))
        else:
            from scrubber.engine import scrub

            result = scrub(inputs, policy_files=value["policies"], records=o.records, select=value["select"],
                           ignore=value["ignore"], strict=o.strict, suppressions=suppressions, progress=self._progress)
        if self._progress is not None:
            self._progress.finish()
        if named["ignore"] != "--ignore" or named["select"] != "--select":
            # (an idle ignore named as the user wrote it: a config file's key, not an --ignore never given;
            # probe 28C B10)
            for warning in result.input_warnings:
                if warning.get("source") == "--ignore":
                    warning["source"] = named["ignore"]
                    warning["problem"] = warning["problem"].replace("--select", named["select"])
        if self._stdin_path:
            from scrubber.masking import STDIN_NAME, relabel_sources

            result = relabel_sources(result, {self._stdin_path: STDIN_NAME})
        return self._report(result, outputs, value["fail_on"], old)

    def _check_outputs(self, inputs: list[str], outputs: dict[str, str], value: dict[str, Any], cfg: Any) -> None:
        """Usage errors for outputs that would overwrite what the run reads, or each other (nothing read yet)."""
        from scrubber.loaders import INPUT_SUFFIXES, expand_paths
        from scrubber.outputs import check_targets

        named = [i for i in inputs if i != "-"]
        _utf8_names([*named, *(p for paths in (outputs.values(), [self.o.records or ""]) for p in paths)])
        files = [str(p) for p in expand_paths(named, Path(self.o.records) if self.o.records else None)] if named else []
        _utf8_names(files)
        reads = {
            "input": [*named, *files],
            "records file": [self.o.records] if self.o.records else [],
            "policy file": list(value["policies"]),
            "suppressions file": list(value["suppressions"]),
            "findings file compared against": [self.o.compare] if self.o.compare else [],
            "config file": [str(cfg.path)] if cfg.path else [],
        }
        folders = [i for i in named if Path(i).is_dir()]
        check_targets(outputs, reads, folders, INPUT_SUFFIXES)
        if self.o.letters_dir:
            from scrubber.output.letters import LETTER_FILES
            from scrubber.outputs import check_letters_folder

            check_letters_folder(self.o.letters_dir, LETTER_FILES, outputs, reads)
        self._guarded = (outputs, reads)  # (each letter's file, once its name is known: _report)

    def _report(self, result: Any, outputs: dict[str, str], fail_on: str, old: Any) -> int:
        from scrubber.gate import decide
        from scrubber.outputs import OutputSet

        o = self.o
        verdict = decide(result, fail_on)
        self.status = verdict.status
        clock = time.perf_counter()
        comparison = None
        masker = None
        if o.mask_phi:
            from scrubber.masking import Masker, quoted_ids

            earlier = [old.active, old.suppressed] if old is not None else []
            masker = Masker(result, extra=[*earlier, quoted_ids(earlier)] if earlier else [])
            shown = masker.result()
        else:
            shown = result
        if old is not None:
            from scrubber.diff import Findings, compare

            comparison = compare(old, Findings.from_result(result, "this run"))
            if masker is not None:
                comparison.parts = {k: masker.frame(f) for k, f in comparison.parts.items()}
                comparison.old = f"compared{Path(o.compare).suffix.lower()}"  # the file's name may name a patient
        compare_section = comparison.section() if comparison is not None else None

        with OutputSet() as written:
            if "--json" in outputs:
                from scrubber.output.json_output import write_json

                with written.open(outputs["--json"]) as out:
                    write_json(shown, out, compare_section)
            if "--csv" in outputs:
                from scrubber.output.csv_output import write_csv

                with written.open(outputs["--csv"]) as out:
                    write_csv(shown, out)
            if "--html" in outputs:
                from scrubber.output.html_report import render_html

                with written.open(outputs["--html"]) as out:
                    out.write(render_html(shown, pseudonymised=o.mask_phi).encode("utf-8"))
            if "--rejected" in outputs:
                from scrubber.output.csv_output import write_rejected_csv

                with written.open(outputs["--rejected"]) as out:
                    write_rejected_csv(shown, out)
            letters: set[str] = set()
            if o.letters_dir:
                from scrubber.output.letters import render_letters
                from scrubber.outputs import check_letter_target

                for name, text in render_letters(shown).items():
                    letters.add(name)
                    check_letter_target(str(Path(o.letters_dir) / name), *self._guarded)
                    with written.open(str(Path(o.letters_dir) / name)) as out:
                        out.write(text.encode("utf-8"))
            if "--baseline-write" in outputs:
                from scrubber.suppressions import baseline_text

                expires = (o.baseline_expires.date() if o.baseline_expires
                           else dt.date.today() + dt.timedelta(days=365))
                text = baseline_text(result.findings, _user(), expires, BASELINE_REASON, labels=shown.findings)
                with written.open(outputs["--baseline-write"]) as out:
                    out.write(text.encode("utf-8"))

        if o.letters_dir:
            self._remove_stale_letters(Path(o.letters_dir), letters)
        if not o.quiet:
            _warn_inputs(shown.input_warnings, result.strict_refuses)
            _warn_suppressions(shown.suppression_warnings)
        to_stdout = "-" in outputs.values()
        # --rejected and --baseline-write are beside the findings: the terminal summary still shows.
        if not {"--json", "--csv", "--html"} & set(outputs) and not to_stdout:
            from scrubber.output.terminal import render_summary

            compare_lines = comparison.lines() if comparison is not None else None
            self._say(render_summary(shown, verdict, outputs.get("--rejected"), compare_lines))
        elif not to_stdout:
            s = result.summary
            self._say(f"{s['findings']} finding(s) on {s['claims_with_findings']} of {s['claims']} claim(s); "
                      f"{s['rows_read']} rows read = {s['rows_checked']} checked + {s['rejected_rows']} rejected."
                      + (f" {s['suppressed']} suppressed." if s.get("suppressed") else ""), err=True)
            if comparison is not None:
                self._say("\n".join(comparison.lines(limit=0)), err=True)
            if verdict.failed and verdict.status != EXIT_UNUSABLE:
                self._say(verdict.line(), err=True)
        elif verdict.failed and verdict.status != EXIT_UNUSABLE:
            self._say(verdict.line(), err=True)
        if o.timings:
            phases = {**result.timings, "write outputs": round(time.perf_counter() - clock, 4)}
            click.echo("timings (s): " + ", ".join(f"{k} {v:.2f}" for k, v in phases.items()), err=True)
        if verdict.status == EXIT_UNUSABLE:
            inputs = shown.provenance.get("inputs") or []
            where = f"{inputs[0]}: " if len(inputs) == 1 else ""
            click.echo(f"scrub: error: {where}{verdict.reasons[0]}", err=True)
        return verdict.status


# --------------------------------------------------------------------------- scrub diff


@main.command()
@click.argument("old", metavar="OLD.json")
@click.argument("new", metavar="NEW.json")
@click.option("--json", "json_path", callback=_a_path, metavar="PATH",
              help="Write the comparison as JSON to PATH, or - for stdout.")
@click.option("--fail-on-new", is_flag=True, help="Exit 1 when there are new findings (a CI gate on what changed).")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=0),
              help="New and fixed findings listed on the terminal (0: none).")
@click.option("--debug", is_flag=True, help="Show the traceback of an unexpected error.")
def diff(old: str, new: str, json_path: str | None, fail_on_new: bool, limit: int, debug: bool) -> None:
    """Which findings are new, fixed and unchanged between two findings JSON files (by finding_id)."""
    import json

    from scrubber.diff import Findings, compare

    try:
        comparison = compare(Findings.read(old), Findings.read(new))
        if json_path:
            from scrubber.outputs import OutputSet, check_targets

            check_targets({"--json": json_path}, {"findings file": [old, new]}, [], set())
            with OutputSet() as written, written.open(json_path) as out:
                out.write(json.dumps(comparison.section(), indent=2, ensure_ascii=False, default=str,
                                     allow_nan=False).encode("utf-8") + b"\n")
        if json_path != "-":
            click.echo("\n".join(comparison.lines(limit)))
    except ScrubError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        _fail("interrupted", EXIT_INTERRUPTED)
    except Exception as exc:  # noqa: BLE001 - the last line of defence: exit 2 with one line, never 1
        _traceback_if(debug)
        _fail(f"unexpected {type(exc).__name__}: {exc} (run again with --debug for details)")
    sys.exit(EXIT_FINDINGS if fail_on_new and comparison.parts["new"].height else EXIT_OK)


# --------------------------------------------------------------------------- checks, explain


@main.command(name="checks")
def list_checks() -> None:
    """List the registered checks: id, severity, scope and title."""
    from checks import all_checks

    for c in all_checks():
        click.echo(f"{c.id:<34}{c.severity:<9}{c.scope:<11}{c.title}")


@main.command()
@click.argument("check_id")
def explain(check_id: str) -> None:
    """Print one check's documentation: the rule, why payers deny it, an example, the fix, the sources."""
    from checks import by_id
    from scrubber.explain import explain_text

    checks = by_id()
    check_id = check_id.strip().lower()  # (ids are lower case, as --select reads them)
    if check_id not in checks:
        near = difflib.get_close_matches(check_id, list(checks), n=1)
        hint = f"did you mean '{near[0]}'? " if near else ""
        _fail(f"unknown check id '{check_id}' ({hint}known: {', '.join(checks)})")
    click.echo(explain_text(checks[check_id]), nl=False)


if __name__ == "__main__":  # pragma: no cover
    main()
