"""Probe one PostgreSQL-wire endpoint (PostgreSQL or CockroachDB): the checks of issue 5.

Order: one SSLRequest decides the rest ('N': no TLS at all; 'S': every TLS
question is then asked on its own connection, concurrently). No credential is
ever sent: StartupMessages carry a user and database name only, and the probe
closes at the first authentication request.
"""

from __future__ import annotations

import socket
import ssl
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from verifyfull.certs.inspect import load_cert_infos
from verifyfull.errors import VerifyfullError
from verifyfull.policy import DEFAULT_POLICY, Policy
from verifyfull.probe import identify, tls, tlschecks
from verifyfull.probe.limits import DEFAULT_TIMEOUT
from verifyfull.probe.results import Collector, EndpointResult, Fact, cut_short
from verifyfull.wire import pg
from verifyfull.wire.net import (
    Deadline,
    Unreachable,
    WireError,
    WireTimeout,
    connect,
    describe_exception,
    recv_available,
    recv_exact,
    send_all,
    start_tls,
)

CLIENT_CERT_REQUIRED_TEXT = "requires a valid client certificate"
BUFFERED_DATA_REFUSAL_TEXT = "unencrypted data after ssl request"


@dataclass(frozen=True)
class Login:
    """A user and database named in a StartupMessage (never a password)."""

    user: str
    database: str


DEFAULT_LOGINS = (Login("root", "defaultdb"), Login("postgres", "postgres"))


@dataclass(frozen=True)
class PgOptions:
    logins: tuple[Login, ...] = DEFAULT_LOGINS
    ca: Path | None = None
    client_cert: tuple[Path, Path] | None = None
    policy: Policy = DEFAULT_POLICY
    timeout: float = DEFAULT_TIMEOUT
    # How long to watch for bytes after a lone 'S' (CVE-2021-23222 class) and for
    # a reply to bytes buffered with the SSLRequest (CVE-2021-23214 class).
    settle: float = 0.1


@dataclass(frozen=True)
class StartupOutcome:
    """How a server answered a StartupMessage (no credential given)."""

    verdict: str  # authenticates, lets-in, refused-host-rules, refused-crdb-secure,
    #               refused-client-cert, refused, no-answer
    detail: str
    kind_vote: str | None = None
    auth_code: int | None = None

    @property
    def would_authenticate(self) -> bool:
        return self.verdict in ("authenticates", "lets-in")


def classify_startup(messages: list[pg.BackendMessage]) -> StartupOutcome:
    """Read the first answer to a StartupMessage (plus parameters when let in)."""
    if not messages:
        return StartupOutcome("no-answer", "no reply")
    first = messages[0]
    if first.kind == pg.AUTHENTICATION and first.auth_code is not None:
        code = first.auth_code
        params = [_parameter(m) for m in messages[1:] if m.kind == pg.PARAMETER_STATUS]
        vote = identify.kind_from_parameters(p for p in params if p)
        if code == 0:
            return StartupOutcome("lets-in", "logged in without any credential", vote, code)
        method = pg.AUTH_REQUEST_NAMES.get(code, f"authentication method {code}")
        return StartupOutcome("authenticates", f"asks for {method}", vote, code)
    error = first.error()
    if first.kind == pg.ERROR_RESPONSE and error is not None:
        vote = identify.kind_from_error(error)
        if identify.is_crdb_secure_refusal(error):
            return StartupOutcome("refused-crdb-secure", error.one_line(), vote)
        if identify.is_host_rule_refusal(error):
            return StartupOutcome("refused-host-rules", error.one_line(), vote)
        if error.sqlstate == "28000" and CLIENT_CERT_REQUIRED_TEXT in error.message.lower():
            return StartupOutcome("refused-client-cert", error.one_line(), vote)
        return StartupOutcome("refused", error.one_line(), vote)
    return StartupOutcome("refused", f"unexpected {first.kind.decode()!r} message")


