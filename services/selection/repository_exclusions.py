"""Exclusion lists: bulk loading of entries (COPY on PostgreSQL, executemany on SQLite), matching them with
applicants (the hits), and purging lists that were replaced or removed."""

# SQL text here is composed from constants and table names only; every value is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Integer, LargeBinary, bindparam, delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.selection.models import ExclusionEntry, ExclusionHit, ExclusionList
from services.selection.repository import dialect_of
from shared.db import utcnow

STAGING = "exclusion_staging"

# One lock id for "matching exclusion entries with applicants": an import's matching step and a new
# profile's probe both hold it, so each sees what the other committed (neither can miss the other's row).
MATCH_LOCK = 7_204_001


async def match_lock(session: AsyncSession) -> None:
    """Serialise matching (PostgreSQL advisory lock; SQLite transactions are serial already)."""
    if dialect_of(session) == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MATCH_LOCK})


async def start_staging(session: AsyncSession) -> None:
    """A per-transaction table for the NIK hashes of the file being imported (duplicates allowed)."""
    if dialect_of(session) == "postgresql":
        await session.execute(text(f"CREATE TEMP TABLE IF NOT EXISTS {STAGING} (nik_hash bytea) ON COMMIT DROP"))
    else:
        await session.execute(text(f"CREATE TEMP TABLE IF NOT EXISTS {STAGING} (nik_hash BLOB)"))
        await session.execute(text(f"DELETE FROM {STAGING}"))


async def stage(session: AsyncSession, hashes: Sequence[bytes]) -> None:
    if not hashes:
        return
    if dialect_of(session) == "postgresql":
        conn = await session.connection()
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection
        await driver.copy_records_to_table(STAGING, records=[(h,) for h in hashes], columns=["nik_hash"])
    else:
        stmt = text(f"INSERT INTO {STAGING} (nik_hash) VALUES (:h)").bindparams(bindparam("h", type_=LargeBinary()))
        await session.execute(stmt, [{"h": h} for h in hashes])


async def store_staged(session: AsyncSession, list_id: int) -> int:
    """Move the staged hashes into the list, each NIK once; returns how many distinct NIKs it holds."""
    stmt = text(
        f"INSERT INTO exclusion_entries (nik_hash, list_id) "
        f"SELECT DISTINCT s.nik_hash, :list_id FROM {STAGING} s ORDER BY 1 ON CONFLICT DO NOTHING"
    ).bindparams(bindparam("list_id", type_=Integer()))
    result = await session.execute(stmt, {"list_id": list_id})
    if dialect_of(session) != "postgresql":
        await session.execute(text(f"DROP TABLE IF EXISTS {STAGING}"))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def match_list(session: AsyncSession, list_id: int) -> int:
    """Hits of a newly stored list: its entries whose NIK belongs to a known applicant."""
    stmt = text(
        "INSERT INTO exclusion_hits (nik_hash, list_id) "
        "SELECT e.nik_hash, e.list_id FROM exclusion_entries e JOIN applicants a ON a.nik_hash = e.nik_hash "
        "WHERE e.list_id = :list_id GROUP BY e.nik_hash, e.list_id ON CONFLICT DO NOTHING"
    ).bindparams(bindparam("list_id", type_=Integer()))
    result = await session.execute(stmt, {"list_id": list_id})
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def match_nik(session: AsyncSession, nik_hash: bytes) -> None:
    """Hits of one applicant's NIK on every stored list (an index probe)."""
    stmt = text(
        "INSERT INTO exclusion_hits (nik_hash, list_id) "
        "SELECT e.nik_hash, e.list_id FROM exclusion_entries e WHERE e.nik_hash = :h ON CONFLICT DO NOTHING"
    ).bindparams(bindparam("h", type_=LargeBinary()))
    await session.execute(stmt, {"h": nik_hash})


async def active_lists(session: AsyncSession, category: str, source: str) -> list[ExclusionList]:
    query = select(ExclusionList).where(
        ExclusionList.category == category, ExclusionList.source == source, ExclusionList.status == "active"
    )
    return list((await session.execute(query)).scalars())


async def supersede(session: AsyncSession, list_ids: Sequence[int], by: int) -> None:
    if list_ids:
        await session.execute(
            update(ExclusionList)
            .where(ExclusionList.id.in_(list_ids))
            .values(status="replaced", replaced_by=by)
            .execution_options(synchronize_session=False)
        )


async def get_list(session: AsyncSession, list_id: int) -> ExclusionList | None:
    return await session.get(ExclusionList, list_id)


async def lists(session: AsyncSession, category: str | None, include_inactive: bool) -> list[ExclusionList]:
    query = select(ExclusionList).order_by(ExclusionList.id.desc())
    if category:
        query = query.where(ExclusionList.category == category)
    if not include_inactive:
        query = query.where(ExclusionList.status == "active")
    return list((await session.execute(query)).scalars())


async def totals_by_category(session: AsyncSession) -> dict[str, int]:
    """Entries in force per category (a NIK on two lists of one category counts twice)."""
    query = (
        select(ExclusionList.category, func.sum(ExclusionList.entries))
        .where(ExclusionList.status == "active")
        .group_by(ExclusionList.category)
    )
    return {row[0]: int(row[1] or 0) for row in (await session.execute(query)).all()}


async def lists_to_purge(session: AsyncSession) -> list[int]:
    query = select(ExclusionList.id).where(
        ExclusionList.status.in_(("replaced", "removed")), ExclusionList.purged_at.is_(None)
    )
    return list((await session.execute(query)).scalars())


async def purge_list(session: AsyncSession, list_id: int) -> None:
    """Delete a replaced or removed list's entries and hits (it stopped counting when its status changed)."""
    await session.execute(delete(ExclusionHit).where(ExclusionHit.list_id == list_id))
    await session.execute(delete(ExclusionEntry).where(ExclusionEntry.list_id == list_id))
    await session.execute(update(ExclusionList).where(ExclusionList.id == list_id).values(purged_at=utcnow()))


def new_list_row(*, category: str, source: str, as_of: Any, mode: str, imported_by: uuid.UUID) -> ExclusionList:
    return ExclusionList(
        category=category, source=source, as_of=as_of, mode=mode, status="importing", imported_by=imported_by
    )
