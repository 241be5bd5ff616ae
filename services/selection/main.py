"""selection's app: batches, applications, exclusion lists, eligibility, the seeded lottery, decisions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.selection.config import SelectionSettings, get_settings
from services.selection.consumers import HANDLERS
from services.selection.endpoints import router
from services.selection.endpoints_ops import router as ops_router
from services.selection.exclusions import blind_index_key
from services.selection.lottery import install_sqlite_functions
from services.selection.models import messaging
from services.selection.runs import Runner
from services.selection.scheduler import Scheduler
from services.selection.service import SOURCE, SelectionContext
from shared.app import allow_large_body, build_app
from shared.auth import verifier_from_settings
from shared.db import Database
from shared.logging import configure_logging
from shared.messaging import EventConsumer, MessagingRuntime, Outbox, OutboxRelay

DESCRIPTION = """
Batches (gelombang), applications, exclusion lists, eligibility and the seeded lottery that picks recipients.

**Anyone** lists batches (`GET /v1/batches`: which is open and until when) and checks a finished selection
(`GET /v1/batches/{id}/selection-run`): the lottery seed's SHA-256 is published when a batch opens and the
seed itself when it closes.

**Applicants** join the open batch with one call (profile and test done, nothing to fill in) and follow it on
`GET /v1/applications/me`: "Lolos" with the card's amounts, or "Tidak Lolos" with every reason.

**Ops** create batches, import exclusion lists (CSV of NIKs, stored only as blind indexes), dry-run the
selection, decide (a background run, resumable), and announce once a second ops user has approved.

Errors are `application/problem+json` with a stable `code`; messages are in Bahasa Indonesia, or English with
`Accept-Language: en`.
"""


def create_app(settings: SelectionSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    db = Database(settings.resolved_database_url(), pool_size=settings.db_pool_size)
    install_sqlite_functions(db.engine)
    ctx = SelectionContext(
        db=db, settings=settings, outbox=Outbox(messaging, source=SOURCE), index_key=blind_index_key(settings)
    )
    ctx.runner = Runner(ctx)
    scheduler = Scheduler(ctx)
    relay = OutboxRelay(db, messaging.outbox, settings) if settings.run_relay else None
    consumer = EventConsumer(db, messaging, settings, name="applicants", handlers=HANDLERS)
    runtime = MessagingRuntime(relay, [consumer] if settings.run_consumers else [])

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        if settings.run_decider:
            await ctx.runner.resume_unfinished()
        if settings.run_scheduler:
            scheduler.start()
        try:
            yield
        finally:
            await scheduler.stop()
            await ctx.runner.stop()
            await runtime.stop()
            await db.dispose()

    app = build_app(
        title="Prakerja selection",
        description=DESCRIPTION,
        version="1.0.0",
        settings=settings,
        lifespan=lifespan,
        routers=[router, ops_router],
    )
    allow_large_body("/v1/exclusion-lists", settings.exclusion_max_bytes)
    app.state.db = db
    app.state.selection = ctx
    app.state.scheduler = scheduler
    app.state.relay = relay
    app.state.consumer = consumer
    app.state.verifier = verifier_from_settings(settings)
    return app


def app() -> FastAPI:
    """Entry point for uvicorn (`--factory services.selection.main:app`)."""
    configure_logging(get_settings().log_level)
    return create_app()
