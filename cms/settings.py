"""Runtime configuration, read once from ``CMS_*`` environment variables."""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LogLevel = Literal["debug", "info", "warning", "error", "critical"]


class Settings(BaseSettings):
    """Every knob the CMS has. Validated when the app or the CLI starts."""

    model_config = SettingsConfigDict(env_prefix="CMS_", env_file=".env", extra="ignore")

    env: Literal["development", "production", "test"] = "development"
    database_url: str = "sqlite://cms.sqlite3"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1)
    log_level: LogLevel = "info"
    graphiql: bool = True
    # Load GraphiQL's pinned scripts from the jsDelivr CDN (with SRI) instead of the local
    # files `make assets` installs: for machines without npm. The page then needs the network.
    graphiql_cdn: bool = False
    default_page_size: int = Field(default=20, ge=1)
    max_page_size: int = Field(default=100, ge=1)
    # Accounts. Each argon2id hash takes ~64 MiB and tens of milliseconds of CPU, so at most
    # this many run at once per process; further logins wait their turn.
    hash_concurrency: int = Field(default=2, ge=1)
    # How long a token issued by `login` stays valid (ISO 8601 like P14D, or seconds).
    session_lifetime: timedelta = Field(default=timedelta(days=14), gt=timedelta(0))
    # Login attempts per account and per client address: a burst, then one per interval.
    login_burst: int = Field(default=10, ge=1)
    login_refill_seconds: float = Field(default=30.0, gt=0)

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        scheme = urlsplit(value).scheme
        if scheme not in {"sqlite", "postgres", "postgresql", "asyncpg"}:
            raise ValueError(
                f"unsupported database URL scheme {scheme!r}: use sqlite:// or postgres://"
            )
        return value

    @cached_property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def get_settings() -> Settings:
    """Build settings from the environment (a fresh read each call, so tests can vary it)."""
    return Settings()
