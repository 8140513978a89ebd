"""The issue's typical FastAPI project, fixed with --unsafe-fixes, starts and serves.

tests/fixtures/fix/fastapi_project: a SQLAlchemy async engine from a pydantic Settings
`DATABASE_URL`, an asyncpg pool with `ssl="require"`, a `.env` and a compose file with
`+asyncpg` URLs. Fixed (every fix, as `fix --unsafe-fixes` writes them), it must serve
/health against the lab's secure server over verify-full both with password
authentication (no client certificate configured: the old fix raised KeyError) and with
a client certificate, and refuse the wrong-host server and a downgrading proxy.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from verifyfull.fix.plan import FIXABLE, plan_fixes
from verifyfull.lab.mitm import DowngradeProxy
from verifyfull.scan import engine
from verifyfull.scan.settings import load

pytestmark = pytest.mark.pg

PROJECT = Path(__file__).parent / "fixtures" / "fix" / "fastapi_project" / "before"
SERVE = """
import json
from starlette.testclient import TestClient
from app.main import app
with TestClient(app) as client:
    response = client.get("/health")
    print(json.dumps({"status": response.status_code, **response.json()}))
"""


@pytest.fixture(scope="module")
def fixed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fastapi") / "proj"
    shutil.copytree(PROJECT, root)
    (root / "pyproject.toml").write_text("")
    plan = plan_fixes([root], load(root), unsafe=True)
    assert not [f for f in plan.left if f.rule_id in FIXABLE]
    for fix in plan.fixes:
        fix.path.write_bytes(fix.after)
        if fix.relpath.endswith(".py"):
            compile(fix.after, fix.relpath, "exec")
    left = {f.rule_id for f in engine.scan([root], load(root)).report.findings}
    assert not left & FIXABLE
    assert plan_fixes([root], load(root), unsafe=True).fixes == ()  # a second run: nothing
    return root


def _env(server: Any, *, cert: bool, port: int | None = None) -> dict[str, str]:
    certs = server.certs_dir
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "DB_"))}
    where = f"{server.hostname}:{port or server.port}/{server.database}"
    user = "root" if cert else f"{server.password_user}:{server.password}"
    env.update(
        DATABASE_URL=f"postgresql+asyncpg://{user}@{where}",
        EVENTS_DSN=f"postgresql://{user}@{where}",
        DB_CA_PATH=str(certs / "ca.crt"),
        HOME=str(certs.parent),  # no ~/.postgresql files to fall back on
    )
    if cert:
        env.update(
            DB_CERT_PATH=str(certs / "client.root.crt"), DB_KEY_PATH=str(certs / "client.root.key")
        )
    return env


def _serve(root: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return _python(root, SERVE, env)


def _python(root: Path, code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,  # the fixed .env is read; the environment wins over it
        env={**env, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("cert", [False, True], ids=["password", "client-cert"])
def test_the_fixed_project_serves_over_verify_full(lab: Any, fixed: Path, cert: bool) -> None:
    ran = _serve(fixed, _env(lab("secure"), cert=cert))
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert json.loads(ran.stdout.strip().splitlines()[-1]) == {
        "status": 200,
        "orm_tls": True,
        "events_tls": True,
    }


def test_the_fixed_project_refuses_a_server_named_otherwise(lab: Any, fixed: Path) -> None:
    ran = _serve(fixed, _env(lab("wrong-host"), cert=True))
    assert ran.returncode != 0
    assert "CERTIFICATE_VERIFY_FAILED" in ran.stderr or "certificate" in ran.stderr.lower()


def test_the_fixed_project_refuses_a_downgrading_server(lab: Any, fixed: Path) -> None:
    server = lab("secure")
    with DowngradeProxy(server.host, server.port) as proxy:
        ran = _serve(fixed, _env(server, cert=False, port=proxy.port))
    assert ran.returncode != 0
    assert '"status": 200' not in ran.stdout


def test_without_the_root_setting_start_up_names_it(lab: Any, fixed: Path) -> None:
    env = _env(lab("secure"), cert=False)
    del env["DB_CA_PATH"]
    ran = _serve(fixed, env)
    assert ran.returncode != 0
    assert "DB_CA_PATH is not set" in ran.stderr
    assert "KeyError" not in ran.stderr


SHAPES = Path(__file__).parent / "fixtures" / "fix"
TORTOISE_BOTH = """
import asyncio
from tortoise import Tortoise, connections
import app.settings, app.worker
Q = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
async def main():
    await Tortoise.init(config=app.settings.TORTOISE_ORM)
    rows = await connections.get("default").execute_query_dict(Q)
    print("TLS", rows[0]["ssl"])
    await Tortoise.close_connections()
    await app.worker.init()
    rows = await connections.get("default").execute_query_dict(Q)
    print("TLS", rows[0]["ssl"])
    await Tortoise.close_connections()
