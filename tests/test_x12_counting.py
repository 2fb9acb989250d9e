"""X12: who billed what (issue 13's claim fields), revenue-code lines, and rows that are never lost (issue 12).

* Extraction of the issue-13 columns: billing provider (2010AA NM1*85), rendering provider (2310B
  claim / 2420A line, the line wins; not another payer's 2330D), payer sequence (2000B SBR01, not
  a 2320 SBR), claim frequency (CLM05-3), payer claim number (2300 REF*F8, not 2330B's).
* Revenue-code-only 837I lines are checked rows; a professional line without a code is not.
* Counted: every service line belongs to a transaction set or is rejected naming its segment (a
  stray SE mid-file, a claim between SE and GE, between GE and IEA, after IEA; a missing GE), the
  file gets a notice for each (so ``--strict`` refuses it), and the reader's rows always equal the
  independent segment count (:func:`count_x12_rows`), also on randomly damaged files.
* Value bounds: ``DTP*472*D8*00000101`` and ``CTP****1E999999*ME`` reject their row, never the run.
* Files written by others: every 5010 837 of ``../shared/external/x12`` gives the inventory's
  service-line count, reconciles, and rejects no revenue-code line and no envelope it should not.
"""

from __future__ import annotations

import random
from pathlib import Path

import polars as pl
import pytest
from test_x12_loader import (
    EXTERNAL,
    HEADER,
    INSTITUTIONAL_CLAIM,
    IVIG_CLAIM,
    _inventory,
    _valid_5010_837s,
    column,
    interchange,
    ivig_text,
    load,
    needs_shared,
    subscriber,
)

from scrubber.canonical import canonicalise
from scrubber.engine import scrub
from scrubber.loaders import load_inputs
from scrubber.loaders.x12_loader import count_x12_rows, read_x12

ROOT = Path(__file__).resolve().parents[1]


