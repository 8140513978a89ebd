"""APScheduler's SQLAlchemy job store: a SQLAlchemy engine the scheduler builds.

APScheduler 3.x `SQLAlchemyJobStore(url=None, engine=None, ..., engine_options=None)`
runs `maybe_ref(engine) or create_engine(url, **(engine_options or {}))`: with a
URL it is a create_engine site whose keywords are engine_options (connect_args
included); with an engine the engine's own create_engine call is the site.
A job store written as scheduler configuration (`{"type": "sqlalchemy", "url": …}`
under `jobstores=` or an `apscheduler.jobstores.<name>` key) is built the same way
(BaseScheduler._create_plugin_instance -> SQLAlchemyJobStore(**rest)).
"""

from __future__ import annotations

import ast

from verifyfull.scan.python.context import Analysis
from verifyfull.scan.python.frameworks.common import (
    Judged,
    as_call,
    call_argument,
    dict_key,
    engine_keywords,
    libpq_url,
    site,
    value_of,
    written_at,
)
from verifyfull.scan.python.module import Scope
from verifyfull.scan.python.sites import Undetermined, _Call, _judge_unseen_url, _sqlalchemy
from verifyfull.scan.python.values import Text

JOBSTORE = frozenset(
    {
        "apscheduler.jobstores.sqlalchemy.SQLAlchemyJobStore",
        "apscheduler.jobstores.SQLAlchemyJobStore",
    }
)

# Words without one of which nothing here fires (the prefilter's test).
WORDS = ("SQLAlchemyJobStore", "add_jobstore", "apscheduler")


def on_call(a: Analysis, call: ast.Call, scope: Scope, qual: str) -> None:
    """The job store class, `add_jobstore("sqlalchemy", url=…)`, or a scheduler built
    (or configured) with job stores as configuration."""
    if qual in JOBSTORE:
        jobstore_call(a, call, scope)
    elif isinstance(call.func, ast.Attribute) and call.func.attr == "add_jobstore":
        # add_jobstore(jobstore, alias="default", **jobstore_opts): a plugin name
        # builds the store from the keywords (SQLAlchemyJobStore(**jobstore_opts)).
        kind = call_argument(call, 0, "jobstore")
        if isinstance(kind, ast.Constant) and kind.value == "sqlalchemy":
            _from_keywords(a, call, scope)
    elif qual.startswith("apscheduler.schedulers."):
        for given in (call_argument(call, 0, "gconfig"), call_argument(call, 99, "jobstores")):
            if given is not None:
                written = written_at(a, given, scope)
                for node in ast.walk(written):
                    if isinstance(node, ast.Dict):
                        jobstore_config(a, node, scope)


def _from_keywords(a: Analysis, call: ast.Call, scope: Scope) -> None:
    keywords = {k.arg: k.value for k in call.keywords if k.arg}
    url = keywords.get("url")
    if url is None or "engine" in keywords:
        return
    options = keywords.get("engine_options")
    site(a, call, "APScheduler add_jobstore()", lambda: _judge(a, call, url, options, scope))


def jobstore_call(a: Analysis, call: ast.Call, scope: Scope) -> None:
    """SQLAlchemyJobStore(url, engine=…, engine_options=…)."""
    if call_argument(call, 1, "engine") is not None:
        return  # the engine passed in is judged where it is created
    url = call_argument(call, 0, "url")
    if url is None:
        return  # APScheduler raises ValueError: no connection at all
    options = call_argument(call, 6, "engine_options")
    site(a, call, "APScheduler SQLAlchemyJobStore()", lambda: _judge(a, call, url, options, scope))


def jobstore_config(a: Analysis, node: ast.Dict, scope: Scope) -> None:
    """A job store given as configuration: `{"type": "sqlalchemy", "url": …}`."""
    kind = dict_key(node, "type")
    if not (isinstance(kind, ast.Constant) and kind.value == "sqlalchemy"):
        return
    if dict_key(node, "engine") is not None:
        return
    url = dict_key(node, "url")
    if url is None:
        return
    options = dict_key(node, "engine_options")
    site(a, node, "APScheduler sqlalchemy job store", lambda: _judge(a, node, url, options, scope))


def _judge(
    a: Analysis, at: ast.expr, url: ast.expr, options: ast.expr | None, scope: Scope
) -> Judged:
    value = value_of(a, url, scope, at)
    if isinstance(value, Text) and value.known is not None:
        libpq_url(value.known)  # sqlite (APScheduler's usual store), mysql: not a site
    kwargs = engine_keywords(a, options, scope, at, "engine_options")
    call = as_call(a, at, scope)  # read for its unseen-URL stand-in only

    def engine(stand_in: _Call) -> Judged:
        return _sqlalchemy(stand_in, value, kwargs)

    try:
        return engine(call)
    except Undetermined as why:
        # A URL from the environment with connect_args that decide TLS alone (sslmode
        # require) is judged as sites.py judges create_engine itself.
        unseen = _judge_unseen_url(call, engine, "sqlalchemy.create_engine") if why.url else None
        if unseen is None:
            raise
        return unseen
