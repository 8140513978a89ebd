"""The driver-semantics table: each row a connection as written, a driver, and the verdict.

The unit test below checks the model against each row; the agreement tests
at the end of this file replay the rows with the real drivers against the
lab server (tests may not import each other, so table and replay share this
file). Placeholders: {h} host, {p} port, {ca} root certificate, {cert}/{key}
the client certificate and key of user root, {pw} a canary password.
"""

from __future__ import annotations

import ssl
import warnings
from dataclasses import dataclass, field

import pytest

from verifyfull.conninfo import (
    ContextFacts,
    Environment,
    SSLArg,
    VerifyMode,
    evaluate,
    from_asyncpg_kwargs,
    from_sqlalchemy_url,
    from_tortoise_config,
    parse_for_driver,
)

UNIT_VALUES = {
    "h": "localhost",
    "p": "26257",
    "ca": "/certs/ca.crt",
    "cert": "/certs/client.root.crt",
    "key": "/certs/client.root.key",
    "pw": "canary-pw-7f3a",
}
B = "postgresql://root@{h}:{p}/defaultdb"
VF = "sslmode=verify-full&sslrootcert={ca}&sslcert={cert}&sslkey={key}"


@dataclass(frozen=True)
class Case:
    id: str
    text: str
    driver: str | None
    tls: str
    chain: bool
    host: bool
    rules: tuple[str, ...] = ()
    breaks: str | None = None  # a fragment of the error the driver raises
    env: dict[str, str] = field(default_factory=dict)
    home_root: bool = False
    form: str = "dsn"  # dsn | asyncpg-kwargs | sa-connect-args | tortoise-config
    ssl: str | None = None  # a named ssl argument, see ssl_value()
    kwargs: dict[str, object] = field(default_factory=dict)
    engine: str = "tortoise.backends.asyncpg"


