"""Metrics scraped from a running FastAPI app: counters, the expiry gauge, a rotation.

The app connects through the guard (asyncpg) and through a raw driver call
with sslmode=require, with enforcement in audit mode; /metrics is
verifyfull.metrics.metrics_app mounted in the app. Then the client
certificate is replaced on disk: the next scrape shows the rotation and the
new certificate's expiry.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

import verifyfull
import verifyfull.errors
from verifyfull.certs.create import KeySpec, Validity, create_client
from verifyfull.guard import asyncpg_
from verifyfull.guard.core import Guard
from verifyfull.guard.settings import DatabaseTLSSettings
from verifyfull.metrics import metrics_app
from verifyfull.runtime import Enforcement

pytestmark = pytest.mark.pg

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
def auditing() -> Iterator[Enforcement]:
    handle = verifyfull.enforce("audit")
    yield handle
    handle.stop()


def _samples(text: str) -> Samples:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _value(samples: Samples, metric: str, **labels: str) -> float:
    matches = [
        v for (n, ls), v in samples.items() if n == metric and set(labels.items()) <= set(ls)
    ]
    assert len(matches) == 1, (metric, labels, sorted(k for k in samples if k[0] == metric))
    return matches[0]


async def test_fastapi_metrics_show_counters_expiry_and_a_rotation(
    lab: Any, tmp_path: Path, auditing: Enforcement
) -> None:
    server = lab("secure")
    certs = tmp_path / "certs"  # a copy the test may rotate
    shutil.copytree(server.certs_dir, certs)
    guard = Guard(
        DatabaseTLSSettings(
            host=server.hostname,
            port=server.port,
            name=server.database,
            user="app",
            certs_dir=certs,
            connect_timeout=5,
        ).resolve(),
        min_check_interval=0,
    )
    app = FastAPI()
    app.mount("/metrics", metrics_app(enforcement=auditing, guards=[guard]))

    @app.get("/guarded")
    async def guarded() -> int:
        conn = await asyncpg_.connect(guard)
        try:
            return int(await conn.fetchval("SELECT 1"))
        finally:
            await conn.close()

    @app.get("/legacy")
    async def legacy() -> int:
        conn = await asyncpg.connect(server.dsn(sslmode="require"), timeout=5)
        try:
            return int(await conn.fetchval("SELECT 1"))
        finally:
            await conn.close()

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        for path in ("/guarded", "/guarded", "/legacy"):
            assert (await client.get(path)).json() == 1
        scrape = await client.get("/metrics/")
        assert scrape.status_code == 200
        before = _samples(scrape.text)

        assert (
            _value(before, "verifyfull_connections_total", driver="asyncpg", verdict="verify-full")
            == 2
        )
        assert _value(before, "verifyfull_connections_total", verdict="VF104") == 1
        assert _value(before, "verifyfull_guard_connections_total", result="proven") == 2
        assert _value(before, "verifyfull_certificate_rotations_total") == 0
        server_left = _value(
            before,
            "verifyfull_certificate_expiry_seconds",
            certificate="server",
            name=guard_name(guard),
        )
        assert server_left > 30 * 86400
        client_before = _value(
            before,
            "verifyfull_certificate_expiry_seconds",
            certificate="client",
            name=str(certs / "client.app.crt"),
        )
        ca_left = _value(before, "verifyfull_certificate_expiry_seconds", certificate="ca")
        assert ca_left > client_before > 0

        # Rotation: a new client certificate that expires in 10 days.
        create_client(
            "app",
            certs,
            server.ca_key,
            key=KeySpec("ec", 256),
            validity=Validity(lifetime=dt.timedelta(days=10)),
            overwrite=True,
        )
        assert (await client.get("/guarded")).json() == 1
        after = _samples((await client.get("/metrics/")).text)

    assert _value(after, "verifyfull_certificate_rotations_total") == 1
    client_after = _value(
        after,
        "verifyfull_certificate_expiry_seconds",
        certificate="client",
        name=str(certs / "client.app.crt"),
    )
    assert 9 * 86400 < client_after < 10 * 86400 < client_before
    assert _value(after, "verifyfull_guard_connections_total", result="proven") == 3
    assert (
        _value(after, "verifyfull_connections_total", driver="asyncpg", verdict="verify-full") == 3
    )
    guard.close()


def guard_name(guard: Guard) -> str:
    return ",".join(f"{h}:{p}" for h, p in guard.target.hosts)


async def test_refusals_are_counted_by_rule(lab: Any) -> None:
    server = lab("secure")
    handle = verifyfull.enforce("refuse")
    try:
        app = metrics_app(enforcement=handle)
        for sslmode in ("require", "prefer", "prefer"):
            with pytest.raises(verifyfull.runtime.ConnectionRefusedByPolicy):
                await asyncpg.connect(server.dsn(sslmode=sslmode), timeout=5)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://m") as client:
            samples = _samples((await client.get("/")).text)
    finally:
        handle.stop()
    assert _value(samples, "verifyfull_refusals_total", rule="VF104") == 1
    assert _value(samples, "verifyfull_refusals_total", rule="VF102") == 2
    assert not [k for k in samples if k[0] == "verifyfull_connections_total"]


async def test_guard_refusals_are_counted_by_the_rule_they_name(lab: Any) -> None:
    """The guard refuses a server with the wrong host name and one without TLS: the
    scrape shows each refusal under its rule, next to the proven/refused totals."""
    guards = []
    for variant, ca_variant in (("wrong-host", "wrong-host"), ("no-tls", "secure")):
        server = lab(variant)
        guard = Guard(
            DatabaseTLSSettings(
                host=server.hostname,
                port=server.port,
                name=server.database,
                user=server.password_user,
                password=SecretStr("not-used"),
                ca_path=lab(ca_variant).certs_dir / "ca.crt",
                connect_timeout=5,
            ).resolve()
        )
        with pytest.raises(verifyfull.errors.InsecureConfigurationError):
            await asyncpg_.connect(guard)
        guards.append(guard)
    transport = httpx.ASGITransport(app=metrics_app(guards=guards))
    async with httpx.AsyncClient(transport=transport, base_url="http://m") as client:
        samples = _samples((await client.get("/")).text)
    for guard, rule in zip(guards, ("VF302", "VF201"), strict=True):
        name = guard_name(guard)
        assert _value(samples, "verifyfull_guard_refusals_total", target=name, rule=rule) == 1
        assert _value(samples, "verifyfull_guard_connections_total", target=name, result="refused")
        guard.close()
