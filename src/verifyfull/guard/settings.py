"""Database TLS settings from the environment, resolved into one connection target.

Three ways to say where the database is and which files prove who we are:
the seed's variables (DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_CERT_PATH,
DB_KEY_PATH, DB_CA_PATH), a DATABASE_URL, or a cockroach certs directory
(DB_CERTS_DIR: ca.crt, client.<user>.crt, client.<user>.key). The password
comes from DB_PASSWORD or DB_PASSWORD_FILE (a secret-manager mount) and is
never printed. `resolve()` turns the settings into a frozen `Target` the
driver adapters use; every refusal is one line with the rule id and the fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from verifyfull.errors import InsecureConfigurationError, UsageError
from verifyfull.guard.readfile import read_regular_file
from verifyfull.guard.refuse import refuse_sslmode
from verifyfull.guard.target import Target, check_hosts, parse_hosts, parse_pins
from verifyfull.guard.url import UrlParts, parse_database_url
from verifyfull.policy import DEFAULT_POLICY, Policy
from verifyfull.scrub import register_secret

DEFAULT_PORT = 26257  # CockroachDB's SQL port; PostgreSQL users set DB_PORT=5432


def _one_line(exc: ValidationError, prefix: str) -> str:
    problems = []
    for error in exc.errors(include_input=False, include_url=False):
        field = str(error["loc"][0]) if error["loc"] else "?"
        variable = "DATABASE_URL" if field == "url" else f"{prefix}{field.upper()}"
        problems.append(f"{variable}: {error['msg'].rstrip('.').lower()}")
    return "invalid database settings: " + "; ".join(problems) + "; fix those variables"


class DatabaseTLSSettings(BaseSettings):
    """Settings read from the environment (and .env when the app asks for it)."""

    model_config = SettingsConfigDict(env_prefix="DB_", extra="ignore", frozen=True)

    def __init__(self, **values: Any) -> None:
        # pydantic's report is several lines and quotes the input: one line naming
        # the variable instead, never its value (it may be a password).
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise UsageError(_one_line(exc, self.model_config.get("env_prefix", ""))) from None

    host: str = "localhost"  # one host, or a list "n1,n2:26258,[::1]:26259"
    port: int = DEFAULT_PORT
    name: str = "defaultdb"
    user: str = "root"
    cert_path: Path | None = None
    key_path: Path | None = None
    ca_path: Path | None = None
    certs_dir: Path | None = None
    password: SecretStr | None = None
    password_file: Path | None = None
    url: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "DB_URL")
    )
    sslmode: str = "verify-full"
    allow_verify_ca: bool = False
    min_tls_version: str = "TLSv1.2"
    connect_timeout: float = 10.0
    pin_sha256: str = ""  # comma-separated SHA-256 fingerprints (server cert or CA)
    rotation_check_seconds: float = 5.0
    # How often, at most, a new connection looks at the certificate files (0: before
    # every connect); the background poll above looks regardless. See rotation.py.
    rotation_min_check_seconds: float = Field(default=1.0, ge=0)
    pool_recycle_seconds: float = 300.0
    # A Unix-socket DB_HOST carries no TLS: refused unless opted in (a local link).
    allow_unix_socket: bool = False

    def policy(self) -> Policy:
        overrides: dict[str, object] = {"allow_verify_ca": self.allow_verify_ca}
        overrides["min_tls_version"] = self.min_tls_version
        return DEFAULT_POLICY.with_overrides(overrides)

    def resolve(self) -> Target:
        """Validate and combine the settings; refuse anything weaker than the policy."""
        policy = self.policy()
        if self.url is not None:
            return self._resolve_url(parse_database_url(self.url.get_secret_value()), policy)
        verify_hostname = refuse_sslmode(self.sslmode, policy, self.ca_hint())
        hosts = parse_hosts(self.host, self.port)
        check_hosts(hosts, "DB_HOST", allow_unix_socket=self.allow_unix_socket)
        ca, cert, key = self.client_files(self.user)
        return Target(
            hosts=hosts,
            database=self.name,
            user=self.user,
            ca_file=ca,
            cert_file=cert,
            key_file=key,
            password=self.read_password(),
            policy=policy,
            verify_hostname=verify_hostname,
            connect_timeout=self.connect_timeout,
            pins=parse_pins(self.pin_sha256),
            allow_unix_socket=self.allow_unix_socket,
        )

    def _resolve_url(self, url: UrlParts, policy: Policy) -> Target:
        """DATABASE_URL's values first, DB_* for what it leaves out."""
        hosts = tuple((h, p or self.port) for h, p in url.hosts)
        check_hosts(hosts, "DATABASE_URL", allow_unix_socket=self.allow_unix_socket)
        verify_hostname = refuse_sslmode(
            url.sslmode or self.sslmode, policy, self.ca_hint(url.root)
        )
        user = url.user or self.user
        ca, cert, key = self.client_files(user, ca=url.root, cert=url.cert, key=url.key)
        password = self.read_password()
        if url.password is not None:
            if password is not None:
                raise UsageError(
                    "DATABASE_URL has a password and DB_PASSWORD(_FILE) is set too",
                    "keep the password in one place (DB_PASSWORD_FILE is safest)",
                )
            password = url.password
        return Target(
            hosts=hosts,
            database=url.database or self.name,
            user=user,
            ca_file=ca,
            cert_file=cert,
            key_file=key,
            password=password,
            policy=policy,
            verify_hostname=verify_hostname,
            connect_timeout=url.connect_timeout or self.connect_timeout,
            pins=parse_pins(self.pin_sha256),
            allow_unix_socket=self.allow_unix_socket,
        )

    def read_password(self) -> SecretStr | None:
        if self.password is not None and self.password_file is not None:
            raise UsageError(
                "both DB_PASSWORD and DB_PASSWORD_FILE are set", "set only one of them"
            )
        if self.password_file is None:
            if self.password is not None:  # no refusal or log line may carry it
                register_secret(self.password.get_secret_value())
            return self.password
        try:
            text = read_regular_file(self.password_file).decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError(
                f"DB_PASSWORD_FILE {self.password_file} is not UTF-8 text",
                "point it at a file holding only the password",
            ) from None
        except OSError as exc:
            raise UsageError(
                f"cannot read DB_PASSWORD_FILE {self.password_file}: {exc.strerror}",
                "point it at a readable file holding only the password",
            ) from None
        register_secret(text.rstrip("\r\n"))
        return SecretStr(text.rstrip("\r\n"))

    def ca_hint(self, given: Path | None = None) -> Path | None:
        """The CA file that will be used, if any (for judging a requested sslmode)."""
        if given is not None or self.ca_path is not None:
            return given or self.ca_path
        return self.certs_dir / "ca.crt" if self.certs_dir is not None else None

    def client_files(
        self,
        user: str,
        *,
        ca: Path | None = None,
        cert: Path | None = None,
        key: Path | None = None,
    ) -> tuple[Path, Path | None, Path | None]:
        """CA, client certificate and key: given ones first, then DB_*_PATH, then DB_CERTS_DIR."""
        ca = ca or self.ca_path
        if cert is None and key is None:
            cert, key = self.cert_path, self.key_path
        if self.certs_dir is not None:
            ca = ca or self.certs_dir / "ca.crt"
            default_cert = self.certs_dir / f"client.{user}.crt"
            default_key = self.certs_dir / f"client.{user}.key"
            if cert is None and key is None and default_cert.exists():
                cert, key = default_cert, default_key
        if ca is None:
            raise InsecureConfigurationError(
                "VF103",
                "no CA certificate configured, so the server's certificate cannot be verified",
                "set DB_CA_PATH to the cluster's ca.crt (or DB_CERTS_DIR to the certs directory)",
            )
        if (cert is None) != (key is None):
            missing = "DB_KEY_PATH" if key is None else "DB_CERT_PATH"
            raise UsageError(
                "a client certificate needs both a certificate and a key", f"set {missing}"
            )
        return ca, cert, key


__all__ = ["DatabaseTLSSettings", "Target", "parse_hosts", "parse_pins"]
