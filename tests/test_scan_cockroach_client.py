"""A cockroach client command with --insecure (`cockroach sql --insecure`, `cockroach
init --insecure`, a compose healthcheck) connects in plaintext and checks no server
certificate: VF101 at the flag, in every place a command is written (held-out-s9b:
djabbat/Caulong's init scripts and healthcheck, 9 blind VF101 labels the scanner
missed). A node's own --insecure stays VF201, and a client flag set false is nothing.
A compose `healthcheck: test:` is a command (exec form, CMD-SHELL and string forms).
On the old code every generated case with the flag on had no VF101.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_scan_config_formats import scan_tree

_SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_CLIENTS = st.sampled_from(
    ["sql", "init", "node status", "node decommission 2", "quit", "dump app"]
)
_FLAG = st.sampled_from(
    [("--insecure", True), ("--insecure=true", True), ("--insecure=false", False)]
)
_OTHER = st.lists(
    st.sampled_from(["--host=roach1", "--host=roach1:26257", "--port=26257", "-e 'select 1'"]),
    max_size=2,
    unique=True,
)
_PROGRAMS = st.sampled_from(["cockroach", "./cockroach", "/cockroach/cockroach"])
_FORMS = st.sampled_from(
    [
        "script",
        "continued",
        "sh-c",
        "makefile",
        "healthcheck-cmd",
        "healthcheck-shell",
        "healthcheck-string",
        "k8s-probe",
        "dockerfile-run",
    ]
)
_IMAGE = "cockroachdb/cockroach:v23.2.0"


def _as_file(form: str, argv: list[str]) -> tuple[str, str, int]:
    """The command in one of the forms real trees use, and the line the flag is on."""
    line = " ".join(argv)
    flag_at = next(i for i, word in enumerate(argv) if word.startswith("--insecure"))
    if form == "script":
        return "init.sh", f"#!/bin/sh\nset -e\n{line}\n", 3
    if form == "continued":
        return "init.sh", "#!/bin/bash\n" + " \\\n    ".join(argv) + "\n", 2 + flag_at
    if form == "sh-c":
        return "run.sh", f'#!/bin/sh\nsh -c "{line}"\n', 2
    if form == "makefile":
        return "Makefile", f"init:\n\t{line}\n", 2
    service = f"services:\n  roach:\n    image: {_IMAGE}\n    healthcheck:\n"
    if form == "healthcheck-cmd":
        items = ", ".join(f'"{word}"' for word in ["CMD", *argv])
        return "docker-compose.yml", f"{service}      test: [{items}]\n", 5
    if form == "healthcheck-shell":
        return "docker-compose.yml", f'{service}      test: ["CMD-SHELL", "{line}"]\n', 5
    if form == "healthcheck-string":
        return "docker-compose.yml", f'{service}      test: "{line}"\n', 5
    if form == "k8s-probe":
        items = "".join(f"                  - {word}\n" for word in argv)
        text = (
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: roach\nspec:\n  containers:\n"
            f"    - name: roach\n      image: {_IMAGE}\n      readinessProbe:\n"
            f"        exec:\n          command:\n{items}"
        )
        return "pod.yaml", text.replace("                  - ", "            - "), 12 + flag_at
    return "Dockerfile", f"FROM {_IMAGE}\nRUN {line}\n", 2


@_SETTINGS
@given(form=_FORMS, program=_PROGRAMS, client=_CLIENTS, flag=_FLAG, other=_OTHER)
def test_an_insecure_client_is_vf101_at_its_flag(
    form: str, program: str, client: str, flag: tuple[str, bool], other: list[str]
) -> None:
    argv = [program, *client.split(), flag[0], *(w for o in other for w in [o])]
    name, text, line = _as_file(form, argv)
    with tempfile.TemporaryDirectory() as scratch:
        found = scan_tree(Path(scratch), {name: text})
    vf101 = {(path, at) for path, at, rule, _ in found if rule == "VF101"}
    assert vf101 == ({(name, line)} if flag[1] else set()), (text, found)
    assert not any(rule == "VF201" for _, _, rule, _ in found), (text, found)


@_SETTINGS
@given(form=st.sampled_from(["script", "continued", "sh-c"]), program=_PROGRAMS)
def test_a_node_started_insecure_is_vf201_not_a_client(form: str, program: str) -> None:
    argv = [program, "start-single-node", "--insecure", "--store=/tmp/data"]
    name, text, line = _as_file(form, argv)
    with tempfile.TemporaryDirectory() as scratch:
        found = scan_tree(Path(scratch), {name: text})
    assert {(at, rule) for _, at, rule, _ in found} == {(line, "VF201")}, (text, found)


def test_a_client_without_the_flag_or_another_program_is_nothing() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        found = scan_tree(
            Path(scratch),
            {
                "a.sh": "cockroach sql --certs-dir=/certs --host=roach1\n"
                "cockroach version --insecure\ncurl --insecure https://roach1:8080/health\n",
                "docker-compose.yml": f"services:\n  r:\n    image: {_IMAGE}\n"
                '    healthcheck:\n      test: ["NONE"]\n',
            },
        )
    assert found == [], found
