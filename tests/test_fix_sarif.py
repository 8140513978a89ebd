"""The scan's SARIF says per finding whether `verifyfull fix` has a fix and of which kind.

Safe fixes come as SARIF `fixes` with `artifactChanges`; applied to the file they give
exactly what `verifyfull fix` writes for that line. Unsafe ones are named with what they
need, without artifactChanges. The document validates against the SARIF 2.1.0 schema.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
from typer.testing import CliRunner

from verifyfull.cli import app
from verifyfull.fix.plan import plan_fixes
from verifyfull.scan.settings import load

# the vendored copy of /work/shared/schemas/sarif-schema-2.1.0.json (the same bytes)
SCHEMA = json.loads((Path(__file__).parent / "vendor" / "sarif-schema-2.1.0.json").read_text())
SAFE = (
    "import psycopg\n\n"
    "def report():\n"
    '    return psycopg.connect("host=db dbname=app sslmode=require sslrootcert=/etc/ca.pem")\n'
)
UNSAFE = 'import psycopg\n\nconn = psycopg.connect("host=db dbname=app sslmode=disable")\n'
# A weakened context that a connection uses (an unused one is no finding, issue 12 class 9).
CONTEXT = (
    "import ssl\n\nimport asyncpg\n\nctx = ssl.create_default_context()\n"
    "ctx.check_hostname = False\nctx.verify_mode = ssl.CERT_NONE\n\n\n"
    "async def connect():\n"
    '    return await asyncpg.connect("postgresql://app@db/app", ssl=ctx)\n'
)


def _sarif(root: Path) -> dict[str, Any]:
    ran = CliRunner().invoke(app, ["scan", "--format", "sarif", str(root)])
    return json.loads(ran.stdout)


def _apply(text: str, replacements: list[dict[str, Any]]) -> str:
    for r in sorted(replacements, key=lambda r: -r["deletedRegion"]["charOffset"]):
        start = r["deletedRegion"]["charOffset"]
        end = start + r["deletedRegion"]["charLength"]
        text = text[:start] + r["insertedContent"]["text"] + text[end:]
    return text


def test_sarif_fixes_are_the_safe_fixes_and_validate(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text("")
    files = {"safe.py": SAFE, "unsafe.py": UNSAFE, "tls.py": CONTEXT}
    for name, text in files.items():
        (root / name).write_text(text)
    document = _sarif(root)
    jsonschema.validate(document, SCHEMA)
    results = document["runs"][0]["results"]
    kinds = {
        (r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], r["ruleId"]): r
        for r in results
    }
    unsafe = kinds[("unsafe.py", "VF101")]
    assert unsafe["properties"]["fix"] == "unsafe" and "fixes" not in unsafe
    assert "DB_CA_PATH set" in unsafe["properties"]["fixNeeds"]
    plan = plan_fixes([root], load(root), unsafe=False)
    written = {fix.relpath: fix.after.decode() for fix in plan.fixes}
    for name in ("safe.py", "tls.py"):
        safe = [r for (uri, _), r in kinds.items() if uri == name]
        assert safe and all(r["properties"]["fix"] == "safe" for r in safe)
        changes = [c for r in safe for f in r["fixes"] for c in f["artifactChanges"]]
        replacements = [rep for c in changes for rep in c["replacements"]]
        assert _apply(files[name], replacements) == written[name]
