"""Bicep (`*.bicep`, `*.bicepparam`): `param`/`var` strings and the `{ name: 'X',
value: 'Y' }` env arrays of container apps and app settings (bracetext.py).
ARM templates (azuredeploy.json) are JSON: jsonfile.py reads them."""

from __future__ import annotations

from collections.abc import Iterable

from verifyfull.findings import Finding
from verifyfull.scan.api import ScanContext, SourceFile, file_check
from verifyfull.scan.config.bracetext import BICEP, read_settings
from verifyfull.scan.config.judge import judge_settings
from verifyfull.scan.config.model import worth_parsing


@file_check(suffixes=(".bicep", ".bicepparam"))
def check_bicep(src: SourceFile, ctx: ScanContext) -> Iterable[Finding]:
    if not worth_parsing(src.text):
        return []
    return judge_settings(src, read_settings(src.text, BICEP), ctx.policy)
