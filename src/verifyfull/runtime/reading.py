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
_PLAIN_TYPES = frozenset(_PLAIN)
# The names, the plain values and their types, each in the call's order: three tuples,
# not a pair per argument (asyncpg passes 22: 22 tuples made, hashed and compared per
# connect). The types because True == 1 == 1.0 (and hash alike): the key tells them
# apart, as the drivers may (asyncpg tests `ssl is True`).
PlainKey = tuple[tuple[str, ...], tuple[object, ...], tuple[object, ...]]


# What the process environment is read from, as cheap to look at as it gets:
# the PG* values as os.environ holds them (encoded; decoded only when the
# Environment is built), the home directory, and stamps of the files.
# Per file (path, mtime ns, ctime ns, size, inode): ctime moves on every write,
# even one that puts the old mtime back (os.utime), and cannot be set.
Stamp = tuple[tuple[str, int, int, int, int], ...]
# The PG* values (encoded) and HOME: read without a system call. The files are
# looked at apart, each only by a judgement that depends on them (judge.py):
# ~/.postgresql/root.crt and postgresql.crt present (home_certs), the service
# files' stamps (service_stamp). A system call costs tens of microseconds with
# the caches cold after a handshake.
EnvKey = tuple[frozenset[tuple[bytes, bytes]], bytes | None]
HomeCerts = tuple[bool, bool]  # ~/.postgresql/root.crt, ~/.postgresql/postgresql.crt
HOME_CASES: tuple[HomeCerts, ...] = ((False, False), (False, True), (True, False), (True, True))

# os.environ's own dict of encoded names and values (CPython's os._Environ):
# the PG* names present are found by one set intersection in C instead of a
# Mapping lookup (encode, decode) per name, which made reading the
# environment half of enforcement's cost.
_RAW_ENVIRON = getattr(os.environ, "_data", None)
_ENCODED_NAMES = frozenset(os.fsencode(name) for name in PG_VARIABLES)
_NO_PG: frozenset[tuple[bytes, bytes]] = frozenset()


def process_environment() -> Environment:
    """`Environment.current()`, cached on everything it reads."""
    key = environment_key()
    if key is None:
        return Environment.current()
    return environment_for(key, home_certs(key), service_stamp(key))


def environment_key() -> EnvKey | None:
    """What Environment.current() is a function of, read afresh; None on Windows
    (APPDATA's postgresql directory: not worth a second path)."""
    if os.name == "nt":
        return None
    raw = _RAW_ENVIRON
    if isinstance(raw, dict):
        # In C throughout (no generator frame): with the caches cold after a
        # handshake every bytecode and object touched costs.
        present = raw.keys() & _ENCODED_NAMES
        pairs = zip(present, map(raw.__getitem__, present), strict=True)  # one set, one order
        pg = frozenset(pairs) if present else _NO_PG
        home = raw.get(b"HOME")
    else:  # another Python's os.environ: the Mapping protocol
        pg = frozenset(
            (os.fsencode(name), os.fsencode(value))
            for name in PG_VARIABLES
            if (value := os.environ.get(name)) is not None
        )
        home = os.fsencode(os.environ["HOME"]) if "HOME" in os.environ else None
    return pg, home


def home_certs(key: EnvKey) -> HomeCerts:
    """Whether ~/.postgresql/root.crt and postgresql.crt are files (looked at now)."""
    pg_dir, root, client = _home_files(key[1])
    try:  # one stat answers for both in the usual case: no ~/.postgresql
        os.stat(pg_dir)
    except OSError:
        return False, False
    return os.path.isfile(root), os.path.isfile(client)


def service_stamp(key: EnvKey) -> Stamp:
    """The stamps of the service files the drivers would read in this environment."""
    pg, home = dict(key[0]), key[1]
    return _stamp(_service_paths(home, pg.get(b"PGSERVICEFILE"), pg.get(b"PGSYSCONFDIR")))


@lru_cache(maxsize=16)
def _home_files(home: bytes | None) -> tuple[str, str, str]:
    """~/.postgresql and its two files, for this HOME (os.path.expanduser reads it)."""
    pg_dir = os.path.expanduser("~/.postgresql")
    return pg_dir, os.path.join(pg_dir, "root.crt"), os.path.join(pg_dir, "postgresql.crt")


