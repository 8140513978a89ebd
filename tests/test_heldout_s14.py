"""Classes the blind held-out-s14 round found (docs/scan.md "Held-out repositories,
session 14"), each closed as a mechanism and tested against a reference reading.

- Celery's (and Airflow's) database result backend in config: `db+<SQLAlchemy URL>`
  is the URL Celery's backend gives create_engine (celery/backends/database), so a
  `db+postgresql://` value is judged exactly as the URL after `db+`
  (felipealvss/projeto_dataops' AIRFLOW__CELERY__RESULT_BACKEND).
- alembic.ini's `%(option)s` interpolation: alembic's Config is a ConfigParser with
  BasicInterpolation, so `sqlalchemy.url = postgresql://%(DB_USER)s:…` is the URL the
  section's options fill in (ddi12di/workspace), judged as the same URL written out.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from test_scan_accuracy_s12 import bounded, scan_one

URL_BODIES = (
    "postgresql://app:Xk29vbqT@db.internal:5432/app",
    "postgresql://app:Xk29vbqT@db.internal:5432/app?sslmode=disable",
    "postgresql://app:Xk29vbqT@db.internal:5432/app?sslmode=require",
    "postgresql+psycopg2://app@db.internal/app?sslmode=verify-full&sslrootcert=/etc/ca.pem",
    "postgresql+asyncpg://app@db.internal/app?ssl=disable",
    "cockroachdb://root@crdb.internal:26257/defaultdb?sslmode=prefer",
)
CARRIERS = {
    "env": (".env", "CELERY_RESULT_BACKEND={url}\n", 1),
    "compose": (
        "docker-compose.yml",
        "services:\n  worker:\n    image: apache/airflow:2.10\n    environment:\n"
        "      AIRFLOW__CELERY__RESULT_BACKEND: {url}\n",
        5,
    ),
    "k8s": (
        "deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: w\nspec:\n  template:\n"
        "    spec:\n      containers:\n        - name: w\n          image: w:1\n          env:\n"
        "            - name: CELERY_RESULT_BACKEND\n              value: {url}\n",
        13,  # the entry's line, as for any {name, value} setting
    ),
    "shell": (
        "run.sh",
        "#!/bin/sh\nexport CELERY_RESULT_BACKEND='{url}'\ncelery -A app worker\n",
        2,
    ),
}


def _findings(root: Path, name: str, text: str) -> list[tuple[int, str]]:
    path = root / name
    path.write_text(text, encoding="utf-8")
    return scan_one(path, root)


@bounded(40)
@given(body=st.sampled_from(URL_BODIES), carrier=st.sampled_from(sorted(CARRIERS)))
def test_a_celery_database_backend_in_config_is_judged_as_its_sqlalchemy_url(
    tmp_path_factory: pytest.TempPathFactory, body: str, carrier: str
) -> None:
    name, template, line = CARRIERS[carrier]
    plain = _findings(tmp_path_factory.mktemp("plain"), name, template.format(url=body))
    backend = _findings(tmp_path_factory.mktemp("db"), name, template.format(url="db+" + body))
    assert backend == plain, (carrier, body)
    if "verify-full" not in body:  # the old code: nothing at all for a db+ value
        assert any(at == line for at, _ in backend), (carrier, body, backend)


def test_another_result_backend_scheme_is_no_connection(tmp_path: Path) -> None:
    for value in ("redis://redis:6379/0", "rpc://", "db+sqlite:///results.db"):
        assert _findings(tmp_path, ".env", f"CELERY_RESULT_BACKEND={value}\n") == [], value


# --- alembic.ini %(option)s interpolation ---------------------------------------------

ENV_PY = """from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config


def run_migrations_online():
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with connectable.connect() as connection:
        context.configure(connection=connection)
"""
PARTS = {"user": "app", "password": "Xk29vbqT", "host": "db.internal", "port": "5432", "db": "app"}
QUERIES = ("", "?sslmode=disable", "?sslmode=require", "?sslmode=verify-full")


def _alembic_tree(root: Path, url: str, options: dict[str, str]) -> Path:
    (root / "migrations").mkdir()
    env_py = root / "migrations" / "env.py"
    env_py.write_text(ENV_PY, encoding="utf-8")
    lines = ["[alembic]", "script_location = migrations"]
    lines += [f"{k} = {v}" for k, v in options.items()]
    lines += [f"sqlalchemy.url = {url}", "", "[loggers]", "keys = root", ""]
    (root / "alembic.ini").write_text("\n".join(lines), encoding="utf-8")
    return env_py


def _url(parts: dict[str, str], query: str) -> str:
    return (
        f"postgresql://{parts['user']}:{parts['password']}@{parts['host']}:{parts['port']}"
        f"/{parts['db']}{query}"
    )


@bounded(30)
@given(
    referenced=st.sets(st.sampled_from(sorted(PARTS))),
    query=st.sampled_from(QUERIES),
    in_default=st.booleans(),
)
def test_an_interpolated_alembic_url_is_the_url_it_expands_to(
    tmp_path_factory: pytest.TempPathFactory, referenced: set[str], query: str, in_default: bool
) -> None:
    written = {k: (f"%(db_{k})s" if k in referenced else v) for k, v in PARTS.items()}
    options = {f"db_{k}": PARTS[k] for k in sorted(referenced)}
    root = tmp_path_factory.mktemp("interpolated")
    env_py = _alembic_tree(root, _url(written, query), options)
    if in_default and options:  # a [DEFAULT] section fills in too, as configparser does
        ini = root / "alembic.ini"
        body = "\n".join(f"{k} = {v}" for k, v in options.items())
        text = ini.read_text().replace("\n".join(f"{k} = {v}" for k, v in options.items()), "")
        ini.write_text(f"[DEFAULT]\n{body}\n\n{text}", encoding="utf-8")
    literal_root = tmp_path_factory.mktemp("literal")
    literal_env_py = _alembic_tree(literal_root, _url(PARTS, query), {})
    expected = [f for f in scan_one(literal_env_py, literal_root) if f[1].startswith("VF10")]
    found = [f for f in scan_one(env_py, root) if f[1].startswith("VF10")]
    assert found == expected, (referenced, query, in_default)
    if referenced and query != "?sslmode=verify-full":
        assert "VF105" not in {rule for _, rule in found}  # the old code: unreadable


def test_an_interpolation_alembic_cannot_fill_in_is_not_guessed(tmp_path: Path) -> None:
    env_py = _alembic_tree(tmp_path, "postgresql://%(db_user)s@%(nowhere)s/app", {"db_user": "a"})
    rules = {rule for _, rule in scan_one(env_py, tmp_path)}
    assert "VF102" not in rules and "VF105" not in rules, rules
    assert "VF108" in rules, rules
