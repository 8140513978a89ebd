"""A connect call's inputs as conninfo reads them, memoised for pools and busy services.

Parsing a connection string, scanning the process environment and walking
to a ConnInfo are pure functions of their inputs; a pool or a service makes
the same connection over and over. Each is cached on exactly what it reads,
so a changed environment variable or argument is read afresh, never served
stale. Arguments that are not plain values (an SSLContext, which can be
changed in place; a callable password) are read every time.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path

from verifyfull.conninfo import ConnInfo, Environment, from_asyncpg_kwargs, parse_dsn
from verifyfull.conninfo.model import LIBPQ_SYSCONFDIR, PG_VARIABLES, ServiceFiles

_PLAIN = (str, int, float, bool, type(None))


def process_environment() -> Environment:
    """`Environment.current()`, cached on the PG* values and the two home files."""
    if os.name == "nt":  # APPDATA's postgresql directory: not worth a second path
        return Environment.current()
    pg = _pg_values()
    home = os.path.expanduser("~/.postgresql")
    root = os.path.isfile(os.path.join(home, "root.crt"))
    client = os.path.isfile(os.path.join(home, "postgresql.crt"))
    return _environment(pg, root, client, _service_files_stamp(dict(pg)))


def _service_files_stamp(pg: dict[str, str]) -> tuple[tuple[str, float, int], ...]:
    """The service files the drivers would read, by (path, mtime, size): the cache key,
    so a changed file is read again (conninfo.model.ServiceFiles.read)."""
    paths = [
        pg.get("PGSERVICEFILE") or os.path.expanduser("~/.pg_service.conf"),
        os.path.join(pg.get("PGSYSCONFDIR") or LIBPQ_SYSCONFDIR, "pg_service.conf"),
    ]
    stamp = []
    for path in paths:
        try:
            info = os.stat(path)
        except OSError:
            stamp.append((path, -1.0, -1))
        else:
            stamp.append((path, info.st_mtime, info.st_size))
    return tuple(stamp)


# os.environ's own dict of encoded names and values (CPython's os._Environ): one
# dict lookup per variable instead of the Mapping protocol's encode/decode
# round trips, which made reading the environment half of enforcement's cost.
_RAW_ENVIRON = getattr(os.environ, "_data", None)
_ENCODED_NAMES = tuple((name, os.fsencode(name)) for name in PG_VARIABLES)


def _pg_values() -> tuple[tuple[str, str], ...]:
    if isinstance(_RAW_ENVIRON, dict) and os.name != "nt":
        raw = _RAW_ENVIRON
        return tuple(
            (name, os.fsdecode(value))
            for name, encoded in _ENCODED_NAMES
            if (value := raw.get(encoded)) is not None
        )
    get = os.environ.get
    return tuple((name, value) for name in PG_VARIABLES if (value := get(name)) is not None)


@lru_cache(maxsize=64)
def _environment(
    pg: tuple[tuple[str, str], ...],
    root: bool,
    client: bool,
    services: tuple[tuple[str, float, int], ...],
) -> Environment:
    try:
        home: Path | None = Path.home()
    except (RuntimeError, KeyError):
        home = None
    return Environment.of(
        dict(pg),
        home_root_cert=root,
        home_client_cert=client,
        described_as="the current PG* environment",
        services=ServiceFiles.read(dict(pg), home),
    )


@lru_cache(maxsize=256)
def libpq_info(conninfo: str) -> ConnInfo:
    """A libpq connection string as the drivers built on libpq receive it."""
    return parse_dsn(conninfo, literal=False)


def libpq_call_info(
    make: Callable[..., str], conninfo: str | None, kwargs: Mapping[str, object]
) -> ConnInfo:
    """What a libpq driver's connect(conninfo, **kwargs) hands libpq, read by conninfo.

    make: the driver's own merge (psycopg's make_conninfo, psycopg2's make_dsn),
    which also validates the string as libpq would (its error is the driver's).
    """
    key = _plain_key(kwargs)
    if key is None:
        return libpq_info(make(conninfo, **kwargs))
    return _libpq_call_info(make, conninfo, key)


@lru_cache(maxsize=256)
def _libpq_call_info(
    make: Callable[..., str], conninfo: str | None, key: tuple[tuple[str, object], ...]
) -> ConnInfo:
    return libpq_info(make(conninfo, **dict(key)))


def asyncpg_info(kwargs: Mapping[str, object]) -> ConnInfo:
    """asyncpg.connect keyword arguments (dsn included)."""
    key = _plain_key(kwargs)
    if key is None:
        return from_asyncpg_kwargs(kwargs, literal=False)
    return _asyncpg_info(key)


@lru_cache(maxsize=256)
def _asyncpg_info(key: tuple[tuple[str, object], ...]) -> ConnInfo:
    return from_asyncpg_kwargs(dict(key), literal=False)


def _plain_key(kwargs: Mapping[str, object]) -> tuple[tuple[str, object], ...] | None:
    items: list[tuple[str, object]] = []
    for name, value in kwargs.items():
        if isinstance(value, list | tuple) and all(isinstance(v, _PLAIN) for v in value):
            value = tuple(value)  # host/port lists; from_asyncpg_kwargs reads tuples alike
        elif not isinstance(value, _PLAIN):
            return None
        items.append((name, value))
    return tuple(sorted(items))
