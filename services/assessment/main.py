"""assessment's app: the question bank, the timed test and its scores."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.assessment.config import AssessmentSettings, get_settings
from services.assessment.consumers import HANDLERS
from services.assessment.endpoints import bank_router, tests
from services.assessment.models import messaging
from services.assessment.service import Assessment
from services.assessment.sweeper import Sweeper
from shared.app import allow_large_body, build_app
from shared.auth import verifier_from_settings
from shared.db import Database
from shared.logging import configure_logging
from shared.messaging import EventConsumer, MessagingRuntime, Outbox, OutboxRelay

DESCRIPTION = """
The motivation and basic-ability test: 15 minutes, taken once, after the profile is complete.

**Applicants** start the test (`POST /v1/tests/me/session`), get their randomly drawn items in their language
(`GET`), save answers as they go (`PUT .../answers`) and submit. When time runs out, the answers saved so far
are scored. Applicants see whether the test is done, never the scores or the correct answers.

**Scoring** (0-100 each): an ability section scores the share of its drawn items answered correctly; the
motivation section scores the mean of the likert values (reverse-scored statements flipped), scaled so the
lowest scale point is 0 and the highest 100, an unanswered statement counting as the lowest. The **total** is
the plain mean of the section scores. Scores are stored with the question bank version.

**Ops** import question bank versions, choose the active one, see item statistics and applicants' scores.
Errors are `application/problem+json` with a stable `code`; messages are in Bahasa Indonesia, or English with
`Accept-Language: en`.
"""


def create_app(settings: AssessmentSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    db = Database(settings.resolved_database_url(), pool_size=settings.db_pool_size)
    outbox = Outbox(messaging, source="prakerja/assessment")
    ctx = Assessment(db=db, settings=settings, outbox=outbox)
    relay = OutboxRelay(db, messaging.outbox, settings) if settings.run_relay else None
    consumer = EventConsumer(db, messaging, settings, name="events", handlers=HANDLERS)
    runtime = MessagingRuntime(relay, [consumer] if settings.run_consumers else [])
    sweeper = Sweeper(ctx)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        if settings.run_sweeper:
            sweeper.start()
        try:
            yield
        finally:
            await sweeper.stop()
            await runtime.stop()
            await db.dispose()

    app = build_app(
        title="Prakerja assessment",
        description=DESCRIPTION,
        version="1.0.0",
        settings=settings,
        lifespan=lifespan,
        routers=[tests, bank_router],
    )
    allow_large_body("/v1/banks", settings.bank_max_bytes)
    app.state.db = db
    app.state.assessment = ctx
    app.state.consumer = consumer
    app.state.sweeper = sweeper
    app.state.relay = relay
    app.state.verifier = verifier_from_settings(settings)
    return app


def app() -> FastAPI:
    """Entry point for uvicorn (`--factory services.assessment.main:app`)."""
    configure_logging(get_settings().log_level)
    return create_app()
