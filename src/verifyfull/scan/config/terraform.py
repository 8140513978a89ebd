"""Terraform (`*.tf`, `*.tfvars`): string values, `environment { variables = {…} }`,
ECS `{ name = …, value = … }` entries, `variable` defaults (bracetext.py reads them).
A connection component naming the database kind by a variable (`DB_ENGINE =
"${var.db_engine}"`) holds the value the tree gives that variable (tfvars.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from verifyfull.findings import Finding
from verifyfull.scan.api import ScanContext, SourceFile, file_check
from verifyfull.scan.config import components, tfvars
from verifyfull.scan.config.bracetext import HCL, read_settings
from verifyfull.scan.config.judge import judge_settings
from verifyfull.scan.config.model import Setting, worth_parsing
from verifyfull.scan.project_vars import root_of


@file_check(suffixes=(".tf", ".tfvars", ".hcl"))
def check_terraform(src: SourceFile, ctx: ScanContext) -> Iterable[Finding]:
    if not worth_parsing(src.text):
        return []
    settings = [_kind_given(src, s) for s in read_settings(src.text, HCL)]
    return judge_settings(src, settings, ctx.policy)


def _kind_given(src: SourceFile, setting: Setting) -> Setting:
    """A component's backend/engine given as `${var.x}`: the literal the tree passes
    (the module call's argument, its caller's variable default), when there is one."""
    reference = tfvars.VARIABLE.match(setting.value.strip())
    if reference is None or components.component_role(setting.key) != "backend":
        return setting
    value = tfvars.value_of(root_of(src), src.path.parent, reference.group(1))
    return setting if value is None else dataclasses.replace(setting, value=value)
