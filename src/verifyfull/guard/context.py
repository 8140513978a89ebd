"""Build the one client SSLContext the guard hands to every driver that takes one.

The context is built by hand, not by `ssl.create_default_context`, which
would honour SSLKEYLOGFILE and write every session key to that file:
CERT_REQUIRED and host name checking, trusting only the cluster CA (read as
data through readfile.py, so a FIFO or hung mount cannot block), the
policy's TLS floor, the policy's cipher floor (the probe's VF204 list,
`policy.server_suite_weakness`), the client certificate; the result is
checked against the policy once more, so a context the guard returns can
never be weaker than the guard would accept from a user.

The context is a `GuardedContext`: every TLS object it makes (asyncio's
SSLObject for asyncpg, an SSLSocket for blocking use) runs the guard's
`Verifier` (protocol, cipher floor, pins) as soon as its handshake
completes, inside `do_handshake`. A refusal raises there, so the driver
never gets to send its StartupMessage: an impostor holding a certificate
from the same CA learns neither the user name nor the password.
"""

from __future__ import annotations

import ssl
from typing import Any

from cryptography import x509

from verifyfull.errors import InsecureConfigurationError
from verifyfull.guard.proof import TLSProof, Verifier
from verifyfull.guard.readfile import read_regular_file, require_regular_file
from verifyfull.guard.refuse import refuse_context
from verifyfull.guard.target import Target
from verifyfull.policy import floor_cipher_list


class HandshakeRefusedError(InsecureConfigurationError, ssl.SSLCertVerificationError):
    """The handshake completed but the guard refuses the server (policy, pin).

    An SSLCertVerificationError, so asyncio and the drivers treat it as the
    failed handshake it is (connection closed, nothing sent); an
    InsecureConfigurationError, so the guard reports its rule in one line.
    """

    def __init__(self, refusal: InsecureConfigurationError) -> None:
        InsecureConfigurationError.__init__(
            self, refusal.rule_id, refusal.problem.split(": ", 1)[-1], refusal.fix
        )
        self.problem = refusal.problem
        self._text = str(refusal)

    def __str__(self) -> str:
        return self._text


def _verify_after_handshake(tls: ssl.SSLObject | ssl.SSLSocket) -> None:
    context = tls.context
    verifier = getattr(context, "verifier", None)
    if verifier is None:
        return
    cipher = tls.cipher()
    host = tls.server_hostname or "the server"
    try:
        proof = verifier(
            host, tls.version(), cipher[0] if cipher else None, tls.getpeercert(binary_form=True)
        )
    except InsecureConfigurationError as exc:
        raise HandshakeRefusedError(exc) from None
    tls.guard_proof = proof  # type: ignore[union-attr]  # read by the adapter's proof step


class _GuardedSSLObject(ssl.SSLObject):
    """asyncio's TLS object (asyncpg): judged right after the handshake, before any data."""

    guard_proof: TLSProof | None = None

    def do_handshake(self) -> None:
        super().do_handshake()  # raises SSLWantReadError until the handshake is done
        _verify_after_handshake(self)


class _GuardedSSLSocket(ssl.SSLSocket):
    """A blocking TLS socket from the same context: the same check."""

    guard_proof: TLSProof | None = None

    def do_handshake(self, block: bool = False) -> None:
        super().do_handshake(block)
        _verify_after_handshake(self)


class GuardedContext(ssl.SSLContext):
    """An SSLContext whose TLS objects run `verifier` when their handshake completes."""

    verifier: Verifier | None = None
    sslobject_class = _GuardedSSLObject
    sslsocket_class = _GuardedSSLSocket

    def __new__(cls, *args: Any, **kwargs: Any) -> GuardedContext:
        return super().__new__(cls, ssl.PROTOCOL_TLS_CLIENT)


def handshake_proof(tls: object) -> TLSProof | None:
    """The proof the guard's context recorded on a TLS object during its handshake."""
    proof = getattr(tls, "guard_proof", None)
    return proof if isinstance(proof, TLSProof) else None


def client_context(target: Target) -> GuardedContext:
    """A verify-full (or opted-in verify-ca) client context with the client certificate."""
    ctx = GuardedContext()
    ctx.keylog_filename = None  # type: ignore[assignment]  # never, whatever SSLKEYLOGFILE says
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.check_hostname = target.verify_hostname
    cas = _load_ca(ctx, target)
    ctx.minimum_version = target.policy.min_tls_version
    ctx.set_ciphers(floor_cipher_list(s["name"] for s in ctx.get_ciphers()))
    if target.cert_file is not None and target.key_file is not None:
        load_client_cert(ctx, target)
    refuse_context(ctx, target.policy)
    ctx.verifier = Verifier(target.policy, target.pins, cas)
    return ctx


def _load_ca(ctx: ssl.SSLContext, target: Target) -> tuple[x509.Certificate, ...]:
    """Trust exactly the CA file's certificates; returned parsed, for CA pins."""
    try:
        pem = read_regular_file(target.ca_file)
    except FileNotFoundError:
        raise InsecureConfigurationError(
            "VF105",
            f"CA file {target.ca_file} not found",
            "set DB_CA_PATH to the cluster's ca.crt",
        ) from None
    except OSError as exc:
        raise InsecureConfigurationError(
            "VF105",
            f"CA file {target.ca_file} cannot be read ({_reason(exc)})",
            "point DB_CA_PATH at a PEM file holding the cluster CA certificate",
        ) from None
    try:
        ctx.load_verify_locations(cadata=pem.decode("ascii"))
        cas = tuple(x509.load_pem_x509_certificates(pem))
    except (ssl.SSLError, ValueError) as exc:
        raise InsecureConfigurationError(
            "VF105",
            f"CA file {target.ca_file} cannot be loaded ({_reason(exc)})",
            "point DB_CA_PATH at a PEM file holding the cluster CA certificate",
        ) from None
    return cas


def load_client_cert(ctx: ssl.SSLContext, target: Target) -> None:
    """Load (or reload) the client certificate and key into ctx; one-line errors."""
    assert target.cert_file is not None and target.key_file is not None
    try:
        require_regular_file(target.cert_file)
        require_regular_file(target.key_file)
        ctx.load_cert_chain(str(target.cert_file), str(target.key_file))
    except FileNotFoundError as exc:
        raise InsecureConfigurationError(
            "VF105",
            f"client certificate or key not found ({exc.filename or target.cert_file})",
            "set DB_CERT_PATH and DB_KEY_PATH to the client.<user>.crt and .key files",
        ) from None
    except ssl.SSLError as exc:
        if "KEY_VALUES_MISMATCH" in str(exc).upper() or "key values mismatch" in str(exc):
            raise InsecureConfigurationError(
                "VF105",
                f"client key {target.key_file} does not match certificate {target.cert_file}",
                "use the key the certificate was issued for",
            ) from None
        raise InsecureConfigurationError(
            "VF105",
            f"client certificate {target.cert_file} or key {target.key_file} cannot be loaded "
            f"({_reason(exc)})",
            "use PEM files in the cockroach layout (client.<user>.crt/.key, key unencrypted)",
        ) from None
    except OSError as exc:
        raise InsecureConfigurationError(
            "VF105",
            f"client certificate or key {exc.filename or ''} cannot be read ({exc.strerror})",
            "make DB_CERT_PATH and DB_KEY_PATH readable by the service user",
        ) from None


def _reason(exc: BaseException) -> str:
    # ssl.SSLError carries OpenSSL's reason code; never the file content.
    reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None)
    return str(reason) if reason else type(exc).__name__
