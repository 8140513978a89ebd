"""What enforcement keeps per connection attempt: one frozen ConnectionRecord.

Built only from redacted values (host, port, database, user; never a password
or a connection string), so a record can be printed, written to a report or
exported as metrics as it is.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any


class Mode(str, enum.Enum):
    REFUSE = "refuse"  # an unverified connection raises before anything is sent
    AUDIT = "audit"  # it is allowed and recorded


# slots: up to enforce.MAX_RECORDS are kept alive; without a __dict__ each is
# one object for the garbage collector to walk, not two.
@dataclass(frozen=True, slots=True)
class ConnectionRecord:
    """One connection attempt a driver made while enforcement was active."""

    driver: str  # asyncpg, psycopg, psycopg2
    target: str  # host:port as dialled (the live peer once connected)
    database: str | None
    user: str | None
    tls_version: str | None  # None: no TLS (or refused before connecting)
    cipher: str | None
    chain_verified: bool  # the driver checked the chain, and TLS was in use
    hostname_verified: bool
    client_cert: str | None  # the certificate file presented, "in the SSLContext", or None
    rule_ids: tuple[str, ...]  # what the connection broke (empty: verify-full)
    message: str  # the first rule's message, or "verify-full"
    refused: bool  # refuse mode stopped it
    allowed_rules: tuple[str, ...]  # rules a verifyfull_allow mark (or the caller) accepted
    location: str  # file:line of the first caller outside the drivers
    opened_by: str | None  # a label the caller set (the pytest plugin: the test's node id)
    server_cert_not_after: dt.datetime | None
    at: dt.datetime
    proven: bool = True  # False: the handshake could not be seen (an asynchronous connect)

    @property
    def verified(self) -> bool:
        """verify-full: TLS in use, chain and host name checked, nothing refused."""
        return not self.rule_ids and not self.refused and self.tls_version is not None

    @property
    def unexcused_rules(self) -> tuple[str, ...]:
        """Rules not accepted by a verifyfull_allow mark."""
        return tuple(r for r in self.rule_ids if r not in self.allowed_rules)

    def to_json(self) -> dict[str, Any]:
        return {
            "driver": self.driver,
            "target": self.target,
            "database": self.database,
            "user": self.user,
            "tls_version": self.tls_version,
            "cipher": self.cipher,
            "chain_verified": self.chain_verified,
            "hostname_verified": self.hostname_verified,
            "client_cert": self.client_cert,
            "rules": list(self.rule_ids),
            "allowed_rules": list(self.allowed_rules),
            "message": self.message,
            "refused": self.refused,
            "verified": self.verified,
            "location": self.location,
            "opened_by": self.opened_by,
            "server_cert_not_after": _iso(self.server_cert_not_after),
            "at": _iso(self.at),
            "proven": self.proven,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ConnectionRecord:
        """The inverse of to_json (reports merged from several processes)."""
        return cls(
            driver=str(data["driver"]),
            target=str(data["target"]),
            database=data.get("database"),
            user=data.get("user"),
            tls_version=data.get("tls_version"),
            cipher=data.get("cipher"),
            chain_verified=bool(data.get("chain_verified")),
            hostname_verified=bool(data.get("hostname_verified")),
            client_cert=data.get("client_cert"),
            rule_ids=tuple(data.get("rules", ())),
            allowed_rules=tuple(data.get("allowed_rules", ())),
            message=str(data.get("message", "")),
            refused=bool(data.get("refused")),
            location=str(data.get("location", "")),
            opened_by=data.get("opened_by"),
            server_cert_not_after=_parse_time(data.get("server_cert_not_after")),
            at=_parse_time(data.get("at")) or dt.datetime.now(dt.timezone.utc),
            proven=bool(data.get("proven", True)),
        )


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def _parse_time(text: object) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if isinstance(text, str) else None
