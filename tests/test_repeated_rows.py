"""A row that repeats a checked line exactly leaves nothing of its encounter unread.

The repeat is rejected (duplicate claim_id + line_number), and that is right; but it was also counted
as a rejected drug line, so the encounter "may be missing a line" and the good lines' findings became
"not evaluated": the sample claims given twice (one export sent again) lost 15 of their 44 findings and
$21,045 of charges at risk (probe J). Rows that give one line different values (other units) are
all rejected: which one is the line cannot be told (probe W).
Rows in another order are the same claims too: which Q2052 is "billed again" does not move with them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from scrubber.engine import scrub

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_claims" / "claims.csv"
HEADER = SAMPLE.read_text(encoding="utf-8").splitlines()[0]
# J1559 (SC immune globulin) with IV infusion 96365: route-mismatch on line 3.
CLAIM = [
    "PCN-2006,1,7XA1MX2FD28,MEDICARE,professional,11,2026-05-11,96365,,,,1,350.00,D80.0,,,,,,2026-05-11T09:00,"
    "2026-05-11T10:40,,,,,,",
    "PCN-2006,2,7XA1MX2FD28,MEDICARE,professional,11,2026-05-11,96366,,,,1,110.00,D80.0,,,,,,,,,,,,,",
    "PCN-2006,3,7XA1MX2FD28,MEDICARE,professional,11,2026-05-11,J1559,JZ,,,80,6400.00,D80.0,,44206045494,8000,,,,,,,"
    ",,,",
]


def _ids(paths: list[Path]) -> tuple[list[str], int]:
    result = scrub([str(p) for p in paths])
    return sorted(result.findings.get_column("finding_id")), result.summary["rejected_rows"]


def _write(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def test_a_repeated_drug_row_keeps_the_claims_findings(tmp_path: Path) -> None:
    once, _ = _ids([_write(tmp_path / "once.csv", CLAIM)])
    twice, rejected = _ids([_write(tmp_path / "twice.csv", [*CLAIM, CLAIM[2]])])
    assert rejected == 1 and once and twice == once


def test_the_same_export_given_twice_has_the_findings_of_one(tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    shutil.copy(SAMPLE, a)
    shutil.copy(SAMPLE, b)
    once, _ = _ids([a])
    twice, rejected = _ids([a, b])
    assert rejected == len(SAMPLE.read_text(encoding="utf-8").splitlines()) - 1
    assert twice == once


def test_near_miss_a_repeat_with_other_units_leaves_the_drug_unevaluated(tmp_path: Path) -> None:
    other = CLAIM[2].replace(",80,6400.00,", ",60,4800.00,")
    result = scrub([str(_write(tmp_path / "other.csv", [*CLAIM, other]))])
    # Both rows of line 3 are rejected (which of the two is the line cannot be told; the first read
    # won, probe W): the drug is no checked line, so nothing is said of its route.
    assert result.summary["rejected_rows"] == 2
    assert all("differ in units, charge" in r for r in result.rejected.get_column("reason"))
    assert "route-mismatch" not in set(result.findings.get_column("check_id"))


def test_the_second_q2052_is_the_same_line_whatever_the_row_order(tmp_path: Path) -> None:
    """Two claims bill Q2052 for one member and date: the later claim's line is the one billed again,
    in any row order (it moved with a re-export, and its finding id with it; probe J)."""
    drug = ("X1,1,M9,MEDICARE,professional,12,2026-06-05,J1459,JZ,,,60,5700.00,D80.0,,44206043810,30000,0,IV,,,,,,,"
            ",")
    first = "X1,2,M9,MEDICARE,professional,12,2026-06-05,Q2052,,,,1,105.12,D80.0,,,,,,,,,,,,,"
    again = "X2,1,M9,MEDICARE,professional,12,2026-06-05,Q2052,,,,1,105.12,D80.0,,,,,,,,,,,,,"
    seen = set()
    for n, rows in enumerate(([drug, first, again], [again, drug, first], [first, again, drug])):
        found = scrub([str(_write(tmp_path / f"order{n}.csv", rows))]).findings
        seen.add(tuple(found.select("claim_id", "line_number", "reason", "finding_id").rows()))
    assert len(seen) == 1 and next(iter(seen))[0][:3] == ("X2", 1, "second_q2052")


def test_a_repeat_spelling_the_payer_otherwise_is_the_same_line(tmp_path: Path) -> None:
    """FORMATS.md compares payer as policies read it: 'medicare' (or full-width letters) repeating a
    MEDICARE line was "a row that differs in payer", both rejected (probe 15B)."""
    once, _ = _ids([_write(tmp_path / "once.csv", CLAIM)])
    for spelled in ("medicare", "".join(chr(ord(c) + 0xFEE0) for c in "MEDICARE")):  # (full-width)
        again = CLAIM[2].replace(",MEDICARE,", f",{spelled},")
        twice, rejected = _ids([_write(tmp_path / "twice.csv", [*CLAIM, again])])
        assert rejected == 1 and twice == once, spelled
    # Near miss: another payer is another value (the claim's lines disagree: the whole claim is rejected).
    other = CLAIM[2].replace(",MEDICARE,", ",AETNA,")
    result = scrub([str(_write(tmp_path / "other.csv", [*CLAIM, other]))])
    assert result.summary["rejected_rows"] == 4
    assert any("disagree on payer" in r for r in result.rejected.get_column("reason"))


def test_one_837_interchange_sent_twice_in_one_file_has_the_findings_of_one(tmp_path: Path) -> None:
    """The sample 837 concatenated with itself (a resend appended to a feed): its second copy's claims
    repeat the first copy's CLM01 with the same values, rows the exact-duplicate rule rejects as it does
    for a second file. Rejected as "repeats the claim" they were bad rows: 12 of the 33 findings went
    "not evaluated" (probe 19B)."""
    sample = ROOT / "sample_claims" / "claims.837"
    text = sample.read_text(encoding="utf-8")
    twice = tmp_path / "twice.837"
    twice.write_text(text + text, encoding="utf-8")
    once = scrub([str(sample)])
    both = scrub([str(twice)])
    assert sorted(both.findings.get_column("finding_id")) == sorted(once.findings.get_column("finding_id"))
    assert both.findings.height == once.findings.height > 30
    reasons = both.rejected.get_column("reason").to_list()
    assert len(reasons) == once.summary["rows_read"] and all(
        r.startswith("duplicate claim_id + line_number") for r in reasons)


def test_near_miss_a_clm01_reused_with_other_values_is_still_a_repeat(tmp_path: Path) -> None:
    """The same CLM01 with another charge later in the file is another claim under a reused patient
    control number: rejected whole as a repeat, and the earlier claim with it (which claim the id is
    cannot be told; probe 26C D4)."""
    isa = "ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*PAYER          *260615*0800*^*00501*000000001*0*T*:~"
    interchange = isa + """
