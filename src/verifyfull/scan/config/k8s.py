"""Kubernetes shapes: container `env:` entries `{name: X, value: Y}`.

Commands (`command:` + `args:`) are read by compose.commands_of with the
container's `image:` as hint; `valueFrom:` entries refer to a Secret and are
never a literal value.
"""

from __future__ import annotations

from yaml.nodes import MappingNode, ScalarNode

from verifyfull.scan.config.model import Setting
from verifyfull.scan.config.yamlnodes import mapping_items, scalar, scalar_setting


def env_pair(node: MappingNode, context: tuple[str, ...]) -> Setting | None:
    items = dict(mapping_items(node))
    name = scalar(items.get("name"))
    value = items.get("value")
    if name is None or not isinstance(value, ScalarNode) or set(items) - {"name", "value"}:
        return None
    return scalar_setting(name, value, context)
