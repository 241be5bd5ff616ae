from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.selection.config import SelectionSettings
from services.selection.main import create_app
from services.selection.models import Base, messaging
from shared.blind_index import blind_index
from shared.events.assessment import AssessmentCompleted
from shared.events.envelope import CloudEvent, EventPayload
from shared.events.profile import ProfileCompleted, ProfileIdentityRevoked
from shared.testing.outbox import outbox_events as read_outbox
from shared.testing.plugin import ServiceDatabases, empty_tables, running_app
from shared.testing.tokens import TestIssuer

INDEX_KEY = hashlib.sha256(b"selection tests: blind index").digest()
INDEX_KEY_B64 = base64.b64encode(INDEX_KEY).decode()
OPS = uuid.UUID("00000000-0000-4000-8000-00000000000a")
OPS_2 = uuid.UUID("00000000-0000-4000-8000-00000000000b")


@pytest.fixture
async def selection_url(service_databases: ServiceDatabases, db_backend: str) -> AsyncIterator[str]:
    url = await service_databases.get("selection", db_backend)
    yield url
    await empty_tables(url, Base.metadata)


def selection_settings(url: str, tmp: Path, **overrides: Any) -> SelectionSettings:
    values: dict[str, Any] = {
        "database_url": url,
        "run_relay": False,
        "run_consumers": False,
        "run_scheduler": False,
        "run_decider": False,
        "kafka_bootstrap_servers": "127.0.0.1:1",
        "blind_index_key": INDEX_KEY_B64,
        "var_dir": tmp,
        "batches_cache_ttl_s": 0,
        **overrides,
    }
    return SelectionSettings(**values)


@pytest.fixture
def settings(selection_url: str, tmp_path: Path) -> SelectionSettings:
    return selection_settings(selection_url, tmp_path)


@pytest.fixture(scope="session")
def issuer() -> TestIssuer:
    return TestIssuer()


@pytest.fixture
async def app(settings: SelectionSettings, issuer: TestIssuer) -> Any:
    application = create_app(settings)
    issuer.install(application)
    return application


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(app) as c:
        yield c


@pytest.fixture
def ops(issuer: TestIssuer) -> dict[str, str]:
    return issuer.headers(OPS, ["ops"])


@pytest.fixture
def ops2(issuer: TestIssuer) -> dict[str, str]:
    return issuer.headers(OPS_2, ["ops"])


def nik_for(n: int, sex: str = "L", birth: date = date(1991, 5, 17)) -> str:
    """A structurally valid NIK (Depok, Pancoran Mas) for the birth date, serial n."""
    day = birth.day + (40 if sex == "P" else 0)
    return f"327601{day:02d}{birth.month:02d}{birth.year % 100:02d}{n % 9999 + 1:04d}"


def kk_for(n: int) -> str:
    return f"327601010120{n % 9999 + 1:04d}"


def index(value: str) -> str:
    return blind_index(INDEX_KEY, value)


@dataclass
class Person:
    """An applicant as the projection will know them."""

    account_id: uuid.UUID
    nik: str
    kk: str | None
    birth_date: date
    sex: str = "L"
    province_code: str | None = "32"
    employment_status: str = "laid_off"
    is_student: bool = False
    test_total: float | None = 80.0

    def profile_event(self, completed_at: datetime | None = None) -> ProfileCompleted:
        return ProfileCompleted(
            account_id=self.account_id,
            completed_at=completed_at or datetime.now(UTC),
            nik_hash=index(self.nik),
            kk_hash=index(self.kk) if self.kk else None,
            birth_date=self.birth_date,
            sex=self.sex,  # type: ignore[arg-type]
            province_code=self.province_code,
            regency_code=(self.province_code + "76") if self.province_code else None,
            district_code=None,
            village_code=None,
            education="sma",
            employment_status=self.employment_status,
            is_student=self.is_student,
        )

    def test_event(self) -> AssessmentCompleted:
        assert self.test_total is not None
        return AssessmentCompleted(
            account_id=self.account_id,
            bank_version="v1",
            scores={"motivation": self.test_total},
            total=self.test_total,
            finished_at=datetime.now(UTC),
        )


