"""Held-out-s15b deployment-file classes (docs/scan-config.md, "Session 15 (helper
s15b-cfg)").

1. A Kubernetes Secret's `data:` value is base64 the API server decodes: judged as the
   text it decodes to (a connection URL by its driver, a password as VF401), as the
   same text written plain under `stringData:` is; kustomize generator literals alike.
"""

from __future__ import annotations

import base64
import itertools
from pathlib import Path

import pytest

from test_scan_accuracy_s12 import scan_one

# --- class 1: Secret data decoded -------------------------------------------------------
_VALUES = {
    "dsn-no-sslmode": ("DB_LINK", "postgresql://app:Qx7-real-pw@db.example.com:5432/app"),
    "dsn-disable": ("DATABASE_URL", "postgres://app:Qx7-real-pw@db.internal/app?sslmode=disable"),
    "dsn-require": ("DATABASE_URL", "postgresql://app@db.internal/app?sslmode=require"),
    "dsn-verify-full": (
        "DATABASE_URL",
        "postgresql://app:Qx7-real-pw@db.internal/app?sslmode=verify-full&sslrootcert=/ca.crt",
    ),
    "asyncpg-url": ("DB_URL", "postgresql+asyncpg://app:Qx7-real-pw@db.internal/app"),
    "keywords": ("DSN", "host=db.internal dbname=app user=app password=Qx7-real-pw"),
    "password": ("POSTGRES_PASSWORD", "Qx7-real-pw"),
    "password-plain-key": ("password", "Qx7-real-pw"),
    "placeholder": ("DB_PASSWORD", "changeme"),
    "sslmode": ("PGSSLMODE", "disable"),
    "not-a-database": ("API_TOKEN", "postgres-is-not-here"),
}
# How the encoder wrote it: `echo -n`, `echo` (a trailing line feed), base64 -w 76 lines.
_ENCODINGS = {
    "plain": lambda text: base64.b64encode(text.encode()).decode(),
    "echo": lambda text: base64.b64encode((text + "\n").encode()).decode(),
    "quoted": lambda text: '"' + base64.b64encode(text.encode()).decode() + '"',
}
_SECRETS = {
    "secret": ("apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n", "data"),
    "sealed-template": (
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: {name}\n"
        "spec:\n  encryptedData: {{}}\n  template:\n",
        "data",
    ),
}


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _plain_rules(tmp_path: Path, secret: str, key: str, value: str) -> set[str]:
    """The rules of the same value written plain under a Secret's stringData."""
    text = f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: {secret}\nstringData:\n"
    path = _write(tmp_path / "plain", "secret.yaml", text + f"  {key}: '{value}'\n")
    return {rule for _, rule in scan_one(path, path.parent)}


@pytest.mark.parametrize(
    ("value", "encoding", "shape", "secret"),
    list(itertools.product(_VALUES, _ENCODINGS, _SECRETS, ["db-secret", "app-config"])),
)
def test_secret_data_is_judged_as_what_it_decodes_to(
    value: str, encoding: str, shape: str, secret: str, tmp_path: Path
) -> None:
    key, text = _VALUES[value]
    head, section = _SECRETS[shape]
    indent = "      " if shape == "sealed-template" else "  "
    body = head.format(name=secret) + f"{indent[:-2]}{section}:\n"
    body += f"{indent}OTHER: {_ENCODINGS['plain']('x')}\n"
    body += f"{indent}{key}: {_ENCODINGS[encoding](text)}\n"
    path = _write(tmp_path / "data", "secret.yaml", body)
    found = scan_one(path, path.parent)
    line = body.count("\n")
    assert {rule for at, rule in found} == _plain_rules(tmp_path, secret, key, text), body
    assert all(at == line for at, _ in found), (found, body)


def test_the_held_out_secret_dsn_is_reported(tmp_path: Path) -> None:
    url = "postgresql://postgres:Real-like-pw@postgresdb.abc.rds.amazonaws.com:5432/mydb\n"
    encoded = base64.b64encode(url.encode()).decode()
    body = f"kind: Secret\nmetadata:\n  name: db-secret\ntype: Opaque\ndata:\n  DB_LINK: {encoded}"
    path = _write(tmp_path, "secret.yaml", body)
    assert scan_one(path, tmp_path) == [(6, "VF102"), (6, "VF401")]


