"""The project-wide module search (callers.modules_holding, used for Flask-Migrate's
SQLALCHEMY_DATABASE_URI) stays inside the project root and survives symlink loops: an
Alembic env.py at the root asked for its parent's parent, and the full suite's
mutation fuzz test then met another test's symlink loop outside the project."""

from __future__ import annotations

import os
from pathlib import Path

from verifyfull.scan.python import callers


def _module(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_the_search_never_leaves_the_project_root(tmp_path: Path) -> None:
    root = tmp_path / "project"
    _module(root / "config.py", 'SQLALCHEMY_DATABASE_URI = "postgresql://db/app"\n')
    _module(tmp_path / "other" / "leak.py", 'SQLALCHEMY_DATABASE_URI = "postgresql://x/y"\n')
    modules, complete = callers.modules_holding(tmp_path, root, b"SQLALCHEMY_DATABASE_URI")
    assert complete
    assert [m.path.name for m in modules] == ["config.py"]


def test_a_symlink_loop_is_skipped_not_raised(tmp_path: Path) -> None:
    root = tmp_path / "project"
    _module(root / "config.py", 'SQLALCHEMY_DATABASE_URI = "postgresql://db/app"\n')
    os.symlink(root / "loop.py", root / "loop.py")  # points at itself: ELOOP on stat
    modules, _ = callers.modules_holding(root, root, b"SQLALCHEMY_DATABASE_URI")
    assert [m.path.name for m in modules] == ["config.py"]
