"""Unknown values in a connection URL's query that cannot change its TLS verdict, and
which Tortoise connection URLs are PostgreSQL at all.

`?sslmode=verify-full&sslrootcert={certpath}` with the path from the environment is
judged as written: whichever file the deployment names, libpq verifies the chain
and the host name against it, or fails at connect (fail closed; rootfiles leaves a
run-time path to the deployment). Only keys whose value is a file, a name or a
number are listed; an unknown value of any other key (sslmode, ssl, host: a socket
directory, service: a whole pg_service entry, gssencmode) still leaves the URL to
the deployment, as does an unknown key (`?{options}`).
"""

from __future__ import annotations

from verifyfull.conninfo.parse import TORTOISE_SCHEMES
from verifyfull.scan.python.values import Text

INERT_QUERY_KEYS = frozenset(
    {
        # files: which root, client certificate, key or CRL, not whether they are checked
        "sslrootcert",
        "sslcert",
        "sslkey",
        "sslcrl",
        "sslcrldir",
        "sslpassword",
        # names and numbers
        "application_name",
        "fallback_application_name",
        "connect_timeout",
        "dbname",
        "user",
        "password",
        "client_encoding",
        "target_session_attrs",
        "keepalives",
        "keepalives_idle",
        "keepalives_interval",
        "keepalives_count",
        "tcp_user_timeout",
    }
)


def inert_query_value(before: str) -> bool:
    """`before`: the URL text up to an unknown part. True when that part is (the start
    or rest of) the value of a listed query key."""
    query = before.rpartition("?")[2]
    pair = query.rpartition("&")[2]
    key, equals, _ = pair.partition("=")
    return bool(equals) and key.lower() in INERT_QUERY_KEYS


def tortoise_postgres(url: Text | str) -> bool:
    """Whether a Tortoise connection URL may be PostgreSQL: its scheme is one Tortoise
    hands to asyncpg or psycopg, or is not known here (`sqlite://` is not a site)."""
    if isinstance(url, str):
        head = url
    else:
        head = url.parts[0] if url.parts and isinstance(url.parts[0], str) else ""
    scheme, sep, _ = head.partition("://")
    return not sep or scheme.lower() in TORTOISE_SCHEMES
