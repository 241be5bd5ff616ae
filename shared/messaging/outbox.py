"""Adding events to the outbox in the caller's transaction (never publishing from a request)."""

from __future__ import annotations

import uuid

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
        event = CloudEvent.wrap(payload, source=self.source, subject=str(key))
        await session.execute(
            self.table.insert().values(
                event_id=event.id,
                topic=event.type,
                key=str(key),
                payload=event.model_dump_json(exclude_none=True),
                created_at=utcnow(),
            )
        )
        return event
