"""The settings a driver ends up with: endpoints, user, database, sslmode, root certificate.

One frozen `Effective` per (connection, driver, environment), after the
driver's own defaults and PG* variables. The verdict's rules use the same
endpoint lists (conninfo.endpoints); this view exists so the model can be
compared field by field with what the real drivers compute
(tests/test_conninfo_differential.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from verifyfull.conninfo.endpoints import asyncpg_endpoints, libpq_endpoints
from verifyfull.conninfo.model import ConnInfo, Environment, HostPort
from verifyfull.conninfo.target import resolve_target


@dataclass(frozen=True)
class Effective:
    endpoints: tuple[HostPort, ...]  # in dialling order, ports filled in
    user: str | None
    database: str | None
    sslmode: str | None  # None: no mode string decides (an ssl object, or sockets only)
    sslrootcert: str | None


def effective(info: ConnInfo, driver: str | None, env: Environment) -> Effective:
    target = resolve_target(info, driver)
    user = info.user or info.param("user") or env.get("PGUSER")
    database = info.database if info.database is not None else env.get("PGDATABASE")
    if target.engine == "asyncpg":
        hosts = asyncpg_endpoints(info, env)
        mode = info.param("sslmode") if info.ssl.is_absent else info.ssl.mode
        if mode is None and info.ssl.is_absent:
            # Sockets only and nothing said: asyncpg settles on disable.
            mode = env.get("PGSSLMODE") or (
                "prefer" if any(not h.is_unix_socket for h in hosts) else "disable"
            )
    else:
        hosts = libpq_endpoints(info, env)
        mode = info.param("sslmode") or env.get("PGSSLMODE") or "prefer"
    root = info.param("sslrootcert") or env.get("PGSSLROOTCERT")
    return Effective(hosts, user, database or user, mode, root)
