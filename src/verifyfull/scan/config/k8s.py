"""Kubernetes shapes in YAML: container `env:` entries `{name: X, value: Y}` and
their kin (Render `{key, value}`, Beanstalk `{option_name, value}`: entries.py).

Commands (`command:` + `args:`) are read by compose.commands_of with the
container's `image:` as hint; `valueFrom:` / `fromDatabase:` entries refer to a
secret or a managed database and are never a literal value.
"""

from __future__ import annotations

from yaml.nodes import MappingNode, ScalarNode

from verifyfull.scan.config.entries import entry_keys
from verifyfull.scan.config.model import Setting
from verifyfull.scan.config.yamlnodes import mapping_items, scalar, scalar_setting


def env_pair(node: MappingNode, context: tuple[str, ...]) -> Setting | None:
    items = dict(mapping_items(node))
    keys = entry_keys(items)
    if keys is None:
        return None
    name = scalar(items.get(keys[0]))
    value = items.get(keys[1])
    if name is None or not isinstance(value, ScalarNode):
        return None
    return scalar_setting(name, value, context)
