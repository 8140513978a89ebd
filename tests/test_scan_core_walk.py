"""The walk: .gitignore, default skips (virtualenvs, node_modules, build), excludes,
symlinks (no loops, no escaping the tree), explicit paths."""

from __future__ import annotations

import os
from pathlib import Path

from verifyfull.scan.walk import Walker

BAD = 'import psycopg\npsycopg.connect("postgresql://app@db/app")\n'


def write(path: Path, text: str = BAD) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def walked(root: Path, *paths: Path, **options: object) -> set[str]:
    walker = Walker(root, **options)  # type: ignore[arg-type]
    return {w.relpath for w in walker.walk(list(paths) or [root])}


def test_gitignore_is_respected_at_every_level(tmp_path: Path) -> None:
    write(tmp_path / ".gitignore", "generated/\n*.tmp.py\n!keep.tmp.py\n")
    write(tmp_path / "app" / ".gitignore", "local_settings.py\n")
    write(tmp_path / "app" / "db.py")
    write(tmp_path / "app" / "local_settings.py")
    write(tmp_path / "generated" / "db.py")
    write(tmp_path / "x.tmp.py")
    write(tmp_path / "keep.tmp.py")
    assert walked(tmp_path) >= {"app/db.py", "keep.tmp.py"}
    assert not walked(tmp_path) & {"app/local_settings.py", "generated/db.py", "x.tmp.py"}
    assert "generated/db.py" in walked(tmp_path, respect_gitignore=False)


def test_gitignore_above_a_walked_subdirectory_still_applies(tmp_path: Path) -> None:
    write(tmp_path / ".gitignore", "secret_stuff/\n")
    write(tmp_path / "pkg" / "secret_stuff" / "db.py")
    write(tmp_path / "pkg" / "db.py")
    assert walked(tmp_path, tmp_path / "pkg") == {"pkg/db.py"}


def test_virtualenvs_node_modules_and_build_dirs_are_skipped(tmp_path: Path) -> None:
    write(tmp_path / "src" / "db.py")
    write(tmp_path / "myenv" / "pyvenv.cfg", "home = /usr\n")
    write(tmp_path / "myenv" / "lib" / "site.py")
    for skipped in (".venv", "venv", "node_modules", "build", "dist", "__pycache__", ".git"):
        write(tmp_path / skipped / "db.py")
    write(tmp_path / "pkg.egg-info" / "db.py")
    assert walked(tmp_path) == {"src/db.py"}


def test_a_skipped_directory_named_explicitly_is_walked(tmp_path: Path) -> None:
    write(tmp_path / "build" / "db.py")
    assert walked(tmp_path, tmp_path / "build") == {"build/db.py"}


def test_exclude_patterns_apply_to_directories_and_files(tmp_path: Path) -> None:
    write(tmp_path / "src" / "db.py")
    write(tmp_path / "tests" / "fixtures" / "db.py")
    write(tmp_path / "src" / "legacy_db.py")
    got = walked(tmp_path, exclude=["tests/fixtures/", "legacy_*.py"])
    assert got == {"src/db.py"}


def test_symlink_loops_and_dangling_links_end_the_walk_with_reasons(tmp_path: Path) -> None:
    write(tmp_path / "db.py")
    (tmp_path / "loop").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "a.py").symlink_to(tmp_path / "b.py")
    (tmp_path / "b.py").symlink_to(tmp_path / "a.py")
    (tmp_path / "dangling.py").symlink_to(tmp_path / "nowhere.py")
    os.mkfifo(tmp_path / "pipe.py")
    walker = Walker(tmp_path)
    got = {w.relpath for w in walker.walk([tmp_path])}
    assert got == {"db.py"}  # the directory link is not followed: no loop, no duplicates
    reasons = {s.relpath: s.reason for s in walker.skipped}
    assert set(reasons) == {"a.py", "b.py", "dangling.py", "pipe.py"}
    assert reasons["pipe.py"] == "not a regular file"
    assert reasons["dangling.py"] == "broken symbolic link"


def test_file_symlink_inside_the_tree_is_read_once(tmp_path: Path) -> None:
    write(tmp_path / "real.py")
    (tmp_path / "alias.py").symlink_to(tmp_path / "real.py")
    assert walked(tmp_path) == {"real.py", "alias.py"}
    assert walked(tmp_path, tmp_path / "real.py", tmp_path / "real.py") == {"real.py"}


def test_an_ignored_directory_named_explicitly_is_walked(tmp_path: Path) -> None:
    write(tmp_path / ".gitignore", "vendor/\n")
    write(tmp_path / "vendor" / ".gitignore", "*.gen.py\n")
    write(tmp_path / "vendor" / "db.py")
    write(tmp_path / "vendor" / "x.gen.py")
    # The directory itself is wanted; its own .gitignore still applies inside it.
    assert walked(tmp_path, tmp_path / "vendor") == {"vendor/db.py", "vendor/.gitignore"}
