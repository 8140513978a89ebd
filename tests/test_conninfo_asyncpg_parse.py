"""The model's reading of asyncpg input agrees with asyncpg's own parser.

asyncpg computes its whole TLS decision (sslmode, SSLContext with verify_mode
and check_hostname) in connect_utils._parse_connect_dsn_and_args before any
network I/O. Calling that private function (tests only) checks the model
against asyncpg 0.32 for inputs no server is needed for: blank query values,
'+' in file paths, host lists, IPv6, sockets, PG* variables.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest

from verifyfull.certs.create import create_ca, create_client
from verifyfull.conninfo import Environment, HostPort, evaluate, from_asyncpg_kwargs
from verifyfull.conninfo.libpq_options import SESSION_ATTRIBUTES, option_refusal

connect_utils = pytest.importorskip("asyncpg.connect_utils")
asyncpg_exceptions = pytest.importorskip("asyncpg.exceptions")


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    base = tmp_path_factory.mktemp("apgparse")
    create_ca(base / "certs", base / "ca.key")
    create_client("root", base / "certs", base / "ca.key")
    plus = base / "certs" / "c+a.crt"
    plus.write_bytes((base / "certs" / "ca.crt").read_bytes())
    return {
        "ca": str(base / "certs" / "ca.crt"),
        "plus_ca": str(plus),
        "cert": str(base / "certs" / "client.root.crt"),
        "key": str(base / "certs" / "client.root.key"),
    }


# (dsn, extra kwargs, env)
INPUTS: list[tuple[str, dict[str, Any], dict[str, str]]] = [
    ("postgresql://root@db:26257/defaultdb", {}, {}),
    ("postgresql://root@db:26257/defaultdb?sslmode=", {}, {}),
    ("postgresql://root@db/defaultdb?sslmode=require", {}, {}),
    ("postgresql://root@db/defaultdb?sslmode=require&sslrootcert={ca}", {}, {}),
    ("postgresql://root@db/defaultdb?sslmode=verify-ca&sslrootcert={ca}", {}, {}),
    ("postgresql://root@db/defaultdb?sslmode=verify-full&sslrootcert={ca}", {}, {}),
    ("postgresql://root@db/defaultdb?sslmode=verify-full", {}, {}),
    ("postgresql://root@db/defaultdb?sslmode=verify-full", {}, {"PGSSLROOTCERT": "{ca}"}),
    ("postgresql://root@db/defaultdb", {}, {"PGSSLMODE": "disable"}),
    ("postgresql://root@db/defaultdb", {}, {"PGSSLMODE": "allow"}),
    (
        "postgresql://root@db/defaultdb?sslmode=prefer",
        {"ssl": "verify-full"},
        {"PGSSLROOTCERT": "{ca}"},
    ),
    ("postgresql://root@db/defaultdb?sslmode=verify-full&sslrootcert={ca}", {"ssl": False}, {}),
    ("postgresql://root@db/defaultdb", {"ssl": True}, {}),
    ("postgresql://root@db/defaultdb", {"ssl": "bogus"}, {}),
    ("postgresql://root@db/defaultdb", {"ssl": "require", "direct_tls": True}, {}),
    ("postgresql://root@db/defaultdb", {"ssl": "prefer", "direct_tls": True}, {}),
    ("postgresql://root@h1:1,h2:2/defaultdb?sslmode=require", {}, {}),
    ("postgresql://root@[::1]:26257/defaultdb?sslmode=require", {}, {}),
    ("postgresql://root@%2Ftmp/defaultdb", {}, {}),
    ("postgresql:///defaultdb?host=/tmp", {}, {}),
    ("postgresql:///defaultdb", {}, {"PGHOST": "db"}),
    ("postgresql:///defaultdb", {}, {"PGHOST": "/tmp"}),
    ("postgresql:///defaultdb", {}, {}),
    ("postgresql://root@db/defaultdb?ssl_min_protocol_version=TLSv1.3&sslmode=require", {}, {}),
    ("postgresql://root@db/defaultdb?sslmode=verify-full&sslrootcert={plus_ca}", {}, {}),
]


def _fill(value: Any, files: dict[str, str]) -> Any:
    return value.format(**files) if isinstance(value, str) else value


def _asyncpg_reading(dsn: str, kwargs: dict[str, Any]) -> tuple[list[Any], Any]:
    args = {
        "dsn": dsn,
        "host": None,
        "port": None,
        "user": None,
        "password": None,
        "passfile": None,
        "database": None,
        "ssl": None,
        "service": None,
        "servicefile": None,
        "direct_tls": None,
        "server_settings": None,
        "target_session_attrs": None,
        "krbsrvname": None,
        "gsslib": None,
        **kwargs,
    }
    addrs, params = connect_utils._parse_connect_dsn_and_args(**args)
    return addrs, params


@pytest.mark.parametrize(("dsn", "kwargs", "env"), INPUTS)
def test_model_reads_like_asyncpg(
    dsn: str,
    kwargs: dict[str, Any],
    env: dict[str, str],
    files: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("PG"):
            monkeypatch.delenv(name)
    env = {k: _fill(v, files) for k, v in env.items()}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.postgresql
    dsn = _fill(dsn, files)
    verdict = evaluate(from_asyncpg_kwargs({"dsn": dsn, **kwargs}), "asyncpg", Environment.of(env))
    try:
        addrs, params = _asyncpg_reading(dsn, kwargs)
    except asyncpg_exceptions.ClientConfigurationError as exc:
        assert verdict.breaks is not None and "ClientConfigurationError" in verdict.breaks
        assert str(exc).split('"')[0].strip() in verdict.breaks
        return
    except FileNotFoundError:
        # asyncpg opens the files named; the model names the misread path.
        assert "VF105" in verdict.rule_ids
        return
    tcp = [a for a in addrs if isinstance(a, tuple)]
    mode = params.sslmode.name.replace("_", "-")
    if not tcp:
        assert verdict.tls.value == "never" and params.ssl in (None, False)
        return
    expected_tls = {"disable": "never", "allow": "maybe", "prefer": "maybe"}.get(mode, "always")
    assert verdict.tls.value == expected_tls, (mode, verdict.notes)
    if expected_tls == "always":
        context = params.ssl
        assert isinstance(context, ssl.SSLContext)
        assert verdict.verifies_chain is (context.verify_mode != ssl.CERT_NONE)
        assert verdict.verifies_hostname is context.check_hostname
    model_hosts = [(h.host, h.port) for h in verdict_hosts(dsn)]
    if model_hosts and all(h for h, _ in model_hosts):
        assert [a[0] for a in tcp] == [h for h, _ in model_hosts]


def verdict_hosts(dsn: str) -> tuple[HostPort, ...]:
    return from_asyncpg_kwargs({"dsn": dsn}).hosts


def test_target_session_attrs_is_one_list_for_both_drivers() -> None:
    """conninfo.libpq_options.SESSION_ATTRIBUTES is asyncpg's SessionAttribute and libpq's
    list (libpq_options reads it; the options differential checks it against libpq):
    each value passes both models, a near miss fails both."""
    assert tuple(m.value for m in connect_utils.SessionAttribute) == SESSION_ATTRIBUTES
    for value in (*SESSION_ATTRIBUTES, "Primary", "read_write", "prefer_standby", ""):
        libpq_refuses = option_refusal({"target_session_attrs": value}, Environment.empty())
        breaks = evaluate(
            from_asyncpg_kwargs({"host": "db.invalid", "target_session_attrs": value}),
            "asyncpg",
        ).breaks
        accepted = value in SESSION_ATTRIBUTES
        assert (libpq_refuses is None) == accepted, value
        assert ("target_session_attrs" not in (breaks or "")) == accepted, value