GS*HC*SUBMITTER*PAYER*20260615*0800*1*X*005010X222A1~
ST*837*0001*005010X222A1~
BHT*0019*00*000000001*20260615*0800*CH~
NM1*41*2*SUBMITTER*****46*SUBMITTER~
PER*IC*BILLING*TE*5555550100~
NM1*40*2*PAYER*****46*PAYER~
HL*1**20*1~
NM1*85*2*CLINIC*****XX*1234567893~
N3*100 MAIN ST~
N4*SPRINGFIELD*IL*627010000~
REF*EI*123456789~
HL*2*1*22*0~
SBR*P*18*******MB~
NM1*IL*1*MEMBER*****MI*M001~
NM1*PR*2*MEDICARE*****PI*MEDICARE~
CLM*C001*{charge}***11:B:1*Y*A*Y*Y~
HI*ABK:D800~
LX*1~
SV1*HC:96366*{charge}*UN*1***1~
DTP*472*D8*20260504~
SE*20*0001~
GE*1*1~
IEA*1*000000001~
"""
    path = tmp_path / "reused.837"
    path.write_text(interchange.format(charge="110.00") + interchange.format(charge="120.00"), encoding="utf-8")
    result = scrub([str(path)])
    reasons = result.rejected.get_column("reason").to_list()
    assert len(reasons) == 2 and len(set(reasons)) == 1
    assert reasons[0].startswith("claim id C001 is given by the claims at segments") and "other lines or values" in \
        reasons[0]
    assert result.summary["rows_checked"] == 0 and result.summary["rows_read"] == 2


def test_an_exact_copy_whose_drug_quantity_is_bad_is_still_an_exact_copy(tmp_path: Path) -> None:
    """The same interchange twice, its CTP04 unreadable ('abc'): the copy's message quotes another
    segment number, and it was judged a reused CLM01 (probe 19F). The two bad rows are rejected for
    the quantity; the copy's good line as a duplicate."""
    text = (ROOT / "sample_claims" / "claims.837").read_text(encoding="utf-8")
    # (one claim of the sample: its first CTP made unreadable)
    start = text.index("CTP*")
    bad = text[:start] + "CTP****abc*ME" + text[text.index("~", start):]
    path = tmp_path / "twice_bad.837"
    path.write_text(bad + bad, encoding="utf-8")
    reasons = scrub([str(path)]).rejected.get_column("reason").to_list()
    assert not any("repeats the claim" in r for r in reasons)
    assert sum("CTP04" in r for r in reasons) == 2


