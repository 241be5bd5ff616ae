from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.identity.config import IdentitySettings
from services.identity.main import create_app
from services.identity.models import Base
from shared.testing.outbox import outbox_events as read_outbox
from shared.testing.plugin import ServiceDatabases, empty_tables, running_app


@pytest.fixture
async def identity_url(service_databases: ServiceDatabases, db_backend: str) -> AsyncIterator[str]:
    url = await service_databases.get("identity", db_backend)
    yield url
    await empty_tables(url, Base.metadata, keep=("signing_keys",))


def identity_settings(url: str, **overrides: Any) -> IdentitySettings:
    values: dict[str, Any] = {
        "database_url": url,
        "run_relay": False,
        "run_consumers": False,
        # Cheap hashing keeps the suite fast; the cost parameters themselves are covered in test_security.
        "argon2_memory_kib": 1024,
        "argon2_time_cost": 1,
        "kafka_bootstrap_servers": "127.0.0.1:1",
        **overrides,
    }
    return IdentitySettings(**values)


@pytest.fixture
def settings(identity_url: str) -> IdentitySettings:
    return identity_settings(identity_url)


@pytest.fixture
async def app(settings: IdentitySettings) -> Any:
    return create_app(settings)


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(app) as c:
        yield c


PASSWORD = "Pelatihan-Kerja-2026"


async def outbox_rows(url: str, topic: str | None = None) -> list[dict[str, Any]]:
    """Events identity queued, decoded (newest last)."""

    from sqlalchemy.ext.asyncio import create_async_engine

    from services.identity.models import messaging

    engine = create_async_engine(url)
    try:
        return await read_outbox(engine, messaging.outbox, topic)
    finally:
        await engine.dispose()


async def table_count(url: str, table: str) -> int:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())
    finally:
        await engine.dispose()


async def link_token(url: str, email: str, template: str = "account_confirmation") -> str:
    """The token of the newest e-mail link queued for `email`."""
    events = [e for e in await outbox_rows(url, "notification.requested") if e["data"]["email"] == email]
    events = [e for e in events if e["data"]["template"] == template]
    assert events, f"no {template} e-mail queued for {email}"
    return str(events[-1]["data"]["params"]["token"])


async def register(
    client: httpx.AsyncClient, email: str = "siti@example.com", name: str = "Siti Nurhaliza", password: str = PASSWORD
) -> httpx.Response:
    return await client.post("/v1/accounts", json={"full_name": name, "email": email, "password": password})


async def active_account(
    client: httpx.AsyncClient, url: str, email: str = "siti@example.com", name: str = "Siti Nurhaliza"
) -> dict[str, Any]:
    r = await register(client, email, name)
    assert r.status_code == 201, r.text
    token = await link_token(url, email)
    r = await client.post("/v1/accounts/confirm", json={"token": token})
    assert r.status_code == 200, r.text
    return dict(r.json())


async def login(
    client: httpx.AsyncClient, email: str = "siti@example.com", password: str = PASSWORD, **headers: str
) -> httpx.Response:
    return await client.post(
        "/v1/auth/token", data={"grant_type": "password", "username": email, "password": password}, headers=headers
    )
