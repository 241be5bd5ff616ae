"""Selection as a real process on the real broker: profile and assessment events in, ops close and decide over
HTTP, and exactly one application.decided per application out."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from shared.events.envelope import CloudEvent
from shared.testing.plugin import eventually
from shared.testing.processes import start_service
from shared.testing.tokens import TestIssuer
from tests.selection.conftest import INDEX_KEY_B64, batch_body, person

pytestmark = pytest.mark.crossprocess


@pytest.fixture
def jwks_server(issuer: TestIssuer) -> Iterator[str]:
    """The test issuer's public key over HTTP, as identity serves its JWKS."""
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


async def produce(bootstrap: str, events: list[tuple[str, CloudEvent]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for key, event in events:
            await producer.send_and_wait(event.type, event.model_dump_json().encode(), key=key.encode())
    finally:
        await producer.stop()


async def decided_events(bootstrap: str, batch_id: str, expected: int, settle: float = 3.0) -> Counter[str]:
    """application.decided events of the batch, counted by application id, read until `expected` arrived and
    then `settle` seconds more (a duplicate would show up)."""
    consumer = AIOKafkaConsumer(
        "application.decided",
        bootstrap_servers=bootstrap,
        group_id=f"reader-{uuid.uuid4()}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    seen: Counter[str] = Counter()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    quiet_until: float | None = None
    try:
        while loop.time() < deadline and (quiet_until is None or loop.time() < quiet_until):
            for records in (await consumer.getmany(timeout_ms=300)).values():
                for record in records:
                    data = json.loads(record.value)["data"]
                    if data["batch_id"] == batch_id:
                        seen[data["application_id"]] += 1
            if quiet_until is None and sum(seen.values()) >= expected:
                quiet_until = loop.time() + settle
    finally:
        await consumer.stop()
    return seen


async def test_application_decided_exactly_once_per_application(broker, selection_url, issuer, jwks_server, tmp_path):
    env = {
        "SELECTION_DATABASE_URL": selection_url,
        "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
        "JWKS_URL": jwks_server,
        "JWT_ISSUER": issuer.issuer,
        "JWT_AUDIENCE": issuer.audience,
        "SELECTION_BLIND_INDEX_KEY": INDEX_KEY_B64,
        "SELECTION_RELAY_POLL_INTERVAL_S": "0.1",
        "SELECTION_SCHEDULER_INTERVAL_S": "0.5",
        "VAR_DIR": str(tmp_path),
        "LOG_LEVEL": "INFO",
    }
    people = [person(test_total=30.0 if i == 0 else 85.0) for i in range(5)]
    events = []
    for p in people:
        key = str(p.account_id)
        events.append((key, CloudEvent.wrap(p.profile_event(), source="prakerja/profile", subject=key)))
        events.append((key, CloudEvent.wrap(p.test_event(), source="prakerja/assessment", subject=key)))
    await produce(broker.bootstrap, events)
    # A redelivered event (the broker gave it twice) must change nothing.
    await produce(broker.bootstrap, events[:2])

    service = await asyncio.to_thread(start_service, "selection", env, tmp_path)
    ops = issuer.headers(uuid.uuid4(), ["ops"])
    try:
        async with httpx.AsyncClient(base_url=service.url, timeout=30) as client:
            r = await client.post("/v1/batches", json=batch_body(1, quota=3), headers=ops)
            assert r.status_code == 201, r.text
            batch_id = r.json()["id"]

            async def opened() -> bool:  # the scheduler opens it (its opening time has passed)
                return (await client.get("/v1/batches")).json()["open_batch"] is not None

            await eventually(opened, timeout=30)
            for p in people:
                headers = issuer.headers(p.account_id)

                async def joined(headers: dict[str, str] = headers) -> bool:
                    r = await client.post(f"/v1/batches/{batch_id}/applications", headers=headers)
                    assert r.status_code in (201, 409), r.text
                    return r.status_code == 201

                await eventually(
                    joined, timeout=60, interval=0.3
                )  # as soon as the consumer has the profile and the test

            assert (await client.post(f"/v1/batches/{batch_id}/close", headers=ops)).status_code == 200
            r = await client.post(f"/v1/batches/{batch_id}/decide", headers=ops)
            assert r.status_code == 202, r.text

            async def finished() -> dict | None:
                run = (await client.get(f"/v1/batches/{batch_id}/selection-run")).json()
                return run if run["state"] == "finished" else None

            run = await eventually(finished, timeout=60)
            assert run["counts"]["selected"] == 3 and run["counts"]["applications"] == 5

        seen = await decided_events(broker.bootstrap, batch_id, expected=5)
        assert len(seen) == 5 and set(seen.values()) == {1}, seen
    finally:
        service.stop()
