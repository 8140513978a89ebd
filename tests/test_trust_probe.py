"""Issue 11, class 4 and the probe bullet of class 2, against real loopback servers.

- The probe sends a target nothing the user did not ask for: the plain-HTTP
  question is a bare `GET /`; a URL's path and query travel only inside TLS
  that verified for the host; userinfo, cookies and extra headers never; a
  DSN's password and other parameters never reach a StartupMessage.
- One deadline per target: servers that trickle (HTTP headers, a TLS
  ServerHello after 'S', an ErrorResponse after 'N') and a slow --deep cannot
  hold the probe past --timeout; the target is reported as timed out in one
  line.

The servers are documented doubles (tests/doubles.py) that record every byte
they receive, and, for TLS, what they decrypted. Each probe runs in a thread
that must finish, so a regression fails instead of hanging the suite. The
time bounds are generous ("does not hang"): timeout + BOUND_MARGIN.
"""

from __future__ import annotations

import socket
import ssl
import string
import struct
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from doubles import Behaviour, RecordingSocket, loopback_certs, read_packet, serving
from verifyfull.probe.results import EndpointResult
from verifyfull.probe.runner import ProbeSettings, run
from verifyfull.probe.targets import parse_target
from verifyfull.wire import net

BOUND_MARGIN = 1.5  # seconds past --timeout a probe may take (threads waking up on 2 busy cores)
HSTS = b"Strict-Transport-Security: max-age=31536000; includeSubDomains\r\n"


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    return loopback_certs(tmp_path_factory.mktemp("trust-probe-certs"))


def probe_in_thread(text: str, settings: ProbeSettings) -> tuple[EndpointResult, float]:
    """One target probed in a thread that must end; (its result, seconds taken)."""
    results: list[EndpointResult] = []

    def work() -> None:
        results.extend(run([parse_target(text)], settings).endpoints)

    started = time.monotonic()
    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(30)
    assert not worker.is_alive(), "the probe hung"
    return results[0], time.monotonic() - started


class Web:
    """An HTTP and HTTPS server on one port (TLS when the first byte is a handshake record).

    `clear` keeps the request heads received without TLS, `inside_tls` the
    ones decrypted from TLS connections. With `trickle`, the response head is
    sent one byte every `trickle` seconds, without end.
    """

    def __init__(self, cert: Path, key: Path, trickle: float | None = None) -> None:
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(str(cert), str(key))
        self.trickle = trickle
        self.clear = bytearray()
        self.inside_tls = bytearray()
        self.port = 0
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self.clear.clear()
            self.inside_tls.clear()

    def __call__(self, sock: RecordingSocket) -> None:
        if sock.conn.recv(1, socket.MSG_PEEK) != b"\x16":
            self._serve(sock, self.clear, secure=False)
            return
        try:
            tls = self.ctx.wrap_socket(sock.conn, server_side=True)
        except (ssl.SSLError, OSError):
            return  # the probe's version and cipher questions end here
        with tls:
            self._serve(tls, self.inside_tls, secure=True)

    def _serve(self, conn: RecordingSocket | ssl.SSLSocket, sink: bytearray, secure: bool) -> None:
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 65536:
            chunk = conn.recv(4096)
            if not chunk:
                return
            head += chunk
        with self._lock:
            sink.extend(head)
        if self.trickle is not None:
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100_000:
                conn.sendall(bytes([byte]))
                time.sleep(self.trickle)
        elif secure:
            conn.sendall(b"HTTP/1.1 200 OK\r\n" + HSTS + b"Content-Length: 0\r\n\r\n")
        else:
            location = f"https://localhost:{self.port}/".encode()
            conn.sendall(b"HTTP/1.1 301 Moved\r\nLocation: " + location + b"\r\n\r\n")


def _request_lines(heads: bytes) -> list[bytes]:
    return [h.split(b"\r\n", 1)[0] for h in heads.split(b"\r\n\r\n") if h]


def _header_names(heads: bytes) -> set[bytes]:
    names = set()
    for head in heads.split(b"\r\n\r\n"):
        for line in head.split(b"\r\n")[1:]:
            names.add(line.split(b":", 1)[0].strip().lower())
    return names


