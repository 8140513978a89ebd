"""Files a shell script takes its environment from: `source FILE`, `. FILE` and
python-dotenv's CLI `dotenv -f FILE run ...` (issue 13, class 3; session 12).

    . ./deploy/vars                       # deploy/vars: export DATABASE_URL=...
    dotenv -f config/app.settings run alembic upgrade head

A file named so under a name no check claims (no env-file name, no shell suffix or
shebang) is read by nobody else: it is judged here as what it is to the script (a
sourced file is shell, a `dotenv -f` file is an env file), its findings placed in that
file; one named by several scripts gives the same findings at the same places, which
the engine merges. Only literal paths are followed (`"$DIR/vars"` is not), resolved
from the script's directory, then from the project root; the file must be inside the
project, a regular file of at most 1 MB, UTF-8. One linear regex pass per script.
"""

from __future__ import annotations

import re
from pathlib import Path

from verifyfull.findings import Finding
from verifyfull.scan.api import ScanContext, SourceFile, registered_checks
from verifyfull.scrub import register_public_name

MAX_SOURCED_BYTES = 1_000_000
MAX_FILES = 20
# A command word position: line start, after ; & | ( or a reserved word.
_SOURCE = re.compile(
    r"(?:^|[;&|(]|\b(?:then|do|else))[ \t]*(?:source|\.)[ \t]+(?P<path>[^\s;&|()<>`]+)",
    re.MULTILINE,
)
_DOTENV = re.compile(
    r"\bdotenv[ \t]+(?:-[^\s]+[ \t]+)*?(?:-f|--file)(?:=|[ \t]+)(?P<path>[^\s;&|()<>`]+)"
)
_SHEBANG = re.compile(r"#![ \t]*\S*?(?:/|env[ \t]+)(?:ba|da|z|k|a)?sh\b")


def sourced_findings(src: SourceFile, ctx: ScanContext) -> list[Finding]:
    """The findings of the files src sources or hands to `dotenv -f`."""
    text = src.text
    if "source" not in text and ". " not in text and "dotenv" not in text:
        return []
    named: list[tuple[str, str]] = [("shell", m.group("path")) for m in _SOURCE.finditer(text)]
    named += [("env", m.group("path")) for m in _DOTENV.finditer(text)]
    found: list[Finding] = []
    seen: set[Path] = set()
    for kind, written in named[:MAX_FILES]:
        path = _resolve(written.strip("'\""), src.path.parent, ctx.root)
        if path is None or path in seen:
            continue
        seen.add(path)
        found.extend(_judge(path, kind, ctx))
    return found


def _resolve(written: str, here: Path, root: Path) -> Path | None:
    if not written or any(c in written for c in "$`~*?[{"):
        return None
    candidate = Path(written)
    bases = [Path("/")] if candidate.is_absolute() else [here, root]
    try:
        top = root.resolve()
        for base in bases:
            path = (base / candidate).resolve()
            if path.is_relative_to(top) and path.is_file():
                return path
    except (OSError, ValueError, RuntimeError):
        return None
    return None


def _claimed(path: Path) -> bool:
    """Whether a registered check wants this file by its name (RegisteredCheck.matches;
    the walk hands it over itself; the engine's own lookup would import the engine: a
    cycle)."""
    return any(check.matches(path) for check in registered_checks())


def _judge(path: Path, kind: str, ctx: ScanContext) -> list[Finding]:
    # imported here: scan.config imports the shell reader (a cycle at load)
    from verifyfull.scan import shell
    from verifyfull.scan.config.envfile import is_env_file, judge_env_file, looks_like_env
    from verifyfull.scan.config.judge import judge_all
    from verifyfull.scan.walk import relpath_of

    try:
        if path.stat().st_size > MAX_SOURCED_BYTES:
            return []
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    if _claimed(path) or is_env_file(path.name, text) or _SHEBANG.match(text):
        return []  # the walk hands it to its own check
    relpath = relpath_of(path, ctx.root)
    register_public_name(relpath)  # a file name, as the engine does for walked files
    source = SourceFile(path, relpath, text)
    if kind == "env":
        return judge_env_file(source, ctx.policy) if looks_like_env(text) else []
    if not shell.worth_reading(text):
        return []
    script = shell.read(text)
    return judge_all(source, script.settings, script.commands, ctx.policy)
