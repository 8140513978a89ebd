"""Hostile and broken servers: each gives an error line or a finding, never a hang.

Every server here is a TEST DOUBLE for byte-level behaviour no installable
server has (silence, garbage, endless bytes, a close mid-handshake, 'S'
followed by extra bytes, a TLS alert, a CVE-2021-23214-vulnerable server).
Each is a small threaded loopback server; the probe runs with a short
timeout, inside a thread that must finish (a hang fails the test instead of
blocking the suite).
"""

from __future__ import annotations

import socket
import ssl
import struct
import threading
from pathlib import Path

import pytest

from doubles import Behaviour, RecordingSocket, loopback_certs, read_packet, serving
from verifyfull.probe.postgres import Login, PgOptions, probe_postgres
from verifyfull.probe.results import EndpointResult

TIMEOUT = 0.5


def run_probe(port: int, **options: object) -> EndpointResult:
    result: list[EndpointResult] = []
    opts = PgOptions(logins=(Login("app", "defaultdb"),), timeout=TIMEOUT, settle=0.05)
    for key, value in options.items():
        opts = PgOptions(**{**opts.__dict__, key: value})
    worker = threading.Thread(
        target=lambda: result.append(probe_postgres("127.0.0.1", port, opts)), daemon=True
    )
    worker.start()
    worker.join(30)
    assert not worker.is_alive(), "the probe hung"
    return result[0]


def silent(sock: RecordingSocket) -> None:
    read_packet(sock)
    threading.Event().wait(3)


def garbage(sock: RecordingSocket) -> None:
    read_packet(sock)
    sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")


def endless(sock: RecordingSocket) -> None:
    read_packet(sock)
    sock.sendall(b"S")
    chunk = b"\x17" * 65536
    for _ in range(2000):  # 128 MiB at most: the probe must stop reading long before
        sock.sendall(chunk)


def answers_n_then_endless_message(sock: RecordingSocket) -> None:
    packet = read_packet(sock)
    if packet[4:8] == struct.pack("!i", 80877103):
        sock.sendall(b"N")
        return
    sock.sendall(b"R" + struct.pack("!i", 0x7FFFFFFF) + b"\x00" * 65536)


def s_plus_extra(sock: RecordingSocket) -> None:
    read_packet(sock)
    sock.sendall(b"S" + b"\x16\x03\x03\x00\x02injected")


def closes_mid_handshake(sock: RecordingSocket) -> None:
    read_packet(sock)
    sock.sendall(b"S")
    sock.recv(5)  # the first bytes of the ClientHello, then hang up


def tls_alert(sock: RecordingSocket) -> None:
    read_packet(sock)
    sock.sendall(b"S")
    sock.recv(4096)
    sock.sendall(bytes.fromhex("15030300020228"))  # fatal handshake_failure


def test_silent_server_gives_a_timeout_error() -> None:
    with serving(silent) as server:
        result = run_probe(server.port)
    assert result.findings == ()
    hint, timeout = result.errors  # the timeout, and what a silent server may be
    assert "no reply to the SSLRequest within 0.5 s" in timeout
    assert f"probe http://127.0.0.1:{server.port}/ instead" in hint


def test_garbage_answer_says_not_postgresql() -> None:
    with serving(garbage) as server:
        result = run_probe(server.port)
    assert result.findings == ()
    assert "not a PostgreSQL-wire server" in result.errors[0]
    assert "HTTP/1.1" in result.errors[0]


def test_endless_bytes_after_s_are_reported_not_read_forever() -> None:
    with serving(endless) as server:
        result = run_probe(server.port)
    assert result.findings == ()
    assert any("bytes after 'S'" in e and "CVE-2021-23222" in e for e in result.errors)
    assert str(result.fact("SSLRequest")).startswith("S + ")


def test_impossible_message_length_is_a_protocol_error() -> None:
    with serving(answers_n_then_endless_message) as server:
        result = run_probe(server.port)
    assert [f.rule_id for f in result.findings] == ["VF201"]
    assert any("impossible length" in e for e in result.errors)


def test_s_followed_by_extra_bytes_is_reported() -> None:
    with serving(s_plus_extra) as server:
        result = run_probe(server.port)
    assert result.findings == ()
    assert len(result.errors) == 1
    assert "sent 13 bytes after 'S'" in result.errors[0]
    assert "injected" in result.errors[0]


def test_close_mid_handshake_is_an_error_line() -> None:
    with serving(closes_mid_handshake) as server:
        result = run_probe(server.port)
    assert result.findings == ()
    assert any(e.startswith("TLS handshake failed") for e in result.errors)
    assert result.fact("TLS versions") == "none"


