"""Classes the session 9 whole-corpus run left (helper accuracy, issues 12/13), each
generated over its shapes; filtered == full analysis throughout (the prefilter's
soundness)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_scan_python_prefilter import _filtered
from verifyfull.policy import Policy
from verifyfull.scan.api import ScanContext, SourceFile
from verifyfull.scan.python.check import run_analysis

_SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

Seen = tuple[str, int, str, str]


def _findings(root: Path, relpath: str) -> set[Seen]:
    """Every finding of one file, with its message and evidence (what a user reads)."""
    path = root / relpath
    source = SourceFile(path, relpath, path.read_text(encoding="utf-8"))
    found = run_analysis(source, ScanContext(root=root, policy=Policy())).findings
    filtered = _filtered(source, ScanContext(root=root, policy=Policy()))
    assert filtered == sorted((f.rule_id, f.line or 0, f.column or 0) for f in found)
    return {(f.rule_id, f.line or 0, f.message, f.evidence) for f in found}


def _project(tmp_path: Path, key: object, files: dict[str, str]) -> Path:
    root = tmp_path / f"p{abs(hash(key))}"
    root.mkdir(exist_ok=True)
    (root / ".git").mkdir(exist_ok=True)  # its own project, whatever encloses tmp_path
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


# --- the connection string passed by keyword is read once ---------------------------

_MODES = ("", "disable", "allow", "prefer", "require", "verify-ca", "verify-full")
_HOSTS = ("db.internal", "10.0.0.5", "/var/run/postgresql")


@st.composite
def _conninfo(draw: st.DrawFn) -> str:
    host = draw(st.sampled_from(_HOSTS))
    mode = draw(st.sampled_from(_MODES))
    password = draw(st.sampled_from(("", "Kq7vZp2xWm")))
    if draw(st.booleans()):
        query = f"?sslmode={mode}" if mode else ""
        auth = f"app:{password}@" if password else "app@"
        where = host if not host.startswith("/") else ""
        return f"postgresql://{auth}{where}/app{query}"
    parts = [f"host={host}", "dbname=app", "user=app"]
    parts += [f"password={password}"] if password else []
    parts += [f"sslmode={mode}"] if mode else []
    return " ".join(draw(st.permutations(parts)))


# (import line, call with {positional} / {keyword} for the connection string)
_LIBPQ_CALLS = (
    ("import psycopg2", "psycopg2.connect({dsn}{extra})", "dsn"),
    ("import psycopg", "psycopg.connect({dsn}{extra})", "conninfo"),
    ("from psycopg2 import pool", "pool.ThreadedConnectionPool(1, 10, {dsn}{extra})", "dsn"),
    ("from psycopg2 import pool", "pool.SimpleConnectionPool(1, 4, {dsn}{extra})", "dsn"),
)
_EXTRAS = ("", ", sslmode='require'", ", sslmode='disable'", ", connect_timeout=5")


@_SETTINGS
@given(
    call=st.sampled_from(_LIBPQ_CALLS),
    dsn=_conninfo(),
    extra=st.sampled_from(_EXTRAS),
    pool_keywords=st.booleans(),
)
def test_a_connection_string_by_keyword_reads_as_the_positional_one(
    tmp_path: Path, call: tuple[str, str, str], dsn: str, extra: str, pool_keywords: bool
) -> None:
    """`connect(dsn=X)` / `connect(conninfo=X)` is `connect(X)`: the string is one source,
    not also a libpq keyword option (its evidence printed the string twice); psycopg2.pool's
    `minconn=` / `maxconn=` are the pool's, never libpq options."""
    imports, template, name = call
    positional = template.format(dsn=repr(dsn), extra=extra)
    keyword = template.format(dsn=f"{name}={dsn!r}", extra=extra)
    if pool_keywords and "Pool(" in template:
        keyword = keyword.replace("(1, 10, ", "(minconn=1, maxconn=10, ")
        keyword = keyword.replace("(1, 4, ", "(minconn=1, maxconn=4, ")
    root = _project(
        tmp_path,
        (call, dsn, extra, pool_keywords),
        {
            "positional.py": f"{imports}\n\nDB = {positional}\n",
            "keyword.py": f"{imports}\n\nDB = {keyword}\n",
        },
    )
    by_position = _findings(root, "positional.py")
    assert by_position == _findings(root, "keyword.py"), (positional, keyword)
    tcp = "/var/run" not in dsn and "@/" not in dsn
    judged = "verify-full" in dsn and "sslmode=" not in extra
    assert any(rule.startswith("VF10") for rule, *_ in by_position) or not tcp or judged
