"""profile's tables. NIK and KK are stored only encrypted, next to their blind index (HMAC)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import GUID, UTCDateTime, new_metadata, utcnow
from shared.messaging import messaging_tables
from shared.ratelimit import rate_limit_table

_ID = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = new_metadata()


messaging = messaging_tables(Base.metadata)
rate_limits = rate_limit_table(Base.metadata)


class AccountName(Base):
    """Projection of identity's confirmed accounts: the full name (as on the KTP) the registry name must match."""

    __tablename__ = "accounts"

    account_id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True)
    full_name: Mapped[str] = mapped_column(String(100))
    locale: Mapped[str] = mapped_column(String(5), default="id")
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Profile(Base):
    __tablename__ = "profiles"
    __table_args__ = (
        # One NIK, one account: unique among verified profiles (a revoked holder keeps the ciphertext for audit).
        Index(
            "uq_profiles_nik_hash_verified",
            "nik_hash",
            unique=True,
            postgresql_where=text("identity_verified_at IS NOT NULL"),
            sqlite_where=text("identity_verified_at IS NOT NULL"),
        ),
        Index(
            "uq_profiles_phone_verified",
            "phone_e164",
            unique=True,
            postgresql_where=text("phone_verified_at IS NOT NULL"),
            sqlite_where=text("phone_verified_at IS NOT NULL"),
        ),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    nik_cipher: Mapped[str | None] = mapped_column(String(200))
    nik_hash: Mapped[str | None] = mapped_column(String(64))
    kk_cipher: Mapped[str | None] = mapped_column(String(200))
    kk_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    birth_date: Mapped[date | None] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(1))
    identity_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    identity_revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    identity_revoked_reason: Mapped[str | None] = mapped_column(String(200))

    education: Mapped[str | None] = mapped_column(String(10))
    employment_status: Mapped[str | None] = mapped_column(String(20))
    is_student: Mapped[bool | None] = mapped_column(Boolean)
    domicile_same_as_ktp: Mapped[bool | None] = mapped_column(Boolean)
    personal_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    phone_e164: Mapped[str | None] = mapped_column(String(20))
    phone_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    declaration_version: Mapped[str | None] = mapped_column(String(20))
    declaration_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # Set once, by a conditional update, in the transaction that queues profile.completed.
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Address(Base):
    """The KTP (residential) address and the domicile address, as Kemendagri codes plus street and RT/RW."""

    __tablename__ = "addresses"

    account_id: Mapped[uuid.UUID] = mapped_column(
        GUID(), ForeignKey("profiles.account_id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)  # ktp | domicile
    province_code: Mapped[str] = mapped_column(String(2))
    regency_code: Mapped[str] = mapped_column(String(4))
    district_code: Mapped[str] = mapped_column(String(6))
    village_code: Mapped[str] = mapped_column(String(10))
    street: Mapped[str] = mapped_column(String(200))
    rt: Mapped[str] = mapped_column(String(3))
    rw: Mapped[str] = mapped_column(String(3))
    postal_code: Mapped[str] = mapped_column(String(5))


class Document(Base):
    """A KTP photo or a selfie with the KTP: re-encoded JPEG in object storage; this row points at it."""

    __tablename__ = "documents"

    account_id: Mapped[uuid.UUID] = mapped_column(
        GUID(), ForeignKey("profiles.account_id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)  # ktp | selfie
    object_key: Mapped[str] = mapped_column(String(300))
    content_type: Mapped[str] = mapped_column(String(50))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PhoneOtp(Base):
    """A one-time SMS code; only a salted hash is kept."""

    __tablename__ = "phone_otps"

    id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(GUID(), index=True)
    phone_e164: Mapped[str] = mapped_column(String(20), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    salt: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    dead_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Declaration(Base):
    """Each accepted declaration, with the text version the applicant saw."""

    __tablename__ = "declarations"

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    account_id: Mapped[uuid.UUID] = mapped_column(GUID(), index=True)
    version: Mapped[str] = mapped_column(String(20))
    statements: Mapped[str] = mapped_column(Text)  # JSON list of statement ids affirmed
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime())


class VerificationAttempt(Base):
    """Every NIK verification attempt and its outcome; the NIK only as its blind index."""

    __tablename__ = "verification_attempts"

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    account_id: Mapped[uuid.UUID] = mapped_column(GUID(), index=True)
    nik_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    purpose: Mapped[str] = mapped_column(String(20))  # identity | claim
    outcome: Mapped[str] = mapped_column(String(50))
    registry_mode: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class NikClaim(Base):
    """The rightful owner of a NIK that another account holds asks ops to decide who keeps it."""

    __tablename__ = "nik_claims"

    id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True, default=uuid.uuid4)
    claimant_id: Mapped[uuid.UUID] = mapped_column(GUID(), index=True)
    holder_id: Mapped[uuid.UUID] = mapped_column(GUID(), index=True)
    nik_cipher: Mapped[str] = mapped_column(String(200))
    nik_hash: Mapped[str] = mapped_column(String(64), index=True)
    kk_cipher: Mapped[str | None] = mapped_column(String(200))
    kk_hash: Mapped[str | None] = mapped_column(String(64))
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(1))
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | claimant | holder
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decision_note: Mapped[str | None] = mapped_column(Text)


class AuditEntry(Base):
    """Who read or changed whose personal data, when and why."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(100))
    actor_roles: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(50))
    subject_account_id: Mapped[uuid.UUID | None] = mapped_column(GUID(), index=True)
    target: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(String(500))
    request_id: Mapped[str | None] = mapped_column(String(100))


class RegistryRecord(Base):
    """The embedded civil registry (synthetic Dukcapil data from deploy/dev/civil_registry.csv)."""

    __tablename__ = "registry_records"

    nik: Mapped[str] = mapped_column(String(16), primary_key=True)
    kk: Mapped[str | None] = mapped_column(String(16))
    full_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date] = mapped_column(Date)
    birth_place: Mapped[str] = mapped_column(String(100))
    gender: Mapped[str] = mapped_column(String(1))
    address: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10))
    kk_linked: Mapped[bool] = mapped_column(Boolean)
