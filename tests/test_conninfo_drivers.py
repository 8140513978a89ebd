"""Driver resolution and the Verdict's own behaviour (the semantics are in the table)."""

from __future__ import annotations

import inspect

import pytest

from verifyfull.conninfo import (
    Environment,
    evaluate,
    from_sqlalchemy_url,
    from_tortoise_config,
    parse_dsn,
    resolve_target,
)
from verifyfull.errors import UsageError
from verifyfull.policy import Policy
from verifyfull.rules import Severity


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgresql://h/db", "psycopg"),
        ("host=h", "psycopg"),
        ("postgresql+asyncpg://h/db", "sqlalchemy+asyncpg"),
        ("postgresql+psycopg_async://h/db", "sqlalchemy+psycopg"),
        ("cockroachdb://h/db", "sqlalchemy+psycopg2"),
        ("cockroachdb+asyncpg://h/db", "sqlalchemy+asyncpg"),
        ("psycopg://h/db", "tortoise+psycopg"),
        ("asyncpg://h/db", "tortoise+asyncpg"),
    ],
)
def test_driver_inferred_from_the_form(text: str, expected: str) -> None:
    assert resolve_target(parse_dsn(text)).name == expected


def test_tortoise_engine_decides_the_backend() -> None:
    infos = from_tortoise_config(
        {"default": {"engine": "tortoise.backends.psycopg", "credentials": {"host": "h"}}}
    )
    assert resolve_target(infos["default"]).name == "tortoise+psycopg"


@pytest.mark.parametrize(
    ("text", "driver"),
    [("postgresql+pypostgresql://h/db", "sqlalchemy"), ("postgresql://h/db", "jdbc")],
)
def test_unmodelled_drivers_are_refused(text: str, driver: str) -> None:
    with pytest.raises((UsageError, ValueError)):
        evaluate(parse_dsn(text), driver)


def test_asyncpg_reads_plus_as_space_in_dsn_files() -> None:
    """asyncpg parses the DSN query with parse_qs; libpq keeps '+' as is."""
    info = parse_dsn("postgresql://u@h/db?sslmode=verify-full&sslrootcert=/certs/c+a.crt")
    assert "VF105" in evaluate(info, "asyncpg").rule_ids
    assert "VF105" not in evaluate(info, "psycopg").rule_ids


def test_fail_threshold_and_worst() -> None:
    clean = evaluate(parse_dsn("postgresql://h/db?sslmode=verify-full&sslrootcert=ca.crt"))
    verify_ca = evaluate(parse_dsn("postgresql://h/db?sslmode=verify-ca&sslrootcert=ca.crt"))
    assert clean.worst() is None and not clean.fails()
    assert verify_ca.rule_ids == ("VF104",)
    assert verify_ca.worst() is Severity.MEDIUM
    assert not verify_ca.fails(Severity.HIGH) and verify_ca.fails(Severity.MEDIUM)


def test_policy_allowing_verify_ca_still_reports_it() -> None:
    """verify-ca by opt-in is still reported VF104 (the guard decides via policy.refuses)."""
    lenient = Policy(allow_verify_ca=True)
    verdict = evaluate(
        parse_dsn("postgresql://h/db?sslmode=verify-ca&sslrootcert=ca.crt"), policy=lenient
    )
    assert verdict.rule_ids == ("VF104",) and not lenient.refuses("VF104")


def test_environment_changes_the_verdict_only_when_given() -> None:
    info = parse_dsn("postgresql://h/db")
    assert evaluate(info).rule_ids == ("VF102",)
    env = Environment.of({"PGSSLMODE": "verify-full", "PGSSLROOTCERT": "/certs/ca.crt"})
    with_env = evaluate(info, env=env)
    assert with_env.rule_ids == () and "PGSSLMODE=verify-full" in with_env.environment


def test_literal_flag_controls_vf401() -> None:
    text = "postgresql://u:pw@h/db?sslmode=verify-full&sslrootcert=ca.crt"
    assert evaluate(parse_dsn(text)).rule_ids == ("VF401",)
    assert evaluate(parse_dsn(text, literal=False)).rule_ids == ()


