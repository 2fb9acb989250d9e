"""Stable finding ids: the same finding has the same id from CSV, JSON and X12, and on every rerun."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import polars as pl
from click.testing import CliRunner
from conftest import ROOT

from scrubber.cli import main
from scrubber.engine import scrub
from scrubber.finding_ids import ID_CHARS, finding_ids, finding_keys

SAMPLES = ROOT / "sample_claims"


def _ids(result) -> dict[tuple, str]:
    frame = result.findings.select("claim_id", "line_number", "check_id", "finding_id")
    return {(c, n, k): i for c, n, k, i in frame.iter_rows()}


def test_ids_are_the_same_from_csv_json_and_x12() -> None:
    from_csv = _ids(scrub([str(SAMPLES / "claims.csv")]))
    from_json = _ids(scrub([str(SAMPLES / "claims.json")]))
    # The 837 carries the professional claims; their documentation comes from the records file.
    from_x12 = _ids(scrub([str(SAMPLES / "claims.837")], records=str(SAMPLES / "records.csv")))
    assert len(from_csv) >= 20
    assert from_json == from_csv
    assert from_x12 and all(from_csv.get(key) == fid for key, fid in from_x12.items()), (
        {k: (v, from_csv.get(k)) for k, v in from_x12.items() if from_csv.get(k) != v})
    assert len(set(from_csv.values())) == len(from_csv)  # one id per finding
    assert all(len(i) == ID_CHARS and int(i, 16) >= 0 for i in from_csv.values())


def test_ids_survive_a_rerun_in_another_process_and_hash_seed(tmp_path) -> None:
    """Python's str hash is salted per process: ids must not depend on it (nor on Polars' hash)."""
    docs = []
    for seed in ("1", "2"):
        out = tmp_path / f"{seed}.json"
        subprocess.run([sys.executable, "-m", "scrubber.cli", "check", str(SAMPLES / "claims.csv"), "--json",
                        str(out), "--fail-on", "never", "-q"], check=True, cwd=tmp_path,
                       env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)})
        docs.append([f["finding_id"] for f in json.loads(out.read_text())["findings"]])
    assert docs[0] == docs[1] and len(docs[0]) >= 20


def test_ids_do_not_depend_on_file_row_or_wording() -> None:
    base = pl.DataFrame({
        "claim_id": ["C1", "C1"], "line_number": [2, None], "check_id": ["addon-without-primary", "x"],
        "procedure_code": ["96366", None], "message": ["a", "b"], "source": ["a.csv", "a.csv"],
    }, schema_overrides={"line_number": pl.Int32})
    moved = base.with_columns(pl.lit("b.837").alias("source"), pl.lit("reworded").alias("message"))
    assert finding_ids(base).to_list() == finding_ids(moved).to_list()
    # What the finding is about does change it: the claim, the line, the check, the code.
    for column, value in (("claim_id", "C2"), ("line_number", 3), ("check_id", "route-mismatch"),
                          ("procedure_code", "96367")):
        changed = base.with_columns(pl.lit(value).cast(base.schema[column]).alias(column))
        assert finding_ids(changed)[0] != finding_ids(base)[0], column


def test_reason_and_codes_columns_take_part_when_present() -> None:
    base = pl.DataFrame({"claim_id": ["C1"], "line_number": [1], "check_id": ["k"], "procedure_code": ["96365"]})
    with_reason = base.with_columns(pl.lit("no_primary").alias("reason"))
    other_reason = base.with_columns(pl.lit("ig_pushed").alias("reason"))
    assert len({finding_ids(f)[0] for f in (base, with_reason, other_reason)}) == 3
    codes_a = base.with_columns(pl.Series("codes", [["96366", "96365"]]))
    codes_b = base.with_columns(pl.Series("codes", [["96365", "96366"]]))
    assert finding_ids(codes_a)[0] == finding_ids(codes_b)[0]  # the codes involved, in any order
    assert finding_ids(codes_a)[0] != finding_ids(base)[0]


def test_two_findings_with_one_key_get_two_ids() -> None:
    frame = pl.DataFrame({"claim_id": ["C1", "C1"], "line_number": [1, 1], "check_id": ["k", "k"],
                          "procedure_code": ["96365", "96365"]})
    keys = finding_keys(frame).to_list()
    assert keys[1] == keys[0] + "#2"
    ids = finding_ids(frame).to_list()
    assert ids[0] != ids[1]
    assert finding_ids(frame.head(1)).to_list() == ids[:1]  # the first keeps its id


def test_every_output_carries_the_id(tmp_path) -> None:
    out_json, out_csv, out_html = tmp_path / "f.json", tmp_path / "f.csv", tmp_path / "r.html"
    result = CliRunner().invoke(main, ["check", str(SAMPLES / "claims.csv"), "--json", str(out_json), "--csv",
                                       str(out_csv), "--html", str(out_html), "--fail-on", "never"])
    assert result.exit_code == 0, result.output
    ids = [f["finding_id"] for f in json.loads(out_json.read_text())["findings"]]
    csv_ids = pl.read_csv(out_csv).filter(~pl.col("suppressed")).get_column("finding_id").to_list()
    assert csv_ids == ids
    html = out_html.read_text(encoding="utf-8")
    assert all(f'"id":"{i}"' in html for i in ids)
