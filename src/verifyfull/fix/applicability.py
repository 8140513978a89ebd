"""Safe or unsafe, as Ruff has it: what a fix needs at run time that the program did not.

A fix is safe when the program behaves as before apart from the connection now being
verified (`sslmode=require` with a root the code already names -> `verify-full` with the
same root; `check_hostname = False` removed). It is unsafe when the fixed program needs
something new where it runs: an environment variable it did not read, a root certificate
where libpq or asyncpg looks for one by default, a new dependency (the guard). Unsafe
fixes are applied only with `--unsafe-fixes`.

One mechanism for every fixer: the needs are read from what a fix writes (its file
before and after, one reported line at a time), not declared by each codemod, so a new
codemod is classified the day it is written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# Reads of a variable: os.environ["X"], os.environ.get("X"), os.getenv("X"), and the
# ${X} a .env or compose file interpolates.
_ENV_READ = re.compile(
    r"""(?:environ\s*\[\s*|environ\.get\(\s*|getenv\(\s*)(['"])([A-Za-z_][A-Za-z0-9_]*)\1"""
)
_INTERPOLATED = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")
_MISSING = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*) is not set")
_GUARD = re.compile(r"\bverifyfull\.guard\b")
# Forms that verify against a root and name none themselves may take it from a default
# place (libpq's and asyncpg's PGSSLROOTCERT or ~/.postgresql/root.crt).
_VERIFIES = re.compile(r"verify-full|PROTOCOL_TLS_CLIENT")
_ROOT_NAMED = re.compile(
    r"sslrootcert|PGSSLROOTCERT|cafile|capath|cadata|load_verify_locations|load_default_certs",
    re.IGNORECASE,
)
_CERTS_DIR = re.compile(r"--certs-dir[= ]")
NODE_CERTS = "the node's certificates in its --certs-dir (verifyfull certs create-ca/create-node)"
ROOT_DEFAULT = "a root certificate where the driver looks by default (PGSSLROOTCERT)"
GUARD_DEPENDENCY = "verifyfull as a dependency (the guard)"


def _variables(text: str) -> tuple[set[str], set[str]]:
    """The variables `text` requires and those it reads only when set: a read without a
    default (`os.environ["X"]`) that no `.get("X")` guards, or one whose absence is an
    error (`X is not set`, the check fixed code writes), is required."""
    subscripted: set[str] = set()
    guarded = set(_INTERPOLATED.findall(text))
    for match in _ENV_READ.finditer(text):
        (subscripted if "[" in match.group(0) else guarded).add(match.group(2))
    required = (subscripted - guarded) | (set(_MISSING.findall(text)) & (subscripted | guarded))
    return required, (subscripted | guarded) - required


def _settings_reads(text: str, reads: Mapping[str, str]) -> tuple[set[str], set[str]]:
    """As _variables, for fields of a settings object (`settings.DB_CA_PATH`: the variable
    pydantic reads it from), required when their absence is an error."""
    read = {variable for code, variable in reads.items() if code in text}
    required = read & set(_MISSING.findall(text))
    return required, read - required


def needs(
    before: str,
    after: str,
    reads: Mapping[str, str] | None = None,
    fields_in: str | None = None,
) -> tuple[str, ...]:
    """What `after` needs at run time that `before` did not (empty: a safe fix).

    reads: code of a settings field read -> the environment variable it comes from;
    fields_in: where the settings class gaining those fields is (for the report)."""
    required, optional = _variables(after)
    was_required, was_read = _variables(before)
    if reads:
        more, maybe = _settings_reads(after, reads)
        had, seen = _settings_reads(before, reads)
        required, optional = required | more, optional | maybe
        was_required, was_read = was_required | had, was_read | seen
    out = [f"{name} set" for name in sorted(required - was_required)]
    out += [f"{name} (read when set)" for name in sorted(optional - was_read - was_required)]
    if fields_in and reads and any(code in after and code not in before for code in reads):
        out.append(f"the fields {fields_in} gains")
    if _GUARD.search(after) and not _GUARD.search(before):
        # the guard reads its root (and any client certificate) from the DB_* settings
        return (*out, GUARD_DEPENDENCY, "its DB_CA_PATH setting")
    if len(_CERTS_DIR.findall(after)) > len(_CERTS_DIR.findall(before)):
        out.append(NODE_CERTS)
    verifies_more = len(_VERIFIES.findall(after)) > len(_VERIFIES.findall(before))
    if verifies_more and not _ROOT_NAMED.search(after):
        out.append(ROOT_DEFAULT)
    return tuple(out)


def describe(needed: tuple[str, ...]) -> str:
    """How the report marks a fix: `safe`, or `unsafe: needs …`."""
    return "safe" if not needed else "unsafe: needs " + ", ".join(needed)
