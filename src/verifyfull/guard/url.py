"""DATABASE_URL -> guard Target, parsed by conninfo (the one source of connection semantics).

The URL may be libpq's form (postgresql://, cockroachdb://, any +driver
suffix, or a key=value string). Hosts, port, user, password and database come
from it; sslrootcert / sslcert / sslkey name the files (DB_CA_PATH,
DB_CERT_PATH, DB_KEY_PATH or DB_CERTS_DIR fill in what it leaves out). A
weak sslmode in the URL is refused like DB_SSLMODE; without one, the guard
uses verify-full anyway. Errors show the URL only in redacted form.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import SecretStr

from verifyfull.conninfo import parse_dsn
from verifyfull.errors import InsecureConfigurationError, UsageError, VerifyfullError
from verifyfull.guard.refuse import refuse_sslmode
from verifyfull.policy import Policy

if TYPE_CHECKING:
    from verifyfull.guard.settings import DatabaseTLSSettings, Target

# URL options that change TLS but that the guard decides itself: refused, so
# nobody believes they took effect.
_GUARD_DECIDES = ("ssl", "sslcrl", "sslnegotiation", "sslpassword", "ssl_max_protocol_version")


def target_from_url(url: str, settings: DatabaseTLSSettings, policy: Policy) -> Target:
    from verifyfull.guard.settings import Target, parse_pins

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
    if not info.tcp_hosts:
        raise UsageError(f"DATABASE_URL names no TCP host ({shown})", "TLS needs a host name")
    root = _path(info.param("sslrootcert"))
    mode = info.param("sslmode") or settings.sslmode
    verify_hostname = refuse_sslmode(mode, policy, settings.ca_hint(root))
    user = info.user or settings.user
    ca, cert, key = settings.client_files(
        user,
        ca=root,
        cert=_path(info.param("sslcert")),
        key=_path(info.param("sslkey")),
    )
    password = settings.read_password()
    if info.password is not None:
        if password is not None:
            raise UsageError(
                "DATABASE_URL has a password and DB_PASSWORD(_FILE) is set too",
                "keep the password in one place (DB_PASSWORD_FILE is safest)",
            )
        password = SecretStr(info.password.reveal())
    return Target(
        hosts=tuple((h.host, h.port or settings.port) for h in info.tcp_hosts),
        database=info.database or settings.name,
        user=user,
        ca_file=ca,
        cert_file=cert,
        key_file=key,
        password=password,
        policy=policy,
        verify_hostname=verify_hostname,
        connect_timeout=float(info.param("connect_timeout") or settings.connect_timeout),
        pins=parse_pins(settings.pin_sha256),
    )


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None
