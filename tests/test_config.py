"""Project configuration: discovery (scrubber.toml, pyproject [tool.scrubber], parents), precedence
(command line > config > defaults), --show-config, unknown keys, paths relative to the config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT

from scrubber.cli import main
from scrubber.config import discover, load
from scrubber.errors import UsageError

SAMPLE = str(ROOT / "sample_claims" / "claims.csv")


def run(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    """A project folder with a config; the working directory is a subfolder of it."""
    root = tmp_path / "project"
    (root / "batches" / "march").mkdir(parents=True)
    (root / "policies").mkdir()
    (root / "policies" / "acme.toml").write_text('name = "ACME"\nextends = "DEFAULT"\npayers = ["ACME HEALTH"]\n'
                                                 '[caps]\n"96371" = 2\n')
    monkeypatch.chdir(root / "batches" / "march")
    return root


def test_discovery_walks_up_and_prefers_scrubber_toml(project: Path) -> None:
    assert discover() is None
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n')  # no [tool.scrubber]: passed over
    assert discover() is None
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.scrubber]\nfail_on = "never"\n')
    assert discover() == project / "pyproject.toml"
    (project / "scrubber.toml").write_text('fail_on = "warning"\n')
    assert discover() == project / "scrubber.toml"
    nearer = project / "batches" / "scrubber.toml"
    nearer.write_text("")
    assert discover() == nearer


def test_settings_apply_and_the_command_line_wins(project: Path, write_csv) -> None:
    claims = write_csv("""
    claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,units,charge,diagnosis_1
    P1,1,M1,ACME HEALTH,11,2026-04-10,96369,1,200,D80.0
    P1,2,M1,ACME HEALTH,11,2026-04-10,96371,2,200,D80.0
    P2,1,M2,AETNA,11,2026-04-10,96366,1,200,D80.0
    """)
    (project / "scrubber.toml").write_text(
        'policies = ["policies/acme.toml"]\nignore = "addon-without-primary"\nfail_on = "never"\n'
        '[outputs]\njson = "out/findings.json"\n')
    result = run("check", str(claims))
    assert result.exit_code == 0, result.output  # fail_on never from the config
    doc = json.loads((project / "out" / "findings.json").read_text())  # relative to the config, not the cwd
    assert doc["findings"] == []  # ACME allows 2 units of 96371; the add-on check is ignored
    assert any(p["name"] == "ACME" for p in doc["provenance"]["policies"])
    # The command line wins, key by key; other keys still come from the config.
    strict = run("check", str(claims), "--fail-on", "error", "--ignore", "over-cap-96371")
    assert strict.exit_code == 1
    doc = json.loads((project / "out" / "findings.json").read_text())
    assert [f["check_id"] for f in doc["findings"]] == ["addon-without-primary"]
    to_stdout = run("check", str(claims), "--json", "-")
    assert to_stdout.exit_code == 0 and json.loads(to_stdout.stdout)["findings"] == []
    # --no-config ignores it; --config names another.
    isolated = run("check", str(claims), "--no-config", "--json", "-")
    assert isolated.exit_code == 1 and {f["check_id"] for f in json.loads(isolated.stdout)["findings"]} == {
        "over-cap-96371", "addon-without-primary"}
    other = project / "other.toml"
    other.write_text('select = ["over-cap-96371"]\n')
    chosen = run("check", str(claims), "--config", str(other), "--json", "-")
    assert [f["check_id"] for f in json.loads(chosen.stdout)["findings"]] == ["over-cap-96371"]


def test_show_config_prints_values_and_origins(project: Path) -> None:
    config = project / "scrubber.toml"
    config.write_text('fail_on = "warning"\nsuppressions = ["s.toml"]\n[outputs]\nhtml = "r.html"\n')
    result = run("check", "--show-config", "--select", "route-mismatch")
    assert result.exit_code == 0, result.output
    lines = {line.split("=", 1)[0].strip(): line for line in result.stdout.splitlines() if "=" in line}
    assert lines["fail_on"].endswith(f'"warning"  # {config}')
    assert lines["select"].endswith('["route-mismatch"]  # command line')
    assert lines["policies"].endswith("[]  # default")
    assert f'"{project / "s.toml"}"' in lines["suppressions"]
    assert lines["outputs.html"].endswith(f'"{project / "r.html"}"  # {config}')
    assert result.stdout.startswith(f"# config: {config}\n")
    assert not (project / "r.html").exists()  # nothing run


def test_pyproject_table(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.scrubber]\nselect = ["route-mismatch"]\n')
    result = run("check", "--show-config")
    assert '"route-mismatch"' in result.stdout and str(project / "pyproject.toml") in result.stdout
    (project / "pyproject.toml").write_text('[tool.scrubber]\nfail-on = "never"\n')
    bad = run("check", SAMPLE)
    assert bad.exit_code == 2
    assert "unknown key 'tool.scrubber.fail-on'; did you mean 'fail_on'?" in bad.stderr
    # A pyproject named with --config that has no [tool.scrubber] table ran as if none was given
    # (discovery passes such a file over; naming one is a mistake, probe W).
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n')
    named = run("check", SAMPLE, "--config", str(project / "pyproject.toml"))
    assert named.exit_code == 2 and "has no [tool.scrubber] table" in named.stderr
    assert run("check", SAMPLE, "--fail-on", "never").exit_code == 0  # near miss: discovered, passed over


@pytest.mark.parametrize(("text", "words"), [
    ('failon = "never"\n', "unknown key 'failon'; did you mean 'fail_on'?"),
    ('fail_on = "sometimes"\n', "'fail_on' must be one of"),
    ('[outputs]\npdf = "x.pdf"\n', "unknown key 'outputs.pdf'"),
    ('policies = "a.toml"\n[outputs]\njson = 3\n', "'outputs.json' must be a path"),
    ('select = ["route-mismatsh"]\n', "did you mean 'route-mismatch'"),
    ('select = [1]\n', "'select' must be a list of texts"),
    # an empty select ran every check, shown as `select = []` by --show-config (probe N)
    ('select = []\n', "'select' names no check id (leave it out to run every check"),
    ('select = ""\n', "'select' names no check id"),
    ("fail_on = \n", "not valid TOML"),
])
def test_bad_config_is_a_usage_error_naming_the_key(project: Path, text: str, words: str) -> None:
    (project / "scrubber.toml").write_text(text)
    result = run("check", SAMPLE)
    assert result.exit_code == 2, result.output
    assert words in result.stderr and result.stderr.count("\n") == 1
    assert result.stderr.startswith("scrub: error: ")


def test_load_resolves_paths_against_the_config_folder(tmp_path: Path) -> None:
    config = tmp_path / "conf" / "scrubber.toml"
    config.parent.mkdir()
    config.write_text('policies = ["../p.toml"]\n[outputs]\ncsv = "-"\nrejected = "rej/r.csv"\n')
    loaded = load(config)
    assert loaded.values["policies"] == [str(config.parent / "../p.toml")]
    assert loaded.values["outputs"] == {"csv": "-", "rejected": str(config.parent / "rej" / "r.csv")}
    with pytest.raises(UsageError, match="no such config file"):
        load(tmp_path / "missing.toml")


def test_the_sample_config_and_suppressions(monkeypatch) -> None:
    import datetime as dt

    from checks import REGISTERED
    from scrubber.engine import scrub
    from scrubber.suppressions import SuppressionSet, apply

    samples = ROOT / "sample_claims"
    monkeypatch.chdir(ROOT)  # the README's command, from the repository root: the sample config is not used
    assert discover() is None or discover().parent != samples
    monkeypatch.chdir(samples)
    shown = run("check", "--show-config").stdout
    assert f'suppressions     = ["{samples / "suppressions.toml"}"]  # {samples / "scrubber.toml"}' in shown
    entries = SuppressionSet.load([str(samples / "suppressions.toml")], [c.id for c in REGISTERED])
    applied = apply(scrub(["claims.csv"]).findings, entries, today=dt.date(2026, 12, 1))
    assert applied.warnings == []
    assert sorted(applied.suppressed.get_column("claim_id")) == ["PCN-2012", "PCN-2018"]
    result = run("check", "claims.csv", "--json", "-")  # the config applies in the sample folder
    assert result.exit_code == 1 and json.loads(result.stdout)["provenance"]["inputs"] == ["claims.csv"]
    assert json.loads(result.stdout)["suppressed"] or "expired" in result.stderr


def test_an_unknown_check_id_in_the_config_names_the_file_and_key(project: Path) -> None:
    """It said "--select: unknown check id" for an option the user never typed."""
    (project / "scrubber.toml").write_text('select = ["route-mismatch", "nope-check"]\n')
    result = run("check", SAMPLE, "--json", "-")
    assert result.exit_code == 2
    assert f"{project / 'scrubber.toml'}: select: unknown check id 'nope-check'" in result.output
    # Near miss: the same id on the command line is named as the option.
    result = run("check", SAMPLE, "--no-config", "--ignore", "nope-check", "--json", "-")
    assert result.exit_code == 2 and "--ignore: unknown check id 'nope-check'" in result.output


def test_a_config_ignore_beside_a_command_line_select_names_where_each_came_from(project: Path) -> None:
    """The config file ignores route-mismatch and the command line selects it alone: "--select and
    --ignore leave no check to run" blamed an --ignore the user never gave (probe 18B)."""
    (project / "scrubber.toml").write_text('ignore = ["route-mismatch"]\n')
    result = run("check", SAMPLE, "--select", "route-mismatch", "--json", "-")
    assert result.exit_code == 2
    assert f"--select and {project / 'scrubber.toml'}: ignore leave no check to run" in result.output


