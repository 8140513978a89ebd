"""Environment files (dotenv syntax): KEY=VALUE lines, known by what they are.

A file is an env file by its name when the name says so (`.env`, `.env.*`,
`*.env`, `.envrc`, `env.list`), and by its name *and* its content when the
name only hints (`*.env.*` such as `prod.env.example`, `*_env` such as
`.docker_env`, `.env_*` / `.env-*` such as `.env_example`, `.env` glued to a variant
such as `.envLocalExample`, `env_*` / `env-*` such as `env-base.txt`): such a file is read
only when its lines are KEY=VALUE lines (`looks_like_env`), so a script called
`setup_env` is not misread.

`is_env_file(name)` and `judge_env_file(src, policy)` are the entry points for
the readers that meet a file named elsewhere (compose `env_file:`, shell
`source FILE` / `dotenv -f FILE`, python-dotenv `load_dotenv("FILE")`):
a file `is_env_file` accepts is judged by the walk already; any other named
file is judged with `judge_env_file`, whatever its name.
"""

from __future__ import annotations

from collections.abc import Iterable

from verifyfull.findings import Finding
from verifyfull.policy import DEFAULT_POLICY, Policy
from verifyfull.scan.api import ScanContext, SourceFile, file_check
from verifyfull.scan.config.envnames import (  # the rules live there (judge.py asks too)
    GLOBS,
    hinted_env_file,
    is_env_file,
    looks_like_env,
    named_env_file,
    parse_env,
)
from verifyfull.scan.config.judge import judge_settings
from verifyfull.scan.config.model import worth_parsing

__all__ = [
    "GLOBS",
    "check_env_file",
    "hinted_env_file",
    "is_env_file",
    "judge_env_file",
    "looks_like_env",
    "named_env_file",
    "parse_env",
]


def judge_env_file(src: SourceFile, policy: Policy = DEFAULT_POLICY) -> list[Finding]:
    """Every finding of a file read as an env file, whatever its name (the hook for
    files named by compose `env_file:`, shell `source`, `dotenv -f`, `load_dotenv`)."""
    if not worth_parsing(src.text):
        return []
    return judge_settings(src, parse_env(src.text), policy)


@file_check(globs=GLOBS)
def check_env_file(src: SourceFile, ctx: ScanContext) -> Iterable[Finding]:
    if not is_env_file(src.path.name, src.text):
        return []  # a hinted name whose content is something else
    return judge_env_file(src, ctx.policy)
