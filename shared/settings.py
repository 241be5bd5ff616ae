"""Base settings every service extends; each service sets its own env prefix (IDENTITY_, PROFILE_, ...).

A few settings are the same for the whole system and are read without a prefix (the Kafka servers, the JWT
issuer and audience), so one environment configures every service alike.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


def _global(name: str) -> AliasChoices:
    return AliasChoices(name)


class ServiceSettings(BaseSettings):
    """Settings shared by every service; subclasses set `model_config` with their env prefix."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    service_name: str = "service"
    database_url: str = Field(default="", description="SQLAlchemy async URL; default SQLite file var/<service>.db")
    db_pool_size: int = 10
    kafka_bootstrap_servers: str = Field(default="127.0.0.1:9092", validation_alias=_global("KAFKA_BOOTSTRAP_SERVERS"))
    kafka_enable_idempotence: bool = Field(
        default=False,
        validation_alias=_global("KAFKA_ENABLE_IDEMPOTENCE"),
        description="On for Apache Kafka; off for the development broker, which lacks InitProducerId.",
    )
    kafka_client_timeout_s: float = Field(default=10.0, validation_alias=_global("KAFKA_CLIENT_TIMEOUT_S"))
    jwt_issuer: str = Field(default="http://127.0.0.1:8001", validation_alias=_global("JWT_ISSUER"))
    jwt_audience: str = Field(default="prakerja", validation_alias=_global("JWT_AUDIENCE"))
    jwks_url: str = Field(default="http://127.0.0.1:8001/.well-known/jwks.json", validation_alias=_global("JWKS_URL"))
    token_url: str = Field(default="http://127.0.0.1:8001/v1/auth/token", validation_alias=_global("TOKEN_URL"))
    cors_origins: list[str] = Field(default=["*"], validation_alias=_global("CORS_ORIGINS"))
    max_body_bytes: int = Field(default=1_048_576, description="Largest request body accepted (bytes)")
    log_level: str = Field(default="INFO", validation_alias=_global("LOG_LEVEL"))
    var_dir: Path = Field(default=ROOT / "var", validation_alias=_global("VAR_DIR"))
    run_relay: bool = Field(default=True, description="Run the outbox relay in this process")
    run_consumers: bool = Field(default=True, description="Run the Kafka consumers in this process")
    consumer_max_retries: int = Field(default=5, validation_alias=_global("CONSUMER_MAX_RETRIES"))
    relay_batch_size: int = 500
    relay_poll_interval_s: float = 0.2

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.var_dir / (self.service_name + '.db')}"
