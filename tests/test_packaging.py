"""A plain `pip install .` carries everything a run needs: checks, templates, reference data."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        capture_output=True, text=True, check=False,
    )
    if proc.returncode != 0:
        pytest.fail(f"building the wheel failed: {proc.stderr[-2000:]}")
    return next(out.glob("scrubber-*.whl"))


def test_wheel_carries_checks_templates_and_reference_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for check in (ROOT / "checks").glob("*.py"):
        assert f"checks/{check.name}" in names
    for template in (ROOT / "reports_templates").glob("*.j2"):
        assert f"reports_templates/{template.name}" in names
    for data in (ROOT / "scrubber" / "data").iterdir():
        if data.is_file():
            assert f"scrubber/data/{data.name}" in names
    for policy in (ROOT / "scrubber" / "policies").glob("*.toml"):
        assert f"scrubber/policies/{policy.name}" in names
    assert any(n.endswith("entry_points.txt") for n in names)


def test_the_tests_run_against_the_installed_package_in_ci() -> None:
    import scrubber

    location = Path(scrubber.__file__).resolve()
    # In CI the package is installed with a plain `pip install .`; it must not be the source tree.
    if os.environ.get("CI"):
        assert ROOT not in location.parents, f"tests imported the source tree: {location}"
