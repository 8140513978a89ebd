"""`verifyfull fix` from the command line: --diff, atomic writes, git refusal, the example."""

from __future__ import annotations

import hashlib
import shutil
import stat
import subprocess
import sys
from pathlib import Path

from verifyfull.fix.apply import write_atomic
from verifyfull.fix.gitstate import uncommitted
from verifyfull.fix.plan import FIXABLE
from verifyfull.scan import engine
from verifyfull.scan.settings import load

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "insecure_app"
CASES_DIR = Path(__file__).parent / "fixtures" / "fix"


def _fix(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "verifyfull", "fix", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        check=False,
    )


def _digests(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t", *args],
        check=True,
        capture_output=True,
        timeout=30,
    )


def _repo(tmp_path: Path, case: str = "psycopg_disable") -> Path:
    root = tmp_path / "repo"
    shutil.copytree(CASES_DIR / case / "before", root)
    (root / "pyproject.toml").write_text("")
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "before")
    return root


def test_diff_on_the_example_prints_and_writes_nothing(tmp_path: Path) -> None:
    copy = tmp_path / "insecure_app"
    shutil.copytree(EXAMPLE, copy)
    before = _digests(copy)
    result = _fix("--diff", copy)
    assert result.returncode == 1  # passwords, server flags, certificates are left for a person
    assert _digests(copy) == before
    for name in ("app/db.py", "app/users.py", "app/orders.py", "app/tls.py", "app/main.py", ".env"):
        assert f"--- a/{name}\n+++ b/{name}\n" in result.stdout
    assert 'connect_args={"ssl": ssl_context}' in result.stdout
    assert "left for a person:" in result.stderr
    assert "line 23 VF104, VF105: create_async_engine()" in result.stderr  # per file and rule
    assert "VF201" in result.stderr  # cockroach --insecure: a person decides
    assert "orders-dev-password" not in result.stdout + result.stderr  # .env DSN password
    assert "Traceback" not in result.stderr


def test_fixing_the_example_leaves_no_fixable_finding(tmp_path: Path) -> None:
    copy = tmp_path / "insecure_app"
    shutil.copytree(EXAMPLE, copy)
    result = _fix(
        "--force", "--unsafe-fixes", copy
    )  # not a git work tree of its own: --force not needed, harmless
    assert result.returncode == 1, result.stderr
    assert "fixed app/db.py" in result.stdout
    left = {f.rule_id for f in engine.scan([copy], load(copy)).report.findings}
    assert not left & FIXABLE
    assert {"VF202", "VF401"} <= left  # reported for a person, not touched
    compose = (copy / "docker-compose.yml").read_text()
    assert "--insecure" not in compose and "--certs-dir=/cockroach/certs" in compose  # unsafe
    again = _fix(copy)
    assert "0 file(s) fixed" in again.stdout


