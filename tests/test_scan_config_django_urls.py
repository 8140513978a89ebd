"""Database URLs in the schemes of Django's URL helpers (the brief's class 1).

django-environ (`Env.DB_SCHEMES`) and dj-database-url (`SCHEMES`) read `psql://`,
`pgsql://`, `postgis://`, `timescale://`, `cockroach://` ... and hand the parts to
Django's postgresql backend, which connects through libpq. conninfo.django_url reads
them so; these tests generate URLs in every such scheme, in config files and in the
Python helpers' defaults, and require the verdict libpq gives the same URL written
`postgresql://` (on main such URLs were dropped: no finding at all).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_scan_config_formats import rules_at, scan_tree
from verifyfull.conninfo import Environment, evaluate, parse_dsn, read_any_driver
from verifyfull.conninfo.django_url import HELPER_ONLY_SCHEMES
from verifyfull.conninfo.parse import parse_django_url
from verifyfull.policy import DEFAULT_POLICY

SLOW = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SCHEMES = sorted(HELPER_ONLY_SCHEMES)
QUERIES = (
    "",
    "?sslmode=disable",
    "?sslmode=allow",
    "?sslmode=prefer",
    "?sslmode=require",
    "?sslmode=verify-ca&sslrootcert=/run/ca.crt",
    "?sslmode=verify-full&sslrootcert=/run/ca.crt",
    "?conn_max_age=600&sslmode=require",  # a helper's own option is not libpq's
)
_HOSTS = st.sampled_from(("db.internal", "10.0.0.7", "backend-db", "[::1]", "localhost"))
_PASSWORDS = st.sampled_from(("", ":s3cretpw", ":${DB_PASSWORD}"))


def _libpq_rules(url: str) -> set[str]:
    """What libpq gives the same URL in its own scheme (helper options left out)."""
    rest = url.split("://", 1)[1]
    rest = rest.replace("conn_max_age=600&", "")
    info = parse_dsn(f"postgresql://{rest}".replace(":${DB_PASSWORD}", ""))
    found = evaluate(info, None, Environment.empty(), DEFAULT_POLICY).findings
    rules = {f.rule_id for f in found}
    if ":${DB_PASSWORD}" in url:
        rules.discard("VF401")
    return rules


@SLOW
@given(
    scheme=st.sampled_from(SCHEMES),
    host=_HOSTS,
    password=_PASSWORDS,
    query=st.sampled_from(QUERIES),
    form=st.sampled_from(("env", "compose", "compose-anchor", "k8s")),
)
def test_config_values_in_helper_schemes_get_libpq_verdict(
    tmp_path_factory: pytest.TempPathFactory,
    scheme: str,
    host: str,
    password: str,
    query: str,
    form: str,
) -> None:
    url = f"{scheme}://app{password}@{host}/app{query}"
    files = {
        "env": {"app.env": f"DATABASE_URL={url}\n"},
        "compose": {
            "docker-compose.yml": f"services:\n  web:\n    image: python:3.12\n"
            f"    environment:\n      DATABASE_URL: '{url}'\n"
        },
        "compose-anchor": {
            "docker-compose.yml": f"x-env: &env\n  DATABASE_URL: '{url}'\n"
            "services:\n  web:\n    image: python:3.12\n    environment:\n      <<: *env\n"
        },
        "k8s": {
            "deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n"
            "    spec:\n      containers:\n        - name: web\n          env:\n"
            f"            - name: DATABASE_URL\n              value: '{url}'\n"
        },
    }[form]
    found = scan_tree(tmp_path_factory.mktemp("django"), files)
    (path,) = files
    assert rules_at(found, path) == _libpq_rules(url), url


def test_socket_directory_in_the_path_is_a_unix_socket() -> None:
    """django-environ: `psql:////cloudsql/proj:region:inst/db` and `psql://u@//dir/db`
    put the socket directory in HOST: no network, no transport finding."""
    for url in ("psql:////cloudsql/p:r:i/db", "pgsql://u@//var/run/postgresql/db"):
        info, _ = read_any_driver(url)
        assert info.only_unix_sockets, url
        found = evaluate(info, None, Environment.empty(), DEFAULT_POLICY).findings
        assert not {f.rule_id for f in found} & {"VF101", "VF102", "VF103", "VF104"}


def test_unreadable_helper_url_is_a_finding(tmp_path: Path) -> None:
    found = scan_tree(tmp_path, {"app.env": "DATABASE_URL=psql://u@db:notaport/app\n"})
    assert rules_at(found, "app.env") == {"VF105"}


def test_reading_a_long_url_grows_linearly() -> None:
    """A hostile value (a huge query) costs time in proportion to its size."""

    def cost(n: int) -> float:
        url = "psql://u@db/app?" + "&".join(f"application_name=a{i}" for i in range(n))
        start = time.process_time()
        parse_django_url(url)
        return time.process_time() - start

    small, large = cost(2_000) + 1e-3, cost(20_000)
    assert large / small < 40
