"""Read X12 5010 837P (005010X222A1) and 837I (005010X223A2) claim files into the raw frame.

Why a purpose-built reader: billing batches are large, and a general, map-driven X12 parser
(pyx12) spends ~5 ms per claim walking its loop maps. Everything the checks need sits in a dozen
segment kinds, so this module makes one pass over the segments with ``str.split``, appends to
plain column lists, and builds one Polars frame at the end. Structural validation against the
implementation guide is a separate, slower, opt-in step: :func:`validate_x12_strict`.

What is read, per service line (LX + SV1 for 837P, LX + SV2 for 837I); one row each:

* ``claim_id`` CLM01; ``charge`` SV102 / SV203; ``units`` SV104 / SV205; ``line_number`` LX01.
* ``procedure_code`` and ``modifiers`` SV101-2 / SV101-3..6 (SV202-2 / SV202-3..6 for 837I);
  ``revenue_code`` SV201.
* ``place_of_service``: 837P SV105 when present, else CLM05-1. For 837I, CLM05-1 is the *facility
  type code* (the first two digits of the NUBC type of bill), not a POS; it gives a POS only where
  both name the same setting (:data:`FACILITY_TYPE_POS`: hospital inpatient 11x/12x is POS 21,
  RHC 71x is 72, FQHC 73x/77x is 50), so setting rules (JW/JZ do not apply at 21, 50, 72) see
  an inpatient bill as inpatient. Others (13x outpatient: on or off campus? 85x CAH: which part?)
  stay null rather than guessed.
* ``billing_provider`` 2010AA NM1*85 NM109; ``rendering_provider`` NM1*82 NM109 of 2310B/2310D
  (claim) or 2420A/2420C (line, which wins); ``payer_sequence`` SBR01 of the 2000B subscriber loop
  (a 2320 SBR inside the claim is another payer's; A-H, the fourth to eleventh payer, read as T,
  a later payer, and U, unknown, as none); ``claim_frequency`` CLM05-3;
  ``payer_claim_number`` REF*F8 of loop 2300 (not 2330B's, another payer's number).
* ``claim_type`` from the service segment (SV1 professional, SV2 institutional), else from the
  implementation guide in ST03 / GS08; a line whose segment contradicts the guide is rejected.
* ``payer``: loop 2010BB NM1*PR, NM103 (name), falling back to NM109 (payer id).
* ``member_id``: loop 2010BA NM1*IL NM109, the *subscriber* id. When a 2000C patient loop
  exists (patient is a dependant; in 5010 the patient NM1*QC carries no id, and payers key
  eligibility on the subscriber's member id) it is that id followed by ``-P`` and six hex digits of
  the patient's 2010CA name (NM103-NM105) and DMG birth date: two dependants of one subscriber are
  two members, never one encounter. NM1*IL / NM1*PR inside a claim (2330A/2330B other-subscriber /
  other-payer loops of COB claims) never replace these.
* ``diagnoses``: HI codes with qualifier ABK (principal) and ABF (other), in order, as given
  (X12 carries no dots; canonicalisation normalises). SV107 pointers (1-based, into those codes)
  pick the line's codes; without SV107 (always so on 837I) the line gets all of them.
  ABJ (admitting), APR (patient's reason for visit) and ABN (external cause) are ICD-10-CM too but
  are *not* added: they describe why the patient came in, not what was treated, and mixing them in
  could make an uncovered drug look covered. ICD-9 qualifiers (BK, BF, BJ, PR, BN) reject the
  claim with a reason: 5010 claims for dates after 2015-10-01 must use ICD-10-CM.
* ``date_of_service``: line DTP*472, D8 or an RD8 range of one day, as ``YYYY-MM-DD``; an 837I line
  without one takes the claim's DTP*434 statement period when that is one day. Where the date is a
  span of several days (an outpatient 837I line's own RD8 range; an undated 837I line of a longer
  statement period) the line is rejected and given no date: per-date rules (MUE per day, one initial
  service per encounter) would judge the whole span as its first day. An inpatient (11x/12x) line's
  own RD8 range (room and board days) and an 837P line's (CMS-1500 from-to dates) are read from
  their start.
* ``ndc``: LIN*N4 (LIN03), hyphens removed. ``drug_dose_mg`` from CTP04 (quantity) and CTP05-1
  (unit) only when the unit converts to milligrams: ME (milligram) as is, GR (gram) x 1000; on a
  line with JW and not JZ (the discarded amount's own line) the same quantity is ``drug_wasted_mg``.
  ML and UN (and F2) do not convert without the product's concentration, so they leave it null.

Delimiters come from each ISA: element separator = its 4th character, component separator =
ISA16, segment terminator = the character right after ISA16 (newlines after it are tolerated).
ISA11 is the repetition separator in 5010 (``U`` in 4010); no element read here repeats, so it is
not used. A file may hold several interchanges (each with its own delimiters), groups and
transaction sets; non-837 transaction sets in a mixed file are skipped.

Qualifiers and code values (NM1*IL, HI ABK, LIN N4, CTP ME, REF F8, D8/RD8, the guide in ST03/GS08)
are compared in any case, as segment ids are; names, ids and codes are kept as written.

Problems with one claim or line travel with its rows in ``load_error`` (canonicalisation turns
them into rejections): ICD-9 qualifiers, a CLM01 that repeats an earlier claim's in the file (each
CLM is a claim: the later one's lines are rejected, the earlier reads as alone), a unit basis the
guide does not allow (SV103 UN/MJ, SV204 UN/DA), an LX without SV1/SV2, an SV1/SV2 without LX, an LX or
SV1/SV2 with no CLM before it (a row of its own; the claim after it still reads whole), a claim
without lines (one row with the claim-level fields), SV107 pointers past the HI codes, a CTP
quantity that is not a number, a composite written with a component separator other than ISA16, a
procedure composite that is a bare code without its qualifier (``SV1*96365``),
segment ids outside the 5010 837 guides (the claim, or every claim under the HL loop or
transaction header they sit in), a transaction set without its SE trailer (truncated file), and
guides other than 5010 837P/837I (4010 was retired in 2012).

Envelope problems are *notices* of the file, not rejections: SE01 segment count, SE02 vs ST02,
GE01 and IEA01 counts, GE02 vs GS06, IEA02 vs ISA13, an ST02 repeated in a group, and an HL02
that names no earlier HL (read under the HL before it; where the parent named comes later in the
transaction set, the claims under it are rejected too: their billing provider is that later HL's, not
read for them). A clearinghouse rejects such a file at SNIP level 1, so the user must
hear of it (stderr, ``input_warnings`` in the findings JSON, the HTML report), each naming the
segment position; but many real files get SE01 wrong, and rejecting every claim for it would hide
the coding findings, so the claims are still checked. ``--strict`` (:func:`validate_x12_strict`)
makes them, and pyx12's full structural validation, an error.

Problems that make the whole file unreadable raise :class:`~scrubber.errors.InputError` naming
the segment position: no ISA first, an ISA too short to read the delimiters, no 837 transaction
set (e.g. an 835), or 837s without a single CLM. Positions count segments from
the start of the file (the first ISA is segment 1), so in a file with one segment per line the
position is also the line number.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from decimal import Decimal, InvalidOperation
from pathlib import Path

import polars as pl

from scrubber import reference
from scrubber.errors import InputError, decoded, display_name, undecodable_byte
from scrubber.schema import RAW_FRAME_SCHEMA


def _digits(text: str) -> bool:
    """ASCII digits only: ``str.isdigit`` is true of "²" (which ``int`` refuses: the whole run stopped
    on one diagnosis pointer, probe 25C D2) and of Arabic-Indic or fullwidth digits, which the CSV and
    JSON readers refuse as numbers."""
    return text.isascii() and text.isdigit()


# Segment ids of the 5010 837P and 837I guides (pyx12's maps for X222A1 and X223A2, plus the
# envelope). Anything else inside an 837 transaction set is an unknown segment.
_KNOWN_837_SEGMENTS = frozenset(
    (
        "AMT",
        "BHT",
        "CAS",
        "CL1",
        "CLM",
        "CN1",
        "CR1",
        "CR2",
        "CR3",
        "CRC",
        "CTP",
        "CUR",
        "DMG",
        "DTP",
        "FRM",
        "GE",
        "GS",
        "HCP",
        "HI",
        "HL",
        "IEA",
        "ISA",
        "K3",
        "LIN",
        "LQ",
        "LX",
        "MEA",
        "MIA",
        "MOA",
        "N3",
        "N4",
        "NM1",
        "NTE",
        "OI",
        "PAT",
        "PER",
        "PRV",
        "PS1",
        "PWK",
        "QTY",
        "REF",
        "SBR",
        "SE",
        "ST",
        "SV1",
        "SV2",
        "SV5",
        "SVD",
        "TA1",
    )
)
_ICD10_DX_QUALIFIERS = frozenset(("ABK", "ABF"))
# ICD-9-CM: principal, other, admitting, patient's reason for visit, external cause of injury.
_ICD9_DX_QUALIFIERS = frozenset(("BK", "BF", "BJ", "PR", "BN"))
# A composite written with a separator other than the ISA16 one, e.g. "HC>98940" when ISA16 is ":".
_FOREIGN_COMPONENT = re.compile(r"^[A-Z0-9]{2,3}([^A-Za-z0-9 .\-])", re.IGNORECASE)
_GRAMS_TO_MG = Decimal(1000)
# The modifiers that say a line bills a discarded amount (JW: modifiers.csv role "waste").
_WASTE_MODIFIERS = frozenset(reference.modifiers_with_role("waste"))
_NO_WASTE_MODIFIERS = frozenset(reference.modifiers_with_role("no_waste"))
_ISA_WINDOW = 400  # an ISA is 106 characters; leave room for wrongly padded fields
_NOT_EXTRACTED = ("route", "infusion_start", "infusion_stop", "observation_minutes", "sites")
FRAME_SCHEMA: dict[str, pl.DataType] = dict(RAW_FRAME_SCHEMA)
_ENVELOPE = frozenset(("ISA", "GS", "ST", "SE", "GE", "IEA"))
# Said by a notice whose envelope problem rejected the claims it holds (an unclosed group or
# interchange, segments outside any transaction set): the CLI does not call it "not fatal" (probe
# 20B: every row rejected, exit 2, beside a warning that said the file was read).
ROWS_REJECTED = "; the claims it holds are rejected"
_LATER_PAYERS = frozenset("ABCDEFGH")  # SBR01 payer responsibility four to eleven: read as T (a later payer)
# NUBC facility type code (type of bill, first two digits) -> the CMS place of service naming the same
# setting. Only exact equivalents: 13x (outpatient, POS 19 or 22?) and 85x (CAH, inpatient or outpatient?)
# are not here, so they stay null.
FACILITY_TYPE_POS = {"11": "21", "12": "21", "71": "72", "73": "50", "77": "50"}
_MAX_MG_DIGITS = 12  # a CTP quantity past 10^12 mg is no dose (and Decimal arithmetic on 1E999999 overflows)
# The unit bases each guide allows for the service line's quantity (SV103 / SV204), with what they count.
# Any other (ML, GR, F2: a drug's amount written where its HCPCS units go) is not units of service.
_UNIT_BASES = {"SV1": {"UN": "units", "MJ": "minutes"}, "SV2": {"UN": "units", "DA": "days"}}


@dataclass(slots=True)
class _Delimiters:
    element: str
    component: str
    terminator: str


@dataclass(slots=True)
class _Line:
    number: str | None
    position: int
    kind: str | None = None  # "SV1" or "SV2"
    procedure_code: str | None = None
    modifiers: list[str] = field(default_factory=list)
    charge: str | None = None
    units: str | None = None
    place_of_service: str | None = None
    revenue_code: str | None = None
    pointers: list[str] | None = None
    date_of_service: str | None = None
    ndc: str | None = None
    drug_dose_mg: str | None = None
    rendering_provider: str | None = None
    ctp_value: tuple[str, str] | None = None  # the CTP04 quantity and CTP05-1 unit read (a second must agree)
    dated_at: int | None = None  # the segment of its DTP*472: a second one gives the line two dates
    dated_value: tuple[str | None, tuple[str, str, int] | None] | None = None  # (and its date, as read)
    undated: bool = False  # the line's date of service is unknown: its row gets none, not a guess
    range_span: str | None = None  # why its own DTP*472 range of several days dates no one day
    in_days: bool = False  # SV204 unit basis DA: its units are days (a range is its days)
    errors: list[str] = field(default_factory=list)
    # Problems with one value (a pointer, a quantity): the line is rejected, its code still read.
    value_errors: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Claim:
    claim_id: str | None
    position: int
    member_id: str | None
    payer: str | None
    billing_provider: str | None = None
    payer_sequence: str | None = None
    place_of_service: str | None = None
    frequency: str | None = None
    statement_start: str | None = None
    statement_error: str | None = None  # a statement period that cannot date a line (reversed, no end)
    statement_span: str | None = None  # why it cannot date a line without DTP*472: it spans several days
    statement_value: tuple[object, ...] | None = None  # the DTP*434 read (a second one must give the same)
    statement_at: int | None = None  # its segment
    rendering_provider: str | None = None
    payer_claim_number: str | None = None
    other_payers: bool = False  # a 2320 SBR was seen: later NM1*82 / REF*F8 belong to other payers' loops
    diagnoses: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    value_errors: list[str] = field(default_factory=list)
    lines: list[_Line] = field(default_factory=list)
    repeats: int | None = None  # the segment of an earlier claim of the file with the same CLM01


# What tells two claims of one CLM01 apart: every value read, not where in the file it was read (the
# segment positions; the messages about a value quote them, and are compared without them).
_PLACE_ONLY = {"position", "dated_at", "statement_at", "errors", "lines", "repeats"}
_MESSAGES = {"value_errors", "statement_error", "statement_span", "range_span"}
_CLAIM_VALUES = tuple(f.name for f in fields(_Claim) if f.name not in _PLACE_ONLY)
_LINE_VALUES = tuple(f.name for f in fields(_Line) if f.name not in _PLACE_ONLY)
_SEGMENT_AT = re.compile(r"segment \d+")


def _content(claim: _Claim) -> int:
    """A digest of a claim's values as read (its service lines' too), without where they were read:
    equal for a claim and its exact copy later in the file (the same interchange sent twice). A hash
    of tuples, kept per CLM01 (no text per claim: probe 19E measured 14 us and 460 bytes a claim for
    a text form); the messages about a value (a bad CTP04, a statement period of several days) are
    compared with their segment numbers taken out (probe 19F: an exact copy with a bad CTP04 was a
    reused CLM01). Two claims that differ yet hash alike leave rows the exact-duplicate row rule then
    tells apart (it rejects a line repeated with other values), so a collision never merges claims."""
    def frozen(name: str, value: object) -> object:
        if name == "claim_id" and isinstance(value, str):  # (compared as CLM positions key it, review 26F D5)
            return value.strip()
        if name in _MESSAGES and value:
            return tuple(_SEGMENT_AT.sub("segment ?", v) for v in value) if isinstance(value, list) \
                else _SEGMENT_AT.sub("segment ?", str(value))
        return tuple(value) if isinstance(value, list) else value

    return hash((tuple(frozen(name, getattr(claim, name)) for name in _CLAIM_VALUES),
                 tuple(tuple(frozen(name, getattr(line, name)) for name in _LINE_VALUES) for line in claim.lines)))


@dataclass(frozen=True, slots=True)
class _HlContext:
    """What an HL level read (2010AA billing provider; 2000B/2010BA subscriber, payer, SBR01; the errors
    of the HLs above): the context HL02 hands to the HLs that name it as their parent."""

    billing_provider: str | None
    member_id: str | None
    payer: str | None
    payer_sequence: str | None
    errors_20: tuple[str, ...]
    errors_22: tuple[str, ...]


@dataclass(slots=True)
class _PendingParent:
    """A subscriber or patient HL whose HL02 named no earlier HL, its subtree (itself and the HLs that
    name it or a descendant as parent, for the whole transaction set) and the rows of the claims read
    under it: ``closed`` ranges of row numbers ``[start, end)`` and the range ``open_from`` a row number
    while its HLs are read (a dependant listed after another subscriber's HL is still its own, review
    22E)."""

    hl_id: str
    parent: str
    level: str
    position: int
    subtree: set[str]
    open_from: int | None
    closed: list[tuple[int, int]] = field(default_factory=list)

    def opens(self, hl_id: str, parent: str, rows: int) -> None:
        """An HL opens at row ``rows``: a descendant joins the subtree (and opens a range if none is
        open), any other HL closes the open range."""
        if parent and parent in self.subtree:
            self.subtree.add(hl_id)
            if self.open_from is None:
                self.open_from = rows
        elif self.open_from is not None:
            self.closed.append((self.open_from, rows))
            self.open_from = None

    def row_ranges(self, rows_read: int) -> list[tuple[int, int]]:
        """The ranges of rows read under the subtree, the open one ending at ``rows_read``."""
        return self.closed + ([(self.open_from, rows_read)] if self.open_from is not None else [])


@dataclass
class _Transaction:
    control: str
    position: int
    kind: str | None  # claim type the implementation guide implies
    version: str
    is_837: bool
    first_row: int
    errors: list[str] = field(default_factory=list)
    hl_ids: set[str] = field(default_factory=set)
    # What each HL read gives its children (billing provider, subscriber, payer, their errors), by HL01;
    # ``hl_open``: the HL whose segments are being read.
    hl_context: dict[str, _HlContext] = field(default_factory=dict)
    hl_open: str | None = None
    outside: bool = False  # segments outside any ST/SE, read as a transaction set so nothing is lost
    provider_hl: bool = False  # a billing provider HL (level 20) has been read
    # Subscriber or patient HLs whose HL02 named no earlier HL, judged when the set closes.
    unknown_parents: list[_PendingParent] = field(default_factory=list)


def _el(elements: list[str], index: int) -> str:
    """Element ``index`` (1-based like X12, 0 is the segment id), '' when absent.

    Not stripped: X12 pads only ISA fields, and the segment itself is stripped when split.
    """
    return elements[index] if index < len(elements) else ""


def _or_none(value: str) -> str | None:
    return value or None


def _read_isa(text: str, offset: int, position: int, source: str) -> _Delimiters:
    """Delimiters declared by the ISA that starts at ``offset``.

    The ISA is nominally fixed-width, but files with a wrongly padded field exist; splitting on
    the element separator 16 times finds ISA16 either way.
    """
    head = text[offset : offset + _ISA_WINDOW]
    if len(head) < 4:
        raise InputError(f"segment {position}: ISA segment is too short to read the delimiters", source)
    element = head[3]
    if element.isalnum() or element.isspace():
        raise InputError(
            f"segment {position}: ISA element separator {element!r} is a letter, digit or space; "
            "the file is not X12 or is corrupt",
            source,
        )
    parts = head.split(element, 16)
    if len(parts) < 17 or len(parts[16]) < 2:
        raise InputError(
            f"segment {position}: ISA segment is too short to read the delimiters "
            f"(found {min(len(parts), 17) - 1} of 16 elements and no segment terminator after ISA16)",
            source,
        )
    component, terminator = _isa16_and_terminator(parts[16], element)
    if not terminator or terminator.isalnum() or len({element, component, terminator}) < 3 or component.isalnum():
        raise InputError(
            f"segment {position}: ISA declares unusable delimiters (element {element!r}, component "
            f"{component!r}, segment terminator {terminator!r}); they must be three different symbols",
            source,
        )
    # ISA11, the 5010 repetition separator (4010: "U", a letter), equal to the segment terminator: the ISA
    # itself ends at it and every warning after quotes garbled segments (probe 19B). (Equal to the component
    # separator it is harmless here, no element read repeats, and real files do it: Inteligenz's 837I.)
    if parts[11].strip() == terminator:
        raise InputError(
            f"segment {position}: ISA declares unusable delimiters (repetition separator ISA11 {terminator!r} is "
            "also the segment terminator, so the ISA ends inside itself)",
            source,
        )
    return _Delimiters(element, component, terminator)


def _isa16_and_terminator(rest: str, element: str) -> tuple[str, str]:
    """ISA16 (the component separator) and the segment terminator from the text after ISA's 16th
    element separator. A file folded at a fixed width may break the line right before ISA16 or
    before the terminator (line breaks are in neither X12 character set, and are ignored inside
    segments): a line break followed by a symbol is a fold, the symbol the delimiter. A terminator
    that is itself a line break is followed by the next segment's id (letters), so it stays one."""
    def symbol_after_fold(at: int) -> tuple[str, int]:
        folded = at
        while folded < len(rest) and rest[folded] in "\r\n":
            folded += 1
        if (folded > at and folded < len(rest) and not rest[folded].isalnum() and not rest[folded].isspace()
                and rest[folded] != element):
            return rest[folded], folded
        return rest[at], at

    component, at = symbol_after_fold(0)
    if at + 1 >= len(rest):
        return component, ""
    terminator, _ = symbol_after_fold(at + 1)
    if terminator == component:  # (a line break after ISA16, then ISA16's symbol again: not a fold)
        terminator = rest[at + 1]
    return component, terminator


