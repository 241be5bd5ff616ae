"""identity's app: accounts, e-mail confirmation, OAuth 2.0 tokens (RS256 JWT) and the JWKS."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.identity.config import IdentitySettings, get_settings
from services.identity.endpoints import router
from services.identity.keys import KeyStore
from services.identity.models import messaging, rate_limits
from services.identity.security import PasswordHashing
from services.identity.service import AccountCache, Identity
from shared.app import build_app
from shared.auth import JWKSCache, TokenVerifier
from shared.db import Database
from shared.logging import configure_logging
from shared.messaging import MessagingRuntime, Outbox, OutboxRelay
from shared.ratelimit import RateLimiter

DESCRIPTION = """
Accounts of applicants, programme staff and partner platforms. Register, confirm the e-mail, sign in.

Sign in with **Authorize** (OAuth2 password flow: e-mail and password). Errors are `application/problem+json`
with a stable `code`; messages are in Bahasa Indonesia, or English with `Accept-Language: en`.
"""


def create_app(settings: IdentitySettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    db = Database(settings.resolved_database_url(), pool_size=settings.db_pool_size)
    hashing = PasswordHashing(settings)
    keys = KeyStore(db, settings)
    outbox = Outbox(messaging, source="prakerja/identity")
    relay = OutboxRelay(db, messaging.outbox, settings) if settings.run_relay else None
    runtime = MessagingRuntime(relay, [])

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await keys.ensure_key()
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()
            hashing.close()
            await db.dispose()

    app = build_app(
        title="Prakerja identity",
        description=DESCRIPTION,
        version="1.0.0",
        settings=settings,
        lifespan=lifespan,
        routers=[router],
    )
    app.state.db = db
    app.state.identity = Identity(
        db=db,
        settings=settings,
        outbox=outbox,
        hashing=hashing,
        keys=keys,
        accounts=AccountCache(settings.account_cache_ttl_s),
    )
    app.state.limiter = RateLimiter(db, rate_limits)
    app.state.relay = relay
    # identity verifies its own tokens from its own key table, not over HTTP.
    app.state.verifier = TokenVerifier(
        JWKSCache(keys.jwks, min_refresh_s=1.0), issuer=settings.jwt_issuer, audience=settings.jwt_audience
    )
    return app


def app() -> FastAPI:
    """Entry point for uvicorn (`--factory services.identity.main:app`)."""
    configure_logging(get_settings().log_level)
    return create_app()
