"""Framework connection sites: where a framework, not the code, calls the driver.

The code names no driver call here; it writes a setting that a framework hands to
one. Each handler turns the setting into the form conninfo reads for the driver
the framework really uses (read in the frameworks' sources):

- Django `DATABASES` entries (`ENGINE` postgresql, postgresql_psycopg2, postgis,
  django_cockroachdb): get_connection_params() passes OPTIONS as libpq keywords,
  then NAME/USER/PASSWORD/HOST/PORT when not empty, to psycopg(2).connect: a
  libpq keyword string. `dj_database_url.config/parse` and django-environ's
  `env.db()` parse a URL (query -> OPTIONS; ssl_require=True sets
  OPTIONS["sslmode"] = "require"), config() from $DATABASE_URL or its default.
- Flask-SQLAlchemy: `SQLALCHEMY_DATABASE_URI` (config class attribute,
  `app.config[...] = …`, `config.update(...)`, a config mapping `{...}` anywhere)
  goes to create_engine with `SQLALCHEMY_ENGINE_OPTIONS` (its connect_args).
- Piccolo `PostgresEngine(config={...})` / `CockroachEngine`: asyncpg.connect(**config).
- GINO `db.set_bind(url, **kw)`, `gino.create_engine`: asyncpg.create_pool with the
  URL's host, port, user, database and password only (its query is dropped) and
  the asyncpg keywords given.
- yoyo `get_backend(uri)`: psycopg(2).connect(dbname=…, **query, user=…, host=…).
- Celery's result backend as configuration (`app.conf.result_backend = 'db+…'`,
  `conf.update(…)`, a celeryconfig module or Django settings that `config_from_object`
  loads): create_engine(URL after db+, **database_engine_options) (celery.py).
- APScheduler `SQLAlchemyJobStore(url, engine_options=…)` and job stores given as
  scheduler configuration: create_engine(url, **engine_options) (apscheduler.py).
- django-heroku `settings(locals())`: DATABASES["default"] = dj_database_url.config(
  ssl_require=True) when DATABASE_URL is set (django_heroku.py).
- Airflow's Postgres provider: PostgresHook / PostgresOperator (and a
  SQLExecuteQueryOperator known to be Postgres) connect with the Airflow connection
  the deployment stores: VF108 at the call, naming it (airflow.py).
- Prefect's `SqlAlchemyConnector(connection_info=URL, connect_args=…)`: create_engine
  (URL, connect_args=…); `SqlAlchemyConnector.load(name)`: the block the Prefect server
  stores, VF108 (prefect.py).
- aerich's Tortoise settings (the module attribute pyproject.toml /
  aerich.ini configure): Tortoise.init(config=…) (aerich.py).
- Alembic env.py: `engine_from_config(config.get_section(…), prefix="sqlalchemy.")`
  with the URL env.py writes (`set_main_option("sqlalchemy.url", X)`, or the
  section dict's key) or else the one alembic.ini holds.

A site whose TLS only the deployment decides (the whole URL from the environment,
an unknown OPTIONS sslmode) is VF108, naming what it depends on.
"""

from __future__ import annotations

import ast

from verifyfull.scan.python import placement
from verifyfull.scan.python.context import Analysis
from verifyfull.scan.python.frameworks import aerich, airflow, apscheduler, celery, prefect
from verifyfull.scan.python.frameworks.asyncpg_orms import (
    PICCOLO,
    gino,
    gino_extension,
    is_gino,
    piccolo,
)
from verifyfull.scan.python.frameworks.common import call_argument, dict_key, site
from verifyfull.scan.python.frameworks.django import (
    DJ_DATABASE_URL,
    channels_postgres_config,
    dj_database_url_site,
    django_entry,
    entries,
    helper_places,
    target_key,
)
from verifyfull.scan.python.frameworks.django_heroku import (
    DJANGO_HEROKU,
    django_heroku_site,
)
from verifyfull.scan.python.frameworks.django_heroku import WORDS as DJANGO_HEROKU_WORDS
from verifyfull.scan.python.frameworks.flask import flask_scope, flask_uri, sibling
from verifyfull.scan.python.frameworks.migrations import (
    YOYO,
    alembic_engine,
    alembic_judges,
    env_py_decides_url,
    yoyo,
)
from verifyfull.scan.python.module import Scope, register_library_names
from verifyfull.scan.python.sites import SQLALCHEMY, SQLALCHEMY_CONFIG

