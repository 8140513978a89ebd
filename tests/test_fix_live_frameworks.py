"""Fixed Django and Flask-SQLAlchemy settings connect for real: the lab's servers.

The before/ projects of tests/fixtures/fix/django_settings and flask_config are fixed
with `--unsafe-fixes` and run in a fresh interpreter through the framework itself
(Django's `connection.cursor()`, Flask-SQLAlchemy's session): against the lab's `secure`
server they connect with verify-full, with a client certificate and with a password
(no client certificate configured); they refuse the `wrong-host` server and a proxy that
answers the TLS request with 'N'.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from test_fix_live_project import _python
from verifyfull.fix.plan import FIXABLE, plan_fixes
from verifyfull.lab.mitm import DowngradeProxy
from verifyfull.scan.settings import load

pytestmark = pytest.mark.pg

CASES = Path(__file__).parent / "fixtures" / "fix"
SSL_QUERY = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
DJANGO = f"""
import django
django.setup()
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute({SSL_QUERY!r})
    print("TLS", cursor.fetchone()[0])
"""
FLASK = f"""
from flask import Flask
from sqlalchemy import text
import app as project
flask_app = Flask("live")
flask_app.config.from_object(project.Config)
project.db.init_app(flask_app)
with flask_app.app_context():
    print("TLS", project.db.session.execute(text({SSL_QUERY!r})).scalar())
"""
SCRIPTS = {"django_settings": DJANGO, "flask_config": FLASK}


@pytest.fixture(scope="module", params=sorted(SCRIPTS))
def fixed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Path]:
    root = tmp_path_factory.mktemp(request.param) / "proj"
    shutil.copytree(CASES / request.param / "before", root)
    (root / "pyproject.toml").write_text("")
    plan = plan_fixes([root], load(root), unsafe=True)
    assert plan.fixes and not [f for f in plan.left if f.rule_id in FIXABLE]
    for fix in plan.fixes:
        fix.path.write_bytes(fix.after)
    return request.param, root


def _env(server: Any, *, cert: bool, port: int | None = None) -> dict[str, str]:
    certs = server.certs_dir
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "DB_"))}
    user, password = ("root", "") if cert else (server.password_user, server.password)
    port = port or server.port
    env.update(
        # Django's entry reads these; Flask's Config reads DATABASE_URL
        DB_HOST=server.hostname,
        DB_PORT=str(port),
        DB_NAME=server.database,
        DB_USER=user,
        DB_PASSWORD=password,
        DATABASE_URL=(
            f"postgresql+psycopg2://{user}{':' + password if password else ''}"
            f"@{server.hostname}:{port}/{server.database}"
        ),
        DB_CA_PATH=str(certs / "ca.crt"),
        DJANGO_SETTINGS_MODULE="settings",
        HOME=str(certs.parent),  # no ~/.postgresql files to fall back on
    )
    if cert:
        env.update(
            DB_CERT_PATH=str(certs / "client.root.crt"), DB_KEY_PATH=str(certs / "client.root.key")
        )
    return env


def _run(fixed: tuple[str, Path], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    case, root = fixed
    return _python(root, SCRIPTS[case], env)


@pytest.mark.parametrize("cert", [False, True], ids=["password", "client-cert"])
def test_fixed_settings_connect_with_verify_full(
    lab: Any, fixed: tuple[str, Path], cert: bool
) -> None:
    ran = _run(fixed, _env(lab("secure"), cert=cert))
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert ran.stdout.strip().splitlines()[-1] == "TLS True"


def test_fixed_settings_refuse_a_server_named_otherwise(lab: Any, fixed: tuple[str, Path]) -> None:
    ran = _run(fixed, _env(lab("wrong-host"), cert=True))
    assert ran.returncode != 0
    assert "certificate" in ran.stderr.lower() or "does not match" in ran.stderr


def test_fixed_settings_refuse_a_downgrading_server(lab: Any, fixed: tuple[str, Path]) -> None:
    server = lab("secure")
    with DowngradeProxy(server.host, server.port) as proxy:
        ran = _run(fixed, _env(server, cert=False, port=proxy.port))
    assert ran.returncode != 0
    assert "TLS" not in ran.stdout
