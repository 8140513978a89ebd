"""`verifyfull certs`: create certificates with `cockroach cert`'s flags, and check them.

Only views and flag parsing live here; creation is certs.create, judgement
certs.check / certs.judge. Nothing printed here contains key material: the
summaries are built from CertInfo (public facts) and file paths.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from verifyfull.certs.check import check_certs_dir
from verifyfull.certs.create import (
    DEFAULT_CA_LIFETIME,
    DEFAULT_CERT_LIFETIME,
    Issued,
    KeySpec,
    Validity,
    create_ca,
    create_client,
    create_node,
)
from verifyfull.certs.duration import format_go_duration, parse_go_duration
from verifyfull.certs.inspect import CertInfo, load_cert_infos
from verifyfull.certs.layout import CLIENT_CA_CERT, list_certs
from verifyfull.clihelp import SEVERITIES, one_of
from verifyfull.errors import UsageError
from verifyfull.report import exit_code
from verifyfull.report import html as html_view
from verifyfull.report import json as json_view
from verifyfull.report import sarif as sarif_view
from verifyfull.report import text as text_view
from verifyfull.report.model import Report
from verifyfull.report.output import emit
from verifyfull.report.summary import quiet_line
from verifyfull.rules import Severity
from verifyfull.scan import settings as project_settings
from verifyfull.scrub import scrub_tree
from verifyfull.terminal import shown

app = typer.Typer(
    help="Create and check certificates in the cockroach cert layout.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,  # one help style for every command (verifyfull.cli)
)

_BAD = "[TEST ONLY: deliberately bad]"
CertsDir = Annotated[
    Path, typer.Option("--certs-dir", help="Directory for ca.crt, node.*, client.*.")
]
CaKey = Annotated[Path, typer.Option("--ca-key", help="The CA key from create-ca.")]
KeyType = Annotated[
    str, typer.Option("--key-type", metavar=one_of(("rsa", "ec", "ed25519")), help="Key algorithm.")
]
KeySize = Annotated[
    int,
    typer.Option(
        "--key-size",
        help=f"RSA bits (2048+) or EC curve bits (256, 384, 521). {_BAD} RSA 1024, EC 192.",
    ),
]
HashName = Annotated[
    str,
    typer.Option(
        "--hash",
        metavar=one_of(("sha256", "sha384", "sha512", "sha1", "md5")),
        help=f"Signature hash. {_BAD} sha1, md5.",
    ),
]
Overwrite = Annotated[bool, typer.Option("--overwrite", help="Replace existing files.")]
Expired = Annotated[
    bool, typer.Option("--expired", help=f"{_BAD} Issue a certificate that expired yesterday.")
]
CaLifetime = Annotated[
    str | None, typer.Option("--lifetime", help="Go duration; default 87840h (10 years).")
]
AllowCaKeyReuse = Annotated[
    bool, typer.Option("--allow-ca-key-reuse", help="Sign with the existing key at --ca-key.")
]
CertLifetime = Annotated[
    str | None, typer.Option("--lifetime", help="Go duration; default 43920h (5 years).")
]


def _key_spec(key_type: str, key_size: int) -> KeySpec:
    kind = key_type.strip().lower()
    if kind == "rsa":
        return KeySpec("rsa", key_size)
    if kind == "ec":
        return KeySpec("ec", key_size)
    if kind == "ed25519":
        return KeySpec("ed25519", 256)
    raise UsageError(f"unknown key type {key_type!r}", "use --key-type rsa, ec or ed25519")


def _validity(lifetime: str | None, default: dt.timedelta, expired: bool) -> Validity:
    if expired:
        if lifetime is not None:
            raise UsageError("--expired and --lifetime exclude each other", "pass only one")
        return Validity.expired()
    return Validity(parse_go_duration(lifetime) if lifetime else default)


def _describe_written(issued: Issued, *, key_label: str = "key") -> None:
    info = load_cert_infos(issued.cert_path)[0]
    typer.echo(f"wrote {issued.cert_path}")
    _echo_info(info)
    mode = stat.S_IMODE(os.stat(issued.key_path).st_mode)
    typer.echo(f"  {key_label:<9} {issued.key_path} (mode {mode:04o})")


def _echo_info(info: CertInfo) -> None:
    lifetime = format_go_duration(info.not_after - info.not_before)
    rows = [
        ("subject", info.subject),
        ("issuer", info.issuer),
        ("key", f"{info.key_type.upper()} {info.key_bits} bits"),
        ("signature", info.signature_algorithm),
        ("valid", f"{info.not_before:%Y-%m-%d %H:%M} .. {info.not_after:%Y-%m-%d %H:%M} UTC"),
        ("lifetime", lifetime),
        ("sha256", info.fingerprint_sha256),
    ]
    if info.sans:
        sans = [f"DNS:{n}" for n in info.dns_names] + [f"IP:{a}" for a in info.ip_addresses]
        rows.insert(2, ("SAN", ", ".join(sans)))
    for label, value in rows:
        typer.echo(shown(f"  {label:<9} {value}"))  # a subject may hold control codes


@app.command("create-ca")
def create_ca_command(
    certs_dir: CertsDir,
    ca_key: Annotated[
        Path, typer.Option("--ca-key", help="CA key file, kept outside --certs-dir.")
    ],
    key_type: KeyType = "rsa",
    key_size: KeySize = 2048,
    lifetime: CaLifetime = None,
    hash_name: HashName = "sha256",
    overwrite: Annotated[
        bool,
        typer.Option("--overwrite", help="Put a new CA certificate before those in ca.crt."),
    ] = False,
    allow_ca_key_reuse: AllowCaKeyReuse = False,
    expired: Expired = False,
) -> None:
    """Create ca.crt in --certs-dir and the CA key at --ca-key."""
    issued = create_ca(
        certs_dir,
        ca_key,
        key=_key_spec(key_type, key_size),
        validity=_validity(lifetime, DEFAULT_CA_LIFETIME, expired),
        hash_name=hash_name,
        overwrite=overwrite,
        allow_ca_key_reuse=allow_ca_key_reuse,
    )
    _describe_written(issued, key_label="CA key")


@app.command("create-client-ca")
def create_client_ca_command(
    certs_dir: CertsDir,
    ca_key: Annotated[
        Path, typer.Option("--ca-key", help="Client CA key file, kept outside --certs-dir.")
    ],
    key_type: KeyType = "rsa",
    key_size: KeySize = 2048,
    lifetime: CaLifetime = None,
    hash_name: HashName = "sha256",
    overwrite: Annotated[
        bool,
        typer.Option("--overwrite", help="Put a new certificate before those in ca-client.crt."),
    ] = False,
    allow_ca_key_reuse: AllowCaKeyReuse = False,
    expired: Expired = False,
) -> None:
    """Create ca-client.crt: an optional CA that issues and verifies client certificates."""
    issued = create_ca(
        certs_dir,
        ca_key,
        key=_key_spec(key_type, key_size),
        validity=_validity(lifetime, DEFAULT_CA_LIFETIME, expired),
        hash_name=hash_name,
        common_name="Cockroach Client CA",
        overwrite=overwrite,
        allow_ca_key_reuse=allow_ca_key_reuse,
        cert_name=CLIENT_CA_CERT,
    )
    _describe_written(issued, key_label="CA key")


@app.command("create-node")
def create_node_command(
    hosts: Annotated[list[str], typer.Argument(help="Every name and address clients dial.")],
    certs_dir: CertsDir,
    ca_key: Annotated[
        Path | None, typer.Option("--ca-key", help="The CA key from create-ca.")
    ] = None,
    key_type: KeyType = "rsa",
    key_size: KeySize = 2048,
    lifetime: CertLifetime = None,
    hash_name: HashName = "sha256",
    overwrite: Overwrite = False,
    expired: Expired = False,
    self_signed: Annotated[
        bool,
        typer.Option("--self-signed", help=f"{_BAD} Sign node.crt with its own key, not the CA."),
    ] = False,
) -> None:
    """Create node.crt and node.key naming every HOST in the SAN."""
    if self_signed and ca_key is not None:
        raise UsageError("--self-signed and --ca-key exclude each other", "pass only one")
    if not self_signed and ca_key is None:
        raise UsageError("--ca-key is required", "pass the CA key written by create-ca")
    issued = create_node(
        hosts,
        certs_dir,
        ca_key,
        key=_key_spec(key_type, key_size),
        validity=_validity(lifetime, DEFAULT_CERT_LIFETIME, expired),
        hash_name=hash_name,
        self_signed=self_signed,
        overwrite=overwrite,
    )
    _describe_written(issued)


@app.command("create-client")
def create_client_command(
    user: Annotated[str, typer.Argument(help="The SQL user (becomes the certificate CN).")],
    certs_dir: CertsDir,
    ca_key: CaKey,
    key_type: KeyType = "rsa",
    key_size: KeySize = 2048,
    lifetime: CertLifetime = None,
    hash_name: HashName = "sha256",
    overwrite: Overwrite = False,
    expired: Expired = False,
    also_generate_pkcs8_key: Annotated[
        bool,
        typer.Option("--also-generate-pkcs8-key", help="Also write client.USER.key.pk8 (DER)."),
    ] = False,
) -> None:
    """Create client.USER.crt and client.USER.key with CN=USER.

    Issued by ca-client.crt when the directory has one (then --ca-key is its key),
    else by ca.crt, as cockroach cert does.
    """
    issued = create_client(
        user,
        certs_dir,
        ca_key,
        key=_key_spec(key_type, key_size),
        validity=_validity(lifetime, DEFAULT_CERT_LIFETIME, expired),
        hash_name=hash_name,
        overwrite=overwrite,
        also_generate_pkcs8_key=also_generate_pkcs8_key,
    )
    _describe_written(issued)
    if also_generate_pkcs8_key:
        typer.echo(f"  {'pkcs8 key':<9} {issued.key_path}.pk8 (mode 0600)")


_VIEWS: dict[str, Callable[[Report], str]] = {
    "text": text_view.render,
    "json": json_view.render,
    "sarif": sarif_view.render,
    "html": html_view.render,
}


@app.command("check")
def check_command(
    certs_dir: Annotated[Path, typer.Argument(help="A cockroach certs directory.")],
    hosts: Annotated[
        list[str] | None,
        typer.Option("--host", help="A host clients dial; node.crt must name it (repeat)."),
    ] = None,
    output_format: Annotated[
        str,
        typer.Option(
            "--format", "-f", metavar=one_of(("text", "json", "sarif", "html")), help="Format."
        ),
    ] = "text",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report to this file.")
    ] = None,
    fail_on: Annotated[
        str, typer.Option("--fail-on", metavar=SEVERITIES, help="Exit 1 at or above this.")
    ] = "high",
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="Print only the summary line, and nothing when clean."),
    ] = False,
) -> None:
    """Check expiry, chain, key pairs, permissions, host names and CN=user in DIR.

    The policy (key floors, expiry warning window) is [tool.verifyfull.policy]
    of the pyproject.toml at or above the current directory, if any.
    """
    try:
        threshold = Severity.parse(fail_on)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    view = _VIEWS.get(output_format)
    if view is None:
        raise UsageError(f"unknown format {output_format!r}", f"use one of {', '.join(_VIEWS)}")
    # The one policy of the project we run in ([tool.verifyfull.policy]), as scan uses it.
    policy = project_settings.load(Path.cwd()).policy
    report = check_certs_dir(certs_dir, hosts=hosts or [], policy=policy)
    rendered = quiet_line(report) if quiet else view(report)
    emit(rendered, output)
    if not hosts and output_format == "text" and not quiet:
        typer.echo("note: no --host given, so node.crt's host names were not checked", err=True)
    raise typer.Exit(exit_code(report, threshold))


@app.command("list")
def list_command(
    certs_dir: Annotated[Path, typer.Argument(help="A cockroach certs directory.")],
    output_format: Annotated[
        str, typer.Option("--format", "-f", metavar=one_of(("text", "json")), help="Format.")
    ] = "text",
) -> None:
    """List the certificates and keys in DIR, as `cockroach cert list` does."""
    if output_format not in ("text", "json"):
        raise UsageError(f"unknown format {output_format!r}", "use --format text or json")
    listed = list_certs(certs_dir)
    if output_format == "json":
        payload = {"certs_dir": str(certs_dir), "certificates": [e.to_json() for e in listed]}
        typer.echo(json.dumps(scrub_tree(payload), indent=2))
        return
    typer.echo(shown(f"Certificate directory: {certs_dir}"))
    table = [("usage", "certificate file", "key file", "expires", "notes", "error")]
    for entry in listed:
        first = entry.infos[0] if entry.infos else None
        table.append(
            (
                entry.usage,
                entry.cert.name,
                entry.key.name if entry.key else "",
                f"{first.not_after:%Y-%m-%d}" if first else "",
                entry.notes,
                entry.error or "",
            )
        )
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    for line in table:
        row = "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True))
        typer.echo(shown(row.rstrip()))
