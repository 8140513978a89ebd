"""Issue 13 classes 3-5: env files by what they are, deployment formats, project-defined
TLS variables. Each class is closed by a mechanism; these tests generate its members.

- class 3: any KEY=VALUE file under an env-file name (certain or hinted) is read, and a
  hinted name holding something else is not (envfile.is_env_file); python-dotenv's
  named files are judged once (dotenv_hook.py).
- class 4: a name/value entry is one setting in every format that writes them
  (YAML, JSON, HCL, Bicep), and a DSN built from interpolations is judged by its
  literal parts (interpolation.py).
- class 5: a variable the project's code passes to a TLS argument is judged with that
  argument's meaning wherever config gives it a value (project_vars.py).
"""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verifyfull.policy import DEFAULT_POLICY
from verifyfull.scan import engine, project_vars
from verifyfull.scan.api import SourceFile
from verifyfull.scan.config import bracetext, dsn, envfile
from verifyfull.scan.interpolation import neutral_dsn
from verifyfull.scan.settings import ScanSettings

SLOW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
# libpq's verdict for a mode alone (the rules dsn.sslmode_findings gives).
LIBPQ_RULES = {
    "disable": {"VF101"},
    "allow": {"VF102"},
    "prefer": {"VF102"},
    "require": {"VF103"},
    "verify-ca": {"VF104"},
    "verify-full": set(),
}


def scan_tree(root: Path, files: dict[str, str]) -> list[tuple[str, int, str, str]]:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    project_vars.index_for.cache_clear()
    result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    assert not result.report.errors, result.report.errors
    return sorted((f.path or "", f.line or 0, f.rule_id, f.message) for f in result.report.findings)


def rules_at(found: list[tuple[str, int, str, str]], path: str) -> set[str]:
    return {rule for where, _, rule, _ in found if where == path}


# --- class 3: env files by what they are ----------------------------------------------

_KEYS = st.text(string.ascii_uppercase + "_", min_size=1, max_size=12).filter(lambda k: k[0] != "_")
_NAMES_CERTAIN = st.sampled_from(
    [".env", ".env.local", ".env.example", "prod.env", ".envrc", "env.list", "web.env.list"]
)
_NAMES_HINTED = st.sampled_from(
    [".docker_env", "docker_env", "prod.env.example", "staging.env.sample", "env.tpl", "app_env"]
)


@given(name=st.one_of(_NAMES_CERTAIN, _NAMES_HINTED), keys=st.lists(_KEYS, min_size=1, max_size=8))
def test_key_value_files_under_env_names_are_env_files(name: str, keys: list[str]) -> None:
    text = "# generated\n" + "".join(f"{key}=value{i}\n" for i, key in enumerate(keys))
    assert envfile.is_env_file(name, text)


@given(name=_NAMES_HINTED, words=st.lists(st.sampled_from(["echo hi", "cd /srv", "fi", "ls"])))
def test_hinted_names_holding_commands_are_not_env_files(name: str, words: list[str]) -> None:
    text = "#!/bin/sh\n" + "\n".join([*words, "run --now", "DATABASE_URL=x", *words]) + "\n"
    assert not envfile.is_env_file(name, text)


@pytest.mark.parametrize("name", ["settings.env.py", "values_env.yaml", "x.env.json", "env.sh"])
def test_other_formats_with_env_in_the_name_are_left_to_their_checks(name: str) -> None:
    assert not envfile.is_env_file(name, "DATABASE_URL=postgresql://db/app\n")


@pytest.mark.parametrize("name", [".docker_env", "prod.env.example", "env.tpl", "service_env"])
def test_hinted_env_file_is_scanned(tmp_path: Path, name: str) -> None:
    found = scan_tree(tmp_path, {name: "DATABASE_URL=postgresql://app@db.internal/app\n"})
    assert rules_at(found, name) == {"VF102"}


def test_dotenv_named_file_is_judged_once(tmp_path: Path) -> None:
    named = "config/service.settings"
    disabled = "DATABASE_URL=postgresql://app@db.internal/app?sslmode=disable\n"
    found = scan_tree(
        tmp_path,
        {
            "app/main.py": f'from dotenv import load_dotenv\nload_dotenv("{named}")\n',
            "app/worker.py": f'import dotenv\nv = dotenv.dotenv_values(dotenv_path="{named}")\n',
            named: "# read by python-dotenv\n" + disabled,
            "config/unnamed.settings": disabled,
        },
    )
    assert [(p, line, rule) for p, line, rule, _ in found] == [(named, 2, "VF101")]