def _parameter(message: pg.BackendMessage) -> tuple[str, str] | None:
    parts = message.payload.split(b"\x00")
    if len(parts) < 2:
        return None
    return parts[0].decode("utf-8", "replace"), parts[1].decode("utf-8", "replace")


def read_startup_reply(sock: socket.socket, deadline: Deadline) -> list[pg.BackendMessage]:
    """The first message; when it is AuthenticationOk, the rest up to ReadyForQuery."""
    first = pg.read_message(sock, deadline, "reply to the StartupMessage")
    messages = [first]
    if first.auth_code == 0:
        for _ in range(64):
            message = pg.read_message(sock, deadline, "session parameters")
            messages.append(message)
            if message.kind in (pg.READY_FOR_QUERY, pg.ERROR_RESPONSE):
                break
    return messages


@dataclass
class _Probe(Collector):
    host: str = ""
    port: int = 0
    server_name: str = ""
    options: PgOptions = field(default_factory=PgOptions)
    deadline: Deadline = field(default_factory=lambda: Deadline(DEFAULT_TIMEOUT))
    kind_votes: list[str | None] = field(default_factory=list)

    def endpoint(self, opener: tls.Opener | None = None) -> tls.Endpoint:
        return tls.Endpoint(
            self.host,
            self.port,
            self.server_name,
            opener or self.ssl_request_opener,
            self.deadline,
        )

    def ssl_request_opener(self, sock: socket.socket, deadline: Deadline) -> None:
        reply = pg.request_tls(sock, deadline)
        if reply != b"S":
            raise WireError(f"the server answered {reply!r} to the SSLRequest this time")


def probe_postgres(
    host: str,
    port: int,
    options: PgOptions,
    *,
    server_name: str | None = None,
    label: str = "",
    deadline: Deadline | None = None,
) -> EndpointResult:
    """Every PostgreSQL-wire check against one host:port, all within one deadline
    (`deadline`, else options.timeout from now)."""
    started = time.monotonic()
    deadline = deadline or Deadline(options.timeout)
    probe = _Probe(
        label or f"{host}:{port}",
        host=host,
        port=port,
        server_name=server_name or host,
        options=options,
        deadline=deadline,
    )
    kind: str | None = None
    try:
        _run(probe)
    except Unreachable as exc:
        probe.errors.append(str(exc))
        kind = identify.UNREACHABLE
    except WireError as exc:
        probe.errors.append(str(exc))
    kind = kind or identify.decide(probe.kind_votes)
    _add_crdb_hints(probe, kind)
    return cut_short(probe.result(kind, time.monotonic() - started), deadline)


def _run(probe: _Probe) -> None:
    deadline = probe.deadline
    with connect(probe.host, probe.port, deadline) as sock:
        reply = _ssl_request(probe, sock, deadline)
        if reply == b"N":
            _no_tls(probe)
            return
        # Watch the first connection for bytes after 'S' while the TLS checks run:
        # a real server sends nothing until the ClientHello.
        with ThreadPoolExecutor(max_workers=1) as watcher:
            extra_bytes = watcher.submit(recv_available, sock, probe.options.settle, 4096, deadline)
            before = (len(probe.facts), len(probe.findings), len(probe.errors))
            _tls_checks(probe)
            extra = extra_bytes.result()
    if extra:
        # What the TLS checks saw of such a server is not worth reporting.
        del probe.facts[before[0] :], probe.findings[before[1] :], probe.errors[before[2] :]
        probe.fact("SSLRequest", f"S + {len(extra)} extra bytes")
        raise WireError(
            f"the server sent {len(extra)} bytes after 'S' before the TLS handshake "
            f"({pg.describe_bytes(extra)}): not a PostgreSQL server, or a tampering proxy "
            "(CVE-2021-23222 class); TLS checks skipped"
        )
    probe.facts.insert(0, Fact("SSLRequest", "S (TLS offered)"))


