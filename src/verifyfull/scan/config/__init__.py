"""Config and server files checked by the scanner (issue 4, part B).

Importing this package registers one check per format with verifyfull.scan.api:
.env files, YAML (compose, Kubernetes, Helm, CI), TOML, INI (alembic.ini),
JSON, Dockerfiles, postgresql.conf and pg_hba.conf. Every format is reduced
to settings and commands (model.py) that judge.py alone interprets.
"""

from verifyfull.scan.config import (
    dockerfile,
    envfile,
    ini,
    jsonfile,
    pg_hba,
    postgresql_conf,
    toml,
    yamlfile,
)

__all__ = [
    "dockerfile",
    "envfile",
    "ini",
    "jsonfile",
    "pg_hba",
    "postgresql_conf",
    "toml",
    "yamlfile",
]
