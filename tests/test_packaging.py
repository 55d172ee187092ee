"""The wheel carries the shipped data and specs, and an installed copy finds them."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    pytest.importorskip("hatchling", reason="hatchling is in the test extra; install bayesdense[test]")
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out), str(ROOT)],
        check=True,
    )
    return next(out.glob("bayesdense-*.whl"))


def test_wheel_contains_data_and_specs(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for f in (
        "data/manifest.toml",
        "data/models.csv",
        "data/scores.csv",
        "data/nmi/fig1_density_average.csv",
        "models/default.toml",
        "models/records.toml",
        "validation/structural_default.json",
        "validation/structural_default_paper_mode.json",
    ):
        assert f"bayesdense/_shipped/{f}" in names, f


def run_installed(wheel, tmp_path, code: str) -> tuple[Path, str]:
    """Run ``code`` with only the extracted wheel on the path, outside the source tree: (site, stdout)."""
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={"PYTHONPATH": str(target)},
        capture_output=True,
        text=True,
        check=True,
    )
    return target, out.stdout


def test_installed_copy_finds_its_data_outside_the_source_tree(wheel, tmp_path):
    code = (
        "import bayesdense.data as d, bayesdense.spec as s; print(d.data_dir()); "
        "print(len(d.load_table('fig1_density'))); print(s.load_spec('default').name)"
    )
    target, stdout = run_installed(wheel, tmp_path, code)
    out = stdout.split()
    assert out[0].startswith(str(target)) and "_shipped" in out[0]
    assert out[1:] == ["51", "default"]


def test_installed_copy_shows_the_shipped_structural_interval(wheel, tmp_path):
    """Outside the source tree (no validation/ in the working directory) a fit of the default spec
    still finds the structural study recorded for it, shipped in the wheel."""
    code = (
        "import bayesdense.structural as st, bayesdense.spec as s; "
        "rec, why = st.lookup(s.load_spec('default')); print(rec['record_file'] if rec else why)"
    )
    target, stdout = run_installed(wheel, tmp_path, code)
    out = stdout.strip()
    assert out.startswith(str(target)) and out.endswith("_shipped/validation/structural_default.json"), out
