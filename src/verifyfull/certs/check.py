"""`certs check`: judge a cockroach certs directory as a whole.

Layout (as `cockroach cert` writes it): ca.crt (one or more CA certificates,
newest first), optional ca-client.crt (then client certificates chain to it),
node.crt + node.key, client.<user>.crt + client.<user>.key. Per certificate
the verdicts come from judge.judge_certificate; this module adds what needs
the directory: the chain to ca.crt, key/certificate pairs, CN = user, key
file permissions and a CA key that should not be there.

Rule ids: VF301 chain, VF302 host names, VF303 expiry, VF304 key size, VF305
signature hash, VF306 key exposure (permissions, CA key in the directory).
A key that does not belong to its certificate, a certificate without its
key, and a client certificate whose CN is not its user are VF105
(broken-tls-config): the connection fails at start-up, not silently.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path

from verifyfull.certs.hostmatch import parse_host
from verifyfull.certs.inspect import (
    CertInfo,
    load_cert_infos,
    load_private_key_fingerprint,
    looks_like_private_key,
    signed_by,
)
from verifyfull.certs.judge import judge_certificate, judge_key_mode
from verifyfull.certs.layout import (
    CA_CERT,
    CA_KEY_NAMES,
    CLIENT_CA_CERT,
    NODE_CERT,
    Pair,
    leaf_pairs,
    regular_files,
)
from verifyfull.errors import UsageError, VerifyfullError
from verifyfull.findings import Finding, finding
from verifyfull.policy import DEFAULT_POLICY, Policy
from verifyfull.report.model import Report, ReportError

_MAX_CHAIN_DEPTH = 4


class _Checker:
    def __init__(
        self, certs_dir: Path, hosts: Sequence[str], policy: Policy, now: dt.datetime
    ) -> None:
        self.dir = certs_dir
        self.hosts = tuple(hosts)
        self.policy = policy
        self.now = now
        self.findings: list[Finding] = []
        self.errors: list[ReportError] = []
        self._spkis: dict[Path, str | None] = {}

    # -- loading, with unreadable files recorded as errors ---------------------------
    def _certs(self, path: Path) -> tuple[CertInfo, ...]:
        try:
            return load_cert_infos(path)
        except VerifyfullError as exc:
            self.errors.append(ReportError(str(exc), path=str(path)))
            return ()

    def _key_spki(self, path: Path) -> str | None:
        if path not in self._spkis:  # each key read once, each bad key reported once
            try:
                self._spkis[path] = load_private_key_fingerprint(path)[0]
            except VerifyfullError as exc:
                self.errors.append(ReportError(str(exc), path=str(path)))
                self._spkis[path] = None
        return self._spkis[path]

    # -- the checks -------------------------------------------------------------------
    def run(self) -> Report:
        files = regular_files(self.dir)
        if not files:
            raise UsageError(
                f"{self.dir} is empty",
                "pass a cockroach certs directory (ca.crt, node.crt, client.<user>.crt)",
            )
        names = {p.name for p in files}
        roots = self._check_cas(CA_CERT) if CA_CERT in names else ()
        if CA_CERT not in names:
            self.errors.append(
                ReportError(
                    f"{CA_CERT} not found: chains cannot be checked; "
                    "copy the cluster CA certificate into the certs directory",
                    path=str(self.dir / CA_CERT),
                )
            )
        client_roots = self._check_cas(CLIENT_CA_CERT) if CLIENT_CA_CERT in names else roots
        pairs = leaf_pairs(self.dir, names)
        if self.hosts and not any(p.user is None for p in pairs):
            self.errors.append(
                ReportError(
                    f"--host given but there is no {NODE_CERT}: host names were not checked",
                    path=str(self.dir / NODE_CERT),
                )
            )
        for pair in pairs:
            self._check_pair(pair, roots if pair.user is None else client_roots)
        ca_spkis = {info.spki_sha256 for info in (*roots, *client_roots) if info.is_ca}
        for path in files:
            if looks_like_private_key(path):
                self._check_key_file(path, ca_spkis)
        return Report(findings=tuple(self.findings), errors=tuple(self.errors), files=len(files))

    def _check_cas(self, name: str) -> tuple[CertInfo, ...]:
        infos = self._certs(self.dir / name)
        for info in infos:
            self.findings.extend(judge_certificate(info, self.policy, now=self.now))
            if not info.is_ca:
                self.findings.append(
                    finding(
                        "VF301",
                        f"{name} holds {info.subject!r}, which is not a CA certificate "
                        "(basicConstraints CA:FALSE or absent): it cannot sign node or "
                        "client certificates",
                        evidence=f"subject: {info.subject}",
                        path=info.path,
                    )
                )
        return infos

    def _check_pair(self, pair: Pair, roots: tuple[CertInfo, ...]) -> None:
        infos = self._certs(pair.cert)
        if not infos:
            return
        leaf, intermediates = infos[0], infos[1:]
        hosts = self.hosts if pair.user is None else ()
        self.findings.extend(judge_certificate(leaf, self.policy, hosts=hosts, now=self.now))
        for intermediate in intermediates:  # sent along in the handshake: judged alike
            self.findings.extend(judge_certificate(intermediate, self.policy, now=self.now))
        if roots:
            self._check_chain(leaf, intermediates, roots, pair.cert.name)
        if not leaf.allows_usage(pair.usage):
            self.findings.append(
                finding(
                    "VF301",
                    f"{pair.cert.name} may not be used for {pair.usage} (its extendedKeyUsage "
                    f"is {', '.join(leaf.extended_key_usage or ())}): TLS peers refuse it",
                    evidence=f"extendedKeyUsage: {', '.join(leaf.extended_key_usage or ())}",
                    path=leaf.path,
                )
            )
        if pair.user is not None and leaf.subject_cn != pair.user:
            self.findings.append(
                finding(
                    "VF105",
                    f"{pair.cert.name} has CN={leaf.subject_cn!r}, not the user "
                    f"{pair.user!r}: certificate authentication as {pair.user!r} fails",
                    evidence=f"subject: {leaf.subject}",
                    fix=f"Reissue it: verifyfull certs create-client {pair.user} ...",
                    path=leaf.path,
                )
            )
        self._check_key_matches(pair, leaf)

    def _check_chain(
        self,
        leaf: CertInfo,
        intermediates: tuple[CertInfo, ...],
        roots: tuple[CertInfo, ...],
        name: str,
    ) -> None:
        problem = _chain_problem(leaf, intermediates, roots, self.now)
        if problem is None:
            return
        subjects = "; ".join(r.subject for r in roots)
        self.findings.append(
            finding(
                "VF301",
                f"{name}: {problem}",
                evidence=f"issuer: {leaf.issuer}; trusted: {subjects}",
                path=leaf.path,
            )
        )

    def _check_key_matches(self, pair: Pair, leaf: CertInfo) -> None:
        if not pair.key.is_file():
            self.findings.append(
                finding(
                    "VF105",
                    f"{pair.cert.name} has no {pair.key.name} beside it: the node cannot "
                    "start / the client cannot present it",
                    fix="Keep each certificate with its key, or reissue both.",
                    path=leaf.path,
                )
            )
            return
        spki = self._key_spki(pair.key)
        if spki is not None and spki != leaf.spki_sha256:
            self.findings.append(
                finding(
                    "VF105",
                    f"{pair.key.name} is not the key of {pair.cert.name}: loading the pair "
                    "fails (OpenSSL KEY_VALUES_MISMATCH)",
                    evidence=f"certificate key SHA-256 {leaf.spki_sha256[:23]}…, "
                    f"key file SHA-256 {spki[:23]}…",
                    fix="Put the matching key beside the certificate, or reissue both.",
                    path=str(pair.key),
                )
            )

    def _check_key_file(self, path: Path, ca_spkis: set[str]) -> None:
        info = os.stat(path)
        mode = stat.S_IMODE(info.st_mode)
        loose = judge_key_mode(path, mode, info.st_uid)
        if loose is not None:
            self.findings.append(loose)
        spki = self._key_spki(path) if ca_spkis or path.name in CA_KEY_NAMES else None
        if (spki is not None and spki in ca_spkis) or path.name in CA_KEY_NAMES:
            self.findings.append(
                finding(
                    "VF306",
                    f"{path.name} is a CA private key inside the certs directory: every "
                    "node and client this directory is copied to can mint certificates",
                    fix="Move the CA key out (e.g. --ca-key=my-safe-directory/ca.key) and "
                    "keep it offline.",
                    path=str(path),
                )
            )


def _chain_problem(
    leaf: CertInfo,
    intermediates: tuple[CertInfo, ...],
    roots: tuple[CertInfo, ...],
    now: dt.datetime,
) -> str | None:
    """None when leaf chains (through the file's own intermediates) to a valid root."""
    assert leaf.certificate is not None
    current, seen = leaf, 0
    while seen <= _MAX_CHAIN_DEPTH:
        assert current.certificate is not None
        for root in roots:
            if root.certificate is None or not signed_by(current.certificate, root.certificate):
                continue
            if not root.is_ca:
                return f"its issuer {root.subject!r} is not a CA certificate"
            if not root.not_before <= now < root.not_after:
                return f"its CA {root.subject!r} is not valid now (expired or not yet valid)"
            return None
        parent = next(
            (
                i
                for i in intermediates
                if i.is_ca and i.certificate and signed_by(current.certificate, i.certificate)
            ),
            None,
        )
        if parent is None:
            break
        if not parent.not_before <= now < parent.not_after:
            return f"its intermediate CA {parent.subject!r} is not valid now"
        current, seen = parent, seen + 1
    if leaf.self_issued and leaf.certificate and signed_by(leaf.certificate, leaf.certificate):
        return "it is self-signed, not issued by the CA in ca.crt"
    return f"it is not signed by any CA in ca.crt (its issuer is {leaf.issuer!r})"


def check_certs_dir(
    certs_dir: Path,
    *,
    hosts: Iterable[str] = (),
    policy: Policy = DEFAULT_POLICY,
    now: dt.datetime | None = None,
) -> Report:
    """Check a cockroach certs directory; findings carry the file as `path`."""
    certs_dir = Path(certs_dir)
    moment = now or dt.datetime.now(dt.timezone.utc)
    return _Checker(certs_dir, _valid_hosts(hosts), policy, moment).run()


def _valid_hosts(hosts: Iterable[str]) -> tuple[str, ...]:
    """Every --host parsed up front, so a port or URL is a usage error, not a finding."""
    given = tuple(h.strip() for h in hosts)
    for host in given:
        parse_host(host)
    return given
