"""The `cockroach cert` directory layout: which file is what.

ca.crt (CA certificates, newest first), optional ca-client.crt (then client
certificates chain to it instead), node.crt + node.key, and
client.<user>.crt + client.<user>.key (+ .key.pk8 for Java).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

CA_CERT = "ca.crt"
CLIENT_CA_CERT = "ca-client.crt"
NODE_CERT, NODE_KEY = "node.crt", "node.key"
CA_KEY_NAMES = frozenset({"ca.key", "ca-client.key", "ca-ui.key"})


@dataclass(frozen=True)
class Pair:
    """A leaf certificate file and the key file that must go with it."""

    cert: Path
    key: Path
    user: str | None  # the SQL user for client.<user>.crt, None for node.crt

    @property
    def usage(self) -> str:
        """The extendedKeyUsage the certificate needs."""
        return "serverAuth" if self.user is None else "clientAuth"

    @property
    def role(self) -> str:
        return "node" if self.user is None else f"client {self.user}"


def leaf_pairs(certs_dir: Path, names: Iterable[str]) -> list[Pair]:
    """node.crt first, then client.<user>.crt by user name, among the file `names`."""
    present = set(names)
    pairs: list[Pair] = []
    if NODE_CERT in present:
        pairs.append(Pair(certs_dir / NODE_CERT, certs_dir / NODE_KEY, None))
    for name in sorted(present):
        if name.startswith("client.") and name.endswith(".crt"):
            user = name[len("client.") : -len(".crt")]
            if user:
                pairs.append(Pair(certs_dir / name, certs_dir / f"client.{user}.key", user))
    return pairs
