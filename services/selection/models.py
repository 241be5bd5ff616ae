"""selection's tables.

NIK and KK appear only as their 32-byte HMAC blind index (the same keyed hash profile computes), stored as
bytes: half the size of hex, which matters with tens of millions of exclusion entries.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import GUID, UTCDateTime, new_metadata, utcnow
from shared.messaging import messaging_tables

# BIGSERIAL on PostgreSQL, INTEGER PRIMARY KEY (rowid) on SQLite.
_BIG_ID = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = new_metadata()


messaging = messaging_tables(Base.metadata)


class Applicant(Base):
    """Projection of profile.completed / profile.identity_revoked / assessment.completed, one row per account."""

    __tablename__ = "applicants"

    account_id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True)
    nik_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    kk_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    birth_date: Mapped[date | None] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(1))
    province_code: Mapped[str | None] = mapped_column(String(2))
    regency_code: Mapped[str | None] = mapped_column(String(4))
    education: Mapped[str | None] = mapped_column(String(30))
    employment_status: Mapped[str | None] = mapped_column(String(20))
    is_student: Mapped[bool | None] = mapped_column(Boolean)
    profile_completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    identity_revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    test_total: Mapped[float | None] = mapped_column(Float)
    test_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def profile_complete(self) -> bool:
        if self.profile_completed_at is None:
            return False
        return self.identity_revoked_at is None or self.identity_revoked_at < self.profile_completed_at

    @property
    def test_complete(self) -> bool:
        return self.test_total is not None


class Batch(Base):
    """A gelombang: its window, quota, rules, policy, card amounts and lottery commitment."""

    __tablename__ = "batches"

    id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True, default=uuid.uuid4)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    state: Mapped[str] = mapped_column(String(12), default="scheduled")
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    announce_at: Mapped[datetime] = mapped_column(UTCDateTime())
    quota: Mapped[int] = mapped_column(Integer)
    policy_version: Mapped[str] = mapped_column(String(20))
    province_quotas: Mapped[bool] = mapped_column(Boolean, default=False)
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    training_balance: Mapped[int] = mapped_column(BigInteger)
    incentive_amount: Mapped[int] = mapped_column(BigInteger)
    incentive_months: Mapped[int] = mapped_column(Integer)
    survey_incentive_amount: Mapped[int] = mapped_column(BigInteger)
    survey_incentive_count: Mapped[int] = mapped_column(Integer)
    seed: Mapped[str] = mapped_column(String(64))
    seed_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[uuid.UUID] = mapped_column(GUID())
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_by: Mapped[uuid.UUID | None] = mapped_column(GUID())
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class BatchLog(Base):
    """Audit trail: every state move and ops action on a batch, who did it (or the scheduler) and when."""

    __tablename__ = "batch_log"

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True, autoincrement=True)
    batch_id: Mapped[uuid.UUID] = mapped_column(GUID(), ForeignKey("batches.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(30))
    from_state: Mapped[str | None] = mapped_column(String(12))
    to_state: Mapped[str | None] = mapped_column(String(12))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Application(Base):
    """An applicant joining a batch."""

    __tablename__ = "applications"
    __table_args__ = (UniqueConstraint("batch_id", "account_id", name="uq_applications_batch_account"),)

    id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True, default=uuid.uuid4)
    batch_id: Mapped[uuid.UUID] = mapped_column(GUID(), ForeignKey("batches.id"))
    account_id: Mapped[uuid.UUID] = mapped_column(GUID(), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # lottery.lottery_number(batch seed, account id), computed when joining (the seed never changes).
    lottery: Mapped[int] = mapped_column(BigInteger)


def decisions_partition(batch_id: uuid.UUID | str) -> str:
    """Name of a batch's partition of `decisions` on PostgreSQL: `decisions_b` and the batch id's 32 hex digits
    (a name, never a value: it is built from a parsed UUID only)."""
    return f"decisions_b{uuid.UUID(str(batch_id)).hex}"


class Decision(Base):
    """The decision on one application, written set-based by the decide run (once: keyed by application).

    `reasons` lists failed rules as 'code,code,' ('' when selected). The blind indexes are kept for selected
    applicants only (the rest are NULL, which costs nothing).

    On PostgreSQL the table is partitioned by batch: the decide run writes a batch's decisions into a new table
    of their own, builds its primary key once they are all in (one sorted build instead of a million index
    insertions) and attaches it as the batch's partition, all in its one transaction (repository_runs).
    """

    __tablename__ = "decisions"
    __table_args__ = {"postgresql_partition_by": "LIST (batch_id)"}

    batch_id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True)
    application_id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(GUID())
    selected: Mapped[bool] = mapped_column(Boolean)
    reasons: Mapped[str] = mapped_column(String(400))
    tier: Mapped[int | None] = mapped_column(SmallInteger)
    rank: Mapped[int | None] = mapped_column(Integer)
    province_code: Mapped[str | None] = mapped_column(String(2))
    nik_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    kk_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))


class Recipient(Base):
    """Everyone selected, batch by batch: what later batches count (earlier recipients, recipients per KK).

    Written in the same transaction as the batch's decisions (so exactly once, like them). No index at all:
    deciding reads it whole with hash joins, and an unindexed append is the cheapest way to write hundreds
    of thousands of rows.
    """

    __tablename__ = "recipients"
    __mapper_args__ = {"primary_key": ["batch_id", "account_id"]}

    batch_id: Mapped[uuid.UUID] = mapped_column(GUID())
    account_id: Mapped[uuid.UUID] = mapped_column(GUID())
    nik_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    kk_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))


class SelectionRun(Base):
    """A decide run: its inputs (recorded before any decision is written), its progress and its result."""

    __tablename__ = "selection_runs"

    id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True, default=uuid.uuid4)
    batch_id: Mapped[uuid.UUID] = mapped_column(GUID(), ForeignKey("batches.id"), unique=True)
    state: Mapped[str] = mapped_column(String(20), default="pending")
    started_by: Mapped[uuid.UUID] = mapped_column(GUID())
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())
    policy_version: Mapped[str] = mapped_column(String(20))
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    quota: Mapped[int] = mapped_column(Integer)
    province_quotas: Mapped[bool] = mapped_column(Boolean)
    seed: Mapped[str] = mapped_column(String(64))
    reference_date: Mapped[date] = mapped_column(Date)
    counts: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    result_hash: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class ExclusionList(Base):
    """One imported list (a ministry's or agency's file), by category, with its source and as-of date."""

    __tablename__ = "exclusion_lists"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    category: Mapped[str] = mapped_column(String(30), index=True)
    source: Mapped[str] = mapped_column(String(200))
    as_of: Mapped[date] = mapped_column(Date)
    mode: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default="active")
    entries: Mapped[int] = mapped_column(Integer, default=0)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    bad_rows: Mapped[int] = mapped_column(Integer, default=0)
    report: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    imported_by: Mapped[uuid.UUID] = mapped_column(GUID())
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    removed_by: Mapped[uuid.UUID | None] = mapped_column(GUID())
    replaced_by: Mapped[int | None] = mapped_column(Integer)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ExclusionEntry(Base):
    """One NIK (blind index) on one list. No foreign key: bulk loads (COPY) would check it row by row."""

    __tablename__ = "exclusion_entries"

    nik_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    list_id: Mapped[int] = mapped_column(Integer, primary_key=True)


class ExclusionHit(Base):
    """An exclusion entry whose NIK belongs to a known applicant: the match, kept as lists and profiles arrive.

    Deciding a batch joins its applicants with these hits instead of scanning every list (tens of millions
    of entries): an import matches its new entries against the applicants once, a completed profile probes
    the lists for its one NIK once. Both take the same lock before matching, so neither misses the other.
    """

    __tablename__ = "exclusion_hits"

    nik_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    list_id: Mapped[int] = mapped_column(Integer, primary_key=True)
