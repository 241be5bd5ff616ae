"""Every query assessment makes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import and_, case, func, insert, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from services.assessment.models import (
    FINISHED,
    IN_PROGRESS,
    ActiveBank,
    Applicant,
    Attempt,
    AttemptItem,
    BankItem,
    BankSection,
    BankVersion,
    CompletedProfile,
    SectionScore,
)
from shared.db import dialect_insert
from shared.messaging.tables import insert_ignore


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def _upsert(session: AsyncSession, table: Any) -> Any:
    return dialect_insert(table, _dialect(session))


# --- question bank ---------------------------------------------------------------------------------------------


async def bank_version(session: AsyncSession, version: str) -> BankVersion | None:
    return await session.get(BankVersion, version)


async def add_bank(
    session: AsyncSession,
    version: BankVersion,
    sections: Sequence[dict[str, Any]],
    items: Sequence[dict[str, Any]],
) -> None:
    session.add(version)
    await session.flush()
    await session.execute(insert(BankSection), list(sections))
    await session.execute(insert(BankItem), list(items))


async def active_bank(session: AsyncSession) -> ActiveBank | None:
    return await session.get(ActiveBank, 1, populate_existing=True)


async def set_active_bank(session: AsyncSession, version: str, now: datetime, by: uuid.UUID | None) -> None:
    """One row, overwritten: concurrent activations queue on its lock and the last one wins."""
    statement = _upsert(session, ActiveBank.__table__).values(
        id=1, bank_version=version, activated_at=now, activated_by=by
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["id"], set_={"bank_version": version, "activated_at": now, "activated_by": by}
        )
    )


async def bank_versions(session: AsyncSession) -> list[BankVersion]:
    result = await session.execute(select(BankVersion).order_by(BankVersion.imported_at.desc(), BankVersion.version))
    return list(result.scalars())


@dataclass(frozen=True)
class SectionCount:
    bank_version: str
    code: str
    kind: str
    draw: int
    items: int


async def section_counts(session: AsyncSession, versions: Sequence[str]) -> list[SectionCount]:
    if not versions:
        return []
    query = (
        select(
            BankSection.bank_version,
            BankSection.code,
            BankSection.kind,
            BankSection.draw,
            func.count(BankItem.code),
        )
        .join(
            BankItem,
            and_(BankItem.bank_version == BankSection.bank_version, BankItem.section_code == BankSection.code),
        )
        .where(BankSection.bank_version.in_(versions))
        .group_by(BankSection.bank_version, BankSection.code, BankSection.kind, BankSection.draw, BankSection.position)
        .order_by(BankSection.bank_version, BankSection.position)
    )
    return [SectionCount(*row) for row in (await session.execute(query)).all()]


async def sections_of(session: AsyncSession, version: str) -> list[BankSection]:
    result = await session.execute(
        select(BankSection).where(BankSection.bank_version == version).order_by(BankSection.position)
    )
    return list(result.scalars())


async def item_codes_by_section(session: AsyncSession, version: str) -> dict[str, list[str]]:
    result = await session.execute(
        select(BankItem.section_code, BankItem.code).where(BankItem.bank_version == version).order_by(BankItem.position)
    )
    out: dict[str, list[str]] = {}
    for section_code, code in result.all():
        out.setdefault(section_code, []).append(code)
    return out


@dataclass(frozen=True)
class ItemCounts:
    code: str
    section: str
    kind: str
    drawn: int
    drawn_finished: int
    answered: int
    correct: int


async def item_counts(session: AsyncSession, version: str) -> list[ItemCounts]:
    """Per item of the version: how often drawn, and answered / answered correctly in finished sessions."""
    finished = Attempt.status == FINISHED
    query = (
        select(
            BankItem.code,
            BankItem.section_code,
            BankSection.kind,
            func.count(AttemptItem.attempt_id),
            func.coalesce(func.sum(case((finished, 1), else_=0)), 0),
            func.coalesce(func.sum(case((and_(finished, AttemptItem.answer.is_not(None)), 1), else_=0)), 0),
            func.coalesce(func.sum(case((and_(finished, AttemptItem.answer == BankItem.answer), 1), else_=0)), 0),
        )
        .join(
            BankSection,
            and_(BankSection.bank_version == BankItem.bank_version, BankSection.code == BankItem.section_code),
        )
        .outerjoin(
            AttemptItem,
            and_(AttemptItem.bank_version == BankItem.bank_version, AttemptItem.item_code == BankItem.code),
        )
        .outerjoin(Attempt, Attempt.id == AttemptItem.attempt_id)
        .where(BankItem.bank_version == version)
        .group_by(BankItem.code, BankItem.section_code, BankSection.kind, BankSection.position, BankItem.position)
        .order_by(BankSection.position, BankItem.position)
    )
    return [ItemCounts(*(row[:3]), *(int(n) for n in row[3:])) for row in (await session.execute(query)).all()]


async def choice_counts(session: AsyncSession, version: str) -> list[tuple[str, str, int]]:
    """(item code, answer, times chosen) over finished sessions of the version."""
    query = (
        select(AttemptItem.item_code, AttemptItem.answer, func.count())
        .join(Attempt, Attempt.id == AttemptItem.attempt_id)
        .where(AttemptItem.bank_version == version, Attempt.status == FINISHED, AttemptItem.answer.is_not(None))
        .group_by(AttemptItem.item_code, AttemptItem.answer)
    )
    return [(code, str(answer), int(n)) for code, answer, n in (await session.execute(query)).all()]


async def session_counts(session: AsyncSession, version: str) -> tuple[int, int]:
    query = select(func.count(), func.coalesce(func.sum(case((Attempt.status == FINISHED, 1), else_=0)), 0)).where(
        Attempt.bank_version == version
    )
    started, finished = (await session.execute(query)).one()
    return int(started), int(finished)


# --- projections of other services' events ---------------------------------------------------------------------


async def record_profile_completed(
    session: AsyncSession, account_id: uuid.UUID, completed_at: datetime, now: datetime
) -> None:
    await session.execute(
        insert_ignore(CompletedProfile.__table__, _dialect(session)).values(  # type: ignore[arg-type]
            account_id=account_id, completed_at=completed_at, received_at=now
        )
    )


async def profile_completed(session: AsyncSession, account_id: uuid.UUID) -> bool:
    return await session.get(CompletedProfile, account_id) is not None


async def upsert_applicant(
    session: AsyncSession, account_id: uuid.UUID, full_name: str, locale: str, confirmed_at: datetime
) -> None:
    statement = _upsert(session, Applicant.__table__).values(
        account_id=account_id, full_name=full_name, locale=locale, confirmed_at=confirmed_at
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["account_id"], set_={"full_name": full_name, "locale": locale, "confirmed_at": confirmed_at}
        )
    )


async def applicant(session: AsyncSession, account_id: uuid.UUID) -> Applicant | None:
    return await session.get(Applicant, account_id)


# --- attempts ----------------------------------------------------------------------------------------------------


async def attempt_of(session: AsyncSession, account_id: uuid.UUID, *, lock: bool = False) -> Attempt | None:
    """The account's attempt; `lock` holds its row until the transaction ends, so no finisher runs in between."""
    query = select(Attempt).where(Attempt.account_id == account_id).execution_options(populate_existing=True)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def attempt_by_id(session: AsyncSession, attempt_id: uuid.UUID) -> Attempt | None:
    return await session.get(Attempt, attempt_id, populate_existing=True)