# Around a segment, besides white space: a byte order mark, NUL and Ctrl-Z (SUB), which joined files
# carry at their seams (two Windows-saved 837s concatenated, DOS ``copy a+b``). Left on, they hid the
# next interchange's ISA, and with it its separators: its lines were read as nothing (probe 25C D1).
_EDGE_JUNK = " \t\r\n\x0b\x0c\ufeff\x00\x1a"


def _iter_segments(text: str, source: str) -> Iterator[tuple[int, list[str], str]]:
    """``(position, elements, component separator)`` for every non-empty segment of the file.

    An interchange that changes the element separator or segment terminator is re-split from its
    ISA onwards, so files that concatenate interchanges from different senders still read.
    """
    offset = len(text) - len(text.lstrip(_EDGE_JUNK))
    if text[offset : offset + 3].upper() != "ISA":  # (segment ids are read in any case, as everywhere)
        start = text[offset : offset + 40].splitlines()[0] if text[offset:].strip() else ""
        raise InputError(f"segment 1 is not an ISA interchange header; the file starts with {start!r}", source)
    position = 0
    while True:
        delims = _read_isa(text, offset, position + 1, source)
        element, component, terminator = delims.element, delims.component, delims.terminator
        chunks = text[offset:].split(terminator)
        # CR and LF are in neither X12 character set: unless one is the terminator, a line break
        # inside a segment is transport wrapping (files folded at 80 columns), not data.
        unwrap = terminator not in "\r\n"
        restart = -1
        for index, raw in enumerate(chunks):
            segment = raw.strip(_EDGE_JUNK)
            if unwrap and ("\n" in segment or "\r" in segment):
                segment = segment.replace("\r", "").replace("\n", "")
            if not segment:
                continue
            if index and segment[:3].upper() == "ISA":
                parts = segment.split(element, 16) if segment[3:4] == element else []
                if len(parts) == 17 and len(parts[16]) == 1:
                    component = parts[16]  # same element separator and terminator: just a new ISA16
                else:
                    restart = index
                    break
            position += 1
            elements = segment.split(element)
            upper = elements[0].strip().upper()
            if upper in _KNOWN_837_SEGMENTS or upper in _ENVELOPE:  # ids are upper case: "clm" is a CLM
                elements[0] = upper  # (an unknown id keeps its spelling for the message that quotes it)
            yield position, elements, component
        if restart < 0:
            return
        raw = chunks[restart]
        offset += (sum(len(c) for c in chunks[:restart]) + restart * len(terminator)
                   + len(raw) - len(raw.lstrip(_EDGE_JUNK)))