@pytest.mark.parametrize(
    "encoded",
    [
        base64.b64encode(bytes(range(256))).decode(),  # binary bytes: a real secret, as written
        "cG9zdGdyZXNxbDovL2FwcDpRe",  # truncated: not base64, as written
        "!!!not base64!!!",
    ],
)
def test_undecodable_data_is_judged_as_written(encoded: str, tmp_path: Path) -> None:
    body = f"kind: Secret\nmetadata:\n  name: db-secret\ndata:\n  password: '{encoded}'\n"
    path = _write(tmp_path, "secret.yaml", body)
    assert scan_one(path, tmp_path) == [(5, "VF401")]
    url = f"kind: Secret\nmetadata:\n  name: db-secret\ndata:\n  DB_LINK: '{encoded}'\n"
    assert scan_one(_write(tmp_path, "url.yaml", url), tmp_path) == []


def test_a_huge_data_value_is_not_decoded(tmp_path: Path) -> None:
    url = "postgresql://app:Qx7-real-pw@db.example.com/app?application_name=" + "a" * 70_000
    encoded = base64.b64encode(url.encode()).decode()
    body = f"kind: Secret\nmetadata:\n  name: x\ndata:\n  DB_LINK: {encoded}\n"
    assert scan_one(_write(tmp_path, "secret.yaml", body), tmp_path) == []


@pytest.mark.parametrize("value", list(_VALUES))
@pytest.mark.parametrize("generator", ["secretGenerator", "configMapGenerator"])
def test_kustomize_generator_literals_read_as_plain_settings(
    value: str, generator: str, tmp_path: Path
) -> None:
    key, text = _VALUES[value]
    body = f"{generator}:\n  - name: db-secret\n    literals:\n      - A=b\n      - {key}={text}\n"
    path = _write(tmp_path / "k", "kustomization.yaml", body)
    found = scan_one(path, path.parent)
    assert {rule for _, rule in found} == _plain_rules(tmp_path, "db-secret", key, text)
    assert all(at == 5 for at, _ in found), found


# --- class 2: another engine's password is not VF401 -------------------------------------
PW = "Qx7-real-pw"


def _carrier(kind: str, pairs: list[tuple[str, str]], image: str) -> tuple[str, str]:
    """(file name, text) of a carrier setting `pairs` (the password last), in a block
    whose context names a database (service `db`, Deployment `db`, `database:`)."""
    service = f"services:\n  db:\n    image: {image}\n    environment:\n"
    if kind == "compose-map":
        return "docker-compose.yml", service + "".join(f"      {k}: '{v}'\n" for k, v in pairs)
    if kind == "compose-list":
        return "docker-compose.yml", service + "".join(f"      - {k}={v}\n" for k, v in pairs)
    if kind == "k8s":
        head = "kind: Deployment\nmetadata:\n  name: db\nspec:\n  template:\n    spec:\n"
        head += f"      containers:\n        - name: db\n          image: {image}\n          env:\n"
        body = "".join(f"            - name: {k}\n              value: '{v}'\n" for k, v in pairs)
        return "deploy.yaml", head + body
    if kind == "env":
        return ".env", "".join(f"{k}={v}\n" for k, v in pairs)
    assert kind == "yaml-block"
    return "config.yaml", "database:\n" + "".join(f"  {k}: '{v}'\n" for k, v in pairs)


_WITH_IMAGE = ("compose-map", "compose-list", "k8s")
_CARRIERS = (*_WITH_IMAGE, "env", "yaml-block")


def _rules_at_password(
    tmp_path: Path, kind: str, pairs: list[tuple[str, str]], image: str
) -> tuple[set[str], str]:
    name, text = _carrier(kind, pairs, image)
    path = _write(tmp_path / kind, name, text)
    key_line = [n for n, line in enumerate(text.splitlines(), 1) if pairs[-1][0] in line][-1]
    password_line = key_line + (1 if kind == "k8s" else 0)
    return {rule for at, rule in scan_one(path, path.parent) if at == password_line}, text


def _key(kind: str, role: str) -> str:
    return role.lower() if kind == "yaml-block" else f"DB_{role}"


