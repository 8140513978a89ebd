"""Compose as compose merges it (issue 13 class 2), server config that is really
installed (class 6) and placeholders (class 8).

The property tests generate one service and split its keys between a base file and
the override `docker compose up` applies by itself: the findings (by rule) must be
those of the same service written whole in one file.
"""

from __future__ import annotations

import base64
import os
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_trust_bounds import HANG_SECONDS, watchdog
from verifyfull.policy import DEFAULT_POLICY
from verifyfull.rules import Severity
from verifyfull.scan.api import ScanContext, SourceFile
from verifyfull.scan.config import installed
from verifyfull.scan.config.judge import judge_settings
from verifyfull.scan.config.model import Setting
from verifyfull.scan.engine import scan_file
from verifyfull.scan.interpolation import interpolate, neutral_dsn, password_is_variable
from verifyfull.scan.placeholders import is_placeholder
from verifyfull.scan.walk import WalkedFile

CANARY = "canary-Pw-3f9a1c"
_EXAMPLES = int(os.environ.get("VERIFYFULL_COMPOSE_EXAMPLES", "40"))


def scan_tree(root: Path) -> list[tuple[str, int | None, str, Severity]]:
    """Every file of the tree through the engine's own per-file dispatch."""
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        walked = WalkedFile(path, path.relative_to(root).as_posix())
        outcome = scan_file(walked, ScanContext(root=root, policy=DEFAULT_POLICY), 1_000_000)
        assert not outcome.errors, outcome.errors
        found.extend((f.path or "", f.line, f.rule_id, f.severity) for f in outcome.findings)
    return found


# --- class 2: base + override gives the findings of the merged service --------------

_VALUES = {
    "image": ["cockroachdb/cockroach:v24.1.0", "postgres:16", "example/app:1"],
    "command": [
        "start --insecure --join=svc",
        "start-single-node --certs-dir=/certs",
        "postgres -c ssl=off",
        "postgres -c ssl=on -c ssl_min_protocol_version=TLSv1",
    ],
    "DATABASE_URL": [
        "postgresql://app@db:5432/app",
        "postgresql://app@db:5432/app?sslmode=disable",
        "postgresql://app@db:5432/app?sslmode=${APP_SSLMODE:-require}",
        "postgresql://app:${APP_PW:?set it}@db:5432/app",
    ],
    "PGSSLMODE": ["verify-full", "disable", "require"],
    "PGSSLROOTCERT": ["/certs/ca.crt"],
    "POSTGRES_PASSWORD": [CANARY, "changeme", "${POSTGRES_PW}"],
    "COCKROACH_INSECURE": ["true", "false"],
}
_ENV_KEYS = [k for k in _VALUES if k not in ("image", "command")]
# Keys that may also live in an env_file of the service: one only the compose file
# names (`svc.vars`, judged with the service), and one the env-file check also reads
# on its own (`svc.env`), which takes only keys whose meaning needs no other key (an
# env file judged on its own cannot know the service's PGSSLROOTCERT).
_ENV_FILE_KEYS = {
    "svc.vars": {"PGSSLMODE", "PGSSLROOTCERT", "POSTGRES_PASSWORD", "COCKROACH_INSECURE"},
    "svc.env": {"POSTGRES_PASSWORD", "COCKROACH_INSECURE"},
}
_ENV_FILES = list(_ENV_FILE_KEYS)


@st.composite
def split_services(draw: st.DrawFn) -> tuple[dict[str, str], dict[str, str], bool]:
    """A service's keys with a value each, where each goes (the base file, the override
    file, or an env_file of the base's service), and whether the environment is
    written as a list."""
    keys = draw(st.lists(st.sampled_from(list(_VALUES)), unique=True, min_size=1))
    service = {key: draw(st.sampled_from(_VALUES[key])) for key in keys}
    places = ["base", "override"]
    placement = {
        key: draw(st.sampled_from(places + [f for f in _ENV_FILES if key in _ENV_FILE_KEYS[f]]))
        for key in keys
    }
    return service, placement, draw(st.booleans())


