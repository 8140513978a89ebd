"""psycopg 3 with verify-full: connections (sync, async) and pools, psycopg's own objects.

libpq is given sslmode=verify-full, the CA, the client certificate and key as
files, TLS 1.2 as its floor and gssencmode=disable (a GSSAPI-encrypted
session would be encrypted, but not by the TLS this guard verifies). The
files are the guard's snapshot of the last good set (rotation.py): libpq
reads them on every connection, so rotations reach new connections and a bad
rotation never does; each connect holds a lease on its snapshot so no
rotation removes the files while libpq reads them.

Connections are made by the guard's connection classes (libpq_connect.py),
which judge the server (TLS floor, cipher floor, pins) after the handshake
and before libpq sends its StartupMessage; pools get the same classes.
Without a password the guard also sets libpq's `require_auth=none` (libpq
16+), so a password from PGPASSWORD or ~/.pgpass is never sent either.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo

from verifyfull.conninfo.model import names_unix_socket
from verifyfull.errors import InsecureConfigurationError
from verifyfull.guard.adapt import current_loop, reject_reserved, run_soon
from verifyfull.guard.core import Guard, StaleMaterialError
from verifyfull.guard.diagnose import diagnose, hosts_text, recheck_certificate
from verifyfull.guard.libpq_connect import (
    GuardedAsyncConnection,
    GuardedConnection,
    connection_classes,
)
from verifyfull.guard.libpq_ssl import tls_facts
from verifyfull.guard.proof import TLSProof
from verifyfull.guard.rotation import LibpqFiles
from verifyfull.policy import tls_version_name

_STALE_RETRIES = 3

# libpq keywords that would change the transport the guard decides.
_RESERVED = frozenset(
    {
        "host",
        "hostaddr",
        "port",
        "dbname",
        "user",
        "password",
        "passfile",
        "service",
        "sslmode",
        "sslrootcert",
        "sslcert",
        "sslkey",
        "sslcrl",
        "sslcrldir",
        "ssl_min_protocol_version",
        "ssl_max_protocol_version",
        "sslnegotiation",
        "gssencmode",
        "requiressl",
        "require_auth",
        "channel_binding",
    }
)

# libpq 16 added require_auth; older ones reject the keyword.
_HAS_REQUIRE_AUTH = psycopg.pq.version() >= 160000

_classes: weakref.WeakKeyDictionary[
    Guard, tuple[type[GuardedConnection], type[GuardedAsyncConnection]]
] = weakref.WeakKeyDictionary()


def guarded_classes(guard: Guard) -> tuple[type[GuardedConnection], type[GuardedAsyncConnection]]:
    """The guard's connection classes (sync, async), made once per guard."""
    found = _classes.get(guard)
    if found is None:
        password = guard.target.password
        found = connection_classes(
            guard.material.verifier,
            lambda: password.get_secret_value() if password is not None else None,
        )
        _classes[guard] = found
    return found


def libpq_params(guard: Guard, files: LibpqFiles | None = None) -> dict[str, Any]:
    """libpq keyword parameters for the guard's target, without the password."""
    target = guard.target
    files = files or guard.material.libpq_files()
    params: dict[str, Any] = {
        "host": ",".join(h for h, _ in target.hosts),
        "port": ",".join(str(p) for _, p in target.hosts),
        "dbname": target.database,
        "user": target.user,
        "sslmode": target.sslmode,
        "sslrootcert": str(files.ca),
        "ssl_min_protocol_version": tls_version_name(target.policy.min_tls_version),
        "gssencmode": "disable",
        "connect_timeout": max(1, round(target.connect_timeout)),
    }
    if files.cert is not None and files.key is not None:
        params["sslcert"] = str(files.cert)
        params["sslkey"] = str(files.key)
    if target.password is None and _HAS_REQUIRE_AUTH:
        params["require_auth"] = "none"  # no password from PGPASSWORD/.pgpass either
    return params


def conninfo(guard: Guard, files: LibpqFiles | None = None) -> str:
    """A libpq connection string for the guard's target (no password: pass it separately)."""
    return make_conninfo("", **libpq_params(guard, files))


def async_conninfo(guard: Guard) -> Callable[[], Awaitable[str]]:
    """A conninfo callable for async pools: looks at the files off the event loop."""

    async def resolve() -> str:
        if guard.material.due():
            await asyncio.to_thread(guard.material.check)
        return conninfo(guard, guard.material.libpq_files(look=False))

    return resolve


def password_kwargs(guard: Guard) -> dict[str, Any]:
    password = guard.target.password
    return {"password": password.get_secret_value()} if password is not None else {}


def _check_extra(extra: dict[str, Any]) -> None:
    reject_reserved(extra, _RESERVED, "connect")


AnyConnection = psycopg.Connection[Any] | psycopg.AsyncConnection[Any]


def prove_connection(guard: Guard, conn: AnyConnection) -> TLSProof | None:
    """Check the connection's transport is TLS under the policy (raises otherwise)."""
    proof = getattr(conn, "handshake_proof", None)
    if isinstance(proof, TLSProof):
        return guard.accept(proof)  # judged before the StartupMessage
    pgconn = conn.pgconn
    host = f"{pgconn.host.decode(errors='replace')}:{pgconn.port.decode(errors='replace')}"
    if not pgconn.ssl_in_use and names_unix_socket(host) and guard.target.local_hosts:
        guard.accept_local(host)  # an opted-in Unix socket (settings refuse it otherwise)
        return None
    if not pgconn.ssl_in_use:
        return guard.prove(host, None, None, None)
    facts = tls_facts(pgconn.pgconn_ptr)  # type: ignore[attr-defined]
    return guard.prove(host, facts.protocol or "TLS", facts.cipher, facts.server_cert_der)