CASES: tuple[Case, ...] = (
    # --- psycopg (libpq) -------------------------------------------------------
    Case("pg-default", B, "psycopg", "maybe", False, False, ("VF102",)),
    Case("pg-disable", B + "?sslmode=disable", "psycopg", "never", False, False, ("VF101",)),
    Case("pg-allow", B + "?sslmode=allow", "psycopg", "maybe", False, False, ("VF102",)),
    Case("pg-prefer", B + "?sslmode=prefer", "psycopg", "maybe", False, False, ("VF102",)),
    Case("pg-require", B + "?sslmode=require", "psycopg", "always", False, False, ("VF103",)),
    Case(
        "pg-require-root",
        B + "?sslmode=require&sslrootcert={ca}&sslcert={cert}&sslkey={key}",
        "psycopg",
        "always",
        True,
        False,
        ("VF104",),
    ),
    Case(
        "pg-verify-ca",
        B + "?sslmode=verify-ca&sslrootcert={ca}&sslcert={cert}&sslkey={key}",
        "psycopg",
        "always",
        True,
        False,
        ("VF104",),
    ),
    Case("pg-verify-full", B + "?" + VF, "psycopg", "always", True, True),
    Case(
        "pg-verify-full-no-root",
        B + "?sslmode=verify-full",
        "psycopg",
        "always",
        True,
        True,
        breaks="root certificate file",
    ),
    Case(
        "pg-keywords-full",
        "host={h} port={p} user=root dbname=defaultdb sslmode=verify-full sslrootcert={ca} "
        "sslcert={cert} sslkey={key}",
        "psycopg",
        "always",
        True,
        True,
    ),
    Case(
        "pg-keywords-require",
        "host={h} port={p} user=root dbname=defaultdb sslmode=require",
        "psycopg",
        "always",
        False,
        False,
        ("VF103",),
    ),
    Case(
        "pg-ssl-true",
        B + "?ssl=true",
        "psycopg",
        "always",
        False,
        False,
        ("VF103", "VF105"),
    ),
    Case(
        "pg-ssl-require",
        B + "?ssl=require",
        "psycopg",
        "maybe",
        False,
        False,
        ("VF102", "VF105"),
        breaks='invalid URI query parameter: "ssl"',
    ),
    Case(
        "pg-env-require",
        B,
        "psycopg",
        "always",
        False,
        False,
        ("VF103",),
        env={"PGSSLMODE": "require"},
    ),
    Case(
        "pg-env-full",
        B,
        "psycopg",
        "always",
        True,
        True,
        env={
            "PGSSLMODE": "verify-full",
            "PGSSLROOTCERT": "{ca}",
            "PGSSLCERT": "{cert}",
            "PGSSLKEY": "{key}",
        },
    ),
    Case(
        "pg-env-disable",
        B,
        "psycopg",
        "never",
        False,
        False,
        ("VF101",),
        env={"PGSSLMODE": "disable"},
    ),
    Case(
        "pg-home-root-require",
        B + "?sslmode=require&sslcert={cert}&sslkey={key}",
        "psycopg",
        "always",
        True,
        False,
        ("VF104",),
        home_root=True,
    ),
    Case(
        "pg-system-root",
        B + "?sslmode=verify-full&sslrootcert=system&sslcert={cert}&sslkey={key}",
        "psycopg",
        "always",
        True,
        True,
    ),
    Case(
        "pg-system-root-require",
        B + "?sslmode=require&sslrootcert=system",
        "psycopg",
        "always",
        False,
        False,
        breaks='weak sslmode "require" may not be used with sslrootcert=system',
    ),
    Case(
        "pg-cockroachdb-scheme",
        "cockroachdb://root@{h}:{p}/defaultdb?" + VF,
        "psycopg",
        "always",
        True,
        True,
        ("VF105",),
        breaks='missing "=" after',
    ),
    Case(
        "pg-tls1-floor",
        B + "?" + VF + "&ssl_min_protocol_version=TLSv1",
        "psycopg",
        "always",
        True,
        True,
        ("VF106",),
    ),
    Case(
        "pg-multi-host",
        "postgresql://root@{h}:{p},{h}:{p}/defaultdb?" + VF,
        "psycopg",
        "always",
        True,
        True,
    ),
    Case(
        "pg-ipv6",
        "postgresql://root@[::1]:{p}/defaultdb?" + VF,
        "psycopg",
        "always",
        True,
        True,
    ),
    Case("pg-unix-socket", "postgresql://root@%2Ftmp/defaultdb", "psycopg", "never", False, False),
    Case("pg-no-host", "postgresql:///defaultdb", "psycopg", "never", False, False),
    Case(
        "pg-bad-mode",
        B + "?sslmode=bogus",
        "psycopg",
        "never",
        False,
        False,
        ("VF105",),
        breaks='invalid sslmode value: "bogus"',
    ),
    Case(
        "pg-password",
        "postgresql://app_pw:{pw}@{h}:{p}/defaultdb?sslmode=verify-full&sslrootcert={ca}",
        "psycopg",
        "always",
        True,
        True,
        ("VF401",),
    ),
    Case(
        "pg-connect-timeout",
        B + "?" + VF + "&connect_timeout=5",
        "psycopg",
        "always",
        True,
        True,
    ),
    # --- psycopg2 (libpq semantics; not installed: model only) -------------------
    Case("pg2-default", B, "psycopg2", "maybe", False, False, ("VF102",)),
    Case(
        "pg2-ssl-require",
        B + "?ssl=require",
        "psycopg2",
        "maybe",
        False,
        False,
        ("VF102", "VF105"),
        breaks='invalid dsn: invalid URI query parameter: "ssl"',
    ),
    Case("pg2-verify-full", B + "?" + VF, "psycopg2", "always", True, True),
    # --- asyncpg -----------------------------------------------------------------
    Case("apg-default", B, "asyncpg", "maybe", False, False, ("VF102",)),
    Case("apg-disable", B + "?sslmode=disable", "asyncpg", "never", False, False, ("VF101",)),
    Case("apg-prefer", B + "?sslmode=prefer", "asyncpg", "maybe", False, False, ("VF102",)),
    Case("apg-require", B + "?sslmode=require", "asyncpg", "always", False, False, ("VF103",)),
    Case(
        "apg-require-root",
        B + "?sslmode=require&sslrootcert={ca}&sslcert={cert}&sslkey={key}",
        "asyncpg",
        "always",
        True,
        False,
        ("VF104",),
    ),
    Case(
        "apg-verify-ca",
        B + "?sslmode=verify-ca&sslrootcert={ca}&sslcert={cert}&sslkey={key}",
        "asyncpg",
        "always",
        True,
        False,
        ("VF104",),
    ),
    Case("apg-verify-full", B + "?" + VF, "asyncpg", "always", True, True),
    Case(
        "apg-verify-full-no-root",
        B + "?sslmode=verify-full",
        "asyncpg",
        "always",
        True,
        True,
        breaks='root certificate file "~/.postgresql/root.crt" does not exist',
    ),
    Case(
        "apg-dsn-ssl-require",
        B + "?ssl=require",
        "asyncpg",
        "maybe",
        False,
        False,
        ("VF102", "VF105"),
        breaks='parameter "ssl" cannot be changed now',
    ),
    Case(
        "apg-ssl-true",
        B,
        "asyncpg",
        "always",
        True,
        True,
        form="asyncpg-kwargs",
        kwargs={"ssl": True},
    ),
    Case(
        "apg-ssl-false",
        B,
        "asyncpg",
        "never",
        False,
        False,
        ("VF101",),
        form="asyncpg-kwargs",
        kwargs={"ssl": False},
    ),
    Case(
        "apg-ssl-empty-dict",
        B,
        "asyncpg",
        "never",
        False,
        False,
        ("VF102", "VF105"),
        form="asyncpg-kwargs",
        kwargs={"ssl": {}},
    ),
    Case(
        "apg-ssl-dict",
        B,
        "asyncpg",
        "always",
        False,
        False,
        ("VF105",),
        breaks="sslcontext is expected to be an instance of ssl.SSLContext",
        form="asyncpg-kwargs",
        kwargs={"ssl": {"ssl_mode": "verify-ca", "ssl_rootcert": "{ca}"}},
    ),
    Case(
        "apg-ssl-mode-kwarg",
        B + "?sslrootcert={ca}&sslcert={cert}&sslkey={key}",
        "asyncpg",
        "always",
        True,
        True,
        form="asyncpg-kwargs",
        kwargs={"ssl": "verify-full"},
    ),
    Case(
        "apg-ctx-full",
        B,
        "asyncpg",
        "always",
        True,
        True,
        form="asyncpg-kwargs",
        ssl="ctx-full",
    ),
    Case(
        "apg-ctx-no-hostname",
        B,
        "asyncpg",
        "always",
        True,
        False,
        ("VF104",),
        form="asyncpg-kwargs",
        ssl="ctx-no-hostname",
    ),
    Case(
        "apg-ctx-none",
        B,
        "asyncpg",
        "always",
        False,
        False,
        ("VF103",),
        form="asyncpg-kwargs",
        ssl="ctx-none",
    ),
    Case(
        "apg-ctx-ignores-dsn",
        B + "?sslmode=disable&sslrootcert={ca}",
        "asyncpg",
        "always",
        True,
        True,
        ("VF105",),
        form="asyncpg-kwargs",
        ssl="ctx-full",
    ),
    Case(
        "apg-ctx-tls1",
        B,
        "asyncpg",
        "always",
        True,
        True,
        ("VF106",),
        form="asyncpg-kwargs",
        ssl="ctx-tls1",
    ),
    Case(
        "apg-ctx-weak-ciphers",
        B,
        "asyncpg",
        "always",
        True,
        True,
        ("VF107",),
        form="asyncpg-kwargs",
        ssl="arg-weak-ciphers",
    ),
    Case(
        "apg-sslmode-kwarg",
        B,
        "asyncpg",
        "always",
        True,
        True,
        ("VF105",),
        breaks="connect() got an unexpected keyword argument 'sslmode'",
        form="asyncpg-kwargs",
        kwargs={"sslmode": "verify-full", "sslrootcert": "{ca}"},
    ),
    Case(
        "apg-keywords",
        "host={h} port={p} user=root sslmode=verify-full sslrootcert={ca}",
        "asyncpg",
        "always",
        True,
        True,
        ("VF105",),
        breaks='scheme is expected to be either "postgresql" or "postgres"',
    ),
    Case(
        "apg-cockroachdb-scheme",
        "cockroachdb://root@{h}:{p}/defaultdb?" + VF,
        "asyncpg",
        "always",
        True,
        True,
        ("VF105",),
        breaks="got 'cockroachdb'",
    ),
    Case(
        "apg-env-full",
        B,
        "asyncpg",
        "always",
        True,
        True,
        env={
            "PGSSLMODE": "verify-full",
            "PGSSLROOTCERT": "{ca}",
            "PGSSLCERT": "{cert}",
            "PGSSLKEY": "{key}",
        },
    ),
    Case(
        "apg-env-require",
        B,
        "asyncpg",
        "always",
        False,
        False,
        ("VF103",),
        env={"PGSSLMODE": "require"},
    ),
    Case(
        "apg-home-root-require",
        B + "?sslmode=require&sslcert={cert}&sslkey={key}",
        "asyncpg",
        "always",
        True,
        False,
        ("VF104",),
        home_root=True,
    ),
    Case(
        "apg-tls11-floor",
        B + "?sslmode=require&ssl_min_protocol_version=TLSv1.1",
        "asyncpg",
        "always",
        False,
        False,
        ("VF103", "VF106"),
    ),
    Case(
        "apg-bad-mode",
        B + "?sslmode=bogus",
        "asyncpg",
        "never",
        False,
        False,
        ("VF105",),
        breaks="`sslmode` parameter must be one of",
    ),
    Case("apg-unix-socket", "postgresql://root@%2Ftmp/defaultdb", "asyncpg", "never", False, False),
    Case(
        "apg-direct-tls-prefer",
        B,
        "asyncpg",
        "maybe",
        False,
        False,
        ("VF102", "VF105"),
        breaks="direct TLS requires sslmode=require",
        form="asyncpg-kwargs",
        kwargs={"direct_tls": True},
    ),
    # --- SQLAlchemy --------------------------------------------------------------
    Case(
        "sa-seed",
        "postgresql+asyncpg://root@{h}:{p}/defaultdb?sslmode=verify-ca&sslcert={cert}"
        "&sslkey={key}&sslrootcert={ca}",
        "sqlalchemy",
        "always",
        True,
        False,
        ("VF104", "VF105"),
        breaks="connect() got an unexpected keyword argument 'sslmode'",
    ),
    Case(
        "sa-apg-ssl-require",
        "postgresql+asyncpg://root@{h}:{p}/defaultdb?ssl=require",
        "sqlalchemy",
        "always",
        False,
        False,
        ("VF103",),
    ),
    Case(
        "sa-apg-ssl-verify-full-no-root",
        "postgresql+asyncpg://root@{h}:{p}/defaultdb?ssl=verify-full",
        "sqlalchemy",
        "always",
        True,
        True,
        breaks="root certificate file",
    ),
    Case(
        "sa-apg-ssl-verify-full-env-root",
        "postgresql+asyncpg://root@{h}:{p}/defaultdb?ssl=verify-full",
        "sqlalchemy",
        "always",
        True,
        True,
        env={"PGSSLROOTCERT": "{ca}", "PGSSLCERT": "{cert}", "PGSSLKEY": "{key}"},
    ),
    Case(
        "sa-apg-ssl-true",
        "postgresql+asyncpg://root@{h}:{p}/defaultdb?ssl=true",
        "sqlalchemy",
        "never",
        False,
        False,
        ("VF105",),
        breaks="`sslmode` parameter must be one of",
    ),
    Case(
        "sa-apg-default",
        "postgresql+asyncpg://root@{h}:{p}/defaultdb",
        "sqlalchemy",
        "maybe",
        False,
        False,
        ("VF102",),
    ),
    Case(
        "sa-apg-ssl-disable",
        "postgresql+asyncpg://root@{h}:{p}/defaultdb?ssl=disable",
        "sqlalchemy",
        "never",
        False,
        False,
        ("VF101",),
    ),
    Case(
        "sa-apg-connect-args-ctx",
        "postgresql+asyncpg://root@{h}:{p}/defaultdb",
        "sqlalchemy",
        "always",
        True,
        True,
        form="sa-connect-args",
        ssl="ctx-full",
    ),
    Case(
        "sa-apg-connect-args-ctx-none",
        "postgresql+asyncpg://root@{h}:{p}/defaultdb",
        "sqlalchemy",
        "always",
        False,
        False,
        ("VF103",),
        form="sa-connect-args",
        ssl="ctx-none",
    ),
    Case(
        "sa-psycopg-full",
        "postgresql+psycopg://root@{h}:{p}/defaultdb?" + VF,
        "sqlalchemy",
        "always",
        True,
        True,
    ),
    Case(
        "sa-psycopg-require",
        "postgresql+psycopg://root@{h}:{p}/defaultdb?sslmode=require",
        "sqlalchemy",
        "always",
        False,
        False,
        ("VF103",),
    ),
    Case(
        "sa-psycopg-ssl-require",
        "postgresql+psycopg://root@{h}:{p}/defaultdb?ssl=require",
        "sqlalchemy",
        "maybe",
        False,
        False,
        ("VF102", "VF105"),
        breaks='invalid connection option "ssl"',
    ),
    Case("sa-default-dialect-full", B + "?" + VF, "sqlalchemy", "always", True, True),
    Case(
        "sa-crdb-asyncpg-sslmode",
        "cockroachdb+asyncpg://root@{h}:{p}/defaultdb?" + VF,
        "sqlalchemy",
        "always",
        True,
        True,
        ("VF105",),
        breaks="connect() got an unexpected keyword argument 'sslmode'",
    ),
    Case(
        "sa-crdb-psycopg-full",
        "cockroachdb+psycopg://root@{h}:{p}/defaultdb?" + VF,
        "sqlalchemy",
        "always",
        True,
        True,
    ),
    # --- Tortoise ----------------------------------------------------------------
    Case(
        "tt-ssl-false",
        "postgres://root@{h}:{p}/defaultdb?ssl=false",
        "tortoise",
        "always",
        True,
        True,
        ("VF105",),
    ),
    Case(
        "tt-ssl-true",
        "postgres://root@{h}:{p}/defaultdb?ssl=true",
        "tortoise",
        "always",
        True,
        True,
    ),
    Case(
        "tt-default",
        "postgres://root@{h}:{p}/defaultdb",
        "tortoise",
        "maybe",
        False,
        False,
        ("VF102",),
    ),
    Case(
        "tt-sslmode",
        "postgres://root@{h}:{p}/defaultdb?sslmode=require",
        "tortoise",
        "always",
        False,
        False,
        ("VF103", "VF105"),
        breaks="connect() got an unexpected keyword argument 'sslmode'",
    ),
    Case(
        "tt-psycopg-default",
        "psycopg://root@{h}:{p}/defaultdb",
        "tortoise",
        "maybe",
        False,
        False,
        ("VF102",),
    ),
    Case(
        "tt-psycopg-ssl-true",
        "psycopg://root@{h}:{p}/defaultdb?ssl=true",
        "tortoise",
        "always",
        False,
        False,
        ("VF103",),
    ),
    Case(
        "tt-config-ctx",
        "",
        "tortoise",
        "always",
        True,
        True,
        form="tortoise-config",
        ssl="ctx-full",
    ),
    Case(
        "tt-config-psycopg-ctx",
        "",
        "tortoise",
        "always",
        True,
        True,
        ("VF105",),
        breaks="root certificate file",
        form="tortoise-config",
        ssl="ctx-full",
        engine="tortoise.backends.psycopg",
    ),
    Case(
        "tt-config-mode-string",
        "",
        "tortoise",
        "always",
        True,
        True,
        breaks="root certificate file",
        form="tortoise-config",
        kwargs={"ssl": "verify-full"},
    ),
    Case(
        "tt-asyncpg-scheme",
        "asyncpg://root@{h}:{p}/defaultdb?ssl=true",
        "tortoise",
        "always",
        True,
        True,
    ),
)


