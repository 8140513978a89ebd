"""Values of the official CockroachDB Helm chart (cockroachdb/helm-charts), whose
templates turn `tls.enabled: false` into `cockroach start --insecure` on every node,
and pass `statefulset.args` to `cockroach start` as they are (held-out-s14b,
vlab-research/fly: an umbrella chart's `cockroachdb:` values and a values file handed
to `helm upgrade --install db cockroachdb/cockroachdb -f …`).

A values file is the chart's when its settings have the chart's shape: a top-level
`statefulset` with `conf` keys that are `cockroach start` flags (`cache`,
`max-sql-memory`, `single-node`, `join`, …) or an image repository naming cockroach;
or an umbrella chart's `cockroachdb:` block (the subchart's values). The chart's own
default for `tls.enabled` changed between chart versions, so only a written false is
judged: a values file that does not write it is left to the chart.
"""

from __future__ import annotations

from collections.abc import Sequence

from verifyfull.findings import Finding, finding
from verifyfull.scan.api import SourceFile
from verifyfull.scan.config.model import Command, Setting

_FALSE = frozenset({"false", "no", "off", "0", "n", "f"})
# `conf:` keys of the chart that are `cockroach start` flags (values.yaml, conf section)
_START_FLAGS = frozenset(
    {"cache", "max-sql-memory", "single-node", "join", "cluster-name", "locality", "attrs"}
    | {"max-disk-temp-storage", "http-port", "port", "logtostderr", "store"}
)
_SUBCHART = "cockroachdb"
_FIX = (
    "Set tls.enabled: true in the chart's values (its self-signer or cert-manager issues "
    "the node and client certificates), and drop --insecure from statefulset.args."
)


def chart_values_findings(
    src: SourceFile, settings: Sequence[Setting], commands: Sequence[Command]
) -> list[Finding]:
    """VF201 for the chart's `tls.enabled` written false and `--insecure` in its
    `statefulset.args`, in every scope of the file that is the chart's values."""
    found: list[Finding] = []
    for prefix in _chart_scopes(settings):
        scoped = [s for s in settings if s.context[: len(prefix)] == prefix]
        lines = [s.line for s in scoped]
        first, last = (min(lines), max(lines)) if prefix and lines else (0, 10**9)
        insecure = [
            finding(
                "VF201",
                "the CockroachDB Helm chart passes statefulset.args to cockroach start: "
                "--insecure runs every node without TLS and authentication",
                evidence="statefulset.args: --insecure",
                fix=_FIX,
                path=src.relpath,
                line=word.line,
                column=word.column,
            )
            for command in commands
            for word in command.words
            if word.text == "--insecure" and first <= word.line <= last + 1
        ]
        # One verdict per node configuration: --insecure in the args already says it;
        # tls.enabled false is the verdict when nothing else does (the final state).
        found.extend(insecure or _tls_disabled(src, scoped, prefix))
    return found


def _tls_disabled(
    src: SourceFile, scoped: Sequence[Setting], prefix: tuple[str, ...]
) -> list[Finding]:
    return [
        finding(
            "VF201",
            "the CockroachDB Helm chart starts every node with --insecure when tls.enabled "
            "is false: no TLS and no authentication",
            evidence=f"tls.enabled: {setting.value.strip()}",
            fix=_FIX,
            path=src.relpath,
            line=setting.line,
            column=setting.column,
        )
        for setting in scoped
        if setting.key == "enabled"
        and setting.context == (*prefix, "tls")
        and setting.value.strip().strip("'\"").lower() in _FALSE
    ]


def _chart_scopes(settings: Sequence[Setting]) -> list[tuple[str, ...]]:
    """The key paths of the file that hold the chart's values: () for the whole file,
    ("cockroachdb",) for an umbrella chart's subchart block."""
    scopes: list[tuple[str, ...]] = []
    for prefix in ((), (_SUBCHART,)):
        depth = len(prefix)
        inside = [s for s in settings if s.context[:depth] == prefix and len(s.context) > depth]
        tops = {s.context[depth] for s in inside}
        flags = any(s.context[depth:] == ("conf",) and s.key in _START_FLAGS for s in inside)
        image = any(
            s.context[depth:] == ("image",) and s.key == "repository" and "cockroach" in s.value
            for s in inside
        )
        if "statefulset" in tops and (flags or image):
            scopes.append(prefix)
    return scopes