def _refused(guard: Guard, exc: BaseException) -> BaseException:
    """The driver's failure as the guard's refusal (counted by its rule), or as it is."""
    refused = diagnose(exc, hosts_text(guard.target.hosts))
    if refused is None:
        return exc
    if refused.rule_id == "VF301" and "certificate verify failed" in str(exc):
        target = guard.target
        exact = recheck_certificate(target.hosts, guard.ssl_context(), target.connect_timeout)
        refused = exact or refused
    guard.count_refusal(refused.rule_id)
    return refused


def is_current(guard: Guard, conn: AnyConnection) -> bool:
    """Whether libpq used the current snapshot (a rotation may land mid-handshake)."""
    files = guard.material.current_libpq_files()  # conninfo() has just checked the files
    used = conn.info.get_parameters()
    if files.cert is not None:
        return bool(used.get("sslcert") == str(files.cert))
    return bool(used.get("sslrootcert") == str(files.ca))


def accept_new_connection(guard: Guard, conn: AnyConnection) -> bool:
    """Prove a pool's new connection (raises when not TLS); False when it is stale.

    A pool resolves conninfo and configures the connection in separate calls,
    so the files libpq used are read back from the connection.
    """
    prove_connection(guard, conn)
    return is_current(guard, conn)


def connect(guard: Guard, **extra: Any) -> psycopg.Connection[Any]:
    """psycopg.connect with the guard's target and TLS; extra: other psycopg options."""
    _check_extra(extra)
    sync_class, _ = guarded_classes(guard)
    for _ in range(_STALE_RETRIES):
        with guard.material.lease_libpq_files() as files:
            try:
                conn: psycopg.Connection[Any] = sync_class.connect(
                    **libpq_params(guard, files), **extra
                )
            except psycopg.OperationalError as exc:
                raise _refused(guard, exc) from None
            except InsecureConfigurationError as exc:
                guard.count_refusal(exc.rule_id)  # refused in the handshake: nothing was sent
                raise
        try:
            prove_connection(guard, conn)
            if guard.material.current_libpq_files() is files:  # no rotation meanwhile
                return conn
        except BaseException:
            conn.close()
            raise
        conn.close()
    raise StaleMaterialError()


async def connect_async(guard: Guard, **extra: Any) -> psycopg.AsyncConnection[Any]:
    """psycopg.AsyncConnection.connect with the guard's target and TLS."""
    _check_extra(extra)
    _, async_class = guarded_classes(guard)
    for _ in range(_STALE_RETRIES):
        if guard.material.due():  # stat (and maybe reload) the files off the event loop
            await asyncio.to_thread(guard.material.check)
        with guard.material.lease_libpq_files(look=False) as files:
            try:
                conn: psycopg.AsyncConnection[Any] = await async_class.connect(
                    **libpq_params(guard, files), **extra
                )
            except psycopg.OperationalError as exc:
                raise await asyncio.to_thread(_refused, guard, exc) from None
            except InsecureConfigurationError as exc:
                guard.count_refusal(exc.rule_id)  # refused in the handshake: nothing was sent
                raise
        try:
            prove_connection(guard, conn)
            if guard.material.current_libpq_files() is files:  # no rotation meanwhile
                return conn
        except BaseException:
            await conn.close()
            raise
        await conn.close()
    raise StaleMaterialError()


def create_pool(guard: Guard, *, max_lifetime: float = 3600.0, **pool_kwargs: Any) -> Any:
    """An open psycopg_pool.ConnectionPool; every new connection guarded and proven.

    One guarded connection is made first, so an insecure or unreachable
    target raises its rule here instead of the pool retrying in the
    background. The pool is drained (connections replaced) on rotation.
    """
    from psycopg_pool import ConnectionPool

    _reject_pool_overrides(pool_kwargs)
    connect(guard).close()

    def configure(conn: psycopg.Connection[Any]) -> None:
        try:
            if not accept_new_connection(guard, conn):
                raise StaleMaterialError()  # the pool makes another one
        except BaseException:
            conn.close()
            raise

    pool = ConnectionPool(
        conninfo=lambda: conninfo(guard),
        connection_class=guarded_classes(guard)[0],
        configure=configure,
        max_lifetime=max_lifetime,
        **({"open": True} | pool_kwargs),
    )
    guard.material.on_rotate(pool.drain)
    return pool


def async_pool_configure(
    guard: Guard,
) -> Callable[[psycopg.AsyncConnection[Any]], Awaitable[None]]:
    """A `configure=` hook for async psycopg pools (ours, Tortoise's): prove or discard."""

    async def configure(conn: psycopg.AsyncConnection[Any]) -> None:
        try:
            if not accept_new_connection(guard, conn):
                raise StaleMaterialError()  # the pool makes another one
        except BaseException:
            await conn.close()
            raise

    return configure


async def create_async_pool(
    guard: Guard, *, max_lifetime: float = 3600.0, **pool_kwargs: Any
) -> Any:
    """An open psycopg_pool.AsyncConnectionPool (see create_pool); close it when done."""
    from psycopg_pool import AsyncConnectionPool

    _reject_pool_overrides(pool_kwargs)
    await (await connect_async(guard)).close()

    pool = AsyncConnectionPool(
        conninfo=async_conninfo(guard),
        connection_class=guarded_classes(guard)[1],
        configure=async_pool_configure(guard),
        max_lifetime=max_lifetime,
        open=False,
        **pool_kwargs,
    )
    await pool.open()
    loop = current_loop()
    guard.material.on_rotate(lambda: run_soon(loop, pool.drain))
    return pool


def _reject_pool_overrides(pool_kwargs: dict[str, Any]) -> None:
    reject_reserved(pool_kwargs, ("conninfo", "kwargs", "configure", "connection_class"), "pool")