def _service_yaml(service: dict[str, str], as_list: bool, env_files: tuple[str, ...] = ()) -> str:
    lines = ["services:", "  svc:"]
    for key in ("image", "command"):
        if key in service:
            lines.append(f"    {key}: {service[key]}")
    if env_files:
        lines.append(f"    env_file: [{', '.join(env_files)}]")
    env = [(k, v) for k, v in service.items() if k in _ENV_KEYS]
    if env:
        lines.append("    environment:")
        for key, value in env:
            lines.append(f"      - {key}={value}" if as_list else f'      {key}: "{value}"')
    if len(lines) == 2:
        lines.append("    restart: always")
    return "\n".join(lines) + "\n"


def _rules(found: list[tuple[str, int | None, str, Severity]]) -> Counter[str]:
    return Counter(rule for _, _, rule, _ in found)


@settings(
    max_examples=_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=split_services())
def test_base_and_override_give_the_findings_of_the_merged_service(
    tmp_path_factory: pytest.TempPathFactory, case: tuple[dict[str, str], dict[str, str], bool]
) -> None:
    service, placement, as_list = case
    whole = tmp_path_factory.mktemp("whole")
    (whole / "docker-compose.yml").write_text(_service_yaml(service, as_list))
    split = tmp_path_factory.mktemp("split")
    base = {k: v for k, v in service.items() if placement[k] == "base"}
    override = {k: v for k, v in service.items() if placement[k] == "override"}
    env_files = tuple(name for name in _ENV_FILES if name in placement.values())
    for name in env_files:
        lines = [f"{k}={v}" for k, v in service.items() if placement[k] == name]
        (split / name).write_text("\n".join(lines) + "\n")
    (split / "docker-compose.yml").write_text(_service_yaml(base, as_list, env_files))
    (split / "docker-compose.override.yml").write_text(_service_yaml(override, as_list))
    assert _rules(scan_tree(split)) == _rules(scan_tree(whole))


def test_merge_key_anchor_is_reported_once_and_gives_the_image(tmp_path: Path) -> None:
    (tmp_path / "docker-compose.yml").write_text(
        "x-node: &node\n"
        "  image: cockroachdb/cockroach:v24.1.0\n"
        "  environment:\n"
        f"    COCKROACH_PASSWORD: {CANARY}\n"
        "services:\n"
        "  a:\n    <<: *node\n    command: start --insecure\n"
        "  b:\n    <<: [*node]\n    command: start --insecure\n"
        "  c:\n    <<: *node\n"
    )
    found = scan_tree(tmp_path)
    assert sorted((line, rule) for _, line, rule, _ in found) == [
        (4, "VF401"),
        (8, "VF201"),
        (11, "VF201"),
    ]


def test_extends_cycles_and_missing_files_are_bounded(tmp_path: Path) -> None:
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n"
        "  a:\n    extends: b\n    command: start --insecure\n"
        "  b:\n    extends: {service: a}\n"
        "  c:\n    extends: {file: other.yml, service: x}\n    command: start --insecure\n"
        "  d:\n    extends: {file: nowhere.yml, service: x}\n"
        "    env_file: [../../../../etc/passwd, missing.env, /dev/zero]\n"
    )
    (tmp_path / "other.yml").write_text(
        "services:\n  x:\n    extends: {file: docker-compose.yml, service: c}\n"
    )
    with watchdog(HANG_SECONDS):  # a cycle of extends must end, not hang
        assert scan_tree(tmp_path) == []  # no image anywhere: not a cockroach node


def test_env_file_values_are_judged_with_the_service_and_placed_there(tmp_path: Path) -> None:
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  db:\n    image: postgres:16\n    env_file: [db.vars, db.env]\n"
    )
    (tmp_path / "db.vars").write_text(f"PASSWORD={CANARY}\n")
    (tmp_path / "db.env").write_text(f"POSTGRES_PASSWORD={CANARY}\nPASS={CANARY}\n")
    found = sorted((path, line, rule) for path, line, rule, _ in scan_tree(tmp_path))
    # db.env's POSTGRES_PASSWORD is its own check's finding, reported once; PASS is a
    # database password only as the env file of service db.
    assert found == [("db.env", 1, "VF401"), ("db.env", 2, "VF401"), ("db.vars", 1, "VF401")]


