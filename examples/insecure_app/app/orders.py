"""Order queries: an asyncpg pool for the API, psycopg for the nightly report."""

import os

import asyncpg
import psycopg

from app.config import get_settings

settings = get_settings()
_pool: asyncpg.Pool | None = None


async def pool() -> asyncpg.Pool:
    global _pool
    if _pool is None:
        _pool = await asyncpg.create_pool(str(settings.database_url), min_size=1, max_size=10)
    return _pool


async def recent_orders(limit: int = 20) -> list[asyncpg.Record]:
    async with (await pool()).acquire() as conn:
        return await conn.fetch("SELECT id, total FROM orders ORDER BY id DESC LIMIT $1", limit)


def nightly_report() -> list[tuple]:
    # The report box sits next to the database, "so TLS is not needed".
    with psycopg.connect("host=crdb port=26257 dbname=orders user=report sslmode=disable") as conn:
        return conn.execute("SELECT count(*), sum(total) FROM orders").fetchall()


def replica_report() -> list[tuple]:
    with psycopg.connect("postgresql://report@replica:26257/orders?sslmode=require") as conn:
        return conn.execute("SELECT count(*) FROM orders").fetchall()


def analytics_report() -> list[tuple]:
    # The analytics replica's URL is whatever the deployment sets (VF108: check it there).
    with psycopg.connect(os.environ["ANALYTICS_DATABASE_URL"]) as conn:
        return conn.execute("SELECT count(*) FROM orders").fetchall()
