"""SQL scripts (`init.sql`, `docker-entrypoint-initdb.d/*.sql`, schema files).

A database's init script that creates the application's role with a literal
password (`CREATE USER charu WITH PASSWORD 'charu123';`) commits the credential the
application logs in with, as a `psql -c` in a shell script does (clients.py reads
both with one pattern and one predicate). Only role passwords are read: the rest of
SQL says nothing about transport. A stored verifier (`md5…`, `SCRAM-SHA-256$…`, what
pg_dumpall writes) and a psql variable (`:'password'`) are not literals.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from verifyfull.findings import Finding
from verifyfull.scan.api import ScanContext, SourceFile, file_check
from verifyfull.scan.config.clients import sql_password_findings
from verifyfull.scan.config.model import Word

# A whole-line `--` comment (a commented-out statement is not run), blanked to spaces so
# every position stays; `--` after code may sit inside a string literal and is kept.
_LINE_COMMENT = re.compile(r"^[ \t]*--[^\n]*", re.MULTILINE)


@file_check(suffixes=(".sql",), keywords=("assword", "ASSWORD"))
def check_sql(src: SourceFile, ctx: ScanContext) -> Iterable[Finding]:
    text = _LINE_COMMENT.sub(lambda m: " " * len(m.group()), src.text)
    return sql_password_findings(
        src, Word(text, 1, 1), message="SQL in the script sets a literal database password"
    )
