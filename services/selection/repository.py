"""selection's queries on batches, applications, the applicant projection and the audit log.

The set-based selection SQL is in ranking_sql.py and repository_runs.py; exclusion lists in
repository_exclusions.py.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.selection.lottery import lottery_number
from services.selection.models import Applicant, Application, Batch, BatchLog, Decision, SelectionRun
from shared.db import dialect_insert, utcnow


def dialect_of(session: AsyncSession) -> str:
    """'postgresql' or 'sqlite': the few statements that differ pick their spelling by it."""
    return session.get_bind().dialect.name


# Applicant projection


async def upsert_profile(session: AsyncSession, values: dict[str, Any], completed_at: datetime) -> None:
    """Keep the newest completed profile of an account (events may arrive out of order)."""
    t = Applicant.__table__
    dialect = dialect_of(session)
    stmt = dialect_insert(t, dialect).values(**values, profile_completed_at=completed_at, updated_at=utcnow())
    newer = or_(t.c.profile_completed_at.is_(None), t.c.profile_completed_at < completed_at)
    stmt = stmt.on_conflict_do_update(
        index_elements=[t.c.account_id],
        set_={
            **{k: stmt.excluded[k] for k in values if k != "account_id"},
            "profile_completed_at": completed_at,
            "updated_at": utcnow(),
        },
        where=newer,
    )
    await session.execute(stmt)


async def mark_identity_revoked(session: AsyncSession, account_id: uuid.UUID, revoked_at: datetime) -> None:
    t = Applicant.__table__
    dialect = dialect_of(session)
    stmt = dialect_insert(t, dialect).values(account_id=account_id, identity_revoked_at=revoked_at, updated_at=utcnow())
    stmt = stmt.on_conflict_do_update(
        index_elements=[t.c.account_id],
        set_={"identity_revoked_at": revoked_at, "updated_at": utcnow()},
        where=or_(t.c.identity_revoked_at.is_(None), t.c.identity_revoked_at < revoked_at),
    )
    await session.execute(stmt)


async def record_test(session: AsyncSession, account_id: uuid.UUID, total: float, finished_at: datetime) -> None:
    t = Applicant.__table__
    dialect = dialect_of(session)
    stmt = dialect_insert(t, dialect).values(
        account_id=account_id, test_total=total, test_finished_at=finished_at, updated_at=utcnow()
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[t.c.account_id],
        set_={"test_total": total, "test_finished_at": finished_at, "updated_at": utcnow()},
        where=or_(t.c.test_finished_at.is_(None), t.c.test_finished_at < finished_at),
    )
    await session.execute(stmt)


async def applicant(session: AsyncSession, account_id: uuid.UUID, *, lock: bool = False) -> Applicant | None:
    query = select(Applicant).where(Applicant.account_id == account_id)
    if lock and dialect_of(session) == "postgresql":
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


# Batches


async def batch(session: AsyncSession, batch_id: uuid.UUID, *, lock: bool = False) -> Batch | None:
    query = select(Batch).where(Batch.id == batch_id)
    if lock and dialect_of(session) == "postgresql":
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def batch_by_number(session: AsyncSession, number: int) -> Batch | None:
    return (await session.execute(select(Batch).where(Batch.number == number))).scalar_one_or_none()


async def batches(session: AsyncSession) -> list[Batch]:
    return list((await session.execute(select(Batch).order_by(Batch.number.desc()))).scalars())


async def move_batch(session: AsyncSession, batch_id: uuid.UUID, from_state: str, to_state: str, **values: Any) -> bool:
    """Conditional state change: True only for the one caller that moved it (scheduler and ops may race)."""
    result = await session.execute(
        update(Batch)
        .where(Batch.id == batch_id, Batch.state == from_state)
        .values(state=to_state, **values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def due_batches(session: AsyncSession, now: datetime) -> list[tuple[uuid.UUID, str]]:
    """Batches whose time has come: scheduled past opening, open past closing, approved past announcing."""
    query = select(Batch.id, Batch.state).where(
        or_(
            and_(Batch.state == "scheduled", Batch.opens_at <= now),
            and_(Batch.state == "open", Batch.closes_at <= now),
            and_(Batch.state == "decided", Batch.announce_at <= now, Batch.approved_at.is_not(None)),
        )
    )
    return [(row.id, row.state) for row in (await session.execute(query)).all()]


async def log(
    session: AsyncSession,
    batch_id: uuid.UUID,
    actor: str,
    action: str,
    *,
    from_state: str | None = None,
    to_state: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        BatchLog(
            batch_id=batch_id,
            at=utcnow(),
            actor=actor,
            action=action,
            from_state=from_state,
            to_state=to_state,
            detail=detail,
        )
    )
    await session.flush()


async def history(session: AsyncSession, batch_id: uuid.UUID) -> list[BatchLog]:
    query = select(BatchLog).where(BatchLog.batch_id == batch_id).order_by(BatchLog.id)
    return list((await session.execute(query)).scalars())


# Applications


async def application(session: AsyncSession, batch_id: uuid.UUID, account_id: uuid.UUID) -> Application | None:
    query = select(Application).where(Application.batch_id == batch_id, Application.account_id == account_id)
    return (await session.execute(query)).scalar_one_or_none()


async def add_application(session: AsyncSession, batch: Batch, account_id: uuid.UUID) -> bool:
    """Insert unless the account already joined this batch (a concurrent twin request); True when new. The
    applicant's lottery number is drawn here, from the batch's seed (fixed before anyone could join)."""
    stmt = (
        dialect_insert(Application.__table__, dialect_of(session))
        .values(
            id=uuid.uuid4(),
            batch_id=batch.id,
            account_id=account_id,
            created_at=utcnow(),
            lottery=lottery_number(batch.seed, account_id),
        )
        .on_conflict_do_nothing()
    )
    return bool((await session.execute(stmt)).rowcount)  # type: ignore[attr-defined]


async def applications_of(
    session: AsyncSession, account_id: uuid.UUID
) -> list[tuple[Application, Batch, Decision | None]]:
    """The account's applications, newest batch first, each with its batch and (once decided) its decision."""
    query = (
        select(Application, Batch, Decision)
        .join(Batch, Batch.id == Application.batch_id)
        .outerjoin(Decision, and_(Decision.batch_id == Application.batch_id, Decision.application_id == Application.id))
        .where(Application.account_id == account_id)
        .order_by(Batch.number.desc())
    )
    return [(row[0], row[1], row[2]) for row in (await session.execute(query)).all()]


async def count_applications(session: AsyncSession, batch_id: uuid.UUID) -> int:
    query = select(func.count()).select_from(Application).where(Application.batch_id == batch_id)
    return int((await session.execute(query)).scalar_one())


# Runs


async def run_of(session: AsyncSession, batch_id: uuid.UUID, *, lock: bool = False) -> SelectionRun | None:
    query = select(SelectionRun).where(SelectionRun.batch_id == batch_id)
    if lock and dialect_of(session) == "postgresql":
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def run_by_id(session: AsyncSession, run_id: uuid.UUID, *, lock: bool = False) -> SelectionRun | None:
    query = select(SelectionRun).where(SelectionRun.id == run_id)
    if lock and dialect_of(session) == "postgresql":
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def unfinished_runs(session: AsyncSession) -> list[uuid.UUID]:
    query = select(SelectionRun.id).where(SelectionRun.state != "finished").order_by(SelectionRun.started_at)
    return list((await session.execute(query)).scalars())


def jakarta_date(moment: datetime) -> date:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo("Asia/Jakarta")).date()
