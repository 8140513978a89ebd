"""psycopg connections whose server is judged after the TLS handshake, before the StartupMessage.

libpq does TLS in C and gives no hook inside the handshake, but its
non-blocking connect (PQconnectPoll) stops right after it: when the
handshake (host name check included) is done, the connection is in state
CONNECTION_MADE with TLS in use and the poll asks to wait for the socket to
be writable; only the next poll builds and sends the StartupMessage
(fe-connect.c, case CONNECTION_MADE; seen with the libpq 18 psycopg-binary
bundles: MADE -> SSL_STARTUP x3 -> MADE with ssl_in_use -> AWAITING_RESPONSE).
psycopg's connect loop is a small generator (`psycopg.generators.connect`,
which `Connection._connect_gen` calls); the guard's connection classes run
their own copy of it that stops at that point, reads the negotiated
protocol, cipher and server certificate from the libpq psycopg uses
(libpq_ssl.py), and runs the guard's `Verifier`. A refusal closes the
connection (PQfinish) before libpq has sent anything past the handshake:
no user name, no password.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import errors as e
from psycopg import pq
from psycopg.abc import PQGenConn
from psycopg.waiting import Wait

from verifyfull.guard.libpq_ssl import tls_facts
from verifyfull.guard.proof import TLSProof, Verifier

_MADE = pq.ConnStatus.MADE
_BAD = pq.ConnStatus.BAD


def guarded_connect(
    conninfo: str, verifier: Callable[[], Verifier]
) -> PQGenConn[tuple[pq.abc.PGconn, TLSProof | None]]:
    """psycopg.generators.connect, judging the server between handshake and startup."""
    conn = pq.PGconn.connect_start(conninfo.encode())
    proof: TLSProof | None = None
    was_ready = False
    while True:
        if conn.status == _BAD:
            message = conn.get_error_message("utf-8")
            conn.finish()
            raise e.OperationalError(f"connection is bad: {message}")
        status = conn.connect_poll()
        # Handshake done, StartupMessage not yet sent (once per TLS session: libpq may
        # move on to another address of the host and shake hands again).
        ready = conn.status == _MADE and conn.ssl_in_use
        if ready and not was_ready:
            try:
                proof = _judge(conn, verifier())
            except BaseException:
                conn.finish()  # the StartupMessage is never built
                raise
        was_ready = ready
        if status in (pq.PollingStatus.READING, pq.PollingStatus.WRITING):
            wait = Wait.R if status == pq.PollingStatus.READING else Wait.W
            while not (yield conn.socket, wait):
                pass
        elif status == pq.PollingStatus.OK:
            break
        elif status == pq.PollingStatus.FAILED:
            message = conn.get_error_message("utf-8")
            raise e.OperationalError(f"connection failed: {message}", pgconn=e.finish_pgconn(conn))
        else:
            raise e.InternalError(f"unexpected poll status: {status}", pgconn=e.finish_pgconn(conn))
    conn.nonblocking = 1
    return conn, proof


def _judge(conn: pq.abc.PGconn, verifier: Verifier) -> TLSProof:
    host = f"{conn.host.decode(errors='replace')}:{conn.port.decode(errors='replace')}"
    facts = tls_facts(conn.pgconn_ptr)  # type: ignore[attr-defined]
    return verifier(host, facts.protocol or "TLS", facts.cipher, facts.server_cert_der)


class _Guarded:
    """What both connection classes share: the verifier source and the handshake proof.

    password_source supplies the password when the caller passes none (pools
    and Tortoise build connections from a class, not from our call).
    """

    verifier_source: Callable[[], Verifier]
    password_source: Callable[[], str | None]
    handshake_proof: TLSProof | None = None

    @classmethod
    def _with_password(cls, kwargs: dict[str, Any]) -> dict[str, Any]:
        if kwargs.get("password") is None and (password := cls.password_source()) is not None:
            kwargs["password"] = password
        return kwargs

    @classmethod
    def _guarded_gen(cls, conninfo: str) -> PQGenConn[Any]:
        pgconn, proof = yield from guarded_connect(conninfo, cls.verifier_source)
        conn = cls(pgconn)  # type: ignore[call-arg]
        conn.handshake_proof = proof
        return conn


class GuardedConnection(_Guarded, psycopg.Connection[Any]):
    @classmethod
    def connect(cls, conninfo: str = "", **kwargs: Any) -> Any:
        return super().connect(conninfo, **cls._with_password(kwargs))

    @classmethod
    def _connect_gen(cls, conninfo: str = "") -> PQGenConn[Any]:
        return cls._guarded_gen(conninfo)


class GuardedAsyncConnection(_Guarded, psycopg.AsyncConnection[Any]):
    @classmethod
    async def connect(cls, conninfo: str = "", **kwargs: Any) -> Any:
        return await super().connect(conninfo, **cls._with_password(kwargs))

    @classmethod
    def _connect_gen(cls, conninfo: str = "") -> PQGenConn[Any]:
        return cls._guarded_gen(conninfo)


def connection_classes(
    verifier_source: Callable[[], Verifier], password_source: Callable[[], str | None]
) -> tuple[type[GuardedConnection], type[GuardedAsyncConnection]]:
    """Connection classes (sync, async) bound to one guard; pools and Tortoise take them."""
    members = {
        "verifier_source": staticmethod(verifier_source),
        "password_source": staticmethod(password_source),
    }
    sync = type("GuardedConnection", (GuardedConnection,), dict(members))
    async_ = type("GuardedAsyncConnection", (GuardedAsyncConnection,), dict(members))
    return sync, async_
