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
from verifyfull.conninfo.libpq import ConnStringError
from verifyfull.conninfo.model import ConnInfo, Environment, HostPort
from verifyfull.conninfo.service import read_service
from verifyfull.conninfo.sslarg import SSLArgKind
from verifyfull.conninfo.target import resolve_target
from verifyfull.conninfo.versions import PINNED, DriverVersions


@dataclass(frozen=True)
class Effective:
    endpoints: tuple[HostPort, ...]  # in dialling order, ports filled in
    user: str | None
    database: str | None
    sslmode: str | None  # None: no mode string decides (an ssl object, or sockets only)
    sslrootcert: str | None


def effective(
    info: ConnInfo, driver: str | None, env: Environment, versions: DriverVersions = PINNED
) -> Effective:
    """Raises ConnStringError when the driver refuses the service it is sent to."""
    target = resolve_target(info, driver)
    reading = read_service(info, target, env, versions)
    if reading.error is not None:
        raise ConnStringError(reading.error)
    info = reading.info
    user = info.user if info.user is not None else env.get("PGUSER")
    database = info.database if info.database is not None else env.get("PGDATABASE")
    if target.engine == "asyncpg":
        hosts = asyncpg_endpoints(info, env)
        mode = info.param("sslmode") if info.ssl.is_absent else info.ssl.mode
        if info.ssl.kind is SSLArgKind.BOOL:  # asyncpg: False is disable, True verify-full
            mode = "verify-full" if info.ssl.flag else "disable"
        elif info.ssl.kind is SSLArgKind.MAPPING:  # neither a mode, a bool nor a context
            mode = "disable"
        if mode is None and info.ssl.is_absent:
            # Sockets only and nothing said: asyncpg settles on disable.
            mode = env.get("PGSSLMODE") or (
                "prefer" if any(not h.is_unix_socket for h in hosts) else "disable"
            )
    else:
        hosts = libpq_endpoints(info, env)
        root = _written_or(info, "sslrootcert", env.get("PGSSLROOTCERT"))
        system = root == "system" and versions.libpq_for(target.libpq_module).system_root
        default = "verify-full" if system else "prefer"
        mode = _written_or(info, "sslmode", env.get("PGSSLMODE") or default)
    root = _written_or(info, "sslrootcert", env.get("PGSSLROOTCERT"))
    if target.engine == "libpq":
        database = database or user  # an empty dbname is libpq's default: the user name
    elif database is None:
        database = user  # asyncpg keeps an empty path as database ''
    return Effective(hosts, user, database, mode, root)


def _written_or(info: ConnInfo, key: str, default: str | None) -> str | None:
    """A written value, even an empty one, hides the variable (libpq: not NULL)."""
    return info.param(key) if info.has_param(key) else default
