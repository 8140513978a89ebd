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
