"""The one shell reader (issue 13, class 1): POSIX words, commands, and what is found in them.

- the lexer agrees with Python's shlex on the inputs shlex reads right (quoting,
  escapes, continuations; no operators or expansions, which shlex does not know);
- the same command written with any quoting and any line continuations gives the
  same findings (generated variants);
- the constructs shlex does not know: separators, substitutions, here-documents,
  reserved words, redirections, `sh -c` scripts read again, one-command assignments.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifyfull.scan.api import ScanContext, SourceFile
from verifyfull.scan.config.model import Setting
from verifyfull.scan.shell import commands, expand_argv, read
from verifyfull.scan.shell.files import check_shell_script, makefile_recipes
from verifyfull.scan.shell.lexer import lex
from verifyfull.scan.shell.powershell import read_powershell

# Characters with no meaning to sh outside quotes (shlex and sh agree on them).
_PLAIN = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:@%+,",
    min_size=1,
    max_size=12,
)
# Inside quotes anything but the quote itself (and, in double quotes, `$`, backquote, `\`).
_QUOTED_BODY = st.text(alphabet="abc XYZ019-_./=:@%+,;|&()<>#*?[]{}~", max_size=12)


def _single(word: str) -> str:
    return "'" + word + "'"


def _double(word: str) -> str:
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _escaped(word: str) -> str:
    return "".join("\\" + c if not c.isalnum() else c for c in word)


def _spelling(word: str, style: int) -> str:
    """One of the ways sh lets the same word be written."""
    if style == 0 or not word:
        return word or _single(word)
    if style == 1:
        return _single(word)
    if style == 2:
        return _double(word)
    if style == 3:
        return _escaped(word)
    half = len(word) // 2  # adjacent pieces quoted differently form one word
    return _single(word[:half]) + _double(word[half:])


def _written(words: list[str], styles: list[int], breaks: list[bool]) -> str:
    parts = []
    for index, word in enumerate(words):
        if index:
            parts.append(" \\\n  " if breaks[index % len(breaks)] else " ")
        parts.append(_spelling(word, styles[index % len(styles)]))
    return "".join(parts)


def _argv(text: str) -> list[str]:
    found = lex(text)
    assert len(found) == 1, found
    return [t.text for t in (*found[0].assignments, *found[0].words)]


@settings(max_examples=300, deadline=None)
@given(
    words=st.lists(st.one_of(_PLAIN, _QUOTED_BODY), min_size=1, max_size=8),
    styles=st.lists(st.integers(0, 4), min_size=1, max_size=8),
    breaks=st.lists(st.booleans(), min_size=1, max_size=8),
)
def test_words_agree_with_shlex_on_posix_quoting(
    words: list[str], styles: list[int], breaks: list[bool]
) -> None:
    # A word with sh-special characters is written quoted (style 0 would split it).
    styles = [
        s or (0 if _is_plain(w) else 1) for s, w in zip(styles * len(words), words, strict=False)
    ]
    # After a program name: a first word such as `{` or `if` would be a reserved word.
    text = "run " + _written(words, styles, breaks)
    assert _argv(text) == ["run", *words]
    # shlex keeps `\<newline>` as a newline character; sh removes both (POSIX 2.2.1).
    assert shlex.split(text.replace("\\\n", ""), posix=True) == ["run", *words]


def _is_plain(word: str) -> bool:
    return bool(word) and all(c.isalnum() or c in "-_./=:@%+," for c in word)


# --- the same command, any spelling: the same findings ---------------------------------

COMMANDS = {
    "export DATABASE_URL=postgresql://app@db.internal/app?sslmode=disable": {"VF101"},
    "DATABASE_URL=postgresql://app@db.internal/app?sslmode=disable alembic upgrade head": {"VF101"},
    "psql sslmode=require\\ host=db.internal -c select": {"VF103"},
    "pgcli --sslmode require --host db.internal": {"VF103"},
    "pg_dump -h db.internal -U app app": {"VF102"},
    "psql -U postgres -d app": set(),
    "cockroach start-single-node --insecure --listen-addr=:26257": {"VF201"},
    "cockroach start --certs-dir=/certs --join=roach-0": set(),
}


def _findings(text: str) -> set[str]:
    src = SourceFile(Path("/x/run.sh"), "run.sh", text)
    return {f.rule_id for f in check_shell_script(src, ScanContext(root=Path("/x")))}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_each_command_gives_its_findings(command: str) -> None:
    assert _findings(command + "\n") == COMMANDS[command]


@settings(max_examples=120, deadline=None)
@given(
    command=st.sampled_from(sorted(COMMANDS)),
    styles=st.lists(st.integers(0, 4), min_size=1, max_size=6),
    breaks=st.lists(st.booleans(), min_size=1, max_size=6),
    wrapper=st.sampled_from(
        ["{}", "sh -c {q}", "bash -ecx {q}", "if {}; then :; fi", "x=$({})", "{{ {}; }}"]
    ),
)
def test_any_spelling_of_a_command_gives_the_same_findings(
    command: str, styles: list[int], breaks: list[bool], wrapper: str
) -> None:
    words = shlex.split(command)
    if command.startswith(("export", "DATABASE_URL")) and wrapper != "{}":
        wrapper = "{}"  # an assignment inside `sh -c` or `$()` is that shell's, not the file's
    styles = [
        1 if (s == 3 and "=" in w) or (s == 0 and " " in w) else s
        for s, w in zip(styles * len(words), words, strict=False)
    ]
    if command.startswith("DATABASE_URL"):
        styles[0] = 0  # `"X=v" cmd` is a word, not an assignment: the name stays bare
        words_text = words[0].split("=", 1)
        first = words_text[0] + "=" + _spelling(words_text[1], styles[1 % len(styles)] or 1)
        text = first + " " + _written(words[1:], styles, breaks)
    else:
        text = _written(words, styles, breaks)
    wrapped = wrapper.format(text, q=shlex.quote(text))
    assert _findings(wrapped + "\n") == COMMANDS[command], wrapped


# --- constructs shlex does not know -----------------------------------------------------


def test_separators_end_commands() -> None:
    text = "a 1; b 2 && c 3 || d 4 | e 5 & f 6\ng 7"
    assert [[t.text for t in s.words] for s in lex(text)] == [
        ["a", "1"], ["b", "2"], ["c", "3"], ["d", "4"], ["e", "5"], ["f", "6"], ["g", "7"]
    ]  # fmt: skip


def test_expansions_stay_references_and_substitutions_are_read() -> None:
    text = 'out="$(psql -h "${HOST:-db}" -c \'select 1\')" `pg_dump -h $H x` ${A:-"b c"} $((1+2))'
    found = lex(text)
    argvs = [[t.text for t in s.words] for s in found]
    assert ["psql", "-h", "${HOST:-db}", "-c", "select 1"] in argvs
    assert ["pg_dump", "-h", "$H", "x"] in argvs
    outer = found[-1]
    assert outer.assignments[0].text == "out=$(psql -h \"${HOST:-db}\" -c 'select 1')"
    assert [t.text for t in outer.words] == ["`pg_dump -h $H x`", '${A:-"b c"}', "$((1+2))"]


def test_here_documents_are_the_commands_input() -> None:
    text = "psql <<-'EOF' | cat\n\tCREATE USER a;\n\tEOF\necho after\n"
    found = lex(text)
    assert [t.text for t in found[0].words] == ["psql"]
    # POSIX: `<<-` strips the leading tabs of the body lines, not only the delimiter's
    assert found[0].heredocs[0].text == "CREATE USER a;\n"
    assert found[0].heredocs[0].expands is False  # a quoted delimiter: read as written
    assert [t.text for t in found[-1].words] == ["echo", "after"]


def test_reserved_words_redirections_and_comments() -> None:
    text = "if psql -h db; then pg_dump x > out.sql 2>&1; fi # psql -h evil\nfor i in a; do :; done"
    found = lex(text)
    assert [t.text for t in found[0].words] == ["psql", "-h", "db"]
    assert [t.text for t in found[1].words] == ["pg_dump", "x"]
    assert [(op, t.text) for op, t in found[1].redirects] == [(">", "out.sql"), ("2>&", "1")]
    assert not any("evil" in t.text for s in found for t in s.words)


def test_sh_c_scripts_are_read_again_in_place() -> None:
    text = 'docker exec db bash -ecx "exec cockroach start \\\n  --insecure"\n'
    inner = commands(text)[-1]
    assert [(w.text, w.line, w.column) for w in inner.words] == [
        ("exec", 1, 27), ("cockroach", 1, 32), ("start", 1, 42), ("--insecure", 2, 3)
    ]  # fmt: skip
    argv = expand_argv(commands('["/bin/sh", "-c", "cockroach start --insecure"]')[0].words)
    assert len(argv) == 1  # a JSON-looking string is one word, not an argv


def test_a_sh_c_argv_list_is_read_as_a_script() -> None:
    words = commands("sh -c 'cockroach start --insecure'")[0].words
    expanded = expand_argv(words)
    assert [c.argv for c in expanded][-1] == ("cockroach", "start", "--insecure")


def test_assignments_for_one_command_are_local() -> None:
    script = read("export PGSSLMODE=require\nPGHOST=db psql\nA=1\nenv PGUSER=x psql\n")
    assert [(s.key, s.value, s.local) for s in script.settings] == [
        ("PGSSLMODE", "require", False), ("PGHOST", "db", True), ("A", "1", False),
        ("PGUSER", "x", True),
    ]  # fmt: skip


def test_positions_are_the_files() -> None:
    script = read('  export DATABASE_URL="postgresql://a@b/c"\n', line=7, column=5, indent=3)
    assert script.settings[0] == Setting("DATABASE_URL", "postgresql://a@b/c", 7, 28)


def test_makefile_variables_and_recipes() -> None:
    settings_, found = makefile_recipes(
        "X = psql -h db\nexport PGSSLMODE ?= require\nall:\n\t@psql -h db \\\n\t  -c 'a'\n"
    )
    # A make variable is a setting; only an exported one is the recipes' environment.
    assert [(s.key, s.value, s.local) for s in settings_] == [
        ("X", "psql -h db", True), ("PGSSLMODE", "require", False)
    ]  # fmt: skip
    assert [c.argv for c in found] == [("psql", "-h", "db", "-c", "a")]


def test_powershell_assignments_and_words() -> None:
    settings_, found = read_powershell(
        "$env:PGSSLMODE = 'disable'\n$env:X=\"a`\"b\"\npsql -h db `\n  -c 'it''s'\n"
    )
    assert [(s.key, s.value, s.line) for s in settings_] == [
        ("PGSSLMODE", "disable", 1), ("X", 'a"b', 2)
    ]  # fmt: skip
    assert [c.argv for c in found] == [("psql", "-h", "db", "-c", "it's")]


# --- one reader for every place shell is written ----------------------------------------

# The same command line in each format that holds shell (assignment lines excepted: a
# CI step's settings are not collected by the YAML walk yet, docs/scan-config.md).
FORMATS = {
    "run.sh": "#!/bin/sh\n{cmd}\n",
    "Makefile": "all:\n\t@{cmd}\n",
    "Dockerfile": "FROM debian\nRUN set -e; \\\n    {cmd}\n",
    ".github/workflows/ci.yml": "jobs:\n  t:\n    steps:\n      - run: |\n          {cmd}\n",
    ".gitlab-ci.yml": "job:\n  script:\n    - {q}\n",
    "tasks.py": "import subprocess\nsubprocess.run({py}, shell=True)\n",
    "sh-c.sh": "docker exec db sh -c {sq}\n",
}


@pytest.mark.parametrize("name", sorted(FORMATS))
@pytest.mark.parametrize(
    "command", sorted(c for c in COMMANDS if not c.startswith(("export", "DATABASE_URL")))
)
def test_a_command_reads_the_same_in_every_format(name: str, command: str, tmp_path: Path) -> None:
    from verifyfull.scan.engine import scan_file
    from verifyfull.scan.walk import WalkedFile

    text = FORMATS[name].format(
        cmd=command,
        q=repr(command).replace("\\\\", "\\"),
        py=repr(command),
        sq=shlex.quote(command),
    )
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    outcome = scan_file(WalkedFile(path, name), ScanContext(root=tmp_path), 1_000_000)
    assert not outcome.errors, outcome.errors
    assert {f.rule_id for f in outcome.findings} == COMMANDS[command], text


def test_suffixless_files_are_read_only_with_a_shell_shebang(tmp_path: Path) -> None:
    from verifyfull.scan.engine import scan
    from verifyfull.scan.settings import ScanSettings

    (tmp_path / "entrypoint").write_text("#!/bin/sh\npsql -h db.internal -U app\n")
    (tmp_path / "manage").write_text("#!/usr/bin/env python3\n'psql -h db.internal'\n")
    (tmp_path / "NOTES").write_text("psql -h db.internal\n")
    (tmp_path / "tool").write_bytes(b"\x7fELF\0\0psql -h db.internal" + bytes(range(256)))
    (tmp_path / "huge").write_bytes(b"\0" * 2_000_000)  # over the size limit: not a candidate
    result = scan([tmp_path], ScanSettings(project_root=tmp_path, max_file_size=1_000_000), jobs=1)
    assert [(f.path, f.rule_id) for f in result.report.findings] == [("entrypoint", "VF102")]
    assert not result.report.errors


def test_a_one_command_sslmode_is_reported_once() -> None:
    src = SourceFile(Path("/x/run.sh"), "run.sh", "PGSSLMODE=disable psql -h db.internal\n")
    found = list(check_shell_script(src, ScanContext(root=Path("/x"))))
    assert [(f.rule_id, f.column) for f in found] == [("VF101", 11)]


def test_shell_options_with_arguments_before_c() -> None:
    found = commands('bash -o pipefail -ec "cockroach start --insecure"')
    assert found[-1].argv == ("cockroach", "start", "--insecure")


# --- a container tool's environment options ----------------------------------------------

_NAMES = st.from_regex(r"[A-Z][A-Z0-9_]{0,10}", fullmatch=True)
_VALUES = st.text(alphabet="abcXYZ019-_./:@%+,", min_size=1, max_size=16)


@settings(max_examples=200, deadline=None)
@given(
    tool=st.sampled_from(["docker", "/usr/bin/podman", "nerdctl", "docker-compose"]),
    verb=st.sampled_from(["run", "exec", "create", "container run", "compose run"]),
    before=st.lists(st.sampled_from(["-d", "--rm", "-it", "--name x"]), max_size=3),
    option=st.sampled_from(["-e {}", "--env {}", "--env={}", "-e{}"]),
    name=_NAMES,
    value=_VALUES,
    style=st.integers(0, 4),
)
def test_container_env_options_are_the_containers_settings(
    tool: str,
    verb: str,
    before: list[str],
    option: str,
    name: str,
    value: str,
    style: int,
) -> None:
    word = option.format(_spelling(name + "=" + value, style if style != 3 else 1))
    text = " ".join([tool, verb, *before, word, "img", "cmd"])
    found = [(s.key, s.value, s.local) for s in read(text).settings]
    assert found == [(name, value, True)], text


@pytest.mark.parametrize(
    "text",
    [
        "grep -e A=1 file",  # not a container tool
        "docker run -e A img",  # the caller's variable passed on
        "docker build -e A=1 .",  # not a verb that sets a container's environment
    ],
)
def test_other_e_options_set_nothing(text: str) -> None:
    assert read(text).settings == ()