def test_tls_alert_is_an_error_line() -> None:
    with serving(tls_alert) as server:
        result = run_probe(server.port)
    assert result.findings == ()
    assert any("HANDSHAKE_FAILURE" in e for e in result.errors)


def test_refused_port_is_an_error_line() -> None:
    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        port = placeholder.getsockname()[1]
    result = run_probe(port)
    assert result.findings == ()
    assert result.errors and "cannot connect" in result.errors[0]


@pytest.fixture(scope="module")
def server_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("double-certs")
    cert, key, _ = loopback_certs(base)
    return cert, key


def vulnerable_to_cve_2021_23214(cert: tuple[Path, Path]) -> Behaviour:
    """Answers 'S', completes TLS, then answers the plaintext StartupMessage it had buffered."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(cert[0]), str(cert[1]))

    def behaviour(sock: RecordingSocket) -> None:
        first = sock.recv(8)
        if first[4:8] != struct.pack("!i", 80877103):
            sock.sendall(_error("28000", "no pg_hba.conf entry, no encryption"))
            return
        sock.conn.settimeout(0.1)
        try:  # what came together with the SSLRequest
            buffered = sock.recv(4096)
        except TimeoutError:
            buffered = b""
        sock.conn.settimeout(5)
        sock.sendall(b"S")
        with ctx.wrap_socket(sock.conn, server_side=True) as tls:
            if buffered:  # the bug: process bytes received before the handshake
                tls.sendall(b"R" + struct.pack("!ii", 8, 10))
                return
            read_packet(tls)
            tls.sendall(_error("28000", "connection requires a valid client certificate"))

    return behaviour


def _error(code: str, message: str) -> bytes:
    body = b"SFATAL\x00C" + code.encode() + b"\x00M" + message.encode() + b"\x00\x00"
    return b"E" + struct.pack("!i", len(body) + 4) + body


def test_buffered_startup_processed_gives_vf206(server_cert: tuple[Path, Path]) -> None:
    with serving(vulnerable_to_cve_2021_23214(server_cert)) as server:
        result = run_probe(server.port)
    rules = sorted(f.rule_id for f in result.findings)
    assert "VF206" in rules
    assert str(result.fact("data buffered with SSLRequest")).startswith("PROCESSED")


def test_no_credential_is_ever_sent() -> None:
    """The DSN's password never reaches the wire (canary) and never appears in results."""
    from verifyfull.probe.runner import ProbeSettings, run
    from verifyfull.probe.targets import parse_target

    canary = "CANARY-pw-7f3e9a"
    with serving(answers_n_then_endless_message) as server:
        target = parse_target(f"postgresql://app:{canary}@127.0.0.1:{server.port}/defaultdb")
        outcome = run([target], ProbeSettings(timeout=TIMEOUT))
        received = bytes(server.received)
    assert b"app\x00" in received  # the StartupMessage did arrive
    assert canary.encode() not in received
    assert canary not in repr(outcome)
    assert canary not in target.text


def _message(kind: bytes, payload: bytes) -> bytes:
    return kind + struct.pack("!i", len(payload) + 4) + payload


def cockroach_insecure(sock: RecordingSocket) -> None:
    """A double of `cockroach start --insecure` as its source describes it: 'N' to the
    SSLRequest, an ErrorResponse to the GSSENCRequest, and any user let in at once
    (AuthenticationOk, ParameterStatus with crdb_version, ReadyForQuery)."""
    packet = read_packet(sock)
    code = packet[4:8]
    if code == struct.pack("!i", 80877103):
        sock.sendall(b"N")
    elif code == struct.pack("!i", 80877104):
        sock.sendall(_error("08P01", "unsupported GSSENC request"))
    else:
        sock.sendall(
            _message(b"R", struct.pack("!i", 0))
            + _message(b"S", b"crdb_version\x00CockroachDB CCL v24.1.0\x00")
            + _message(b"S", b"server_version\x0013.0.0\x00")
            + _message(b"Z", b"I")
        )


def test_cockroachdb_insecure_is_identified_and_named_in_the_fix() -> None:
    with serving(cockroach_insecure) as server:
        result = run_probe(server.port)
    assert result.kind == "cockroachdb"
    assert [f.rule_id for f in result.findings] == ["VF201"]
    assert "--insecure" in result.findings[0].fix
    assert str(result.fact("plaintext app@defaultdb")).startswith("lets-in")
    assert result.errors == ()
