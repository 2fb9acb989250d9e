#!/usr/bin/env python3
"""Write a claims CSV in the canonical format (docs: FORMATS.md) as an X12 5010 837 file (837P and 837I).

Why: billing systems exchange X12, so the sample claims should exist as an 837 too, and a writer
that round-trips through ``scrubber.loaders.x12_loader`` proves the reader and the CSV agree.

What is written: one interchange; professional claims in a 005010X222A1 (837P) functional group,
institutional claims in a 005010X223A2 (837I) one (GS08 names one guide per group). Each group:
GS/ST/BHT, submitter (1000A) and receiver (1000B), one billing provider (2000A/2010AA), then per
claim a subscriber loop (2000B/2010BA) with its payer (2010BB), the claim (2300 CLM + HI) and its
lines (2400 LX, SV1 or SV2, DTP*472, and LIN/CTP when the line has an NDC), then SE/GE; IEA last,
all with correct counts.

Choices a reader of the output should know:

* Each claim gets its own 2000B subscriber loop; a subscriber may repeat, and it keeps the writer
  simple. Member names, the billing provider and addresses are placeholders (the CSV has none).
* LX01 is the CSV's ``line_number`` as given, so claims and findings keep their numbering.
* The claim's HI lists the lines' diagnoses in order of first use (at most 12, the 837P limit);
  SV107 points each line at its own (at most 4). Dots are dropped: X12 codes carry none.
* CLM05-1 is the first line's ``place_of_service``; a line with a different one repeats it in SV105.
* With an NDC, CTP04/CTP05 carry ``drug_dose_mg`` in ME (milligrams) when the CSV has it,
  otherwise the line's units in UN (the 837P requires CTP after LIN).
* A missing charge is written as 0 (SV102 is required).
* Institutional claims (837I): CLM05-1 is the facility type code of the place of service
  (:data:`FACILITY_TYPES`: POS 21 inpatient is 11, 19/22/23 outpatient 13, 72 RHC 71, 50 FQHC 77),
  CLM05-2 ``A``; the statement period (DTP*434) spans the lines' dates; an inpatient bill gets a CL1
  and an attending provider (2310A). HI carries the principal diagnosis (ABK) and the others (ABF)
  for the whole claim (837I lines have no pointers). SV201 is the row's ``revenue_code``, else the
  usual one for the code (:func:`_revenue_code`: 0636 drugs with detailed coding, 0260 IV therapy,
  0335 chemotherapy IV).

Usage: ``python scripts/csv_to_837.py claims.csv -o claims.837 [--date 2026-01-15T12:00]``
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

ELEMENT, COMPONENT, REPETITION, TERMINATOR = "*", ":", "^", "~"
_DELIMITERS = (ELEMENT, COMPONENT, REPETITION, TERMINATOR, "\n", "\r")
VERSION = "005010X222A1"
INSTITUTIONAL_VERSION = "005010X223A2"
# Place of service -> NUBC facility type code (first two digits of the type of bill), for 837I CLM05-1.
FACILITY_TYPES = {"21": "11", "19": "13", "22": "13", "23": "13", "72": "71", "50": "77"}
_INPATIENT = ("11", "12")
MAX_CLAIM_DIAGNOSES = 12
MAX_LINE_POINTERS = 4


class WriterError(ValueError):
    """A CSV that cannot be written as an 837P, with the row and the reason."""


@dataclass(frozen=True)
class Envelope:
    """Sender, receiver, control number and the placeholder parties of the interchange."""

    sender: str = "SCRUBBER"
    receiver: str = "PAYER"
    control_number: int = 1
    when: datetime = datetime(2026, 1, 1, 12, 0)
    usage: str = "T"  # ISA15: T test, P production
    submitter_name: str = "INFUSION CLAIM SCRUBBER"
    billing_name: str = "SAMPLE INFUSION CENTER"
    billing_npi: str = "1234567893"  # passes the NPI check digit
    billing_tax_id: str = "123456789"


def _x12(value: str, what: str) -> str:
    """``value`` if it holds no delimiter; X12 has no escaping, so anything else is an error."""
    if any(d in value for d in _DELIMITERS):
        raise WriterError(f"{what} {value!r} contains an X12 delimiter ({' '.join(repr(d) for d in _DELIMITERS)})")
    return value


def _number(text: str, what: str, places: int | None = None) -> str:
    """Plain decimal text for an X12 R element (no exponent, no trailing '.0')."""
    try:
        value = Decimal(text.strip().lstrip("$"))
    except InvalidOperation:
        raise WriterError(f"{what} {text!r} is not a number") from None
    if not value.is_finite():
        raise WriterError(f"{what} {text!r} is not a number")
    if places is not None:
        return f"{value:.{places}f}"
    out = format(value.normalize(), "f")
    return out


def _cell(row: dict[str, str], name: str) -> str:
    return (row.get(name) or "").strip()


def read_claims_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a claims CSV as dicts of text, header names normalised like the CSV loader does."""
    with path.open("r", encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = [h.strip().lower().replace(" ", "_") for h in next(reader, [])]
        rows = [dict(zip(header, cells, strict=False)) for cells in reader if any(c.strip() for c in cells)]
    missing = [
        c
        for c in ("claim_id", "line_number", "member_id", "payer", "date_of_service", "procedure_code", "units")
        if c not in header
    ]
    if missing:
        raise WriterError(f"{path}: missing required column(s): {', '.join(missing)}")
    return rows


def _group_claims(rows: list[dict[str, str]]) -> list[list[tuple[int, dict[str, str]]]]:
    """Lines per claim, claims in order of first appearance, lines by line number."""
    claims: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for index, row in enumerate(rows, start=2):  # row 1 is the header
        claim_id = _cell(row, "claim_id")
        if not claim_id:
            raise WriterError(f"row {index}: claim_id is empty")
        claims.setdefault(claim_id, []).append((index, row))
    out = []
    for lines in claims.values():
        try:
            out.append(sorted(lines, key=lambda item: int(Decimal(_cell(item[1], "line_number")))))
        except InvalidOperation:
            bad = next(i for i, r in lines if not _cell(r, "line_number").replace(".", "", 1).isdigit())
            raise WriterError(f"row {bad}: line_number is not a whole number") from None
    return out


def _claim_filing_code(payer: str) -> str:
    """SBR09: Medicare Part B, Medicaid, else commercial insurance."""
    name = payer.upper()
    if "MEDICARE" in name:
        return "MB"
    if "MEDICAID" in name:
        return "MC"
    return "CI"


def _payer_id(payer: str) -> str:
    return "".join(ch for ch in payer.upper() if ch.isalnum())[:80] or "PAYER"


def _claim_type(lines: list[tuple[int, dict[str, str]]]) -> str:
    types = {_cell(row, "claim_type").lower() or "professional" for _, row in lines}
    if len(types) > 1 or not types <= {"professional", "institutional"}:
        first_row, first = lines[0]
        raise WriterError(f"row {first_row}: claim {_cell(first, 'claim_id')} has claim_type "
                          f"{', '.join(sorted(types))}; expected professional or institutional")
    return types.pop()


def _sequence(row: dict[str, str]) -> str:
    """SBR01: the row's payer_sequence (P, S, T); U (unknown) when not given: P would assert "primary",
    and two equal claims to two payers, a next-payer copy in the CSV, became two primaries and a
    duplicate in the 837 (probe P). The reader takes U as no sequence, as the CSV's blank cell."""
    return (_cell(row, "payer_sequence") or "U").upper()


def _frequency(row: dict[str, str]) -> str:
    """CLM05-3: the row's claim_frequency, 1 (original) when not given."""
    return _cell(row, "claim_frequency") or "1"


def _claim_reference(row: dict[str, str]) -> list[str]:
    """REF*F8 (payer claim control number) when the row has a payer_claim_number."""
    number = _cell(row, "payer_claim_number")
    return [ELEMENT.join(["REF", "F8", _x12(number, "payer_claim_number")])] if number else []


def _revenue_code(row: dict[str, str], where: str) -> str:
    """SV201: the row's revenue_code, else the usual one for the procedure code."""
    code = _cell(row, "revenue_code")
    if code:
        return _x12(code.zfill(4), f"{where}: revenue_code")
    procedure = _cell(row, "procedure_code").upper()
    if procedure[:1] in ("J", "Q"):
        return "0636"  # drugs requiring detailed coding
    if procedure.startswith(("9636", "9637")):
        return "0260"  # IV therapy
    if procedure.startswith(("964",)):
        return "0335"  # chemotherapy administration, IV
    raise WriterError(f"{where}: institutional line {procedure!r} needs a revenue_code")


def _institutional_segments(lines: list[tuple[int, dict[str, str]]], hl_number: int, env: Envelope,
                            parent: int = 1) -> list[str]:
    """2000B..2400 of one 837I claim (see the module docstring)."""
    first_row, first = lines[0]
    claim_id = _x12(_cell(first, "claim_id"), f"row {first_row}: claim_id")
    member, payer = _claim_parties(lines, claim_id)
    pos = _cell(first, "place_of_service").zfill(2) if _cell(first, "place_of_service") else ""
    facility = FACILITY_TYPES.get(pos)
    if facility is None:
        raise WriterError(f"row {first_row}: claim {claim_id}: no facility type for place_of_service {pos!r} "
                          f"(known: {', '.join(sorted(FACILITY_TYPES))})")
    diagnoses: list[str] = []
    body: list[str] = []
    days: list[date] = []
    total = Decimal(0)
    for row_number, row in lines:
        where = f"row {row_number}"
        for i in range(1, 5):
            code = _cell(row, f"diagnosis_{i}").upper().replace(".", "")
            if code and code not in diagnoses:
                diagnoses.append(_x12(code, f"{where}: diagnosis_{i}"))
        procedure = _x12(_cell(row, "procedure_code").upper(), f"{where}: procedure_code")
        modifiers = [_x12(_cell(row, f"modifier_{i}").upper(), f"{where}: modifier_{i}") for i in range(1, 5)]
        composite = COMPONENT.join(["HC", procedure, *modifiers]).rstrip(COMPONENT) if procedure else ""
        charge = _number(_cell(row, "charge") or "0", f"{where}: charge", places=2)
        total += Decimal(charge)
        units = _number(_cell(row, "units"), f"{where}: units")
        day = _day(row, where)
        days.append(day)
        line_number = _number(_cell(row, "line_number"), f"{where}: line_number")
        body.append(f"LX{ELEMENT}{line_number}")
        body.append(ELEMENT.join(["SV2", _revenue_code(row, where), composite, charge, "UN", units]))
        body.append(f"DTP{ELEMENT}472{ELEMENT}D8{ELEMENT}{day:%Y%m%d}")
        body.extend(_drug_segments(row, where, units))
    if not diagnoses:
        raise WriterError(f"claim {claim_id}: an 837I needs a principal diagnosis (diagnosis_1 on some line)")
    head = [
        ELEMENT.join(["HL", str(hl_number), str(parent), "22", "0"]),
        ELEMENT.join(["SBR", _sequence(first), "18", "", "", "", "", "", "",
                      "MA" if "MEDICARE" in payer.upper() else "CI"]),
        ELEMENT.join(["NM1", "IL", "1", "MEMBER", "", "", "", "", "MI", member]),
        ELEMENT.join(["NM1", "PR", "2", payer, "", "", "", "", "PI", _payer_id(payer)]),
        ELEMENT.join(["CLM", claim_id, f"{total:.2f}", "", "", COMPONENT.join([facility, "A", _frequency(first)]), "",
                      "A", "Y", "Y"]),
        ELEMENT.join(["DTP", "434", "RD8", f"{min(days):%Y%m%d}-{max(days):%Y%m%d}"]),
    ]
    # CL1 (admission type, source, patient status): the 837I map pyx12 validates against wants it on
    # every claim, outpatient ones included (situational in the guide, allowed there).
    head.append(ELEMENT.join(["CL1", "1", "1", "01"]))
    head.extend(_claim_reference(first))
    head.append(ELEMENT.join(["HI", f"ABK{COMPONENT}{diagnoses[0]}"]))
    if len(diagnoses) > 1:
        head.append(ELEMENT.join(["HI", *(f"ABF{COMPONENT}{code}" for code in diagnoses[1:MAX_CLAIM_DIAGNOSES])]))
    if facility in _INPATIENT:
        head.append(ELEMENT.join(["NM1", "71", "1", "ATTENDING", "PHYSICIAN", "", "", "", "XX", env.billing_npi]))
    return head + body


def _claim_parties(lines: list[tuple[int, dict[str, str]]], claim_id: str) -> tuple[str, str]:
    """The claim's member and payer (every line must agree)."""
    first_row, first = lines[0]
    for field in ("member_id", "payer"):
        values = {_cell(row, field) for _, row in lines}
        if len(values) > 1:
            raise WriterError(f"claim {claim_id}: lines disagree on {field} ({', '.join(sorted(values))})")
    member = _x12(_cell(first, "member_id"), f"row {first_row}: member_id")
    payer = _x12(_cell(first, "payer"), f"row {first_row}: payer")
    if not member or not payer:
        raise WriterError(f"row {first_row}: claim {claim_id} needs member_id and payer")
    return member, payer


def _day(row: dict[str, str], where: str) -> date:
    try:
        return date.fromisoformat(_cell(row, "date_of_service"))
    except ValueError:
        raise WriterError(f"{where}: date_of_service {_cell(row, 'date_of_service')!r} is not YYYY-MM-DD") from None


def _drug_segments(row: dict[str, str], where: str, units: str) -> list[str]:
    """LIN/CTP (2410) of a line with an NDC: the dose in ME when known, else the units in UN."""
    ndc = _cell(row, "ndc").replace("-", "")
    if not ndc:
        return []
    out = [f"LIN{ELEMENT}{ELEMENT}N4{ELEMENT}{_x12(ndc, f'{where}: ndc')}"]
    dose = _cell(row, "drug_dose_mg")
    if dose:
        out.append(ELEMENT.join(["CTP", "", "", "", _number(dose, f"{where}: drug_dose_mg"), "ME"]))
    else:
        out.append(ELEMENT.join(["CTP", "", "", "", units, "UN"]))
    return out


def _claim_segments(lines: list[tuple[int, dict[str, str]]], hl_number: int, parent: int = 1) -> list[str]:
    first_row, first = lines[0]
    claim_id = _x12(_cell(first, "claim_id"), f"row {first_row}: claim_id")
    for field in ("member_id", "payer"):
        values = {_cell(row, field) for _, row in lines}
        if len(values) > 1:
            raise WriterError(f"claim {claim_id}: lines disagree on {field} ({', '.join(sorted(values))})")
    member = _x12(_cell(first, "member_id"), f"row {first_row}: member_id")
    payer = _x12(_cell(first, "payer"), f"row {first_row}: payer")
    if not member or not payer:
        raise WriterError(f"row {first_row}: claim {claim_id} needs member_id and payer")
    claim_pos = ""
    diagnoses: list[str] = []
    body: list[str] = []
    total = Decimal(0)
    for row_number, row in lines:
        where = f"row {row_number}"
        pos = _cell(row, "place_of_service")
        pos = f"0{pos}" if len(pos) == 1 else pos
        claim_pos = claim_pos or pos
        line_dx = []
        for i in range(1, 5):
            code = _cell(row, f"diagnosis_{i}").upper().replace(".", "")
            if code:
                line_dx.append(_x12(code, f"{where}: diagnosis_{i}"))
        pointers = []
        for code in line_dx:
            if code not in diagnoses:
                diagnoses.append(code)
            pointers.append(str(diagnoses.index(code) + 1))
        if len(diagnoses) > MAX_CLAIM_DIAGNOSES:
            raise WriterError(f"claim {claim_id}: more than {MAX_CLAIM_DIAGNOSES} distinct diagnoses")
        procedure = _x12(_cell(row, "procedure_code").upper(), f"{where}: procedure_code")
        modifiers = [_x12(_cell(row, f"modifier_{i}").upper(), f"{where}: modifier_{i}") for i in range(1, 5)]
        composite = COMPONENT.join(["HC", procedure, *modifiers]).rstrip(COMPONENT)
        charge = _number(_cell(row, "charge") or "0", f"{where}: charge", places=2)
        total += Decimal(charge)
        units = _number(_cell(row, "units"), f"{where}: units")
        day = _day(row, where)
        line_pos = pos if pos and pos != claim_pos else ""
        sv1 = [
            "SV1",
            composite,
            charge,
            "UN",
            units,
            _x12(line_pos, f"{where}: place_of_service"),
            "",
            COMPONENT.join(pointers[:MAX_LINE_POINTERS]),
        ]
        line_number = _number(_cell(row, "line_number"), f"{where}: line_number")
        body.append(f"LX{ELEMENT}{line_number}")
        body.append(ELEMENT.join(sv1).rstrip(ELEMENT))
        body.append(f"DTP{ELEMENT}472{ELEMENT}D8{ELEMENT}{day:%Y%m%d}")
        body.extend(_drug_segments(row, where, units))
    if not claim_pos:
        raise WriterError(f"claim {claim_id}: no place_of_service on any line (CLM05-1 needs one)")
    head = [
        ELEMENT.join(["HL", str(hl_number), str(parent), "22", "0"]),
        ELEMENT.join(["SBR", _sequence(first), "18", "", "", "", "", "", "", _claim_filing_code(payer)]),
        ELEMENT.join(["NM1", "IL", "1", "MEMBER", "", "", "", "", "MI", member]),
        ELEMENT.join(["NM1", "PR", "2", payer, "", "", "", "", "PI", _payer_id(payer)]),
        ELEMENT.join(
            ["CLM", claim_id, f"{total:.2f}", "", "", COMPONENT.join([claim_pos, "B", _frequency(first)]), "Y", "A",
             "Y", "Y"]
        ),
    ]
    head.extend(_claim_reference(first))
    if diagnoses:
        qualifiers = ["ABK"] + ["ABF"] * (len(diagnoses) - 1)
        pairs = zip(qualifiers, diagnoses, strict=True)
        head.append(ELEMENT.join(["HI", *(f"{q}{COMPONENT}{code}" for q, code in pairs)]))
    return head + body


def build_837(rows: list[dict[str, str]], envelope: Envelope | None = None) -> str:
    """The 837 text for CSV rows (dicts of column -> text); raises :class:`WriterError`."""
    env = envelope or Envelope()
    if not rows:
        raise WriterError("no claim lines to write")
    claims = _group_claims(rows)
    kinds = [_claim_type(lines) for lines in claims]
    when = env.when
    control = f"{env.control_number:09d}"
    sender = _x12(env.sender, "sender")[:15]
    receiver = _x12(env.receiver, "receiver")[:15]
    isa = ELEMENT.join(
        [
            "ISA",
            "00",
            " " * 10,
            "00",
            " " * 10,
            "ZZ",
            f"{sender:<15}",
            "ZZ",
            f"{receiver:<15}",
            f"{when:%y%m%d}",
            f"{when:%H%M}",
            REPETITION,
            "00501",
            control,
            "0",
            env.usage,
            COMPONENT,
        ]
    )
    groups: list[str] = []
    for number, (kind, version) in enumerate(
            [k for k in (("professional", VERSION), ("institutional", INSTITUTIONAL_VERSION)) if k[0] in kinds]):
        mine = [lines for lines, k in zip(claims, kinds, strict=True) if k == kind]
        groups.extend(_group(mine, kind, version, env.control_number + number, env, sender, receiver, control))
    segments = [isa, *groups, ELEMENT.join(["IEA", str(len(set(kinds))), control])]
    return "".join(f"{segment}{TERMINATOR}\n" for segment in segments)


def _group(claims: list[list[tuple[int, dict[str, str]]]], kind: str, version: str, group_control: int,
           env: Envelope, sender: str, receiver: str, control: str) -> list[str]:
    """GS..GE of one guide: one transaction set with every claim of that kind."""
    when = env.when
    gs = ELEMENT.join(
        ["GS", "HC", sender, receiver, f"{when:%Y%m%d}", f"{when:%H%M}", str(group_control), "X", version]
    )
    transaction = [
        ELEMENT.join(["ST", "837", "0001", version]),
        ELEMENT.join(["BHT", "0019", "00", control, f"{when:%Y%m%d}", f"{when:%H%M}", "CH"]),
        ELEMENT.join(["NM1", "41", "2", env.submitter_name, "", "", "", "", "46", sender]),
        ELEMENT.join(["PER", "IC", "BILLING OFFICE", "TE", "5555550100"]),
        ELEMENT.join(["NM1", "40", "2", receiver, "", "", "", "", "46", receiver]),
        ELEMENT.join(["HL", "1", "", "20", "1"]),
        ELEMENT.join(["NM1", "85", "2", env.billing_name, "", "", "", "", "XX", env.billing_npi]),
        ELEMENT.join(["N3", "100 MAIN ST"]),
        ELEMENT.join(["N4", "SPRINGFIELD", "IL", "627010000"]),
        ELEMENT.join(["REF", "EI", env.billing_tax_id]),
    ]
    # One 2000A billing-provider loop per billing_provider (the envelope's NPI where a claim names none),
    # its claims' 2000B loops under it.
    providers: dict[str, list[list[tuple[int, dict[str, str]]]]] = {}
    for lines in claims:
        providers.setdefault(_cell(lines[0][1], "billing_provider") or env.billing_npi, []).append(lines)
    transaction = transaction[:5]
    hl_number = 0
    for npi, mine in providers.items():
        hl_number += 1
        parent = hl_number
        transaction += [
            ELEMENT.join(["HL", str(parent), "", "20", "1"]),
            ELEMENT.join(["NM1", "85", "2", env.billing_name, "", "", "", "", "XX", _x12(npi, "billing_provider")]),
            ELEMENT.join(["N3", "100 MAIN ST"]),
            ELEMENT.join(["N4", "SPRINGFIELD", "IL", "627010000"]),
            ELEMENT.join(["REF", "EI", env.billing_tax_id]),
        ]
        for lines in mine:
            hl_number += 1
            if kind == "institutional":
                transaction.extend(_institutional_segments(lines, hl_number, env, parent))
            else:
                transaction.extend(_claim_segments(lines, hl_number, parent))
    transaction.append(ELEMENT.join(["SE", str(len(transaction) + 1), "0001"]))
    return [gs, *transaction, ELEMENT.join(["GE", "1", str(group_control)])]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a claims CSV (FORMATS.md) as an X12 5010 837 file.")
    parser.add_argument("csv", type=Path, help="claims CSV, one row per service line")
    parser.add_argument("-o", "--output", type=Path, help="837 file to write (default: standard output)")
    parser.add_argument("--sender", default=Envelope.sender, help="ISA06/GS02 sender id")
    parser.add_argument("--receiver", default=Envelope.receiver, help="ISA08/GS03 receiver id")
    parser.add_argument("--control-number", type=int, default=1, help="ISA13/GS06 control number")
    parser.add_argument("--date", help="interchange date and time, YYYY-MM-DD[THH:MM] (default: now)")
    parser.add_argument("--production", action="store_true", help="mark the interchange P (default T, test)")
    args = parser.parse_args(argv)
    try:
        when = datetime.fromisoformat(args.date) if args.date else datetime.now().replace(second=0, microsecond=0)
        envelope = Envelope(args.sender, args.receiver, args.control_number, when, "P" if args.production else "T")
        text = build_837(read_claims_csv(args.csv), envelope)
    except (WriterError, ValueError, OSError) as exc:
        print(f"csv_to_837: error: {exc}", file=sys.stderr)
        return 2
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
