from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from services.notification.config import NotificationSettings
from services.notification.main import Components, build, create_app
from services.notification.models import Base, Delivery, messaging
from shared.db import Database, utcnow
from shared.dev.broker import free_port
from shared.events.envelope import CloudEvent
from shared.events.notification import NotificationRequested
from shared.testing.outbox import outbox_events as read_outbox
from shared.testing.plugin import ServiceDatabases, empty_tables, running_app
from shared.testing.tokens import TestIssuer


class Clock:
    """A clock the test moves by hand (the dispatcher and the service read time only through it)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
async def notification_url(service_databases: ServiceDatabases, db_backend: str) -> AsyncIterator[str]:
    url = await service_databases.get("notification", db_backend)
    yield url
    await empty_tables(url, Base.metadata)


def notification_settings(url: str, tmp_path: Path, **overrides: Any) -> NotificationSettings:
    values: dict[str, Any] = {
        "database_url": url,
        "run_relay": False,
        "run_consumers": False,
        "run_dispatcher": False,
        "kafka_bootstrap_servers": "127.0.0.1:1",
        # Nothing listens here unless a test starts a server on it.
        "smtp_port": free_port(),
        "smtp_timeout_s": 5.0,
        "sms_sink_path": tmp_path / "sms.jsonl",
        "var_dir": tmp_path,
        "retry_base_s": 60.0,
        "retry_max_s": 3600.0,
        "retry_jitter": 0.0,
        **overrides,
    }
    return NotificationSettings(**values)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(notification_url: str, tmp_path: Path) -> NotificationSettings:
    return notification_settings(notification_url, tmp_path)


@pytest.fixture
async def parts(settings: NotificationSettings, clock: Clock) -> AsyncIterator[Components]:
    """The consumer, dispatcher and database of the service, without HTTP or background tasks."""
    components = build(settings)
    components.notifier.clock = clock
    yield components
    await components.close()


@pytest.fixture(scope="session")
def issuer() -> TestIssuer:
    return TestIssuer()


@pytest.fixture
async def client(settings: NotificationSettings, issuer: TestIssuer, clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    issuer.install(app)
    app.state.notifier.clock = clock
    async with running_app(app) as c:
        c.app = app  # type: ignore[attr-defined]
        yield c


def requested(
    account_id: uuid.UUID | None = None, *, template: str = "account_confirmation", **fields: Any
) -> CloudEvent:
    """A notification.requested CloudEvent as identity (or any service) publishes it."""
    account_id = account_id or uuid.uuid4()
    values: dict[str, Any] = {"channels": ["email"], "email": "siti.nurhaliza@example.com", "locale": "id"}
    if template in ("account_confirmation", "password_reset"):
        values["params"] = {
            "full_name": "Siti Nurhaliza",
            "link": "http://localhost:3000/konfirmasi-email?token=tok-123",
            "token": "tok-123",
            "valid_hours": 24,
        }
    values.update(fields)
    payload = NotificationRequested(account_id=account_id, template=template, **values)
    return CloudEvent.wrap(payload, source="prakerja/identity", subject=str(account_id))


async def deliveries(db: Database) -> list[Delivery]:
    async with db.sessionmaker() as session:
        return list((await session.scalars(select(Delivery).order_by(Delivery.created_at, Delivery.channel))).all())


async def outbox_events(db: Database) -> list[dict[str, Any]]:
    return await read_outbox(db.engine, messaging.outbox)


def sms_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]