def test_an_idle_config_ignore_is_named_as_the_config_files_key(project: Path) -> None:
    """Probe 28C B10: a config file's ignore that a command-line --select leaves out was warned as an
    "--ignore" the user never gave. Named as the config file's key. Near miss: an idle --ignore given on
    the command line is named as the option."""
    import json

    (project / "scrubber.toml").write_text('ignore = ["route-mismatch"]\n')
    result = run("check", SAMPLE, "--select", "units-over-mue", "--json", "-", "--fail-on", "never")
    warned = [w for w in json.loads(result.stdout)["input_warnings"] if "changes nothing" in w["problem"]]
    assert [w["source"] for w in warned] == [f"{project / 'scrubber.toml'}: ignore"], warned
    result = run("check", SAMPLE, "--no-config", "--select", "units-over-mue", "--ignore", "route-mismatch",
                 "--json", "-", "--fail-on", "never")
    warned = [w for w in json.loads(result.stdout)["input_warnings"] if "changes nothing" in w["problem"]]
    assert [w["source"] for w in warned] == ["--ignore"], warned


def test_a_config_ignoring_every_check_names_only_the_ignore(project: Path) -> None:
    """No --select given: the message named one anyway ("--select and c.toml: ignore leave...", probe
    19B)."""
    from checks import all_checks

    ids = ", ".join(f'"{c.id}"' for c in all_checks())
    (project / "scrubber.toml").write_text(f"ignore = [{ids}]\n")
    result = run("check", SAMPLE, "--json", "-")
    assert result.exit_code == 2
    assert f"error: {project / 'scrubber.toml'}: ignore leaves no check to run" in result.output
    assert "--select" not in result.output


