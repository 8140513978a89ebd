"""Probe an HTTPS API (and its plain-HTTP side): VF207, VF208 and the TLS checks.

The TLS questions are the same as for a database (tlschecks, opener:
nothing before the ClientHello). What the user gave is sent only where they
asked for it to go: the URL's path and query travel only inside a TLS
connection whose certificate verified for the host (else the request is a
bare `GET /`), and the plain-HTTP question is always a bare `GET /`.
Requests carry no credential (a URL's userinfo is dropped when it is read),
no cookie and no header but Host and User-Agent; bodies are never read;
every step shares the target's one deadline.
"""

from __future__ import annotations

import ssl
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from verifyfull.policy import DEFAULT_POLICY, Policy
from verifyfull.probe import tls, tlschecks
from verifyfull.probe.limits import DEFAULT_TIMEOUT
from verifyfull.probe.results import Collector, EndpointResult, cut_short
from verifyfull.wire import http
from verifyfull.wire.net import (
    Deadline,
    Unreachable,
    WireError,
    WireTimeout,
    connect,
    describe_exception,
    start_tls,
)

USER_AGENT = "verifyfull-probe"
BARE_PATH = "/"


@dataclass(frozen=True)
class HttpOptions:
    ca: Path | None = None
    policy: Policy = DEFAULT_POLICY
    timeout: float = DEFAULT_TIMEOUT


@dataclass(frozen=True)
class HttpAnswer:
    status: int | None  # None: no HTTP answer (refused, closed, not HTTP, out of time)
    location: str = ""
    hsts: str | None = None
    reason: str = ""
    timed_out: bool = False
    handshake_failed: bool = False  # TLS did not complete: nothing was sent
    unreachable: bool = False  # no TCP connection at all
    withheld: str = ""  # why the URL's path was not sent (its certificate did not verify)


def fetch(
    host: str,
    port: int,
    path: str,
    *,
    context: ssl.SSLContext | None,
    deadline: Deadline,
    server_name: str,
) -> HttpAnswer:
    """One GET, headers only, no redirect followed; TLS with `context` unless it is None."""
    host_header = _host_header(server_name, port, context is not None)
    try:
        with connect(host, port, deadline) as raw:
            if context is None:
                return _answer(http.get(raw, path, host_header, USER_AGENT, deadline))
            name = server_name if context.check_hostname else tls.sni_name(server_name)
            try:
                secure = start_tls(raw, context, name, deadline)
            except (ssl.SSLError, OSError) as exc:
                return HttpAnswer(None, reason=describe_exception(exc), handshake_failed=True)
            with secure:
                return _answer(http.get(secure, path, host_header, USER_AGENT, deadline))
    except WireTimeout as exc:
        return HttpAnswer(None, reason=str(exc), timed_out=True)
    except Unreachable as exc:
        return HttpAnswer(None, reason=str(exc), unreachable=True)
    except WireError as exc:
        return HttpAnswer(None, reason=str(exc))


def _answer(response: http.Response) -> HttpAnswer:
    return HttpAnswer(
        status=response.status,
        location=response.header("location") or "",
        hsts=response.header("strict-transport-security"),
    )


def fetch_https(
    host: str, port: int, path: str, ca: Path | None, deadline: Deadline, server_name: str
) -> HttpAnswer:
    """GET the URL's path over TLS verified for the host; when that TLS fails, a bare
    GET / over TLS that does not verify (HSTS is judged either way)."""
    verified = fetch(
        host,
        port,
        path,
        context=tls.verifying_context(ca),
        deadline=deadline,
        server_name=server_name,
    )
    if not verified.handshake_failed:
        return verified
    answer = fetch(
        host,
        port,
        BARE_PATH,
        context=tls.client_context(),  # the certificate is judged by the TLS checks
        deadline=deadline,
        server_name=server_name,
    )
    return replace(answer, withheld=verified.reason)


def _host_header(name: str, port: int, secure: bool) -> str:
    default = 443 if secure else 80
    host = f"[{name}]" if ":" in name else name
    return host if port == default else f"{host}:{port}"


@dataclass(frozen=True)
class HstsVerdict:
    ok: bool
    detail: str


def judge_hsts(header: str | None, policy: Policy) -> HstsVerdict:
    if header is None:
        return HstsVerdict(False, "no Strict-Transport-Security header")
    max_age: int | None = None
    subdomains = False
    for raw in header.split(";"):
        name, _, value = raw.strip().partition("=")
        if name.strip().lower() == "max-age":
            try:
                max_age = int(value.strip().strip('"'))
            except ValueError:
                return HstsVerdict(False, f"max-age is not a number in {header!r}")
        elif name.strip().lower() == "includesubdomains":
            subdomains = True
    if max_age is None:
        return HstsVerdict(False, f"no max-age in {header!r}")
    if max_age < policy.hsts_min_age_seconds:
        days = policy.hsts_min_age_seconds // 86400
        return HstsVerdict(False, f"max-age={max_age} is under {days} days")
    if not subdomains:
        return HstsVerdict(False, "includeSubDomains is missing")
    return HstsVerdict(True, header)