asyncio.run(main())
"""


def _fixed_shape(case: str, server: Any, tmp_path: Path, port: int | None = None) -> Path:
    root = tmp_path / case
    shutil.copytree(SHAPES / case / "before", root)
    (root / "pyproject.toml").write_text("")
    for path in root.rglob("*.py"):
        text = path.read_text().replace("26257", str(port or server.port))
        path.write_text(text.replace("defaultdb", server.database))
    for fix in plan_fixes([root], load(root), unsafe=True).fixes:
        fix.path.write_bytes(fix.after)
    return root


def _run_tortoise(
    server: Any, tmp_path: Path, *, cert: bool, port: int | None = None
) -> subprocess.CompletedProcess[str]:
    """The fixed tortoise_origins project (both configs) run against server (through port)."""
    root = _fixed_shape("tortoise_origins", server, tmp_path, port)
    env = _env(server, cert=cert)
    if not cert:  # the password user: the fixed config's user is replaced, no certificate
        for path in (root / "app").glob("*.py"):
            text = path.read_text().replace(
                '"user": "root",',
                f'"user": "{server.password_user}", "password": "{server.password}",',
            )
            path.write_text(text)
    return _python(root, TORTOISE_BOTH, env)


@pytest.mark.parametrize("cert", [False, True], ids=["password", "client-cert"])
def test_tortoise_configs_fixed_where_written_connect(lab: Any, tmp_path: Path, cert: bool) -> None:
    """The dict imported by register_tortoise and the helper's dict, fixed where written."""
    ran = _run_tortoise(lab("secure"), tmp_path, cert=cert)
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert ran.stdout.count("TLS True") == 2, ran.stdout


def test_a_root_path_with_a_space_and_an_equals_sign_stays_one_value(
    lab: Any, tmp_path: Path
) -> None:
    """libpq keyword strings quote the paths fixed code puts in them."""
    server = lab("secure")
    root = _fixed_shape("psycopg_disable", server, tmp_path)
    odd = tmp_path / "db certs=prod"
    odd.mkdir()
    shutil.copy(server.certs_dir / "ca.crt", odd / "ca.crt")
    env = {**_env(server, cert=True), "DB_CA_PATH": str(odd / "ca.crt")}
    ran = _python(root, "import app; print('rows', app.report())", env)
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert "rows [(1,)]" in ran.stdout


def _serve_from_dotenv(
    server: Any, tmp_path: Path, *, cert: bool, port: int | None = None
) -> subprocess.CompletedProcess[str]:
    """The project with both URLs only in its .env (`+asyncpg` with `?sslmode=require`),
    fixed, then served against server (through port)."""
    root = tmp_path / "proj"
    shutil.copytree(PROJECT, root)
    (root / "pyproject.toml").write_text("")
    where = f"{server.hostname}:{port or server.port}/{server.database}"
    user = "root" if cert else f"{server.password_user}:{server.password}"
    (root / ".env").write_text(
        f"DATABASE_URL=postgresql+asyncpg://{user}@{where}?sslmode=require\n"
        f"EVENTS_DSN=postgresql://{user}@{where}\n"
    )
    for fix in plan_fixes([root], load(root), unsafe=True).fixes:
        fix.path.write_bytes(fix.after)
    assert "?ssl=verify-full" in (root / ".env").read_text()
    env = _env(server, cert=cert)
    del env["DATABASE_URL"], env["EVENTS_DSN"]  # from the fixed .env
    return _serve(root, env)


