"""A named root certificate that is not where the program runs (issue 12, class 7).

libpq reads a relative `sslrootcert` from the working directory of the program. The
scanner looks for it at the project root and beside the file; when it is in neither,
the site is judged as libpq judges it without the file (conninfo asked again with the
key dropped): `require` then checks no certificate, instead of the verify-ca upgrade a
present file gives. A path the project's .gitignore ignores (`*.pem`) is kept out of
git on purpose, so a checkout lacks it where a working copy has it: it is presumed
present (libpq's require with the file checks the chain: verify-ca). verify-ca /
verify-full without the file fail at connect (fail closed: no finding); an absolute,
`~` or run-time path is the deployment's.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

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
from verifyfull.rules import MODE_RULES
from verifyfull.scan.python.context import Analysis
from verifyfull.scan.walk import gitignored

PLACEHOLDER = "unknown"  # what sites.py writes for an unknown part
TRANSPORT = MODE_RULES


def named_root(info: ConnInfo) -> str | None:
    return info.param("sslrootcert") or info.kwarg("sslrootcert")


def _unseen(a: Analysis, driver: Driver, info: ConnInfo) -> list[Path]:
    """Where the scanner looks for a relative sslrootcert libpq reads (the project root,
    beside the file) when it is in neither; [] when it is there, or the path is not
    one the tree can hold (absolute, home, run-time, not libpq)."""
    root = named_root(info)
    if not root or root == "system" or PLACEHOLDER in root or root.startswith(("/", "~")):
        return []
    if re.match(r"^[A-Za-z]:[\\/]", root) or resolve_target(info, driver).engine != "libpq":
        return []
    places = [base / root for base in (a.ctx.root.resolve(), a.source.path.resolve().parent)]
    return [] if any(path.exists() for path in places) else places


def kept_out_of_git(a: Analysis, driver: Driver, info: ConnInfo) -> str | None:
    """A note when the root file is not in the tree because .gitignore keeps it out
    (`*.pem`): a checkout lacks what the working copy it runs from has, so the file is
    presumed present (judged as written); None otherwise."""
    places = _unseen(a, driver, info)
    if not any(gitignored(a.ctx.root.resolve(), path) for path in places):
        return None
    return (
        f"sslrootcert {named_root(info)!r} is not in the scanned tree, but .gitignore keeps "
        "it out of git: presumed present in the working directory the program runs in"
    )


def absent_root(
    a: Analysis, driver: Driver, info: ConnInfo, written: Verdict
) -> tuple[ConnInfo, Verdict] | None:
    """Class 7: a relative sslrootcert that is in the scanned tree neither at the project
    root nor beside the file. libpq reads it from the program's working directory; when
    it is not there, `require` checks nothing (no verify-ca upgrade) and verify-ca /
    verify-full fail at connect (fail closed: no finding). The site is then judged as
    libpq judges it without the file, and the evidence names the path. An absolute or
    home path, or one built at run time, is left as written (the deployment may
    provide it; docs/scan.md), and so is a git-ignored one (kept_out_of_git)."""
    if not _unseen(a, driver, info) or kept_out_of_git(a, driver, info) is not None:
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
