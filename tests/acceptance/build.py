"""Build the acceptance claims (CSV and nested JSON, FORMATS.md) from the case files.

A case file (`cases_*.toml`) lists small claims written straight from RULES.md (second edition),
each with the findings an independent reader of the rules expects. Claims are written compactly:
the claim-level defaults below apply unless a claim or line names another value, so that each case
shows only what it is about. Every case has its own member and claim ids, so no two cases share an
encounter.

A case may also name words its fix or message must hold (`fix_contains`, `message_contains`: the
computed answer, the product name) and an `xfail` reason quoting RULES.md where the product disagrees.
The policy files in `policies/` are passed to every run, as a user names a payer's covered list or caps.

Run `python tests/acceptance/build.py OUT_DIR` to write the claims as a user would feed them to
`scrub check` (claims.csv, claims.json and the expected findings as CSV); `tests/test_acceptance.py`
runs them.
"""

from __future__ import annotations

import csv
import io
import json
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
POLICIES = sorted((HERE / "policies").glob("*.toml"))  # passed to every run with --policy

# FORMATS.md "Claim lines, CSV", in its order.
COLUMNS = [
    "claim_id", "line_number", "member_id", "payer", "claim_type", "place_of_service", "date_of_service",
    "procedure_code", "modifier_1", "modifier_2", "modifier_3", "modifier_4", "units", "charge",
    "diagnosis_1", "diagnosis_2", "diagnosis_3", "diagnosis_4", "ndc", "drug_dose_mg", "drug_wasted_mg",
    "route", "infusion_start", "infusion_stop", "observation_minutes", "sites", "billing_provider",
    "rendering_provider", "payer_sequence", "revenue_code", "claim_frequency", "payer_claim_number",
]
CLAIM_DEFAULTS = {
    "payer": "MEDICARE",
    "type": "professional",
    "pos": "11",
    "dos": "2026-05-04",
    "provider": "1000000001",
    "member": "M",
}
SEVERITIES = {"error", "warning", "info"}


@dataclass(frozen=True)
class Expected:
    """One expected finding: claim (1-based index in the case), line number or None, check, severity."""

    claim: int
    line: int | None
    check_id: str
    severity: str

    @classmethod
    def parse(cls, text: str) -> Expected:
        """Parse `C1:2 check-id severity` (`C1:-` for a finding about the claim, no line)."""
        where, check_id, severity = text.split()
        claim, line = where.split(":")
        if not claim.startswith("C") or severity not in SEVERITIES:
            raise ValueError(f"bad expectation {text!r}")
        return cls(int(claim[1:]), None if line == "-" else int(line), check_id, severity)


@dataclass
class Case:
    """One acceptance case: claims, the expected findings, the rule they come from."""

    id: str
    group: str
    title: str
    rule: str
    claims: list[dict]
    expect: list[Expected]
    run: str = "main"
    xfail: str | None = None
    # Where the product follows a primary source over the sheet's words (docs/RULES.md "Where this
    # project follows a primary source"): which source, and why; `expect` is then that source's answer.
    follows: str | None = None
    fix_contains: dict[str, list[str]] = field(default_factory=dict)
    message_contains: dict[str, list[str]] = field(default_factory=dict)

    def claim_id(self, index: int) -> str:
        """The claim id of the case's claim `index` (1-based)."""
        return f"{self.id}-C{index}"

    def expected_keys(self) -> set[tuple[str, int | None, str, str]]:
        """Expected findings as (claim_id, line_number, check_id, severity)."""
        return {(self.claim_id(e.claim), e.line, e.check_id, e.severity) for e in self.expect}


