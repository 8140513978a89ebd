"""Elastic Beanstalk `.ebextensions/*.config` files: YAML (or JSON, which YAML reads).

`option_settings` is read as YAML is (yamlwalk.py): its mapping form
(`aws:elasticbeanstalk:application:environment: {DATABASE_URL: …}`) gives
plain settings, its list form `{namespace, option_name, value}` name/value
entries (entries.py), `commands:` / `container_commands:` commands. A `*.config`
file anywhere else is another format's and is left alone.
"""

from __future__ import annotations

from collections.abc import Iterable

from verifyfull.findings import Finding
from verifyfull.scan.api import ScanContext, SourceFile, file_check


@file_check(globs=("*.config",))
def check_ebextensions(src: SourceFile, ctx: ScanContext) -> Iterable[Finding]:
    if src.path.parent.name != ".ebextensions":
        return []
    from verifyfull.scan.config import yamlwalk  # PyYAML on the first YAML file only

    return yamlwalk.check_yaml(src, ctx)
