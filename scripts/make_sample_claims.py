"""Write the bundled sample batch: ``sample_claims/claims.csv`` and the same claims as ``claims.json``.

Fifty infusion and injection claims across Medicare and four commercial payers, office (11),
outpatient hospital (19/22), home (12) and inpatient (21) settings: IVIG, SCIG, hydration and
chemotherapy encounters. About half are clean, including near misses at the rule boundaries
(91 minutes, 16 minutes, JZ before 2023-07-01, POS 21, G35 before FY2026); the rest each carry one
coding error so every check fires somewhere in the batch. The claim ids say which: PCN-1xxx are
clean, PCN-2xxx are flagged, and each flagged claim's comment names the check it exercises.

It also writes the professional claims as an X12 5010 837P (``claims.837``) with their
administration records (``records.csv``: the documentation an 837 cannot carry), so
``scrub check sample_claims/claims.837 --records sample_claims/records.csv`` audits the same
claims from X12.

Run ``python scripts/make_sample_claims.py`` after editing; the files are committed.
"""

from __future__ import annotations

import csv
import json
import sys
from datetime import datetime
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "sample_claims"
COLUMNS = [
    "claim_id", "line_number", "member_id", "payer", "claim_type", "place_of_service", "date_of_service",
    "procedure_code", "modifier_1", "modifier_2", "modifier_3", "units", "charge", "diagnosis_1", "diagnosis_2", "ndc",
    "drug_dose_mg", "drug_wasted_mg", "route", "infusion_start", "infusion_stop", "observation_minutes", "sites",
    "billing_provider", "payer_sequence", "revenue_code", "payer_claim_number",
]
NEW_COLUMNS = ("billing_provider", "payer_sequence", "revenue_code", "payer_claim_number")
CLAIM_FIELDS = ("claim_id", "member_id", "payer", "claim_type", "place_of_service", "billing_provider",
                "payer_sequence", "payer_claim_number")

# Prices per unit, for realistic charges.
PRICE = {
    "96360": 180, "96361": 65, "96365": 350, "96366": 110, "96367": 140, "96369": 250, "96370": 95, "96371": 120,
    "96372": 45, "96374": 120, "96375": 60, "96413": 420, "96415": 95, "J1459": 95, "J1555": 70, "J1558": 72,
    "J1559": 80, "J1561": 92, "J1568": 88, "J1569": 90, "J1572": 85, "J1575": 40, "J1100": 2, "J2405": 3,
    "J2350": 55, "J9355": 120,
}
NDC = {"J1459": "44206043810", "J1559": "44206045494", "J1569": "00944270005", "J1568": "68982085003",
       "J1561": "13533080040", "J1555": "00944285003", "J1558": "13533080720", "J1572": "61953000503",
       "J1575": "00944290002"}


def claim(claim_id: str, member: str, payer: str, pos: str, dos: str, dx: list[str], lines: list[dict],
          claim_type: str = "professional") -> list[dict]:
    """Rows of one claim; each line dict gives code and units plus any documentation."""
    rows = []
    for n, line in enumerate(lines, start=1):
        code = line["code"]
        mods = line.get("mods", [])
        units = line["units"]
        start, stop = line.get("times", (None, None))
        rows.append({
            "claim_id": claim_id, "line_number": n, "member_id": member, "payer": payer, "claim_type": claim_type,
            "place_of_service": pos, "date_of_service": dos, "procedure_code": code,
            **{f"modifier_{i}": mods[i - 1] if len(mods) >= i else "" for i in (1, 2, 3)},
            "units": units, "charge": f"{PRICE.get(code, 50) * units:.2f}",
            "diagnosis_1": line.get("dx", dx)[0], "diagnosis_2": [*line.get("dx", dx), ""][1],
            "ndc": NDC.get(code, "") if code.startswith("J1") else "",
            "drug_dose_mg": line.get("dose", ""), "drug_wasted_mg": line.get("waste", ""),
            "route": line.get("route", ""),
            "infusion_start": f"{dos}T{start}" if start else "",
            "infusion_stop": f"{stop if 'T' in (stop or '') else dos + 'T' + stop}" if stop else "",
            "observation_minutes": line.get("obs", ""), "sites": line.get("sites", ""),
            **{c: "" for c in NEW_COLUMNS},
        })
    return rows


def t(start: str, stop: str) -> tuple[str, str]:
    return (start, stop)


MBI = ["1EG4TE5MK72", "2FH5UF6NL83", "3GJ6VG7PM94", "4HK7WH8QN05", "5JM8XJ9RP16", "6KN9YK1TQ27", "7MP1AM2UR38",
       "8NQ2CN3VT49", "9PR3DP4WU51", "1QT4EQ5XV62", "2RU5FR6YW73", "3TV6GT7AX84", "4UW7HU8CY95", "5VX8JV9DA06",
       "6WY9KW1EC17", "7XA1MX2FD28", "8YC2NY3GE39", "9AD3PA4HF41", "1CE4QC5JG52", "2DF5RD6KH63", "3EG6TE7MJ74",
       "4FH7UF8NK85"]

