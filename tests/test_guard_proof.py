"""The proof's per-connect shortcuts: the X.509 parse is cached, the judgement is not.

Unit tests on real certificates (certs.create) fed to `prove` as a driver
would: what may be cached (the parse of one exact DER) and what must still
run on every connection (TLS, protocol floor, cipher, pins, the CA file).
The rotation part checks that the post-handshake comparison does not look at
the files (one stat pass per connect) while the next connect still does.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from verifyfull.certs.create import KeySpec, create_ca, create_client, create_node
from verifyfull.errors import InsecureConfigurationError
from verifyfull.guard.core import Guard
from verifyfull.guard.proof import prove, server_cert_facts
from verifyfull.guard.settings import DatabaseTLSSettings
from verifyfull.policy import Policy

POLICY = Policy()
GOOD = ("TLSv1.3", "TLS_AES_256_GCM_SHA384")


def _node_der(certs_dir: Path, ca_key: Path) -> bytes:
    create_node(["localhost"], certs_dir, ca_key, key=KeySpec("ec", 256), overwrite=True)
    cert = x509.load_pem_x509_certificate((certs_dir / "node.crt").read_bytes())
    return cert.public_bytes(serialization.Encoding.DER)


@pytest.fixture
def cluster(tmp_path: Path) -> tuple[Path, Path]:
    certs_dir, ca_key = tmp_path / "certs", tmp_path / "ca.key"
    create_ca(certs_dir, ca_key, key=KeySpec("ec", 256))
    return certs_dir, ca_key


def test_facts_are_parsed_once_per_distinct_certificate(cluster: tuple[Path, Path]) -> None:
    der = _node_der(*cluster)
    first = server_cert_facts(der)
    assert server_cert_facts(bytes(der)) is first  # equal bytes, another object: a hit
    assert first.sha256 == hashlib.sha256(der).hexdigest()
    assert "CN=node" in first.certificate.subject.rfc4514_string()
    rotated = _node_der(*cluster)
    facts = server_cert_facts(rotated)
    assert facts is not first and facts.sha256 == hashlib.sha256(rotated).hexdigest()
    proof = prove("db:26257", *GOOD, rotated, POLICY)
    assert proof.server_cert_sha256 == facts.sha256
    assert proof.server_cert_not_after == facts.not_after


def test_a_cached_certificate_is_still_judged_on_every_connection(
    cluster: tuple[Path, Path],
) -> None:
    der = _node_der(*cluster)
    prove("db:26257", *GOOD, der, POLICY)  # now cached
    cases = [
        ((None, None), "VF102"),
        (("TLSv1.1", "ECDHE-RSA-AES128-SHA"), "VF106"),
        (("TLSv1.2", "ECDHE-RSA-RC4-SHA"), "VF107"),
    ]
    for (protocol, cipher), rule in cases:
        with pytest.raises(InsecureConfigurationError) as err:
            prove("db:26257", protocol, cipher, der, POLICY)
        assert err.value.rule_id == rule


def test_pins_are_compared_for_every_connection(cluster: tuple[Path, Path]) -> None:
    der = _node_der(*cluster)
    own = frozenset({hashlib.sha256(der).hexdigest()})
    prove("db:26257", *GOOD, der, POLICY, pins=own)
    for _ in range(2):  # cached facts never stand in for a pin match
        with pytest.raises(InsecureConfigurationError) as err:
            prove("db:26257", *GOOD, der, POLICY, pins=frozenset({"ab" * 32}))
        assert err.value.rule_id == "VF301"
    other = _node_der(*cluster)  # another certificate: the old pin no longer matches
    with pytest.raises(InsecureConfigurationError):
        prove("db:26257", *GOOD, other, POLICY, pins=own)


def test_a_ca_pin_reads_the_current_ca_file(cluster: tuple[Path, Path], tmp_path: Path) -> None:
    certs_dir, ca_key = cluster
    der = _node_der(certs_dir, ca_key)
    ca = x509.load_pem_x509_certificate((certs_dir / "ca.crt").read_bytes())
    ca_pin = frozenset({hashlib.sha256(ca.public_bytes(serialization.Encoding.DER)).hexdigest()})
    ca_file = tmp_path / "trusted-ca.crt"
    shutil.copy(certs_dir / "ca.crt", ca_file)
    prove("db:26257", *GOOD, der, POLICY, pins=ca_pin, ca_file=ca_file)
    other_dir = tmp_path / "other"
    create_ca(other_dir, tmp_path / "other.key", key=KeySpec("ec", 256))
    shutil.copy(other_dir / "ca.crt", ca_file)  # the CA file rotated away from the signer
    with pytest.raises(InsecureConfigurationError) as err:
        prove("db:26257", *GOOD, der, POLICY, pins=ca_pin, ca_file=ca_file)
    assert err.value.rule_id == "VF301"


def test_the_post_handshake_check_does_not_stat_but_the_next_connect_does(
    cluster: tuple[Path, Path],
) -> None:
    certs_dir, ca_key = cluster
    create_client("app", certs_dir, ca_key, key=KeySpec("ec", 256))
    settings = DatabaseTLSSettings(host="db", user="app", certs_dir=certs_dir)
    guard = Guard(settings.resolve(), min_check_interval=0)  # every connect looks
    material = guard.material
    handed = guard.ssl_context()
    create_client("app", certs_dir, ca_key, key=KeySpec("ec", 256), overwrite=True)
    # Files changed on disk, not yet taken into use: the connection in flight is current.
    assert material.current_context() is handed and material.rotations == 0
    files = material.current_libpq_files()
    fresh = guard.ssl_context()  # the next connect looks at the files
    assert fresh is not handed and material.rotations == 1
    # Now a connection handed the old context is stale, and so is the old snapshot.
    assert material.current_context() is fresh
    assert material.current_libpq_files() is not files
    guard.close()
