"""psycopg2: `psycopg2.connect`, looked up on the module by its pools, extras and SQLAlchemy.

Wrapped only when the process imports psycopg2. The libpq string is
psycopg2's own `extensions.make_dsn(dsn, **kwargs)`, judged as libpq reads
it; the live facts come from `connection.info` (psycopg2 2.8+), which names
the protocol and cipher but not the server certificate.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

from verifyfull.conninfo import ConnInfo
from verifyfull.runtime.active import current
from verifyfull.runtime.judge import LiveFacts
from verifyfull.runtime.patch import Patch, replace_attribute
from verifyfull.runtime.reading import libpq_call_info, libpq_key

# psycopg2.connect's own arguments; the rest are libpq keywords.
_PSYCOPG2_OPTIONS = frozenset({"connection_factory", "cursor_factory", "async", "async_"})


def _wrap(psycopg2: ModuleType) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def connect(dsn: str | None = None, *args: Any, **kwargs: Any) -> Any:
            enforcement = current()
            if enforcement is None:
                return original(dsn, *args, **kwargs)

            libpq = {k: v for k, v in kwargs.items() if k not in _PSYCOPG2_OPTIONS}

            def read() -> ConnInfo:
                return libpq_call_info(psycopg2.extensions.make_dsn, dsn, libpq)

            attempt = enforcement.begin("psycopg2", "psycopg2", read, key=libpq_key(dsn, libpq))
            if kwargs.get("async") or kwargs.get("async_"):  # aiopg: returns before the handshake
                conn = original(dsn, *args, **kwargs)
                enforcement.judged_only(attempt, "asynchronous connect: not proven live")
                return conn
            return enforcement.guarded(
                attempt, lambda: original(dsn, *args, **kwargs), _tls_facts, lambda c: c.close()
            )

        return connect

    return make


def _tls_facts(conn: Any) -> LiveFacts:
    """psycopg2's libpq is its own copy, not read through ctypes (guard.libpq_ssl): the
    certificates are unknown here, and a named client certificate file is looked for."""
    info = getattr(conn, "info", None)
    if info is None:  # psycopg2 before 2.8: nothing to prove with
        return None, None, None, None, None
    peer = f"{info.host}:{info.port}"
    if not info.ssl_in_use:
        return peer, None, None, None, None
    protocol = info.ssl_attribute("protocol") or "TLS"
    return peer, protocol, info.ssl_attribute("cipher"), None, None


def instrument(psycopg2: ModuleType) -> list[Patch]:
    patch = replace_attribute(psycopg2, "connect", _wrap(psycopg2))
    return [patch] if patch else []
