"""YAML files: docker compose, Kubernetes manifests, Helm values and charts.

Documents are composed, not constructed (PyYAML on libyaml, safe): the node tree
keeps the line and column of every scalar, and unknown tags (!Ref, !vault)
need no constructor. The format-specific shapes (compose environment lists,
Kubernetes env name/value pairs, command/args) live in compose.py and k8s.py;
this module loads and walks (yamlfile.py registers it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from verifyfull.findings import Finding
from verifyfull.scan.api import ScanContext, SourceFile
from verifyfull.scan.config import compose, composefiles, composejudge, gha_matrix, helm, k8s
from verifyfull.scan.config.composefiles import ServiceFacts
from verifyfull.scan.config.model import Command, ConfigParseError, Setting, worth_parsing
from verifyfull.scan.config.yamlnodes import (
    compose_documents,
    effective_items,
    mapping_items,
    scalar,
    scalar_setting,
)
from verifyfull.scan.shell.sourced import sourced_findings, sourced_only

_MAX_DEPTH = 200


@dataclass
class Collected:
    settings: list[Setting] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)
    # compose documents: each service's facts from every file compose merges into it
    services: dict[str, ServiceFacts] = field(default_factory=dict)
    # the program hint of a compose service node that names no image itself
    images: dict[int, str] = field(default_factory=dict)
    compose: list[Node] = field(default_factory=list)
    # the compose service whose command each command is: it runs in that environment
    command_services: dict[Command, str] = field(default_factory=dict)
    # the compose service whose healthcheck each command is: run in its container (its
    # environment, its loopback), not the service's own command
    healthcheck_services: dict[Command, str] = field(default_factory=dict)


def walk(src: SourceFile, node: Node, context: tuple[str, ...], out: Collected, depth: int) -> None:
    """Collect settings and commands from one node and everything below it (merge keys
    applied: a mapping's keys are its effective keys, yamlnodes.effective_items)."""
    if depth > _MAX_DEPTH:
        raise ConfigParseError("YAML nested too deeply to read", "flatten it")
    if isinstance(node, MappingNode):
        context = _postgres_auth(node, context)
        context = _generator(node, context)
        script = compose.scripts_of(src, node, out.images.get(id(node), ""))
        commands = list(script.commands)
        out.settings.extend(script.settings)
        if context and context[-1] == "healthcheck":
            commands = [*commands, *compose.healthcheck_commands(src, node)]
        out.commands.extend(commands)
        if len(context) == 2 and context[0] == "services":
            out.command_services.update((command, context[1]) for command in commands)
        elif len(context) == 3 and context[0] == "services" and context[-1] == "healthcheck":
            out.healthcheck_services.update((command, context[1]) for command in commands)
        pair = k8s.env_pair(node, context)
        if pair is not None:
            out.settings.append(pair)  # {name: X, value: Y} is the setting X=Y, nothing else
            return
        for key, value in effective_items(node):
            if key in compose.COMMAND_KEYS:
                continue
            if isinstance(value, ScalarNode):
                out.settings.append(scalar_setting(key, value, context))
            else:
                walk(src, value, (*context, key), out, depth + 1)
    elif isinstance(node, SequenceNode):
        for item in node.value:
            if isinstance(item, ScalarNode) and context and _key_value_list(context):
                setting = compose.environment_item(item, context)
                if setting is not None:
                    out.settings.append(setting)
            elif not isinstance(item, ScalarNode):
                walk(src, item, context, out, depth + 1)


# Keys only the PostgreSQL charts' `auth:` mapping has (bitnami postgresql and
# postgresql-ha: `auth.postgresPassword`, `auth.enablePostgresUser`). Their siblings
# `password` / `replicationPassword` are then the database's, though `auth.password`
# names no database (bitnami mysql and redis have an `auth.password` too).
_POSTGRES_AUTH_KEYS = frozenset({"postgresPassword", "enablePostgresUser"})


def _postgres_auth(node: MappingNode, context: tuple[str, ...]) -> tuple[str, ...]:
    """A Helm values `auth:` mapping of a PostgreSQL chart: its keys' context gains
    `postgresql` (as `global.postgresql.auth` has it written), so the judge reads
    `auth.password: dbpass` as a database password."""
    if not context or context[-1] != "auth" or any("postgres" in c.lower() for c in context):
        return context
    if not any(key in _POSTGRES_AUTH_KEYS for key, _ in mapping_items(node)):
        return context
    return (*context[:-1], "postgresql", context[-1])


# kustomize generators: `secretGenerator: [{name: db-secret, literals: [KEY=VALUE]}]`
# writes each literal plain (kustomize base64-encodes it into the Secret it makes).
_GENERATORS = frozenset({"secretGenerator", "configMapGenerator"})


def _generator(node: MappingNode, context: tuple[str, ...]) -> tuple[str, ...]:
    """A kustomize generator entry's context gains its `name:` (`db-secret` gives its
    literals a database context, as a Secret's name does)."""
    if not context or context[-1] not in _GENERATORS:
        return context
    name = scalar(dict(mapping_items(node)).get("name"))
    return (*context, name) if name else context


def _key_value_list(context: tuple[str, ...]) -> bool:
    """A list of `KEY=VALUE` strings: compose `environment:`, a kustomize generator's
    `literals:`."""
    if context[-1] == "environment":
        return True
    return context[-1] == "literals" and any(part in _GENERATORS for part in context[:-1])


def document_context(document: Node) -> tuple[str, ...]:
    """A Kubernetes object's kind and name, so a Secret named `postgres-credentials`
    gives its `password` key a database context."""
    if not isinstance(document, MappingNode):
        return ()
    items = dict(mapping_items(document))
    kind = scalar(items.get("kind"))
    metadata = items.get("metadata")
    name = None
    if isinstance(metadata, MappingNode):
        name = scalar(dict(mapping_items(metadata)).get("name"))
    return tuple(part for part in (kind, name) if part) if kind else ()


def collect(src: SourceFile) -> Collected:
    out = Collected()
    for document in compose_documents(src.text):
        if composefiles.is_compose(document):
            out.compose.append(document)
            facts = composefiles.file_services(src.path, document)
            out.services.update(facts)
            for name, node in composefiles.services_of(document).items():
                if name in facts:
                    out.images[id(node)] = facts[name].image
        before = len(out.settings)
        walk(src, document, document_context(document), out, 0)
        matrices = gha_matrix.matrix_values(document)
        if matrices:  # a workflow's ${{ matrix.NAME }}: the value its job's matrix gives
            out.settings[before:] = gha_matrix.substituted(src, out.settings[before:], matrices)
    # An anchor met through several aliases gives the same setting (same place, same
    # enclosing names) each time: judged once, reported once.
    out.settings = list(dict.fromkeys(out.settings))
    out.commands = list(dict.fromkeys(out.commands))
    return out


def _merged_with_another_file(src: SourceFile) -> bool:
    """A compose file that another file completes (its base, the override compose
    applies to it, an `extends:` source): `command: start --insecure` is a cockroach
    node only with the image written there, so the text markers cannot skip it."""
    return (
        "extends" in src.text
        or composefiles.base_file(src.path) is not None
        or composefiles.auto_override(src.path) is not None
    )


def check_yaml(src: SourceFile, ctx: ScanContext) -> Iterable[Finding]:
    if not worth_parsing(src.text) and not _merged_with_another_file(src):
        # CI `run:`/`script:` or `command:` text sourcing a file (`. ./deploy/vars`),
        # found from the file's directory, then the root a CI job runs in (sourced.py).
        return sourced_only(src, ctx, lambda: collect(src).commands)
    try:
        collected = collect(src)
    except ConfigParseError:
        if "{{" not in src.text:
            raise
        settings, commands = helm.template_lines(src)
        collected = Collected(settings, commands)
    found = _once(
        composejudge.judge_collected(
            src,
            collected.settings,
            collected.commands,
            collected.services,
            collected.compose,
            ctx,
            collected.command_services,
            collected.healthcheck_services,
        )
    )
    found = helm.noted(found) if "{{" in src.text else found
    return [*found, *sourced_findings(src, collected.commands, ctx)]


def _once(found: list[Finding]) -> list[Finding]:
    """One finding per place and rule: a merge key's anchor is walked once for every
    mapping that merges it (with that mapping's enclosing names)."""
    seen: set[tuple[str | None, int | None, int | None, str]] = set()
    out = []
    for item in found:
        key = (item.path, item.line, item.column, item.rule_id)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out
