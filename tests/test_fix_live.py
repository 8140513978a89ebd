"""The fixed code really connects: verify-full and a client certificate, real lab server.

The seed's two snippets, the fixed examples/insecure_app connection code, and
the rewritten libpq, asyncpg and Tortoise forms (both Tortoise backends) are fixed by `plan_fixes`,
written to a throwaway project, and run in a fresh interpreter with the seed's
environment variables pointing at the lab's `secure` server (TLS only, client
certificates required). Each run reports `pg_stat_ssl.ssl` of its own session.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from verifyfull.fix.plan import plan_fixes
from verifyfull.scan.settings import load

pytestmark = pytest.mark.pg

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "insecure_app"
CASES_DIR = Path(__file__).parent / "fixtures" / "fix"
SSL_QUERY = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
# Run in the fixed project: connect through its `app.engine`, print whether TLS is on.
SQLALCHEMY_TLS_SCRIPT = f"""
import asyncio
from sqlalchemy import text
import app
async def main():
    async with app.engine.connect() as conn:
        print("TLS", (await conn.execute(text({SSL_QUERY!r}))).scalar())
    await app.engine.dispose()
asyncio.run(main())
"""

# asyncpg.connect wrapped so a snippet that runs its own query also shows its TLS state.
ASYNCPG_SPY = f"""
import asyncpg
_connect = asyncpg.connect
async def _spy(*args, **kwargs):
    conn = await _connect(*args, **kwargs)
    print("TLS", await conn.fetchval({SSL_QUERY!r}))
    return conn
asyncpg.connect = _spy
"""

# Initialise Tortoise through the fixed module's init(), then show the session's TLS state.
TORTOISE_TLS = f"""
import asyncio
from tortoise import Tortoise, connections
import app
async def main():
    await app.init()
    rows = await connections.get("default").execute_query_dict({SSL_QUERY!r})
    print("TLS", rows[0]["ssl"])
    await Tortoise.close_connections()
asyncio.run(main())
"""


def _env(server: Any) -> dict[str, str]:
    certs = server.certs_dir
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(
        DB_HOST=server.hostname,
        DB_PORT=str(server.port),
        DB_NAME=server.database,
        DB_USER="root",
        DB_CA_PATH=str(certs / "ca.crt"),
        DB_CERT_PATH=str(certs / "client.root.crt"),
        DB_KEY_PATH=str(certs / "client.root.key"),
        HOME=str(certs.parent),  # no ~/.postgresql/root.crt to fall back on
    )
    return env


def _fixed_project(
    source: Path, tmp_path: Path, edit: dict[str, str] | None = None, use_guard: bool = False
) -> Path:
    root = tmp_path / "proj"
    shutil.copytree(source, root)
    if not (root / "pyproject.toml").exists():
        (root / "pyproject.toml").write_text("")
    for path in root.rglob("*.py"):
        text = path.read_text()
        for old, new in (edit or {}).items():
            text = text.replace(old, new)
        path.write_text(text)
    plan = plan_fixes([root], load(root), use_guard=use_guard)
    assert plan.fixes
    for fix in plan.fixes:
        fix.path.write_bytes(fix.after)
    return root


def _run(root: Path, code: str, env: dict[str, str]) -> str:
    # cwd outside the project: the example's Settings would read its .env, whose
    # PGSSLMODE line pydantic-settings refuses as an extra field (before and after fixing)
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root.parent,
        env={**env, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def _port_edit(server: Any) -> dict[str, str]:
    return {"26257": str(server.port), "audit@": "root@", "/audit": f"/{server.database}"}


def test_fixed_seed_sqlalchemy_connects(lab: Any, tmp_path: Path) -> None:
    server = lab("secure")
    root = _fixed_project(CASES_DIR / "seed_sqlalchemy" / "before", tmp_path)
    code = SQLALCHEMY_TLS_SCRIPT
    assert "TLS True" in _run(root, code, _env(server))


def test_fixed_seed_asyncpg_connects(lab: Any, tmp_path: Path) -> None:
    server = lab("secure")
    root = _fixed_project(CASES_DIR / "seed_asyncpg" / "before", tmp_path)
    code = ASYNCPG_SPY + "import asyncio, app\nprint(len(asyncio.run(app.fetch_users())))\n"
    out = _run(root, code, _env(server))
    assert "TLS True" in out
    assert out.strip().endswith("2")  # alice and bob are active


def test_fixed_seed_refuses_a_server_named_otherwise(lab: Any, tmp_path: Path) -> None:
    """verify-full for real: the lab certificate does not name 'wrong.lab.test'."""
    server = lab("wrong-host")
    root = _fixed_project(CASES_DIR / "seed_asyncpg" / "before", tmp_path)
    code = "import asyncio, app\nasyncio.run(app.fetch_users())\n"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        env={**_env(server), "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "CERTIFICATE_VERIFY_FAILED" in result.stderr or "certificate" in result.stderr


@pytest.mark.parametrize(
    ("case", "call"),
    [
        ("psycopg_disable", "print('rows', app.report())"),
        ("psycopg_prefer_url", "c = app.connect(); print('TLS', c.execute({q!r}).fetchone()[0])"),
        (
            "psycopg_dsn_elsewhere",
            "c = app.connect(); print('TLS', c.execute({q!r}).fetchone()[0])",
        ),
        ("psycopg_keywords", "c = app.report(); print('TLS', c.execute({q!r}).fetchone()[0])"),
        (
            "asyncpg_dsn_modes",
            "import asyncio\nasync def m():\n    c = await app.connect()\n"
            "    print('TLS', await c.fetchval({q!r}))\n    await c.close()\n"
            "    p = await app.pool()\n    print('TLS', await p.fetchval({q!r}))\n"
            "    await p.close()\nasyncio.run(m())",
        ),
        (
            "asyncpg_no_ssl",
            "import asyncio\nasync def m():\n    c = await app.connect()\n"
            "    print('TLS', await c.fetchval({q!r}))\n    await c.close()\nasyncio.run(m())",
        ),
    ],
)
def test_fixed_driver_forms_connect(lab: Any, tmp_path: Path, case: str, call: str) -> None:
    server = lab("secure")
    root = _fixed_project(CASES_DIR / case / "before", tmp_path, _port_edit(server))
    out = _run(root, "import app\n" + call.format(q=SSL_QUERY), _env(server))
    assert "TLS True" in out or "rows [(1,)]" in out


def _fixed_tortoise_db_url(db_url: str, server: Any, tmp_path: Path) -> Path:
    """A Tortoise.init(db_url=…, modules=…) app, fixed."""
    source = tmp_path / "src"
    source.mkdir()
    (source / "app.py").write_text(
        "from tortoise import Tortoise\n"
        "\n"
        "async def init() -> None:\n"
        f'    await Tortoise.init(db_url="{db_url}", modules={{"models": ["models"]}})\n'
    )
    shutil.copy(CASES_DIR / "tortoise_config" / "before" / "models.py", source / "models.py")
    return _fixed_project(source, tmp_path, _port_edit(server))


def test_fixed_tortoise_config_connects(lab: Any, tmp_path: Path) -> None:
    server = lab("secure")
    url = "asyncpg://root@localhost:26257/defaultdb?ssl=false"
    root = _fixed_tortoise_db_url(url, server, tmp_path)
    assert 'config={"connections"' in "".join((root / "app.py").read_text().split())
    assert "TLS True" in _run(root, TORTOISE_TLS, _env(server))


def test_fixed_tortoise_config_dict_connects(lab: Any, tmp_path: Path) -> None:
    server = lab("secure")
    root = _fixed_project(CASES_DIR / "tortoise_config" / "before", tmp_path, _port_edit(server))
    assert "TLS True" in _run(root, TORTOISE_TLS, _env(server))


def test_fixed_example_app_connects(lab: Any, tmp_path: Path) -> None:
    """examples/insecure_app once fixed: the SQLAlchemy engine (seed 1), the users
    query (seed 2) and the orders pool all reach the server over verify-full mTLS."""
    server = lab("secure")
    root = _fixed_project(EXAMPLE, tmp_path)
    env = _env(server)
    env["DATABASE_URL"] = f"postgresql://root@{server.hostname}:{server.port}/{server.database}"
    code = (
        ASYNCPG_SPY
        + f"""
