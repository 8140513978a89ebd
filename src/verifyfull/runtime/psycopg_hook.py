"""psycopg 3: `Connection.connect` and `AsyncConnection.connect`.

`psycopg.connect`, `AsyncConnection.connect`, psycopg_pool's pools
(`connection_class.connect(conninfo, **kwargs)`), SQLAlchemy's psycopg
dialects and Tortoise's psycopg backend all call one of the two classmethods.
The connection string libpq will get is rebuilt with psycopg's own
`make_conninfo` (conninfo string plus keyword arguments) and judged as libpq
reads it. The live facts come from libpq itself (guard.libpq_ssl).
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

from verifyfull.conninfo import ConnInfo
from verifyfull.runtime.active import Enforcer, current
from verifyfull.runtime.judge import Attempt, LiveFacts
from verifyfull.runtime.patch import Patch, replace_attribute
from verifyfull.runtime.reading import libpq_call_info, libpq_key

# psycopg's own connect options; everything else in **kwargs goes to libpq.
_PSYCOPG_OPTIONS = frozenset(
    {"autocommit", "prepare_threshold", "context", "row_factory", "cursor_factory"}
)


def _begin(enforcement: Enforcer, conninfo: str, kwargs: dict[str, Any]) -> Attempt:
    libpq_kwargs = (
        kwargs  # the usual call: no psycopg option to set apart (a fresh dict per call)
        if _PSYCOPG_OPTIONS.isdisjoint(kwargs)
        else {k: v for k, v in kwargs.items() if k not in _PSYCOPG_OPTIONS}
    )

    def read() -> ConnInfo:
        from psycopg.conninfo import make_conninfo

        return libpq_call_info(make_conninfo, conninfo, libpq_kwargs)

    return enforcement.begin("psycopg", "psycopg", read, key=libpq_key(conninfo, libpq_kwargs))


_TLSFacts = tuple[str | None, str | None, bytes | None, bool | None]
_reader: Callable[[int], _TLSFacts] | None = None


def _bind_reader() -> Callable[[int], _TLSFacts]:
    """guard.libpq_ssl's reader, imported on first use (ctypes only in a process with
    psycopg), then bound here: an import statement and a lookup per connect cost
    microseconds with the caches cold."""
    global _reader
    from verifyfull.guard.libpq_ssl import tls_reader

    _reader = tls_reader()
    return _reader


def _tls_facts(conn: Any) -> LiveFacts:
    """(peer, protocol, cipher, server certificate DER, client certificate loaded) of a live
    psycopg connection, read from libpq itself."""
    pgconn = conn.pgconn
    peer = b"%s:%s" % (pgconn.host, pgconn.port)  # one decode, not two (cold: µs each)
    where = peer.decode(errors="replace")
    if not pgconn.ssl_in_use:
        return where, None, None, None, None
    protocol, cipher, der, cert_loaded = (_reader or _bind_reader())(pgconn.pgconn_ptr)
    # TLS is in use even when this libpq hides the version: "TLS" says so.
    return where, protocol or "TLS", cipher, der, cert_loaded


def _close(conn: Any) -> Any:
    return conn.close()  # a coroutine for AsyncConnection: guarded_async awaits it


def _wrap_sync(original: Callable[..., Any]) -> Callable[..., Any]:
    def connect(cls: type, conninfo: str = "", **kwargs: Any) -> Any:
        enforcement = current()
        if enforcement is None:
            return original(cls, conninfo, **kwargs)
        attempt = _begin(enforcement, conninfo, kwargs)
        return enforcement.guarded(
            attempt, lambda: original(cls, conninfo, **kwargs), _tls_facts, _close
        )

    return connect


def _wrap_async(original: Callable[..., Any]) -> Callable[..., Any]:
    async def connect(cls: type, conninfo: str = "", **kwargs: Any) -> Any:
        enforcement = current()
        if enforcement is None:
            return await original(cls, conninfo, **kwargs)
        attempt = _begin(enforcement, conninfo, kwargs)
        return await enforcement.guarded_async(
            attempt, lambda: original(cls, conninfo, **kwargs), _tls_facts, _close
        )

    return connect


def instrument(psycopg: ModuleType) -> list[Patch]:
    patches = [
        replace_attribute(psycopg.Connection, "connect", _wrap_sync),
        replace_attribute(psycopg.AsyncConnection, "connect", _wrap_async),
    ]
    # psycopg/__init__.py binds `connect = Connection.connect` at import: rebind it.
    module_connect = psycopg.__dict__.get("connect")
    if module_connect is not None and module_connect != psycopg.Connection.connect:
        rebound = psycopg.Connection.connect
        setattr(psycopg, "connect", rebound)  # noqa: B010 (mypy: the module's own name)
        patches.append(Patch(psycopg, "connect", module_connect, rebound))
    return [p for p in patches if p is not None]
