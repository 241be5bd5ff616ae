"""identity's tables."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import GUID, UTCDateTime, new_metadata, utcnow
from shared.messaging import messaging_tables
from shared.ratelimit import rate_limit_table


class Base(DeclarativeBase):
    metadata = new_metadata()


messaging = messaging_tables(Base.metadata)
rate_limits = rate_limit_table(Base.metadata)


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True, default=uuid.uuid4)
    full_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(30), default="pending_confirmation")
    roles: Mapped[str] = mapped_column(String(200), default="applicant")
    locale: Mapped[str] = mapped_column(String(5), default="id")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Bumped when every session must end (password reset, "log out everywhere"); access tokens carry it.
    session_version: Mapped[int] = mapped_column(Integer, default=0)

    @property
    def role_list(self) -> list[str]:
        return [r for r in self.roles.split(",") if r]


class EmailToken(Base):
    """A single-use link token (e-mail confirmation or password reset); only its SHA-256 is stored."""

    __tablename__ = "email_tokens"

    id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(GUID(), ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RefreshToken(Base):
    """A rotating refresh token; all tokens descended from one sign-in share a family."""

    __tablename__ = "refresh_tokens"

    id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(GUID(), ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[uuid.UUID] = mapped_column(GUID(), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Client(Base):
    """A partner platform or internal service using the client_credentials grant."""

    __tablename__ = "clients"

    client_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(200))
    roles: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)

    @property
    def role_list(self) -> list[str]:
        return [r for r in self.roles.split(",") if r]


class SigningKey(Base):
    """An RSA key pair; the active one signs, the others stay in the JWKS until retired."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    private_pem: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    rotated_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
