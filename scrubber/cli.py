"""The ``scrub`` command line (click), exactly as FORMATS.md fixes it.

Exit status: 0 no finding at or above ``--fail-on``; 1 findings at or above it; 2 unusable input
or a usage error, always with a one-line reason on stderr and never a traceback (``--debug``
shows one).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import click

from scrubber import __version__
from scrubber.errors import ScrubError

FAIL_ON = ("error", "warning", "info", "never")
EXIT_OK, EXIT_FINDINGS, EXIT_UNUSABLE = 0, 1, 2


def _ids(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


def _write(path: str, text: str) -> None:
    _write_with(path, lambda out: out.write(text.encode("utf-8")))


def _write_with(path: str, writer: Callable[[BinaryIO], object]) -> None:
    """Run ``writer`` on the output file (or standard output for ``-``)."""
    if path == "-":
        out = sys.stdout.buffer  # (click's get_binary_stream is deprecated in Click 8.3+)
        writer(out)
        out.flush()
        return
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as out:
            writer(out)
    except OSError as exc:
        raise ScrubError(f"cannot write output ({exc.strerror})", path) from None


_MAX_WARNINGS_SHOWN = 10


def _warn_inputs(warnings: list[dict[str, str]]) -> None:
    """File-level problems that did not stop the scrub (X12 envelope counts), one line each on stderr."""
    for w in warnings[:_MAX_WARNINGS_SHOWN]:
        click.echo(f"scrub: warning: {w['source']}: {w['problem']} (claims still checked; --strict rejects "
                   "the file)", err=True)
    if len(warnings) > _MAX_WARNINGS_SHOWN:
        click.echo(f"scrub: warning: ... and {len(warnings) - _MAX_WARNINGS_SHOWN} more (input_warnings in the "
                   "findings JSON)", err=True)


def _fail(message: str) -> None:
    click.echo(f"scrub: error: {message}", err=True)
    sys.exit(EXIT_UNUSABLE)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="scrub")
def main() -> None:
    """Scrub infusion and injection claims before submission, or audit them after payment.

    Start with `scrub check CLAIMS.csv`; `scrub checks` lists what is checked and
    `scrub explain CHECK_ID` tells why.
    """


@main.command()
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@click.option("--json", "json_path", metavar="PATH", help="Write findings JSON (FORMATS.md) to PATH, or - for stdout.")
@click.option("--csv", "csv_path", metavar="PATH", help="Write findings as CSV to PATH, or - for stdout.")
@click.option("--html", "html_path", metavar="PATH", help="Write the HTML audit report to PATH.")
@click.option("--format", "stdout_format", type=click.Choice(("json", "csv", "html")),
              help="Write this format to standard output (the same as --json - / --csv - / --html -).")
@click.option("--policy", "policies", multiple=True, metavar="FILE",
              help="Payer policy TOML extending MEDICARE or DEFAULT (repeatable; later files win).")
@click.option("--records", metavar="FILE", help="Administration records (CSV/JSON) joined on claim_id + line_number.")
@click.option("--select", metavar="IDS", help="Run only these check ids (comma-separated).")
@click.option("--ignore", metavar="IDS", help="Skip these check ids (comma-separated); applied after --select.")
@click.option("--fail-on", type=click.Choice(FAIL_ON), default="error", show_default=True,
              help="Exit 1 when a finding at or above this severity exists.")
@click.option("--mask-phi", is_flag=True, help="Hide member ids in the HTML report.")
@click.option("--strict", is_flag=True,
              help="Also validate X12 inputs against the 5010 implementation guide with pyx12 (slow; needs pyx12).")
@click.option("--debug", is_flag=True, help="Show the traceback of an unexpected error.")
@click.option("--timings", is_flag=True, help="Print the wall time of each phase on stderr (diagnostics).")
@click.option("--engine", type=click.Choice(("local", "spark")), default="local", show_default=True,
              help="spark: read CSV/Parquet with Apache Spark and scrub partitioned by member (needs scrubber[spark], "
                   "Java 17+); same outputs.")
@click.option("--spark-master", metavar="URL", help="Spark master for --engine spark (default local[*]).")
def check(inputs: tuple[str, ...], json_path: str | None, csv_path: str | None, html_path: str | None,
          stdout_format: str | None, policies: tuple[str, ...], records: str | None, select: str | None,
          ignore: str | None, fail_on: str, mask_phi: bool, strict: bool, debug: bool, timings: bool,
          engine: str, spark_master: str | None) -> None:
    """Scrub claim files: CSV, JSON, JSON Lines, X12 837 or Parquet (files or folders).

    With no output option, prints a summary table. Exit status 0: nothing at or above --fail-on;
    1: findings at or above it; 2: unusable input or options.
    """
    if stdout_format:
        named = {"json": json_path, "csv": csv_path, "html": html_path}[stdout_format]
        if named not in (None, "-"):
            _fail(f"--format {stdout_format} writes to standard output; --{stdout_format} {named} names a file too")
        json_path, csv_path, html_path = (
            "-" if stdout_format == f else p for f, p in (("json", json_path), ("csv", csv_path), ("html", html_path))
        )
    if [json_path, csv_path, html_path].count("-") > 1:
        _fail("only one output can go to standard output (-)")
    if engine == "spark":
        unsupported = [name for name, given in (("--records", records), ("--strict", strict)) if given]
        if unsupported:
            _fail(f"{' and '.join(unsupported)} not supported with --engine spark (use the local engine)")
    elif spark_master:
        _fail("--spark-master applies to --engine spark only")
    failed = False
    try:
        from scrubber.engine import SEVERITY_RANK, scrub

        if engine == "spark":  # the only path that imports pyspark
            from scrubber.spark import scrub_files

            result = scrub_files(list(inputs), policy_files=policies, select=_ids(select), ignore=_ids(ignore),
                                 master=spark_master or "local[*]", report_lines=bool(html_path))
        else:
            result = scrub(list(inputs), policy_files=policies, records=records, select=_ids(select),
                           ignore=_ids(ignore), strict=strict)
        threshold = SEVERITY_RANK.get(fail_on, 99)
        failed = any(SEVERITY_RANK[s] >= threshold for s in result.findings.get_column("severity").unique())
        _warn_inputs(result.input_warnings)
        clock = time.perf_counter()
        if json_path:
            from scrubber.output.json_output import write_json

            _write_with(json_path, lambda out: write_json(result, out))
        if csv_path:
            from scrubber.output.csv_output import render_csv

            _write(csv_path, render_csv(result))
        if html_path:
            from scrubber.output.html_report import render_html

            _write(html_path, render_html(result, mask_phi=mask_phi))
        if not (json_path or csv_path or html_path):
            from scrubber.output.terminal import render_summary

            click.echo(render_summary(result, fail_on, failed), nl=False)
        if timings:
            phases = {**result.timings, "write outputs": round(time.perf_counter() - clock, 4)}
            click.echo("timings (s): " + ", ".join(f"{k} {v:.2f}" for k, v in phases.items()), err=True)
        if (json_path or csv_path or html_path) and "-" not in (json_path, csv_path, html_path):
            s = result.summary
            click.echo(
                f"{s['findings']} finding(s) on {s['claims_with_findings']} of {s['claims']} claim(s); "
                f"{s['rows_read']} rows read = {s['rows_checked']} checked + {s['rejected_rows']} rejected.",
                err=True,
            )
    except ScrubError as exc:
        if debug:
            raise
        _fail(str(exc))
    except BrokenPipeError:  # `scrub check ... --json - | head`: the reader left; nothing to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(EXIT_FINDINGS if failed else EXIT_OK)
    except Exception as exc:
        if debug:
            raise
        _fail(f"unexpected {type(exc).__name__}: {exc} (run again with --debug for details)")
    except BaseException as exc:
        # A panic inside Polars surfaces as pyo3's PanicException, a BaseException: still exit 2 with
        # one line, never a traceback with status 1 (which would read as "findings").
        if debug or type(exc).__name__ != "PanicException":
            raise
        _fail(f"internal error in Polars ({exc}); please report it with the input (run again with --debug)")
    sys.exit(EXIT_FINDINGS if failed else EXIT_OK)


@main.command(name="checks")
def list_checks() -> None:
    """List the registered checks: id, severity, scope and title."""
    from checks import all_checks

    for c in all_checks():
        click.echo(f"{c.id:<34}{c.severity:<9}{c.scope:<11}{c.title}")


@main.command()
@click.argument("check_id")
def explain(check_id: str) -> None:
    """Print one check's documentation: what, why, example, fix, sources."""
    from checks import by_id

    checks = by_id()
    if check_id not in checks:
        _fail(f"unknown check id '{check_id}' (known: {', '.join(checks)})")
    from scrubber.explain import explain_text

    click.echo(explain_text(checks[check_id]), nl=False)


if __name__ == "__main__":  # pragma: no cover
    main()
