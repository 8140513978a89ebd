"""`from settings import *`: the names a project module imports are the importing
module's too, so a driver or framework call written with a star-imported name is
the site it is with the import written out. Generated over drivers, chains of
settings modules and what the call says; filtered == full analysis throughout."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_scan_python_prefilter import _filtered
from verifyfull.policy import Policy
from verifyfull.scan.api import ScanContext, SourceFile
from verifyfull.scan.python.check import run_analysis

# (import line, call written with the imported name, {url} or {mode} in it)
CALLS = (
    ("from sqlalchemy import create_engine", "create_engine('{url}')"),
    ("import psycopg2", "psycopg2.connect('{url}')"),
    ("from asyncpg import create_pool", "create_pool('{url}')"),
    (
        "from piccolo.engine.postgres import PostgresEngine",
        "PostgresEngine(config={{'dsn': '{url}'}})",
    ),
)
QUERIES = ("", "?sslmode=disable", "?sslmode=require", "?sslmode=verify-full&sslrootcert=system")


def _rules(root: Path, relpath: str) -> set[tuple[str, int]]:
    path = root / relpath
    source = SourceFile(path, relpath, path.read_text(encoding="utf-8"))
    found = run_analysis(source, ScanContext(root=root, policy=Policy())).findings
    filtered = _filtered(source, ScanContext(root=root, policy=Policy()))
    assert filtered == sorted((f.rule_id, f.line or 0, f.column or 0) for f in found)
    return {(f.rule_id, f.line or 0) for f in found if f.rule_id != "VF401"}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    call=st.sampled_from(CALLS),
    query=st.sampled_from(QUERIES),
    hops=st.integers(min_value=1, max_value=3),
)
def test_a_star_imported_name_is_the_name_it_imports(
    tmp_path: Path, call: tuple[str, str], query: str, hops: int
) -> None:
    imported, template = call
    code = template.format(url=f"postgresql://app@db.internal:5432/app{query}")
    root = tmp_path / f"p{abs(hash((imported, query, hops)))}"
    root.mkdir(exist_ok=True)
    # settings0.py imports the name; settings1..n re-export it with `import *`.
    (root / "settings0.py").write_text(f"{imported}\n", encoding="utf-8")
    for index in range(1, hops):
        (root / f"settings{index}.py").write_text(
            f"from settings{index - 1} import *  # noqa\n", encoding="utf-8"
        )
    (root / "direct.py").write_text(f"{imported}\n\nDB = {code}\n", encoding="utf-8")
    (root / "app.py").write_text(
        f"from settings{hops - 1} import *  # noqa\n\nDB = {code}\n", encoding="utf-8"
    )
    assert _rules(root, "app.py") == _rules(root, "direct.py"), (imported, query, hops)


def test_a_name_bound_here_is_not_the_star_imported_one(tmp_path: Path) -> None:
    (tmp_path / "settings.py").write_text("from sqlalchemy import create_engine\n")
    (tmp_path / "app.py").write_text(
        "from settings import *  # noqa\n\n\ndef create_engine(url):\n    return url\n\n\n"
        "DB = create_engine('postgresql://app@db.internal/app')\n"
    )
    assert _rules(tmp_path, "app.py") == set()
