"""Classes the session 13 held-out round (helper heldout-g) found in new application code,
each generated over its shapes; filtered == full analysis throughout (the prefilter's
soundness, checked by the shared _findings). Fixtures: tests/fixtures/scan/python/heldout_s13/."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_heldout_s8_py import _project
from test_heldout_s11_py import HOSTS, QUERIES, _pair, _rules_on

_SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# --- a Celery database result backend: judged as create_engine(the URL after db+) --------

# how the backend is written, with {u} for the SQLAlchemy URL literal's text
CELERY_CALLS = (
    ("from celery import Celery", "Celery('worker', broker='redis://q:6379/0', backend='db+{u}')"),
    ("import celery", "celery.Celery('worker', None, 'db+{u}', include=['tasks'])"),
    ("from celery import Celery", "Celery(backend=f'db+{u}')"),
)
SCHEMES = ("postgresql", "postgresql+psycopg2", "postgresql+psycopg", "cockroachdb")


@_SETTINGS
@given(
    shape=st.sampled_from(CELERY_CALLS),
    scheme=st.sampled_from(SCHEMES),
    host=st.sampled_from(HOSTS[:2]),
    query=st.sampled_from(QUERIES),
)
def test_a_celery_database_backend_is_judged_as_its_engine(
    tmp_path: Path, shape: tuple[str, str], scheme: str, host: str, query: str
) -> None:
    url = f"{scheme}://app:{{pw}}@{host.strip(chr(39))}:5432/results{query}".replace("{pw}", "")
    url = url.replace("app:@", "app@")
    calls = (shape[1].replace("{u}", url), f"create_engine('{url}')")
    wrapped, direct = _pair(tmp_path, (shape[0], "from sqlalchemy import create_engine"), calls)
    assert wrapped == direct, calls
    if not query:  # no TLS setting: libpq's prefer
        assert direct == {"VF102"}, calls


@_SETTINGS
@given(
    backend=st.sampled_from(
        (
            "'redis://q:6379/1'",
            "'rpc://'",
            "'db+sqlite:///results.db'",
            "os.environ['CELERY_RESULT_BACKEND']",
            "None",
        )
    ),
    broker=st.sampled_from(("'redis://q:6379/0'", "'amqp://guest@rabbit//'")),
)
def test_a_celery_app_without_a_database_backend_is_no_site(
    tmp_path: Path, backend: str, broker: str
) -> None:
    call = f"Celery('w', broker={broker}, backend={backend})"
    source = f"import os\nfrom celery import Celery\n\napp = {call}\n"
    root = _project(tmp_path, (backend, broker), {"w.py": source})
    assert not _rules_on(root, "w.py", 4), source


# --- a `**kwargs` parameter holds the keywords its callers pass --------------------------

DRIVERS = (
    ("import psycopg2", "psycopg2.connect", ("", "sslmode='disable'", "sslmode='require'")),
    ("import asyncpg", "asyncpg.connect", ("", "ssl=False", "ssl='require'")),
)
# the dict the caller spreads, with {h} for the host
CONFIGS = (
    "{'host': {h}, 'user': 'app', 'dbname': 'app'}",
    "{'host': {h}, 'user': os.getenv('PGUSER', 'app')}",
    "dict(host={h}, user='app')",
)


@_SETTINGS
@given(
    driver=st.sampled_from(DRIVERS),
    config=st.sampled_from(CONFIGS),
    host=st.sampled_from(HOSTS),
    mode=st.integers(0, 2),
    where=st.sampled_from(("spread", "keyword", "both")),
    extra=st.booleans(),
)
def test_a_kwargs_parameter_holds_what_its_callers_pass(
    tmp_path: Path,
    driver: tuple[str, str, tuple[str, ...]],
    config: str,
    host: str,
    mode: int,
    where: str,
    extra: bool,
) -> None:
    imports, connect, modes = driver
    tls = modes[mode]
    spread = "**config" if where != "keyword" else f"host={host}"
    given_tls = f", {tls}" if tls and where != "spread" else ""
    args = spread + given_tls
    # `extra`: the forwarding function has a named parameter the caller also passes
    named = ", retries=3" if extra else ""
    head = f"import os\n{imports}\n\nconfig = {config.replace('{h}', host)}\n"
    forwarded = (
        head
        + f"\n\ndef ready({'retries=1, ' if extra else ''}**kwargs):\n"
        + f"    return {connect}(**kwargs)\n\n\nready({args}{named})\n"
    )
    direct = head + f"site = {connect}({args})\n"
    root = _project(tmp_path, (forwarded, direct), {"f.py": forwarded, "d.py": direct})
    found = _rules_on(root, "f.py", 8)
    assert found == _rules_on(root, "d.py", 5), forwarded
    assert found, forwarded  # judged: never left undecided (or unreported) at the call


# --- Tortoise's expand_db_url(url): the config entry it returns, changed afterwards -------

SSL_VALUES = ("'disable'", "'require'", "False", "True", "'verify-full'")


def _tortoise_file(entry: str, change: str) -> str:
    return (
        "import os\nfrom tortoise import Tortoise\n"
        "from tortoise.backends.base.config_generator import expand_db_url\n\n"
        f"cfg = {{'connections': {{'default': {entry}}}, 'apps': {{}}}}\n"
        f"{change}\n\n"
        "async def start():\n    await Tortoise.init(config=cfg)\n"
    )


@_SETTINGS
@given(
    env=st.booleans(),
    query=st.sampled_from(("", "?ssl=require", "?ssl=disable", "?minsize=1")),
    ssl=st.sampled_from((None, *SSL_VALUES)),
)
def test_an_expanded_db_url_is_the_entry_it_returns(
    tmp_path: Path, env: bool, query: str, ssl: str | None
) -> None:
    if not env:  # a URL seen here stays Tortoise's db_url (its casts); no change followed
        ssl = None
    url = "os.environ['DB_URL']" if env else f"'postgres://app@db.internal:5432/app{query}'"
    change = f"cfg['connections']['default']['credentials']['ssl'] = {ssl}" if ssl else ""
    # the same connection written out: its db_url, or its credentials with the ssl given
    if ssl is None:
        same = url
    else:
        same = (
            "{'engine': 'tortoise.backends.asyncpg', "
            f"'credentials': {{'host': 'db.internal', 'ssl': {ssl}}}}}"
        )
    files = {
        "e.py": _tortoise_file(f"expand_db_url({url})", change),
        "d.py": _tortoise_file(same, ""),
    }
    root = _project(tmp_path, (env, query, ssl), files)
    # (a named config's connection is reported at its entry, line 5, since session 15)
    expanded = _rules_on(root, "e.py", 9) | _rules_on(root, "e.py", 6) | _rules_on(root, "e.py", 5)
    direct = _rules_on(root, "d.py", 9) | _rules_on(root, "d.py", 5)
    assert expanded == direct, files["e.py"]
    if env and ssl is None:
        assert expanded == {"VF108"}
    if ssl is not None:  # the change decides, and is where the finding is (when there is one)
        assert not _rules_on(root, "e.py", 9), files["e.py"]