def fill(text: str, values: dict[str, str]) -> str:
    return text.format(**values) if text else text


def ssl_value(name: str | None, values: dict[str, str], *, live: bool) -> object:
    """A real ssl argument by name; CA files are loaded only when they exist (live)."""
    if name is None:
        return None
    if name == "arg-weak-ciphers":
        facts = ContextFacts(
            verify_mode=VerifyMode.REQUIRED,
            check_hostname=True,
            minimum_version="TLSv1.2",
            ciphers="DES-CBC3-SHA:RC4-SHA",
            own_ca=True,
        )
        return SSLArg.of_context(facts)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if live:
        ctx.load_verify_locations(values["ca"])
        ctx.load_cert_chain(values["cert"], values["key"])
    if name == "ctx-no-hostname":
        ctx.check_hostname = False
    elif name == "ctx-none":
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif name == "ctx-tls1":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # that is the point
            ctx.minimum_version = ssl.TLSVersion.TLSv1
    return ctx


def build_info(case: Case, values: dict[str, str], *, live: bool = False):  # type: ignore[no-untyped-def]
    text = fill(case.text, values)
    kwargs = {k: _fill_any(v, values) for k, v in case.kwargs.items()}
    if case.ssl is not None:
        kwargs["ssl"] = ssl_value(case.ssl, values, live=live)
    if case.form == "asyncpg-kwargs":
        return from_asyncpg_kwargs({"dsn": text, **kwargs})
    if case.form == "sa-connect-args":
        return from_sqlalchemy_url(text, connect_args=kwargs)
    if case.form == "tortoise-config":
        credentials = {
            "host": values["h"],
            "port": int(values["p"]),
            "user": "root",
            "database": "defaultdb",
            **kwargs,
        }
        config = {"connections": {"default": {"engine": case.engine, "credentials": credentials}}}
        return from_tortoise_config(config)["default"]
    return parse_for_driver(text, case.driver)


