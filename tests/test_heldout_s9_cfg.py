"""The classes the session 9 held-out round (helper heldout-c, 20 repositories) found on
the config and shell side, each closed by a mechanism and checked on generated input
(fixtures: tests/fixtures/scan/config/heldout_s9/).

1. `cockroach start --insecure ... --accept-sql-without-tls`: the node has no TLS at all,
   so the second flag changes nothing: one VF201, no VF202 beside it (judge the final
   state); without --insecure (or with --insecure=false) the flag is VF202 as before.
2. An infrastructure-as-code expression written as text in a password's place
   (`aws_db_instance.fp-rds.password`, `var.db_password`) is no VF401.
3. `env-base.txt`, `env_prod`: `env` joined to a variant by `-` / `_` without the leading
   dot is an env file when its lines are KEY=VALUE lines.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from real_secrets import real_password
from test_scan_config_formats import rules_at, scan_tree

SLOW = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _scan(files: dict[str, str]) -> list[tuple[str, int, str, str]]:
    with tempfile.TemporaryDirectory() as scratch:
        return scan_tree(Path(scratch), files)


# --- 1. --accept-sql-without-tls on an --insecure node -----------------------------------

_INSECURE = st.sampled_from([("--insecure", True), ("--insecure=true", True), ("", False)])
_INSECURE_OFF = st.sampled_from([("--insecure=false", False), ("", False)])
_ACCEPT = st.sampled_from(
    [("--accept-sql-without-tls", True), ("--accept-sql-without-tls=true", True), ("", False)]
)
_OTHER = st.lists(
    st.sampled_from(
        ["--store=/tmp/data", "--sql-addr=:26357", "--http-addr=:8181", "--background"]
    ),
    max_size=3,
    unique=True,
)


def _as_file(form: str, argv: list[str]) -> tuple[str, str]:
    """The command written as one of the forms real trees use."""
    line = " ".join(argv)
    if form == "script":
        return "start.sh", f"#!/bin/sh\nset -e\n{line}\n"
    if form == "continued":
        return "start.sh", "#!/bin/bash\n" + " \\\n    ".join(argv) + "\n"
    if form == "sh-c":
        return "run.sh", f'#!/bin/sh\nsh -c "exec {line}"\n'
    if form == "compose-string":
        return "docker-compose.yml", (
            "services:\n  roach:\n    image: cockroachdb/cockroach:v23.2.0\n"
            f"    command: {' '.join(argv[1:])}\n"
        )
    if form == "compose-list":
        items = "".join(f"      - {word}\n" for word in argv[1:])
        return "docker-compose.yml", (
            f"services:\n  roach:\n    image: cockroachdb/cockroach:v23.2.0\n    command:\n{items}"
        )
    words = ", ".join(f'"{w}"' for w in argv)
    return "Dockerfile", f"FROM cockroachdb/cockroach:v23.2.0\nCMD [{words}]\n"


@SLOW
@given(
    form=st.sampled_from(
        ["script", "continued", "sh-c", "compose-string", "compose-list", "dockerfile"]
    ),
    start=st.sampled_from(["start-single-node", "start"]),
    insecure=st.one_of(_INSECURE, _INSECURE_OFF),
    accept=_ACCEPT,
    other=_OTHER,
    order=st.randoms(use_true_random=False),
)
def test_an_insecure_node_is_one_vf201_whatever_else_it_accepts(
    form: str,
    start: str,
    insecure: tuple[str, bool],
    accept: tuple[str, bool],
    other: list[str],
    order: object,
) -> None:
    flags = [f for f in (insecure[0], accept[0], *other) if f]
    order.shuffle(flags)  # type: ignore[attr-defined]
    if start == "start" and "--join=a,b" not in flags:
        flags.append("--join=a,b")
    name, text = _as_file(form, ["cockroach", start, *flags])
    rules = rules_at(_scan({name: text}), name)
    expected = set()
    if insecure[1]:
        expected.add("VF201")
    elif accept[1]:
        expected.add("VF202")
    assert rules & {"VF201", "VF202"} == expected, (text, rules)


# --- 2. an infrastructure-as-code reference written as text is no password ----------------

_IDENT = st.text("abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=8)
_ATTR = st.sampled_from(["password", "master_password", "result", "secret_string", "pw"])
_IAC_REFERENCE = st.one_of(
    st.builds(lambda n, a: f"var.{n}_{a}", _IDENT, _ATTR),
    st.builds(lambda n, a: f"local.{n}.{a}", _IDENT, _ATTR),
    st.builds(lambda n, a: f"module.{n}.{a}[0]", _IDENT, _ATTR),
    st.builds(lambda t, n, a: f"aws_{t}.{n}-rds.{a}", _IDENT, _IDENT, _ATTR),
    st.builds(lambda n, a: f"random_password.{n}.{a}", _IDENT, _ATTR),
)
_REAL = real_password(
    st.builds(lambda a, d, b: f"{a.capitalize()}{d}{b}", _IDENT, st.integers(10, 99), _IDENT)
)
_PASSWORD_KEY = st.sampled_from(["POSTGRES_PASSWORD", "DB_PASSWORD", "PGPASSWORD"])


def _written(form: str, key: str, value: str) -> tuple[str, str]:
    if form == "task-json":
        return "task_definition.json.tpl", (
            f'[{{"name": "app", "environment": [\n  {{"name": "{key}", "value": "{value}"}}\n]}}]\n'
        )
    if form == "compose":
        return "docker-compose.yml", (
            f"services:\n  db:\n    image: postgres:16\n    environment:\n      {key}: {value}\n"
        )
    if form == "k8s":
        return "deploy.yaml", (
            "apiVersion: v1\nkind: Pod\nmetadata: {name: app}\nspec:\n  containers:\n"
            f"    - name: app\n      image: app\n      env:\n"
            f'        - name: {key}\n          value: "{value}"\n'
        )
    return ".env", f"{key}={value}\n"


@SLOW
@given(
    form=st.sampled_from(["task-json", "compose", "k8s", "env"]),
    key=_PASSWORD_KEY,
    reference=_IAC_REFERENCE,
    real=_REAL,
)
def test_an_iac_reference_written_as_text_is_not_a_password(
    form: str, key: str, reference: str, real: str
) -> None:
    name, text = _written(form, key, reference)
    assert "VF401" not in rules_at(_scan({name: text}), name), text
    name, text = _written(form, key, real)  # a real password in the same place still is
    assert "VF401" in rules_at(_scan({name: text}), name), text


# --- 3. env files named `env-*` / `env_*` (no leading dot) ---------------------------------

_ENV_NAME = st.builds(
    lambda sep, variant, suffix: f"env{sep}{variant}{suffix}",
    st.sampled_from(["-", "_"]),
    st.sampled_from(["base", "example", "prod", "dev", "sample", "local"]),
    st.sampled_from(["", ".txt", ".example", ".dist"]),
)
_HOST = st.sampled_from(["localhost", "db", "db.internal", "10.0.0.5"])


@SLOW
@given(name=_ENV_NAME, host=_HOST, secure=st.booleans(), comment=st.booleans())
def test_env_variant_files_without_the_dot_are_env_files(
    name: str, host: str, secure: bool, comment: bool
) -> None:
    query = "?sslmode=verify-full&sslrootcert=/certs/ca.crt" if secure else ""
    text = ("# copy to .env\n" if comment else "") + (
        f"SECRET_KEY=uma_senha_bem_grande\nDATABASE_URL=postgresql://app@{host}:5432/app{query}\n"
    )
    rules = rules_at(_scan({name: text}), name)
    assert ("VF102" in rules) is not secure, (name, text, rules)
    sniffed = rules_at(_scan({name: "set -e\ncd /srv\necho starting\n"}), name)
    assert not sniffed, sniffed  # a hinted name holding commands is not read as one
