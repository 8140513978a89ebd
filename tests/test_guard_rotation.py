"""Certificate rotation: files replaced on disk reach new connections; bad sets are kept out.

The unit part works on files only; the pg part checks server side
(pg_stat_ssl.client_serial) that new connections present the new certificate.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from verifyfull.certs.create import KeySpec, Validity, create_ca, create_client
from verifyfull.errors import UsageError
from verifyfull.guard import asyncpg_, psycopg_, sqlalchemy_
from verifyfull.guard.core import Guard
from verifyfull.guard.rotation import CertMaterial
from verifyfull.guard.settings import DatabaseTLSSettings
from verifyfull.lab.harness import LabServer


def _serial(cert: Path) -> int:
    return x509.load_pem_x509_certificate(cert.read_bytes()).serial_number


def _replace_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".new")
    tmp.write_bytes(data)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


@pytest.fixture
def certs(tmp_path: Path) -> tuple[Path, Path]:
    certs_dir, ca_key = tmp_path / "certs", tmp_path / "ca.key"
    create_ca(certs_dir, ca_key, key=KeySpec("ec", 256))
    create_client("app", certs_dir, ca_key, key=KeySpec("ec", 256))
    return certs_dir, ca_key


def _guard(certs_dir: Path, **more: Any) -> Guard:
    """A guard whose every new connection looks at the files (no rate limit)."""
    settings = DatabaseTLSSettings(host="db", user="app", certs_dir=certs_dir, **more)
    return Guard(settings.resolve(), min_check_interval=0)


def test_rotation_builds_a_new_context_and_snapshot(certs: tuple[Path, Path]) -> None:
    certs_dir, ca_key = certs
    guard = _guard(certs_dir)
    first_ctx, first_files = guard.ssl_context(), guard.material.libpq_files()
    assert first_files.cert is not None
    first_serial = _serial(first_files.cert)
    assert guard.material.check() is False  # nothing changed
    create_client("app", certs_dir, ca_key, key=KeySpec("ec", 256), overwrite=True)
    assert guard.ssl_context() is not first_ctx
    files = guard.material.libpq_files()
    assert files.cert is not None and _serial(files.cert) == _serial(certs_dir / "client.app.crt")
    assert _serial(files.cert) != first_serial
    assert guard.material.rotations == 1 and guard.material.last_rotation is not None
    assert guard.health()["rotations"] == 1
    guard.close()


def test_invalid_rotation_keeps_the_last_good_set_and_reports(certs: tuple[Path, Path]) -> None:
    certs_dir, ca_key = certs
    guard = _guard(certs_dir)
    good_ctx = guard.ssl_context()
    good_serial = _serial(certs_dir / "client.app.crt")
    _replace_atomically(certs_dir / "client.app.crt", b"-----BEGIN CERTIFICATE-----\ngarbage\n")
    assert guard.material.check() is False
    assert guard.ssl_context() is good_ctx
    files = guard.material.libpq_files()
    assert files.cert is not None and _serial(files.cert) == good_serial
    error = guard.health()["rotation_error"]
    assert error is not None and "VF105" in error and "PRIVATE KEY" not in error
    # Fixed files are taken into use at the next check.
    create_client("app", certs_dir, ca_key, key=KeySpec("ec", 256), overwrite=True)
    assert guard.material.check() is True
    assert guard.health()["rotation_error"] is None
    guard.close()


def test_half_rotated_pair_is_not_used_until_the_key_arrives(
    certs: tuple[Path, Path], tmp_path: Path
) -> None:
    certs_dir, ca_key = certs
    guard = _guard(certs_dir)
    staging = tmp_path / "staging"
    staging.mkdir()
    shutil.copy(certs_dir / "ca.crt", staging / "ca.crt")
    create_client("app", staging, ca_key, key=KeySpec("ec", 256))
    # A secret manager that renames the certificate first and the key second.
    _replace_atomically(certs_dir / "client.app.crt", (staging / "client.app.crt").read_bytes())
    assert guard.material.check() is False
    assert guard.material.last_error is not None and "does not match" in guard.material.last_error
    _replace_atomically(certs_dir / "client.app.key", (staging / "client.app.key").read_bytes())
    assert guard.material.check() is True
    guard.close()


def test_rotated_expired_certificate_is_rejected(certs: tuple[Path, Path]) -> None:
    certs_dir, ca_key = certs
    guard = _guard(certs_dir)
    create_client(
        "app",
        certs_dir,
        ca_key,
        key=KeySpec("ec", 256),
        validity=Validity.expired(),
        overwrite=True,
    )
    assert guard.material.check() is False
    assert guard.material.last_error is not None and "VF303" in guard.material.last_error
    guard.close()


def test_listeners_run_after_a_good_rotation_only(certs: tuple[Path, Path]) -> None:
    certs_dir, ca_key = certs
    guard = _guard(certs_dir)
    calls: list[int] = []
    guard.material.on_rotate(lambda: calls.append(1))
    _replace_atomically(certs_dir / "client.app.crt", b"junk")
    guard.material.check()
    assert calls == []
    create_client("app", certs_dir, ca_key, key=KeySpec("ec", 256), overwrite=True)
    guard.material.check()
    assert calls == [1]
    guard.close()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_new_connections_look_at_the_files_at_most_once_per_interval(
    certs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    certs_dir, ca_key = certs
    target = DatabaseTLSSettings(host="db", user="app", certs_dir=certs_dir).resolve()
    clock = FakeClock()
    material = CertMaterial(target, min_check_interval=1.0, clock=clock)
    looks: list[int] = []
    stat = material._stat

    def counted_stat() -> Any:
        looks.append(1)
        return stat()

    monkeypatch.setattr(material, "_stat", counted_stat)
    first = material.context()
    create_client("app", certs_dir, ca_key, key=KeySpec("ec", 256), overwrite=True)
    clock.now += 0.5
    assert material.context() is first and material.libpq_files() is material.libpq_files()
    assert looks == [] and material.rotations == 0  # not due: the last good set is used
    clock.now += 0.5
    rotated = material.context()  # due: this connect looks and takes the new set
    assert rotated is not first and material.rotations == 1 and looks == [1]
    assert material.context() is rotated and looks == [1]
    create_client("app", certs_dir, ca_key, key=KeySpec("ec", 256), overwrite=True)
    assert material.check() is True and len(looks) == 2  # the poll looks whenever it runs
    material.close()


def test_a_negative_interval_is_a_usage_error(certs: tuple[Path, Path]) -> None:
    target = DatabaseTLSSettings(host="db", user="app", certs_dir=certs[0]).resolve()
    with pytest.raises(UsageError, match="min_check_interval"):
        CertMaterial(target, min_check_interval=-1)


# --- against the real server ---------------------------------------------------------

SERIAL = "SELECT client_serial FROM pg_stat_ssl WHERE pid = pg_backend_pid()"


def _rotatable_copy(server: LabServer, tmp_path: Path) -> Path:
    """A private certs dir (the lab's own is shared by other tests)."""
    certs_dir = tmp_path / "rot-certs"
    certs_dir.mkdir()
    for name in ("ca.crt", "client.app.crt", "client.app.key"):
        shutil.copy2(server.certs_dir / name, certs_dir / name)
    return certs_dir


def _lab_guard(server: LabServer, certs_dir: Path) -> Guard:
    settings = DatabaseTLSSettings(
        host=server.hostname,
        port=server.port,
        name=server.database,
        user="app",
        certs_dir=certs_dir,
        connect_timeout=5,
    )
    return Guard(settings.resolve())


@pytest.mark.pg
async def test_pools_present_the_new_certificate_after_rotation(lab: Any, tmp_path: Path) -> None:
    server = lab("secure")
    certs_dir = _rotatable_copy(server, tmp_path)
    guard = _lab_guard(server, certs_dir)
    apool = await asyncpg_.create_pool(guard, min_size=1, max_size=2)
    ppool = await psycopg_.create_async_pool(guard, min_size=1, max_size=2, timeout=10)
    engine = sqlalchemy_.create_guarded_async_engine(guard, "postgresql+asyncpg")
    try:
        old = _serial(certs_dir / "client.app.crt")
        assert int(await apool.fetchval(SERIAL)) == old
        for _ in range(3):
            create_client("app", certs_dir, server.ca_key, overwrite=True)
            new = _serial(certs_dir / "client.app.crt")
            assert guard.material.check() is True
            await asyncio.sleep(0.2)  # let the scheduled expire/drain run
            # asyncpg: expired pool connections are replaced on next acquire.
            assert int(await apool.fetchval(SERIAL)) == new
            # psycopg: drained pool, libpq reads the new snapshot.
            async with ppool.connection() as conn:
                row = await (await conn.execute(SERIAL)).fetchone()
                assert row is not None and int(row[0]) == new
            # SQLAlchemy: connections older than the rotation are recycled at checkout.
            from sqlalchemy import text

            async with engine.connect() as sconn:
                assert int((await sconn.execute(text(SERIAL))).scalar_one()) == new
    finally:
        await apool.close()
        await ppool.close()
        await engine.dispose()
        guard.close()


def _sync_serials(guard: Guard, certs_dir: Path, server: LabServer) -> None:
    from sqlalchemy import text

    pool = psycopg_.create_pool(guard, min_size=1, max_size=2, timeout=10)
    engine = sqlalchemy_.create_guarded_engine(guard, "cockroachdb+psycopg")
    try:
        with engine.connect() as sconn:
            sconn.execute(text("SELECT 1"))  # a pooled connection from before the rotation
        create_client("app", certs_dir, server.ca_key, overwrite=True)
        new = _serial(certs_dir / "client.app.crt")
        assert guard.material.check() is True
        with pool.connection() as conn:
            row = conn.execute(SERIAL).fetchone()
            assert row is not None and int(row[0]) == new
        with engine.connect() as sconn:
            assert int(sconn.execute(text(SERIAL)).scalar_one()) == new
    finally:
        pool.close()
        engine.dispose()


@pytest.mark.pg
async def test_sync_psycopg_pool_and_engine_present_the_new_certificate(
    lab: Any, tmp_path: Path
) -> None:
    server = lab("secure")
    certs_dir = _rotatable_copy(server, tmp_path)
    guard = _lab_guard(server, certs_dir)
    try:
        await asyncio.to_thread(_sync_serials, guard, certs_dir, server)
    finally:
        guard.close()


@pytest.mark.pg
@pytest.mark.filterwarnings("ignore:Module .* has no models:RuntimeWarning")
@pytest.mark.parametrize("backend", ["asyncpg", "psycopg"])
async def test_tortoise_connections_carry_the_new_certificate_within_the_bound(
    lab: Any, tmp_path: Path, backend: Any
) -> None:
    from tortoise import Tortoise

    from verifyfull.guard.tortoise_ import init_tortoise

    server = lab("secure")
    certs_dir = _rotatable_copy(server, tmp_path)
    guard = _lab_guard(server, certs_dir)
    apps = {"models": {"models": [__name__]}}  # no models here; a connection is enough
    await init_tortoise(guard, apps=apps, backend=backend, max_connection_age=1.0)
    try:
        conn = Tortoise.get_connection("default")
        old = _serial(certs_dir / "client.app.crt")
        rows = await conn.execute_query_dict(SERIAL)
        assert int(rows[0]["client_serial"]) == old
        create_client("app", certs_dir, server.ca_key, overwrite=True)
        new = _serial(certs_dir / "client.app.crt")
        assert guard.material.check() is True  # what the background poll does
        deadline = asyncio.get_running_loop().time() + 15
        seen = old
        while seen != new and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.5)
            rows = await conn.execute_query_dict(SERIAL)
            seen = int(rows[0]["client_serial"])
        assert seen == new
    finally:
        await Tortoise.close_connections()
        guard.close()


def test_ca_rotation_replaces_the_trust_store(certs: tuple[Path, Path], tmp_path: Path) -> None:
    """A new CA bundle (old + new CA, as during a CA roll-over) reaches new contexts."""
    certs_dir, _ = certs
    guard = _guard(certs_dir)
    assert len(guard.ssl_context().get_ca_certs()) == 1
    new_dir = tmp_path / "new-ca"
    create_ca(new_dir, tmp_path / "new-ca.key", key=KeySpec("ec", 256))
    bundle = (certs_dir / "ca.crt").read_bytes() + (new_dir / "ca.crt").read_bytes()
    _replace_atomically(certs_dir / "ca.crt", bundle)
    assert guard.material.check() is True
    assert len(guard.ssl_context().get_ca_certs()) == 2
    guard.close()
