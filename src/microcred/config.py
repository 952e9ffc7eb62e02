"""Settings from the environment (MICROCRED_*), read once by bootstrap."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MICROCRED_", extra="ignore")

    data_dir: Path = Path("microcred-data")
    database_url: str | None = None
    secret_key: str | None = None
    public_base_url: str = "http://127.0.0.1:8000"
    admin_email: str | None = None
    admin_password: str | None = None

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'microcred.db').resolve()}"

    @property
    def key_file(self) -> Path:
        return self.data_dir / "secret.key"
