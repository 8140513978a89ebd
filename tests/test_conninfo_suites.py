"""Behaviours the drivers' own test suites exercise that the generators do not reach.

Read in libpq's src/interfaces/libpq/t/001_uri.pl, asyncpg's tests/test_connect.py
(TestConnectParams), psycopg's tests/test_conninfo*.py and SQLAlchemy's
test/engine/test_parseconnect.py and PostgreSQL dialect multi-host tests; the
coverage list (behaviour -> generator or table) is in docs/conninfo.md. These
cases are our own, each run through the installed driver (the oracle) and the
model, compared as in tests/test_conninfo_differential.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from test_conninfo_differential import (
    _asyncpg_settings,
    _libpq_settings,
    _model,
    _sa_asyncpg,
    _sa_libpq,
    differences,
    driver_environment,
    pg_variables,
)
from verifyfull.conninfo import Environment, from_asyncpg_kwargs, from_sqlalchemy_url, parse_dsn

# libpq: URL shapes 001_uri.pl covers that the grammar does not generate.
LIBPQ_CASES: list[tuple[str, dict[str, str]]] = [
    ("postgresql://[fe80z::9]/x", {}),  # a bracketed name that is no IP literal: kept as a name
    ("postgresql://[::1]q/x", {}),  # a character after ']'
    ("postgresql://[]/x", {}),  # empty brackets
    ("postgresq://h/x", {}),  # an unknown scheme is read as key=value
    ("postgresql://h/x?nosuchkey=1", {}),  # an unknown query key
    ("postgresql://h/x?a=b=c", {}),  # an extra '='
    ("postgresql://h/x?flag", {}),  # no '='
    ("postgresql://h:/x", {"PGPORT": "6001"}),  # an empty port
    ("postgresql://@h/x", {"PGUSER": "envuser"}),  # an empty user
    ("postgresql://:7001/x", {"PGHOST": "192.0.2.40"}),  # a port alone: PGHOST on it
    ("postgresql://%2Fsock%2Fdir:7001/x", {}),  # a socket in the netloc with its port
    ("postgresql://h/x?sslmode=prefer", {"PGSSLROOTCERT": "system"}),  # written mode wins
    ("postgresql://h/x", {"PGSSLROOTCERT": "system"}),  # system root: verify-full default
    ("postgresql://h/x?sslmode=require", {"PGSSLROOTCERT": "system"}),  # weak with system
    ("postgresql://?hostaddr=192.0.2.41", {}),  # hostaddr alone
    ("postgresql://db.invalid?hostaddr=192.0.2.42&port=7002", {}),
    ("host=h1,h2 port=7003,7004 hostaddr=192.0.2.1,192.0.2.2", {}),  # keyword lists
    ("host=h1 port=", {"PGPORT": "6002"}),  # a written empty port hides PGPORT
]

# asyncpg: keyword arguments with a DSN (TestConnectParams' shapes).
ASYNCPG_CASES: list[tuple[dict[str, Any], dict[str, str]]] = [
    ({"dsn": "postgresql://u@db.invalid:7010/d", "host": "192.0.2.50", "port": 7011}, {}),
    ({"dsn": "postgresql://u@db.invalid/d?sslmode=require", "ssl": False}, {}),
    ({"dsn": "postgresql://u@db.invalid/d", "ssl": "verify-ca"}, {}),
    ({"dsn": "postgresql:///d", "host": ["h1.invalid", "h2.invalid"]}, {"PGPORT": "7012"}),
    ({"dsn": "postgresql://h1.invalid,h2.invalid,h3.invalid/d", "port": [7013, 7014]}, {}),
    ({"dsn": "postgresql:///d"}, {"PGHOST": "h1.invalid:7015,[2001:db8::5]:7016"}),
    ({"dsn": "postgresql:///d?host=%2Ftmp&port=7017"}, {}),
    ({"dsn": "postgresql://us%40r:p%40ss@h%40st1,h%40st2:701%38/d%62"}, {}),
    ({"dsn": "postgresql:///d?host=127.0.0.1:7019,/cloudsql/p:r:i,localhost:7020"}, {}),
    ({"dsn": "postgresql://u@db.invalid/d", "database": "kw", "user": "kwuser"}, {}),
]

# SQLAlchemy: make_url and the dialects' multi-host forms.
SQLALCHEMY_CASES: list[tuple[str, dict[str, str]]] = [
    ("postgresql+psycopg://u@/d?host=h1.invalid:7030&host=h2.invalid:7031", {}),
    ("postgresql+psycopg://u@/d?host=h1.invalid,h2.invalid&port=7032,7033", {}),
    ("postgresql+psycopg://u@/d?host=h1.invalid:7034&host=h2.invalid&port=7035", {}),
    ("postgresql+asyncpg://u@/d?host=h1.invalid:7036&host=h2.invalid:7037", {}),
    ("postgresql+asyncpg://u@/d?host=h1.invalid,h2.invalid&port=7038,", {}),
    ("postgresql+asyncpg://u@/d?host=/cloudsql/p:r:i", {}),
    ("postgresql+psycopg://u@db.invalid:7039/d?user=queryuser&dbname=querydb", {}),
    ("postgresql+psycopg://u:p%40ss@db.invalid/d", {}),
]


@pytest.mark.parametrize(("text", "variables"), LIBPQ_CASES)
def test_libpq_suite_shapes(text: str, variables: dict[str, str], tmp_path: Path) -> None:
    env = Environment.of({"PGUSER": "envuser", **variables})
    with driver_environment(tmp_path), pg_variables(variables):
        found = differences(_model(lambda: parse_dsn(text), "psycopg", env), _libpq_settings(text))
    assert not found, found


@pytest.mark.parametrize(("kwargs", "variables"), ASYNCPG_CASES)
def test_asyncpg_suite_shapes(
    kwargs: dict[str, Any], variables: dict[str, str], tmp_path: Path
) -> None:
    env = Environment.of({"PGUSER": "envuser", **variables})
    with driver_environment(tmp_path), pg_variables(variables):
        model = _model(lambda: from_asyncpg_kwargs(kwargs), "asyncpg", env)
        driver = _asyncpg_settings(**kwargs)
    if driver.error == "ClientConfigurationError" and model.error and "root" in model.error:
        return  # verify-ca without a root: both refuse
    assert not differences(model, driver), (model, driver)


@pytest.mark.parametrize(("url", "variables"), SQLALCHEMY_CASES)
def test_sqlalchemy_suite_shapes(url: str, variables: dict[str, str], tmp_path: Path) -> None:
    env = Environment.of({"PGUSER": "envuser", **variables})
    oracle = _sa_asyncpg if "+asyncpg" in url else _sa_libpq
    with driver_environment(tmp_path), pg_variables(variables):
        model = _model(lambda: from_sqlalchemy_url(url), "sqlalchemy", env)
        driver = oracle(url)
    assert not differences(model, driver), (model, driver)


# --- the versions the model describes, and make_url --------------------------------

MODELLED_VERSIONS = {  # requirements/constraints.txt pins the same
    "asyncpg": "0.32.0",
    "psycopg": "3.3.9",
    "psycopg-binary": "3.3.9",  # bundles libpq 18
    "SQLAlchemy": "2.0.58",
    "sqlalchemy-cockroachdb": "2.0.4",
    "tortoise-orm": "1.1.9",
}


def test_driver_versions_are_pinned_and_installed() -> None:
    """The model describes these versions (docs/conninfo.md, "Driver versions"); a
    different installed or pinned version must be re-checked before this passes."""
    from importlib.metadata import version

    root = Path(__file__).resolve().parents[1]
    pins = dict(
        line.split("==", 1)
        for line in (root / "requirements" / "constraints.txt").read_text().splitlines()
        if "==" in line
    )
    for name, expected in MODELLED_VERSIONS.items():
        assert pins.get(name) == expected, name
        assert version(name) == expected, name
    from psycopg import pq

    assert pq.version() // 10000 == 18  # the libpq whose rules conninfo.libpq follows


def test_sqlalchemy_urls_go_through_make_url() -> None:
    """docs/conninfo.md: a SQLAlchemy URL string is read by SQLAlchemy's own make_url."""
    from unittest import mock

    import sqlalchemy.engine

    real = sqlalchemy.engine.make_url
    with mock.patch.object(sqlalchemy.engine, "make_url", side_effect=real) as spy:
        info = from_sqlalchemy_url("postgresql+asyncpg://u@h1.invalid/d?host=h2.invalid:5")
    spy.assert_called_once()
    assert [h.host for h in info.hosts] == ["h2.invalid"]
