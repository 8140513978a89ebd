"""Session 12 leftovers of issues 12/13, each a class (docs/scan.md, "Session 12").

- a compose extension field (`x-...: &anchor`) that nothing in the file refers to is
  no container's environment: no transport finding there, its literal password still
  VF401 (zorik19/bankProject's test compose files, once `build/` is walked).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verifyfull.policy import DEFAULT_POLICY
from verifyfull.scan.api import ScanContext
from verifyfull.scan.engine import scan_file
from verifyfull.scan.walk import WalkedFile

CANARY = "canary-Pw-3f9a1c"


def bounded(examples: int) -> settings:
    """Small, the same cases every run (a rare interplay fails every time)."""
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )


TRANSPORT = {"VF101", "VF102", "VF103", "VF104", "VF105", "VF108"}


def scan_one(path: Path, root: Path) -> list[tuple[int, str]]:
    walked = WalkedFile(path, path.relative_to(root).as_posix())
    outcome = scan_file(walked, ScanContext(root=root, policy=DEFAULT_POLICY), 1_000_000)
    assert not outcome.errors, outcome.errors
    return sorted((f.line or 0, f.rule_id) for f in outcome.findings)


_BODIES = {
    "components": [
        "  POSTGRES_HOST: postgres",
        "  POSTGRES_USER: app",
        f"  POSTGRES_PASSWORD: {CANARY}",
        "  POSTGRES_DB: app",
    ],
    "url": [f"  DATABASE_URL: postgresql://app:{CANARY}@db:5432/app"],
    "url-disable": [f"  DATABASE_URL: postgresql://app:{CANARY}@db:5432/app?sslmode=disable"],
}
# How a service (or only another extension field) refers to the anchor.
_USES = {
    "none": [],
    "environment": ["    environment: *common"],
    "merge": ["    environment:", "      <<: *common", "      LOG_LEVEL: info"],
    "list-merge": ["    environment:", "      <<: [*common]"],
    "other-extension": [],
}


@bounded(30)
@given(
    body=st.sampled_from(sorted(_BODIES)),
    use=st.sampled_from(["none", "none", *sorted(_USES)]),  # the unused shape oftener
    name=st.sampled_from(["x-common-variables", "x-env", "x-db"]),
    image=st.sampled_from(["example/app:1", "fwork/lead_service:latest"]),
    leading=st.booleans(),
)
def test_an_extension_field_nothing_refers_to_is_no_environment(
    tmp_path_factory: pytest.TempPathFactory,
    body: str,
    use: str,
    name: str,
    image: str,
    leading: bool,
) -> None:
    root = tmp_path_factory.mktemp("compose")
    lines = ["version: '3.4'", ""] if leading else []
    first = len(lines) + 2
    lines += [f"{name}: &common", *_BODIES[body]]
    last = len(lines)
    if use == "other-extension":
        lines += ["", "x-later: &later", "  <<: *common"]
    lines += ["", "services:", "  web:", f"    image: {image}", *_USES[use]]
    lines += ["  postgres:", "    image: postgres:16"]
    path = root / "docker-compose.yml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    found = scan_one(path, root)
    at_anchor = {rule for line, rule in found if first <= line <= last}
    assert "VF401" in at_anchor  # a literal password is committed, used or not
    assert bool(at_anchor & TRANSPORT) == (use != "none"), (use, found)


def test_the_bank_project_test_compose_file(tmp_path: Path) -> None:
    """zorik19/bankProject build/docker-compose.test.yml: the anchor is never merged."""
    path = tmp_path / "docker-compose.test.yml"
    path.write_text(
        "version: '3.4'\n\n"
        "x-common-variables: &common-variables\n"
        "  ENV: test\n  REDIS_HOST: redis\n  POSTGRES_HOST: postgres\n"
        "  POSTGRES_USER: test_user\n  POSTGRES_PASSWORD: secret\n  POSTGRES_DB: test\n"
        "  PGDATA: /pgtmpfs\n\n"
        "services:\n  web:\n    image: fwork/lead_service:latest\n"
        '    command: ["sh", "/app/build/run_test.sh"]\n'
        "  postgres:\n    image: postgres:11.1-alpine\n",
        encoding="utf-8",
    )
    assert scan_one(path, tmp_path) == [(8, "VF401")]


# --- one bounded INI reader (scan/inireader.py) -------------------------------------
# The config INI check, the configparser values of the Python side (config_files.py),
# aerich's aerich.ini and alembic.ini's [alembic] section read the same values.

_SECTIONS = ("aerich", "alembic", "app", "prod")
_KEYS = ("tortoise_orm", "sqlalchemy.url", "url", "script_location")
_INI_VALUES = (
    "app.db.TORTOISE_ORM",
    "settings.TORTOISE",
    "postgresql://app@db/app?sslmode=disable",
    "postgresql+psycopg2://app@db:5432/app",
    "migrations",
    "%(here)s/migrations",
    "100%",
)
_option = st.tuples(
    st.sampled_from(_KEYS), st.sampled_from(("=", " = ", ": ")), st.sampled_from(_INI_VALUES)
)


@st.composite
def ini_texts(draw: st.DrawFn) -> tuple[str, dict[str, dict[str, str]]]:
    """INI text and what configparser's reading of it is (duplicates: the last wins)."""
    lines: list[str] = []
    for key, sep, value in draw(st.lists(_option, max_size=2)):  # before any header
        lines.append(f"{key}{sep}{value}")
    expected: dict[str, dict[str, str]] = {}
    for section in draw(st.lists(st.sampled_from(_SECTIONS), min_size=1, max_size=5)):
        lines.append(f"[{section}]")
        if draw(st.booleans()):
            lines.append(draw(st.sampled_from(("# a comment", "; a comment", ""))))
        for key, sep, value in draw(st.lists(_option, max_size=4)):
            lines.append(f"{key}{sep}{value}")
            expected.setdefault(section, {})[key] = value
        expected.setdefault(section, {})
    return "\n".join(lines) + "\n", expected


