"""The few PostgreSQL wire bytes the lab needs: SSLRequest and a TLS upgrade.

Used by the MITM proxies and by tests that check which TLS versions a lab
server really accepts. The probe has its own, fuller wire code.
"""

from __future__ import annotations

import socket
import ssl
import struct

SSL_REQUEST_CODE = 80877103
GSSENC_REQUEST_CODE = 80877104
SSL_REQUEST = struct.pack("!ii", 8, SSL_REQUEST_CODE)
GSSENC_REQUEST = struct.pack("!ii", 8, GSSENC_REQUEST_CODE)


def recv_exact(sock: socket.socket | ssl.SSLSocket, n: int) -> bytes:
    """Exactly n bytes, or ConnectionError when the peer closes first."""
    chunks: list[bytes] = []
    while n:
        chunk = sock.recv(n)
        if not chunk:
            raise ConnectionError("peer closed the connection")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def request_tls(sock: socket.socket) -> bytes:
    """Send SSLRequest and return the server's one-byte answer (b'S' or b'N')."""
    sock.sendall(SSL_REQUEST)
    return recv_exact(sock, 1)


def open_tls(
    host: str,
    port: int,
    context: ssl.SSLContext,
    *,
    server_hostname: str | None = None,
    timeout: float = 5.0,
) -> ssl.SSLSocket:
    """Connect, negotiate TLS the PostgreSQL way (SSLRequest, 'S', handshake)."""
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        answer = request_tls(sock)
        if answer != b"S":
            raise ConnectionError(f"server answered {answer!r} to SSLRequest (no TLS)")
        return context.wrap_socket(sock, server_hostname=server_hostname)
    except BaseException:
        sock.close()
        raise
