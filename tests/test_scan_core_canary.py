"""A tree full of passwords: no output format, error message or baseline carries one."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

SCAN = (sys.executable, "-m", "verifyfull", "scan")
CANARIES = [f"Canary{n}Pw9x" for n in range(14)]


def build_tree(root: Path) -> None:
    c = CANARIES
    encoded = base64.b64encode(c[7].encode()).decode()
    (root / "app").mkdir()
    (root / "app" / "db.py").write_text(
        f"""import base64, os, asyncpg, psycopg
from sqlalchemy import URL, create_engine
from pydantic_settings import BaseSettings

DATABASE_URL = "postgresql://app:{c[0]}@db:26257/app?sslmode=disable"
DB_PASSWORD = "{c[1]}"
pw = os.getenv("DB_PASSWORD", "{c[2]}")
create_engine("cockroachdb://root:{c[3]}@db:26257/app?sslmode=require")
psycopg.connect("host=db dbname=app user=app password={c[4]} sslmode=allow")
URL.create("postgresql+psycopg", username="app", password="{c[5]}", host="db")
DB_PASSWORD_B64 = base64.b64decode("{encoded}").decode()
CREDENTIALS = {{"host": "db", "user": "app", "password": "{c[8]}"}}

class DatabaseSettings(BaseSettings):
    password: str = "{c[9]}"

async def go():
    await asyncpg.connect(host="db", user="app", password="{c[6]}", ssl="prefer")
    await asyncpg.connect(f"postgresql://app:{c[10]}@db/app?sslmode=verify-ca")
""",
        encoding="utf-8",
    )
    (root / "app" / "broken.py").write_text(
        f'DB_PASSWORD = "{c[11]}"\ndef broken(:  # does not parse\n', encoding="utf-8"
    )
    (root / "app" / "ok.py").write_text(
        f'import asyncpg\nasyncpg.connect("postgresql://app:{c[12]}@db/app")\n', encoding="utf-8"
    )
    (root / ".env").write_text(
        f"DATABASE_URL=postgresql://app:{c[13]}@db:26257/app?sslmode=disable\nPGPASSWORD={c[1]}\n",
        encoding="utf-8",
    )
    (root / "docker-compose.yml").write_text(
        "services:\n  db:\n    image: postgres:15\n    environment:\n"
        f"      POSTGRES_PASSWORD: {c[2]}\n"
        f"      DATABASE_URL: postgresql://app:{c[3]}@db/app\n",
        encoding="utf-8",
    )
    (root / "alembic.ini").write_text(
        f"[alembic]\nsqlalchemy.url = postgresql://app:{c[4]}@db/app\n", encoding="utf-8"
    )


def test_no_output_format_contains_a_password(tmp_path: Path) -> None:
    build_tree(tmp_path)
    baseline = tmp_path / "baseline.json"
    outputs: list[str] = []
    for output_format in ("text", "json", "sarif", "html"):
        result = subprocess.run(
            [*SCAN, str(tmp_path), "--format", output_format],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
            env={"COLUMNS": "300", "PATH": "/usr/bin:/bin"},
        )
        assert result.returncode == 1, result.stderr
        assert "VF401" in result.stdout
        outputs += [result.stdout, result.stderr]
    written = subprocess.run(
        [*SCAN, str(tmp_path), "--baseline", str(baseline), "--write-baseline"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    outputs += [written.stdout, written.stderr, baseline.read_text(encoding="utf-8")]
    everything = "\n".join(outputs)
    for rule_id in ("VF101", "VF102", "VF103", "VF104", "VF105", "VF401", "VF402"):
        assert rule_id in everything, rule_id
    assert "app/broken.py" in everything  # reported as not checked
    leaked = [canary for canary in CANARIES if canary in everything]
    assert leaked == []
    encoded = base64.b64encode(CANARIES[7].encode()).decode()
    assert encoded not in everything
