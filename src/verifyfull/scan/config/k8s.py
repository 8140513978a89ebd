"""Kubernetes shapes in YAML: container `env:` entries `{name: X, value: Y}` and
their kin (Render `{key, value}`, Beanstalk `{option_name, value}`: entries.py).

Commands (`command:` + `args:`) are read by compose.scripts_of with the
container's `image:` as hint; `valueFrom:` / `fromDatabase:` entries refer to a
secret or a managed database and are never a literal value.
"""

from __future__ import annotations

from yaml.nodes import MappingNode, Node, ScalarNode

from verifyfull.scan.config.entries import entry_keys
from verifyfull.scan.config.model import Setting
from verifyfull.scan.config.yamlnodes import mapping_items, scalar, scalar_setting

# Entries whose value is held elsewhere (a Secret, a ConfigMap, a managed database).
_REFERRED = ("valueFrom", "fromDatabase", "fromService", "fromGroup")


def env_pair(node: MappingNode, context: tuple[str, ...]) -> Setting | None:
    items = dict(mapping_items(node))
    keys = entry_keys(items)
    if keys is None:
        return _referred(node, items, context)
    name = scalar(items.get(keys[0]))
    value = items.get(keys[1])
    if name is None or not isinstance(value, ScalarNode):
        return None
    return scalar_setting(name, value, context)


def _referred(
    node: MappingNode, items: dict[str, Node], context: tuple[str, ...]
) -> Setting | None:
    """`{name: DB_HOST, valueFrom: {...}}`: no literal, but the variable is set; the
    reference `${valueFrom}` says so (a connection written as components,
    components.py; a reference is never a literal password)."""
    name = scalar(items.get("name")) or scalar(items.get("key"))
    source = next((k for k in _REFERRED if k in items), None)
    if name is None or source is None or set(items) - {"name", "key", source}:
        return None
    key = next(k for k, _ in node.value if isinstance(k, ScalarNode) and k.value == source)
    mark = key.start_mark
    return Setting(name, "${" + source + "}", mark.line + 1, mark.column + 1, context)
