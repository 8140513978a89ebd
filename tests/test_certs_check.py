"""`certs check`: every check fires where it must and stays quiet where it must not.

All certificates come from verifyfull.certs.create (the same code users and
the lab use); broken directories are made by the deliberate options or by
moving real files around. Chain verdicts are cross-checked with `openssl verify`.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from verifyfull.certs.check import check_certs_dir
from verifyfull.certs.create import KeySpec, Validity, create_ca, create_client, create_node
from verifyfull.certs.inspect import load_cert_infos
from verifyfull.certs.judge import judge_certificate
from verifyfull.errors import UsageError
from verifyfull.findings import Finding
from verifyfull.policy import DEFAULT_POLICY
from verifyfull.report.model import Report, exit_code
from verifyfull.rules import Severity

HOSTS = ("localhost", "127.0.0.1")
TWO_DAYS = Validity(dt.timedelta(days=2))


def _good(root: Path) -> tuple[Path, Path]:
    certs, ca_key = root / "certs", root / "safe" / "ca.key"
    create_ca(certs, ca_key)
    create_node(list(HOSTS), certs, ca_key)
    create_client("root", certs, ca_key)
    create_client("app", certs, ca_key)
    return certs, ca_key


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return _good(tmp_path_factory.mktemp("template"))


@pytest.fixture
def good(template: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    """A fresh copy of a clean certs dir (and its CA key) to break."""
    certs, safe = tmp_path / "certs", tmp_path / "safe"
    shutil.copytree(template[0], certs)
    shutil.copytree(template[1].parent, safe)
    return certs, safe / "ca.key"


def _rules(report: Report) -> list[tuple[str, str]]:
    return sorted((f.rule_id, Path(f.path or "").name) for f in report.findings)


def _only(report: Report, rule_id: str) -> list[Finding]:
    return [f for f in report.findings if f.rule_id == rule_id]


def test_clean_dir_has_no_findings(good: tuple[Path, Path]) -> None:
    report = check_certs_dir(good[0], hosts=HOSTS)
    assert report.findings == ()
    assert report.errors == ()
    assert report.files == 7
    assert exit_code(report, Severity.INFO) == 0


def test_expired_node_cert(good: tuple[Path, Path]) -> None:
    certs, ca_key = good
    create_node(list(HOSTS), certs, ca_key, validity=Validity.expired(), overwrite=True)
    report = check_certs_dir(certs, hosts=HOSTS)
    assert _rules(report) == [("VF303", "node.crt")]
    assert "expired on" in report.findings[0].message
    assert report.findings[0].severity is Severity.HIGH


def test_not_yet_valid_client_cert(good: tuple[Path, Path]) -> None:
    certs, ca_key = good
    future = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=2)
    create_client("app", certs, ca_key, validity=Validity(starts=future), overwrite=True)
    (finding,) = check_certs_dir(certs).findings
    assert (finding.rule_id, Path(finding.path or "").name) == ("VF303", "client.app.crt")
    assert "not valid before" in finding.message


def test_expiring_soon_is_medium_and_follows_policy_window(good: tuple[Path, Path]) -> None:
    certs, ca_key = good
    create_client("app", certs, ca_key, validity=Validity(dt.timedelta(days=10)), overwrite=True)
    (finding,) = check_certs_dir(certs).findings
    assert finding.rule_id == "VF303"
    assert finding.severity is Severity.MEDIUM
    assert "warning window 30 days" in finding.message
    tolerant = DEFAULT_POLICY.with_overrides({"expiry_warning_days": 5})
    assert check_certs_dir(certs, policy=tolerant).findings == ()


def test_weak_hashes_and_keys(good: tuple[Path, Path]) -> None:
    certs, ca_key = good
    create_node(list(HOSTS), certs, ca_key, hash_name="sha1", overwrite=True)
    create_client("app", certs, ca_key, hash_name="md5", key=KeySpec("rsa", 1024), overwrite=True)
    create_client("root", certs, ca_key, key=KeySpec("ec", 192), overwrite=True)
    report = check_certs_dir(certs, hosts=HOSTS)
    assert _rules(report) == [
        ("VF304", "client.app.crt"),
        ("VF304", "client.root.crt"),
        ("VF305", "client.app.crt"),
        ("VF305", "node.crt"),
    ]
    hashes = {Path(f.path or "").name: f.message for f in _only(report, "VF305")}
    assert "signed with MD5" in hashes["client.app.crt"]
    assert "signed with SHA1" in hashes["node.crt"]


def test_strong_alternatives_raise_nothing(good: tuple[Path, Path]) -> None:
    certs, ca_key = good
    create_node(list(HOSTS), certs, ca_key, key=KeySpec("ec", 256), overwrite=True)
    create_client("app", certs, ca_key, key=KeySpec("ed25519"), hash_name="sha512", overwrite=True)
    create_client("root", certs, ca_key, key=KeySpec("rsa", 3072), overwrite=True)
    assert check_certs_dir(certs, hosts=HOSTS).findings == ()


def test_wrong_host(good: tuple[Path, Path]) -> None:
    report = check_certs_dir(good[0], hosts=("localhost", "db.internal", "::1"))
    assert _rules(report) == [("VF302", "node.crt"), ("VF302", "node.crt")]
    messages = sorted(f.message for f in report.findings)
    assert "does not name '::1'" in messages[0]
    assert "does not name 'db.internal'" in messages[1]


def test_node_cert_from_another_ca(good: tuple[Path, Path], tmp_path: Path) -> None:
    certs, _ = good
    other = tmp_path / "other"
    create_ca(other / "certs", other / "ca.key", common_name="Other CA")
    create_node(list(HOSTS), other / "certs", other / "ca.key")
    for name in ("node.crt", "node.key"):
        shutil.copy2(other / "certs" / name, certs / name)
    report = check_certs_dir(certs, hosts=HOSTS)
    assert _rules(report) == [("VF301", "node.crt")]
    assert "Other CA" in report.findings[0].message
    assert not _openssl_verifies(certs / "ca.crt", certs / "node.crt")


def test_self_signed_node_cert(good: tuple[Path, Path]) -> None:
    certs, _ = good
    create_node(list(HOSTS), certs, None, self_signed=True, overwrite=True)
    (finding,) = check_certs_dir(certs, hosts=HOSTS).findings
    assert finding.rule_id == "VF301"
    assert "self-signed" in finding.message
    assert not _openssl_verifies(certs / "ca.crt", certs / "node.crt")


def test_expired_ca_breaks_every_chain(tmp_path: Path) -> None:
    certs, ca_key = tmp_path / "certs", tmp_path / "ca.key"
    create_ca(certs, ca_key, validity=Validity.expired())
    create_node(list(HOSTS), certs, ca_key, validity=Validity.expired())
    report = check_certs_dir(certs, hosts=HOSTS)
    assert ("VF303", "ca.crt") in _rules(report)
    assert ("VF301", "node.crt") in _rules(report)
    assert not _openssl_verifies(certs / "ca.crt", certs / "node.crt")


def test_rotated_ca_bundle_keeps_old_certs_trusted(good: tuple[Path, Path]) -> None:
    certs, ca_key = good
    ca_key.unlink()  # a new CA key: the old one is retired
    create_ca(certs, ca_key, overwrite=True, common_name="Cockroach CA 2")
    assert len(load_cert_infos(certs / "ca.crt")) == 2
    create_client("app", certs, ca_key, overwrite=True)  # signed by the new CA
    report = check_certs_dir(certs, hosts=HOSTS)
    assert report.findings == ()
    assert _openssl_verifies(certs / "ca.crt", certs / "node.crt")
    assert _openssl_verifies(certs / "ca.crt", certs / "client.app.crt")


def test_loose_key_permissions(good: tuple[Path, Path]) -> None:
    certs, _ = good
    os.chmod(certs / "client.app.key", 0o644)
    os.chmod(certs / "client.root.key", 0o604)
    report = check_certs_dir(certs)
    assert _rules(report) == [("VF306", "client.app.key"), ("VF306", "client.root.key")]
    by_name = {Path(f.path or "").name: f for f in report.findings}
    assert "group and others (mode 0644)" in by_name["client.app.key"].message
    assert "open to others (mode 0604)" in by_name["client.root.key"].message
    assert {f.severity for f in report.findings} == {Severity.HIGH}
    assert by_name["client.app.key"].fix == f"chmod 600 {certs / 'client.app.key'}"


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to own a key as root and as nobody")
def test_group_read_is_medium_only_on_root_owned_keys(good: tuple[Path, Path]) -> None:
    """libpq and cockroach accept 0640 on a root-owned key, and only then."""
    certs, _ = good
    os.chmod(certs / "node.key", 0o640)
    (finding,) = check_certs_dir(certs).findings
    assert finding.severity is Severity.MEDIUM
    assert "accept this on a root-owned key" in finding.message
    os.chown(certs / "node.key", 65534, -1)
    (finding,) = check_certs_dir(certs).findings
    assert finding.severity is Severity.HIGH
    assert "refuse keys this open" in finding.message


def test_public_files_may_be_world_readable(good: tuple[Path, Path]) -> None:
    certs, _ = good
    for name in ("ca.crt", "node.crt", "client.app.crt"):
        os.chmod(certs / name, 0o644)
    assert check_certs_dir(certs).findings == ()


def test_ca_key_inside_certs_dir_by_content_and_by_name(good: tuple[Path, Path]) -> None:
    certs, ca_key = good
    shutil.copy2(ca_key, certs / "backup.pem")
    report = check_certs_dir(certs)
    assert _rules(report) == [("VF306", "backup.pem")]
    assert "CA private key" in report.findings[0].message
    (certs / "backup.pem").unlink()
    shutil.copy2(certs / "client.app.key", certs / "ca.key")  # named like one
    assert _rules(check_certs_dir(certs)) == [("VF306", "ca.key")]


def test_der_pkcs8_key_is_a_key_too(good: tuple[Path, Path]) -> None:
    certs, ca_key = good
    create_client("java", certs, ca_key, also_generate_pkcs8_key=True)
    assert check_certs_dir(certs).findings == ()
    os.chmod(certs / "client.java.key.pk8", 0o644)
    assert _rules(check_certs_dir(certs)) == [("VF306", "client.java.key.pk8")]


def test_files_merely_named_like_keys_are_not_keys(good: tuple[Path, Path]) -> None:
    certs, _ = good
    (certs / "ca.key").write_bytes(b"")
    (certs / "notes.key").write_text("remember to rotate\n")
    os.chmod(certs / "notes.key", 0o644)
    report = check_certs_dir(certs)
    assert report.findings == () and report.errors == ()


def test_key_of_another_certificate(good: tuple[Path, Path]) -> None:
    certs, _ = good
    shutil.copy2(certs / "client.root.key", certs / "client.app.key")
    (finding,) = check_certs_dir(certs).findings
    assert finding.rule_id == "VF105"
    assert Path(finding.path or "").name == "client.app.key"
    assert "is not the key of client.app.crt" in finding.message


def test_missing_key(good: tuple[Path, Path]) -> None:
    certs, _ = good
    (certs / "node.key").unlink()
    (finding,) = check_certs_dir(certs).findings
    assert finding.rule_id == "VF105"
    assert "has no node.key" in finding.message


def test_client_cert_cn_is_not_its_user(good: tuple[Path, Path]) -> None:
    certs, ca_key = good
    create_client("other", certs, ca_key)
    for suffix in (".crt", ".key"):
        os.replace(certs / f"client.other{suffix}", certs / f"client.app{suffix}")
    (finding,) = check_certs_dir(certs).findings
    assert finding.rule_id == "VF105"
    assert "CN='other', not the user 'app'" in finding.message


def test_client_cert_used_as_node_cert_lacks_server_auth(good: tuple[Path, Path]) -> None:
    certs, _ = good
    for suffix in (".crt", ".key"):
        shutil.copy2(certs / f"client.app{suffix}", certs / f"node{suffix}")
    report = check_certs_dir(certs, hosts=("localhost",))
    assert ("VF301", "node.crt") in _rules(report)
    assert any("serverAuth" in f.message for f in report.findings)
    assert ("VF302", "node.crt") in _rules(report)


def test_ca_crt_that_is_not_a_ca(good: tuple[Path, Path]) -> None:
    certs, _ = good
    shutil.copy2(certs / "node.crt", certs / "ca.crt")
    report = check_certs_dir(certs)
    assert ("VF301", "ca.crt") in _rules(report)
    assert "not a CA certificate" in _only(report, "VF301")[0].message


def test_unreadable_files_are_errors_not_crashes(good: tuple[Path, Path]) -> None:
    certs, _ = good
    (certs / "client.app.crt").write_text("not a certificate\n")
    (certs / "node.key").write_text(
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
    )
    report = check_certs_dir(certs)
    assert {Path(e.path or "").name for e in report.errors} == {"client.app.crt", "node.key"}
    assert exit_code(report, Severity.HIGH) == 2


def test_missing_ca_crt_is_an_error(good: tuple[Path, Path]) -> None:
    certs, _ = good
    (certs / "ca.crt").unlink()
    report = check_certs_dir(certs)
    assert [Path(e.path or "").name for e in report.errors] == ["ca.crt"]


def test_host_without_node_cert_is_an_error(good: tuple[Path, Path]) -> None:
    certs, _ = good
    (certs / "node.crt").unlink()
    (certs / "node.key").unlink()
    report = check_certs_dir(certs, hosts=("localhost",))
    assert report.findings == ()
    assert "no node.crt" in report.errors[0].message


@pytest.mark.parametrize(
    "prepare", [lambda p: p / "nowhere", lambda p: (p / "empty").mkdir() or p / "empty"]
)
def test_bad_directory_is_a_usage_error(tmp_path: Path, prepare: Callable[[Path], Path]) -> None:
    with pytest.raises(UsageError):
        check_certs_dir(prepare(tmp_path))


@pytest.mark.parametrize("host", ["", "db:26257", "postgresql://db", "a b"])
def test_bad_hosts_are_usage_errors(good: tuple[Path, Path], host: str) -> None:
    with pytest.raises(UsageError):
        check_certs_dir(good[0], hosts=[host])


def test_ipv6_hosts_are_not_mistaken_for_ports(good: tuple[Path, Path]) -> None:
    report = check_certs_dir(good[0], hosts=["::1", "[::1]"])
    assert [f.rule_id for f in report.findings] == ["VF302", "VF302"]


def test_oversized_and_special_files_are_errors(good: tuple[Path, Path]) -> None:
    certs, _ = good
    (certs / "client.app.crt").write_bytes(b"-----BEGIN CERTIFICATE-----\n" + b"A" * (2 << 20))
    os.mkfifo(certs / "client.fifo.crt")  # would block a naive read
    report = check_certs_dir(certs)
    messages = {Path(e.path or "").name: e.message for e in report.errors}
    assert "too large for a certificate" in messages["client.app.crt"]
    assert "client.fifo.crt" not in messages  # not a regular file: not part of the layout


def test_judge_certificate_sets_target_for_live_certs(good: tuple[Path, Path]) -> None:
    """The probe passes a live server's certificate with a target instead of a path."""
    info = load_cert_infos(good[0] / "node.crt")[0]
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=6 * 366)
    findings = judge_certificate(info, hosts=["db.internal"], now=later, target="db:26257")
    assert sorted(f.rule_id for f in findings) == ["VF302", "VF303"]
    assert {f.target for f in findings} == {"db:26257"}


