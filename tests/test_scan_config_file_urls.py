"""A connection URL the code reads from a config file of the tree with configparser is
judged where the file writes it (config_files.py): the call is no VF108 of its own
unless a value it may get is no connection string, the file is not in the tree, or
another argument may decide TLS."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verifyfull.scan import engine
from verifyfull.scan.settings import ScanSettings

URLS = (
    "postgresql://app@db.internal:5432/app",
    "postgresql://app@db.internal/app?sslmode=disable",
    "postgresql://app@db.internal/app?sslmode=verify-full",
    "host=db.internal dbname=app sslmode=require",
    "''",
    "",
)
NOT_URLS = ("see the vault entry", "${DATABASE_URL}", "TODO")


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    values=st.lists(st.sampled_from(URLS + NOT_URLS), min_size=1, max_size=3),
    literal_section=st.booleans(),
    file_in_tree=st.booleans(),
    ssl_argument=st.booleans(),
    reader=st.sampled_from(("ConfigParser", "RawConfigParser")),
)
def test_a_url_from_the_trees_config_file_is_judged_where_it_is_written(
    tmp_path_factory: pytest.TempPathFactory,
    values: list[str],
    literal_section: bool,
    file_in_tree: bool,
    ssl_argument: bool,
    reader: str,
) -> None:
    """On the code before this test, every example whose call should be quiet failed
    (it was always a VF108: "the URL is result of config.get()")."""
    root = tmp_path_factory.mktemp("cfg")
    if file_in_tree:
        sections = "".join(f"[s{i}]\nURL = {v}\n\n" for i, v in enumerate(values))
        (root / "config.ini").write_text(sections, encoding="utf-8")
    section = '"s0"' if literal_section else "env"
    extra = ', ssl=os.environ["DB_SSL"]' if ssl_argument else ""
    (root / "pool.py").write_text(
        "import configparser\nimport os\n\nfrom databases import Database\n\n"
        f"config = configparser.{reader}()\n"
        "config.read('config.ini')\n"
        "env = os.environ.get('APP_ENV', 's0')\n"
        f"database = Database(url=config.get({section}, 'URL'){extra})\n",
        encoding="utf-8",
    )
    result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    at_call = {f.rule_id for f in result.report.findings if f.path == "pool.py"}
    candidates = values[:1] if literal_section else values
    quiet = file_in_tree and not ssl_argument and all(v in URLS for v in candidates)
    assert ("VF108" in at_call) == (not quiet), (values, literal_section, at_call)


def test_the_fixture_is_judged_at_the_file(tmp_path: Path) -> None:
    fixture = Path(__file__).parent / "fixtures" / "scan" / "python" / "configparser_url"
    result = engine.scan([fixture], ScanSettings(project_root=fixture), jobs=1)
    places = {(f.path, f.line, f.rule_id) for f in result.report.findings}
    assert ("config.ini", 2, "VF102") in places
    assert not any(path == "pool.py" and line == 14 for path, line, _ in places)
