"""The few PostgreSQL wire bytes the lab needs: SSLRequest and a TLS upgrade.

Used by the MITM proxies and by tests that check which TLS versions a lab
server really accepts. The probe has its own, fuller wire code.
"""

from __future__ import annotations

import socket
import ssl

# The request codes and bytes have one definition: the probe's wire module.
from verifyfull.probe.pgwire import (
    GSSENC_REQUEST_CODE,
    SSL_REQUEST_CODE,
    gssenc_request,
    ssl_request,
)

__all__ = [
    "GSSENC_REQUEST",
    "GSSENC_REQUEST_CODE",
    "SSL_REQUEST",
    "SSL_REQUEST_CODE",
    "open_tls",
    "recv_exact",
    "request_tls",
]

SSL_REQUEST = ssl_request()
GSSENC_REQUEST = gssenc_request()


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