def probe_https(
    host: str,
    port: int,
    options: HttpOptions,
    *,
    path: str,
    server_name: str,
    label: str,
    deadline: Deadline | None = None,
) -> EndpointResult:
    """TLS checks, HSTS on the URL, and the plain-HTTP side, all within one deadline."""
    started = time.monotonic()
    deadline = deadline or Deadline(options.timeout)
    out = Collector(label)
    endpoint = tls.Endpoint(host, port, server_name, tls.direct, deadline)
    plain_port = 80 if port == 443 else port
    # The plain-HTTP side is a side question whose silence is an answer (port 80
    # filtered): half the budget, so that silence is never taken for the target's.
    side = deadline.within(deadline.seconds / 2)
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = tlschecks.submit(pool, endpoint, options.ca)
        secure = pool.submit(fetch_https, host, port, path, options.ca, deadline, server_name)
        plain = pool.submit(
            fetch,
            host,
            plain_port,
            BARE_PATH,
            context=None,
            deadline=side,
            server_name=server_name,
        )
        tls_errors_from, tls_facts_from = len(out.errors), len(out.facts)
        handshake = tlschecks.report(
            out, futures, policy=options.policy, ca=options.ca, hosts=(server_name,)
        )
        if handshake is not None:
            _report_hsts(out, secure.result(), options.policy)
        elif plain_port == port and plain.result().status is not None:
            # No TLS here, and a plain GET / on the same port was answered: the
            # port speaks plain HTTP. One line, not the handshake's alert names.
            del out.errors[tls_errors_from:], out.facts[tls_facts_from:]
            out.fact("negotiated", "none (plain HTTP)")
            out.errors.append(
                f"https://{_host_header(server_name, port, True)}/ speaks plain HTTP, not "
                f"TLS (GET / answered with HTTP {plain.result().status}): probe "
                f"http://{_host_header(server_name, port, False)}/ to check it as such"
            )
        _report_plain(out, plain, host=server_name, port=plain_port, tls_port=port)
    kind = "https"
    if secure.result().unreachable and handshake is None and not out.findings:
        # Nothing answered: one line, not one per TLS check that could not start.
        kind = "unreachable"
        out.errors[:] = [secure.result().reason]
        out.facts[:] = []
    return cut_short(out.result(kind, time.monotonic() - started), deadline)


def probe_http(
    host: str,
    port: int,
    options: HttpOptions,
    *,
    server_name: str,
    label: str,
    deadline: Deadline | None = None,
) -> EndpointResult:
    """The plain-HTTP question alone (a bare GET /: the URL's path is never sent in clear)."""
    started = time.monotonic()
    deadline = deadline or Deadline(options.timeout)
    out = Collector(label)
    with ThreadPoolExecutor(max_workers=1) as pool:
        plain = pool.submit(
            fetch,
            host,
            port,
            BARE_PATH,
            context=None,
            deadline=deadline,
            server_name=server_name,
        )
        _report_plain(out, plain, host=server_name, port=port, main=True)
    return cut_short(out.result("http", time.monotonic() - started), deadline)


def _report_hsts(out: Collector, answer: HttpAnswer, policy: Policy) -> None:
    if answer.withheld:
        out.fact(
            "HTTPS request",
            f"GET / only: the URL's path and query are sent only over TLS verified for the "
            f"host ({answer.withheld})",
        )
    if answer.status is None:
        out.errors.append(f"HTTPS request failed: {answer.reason}")
        return
    out.fact("HTTPS status", str(answer.status))
    verdict = judge_hsts(answer.hsts, policy)
    out.fact("HSTS", verdict.detail)
    if not verdict.ok:
        out.find(
            "VF208",
            f"the HTTPS response has no adequate Strict-Transport-Security: {verdict.detail}",
            evidence=f"Strict-Transport-Security: {answer.hsts}" if answer.hsts else "",
        )


def _report_plain(
    out: Collector,
    future: Future[HttpAnswer],
    *,
    host: str,
    port: int,
    tls_port: int | None = None,
    main: bool = False,
) -> None:
    """`main`: the plain-HTTP question is the target itself (an http:// URL), so running
    out of time is the target's timeout, not an answer."""
    answer = future.result()
    where = f"http://{_host_header(host, port, False)}/"
    if answer.status is None:
        if answer.timed_out and main:
            out.errors.append(f"plain HTTP: {answer.reason}")
        elif answer.timed_out:
            out.fact("plain HTTP", f"no answer ({answer.reason})")
        else:
            out.fact("plain HTTP", f"refused ({answer.reason})")
        return
    if port == tls_port and answer.status == 400:
        # nginx and others answer plain HTTP on their TLS port with 400: a refusal.
        out.fact("plain HTTP", "refused (400 on the TLS port)")
        return
    if 300 <= answer.status < 400:
        target = urlsplit(answer.location)
        if target.scheme == "https" and (target.hostname or "").lower() == host.lower():
            out.fact("plain HTTP", f"redirects to {answer.location}")
            return
        out.fact("plain HTTP", f"{answer.status} redirect to {answer.location or '(none)'}")
        out.find(
            "VF207",
            f"{where} redirects, but not to HTTPS on the same host "
            f"({answer.location or 'no Location'})",
            evidence=f"HTTP {answer.status} Location: {answer.location}",
        )
        return
    out.fact("plain HTTP", f"served ({answer.status})")
    out.find(
        "VF207",
        f"{where} answers over plain HTTP (status {answer.status}) instead of redirecting to HTTPS",
        evidence=f"GET {where} -> HTTP {answer.status}",
    )
