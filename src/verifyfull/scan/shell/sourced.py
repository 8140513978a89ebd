"""Files shell content takes its environment from: `source FILE`, `. FILE` and
python-dotenv's CLI `dotenv -f FILE run ...` (issue 13, class 3; session 12, and
session 13 for every carrier of shell).

    . ./deploy/vars                       # deploy/vars: export DATABASE_URL=...
    dotenv -f config/app.settings run alembic upgrade head

The sourcing commands are read from the commands the shell reader gives, wherever the
shell is written: a script, a Makefile recipe, a CI `run:`/`script:` block, a
Dockerfile `RUN`/`CMD`/`ENTRYPOINT`, a compose or Kubernetes `command:` (each check
hands its commands to `sourced_findings`, the one place this is done). A file named so
under a name no check claims (no env-file name, no shell suffix or shebang) is read by
nobody else: it is judged here as what it is to the command (a sourced file is shell, a
`dotenv -f` file is an env file), its findings placed in that file; one named by
several carriers gives the same findings at the same places, which the engine merges.
Only literal paths are followed (`"$DIR/vars"` is not), resolved from the carrier's
directory (where a script, a Makefile recipe or a Dockerfile build context runs), then
from the project root (where a CI job runs); the file must be inside the project, a
regular file of at most 1 MB, UTF-8.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from verifyfull.findings import Finding
from verifyfull.scan.api import ScanContext, SourceFile, registered_checks
from verifyfull.scan.config.model import Command, ConfigParseError
from verifyfull.scan.shell import python_code
from verifyfull.scan.shell.argv import program, run_program_at
from verifyfull.scrub import register_public_name

MAX_SOURCED_BYTES = 1_000_000
MAX_FILES = 20
# Text that may hold a sourcing command (cheap; a carrier whose text names no database
# is read for its commands only when this matches).
_MAY_SOURCE = re.compile(r"(?:^|[\s;&|(`\"'])(?:source|\.)[ \t]+[^\s;&|()]|\bdotenv\b", re.M)
_SHEBANG = re.compile(r"#![ \t]*\S*?(?:/|env[ \t]+)(?:ba|da|z|k|a)?sh\b")


def may_source(text: str) -> bool:
    """Whether text may hold `source FILE`, `. FILE` or `dotenv` (a superset, cheap)."""
    return ("source" in text or ". " in text or "dotenv" in text) and bool(_MAY_SOURCE.search(text))


def named_files(commands: Iterable[Command]) -> list[tuple[str, str]]:
    """(kind, path as written) of each file the commands source (`shell`) or hand to
    `dotenv -f` (`env`), in order."""
    named: list[tuple[str, str]] = []
    for command in commands:
        texts = [w.text for w in command.words]
        at = run_program_at(texts)
        if at is not None and texts[at] in ("source", ".") and at + 1 < len(texts):
            named.append(("shell", texts[at + 1]))
        dotenv = next((i for i, t in enumerate(texts) if program(t) == "dotenv"), None)
        if dotenv is not None:
            written = _dotenv_file(texts[dotenv + 1 :])
            if written:
                named.append(("env", written))
    return named


def _dotenv_file(options: Sequence[str]) -> str | None:
    """The `-f FILE` / `--file FILE` / `--file=FILE` among dotenv's options (before its
    sub-command)."""
    for index, word in enumerate(options):
        if word in ("-f", "--file"):
            return options[index + 1] if index + 1 < len(options) else None
        if word.startswith("--file="):
            return word.removeprefix("--file=")
        if not word.startswith("-"):
            return None
    return None


def sourced_findings(
    src: SourceFile, commands: Iterable[Command], ctx: ScanContext
) -> list[Finding]:
    """The findings of the files src's commands source or hand to `dotenv -f`, and of
    the Python programs they run (python_code.py: every carrier of shell hands its
    commands here, the one place this is done)."""
    commands = list(commands)
    found: list[Finding] = python_code.findings(src, commands, ctx)
    seen: set[Path] = set()
    for kind, written in named_files(commands)[:MAX_FILES]:
        path = _resolve(written, src.path.parent, ctx.root)
        if path is None or path in seen:
            continue
        seen.add(path)
        found.extend(_judge(path, kind, ctx))
    return found


def named_shell_findings(src: SourceFile, written: str, ctx: ScanContext) -> list[Finding]:
    """The findings of a shell script another file names for running (a Vagrant shell
    provisioner's `path:`), found and read as a sourced file is."""
    path = _resolve(written, src.path.parent, ctx.root)
    return [] if path is None else _judge(path, "shell", ctx)


def sourced_only(
    src: SourceFile, ctx: ScanContext, read: Callable[[], Iterable[Command]]
) -> list[Finding]:
    """A carrier whose text names nothing its own check reports: read (its reader's
    commands) only when it may source a file or run a Python program, and a text its
    reader refuses is no error of its own (it was never read before)."""
    if not may_source(src.text) and not python_code.may_run_python(src.text):
        return []
    try:
        commands = list(read())
    except ConfigParseError:
        return []
    return sourced_findings(src, commands, ctx)


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
