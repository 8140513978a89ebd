"""DATABASE_URL -> guard Target, parsed by conninfo (the one source of connection semantics).

The URL may be libpq's form (postgresql://, cockroachdb://, any +driver
suffix, or a key=value string). Hosts, port, user, password and database come
from it; sslrootcert / sslcert / sslkey name the files (DB_CA_PATH,
DB_CERT_PATH, DB_KEY_PATH or DB_CERTS_DIR fill in what it leaves out). A
weak sslmode in the URL is refused like DB_SSLMODE; without one, the guard
uses verify-full anyway. Errors show the URL only in redacted form.
This module only parses; settings.py combines the result with DB_* (so the
dependency runs one way: settings -> url).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr

from verifyfull.conninfo import parse_dsn
from verifyfull.errors import InsecureConfigurationError, UsageError, VerifyfullError

# URL options that change TLS but that the guard decides itself: refused, so
# nobody believes they took effect.
_GUARD_DECIDES = ("ssl", "sslcrl", "sslnegotiation", "sslpassword", "ssl_max_protocol_version")


@dataclass(frozen=True)
class UrlParts:
    """What a DATABASE_URL says; settings.py fills the gaps from DB_* and judges it.

    hosts keeps every host the URL names, Unix sockets and empty ones
    included, so that none is dropped silently (target.check_hosts judges them).
    """

    shown: str  # the URL redacted, for messages
    hosts: tuple[tuple[str, int | None], ...]
    database: str | None
    user: str | None
    password: SecretStr | None = field(repr=False)
    sslmode: str | None
    root: Path | None
    cert: Path | None
    key: Path | None
    connect_timeout: float | None


def parse_database_url(url: str) -> UrlParts:
    """Parse and pre-judge a DATABASE_URL (redacted in every message)."""
    try:
        info = parse_dsn(url, literal=False)
    except VerifyfullError as exc:
        raise UsageError(f"DATABASE_URL cannot be parsed: {exc.problem}", exc.fix) from None
    shown = info.to_url()
    for option in _GUARD_DECIDES:
        if info.has_param(option):
            raise UsageError(
                f"DATABASE_URL sets {option}, which the guard does not take from a URL ({shown})",
                "remove it: the guard always uses verify-full with the configured CA",
            )
    if info.param("sslrootcert") == "system":
        raise InsecureConfigurationError(
            "VF103",
            "sslrootcert=system trusts every public CA, not the cluster's own",
            "point sslrootcert (or DB_CA_PATH) at the cluster's ca.crt",
        )
    if not info.hosts:
        raise UsageError(f"DATABASE_URL names no TCP host ({shown})", "TLS needs a host name")
    return UrlParts(
        shown=shown,
        hosts=tuple((h.host, h.port) for h in info.hosts),
        database=info.database,
        user=info.user,
        password=SecretStr(info.password.reveal()) if info.password is not None else None,
        sslmode=info.param("sslmode"),
        root=_path(info.param("sslrootcert")),
        cert=_path(info.param("sslcert")),
        key=_path(info.param("sslkey")),
        connect_timeout=_seconds(info.param("connect_timeout"), shown),
    )


def _seconds(text: str | None, shown: str) -> float | None:
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise UsageError(
            f"DATABASE_URL has a connect_timeout that is not a number ({shown})",
            "give connect_timeout in seconds",
        ) from None


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None
