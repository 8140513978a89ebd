"""Values that move through other modules and helpers (issue 12, items 3, 6, 8, 10):
a URL given a new scheme, helpers and dicts of other modules, Flask-Migrate's URL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verifyfull.scan.api import ScanContext, SourceFile
from verifyfull.scan.python.check import run_analysis

FIXTURES = Path(__file__).parent / "fixtures" / "scan" / "python"
TRANSPORT = {"VF101", "VF102", "VF103", "VF104", "VF105", "VF108"}


def _rules(root: Path, text: str, name: str = "app.py") -> set[str]:
    path = root / name
    path.write_text(text, encoding="utf-8")
    analysis = run_analysis(SourceFile(path, name, text), ScanContext(root=root))
    return {f.rule_id for f in analysis.findings if f.rule_id in TRANSPORT}


# --- a new scheme on an unseen URL: the rest, query included, is still unseen --------

# Each shape as written in the program and as Python computes it (the oracle).
_CUTS: dict[str, tuple[tuple[str, Callable[[str], str]], ...]] = {
    # single quotes: they go inside f-strings too
    "split": (
        ("{x}.split('://')[1]", lambda x: x.split("://")[1]),
        ("{x}.split('://', 1)[-1]", lambda x: x.split("://", 1)[-1]),
        ("{x}.split('//')[1]", lambda x: x.split("//")[1]),
    ),
    "partition": (
        ("{x}.partition('://')[2]", lambda x: x.partition("://")[2]),
        ("{x}.partition('://')[-1]", lambda x: x.partition("://")[-1]),
    ),
}
_JOINS = (
    '"{scheme}" + {rest}',
    'f"{scheme}{{{rest}}}"',
    '"{scheme}{{}}".format({rest})',
    '"{scheme}{{rest}}".format(rest={rest})',
)
_SCHEMES = st.sampled_from(["postgresql://", "postgresql+psycopg2://", "cockroachdb://"])
_URLS = st.sampled_from(
    [
        "postgres://app@db.internal/app",
        "postgresql+asyncpg://app@db.internal/app?sslmode=require",
        "postgres://app@db.internal/app?sslmode=disable",
        "postgresql://app@db.internal/app?sslmode=verify-full&sslrootcert=/etc/ca.pem",
        "app@db.internal/app",
    ]
)
Cut = tuple[str, Callable[[str], str]]


@st.composite
def rescheme(draw: st.DrawFn) -> tuple[str, Cut, str]:
    """(join, cut, scheme): one way to put a scheme on the rest of a URL."""
    method = draw(st.sampled_from(sorted(_CUTS)))
    return draw(st.sampled_from(_JOINS)), draw(st.sampled_from(_CUTS[method])), draw(_SCHEMES)


def _program(join: str, cut: Cut, scheme: str, source: str) -> str:
    url = join.format(scheme=scheme, rest=cut[0].format(x="URL"))
    return (
        "import os\nfrom sqlalchemy import create_engine\n"
        f"URL = {source}\nengine = create_engine({url})\n"
    )


_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_SETTINGS
@given(shape=rescheme())
def test_a_new_scheme_on_an_environment_url_is_decided_at_deploy(
    tmp_path: Path, shape: tuple[str, Cut, str]
) -> None:
    """`"postgresql://" + os.environ["URL"].split("://")[1]` keeps the variable's query
    (its sslmode): never judged as a known URL without TLS settings."""
    program = _program(*shape, 'os.environ["DATABASE_URL"]')
    assert _rules(tmp_path, program) == {"VF108"}, program


@_SETTINGS
@given(shape=rescheme(), url=_URLS)
def test_a_new_scheme_on_a_written_url_is_judged_as_python_builds_it(
    tmp_path: Path, shape: tuple[str, Cut, str], url: str
) -> None:
    """With the URL written, the scheme swap is the string Python builds: the same
    findings as that string written at the call."""
    join, cut, scheme = shape
    try:
        built = scheme + cut[1](url)  # every join builds the same string
    except IndexError:  # "no-scheme".split("://")[1] raises: nothing to judge
        expected = {"VF108"}
    else:
        direct = f"from sqlalchemy import create_engine\nengine = create_engine({built!r})\n"
        expected = _rules(tmp_path, direct)
    assert _rules(tmp_path, _program(join, cut, scheme, repr(url))) == expected


# --- Flask-Migrate's env.py: the URL is the Flask app's SQLALCHEMY_DATABASE_URI ------

_ENV_PY = (FIXTURES / "flask_migrate" / "migrations" / "env.py").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ("", {"VF108"}),  # no URI in the tree: the deployment's
        ('SQLALCHEMY_DATABASE_URI = "sqlite:///app.db"\n', {"VF108"}),
        ('SQLALCHEMY_DATABASE_URI = "postgresql://app@db.internal/app"\n', {"VF102"}),
        (
            'SQLALCHEMY_DATABASE_URI = "postgresql://app@db.internal/app?sslmode=disable"\n',
            {"VF101"},
        ),
        (
            "SQLALCHEMY_DATABASE_URI = "
            '"postgresql://app@db/app?sslmode=verify-full&sslrootcert=/etc/ca.pem"\n',
            set(),
        ),
        (  # every config class is a value the app may run with
            "class Prod:\n    SQLALCHEMY_DATABASE_URI = "
            '"postgresql://app@db/app?sslmode=verify-full&sslrootcert=/etc/ca.pem"\n'
            "class Staging:\n"
            '    SQLALCHEMY_DATABASE_URI = "postgresql://app@db/app?sslmode=require"\n',
            {"VF103"},
        ),
        (
            "import os\ndef create_app(app):\n"
            '    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]\n',
            {"VF108"},
        ),
    ],
)
def test_flask_migrate_env_py_is_judged_with_the_apps_uri(
    tmp_path: Path, config: str, expected: set[str]
) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "config.py").write_text(config, encoding="utf-8")
    (tmp_path / "migrations").mkdir()
    assert _rules(tmp_path, _ENV_PY, "migrations/env.py") == expected