def _no_tls(probe: _Probe) -> None:
    probe.fact("SSLRequest", "N (no TLS)")
    probe.find(
        "VF201",
        "the server answered 'N' to the SSLRequest: it does not offer TLS at all",
        evidence="SSLRequest -> 'N'",
    )
    with ThreadPoolExecutor(max_workers=4) as pool:
        plain = [pool.submit(_plaintext, probe, login) for login in probe.options.logins]
        gss = pool.submit(_gssenc, probe)
        _report_plaintext(probe, plain, tls_offered=False)
        _report_gssenc(probe, gss)


def _ssl_request(probe: _Probe, sock: socket.socket, deadline: Deadline) -> bytes:
    """'S' or 'N'; anything else is a WireError naming the bytes (and, for an HTTP
    service, the http:// target that probes it as one)."""
    as_http = f"http://{probe.host if ':' not in probe.host else f'[{probe.host}]'}:{probe.port}/"
    try:
        reply = pg.request_tls(sock, deadline)
    except WireTimeout:
        # A PostgreSQL-wire server answers the 8-byte SSLRequest at once; an HTTP
        # server waits for the end of a request line that never comes. (A line of
        # its own: the timeout itself is folded into one "timed out" line.)
        probe.errors.append(
            "silent after the SSLRequest: a PostgreSQL-wire server answers at once; an HTTP "
            f"service waits like this (if it is one, probe {as_http} instead)"
        )
        raise
    if reply in (b"S", b"N"):
        return reply
    rest = recv_available(sock, probe.options.settle, deadline=deadline)
    if (reply + rest).startswith(b"HTTP/"):
        probe.kind_votes.insert(0, "http")
        raise WireError(
            f"not a PostgreSQL-wire server: it speaks HTTP (it answered the SSLRequest "
            f"with {pg.describe_bytes(reply + rest, 24)}): probe {as_http} (or https://) "
            "instead"
        )
    if reply == b"E":  # servers before protocol 3 or proxies: an error, not a TLS answer
        raise WireError(
            "the server answered the SSLRequest with an error "
            f"({pg.describe_bytes(reply + rest, 48)})"
        )
    raise WireError(
        f"not a PostgreSQL-wire server: it answered the SSLRequest with "
        f"{pg.describe_bytes(reply + rest)} instead of 'S' or 'N'"
    )


def _tls_checks(probe: _Probe) -> None:
    options = probe.options
    endpoint = probe.endpoint()
    with ThreadPoolExecutor(max_workers=8) as pool:
        plain = [pool.submit(_plaintext, probe, login) for login in options.logins]
        futures = tlschecks.submit(pool, endpoint, options.ca)
        no_cert = [pool.submit(_tls_startup, endpoint, login) for login in options.logins]
        with_cert = None
        if options.client_cert:
            cert_login = _login_for_cert(options.client_cert[0], options.logins)
            with_cert = pool.submit(_tls_startup, endpoint, cert_login, options.client_cert)
        cve = pool.submit(_buffered_startup, probe)
        gss = pool.submit(_gssenc, probe)
        direct = pool.submit(tls.inspect, probe.endpoint(tls.direct), alpn=("postgresql",))

        _report_plaintext(probe, plain, tls_offered=True)
        if tlschecks.report(
            probe, futures, policy=options.policy, ca=options.ca, hosts=(probe.server_name,)
        ):
            _report_client_cert(probe, no_cert)
        if with_cert is not None:
            _report_with_cert(probe, with_cert.result())
        _report_cve(probe, cve)
        _report_gssenc(probe, gss)
        accepted = direct.result().accepted
        probe.fact(
            "direct TLS (PG17)",
            {True: "supported", False: "not supported", None: "not decided"}[accepted],
        )


@dataclass(frozen=True)
class TLSStartup:
    login: Login
    handshake: tls.Handshake
    outcome: StartupOutcome | None  # None when the handshake or the exchange failed


