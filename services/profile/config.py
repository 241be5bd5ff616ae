"""profile's settings (env prefix PROFILE_); nothing else in the service reads the environment."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.settings import ROOT, ServiceSettings

MIB = 1024 * 1024


class ProfileSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PROFILE_", extra="ignore", populate_by_name=True)

    service_name: str = "profile"
    port: int = 8002

    # Civil registry (Dukcapil)
    registry_mode: Literal["embedded", "http"] = Field(
        default="embedded",
        description="embedded: the registry table in profile's own DB (dev data); http: a Dukcapil-style web service",
    )
    registry_csv: Path = Field(default=ROOT / "deploy" / "dev" / "civil_registry.csv")
    registry_url: str = Field(default="", description="Dukcapil-style NIK verification endpoint (POST)")
    registry_user_id: str = ""
    registry_password: SecretStr = SecretStr("")
    registry_ip_user: str = Field(default="127.0.0.1", description="Caller IP the registry agreement names")
    registry_timeout_s: float = 3.0
    registry_retries: int = Field(default=2, description="Extra tries after a failed call")
    registry_backoff_s: float = Field(default=0.2, description="First retry delay; doubles each retry")
    registry_breaker_failures: int = Field(default=5, description="Consecutive failed lookups that open the breaker")
    registry_breaker_open_s: float = Field(default=30.0, description="How long the open breaker refuses calls")
    rate_identity_per_hour: int = Field(default=10, description="NIK verification attempts per account per hour")

    # Encryption at rest (AES-GCM) and the keyed blind index (HMAC-SHA256)
    encryption_keys: SecretStr = Field(
        default=SecretStr(""),
        description='"kid:base64key,..." (32-byte keys), the first encrypts; empty = key file under var/ (dev)',
    )
    blind_index_key: SecretStr = Field(
        default=SecretStr(""), description="base64 key of the NIK/KK blind index; empty = key file under var/ (dev)"
    )
    require_keys: bool = Field(default=False, description="Refuse to start without configured keys (production)")

    # Images and object storage
    storage_backend: Literal["filesystem", "s3"] = "filesystem"
    objects_dir: Path = Field(default=ROOT / "var" / "objects")
    s3_endpoint: str = Field(
        default="", description="S3-compatible endpoint, e.g. https://s3.ap-southeast-3.amazonaws.com"
    )
    s3_bucket: str = ""
    s3_region: str = "us-east-1"
    s3_access_key: str = ""
    s3_secret_key: SecretStr = SecretStr("")
    image_max_bytes: int = Field(default=10 * MIB, description="Largest image upload")
    image_max_pixels: int = Field(default=40_000_000, description="Largest decoded image (decompression bombs)")
    image_max_side: int = Field(default=2000, description="Stored images are downscaled to this long side")
    image_jpeg_quality: int = 85
    image_min_width: int = Field(default=400, description="Long side must be at least this many pixels")
    image_min_height: int = Field(default=300, description="Short side must be at least this many pixels")
    image_min_luminance: float = Field(default=40.0, description="Mean luminance (0-255) below which it is too dark")
    image_min_stddev: float = Field(default=8.0, description="Luminance spread below which the image is blank")
    rate_uploads_per_hour: int = 30

    # Phone OTP
    otp_ttl_s: int = Field(default=300, description="An SMS code is valid 5 minutes")
    otp_max_attempts: int = Field(default=5, description="Wrong codes before the code is dead")
    otp_resend_gap_s: int = Field(default=60, description="Minimum gap between two codes")
    otp_per_hour: int = Field(default=5, description="Codes per account (and per number) per hour")

    # Dukcapil call centre, named in the advice when a NIK is not linked to a KK
    dukcapil_call_centre: str = "1500-537"


@lru_cache
def get_settings() -> ProfileSettings:
    return ProfileSettings()
