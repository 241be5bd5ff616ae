"""Adding events to the outbox in the caller's transaction (never publishing from a request)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import utcnow
from shared.events.envelope import CloudEvent, EventPayload
from shared.messaging.tables import MessagingTables


class Outbox:
    """One service's outbox: `add()` writes the event in the same transaction as the state change."""

    def __init__(self, tables: MessagingTables, *, source: str) -> None:
        self.table = tables.outbox
        self.source = source

    async def add(self, session: AsyncSession, payload: EventPayload, *, key: uuid.UUID | str) -> CloudEvent:
        """Queue `payload` for publication; `key` (the account id) keeps one person's events in order."""
        [event] = await self.add_all(session, [(payload, key)])
        return event

    async def add_all(
        self, session: AsyncSession, events: list[tuple[EventPayload, uuid.UUID | str]]
    ) -> list[CloudEvent]:
        """Queue several (payload, key) events, in this order, in one round trip (an executemany of one
        cached INSERT)."""
        wrapped, rows = self.rows(events)
        await session.execute(self.table.insert(), rows)
        return wrapped

    def rows(self, events: list[tuple[EventPayload, uuid.UUID | str]]) -> tuple[list[CloudEvent], list[dict[str, Any]]]:
        """The events wrapped in their envelopes, and the outbox rows that carry them (for a caller that
        writes them in its own statement)."""
        now = utcnow()
        wrapped = [(CloudEvent.wrap(payload, source=self.source, subject=str(key)), key) for payload, key in events]
        rows = [
            {
                "event_id": event.id,
                "topic": event.type,
                "key": str(key),
                "payload": event.model_dump_json(exclude_none=True),
                "created_at": now,
            }
            for event, key in wrapped
        ]
        return [event for event, _ in wrapped], rows
