"""The pre-commit hook and the GitHub Action: they parse, and what they run works here.

No network: pre-commit itself and GitHub's runners are not available, so the
tests run exactly the command lines the two files define, against the real
`verifyfull` console script installed in this environment.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "scan" / "config"
SCHEMA = json.loads((ROOT / "tests" / "vendor" / "sarif-schema-2.1.0.json").read_text())
VERIFYFULL = Path(sys.executable).with_name("verifyfull")


def _hook() -> dict[str, Any]:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert isinstance(hooks, list) and len(hooks) == 1
    hook: dict[str, Any] = hooks[0]
    return hook


def _action() -> dict[str, Any]:
    action: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text())
    return action


def test_hook_definition() -> None:
    hook = _hook()
    assert hook["id"] == "verifyfull"
    assert hook["entry"] == "verifyfull scan"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is True
    assert "text" in hook["types"]
    # The entry's program is the console script the package installs.
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'verifyfull = "verifyfull.cli:main"' in pyproject


def test_hook_entry_runs_the_real_cli_on_filenames(tmp_path: Path) -> None:
    """As pre-commit does: entry words + the staged file names, exit status decides."""
    staged = [
        str(FIXTURES / "compose" / "docker-compose.yml"),
        str(FIXTURES / "postgres" / "pg_hba.conf"),
        str(FIXTURES / "env" / ".env"),
    ]
    program, *args = _hook()["entry"].split()
    assert VERIFYFULL.exists(), "the verifyfull console script is not installed"
    bad = subprocess.run(
        [str(VERIFYFULL.with_name(program)), *args, *staged],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert bad.returncode == 1, bad.stderr
    assert "VF201" in bad.stdout and "VF202" in bad.stdout and "VF401" in bad.stdout
    assert "canary-Pw-3f9a1c" not in bad.stdout + bad.stderr
    clean = tmp_path / "docker-compose.yml"
    clean.write_text(
        "services:\n  db:\n    image: cockroachdb/cockroach\n"
        "    command: start-single-node --certs-dir=/certs\n"
    )
    good = subprocess.run(
        [str(VERIFYFULL.with_name(program)), *args, str(clean)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert good.returncode == 0, good.stdout + good.stderr


def test_action_is_a_composite_that_scans_and_uploads_sarif() -> None:
    action = _action()
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    uses = [s.get("uses", "") for s in steps]
    assert any(u.startswith("actions/setup-python@") for u in uses)
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)
    install = next(s for s in steps if "pip install" in s.get("run", ""))
    assert install["env"]["VF_PACKAGE"] == "${{ inputs.package }}"
    scan = next(s for s in steps if s.get("id") == "scan")
    assert "--format sarif --output" in scan["run"]
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action"))
    assert upload["with"]["sarif_file"] == "${{ inputs.sarif-file }}"
    # No input is spliced into a script: they arrive as environment variables.
    for step in steps:
        assert "${{" not in step.get("run", ""), step.get("name")


def _run_step(
    step: dict[str, Any], env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    script = cwd / "step.sh"
    script.write_text(step["run"])
    bash = shutil.which("bash")
    assert bash is not None
    return subprocess.run(
        [bash, "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
    )


def test_action_scan_and_fail_steps_run_as_on_a_runner(tmp_path: Path) -> None:
    """The scan step's script with the action's defaults, then the fail step."""
    action = _action()
    steps = action["runs"]["steps"]
    defaults = {name: spec["default"] for name, spec in action["inputs"].items()}
    project = tmp_path / "repo"
    shutil.copytree(FIXTURES / "compose", project / "deploy")
    output = tmp_path / "github_output"
    output.write_text("")
    env = {
        "PATH": f"{VERIFYFULL.parent}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "GITHUB_OUTPUT": str(output),
        "VF_PATHS": defaults["paths"],
        "VF_FAIL_ON": defaults["fail-on"],
        "VF_SARIF": defaults["sarif-file"],
    }
    scan = next(s for s in steps if s.get("id") == "scan")
    done = _run_step(scan, env, project)
    assert done.returncode == 0, done.stderr  # the scan step never fails before the upload
    assert output.read_text().strip() == "exit-code=1"
    sarif = json.loads((project / defaults["sarif-file"]).read_text())
    jsonschema.validate(sarif, SCHEMA)
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} >= {"VF201", "VF202"}
    fail = steps[-1]
    failed = _run_step(fail, {**env, "VF_EXIT": "1"}, project)
    assert failed.returncode == 1
    passed = _run_step(fail, {**env, "VF_EXIT": "0"}, project)
    assert passed.returncode == 0
