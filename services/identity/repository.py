"""Every query identity makes."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.models import Account, Client, EmailToken, RefreshToken, SigningKey


async def account_by_email(session: AsyncSession, email: str) -> Account | None:
    result = await session.execute(select(Account).where(Account.email == email))
    return result.scalar_one_or_none()


async def account_by_id(session: AsyncSession, account_id: uuid.UUID) -> Account | None:
    return await session.get(Account, account_id)


async def email_token_by_hash(session: AsyncSession, token_hash: str) -> EmailToken | None:
    result = await session.execute(select(EmailToken).where(EmailToken.token_hash == token_hash))
    return result.scalar_one_or_none()


async def invalidate_email_tokens(session: AsyncSession, account_id: uuid.UUID, purpose: str, now: datetime) -> None:
    await session.execute(
        update(EmailToken)
        .where(EmailToken.account_id == account_id, EmailToken.purpose == purpose, EmailToken.used_at.is_(None))
        .values(used_at=now)
    )


async def refresh_by_hash(session: AsyncSession, token_hash: str) -> RefreshToken | None:
    result = await session.execute(select(RefreshToken).where(RefreshToken.token_hash == token_hash))
    return result.scalar_one_or_none()


async def revoke_family(session: AsyncSession, family_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def revoke_all_sessions(session: AsyncSession, account_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.account_id == account_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def client_by_id(session: AsyncSession, client_id: str) -> Client | None:
    return await session.get(Client, client_id)


async def active_signing_key(session: AsyncSession) -> SigningKey | None:
    result = await session.execute(
        select(SigningKey).where(SigningKey.active.is_(True)).order_by(SigningKey.created_at.desc()).limit(1)
    )
    return result.scalar_one_or_none()


async def published_keys(session: AsyncSession, rotated_after: datetime) -> list[dict[str, str]]:
    result = await session.execute(
        select(SigningKey.public_jwk)
        .where(or_(SigningKey.active.is_(True), SigningKey.rotated_out_at > rotated_after))
        .order_by(SigningKey.created_at.desc())
    )
    return [json.loads(row) for row in result.scalars()]


async def deactivate_keys(session: AsyncSession, now: datetime) -> None:
    await session.execute(
        update(SigningKey).where(SigningKey.active.is_(True)).values(active=False, rotated_out_at=now)
    )


async def count_accounts(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(Account))).scalar_one())
