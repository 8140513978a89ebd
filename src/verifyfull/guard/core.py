"""`Guard`: the resolved target, its current TLS material and the proofs, in one object.

Every driver adapter takes a Guard. Building one does all start-up checks
(settings, refusal, files, SSLContext), so an application that builds its
Guard at start-up refuses to start on an insecure configuration.
"""

from __future__ import annotations

import datetime as dt
import logging
import ssl
from typing import Any

from verifyfull.errors import InsecureConfigurationError, VerifyfullError
from verifyfull.guard.proof import ProofLog, TLSProof
from verifyfull.guard.rotation import DEFAULT_MIN_CHECK_INTERVAL, CertMaterial
from verifyfull.guard.settings import DatabaseTLSSettings
from verifyfull.guard.target import Target

log = logging.getLogger("verifyfull.guard")


class StaleMaterialError(VerifyfullError):
    """Certificates kept rotating while connecting: no connection from a current set."""

    def __init__(self) -> None:
        super().__init__(
            "certificates changed during every connection attempt",
            "check what rewrites the certificate files so often",
        )


class Guard:
    """One database target guarded by the policy; share it across an application."""

    def __init__(
        self, target: Target, *, min_check_interval: float = DEFAULT_MIN_CHECK_INTERVAL
    ) -> None:
        """min_check_interval: seconds between looks at the certificate files from the
        connect path (0: before every new connection); see rotation.py."""
        self.target = target
        self.material = CertMaterial(target, min_check_interval=min_check_interval)
        self.proofs = ProofLog()
        for warning in self.material.warnings:
            log.warning("%s: %s", warning.rule_id, warning.message)
        if not target.verify_hostname:
            log.warning("VF104: verify-ca is in use by opt-in; host names are not checked")
        for host in target.local_hosts:
            log.warning(
                "the link to %s is a local Unix socket, not TLS (DB_ALLOW_UNIX_SOCKET): "
                "the password crosses it unencrypted and the server is not verified",
                host,
            )

    @classmethod
    def from_env(
        cls,
        settings: DatabaseTLSSettings | None = None,
        *,
        min_check_interval: float | None = None,
    ) -> Guard:
        """Read DatabaseTLSSettings from the environment (unless given) and check everything.

        min_check_interval: as for Guard(); None takes DB_ROTATION_MIN_CHECK_SECONDS."""
        config = settings or DatabaseTLSSettings()
        interval = (
            config.rotation_min_check_seconds if min_check_interval is None else min_check_interval
        )
        return cls(config.resolve(), min_check_interval=interval)

    def ssl_context(self) -> ssl.SSLContext:
        """The current client context (rotations picked up)."""
        return self.material.context()

    def prove(
        self, host: str, protocol: str | None, cipher: str | None, server_cert_der: bytes | None
    ) -> TLSProof:
        """Judge one new connection's handshake; records it, or counts the refusal and raises.

        The adapters judge in the handshake (before the StartupMessage) and
        call `accept` with that proof; this is for a driver that gives no hook.
        """
        try:
            proof = self.material.verifier()(host, protocol, cipher, server_cert_der)
        except InsecureConfigurationError as exc:
            self.proofs.record_refusal(exc.rule_id)
            raise
        except Exception:
            self.proofs.record_refusal("unknown")
            raise
        self.proofs.record(proof)
        return proof

    def accept(self, proof: TLSProof) -> TLSProof:
        """Record a proof made during a connection's handshake."""
        self.proofs.record(proof)
        return proof

    def count_refusal(self, rule_id: str) -> None:
        """Count a server refused (in its handshake or by the driver's own TLS checks:
        nothing was sent to it), by the rule the refusal names."""
        self.proofs.record_refusal(rule_id)

    def accept_local(self, where: str) -> None:
        """A connection over an opted-in Unix socket: no TLS to prove, said so."""
        log.info("connection to %s is local (Unix socket), not TLS", where)
        self.proofs.record_local()

    def health(self) -> dict[str, Any]:
        """What /healthz/db reports: mode and TLS facts, never a secret or a key."""
        last = self.proofs.last
        material = self.material
        return {
            "mode": self.target.sslmode,
            "local_link": bool(self.target.local_hosts),  # Unix socket, opted in: no TLS
            "mtls": self.target.mtls,
            "tls_version": last.protocol if last else None,
            "cipher": last.cipher if last else None,
            "server_cert_sha256": last.server_cert_sha256 if last else None,
            "server_cert_days_left": last.days_left if last else None,
            "client_cert_days_left": _client_days_left(material),
            "connections_proven": self.proofs.proven,
            "connections_refused": self.proofs.refused,
            "refused_by_rule": dict(self.proofs.refused_by_rule),
            "last_rotation": _iso(material.last_rotation),
            "rotations": material.rotations,
            "rotation_error": material.last_error,
        }

    def close(self) -> None:
        self.material.close()


def _client_days_left(material: CertMaterial) -> int | None:
    from verifyfull.certs.inspect import load_cert_infos

    files = material.libpq_files()
    if files.cert is None:
        return None
    try:
        info = load_cert_infos(files.cert)[0]
    except Exception:
        return None
    return (info.not_after - dt.datetime.now(dt.timezone.utc)).days


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None
