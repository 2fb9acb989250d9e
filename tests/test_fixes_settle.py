"""A fix applied as written settles the claim: the corrected claim passes the checks that spoke.

Billing staff apply the suggested fix of each finding and send the claim again (README "a fix per
line"); a fix that names a count another finding on the same line contradicts, or that leaves the
claim over the limit it quotes, sends them round a loop. Each case here bills a claim, reads the
fix's corrected units, bills them and runs again.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import polars as pl

from scrubber.engine import scrub

HEADER = ("claim_id,line_number,member_id,payer,claim_type,place_of_service,date_of_service,procedure_code,"
          "units,charge,diagnosis_1,route,infusion_start,infusion_stop")
CAP_POLICY = textwrap.dedent('''
    name = "ACME"
    extends = "DEFAULT"
    payers = ["ACME"]
    [caps]
    "96366" = 2
''')


def _run(tmp_path: Path, name: str, rows: list[str], policies: list[str]) -> pl.DataFrame:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    result = scrub([str(path)], policy_files=policies)
    assert result.summary["rejected_rows"] == 0
    return result.findings


def _claim(units: int) -> list[str]:
    # 96365 08:00-11:45 (225 minutes: the record supports 96366 x3) and 96366 billed x``units``.
    return ["P1,1,M1,ACME,professional,11,2026-03-10,96365,1,350,D80.0,IV,2026-03-10T08:00,2026-03-10T11:45",
            f"P1,2,M1,ACME,professional,11,2026-03-10,96366,{units},{100 * units},D80.0,,,"]


def test_a_policy_cap_fix_counts_the_units_another_finding_takes_off_the_line(tmp_path: Path) -> None:
    policy = tmp_path / "acme.toml"
    policy.write_text(CAP_POLICY, encoding="utf-8")
    first = _run(tmp_path, "before.csv", _claim(5), [str(policy)])
    fixes = dict(first.select("check_id", "suggested_fix").iter_rows())
    # x5 where the record supports x3 (unit-miscalculation) and the payer caps 96366 at 2: the cap's fix
    # is x2, not "x4" (5 less its own excess of 1, forgetting the 2 the record does not support).
    assert fixes["unit-miscalculation"].startswith("Bill 96366 x3 instead of x5")
    cap_fix = fixes["units-over-mue"]
    assert cap_fix.startswith("Bill 96366 x2 on claim P1 line 2"), cap_fix
    corrected = int(re.match(r"Bill 96366 x(\d+)", cap_fix).group(1))
    assert _run(tmp_path, "after.csv", _claim(corrected), [str(policy)]).height == 0
    # Near miss: x2 to begin with is within the record and the cap.
    assert _run(tmp_path, "within.csv", _claim(2), [str(policy)]).height == 0
