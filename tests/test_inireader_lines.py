"""The INI line walker (scan/inireader.ini_lines) agrees with configparser.

Every check that reports where an INI option is written (the config INI check,
alembic.ini's URL line, pgbouncer.ini's section header) finds the line with the one
walker, so on generated INI text (sections, duplicate sections and options, `=`/`:`
separators, comments, indented continuation lines) the line option_line names must hold
the value configparser (strict off, interpolation off: how the programs read it) gives.
Before session 19 alembic.ini's URL line came from a finder of its own that took the
first of duplicated options (configparser takes the last) and read an indented
continuation `key = x` as an option.
"""

from __future__ import annotations

import string
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from verifyfull.scan.inireader import ini_lines, option_line, parse_ini_text, section_line
from verifyfull.scan.python.frameworks.migrations import ini_url_place

_WORD = st.text(string.ascii_lowercase, min_size=1, max_size=6)
_KEY = st.sampled_from(["url", "sqlalchemy.url", "mode", "Host", "host", "x"])
_SEPARATOR = st.sampled_from(["=", " = ", ": ", " :"])
_OPTION = st.builds(lambda k, sep, v: ("option", f"{k}{sep}{v}"), _KEY, _SEPARATOR, _WORD)
_CONTINUATION = st.builds(lambda k, v: ("continuation", f"    {k} = {v}"), _KEY, _WORD)
_COMMENT = st.sampled_from([("comment", "# url = commented"), ("comment", "; x = y"), ("", "")])
_SECTION = st.sampled_from(["alembic", "pgbouncer", "other", "Alembic"]).map(
    lambda name: ("section", f"[{name}]")
)
_BODY = st.lists(st.one_of(_OPTION, _CONTINUATION, _COMMENT, _SECTION), max_size=16)


def _text(body: list[tuple[str, str]]) -> str:
    lines, option_open = ["[alembic]"], False
    for kind, line in body:
        if kind == "continuation" and not option_open:
            continue  # configparser refuses a continuation with no option before it
        option_open = kind in {"option", "continuation"} or (option_open and kind == "")
        if kind == "section":
            option_open = False
        lines.append(line)
    return "\n".join(lines) + "\n"


@settings(max_examples=200, deadline=None)
@given(body=_BODY)
def test_option_line_holds_the_value_configparser_gives(body: list[tuple[str, str]]) -> None:
    text = _text(body)
    parsed = parse_ini_text(text)
    lines = text.splitlines()
    for section, options in parsed.sections.items():
        for key, value in options.items():
            number = option_line(text, section, key)
            assert number is not None, (section, key, text)
            written = lines[number - 1]
            assert not written[:1].isspace(), (section, key, text)
            first_value_line = value.split("\n", 1)[0]
            assert written.rstrip().endswith(first_value_line), (section, key, written, text)


@settings(max_examples=100, deadline=None)
@given(body=_BODY)
def test_every_written_option_is_walked_once_with_its_section(
    body: list[tuple[str, str]],
) -> None:
    text = _text(body)
    walked = [line for line in ini_lines(text) if line.kind == "option"]
    expected = sum(1 for kind, _ in body if kind == "option")
    assert len(walked) == expected
    for line in walked:
        assert line.section in {"alembic", "pgbouncer", "other", "Alembic"}
        assert text.splitlines()[line.number - 1].startswith(line.key)


def test_a_missing_option_or_section_has_no_line() -> None:
    text = "[alembic]\nscript_location = x\n    sqlalchemy.url = in a continuation\n"
    assert option_line(text, "alembic", "sqlalchemy.url") is None
    assert section_line(text, "pgbouncer") is None
    assert section_line("# c\n[PgBouncer]\n", "pgbouncer") == 2


def test_alembic_url_place_is_the_value_alembic_reads(tmp_path: Path) -> None:
    # configparser (strict off) keeps the last of a duplicated option: the URL env.py
    # reads is the second one, so that is where it is written (the old finder: line 3).
    (tmp_path / "alembic.ini").write_text(
        "[alembic]\nscript_location = migrations\nsqlalchemy.url = driver://old\n"
        "  sqlalchemy.url = continued\nsqlalchemy.url = postgresql://db/app\n",
        encoding="utf-8",
    )
    env_py = tmp_path / "migrations" / "env.py"
    env_py.parent.mkdir()
    env_py.write_text("from alembic import context\n", encoding="utf-8")
    place = ini_url_place(env_py, tmp_path, "sqlalchemy.url")
    assert place is not None and place.line == 5
