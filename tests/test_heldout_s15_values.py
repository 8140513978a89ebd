"""Classes of the session 15 held-out round about how values are resolved and where they
are reported (helper s15-values), each generated over its shapes with an oracle the
scanner already reads right (the URL written as a literal, an f-string of the same parts,
the engine call given the value directly); filtered == full analysis throughout (the
prefilter's soundness, checked by the shared _findings). Fixtures:
tests/fixtures/scan/python/heldout_s15/."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_heldout_s8_py import _findings, _project
from test_heldout_s11_py import _rules_on

_SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
_TRANSPORT = {"VF101", "VF102", "VF103", "VF104", "VF105", "VF108"}

DRIVERS = ("postgresql", "postgresql+psycopg2", "postgresql+psycopg", "cockroachdb")
HOSTS = ("db.internal", "localhost", "10.0.0.5")
# (query dict as written in Python, the same as URL text)
QUERIES = (
    (None, ""),
    ("{}", ""),
    ("{'sslmode': 'disable'}", "?sslmode=disable"),
    ("{'sslmode': 'require'}", "?sslmode=require"),
    (
        "{'sslmode': 'verify-full', 'sslrootcert': '/ca.crt'}",
        "?sslmode=verify-full&sslrootcert=/ca.crt",
    ),
)


def _transport(root: Path, relpath: str) -> set[str]:
    return {rule for rule, _ in _findings(root, relpath) if rule in _TRANSPORT}


# --- class 1: SQLAlchemy's URL(...) called directly is URL.create(...) ------------------

URL_IMPORTS = (
    ("from sqlalchemy.engine.url import URL", "URL"),
    ("from sqlalchemy.engine import URL", "URL"),
    ("from sqlalchemy import URL", "URL"),
    ("import sqlalchemy", "sqlalchemy.engine.url.URL"),
)


@_SETTINGS
@given(
    imported=st.sampled_from(URL_IMPORTS),
    driver=st.sampled_from(DRIVERS),
    host=st.sampled_from(HOSTS),
    query=st.sampled_from(QUERIES),
    style=st.sampled_from(("keywords", "positional", "spread", "spread-and-keyword")),
)
def test_url_called_directly_is_read_as_url_create(
    tmp_path: Path,
    imported: tuple[str, str],
    driver: str,
    host: str,
    query: tuple[str | None, str],
    style: str,
) -> None:
    written, text = query
    fields = {
        "drivername": f"'{driver}'",
        "username": "'app'",
        "host": f"'{host}'",
        "port": "5432",
        "database": "'app'",
    }
    if written is not None:
        fields["query"] = written
    order = ("drivername", "username", "password", "host", "port", "database", "query")
    if style == "keywords":
        arguments = ", ".join(f"{k}={v}" for k, v in fields.items())
        prelude = ""
    elif style == "positional":
        used = [k for k in order if k != "query" or "query" in fields]
        arguments = ", ".join(fields.get(k, "None") for k in used)
        prelude = ""
    else:
        items = dict(fields)
        extra = ""
        if style == "spread-and-keyword":
            extra = f", host='{host}'"
            del items["host"]
        prelude = "PARTS = {" + ", ".join(f"'{k}': {v}" for k, v in items.items()) + "}\n"
        arguments = "**PARTS" + extra
    url = f"{imported[1]}({arguments})"
    literal = f"'{driver}://app@{host}:5432/app{text}'"
    files = {
        "u.py": f"{imported[0]}\nfrom sqlalchemy import create_engine\n{prelude}"
        f"engine = create_engine({url})\n",
        "l.py": f"from sqlalchemy import create_engine\nengine = create_engine({literal})\n",
    }
    root = _project(tmp_path, (imported, driver, host, query, style), files)
    found, oracle = _transport(root, "u.py"), _transport(root, "l.py")
    assert found == oracle, files["u.py"]
    if not text:
        assert oracle == {"VF102"}


@_SETTINGS
@given(spread=st.sampled_from(("dict(os.environ)", "load_parts()", "os.environ")))
def test_url_from_a_mapping_not_seen_stays_undecided(tmp_path: Path, spread: str) -> None:
    source = (
        "import os\nfrom sqlalchemy import create_engine\nfrom sqlalchemy.engine.url import URL\n"
        f"engine = create_engine(URL(**{spread}))\n"
    )
    root = _project(tmp_path, spread, {"u.py": source})
    assert _transport(root, "u.py") == {"VF108"}, source


# --- class 2: %-formatting with a mapping, str.format(**d), format_map, Template ---------

# how the parts reach the template, with {t} the template written in that style
FORMATS = (
    ("percent", "'postgresql://%(user)s@%(host)s:%(port)s/%(db)s{q}' % P"),
    ("format", "'postgresql://{user}@{host}:{port}/{db}{q}'.format(**P)"),
    ("format_map", "'postgresql://{user}@{host}:{port}/{db}{q}'.format_map(P)"),
    ("template", "Template('postgresql://$user@${host}:$port/$db{q}').substitute(P)"),
    ("template_kw", "Template('postgresql://$user@$host:$port/$db{q}').substitute(**P)"),
    ("template_name", "T.safe_substitute(P)"),
)
PART_VALUES = {
    "user": ("'app'", "os.environ['DB_USER']"),
    "host": ("'db.internal'", "os.getenv('DB_HOST')", "os.environ['DB_HOST']"),
    "port": ("'5432'", "os.getenv('DB_PORT', '5432')"),
    "db": ("'app'", "os.environ['DB_NAME']"),
}
URL_QUERIES = ("", "?sslmode=disable", "?sslmode=require", "?sslmode=verify-full&sslrootcert=/ca")


@_SETTINGS
@given(
    shape=st.sampled_from(FORMATS),
    user=st.sampled_from(PART_VALUES["user"]),
    host=st.sampled_from(PART_VALUES["host"]),
    port=st.sampled_from(PART_VALUES["port"]),
    db=st.sampled_from(PART_VALUES["db"]),
    query=st.sampled_from(URL_QUERIES),
)
def test_a_url_formatted_from_a_mapping_is_the_f_string_of_its_parts(
    tmp_path: Path, shape: tuple[str, str], user: str, host: str, port: str, db: str, query: str
) -> None:
    kind, written = shape
    mapping = f"P = {{'user': {user}, 'host': {host}, 'port': {port}, 'db': {db}}}\n"
    prelude = "import os\nfrom string import Template\nfrom sqlalchemy import create_engine\n"
    if kind == "template_name":
        prelude += f"T = Template('postgresql://$user@$host:$port/$db{query}')\n"
    expr = written.replace("{q}", query)
    parts = f"user = {user}\nhost = {host}\nport = {port}\ndb = {db}\n"
    oracle = f"f'postgresql://{{user}}@{{host}}:{{port}}/{{db}}{query}'"
    files = {
        "m.py": f"{prelude}{mapping}engine = create_engine({expr})\n",
        "f.py": f"import os\nfrom sqlalchemy import create_engine\n{parts}"
        f"engine = create_engine({oracle})\n",
    }
    root = _project(tmp_path, (shape, user, host, port, db, query), files)
    found, expected = _transport(root, "m.py"), _transport(root, "f.py")
    assert found == expected, (files["m.py"], files["f.py"])
    if not query:  # a template without a query slot: the driver's default, whatever is unknown
        assert expected == {"VF102"}


@_SETTINGS
@given(
    shape=st.sampled_from(FORMATS[:3]),
    spread=st.sampled_from(("**BASE, ", "**load(), ")),
)
def test_a_mapping_known_in_part_leaves_its_other_fields_unknown(
    tmp_path: Path, shape: tuple[str, str], spread: str
) -> None:
    """The query slot filled from entries not seen: never a made-up value, so VF108."""
    written = shape[1].replace("{q}", "?%(opts)s" if shape[0] == "percent" else "?{opts}")
    source = (
        "import os\nfrom sqlalchemy import create_engine\nBASE = dict(os.environ)\n"
        f"P = {{{spread}'user': 'app', 'host': 'db.internal', 'port': '5432', 'db': 'app'}}\n"
        f"engine = create_engine({written})\n"
    )
    root = _project(tmp_path, (shape, spread), {"m.py": source})
    assert _transport(root, "m.py") == {"VF108"}, source


def test_a_tuple_bound_to_a_name_fills_percent_fields(tmp_path: Path) -> None:
    source = (
        "from sqlalchemy import create_engine\nARGS = ('app', 'db.internal', 'app')\n"
        "engine = create_engine('postgresql://%s@%s/%s?sslmode=disable' % ARGS)\n"
    )
    root = _project(tmp_path, "tuple", {"m.py": source})
    assert _transport(root, "m.py") == {"VF101"}


# --- class 3: Alembic's engine_from_config with any prefix, matched with the option set ---

PREFIXES = ("sqlalchemy.", "sqlmodel.", "db.", "app.db.")
SETTERS = (
    "config.set_main_option('{p}url', URL)",
    "config.set_section_option('alembic', '{p}url', URL)",
    "config.set_section_option(config.config_ini_section, '{p}url', URL)",
)
ENV_PY = """\
from alembic import context
from sqlalchemy import engine_from_config, pool

