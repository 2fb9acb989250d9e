"""Hostile inputs of probe 25C: an X12 interchange behind a BOM, NUL or Ctrl-Z read as nothing; a
diagnosis pointer "²" stopping the run; an escape sequence in a quoted X12 segment reaching the
terminal; a fullwidth CSV header neither read nor named.

The contract: every row is read, or reported as rejected with its reason; a bad cell never ends the run;
what reaches the terminal is printable; a column meant as a claims column is read as it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_x12_loader import HEADER, IVIG_CLAIM, interchange, subscriber

from scrubber.cli import main
from scrubber.engine import scrub

TWO_CLAIMS = [*HEADER, *subscriber(2, "MBR100", "MEDICARE"), *IVIG_CLAIM]


def _second(claim: str) -> list[str]:
    """The same transaction, its claim renamed (two interchanges of one batch, two claims)."""
    return [s.replace("IVIG100", claim) for s in TWO_CLAIMS]


@pytest.mark.parametrize("seam", ["\ufeff", "\x00", "\x1a", "\n"])
def test_a_second_interchange_after_a_byte_order_mark_nul_or_ctrl_z_is_read(tmp_path: Path, seam: str) -> None:
    # Two files joined (Windows-saved, each with a BOM; DOS ``copy a+b`` leaves Ctrl-Z): the second with
    # other separators. Its lines were read as nothing, the count agreed (it shares the segmenter), exit 0.
    first = interchange(TWO_CLAIMS)
    second = interchange(_second("IVIG200"), element="|", component="^", terminator="\n", newline="", control=2)
    path = tmp_path / "joined.837"
    path.write_text("\ufeff" + first + seam + second, encoding="utf-8")
    alone = scrub([str(_write(tmp_path, "first.837", first))])
    result = scrub([str(path)])
    assert result.summary["rows_read"] == 2 * alone.summary["rows_read"] > 0, result.summary
    assert result.summary["rows_checked"] == result.summary["rows_read"] and result.summary["rejected_rows"] == 0
    assert set(result.findings.get_column("claim_id")) >= {"IVIG100", "IVIG200"} or result.findings.height == 0
    assert not [w for w in result.input_warnings if "rejected" in w["problem"]], result.input_warnings


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("pointer", ["\u00b2", "\u2460", "\u0661"])
def test_a_diagnosis_pointer_of_a_digit_that_is_no_ascii_digit_rejects_its_line_only(tmp_path: Path,
                                                                                    pointer: str) -> None:
    # "²" passed str.isdigit and int() refused it: "unexpected ValueError", exit 2, no output.
    text = interchange(TWO_CLAIMS)
    sv1 = next(s for s in TWO_CLAIMS if s.startswith("SV1*"))
    bad = text.replace(sv1, sv1[: sv1.rindex("*") + 1] + pointer, 1)
    assert bad != text
    path = _write(tmp_path, "pointer.837", bad)
    result = CliRunner().invoke(main, ["check", str(path), "--no-config", "--json", "-", "--fail-on", "never"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    reasons = [r["reason"] for r in doc["rejected_rows"]]
    assert len(reasons) == 1 and "(SV107) is not a number" in reasons[0], reasons
    # Near miss: the pointer "1" reads.
    good = scrub([str(_write(tmp_path, "good.837", text))])
    assert good.summary["rejected_rows"] == 0 and good.summary["rows_read"] == doc["summary"]["rows_read"]


def test_an_escape_sequence_quoted_from_an_x12_file_does_not_reach_the_terminal(tmp_path: Path) -> None:
    # A segment after the IEA is quoted in a warning; its ESC and BEL cleared the screen and set the
    # window title. Shown as U+FFFD; the warning itself stays.
    text = interchange(TWO_CLAIMS) + "\x1b[2J\x1b]0;PWNED\x07~"
    path = _write(tmp_path, "escape.837", text)
    result = CliRunner().invoke(main, ["check", str(path), "--no-config", "--fail-on", "never"])
    warnings = [line for line in result.stderr.splitlines() if line.startswith("scrub: warning:")]
    assert warnings and "\ufffd[2J" in warnings[0], warnings
    assert not any(c in result.stderr for c in "\x1b\x07"), repr(result.stderr)


def test_a_fullwidth_claims_column_is_read_as_its_column(tmp_path: Path) -> None:
    # An East Asian input method writes modifier_1 in fullwidth letters: it was neither read nor named,
    # and the JZ on the drug line went unseen ("neither JZ nor a JW line").
    rows = ("claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,{m},units,charge,"
            "diagnosis_1,drug_dose_mg,infusion_start,infusion_stop\n"
            "C1,1,M1,MEDICARE,11,2026-03-02,96365,,1,350,D80.0,,2026-03-02T09:00,2026-03-02T10:00\n"
            "C1,2,M1,MEDICARE,11,2026-03-02,J1459,JZ,70,6650,D80.0,35000,,\n")
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in "modifier") + "_1"
    wide = scrub([str(_write(tmp_path, "wide.csv", rows.format(m=fullwidth)))])
    ascii_ = scrub([str(_write(tmp_path, "ascii.csv", rows.format(m="modifier_1")))])
    assert wide.findings.select("check_id", "reason").rows() == ascii_.findings.select("check_id", "reason").rows()
    assert "missing-modifier" not in set(wide.findings.get_column("check_id"))
