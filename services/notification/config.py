"""notification's settings (env prefix NOTIFICATION_)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class NotificationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFICATION_", extra="ignore", populate_by_name=True)

    service_name: str = "notification"
    port: int = 8005

    mail_from: str = Field(default="Kartu Prakerja <no-reply@prakerja.id>", description="From header of e-mails")
    smtp_host: str = Field(default="127.0.0.1", description="SMTP server (the local aiosmtpd under `make run`)")
    smtp_port: int = Field(default=1025, description="SMTP port (587 with STARTTLS, 465 with implicit TLS)")
    smtp_username: str = Field(default="", description="SMTP AUTH user; empty: no authentication")
    smtp_password: SecretStr = Field(default=SecretStr(""), description="SMTP AUTH password")
    smtp_starttls: bool = Field(default=False, description="Upgrade the connection with STARTTLS (port 587)")
    smtp_use_tls: bool = Field(default=False, description="Implicit TLS from the first byte (port 465)")
    smtp_timeout_s: float = Field(default=10.0, description="Timeout of one SMTP conversation")

    sms_gateway: Literal["sink", "http"] = Field(
        default="sink", description="`sink` appends to a JSON Lines file (development); `http` posts to a gateway"
    )
    sms_sink_path: Path | None = Field(default=None, description="File of the SMS sink; default var/sms.jsonl")
    sms_http_url: str = Field(default="", description="SMS gateway endpoint receiving POST {to, text, sender}")
    sms_http_api_key: SecretStr = Field(default=SecretStr(""), description="Sent as `Authorization: Bearer <key>`")
    sms_sender_id: str = Field(default="PRAKERJA", description="Alphanumeric sender id passed to the gateway")
    sms_http_timeout_s: float = Field(default=5.0, description="Timeout of one gateway request")
    sms_http_retries: int = Field(default=2, ge=0, description="Immediate retries of a failed gateway request")

    run_dispatcher: bool = Field(default=True, description="Run the delivery dispatcher in this process")
    max_attempts: int = Field(default=8, ge=1, description="Send attempts before a delivery is failed for good")
    retry_base_s: float = Field(default=30.0, gt=0, description="Wait after the first failed attempt; doubles")
    retry_max_s: float = Field(default=3600.0, gt=0, description="Longest wait between two attempts")
    retry_jitter: float = Field(
        default=0.1, ge=0, le=1, description="Waits are shortened at random by up to this fraction (spreads load)"
    )
    dispatch_batch_size: int = Field(default=50, ge=1, description="Deliveries claimed per dispatcher round")
    dispatch_concurrency: int = Field(default=8, ge=1, description="Sends in flight at once per dispatcher")
    dispatch_poll_interval_s: float = Field(default=1.0, gt=0, description="Idle dispatcher looks for due rows")
    lease_s: float = Field(
        default=120.0,
        gt=0,
        description="A claimed delivery is another dispatcher's to retry after this long; keep above the send timeouts",
    )

    def resolved_sms_sink_path(self) -> Path:
        return self.sms_sink_path or self.var_dir / "sms.jsonl"


@lru_cache
def get_settings() -> NotificationSettings:
    return NotificationSettings()
