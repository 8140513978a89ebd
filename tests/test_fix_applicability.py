"""Safe and unsafe fixes (as Ruff has them) and client certificates only where configured.

A fix is safe when the fixed program needs nothing new at run time; `verifyfull fix`
applies only those, `--unsafe-fixes` also the rest, `--diff` shows both, marked.
Generated code reads DB_CERT_PATH/DB_KEY_PATH only when set (password authentication
keeps working) and a missing DB_CA_PATH is one clear error naming it.
"""

from __future__ import annotations

import re
import shutil
import ssl
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from verifyfull.certs.create import create_ca
from verifyfull.cli import app
from verifyfull.fix import applicability
from verifyfull.fix.plan import plan_fixes
from verifyfull.fix.python_fixes import fix_python
from verifyfull.scan.settings import load

CASES_DIR = Path(__file__).parent / "fixtures" / "fix"
CASES = sorted(p.name for p in CASES_DIR.iterdir() if p.is_dir() and p.name != "secure")
_ENV_READ = re.compile(r"""environ(?:\[|\.get\()\s*['"]([A-Z_]+)|\$\{([A-Z_]+)""")


def _project(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "proj"
    root.mkdir(exist_ok=True)
    (root / "pyproject.toml").write_text("")
    for name, text in files.items():
        (root / name).write_text(text)
    return root


def _reads(text: str) -> set[str]:
    return {a or b for a, b in _ENV_READ.findall(text)}


def test_needs_reads_what_the_fix_adds() -> None:
    assert (
        applicability.needs(
            "sslmode=require sslrootcert=/ca", "sslmode=verify-full sslrootcert=/ca"
        )
        == ()
    )
    got = applicability.needs(
        "x", 'f = os.environ["DB_CA_PATH"]; g = os.environ.get("DB_CERT_PATH")'
    )
    assert got == ("DB_CA_PATH set", "DB_CERT_PATH (read when set)")
    assert applicability.needs("PGSSLMODE=require", "PGSSLMODE=verify-full") == (
        applicability.ROOT_DEFAULT,
    )
    both = "PGSSLROOTCERT=/ca\nPGSSLMODE=verify-full"
    assert applicability.needs("PGSSLROOTCERT=/ca\nPGSSLMODE=require", both) == ()
    assert applicability.GUARD_DEPENDENCY in applicability.needs(
        "", "from verifyfull.guard import Guard"
    )


SAFE = (
    "import psycopg\n\n"
    "def report():\n"
    '    return psycopg.connect("host=db dbname=app sslmode=require sslrootcert=/etc/ca.pem")\n'
)
UNSAFE = 'import psycopg\n\nconn = psycopg.connect("host=db dbname=app sslmode=require")\n'


def test_the_command_applies_safe_fixes_and_lists_unsafe_ones(tmp_path: Path) -> None:
    root = _project(tmp_path, {"safe.py": SAFE, "unsafe.py": UNSAFE})
    runner = CliRunner()
    ran = runner.invoke(app, ["fix", str(root)], catch_exceptions=False)
    assert ran.exit_code == 1  # an unsafe fix is left: a person must act
    assert "sslmode=verify-full sslrootcert=/etc/ca.pem" in (root / "safe.py").read_text()
    assert (root / "unsafe.py").read_text() == UNSAFE
    assert "[safe]" in ran.stdout
    assert "unsafe fixes not applied" in ran.stdout and "DB_CA_PATH set" in ran.stdout
    again = runner.invoke(app, ["fix", "--unsafe-fixes", str(root)], catch_exceptions=False)
    assert again.exit_code == 0, again.stdout
    assert "sslmode=verify-full" in (root / "unsafe.py").read_text()


def test_diff_shows_both_kinds_marked(tmp_path: Path) -> None:
    root = _project(tmp_path, {"safe.py": SAFE, "unsafe.py": UNSAFE})
    ran = CliRunner().invoke(app, ["fix", "--diff", str(root)], catch_exceptions=False)
    assert "+++ b/safe.py" in ran.stdout and "+++ b/unsafe.py" in ran.stdout
    assert "[safe]" in ran.stderr and "[unsafe: needs DB_CA_PATH set" in ran.stderr
    assert "written only with --unsafe-fixes" in ran.stderr
    assert (root / "unsafe.py").read_text() == UNSAFE


@pytest.mark.parametrize("case", CASES)
def test_safe_only_plans_change_nothing_a_program_must_provide(case: str, tmp_path: Path) -> None:
    """On every fixture: without --unsafe-fixes each applied change is marked safe and the
    fixed files read no variable and import nothing the originals did not."""
    root = tmp_path / "proj"
    shutil.copytree(CASES_DIR / case / "before", root)
    (root / "pyproject.toml").write_text("")
    plan = plan_fixes([root], load(root), unsafe=False)
    for fix in plan.fixes:
        before, after = fix.before.decode(), fix.after.decode()
        assert all(change.safe for change in fix.changes), fix.changes
        assert _reads(after) <= _reads(before), fix.relpath
        assert "verifyfull.guard" not in after
    assert all(not change.safe for _, change in plan.unsafe_left)


# -- generated: every shape of SSL argument and root, safe-only never adds a need ----------

_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    sites=st.lists(
        st.tuples(
            st.sampled_from(("psycopg", "asyncpg", "engine")),
            st.sampled_from(_MODES),
            st.booleans(),  # names its own root
        ),
        min_size=1,
        max_size=4,
    )
)
def test_generated_projects_safe_fixes_need_nothing_new(
    tmp_path_factory: pytest.TempPathFactory, sites: list[tuple[str, str, bool]]
) -> None:
    root = tmp_path_factory.mktemp("gen")
    (root / "pyproject.toml").write_text("")
    lines = ["import asyncpg", "import psycopg", "from sqlalchemy import create_engine", ""]
    for index, (kind, mode, own_root) in enumerate(sites):
        root_part = " sslrootcert=/etc/db/ca.pem" if own_root else ""
        url_root = "&sslrootcert=/etc/db/ca.pem" if own_root else ""
        if kind == "psycopg":
            lines.append(
                f'c{index} = psycopg.connect("host=db dbname=app sslmode={mode}{root_part}")'
            )
        elif kind == "engine":
            lines.append(
                f'e{index} = create_engine("postgresql+psycopg://u@db/app?sslmode={mode}{url_root}")'
            )
        else:
            lines.append(f"async def a{index}():")
            lines.append(f'    return await asyncpg.connect("postgresql://u@db/app", ssl="{mode}")')
    text = "\n".join(lines) + "\n"
    (root / "app.py").write_text(text)
    safe = plan_fixes([root], load(root), unsafe=False)
    full = plan_fixes([root], load(root), unsafe=True)
    for fix in safe.fixes:
        after = fix.after.decode()
        assert _reads(after) <= _reads(text)
        compile(after, "app.py", "exec")
    # a line whose fix is safe is fixed the same either way; unsafe ones only with the flag
    assert len(safe.left) >= len(full.left)
    for _, change in safe.unsafe_left:
        assert change.needs


