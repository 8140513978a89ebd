"""`verifyfull certs create-ca | create-node | create-client | check` end to end.

Happy paths run in-process through typer's CliRunner; error paths run the
real console entry (`python -m verifyfull`) to see the one-line message and
exit status 2 a user sees. OpenSSL checks the created chains.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
from cryptography.hazmat.primitives import serialization
from typer.testing import CliRunner

from verifyfull.certs.inspect import load_cert_infos, spki_fingerprint
from verifyfull.cli import app, main

runner = CliRunner()
Fails = Callable[..., str]


def _ok(*args: str) -> str:
    result = runner.invoke(app, ["certs", *args])
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def _fails_in_subprocess(*args: str) -> str:
    """Run the installed entry point; it must exit 2 with exactly one line on stderr."""
    proc = subprocess.run(
        [sys.executable, "-m", "verifyfull", "certs", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


@pytest.fixture
def fails(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Fails:
    """Run the real `main()` in-process (faster than a subprocess, same code path)."""

    def run(*args: str) -> str:
        monkeypatch.setattr(sys, "argv", ["verifyfull", "certs", *args])
        capsys.readouterr()
        with pytest.raises(SystemExit) as stopped:
            main()
        out, err = capsys.readouterr()
        assert stopped.value.code == 2, (out, err)
        assert "Traceback" not in err
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        return lines[0]

    return run


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(autouse=True)
def _outside_any_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from a directory without pyproject.toml: the default policy applies."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("made")
    certs, ca_key = root / "certs", root / "safe" / "ca.key"
    _ok("create-ca", "--certs-dir", str(certs), "--ca-key", str(ca_key))
    _ok("create-node", "localhost", "127.0.0.1", "--certs-dir", str(certs), "--ca-key", str(ca_key))
    _ok("create-client", "app", "--certs-dir", str(certs), "--ca-key", str(ca_key))
    return certs, ca_key


@pytest.fixture
def made(template: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    """A fresh copy of a directory the CLI created (copytree keeps the modes)."""
    certs, safe = tmp_path / "certs", tmp_path / "safe"
    shutil.copytree(template[0], certs)
    shutil.copytree(template[1].parent, safe)
    return certs, safe / "ca.key"


def test_layout_modes_and_ca_key_outside(made: tuple[Path, Path]) -> None:
    certs, ca_key = made
    assert sorted(p.name for p in certs.iterdir()) == [
        "ca.crt",
        "client.app.crt",
        "client.app.key",
        "node.crt",
        "node.key",
    ]
    assert ca_key.parent != certs and _mode(ca_key) == 0o600
    for key in ("node.key", "client.app.key"):
        assert _mode(certs / key) == 0o600
    for crt in ("ca.crt", "node.crt", "client.app.crt"):
        assert _mode(certs / crt) == 0o644
    node = load_cert_infos(certs / "node.crt")[0]
    assert (node.dns_names, node.ip_addresses) == (("localhost",), ("127.0.0.1",))
    assert node.allows_usage("serverAuth") and node.allows_usage("clientAuth")
    client = load_cert_infos(certs / "client.app.crt")[0]
    assert client.subject_cn == "app"
    assert not client.allows_usage("serverAuth")


def test_output_names_paths_sans_validity_and_fingerprint(tmp_path: Path) -> None:
    certs, ca_key = tmp_path / "certs", tmp_path / "ca.key"
    out = _ok("create-ca", "--certs-dir", str(certs), "--ca-key", str(ca_key))
    ca = load_cert_infos(certs / "ca.crt")[0]
    assert f"wrote {certs / 'ca.crt'}" in out
    assert ca.fingerprint_sha256 in out
    assert "lifetime  87840h" in out  # cockroach's default: 10 x 366 days
    assert f"{ca_key} (mode 0600)" in out
    out = _ok(
        "create-node", "db.internal", "10.0.0.5", "--certs-dir", str(certs),
        "--ca-key", str(ca_key), "--lifetime", "2160h",
    )  # fmt: skip
    assert "SAN       DNS:db.internal, IP:10.0.0.5" in out
    assert "lifetime  2160h" in out


def test_openssl_accepts_the_chain_for_its_purposes(made: tuple[Path, Path]) -> None:
    certs, _ = made
    ca = str(certs / "ca.crt")
    for crt, extra in (
        ("node.crt", ["-purpose", "sslserver", "-verify_hostname", "localhost"]),
        ("node.crt", ["-purpose", "sslserver", "-verify_ip", "127.0.0.1"]),
        ("client.app.crt", ["-purpose", "sslclient"]),
    ):
        proc = subprocess.run(
            ["openssl", "verify", "-x509_strict", "-CAfile", ca, *extra, str(certs / crt)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert proc.returncode == 0 and proc.stdout.strip().endswith(": OK"), proc.stdout


def test_openssl_refuses_a_host_the_node_cert_does_not_name(made: tuple[Path, Path]) -> None:
    certs, _ = made
    proc = subprocess.run(
        ["openssl", "verify", "-CAfile", str(certs / "ca.crt"),
         "-verify_hostname", "db.internal", str(certs / "node.crt")],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert proc.returncode != 0


@pytest.mark.parametrize(
    ("args", "kind", "bits"),
    [
        (["--key-type", "ec", "--key-size", "384"], "ec", 384),
        (["--key-type", "ed25519"], "ed25519", 256),
    ],
)
def test_key_types(made: tuple[Path, Path], args: list[str], kind: str, bits: int) -> None:
    certs, ca_key = made
    _ok("create-client", "app", "--certs-dir", str(certs), "--ca-key", str(ca_key),
        "--overwrite", *args)  # fmt: skip
    info = load_cert_infos(certs / "client.app.crt")[0]
    assert (info.key_type, info.key_bits) == (kind, bits)


def test_pkcs8_der_key_is_the_same_key(made: tuple[Path, Path]) -> None:
    certs, ca_key = made
    _ok("create-client", "java", "--certs-dir", str(certs), "--ca-key", str(ca_key),
        "--also-generate-pkcs8-key")  # fmt: skip
    der = certs / "client.java.key.pk8"
    assert _mode(der) == 0o600
    key = serialization.load_der_private_key(der.read_bytes(), password=None)
    info = load_cert_infos(certs / "client.java.crt")[0]
    assert spki_fingerprint(key.public_key()) == info.spki_sha256


def test_ca_key_reuse_and_rotation_follow_cockroach(made: tuple[Path, Path], fails: Fails) -> None:
    certs, ca_key = made
    line = fails("create-ca", "--certs-dir", str(certs), "--ca-key", str(ca_key), "--overwrite")
    assert "exists, but key reuse is disabled" in line
    old = load_cert_infos(certs / "ca.crt")[0]
    _ok("create-ca", "--certs-dir", str(certs), "--ca-key", str(ca_key),
        "--overwrite", "--allow-ca-key-reuse")  # fmt: skip
    bundle = load_cert_infos(certs / "ca.crt")
    assert len(bundle) == 2
    assert bundle[1].fingerprint_sha256 == old.fingerprint_sha256  # old one kept, after
    assert bundle[0].spki_sha256 == old.spki_sha256  # same key reused
    assert bundle[0].fingerprint_sha256 != old.fingerprint_sha256


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["create-ca", "--ca-key", "{certs}/ca.key"], "inside the certs directory"),
        (["create-ca", "--ca-key", "{ca_key}"], "already exists; pass --overwrite"),
        (["create-node", "x", "--ca-key", "{ca_key}", "--key-type", "dsa"], "unknown key type"),
        (["create-node", "x", "--ca-key", "{ca_key}", "--lifetime", "10d"], "invalid duration"),
        (["create-node", "x", "--ca-key", "{ca_key}", "--hash", "sha3", "--overwrite"],
         "unknown signature hash"),
        (["create-node", "x", "--ca-key", "{ca_key}", "--lifetime", "200000h", "--overwrite"],
         "the CA certificate expires on"),
        (["create-node", "x", "--ca-key", "{ca_key}", "--self-signed"], "exclude each other"),
        (["create-node", "x"], "--ca-key is required"),
        (["create-node", "x", "--ca-key", "{ca_key}"], "node.crt already exists"),
        (["create-client", "../x", "--ca-key", "{ca_key}"], "invalid SQL user name"),
        (["create-client", "x", "--ca-key", "{certs}/node.key"], "does not match"),
        (["create-client", "x", "--ca-key", "{ca_key}", "--expired", "--lifetime", "1h"],
         "exclude each other"),
        (["create-client", "x", "--ca-key", "{ca_key}", "--key-size", "512"], "too small"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_exit_2(
    made: tuple[Path, Path], fails: Fails, args: list[str], expected: str
) -> None:
    certs, ca_key = made
    filled = [a.format(certs=certs, ca_key=ca_key) for a in args]
    line = fails(*filled, "--certs-dir", str(certs))
    assert line.startswith("verifyfull: error: ")
    assert expected in line


def test_deliberately_bad_options_make_what_check_reports(made: tuple[Path, Path]) -> None:
    certs, ca_key = made
    common = ["--certs-dir", str(certs), "--ca-key", str(ca_key), "--overwrite"]
    _ok("create-node", "localhost", *common, "--expired", "--hash", "sha1", "--key-size", "1024")
    result = runner.invoke(app, ["certs", "check", str(certs), "--format", "json"])
    assert result.exit_code == 1
    rules = sorted(f["rule"] for f in json.loads(result.output)["findings"])
    assert rules == ["VF303", "VF304", "VF305"]
    _ok("create-node", "localhost", "--certs-dir", str(certs), "--self-signed", "--overwrite")
    result = runner.invoke(app, ["certs", "check", str(certs), "--format", "json"])
    assert [f["rule"] for f in json.loads(result.output)["findings"]] == ["VF301"]


def test_check_json_contract_and_exit_codes(made: tuple[Path, Path]) -> None:
    certs, _ = made
    clean = runner.invoke(app, ["certs", "check", str(certs), "--host", "localhost",
                                "--format", "json"])  # fmt: skip
    assert clean.exit_code == 0
    doc = json.loads(clean.output)
    assert set(doc) == {"tool", "version", "findings", "errors", "summary"}
    assert doc["tool"] == "verifyfull" and doc["findings"] == [] and doc["errors"] == []
    assert doc["summary"] == {"files": 5, "findings": 0, "by_severity": {}}

    dirty = runner.invoke(app, ["certs", "check", str(certs), "--host", "db.internal",
                                "--format", "json"])  # fmt: skip
    assert dirty.exit_code == 1
    (item,) = json.loads(dirty.output)["findings"]
    assert item["rule"] == "VF302" and item["slug"] == "cert-hostname-mismatch"
    assert item["path"] == str(certs / "node.crt") and item["cwe"] == [297]
    assert item["severity"] == "high" and item["target"] is None

    lenient = runner.invoke(app, ["certs", "check", str(certs), "--host", "db.internal",
                                  "--fail-on", "critical"])  # fmt: skip
    assert lenient.exit_code == 0
    assert "VF302 high     cert-hostname-mismatch" in lenient.output
    assert "1 finding (1 high) in 1 of 5 files" in lenient.output


def test_check_fail_on_medium_catches_expiring_soon(made: tuple[Path, Path]) -> None:
    certs, ca_key = made
    _ok("create-client", "app", "--certs-dir", str(certs), "--ca-key", str(ca_key),
        "--overwrite", "--lifetime", "240h")  # fmt: skip
    assert runner.invoke(app, ["certs", "check", str(certs)]).exit_code == 0
    medium = runner.invoke(app, ["certs", "check", str(certs), "--fail-on", "medium"])
    assert medium.exit_code == 1
    assert "VF303 medium   cert-expired" in medium.output


def test_check_reads_the_project_policy(
    made: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    certs, ca_key = made
    _ok("create-client", "app", "--certs-dir", str(certs), "--ca-key", str(ca_key),
        "--overwrite", "--lifetime", "240h")  # fmt: skip
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)  # tmp_path itself has no pyproject.toml either
    args = ["certs", "check", str(certs), "--fail-on", "medium"]
    assert runner.invoke(app, args).exit_code == 1  # 10 days left < 30-day window
    (project / "pyproject.toml").write_text("[tool.verifyfull.policy]\nexpiry_warning_days = 7\n")
    assert runner.invoke(app, args).exit_code == 0
    (project / "pyproject.toml").write_text("[tool.verifyfull.policy]\nexpiry_days = 7\n")
    result = runner.invoke(app, args)
    assert "unknown policy setting 'expiry_days'" in str(result.exception)


def test_check_errors_exit_2(made: tuple[Path, Path], tmp_path: Path, fails: Fails) -> None:
    certs, _ = made
    (certs / "node.crt").write_text("garbage\n")
    result = runner.invoke(app, ["certs", "check", str(certs)])
    assert result.exit_code == 2
    assert f"{certs / 'node.crt'}: {certs / 'node.crt'} holds no readable" in result.output
    line = fails("check", str(tmp_path / "missing"))
    assert "certs directory" in line and "not found" in line
    assert "unknown severity" in fails("check", str(certs), "--fail-on", "severe")
    assert "unknown format" in fails("check", str(certs), "--format", "xml")
    assert "cannot write" in fails("check", str(certs), "--output", str(tmp_path / "no/such"))


def test_the_installed_entry_point_prints_one_line(made: tuple[Path, Path]) -> None:
    certs, ca_key = made
    line = _fails_in_subprocess("create-ca", "--certs-dir", str(certs), "--ca-key", str(ca_key))
    expected = (
        f"verifyfull: error: {certs / 'ca.crt'} already exists; "
        "pass --overwrite to put a new CA certificate before it"
    )
    assert line == expected


@pytest.mark.parametrize("fmt", ["sarif", "html"])
def test_check_other_views_to_a_file(made: tuple[Path, Path], tmp_path: Path, fmt: str) -> None:
    certs, _ = made
    out = tmp_path / f"report.{fmt}"
    result = runner.invoke(app, ["certs", "check", str(certs), "--host", "db.internal",
                                 "--format", fmt, "--output", str(out)])  # fmt: skip
    assert result.exit_code == 1
    assert result.output == ""
    text = out.read_text()
    assert "VF302" in text
    if fmt == "sarif":
        document = json.loads(text)
        schema = Path(__file__).parent / "vendor" / "sarif-schema-2.1.0.json"
        jsonschema.validate(document, json.loads(schema.read_text()))
        assert document["runs"][0]["results"][0]["ruleId"] == "VF302"


def test_list_like_cockroach_cert_list(made: tuple[Path, Path], fails: Fails) -> None:
    certs, _ = made
    out = _ok("list", str(certs))
    lines = out.splitlines()
    assert lines[0] == f"Certificate directory: {certs}"
    assert lines[1].split()[:4] == ["usage", "certificate", "file", "key"]
    rows = {line.split()[0]: line for line in lines[2:]}
    assert "num certs: 1" in rows["CA"]
    assert "addresses: localhost,127.0.0.1" in rows["Node"] and "node.key" in rows["Node"]
    assert "user: app" in rows["Client"] and "client.app.key" in rows["Client"]

    (certs / "client.app.crt").write_text("garbage\n")
    doc = json.loads(_ok("list", str(certs), "--format", "json"))
    by_usage = {row["usage"]: row for row in doc["certificates"]}
    assert by_usage["Node"]["dns_names"] == ["localhost"]
    assert by_usage["Node"]["ip_addresses"] == ["127.0.0.1"]
    assert by_usage["CA"]["is_ca"] is True
    assert "no readable certificate" in by_usage["Client"]["error"]
    assert "not found" in fails("list", str(certs / "nowhere"))


def test_client_ca_issues_and_verifies_client_certs(made: tuple[Path, Path]) -> None:
    """As cockroach cert: with ca-client.crt, client certificates come from the client CA."""
    certs, ca_key = made
    client_ca_key = ca_key.parent / "ca-client.key"
    out = _ok("create-client-ca", "--certs-dir", str(certs), "--ca-key", str(client_ca_key))
    assert f"wrote {certs / 'ca-client.crt'}" in out
    _ok("create-client", "svc", "--certs-dir", str(certs), "--ca-key", str(client_ca_key))
    client = load_cert_infos(certs / "client.svc.crt")[0]
    assert client.issuer == load_cert_infos(certs / "ca-client.crt")[0].subject
    for ca_file, good in (("ca-client.crt", True), ("ca.crt", False)):
        proc = subprocess.run(
            ["openssl", "verify", "-CAfile", str(certs / ca_file), str(certs / "client.svc.crt")],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        assert (proc.returncode == 0) is good
    # client.app.crt still comes from ca.crt: check verifies clients against ca-client.crt
    doc = json.loads(runner.invoke(app, ["certs", "check", str(certs), "--format", "json"]).output)
    assert [(f["rule"], Path(f["path"]).name) for f in doc["findings"]] == [
        ("VF301", "client.app.crt")
    ]
    rows = json.loads(_ok("list", str(certs), "--format", "json"))["certificates"]
    assert [row["usage"] for row in rows] == ["CA", "Client CA", "Node", "Client", "Client"]
