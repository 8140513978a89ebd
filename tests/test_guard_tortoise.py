"""Tortoise ORM through the guard, both backends, against real lab servers.

Models are declared in this module and registered as a Tortoise app by
module name.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from tortoise import Tortoise, fields
from tortoise.models import Model

from verifyfull.errors import InsecureConfigurationError
from verifyfull.guard.core import Guard
from verifyfull.guard.settings import DatabaseTLSSettings
from verifyfull.guard.tortoise_ import init_tortoise
from verifyfull.lab.harness import LabServer

pytestmark = pytest.mark.pg

APPS = {"models": {"models": [__name__]}}
SSL_ROW = "SELECT ssl, client_dn FROM pg_stat_ssl WHERE pid = pg_backend_pid()"


class User(Model):
    id = fields.IntField(primary_key=True)
    username = fields.TextField()
    email = fields.TextField()
    active = fields.BooleanField()

    class Meta:
        table = "users"


def _guard(server: LabServer, user: str, ca_server: LabServer | None = None) -> Guard:
    values: dict[str, Any] = {
        "host": server.hostname,
        "port": server.port,
        "name": server.database,
        "user": user,
        "ca_path": (ca_server or server).certs_dir / "ca.crt",
        "connect_timeout": 5,
    }
    if user == server.password_user:
        values["password"] = server.password
    else:
        values["cert_path"] = server.certs_dir / f"client.{user}.crt"
        values["key_path"] = server.certs_dir / f"client.{user}.key"
    return Guard(DatabaseTLSSettings(**values).resolve())


@pytest.fixture
async def closing() -> AsyncIterator[None]:
    yield
    await Tortoise.close_connections()


@pytest.mark.parametrize("backend", ["asyncpg", "psycopg"])
@pytest.mark.parametrize("user", ["app", "app_pw"])
async def test_tortoise_reads_over_verified_tls(
    lab: Any, backend: Any, user: str, closing: None
) -> None:
    server = lab("secure")
    guard = _guard(server, user)
    await init_tortoise(guard, apps=APPS, backend=backend)
    assert [u.username for u in await User.filter(active=True).order_by("id")] == ["alice", "bob"]
    rows = await Tortoise.get_connection("default").execute_query_dict(SSL_ROW)
    expected_dn = "/O=Cockroach/CN=app" if user == "app" else None
    assert rows == [{"ssl": True, "client_dn": expected_dn}]
    assert guard.proofs.proven >= 2 and guard.proofs.refused == 0


@pytest.mark.parametrize("backend", ["asyncpg", "psycopg"])
@pytest.mark.parametrize(("variant", "rule"), [("no-tls", "VF201"), ("other-ca", "VF301")])
async def test_tortoise_refuses_insecure_servers(
    lab: Any, backend: Any, variant: str, rule: str, closing: None
) -> None:
    server = lab(variant)
    guard = _guard(server, "app", ca_server=lab("secure") if variant == "no-tls" else None)
    with pytest.raises(InsecureConfigurationError) as err:
        await init_tortoise(guard, apps=APPS, backend=backend)
    assert err.value.rule_id == rule


async def test_tortoise_default_goes_plaintext_where_the_guard_refuses(
    lab: Any, closing: None
) -> None:
    """Side by side: Tortoise's own asyncpg config without ssl uses asyncpg's prefer."""
    server = lab("no-tls")
    url = f"asyncpg://app@{server.hostname}:{server.port}/{server.database}"
    await Tortoise.init(db_url=url, modules={"models": [__name__]})
    rows = await Tortoise.get_connection("default").execute_query_dict(SSL_ROW)
    assert rows == [{"ssl": False, "client_dn": None}]
