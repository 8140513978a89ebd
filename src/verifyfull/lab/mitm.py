"""On-path attackers for tests: threaded TCP proxies between a client and a lab server.

- DowngradeProxy answers 'N' to SSLRequest (and GSSENCRequest), so a client
  that accepts plaintext (sslmode prefer/allow, asyncpg's default) goes on in
  cleartext; the proxy relays to the real server, over TLS when given
  `upstream_tls` (the attacker speaks TLS to the server).
- RogueTLSProxy answers 'S' and completes TLS with a certificate of its own
  (another CA, self-signed, wrong host); it records whether the client
  accepted it, and relays what it decrypts.
- PasswordPhishingServer is the impostor a pin exists for: it completes TLS
  with a certificate of its own (e.g. one the real CA issued for the same
  host name), then asks for a cleartext password, records it, and never
  talks to a real server.

Both listen on 127.0.0.1 on an ephemeral port, are context managers, put a
timeout on every socket, serve at most `max_connections` at once and record
what crossed them. `stop()` closes everything and joins every thread.
"""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
import struct
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from verifyfull.errors import VerifyfullError
from verifyfull.wire.net import Deadline, recv_exact
from verifyfull.wire.pg import (
    AUTHENTICATION,
    GSSENC_REQUEST_CODE,
    SSL_REQUEST_CODE,
    parse_startup,
    read_client_packet,
    request_tls,
)

_POLL = 0.2  # how often idle relays look at the stop flag

Sock = socket.socket | ssl.SSLSocket


P = TypeVar("P", bound="_Proxy")


class ProxyError(VerifyfullError):
    """The proxy could not reach the upstream server."""


class _Proxy:
    """Listener, connection threads, recording and clean shutdown; subclasses handle one client."""

    def __init__(
        self,
        upstream_host: str,
        upstream_port: int,
        *,
        upstream_tls: ssl.SSLContext | None = None,
        upstream_server_hostname: str | None = None,
        timeout: float = 10.0,
        max_connections: int = 32,
    ) -> None:
        self.upstream_host = upstream_host
        self.upstream_port = upstream_port
        self.upstream_tls = upstream_tls
        self.upstream_server_hostname = upstream_server_hostname or upstream_host
        self.timeout = timeout
        self.host = "127.0.0.1"
        self.port = 0
        self._slots = threading.BoundedSemaphore(max_connections)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._open: set[Sock] = set()
        self._from_client: list[bytes] = []
        self._from_server: list[bytes] = []
        self.startup_messages: list[dict[str, str]] = []
        self.connections = 0
        self.refused_tls_requests = 0  # SSLRequest/GSSENCRequest answered 'N'
        self.errors: list[str] = []

    # -- recording ---------------------------------------------------------
    @property
    def captured_from_client(self) -> bytes:
        """Every byte the client(s) sent that the proxy could read (cleartext to it)."""
        with self._lock:
            return b"".join(self._from_client)

    @property
    def captured_from_server(self) -> bytes:
        with self._lock:
            return b"".join(self._from_server)

    def _record(self, chunks: list[bytes], data: bytes) -> None:
        with self._lock:
            chunks.append(data)

    def _note_error(self, text: str) -> None:
        with self._lock:
            self.errors.append(text)

    # -- life cycle --------------------------------------------------------
    def start(self: P) -> P:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, 0))
        listener.listen(16)
        listener.settimeout(_POLL)
        self._listener = listener
        self.port = int(listener.getsockname()[1])
        self._spawn(self._accept_loop)
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._listener is not None:
            self._listener.close()
        with self._lock:
            open_now = list(self._open)
        for sock in open_now:
            _close(sock)
        for thread in list(self._threads):
            thread.join(timeout=self.timeout + 1)

    def __enter__(self: P) -> P:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name=type(self).__name__)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # listener closed by stop()
            if not self._slots.acquire(blocking=False):
                client.close()  # bounded: refuse beyond max_connections
                continue
            client.settimeout(self.timeout)
            with self._lock:
                self.connections += 1
            self._spawn(self._serve, client)

    def _serve(self, client: socket.socket) -> None:
        self._track(client)
        upstream: Sock | None = None
        try:
            upstream = self.handle(client)
        except (OSError, ValueError, VerifyfullError) as exc:
            if not self._stopping.is_set():
                self._note_error(f"{type(exc).__name__}: {exc}")
        finally:
            for sock in (client, upstream):
                if sock is not None:
                    _close(sock)
                    self._untrack(sock)
            self._slots.release()

    def _track(self, sock: Sock) -> None:
        with self._lock:
            self._open.add(sock)

    def _untrack(self, sock: Sock) -> None:
        with self._lock:
            self._open.discard(sock)

    # -- the attack: subclasses --------------------------------------------
    def handle(self, client: socket.socket) -> Sock | None:
        raise NotImplementedError

    # -- shared steps --------------------------------------------------------
    def _read_first(self, client: Sock) -> tuple[int, bytes]:
        """The next length-prefixed startup-phase packet: (code, whole packet)."""
        code, packet = read_client_packet(client, Deadline(self.timeout))
        self._record(self._from_client, packet)
        return code, packet

    def _connect_upstream(self) -> Sock:
        raw = socket.create_connection(
            (self.upstream_host, self.upstream_port), timeout=self.timeout
        )
        if self.upstream_tls is None:
            self._track(raw)
            return raw
        try:
            answer = request_tls(raw, Deadline(self.timeout))
            if answer != b"S":
                raise ProxyError(f"upstream answered {answer!r} to SSLRequest", None)
            tls = self.upstream_tls.wrap_socket(raw, server_hostname=self.upstream_server_hostname)
        except BaseException:
            raw.close()
            raise
        self._track(tls)
        return tls

    def _refuse_tls(self, client: Sock) -> None:
        client.sendall(b"N")
        with self._lock:
            self.refused_tls_requests += 1

    def _forward(self, client: Sock, packet: bytes) -> Sock:
        """Send the client's startup packet upstream, then relay; returns the upstream socket."""
        if startup := parse_startup(packet):
            with self._lock:
                self.startup_messages.append(startup)
        upstream = self._connect_upstream()
        upstream.sendall(packet)
        self._relay(client, upstream)
        return upstream

    def _relay(self, client: Sock, upstream: Sock) -> None:
        """Copy bytes both ways until either side closes or the proxy stops."""
        peers: dict[Sock, Sock] = {client: upstream, upstream: client}
        while not self._stopping.is_set():
            ready: list[Sock] = [s for s in peers if isinstance(s, ssl.SSLSocket) and s.pending()]
            if not ready:
                ready, _, _ = select.select(list(peers), [], [], _POLL)
            for sock in ready:
                try:
                    data = sock.recv(65536)
                except (ssl.SSLWantReadError, TimeoutError):
                    continue
                if not data:
                    return
                self._record(self._from_client if sock is client else self._from_server, data)
                peers[sock].sendall(data)


