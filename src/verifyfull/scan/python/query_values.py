"""Unknown values in a connection URL's query that cannot change its TLS verdict, and
which Tortoise connection URLs are PostgreSQL at all.

`?sslmode=verify-full&sslrootcert={certpath}` with the path from the environment is
judged as written: whichever file the deployment names, libpq verifies the chain
and the host name against it, or fails at connect (fail closed; rootfiles leaves a
run-time path to the deployment). Only keys whose value is a file, a name, a
number or server run-time parameters are listed; an unknown value of any other key
(sslmode, ssl, host: a socket directory, service: a whole pg_service entry,
gssencmode) still leaves the URL to the deployment, as does an unknown key
(`?{options}`).

And which URL templates cannot carry a query at all: parts written into the scheme,
the user, password, host and port, and one database name straight after the path's
'/', with no '?' written (`f"{scheme}://{user}:{pw}@{host}:{port}/{db}"`, the
`"…://%s:%s@%s:%s/%s" % (…)` of an Alembic env.py). Such a URL has no TLS setting,
whatever the deployment fills in: the driver's default. A part after the database
name (`/{db}{suffix}`, `/app{options}`) may carry one (`?sslmode=…`): that URL stays
the deployment's.
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
        "port",
        # server run-time parameters sent at connection start (libpq `options`, a
        # CockroachDB Cloud URL's `options=--cluster%3D{cluster}`; asyncpg's URL keys it
        # does not know are server settings too): they reach the server after the
        # TLS handshake and cannot change it (held-out-s19, py-nest-thermostat)
        "options",
        "search_path",
        "timezone",
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


def query_capable(text: Text) -> int | None:
    """The index of the first unknown part of a URL that may carry a query, None when
    none can (or the URL has a '?' before it: its query's values are judged by
    inert_query_value). Parts before '://' (the scheme) and in the netloc cannot; in
    the path only one database name slot can be there, straight after the path's '/'
    (literal text may follow it: `/{cluster}.app`)."""
    seen = ""
    named = False  # the path's database name slot is taken
    for index, part in enumerate(text.parts):
        if isinstance(part, str):
            seen += part
            continue
        if "?" in seen:
            return None
        _, sep, rest = seen.partition("://")
        if not sep or "/" not in rest:
            continue  # the scheme, or the netloc: a user, password, host or port
        if named or rest.split("/", 1)[1] != "":
            return index  # `/{db}{suffix}`, `/app{options}`
        named = True  # `/{db}`, `/{cluster}.app?sslmode=…`: the database name
    return None


def queryless(text: Text) -> bool:
    """A URL template with no query written and no part that may carry one."""
    literal = "".join(p for p in text.parts if isinstance(p, str))
    return "://" in literal and "?" not in literal and query_capable(text) is None
