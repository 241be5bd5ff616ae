"""The outbox relay: publishes pending outbox rows to Kafka (acks=all) and marks them published.

Rows are claimed with FOR UPDATE SKIP LOCKED on PostgreSQL, so several relay instances never publish the
same row twice; on SQLite the write lock taken at BEGIN IMMEDIATE serialises them. A row is marked only after
the broker acknowledged it, so a broker outage delays events and never loses them.

A claimed round is handed to the producer as record batches, one per partition (`create_batch` /
`send_batch`), events appended in outbox order: the same partitions as `send()` would choose (the producer's
own partitioner), one person's events still in order, without the per-message cost of `send()`. A bulk
row (shared.messaging.bulk) is rendered into its events here, each with its own key.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from prometheus_client import Counter
from sqlalchemy import BigInteger, Table, any_, bindparam, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY

from shared.db import Database, utcnow
from shared.messaging import bulk
from shared.messaging.kafka import new_producer
from shared.settings import ServiceSettings

log = logging.getLogger("shared.relay")

PUBLISHED = Counter("outbox_published_total", "Outbox rows published to Kafka", ["service"])
RELAY_ERRORS = Counter("outbox_relay_errors_total", "Outbox relay failures (broker or database)", ["service"])
# SQLite's limit on bound parameters is 32766; mark rows in chunks well below it.
_SQLITE_IN_CHUNK = 10_000


class OutboxRelay:
    def __init__(
        self,
        db: Database,
        outbox: Table,
        settings: ServiceSettings,
        *,
        batch_size: int | None = None,
        poll_interval: float | None = None,
    ) -> None:
        self.db = db
        self.outbox = outbox
        self.settings = settings
        self.batch_size = batch_size or settings.relay_batch_size
        self.poll_interval = poll_interval if poll_interval is not None else settings.relay_poll_interval_s
        self._producer: AIOKafkaProducer | None = None
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Ask the relay to look at the outbox now rather than at its next poll."""
        self._wake.set()

    async def _ensure_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = new_producer(self.settings)
            try:
                await producer.start()
            except BaseException:
                await producer.stop()
                raise
            self._producer = producer
        return self._producer

    async def _drop_producer(self) -> None:
        if self._producer is not None:
            producer, self._producer = self._producer, None
            try:
                await asyncio.wait_for(producer.stop(), 5)
            except Exception:
                log.debug("producer stop failed", exc_info=True)

    async def publish_batch(self) -> int:
        """Publish one round of pending rows (about `batch_size` events); returns how many events were published.

        The round is claimed in two reads: the pending rows' ids and event counts (locked, SKIP LOCKED on
        PostgreSQL), then the payloads of the prefix that reaches `batch_size` events (at least one row), so
        bulk rows of thousands of events never load more than a round. Rows claimed past the prefix stay
        pending and are unlocked at commit."""
        producer = await self._ensure_producer()
        t = self.outbox
        postgres = self.db.dialect == "postgresql"
        claim: Any = (
            select(t.c.id, t.c.records).where(t.c.published_at.is_(None)).order_by(t.c.id).limit(self.batch_size)
        )
        if postgres:
            claim = claim.with_for_update(skip_locked=True)
        async with self.db.sessionmaker() as session, session.begin():
            if postgres:
                # Walk the pending index in id order whatever the statistics say: right after a bulk insert
                # they still say "a few rows", and the planner would fetch and sort every pending row.
                await session.execute(text("SET LOCAL enable_sort = off"))
                await session.execute(text("SET LOCAL enable_bitmapscan = off"))
            ids: list[int] = []
            events = 0
            for row in (await session.execute(claim)).all():
                if ids and events + (row.records or 1) > self.batch_size:
                    break
                ids.append(row.id)
                events += row.records or 1
            if not ids:
                return 0
            rows = await self._rows(session, ids)
            await asyncio.wait_for(self._send(producer, rows), self.settings.kafka_client_timeout_s * 3)
            await self._mark(session, ids)
        PUBLISHED.labels(self.settings.service_name).inc(events)
        return events

    def _where_ids(self, ids: list[int]) -> list[Any]:
        """`id IN ids` as one bound array on PostgreSQL, in chunks under SQLite's parameter limit."""
        t = self.outbox
        if self.db.dialect == "postgresql":
            return [t.c.id == any_(bindparam("ids", ids, type_=ARRAY(BigInteger())))]
        return [t.c.id.in_(ids[i : i + _SQLITE_IN_CHUNK]) for i in range(0, len(ids), _SQLITE_IN_CHUNK)]

    async def _rows(self, session: Any, ids: list[int]) -> list[Any]:
        t = self.outbox
        rows: list[Any] = []
        for condition in self._where_ids(ids):
            query = select(t.c.id, t.c.topic, t.c.key, t.c.payload, t.c.records).where(condition).order_by(t.c.id)
            rows.extend((await session.execute(query)).all())
        return rows

    async def _mark(self, session: Any, ids: list[int]) -> None:
        for condition in self._where_ids(ids):
            await session.execute(update(self.outbox).where(condition).values(published_at=utcnow()))

    async def _send(self, producer: AIOKafkaProducer, rows: Any) -> None:
        """Append every event of the rows to one record batch per partition (a new one when full) and wait
        for every ack. Bulk rows are rendered first, so a malformed one fails the round before anything of
        it is sent."""
        events = [
            (row.id, row.topic, key.encode(), value.encode())
            for row in rows
            for key, value in bulk.events_of(row.key, row.payload, row.records)
        ]
        partitioner = DefaultPartitioner()
        partitions: dict[str, list[int]] = {}
        builders: dict[tuple[str, int], Any] = {}
        futures = []
        for row_id, topic, key, value in events:
            if topic not in partitions:
                partitions[topic] = list(await producer.partitions_for(topic))
            choices = partitions[topic]
            partition = choices[0] if len(choices) == 1 else partitioner(key, choices, choices)
            builder = builders.get((topic, partition))
            if builder is None:
                builder = builders[(topic, partition)] = producer.create_batch()
            if builder.append(key=key, value=value, timestamp=None) is None:
                futures.append(await producer.send_batch(builder, topic, partition=partition))
                builder = builders[(topic, partition)] = producer.create_batch()
                if builder.append(key=key, value=value, timestamp=None) is None:
                    raise ValueError(f"an event of outbox row {row_id} is larger than the producer's batch size")
        for (topic, partition), builder in builders.items():
            futures.append(await producer.send_batch(builder, topic, partition=partition))
        await asyncio.gather(*futures)

    async def close(self) -> None:
        """Stop the producer (after `drain()`; `run()` does this itself when cancelled)."""
        await self._drop_producer()

    async def drain(self) -> int:
        total = 0
        while n := await self.publish_batch():
            total += n
        return total

    async def run(self) -> None:
        backoff = 0.5
        try:
            while True:
                try:
                    published = await self.publish_batch()
                    backoff = 0.5
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - any failure means: keep the rows, retry later
                    RELAY_ERRORS.labels(self.settings.service_name).inc()
                    log.warning("outbox relay: publish failed, retrying in %.1fs: %s", backoff, exc)
                    await self._drop_producer()
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 10.0)
                    continue
                if published < self.batch_size:
                    self._wake.clear()
                    try:
                        await asyncio.wait_for(self._wake.wait(), self.poll_interval)
                    except TimeoutError:
                        pass
        finally:
            await self._drop_producer()
