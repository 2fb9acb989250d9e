"""Drug lines outside the immune globulin table are counted, never passed silently.

The checks judge units and JW/JZ for the immune globulin codes only (scrubber/data/immune_globulins.csv).
A Medicare claim billing J0897 without JZ, J1745 x4 for 400 mg (40 units) or J9035 with JZ beside
100 mg documented waste came back PASS with every "not evaluated" count at 0, as if their drug lines
had been checked (probe M). The summary says how many such lines were not checked.
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from scrubber.cli import main
from scrubber.engine import scrub

HEADER = ("claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,modifier_1,units,"
          "diagnosis_1")


def _write(tmp_path: Path, *rows: str) -> str:
    path = tmp_path / "claims.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return str(path)


def test_j_codes_outside_the_ig_table_are_counted(tmp_path: Path) -> None:
    path = _write(tmp_path,
                  "N1,1,M1,MEDICARE,11,2026-06-10,96372,,1,M81.0", "N1,2,M1,MEDICARE,11,2026-06-10,J0897,,60,M81.0",
                  "N2,1,M2,MEDICARE,11,2026-06-10,J1745,JZ,4,K50.90", "N3,1,M3,AETNA,11,2026-06-10,J9035,JZ,40,C50.911",
                  # near misses: an IG drug line (checked) and administration codes are not counted
                  "N4,1,M4,MEDICARE,11,2026-06-10,96365,,1,D80.0", "N4,2,M4,MEDICARE,11,2026-06-10,J1459,JZ,70,D80.0")
    assert scrub([path]).summary["drug_lines_not_checked"] == 3
    terminal = CliRunner().invoke(main, ["check", path, "--no-config", "--fail-on", "never"])
    said = "3 drug line(s) outside the immune globulin table: their units and JW/JZ were not checked."
    assert said in terminal.output
    html = tmp_path / "r.html"
    CliRunner().invoke(main, ["check", path, "--no-config", "--fail-on", "never", "--html", str(html)])
    assert "3 drug line(s) outside the immune globulin table" in html.read_text(encoding="utf-8")


def test_a_batch_of_ig_drugs_only_says_nothing(tmp_path: Path) -> None:
    path = _write(tmp_path, "N4,1,M4,MEDICARE,11,2026-06-10,96365,,1,D80.0",
                  "N4,2,M4,MEDICARE,11,2026-06-10,J1459,JZ,70,D80.0")
    assert "drug_lines_not_checked" not in scrub([path]).summary
