"""Sockets under one deadline: every network step ends in time, whatever the peer does.

A hostile peer may stay silent, trickle a byte a second or send without end.
Socket timeouts alone do not stop a trickle (each byte restarts them), so
every step here takes a Deadline, one point in time shared by all the steps
of one task (a probe target, a diagnostic handshake), and gives each socket
operation only the time that is left. Each failure becomes a WireError with
one line saying what happened, never a hang; reads are capped in size so an
endless stream cannot fill memory.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from verifyfull.errors import VerifyfullError

# family, type, proto, canonical name, socket address (its shape depends on the family)
AddrInfo = tuple[socket.AddressFamily, socket.SocketKind, int, str, Any]


class WireError(VerifyfullError):
    """A network step that could not be completed (the peer, not the user, is at fault)."""


class WireTimeout(WireError):
    """The deadline passed before the step was complete."""


class Unreachable(WireError):
    """No TCP connection could be made: the name does not resolve, or every address
    refused (a timeout is a WireTimeout: the peer may be there, only slow or filtered)."""


class ConnectionClosed(WireError):
    """The peer closed the connection (or reset it) before the step was complete."""


class ProtocolViolation(WireError):
    """The peer answered with bytes the protocol does not allow at this point."""


class Deadline:
    """One point in time every step of a task must finish by.

    `seconds` is the budget as the user gave it (messages quote it). Every
    timeout message is remembered, so a task that ran out can tell the
    errors the deadline caused from the others and report those as one line.
    """

    def __init__(self, seconds: float, *, parent: Deadline | None = None) -> None:
        self.seconds = seconds
        self._parent = parent
        end = time.monotonic() + seconds
        self._end: float = min(end, parent._end) if parent is not None else end
        self._lock = threading.Lock()
        self._timeouts: list[str] = []

    def remaining(self) -> float:
        return self._end - time.monotonic()

    def expired(self) -> bool:
        return self.remaining() <= 0

    def within(self, seconds: float) -> Deadline:
        """A shorter deadline for one step (a settle wait), never later than this one."""
        return Deadline(seconds, parent=self)

    @property
    def timeouts(self) -> tuple[str, ...]:
        """The messages of the steps that ran out of time, first first."""
        with self._lock:
            return tuple(self._timeouts)

    def timed_out(self, message: str) -> WireTimeout:
        """The error for a step that ran out of time (remembered)."""
        with self._lock:
            if message not in self._timeouts:
                self._timeouts.append(message)
        if self._parent is not None and self._parent.expired():
            self._parent.timed_out(message)
        return WireTimeout(message)

    def arm(self, sock: socket.socket, what: str) -> None:
        """Give the socket what is left of the deadline, or fail when nothing is."""
        left = self.remaining()
        if left <= 0:
            raise self.timed_out(f"no complete {what} within {self.seconds:g} s")
        sock.settimeout(left)


def resolve(host: str, port: int, deadline: Deadline) -> Sequence[AddrInfo]:
    """getaddrinfo under the deadline (a hung resolver would otherwise ignore every timeout).

    Address literals need no lookup; a name is looked up in a daemon thread
    that is abandoned when the deadline passes.
    """
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: list[Sequence[AddrInfo]] = []
    failed: list[OSError] = []

    def lookup() -> None:
        try:
            found.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except OSError as exc:
            failed.append(exc)

    worker = threading.Thread(target=lookup, daemon=True, name="verifyfull-resolve")
    worker.start()
    worker.join(max(deadline.remaining(), 0))
    if found:
        return found[0]
    if failed:
        reason = failed[0].strerror or type(failed[0]).__name__
        raise Unreachable(f"cannot resolve {host}: {reason}")
    raise deadline.timed_out(f"no address for {host} within {deadline.seconds:g} s")


@contextmanager
def connect(host: str, port: int, deadline: Deadline) -> Iterator[socket.socket]:
    """A TCP connection closed on exit; refusal and timeouts become WireError."""
    where = f"{host}:{port}"
    if deadline.expired():
        raise deadline.timed_out(f"no TCP connection to {where} within {deadline.seconds:g} s")
    addresses = resolve(host, port, deadline)
    sock: socket.socket | None = None
    last: OSError | None = None
    for family, kind, proto, _, address in addresses:
        candidate = socket.socket(family, kind, proto)
        try:
            deadline.arm(candidate, f"TCP connection to {where}")
            candidate.connect(address)
        except TimeoutError:
            candidate.close()
            raise deadline.timed_out(
                f"no TCP connection to {where} within {deadline.seconds:g} s"
            ) from None
        except WireError:
            candidate.close()
            raise
        except OSError as exc:
            candidate.close()
            last = exc
            continue
        sock = candidate
        break
    if sock is None:
        reason = (last.strerror or type(last).__name__) if last else "no address"
        raise Unreachable(f"cannot connect to {where}: {reason}")
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        yield sock
    finally:
        sock.close()


def send_all(sock: socket.socket, data: bytes, deadline: Deadline, what: str) -> None:
    deadline.arm(sock, what)
    try:
        sock.sendall(data)
    except TimeoutError:
        raise deadline.timed_out(
            f"could not send the {what} within {deadline.seconds:g} s"
        ) from None
    except OSError as exc:
        raise ConnectionClosed(
            f"connection closed while sending the {what}: {describe_exception(exc)}"
        ) from None


def start_tls(
    sock: socket.socket, context: ssl.SSLContext, server_hostname: str | None, deadline: Deadline
) -> ssl.SSLSocket:
    """The TLS handshake on `sock` within what is left of the deadline.

    Running out of time is a WireTimeout; the handshake's own errors
    (ssl.SSLError, OSError: a refusal, a failed verification) propagate
    unchanged, since they are what callers judge. The returned socket owns
    the connection (`sock` is detached).
    """
    deadline.arm(sock, "TLS handshake")
    try:
        return context.wrap_socket(sock, server_hostname=server_hostname)
    except TimeoutError:
        raise deadline.timed_out(
            f"TLS handshake not complete within {deadline.seconds:g} s"
        ) from None


def recv_some(sock: socket.socket, limit: int, deadline: Deadline, what: str) -> bytes:
    """At most `limit` bytes (at least one), or WireTimeout / ConnectionClosed naming `what`."""
    deadline.arm(sock, what)
    try:
        chunk = sock.recv(limit)
    except TimeoutError:
        raise deadline.timed_out(f"no {what} within {deadline.seconds:g} s") from None
    except ssl.SSLError as exc:
        raise ProtocolViolation(
            f"TLS error while reading the {what}: {describe_exception(exc)}"
        ) from None
    except OSError as exc:
        raise ConnectionClosed(
            f"connection closed while reading the {what}: {describe_exception(exc)}"
        ) from None
    if not chunk:
        raise ConnectionClosed(f"connection closed before the {what} was complete")
    return chunk


def recv_exact(sock: socket.socket, count: int, deadline: Deadline, what: str) -> bytes:
    """Exactly `count` bytes and not one more, or WireTimeout / ConnectionClosed naming `what`."""
    chunks: list[bytes] = []
    need = count
    while need:
        try:
            chunk = recv_some(sock, min(need, 65536), deadline, what)
        except WireTimeout:
            got = count - need
            if not got:
                raise
            raise deadline.timed_out(
                f"no {what} within {deadline.seconds:g} s (got {got} of {count} bytes)"
            ) from None
        chunks.append(chunk)
        need -= len(chunk)
    return b"".join(chunks)


def recv_until(
    sock: socket.socket, terminator: bytes, limit: int, deadline: Deadline, what: str
) -> bytes:
    """Bytes up to and including `terminator`, which must come within `limit` bytes."""
    data = bytearray()
    while True:
        end = data.find(terminator)
        if end >= 0:
            return bytes(data[: end + len(terminator)])
        if len(data) >= limit:
            raise ProtocolViolation(f"the {what} is longer than {limit} bytes")
        data += recv_some(sock, min(4096, limit - len(data) + len(terminator)), deadline, what)


def recv_available(
    sock: socket.socket, wait: float, limit: int = 4096, deadline: Deadline | None = None
) -> bytes:
    """Whatever arrives within `wait` seconds (and the deadline), up to `limit` bytes; b'' if none.

    For watching whether a peer sends something it should not: silence and a
    close are the expected answers, so neither is an error.
    """
    step = deadline.within(wait) if deadline is not None else Deadline(wait)
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        left = step.remaining()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            chunk = sock.recv(limit - size)
        except (TimeoutError, OSError):
            break
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def describe_exception(exc: BaseException) -> str:
    """A one-line reason for an OS or TLS error (no traceback, no object reprs)."""
    if isinstance(exc, ssl.SSLError):
        return exc.reason or exc.__class__.__name__
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return exc.__class__.__name__
