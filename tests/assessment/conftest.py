from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from services.assessment import banks
from services.assessment.config import BANK_DIR, AssessmentSettings
from services.assessment.main import create_app
from services.assessment.models import Base, messaging
from shared.events.envelope import CloudEvent
from shared.events.identity import AccountConfirmed
from shared.events.profile import ProfileCompleted
from shared.testing.outbox import outbox_events as read_outbox
from shared.testing.plugin import ServiceDatabases, empty_tables, running_app
from shared.testing.tokens import TestIssuer

V1_PATH = BANK_DIR / "v1.json"
V1: dict[str, Any] = json.loads(V1_PATH.read_text())
# The scoring keys, straight from the file (the service must agree with them).
KIND = {item["code"]: section["kind"] for section in V1["sections"] for item in section["items"]}
KEY = {item["code"]: item["answer"] for section in V1["sections"] for item in section["items"] if "answer" in item}
REVERSE = {
    item["code"]: item["reverse"] for section in V1["sections"] for item in section["items"] if "reverse" in item
}
SECRET_KEYS = {"answer", "reverse", "facet", "correct", "score", "scores", "total", "sections_scores"}


@pytest.fixture
async def assessment_url(service_databases: ServiceDatabases, db_backend: str) -> AsyncIterator[str]:
    url = await service_databases.get("assessment", db_backend)
    yield url
    await empty_tables(url, Base.metadata)


def assessment_settings(url: str, **overrides: Any) -> AssessmentSettings:
    values: dict[str, Any] = {
        "database_url": url,
        "run_relay": False,
        "run_consumers": False,
        "run_sweeper": False,
        "kafka_bootstrap_servers": "127.0.0.1:1",
        **overrides,
    }
    return AssessmentSettings(**values)


@pytest.fixture(scope="session")
def issuer() -> TestIssuer:
    return TestIssuer()


@pytest.fixture
def settings(assessment_url: str) -> AssessmentSettings:
    return assessment_settings(assessment_url)


@pytest.fixture
async def app(settings: AssessmentSettings, issuer: TestIssuer) -> Any:
    application = create_app(settings)
    issuer.install(application)
    return application


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(app) as c:
        yield c


@pytest.fixture
async def bank(app: Any) -> str:
    """The seeded bank (v1.json), active."""
    await banks.load_file(app.state.db, V1_PATH)
    return str(V1["version"])


def applicant(issuer: TestIssuer, account_id: uuid.UUID, lang: str | None = None) -> dict[str, str]:
    """Fresh headers each call: a token made before a time jump would have expired after it."""
    headers = issuer.headers(account_id, ["applicant"])
    if lang:
        headers["Accept-Language"] = lang
    return headers


def ops(issuer: TestIssuer, account_id: uuid.UUID | None = None) -> dict[str, str]:
    return issuer.headers(account_id or uuid.uuid4(), ["ops"])


def profile_completed(account_id: uuid.UUID) -> CloudEvent:
    payload = ProfileCompleted(
        account_id=account_id,
        completed_at=datetime.now(UTC),
        nik_hash="a" * 64,
        kk_hash="b" * 64,
        birth_date=date(1994, 3, 14),
        sex="P",
        province_code="31",
        regency_code="3174",
        district_code="317401",
        village_code="3174011004",
        education="sma",
        employment_status="unemployed",
        is_student=False,
    )
    return CloudEvent.wrap(payload, source="prakerja/profile", subject=str(account_id))


def account_confirmed(account_id: uuid.UUID, full_name: str = "Siti Nurhaliza", locale: str = "id") -> CloudEvent:
    payload = AccountConfirmed(
        account_id=account_id,
        confirmed_at=datetime.now(UTC),
        full_name=full_name,
        locale=locale,  # type: ignore[arg-type]
    )
    return CloudEvent.wrap(payload, source="prakerja/identity", subject=str(account_id))


async def ready_applicant(app: Any, name: str = "Siti Nurhaliza", locale: str = "id") -> uuid.UUID:
    """An account whose e-mail is confirmed and whose profile is complete (as the events tell assessment)."""
    account_id = uuid.uuid4()
    assert await app.state.consumer.handle(account_confirmed(account_id, name, locale))
    assert await app.state.consumer.handle(profile_completed(account_id))
    return account_id


async def start(client: httpx.AsyncClient, issuer: TestIssuer, account_id: uuid.UUID) -> dict[str, Any]:
    response = await client.post("/v1/tests/me/session", headers=applicant(issuer, account_id))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def drawn_codes(session_view: dict[str, Any]) -> list[str]:
    return [item["code"] for section in session_view["sections"] for item in section["items"]]


async def outbox(app: Any, topic: str) -> list[dict[str, Any]]:
    """The CloudEvents of `topic` waiting in the outbox, oldest first."""
    return await read_outbox(app.state.db.engine, messaging.outbox, topic)


def keys_in(node: Any) -> Iterable[str]:
    """Every object key anywhere in a JSON document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from keys_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from keys_in(value)
