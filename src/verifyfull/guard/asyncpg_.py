"""asyncpg with verify-full: `connect` and `create_pool`, each returning asyncpg's own object.

asyncpg uses an SSLContext as given, TLS mandatory, no fallback (FACTS.md),
but it does not re-read one: every new connection here is handed the guard's
current context, so rotated certificates reach new pool connections, and a
rotation expires the pooled ones (they are replaced as they are released).
The guard's context judges the server (TLS floor, cipher floor, pins)
inside the TLS handshake, before asyncpg writes its StartupMessage
(context.py); a refused server has received nothing. The proof made there
is recorded once asyncpg hands the connection over; a connection that is
not TLS at all is closed and the error raised.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from verifyfull.guard.adapt import current_loop, reject_reserved, run_soon
from verifyfull.guard.context import handshake_proof
from verifyfull.guard.core import Guard, StaleMaterialError
from verifyfull.guard.diagnose import diagnose, hosts_text
from verifyfull.guard.proof import TLSProof

_STALE_RETRIES = 3

# Arguments that would change the transport the guard decides.
_RESERVED = frozenset({"dsn", "ssl", "direct_tls", "host", "port", "user", "password", "database"})


def connect_kwargs(guard: Guard, *, look: bool = True) -> dict[str, Any]:
    """asyncpg.connect keyword arguments for the guard's target (current SSLContext).

    look=False: the caller has just looked at the files (off the event loop)."""
    target = guard.target
    hosts = [h for h, _ in target.hosts]
    ports = [p for _, p in target.hosts]
    kwargs: dict[str, Any] = {
        "host": hosts if len(hosts) > 1 else hosts[0],
        "port": ports if len(ports) > 1 else ports[0],
        "user": target.user,
        "database": target.database,
        "ssl": guard.ssl_context() if look else guard.material.current_context(),
        "timeout": target.connect_timeout,
    }
    if target.password is not None:
        kwargs["password"] = target.password.get_secret_value()
    return kwargs


def _check_extra(extra: dict[str, Any]) -> None:
    reject_reserved(extra, _RESERVED, "connect")


def prove_connection(guard: Guard, conn: asyncpg.Connection) -> TLSProof | None:
    """Check the connection's transport is TLS under the policy (raises otherwise)."""
    transport = getattr(conn, "_transport", None)
    ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
    if ssl_object is not None and (proof := handshake_proof(ssl_object)) is not None:
        return guard.accept(proof)  # judged in the handshake, before the StartupMessage
    peer = transport.get_extra_info("peername") if transport is not None else None
    sock = transport.get_extra_info("socket") if transport is not None else None
    unix = ssl_object is None and sock is not None and sock.family == socket.AF_UNIX
    if unix and guard.target.local_hosts:  # opted in (settings refuse it otherwise)
        guard.accept_local(str(peer or guard.target.local_hosts[0]))
        return None
    host = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else hosts_text(guard.target.hosts)
    if ssl_object is None:
        return guard.prove(host, None, None, None)
    cipher = ssl_object.cipher()
    return guard.prove(
        host,
        ssl_object.version(),
        cipher[0] if cipher else None,
        ssl_object.getpeercert(binary_form=True),
    )


async def _connect(guard: Guard, **extra: Any) -> asyncpg.Connection:
    # A handshake that began before a rotation completes with the old
    # certificate: such a connection is dropped and made again, so every
    # connection handed out was built from the current set.
    for _ in range(_STALE_RETRIES):
        if guard.material.due():  # stat (and maybe reload) the files off the event loop
            await asyncio.to_thread(guard.material.check)
        kwargs = connect_kwargs(guard, look=False)
        try:
            conn = await asyncpg.connect(**kwargs, **extra)
        except Exception as exc:
            refused = diagnose(exc, hosts_text(guard.target.hosts))
            if refused is None:
                raise
            guard.count_refusal(refused.rule_id)
            raise refused from None
        try:
            prove_connection(guard, conn)
        except BaseException:
            conn.terminate()  # never used: no query, no graceful close over a bad channel
            raise
        if guard.material.current_context() is kwargs["ssl"]:
            return conn
        await conn.close()
    raise StaleMaterialError()


async def connect(guard: Guard, **extra: Any) -> asyncpg.Connection:
    """asyncpg.connect with the guard's target and TLS; extra: other asyncpg options."""
    _check_extra(extra)
    return await _connect(guard, **extra)


def pool_connect(guard: Guard) -> Callable[..., Awaitable[asyncpg.Connection]]:
    """A `connect=` hook for asyncpg pools (ours, Tortoise's): every connection guarded.

    Where the connection goes and how it is secured comes from the guard;
    what a pool passes for those (host, port, user, password, ssl, dsn) is
    dropped, the rest (server_settings, connection_class ...) kept.
    """

    async def guarded_connect(*_dsn: Any, **kwargs: Any) -> asyncpg.Connection:
        for key in (*_RESERVED, "loop"):
            kwargs.pop(key, None)
        return await _connect(guard, **kwargs)

    return guarded_connect


async def create_pool(
    guard: Guard, *, max_connection_age: float | None = None, **pool_kwargs: Any
) -> asyncpg.Pool:
    """asyncpg.create_pool whose every new connection is guarded and proven.

    After a certificate rotation, pooled connections are expired (replaced
    on release). max_connection_age bounds how long an idle connection lives
    (max_inactive_connection_lifetime) when not given explicitly.
    """
    _check_extra(pool_kwargs)
    reject_reserved(pool_kwargs, ("connect",), "pool")
    if max_connection_age is not None:
        pool_kwargs.setdefault("max_inactive_connection_lifetime", max_connection_age)

    pool = await asyncpg.create_pool(connect=pool_connect(guard), **pool_kwargs)
    loop = current_loop()
    guard.material.on_rotate(lambda: run_soon(loop, pool.expire_connections))
    return pool