# engine -> the evidence a block can give: (role, value) siblings, or an image
_EVIDENCE: dict[str, list[tuple[str, str]]] = {
    "mysql": [
        *[("PORT", "3306"), ("URL", "mysql://app@dbhost/app"), ("CONNECTION", "mysql")],
        *[("HOST", "mysql"), ("ADDR", "127.0.0.1:3306"), ("image", "mysql:8.0")],
    ],
    "mariadb": [
        *[("ENGINE", "django.db.backends.mysql"), ("HOST", "mariadb")],
        ("image", "mariadb:10.11"),
    ],
    "mongo": [
        *[("PORT", "27017"), ("URL", "mongodb+srv://app@cluster0.example.net/app")],
        ("image", "mongo:7"),
    ],
    "redis": [("PORT", "6379"), ("URL", "redis://cache:6379/0"), ("image", "redis:7-alpine")],
    "rabbitmq": [("PORT", "5672"), ("URL", "amqp://guest@mq//"), ("image", "rabbitmq:3")],
    "mssql": [("PORT", "1433"), ("image", "mcr.microsoft.com/mssql/server:2022-latest")],
}
_BLOCK_CASES = [
    (engine, role, value, kind)
    for engine, evidence in _EVIDENCE.items()
    for role, value in evidence
    for kind in _CARRIERS
    if role != "image" or kind in _WITH_IMAGE
]
# What says PostgreSQL beside the evidence: the password stays a database password.
_PG_CONTROLS = {
    "pg-url": ("URL2", "postgresql://app@db.internal:5432/app"),
    "pg-port": ("PORT", "5432"),
    "pg-name": ("POSTGRES_DB", "app"),
    "pg-image": ("image", "postgres:16"),
    "none": None,
}


def _block_pairs(
    kind: str, role: str, value: str, control: str | None
) -> tuple[list[tuple[str, str]], str]:
    pairs: list[tuple[str, str]] = []
    image = "example/app:1"
    if role == "image":
        image = value
    else:
        pairs.append((_key(kind, role), value))
    extra = _PG_CONTROLS.get(control or "none")
    if extra is not None:
        if extra[0] == "image":
            image = extra[1]
        elif extra[0] == "POSTGRES_DB":
            pairs.append((extra[0] if kind != "yaml-block" else "postgres_db", extra[1]))
        else:
            pairs.append((_key(kind, extra[0]), extra[1]))
    pairs.append((_key(kind, "PASSWORD"), PW))
    return pairs, image


@pytest.mark.parametrize(("engine", "role", "value", "kind"), _BLOCK_CASES)
def test_a_password_whose_block_names_another_engine_is_not_vf401(
    engine: str, role: str, value: str, kind: str, tmp_path: Path
) -> None:
    pairs, image = _block_pairs(kind, role, value, None)
    rules, text = _rules_at_password(tmp_path, kind, pairs, image)
    assert "VF401" not in rules, (engine, text)


@pytest.mark.parametrize("control", [c for c in _PG_CONTROLS if c != "none"])
@pytest.mark.parametrize(("engine", "role", "value", "kind"), _BLOCK_CASES[::3])
def test_a_block_that_also_says_postgres_keeps_vf401(
    engine: str, role: str, value: str, kind: str, control: str, tmp_path: Path
) -> None:
    if (control == "pg-image" and kind not in _WITH_IMAGE) or (
        control == "pg-image" and role == "image"
    ):
        pytest.skip("one image per container")
    if control == "pg-port" and role == "PORT":
        pytest.skip("one port key per block")
    pairs, image = _block_pairs(kind, role, value, control)
    rules, text = _rules_at_password(tmp_path, kind, pairs, image)
    assert "VF401" in rules, (control, text)


@pytest.mark.parametrize("kind", _CARRIERS)
def test_a_plain_database_password_stays_vf401(kind: str, tmp_path: Path) -> None:
    for role, value in [("HOST", "db.internal"), ("PORT", "5433"), ("HOST", "postgres")]:
        pairs = [(_key(kind, role), value), (_key(kind, "PASSWORD"), PW)]
        rules, text = _rules_at_password(tmp_path / role / value, kind, pairs, "example/app:1")
        assert "VF401" in rules, text


_ENGINE_KEYS = [
    "MYSQL_ROOT_PASSWORD",
    "MYSQL_PASSWORD",
    "MARIADB_ROOT_PASSWORD",
    "MONGO_INITDB_ROOT_PASSWORD",
    "MONGODB_PASSWORD",
    "REDIS_PASSWORD",
    "RABBITMQ_DEFAULT_PASS",
    "ELASTIC_PASSWORD",
    "MINIO_ROOT_PASSWORD",
    "DB_MYSQL_PASS",
]