__all__ = [
    "MODULES",
    "WORDS",
    "WORDS_TOGETHER",
    "claims",
    "env_py_decides_url",
    "on_assign",
    "on_call",
    "on_dict",
]

# Words without one of which no handler here can fire (the prefilter's test).
WORDS = (
    "DATABASES",
    "channels_postgres",
    "dj_database_url",
    "SQLALCHEMY_DATABASE_URI",
    "PostgresEngine",
    "CockroachEngine",
    "set_bind",
    "gino",
    "yoyo",
    "engine_from_config",
    "get_main_option",
    *apscheduler.WORDS,
    *celery.WORDS,
    *airflow.WORDS,
    *prefect.WORDS,
    *DJANGO_HEROKU_WORDS,
)
# Words a handler needs all of (the prefilter's test, with WORDS).
# NetBox's configuration.py `DATABASE = {"NAME": ..., "HOST": ...}` (_netbox_configuration).
NETBOX_WORDS = ("DATABASE", "NAME", "HOST")
WORDS_TOGETHER = (aerich.WORDS_TOGETHER, NETBOX_WORDS)

# `from piccolo.engine.postgres import *` brings the framework constructors too
register_library_names(
    PICCOLO
    | DJ_DATABASE_URL
    | YOYO
    | DJANGO_HEROKU
    | airflow.HOOKS
    | airflow.OPERATORS
    | airflow.SQL_OPERATORS
    | prefect.CONNECTOR
    | {"gino.create_engine"}
)

# Libraries whose imported names make a body worth walking (`from yoyo import
# get_backend`, `from gino import create_engine as make`).
MODULES = frozenset(
    {"piccolo", "gino", "yoyo", "dj_database_url", "environ", "apscheduler", "airflow"}
    | {"django_heroku", "prefect_sqlalchemy"}
)


def on_assign(a: Analysis, target: ast.expr, value: ast.expr, scope: Scope) -> None:
    """A setting assigned: DATABASES (and its entries), CHANNEL_LAYERS, a Flask URI."""
    name = target_key(target)
    if name == "DATABASES":
        if isinstance(target, ast.Name):
            for entry in entries(a, value, scope):
                django_entry(a, entry, scope)
        else:  # DATABASES["default"] = {...}
            django_entry(a, value, scope)
    elif name == "DATABASE" and _netbox_configuration(a, target, value, scope):
        # NetBox's configuration.py: its settings.py makes DATABASES = {"default":
        # DATABASE} with Django's postgresql ENGINE (held-out-s21 Matching-Agent)
        django_entry(a, value, scope, engine_required=False)
    elif name == "CHANNEL_LAYERS" and isinstance(target, ast.Name):
        for layer in entries(a, value, scope):
            config = channels_postgres_config(a, layer, scope)
            if config is not None:
                django_entry(a, config, scope, engine_required=False)
    elif isinstance(target, ast.Name) and aerich.is_settings_name(a, name or "", scope):
        aerich.on_assign(a, value, scope)
    elif name == "SQLALCHEMY_DATABASE_URI" and flask_scope(target, scope):
        options = sibling(a, scope, "SQLALCHEMY_ENGINE_OPTIONS", target)
        flask_uri(a, value, options, scope)
    else:
        celery.on_assign(a, target, value, scope)


