"""Settings read from the environment, with defaults for local development."""

from functools import lru_cache

from pydantic import PostgresDsn
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env")

    database_url: PostgresDsn = "postgresql://orders@crdb:26257/orders"
    db_user: str = "orders"
    db_password: str = "orders-dev-password"
    pool_size: int = 10


@lru_cache
def get_settings() -> Settings:
    return Settings()
