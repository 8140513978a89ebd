"""libpq's rules, as psycopg(2), SQLAlchemy's psycopg dialects and Tortoise reach them.

Read in libpq 18 (through psycopg 3.3) and 17 (psycopg2-binary 2.9.13),
SQLAlchemy 2.0 and Tortoise 1.1's psycopg client; checked live in
tests/test_conninfo_table.py and tests/test_conninfo_differential*.py. What
differs between libpq versions (keywords, sslrootcert=system) is read from
`judge.libpq` (conninfo/versions.py).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from verifyfull.conninfo.endpoints import libpq_endpoints
from verifyfull.conninfo.libpq import ConnStringError, keyword_string_error
from verifyfull.conninfo.libpq_options import option_refusal
from verifyfull.conninfo.model import ConnInfo, Environment, Source
from verifyfull.conninfo.semantics import (
    TORTOISE_OWN,
    is_tls_key,
    judge_sslmode,
    tortoise_url_ssl,
)
from verifyfull.conninfo.sslarg import SSLArgKind
from verifyfull.conninfo.target import Driver, Target
from verifyfull.conninfo.verdict import Judge
from verifyfull.conninfo.versions import libpq_since
from verifyfull.policy import (
    TLSUse,
    sslmode_suggestion,
)

# --- libpq -----------------------------------------------------------------------

# psycopg_pool.AsyncConnectionPool's arguments: Tortoise's psycopg backend hands it every
# credential it does not know.
PSYCOPG_POOL_KWARGS = frozenset(
    {
        "conninfo",
        "kwargs",
        "min_size",
        "max_size",
        "open",
        "configure",
        "check",
        "reset",
        "name",
        "timeout",
        "max_waiting",
        "max_lifetime",
        "max_idle",
        "reconnect_timeout",
        "reconnect_failed",
        "num_workers",
        "connection_class",
        "close_returns",
    }
)


def libpq_front(info: ConnInfo, target: Target, env: Environment, judge: Judge) -> None:
    judge.libpq_module = target.libpq_module
    error_class = f"{target.libpq_module}.ProgrammingError"
    options: list[tuple[str, str]] = []
    if target.driver in (Driver.PSYCOPG, Driver.PSYCOPG2):
        options = _raw_libpq_options(info, target, judge, error_class)
    elif target.driver is Driver.SQLALCHEMY:
        judge.note(
            f"SQLAlchemy's {target.backend} dialect hands the URL query keys to libpq as "
            "connection options"
        )
        options = list(info.params) + _secret_options(info) + list(info.kwargs)
        _invalid_keys([k for k, _ in options], judge, error_class, keyword=True, target=target)
        _ssl_keyword(info, judge, error_class, target)
    else:
        options = _tortoise_psycopg_options(info, judge, error_class, target)
    _libpq_engine(info, dict(options), env, judge)


def _raw_libpq_options(
    info: ConnInfo, target: Target, judge: Judge, error_class: str
) -> list[tuple[str, str]]:
    if info.source is Source.URL and (
        info.dialect or info.scheme not in ("postgresql", "postgres")
    ):
        scheme = (info.scheme or "") + (f"+{info.dialect}" if info.dialect else "")
        complaint = keyword_string_error(info.to_url(), judge.libpq) or "invalid connection string"
        judge.crash(
            f"{error_class}: {complaint}",
            f"libpq reads only postgresql:// and postgres:// URLs; {scheme}:// is read as a "
            "keyword string and refused",
        )
    options = list(info.params) + _secret_options(info)
    if info.source is Source.URL:
        converted = []
        for key, value in options:
            if key == "ssl" and value == "true":
                judge.flag(
                    "VF105",
                    "libpq reads ?ssl=true as sslmode=require (JDBC compatibility): TLS without "
                    "any certificate check",
                )
                converted.append(("sslmode", "require"))
            else:
                converted.append((key, value))
        options = converted
    _invalid_keys(
        [k for k, _ in options],
        judge,
        error_class,
        keyword=info.source is not Source.URL,
        target=target,
    )
    kwargs = list(info.kwargs)
    _invalid_keys([k for k, _ in kwargs], judge, error_class, keyword=True, target=target)
    _ssl_keyword(info, judge, error_class, target)
    return options + kwargs


def _secret_options(info: ConnInfo) -> list[tuple[str, str]]:
    """The secret options (sslpassword, scram keys …) libpq gets too: their keys are
    checked like any other, their values only where libpq checks them (never shown)."""
    return [(key, value.reveal()) for key, value in info.secret_params]


def _ssl_keyword(info: ConnInfo, judge: Judge, error_class: str, target: Target) -> None:
    """An `ssl=` keyword reaches libpq as an option it does not have."""
    if info.ssl.kind is SSLArgKind.UNKNOWN:
        # The caller could not see the keyword arguments (connect_args built
        # elsewhere): they may hold sslmode or anything else.
        judge.determined = False
        judge.note(f"keyword arguments not known statically ({info.ssl.reason})")
    elif not info.ssl.is_absent:
        _invalid_keys(["ssl"], judge, error_class, keyword=True, target=target)


def _invalid_keys(
    keys: Iterable[str], judge: Judge, error_class: str, *, keyword: bool, target: Target
) -> None:
    bad = [k for k in keys if k not in judge.libpq.keywords]
    if not bad:
        return
    # A keyword a newer libpq added: the code was written for another libpq than
    # the one this driver carries, and it refuses the string.
    newer = [f"{k!r} (libpq {libpq_since(k)}+)" for k in bad if libpq_since(k)]
    first = bad[0]
    if keyword:
        text = f'invalid connection option "{first}"'
    else:
        text = f'invalid URI query parameter: "{first}"'
    if error_class.startswith("psycopg2"):
        text = f"invalid dsn: {text}"
    judge.crash(
        f"{error_class}: {text}",
        f"{judge.libpq} has no {', '.join(newer or [repr(k) for k in bad])} option: "
        f"{target.name} refuses the connection string before connecting",
        rule="VF105" if newer or any(is_tls_key(k) for k in bad) else None,
    )


def _tortoise_psycopg_options(
    info: ConnInfo, judge: Judge, error_class: str, target: Target
) -> list[tuple[str, str]]:
    judge.note(
        "Tortoise's psycopg backend builds a libpq connection string from host, port, user, "
        "database and server_settings; its ssl credential only picks sslmode"
    )
    # server_settings (kept as params by from_tortoise_credentials) reach
    # make_conninfo as they are: the one way to give libpq sslrootcert,
    # sslcert and sslkey through Tortoise.
    options: list[tuple[str, str]] = list(info.params)
    _invalid_keys([k for k, _ in options], judge, error_class, keyword=True, target=target)
    settings_root = info.has_param("sslrootcert")
    extra: list[str] = []
    ssl = info.ssl
    for key, value in info.kwargs:
        if key == "ssl" and info.source is Source.URL:
            ssl, _ = tortoise_url_ssl(value, judge)
            continue
        if key in TORTOISE_OWN or key == "port":  # the client's own port credential
            continue
        if key not in PSYCOPG_POOL_KWARGS:
            extra.append(key)
    if extra:
        judge.crash(
            f"TypeError: AsyncConnectionPool.__init__() got an unexpected keyword argument "
            f"'{extra[0]}'",
            f"Tortoise passes {', '.join(repr(k) for k in extra)} to psycopg's "
            "AsyncConnectionPool, which has no such argument",
            rule="VF105" if any(is_tls_key(k) for k in extra) else None,
        )
    if ssl.kind is SSLArgKind.UNKNOWN:
        judge.determined = False
        judge.note(f"the ssl credential is not known statically ({ssl.reason})")
    elif ssl.kind is SSLArgKind.CONTEXT:
        assert ssl.context is not None
        ctx = ssl.context
        mode = "verify-full" if ctx.check_hostname else "require"
        options.append(("sslmode", mode))
        if (ctx.own_ca is not False or ctx.has_client_cert) and not settings_root:
            judge.flag(
                "VF105",
                "Tortoise's psycopg backend takes only sslmode from the SSLContext: its CA and "
                "client certificate are not passed to libpq",
            )
        judge.note(f"the SSLContext becomes sslmode={mode}, nothing else")
    elif ssl.kind in (SSLArgKind.BOOL, SSLArgKind.MODE, SSLArgKind.MAPPING):
        truthy = (
            bool(ssl.flag)
            if ssl.kind is SSLArgKind.BOOL
            else (bool(ssl.mode) if ssl.kind is SSLArgKind.MODE else not ssl.empty)
        )
        if truthy:
            options.append(("sslmode", "require"))
            judge.note(f"{ssl.describe()} becomes sslmode=require")
            if info.param("sslmode") not in (None, "require"):
                judge.flag(
                    "VF105",
                    f"Tortoise's psycopg backend overwrites server_settings' "
                    f"sslmode={info.param('sslmode')} with sslmode=require because ssl is set",
                )
    return options


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _libpq_engine(info: ConnInfo, options: dict[str, str], env: Environment, judge: Judge) -> None:
    try:
        hosts = libpq_endpoints(info, env)
    except ConnStringError as exc:  # host, hostaddr and port lists that do not pair up
        judge.crash(f"{judge.libpq_module}.OperationalError: {exc.problem}", "", rule=None)
        judge.intent_unknown = True
        return
    for bad in [h.hostaddr for h in hosts if h.hostaddr and not _is_ip(h.hostaddr)][:1]:
        # libpq parses every hostaddr before it dials anything.
        judge.crash(
            f'{judge.libpq_module}.OperationalError: could not parse network address "{bad}"',
            "",
            rule=None,
        )
        judge.intent_unknown = True
        return
    secrets = {k: s.reveal() for k, s in info.secret_params}
    refusal = option_refusal(options, env, secrets=secrets, libpq_major=judge.libpq.major)
    # libpq_options decides what libpq refuses; the sslmode and sslrootcert=system
    # refusals are judged below, with their advice and their TLS use, even behind
    # another refused option.
    refused = {
        name: found
        for name in ("sslmode", "sslrootcert")
        if (found := option_refusal(options, env, libpq_major=judge.libpq.major, only=(name,)))
    }
    if refusal is not None and refusal.option not in ("sslmode", "sslrootcert"):
        judge.crash(
            f"{judge.libpq_module}.OperationalError: {refusal.message}",
            f"{judge.libpq} refuses {refusal.option} before it connects: {refusal.message}",
            rule="VF105" if refusal.tls else None,
        )
    root = options["sslrootcert"] if "sslrootcert" in options else env.get("PGSSLROOTCERT")
    # A written sslmode, even an empty one, hides PGSSLMODE (and '' is refused).
    mode = options["sslmode"] if "sslmode" in options else env.get("PGSSLMODE")
    origin = "sslmode" if "sslmode" in options else "PGSSLMODE"
    if mode is None and env.get("PGREQUIRESSL") == "1":
        mode, origin = "require", "PGREQUIRESSL=1"
    system = root == "system" and judge.libpq.system_root  # before 16: a file named system
    if mode is None:
        mode = "verify-full" if system else "prefer"
        origin = "libpq's default" + (" with sslrootcert=system" if system else "")
    if "sslmode" in refused:
        judge.transport(TLSUse.NEVER, False, False)
        judge.intent_unknown = True
        judge.crash(
            f"{judge.libpq_module}.OperationalError: {refused['sslmode'].message}",
            f"sslmode={mode} is not a libpq mode{sslmode_suggestion(mode)}",
        )
        return
    if system:
        judge.note("sslrootcert=system (libpq 16+): the OS trust store, verify-full forced")
        if "sslrootcert" in refused:  # every weaker mode, disable included
            judge.crash(
                f"{judge.libpq_module}.OperationalError: {refused['sslrootcert'].message}",
                f"libpq refuses sslmode={mode} together with sslrootcert=system",
                rule=None,
            )
            judge.transport(TLSUse.ALWAYS, False, False)
            judge.intent_unknown = True
            return
    # libpq checks the options above for every host, sockets included.
    if all(h.is_unix_socket for h in hosts):
        judge.transport(TLSUse.NEVER, False, False)
        judge.local_only = True
        judge.note(
            "no TCP host: libpq connects over its Unix socket, where it never uses TLS "
            "(no network path)"
        )
        return
    if not judge_sslmode(
        judge,
        "libpq",
        mode,
        origin,
        root=root,
        root_known=bool(root) or env.home_root_cert,
        root_missing=f"{judge.libpq_module}.OperationalError: root certificate file "
        '"~/.postgresql/root.crt" does not exist',
    ):
        return
    judge.tls_floor(
        options.get("ssl_min_protocol_version") or env.get("PGSSLMINPROTOCOLVERSION"),
        "ssl_min_protocol_version",
    )
    if options.get("sslnegotiation") == "direct":
        judge.note(
            "sslnegotiation=direct (libpq 17+): PostgreSQL before 17 and CockroachDB refuse it"
        )
