"""The classes the session 13 held-out round (helper heldout-g, 9 repositories) found on
the config side, each closed by a mechanism and checked on generated input (fixtures:
tests/fixtures/scan/config/heldout_s13/).

1. SQL setting a literal password inside an `sh -c` script (a Kubernetes Job's
   `bash -ecx "cockroach sql --execute=\"ALTER USER … PASSWORD '…'\""`) is one finding:
   the script word and the inner command that runs it were both read for it.
2. An env file named `.env` glued to a variant (`.envLocalExample`, which CI hands to
   `docker-compose --env-file`) is read as an env file when its lines are KEY=VALUE lines:
   the same findings as the same lines in `.env.<variant>`; other content is not read.
3. A file VS Code reads as JSONC (devcontainer.json, `.vscode/*.json`, tsconfig.json) is
   read with its comments and trailing commas: the same findings on the same lines as
   the file without them, where it was "not checked: JSON does not parse".
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from test_heldout_s11_cfg import _PASSWORDS, SLOW, _scan

# --- 1. SQL in an `sh -c` script: one finding per statement --------------------------------

_SHELLS = st.sampled_from(["/bin/bash -ecx", "sh -c", "bash -c", "su postgres -c"])
_CLIENTS = st.sampled_from(
    [
        'cockroach sql --certs-dir=/certs --host db --execute=\\"{sql}\\"',
        'psql -h db -U postgres -c \\"{sql}\\"',
    ]
)
_STATEMENTS = st.sampled_from(
    ["ALTER USER root WITH PASSWORD '{pw}';", "CREATE ROLE app LOGIN PASSWORD '{pw}';"]
)


def _job(argv: list[str]) -> str:
    items = "".join(f'          - "{word}"\n' for word in argv)
    return (
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: init\nspec:\n  template:\n"
        "    spec:\n      containers:\n      - name: init\n        image: cockroachdb/cockroach\n"
        f"        command:\n{items}      restartPolicy: OnFailure\n"
    )


@SLOW
@given(
    password=_PASSWORDS,
    shell=_SHELLS,
    client=_CLIENTS,
    statement=_STATEMENTS,
    kind=st.sampled_from(["job", "script"]),
)
def test_sql_in_a_shell_script_is_reported_once(
    password: str, shell: str, client: str, statement: str, kind: str
) -> None:
    sql = statement.format(pw=password)
    inner = client.format(sql=sql)
    if kind == "job":
        words = shell.split()
        files = {"k8s/job.yaml": _job([*words, inner])}
        path = "k8s/job.yaml"
    else:
        # the script double-quoted (the statement holds single quotes), as in the Job
        files = {"init.sh": f'#!/bin/sh\n{shell} "{inner}"\n'}
        path = "init.sh"
    found = [f for f in _scan(files) if f[0] == path and f[2] == "VF401"]
    assert len(found) == 1, (files, found)


# --- 2. `.env` glued to a variant -----------------------------------------------------------

_VARIANTS = st.sampled_from(["LocalExample", "Template", "Prod", "Dev2", "Example"])
_DSN_MODES = st.sampled_from(["", "?sslmode=disable", "?sslmode=require", "?sslmode=verify-full"])


@SLOW
@given(variant=_VARIANTS, password=_PASSWORDS, mode=_DSN_MODES, env_like=st.booleans())
def test_an_env_file_glued_to_its_variant_is_read_as_one(
    variant: str, password: str, mode: str, env_like: bool
) -> None:
    lines = (
        f"HASH_KEY=\nPOSTGRES_URL=postgresql://app@db.internal:5432/app{mode}\n"
        f"POSTGRES_PASSWORD={password}\n"
    )
    text = lines if env_like else f"#!/bin/sh\necho starting\nexec ./run {password}\n"
    glued = _scan({f".env{variant}": text})
    dotted = _scan({f".env.{variant.lower()}": text})
    rules = sorted((line, rule) for _, line, rule, _ in glued)
    assert rules == sorted((line, rule) for _, line, rule, _ in dotted) or not env_like
    if env_like:
        assert (3, "VF401") in rules, rules
    else:
        assert not rules, rules


# --- 3. JSON with comments -------------------------------------------------------------------

_JSONC_PATHS = st.sampled_from(
    [".devcontainer/devcontainer.json", ".devcontainer.json", ".vscode/launch.json"]
)


def _devcontainer(password: str, mode: str, noise: list[int]) -> tuple[str, str]:
    """The same settings as JSON and as JSONC: a comment or a trailing comma after
    line i for each i in noise (comments on their own line or after a value)."""
    lines = [
        "{",
        '  "name": "app",',
        '  "remoteEnv": {',
        f'    "POSTGRES_PASSWORD": "{password}",',
        f'    "DATABASE_URL": "postgresql://app@db.internal:5432/app{mode}"',
        "  },",
        '  "forwardPorts": [5432, 8000]',
        "}",
    ]
    plain = "\n".join(lines) + "\n"
    noisy = list(lines)
    for i in sorted(set(noise), reverse=True):
        kind = i % 3
        if kind == 0:
            noisy[i] += "  // a note: http://example.invalid/x"
        elif kind == 1:
            noisy[i] += ' /* inline, with "quotes" */'
        elif not noisy[i].rstrip().endswith((",", "{", "[")) and 0 < i < len(lines) - 1:
            noisy[i] += ","  # a trailing comma when the next line closes
    noisy[4] += ","  # DATABASE_URL is the last entry of remoteEnv
    return plain, "\n".join(noisy) + "\n"


@SLOW
@given(
    path=_JSONC_PATHS,
    password=_PASSWORDS,
    mode=_DSN_MODES,
    noise=st.lists(st.integers(0, 7), max_size=4),
)
def test_jsonc_is_read_as_its_json(path: str, password: str, mode: str, noise: list[int]) -> None:
    plain, noisy = _devcontainer(password, mode, noise)
    expected = sorted((line, rule) for _, line, rule, _ in _scan({path: plain}))
    found = sorted((line, rule) for _, line, rule, _ in _scan({path: noisy}))
    assert found == expected, noisy
    assert (4, "VF401") in found, noisy
