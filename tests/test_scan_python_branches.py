"""Every branch of a conditional expression is judged (issue 12, held-out class 5): a
setting written `A if X else B` may be either where it runs, so its findings are those
of A and of B together, for call sites and for framework settings alike; and a site
under a test that says its URL is another backend's (`if "sqlite" in url:`) is not a
PostgreSQL connection."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_scan_python_prefilter import _ctx, _filtered, _full, _source

FIXTURE_OK = [HealthCheck.function_scoped_fixture]
MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
CONDITIONS = (
    'os.environ.get("DB_USE_SSL", "True").lower() != "false"',
    'os.getenv("ENV") == "production"',
    "DEBUG",
)
ROOT = "/etc/ssl/db-ca.pem"
# Settings with MODE where the sslmode is written (a root certificate beside it, so
# verify-full can be met): the findings are on the setting's line.
SHAPES = (
    # Django DATABASES OPTIONS
    'DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "app", '
    '"HOST": "db.internal", "OPTIONS": {"sslrootcert": "ROOT", "sslmode": MODE}}}',
    # Flask-SQLAlchemy URI built around the mode
    'SQLALCHEMY_DATABASE_URI = "postgresql://app@db.internal/app?sslrootcert=ROOT&sslmode=" + MODE',
    # a driver call's keyword and a SQLAlchemy connect_args dict
    'conn = psycopg2.connect(host="db.internal", dbname="app", sslrootcert="ROOT", sslmode=MODE)',
    'engine = create_engine("postgresql://app@db.internal/app", '
    'connect_args={"sslrootcert": "ROOT", "sslmode": MODE})',
)
HEAD = (
    "import os\nimport psycopg2\nfrom sqlalchemy import create_engine\n\n"
    'DEBUG = os.getenv("DEBUG") == "1"\n\n'
)


def _rules(tmp_path: Path, text: str) -> set[str]:
    path = tmp_path / "settings.py"
    path.write_text(text, encoding="utf-8")
    source = _source(path, tmp_path)
    full = _full(source, _ctx(tmp_path))
    assert _filtered(source, _ctx(tmp_path)) == full, text
    line = text.count("\n")
    return {rule for rule, at, _ in full if at == line and rule != "VF401"}


@settings(max_examples=60, deadline=None, suppress_health_check=FIXTURE_OK)
@given(
    shape=st.sampled_from(SHAPES),
    body=st.sampled_from(MODES),
    orelse=st.sampled_from(MODES),
    condition=st.sampled_from(CONDITIONS),
)
def test_a_conditional_setting_has_the_findings_of_both_branches(
    tmp_path: Path, shape: str, body: str, orelse: str, condition: str
) -> None:
    shape = shape.replace("ROOT", ROOT)
    joined = f'("{body}" if {condition} else "{orelse}")'
    both = _rules(tmp_path, HEAD + shape.replace("MODE", joined) + "\n")
    alone = _rules(tmp_path, HEAD + shape.replace("MODE", f'"{body}"') + "\n")
    alone |= _rules(tmp_path, HEAD + shape.replace("MODE", f'"{orelse}"') + "\n")
    assert both == alone, shape.replace("MODE", joined)


# (the test, whether its body is another backend's, whether its else branch is)
GUARDS = (
    ('if "sqlite" in {url}.split("://", maxsplit=1)[0]:', True, False),
    ('if {url}.startswith("sqlite"):', True, False),
    ('if {url}.startswith(("sqlite", "mysql")):', True, False),
    ('if "mysql" in {url} or "sqlite" in {url}:', True, False),
    ('if "sqlite" not in {url}:', False, True),
    ('if "postgres" in {url}:', False, True),
    ('if not {url}.startswith("postgresql"):', True, False),
    ('if "sqlite" in other:', False, False),
    ('if "sqlite" in {url} and debug:', False, False),
    ("if debug:", False, False),
)


@settings(max_examples=30, deadline=None, suppress_health_check=FIXTURE_OK)
@given(guard=st.sampled_from(GUARDS), url=st.sampled_from(("uri", "self._uri", "cfg.url")))
def test_a_site_under_another_backends_test_is_not_a_site(
    tmp_path: Path, guard: tuple[str, bool, bool], url: str
) -> None:
    test, body_other, orelse_other = guard
    owner = "self" if url.startswith("self") else "cfg"
    text = (
        "from sqlalchemy.ext.asyncio import create_async_engine\n\n\n"
        f"def init({owner if owner == 'self' else 'uri'}, cfg=None, other='', debug=False):\n"
        f"    {test.format(url=url)}\n"
        f"        engine = create_async_engine({url})\n"
        "    else:\n"
        f"        engine = create_async_engine({url}, pool_size=20)\n"
        "    return engine\n"
    )
    path = tmp_path / "db.py"
    path.write_text(text, encoding="utf-8")
    source = _source(path, tmp_path)
    found = {line for rule, line, _ in _full(source, _ctx(tmp_path)) if rule == "VF108"}
    assert (6 not in found) == body_other, text
    assert (8 not in found) == orelse_other, text


# One verdict per site (issue 12, held-out class 7): a site whose value is the
# deployment's in one world and written in another is VF108 only when no world has a
# transport finding.
ONE_VERDICT_SITES = (
    "engine = create_engine(URL)",
    # a Flask-SQLAlchemy project: the URI is read by the extension (frameworks/flask.py)
    "from flask_sqlalchemy import SQLAlchemy\nSQLALCHEMY_DATABASE_URI = URL",
    'conn = psycopg2.connect(URL, application_name="api")',
)
WRITTEN = {
    "disable": {"VF101"},
    "allow": {"VF102"},
    "require": {"VF104"},  # with a root certificate: libpq checks the chain (verify-ca)
    "verify-ca": {"VF104"},
    "verify-full": set(),
}


@settings(max_examples=40, deadline=None, suppress_health_check=FIXTURE_OK)
@given(
    site=st.sampled_from(ONE_VERDICT_SITES),
    mode=st.sampled_from(tuple(WRITTEN)),
    env_first=st.booleans(),
    condition=st.sampled_from(CONDITIONS),
)
def test_a_site_has_one_verdict_over_its_worlds(
    tmp_path: Path, site: str, mode: str, env_first: bool, condition: str
) -> None:
    written = f'"postgresql://app@db.internal/app?sslmode={mode}&sslrootcert={ROOT}"'
    deployed = 'os.environ.get("DATABASE_URL")'
    arms = (deployed, written) if env_first else (written, deployed)
    text = HEAD + f"URL = {arms[0]} if {condition} else {arms[1]}\n" + site + "\n"
    path = tmp_path / "settings.py"
    path.write_text(text, encoding="utf-8")
    found = {rule for rule, _, _ in _full(_source(path, tmp_path), _ctx(tmp_path))}
    assert found - {"VF401"} == (WRITTEN[mode] or {"VF108"}), text
