"""decisions partitioned by batch on PostgreSQL: the migration moves existing decisions into one partition per
batch and back, and a decide run adds its batch's partition with its primary key."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from services.selection.models import decisions_partition
from shared.migrate import alembic_config
from shared.testing.plugin import PG_URL, _pg_admin, require_postgresql

BEFORE = "4c1d8e2f6a93"  # the revision before decisions were partitioned


async def _partitions(conn) -> dict[str, int]:
    rows = await conn.execute(
        text(
            "SELECT c.relname, (SELECT count(*) FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary) "
            "FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid "
            "WHERE h.inhparent = 'decisions'::regclass ORDER BY 1"
        )
    )
    return {name: int(primary) for name, primary in rows}


@pytest.fixture
def postgresql() -> None:
    require_postgresql()


async def test_existing_decisions_move_into_a_partition_per_batch_and_back(postgresql):

    name = f"test_partitions_{uuid.uuid4().hex[:8]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    engine = create_async_engine(url)
    config = alembic_config("selection", url)
    batches = [uuid.uuid4(), uuid.uuid4()]
    try:
        await asyncio.to_thread(command.upgrade, config, BEFORE)
        async with engine.begin() as conn:
            for n, batch in enumerate(batches):
                await conn.execute(
                    text(
                        "INSERT INTO decisions (batch_id, application_id, account_id, selected, reasons, tier, rank) "
                        "SELECT :b, gen_random_uuid(), gen_random_uuid(), i <= 2, CASE WHEN i <= 2 THEN '' "
                        "ELSE 'quota_full,' END, 1, i FROM generate_series(1, :n) i"
                    ),
                    {"b": batch, "n": 3 + n},
                )
            before = (await conn.execute(text("SELECT count(*), sum(rank) FROM decisions"))).one()

        await asyncio.to_thread(command.upgrade, config, "head")
        async with engine.connect() as conn:
            assert await _partitions(conn) == {decisions_partition(b): 1 for b in batches}
            assert (await conn.execute(text("SELECT count(*), sum(rank) FROM decisions"))).one() == before
            per_batch = dict((await conn.execute(text("SELECT batch_id, count(*) FROM decisions GROUP BY 1"))).all())
            assert per_batch == {batches[0]: 3, batches[1]: 4}
            # A batch without its partition has nowhere to go: decisions are written by the decide run only.
            with pytest.raises(Exception, match="no partition"):
                await conn.execute(
                    text(
                        "INSERT INTO decisions (batch_id, application_id, account_id, selected, reasons) "
                        "VALUES (gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), false, '')"
                    )
                )

        await asyncio.to_thread(command.downgrade, config, BEFORE)
        async with engine.connect() as conn:
            kind = (
                await conn.execute(text("SELECT CAST(relkind AS text) FROM pg_class WHERE relname = 'decisions'"))
            ).scalar()
            assert kind == "r"  # a plain table again
            assert (await conn.execute(text("SELECT count(*), sum(rank) FROM decisions"))).one() == before
            leftovers = await conn.execute(text("SELECT count(*) FROM pg_class WHERE relname LIKE 'decisions_b%'"))
            assert leftovers.scalar() == 0
    finally:
        await engine.dispose()
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
