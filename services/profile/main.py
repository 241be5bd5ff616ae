"""profile's app: NIK/KK verification, personal data, KTP and selfie images, phone OTP, declaration, claims."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.profile.config import ProfileSettings, get_settings
from services.profile.consumers import HANDLERS
from services.profile.crypto import crypto_from_settings
from services.profile.endpoints import router
from services.profile.endpoints_ops import router as ops_router
from services.profile.models import messaging, rate_limits
from services.profile.registry import registry_from_settings
from services.profile.service import ProfileContext
from services.profile.storage import storage_from_settings
from shared.app import allow_large_body, build_app
from shared.auth import verifier_from_settings
from shared.db import Database
from shared.logging import configure_logging
from shared.messaging import EventConsumer, MessagingRuntime, Outbox, OutboxRelay
from shared.ratelimit import RateLimiter

DESCRIPTION = """
The applicant's profile: NIK and birth date checked against the civil registry (Dukcapil), personal data,
KTP photo and selfie, mobile number (SMS code) and the applicant's declaration. One NIK, one account.

NIK and KK are encrypted at rest and never returned in full. Ops reads of personal data are audit-logged.
Errors are `application/problem+json` with a stable `code`; messages are in Bahasa Indonesia, or English with
`Accept-Language: en`.
"""

# Multipart overhead on top of the largest image.
UPLOAD_OVERHEAD = 64 * 1024


def create_app(settings: ProfileSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    db = Database(settings.resolved_database_url(), pool_size=settings.db_pool_size)
    ctx = ProfileContext(
        db=db,
        settings=settings,
        crypto=crypto_from_settings(settings),
        registry=registry_from_settings(settings, db),
        storage=storage_from_settings(settings),
        outbox=Outbox(messaging, source="prakerja/profile"),
    )
    relay = OutboxRelay(db, messaging.outbox, settings) if settings.run_relay else None
    consumer = EventConsumer(db, messaging, settings, name="accounts", handlers=HANDLERS)
    runtime = MessagingRuntime(relay, [consumer] if settings.run_consumers else [])

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()
            await ctx.registry.close()
            await ctx.storage.close()
            await db.dispose()

    app = build_app(
        title="Prakerja profile",
        description=DESCRIPTION,
        version="1.0.0",
        settings=settings,
        lifespan=lifespan,
        routers=[router, ops_router],
    )
    allow_large_body("/v1/profiles/me/documents/", settings.image_max_bytes + UPLOAD_OVERHEAD)
    app.state.db = db
    app.state.profile = ctx
    app.state.limiter = RateLimiter(db, rate_limits)
    app.state.relay = relay
    app.state.consumer = consumer
    app.state.verifier = verifier_from_settings(settings)
    return app


def app() -> FastAPI:
    """Entry point for uvicorn (`--factory services.profile.main:app`)."""
    configure_logging(get_settings().log_level)
    return create_app()
