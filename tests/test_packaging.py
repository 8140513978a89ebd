"""The package is ready to publish: `python -m build` makes a wheel and an sdist
that carry the metadata and data files, and the wheel installs and runs in a
bare virtualenv (no editable install, no test dependencies, no source tree).

Building and installing needs the package registry (setuptools for the build,
the runtime dependencies for the install), which CI has; the versions are
held to requirements/constraints.txt so the install is the tested one.
"""

from __future__ import annotations

import email
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONSTRAINTS = ROOT / "requirements" / "constraints.txt"


# The bare venv must see only what it installed: no PYTHONPATH pointing at a source tree
# (a src/verifyfull.egg-info there would make pip think verifyfull is installed already).
_CLEAN_ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}


def _run(argv: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=_CLEAN_ENV
    )
    assert done.returncode == 0, f"{argv[:4]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)], ROOT, 300)
    return out


def test_wheel_carries_metadata_licence_and_modules(dist: Path) -> None:
    (wheel,) = dist.glob("verifyfull-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = email.message_from_bytes(archive.read(metadata_name))
        (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        scripts = archive.read(entry_points).decode()
    assert metadata["License-Expression"] == "Apache-2.0"
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert metadata.get_all("Classifier") and metadata.get_all("Project-URL")
    assert metadata["Requires-Python"] == ">=3.10"
    assert "verifyfull = verifyfull.cli:main" in scripts
    # Every module of the source tree is in the wheel (no package left out of find:).
    modules = {p.relative_to(ROOT / "src").as_posix() for p in (ROOT / "src").rglob("*.py")}
    assert modules <= set(names)
    assert "verifyfull/py.typed" in names
    # Nothing from the test tree or the lab's state is shipped.
    assert not any(n.startswith(("tests/", ".lab/")) for n in names)


def test_sdist_builds_from_a_clean_tree(dist: Path) -> None:
    (sdist,) = dist.glob("verifyfull-*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
    top = names[0].split("/")[0]
    assert f"{top}/pyproject.toml" in names and f"{top}/LICENSE" in names
    assert f"{top}/src/verifyfull/cli.py" in names
    assert not any("/.venv/" in n or "/.git/" in n for n in names)


def test_wheel_installs_and_runs_in_a_bare_virtualenv(dist: Path, tmp_path: Path) -> None:
    (wheel,) = dist.glob("verifyfull-*.whl")
    venv = tmp_path / "bare"
    _run([sys.executable, "-m", "venv", str(venv)], tmp_path, 120)
    python = venv / "bin" / "python"
    _run(
        [str(python), "-m", "pip", "install", "-q", "-c", str(CONSTRAINTS), str(wheel)],
        tmp_path,
        600,
    )
    cli = venv / "bin" / "verifyfull"
    version = _run([str(cli), "--version"], tmp_path, 60).stdout
    assert version.startswith("verifyfull ")
    assert "VF105" in _run([str(cli), "rules", "VF105"], tmp_path, 60).stdout
    # The scanner works without any database driver installed (the light install).
    scan = subprocess.run(
        [str(cli), "scan", str(ROOT / "examples" / "insecure_app"), "--format", "json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=_CLEAN_ENV,
    )
    assert scan.returncode == 1, scan.stderr
    assert '"VF105"' in scan.stdout
    drivers = subprocess.run(
        [str(python), "-c", "import asyncpg"],
        capture_output=True,
        text=True,
        timeout=60,
        env=_CLEAN_ENV,
    )
    assert drivers.returncode != 0, "the bare install must not pull a database driver"
