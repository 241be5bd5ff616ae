"""assessment as a real process on the real broker: profile.completed in, the test over HTTP, and exactly one
assessment.completed out per account."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from services.assessment import banks
from shared.db import Database
from shared.dev.broker import Broker
from shared.events.envelope import CloudEvent
from shared.migrate import upgrade
from shared.testing.plugin import eventually
from shared.testing.processes import ServiceProcess, start_service
from shared.testing.tokens import TestIssuer
from tests.assessment.conftest import KEY, V1_PATH, account_confirmed, drawn_codes, profile_completed

pytestmark = pytest.mark.crossprocess


@pytest.fixture
def jwks_url(issuer: TestIssuer) -> Iterator[str]:
    """identity's JWKS endpoint, played by a tiny HTTP server publishing the test issuer's key."""
    body = json.dumps({"keys": [json.loads(issuer.jwk_json)]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    server.shutdown()
    server.server_close()


@pytest.fixture
async def service(tmp_path: Path, broker: Broker, jwks_url: str, issuer: TestIssuer) -> Any:
    url = f"sqlite+aiosqlite:///{tmp_path / 'assessment.db'}"
    await asyncio.to_thread(upgrade, "assessment", url)
    db = Database(url)
    await banks.load_file(db, V1_PATH)
    await db.dispose()
    env = {
        "ASSESSMENT_DATABASE_URL": url,
        "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
        "JWKS_URL": jwks_url,
        "JWT_ISSUER": issuer.issuer,
        "JWT_AUDIENCE": issuer.audience,
        "ASSESSMENT_SWEEP_INTERVAL_S": "0.5",
    }
    process: ServiceProcess = await asyncio.to_thread(start_service, "assessment", env, tmp_path)
    yield process
    await asyncio.to_thread(process.stop)


async def produce(bootstrap: str, *events: CloudEvent) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(
                event.type, event.model_dump_json(exclude_none=True).encode(), key=(event.subject or "").encode()
            )
    finally:
        await producer.stop()


async def test_profile_completed_in_one_assessment_completed_out(service, broker, issuer):
    account_id = uuid.uuid4()
    completed = profile_completed(account_id)
    # The profile event twice (a redelivery): the inbox makes the second one harmless.
    await produce(broker.bootstrap, account_confirmed(account_id, "Dewi Kartika"), completed, completed)

    def headers() -> dict[str, str]:
        return {**issuer.headers(account_id, ["applicant"]), "Accept-Language": "en"}

    async with httpx.AsyncClient(base_url=service.url, timeout=10) as http:

        async def started() -> dict[str, Any] | None:
            r = await http.post("/v1/tests/me/session", headers=headers())
            if r.status_code == 409:
                assert r.json()["code"] == "profile_incomplete"
                return None
            assert r.status_code == 201, r.text
            return dict(r.json())

        view = await eventually(started, timeout=30)
        numerical = view["sections"][1]["items"]
        r = await http.put(
            "/v1/tests/me/session/answers",
            json={"answers": [{"item": item["code"], "answer": KEY[item["code"]]} for item in numerical]},
            headers=headers(),
        )
        assert r.status_code == 200, r.text
        assert r.json()["answered"] == len(numerical) == 6
        assert len(drawn_codes(view)) == 28
        for _ in range(2):
            r = await http.post("/v1/tests/me/session/submit", headers=headers())
            assert r.status_code == 200 and r.json()["status"] == "finished", r.text
        r = await http.post("/v1/tests/me/session", headers=headers())
        assert r.json()["code"] == "already_taken"

    consumer = AIOKafkaConsumer(
        "assessment.completed",
        "notification.requested",
        bootstrap_servers=broker.bootstrap,
        group_id=f"test-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    seen: dict[str, list[dict[str, Any]]] = {"assessment.completed": [], "notification.requested": []}
    try:

        async def collect() -> bool:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for record in records:
                    event = json.loads(record.value or b"")
                    if event["subject"] == str(account_id):
                        assert record.key == str(account_id).encode()
                        seen[record.topic].append(event)
            return bool(seen["assessment.completed"]) and bool(seen["notification.requested"])

        await eventually(collect, timeout=30)
        # Keep listening a little (the sweeper runs every 0.5 s): nothing more may come for this account.
        for _ in range(6):
            await collect()
    finally:
        await consumer.stop()

    (event,) = seen["assessment.completed"]
    assert event["type"] == "assessment.completed"
    assert event["data"]["account_id"] == str(account_id)
    assert event["data"]["bank_version"] == "2026.1"
    assert event["data"]["scores"]["numerical"] == 100.0
    assert event["data"]["scores"]["verbal"] == 0.0
    assert event["data"]["total"] == 25.0
    (notice,) = seen["notification.requested"]
    assert notice["data"]["template"] == "assessment_completed"
    assert notice["data"]["params"] == {"full_name": "Dewi Kartika"}
