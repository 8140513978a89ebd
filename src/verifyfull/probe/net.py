"""Sockets with a deadline: every network step of the probe ends in time.

A hostile server may stay silent, trickle bytes or send without end; these
helpers turn each case into a ProbeError with one line saying what happened,
never a hang. Reads are capped so an endless stream cannot fill memory.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager

from verifyfull.errors import VerifyfullError

DEFAULT_TIMEOUT = 3.0


class ProbeError(VerifyfullError):
    """A network step that could not be completed (the target, not the user, is at fault)."""


class ProbeTimeout(ProbeError):
    """The target did not answer within the timeout."""


class ConnectionClosed(ProbeError):
    """The target closed the connection (or reset it) before the step was complete."""


class ProtocolViolation(ProbeError):
    """The target answered with bytes the protocol does not allow at this point."""


class Deadline:
    """A point in time every read of one step must finish by."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        return self._end - time.monotonic()

    def arm(self, sock: socket.socket, what: str) -> None:
        """Set the socket timeout to what is left, or fail when nothing is."""
        left = self.remaining()
        if left <= 0:
            raise ProbeTimeout(f"no complete {what} within {self.seconds:g} s")
        sock.settimeout(left)


@contextmanager
def connect(host: str, port: int, timeout: float) -> Iterator[socket.socket]:
    """A TCP connection closed on exit; refusal and timeouts become ProbeError."""
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except TimeoutError:
        raise ProbeTimeout(f"no TCP connection to {host}:{port} within {timeout:g} s") from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ProbeError(f"cannot connect to {host}:{port}: {reason}") from None
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
        raise ProbeTimeout(f"could not send the {what} within {deadline.seconds:g} s") from None
    except OSError as exc:
        raise ConnectionClosed(
            f"connection closed while sending the {what}: {describe_exception(exc)}"
        ) from None


def recv_exact(sock: socket.socket, count: int, deadline: Deadline, what: str) -> bytes:
    """Exactly `count` bytes, or ProbeTimeout / ConnectionClosed naming `what`."""
    chunks: list[bytes] = []
    need = count
    while need:
        deadline.arm(sock, what)
        try:
            chunk = sock.recv(min(need, 65536))
        except TimeoutError:
            got = count - need
            detail = f" (got {got} of {count} bytes)" if got else ""
            raise ProbeTimeout(f"no {what} within {deadline.seconds:g} s{detail}") from None
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
        chunks.append(chunk)
        need -= len(chunk)
    return b"".join(chunks)


def recv_available(sock: socket.socket, wait: float, limit: int = 4096) -> bytes:
    """Whatever arrives within `wait` seconds (up to `limit` bytes); b'' if nothing or closed."""
    end = time.monotonic() + wait
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        left = end - time.monotonic()
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
