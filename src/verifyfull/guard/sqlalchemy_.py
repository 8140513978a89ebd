"""SQLAlchemy engines with verify-full, for the asyncpg and psycopg dialects (and CockroachDB's).

The engine's URL carries only the dialect: every DBAPI connection is made by
the guard's driver adapter (`async_creator` / `creator`), so it is built
with the current TLS material and proven TLS before SQLAlchemy's pool ever
sees it. This sidesteps the URL traps of FACTS.md (`?sslmode=` is a
TypeError under asyncpg, `?ssl=true` a configuration error). After a
certificate rotation every pooled connection older than the rotation is
replaced at its next checkout.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from verifyfull.errors import UsageError
from verifyfull.guard import asyncpg_, psycopg_
from verifyfull.guard.adapt import reject_reserved
from verifyfull.guard.core import Guard

ASYNC_DIALECTS = (
    "postgresql+asyncpg",
    "cockroachdb+asyncpg",
    "postgresql+psycopg",
    "postgresql+psycopg_async",
    "cockroachdb+psycopg",
)
SYNC_DIALECTS = ("postgresql+psycopg", "cockroachdb+psycopg", "postgresql", "cockroachdb")
_RESERVED = ("creator", "async_creator", "connect_args", "url")


def _dialect(name: str, known: tuple[str, ...]) -> str:
    url = make_url(name if "://" in name else f"{name}://")
    if url.host or url.username or url.password is not None or url.query or url.database:
        raise UsageError(
            f"give only the dialect ({url.drivername}), not a full URL",
            "the guard supplies host, user, database and TLS from DB_* or DATABASE_URL",
        )
    if url.drivername not in known:
        raise UsageError(f"dialect {url.drivername!r} is not guarded", f"use one of {known}")
    return url.drivername


def create_guarded_async_engine(
    guard: Guard, dialect: str = "postgresql+asyncpg", **engine_kwargs: Any
) -> AsyncEngine:
    """create_async_engine whose every connection comes from the guard."""
    reject_reserved(engine_kwargs, _RESERVED, "engine")
    drivername = _dialect(dialect, ASYNC_DIALECTS)
    if drivername.endswith("+asyncpg"):

        async def creator() -> Any:
            return await asyncpg_.connect(guard)

    else:
        drivername = drivername.replace("+psycopg_async", "+psycopg")

        async def creator() -> Any:
            return await psycopg_.connect_async(guard)

    engine = create_async_engine(f"{drivername}://", async_creator=creator, **engine_kwargs)
    _recycle_on_rotation(guard, engine.sync_engine)
    return engine


def create_guarded_engine(
    guard: Guard, dialect: str = "postgresql+psycopg", **engine_kwargs: Any
) -> Engine:
    """create_engine (sync, psycopg 3) whose every connection comes from the guard."""
    reject_reserved(engine_kwargs, _RESERVED, "engine")
    drivername = _dialect(dialect, SYNC_DIALECTS)
    if "+" not in drivername:
        drivername += "+psycopg"
    engine = create_engine(
        f"{drivername}://", creator=lambda: psycopg_.connect(guard), **engine_kwargs
    )
    _recycle_on_rotation(guard, engine)
    return engine


def _recycle_on_rotation(guard: Guard, engine: Engine) -> None:
    def recycle() -> None:
        # SQLAlchemy's own mechanism for "every connection older than now is
        # stale" (what Connection.invalidate() sets): checked at each checkout.
        engine.pool._invalidate_time = time.time()

    guard.material.on_rotate(recycle)
