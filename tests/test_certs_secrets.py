"""No private key material in any output of `verifyfull certs`.

Canary: every key the commands wrote is read back, and no line of its
base64 body (nor its DER, base64-encoded) may appear in stdout, stderr or the
JSON report - not on success, not for broken directories, not in errors.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def _run(*args: str) -> tuple[int, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "verifyfull", "certs", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return proc.returncode, proc.stdout + proc.stderr


def _canaries(key_file: Path) -> list[str]:
    """Fragments of a key that must never be printed (PEM body lines, or DER as base64)."""
    data = key_file.read_bytes()
    if data.startswith(b"-----BEGIN"):
        lines = [ln for ln in data.decode().splitlines() if ln and not ln.startswith("-----")]
    else:
        encoded = base64.b64encode(data).decode()
        lines = [encoded[i : i + 64] for i in range(0, len(encoded), 64)]
    return [ln[:40] for ln in lines if len(ln) >= 40]


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], list[Path]]:
    tmp_path = tmp_path_factory.mktemp("canary")
    certs, ca_key = tmp_path / "certs", tmp_path / "safe" / "ca.key"
    common = ["--certs-dir", str(certs)]
    runs = [
        _run("create-ca", *common, "--ca-key", str(ca_key)),
        _run("create-node", "localhost", *common, "--ca-key", str(ca_key)),
        _run("create-client", "app", *common, "--ca-key", str(ca_key), "--also-generate-pkcs8-key"),
        _run("create-client", "weak", *common, "--ca-key", str(ca_key), "--key-size", "1024"),
        # errors that name key files: reuse refused, mismatched CA key, CA key inside
        _run("create-ca", *common, "--ca-key", str(ca_key), "--overwrite"),
        _run("create-client", "x", *common, "--ca-key", str(certs / "node.key")),
        _run("create-ca", *common, "--ca-key", str(certs / "ca.key")),
    ]
    # a directory with every key problem: loose mode, CA key inside, swapped and broken keys
    os.chmod(certs / "client.app.key", 0o644)
    shutil.copy2(ca_key, certs / "ca.key")
    shutil.copy2(certs / "client.app.key", certs / "client.weak.key")
    broken = certs / "client.broken.key"
    body = (certs / "node.key").read_text().splitlines()
    broken.write_text("\n".join(body[:5] + body[7:]) + "\n")  # truncated: unreadable
    os.chmod(broken, 0o600)
    shutil.copy2(certs / "client.app.crt", certs / "client.broken.crt")
    runs.append(_run("list", str(certs)))
    runs.append(_run("list", str(certs), "--format", "json"))
    for fmt in ("text", "json", "sarif", "html"):
        runs.append(_run("check", str(certs), "--host", "localhost", "--format", fmt))
    keys = [ca_key, *sorted(certs.glob("*.key")), *sorted(certs.glob("*.pk8"))]
    return [out for _, out in runs], keys


def test_no_key_material_in_any_output(outputs: tuple[list[str], list[Path]]) -> None:
    texts, keys = outputs
    assert len(keys) >= 6
    canaries = [c for key in keys for c in _canaries(key)]
    assert len(canaries) > 50
    for text in texts:
        for canary in canaries:
            assert canary not in text


def test_the_outputs_are_the_ones_expected(outputs: tuple[list[str], list[Path]]) -> None:
    """Guard against a vacuous canary test: the runs really printed their results."""
    texts, _ = outputs
    assert "wrote" in texts[0] and "CA key" in texts[0]
    assert "key reuse is disabled" in texts[4]
    assert "does not match" in texts[5]
    text, as_json, sarif, html = texts[-4:]
    assert "VF306" in text and "VF105" in text and "no readable private key" in text
    assert '"rule": "VF306"' in as_json
    assert '"ruleId": "VF306"' in sarif
    assert "VF306" in html and "<html" in html.lower()
