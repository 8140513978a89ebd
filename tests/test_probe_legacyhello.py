"""The hand-written ClientHello for suites OpenSSL 3 cannot offer (EXPORT, RC4, 3DES, DES).

No installable server accepts these suites any more (its OpenSSL lacks them
too), so the servers here are TEST DOUBLES for that byte-level behaviour: they
read the ClientHello, pick a suite by a fixed preference, and answer with a
ServerHello (or a handshake_failure alert). The real PostgreSQL lab refusing
them is covered by tests/test_probe_lab.py (no finding, no error).
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from verifyfull.probe import legacyhello, tls
from verifyfull.wire.net import Deadline, WireError


def offered_suites(hello: bytes) -> list[int]:
    """Parse our own ClientHello back (record, handshake header, version, random, session)."""
    assert hello[0] == 0x16 and hello[5] == 0x01
    body = hello[9:]
    assert body[:2] == b"\x03\x03"
    offset = 2 + 32
    offset += 1 + body[offset]
    (length,) = struct.unpack("!H", body[offset : offset + 2])
    raw = body[offset + 2 : offset + 2 + length]
    return [struct.unpack("!H", raw[i : i + 2])[0] for i in range(0, len(raw), 2)]


def test_client_hello_offers_exactly_the_codes_plus_scsv() -> None:
    hello = legacyhello.client_hello((0x000A, 0x0005), "db.internal")
    assert offered_suites(hello) == [0x000A, 0x0005, 0x00FF]
    (record_length,) = struct.unpack("!H", hello[3:5])
    assert record_length == len(hello) - 5
    assert b"db.internal" in hello


def test_client_hello_without_sni_for_addresses() -> None:
    assert b"127.0.0.1" not in legacyhello.client_hello((0x000A,), None)


def test_every_legacy_suite_is_weak_by_the_policy() -> None:
    reasons = {c.reason for c in legacyhello.legacy_classes()}
    assert reasons == {
        "export-grade key",
        "RC4 stream cipher",
        "3DES (Sweet32)",
        "single DES",
        "IDEA",
        "SEED",
    }
    assert sum(len(c.codes) for c in legacyhello.legacy_classes()) == len(legacyhello.LEGACY_SUITES)


def server_hello(suite: int) -> bytes:
    body = b"\x03\x03" + b"\x11" * 32 + b"\x00" + struct.pack("!H", suite) + b"\x00"
    handshake = b"\x02" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x03" + struct.pack("!H", len(handshake)) + handshake


@contextmanager
def picky_server(preference: list[int]) -> Iterator[int]:
    """Answers each ClientHello with the first suite of `preference` it offers, else an alert."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def handle(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            data = b""
            while len(data) < 5 or len(data) < 5 + struct.unpack("!H", data[3:5])[0]:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            offered = offered_suites(data)
            chosen = next((s for s in preference if s in offered), None)
            conn.sendall(server_hello(chosen) if chosen else bytes.fromhex("15030300020228"))

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        listener.close()
        thread.join(2)


def endpoint(port: int) -> tls.Endpoint:
    return tls.Endpoint("127.0.0.1", port, "localhost", tls.direct, Deadline(1.0))


def test_a_server_choosing_3des_and_rc4_is_found_class_by_class() -> None:
    with picky_server([0x000A, 0x0005]) as port:
        verdict = legacyhello.accepted_classes(endpoint(port))
    assert verdict.undecided == ""
    assert [(reason, h.cipher, h.version) for reason, h in verdict.accepted] == [
        ("3DES (Sweet32)", "DES-CBC3-SHA", "TLSv1.2"),
        ("RC4 stream cipher", "RC4-SHA", "TLSv1.2"),
    ]


def test_a_server_refusing_every_legacy_suite_takes_one_connection() -> None:
    with picky_server([]) as port:
        verdict = legacyhello.accepted_classes(endpoint(port))
    assert verdict.accepted == () and verdict.undecided == ""


def test_a_server_choosing_a_suite_not_offered_is_undecided() -> None:
    with picky_server([0xC02F]) as port:  # the double "accepts" only a modern suite
        result = legacyhello.offer(endpoint(port), legacyhello.LegacyClass("x", (0xC02F,)))
    assert result.accepted is True and result.cipher == "0xc02f"


def test_garbage_answer_is_a_protocol_error() -> None:
    left, right = socket.socketpair()
    with left, right:
        right.sendall(b"HTTP/1.1 400 Bad\r\n\r\n")
        with pytest.raises(WireError, match="not a TLS answer"):
            legacyhello.read_server_answer(left, Deadline(1))
