"""Django entries of the session 15 second held-out round (helper s15b-django), each
generated over its shapes; filtered == full analysis throughout (the shared _findings).

1. A URL helper's TLS keyword written on a line of its own (`ssl_require=True,` below
   `dj_database_url.config(`) is where the finding goes, the call related.
2. A change on every path that strips the entry's sslmode (a new OPTIONS dict, `del
   …["OPTIONS"]["sslmode"]`, `.pop("sslmode")`) is reported where it is written: the
   URL's query and ssl_require both live in OPTIONS (dj_database_url.parse).
3. One connection, one finding: a DATABASES comprehension is its element's site, and an
   entry that is another entry's value (`DATABASES["default"] = DATABASES[name]`) is not
   judged again.
Fixtures: tests/fixtures/scan/python/heldout_s15b_django/."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_heldout_s8_py import _findings, _project
from verifyfull.policy import Policy
from verifyfull.scan.api import ScanContext, SourceFile
from verifyfull.scan.python.check import run_analysis

_SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
_TRANSPORT = {"VF101", "VF102", "VF103", "VF104", "VF105", "VF108"}

# (import line, the helper's name, whether the URL is its first positional argument)
HELPERS = (
    ("import dj_database_url", "dj_database_url.config", False),
    ("import dj_database_url as dburl", "dburl.config", False),
    ("from dj_database_url import config", "config", False),
    ("import dj_database_url", "dj_database_url.parse", True),
    ("from dj_database_url import parse as parse_url", "parse_url", True),
)
URLS = (
    "os.environ.get('DATABASE_URL')",
    "'postgres://app@db.internal:5432/app'",
    "'postgres://app@db.internal:5432/app?sslmode=verify-full&sslrootcert=ca.crt'",
)


def _transport(root: Path, relpath: str) -> set[tuple[str, int]]:
    return {(rule, line) for rule, line in _findings(root, relpath) if rule in _TRANSPORT}


def _call(helper: tuple[str, str, bool], url: str, keywords: list[str], multiline: bool) -> str:
    """The helper call with the URL (config's default= or parse's first argument)."""
    _, name, positional = helper
    if positional and url.startswith("os."):
        url = "os.environ['DATABASE_URL']"  # parse() needs a string
    arguments = [url if positional else f"default={url}", *keywords]
    if not multiline:
        return f"{name}({', '.join(arguments)})"
    return f"{name}(\n" + "".join(f"        {a},\n" for a in arguments) + "    )"


# --- 1. a TLS keyword of the helper on a line of its own ---------------------------------


@_SETTINGS
@given(
    helper=st.sampled_from(HELPERS),
    url=st.sampled_from(URLS),
    before=st.booleans(),
    multiline=st.booleans(),
    require=st.sampled_from(("True", "REQUIRE", "False")),
)
def test_ssl_require_on_its_own_line_is_where_the_finding_goes(
    tmp_path: Path,
    helper: tuple[str, str, bool],
    url: str,
    before: bool,
    multiline: bool,
    require: str,
) -> None:
    keywords = ["conn_max_age=600", f"ssl_require={require}"]
    if before:
        keywords.reverse()
    call = _call(helper, url, keywords, multiline)
    source = (
        f"import os\n{helper[0]}\nREQUIRE = True\n\nDATABASES = {{\n    'default': {call}\n}}\n"
    )
    root = _project(tmp_path, ("keyword", source), {"settings.py": source})
    found = _transport(root, "settings.py")
    lines = source.splitlines()
    keyword_line = next(i for i, text in enumerate(lines, 1) if "ssl_require=" in text)
    if require == "False":
        # the URL decides, reported at the call (or where the URL default is written)
        assert all(line != keyword_line or not multiline for _, line in found), source
        return
    # ssl_require=True writes OPTIONS["sslmode"] = "require" over the URL's: VF103 where
    # that True is written (the binding of REQUIRE, a line of its own, or the call line)
    expected = 3 if require == "REQUIRE" else keyword_line
    assert found == {("VF103", expected)}, source


# --- 2. a later change that strips the entry's sslmode -----------------------------------

# (the change, the rule then, whether it strips: reported at the change's line)
STRIPS = (
    ("DATABASES['default']['OPTIONS'] = {'pool': False}", "VF102", True),
    ("DATABASES['default']['OPTIONS'] = {}", "VF102", True),
    ("DATABASES['default']['OPTIONS'] = {'connect_timeout': 5, 'pool': False}", "VF102", True),
    ("DATABASES['default']['OPTIONS'] = {'sslmode': 'disable'}", "VF101", True),
    ("DATABASES['default']['OPTIONS'] = {'sslmode': 'require'}", "VF103", True),
    (
        "DATABASES['default']['OPTIONS'] = {'sslmode': 'verify-full', 'sslrootcert': 'ca.crt'}",
        None,
        True,
    ),
    ("del DATABASES['default']['OPTIONS']['sslmode']", "VF102", True),
    ("del DATABASES['default']['OPTIONS']", "VF102", True),
    ("DATABASES['default']['OPTIONS'].pop('sslmode', None)", "VF102", True),
    ("DATABASES['default']['OPTIONS'].pop('sslmode')", "VF102", True),
    ("DATABASES['default'].pop('OPTIONS', None)", "VF102", True),
    # keeps the URL's (and ssl_require's) sslmode: as without a change
    ("DATABASES['default']['OPTIONS'].update({'pool': False})", "same", False),
    ("DATABASES['default']['CONN_MAX_AGE'] = 0", "same", False),
)


def _unchanged(url: str, require: bool) -> str | None:
    if require:
        return "VF103"
    if url.startswith("os."):
        return "VF108"
    return None if "verify-full" in url else "VF102"


@_SETTINGS
@given(
    helper=st.sampled_from(HELPERS),
    url=st.sampled_from(URLS),
    require=st.booleans(),
    strip=st.sampled_from(STRIPS),
    between=st.sampled_from(("", "DATABASES['default']['TIME_ZONE'] = 'UTC'\n")),
)
def test_a_change_that_strips_the_sslmode_is_reported_where_it_is_written(
    tmp_path: Path,
    helper: tuple[str, str, bool],
    url: str,
    require: bool,
    strip: tuple[str, str | None, bool],
    between: str,
) -> None:
    change, rule, strips = strip
    call = _call(helper, url, ["ssl_require=True"] if require else [], multiline=False)
    source = f"import os\n{helper[0]}\n\nDATABASES = {{'default': {call}}}\n{between}{change}\n"
    root = _project(tmp_path, ("strip", source), {"settings.py": source})
    found = _transport(root, "settings.py")
    change_line = len(source.splitlines())
    if strips:
        expected = {(rule, change_line)} if rule else set()
    else:
        unchanged = _unchanged(url, require)
        expected = {(unchanged, 4)} if unchanged else set()
    assert found == expected, source


@_SETTINGS
@given(
    strip=st.sampled_from([s for s in STRIPS if s[2] and s[1] == "VF102"]),
    default=st.sampled_from(("", ", default='postgres://app@db.internal/app?sslmode=require'")),
)
def test_django_environ_entries_are_stripped_the_same_way(
    tmp_path: Path, strip: tuple[str, str | None, bool], default: str
) -> None:
    source = (
        "import environ\nenv = environ.Env()\n\n"
        f"DATABASES = {{'default': env.db('DATABASE_URL'{default})}}\n{strip[0]}\n"
    )
    root = _project(tmp_path, ("environ", source), {"settings.py": source})
    assert _transport(root, "settings.py") == {("VF102", 5)}, source


def test_a_strip_in_one_branch_only_is_that_branch_s_connection(tmp_path: Path) -> None:
    source = (
        "import dj_database_url\n\n"
        "DATABASES = {'default': dj_database_url.config(ssl_require=True)}\n"
        "if DEBUG:\n"
        "    DATABASES['default']['OPTIONS'] = {'pool': False}\n"
    )
    root = _project(tmp_path, "branch", {"settings.py": source})
    assert _transport(root, "settings.py") == {("VF103", 3), ("VF102", 5)}


# --- 3. one connection, one finding ------------------------------------------------------

ELEMENTS = (
    ("dj_database_url.config(default=os.path.join(URI, name))", "VF108"),
    ("dj_database_url.parse(os.path.join(URI, name), ssl_require=True)", "VF103"),
    ("{'ENGINE': 'django.db.backends.postgresql', 'NAME': name, 'HOST': 'db.internal'}", "VF102"),
    (
        "{'ENGINE': 'django.db.backends.postgresql', 'NAME': name, 'HOST': 'db.internal',"
        " 'OPTIONS': {'sslmode': 'verify-full', 'sslrootcert': 'ca.crt'}}",
        None,
    ),
)
ALIASES = (
    "",
    "DATABASES['default'] = DATABASES[DEFAULT]",
    "DATABASES['default'] = DATABASES['main']",
    "DATABASES['default'] = DATABASES.get(DEFAULT)",
    "DATABASES['default'] = DATABASES[DEFAULT].copy()",
    "DATABASES['default'] = copy.deepcopy(DATABASES[DEFAULT])",
)


@_SETTINGS
@given(
    element=st.sampled_from(ELEMENTS),
    alias=st.sampled_from(ALIASES),
    names=st.sampled_from(("WORKSPACES.keys()", "WORKSPACES", "['main', 'other']")),
)
def test_a_comprehension_and_its_aliases_are_one_connection(
    tmp_path: Path, element: tuple[str, str | None], alias: str, names: str
) -> None:
    source = (
        "import copy\nimport json\nimport os\nimport dj_database_url\n"
        "WORKSPACES = json.loads(os.environ['WORKSPACES'])\nURI = os.environ['DATABASE_URI']\n"
        "DEFAULT = os.environ.get('DEFAULT_WORKSPACE', 'main')\n"
        f"DATABASES = {{name: {element[0]} for name in {names}}}\n{alias}\n"
    )
    root = _project(tmp_path, ("comprehension", source), {"settings.py": source})
    _findings(root, "settings.py")  # filtered == full
    path = root / "settings.py"
    found = run_analysis(
        SourceFile(path, "settings.py", path.read_text(encoding="utf-8")),
        ScanContext(root=root, policy=Policy()),
    ).findings
    transport = [(f.rule_id, f.line) for f in found if f.rule_id in _TRANSPORT]
    assert transport == ([(element[1], 8)] if element[1] else []), source
