"""Pooled PostgreSQL connections: one idle too long is checked before use and replaced when the server has
dropped it; one back in the pool for moments is used without a check (a check costs three round trips)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection
from sqlalchemy.ext.asyncio import create_async_engine

from shared import db as shared_db
from shared.db import Database
from shared.testing.plugin import ServiceDatabases, backends, require_postgresql


@pytest.fixture
def postgresql() -> None:
    """PostgreSQL only: SQLite has no server connection to lose."""
    if "postgresql" not in backends():
        pytest.skip("PostgreSQL is not among TEST_BACKENDS")
    require_postgresql()


@pytest.fixture
async def pg(postgresql: None, service_databases: ServiceDatabases):
    database = Database(await service_databases.get("identity", "postgresql"), pool_size=1)
    yield database
    await database.dispose()


@pytest.fixture
def pings(monkeypatch) -> list[int]:
    """Counts liveness checks."""
    seen: list[int] = []
    original = AsyncAdapt_asyncpg_connection.ping

    def counting(self):
        seen.append(1)
        return original(self)

    monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "ping", counting)
    return seen


async def _backend_pid(database: Database) -> int:
    async with database.engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_a_dropped_idle_connection_is_replaced_before_use(pg, pings, monkeypatch):
    first = await _backend_pid(pg)
    admin = create_async_engine(pg.url)
    try:
        async with admin.connect() as conn:  # the server ends the pooled connection's session
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    finally:
        await admin.dispose()
    monkeypatch.setattr(shared_db, "PING_AFTER_IDLE_S", -1.0)  # every pooled connection is "idle too long"
    second = await _backend_pid(pg)  # no error: the check found it dead and the pool connected afresh
    assert second != first and len(pings) >= 1


async def test_a_connection_back_from_use_moments_ago_is_not_checked(pg, pings):
    assert [await _backend_pid(pg) for _ in range(5)] == [await _backend_pid(pg)] * 5  # one pooled connection
    assert pings == []