@pytest.mark.parametrize("kind", _CARRIERS)
@pytest.mark.parametrize("key", _ENGINE_KEYS)
def test_a_password_named_for_another_engine_is_not_vf401(
    key: str, kind: str, tmp_path: Path
) -> None:
    rules, text = _rules_at_password(tmp_path, kind, [("TZ", "UTC"), (key, PW)], "example/app:1")
    assert "VF401" not in rules, text


@pytest.mark.parametrize("kind", _CARRIERS)
@pytest.mark.parametrize("key", _ENGINE_KEYS[::3])
def test_the_postgres_password_beside_another_engines_keeps_vf401(
    key: str, kind: str, tmp_path: Path
) -> None:
    pairs = [(key, "Other-real-pw9"), ("POSTGRES_PASSWORD", PW)]
    rules, text = _rules_at_password(tmp_path, kind, pairs, "example/app:1")
    assert "VF401" in rules, text


@pytest.mark.parametrize("service", ["mysql", "mariadb", "mongo", "redis-cache"])
def test_a_service_named_for_another_engine(service: str, tmp_path: Path) -> None:
    text = f"services:\n  {service}:\n    image: example/x\n    environment:\n"
    text += f"      DB_PASSWORD: {PW}\n"
    path = _write(tmp_path, "docker-compose.yml", text)
    assert scan_one(path, tmp_path) == []
    pg = text.replace(f"  {service}:", "  db:")
    assert scan_one(_write(tmp_path / "pg", "docker-compose.yml", pg), tmp_path / "pg") == [
        (5, "VF401")
    ]


# --- class 3: Vagrant shell provisioners ------------------------------------------------
_SCRIPTS = {
    "pg_hba-trust": ['echo "host all postgres 0.0.0.0/0 trust" | sudo tee /etc/pg_hba.conf'],
    "pg_hba-append": [
        "sudo systemctl start postgresql",
        "echo 'host all all all md5' >> pg_hba.conf",
    ],
    "psql-tcp": ["psql -h db.internal -U app -c 'select 1'"],
    "sslmode-disable": ["PGSSLMODE=disable pg_dump -h db.internal app > /tmp/app.sql"],
    "insecure-node": ["cockroach start-single-node --insecure --background"],
    "socket-only": ["sudo -u postgres psql -c 'create database test_db'"],
    "hostssl": ["echo 'hostssl all all 0.0.0.0/0 scram-sha-256' >> /etc/pg_hba.conf"],
}
_MULTI_LINE = ("heredoc-dash", "heredoc-squiggly", "heredoc-plain", "heredoc-quoted")
_MULTI_LINE += ("named-global", "named-local")
_FORMS = [*_MULTI_LINE, "double-quoted", "single-quoted"]
_OPTIONS = {
    "keyword": '  config.vm.provision "shell", inline: {value}',
    "symbol-hash": "  config.vm.provision :shell, :inline => {value}",
    "block": '  config.vm.provision "shell" do |s|\n    s.inline = {value}\n  end',
}


def _vagrantfile(form: str, option: str, lines: list[str]) -> tuple[str, int]:
    """A Vagrantfile running `lines` in form/option, and the line of lines[0]."""
    head = '# -*- mode: ruby -*-\n\nVagrant.configure("2") do |config|\n  config.vm.box = "c/7"\n'
    template = _OPTIONS[option]
    before = ""
    if form.startswith("heredoc"):
        opener = {"dash": "<<-SHELL", "squiggly": "<<~SHELL", "plain": "<<SHELL"}.get(
            form.removeprefix("heredoc-"), "<<-'SHELL'"
        )
        body = "".join(f"    {line}\n" for line in lines)
        closer = "SHELL" if form == "heredoc-plain" else "  SHELL"
        value = f"{opener}\n{body}{closer}"
    elif form.startswith("named"):
        name = "$script" if form == "named-global" else "script"
        before = f"{name} = <<~SCRIPT\n" + "".join(f"  {line}\n" for line in lines) + "SCRIPT\n"
        value = name
    elif form == "double-quoted":
        value = '"' + lines[0].replace("\\", "\\\\").replace('"', '\\"') + '"'
    else:
        value = "'" + lines[0].replace("\\", "\\\\").replace("'", "\\'") + "'"
    text = before + head + template.format(value=value) + "\nend\n"
    marker = "inline" if form.endswith("-quoted") and form != "heredoc-quoted" else lines[0]
    first = next(n for n, line in enumerate(text.splitlines(), 1) if marker in line)
    return text, first