def test_a_pyproject_table_beside_scrubber_toml_is_said_not_read(project: Path) -> None:
    """scrubber.toml wins over a pyproject.toml [tool.scrubber] in the same folder; the pyproject's
    settings were passed over without a word (probe 15B)."""
    (project / "scrubber.toml").write_text('fail_on = "never"\n')
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.scrubber]\nselect = ["route-mismatch"]\n')
    result = run("check", SAMPLE, "--show-config")
    assert result.exit_code == 0
    assert (f"scrub: warning: {project / 'pyproject.toml'}: [tool.scrubber] is not read; "
            f"{project / 'scrubber.toml'} in the same folder is the config") in result.output
    # Near miss: a pyproject without the table says nothing.
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert "is not read" not in run("check", SAMPLE, "--show-config").output


def test_a_config_that_cannot_be_read_is_an_error_not_passed_over(tmp_path: Path) -> None:
    """A ``scrubber.toml`` that is a dangling link, a loop or a folder was passed over by discovery, and
    the parent's config applied without a word (probe 23H: its ``fail_on = "never"`` passed a batch the
    team's config would fail); a loop named with ``--config`` was "unexpected RuntimeError"."""
    (tmp_path / "scrubber.toml").write_text('fail_on = "never"\n', encoding="utf-8")
    team = tmp_path / "team"
    team.mkdir()
    (team / "scrubber.toml").symlink_to(tmp_path / "nowhere" / "scrubber.toml")
    assert discover(team) == team / "scrubber.toml"
    # (named as discovery found it, not as its target: review 24C D5)
    with pytest.raises(UsageError, match="config file is a link to nothing") as raised:
        load(team / "scrubber.toml")
    assert str(team / "scrubber.toml") in str(raised.value) and "nowhere" in str(raised.value)
    folder = tmp_path / "folder"
    (folder / "scrubber.toml").mkdir(parents=True)
    with pytest.raises(UsageError, match="not a readable file"):
        load(discover(folder))
    loop = tmp_path / "loop.toml"
    loop.symlink_to(loop)
    result = run("check", str(ROOT / "sample_claims" / "claims.csv"), "--config", str(loop))
    assert result.exit_code == 2 and "cannot read config file" in result.output, result.output
    assert "unexpected" not in result.output
