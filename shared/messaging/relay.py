"""The outbox relay: publishes pending outbox rows to Kafka (acks=all) and marks them published.

Rows are claimed with FOR UPDATE SKIP LOCKED on PostgreSQL, so several relay instances never publish the
same row twice; on SQLite the write lock taken at BEGIN IMMEDIATE serialises them. A row is marked only after
the broker acknowledged it, so a broker outage delays events and never loses them.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiokafka import AIOKafkaProducer
from prometheus_client import Counter
from sqlalchemy import Table, select, update

from shared.db import Database, utcnow
from shared.messaging.kafka import new_producer
from shared.settings import ServiceSettings

log = logging.getLogger("shared.relay")

PUBLISHED = Counter("outbox_published_total", "Outbox rows published to Kafka", ["service"])
RELAY_ERRORS = Counter("outbox_relay_errors_total", "Outbox relay failures (broker or database)", ["service"])


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
        query: Any = (
            select(t.c.id, t.c.topic, t.c.key, t.c.payload)
            .where(t.c.published_at.is_(None))
            .order_by(t.c.id)
            .limit(self.batch_size)
        )
        if self.db.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        async with self.db.sessionmaker() as session, session.begin():
            rows = (await session.execute(query)).all()
            if not rows:
                return 0
            futures = [await producer.send(row.topic, row.payload.encode(), key=row.key.encode()) for row in rows]
            await asyncio.wait_for(asyncio.gather(*futures), self.settings.kafka_client_timeout_s * 3)
            await session.execute(update(t).where(t.c.id.in_([row.id for row in rows])).values(published_at=utcnow()))
        PUBLISHED.labels(self.settings.service_name).inc(len(rows))
        return len(rows)

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
