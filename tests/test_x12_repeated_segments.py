"""A segment the 5010 guides give a loop once, given twice with other values: which is the claim's
cannot be told, so the claims (or lines) it decides are rejected, naming both segments; the same value
twice is no conflict. Probe 22B: a second DTP*434 was dropped without a word and the order of the two
turned the JZ rule on and off; of two NM1*IL the last made the member."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from test_x12_loader import HEADER, INSTITUTIONAL_CLAIM, IVIG_CLAIM, interchange, subscriber

from scrubber.loaders.x12_loader import load_x12


def _load(transaction: list[str], version: str = "005010X222A1") -> pl.DataFrame:
    return load_x12(Path("claims.837"), interchange(transaction, version=version), 0)


def _institutional(*extra: str) -> list[str]:
    claim = list(INSTITUTIONAL_CLAIM)
    at = claim.index("DTP*434*RD8*20260301-20260301") + 1
    return [*HEADER, *subscriber(2, "MBR300", "MEDICARE"), *claim[:at], *extra, *claim[at:]]


def test_a_second_statement_period_rejects_the_lines_it_would_date() -> None:
    frame = _load(_institutional("DTP*434*RD8*20260305-20260305"), "005010X223A2")
    errors = frame.get_column("load_error").to_list()
    # LX 1 has its own DTP*472 and is read; LX 2 is dated by the statement period only: rejected.
    assert errors[0] is None and "second statement period" in errors[1]
    # Near miss: the same period twice is one period.
    same = _load(_institutional("DTP*434*RD8*20260301-20260301"), "005010X223A2")
    assert same.get_column("load_error").to_list() == [None, None]


def test_a_second_member_id_in_the_subscriber_loop_rejects_its_claims() -> None:
    sub = subscriber(2, "MBR100", "MEDICARE")
    frame = _load([*HEADER, *sub[:3], "NM1*IL*1*DOE*JOHN****MI*MBR999", *sub[3:], *IVIG_CLAIM])
    assert frame.get_column("load_error").str.contains("second member id").all()
    same = _load([*HEADER, *sub[:3], sub[2], *sub[3:], *IVIG_CLAIM])  # (NM1*IL repeated as is)
    assert same.get_column("load_error").null_count() == same.height


def test_a_second_drug_quantity_on_a_line_rejects_the_line() -> None:
    claim = list(IVIG_CLAIM)
    at = claim.index("CTP****35000*ME") + 1
    frame = _load([*HEADER, *subscriber(2, "MBR100", "MEDICARE"), *claim[:at], "CTP****36000*ME", *claim[at:]])
    value_errors = frame.get_column("value_error").to_list()
    assert "second drug quantity" in (value_errors[0] or "") and value_errors[1] is None
    same = _load([*HEADER, *subscriber(2, "MBR100", "MEDICARE"), *claim[:at], "CTP****35000*ME", *claim[at:]])
    assert same.get_column("value_error").null_count() == same.height


def test_a_second_ndc_on_a_line_is_a_notice_and_the_first_is_read() -> None:
    """Probe 28C D1: a second LIN with another NDC on one service line ended the whole run with
    "unexpected AttributeError" (the notice named ``line.line_number``; the attribute is ``number``): no
    claim of any input was checked. The first NDC is read and the file says so; near miss: the same NDC
    twice is one NDC and no notice."""
    from scrubber.loaders.x12_loader import read_x12

    claim = list(IVIG_CLAIM)
    at = next(i for i, s in enumerate(claim) if s.startswith("LIN**N4*")) + 1
    first = claim[at - 1].split("*")[3]
    frame, notices = read_x12(Path("claims.837"), interchange(
        [*HEADER, *subscriber(2, "MBR100", "MEDICARE"), *claim[:at], "LIN**N4*00944270005", *claim[at:]]), 0)
    assert frame.get_column("ndc").to_list()[0] == first.replace("-", "")
    assert frame.get_column("load_error").null_count() == frame.height
    assert any("a second NDC (00944270005)" in n and "the first is read" in n for n in notices), notices
    _, same = read_x12(Path("claims.837"), interchange(
        [*HEADER, *subscriber(2, "MBR100", "MEDICARE"), *claim[:at], claim[at - 1], *claim[at:]]), 0)
    assert not any("second NDC" in n for n in same)
