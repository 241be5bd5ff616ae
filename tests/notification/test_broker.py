"""Through the real broker: a request produced twice arrives as one e-mail; poison goes to the dead-letter topic;
notification.sent is published through the outbox; the worker command does all of it without HTTP."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from prometheus_client import REGISTRY

from services.notification.main import create_app
from shared.settings import ROOT
from shared.testing.plugin import eventually, running_app
from tests.notification.conftest import notification_settings, requested, sms_lines


def _handled(outcome: str) -> float:
    labels = {"service": "notification", "consumer": "deliveries", "type": "notification.requested", "outcome": outcome}
    return REGISTRY.get_sample_value("events_handled_total", labels) or 0.0


async def _read(bootstrap: str, topic: str, match, timeout: float = 30) -> list:
    """Records of `topic` that `match`, read from the start without joining a group (no rebalance wait)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    found: list = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        partitions = None
        while not partitions and loop.time() < deadline:
            await consumer.topics()  # refreshes the metadata
            partitions = consumer.partitions_for_topic(topic)
            if not partitions:
                await asyncio.sleep(0.2)
        consumer.assign([TopicPartition(topic, p) for p in partitions or ()])
        await consumer.seek_to_beginning()
        settle_until: float | None = None
        while loop.time() < deadline and (settle_until is None or loop.time() < settle_until):
            for records in (await consumer.getmany(timeout_ms=300)).values():
                found += [r for r in records if match(r)]
            if found and settle_until is None:
                settle_until = loop.time() + 0.5  # keep reading a little: a duplicate would show itself
    finally:
        await consumer.stop()
    return found


async def test_a_request_produced_twice_is_mailed_once(broker, smtp_server, notification_url, tmp_path):
    settings = notification_settings(
        notification_url,
        tmp_path,
        run_consumers=True,
        run_relay=True,
        run_dispatcher=True,
        kafka_bootstrap_servers=broker.bootstrap,
        smtp_port=smtp_server.port,
    )
    account = uuid.uuid4()
    address = f"siti.{account.hex[:12]}@example.com"  # other tests' mail on a shared broker cannot be confused
    event = requested(account, email=address)
    poison = requested(account, template="no_such_template")
    duplicates_before = _handled("duplicate")

    app = create_app(settings)
    async with running_app(app):
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
        await producer.start()
        try:
            for e in (poison, event, event):
                value = e.model_dump_json().encode()
                await producer.send_and_wait("notification.requested", value, key=str(account).encode())
        finally:
            await producer.stop()

        def mine() -> list:
            return [m for m in smtp_server.messages() if m["To"] == address]

        async def mailed():
            return mine()

        async def duplicate_seen():
            return _handled("duplicate") > duplicates_before

        mails = await eventually(mailed, timeout=60)
        await eventually(duplicate_seen, timeout=30)
        await asyncio.sleep(0.5)  # time for a second e-mail to show itself, were there one
        [mail] = mine()
        assert mails[0]["Message-ID"] == mail["Message-ID"]
        assert "tok-123" in mail.get_body(preferencelist=("plain",)).get_content()

        sent = await _read(
            broker.bootstrap,
            "notification.sent",
            lambda r: json.loads(r.value)["data"]["account_id"] == str(account),
        )
        assert len(sent) == 1
        assert sent[0].key == str(account).encode()
        assert json.loads(sent[0].value)["data"]["status"] == "sent"

        dead = await _read(
            broker.bootstrap, "notification.requested.dlt", lambda r: json.loads(r.value)["id"] == poison.id
        )
        assert len(dead) == 1
        reason = dict(dead[0].headers)["dlt.reason"].decode()
        assert reason.startswith("poison:") and "unknown template" in reason


async def test_worker_command_delivers_without_http_and_stops_cleanly(broker, notification_url, tmp_path):
    sink = tmp_path / "sms.jsonl"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        "NOTIFICATION_DATABASE_URL": notification_url,
        "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
        "NOTIFICATION_SMS_SINK_PATH": str(sink),
        "LOG_LEVEL": "INFO",
    }
    account = uuid.uuid4()
    phone = f"0812{account.int % 10**8:08d}"
    event = requested(
        account,
        template="phone_otp",
        channels=["sms"],
        phone=phone,
        params={"code": "731904", "valid_minutes": 5},
        expires_at=datetime.now(UTC) + timedelta(minutes=5),
    )
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "services.notification", "worker"], env=env, cwd=ROOT, stdout=log, stderr=log
        )
    try:
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
        await producer.start()
        try:
            await producer.send_and_wait("notification.requested", event.model_dump_json().encode(), key=account.bytes)
        finally:
            await producer.stop()

        async def texted():
            return [line for line in sms_lines(sink) if line["to"] == "+62" + phone[1:]]

        [sms] = await eventually(texted, timeout=60)
        assert "731904" in sms["text"]
        sent = await _read(
            broker.bootstrap, "notification.sent", lambda r: json.loads(r.value)["data"]["account_id"] == str(account)
        )
        assert [json.loads(r.value)["data"]["channel"] for r in sent] == ["sms"]
    finally:
        worker.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(worker.wait, 20)
    output = log_path.read_text()
    assert code == 0, output[-3000:]
    assert "notification worker running" in output
    assert phone[4:] not in output and "731904" not in output  # no phone number or code in the logs
