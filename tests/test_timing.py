"""scrubber.timing, the one definition of infusion time: minutes and the midnight rule, what each
add-on hour extends, episodes of merged intervals, concurrent hydration minutes and the add-on units
each encounter supports (RULES.md second edition)."""

from __future__ import annotations

import polars as pl
import pytest

from scrubber import timing as tm
from scrubber.canonical import canonicalise
from scrubber.enrich import enrich
from scrubber.loaders import load_inputs
from scrubber.policy import PolicySet

HEADER = "claim_id,line_number,member_id,payer,claim_type,place_of_service,date_of_service,procedure_code,units," \
         "charge,infusion_start,infusion_stop,observation_minutes"


@pytest.fixture
def time_of(write_csv):
    """CSV lines (without header) -> the batch's :class:`scrubber.timing.Timing`, collected."""

    def _time(*rows: str) -> dict[str, pl.DataFrame]:
        path = write_csv("\n".join([HEADER, *rows]) + "\n")
        raw = load_inputs([str(path)], None)
        canon = canonicalise(pl.concat([b for _, b in raw.batches() if b is not None]))
        assert canon.rejected.height == 0, canon.rejected.to_dicts()
        t = tm.timing(enrich(canon.lines, PolicySet.load(), canon.rejected_lines).lazy())
        return {"lines": t.named(t.lines).sort("row_id").collect(), "episodes": t.episodes.sort("ep").collect(),
                "groups": t.groups.sort("enc_key", "tm_chain").collect()}

    return _time


def _row(c: str, n: int, code: str, units: int = 1, start: str = "", stop: str = "", obs: str = "",
         claim_type: str = "professional", dos: str = "2026-03-02") -> str:
    return f"{c},{n},M{c},AETNA,{claim_type},11,{dos},{code},{units},100,{start},{stop},{obs}"


def test_every_infusion_is_extended_by_exactly_one_additional_hour_code() -> None:
    table = pl.concat([pl.DataFrame({"code": tm.codes_where()}), tm.code_timing()], how="horizontal")
    assert tm.codes_where(tm_kind=tm.INFUSION) == ["96360", "96365", "96367", "96369", "96413", "96417"]
    assert tm.codes_where(tm_kind=tm.HOUR) == ["96361", "96366", "96370", "96415"]
    chain = dict(zip(table["code"], [None if i is None else table["code"][i] for i in table["tm_chain"]],
                     strict=True))
    assert {c: chain[c] for c in ("96360", "96365", "96367", "96369", "96413", "96417")} == {
        "96360": "96361", "96365": "96366", "96367": "96366", "96369": "96370", "96413": "96415", "96417": "96415"}
    floors = dict(zip(table["code"], table["tm_floor"], strict=True))
    assert floors["96360"] == 31 and floors["96365"] == floors["96367"] == floors["96413"] == floors["96417"] == 16
    assert floors["96369"] is None and tm.hydration_floor() == 31


@pytest.mark.parametrize(("start", "stop", "minutes"), [
    ("2026-03-02T09:00", "2026-03-02T10:30", 90),
    ("2026-03-02T23:00", "2026-03-02T02:00", 180),  # same-date stop before start: crossed midnight
    ("2026-03-02T20:00", "2026-03-02T08:00", 720),  # 12 hours: still plausible
    ("2026-03-02T10:00", "2026-03-02T09:59", None),  # 23 h 59: a recording error
    ("2026-03-02T00:30", "2026-03-01T23:45", None),  # stop dated before the start
    ("2026-03-02T23:00", "2026-03-03T01:00", 120),  # dated across midnight
])
def test_infusing_minutes_and_the_midnight_rule(start: str, stop: str, minutes: int | None) -> None:
    frame = pl.DataFrame({"infusion_start": [start], "infusion_stop": [stop]}).select(
        pl.col("*").str.to_datetime("%Y-%m-%dT%H:%M")).with_columns(
        pl.col("infusion_start").dt.date().alias("date_of_service"), pl.lit("professional").alias("claim_type"),
        pl.lit("11").alias("place_of_service"), pl.lit("96365").alias("procedure_code"))
    assert frame.select(tm.infusing_minutes()).item() == minutes


