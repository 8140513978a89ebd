"""The TLS policy: what verifyfull accepts, in one frozen object.

The guard refuses, the scanner flags and the probe reports against the same
Policy. Defaults are the strict ones (verify-full only, TLS 1.2 floor); a
project may override them in `[tool.verifyfull.policy]`, and every override
is validated here.
"""

from __future__ import annotations

import enum
import re
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from typing import Any

from verifyfull.errors import UsageError


class TLSUse(str, enum.Enum):
    """Whether a connection will be encrypted, as the driver will really behave."""

    NEVER = "never"  # plaintext always
    MAYBE = "maybe"  # TLS if the server (or an attacker) agrees: fallback possible
    ALWAYS = "always"  # TLS or no connection


SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


def sslmode_suggestion(text: str) -> str:
    """' (did you mean verify-full?)' for a near miss of an sslmode (verify_full,
    VERIFY-FULL, verifyfull, verify-fll), else ''. Spelling, case and separators
    are normalised first; what remains is matched by similarity (difflib)."""
    import difflib  # only on the error path

    folded = text.strip().lower().replace("_", "-").replace(" ", "-")
    squashed = {mode.replace("-", ""): mode for mode in SSLMODES}
    if folded in SSLMODES:
        match: str | None = folded
    elif folded.replace("-", "") in squashed:
        match = squashed[folded.replace("-", "")]
    else:
        close = difflib.get_close_matches(folded, SSLMODES, n=1, cutoff=0.75)
        match = close[0] if close else None
    return f" (did you mean {match}?)" if match and match != text else ""


TLS_VERSIONS: dict[str, ssl.TLSVersion] = {
    "TLSv1": ssl.TLSVersion.TLSv1,
    "TLSv1.1": ssl.TLSVersion.TLSv1_1,
    "TLSv1.2": ssl.TLSVersion.TLSv1_2,
    "TLSv1.3": ssl.TLSVersion.TLSv1_3,
}


def parse_tls_version(text: str) -> ssl.TLSVersion:
    """Accept 'TLSv1.2', '1.2', 'tls1.2' or 'TLSv1_2'."""
    norm = text.strip().replace("_", ".").lower().removeprefix("tlsv").removeprefix("tls")
    for name, version in TLS_VERSIONS.items():
        if name.lower().removeprefix("tlsv") == norm:
            return version
    raise UsageError(f"unknown TLS version {text!r}", f"use one of {', '.join(TLS_VERSIONS)}")


def tls_version_name(version: ssl.TLSVersion) -> str:
    for name, known in TLS_VERSIONS.items():
        if known == version:
            return name
    return version.name


# Cipher-suite name fragments (OpenSSL names) that make a suite weak, and why.
_WEAK_SUITE_MARKERS: tuple[tuple[str, str], ...] = (
    ("NULL", "no encryption"),
    ("EXP", "export-grade key"),
    ("RC4", "RC4 stream cipher"),
    ("DES-CBC3", "3DES (Sweet32)"),
    ("3DES", "3DES (Sweet32)"),
    ("DES-CBC-", "single DES"),
    ("IDEA", "IDEA"),
    ("SEED", "SEED"),
    ("MD5", "MD5 MAC"),
    ("ADH", "anonymous key exchange"),
    ("AECDH", "anonymous key exchange"),
)
# PSK and SRP suites are left alone: OpenSSL offers them only when the
# application installs a PSK/SRP callback, which no database driver does.

# Tokens in an OpenSSL cipher string that switch weak suites on, when not
# negated with '!' or '-'. Needed besides expanding the string locally: this
# machine's OpenSSL may lack RC4 or EXPORT, the target machine's may not.
_WEAK_CIPHER_TOKENS = {
    "NULL": "NULL suites",
    "ENULL": "NULL encryption",
    "ANULL": "anonymous suites",
    "EXPORT": "export-grade suites",
    "EXP": "export-grade suites",
    "RC4": "RC4",
    "3DES": "3DES",
    "DES": "DES",
    "MD5": "MD5 MAC",
    "ADH": "anonymous suites",
    "AECDH": "anonymous suites",
    "COMPLEMENTOFALL": "every suite, NULL included",
    "COMPLEMENTOFDEFAULT": "suites OpenSSL disables by default",
    "LOW": "low-strength suites",
}


def suite_weakness(name: str) -> str | None:
    """Why an OpenSSL suite name is weak for client use, or None."""
    upper = name.upper()
    if upper.startswith("TLS_"):  # TLS 1.3 suites are all AEAD with forward secrecy
        return None
    for marker, reason in _WEAK_SUITE_MARKERS:
        if marker in upper:
            return reason
    return None


def server_suite_weakness(name: str) -> str | None:
    """The cipher floor: why a negotiated suite is weak (VF204), or None.

    One source of truth for the probe (a server that offers the suite is
    VF204) and the guard (its contexts never offer the suite, and a
    connection that negotiates one anyway is refused before anything is
    sent): besides `suite_weakness`, no forward secrecy and CBC without AEAD.
    """
    reason = suite_weakness(name)
    if reason:
        return reason
    upper = name.upper()
    if upper.startswith("TLS_"):
        return None
    if not (upper.startswith("ECDHE-") or upper.startswith("DHE-")):
        return "no forward secrecy (RSA key exchange)"
    if "GCM" not in upper and "CHACHA20" not in upper and "CCM" not in upper:
        return "CBC mode without AEAD"
    return None


