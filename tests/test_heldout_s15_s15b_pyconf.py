"""Session 15 wave 2 held-out classes (helper s15b-pyconf), each generated over its
shapes; the Python files are also analysed filtered and in full (the prefilter's
soundness, test_heldout_s8_py._findings). Fixtures: tests/fixtures/scan/python/
heldout_s15b_pyconf/.

1. A Superset configuration module (superset_config.py, superset_config_*.py) writes
   the metadata database's SQLALCHEMY_DATABASE_URI for the Superset image, which makes
   the engine outside the tree: judged where it is written, with no Flask-SQLAlchemy
   import in the project. The same module under another name stays quiet.
2. A Tortoise config returned by a function of another module (`config=f()`, imported
   in any style) is reported where its credentials are written, not at the call.
3. `request.config.getoption("--opt")` / `pytestconfig.getoption("opt")` is the
   addoption default or a value the tree's runner files (tox.ini, CI workflows)
   pass: another database's default with nothing passed is no site.
4. A copy-me configuration template (app/config/example.py, config.example.py,
   settings_example.py, ...) that no module imports has its URL constants judged where
   written, as filled in (held-out-s15 erp_lavita); the same constant in a module that is
   no template, or in a template a module imports, is no site of its own.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from test_heldout_s15_misc import _project, _rules, _scan
from test_scan_accuracy_s12 import bounded

# --- 1. Superset's superset_config.py -------------------------------------------------

# (how the URI is written, the rules it gives)
SUPERSET_URIS = (
    ("'postgresql+psycopg2://superset:pw@pgsuper:5432/superset'", {"VF102"}),
    ("'postgresql://superset@db.internal/superset?sslmode=disable'", {"VF101"}),
    ("'postgresql://superset@db.internal/superset?sslmode=require'", {"VF103"}),
    (
        "'postgresql://superset@db.internal/superset?sslmode=verify-full"
        "&sslrootcert=/etc/ssl/ca.pem'",
        set(),
    ),
    ("f'postgresql://{USER}:{PASSWORD}@postgres:5432/{DB}'", {"VF102"}),
    ("'postgresql://' + USER + '@postgres:5432/superset'", {"VF102"}),
    ("'sqlite:////var/lib/superset/superset.db'", set()),
    ("'mysql://superset@db/superset'", set()),
)
SUPERSET_FILES = (
    "superset_config.py",
    "superset_config_docker.py",
    "docker/pythonpath_dev/superset_config.py",
    "infra/conf/superset/superset_config.py",
)
_SUPERSET_HEAD = (
    "import os\n\nSECRET_KEY = os.getenv('SUPERSET_SECRET_KEY')\n"
    "USER = os.getenv('POSTGRES_USER')\nPASSWORD = os.getenv('POSTGRES_PASSWORD')\n"
    "DB = os.getenv('POSTGRES_DB')\n"
)


@bounded(40)
@given(
    uri=st.sampled_from(SUPERSET_URIS),
    name=st.sampled_from(SUPERSET_FILES),
    continued=st.booleans(),
    annotated=st.booleans(),
)
def test_a_superset_config_uri_is_judged_where_written(
    tmp_path: Path, uri: tuple[str, set[str]], name: str, continued: bool, annotated: bool
) -> None:
    written, expected = uri
    target = "SQLALCHEMY_DATABASE_URI: str" if annotated else "SQLALCHEMY_DATABASE_URI"
    value = f"\\\n    {written}" if continued else written
    text = _SUPERSET_HEAD + f"{target} = {value}\nWTF_CSRF_ENABLED = True\n"
    root = _project(tmp_path, {name: text})
    found = _scan(root, [name])
    assert _rules(found) == expected, text
    line = text.splitlines().index(next(x for x in text.splitlines() if written in x)) + 1
    for item in found:
        assert item.path == name and item.line == line, found
        assert "Superset" in item.message


@bounded(20)
@given(uri=st.sampled_from(SUPERSET_URIS), name=st.sampled_from(("config.py", "settings.py")))
def test_the_same_uri_in_another_module_without_flask_sqlalchemy_stays_quiet(
    tmp_path: Path, uri: tuple[str, set[str]], name: str
) -> None:
    text = _SUPERSET_HEAD + f"SQLALCHEMY_DATABASE_URI = {uri[0]}\n"
    root = _project(tmp_path, {name: text})
    assert _scan(root, [name]) == []


# --- 2. a Tortoise config returned by a function of another module -----------------

_CONFIG_MODULE = (
    "import ssl\n\nfrom app.settings import Settings\n\n\n"
    "def {function}():\n    settings = Settings()\n"
    "    ctx = ssl.create_default_context()\n"
    "    ctx.check_hostname = False\n    ctx.verify_mode = ssl.CERT_NONE\n\n"
    "    return {{\n        'connections': {{\n            'default': {{\n"
    "                'engine': 'tortoise.backends.asyncpg',\n"
    "                'credentials': {{\n"
    "                    'host': settings.DATABASE_HOST,\n"
    "                    'user': settings.DATABASE_USER,\n"
    "                    {ssl}\n"
    "                }},\n            }}\n        }},\n"
    "        'apps': {{'models': {{'models': ['app.models']}}}},\n    }}\n"
)
_SETTINGS = (
    "from pydantic import BaseSettings\n\n\nclass Settings(BaseSettings):\n"
    "    DATABASE_HOST: str\n    DATABASE_USER: str\n"
)
# (the ssl line of the credentials, the rules, whether the finding sits at the ssl line)
TORTOISE_SSL = (
    ("# 'ssl': ctx", {"VF102"}, False),
    ("", {"VF102"}, False),
    ("'ssl': 'disable',", {"VF101"}, True),
    ("'ssl': 'require',", {"VF103"}, True),
)
# (how the call module imports it, how the call names it)
IMPORTS = (
    ("from app.utils.tortoise_conf import {f}\n", "{f}()"),
    ("from app.utils import tortoise_conf\n", "tortoise_conf.{f}()"),
    ("from .utils.tortoise_conf import {f}\n", "{f}()"),
    ("from app.utils.tortoise_conf import {f} as make_config\n", "make_config()"),
)
TORTOISE_CALLS = (
    "await Tortoise.init(config={config})",
    "await Tortoise.init(\n        config={config}\n    )",
    "register_tortoise(app, config={config})",
)


@bounded(60)
@given(
    ssl=st.sampled_from(TORTOISE_SSL),
    imported=st.sampled_from(IMPORTS),
    call=st.sampled_from(TORTOISE_CALLS),
    function=st.sampled_from(("config_connection_tortoise", "get_tortoise_config")),
)
def test_a_tortoise_config_function_of_another_module_reports_at_its_credentials(
    tmp_path: Path,
    ssl: tuple[str, set[str], bool],
    imported: tuple[str, str],
    call: str,
    function: str,
) -> None:
    line, expected, at_ssl = ssl
    conf = _CONFIG_MODULE.format(function=function, ssl=line)
    head, named = (part.format(f=function) for part in imported)
    main = (
        "from fastapi import FastAPI\nfrom tortoise import Tortoise\n"
        "from tortoise.contrib.fastapi import register_tortoise\n"
        + head
        + "\napp = FastAPI()\n\n\n@app.on_event('startup')\nasync def start():\n    "
        + call.format(config=named)
        + "\n"
    )
    files = {
        "app/__init__.py": "",
        "app/utils/__init__.py": "",
        "app/settings.py": _SETTINGS,
        "app/utils/tortoise_conf.py": conf,
        "app/main.py": main,
    }
    root = _project(tmp_path, files)
    found = _scan(root, ["app/main.py", "app/utils/tortoise_conf.py"])
    assert _rules(found) == expected, (main, found)
    lines = conf.splitlines()
    mark = line if at_ssl else "'credentials'"
    where = next(i for i, text in enumerate(lines, 1) if mark in text)
    for item in found:
        assert (item.path, item.line) == ("app/utils/tortoise_conf.py", where), found
        assert {r.path for r in item.related} == {"app/main.py"}, item.related


# --- 3. a pytest option as the URL -------------------------------------------------

# (the addoption default, the rules it gives with nothing passed)
DEFAULTS = (
    ("'sqlite:///pytest.db'", set()),
    ("'mysql://root@localhost/test'", set()),
    ("'postgresql://app@db.internal/test'", {"VF102"}),
    ("'postgresql://app@db.internal/test?sslmode=verify-full&sslrootcert=ca.pem'", set()),
    (None, {"VF108"}),  # no default: whoever runs pytest decides
)
# (a runner file of the tree and what it passes, the rules that adds)
_TOX = "[testenv]\ncommands = pytest {opt}=postgresql://ci@db/test {{posargs}}\n"
_MAKE = "test:\n\tpytest tests {opt} 'postgresql://ci@db/test?sslmode=disable'\n"
_CI = 'jobs:\n  t:\n    steps:\n      - run: pytest {opt} "$DB_URL"\n'
RUNNERS = (
    (None, "", set()),
    ("tox.ini", _TOX, {"VF102"}),
    ("Makefile", _MAKE, {"VF101"}),
    (".github/workflows/ci.yml", _CI, {"VF108"}),
    ("tox.ini", "[testenv]\ncommands = pytest {opt}=sqlite:///ci.db\n", set()),
)
READERS = (
    "request.config.getoption({name})",
    "pytestconfig.getoption({name})",
    "request.config.getoption(name={name})",
)


def _conftest(default: str | None, dest: str) -> str:
    given = f", default={default}" if default is not None else ""
    return (
        "import pytest\nimport sqlalchemy\n\n\ndef pytest_addoption(parser):\n"
        f"    parser.addoption(\n        '--database-url',{dest}\n"
        f"        action='store'{given},\n        help='the test database',\n    )\n"
    )


@bounded(80)
@given(
    default=st.sampled_from(DEFAULTS),
    runner=st.sampled_from(RUNNERS),
    reader=st.sampled_from(READERS),
    by_dest=st.booleans(),
    custom_dest=st.booleans(),
    apart=st.booleans(),
)
def test_a_pytest_option_is_its_default_or_the_values_the_tree_passes(
    tmp_path: Path,
    default: tuple[str | None, set[str]],
    runner: tuple[str | None, str, set[str]],
    reader: str,
    by_dest: bool,
    custom_dest: bool,
    apart: bool,
) -> None:
    written, from_default = default
    runner_file, runner_text, from_runner = runner
    dest = " dest='db_url'," if custom_dest else ""
    name = ("'db_url'" if custom_dest else "'database_url'") if by_dest else "'--database-url'"
    fixture = (
        "\n\n@pytest.fixture\ndef engine(request, pytestconfig):\n"
        f"    url = {reader.format(name=name)}\n"
        "    return sqlalchemy.create_engine(url)\n"
    )
    files = {"tests/conftest.py": _conftest(written, dest)}
    if apart:  # the option declared in the root conftest, read in the tests'
        files["conftest.py"] = files.pop("tests/conftest.py")
        files["tests/conftest.py"] = "import pytest\nimport sqlalchemy\n" + fixture
    else:
        files["tests/conftest.py"] += fixture
    if runner_file is not None:
        files[runner_file] = runner_text.format(opt="--database-url")
    root = _project(tmp_path, files)
    found = _scan(root, sorted(f for f in files if f.endswith(".py")))
    expected = from_default | from_runner
    if written is None and runner_file is not None:
        expected = from_runner  # nothing but what the tree passes
    if expected - {"VF108"}:
        expected -= {"VF108"}  # a value known to be weak is the verdict (one_verdict)
    assert _rules(found) == expected, (files, found)


@bounded(20)
@given(reader=st.sampled_from(READERS))
def test_an_option_no_conftest_declares_stays_decided_at_deploy(
    tmp_path: Path, reader: str
) -> None:
    text = (
        "import pytest\nimport sqlalchemy\n\n\n@pytest.fixture\n"
        "def engine(request, pytestconfig):\n"
        f"    return sqlalchemy.create_engine({reader.format(name=repr('--db'))})\n"
    )
    root = _project(tmp_path, {"tests/conftest.py": text})
    assert _rules(_scan(root, ["tests/conftest.py"])) == {"VF108"}


# --- 4. a copy-me configuration template's URL constants ----------------------------

# (the URL written, the rules it gives as filled in)
TEMPLATE_URLS = (
    ("postgresql+psycopg2://username:password@localhost/db_name", {"VF102"}),
    ("postgresql://app@db.internal:5432/app", {"VF102"}),
    ("postgresql://app@db.internal/app?sslmode=disable", {"VF101"}),
    ("postgresql://app@db.internal/app?sslmode=verify-full&sslrootcert=/etc/ca.pem", set()),
    ("sqlite:///app.db", set()),
    ("mysql+pymysql://root@localhost/app", set()),
)
TEMPLATE_FILES = (
    "app/config/example.py",
    "config.example.py",
    "settings_example.py",
    "app/local_settings.sample.py",
    "config_template.py",
    "conf/sample.py",
)
NOT_TEMPLATES = ("app/config/main.py", "examples/example.py", "sample.py", "example_usage.py")


def _template_text(url: str, in_class: bool) -> str:
    if in_class:
        return f"class Config:\n    DEBUG = True\n    DB_URI = {url!r}\n"
    return f"DB_URI = {url!r}\nSECRET_KEY = 'change-me'\nDEBUG = True\n"


@bounded(40)
@given(
    url=st.sampled_from(TEMPLATE_URLS),
    name=st.sampled_from(TEMPLATE_FILES),
    in_class=st.booleans(),
)
def test_a_config_templates_url_is_judged_where_written(
    tmp_path: Path, url: tuple[str, set[str]], name: str, in_class: bool
) -> None:
    written, expected = url
    text = _template_text(written, in_class)
    reader = "from app.config.main import DB_URI\nimport sqlalchemy\n\n"
    reader += "engine = sqlalchemy.create_engine(DB_URI)\n"
    root = _project(tmp_path, {name: text, "app/base.py": reader})
    found = [f for f in _scan(root, [name]) if f.rule_id != "VF108"]
    assert _rules(found) == expected, (name, text)
    line = next(i for i, x in enumerate(text.splitlines(), 1) if "DB_URI" in x)
    assert all((f.path, f.line) == (name, line) for f in found), found


@bounded(30)
@given(
    url=st.sampled_from(TEMPLATE_URLS),
    name=st.sampled_from(NOT_TEMPLATES + TEMPLATE_FILES),
    in_class=st.booleans(),
)
def test_a_module_that_is_no_template_or_is_imported_is_not_judged_as_one(
    tmp_path: Path, url: tuple[str, set[str]], name: str, in_class: bool
) -> None:
    """Outside a template, or a template a module imports (the reading site judges it
    there), the constant alone is no site."""
    files = {name: _template_text(url[0], in_class)}
    if name in TEMPLATE_FILES:
        dotted = name.removesuffix(".py").replace("/", ".")
        if "." in Path(name).stem:  # config.example.py: importlib only; not importable
            return
        files["app/reader.py"] = f"import {dotted}\n\nURL = {dotted}.DEBUG\n"
    root = _project(tmp_path, files)
    assert _scan(root, [name]) == []