URL = '{url}'
config = context.config
{setter}


def run_migrations_online():
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {{}}),
        prefix='{prefix}',
        poolclass=pool.NullPool,
    )
    with connectable.connect() as connection:
        context.configure(connection=connection)
"""


@_SETTINGS
@given(
    prefix=st.sampled_from(PREFIXES),
    setter=st.sampled_from(SETTERS),
    driver=st.sampled_from(DRIVERS),
    query=st.sampled_from(URL_QUERIES),
)
def test_engine_from_config_reads_the_option_of_its_prefix(
    tmp_path: Path, prefix: str, setter: str, driver: str, query: str
) -> None:
    url = f"{driver}://app@db.internal:5432/app{query}"
    env = ENV_PY.format(url=url, setter=setter.format(p=prefix), prefix=prefix)
    direct = f"from sqlalchemy import create_engine\nengine = create_engine('{url}')\n"
    root = _project(tmp_path, (prefix, setter, driver, query), {"env.py": env, "d.py": direct})
    assert _transport(root, "env.py") == _transport(root, "d.py"), env


def test_an_option_of_another_prefix_is_not_the_engines_url(tmp_path: Path) -> None:
    """`sqlmodel.url` set, the engine reading `sqlalchemy.url` (no ini in the tree): the
    written URL is not what it connects with."""
    env = ENV_PY.format(
        url="postgresql://app@db.internal/app?sslmode=disable",
        setter="config.set_main_option('sqlmodel.url', URL)",
        prefix="sqlalchemy.",
    )
    root = _project(tmp_path, "other-prefix", {"env.py": env})
    assert _transport(root, "env.py") == {"VF108"}


# --- class 4: a framework site is placed where its deciding default is written -----------

SETTINGS_PY = 'import os\n\nDATABASE_URL = os.getenv("DATABASE_URL", "{url}")\n'
# (file name, source) of a framework site reading settings.DATABASE_URL
FRAMEWORK_SITES = (
    (
        "env.py",
        "from alembic import context\nfrom sqlalchemy import engine_from_config\n"
        "from settings import DATABASE_URL\nconfig = context.config\n"
        "config.set_main_option('sqlalchemy.url', DATABASE_URL)\n"
        "engine = engine_from_config(config.get_section(config.config_ini_section), "
        "prefix='sqlalchemy.')\n",
    ),
    (
        "env.py",
        "from alembic import context\nfrom sqlalchemy import engine_from_config\n"
        "import settings\nconfig = context.config\n\n\ndef online():\n"
        "    section = config.get_section(config.config_ini_section)\n"
        "    section['sqlalchemy.url'] = settings.DATABASE_URL\n"
        "    return engine_from_config(section, prefix='sqlalchemy.')\n",
    ),
    (
        "app.py",
        "from flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n"
        "from settings import DATABASE_URL\napp = Flask(__name__)\n"
        "app.config['SQLALCHEMY_DATABASE_URI'] = DATABASE_URL\ndb = SQLAlchemy(app)\n",
    ),
)


@_SETTINGS
@given(
    site=st.sampled_from(FRAMEWORK_SITES),
    driver=st.sampled_from(DRIVERS),
    query=st.sampled_from(URL_QUERIES),
)
def test_a_framework_site_is_placed_as_the_engine_call_given_the_value(
    tmp_path: Path, site: tuple[str, str], driver: str, query: str
) -> None:
    url = f"{driver}://app@db.internal:5432/app{query}"
    direct = "from sqlalchemy import create_engine\nfrom settings import DATABASE_URL\n"
    direct += "engine = create_engine(DATABASE_URL)\n"
    files = {"settings.py": SETTINGS_PY.format(url=url), site[0]: site[1], "d.py": direct}
    root = _project(tmp_path, (site, driver, query), files)
    framework = {(r, at) for r, at in _findings(root, site[0]) if r in _TRANSPORT}
    oracle = {(r, at) for r, at in _findings(root, "d.py") if r in _TRANSPORT}
    assert framework == oracle, site[1]
    if not query:
        assert oracle == {("VF102", 3)}  # the default's line in settings.py


# --- class 5: an environment URL the deployment files make PostgreSQL's -------------------

# (file name, text) of the deployment setting {v} to {u}
DEPLOYMENTS = (
    ("docker-compose.yml", "services:\n  app:\n    environment:\n      {v}: {u}\n"),
    ("docker-compose.yaml", "services:\n  app:\n    environment:\n      - {v}={u}\n"),
    (".env", "{v}={u}\n"),
    ("Dockerfile", "FROM python:3.12\nENV {v}={u}\n"),
    ("k8s.yaml", 'env:\n  - name: {v}\n    value: "{u}"\n'),
    ("ecs.tf", 'environment = [\n  {{\n    "name": "{v}",\n    "value": "{u}"\n  }}\n]\n'),
)
PG_URLS = ("postgresql://app@db:5432/app", "postgresql+psycopg2://app@db/app")
OTHER_URLS = ("sqlite:///prod.db", "mysql://app@db/app", "redis://cache:6379/0")
FLASK_APP = """\
import os
from flask import Flask
from flask_sqlalchemy import SQLAlchemy


