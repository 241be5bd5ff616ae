"""Idempotent Kafka consumers: each event is handled in one transaction with its inbox row.

Offsets are committed only after the transaction commits (never auto-commit). A handler that keeps failing
is retried with back-off a bounded number of times, then the message goes to `<topic>.dlt` with the error in
its headers, and consumption goes on.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Database, utcnow
from shared.events.envelope import CloudEvent, EventPayload, UnknownEvent, parse_data
from shared.messaging.kafka import ensure_topics, new_consumer, new_producer
from shared.messaging.tables import MessagingTables, insert_ignore
from shared.settings import ServiceSettings

log = logging.getLogger("shared.consumer")

Handler = Callable[[AsyncSession, CloudEvent, EventPayload], Awaitable[None]]

HANDLED = Counter("events_handled_total", "Events handled", ["service", "consumer", "type", "outcome"])


class PoisonMessage(Exception):
    """The message can never be handled (not JSON, not a CloudEvent, unknown version)."""


class EventConsumer:
    def __init__(
        self,
        db: Database,
        tables: MessagingTables,
        settings: ServiceSettings,
        *,
        name: str,
        handlers: Mapping[str, Handler],
        max_retries: int | None = None,
        retry_base_delay: float = 0.2,
    ) -> None:
        self.db = db
        self.inbox = tables.inbox
        self.settings = settings
        self.name = name
        self.handlers = dict(handlers)
        self.max_retries = max_retries if max_retries is not None else settings.consumer_max_retries
        self.retry_base_delay = retry_base_delay
        self._dlt_producer: AIOKafkaProducer | None = None

    @property
    def group_id(self) -> str:
        return f"{self.settings.service_name}.{self.name}"

    async def handle(self, event: CloudEvent) -> bool:
        """Handle one event exactly once; False when it had been handled before."""
        handler = self.handlers.get(event.type)
        if handler is None:
            return False
        try:
            payload = parse_data(event)
        except (UnknownEvent, ValueError) as exc:
            raise PoisonMessage(str(exc)) from exc
        async with self.db.sessionmaker() as session, session.begin():
            result = await session.execute(
                insert_ignore(self.inbox, self.db.dialect).values(
                    consumer=self.name, event_id=event.id, event_type=event.type, handled_at=utcnow()
                )
            )
            if result.rowcount == 0:  # type: ignore[attr-defined]
                return False
            await handler(session, event, payload)
        return True

    async def process(self, record: ConsumerRecord[bytes, bytes]) -> str:
        """Decode, handle with bounded retries, dead-letter when hopeless. Returns the outcome."""
        try:
            event = CloudEvent.model_validate(json.loads(record.value or b""))
        except (ValueError, TypeError) as exc:
            await self._dead_letter(record, f"undecodable: {exc}")
            return "dead_lettered"
        delay = self.retry_base_delay
        for attempt in range(1, self.max_retries + 1):
            try:
                return "handled" if await self.handle(event) else "duplicate"
            except PoisonMessage as exc:
                await self._dead_letter(record, f"poison: {exc}")
                return "dead_lettered"
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - retried, then dead-lettered with the error
                if attempt == self.max_retries:
                    log.error("consumer %s: giving up on %s after %d attempts", self.name, event.id, attempt)
                    await self._dead_letter(record, f"{type(exc).__name__}: {exc}")
                    return "dead_lettered"
                log.warning("consumer %s: attempt %d on %s failed: %s", self.name, attempt, event.id, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        return "dead_lettered"

    async def _dead_letter(self, record: ConsumerRecord[bytes, bytes], reason: str) -> None:
        if self._dlt_producer is None:
            producer = new_producer(self.settings)
            await producer.start()
            self._dlt_producer = producer
        headers = [
            ("dlt.reason", reason[:1000].encode()),
            ("dlt.consumer", self.group_id.encode()),
            ("dlt.offset", str(record.offset).encode()),
        ]
        await self._dlt_producer.send_and_wait(f"{record.topic}.dlt", record.value, key=record.key, headers=headers)

    async def run(self) -> None:
        topics = sorted(self.handlers)
        backoff = 0.5
        while True:
            consumer: AIOKafkaConsumer | None = None
            try:
                await ensure_topics(self.settings, topics)
                consumer = new_consumer(self.settings, self.group_id, topics)
                await consumer.start()
                backoff = 0.5
                await self._consume(consumer)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - reconnect with back-off
                log.warning("consumer %s: %s; reconnecting in %.1fs", self.name, exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
            finally:
                if consumer is not None:
                    await _quietly(consumer.stop())
                if self._dlt_producer is not None:
                    producer, self._dlt_producer = self._dlt_producer, None
                    await _quietly(producer.stop())

    async def _consume(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            batches: dict[TopicPartition, list[Any]] = await consumer.getmany(timeout_ms=500, max_records=200)
            for tp, records in batches.items():
                for record in records:
                    outcome = await self.process(record)
                    HANDLED.labels(self.settings.service_name, self.name, record.topic, outcome).inc()
                    await consumer.commit({tp: record.offset + 1})


async def _quietly(awaitable: Awaitable[Any]) -> None:
    try:
        await asyncio.wait_for(awaitable, 5)
    except Exception:
        log.debug("stop failed", exc_info=True)
