"""Held-out-s14 deployment-file classes (docs/scan-config.md, "Session 14 (helper
heldout-s14-cfg)").

- An env file a script writes (a here-document, `echo`/`printf` redirected or piped
  into `tee`) is judged as that env file's lines, at the script's lines.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from test_scan_accuracy_s12 import scan_one

# --- item 1: env files a script writes -------------------------------------------------
_URLS = {
    "no-sslmode": "postgresql://$DB_USER:$DB_PASSWORD@localhost/$DB_NAME",
    "disable": "postgresql://app:$PW@db.internal/app?sslmode=disable",
    "require": "postgresql://app:$PW@${DB_HOST}:5432/app?sslmode=require",
    "verify-full": "postgresql://app:$PW@db.internal/app?sslmode=verify-full",
    "literal-password": "postgresql://app:Qx7-real-pw@db.internal/app?sslmode=verify-full",
}
# (file name the script writes, whether the env-file name rules accept it)
_TARGETS = {
    ".env": True,
    '"$APP_DIR/.env"': True,
    "/srv/app/.env.production": True,
    "prod.env": True,
    "config/.env_local": True,  # hinted: accepted because the text is KEY=VALUE lines
    "notes.txt": False,
    "settings.env.py": False,  # a hinted name with another format's suffix
}


# Shell text writing {line} (KEY=VALUE) into {target}, and the 1-based line of the text
# where {line} stands.
_WRITERS = {
    "heredoc": ("cat > {target} << EOF\nSESSION_SECRET=$SECRET\n{line}\nEOF\n", 3),
    "heredoc-quoted": ("cat > {target} <<'EOF'\n{line}\nBOT_MODE=poll\nEOF\n", 2),
    "heredoc-tabs": ("if true; then\n\tcat >> {target} <<-EOF\n\t{line}\n\tEOF\nfi\n", 3),
    "echo": ('echo "{line}" > {target}\n', 1),
    "echo-append": ("echo '{line}' >> {target}\n", 1),
    "printf": ("printf 'BOT_MODE=poll\\n{line}\\n' > {target}\n", 1),
    "tee": ('printf "%s\\n" "{line}" | sudo tee -a {target} > /dev/null\n', 1),
    "cat-tee": ("cat <<EOF | tee {target}\n{line}\nEOF\n", 2),
}


def _env_verdict(tmp_path: Path, line: str) -> set[str]:
    env = tmp_path / "committed" / ".env"
    env.parent.mkdir()
    env.write_text(f"{line}\n")
    return {rule for at, rule in scan_one(env, env.parent) if at == 1}


@pytest.mark.parametrize(
    ("form", "target", "url"), list(itertools.product(_WRITERS, _TARGETS, _URLS))
)
def test_a_written_env_file_is_judged_as_that_env_file(
    form: str, target: str, url: str, tmp_path: Path
) -> None:
    line = f"DATABASE_URL={_URLS[url]}"
    expected = _env_verdict(tmp_path, line) if _TARGETS[target] else set()
    template, where = _WRITERS[form]
    body = template.format(target=target, line=line)
    prologue = "#!/bin/sh\nset -e\n"
    script = tmp_path / "project" / "setup.sh"
    script.parent.mkdir()
    script.write_text(prologue + body)
    at = where + prologue.count("\n")
    found = scan_one(script, script.parent)
    assert {rule for line_no, rule in found if line_no == at} == expected, (found, body)
    assert all(line_no == at for line_no, _ in found), (found, body)


@pytest.mark.parametrize("carrier", ["dockerfile", "makefile"])
def test_other_shell_carriers_write_env_files_too(carrier: str, tmp_path: Path) -> None:
    url = _URLS["no-sslmode"]
    if carrier == "dockerfile":
        path = tmp_path / "Dockerfile"
        text = f'FROM python:3.12\nRUN echo "DATABASE_URL={url}" > .env\n'
    else:
        path, text = tmp_path / "Makefile", f'env:\n\techo "DATABASE_URL={url}" > .env\n'
    path.write_text(text.replace("$", "$$") if carrier == "makefile" else text)
    assert scan_one(path, tmp_path) == [(2, "VF102")]


# --- item 2: groups whose reader is known otherwise -------------------------------------
_CRDB_PARTS = {"PORT": "26257", "USER": "root", "DATABASE": "defaultdb"}


def _env_list(form: str, pairs: dict[str, str]) -> tuple[str, str]:
    """(file name, text) of an env list holding pairs, in a compose service, a .env or a
    Kubernetes container."""
    if form == "compose":
        body = "".join(f"      {k}: {v}\n" for k, v in pairs.items())
        return "docker-compose.yml", f"services:\n  client:\n    image: x\n    environment:\n{body}"
    if form == "env":
        return ".env", "".join(f"{k}={v}\n" for k, v in pairs.items())
    entries = "".join(f"        - name: {k}\n          value: '{v}'\n" for k, v in pairs.items())
    return "deploy.yaml", (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: c\nspec:\n  containers:\n"
        f"    - name: c\n      image: x\n      env:\n{entries}"
    )


@pytest.mark.parametrize("form", ["compose", "env", "k8s"])
@pytest.mark.parametrize("parts", [(), ("PORT",), ("USER", "DATABASE"), tuple(_CRDB_PARTS)])
@pytest.mark.parametrize("certs", [True, False])
@pytest.mark.parametrize("prefix", ["", "APP_"])
def test_the_cockroach_clis_environment_is_secure_by_default(
    form: str, parts: tuple[str, ...], certs: bool, prefix: str, tmp_path: Path
) -> None:
    pairs = {f"{prefix}COCKROACH_HOST": "roach1"}
    pairs.update({f"{prefix}COCKROACH_{p}": _CRDB_PARTS[p] for p in parts})
    if certs:
        pairs[f"{prefix}COCKROACH_CERTS_DIR"] = "/certs"
    name, text = _env_list(form, pairs)
    (tmp_path / name).write_text(text)
    found = scan_one(tmp_path / name, tmp_path)
    # unprefixed: the cockroach CLI (TLS verifying the node unless --insecure); a
    # prefixed group is an application's, read with libpq's default prefer
    assert [rule for _, rule in found] == ([] if not prefix else ["VF102"]), found


def test_cockroach_insecure_is_still_reported_beside_the_group(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("COCKROACH_HOST=roach1\nCOCKROACH_INSECURE=true\n")
    assert scan_one(path, tmp_path) == [(2, "VF201")]


_STARTS = {
    "script": ("python publisher.py", "publisher.py"),
    "module": ("python -m worker.main", "worker/main.py"),
    "uvicorn": ("uvicorn --host 0.0.0.0 app.main:app", "app/main.py"),
    "gunicorn-list": ('["gunicorn", "-w", "2", "app:app"]', "app.py"),
    "sh-c": ('sh -c "alembic upgrade head && exec python publisher.py"', "publisher.py"),
}


@pytest.mark.parametrize("start", sorted(_STARTS))
@pytest.mark.parametrize("key", ["command", "entrypoint"])
@pytest.mark.parametrize("in_tree", [True, False])
def test_a_built_service_running_the_projects_code_is_judged_in_the_code(
    start: str, key: str, in_tree: bool, tmp_path: Path
) -> None:
    command, module = _STARTS[start]
    if in_tree:
        (tmp_path / "svc" / module).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "svc" / module).write_text("import os\nprint(os.getenv('RABBITMQ_HOST'))\n")
    else:
        (tmp_path / "svc").mkdir()
    compose = tmp_path / "docker-compose.yml"
    compose.write_text(
        "services:\n  worker:\n    build: ./svc\n"
        f"    {key}: {command}\n    environment:\n"
        "      POSTGRES_USER: app\n      POSTGRES_DB: app\n      POSTGRES_HOST: postgres\n"
    )
    found = scan_one(compose, tmp_path)
    # the code of the tree connects (or not): its sites are judged in Python; a command
    # running nothing of the tree leaves the group to the image's unknown driver
    assert found == ([] if in_tree else [(8, "VF102")]), found


# --- item 3: an ECS task's database kind given by a Terraform variable ------------------
def _task(form: str) -> str:
    """modules/ecs/task.tf: a task whose environment names the engine by var.db_engine;
    the DB_HOST line is line 6 in both forms."""
    if form == "heredoc-json":
        return (
            'resource "aws_ecs_task_definition" "app" {\n  container_definitions = <<EOF\n'
            '[{"name": "app", "image": "${var.image}", "environment": [\n'
            '  {"name": "DB_USERNAME", "value": "${var.db_username}"},'
            ' {"name": "DB_PASSWORD", "value": "${var.db_password}"},\n'
            '  {"name": "DB_ENGINE", "value": "${var.db_engine}"},\n'
            '  {"name": "DB_HOST", "value": "${var.db_host}"}\n]}]\nEOF\n}\n'
        )
    return (
        'resource "aws_ecs_task_definition" "app" {\n  container_definitions = jsonencode([{\n'
        '    name = "app", image = var.image, environment = [\n'
        '      { name = "DB_USERNAME", value = var.db_username },'
        ' { name = "DB_PASSWORD", value = var.db_password },\n'
        '      { name = "DB_ENGINE", value = var.db_engine },\n'
        '      { name = "DB_HOST", value = aws_db_instance.main.address },\n    ]\n  }])\n}\n'
    )


# How the tree gives var.db_engine its value: (module dir's variables.tf, root main.tf,
# root variables.tf), {engine} filled in.
_CHAINS = {
    "default": ('variable "db_engine" {\n  default = "{engine}"\n}\n', "", ""),
    "module-literal": (
        'variable "db_engine" {}\n',
        'module "app" {\n  source = "./modules/ecs"\n  db_engine = "{engine}"\n}\n',
        "",
    ),
    "module-variable": (
        'variable "db_engine" {}\n',
        'module "app" {\n  source    = "./modules/ecs"\n  db_engine = var.engine\n}\n',
        'variable "engine" {\n  default = "{engine}"\n}\n',
    ),
    "caller-overrides": (
        'variable "db_engine" {\n  default = "sqlserver-ex"\n}\n',
        'module "app" {\n  source = "./modules/ecs"\n  db_engine = "{engine}"\n}\n',
        "",
    ),
}


@pytest.mark.parametrize("form", ["heredoc-json", "jsonencode"])
@pytest.mark.parametrize("chain", sorted(_CHAINS))
@pytest.mark.parametrize("engine", ["postgres", "aurora-postgresql", "mysql", "unknown"])
def test_a_task_definitions_engine_variable_is_the_value_the_tree_gives_it(
    form: str, chain: str, engine: str, tmp_path: Path
) -> None:
    module_vars, root_main, root_vars = _CHAINS[chain]
    if engine == "unknown":  # nothing in the tree gives it a value
        module_vars, root_main, root_vars = 'variable "db_engine" {}\n', "", ""
    ecs = tmp_path / "modules" / "ecs"
    ecs.mkdir(parents=True)
    (ecs / "task.tf").write_text(_task(form))
    (ecs / "variables.tf").write_text(module_vars.replace("{engine}", engine))
    (tmp_path / "main.tf").write_text(root_main.replace("{engine}", engine))
    (tmp_path / "variables.tf").write_text(root_vars.replace("{engine}", engine))
    found = scan_one(ecs / "task.tf", tmp_path)
    assert found == ([(6, "VF102")] if "postgres" in engine else []), found


@pytest.mark.parametrize("vendored", [True, False])
def test_an_installed_package_is_not_the_projects_code(vendored: bool, tmp_path: Path) -> None:
    lambda_dir = tmp_path / "lambda"
    (lambda_dir / "psycopg2" / "tests").mkdir(parents=True)
    # the vendored library's test config names PSYCOPG2_TESTDB_HOST (db_host inside)
    (lambda_dir / "psycopg2" / "tests" / "testconfig.py").write_text(
        "import os\ndbhost = os.environ.get('PSYCOPG2_TESTDB_HOST')\n"
    )
    if vendored:
        info = lambda_dir / "psycopg2-2.7.5.dist-info"
        info.mkdir()
        (info / "top_level.txt").write_text("psycopg2\n")
    env = tmp_path / "task.env"
    env.write_text("DB_HOST=db.internal\nDB_PORT=5432\n")
    found = scan_one(env, tmp_path)
    # project code naming the variable judges the connection there; an installed
    # package's does not
    assert found == ([(1, "VF102")] if vendored else []), found


def test_module_cycles_and_many_files_are_bounded(tmp_path: Path) -> None:
    import time

    from verifyfull.scan.config import tfvars

    # a calls b calls a, each passing var.x on: no value, and no endless walk
    for this, other in (("a", "b"), ("b", "a")):
        (tmp_path / this).mkdir()
        (tmp_path / this / "main.tf").write_text(
            f'module "m" {{\n  source = "../{other}"\n  x = var.x\n}}\nvariable "x" {{}}\n'
        )
    for index in range(tfvars.MAX_FILES + 100):  # more files than the index reads
        (tmp_path / f"f{index:04}.tf").write_text('variable "y" {\n  default = "v"\n}\n' * 50)
    started = time.monotonic()
    assert tfvars.value_of(tmp_path, tmp_path / "a", "x") is None
    assert time.monotonic() - started < 10