class DowngradeProxy(_Proxy):
    """Answers 'N' to SSLRequest/GSSENCRequest and relays the client's plaintext session."""

    def handle(self, client: socket.socket) -> Sock | None:
        code, packet = self._read_first(client)
        while code in (SSL_REQUEST_CODE, GSSENC_REQUEST_CODE):
            self._refuse_tls(client)
            code, packet = self._read_first(client)  # the client may go on in plaintext
        return self._forward(client, packet)


class RogueTLSProxy(_Proxy):
    """Answers 'S', completes TLS with its own certificate, then relays what it decrypts."""

    def __init__(
        self,
        upstream_host: str,
        upstream_port: int,
        *,
        cert: Path,
        key: Path,
        upstream_tls: ssl.SSLContext | None = None,
        **options: Any,  # upstream_server_hostname, timeout, max_connections
    ) -> None:
        super().__init__(upstream_host, upstream_port, upstream_tls=upstream_tls, **options)
        self._server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._server_tls.load_cert_chain(str(cert), str(key))
        self.handshakes_completed = 0
        self.handshake_failures: list[str] = []

    @property
    def client_completed_handshake(self) -> bool:
        """True when some client accepted the rogue certificate."""
        with self._lock:
            return self.handshakes_completed > 0

    def handle(self, client: socket.socket) -> Sock | None:
        conn: Sock = client
        try:
            code, packet = self._read_first(conn)
            while code in (SSL_REQUEST_CODE, GSSENC_REQUEST_CODE):
                if code == GSSENC_REQUEST_CODE:
                    self._refuse_tls(conn)
                else:
                    conn.sendall(b"S")
                    conn = self._accept_tls(client)
                    if conn is client:
                        return None  # the client refused our certificate
                code, packet = self._read_first(conn)
            return self._after_startup(conn, packet)
        finally:
            if conn is not client:
                _close(conn)
                self._untrack(conn)

    def _after_startup(self, conn: Sock, packet: bytes) -> Sock | None:
        """What the rogue does with the client's StartupMessage: relay it."""
        return self._forward(conn, packet)

    def _accept_tls(self, client: socket.socket) -> Sock:
        try:
            tls = self._server_tls.wrap_socket(client, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            with self._lock:
                self.handshake_failures.append(str(exc))
            return client
        self._track(tls)
        with self._lock:
            self.handshakes_completed += 1
        return tls


AUTH_CLEARTEXT_PASSWORD = AUTHENTICATION + struct.pack("!ii", 8, 3)
_MAX_PASSWORD_MESSAGE = 10_000


class PasswordPhishingServer(RogueTLSProxy):
    """Completes TLS, reads the StartupMessage, asks for a cleartext password, records it.

    `ciphers` / `max_version` restrict what its TLS offers (e.g. only CBC
    suites under TLS 1.2, to see whether a client accepts them).
    """

    def __init__(
        self,
        *,
        cert: Path,
        key: Path,
        ciphers: str | None = None,
        max_version: ssl.TLSVersion | None = None,
        **options: Any,  # timeout, max_connections
    ) -> None:
        super().__init__("127.0.0.1", 1, cert=cert, key=key, **options)
        if ciphers is not None:
            self._server_tls.set_ciphers(ciphers)
        if max_version is not None:
            self._server_tls.maximum_version = max_version
        self.passwords: list[bytes] = []

    def _after_startup(self, conn: Sock, packet: bytes) -> Sock | None:
        if startup := parse_startup(packet):
            with self._lock:
                self.startup_messages.append(startup)
        conn.sendall(AUTH_CLEARTEXT_PASSWORD)
        deadline = Deadline(self.timeout)
        header = recv_exact(conn, 5, deadline, "the password message")  # 'p' + length
        length = struct.unpack("!i", header[1:])[0]
        if not 4 <= length <= _MAX_PASSWORD_MESSAGE:
            raise ValueError(f"not a password message (length {length})")
        body = recv_exact(conn, length - 4, deadline, "the password message")
        self._record(self._from_client, header + body)
        if header[:1] == b"p":
            with self._lock:
                self.passwords.append(body.rstrip(b"\0"))
        return None


def _close(sock: Sock) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in recv
    sock.close()
