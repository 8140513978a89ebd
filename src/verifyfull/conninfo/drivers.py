"""What each driver really does with a ConnInfo: the Verdict.

Semantics come from docs/FACTS.md, re-read in the drivers' source (asyncpg
0.32 connect_utils.py, SQLAlchemy 2.0 dialects, Tortoise 1.1 backends, libpq
18 via psycopg) and checked against a real server in
tests/test_conninfo_agreement.py. Two engines underneath: libpq's rules
(psycopg, psycopg2, SQLAlchemy's psycopg dialects, Tortoise's psycopg backend)
and asyncpg's rules (asyncpg, SQLAlchemy's asyncpg dialect, Tortoise's asyncpg
backend); each front end only says how its form reaches the engine.

"verifies_chain" and "verifies_hostname" mean guaranteed checks: they are
False whenever a plaintext fallback is possible, since an attacker then skips
the check by answering 'N'.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from verifyfull.conninfo.corrected import corrected_form
from verifyfull.conninfo.libpq import LIBPQ_KEYWORDS, keyword_string_error
from verifyfull.conninfo.model import ConnInfo, Environment, HostPort, Source
from verifyfull.conninfo.parse import TORTOISE_ENGINES
from verifyfull.conninfo.sslarg import ContextFacts, SSLArg, SSLArgKind
from verifyfull.errors import UsageError
from verifyfull.findings import Finding, finding
from verifyfull.policy import (
    DEFAULT_POLICY,
    SSLMODES,
    Policy,
    TLSUse,
    parse_tls_version,
    weak_cipher_reasons,
)
from verifyfull.rules import Severity


class Driver(str, enum.Enum):
    ASYNCPG = "asyncpg"
    PSYCOPG = "psycopg"
    PSYCOPG2 = "psycopg2"
    SQLALCHEMY = "sqlalchemy"
    TORTOISE = "tortoise"


@dataclass(frozen=True)
class Target:
    """The API that receives the connection, and the driver underneath it."""

    driver: Driver
    backend: str | None = None  # SQLAlchemy dialect / Tortoise backend: asyncpg, psycopg, psycopg2

    @property
    def name(self) -> str:
        return f"{self.driver.value}+{self.backend}" if self.backend else self.driver.value

    @property
    def engine(self) -> str:
        """'libpq' or 'asyncpg': whose connection rules apply."""
        underlying = self.backend or self.driver.value
        return "asyncpg" if underlying == "asyncpg" else "libpq"


_SQLALCHEMY_DIALECTS = {
    None: "psycopg2",  # postgresql:// and cockroachdb:// default to psycopg2
    "psycopg2": "psycopg2",
    "psycopg2cffi": "psycopg2",
    "psycopg": "psycopg",
    "psycopg_async": "psycopg",
    "asyncpg": "asyncpg",
}
_TORTOISE_BACKENDS = {
    "tortoise.backends.asyncpg": "asyncpg",
    "tortoise.backends.psycopg": "psycopg",
}


def resolve_target(info: ConnInfo, driver: Driver | str | None = None) -> Target:
    """Which API receives `info`: the given driver, or the one its form implies."""
    chosen = Driver(driver) if driver is not None else _infer_driver(info)
    if chosen is Driver.SQLALCHEMY:
        dialect = info.dialect.lower() if info.dialect else None
        if dialect not in _SQLALCHEMY_DIALECTS:
            raise UsageError(
                f"SQLAlchemy dialect +{dialect} is not modelled",
                "use +asyncpg, +psycopg or +psycopg2",
            )
        return Target(chosen, _SQLALCHEMY_DIALECTS[dialect])
    if chosen is Driver.TORTOISE:
        engine = info.engine or TORTOISE_ENGINES.get(info.scheme or "", TORTOISE_ENGINES["asyncpg"])
        if engine not in _TORTOISE_BACKENDS:
            raise UsageError(
                f"Tortoise engine {engine!r} is not a PostgreSQL backend",
                "use tortoise.backends.asyncpg or tortoise.backends.psycopg",
            )
        return Target(chosen, _TORTOISE_BACKENDS[engine])
    return Target(chosen)


def _infer_driver(info: ConnInfo) -> Driver:
    if info.source is Source.TORTOISE_CONFIG or info.engine:
        return Driver.TORTOISE
    if info.dialect or info.scheme == "cockroachdb":
        return Driver.SQLALCHEMY
    if info.scheme in ("asyncpg", "psycopg"):
        return Driver.TORTOISE
    return Driver.PSYCOPG


@dataclass(frozen=True)
class Verdict:
    """What a driver will actually do with a connection, judged by the policy."""

    driver: str
    tls: TLSUse
    verifies_chain: bool
    verifies_hostname: bool
    breaks: str | None
    findings: tuple[Finding, ...]
    notes: tuple[str, ...]
    corrected: str
    environment: str = "an empty environment"
    # False when something decisive was not visible (an ssl value the scanner
    # could not resolve): tls and the checks are then guesses, and no
    # transport rule is reported.
    determined: bool = True

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(f.rule_id for f in self.findings)

    def worst(self) -> Severity | None:
        if not self.findings:
            return None
        return max((f.severity for f in self.findings), key=lambda s: s.rank)

    def fails(self, threshold: Severity = Severity.HIGH) -> bool:
        return any(f.severity.at_least(threshold) for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        """DESIGN.md's `explain --format json` object."""
        return {
            "driver": self.driver,
            "tls": self.tls.value,
            "verifies_chain": self.verifies_chain,
            "verifies_hostname": self.verifies_hostname,
            "breaks": self.breaks,
            "findings": [f.to_json() for f in self.findings],
            "corrected": self.corrected,
        }