def test_a_row_with_a_bad_value_still_makes_its_line_key_undecidable(tmp_path: Path) -> None:
    """Probe 22B: line 2 given twice, as 96366 and as 96365 whose units read "1x". The bad row was
    rejected for its units and took no part in the comparison, so the 96366 row was checked as line 2
    and the claim read as "96365 + 96366" or worse. Which row is line 2 cannot be told: both are
    rejected (the bad one for its units). Near miss: the bad row repeats the line but for the cell it
    cannot read; the good row is the line and is checked."""
    other = CLAIM[1].replace(",96366,,,,1,110.00,", ",96365,,,,1x,350.00,")
    result = scrub([str(_write(tmp_path / "other.csv", [*CLAIM, other]))])
    assert result.summary["rejected_rows"] == 2
    reasons = result.rejected.filter(result.rejected["line_number"] == 2).get_column("reason").to_list()
    assert len(reasons) == 2 and any("cannot be told" in r for r in reasons) and any("'1x'" in r for r in reasons)
    assert 2 not in result.lines.get_column("line_number").to_list()
    same = CLAIM[1].replace(",96366,,,,1,110.00,", ",96366,,,,1x,110.00,")
    near = scrub([str(_write(tmp_path / "same.csv", [*CLAIM, same]))])
    assert near.summary["rejected_rows"] == 1 and 2 in near.lines.get_column("line_number").to_list()
    # Review 22D: a repeat cut short (no diagnosis: an empty list) or leaving its diagnosis out is no
    # other line either; the good row stays the line.
    for cut in ("PCN-2006,2,7XA1MX2FD28,MEDICARE,professional,11,2026-05-11,96366,,,,1x",
                same.replace(",D80.0,", ",,")):
        kept = scrub([str(_write(tmp_path / "cut.csv", [*CLAIM, cut]))])
        assert kept.summary["rejected_rows"] == 1 and 2 in kept.lines.get_column("line_number").to_list(), cut
    # Near miss: "no modifier" is a value: 96366 and 96366-JW are other lines, both good or one failing
    # its own rules (review 22F: a whole row whose units read "1x" beside a good JW row).
    jw = CLAIM[1].replace(",96366,,,,1,", ",96366,JW,,,1,")
    for other in (jw, same.replace(",96366,,,,", ",96366,JW,,,")):
        both = scrub([str(_write(tmp_path / "jw.csv", [*CLAIM, other]))])
        assert both.summary["rejected_rows"] == 2 and 2 not in both.lines.get_column("line_number").to_list()
    good_jw = [CLAIM[0], jw, CLAIM[2], same]
    both = scrub([str(_write(tmp_path / "jw2.csv", good_jw))])
    assert both.summary["rejected_rows"] == 2 and 2 not in both.lines.get_column("line_number").to_list()


def test_a_copy_that_leaves_out_the_times_is_merged_whatever_comes_first(tmp_path: Path) -> None:
    # Probe 26C D1: the first row read was the line, and a repeat giving what it left out was thrown
    # away; the 837 read before the CSV of the same claims lost the administration times (33 of 44).
    short = CLAIM[0].replace("2026-05-11T10:40", "2026-05-11T09:10")  # a 10-minute infusion: a push
    bare = CLAIM[0].replace("2026-05-11T09:00,2026-05-11T10:40", ",")
    assert bare.count(",") == short.count(",")
    documented = scrub([str(_write(tmp_path / "one.csv", [short]))]).findings
    assert documented.get_column("check_id").to_list() == ["infusion-too-short"]
    first, rejected_first = _ids([_write(tmp_path / "doc_first.csv", [short, bare])])
    last, rejected_last = _ids([_write(tmp_path / "bare_first.csv", [bare, short])])
    assert rejected_first == rejected_last == 1
    assert first == last == sorted(documented.get_column("finding_id"))