async def create_attempt(session: AsyncSession, **values: Any) -> bool:
    """Insert unless the account already has one (a concurrent start); True when this call created it."""
    result = await session.execute(
        insert_ignore(Attempt.__table__, _dialect(session)).values(status=IN_PROGRESS, **values)  # type: ignore[arg-type]
    )
    return bool(cast(CursorResult[Any], result).rowcount)


async def add_attempt_items(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    await session.execute(insert(AttemptItem), list(rows))


async def drawn_items(session: AsyncSession, attempt_id: uuid.UUID) -> list[tuple[AttemptItem, BankItem]]:
    query = (
        select(AttemptItem, BankItem)
        .join(
            BankItem,
            and_(BankItem.bank_version == AttemptItem.bank_version, BankItem.code == AttemptItem.item_code),
        )
        .where(AttemptItem.attempt_id == attempt_id)
        .order_by(AttemptItem.position)
        .execution_options(populate_existing=True)
    )
    return [(row[0], row[1]) for row in (await session.execute(query)).all()]


async def save_answers(session: AsyncSession, attempt_id: uuid.UUID, answers: dict[str, str], now: datetime) -> None:
    """One bulk UPDATE by primary key for every answer in the request."""
    await session.execute(
        update(AttemptItem),
        [
            {"attempt_id": attempt_id, "item_code": code, "answer": answer, "answered_at": now}
            for code, answer in answers.items()
        ],
    )


async def count_answered(session: AsyncSession, attempt_id: uuid.UUID) -> tuple[int, int]:
    query = select(func.count(), func.count(AttemptItem.answer)).where(AttemptItem.attempt_id == attempt_id)
    total, answered = (await session.execute(query)).one()
    return int(answered), int(total)


async def finish_attempt(session: AsyncSession, attempt_id: uuid.UUID, now: datetime, reason: str) -> bool:
    """Finish the attempt if it is still in progress. Only one caller (submit, sweeper, another instance) can
    see a row change here: the UPDATE takes the row lock and re-checks the status, so the loser gets 0 rows."""
    result = await session.execute(
        update(Attempt)
        .where(Attempt.id == attempt_id, Attempt.status == IN_PROGRESS)
        .values(status=FINISHED, finished_at=now, finish_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], result).rowcount == 1


async def store_scores(
    session: AsyncSession, attempt_id: uuid.UUID, total: float, sections: Sequence[dict[str, Any]]
) -> None:
    await session.execute(insert(SectionScore), [{"attempt_id": attempt_id, **row} for row in sections])
    await session.execute(
        update(Attempt)
        .where(Attempt.id == attempt_id)
        .values(total_score=total)
        .execution_options(synchronize_session=False)
    )


async def section_scores(session: AsyncSession, attempt_id: uuid.UUID) -> list[SectionScore]:
    query = (
        select(SectionScore)
        .join(Attempt, Attempt.id == SectionScore.attempt_id)
        .join(
            BankSection,
            and_(BankSection.bank_version == Attempt.bank_version, BankSection.code == SectionScore.section_code),
        )
        .where(SectionScore.attempt_id == attempt_id)
        .order_by(BankSection.position)
    )
    return list((await session.execute(query)).scalars())


async def due_attempts(session: AsyncSession, before: datetime, limit: int) -> list[uuid.UUID]:
    """Attempts still in progress whose deadline (grace included) lies before `before`, oldest first."""
    query = (
        select(Attempt.id)
        .where(Attempt.status == IN_PROGRESS, Attempt.deadline_at < before)
        .order_by(Attempt.deadline_at)
        .limit(limit)
    )
    return list((await session.execute(query)).scalars())