@pytest.mark.parametrize("cert", [False, True], ids=["password", "client-cert"])
def test_the_fixed_dotenv_asyncpg_url_is_one_the_dialect_accepts(
    lab: Any, tmp_path: Path, cert: bool
) -> None:
    """The app reads DATABASE_URL from its .env: `?sslmode=require` (a TypeError in
    asyncpg.connect) is fixed to `?ssl=verify-full`, and the code's context wins."""
    ran = _serve_from_dotenv(lab("secure"), tmp_path, cert=cert)
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert '"orm_tls": true' in ran.stdout


@pytest.mark.parametrize("cert", [False, True], ids=["password", "client-cert"])
def test_the_certificate_files_may_be_set_in_the_dotenv_pydantic_reads(
    lab: Any, fixed: Path, tmp_path: Path, cert: bool
) -> None:
    """The fixed code reads DB_CA_PATH (and the client files) from the Settings class it
    gained them in, so a value only in the project's .env is seen, as DATABASE_URL is (the
    process environment read before this fix missed it: 'DB_CA_PATH is not set')."""
    root = tmp_path / "proj"
    shutil.copytree(fixed, root)
    assert 'DB_CA_PATH: str = ""' in (root / "app" / "config.py").read_text()
    env = _env(lab("secure"), cert=cert)
    dotenv = "".join(f"{k}={env.pop(k)}\n" for k in list(env) if k.startswith("DB_"))
    (root / ".env").write_text((root / ".env").read_text() + dotenv)
    ran = _serve(root, env)
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert json.loads(ran.stdout.strip().splitlines()[-1]) == {
        "status": 200,
        "orm_tls": True,
        "events_tls": True,
    }


TORTOISE_URL_NAMES = """
import asyncio
from tortoise import Tortoise, connections
import app.orm, app.worker
Q = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
async def main():
    for init in (lambda: Tortoise.init(config=app.orm.TORTOISE_ORM), app.worker.init,
                 lambda: Tortoise.init(config=app.orm.test_config())):
        await init()
        rows = await connections.get("default").execute_query_dict(Q)
        print("TLS", rows[0]["ssl"])
        await Tortoise.close_connections()
asyncio.run(main())
"""


def _run_tortoise_url_names(
    server: Any, tmp_path: Path, *, cert: bool, port: int | None = None
) -> subprocess.CompletedProcess[str]:
    """tortoise_url_names fixed: db_url and config connections that are a URL built from
    the environment in another module, run against server (through port)."""
    root = _fixed_shape("tortoise_url_names", server, tmp_path)
    env = _env(server, cert=cert)
    env.update(
        POSTGRES_USER="root" if cert else server.password_user,
        POSTGRES_PASSWORD="" if cert else server.password,
        POSTGRES_HOST=server.hostname,
        POSTGRES_PORT=str(port or server.port),
        POSTGRES_DB=server.database,
    )
    return _python(root, TORTOISE_URL_NAMES, env)


@pytest.mark.parametrize("cert", [False, True], ids=["password", "client-cert"])
def test_tortoise_urls_known_at_run_time_connect(lab: Any, tmp_path: Path, cert: bool) -> None:
    ran = _run_tortoise_url_names(lab("secure"), tmp_path, cert=cert)
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert ran.stdout.count("TLS True") == 3, ran.stdout


RUNNERS = pytest.mark.parametrize(
    "run",
    [_run_tortoise, _serve_from_dotenv, _run_tortoise_url_names],
    ids=["tortoise-origins", "dotenv-asyncpg", "tortoise-url-names"],
)


@RUNNERS
def test_fixed_shapes_refuse_a_server_named_otherwise(lab: Any, tmp_path: Path, run: Any) -> None:
    """verify-full is real in the fixed Tortoise configs and the fixed .env URL."""
    ran = run(lab("wrong-host"), tmp_path, cert=True)
    assert ran.returncode != 0
    assert "CERTIFICATE_VERIFY_FAILED" in ran.stderr or "certificate" in ran.stderr.lower()


@RUNNERS
def test_fixed_shapes_refuse_a_downgrading_server(lab: Any, tmp_path: Path, run: Any) -> None:
    """A proxy that answers 'N': they stop, and no startup message crosses in cleartext."""
    server = lab("secure")
    with DowngradeProxy(server.host, server.port) as proxy:
        ran = run(server, tmp_path, cert=False, port=proxy.port)
    assert ran.returncode != 0
    assert proxy.startup_messages == []
