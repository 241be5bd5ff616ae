"""Reading a service's outbox in tests: every event waiting there, bulk rows rendered as the relay does."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.messaging import bulk


async def outbox_events(engine: AsyncEngine, table: Table, topic: str | None = None) -> list[dict[str, Any]]:
    """The CloudEvents in the outbox (of `topic`, or all), oldest first, each with its Kafka key as `_key`."""
    query = select(table.c.topic, table.c.key, table.c.payload, table.c.records).order_by(table.c.id)
    if topic:
        query = query.where(table.c.topic == topic)
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [
        json.loads(value) | {"_key": key}
        for row in rows
        for key, value in bulk.events_of(row.key, row.payload, row.records)
    ]