def test_the_sample_read_in_either_order_has_its_findings(tmp_path: Path) -> None:
    x12 = ROOT / "sample_claims" / "claims.837"
    once, _ = _ids([SAMPLE])
    csv_first, _ = _ids([SAMPLE, x12])
    x12_first, _ = _ids([x12, SAMPLE])
    assert len(once) == 44 and csv_first == once and x12_first == once


def test_near_miss_copies_giving_one_field_two_values_are_still_both_rejected(tmp_path: Path) -> None:
    bare = CLAIM[0].replace("2026-05-11T09:00,2026-05-11T10:40", ",")
    other = bare.replace(",1,350.00,", ",2,350.00,")
    result = scrub([str(_write(tmp_path / "other.csv", [CLAIM[0], other, *CLAIM[1:]]))])
    assert result.summary["rejected_rows"] == 2
    reasons = result.rejected.get_column("reason").to_list()
    assert all("differ in units" in r for r in reasons), reasons


def test_an_original_and_its_replacement_under_one_claim_id_are_not_merged(tmp_path: Path) -> None:
    """Review 27A D7: an original (claim frequency blank) and its replacement (7) repeat each line with one
    claim id; merged, the replacement's 7 made the original a replacement. A blank frequency is an
    original (FORMATS.md), so the copies differ and every row of them is rejected, as the X12 reader
    rejects them; near miss: the same export given twice (both blank) is merged."""
    header = "claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,units,charge," \
             "diagnosis_1,billing_provider,claim_frequency,payer_claim_number"
    lines = ["C1,1,M1,MEDICARE,11,2026-03-02,96365,1,100,D80.0,1234567893", "C1,2,M1,MEDICARE,11,2026-03-02,96366,1,"
             "100,D80.0,1234567893"]
    both = tmp_path / "both.csv"
    both.write_text("\n".join([header, *(f"{x},," for x in lines), *(f"{x},7,PCN9" for x in lines)]) + "\n")
    result = scrub([str(both)])
    assert result.summary["rejected_rows"] == 4
    assert all("differ in claim_frequency" in r for r in result.rejected.get_column("reason").to_list())
    twice = tmp_path / "twice.csv"
    twice.write_text("\n".join([header, *(f"{x},," for x in lines), *(f"{x},," for x in lines)]) + "\n")
    result = scrub([str(twice)])
    assert result.summary["rejected_rows"] == 2 and result.summary["rows_checked"] == 2
    # (review 27D D2: a replacement exported with its claim values on the first line only is the same
    # claim as a copy giving 7 on every line: merged, not rejected)
    full, first = tmp_path / "full.csv", tmp_path / "first.csv"
    full.write_text("\n".join([header, *(f"{x},7,PCN9" for x in lines)]) + "\n")
    first.write_text("\n".join([header, f"{lines[0]},7,PCN9", f"{lines[1]},,"]) + "\n")
    result = scrub([str(full), str(first)])
    assert result.summary["rows_checked"] == 2 and result.summary["merged_rows"] == 2
    # (probe 28C D4: the same, each row written twice beside itself, sorted by claim and line: one copy of
    # the claim, not a second one from the repeated line 1 on; near miss: rows beside each other that
    # differ are still both rejected)
    sorted_twice = tmp_path / "sorted.csv"
    sorted_twice.write_text("\n".join([header, f"{lines[0]},7,PCN9", f"{lines[0]},7,PCN9", f"{lines[1]},,",
                                       f"{lines[1]},,"]) + "\n")
    result = scrub([str(sorted_twice)])
    assert (result.summary["rows_checked"], result.summary["merged_rows"], result.summary["rejected_rows"]) == (2, 2, 2)
    other = tmp_path / "other.csv"
    other.write_text("\n".join([header, f"{lines[0]},7,PCN9", f"{lines[0].replace(',1,100,', ',2,100,')},7,PCN9",
                                f"{lines[1]},,", f"{lines[1]},,"]) + "\n")
    result = scrub([str(other)])
    assert (result.summary["rows_checked"], result.summary["merged_rows"], result.summary["rejected_rows"]) == (1, 1, 3)
    assert sum("differ in units" in r for r in result.rejected.get_column("reason").to_list()) == 2


