"""Probe many targets at once: every host of every target concurrently, one Report.

Each endpoint gets one deadline (--timeout from the moment its probe starts)
that every check and --deep share, so the whole run takes at most about the
timeout (more only when over MAX_PARALLEL_ENDPOINTS endpoints queue). An
endpoint that cannot be checked becomes an error line for its target, never
a traceback; one that runs out of time becomes one "timed out" line.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

from verifyfull.errors import UsageError
from verifyfull.policy import DEFAULT_POLICY, Policy
from verifyfull.probe import deep
from verifyfull.probe.http import HttpOptions, probe_http, probe_https
from verifyfull.probe.limits import DEFAULT_TIMEOUT
from verifyfull.probe.postgres import DEFAULT_LOGINS, Login, PgOptions, probe_postgres
from verifyfull.probe.results import Collector, EndpointResult, cut_short
from verifyfull.probe.targets import Endpoint, Target
from verifyfull.report import Report, ReportError
from verifyfull.wire.net import Deadline

MAX_PARALLEL_ENDPOINTS = 16


@dataclass(frozen=True)
class ProbeSettings:
    ca: Path | None = None
    cert: Path | None = None
    key: Path | None = None
    users: tuple[str, ...] = ()
    database: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    policy: Policy = DEFAULT_POLICY
    sslyze: str | None = None  # --deep: the sslyze program (deep.find_sslyze)


@dataclass(frozen=True)
class ProbeRun:
    report: Report
    endpoints: tuple[EndpointResult, ...] = field(default=())


def logins_for(target: Target, settings: ProbeSettings) -> tuple[Login, ...]:
    """--user (repeatable) and --database, else the DSN's, else root/defaultdb and postgres."""
    users = settings.users or ((target.user,) if target.user else ())
    if not users:
        if settings.database:
            return tuple(Login(login.user, settings.database) for login in DEFAULT_LOGINS)
        return DEFAULT_LOGINS
    database = settings.database or target.database
    return tuple(
        Login(user, database or ("defaultdb" if user == "root" else user)) for user in users
    )


def _client_cert(target: Target, settings: ProbeSettings) -> tuple[Path, Path] | None:
    cert, key = settings.cert or target.cert, settings.key or target.key
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise UsageError("--cert and --key go together", "pass both, or neither")
    return cert, key


def probe_endpoint(target: Target, endpoint: Endpoint, settings: ProbeSettings) -> EndpointResult:
    deadline = Deadline(settings.timeout)
    result = _default_checks(target, endpoint, settings, deadline)
    tls_offered = target.protocol == "https" or result.fact("SSLRequest") == "S (TLS offered)"
    if settings.sslyze and tls_offered:
        return cut_short(add_deep(result, target, endpoint, settings, deadline), deadline)
    return result


def add_deep(
    result: EndpointResult,
    target: Target,
    endpoint: Endpoint,
    settings: ProbeSettings,
    deadline: Deadline,
) -> EndpointResult:
    """Merge sslyze's full enumeration (in what is left of the deadline): facts always,
    findings only where ours had none."""
    assert settings.sslyze is not None
    deep_result = deep.enumerate_suites(
        settings.sslyze,
        endpoint.host,
        endpoint.port,
        starttls_postgres=target.protocol == "pg",
        deadline=deadline,
    )
    if deep_result.error:
        return replace(result, errors=(*result.errors, f"--deep: {deep_result.error}"))
    out = Collector(result.target)
    for version, names in deep_result.suites.items():
        out.fact(f"sslyze {version}", f"{len(names)} suites: {', '.join(names)}")
    have = {f.rule_id for f in result.findings}
    legacy = [v for v in deep_result.suites if v.startswith("SSL") or v in ("TLSv1", "TLSv1.1")]
    if legacy and "VF203" not in have:
        out.find("VF203", f"sslyze: the server accepts {', '.join(legacy)}", evidence="--deep")
    weak = deep_result.weak()
    if weak and "VF204" not in have:
        listed = "; ".join(f"{name} ({why}, {version})" for version, name, why in weak)
        out.find("VF204", f"sslyze: the server accepts weak suites: {listed}", evidence="--deep")
    return replace(
        result,
        facts=(*result.facts, *out.facts),
        findings=(*result.findings, *out.findings),
    )


def _default_checks(
    target: Target, endpoint: Endpoint, settings: ProbeSettings, deadline: Deadline
) -> EndpointResult:
    label = endpoint.label if target.protocol == "pg" else target.text
    if target.protocol == "pg":
        options = PgOptions(
            logins=logins_for(target, settings),
            ca=settings.ca or target.ca,
            client_cert=_client_cert(target, settings),
            policy=settings.policy,
            timeout=settings.timeout,
        )
        return probe_postgres(endpoint.host, endpoint.port, options, label=label, deadline=deadline)
    http_options = HttpOptions(ca=settings.ca, policy=settings.policy, timeout=settings.timeout)
    probe = partial(probe_https, path=target.path) if target.protocol == "https" else probe_http
    return probe(
        endpoint.host,
        endpoint.port,
        http_options,
        server_name=endpoint.host,
        label=label,
        deadline=deadline,
    )


def run(targets: Sequence[Target], settings: ProbeSettings) -> ProbeRun:
    jobs = [(t, e) for t in targets for e in t.endpoints]
    for target in targets:  # user errors first, before any connection
        if target.protocol == "pg":
            _client_cert(target, settings)
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_ENDPOINTS, max(1, len(jobs)))) as pool:
        results = list(pool.map(lambda job: probe_endpoint(job[0], job[1], settings), jobs))
    findings = tuple(f for r in results for f in r.findings)
    errors = tuple(ReportError(message, target=r.target) for r in results for message in r.errors)
    return ProbeRun(Report(findings=findings, errors=errors, targets=len(results)), tuple(results))
