"""The connection model: every way a connection is written -> ConnInfo -> Verdict.

The one source of truth for connection semantics. The scanner builds a
ConnInfo from code or config (literal=True), the guard from its settings
(literal=False) and live objects, the probe from a target URL; all three ask
`evaluate(info, driver, env)` what the driver will really do.

    info = parse_dsn("postgresql://app@db:26257/app?sslmode=require")
    verdict = evaluate(info, "asyncpg", Environment.empty())
    verdict.tls, verdict.verifies_chain, verdict.rule_ids   # ALWAYS, False, ('VF103',)
"""

from verifyfull.conninfo.drivers import (
    Driver,
    Target,
    Verdict,
    evaluate,
    resolve_target,
    unreadable,
)
from verifyfull.conninfo.libpq import ConnStringError
from verifyfull.conninfo.model import ConnInfo, Environment, HostPort, Source
from verifyfull.conninfo.parse import (
    from_asyncpg_kwargs,
    from_environment,
    from_pg8000_kwargs,
    from_sqlalchemy_url,
    from_tortoise_config,
    from_tortoise_credentials,
    from_tortoise_db_url,
    from_url_parts,
    parse_dsn,
    parse_for_driver,
    read_any_driver,
)
from verifyfull.conninfo.redact import MASK, Secret, redact_text
from verifyfull.conninfo.sslarg import (
    ContextFacts,
    SSLArg,
    SSLArgKind,
    VerifyMode,
    describe_context,
    describe_ssl_value,
)

__all__ = [
    "MASK",
    "ConnInfo",
    "ConnStringError",
    "ContextFacts",
    "Driver",
    "Environment",
    "HostPort",
    "SSLArg",
    "SSLArgKind",
    "Secret",
    "Source",
    "Target",
    "Verdict",
    "VerifyMode",
    "describe_context",
    "describe_ssl_value",
    "evaluate",
    "from_asyncpg_kwargs",
    "from_environment",
    "from_pg8000_kwargs",
    "from_sqlalchemy_url",
    "from_tortoise_config",
    "from_tortoise_credentials",
    "from_tortoise_db_url",
    "from_url_parts",
    "parse_dsn",
    "parse_for_driver",
    "read_any_driver",
    "redact_text",
    "resolve_target",
    "unreadable",
]