def floor_cipher_list(suite_names: Iterable[str]) -> str:
    """An OpenSSL cipher list of the TLS 1.2 suites among suite_names that meet the floor.

    TLS 1.3 suites are not part of a cipher list (OpenSSL sets them apart)
    and all meet the floor.
    """
    kept = [
        name
        for name in suite_names
        if not name.upper().startswith("TLS_") and server_suite_weakness(name) is None
    ]
    return ":".join(dict.fromkeys(kept))


@lru_cache(maxsize=256)
def weak_cipher_reasons(cipher_string: str) -> tuple[str, ...]:
    """Reasons an OpenSSL cipher string admits weak suites (empty when it does not).

    Two views, both needed: the tokens the string switches on (portable), and
    the suites this machine's OpenSSL expands it to at security level 0.
    """
    reasons: list[str] = []
    for raw in re.split(r"[:, ]+", cipher_string):
        token = raw.strip()
        if not token or token[0] in "!-":
            continue
        token = token.lstrip("+")
        if token.upper().startswith("@SECLEVEL=0"):
            reasons.append("@SECLEVEL=0 lifts OpenSSL's floor")
            continue
        for part in token.split("+"):
            why = _WEAK_CIPHER_TOKENS.get(part.upper())
            if why and why not in reasons:
                reasons.append(why)
        # A suite named outright (DES-CBC3-SHA) that this OpenSSL may not have.
        named = suite_weakness(token) if "-" in token else None
        if named and named not in reasons:
            reasons.append(named)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        ctx.set_ciphers(cipher_string + ":@SECLEVEL=0")
    except (ssl.SSLError, ValueError):  # ValueError: an embedded NUL (found by fuzzing)
        return tuple(reasons)
    for suite in ctx.get_ciphers():
        why = suite_weakness(suite["name"])
        if why and why not in reasons:
            reasons.append(why)
    return tuple(reasons)


@dataclass(frozen=True)
class Policy:
    """Rules of acceptance. Frozen; use `with_overrides` to derive a variant."""

    allow_verify_ca: bool = False  # verify-ca only by explicit opt-in (still reported VF104)
    require_client_cert: bool = False  # mTLS: the probe reports VF205 when not enforced
    min_tls_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2
    preferred_tls_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_3
    min_rsa_bits: int = 2048
    min_ec_bits: int = 224
    weak_signature_hashes: frozenset[str] = frozenset({"md5", "sha1"})
    expiry_warning_days: int = 30
    hsts_min_age_seconds: int = 180 * 24 * 3600

    @property
    def accepted_sslmodes(self) -> tuple[str, ...]:
        return ("verify-full", "verify-ca") if self.allow_verify_ca else ("verify-full",)

    def transport_rule(
        self, tls: TLSUse, verifies_chain: bool, verifies_hostname: bool, *, explicit_off: bool
    ) -> str | None:
        """The one rule an effective transport breaks (None when verify-full).

        explicit_off separates a deliberate disable (VF101) from plaintext that
        the driver reaches by default or fallback (VF102).
        """
        if tls is TLSUse.NEVER:
            return "VF101" if explicit_off else "VF102"
        if tls is TLSUse.MAYBE:
            return "VF102"
        if not verifies_chain:
            return "VF103"
        if not verifies_hostname:
            return "VF104"
        return None

    def refuses(self, rule_id: str) -> bool:
        """Whether the guard must refuse a connection that raises this rule."""
        return not (rule_id == "VF104" and self.allow_verify_ca)

    def tls_version_too_low(self, version: ssl.TLSVersion) -> bool:
        return _version_rank(version) < _version_rank(self.min_tls_version)

    def key_too_weak(self, algorithm: str, bits: int) -> bool:
        algo = algorithm.lower()
        if algo in ("rsa", "dsa", "dh"):
            return bits < self.min_rsa_bits
        if algo in ("ec", "ecdsa"):
            return bits < self.min_ec_bits
        return False  # Ed25519/Ed448 have fixed, adequate strength

    def signature_hash_weak(self, hash_name: str | None) -> bool:
        return hash_name is not None and hash_name.lower() in self.weak_signature_hashes

    def with_overrides(self, overrides: Mapping[str, Any]) -> Policy:
        """A copy with config values applied; unknown keys or bad values are refused."""
        known = {f.name: f for f in fields(self)}
        changes: dict[str, Any] = {}
        for key, value in overrides.items():
            name = key.replace("-", "_")
            if name not in known:
                raise UsageError(
                    f"unknown policy setting {key!r}",
                    f"use one of {', '.join(sorted(known))}",
                )
            changes[name] = _coerce(name, value, getattr(self, name))
        new = replace(self, **changes)
        if _version_rank(new.min_tls_version) < _version_rank(ssl.TLSVersion.TLSv1_2):
            raise UsageError(
                "policy min_tls_version below TLSv1.2 is not allowed",
                "set min_tls_version to TLSv1.2 or TLSv1.3",
            )
        return new


def _version_rank(version: ssl.TLSVersion) -> int:
    order = list(TLS_VERSIONS.values())
    return order.index(version) if version in order else -1


def _coerce(name: str, value: Any, current: Any) -> Any:
    if isinstance(current, bool):
        if isinstance(value, bool):
            return value
        raise UsageError(f"policy {name} must be true or false, not {value!r}")
    if isinstance(current, ssl.TLSVersion):
        return parse_tls_version(str(value))
    if isinstance(current, int):
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        raise UsageError(f"policy {name} must be a non-negative integer, not {value!r}")
    if isinstance(current, frozenset):
        if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            return frozenset(v.lower() for v in value)
        raise UsageError(f"policy {name} must be a list of names, not {value!r}")
    raise UsageError(f"policy {name} cannot be overridden")


DEFAULT_POLICY = Policy()