def _line_walker(path: Path, text: str) -> dict[str, dict[str, str]]:
    from verifyfull.scan.api import SourceFile
    from verifyfull.scan.config import ini

    ini.validate(text)  # never refuses what configparser reads
    settings_, _ = ini.parse_ini(SourceFile(path, path.name, text))
    read: dict[str, dict[str, str]] = {}
    for setting in settings_:
        if setting.context and "=" not in setting.key:  # tox-style KEY=VALUE items aside
            read.setdefault(setting.context[0], {})[setting.key] = setting.value
    return read


@bounded(40)
@given(case=ini_texts())
def test_every_ini_reader_reads_the_same_values(
    tmp_path_factory: pytest.TempPathFactory, case: tuple[str, dict[str, dict[str, str]]]
) -> None:
    from verifyfull.scan.python import config_files
    from verifyfull.scan.python.frameworks import aerich, migrations

    text, expected = case
    root = tmp_path_factory.mktemp("ini")
    for name in ("aerich.ini", "alembic.ini", "config.ini"):
        (root / name).write_text(text, encoding="utf-8")
    walked = _line_walker(root / "config.ini", text)
    for section, options in expected.items():
        assert {k: walked.get(section, {}).get(k) for k in options} == options
    for section in _SECTIONS:
        for key in _KEYS:
            want = expected.get(section, {}).get(key)
            got = config_files._values(root / "config.ini", section, key)
            assert got == ([want] if want is not None else None), (section, key)
    alembic = migrations._alembic_section(root / "alembic.ini")
    assert alembic == expected.get("alembic", {})
    module, _, attr = expected.get("aerich", {}).get("tortoise_orm", "").rpartition(".")
    assert aerich.configured(str(root)) == ({(module, attr)} if module else set())


