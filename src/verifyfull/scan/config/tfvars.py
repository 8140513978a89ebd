"""Terraform variables the tree gives a value (held-out-s14 item 3).

`var.NAME` in a module's directory is what every `module` block whose `source` is
that directory passes as NAME (`module "kong" { source = "./modules/ecs-fargate"
db_engine = var.engine }`), followed to the caller's own variables, else the
`variable "NAME" { default = "…" }` of the directory. bracetext.py reads every file
(one reader of HCL); the index is built once per scan root, within the bounds of
MAX_FILES files of at most MAX_FILE_BYTES, and a chain is followed MAX_HOPS times.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

from verifyfull.scan.config.bracetext import HCL, read_settings
from verifyfull.scan.walk import DEFAULT_SKIP_DIRS

MAX_FILES = 500
MAX_FILE_BYTES = 1_000_000
MAX_HOPS = 6
VARIABLE = re.compile(r"^\$\{var\.([A-Za-z_][\w-]*)\}$")

_Arguments = dict[str, str]


@lru_cache(maxsize=2)
def _index(root: Path) -> tuple[dict[Path, _Arguments], dict[Path, list[tuple[_Arguments, Path]]]]:
    """Per directory: its variables' literal defaults, and the module blocks calling it
    (their arguments and the caller's directory)."""
    defaults: dict[Path, _Arguments] = {}
    calls: dict[Path, list[tuple[_Arguments, Path]]] = {}
    seen = 0
    for directory, dirs, names in os.walk(str(root)):
        dirs[:] = sorted(d for d in dirs if d not in DEFAULT_SKIP_DIRS and not d.startswith("."))
        for name in sorted(names):
            if not name.endswith(".tf") or seen >= MAX_FILES:
                continue
            seen += 1
            try:
                with open(os.path.join(directory, name), encoding="utf-8", errors="replace") as f:
                    text = f.read(MAX_FILE_BYTES)
            except OSError:
                continue
            here = Path(directory)
            blocks: dict[str, _Arguments] = {}
            for setting in read_settings(text, HCL, module_arguments=True):
                if len(setting.context) != 1:
                    continue
                label = setting.context[0]
                if label.startswith("variable.") and "${" not in setting.value:
                    defaults.setdefault(here, {})[setting.key] = setting.value
                elif label.startswith("module."):
                    blocks.setdefault(label, {})[setting.key] = setting.value
            for arguments in blocks.values():
                source = arguments.get("source", "")
                if source.startswith(("./", "../")):
                    target = Path(os.path.normpath(here / source))
                    calls.setdefault(target, []).append((arguments, here))
    return defaults, calls


def value_of(root: Path, directory: Path, name: str) -> str | None:
    """The literal the tree gives `var.name` used in `directory`, None when unknown."""
    defaults, calls = _index(root)
    frontier = [(Path(os.path.normpath(directory)), name)]
    seen: set[tuple[Path, str]] = set()
    for _ in range(MAX_HOPS):
        following: list[tuple[Path, str]] = []
        for place, variable in frontier:
            if (place, variable) in seen:
                continue
            seen.add((place, variable))
            passed = False  # a caller's argument overrides the variable's default
            for arguments, caller in calls.get(place, []):
                given = arguments.get(variable)
                passed = passed or given is not None
                reference = VARIABLE.match(given or "")
                if reference is not None:
                    following.append((caller, reference.group(1)))
                elif given is not None and "${" not in given:
                    return given
            default = defaults.get(place, {}).get(variable)
            if default is not None and not passed:
                return default
        frontier = following
    return None
