"""The outbox relay: publishes pending outbox rows to Kafka (acks=all) and marks them published.

Rows are claimed with FOR UPDATE SKIP LOCKED on PostgreSQL, so several relay instances never publish the
same row twice; on SQLite the write lock taken at BEGIN IMMEDIATE serialises them. A row is marked only after
the broker acknowledged it, so a broker outage delays events and never loses them.

A claimed round is handed to the producer as record batches, one per partition (`create_batch` /
`send_batch`), rows appended in outbox order: the same partitions as `send()` would choose (the producer's
own partitioner), one person's events still in order, without the per-message cost of `send()`.
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
        """Publish one batch of pending rows; returns how many were published."""
        producer = await self._ensure_producer()
        t = self.outbox
        postgres = self.db.dialect == "postgresql"
        query: Any = (
            select(t.c.id, t.c.topic, t.c.key, t.c.payload)
            .where(t.c.published_at.is_(None))
            .order_by(t.c.id)
            .limit(self.batch_size)
        )
        if postgres:
            query = query.with_for_update(skip_locked=True)
        async with self.db.sessionmaker() as session, session.begin():
            if postgres:
                # Walk the pending index in id order whatever the statistics say: right after a bulk insert
                # they still say "a few rows", and the planner would fetch and sort every pending row.
                await session.execute(text("SET LOCAL enable_sort = off"))
                await session.execute(text("SET LOCAL enable_bitmapscan = off"))
            rows = (await session.execute(query)).all()
            if not rows:
                return 0
            await asyncio.wait_for(self._send(producer, rows), self.settings.kafka_client_timeout_s * 3)
            ids = [row.id for row in rows]
            if postgres:
                marked = bindparam("ids", ids, type_=ARRAY(BigInteger()))
                await session.execute(update(t).where(t.c.id == any_(marked)).values(published_at=utcnow()))
            else:
                for start in range(0, len(ids), _SQLITE_IN_CHUNK):
                    chunk = ids[start : start + _SQLITE_IN_CHUNK]
                    await session.execute(update(t).where(t.c.id.in_(chunk)).values(published_at=utcnow()))
        PUBLISHED.labels(self.settings.service_name).inc(len(rows))
        return len(rows)

    async def _send(self, producer: AIOKafkaProducer, rows: Any) -> None:
        """Append the rows to one record batch per partition (a new one when full) and wait for every ack."""
        partitioner = DefaultPartitioner()
        partitions: dict[str, list[int]] = {}
        builders: dict[tuple[str, int], Any] = {}
        futures = []
        for row in rows:
            topic = row.topic
            if topic not in partitions:
                partitions[topic] = list(await producer.partitions_for(topic))
            key, value = row.key.encode(), row.payload.encode()
            choices = partitions[topic]
            partition = choices[0] if len(choices) == 1 else partitioner(key, choices, choices)
            builder = builders.get((topic, partition))
            if builder is None:
                builder = builders[(topic, partition)] = producer.create_batch()
            if builder.append(key=key, value=value, timestamp=None) is None:
                futures.append(await producer.send_batch(builder, topic, partition=partition))
                builder = builders[(topic, partition)] = producer.create_batch()
                if builder.append(key=key, value=value, timestamp=None) is None:
                    raise ValueError(f"outbox row {row.id} is larger than the producer's batch size")
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
