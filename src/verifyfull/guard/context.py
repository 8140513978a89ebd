"""Build the one client SSLContext the guard hands to every driver that takes one.

`ssl.create_default_context(cafile=ca)` gives CERT_REQUIRED and host name
checking and trusts only the cluster CA (no system roots when a CA file is
given); the policy's TLS floor is applied on top, the client certificate
loaded, and the result checked against the policy once more, so a context the
guard returns can never be weaker than the guard would accept from a user.
"""

from __future__ import annotations

import ssl

from verifyfull.errors import InsecureConfigurationError
from verifyfull.guard.refuse import refuse_context
from verifyfull.guard.settings import Target


def client_context(target: Target) -> ssl.SSLContext:
    """A verify-full (or opted-in verify-ca) client context with the client certificate."""
    try:
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(target.ca_file))
    except FileNotFoundError:
        raise InsecureConfigurationError(
            "VF105",
            f"CA file {target.ca_file} not found",
            "set DB_CA_PATH to the cluster's ca.crt",
        ) from None
    except (ssl.SSLError, OSError) as exc:
        raise InsecureConfigurationError(
            "VF105",
            f"CA file {target.ca_file} cannot be loaded ({_reason(exc)})",
            "point DB_CA_PATH at a PEM file holding the cluster CA certificate",
        ) from None
    ctx.minimum_version = target.policy.min_tls_version
    ctx.check_hostname = target.verify_hostname
    if target.cert_file is not None and target.key_file is not None:
        load_client_cert(ctx, target)
    refuse_context(ctx, target.policy)
    return ctx


def load_client_cert(ctx: ssl.SSLContext, target: Target) -> None:
    """Load (or reload) the client certificate and key into ctx; one-line errors."""
    assert target.cert_file is not None and target.key_file is not None
    try:
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
            f"client certificate or key cannot be read ({exc.strerror})",
            "make DB_CERT_PATH and DB_KEY_PATH readable by the service user",
        ) from None


def _reason(exc: BaseException) -> str:
    # ssl.SSLError carries OpenSSL's reason code; never the file content.
    reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None)
    return str(reason) if reason else type(exc).__name__
