"""A composed connection string, fixed in the shape it has at run time, connects (issue 15).

rrobledo's shape: the URL is a starlette Config default of another module and the
database name is appended (`create_engine(f"{DATABASE_CONN_URL}/{DATABASE_NAME}")`, the
psycopg2 dialect); beside it a psycopg keyword string whose first keywords are a constant
of that module (`psycopg.connect(f"{SERVER} dbname=... sslmode=require")`). Session 7's
fixer wrote libpq keywords after the URL, which no driver reads. Fixed now, both connect
to the lab's `secure` server with verify-full and a client certificate, and both refuse
the `wrong-host` server and a proxy that answers 'N' to SSLRequest.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from verifyfull.fix.plan import plan_fixes
from verifyfull.lab.mitm import DowngradeProxy
from verifyfull.scan.settings import load

pytestmark = pytest.mark.pg

SETTINGS = """from starlette.config import Config

config = Config()

DATABASE_CONN_URL: str = config(
    "DATABASE_CONN_URL", cast=str, default="postgresql://root@{host}:{port}"
)
DATABASE_NAME: str = config("DATABASE_NAME", cast=str, default="{database}")
SERVER = "host={host} port={port} user=root"
"""
DB = """import psycopg
from sqlalchemy import create_engine, text

from app.settings import DATABASE_CONN_URL, DATABASE_NAME, SERVER

QUERY = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"


def engine_tls():
    engine = create_engine(f"{DATABASE_CONN_URL}/{DATABASE_NAME}")
    with engine.connect() as conn:
        return conn.execute(text(QUERY)).scalar()


def psycopg_tls():
    with psycopg.connect(f"{SERVER} dbname={DATABASE_NAME} sslmode=require") as conn:
        return conn.execute(QUERY).fetchone()[0]
"""
CHECK = """
from app import db
for name in ("engine_tls", "psycopg_tls"):
    try:
        print(name, "TLS", getattr(db, name)())
    except Exception as exc:
        print(name, "refused:", type(exc).__name__, str(exc).splitlines()[0][:200])
"""


def _project(tmp_path: Path, host: str, port: int, database: str) -> Path:
    root = tmp_path / "proj"
    (root / "app").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'composed'\n")
    (root / "app" / "__init__.py").write_text("")
    settings = SETTINGS.replace("{host}", host).replace("{port}", str(port))
    (root / "app" / "settings.py").write_text(settings.replace("{database}", database))
    (root / "app" / "db.py").write_text(DB)
    plan = plan_fixes([root], load(root))
    assert {f.relpath for f in plan.fixes} == {"app/db.py"} and plan.refused == ()
    for fix in plan.fixes:
        fix.path.write_bytes(fix.after)
    fixed = (root / "app" / "db.py").read_text()
    assert 'f"{DATABASE_CONN_URL}/{DATABASE_NAME}?sslmode=verify-full' in fixed
    return root


def _run(root: Path, server: Any) -> str:
    certs = server.certs_dir
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "DATABASE_"))}
    env.update(
        PYTHONPATH=str(root),
        DB_CA_PATH=str(certs / "ca.crt"),
        DB_CERT_PATH=str(certs / "client.root.crt"),
        DB_KEY_PATH=str(certs / "client.root.key"),
        HOME=str(certs.parent),  # no ~/.postgresql/root.crt to fall back on
    )
    ran = subprocess.run(
        [sys.executable, "-c", CHECK],
        cwd=root.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    return ran.stdout


def test_live_the_fixed_composed_strings_connect_verify_full(lab: Any, tmp_path: Path) -> None:
    server = lab("secure")
    root = _project(tmp_path, server.hostname, server.port, server.database)
    out = _run(root, server)
    assert "engine_tls TLS True" in out and "psycopg_tls TLS True" in out, out


def test_live_the_fixed_composed_strings_refuse_a_server_named_otherwise(
    lab: Any, tmp_path: Path
) -> None:
    server = lab("wrong-host")
    root = _project(tmp_path, server.hostname, server.port, server.database)
    out = _run(root, server)
    assert out.count("refused:") == 2 and "certificate" in out.lower(), out


def test_live_the_fixed_composed_strings_refuse_a_downgrading_proxy(
    lab: Any, tmp_path: Path
) -> None:
    server = lab("secure")
    with DowngradeProxy(server.host, server.port) as proxy:
        root = _project(tmp_path, server.hostname, proxy.port, server.database)
        out = _run(root, server)
    assert out.count("refused:") == 2 and "TLS" not in out.replace("refused:", ""), out
