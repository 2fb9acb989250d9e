"""A bad row never changes the findings of good rows (issue 12), row by row over the sample batch.

Each row of the bundled sample claims is made bad in turn, as a user's file would be: a ragged row
(one cell too many: the loader cannot read it, its code is unknown), a row whose units cannot be
read (rejected, its code readable), one whose documented dose cannot be (a drug line rejected) and
one whose procedure code is blank (rejected, its code unknown). The other rows must get no finding
they did not get before: a check that reports the *absence* of a line (an add-on without its
primary, an immune globulin without its administration or its JW line, Q2052 without the drug,
hours an infusion line does not support) leaves such an encounter unevaluated instead of reporting
the bad row's line as missing. Findings may go (not evaluated), never appear; a claim-level finding
the bad row's own line carried may move to another line of its claim that points to the same code
(an invalid diagnosis is reported on the first line that points to it). Every fourth row, a
different offset per kind of damage (the whole batch row by row takes minutes).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from scrubber.engine import scrub

SAMPLE = Path(__file__).resolve().parents[1] / "sample_claims" / "claims.csv"


def _rows() -> tuple[list[str], list[list[str]]]:
    reader = csv.reader(io.StringIO(SAMPLE.read_text(encoding="utf-8")))
    header = next(reader)
    return header, list(reader)


def _findings(tmp_path: Path, header: list[str], rows: list[list[str]], extra: dict[int, str] | None = None) -> set:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for i, row in enumerate(rows):
        line = io.StringIO()
        csv.writer(line, lineterminator="").writerow(row)
        out.write(line.getvalue() + (extra or {}).get(i, "") + "\n")
    path = tmp_path / "claims.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    found = scrub([str(path)]).findings
    return set(found.select("claim_id", "line_number", "check_id", "reason").iter_rows())


@pytest.mark.parametrize(("bad", "offset"), [("ragged", 0), ("units", 2), ("drug_dose_mg", 1),
                                             ("procedure_code", 3)])
def test_no_bad_row_adds_a_finding_to_the_good_rows(tmp_path: Path, bad: str, offset: int) -> None:
    header, rows = _rows()
    good = _findings(tmp_path, header, rows)
    added = []
    for i in range(offset, len(rows), 4):
        row = rows[i]
        if bad == "ragged":
            found = _findings(tmp_path, header, rows, extra={i: ",EXTRA"})
        else:
            column = header.index(bad)
            if bad == "drug_dose_mg" and not row[column]:
                continue
            value = "" if bad == "procedure_code" else row[column] + "mg" if row[column] else "abc"
            damaged = [*rows[:i], [*row[:column], value, *row[column + 1:]], *rows[i + 1:]]
            found = _findings(tmp_path, header, damaged)
        claim, own = row[header.index("claim_id")], int(row[header.index("line_number")])
        moved = {(c, k, r) for c, n, k, r in good if (c, n) == (claim, own)}
        added += [(i, f) for f in found - good if f[1] != own or f[0] != claim
                  if (f[0], f[2], f[3]) not in moved]
    assert not added, added[:10]


ADDED_HEADER = ("claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,modifier_1,"
                "modifier_2,modifier_3,units,charge,diagnosis_1,drug_dose_mg,route")
ADDED_GOOD = [
    # home SCIG, no administration: no finding
    "H1,1,M1,MEDICARE,12,2026-03-04,J1559,JB,KX,JZ,80,6400.00,D83.9,8000,SC",
    # an add-on with no primary: no_primary
    "A1,1,MA,MEDICARE,11,2026-05-04,96366,,,,1,110.00,D80.0,,",
    # an SC-only product with IV infusion billed: sc_product_iv_admin naming 96365 (line 2)
    "S1,1,MS,MEDICARE,11,2026-03-04,J1559,JZ,,,80,6400.00,D83.9,8000,",
    "S1,2,MS,MEDICARE,11,2026-03-04,96365,,,,1,300.00,D83.9,,",
]


@pytest.mark.parametrize("added", [
    "H1,2,M1,MEDICARE,12,2026-03-04,96365,,,,1,abc,D83.9,,",    # an IV infusion the good J1559 would contradict
    "H1,2,M1,MEDICARE,12,2026-02-30,96365,,,,1,300.00,D83.9,,",  # the same, its date unreadable
    "A1,2,MA,MEDICARE,11,2026-05-04,96367,,,,1,abc,D80.0,,",     # an add-on beside the good add-on
    "S1,3,MS,MEDICARE,11,2026-03-04,96366,,,,1,abc,D83.9,,",     # another IV code beside the good finding's
])
def test_a_rejected_rows_readable_code_is_no_evidence_for_a_finding(tmp_path: Path, added: str) -> None:
    """A rejected row's readable code anchors add-ons (a bad row never makes a "no primary"), but it is
    no evidence for a finding nor a word of one (probe 18B): a rejected 96365 made a route error on a
    home J1559 whose words named "[admin lines?]"; a rejected 96367 turned a 96366's no_primary into
    unanchored_chain, a new finding id; a rejected 96366 was named in a good route finding's codes."""
    def run(rows: list[str]) -> set:
        path = tmp_path / "claims.csv"
        path.write_text("\n".join([ADDED_HEADER, *rows]) + "\n", encoding="utf-8")
        result = scrub([str(path)])
        assert result.summary["rows_checked"] == len(ADDED_GOOD)
        return set(result.findings.select("finding_id", "claim_id", "line_number", "check_id", "reason", "message",
                                          "suggested_fix").iter_rows())

    good = run(ADDED_GOOD)
    assert {(c, n, k, r) for _, c, n, k, r, _, _ in good} >= {("A1", 1, "addon-without-primary", "no_primary"),
                                                               ("S1", 1, "route-mismatch", "sc_product_iv_admin")}
    assert run([*ADDED_GOOD, added]) == good


