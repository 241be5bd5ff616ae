"""Every query notification makes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.notification.models import OPEN_PREDICATE, SENDING, Contact, Delivery, Notification
from shared.db import utcnow

Position = tuple[datetime, uuid.UUID]


async def channels_of_event(session: AsyncSession, event_id: str) -> set[str]:
    rows = await session.scalars(select(Delivery.channel).where(Delivery.event_id == event_id))
    return set(rows)


async def due_deliveries(session: AsyncSession, now: datetime, limit: int, dialect: str) -> Sequence[Delivery]:
    """Deliveries to work on now: pending and due, or claimed by a dispatcher whose lease ran out.

    A pending row never waits past its expiry (a retry that would land later expires at once), so expired
    rows turn up here in time too.

    PostgreSQL skips rows another dispatcher has locked, so parallel dispatchers split the work; SQLite's
    BEGIN IMMEDIATE already lets only one writer in.
    """
    query: Any = (
        select(Delivery)
        .where(text(OPEN_PREDICATE), Delivery.next_attempt_at <= now)
        .order_by(Delivery.next_attempt_at)
        .limit(limit)
    )
    if dialect == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return (await session.scalars(query)).all()


async def claimed_delivery(session: AsyncSession, delivery_id: uuid.UUID, lease_token: str) -> Delivery | None:
    """The delivery if this dispatcher's claim still holds (the lease did not pass to someone else)."""
    return await session.scalar(
        select(Delivery).where(
            Delivery.id == delivery_id, Delivery.status == SENDING, Delivery.lease_token == lease_token
        )
    )


def _before(created_col: Any, id_col: Any, position: Position) -> Any:
    """Keyset condition for newest-first pages: strictly after `position` in (created_at, id) descending."""
    created_at, row_id = position
    return or_(created_col < created_at, and_(created_col == created_at, id_col < row_id))


async def inbox_page(
    session: AsyncSession, account_id: uuid.UUID, *, limit: int, after: Position | None, unread_only: bool
) -> Sequence[Notification]:
    query = select(Notification).where(Notification.account_id == account_id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    if after is not None:
        query = query.where(_before(Notification.created_at, Notification.id, after))
    query = query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
    return (await session.scalars(query)).all()


async def unread_count(session: AsyncSession, account_id: uuid.UUID) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.account_id == account_id, Notification.read_at.is_(None))
    )
    return int(count or 0)


async def notification_of(
    session: AsyncSession, account_id: uuid.UUID, notification_id: uuid.UUID
) -> Notification | None:
    return await session.scalar(
        select(Notification).where(Notification.id == notification_id, Notification.account_id == account_id)
    )


async def mark_all_read(session: AsyncSession, account_id: uuid.UUID, now: datetime) -> int:
    result = await session.execute(
        update(Notification)
        .where(Notification.account_id == account_id, Notification.read_at.is_(None))
        .values(read_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def deliveries_page(
    session: AsyncSession,
    *,
    account_id: uuid.UUID | None,
    status: str | None,
    channel: str | None,
    template: str | None,
    limit: int,
    after: Position | None,
) -> Sequence[Delivery]:
    query = select(Delivery)
    if account_id is not None:
        query = query.where(Delivery.account_id == account_id)
    if status is not None:
        query = query.where(Delivery.status == status)
    if channel is not None:
        query = query.where(Delivery.channel == channel)
    if template is not None:
        query = query.where(Delivery.template == template)
    if after is not None:
        query = query.where(_before(Delivery.created_at, Delivery.id, after))
    query = query.order_by(Delivery.created_at.desc(), Delivery.id.desc()).limit(limit)
    return (await session.scalars(query)).all()


async def contact_of(session: AsyncSession, account_id: uuid.UUID) -> Contact | None:
    return await session.get(Contact, account_id)


async def save_contact(session: AsyncSession, account_id: uuid.UUID, **fields: Any) -> Contact:
    contact = await session.get(Contact, account_id)
    if contact is None:
        contact = Contact(account_id=account_id)
        session.add(contact)
    for name, value in fields.items():
        if value is not None:
            setattr(contact, name, value)
    contact.updated_at = utcnow()
    return contact
