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
    db_pool_size: int = Field(default=10, description="Connections kept per process (PostgreSQL)")
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092",
        validation_alias=_global("KAFKA_BOOTSTRAP_SERVERS"),
        description="Kafka brokers, comma separated; `make run` starts the development broker unless this is set",
    )
    kafka_enable_idempotence: bool = Field(
        default=False,
        validation_alias=_global("KAFKA_ENABLE_IDEMPOTENCE"),
        description="On for Apache Kafka; off for the development broker, which lacks InitProducerId.",
    )
    kafka_client_timeout_s: float = Field(
        default=10.0, validation_alias=_global("KAFKA_CLIENT_TIMEOUT_S"), description="Kafka request timeout"
    )
    jwt_issuer: str = Field(
        default="http://127.0.0.1:8001", validation_alias=_global("JWT_ISSUER"), description="`iss` of access tokens"
    )
    jwt_audience: str = Field(
        default="prakerja", validation_alias=_global("JWT_AUDIENCE"), description="`aud` of access tokens"
    )
    jwks_url: str = Field(
        default="http://127.0.0.1:8001/.well-known/jwks.json",
        validation_alias=_global("JWKS_URL"),
        description="Where services fetch identity's public keys",
    )
    token_url: str = Field(
        default="http://127.0.0.1:8001/v1/auth/token",
        validation_alias=_global("TOKEN_URL"),
        description="Token endpoint used by each service's Swagger UI (Authorize)",
    )
    cors_origins: list[str] = Field(
        default=["*"], validation_alias=_global("CORS_ORIGINS"), description="Allowed browser origins (JSON list)"
    )
    max_body_bytes: int = Field(default=1_048_576, description="Largest request body accepted (bytes)")
    log_level: str = Field(default="INFO", validation_alias=_global("LOG_LEVEL"), description="Level of the JSON logs")
    var_dir: Path = Field(default=ROOT / "var", validation_alias=_global("VAR_DIR"))
    run_relay: bool = Field(default=True, description="Run the outbox relay in this process")
    run_consumers: bool = Field(default=True, description="Run the Kafka consumers in this process")
    consumer_max_retries: int = Field(
        default=5,
        validation_alias=_global("CONSUMER_MAX_RETRIES"),
        description="Attempts at one event before it goes to the `<topic>.dlt` dead-letter topic",
    )
    relay_batch_size: int = Field(default=500, description="Outbox rows published per relay round")
    relay_poll_interval_s: float = Field(default=0.2, description="How often an idle relay looks at the outbox")

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.var_dir / (self.service_name + '.db')}"
