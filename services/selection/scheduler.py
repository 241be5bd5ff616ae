"""The scheduler: a background loop of the app that moves batches by time (open at opening, close at closing,
announce an approved batch at its announcement time) and purges replaced or removed exclusion lists.

Several instances are safe: every move is a conditional update, so each happens once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from services.selection import repository_exclusions as excl_repo
from services.selection.service import SelectionContext, advance_by_time
from shared.db import utcnow

log = logging.getLogger("selection.scheduler")


async def purge_lists(ctx: SelectionContext) -> int:
    """Delete the entries of lists that no longer count, one list per transaction."""
    async with ctx.db.sessionmaker() as session, session.begin():
        list_ids = await excl_repo.lists_to_purge(session)
    for list_id in list_ids:
        async with ctx.db.sessionmaker() as session, session.begin():
            await excl_repo.purge_list(session, list_id)
        log.info("purged exclusion list %s", list_id)
    return len(list_ids)


class Scheduler:
    def __init__(self, ctx: SelectionContext) -> None:
        self.ctx = ctx
        self._task: asyncio.Task[None] | None = None

    async def tick(self) -> int:
        moved = await advance_by_time(self.ctx, utcnow())
        await purge_lists(self.ctx)
        return moved

    async def run(self) -> None:
        while True:
            try:
                moved = await self.tick()
                if moved:
                    log.info("scheduler moved %d batch(es)", moved)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("scheduler round failed; trying again next round")
            await asyncio.sleep(self.ctx.settings.scheduler_interval_s)

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="selection-scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
