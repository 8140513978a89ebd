"""The driver-semantics table: each row a connection as written, a driver, and the verdict.

The unit test below checks the model against each row; the agreement tests
at the end of this file replay the rows with the real drivers against the
lab server (tests may not import each other, so table and replay share this
file). Placeholders: {h} host, {p} port, {ca} root certificate, {cert}/{key}
the client certificate and key of user root, {pw} a canary password.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import socket
import ssl
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import psycopg
import pytest
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import create_async_engine
from tortoise.backends.asyncpg import AsyncpgDBClient
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.backends.psycopg import PsycopgClient

from verifyfull.conninfo import (
    ContextFacts,
    Driver,
    Environment,
    SSLArg,
    VerifyMode,
    evaluate,
    from_asyncpg_kwargs,
    from_sqlalchemy_url,
    from_tortoise_config,
    parse_for_driver,
    resolve_target,
)
from verifyfull.lab.mitm import DowngradeProxy, RogueTLSProxy

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


def _libpq_files(mode: str) -> dict[str, str]:
    """Tortoise psycopg server_settings: sslmode and the lab's files as libpq parameters."""
    return {"sslmode": mode, "sslrootcert": "{ca}", "sslcert": "{cert}", "sslkey": "{key}"}


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
    live: bool = True  # replayed against the lab by the agreement test
    trust: str = "ca"  # "system": the driver trusts only the OS store (not the lab CA)


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
        trust="system",
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
        breaks='invalid connection option "cockroachdb://',
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
    Case(
        "pg-unix-socket",
        "postgresql://root@%2Ftmp/defaultdb",
        "psycopg",
        "never",
        False,
        False,
        live=False,
    ),
    Case("pg-no-host", "postgresql:///defaultdb", "psycopg", "never", False, False, live=False),
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
    Case(
        "pg-env-root-require",
        B + "?sslmode=require",
        "psycopg",
        "always",
        True,
        False,
        ("VF104",),
        env={"PGSSLROOTCERT": "{ca}", "PGSSLCERT": "{cert}", "PGSSLKEY": "{key}"},
    ),
    Case(
        "pg-url-beats-env",
        B + "?" + VF,
        "psycopg",
        "always",
        True,
        True,
        env={"PGSSLMODE": "disable"},
    ),
    Case(
        "pg-pghost-env",
        "postgresql:///defaultdb?" + VF,
        "psycopg",
        "always",
        True,
        True,
        env={"PGHOST": "{h}", "PGPORT": "{p}", "PGUSER": "root"},
    ),
    # --- psycopg2 (its own libpq, 17 in psycopg2-binary 2.9.13) ----------------------
    Case("pg2-default", B, "psycopg2", "maybe", False, False, ("VF102",)),
    Case("pg2-disable", B + "?sslmode=disable", "psycopg2", "never", False, False, ("VF101",)),
    Case("pg2-require", B + "?sslmode=require", "psycopg2", "always", False, False, ("VF103",)),
    Case(
        "pg2-verify-ca",
        B + "?sslmode=verify-ca&sslrootcert={ca}&sslcert={cert}&sslkey={key}",
        "psycopg2",
        "always",
        True,
        False,
        ("VF104",),
    ),
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
        B + "?ssl=require&sslcert={cert}&sslkey={key}",
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
        trust="system",
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
        live=False,
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
    Case(
        "apg-unix-socket",
        "postgresql://root@%2Ftmp/defaultdb",
        "asyncpg",
        "never",
        False,
        False,
        live=False,
    ),
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
    Case(
        "apg-env-root-require",
        B + "?sslmode=require",
        "asyncpg",
        "always",
        True,
        False,
        ("VF104",),
        env={"PGSSLROOTCERT": "{ca}", "PGSSLCERT": "{cert}", "PGSSLKEY": "{key}"},
    ),
    Case(
        "apg-require-kwarg-dsn-root",
        B + "?sslrootcert={ca}&sslcert={cert}&sslkey={key}",
        "asyncpg",
        "always",
        True,
        False,
        ("VF104",),
        form="asyncpg-kwargs",
        kwargs={"ssl": "require"},
    ),
    # An ignored mode the context meets or exceeds loses nothing (held-out-s20
    # trust-or-bust): no VF105; one that asks for a check the context skips, or a file
    # never loaded, is one.
    Case(
        "apg-ctx-ignores-env",
        B,
        "asyncpg",
        "always",
        True,
        True,
        (),
        env={"PGSSLMODE": "disable"},
        form="asyncpg-kwargs",
        ssl="ctx-full",
    ),
    Case(
        "apg-ctx-ignores-env-file",
        B,
        "asyncpg",
        "always",
        True,
        True,
        ("VF105",),
        env={"PGSSLROOTCERT": "{ca}"},
        form="asyncpg-kwargs",
        ssl="ctx-full",
    ),
    Case(
        "apg-ctx-no-hostname-ignores-verify-full",
        B + "?sslmode=verify-full",
        "asyncpg",
        "always",
        True,
        False,
        ("VF104", "VF105"),
        form="asyncpg-kwargs",
        ssl="ctx-no-hostname",
    ),
    Case(
        "apg-pghost-env",
        "postgresql:///defaultdb?" + VF,
        "asyncpg",
        "always",
        True,
        True,
        env={"PGHOST": "{h}", "PGPORT": "{p}", "PGUSER": "root"},
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
        live=False,
    ),
    Case(
        "sa-psycopg-connect-args-libpq",
        "postgresql+psycopg://root@{h}:{p}/defaultdb",
        "sqlalchemy",
        "always",
        True,
        True,
        form="sa-connect-args",
        kwargs={
            "sslmode": "verify-full",
            "sslrootcert": "{ca}",
            "sslcert": "{cert}",
            "sslkey": "{key}",
        },
    ),
    Case(
        "sa-psycopg-connect-args-ctx",
        "postgresql+psycopg://root@{h}:{p}/defaultdb",
        "sqlalchemy",
        "maybe",
        False,
        False,
        ("VF102", "VF105"),
        breaks='invalid connection option "ssl"',
        form="sa-connect-args",
        ssl="ctx-full",
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
        trust="system",
    ),
    Case(
        "tt-ssl-true",
        "postgres://root@{h}:{p}/defaultdb?ssl=true",
        "tortoise",
        "always",
        True,
        True,
        trust="system",
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
        "tt-config-psycopg-settings-full",
        "",
        "tortoise",
        "always",
        True,
        True,
        form="tortoise-config",
        kwargs={"server_settings": _libpq_files("verify-full")},
        engine="tortoise.backends.psycopg",
    ),
    Case(
        "tt-config-psycopg-settings-require",
        "",
        "tortoise",
        "always",
        True,
        False,
        ("VF104",),
        form="tortoise-config",
        kwargs={"server_settings": _libpq_files("require")},
        engine="tortoise.backends.psycopg",
    ),
    Case(
        "tt-config-psycopg-settings-no-root",
        "",
        "tortoise",
        "always",
        True,
        True,
        breaks="root certificate file",
        form="tortoise-config",
        kwargs={"server_settings": {"sslmode": "verify-full"}},
        engine="tortoise.backends.psycopg",
    ),
    Case(
        "tt-config-psycopg-settings-ssl-overwrites",
        "",
        "tortoise",
        "always",
        True,
        False,
        ("VF104", "VF105"),
        form="tortoise-config",
        kwargs={
            "server_settings": _libpq_files("verify-full"),
            "ssl": True,
        },
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
        "tt-config-ssl-true",
        "",
        "tortoise",
        "always",
        True,
        True,
        form="tortoise-config",
        kwargs={"ssl": True},
        trust="system",
    ),
    Case(
        "tt-config-ctx-none",
        "",
        "tortoise",
        "always",
        False,
        False,
        ("VF103",),
        form="tortoise-config",
        ssl="ctx-none",
    ),
    Case(
        "tt-asyncpg-scheme",
        "asyncpg://root@{h}:{p}/defaultdb?ssl=true",
        "tortoise",
        "always",
        True,
        True,
        trust="system",
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


# --- agreement: the real drivers against the lab server ------------------------------
#
# Each live row is replayed with the real driver against lab servers chosen by
# the model's own claim, and the driver's behaviour must match it:
#   breaks            -> connecting to `secure` raises exactly that error
#   tls=never         -> `secure` (hostssl only) refuses the plaintext session;
#                        `no-tls` connects without TLS
#   tls=maybe         -> `no-tls` (answering 'N' like an on-path attacker) gets a
#                        plaintext session
#   tls=always        -> `no-tls` is refused by the client
#   verifies_chain    -> `other-ca` is refused (else the handshake succeeds)
#   verifies_hostname -> `wrong-host` is refused (else the handshake succeeds)
# Outcomes are classified from the driver's own exception text.

LIVE = tuple(c for c in CASES if c.live)
CONNECT_TIMEOUT = 5
SSL_QUERY = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"


def lab_values(server: Any) -> dict[str, str]:
    certs = server.certs_dir
    return {
        "h": server.hostname,
        "p": str(server.port),
        "ca": str(certs / "ca.crt"),
        "cert": str(certs / "client.root.crt"),
        "key": str(certs / "client.root.key"),
        "pw": server.password,
    }


def live_kwargs(case: Case, values: dict[str, str]) -> dict[str, object]:
    kwargs = {k: _fill_any(v, values) for k, v in case.kwargs.items()}
    if case.ssl is not None:
        kwargs["ssl"] = ssl_value(case.ssl, values, live=True)
    return kwargs


async def connect_once(case: Case, values: dict[str, str]) -> bool:
    """Connect the way the row says, run one query; the session's ssl flag."""
    text = fill(case.text, values)
    kwargs = live_kwargs(case, values)
    info = build_info(case, values, live=True)
    target = resolve_target(info, case.driver)
    if target.driver is Driver.PSYCOPG:
        return await asyncio.to_thread(_psycopg_ssl, text, kwargs)
    if target.driver is Driver.PSYCOPG2:
        return await asyncio.to_thread(_psycopg2_ssl, text, kwargs)
    if target.driver is Driver.ASYNCPG:
        conn = await asyncpg.connect(text or None, timeout=CONNECT_TIMEOUT, **kwargs)
        try:
            return bool(await conn.fetchval(SSL_QUERY))
        finally:
            await conn.close()
    if target.driver is Driver.SQLALCHEMY:
        if target.backend == "asyncpg":
            return await _sqlalchemy_async_ssl(text, {**kwargs, "timeout": CONNECT_TIMEOUT})
        args = {**kwargs, "connect_timeout": CONNECT_TIMEOUT}
        return await asyncio.to_thread(_sqlalchemy_sync_ssl, text, args)
    return await _tortoise_ssl(case, text, kwargs, values, target.backend or "asyncpg")


def _psycopg_ssl(conninfo: str, kwargs: dict[str, object]) -> bool:
    with psycopg.connect(conninfo, connect_timeout=CONNECT_TIMEOUT, **kwargs) as conn:
        row = conn.execute(SSL_QUERY).fetchone()
        return bool(row and row[0])


def _psycopg2_ssl(dsn: str, kwargs: dict[str, object]) -> bool:
    import psycopg2

    conn = psycopg2.connect(dsn, connect_timeout=CONNECT_TIMEOUT, **kwargs)
    try:
        with conn.cursor() as cursor:
            cursor.execute(SSL_QUERY)
            row = cursor.fetchone()
            return bool(row and row[0])
    finally:
        conn.close()


async def _sqlalchemy_async_ssl(url: str, connect_args: dict[str, object]) -> bool:
    engine = create_async_engine(url, connect_args=connect_args)
    try:
        async with engine.connect() as conn:
            return bool((await conn.exec_driver_sql(SSL_QUERY)).scalar())
    finally:
        await engine.dispose()


def _sqlalchemy_sync_ssl(url: str, connect_args: dict[str, object]) -> bool:
    engine = create_engine(url, connect_args=connect_args)
    try:
        with engine.connect() as conn:
            return bool(conn.exec_driver_sql(SSL_QUERY).scalar())
    finally:
        engine.dispose()


class _CapturedConninfo(Exception):
    pass


async def _tortoise_ssl(
    case: Case, text: str, kwargs: dict[str, object], values: dict[str, str], backend: str
) -> bool:
    if case.form == "tortoise-config":
        credentials: dict[str, Any] = {
            "host": values["h"],
            "port": int(values["p"]),
            "user": "root",
            "database": "defaultdb",
            **kwargs,
        }
    else:
        credentials = dict(expand_db_url(text)["credentials"])
    if backend == "asyncpg":
        client = AsyncpgDBClient(connection_name="agreement", **credentials)
        try:
            await client.create_connection(with_db=True)
            rows = await client.execute_query_dict(SSL_QUERY)
            return bool(rows[0]["ssl"])
        finally:
            await client.close()
    # Tortoise's psycopg backend hides libpq's error behind a pool timeout, so
    # take the conninfo it builds and give it to libpq directly.
    captured: list[str] = []

    class Capturing(PsycopgClient):  # type: ignore[misc]
        async def create_pool(self, **pool_kwargs: Any) -> Any:
            captured.append(pool_kwargs["conninfo"])
            raise _CapturedConninfo

    client = Capturing(connection_name="agreement", **credentials)
    with contextlib.suppress(_CapturedConninfo):
        await client.create_connection(with_db=True)
    assert captured, "Tortoise's psycopg backend built no conninfo"
    return await asyncio.to_thread(_psycopg_ssl, captured[0], {})


def classify(exc: BaseException | None) -> str:
    if exc is None:
        return "ok"
    text = error_text(exc).lower()
    if any(
        marker in text
        for marker in (
            "certificate verify failed",
            "does not match host name",
            "sslcertverificationerror",
            "hostname mismatch",
        )
    ):
        return "tls-refused"
    if "no encryption" in text:
        return "plaintext-refused"
    if "does not support ssl" in text or "rejected ssl upgrade" in text:
        return "no-tls-refused"
    if (
        "requires a valid client certificate" in text
        or "certificate authentication failed" in text
        or "password authentication failed" in text
    ):
        return "auth"
    return "other"


def error_text(exc: BaseException) -> str:
    """Class names and messages of the whole exception chain."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts.append(f"{type(current).__module__}.{type(current).__name__}: {current}")
        current = current.__cause__ or current.__context__
    return "\n".join(parts)


_ERROR_CLASS = re.compile(r"^(?P<cls>[\w.]*(?:Error|Exception))\s*:\s*")


def raises_as_claimed(claim: str, exc: BaseException, home: str) -> bool:
    """The driver's exception is the claimed one: same class, same message text."""
    match = _ERROR_CLASS.match(claim)
    message = claim[match.end() :] if match else claim
    message = message.replace("~", home)
    text = error_text(exc)
    if message not in text:
        return False
    if match:
        name = match.group("cls").split(".")[-1]
        return f".{name}:" in text
    return True


def expected_outcomes(case: Case, verdict: Any, variant: str) -> set[str] | None:
    """What the model's claim predicts against one lab variant (None: not checked there)."""
    tls = verdict.tls.value
    if case.trust == "system":
        return {"secure": {"tls-refused"}, "no-tls": {"no-tls-refused"}}.get(variant)
    if variant == "no-tls":
        return {"no-tls-refused"} if tls == "always" else {"ok"}
    if variant == "secure":
        return {
            "never": {"plaintext-refused"},
            "maybe": {"ok", "auth", "plaintext-refused"},
            "always": {"ok", "auth"},
        }[tls]
    if tls != "always":
        return None
    if variant == "other-ca":
        return {"tls-refused"} if verdict.verifies_chain else {"ok", "auth"}
    if variant == "wrong-host" and verdict.verifies_chain:
        return {"tls-refused"} if verdict.verifies_hostname else {"ok", "auth"}
    return None


def _prepare_environment(
    case: Case, values: dict[str, str], monkeypatch: pytest.MonkeyPatch, home: Path
) -> None:
    for name in list(os.environ):
        if name.startswith("PG"):
            monkeypatch.delenv(name)
    for name, value in case.env.items():
        monkeypatch.setenv(name, fill(value, values))
    monkeypatch.setenv("HOME", str(home))
    if case.home_root:
        (home / ".postgresql").mkdir(exist_ok=True)
        shutil.copy(values["ca"], home / ".postgresql" / "root.crt")


VARIANTS_CHECKED = ("secure", "no-tls", "other-ca", "wrong-host")


@pytest.mark.pg
@pytest.mark.filterwarnings("ignore:ssl.TLSVersion:DeprecationWarning")  # rows that ask for TLS 1.1
@pytest.mark.parametrize("case", LIVE, ids=lambda c: c.id)
async def test_driver_agrees_with_model(
    case: Case,
    lab: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    if case.id == "pg-ipv6" and not _ipv6_loopback():
        pytest.skip("no IPv6 loopback on this machine")
    checked = 0
    for variant in VARIANTS_CHECKED:
        server = lab(variant)
        values = lab_values(server)
        home = tmp_path / variant
        home.mkdir()
        _prepare_environment(case, values, monkeypatch, home)
        verdict = evaluate(
            build_info(case, values, live=True), case.driver, environment(case, values)
        )
        if verdict.breaks is not None and variant != "secure":
            continue
        expected = None if verdict.breaks else expected_outcomes(case, verdict, variant)
        if verdict.breaks is None and expected is None:
            continue
        error: BaseException | None = None
        session_ssl = None
        try:
            session_ssl = await asyncio.wait_for(connect_once(case, values), 3 * CONNECT_TIMEOUT)
        except Exception as exc:
            error = exc
        checked += 1
        if verdict.breaks is not None:
            assert error is not None, f"{variant}: model says it breaks, driver connected"
            assert raises_as_claimed(verdict.breaks, error, str(home)), (
                f"{variant}: claimed {verdict.breaks!r}, got {error_text(error)!r}"
            )
            continue
        outcome = classify(error)
        detail = error_text(error) if error else f"connected, ssl={session_ssl}"
        assert outcome in expected, f"{variant}: expected {expected}, got {outcome}: {detail}"
        if outcome == "ok":
            # The session really is (or is not) encrypted as the claim says.
            assert session_ssl is (verdict.tls.value == "always" or variant != "no-tls")
    assert checked, "no lab variant exercised this row"


def _breaks(case: Case) -> bool:
    info = build_info(case, UNIT_VALUES)
    return evaluate(info, case.driver, environment(case, UNIT_VALUES)).breaks is not None


# Rows that break fail before any byte is sent: the agreement test covers them.
MITM_ROWS = tuple(c for c in LIVE if not _breaks(c))


@pytest.mark.pg
@pytest.mark.filterwarnings("ignore:ssl.TLSVersion:DeprecationWarning")
@pytest.mark.parametrize("case", MITM_ROWS, ids=lambda c: c.id)
async def test_driver_agrees_under_attack(
    case: Case,
    lab: Any,
    rogue_cert: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """On-path attackers: one answering 'N', one presenting a rogue certificate.

    tls=maybe/never: the client sends its StartupMessage in cleartext through
    DowngradeProxy; tls=always: it never does. verifies_chain: the client
    refuses RogueTLSProxy's certificate; tls=always without it: it accepts.
    """
    secure = lab("secure")
    base = lab_values(secure)
    home = tmp_path / "home"
    home.mkdir()
    verdict = evaluate(build_info(case, base, live=True), case.driver, environment(case, base))
    assert verdict.breaks is None
    with DowngradeProxy(secure.host, secure.port, timeout=CONNECT_TIMEOUT) as downgrade:
        values = {**base, "h": "127.0.0.1", "p": str(downgrade.port)}
        _prepare_environment(case, values, monkeypatch, home)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(connect_once(case, values), 3 * CONNECT_TIMEOUT)
        cleartext = bool(downgrade.startup_messages)
    assert cleartext is (verdict.tls.value != "always"), (
        f"tls={verdict.tls.value}, StartupMessage in cleartext: {cleartext}"
    )
    if verdict.tls.value != "always":
        return
    cert, key = rogue_cert
    with RogueTLSProxy(
        secure.host, secure.port, cert=cert, key=key, timeout=CONNECT_TIMEOUT
    ) as rogue:
        values = {**base, "h": "127.0.0.1", "p": str(rogue.port)}
        with contextlib.suppress(Exception):
            await asyncio.wait_for(connect_once(case, values), 3 * CONNECT_TIMEOUT)
        accepted = rogue.client_completed_handshake
    assert accepted is (not verdict.verifies_chain), (
        f"verifies_chain={verdict.verifies_chain}, rogue certificate accepted: {accepted}"
    )


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False