def create_app():
    app = Flask(__name__)
    app.config['SQLALCHEMY_DATABASE_URI'] = os.getenv('{v}', '{default}')
    db = SQLAlchemy()
    db.init_app(app)
    return app
"""


@_SETTINGS
@given(
    deployment=st.sampled_from(DEPLOYMENTS),
    deployed=st.sampled_from(PG_URLS + OTHER_URLS),
    default=st.sampled_from(("sqlite:///db.sqlite", "sqlite://", "mysql+pymysql://app@db/app")),
    variable=st.sampled_from(("SQLALCHEMY_DATABASE_URI", "DATABASE_URL")),
)
def test_a_flask_uri_whose_deployment_is_postgresql_is_decided_at_deploy(
    tmp_path: Path, deployment: tuple[str, str], deployed: str, default: str, variable: str
) -> None:
    files = {
        "app.py": FLASK_APP.format(v=variable, default=default),
        deployment[0]: deployment[1].format(v=variable, u=deployed),
    }
    root = _project(tmp_path, (deployment, deployed, default, variable), files)
    found = {(r, at) for r, at in _findings(root, "app.py") if r in _TRANSPORT}
    if deployed in PG_URLS:
        assert found == {("VF108", 10)}, files  # at db.init_app(app)
    else:
        assert not found, files


CELERY_APP = """\
import os
from celery import Celery

