from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.identity.config import IdentitySettings
from services.identity.main import create_app
from services.identity.models import Base
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
