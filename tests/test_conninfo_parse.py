"""Every written form reads into one ConnInfo, agreeing with the library that owns the form."""

from __future__ import annotations

import ssl

import pytest

from verifyfull.conninfo import (
    ConnStringError,
    HostPort,
    Source,
    SSLArgKind,
    from_asyncpg_kwargs,
    from_environment,
    from_sqlalchemy_url,
    from_tortoise_config,
    from_tortoise_db_url,
    from_url_parts,
    parse_dsn,
)
from verifyfull.conninfo import parse as parse_module


def test_url_fields() -> None:
    info = parse_dsn(
        "postgresql://u%40x@[::1]:26257/my%20db?sslmode=verify-full&sslrootcert=ca.crt"
    )
    assert info.source is Source.URL and info.scheme == "postgresql" and info.dialect is None
    assert info.user == "u@x" and info.database == "my db"
    assert info.hosts == (HostPort("::1", 26257),)
    assert info.param("sslmode") == "verify-full" and info.param("sslrootcert") == "ca.crt"


def test_multi_host_url_and_keywords_agree() -> None:
    url = parse_dsn("postgresql://root@h1:26257,h2:26258,[::1]/db")
    kw = parse_dsn("host=h1,h2,::1 port=26257,26258, user=root dbname=db")
    assert url.hosts == kw.hosts == (HostPort("h1", 26257), HostPort("h2", 26258), HostPort("::1"))


def test_one_port_serves_every_host() -> None:
    info = parse_dsn("host=h1,h2 port=26257")
    assert info.hosts == (HostPort("h1", 26257), HostPort("h2", 26257))


def test_port_count_mismatch_is_refused() -> None:
    with pytest.raises(ConnStringError, match="could not match 3 port numbers to 2 hosts"):
        parse_dsn("host=h1,h2 port=1,2,3")


def test_unix_sockets() -> None:
    encoded = parse_dsn("postgresql://%2Fvar%2Frun%2Fpostgresql/db")
    query = parse_dsn("postgresql:///db?host=/var/run/postgresql")
    assert encoded.hosts == query.hosts == (HostPort("/var/run/postgresql"),)
    assert encoded.only_unix_sockets and "%2Fvar%2Frun%2Fpostgresql" not in encoded.to_url()
    assert parse_dsn(encoded.to_url()).hosts == encoded.hosts


def test_dialect_and_cockroach_schemes() -> None:
    info = parse_dsn("cockroachdb+asyncpg://root@h:26257/defaultdb")
    assert (info.scheme, info.dialect) == ("cockroachdb", "asyncpg")
    assert info.to_url() == "cockroachdb+asyncpg://root@h:26257/defaultdb"


@pytest.mark.parametrize(
    "bad", ["", "   ", "mysql://h/db", "just words", "postgresql://h:99999/db"]
)
def test_unreadable_strings(bad: str) -> None:
    with pytest.raises(ConnStringError):
        parse_dsn(bad)


def test_keywords_render_back() -> None:
    info = parse_dsn("host=h port=5432 dbname='my db' sslmode=require application_name=a\\'b")
    again = parse_dsn(info.to_keywords())
    assert again == info


def test_asyncpg_kwargs_override_the_dsn() -> None:
    ctx = ssl.create_default_context()
    info = from_asyncpg_kwargs(
        {
            "dsn": "postgresql://u@h1:1/db?sslmode=disable",
            "host": ["a", "b"],
            "port": [5432, 5433],
            "database": "other",
            "ssl": ctx,
            "command_timeout": 5,
        }
    )
    assert info.hosts == (HostPort("a", 5432), HostPort("b", 5433))
    assert info.database == "other" and info.user == "u"
    assert info.ssl.kind is SSLArgKind.CONTEXT
    assert info.kwarg("command_timeout") == "5"
    assert info.param("sslmode") == "disable"  # kept: the driver decides it is ignored


