"""Compose secrets a service reads as its database password: the file is the password.

    services:
      db:
        image: postgres:16
        secrets: [db-password]
        environment:
          POSTGRES_PASSWORD_FILE: /run/secrets/db-password
    secrets:
      db-password:
        file: db/password.txt        # committed: `thisisapoproxpassword`

Compose mounts the top-level secret's `file:` at `/run/secrets/<target>` (the
service's short entry, or a long entry's `target:`, default its `source:`), and the
postgres image's `file_env` reads a `*_PASSWORD_FILE` variable's file as the
password, trailing newlines dropped (held-out-s21, CCRI-POPROX/poprox-storage). A
committed file of one line is a literal password, judged as `POSTGRES_PASSWORD`
would be (placeholders, another engine's) and reported at the file's first line. A
file the project's .gitignore keeps out of git is not committed (a checkout has none);
a file of several lines or over 256 characters is a key or a document, not a password.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from verifyfull.findings import Finding
from verifyfull.scan.api import ScanContext, SourceFile
from verifyfull.scan.config import engines, judge
from verifyfull.scan.config.composefiles import ServiceFacts, read_small, services_of
from verifyfull.scan.config.model import Setting
from verifyfull.scan.config.password_names import password_name
from verifyfull.scan.config.yamlnodes import effective_items, scalar
from verifyfull.scan.walk import gitignored

_MOUNT_DIR = "/run/secrets/"
_MAX_PASSWORD = 256
_MAX_SECRETS = 64  # per document and per service: more than any real stack declares
_FIX = (
    "Keep the secret file out of version control (list it in .gitignore, create it at "
    "deploy time, or make it an `external: true` secret), and rotate the password."
)


def secret_file_findings(
    src: SourceFile,
    document: Node,
    services: Mapping[str, ServiceFacts],
    ctx: ScanContext,
) -> list[Finding]:
    """VF401 in each committed secret file a service reads as a database password."""
    files = _secret_files(document, src.path.parent)
    if not files:
        return []
    found: list[Finding] = []
    for name, node in services_of(document).items():
        mounts = _mounts(dict(effective_items(node)))
        environment = services.get(name, ServiceFacts()).environment
        for variable, value in environment.items():
            role = _password_role(variable)
            source = mounts.get(value.strip()) if role else None
            path = files.get(source) if source else None
            if role is None or path is None or source is None:
                continue
            found.extend(_judged(src, ctx, name, variable, role, source, path))
    return found


def _password_role(variable: str) -> str | None:
    """`POSTGRES_PASSWORD` of `POSTGRES_PASSWORD_FILE`, when that names a password."""
    name = variable.strip().upper()
    if not name.endswith("_FILE"):
        return None
    role = name[: -len("_FILE")]
    return role if password_name(role) is not None else None


def _secret_files(document: Node, directory: Path) -> dict[str, Path]:
    """The top-level secrets that are files: name -> path (relative to the compose
    file's directory; a `${VAR}` path is the deployment's, not read)."""
    items = dict(effective_items(document)) if isinstance(document, MappingNode) else {}
    secrets = items.get("secrets")
    if not isinstance(secrets, MappingNode):
        return {}
    files: dict[str, Path] = {}
    for name, node in list(effective_items(secrets))[:_MAX_SECRETS]:
        if not isinstance(node, MappingNode):
            continue
        file = scalar(dict(effective_items(node)).get("file"))
        if file and "$" not in file:
            files[name] = Path(os.path.normpath(directory / file))
    return files


def _mounts(service: Mapping[str, Node]) -> dict[str, str]:
    """Where the service sees each secret: mount path -> secret name."""
    node = service.get("secrets")
    entries = list(node.value)[:_MAX_SECRETS] if isinstance(node, SequenceNode) else []
    mounts: dict[str, str] = {}
    for entry in entries:
        if isinstance(entry, ScalarNode):
            source = target = str(entry.value)
        elif isinstance(entry, MappingNode):
            long = dict(effective_items(entry))
            source = scalar(long.get("source")) or ""
            target = scalar(long.get("target")) or source
        else:
            continue
        if source:
            mounts[target if target.startswith("/") else _MOUNT_DIR + target] = source
    return mounts


def _judged(
    src: SourceFile,
    ctx: ScanContext,
    service: str,
    variable: str,
    role: str,
    secret: str,
    path: Path,
) -> list[Finding]:
    root = ctx.root.resolve()
    absolute = path.resolve()
    if not absolute.is_relative_to(root) or gitignored(root, absolute):
        return []
    text = read_small(absolute)
    password = text.rstrip("\r\n") if text is not None else ""
    if not password or "\n" in password or len(password) > _MAX_PASSWORD:
        return []
    relpath = absolute.relative_to(root).as_posix()
    setting = Setting(role, password, 1, 1, ("services", service, "secrets", secret))
    secret_src = SourceFile(absolute, relpath, text or "")
    found = judge.judge_setting(secret_src, setting, {}, ctx.policy)
    found = [f for f in found if f.rule_id == "VF401"]
    found = engines.without_foreign(found, relpath, [setting])
    said = (
        f"the compose secret '{secret}' holds a literal database password: service "
        f"'{service}' reads the file as {role} ({variable}, {src.relpath})"
    )
    return [dataclasses.replace(f, message=said, fix=_FIX) for f in found]
