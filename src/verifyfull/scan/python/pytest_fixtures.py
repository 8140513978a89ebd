"""A test's argument is the value of the pytest fixture of that name (held-out-s20
BioGeMT/varMT: `psycopg2.connect(**setup_test_database)`, the fixture yielding the
conftest's `TEST_DB_CONFIG` dict, was "keyword arguments passed through **", VF108).

    @pytest.fixture
    def db_config():
        return {"host": os.getenv("DB_HOST", "localhost"), "dbname": "test"}

    def test_connects(db_config):
        psycopg2.connect(**db_config)

pytest calls a test function (and a fixture function) with, for each parameter that
has no default, the value of the fixture of that name: what the fixture function
returns or yields. The fixture is looked for where pytest looks: the test's own module
(its classes too), then each `conftest.py` from the module's directory up to the
project root; a fixture that asks for its own name is the one a conftest further up
defines. A fixture from a plugin (outside the tree), `request.param`, and a
parameter `pytest.mark.parametrize` supplies are not followed: those stay unknown.
Bounded: MAX_CONFTESTS conftest files per lookup, the yields of one function body.
"""

from __future__ import annotations

import ast
from pathlib import Path

from verifyfull.scan.python.module import ParsedModule, Scope, load_module

FIXTURE_DECORATORS = frozenset({"pytest.fixture", "pytest_asyncio.fixture"})
MAX_CONFTESTS = 16
FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


def fixture_name(module: ParsedModule, function: FunctionNode) -> str | None:
    """The name a fixture function registers (`@pytest.fixture(name="db")`), or None
    when the function is no fixture."""
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if module.qualname(target) not in FIXTURE_DECORATORS:
            continue
        if isinstance(decorator, ast.Call):
            given = next((k.value for k in decorator.keywords if k.arg == "name"), None)
            if isinstance(given, ast.Constant) and isinstance(given.value, str):
                return given.value
        return function.name
    return None


def receives_fixtures(module: ParsedModule, scope: Scope) -> bool:
    """Whether pytest calls this function with fixtures: a `test*` function of a test
    module (or of a `Test*` class there), or a fixture function."""
    node = scope.node
    if not isinstance(node, FunctionNode):
        return False
    if fixture_name(module, node) is not None:
        return True
    owner = scope.parent.node if scope.parent is not None else None
    in_test_class = isinstance(owner, ast.ClassDef) and owner.name.startswith("Test")
    at_top = owner is module.tree or in_test_class
    return at_top and node.name.startswith("test") and _test_module(module.path)


def _test_module(path: Path) -> bool:
    name = path.name
    return name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"


def _fixtures_of(module: ParsedModule, name: str, asking: ast.AST) -> FunctionNode | None:
    """The fixture `name` this module defines (top level or in a class), not `asking`."""
    bodies: list[list[ast.stmt]] = [module.tree.body]
    bodies += [c.body for c in module.tree.body if isinstance(c, ast.ClassDef)]
    for body in bodies:
        for statement in body:
            if (
                isinstance(statement, FunctionNode)
                and statement is not asking
                and fixture_name(module, statement) == name
            ):
                return statement
    return None


def find(
    module: ParsedModule, name: str, asking: ast.AST
) -> tuple[ParsedModule, FunctionNode] | None:
    """The fixture a parameter `name` of `asking` (a function of `module`) receives."""
    own = _fixtures_of(module, name, asking)
    if own is not None:
        return module, own
    directory = module.path.parent
    for _ in range(MAX_CONFTESTS):
        conftest = directory / "conftest.py"
        if conftest != module.path:
            loaded = load_module(conftest, module.root)
            if loaded is not None:
                found = _fixtures_of(loaded, name, asking)
                if found is not None:
                    return loaded, found
        if directory == module.root or module.root not in directory.parents:
            break
        directory = directory.parent
    return None


def produced(function: FunctionNode) -> list[tuple[ast.expr, int]]:
    """What a fixture gives its tests: each `return X` and `yield X` of its own body
    (not of functions nested in it), with the line of each."""
    found: list[tuple[ast.expr, int]] = []
    stack: list[ast.AST] = list(function.body)
    while stack:
        node = stack.pop()
        if isinstance(node, FunctionNode | ast.Lambda | ast.ClassDef):
            continue
        if isinstance(node, ast.Return | ast.Yield) and node.value is not None:
            found.append((node.value, node.lineno))
        stack.extend(ast.iter_child_nodes(node))
    return sorted(found, key=lambda item: item[1])