# --- shared bookkeeping --------------------------------------------------------


@dataclass
class _Judge:
    target: Target
    evidence: str
    policy: Policy
    notes: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    breaks: str | None = None
    tls: TLSUse = TLSUse.MAYBE
    chain: bool = False
    hostname: bool = False
    explicit_off: bool = False
    determined: bool = True
    local_only: bool = False  # Unix sockets only: no network path to protect
    # A crash whose intended mode is unknown (a dict, an unparseable mode):
    # no transport rule, only the VF105 crash.
    intent_unknown: bool = False
    libpq_module: str = "psycopg"  # whose exception classes libpq errors surface as

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def flag(self, rule_id: str, message: str, fix: str = "") -> None:
        if any(f.rule_id == rule_id and f.message == message for f in self.findings):
            return
        self.findings.append(finding(rule_id, message, evidence=self.evidence, fix=fix))

    def crash(self, error: str, message: str, *, rule: str | None = "VF105") -> None:
        if self.breaks is None:
            self.breaks = error
        if rule:
            self.flag(rule, message)

    def transport(self, tls: TLSUse, chain: bool, hostname: bool, *, off: bool = False) -> None:
        self.tls = tls
        self.chain = chain and tls is TLSUse.ALWAYS
        self.hostname = hostname and self.chain
        self.explicit_off = off

    def tls_floor(self, version_text: str | None, where: str) -> None:
        if not version_text:
            return
        try:
            version = parse_tls_version(version_text)
        except UsageError:
            self.crash(
                f'invalid value for {where}: "{version_text}"',
                f"{where}={version_text} is not a TLS version: the driver refuses it",
            )
            return
        if self.policy.tls_version_too_low(version):
            self.flag(
                "VF106",
                f"{where}={version_text} lets the client accept TLS below 1.2",
                "remove it (the drivers default to TLSv1.2) or set TLSv1.2 / TLSv1.3",
            )

    def finish(self, info: ConnInfo, env: Environment) -> Verdict:
        if self.determined and not self.local_only and not self.intent_unknown:
            rule = self.policy.transport_rule(
                self.tls, self.chain, self.hostname, explicit_off=self.explicit_off
            )
            if rule is not None:
                self.findings.insert(
                    0, finding(rule, _TRANSPORT_MESSAGE[rule], evidence=self.evidence)
                )
        if info.password is not None and info.literal:
            self.flag(
                "VF401",
                "the connection string carries a literal password",
                "take the password from the environment (PGPASSWORD) or a secret store, "
                "or authenticate with a client certificate",
            )
        return Verdict(
            driver=self.target.name,
            tls=self.tls,
            verifies_chain=self.chain,
            verifies_hostname=self.hostname,
            breaks=self.breaks,
            findings=tuple(self.findings),
            notes=tuple(self.notes),
            corrected=corrected_form(info, self.target),
            environment=env.describe(),
            determined=self.determined,
        )