def _bad_range(qualifier: str, value: str) -> str | None:
    """Why an RD8 service date range cannot be read (no end, or an end before its start), or None.

    The line's date is the range's start; a reversed range leaves it unknown which day that is.
    """
    if qualifier.upper() != "RD8" or not value:
        return None
    start, sep, end = value.partition("-")
    if not sep or not end:
        return f"RD8 date range {value!r} has no end date (expected CCYYMMDD-CCYYMMDD)"
    # An end that is no date (20260302-0305, 20260302-20260399) was read as the start day alone: a
    # four-day outpatient range passed as one day (probe 16B). The start is _date's to judge.
    if len(start) == 8 and _digits(start) and _day(end) is None:
        return f"RD8 date range {value!r} has an end that is not a date (expected CCYYMMDD-CCYYMMDD)"
    if len(start) == len(end) == 8 and _digits(start) and _digits(end) and end < start:
        return f"RD8 date range {value!r} ends before it starts"
    return None


def _day(text: str) -> _dt.date | None:
    """The date ``text`` names as CCYYMMDD, or None (not eight digits, or no such day)."""
    if not (len(text) == 8 and _digits(text)):
        return None
    try:
        return _dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def _span(qualifier: str, value: str) -> tuple[str, str, int] | None:
    """First and last day (YYYY-MM-DD) and the number of days of an RD8 range over more than one day.

    None for a single day (D8, or an RD8 whose start is its end: that date) and for a range that
    :func:`_bad_range` or :func:`_date` already reports (reversed, no end, no such day).
    """
    if qualifier.upper() != "RD8":
        return None
    start, _, end = value.partition("-")
    first, last = _day(start), _day(end)
    if first is None or last is None or last <= first:
        return None
    return first.isoformat(), last.isoformat(), (last - first).days + 1


def _date(qualifier: str, value: str) -> str | None:
    """X12 date (D8 CCYYMMDD, RD8 CCYYMMDD-CCYYMMDD -> its start, DT CCYYMMDDHHMM) as YYYY-MM-DD.

    Text that is not eight digits is passed through unchanged so canonicalisation rejects the row
    quoting what the file said.
    """
    if not value:
        return None
    qualifier = qualifier.upper()
    day = value.split("-", 1)[0] if qualifier == "RD8" else value[:8] if qualifier == "DT" else value
    if len(day) == 8 and _digits(day):
        named = _day(day)
        # (no such day, 20261310: rejected quoting the digits the file holds)
        return named.isoformat() if named is not None else day
    return value


def _foreign_separator(segment: str, label: str, value: str, component: str) -> str | None:
    """Reason when a composite uses a component separator other than the one ISA16 declares."""
    if component in value:
        return None
    match = _FOREIGN_COMPONENT.match(value)
    if match is None:
        return None
    return (
        # (one quoted value: --mask-phi masks a reason from its first quote to its last)
        f"{segment} {label} {value!r} separates its components with the character {match.group(1)}, but "
        f"ISA16 declares the character {component} as the component separator"
    )


_HCPCS_QUALIFIER = "HC"
# SV101-1 / SV202-1 product/service ID qualifiers the 5010 837P / 837I guides allow.
_QUALIFIERS = {"SV1": ("ER", "HC", "IV", "WK"), "SV2": ("ER", "HC", "HP", "IV", "WK")}


def _no_qualifier(segment: str, label: str, value: str, component: str) -> str | None:
    """Reason when a procedure composite is a bare code: its first component is the product/service
    ID qualifier (HC for HCPCS/CPT), so ``SV1*96365`` names no code, and the line cannot say what
    was billed (a payer's front end rejects it before any edit). A qualifier is two characters (X12
    element 235, ID 2/2): a bare ``HC`` is a qualifier whose code is missing, which typing reports."""
    code = value.strip()
    if len(code) <= 2 or component in value:
        return None
    return (f"{segment} {label} {code!r} has no product/service ID qualifier; the code goes after it "
            f"({'HC' + component + code} for a HCPCS/CPT code)")


def _dedupe(reasons: list[str]) -> list[str]:
    return list(dict.fromkeys(reasons))


class _Rows:
    """Column lists of the raw frame, appended to one service line at a time."""

    def __init__(self, source: str, first_row_id: int) -> None:
        self.source = source
        self.first_row_id = first_row_id
        self.columns: dict[str, list] = {
            name: []
            for name in (
                "source_location",
                "claim_id",
                "line_number",
                "member_id",
                "payer",
                "claim_type",
                "place_of_service",
                "date_of_service",
                "procedure_code",
                "modifiers",
                "units",
                "charge",
                "diagnoses",
                "claim_diagnoses",
                "ndc",
                "drug_dose_mg",
                "drug_wasted_mg",
                "revenue_code",
                "billing_provider",
                "rendering_provider",
                "payer_sequence",
                "claim_frequency",
                "payer_claim_number",
                "load_error",
                "value_error",
            )
        }

    def __len__(self) -> int:
        return len(self.columns["claim_id"])

    def add_error_from(self, start: int, reason: str) -> None:
        """Add ``reason`` to every row from ``start`` on (a transaction-level problem found late)."""
        self.add_error_between(start, len(self), reason)

    def add_error_between(self, start: int, end: int, reason: str) -> None:
        """Add ``reason`` to the rows ``start`` to ``end`` (excluded): a problem of theirs found late."""
        errors = self.columns["load_error"]
        for i in range(start, end):
            errors[i] = f"{errors[i]}; {reason}" if errors[i] else reason

    def frame(self) -> pl.DataFrame:
        n = len(self)
        data: dict[str, list] = {
            "row_id": list(range(self.first_row_id, self.first_row_id + n)),
            "source": [self.source] * n,
            "source_row": list(range(1, n + 1)),
            **self.columns,
        }
        for name in _NOT_EXTRACTED:
            data[name] = [None] * n
        lists = {name: data.pop(name) for name in ("modifiers", "diagnoses", "claim_diagnoses")}
        frame = pl.DataFrame(data, schema={k: FRAME_SCHEMA[k] for k in data})
        return frame.with_columns(_list_series(name, values) for name, values in lists.items()).select(
            list(FRAME_SCHEMA)
        )


