"""Issue 11, class 5: `verifyfull fix` never lowers the security of any connection.

- writes: no symbolic link followed out of the scanned tree, no hard link split
  silently, no edit made while fix runs lost (real links, a writer between plan and
  write);
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from verifyfull.cli import app
from verifyfull.fix import cli as fix_cli
from verifyfull.fix.apply import FileChanged, read_stamped, write_atomic

INSECURE = (
    "import psycopg\n\n\n"
    "def report():\n"
    '    return psycopg.connect("host=db dbname=app user=report sslmode=disable")\n'
)


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str


Fixer = Callable[..., Ran]


@pytest.fixture
def fix(monkeypatch: pytest.MonkeyPatch) -> Fixer:
    """`verifyfull fix ARGS` in this process, through typer's runner (so a test can
    patch a step between planning and writing)."""
    runner = CliRunner()

    def invoke(cwd: Path, *args: str) -> Ran:
        monkeypatch.chdir(cwd)
        result = runner.invoke(app, ["fix", *args], catch_exceptions=False)
        return Ran(result.exit_code, result.stdout, result.stderr)

    return invoke


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A project whose app/db.py is INSECURE."""
    base = tmp_path / "repo"
    (base / "app").mkdir(parents=True)
    (base / "pyproject.toml").write_text("[project]\nname = 'demo'\n", encoding="utf-8")
    (base / "app" / "db.py").write_text(INSECURE, encoding="utf-8")
    return base


# --- writes ---------------------------------------------------------------------------


def test_a_symlink_out_of_the_tree_is_not_followed(tmp_path: Path, root: Path, fix: Fixer) -> None:
    outside = tmp_path / "elsewhere" / "shared_db.py"
    outside.parent.mkdir()
    outside.write_text(INSECURE, encoding="utf-8")
    (root / "app" / "db.py").unlink()
    (root / "app" / "db.py").symlink_to(outside)
    ran = fix(root)
    assert outside.read_text(encoding="utf-8") == INSECURE
    assert (root / "app" / "db.py").is_symlink()
    assert "app/db.py (VF101): not fixed: it is a symbolic link to a file outside" in ran.out
    assert "0 file(s) fixed" in ran.out
    assert ran.code == 1


def test_a_file_reached_by_a_link_inside_the_tree_is_fixed_once_under_its_name(
    root: Path, fix: Fixer
) -> None:
    real = root / "app" / "db.py"
    (root / "app" / "alias.py").symlink_to(real)
    ran = fix(root)
    assert "sslmode=verify-full" in real.read_text(encoding="utf-8")
    assert (root / "app" / "alias.py").is_symlink()
    assert "fixed app/db.py" in ran.out
    assert "app/alias.py (VF101): not fixed: it is a link to app/db.py" in ran.out


def test_a_hard_linked_file_is_refused_not_split(tmp_path: Path, root: Path, fix: Fixer) -> None:
    target = root / "app" / "db.py"
    other = tmp_path / "deploy_copy.py"
    os.link(target, other)
    ran = fix(root)
    assert target.read_text(encoding="utf-8") == INSECURE
    assert os.stat(target).st_ino == os.stat(other).st_ino  # still one file
    assert "not fixed: it has 2 hard links" in ran.out
    assert ran.code == 1
    diff = fix(root, "--diff")
    assert diff.out == ""  # nothing planned for it, in --diff either
    assert "not fixed: it has 2 hard links" in diff.err


def test_an_edit_saved_while_fix_runs_is_not_lost(
    root: Path, fix: Fixer, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = root / "app" / "db.py"
    other = root / "app" / "other.py"
    other.write_text(INSECURE, encoding="utf-8")
    planned = fix_cli.plan_fixes
    edit = "# saved by the editor while fix ran\n"

    def plan_then_edit(*args: object, **kwargs: object) -> fix_cli.FixPlan:
        plan = planned(*args, **kwargs)  # type: ignore[arg-type]
        with target.open("a", encoding="utf-8") as handle:  # the concurrent writer
            handle.write(edit)
        return plan

    monkeypatch.setattr(fix_cli, "plan_fixes", plan_then_edit)
    ran = fix(root)
    assert target.read_text(encoding="utf-8") == INSECURE + edit
    assert "sslmode=verify-full" in other.read_text(encoding="utf-8")  # the others are written
    lines = [line for line in ran.err.splitlines() if "db.py" in line]
    assert len(lines) == 1 and "changed while fix ran" in lines[0]
    assert ran.code == 1


def test_write_atomic_compares_bytes_and_identity_before_the_rename(tmp_path: Path) -> None:
    target = tmp_path / "db.py"
    target.write_text("a = 1\n", encoding="utf-8")
    data, stamp = read_stamped(target)
    replaced = tmp_path / "new.py"
    replaced.write_text("a = 1\n", encoding="utf-8")
    os.replace(replaced, target)  # same bytes, another file (an editor's save)
    with pytest.raises(FileChanged):
        write_atomic(target, b"a = 2\n", expected=data, stamp=stamp)
    assert target.read_text(encoding="utf-8") == "a = 1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["db.py"]  # no temporary file left
    data, stamp = read_stamped(target)
    write_atomic(target, b"a = 2\n", expected=data, stamp=stamp)
    assert target.read_text(encoding="utf-8") == "a = 2\n"
