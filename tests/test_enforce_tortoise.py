"""Tortoise ORM under enforcement, both backends, configured as Tortoise users write it.

Tortoise reaches the drivers through asyncpg.create_pool and psycopg_pool:
enforcement sees those connections without knowing about Tortoise.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from typing import Any

import pytest
from tortoise import Tortoise
from tortoise.exceptions import DBConnectionError

import verifyfull
from verifyfull.runtime import ConnectionRefusedByPolicy

pytestmark = [
    pytest.mark.pg,
    # Tortoise wants an app with a models module; none is needed here (this one has none).
    pytest.mark.filterwarnings("ignore:Module .* has no models:RuntimeWarning"),
]

ENGINES = {"asyncpg": "tortoise.backends.asyncpg", "psycopg": "tortoise.backends.psycopg"}


@pytest.fixture
async def closing() -> AsyncIterator[None]:
    yield
    await Tortoise.close_connections()


def _config(server: Any, backend: str, **credentials: Any) -> dict[str, Any]:
    return {
        "connections": {
            "default": {
                "engine": ENGINES[backend],
                "credentials": {
                    "host": server.hostname,
                    "port": server.port,
                    "user": server.password_user,
                    "password": server.password,
                    "database": server.database,
                    **credentials,
                },
            }
        },
        "apps": {"models": {"models": [__name__], "default_connection": "default"}},
    }


@pytest.mark.parametrize("backend", list(ENGINES))
async def test_tortoise_default_ssl_is_refused(lab: Any, backend: str, closing: None) -> None:
    """Tortoise's default (no ssl) is the driver's prefer: VF102, refused before any byte."""
    server = lab("secure")
    handle = verifyfull.enforce("refuse")
    try:
        # psycopg_pool retries a refused connect in the background until its timeout.
        await Tortoise.init(config=_config(server, backend, minsize=1, maxsize=1, timeout=0.5))
        with pytest.raises((ConnectionRefusedByPolicy, DBConnectionError)):
            await Tortoise.get_connection("default").execute_query_dict("SELECT 1")
    finally:
        handle.stop()
    record = handle.connections[-1]
    assert (record.driver, record.rule_ids, record.refused) == (backend, ("VF102",), True)


async def test_tortoise_asyncpg_with_a_verifying_context_is_recorded_verified(
    lab: Any, closing: None
) -> None:
    server = lab("secure")
    context = ssl.create_default_context(cafile=str(server.certs_dir / "ca.crt"))
    handle = verifyfull.enforce("refuse")
    try:
        await Tortoise.init(config=_config(server, "asyncpg", ssl=context, minsize=1, maxsize=1))
        rows = await Tortoise.get_connection("default").execute_query_dict("SELECT 1 AS one")
    finally:
        handle.stop()
    assert rows == [{"one": 1}]
    record = handle.connections[-1]
    assert record.driver == "asyncpg" and record.verified, record


async def test_tortoise_psycopg_context_trap_fails_closed_and_is_never_verified(
    lab: Any, closing: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """FACTS.md: Tortoise's psycopg backend takes only sslmode from a context; its CA never
    reaches libpq, which then looks for ~/.postgresql/root.crt and fails. conninfo names
    that as `breaks` without a finding, so enforcement (which refuses findings, as explain
    reports them) lets libpq fail closed on its own: no connection is made."""
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.postgresql/root.crt
    server = lab("secure")
    context = ssl.create_default_context(cafile=str(server.certs_dir / "ca.crt"))
    handle = verifyfull.enforce("refuse")
    try:
        config = _config(server, "psycopg", ssl=context, minsize=1, maxsize=1, timeout=0.5)
        await Tortoise.init(config=config)
        with pytest.raises(DBConnectionError):
            await Tortoise.get_connection("default").execute_query_dict("SELECT 1")
    finally:
        handle.stop()
    assert not [r for r in handle.connections if r.tls_version is not None]
