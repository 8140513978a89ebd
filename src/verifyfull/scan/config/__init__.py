"""Config and server files checked by the scanner (issue 4, part B).

Importing this package registers one check per format with verifyfull.scan.api:
.env and other env files, YAML (compose, Kubernetes, Helm, CI, Elastic
Beanstalk), TOML, INI (alembic.ini, systemd, supervisord), JSON (ARM too),
Terraform, Bicep, Procfiles, Dockerfiles, postgresql.conf, pgpool.conf, pg_hba.conf, .pgpass
and pg_service.conf; SQL scripts' role passwords; shell scripts, PowerShell and
Makefiles through the one shell reader (verifyfull.scan.shell.files). Every format is reduced to
settings and commands (model.py) that judge.py alone interprets.
"""

from verifyfull.scan.config import (
    bicep,
    dockerfile,
    dotenv_hook,
    ebextensions,
    envfile,
    ini,
    jsonfile,
    pg_hba,
    pgpass,
    pgpool,
    postgresql_conf,
    procfile,
    sqlfile,
    terraform,
    toml,
    vagrantfile,
    yamlfile,
)
from verifyfull.scan.shell import files as shell_files
from verifyfull.scan.shell import jenkinsfile

__all__ = [
    "bicep",
    "dockerfile",
    "dotenv_hook",
    "ebextensions",
    "envfile",
    "ini",
    "jenkinsfile",
    "jsonfile",
    "pg_hba",
    "pgpass",
    "pgpool",
    "postgresql_conf",
    "procfile",
    "shell_files",
    "sqlfile",
    "terraform",
    "toml",
    "vagrantfile",
    "yamlfile",
]
