"""Start-up checks of the CA, client certificate and key files, before any connection.

The certificate verdicts (expiry VF303, key size VF304, signature hash VF305)
come from `verifyfull.certs.judge`, the one place they are made; this module
adds what only a client cares about: the key is private to the service user
(VF306) and belongs to the certificate. A certificate inside the policy's
expiry warning window is not refused: it comes back as a warning to log.
"""

from __future__ import annotations

import stat
from pathlib import Path

from verifyfull.certs.inspect import CertInfo, load_cert_infos, load_private_key_fingerprint
from verifyfull.certs.judge import judge_certificate, judge_key_mode
from verifyfull.errors import InsecureConfigurationError, VerifyfullError
from verifyfull.findings import Finding
from verifyfull.guard.target import Target


def check_files(target: Target, *, key_on_disk: Path | None = None) -> tuple[Finding, ...]:
    """Refuse unusable or weak files; return the warnings (expiring soon, tolerated key mode).

    key_on_disk: where the key's mode is judged when target.key_file is a copy.
    """
    warnings: list[Finding] = []
    for info in _certs(target.ca_file, "CA file", "DB_CA_PATH"):
        warnings.extend(_judge(info, target))
    if target.cert_file is None or target.key_file is None:
        return tuple(warnings)
    warnings.extend(check_key_private(key_on_disk or target.key_file))
    cert = _certs(target.cert_file, "client certificate", "DB_CERT_PATH")[0]
    try:
        key_spki, _, _ = load_private_key_fingerprint(target.key_file)
    except VerifyfullError as exc:
        raise InsecureConfigurationError(
            "VF105", exc.problem, "set DB_KEY_PATH to the client key"
        ) from None
    if key_spki != cert.spki_sha256:
        raise InsecureConfigurationError(
            "VF105",
            f"client key {target.key_file} does not match certificate {target.cert_file}",
            "use the key the certificate was issued for",
        )
    warnings.extend(_judge(cert, target))
    return tuple(warnings)


def _certs(path: Path, what: str, variable: str) -> tuple[CertInfo, ...]:
    if not path.is_file():
        raise InsecureConfigurationError("VF105", f"{what} {path} not found", f"check {variable}")
    try:
        infos = load_cert_infos(path)
    except VerifyfullError as exc:
        raise InsecureConfigurationError("VF105", exc.problem, f"check {variable}") from None
    if not infos:
        raise InsecureConfigurationError("VF105", f"{what} {path} is empty", f"check {variable}")
    return infos


def _judge(info: CertInfo, target: Target) -> list[Finding]:
    """Refuse the first finding the policy refuses; return the warnings."""
    warnings = []
    for found in judge_certificate(info, target.policy):
        if found.rule_id == "VF303" and found.severity_override is not None:
            warnings.append(found)  # inside the warning window, still valid
            continue
        raise InsecureConfigurationError(
            found.rule_id, f"{found.message} ({info.path})", _FIX.get(found.rule_id)
        )
    return warnings


_FIX = {
    "VF303": "issue a new certificate (verifyfull certs create-client / create-ca)",
    "VF304": "issue a new certificate with an RSA 2048+ or EC P-256+ key",
    "VF305": "issue a new certificate signed with SHA-256 or better",
}


def unreadable(path: Path, exc: OSError) -> InsecureConfigurationError:
    """VF105 for a TLS file that is missing or cannot be read (never its content)."""
    if isinstance(exc, FileNotFoundError):
        return InsecureConfigurationError(
            "VF105", f"{path} not found", "check DB_CA_PATH, DB_CERT_PATH and DB_KEY_PATH"
        )
    return InsecureConfigurationError(
        "VF105", f"cannot read {path} ({exc.strerror})", "make it readable by the service user"
    )


def check_key_private(key: Path) -> list[Finding]:
    """Refuse a key file open to group or others (VF306, judged by certs.judge).

    A root-owned key with group read only is what libpq and cockroach accept
    for a shared ssl-cert group: a warning, not a refusal.
    """
    try:
        st = key.stat()
    except OSError as exc:
        raise unreadable(key, exc) from None
    found = judge_key_mode(key, stat.S_IMODE(st.st_mode), st.st_uid)
    if found is None:
        return []
    if found.severity_override is not None:
        return [found]
    raise InsecureConfigurationError("VF306", found.message, found.fix)
