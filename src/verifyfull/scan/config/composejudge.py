"""Judging the settings of a YAML file with what compose merges into each service.

judge.py decides what a value means; this module only chooses the value and the
environment it is judged in, as compose would run it:

- `${VAR...}` interpolation (interpolation.py): a connection string or an sslmode
  holding a variable is judged as compose would pass it with the variable unset
  (its default, or a neutral placeholder), and the finding names the variables
  that decided. A DSN whose `sslmode=` is a variable without a default is TLS
  decided at deploy (VF108, info), not a guess. Compose reads `.env` next to the
  compose file for interpolation: its values are used.
- the environment of a service (composefiles.ServiceFacts: base file, `extends:`,
  `env_file:`, its own `environment:`): the PG* variables a DSN of that service is
  read with.
- `env_file:` files: their values are judged with the service's meaning (a
  `PASSWORD` in the env file of service `db` is a database password) and reported
  in the env file, minus what the env file's own check reports anyway.
- compose secrets a service reads as its password (`POSTGRES_PASSWORD_FILE:
  /run/secrets/db-password`): the committed file is judged (compose_secrets.py).
- extension fields (`x-common: &common {...}`): compose ignores a top-level `x-` key;
  its values reach a container only through an alias. One no other part of the file
  refers to is no service's environment: its transport findings are dropped, its
  VF401 stays (a literal password is committed all the same, as an unread
  alembic.ini URL's: zorik19/bankProject's test compose files, session 12).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from verifyfull.conninfo.foreign_drivers import UrlReader
from verifyfull.findings import Finding, finding
from verifyfull.policy import Policy
from verifyfull.rules import TRANSPORT_RULES
from verifyfull.scan.api import ScanContext, SourceFile, registered_checks
from verifyfull.scan.config import components, dsn, ecosystem, engines, judge
from verifyfull.scan.config.cockroach_chart import chart_values_findings
from verifyfull.scan.config.compose_secrets import secret_file_findings
from verifyfull.scan.config.composefiles import (
    ServiceFacts,
    env_file_paths,
    read_env_file,
    read_small,
    services_of,
)
from verifyfull.scan.config.image_code import runs_project_code
from verifyfull.scan.config.model import Command, Setting
from verifyfull.scan.config.yamlnodes import effective_items
from verifyfull.scan.interpolation import Resolved, interpolate, password_is_variable

_TRANSPORT = TRANSPORT_RULES
_SSLMODE_KEYS = ("SSLMODE", "SSL_MODE")


def judge_collected(
    src: SourceFile,
    settings: Sequence[Setting],
    commands: Sequence[Command],
    services: Mapping[str, ServiceFacts],
    compose_documents: Sequence[Node],
    ctx: ScanContext,
    command_services: Mapping[Command, str] | None = None,
    healthcheck_services: Mapping[Command, str] | None = None,
) -> list[Finding]:
    """Every finding of one YAML file's settings and commands (compose-aware).

    `command_services` names the compose service of a command: a client command
    (`psql "$DATABASE_URL"`) runs in that service's environment, any other command in
    the file's; `healthcheck_services` the service whose healthcheck a command is: run
    in that container too, so a loopback host of a database server's own healthcheck
    is that server (no network; held-out-s14, fm_transaction_service)."""
    dotenv = _compose_dotenv(src.path) if compose_documents else {}
    file_env = {
        s.name: interpolate(s.value, dotenv).text
        for s in settings
        if s.name.startswith("PG") and not s.local
    }
    # In a compose file each service has its own environment: the PG* variables of
    # the file outside any service, then the service's own from every merged file.
    outside = {
        s.name: interpolate(s.value, dotenv).text
        for s in settings
        if s.name.startswith("PG") and not _service_of(s)
    }
    # One environment per service, built once (per setting it was quadratic in a
    # service of many variables).
    service_env = {
        name: {**outside, **{k: interpolate(v, dotenv).text for k, v in _pg(f.environment).items()}}
        for name, f in services.items()
    }
    found: list[Finding] = []
    contexts = _build_contexts(src, compose_documents)
    url_readers = _url_readers(src, contexts)
    for setting in settings:
        service = _service_of(setting)
        env = service_env.get(service, file_env)
        reader = url_readers.get(service) if service else url_readers.get("")
        found.extend(judge_value(src, setting, env, dotenv, ctx.policy, reader))
    # Connections written as components (components.py), per service environment.
    # A service's (or a CI job's) client commands that read the components judge them.
    # Commands grouped by service once (per service it was quadratic in services).
    service_commands: dict[str, list[Command]] = {}
    for command in commands:
        service_commands.setdefault((command_services or {}).get(command, ""), []).append(command)
    for service, own in _by_service(settings).items():
        env = service_env.get(service, file_env)
        mine = service_commands.get(service, []) if service else []
        readers = [*service_commands.get("", []), *mine]
        facts = services.get(service)
        if service and facts is not None and components.runs_the_server(facts.image, mine):
            continue  # the server's own environment (postgres image): no client connects
        consumer = contexts.get(service) if service else src.path.parent
        # A service built from the tree whose `command:`/`entrypoint:` runs the project's
        # own Python (`python publisher.py`, `uvicorn app.main:app`): its code's sites
        # are the connections, judged in Python (image_code.py, as for a Dockerfile CMD).
        own_code = bool(mine) and service in contexts
        own_code = own_code and runs_project_code(mine, contexts[service], ctx.root) is not None
        found.extend(
            components.component_findings(
                src, own, env, ctx.policy, readers, consumer, own_code=own_code
            )
        )
    for command in commands:
        service = (command_services or {}).get(command, "")
        service = service or (healthcheck_services or {}).get(command, "")
        facts = services.get(service) if service else None
        in_server = facts is not None and components.server_image(facts.image)
        env = service_env.get(service, file_env)
        found.extend(judge.judge_command(src, command, ctx.policy, env, in_server))
    for document in compose_documents:
        found.extend(_env_file_findings(src, document, services, ctx, url_readers))
        found.extend(secret_file_findings(src, document, services, ctx))
    found.extend(chart_values_findings(src, settings, commands))
    unused = [span for document in compose_documents for span in unused_extensions(document)]
    found = engines.without_foreign(found, src.relpath, settings, _images(services))
    return [f for f in found if not _in_unused(f, src, unused)]


def _images(services: Mapping[str, ServiceFacts]) -> dict[tuple[str, ...], list[str]]:
    """Each compose service's image, as compose merges it (another engine's server is
    told its own passwords: engines.py)."""
    return {("services", name): [f.image] for name, f in services.items() if f.image}


def _url_readers(src: SourceFile, contexts: Mapping[str, Path]) -> dict[str, UrlReader]:
    """The driver of another ecosystem that reads each service's connection URLs: the
    service built from such a sub-project (`build:`); "" for the file's own settings
    outside a service (the file's directory). A service from an image only runs code
    outside the tree: its URLs are read as written."""
    readers: dict[str, UrlReader] = {}
    for name, directory in [("", src.path.parent), *contexts.items()]:
        reader = ecosystem.url_reader(directory, src)
        if reader is not None:
            readers[name] = reader
    return readers


def _build_contexts(src: SourceFile, documents: Sequence[Node]) -> dict[str, Path]:
    """The directory each service is built from (`build: ./svc`, `build: {context: …}`),
    relative to the compose file: the code that reads its environment."""
    contexts: dict[str, Path] = {}
    for document in documents:
        for name, node in services_of(document).items():
            build = dict(effective_items(node)).get("build")
            if isinstance(build, MappingNode):
                build = dict(effective_items(build)).get("context") or ScalarNode("", ".")
            if isinstance(build, ScalarNode) and isinstance(build.value, str):
                contexts[name] = src.path.parent / build.value
    return contexts


def _in_unused(item: Finding, src: SourceFile, unused: Sequence[tuple[int, int]]) -> bool:
    if item.rule_id not in _TRANSPORT or item.path != src.relpath or item.line is None:
        return False
    return any(first <= item.line <= last for first, last in unused)


def unused_extensions(document: Node) -> list[tuple[int, int]]:
    """The 1-based line spans of a compose file's top-level `x-` values that no other
    part of the document refers to (no alias of the value or of any node inside it):
    compose reads an extension field only through such an alias."""
    if not isinstance(document, MappingNode):
        return []
    extensions: list[tuple[Node, set[int]]] = []
    elsewhere: list[Node] = []
    for key, value in document.value:
        if isinstance(key, ScalarNode) and str(key.value).startswith("x-"):
            extensions.append((value, _node_ids([value])))
        else:
            elsewhere.append(value)
    spans = []
    for index, (value, ids) in enumerate(extensions):
        others = [*elsewhere, *(v for i, (v, _) in enumerate(extensions) if i != index)]
        if ids.isdisjoint(_node_ids(others)):
            end = value.end_mark  # a block ends where the next key starts (column 0)
            spans.append((value.start_mark.line + 1, end.line + (1 if end.column else 0)))
    return spans


def _node_ids(roots: Sequence[Node]) -> set[int]:
    """Every node reachable from roots, by identity (an alias is the same node object;
    each node is visited once, so an alias bomb costs its distinct nodes)."""
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            stack.extend(child for pair in node.value for child in pair)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    return seen


def _service_of(setting: Setting) -> str:
    context = setting.context
    return context[1] if len(context) >= 2 and context[0] == "services" else ""


def _by_service(settings: Sequence[Setting]) -> dict[str, list[Setting]]:
    grouped: dict[str, list[Setting]] = {}
    for setting in settings:
        grouped.setdefault(_service_of(setting), []).append(setting)
    return grouped


def _pg(environment: Mapping[str, str]) -> dict[str, str]:
    return {
        k.strip().upper(): v for k, v in environment.items() if k.strip().upper().startswith("PG")
    }


def _compose_dotenv(path: Path) -> dict[str, str]:
    """The `.env` next to a compose file: compose reads it for interpolation."""
    from verifyfull.scan.config.envfile import parse_env

    text = read_small(path.with_name(".env"))
    return {s.key: s.value for s in parse_env(text)} if text else {}


def judge_value(
    src: SourceFile,
    setting: Setting,
    env: Mapping[str, str],
    dotenv: Mapping[str, str],
    policy: Policy,
    reader: UrlReader | None = None,
) -> list[Finding]:
    """One setting, its `${...}` read as compose reads it (see the module doc);
    `reader`: the service's driver when another ecosystem's code reads it."""
    resolved = interpolate(setting.value, dotenv)
    if not resolved.changed:
        return judge.judge_setting(src, setting, env, policy, reader)
    is_dsn = dsn.looks_like_dsn(resolved.text)
    is_sslmode = setting.name.endswith(_SSLMODE_KEYS) and not resolved.unset
    if not (is_dsn or is_sslmode):
        return judge.judge_setting(src, setting, env, policy, reader)  # as written
    filled = dataclasses.replace(setting, value=resolved.text)
    found = judge.judge_setting(src, filled, env, policy, reader)
    if is_dsn and password_is_variable(setting.value):
        found = [f for f in found if f.rule_id != "VF401"]  # the password is given at deploy
    if is_dsn and resolved.sslmode_variable:
        found = [f for f in found if f.rule_id not in _TRANSPORT]
        found.append(_deploy_sslmode(src, setting, resolved))
    return [_noted(f, resolved) for f in found]


def _noted(item: Finding, resolved: Resolved) -> Finding:
    if item.rule_id not in _TRANSPORT:
        return item
    return dataclasses.replace(item, evidence=(item.evidence or "") + resolved.note())


def _deploy_sslmode(src: SourceFile, setting: Setting, resolved: Resolved) -> Finding:
    variable = resolved.sslmode_variable
    return finding(
        "VF108",
        f"{setting.key} takes its sslmode from ${{{variable}}}, which has no default here: "
        "the connection's TLS is decided where the variable is set",
        evidence=dsn.redact(setting.value.strip()),
        path=src.relpath,
        line=setting.line,
        column=setting.column,
    )


def _relpath(path: Path, root: Path) -> str | None:
    absolute, top = os.path.abspath(path), os.path.abspath(root)
    if os.path.commonpath([absolute, top]) != top:
        return None  # outside the scanned tree: its values still feed the environment
    return Path(os.path.relpath(absolute, top)).as_posix()


def _checked_on_its_own(path: Path) -> bool:
    """Whether the env-file check reads this file anyway (its name is an env file's)."""
    from verifyfull.scan.config import envfile

    return any(c.func is envfile.check_env_file and c.matches(path) for c in registered_checks())


def _env_file_findings(
    src: SourceFile,
    document: Node,
    services: Mapping[str, ServiceFacts],
    ctx: ScanContext,
    readers: Mapping[str, UrlReader],
) -> list[Finding]:
    found: list[Finding] = []
    for name, node in services_of(document).items():
        facts = services.get(name, ServiceFacts())
        for path in env_file_paths(dict(effective_items(node)), src.path.parent):
            relpath = _relpath(path, ctx.root)
            env_file = read_env_file(path) if relpath is not None else None
            if env_file is None or relpath is None:
                continue
            env_src = SourceFile(path, relpath, env_file.text)
            env = _pg(facts.environment)
            mine: list[Finding] = []
            scoped = [
                dataclasses.replace(setting, context=("services", name, "env_file"))
                for setting in env_file.settings
            ]
            for setting in scoped:
                reader = readers.get(name)
                mine.extend(judge.judge_setting(env_src, setting, env, ctx.policy, reader))
            if _checked_on_its_own(path):
                # The env-file check judges this file too, without the service: where it
                # reports something the place is taken (one finding per value, not a
                # second contradicting one); the service adds what it alone sees.
                alone = judge.judge_settings(env_src, env_file.settings, ctx.policy)
                taken = {(f.line, f.column) for f in alone}
                mine = [f for f in mine if (f.line, f.column) not in taken]
            found.extend(engines.without_foreign(mine, relpath, scoped, _images(services)))
    return found
