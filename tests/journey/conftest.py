"""Cross-process fixtures: identity and notification as real uvicorn processes on the real broker and SMTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from services.identity.models import Base as IdentityBase
from services.notification.models import Base as NotificationBase
from shared.dev.broker import free_port
from shared.testing.plugin import ServiceDatabases, empty_tables
from shared.testing.processes import ServiceProcess, start_service


@pytest.fixture
async def journey_dbs(service_databases: ServiceDatabases, db_backend: str) -> AsyncIterator[dict[str, str]]:
    urls = {
        "identity": await service_databases.get("identity", db_backend),
        "notification": await service_databases.get("notification", db_backend),
    }
    yield urls
    await empty_tables(urls["identity"], IdentityBase.metadata, keep=("signing_keys",))
    await empty_tables(urls["notification"], NotificationBase.metadata)


def platform_env(identity_port: int, bootstrap: str, smtp_port: int, tmp: Path) -> dict[str, str]:
    issuer = f"http://127.0.0.1:{identity_port}"
    return {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "JWT_ISSUER": issuer,
        "JWKS_URL": f"{issuer}/.well-known/jwks.json",
        "IDENTITY_ARGON2_MEMORY_KIB": "1024",
        "IDENTITY_ARGON2_TIME_COST": "1",
        "IDENTITY_CONFIRM_URL": "http://localhost:3000/konfirmasi-email?token={token}",
        "NOTIFICATION_SMTP_PORT": str(smtp_port),
        "NOTIFICATION_SMS_SINK_PATH": str(tmp / "sms.jsonl"),
        "NOTIFICATION_RETRY_BASE_S": "0.5",
        "RELAY_POLL_INTERVAL_S": "0.1",
        "LOG_LEVEL": "INFO",
    }


class Platform:
    def __init__(self, identity: ServiceProcess, notification: ServiceProcess) -> None:
        self.identity = identity
        self.notification = notification

    def stop(self) -> None:
        for svc in (self.identity, self.notification):
            svc.stop()


def start_platform(urls: dict[str, str], bootstrap: str, smtp_port: int, tmp: Path) -> Platform:
    identity_port = free_port()
    env = platform_env(identity_port, bootstrap, smtp_port, tmp)
    identity = start_service("identity", {**env, "IDENTITY_DATABASE_URL": urls["identity"]}, tmp, port=identity_port)
    try:
        notification = start_service("notification", {**env, "NOTIFICATION_DATABASE_URL": urls["notification"]}, tmp)
    except Exception:
        identity.stop()
        raise
    return Platform(identity, notification)


@pytest.fixture
def platform(journey_dbs, broker, smtp_server, tmp_path) -> Iterator[Platform]:
    running = start_platform(journey_dbs, broker.bootstrap, smtp_server.port, tmp_path)
    yield running
    running.stop()