def _tls_startup(
    endpoint: tls.Endpoint, login: Login, client_cert: tuple[Path, Path] | None = None
) -> TLSStartup:
    replies: list[list[pg.BackendMessage]] = []

    def then(sock: ssl.SSLSocket, deadline: Deadline) -> None:
        send_all(sock, _startup(login), deadline, "StartupMessage over TLS")
        replies.append(read_startup_reply(sock, deadline))

    handshake = tls.inspect(endpoint, then, client_cert=client_cert)
    outcome = classify_startup(replies[0]) if replies else None
    return TLSStartup(login, handshake, outcome)


def _login_for_cert(cert: Path, logins: tuple[Login, ...]) -> Login:
    """The login whose user the certificate names (its CN), else the first one."""
    try:
        infos = load_cert_infos(cert)
    except VerifyfullError:
        return logins[0]
    user = infos[0].subject_cn if infos else None
    match = next((login for login in logins if login.user == user), None)
    if match:
        return match
    return Login(user, logins[0].database) if user else logins[0]


def _startup(login: Login) -> bytes:
    return pg.startup_message(login.user, login.database)


def _plaintext(probe: _Probe, login: Login) -> StartupOutcome | WireError:
    deadline = probe.deadline
    try:
        with connect(probe.host, probe.port, deadline) as sock:
            send_all(sock, _startup(login), deadline, "plaintext StartupMessage")
            return classify_startup(read_startup_reply(sock, deadline))
    except WireError as exc:
        return exc


def _report_plaintext(
    probe: _Probe, futures: list[Future[StartupOutcome | WireError]], *, tls_offered: bool
) -> None:
    accepted: list[str] = []
    for login, future in zip(probe.options.logins, futures, strict=True):
        outcome = future.result()
        name = f"plaintext {login.user}@{login.database}"
        if isinstance(outcome, WireError):
            probe.errors.append(f"plaintext startup for {login.user}: {outcome}")
            continue
        probe.kind_votes.append(outcome.kind_vote)
        probe.fact(name, f"{outcome.verdict}: {outcome.detail}")
        if outcome.would_authenticate:
            accepted.append(f"{login.user}@{login.database} ({outcome.detail})")
    if accepted and tls_offered:
        probe.find(
            "VF202",
            "the server accepts SQL sessions without TLS: a StartupMessage in plaintext "
            "was answered with an authentication request",
            evidence="; ".join(accepted),
        )


def _report_client_cert(probe: _Probe, futures: list[Future[TLSStartup]]) -> None:
    let_through: list[str] = []
    for future in futures:
        result = future.result()
        name = f"TLS without client cert ({result.login.user})"
        if result.outcome is None:
            why = result.handshake.after_error or result.handshake.reason
            probe.errors.append(f"{name}: {why}")
            continue
        probe.kind_votes.append(result.outcome.kind_vote)
        probe.fact(name, f"{result.outcome.verdict}: {result.outcome.detail}")
        if result.outcome.would_authenticate:
            let_through.append(f"{result.login.user} ({result.outcome.detail})")
    if let_through and probe.options.policy.require_client_cert:
        probe.find(
            "VF205",
            "users can proceed without a client certificate although the policy "
            "requires mTLS: " + "; ".join(let_through),
            evidence="TLS handshake without a certificate, then a StartupMessage",
        )


def _report_with_cert(probe: _Probe, result: TLSStartup) -> None:
    name = f"TLS with client cert ({result.login.user})"
    if not result.handshake.accepted:
        probe.fact(name, f"handshake refused: {result.handshake.reason}")
        return
    if result.outcome is None:
        probe.errors.append(f"{name}: {result.handshake.after_error}")
        return
    outcome = result.outcome
    text = {
        "lets-in": "certificate accepted: logged in",
        "authenticates": f"certificate not sufficient: {outcome.detail}",
    }.get(outcome.verdict, f"refused: {outcome.detail}")
    probe.fact(name, text)


