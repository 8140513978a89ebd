"""Tell CockroachDB from PostgreSQL by what they answer: the one place for that logic.

Signals, strongest first:
- CockroachDB refuses plaintext on a secure node with 08P01 "node is running
  secure mode, SSL connection required"; PostgreSQL refuses through pg_hba
  (28000 "no pg_hba.conf entry" / "pg_hba.conf rejects connection").
- ErrorResponse source-file field: PostgreSQL names C files (auth.c,
  postmaster.c); CockroachDB names Go files or leaves it out.
- GSSENCRequest: PostgreSQL answers one byte 'G' or 'N'; CockroachDB answers
  with an ErrorResponse (docs/FACTS.md).
- ParameterStatus crdb_version, when a server lets the probe in (trust or --insecure).
A real node (VERIFYFULL_CRDB_URL) is probed by the same tests, so adjust
these signals here when a CockroachDB release changes its wording.
"""

from __future__ import annotations

from collections.abc import Iterable

from verifyfull.wire.pg import ServerError

POSTGRESQL = "postgresql"
COCKROACHDB = "cockroachdb"
UNKNOWN = "postgresql-wire"
UNREACHABLE = "unreachable"  # no TCP connection: nothing was asked, nothing is known

CRDB_SECURE_MODE_TEXT = ("ssl connection required", "secure mode")
PG_HBA_TEXT = ("pg_hba.conf",)


def is_crdb_secure_refusal(error: ServerError) -> bool:
    text = error.message.lower()
    return error.sqlstate == "08P01" and any(part in text for part in CRDB_SECURE_MODE_TEXT)


def is_host_rule_refusal(error: ServerError) -> bool:
    text = error.message.lower()
    return error.sqlstate == "28000" and any(part in text for part in PG_HBA_TEXT)


def kind_from_error(error: ServerError) -> str | None:
    if is_crdb_secure_refusal(error):
        return COCKROACHDB
    source = error.source_file.lower()
    if source.endswith(".c"):
        return POSTGRESQL
    if source.endswith(".go"):
        return COCKROACHDB
    return None


def kind_from_gssenc_reply(reply: bytes) -> str | None:
    if reply in (b"G", b"N"):
        return POSTGRESQL
    if reply[:1] == b"E":
        return COCKROACHDB
    return None


def kind_from_parameters(parameters: Iterable[tuple[str, str]]) -> str | None:
    names = {name for name, _ in parameters}
    if "crdb_version" in names:
        return COCKROACHDB
    if "server_version" in names:
        return POSTGRESQL
    return None


def decide(votes: Iterable[str | None]) -> str:
    """The first definite signal wins (callers pass the strongest first)."""
    return next((vote for vote in votes if vote), UNKNOWN)