def test_the_ini_reader_is_bounded_and_refuses_quietly(tmp_path: Path) -> None:
    from verifyfull.scan.inireader import MAX_INI_BYTES, read_ini

    big = tmp_path / "big.ini"
    big.write_text("[app]\nurl = x\n" + "; pad\n" * (MAX_INI_BYTES // 6 + 1), encoding="utf-8")
    latin = tmp_path / "latin.ini"
    latin.write_bytes("[app]\nurl = caf\xe9\n".encode("latin-1"))
    broken = tmp_path / "broken.ini"
    broken.write_text("[app\nurl = x\n", encoding="utf-8")
    crlf = tmp_path / "crlf.ini"
    crlf.write_bytes(b"top = 1\r\n[app]\r\nurl = postgresql://db/app\r\n")
    assert read_ini(big) is None and read_ini(latin) is None and read_ini(broken) is None
    parsed = read_ini(crlf)
    assert parsed is not None
    assert parsed.get("app", "url") == "postgresql://db/app" and parsed.top_level == {"top": "1"}


# --- components whose family names no database kind, by the host (issue 13 item 7) ----
# DATABASE_HOST: postgres is PostgreSQL's connection when the host is named for the
# server; not judged when its reader is another ecosystem's sub-project (a JDBC or
# node-postgres client, whose defaults are not modelled): helm-for-webservices' values
# against opslaba's liquibase service built from a Maven sub-project.

_PG_HOSTS = ("postgres", "web-postgres", "crdb-0", "cockroachdb", "postgres.db.svc", "pg")
_OTHER_HOSTS = ("mysql", "db", "dbserver", "redis-host", "mongo")
_ECOSYSTEMS = {
    "python": ("requirements.txt", "app.py"),
    "java": ("pom.xml",),
    "node": ("package.json", "index.js"),
    "go": ("go.mod", "main.go"),
    "none": (),
}


@bounded(40)
@given(
    host=st.sampled_from(_PG_HOSTS + _OTHER_HOSTS),
    family=st.sampled_from(("DATABASE", "DB", "SQL")),
    shape=st.sampled_from(("compose-build", "compose-context", "compose-image", "helm", "env")),
    ecosystem=st.sampled_from(sorted(_ECOSYSTEMS)),
)
def test_a_host_named_for_postgres_makes_components_a_connection_unless_another_ecosystem_reads(
    tmp_path_factory: pytest.TempPathFactory, host: str, family: str, shape: str, ecosystem: str
) -> None:
    root = tmp_path_factory.mktemp("components")
    service = root / "svc"
    service.mkdir()
    for name in _ECOSYSTEMS[ecosystem]:
        (service / name).write_text("print('hello')\n" if name.endswith(".py") else "{}\n")
    parts = [f"{family}_HOST: {host}", f"{family}_NAME: app", f"{family}_USER: app"]
    if shape.startswith("compose"):
        build = {
            "compose-build": ["    build: ./svc"],
            "compose-context": ["    build:", "      context: ./svc"],
            "compose-image": ["    image: example/app:1"],
        }[shape]
        lines = ["services:", "  app:", *build, "    environment:", *(f"      {p}" for p in parts)]
        lines += ["  db:", "    image: postgres:16"]
        path = root / "docker-compose.yml"
        host_line = len(build) + 4
        read_by = service if shape != "compose-image" else None
    elif shape == "helm":
        (service / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 0.1.0\n")
        lines = ["secrets:", "  values:", *(f"    {p}" for p in parts)]
        path = service / "values.yaml"
        host_line = 3
        read_by = service
    else:
        lines = [p.replace(": ", "=") for p in parts]
        path = service / ".env"
        host_line = 1
        read_by = service
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    found = scan_one(path, root)
    other = read_by is not None and ecosystem in ("java", "node", "go")
    expected = host in _PG_HOSTS and not other
    assert ((host_line, "VF102") in found) == expected, (found, lines)


# --- components in the environment of an image that runs the project's code ---------
# mugubr/FastAPI-Postgres-ormar-Docker: `ENV POSTGRES_*` in a Dockerfile whose CMD is
# `uvicorn app.main:app`; the code's URL is a literal in app/db.py, judged there.

_RUNS = {  # the final stage's command, and whether it runs a module of the tree
    'CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0"]': True,
    "CMD uvicorn app.main:app --reload": True,
    'CMD ["python", "-m", "app"]': True,
    "CMD python3 manage.py runserver 0.0.0.0:8000": True,
    'CMD ["python", "/srv/app/main.py"]': True,
    'ENTRYPOINT ["gunicorn"]\nCMD ["app.main:app"]': True,
    'CMD ["sh", "-c", "python -m app"]': True,
    'CMD ["celery", "-A", "app", "worker"]': True,
    'CMD ["node", "server.js"]': False,
    'CMD ["uvicorn", "elsewhere.main:app"]': False,
    "CMD postgres": False,
    "": False,
}


@bounded(40)
@given(
    run=st.sampled_from(sorted(_RUNS)),
    with_code=st.booleans(),
    env_first=st.booleans(),
    stages=st.booleans(),
)
def test_components_in_an_image_running_the_projects_code_are_not_a_connection(
    tmp_path_factory: pytest.TempPathFactory,
    run: str,
    with_code: bool,
    env_first: bool,
    stages: bool,
) -> None:
    root = tmp_path_factory.mktemp("image")
    if with_code:
        (root / "app").mkdir()
        (root / "app" / "__init__.py").write_text("")
        (root / "app" / "main.py").write_text("app = None\n")
        (root / "manage.py").write_text("print('django')\n")
    env = ["ENV POSTGRES_HOST=db", "ENV POSTGRES_USER=app", "ENV POSTGRES_DB=app"]
    lines = ["FROM python:3.12 AS build", 'CMD ["python", "-m", "app"]'] if stages else []
    lines += ["FROM python:3.12", "COPY . /srv/app", "WORKDIR /srv/app"]
    lines += [*env, *run.splitlines()] if env_first else [*run.splitlines(), *env]
    path = root / "Dockerfile"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    host_line = lines.index(env[0]) + 1
    found = scan_one(path, root)
    runs_tree_code = _RUNS[run] and with_code
    assert ((host_line, "VF102") in found) == (not runs_tree_code), (found, lines)


# --- audit (issue 13 item 7): a Prisma `?schema=` URL is read as Prisma reads it -------
# Prisma's own query key `schema` is no libpq option (psycopg refuses it at connect), but
# it is no TLS setting either: the URL gets the verdict of its TLS part alone, Prisma's
# default being prefer as libpq's (VF102), in every file a Prisma project writes it.


@bounded(20)
@given(
    mode=st.sampled_from(("", "sslmode=disable", "sslmode=require", "sslmode=prefer")),
    where=st.sampled_from(("env", "compose")),
    schema_first=st.booleans(),
)
def test_a_prisma_schema_key_changes_no_verdict(
    tmp_path_factory: pytest.TempPathFactory, mode: str, where: str, schema_first: bool
) -> None:
    def findings(query: str) -> set[str]:
        root = tmp_path_factory.mktemp("prisma")
        url = "postgresql://app@db:5432/app" + (f"?{query}" if query else "")
        if where == "env":
            path, text = root / ".env", f'DATABASE_URL="{url}"\n'
        else:
            path = root / "docker-compose.yml"
            service = "services:\n  api:\n    image: node:20\n    environment:\n"
            text = f"{service}      DATABASE_URL: {url}\n"
        path.write_text(text, encoding="utf-8")
        return {rule for _, rule in scan_one(path, root)}

    parts = ["schema=public", mode] if schema_first else [mode, "schema=public"]
    with_schema = findings("&".join(p for p in parts if p))
    assert with_schema == findings(mode)
    assert with_schema == {"": {"VF102"}, "sslmode=prefer": {"VF102"}}.get(
        mode, {"VF101"} if mode.endswith("disable") else {"VF103"}
    )


# --- env files named by `source FILE` / `. FILE` / `dotenv -f FILE` (issue 13 class 3) -
# A file under a name no check claims is read as what it is to the script that names
# it: the same findings, at the same lines, as the same text under a name the walk reads.

_SOURCED_LINES = {
    "disable": 'export DATABASE_URL="postgresql://app@db:5432/app?sslmode=disable"',
    "none": "DATABASE_URL=postgresql://app@db:5432/app",
    "require": "PGSSLMODE=require",
    "verified": 'DATABASE_URL="postgresql://app@db/app?sslmode=verify-full&sslrootcert=/ca.crt"',
}
_SOURCE_SPELLINGS = (
    "source {path}",
    ". {path}",
    "set -a; . {path}; set +a",
    'if [ -f "{path}" ]; then . "{path}"; fi',
    "dotenv -f {path} run alembic upgrade head",
    "dotenv --file={path} run python app.py",
)


@bounded(40)
@given(
    content=st.lists(st.sampled_from(sorted(_SOURCED_LINES)), min_size=1, max_size=3),
    spelling=st.sampled_from(_SOURCE_SPELLINGS),
    name=st.sampled_from(("deploy/vars", "config/app.settings", "etc/production")),
    from_root=st.booleans(),
)
def test_a_file_a_script_sources_is_judged_as_it_would_be_under_a_known_name(
    tmp_path_factory: pytest.TempPathFactory,
    content: list[str],
    spelling: str,
    name: str,
    from_root: bool,
) -> None:
    root = tmp_path_factory.mktemp("sourced")
    body = "\n".join(_SOURCED_LINES[c] for c in content) + "\n"
    target = root / name
    target.parent.mkdir(parents=True)
    target.write_text(body, encoding="utf-8")
    script = root / ("run.sh" if from_root else "scripts/run.sh")
    script.parent.mkdir(exist_ok=True)
    path = name if from_root else f"../{name}"
    script.write_text("#!/bin/sh\n" + spelling.format(path=path) + "\n", encoding="utf-8")
    found = {(line, rule) for line, rule in scan_one(script, root)}
    twin = root / ("twin.sh" if not spelling.startswith("dotenv") else "twin.env")
    twin.write_text(body, encoding="utf-8")
    assert found == set(scan_one(twin, root))


def test_a_hostile_script_of_sourcing_lines_finishes(tmp_path: Path) -> None:
    """A deadline against a hang; the speed of hostile shapes is bounds_bench.py's."""
    from test_trust_bounds import HANG_SECONDS, watchdog

    (tmp_path / "vars").write_text("PGSSLMODE=disable\n", encoding="utf-8")
    script = tmp_path / "run.sh"
    lines = [". ./vars", "source vars", "dotenv " + "-x " * 2_000 + "-f vars", ". " * 5_000]
    script.write_text("\n".join(lines * 30) + "\n", encoding="utf-8")  # 480 kB
    with watchdog(HANG_SECONDS):
        found = scan_one(script, tmp_path)
    assert (1, "VF101") in found  # the one file, judged once
