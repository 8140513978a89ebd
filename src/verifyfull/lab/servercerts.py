"""The lab's certificates: a CA with client certificates, and each variant's node certificate.

All made by verifyfull.certs.create, in the `cockroach cert` layout.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from verifyfull.certs.create import Validity, create_ca, create_client, create_node
from verifyfull.lab.postgres import give_to_server
from verifyfull.lab.variants import CLIENT_CERT_USERS, Variant

LISTEN_HOST = "127.0.0.1"
HOSTNAME = "localhost"


@dataclass(frozen=True)
class LabCA:
    """A lab certificate authority: ca.crt plus client certificates for the lab users."""

    certs_dir: Path  # ca.crt, client.<user>.crt/.key
    ca_key: Path

    @classmethod
    def create(cls, base: Path) -> LabCA:
        certs_dir, ca_key = base / "certs", base / "ca.key"
        create_ca(certs_dir, ca_key, common_name="verifyfull lab CA")
        for user in CLIENT_CERT_USERS:
            create_client(user, certs_dir, ca_key)
        return cls(certs_dir, ca_key)


def node_hosts(node_name: str | None) -> list[str]:
    hosts = [HOSTNAME, LISTEN_HOST, "::1"]
    if node_name:
        hosts.append(node_name)
    return hosts


def make_server_certs(variant: Variant, ca: LabCA, server_dir: Path, node_name: str | None) -> None:
    spec = variant.node_cert
    issuer_dir, issuer_key = ca.certs_dir, ca.ca_key
    if spec.other_ca:  # a CA nobody trusts, made next to the node cert and then deleted
        issuer_dir, issuer_key = server_dir / "other-ca", server_dir / "other-ca.key"
        create_ca(issuer_dir, issuer_key, common_name="verifyfull lab OTHER CA")
    work = server_dir / "issue"
    work.mkdir()
    shutil.copy2(issuer_dir / "ca.crt", work / "ca.crt")
    create_node(
        spec.hosts if spec.hosts is not None else node_hosts(node_name),
        work,
        None if spec.self_signed else issuer_key,
        key=spec.key,
        validity=Validity.expired() if spec.expired else Validity(),
        hash_name=spec.hash_name,
        self_signed=spec.self_signed,
    )
    for name in ("node.crt", "node.key"):
        os.replace(work / name, server_dir / name)
    shutil.rmtree(work)
    if spec.other_ca:
        shutil.rmtree(issuer_dir)
        issuer_key.unlink()
    # The server verifies client certificates against the real lab CA.
    shutil.copy2(ca.certs_dir / "ca.crt", server_dir / "ca.crt")
    for name, mode in (("node.crt", 0o644), ("ca.crt", 0o644), ("node.key", 0o600)):
        give_to_server(server_dir / name, mode)
    give_to_server(server_dir, 0o700)


def openssl_conf(server_dir: Path, seclevel: int) -> Path:
    """An OPENSSL_CONF for the server process that sets the default security level."""
    conf = server_dir / "openssl.cnf"
    conf.write_text(
        "openssl_conf = openssl_init\n"
        "[openssl_init]\nssl_conf = ssl_sect\n"
        "[ssl_sect]\nsystem_default = system_default_sect\n"
        f"[system_default_sect]\nCipherString = DEFAULT:@SECLEVEL={seclevel}\n"
    )
    give_to_server(conf, 0o644)
    return conf