@lru_cache(maxsize=16)
def _service_paths(
    home: bytes | None, service_file: bytes | None, sysconfdir: bytes | None
) -> tuple[str, ...]:
    """The service files the drivers would read (conninfo.model.ServiceFiles.read)."""
    return (
        os.fsdecode(service_file) if service_file else os.path.expanduser("~/.pg_service.conf"),
        os.path.join(
            os.fsdecode(sysconfdir) if sysconfdir else LIBPQ_SYSCONFDIR, "pg_service.conf"
        ),
    )


def _stamp(paths: tuple[str, ...]) -> Stamp:
    """Each file's stamp (see Stamp): part of the cache key, so a changed file is read
    again, also one rewritten to the same size with its old time put back."""
    stamp = []
    for path in paths:
        try:
            info = os.stat(path)
        except OSError:
            stamp.append((path, -1, -1, -1, -1))
        else:
            stamp.append((path, info.st_mtime_ns, info.st_ctime_ns, info.st_size, info.st_ino))
    return tuple(stamp)


@lru_cache(maxsize=128)
def environment_for(key: EnvKey, certs: HomeCerts, services: Stamp) -> Environment:
    """The Environment these stand for, built once per distinct triple (the stamp is
    the cache's; the service files are read here)."""
    root, client = certs
    variables = {os.fsdecode(name): os.fsdecode(value) for name, value in key[0]}
    try:
        home: Path | None = Path.home()
    except (RuntimeError, KeyError):
        home = None
    return Environment.of(
        variables,
        home_root_cert=root,
        home_client_cert=client,
        described_as="the current PG* environment",
        services=ServiceFiles.read(variables, home),
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
    key = plain_key(kwargs)
    if key is None:
        return libpq_info(make(conninfo, **kwargs))
    return _libpq_call_info(make, conninfo, key)


@lru_cache(maxsize=256)
def _libpq_call_info(make: Callable[..., str], conninfo: str | None, key: PlainKey) -> ConnInfo:
    return libpq_info(make(conninfo, **dict(zip(key[0], key[1], strict=True))))


def asyncpg_info(kwargs: Mapping[str, object]) -> ConnInfo:
    """asyncpg.connect keyword arguments (dsn included)."""
    key = plain_key(kwargs)
    if key is None:
        return from_asyncpg_kwargs(kwargs, literal=False)
    return _asyncpg_info(key)


@lru_cache(maxsize=256)
def _asyncpg_info(key: PlainKey) -> ConnInfo:
    return from_asyncpg_kwargs(dict(zip(key[0], key[1], strict=True)), literal=False)


def plain_key(kwargs: Mapping[str, object]) -> PlainKey | None:
    """Keyword arguments as a cache key, or None when one is not a plain value
    (an SSLContext can change in place, a callable password answers anew)."""
    values = tuple(kwargs.values())
    types = tuple(map(type, values))
    if _PLAIN_TYPES.issuperset(types):
        # The usual call (asyncpg passes all 19 of its arguments, most None): every
        # value exactly a plain type, checked in C, not one isinstance per argument.
        # In the call's own order, not sorted: a key stands for exactly one mapping
        # either way (the same arguments in another order are one more memo entry,
        # judged alike), and a caller passes them in one order (asyncpg always).
        return tuple(kwargs), values, types
    names: list[str] = []
    plain: list[object] = []
    kinds: list[object] = []
    for name, value in kwargs.items():
        if isinstance(value, list | tuple) and all(isinstance(v, _PLAIN) for v in value):
            value = tuple(value)  # host/port lists; from_asyncpg_kwargs reads tuples alike
            kinds.append(tuple(map(type, value)))  # a tuple of types: never a type itself
        elif isinstance(value, _PLAIN):
            kinds.append(type(value))
        else:
            return None
        names.append(name)
        plain.append(value)
    return tuple(names), tuple(plain), tuple(kinds)


def libpq_key(conninfo: object, kwargs: Mapping[str, object]) -> tuple[object, PlainKey] | None:
    """A libpq driver's (conninfo, **kwargs) as a cache key, or None (see plain_key)."""
    key = plain_key(kwargs)
    return None if key is None or not isinstance(conninfo, _PLAIN) else (conninfo, key)