def _netbox_configuration(a: Analysis, target: ast.expr, value: ast.expr, scope: Scope) -> bool:
    """A module-level `DATABASE = {"NAME": ..., "HOST": ...}` in a `configuration.py`:
    NetBox's own settings file (PostgreSQL only; netbox/settings.py reads it)."""
    return (
        isinstance(target, ast.Name)
        and scope.parent is None
        and a.module.path.name == "configuration.py"
        and isinstance(value, ast.Dict)
        and {"NAME", "HOST"} <= {k.value for k in value.keys if isinstance(k, ast.Constant)}
    )


def claims(a: Analysis, node: ast.Call, scope: Scope) -> bool:
    """A driver call sites.py also sees that a handler here judges (an Alembic engine
    reading alembic.ini): sites.py then reports nothing when it cannot see the URL."""
    qual = a.module.qualname(node.func) or ""
    return (qual in SQLALCHEMY_CONFIG or qual in SQLALCHEMY) and alembic_judges(
        a, node, scope, qual
    )


def on_call(a: Analysis, node: ast.Call, scope: Scope) -> None:
    """A framework call: Piccolo's engines, dj_database_url, yoyo, GINO, an Alembic
    engine, a Flask `config.update(SQLALCHEMY_DATABASE_URI=…)`."""
    qual = a.module.qualname(node.func) or ""
    func = node.func
    method = func.attr if isinstance(func, ast.Attribute) else ""
    if qual in PICCOLO:
        site(
            a,
            node,
            f"Piccolo {qual.rsplit('.', 1)[-1]}()",
            lambda: piccolo(a, node, scope),
            lambda count: placement.config_dict_places(
                a, scope, call_argument(node, 0, "config"), count
            ),
        )
    elif qual in DJANGO_HEROKU:
        site(
            a,
            node,
            "django-heroku settings()",
            lambda: django_heroku_site(a, node, scope),
            lambda count: helper_places(a, node, scope, count, "default"),
        )
    elif (qual.startswith("airflow.") and airflow.on_call(a, node, scope, qual)) or (
        qual.startswith("prefect_sqlalchemy.") and prefect.on_call(a, node, scope, qual)
    ):
        return
    elif qual in DJ_DATABASE_URL:
        site(
            a,
            node,
            f"Django {qual}()",
            lambda: dj_database_url_site(a, node, scope, qual),
            lambda count: helper_places(a, node, scope, count),
        )
    elif qual in YOYO:
        site(a, node, "yoyo get_backend()", lambda: yoyo(a, node, scope))
    elif qual == "gino.create_engine" or (method == "set_bind" and is_gino(a, func)):
        site(a, node, f"GINO {method or 'create_engine'}()", lambda: gino(a, node, scope))
    elif qual.startswith("gino") and qual.endswith(".Gino") and qual != "gino.Gino":
        site(a, node, "GINO Gino()", lambda: gino_extension(a, node, scope))
    elif qual in SQLALCHEMY_CONFIG or qual in SQLALCHEMY:
        alembic_engine(a, node, scope, qual)
    elif qual.startswith("apscheduler.") or method == "add_jobstore":
        apscheduler.on_call(a, node, scope, qual)
    elif method in ("update", "from_mapping") and any(
        k.arg == "SQLALCHEMY_DATABASE_URI" for k in node.keywords
    ):
        given = {k.arg: k.value for k in node.keywords if k.arg}
        flask_uri(
            a, given["SQLALCHEMY_DATABASE_URI"], given.get("SQLALCHEMY_ENGINE_OPTIONS"), scope
        )
    else:
        celery.on_call(a, node, scope)


def on_dict(a: Analysis, node: ast.Dict, scope: Scope) -> None:
    """A Flask config written as a mapping wherever it stands (`return {...}` of a
    config function, `app.config.update({...})`, `from_mapping({...})`): its
    SQLALCHEMY_DATABASE_URI with the SQLALCHEMY_ENGINE_OPTIONS beside it."""
    uri = dict_key(node, "SQLALCHEMY_DATABASE_URI")
    if uri is not None:
        flask_uri(a, uri, dict_key(node, "SQLALCHEMY_ENGINE_OPTIONS"), scope)
    celery.on_dict(a, node, scope)