def canon(text: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    result = canonicalise(load(text).lazy())
    return result.lines, result.rejected


def rows_and_notices(text: str) -> tuple[pl.DataFrame, list[str]]:
    return read_x12(Path("claims.837"), text, 0)


# --- issue 13: the claim fields ---------------------------------------------------------------------


def test_billing_rendering_sequence_frequency_and_payer_claim_number() -> None:
    claim = [
        "CLM*IVIG100*6100***11:B:7*Y*A*Y*Y",
        "REF*F8*PAYERCCN0001",
        "HI*ABK:D801",
        "NM1*82*1*RENDER*CLAIM****XX*1111111111",  # 2310B: the claim's rendering provider
        "SBR*S*18*******CI",  # 2320: other subscriber; what follows belongs to the other payer
        "NM1*IL*1*OTHER*SUB****MI*OTHERMEMBER",
        "NM1*PR*2*OTHER PAYER*****PI*OP1",
        "REF*F8*OTHERPAYERCCN",  # 2330B: the other payer's claim number, not this claim's
        "NM1*82*1",  # 2330D: the other payer's rendering provider
        "LX*1",
        "SV1*HC:96365*250*UN*1***1",
        "DTP*472*D8*20260110",
        "NM1*82*1*RENDER*LINE****XX*2222222222",  # 2420A: this line's own rendering provider
        "LX*2",
        "SV1*HC:96366*200*UN*1***1",
        "DTP*472*D8*20260110",
    ]
    frame = load(interchange([*HEADER, *subscriber(2, "MBR100", "MEDICARE"), *claim]))
    assert column(frame, "billing_provider") == ["1234567893"] * 2
    assert column(frame, "rendering_provider") == ["2222222222", "1111111111"]
    assert column(frame, "payer_sequence") == ["P"] * 2  # 2000B SBR01, not the 2320 SBR*S
    assert column(frame, "claim_frequency") == ["7"] * 2
    assert column(frame, "payer_claim_number") == ["PAYERCCN0001"] * 2
    assert column(frame, "member_id") == ["MBR100"] * 2 and column(frame, "payer") == ["MEDICARE"] * 2
    lines, rejected = canon(interchange([*HEADER, *subscriber(2, "MBR100", "MEDICARE"), *claim]))
    assert rejected.height == 0 and lines.height == 2


def test_a_secondary_copy_and_a_second_billing_provider() -> None:
    """SBR01 S on the subscriber loop is the claim's payer sequence; each 2000A HL names its own provider."""
    second_provider = ["HL*3**20*1", "NM1*85*2*OTHER CLINIC*****XX*1999999984", "N3*1 ELM", "N4*X*IL*62701"]
    secondary = [*subscriber(4, "MBR100", "MEDIGAP PLAN")]
    secondary[0] = "HL*4*3*22*0"
    secondary[1] = "SBR*S*18*******CI"
    claim = ["CLM*COPY1*250***11:B:1*Y*A*Y*Y", "HI*ABK:D801", "LX*1", "SV1*HC:96365*250*UN*1***1",
             "DTP*472*D8*20260110"]
    text = interchange([*HEADER, *subscriber(2, "MBR100", "MEDICARE"), *IVIG_CLAIM, *second_provider, *secondary,
                        *claim])
    frame = load(text)
    assert column(frame, "billing_provider") == ["1234567893"] * 3 + ["1999999984"]
    assert column(frame, "payer_sequence") == ["P"] * 3 + ["S"]
    assert column(frame, "payer") == ["MEDICARE"] * 3 + ["MEDIGAP PLAN"]


def test_revenue_code_only_lines_are_checked_and_keep_their_dates() -> None:
    """837I lines with a revenue code and no HCPCS (room and board, pharmacy) are checked rows; a line
    without DTP*472 takes the statement start; a 3-digit revenue code gets its leading zero."""
    claim = [
        "CLM*INPT1*9000***11:A:1**A*Y*Y",
        "DTP*434*RD8*20260301-20260303",
        "CL1*1*7*01",
        "HI*ABK:D801",
        "LX*1",
        "SV2*0120**3000*DA*2",
        "DTP*472*D8*20260301",
        "LX*2",
        "SV2*250**500*UN*1",
        "LX*3",
        "SV2*0260*HC:96365*250*UN*1",
        "DTP*472*D8*20260302",
    ]
    text = interchange([*HEADER, *subscriber(2, "MBR100", "MEDICARE"), *claim], version="005010X223A2")
    lines, rejected = canon(text)
    assert rejected.height == 0, rejected.to_dicts()
    assert lines.select("procedure_code", "revenue_code", "date_of_service", "place_of_service").rows() == [
        (None, "0120", pl.Series(["2026-03-01"]).str.to_date()[0], "21"),
        (None, "0250", pl.Series(["2026-03-01"]).str.to_date()[0], "21"),
        ("96365", "0260", pl.Series(["2026-03-02"]).str.to_date()[0], "21"),
    ]
    professional = [*IVIG_CLAIM[:2], "LX*1", "SV1*HC*250*UN*1***1", "DTP*472*D8*20260110"]
    _, rejected = canon(interchange([*HEADER, *subscriber(2, "M", "AETNA"), *professional]))
    assert column(rejected, "reason") == ["missing required value procedure_code"]


def test_bare_code_without_its_qualifier_is_an_unreadable_line(tmp_path: Path) -> None:
    """``SV1*96365`` (no ``HC:``): SV101's first component is the qualifier, so the line names no code.
    It is rejected saying so (not as a line without a code), and as a line whose code is unknown it
    leaves its add-on not evaluated instead of reported without a primary that was in fact billed.
    A bare two-character ``HC`` is a qualifier whose code is missing: typing's reason, as before."""
    claim = [line.replace("SV1*HC:96365*", "SV1*96365*") for line in IVIG_CLAIM]
    assert claim != IVIG_CLAIM
    _, rejected = canon(interchange([*HEADER, *subscriber(2, "M", "AETNA"), *claim]))
    assert column(rejected, "reason") == [
        "SV1 SV101 '96365' has no product/service ID qualifier; the code goes after it (HC:96365 for a HCPCS/CPT code)"]
    path = tmp_path / "bare.837"
    path.write_text(interchange([*HEADER, *subscriber(2, "M", "AETNA"), *claim]), encoding="utf-8")
    result = scrub([str(path)])
    assert result.summary["by_check"]["addon-without-primary"]["findings"] == 0
    assert result.summary["by_check"]["addon-without-primary"]["lines_not_evaluated"] == 1
    qualifier_only = [line.replace("SV1*HC:96365*", "SV1*HC*") for line in IVIG_CLAIM]
    _, rejected = canon(interchange([*HEADER, *subscriber(2, "M", "AETNA"), *qualifier_only]))
    assert column(rejected, "reason") == ["missing required value procedure_code"]


def test_outpatient_facility_type_has_no_pos() -> None:
    """13x (hospital outpatient) may be POS 19 or 22: not guessed."""
    text = interchange([*HEADER, *subscriber(2, "MBR100", "MEDICARE"), *INSTITUTIONAL_CLAIM], version="005010X223A2")
    assert column(load(text), "place_of_service") == [None, None]


# --- issue 12: counted, never lost --------------------------------------------------------------------


def _segments(text: str) -> list[str]:
    return [s.strip() for s in text.split("~") if s.strip()]


def _text(segments: list[str]) -> str:
    return "".join(f"{s}~\n" for s in segments)


def _move(text: str, index_of: str, before: str) -> str:
    """Move the segment that starts with ``index_of``'s claim (CLM..its last DTP) before segment ``before``."""
    segs = _segments(text)
    start = next(i for i, s in enumerate(segs) if s.startswith(index_of))
    end = start + 1
    while end < len(segs) and not segs[end].startswith(("CLM", "HL", "SE")):
        end += 1
    block = segs[start:end]
    del segs[start:end]
    at = next(i for i, s in enumerate(segs) if s.startswith(before)) if before != "END" else len(segs)
    segs = [*segs[:at], *block, *segs[at:]]
    st = next(i for i, s in enumerate(segs) if s.startswith("ST*"))
    se = next(i for i, s in enumerate(segs) if s.startswith("SE*"))
    segs[se] = f"SE*{se - st + 1}*0001"  # the envelope itself stays right: only the claim is misplaced
    return _text(segs)


def two_claims() -> str:
    second = ["CLM*IVIG101*250***11:B:1*Y*A*Y*Y", "HI*ABK:D801", "LX*1", "SV1*HC:96365*250*UN*1***1",
              "DTP*472*D8*20260111"]
    return interchange([*HEADER, *subscriber(2, "MBR100", "MEDICARE"), *IVIG_CLAIM, *second])


@pytest.mark.parametrize(
    ("where", "words"),
    [("GE", "after the SE at segment"), ("IEA", "after the GE at segment"), ("END", "after the IEA at segment")],
    ids=["between-SE-and-GE", "between-GE-and-IEA", "after-IEA"],
)
def test_a_claim_outside_the_transaction_set_is_rejected_with_its_position(where: str, words: str) -> None:
    """Counted: a complete claim between SE and GE, between GE and IEA, or after IEA is read and rejected
    (it is no part of a transaction a payer reads), with a notice; the count and the rows agree."""
    text = _move(two_claims(), "CLM*IVIG101", where)
    frame, notices = rows_and_notices(text)
    assert frame.height == 4 == count_x12_rows(text, "claims.837")
    outside = frame.filter(pl.col("claim_id") == "IVIG101")
    (reason,) = outside.get_column("load_error").to_list()
    assert "is outside any ST/SE transaction set" in reason and words in reason
    assert frame.filter(pl.col("claim_id") == "IVIG100").get_column("load_error").null_count() == 3
    assert any("outside any ST/SE transaction set" in n for n in notices)
    lines, rejected = canon(text)
    assert (lines.height, rejected.height) == (3, 1)


def test_a_stray_se_mid_file_loses_nothing() -> None:
    """Counted: issue 12's stray SE in the middle of the sample left 12 of 125 lines; every line after it
    is now a rejected row naming the position, and the count agrees."""
    sample = (ROOT / "sample_claims" / "claims.837").read_text(encoding="utf-8")
    segs = _segments(sample)
    at = [i for i, s in enumerate(segs) if s.startswith("CLM*")][5]
    text = _text([*segs[:at], "SE*10*0001", *segs[at:]])
    frame, notices = rows_and_notices(text)
    expected = count_x12_rows(sample, "sample")
    lines = (ROOT / "sample_claims" / "claims.csv").read_text(encoding="utf-8").count("\n") - 1
    assert frame.height == expected == count_x12_rows(text, "x") == lines
    rejected = frame.filter(pl.col("load_error").str.contains("outside any ST/SE"))
    assert rejected.height > 100
    assert notices and "segment" in notices[0]


def test_a_missing_ge_rejects_its_group_with_a_notice() -> None:
    text = _text([s for s in _segments(ivig_text()) if not s.startswith("GE*")])
    frame, notices = rows_and_notices(text)
    assert frame.height == 3
    assert all("functional group GS 1 (segment 2) has no GE trailer before the IEA" in r
               for r in frame.get_column("load_error"))
    assert any("has no GE trailer" in n for n in notices)


def test_missing_gs_headers_are_named() -> None:
    # Probe 19B: without its GS the file was warned of only indirectly ("ST02 used twice in the
    # functional group", "IEA01 says 1 functional groups ... has 0"). The rows are still read.
    text = _text([s for s in _segments(ivig_text()) if not s.startswith("GS*")])
    frame, notices = rows_and_notices(text)
    assert frame.height == 3 and frame.get_column("load_error").is_null().all()
    assert any("ST is outside any functional group (no GS header before it)" in n for n in notices), notices
    assert any("GE closes no functional group (no GS is open)" in n for n in notices), notices
    assert not any("used twice in the functional group" in n for n in notices)
    # Near miss: the whole envelope says nothing of a functional group.
    _, clean = rows_and_notices(ivig_text())
    assert not any("functional group" in n for n in clean), clean


def test_strict_refuses_claims_outside_an_envelope(tmp_path: Path) -> None:
    path = tmp_path / "outside.837"
    path.write_text(_move(two_claims(), "CLM*IVIG101", "END"), encoding="utf-8")
    from scrubber.errors import InputError

    with pytest.raises(InputError, match=r"--strict.*outside any ST/SE"):
        scrub([str(path)], strict=True)


def test_out_of_range_date_and_quantity_reject_the_row_not_the_run() -> None:
    """Value bounds: a year-0 service date and a CTP quantity of 1E999999 are rejected rows with reasons."""
    claim = [*IVIG_CLAIM]
    claim[4] = "DTP*472*D8*00000101"
    claim[6] = "CTP****1E999999*GR"
    lines, rejected = canon(interchange([*HEADER, *subscriber(2, "MBR100", "MEDICARE"), *claim]))
    (reason,) = rejected.get_column("reason").to_list()
    assert "date_of_service must be within 1900-01-01 to 2100-12-31" in reason
    assert "CTP04 drug quantity '1E999999' (segment 24) is beyond any dose" in reason
    assert lines.height == 2


_DAMAGE = ("drop", "duplicate", "stray_se", "stray_ge", "stray_iea", "swap")


def _damaged(rnd: random.Random, text: str) -> str:
    segs = _segments(text)
    for _ in range(rnd.randint(1, 4)):
        i = rnd.randrange(1, len(segs))
        kind = rnd.choice(_DAMAGE)
        if kind == "drop":
            del segs[i]
        elif kind == "duplicate":
            segs.insert(i, segs[i])
        elif kind == "swap" and i + 1 < len(segs):
            segs[i], segs[i + 1] = segs[i + 1], segs[i]
        elif kind.startswith("stray"):
            segs.insert(i, {"stray_se": "SE*5*0001", "stray_ge": "GE*1*1", "stray_iea": "IEA*1*000000001"}[kind])
    return _text(segs)


def test_damaged_files_always_give_the_counted_rows() -> None:
    """Counted: whatever segments are dropped, repeated, swapped or inserted, the rows the reader gives
    equal the independent count, and every row outside a transaction set carries a reason."""
    from scrubber.errors import InputError

    rnd = random.Random(1213)
    base = [two_claims(), interchange([*HEADER, *subscriber(2, "M", "MEDICARE"), *INSTITUTIONAL_CLAIM],
                                      version="005010X223A2")]
    checked = 0
    for _ in range(300):
        text = _damaged(rnd, rnd.choice(base))
        try:
            frame, _notices = rows_and_notices(text)
        except InputError:
            continue
        checked += 1
        assert frame.height == count_x12_rows(text, "x"), text
    assert checked > 200


# --- files written by others ----------------------------------------------------------------------------


@needs_shared
@pytest.mark.parametrize("relative", _valid_5010_837s() or ["(no inventory)"])
def test_every_5010_837_gives_the_inventorys_service_lines(relative: str) -> None:
    """x12_inventory.txt (written by others) counts each file's LX service lines, revenue-code lines
    included. The reader gives one row per LX (plus a row for a claim without any), reconciles with
    its own segment count, and rejects none for the envelope, a missing code on a revenue-code line,
    or the new claim-level fields."""
    if relative == "(no inventory)":
        pytest.skip("x12_inventory.txt not found in shared/external")
    row = next(r for r in _inventory() if r["file"] == relative)
    raw = load_inputs([str(EXTERNAL / relative)])
    result = canonicalise(raw.batches())
    assert raw.reconciliation() == []
    frame = raw.collect()
    assert frame.filter(pl.col("line_number").is_not_null()).height == int(row["lines"])
    reasons = result.rejected.get_column("reason").to_list()
    for forbidden in ("outside any ST/SE", "has no GE trailer", "has no IEA trailer", "disagree on billing_provider",
                      "disagree on payer_sequence", "disagree on claim_frequency", "disagree on payer_claim_number"):
        assert not any(forbidden in r for r in reasons), (relative, forbidden)
    revenue_only = frame.filter(pl.col("revenue_code").is_not_null() & pl.col("procedure_code").is_null())
    if revenue_only.height:
        keys = revenue_only.select("claim_id", "line_number").rows()
        bad = result.rejected.filter(pl.col("reason").str.contains("procedure_code"))
        assert not set(bad.select("claim_id", "line_number").rows()) & set(keys), relative


@needs_shared
def test_hospital_samples_are_checked_whole() -> None:
    """Issue 13: 2 of 3 lines of the inpatient sample were rejected for their missing HCPCS."""
    base = EXTERNAL / "x12" / "aurelianware_cloudhealthoffice"
    for name, checked in (("X12837InstitutionalTests__InpatientDrgSample.x12", 3),
                          ("X12837InstitutionalTests__OutpatientSample.x12", 3)):
        result = canonicalise(load_inputs([str(base / name)]).batches())
        assert (result.lines.height, result.rejected.height) == (checked, 0), name


def test_the_837_sample_holds_every_claim_of_the_csv() -> None:
    """Issue 13: the 837 sample dropped the institutional claim (48 of 49): the writer wrote 837P only."""
    x12 = scrub([str(ROOT / "sample_claims" / "claims.837")], records=str(ROOT / "sample_claims" / "records.csv"))
    csv = scrub([str(ROOT / "sample_claims" / "claims.csv")])
    assert (x12.summary["claims"], x12.summary["lines"]) == (csv.summary["claims"], csv.summary["lines"])
    assert csv.summary["lines"] == (ROOT / "sample_claims" / "claims.csv").read_text(encoding="utf-8").count("\n") - 1
    inst = x12.lines.filter(pl.col("claim_type") == "institutional")
    # Facility type 11 (inpatient) reads as POS 21; outpatient types name no single POS and stay empty.
    assert set(inst.get_column("place_of_service")) == {"21", None}


def test_payer_responsibility_beyond_tertiary_is_a_later_payer() -> None:
    """5010 SBR01 also has A-H (fourth to eleventh payer) and U (unknown): valid, so never a rejection."""
    for code, expected in (("A", "T"), ("H", "T"), ("U", None), ("S", "S")):
        sub = subscriber(2, "MBR100", "MEDICARE")
        sub[1] = f"SBR*{code}*18*******CI"
        text = interchange([*HEADER, *sub, *IVIG_CLAIM])
        assert column(load(text), "payer_sequence") == [expected] * 3
        assert canon(text)[1].height == 0


def test_an_unclosed_interchange_is_not_called_not_fatal(tmp_path: Path) -> None:
    """Probe 20B: the IEA alone missing rejects every claim of the interchange (exit 2: nothing checked),
    beside a warning that said "(not fatal; --strict rejects the file)". The warning says the claims are
    rejected. Near miss: a wrong SE01 count is still a warning that the file is read."""
    from click.testing import CliRunner

    from scrubber.cli import main

    path = tmp_path / "no_iea.837"
    path.write_text(_text([s for s in _segments(ivig_text()) if not s.startswith("IEA*")]), encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(path), "--no-config", "--fail-on", "never"])
    assert result.exit_code == 2
    (warning,) = [w for w in result.stderr.splitlines() if "no IEA trailer" in w]
    assert warning.endswith("the claims it holds are rejected") and "not fatal" not in warning
    segs = _segments(ivig_text())
    path.write_text(_text([("SE*99*" + s.split("*", 2)[2]) if s.startswith("SE*") else s for s in segs]),
                    encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(path), "--no-config", "--fail-on", "never"])
    assert result.exit_code == 0 and "SE01 says 99 segments" in result.stderr
    assert "(not fatal; --strict rejects the file)" in result.stderr
