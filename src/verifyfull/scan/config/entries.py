"""Name/value entries: one setting written as a small mapping (no YAML import here:
the JSON and TOML readers use it too, and PyYAML is imported on the first YAML file).

Many deployment formats write `X=Y` as a mapping with a name key and a value
key: Kubernetes and ECS `{name: X, value: Y}`, Render `envVars` `{key: X,
value: Y}`, Bicep / ARM `{ name: 'X', value: 'Y' }`, Elastic Beanstalk
`option_settings` `{namespace: …, option_name: X, value: Y}` (CloudFormation's
`OptionName`/`Value`). Every reader (YAML, JSON, the HCL/Bicep line reader)
asks `entry_keys`.
"""

from __future__ import annotations

from collections.abc import Collection

NAME_KEYS = ("name", "key", "option_name", "Name", "Key", "OptionName")
VALUE_KEYS = ("value", "Value")
# Keys an entry may carry besides its name and value (Render's `sync`, Beanstalk's
# `namespace`): any other key makes the mapping something else (a container, a
# resource), whose `name` is not a variable.
_ENTRY_EXTRAS = frozenset(
    {"namespace", "Namespace", "sync", "previewValue", "description", "resource_name"}
)


def entry_keys(keys: Collection[str]) -> tuple[str, str] | None:
    """(name key, value key) when mapping keys form a name/value entry."""
    name = next((k for k in NAME_KEYS if k in keys), None)
    value = next((k for k in VALUE_KEYS if k in keys), None)
    if name is None or value is None:
        return None
    if set(keys) - {name, value} - _ENTRY_EXTRAS:
        return None
    return name, value
