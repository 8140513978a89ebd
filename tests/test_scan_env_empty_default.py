"""An environment read whose default is empty (`os.environ.get("DB_HOST", default="")`)
configures nothing when the variable is unset: the value that runs is the
deployment's, so that world is judged too. A host from it is a TCP host (issue 12
item 1): with no TLS setting in the code, libpq's and asyncpg's default, prefer
(VF102; Sajeyks/Django-Helm, whose Helm chart sets POSTGRES_HOST); a whole URL from
it is the deployment's (VF108)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verifyfull.scan.api import ScanContext, SourceFile
from verifyfull.scan.python.check import run_analysis

TRANSPORT = {"VF101", "VF102", "VF103", "VF104", "VF105", "VF106", "VF107", "VF108"}

READERS = (
    'os.environ.get("{name}", "")',
    'os.environ.get("{name}", default="")',
    'os.getenv("{name}", "")',
    "os.getenv('{name}', default='')",
)
HOST_SITES = (
    "conn = psycopg2.connect(host={host}, dbname='app', user='app')",
    "conn = psycopg.connect(host={host}, dbname='app')",
    "conn = asyncpg.connect(host={host}, database='app')",
    "DATABASES = {{'default': {{'ENGINE': 'django.db.backends.postgresql', "
    "'NAME': 'app', 'HOST': {host}, 'PORT': '5432'}}}}",
)
URL_SITES = (
    "engine = create_engine({url})",
    "conn = psycopg2.connect({url})",
    "pool = asyncpg.create_pool(dsn={url})",
)
HEADER = "import os\nimport asyncpg\nimport psycopg\nimport psycopg2\n"
HEADER += "from sqlalchemy import create_engine\n"


def _rules(root: Path, text: str) -> set[str]:
    path = root / "settings.py"
    path.write_text(text, encoding="utf-8")
    analysis = run_analysis(SourceFile(path, "settings.py", text), ScanContext(root=root))
    return {f.rule_id for f in analysis.findings if f.rule_id in TRANSPORT}


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    reader=st.sampled_from(READERS),
    site=st.sampled_from(HOST_SITES),
    name=st.sampled_from(("POSTGRES_HOST", "DB_HOST", "PGHOST_OVERRIDE")),
    in_function=st.booleans(),
)
def test_a_host_with_an_empty_default_is_the_deployments_tcp_host(
    tmp_path_factory: pytest.TempPathFactory, reader: str, site: str, name: str, in_function: bool
) -> None:
    """On the code before this test every example failed: the empty default (a Unix
    socket) was the only world judged, and nothing was reported."""
    line = site.format(host=reader.format(name=name))
    body = f"def connect():\n    {line}\n" if in_function else f"{line}\n"
    assert _rules(tmp_path_factory.mktemp("env"), HEADER + body) == {"VF102"}, line


@pytest.mark.parametrize("site", URL_SITES)
@pytest.mark.parametrize("reader", READERS)
def test_a_url_with_an_empty_default_is_the_deployments(
    tmp_path: Path, site: str, reader: str
) -> None:
    line = site.format(url=reader.format(name="DATABASE_URL"))
    assert _rules(tmp_path, HEADER + line + "\n") == {"VF108"}, line


def test_a_socket_default_stays_the_default(tmp_path: Path) -> None:
    """A non-empty default is a choice the code makes: judged as written (a socket
    directory has no TLS question), as before."""
    line = "conn = psycopg2.connect(host=os.getenv('H', '/var/run/postgresql'), dbname='a')"
    assert _rules(tmp_path, HEADER + line + "\n") == set()
