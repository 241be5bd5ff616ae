"""Fixtures for profile's tests: a migrated database per backend with the synthetic registry loaded once,
an app with a test token issuer, confirmed accounts, and images made on the spot."""

from __future__ import annotations

import base64
import hashlib
import io
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from services.profile.__main__ import load_registry
from services.profile.config import ProfileSettings
from services.profile.main import create_app
from services.profile.models import Base
from shared.events.envelope import CloudEvent
from shared.events.identity import AccountConfirmed
from shared.testing.outbox import outbox_events as read_outbox
from shared.testing.plugin import ServiceDatabases, empty_tables, running_app
from shared.testing.tokens import TestIssuer

ROOT = Path(__file__).resolve().parents[2]
REGISTRY_CSV = ROOT / "deploy" / "dev" / "civil_registry.csv"
# Test-only keys, derived so that every import of this module agrees (production keys come from settings).
TEST_KEYS = f"t1:{base64.b64encode(hashlib.sha256(b'profile tests: encryption').digest()).decode()}"
TEST_INDEX_KEY = base64.b64encode(hashlib.sha256(b"profile tests: blind index").digest()).decode()

BUDI = {"nik": "3276011705910001", "birth_date": "1991-05-17", "name": "BUDI SANTOSO", "kk": "3276012503060001"}
SRI = {"nik": "3578036309890001", "birth_date": "1989-09-23", "name": "SRI WAHYUNI", "kk": "3578030812070001"}
BUDI_HOME = {
    "province_code": "32",
    "regency_code": "32.76",
    "district_code": "32.76.01",
    "village_code": "32.76.01.1006",
    "street": "JL. RAYA BOGOR NO. 10",
    "rt": "2",
    "rw": "003",
    "postal_code": "16431",
}
PERSONAL = {
    "residential_address": BUDI_HOME,
    "domicile_same_as_ktp": True,
    "education": "SMA/SMK",
    "employment_status": "laid_off",
    "is_student": False,
}
_loaded: set[str] = set()


@pytest.fixture
async def profile_url(service_databases: ServiceDatabases, db_backend: str) -> AsyncIterator[str]:
    url = await service_databases.get("profile", db_backend)
    if url not in _loaded:
        await load_registry(url, REGISTRY_CSV)
        _loaded.add(url)
    yield url
    await empty_tables(url, Base.metadata, keep=("registry_records",))


def profile_settings(url: str, tmp: Path, **overrides: Any) -> ProfileSettings:
    values: dict[str, Any] = {
        "database_url": url,
        "run_relay": False,
        "run_consumers": False,
        "kafka_bootstrap_servers": "127.0.0.1:1",
        "var_dir": tmp,
        "objects_dir": tmp / "objects",
        "encryption_keys": TEST_KEYS,
        "blind_index_key": TEST_INDEX_KEY,
        **overrides,
    }
    return ProfileSettings(**values)


@pytest.fixture
def settings(profile_url: str, tmp_path: Path) -> ProfileSettings:
    return profile_settings(profile_url, tmp_path)


@pytest.fixture
def issuer() -> TestIssuer:
    return TestIssuer()


@pytest.fixture
async def app(settings: ProfileSettings, issuer: TestIssuer) -> Any:
    application = create_app(settings)
    issuer.install(application)
    return application


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(app) as c:
        yield c


async def confirm_account(app: Any, account_id: uuid.UUID, full_name: str, locale: str = "id") -> None:
    """What identity's account.confirmed does to profile, through the real consumer."""
    payload = AccountConfirmed(
        account_id=account_id,
        confirmed_at=datetime.now(UTC),
        full_name=full_name,
        locale=locale,  # type: ignore[arg-type]
    )
    event = CloudEvent.wrap(payload, source="prakerja/identity", subject=str(account_id))
    assert await app.state.consumer.handle(event)


Applicant = Callable[..., Any]


@pytest.fixture
def applicant(app: Any, issuer: TestIssuer) -> Applicant:
    """`await applicant("BUDI SANTOSO")` -> (account_id, headers) of a confirmed applicant."""

    async def make(full_name: str = "BUDI SANTOSO", locale: str = "id") -> tuple[uuid.UUID, dict[str, str]]:
        account_id = uuid.uuid4()
        await confirm_account(app, account_id, full_name, locale)
        return account_id, issuer.headers(account_id, ["applicant"])

    return make


def photo(width: int = 800, height: int = 600, fmt: str = "JPEG", **save: Any) -> bytes:
    """A photo-like image: a gradient with some structure, bright enough and far from blank."""
    gradient = Image.linear_gradient("L").resize((width, height))
    image = Image.merge("RGB", (gradient, gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT), gradient))
    out = io.BytesIO()
    image.save(out, format=fmt, **save)
    return out.getvalue()


async def outbox_events(app: Any, event_type: str | None = None) -> list[dict[str, Any]]:
    from services.profile.models import messaging

    return await read_outbox(app.state.db.engine, messaging.outbox, event_type)


async def verify_identity(client: httpx.AsyncClient, headers: dict[str, str], person: dict[str, str]) -> None:
    r = await client.put(
        "/v1/profiles/me/identity", json={"nik": person["nik"], "birth_date": person["birth_date"]}, headers=headers
    )
    assert r.status_code == 200, r.text


async def upload(
    client: httpx.AsyncClient, headers: dict[str, str], kind: str, data: bytes | None = None
) -> httpx.Response:
    files = {"file": ("foto.jpg", data if data is not None else photo(), "image/jpeg")}
    return await client.put(f"/v1/profiles/me/documents/{kind}", files=files, headers=headers)


async def verify_phone(client: httpx.AsyncClient, app: Any, headers: dict[str, str], phone: str) -> None:
    r = await client.post("/v1/profiles/me/phone", json={"phone": phone}, headers=headers)
    assert r.status_code == 202, r.text
    code = (await outbox_events(app, "notification.requested"))[-1]["data"]["params"]["code"]
    r = await client.post("/v1/profiles/me/phone/verify", json={"code": code}, headers=headers)
    assert r.status_code == 200, r.text


async def declare(client: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    version = (await client.get("/v1/profiles/declaration")).json()["version"]
    body = {
        "version": version,
        "data_true_and_own": True,
        "not_in_excluded_group": True,
        "not_receiving_other_aid": True,
        "not_in_school": True,
        "accept_terms": True,
    }
    return await client.post("/v1/profiles/me/declaration", json=body, headers=headers)


async def complete_profile(
    client: httpx.AsyncClient, app: Any, headers: dict[str, str], person: dict[str, str], phone: str
) -> None:
    await verify_identity(client, headers, person)
    r = await client.put("/v1/profiles/me/personal", json=PERSONAL, headers=headers)
    assert r.status_code == 200, r.text
    for kind in ("ktp", "selfie"):
        r = await upload(client, headers, kind)
        assert r.status_code == 200, r.text
    await verify_phone(client, app, headers, phone)
    r = await declare(client, headers)
    assert r.status_code == 200, r.text


@pytest.fixture
def applicant_factory(issuer: TestIssuer) -> Callable[..., Any]:
    """For tests that build their own app: `await applicant_factory(app, name)` -> headers."""

    async def make(app: Any, full_name: str) -> dict[str, str]:
        account_id = uuid.uuid4()
        await confirm_account(app, account_id, full_name)
        return issuer.headers(account_id, ["applicant"])

    return make