def test_sqlalchemy_string_and_url_object_agree() -> None:
    sa_url = pytest.importorskip("sqlalchemy.engine.url")
    text = "postgresql+asyncpg://u:p%40w@[::1]:26257/db?ssl=require&prepared_statement_cache_size=0"
    from_text = from_sqlalchemy_url(text)
    from_object = from_sqlalchemy_url(sa_url.make_url(text))
    assert from_text == from_object
    assert from_text.password is not None and from_text.password.reveal() == "p@w"
    assert from_text.hosts == (HostPort("::1", 26257),)


@pytest.mark.parametrize(
    "text",
    [
        "postgresql://u:p@h:5432/db?a=1&a=2&b=x+y",
        "postgresql+psycopg://u@h/db",
        "cockroachdb://root@h:26257/defaultdb?sslmode=verify-full&sslrootcert=c%2Fa.crt",
        "postgresql+asyncpg://u:p%2Bq@h/db",
    ],
)
def test_fallback_url_pattern_agrees_with_make_url(text: str) -> None:
    sa_url = pytest.importorskip("sqlalchemy.engine.url")
    real = sa_url.make_url(text)
    ours = parse_module._split_sqlalchemy_url(text)
    assert ours[0] == real.drivername and ours[1] == real.username
    assert ours[2] == real.password and ours[3] == real.host and ours[4] == real.port
    assert ours[5] == real.database
    assert sorted(parse_module._query_pairs(dict(real.query))) == sorted(ours[6])


def test_url_create_parts_and_multihost_query() -> None:
    info = from_url_parts(
        "postgresql+asyncpg",
        username="root",
        database="defaultdb",
        query={"host": ["h1:26257", "h2:26258"], "ssl": "verify-full"},
        connect_args={"server_settings": {"application_name": "x"}},
    )
    assert info.hosts == (HostPort("h1", 26257), HostPort("h2", 26258))
    assert info.param("ssl") == "verify-full" and info.has_kwarg("server_settings")


@pytest.mark.parametrize(
    "url",
    [
        "postgres://app:s%40cret@db:26257/app?ssl=false&minsize=2&sslmode=require&x=",
        "postgres://u:p@ss@H:5/db?ssl=true",
        "postgres://us%40er:p%40w@[::1]:26257/d%20b?password=q",
        "psycopg://u@h/db?minsize=2&host=zz",
        "postgres:///db?host=/tmp&password=pw",
        "postgres://u:p[1]@h/db",
        "asyncpg://h",
    ],
)
def test_tortoise_db_url_agrees_with_expand_db_url(url: str) -> None:
    config_generator = pytest.importorskip("tortoise.backends.base.config_generator")
    real = config_generator.expand_db_url(url)
    info = from_tortoise_db_url(url)
    creds = real["credentials"]
    assert info.engine == real["engine"]
    assert info.hosts == (HostPort(creds["host"], creds["port"]),)
    assert info.user == creds["user"] and info.database == creds["database"]
    assert (info.password.reveal() if info.password else None) == creds["password"]
    # Every other query key Tortoise keeps becomes a credential (kwargs here);
    # blank ones vanish.
    extra = {k for k in creds if k not in ("host", "port", "user", "password", "database")}
    assert {k for k, _ in info.kwargs} == extra
    if "ssl" in creds:
        assert creds["ssl"] is True  # the cast the model reports as VF105


def test_tortoise_refuses_cockroachdb_scheme() -> None:
    with pytest.raises(ConnStringError, match="Tortoise reads only"):
        from_tortoise_db_url("cockroachdb://root@h/db")


def test_tortoise_config_with_both_forms() -> None:
    ctx = ssl.create_default_context()
    infos = from_tortoise_config(
        {
            "connections": {
                "default": {
                    "engine": "tortoise.backends.asyncpg",
                    "credentials": {"host": "db", "port": 26257, "user": "app", "ssl": ctx},
                },
                "other": "psycopg://app@db:26257/app",
            }
        }
    )
    assert infos["default"].source is Source.TORTOISE_CONFIG
    assert infos["default"].ssl.kind is SSLArgKind.CONTEXT
    assert infos["default"].hosts == (HostPort("db", 26257),)
    assert infos["other"].engine == "tortoise.backends.psycopg"


def test_environment_form_is_empty() -> None:
    info = from_environment()
    assert info.source is Source.ENV and not info.hosts and not info.literal