def test_a_line_only_a_rejected_rows_code_would_flag_is_counted_not_evaluated(tmp_path: Path) -> None:
    """A home J1559 whose only administration is a rejected 96365: no route finding (the rejected code
    is no evidence), and the drug line is counted as not evaluated, not silently passed (probe 18F).
    Near miss: without the rejected row nothing is left unevaluated."""
    rows = [ADDED_HEADER, ADDED_GOOD[0]]
    path = tmp_path / "claims.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert scrub([str(path)]).summary["by_check"]["route-mismatch"]["lines_not_evaluated"] == 0
    path.write_text("\n".join([*rows, "H1,2,M1,MEDICARE,12,2026-03-04,96365,,,,1,abc,D83.9,,"]) + "\n",
                    encoding="utf-8")
    result = scrub([str(path)])
    assert result.findings.height == 0
    assert result.summary["by_check"]["route-mismatch"]["lines_not_evaluated"] == 1


PRIMARY_HEADER = "claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,units,charge," \
                 "diagnosis_1,infusion_start,infusion_stop"
PRIMARY_B = "PB,1,1EG4TE5MK72,MEDICARE,11,2026-03-02,96366,2,220.00,D80.0,,"  # its primary is claim PA's 96365


@pytest.mark.parametrize(("primary", "encoding"), [
    ("PA,1,1EG4TE5MK7\xe9,MEDICARE,11,2026-03-02,96365,1,350.00,D80.0,2026-03-02T09:00,2026-03-02T11:45", "latin-1"),
    ("PA,1,1EG4TE5MK72,MEDICARE,11,2026-03-0\xe9,96365,1,350.00,D80.0,2026-03-02T09:00,2026-03-02T11:45", "latin-1"),
    ("PA,1,1EG4TE5MK72,MEDICARE", "utf-8"),  # a row cut after its payer: date and code unknown
], ids=["bad-byte-member", "bad-byte-date", "cut-row"])
def test_a_row_whose_member_or_date_cannot_be_read_makes_no_finding_on_its_encounter(
        tmp_path: Path, primary: str, encoding: str) -> None:
    """Probe 20B: the 96365 of claim PA anchors claim PB's 96366 (the same member and date). Its row
    rejected for a member or date that cannot be read (a byte of another encoding, a row cut short),
    PB's add-on was reported "without its primary": the row may be of PB's encounter ("1EG4TE5MK7\ufffd"
    may be "1EG4TE5MK72"), so the add-on is not evaluated. Near misses: without the row at all the add-on has no
    primary; a member id that cannot be PB's ("9XX9XX9XX9\ufffd") leaves it reported."""
    path = tmp_path / "claims.csv"
    path.write_bytes("\n".join([PRIMARY_HEADER, primary, PRIMARY_B, ""]).encode(encoding))
    result = scrub([str(path)])
    assert result.summary["rejected_rows"] == 1
    assert result.findings.height == 0, result.findings.select("claim_id", "check_id", "reason").to_dicts()
    assert result.summary["by_check"]["addon-without-primary"]["lines_not_evaluated"] == 1
    path.write_text("\n".join([PRIMARY_HEADER, PRIMARY_B, ""]), encoding="utf-8")
    alone = scrub([str(path)]).findings
    assert alone.select("claim_id", "check_id", "reason").rows() == [("PB", "addon-without-primary", "no_primary")]
    if encoding == "latin-1":
        path.write_bytes("\n".join([PRIMARY_HEADER, primary.replace("1EG4TE5MK7", "9XX9XX9XX9"),
                                    PRIMARY_B, ""]).encode(encoding))
        other = scrub([str(path)]).findings
        assert other.select("claim_id", "check_id", "reason").rows() == [("PB", "addon-without-primary", "no_primary")]


