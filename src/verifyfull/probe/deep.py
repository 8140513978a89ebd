"""--deep: every cipher suite of every version, enumerated by sslyze (an optional extra).

sslyze is run as its own program (it pins an older `cryptography` than
verifyfull, so it lives in its own environment): found on PATH or named by
VERIFYFULL_SSLYZE. Its JSON is read back and each accepted suite judged by
the same policy as the default checks; what the default checks could not
offer (suites this OpenSSL lacks, such as 3DES or RC4) becomes VF204 here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verifyfull.errors import UsageError
from verifyfull.policy import server_suite_weakness
from verifyfull.wire.net import Deadline

SSLYZE_ENV = "VERIFYFULL_SSLYZE"
# sslyze JSON key, version name, sslyze command-line flag
_VERSIONS = (
    ("ssl_2_0_cipher_suites", "SSLv2", "--sslv2"),
    ("ssl_3_0_cipher_suites", "SSLv3", "--sslv3"),
    ("tls_1_0_cipher_suites", "TLSv1", "--tlsv1"),
    ("tls_1_1_cipher_suites", "TLSv1.1", "--tlsv1_1"),
    ("tls_1_2_cipher_suites", "TLSv1.2", "--tlsv1_2"),
    ("tls_1_3_cipher_suites", "TLSv1.3", "--tlsv1_3"),
)


def find_sslyze() -> str:
    """The sslyze program, or a UsageError saying how to get it."""
    named = os.environ.get(SSLYZE_ENV)
    if named:
        if not Path(named).is_file():
            raise UsageError(
                f"{SSLYZE_ENV}={named} is not a file", "point it at the sslyze program"
            )
        return named
    found = shutil.which("sslyze")
    if found is None:
        raise UsageError(
            "--deep needs sslyze, which is not installed",
            f"pip install sslyze in its own virtualenv and put it on PATH or set {SSLYZE_ENV}",
        )
    return found


@dataclass(frozen=True)
class DeepResult:
    suites: dict[str, tuple[str, ...]]  # version -> accepted suites (OpenSSL names)
    error: str = ""

    def weak(self) -> list[tuple[str, str, str]]:
        """(version, suite, why) for every accepted suite the policy calls weak."""
        found = []
        for version, names in self.suites.items():
            for name in names:
                why = server_suite_weakness(name)
                if why:
                    found.append((version, name, why))
        return found


def enumerate_suites(
    sslyze: str, host: str, port: int, *, starttls_postgres: bool, deadline: Deadline
) -> DeepResult:
    """Run sslyze in what is left of the target's deadline (killed when it passes)."""
    left = deadline.remaining()
    if left <= 0:
        return DeepResult({}, str(deadline.timed_out("no time left for sslyze")))
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    with tempfile.TemporaryDirectory(prefix="verifyfull-deep-") as tmp:
        out = Path(tmp) / "sslyze.json"
        argv = [sslyze, "--json_out", str(out)]
        if starttls_postgres:
            argv += ["--starttls", "postgres"]
        argv += [flag for _, _, flag in _VERSIONS]
        argv.append(address)
        try:
            subprocess.run(argv, capture_output=True, timeout=left, check=False)  # noqa: S603
        except subprocess.TimeoutExpired:
            message = f"sslyze did not finish within the {deadline.seconds:g} s of --timeout"
            return DeepResult({}, str(deadline.timed_out(message)))
        except OSError as exc:
            return DeepResult({}, f"cannot run sslyze: {exc.strerror}")
        try:
            data = json.loads(out.read_text())
        except (OSError, ValueError):
            return DeepResult({}, "sslyze wrote no readable JSON")
    return parse_sslyze_json(data)


def parse_sslyze_json(data: dict[str, Any]) -> DeepResult:
    try:
        server = data["server_scan_results"][0]
        result = server["scan_result"]
        if not result:
            trace = str(server.get("connectivity_error_trace") or "")
            return DeepResult({}, "sslyze could not connect: " + trace.strip()[-200:])
        suites: dict[str, tuple[str, ...]] = {}
        for key, version, _ in _VERSIONS:
            attempt = result.get(key) or {}
            accepted = (attempt.get("result") or {}).get("accepted_cipher_suites") or []
            names = tuple(s["cipher_suite"]["openssl_name"] for s in accepted)
            if names:
                suites[version] = names
        return DeepResult(suites)
    except (KeyError, IndexError, TypeError):
        return DeepResult({}, "sslyze JSON has an unexpected shape")
