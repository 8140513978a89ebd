"""Issue 12, class 8: a finding whose deciding value is written elsewhere than the call
(an environment reader's default, a dict joined into a conninfo string) is reported
once where that value is written, the calls that use it related (values.WrittenAt,
placement.written_place).

The generated tests are metamorphic: the same connection written inline at the calls
is the oracle for the rules; moving the literal into a default or a dict elsewhere
(another module, a class attribute, an import, a nested default, an f-string) must
keep the rules and move the finding, once, to where it is written."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from verifyfull.findings import Finding
from verifyfull.report import sarif
from verifyfull.scan import engine
from verifyfull.scan.settings import ScanSettings

TRANSPORT = {"VF101", "VF102", "VF103", "VF104"}
SCHEMA = json.loads((Path(__file__).parent / "vendor" / "sarif-schema-2.1.0.json").read_text())
MODES = ["", "disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
ROOT = "/etc/ssl/db-ca.crt"  # absolute: judged as written (class 7)


def _scan(root: Path, files: dict[str, str]) -> list[Finding]:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    assert not result.report.errors, result.report.errors
    return [f for f in result.report.findings if f.rule_id in TRANSPORT]


def _url(mode: str) -> str:
    query = f"?sslmode={mode}" if mode else ""
    if mode.startswith("verify"):
        query += f"&sslrootcert={ROOT}"
    return f"postgresql://svc@pg.internal/app{query}"


# How the written value reaches the call: (settings.py body, the expression in app.py,
# app.py's import line), {value} standing for the literal.
_HOPS = {
    "module attribute": ('X = os.getenv("X", {value})', "settings.X", "from pkg import settings"),
    "imported name": ('X = os.environ.get("X", {value})', "X", "from pkg.settings import X"),
    "class attribute": (
        'class Config:\n    X = os.getenv("X", {value})',
        "Config.X",
        "from pkg.settings import Config",
    ),
    "nested default": (
        'X = os.getenv("X", os.getenv("OLD_X", {value}))',
        "settings.X",
        "from pkg import settings",
    ),
    # (os.environ.setdefault is left out: env_settings judges its literal too, as written
    # into the environment, a second finding on the same line: open, see docs/scan.md)
    # the mode formatted into a URL template: placed at the f-string (body built below)
    "f-string mode": ("", "settings.X", "from pkg import settings"),
    "decouple": ('X = config("X", default={value})', "settings.X", "from pkg import settings"),
}
_SETTINGS_HEAD = "import os\nfrom decouple import config\n"
# The call shapes: (the call with {arg} for the written value, how the inline oracle
# writes the literal, which part the value is: the whole string or the mode).
_CALLS = {
    "psycopg url": ("psycopg.connect({arg})", "url"),
    "sqlalchemy url": ("create_engine({arg})", "url"),
    "asyncpg dsn": ("await asyncpg.connect({arg})", "url"),
    "psycopg2 sslmode": ("psycopg2.connect(host='pg.internal', sslmode={arg})", "mode"),
    "psycopg sslmode": (
        "psycopg.connect(f'host=pg.internal sslrootcert={ROOT}', sslmode={arg})",
        "mode",
    ),
    "connect_args sslmode": (
        "create_engine('postgresql://svc@pg.internal/app', connect_args={{'sslmode': {arg}}})",
        "mode",
    ),
}
_APP_HEAD = (
    "import asyncpg\nimport psycopg\nimport psycopg2\nfrom sqlalchemy import create_engine\n"
    f"ROOT = {ROOT!r}\n"
)


def _app(call: str, arguments: list[str], imports: str = "") -> tuple[str, list[int]]:
    """app.py with one call per argument, each in its own function; the call lines."""
    lines = [*_APP_HEAD.splitlines(), imports]
    calls: list[int] = []
    for index, argument in enumerate(arguments):
        lines.append(f"async def site{index}():")
        calls.append(len(lines) + 1)
        lines.append("    " + call.format(arg=argument, ROOT="{ROOT}"))
    return "\n".join(lines) + "\n", calls


@st.composite
def defaults(draw: st.DrawFn) -> tuple[str, str, str, int]:
    mode = draw(st.sampled_from(MODES))
    call = draw(st.sampled_from(sorted(_CALLS)))
    if _CALLS[call][1] == "mode" and not mode:
        mode = "prefer"  # a mode argument is always some mode
    return draw(st.sampled_from(sorted(_HOPS))), call, mode, draw(st.integers(1, 3))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(shape=defaults())
def test_a_default_written_elsewhere_is_the_one_place_of_the_finding(
    shape: tuple[str, str, str, int], tmp_path_factory: pytest.TempPathFactory
) -> None:
    hop, call_name, mode, callers = shape
    call, part = _CALLS[call_name]
    literal = repr(_url(mode) if part == "url" else mode)
    inline_app, inline_calls = _app(call, [literal] * callers)
    inline = _scan(tmp_path_factory.mktemp("inline"), {"app.py": inline_app})
    body, expression, imports = _HOPS[hop]
    written = body.format(value=literal)
    if hop == "f-string mode":
        assume(part == "url" and bool(mode))
        tail = f"&sslrootcert={ROOT}" if mode.startswith("verify") else ""
        default = f"os.getenv('M', {mode!r})"
        written = f'X = f"postgresql://svc@pg.internal/app?sslmode={{{default}}}{tail}"'
    settings_py = _SETTINGS_HEAD + written + "\n"
    app, calls = _app(call, [expression] * callers, imports)
    moved = _scan(
        tmp_path_factory.mktemp("moved"),
        {"pkg/__init__.py": "", "pkg/settings.py": settings_py, "pkg/app.py": app},
    )
    # the oracle: each inline call's rules, the same at every call
    assert {f.line for f in inline} <= set(inline_calls)
    rules = Counter(f.rule_id for f in inline)
    assert all(count == callers for count in rules.values()), inline
    # moved: those rules once each, where the default is written, every call related
    assert sorted(f.rule_id for f in moved) == sorted(rules), (settings_py, app, moved)
    default_line = settings_py.splitlines().index(written.splitlines()[-1]) + 1
    for found in moved:
        assert (found.path, found.line) == ("pkg/settings.py", default_line), found
        related = sorted((r.path, r.line) for r in found.related)
        assert related == [("pkg/app.py", line) for line in calls], found


_KEYS = ["host", "dbname", "user", "port"]


@st.composite
def joined_dicts(draw: st.DrawFn) -> tuple[list[tuple[str, str]], bool, bool, int]:
    entries = [(key, {"host": "pg.internal", "port": "5432"}.get(key, "app")) for key in _KEYS]
    mode = draw(st.sampled_from(MODES))
    if mode:
        entries.append(("sslmode", mode))
    if mode.startswith("verify") or draw(st.booleans()):
        entries.append(("sslrootcert", ROOT))
    entries = draw(st.permutations(entries))
    return list(entries), draw(st.booleans()), draw(st.booleans()), draw(st.integers(1, 3))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(shape=joined_dicts())
def test_a_dict_joined_into_a_conninfo_is_the_one_place_of_the_finding(
    shape: tuple[list[tuple[str, str]], bool, bool, int], tmp_path_factory: pytest.TempPathFactory
) -> None:
    entries, listcomp, other_module, callers = shape
    conninfo = " ".join(f"{k}={v}" for k, v in entries)
    inline_app, _ = _app("psycopg2.connect({arg})", [repr(conninfo)] * callers)
    rules = Counter(
        f.rule_id for f in _scan(tmp_path_factory.mktemp("inline"), {"app.py": inline_app})
    )
    display = "PARAMS = {\n" + "".join(f"    {k!r}: {v!r},\n" for k, v in entries) + "}\n"
    items = "f'{k}={v}' for k, v in PARAMS.items()"
    joined = f"' '.join([{items}])" if listcomp else f"' '.join({items})"
    files = {"pkg/__init__.py": ""}
    if other_module:
        files["pkg/params.py"] = display
        app, calls = _app(
            "psycopg2.connect({arg})", [joined] * callers, "from pkg.params import PARAMS"
        )
        where, line = "pkg/params.py", 1
    else:
        head, calls = _app("psycopg2.connect({arg})", [joined] * callers)
        app = display + head
        calls = [c + display.count("\n") for c in calls]
        where, line = "pkg/app.py", 1
    files["pkg/app.py"] = app
    moved = _scan(tmp_path_factory.mktemp("moved"), files)
    assert sorted(f.rule_id for f in moved) == sorted(r for r, n in rules.items() if n), moved
    for found in moved:
        assert (found.path, found.line) == (where, line), found
        assert sorted(r.line for r in found.related) == calls, found


def test_a_tls_setting_written_at_the_call_keeps_the_finding_there(tmp_path: Path) -> None:
    moved = _scan(
        tmp_path,
        {
            "settings.py": 'import os\nURL = os.getenv("URL", "postgresql://svc@pg.internal/app")\n',
            "app.py": "import psycopg\nfrom settings import URL\n"
            "psycopg.connect(URL, sslmode='require')\n"
            "psycopg.connect(URL + '?sslmode=allow')\n",
        },
    )
    assert sorted((f.path, f.line, f.rule_id) for f in moved) == [
        ("app.py", 3, "VF103"),
        ("app.py", 4, "VF102"),
    ]


def test_sarif_of_a_moved_finding_is_valid_and_relates_each_call() -> None:
    fixtures = Path(__file__).parent / "fixtures" / "scan" / "python"
    result = engine.scan([fixtures / "written_at"], ScanSettings(project_root=fixtures), jobs=1)
    document = json.loads(sarif.render(result.report))
    jsonschema.validate(document, SCHEMA)
    placed = [
        r
        for r in document["runs"][0]["results"]
        if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith(
            "written_at/settings.py"
        )
        and r["ruleId"] in TRANSPORT
    ]
    assert placed and all(r.get("relatedLocations") for r in placed)
    mode = next(
        r for r in placed if r["locations"][0]["physicalLocation"]["region"]["startLine"] == 8
    )
    lines = sorted(r["physicalLocation"]["region"]["startLine"] for r in mode["relatedLocations"])
    assert lines == [15, 19]
