"""asyncpg's rules, as asyncpg, SQLAlchemy's asyncpg dialect and Tortoise reach them.

Read in asyncpg 0.32 connect_utils.py, SQLAlchemy 2.0's asyncpg dialect and
Tortoise 1.1's asyncpg client; checked live in tests/test_conninfo_table.py.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass

from verifyfull.conninfo.endpoints import AsyncpgRefusal, asyncpg_endpoints
from verifyfull.conninfo.libpq_options import SESSION_ATTRIBUTES
from verifyfull.conninfo.model import ConnInfo, Environment, HostPort, Source
from verifyfull.conninfo.semantics import (
    TLS_DSN_KEYS,
    TORTOISE_OWN,
    is_tls_key,
    judge_sslmode,
    tortoise_url_ssl,
)
from verifyfull.conninfo.sslarg import ContextFacts, SSLArg, SSLArgKind
from verifyfull.conninfo.target import Driver, Target
from verifyfull.conninfo.verdict import Judge
from verifyfull.policy import (
    SSLMODES,
    TLSUse,
    sslmode_suggestion,
    weak_cipher_reasons,
)

# --- asyncpg ---------------------------------------------------------------------

ASYNCPG_CONNECT_KWARGS = frozenset(
    {
        "dsn",
        "host",
        "port",
        "user",
        "password",
        "passfile",
        "service",
        "servicefile",
        "database",
        "loop",
        "timeout",
        "statement_cache_size",
        "max_cached_statement_lifetime",
        "max_cacheable_statement_size",
        "command_timeout",
        "ssl",
        "direct_tls",
        "connection_class",
        "record_class",
        "server_settings",
        "target_session_attrs",
        "krbsrvname",
        "gsslib",
    }
)
ASYNCPG_POOL_KWARGS = frozenset(
    {
        "init_size",
        "min_size",
        "max_size",
        "max_queries",
        "max_inactive_connection_lifetime",
        "connect",
        "setup",
        "init",
        "reset",
        "connect_kwargs",
    }
)
# DSN query keys asyncpg reads itself; any other key becomes a server setting.
ASYNCPG_DSN_KEYS = frozenset(
    {
        "port",
        "host",
        "dbname",
        "database",
        "user",
        "password",
        "passfile",
        "service",
        "sslmode",
        "sslcert",
        "sslkey",
        "sslrootcert",
        "sslnegotiation",
        "sslcrl",
        "sslpassword",
        "ssl_min_protocol_version",
        "ssl_max_protocol_version",
        "target_session_attrs",
        "krbsrvname",
        "gsslib",
    }
)
# Keys SQLAlchemy's asyncpg dialect takes out of the URL query for itself.
_SQLALCHEMY_ASYNCPG_OWN = frozenset(
    {"prepared_statement_cache_size", "prepared_statement_name_func", "async_fallback"}
)
# Credential keys Tortoise's PostgreSQL clients consume before calling the driver.
_ASYNCPG_MODE_ERROR = (
    "asyncpg.exceptions.ClientConfigurationError: `sslmode` parameter must be one of: "
    "disable, allow, prefer, require, verify-ca, verify-full"
)


@dataclass(frozen=True)
class _AsyncpgCall:
    """What reaches asyncpg.connect: DSN query keys, call keywords, the ssl argument."""

    dsn: dict[str, str]
    call_keys: tuple[str, ...]
    ssl: SSLArg
    ssl_origin: str  # how the ssl argument came about, in words
    server_refusal: str | None = None  # the server refuses a setting at connect


def asyncpg_front(info: ConnInfo, target: Target, env: Environment, judge: Judge) -> None:
    if target.driver is Driver.ASYNCPG:
        call = _raw_asyncpg_call(info, judge)
    elif target.driver is Driver.SQLALCHEMY:
        call = _sqlalchemy_asyncpg_call(info, judge)
    else:
        call = _tortoise_asyncpg_call(info, judge)
    _asyncpg_engine(info, call, env, judge)


def _raw_asyncpg_call(info: ConnInfo, judge: Judge) -> _AsyncpgCall:
    if info.source is Source.KEYWORDS:
        judge.crash(
            "asyncpg.exceptions.ClientConfigurationError: invalid DSN: scheme is expected "
            'to be either "postgresql" or "postgres", got \'\'',
            "asyncpg reads only URLs, not libpq keyword strings",
        )
    elif info.source is Source.URL:
        scheme = info.scheme or ""
        if info.dialect:
            scheme = f"{scheme}+{info.dialect}"
        if scheme not in ("postgresql", "postgres"):
            judge.crash(
                "asyncpg.exceptions.ClientConfigurationError: invalid DSN: scheme is expected "
                f'to be either "postgresql" or "postgres", got {scheme!r}',
                f"asyncpg refuses the {scheme}:// scheme (only postgresql:// and postgres://)",
            )
    # asyncpg reads the query with parse_qs: blank values vanish, the last
    # of a repeated key wins.
    for note in info.reading_notes:
        judge.flag("VF105", note)
    # (A DSN URL's blank values are gone already; blank ones left are a service
    # file's, which asyncpg keeps: an empty sslmode is refused.)
    dsn = {k: v for k, v in info.params if v != "" or info.source is Source.URL}
    dsn.update({k: "***" for k, _ in info.secret_params})
    refusal: str | None = None  # the server's, after everything asyncpg checks itself
    for key, value in info.params:
        if key in TLS_DSN_KEYS and "+" in value:
            # asyncpg reads the query with parse_qs: '+' is a space there.
            judge.flag(
                "VF105",
                f"asyncpg reads '+' in the DSN query as a space: {key}={value} names "
                f"{value.replace('+', ' ')!r}; write '+' as %2B",
            )
            dsn[key] = value.replace("+", " ")
    for key in dsn:
        if key in ASYNCPG_DSN_KEYS:
            continue
        if is_tls_key(key):
            judge.flag(
                "VF105",
                f"asyncpg does not know the DSN key {key!r}: it sends it to the server as a "
                "run-time setting instead of using it for TLS",
            )
            refusal = refusal or _server_rejects(key)
        else:
            judge.note(f"asyncpg sends the DSN key {key!r} to the server as a setting")
    return _AsyncpgCall(
        dsn, tuple(k for k, _ in info.kwargs), info.ssl, "the ssl argument", refusal
    )


def _server_rejects(key: str) -> str:
    if key == "ssl":
        # 'ssl' is a real server parameter that only the server's own
        # configuration may change.
        return (
            'asyncpg.exceptions.CantChangeRuntimeParamError: parameter "ssl" cannot be changed now'
        )
    return f'asyncpg.exceptions.UndefinedObjectError: unrecognized configuration parameter "{key}"'


def _sqlalchemy_asyncpg_call(info: ConnInfo, judge: Judge) -> _AsyncpgCall:
    judge.note(
        "SQLAlchemy's asyncpg dialect passes every URL query key to asyncpg.connect() as a "
        "keyword argument"
    )
    keys: list[str] = []
    ssl = info.ssl
    origin = "connect_args['ssl']"
    for key, value in info.params:
        if key in _SQLALCHEMY_ASYNCPG_OWN:
            continue
        if key == "ssl":
            if ssl.is_absent:
                ssl = SSLArg.of_mode(value)
                origin = "the URL's ?ssl= (a string)"
            continue
        keys.append(key)
    keys += [k for k, _ in info.secret_params]
    keys += [k for k, _ in info.kwargs]
    return _AsyncpgCall({}, tuple(keys), ssl, origin)


def _tortoise_asyncpg_call(info: ConnInfo, judge: Judge) -> _AsyncpgCall:
    judge.note(
        "Tortoise's asyncpg backend passes its credentials to asyncpg.create_pool() as "
        "keyword arguments (no DSN)"
    )
    ssl = info.ssl
    origin = "credentials['ssl']"
    keys: list[str] = []
    for key, value in info.kwargs:
        if key == "ssl" and info.source is Source.URL:
            ssl, origin = tortoise_url_ssl(value, judge)
            continue
        if key in TORTOISE_OWN or key in ASYNCPG_POOL_KWARGS:
            continue
        keys.append(key)
    return _AsyncpgCall({}, tuple(keys), ssl, origin)


def _asyncpg_engine(info: ConnInfo, call: _AsyncpgCall, env: Environment, judge: Judge) -> None:
    dsn = dict(call.dsn)
    meant: set[str] = set()  # keys judged as meant, though asyncpg never receives them
    misplaced = [k for k in call.call_keys if k not in ASYNCPG_CONNECT_KWARGS]
    if misplaced:
        first = misplaced[0]
        tls_keys = [k for k in misplaced if is_tls_key(k)]
        judge.crash(
            f"TypeError: connect() got an unexpected keyword argument '{first}'",
            f"asyncpg.connect() has no {', '.join(repr(k) for k in misplaced)} argument: "
            "the first connect raises TypeError"
            + (" (these are DSN keys, not keyword arguments)" if tls_keys else ""),
        )
        # Judge what was meant, so the transport rule still names the mode.
        for key in tls_keys:
            value = info.param(key) or info.kwarg(key)
            if value is not None:
                dsn[key] = value
                meant.add(key)
    try:
        hosts = asyncpg_endpoints(info, env)
    except AsyncpgRefusal as exc:  # a port list that is none, or does not pair up
        judge.crash(
            exc.error,
            f"asyncpg refuses the connection before dialling: {exc.problem} (a port list "
            "must pair one to one with the host list, or be one port for all)",
        )
        judge.intent_unknown = True
        return
    _asyncpg_settings(info, call, dsn, meant, hosts, env, judge)
    if call.server_refusal is not None:
        judge.crash(call.server_refusal, "", rule=None)
    if any(h.host == "" and not h.is_unix_socket for h in hosts):
        # A netloc with only ':port': asyncpg dials TCP host '' and getaddrinfo fails,
        # after everything above has been checked.
        judge.crash("socket.gaierror: [Errno -2] Name or service not known", "", rule=None)


def _asyncpg_settings(
    info: ConnInfo,
    call: _AsyncpgCall,
    dsn: dict[str, str],
    meant: set[str],
    hosts: tuple[HostPort, ...],
    env: Environment,
    judge: Judge,
) -> None:
    """What _parse_connect_dsn_and_args checks and builds, before anything is dialled."""
    direct = info.kwarg("direct_tls")
    if direct is None:  # without direct_tls asyncpg 0.32 reads sslnegotiation
        negotiation = dsn.get("sslnegotiation") or env.get("PGSSLNEGOTIATION")
        if negotiation not in (None, "postgres", "direct"):
            judge.crash(
                "asyncpg.exceptions.ClientConfigurationError: `sslnegotiation` parameter must "
                "be one of: postgres, direct",
                f"sslnegotiation={negotiation} is refused by asyncpg",
            )
        direct = "True" if negotiation == "direct" else None
    # An argument beats the DSN even when it is empty (asyncpg tests `is None`).
    attrs = _argument_or(info, "target_session_attrs", dsn)
    if attrs is None and "target_session_attrs" in call.call_keys:  # SQLAlchemy's query
        attrs = info.param("target_session_attrs")
    attrs = attrs if attrs is not None else env.get("PGTARGETSESSIONATTRS")
    if attrs is not None and attrs not in SESSION_ATTRIBUTES:
        judge.crash(
            "asyncpg.exceptions.ClientConfigurationError: target_session_attrs is expected "
            f"to be one of {', '.join(SESSION_ATTRIBUTES)}",
            "",
            rule=None,
        )
    gsslib = _argument_or(info, "gsslib", dsn)
    gsslib = gsslib if gsslib is not None else env.get("PGGSSLIB")  # even when empty
    if gsslib is not None and gsslib not in ("gssapi", "sspi"):
        judge.crash(
            "asyncpg.exceptions.ClientConfigurationError: gsslib parameter must be either "
            f"'gssapi' or 'sspi', got {gsslib!r}",
            "",
            rule=None,
        )

    ssl = call.ssl
    if ssl.is_absent and "sslmode" in dsn:
        ssl = SSLArg.of_mode(dsn["sslmode"])
        origin = (
            "as meant (if it reached asyncpg), sslmode"
            if "sslmode" in meant
            else ("the DSN's sslmode")
        )
    elif ssl.is_absent and env.get("PGSSLMODE") is not None:
        # os.getenv: an empty PGSSLMODE is a mode too (one asyncpg refuses).
        ssl = SSLArg.of_mode(env.get("PGSSLMODE") or "")
        origin = "PGSSLMODE"
    elif ssl.is_absent:
        ssl = SSLArg.of_mode("prefer")
        origin = "asyncpg's default (no ssl argument, no sslmode, no PGSSLMODE)"
    else:
        origin = call.ssl_origin
    if _direct(direct) and (
        ssl.kind is SSLArgKind.MAPPING or (ssl.kind is SSLArgKind.BOOL and not ssl.flag)
    ):
        # asyncpg's sslmode for anything but a mode, True or an SSLContext is disable,
        # and direct TLS needs require or stronger (checked before anything is dialled,
        # so over a Unix socket too). A mode string is checked in _asyncpg_mode, after
        # the checks asyncpg makes first.
        judge.crash(
            _DIRECT_ERROR,
            f"direct TLS (direct_tls or sslnegotiation=direct) with {ssl.describe()} is "
            "refused by asyncpg (it reads that as sslmode=disable)",
        )
    sockets_only = bool(hosts) and all(h.is_unix_socket for h in hosts)
    if sockets_only and not (ssl.kind is SSLArgKind.MODE and (ssl.mode or "") not in SSLMODES):
        # asyncpg dials a Unix socket without TLS whatever ssl says; it still builds
        # the SSLContext of a mode string first, so a missing root still raises.
        if ssl.kind is SSLArgKind.MODE:
            _asyncpg_mode(ssl.mode or "", origin, dsn, env, judge, direct)
        judge.transport(TLSUse.NEVER, False, False)
        judge.local_only = True
        judge.note("Unix socket: asyncpg does not use TLS there (no network path)")
        return

    if ssl.kind is SSLArgKind.UNKNOWN:
        judge.determined = False
        judge.note(f"the ssl argument is not known statically ({ssl.reason})")
        return
    if ssl.kind is SSLArgKind.MAPPING:
        if ssl.empty:
            judge.transport(TLSUse.NEVER, False, False)
            judge.flag("VF105", "ssl={} is falsy: asyncpg connects in plaintext without a word")
        else:
            judge.transport(TLSUse.ALWAYS, False, False)
            judge.intent_unknown = True
            judge.crash(
                "TypeError: sslcontext is expected to be an instance of ssl.SSLContext",
                "asyncpg does not take a dict for ssl: connecting raises TypeError",
            )
        return
    if ssl.kind is SSLArgKind.BOOL:
        if not ssl.flag:
            judge.transport(TLSUse.NEVER, False, False, off=True)
            judge.note("ssl=False: asyncpg never uses TLS")
            return
        judge.transport(TLSUse.ALWAYS, True, True)
        judge.note(
            f"{origin}: ssl=True means ssl.create_default_context(): TLS required, chain and "
            "host name checked against the system trust store. A private CA (CockroachDB's "
            "ca.crt) is not in it, so the handshake fails with SSLCertVerificationError"
        )
        _ignored_dsn_files(dsn, env, judge, "ssl=True")
        return
    if ssl.kind is SSLArgKind.CONTEXT:
        assert ssl.context is not None
        _asyncpg_context(ssl.context, dsn, env, judge)
        return
    _asyncpg_mode(ssl.mode or "", origin, dsn, env, judge, direct)


def _argument_or(info: ConnInfo, key: str, dsn: dict[str, str]) -> str | None:
    value = info.kwarg(key)
    return value if value is not None else dsn.get(key)


_DIRECT_ERROR = (
    "asyncpg.exceptions.ClientConfigurationError: direct TLS requires sslmode=require, "
    "verify-ca, or verify-full"
)


def _direct(direct: str | None) -> bool:
    """direct_tls as rendered (a truthy argument), or "True" for sslnegotiation=direct."""
    return direct not in (None, "False", "None", "0", "''", "")


# What an sslmode asks of the server's certificate: (chain checked, host name checked)
_MODE_CHECKS = {"verify-ca": (True, False), "verify-full": (True, True)}


def _ignored_dsn_files(
    dsn: dict[str, str],
    env: Environment,
    judge: Judge,
    why: str,
    checks: tuple[bool, bool] = (True, True),
) -> None:
    """VF105 for the DSN's (and the environment's) TLS settings asyncpg ignores next to
    ssl=True or an SSLContext, when ignoring them changes something: a file never
    loaded, an option never applied, or a mode that asks for checks the context does
    not make (`checks`: what it does check). A mode the context meets or exceeds
    (`sslmode=verify-full` beside a verifying context, held-out-s20 trust-or-bust;
    `sslmode=require` beside any TLS) loses nothing by being ignored: no finding."""
    modes = [(k, dsn[k]) for k in ("sslmode",) if k in dsn]
    modes += [(v, env.get(v) or "") for v in ("PGSSLMODE",) if env.get(v)]
    unmet = [
        key
        for key, mode in modes
        if any(
            want and not have
            for want, have in zip(
                _MODE_CHECKS.get(mode.lower(), (False, False)), checks, strict=True
            )
        )
    ]
    files = [k for k in TLS_DSN_KEYS if k in dsn and k != "sslmode"]
    files += [v for v in ("PGSSLROOTCERT", "PGSSLCERT", "PGSSLKEY") if env.get(v)]
    if files:
        judge.flag(
            "VF105",
            f"with {why} asyncpg ignores {', '.join([*unmet, *files])}: the certificate "
            "files and options named there are never applied",
        )
    elif unmet:
        judge.flag(
            "VF105",
            f"with {why} asyncpg ignores {', '.join(unmet)}: the checks that mode asks "
            "for are the context's to make, and it does not make them all",
        )


def _asyncpg_context(
    ctx: ContextFacts, dsn: dict[str, str], env: Environment, judge: Judge
) -> None:
    if judge_context(ctx, judge):
        checks = (bool(ctx.verifies_chain), bool(ctx.check_hostname))
        _ignored_dsn_files(dsn, env, judge, "an SSLContext", checks)


def judge_context(ctx: ContextFacts, judge: Judge) -> bool:
    """An SSLContext a driver uses as is (asyncpg's ssl=, pg8000's ssl_context=): TLS
    mandatory with the context's own checks. False when its checks are not known."""
    chain = ctx.verifies_chain
    if chain is None or (chain and ctx.check_hostname is None):
        judge.determined = False
        judge.tls = TLSUse.ALWAYS
        judge.note(f"an SSLContext whose checks are not known statically ({ctx.origin})")
        return False
    judge.transport(TLSUse.ALWAYS, chain, bool(ctx.check_hostname))
    judge.note(
        "an SSLContext is used as is: TLS is mandatory (no plaintext fallback), with the "
        "context's own checks"
    )
    if chain and ctx.own_ca is False and ctx.system_roots is False:
        judge.crash(
            "ssl.SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify "
            "failed: unable to get local issuer certificate",
            "the SSLContext verifies certificates but has no root loaded: every handshake fails",
        )
    if chain and ctx.own_ca is False and ctx.system_roots:
        judge.note(
            "the context trusts the system store only: a private CA (CockroachDB's ca.crt) "
            "must be loaded with cafile="
        )
    if ctx.minimum_version and ctx.minimum_version != "MINIMUM_SUPPORTED":
        judge.tls_floor(ctx.minimum_version, "SSLContext.minimum_version")
    if ctx.ciphers:
        _cipher_check(ctx.ciphers, judge)
    return True