_TRANSPORT_MESSAGE = {
    "VF101": "TLS is switched off: everything, password included, crosses the network in cleartext",
    "VF102": "the driver may continue in plaintext when the server or an attacker answers 'N'",
    "VF103": "TLS without checking the server certificate: any certificate is accepted",
    "VF104": "the server certificate's chain is checked but not its host name (verify-ca)",
}

_TLS_DSN_KEYS = (
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "sslcrl",
    "sslpassword",
    "sslnegotiation",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
)


def _is_tls_key(key: str) -> bool:
    return key.startswith("ssl") or key in ("requiressl", "direct_tls", "tls")


def evaluate(
    info: ConnInfo,
    driver: Driver | str | None = None,
    env: Environment | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> Verdict:
    """The effective behaviour of `info` when handed to `driver`, in `env`."""
    env = env or Environment.empty()
    target = resolve_target(info, driver)
    judge = _Judge(target=target, evidence=str(info), policy=policy)
    if target.engine == "asyncpg":
        _asyncpg_front(info, target, env, judge)
    else:
        _libpq_front(info, target, env, judge)
    return judge.finish(info, env)


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
_TORTOISE_OWN = frozenset(
    {
        "server_settings",
        "schema",
        "application_name",
        "connection_name",
        "fetch_inserted",
        "loop",
        "connection_class",
        "minsize",
        "maxsize",
    }
)
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


def _asyncpg_front(info: ConnInfo, target: Target, env: Environment, judge: _Judge) -> None:
    if target.driver is Driver.ASYNCPG:
        call = _raw_asyncpg_call(info, judge)
    elif target.driver is Driver.SQLALCHEMY:
        call = _sqlalchemy_asyncpg_call(info, judge)
    else:
        call = _tortoise_asyncpg_call(info, judge)
    _asyncpg_engine(info, call, env, judge)


def _raw_asyncpg_call(info: ConnInfo, judge: _Judge) -> _AsyncpgCall:
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
    dsn = dict(info.params)
    dsn.update({k: "***" for k, _ in info.secret_params})
    for key, value in info.params:
        if key in _TLS_DSN_KEYS and "+" in value:
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
        if _is_tls_key(key):
            judge.flag(
                "VF105",
                f"asyncpg does not know the DSN key {key!r}: it sends it to the server as a "
                "run-time setting instead of using it for TLS",
            )
            judge.crash(_server_rejects(key), "", rule=None)
        else:
            judge.note(f"asyncpg sends the DSN key {key!r} to the server as a setting")
    return _AsyncpgCall(dsn, tuple(k for k, _ in info.kwargs), info.ssl, "the ssl argument")


def _server_rejects(key: str) -> str:
    if key == "ssl":
        # 'ssl' is a real server parameter that only the server's own
        # configuration may change.
        return (
            'asyncpg.exceptions.CantChangeRuntimeParamError: parameter "ssl" cannot be changed now'
        )
    return f'asyncpg.exceptions.UndefinedObjectError: unrecognized configuration parameter "{key}"'


def _sqlalchemy_asyncpg_call(info: ConnInfo, judge: _Judge) -> _AsyncpgCall:
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


def _tortoise_asyncpg_call(info: ConnInfo, judge: _Judge) -> _AsyncpgCall:
    judge.note(
        "Tortoise's asyncpg backend passes its credentials to asyncpg.create_pool() as "
        "keyword arguments (no DSN)"
    )
    ssl = info.ssl
    origin = "credentials['ssl']"
    keys: list[str] = []
    for key, value in info.kwargs:
        if key == "ssl" and info.source is Source.URL:
            ssl, origin = _tortoise_url_ssl(value, judge)
            continue
        if key in _TORTOISE_OWN or key in ASYNCPG_POOL_KWARGS:
            continue
        keys.append(key)
    return _AsyncpgCall({}, tuple(keys), ssl, origin)


_FALSE_WORDS = ("false", "0", "no", "off", "disable", "n", "f")


def _tortoise_url_ssl(value: str, judge: _Judge) -> tuple[SSLArg, str]:
    """Tortoise casts db_url's ?ssl= with bool(): every non-empty string is True."""
    if value.strip().lower() in _FALSE_WORDS:
        judge.flag(
            "VF105",
            f"Tortoise casts ?ssl={value} with bool(): it becomes ssl=True (TLS against the "
            "system trust store), the opposite of what it says",
        )
    elif value.strip().lower() not in ("true", "1", "yes", "on"):
        judge.flag(
            "VF105",
            f"Tortoise casts ?ssl={value} with bool(): it becomes ssl=True (the system trust "
            "store), not the mode it names",
        )
    return SSLArg.of_bool(True), f"db_url ?ssl={value} (cast to True)"


def _asyncpg_engine(info: ConnInfo, call: _AsyncpgCall, env: Environment, judge: _Judge) -> None:
    dsn = dict(call.dsn)
    meant: set[str] = set()  # keys judged as meant, though asyncpg never receives them
    misplaced = [k for k in call.call_keys if k not in ASYNCPG_CONNECT_KWARGS]
    if misplaced:
        first = misplaced[0]
        tls_keys = [k for k in misplaced if _is_tls_key(k)]
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
    hosts = _effective_hosts(info, env)
    direct = info.kwarg("direct_tls")

    ssl = call.ssl
    if ssl.is_absent and "sslmode" in dsn:
        ssl = SSLArg.of_mode(dsn["sslmode"])
        origin = (
            "as meant (if it reached asyncpg), sslmode"
            if "sslmode" in meant
            else ("the DSN's sslmode")
        )
    elif ssl.is_absent and env.get("PGSSLMODE"):
        ssl = SSLArg.of_mode(env.get("PGSSLMODE") or "")
        origin = "PGSSLMODE"
    elif ssl.is_absent:
        if hosts and all(h.is_unix_socket for h in hosts):
            judge.transport(TLSUse.NEVER, False, False)
            judge.local_only = True
            judge.note("Unix socket: asyncpg does not use TLS there (no network path)")
            return
        ssl = SSLArg.of_mode("prefer")
        origin = "asyncpg's default (no ssl argument, no sslmode, no PGSSLMODE)"
    else:
        origin = call.ssl_origin

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


def _effective_hosts(info: ConnInfo, env: Environment) -> tuple[HostPort, ...]:
    if info.hosts:
        return tuple(h for h in info.hosts if h.host) or (HostPort("localhost"),)
    pghost = env.get("PGHOST")
    if pghost:
        return tuple(HostPort(h) for h in pghost.split(",") if h)
    return ()  # the driver's default list (libpq: a Unix socket; asyncpg: sockets, then localhost)


def _ignored_dsn_files(dsn: dict[str, str], env: Environment, judge: _Judge, why: str) -> None:
    ignored = [k for k in _TLS_DSN_KEYS if k in dsn]
    ignored += [v for v in ("PGSSLMODE", "PGSSLROOTCERT", "PGSSLCERT", "PGSSLKEY") if env.get(v)]
    if ignored:
        judge.flag(
            "VF105",
            f"with {why} asyncpg ignores {', '.join(ignored)}: the certificate files named "
            "there are never loaded",
        )


def _asyncpg_context(
    ctx: ContextFacts, dsn: dict[str, str], env: Environment, judge: _Judge
) -> None:
    chain = ctx.verifies_chain
    if chain is None or (chain and ctx.check_hostname is None):
        judge.determined = False
        judge.tls = TLSUse.ALWAYS
        judge.note(f"an SSLContext whose checks are not known statically ({ctx.origin})")
        return
    judge.transport(TLSUse.ALWAYS, chain, bool(ctx.check_hostname))
    judge.note(
        "an SSLContext is used as is: TLS is mandatory (no plaintext fallback), with the "
        "context's own checks"
    )
    _ignored_dsn_files(dsn, env, judge, "an SSLContext")
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


def _cipher_check(ciphers: str, judge: _Judge) -> None:
    reasons = weak_cipher_reasons(ciphers)
    if reasons:
        judge.flag(
            "VF107",
            f"the cipher string {ciphers!r} admits weak suites: {', '.join(reasons)}",
            "leave the ciphers at the library default, or list only ECDHE AEAD suites",
        )


def _asyncpg_mode(
    mode: str,
    origin: str,
    dsn: dict[str, str],
    env: Environment,
    judge: _Judge,
    direct: str | None,
) -> None:
    normalized = mode.strip()
    if normalized not in SSLMODES:
        judge.transport(TLSUse.NEVER, False, False)
        judge.crash(_ASYNCPG_MODE_ERROR, f"{origin} gives ssl={mode!r}, which asyncpg refuses")
        judge.intent_unknown = True
        return
    if direct not in (None, "False", "None") and normalized in ("disable", "allow", "prefer"):
        judge.crash(
            "asyncpg.exceptions.ClientConfigurationError: direct TLS requires sslmode=require, "
            "verify-ca, or verify-full",
            f"direct_tls with sslmode={normalized} is refused by asyncpg",
        )
    root = dsn.get("sslrootcert") or env.get("PGSSLROOTCERT")
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
    if direct not in (None, "False", "None"):
        judge.note(
            "direct_tls: PostgreSQL before 17 and CockroachDB do not accept direct TLS; the "
            "connection fails there"
        )


# --- libpq -----------------------------------------------------------------------

_POOL_ARGS = frozenset(
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
    }
)