def test_trust_anchor_signature_hash_is_not_judged(tmp_path: Path) -> None:
    certs, ca_key = tmp_path / "certs", tmp_path / "ca.key"
    create_ca(certs, ca_key, hash_name="sha1")
    create_node(list(HOSTS), certs, ca_key)
    assert check_certs_dir(certs, hosts=HOSTS).findings == ()
    assert _openssl_verifies(certs / "ca.crt", certs / "node.crt")


def _openssl_verifies(ca_crt: Path, crt: Path, *, untrusted: Path | None = None) -> bool:
    extra = ["-untrusted", str(untrusted)] if untrusted else []
    result = subprocess.run(
        ["openssl", "verify", "-CAfile", str(ca_crt), *extra, str(crt)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return result.returncode == 0


def _with_intermediate(
    certs: Path,
    ca_key: Path,
    work: Path,
    validity: Validity,
    leaf: Validity = TWO_DAYS,
) -> None:
    """node.crt = leaf + an intermediate CA (signed by the root at ca_key) that issued it.

    Built with cryptography by hand: `create` makes roots only, as cockroach cert does.
    """
    root_cert = x509.load_pem_x509_certificates((certs / "ca.crt").read_bytes())[0]
    root_key = serialization.load_pem_private_key(ca_key.read_bytes(), password=None)
    assert isinstance(root_key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    start, end = validity.window()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Intermediate CA")])
    inter = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(root_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    inter_dir, inter_key = work / "inter", work / "inter.key"
    inter_dir.mkdir()
    pem = inter.public_bytes(serialization.Encoding.PEM)
    (inter_dir / "ca.crt").write_bytes(pem)
    inter_key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    create_node(list(HOSTS), inter_dir, inter_key, validity=leaf)
    (certs / "node.crt").write_bytes((inter_dir / "node.crt").read_bytes() + pem)
    shutil.copy2(inter_dir / "node.key", certs / "node.key")


def test_node_cert_through_an_intermediate(good: tuple[Path, Path], tmp_path: Path) -> None:
    certs, ca_key = good
    _with_intermediate(certs, ca_key, tmp_path, Validity(dt.timedelta(days=365)))
    assert len(load_cert_infos(certs / "node.crt")) == 2
    report = check_certs_dir(certs, hosts=HOSTS)
    assert [f.rule_id for f in report.findings] == ["VF303"]  # the 2-day leaf: expiring
    assert report.findings[0].severity is Severity.MEDIUM
    assert _openssl_verifies(certs / "ca.crt", certs / "node.crt", untrusted=certs / "node.crt")


def test_expired_intermediate_breaks_the_chain(good: tuple[Path, Path], tmp_path: Path) -> None:
    certs, ca_key = good
    _with_intermediate(certs, ca_key, tmp_path, Validity.expired(), leaf=Validity.expired())
    report = check_certs_dir(certs, hosts=HOSTS)
    expired = sorted(f.message for f in report.findings if f.rule_id == "VF303")
    assert expired[0].startswith("certificate 'Intermediate CA' expired on")
    assert expired[1].startswith("certificate 'node' expired on")
    messages = {f.rule_id: f.message for f in report.findings}
    assert "intermediate CA 'CN=Intermediate CA' is not valid now" in messages["VF301"]
    assert not _openssl_verifies(certs / "ca.crt", certs / "node.crt", untrusted=certs / "node.crt")


def test_leaf_without_its_intermediate_does_not_chain(
    good: tuple[Path, Path], tmp_path: Path
) -> None:
    certs, ca_key = good
    _with_intermediate(certs, ca_key, tmp_path, Validity(dt.timedelta(days=365)))
    leaf_only = load_cert_infos(certs / "node.crt")[0].certificate
    assert leaf_only is not None
    (certs / "node.crt").write_bytes(leaf_only.public_bytes(serialization.Encoding.PEM))
    report = check_certs_dir(certs, hosts=HOSTS)
    assert "VF301" in {f.rule_id for f in report.findings}
    assert not _openssl_verifies(certs / "ca.crt", certs / "node.crt")


def test_refused_creation_leaves_the_pair_untouched(good: tuple[Path, Path]) -> None:
    """A stray node.key without node.crt: create-node refuses before writing anything."""
    certs, ca_key = good
    (certs / "node.crt").unlink()
    key_before = (certs / "node.key").read_bytes()
    with pytest.raises(UsageError, match="node.key already exists"):
        create_node(list(HOSTS), certs, ca_key)
    assert not (certs / "node.crt").exists()
    assert (certs / "node.key").read_bytes() == key_before
