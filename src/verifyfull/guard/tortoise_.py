"""Tortoise ORM config with verify-full, for its asyncpg and psycopg backends.

Tortoise passes unknown credential keys through to the pool it creates, and
that is the seam used here: for asyncpg a `connect=` hook (every connection
made by the guard, with the current SSLContext, and proven), for psycopg a
`conninfo` callable (libpq gets the guard's files, which Tortoise's own
ssl handling does not pass: FACTS.md), the guard's connection class (server
judged before the StartupMessage) and a `configure` hook that records the
proof. `init_tortoise` also expires the pool on each rotation, and
idle pooled connections are replaced after `max_connection_age` seconds.

    await Tortoise.init(config=tortoise_config(guard, apps={...}))
"""

from __future__ import annotations

from typing import Any, Literal

from verifyfull.errors import UsageError
from verifyfull.guard import asyncpg_, psycopg_
from verifyfull.guard.adapt import current_loop, run_soon
from verifyfull.guard.core import Guard

Backend = Literal["asyncpg", "psycopg"]
_ENGINES = {
    "asyncpg": "tortoise.backends.asyncpg",
    "psycopg": "verifyfull.guard.tortoise_psycopg",  # pools with the guard's connection class
}


def tortoise_credentials(
    guard: Guard, backend: Backend = "asyncpg", *, max_connection_age: float = 300.0
) -> dict[str, Any]:
    """The `credentials` of one Tortoise connection, guarded."""
    target = guard.target
    host, port = target.hosts[0]  # Tortoise wants one; the guard's hooks dial them all
    base: dict[str, Any] = {
        "host": host,
        "port": port,
        "user": target.user,
        "database": target.database,
    }
    if backend == "asyncpg":
        # No password here: Tortoise would hand it to the hook, which takes the guard's.
        return base | {
            "connect": asyncpg_.pool_connect(guard),
            "max_inactive_connection_lifetime": max_connection_age,
        }
    if backend == "psycopg":
        return base | {
            # The guard's connection class adds the password per connection (never in
            # conninfo) and judges the server before the StartupMessage.
            "password": None,
            "connection_class": psycopg_.guarded_classes(guard)[1],
            "conninfo": psycopg_.async_conninfo(guard),
            "configure": psycopg_.async_pool_configure(guard),
            "max_lifetime": max_connection_age,
        }
    raise UsageError(f"unknown Tortoise backend {backend!r}", "use 'asyncpg' or 'psycopg'")


def tortoise_config(
    guard: Guard,
    *,
    apps: dict[str, Any],
    backend: Backend = "asyncpg",
    connection: str = "default",
    max_connection_age: float = 300.0,
) -> dict[str, Any]:
    """A whole Tortoise config dict with one guarded connection named `connection`."""
    credentials = tortoise_credentials(guard, backend, max_connection_age=max_connection_age)
    return {
        "connections": {connection: {"engine": _ENGINES[backend], "credentials": credentials}},
        "apps": apps,
    }


async def init_tortoise(
    guard: Guard,
    *,
    apps: dict[str, Any],
    backend: Backend = "asyncpg",
    connection: str = "default",
    max_connection_age: float = 300.0,
) -> None:
    """Tortoise.init with the guarded config, after one guarded connection.

    The first connection is made here so that a refusal raises its rule
    (Tortoise's psycopg backend would turn it into a generic pool timeout).
    """
    from tortoise import Tortoise

    if backend == "psycopg":
        await (await psycopg_.connect_async(guard)).close()
    else:
        await (await asyncpg_.connect(guard)).close()
    config = tortoise_config(
        guard,
        apps=apps,
        backend=backend,
        connection=connection,
        max_connection_age=max_connection_age,
    )
    # verifyfull: ignore[VF102,VF105] connect=/conninfo hooks make every connection verify-full
    await Tortoise.init(config=config)
    client = Tortoise.get_connection(connection)
    loop = current_loop()
    # Tortoise's own hook for replacing pooled connections, run on each rotation.
    guard.material.on_rotate(lambda: run_soon(loop, client._expire_connections))  # type: ignore[attr-defined]
