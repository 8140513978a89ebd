"""The FastAPI application."""

from fastapi import Depends, FastAPI
from sqlalchemy import text
from tortoise.contrib.fastapi import register_tortoise

from app.db import get_session
from app.orders import recent_orders
from app.security import new_api_token
from app.users import fetch_users

app = FastAPI(title="orders")

# Tortoise for the audit log; `ssl=false` because "the DB is internal".
register_tortoise(
    app,
    db_url="asyncpg://audit@crdb:26257/audit?ssl=false",
    modules={"models": ["app.audit_models"]},
)


@app.get("/health")
async def health(session=Depends(get_session)) -> dict[str, str]:
    await session.execute(text("SELECT 1"))
    return {"status": "ok"}


@app.get("/users")
async def users() -> list[dict]:
    return [dict(r) for r in await fetch_users()]


@app.get("/orders")
async def orders() -> list[dict]:
    return [dict(r) for r in await recent_orders()]


@app.post("/tokens")
async def token() -> dict[str, str]:
    return {"token": new_api_token()}
