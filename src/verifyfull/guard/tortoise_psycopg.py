"""A Tortoise engine module: Tortoise's psycopg backend with the guard's connection class.

Tortoise builds its psycopg pool with `psycopg.AsyncConnection` (or its own
subclass for a callable password) and gives a `connection_class` credential
no way into the pool. This engine is Tortoise's client with one change: the
pool is made with the connection class from the credentials, the guard's,
which judges the server before the StartupMessage (libpq_connect.py).
Named as `"engine": "verifyfull.guard.tortoise_psycopg"` by tortoise_.py.
"""

from __future__ import annotations

from typing import Any

from tortoise.backends.psycopg.client import PsycopgClient


class GuardedPsycopgClient(PsycopgClient):
    async def create_pool(self, **kwargs: Any) -> Any:
        if self.connection_class is not None:
            kwargs["connection_class"] = self.connection_class
        return await super().create_pool(**kwargs)


client_class = GuardedPsycopgClient