def test_dotenv_next_to_compose_file_decides_interpolation(tmp_path: Path) -> None:
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  app:\n    image: example/app\n    environment:\n"
        "      DATABASE_URL: postgresql://app@db/app?sslmode=${MODE:-disable}\n"
    )
    assert [rule for _, _, rule, _ in scan_tree(tmp_path)] == ["VF101"]
    (tmp_path / ".env").write_text("MODE=require\n")
    assert [rule for _, _, rule, _ in scan_tree(tmp_path)] == ["VF103"]


# --- interpolation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text", "unset", "defaulted"),
    [
        ("a$$b", "a$b", (), ()),
        ("${A:-x}", "x", (), ("A",)),
        ("${A-x}", "x", (), ("A",)),
        ("${A:-${B:-y}}", "y", (), ("A", "B")),
        ("${A:+alt}", "", (), ()),
        ("postgresql://u@h:${P?no port}/d", "postgresql://u@h:5432/d", ("P",), ()),
        ("postgresql://u:${PW:?set the password}@h/d", "postgresql://u:$PW@h/d", ("PW",), ()),
        ("host=${H} password=${PW}", "host=deployvalue password=$PW", ("H", "PW"), ()),
        ("${unterminated", "${unterminated", (), ()),
    ],
)
def test_interpolation_reads_like_compose(
    value: str, text: str, unset: tuple[str, ...], defaulted: tuple[str, ...]
) -> None:
    resolved = interpolate(value)
    assert (resolved.text, resolved.unset, resolved.defaulted) == (text, unset, defaulted)


def test_interpolation_uses_known_variables() -> None:
    assert interpolate("${A:-x}/${B}", {"A": "1", "B": "2"}).text == "1/2"
    assert interpolate("${A:-x}", {"A": ""}).text == "x"  # `:-` also for empty
    assert interpolate("${A-x}", {"A": ""}).text == ""


def test_password_variable_is_not_a_literal() -> None:
    assert password_is_variable("postgresql://u:${PW:?set the password}@h/d")
    assert password_is_variable("postgresql://u:$PW@h/d")
    assert not password_is_variable("postgresql://u:${PW:-literal}@h/d")
    assert not password_is_variable("postgresql://u:literal@h/d")


@settings(max_examples=300, deadline=None)
@given(value=st.text(alphabet="${}:-?+AB_x/@", max_size=200))
def test_interpolation_never_raises_and_stays_linear(value: str) -> None:
    with watchdog(HANG_SECONDS):
        resolved = interpolate(value)
    assert isinstance(resolved.text, str)


def test_interpolation_of_a_long_hostile_value_is_fast() -> None:
    hostile = "${A:-" * 5000 + "x" + "}" * 5000 + "$" * 100_000
    with watchdog(HANG_SECONDS):  # quadratic on this would be minutes
        resolved = interpolate(hostile)
    assert isinstance(resolved.text, str)


# --- class 6: installed server config --------------------------------------------------

_HBA = "host all all 0.0.0.0/0 md5\n"


