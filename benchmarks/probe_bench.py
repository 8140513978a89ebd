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
from verifyfull.policy import server_suite_weakness
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
    """Protocols, trust against the supplied CA, weak TLS 1.2 suites, client-cert requirement."""
    data = json.loads(json_file.read_text())
    server = data["server_scan_results"][0]
    if server["scan_result"] is None:
        trace = str(server.get("connectivity_error_trace") or "no scan result").strip()
        return {"error": trace.splitlines()[-1][-160:]}
    result = server["scan_result"]
    accepted = []
    for key, name in (
        ("tls_1_0_cipher_suites", "TLSv1"),
        ("tls_1_1_cipher_suites", "TLSv1.1"),
        ("tls_1_2_cipher_suites", "TLSv1.2"),
        ("tls_1_3_cipher_suites", "TLSv1.3"),
    ):
        if result[key]["result"]["accepted_cipher_suites"]:
            accepted.append(name)
    deployment = result["certificate_info"]["result"]["certificate_deployments"][0]
    trust = next(
        (
            "trusted" if r.get("was_validation_successful") else str(r.get("validation_error"))
            for r in deployment["path_validation_results"]
            if "Supplied" in r["trust_store"]["name"]
        ),
        "no supplied-CA result",
    )
    weak = sorted(
        {
            why
            for s in result["tls_1_2_cipher_suites"]["result"]["accepted_cipher_suites"]
            if (why := server_suite_weakness(s["cipher_suite"]["openssl_name"]))
        }
    )
    return {
        "TLS versions": ", ".join(accepted),
        "chain": trust,
        "weak TLS 1.2 suites": "; ".join(weak) or "none",
        "client cert": server["connectivity_result"]["client_auth_requirement"],
    }


def our_verdicts(run_result: Any) -> dict[str, str]:
    endpoint = run_result.endpoints[0]
    rules = {f.rule_id for f in endpoint.findings}
    weak = str(endpoint.fact("weak TLS 1.2 suites"))
    classes = sorted(part.rsplit(" (", 1)[0] for part in weak.split("; ")) if "(" in weak else []
    no_cert = [f.value for f in endpoint.facts if f.name.startswith("TLS without client cert")]
    return {
        "TLS versions": str(endpoint.fact("TLS versions")),
        "chain": "VF301" if "VF301" in rules else "trusted",
        "weak TLS 1.2 suites": "; ".join(classes) or "none",
        "client cert": "; ".join(v.split(":")[0] for v in no_cert),
    }


def run_sslyze(sslyze: str, server: harness.LabServer) -> tuple[float, dict[str, str]]:
    json_file = Path(tempfile.mkdtemp()) / "sslyze.json"
    argv = [
        sslyze,
        "--starttls",
        "postgres",
        "--certinfo_ca_file",
        str(server.certs_dir / "ca.crt"),
    ]
    seconds = timed([*argv, "--json_out", str(json_file), f"{server.hostname}:{server.port}"])
    return seconds, sslyze_verdicts(json_file)


def compare(variants: list[str], sslyze: str) -> None:
    """Verdicts per lab variant, side by side: the disagreement list of docs/probe.md."""
    print("\n| variant | question | verifyfull probe | sslyze |\n|---|---|---|---|")
    for variant in variants:
        with harness.running(variant) as server:
            settings = ProbeSettings(
                ca=server.certs_dir / "ca.crt", users=("root", server.password_user)
            )
            ours = our_verdicts(run([parse_target(f"{server.hostname}:{server.port}")], settings))
            _, theirs = run_sslyze(sslyze, server)
        for question, mine in ours.items():
            other = theirs.get(question, theirs.get("error", "-"))
            mark = "" if mine == other else " **differs**"
            print(f"| {variant} | {question} | {mine} | {other}{mark} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", default="secure")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sslyze", default=shutil.which("sslyze") or "/tmp/sslyze-venv/bin/sslyze")
    parser.add_argument("--sslscan", default=shutil.which("sslscan"))
    parser.add_argument("--testssl", default=shutil.which("testssl") or shutil.which("testssl.sh"))
    parser.add_argument("--skip-testssl", action="store_true")
    parser.add_argument(
        "--compare", default="", help="comma-separated lab variants: verdicts vs sslyze"
    )
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
        has_sslyze = bool(args.sslyze) and Path(args.sslyze).exists()
        if has_sslyze:
            seconds, _ = run_sslyze(args.sslyze, server)
            rows.append(("sslyze (default scan, --starttls postgres)", f"{seconds:.2f} s", ""))
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
    if args.compare and has_sslyze:
        compare([v.strip() for v in args.compare.split(",") if v.strip()], args.sslyze)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
