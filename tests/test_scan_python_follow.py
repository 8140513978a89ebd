"""Values that move through other modules and helpers (issue 12, items 3, 6, 8, 10):
a URL given a new scheme, helpers and dicts of other modules, Flask-Migrate's URL."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verifyfull.scan import engine
from verifyfull.scan.api import ScanContext, SourceFile
from verifyfull.scan.python.check import run_analysis
from verifyfull.scan.settings import ScanSettings

FIXTURES = Path(__file__).parent / "fixtures" / "scan" / "python"
TRANSPORT = {"VF101", "VF102", "VF103", "VF104", "VF105", "VF108"}


def _rules(root: Path, text: str, name: str = "app.py") -> set[str]:
    path = root / name
    path.write_text(text, encoding="utf-8")
    analysis = run_analysis(SourceFile(path, name, text), ScanContext(root=root))
    return {f.rule_id for f in analysis.findings if f.rule_id in TRANSPORT}


# --- a new scheme on an unseen URL: the rest, query included, is still unseen --------

# Each shape as written in the program and as Python computes it (the oracle).
_CUTS: dict[str, tuple[tuple[str, Callable[[str], str]], ...]] = {
    # single quotes: they go inside f-strings too
    "split": (
        ("{x}.split('://')[1]", lambda x: x.split("://")[1]),
        ("{x}.split('://', 1)[-1]", lambda x: x.split("://", 1)[-1]),
        ("{x}.split('//')[1]", lambda x: x.split("//")[1]),
    ),
    "partition": (
        ("{x}.partition('://')[2]", lambda x: x.partition("://")[2]),
        ("{x}.partition('://')[-1]", lambda x: x.partition("://")[-1]),
    ),
}
_JOINS = (
    '"{scheme}" + {rest}',
    'f"{scheme}{{{rest}}}"',
    '"{scheme}{{}}".format({rest})',
    '"{scheme}{{rest}}".format(rest={rest})',
)
_SCHEMES = st.sampled_from(["postgresql://", "postgresql+psycopg2://", "cockroachdb://"])
_URLS = st.sampled_from(
    [
        "postgres://app@db.internal/app",
        "postgresql+asyncpg://app@db.internal/app?sslmode=require",
        "postgres://app@db.internal/app?sslmode=disable",
        "postgresql://app@db.internal/app?sslmode=verify-full&sslrootcert=/etc/ca.pem",
        "app@db.internal/app",
    ]
)
Cut = tuple[str, Callable[[str], str]]


@st.composite
def rescheme(draw: st.DrawFn) -> tuple[str, Cut, str]:
    """(join, cut, scheme): one way to put a scheme on the rest of a URL."""
    method = draw(st.sampled_from(sorted(_CUTS)))
    return draw(st.sampled_from(_JOINS)), draw(st.sampled_from(_CUTS[method])), draw(_SCHEMES)


def _program(join: str, cut: Cut, scheme: str, source: str) -> str:
    url = join.format(scheme=scheme, rest=cut[0].format(x="URL"))
    return (
        "import os\nfrom sqlalchemy import create_engine\n"
        f"URL = {source}\nengine = create_engine({url})\n"
    )


_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_SETTINGS
@given(shape=rescheme())
def test_a_new_scheme_on_an_environment_url_is_decided_at_deploy(
    tmp_path: Path, shape: tuple[str, Cut, str]
) -> None:
    """`"postgresql://" + os.environ["URL"].split("://")[1]` keeps the variable's query
    (its sslmode): never judged as a known URL without TLS settings."""
    program = _program(*shape, 'os.environ["DATABASE_URL"]')
    assert _rules(tmp_path, program) == {"VF108"}, program


@_SETTINGS
@given(shape=rescheme(), url=_URLS)
def test_a_new_scheme_on_a_written_url_is_judged_as_python_builds_it(
    tmp_path: Path, shape: tuple[str, Cut, str], url: str
) -> None:
    """With the URL written, the scheme swap is the string Python builds: the same
    findings as that string written at the call."""
    join, cut, scheme = shape
    try:
        built = scheme + cut[1](url)  # every join builds the same string
    except IndexError:  # "no-scheme".split("://")[1] raises: nothing to judge
        expected = {"VF108"}
    else:
        direct = f"from sqlalchemy import create_engine\nengine = create_engine({built!r})\n"
        expected = _rules(tmp_path, direct)
    assert _rules(tmp_path, _program(join, cut, scheme, repr(url))) == expected


# --- Flask-Migrate's env.py: the URL is the Flask app's SQLALCHEMY_DATABASE_URI ------

_ENV_PY = (FIXTURES / "flask_migrate" / "migrations" / "env.py").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ("", {"VF108"}),  # no URI in the tree: the deployment's
        ('SQLALCHEMY_DATABASE_URI = "sqlite:///app.db"\n', {"VF108"}),
        ('SQLALCHEMY_DATABASE_URI = "postgresql://app@db.internal/app"\n', {"VF102"}),
        (
            'SQLALCHEMY_DATABASE_URI = "postgresql://app@db.internal/app?sslmode=disable"\n',
            {"VF101"},
        ),
        (
            "SQLALCHEMY_DATABASE_URI = "
            '"postgresql://app@db/app?sslmode=verify-full&sslrootcert=/etc/ca.pem"\n',
            set(),
        ),
        (  # every config class is a value the app may run with
            "class Prod:\n    SQLALCHEMY_DATABASE_URI = "
            '"postgresql://app@db/app?sslmode=verify-full&sslrootcert=/etc/ca.pem"\n'
            "class Staging:\n"
            '    SQLALCHEMY_DATABASE_URI = "postgresql://app@db/app?sslmode=require"\n',
            {"VF103"},
        ),
        (
            "import os\ndef create_app(app):\n"
            '    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]\n',
            {"VF108"},
        ),
    ],
)
def test_flask_migrate_env_py_is_judged_with_the_apps_uri(
    tmp_path: Path, config: str, expected: set[str]
) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "config.py").write_text(config, encoding="utf-8")
    (tmp_path / "migrations").mkdir()
    assert _rules(tmp_path, _ENV_PY, "migrations/env.py") == expected


# --- a call's own arguments decide the tests around its helper's returns -----------

_RETURNED = (
    "postgresql://app@pg.internal/app?sslmode=verify-full&sslrootcert=/etc/ca.pem",
    "postgresql://app@pg.internal/app?sslmode=disable",
    "postgresql://app@pg.internal/app?sslmode=allow",
    "postgresql://app@pg.internal/app?sslmode=require",
)
# A test over the parameters (a: bool, b: bool, mode: str), as data and as Python.
Test = tuple[str, ...]
Tree = int | tuple[Test, "Tree", "Tree"]
_TESTS: tuple[Test, ...] = (("a",), ("b",), ("not", "a"), ("==", "x"), ("!=", "y"), ("and",))


def _holds(test: Test, args: dict[str, object]) -> bool:
    kind = test[0]
    if kind == "not":
        return not args[test[1]]
    if kind == "==":
        return args["mode"] == test[1]
    if kind == "!=":
        return args["mode"] != test[1]
    if kind == "and":
        return bool(args["a"] and args["b"])
    return bool(args[kind])


def _python(test: Test, owner: str) -> str:
    kind = test[0]
    if kind == "not":
        return f"not {owner}{test[1]}"
    if kind in ("==", "!="):
        return f"{owner}mode {kind} {test[1]!r}"
    if kind == "and":
        return f"{owner}a and {owner}b"
    return f"{owner}{kind}"


def _trees(depth: int) -> st.SearchStrategy[Tree]:
    leaf = st.integers(0, len(_RETURNED) - 1)
    if depth == 0:
        return leaf
    inner = _trees(depth - 1)
    return st.one_of(leaf, st.tuples(st.sampled_from(_TESTS), inner, inner))


def _body(tree: Tree, owner: str, indent: str, leaves: list[int], fall: bool = False) -> list[str]:
    """The tree as Python; `leaves` gets the line (in the returned list) of each return,
    in the order _chosen numbers them. fall: `if t: <then>` and the other arm after
    it, not under an `else:` (the then arm always returns)."""
    if isinstance(tree, int):
        leaves.append(0)  # moved down by each enclosing `if` as it places this body
        return [f"{indent}return {_RETURNED[tree]!r}"]
    test, then, other = tree
    lines = [f"{indent}if {_python(test, owner)}:"]
    for number, arm in enumerate((then, other)):
        if number and not fall:
            lines.append(f"{indent}else:")
        before = len(leaves)
        deeper = indent if number and fall else indent + "    "
        inner = _body(arm, owner, deeper, leaves, fall)
        for k in range(before, len(leaves)):
            leaves[k] += len(lines)
        lines += inner
    return lines


def _chosen(tree: Tree, args: dict[str, object]) -> tuple[int, int]:
    """(the returned URL, the number of its return in the order of _body's leaves)."""
    number = 0
    while not isinstance(tree, int):
        test, then, other = tree
        if _holds(test, args):
            tree = then
        else:
            number += _count(then)
            tree = other
    return tree, number


def _count(tree: Tree) -> int:
    return 1 if isinstance(tree, int) else _count(tree[1]) + _count(tree[2])


def _helpers(tree: Tree, shape: str, fall: bool) -> tuple[str, str, list[int]]:
    """(helpers.py, the call in app.py, each return's line in helpers.py)."""
    leaves: list[int] = []
    if shape == "function":
        head = ["def pick(a, b=False, mode='x'):"]
        body = _body(tree, "", "    ", leaves, fall)
        tail: list[str] = []
        call = "pick({a}, mode={mode!r}, b={b})"
    elif shape == "wrapper":  # the arguments pass through a second helper, defaults too
        head = ["def pick(a, b, mode):"]
        body = _body(tree, "", "    ", leaves, fall)
        tail = ["", "def url_for(a, b=False, mode='x'):", "    return pick(a, b, mode)"]
        call = "url_for({a}, {b}, mode={mode!r})"
    else:  # krish-96's dispatcher: a method reads the flags its constructor stored
        head = [
            "class Configs:",
            "    def __init__(self, a, b=False, mode='x'):",
            "        self.a = a",
            "        self.b = b",
            "        self.mode = mode",
            "",
            "    def get(self):",
        ]
        body = _body(tree, "self.", "        ", leaves, fall)
        tail = []
        call = "Configs({a}, b={b}, mode={mode!r}).get()"
    lines = [len(head) + offset + 1 for offset in leaves]
    return "\n".join([*head, *body, *tail]) + "\n", call, lines


def _site_rules(root: Path, helpers: str, call: str) -> dict[tuple[str, int], set[str]]:
    (root / "helpers.py").write_text(helpers, encoding="utf-8")
    (root / "app.py").write_text(
        f"import psycopg\nfrom helpers import *\n\npsycopg.connect({call})\n", encoding="utf-8"
    )
    result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    found: dict[tuple[str, int], set[str]] = {}
    for item in result.report.findings:
        if item.rule_id in TRANSPORT and item.path and item.line:
            found.setdefault((item.path, item.line), set()).add(item.rule_id)
    return found


@_SETTINGS
@given(
    tree=_trees(3),
    shape=st.sampled_from(["function", "wrapper", "method"]),
    a=st.booleans(),
    b=st.booleans(),
    mode=st.sampled_from(["x", "y", "z"]),
    fall=st.booleans(),
)
def test_the_helper_return_a_call_reaches_is_the_one_judged_where_it_is_written(
    tmp_path: Path, tree: Tree, shape: str, a: bool, b: bool, mode: str, fall: bool
) -> None:
    """Every test decided by the call's arguments: exactly the return Python reaches is
    judged, and its finding is reported at that return in helpers.py (the call
    related), not at the call; a return the arguments exclude adds nothing."""
    helpers, call, lines = _helpers(tree, shape, fall)
    url, number = _chosen(tree, {"a": a, "b": b, "mode": mode})
    expected = _rules(tmp_path, f"import psycopg\npsycopg.connect({_RETURNED[url]!r})\n", "one.py")
    root = Path(tempfile.mkdtemp(dir=tmp_path))  # one project per example
    found = _site_rules(root, helpers, call.format(a=a, b=b, mode=mode))
    wanted = {("helpers.py", lines[number]): expected} if expected else {}
    assert found == wanted, (helpers, call.format(a=a, b=b, mode=mode), _messages(root))


def _messages(root: Path) -> list[str]:
    result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    return [f"{f.rule_id} {f.path}:{f.line} {f.message}" for f in result.report.findings]


def test_a_call_graph_that_fans_out_is_followed_within_its_bound(tmp_path: Path) -> None:
    """Eight returns per helper, each a call of the next, six deep: 8**6 paths. The
    search in context stops at its bound (then every return counts, as the resolver
    reads them, memoised), and the weak URL at the bottom is still found."""
    lines = ["import os", "import psycopg", "", "def f6(flag):"]
    lines.append("    return 'postgresql://app@pg.internal/app?sslmode=allow'")
    for level in range(5, -1, -1):
        lines.append(f"def f{level}(flag):")
        for k in range(7):
            lines.append(f"    if flag == {k}:\n        return f{level + 1}(flag)")
        lines.append(f"    return f{level + 1}(flag)")
    lines.append("psycopg.connect(f0(os.environ['REGION']))")
    assert _rules(tmp_path, "\n".join(lines) + "\n") == {"VF102"}
