"""The two judgements of one connect: its arguments before, its handshake after.

Before: the call's real arguments plus the process environment, read by
conninfo exactly as `verifyfull explain --env` reads a connection string, so
enforcement refuses what the scanner and explain report. After: the live
connection's protocol, cipher and server certificate, judged by the guard's
proof (`guard.proof.prove`), so enforcement accepts what the guard accepts.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from verifyfull import rules
from verifyfull.conninfo import (
    ConnInfo,
    ConnStringError,
    Environment,
    Verdict,
    evaluate,
    redact_text,
)
from verifyfull.errors import InsecureConfigurationError, VerifyfullError
from verifyfull.guard.proof import prove
from verifyfull.policy import Policy, TLSUse
from verifyfull.runtime.memo import Memo
from verifyfull.runtime.reading import (
    HOME_CASES,
    HomeCerts,
    Stamp,
    environment_for,
    environment_key,
    home_certs,
    process_environment,
    service_stamp,
)

# The transport rules a connection is refused for (rules.TRANSPORT_RULES); VF108 and
# the credential rules are not about this connection's transport.
TRANSPORT_RULES = rules.TRANSPORT_RULES
LIBPQ_ENGINES = frozenset({"psycopg", "psycopg2"})
HOME_CLIENT_CERT = "~/.postgresql/postgresql.crt"  # libpq's default, as the record names it


@dataclass(frozen=True)
class Before:
    """The pre-connect judgement of one call."""

    verdict: Verdict | None  # None: the settings could not be read
    rule_ids: tuple[str, ...]  # transport rules the policy refuses
    message: str
    fix: str
    local: bool = False  # Unix sockets only: plaintext is expected, nothing crosses a network


@dataclass(frozen=True, slots=True)
class Attempt:
    """One connect call between its pre-connect judgement and its outcome.

    Three fields (the judgement is shared by every connect a memo hit serves):
    each field of a frozen dataclass is one object.__setattr__ per connect.
    """

    driver: str
    judged: Judged
    location: str

    @property
    def target(self) -> str:
        return self.judged.target

    @property
    def before(self) -> Before:
        return self.judged.before


# How a wrapper reads a connect call's arguments, and their cache key: the
# arguments as plain values (reading.plain_key), or None (judged afresh).
Reader = Callable[[], ConnInfo]
Key = Hashable | None

# How a wrapper reads a live connection: (peer, protocol, cipher, server certificate
# DER, whether the driver loaded the client certificate file the connection names:
# None when the driver does not say, and the file is looked for).
LiveFacts = tuple[str | None, str | None, str | None, bytes | None, bool | None]
Facts = Callable[[Any], LiveFacts]


@dataclass(frozen=True)
class Live:
    """What the handshake produced, and what it broke."""

    tls_version: str | None
    cipher: str | None
    rule_ids: tuple[str, ...]
    message: str
    fix: str
    server_cert_not_after: dt.datetime | None


@dataclass(frozen=True, slots=True)
class Judged:
    """What one call's arguments mean in one environment, before any byte is sent."""

    before: Before
    target: str  # the hosts as dialled, redacted ("unknown": unreadable settings)
    database: str | None
    user: str | None
    # The client certificate: "in the SSLContext", a file to look for at each
    # connect (it may come and go), or None.
    cert: str | None
    cert_is_file: bool

    @property
    def decision(self) -> tuple[object, ...]:
        """What enforcement takes from it (not the verdict's description of the environment)."""
        verdict = self.before.verdict
        transport = (
            None
            if verdict is None
            else (verdict.tls, verdict.verifies_chain, verdict.verifies_hostname)
        )
        before = self.before
        return (
            before.rule_ids,
            before.message,
            before.fix,
            before.local,
            transport,
            self.target,
            self.database,
            self.user,
            self.cert,
            self.cert_is_file,
        )


# Judgements by (engine, the call's plain arguments, environment_key(), SSLContext
# or not, id(policy)). Each entry keeps the policy (compared by identity, so a
# Policy is never hashed on the connect path) and the file facts it was judged
# with, for the files its judgement depends on: the home certificates' presence
# unless the judgement is the same for all four cases, the service files'
# stamp when a service is named. A hit looks at those files only.
_Entry = tuple[Policy, Judged, HomeCerts | None, Stamp | None]
_JUDGED: Memo[Hashable, _Entry] = Memo(256)
_PROVEN: Memo[Hashable, tuple[Policy, Live]] = Memo(64)


def judge_call(
    engine: str,
    read: Callable[[], ConnInfo],
    key: Hashable | None,
    policy: Policy,
    *,
    ssl_context: bool = False,
) -> Judged:
    """The pre-connect judgement of a connect call (read: its arguments as conninfo reads them).

    key: the call's arguments as plain values (reading.plain_key), or None
    when one is not (then nothing is cached). A pure function of the key, the
    environment, the files it depends on and the policy, so it is memoised on
    them; the client certificate file is looked for again at each call.
    """
    env_key = environment_key()
    if key is None or env_key is None:
        return _judge_call(engine, read, process_environment(), policy, ssl_context)[0]
    memo_key = (engine, key, env_key, ssl_context, id(policy))
    hit = _JUDGED.get(memo_key)
    if (
        hit is not None
        and hit[0] is policy
        and (hit[2] is None or hit[2] == home_certs(env_key))
        and (hit[3] is None or hit[3] == service_stamp(env_key))
    ):
        return hit[1]
    home, stamp = home_certs(env_key), service_stamp(env_key)
    judged, named_service = _judge_call(
        engine, read, environment_for(env_key, home, stamp), policy, ssl_context
    )
    # Judged in all four cases of the home files: the same decision in each and
    # the files need not be looked at again (a DSN naming sslrootcert and sslcert).
    home_matters = any(
        _judge_call(engine, read, environment_for(env_key, other, stamp), policy, ssl_context)[
            0
        ].decision
        != judged.decision
        for other in HOME_CASES
        if other != home
    )
    entry = (policy, judged, home if home_matters else None, stamp if named_service else None)
    return _JUDGED.put(memo_key, entry)[1]


