"""What a service the one-initial rule outranks is billed as, the same in every fix on its line.

Hydration that another initial service outranks is secondary hydration, in units of its minutes; an
infusion of 15 minutes or less that another initial service outranks is a sequential push (below).

96360 beside 96365 is a second initial service (``duplicate-initial-infusion``: "report it as 96361"),
and when it also ran concurrently with the 96365, ``concurrent-hydration`` recomputes it from its
minutes outside the overlap. Both fixes sit on the same line and must give the same coding: 96361 in
the units of secondary hydration, ``1 + floor((T - 31) / 60)`` of the minutes outside other infusions
(RULES.md unit-miscalculation; CPT: hydration after another initial service is 96361), never "96361
x1" for two hours, nor 96360 back as an initial service (``checks._counting.hydration_as_secondary``).
"""

from __future__ import annotations

import polars as pl
import pytest

from scrubber.engine import scrub

HEADER = ("claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,units,charge,"
          "diagnosis_1,infusion_start,infusion_stop")
D = "2026-03-10"


def _line(claim: str, n: int, code: str, units: int, start: str = "", stop: str = "", *, day: str = D,
          payer: str = "MEDICARE", dx: str = "E86.0") -> str:
    times = [f"{day}T{start}" if start else "", f"{day}T{stop}" if stop else ""]
    return ",".join([claim, str(n), f"M{claim}", payer, "11", day, code, str(units), "100", dx, *times])


CLAIMS = [
    # Concurrent 08:00-09:30 with 96365 09:00-10:00: 60 minutes outside -> 96361 x1 in both fixes.
    _line("H1", 1, "96365", 1, "09:00", "10:00"), _line("H1", 2, "96360", 1, "08:00", "09:30"),
    # 07:00-09:30: 120 minutes outside -> 96361 x2 in both (was x1 and "96360 x1 and 96361 x1").
    _line("H2", 1, "96365", 1, "09:00", "10:00"), _line("H2", 2, "96360", 1, "07:00", "09:30"),
    # Not concurrent, 10:00-12:00 after 96365: 120 minutes -> 96361 x2 (was x1).
    _line("H3", 1, "96365", 1, "09:00", "10:00"), _line("H3", 2, "96360", 1, "10:00", "12:00"),
    # 96360 10:00-11:00 with its 96361 11:00-12:00: 120 minutes support 96361 x2; line 3 stays: line 2 x1.
    _line("H4", 1, "96365", 1, "09:00", "10:00"), _line("H4", 2, "96360", 1, "10:00", "11:00"),
    _line("H4", 3, "96361", 1, "11:00", "12:00"),
    # Near misses: 45 minutes -> x1 (boundary: 91 minutes would be x2); the 96365 has no times (the
    # minutes outside it cannot be told): the excess units, as before; 96360 twice: a repeat, x1.
    _line("H5", 1, "96365", 1, "09:00", "10:00"), _line("H5", 2, "96360", 1, "10:00", "10:45"),
    _line("H6", 1, "96365", 1), _line("H6", 2, "96360", 1, "10:00", "12:00"),
    _line("H7", 1, "96360", 1, "10:00", "12:00"), _line("H7", 2, "96360", 1, "13:00", "15:00"),
    _line("H8", 1, "96365", 1, "09:00", "10:00"), _line("H8", 2, "96360", 1, "10:00", "11:30"),
    _line("H9", 1, "96365", 1, "09:00", "10:00"), _line("H9", 2, "96360", 1, "10:00", "11:31"),
    # 96360 10:00-13:00 (180 minutes: 96361 x3 in all) beside an untimed 96361 x2, which stays: line 2
    # is x1 (it said x3: x5 in all, probe X); near miss H11, the untimed 96361 x1 beside 120 minutes: x1.
    _line("H10", 1, "96365", 1, "09:00", "10:00"), _line("H10", 2, "96360", 1, "10:00", "13:00"),
    _line("H10", 3, "96361", 2),
    _line("H11", 1, "96365", 1, "09:00", "10:00"), _line("H11", 2, "96360", 1, "10:00", "12:00"),
    _line("H11", 3, "96361", 1),
    # 96360 09:00-11:00 around 96365 09:30-10:30: 60 minutes outside support 96361 x1, which the untimed
    # 96361 x1 already bills: line 2 is deleted in the one-initial fix (it said "as 96361 x1": x2 in all,
    # against concurrent-hydration's "96361 x1"; probe 16A).
    _line("H12", 1, "96365", 1, "09:30", "10:30"), _line("H12", 2, "96360", 1, "09:00", "11:00"),
    _line("H12", 3, "96361", 1),
    # Near miss: 96360 10:00-11:00 after the 96365 (60 minutes: 96361 x1) beside an untimed 96361 x1 whose
    # hour unit-miscalculation deletes (60 minutes of initial hydration support no hour): that line does
    # not stay, so line 2 is 96361 x1 (the first cut deleted both: no hydration billed; probe 16E).
    _line("H13", 1, "96365", 1, "09:00", "10:00"), _line("H13", 2, "96360", 1, "10:00", "11:00"),
    _line("H13", 3, "96361", 1),
]


