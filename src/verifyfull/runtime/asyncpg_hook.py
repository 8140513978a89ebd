"""asyncpg: the one choke point is `connect_utils._connect`.

`asyncpg.connect`, every pool (`create_pool`, whose connections go through
`connection.connect`), SQLAlchemy's asyncpg dialect, Tortoise and databases
all end in `connect_utils._connect(loop=, connection_class=, record_class=,
**kwargs)`, with the caller's real keyword arguments (dsn, host, ssl, ...)
still in kwargs. It is looked up on the module at each call, so wrapping it
there catches references taken before enforcement started.

The live handshake's facts (peer, protocol, cipher, server certificate) are
read as soon as the TLS handshake is done, inside `connect_utils.
_create_ssl_connection` (also looked up at each call): asyncpg has just sent the
StartupMessage and waits milliseconds for the server to authenticate and start
the backend, so the read costs the connect no wall time (session 9: about
25-33 µs after it). They are used only for the connection built on that very
transport; the proof and the record stay after the connect, as before.
"""

from __future__ import annotations

import contextlib
import importlib
import ssl
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from types import ModuleType
from typing import Any

from verifyfull.runtime.active import current
from verifyfull.runtime.judge import LiveFacts
from verifyfull.runtime.patch import Patch, replace_attribute
from verifyfull.runtime.reading import asyncpg_info, plain_key


def _wrap(original: Callable[..., Any]) -> Callable[..., Any]:
    # connect_utils._connect(*, loop, connection_class, record_class, **kwargs) in
    # every asyncpg this supports: the call itself sets the three apart from the
    # driver's arguments (no dict built per connect to filter them).
    async def _connect(
        *, loop: Any, connection_class: Any, record_class: Any, **kwargs: Any
    ) -> Any:
        enforcement = current()
        if enforcement is None:
            return await original(
                loop=loop, connection_class=connection_class, record_class=record_class, **kwargs
            )
        key = plain_key(kwargs)  # None with an SSLContext (not a plain value): read every time
        attempt = enforcement.begin(
            "asyncpg",
            "asyncpg",
            lambda: asyncpg_info(kwargs),
            key=key,
            ssl_context=key is None and isinstance(kwargs.get("ssl"), ssl.SSLContext),
        )
        early: _Early = []  # filled by _create_ssl_connection for each address tried
        token = _EARLY.set(early)
        try:
            return await enforcement.guarded_async(
                attempt,
                lambda: original(
                    loop=loop,
                    connection_class=connection_class,
                    record_class=record_class,
                    **kwargs,
                ),
                lambda conn: _tls_facts(conn, early),
                lambda conn: conn.terminate(),
            )
        finally:
            with contextlib.suppress(ValueError):  # closed unfinished from another context
                _EARLY.reset(token)

    return _connect


# (transport, its facts) per TLS upgrade inside the current enforced connect. A
# list set by the wrapper: asyncpg may run the upgrade in a task of its own (a
# timeout), which sees the same list through its copy of the context.
_Early = list[tuple[Any, LiveFacts]]
_EARLY: ContextVar[_Early | None] = ContextVar("verifyfull_asyncpg_early", default=None)


def _wrap_upgrade(original: Callable[..., Any]) -> Callable[..., Any]:
    async def _create_ssl_connection(*args: Any, **kwargs: Any) -> Any:
        made = await original(*args, **kwargs)
        early = _EARLY.get()
        if early is not None:  # an enforced connect: read the handshake now
            transport = made[0]
            try:
                facts = _transport_facts(transport)
            except Exception:  # read again after the connect, failing there as before
                return made
            early.append((transport, facts))
        return made

    return _create_ssl_connection


def _tls_facts(conn: Any, early: Sequence[tuple[Any, LiveFacts]] = ()) -> LiveFacts:
    """(peer, protocol, cipher, server certificate DER, client certificate loaded) of a live
    asyncpg connection: as read right after its own transport's handshake (early), or now.

    A named client certificate file was loaded if the connection exists at
    all: asyncpg's load_cert_chain raises on a missing one (a file it only
    guesses, ~/.postgresql/postgresql.crt, is not named), so no look at the
    file is needed.
    """
    transport = getattr(conn, "_transport", None)
    if transport is None:
        return None, None, None, None, True
    for seen, facts in early:
        if seen is transport:  # this connection's own handshake (not an address given up)
            return facts
    return _transport_facts(transport)


def _transport_facts(transport: Any) -> LiveFacts:
    peer = transport.get_extra_info("peername")
    where = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) and len(peer) >= 2 else None
    ssl_object = transport.get_extra_info("ssl_object")
    if ssl_object is None:
        return where, None, None, None, True
    cipher = ssl_object.cipher()
    return (
        where,
        ssl_object.version(),
        cipher[0] if cipher else None,
        ssl_object.getpeercert(binary_form=True),
        True,
    )


def instrument(asyncpg: ModuleType) -> list[Patch]:
    connect_utils = importlib.import_module("asyncpg.connect_utils")
    patches = [replace_attribute(connect_utils, "_connect", _wrap)]
    if "_create_ssl_connection" in vars(connect_utils):  # else: read after the connect
        patches.append(replace_attribute(connect_utils, "_create_ssl_connection", _wrap_upgrade))
    return [p for p in patches if p is not None]
