"""Every lab variant gets the right findings and no others (real PostgreSQL 15, real TLS)."""

from __future__ import annotations

import json
import socket

import pytest
from typer.testing import CliRunner

from verifyfull.cli import app
from verifyfull.lab.harness import LabServer
from verifyfull.policy import Policy
from verifyfull.probe.runner import ProbeRun, ProbeSettings, run
from verifyfull.probe.targets import parse_target

pytestmark = pytest.mark.pg

# variant -> rule ids the probe must raise (default policy), and nothing else.
EXPECTED: dict[str, set[str]] = {
    "secure": set(),
    "mtls": set(),
    "tls-optional": {"VF202"},
    "no-tls": {"VF201"},
    "legacy-tls": {"VF203", "VF204"},
    "weak-ciphers": {"VF204"},
    "expired": {"VF303"},
    "self-signed": {"VF301"},
    "other-ca": {"VF301"},
    "wrong-host": {"VF302"},
    "weak-cert": {"VF304", "VF305"},
}


def probe(server: LabServer, policy: Policy | None = None, **settings: object) -> ProbeRun:
    target = parse_target(f"{server.hostname}:{server.port}")
    base = ProbeSettings(
        ca=server.certs_dir / "ca.crt",
        users=("root", server.password_user),
        database=server.database,
        **({"policy": policy} if policy else {}),
    )
    return run([target], ProbeSettings(**{**base.__dict__, **settings}))


@pytest.mark.parametrize("variant", sorted(EXPECTED))
def test_variant_gets_exactly_its_findings(lab, variant: str) -> None:  # type: ignore[no-untyped-def]
    result = probe(lab(variant))
    rules = {f.rule_id for f in result.report.findings}
    assert rules == EXPECTED[variant], [f.message for f in result.report.findings]
    assert result.report.errors == ()


def test_secure_facts_read_as_a_cockroachdb_secure_node(lab) -> None:  # type: ignore[no-untyped-def]
    (endpoint,) = probe(lab("secure")).endpoints
    assert endpoint.kind == "postgresql"
    assert endpoint.fact("SSLRequest") == "S (TLS offered)"
    assert endpoint.fact("TLS versions") == "TLSv1.2, TLSv1.3"
    assert endpoint.fact("weak TLS 1.2 suites") == "none accepted"
    assert str(endpoint.fact("plaintext root@defaultdb")).startswith("refused-host-rules")
    assert str(endpoint.fact("TLS without client cert (root)")).startswith("refused-client-cert")
    assert str(endpoint.fact("TLS without client cert (app_pw)")).startswith("authenticates")
    assert str(endpoint.fact("data buffered with SSLRequest")).startswith("refused (FATAL 08P01")
    assert endpoint.fact("direct TLS (PG17)") == "not supported"


def test_mtls_policy_separates_secure_from_mtls(lab) -> None:  # type: ignore[no-untyped-def]
    strict = Policy(require_client_cert=True)
    secure = probe(lab("secure"), strict).report.findings
    assert [f.rule_id for f in secure] == ["VF205"]
    assert "app_pw" in secure[0].message and "root" not in secure[0].message
    assert probe(lab("mtls"), strict).report.findings == ()


def test_client_certificate_is_confirmed(lab) -> None:  # type: ignore[no-untyped-def]
    server = lab("secure")
    result = probe(
        server,
        cert=server.certs_dir / "client.root.crt",
        key=server.certs_dir / "client.root.key",
    )
    (endpoint,) = result.endpoints
    assert endpoint.fact("TLS with client cert (root)") == "certificate accepted: logged in"


def test_no_tls_server_lets_the_probe_in_without_credentials(lab) -> None:  # type: ignore[no-untyped-def]
    (endpoint,) = probe(lab("no-tls")).endpoints
    assert endpoint.fact("SSLRequest") == "N (no TLS)"
    assert str(endpoint.fact("plaintext root@defaultdb")).startswith("lets-in")
    assert endpoint.kind == "postgresql"