def _fill_any(value: object, values: dict[str, str]) -> object:
    if isinstance(value, str):
        return fill(value, values)
    if isinstance(value, dict):
        return {k: _fill_any(v, values) for k, v in value.items()}
    return value


def environment(case: Case, values: dict[str, str]) -> Environment:
    return Environment.of(
        {k: fill(v, values) for k, v in case.env.items()}, home_root_cert=case.home_root
    )


def test_table_is_large_and_ids_unique() -> None:
    assert len(CASES) >= 60
    assert len({c.id for c in CASES}) == len(CASES)
    drivers = {c.driver for c in CASES}
    assert drivers == {"psycopg", "psycopg2", "asyncpg", "sqlalchemy", "tortoise"}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_verdict(case: Case) -> None:
    verdict = evaluate(build_info(case, UNIT_VALUES), case.driver, environment(case, UNIT_VALUES))
    got = (verdict.tls.value, verdict.verifies_chain, verdict.verifies_hostname)
    assert got == (case.tls, case.chain, case.host), verdict.notes
    assert sorted(verdict.rule_ids) == sorted(case.rules), [f.message for f in verdict.findings]
    if case.breaks is None:
        assert verdict.breaks is None
    else:
        assert verdict.breaks is not None and case.breaks in verdict.breaks
    rendered = repr(verdict) + str(verdict.to_json())
    assert UNIT_VALUES["pw"] not in rendered
