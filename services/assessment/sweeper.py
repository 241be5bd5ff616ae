"""The sweeper: finishes sessions left open past their deadline, with the answers saved so far.

It runs as a background loop in the app (`ASSESSMENT_RUN_SWEEPER`) and once from the command line
(`python -m services.assessment sweep`). Several sweepers, and submits racing them, are safe: finishing is a
conditional UPDATE, so each session is finished (and announced) exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from prometheus_client import Counter

from services.assessment import repository
from services.assessment.service import Assessment, finish
from shared.db import utcnow

log = logging.getLogger("assessment.sweeper")

SWEPT = Counter("assessment_sessions_swept_total", "Test sessions finished by the sweeper at their deadline")


async def sweep(ctx: Assessment) -> int:
    """Finish every session past its deadline (grace included); returns how many this call finished.

    Each session gets its own short transaction, so one failure does not hold back the rest and SQLite's
    write lock is held only briefly.
    """
    finished = 0
    grace = timedelta(seconds=ctx.settings.answer_grace_s)
    batch = ctx.settings.sweep_batch_size
    while True:
        async with ctx.db.sessionmaker() as session, session.begin():
            due = await repository.due_attempts(session, utcnow() - grace, batch)
        progressed = 0
        for attempt_id in due:
            try:
                async with ctx.db.sessionmaker() as session, session.begin():
                    progressed += await finish(ctx, session, attempt_id, "deadline", utcnow())
            except Exception:
                log.exception("sweeper: could not finish session %s", attempt_id)
        finished += progressed
        SWEPT.inc(progressed)
        # A short batch means nothing is left; a batch that finished nothing would only repeat itself.
        if len(due) < batch or progressed == 0:
            return finished


class Sweeper:
    """`sweep()` every `sweep_interval_s` as a background task of the app."""

    def __init__(self, ctx: Assessment) -> None:
        self.ctx = ctx
        self._task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        while True:
            try:
                finished = await sweep(self.ctx)
                if finished:
                    log.info("sweeper finished %d session(s) at their deadline", finished)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("sweeper round failed; trying again next round")
            await asyncio.sleep(self.ctx.settings.sweep_interval_s)

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="assessment-sweeper")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