CLAIMS: list[list[dict]] = [
    # ---- clean claims and near misses ---------------------------------------------------------
    claim("PCN-1001", MBI[0], "MEDICARE", "11", "2026-03-02", ["D80.0"], [
        {"code": "96365", "units": 1, "times": t("09:00", "11:45"), "route": "IV"},
        {"code": "96366", "units": 2},
        {"code": "J1459", "units": 70, "mods": ["JZ"], "dose": 35000, "waste": 0, "route": "IV"}]),
    claim("PCN-1002", MBI[1], "MEDICARE", "22", "2026-03-03", ["G61.81"], [
        {"code": "96365", "units": 1, "times": t("10:00", "13:10")},
        {"code": "96366", "units": 2},
        {"code": "J1569", "units": 80, "mods": ["JZ", "JA"], "dose": 40000, "route": "IV"}]),
    claim("PCN-1003", MBI[2], "MEDICARE", "12", "2026-03-04", ["D83.9"], [
        {"code": "J1559", "units": 80, "mods": ["JB", "KX", "JZ"], "dose": 8000, "route": "SC"}]),
    claim("PCN-1004", MBI[3], "MEDICARE", "12", "2026-03-05", ["G61.81"], [
        {"code": "J1555", "units": 100, "mods": ["JB", "KX", "JZ"], "dose": 10000, "route": "SC"}]),
    claim("PCN-1005", "W100200301", "AETNA", "11", "2026-03-06", ["D80.3"], [
        {"code": "96369", "units": 1, "times": t("09:00", "10:40"), "sites": 4},
        {"code": "96370", "units": 1},
        {"code": "96371", "units": 1},
        {"code": "J1559", "units": 80, "dose": 8000, "route": "SC"}]),
    claim("PCN-1006", "W100200302", "AETNA", "22", "2026-03-09", ["E86.0"], [
        {"code": "96360", "units": 1, "times": t("08:00", "10:15")},
        {"code": "96361", "units": 1}]),
    claim("PCN-1007", "U884410021", "UHC", "11", "2026-03-10", ["C50.911"], [
        {"code": "96413", "units": 1, "times": t("09:00", "11:00")},
        {"code": "96415", "units": 1},
        {"code": "96375", "units": 1},
        {"code": "J9355", "units": 4}]),
    claim("PCN-1008", MBI[4], "MEDICARE", "11", "2026-03-11", ["D69.3"], [
        {"code": "96365", "units": 1, "times": t("09:00", "10:40")},
        {"code": "96366", "units": 1},
        {"code": "J1568", "units": 60, "mods": ["JZ"], "dose": 30000}]),
    claim("PCN-1009", "B552300119", "BCBS", "19", "2026-03-12", ["D83.0"], [
        {"code": "96365", "units": 1, "times": t("13:00", "14:00")},
        {"code": "J1561", "units": 40, "mods": ["JA"], "dose": 20000, "route": "IV"}]),
    claim("PCN-1010", MBI[5], "MEDICARE", "11", "2026-03-13", ["D80.0"], [
        {"code": "96365", "units": 1, "times": t("09:00", "12:00")},
        {"code": "96366", "units": 2},
        {"code": "J1459", "units": 71, "dose": 35200, "waste": 400},
        {"code": "J1459", "units": 1, "mods": ["JW"]}]),
    claim("PCN-1011", MBI[6], "MEDICARE", "11", "2023-06-15", ["D80.0"], [
        {"code": "96365", "units": 1, "times": t("09:00", "10:20")},
        {"code": "J1459", "units": 70, "dose": 35000}]),
    claim("PCN-1012", MBI[7], "MEDICARE", "21", "2026-03-16", ["D80.0"], [
        {"code": "96365", "units": 1, "times": t("15:00", "16:00")},
        {"code": "J1459", "units": 70, "dose": 35000}], claim_type="institutional"),
    claim("PCN-1013", "C771200455", "CIGNA", "11", "2026-03-17", ["D80.5", "E86.0"], [
        {"code": "96365", "units": 1, "times": t("09:00", "09:50")},
        {"code": "96360", "units": 1, "mods": ["XS"], "times": t("10:00", "10:45"), "dx": ["E86.0"]},
        {"code": "J1568", "units": 50, "dose": 25000}]),
    claim("PCN-1014", "W100200303", "AETNA", "11", "2026-03-18", ["D69.3"], [
        {"code": "96365", "units": 1, "times": t("09:00", "10:10")},
        {"code": "96375", "units": 1},
        {"code": "J1459", "units": 40, "dose": 20000},
        {"code": "J2405", "units": 4}]),
    claim("PCN-1015", MBI[8], "MEDICARE", "22", "2026-04-05", ["E86.0"], [
        {"code": "96360", "units": 1, "times": t("23:00", "2026-04-06T02:00")},
        {"code": "96361", "units": 2}]),
    claim("PCN-1016", "U884410022", "UHC", "11", "2026-04-06", ["D69.3", "E86.0"], [
        {"code": "96365", "units": 1, "times": t("09:00", "10:00")},
        {"code": "J1459", "units": 40, "dose": 20000},
        {"code": "96361", "units": 1, "times": t("10:00", "11:00"), "dx": ["E86.0"]}]),
    claim("PCN-1017", MBI[9], "MEDICARE", "12", "2026-04-07", ["G61.81"], [
        {"code": "J1569", "units": 40, "mods": ["JB", "KX", "JZ"], "dose": 20000, "route": "SC"}]),
    claim("PCN-1018", MBI[10], "MEDICARE", "22", "2025-09-15", ["G35"], [
        {"code": "96365", "units": 1, "times": t("09:00", "12:30")},
        {"code": "96366", "units": 2},
        {"code": "J2350", "units": 600}]),
    claim("PCN-1019", "B552300120", "BCBS", "11", "2026-04-08", ["D80.6"], [
        {"code": "96365", "units": 1, "times": t("09:00", "10:35")},
        {"code": "96366", "units": 1},
        {"code": "J1572", "units": 60, "dose": 30000}]),
    claim("PCN-1020", MBI[11], "MEDICARE", "11", "2026-04-09", ["D83.8"], [
        {"code": "96369", "units": 1, "times": t("09:00", "11:00"), "sites": 1},
        {"code": "96370", "units": 1},
        {"code": "J1575", "units": 300, "mods": ["JZ"], "dose": 30000, "route": "SC"}]),
    claim("PCN-1021", "W100200304", "AETNA", "11", "2026-04-10", ["D69.3"], [
        {"code": "96365", "units": 1, "times": t("09:00", "09:16"), "obs": 20},
        {"code": "J1459", "units": 10, "dose": 5000}]),
    claim("PCN-1022", MBI[12], "MEDICARE", "11", "2026-04-13", ["D80.0"], [
        {"code": "96365", "units": 1, "times": t("09:00", "10:31"), "obs": 30},
        {"code": "96366", "units": 1},
        {"code": "J1459", "units": 70, "mods": ["JZ"], "dose": 35000}]),
    claim("PCN-1023", "U884410023", "UHC", "11", "2026-04-10", ["D80.2"], [
        {"code": "96369", "units": 1},
        {"code": "96371", "units": 1},
        {"code": "J1558", "units": 40, "dose": 4000, "route": "SC"}]),
    claim("PCN-1024", "U884410023", "UHC", "11", "2026-04-17", ["D80.2"], [
        {"code": "96369", "units": 1},
        {"code": "96371", "units": 1},
        {"code": "J1558", "units": 40, "dose": 4000, "route": "SC"}]),
    claim("PCN-1025", "C771200456", "CIGNA", "11", "2026-04-14", ["D69.3"], [
        {"code": "96365", "units": 1, "times": t("09:00", "10:00")},
        {"code": "96367", "units": 1},
        {"code": "J1459", "units": 20, "dose": 10000},
        {"code": "J1100", "units": 10}]),
    # ---- one coding error each ----------------------------------------------------------------
    # addon-without-primary: 96366 with no 96365/96367 on the claim
    claim("PCN-2001", MBI[13], "MEDICARE", "11", "2026-05-04", ["D80.0"], [
        {"code": "96366", "units": 1},
        {"code": "J1459", "units": 70, "mods": ["JZ"], "dose": 35000}]),
    # addon-without-primary: chemo add-on 96415 after a therapeutic 96365
    claim("PCN-2002", "U884410024", "UHC", "11", "2026-05-05", ["D69.3"], [
        {"code": "96365", "units": 1, "times": t("09:00", "10:40")},
        {"code": "96415", "units": 1},
        {"code": "J1459", "units": 40, "dose": 20000}]),
    # duplicate-initial-infusion: a second 96365 for the second drug (should be 96367)
    claim("PCN-2003", MBI[14], "MEDICARE", "11", "2026-05-06", ["D80.0"], [
        {"code": "96365", "units": 1, "times": t("09:00", "10:00")},
        {"code": "96365", "units": 1, "times": t("10:00", "11:00")},
        {"code": "J1459", "units": 70, "mods": ["JZ"], "dose": 35000},
        {"code": "J1100", "units": 10}]),
    # duplicate-initial-infusion: 96365 x3 for a 3-hour infusion (should be 96365 + 96366 x2)
    claim("PCN-2004", "W100200305", "AETNA", "11", "2026-05-07", ["D69.3"], [
        {"code": "96365", "units": 3, "times": t("09:00", "12:00")},
        {"code": "J1568", "units": 50, "dose": 25000}]),
    # duplicate-initial-infusion: hydration after the IVIG billed as initial 96360 (should be 96361)
    claim("PCN-2005", "B552300121", "BCBS", "22", "2026-05-08", ["D69.3", "E86.0"], [
        {"code": "96365", "units": 1, "times": t("09:00", "10:00")},
        {"code": "96360", "units": 1, "times": t("10:30", "11:30"), "dx": ["E86.0"]},
        {"code": "J1459", "units": 40, "dose": 20000}]),
    # route-mismatch: subcutaneous Hizentra billed with IV infusion codes
    claim("PCN-2006", MBI[15], "MEDICARE", "11", "2026-05-11", ["D80.0"], [
        {"code": "96365", "units": 1, "times": t("09:00", "10:40")},
        {"code": "96366", "units": 1},
        {"code": "J1559", "units": 80, "mods": ["JZ"], "dose": 8000}]),
    # route-mismatch: intravenous Privigen billed with SC infusion codes
    claim("PCN-2007", "W100200306", "AETNA", "11", "2026-05-12", ["D69.3"], [
        {"code": "96369", "units": 1, "times": t("09:00", "10:35")},
        {"code": "96370", "units": 1},
        {"code": "J1459", "units": 40, "dose": 20000}]),
    # route-mismatch: immune globulin billed as an IV push
    claim("PCN-2008", "U884410025", "UHC", "11", "2026-05-13", ["D69.3"], [
        {"code": "96374", "units": 1},
        {"code": "J1568", "units": 10, "dose": 5000}]),
    # route-mismatch: Gamunex-C documented IV (JA) but only SC administration billed
    claim("PCN-2009", MBI[16], "MEDICARE", "11", "2026-05-14", ["D83.9"], [
        {"code": "96369", "units": 1},
        {"code": "J1561", "units": 40, "mods": ["JA", "JZ"], "dose": 20000, "route": "IV"}]),
    # unit-miscalculation: 35 g of Privigen is 70 units, billed 80
    claim("PCN-2010", MBI[17], "MEDICARE", "11", "2026-05-15", ["D80.0"], [
        {"code": "96365", "units": 1, "times": t("09:00", "11:00")},
        {"code": "96366", "units": 1},
        {"code": "J1459", "units": 80, "mods": ["JZ"], "dose": 35000}]),
    # unit-miscalculation: 96366 billed for a 90-minute infusion (61-90 minutes is 96365 only)
    claim("PCN-2011", "W100200307", "AETNA", "11", "2026-05-18", ["D69.3"], [
        {"code": "96365", "units": 1, "times": t("09:00", "10:30")},
        {"code": "96366", "units": 1},
        {"code": "J1459", "units": 60, "dose": 30000}]),
    # unit-miscalculation (under): 45 g of Gammagard Liquid is 90 units, billed 85
    claim("PCN-2012", "U884410026", "UHC", "22", "2026-05-19", ["G61.81"], [
        {"code": "96365", "units": 1, "times": t("08:00", "11:45")},
        {"code": "96366", "units": 3},
        {"code": "J1569", "units": 85, "dose": 45000}]),
    # unit-miscalculation: JW line billed 3 units for 400 mg of waste (1 unit)
    claim("PCN-2013", MBI[18], "MEDICARE", "11", "2026-05-20", ["D80.0"], [
        {"code": "96365", "units": 1, "times": t("09:00", "12:00")},
        {"code": "96366", "units": 2},
        {"code": "J1459", "units": 71, "dose": 35200, "waste": 400},
        {"code": "J1459", "units": 3, "mods": ["JW"]}]),
    # missing-modifier: Medicare single-dose IVIG without JZ or a JW line
    claim("PCN-2014", MBI[19], "MEDICARE", "11", "2026-05-21", ["D80.0"], [
        {"code": "96365", "units": 1, "times": t("09:00", "10:00")},
        {"code": "J1459", "units": 70, "dose": 35000}]),
    # missing-modifier: Medicare home SCIG without KX (JB, administered subcutaneously, as A52507 asks)
    claim("PCN-2015", MBI[20], "MEDICARE", "12", "2026-05-22", ["D80.0"], [
        {"code": "J1559", "units": 80, "mods": ["JB", "JZ"], "dose": 8000, "route": "SC"}]),
    # missing-modifier: documented waste with no JW line (commercial default)
    claim("PCN-2016", "W100200308", "AETNA", "11", "2026-05-26", ["D69.3"], [
        {"code": "96365", "units": 1, "times": t("09:00", "10:00")},
        {"code": "J1459", "units": 71, "dose": 35200, "waste": 400}]),
    # near miss (second edition): JZ with 200 mg of waste inside the rounded-up unit is right (A52507
    # scenario 2: no billable discarded amount)
    claim("PCN-1117", MBI[21], "MEDICARE", "11", "2026-05-27", ["D80.0"], [
        {"code": "96365", "units": 1, "times": t("09:00", "10:10")},
        {"code": "J1568", "units": 50, "mods": ["JZ"], "dose": 24800, "waste": 200}]),
    # over-cap-96371: 96371 x2 for four Hizentra sites set up together
    claim("PCN-2018", MBI[0], "MEDICARE", "11", "2026-06-01", ["D80.0"], [
        {"code": "96369", "units": 1, "sites": 4},
        {"code": "96371", "units": 2},
        {"code": "J1559", "units": 80, "mods": ["JZ"], "dose": 8000, "route": "SC"}]),
    # observation-counted-as-infusion: 80 infusing minutes + 30 observation billed as 96366
    claim("PCN-2020", MBI[1], "MEDICARE", "11", "2026-06-02", ["D80.0"], [
        {"code": "96365", "units": 1, "times": t("09:00", "10:20"), "obs": 30},
        {"code": "96366", "units": 1},
        {"code": "J1459", "units": 70, "mods": ["JZ"], "dose": 35000}]),
    # observation-counted-as-infusion: 25 minutes of hydration reaches 31 only with observation
    claim("PCN-2021", "W100200309", "AETNA", "22", "2026-06-03", ["E86.0"], [
        {"code": "96360", "units": 1, "times": t("09:00", "09:25"), "obs": 10}]),
    # noncovered-diagnosis: Medicare home IVIG for CIDP (covered at home only as SCIG)
    claim("PCN-2022", MBI[2], "MEDICARE", "12", "2026-06-04", ["G61.81"], [
        {"code": "J1459", "units": 70, "mods": ["KX", "JZ"], "dose": 35000}]),
    # noncovered-diagnosis: the category D80 is not a billable code
    claim("PCN-2023", MBI[3], "MEDICARE", "11", "2026-06-05", ["D80"], [
        {"code": "96365", "units": 1, "times": t("09:00", "10:00")},
        {"code": "J1459", "units": 70, "mods": ["JZ"], "dose": 35000}]),
    # noncovered-diagnosis: G35 is a header code from 2025-10-01 (PCN-1018 is the near miss)
    claim("PCN-2024", "W100200310", "AETNA", "22", "2026-06-08", ["G35"], [
        {"code": "96365", "units": 1, "times": t("09:00", "12:30")},
        {"code": "96366", "units": 2},
        {"code": "J2350", "units": 600}]),
    # near miss: office IVIG of a commercial payer is not evaluated for coverage until a policy names the
    # payer's covered list (none is shipped; counted as not evaluated)
    claim("PCN-1125", "C771200457", "CIGNA", "11", "2026-06-09", ["E11.9"], [
        {"code": "96365", "units": 1, "times": t("09:00", "10:00")},
        {"code": "J1568", "units": 40, "dose": 20000}]),
]