def _libpq_front(info: ConnInfo, target: Target, env: Environment, judge: _Judge) -> None:
    error_class = (
        "psycopg2.ProgrammingError"
        if target.backend == "psycopg2" or (target.driver is Driver.PSYCOPG2)
        else "psycopg.ProgrammingError"
    )
    judge.libpq_module = error_class.split(".")[0]
    options: list[tuple[str, str]] = []
    if target.driver in (Driver.PSYCOPG, Driver.PSYCOPG2):
        options = _raw_libpq_options(info, target, judge, error_class)
    elif target.driver is Driver.SQLALCHEMY:
        judge.note(
            f"SQLAlchemy's {target.backend} dialect hands the URL query keys to libpq as "
            "connection options"
        )
        options = list(info.params) + list(info.kwargs)
        _invalid_keys([k for k, _ in options], judge, error_class, keyword=True, target=target)
        if not info.ssl.is_absent:
            _invalid_keys(["ssl"], judge, error_class, keyword=True, target=target)
    else:
        options = _tortoise_psycopg_options(info, judge)
    _libpq_engine(info, dict(options), env, judge)


def _raw_libpq_options(
    info: ConnInfo, target: Target, judge: _Judge, error_class: str
) -> list[tuple[str, str]]:
    if info.source is Source.URL and (
        info.dialect or info.scheme not in ("postgresql", "postgres")
    ):
        scheme = (info.scheme or "") + (f"+{info.dialect}" if info.dialect else "")
        complaint = keyword_string_error(info.to_url()) or "invalid connection string"
        judge.crash(
            f"{error_class}: {complaint}",
            f"libpq reads only postgresql:// and postgres:// URLs; {scheme}:// is read as a "
            "keyword string and refused",
        )
    options = list(info.params)
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
    if not info.ssl.is_absent:
        _invalid_keys(["ssl"], judge, error_class, keyword=True, target=target)
    return options + kwargs


