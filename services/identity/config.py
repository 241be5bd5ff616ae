from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class IdentitySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="IDENTITY_", extra="ignore", populate_by_name=True)

    service_name: str = "identity"
    port: int = 8001
    access_token_ttl_s: int = Field(default=900, description="Access token lifetime (15 minutes)")
    refresh_token_ttl_s: int = Field(default=30 * 24 * 3600, description="Refresh token lifetime")
    confirm_token_ttl_s: int = Field(default=24 * 3600, description="E-mail confirmation link lifetime")
    reset_token_ttl_s: int = Field(default=3600, description="Password reset link lifetime")
    confirm_url: str = Field(
        default="http://localhost:3000/konfirmasi-email?token={token}",
        description="Link put in the confirmation e-mail; {token} is replaced",
    )
    reset_url: str = Field(
        default="http://localhost:3000/atur-ulang-sandi?token={token}",
        description="Link put in the password reset e-mail; {token} is replaced",
    )
    argon2_memory_kib: int = Field(default=19456, description="argon2id memory cost (OWASP: 19 MiB)")
    argon2_time_cost: int = 2
    argon2_parallelism: int = 1
    hash_workers: int = Field(default=2, description="Threads that hash passwords, off the event loop")
    login_max_failures: int = Field(default=5, description="Failed logins before the account locks")
    lockout_base_s: int = Field(default=60, description="First lock duration; doubles with each further failure")
    lockout_max_s: int = 24 * 3600
    rate_login_per_ip: int = Field(default=30, description="Token requests per IP per minute")
    rate_register_per_ip: int = Field(default=20, description="Registrations per IP per minute")
    rate_resend_per_ip: int = Field(default=10, description="Confirmation/reset e-mails per IP per minute")
    resend_min_interval_s: int = Field(default=60, description="Minimum gap between two e-mails to one address")
    resend_per_hour: int = 5
    trust_forwarded_for: bool = Field(default=False, description="Take the client IP from X-Forwarded-For")
    signing_key_passphrase: str = Field(default="", description="Encrypts private signing keys at rest when set")
    account_cache_ttl_s: float = Field(default=5.0, description="How long GET /v1/accounts/me may serve a cached read")
    key_retire_after_s: int = Field(default=24 * 3600, description="How long a rotated-out key stays in the JWKS")


@lru_cache
def get_settings() -> IdentitySettings:
    return IdentitySettings()
