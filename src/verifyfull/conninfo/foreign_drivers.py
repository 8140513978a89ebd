"""What the usual PostgreSQL driver of another language does given no TLS setting.

The scanner judges settings that a non-Python sub-project's driver reads
(scan/config/ecosystem.py, issue 13 class 7). Such a driver is not modelled as the
Python drivers are (drivers.py); each default is named here as the libpq sslmode
that behaves the same, so conninfo judges it, and in the driver's own terms for the
message. Sources: pgjdbc's PGProperty.SSL_MODE default `prefer`; node-postgres and
Postgrex open TLS only when the code asks (`ssl`, `ssl: true`) or, for node-postgres,
PGSSLMODE is set; pgx defaults to `prefer`, lib/pq to `require` without a
certificate check; tokio-postgres and sqlx to `prefer`; the pg gem and pdo_pgsql are
libpq.

A connection URL such a sub-project reads is read as its driver reads it
(`as_libpq_url`): node-postgres 8 (pg-connection-string) and Prisma (quaint) read
a URL's TLS keys otherwise than libpq, so the URL is rewritten into the libpq URL
that behaves the same, which conninfo then judges. Sources: pg-connection-string's
parse() (any sslmode but disable and no-verify, an sslcert/sslkey/sslrootcert, or
ssl=true/1 mean TLS with Node's certificate and host-name checks; no TLS key means
no TLS unless PGSSLMODE is set; pg 9 and `uselibpqcompat=true` read sslmode as
libpq does), quaint's PostgresUrl (sslmode disable|prefer|require, any other value
leaves prefer; sslaccept defaults to accept_invalid_certs, `strict` checks the
certificate and the host name against `sslcert` or the system roots). Drivers whose
URL reading is libpq's (pgx, lib/pq, sqlx, the pg gem, pdo_pgsql) keep the URL; so
does a reader not modelled here, and the message says so.

A JDBC URL (`jdbc:postgresql://host:port/db?...`, a Java service's or Keycloak's
`KC_DB_URL`, Spring's `SPRING_DATASOURCE_URL`) is pgjdbc's wherever it is written
(`jdbc_reading`): its properties are pgjdbc's (PGProperty): `sslmode` as libpq's, the
default prefer; `ssl=true` without an sslmode is verify-full; an `sslfactory` of
`NonValidatingFactory` checks no certificate; `sslrootcert` names the CA file (default
~/.postgresql/root.crt, as libpq's). Its other properties are pgjdbc's own and dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit


@dataclass(frozen=True)
class DriverDefault:
    """What an ecosystem's usual PostgreSQL driver does given no TLS setting."""

    driver: str
    sslmode: str  # the libpq sslmode that behaves the same (what conninfo judges)
    says: str  # the default, in the driver's own terms


# By language. Where two drivers are usual and differ (Go), the weaker default is
# judged and both are named.
DEFAULTS: dict[str, DriverDefault] = {
    "Java": DriverDefault("pgjdbc", "prefer", "default sslmode=prefer"),
    "JavaScript": DriverDefault(
        "node-postgres", "disable", "no TLS unless the code passes ssl or PGSSLMODE is set"
    ),
    "Go": DriverDefault(
        "pgx or lib/pq",
        "prefer",
        "pgx's default sslmode=prefer; lib/pq's require checks no certificate",
    ),
    "Rust": DriverDefault("tokio-postgres or sqlx", "prefer", "default sslmode=prefer"),
    "Ruby": DriverDefault("the pg gem (libpq)", "prefer", "default sslmode=prefer"),
    "PHP": DriverDefault("pdo_pgsql (libpq)", "prefer", "default sslmode=prefer"),
    "Elixir": DriverDefault("Postgrex", "disable", "no TLS unless ssl: true"),
}


# How a sub-project's driver reads a connection URL.
NODE_POSTGRES = "node-postgres"
PRISMA = "prisma"
LIBPQ_LIKE = "libpq"


@dataclass(frozen=True)
class UrlReader:
    """The driver that reads a connection URL in a sub-project of another ecosystem."""

    reading: str  # NODE_POSTGRES, PRISMA or LIBPQ_LIKE
    driver: str  # as the message names it ("node-postgres 8", "Prisma")
    where: str  # who reads it ("the JavaScript (npm) sub-project web")


@dataclass(frozen=True)
class UrlReading:
    """A URL as a reader's driver reads it: the libpq URL that behaves the same."""

    libpq_url: str
    says: str  # what the driver does with the URL's TLS keys, in its own terms


# Query keys that only decide TLS (or are the reader's own): replaced by the
# equivalent libpq keys. Those that name where to connect are kept.
_KEPT = ("host", "port", "user", "password")
_SYSTEM_ROOTS = "system"  # libpq 16+: the OS trust store, as Node's and native-tls's


