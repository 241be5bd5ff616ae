"""notification's rules: turning a request into deliveries, the retry and expiry policy, the inbox.

Nothing here commits; consumers, the dispatcher and the request session own their transactions.
"""

from __future__ import annotations

import base64
import binascii
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from services.notification import errors, repository
from services.notification.config import NotificationSettings
from services.notification.models import EXPIRED, FAILED, PENDING, SENT, Delivery, Notification
from services.notification.rendering import LOCALES, Rendered, Templates
from shared.db import utcnow
from shared.events.notification import NotificationSent
from shared.logging import mask
from shared.messaging import Outbox

Clock = Callable[[], datetime]


def _nothing() -> None:
    return None


@dataclass
class Notifier:
    """What the consumer, the dispatcher and the routes share. `clock` is injectable for tests."""

    settings: NotificationSettings
    templates: Templates
    outbox: Outbox
    clock: Clock = utcnow
    rng: random.Random = field(default_factory=random.Random)
    wake_dispatcher: Callable[[], None] = _nothing
    wake_relay: Callable[[], None] = _nothing


class InvalidRequest(ValueError):
    """A request that can never be delivered as it stands (no address for the channel, a bad address)."""


@dataclass(frozen=True)
class DeliveryRequest:
    """What to send, to whom, on which channels: a NotificationRequested, or one derived from a domain event."""

    account_id: uuid.UUID
    template: str
    channels: Sequence[str]
    locale: str = "id"
    email: str | None = None
    phone: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    expires_at: datetime | None = None