def _list_series(name: str, values: list[list[str]]) -> pl.Series:
    """A List(String) column, built fast: Polars converts a Python list of lists one Series per row
    (about 20 us each), so the lists travel as one joined string per row and are split in Rust.
    """
    sep = "\x1f"  # ASCII unit separator; falls back to the slow path if any value holds it
    if any(sep in item for value in values for item in value):
        return pl.Series(name, values, dtype=pl.List(pl.String()))
    joined = [sep.join(v) if v else None for v in values]
    empty = pl.lit([], dtype=pl.List(pl.String()))
    return pl.select(pl.Series(name, joined, dtype=pl.String()).str.split(sep).fill_null(empty)).to_series()


class _Reader:
    """One pass over the segments of one file; see the module docstring for what is read."""

    def __init__(self, source: str, first_row_id: int) -> None:
        self.source = source
        self.rows = _Rows(source, first_row_id)
        self.gs_version = ""
        self.tx: _Transaction | None = None
        self.claim: _Claim | None = None
        # Service lines read where no CLM is open (see _orphan): kept apart from ``self.claim`` so the
        # subscriber/payer segments that follow them still reach the HL's context, not the strays.
        self.orphan: _Claim | None = None
        self.member_id: str | None = None
        # A 2000C patient (a dependant of the subscriber): its 2010CA NM1*QC name and DMG birth date,
        # None while the open HL is not a patient HL (see _patient_member).
        self.patient: list[str] | None = None
        self.payer: str | None = None
        self.billing_provider: str | None = None  # 2010AA NM1*85 of the open billing-provider HL
        self.payer_sequence: str | None = None  # 2000B SBR01 of the open subscriber HL
        # Unknown-segment reasons found between an HL and the first CLM under it apply to the claims
        # of that billing provider (20), subscriber (22) or patient (23).
        self.hl_errors: dict[str, list[str]] = {"20": [], "22": [], "23": []}
        self.hl_level: str | None = None
        self.hl_position: int | None = None  # the open HL's segment position, for orphan-line reasons
        self.transactions: list[tuple[str, int]] = []
        # Envelope bookkeeping (notices, see the module docstring): the open ISA and GS headers
        # (control number, position), their counts, and the ST02s seen in the open group.
        self.notices: list[str] = []
        self.isa: tuple[str, int] | None = None
        self.gs: tuple[str, int] | None = None
        self.isa_groups = 0
        self.gs_sets = 0
        self.gs_controls: set[str] = set()
        self.claims_seen = 0
        # CLM01 -> segment position of the first CLM with it: a later claim with the same id is rejected
        # (canonicalisation keys lines on claim id + line number, which would merge the two claims).
        self.claim_positions: dict[str, int] = {}
        self.claim_contents: dict[str, int] = {}  # CLM01 -> the digest of the first claim read with it
        self.claim_rows: dict[str, list[tuple[int, int]]] = {}  # CLM01 -> the rows of the claims read with it
        self.claim_layers: dict[str, tuple] = {}  # CLM01 -> the first claim's payer, payer layer and frequency
        self.ambiguous: dict[str, str] = {}  # CLM01 given other content by a later claim -> the reason
        self.in_837 = False
        self.check_unknown = False
        # Where the open group and interchange started (row count, for rejecting their rows when their
        # trailer never comes), the last transaction set's guide, and the last envelope boundary.
        self.gs_first_row = 0
        self.isa_first_row = 0
        self.last_tx: tuple[str | None, str, bool] = (None, "", True)  # kind, version, is_837
        self.boundary = "before any ST"

    def run(self, text: str) -> pl.DataFrame:
        """Read every segment of ``text``; dispatch by segment id (a dict lookup, not an if-chain)."""
        envelope = {
            "ISA": self._isa,
            "GS": self._gs,
            "ST": self._st,
            "SE": self._se,
            "GE": self._trailer,
            "IEA": self._trailer,
        }
        body = {
            "DTP": self._dtp,
            "LX": self._lx,
            "SV1": self._service,
            "SV2": self._service,
            "LIN": self._lin,
            "CTP": self._ctp,
            "CLM": self._clm,
            "HI": self._hi,
            "HL": self._hl,
            "NM1": self._nm1,
            "DMG": self._dmg,
            "SBR": self._sbr,
            "REF": self._ref,
        }
        lossy = undecodable_byte(text) is not None  # (loaders._read_text, lossy: a byte in another encoding)
        for position, els, component in _iter_segments(text, self.source):
            bad = lossy and next((b for e in els if (b := undecodable_byte(e))), None)
            if bad:
                els = [decoded(e) for e in els]
            sid = els[0]
            handler = envelope.get(sid)
            if handler is not None:
                handler(position, els)
            else:
                if self.tx is None and sid != "TA1":
                    self._outside(position, sid)
                if self.in_837:
                    handler = body.get(sid)
                    if handler is not None:
                        handler(position, els, component)
                    elif self.check_unknown and sid not in _KNOWN_837_SEGMENTS:
                        self._unknown(sid, position)
            if bad:
                self._not_utf8(position, sid, bad)
        return self.finish()

    # --- envelope -----------------------------------------------------------------------------
    def _isa(self, position: int, els: list[str]) -> None:
        self._end_transaction(f"a new ISA at segment {position} starts before its SE trailer")
        self._unclosed_group(f"a new ISA at segment {position}")
        self._unclosed_interchange(f"a new ISA at segment {position}")
        self.gs_version = ""
        self.isa, self.isa_groups, self.gs = (_el(els, 13).strip(), position), 0, None
        self.isa_first_row = len(self.rows)
        self.boundary = f"after the ISA at segment {position}"

    def _gs(self, position: int, els: list[str]) -> None:
        self._end_transaction(f"a GS at segment {position} starts before its SE trailer")
        self._unclosed_group(f"a new GS at segment {position}")
        self.gs_version = _el(els, 8).strip()
        self.gs, self.gs_sets, self.gs_controls = (_el(els, 6).strip(), position), 0, set()
        self.gs_first_row = len(self.rows)
        self.isa_groups += 1
        self.boundary = f"after the GS at segment {position}"

    def _forward_parents(self, tx: _Transaction) -> None:
        """Reject the claims under each HL whose HL02 named a parent read only later in the set: their
        billing provider (and subscriber) is that later HL's, which was not read for them."""
        for pending in tx.unknown_parents:
            if pending.parent == pending.hl_id:
                where, said = "is itself", f"HL {pending.hl_id} names itself as its parent"
            elif pending.parent in tx.hl_ids:
                where, said = "comes later in the transaction set", (f"HL {pending.parent}, the parent HL "
                                                                     f"{pending.hl_id} names, comes after it")
            else:
                continue  # (no HL at all: read under the HL before it, the notice already given)
            what = "billing provider was" if pending.level == "22" else "billing provider and subscriber were"
            reason = (f"the HL02 parent of HL {pending.hl_id} (segment {pending.position}), HL {pending.parent}, "
                      f"{where}, so the claim's {what} not read")
            for start, end in pending.row_ranges(len(self.rows)):
                self.rows.add_error_between(start, end, reason)
            self._notice(pending.position, said + ROWS_REJECTED)

    def _se(self, position: int, els: list[str]) -> None:
        self._close_claim()
        tx = self.tx
        if tx is not None:
            self._forward_parents(tx)
        if tx is None:
            self._notice(position, "SE closes no transaction set (no ST is open)")
        elif tx.outside:
            self._notice(position, f"SE closes no transaction set (the ST it would close is before the segments "
                                   f"outside any ST/SE from segment {tx.position})")
        else:
            self._check_trailer(position, els, (tx.control, tx.position), position - tx.position + 1,
                                "segments", f"transaction set ST {tx.control}", "ST02")
        self._set_transaction(None)
        self.boundary = f"after the SE at segment {position}"

    def _trailer(self, position: int, els: list[str]) -> None:
        self._end_transaction(f"{els[0]} at segment {position} comes before its SE trailer")
        if els[0] == "GE" and self.gs is not None:
            self._check_trailer(position, els, self.gs, self.gs_sets, "transaction sets", "group", "GS06")
            self.gs = None
        elif els[0] == "GE":  # (probe 19B: a file without its GS headers was warned of only indirectly)
            self._notice(position, "GE closes no functional group (no GS is open)")
        elif els[0] == "IEA":
            self._unclosed_group(f"the IEA at segment {position}")
            if self.isa is not None:
                self._check_trailer(position, els, self.isa, self.isa_groups, "functional groups", "interchange",
                                    "ISA13")
            self.isa = None
        self.boundary = f"after the {els[0]} at segment {position}"

    def _unclosed_group(self, until: str) -> None:
        """A GS whose GE never came (before ``until``): its claims are rejected, and the file warned of."""
        if self.gs is None:
            return
        control, start = self.gs
        reason = f"functional group GS {control or '?'} (segment {start}) has no GE trailer before {until}"
        self.rows.add_error_from(self.gs_first_row, reason)
        self._notice(start, reason + ROWS_REJECTED)
        self.gs = None

    def _unclosed_interchange(self, until: str) -> None:
        """An ISA whose IEA never came (before ``until``): its claims are rejected, and the file warned of."""
        if self.isa is None:
            return
        control, start = self.isa
        reason = f"interchange ISA {control or '?'} (segment {start}) has no IEA trailer before {until}"
        self.rows.add_error_from(self.isa_first_row, reason)
        self._notice(start, reason + ROWS_REJECTED)
        self.isa = None

    def _outside(self, position: int, sid: str) -> None:
        """A segment where no transaction set is open (a stray SE mid-file, a claim between SE and GE,
        between GE and IEA, after IEA): the segments from here to the next envelope segment are read as
        a transaction set of their own, so their service lines become rows, each rejected with the
        position; the file gets a notice (``--strict`` refuses it)."""
        kind, version, is_837 = self.last_tx
        reason = (f"segment {position} ({sid}) is outside any ST/SE transaction set ({self.boundary}): "
                  "no payer reads it as part of the file")
        self._notice(position, f"{sid} and the segments after it are outside any ST/SE transaction set "
                               f"({self.boundary})" + ROWS_REJECTED)
        self._set_transaction(_Transaction("-", position, kind, version, is_837, len(self.rows), [reason],
                                           outside=True))
        self.member_id = self.payer = self.billing_provider = self.payer_sequence = None
        self.hl_level = self.hl_position = None
        for level in self.hl_errors.values():
            level.clear()

    def _check_trailer(self, position: int, els: list[str], header: tuple[str, int], count: int, counted: str,
                       scope: str, header_control: str) -> None:
        """A trailer's count (element 1) and control number (element 2) against what it closes:
        SE against its ST, GE against its GS, IEA against its ISA."""
        sid, (control, start) = els[0], header
        declared, echoed = _el(els, 1).strip(), _el(els, 2).strip()
        if declared != str(count):
            self._notice(position, f"{sid}01 says {declared or 'nothing'} {counted}, but the {scope} starting at "
                                   f"segment {start} has {count}")
        if echoed != control:
            self._notice(position, f"{sid}02 control number {echoed or 'missing'} does not match {header_control} "
                                   f"{control} at segment {start}")

    def _notice(self, position: int, problem: str) -> None:
        self.notices.append(f"segment {position}: {problem}")

    def _st(self, position: int, els: list[str]) -> None:
        self._end_transaction(f"the next ST at segment {position} starts before its SE trailer")
        kind_id = _el(els, 1).strip()  # ("837 " padded: its claims were skipped as no 837's; probe 17B)
        self.transactions.append((kind_id, position))
        control = _el(els, 2).strip()
        self.gs_sets += 1
        if self.gs is None:
            self._notice(position, "ST is outside any functional group (no GS header before it)")
        elif control in self.gs_controls:
            self._notice(position, f"ST02 control number {control} is used twice in the functional group "
                                   f"starting at segment {self.gs[1]}")
        self.gs_controls.add(control)
        version = _el(els, 3).strip() or self.gs_version
        kind: str | None = None
        errors: list[str] = []
        if version.upper().startswith("005010X222"):  # (code values are compared in any case, as ids are)
            kind = "professional"
        elif version.upper().startswith("005010X223"):
            kind = "institutional"
        elif version:
            errors.append(
                f"X12 implementation guide {version} is not accepted; "
                "send 5010 837P (005010X222A1) or 837I (005010X223A2)"
            )
        self._set_transaction(
            _Transaction(_el(els, 2), position, kind, version, kind_id == "837", len(self.rows), errors)
        )
        if kind_id != "837":
            self._notice(position, f"transaction set {kind_id or '(no ST01)'} is not an 837: its segments hold no "
                         "claim lines and are skipped")
        self.last_tx = (kind, version, kind_id == "837")
        self.member_id = self.payer = self.billing_provider = self.payer_sequence = None
        self.hl_level = self.hl_position = None
        for level in self.hl_errors.values():
            level.clear()

    def _set_transaction(self, tx: _Transaction | None) -> None:
        self.tx = tx
        self.in_837 = tx is not None and tx.is_837
        # Unknown segments are only reported for 5010 837s: other guides are rejected anyway.
        self.check_unknown = tx is not None and tx.kind is not None

    def _end_transaction(self, reason: str) -> None:
        """Close a transaction set that never got its SE trailer, rejecting its claims."""
        tx = self.tx
        if tx is None:
            return
        self._close_claim()
        self._forward_parents(tx)
        if tx.is_837 and not tx.outside:
            self.rows.add_error_from(tx.first_row, f"transaction set ST {tx.control} (segment {tx.position}): {reason}")
        self._set_transaction(None)

    def finish(self) -> pl.DataFrame:
        self._end_transaction("the file ends before its SE trailer (truncated?)")
        self._unclosed_group("the end of the file (truncated?)")
        self._unclosed_interchange("the end of the file (truncated?)")
        if not any(kind == "837" for kind, _ in self.transactions):
            if not self.transactions:
                raise InputError("no ST transaction set in the file (an 837 starts with ST*837)", self.source)
            found = ", ".join(f"{kind or '?'} (ST at segment {pos})" for kind, pos in self.transactions[:5])
            raise InputError(f"not an 837 claim file: its transaction sets are {found}", self.source)
        if self.claims_seen == 0 and len(self.rows) == 0:
            raise InputError("no claims: the 837 transaction sets hold no CLM segment", self.source)
        return self.rows.frame()

    # --- transaction body ---------------------------------------------------------------------
    def _hl(self, position: int, els: list[str], component: str) -> None:
        self._close_claim()
        if self.tx is not None:
            tx = self.tx
            if tx.hl_open is not None:
                tx.hl_context[tx.hl_open] = self._hl_context()
            parent = _el(els, 2).strip()
            level = _el(els, 3)
            if parent and parent not in tx.hl_ids:
                # (a subscriber under no billing provider HL at all: its claims are rejected when closed)
                rejects = not tx.provider_hl and level == "22"
                self._notice(position, f"HL02 names parent HL {parent}, which is no earlier HL of the transaction set"
                             + (ROWS_REJECTED if rejects else ""))
            hl_id = _el(els, 1).strip()
            for pending in tx.unknown_parents:  # (the claims under a pending HL end where an HL outside it opens)
                pending.opens(hl_id, parent, len(self.rows))
            if parent and parent not in tx.hl_ids:
                if level in ("22", "23") and tx.provider_hl:
                    # Read under the running context (the previous HL's): right when the parent is no HL at
                    # all (a typo, one provider), wrong when it is a later HL, another provider's (probe 22B:
                    # a false second initial service in provider A's encounter). Told at the set's end.
                    tx.unknown_parents.append(_PendingParent(hl_id, parent, level, position, {hl_id},
                                                             len(self.rows)))
            elif parent in tx.hl_context:
                # The parent HL02 names, not the last HL read: a subscriber may follow another
                # provider's HL, a patient another subscriber's (the hierarchy is HL02's).
                self._restore(tx.hl_context[parent])
            if hl_id in tx.hl_ids:
                self._notice(position, f"HL01 {hl_id} is used twice in the transaction set (HL ids are unique)")
            tx.hl_ids.add(hl_id)
            tx.hl_open = hl_id
        level = _el(els, 3)
        self.hl_level = level if level in self.hl_errors else "23"
        self.hl_position = position
        if level == "20":
            self.hl_errors["20"].clear()
            self.billing_provider = None
            if self.tx is not None:
                self.tx.provider_hl = True
        if level in ("20", "22"):
            self.hl_errors["22"].clear()
            self.member_id = self.payer = self.payer_sequence = None
        self.patient = ["", "", "", ""] if level == "23" else None
        self.hl_errors["23"].clear()

    def _hl_context(self) -> _HlContext:
        """The open HL's context, as its children will read it."""
        return _HlContext(self.billing_provider, self.member_id, self.payer, self.payer_sequence,
                          tuple(self.hl_errors["20"]), tuple(self.hl_errors["22"]))

    def _restore(self, context: _HlContext) -> None:
        """The reader's running context set to ``context`` (a parent HL's)."""
        self.billing_provider, self.member_id = context.billing_provider, context.member_id
        self.payer, self.payer_sequence = context.payer, context.payer_sequence
        self.hl_errors["20"][:] = context.errors_20
        self.hl_errors["22"][:] = context.errors_22

    def _nm1(self, position: int, els: list[str], component: str) -> None:
        entity = _el(els, 1).upper()
        claim = self.claim
        if claim is not None:
            # Inside a claim only the rendering provider is read: 2310B/2310D (claim), 2420A/2420C
            # (line, which wins). An NM1*82 after a 2320 SBR is another payer's (2330D) and has no NPI.
            if entity == "82":
                npi = _or_none(_el(els, 9).strip())
                if claim.lines:
                    claim.lines[-1].rendering_provider = claim.lines[-1].rendering_provider or npi
                elif not claim.other_payers:
                    claim.rendering_provider = claim.rendering_provider or npi
            return  # 2310x/2330x/2420x names inside a claim: not the subscriber or the payer
        if entity == "IL":
            self.member_id = self._once(position, "NM1*IL", "member id", self.member_id, _or_none(_el(els, 9)), "22")
        elif entity == "QC" and self.patient is not None:
            self.patient[:3] = (_el(els, n).strip().upper() for n in (3, 4, 5))
        elif entity == "PR":
            self.payer = self._once(position, "NM1*PR", "payer", self.payer,
                                    _or_none(_el(els, 3)) or _or_none(_el(els, 9)), "22")
        elif entity == "85":
            self.billing_provider = self._once(position, "NM1*85", "billing provider", self.billing_provider,
                                               _or_none(_el(els, 9).strip()), "20")

    def _once(self, position: int, segment: str, what: str, held: str | None, read: str | None, level: str
              ) -> str | None:
        """``read`` as the loop's value, or ``held`` where the loop already gave one: a second value,
        another one, rejects the claims under the loop (the guide gives the loop one; the last was read
        without a word, probe 22B: two NM1*IL, the second made the member). The HL opening the loop
        clears ``held`` (:meth:`_hl`)."""
        if held is None or self.hl_level != level:
            return read
        if read != held:
            self.hl_errors[level].append(f"{segment} at segment {position} gives a second {what} ({read}) after "
                                         f"{held}: which is the claim's cannot be told")
        return held

    def _dmg(self, position: int, els: list[str], component: str) -> None:
        if self.claim is None and self.patient is not None:  # 2010CA: the dependant's birth date
            self.patient[3] = _el(els, 2).strip()

    def _patient_member(self) -> str | None:
        """The member of the claims under the open HL: the subscriber id (2010BA NM109), or for a 2000C
        patient (a dependant: in 5010 its NM1*QC carries no id) that id followed by ``-P`` and six hex
        digits of the patient's name and birth date. Two children of one subscriber are two members:
        read as one, a child's 96365 was the sibling's "second initial" and a child's lone 96366 was
        anchored by the sibling's infusion."""
        if self.member_id is None or self.patient is None:
            return self.member_id
        digest = hashlib.sha256("|".join(self.patient).encode("utf-8")).hexdigest()[:6]
        return f"{self.member_id}-P{digest}"

    def _sbr(self, position: int, els: list[str], component: str) -> None:
        if self.claim is not None:
            self.claim.other_payers = True  # 2320: other subscriber information (COB) starts
        else:  # 2000B SBR01: P, S, T; A-H (the 4th to 11th payer) are later payers too, U is unknown
            code = _el(els, 1).strip().upper()
            self.payer_sequence = "T" if code in _LATER_PAYERS else (code or None) if code != "U" else None

    def _ref(self, position: int, els: list[str], component: str) -> None:
        claim = self.claim
        # 2300 REF*F8 (payer claim control number); 2330B has its own REF*F8 for other payers.
        if claim is not None and not claim.lines and not claim.other_payers and _el(els, 1).upper() == "F8":
            number = _or_none(_el(els, 2).strip())
            if claim.payer_claim_number is None:
                claim.payer_claim_number = number
            elif number != claim.payer_claim_number:  # (words only: the first is kept, and said so)
                self._notice(position, f"REF*F8 gives claim {claim.claim_id} a second payer claim number "
                                       f"({number}) after {claim.payer_claim_number}; the first is read")

    def _clm(self, position: int, els: list[str], component: str) -> None:
        self._close_claim()
        self.claims_seen += 1
        claim = self.claim = _Claim(_or_none(_el(els, 1)), position, self._patient_member(), self.payer,
                                    self.billing_provider, self.payer_sequence)
        claim_id = _el(els, 1).strip()
        first = self.claim_positions.setdefault(claim_id, position) if claim_id else position
        if first != position:
            claim.repeats = first  # (judged when its lines are read: :meth:`_close_claim`)
        clm05 = _el(els, 5)
        reason = _foreign_separator("CLM", "CLM05", clm05, component)
        if reason:
            claim.errors.append(reason)
        parts = clm05.split(component)
        claim.place_of_service = _or_none(parts[0].strip())
        claim.frequency = _or_none(parts[2].strip()) if len(parts) > 2 else None

    def _hi(self, position: int, els: list[str], component: str) -> None:
        claim = self.claim
        if claim is None:
            return
        for value in els[1:]:
            value = value.strip()
            if not value:
                continue
            reason = _foreign_separator("HI", "element", value, component)
            if reason:
                claim.errors.append(reason)
                continue
            parts = value.split(component)
            qualifier = parts[0].strip()
            code = parts[1].strip() if len(parts) > 1 else ""
            if qualifier.upper() in _ICD10_DX_QUALIFIERS:
                claim.diagnoses.append(code)
            elif qualifier.upper() in _ICD9_DX_QUALIFIERS:
                claim.value_errors.append(
                    f"ICD-9 diagnosis qualifier {qualifier} is not accepted; 5010 claims use ICD-10-CM (ABK/ABF)"
                )
                claim.diagnoses.append(code)

    def _dtp(self, position: int, els: list[str], component: str) -> None:
        claim = self.claim or self.orphan  # a stray line's DTP*472 dates that line (it is no claim's)
        if claim is None:
            return
        qualifier = _el(els, 1)
        date_format, value = _el(els, 2), _el(els, 3)
        if qualifier == "472" and claim.lines:
            line = claim.lines[-1]
            if line.dated_at is not None:
                # The guide allows one DTP*472 per service line: checked on the first date, the second
                # was dropped without a word (probe 17B); which one is the line's cannot be told.
                if (_date(date_format, value), _span(date_format, value)) != line.dated_value:
                    line.errors.append(f"DTP*472 at segment {position} gives the line a second date of service "
                                       f"({value!r}) after segment {line.dated_at}'s: which is the line's cannot be "
                                       "told; send one DTP*472 per line")
                return
            line.dated_at, line.dated_value = position, (_date(date_format, value), _span(date_format, value))
            if line.date_of_service is None:
                line.date_of_service = _date(date_format, value)
                reason = _bad_range(date_format, value)
                if reason:
                    line.errors.append(f"DTP*472 at segment {position}: {reason}")
                elif span := _span(date_format, value):
                    line.range_span = (f"DTP*472 at segment {position} dates the line {span[0]} to {span[1]}, "
                                       f"{span[2]} days: per-date rules (one initial service per encounter, MUEs "
                                       "per day) cannot judge a range; bill one line per date of service")
        elif qualifier == "434":
            read = (_date(date_format, value), _span(date_format, value))
            if claim.statement_at is not None:
                # The guide allows one statement period per claim: a second was dropped without a word and
                # the order of the two decided the lines' dates (probe 22B: the JZ rule on or off).
                if read != claim.statement_value:
                    claim.statement_error = (f"DTP*434 at segment {position} gives the claim a second statement "
                                             f"period ({value!r}) after segment {claim.statement_at}'s: which is the "
                                             "claim's cannot be told; send one DTP*434 per claim")
                return
            claim.statement_at, claim.statement_value = position, read
            claim.statement_start = _date(date_format, value)
            reason = _bad_range(date_format, value)
            if reason:  # it dates the lines that give no date of their own, which then have none
                claim.statement_error = f"DTP*434 at segment {position}: {reason}"
            elif span := _span(date_format, value):
                # Its first day is no outpatient line's date: a second 96365 on day 5 would be a duplicate
                # on day 1 (an inpatient claim's lines carry no dates by the guide: see _close_claim).
                claim.statement_span = (f"no DTP*472 service date on this line, and the claim's statement period "
                                        f"{span[0]} to {span[1]} (DTP*434 at segment {position}) spans {span[2]} "
                                        "days: the line's date of service is unknown")

    def _lx(self, position: int, els: list[str], component: str) -> None:
        line = _Line(_or_none(_el(els, 1)), position)
        claim = self.claim
        if claim is None:
            claim = self._orphan(position)
            line.errors.append(self._no_claim(position, "LX"))
        claim.lines.append(line)

    def _lin(self, position: int, els: list[str], component: str) -> None:
        claim = self.claim or self.orphan
        if claim is not None and claim.lines and _el(els, 2).upper() == "N4":
            ndc, line = _or_none(_el(els, 3).replace("-", "")), claim.lines[-1]
            if line.ndc is None:
                line.ndc = ndc
            elif ndc != line.ndc:  # (one NDC per line: the first is kept, and the user hears of the second)
                self._notice(position, f"LIN gives line {line.number or '?'} a second NDC ({ndc}) after "
                                       f"{line.ndc}; the first is read")

    def _ctp(self, position: int, els: list[str], component: str) -> None:
        claim = self.claim or self.orphan
        if claim is None or not claim.lines:
            return
        line = claim.lines[-1]
        quantity, unit = _el(els, 4), _el(els, 5).split(component)[0].strip().upper()
        if line.ctp_value is not None:
            # One drug quantity per line (2410 CTP): a second one with another amount was dropped without
            # a word (probe 22B); which is the line's cannot be told.
            if (quantity.strip(), unit) != line.ctp_value:
                line.value_errors.append(f"CTP at segment {position} gives the line a second drug quantity "
                                         f"({quantity!r} {unit}): which is the line's cannot be told")
            return
        line.ctp_value = (quantity.strip(), unit)
        if unit not in ("ME", "GR") or not quantity:
            return  # ML, UN, F2: not convertible to mg without the product's strength
        try:
            amount = Decimal(quantity)
        except InvalidOperation:
            amount = Decimal("NaN")
        if not amount.is_finite():
            line.value_errors.append(f"CTP04 drug quantity {quantity!r} (segment {position}) is not a number")
        elif amount.adjusted() >= _MAX_MG_DIGITS:
            line.value_errors.append(f"CTP04 drug quantity {quantity[:20]!r} (segment {position}) is beyond any "
                                     "dose")
        elif unit == "GR":
            line.drug_dose_mg = format((amount * _GRAMS_TO_MG).normalize(), "f")
        else:
            line.drug_dose_mg = quantity

    def _unknown(self, sid: str, position: int) -> None:
        self._rejects(f"unknown segment {sid!r} at segment {position} (not part of the 5010 837 guides)")

    def _not_utf8(self, position: int, sid: str, byte: str) -> None:
        """A segment holding a byte that is not UTF-8 (a name typed in another encoding): what it
        belongs to is rejected as an unknown segment's is (its line, claim, or HL's claims); one
        outside any transaction set is a notice."""
        reason = (f"not UTF-8 text (byte {byte}) in segment {position} ({sid}): saved in another encoding, so its "
                  "values cannot be trusted; export the file as UTF-8")
        if not self._rejects(reason):
            self._notice(position, reason)

    def _rejects(self, reason: str) -> bool:
        """Give ``reason`` to what the segment just read belongs to: the open service line, claim, HL
        or transaction set (False when there is none)."""
        claim = self.claim or self.orphan  # after a stray line: that line's, as when it was the open claim
        if claim is not None and claim.lines:
            # Inside a service line's loop (after its LX): that line's, not every line of the claim (the
            # claim's good lines were rejected for a segment in line 3's loop; probe 16G).
            claim.lines[-1].errors.append(reason)
        elif claim is not None:
            claim.errors.append(reason)
        elif self.hl_level is not None:
            self.hl_errors[self.hl_level].append(reason)
        elif self.tx is not None:
            self.tx.errors.append(reason)
        else:
            return False
        return True

    def _orphan(self, position: int) -> _Claim:
        """The claim that carries service lines with no CLM before them (after an HL, before its CLM), so
        each becomes a row rejected with its reason (:meth:`_no_claim`).

        It is *not* the open claim (``self.claim``): segments after a stray LX/SV1 that belong to the HL's
        loops (NM1*IL/*PR/*85, SBR, REF, HI) must keep going to the HL's context. Were the strays the open
        claim, those segments would read as the strays' own 2330x/2320 loops, and the intact claim after
        them would lose its member id, payer and billing provider. Only a stray line's own DTP*472, LIN
        and CTP go to it. The next CLM, HL or SE emits its rows (:meth:`_close_claim`).
        """
        if self.orphan is None:
            self.orphan = _Claim(None, position, self._patient_member(), self.payer)
        return self.orphan

    def _no_claim(self, position: int, sid: str) -> str:
        """Why a service line read by :meth:`_orphan` is rejected: where it is, and that it is in no claim."""
        where = (f"after the HL at segment {self.hl_position}, before any CLM of that HL"
                 if self.hl_position is not None else "before any HL or CLM of its transaction set")
        return (f"{sid} at segment {position} has no CLM claim segment before it: the service line is in no "
                f"claim ({where})")

    def _service(self, position: int, els: list[str], component: str) -> None:
        sid = els[0]
        claim = self.claim or self._orphan(position)
        if not claim.lines:
            errors = [f"{sid} at segment {position} has no LX before it"]
            if claim is self.orphan:
                errors.insert(0, self._no_claim(position, sid))
            claim.lines.append(_Line(None, position, errors=errors))
        line = claim.lines[-1]
        if line.kind is not None:
            line.errors.append(f"second service segment {sid} (segment {position}) under one LX")
            return
        line.kind = sid
        if sid == "SV1":
            composite, charge, basis, units = _el(els, 1), _el(els, 2), _el(els, 3), _el(els, 4)
            line.place_of_service = _or_none(_el(els, 5))
            pointers = _el(els, 7)
            if pointers and claim is not self.orphan:  # a stray line has no HI codes to point into
                line.pointers = [p.strip() for p in pointers.split(component)]
        else:
            line.revenue_code = _or_none(_el(els, 1))
            composite, charge, basis, units = _el(els, 2), _el(els, 3), _el(els, 4), _el(els, 5)
        label = "SV101" if sid == "SV1" else "SV202"
        reason = _foreign_separator(sid, label, composite, component) or _no_qualifier(sid, label, composite, component)
        if reason:
            line.errors.append(reason)
        parts = composite.split(component)
        line.procedure_code = _or_none(parts[1].strip()) if len(parts) > 1 else None
        qualifier = parts[0].strip().upper() if len(parts) > 1 else ""
        if len(parts) > 1 and qualifier != _HCPCS_QUALIFIER and not reason:
            # SV1*ZZ:96365 or SV1*:96365 was read as HCPCS 96365; IV (home infusion EDI), ER and WK codes
            # are other code sets. The line counts in its claim; its code is not a HCPCS code to check.
            allowed = _QUALIFIERS[sid]
            line.value_errors.append(
                f"{label}-1 product/service ID qualifier {qualifier or '(empty)'} is not HC (HCPCS/CPT): the code "
                f"{line.procedure_code or ''} is not read as a HCPCS code"
                + ("" if qualifier in allowed else f" (the 5010 guide allows {', '.join(allowed)})"))
        line.modifiers = [m.strip() for m in parts[2:6] if m.strip()]
        line.charge, line.units = _or_none(charge), _or_none(units)
        code = line.procedure_code or ""
        where = "SV103" if sid == "SV1" else "SV204"
        bases, unit_basis = _UNIT_BASES[sid], basis.strip().upper()
        line.in_days = bases.get(unit_basis) == "days"
        if unit_basis and unit_basis not in bases:
            # SV1*HC:J1569:JZ*9000*ML*200 is 200 mL (the NDC quantity), not 200 HCPCS units. The code is
            # still what was billed (it counts in its claim), so the line is rejected as a value problem.
            allowed = " or ".join(f"{b} ({what})" for b, what in bases.items())
            line.value_errors.append(f"{where} unit basis {basis.strip()!r} is not {allowed}: the units cannot be "
                                     "read as HCPCS units")
        elif unit_basis == reference.minutes_basis() and not reference.minutes_allowed(code):
            # The TR3s report minutes (MJ) for anesthesia time only; read as units of service, 60
            # minutes of 96365 would be 60 initial infusions.
            line.errors.append(f"{where} unit basis MJ (minutes) on {code or 'a line without a code'}: the "
                               f"quantity {units or '(none)'} is minutes, not units of service; minutes are "
                               "reported for anesthesia codes only (bill this code in units, UN)")

    # --- output -------------------------------------------------------------------------------
    def _repeated(self, claim: _Claim) -> list[str]:
        """The error of a claim whose CLM01 an earlier claim of the file has, unless it is that claim's
        exact copy. Every CLM starts a claim, and CLM01 (the patient control number) may repeat in a file
        when a practice system reuses the patient's account number: read under one id, the later claim's
        LX 1 and 2 were "duplicates" of the earlier claim's lines and its LX 3 was checked as the earlier
        claim's line 3. Both are rejected whole, as two claims of a CSV or of two files giving one claim
        id other lines are (which claim the id is cannot be told; keeping the earlier made the result
        depend on the order, probe 26C D4): the earlier claim's rows get the reason too. An exact copy (the same
        interchange sent twice in one file) is left to the exact-duplicate rows rule, as a second file
        is: rejected as a repeat "of a bad claim", its encounter read as incomplete and its findings of
        what is absent went quiet (probe 19B: 12 of the sample 837's 33 findings)."""
        if claim.claim_id is None:
            return []
        key = claim.claim_id.strip()  # (as the CLM positions are keyed: "R1" and "R1 " are one id, review 26E D5)
        content = _content(claim)
        span = (len(self.rows), len(self.rows) + max(1, len(claim.lines)))
        layer = (claim.payer, claim.payer_sequence, claim.frequency)
        if key in self.ambiguous:  # (an exact copy of one of them too: which claim it is cannot be told)
            return [self.ambiguous[key]]
        if claim.repeats is None or self.claim_contents.get(key) == content:
            # (the first claim with the id, or its exact copy, left to the exact-duplicate rows rule: their
            # rows, in case a later claim gives the id other content, review 26E D2)
            self.claim_contents.setdefault(key, content)
            self.claim_layers.setdefault(key, layer)
            self.claim_rows.setdefault(key, []).append(span)
            return []
        # The earlier claims are rejected too: which claim the id is cannot be told, and the one read first
        # won (probe 26C D4: the claims in the other order checked the other one; the same two claims in
        # two files, or in a CSV, reject both).
        if self.claim_layers.get(key) != layer:
            # (a next-payer copy or a corrected claim keeps its patient control number: "give each claim
            # its own CLM01" was the wrong advice, review 26E D7)
            why = ("for another payer or as a corrected claim (a next-payer copy or a replacement keeps its "
                   "patient control number): one claim id is one claim in a batch, so send the copy or the "
                   "replacement in a batch of its own")
        else:
            why = ("with other lines or values: each claim needs its own CLM01 (patient control number), else "
                   "the lines of the claims are read as one claim")
        reason = (f"claim id {key} is given by the claims at segments {claim.repeats} and {claim.position} of this "
                  f"file {why}; the lines of this claim are not checked")
        self.ambiguous[key] = reason
        for start, end in self.claim_rows.pop(key, []):
            self.rows.add_error_between(start, end, reason)
        return [reason]

    def _close_claim(self) -> None:
        """Emit the rows of the open claim, or of the stray lines read where none was open (at most one of
        the two exists: :meth:`_clm` closes the strays before it opens its claim, so theirs come first)."""
        claim, tx = self.claim or self.orphan, self.tx
        stray = self.claim is None  # (service lines read where no CLM is open: their own reason says so)
        self.claim = self.orphan = None
        if claim is None or tx is None:
            return
        context = tx.errors + self.hl_errors["20"] + self.hl_errors["22"] + self.hl_errors["23"] + claim.errors
        if not tx.provider_hl and not tx.outside and not stray:
            # No billing provider loop read in the transaction set: the claim's provider is not blank (a
            # blank provider joins the member's encounter of any provider: probe 21B, a false "second
            # initial service" on another provider's good claim), it cannot be told; nor its encounter.
            context = [*context, "no billing provider loop (2000A/2010AA) in the transaction set before the claim, "
                                 "so the claim's provider and encounter cannot be told"]
        context += self._repeated(claim)
        label = f"claim {claim.claim_id}" if claim.claim_id is not None else "no claim id"
        if not claim.lines:
            self._add(
                claim,
                None,
                tx.kind,
                f"segment {claim.position} ({label})",
                [*context, "claim has no service lines (no LX with SV1/SV2 in loop 2400)"],
            )
            return
        inpatient = tx.kind == "institutional" and FACILITY_TYPE_POS.get(claim.place_of_service or "") == "21"
        for line in claim.lines:
            errors = context + line.errors
            # An outpatient 837I line's own range of several days (IOM 100-04 ch.4 s.230.2: drug
            # administration is reported with a line item date of service on the day it is provided).
            # Read from its first day, four weekly 96365 visits were "96365 x4 on one date". An inpatient
            # bill's room-and-board days keep their start, as does a line billed in days (SV204 DA); so
            # does an 837P line (CMS-1500 from-to dates of a service repeated on consecutive days, common
            # in real files).
            if line.range_span is not None and tx.kind == "institutional" and not inpatient and not line.in_days:
                errors.append(line.range_span)
                line.undated = True
            # A line dated by the claim's statement period only (an 837I line; an 837P line never takes it):
            # a period that cannot be read, or spans several days, leaves its date unknown.
            if line.date_of_service is None and tx.kind == "institutional":
                if claim.statement_error is not None:
                    errors.append(f"{claim.statement_error} (the line has no DTP*472 of its own)")
                elif claim.statement_span is not None and FACILITY_TYPE_POS.get(claim.place_of_service or "") != "21":
                    # An outpatient line of a several-day claim without its own date (the 837I guide has
                    # line dates on outpatient claims; an inpatient 11x/12x claim's lines have none and keep
                    # the period's start, as every inpatient rule here is per claim).
                    errors.append(claim.statement_span)
                    line.undated = True
            self._add(
                claim,
                line,
                tx.kind,
                f"segment {line.position} ({label}, LX {line.number if line.number is not None else '?'})",
                errors,
            )

    def _add(self, claim: _Claim, line: _Line | None, guide_kind: str | None, location: str, errors: list[str]) -> None:
        cols = self.rows.columns
        errors = list(errors)
        kind = guide_kind
        if line is not None and line.kind is not None:
            kind = "professional" if line.kind == "SV1" else "institutional"
            if guide_kind is not None and kind != guide_kind:
                errors.append(
                    f"service segment {line.kind} is {'837P' if line.kind == 'SV1' else '837I'}, but the "
                    f"transaction set is {self.tx.version if self.tx else '?'} "
                    f"({'837P' if guide_kind == 'professional' else '837I'})"
                )
        elif line is not None:
            errors.append(
                f"service line LX {line.number or '?'} (segment {line.position}) "
                "has no SV1 (837P) or SV2 (837I) segment"
            )
        value_errors = [*claim.value_errors, *(line.value_errors if line is not None else [])]
        diagnoses = list(claim.diagnoses)
        if line is not None and line.pointers is not None:
            diagnoses = []
            for pointer in line.pointers:
                if not pointer:
                    continue
                if not _digits(pointer):
                    value_errors.append(f"diagnosis pointer {pointer!r} (SV107) is not a number")
                elif int(pointer) < 1:
                    value_errors.append(
                        f"diagnosis pointer {pointer} (SV107) must be 1 or more (pointers count from 1)")
                elif int(pointer) > len(claim.diagnoses):
                    value_errors.append(
                        f"diagnosis pointer {pointer} (SV107) points past the claim's "
                        f"{len(claim.diagnoses)} HI diagnosis code(s)"
                    )
                else:
                    diagnoses.append(claim.diagnoses[int(pointer) - 1])
        institutional = kind == "institutional"
        facility_pos = FACILITY_TYPE_POS.get(claim.place_of_service or "")
        if line is None:
            pos = facility_pos if institutional else claim.place_of_service
            date = claim.statement_start if institutional else None
        else:
            pos = facility_pos if institutional else (line.place_of_service or claim.place_of_service)
            date = None if line.undated else line.date_of_service or (claim.statement_start if institutional else None)
        cols["source_location"].append(location)
        cols["claim_id"].append(claim.claim_id)
        cols["line_number"].append(line.number if line else None)
        cols["member_id"].append(claim.member_id)
        cols["payer"].append(claim.payer)
        cols["claim_type"].append(kind)
        cols["place_of_service"].append(pos)
        cols["date_of_service"].append(date)
        cols["procedure_code"].append(line.procedure_code if line else None)
        cols["modifiers"].append(line.modifiers if line else [])
        cols["units"].append(line.units if line else None)
        cols["charge"].append(line.charge if line else None)
        cols["diagnoses"].append(diagnoses)
        cols["claim_diagnoses"].append(list(claim.diagnoses))
        cols["ndc"].append(line.ndc if line else None)
        # CTP04 is the quantity of the drug the line bills: on a JW line, the amount discarded (CMS JW/JZ
        # FAQ: the discarded amount is billed on its own line with JW), not a dose administered.
        # (a line with JZ as well says both; its quantity stays the dose, as the check then reports)
        marks = {m.upper() for m in line.modifiers} if line is not None else set()
        waste = bool(_WASTE_MODIFIERS & marks) and not _NO_WASTE_MODIFIERS & marks
        cols["drug_dose_mg"].append(line.drug_dose_mg if line and not waste else None)
        cols["drug_wasted_mg"].append(line.drug_dose_mg if line and waste else None)
        cols["revenue_code"].append(line.revenue_code if line else None)
        cols["billing_provider"].append(claim.billing_provider)
        cols["rendering_provider"].append((line.rendering_provider if line else None) or claim.rendering_provider)
        cols["payer_sequence"].append(claim.payer_sequence)
        cols["claim_frequency"].append(claim.frequency)
        cols["payer_claim_number"].append(claim.payer_claim_number)
        cols["load_error"].append("; ".join(_dedupe(errors)) or None)
        cols["value_error"].append("; ".join(_dedupe(value_errors)) or None)