def test_dotenv_file_the_walk_reads_is_not_judged_twice(tmp_path: Path) -> None:
    found = scan_tree(
        tmp_path,
        {
            "main.py": 'from dotenv import load_dotenv\nload_dotenv(".env.production")\n',
            ".env.production": "PGSSLMODE=disable\n",
        },
    )
    assert [(p, rule) for p, _, rule, _ in found] == [(".env.production", "VF101")]


# --- class 4: entries and interpolations ----------------------------------------------


def _entry_files(name: str, value: str) -> dict[str, str]:
    """The same setting written as a name/value entry in every format that has one."""
    return {
        "k8s.yaml": f"env:\n  - name: {name}\n    value: {value}\n",
        "render.yaml": f"envVars:\n  - key: {name}\n    value: {value}\n    sync: false\n",
        "eb/.ebextensions/env.config": (
            "option_settings:\n  - namespace: aws:elasticbeanstalk:application:environment\n"
            f"    option_name: {name}\n    value: {value}\n"
        ),
        "ecs.json": f'{{"environment": [{{"name": "{name}", "value": "{value}"}}]}}\n',
        "main.tf": f'locals {{\n  env = [{{ name = "{name}", value = "{value}" }}]\n}}\n',
        "main.bicep": f"var env = [\n  {{\n    name: '{name}'\n    value: '{value}'\n  }}\n]\n",
    }


@SLOW
@given(mode=st.sampled_from(MODES), name=st.sampled_from(["PGSSLMODE", "DB_SSLMODE", "SSL_MODE"]))
def test_entries_are_settings_in_every_format(
    tmp_path_factory: pytest.TempPathFactory, mode: str, name: str
) -> None:
    root = tmp_path_factory.mktemp("entries")
    files = _entry_files(name, mode)
    found = scan_tree(root, files)
    for path in files:
        assert rules_at(found, path) == LIBPQ_RULES[mode], path


_PIECE = st.sampled_from(
    [
        "${var.db.address}",
        "${DB_HOST}",
        "${DB_HOST:?set DB_HOST first}",
        "$" + "_" * 20,
        "${{ job.services.postgres.host }}",
        '${local.hosts["a"]}',
    ]
)


@given(host=_PIECE, port=_PIECE, password=_PIECE, mode=st.sampled_from(MODES))
def test_interpolated_dsn_is_judged_by_its_literal_parts(
    host: str, port: str, password: str, mode: str
) -> None:
    literal = f"postgresql://app@db.internal:5432/app?sslmode={mode}"
    written = f"postgresql://app:{password}@{host}:{port}/app?sslmode={mode}"
    where = {"path": "x", "line": 1, "column": 1}
    expected = {f.rule_id for f in dsn.dsn_findings(literal, {}, DEFAULT_POLICY, where)}
    got = {f.rule_id for f in dsn.dsn_findings(written, {}, DEFAULT_POLICY, where)}
    assert got == expected  # no VF105 (unreadable), no VF401 for an interpolated password


@given(piece=_PIECE)
def test_interpolation_deciding_tls_claims_nothing(piece: str) -> None:
    assert neutral_dsn(f"postgresql://app@db.internal/app?sslmode={piece}") is None


def test_terraform_variable_default_and_blocks() -> None:
    text = (
        'variable "db_password" {\n  default = "s3cr3t-literal"\n}\n'
        'resource "aws_db_instance" "main" {\n  password = "other-literal"\n}\n'
    )
    settings_ = bracetext.read_settings(text, bracetext.HCL)
    assert [(s.key, s.line, s.context) for s in settings_] == [
        ("db_password", 2, ("variable.db_password",)),
        ("password", 5, ("resource.aws_db_instance.main",)),
    ]


# --- class 5: project-defined TLS variables -------------------------------------------

