"""Predicted failures (issue 14, class 6): what asyncpg 0.32 and SQLAlchemy 2.0 refuse, the
model refuses too, with the driver's own error class. Each row is checked against the
installed driver, so a new driver version that changes behaviour fails here first."""

from __future__ import annotations

import inspect
import os
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifyfull.conninfo import (
    ConnStringError,
    evaluate,
    from_asyncpg_kwargs,
    from_sqlalchemy_url,
    resolve_target,
)
from verifyfull.conninfo.corrected import corrected_form

asyncpg = pytest.importorskip("asyncpg")
connect_utils = pytest.importorskip("asyncpg.connect_utils")
sa_url = pytest.importorskip("sqlalchemy.engine.url")
sa_exc = pytest.importorskip("sqlalchemy.exc")

ASYNCPG_VERSION = "0.32.0"  # requirements/constraints.txt

# (DSN, the error class asyncpg raises while it reads it)
ASYNCPG_REFUSES = [
    ("postgresql://app@db/app?sslnegotiation=direct", "ClientConfigurationError"),
    ("postgresql://app@db/app?sslnegotiation=direct&sslmode=prefer", "ClientConfigurationError"),
    ("postgresql://app@db/app?sslmode=verify-full&sslrootcert=system", "FileNotFoundError"),
    ("postgresql://app@db/app?sslmode=require&sslrootcert=system", "FileNotFoundError"),
    ("postgresql://app@db/app?gsslib=bogus", "ClientConfigurationError"),
    ("postgresql://app@db/app?sslnegotiation=bogus", "ClientConfigurationError"),
]
# Refused while the DSN is read: conninfo refuses the string (the scanner: VF105).
ASYNCPG_UNREADABLE = [
    ("postgresql://app@[2001:db8::1/app", "ValueError"),
    ("postgresql://app@db/app?x", "ValueError"),
    ("postgresql://app@h1,/app", "IndexError"),
]


def _asyncpg_reads(dsn: str, home: Path) -> str | None:
    names = inspect.signature(connect_utils._parse_connect_dsn_and_args).parameters
    clean = {"HOME": str(home), "PGUSER": "app", "PATH": os.environ.get("PATH", "")}
    with mock.patch.dict(os.environ, clean, clear=True):
        try:
            connect_utils._parse_connect_dsn_and_args(**{**dict.fromkeys(names), "dsn": dsn})
        except Exception as exc:
            return type(exc).__name__
    return None


def test_pinned_version() -> None:
    assert asyncpg.__version__ == ASYNCPG_VERSION


@pytest.mark.parametrize(("dsn", "error"), ASYNCPG_REFUSES)
def test_asyncpg_refusals_are_predicted(dsn: str, error: str, tmp_path: Path) -> None:
    assert _asyncpg_reads(dsn, tmp_path) == error
    verdict = evaluate(from_asyncpg_kwargs({"dsn": dsn}), "asyncpg")
    assert verdict.breaks is not None and error in verdict.breaks


@pytest.mark.parametrize(("dsn", "error"), ASYNCPG_UNREADABLE)
def test_asyncpg_unreadable_is_refused(dsn: str, error: str, tmp_path: Path) -> None:
    assert _asyncpg_reads(dsn, tmp_path) == error
    with pytest.raises(ConnStringError):
        from_asyncpg_kwargs({"dsn": dsn})


def test_netloc_with_only_a_port_fails_for_asyncpg(tmp_path: Path) -> None:
    """asyncpg reads it (host ''), then getaddrinfo('') fails at connect."""
    assert _asyncpg_reads("postgresql://:5432/app", tmp_path) is None
    verdict = evaluate(from_asyncpg_kwargs({"dsn": "postgresql://:5432/app"}), "asyncpg")
    assert verdict.breaks is not None and "gaierror" in verdict.breaks


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://app@/app?host=h1:5432&host=h2",
        "postgresql+asyncpg://app@/app?host=h1,h2&port=5432",
        "postgresql+asyncpg://app@/app?host=h1:5432&host=h2:5433&port=5432",
    ],
)
def test_sqlalchemy_asyncpg_multihost_refusals(url: str) -> None:
    parsed = sa_url.make_url(url)
    with pytest.raises(sa_exc.ArgumentError):
        parsed.get_dialect()(dbapi=None).create_connect_args(parsed)
    with pytest.raises(ConnStringError):
        from_sqlalchemy_url(url)


# --- SQLAlchemy's dialect names: `postgres://` is no dialect since 1.4 --------------


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    scheme=st.sampled_from(["postgres", "postgresql", "Postgres", "cockroachdb"]),
    dialect=st.sampled_from(["", "+psycopg2", "+psycopg", "+asyncpg"]),
    host=st.sampled_from(["db.internal", "10.0.0.5", "[2001:db8::5]"]),
    query=st.sampled_from(["", "?sslmode=require", "?sslmode=verify-full&sslrootcert=ca.crt"]),
)
def test_sqlalchemy_dialect_names_are_predicted_as_create_engine_loads_them(
    scheme: str, dialect: str, host: str, query: str
) -> None:
    """The oracle is SQLAlchemy itself: create_engine() (no connection is made) raises
    NoSuchModuleError exactly where conninfo predicts it, and the corrected form of
    every URL loads."""
    from sqlalchemy import create_engine

    url = f"{scheme}{dialect}://app@{host}/app{query}"
    try:
        create_engine(url).dispose()
        raised = False
    except sa_exc.NoSuchModuleError:
        raised = True
    info = from_sqlalchemy_url(url)
    verdict = evaluate(info, "sqlalchemy")
    assert ("NoSuchModuleError" in (verdict.breaks or "")) == raised, (url, verdict.breaks)
    assert ("VF105" in {f.rule_id for f in verdict.findings}) or not raised
    corrected = corrected_form(info, resolve_target(info, "sqlalchemy"))
    if "create_async_engine(" in corrected:
        corrected = corrected.split('create_async_engine("', 1)[1].split('"', 1)[0]
    create_engine(corrected).dispose()  # loads: the rewritten scheme is a dialect