def _invalid_keys(
    keys: Iterable[str], judge: _Judge, error_class: str, *, keyword: bool, target: Target
) -> None:
    bad = [k for k in keys if k not in LIBPQ_KEYWORDS]
    if not bad:
        return
    first = bad[0]
    if keyword:
        text = f'invalid connection option "{first}"'
    else:
        text = f'invalid URI query parameter: "{first}"'
    if error_class.startswith("psycopg2"):
        text = f"invalid dsn: {text}"
    judge.crash(
        f"{error_class}: {text}",
        f"libpq has no {', '.join(repr(k) for k in bad)} option: {target.name} refuses the "
        "connection string before connecting",
        rule="VF105" if any(_is_tls_key(k) for k in bad) else None,
    )


def _tortoise_psycopg_options(info: ConnInfo, judge: _Judge) -> list[tuple[str, str]]:
    judge.note(
        "Tortoise's psycopg backend builds a libpq connection string from host, port, user, "
        "database and server_settings; its ssl credential only picks sslmode"
    )
    options: list[tuple[str, str]] = []
    extra: list[str] = []
    ssl = info.ssl
    for key, value in info.kwargs:
        if key == "ssl" and info.source is Source.URL:
            ssl, _ = _tortoise_url_ssl(value, judge)
            continue
        if key in _TORTOISE_OWN:
            continue
        if key not in _POOL_ARGS:
            extra.append(key)
    if extra:
        judge.crash(
            f"TypeError: AsyncConnectionPool.__init__() got an unexpected keyword argument "
            f"'{extra[0]}'",
            f"Tortoise passes {', '.join(repr(k) for k in extra)} to psycopg's "
            "AsyncConnectionPool, which has no such argument",
            rule="VF105" if any(_is_tls_key(k) for k in extra) else None,
        )
    if ssl.kind is SSLArgKind.UNKNOWN:
        judge.determined = False
        judge.note(f"the ssl credential is not known statically ({ssl.reason})")
    elif ssl.kind is SSLArgKind.CONTEXT:
        assert ssl.context is not None
        ctx = ssl.context
        mode = "verify-full" if ctx.check_hostname else "require"
        options.append(("sslmode", mode))
        if ctx.own_ca is not False or ctx.has_client_cert:
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
    return options