def test_a_q2052_billed_again_stays_reported_beside_a_rejected_drug_row(tmp_path: Path) -> None:
    """Probe 20B: the home J1459 rejected for its units took the finding of the second Q2052 of that
    member and date with it; a Q2052 billed again is denied whether the drug is there or not. The first
    Q2052, whose drug is the rejected row, is not evaluated (near miss: with the drug row read, it passes)."""
    header = "claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,modifier_1,units," \
             "charge,diagnosis_1,drug_dose_mg,route"
    rows = ["P1,1,M9,MEDICARE,12,2026-06-05,J1459,JZ,{units},5700.00,D80.0,30000,IV",
            "P1,2,M9,MEDICARE,12,2026-06-05,Q2052,,4,420.48,D80.0,,",
            "P2,1,M9,MEDICARE,12,2026-06-05,Q2052,,4,420.48,D80.0,,"]
    path = tmp_path / "claims.csv"
    for units, not_evaluated in (("60", 0), ("abc", 1)):
        path.write_text("\n".join([header, *rows]).format(units=units) + "\n", encoding="utf-8")
        result = scrub([str(path)], select=["home-ig-supplies"])
        assert result.findings.select("claim_id", "line_number", "reason").rows() == [("P2", 1, "second_q2052")]
        assert result.summary["by_check"]["home-ig-supplies"]["lines_not_evaluated"] == not_evaluated


def test_a_member_id_mostly_unreadable_stands_for_no_member(tmp_path: Path) -> None:
    """Review 20D: eleven bytes of another encoding matched every eleven-character member id of the batch
    (every Medicare id), and every add-on without its primary went "not evaluated". An id with fewer than
    three characters read, or half of it marked, stands for no one; one mark among ten read stands for
    its member (the test above)."""
    good = ["PB,1,1EG4TE5MK72,MEDICARE,11,2026-03-02,96366,2,220.00,D80.0,,",
            "PC,1,9ZZ9ZZ9ZZ99,MEDICARE,11,2026-03-02,96366,1,110.00,D80.0,,"]
    bad = "PA,1," + "\xe9" * 11 + ",MEDICARE,11,2026-03-02,96365,1,350.00,D80.0,2026-03-02T09:00,2026-03-02T11:45"
    path = tmp_path / "claims.csv"
    path.write_bytes("\n".join([PRIMARY_HEADER, bad, *good, ""]).encode("latin-1"))
    result = scrub([str(path)])
    assert sorted(result.findings.get_column("claim_id").to_list()) == ["PB", "PC"]
    assert result.summary["by_check"]["addon-without-primary"]["lines_not_evaluated"] == 0