def test_copies_merged_into_a_checked_line_do_not_fail_the_gate(tmp_path: Path) -> None:
    """Probe 27C D3: the same claims given twice (one export sent again, a CSV and its 837) were merged
    and checked, yet the gate failed them as "3 row(s) could not be checked"; counted as `merged_rows`,
    they pass as the file given once. Near miss: a copy that differs is rejected and fails the gate."""
    from scrubber.gate import decide

    header = "claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,units,charge," \
             "diagnosis_1,billing_provider,infusion_start,infusion_stop"
    line = "C1,1,M1,AETNA,11,2026-03-02,96365,1,100,D80.0,1234567893,2026-03-02T09:00,2026-03-02T10:00"
    twice = _write_raw(tmp_path / "twice.csv", [header, line, line])
    result = scrub([str(twice)])
    assert result.summary["merged_rows"] == 1 and result.summary["rejected_rows"] == 1
    assert result.summary["claims_with_rejected_rows"] == 0
    assert decide(result, "error").status == 0
    other = "C2,1,M2,AETNA,11,2026-03-02,96365,1,100,D80.0,1234567893,2026-03-02T09:00,2026-03-02T10:00"
    differ = _write_raw(tmp_path / "differ.csv", [header, line, line.replace(",1,100,", ",2,100,"), other])
    result = scrub([str(differ)])
    verdict = decide(result, "error")
    assert result.summary["merged_rows"] == 0 and verdict.status == 1
    assert "2 row(s) could not be checked" in verdict.reasons


