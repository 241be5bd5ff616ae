"""assessment's tables: the versioned question bank, test sessions with their drawn items, and scores."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import GUID, UTCDateTime, new_metadata
from shared.messaging import messaging_tables

IN_PROGRESS = "in_progress"
FINISHED = "finished"


class Base(DeclarativeBase):
    metadata = new_metadata()


messaging = messaging_tables(Base.metadata)


class BankVersion(Base):
    """One imported question bank. Versions never change once imported: sessions and scores refer to them."""

    __tablename__ = "bank_versions"

    version: Mapped[str] = mapped_column(String(50), primary_key=True)
    title: Mapped[dict[str, str]] = mapped_column(JSON)
    content_sha256: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())
    imported_by: Mapped[uuid.UUID | None] = mapped_column(GUID())


class BankSection(Base):
    __tablename__ = "bank_sections"

    bank_version: Mapped[str] = mapped_column(ForeignKey("bank_versions.version"), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))
    draw: Mapped[int] = mapped_column(Integer)
    title: Mapped[dict[str, str]] = mapped_column(JSON)
    instructions: Mapped[dict[str, str]] = mapped_column(JSON)
    # Likert sections only: [{"value": 1, "label": {"id": ..., "en": ...}}, ...] in ascending order.
    scale: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)


class BankItem(Base):
    """A question. `answer` (choice) and `reverse` (likert) are the scoring keys: never shown to applicants."""

    __tablename__ = "bank_items"
    __table_args__ = (
        ForeignKeyConstraint(["bank_version", "section_code"], ["bank_sections.bank_version", "bank_sections.code"]),
    )

    bank_version: Mapped[str] = mapped_column(ForeignKey("bank_versions.version"), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    section_code: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[dict[str, str]] = mapped_column(JSON)
    # Choice items only: [{"key": "A", "text": {"id": ..., "en": ...}}, ...] and the one correct key.
    options: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    answer: Mapped[str | None] = mapped_column(String(1))
    # Likert items only.
    reverse: Mapped[bool | None] = mapped_column(Boolean)
    facet: Mapped[str | None] = mapped_column(String(60))


class ActiveBank(Base):
    """The one version new sessions draw from (a single row, so activations simply overwrite it)."""

    __tablename__ = "active_bank"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank_version: Mapped[str] = mapped_column(ForeignKey("bank_versions.version"))
    activated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    activated_by: Mapped[uuid.UUID | None] = mapped_column(GUID())


class Applicant(Base):
    """From identity's `account.confirmed`: the name the "test done" message greets, and the language."""

    __tablename__ = "applicants"

    account_id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True)
    full_name: Mapped[str] = mapped_column(String(100))
    locale: Mapped[str] = mapped_column(String(5))
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CompletedProfile(Base):
    """From profile's `profile.completed`: the applicant may take the test."""

    __tablename__ = "completed_profiles"

    account_id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True)
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Attempt(Base):
    """An applicant's one test session (the API's `/v1/tests/me/session`): in progress until submitted or swept
    at the deadline, then finished for good. Named "attempt" in code so it is never confused with a DB session."""

    __tablename__ = "attempts"
    __table_args__ = (Index("ix_attempts_status_deadline", "status", "deadline_at"),)

    id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True, default=uuid.uuid4)
    # Unique: one test per account, ever (no retake), and two concurrent starts cannot both create one.
    account_id: Mapped[uuid.UUID] = mapped_column(GUID(), unique=True)
    bank_version: Mapped[str] = mapped_column(ForeignKey("bank_versions.version"))
    status: Mapped[str] = mapped_column(String(20))
    locale: Mapped[str] = mapped_column(String(5))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finish_reason: Mapped[str | None] = mapped_column(String(20))
    total_score: Mapped[float | None] = mapped_column(Float)


class AttemptItem(Base):
    """An item drawn for one attempt, the order its options are shown in, and the applicant's saved answer."""

    __tablename__ = "attempt_items"
    __table_args__ = (
        ForeignKeyConstraint(["bank_version", "item_code"], ["bank_items.bank_version", "bank_items.code"]),
        Index("ix_attempt_items_bank_item", "bank_version", "item_code"),
    )

    attempt_id: Mapped[uuid.UUID] = mapped_column(
        GUID(), ForeignKey("attempts.id", ondelete="CASCADE"), primary_key=True
    )
    item_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    bank_version: Mapped[str] = mapped_column(String(50))
    section_code: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(Integer)
    option_order: Mapped[str | None] = mapped_column(String(10))
    # The chosen option key (choice) or scale value as text (likert); NULL while unanswered.
    answer: Mapped[str | None] = mapped_column(String(8))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SectionScore(Base):
    __tablename__ = "section_scores"

    attempt_id: Mapped[uuid.UUID] = mapped_column(
        GUID(), ForeignKey("attempts.id", ondelete="CASCADE"), primary_key=True
    )
    section_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    score: Mapped[float] = mapped_column(Float)
    items: Mapped[int] = mapped_column(Integer)
    answered: Mapped[int] = mapped_column(Integer)
    correct: Mapped[int | None] = mapped_column(Integer)