# --- class 4: nothing the user did not ask ----------------------------------------------

# Each value the user gives gets its own "name-" prefix: "-" is not in the token alphabet,
# so one value can never be found inside another by chance, only where it was sent.
_TOKEN = st.text(string.ascii_letters + string.digits, min_size=6, max_size=24)
_PASSWORD = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"))
    | st.sampled_from("@/:%?# '\"\\="),
    min_size=4,
    max_size=20,
).map(lambda text: "pw-" + text)


def _named(name: str) -> st.SearchStrategy[str]:
    return _TOKEN.map(lambda text: f"{name}-{text}")


@settings(
    max_examples=8,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    path=_named("path"),
    token=_named("tok"),
    user=_named("user"),
    password=_PASSWORD,
    fragment=_named("frag"),
    trusted=st.booleans(),
)
def test_https_target_sends_its_path_only_over_verified_tls(
    certs: tuple[Path, Path, Path],
    path: str,
    token: str,
    user: str,
    password: str,
    fragment: str,
    trusted: bool,
) -> None:
    cert, key, ca = certs
    web = Web(cert, key)
    with serving(web) as server:
        web.port = server.port
        url = (
            f"https://{user}:{quote(password, safe='')}@localhost:{server.port}"
            f"/p/{path}?token={token}#{fragment}"
        )
        endpoint, _ = probe_in_thread(url, ProbeSettings(ca=ca if trusted else cert, timeout=5))
        received = bytes(server.received)
    clear, inside = bytes(web.clear), bytes(web.inside_tls)
    # Plain HTTP: exactly the bare question, on its own connection.
    assert _request_lines(clear) == [b"GET / HTTP/1.1"]
    assert _header_names(clear) == {b"host", b"user-agent", b"accept", b"connection"}
    never_sent = [user, password, quote(password, safe=""), fragment]
    for secret in [*never_sent, path, token]:
        assert secret.encode() not in received  # nothing in clear, nothing before TLS
    for secret in never_sent:
        assert secret.encode() not in inside  # userinfo and fragment: not even inside TLS
    assert _header_names(inside) == {b"host", b"user-agent", b"accept", b"connection"}
    if trusted:  # the user asked for this URL, and the connection verified for the host
        assert _request_lines(inside) == [f"GET /p/{path}?token={token} HTTP/1.1".encode()]
        assert endpoint.fact("HTTPS request") is None
    else:  # the certificate does not verify (--ca is not its issuer): the path stays home
        assert path.encode() not in inside and token.encode() not in inside
        assert _request_lines(inside) == [b"GET / HTTP/1.1"]
        assert "GET / only" in str(endpoint.fact("HTTPS request"))
    assert endpoint.fact("HSTS") == "max-age=31536000; includeSubDomains"


def test_http_target_is_asked_a_bare_get(certs: tuple[Path, Path, Path]) -> None:
    cert, key, _ = certs
    web = Web(cert, key)
    with serving(web) as server:
        web.port = server.port
        url = f"http://admin:hunter2@localhost:{server.port}/reset/SECRET-path?key=SECRET-key"
        endpoint, _ = probe_in_thread(url, ProbeSettings(timeout=5))
        received = bytes(server.received)
    assert _request_lines(bytes(web.clear)) == [b"GET / HTTP/1.1"]
    for secret in (b"admin", b"hunter2", b"SECRET"):
        assert secret not in received
    assert "hunter2" not in endpoint.target and "SECRET-key" not in endpoint.target
    assert str(endpoint.fact("plain HTTP")).startswith("redirects to https://localhost")


def _refuse_everything(sock: RecordingSocket) -> None:
    """'N' to SSLRequest and GSSENCRequest, a pg_hba refusal to any StartupMessage."""
    while True:
        packet = read_packet(sock)
        if packet[4:8] in (struct.pack("!i", 80877103), struct.pack("!i", 80877104)):
            sock.sendall(b"N")
            continue
        body = b"SFATAL\x00C28000\x00Mno pg_hba.conf entry\x00\x00"
        sock.sendall(b"E" + struct.pack("!i", len(body) + 4) + body)
        return


