"""The resolved connection target, and the parsing of its host list and pins.

A `Target` is what every driver adapter needs, validated. Its hosts are TCP
hosts: a name or an IP literal. Anything else a driver would dial without
TLS (a Unix-socket directory `/run/postgresql`, an abstract socket `@name`,
an empty host, which libpq turns into its default socket or PGHOST) is
refused by `check_hosts`, unless the user opts in to a local link with
DB_ALLOW_UNIX_SOCKET; the guard then says the link is local, not TLS.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr

from verifyfull.conninfo.model import names_unix_socket
from verifyfull.errors import InsecureConfigurationError, UsageError
from verifyfull.policy import DEFAULT_POLICY, Policy

# A DNS name (RFC 1123 labels; '_' tolerated as resolvers do), optional final dot.
_HOST_NAME = re.compile(
    r"(?=.{1,253}\.?$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_-]{1,63})*\.?"
)


def is_tcp_host(host: str) -> bool:
    """A host name or an IP literal, which the drivers dial over TCP (with TLS)."""
    if _HOST_NAME.fullmatch(host):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def check_hosts(
    hosts: tuple[tuple[str, int], ...], variable: str, *, allow_unix_socket: bool = False
) -> None:
    """Refuse hosts a driver would reach without TLS (unless a local link is opted in)."""
    if not hosts:
        raise UsageError(f"{variable} names no host", "set DB_HOST to the database host name")
    for host, _ in hosts:
        if is_tcp_host(host):
            continue
        if names_unix_socket(host):
            if allow_unix_socket:
                continue
            raise InsecureConfigurationError(
                "VF101",
                f"{variable} names the Unix socket {host!r}: the drivers send the password "
                "over it without TLS",
                "set DB_HOST to the database's TCP host name, or DB_ALLOW_UNIX_SOCKET=true "
                "to accept a local link without TLS",
            )
        shown = "an empty host" if not host.strip() else f"{host!r}, which is not a host name"
        raise UsageError(
            f"{variable} has {shown} (a driver would fall back to a local socket or PGHOST)",
            "give host names or IP addresses, comma-separated",
        )


@dataclass(frozen=True)
class Target:
    """Everything a driver adapter needs, validated; the password prints as '***'."""

    hosts: tuple[tuple[str, int], ...]
    database: str
    user: str
    ca_file: Path
    cert_file: Path | None = None
    key_file: Path | None = None
    password: SecretStr | None = field(default=None, repr=False)
    policy: Policy = DEFAULT_POLICY
    verify_hostname: bool = True
    connect_timeout: float = 10.0
    pins: frozenset[str] = frozenset()  # SHA-256 of the server cert or its CA, hex
    allow_unix_socket: bool = False  # opt-in: Unix-socket hosts are a local link, no TLS

    @property
    def sslmode(self) -> str:
        return "verify-full" if self.verify_hostname else "verify-ca"

    @property
    def mtls(self) -> bool:
        return self.cert_file is not None

    @property
    def local_hosts(self) -> tuple[str, ...]:
        """The Unix-socket hosts (opted in): reached without TLS."""
        return tuple(h for h, _ in self.hosts if names_unix_socket(h))

    def describe(self) -> str:
        """A redacted libpq-style URL, safe to log: never the password."""
        hosts = ",".join(f"{_bracket(h)}:{p}" for h, p in self.hosts)
        secret = ":***" if self.password is not None else ""
        return f"postgresql://{self.user}{secret}@{hosts}/{self.database}?sslmode={self.sslmode}"


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def parse_hosts(text: str, default_port: int) -> tuple[tuple[str, int], ...]:
    """'a,b:26258,[::1]:5432' -> ((a, default), (b, 26258), (::1, 5432))."""
    hosts: list[tuple[str, int]] = []
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            continue
        host, port = item, default_port
        if item.startswith("["):
            end = item.find("]")
            if end < 0:
                raise UsageError(f"bad host {item!r}", "write IPv6 hosts as [::1]:26257")
            host, rest = item[1:end], item[end + 1 :]
            if rest.startswith(":"):
                port = _port(rest[1:], item)
        elif item.count(":") == 1 and not names_unix_socket(item):
            host, port_text = item.split(":")
            port = _port(port_text, item)
        hosts.append((host, port))
    if not hosts:
        raise UsageError("DB_HOST is empty", "set DB_HOST to the database host name")
    return tuple(hosts)


def _port(text: str, item: str) -> int:
    if text.isdigit() and 0 < int(text) < 65536:
        return int(text)
    raise UsageError(f"bad port in host {item!r}", "use host:port with a port 1-65535")


def parse_pins(text: str) -> frozenset[str]:
    pins = set()
    for raw in text.split(","):
        pin = raw.strip().lower().replace(":", "").removeprefix("sha256/")
        if not pin:
            continue
        if len(pin) != 64 or any(c not in "0123456789abcdef" for c in pin):
            raise UsageError(
                "DB_PIN_SHA256 holds a value that is not a SHA-256 fingerprint",
                "give 64 hex digits (colons allowed) per pin, comma-separated",
            )
        pins.add(pin)
    return frozenset(pins)
