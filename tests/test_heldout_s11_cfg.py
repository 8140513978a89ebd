"""The classes the session 11 held-out round (helper heldout-e, 12 repositories) found on
the config side, each closed by a mechanism and checked on generated input (fixtures:
tests/fixtures/scan/config/heldout_s11/).

1. A YAML file kept as a template or example of the file it becomes
   (`docker-compose.override.yml.tpl`, `docker-compose.yml.example`) is read as that file:
   the same findings on the same lines as the file it is copied to (`api.EXAMPLE_SUFFIXES`;
   `.tpl` and `.tmpl` were not read before).
2. A password named for AWS's managed databases (`RDS_PASSWORD`, Terraform
   `variable "rds_password" { default = "…" }`, `aurora_master_password`) is a database
   password: VF401 for a literal, in every format; a placeholder stays none.
"""

from __future__ import annotations

import string
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from real_secrets import real_password
from test_scan_config_formats import scan_tree

SLOW = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _scan(files: dict[str, str]) -> list[tuple[str, int, str, str]]:
    with tempfile.TemporaryDirectory() as scratch:
        return scan_tree(Path(scratch), files)


# --- 1. YAML templates and examples -------------------------------------------------------

_PASSWORDS = real_password(st.text(string.ascii_letters + string.digits, min_size=6, max_size=14))
_MODES = st.sampled_from(["", "?sslmode=disable", "?sslmode=require", "?sslmode=verify-full"])
_COMMANDS = st.sampled_from(
    ["", "start-single-node --insecure", "start-single-node --certs-dir=/certs"]
)
_KINDS = st.sampled_from(["tpl", "tmpl", "template", "example", "sample", "dist"])
_STEMS = st.sampled_from(["docker-compose.override", "docker-compose", "compose.dev", "deploy"])


def _compose(password: str, mode: str, command: str, listed: bool) -> str:
    env = (
        f"      - POSTGRES_PASSWORD={password}\n      - DATABASE_URL=postgresql://app@db:5432/app{mode}\n"
        if listed
        else f"      POSTGRES_PASSWORD: {password}\n      DATABASE_URL: postgresql://app@db:5432/app{mode}\n"
    )
    text = f"services:\n  web:\n    image: python:3.12\n    environment:\n{env}"
    if command:
        text += f"  roach:\n    image: cockroachdb/cockroach:v23.2.0\n    command: {command}\n"
    return text


@SLOW
@given(
    password=_PASSWORDS,
    mode=_MODES,
    command=_COMMANDS,
    listed=st.booleans(),
    stem=_STEMS,
    ext=st.sampled_from(["yml", "yaml"]),
    kind=_KINDS,
)
def test_a_yaml_template_is_read_as_the_file_it_becomes(
    password: str, mode: str, command: str, listed: bool, stem: str, ext: str, kind: str
) -> None:
    text = _compose(password, mode, command, listed)
    plain = _scan({f"a/{stem}.{ext}": text})
    template = _scan({f"a/{stem}.{ext}.{kind}": text})
    assert plain, text  # the literal password at least: the comparison means something
    assert [(line, rule) for _, line, rule, _ in template] == [
        (line, rule) for _, line, rule, _ in plain
    ]


@given(kind=_KINDS)
@settings(max_examples=6, deadline=None)
def test_a_template_that_is_not_yaml_is_not_an_error_when_it_is_helm_like(kind: str) -> None:
    """A Go-templated template (`{{ .Values.x }}` blocks) reads as Helm's templates do."""
    text = (
        "services:\n  web:\n    environment:\n"
        "{{- range $k, $v := .Values.env }}\n      {{ $k }}: {{ $v }}\n{{- end }}\n"
    )
    assert _scan({f"docker-compose.yml.{kind}": text}) == []


# --- 2. RDS / Aurora passwords --------------------------------------------------------------

_RDS_NAMES = st.sampled_from(
    [
        "rds_password",
        "RDS_PASSWORD",
        "rds_master_password",
        "AURORA_PASSWORD",
        "aurora-admin-password",
    ]
)


def _password_file(form: str, key: str, value: str) -> tuple[str, str, int]:
    if form == "tf-variable":
        return (
            "variables.tf",
            f'variable "{key}" {{\n  type    = string\n  default = "{value}"\n}}\n',
            3,
        )
    if form == "tfvars":
        return "prod.tfvars", f'region = "us-east-1"\n{key} = "{value}"\n', 2
    if form == "env":
        return ".env", f"RDS_HOSTNAME=db.example.internal\n{key}={value}\n", 2
    return "docker-compose.yml", f"services:\n  web:\n    environment:\n      {key}: '{value}'\n", 4


@SLOW
@given(
    key=_RDS_NAMES,
    form=st.sampled_from(["tf-variable", "tfvars", "env", "compose"]),
    value=st.one_of(_PASSWORDS, st.sampled_from(["changeme", "<password>", "${RDS_PASSWORD}", ""])),
)
def test_a_password_named_for_rds_or_aurora_is_a_database_password(
    key: str, form: str, value: str
) -> None:
    if form in ("env", "compose", "tfvars") and "-" in key:
        key = key.replace("-", "_")  # a shell / HCL identifier
    name, text, line = _password_file(form, key, value)
    found = {(at, rule) for where, at, rule, _ in _scan({name: text}) if where == name}
    placeholder = value == "" or value.startswith(("$", "<")) or value == "changeme"
    assert ((line, "VF401") in found) == (not placeholder), text