import asyncio
from sqlalchemy import text
import app.db, app.users, app.orders
async def main():
    async with app.db.engine.connect() as conn:
        print("TLS", (await conn.execute(text({SSL_QUERY!r}))).scalar())
    await app.db.engine.dispose()
    print("users", len(await app.users.fetch_users()))
    pool = await app.orders.pool()
    async with pool.acquire() as conn:
        print("TLS", await conn.fetchval({SSL_QUERY!r}))
    await pool.close()
asyncio.run(main())
"""
    )
    out = _run(root, code, env)
    # engine (its asyncpg connect shows through the spy too), users, orders pool
    assert out.count("TLS True") == 4, out
    assert "TLS False" not in out
    assert "users 2" in out


@pytest.mark.parametrize("case", ["seed_asyncpg", "seed_sqlalchemy"])
def test_fixed_seeds_with_the_guard_connect(lab: Any, tmp_path: Path, case: str) -> None:
    server = lab("secure")
    root = _fixed_project(CASES_DIR / case / "before", tmp_path, use_guard=True)
    assert "Guard.from_env().ssl_context()" in (root / "app.py").read_text()
    if case == "seed_asyncpg":
        code = ASYNCPG_SPY + "import asyncio, app\nprint(len(asyncio.run(app.fetch_users())))\n"
    else:
        code = SQLALCHEMY_TLS_SCRIPT
    assert "TLS True" in _run(root, code, _env(server))


def test_fixed_tortoise_psycopg_config_connects(lab: Any, tmp_path: Path) -> None:
    """Tortoise's psycopg backend: both connections of the fixed config (an SSLContext
    replaced, a verify-ca server_settings upgraded) reach the server over verify-full mTLS."""
    server = lab("secure")
    edit = {**_port_edit(server), "certs/ca.crt": str(server.certs_dir / "ca.crt")}
    root = _fixed_project(CASES_DIR / "tortoise_psycopg" / "before", tmp_path, edit)
    fixed = (root / "app.py").read_text()
    assert '"ssl":' not in fixed and fixed.count('"sslmode": "verify-full"') == 3, fixed
    code = TORTOISE_TLS.replace(
        'print("TLS", rows[0]["ssl"])',
        'print("TLS", rows[0]["ssl"])\n'
        f'    rows = await connections.get("replica").execute_query_dict({SSL_QUERY!r})\n'
        '    print("TLS", rows[0]["ssl"])',
    )
    assert _run(root, code, _env(server)).count("TLS True") == 2


def test_fixed_tortoise_psycopg_db_url_connects(lab: Any, tmp_path: Path) -> None:
    server = lab("secure")
    url = "psycopg://root@localhost:26257/defaultdb?ssl=true"
    root = _fixed_tortoise_db_url(url, server, tmp_path)
    fixed = "".join((root / "app.py").read_text().split())  # as laid out: no whitespace
    assert '"server_settings":{"sslmode":"verify-full"' in fixed
    assert "TLS True" in _run(root, TORTOISE_TLS, _env(server))