def count_x12_rows(text: str, source: str) -> int:
    """The rows an X12 file holds, counted apart from :class:`_Reader` (issue 12's reconciliation).

    A plain pass over the segment ids: one row per LX of an 837 (inside or outside an ST/SE), one
    for a claim with no LX (its SV1/SV2, or the claim itself when it has no service segment at all);
    segments of other transaction sets (835, 277) hold no claim lines.
    """
    rows = 0
    claim_open = False
    claim_rows = 0
    skipping = False  # inside an ST whose ST01 is not 837
    last_837 = True

    def close() -> None:
        nonlocal rows, claim_open, claim_rows
        if claim_open and claim_rows == 0:
            rows += 1
        claim_open, claim_rows = False, 0

    for _position, els, _component in _iter_segments(text, source):
        sid = els[0]
        if sid in _ENVELOPE or sid == "HL":
            close()
            if sid == "ST":
                last_837 = _el(els, 1).strip() == "837"
                skipping = not last_837
            elif sid in ("SE", "GE", "IEA", "ISA", "GS"):
                skipping = False
            continue
        if skipping or not last_837:
            continue
        if sid == "CLM":
            close()
            claim_open = True
        elif sid == "LX":
            claim_open = True
            claim_rows += 1
            rows += 1
        elif sid in ("SV1", "SV2") and claim_rows == 0:
            claim_open = True
            claim_rows += 1
            rows += 1
    close()
    return rows


