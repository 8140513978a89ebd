"""A Settings field default password reaching an engine in another module is one VF401,
where the literal is written (issue 12, held-out class 8): the credentials rule's own
finding at the default, not a second one made for the engine's call."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verifyfull.scan import engine
from verifyfull.scan.settings import ScanSettings

SECRET = "MySuperSecurePassword"
CONFIG = """from pydantic import Field
from pydantic_settings import BaseSettings


class {cls}(BaseSettings):
    POSTGRES_HOST: str = "db.internal"
    POSTGRES_USER: str = "app"
    {field}: str = {default}
    POSTGRES_DB: str = "app"

    @property
    def url(self) -> str:
        return (
            f"postgresql+asyncpg://{{self.POSTGRES_USER}}:{{self.{field}}}"
            f"@{{self.POSTGRES_HOST}}/{{self.POSTGRES_DB}}"
        )


settings = {cls}()
"""
DATABASE = """from sqlalchemy.ext.asyncio import create_async_engine

from app.config import settings

engine = create_async_engine(settings.url)
"""


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cls=st.sampled_from(("Settings", "DatabaseSettings", "AppConfig")),
    field=st.sampled_from(("POSTGRES_PASSWORD", "DB_PASSWORD", "DATABASE_PASS")),
    default=st.sampled_from((f'"{SECRET}"', f'Field(default="{SECRET}")')),
)
def test_a_settings_default_password_is_reported_once(
    tmp_path: Path, cls: str, field: str, default: str
) -> None:
    root = Path(tempfile.mkdtemp(dir=tmp_path))
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text("", encoding="utf-8")
    config = CONFIG.format(cls=cls, field=field, default=default)
    (root / "app" / "config.py").write_text(config, encoding="utf-8")
    (root / "app" / "db.py").write_text(DATABASE, encoding="utf-8")
    result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    found = [f for f in result.report.findings if f.rule_id == "VF401"]
    line = config.splitlines().index(f"    {field}: str = {default}") + 1
    assert [(f.path, f.line) for f in found] == [("app/config.py", line)], found
