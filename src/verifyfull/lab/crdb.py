"""The CockroachDB seam: a real node named by environment variables.

No CockroachDB binary can be installed here, so tests run against the lab's
PostgreSQL stand-in. When VERIFYFULL_CRDB_URL (a verify-full URL of a real
node) and VERIFYFULL_CRDB_CERTS_DIR (its `cockroach cert` directory: ca.crt,
client.<user>.crt/.key) are set, `from_env()` describes that node with the
same fields and `dsn()` as a LabServer, and the `crdb_or_lab` fixture uses it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from verifyfull.errors import UsageError
from verifyfull.lab.dsn import Dialable

URL_ENV = "VERIFYFULL_CRDB_URL"
CERTS_ENV = "VERIFYFULL_CRDB_CERTS_DIR"
PASSWORD_USER_ENV = "VERIFYFULL_CRDB_PASSWORD_USER"  # noqa: S105 - a variable name
PASSWORD_ENV = "VERIFYFULL_CRDB_PASSWORD"  # noqa: S105 - a variable name


@dataclass(frozen=True)
class ExternalServer(Dialable):
    """A real CockroachDB node, shaped like a LabServer (no data dir, no CA key)."""

    variant: str
    host: str
    hostname: str
    port: int
    certs_dir: Path
    database: str
    password_user: str
    password: str

    def __repr__(self) -> str:
        return f"ExternalServer(host={self.hostname!r}, port={self.port})"

    def stop(self) -> None:
        """A real node is not ours to stop."""


def from_env(env: dict[str, str] | None = None) -> ExternalServer | None:
    """The node named by VERIFYFULL_CRDB_URL, or None when it is not set."""
    env = dict(os.environ) if env is None else env
    url = env.get(URL_ENV)
    if not url:
        return None
    certs = env.get(CERTS_ENV)
    if not certs or not (Path(certs) / "ca.crt").is_file():
        raise UsageError(
            f"{URL_ENV} is set but {CERTS_ENV} does not name a certs dir with ca.crt",
            f"set {CERTS_ENV} to the node's `cockroach cert` directory",
        )
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres", "cockroachdb") or not parts.hostname:
        raise UsageError(
            f"{URL_ENV} is not a postgresql:// URL with a host",
            "e.g. postgresql://root@node1:26257/defaultdb?sslmode=verify-full",
        )
    return ExternalServer(
        variant="cockroachdb",
        host=parts.hostname,
        hostname=parts.hostname,
        port=parts.port or 26257,
        certs_dir=Path(certs).absolute(),
        database=unquote(parts.path.lstrip("/")) or "defaultdb",
        password_user=env.get(PASSWORD_USER_ENV, "app_pw"),
        password=env.get(PASSWORD_ENV, ""),
    )
