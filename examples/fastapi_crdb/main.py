"""A small FastAPI service on CockroachDB (or PostgreSQL) whose database link is verify-full.

Run from the project root:

    DB_HOST=localhost DB_PORT=26257 DB_NAME=defaultdb DB_USER=app \
    DB_CA_PATH=certs/ca.crt DB_CERT_PATH=certs/client.app.crt DB_KEY_PATH=certs/client.app.key \
    uvicorn examples.fastapi_crdb.main:app

Configured only through the environment: the seed's DB_* variables, plus
DB_PASSWORD or DB_PASSWORD_FILE for password authentication (see
docs/guard.md for the rest). GET /users reads through SQLAlchemy async,
GET /users/raw through a raw asyncpg pool, GET /healthz/db reports the TLS
facts. When the database cannot be reached securely the app does not start:
uvicorn exits non-zero and stderr names the rule (e.g. VF201, VF301).
"""

from __future__ import annotations

import os
from typing import Annotated, Any

from fastapi import Depends, FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from verifyfull.guard.fastapi import (
    OneLineStartupErrors,
    database_lifespan,
    db_connection,
    db_session,
    health_router,
)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str]
    email: Mapped[str]
    active: Mapped[bool]


app = FastAPI(
    title="fastapi_crdb",
    lifespan=database_lifespan(
        sqlalchemy_dialect=os.environ.get("DB_DIALECT", "cockroachdb+asyncpg"),
        asyncpg_pool=True,
    ),
)
app.include_router(health_router("/healthz/db"))
app.add_middleware(OneLineStartupErrors)  # a refusal prints one line, not a traceback


@app.get("/users")
async def list_users(session: Annotated[AsyncSession, Depends(db_session)]) -> list[dict[str, Any]]:
    """Active users, through SQLAlchemy (the seed's example 1, fixed)."""
    query = select(User).where(User.active.is_(True)).order_by(User.id)
    users = (await session.execute(query)).scalars()
    return [{"username": u.username, "email": u.email} for u in users]


@app.get("/users/raw")
async def list_users_raw(conn: Annotated[Any, Depends(db_connection)]) -> list[dict[str, Any]]:
    """Active users, through raw asyncpg (the seed's example 2, fixed)."""
    rows = await conn.fetch("SELECT username, email FROM users WHERE active = $1 ORDER BY id", True)
    return [dict(row) for row in rows]
