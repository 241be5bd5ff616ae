"""notification's tables: deliveries (one per event and channel) and the in-app inbox."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import GUID, UTCDateTime, new_metadata, utcnow
from shared.messaging import messaging_tables

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
EXPIRED = "expired"
FINAL_STATUSES = (SENT, FAILED, EXPIRED)
# Literal (not bound parameters), so PostgreSQL can match queries to the partial index on it.
OPEN_PREDICATE = "status IN ('pending', 'sending')"


class Base(DeclarativeBase):
    metadata = new_metadata()


messaging = messaging_tables(Base.metadata)


class Delivery(Base):
    """One message on one channel for one event.

    The content is rendered when the event is consumed (so a bad template fails there, once) and cleared when
    the delivery ends, so one-time codes and link tokens do not linger. `recipient` is the real address, needed
    to send and never logged; `recipient_masked` is what logs and ops see.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "channel", name="uq_deliveries_event_id_channel"),
        # The dispatcher's queue: only open rows are indexed, so a claim reads the few due rows it takes.
        Index(
            "ix_deliveries_due",
            "next_attempt_at",
            postgresql_where=text(OPEN_PREDICATE),
            sqlite_where=text(OPEN_PREDICATE),
        ),
        Index("ix_deliveries_account_created", "account_id", "created_at"),
        Index("ix_deliveries_created", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(GUID())
    event_id: Mapped[str] = mapped_column(String(100))
    template: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(10))
    locale: Mapped[str] = mapped_column(String(5))
    recipient: Mapped[str | None] = mapped_column(String(254))
    recipient_masked: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str | None] = mapped_column(String(300))
    body_text: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    # While pending: when to try next. While sending: when the claim's lease runs out.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_token: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Notification(Base):
    """A message in an account's in-app inbox (the dashboard), kept in both languages so the dashboard can
    show it in the one it asks for; `locale` is the account's own choice, used when it asks for none."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_account_created", "account_id", "created_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(GUID())
    delivery_id: Mapped[uuid.UUID] = mapped_column(GUID(), ForeignKey("deliveries.id", ondelete="CASCADE"), unique=True)
    template: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(5))
    title_id: Mapped[str] = mapped_column(String(300))
    body_id: Mapped[str] = mapped_column(Text)
    title_en: Mapped[str] = mapped_column(String(300))
    body_en: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def text_in(self, locale: str) -> tuple[str, str]:
        """(title, body) in `locale`."""
        return (self.title_en, self.body_en) if locale == "en" else (self.title_id, self.body_id)


class Contact(Base):
    """Where to reach an account, learnt from identity's `account.contact_updated` (and profile's verified phone).

    Other services ask for e-mail or SMS by account id alone; the address never travels in their events.
    """

    __tablename__ = "contacts"

    account_id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    full_name: Mapped[str | None] = mapped_column(String(100))
    locale: Mapped[str] = mapped_column(String(5), default="id")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
