"""The lottery number: drawn when joining from the batch's seed, ordered as the key's bytes, the same in SQL."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import create_async_engine

from services.selection.lottery import lottery_key, lottery_number, lottery_number_sql
from services.selection.models import Application, Batch
from services.selection.policy import MAX_TIER, Policy
from services.selection.ranking_sql import draw_key
from shared.i18n import Text
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


tiers = st.integers(min_value=0, max_value=MAX_TIER)
numbers = st.integers(min_value=-(2**63), max_value=2**63 - 1)


@given(st.tuples(tiers, numbers), st.tuples(tiers, numbers))
def test_draw_key_orders_as_tier_then_lottery_number(a, b):
    """The ranking sorts on (draw key, lottery number, account id): that must be (tier, lottery number, account
    id). Computed by SQLite's integer arithmetic, the same expression PostgreSQL runs."""
    import sqlite3

    conn = sqlite3.connect(":memory:")
    sql = f"SELECT {draw_key(':tier', ':lottery')}"
    ka, kb = (conn.execute(sql, {"tier": t, "lottery": n}).fetchone()[0] for t, n in (a, b))
    assert 0 <= ka < 2**63 and 0 <= kb < 2**63
    assert ka <= kb if a <= b else ka >= kb  # never against the order; ties are broken by the lottery number
    if a[0] != b[0] or (a[1] >> 8) != (b[1] >> 8):
        assert (ka < kb) == (a < b)


def test_policy_tiers_must_fit_the_draw_key():
    with pytest.raises(ValueError, match="tier 128"):
        Policy(version="x", title=Text("x", "x"), tiers={"laid_off": 128}, default_tier=1, tier_labels={})
