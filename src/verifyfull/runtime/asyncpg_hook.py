"""asyncpg: the one choke point is `connect_utils._connect`.

`asyncpg.connect`, every pool (`create_pool`, whose connections go through
`connection.connect`), SQLAlchemy's asyncpg dialect, Tortoise and databases
all end in `connect_utils._connect(loop=, connection_class=, record_class=,
**kwargs)`, with the caller's real keyword arguments (dsn, host, ssl, ...)
still in kwargs. It is looked up on the module at each call, so wrapping it
there catches references taken before enforcement started.
"""

from __future__ import annotations

import importlib
import ssl
from collections.abc import Callable
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
        return await enforcement.guarded_async(
            attempt,
            lambda: original(
                loop=loop, connection_class=connection_class, record_class=record_class, **kwargs
            ),
            _tls_facts,
            lambda conn: conn.terminate(),
        )

    return _connect


def _tls_facts(conn: Any) -> LiveFacts:
    """(peer, protocol, cipher, server certificate DER, client certificate loaded) of a live
    asyncpg connection.

    A named client certificate file was loaded if the connection exists at
    all: asyncpg's load_cert_chain raises on a missing one (a file it only
    guesses, ~/.postgresql/postgresql.crt, is not named), so no look at the
    file is needed.
    """
    transport = getattr(conn, "_transport", None)
    if transport is None:
        return None, None, None, None, True
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
    patch = replace_attribute(connect_utils, "_connect", _wrap)
    return [patch] if patch else []
