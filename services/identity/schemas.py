"""identity's request and response models (they are the OpenAPI docs frontends and ops read)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from services.identity.validation import check_password, normalize_email, normalize_full_name


class StrictBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=1000)


class AccountCreate(StrictBody):
    """A self-registration. The full name must be written exactly as on the KTP: it cannot be changed later."""

    full_name: str = Field(max_length=200, examples=["Siti Nurhaliza"], description="Exactly as on the KTP")
    email: str = Field(max_length=254, examples=["siti.nurhaliza@example.com"])
    password: str = Field(max_length=1000, examples=["Pelatihan-Kerja-2026"], description="At least 8 characters")
    locale: Literal["id", "en"] = Field(default="id", description="Language of e-mails and messages")

    @field_validator("full_name")
    @classmethod
    def _name(cls, value: str) -> str:
        return normalize_full_name(value)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return normalize_email(value)

    @field_validator("password")
    @classmethod
    def _password(cls, value: str, info: ValidationInfo) -> str:
        check_password(value, email=info.data.get("email", ""), full_name=info.data.get("full_name", ""))
        return value


class Account(BaseModel):
    """An account as its owner sees it."""

    id: uuid.UUID
    full_name: str
    email: str
    status: Literal["pending_confirmation", "active", "disabled"]
    roles: list[str]
    locale: Literal["id", "en"]
    created_at: datetime
    confirmed_at: datetime | None = None


class ConfirmRequest(StrictBody):
    token: str = Field(min_length=10, max_length=200, description="The token from the link in the e-mail")


class EmailRequest(StrictBody):
    email: str = Field(max_length=254, examples=["siti.nurhaliza@example.com"])

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return normalize_email(value)


class PasswordResetConfirm(StrictBody):
    token: str = Field(min_length=10, max_length=200)
    new_password: str = Field(max_length=1000)


class Accepted(BaseModel):
    """The request was taken; what happens next does not depend on whether the e-mail is registered."""

    status: Literal["accepted"] = "accepted"
    detail: str


class TokenResponse(BaseModel):
    """OAuth 2.0 token response (RFC 6749 section 5.1)."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - not a secret
    expires_in: int = Field(description="Seconds the access token is valid")
    refresh_token: str | None = Field(default=None, description="Rotating; each use returns a new one")
    scope: str = Field(default="", description="Roles granted, space separated")


class LogoutRequest(StrictBody):
    refresh_token: str | None = Field(default=None, max_length=200, description="Ends this session")
    all_sessions: bool = Field(default=False, description="End every session of the account")


class JWKS(BaseModel):
    keys: list[dict[str, str]]
