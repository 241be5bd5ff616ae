"""notification's app: the inbox API, the ops delivery view, and (per settings) the consumer, the outbox relay
and the dispatcher in the same process. `python -m services.notification worker` runs the last three alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from fastapi import FastAPI

from services.notification.config import NotificationSettings, get_settings
from services.notification.consumers import handlers
from services.notification.dispatcher import Dispatcher
from services.notification.endpoints import router
from services.notification.models import messaging
from services.notification.rendering import Templates
from services.notification.senders import EmailSender, HttpSmsGateway, SmsGateway, sms_gateway_from_settings
from services.notification.service import Notifier
from shared.app import build_app
from shared.auth import verifier_from_settings
from shared.db import Database
from shared.logging import configure_logging
from shared.messaging import EventConsumer, MessagingRuntime, Outbox, OutboxRelay

log = logging.getLogger("notification")

DESCRIPTION = """
E-mail, SMS and the dashboard inbox of the Kartu Prakerja programme, in Bahasa Indonesia first.

Other services ask for a message by publishing `notification.requested` (a template name, channels and
params); this service renders it, delivers it with retries, and publishes `notification.sent` when a delivery
ends. Applicants read their inbox here; ops follow deliveries under `/v1/deliveries`.

Errors are `application/problem+json` with a stable `code`; messages are in Bahasa Indonesia, or English with
`Accept-Language: en`.
"""


@dataclass
class Components:
    """Everything a notification process runs; the app and the worker build the same set."""

    settings: NotificationSettings
    db: Database
    notifier: Notifier
    relay: OutboxRelay
    consumer: EventConsumer
    dispatcher: Dispatcher
    sms: SmsGateway
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def runtime(self, *, relay: bool, consumers: bool) -> MessagingRuntime:
        return MessagingRuntime(self.relay if relay else None, [self.consumer] if consumers else [])

    def start_dispatcher(self) -> None:
        self._tasks.append(asyncio.create_task(self.dispatcher.run(), name="dispatcher"))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if isinstance(self.sms, HttpSmsGateway):
            await self.sms.close()
        await self.db.dispose()


def build(settings: NotificationSettings) -> Components:
    db = Database(settings.resolved_database_url(), pool_size=settings.db_pool_size)
    notifier = Notifier(
        settings=settings, templates=Templates(), outbox=Outbox(messaging, source="prakerja/notification")
    )
    relay = OutboxRelay(db, messaging.outbox, settings)
    consumer = EventConsumer(db, messaging, settings, name="deliveries", handlers=handlers(notifier))
    sms = sms_gateway_from_settings(settings)
    dispatcher = Dispatcher(db, notifier, email=EmailSender(settings), sms=sms)
    notifier.wake_dispatcher = dispatcher.wake
    notifier.wake_relay = relay.wake
    return Components(settings, db, notifier, relay, consumer, dispatcher, sms)


def create_app(settings: NotificationSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    parts = build(settings)
    runtime = parts.runtime(relay=settings.run_relay, consumers=settings.run_consumers)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        if settings.run_dispatcher:
            parts.start_dispatcher()
        try:
            yield
        finally:
            await runtime.stop()
            await parts.close()

    app = build_app(
        title="Prakerja notification",
        description=DESCRIPTION,
        version="1.0.0",
        settings=settings,
        lifespan=lifespan,
        routers=[router],
    )
    app.state.db = parts.db
    app.state.notifier = parts.notifier
    app.state.consumer = parts.consumer
    app.state.dispatcher = parts.dispatcher
    app.state.relay = parts.relay
    app.state.verifier = verifier_from_settings(settings)
    return app


async def run_worker(settings: NotificationSettings) -> None:
    """Consumer, relay and dispatcher without HTTP, until cancelled (SIGINT/SIGTERM)."""
    parts = build(settings)
    runtime = parts.runtime(relay=True, consumers=True)
    await runtime.start()
    parts.start_dispatcher()
    log.info("notification worker running (consumer, outbox relay, dispatcher)")
    try:
        await asyncio.Event().wait()
    finally:
        await runtime.stop()
        await parts.close()


def app() -> FastAPI:
    """Entry point for uvicorn (`--factory services.notification.main:app`)."""
    configure_logging(get_settings().log_level)
    return create_app()
