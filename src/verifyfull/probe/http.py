"""Probe an HTTPS API (and its plain-HTTP side): VF207, VF208 and the TLS checks.

The TLS questions are the same as for a database (tlschecks, opener:
nothing before the ClientHello). Requests carry no credential and no
cookie; bodies are never read; every step has the probe's timeout.
"""

from __future__ import annotations

import http.client
import socket
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from verifyfull.policy import DEFAULT_POLICY, Policy
from verifyfull.probe import tls, tlschecks
from verifyfull.probe.net import DEFAULT_TIMEOUT, describe_exception
from verifyfull.probe.results import Collector, EndpointResult

USER_AGENT = "verifyfull-probe"


@dataclass(frozen=True)
class HttpOptions:
    ca: Path | None = None
    policy: Policy = DEFAULT_POLICY
    timeout: float = DEFAULT_TIMEOUT


@dataclass(frozen=True)
class HttpAnswer:
    status: int | None  # None: no HTTP answer (refused, closed, not HTTP)
    location: str = ""
    hsts: str | None = None
    reason: str = ""


def fetch(
    host: str, port: int, path: str, *, secure: bool, timeout: float, server_name: str
) -> HttpAnswer:
    """One GET, headers only, no redirect followed."""
    conn: http.client.HTTPConnection
    if secure:
        ctx = tls.client_context()  # the certificate is judged by the TLS checks, not here
        conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=ctx)
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(
            "GET",
            path,
            headers={"Host": _host_header(server_name, port, secure), "User-Agent": USER_AGENT},
        )
        response = conn.getresponse()
        return HttpAnswer(
            status=response.status,
            location=response.getheader("Location", "") or "",
            hsts=response.getheader("Strict-Transport-Security"),
        )
    except (OSError, http.client.HTTPException) as exc:
        if isinstance(exc, TimeoutError | socket.timeout):
            return HttpAnswer(None, reason=f"no HTTP answer within {timeout:g} s")
        return HttpAnswer(None, reason=describe_exception(exc) or type(exc).__name__)
    finally:
        conn.close()


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
    host: str, port: int, path: str, options: HttpOptions, *, server_name: str, label: str
) -> EndpointResult:
    started = time.monotonic()
    out = Collector(label)
    endpoint = tls.Endpoint(host, port, server_name, tls.direct, options.timeout)
    plain_port = 80 if port == 443 else port
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = tlschecks.submit(pool, endpoint, options.ca)
        secure = pool.submit(
            fetch, host, port, path, secure=True, timeout=options.timeout, server_name=server_name
        )
        plain = pool.submit(
            fetch,
            host,
            plain_port,
            path,
            secure=False,
            timeout=options.timeout,
            server_name=server_name,
        )
        handshake = tlschecks.report(
            out, futures, policy=options.policy, ca=options.ca, hosts=(server_name,)
        )
        if handshake is not None:
            _report_hsts(out, secure.result(), options.policy)
        _report_plain(out, plain, host=server_name, port=plain_port, tls_port=port)
    return out.result("https", time.monotonic() - started)


def probe_http(
    host: str, port: int, path: str, options: HttpOptions, *, server_name: str, label: str
) -> EndpointResult:
    started = time.monotonic()
    out = Collector(label)
    with ThreadPoolExecutor(max_workers=1) as pool:
        plain = pool.submit(
            fetch, host, port, path, secure=False, timeout=options.timeout, server_name=server_name
        )
        _report_plain(out, plain, host=server_name, port=port)
    return out.result("http", time.monotonic() - started)


def _report_hsts(out: Collector, answer: HttpAnswer, policy: Policy) -> None:
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
) -> None:
    answer = future.result()
    where = f"http://{_host_header(host, port, False)}"
    if answer.status is None:
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