# -- client certificates only where configured ----------------------------------------


def _run_fixed(text: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """Execute a fixed module with a stub asyncpg; the ssl argument it was handed."""
    seen: dict[str, Any] = {}

    async def connect(*args: Any, **kwargs: Any) -> None:
        seen.update(kwargs)

    stub = types.ModuleType("asyncpg")
    stub.connect = connect  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "asyncpg", stub)
    for name in ("DB_CA_PATH", "DB_CERT_PATH", "DB_KEY_PATH"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    namespace: dict[str, Any] = {}
    exec(compile(text, "fixed.py", "exec"), namespace)
    import asyncio

    asyncio.run(namespace["main"]())
    return seen.get("ssl")


ASYNCPG_REQUIRE = (
    "import asyncpg\n\n\n"
    "async def main():\n"
    '    return await asyncpg.connect("postgresql://app@db/app", ssl="require")\n'
)


def test_password_auth_needs_no_client_certificate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only DB_CA_PATH set (the old fix raised KeyError: 'DB_CERT_PATH' here)."""
    create_ca(tmp_path / "certs", tmp_path / "ca.key")
    fixed = fix_python(ASYNCPG_REQUIRE, [5]).text
    context = _run_fixed(fixed, {"DB_CA_PATH": str(tmp_path / "certs" / "ca.crt")}, monkeypatch)
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


def test_a_missing_root_is_one_clear_error_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    fixed = fix_python(ASYNCPG_REQUIRE, [5]).text
    with pytest.raises(RuntimeError, match="DB_CA_PATH is not set"):
        _run_fixed(fixed, {}, monkeypatch)
