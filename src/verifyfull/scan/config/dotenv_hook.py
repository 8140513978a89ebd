"""python-dotenv's named files: `load_dotenv("FILE")` / `dotenv_values("FILE")`.

A Python file that loads an env file by a name no env glob knows
(`load_dotenv("config/app.settings")`) makes that file the service's
environment. This hook, a check on `.py` files that mention python-dotenv,
judges such a file as an env file (envfile.judge_env_file), its findings
placed in that file. The project index (scan/project_vars.py) records which
Python file names each env file first, so a file named by several is judged
once; a file an env glob already matches is left to the walk.

Limit: the engine applies the suppressions and baseline line texts of the
file it handed the check (the `.py`), not of the env file, to these findings.
"""

from __future__ import annotations

from collections.abc import Iterable

from verifyfull.findings import Finding
from verifyfull.scan import project_vars
from verifyfull.scan.api import ScanContext, SourceFile, file_check
from verifyfull.scan.config.envfile import is_env_file, judge_env_file
from verifyfull.scrub import register_public_name

MAX_ENV_BYTES = 1_000_000


@file_check(suffixes=(".py",), keywords=("load_dotenv", "dotenv_values"))
def check_dotenv_files(src: SourceFile, ctx: ScanContext) -> Iterable[Finding]:
    root = project_vars.root_of(src)
    if not project_vars.names_env_file(src.text):
        return []
    found: list[Finding] = []
    for relpath, owner in project_vars.index_for(root).env_files.items():
        if owner != src.relpath:
            continue
        path = root / relpath
        try:
            if path.stat().st_size > MAX_ENV_BYTES:
                continue
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if is_env_file(path.name, text):
            continue  # the walk reads it as an env file already
        register_public_name(relpath)  # a file name, as the engine does for walked files
        found.extend(judge_env_file(SourceFile(path, relpath, text), ctx.policy))
    return found
