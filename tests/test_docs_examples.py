"""Every code example shown to users compiles and its imports resolve.

Examples live in three places: the rule catalogue (`verifyfull rules ID`, the
SARIF help and the HTML report all print the same text), README.md and the
docs/*.md pages. A newcomer copies them first, so an import that does not
exist (the kind of thing that broke the seed's snippets) fails here.

Snippets are fragments (a `ctx` defined elsewhere, an `await` at top level),
so they are compiled, not run; every `import`/`from ... import` statement in
them is executed for real, and each imported name must exist.
"""

from __future__ import annotations

import ast
import importlib
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from verifyfull import rules

ROOT = Path(__file__).resolve().parent.parent
_FENCE = re.compile(r"^```python[^\n]*\n(?P<body>.*?)^```", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Snippet:
    where: str
    code: str


def _markdown_snippets() -> list[Snippet]:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    found = []
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for match in _FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append(Snippet(f"{page.relative_to(ROOT)}:{line}", match.group("body")))
    return found


def _rule_snippets() -> list[Snippet]:
    found = []
    for rule in rules.all_rules():
        if rule.example_language != "python":
            continue  # pg_hba lines, compose keys, shell commands: nothing to compile
        found.append(Snippet(f"{rule.id} example", rule.example))
        found.append(Snippet(f"{rule.id} example_fixed", rule.example_fixed))
    return found


SNIPPETS = _markdown_snippets() + _rule_snippets()


def _parse(snippet: Snippet) -> ast.Module:
    tree = compile(
        snippet.code, snippet.where, "exec", ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    )
    assert isinstance(tree, ast.Module)
    return tree


def _imports(tree: ast.Module) -> list[tuple[str, list[str]]]:
    """(module, names) for every absolute import in the snippet, nested ones included."""
    result: list[tuple[str, list[str]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            result.extend((alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            result.append((node.module, [alias.name for alias in node.names]))
    return result


def test_examples_were_found() -> None:
    # The extraction itself must see the examples, or every test below passes vacuously.
    assert len(_markdown_snippets()) >= 5
    assert any("verifyfull" in s.code for s in _markdown_snippets())
    python_rules = [r for r in rules.all_rules() if r.example_language == "python"]
    assert len(python_rules) >= 10
    assert len(_rule_snippets()) == 2 * len(python_rules)


@pytest.mark.parametrize("snippet", SNIPPETS, ids=[s.where for s in SNIPPETS])
def test_example_compiles_and_its_imports_exist(snippet: Snippet) -> None:
    try:
        tree = _parse(snippet)
    except SyntaxError as exc:
        pytest.fail(f"{snippet.where}: example does not compile: {exc}")
    for module_name, names in _imports(tree):
        module = importlib.import_module(module_name)
        for name in names:
            if name == "*":
                continue
            if hasattr(module, name):
                continue
            # `from package import submodule` is an import of the submodule.
            importlib.import_module(f"{module_name}.{name}")


def test_broken_import_is_caught() -> None:
    # The check above must be able to fail: a name the package does not export.
    snippet = Snippet("probe", "from verifyfull.guard import create_async_engine\n")
    with pytest.raises(ModuleNotFoundError):
        test_example_compiles_and_its_imports_exist(snippet)
