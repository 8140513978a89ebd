"""The seed document's two remediation snippets, rewritten with verifyfull.guard.

Before (seed): example 1 put sslmode/sslcert/... in a postgresql+asyncpg URL
(TypeError at first connect, and verify-ca at that); example 2 passed asyncpg
a dict as ssl (TypeError). After: the same environment variables, verify-full
with the client certificate, refusal instead of fallback, proof of TLS.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from verifyfull.guard import Guard, asyncpg_
from verifyfull.guard.sqlalchemy_ import create_guarded_async_engine


# Example 1: SQLAlchemy with asyncpg and TLS (DB_HOST, DB_PORT, DB_NAME, DB_USER,
# DB_CERT_PATH, DB_KEY_PATH, DB_CA_PATH from the environment, as in the seed).
def make_engine() -> tuple[AsyncEngine, async_sessionmaker[AsyncSession]]:
    guard = Guard.from_env()  # refuses anything weaker than verify-full, checks the files
    engine = create_guarded_async_engine(guard, "cockroachdb+asyncpg")
    return engine, async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


# Example 2: direct asyncpg with TLS.
async def fetch_users() -> list[tuple[str, str]]:
    guard = Guard.from_env()
    conn = await asyncpg_.connect(guard)  # ssl=<verify-full SSLContext>, proven TLS
    try:
        rows = await conn.fetch("SELECT username, email FROM users WHERE active = $1", True)
        return [(row["username"], row["email"]) for row in rows]
    finally:
        await conn.close()


if __name__ == "__main__":
    for user in asyncio.run(fetch_users()):
        print(user)
