"""libpq URLs for lab servers and for the real CockroachDB node behind the seam."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, urlencode


def build_dsn(
    *,
    user: str,
    host: str,
    port: int,
    database: str,
    certs_dir: Path,
    sslmode: str | None = "verify-full",
    client_cert: bool = True,
    scheme: str = "postgresql",
    password: str | None = None,
) -> str:
    """A percent-encoded libpq URL with absolute certificate paths from `certs_dir`.

    sslmode=None leaves every ssl* key out (the driver's default applies). The
    client certificate is named only when the certs dir has one for `user`.
    """
    query: dict[str, str] = {}
    if sslmode is not None:
        query["sslmode"] = sslmode
        query["sslrootcert"] = str((certs_dir / "ca.crt").absolute())
        cert, key = certs_dir / f"client.{user}.crt", certs_dir / f"client.{user}.key"
        if client_cert and cert.is_file():
            query["sslcert"] = str(cert.absolute())
            query["sslkey"] = str(key.absolute())
    auth = quote(user, safe="")
    if password is not None:
        auth += ":" + quote(password, safe="")
    netloc = f"[{host}]" if ":" in host else host
    url = f"{scheme}://{auth}@{netloc}:{port}/{quote(database, safe='')}"
    return url + ("?" + urlencode(query, safe="/") if query else "")


class Dialable:
    """`dsn()` for anything with a hostname, port, database, certs dir and password."""

    hostname: str
    port: int
    database: str
    certs_dir: Path
    password: str

    def dsn(
        self,
        user: str = "app",
        *,
        sslmode: str | None = "verify-full",
        client_cert: bool = True,
        host: str | None = None,
        database: str | None = None,
        scheme: str = "postgresql",
        with_password: bool = False,
    ) -> str:
        """A libpq URL for `user`; with_password embeds the password (tests only)."""
        return build_dsn(
            user=user,
            host=host or self.hostname,
            port=self.port,
            database=database or self.database,
            certs_dir=self.certs_dir,
            sslmode=sslmode,
            client_cert=client_cert,
            scheme=scheme,
            password=self.password if with_password else None,
        )
