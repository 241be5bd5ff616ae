"""The lottery number: drawn when joining from the batch's seed, ordered as the key's bytes, the same in SQL."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import create_async_engine

from services.selection.lottery import lottery_key, lottery_number, lottery_number_sql
from services.selection.models import Application, Batch
from shared.testing.plugin import PG_URL, require_postgresql
from tests.selection.conftest import enrol, join, open_batch, person

seeds = st.binary(min_size=32, max_size=32).map(bytes.hex)


@given(seeds, st.uuids(), st.uuids())
def test_number_orders_as_the_keys_first_eight_bytes(seed, a, b):
    na, nb = lottery_number(seed, a), lottery_number(seed, b)
    assert -(2**63) <= na < 2**63
    assert (na < nb) == (lottery_key(seed, a)[:16] < lottery_key(seed, b)[:16])


def test_number_is_the_documented_function():
    seed = "ab" * 32
    account = uuid.UUID("3f2c1d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f")
    key = lottery_key(seed, account)
    assert lottery_number(seed, account) == int(key[:16], 16) - 2**63
    assert lottery_number(seed, str(account).upper()) == lottery_number(seed, account)


async def test_joining_stores_the_number_drawn_from_the_batch_seed(client, ops, app, issuer):
    batch = await open_batch(client, ops)
    people = [await enrol(app, person()) for _ in range(3)]
    for p in people:
        assert (await join(client, issuer, batch["id"], p)).status_code == 201
    async with app.state.db.sessionmaker() as session:
        seed = (await session.execute(select(Batch.seed).where(Batch.id == uuid.UUID(batch["id"])))).scalar_one()
        stored = {a.account_id: a.lottery for a in (await session.execute(select(Application))).scalars()}
    assert stored == {p.account_id: lottery_number(seed, p.account_id) for p in people}


async def test_sql_twin_gives_the_same_numbers():
    """PostgreSQL's twin (applications written in bulk); SQLite writes applications one by one, in Python."""
    require_postgresql()
    seed = "0f" * 32
    accounts = [uuid.uuid4() for _ in range(50)] + [uuid.UUID(int=0), uuid.UUID(int=2**128 - 1)]
    sql = text(f"SELECT {lottery_number_sql(':seed', 'CAST(:account AS uuid)')}")
    engine = create_async_engine(PG_URL)
    try:
        async with engine.connect() as conn:
            for account in accounts:
                got = (await conn.execute(sql, {"seed": seed, "account": str(account)})).scalar_one()
                assert got == lottery_number(seed, account)
    finally:
        await engine.dispose()
