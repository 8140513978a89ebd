"""Loopback test doubles for byte-level server behaviour no installable server has.

A DoubleServer accepts connections on 127.0.0.1 and runs a `behaviour` on
each in its own thread, recording every byte it received (so tests can
assert what a client sent, and what it did not).
"""

from __future__ import annotations

import socket
import ssl
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from verifyfull.certs.create import create_ca, create_node

Behaviour = Callable[["RecordingSocket"], None]


class DoubleServer:
    """Accepts connections on 127.0.0.1 and runs `behaviour` on each; records what came in."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.received = bytearray()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            self.behaviour(RecordingSocket(conn, self))
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    def record(self, data: bytes) -> None:
        with self._lock:
            self.received.extend(data)

    def __enter__(self) -> DoubleServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.listener.close()
        self._thread.join(2)


class RecordingSocket:
    """A thin proxy of the accepted socket that keeps every byte received."""

    def __init__(self, conn: socket.socket, server: DoubleServer) -> None:
        self.conn = conn
        self._server = server

    def recv(self, size: int, flags: int = 0) -> bytes:
        data = self.conn.recv(size, flags)
        if not flags & socket.MSG_PEEK:
            self._server.record(data)
        return data

    def sendall(self, data: bytes) -> None:
        self.conn.sendall(data)


def read_packet(sock: RecordingSocket | ssl.SSLSocket) -> bytes:
    """One length-prefixed client packet (SSLRequest or StartupMessage)."""
    head = _exact(sock, 4)
    (length,) = struct.unpack("!i", head)
    return head + _exact(sock, length - 4)


def _exact(sock: RecordingSocket | ssl.SSLSocket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


@contextmanager
def serving(behaviour: Behaviour) -> Iterator[DoubleServer]:
    with DoubleServer(behaviour) as server:
        yield server


def loopback_certs(base: Path) -> tuple[Path, Path, Path]:
    """A node certificate for localhost and 127.0.0.1 from a fresh CA: (cert, key, ca)."""
    ca = create_ca(base / "certs", base / "ca.key")
    node = create_node(["localhost", "127.0.0.1"], base / "certs", base / "ca.key")
    return node.cert_path, node.key_path, ca.cert_path