def _judge_call(
    engine: str, read: Callable[[], ConnInfo], env: Environment, policy: Policy, ssl_context: bool
) -> tuple[Judged, bool]:
    """The judgement, and whether a service file can change it (a service is named)."""
    try:
        info = read()
    except (ConnStringError, VerifyfullError, ValueError, TypeError) as exc:
        return Judged(unreadable(exc), "unknown", None, None, None, cert_is_file=False), True
    before = judge_before(info, engine, env, policy)
    named_service = (
        info.has_param("service")
        or info.kwarg("service") not in (None, "None")
        or env.get("PGSERVICE") is not None
    )
    target = ",".join(h.render() for h in info.hosts) or "the default host"
    cert: str | None
    if ssl_context:
        cert, cert_is_file = "in the SSLContext", False
    elif engine in LIBPQ_ENGINES and _certs_disabled(info, env):
        cert, cert_is_file = None, False  # libpq sends none, named or in HOME
    elif named := info.param("sslcert") or env.get("PGSSLCERT"):
        cert, cert_is_file = named, True
    else:
        cert = HOME_CLIENT_CERT if env.home_client_cert else None
        cert_is_file = False
    judged = Judged(before, target, info.database, info.user, cert, cert_is_file)
    return judged, named_service


def client_cert(judged: Judged, loaded: bool | None) -> str | None:
    """The client certificate the connection presented, once it is made.

    loaded: the driver's own answer (libpq: its SSL session holds a
    certificate, whether the file was named or is the HOME default; asyncpg:
    connected at all, since it fails a connect whose named file is missing),
    or None when the driver does not say (psycopg2): then a named file is
    looked for now, and the HOME default is as judged before the connect.
    """
    cert = judged.cert
    if cert is None or loaded is True:
        return cert
    if loaded is False:  # e.g. libpq skipped a missing named file, or sslcertmode=disable
        return None
    return cert if not judged.cert_is_file or os.path.isfile(cert) else None


def _certs_disabled(info: ConnInfo, env: Environment) -> bool:
    """sslcertmode=disable (libpq 16+; an older libpq refuses the option): no client
    certificate is sent, not even a named one or the HOME default."""
    mode = info.param("sslcertmode") or env.get("PGSSLCERTMODE")
    return mode == "disable"


def judge_before(info: ConnInfo, driver: str, env: Environment, policy: Policy) -> Before:
    verdict = _evaluate(info, driver, env, policy)
    blocking = [
        f for f in verdict.findings if f.rule_id in TRANSPORT_RULES and policy.refuses(f.rule_id)
    ]
    local = info.only_unix_sockets
    if not blocking:
        message = "local Unix socket" if local else "verify-full"
        return Before(verdict, (), message, "", local=local)
    first = blocking[0]
    return Before(
        verdict,
        tuple(dict.fromkeys(f.rule_id for f in blocking)),
        first.message,
        first.fix or rules.get(first.rule_id).fix,
        local=local,
    )


def unreadable(error: Exception) -> Before:
    """Settings conninfo cannot read: not judged, so not verified (fail closed)."""
    return Before(
        None,
        ("VF105",),
        f"the connection settings could not be judged ({redact_text(str(error))})",
        "write the connection as a libpq URL or keyword string verifyfull explain can read",
    )


@lru_cache(maxsize=256)  # pools repeat the same arguments; every part is frozen and hashable
def _evaluate(info: ConnInfo, driver: str, env: Environment, policy: Policy) -> Verdict:
    return evaluate(info, driver, env, policy)


def judge_live(
    host: str,
    protocol: str | None,
    cipher: str | None,
    server_cert_der: bytes | None,
    before: Before,
    policy: Policy,
) -> Live:
    """The guard's proof of the handshake; no TLS where TLS was possible is VF201."""
    if not protocol:
        planned_off = before.verdict is not None and before.verdict.tls is TLSUse.NEVER
        if before.local:
            return Live(None, None, (), before.message, "", None)
        rule = () if planned_off else ("VF201",)
        return Live(
            None,
            None,
            rule,
            f"the connection to {host} is plaintext: the server (or something in between) "
            "refused TLS",
            "the server must require TLS; the client must use sslmode=verify-full",
            None,
        )
    # Without pins the proof is a pure function of what the handshake produced:
    # the same node's same certificate, protocol and cipher are judged once.
    memo_key = (host, protocol, cipher, server_cert_der, id(policy))
    hit = _PROVEN.get(memo_key)
    if hit is not None and hit[0] is policy:
        return hit[1]
    return _PROVEN.put(memo_key, (policy, _prove(host, protocol, cipher, server_cert_der, policy)))[
        1
    ]


def _prove(
    host: str, protocol: str, cipher: str | None, server_cert_der: bytes | None, policy: Policy
) -> Live:
    try:
        proof = prove(host, protocol, cipher, server_cert_der, policy)
    except InsecureConfigurationError as exc:
        return Live(protocol, cipher, (exc.rule_id,), exc.problem, exc.fix or "", None)
    return Live(protocol, cipher, (), "verify-full", "", proof.server_cert_not_after)
