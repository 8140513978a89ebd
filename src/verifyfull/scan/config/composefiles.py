"""What a compose service gets from other files, as compose merges them.

A compose file is rarely the whole service: `docker-compose.override.yml` (and
`docker-compose.<env>.yml`, `compose.<env>.yaml`, `<name>.override.yml`) is
merged over the base file next to it, `extends:` pulls in a service of the same
or another file, YAML merge keys (`<<: *defaults`, yamlnodes.effective_items)
pull in anchors, and `env_file:` adds the variables of the files it names. The
findings stay where each value is written; what is merged in gives the facts
those values are judged with: the image that names the program of a `command:`
(an override's `command: start --insecure` runs the base file's cockroach image)
and the environment (`PGSSLMODE` from an env file decides a `DATABASE_URL` of
the service).

Bounded: other files are read only when they are regular files under
_MAX_BYTES, `extends` is followed _MAX_EXTENDS deep with a cycle guard, each
file's services are parsed once per process (keyed by path, size and mtime),
and a file that does not parse contributes nothing (its own scan reports it).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from verifyfull.scan.config.model import ConfigParseError, Setting
from verifyfull.scan.config.yamlnodes import compose_documents, effective_items, scalar

_MAX_BYTES = 1_000_000
_MAX_EXTENDS = 8
_MAX_ENV_FILES = 16
# An override file and the base compose merges it over (docker compose's own
# default pair, and the `-f base -f override` convention of `<base>.<env>.yml`).
_OVERRIDE = re.compile(
    r"^(?P<base>docker-compose|compose)\.[^/]+\.ya?ml$|^(?P<named>.+)\.override\.ya?ml$"
)


@dataclass(frozen=True)
class ServiceFacts:
    """What a service is run with, from every file compose merges into it."""

    image: str = ""
    environment: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EnvFile:
    """One file an `env_file:` entry names, read (it exists and is small enough)."""

    path: Path
    text: str
    settings: tuple[Setting, ...]


def is_compose(document: Node) -> bool:
    """A compose document: a top-level `services:` mapping (a Kubernetes object has
    `kind:`, a CI file no `services` of mappings)."""
    if not isinstance(document, MappingNode):
        return False
    items = dict(effective_items(document))
    services = items.get("services")
    return isinstance(services, MappingNode) and "kind" not in items and "apiVersion" not in items


def services_of(document: Node) -> dict[str, MappingNode]:
    items = dict(effective_items(document)) if isinstance(document, MappingNode) else {}
    services = items.get("services")
    if not isinstance(services, MappingNode):
        return {}
    return {name: node for name, node in effective_items(services) if isinstance(node, MappingNode)}


def base_file(path: Path) -> Path | None:
    """The compose file an override file is merged over, when it is next to it."""
    match = _OVERRIDE.match(path.name)
    if match is None:
        return None
    base = match.group("base")
    if base == "docker-compose":
        stems: tuple[str, ...] = ("docker-compose", "compose")
    else:
        stems = (base,) if base else (match.group("named"),)
    for stem in stems:
        for suffix in (".yml", ".yaml"):
            candidate = path.with_name(stem + suffix)
            if candidate != path and candidate.is_file():
                return candidate
    return None


def read_small(path: Path) -> str | None:
    """The text of a regular file under the size bound, or None (absent, too large,
    unreadable, not UTF-8: the file's own scan, if any, says why)."""
    try:
        if not path.is_file() or path.stat().st_size > _MAX_BYTES:
            return None
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None


@lru_cache(maxsize=64)
def _services_cached(path: str, size: int, mtime: int) -> dict[str, MappingNode]:
    del size, mtime  # the cache key: a changed file is parsed again
    text = read_small(Path(path))
    if text is None:
        return {}
    try:
        documents = compose_documents(text)
    except ConfigParseError:
        return {}
    for document in documents:
        if is_compose(document):
            return services_of(document)
    return {}


def services_in(path: Path) -> dict[str, MappingNode]:
    try:
        stat = path.stat()
    except OSError:
        return {}
    return _services_cached(str(path), stat.st_size, stat.st_mtime_ns)


def environment_of(items: Mapping[str, Node]) -> dict[str, str]:
    """A service's `environment:` (a mapping, or a list of KEY=VALUE)."""
    node = items.get("environment")
    out: dict[str, str] = {}
    if isinstance(node, MappingNode):
        for key, value in effective_items(node):
            text = scalar(value)
            if text is not None:
                out[key] = text
    elif isinstance(node, SequenceNode):
        for item in node.value:
            text = scalar(item)
            if text is not None and "=" in text:
                name, _, literal = text.partition("=")
                out[name.strip()] = literal
    return out


def env_file_paths(items: Mapping[str, Node], directory: Path) -> list[Path]:
    """The files a service's `env_file:` names (a string, a list of strings, or a list
    of `{path:, required:}`), relative to the compose file's directory."""
    node = items.get("env_file")
    entries: list[Node] = []
    if isinstance(node, ScalarNode):
        entries = [node]
    elif isinstance(node, SequenceNode):
        entries = list(node.value)[:_MAX_ENV_FILES]
    paths = []
    for entry in entries:
        target = (
            dict(effective_items(entry)).get("path") if isinstance(entry, MappingNode) else entry
        )
        text = scalar(target)
        if text and "$" not in text:
            paths.append(Path(os.path.normpath(directory / text)))
    return paths


def read_env_file(path: Path) -> EnvFile | None:
    from verifyfull.scan.config.envfile import parse_env

    text = read_small(path)
    if text is None:
        return None
    return EnvFile(path, text, tuple(parse_env(text)))


def _extended(items: Mapping[str, Node], path: Path) -> tuple[Path, str] | None:
    node = items.get("extends")
    if isinstance(node, ScalarNode):
        return path, str(node.value)
    if isinstance(node, MappingNode):
        ext = dict(effective_items(node))
        service = scalar(ext.get("service"))
        file = scalar(ext.get("file"))
        if service:
            return (Path(os.path.normpath(path.parent / file)) if file else path), service
    return None


def service_facts(
    path: Path, name: str, node: MappingNode, *, depth: int = 0, seen: frozenset[str] = frozenset()
) -> ServiceFacts:
    """The image and environment of service `name` (its node in file `path`), with
    what `extends:`, merge keys and `env_file:` give it; the service's own keys win."""
    items = dict(effective_items(node))
    inherited = ServiceFacts()
    target = _extended(items, path)
    key = f"{path}\0{name}"
    if target is not None and depth < _MAX_EXTENDS and key not in seen:
        target_path, target_name = target
        services = services_in(target_path) if target_path != path else None
        if services is None:  # the same file: the caller's document may not be cached
            services = services_in(path)
        target_node = services.get(target_name)
        if target_node is not None:
            inherited = service_facts(
                target_path, target_name, target_node, depth=depth + 1, seen=seen | {key}
            )
    environment = dict(inherited.environment)
    for env_path in env_file_paths(items, path.parent):
        env_file = read_env_file(env_path)
        if env_file is not None:
            environment.update((s.key, s.value) for s in env_file.settings)
    environment.update(environment_of(items))
    image = scalar(items.get("image")) or inherited.image
    return ServiceFacts(image, environment)


def merged(base: ServiceFacts, override: ServiceFacts) -> ServiceFacts:
    """An override service over its base: what the override writes wins."""
    return ServiceFacts(override.image or base.image, {**base.environment, **override.environment})


def auto_override(path: Path) -> Path | None:
    """The override file `docker compose up` applies to this base file by itself
    (`docker-compose.override.yml` next to `docker-compose.yml`, `compose.override.yaml`
    next to `compose.yaml`): what it sets is what the base file's services run with."""
    stem, dot, suffix = path.name.rpartition(".")
    if not dot or stem not in ("docker-compose", "compose") or suffix not in ("yml", "yaml"):
        return None
    for candidate_suffix in (".yml", ".yaml"):
        candidate = path.with_name(stem + ".override" + candidate_suffix)
        if candidate.is_file():
            return candidate
    return None


def _facts_in(path: Path | None, name: str) -> ServiceFacts | None:
    if path is None:
        return None
    node = services_in(path).get(name)
    return service_facts(path, name, node) if node is not None else None


def file_services(path: Path, document: Node) -> dict[str, ServiceFacts]:
    """The facts of every service of a compose document read from `path`: merged over
    the same service of the base file when `path` is an override file, and under the
    same service of the override compose applies by itself when `path` is that base."""
    base_path, override_path = base_file(path), auto_override(path)
    facts: dict[str, ServiceFacts] = {}
    for name, node in services_of(document).items():
        own = service_facts(path, name, node)
        base = _facts_in(base_path, name)
        if base is not None:
            own = merged(base, own)
        override = _facts_in(override_path, name)
        if override is not None:
            own = merged(own, override)
        facts[name] = own
    return facts
