"""Certificates and keys in the tree: VF303/VF304/VF305 through the shared certificate
judgement, VF306 for every private key (and its loose mode), never key material in output.

The certificates are made by verifyfull.certs.create, the same code users run.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from verifyfull.certs.create import KeySpec, Validity, create_ca, create_client, create_node
from verifyfull.findings import Finding
from verifyfull.policy import DEFAULT_POLICY
from verifyfull.scan.api import CheckSkipped, ScanContext, SourceFile
from verifyfull.scan.certfiles import check_cert_file


def _scan(path: Path, root: Path) -> list[Finding]:
    src = SourceFile(path, path.relative_to(root).as_posix(), "", path.read_bytes())
    return list(check_cert_file(src, ScanContext(root=root, policy=DEFAULT_POLICY)))


def _rules(found: list[Finding]) -> set[tuple[int | None, str]]:
    return {(f.line, f.rule_id) for f in found}


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("certs")
    good = root / "good"
    create_ca(good, root / "ca.key")
    create_node(["db.internal", "localhost"], good, root / "ca.key")
    create_client("app", good, root / "ca.key")
    bad = root / "bad"
    create_ca(bad, root / "bad-ca.key")
    create_node(["db.internal"], bad, root / "bad-ca.key", validity=Validity.expired(days_ago=3))
    create_client("sha1", bad, root / "bad-ca.key", hash_name="sha1")
    create_client("weak", bad, root / "bad-ca.key", key=KeySpec("rsa", 1024))
    return root


def test_good_certificates_raise_nothing(tree: Path) -> None:
    for name in ("ca.crt", "node.crt", "client.app.crt"):
        assert _scan(tree / "good" / name, tree) == [], name


def test_expired_certificate_is_vf303(tree: Path) -> None:
    found = _scan(tree / "bad" / "node.crt", tree)
    assert _rules(found) == {(1, "VF303")}
    assert "expired" in found[0].message and found[0].path == "bad/node.crt"


def test_sha1_signature_is_vf305(tree: Path) -> None:
    assert _rules(_scan(tree / "bad" / "client.sha1.crt", tree)) == {(1, "VF305")}


def test_weak_key_is_vf304_for_the_certificate_and_the_key(tree: Path) -> None:
    assert _rules(_scan(tree / "bad" / "client.weak.crt", tree)) == {(1, "VF304")}
    assert _rules(_scan(tree / "bad" / "client.weak.key", tree)) == {(1, "VF304"), (1, "VF306")}


def test_every_private_key_in_the_tree_is_vf306_and_loose_mode_is_said(tree: Path) -> None:
    key = tree / "good" / "client.app.key"
    assert (os.stat(key).st_mode & 0o777) == 0o600
    tight = _scan(key, tree)
    assert _rules(tight) == {(1, "VF306")} and "readable by group" not in tight[0].message
    key.chmod(0o644)
    try:
        loose = _scan(key, tree)
    finally:
        key.chmod(0o600)
    assert _rules(loose) == {(1, "VF306")}
    assert "readable by group or others (mode 0644)" in loose[0].message


def test_bundle_findings_sit_on_each_block_line(tree: Path) -> None:
    bundle = tree / "bundle.pem"
    good = (tree / "good" / "node.crt").read_bytes()
    expired = (tree / "bad" / "node.crt").read_bytes()
    bundle.write_bytes(good + expired)
    second_line = good.count(b"\n") + 1
    assert _rules(_scan(bundle, tree)) == {(second_line, "VF303")}


def test_der_and_encrypted_and_ssh_keys(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    der = tmp_path / "client.key.pk8"
    der.write_bytes(
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    encrypted = tmp_path / "enc.key"
    encrypted.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"pw"),
        )
    )
    ssh = tmp_path / "id.pem"
    ssh.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
    )
    for path in (der, encrypted, ssh):
        assert {f.rule_id for f in _scan(path, tmp_path)} == {"VF306"}, path.name


def test_not_a_certificate_is_not_a_finding(tmp_path: Path) -> None:
    notes = tmp_path / "notes.pem"
    notes.write_text("just text, no PEM block\n")
    api_key = tmp_path / "service.key"
    api_key.write_text("sk_live_not_a_private_key\n")
    assert _scan(notes, tmp_path) == [] and _scan(api_key, tmp_path) == []


def test_a_broken_certificate_block_is_an_error_entry(tmp_path: Path) -> None:
    broken = tmp_path / "broken.crt"
    broken.write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    with pytest.raises(CheckSkipped) as caught:
        _scan(broken, tmp_path)
    assert "line 1" in str(caught.value)


def test_no_key_material_in_any_finding(tree: Path) -> None:
    for key_path in tree.rglob("*.key"):
        pem = key_path.read_text()
        body = "".join(pem.splitlines()[1:-1])
        for item in _scan(key_path, tree):
            text = repr(item) + str(item.to_json())
            assert body[10:60] not in text
            assert base64.b64decode(body)[:16].hex() not in text


def test_future_certificate_is_vf303(tmp_path: Path) -> None:
    create_ca(tmp_path / "c", tmp_path / "ca.key")
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=10)
    create_node(["db"], tmp_path / "c", tmp_path / "ca.key", validity=Validity(starts=later))
    assert {f.rule_id for f in _scan(tmp_path / "c" / "node.crt", tmp_path)} == {"VF303"}


def test_a_real_ca_bundle_is_read_quietly() -> None:
    """certifi's bundle (old roots with non-positive serials): judged, no warning escapes."""
    import warnings

    certifi = pytest.importorskip("certifi")
    bundle = Path(certifi.where())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found = _scan(bundle, bundle.parent)
    assert all(f.line is not None and f.line >= 1 for f in found)
    assert {f.rule_id for f in found} <= {"VF303", "VF304", "VF305"}