def _project(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    installed.project_index.cache_clear()
    return root


@pytest.mark.parametrize(
    ("files", "live"),
    [
        ({"db/Dockerfile": "FROM postgres\nCOPY pg_hba.conf /etc/postgresql/\n"}, True),
        ({"db/Dockerfile": "FROM postgres\n# COPY pg_hba.conf /etc/postgresql/\n"}, False),
        ({"Dockerfile": "FROM postgres\nCOPY db/*.conf /etc/db/\n"}, True),
        ({"Dockerfile": 'FROM postgres\nADD ["db/", "/etc/db/"]\n'}, True),
        ({"Dockerfile": "FROM python\nCOPY . /app\n"}, False),
        ({"docker-compose.yml": "services:\n  p:\n    volumes:\n      - ./db:/etc/pg\n"}, True),
        (
            {
                "compose.yaml": "services:\n  p:\n    volumes:\n      - type: bind\n"
                "        source: ./db/pg_hba.conf\n        target: /etc/pg/hba\n"
            },
            True,
        ),
        ({"start.sh": "cp db/pg_hba.conf $PGDATA/\n", "Dockerfile": "FROM postgres\n"}, True),
        ({"README.md": "no containers here\n"}, True),  # not a container project: open
    ],
)
def test_server_config_is_live_only_when_installed(
    tmp_path: Path, files: dict[str, str], live: bool
) -> None:
    root = _project(tmp_path, {"db/pg_hba.conf": _HBA, **files})
    found = [f for f in scan_tree(root) if f[0] == "db/pg_hba.conf"]
    assert {rule for _, _, rule, _ in found} == {"VF202", "VF403"}
    severities = {severity for _, _, _, severity in found}
    assert (Severity.INFO not in severities) == live, found


def test_postgresql_conf_nothing_installs_is_a_note(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        {"conf/postgresql.conf": "ssl = off\n", "Dockerfile": "FROM postgres:16\n"},
    )
    found = scan_tree(root)
    assert [(rule, severity) for _, _, rule, severity in found] == [("VF201", Severity.INFO)]


def test_project_index_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(installed, "_MAX_FILES", 3)
    files = {f"s{i}.sh": "echo\n" for i in range(10)}
    root = _project(tmp_path, {"db/pg_hba.conf": _HBA, "Dockerfile": "FROM x\n", **files})
    index = installed.project_index(str(root))
    assert not index.complete
    assert index.installs(root / "db" / "pg_hba.conf")  # incomplete: nothing downgraded


# --- class 8: placeholders ------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("POSTGRES_PASSWORD", "your_password"),
        ("DB_PASSWORD", "YourDbPassword"),
        ("DB_PASSWORD", "changeme"),
        ("DB_PASSWORD", "CHANGE_THIS"),
        ("DB_PASSWORD", "change-it"),
        ("DB_PASSWORD", "<set-me>"),
        ("DB_PASSWORD", "pg_password_change_me"),
        ("DB_PASSWORD", "db_password"),
        ("db.password", "password"),
        ("password", "password"),
        ("DB_PASSWORD", "xxxxxx"),
        ("DB_PASSWORD", "set-by-helm-do-not-edit"),
        ("DB_PASSWORD", "enter-password-here"),
        ("DB_PASSWORD", "placeholder"),
    ],
)
def test_placeholders(key: str, value: str) -> None:
    assert is_placeholder(key, value)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        # `password` for DB_PASSWORD is the key's role word: a placeholder (issue 13 item 8)
        ("DB_PASSWORD", "dbpass"),
        ("POSTGRES_PASSWORD", "postgres"),
        ("DB_PASSWORD", "secret"),
        ("DB_PASSWORD", "password1"),
        ("DB_PASSWORD", CANARY),
        ("DB_PASSWORD", "young-river-42"),
    ],
)
def test_real_values_are_not_placeholders(key: str, value: str) -> None:
    assert not is_placeholder(key, value)


def _judged(settings: list[Setting], text: str = "") -> list[str]:
    src = SourceFile(Path("/x/s.yaml"), "s.yaml", text)
    return [f.rule_id for f in judge_settings(src, settings)]


def test_secret_data_is_decoded_for_the_placeholder_test() -> None:
    context = ("Secret", "postgres-credentials", "data")
    encoded = base64.b64encode(b"password").decode()
    assert _judged([Setting("password", encoded, 1, 1, context)]) == []
    real = base64.b64encode(b"password1").decode()
    assert _judged([Setting("password", real, 1, 1, context)]) == ["VF401"]


def test_empty_and_defaulted_passwords() -> None:
    # The shared predicate reads "" and any `${...}` as no literal; the config judge
    # still reports a literal default compose would use.
    assert _judged([Setting("DB_PASSWORD", "", 1, 1)]) == []
    url = "postgresql://app:${PW:-young-river-42}@db/app?sslmode=verify-full"
    assert "VF401" in _judged([Setting("DATABASE_URL", url, 1, 1)])
    url = "postgresql://app:${PW:-changeme}@db/app?sslmode=verify-full"
    assert "VF401" not in _judged([Setting("DATABASE_URL", url, 1, 1)])


def test_web_logins_and_blanked_templates_are_not_database_passwords() -> None:
    assert _judged([Setting("PGADMIN_DEFAULT_PASSWORD", CANARY, 1, 1)]) == []
    assert _judged([Setting("ADMINER_PASSWORD", CANARY, 1, 1)]) == []
    assert _judged([Setting("GF_DATABASE_PASSWORD", CANARY, 1, 1)]) == ["VF401"]
    blanked = "_" * len("{{ .Values.password }}")
    assert _judged([Setting("postgres_password", blanked, 1, 1)], "x: {{ y }}") == []


