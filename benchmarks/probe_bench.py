"""Time a full default `verifyfull probe` of one lab server against the peers, same run.

    .venv/bin/python benchmarks/probe_bench.py [--variant secure] [--runs 5]
        [--sslyze PATH] [--sslscan PATH] [--testssl PATH] [--skip-testssl]

Starts one lab server (real PostgreSQL 15 with TLS, verifyfull.lab), then
times: verifyfull probe in-process (the library call the CLI makes) and as a
fresh CLI process; sslyze's default scan (--starttls postgres); sslscan
(--starttls-psql); testssl.sh (--starttls postgres). Peers that are not
installed are skipped (sslyze: pip install sslyze into its own venv, it pins
an older cryptography; sslscan and testssl.sh: Debian packages). Prints a
Markdown table and, for sslyze, the protocol and certificate verdicts next to
the probe's, so disagreements can be listed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from verifyfull.lab import harness
from verifyfull.probe.runner import ProbeSettings, run
from verifyfull.probe.targets import parse_target


def timed(argv: list[str], timeout: float = 600) -> float:
    start = time.perf_counter()
    subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    return time.perf_counter() - start


def probe_in_process(server: harness.LabServer, runs: int) -> tuple[list[float], Any]:
    settings = ProbeSettings(ca=server.certs_dir / "ca.crt")
    target = parse_target(f"{server.hostname}:{server.port}")
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = run([target], settings)
        times.append(time.perf_counter() - start)
    return times, result


def sslyze_verdicts(json_file: Path) -> dict[str, str]:
    data = json.loads(json_file.read_text())
    result = data["server_scan_results"][0]["scan_result"]
    accepted = []
    for key, name in (
        ("tls_1_0_cipher_suites", "TLSv1"),
        ("tls_1_1_cipher_suites", "TLSv1.1"),
        ("tls_1_2_cipher_suites", "TLSv1.2"),
        ("tls_1_3_cipher_suites", "TLSv1.3"),
    ):
        suites = result[key]["result"]["accepted_cipher_suites"]
        if suites:
            accepted.append(name)
    deployments = result["certificate_info"]["result"]["certificate_deployments"]
    trust = [
        f"{r['trust_store']['name']}: "
        + ("ok" if r.get("was_validation_successful") else str(r.get("validation_error")))
        for r in deployments[0]["path_validation_results"]
        if r["trust_store"]["name"] in ("Mozilla", "Custom --certinfo_ca_file")
        or "custom" in r["trust_store"]["name"].lower()
    ]
    tls12 = [
        s["cipher_suite"]["openssl_name"]
        for s in result["tls_1_2_cipher_suites"]["result"]["accepted_cipher_suites"]
    ]
    return {
        "TLS versions": ", ".join(accepted),
        "trust": "; ".join(trust),
        "TLS 1.2 suites": ", ".join(tls12),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", default="secure")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sslyze", default=shutil.which("sslyze") or "/tmp/sslyze-venv/bin/sslyze")
    parser.add_argument("--sslscan", default=shutil.which("sslscan"))
    parser.add_argument("--testssl", default=shutil.which("testssl") or shutil.which("testssl.sh"))
    parser.add_argument("--skip-testssl", action="store_true")
    args = parser.parse_args()

    rows: list[tuple[str, str, str]] = []
    with harness.running(args.variant) as server:
        address = f"{server.hostname}:{server.port}"
        times, result = probe_in_process(server, args.runs)
        rows.append(
            (
                "verifyfull probe (library call)",
                f"{statistics.median(times):.3f} s (median of {args.runs}, min {min(times):.3f})",
                f"findings: {sorted({f.rule_id for f in result.report.findings}) or 'none'}",
            )
        )
        cli = [sys.executable, "-m", "verifyfull", "probe", address]
        cli += ["--ca", str(server.certs_dir / "ca.crt"), "--format", "json"]
        cli_times = [timed(cli) for _ in range(args.runs)]
        rows.append(
            (
                "verifyfull probe (CLI process)",
                f"{statistics.median(cli_times):.3f} s (median of {args.runs})",
                "includes interpreter start and imports",
            )
        )
        ours = result.endpoints[0]
        verdicts: dict[str, tuple[str, str]] = {}
        if args.sslyze and Path(args.sslyze).exists():
            json_file = Path(tempfile.mkdtemp()) / "sslyze.json"
            ca = str(server.certs_dir / "ca.crt")
            sslyze = [args.sslyze, "--starttls", "postgres", "--certinfo_ca_file", ca]
            seconds = timed([*sslyze, "--json_out", str(json_file), address])
            rows.append(("sslyze (default scan, --starttls postgres)", f"{seconds:.2f} s", ""))
            theirs = sslyze_verdicts(json_file)
            verdicts = {
                "TLS versions": (str(ours.fact("TLS versions")), theirs["TLS versions"]),
                "certificate chain": (str(ours.fact("chain")), theirs["trust"]),
                "weak TLS 1.2 suites": (
                    str(ours.fact("weak TLS 1.2 suites")),
                    theirs["TLS 1.2 suites"],
                ),
            }
        if args.sslscan:
            seconds = timed([args.sslscan, "--no-colour", "--starttls-psql", address])
            rows.append(("sslscan (--starttls-psql)", f"{seconds:.2f} s", ""))
        if args.testssl and not args.skip_testssl:
            seconds = timed(
                [args.testssl, "--quiet", "--color", "0", "--starttls", "postgres", address]
            )
            rows.append(("testssl.sh (--starttls postgres)", f"{seconds:.2f} s", ""))

    print(f"variant: {args.variant}\n")
    print("| tool | time | note |\n|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    if verdicts:
        print("\n| question | verifyfull probe | sslyze |\n|---|---|---|")
        for question, (mine, theirs) in verdicts.items():
            print(f"| {question} | {mine} | {theirs} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
