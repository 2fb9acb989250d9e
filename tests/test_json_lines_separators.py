"""JSON Lines records split at line feeds only.

U+2028, U+2029 and U+0085 are legal inside JSON strings; ``str.splitlines`` split a valid record at
them, so its claim was rejected ("Unterminated string"), the rows read were one short and every later
line number was off by one (probe J). A CR before the line feed is dropped; a file of CR line ends
still reads.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scrubber.engine import scrub

ROOT = Path(__file__).resolve().parents[1]
CLAIMS = json.loads((ROOT / "sample_claims" / "claims.json").read_text(encoding="utf-8"))["claims"]


def _write(tmp_path: Path, claims: list[dict], end: str = "\n") -> Path:
    path = tmp_path / "claims.jsonl"
    path.write_text(end.join(json.dumps(c, ensure_ascii=False) for c in claims) + end, encoding="utf-8")
    return path


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\u0085"])
def test_a_line_separator_inside_a_string_keeps_the_record_whole(tmp_path: Path, separator: str) -> None:
    claims = [dict(c) for c in CLAIMS]
    claims[0]["note"] = f"x{separator}y"
    result = scrub([str(_write(tmp_path, claims))])
    rows = sum(len(c["lines"]) for c in CLAIMS)
    assert (result.summary["rows_read"], result.summary["rejected_rows"]) == (rows, 0)


def test_a_broken_record_is_named_by_its_line_after_a_separator(tmp_path: Path) -> None:
    claims = [dict(c) for c in CLAIMS[:3]]
    claims[0]["note"] = "x\u2028y"
    path = _write(tmp_path, claims)
    text = path.read_text(encoding="utf-8").split("\n")
    text[2] = text[2] + ","  # the third record gets a stray comma
    path.write_text("\n".join(text), encoding="utf-8")
    rejected = scrub([str(path)]).rejected
    assert rejected.get_column("location").to_list() == ["line 3"]


@pytest.mark.parametrize("end", ["\r\n", "\r"], ids=["crlf", "cr"])
def test_near_miss_crlf_and_cr_line_ends_read_every_record(tmp_path: Path, end: str) -> None:
    result = scrub([str(_write(tmp_path, CLAIMS, end))])
    assert result.summary["rejected_rows"] == 0
    assert result.summary["claims"] == len(CLAIMS)
