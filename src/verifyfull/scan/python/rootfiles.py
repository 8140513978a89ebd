"""A named root certificate that is not where the program runs (issue 12, class 7).

libpq reads a relative `sslrootcert` from the working directory of the program. The
scanner looks for it at the project root and beside the file; when it is in neither,
the site is judged as libpq judges it without the file (conninfo asked again with the
key dropped): `require` then checks no certificate, instead of the verify-ca upgrade a
present file gives. verify-ca / verify-full without the file fail at connect (fail
closed: no finding); an absolute, `~` or run-time path is the deployment's.
"""

from __future__ import annotations

import re
from dataclasses import replace

from verifyfull.conninfo import (
    ConnInfo,
    ConnStringError,
    Driver,
    Environment,
    Verdict,
    evaluate,
    resolve_target,
)
from verifyfull.errors import VerifyfullError
from verifyfull.scan.python.context import Analysis

PLACEHOLDER = "unknown"  # what sites.py writes for an unknown part
TRANSPORT = frozenset({"VF101", "VF102", "VF103", "VF104"})


def named_root(info: ConnInfo) -> str | None:
    return info.param("sslrootcert") or info.kwarg("sslrootcert")


def absent_root(
    a: Analysis, driver: Driver, info: ConnInfo, written: Verdict
) -> tuple[ConnInfo, Verdict] | None:
    """Class 7: a relative sslrootcert that is in the scanned tree neither at the project
    root nor beside the file. libpq reads it from the program's working directory; when
    it is not there, `require` checks nothing (no verify-ca upgrade) and verify-ca /
    verify-full fail at connect (fail closed: no finding). The site is then judged as
    libpq judges it without the file, and the evidence names the path. An absolute or
    home path, or one built at run time, is left as written (the deployment may
    provide it; docs/scan.md)."""
    root = named_root(info)
    if not root or root == "system" or PLACEHOLDER in root or root.startswith(("/", "~")):
        return None
    if re.match(r"^[A-Za-z]:[\\/]", root) or resolve_target(info, driver).engine != "libpq":
        return None
    if any((base / root).exists() for base in (a.ctx.root, a.source.path.parent)):
        return None
    without = replace(
        info,
        params=tuple(p for p in info.params if p[0] != "sslrootcert"),
        kwargs=tuple(k for k in info.kwargs if k[0] != "sslrootcert"),
    )
    try:
        verdict = evaluate(without, driver, Environment.empty(), a.ctx.policy)
    except (ConnStringError, VerifyfullError):
        return None
    if not set(verdict.rule_ids) & TRANSPORT or verdict.rule_ids == written.rule_ids:
        return None  # verify-ca / verify-full fail closed without it; or nothing changes
    return without, verdict


def absent_note(info: ConnInfo) -> str:
    return (
        f"sslrootcert {named_root(info)!r} is not in the scanned tree: libpq reads a relative "
        "path from the working directory the program runs in, and without the file "
        "require checks no certificate"
    )
