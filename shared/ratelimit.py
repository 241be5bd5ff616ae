"""Fixed-window rate limits kept in the service's database, so every instance of a service shares them.

A check runs in its own short transaction, committed at once: an attempt counts even when the request then
fails (a wrong password must count), and on SQLite the lock is held only for the increment.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Column, Integer, MetaData, String, Table, select, update

from shared.db import Database, UTCDateTime, utcnow
from shared.errors import TooManyRequests
from shared.i18n import Text
from shared.messaging.tables import insert_ignore


def rate_limit_table(metadata: MetaData) -> Table:
    return Table(
        "rate_limits",
        metadata,
        Column("bucket", String(300), primary_key=True),
        Column("window_start", UTCDateTime(), primary_key=True),
        Column("hits", Integer, nullable=False),
    )


class RateLimiter:
    def __init__(self, db: Database, table: Table) -> None:
        self.db = db
        self.table = table

    async def hit(
        self,
        bucket: str,
        *,
        limit: int,
        window_s: int,
        message: Text | None = None,
        code: str = "rate_limited",
        now: datetime | None = None,
    ) -> int:
        """Count one hit in `bucket`; raise TooManyRequests once more than `limit` fall in the window."""
        now = now or utcnow()
        epoch = int(now.timestamp())
        start_ts = epoch - epoch % window_s
        window_start = datetime.fromtimestamp(start_ts, now.tzinfo)
        t = self.table
        async with self.db.sessionmaker() as session, session.begin():
            await session.execute(
                insert_ignore(t, self.db.dialect).values(bucket=bucket, window_start=window_start, hits=0)
            )
            await session.execute(
                update(t).where(t.c.bucket == bucket, t.c.window_start == window_start).values(hits=t.c.hits + 1)
            )
            hits = (
                await session.execute(select(t.c.hits).where(t.c.bucket == bucket, t.c.window_start == window_start))
            ).scalar_one()
            # Old windows are dead weight; each bucket clears its own.
            await session.execute(
                t.delete().where(t.c.bucket == bucket, t.c.window_start < window_start - timedelta(seconds=window_s))
            )
        if hits > limit:
            raise TooManyRequests(start_ts + window_s - epoch, message=message, code=code)
        return int(hits)