@pytest.mark.parametrize(("code", "claim_type", "start", "minutes"), [
    ("96365", "professional", "2026-03-03T09:00", None),  # a professional infusion documented the day after
    ("96366", "professional", "2026-03-03T09:00", 60),  # an add-on dated with the infusion it continues
    ("96365", "institutional", "2026-03-03T09:00", 60),  # a hospital line may carry its encounter's date
    ("96365", "professional", "2026-03-02T09:00", 60),  # its own date: the near miss
])
def test_a_start_the_day_after_the_date_of_service(code: str, claim_type: str, start: str,
                                                    minutes: int | None) -> None:
    """Review 27A D9: the day after the date of service only for an add-on (or a hospital claim's line):
    a professional 96365 dated 03-02 documented 03-03 is a recording error, as the day before is."""
    frame = pl.DataFrame({"infusion_start": [start]}).select(pl.col("infusion_start").str.to_datetime(
        "%Y-%m-%dT%H:%M")).with_columns(
        (pl.col("infusion_start") + pl.duration(hours=1)).alias("infusion_stop"),
        pl.lit("2026-03-02").str.to_date().alias("date_of_service"), pl.lit(claim_type).alias("claim_type"),
        pl.lit("22" if claim_type == "institutional" else "11").alias("place_of_service"),
        pl.lit(code).alias("procedure_code"))
    assert frame.select(tm.infusing_minutes()).item() == minutes


@pytest.mark.parametrize(("minutes", "hours", "secondary"), [
    (30, 0, 0), (31, 0, 1), (61, 0, 1), (90, 0, 1), (91, 1, 2), (150, 1, 2), (151, 2, 3), (210, 2, 3), (211, 3, 4),
])
def test_additional_hour_units(minutes: int, hours: int, secondary: int) -> None:
    frame = pl.DataFrame({"t": [minutes]})
    assert frame.select(tm.hour_units(pl.col("t"))).item() == hours
    assert frame.select(tm.secondary_units(pl.col("t"))).item() == secondary


def test_an_add_on_continues_its_infusion_and_two_infusions_never_merge(time_of) -> None:
    t = time_of(
        _row("A", 1, "96360", start="2026-03-02T09:00", stop="2026-03-02T10:00"),
        _row("A", 2, "96361", start="2026-03-02T10:00", stop="2026-03-02T11:00"),  # meets: one 120-min hydration
        _row("B", 1, "96365", start="2026-03-02T09:00", stop="2026-03-02T10:00"),
        _row("B", 2, "96367", start="2026-03-02T10:00", stop="2026-03-02T11:40"),  # meets, but is an infusion
        _row("B", 3, "96366", start="2026-03-02T11:40", stop="2026-03-02T12:10"),  # continues the 96367
        _row("C", 1, "96369", start="2026-03-02T09:00", stop="2026-03-02T10:00"),
        # a minute apart: more time of the same infusion, the gap not counted (probe 18A: read as an
        # infusion of its own, 100 minutes less a phantom initial hour)
        _row("C", 2, "96370", start="2026-03-02T10:01", stop="2026-03-02T11:41"),
        _row("D", 1, "96360", start="2026-03-02T08:30", stop="2026-03-02T09:10"),
        _row("D", 2, "96361", start="2026-03-02T08:00", stop="2026-03-02T08:30"),  # before its infusion, meets it
    )
    lines = t["lines"].select("claim_id", "line_number", "ep", "ep_minutes")
    minutes = {(c, n): m for c, n, _, m in lines.iter_rows()}
    ep = {(c, n): e for c, n, e, _ in lines.iter_rows()}
    assert minutes[("A", 1)] == minutes[("A", 2)] == 120 and ep[("A", 1)] == ep[("A", 2)]
    assert (minutes[("B", 1)], minutes[("B", 2)], minutes[("B", 3)]) == (60, 130, 130)
    assert ep[("B", 1)] != ep[("B", 2)] == ep[("B", 3)]
    assert minutes[("C", 1)] == minutes[("C", 2)] == 160 and ep[("C", 1)] == ep[("C", 2)]
    assert minutes[("D", 1)] == minutes[("D", 2)] == 70
    expected = dict(zip(t["groups"]["head"], t["groups"]["expected"], strict=True))
    row = {(c, n): r for r, c, n in t["lines"].select("row_id", "claim_id", "line_number").iter_rows()}
    assert expected[row[("A", 2)]] == 1  # 120 minutes
    assert expected[row[("B", 3)]] == 1  # 60 -> 0, 96367 with its hour 130 -> 1
    assert expected[row[("C", 2)]] == 2  # 60 + 100 minutes of one SC infusion
    assert expected[row[("D", 2)]] == 0  # 70 minutes