def load_x12(path: Path, text: str, first_row_id: int) -> pl.DataFrame:
    """Raw frame (one row per 837 service line) of one X12 file's text.

    ``path`` is only used for provenance and error messages; ``text`` is the decoded file.
    Raises :class:`InputError` when the file as a whole cannot be read as 837 claims.
    """
    return read_x12(path, text, first_row_id)[0]


def read_x12(path: Path, text: str, first_row_id: int) -> tuple[pl.DataFrame, list[str]]:
    """:func:`load_x12` and the file's envelope notices ("segment N: ..."), in file order."""
    reader = _Reader(display_name(path), first_row_id)
    frame = reader.run(text)
    return frame, reader.notices


def validate_x12_strict(path: Path | str) -> list[str]:
    """Structural validation of an X12 file against the implementation guide, via pyx12.

    Slow (pyx12 walks its loop maps for every segment; ~5 ms per claim), so it is opt-in
    (``--strict``). Returns one human-readable problem per item, empty when pyx12 accepts the file.
    pyx12 only has maps for 005010X222A1 and 005010X223A2 (and 4010); for other guides, or when
    pyx12 cannot read the file, the reader's own envelope notices (:func:`_envelope_problems`) are
    given and the problem list says pyx12 could not validate. pyx12 is imported here, not at module
    import, so the fast reader does not need it.
    """
    import io
    import json
    import logging

    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return [f"cannot read file: {exc}"]
    try:
        import pyx12.params
        import pyx12.x12n_document
    except ImportError:  # pragma: no cover - depends on the environment
        return [*_envelope_problems(text, source), "strict validation needs pyx12 (pip install pyx12)"]
    logger = logging.getLogger("pyx12")
    old_level, old_propagate = logger.level, logger.propagate
    logger.setLevel(logging.CRITICAL + 1)
    logger.propagate = False
    report = io.StringIO()
    try:
        pyx12.x12n_document.x12n_document(
            pyx12.params.params(), io.StringIO(text.lstrip("\ufeff \t\r\n")), None, None, fd_json=report
        )
        doc = json.loads(report.getvalue() or "null")
    except Exception as exc:  # noqa: BLE001 - pyx12 raises many kinds; report, never crash
        return [*_envelope_problems(text, source), f"pyx12 could not validate the file: {exc}"]
    finally:
        logger.setLevel(old_level)
        logger.propagate = old_propagate
    if not isinstance(doc, dict):
        return [*_envelope_problems(text, source), "pyx12 could not validate the file (it does not look like X12)"]
    return _pyx12_problems(doc)