def _libpq_engine(info: ConnInfo, options: dict[str, str], env: Environment, judge: _Judge) -> None:
    hosts = _effective_hosts(info, env)
    if not hosts or all(h.is_unix_socket for h in hosts):
        judge.transport(TLSUse.NEVER, False, False)
        judge.local_only = True
        judge.note(
            "no TCP host: libpq connects over its Unix socket, where it never uses TLS "
            "(no network path)"
        )
        return
    root = options.get("sslrootcert") or env.get("PGSSLROOTCERT")
    mode = options.get("sslmode") or env.get("PGSSLMODE")
    origin = "sslmode" if "sslmode" in options else "PGSSLMODE"
    if mode is None and env.get("PGREQUIRESSL") == "1":
        mode, origin = "require", "PGREQUIRESSL=1"
    if mode is None:
        mode = "verify-full" if root == "system" else "prefer"
        origin = "libpq's default" + (" with sslrootcert=system" if root == "system" else "")
    if mode not in SSLMODES:
        judge.transport(TLSUse.NEVER, False, False)
        judge.intent_unknown = True
        judge.crash(
            f'{judge.libpq_module}.OperationalError: invalid sslmode value: "{mode}"',
            f"sslmode={mode} is not a libpq mode",
        )
        return
    if root == "system":
        judge.note("sslrootcert=system (libpq 16+): the OS trust store, verify-full forced")
        if mode != "verify-full":  # libpq refuses every weaker mode, disable included
            judge.crash(
                f'{judge.libpq_module}.OperationalError: weak sslmode "{mode}" may not be used '
                'with sslrootcert=system (use "verify-full")',
                f"libpq refuses sslmode={mode} together with sslrootcert=system",
                rule=None,
            )
            judge.transport(TLSUse.ALWAYS, False, False)
            judge.intent_unknown = True
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


def judge_sslmode(
    judge: _Judge,
    who: str,
    mode: str,
    origin: str,
    *,
    root: str | None,
    root_known: bool,
    root_missing: str,
) -> bool:
    """libpq's sslmode meaning, shared by libpq and asyncpg (which copies it).

    Returns False when TLS is not certain (nothing more to judge).
    """
    if mode == "disable":
        judge.transport(TLSUse.NEVER, False, False, off=True)
        judge.note(f"{origin}: disable, {who} never uses TLS")
        return False
    if mode in ("allow", "prefer"):
        judge.transport(TLSUse.MAYBE, False, False)
        behaviour = (
            "starts in plaintext and uses TLS only if the server insists"
            if mode == "allow"
            else "asks for TLS, continues in plaintext when the server answers 'N', and "
            "retries in plaintext when the server refuses the session over TLS"
        )
        judge.note(f"{origin}: {mode}. {who} {behaviour}")
        return False
    where = root or "~/.postgresql/root.crt"
    if mode == "require":
        judge.transport(TLSUse.ALWAYS, root_known, False)
        if root_known:
            judge.note(
                f"{origin}: require with a root certificate ({where}): {who} then checks the "
                "chain like verify-ca, but not the host name"
            )
        else:
            judge.note(f"{origin}: require without a root certificate: any certificate is accepted")
        return True
    full = mode == "verify-full"
    judge.transport(TLSUse.ALWAYS, True, full)
    if not root_known:
        judge.crash(
            root_missing,
            f"{mode} needs a root certificate: no sslrootcert, PGSSLROOTCERT or "
            "~/.postgresql/root.crt, so every connect fails",
            # Fails closed, and the deployment may well provide the file: a
            # note and `breaks`, not a finding.
            rule=None,
        )
    judge.note(
        f"{origin}: {mode}, chain checked against {where}"
        + (", host name checked" if full else ", host name NOT checked")
    )
    return True