_counter = iter(range(1, 10_000_000))


def person(**overrides: Any) -> Person:
    n = next(_counter)
    birth = overrides.pop("birth_date", date(1991, 5, 17))
    sex = overrides.get("sex", "L")
    values: dict[str, Any] = {
        "account_id": uuid.uuid4(),
        "nik": nik_for(n, sex, birth),
        "kk": kk_for(n),
        "birth_date": birth,
        **overrides,
    }
    return Person(**values)


async def feed(app: Any, payload: EventPayload, key: uuid.UUID) -> bool:
    event = CloudEvent.wrap(payload, source="prakerja/test", subject=str(key))
    handled: bool = await app.state.consumer.handle(event)
    return handled


async def enrol(app: Any, p: Person, *, profile: bool = True) -> Person:
    """Feed the events profile and assessment would publish for this person."""
    if profile:
        await feed(app, p.profile_event(), p.account_id)
    if p.test_total is not None:
        await feed(app, p.test_event(), p.account_id)
    return p


async def revoke(app: Any, p: Person) -> None:
    await feed(
        app,
        ProfileIdentityRevoked(account_id=p.account_id, revoked_at=datetime.now(UTC), nik_hash=index(p.nik)),
        p.account_id,
    )


def batch_body(number: int, **overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    body: dict[str, Any] = {
        "number": number,
        "opens_at": (now - timedelta(minutes=1)).isoformat(),
        "closes_at": (now + timedelta(days=3)).isoformat(),
        "announce_at": (now + timedelta(days=4)).isoformat(),
        "quota": 100,
        **overrides,
    }
    return body


async def open_batch(client: httpx.AsyncClient, ops: dict[str, str], number: int = 1, **overrides: Any) -> dict:
    r = await client.post("/v1/batches", json=batch_body(number, **overrides), headers=ops)
    assert r.status_code == 201, r.text
    r = await client.post(f"/v1/batches/{r.json()['id']}/open", headers=ops)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def join(
    client: httpx.AsyncClient, issuer: TestIssuer, batch_id: str, p: Person, **headers: str
) -> httpx.Response:
    return await client.post(
        f"/v1/batches/{batch_id}/applications", headers={**issuer.headers(p.account_id), **headers}
    )


async def close_and_decide(app: Any, client: httpx.AsyncClient, ops: dict[str, str], batch_id: str) -> dict:
    r = await client.post(f"/v1/batches/{batch_id}/close", headers=ops)
    assert r.status_code == 200, r.text
    r = await client.post(f"/v1/batches/{batch_id}/decide", headers=ops)
    assert r.status_code == 202, r.text
    await app.state.selection.runner.wait(uuid.UUID(r.json()["run_id"]))
    r = await client.get(f"/v1/batches/{batch_id}/selection-run")
    assert r.status_code == 200 and r.json()["state"] == "finished", r.text
    return dict(r.json())


async def announce(client: httpx.AsyncClient, ops2: dict[str, str], batch_id: str) -> None:
    r = await client.post(f"/v1/batches/{batch_id}/announcement-approvals", headers=ops2)
    assert r.status_code == 201, r.text
    r = await client.post(f"/v1/batches/{batch_id}/announce", headers=ops2)
    assert r.status_code == 200, r.text


async def outbox(app: Any, topic: str | None = None) -> list[dict[str, Any]]:
    return await read_outbox(app.state.db.engine, messaging.outbox, topic)


async def dashboard(client: httpx.AsyncClient, issuer: TestIssuer, p: Person, **headers: str) -> dict[str, Any]:
    r = await client.get("/v1/applications/me", headers={**issuer.headers(p.account_id), **headers})
    assert r.status_code == 200, r.text
    return dict(r.json())
