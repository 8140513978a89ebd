"""`verifyfull probe TARGET...`: ask live servers what they really accept."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from verifyfull.clihelp import SEVERITIES, one_of
from verifyfull.errors import UsageError
from verifyfull.probe import view
from verifyfull.probe.deep import find_sslyze
from verifyfull.probe.limits import DEEP_DEFAULT_TIMEOUT, DEFAULT_TIMEOUT, MAX_TIMEOUT
from verifyfull.probe.runner import ProbeSettings, run
from verifyfull.probe.targets import parse_target
from verifyfull.report import exit_code
from verifyfull.report.output import emit
from verifyfull.report.summary import quiet_line
from verifyfull.rules import Severity
from verifyfull.scan.settings import load as load_settings
from verifyfull.scrub import register_from_text

TargetsArg = Annotated[
    list[str],
    typer.Argument(
        help="postgresql://… or cockroachdb://… (every host of a multi-host DSN), host:port, "
        "https://… or http://…",
        show_default=False,
    ),
]
CaOpt = Annotated[
    Path | None,
    typer.Option(
        "--ca",
        help="CA certificate the server's chain must verify against "
        "(default: sslrootcert of the DSN, else the system roots).",
    ),
]
CertOpt = Annotated[
    Path | None, typer.Option("--cert", help="Client certificate: confirm the server accepts it.")
]
KeyOpt = Annotated[Path | None, typer.Option("--key", help="Key of --cert (never sent anywhere).")]
UserOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--user", help="User named in StartupMessages (repeatable; no password is ever sent)."
    ),
]
DatabaseOpt = Annotated[str | None, typer.Option("--database", help="Database named in them.")]
FormatOpt = Annotated[
    str, typer.Option("--format", "-f", metavar=one_of(view.FORMATS), help="The report's format.")
]
OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write the report to this file.")
]
FailOnOpt = Annotated[
    str | None,
    typer.Option(
        "--fail-on",
        metavar=SEVERITIES,
        help="Exit 1 at or above this severity (default: [tool.verifyfull] fail-on, else high).",
    ),
]
TimeoutOpt = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        help=f"Seconds each target may take in all, every connection and read included "
        f"(default {DEFAULT_TIMEOUT:g}; {DEEP_DEFAULT_TIMEOUT:g} with --deep).",
        show_default=False,
    ),
]
MtlsOpt = Annotated[
    bool,
    typer.Option(
        "--require-client-cert",
        help="Policy: every user must present a client certificate (VF205 otherwise).",
    ),
]
QuietOpt = Annotated[
    bool,
    typer.Option("--quiet", "-q", help="Print only the summary line, and nothing when clean."),
]
VerboseOpt = Annotated[
    bool,
    typer.Option(
        "--verbose",
        "-v",
        help="Text: also list every fact per target (certificate, versions and ciphers, "
        "per-user answers), as JSON has them.",
    ),
]
DeepOpt = Annotated[
    bool, typer.Option("--deep", help="Also enumerate every suite with sslyze (optional extra).")
]


def probe_command(
    targets: TargetsArg,
    ca: CaOpt = None,
    cert: CertOpt = None,
    key: KeyOpt = None,
    users: UserOpt = None,
    database: DatabaseOpt = None,
    fmt: FormatOpt = "text",
    output: OutputOpt = None,
    fail_on: FailOnOpt = None,
    timeout: TimeoutOpt = None,
    require_client_cert: MtlsOpt = False,
    deep: DeepOpt = False,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Probe live PostgreSQL/CockroachDB servers and HTTPS APIs: plaintext, TLS versions,
    ciphers, certificate, real client-certificate requirement, CVE-2021-23214.

    The policy and the default --fail-on come from [tool.verifyfull] in the
    nearest pyproject.toml, as for `verifyfull scan`."""
    project = load_settings(Path.cwd())
    try:
        threshold = Severity.parse(fail_on) if fail_on else project.fail_on
    except ValueError as exc:
        raise UsageError(f"--fail-on: {exc}") from None
    if fmt not in view.FORMATS:
        raise UsageError(f"unknown format {fmt!r}", f"use one of {', '.join(view.FORMATS)}")
    if timeout is None:
        timeout = DEEP_DEFAULT_TIMEOUT if deep else DEFAULT_TIMEOUT
    if not 0 < timeout <= MAX_TIMEOUT:
        raise UsageError(
            f"--timeout {timeout:g} is out of range", f"use 0.1 to {MAX_TIMEOUT:g} seconds"
        )
    for path in (ca, cert, key):
        if path is not None and not path.is_file():
            raise UsageError(f"{path} not found", "pass an existing PEM file")
    policy = project.policy
    if require_client_cert:
        policy = policy.with_overrides({"require_client_cert": True})
    settings = ProbeSettings(
        ca=ca,
        cert=cert,
        key=key,
        users=tuple(users or ()),
        database=database,
        timeout=timeout,
        policy=policy,
        sslyze=find_sslyze() if deep else None,
    )
    for given in targets:  # a password typed in a target is masked wherever it is shown
        register_from_text(given)
    result = run([parse_target(t) for t in targets], settings)
    if quiet and verbose:
        raise UsageError("--quiet and --verbose contradict each other", "pass one of them")
    text = quiet_line(result.report) if quiet else view.render(result, fmt, verbose=verbose)
    emit(text, output)
    raise typer.Exit(exit_code(result.report, threshold))
