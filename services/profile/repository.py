"""Every query profile makes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.models import (
    AccountName,
    Address,
    AuditEntry,
    Declaration,
    Document,
    NikClaim,
    PhoneOtp,
    Profile,
    RegistryRecord,
    VerificationAttempt,
)
from shared.db import dialect_insert
from shared.messaging.tables import insert_ignore


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


# accounts projection


async def account_name(session: AsyncSession, account_id: uuid.UUID) -> AccountName | None:
    return await session.get(AccountName, account_id)


async def upsert_account_name(
    session: AsyncSession, account_id: uuid.UUID, full_name: str, locale: str, confirmed_at: datetime
) -> None:
    stmt = dialect_insert(AccountName, _dialect(session)).values(
        account_id=account_id, full_name=full_name, locale=locale, confirmed_at=confirmed_at
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[AccountName.account_id],
        set_={"full_name": stmt.excluded.full_name, "locale": stmt.excluded.locale},
    )
    await session.execute(stmt)


# profiles


async def profile(session: AsyncSession, account_id: uuid.UUID, *, for_update: bool = False) -> Profile | None:
    query = select(Profile).where(Profile.account_id == account_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def ensure_profile(session: AsyncSession, account_id: uuid.UUID, now: datetime) -> Profile:
    """The account's profile row, created on first use (safe against a concurrent first use)."""
    await session.execute(
        insert_ignore(Profile.__table__, _dialect(session)).values(  # type: ignore[arg-type]
            account_id=account_id, created_at=now, updated_at=now
        )
    )
    row = await profile(session, account_id, for_update=True)
    assert row is not None
    return row


async def nik_holder(session: AsyncSession, nik_hash: str) -> Profile | None:
    """The profile on which this NIK is verified, if any."""
    query = select(Profile).where(Profile.nik_hash == nik_hash, Profile.identity_verified_at.is_not(None))
    return (await session.execute(query)).scalar_one_or_none()


async def phone_holder(session: AsyncSession, phone: str) -> Profile | None:
    query = select(Profile).where(Profile.phone_e164 == phone, Profile.phone_verified_at.is_not(None))
    return (await session.execute(query)).scalar_one_or_none()