def load_cases() -> list[Case]:
    """Every case of every `cases_*.toml`, in file order; ids are unique."""
    cases: list[Case] = []
    for path in sorted(HERE.glob("cases_*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        group = path.stem.removeprefix("cases_")
        for raw in data["case"]:
            cases.append(
                Case(
                    id=raw["id"],
                    group=group,
                    title=raw["title"],
                    rule=raw["rule"],
                    claims=raw["claims"],
                    expect=[Expected.parse(e) for e in raw.get("expect", [])],
                    run=raw.get("run", "main"),
                    xfail=raw.get("xfail"),
                    follows=raw.get("follows"),
                    fix_contains=raw.get("fix_contains", {}),
                    message_contains=raw.get("message_contains", {}),
                )
            )
    ids = [c.id for c in cases]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ValueError(f"duplicate case ids: {sorted(duplicates)}")
    return cases


def _when(value: str | None, dos: str) -> str | None:
    """A documented time: `HH:MM` on the line's date, `+1 HH:MM` the next day, or a full datetime."""
    if value is None:
        return None
    if "T" in value:
        return value
    if value.startswith("+1 "):
        from datetime import date, timedelta

        next_day = date.fromisoformat(dos) + timedelta(days=1)
        return f"{next_day.isoformat()}T{value[3:]}"
    return f"{dos}T{value}"


def case_lines(case: Case) -> list[dict]:
    """The case's claim lines as canonical FORMATS.md rows (text values, None for empty)."""
    rows: list[dict] = []
    for index, raw_claim in enumerate(case.claims, start=1):
        claim = {**CLAIM_DEFAULTS, **{k: v for k, v in raw_claim.items() if k != "lines"}}
        for number, line in enumerate(raw_claim["lines"], start=1):
            dos = line.get("dos", claim["dos"])
            mods = list(line.get("mods", []))
            dx = list(line.get("dx", claim.get("dx", ["D80.0"])))
            row = dict.fromkeys(COLUMNS)
            row.update(
                {
                    "claim_id": case.claim_id(index),
                    "line_number": str(line.get("n", number)),
                    "member_id": f"{case.id}-{claim['member']}",
                    "payer": claim["payer"],
                    "claim_type": claim["type"],
                    "place_of_service": line.get("pos", claim["pos"]),
                    "date_of_service": dos,
                    "procedure_code": line.get("code"),
                    "units": str(line.get("units", 1)),
                    "charge": str(line.get("charge", 100)),
                    "drug_dose_mg": _text(line.get("dose")),
                    "drug_wasted_mg": _text(line.get("waste")),
                    "route": line.get("route"),
                    "infusion_start": _when(line.get("start"), dos),
                    "infusion_stop": _when(line.get("stop"), dos),
                    "observation_minutes": _text(line.get("obs")),
                    "sites": _text(line.get("sites")),
                    "billing_provider": claim["provider"] or None,
                    "payer_sequence": claim.get("seq"),
                    "revenue_code": line.get("rev"),
                }
            )
            for i, mod in enumerate(mods[:4], start=1):
                row[f"modifier_{i}"] = mod
            for i, code in enumerate(dx[:4], start=1):
                row[f"diagnosis_{i}"] = code
            rows.append(row)
    return rows


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def claims_csv(cases: list[Case]) -> str:
    """All the cases' lines as one CSV file (header row, then one row per line)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for case in cases:
        for row in case_lines(case):
            writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return out.getvalue()


CLAIM_FIELDS = ("claim_id", "member_id", "payer", "claim_type", "billing_provider", "payer_sequence")
NUMBERS = {"units": float, "charge": float, "drug_dose_mg": float, "drug_wasted_mg": float,
           "observation_minutes": int, "sites": int, "line_number": int}


def claims_json(cases: list[Case]) -> str:
    """The same claims as FORMATS.md nested JSON: claim diagnoses, lines with pointers and modifiers."""
    claims: list[dict] = []
    for case in cases:
        by_claim: dict[str, list[dict]] = {}
        for row in case_lines(case):
            by_claim.setdefault(row["claim_id"], []).append(row)
        for rows in by_claim.values():
            claim = {k: rows[0][k] for k in CLAIM_FIELDS if rows[0][k] is not None}
            diagnoses: list[str] = []
            lines = []
            for row in rows:
                pointers = []
                for i in range(1, 5):
                    code = row[f"diagnosis_{i}"]
                    if code is None:
                        continue
                    if code not in diagnoses:
                        diagnoses.append(code)
                    pointers.append(diagnoses.index(code) + 1)
                line = {
                    k: (NUMBERS[k](v) if k in NUMBERS else v)
                    for k, v in row.items()
                    if v is not None and k not in CLAIM_FIELDS and not k.startswith(("modifier_", "diagnosis_"))
                }
                line["modifiers"] = [row[f"modifier_{i}"] for i in range(1, 5) if row[f"modifier_{i}"]]
                line["diagnosis_pointers"] = pointers
                lines.append(line)
            claim["diagnoses"] = diagnoses
            claim["lines"] = lines
            claims.append(claim)
    return json.dumps({"claims": claims}, indent=1)


def expected_csv(cases: list[Case]) -> str:
    """The expected findings of every case, one row each (claim_id, line_number, check_id, severity)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["case", "claim_id", "line_number", "check_id", "severity", "xfail"])
    for case in cases:
        for claim_id, line, check_id, severity in sorted(case.expected_keys(), key=str):
            writer.writerow([case.id, claim_id, "" if line is None else line, check_id, severity, case.xfail or ""])
    return out.getvalue()


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    target.mkdir(parents=True, exist_ok=True)
    everything = load_cases()
    for run in sorted({c.run for c in everything}):
        chosen = [c for c in everything if c.run == run]
        suffix = "" if run == "main" else f"_{run}"
        (target / f"claims{suffix}.csv").write_text(claims_csv(chosen), encoding="utf-8")
        (target / f"claims{suffix}.json").write_text(claims_json(chosen), encoding="utf-8")
        (target / f"expected{suffix}.csv").write_text(expected_csv(chosen), encoding="utf-8")
    print(f"{len(everything)} cases written to {target}")