@pytest.fixture(scope="module")
def fixes(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], str]:
    path = tmp_path_factory.mktemp("hydration") / "claims.csv"
    path.write_text("\n".join([HEADER, *CLAIMS]) + "\n", encoding="utf-8")
    result = scrub([str(path)], select=["duplicate-initial-infusion", "concurrent-hydration", "unit-miscalculation"])
    assert result.summary["rejected_rows"] == 0
    found = result.findings.filter(pl.col("line_number") >= 2).with_columns(
        pl.when(pl.col("line_number") == 3).then(pl.col("check_id") + "@3").otherwise(pl.col("check_id"))
        .alias("check_id"))
    return {(c, k): f for c, k, f in found.select("claim_id", "check_id", "suggested_fix").iter_rows()}


@pytest.mark.parametrize(("claim", "units"), [("H1", 1), ("H2", 2)])
def test_both_fixes_on_concurrent_hydration_agree_on_secondary_units(fixes, claim: str, units: int) -> None:
    assert f"as 96361 x{units} instead of 96360" in fixes[(claim, "duplicate-initial-infusion")]
    assert fixes[(claim, "concurrent-hydration")].endswith(f"outside the other infusion only: 96361 x{units}.")


@pytest.mark.parametrize(("claim", "units"), [("H3", 2), ("H4", 1), ("H5", 1), ("H6", 1), ("H7", 1), ("H8", 1),
                                              ("H9", 2), ("H10", 1), ("H11", 1)])
def test_hydration_after_another_initial_is_billed_in_its_secondary_units(fixes, claim: str, units: int) -> None:
    assert f"as 96361 x{units} instead of 96360" in fixes[(claim, "duplicate-initial-infusion")]
    assert (claim, "concurrent-hydration") not in fixes


def test_hydration_beside_an_hour_line_another_fix_deletes_is_still_billed(fixes) -> None:
    assert "as 96361 x1 instead of 96360" in fixes[("H13", "duplicate-initial-infusion")]
    assert fixes[("H13", "unit-miscalculation@3")].startswith("Delete 96361 (claim H13 line 3")


def test_hydration_whose_secondary_units_are_billed_elsewhere_is_deleted(fixes) -> None:
    one_initial = fixes[("H12", "duplicate-initial-infusion")]
    assert one_initial.startswith("Delete claim H12 line 2 (96360)") and "96361 x1 in all" in one_initial
    assert "instead of 96360" not in one_initial
    assert fixes[("H12", "concurrent-hydration")].endswith("outside the other infusion only: 96361 x1.")


SHORT = [
    # 96365 for 10 minutes after 96413: a sequential push, 96375, in both fixes (was 96367 from the
    # one-initial rule and 96374, a second initial service, from the too-short rule).
    _line("P1", 1, "96413", 1, "09:00", "10:00"), _line("P1", 2, "96365", 1, "10:00", "10:10"),
    # Near misses: 16 minutes is an infusion (96367); 15 minutes alone on the claim is the initial push 96374.
    _line("P2", 1, "96413", 1, "09:00", "10:00"), _line("P2", 2, "96365", 1, "10:00", "10:16"),
    _line("P3", 1, "96365", 1, "09:00", "09:15"),
]


def test_a_short_infusion_after_another_initial_is_a_sequential_push(tmp_path) -> None:
    path = tmp_path / "claims.csv"
    path.write_text("\n".join([HEADER, *SHORT]) + "\n", encoding="utf-8")
    found = scrub([str(path)], select=["duplicate-initial-infusion", "infusion-too-short"]).findings
    fixes = {(c, n, k): f for c, n, k, f in found.select("claim_id", "line_number", "check_id", "suggested_fix")
             .iter_rows()}
    assert "as 96375 x1 instead of 96365" in fixes[("P1", 2, "duplicate-initial-infusion")]
    assert fixes[("P1", 2, "infusion-too-short")].startswith("Bill 96375 x1 instead of 96365 on line 2")
    assert "as 96367 x1 instead of 96365" in fixes[("P2", 2, "duplicate-initial-infusion")]
    assert ("P2", 2, "infusion-too-short") not in fixes
    assert fixes[("P3", 1, "infusion-too-short")].startswith("Bill 96374 x1 instead of 96365 on line 1")