celery = Celery(__name__)
celery.conf.broker_url = os.environ.get('CELERY_BROKER_URL')
celery.conf.result_backend = os.environ.get('{v}')
"""


@_SETTINGS
@given(
    deployment=st.sampled_from(DEPLOYMENTS),
    deployed=st.sampled_from(
        (
            "db+postgresql://app@db:5432/app",
            "db+postgresql+psycopg2://app@db/app",
            "redis://cache:6379/1",
            "db+sqlite:///results.db",
            "postgresql://app@db/app",
        )
    ),
    variable=st.sampled_from(("CELERY_RESULT_BACKEND", "RESULT_BACKEND_URL")),
)
def test_a_celery_backend_the_deployment_makes_a_database_is_decided_at_deploy(
    tmp_path: Path, deployment: tuple[str, str], deployed: str, variable: str
) -> None:
    files = {
        "tasks.py": CELERY_APP.format(v=variable),
        deployment[0]: deployment[1].format(v=variable, u=deployed),
    }
    root = _project(tmp_path, (deployment, deployed, variable), files)
    found = _rules_on(root, "tasks.py", 6)
    if deployed.startswith("db+postgresql"):
        assert found == {"VF108"}, files
    else:  # Redis, sqlite, or a plain URL Celery would not read as a database backend
        assert not found, files
