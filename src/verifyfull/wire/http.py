"""One bare HTTP/1.1 GET under a Deadline: the status line and headers, never the body.

http.client puts a socket timeout on each read, which a server trickling
its headers a byte at a time restarts forever; here the whole header block
is read with net.recv_until under the caller's deadline and a size cap. The
request is built from the caller's path and Host only: no credential, no
cookie, no header the caller did not name.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

from verifyfull.wire.net import Deadline, ProtocolViolation, recv_until, send_all

MAX_HEADER_BYTES = 65536  # nginx's and uvicorn's own limits are smaller
_FORBIDDEN_IN_PATH = frozenset(range(0x21)) | {0x7F}  # controls and space: no header injection


@dataclass(frozen=True)
class Response:
    status: int
    headers: tuple[tuple[str, str], ...]  # (lower-cased name, value), in the order received

    def header(self, name: str) -> str | None:
        """The first header of that name, or None."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key == wanted), None)


def request_bytes(path: str, host_header: str, user_agent: str) -> bytes:
    """GET `path` with Host and User-Agent, nothing else that could identify the caller."""
    raw = path.encode("ascii", errors="replace")  # "?" for non-ASCII: refused just below
    if not path.isascii() or not raw.startswith(b"/") or any(b in _FORBIDDEN_IN_PATH for b in raw):
        raise ValueError(f"not a request path: {path!r}")
    return (
        b"GET " + raw + b" HTTP/1.1\r\n"
        b"Host: " + host_header.encode("idna") + b"\r\n"
        b"User-Agent: " + user_agent.encode("ascii") + b"\r\n"
        b"Accept: */*\r\n"
        b"Connection: close\r\n\r\n"
    )


def get(
    sock: socket.socket, path: str, host_header: str, user_agent: str, deadline: Deadline
) -> Response:
    """Send the GET and read the response head (status line and headers) under the deadline."""
    send_all(sock, request_bytes(path, host_header, user_agent), deadline, "HTTP request")
    head = recv_until(sock, b"\r\n\r\n", MAX_HEADER_BYTES, deadline, "HTTP response headers")
    return parse_head(head)


def parse_head(head: bytes) -> Response:
    """Status line and headers; anything that is not an HTTP/1.x response is a ProtocolViolation."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not _is_status(parts[1]):
        shown = lines[0][:60].encode("unicode_escape").decode("ascii")
        raise ProtocolViolation(f"not an HTTP response: {shown!r}")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            raise ProtocolViolation("malformed HTTP header line")
        headers.append((name.strip().lower(), value.strip()))
    return Response(int(parts[1]), tuple(headers))


def _is_status(text: str) -> bool:
    return len(text) == 3 and text.isascii() and text.isdigit()