# Claims of the rules sheet's second edition, written as CSV rows (the columns of COLUMNS up to
# `sites`, then billing_provider, payer_sequence, revenue_code, payer_claim_number). PCN-1xxx are near
# misses, PCN-2xxx carry one error each; the comment names the check and reason.
SECOND_EDITION = """
# ncci-ptp-conflict em_without_25: 99213 with 96365, no 25 on the E/M (PCN-1101: with 25, quiet)
PCN-2101,1,1EG4TE5MK91,MEDICARE,professional,11,2026-03-09,99213,,,,1,110.00,D80.0,,,,,,,,,
PCN-2101,2,1EG4TE5MK91,MEDICARE,professional,11,2026-03-09,96365,,,,1,350.00,D80.0,,,,,IV,2026-03-09T09:00,2026-03-09T10:00,,
PCN-1101,1,1EG4TE5MK92,MEDICARE,professional,11,2026-03-09,99213,25,,,1,110.00,D80.0,,,,,,,,,
PCN-1101,2,1EG4TE5MK92,MEDICARE,professional,11,2026-03-09,96365,,,,1,350.00,D80.0,,,,,IV,2026-03-09T09:00,2026-03-09T10:00,,
# ncci-ptp-conflict em_not_payable: 99211 with drug administration (IOM 100-04 ch.12 section 30.6.7)
PCN-2102,1,1EG4TE5MK93,MEDICARE,professional,11,2026-03-10,99211,25,,,1,45.00,D80.0,,,,,,,,,
PCN-2102,2,1EG4TE5MK93,MEDICARE,professional,11,2026-03-10,96372,,,,1,40.00,D80.0,,,,,SC,,,,
# units-over-mue over_mue_clinical: 96366 x9 against a practitioner MUE of 8 (MAI 3: appeal with the record)
PCN-2103,1,W77310452,AETNA,professional,11,2026-03-10,96365,,,,1,350.00,D80.0,,,,,IV,2026-03-10T08:00,2026-03-10T17:45,,
PCN-2103,2,W77310452,AETNA,professional,11,2026-03-10,96366,,,,9,990.00,D80.0,,,,,,,,,
# units-over-mue mue_zero: 96376 on a physician claim (facility-only code)
PCN-2104,1,1EG4TE5MK95,MEDICARE,professional,11,2026-03-11,96374,,,,1,120.00,D80.0,,,,,IV,,,,
PCN-2104,2,1EG4TE5MK95,MEDICARE,professional,11,2026-03-11,96376,,,,1,60.00,D80.0,,,,,IV,,,,
# units-over-mue second_site_over_mue: a second 96365 with XS is over the MUE of 1 (justification)
PCN-2105,1,1EG4TE5MK96,MEDICARE,professional,11,2026-03-11,96365,,,,1,350.00,D80.0,,,,,IV,2026-03-11T09:00,2026-03-11T10:00,,
PCN-2105,2,1EG4TE5MK96,MEDICARE,professional,11,2026-03-11,96365,XS,,,1,350.00,D80.0,,,,,IV,2026-03-11T09:05,2026-03-11T10:05,,
# duplicate-initial-infusion second_initial: a second 96365 after midnight on the same hospital claim
PCN-2106,1,1EG4TE5MK97,MEDICARE,institutional,22,2026-03-12,96365,,,,1,520.00,D80.0,,,,,IV,2026-03-12T22:30,2026-03-12T23:30,,,,,0260,
PCN-2106,2,1EG4TE5MK97,MEDICARE,institutional,22,2026-03-13,96365,,,,1,520.00,D80.0,,,,,IV,2026-03-13T08:00,2026-03-13T09:00,,,,,0260,
# missing-modifier no_jw_jz: a Medicare contractor's name is Medicare
PCN-2301,1,3KM8VA2RT41,Noridian JE Part B,professional,11,2026-06-02,96365,,,,1,350.00,D80.0,,,,,IV,2026-06-02T09:00,2026-06-02T10:00,,
PCN-2301,2,3KM8VA2RT41,Noridian JE Part B,professional,11,2026-06-02,J1459,,,,70,6650.00,D80.0,,44206043810,35000,0,IV,,,,
# missing-modifier jw_not_billable_use_jz: 200 mg of waste inside the 71st unit; JW line not permitted
PCN-2302,1,5PW2XC7HN63,MEDICARE,professional,11,2026-06-03,96365,,,,1,350.00,D80.0,,,,,IV,2026-06-03T09:00,2026-06-03T10:00,,
PCN-2302,2,5PW2XC7HN63,MEDICARE,professional,11,2026-06-03,J1459,,,,71,6745.00,D80.0,,44206043810,35200,200,IV,,,,
PCN-2302,3,5PW2XC7HN63,MEDICARE,professional,11,2026-06-03,J1459,JW,,,1,95.00,D80.0,,44206043810,,,,,,,
# missing-modifier kx_missing: home SCIG at POS 13 without KX/GA/GZ/GY
PCN-2303,1,7QD4JE9UB25,MEDICARE,professional,13,2026-06-04,J1559,JZ,JB,,80,4000.00,D80.0,,44206045101,8000,0,SC,,,,
# missing-modifier jw_and_jz_on_line: a contradiction at home before 2024 (JW/JZ not yet required there)
PCN-2304,1,8RF6KG1WC37,MEDICARE,professional,12,2023-11-15,J1459,JW,JZ,,60,5700.00,D80.0,,44206043810,30000,,IV,,,,
# home-ig-supplies second_q2052: Q2052 on two claims for one home IVIG date (PCN-1305 alone is quiet)
PCN-1305,1,9SG8LH3XD49,MEDICARE,professional,12,2026-06-05,J1459,JZ,,,60,5700.00,D80.0,,44206043810,30000,0,IV,,,,
PCN-1305,2,9SG8LH3XD49,MEDICARE,professional,12,2026-06-05,Q2052,,,,4,420.48,D80.0,,,,,,,,,
PCN-2305,1,9SG8LH3XD49,MEDICARE,professional,12,2026-06-05,Q2052,,,,4,420.48,D80.0,,,,,,,,,
# home-ig-supplies no_home_ivig: Q2052 with no home IVIG drug for the member
PCN-2306,1,2TH1MJ5YE51,MEDICARE,professional,12,2026-06-08,Q2052,,,,1,420.48,D80.0,,,,,,,,,
# near misses: Medicare Advantage is DEFAULT (no JZ needed); JZ right when the waste adds no unit;
# home before 2024-01-01 needs no JW/JZ; home IVIG needs no KX
PCN-1301,1,4UJ3NK7ZF63,Humana Medicare Advantage,professional,11,2026-06-02,96365,,,,1,350.00,D80.0,,,,,IV,2026-06-02T09:00,2026-06-02T10:00,,
PCN-1301,2,4UJ3NK7ZF63,Humana Medicare Advantage,professional,11,2026-06-02,J1459,,,,70,6650.00,D80.0,,44206043810,35000,0,IV,,,,
PCN-1302,1,6VK5PL9AG75,MEDICARE,professional,11,2026-06-03,96365,,,,1,350.00,D80.0,,,,,IV,2026-06-03T09:00,2026-06-03T10:00,,
PCN-1302,2,6VK5PL9AG75,MEDICARE,professional,11,2026-06-03,J1459,JZ,,,71,6745.00,D80.0,,44206043810,35200,200,IV,,,,
PCN-1303,1,1WM7QM2BH87,MEDICARE,professional,12,2023-12-31,J1459,,,,60,5700.00,D80.0,,44206043810,30000,0,IV,,,,
PCN-1304,1,3XN9RN4CJ99,MEDICARE,professional,12,2026-06-04,J1459,JZ,,,60,5700.00,D80.0,,44206043810,30000,0,IV,,,,
# noncovered-diagnosis home_ivig_no_benefit: Medicare home IVIG for CIDP (GY, never an ABN); with GY: info
PCN-2401,1,3HK7WX2QP41,MEDICARE,professional,12,2026-03-10,J1459,JZ,,,70,6650.00,G61.81,,,35000,0,IV,,,,
PCN-2402,1,3HK7WX2QP42,MEDICARE,professional,12,2026-03-10,J1459,JZ,GY,,70,6650.00,G61.81,,,35000,0,IV,,,,
# noncovered-diagnosis invalid_code: E66.8 is not billable from FY2025 (PCN-1401 on 2024-09-30: quiet)
PCN-2403,1,M2103,AETNA,professional,11,2024-10-01,96365,,,,1,350.00,D83.9,E66.8,,,,IV,2024-10-01T09:00,2024-10-01T10:00,,
PCN-2403,2,M2103,AETNA,professional,11,2024-10-01,J1568,JZ,,,70,6400.00,D83.9,E66.8,,35000,0,IV,,,,
PCN-1401,1,3HK7WX2QP51,MEDICARE,professional,11,2024-09-30,96365,,,,1,350.00,D80.0,E66.8,,,,IV,2024-09-30T09:00,2024-09-30T10:00,,
PCN-1401,2,3HK7WX2QP51,MEDICARE,professional,11,2024-09-30,J1459,JZ,,,70,6650.00,D80.0,E66.8,,35000,0,IV,,,,
# noncovered-diagnosis malformed_code: 8D0.0 is not shaped like an ICD-10-CM code (a finding, not a rejected row)
PCN-2404,1,M2104,CIGNA,professional,11,2026-03-11,96365,,,,1,350.00,8D0.0,,,,,IV,2026-03-11T09:00,2026-03-11T10:00,,
PCN-2404,2,M2104,CIGNA,professional,11,2026-03-11,J1459,,,,70,6650.00,8D0.0,,,35000,0,IV,,,,
# route-mismatch sc_product_iv_admin: Hizentra with 96365
PCN-2405,1,3HK7WX2QP45,MEDICARE,professional,11,2026-03-12,96365,,,,1,350.00,D80.0,,,,,,2026-03-12T09:00,2026-03-12T10:00,,
PCN-2405,2,3HK7WX2QP45,MEDICARE,professional,11,2026-03-12,J1559,JZ,,,80,4000.00,D80.0,,,8000,0,,,,,
# route-mismatch chemo_admin_only (warning): IVIG billed with chemotherapy administration only
PCN-2406,1,M2106,AETNA,professional,11,2026-03-13,96413,,,,1,420.00,D69.3,,,,,IV,2026-03-13T09:00,2026-03-13T10:00,,
PCN-2406,2,M2106,AETNA,professional,11,2026-03-13,J1459,,,,70,6650.00,D69.3,,,35000,0,IV,,,,
# near miss: home SCIG for CIDP with KX and JB is covered (A52507 group 6)
PCN-1402,1,3HK7WX2QP52,MEDICARE,professional,12,2026-03-15,J1559,JZ,KX,JB,80,4000.00,G61.81,,,8000,0,SC,,,,
# Hospital claims (837I): revenue-code-only lines (0250 pharmacy, 0260 IV therapy room) are checked lines;
# PCN-1501 is clean. PCN-1502/PCN-1503: the same services sent to Medicare (P) and then to a Medigap
# plan (S): a next-payer copy, never a duplicate initial service.
PCN-1501,1,5MB9XR2TQ61,MEDICARE,institutional,22,2026-03-16,,,,,1,240.00,D80.0,,,,,,,,,,,,0250,
PCN-1501,2,5MB9XR2TQ61,MEDICARE,institutional,22,2026-03-16,96365,,,,1,520.00,D80.0,,,,,IV,2026-03-16T09:00,2026-03-16T10:00,,,,,0260,
PCN-1501,3,5MB9XR2TQ61,MEDICARE,institutional,22,2026-03-16,J1459,JZ,,,70,6650.00,D80.0,,44206043810,35000,0,IV,,,,,,,0636,
PCN-1502,1,6NC1YS3UR72,MEDICARE,professional,11,2026-03-17,96365,,,,1,350.00,D80.0,,,,,IV,2026-03-17T09:00,2026-03-17T10:00,,,1003000126,P,,
PCN-1502,2,6NC1YS3UR72,MEDICARE,professional,11,2026-03-17,J1459,JZ,,,70,6650.00,D80.0,,44206043810,35000,0,IV,,,,,1003000126,P,,
PCN-1503,1,6NC1YS3UR72,AARP MEDICARE SUPPLEMENT,professional,11,2026-03-17,96365,,,,1,350.00,D80.0,,,,,IV,2026-03-17T09:00,2026-03-17T10:00,,,1003000126,S,,MCR2026031700123
PCN-1503,2,6NC1YS3UR72,AARP MEDICARE SUPPLEMENT,professional,11,2026-03-17,J1459,JZ,,,70,6650.00,D80.0,,44206043810,35000,0,IV,,,,,1003000126,S,,MCR2026031700123
# infusion-too-short push: a 12-minute "infusion" is a push (PCN-1061: 16 minutes, quiet)
PCN-2061,1,1TS9QX2MB40,MEDICARE,professional,11,2026-03-09,96365,,,,1,350.00,D80.0,,,,,IV,2026-03-09T09:00,2026-03-09T09:12,,
PCN-1061,1,1TS9QX2MB41,MEDICARE,professional,11,2026-03-09,96365,,,,1,350.00,D80.0,,,,,IV,2026-03-09T09:00,2026-03-09T09:16,,
# infusion-too-short hydration: 25 minutes of hydration is not reported (PCN-1062: 31 minutes, quiet)
PCN-2062,1,W771300462,AETNA,institutional,22,2026-03-10,96360,,,,1,180.00,E86.0,,,,,IV,2026-03-10T10:00,2026-03-10T10:25,,,,,0260,
PCN-1062,1,W771300463,AETNA,institutional,22,2026-03-10,96360,,,,1,180.00,E86.0,,,,,IV,2026-03-10T10:00,2026-03-10T10:31,,,,,0260,
# concurrent-hydration not_reportable: hydration running during the drug infusion (PCN-1063: touching, quiet)
PCN-2063,1,U44120871,CIGNA,professional,11,2026-03-11,96365,,,,1,350.00,D69.3,,,,,IV,2026-03-11T09:00,2026-03-11T10:00,,
PCN-2063,2,U44120871,CIGNA,professional,11,2026-03-11,96361,,,,1,95.00,E86.0,,,,,IV,2026-03-11T09:00,2026-03-11T10:20,,
PCN-1063,1,U44120872,CIGNA,professional,11,2026-03-11,96365,,,,1,350.00,D69.3,,,,,IV,2026-03-11T09:00,2026-03-11T10:00,,
PCN-1063,2,U44120872,CIGNA,professional,11,2026-03-11,96361,,,,1,95.00,E86.0,,,,,IV,2026-03-11T10:00,2026-03-11T11:00,,
# unit-miscalculation hours_none: 96365 60 min + sequential 96367 90 min support no 96366 (PCN-1064: 100 min, x1 right)
PCN-2064,1,1TS9QX2MB42,MEDICARE,professional,11,2026-03-12,96365,,,,1,350.00,G61.81,,,,,IV,2026-03-12T09:00,2026-03-12T10:00,,
PCN-2064,2,1TS9QX2MB42,MEDICARE,professional,11,2026-03-12,96367,,,,1,160.00,G61.81,,,,,IV,2026-03-12T10:00,2026-03-12T11:30,,
PCN-2064,3,1TS9QX2MB42,MEDICARE,professional,11,2026-03-12,96366,,,,1,110.00,G61.81,,,,,,,,,
PCN-1064,1,1TS9QX2MB43,MEDICARE,professional,11,2026-03-12,96365,,,,1,350.00,G61.81,,,,,IV,2026-03-12T09:00,2026-03-12T10:00,,
PCN-1064,2,1TS9QX2MB43,MEDICARE,professional,11,2026-03-12,96367,,,,1,160.00,G61.81,,,,,IV,2026-03-12T10:00,2026-03-12T11:40,,
PCN-1064,3,1TS9QX2MB43,MEDICARE,professional,11,2026-03-12,96366,,,,1,110.00,G61.81,,,,,,,,,
# Two billing providers the same day: two encounters, each with its own initial service (quiet)
PCN-1504,1,7PD2ZT4VS83,MEDICARE,professional,11,2026-03-18,96374,,,,1,120.00,D80.0,,,,,IV,,,,,1003000126,,,
PCN-1505,1,7PD2ZT4VS83,MEDICARE,professional,11,2026-03-18,96374,,,,1,120.00,D80.0,,,,,IV,,,,,1234567893,,,
"""


