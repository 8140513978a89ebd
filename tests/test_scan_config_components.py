"""A connection written as separate components (the brief's class 2; components.py).

Generated: a database's components (host and some of port, name, user, password,
backend) under a prefix and a family (PRETIX_DATABASE_, POSTGRES_, PG, DB_ with a
PostgreSQL backend or port), written in every env-list format (.env, compose,
Kubernetes, Terraform/ECS entries, Bicep, ECS task definition JSON), with the host a
literal TCP host, a reference or a socket directory, and with or without a TLS
setting or a URL beside them. Expected: VF102 at the host entry exactly when the
host is a network host, nothing decides TLS, the components are PostgreSQL's, and
the project's own code does not read them (then its connection site is judged).
On main no such group was judged: every expected VF102 was missed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_scan_config_formats import scan_tree
from test_trust_bounds import GROWTH_LIMIT, _timed, scan_shape, watchdog

SLOW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# (prefix + family, whether the names alone say PostgreSQL)
FAMILIES = (
    ("PRETIX_DATABASE_", False),
    ("POSTGRES_", True),
    ("APP_DB_", False),
    ("CRDB_", True),
    ("DATABASE_", False),
)
# What outside the family starts a variable's name: a project's env_prefix, of one word
# or several (held-out-s20 scaledp-chat: SCALEDP_CHAT_DB_HOST read as `db_host` under
# env_prefix="SCALEDP_CHAT_").
OUTER_PREFIXES = ("", "SVC_", "SCALEDP_CHAT_", "MY_BIG_APP_")
# How the project's Python reads the host: the variable's whole name, or a settings field
# under the outer prefix; a settings class under that prefix without the field (only
# `unrelated_host`) reads another variable.
READERS: dict[str | None, str] = {
    None: "",
    "environ": "import os\nHOST = os.environ['{whole}']\n",
    "env_prefix": (
        "from pydantic_settings import BaseSettings, SettingsConfigDict\n\n\n"
        "class Settings(BaseSettings):\n"
        "    model_config = SettingsConfigDict(env_prefix='{outer}')\n"
        "    unrelated_host: str = 'x'\n"
    ),
}
READERS["env_prefix_field"] = READERS["env_prefix"] + "    {field}: str = 'localhost'\n"
HOSTS = {
    "tcp": ("db.internal", True),
    "loopback": ("127.0.0.1", True),
    "reference": (None, True),  # the format's own way of referring to a value elsewhere
    "socket": ("/cloudsql/proj:region:inst", False),
}
TLS = ("none", "sslmode", "url", "pgsslmode")
FORMATS = ("env", "compose", "k8s", "terraform", "bicep", "ecs-json")


def _entries(family: str, host: str | None, extra: dict[str, str], tls: str) -> list[tuple]:
    """(key, literal value or None for a reference) in file order."""
    items: list[tuple[str, str | None]] = [(f"{family}HOST", host)]
    items += list(extra.items())
    if tls == "sslmode":
        items.append((f"{family}SSLMODE", "verify-full"))
    elif tls == "url":
        items.append(("DATABASE_URL", "postgresql://app@db/app?sslmode=verify-full"))
    elif tls == "pgsslmode":
        items.append(("PGSSLMODE", "require"))
    return items


def _render(form: str, items: list[tuple]) -> tuple[str, str, int]:
    """(file name, text, line of the host entry)."""
    if form == "env":
        lines = [f"{k}={v if v is not None else '${DB_HOST_FROM_VAULT}'}" for k, v in items]
        return "service.env", "\n".join(lines) + "\n", 1
    if form == "compose":
        head = "services:\n  web:\n    image: ghcr.io/example/web:1\n    environment:\n"
        body = "".join(f"      {k}: '{v if v is not None else '${DB_HOST}'}'\n" for k, v in items)
        return "docker-compose.yml", head + body, 5
    if form == "k8s":
        head = (
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n"
            "    - name: web\n      image: ghcr.io/example/web:1\n      env:\n"
        )
        body = ""
        for k, v in items:
            body += f"        - name: {k}\n"
            body += (
                f"          value: '{v}'\n"
                if v is not None
                else "          valueFrom:\n            configMapKeyRef: {name: db, key: host}\n"
            )
        return "pod.yaml", head + body, 11
    if form == "terraform":
        head = 'resource "aws_ecs_task_definition" "web" {\n'
        head += "  container_definitions = jsonencode([{\n    environment = [\n"
        values = [json.dumps(v) if v is not None else "var.db.address" for _, v in items]
        body = "".join(
            f'      {{ name = "{k}", value = {v} }},\n'
            for (k, _), v in zip(items, values, strict=True)
        )
        return "main.tf", head + body + "    ]\n  }])\n}\n", 4
    if form == "bicep":
        head = "param dbHost string\nvar env = [\n"
        body = "".join(
            f"  {{ name: '{k}', value: {repr(v) if v is not None else 'dbHost'} }}\n"
            for k, v in items
        )
        return "main.bicep", head + body + "]\n", 3
    document = {
        "family": "web",
        "containerDefinitions": [
            {
                "name": "web",
                "environment": [
                    {"name": k, "value": v if v is not None else "{{resolve:ssm:/db/host}}"}
                    for k, v in items
                ],
            }
        ],
    }
    text = json.dumps(document, indent=2)
    line = next(n for n, t in enumerate(text.splitlines(), 1) if '"value"' in t)
    return "taskdef.json", text + "\n", line


@SLOW
@given(
    family=st.sampled_from(FAMILIES),
    host_kind=st.sampled_from(sorted(HOSTS)),
    port=st.sampled_from((None, "5432", "26257", "3306")),
    backend=st.sampled_from((None, "postgresql", "django.db.backends.postgis", "mysql")),
    tls=st.sampled_from(TLS),
    form=st.sampled_from(FORMATS),
    code_reads=st.sampled_from(tuple(READERS)),
    outer=st.sampled_from(OUTER_PREFIXES),
)
def test_components_get_the_default_verdict_in_every_format(
    tmp_path_factory: pytest.TempPathFactory,
    family: tuple[str, bool],
    host_kind: str,
    port: str | None,
    backend: str | None,
    tls: str,
    form: str,
    code_reads: str | None,
    outer: str,
) -> None:
    inner, named_pg = family
    prefix = outer + inner
    host, network = HOSTS[host_kind]
    if form == "ecs-json" and host is None:
        host = "{{resolve:ssm:/db/host}}"  # JSON has no expressions: a template reference
    extra = {f"{prefix}NAME": "app", f"{prefix}USER": "app"}
    if port is not None:
        extra[f"{prefix}PORT"] = port
    if backend is not None:
        extra[f"{prefix}ENGINE"] = backend
    name, text, host_line = _render(form, _entries(prefix, host, extra, tls))
    files = {name: text}
    if code_reads is not None:
        files["app/settings.py"] = READERS[code_reads].format(
            whole=f"{prefix}HOST", outer=outer, field=f"{inner}HOST".lower()
        )
    postgres = (
        named_pg or port in ("5432", "26257") or (backend is not None and "postg" in backend)
    ) and backend != "mysql"
    # a settings class under an env_prefix reads the variable only through its field
    reads = code_reads in ("environ", "env_prefix_field")
    expect_vf102 = network and tls == "none" and postgres and not reads
    found = scan_tree(tmp_path_factory.mktemp("components"), files)
    transport = {
        (line, rule)
        for where, line, rule, _ in found
        if where == name and rule in ("VF101", "VF102", "VF103", "VF104")
    }
    # The only transport finding a TLS setting of its own raises is on its line.
    if tls in ("sslmode", "url", "pgsslmode"):
        transport = {(line, rule) for line, rule in transport if line == host_line}
    assert transport == ({(host_line, "VF102")} if expect_vf102 else set()), text


HOSTILE = {
    "many-groups": {
        # each group is one conninfo verdict (as each distinct DSN of a file is)
        "service.env": "".join(f"APP{i}_POSTGRES_HOST=db{i}\n" for i in range(5_000))
    },
    "one-huge-group": {"service.env": "POSTGRES_HOST=db\n" + "POSTGRES_PORT=5432\n" * 50_000},
    "long-prefix": {"service.env": "A_" * 50_000 + "POSTGRES_HOST=db\n"},
    "tf-many-reference-entries": {
        "main.tf": "env = [\n" + '{ name = "POSTGRES_HOST", value = var.h },\n' * 20_000 + "]\n"
    },
}


@pytest.mark.parametrize("shape", sorted(HOSTILE))
def test_hostile_component_files_finish_in_bounded_time(shape: str, tmp_path: Path) -> None:
    result = scan_shape(tmp_path, HOSTILE[shape])
    assert all("internal error" not in e.message for e in result.report.errors)


def test_component_groups_grow_near_linearly(tmp_path: Path) -> None:
    def files(n: int) -> dict[str, str | bytes]:
        return {
            "service.env": "".join(
                f"S{i}_POSTGRES_HOST=db{i}\nS{i}_POSTGRES_PORT=5432\nS{i}_POSTGRES_DB=app\n"
                for i in range(n)
            )
        }

    small_files, large_files = files(300), files(3_000)
    small = large = float("inf")
    with watchdog(60):
        for attempt in range(3):
            small = min(small, _timed(tmp_path / f"small{attempt}", small_files))
            large = min(large, _timed(tmp_path / f"large{attempt}", large_files))
    assert large / max(small, 0.05) <= GROWTH_LIMIT, f"{small:.3f} s -> {large:.3f} s"


# --- components a client command of the same file reads (class 5a) ------------------------

_CLIENTS = ("psql", "pg_dump", "/usr/bin/pg_restore", "createdb", "vacuumdb")
_SPELLINGS = ('"${{{n}}}"', "${{{n}}}", '"${{{n}:-db.internal}}"', "$" + "{n}", '"${n}"')


@SLOW
@given(
    family=st.sampled_from(("POSTGRES_", "PG_", "CRDB_", "APP_POSTGRES_")),
    client=st.sampled_from(_CLIENTS),
    spelling=st.sampled_from(_SPELLINGS),
    form=st.sampled_from(("script", "compose")),
    reads=st.booleans(),
)
def test_components_a_client_command_reads_are_judged_at_the_command(
    tmp_path_factory: pytest.TempPathFactory,
    family: str,
    client: str,
    spelling: str,
    form: str,
    reads: bool,
) -> None:
    host = f"{family}HOST"
    target = spelling.format(n=host) if reads else "db.internal"
    command = f"{client} -h {target} -p 5432 app"
    if form == "script":
        name = "run.sh"
        text = f"#!/bin/sh\nexport {host}=db.internal\nexport {family}PORT=5432\n{command}\n"
        command_line = 4
    else:
        name = "docker-compose.yml"
        escaped = command.replace("$", "$$")  # compose's own interpolation left to the shell
        text = (
            "services:\n  job:\n    image: postgres:16\n"
            f"    environment:\n      {host}: db.internal\n      {family}PORT: '5432'\n"
            f"    command: sh -c '{escaped}'\n"
        )
        command_line = 7
    found = scan_tree(tmp_path_factory.mktemp("readers"), {name: text})
    lines = {line for where, line, rule, _ in found if where == name and rule == "VF102"}
    # The command is a TCP client with no sslmode (VF102 where it is written); the
    # variables are its connection, not a second one, exactly when it reads them.
    assert command_line in lines, text
    assert (5 if form == "compose" else 2) in lines or reads, text
    assert (5 if form == "compose" else 2) not in lines or not reads, text


# --- the database server's own container (class 5b) ---------------------------------------

_IMAGES = {
    "postgres:16": True,
    "docker.io/library/postgres@sha256:0123abcd": True,
    "postgis/postgis:15-3.4": True,
    "timescale/timescaledb:latest-pg16": True,
    "cockroachdb/cockroach:v23.1.0": True,
    "example/worker:1": False,
    "bitnami/pgbouncer:1": False,
}
_SERVICE_COMMANDS = {
    None: True,
    "postgres -c ssl=on": True,
    "-c max_connections=200": True,
    "start-single-node --certs-dir=/certs": True,
    "sh /scripts/backup.sh": False,
    "python -m worker": False,
}


@SLOW
@given(
    image=st.sampled_from(sorted(_IMAGES)),
    command=st.sampled_from(list(_SERVICE_COMMANDS)),
    family=st.sampled_from(("POSTGRES_", "PG_", "CRDB_")),
)
def test_a_database_servers_own_environment_is_no_connection(
    tmp_path_factory: pytest.TempPathFactory, image: str, command: str | None, family: str
) -> None:
    text = f"services:\n  svc:\n    image: {image}\n"
    if command is not None:
        text += f"    command: {command}\n"
    text += f"    environment:\n      {family}HOST: db.internal\n      {family}PORT: '5432'\n"
    host_line = 5 + (command is not None)
    found = scan_tree(tmp_path_factory.mktemp("server"), {"docker-compose.yml": text})
    lines = {line for where, line, rule, _ in found if rule == "VF102"}
    server = _IMAGES[image] and _SERVICE_COMMANDS[command]
    assert (host_line in lines) == (not server), text


# --- Helm values a chart's templates hand to a variable the code reads (class 5c) ---------


@SLOW
@given(
    variable=st.sampled_from(("POSTGRES_HOST", "DB_HOST", "DATABASE_HOST")),
    quoting=st.sampled_from(
        ("{{{{ .Values.{p} }}}}", '"{{{{ .Values.{p} }}}}"', "{{{{- .Values.{p} | quote }}}}")
    ),
    code_reads=st.sampled_from(("mapped", "other", "none")),
    chart=st.booleans(),
)
def test_helm_values_the_code_reads_through_the_chart_are_judged_there(
    tmp_path_factory: pytest.TempPathFactory,
    variable: str,
    quoting: str,
    code_reads: str,
    chart: bool,
) -> None:
    values = "replicaCount: 1\npostgresql:\n  postgresqlHost: db-svc\n  postgresqlPort: 5432\n"
    value = quoting.format(p="postgresql.postgresqlHost")
    template = (
        "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n"
        "      containers:\n        - name: web\n          env:\n"
        f"            - name: {variable}\n              value: {value}\n"
    )
    files = {"chart/values.yaml": values, "chart/templates/deployment.yaml": template}
    if chart:
        files["chart/Chart.yaml"] = "apiVersion: v2\nname: web\nversion: 0.1.0\n"
    read = {"mapped": variable, "other": "SOMETHING_ELSE", "none": None}[code_reads]
    if read is not None:
        files["app/settings.py"] = f"import os\nHOST = os.environ.get('{read}', '')\n"
    found = scan_tree(tmp_path_factory.mktemp("chart"), files)
    at_values = {(line, rule) for where, line, rule, _ in found if where == "chart/values.yaml"}
    judged_in_code = chart and code_reads == "mapped"
    assert at_values == (set() if judged_in_code else {(3, "VF102")}), files
