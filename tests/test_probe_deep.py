"""--deep: sslyze's enumeration read back and judged by the policy."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from verifyfull.errors import UsageError
from verifyfull.probe import deep


def _suites(*names: str) -> dict[str, object]:
    return {
        "result": {"accepted_cipher_suites": [{"cipher_suite": {"openssl_name": n}} for n in names]}
    }


def test_sslyze_json_is_read_and_weak_suites_judged() -> None:
    data = {
        "server_scan_results": [
            {
                "scan_result": {
                    "tls_1_0_cipher_suites": _suites("ECDHE-RSA-AES128-SHA"),
                    "tls_1_2_cipher_suites": _suites(
                        "ECDHE-RSA-AES128-GCM-SHA256", "DES-CBC3-SHA", "AES128-GCM-SHA256"
                    ),
                    "tls_1_3_cipher_suites": _suites("TLS_AES_128_GCM_SHA256"),
                    "ssl_3_0_cipher_suites": _suites(),
                }
            }
        ]
    }
    result = deep.parse_sslyze_json(data)
    assert result.error == ""
    assert list(result.suites) == ["TLSv1", "TLSv1.2", "TLSv1.3"]
    assert result.weak() == [
        ("TLSv1", "ECDHE-RSA-AES128-SHA", "CBC mode without AEAD"),
        ("TLSv1.2", "DES-CBC3-SHA", "3DES (Sweet32)"),
        ("TLSv1.2", "AES128-GCM-SHA256", "no forward secrecy (RSA key exchange)"),
    ]


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (
            {"server_scan_results": [{"scan_result": None, "connectivity_error_trace": "refused"}]},
            "could not connect: refused",
        ),
        ({"server_scan_results": []}, "unexpected shape"),
    ],
)
def test_sslyze_failures_are_error_lines(data: dict[str, object], error: str) -> None:
    assert error in deep.parse_sslyze_json(data).error


def test_missing_sslyze_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(deep.SSLYZE_ENV, raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(UsageError, match="pip install sslyze in its own virtualenv"):
        deep.find_sslyze()
    monkeypatch.setenv(deep.SSLYZE_ENV, "/nonexistent/sslyze")
    with pytest.raises(UsageError, match="is not a file"):
        deep.find_sslyze()


def _sslyze() -> str | None:
    named = os.environ.get(deep.SSLYZE_ENV)
    return named if named and Path(named).is_file() else shutil.which("sslyze")


@pytest.mark.pg
@pytest.mark.skipif(_sslyze() is None, reason="sslyze (optional extra) is not installed")
def test_deep_finds_weak_suites_on_the_weak_ciphers_variant(lab) -> None:  # type: ignore[no-untyped-def]
    from verifyfull.probe.runner import ProbeSettings, run
    from verifyfull.probe.targets import parse_target

    server = lab("weak-ciphers")
    settings = ProbeSettings(ca=server.certs_dir / "ca.crt", sslyze=_sslyze())
    (endpoint,) = run([parse_target(f"{server.hostname}:{server.port}")], settings).endpoints
    listed = str(endpoint.fact("sslyze TLSv1.2"))
    assert "AES128-SHA" in listed  # a CBC / RSA key-exchange suite the variant enables
    assert {f.rule_id for f in endpoint.findings} == {"VF204"}
    assert endpoint.errors == ()
