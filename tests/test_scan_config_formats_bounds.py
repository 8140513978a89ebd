"""Bounded time on hostile files of every format issue 13 classes 3-5 added (Terraform,
Bicep, Elastic Beanstalk, Procfile, hinted env names, interpolated DSNs, the project's
TLS-variable index): each generated shape finishes before HANG_SECONDS under the
watchdog of test_trust_bounds (its speed: benchmarks/bounds_bench.py), and each format grows
near-linearly with its input.
Sizes keep each shape near a second on an idle machine: quadratic work on any of
them (pairs on one line, entries, bindings) would still take minutes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from test_trust_bounds import assert_grows_near_linearly, scan_shape
from verifyfull.scan import project_vars

DSN = "postgresql://app@db.internal/app?sslmode=disable"
_PW = "canary-Pw-3f9a1c"

Files = dict[str, str | bytes]

SHAPES: dict[str, Files] = {
    "tf-deep-braces": {"main.tf": "database = {\n" + "x = {" * 100_000 + "\n"},
    "tf-unclosed-interpolation": {"main.tf": 'db_url = "' + "${" * 200_000 + '"\n'},
    "tf-unclosed-comment": {"main.tf": "/*\n" + f'password = "{_PW}"\n' * 50_000},
    "tf-one-long-line": {"main.tf": f'db_password = "{_PW}", ' * 10_000 + "\n"},
    "tf-quotes-in-interpolations": {"main.tf": 'db_url = "' + '${var.m["k"]}' * 50_000 + '"\n'},
    "bicep-unclosed-multiline": {"main.bicep": "var db = '''\n" + "password: 'x'\n" * 50_000},
    "bicep-entries": {
        "main.bicep": "var env = [\n"
        + "{ name: 'PGSSLMODE', value: 'disable' }\n" * 1_000
        + "{ name: 'LOG_LEVEL', value: 'info' }\n" * 10_000
        + "]\n"
    },
    "ebextensions-alias-bomb": {
        ".ebextensions/db.config": "a: &a [postgres, postgres]\n"
        + "".join(
            f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}]\n"
            for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        )
    },
    "procfile-many-lines": {
        "Procfile": "".join(f"db{i}: cockroach start --insecure\n" for i in range(1_250))
    },
    "procfile-long-line": {"Procfile": "web: PGSSLMODE=disable " + "x " * 50_000 + "\n"},
    "hinted-env-huge": {"service_env": f"DATABASE_URL={DSN}\n" + "LOG_LEVEL=info\n" * 50_000},
    "hinted-env-not-env": {"service_env": "echo x\n" * 200_000},
    "env-interpolation-runs": {
        ".env": "DATABASE_URL=postgresql://"
        + "${" * 100_000
        + "@db/app\n"
        + "DB_URL=postgresql://u:"
        + "_" * 200_000
        + "@db:"
        + "$" * 100_000
        + "/app\n"
    },
    # class 3: template DSNs with word ports, in an example file and a real one
    "env-example-slot-ports": {
        ".env.example": "DATABASE_URL=postgresql://u:p@"
        + "seu_servidor:sua_porta," * 20_000
        + "h/db\n"
        + "DB_URL=postgresql://"
        + "seu_user:" * 50_000
        + "@h:porta/db\n",
        "app.env": "DATABASE_URL=postgresql://"
        + "user:" * 50_000
        + "@"
        + "a" * 100_000
        + ":p/db\n",
    },
    # class 1: container environment options, many on one command
    "shell-container-env-options": {
        "run.sh": "docker run " + f"-e DB_PASSWORD={_PW} --env=X=1 " * 10_000 + "img\n"
    },
    # class 5c: a chart whose templates set many variables from values
    "helm-chart-env-mappings": {
        "chart/Chart.yaml": "apiVersion: v2\nname: web\n",
        "chart/values.yaml": "postgresql:\n" + "".join(f"  p{i}Host: db{i}\n" for i in range(100)),
        "chart/templates/deployment.yaml": "".join(
            f"- name: V{i}_HOST\n  value: {{{{ .Values.postgresql.p{i}Host }}}}\n"
            for i in range(2_000)
        )
        + "- " * 20_000,
        "app/settings.py": "import os\nHOST = os.environ['V1_HOST']\n",
    },
    # session 14: a configuration document held in an environment value (embedded.py)
    "env-document-huge": {
        "docker-compose.yml": "services:\n  app:\n    environment:\n      A_CONFIG: |\n"
        + "".join(f"        db{i}:\n          password: {_PW}\n" for i in range(1_300))
        + "      B_CONFIG: |\n        database:\n"
        + f"          password: {_PW}\n" * 20_000
    },
    "env-document-deep": {
        ".env": "APP_CONFIG=" + '{"database": ' * 4_000 + '"x"' + "}" * 4_000 + "\n",
        "docker-compose.yml": "services:\n  app:\n    environment:\n      APP_CONFIG: |\n"
        + "".join("  " * (i + 4) + f"k{i}:\n" for i in range(900))
        + "  " * 904
        + f"password: {_PW}\n",
    },
    "env-document-alias-bomb": {
        "docker-compose.yml": "services:\n  app:\n    environment:\n      APP_CONFIG: |\n"
        + "        database: {password: x}\n        a: &a [pass, pass]\n"
        + "".join(
            f"        {c}: &{c} [*{p}, *{p}, *{p}, *{p}]\n"
            for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        )
    },
    "env-document-many-aliases": {
        "docker-compose.yml": "x-config: &config |\n"
        + "".join(f"  db{i}:\n    password: {_PW}\n" for i in range(1_000))
        + "services:\n"
        + "".join(f"  s{i}:\n    environment:\n      APP_CONFIG: *config\n" for i in range(5_000))
    },
    "project-index-many-bindings": {
        "app/db.py": "import asyncpg, os\n"
        + "".join(
            f"X{i} = os.environ.get('V{i}')\nasyncpg.connect(ssl=X{i})\n" for i in range(1_250)
        ),
        ".env": "V1=disable\n",
    },
    "project-index-long-line": {
        "app/db.py": "import asyncpg\nasyncpg.connect(" + "ssl=A, " * 20_000 + ")\n",
        ".env": "A=disable\n",
    },
    # dsn._TEMPLATED_PASSWORD: template braces in the user info, no password slot after
    # them (session 14: an ambiguous pattern backtracked exponentially, 1.6 s at 22 repeats)
    # helm.untemplate: template openers without closers on one line (a lazy pattern rescanned
    # the rest of the line from each: 20 s for 20,000 `{{`; session 14)
    "template-openers": {
        "values.yaml": "a: "
        + "{{" * 50_000
        + "\nb: "
        + "{%" * 50_000
        + "\nc: "
        + "{#" * 50_000
        + "\n",
    },
    "dsn-template-braces": {
        ".env": "DATABASE_URL=postgresql://" + "{{a}}" * 5_000 + "\n",
        "backup.sh": "#!/bin/sh\npg_dump postgresql://" + "{{a}}" * 5_000 + "@db/app\n",
    },
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_hostile_shape_finishes_in_bounded_time(shape: str, tmp_path: Path) -> None:
    project_vars.index_for.cache_clear()
    result = scan_shape(tmp_path, SHAPES[shape])
    assert all("internal error" not in e.message for e in result.report.errors)


def test_ebextensions_alias_bomb_is_one_error(tmp_path: Path) -> None:
    result = scan_shape(tmp_path, SHAPES["ebextensions-alias-bomb"])
    assert [e.path for e in result.report.errors] == [".ebextensions/db.config"]


GROWTH: dict[str, tuple[Callable[[int], Files], int]] = {
    "terraform": (
        lambda n: {
            "main.tf": "".join(
                f'resource "aws_db_instance" "db{i}" {{\n  password = "{_PW}"\n}}\n'
                f'locals {{ url{i} = "postgres://${{var.h}}:${{var.p}}/app?sslmode=disable" }}\n'
                for i in range(n)
            )
        },
        200,
    ),
    "bicep": (
        lambda n: {
            "main.bicep": "".join(
                f"var db{i} = 'postgresql://app@${{host}}/app?sslmode=require'\n"
                f"{{ name: 'PGSSLMODE', value: 'disable' }}\n"
                for i in range(n)
            )
        },
        200,
    ),
    "procfile": (
        lambda n: {"Procfile": "".join(f"p{i}: PGSSLMODE=disable run\n" for i in range(n))},
        200,
    ),
    "project-variables": (
        lambda n: {
            **{
                f"app/m{i}.py": f"import asyncpg, os\nasyncpg.connect(ssl=os.environ['V{i}_SSL'])\n"
                for i in range(n)
            },
            ".env": "".join(f"V{i}_SSL=disable\n" for i in range(n)),
        },
        30,
    ),
}


@pytest.mark.parametrize("family", sorted(GROWTH))
def test_new_formats_grow_near_linearly(family: str, tmp_path: Path) -> None:
    generate, n = GROWTH[family]
    # Each run has its own root; the project index is dropped so it is built afresh.
    assert_grows_near_linearly(family, generate, n, tmp_path, project_vars.index_for.cache_clear)