def _cipher_check(ciphers: str, judge: Judge) -> None:
    reasons = weak_cipher_reasons(ciphers)
    if reasons:
        judge.flag(
            "VF107",
            f"the cipher string {ciphers!r} admits weak suites: {', '.join(reasons)}",
            "leave the ciphers at the library default, or list only ECDHE AEAD suites",
        )


def _asyncpg_tls_version_error(value: str) -> str | None:
    """asyncpg's _parse_tls_version: a member of ssl.TLSVersion with '.' written as
    '_' (case-sensitive; MINIMUM_SUPPORTED and MAXIMUM_SUPPORTED included), never SSL*."""
    if value.startswith("SSL"):
        return f"Unsupported TLS version: {value}"
    if value.replace(".", "_") not in ssl.TLSVersion.__members__:
        return f"No such TLS version: {value}"
    return None


def _asyncpg_mode(
    mode: str,
    origin: str,
    dsn: dict[str, str],
    env: Environment,
    judge: Judge,
    direct: str | None,
) -> None:
    normalized = mode.strip()
    if normalized not in SSLMODES:
        judge.transport(TLSUse.NEVER, False, False)
        judge.crash(
            _ASYNCPG_MODE_ERROR,
            f"{origin} gives ssl={mode!r}, which asyncpg refuses{sslmode_suggestion(mode)}",
        )
        judge.intent_unknown = True
        return
    if normalized != "disable":  # asyncpg builds a context, reading both bounds
        for key, variable in (
            ("ssl_min_protocol_version", "PGSSLMINPROTOCOLVERSION"),
            ("ssl_max_protocol_version", "PGSSLMAXPROTOCOLVERSION"),
        ):
            written = dsn.get(key)
            bound = written if written is not None else env.get(variable)
            if bound and (error := _asyncpg_tls_version_error(bound)):
                judge.crash(
                    f"asyncpg.exceptions.ClientConfigurationError: {error}",
                    f"{key}={bound} is not a TLS version asyncpg knows ({error}): it raises "
                    "before connecting",
                )
                break
    if _direct(direct) and normalized in ("disable", "allow", "prefer"):
        judge.crash(
            _DIRECT_ERROR,
            f"direct TLS (direct_tls or sslnegotiation=direct) with sslmode={normalized} is "
            "refused by asyncpg",
        )
    root = dsn.get("sslrootcert") or env.get("PGSSLROOTCERT")
    if root == "system" and normalized in ("require", "verify-ca", "verify-full"):
        judge.crash(
            "FileNotFoundError: [Errno 2] No such file or directory",
            "asyncpg has no sslrootcert=system (that is libpq 16+): it loads a file named "
            "'system', which is not there",
        )
    if not judge_sslmode(
        judge,
        "asyncpg",
        normalized,
        origin,
        root=root,
        root_known=bool(root) or env.home_root_cert,
        root_missing="asyncpg.exceptions.ClientConfigurationError: root certificate file "
        '"~/.postgresql/root.crt" does not exist or cannot be accessed',
    ):
        return
    judge.tls_floor(
        dsn.get("ssl_min_protocol_version") or env.get("PGSSLMINPROTOCOLVERSION"),
        "ssl_min_protocol_version",
    )
    if _direct(direct):
        judge.note(
            "direct_tls: PostgreSQL before 17 and CockroachDB do not accept direct TLS; the "
            "connection fails there"
        )
