"""What each driver really does with a ConnInfo: the Verdict.

Semantics come from docs/FACTS.md, re-read in the drivers' source (asyncpg
0.32 connect_utils.py, SQLAlchemy 2.0 dialects, Tortoise 1.1 backends, libpq
18 via psycopg) and checked against a real server in
tests/test_conninfo_table.py. Two engines underneath: libpq's rules
(psycopg, psycopg2, SQLAlchemy's psycopg dialects, Tortoise's psycopg backend)
and asyncpg's rules (asyncpg, SQLAlchemy's asyncpg dialect, Tortoise's asyncpg
backend); each front end only says how its form reaches the engine.
The modules: target (which API, which driver), verdict (the result and its
collector), semantics (rules both engines share), asyncpg_rules, libpq_rules.
"""

from __future__ import annotations

from dataclasses import replace

from verifyfull.conninfo.asyncpg_rules import (
    ASYNCPG_CONNECT_KWARGS,
    ASYNCPG_DSN_KEYS,
    ASYNCPG_POOL_KWARGS,
    asyncpg_front,
)
from verifyfull.conninfo.libpq import ConnStringError
from verifyfull.conninfo.libpq_rules import libpq_front
from verifyfull.conninfo.model import ConnInfo, Environment, HostPort
from verifyfull.conninfo.pg8000_rules import pg8000_front
from verifyfull.conninfo.service import read_service
from verifyfull.conninfo.target import (
    SQLALCHEMY_REMOVED_SCHEMES,
    Driver,
    Target,
    resolve_target,
)
from verifyfull.conninfo.verdict import Judge, Verdict
from verifyfull.conninfo.versions import PINNED, DriverVersions
from verifyfull.findings import Finding, finding
from verifyfull.policy import (
    DEFAULT_POLICY,
    Policy,
    TLSUse,
)

__all__ = [
    "ASYNCPG_CONNECT_KWARGS",
    "ASYNCPG_DSN_KEYS",
    "ASYNCPG_POOL_KWARGS",
    "Driver",
    "Target",
    "Verdict",
    "evaluate",
    "resolve_target",
    "unreadable",
]


def evaluate(
    info: ConnInfo,
    driver: Driver | str | None = None,
    env: Environment | None = None,
    policy: Policy = DEFAULT_POLICY,
    versions: DriverVersions = PINNED,
) -> Verdict:
    """The effective behaviour of `info` when handed to `driver` (at `versions`), in `env`."""
    env = env or Environment.empty()
    target = resolve_target(info, driver)
    judge = Judge(target=target, evidence=str(info), policy=policy, versions=versions)
    reading = read_service(info, target, env, versions)
    if reading.error is not None:
        # The driver refuses before it dials anything: no transport to judge.
        judge.transport(TLSUse.NEVER, False, False)
        judge.intent_unknown = True
        judge.crash(f"{_error_class(target)}: {reading.error}", "", rule=None)
        judge.note(f"service {reading.service!r}: {reading.error}")
        return judge.finish(info, env)
    if reading.path is not None:
        judge.note(
            f"service {reading.service!r} read from {reading.path}: its values fill what the "
            "connection does not write"
        )
    judged = reading.info
    removed = (info.scheme or "").lower() in SQLALCHEMY_REMOVED_SCHEMES
    if target.driver is Driver.SQLALCHEMY and removed and versions.sqlalchemy_has_postgres_alias:
        # SQLAlchemy before 1.4 loads postgres:// as postgresql://: nothing else changes.
        judge.note("SQLAlchemy before 1.4 reads postgres:// as postgresql://")
    elif target.driver is Driver.SQLALCHEMY and removed:
        judge.crash(
            f"sqlalchemy.exc.NoSuchModuleError: Can't load plugin: sqlalchemy.dialects:"
            f"{info.scheme}",
            f"SQLAlchemy has no '{info.scheme}' dialect (removed in 1.4): create_engine() "
            "raises before any connection; the scheme is postgresql://",
        )
    if reading.unknown and not any(h.host or h.hostaddr for h in judged.hosts):
        # A service names the server it serves (not the local socket): judge the
        # written values against a network host, as the service file check does.
        ports = [h.port for h in judged.hosts] or [None]
        judged = replace(judged, hosts=tuple(HostPort(SERVICE_HOST, p) for p in ports))
    if target.engine == "asyncpg":
        asyncpg_front(judged, target, env, judge)
    elif target.engine == "pg8000":
        pg8000_front(judged, target, judge, versions)
    else:
        libpq_front(judged, target, env, judge)
    if reading.unknown and not _mode_written(info, target):
        # The service file is the deployment's: its sslmode and hosts decide.
        judge.determined = False
        judge.flag(
            "VF108",
            f"the connection names service {reading.service!r}: its host and sslmode come "
            "from the deployment's pg_service.conf, which is not here",
            "write sslmode=verify-full and sslrootcert in the connection itself (they win "
            "over the service file), or check the deployed service file",
        )
    return judge.finish(reading.info, env)


SERVICE_HOST = "the-service-host.invalid"  # stands for the host an unseen service names


def _error_class(target: Target) -> str:
    if target.engine == "asyncpg":
        return "asyncpg"
    if target.backend == "psycopg2" or target.driver is Driver.PSYCOPG2:
        return "psycopg2.OperationalError"
    return "psycopg.OperationalError"


def _mode_written(info: ConnInfo, target: Target) -> bool:
    """Whether the connection itself decides sslmode (a service cannot override it)."""
    if info.has_param("sslmode") or info.kwarg("sslmode") not in (None, "None"):
        return True
    return target.engine == "asyncpg" and not info.ssl.is_absent


def unreadable(error: ConnStringError, evidence: str) -> Finding:
    """The finding for a connection conninfo cannot read: never silence (issue 14).

    After the differential tests, conninfo refuses what the drivers refuse
    (asyncpg's and libpq's own readings are both tried), so the driver will
    refuse it at connect: a broken configuration, VF105. `evidence` must be
    redacted already.
    """
    return finding(
        "VF105",
        f"the connection string cannot be read ({error.problem}): the driver refuses it at "
        "connect, and verifyfull cannot say what TLS it would use",
        evidence=evidence,
        fix="write it as postgresql://user@host:port/db?sslmode=verify-full&sslrootcert=… "
        "(check it with `verifyfull explain`)",
    )