async def mark_completed(session: AsyncSession, account_id: uuid.UUID, now: datetime) -> bool:
    """Set completed_at if not yet set; True for the single caller that set it."""
    result = await session.execute(
        update(Profile)
        .where(Profile.account_id == account_id, Profile.completed_at.is_(None))
        .values(completed_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


# addresses and documents


async def addresses(session: AsyncSession, account_id: uuid.UUID) -> dict[str, Address]:
    rows = (await session.execute(select(Address).where(Address.account_id == account_id))).scalars()
    return {row.kind: row for row in rows}


async def replace_addresses(session: AsyncSession, account_id: uuid.UUID, rows: Sequence[Address]) -> None:
    await session.execute(delete(Address).where(Address.account_id == account_id))
    session.add_all(rows)
    await session.flush()


async def documents(session: AsyncSession, account_id: uuid.UUID) -> list[Document]:
    query = select(Document).where(Document.account_id == account_id).order_by(Document.kind)
    return list((await session.execute(query)).scalars())


async def document(session: AsyncSession, account_id: uuid.UUID, kind: str) -> Document | None:
    return await session.get(Document, (account_id, kind))


# verification attempts


async def add_attempt(session: AsyncSession, attempt: VerificationAttempt) -> None:
    session.add(attempt)
    await session.flush()


async def attempts(session: AsyncSession, account_id: uuid.UUID, limit: int = 100) -> list[VerificationAttempt]:
    query = (
        select(VerificationAttempt)
        .where(VerificationAttempt.account_id == account_id)
        .order_by(VerificationAttempt.id.desc())
        .limit(limit)
    )
    return list((await session.execute(query)).scalars())


async def count_attempts(session: AsyncSession, account_id: uuid.UUID) -> int:
    query = select(func.count()).select_from(VerificationAttempt).where(VerificationAttempt.account_id == account_id)
    return int((await session.execute(query)).scalar_one())


# phone codes


async def latest_otp(session: AsyncSession, account_id: uuid.UUID) -> PhoneOtp | None:
    query = (
        select(PhoneOtp)
        .where(PhoneOtp.account_id == account_id)
        .order_by(PhoneOtp.created_at.desc())
        .limit(1)
        .with_for_update()
    )
    return (await session.execute(query)).scalar_one_or_none()


async def otps_since(
    session: AsyncSession, since: datetime, *, account_id: uuid.UUID | None = None, phone: str | None = None
) -> list[datetime]:
    """Creation times of the codes sent since `since` to an account or to a number, oldest first."""
    query = select(PhoneOtp.created_at).where(PhoneOtp.created_at >= since).order_by(PhoneOtp.created_at)
    if account_id is not None:
        query = query.where(PhoneOtp.account_id == account_id)
    if phone is not None:
        query = query.where(PhoneOtp.phone_e164 == phone)
    return list((await session.execute(query)).scalars())


async def kill_live_otps(session: AsyncSession, account_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(PhoneOtp)
        .where(PhoneOtp.account_id == account_id, PhoneOtp.verified_at.is_(None), PhoneOtp.dead_at.is_(None))
        .values(dead_at=now)
        .execution_options(synchronize_session=False)
    )


# declarations, audit


async def add_declaration(session: AsyncSession, row: Declaration) -> None:
    session.add(row)
    await session.flush()


async def audit(session: AsyncSession, entry: AuditEntry) -> None:
    session.add(entry)
    await session.flush()


async def audit_entries(session: AsyncSession, subject: uuid.UUID | None = None) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id)
    if subject is not None:
        query = query.where(AuditEntry.subject_account_id == subject)
    return list((await session.execute(query)).scalars())


# NIK claims


async def claim(session: AsyncSession, claim_id: uuid.UUID, *, for_update: bool = False) -> NikClaim | None:
    query = select(NikClaim).where(NikClaim.id == claim_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def open_claim(session: AsyncSession, claimant_id: uuid.UUID, nik_hash: str) -> NikClaim | None:
    query = select(NikClaim).where(
        NikClaim.claimant_id == claimant_id, NikClaim.nik_hash == nik_hash, NikClaim.status == "open"
    )
    return (await session.execute(query)).scalars().first()


async def claims_page(session: AsyncSession, status: str | None, limit: int, offset: int) -> tuple[list[NikClaim], int]:
    query = select(NikClaim)
    count = select(func.count()).select_from(NikClaim)
    if status:
        query = query.where(NikClaim.status == status)
        count = count.where(NikClaim.status == status)
    rows = await session.execute(query.order_by(NikClaim.opened_at, NikClaim.id).limit(limit).offset(offset))
    return list(rows.scalars()), int((await session.execute(count)).scalar_one())


async def claims_of(session: AsyncSession, claimant_id: uuid.UUID) -> list[NikClaim]:
    query = select(NikClaim).where(NikClaim.claimant_id == claimant_id).order_by(NikClaim.opened_at.desc())
    return list((await session.execute(query)).scalars())


async def add_claim(session: AsyncSession, row: NikClaim) -> None:
    session.add(row)
    await session.flush()


# the embedded civil registry


async def registry_record(session: AsyncSession, nik: str) -> RegistryRecord | None:
    return await session.get(RegistryRecord, nik)


async def upsert_registry(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Insert or refresh a batch of registry rows in one statement (set-based, so a reload is idempotent)."""
    stmt = dialect_insert(RegistryRecord, _dialect(session))
    columns = [c.name for c in RegistryRecord.__table__.columns if c.name != "nik"]
    stmt = stmt.on_conflict_do_update(
        index_elements=[RegistryRecord.nik], set_={c: getattr(stmt.excluded, c) for c in columns}
    )
    await session.execute(stmt, rows)


async def count_registry(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(RegistryRecord))).scalar_one())