OBS_HEADER = HEADER + ",observation_minutes,ndc,drug_dose_mg"


def _obs_line(claim: str, n: int, code: str, units: int, start: str = "", stop: str = "", obs: str = "",
              dose: str = "") -> str:
    return ",".join([_line(claim, n, code, units, start, stop), obs, "", dose])


# Every fix on a line documented under its floor names the same coding (a coding expert's probe: the
# one-initial rule said "96361 x1" for 25 minutes of hydration the too-short rule deletes; "96367" for
# a 10-minute infusion lifted by observation the observation rule sent to 96374, a second initial; the
# observation rule sent an immune globulin infusion to 96374, which route-mismatch sends back).
FLOOR = [
    # Hydration of 25 minutes before 96365: not reportable, in both fixes (was "as 96361 x1").
    _obs_line("S1", 1, "96360", 1, "08:00", "08:25"), _obs_line("S1", 2, "96365", 1, "09:00", "10:00"),
    # Near miss: 31 minutes is secondary hydration, 96361 x1.
    _obs_line("S2", 1, "96360", 1, "08:00", "08:31"), _obs_line("S2", 2, "96365", 1, "09:00", "10:00"),
    # 10 minutes + 10 of observation after 96365: the sequential push 96375 in both (was 96367 and 96374).
    _obs_line("S3", 1, "96365", 1, "09:00", "10:00"), _obs_line("S3", 2, "96365", 1, "10:00", "10:10", "10"),
    # The same alone on its claim: the initial push, 96374 (near miss of S3).
    _obs_line("S4", 1, "96365", 1, "10:00", "10:10", "10"),
    # Immune globulin: never a push; the observation rule asks for the record's times (was "bill 96374").
    _obs_line("S5", 1, "96365", 1, "10:00", "10:10", "10"), _obs_line("S5", 2, "J1459", 10, dose="5000"),
]


@pytest.fixture(scope="module")
def floor_findings(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, int, str], tuple[str, str]]:
    path = tmp_path_factory.mktemp("floor") / "claims.csv"
    path.write_text("\n".join([OBS_HEADER, *FLOOR]) + "\n", encoding="utf-8")
    result = scrub([str(path)], select=["duplicate-initial-infusion", "infusion-too-short",
                                        "observation-counted-as-infusion", "route-mismatch"])
    assert result.summary["rejected_rows"] == 0
    return {(c, n, k): (r, f) for c, n, k, r, f in result.findings.select(
        "claim_id", "line_number", "check_id", "reason", "suggested_fix").iter_rows()}


def test_short_hydration_beside_another_initial_is_deleted_in_every_fix(floor_findings) -> None:
    reason, fix = floor_findings[("S1", 1, "duplicate-initial-infusion")]
    assert reason == "second_initial_short_hydration" and fix.startswith("Delete claim S1 line 1 (96360)")
    assert floor_findings[("S1", 1, "infusion-too-short")][1].startswith("Delete line 1 (96360)")
    reason, fix = floor_findings[("S2", 1, "duplicate-initial-infusion")]
    assert reason == "second_initial" and "as 96361 x1 instead of 96360" in fix
    assert ("S2", 1, "infusion-too-short") not in floor_findings


def test_infusion_lifted_by_observation_after_another_initial_is_the_sequential_push(floor_findings) -> None:
    assert "as 96375 x1 instead of 96365" in floor_findings[("S3", 2, "duplicate-initial-infusion")][1]
    reason, fix = floor_findings[("S3", 2, "observation-counted-as-infusion")]
    assert reason == "below_floor_push" and fix.startswith("Bill 96375 x1 instead of 96365 on line 2")
    reason, fix = floor_findings[("S4", 1, "observation-counted-as-infusion")]
    assert reason == "below_floor_push" and fix.startswith("Bill 96374 x1 instead of 96365 on line 1")


def test_immune_globulin_infusion_lifted_by_observation_is_fixed_by_its_times(floor_findings) -> None:
    reason, fix = floor_findings[("S5", 1, "observation-counted-as-infusion")]
    assert reason == "below_floor_ig" and "confirm the infusion's start and stop times" in fix
    assert not any(k[0] == "S5" and k[2] == "route-mismatch" for k in floor_findings)


REPEATED = [
    # 96365 x2 documented 60 minutes: 96365 x1 and no 96366 (was "96365 x1 and 96366 x1 as documented").
    _line("R1", 1, "96365", 2, "09:00", "10:00"),
    # Boundary: 90 minutes supports no 96366, 91 minutes one; 151 minutes two.
    _line("R2", 1, "96365", 3, "09:00", "10:30"), _line("R3", 1, "96365", 2, "09:00", "10:31"),
    _line("R4", 1, "96365", 2, "09:00", "11:31"),
    # No times: the fix leaves the hours to the documented minutes (reason repeated_hours).
    _line("R5", 1, "96365", 2),
]