@pytest.mark.parametrize("count", [50, 400])
def test_merge_key_chains_are_bounded(tmp_path: Path, count: int) -> None:
    """Each anchor merges the previous one: composed within the alias budget or refused
    with one line, never minutes."""
    lines = ["x0: &a0 {POSTGRES_PASSWORD: " + CANARY + "}"]
    lines += [f"x{i}: &a{i}\n  <<: [*a{i - 1}, *a{i - 1}]\n  k{i}: v" for i in range(1, count)]
    lines.append(
        f"services:\n  db:\n    image: postgres\n    environment:\n      <<: *a{count - 1}"
    )
    (tmp_path / "docker-compose.yml").write_text("\n".join(lines) + "\n")
    walked = WalkedFile(tmp_path / "docker-compose.yml", "docker-compose.yml")
    with watchdog(HANG_SECONDS):
        outcome = scan_file(walked, ScanContext(root=tmp_path), 10_000_000)
    assert len(outcome.findings) + len(outcome.errors) == 1  # one VF401, or one error line


def test_a_service_of_many_variables_is_linear(tmp_path: Path) -> None:
    """Every setting of a service is judged in that service's environment, built once:
    per setting it was quadratic (2,000 variables took 8 s)."""
    count = 20_000
    lines = ["services:", "  db:", "    image: postgres", "    environment:"]
    lines += [f"      PGX_{i}_PASSWORD: pw{i}" for i in range(count)]
    lines += [f"      URL_{i}: postgresql://u@h/d?sslmode=${{M{i}:-disable}}" for i in range(200)]
    (tmp_path / "docker-compose.yml").write_text("\n".join(lines) + "\n")
    walked = WalkedFile(tmp_path / "docker-compose.yml", "docker-compose.yml")
    with watchdog(HANG_SECONDS):
        outcome = scan_file(walked, ScanContext(root=tmp_path), 50_000_000)
    assert len(outcome.findings) == count + 200


# --- with the shell reader (merge of main): compose commands as the service runs them -----


def test_a_shell_script_in_a_compose_command_is_read_again(tmp_path: Path) -> None:
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  db:\n    image: cockroachdb/cockroach\n"
        '    command: sh -c "cockroach start-single-node --insecure"\n'
    )
    assert "VF201" in _rules(scan_tree(tmp_path))


@pytest.mark.parametrize(
    ("sslmode", "expected"), [("verify-full", False), ("disable", True), ("", True)]
)
def test_a_client_command_runs_in_its_service_environment(
    tmp_path: Path, sslmode: str, expected: bool
) -> None:
    """`psql -h db` in a service is judged with that service's PGSSLMODE (and not with
    another service's)."""
    env = f"    environment:\n      PGSSLMODE: {sslmode}\n" if sslmode else ""
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  migrate:\n    image: postgres:16\n"
        + env
        + '    command: ["psql", "-h", "db", "-U", "app", "-c", "select 1"]\n'
        "  other:\n    image: postgres:16\n    environment:\n      PGSSLMODE: verify-full\n"
    )
    transport = {"VF101", "VF102", "VF103"}
    found = _rules(scan_tree(tmp_path))
    assert bool(transport & set(found)) is expected, found


_DEFAULTS = st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True)


@given(user=_DEFAULTS, host=_DEFAULTS, port=st.integers(1, 65535), mode=_DEFAULTS)
def test_the_two_readings_of_a_defaulted_dsn_agree(
    user: str, host: str, port: int, mode: str
) -> None:
    """interpolation.py holds one reading: compose's `interpolate` and the DSN
    stand-in `neutral_dsn` give the same text where compose would use defaults."""
    value = f"postgresql://${{U:-{user}}}@${{H-{host}}}:${{P:-{port}}}/db?sslmode=${{M:-{mode}}}"
    neutral = neutral_dsn(value)
    assert neutral is not None
    assert (
        neutral.text
        == interpolate(value).text
        == (f"postgresql://{user}@{host}:{port}/db?sslmode={mode}")
    )
