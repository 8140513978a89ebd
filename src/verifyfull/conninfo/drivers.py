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

from verifyfull.conninfo.asyncpg_rules import (
    ASYNCPG_CONNECT_KWARGS,
    ASYNCPG_DSN_KEYS,
    ASYNCPG_POOL_KWARGS,
    asyncpg_front,
)
from verifyfull.conninfo.libpq import ConnStringError
from verifyfull.conninfo.libpq_rules import libpq_front
from verifyfull.conninfo.model import ConnInfo, Environment
from verifyfull.conninfo.target import Driver, Target, resolve_target
from verifyfull.conninfo.verdict import Judge, Verdict
from verifyfull.findings import Finding, finding
from verifyfull.policy import (
    DEFAULT_POLICY,
    Policy,
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
) -> Verdict:
    """The effective behaviour of `info` when handed to `driver`, in `env`."""
    env = env or Environment.empty()
    target = resolve_target(info, driver)
    judge = Judge(target=target, evidence=str(info), policy=policy)
    if target.engine == "asyncpg":
        asyncpg_front(info, target, env, judge)
    else:
        libpq_front(info, target, env, judge)
    return judge.finish(info, env)


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
