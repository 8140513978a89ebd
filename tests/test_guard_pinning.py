"""Optional pinning of the server certificate or its CA (DB_PIN_SHA256), on real servers."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from verifyfull.errors import InsecureConfigurationError
from verifyfull.guard import asyncpg_, psycopg_
from verifyfull.guard.core import Guard
from verifyfull.guard.settings import DatabaseTLSSettings
from verifyfull.lab.harness import LabServer

pytestmark = pytest.mark.pg


def _guard(server: LabServer, pins: str = "") -> Guard:
    settings = DatabaseTLSSettings(
        host=server.hostname,
        port=server.port,
        name=server.database,
        user="app",
        certs_dir=server.certs_dir,
        connect_timeout=5,
        pin_sha256=pins,
    )
    return Guard(settings.resolve())


async def _connect_both(guard: Guard) -> None:
    conn = await asyncpg_.connect(guard)
    await conn.close()
    pconn = await psycopg_.connect_async(guard)
    await pconn.close()


def _ca_pin(server: LabServer) -> str:
    ca = x509.load_pem_x509_certificate((server.certs_dir / "ca.crt").read_bytes())
    return hashlib.sha256(ca.public_bytes(serialization.Encoding.DER)).hexdigest()


async def test_pinned_server_certificate_and_pinned_ca_connect(lab: Any) -> None:
    server = lab("secure")
    unpinned = _guard(server)
    await _connect_both(unpinned)
    assert unpinned.proofs.last is not None
    seen = unpinned.proofs.last.server_cert_sha256
    assert seen is not None
    colon_hex = ":".join(seen[i : i + 2] for i in range(0, 64, 2)).upper()
    await _connect_both(_guard(server, colon_hex))
    await _connect_both(_guard(server, _ca_pin(server)))


async def test_pin_mismatch_is_refused_and_the_connection_never_used(lab: Any) -> None:
    server = lab("secure")
    guard = _guard(server, "ab" * 32)
    with pytest.raises(InsecureConfigurationError) as err:
        await asyncpg_.connect(guard)
    assert err.value.rule_id == "VF301" and "pinned" in str(err.value)
    with pytest.raises(InsecureConfigurationError) as perr:
        await psycopg_.connect_async(guard)
    assert perr.value.rule_id == "VF301"
    assert guard.proofs.proven == 0 and guard.proofs.refused == 2
