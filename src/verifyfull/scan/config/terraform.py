"""Terraform (`*.tf`, `*.tfvars`): string values, `environment { variables = {…} }`,
ECS `{ name = …, value = … }` entries, `variable` defaults (bracetext.py reads them)."""

from __future__ import annotations

from collections.abc import Iterable

from verifyfull.findings import Finding
from verifyfull.scan.api import ScanContext, SourceFile, file_check
from verifyfull.scan.config.bracetext import HCL, read_settings
from verifyfull.scan.config.judge import judge_settings
from verifyfull.scan.config.model import worth_parsing


@file_check(suffixes=(".tf", ".tfvars", ".hcl"))
def check_terraform(src: SourceFile, ctx: ScanContext) -> Iterable[Finding]:
    if not worth_parsing(src.text):
        return []
    return judge_settings(src, read_settings(src.text, HCL), ctx.policy)
