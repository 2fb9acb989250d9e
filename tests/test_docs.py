"""Documentation generated from data stays equal to its data: docs/SOURCES.md, the checks tables of
README.md and docs/RULES.md (from the cards), and each check's rule as docs/RULES.md states it."""

from __future__ import annotations

import sys
from pathlib import Path

from conftest import ROOT

from checks import all_checks

sys.path.insert(0, str(ROOT / "scripts"))
import make_docs


def test_generated_docs_are_up_to_date() -> None:
    for path, text in make_docs.expected().items():
        assert path.read_text(encoding="utf-8") == text, f"{path.name} is stale: run python scripts/make_docs.py"


def test_readme_and_rules_carry_the_checks_table() -> None:
    table = make_docs.checks_table()
    for path in (ROOT / "README.md", ROOT / "docs" / "RULES.md"):
        assert table in path.read_text(encoding="utf-8"), path.name


def test_each_checks_rule_is_the_rules_sheet_text() -> None:
    """docs/RULES.md states each check's rule exactly as the check's docstring does."""
    rules = " ".join((ROOT / "docs" / "RULES.md").read_text(encoding="utf-8").split())
    for check in all_checks():
        assert check.rule in rules, check.id


def test_the_readme_policy_example_loads_as_written(tmp_path: Path) -> None:
    """The policy file of the README's Policies section, copied verbatim, is a valid policy that does
    what its comments say (a user copies it; a key under the wrong table was an error)."""
    import re

    from scrubber.policy import PolicySet

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Policies.*?```toml\n(.*?)```", readme, re.S)
    assert block, "no toml example under ## Policies"
    path = tmp_path / "acme.toml"
    path.write_text(block.group(1), encoding="utf-8")
    policies = PolicySet.load([str(path)])
    assert policies.policy_for("ACME HEALTH") == "ACME"
    acme = policies.policies["ACME"]
    assert tuple(acme.home_pos) == ("12", "13", "14")


def test_the_readme_config_example_loads_as_written(tmp_path: Path) -> None:
    """The README's scrubber.toml example, copied verbatim, is accepted (its `select = []` with the
    comment "empty or absent: all" was refused: an empty select names no check; probe W)."""
    import re

    from scrubber import config

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"`--no-config`\s+ignores them.*?```toml\n(.*?)```", readme, re.S)
    assert block, "no toml example of the config file in the README"
    path = tmp_path / "scrubber.toml"
    path.write_text(block.group(1), encoding="utf-8")
    loaded = config.load(path)
    assert loaded.values["ignore"] == ["over-cap-96371"] and loaded.values["fail_on"] == "error"


def test_formats_lists_every_registered_check_id() -> None:
    """docs/FORMATS.md's check-id table (the stable ids other tools build on) is the registry's."""
    import re

    text = (ROOT / "docs" / "FORMATS.md").read_text(encoding="utf-8")
    table = text.split("## Check ids", 1)[1].split("\n\n", 1)[0]
    listed = re.findall(r"^\| `([a-z0-9-]+)` \|", table, re.M)
    assert sorted(listed) == sorted(c.id for c in all_checks())
