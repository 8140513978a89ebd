"""The project a scanned directory belongs to: the nearest pyproject.toml, setup.cfg or
.git above it, except that a directory the enclosing repository ignores (a downloaded
or extracted tree in an ignored folder) is its own project: the outer project's
settings, Python code (which variables it reads) and pins must not decide how the
tree inside is judged. Each case below fails when the outer project is used."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from verifyfull.cli import app
from verifyfull.scan.settings import find_project_root

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

# Ways a .gitignore can hide the folder the tree sits in, and how deep the tree sits.
IGNORES = ["vendor/", "vendor", "/vendor/", "vendor/**", "**/vendor/", "vendor/*"]
DEPTHS = ["proj", "proj/sub", "a/proj"]

COMPONENTS_TF = """resource "x" "y" {
  environment = [
    { name = "APP_DATABASE_BACKEND", value = "postgresql" },
    { name = "APP_DATABASE_HOST", value = var.db.address },
  ]
}
"""


def _outer_project(root: Path, ignore_line: str) -> None:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / ".gitignore").write_text(ignore_line + "\n", encoding="utf-8")
    (root / "pyproject.toml").write_text(
        '[project]\nname = "outer"\n\n[tool.verifyfull]\nignore = ["VF102"]\n', encoding="utf-8"
    )
    # The outer project's own code reads the variable: for the outer project the
    # components are its code's business, not the Terraform file's.
    (root / "settings.py").write_text(
        'import os\nHOST = os.environ["APP_DATABASE_HOST"]\n', encoding="utf-8"
    )


@pytest.mark.parametrize("ignore_line", IGNORES)
@pytest.mark.parametrize("depth", DEPTHS)
def test_an_ignored_tree_is_its_own_project(tmp_path: Path, ignore_line: str, depth: str) -> None:
    _outer_project(tmp_path, ignore_line)
    tree = tmp_path / "vendor" / depth
    tree.mkdir(parents=True)
    assert find_project_root(tree) == (tree.resolve(), None)


@pytest.mark.parametrize("depth", DEPTHS)
def test_a_tracked_or_unignored_subfolder_stays_in_the_project(tmp_path: Path, depth: str) -> None:
    _outer_project(tmp_path, "build/")
    tree = tmp_path / "vendor" / depth
    tree.mkdir(parents=True)
    assert find_project_root(tree) == (tmp_path.resolve(), tmp_path.resolve() / "pyproject.toml")


def test_outside_any_repository_the_nearest_marker_decides(tmp_path: Path) -> None:
    (tmp_path / "setup.cfg").write_text("[metadata]\nname = outer\n", encoding="utf-8")
    tree = tmp_path / "vendor" / "proj"
    tree.mkdir(parents=True)
    assert find_project_root(tree) == (tmp_path.resolve(), None)


def test_the_outer_projects_settings_and_code_do_not_judge_an_ignored_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _outer_project(tmp_path, "vendor/")
    tree = tmp_path / "vendor" / "proj"
    tree.mkdir(parents=True)
    (tree / "main.tf").write_text(COMPONENTS_TF, encoding="utf-8")
    monkeypatch.chdir(tree)
    done = CliRunner().invoke(app, ["scan", ".", "--format", "json"])
    rules = [f["rule"] for f in json.loads(done.stdout)["findings"]]
    assert rules == ["VF102"], done.stdout
    # The same tree where it is part of the project: the project's settings apply.
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".gitignore").write_text("build/\n", encoding="utf-8")
    done = CliRunner().invoke(app, ["scan", "vendor/proj", "--format", "json"])
    assert json.loads(done.stdout)["findings"] == [], done.stdout
