"""FastAPI wiring: one lifespan, one dependency per kind of handle, one health route.

    app = FastAPI(lifespan=database_lifespan(sqlalchemy_dialect="cockroachdb+asyncpg"))
    app.include_router(health_router())

    @app.get("/users")
    async def users(session: AsyncSession = Depends(db_session)): ...

The lifespan reads DatabaseTLSSettings, refuses an insecure configuration,
builds the engine and/or asyncpg pool, proves one connection before the app
takes traffic (so an app that cannot reach its database securely does not
start: the error line names the rule), and polls for certificate rotation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.middleware.httpsredirect import HTTPSRedirectMiddleware

from verifyfull.errors import VerifyfullError
from verifyfull.guard.core import Guard
from verifyfull.guard.settings import DatabaseTLSSettings

log = logging.getLogger("verifyfull.guard")

STATE_KEY = "verifyfull"
NextHandler = Callable[[Request], Awaitable[Response]]


@dataclass
class GuardedDatabase:
    """What the lifespan puts on app.state.verifyfull."""

    guard: Guard
    engine: AsyncEngine | None = None
    sessions: async_sessionmaker[AsyncSession] | None = None
    pool: Any = None  # asyncpg.Pool
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def ping(self) -> None:
        """One round trip through each handle (a new connection is proven on creation)."""
        if self.engine is not None:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        if self.pool is not None:
            await self.pool.fetchval("SELECT 1")

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        if self.engine is not None:
            await self.engine.dispose()
        if self.pool is not None:
            await self.pool.close()
        self.guard.close()


class OneLineStartupErrors:
    """ASGI middleware: when the guard refuses to start, keep stderr to its one line.

    Starlette reports a failed lifespan start-up to the server with the full
    traceback text, which uvicorn prints after the guard's own line. For a
    verifyfull refusal that traceback says nothing more, so it is dropped;
    any other start-up failure is passed on untouched.

        app.add_middleware(OneLineStartupErrors)
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def send_concise(message: Any) -> None:
            if message.get("type") == "lifespan.startup.failed" and "verifyfull.errors." in str(
                message.get("message", "")
            ):
                message = {**message, "message": ""}
            await send(message)

        await self.app(scope, receive, send_concise)


def database_lifespan(
    *,
    settings: DatabaseTLSSettings | None = None,
    sqlalchemy_dialect: str | None = "postgresql+asyncpg",
    asyncpg_pool: bool = False,
    engine_kwargs: dict[str, Any] | None = None,
    pool_kwargs: dict[str, Any] | None = None,
) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
    """A FastAPI lifespan building guarded handles; refuses to start when insecure."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        config = settings or DatabaseTLSSettings()
        try:
            database = await _open(
                config, sqlalchemy_dialect, asyncpg_pool, engine_kwargs, pool_kwargs
            )
        except VerifyfullError as exc:
            # One line a human reads first; uvicorn then reports the failed start.
            print(f"verifyfull: refusing to start: {exc}", file=sys.stderr, flush=True)
            raise exc.with_traceback(None) from None  # the driver's frames help nobody here
        except OSError as exc:  # refused, unreachable, timed out: no secret in these texts
            unreachable = VerifyfullError(
                f"cannot reach the database: {type(exc).__name__}: {exc.strerror or exc}",
                "check DB_HOST/DB_PORT (or DATABASE_URL) and that the server is running",
            )
            print(f"verifyfull: refusing to start: {unreachable}", file=sys.stderr, flush=True)
            raise unreachable from None
        except Exception as exc:
            # A driver error of another kind: its text may quote the connection
            # string (psycopg does), so only its type is shown.
            failed = VerifyfullError(
                f"the database connection failed at start-up ({type(exc).__name__})",
                "check the database settings and the server log",
            )
            print(f"verifyfull: refusing to start: {failed}", file=sys.stderr, flush=True)
            raise failed from None
        setattr(app.state, STATE_KEY, database)
        try:
            yield
        finally:
            await database.close()

    return lifespan


async def _open(
    config: DatabaseTLSSettings,
    dialect: str | None,
    asyncpg_pool: bool,
    engine_kwargs: dict[str, Any] | None,
    pool_kwargs: dict[str, Any] | None,
) -> GuardedDatabase:
    guard = Guard.from_env(config)
    database = GuardedDatabase(guard)
    try:
        if dialect is not None:
            from verifyfull.guard.sqlalchemy_ import create_guarded_async_engine

            kwargs = {"pool_recycle": config.pool_recycle_seconds, "pool_pre_ping": True}
            database.engine = create_guarded_async_engine(
                guard, dialect, **(kwargs | (engine_kwargs or {}))
            )
            database.sessions = async_sessionmaker(database.engine, expire_on_commit=False)
        if asyncpg_pool:
            from verifyfull.guard import asyncpg_

            database.pool = await asyncpg_.create_pool(
                guard,
                max_connection_age=config.pool_recycle_seconds,
                **({"min_size": 1, "max_size": 10} | (pool_kwargs or {})),
            )
        await database.ping()
    except BaseException:
        await database.close()
        raise
    watcher = asyncio.create_task(guard.material.watch(config.rotation_check_seconds))
    database.tasks.append(watcher)
    log.info("database connection verified: %s", guard.target.describe())
    return database


def guarded(request: Request) -> GuardedDatabase:
    database = getattr(request.app.state, STATE_KEY, None)
    if database is None:
        raise RuntimeError("database_lifespan() is not the app's lifespan")
    return database  # type: ignore[no-any-return]


async def db_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Dependency: an AsyncSession on the guarded engine."""
    database = guarded(request)
    if database.sessions is None:
        raise RuntimeError("database_lifespan(sqlalchemy_dialect=None) built no engine")
    async with database.sessions() as session:
        yield session


async def db_connection(request: Request) -> AsyncIterator[Any]:
    """Dependency: an asyncpg connection from the guarded pool."""
    database = guarded(request)
    if database.pool is None:
        raise RuntimeError("database_lifespan(asyncpg_pool=True) is needed for db_connection")
    async with database.pool.acquire() as conn:
        yield conn


def health_router(path: str = "/healthz/db", *, timeout: float = 5.0) -> APIRouter:
    """GET path: TLS mode, version, cipher, certificate days left, last rotation; no secrets."""
    router = APIRouter()

    @router.get(path)
    async def database_health(request: Request, response: Response) -> dict[str, Any]:
        database = guarded(request)
        status, error = "ok", None
        try:
            await asyncio.wait_for(database.ping(), timeout)
        except VerifyfullError as exc:
            status, error = "refused", getattr(exc, "rule_id", None) or "error"
        except Exception as exc:
            status, error = "unavailable", type(exc).__name__
        if status != "ok":
            response.status_code = 503
        return {"status": status, "error": error, **database.guard.health()}

    return router


def enforce_https(app: FastAPI, *, hsts_seconds: int = 180 * 24 * 3600) -> None:
    """Redirect HTTP to HTTPS and send Strict-Transport-Security (VF207, VF208)."""

    async def hsts(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers.setdefault(
            "Strict-Transport-Security", f"max-age={hsts_seconds}; includeSubDomains"
        )
        return response

    app.add_middleware(BaseHTTPMiddleware, dispatch=hsts)
    app.add_middleware(HTTPSRedirectMiddleware)
