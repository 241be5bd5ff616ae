"""Fixed-window rate limits kept in the service's database, so every instance of a service shares them.

A check runs in its own short transaction, committed at once: an attempt counts even when the request then
fails (a wrong password must count), and on SQLite the lock is held only for the increment.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam

from shared.db import Database, UTCDateTime, dialect_insert, utcnow
from shared.errors import TooManyRequests
from shared.i18n import Text


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
        # Built once: one hit is then a cached statement and its parameters (building the upsert and its
        # cache key on every call was most of a hit's cost).
        t = table
        upsert = dialect_insert(t, db.dialect).values(
            bucket=bindparam("bucket"), window_start=bindparam("window_start"), hits=1
        )
        self._upsert = upsert.on_conflict_do_update(
            index_elements=[t.c.bucket, t.c.window_start], set_={"hits": t.c.hits + 1}
        ).returning(t.c.hits)
        self._clear = t.delete().where(t.c.bucket == bindparam("bucket"), t.c.window_start < bindparam("window_start"))

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
        params = {"bucket": bucket, "window_start": window_start}
        async with self.db.autocommit() as conn:  # the upsert is atomic on its own: one round trip
            hits = (await conn.execute(self._upsert, params)).scalar_one()
            if hits == 1:
                # A new window: the bucket's older windows are dead weight, cleared once per window.
                await conn.execute(self._clear, params)
        if hits > limit:
            raise TooManyRequests(start_ts + window_s - epoch, message=message, code=code)
        return int(hits)