# --- asyncpg: a port list that does not pair with the host list --------------------
# asyncpg's _validate_port_spec raises "could not match N port numbers to M hosts"
# wherever the two lists meet (a DSN's ?port= and ?host=, the arguments, a DSN's hosts
# beside a port argument, its default hosts). The model pairs them in one place
# (endpoints.asyncpg_endpoints) and predicts asyncpg's own error, with VF105.
# tests/test_conninfo_differential*.py compare the message on every generated case.
PORT_PAIRING = [
    ({"dsn": "postgresql:///db?host=h1.invalid,h2.invalid,h3.invalid&port=5432,5433"}, 2, 3),
    ({"dsn": "postgresql:///db?host=h1.invalid&port=5432,5433&sslmode=disable"}, 2, 1),
    ({"dsn": "postgresql:///db?port=5432,5433&sslmode=disable"}, 2, 5),
    ({"dsn": "postgresql:///db?port=5432,5433", "host": ["h1.invalid", "h2.invalid", "h3"]}, 2, 3),
    ({"host": ["h1.invalid", "h2.invalid", "h3.invalid"], "port": [5432, 5433]}, 2, 3),
    ({"dsn": "postgresql://h1.invalid,h2.invalid/db", "port": [5432, 5433, 5434]}, 3, 2),
    ({"port": [5432, 5433], "ssl": "disable"}, 2, 5),
]


def _asyncpg_error(kwargs: dict[str, object], home: Path) -> str | None:
    names = inspect.signature(connect_utils._parse_connect_dsn_and_args).parameters
    clean = {"HOME": str(home), "PGUSER": "app", "PATH": os.environ.get("PATH", "")}
    with mock.patch.dict(os.environ, clean, clear=True):
        try:
            connect_utils._parse_connect_dsn_and_args(**{**dict.fromkeys(names), **kwargs})
        except Exception as exc:
            return f"asyncpg.exceptions.{type(exc).__name__}: {exc}"
    return None


@pytest.mark.parametrize(("kwargs", "ports", "hosts"), PORT_PAIRING)
def test_asyncpg_port_list_that_does_not_pair_is_vf105_with_asyncpg_message(
    kwargs: dict[str, object], ports: int, hosts: int, tmp_path: Path
) -> None:
    message = f"could not match {ports} port numbers to {hosts} hosts"
    expected = f"asyncpg.exceptions.ClientConfigurationError: {message}"
    assert _asyncpg_error(kwargs, tmp_path) == expected
    verdict = evaluate(from_asyncpg_kwargs(kwargs), "asyncpg")
    assert verdict.breaks == expected
    assert "VF105" in {f.rule_id for f in verdict.findings}
    assert any(message in f.message for f in verdict.findings if f.rule_id == "VF105")


# --- the corrected form of a predicted failure connects ----------------------------
# (libpq's refused options: test_conninfo_differential_options re-reads every corrected
# form; asyncpg's keep gsslib, so an invalid one stays refused, as the original.)
TLS_REFUSALS = [dsn for dsn, _ in ASYNCPG_REFUSES if "gsslib" not in dsn]


@pytest.fixture(scope="module")
def root_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    from verifyfull.certs.create import create_ca

    base = tmp_path_factory.mktemp("ca")
    return str(create_ca(base / "certs", base / "ca.key").cert_path)


@pytest.mark.parametrize("dsn", TLS_REFUSALS)
def test_corrected_form_of_an_asyncpg_refusal_is_read_with_verified_tls(
    dsn: str, tmp_path: Path, root_file: str
) -> None:
    """asyncpg refuses the original; its corrected code, read with ast and handed to
    asyncpg's parser with the SSLContext it builds, is verified TLS to the same host."""
    import ssl

    from test_conninfo_differential_kwargs import corrected_call

    verdict = evaluate(from_asyncpg_kwargs({"dsn": dsn}), "asyncpg")
    assert verdict.breaks is not None
    call = corrected_call(verdict.corrected)
    assert call.context_call == "create_default_context"
    context = ssl.create_default_context(cafile=root_file)
    names = inspect.signature(connect_utils._parse_connect_dsn_and_args).parameters
    clean = {"HOME": str(tmp_path), "PGUSER": "app", "PATH": os.environ.get("PATH", "")}
    with mock.patch.dict(os.environ, clean, clear=True):
        addrs, params = connect_utils._parse_connect_dsn_and_args(
            **{**dict.fromkeys(names), **call.arguments, "dsn": call.dsn, "ssl": context}
        )
    assert params.ssl is context and context.check_hostname
    assert [a[0] for a in addrs] == ["db"]
