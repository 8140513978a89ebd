"""The `cockroach cert` directory layout: which file is what, and `certs list`.

ca.crt (CA certificates, newest first), optional ca-client.crt (then client
certificates chain to it instead), node.crt + node.key, and
client.<user>.crt + client.<user>.key (+ .key.pk8 for Java).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verifyfull.certs.inspect import CertInfo, load_cert_infos
from verifyfull.errors import UsageError

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


def regular_files(certs_dir: Path) -> list[Path]:
    """The regular files of a certs directory, sorted; one-line errors when it is not one."""
    if not certs_dir.is_dir():
        raise UsageError(
            f"certs directory {certs_dir} not found", "pass the directory holding ca.crt"
        )
    try:
        return sorted(p for p in certs_dir.iterdir() if p.is_file())
    except OSError as exc:
        raise UsageError(
            f"cannot list {certs_dir}: {exc.strerror}", "check its permissions"
        ) from None


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


@dataclass(frozen=True)
class Listed:
    """One certificate file of the layout, as `cockroach cert list` shows it."""

    usage: str  # CA, Client CA, Node, Client
    cert: Path
    key: Path | None  # the key file beside it, when there is one
    infos: tuple[CertInfo, ...] = ()  # empty when unreadable
    error: str | None = None

    @property
    def notes(self) -> str:
        if not self.infos:
            return ""
        first = self.infos[0]
        if self.usage in ("CA", "Client CA"):
            return f"num certs: {len(self.infos)}"
        if self.usage == "Node":
            return f"addresses: {','.join(first.sans) or '<none>'}"
        return f"user: {first.subject_cn}"

    def to_json(self) -> dict[str, Any]:
        facts = self.infos[0].to_json() if self.infos else {}
        return {
            "usage": self.usage,
            "file": str(self.cert),
            "key_file": None if self.key is None else str(self.key),
            "notes": self.notes,
            "error": self.error,
            **facts,
        }


def list_certs(certs_dir: Path) -> tuple[Listed, ...]:
    """The CA files, node.crt and client.<user>.crt of certs_dir, in that order."""
    names = {p.name for p in regular_files(certs_dir)}
    entries: list[tuple[str, Path, Path | None]] = [
        (usage, certs_dir / name, None)
        for usage, name in (("CA", CA_CERT), ("Client CA", CLIENT_CA_CERT))
        if name in names
    ]
    entries += [
        ("Node" if pair.user is None else "Client", pair.cert, pair.key)
        for pair in leaf_pairs(certs_dir, names)
    ]
    listed: list[Listed] = []
    for usage, cert, key in entries:
        present_key = key if key is not None and key.is_file() else None
        try:
            listed.append(Listed(usage, cert, present_key, load_cert_infos(cert)))
        except UsageError as exc:
            listed.append(Listed(usage, cert, present_key, error=str(exc)))
    return tuple(listed)