def second_edition_rows() -> list[dict]:
    """The rows of :data:`SECOND_EDITION` (comments skipped), as dicts of COLUMNS."""
    text = "\n".join(line for line in SECOND_EDITION.strip().splitlines() if not line.startswith("#"))
    rows = []
    for cells in csv.reader(text.splitlines()):
        cells += [""] * (len(COLUMNS) - len(cells))
        row = dict(zip(COLUMNS, cells, strict=True))
        row["line_number"] = int(row["line_number"])
        rows.append(row)
    return rows


def to_json(rows: list[dict]) -> dict:
    """The nested JSON of FORMATS.md: claim fields once, diagnoses list, lines with pointers."""
    claims: dict[str, dict] = {}
    for row in rows:
        c = claims.setdefault(row["claim_id"], {**{k: row[k] for k in CLAIM_FIELDS if row[k] != ""}, "diagnoses": [],
                                                "lines": []})
        pointers = []
        for dx in (row["diagnosis_1"], row["diagnosis_2"]):
            if dx:
                if dx not in c["diagnoses"]:
                    c["diagnoses"].append(dx)
                pointers.append(c["diagnoses"].index(dx) + 1)
        line = {"line_number": row["line_number"], "date_of_service": row["date_of_service"],
                **({"procedure_code": row["procedure_code"]} if row["procedure_code"] else {}),
                "modifiers": [m for m in (row["modifier_1"], row["modifier_2"], row["modifier_3"]) if m],
                "units": row["units"], "charge": float(row["charge"]), "diagnosis_pointers": pointers}
        for key in ("ndc", "drug_dose_mg", "drug_wasted_mg", "route", "infusion_start", "infusion_stop",
                    "observation_minutes", "sites", "revenue_code"):
            if row[key] != "":
                line[key] = row[key]
        c["lines"].append(line)
    return {"claims": list(claims.values())}


RECORD_COLUMNS = ["claim_id", "line_number", "drug_dose_mg", "drug_wasted_mg", "route", "infusion_start",
                  "infusion_stop", "observation_minutes", "sites"]


def write_x12(rows: list[dict]) -> None:
    """claims.837 (every claim: professional as 837P, institutional as 837I) and records.csv (their
    documentation)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from csv_to_837 import Envelope, build_837

    claims = [{k: str(v) for k, v in r.items()} for r in rows]
    text = build_837(claims, Envelope(when=datetime(2026, 6, 15, 8, 0)))
    (OUT / "claims.837").write_text(text, encoding="utf-8")
    documented = [r for r in claims if any(r[c] for c in RECORD_COLUMNS[2:])]
    with (OUT / "records.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=RECORD_COLUMNS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(documented)


def main() -> None:
    rows = [row for c in CLAIMS for row in c] + second_edition_rows()
    OUT.mkdir(exist_ok=True)
    with (OUT / "claims.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    (OUT / "claims.json").write_text(json.dumps(to_json(rows), indent=1) + "\n", encoding="utf-8")
    write_x12(rows)
    print(f"{len(CLAIMS)} claims, {len(rows)} lines")


if __name__ == "__main__":
    main()