def _write_raw(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_a_copy_whose_file_gives_no_diagnoses_is_merged_not_rejected(tmp_path: Path) -> None:
    """Probe 27C D2: an 837 and a CSV of the same claims, the CSV without diagnosis columns: every row was
    rejected "differ in diagnoses" and nothing was checked. Diagnoses left empty are left out, as a null
    is: the line takes the copy's that gives them. Near miss: two copies giving other diagnoses differ."""
    with_dx = _write(tmp_path / "with.csv", CLAIM)
    columns = HEADER.split(",")
    at = columns.index("diagnosis_1")
    no_dx = tmp_path / "without.csv"
    no_dx.write_text("\n".join(",".join(c for i, c in enumerate(row.split(",")) if i not in (at, at + 1))
                               for row in [HEADER, *CLAIM]) + "\n", encoding="utf-8")
    result = scrub([str(no_dx), str(with_dx)])
    assert result.summary["rows_checked"] == 3 and result.summary["merged_rows"] == 3
    assert result.lines.get_column("diagnoses").to_list() == [["D800"]] * 3  # (stored undotted)
    other = _write(tmp_path / "other.csv", [row.replace(",D80.0,", ",G61.0,") for row in CLAIM])
    assert scrub([str(other), str(with_dx)]).summary["rows_checked"] == 0


def test_a_copy_of_a_line_whose_claim_is_rejected_is_not_merged_into_a_checked_line(tmp_path: Path) -> None:
    """Review 27D D6: line 1 given twice, and the claim's line 2 naming another payer rejects the whole
    claim: the copy was counted "merged into a checked line" although nothing of the claim was checked."""
    header = "claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,units,charge," \
             "diagnosis_1,billing_provider"
    line = "C1,1,M1,AETNA,11,2026-03-02,96365,1,100,D80.0,1234567893"
    other = "C2,1,M2,AETNA,11,2026-03-02,96365,1,100,D80.0,1234567893"
    path = _write_raw(tmp_path / "claims.csv", [header, line, line, "C1,2,M1,CIGNA,11,2026-03-02,96366,1,100,D80.0,"
                                                "1234567893", other])
    result = scrub([str(path)])
    assert result.summary["rows_checked"] == 1 and result.summary["merged_rows"] == 0
    assert result.summary["claims_with_rejected_rows"] == 1


def test_a_claim_id_given_by_two_files_with_other_lines_is_said(tmp_path: Path) -> None:
    """Probe 27C D4: a claim id in two files, one holding a line the other does not, was read as one claim
    without a word. It still is (its lines together), with an input warning naming the files and lines.
    Near miss: the same claim given by both files (merged copies) warns nothing."""
    header = "claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,units,charge," \
             "diagnosis_1,billing_provider"
    lines = ["C1,1,M1,AETNA,11,2026-03-02,96365,1,100,D80.0,1234567893",
             "C1,2,M1,AETNA,11,2026-03-02,96366,1,100,D80.0,1234567893"]
    first = _write_raw(tmp_path / "a.csv", [header, lines[0]])
    both = _write_raw(tmp_path / "b.csv", [header, *lines])
    warned = [w for w in scrub([str(first), str(both)]).input_warnings if "given by several files" in w["problem"]]
    assert len(warned) == 1 and "a.csv line 1; " in warned[0]["problem"], warned
    assert "b.csv lines 1, 2)" in warned[0]["problem"], warned
    # (probe 28C D6: the same in the other order; each file named by the lines it gives, a copy merged into
    # the other file's line included: the order a.csv, b.csv named b.csv "line 2", and b.csv, a.csv warned
    # nothing)
    other = [w["problem"] for w in scrub([str(both), str(first)]).input_warnings
             if "given by several files" in w["problem"]]
    assert other == [warned[0]["problem"]], other
    again = _write_raw(tmp_path / "c.csv", [header, *lines])
    assert not [w for w in scrub([str(both), str(again)]).input_warnings if "given by several files" in w["problem"]]


def test_a_copy_failing_its_own_rule_does_not_take_the_kept_lines_findings(tmp_path: Path) -> None:
    """Probe 28C D5: beside a checked J1459 line (no JZ: no_jw_jz), a copy of it whose units read
    "70 units" is rejected for them, and the kept line's own finding went (its encounter "beside a
    rejected row", not evaluated). Its readable values are the kept line's: it names no line the
    encounter does not have. Near miss: a failing row of that line with another code still leaves the
    line's two rows rejected (which is the line cannot be told), nothing of it checked."""
    header = "claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,units,charge," \
             "diagnosis_1,billing_provider,drug_dose_mg"
    admin = "C1,1,M1,MEDICARE,11,2026-03-02,96365,1,300,D80.0,1234567893,"
    drug = "C1,2,M1,MEDICARE,11,2026-03-02,J1459,70,7000,D80.0,1234567893,35000"
    copy = _write_raw(tmp_path / "copy.csv", [header, admin, drug, drug.replace(",70,", ",70 units,")])
    result = scrub([str(copy)], select=["missing-modifier"])
    assert result.summary["rejected_rows"] == 1 and "units" in result.rejected.item(0, "reason")
    assert result.findings.select("line_number", "reason").rows() == [(2, "no_jw_jz")]
    assert result.summary["by_check"]["missing-modifier"]["lines_not_evaluated"] == 0
    # (review 28E D1: a copy whose unreadable cell the kept line leaves blank, a discarded amount "4OO",
    # may hold what the line's finding turns on: the encounter stays beside a rejected row, no "append JZ")
    waste = _write_raw(tmp_path / "waste.csv", [header.replace("drug_dose_mg", "drug_dose_mg,drug_wasted_mg"),
                                                admin + ",", drug + ",", drug + ",4OO"])
    result = scrub([str(waste)], select=["missing-modifier"])
    assert result.summary["rejected_rows"] == 1 and result.findings.height == 0
    assert result.summary["by_check"]["missing-modifier"]["lines_not_evaluated"] == 1
    other = _write_raw(tmp_path / "other.csv", [header, admin, drug, drug.replace(",J1459,70,", ",J1561,70 units,")])
    result = scrub([str(other)], select=["missing-modifier"])
    assert result.findings.height == 0 and result.summary["rejected_rows"] == 2 and result.summary["rows_checked"] == 1


def test_the_same_modifiers_in_another_order_are_the_same_line(tmp_path: Path) -> None:
    """Probe 28C B11: a line given by two files with its modifiers in another order (an export's JB, KX, JZ
    and its 837's JZ, KX, JB) had both copies rejected "differ in modifiers": no rule reads their order.
    Merged, the same findings in either order of the files. Near miss: another modifier is another line."""
    header = "claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,modifier_1," \
             "modifier_2,units,charge,diagnosis_1,billing_provider"
    first = _write_raw(tmp_path / "a.csv", [header, "C1,1,M1,AETNA,11,2026-03-02,96365,XS,59,1,100,D80.0,1234567893"])
    again = _write_raw(tmp_path / "b.csv", [header, "C1,1,M1,AETNA,11,2026-03-02,96365,59,XS,1,100,D80.0,1234567893"])
    for files in ([first, again], [again, first]):
        result = scrub([str(f) for f in files])
        assert (result.summary["rows_checked"], result.summary["merged_rows"]) == (1, 1), result.rejected.to_dicts()
    other = _write_raw(tmp_path / "c.csv", [header, "C1,1,M1,AETNA,11,2026-03-02,96365,59,,1,100,D80.0,1234567893"])
    result = scrub([str(first), str(other)])
    assert result.summary["rows_checked"] == 0 and "differ in modifiers" in result.rejected.item(0, "reason")
