"""The policy: one frozen object, strict defaults, validated overrides."""

from __future__ import annotations

import dataclasses
import ssl

import pytest

from verifyfull.errors import UsageError
from verifyfull.policy import (
    DEFAULT_POLICY,
    Policy,
    TLSUse,
    parse_tls_version,
    server_suite_weakness,
    weak_cipher_reasons,
)


def test_defaults_are_strict() -> None:
    p = DEFAULT_POLICY
    assert p.accepted_sslmodes == ("verify-full",)
    assert p.min_tls_version == ssl.TLSVersion.TLSv1_2
    assert p.preferred_tls_version == ssl.TLSVersion.TLSv1_3
    assert p.expiry_warning_days == 30
    assert p.refuses("VF104")
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.min_rsa_bits = 1024  # type: ignore[misc]


@pytest.mark.parametrize(
    ("tls", "chain", "host", "explicit_off", "expected"),
    [
        (TLSUse.NEVER, False, False, True, "VF101"),
        (TLSUse.NEVER, False, False, False, "VF102"),
        (TLSUse.MAYBE, True, True, False, "VF102"),
        (TLSUse.ALWAYS, False, False, False, "VF103"),
        (TLSUse.ALWAYS, True, False, False, "VF104"),
        (TLSUse.ALWAYS, True, True, False, None),
    ],
)
def test_transport_rule(tls, chain, host, explicit_off, expected) -> None:
    assert DEFAULT_POLICY.transport_rule(tls, chain, host, explicit_off=explicit_off) == expected


def test_verify_ca_opt_in_is_still_reported_but_not_refused() -> None:
    p = DEFAULT_POLICY.with_overrides({"allow-verify-ca": True})
    assert p.accepted_sslmodes == ("verify-full", "verify-ca")
    assert p.transport_rule(TLSUse.ALWAYS, True, False, explicit_off=False) == "VF104"
    assert not p.refuses("VF104")
    assert p.refuses("VF103")


def test_overrides_validate_keys_and_values() -> None:
    p = DEFAULT_POLICY.with_overrides({"min_tls_version": "1.3", "expiry_warning_days": 14})
    assert p.min_tls_version == ssl.TLSVersion.TLSv1_3 and p.expiry_warning_days == 14
    with pytest.raises(UsageError, match="unknown policy setting 'min_tls'"):
        DEFAULT_POLICY.with_overrides({"min_tls": "1.2"})
    with pytest.raises(UsageError, match="below TLSv1.2"):
        DEFAULT_POLICY.with_overrides({"min_tls_version": "TLSv1.1"})
    with pytest.raises(UsageError, match="true or false"):
        DEFAULT_POLICY.with_overrides({"allow_verify_ca": "yes"})
    with pytest.raises(UsageError, match="unknown TLS version"):
        parse_tls_version("1.9")


def test_key_and_hash_floors() -> None:
    p = Policy()
    assert p.key_too_weak("rsa", 1024) and not p.key_too_weak("rsa", 2048)
    assert p.key_too_weak("ec", 192) and not p.key_too_weak("ec", 256)
    assert not p.key_too_weak("ed25519", 256)
    assert p.signature_hash_weak("SHA1") and p.signature_hash_weak("md5")
    assert not p.signature_hash_weak("sha256") and not p.signature_hash_weak(None)
    assert p.tls_version_too_low(ssl.TLSVersion.TLSv1_1)
    assert not p.tls_version_too_low(ssl.TLSVersion.TLSv1_3)


@pytest.mark.parametrize(
    ("cipher_string", "weak"),
    [
        ("ECDHE+AESGCM:ECDHE+CHACHA20", False),
        ("HIGH:!aNULL:!MD5:!3DES", False),
        ("ALL:RC4", True),
        ("NULL-SHA256", True),
        ("aNULL", True),
        ("DEFAULT:@SECLEVEL=0", True),
        ("DES-CBC3-SHA", True),
        ("EXPORT", True),
    ],
)
def test_weak_cipher_strings(cipher_string: str, weak: bool) -> None:
    assert bool(weak_cipher_reasons(cipher_string)) is weak


def test_server_suite_weakness_is_stricter() -> None:
    assert server_suite_weakness("ECDHE-RSA-AES128-GCM-SHA256") is None
    assert server_suite_weakness("TLS_AES_128_GCM_SHA256") is None
    assert "forward secrecy" in (server_suite_weakness("AES128-GCM-SHA256") or "")
    assert "CBC" in (server_suite_weakness("ECDHE-RSA-AES128-SHA") or "")


def test_cipher_string_with_nul_is_judged_not_raised() -> None:
    # ssl refuses embedded NULs with ValueError; the judgement must not crash on them.
    assert weak_cipher_reasons("HIGH\x00") == ()
    assert "RC4" in weak_cipher_reasons("HIGH\x00:RC4")