def _buffered_startup(probe: _Probe) -> str | WireError:
    """CVE-2021-23214 class: SSLRequest and a StartupMessage in one write.

    A fixed PostgreSQL completes the handshake and then refuses over TLS with
    08P01 "received unencrypted data after SSL request"; a vulnerable one
    answers the buffered StartupMessage as if it had come over TLS.
    """
    options = probe.options
    deadline = probe.deadline
    payload = pg.SSL_REQUEST + _startup(options.logins[0])
    try:
        with connect(probe.host, probe.port, deadline) as sock:
            send_all(sock, payload, deadline, "SSLRequest with buffered StartupMessage")
            reply = recv_exact(sock, 1, deadline, "reply to the SSLRequest")
            if reply != b"S":
                return f"answered {reply!r}"
            ctx = tls.client_context()
            try:
                wrapped = start_tls(sock, ctx, None, deadline)
            except (ssl.SSLError, OSError) as exc:
                return f"handshake refused after buffered bytes ({describe_exception(exc)})"
            with wrapped:
                # Silence is the expected answer here, so the wait is a step of its own;
                # it is cut short (and reported so) only when the target's deadline is.
                settle = deadline.within(max(options.settle, 0.5))
                try:
                    message = pg.read_message(wrapped, settle, "reply over TLS")
                except WireError as exc:
                    if deadline.expired():
                        return exc
                    return "not processed (no reply to the buffered bytes)"
                error = message.error()
                if error is not None and BUFFERED_DATA_REFUSAL_TEXT in error.message.lower():
                    return "refused (" + error.one_line() + ")"
                return "PROCESSED: " + classify_startup([message]).detail
    except WireError as exc:
        return exc


def _report_cve(probe: _Probe, future: Future[str | WireError]) -> None:
    result = future.result()
    if isinstance(result, WireError):
        probe.errors.append(f"buffered-data check: {result}")
        return
    probe.fact("data buffered with SSLRequest", result)
    if result.startswith("PROCESSED"):
        probe.find(
            "VF206",
            "the server processed a StartupMessage sent in plaintext together with the "
            "SSLRequest as if it had come over TLS (CVE-2021-23214 class)",
            evidence=result,
        )


def _gssenc(probe: _Probe) -> bytes | WireError:
    deadline = probe.deadline
    try:
        with connect(probe.host, probe.port, deadline) as sock:
            send_all(sock, pg.GSSENC_REQUEST, deadline, "GSSENCRequest")
            reply = recv_exact(sock, 1, deadline, "reply to the GSSENCRequest")
            if reply == b"E":
                reply += recv_available(sock, probe.options.settle, deadline=deadline)
            return reply
    except WireError as exc:
        return exc


def _report_gssenc(probe: _Probe, future: Future[bytes | WireError]) -> None:
    reply = future.result()
    if isinstance(reply, WireError):
        probe.fact("GSSENCRequest", f"no answer ({reply})")
        return
    probe.kind_votes.append(identify.kind_from_gssenc_reply(reply))
    text = {b"G": "G (GSSAPI encryption offered)", b"N": "N (declined)"}.get(
        reply, f"error ({pg.describe_bytes(reply)})"
    )
    probe.fact("GSSENCRequest", text)


def _add_crdb_hints(probe: _Probe, kind: str) -> None:
    """CockroachDB settings the answers reveal, named in the findings' fixes."""
    if kind != identify.COCKROACHDB:
        return
    hints = {
        "VF201": "the node runs with --insecure: restart it with --certs-dir",
        "VF202": "the node runs with --accept-sql-without-tls: remove the flag",
        "VF204": "COCKROACH_TLS_ENABLE_OLD_CIPHER_SUITES is set on the node: unset it",
    }
    probe.findings[:] = [replace(f, fix=hints.get(f.rule_id, f.fix)) for f in probe.findings]