@settings(max_examples=10, deadline=None, database=None)
@given(
    user=_named("user"),
    database=_named("db"),
    password=_PASSWORD,
    application=_named("app"),
    options=_named("opt"),
    sslpassword=_named("sslpw"),
)
def test_a_dsn_gives_the_wire_its_user_and_database_only(
    user: str, database: str, password: str, application: str, options: str, sslpassword: str
) -> None:
    with serving(_refuse_everything) as server:
        dsn = (
            f"postgresql://{user}:{quote(password, safe='')}@127.0.0.1:{server.port}/{database}"
            f"?application_name={application}&options={options}&sslpassword={sslpassword}"
        )
        endpoint, _ = probe_in_thread(dsn, ProbeSettings(timeout=5))
        received = bytes(server.received)
    assert f"{user}\x00".encode() in received and f"{database}\x00".encode() in received
    for secret in (password, quote(password, safe=""), application, options, sslpassword):
        assert secret.encode() not in received
        assert secret not in repr(endpoint)


# --- class 2, probe bullet: one deadline per target -----------------------------------------


def trickle_http(interval: float, first_delay: float = 0.0) -> Behaviour:
    """Reads the request, then sends a response head one byte per `interval`, without end."""

    def behaviour(sock: RecordingSocket) -> None:
        while b"\r\n\r\n" not in sock.recv(4096):
            pass
        time.sleep(first_delay)
        for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100_000:
            sock.sendall(bytes([byte]))
            time.sleep(interval)

    return behaviour


def slow_server_hello(interval: float, first_delay: float = 0.0) -> Behaviour:
    """'S' to the SSLRequest, then a TLS record header and its body one byte per `interval`."""

    def behaviour(sock: RecordingSocket) -> None:
        packet = read_packet(sock)
        if packet[4:8] != struct.pack("!i", 80877103):
            _refuse_everything_after(sock, packet)
            return
        sock.sendall(b"S")
        sock.recv(4096)  # the ClientHello
        time.sleep(first_delay)
        sock.sendall(b"\x16\x03\x03\x40\x00\x02")  # a ServerHello record of 16 KiB begins
        for _ in range(100_000):
            sock.sendall(b"\x00")
            time.sleep(interval)

    return behaviour


def slow_error_message(interval: float, first_delay: float = 0.0) -> Behaviour:
    """'N' to the SSLRequest, then an ErrorResponse one byte per `interval`."""

    def behaviour(sock: RecordingSocket) -> None:
        while True:
            packet = read_packet(sock)
            if packet[4:8] not in (struct.pack("!i", 80877103), struct.pack("!i", 80877104)):
                break
            sock.sendall(b"N")
        time.sleep(first_delay)
        sock.sendall(b"E" + struct.pack("!i", 10_000))
        for _ in range(100_000):
            sock.sendall(b"M")
            time.sleep(interval)

    return behaviour


def _refuse_everything_after(sock: RecordingSocket, packet: bytes) -> None:
    if packet[4:8] == struct.pack("!i", 80877104):
        sock.sendall(b"N")
        return
    body = b"SFATAL\x00C28000\x00Mno pg_hba.conf entry\x00\x00"
    sock.sendall(b"E" + struct.pack("!i", len(body) + 4) + body)


def assert_timed_out(endpoint: EndpointResult, seconds: float, timeout: float) -> None:
    assert seconds <= timeout + BOUND_MARGIN, f"took {seconds:.2f} s with --timeout {timeout:g}"
    assert len(endpoint.errors) == 1, endpoint.errors
    assert endpoint.errors[0].startswith(
        f"timed out: the probe did not finish within {timeout:g} s"
    )


def test_http_headers_trickled_a_byte_at_a_time_end_at_the_timeout() -> None:
    with serving(trickle_http(0.05)) as server:
        endpoint, seconds = probe_in_thread(
            f"http://127.0.0.1:{server.port}/", ProbeSettings(timeout=1.0)
        )
    assert_timed_out(endpoint, seconds, 1.0)
    assert "HTTP response headers" in endpoint.errors[0]


