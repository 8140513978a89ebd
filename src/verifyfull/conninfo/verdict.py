"""The Verdict, and the Judge that collects it while a driver's rules run.

"verifies_chain" and "verifies_hostname" mean guaranteed checks: they are
False whenever a plaintext fallback is possible, since an attacker then skips
the check by answering 'N'.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from verifyfull.conninfo.corrected import corrected_form
from verifyfull.conninfo.model import ConnInfo, Environment
from verifyfull.conninfo.target import Target
from verifyfull.conninfo.versions import PINNED, DriverVersions, LibpqVersion
from verifyfull.errors import UsageError
from verifyfull.findings import Finding, finding
from verifyfull.policy import (
    Policy,
    TLSUse,
    parse_tls_version,
)
from verifyfull.rules import Severity


@dataclass(frozen=True)
class Verdict:
    """What a driver will actually do with a connection, judged by the policy."""

    driver: str
    tls: TLSUse
    verifies_chain: bool
    verifies_hostname: bool
    breaks: str | None
    findings: tuple[Finding, ...]
    notes: tuple[str, ...]
    corrected: str
    environment: str = "an empty environment"
    # False when something decisive was not visible (an ssl value the scanner
    # could not resolve): tls and the checks are then guesses, and no
    # transport rule is reported.
    determined: bool = True

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(f.rule_id for f in self.findings)

    def worst(self) -> Severity | None:
        if not self.findings:
            return None
        return max((f.severity for f in self.findings), key=lambda s: s.rank)

    def fails(self, threshold: Severity = Severity.HIGH) -> bool:
        return any(f.severity.at_least(threshold) for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        """DESIGN.md's `explain --format json` object."""
        return {
            "driver": self.driver,
            "tls": self.tls.value,
            "verifies_chain": self.verifies_chain,
            "verifies_hostname": self.verifies_hostname,
            "breaks": self.breaks,
            "findings": [f.to_json() for f in self.findings],
            "corrected": self.corrected,
        }


@dataclass
class Judge:
    target: Target
    evidence: str
    policy: Policy
    notes: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    breaks: str | None = None
    tls: TLSUse = TLSUse.MAYBE
    chain: bool = False
    hostname: bool = False
    explicit_off: bool = False
    determined: bool = True
    local_only: bool = False  # Unix sockets only: no network path to protect
    # A crash whose intended mode is unknown (a dict, an unparseable mode):
    # no transport rule, only the VF105 crash.
    intent_unknown: bool = False
    libpq_module: str = "psycopg"  # whose exception classes libpq errors surface as
    versions: DriverVersions = PINNED  # the driver versions this reading describes

    @property
    def libpq(self) -> LibpqVersion:
        """The libpq under the driver module judged (psycopg's or psycopg2's own)."""
        return self.versions.libpq_for(self.libpq_module)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def flag(self, rule_id: str, message: str, fix: str = "") -> None:
        if any(f.rule_id == rule_id and f.message == message for f in self.findings):
            return
        self.findings.append(finding(rule_id, message, evidence=self.evidence, fix=fix))

    def crash(self, error: str, message: str, *, rule: str | None = "VF105") -> None:
        if self.breaks is None:
            self.breaks = error
        if rule:
            self.flag(rule, message)

    def transport(self, tls: TLSUse, chain: bool, hostname: bool, *, off: bool = False) -> None:
        self.tls = tls
        self.chain = chain and tls is TLSUse.ALWAYS
        self.hostname = hostname and self.chain
        self.explicit_off = off

    def tls_floor(self, version_text: str | None, where: str) -> None:
        if not version_text:
            return
        try:
            version = parse_tls_version(version_text)
        except UsageError:
            self.crash(
                f'invalid value for {where}: "{version_text}"',
                f"{where}={version_text} is not a TLS version: the driver refuses it",
            )
            return
        if self.policy.tls_version_too_low(version):
            self.flag(
                "VF106",
                f"{where}={version_text} lets the client accept TLS below 1.2",
                "remove it (the drivers default to TLSv1.2) or set TLSv1.2 / TLSv1.3",
            )

    def finish(self, info: ConnInfo, env: Environment) -> Verdict:
        if self.determined and not self.local_only and not self.intent_unknown:
            rule = self.policy.transport_rule(
                self.tls, self.chain, self.hostname, explicit_off=self.explicit_off
            )
            if rule is not None:
                self.findings.insert(
                    0, finding(rule, TRANSPORT_MESSAGE[rule], evidence=self.evidence)
                )
        if info.password is not None and info.literal:
            self.flag(
                "VF401",
                "the connection string carries a literal password",
                "take the password from the environment (PGPASSWORD) or a secret store, "
                "or authenticate with a client certificate",
            )
        return Verdict(
            driver=self.target.name,
            tls=self.tls,
            verifies_chain=self.chain,
            verifies_hostname=self.hostname,
            breaks=self.breaks,
            findings=tuple(self.findings),
            notes=tuple(self.notes),
            corrected=corrected_form(
                info, self.target, self.versions.libpq_for(self.target.libpq_module)
            ),
            environment=env.describe(),
            determined=self.determined,
        )


TRANSPORT_MESSAGE = {
    "VF101": "TLS is switched off: everything, password included, crosses the network in cleartext",
    "VF102": "the driver may continue in plaintext when the server or an attacker answers 'N'",
    "VF103": "TLS without checking the server certificate: any certificate is accepted",
    "VF104": "the server certificate's chain is checked but not its host name (verify-ca)",
}