def as_libpq_url(reader: UrlReader, url: str, env: Mapping[str, str]) -> UrlReading | None:
    """The URL as reader's driver reads it, or None when the reading is libpq's own
    (the caller judges the URL as written) or the text is not a URL such a driver
    takes (a keyword string, a `+driver` scheme)."""
    if reader.reading == LIBPQ_LIKE:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("postgres", "postgresql") or not parts.netloc:
        return None
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    if reader.reading == NODE_POSTGRES:
        if query.get("uselibpqcompat") == "true":
            return None  # pg-connection-string's libpq-compatible reading
        mode, root, says = _node_postgres_tls(query, env)
    else:
        mode, root, says = _prisma_tls(query)
    kept = [(k, v) for k, v in query.items() if k in _KEPT]
    kept.append(("sslmode", mode))
    if root is not None:
        kept.append(("sslrootcert", root))
    text = "&".join(f"{k}={quote(v, safe='/:.,@-_')}" for k, v in kept)
    return UrlReading(urlunsplit((parts.scheme, parts.netloc, parts.path, text, "")), says)


def _node_postgres_tls(
    query: Mapping[str, str], env: Mapping[str, str]
) -> tuple[str, str | None, str]:
    """(libpq sslmode, sslrootcert, says) for pg-connection-string's parse()."""
    mode = query.get("sslmode")
    root = query.get("sslrootcert") or _SYSTEM_ROOTS
    if mode == "disable":
        return "disable", None, "sslmode=disable: no TLS"
    if mode == "no-verify":
        return "require", None, "sslmode=no-verify: TLS, the certificate is not checked"
    if mode is not None or any(query.get(k) for k in ("sslcert", "sslkey", "sslrootcert")):
        named = f"sslmode={mode}" if mode is not None else "a TLS file"
        return (
            "verify-full",
            root,
            (
                f"{named}: TLS with Node's certificate and host-name checks "
                "(pg 8 reads every sslmode but disable and no-verify so; pg 9 reads it as libpq)"
            ),
        )
    ssl = query.get("ssl")
    if ssl in ("true", "1"):
        return "verify-full", root, f"ssl={ssl}: TLS with Node's certificate and host-name checks"
    if ssl in ("0", "false"):
        return "disable", None, f"ssl={ssl}: no TLS"
    pgsslmode = env.get("PGSSLMODE")
    if pgsslmode == "disable" or not pgsslmode:
        return "disable", None, "no sslmode or ssl in the URL (nor PGSSLMODE): no TLS at all"
    if pgsslmode == "no-verify":
        return "require", None, "PGSSLMODE=no-verify: TLS, the certificate is not checked"
    return "verify-full", root, f"PGSSLMODE={pgsslmode}: TLS with Node's checks"


def _prisma_tls(query: Mapping[str, str]) -> tuple[str, str | None, str]:
    """(libpq sslmode, sslrootcert, says) for Prisma's PostgreSQL URL (quaint)."""
    written = query.get("sslmode")
    mode = written if written in ("disable", "prefer", "require") else "prefer"
    accept = query.get("sslaccept", "accept_invalid_certs")
    strict = accept != "accept_invalid_certs"  # quaint: an unknown value is strict
    if written is not None and written != mode:
        says = f"Prisma reads sslmode=disable|prefer|require only: sslmode={written} is prefer"
    elif written is None:
        says = "no sslmode: Prisma's default prefer"
    else:
        says = f"sslmode={mode}"
    if mode == "disable":
        return "disable", None, says
    if strict:
        root = query.get("sslcert") or _SYSTEM_ROOTS
        if mode == "require":
            return "verify-full", root, f"{says}, sslaccept={accept}: certificate and host checked"
        return "prefer", None, f"{says} (sslaccept={accept} checks only a TLS session it gets)"
    return mode, None, f"{says}, sslaccept={accept}: the certificate is not checked"


JDBC_PREFIX = "jdbc:"
PGJDBC = UrlReader(LIBPQ_LIKE, "pgjdbc", "a Java service (a JDBC URL)")
_NON_VALIDATING = "NonValidatingFactory"


def jdbc_reading(url: str) -> UrlReading | None:
    """A `jdbc:postgresql://` URL as pgjdbc reads it: the libpq URL that behaves the
    same, None for any other text."""
    text = url.strip()
    if not text.lower().startswith(JDBC_PREFIX + "postgresql://"):
        return None
    try:
        parts = urlsplit(text[len(JDBC_PREFIX) :])
    except ValueError:
        return None
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    mode = query.get("sslmode")
    says = f"sslmode={mode}" if mode else "no sslmode: pgjdbc's default prefer"
    if mode is None and query.get("ssl", "").lower() == "true":
        mode, says = "verify-full", "ssl=true: pgjdbc's verify-full"
    mode = mode or "prefer"
    if _NON_VALIDATING in query.get("sslfactory", "") and mode != "disable":
        mode, says = "require", f"{says}, sslfactory=NonValidatingFactory: no certificate check"
    kept = [(k, v) for k, v in query.items() if k in (*_KEPT, "sslrootcert", "sslcert", "sslkey")]
    kept.append(("sslmode", mode))
    query_text = "&".join(f"{k}={quote(v, safe='/:.,@-_')}" for k, v in kept)
    libpq = urlunsplit(("postgresql", parts.netloc, parts.path, query_text, ""))
    return UrlReading(libpq, says)
