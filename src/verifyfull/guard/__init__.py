"""The guard: every driver connects with verify-full (and mTLS), never falls back, proves it.

    from verifyfull.guard import Guard
    guard = Guard.from_env()                      # DB_* or DATABASE_URL; refuses weak settings
    conn = await verifyfull.guard.asyncpg_.connect(guard)

Driver adapters live in their own modules (asyncpg_, psycopg_, sqlalchemy_,
tortoise_, fastapi) so that importing the guard needs no database driver.
"""

from verifyfull.guard.context import client_context
from verifyfull.guard.core import Guard, StaleMaterialError
from verifyfull.guard.proof import TLSProof
from verifyfull.guard.settings import DatabaseTLSSettings, Target

__all__ = [
    "DatabaseTLSSettings",
    "Guard",
    "StaleMaterialError",
    "TLSProof",
    "Target",
    "client_context",
]
