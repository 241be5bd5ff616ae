"""Outbox relay, idempotent consumers and dead-lettering against the real broker, on both databases."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import ClassVar

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import func, select

from services.identity.models import Base, messaging
from shared.db import Database
from shared.events.envelope import CloudEvent, EventPayload, catalogue
from shared.messaging import EventConsumer, Outbox, OutboxRelay
from shared.settings import ServiceSettings
from shared.testing.plugin import ServiceDatabases, empty_tables


@catalogue
class Ping(EventPayload):
    event_type: ClassVar[str] = "test.ping"
    account_id: uuid.UUID
    n: int


@catalogue
class Doomed(EventPayload):
    event_type: ClassVar[str] = "test.doomed"
    account_id: uuid.UUID
    n: int


@pytest.fixture
async def db(service_databases: ServiceDatabases, db_backend: str) -> AsyncIterator[Database]:
    url = await service_databases.get("identity", db_backend)
    database = Database(url)
    yield database
    await database.dispose()
    await empty_tables(url, Base.metadata, keep=("signing_keys",))


def settings_for(bootstrap: str) -> ServiceSettings:
    return ServiceSettings(service_name="msgtest", kafka_bootstrap_servers=bootstrap, consumer_max_retries=3)


async def queue(db: Database, count: int, key: uuid.UUID) -> list[str]:
    outbox = Outbox(messaging, source="prakerja/test")
    ids = []
    async with db.sessionmaker() as session, session.begin():
        for n in range(count):
            ids.append((await outbox.add(session, Ping(account_id=key, n=n), key=key)).id)
    return ids


def _decode(value: bytes) -> dict:
    try:
        return dict(json.loads(value))
    except ValueError:
        return {"id": value.decode(errors="replace")}


async def read_topic(bootstrap: str, topic: str, wanted: set[str], timeout: float = 20) -> list[tuple[bytes, dict]]:
    """Records of `topic` whose CloudEvent id (or raw text) is in `wanted`, duplicates included."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"reader-{uuid.uuid4()}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    found: list[tuple[bytes, dict]] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        settle_until: float | None = None
        while loop.time() < deadline and (settle_until is None or loop.time() < settle_until):
            for records in (await consumer.getmany(timeout_ms=300)).values():
                for r in records:
                    event = _decode(r.value)
                    if event.get("id") in wanted:
                        found.append((r.key, {**event, "_headers": dict(r.headers)}))
            if settle_until is None and {e["id"] for _, e in found} >= wanted:
                settle_until = loop.time() + 0.7  # keep reading a little: a duplicate would show itself
    finally:
        await consumer.stop()
    return found


async def pending(db: Database) -> int:
    t = messaging.outbox
    async with db.sessionmaker() as session:
        return int((await session.execute(select(func.count()).where(t.c.published_at.is_(None)))).scalar_one())


async def test_relay_publishes_cloudevents_keyed_by_account(db, broker):
    key = uuid.uuid4()
    ids = await queue(db, 5, key)
    relay = OutboxRelay(db, messaging.outbox, settings_for(broker.bootstrap))
    assert await relay.drain() == 5
    await relay._drop_producer()
    assert await pending(db) == 0
    found = await read_topic(broker.bootstrap, "test.ping", set(ids))
    assert sorted(e["id"] for _, e in found) == sorted(ids)
    assert all(k == str(key).encode() for k, _ in found)
    assert [e["data"]["n"] for _, e in found] == [0, 1, 2, 3, 4]  # one person's events stay in order
    assert all(e["specversion"] == "1.0" and e["type"] == "test.ping" for _, e in found)


async def test_concurrent_relays_publish_each_row_once(db, broker):
    ids = await queue(db, 60, uuid.uuid4())
    relays = [OutboxRelay(db, messaging.outbox, settings_for(broker.bootstrap), batch_size=7) for _ in range(3)]
    counts = await asyncio.gather(*(r.drain() for r in relays))
    for r in relays:
        await r._drop_producer()
    assert sum(counts) == 60
    found = await read_topic(broker.bootstrap, "test.ping", set(ids))
    assert len(found) == 60 and len({e["id"] for _, e in found}) == 60


async def test_broker_down_keeps_events_in_the_outbox(db, broker):
    ids = await queue(db, 3, uuid.uuid4())
    dead = OutboxRelay(db, messaging.outbox, settings_for("127.0.0.1:1"))
    with pytest.raises(Exception):  # noqa: B017 - any connection error
        await dead.publish_batch()
    await dead._drop_producer()
    assert await pending(db) == 3
    relay = OutboxRelay(db, messaging.outbox, settings_for(broker.bootstrap))
    assert await relay.drain() == 3
    await relay._drop_producer()
    assert len(await read_topic(broker.bootstrap, "test.ping", set(ids))) == 3


async def test_consumer_handles_each_event_once(db, broker):
    seen: list[int] = []

    async def handler(session, event, payload):
        seen.append(payload.n)

    consumer = EventConsumer(
        db, messaging, settings_for(broker.bootstrap), name=f"c-{uuid.uuid4().hex[:6]}", handlers={"test.ping": handler}
    )
    event = CloudEvent.wrap(Ping(account_id=uuid.uuid4(), n=7), source="t", subject="s")
    assert await consumer.handle(event) is True
    assert await consumer.handle(event) is False
    assert seen == [7]


async def test_failing_handler_is_rolled_back_retried_then_dead_lettered(db, broker):
    attempts: list[int] = []
    marker = uuid.uuid4().hex

    async def handler(session, event, payload):
        attempts.append(payload.n)
        raise RuntimeError("downstream exploded")

    settings = settings_for(broker.bootstrap)
    consumer = EventConsumer(
        db, messaging, settings, name=f"c-{marker[:6]}", handlers={"test.doomed": handler}, retry_base_delay=0.01
    )
    event = CloudEvent.wrap(Doomed(account_id=uuid.uuid4(), n=1), source="t", subject="s")
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait("test.doomed", b"{not json " + marker.encode(), key=b"k")
        await producer.send_and_wait("test.doomed", event.model_dump_json().encode(), key=b"k")
    finally:
        await producer.stop()
    task = asyncio.create_task(consumer.run())
    try:
        found = await read_topic(broker.bootstrap, "test.doomed.dlt", {event.id, f"{{not json {marker}"})
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert len(found) == 2  # the undecodable one first, at once; then the failing one after its retries
    assert found[0][1]["_headers"]["dlt.reason"].startswith(b"undecodable")
    headers = found[1][1]["_headers"]
    assert b"downstream exploded" in headers["dlt.reason"]
    assert len(attempts) >= 3
    async with db.sessionmaker() as session:  # the failed attempts left no inbox row behind
        t = messaging.inbox
        rows = (await session.execute(select(func.count()).where(t.c.event_id == event.id))).scalar_one()
    assert rows == 0