def _script_rules(tmp_path: Path, lines: list[str]) -> set[tuple[int, str]]:
    path = _write(tmp_path / "sh", "setup.sh", "#!/bin/sh\n" + "\n".join(lines) + "\n")
    return {(at - 1, rule) for at, rule in scan_one(path, path.parent)}


@pytest.mark.parametrize(
    ("script", "form", "option"), list(itertools.product(_SCRIPTS, _FORMS, _OPTIONS))
)
def test_a_vagrant_shell_provisioner_is_read_as_shell(
    script: str, form: str, option: str, tmp_path: Path
) -> None:
    lines = _SCRIPTS[script]
    if form not in _MULTI_LINE:
        lines = lines[-1:]
    text, first = _vagrantfile(form, option, lines)
    path = _write(tmp_path / "vm", "Vagrantfile", text)
    found = {(at - first + 1, rule) for at, rule in scan_one(path, path.parent)}
    assert found == _script_rules(tmp_path, lines), text


def test_ruby_interpolation_is_a_reference(tmp_path: Path) -> None:
    text = 'Vagrant.configure("2") do |config|\n  net = "0.0.0.0/0"\n'
    text += '  config.vm.provision "shell", inline: "psql -h #{host} app"\n'
    text += (
        "  config.vm.provision \"shell\", inline: <<-'SHELL'\n    psql -h #{x} app\n  SHELL\nend\n"
    )
    path = _write(tmp_path, "Vagrantfile", text)
    found = scan_one(path, tmp_path)
    expected = _script_rules(tmp_path, ["psql -h ${_____} app"])
    assert {rule for at, rule in found if at == 3} == {rule for _, rule in expected}


def test_a_provisioner_path_script_is_judged_in_its_own_file(tmp_path: Path) -> None:
    _write(
        tmp_path / "provision", "db-setup", "echo 'host all all 0.0.0.0/0 trust' >> pg_hba.conf\n"
    )
    _write(tmp_path, "bootstrap.sh", "#!/bin/sh\npsql -h db.internal app\n")
    text = 'Vagrant.configure("2") do |config|\n'
    text += '  config.vm.provision "shell", path: "provision/db-setup"\n'
    text += "  config.vm.provision :shell, :path => 'bootstrap.sh'\nend\n"
    vagrantfile = _write(tmp_path, "Vagrantfile", text)
    from test_scan_config_fixtures import run_config_checks

    found = {(f.path, f.line, f.rule_id) for f in run_config_checks(vagrantfile, tmp_path)}
    assert found == {("provision/db-setup", 1, "VF202")}  # bootstrap.sh: read by its own check


@pytest.mark.parametrize("name", ["Vagrantfile.orig", "Vagrantfile.bak", "Vagrantfile.example"])
def test_a_copy_under_another_name_is_not_read(name: str, tmp_path: Path) -> None:
    text, _ = _vagrantfile("heredoc-dash", "keyword", _SCRIPTS["pg_hba-trust"])
    assert scan_one(_write(tmp_path, name, text), tmp_path) == []
    assert scan_one(_write(tmp_path, "Vagrantfile", text), tmp_path) != []


@pytest.mark.parametrize(
    "text",
    [
        "x = <<-A\n" * 20_000,  # unclosed heredocs: Ruby refuses the file
        'config.vm.provision "shell", inline: ' + '"a" ' * 100_000 + "\n",
        "s.inline = <<~S\n" + "  " * 50_000 + "x\n" * 20_000 + "S\n",
        "config.vm.provision 'shell', inline: \"" + "\\\\" * 200_000 + '"\n',
    ],
)
def test_hostile_vagrantfiles_finish(text: str, tmp_path: Path) -> None:
    import time

    started = time.monotonic()
    scan_one(_write(tmp_path, "Vagrantfile", text), tmp_path)
    assert time.monotonic() - started < 5


def test_many_passwords_in_one_block_are_judged_in_linear_time(tmp_path: Path) -> None:
    import time

    text = "".join(f"DB{i}_PORT=3306\nDB{i}_PASSWORD=Qx7-real-pw{i}\n" for i in range(10_000))
    path = _write(tmp_path, ".env", text + "DB_PASSWORD=Qx7-real-pw\n")
    started = time.monotonic()
    found = scan_one(path, tmp_path)
    assert time.monotonic() - started < 10
    assert found == [(20_001, "VF401")]  # DB_PASSWORD's family names no engine
