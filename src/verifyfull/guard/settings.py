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

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from verifyfull.errors import InsecureConfigurationError, UsageError
from verifyfull.guard.refuse import refuse_sslmode
from verifyfull.policy import DEFAULT_POLICY, Policy
from verifyfull.scrub import register_secret

DEFAULT_PORT = 26257  # CockroachDB's SQL port; PostgreSQL users set DB_PORT=5432


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

    @property
    def sslmode(self) -> str:
        return "verify-full" if self.verify_hostname else "verify-ca"

    @property
    def mtls(self) -> bool:
        return self.cert_file is not None

    def describe(self) -> str:
        """A redacted libpq-style URL, safe to log: never the password."""
        hosts = ",".join(f"{_bracket(h)}:{p}" for h, p in self.hosts)
        secret = ":***" if self.password is not None else ""
        return f"postgresql://{self.user}{secret}@{hosts}/{self.database}?sslmode={self.sslmode}"


def _one_line(exc: ValidationError, prefix: str) -> str:
    problems = []
    for error in exc.errors(include_input=False, include_url=False):
        field = str(error["loc"][0]) if error["loc"] else "?"
        variable = "DATABASE_URL" if field == "url" else f"{prefix}{field.upper()}"
        problems.append(f"{variable}: {error['msg'].rstrip('.').lower()}")
    return "invalid database settings: " + "; ".join(problems) + "; fix those variables"


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


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

    def policy(self) -> Policy:
        overrides: dict[str, object] = {"allow_verify_ca": self.allow_verify_ca}
        overrides["min_tls_version"] = self.min_tls_version
        return DEFAULT_POLICY.with_overrides(overrides)

    def resolve(self) -> Target:
        """Validate and combine the settings; refuse anything weaker than the policy."""
        policy = self.policy()
        if self.url is not None:
            from verifyfull.guard.url import target_from_url

            return target_from_url(self.url.get_secret_value(), self, policy)
        verify_hostname = refuse_sslmode(self.sslmode, policy, self.ca_hint())
        ca, cert, key = self.client_files(self.user)
        return Target(
            hosts=parse_hosts(self.host, self.port),
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
            text = self.password_file.read_text(encoding="utf-8")
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
        elif item.count(":") == 1:
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


__all__ = ["DatabaseTLSSettings", "Target", "parse_hosts", "parse_pins"]
