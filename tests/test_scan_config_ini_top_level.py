"""INI-family files as their own formats write them (fixtures: generated below).

- A `.cfg`/`.ini` file with no line opening a `[section]` (haproxy.cfg, pyvenv.cfg, a
  tool's own key/value file) is not a broken INI file: its `key = value` lines are read,
  a connection setting among them is judged, and no "does not parse" error is reported
  (the corpus had 16 such errors in dbist/cockroach-docker's haproxy.cfg files).
- Options before the first `[section]` (GDAL's osmconf.ini) are top-level options.
- A file that does open sections and then breaks the syntax is still one error, naming
  its own line number.
On the old code every generated case of the first two classes reported an error.
"""

from __future__ import annotations

import string
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_scan_config_formats import scan_tree
from verifyfull.scan import engine
from verifyfull.scan.settings import ScanSettings

_SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_WORD = st.text(string.ascii_lowercase, min_size=2, max_size=8)
# Lines of formats that are not INI: haproxy/nginx-style directives, indented blocks.
_DIRECTIVE = st.builds(
    lambda indent, words: indent + " ".join(words),
    st.sampled_from(["", "    ", "\t"]),
    st.lists(_WORD, min_size=1, max_size=4),
)
_SEPARATOR = st.sampled_from(["=", " = ", ": "])
_OPTION = st.builds(lambda k, sep, v: f"{k}{sep}{v}", _WORD, _SEPARATOR, _WORD)
_LINES = st.lists(st.one_of(_DIRECTIVE, _OPTION, st.just("# a comment"), st.just("")), max_size=12)
_NAMES = st.sampled_from(["haproxy.cfg", "tool.cfg", "conf/app.ini", "pyvenv.cfg"])
_DSN_LINE = "database_url = postgresql://app@db.internal:5432/app?sslmode=disable"


def _scan_with_errors(files: dict[str, str]) -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        for name, text in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text, encoding="utf-8")
        result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
        return [(e.path or "", e.message) for e in result.report.errors]


@_SETTINGS
@given(name=_NAMES, before=_LINES, after=_LINES)
def test_a_file_without_sections_is_read_not_refused(
    name: str, before: list[str], after: list[str]
) -> None:
    text = "\n".join([*before, _DSN_LINE, *after]) + "\n"
    with tempfile.TemporaryDirectory() as scratch:
        found = scan_tree(Path(scratch), {name: text})  # asserts no error entry
    line = len(before) + 1
    assert (name, line, "VF101") in {(path, at, rule) for path, at, rule, _ in found}, found


@_SETTINGS
@given(top=st.lists(_OPTION, max_size=5), section=_WORD, body=st.lists(_OPTION, max_size=5))
def test_options_before_the_first_section_are_top_level(
    top: list[str], section: str, body: list[str]
) -> None:
    text = "\n".join([*top, _DSN_LINE, f"[{section}]", *body]) + "\n"
    with tempfile.TemporaryDirectory() as scratch:
        found = scan_tree(Path(scratch), {"osmconf.ini": text})
    assert ("osmconf.ini", len(top) + 1, "VF101") in {(p, at, r) for p, at, r, _ in found}


@_SETTINGS
@given(top=st.lists(_OPTION, max_size=4), body=st.lists(_OPTION, max_size=4), junk=_WORD)
def test_a_broken_line_inside_sections_is_one_error_at_its_own_line(
    top: list[str], body: list[str], junk: str
) -> None:
    lines = [*top, "[database]", *body, f"{junk} {junk}"]
    errors = _scan_with_errors({"app.ini": "\n".join(lines) + "\n"})
    assert len(errors) == 1, errors
    path, message = errors[0]
    assert path == "app.ini" and "does not parse" in message
    assert f"at line {len(lines)}:" in message, message