_READS = {
    # how the code reads the variable -> the driver meaning it gives it
    "asyncpg_env": (
        "import asyncpg, os\n\nasync def pool(dsn):\n"
        '    return await asyncpg.create_pool(dsn, ssl=os.environ["{var}"])\n',
        "asyncpg",
    ),
    "psycopg_getenv": (
        "import os, psycopg\n\ndef connect():\n"
        '    return psycopg.connect(host="db", sslmode=os.getenv("{var}", "verify-full"))\n',
        "libpq",
    ),
    "django_options": (
        "import os\n{var} = os.environ.get('{var}', 'prefer')\n"
        "DATABASES = {{'default': {{'OPTIONS': {{'sslmode': {var}}}}}}}\n",
        "libpq",
    ),
    "settings_field": (
        "from pydantic_settings import BaseSettings\n\nclass Settings(BaseSettings):\n"
        "    {field}: str = 'verify-full'\n\nsettings = Settings()\n\n"
        "def kwargs():\n    return dict(sslmode=settings.{field})\n",
        "libpq",
    ),
    "fstring_dsn": (
        "import os\nURL = f\"postgresql://app@db/app?sslmode={{os.environ['{var}']}}\"\n",
        "libpq",
    ),
}


def _config_files(var: str, mode: str) -> dict[str, str]:
    return {
        "deploy/.env": f"{var}={mode}\n",
        "docker-compose.yml": f"services:\n  app:\n    environment:\n      - {var}={mode}\n",
        "k8s/app.yaml": f"env:\n  - name: {var}\n    value: {mode}\n",
        ".github/workflows/ci.yml": f"jobs:\n  test:\n    env:\n      {var}: {mode}\n",
        "infra/main.tf": f'environment {{\n  variables = {{\n    {var} = "{mode}"\n  }}\n}}\n',
    }


def _expected(meaning: str, mode: str) -> set[str]:
    if meaning == "libpq":
        return LIBPQ_RULES[mode]
    from verifyfull.conninfo import Driver, Environment, SSLArg, evaluate, from_asyncpg_kwargs

    info = from_asyncpg_kwargs({"host": dsn.NETWORK_HOST, "ssl": SSLArg.of_mode(mode)})
    return set(evaluate(info, Driver.ASYNCPG, Environment.of({}), DEFAULT_POLICY).rule_ids)


_VARS = st.text(string.ascii_uppercase, min_size=2, max_size=8).map(lambda s: f"{s}_TLS")


@SLOW
@given(read=st.sampled_from(sorted(_READS)), var=_VARS, mode=st.sampled_from(MODES))
def test_values_of_a_project_tls_variable_get_the_codes_meaning(
    tmp_path_factory: pytest.TempPathFactory, read: str, var: str, mode: str
) -> None:
    root = tmp_path_factory.mktemp("project")
    template, meaning = _READS[read]
    code = template.format(var=var, field=var.lower())
    files = {"app/db.py": code, **_config_files(var, mode)}
    found = scan_tree(root, files)
    expected = _expected(meaning, mode)
    for path in _config_files(var, mode):
        assert rules_at(found, path) == expected, (path, found)
        for where, _, _, message in found:
            if where == path:
                assert f"passes {var} as" in message and "app/db.py:" in message


@SLOW
@given(var=_VARS, mode=st.sampled_from(MODES))
def test_a_variable_no_code_passes_to_tls_is_not_judged(
    tmp_path_factory: pytest.TempPathFactory, var: str, mode: str
) -> None:
    root = tmp_path_factory.mktemp("unused")
    unrelated = "import os, requests\nrequests.get('https://x', verify=os.environ['{var}'])\n"
    redis = "import os, redis\nr = redis.Redis(ssl=os.environ['{var}'])\n"  # not asyncpg
    files = {"app/a.py": unrelated.format(var=var), "app/b.py": redis.format(var=var)}
    found = scan_tree(root, {**files, **_config_files(var, mode)})
    assert found == []


def test_index_is_bounded_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(project_vars, "MAX_FILES", 3)
    for i in range(5):
        (tmp_path / f"m{i}.py").write_text(
            f"import asyncpg, os\nasyncpg.connect(ssl=os.environ['V{i}'])\n"
        )
    project_vars.index_for.cache_clear()
    index = project_vars.index_for(tmp_path)
    project_vars.index_for.cache_clear()
    assert not index.complete and set(index.tls_variables) == {"V0", "V1", "V2"}


def test_root_of_a_source_file(tmp_path: Path) -> None:
    src = SourceFile(tmp_path / "a" / "b.env", "a/b.env", "")
    assert project_vars.root_of(src) == tmp_path
