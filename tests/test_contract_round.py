"""Contract round (FORMATS.md and README, black box through the CLI): one test per deviation found.

Other tools build on the findings JSON, the finding ids, the comparisons and the command line, so
each of these held a promise the round found broken (fixed since).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_bad_input import REPO, scrub

SAMPLE = REPO / "sample_claims" / "claims.csv"


def _doc(*args: str) -> dict:
    result = scrub(str(SAMPLE), *args, "--json", "-", "--fail-on", "never")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _ids(doc: dict) -> dict[tuple, str]:
    return {(f["claim_id"], f["line_number"], f["check_id"], f["reason"]): f["finding_id"] for f in doc["findings"]}


# Contract: "the same finding gets the same id on every run". The key took the codes column only
# when noncovered-diagnosis ran, so --ignore/--select of it gave every other finding a new id.
@pytest.mark.parametrize("selection", [["--ignore", "noncovered-diagnosis"],
                                       ["--select", "route-mismatch,unit-miscalculation"]])
def test_finding_ids_do_not_depend_on_which_checks_run(selection: list[str]) -> None:
    full, part = _ids(_doc()), _ids(_doc(*selection))
    assert part and all(full[key] == fid for key, fid in part.items())


# Contract: a comparison says what changed. Findings of a check one run did not run were "fixed".
def test_compare_leaves_out_checks_only_one_run_ran(tmp_path: Path) -> None:
    old = tmp_path / "old.json"
    old.write_text(json.dumps(_doc()), encoding="utf-8")
    doc = _doc("--ignore", "addon-without-primary", "--compare", str(old))
    compared = doc["compare"]
    assert compared["counts"]["fixed"]["findings"] == 0
    assert compared["counts"]["new"]["findings"] == 0
    assert compared["checks_not_compared"] == ["addon-without-primary"]


def test_compare_of_the_same_checks_still_finds_what_was_fixed(tmp_path: Path) -> None:
    """Near miss: with the same checks on both sides, a finding gone is fixed."""
    old_doc = _doc()
    old_doc["findings"].append({**old_doc["findings"][0], "finding_id": "0123456789ab"})
    old = tmp_path / "old.json"
    old.write_text(json.dumps(old_doc), encoding="utf-8")
    compared = _doc("--compare", str(old))["compare"]
    assert compared["counts"]["fixed"]["findings"] == 1 and compared["checks_not_compared"] == []


# Contract: a setting accepted is never ignored. A single-value option given twice kept the last
# (--records A --records B joined B only, without a word).
@pytest.mark.parametrize("twice", [["--fail-on", "never", "--fail-on", "error"], ["--json=a.json", "--json", "b.json"],
                                   ["--records", "a.csv", "--records", "b.csv"]])
def test_a_single_value_option_given_twice_is_a_usage_error(twice: list[str]) -> None:
    result = scrub(str(SAMPLE), *twice)
    assert result.exit_code == 2
    assert "given twice" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_repeatable_options_may_repeat(tmp_path: Path) -> None:
    """Near miss: --policy (and the inputs) are repeatable by design."""
    files = []
    for name in ("ACME", "BETA"):
        path = tmp_path / f"{name.lower()}.toml"
        path.write_text(f'name = "{name}"\nextends = "DEFAULT"\npayers = ["{name}"]\n', encoding="utf-8")
        files += ["--policy", str(path)]
    result = scrub(str(SAMPLE), *files, "--fail-on", "never", "-q")
    assert result.exit_code == 0, result.stderr


# Contract: --select names the checks to run. An empty --select (an unset shell variable) ran every
# check; an id in capitals got no suggestion (ids are lower case: accepted as such now).
def test_an_empty_select_is_a_usage_error() -> None:
    result = scrub(str(SAMPLE), "--select", "")
    assert result.exit_code == 2 and "--select names no check id" in result.stderr


def test_check_ids_are_case_insensitive(tmp_path: Path) -> None:
    assert _doc("--select", "Route-Mismatch")["summary"]["by_check"].keys() == {"route-mismatch"}
    # ... everywhere a check id is read: `scrub explain`, a suppression's check, a config's select (each
    # refused an id --select accepted; probe W)
    from click.testing import CliRunner

    from scrubber.cli import main

    explained = CliRunner().invoke(main, ["explain", "Route-Mismatch"])
    assert explained.exit_code == 0 and explained.output.startswith("route-mismatch: ")
    waived = tmp_path / "s.toml"
    waived.write_text('[[suppress]]\ncheck = "Over-Cap-96371"\nreason = "r"\nby = "b"\nexpires = 2099-01-01\n')
    doc = _doc("--suppressions", str(waived))
    assert "over-cap-96371" not in {f["check_id"] for f in doc["findings"]}
    assert "over-cap-96371" in {f["check_id"] for f in doc["suppressed"]}
    config = tmp_path / "scrubber.toml"
    config.write_text('select = ["Route-Mismatch"]\n')
    assert _doc("--config", str(config))["summary"]["by_check"].keys() == {"route-mismatch"}


# Contract: a setting accepted is never ignored. A past --baseline-expires wrote a baseline that
# suppressed nothing; --baseline-expires without --baseline-write was ignored.
@pytest.mark.parametrize(("args", "words"), [
    (["--baseline-write", "b.toml", "--baseline-expires", "2020-01-01"], "is in the past"),
    (["--baseline-expires", "2099-01-01"], "applies to --baseline-write only"),
])
def test_baseline_expiry_that_would_do_nothing_is_a_usage_error(tmp_path: Path, args: list[str], words: str) -> None:
    args = [str(tmp_path / a) if a == "b.toml" else a for a in args]
    result = scrub(str(SAMPLE), *args)
    assert result.exit_code == 2 and words in result.stderr