def test_refuses_files_with_uncommitted_changes(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    app = root / "app.py"
    app.write_text(app.read_text() + "\n# local edit\n")
    before = app.read_bytes()
    result = _fix("--unsafe-fixes", root)
    assert result.returncode == 2
    assert "uncommitted changes in" in result.stderr and "app.py" in result.stderr
    assert "--force" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert app.read_bytes() == before
    forced = _fix("--force", "--unsafe-fixes", root)
    assert forced.returncode == 0, forced.stderr
    assert b"sslmode=verify-full" in app.read_bytes()


def test_untracked_file_counts_as_uncommitted(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    extra = root / "extra.py"
    extra.write_text("x = 1\n")
    assert uncommitted([extra, root / "app.py"]) == (extra,)


def test_committed_file_is_fixed_and_keeps_its_mode(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    app = root / "app.py"
    app.chmod(0o640)
    result = _fix("--unsafe-fixes", root)
    assert result.returncode == 0, result.stderr
    assert "fixed app.py (VF101)" in result.stdout
    assert stat.S_IMODE(app.stat().st_mode) == 0o640
    assert "sslmode=verify-full" in app.read_text()
    leftovers = [p.name for p in root.iterdir() if p.name.endswith(".vf")]
    assert leftovers == []


def test_select_limits_the_rules(tmp_path: Path) -> None:
    copy = tmp_path / "insecure_app"
    shutil.copytree(EXAMPLE, copy)
    result = _fix("--diff", "--select", "VF107", copy)
    assert "b/app/tls.py" in result.stdout
    assert "b/app/db.py" not in result.stdout


def test_write_atomic_keeps_crlf_bytes_and_mode(tmp_path: Path) -> None:
    target = tmp_path / "a.env"
    target.write_bytes(b"A=1\r\nB=2\r\n")
    target.chmod(0o600)
    write_atomic(target, b"A=1\r\nB=3\r\n")
    assert target.read_bytes() == b"A=1\r\nB=3\r\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_diff_never_shows_a_password(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text("")
    (root / "report.py").write_text(
        "import psycopg\n"
        "\n"
        "PASSWORD = 'canary-Pw-5521'\n"
        "conn = psycopg.connect('host=db dbname=x user=u sslmode=disable', "
        "password='canary-Kw-8830')\n"
        "other = psycopg.connect('postgresql://u:canary-Url-1207@db/x?sslmode=require')\n"
    )
    result = _fix("--diff", root)
    assert "sslmode=verify-full" in result.stdout
    for canary in ("canary-Pw-5521", "canary-Kw-8830", "canary-Url-1207"):
        assert canary not in result.stdout + result.stderr


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    result = _fix(tmp_path / "nope")
    assert result.returncode == 2
    assert result.stderr.startswith("verifyfull: error:") and "does not exist" in result.stderr


def test_use_guard_needs_the_dependency(tmp_path: Path) -> None:
    copy = tmp_path / "insecure_app"
    shutil.copytree(EXAMPLE, copy)
    refused = _fix("--diff", "--use-guard", copy)
    assert refused.returncode == 2
    assert "does not depend on verifyfull" in refused.stderr
    (copy / "requirements.txt").write_text("fastapi\nverifyfull[asyncpg]>=0.1\n")
    result = _fix("--diff", "--use-guard", copy)
    assert "+from verifyfull.guard import Guard" in result.stdout
    assert "ssl_context = Guard.from_env().ssl_context()" in result.stdout
    assert "VF105" not in result.stderr.split("left for a person:")[-1]


def test_outside_git_nothing_can_be_told(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    assert uncommitted([tmp_path / "a.py"]) is None


def test_one_file_can_be_fixed_alone(tmp_path: Path) -> None:
    copy = tmp_path / "insecure_app"
    shutil.copytree(EXAMPLE, copy)
    result = _fix("--diff", copy / "app" / "users.py")
    assert "+++ b/app/users.py" in result.stdout
    assert "b/app/db.py" not in result.stdout
    assert result.returncode == 0, result.stderr


def test_unknown_rule_is_a_usage_error(tmp_path: Path) -> None:
    result = _fix("--diff", "--select", "VF999", tmp_path)
    assert result.returncode == 2
    assert "unknown rule 'VF999'" in result.stderr


def test_a_suppressed_site_is_not_touched(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text("")
    kept = (
        "    return psycopg.connect('host=db sslmode=disable')"
        "  # verifyfull: ignore[VF101] local socket proxy\n"
    )
    (root / "app.py").write_text(
        "import psycopg\n\n\ndef a():\n"
        "    return psycopg.connect('host=db sslmode=disable')\n\n\ndef b():\n" + kept
    )
    result = _fix("--force", "--unsafe-fixes", root)
    assert result.returncode == 0, result.stderr
    text = (root / "app.py").read_text()
    assert text.count("sslmode=verify-full") == 1
    assert text.endswith(kept)


def test_write_atomic_follows_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real.env"
    real.write_bytes(b"A=1\n")
    link = tmp_path / "link.env"
    link.symlink_to(real)
    write_atomic(link, b"A=2\n")
    assert link.is_symlink()
    assert real.read_bytes() == b"A=2\n"


def test_diff_context_lines_never_show_a_password(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text("")
    (root / ".env").write_text("PGSSLMODE=disable\nPOSTGRES_PASSWORD=canary-Ctx-4410\nAPP=orders\n")
    result = _fix("--diff", root)
    assert "+PGSSLMODE=verify-full" in result.stdout
    # The scanner registered the value (verifyfull.scrub): the line is shown masked.
    assert " POSTGRES_PASSWORD=***\n" in result.stdout
    assert "canary-Ctx-4410" not in result.stdout + result.stderr


def test_deeply_nested_code_is_an_error_entry_not_a_crash(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text("")
    nested = "(" * 60 + "1" + ")" * 60
    (root / "app.py").write_text(
        "import psycopg\n"
        f"x = {nested}\n"
        "conn = psycopg.connect('host=db dbname=x sslmode=disable')\n"
    )
    result = _fix("--diff", root)
    assert "Traceback" not in result.stderr
    assert result.returncode in (0, 1)