def _envelope_problems(text: str, source: str) -> list[str]:
    """The reader's own envelope notices of ``text`` (and why it cannot read the file, if so): what
    ``--strict`` still reports when pyx12 cannot validate the file."""
    reader = _Reader(source, 0)
    try:
        reader.run(text)
    except InputError as exc:
        return [*reader.notices, exc.message]
    return reader.notices


def _pyx12_problems(doc: dict) -> list[str]:
    """Flatten pyx12's JSON error tree into 'segment N (SEG): message' strings.

    pyx12's ``cur_line`` counts segments from the start of the file, like this module's positions.
    """
    out: list[str] = []

    def errors(node: dict, where: str) -> None:
        for err in node.get("errors") or []:
            if isinstance(err, dict):
                out.append(f"{where}: {err.get('err_str') or err.get('err_cde')}")
            else:
                out.append(f"{where}: {err}")

    for isa in doc.get("interchanges") or []:
        errors(isa, f"segment {isa.get('cur_line')} (interchange)")
        for gs in isa.get("groups") or []:
            errors(gs, f"segment {gs.get('cur_line')} (group {gs.get('gs_control_num')})")
            for st in gs.get("transactions") or []:
                errors(st, f"segment {st.get('cur_line')} (transaction set {st.get('trn_set_control_num')})")
                for seg in st.get("segments") or []:
                    where = f"segment {seg.get('cur_line')} ({seg.get('seg_id')})"
                    errors(seg, where)
                    for ele in seg.get("elements") or []:
                        errors(ele, f"{where} element {ele.get('ele_ref') or ele.get('ele_pos') or ''}".rstrip())
    return out
