"""Env templates rendered at deploy as the source of a Django settings variable, and
fields changed on an env.db() entry afterwards (the brief's class 3; scan/rendered_env.py,
frameworks/django.py).

Generated: a template of every naming kind giving DATABASE_URL a URL (socket
directory, TCP host, interpolated host; with or without an sslmode), for a settings
module that `env.db()` reads with no default; the template naming that module, another
one, or none in DJANGO_SETTINGS_MODULE; another env file giving the variable too or
not; a later `DATABASES["default"]["HOST"] = "…"` in a branch. Expected: the site gets
the verdict of the template's URL (its holes as stand-ins) exactly when the template
is the only source and is rendered for that module, else VF108; a changed host is a
connection of its own, reported on the change's line, with the URL's sslmode. On main
every such site was VF108 and no change was judged.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_scan_config_formats import scan_tree
from test_trust_bounds import scan_shape

SLOW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TEMPLATE_NAMES = ("etc/env.tpl", "deploy/prod.env.tpl", ".env.j2", "ops/app.env.template")
URLS = {
    # url, rules at the env.db() site when the template applies
    "socket": ("postgres://${u}:${p}@//cloudsql/${project}:${region}:${inst}/${db}", set()),
    "tcp": ("postgres://${u}@${db_host}:5432/app", {"VF102"}),
    "tcp-require": ("postgres://app@db.internal/app?sslmode=require", {"VF103"}),
    "tcp-full": ("postgres://app@${h}/app?sslmode=verify-full&sslrootcert=/etc/ca.pem", set()),
}
SETTINGS = "mysite/settings"


READERS = {
    "env.db": ("import environ\n\nenv = environ.Env()\n", "from .base import env", "env.db()"),
    "dj_database_url": ("", "import dj_database_url", "dj_database_url.config()"),
}


def _project(
    template: str, url: str, module: str | None, other_env: bool, reader: str = "env.db"
) -> dict[str, str]:
    base, imported, call = READERS[reader]
    lines = [f'DATABASE_URL="{url}"']
    if module is not None:
        lines.insert(0, f'DJANGO_SETTINGS_MODULE="{module}"')
    files = {
        template: "\n".join(lines) + "\n",
        "mysite/__init__.py": "",
        "mysite/settings/__init__.py": "",
        f"{SETTINGS}/base.py": base,
        f"{SETTINGS}/production.py": f"import os\n\n{imported}\n\n"
        f'DATABASES = {{"default": {call}}}\n'
        'if os.environ.get("PROXY"):\n'
        '    DATABASES["default"]["HOST"] = "127.0.0.1"\n',
    }
    if other_env:
        files[".env.example"] = "DATABASE_URL=postgres://dev@localhost/dev\n"
    return files


@SLOW
@given(
    template=st.sampled_from(TEMPLATE_NAMES),
    kind=st.sampled_from(sorted(URLS)),
    module=st.sampled_from(("mysite.settings.production", "mysite.settings.local", None)),
    other_env=st.booleans(),
    reader=st.sampled_from(sorted(READERS)),
)
def test_a_rendered_template_decides_the_site_it_is_rendered_for(
    tmp_path_factory: pytest.TempPathFactory,
    template: str,
    kind: str,
    module: str | None,
    other_env: bool,
    reader: str,
) -> None:
    url, rules = URLS[kind]
    files = _project(template, url, module, other_env, reader)
    found = scan_tree(tmp_path_factory.mktemp("tpl"), files)
    path = f"{SETTINGS}/production.py"
    at = {(line, rule) for where, line, rule, _ in found if where == path}
    applies = not other_env and module in ("mysite.settings.production", None)
    if applies:
        # line 5: the env.db() entry; line 7: the host changed when PROXY is set
        changed = {"VF103"} if "sslmode=require" in url else set()
        if "sslmode" not in url:
            changed = {"VF102"}
        # field changes are followed on env.db() and dj-database-url entries alike
        assert at == {(5, r) for r in rules} | {(7, r) for r in changed}, files
    else:
        assert at == {(5, "VF108")}, files


def test_a_template_password_is_no_literal(tmp_path: Path) -> None:
    files = _project("etc/env.tpl", "postgres://app:${db.password}@db.internal/app", None, False)
    found = scan_tree(tmp_path, files)
    assert "VF401" not in {rule for _, _, rule, _ in found}


def test_many_templates_and_env_files_are_indexed_in_bounded_time(tmp_path: Path) -> None:
    shape: dict[str, str | bytes] = {
        f"t{i}/env.tpl": "".join(f"V{j}=postgres://a@h{j}/d\n" for j in range(200))
        for i in range(200)
    }
    shape["app/settings.py"] = (
        "import environ\nenv = environ.Env()\nDATABASES = {'d': env.db('V1')}\n"
    )
    scan_shape(tmp_path, shape)
