"""The YAML check's registration: compose, Kubernetes, Helm and CI files (yamlwalk.py).

PyYAML and the format readers are imported on the first YAML file, not when the
scanner starts: most scans of a Python tree meet none, and the import was a tenth
of `verifyfull scan`'s start-up.
"""

from __future__ import annotations

from collections.abc import Iterable

from verifyfull.findings import Finding
from verifyfull.scan.api import ScanContext, SourceFile, file_check


@file_check(suffixes=(".yaml", ".yml"))
def check_yaml(src: SourceFile, ctx: ScanContext) -> Iterable[Finding]:
    from verifyfull.scan.config import yamlwalk

    return yamlwalk.check_yaml(src, ctx)
