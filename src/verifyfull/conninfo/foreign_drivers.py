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
"""

from __future__ import annotations

from dataclasses import dataclass


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