def test_https_headers_trickled_end_at_the_timeout(certs: tuple[Path, Path, Path]) -> None:
    cert, key, ca = certs
    web = Web(cert, key, trickle=0.05)
    with serving(web) as server:
        web.port = server.port
        endpoint, seconds = probe_in_thread(
            f"https://localhost:{server.port}/", ProbeSettings(ca=ca, timeout=1.0)
        )
    assert_timed_out(endpoint, seconds, 1.0)
    assert endpoint.fact("TLS versions") == "TLSv1.2, TLSv1.3"  # what finished in time stays


def test_a_slow_server_hello_after_s_ends_at_the_timeout() -> None:
    """Every TLS question waits on the same trickle; they share one deadline, so the
    ones queued behind the first eight do not start a budget of their own."""
    with serving(slow_server_hello(0.05)) as server:
        endpoint, seconds = probe_in_thread(
            f"127.0.0.1:{server.port}", ProbeSettings(timeout=2.0, users=("app",))
        )
    assert_timed_out(endpoint, seconds, 2.0)
    assert endpoint.fact("SSLRequest") == "S (TLS offered)"


def test_a_slow_error_message_ends_at_the_timeout() -> None:
    with serving(slow_error_message(0.05)) as server:
        endpoint, seconds = probe_in_thread(
            f"127.0.0.1:{server.port}", ProbeSettings(timeout=1.0, users=("app",))
        )
    assert_timed_out(endpoint, seconds, 1.0)
    assert [f.rule_id for f in endpoint.findings] == ["VF201"]  # seen before time ran out


_TRICKLERS: dict[str, Callable[[float, float], Behaviour]] = {
    "http": trickle_http,
    "server-hello": slow_server_hello,
    "error-message": slow_error_message,
}


@settings(max_examples=8, deadline=None, database=None)
@given(
    kind=st.sampled_from(sorted(_TRICKLERS)),
    interval=st.floats(0.01, 0.3),
    first_delay=st.floats(0.0, 0.3),
)
def test_random_trickle_schedules_never_outlast_the_timeout(
    kind: str, interval: float, first_delay: float
) -> None:
    timeout = 0.6
    with serving(_TRICKLERS[kind](interval, first_delay)) as server:
        text = f"http://127.0.0.1:{server.port}/" if kind == "http" else f"127.0.0.1:{server.port}"
        endpoint, seconds = probe_in_thread(text, ProbeSettings(timeout=timeout, users=("app",)))
    assert_timed_out(endpoint, seconds, timeout)


def test_deep_runs_in_what_is_left_of_the_timeout(
    certs: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    cert, key, ca = certs
    sslyze = tmp_path / "sslyze"
    sslyze.write_text(f"#!{sys.executable}\nimport time\ntime.sleep(60)\n")
    sslyze.chmod(0o755)
    web = Web(cert, key)
    with serving(web) as server:
        web.port = server.port
        endpoint, seconds = probe_in_thread(
            f"https://localhost:{server.port}/",
            ProbeSettings(ca=ca, timeout=1.5, sslyze=str(sslyze)),
        )
    assert_timed_out(endpoint, seconds, 1.5)
    assert "sslyze did not finish" in endpoint.errors[0]
    assert endpoint.fact("HSTS") == "max-age=31536000; includeSubDomains"


def test_a_hung_name_lookup_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo
    release = threading.Event()

    def hung(host: str, *args: object, **kwargs: object) -> object:
        if host == "hung.invalid":
            release.wait(30)
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(net.socket, "getaddrinfo", hung)
    started = time.monotonic()
    try:
        with pytest.raises(net.WireTimeout, match="no address for hung.invalid within 0.3 s"):
            net.resolve("hung.invalid", 5432, net.Deadline(0.3))
    finally:
        release.set()
    assert time.monotonic() - started <= 0.3 + BOUND_MARGIN