@pytest.mark.parametrize(("claim", "supported"), [("R1", "96365 x1 and no 96366"), ("R2", "96365 x1 and no 96366"),
                                                  ("R3", "96365 x1 and 96366 x1"), ("R4", "96365 x1 and 96366 x2")])
def test_repeated_initial_hours_are_what_the_documented_minutes_support(tmp_path, claim: str, supported: str) -> None:
    path = tmp_path / "claims.csv"
    path.write_text("\n".join([HEADER, *REPEATED]) + "\n", encoding="utf-8")
    found = scrub([str(path)], select=["duplicate-initial-infusion"]).findings
    rows = {c: (r, f) for c, r, f in found.select("claim_id", "reason", "suggested_fix").iter_rows()}
    reason, fix = rows[claim]
    assert reason == "repeated_hours_timed" and f"support {supported} in all" in fix
    assert rows["R5"][0] == "repeated_hours"


# Probe 24A D1: in an immune globulin encounter every short infusion was read as the IG's (never a
# push: "confirm the times"), also a 10-minute premedication billed as a second 96365 after three
# hours of IVIG, where the one-initial rule then said "96367 x1", a 96367 the too-short rule flags
# again. The IG's infusion is the long one: the premedication is the sequential push in both fixes.
IG_PREMED = [
    _obs_line("G1", 1, "96365", 1, "09:00", "12:00"), _obs_line("G1", 2, "96366", 2),
    _obs_line("G1", 3, "96365", 1, "12:00", "12:10"), _obs_line("G1", 4, "J1459", 70, dose="35000"),
    # Near miss: the encounter's only infusion is the short one: the IG's, whose times are asked for.
    _obs_line("G2", 1, "96365", 1, "09:00", "09:10"), _obs_line("G2", 2, "J1459", 70, dose="35000"),
]


def test_a_premedication_beside_the_immune_globulin_infusion_is_a_sequential_push(tmp_path) -> None:
    path = tmp_path / "claims.csv"
    path.write_text("\n".join([OBS_HEADER, *IG_PREMED]) + "\n", encoding="utf-8")
    found = scrub([str(path)], select=["duplicate-initial-infusion", "infusion-too-short"]).findings
    fixes = {(c, n, k): (r, f) for c, n, k, r, f in found.select(
        "claim_id", "line_number", "check_id", "reason", "suggested_fix").iter_rows()}
    assert "as 96375 x1 instead of 96365" in fixes[("G1", 3, "duplicate-initial-infusion")][1]
    reason, fix = fixes[("G1", 3, "infusion-too-short")]
    assert reason == "push" and fix.startswith("Bill 96375 x1 instead of 96365 on line 3")
    reason, fix = fixes[("G2", 1, "infusion-too-short")]
    assert reason == "ig_push" and "confirm the infusion's start and stop times" in fix


def test_a_push_billed_as_the_initial_infusion_before_the_infusion_swaps_with_it(tmp_path) -> None:
    """Probe 24A O01: a 10-minute premedication on 96365 before three hours of IVIG on 96367 was told
    "bill 96374" (then 96374 + 96367: the push the initial service beside an infusion). The infusion is
    the initial service (CPT's hierarchy; IOM 100-04 ch.12 §30.5, the primary reason "irrespective of
    the order"): 96375 and 96365, and the corrected claim settles."""
    rows = [_obs_line("W1", 1, "96365", 1, "08:50", "09:00"), _obs_line("W1", 2, "96367", 1, "09:00", "12:00"),
            _obs_line("W1", 3, "96366", 2), _obs_line("W1", 4, "J1459", 70, dose="35000")]
    path = tmp_path / "claims.csv"
    path.write_text("\n".join([OBS_HEADER, *rows]) + "\n", encoding="utf-8")
    # (the J1459 line without JZ is missing-modifier's, apart)
    (finding,) = scrub([str(path)], ignore=["missing-modifier"]).findings.to_dicts()
    assert (finding["check_id"], finding["reason"]) == ("infusion-too-short", "push_before_infusion")
    assert finding["suggested_fix"].startswith("Bill 96375 x1 instead of 96365 on line 1 of claim W1 (2026-03-10), "
                                               "and report 96367 on claim W1 line 2 as 96365")
    fixed = [r.replace(",96365,", ",96375,").replace(",96367,", ",96365,") for r in rows]
    path.write_text("\n".join([OBS_HEADER, *fixed]) + "\n", encoding="utf-8")
    assert scrub([str(path)], ignore=["missing-modifier"]).findings.height == 0