def test_asyncpg_argument_lists_match_the_installed_asyncpg() -> None:
    """The hard-coded lists (the scanner runs without drivers) match asyncpg's signatures."""
    asyncpg = pytest.importorskip("asyncpg")
    from verifyfull.conninfo.drivers import ASYNCPG_CONNECT_KWARGS, ASYNCPG_POOL_KWARGS

    connect = set(inspect.signature(asyncpg.connect).parameters)
    pool = set(inspect.signature(asyncpg.create_pool).parameters)
    assert connect == ASYNCPG_CONNECT_KWARGS
    assert pool - {"dsn", "loop", "connection_class", "record_class"} == ASYNCPG_POOL_KWARGS


def test_psycopg_pool_arguments_match_the_installed_pool() -> None:
    pool_module = pytest.importorskip("psycopg_pool")
    from verifyfull.conninfo.libpq_rules import PSYCOPG_POOL_KWARGS

    accepted = set(inspect.signature(pool_module.AsyncConnectionPool.__init__).parameters)
    assert accepted - {"self"} == PSYCOPG_POOL_KWARGS


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://u@h/db?sslmode=require",
        "postgresql+asyncpg://u@h/db?ssl=require&prepared_statement_cache_size=0",
        "postgresql+asyncpg://u@h/db?command_timeout=5&sslrootcert=/c/ca.crt",
        "postgresql+asyncpg://u@h/db?host=h1:1&host=h2:2&ssl=verify-full",
        "cockroachdb+asyncpg://u@h:26257/db?sslcert=/c/c.crt",
    ],
)
def test_sqlalchemy_asyncpg_keys_as_the_dialect_passes_them(url: str) -> None:
    """The keys SQLAlchemy really hands asyncpg.connect decide the TypeError."""
    asyncpg = pytest.importorskip("asyncpg")
    sa_url = pytest.importorskip("sqlalchemy.engine.url")
    pytest.importorskip("sqlalchemy_cockroachdb")
    real = sa_url.make_url(url)
    dialect = real.get_dialect()()
    _, opts = dialect.create_connect_args(real)
    # The dialect's adapter takes these out before calling asyncpg.connect.
    own = {"prepared_statement_cache_size", "prepared_statement_name_func", "async_creator_fn"}
    accepted = set(inspect.signature(asyncpg.connect).parameters)
    unexpected = [k for k in opts if k not in accepted and k not in own]
    verdict = evaluate(from_sqlalchemy_url(url), "sqlalchemy")
    if unexpected:
        assert verdict.breaks == (
            f"TypeError: connect() got an unexpected keyword argument '{unexpected[0]}'"
        )
    else:
        assert verdict.breaks is None or "TypeError" not in verdict.breaks


def test_unknown_connect_args_leave_libpq_dialects_undetermined() -> None:
    """connect_args the scanner cannot see may hold sslmode: no claim, and no false crash."""
    from verifyfull.conninfo import SSLArg

    info = from_sqlalchemy_url(
        "postgresql+psycopg://u@h/db", {"ssl": SSLArg.unknown("connect_args built elsewhere")}
    )
    verdict = evaluate(info, "sqlalchemy")
    assert not verdict.determined and verdict.breaks is None
    assert not {"VF101", "VF102", "VF103", "VF104", "VF105"} & set(verdict.rule_ids)


def test_corrected_form_keeps_the_written_form_for_libpq() -> None:
    keywords = evaluate(parse_dsn("host=db port=26257 user=app sslmode=require"), "psycopg")
    assert keywords.corrected == (
        "host=db port=26257 user=app sslmode=verify-full sslrootcert=certs/ca.crt"
    )
    url = evaluate(parse_dsn("postgresql://app:pw@db:26257/app?ssl=true"), "psycopg")
    assert url.corrected == (
        "postgresql://app@db:26257/app?sslmode=verify-full&sslrootcert=certs/ca.crt"
    )
