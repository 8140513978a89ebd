"""Which directories the walk skips as build output (session 12, zorik19/bankProject).

`build/` and `dist/` are skipped as build output unless the project keeps its own files
there: git tracks a file in it, or it is a Python package. Inside one the project keeps,
setuptools' copies (`lib`, `lib.<platform>`, `bdist.<platform>`, `temp.<platform>`,
`scripts-<version>`) are still skipped; a `.gitignore` entry keeps untracked output out
as before. Real git repositories; the oracle is the rule written out.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verifyfull.scan.walk import Walker

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

# What a build directory may hold: hand-written files, a package marker, tool output.
_CHILDREN = (
    "wait_for_postgres.py",
    "run.sh",
    "docker-compose.yml",
    "ci/deploy.sh",
    "__init__.py",
    "lib/app/db.py",
    "lib.linux-x86_64-cpython-311/app/db.py",
    "bdist.linux-x86_64/wheel/app/db.py",
    "temp.linux-x86_64-cpython-311/ext.py",
    "scripts-3.11/manage.py",
    "library/db.py",
)
_SHAPES = ("lib", "lib.", "bdist.", "temp.", "scripts-")


def _shape(child: str) -> bool:
    first = child.split("/", 1)[0]
    return "/" in child and (first == "lib" or first.startswith(_SHAPES[1:]))


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, timeout=30
    )
    return done.stdout


def write(path: Path, text: str = "x = 1\n") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    name=st.sampled_from(("build", "dist")),
    parent=st.sampled_from(("", "deploy/", "frontend/")),
    children=st.lists(st.sampled_from(_CHILDREN), min_size=1, max_size=5, unique=True),
    in_git=st.booleans(),
    tracked=st.booleans(),
    ignored=st.booleans(),
)
def test_a_build_directory_is_walked_when_the_project_keeps_its_files_there(
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    parent: str,
    children: list[str],
    in_git: bool,
    tracked: bool,
    ignored: bool,
) -> None:
    repo = tmp_path_factory.mktemp("repo")
    if in_git:
        git(repo, "init", "-q")
    write(repo / "app" / "main.py")
    if ignored:
        write(repo / ".gitignore", f"{name}/\n")
    directory = f"{parent}{name}"
    for child in children:
        write(repo / directory / child)
    if in_git and tracked:
        git(repo, "add", "-f", "--", directory)
    committed = in_git and tracked
    package = "__init__.py" in children
    kept = committed or (package and not ignored)
    expected = {"app/main.py"} | {
        f"{directory}/{child}" for child in children if kept and not _shape(child)
    }
    if ignored:
        expected.add(".gitignore")
    walked = {w.relpath for w in Walker(repo).walk([repo])}
    assert walked == expected


def test_the_bank_project_shape_is_walked_and_setuptools_output_is_not(tmp_path: Path) -> None:
    """zorik19/bankProject: a committed `build/` holding the Dockerfile, compose files and
    a Python script; beside it an untracked setuptools `build/` of another package."""
    repo = tmp_path
    git(repo, "init", "-q")
    for child in ("Dockerfile", "docker-compose.yml", "wait_for_postgres.py", "run.sh"):
        write(repo / "build" / child)
    write(repo / "build" / "lib" / "source" / "app.py")  # a copy, even when committed
    git(repo, "add", "-f", "--", "build")
    write(repo / "pkg" / "build" / "lib" / "pkg" / "db.py")  # untracked output
    write(repo / "pkg" / "build" / "bdist.linux-x86_64" / "db.py")
    walked = {w.relpath for w in Walker(repo).walk([repo])}
    assert walked == {
        "build/Dockerfile",
        "build/docker-compose.yml",
        "build/wait_for_postgres.py",
        "build/run.sh",
    }
