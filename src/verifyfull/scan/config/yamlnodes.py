"""Loading YAML into node trees that keep positions, and small node helpers.

PyYAML's composer on libyaml (CSafeLoader): the node tree keeps every line
and column, composing constructs nothing (unknown tags need no constructor),
and it is an order of magnitude faster than a pure-Python parser (a 300 KB
file: 0.8 s against 10 s for ruamel.yaml's). libyaml refuses nesting deeper
than its limit with a clean error.

Aliases make the tree a graph: a 470-byte file whose nine anchors each list the
previous one eight times stands for 8**9 nodes, and walking it took minutes. The
expanded size is counted first, each node once (by identity), and a file that
expands past its own node count plus MAX_EXPANSION is refused before any walk.
"""

from __future__ import annotations

from collections.abc import Iterator

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from verifyfull.scan.config.helm import untemplate
from verifyfull.scan.config.model import ConfigParseError, Setting

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Nodes that aliases may add to a file's own (a compose file's few `<<: *defaults`
# add a few hundred, a CI file's job templates a few thousand).
MAX_EXPANSION = 20_000


def compose_documents(text: str) -> list[Node]:
    """Every document's root node; ConfigParseError (one line) when the YAML is broken
    or its aliases expand too far."""
    try:
        documents = [doc for doc in yaml.compose_all(untemplate(text), Loader=_LOADER) if doc]
    except RecursionError:
        raise ConfigParseError("YAML nested too deeply to read", "flatten it") from None
    except Exception as exc:  # YAMLError, and ValueError/TypeError for odd input
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = str(getattr(exc, "problem", None) or type(exc).__name__)
        raise ConfigParseError(
            f"YAML does not parse{where}: {problem}",
            "fix the syntax, or exclude the file in [tool.verifyfull]",
        ) from None
    limit = _distinct_nodes(documents) + MAX_EXPANSION
    if _expanded_size(documents, limit) > limit:
        raise ConfigParseError(
            f"YAML expands past {limit:,} nodes (alias bomb?)",
            "use fewer nested aliases, or exclude the file in [tool.verifyfull]",
        )
    return documents


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [child for pair in node.value for child in pair]
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []


def _distinct_nodes(documents: list[Node]) -> int:
    seen: set[int] = set()
    stack = list(documents)
    while stack:
        node = stack.pop()
        if id(node) not in seen:
            seen.add(id(node))
            stack.extend(_children(node))
    return len(seen)


def _expanded_size(documents: list[Node], limit: int) -> int:
    """How many nodes a walk that follows every alias visits, counting each distinct
    node once (post-order, no recursion: nesting may be a thousand deep). Past
    `limit`, or for an alias to a node that holds it (a cycle), limit + 1."""
    size: dict[int, int] = {}
    on_path: set[int] = set()
    total = 0
    for document in documents:
        stack: list[tuple[Node, bool]] = [(document, False)]
        while stack:
            node, done = stack.pop()
            key = id(node)
            if done:
                on_path.discard(key)
                size[key] = min(limit + 1, 1 + sum(size[id(c)] for c in _children(node)))
                continue
            if key in size:
                continue
            if key in on_path:
                return limit + 1
            on_path.add(key)
            stack.append((node, True))
            stack.extend((child, False) for child in _children(node) if id(child) not in size)
        total += size[id(document)]
        if total > limit:
            return limit + 1
    return total


def scalar_column(node: ScalarNode) -> int:
    """1-based column of a scalar's first character (after an opening quote)."""
    quoted = node.style in ("'", '"')
    return int(node.start_mark.column) + 1 + (1 if quoted else 0)


def scalar_setting(key: str, node: ScalarNode, context: tuple[str, ...]) -> Setting:
    return Setting(key, str(node.value), node.start_mark.line + 1, scalar_column(node), context)


def mapping_items(node: MappingNode) -> Iterator[tuple[str, Node]]:
    for key_node, value_node in node.value:
        if isinstance(key_node, ScalarNode):
            yield str(key_node.value), value_node


def scalar(node: Node | None) -> str | None:
    return str(node.value) if isinstance(node, ScalarNode) else None


MERGE_KEY = "<<"


def effective_items(node: MappingNode) -> list[tuple[str, Node]]:
    """The mapping's keys as YAML merge keys make them (`<<: *defaults`, `<<: [*a, *b]`),
    which is what compose and every YAML constructor see: the mapping's own keys win,
    then each merged mapping in order (the first that has a key wins), merges within
    merged mappings included. The walk is bounded by the alias budget that
    compose_documents already enforced (every merged node was counted there)."""
    own: list[tuple[str, Node]] = []
    merged: list[MappingNode] = []
    for key, value in mapping_items(node):
        if key != MERGE_KEY:
            own.append((key, value))
        elif isinstance(value, MappingNode):
            merged.append(value)
        elif isinstance(value, SequenceNode):
            merged.extend(item for item in value.value if isinstance(item, MappingNode))
    if not merged:
        return own
    seen = {key for key, _ in own}
    out = list(own)
    pending = list(reversed(merged))
    visited: set[int] = {id(node)}
    while pending:
        source = pending.pop()
        if id(source) in visited:  # an alias cycle or the same anchor merged twice
            continue
        visited.add(id(source))
        nested: list[MappingNode] = []
        for key, value in mapping_items(source):
            if key == MERGE_KEY:
                if isinstance(value, MappingNode):
                    nested.append(value)
                elif isinstance(value, SequenceNode):
                    nested.extend(i for i in value.value if isinstance(i, MappingNode))
            elif key not in seen:
                seen.add(key)
                out.append((key, value))
        pending.extend(reversed(nested))
    return out
