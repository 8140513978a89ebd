"""GitHub Actions `${{ matrix.NAME }}`: the value a job's strategy matrix gives it.

A workflow that writes its test database's password once, in the matrix
(`strategy: matrix: database-password: [postgres]`), and uses it as
`POSTGRES_PASSWORD: ${{ matrix.database-password }}` commits that password all the same
(held-out-s18 fastid). When the matrix gives the name exactly one value, each setting
of that job that is the reference alone takes the value and its place (a finding about
it is reported where the literal is written); a reference inside a longer value (a URL)
takes the value in its text and keeps the setting's place. A name with several values
is several runs of the job: the reference stays what it is (an expression the runner
fills in), as an unknown value is.
"""

from __future__ import annotations

import re
from dataclasses import replace

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from verifyfull.scan.api import SourceFile
from verifyfull.scan.config.model import Setting
from verifyfull.scan.config.yamlnodes import mapping_items, scalar_column
from verifyfull.scan.python.names import is_password_name

_REFERENCE = re.compile(r"\$\{\{\s*matrix\.([A-Za-z0-9_-]+)\s*\}\}")


def matrix_values(document: Node) -> dict[str, dict[str, ScalarNode]]:
    """Per job of a workflow document, the matrix names that have one scalar value."""
    if not isinstance(document, MappingNode):
        return {}
    jobs = dict(mapping_items(document)).get("jobs")
    if not isinstance(jobs, MappingNode):
        return {}
    found: dict[str, dict[str, ScalarNode]] = {}
    for job, body in mapping_items(jobs):
        strategy = (
            dict(mapping_items(body)).get("strategy") if isinstance(body, MappingNode) else None
        )
        matrix = (
            dict(mapping_items(strategy)).get("matrix")
            if isinstance(strategy, MappingNode)
            else None
        )
        if not isinstance(matrix, MappingNode):
            continue
        single: dict[str, ScalarNode] = {}
        for name, value in mapping_items(matrix):
            items = value.value if isinstance(value, SequenceNode) else [value]
            if len(items) == 1 and isinstance(items[0], ScalarNode):
                single[name] = items[0]
        if single:
            found[job] = single
    return found


def substituted(
    src: SourceFile, settings: list[Setting], matrices: dict[str, dict[str, ScalarNode]]
) -> list[Setting]:
    """The settings with each single-valued `${{ matrix.NAME }}` of their job filled in.
    The YAML was read with every `${{ … }}` blanked to a same-length `$___`
    (helm.untemplate), so the expression is read back from the file at the value's place."""
    if not matrices:
        return settings
    out: list[Setting] = []
    for setting in settings:
        job = (
            setting.context[1]
            if len(setting.context) > 1 and setting.context[0] == "jobs"
            else None
        )
        values = matrices.get(job or "", {})
        written = _as_written(src, setting)
        if not values or "matrix." not in written:
            out.append(setting)
            continue
        whole = _REFERENCE.fullmatch(written.strip())
        if whole is not None and whole.group(1) in values:
            node = values[whole.group(1)]
            out.append(
                replace(
                    setting,
                    value=str(node.value),
                    line=node.start_mark.line + 1,
                    column=scalar_column(node),
                )
            )
            continue
        out.append(replace(setting, value=_filled(written, values)))
    return out


def _filled(text: str, values: dict[str, ScalarNode]) -> str:
    """text with every `${{ matrix.NAME }}` that has one value replaced by it, but a
    password's: a URL that takes it from the matrix does not write it (the matrix does,
    and is reported there, through the setting that is the reference alone)."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values or is_password_name(name):
            return match.group(0)
        return str(values[name].value)

    return _REFERENCE.sub(value, text)


def _as_written(src: SourceFile, setting: Setting) -> str:
    """The setting's value as the file spells it, when it is one line there (else the
    value as read)."""
    line = src.line_text(setting.line) if setting.line else ""
    start = setting.column - 1
    written = line[start : start + len(setting.value)]
    return (
        written
        if len(written) == len(setting.value) and "\n" not in setting.value
        else setting.value
    )