def test_overlapping_lines_count_their_union_once(time_of) -> None:
    t = time_of(
        _row("A", 1, "96365", start="2026-03-02T09:00", stop="2026-03-02T10:00"),
        _row("A", 2, "96366", start="2026-03-02T09:00", stop="2026-03-02T11:00"),  # documents the whole infusion
        _row("A", 3, "96366", start="2026-03-02T10:30", stop="2026-03-02T11:45"),
    )
    assert t["lines"]["ep_minutes"].to_list() == [165, 165, 165]
    assert t["groups"]["expected"].to_list() == [2] and t["groups"]["billed"].to_list() == [2.0]


def test_concurrent_minutes_use_the_union_of_the_other_infusions(time_of) -> None:
    t = time_of(
        _row("A", 1, "96365", start="2026-03-02T10:00", stop="2026-03-02T11:00"),
        _row("A", 2, "96366", start="2026-03-02T10:30", stop="2026-03-02T11:30"),  # overlaps the 96365: union 90
        _row("A", 3, "96360", start="2026-03-02T09:00", stop="2026-03-02T12:00"),
        _row("A", 4, "96361", 1),
    )
    hydration = t["lines"].filter(pl.col("procedure_code") == "96360").row(0, named=True)
    assert hydration["overlap"] == 90 and hydration["ep_minutes"] == 180 and hydration["ep_effective"] == 90
    hours = t["groups"].filter(pl.col("billed") == 1).row(0, named=True)
    assert hours["expected"] == 0  # 90 minutes of hydration outside the drug: no additional hour


def test_an_institutional_claim_across_midnight_is_one_encounter_of_datetimes(time_of) -> None:
    t = time_of(
        _row("I", 1, "96365", start="2026-03-02T23:00", stop="2026-03-03T00:00", claim_type="institutional"),
        _row("I", 2, "96366", start="2026-03-03T00:00", stop="2026-03-03T01:00", claim_type="institutional",
             dos="2026-03-03"),
    )
    assert t["lines"]["ep_minutes"].to_list() == [120, 120]
    assert t["groups"]["expected"].to_list() == [1]


def test_what_cannot_be_judged(time_of) -> None:
    t = time_of(
        _row("A", 1, "96365", start="2026-03-02T09:00", stop="2026-03-02T10:40"),
        _row("A", 2, "96367"),  # an infusion the 96366 extends, without times
        _row("A", 3, "96366"),
        _row("B", 1, "96361"),  # no 96360 and no times: nothing to judge it by
        _row("C", 1, "96365", start="2026-03-02T09:00", stop="2026-03-02T10:40"),
        _row("C", 2, "96366", start="2026-03-02T10:40", stop="2026-03-02T10:00"),  # its own times are unusable
        _row("E", 1, "96365", start="2026-03-02T09:00", stop="2026-03-02T10:40"),
        _row("E", 2, "96366"),  # judged by the 100-minute 96365
    )
    evaluable = dict(zip(t["groups"]["head"], t["groups"]["evaluable"], strict=True))
    claim = dict(zip(t["lines"]["row_id"], t["lines"]["claim_id"], strict=True))
    assert {claim[h]: e for h, e in evaluable.items()} == {"A": False, "B": False, "C": False, "E": True}


def test_add_on_units_split_over_lines_and_claims_are_one_total_judged_on_the_first_line(time_of) -> None:
    t = time_of(
        "B,1,MA,AETNA,professional,11,2026-03-02,96366,1,100,,,",
        "A,1,MA,AETNA,professional,11,2026-03-02,96365,1,100,2026-03-02T09:00,2026-03-02T10:40,",
        "A,3,MA,AETNA,professional,11,2026-03-02,96366,1,100,,,",
        "A,2,MA,AETNA,professional,11,2026-03-02,96366,1,100,,,",
    )
    group = t["groups"].row(0, named=True)
    order = t["lines"].select("row_id", "claim_id", "line_number")
    named = {r: (c, n) for r, c, n in order.iter_rows()}
    # The first by claim id, then line number, never the claim the file lists first (B): the finding's
    # id and claim must not change with the export's order (tests/test_order_independence.py).
    assert named[group["head"]] == ("A", 2)
    assert [named[r] for r in group["hour_rows"]] == [("A", 2), ("A", 3), ("B", 1)]
    assert group["billed"] == 3 and group["expected"] == 1