def test_cluster_is_probed_in_one_call_through_a_multi_host_dsn(lab_cluster) -> None:  # type: ignore[no-untyped-def]
    hosts = ",".join(f"{node.hostname}:{node.port}" for node in lab_cluster)
    ca = lab_cluster[0].certs_dir / "ca.crt"
    dsn = f"postgresql://root@{hosts}/defaultdb?sslmode=verify-full&sslrootcert={ca}"
    outcome = CliRunner().invoke(app, ["probe", dsn, "--format", "json"])
    assert outcome.exit_code == 0, outcome.output
    payload = json.loads(outcome.output)
    assert payload["summary"]["targets"] == 3
    assert payload["findings"] == [] and payload["errors"] == []
    assert sorted(t["target"] for t in payload["targets"]) == sorted(
        f"{node.hostname}:{node.port}" for node in lab_cluster
    )


def test_cli_exit_codes_and_fail_on(lab) -> None:  # type: ignore[no-untyped-def]
    server = lab("tls-optional")
    args = ["probe", f"{server.hostname}:{server.port}", "--ca", str(server.certs_dir / "ca.crt")]
    args += ["--user", server.password_user]
    assert CliRunner().invoke(app, args).exit_code == 1  # VF202 is high
    assert CliRunner().invoke(app, [*args, "--fail-on", "critical"]).exit_code == 0
    text = CliRunner().invoke(app, args).output
    assert "VF202" in text and "verifyfull probe" in text
    assert server.password not in text


def test_secure_node_or_real_cockroachdb(crdb_or_lab) -> None:  # type: ignore[no-untyped-def]
    """The CockroachDB seam: with VERIFYFULL_CRDB_URL set this probes a real secure node.

    What must hold for both: TLS offered, no plaintext session, TLS 1.2 floor,
    no weak suite, the chain verifies against the cluster CA, the client
    certificate of root is accepted. Identification: a real node must be
    recognised as CockroachDB, the stand-in as PostgreSQL.
    """
    server = crdb_or_lab
    result = run(
        [parse_target(f"{server.hostname}:{server.port}")],
        ProbeSettings(
            ca=server.certs_dir / "ca.crt",
            cert=server.certs_dir / "client.root.crt",
            key=server.certs_dir / "client.root.key",
            users=("root",),
            database=server.database,
        ),
    )
    (endpoint,) = result.endpoints
    assert result.report.findings == ()
    assert endpoint.fact("SSLRequest") == "S (TLS offered)"
    assert endpoint.fact("TLS with client cert (root)") == "certificate accepted: logged in"
    expected_kind = "cockroachdb" if server.variant == "cockroachdb" else "postgresql"
    assert endpoint.kind == expected_kind


def test_policy_and_fail_on_come_from_pyproject(  # type: ignore[no-untyped-def]
    lab, tmp_path, monkeypatch
) -> None:
    """[tool.verifyfull.policy] require_client_cert turns the secure variant's app_pw into VF205."""
    (tmp_path / "pyproject.toml").write_text(
        '[tool.verifyfull]\nfail-on = "critical"\n\n'
        "[tool.verifyfull.policy]\nrequire_client_cert = true\n"
    )
    monkeypatch.chdir(tmp_path)
    server = lab("secure")
    args = ["probe", f"{server.hostname}:{server.port}", "--ca", str(server.certs_dir / "ca.crt")]
    args += ["--user", server.password_user, "--format", "json"]
    outcome = CliRunner().invoke(app, args)
    assert outcome.exit_code == 0, outcome.output  # VF205 is high, fail-on is critical
    assert [f["rule"] for f in json.loads(outcome.output)["findings"]] == ["VF205"]
    assert CliRunner().invoke(app, [*args, "--fail-on", "high"]).exit_code == 1


def test_every_address_of_a_node_is_judged_against_its_certificate(lab) -> None:  # type: ignore[no-untyped-def]
    """localhost, 127.0.0.1 and [::1] (when the lab listens there) are all in the node SAN."""
    server = lab("secure")
    hosts = [server.hostname, "127.0.0.1"]
    if socket.has_ipv6:
        try:
            socket.create_connection(("::1", server.port), timeout=1).close()
            hosts.append("[::1]")
        except OSError:
            pass
    dsn = "postgresql://root@" + ",".join(f"{h}:{server.port}" for h in hosts) + "/defaultdb"
    result = run([parse_target(dsn)], ProbeSettings(ca=server.certs_dir / "ca.crt"))
    assert len(result.endpoints) == len(hosts)
    assert result.report.findings == () and result.report.errors == ()