def normalize_email(value: str | None) -> str:
    if not value:
        raise InvalidRequest("an e-mail delivery needs `email`")
    try:
        return str(validate_email(value.strip(), check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        raise InvalidRequest(f"invalid e-mail address: {mask(str(exc))}") from exc


def normalize_phone(value: str | None) -> str:
    """E.164 (+62...), reading a local 08... number as Indonesian."""
    if not value:
        raise InvalidRequest("an SMS delivery needs `phone`")
    try:
        number = phonenumbers.parse(value.strip(), "ID")
    except phonenumbers.NumberParseException as exc:
        raise InvalidRequest("phone number cannot be parsed") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidRequest("phone number is not valid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_recipient(channel: str, address: str) -> str:
    """What logs and ops see of an address: s***@example.com, +6281*******90 (any country's number)."""
    if channel == "email":
        local, _, domain = address.rpartition("@")
        return f"{local[:1]}***@{domain}"
    return address[:5] + "*" * max(len(address) - 7, 0) + address[-2:]


def _on_commit(session: AsyncSession, callback: Callable[[], None]) -> None:
    """Run `callback` once the caller's transaction commits (waking a worker before it would find nothing)."""
    event.listen(session.sync_session, "after_commit", lambda _s: callback(), once=True)


async def accept(ctx: Notifier, session: AsyncSession, event_id: str, request: DeliveryRequest) -> list[Delivery]:
    """Create the deliveries of one event (idempotent per event and channel); the dispatcher sends them.

    Everything is checked and rendered before anything is written, so a request that cannot be delivered
    raises (UnknownTemplate, TemplateRenderError, InvalidRequest) and leaves no trace.
    """
    now = ctx.clock()
    expires_at = request.expires_at
    if expires_at is not None and expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)  # a producer's naive time is read as UTC, as events are
    channels = list(dict.fromkeys(request.channels))
    if not channels:
        raise InvalidRequest("no channels")
    planned: list[tuple[str, str | None, Rendered]] = []
    for channel in channels:
        ctx.templates.check(request.template, channel)
        recipient = (
            normalize_email(request.email)
            if channel == "email"
            else normalize_phone(request.phone)
            if channel == "sms"
            else None
        )
        rendered = ctx.templates.render(request.template, channel, request.locale, request.params)
        planned.append((channel, recipient, rendered))
    inbox = (
        {loc: ctx.templates.render(request.template, "inbox", loc, request.params) for loc in LOCALES}
        if "inbox" in channels
        else {}
    )

    done = await repository.channels_of_event(session, event_id)
    created: list[Delivery] = []
    for channel, recipient, rendered in planned:
        if channel in done:
            continue
        delivery = Delivery(
            id=uuid.uuid4(),
            account_id=request.account_id,
            event_id=event_id,
            template=request.template,
            channel=channel,
            locale=request.locale,
            recipient=recipient,
            recipient_masked=mask_recipient(channel, recipient) if recipient else None,
            subject=rendered.subject,
            body_text=rendered.text,
            body_html=rendered.html,
            status=PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            expires_at=expires_at,
        )
        session.add(delivery)
        created.append(delivery)
        if is_expired(delivery, now):
            await end(ctx, session, delivery, EXPIRED, now)
        elif channel == "inbox":
            # The inbox is our own table: delivered the moment the row exists.
            await session.flush()
            session.add(
                Notification(
                    id=uuid.uuid4(),
                    account_id=request.account_id,
                    delivery_id=delivery.id,
                    template=request.template,
                    locale=request.locale,
                    title_id=inbox["id"].subject or "",
                    body_id=inbox["id"].text,
                    title_en=inbox["en"].subject or "",
                    body_en=inbox["en"].text,
                    created_at=now,
                )
            )
            delivery.attempts = 1
            await end(ctx, session, delivery, SENT, now)
    if any(d.status == PENDING for d in created):
        _on_commit(session, ctx.wake_dispatcher)
    if any(d.status != PENDING for d in created):
        _on_commit(session, ctx.wake_relay)
    return created


def is_expired(delivery: Delivery, now: datetime) -> bool:
    """Past its `expires_at`: a one-time code or link that would arrive too late to be of use."""
    return delivery.expires_at is not None and delivery.expires_at <= now


def retry_delay(attempts: int, settings: NotificationSettings, rng: random.Random | None = None) -> float:
    """Seconds to wait after the `attempts`-th failed attempt: base * 2^(attempts-1), capped, minus jitter."""
    exponent = min(max(attempts, 1) - 1, 30)
    delay = min(settings.retry_base_s * 2**exponent, settings.retry_max_s)
    if settings.retry_jitter and rng is not None:
        delay *= 1 - settings.retry_jitter * rng.random()
    return delay


async def end(ctx: Notifier, session: AsyncSession, delivery: Delivery, status: str, now: datetime) -> None:
    """Close a delivery for good: content cleared (codes and tokens must not linger), notification.sent queued."""
    delivery.status = status
    delivery.ended_at = now
    delivery.lease_token = None
    delivery.next_attempt_at = None
    delivery.subject = delivery.body_text = delivery.body_html = None
    if status == SENT:
        delivery.sent_at = now
    await ctx.outbox.add(
        session,
        NotificationSent(
            account_id=delivery.account_id,
            delivery_id=delivery.id,
            template=delivery.template,
            channel=delivery.channel,
            status=status,
        ),
        key=delivery.account_id,
    )


async def record_failure(
    ctx: Notifier, session: AsyncSession, delivery: Delivery, error: str, *, permanent: bool, now: datetime
) -> None:
    """A send failed: retry later with back-off, or give up (permanent error, attempts spent, or too late)."""
    if delivery.recipient:  # the server may quote the address in any form; the general mask is a second net
        error = error.replace(delivery.recipient, delivery.recipient_masked or "***")
    delivery.last_error = mask(error)[:500]
    if permanent or delivery.attempts >= ctx.settings.max_attempts:
        await end(ctx, session, delivery, FAILED, now)
        return
    next_at = now + timedelta(seconds=retry_delay(delivery.attempts, ctx.settings, ctx.rng))
    if delivery.expires_at is not None and next_at >= delivery.expires_at:
        await end(ctx, session, delivery, EXPIRED, now)
        return
    delivery.status = PENDING
    delivery.lease_token = None
    delivery.next_attempt_at = next_at


async def mark_read(
    ctx: Notifier, session: AsyncSession, account_id: uuid.UUID, notification_id: uuid.UUID
) -> Notification:
    notification = await repository.notification_of(session, account_id, notification_id)
    if notification is None:
        raise errors.NotificationNotFound()
    if notification.read_at is None:
        notification.read_at = ctx.clock()
    return notification


async def mark_all_read(ctx: Notifier, session: AsyncSession, account_id: uuid.UUID) -> int:
    return await repository.mark_all_read(session, account_id, ctx.clock())


def encode_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    """An opaque page position: the (created_at, id) of the last item shown."""
    raw = f"{created_at.isoformat()}|{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> repository.Position | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, _, row_id = raw.partition("|")
        created_at = datetime.fromisoformat(stamp)
        if created_at.tzinfo is None:
            raise ValueError("naive timestamp")
        return created_at.astimezone(UTC), uuid.UUID(row_id)
    except (ValueError, OverflowError, UnicodeDecodeError, binascii.Error) as exc:
        raise errors.InvalidCursor() from exc
